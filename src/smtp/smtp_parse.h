/* SPDX-License-Identifier: ISC */
/*
 * smtp_parse.h - SMTP without I/O: command lines (RFC 5321 4.1),
 * MAIL/RCPT parameters (SIZE RFC 1870, BODY RFC 6152, SMTPUTF8 RFC
 * 6531, DSN RFC 3461), and the message body of DATA (dot-stuffing,
 * RFC 5321 4.5.2) and BDAT (RFC 3030).
 *
 * Three small machines, each fed by the session:
 *
 *   smtp_line_next   frames command lines; a line over SMTP_LINE_MAX
 *                    is reported once and the rest of it discarded
 *   smtp_cmd_parse   one line -> struct smtp_cmd, or why not
 *   smtp_body_feed   wire bytes -> message bytes (LF line ends, as
 *                    Maildir stores them), finding the end of DATA,
 *                    counting sizes, flagging what makes the message
 *                    unacceptable (bare CR or LF, long lines, size,
 *                    too many Received:) and noting Delivered-To:
 *
 * Parsers include only limits.h (and msg/dsn.h, itself a leaf) and libc
 * (STYLE.md section 4).
 */
#ifndef WREN_SMTP_PARSE_H
#define WREN_SMTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "msg/dsn.h"

/* --- command lines ------------------------------------------------ */

enum smtp_line_rc {
	SMTP_LINE_OK,		/* *len bytes of line (no CR LF) */
	SMTP_LINE_NEED,		/* no complete line yet */
	SMTP_LINE_TOO_LONG	/* report 500 5.5.2 once; discarding */
};

struct smtp_lines {
	int	discarding;	/* inside an overlong line */
};

/* Looks for the next line in buf[0..len). In every case the first
 * *consumed bytes are done with (the caller drops them after using the
 * line); on SMTP_LINE_OK the line is (*line)[0..*linelen), without its
 * CR LF. A lone LF ends a command line too, as in Postfix. */
enum smtp_line_rc	smtp_line_next(struct smtp_lines *, const char *buf,
			    size_t len, const char **line, size_t *linelen,
			    size_t *consumed);

/* --- commands ------------------------------------------------------ */

enum smtp_verb {
	SMTP_V_HELO, SMTP_V_EHLO, SMTP_V_MAIL, SMTP_V_RCPT, SMTP_V_DATA,
	SMTP_V_BDAT, SMTP_V_RSET, SMTP_V_NOOP, SMTP_V_HELP, SMTP_V_VRFY,
	SMTP_V_EXPN, SMTP_V_QUIT, SMTP_V_STARTTLS, SMTP_V_AUTH,
	SMTP_V_TURN, SMTP_V_ATRN, SMTP_V_ETRN, SMTP_V_UNKNOWN
};

enum smtp_perr {
	SMTP_PE_OK,
	SMTP_PE_UNKNOWN,	/* 500 5.5.2 command not recognized */
	SMTP_PE_NUL,		/* 500 5.5.2 NUL byte in command */
	SMTP_PE_SYNTAX,		/* 501 5.5.4 syntax: ... */
	SMTP_PE_NO_DOMAIN,	/* 501 5.5.4 HELO/EHLO needs a domain */
	SMTP_PE_BAD_SENDER,	/* 501 5.1.7 bad sender address */
	SMTP_PE_BAD_RCPT,	/* 501 5.1.3 bad recipient address */
	SMTP_PE_BAD_PARAM,	/* 555 5.5.4 unsupported parameter */
	SMTP_PE_PARAM_VALUE,	/* 501 5.5.4 bad parameter value */
	SMTP_PE_8BIT_ADDR,	/* 553 5.6.7 UTF-8 address needs SMTPUTF8 */
	SMTP_PE_BDAT_SIZE	/* 501 5.5.4 BDAT size is not a number */
};

/* The DSN constants live in msg/dsn.h, below both smtp/ and queue/;
 * these are their old names. */
