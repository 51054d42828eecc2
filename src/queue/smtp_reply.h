/* SPDX-License-Identifier: ISC */
/*
 * smtp_reply.h - SMTP server replies without I/O, as the queue's client
 * reads them: reply lines and multi-line replies (RFC 5321 4.2, 4.5.3.1.5),
 * enhanced status codes (RFC 3463, RFC 2034), and the EHLO keywords the
 * client acts on (RFC 5321 4.1.1.1; RFC 2920, 1870, 6152, 6531, 3461,
 * 3207, 4954).
 *
 * Fed server bytes, the parser frames one line at a time:
 *
 *   "250-mail.example.org\r\n"     SMTP_REPLY_LINE  (more follow)
 *   "250-PIPELINING\r\n"           SMTP_REPLY_LINE
 *   "250 SIZE 10240000\r\n"        SMTP_REPLY_DONE  (the reply is whole)
 *
 * Each line's text is in r->line until the next call; the reply's code,
 * enhanced code and kept text are in r->code, r->esc and r->text after
 * SMTP_REPLY_DONE, until the next call. A bare LF ends a line as CR LF
 * does. A bad code, a code that changes inside a multi-line reply, a
 * NUL byte, a line over SMTP_REPLY_LINE_MAX or more than
 * SMTP_REPLY_LINES_MAX lines in one reply are sticky errors: the server
 * is not speaking SMTP and the connection is given up.
 *
 * Parsers include only limits.h and libc (STYLE.md section 4).
 */
#ifndef WREN_SMTP_REPLY_H
#define WREN_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/* One reply line with its CR LF. RFC 5321 4.5.3.1.5 says 512; servers
 * send longer rejections (explanations with URLs), so we take a text
 * line's length (4.5.3.1.6) before calling the server broken. */
#define SMTP_REPLY_LINE_MAX	1000

/* Text kept of one reply, all lines joined by a space: enough for a log
 * line and a bounce's Diagnostic-Code. Lines that do not fit are
 * counted (r->dropped) and discarded: banners and EHLO lists are long,
 * and only their first lines say anything to a person. */
#define SMTP_REPLY_TEXT_MAX	512

/* Lines in one reply before it is refused: 20-odd is a long EHLO reply
 * or banner; a server that sends a thousand is stalling us. */
#define SMTP_REPLY_LINES_MAX	1000

/* An enhanced status code: class "." subject "." detail, each of
 * subject and detail 1-3 digits (RFC 3463 2): "5.999.999". */
#define SMTP_ESC_MAX		9

enum smtp_reply_ev {
	SMTP_REPLY_NEED,	/* all input used, no whole line yet */
	SMTP_REPLY_LINE,	/* a "NNN-" line; r->line holds its text */
	SMTP_REPLY_DONE,	/* the last line: the reply is complete */
	SMTP_REPLY_ERROR	/* sticky; r->err says why */
};

enum smtp_reply_err {
	SMTP_RE_OK,
	SMTP_RE_CODE,		/* not "[2-5][0-5][0-9]" then SP, "-" or end */
	SMTP_RE_MIXED,		/* another code inside a multi-line reply */
	SMTP_RE_NUL,		/* NUL byte */
	SMTP_RE_LONG,		/* line over SMTP_REPLY_LINE_MAX */
	SMTP_RE_LINES		/* over SMTP_REPLY_LINES_MAX lines */
};

struct smtp_reply {
	/* The reply being read; whole after SMTP_REPLY_DONE. */
	unsigned		 code;		/* 200-559 */
	char			 esc[SMTP_ESC_MAX + 1];	/* "2.1.0" or "" */
	char			 text[SMTP_REPLY_TEXT_MAX + 1];	/* NUL ends */
	size_t			 textlen;
	unsigned		 nlines;	/* lines read of this reply */
	unsigned		 dropped;	/* lines not (all) in text */
	/* The line just read (SMTP_REPLY_LINE and _DONE): the text after
	 * "NNN-" or "NNN ", without its line end; points into buf. */
	const char		*line;
	size_t			 linelen;
	enum smtp_reply_err	 err;
	/* framing */
	int			 complete;	/* the next byte starts a reply */
	size_t			 buflen;
	char			 buf[SMTP_REPLY_LINE_MAX];
};

void	smtp_reply_init(struct smtp_reply *);

/*
 * Reads in[0..len) up to the end of the next line: sets *used (at most
 * len) and returns what that line was. The caller calls again with the
 * rest of its input until SMTP_REPLY_NEED. A partial line is kept in
 * r->buf, so all of in is always used up eventually. After
 * SMTP_REPLY_DONE the next call (with any len) starts a new reply and
 * clears the fields of the last one.
 */
enum smtp_reply_ev	smtp_reply_feed(struct smtp_reply *, const char *in,
			    size_t len, size_t *used);

/* 1 when no part of a reply has been read since the last one ended (or
 * since init): a byte now would start a new reply. */
int	smtp_reply_idle(const struct smtp_reply *);

/* A short English reason for an error ("bad reply code", ...). */
const char	*smtp_reply_strerror(enum smtp_reply_err);

/* --- EHLO keywords --------------------------------------------------- */

#define SMTP_EXT_PIPELINING	0x001u	/* RFC 2920 */
#define SMTP_EXT_SIZE		0x002u	/* RFC 1870 */
#define SMTP_EXT_8BITMIME	0x004u	/* RFC 6152 */
#define SMTP_EXT_SMTPUTF8	0x008u	/* RFC 6531 */
#define SMTP_EXT_DSN		0x010u	/* RFC 3461 */
#define SMTP_EXT_STARTTLS	0x020u	/* RFC 3207 */
#define SMTP_EXT_AUTH_PLAIN	0x040u	/* RFC 4954, RFC 4616 */
#define SMTP_EXT_AUTH_LOGIN	0x080u	/* draft-murchison-sasl-login */
#define SMTP_EXT_ENHANCED	0x100u	/* ENHANCEDSTATUSCODES, RFC 2034 */

struct smtp_ehlo {
	unsigned	ext;		/* SMTP_EXT_* */
	uint64_t	size_max;	/* SIZE n; 0 = none declared */
};

void	smtp_ehlo_init(struct smtp_ehlo *);

/* Adds what one line of a 250 EHLO reply offers (its text, r->line,
 * for every line but the first, which names the server). Keywords are
 * case-insensitive; "AUTH=PLAIN" (pre-RFC 4954 servers) counts as AUTH;
 * CHUNKING and anything unknown are ignored. */
void	smtp_ehlo_line(struct smtp_ehlo *, const char *line, size_t len);

#endif
