/* SPDX-License-Identifier: ISC */
/*
 * imap_compress.c - the COMPRESS command (RFC 4978 3): DEFLATE both
 * ways from the CRLF of the tagged OK on, through the connection
 * layer of compress/zpump.c (inside TLS when TLS is on). Built only
 * with Kconfig COMPRESS.
 */
#include "compress/zpump.h"
#include "core/log.h"
#include "imap/imap_int.h"

int
imap_compress_init(const struct cfg *cfg, size_t max, struct err *e)
{
	size_t n = (size_t)cfg_num(cfg, CFG_IMAP_COMPRESS_MAX);

	/* Never more slots than sessions. */
	return zpump_init(n < max ? n : max, e);
}

void
imap_compress_shutdown(void)
{
	zpump_shutdown();
}

void
imap_cmd_compress(struct imap_session *s)
{
	struct imap_cmd *cmd = &s->ws->cmd;

	if (!imap_arg_is(&cmd->args[0], "DEFLATE")) {
		imap_bad(s, "Unknown compression mechanism");
		return;
	}
	/* RFC 4978 3, RFC 5530 3: once is enough. */
	if (zpump_active(s->c)) {
		imap_tagged(s, "NO", "[COMPRESSIONACTIVE] DEFLATE active");
		return;
	}
	/* The pool is sized at start (imap_compress_max): the session
	 * goes on uncompressed. */
	if (!zpump_available()) {
		imap_tagged(s, "NO", "[LIMIT] Too many compressed sessions");
		return;
	}
	imap_tagged(s, "OK", "DEFLATE active");
	if (zpump_start(s->c) == -1) {
		/* Cannot happen: a slot was free just now. */
		(void)imap_outf(s, "* BYE Compression failed\r\n");
		conn_close(s->c);
		return;
	}
	conn_log(s->c, LOG_LVL_DEBUG, "COMPRESS=DEFLATE on");
}