#define SMTP_NOTIFY_NEVER	DSN_NOTIFY_NEVER
#define SMTP_NOTIFY_SUCCESS	DSN_NOTIFY_SUCCESS
#define SMTP_NOTIFY_FAILURE	DSN_NOTIFY_FAILURE
#define SMTP_NOTIFY_DELAY	DSN_NOTIFY_DELAY

enum smtp_body_type { SMTP_BODY_NONE, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME };
enum smtp_ret {
	SMTP_RET_NONE = DSN_RET_NONE,
	SMTP_RET_FULL = DSN_RET_FULL,
	SMTP_RET_HDRS = DSN_RET_HDRS
};

struct smtp_cmd {
	enum smtp_verb		verb;
	const char		*arg;	/* after the verb, trimmed */
	size_t			 arglen;
	/* MAIL FROM / RCPT TO */
	char			 path[ADDR_MAX + 1];	/* no <>, "" = <> */
	size_t			 pathlen;
	uint64_t		 size;		/* SIZE=, 0 = not given */
	enum smtp_body_type	 body;
	int			 smtputf8;
	enum smtp_ret		 ret;
	char			 envid[SMTP_ENVID_MAX + 1];	/* xtext */
	unsigned		 notify;
	char			 orcpt[SMTP_ORCPT_MAX + 1];	/* as sent */
	/* BDAT */
	uint64_t		 chunk;
	int			 last;
};

/* Parses one command line (without CR LF). On an error, cmd->verb is
 * still set when the verb was recognised. A MAIL path with UTF-8 needs
 * the SMTPUTF8 parameter on the same line; for RCPT the session checks
 * smtp_path_is_8bit against its transaction. */
enum smtp_perr	smtp_cmd_parse(const char *line, size_t len,
		    struct smtp_cmd *);

int		smtp_path_is_8bit(const struct smtp_cmd *);

/* The reply line (code, enhanced code, text, CR LF) for an error. */
const char	*smtp_perr_reply(enum smtp_perr, enum smtp_verb);

/* --- message body ------------------------------------------------- */

#define SMTP_BODY_BARE_CRLF	0x1u	/* bare CR or LF (smuggling) */
#define SMTP_BODY_LONG_LINE	0x2u	/* a line over 998 octets */
#define SMTP_BODY_TOO_BIG	0x4u	/* over the size limit */
#define SMTP_BODY_NUL		0x8u	/* NUL octet (no BINARYMIME here) */

enum smtp_body_mode { SMTP_BODY_DATA, SMTP_BODY_BDAT };

struct smtp_body {
	enum smtp_body_mode	mode;
	uint64_t		limit;		/* vsize (CR LF line ends, as
					 * on the wire), at most */
	uint64_t		size;		/* bytes stored (LF ends) */
	uint64_t		lines;		/* line ends stored */
	unsigned		flags;
	unsigned		received;	/* Received: headers */
	int			done;		/* DATA: end seen */
	/* scanner state */
	int			st;
	size_t			linelen;
	int			in_header;
	char			hline[ADDR_MAX + 32];	/* header start */
	size_t			hlen;
	/* Delivered-To: values seen in the header, lower case */
	char			dto[SMTP_LOOPCHECK_MAX][ADDR_MAX + 1];
	size_t			ndto;
};

void	smtp_body_init(struct smtp_body *, enum smtp_body_mode,
	    uint64_t limit);

/*
 * Decodes in[0..len) into out[0..cap) (cap of at least 2: one input
 * byte can give two output bytes): returns how many input bytes
 * were used and sets *outlen. Stops early when out is full, or (DATA)
 * after the terminating CRLF.CRLF (then b->done). Bytes past the size
 * limit are counted but not written out. For BDAT, feed exactly the
 * chunk's bytes, then call smtp_body_end at the LAST chunk.
 */
size_t	smtp_body_feed(struct smtp_body *, const char *in, size_t len,
	    char *out, size_t cap, size_t *outlen);

/* BDAT LAST: a final line without its line end is completed; writes at
 * most 1 byte to out. */
size_t	smtp_body_end(struct smtp_body *, char *out, size_t cap);

/* The RFC 5322 size a reader sees, with CR LF line ends (Maildir W=). */
uint64_t	smtp_body_vsize(const struct smtp_body *);

#endif
