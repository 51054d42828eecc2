/* SPDX-License-Identifier: ISC */
/*
 * test_smtp_parse.c - the sans-I/O SMTP parser (smtp/smtp_parse.h):
 * command line framing (smtp_line_next, RFC 5321 4.5.3.1.4), commands
 * and their MAIL/RCPT parameters (smtp_cmd_parse, smtp_perr_reply;
 * RFC 5321 4.1, RFC 1870, 3461, 6152, 6531), and the message body of
 * DATA (dot-stuffing, RFC 5321 4.5.2) and BDAT (RFC 3030)
 * (smtp_body_feed, smtp_body_end).
 *
 * Each table row is one input with a one-line description and what it
 * must give: the lines and consumed counts, the parsed fields or the
 * error and its exact reply, the decoded message and its flags. At
 * least half of every table is bad or hostile input. Inputs are copied
 * to heap blocks of exactly their length, so that ASan catches a read
 * past the end. Every body case is fed whole, byte by byte, split at
 * every point, and through output buffers of 2 to 7 bytes, and must
 * decode the same each way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtp/smtp_parse.h"
#include "testutil.h"

/* The session buffer of test_line_next. */
#define TEXT_MAX	8192

/* ---------------------------------------------------------------- */
/* smtp_line_next: the text is appended to a session buffer feed by
 * feed; after each feed the buffer is framed until SMTP_LINE_NEED,
 * dropping the consumed bytes each time. Every call must match the
 * next step. */

struct line_step {
	const char	*rc;		/* "ok", "need", "long"; NULL ends */
	size_t		 linelen;
	const char	*line;		/* NULL: linelen 'x' bytes */
	size_t		 consumed;
};

#define S_OK(s, c)	{ "ok", sizeof(s) - 1, (s), (c) }
#define S_OKX(n, c)	{ "ok", (n), NULL, (c) }
#define S_NEED(c)	{ "need", 0, NULL, (c) }
#define S_LONG(c)	{ "long", 0, NULL, (c) }

struct line_case {
	const char		*desc;
	struct text		 feed[4];	/* head NULL ends */
	struct line_step	 want[8];
};

static const struct line_case line_cases[] = {
	{ "CRLF line", { T("NOOP\r\n") },
	  { S_OK("NOOP", 6), S_NEED(0) } },
	{ "LF-only line (as Postfix takes it)", { T("NOOP\n") },
	  { S_OK("NOOP", 5), S_NEED(0) } },
	{ "two pipelined lines in one buffer",
	  { T("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n") },
	  { S_OK("MAIL FROM:<a@b>", 17), S_OK("RCPT TO:<c@d>", 15),
	    S_NEED(0) } },
	{ "partial line, then the rest", { T("NOO"), T("P\r\n") },
	  { S_NEED(0), S_OK("NOOP", 6), S_NEED(0) } },
	{ "CR and LF in separate feeds", { T("QUIT\r"), T("\n") },
	  { S_NEED(0), S_OK("QUIT", 6), S_NEED(0) } },
	{ "510 octets + CRLF: exactly SMTP_LINE_MAX",
	  { TF("", "x", 510, "\r\n") }, { S_OKX(510, 512), S_NEED(0) } },
	{ "511 octets + LF: 512 with the line end",
	  { TF("", "x", 511, "\n") }, { S_OKX(511, 512), S_NEED(0) } },
	{ "511 octets, no line end yet", { TF("", "x", 511, NULL) },
	  { S_NEED(0) } },
	{ "empty CRLF line", { T("\r\n") }, { S_OK("", 2), S_NEED(0) } },
	{ "empty LF line", { T("\n") }, { S_OK("", 1), S_NEED(0) } },

	{ "CR inside a line is part of it", { T("NO\rOP\r\n") },
	  { S_OK("NO\rOP", 7), S_NEED(0) } },
	{ "CR CR LF: only the last CR dropped", { T("NOOP\r\r\n") },
	  { S_OK("NOOP\r", 7), S_NEED(0) } },
	{ "NUL octet framed with the line (the parser refuses it)",
	  { TF("NO", "", 1, "OP\r\n") },
	  { S_OK("NO\0OP", 7), S_NEED(0) } },
	{ "511 octets + CRLF: too long, the next line kept",
	  { TF("", "x", 511, "\r\nNOOP\r\n") },
	  { S_LONG(513), S_OK("NOOP", 6), S_NEED(0) } },
	{ "512 octets without LF, then the LF and a line",
	  { TF("", "x", 511, "\r"), T("\nNOOP\r\n") },
	  { S_LONG(512), S_NEED(0), S_OK("NOOP", 7), S_NEED(0) } },
	{ "600 octets without LF: once, rest dropped until LF",
	  { TF("", "x", 600, NULL), T("yyy"), T("zz\r\nQUIT\r\n") },
	  { S_LONG(600), S_NEED(0), S_NEED(3), S_OK("QUIT", 10),
	    S_NEED(0) } },
	{ "600-octet line and a pipelined line in one buffer",
	  { TF("", "x", 600, "\r\nNOOP\r\n") },
	  { S_LONG(602), S_OK("NOOP", 6), S_NEED(0) } },
	{ "too long across several feeds",
	  { TF("", "x", 300, NULL), TF("", "x", 300, NULL),
	    TF("", "x", 300, NULL), T("x\r\nQUIT\r\n") },
	  { S_NEED(0), S_LONG(600), S_NEED(0), S_NEED(300),
	    S_OK("QUIT", 9), S_NEED(0) } },
	{ "two overlong lines in a row: each reported once",
	  { TF("", "x", 600, "\n"), TF("", "y", 600, "\nRSET\n") },
	  { S_LONG(601), S_NEED(0), S_LONG(601), S_OK("RSET", 5),
	    S_NEED(0) } },
	{ "1 KiB without a line end", { TF("", "x", 1024, NULL) },
	  { S_LONG(1024), S_NEED(0) } },
	{ "600 CRs then LF: too long", { TF("", "\r", 600, "\nQUIT\r\n") },
	  { S_LONG(601), S_OK("QUIT", 6), S_NEED(0) } },
};

static const char *
line_rc_name(enum smtp_line_rc rc)
{
	switch (rc) {
	case SMTP_LINE_OK:
		return "ok";
	case SMTP_LINE_NEED:
		return "need";
	case SMTP_LINE_TOO_LONG:
		return "long";
	}
	return "?";
}

static int
line_matches(const struct line_step *s, const char *line, size_t len)
{
	if (len != s->linelen) {
		return 0;
	}
	if (s->line != NULL) {
		return memcmp(line, s->line, len) == 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (line[i] != 'x') {
			return 0;
		}
	}
	return 1;
}

static void
test_line_next(void **state)
{
	static char buf[TEXT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof line_cases / sizeof line_cases[0];
	    i++) {
		const struct line_case *c = &line_cases[i];
		struct smtp_lines l;
		size_t have = 0, w = 0;

		memset(&l, 0, sizeof l);
		for (size_t f = 0; f < 4 && c->feed[f].head != NULL; f++) {
			size_t n;
			char *s = build(&c->feed[f], &n);

			assert_true(have + n <= sizeof buf);
			memcpy(buf + have, s, n);
			have += n;
			free(s);
			for (;;) {
				const struct line_step *st = &c->want[w];
				const char *line = NULL;
				size_t linelen = 0, used = 0;
				char *copy = dup_exact(buf, have);
				enum smtp_line_rc rc;

				rc = smtp_line_next(&l, copy, have, &line,
				    &linelen, &used);
				if (st->rc == NULL) {
					fail_msg("%s: call %zu: %s, want "
					    "nothing more", c->desc, w,
					    line_rc_name(rc));
				}
				if (strcmp(line_rc_name(rc), st->rc) != 0 ||
				    used != st->consumed) {
					fail_msg("%s: call %zu: %s consumed "
					    "%zu, want %s consumed %zu",
					    c->desc, w, line_rc_name(rc), used,
					    st->rc, st->consumed);
				}
				if (rc == SMTP_LINE_OK && (line < copy ||
				    line + linelen > copy + used ||
				    !line_matches(st, line, linelen))) {
					fail_msg("%s: call %zu: wrong line "
					    "(%zu bytes)", c->desc, w,
					    linelen);
				}
				free(copy);
				memmove(buf, buf + used, have - used);
				have -= used;
				w++;
				if (rc == SMTP_LINE_NEED) {
					break;
				}
			}
		}
		if (c->want[w].rc != NULL) {
			fail_msg("%s: call %zu (%s) never came", c->desc, w,
			    c->want[w].rc);
		}
	}
}

/* ---------------------------------------------------------------- */
/* smtp_cmd_parse: the fields of a good command; for a bad one the
 * error, the verb (when recognised) and the exact reply. */

#define R_OK		"250 2.0.0 Ok\r\n"
#define R_UNKNOWN	"500 5.5.2 Error: command not recognized\r\n"
#define R_NUL		"500 5.5.2 Error: NUL byte in command\r\n"
#define R_HELO		"501 5.5.4 Syntax: HELO hostname\r\n"
#define R_EHLO		"501 5.5.4 Syntax: EHLO hostname\r\n"
#define R_HOST		"501 5.5.4 Syntax: bad hostname\r\n"
#define R_MAIL		"501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
#define R_RCPT		"501 5.5.4 Syntax: RCPT TO:<address>\r\n"
#define R_VRFY		"501 5.5.4 Syntax: VRFY address\r\n"
#define R_EXPN		"501 5.5.4 Syntax: EXPN list\r\n"
#define R_NOARG		"501 5.5.4 Syntax: no arguments allowed\r\n"
#define R_SENDER	"501 5.1.7 Bad sender address syntax\r\n"
#define R_RCPTADDR	"501 5.1.3 Bad recipient address syntax\r\n"
#define R_PARAM		"555 5.5.4 Unsupported option\r\n"
#define R_VALUE		"501 5.5.4 Bad parameter value\r\n"
#define R_8BIT		"553 5.6.7 Address with UTF-8 needs SMTPUTF8\r\n"
#define R_BDAT		"501 5.5.4 Syntax: BDAT size [LAST]\r\n"

struct cmd_case {
	const char		*desc;
	struct text		 in;
	enum smtp_perr		 want;
	enum smtp_verb		 verb;
	const char		*reply;		/* errors */
	/* SMTP_PE_OK: */
	const char		*arg;		/* NULL: not checked */
	const char		*path;		/* NULL: "" */
	uint64_t		 size;
	enum smtp_body_type	 body;
	int			 smtputf8;
	enum smtp_ret		 ret;
	const char		*envid;		/* NULL: "" */
	unsigned		 notify;
	const char		*orcpt;		/* NULL: "" */
	uint64_t		 chunk;
	int			 last;
	int			 is8bit;
};

#define GOOD(d, s, v, a)	{ .desc = (d), .in = T(s), .verb = (v), \
				  .arg = (a) }
#define BAD(d, s, v, e, r)	{ .desc = (d), .in = T(s), .want = (e), \
				  .verb = (v), .reply = (r) }
#define BADF(d, in_, v, e, r)	{ .desc = (d), .in = in_, .want = (e), \
				  .verb = (v), .reply = (r) }

#define E10	"eeeeeeeeee"
#define E100	E10 E10 E10 E10 E10 E10 E10 E10 E10 E10

static const struct cmd_case cmd_cases[] = {
	GOOD("HELO with a domain", "HELO mail.example.com", SMTP_V_HELO,
	    "mail.example.com"),
	GOOD("EHLO with an IPv4 address literal", "EHLO [192.0.2.1]",
	    SMTP_V_EHLO, "[192.0.2.1]"),
	GOOD("EHLO with an IPv6 address literal",
	    "EHLO [IPv6:2001:db8::1]", SMTP_V_EHLO, "[IPv6:2001:db8::1]"),
	GOOD("lower-case ehlo, blanks around the argument trimmed",
	    "ehlo  \tx.org \t ", SMTP_V_EHLO, "x.org"),
	{ .desc = "MAIL with SIZE=", .in = T("MAIL FROM:<a@b> SIZE=100"),
	  .verb = SMTP_V_MAIL, .path = "a@b", .size = 100 },
	{ .desc = "MAIL with BODY=8BITMIME",
	  .in = T("MAIL FROM:<a@b> BODY=8BITMIME"), .verb = SMTP_V_MAIL,
	  .path = "a@b", .body = SMTP_BODY_8BITMIME },
	{ .desc = "MAIL with BODY=7bit in lower case",
	  .in = T("mail from:<a@b> body=7bit"), .verb = SMTP_V_MAIL,
	  .path = "a@b", .body = SMTP_BODY_7BIT },
	{ .desc = "MAIL with SMTPUTF8", .in = T("MAIL FROM:<a@b> SMTPUTF8"),
	  .verb = SMTP_V_MAIL, .path = "a@b", .smtputf8 = 1 },
	{ .desc = "MAIL with RET=FULL and ENVID=xtext",
	  .in = T("MAIL FROM:<a@b> RET=FULL ENVID=QQ+2B314"),
	  .verb = SMTP_V_MAIL, .path = "a@b", .ret = SMTP_RET_FULL,
	  .envid = "QQ+2B314" },
	{ .desc = "MAIL with RET=HDRS", .in = T("MAIL FROM:<a@b> RET=HDRS"),
	  .verb = SMTP_V_MAIL, .path = "a@b", .ret = SMTP_RET_HDRS },
	{ .desc = "MAIL with every parameter, blanks between them",
	  .in = T("MAIL FROM:<a@b.c>  SIZE=0 BODY=8BITMIME   SMTPUTF8 "
	  "RET=HDRS ENVID=x"), .verb = SMTP_V_MAIL, .path = "a@b.c",
	  .body = SMTP_BODY_8BITMIME, .smtputf8 = 1, .ret = SMTP_RET_HDRS,
	  .envid = "x" },
	{ .desc = "ENVID of SMTP_ENVID_MAX characters",
	  .in = TF("MAIL FROM:<a@b> ENVID=", "e", 100, NULL),
	  .verb = SMTP_V_MAIL, .path = "a@b", .envid = E100 },
	{ .desc = "SIZE of 19 digits",
	  .in = T("MAIL FROM:<a@b> SIZE=9999999999999999999"),
	  .verb = SMTP_V_MAIL, .path = "a@b",
	  .size = UINT64_C(9999999999999999999) },
	{ .desc = "null sender MAIL FROM:<>", .in = T("MAIL FROM:<>"),
	  .verb = SMTP_V_MAIL, .path = "" },
	{ .desc = "null sender with SIZE=", .in = T("MAIL FROM:<> SIZE=5"),
	  .verb = SMTP_V_MAIL, .path = "", .size = 5 },
	{ .desc = "MAIL FROM: <a@b> with a space",
	  .in = T("MAIL FROM: <a@b>"), .verb = SMTP_V_MAIL, .path = "a@b" },
	{ .desc = "MAIL FROM:a@b without brackets",
	  .in = T("MAIL FROM:a@b"), .verb = SMTP_V_MAIL, .path = "a@b" },
	{ .desc = "no brackets, then a parameter",
	  .in = T("MAIL FROM:a@b SIZE=9"), .verb = SMTP_V_MAIL,
	  .path = "a@b", .size = 9 },
	{ .desc = "source route ignored",
	  .in = T("MAIL FROM:<@x,@y:a@b>"), .verb = SMTP_V_MAIL,
	  .path = "a@b" },
	{ .desc = "quoted local part with '>' and a space",
	  .in = T("MAIL FROM:<\"a> b\"@x.org>"), .verb = SMTP_V_MAIL,
	  .path = "\"a> b\"@x.org" },
	{ .desc = "UTF-8 sender with SMTPUTF8",
	  .in = T("MAIL FROM:<j\xc3\xb6rg@ex\xc3\xa4mple.de> SMTPUTF8"),
	  .verb = SMTP_V_MAIL, .path = "j\xc3\xb6rg@ex\xc3\xa4mple.de",
	  .smtputf8 = 1, .is8bit = 1 },
	{ .desc = "RCPT with NOTIFY= and ORCPT=",
	  .in = T("RCPT TO:<a@b> NOTIFY=SUCCESS,FAILURE "
	  "ORCPT=rfc822;a+40b"), .verb = SMTP_V_RCPT, .path = "a@b",
	  .notify = SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE,
	  .orcpt = "rfc822;a+40b" },
	{ .desc = "NOTIFY=NEVER alone",
	  .in = T("RCPT TO:<a@b> NOTIFY=NEVER"), .verb = SMTP_V_RCPT,
	  .path = "a@b", .notify = SMTP_NOTIFY_NEVER },
	{ .desc = "NOTIFY=delay,failure in lower case",
	  .in = T("rcpt to:<a@b> notify=delay,failure"),
	  .verb = SMTP_V_RCPT, .path = "a@b",
	  .notify = SMTP_NOTIFY_DELAY | SMTP_NOTIFY_FAILURE },
	{ .desc = "RCPT TO:<Postmaster> without a domain",
	  .in = T("RCPT TO:<Postmaster>"), .verb = SMTP_V_RCPT,
	  .path = "Postmaster" },
	{ .desc = "RCPT TO:<postmaster@domain>",
	  .in = T("RcPt To:<postmaster@example.com>"), .verb = SMTP_V_RCPT,
	  .path = "postmaster@example.com" },
	{ .desc = "UTF-8 recipient: the session checks it",
	  .in = T("RCPT TO:<j\xc3\xb6rg@ex\xc3\xa4mple.de>"),
	  .verb = SMTP_V_RCPT, .path = "j\xc3\xb6rg@ex\xc3\xa4mple.de",
	  .is8bit = 1 },
	{ .desc = "BDAT 100", .in = T("BDAT 100"), .verb = SMTP_V_BDAT,
	  .arg = "100", .chunk = 100 },
	{ .desc = "BDAT 0 LAST", .in = T("BDAT 0 LAST"),
	  .verb = SMTP_V_BDAT, .chunk = 0, .last = 1 },
	{ .desc = "bdat 5  last in lower case", .in = T("bdat 5  last"),
	  .verb = SMTP_V_BDAT, .chunk = 5, .last = 1 },
	GOOD("DATA", "DATA", SMTP_V_DATA, ""),
	GOOD("RSET, trailing blank trimmed", "RSET ", SMTP_V_RSET, ""),
	GOOD("NOOP with an argument", "NOOP hello there", SMTP_V_NOOP,
	    "hello there"),
	GOOD("HELP", "HELP", SMTP_V_HELP, ""),
	GOOD("HELP with a topic", "HELP MAIL", SMTP_V_HELP, "MAIL"),
	GOOD("VRFY x", "VRFY x", SMTP_V_VRFY, "x"),
	GOOD("EXPN list", "EXPN staff", SMTP_V_EXPN, "staff"),
	GOOD("QUIT", "QUIT", SMTP_V_QUIT, ""),
	GOOD("quit in lower case", "quit", SMTP_V_QUIT, ""),
	GOOD("STARTTLS", "STARTTLS", SMTP_V_STARTTLS, ""),
	GOOD("AUTH PLAIN", "AUTH PLAIN AGFAAGI=", SMTP_V_AUTH,
	    "PLAIN AGFAAGI="),
	GOOD("TURN recognised (the session refuses it)", "TURN",
	    SMTP_V_TURN, ""),
	GOOD("ATRN recognised", "ATRN example.org", SMTP_V_ATRN,
	    "example.org"),
	GOOD("ETRN recognised", "etrn example.org", SMTP_V_ETRN,
	    "example.org"),

	/* Verbs and framing. */
	BAD("unknown verb", "FOO bar", SMTP_V_UNKNOWN, SMTP_PE_UNKNOWN,
	    R_UNKNOWN),
	BAD("empty line", "", SMTP_V_UNKNOWN, SMTP_PE_UNKNOWN, R_UNKNOWN),
	BAD("verb glued to its argument", "MAILFROM:<a@b>",
	    SMTP_V_UNKNOWN, SMTP_PE_UNKNOWN, R_UNKNOWN),
	BAD("tab after the verb", "NOOP\tx", SMTP_V_UNKNOWN,
	    SMTP_PE_UNKNOWN, R_UNKNOWN),
	BAD("leading blank", " QUIT", SMTP_V_UNKNOWN, SMTP_PE_UNKNOWN,
	    R_UNKNOWN),
	BAD("verb prefix", "QUI", SMTP_V_UNKNOWN, SMTP_PE_UNKNOWN,
	    R_UNKNOWN),
	BADF("NUL byte inside a command", TF("NO", "", 1, "OP"),
	    SMTP_V_UNKNOWN, SMTP_PE_NUL, R_NUL),
	BADF("NUL byte in a MAIL path", TF("MAIL FROM:<a", "", 1, "@b>"),
	    SMTP_V_UNKNOWN, SMTP_PE_NUL, R_NUL),
	/* HELO / EHLO */
	BAD("EHLO without argument", "EHLO", SMTP_V_EHLO,
	    SMTP_PE_NO_DOMAIN, R_EHLO),
	BAD("HELO with blanks only", "HELO  \t ", SMTP_V_HELO,
	    SMTP_PE_NO_DOMAIN, R_HELO),
	BAD("EHLO with a control character", "EHLO a\x01" "b", SMTP_V_EHLO,
	    SMTP_PE_SYNTAX, R_HOST),
	BAD("HELO with a tab inside", "HELO a\tb", SMTP_V_HELO,
	    SMTP_PE_SYNTAX, R_HOST),
	BAD("EHLO with ESC", "EHLO x\x1b[2J", SMTP_V_EHLO, SMTP_PE_SYNTAX,
	    R_HOST),
	/* MAIL / RCPT paths */
	BAD("MAIL without FROM:", "MAIL <a@b>", SMTP_V_MAIL,
	    SMTP_PE_SYNTAX, R_MAIL),
	BAD("MAIL FROM with a blank before the colon", "MAIL FROM :<a@b>",
	    SMTP_V_MAIL, SMTP_PE_SYNTAX, R_MAIL),
	BAD("MAIL FROM: and nothing", "MAIL FROM:", SMTP_V_MAIL,
	    SMTP_PE_SYNTAX, R_MAIL),
	BAD("MAIL FROM:<a@b without '>'", "MAIL FROM:<a@b", SMTP_V_MAIL,
	    SMTP_PE_SYNTAX, R_MAIL),
	BAD("unterminated quote runs past '>'", "RCPT TO:<\"a@b>",
	    SMTP_V_RCPT, SMTP_PE_SYNTAX, R_RCPT),
	BAD("RCPT without TO:", "RCPT <a@b>", SMTP_V_RCPT, SMTP_PE_SYNTAX,
	    R_RCPT),
	BAD("garbage after the path without a space", "MAIL FROM:<a@b>x",
	    SMTP_V_MAIL, SMTP_PE_SYNTAX, R_MAIL),
	BAD("MAIL FROM:<a b@c>", "MAIL FROM:<a b@c>", SMTP_V_MAIL,
	    SMTP_PE_BAD_SENDER, R_SENDER),
	BAD("MAIL FROM:<alice> without a domain", "MAIL FROM:<alice>",
	    SMTP_V_MAIL, SMTP_PE_BAD_SENDER, R_SENDER),
	BAD("MAIL FROM:<postmaster> without a domain",
	    "MAIL FROM:<postmaster>", SMTP_V_MAIL, SMTP_PE_BAD_SENDER,
	    R_SENDER),
	BAD("source route without ':'", "MAIL FROM:<@x,a@b>", SMTP_V_MAIL,
	    SMTP_PE_BAD_SENDER, R_SENDER),
	BAD("two '@'", "MAIL FROM:<a@b@c>", SMTP_V_MAIL,
	    SMTP_PE_BAD_SENDER, R_SENDER),
	BADF("path longer than ADDR_MAX", TF("MAIL FROM:<", "a", 400,
	    "@b.c>"), SMTP_V_MAIL, SMTP_PE_BAD_SENDER, R_SENDER),
	BADF("RCPT path longer than ADDR_MAX", TF("RCPT TO:<a@", "b", 330,
	    ">"), SMTP_V_RCPT, SMTP_PE_BAD_RCPT, R_RCPTADDR),
	BAD("RCPT TO:<>", "RCPT TO:<>", SMTP_V_RCPT, SMTP_PE_BAD_RCPT,
	    R_RCPTADDR),
	BAD("RCPT TO:<alice>: no domain, not postmaster",
	    "RCPT TO:<alice>", SMTP_V_RCPT, SMTP_PE_BAD_RCPT, R_RCPTADDR),
	BAD("RCPT TO:<postmasters>", "RCPT TO:<postmasters>", SMTP_V_RCPT,
	    SMTP_PE_BAD_RCPT, R_RCPTADDR),
	BAD("RCPT TO:<a@b..c>", "RCPT TO:<a@b..c>", SMTP_V_RCPT,
	    SMTP_PE_BAD_RCPT, R_RCPTADDR),
	BAD("source route to an empty path", "RCPT TO:<@x:>", SMTP_V_RCPT,
	    SMTP_PE_BAD_RCPT, R_RCPTADDR),
	BAD("UTF-8 MAIL path without SMTPUTF8",
	    "MAIL FROM:<j\xc3\xb6rg@ex\xc3\xa4mple.de>", SMTP_V_MAIL,
	    SMTP_PE_8BIT_ADDR, R_8BIT),
	/* parameters */
	BAD("unknown parameter", "MAIL FROM:<a@b> FOO=1", SMTP_V_MAIL,
	    SMTP_PE_BAD_PARAM, R_PARAM),
	BAD("BODY=BINARYMIME is not offered",
	    "MAIL FROM:<a@b> BODY=BINARYMIME", SMTP_V_MAIL,
	    SMTP_PE_BAD_PARAM, R_PARAM),
	BAD("BODY=9BIT", "MAIL FROM:<a@b> BODY=9BIT", SMTP_V_MAIL,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("BODY without a value", "MAIL FROM:<a@b> BODY", SMTP_V_MAIL,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("SIZE=abc", "MAIL FROM:<a@b> SIZE=abc", SMTP_V_MAIL,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("SIZE= empty", "MAIL FROM:<a@b> SIZE=", SMTP_V_MAIL,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("SIZE=-1", "MAIL FROM:<a@b> SIZE=-1", SMTP_V_MAIL,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("SIZE of 20 digits", "MAIL FROM:<a@b> SIZE=18446744073709551616",
	    SMTP_V_MAIL, SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("SIZE given twice", "MAIL FROM:<a@b> SIZE=1 SIZE=2",
	    SMTP_V_MAIL, SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("SMTPUTF8 given twice", "MAIL FROM:<a@b> SMTPUTF8 smtputf8",
	    SMTP_V_MAIL, SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("SMTPUTF8=yes", "MAIL FROM:<a@b> SMTPUTF8=yes", SMTP_V_MAIL,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("RET=ALL", "MAIL FROM:<a@b> RET=ALL", SMTP_V_MAIL,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("ENVID with a space: the rest is another parameter",
	    "MAIL FROM:<a@b> ENVID=a b", SMTP_V_MAIL, SMTP_PE_BAD_PARAM,
	    R_PARAM),
	BAD("ENVID with a tab", "MAIL FROM:<a@b> ENVID=a\tb", SMTP_V_MAIL,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("ENVID with '='", "MAIL FROM:<a@b> ENVID=a=b", SMTP_V_MAIL,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("ENVID with +XX not hex", "MAIL FROM:<a@b> ENVID=a+ZZ",
	    SMTP_V_MAIL, SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("ENVID with lower-case hex", "MAIL FROM:<a@b> ENVID=a+2b",
	    SMTP_V_MAIL, SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("ENVID with '+' and one digit at the end",
	    "MAIL FROM:<a@b> ENVID=a+2", SMTP_V_MAIL, SMTP_PE_PARAM_VALUE,
	    R_VALUE),
	BAD("ENVID= empty", "MAIL FROM:<a@b> ENVID=", SMTP_V_MAIL,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("ENVID with UTF-8", "MAIL FROM:<a@b> ENVID=\xc3\xa4",
	    SMTP_V_MAIL, SMTP_PE_PARAM_VALUE, R_VALUE),
	BADF("ENVID too long (101)", TF("MAIL FROM:<a@b> ENVID=", "e",
	    101, NULL), SMTP_V_MAIL, SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("NOTIFY=NEVER,SUCCESS", "RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS",
	    SMTP_V_RCPT, SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("NOTIFY=SOMETIMES", "RCPT TO:<a@b> NOTIFY=SOMETIMES",
	    SMTP_V_RCPT, SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("NOTIFY= empty", "RCPT TO:<a@b> NOTIFY=", SMTP_V_RCPT,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("NOTIFY=SUCCESS, trailing comma",
	    "RCPT TO:<a@b> NOTIFY=SUCCESS,", SMTP_V_RCPT,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("NOTIFY with an empty item",
	    "RCPT TO:<a@b> NOTIFY=SUCCESS,,DELAY", SMTP_V_RCPT,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("NOTIFY given twice",
	    "RCPT TO:<a@b> NOTIFY=DELAY NOTIFY=SUCCESS", SMTP_V_RCPT,
	    SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("ORCPT without ';'", "RCPT TO:<a@b> ORCPT=rfc822a@b",
	    SMTP_V_RCPT, SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("ORCPT without an address type", "RCPT TO:<a@b> ORCPT=;a@b",
	    SMTP_V_RCPT, SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("ORCPT with a bad xtext", "RCPT TO:<a@b> ORCPT=rfc822;a+4",
	    SMTP_V_RCPT, SMTP_PE_PARAM_VALUE, R_VALUE),
	BADF("ORCPT too long (501)", TF("RCPT TO:<a@b> ORCPT=rfc822;", "o",
	    494, NULL), SMTP_V_RCPT, SMTP_PE_PARAM_VALUE, R_VALUE),
	BAD("NOTIFY on MAIL", "MAIL FROM:<a@b> NOTIFY=SUCCESS", SMTP_V_MAIL,
	    SMTP_PE_BAD_PARAM, R_PARAM),
	BAD("ORCPT on MAIL", "MAIL FROM:<a@b> ORCPT=rfc822;a@b",
	    SMTP_V_MAIL, SMTP_PE_BAD_PARAM, R_PARAM),
	BAD("SIZE on RCPT", "RCPT TO:<a@b> SIZE=10", SMTP_V_RCPT,
	    SMTP_PE_BAD_PARAM, R_PARAM),
	BAD("SMTPUTF8 on RCPT", "RCPT TO:<a@b> SMTPUTF8", SMTP_V_RCPT,
	    SMTP_PE_BAD_PARAM, R_PARAM),
	/* commands without or with arguments */
	BAD("DATA with an argument", "DATA now", SMTP_V_DATA,
	    SMTP_PE_SYNTAX, R_NOARG),
	BAD("QUIT with an argument", "QUIT bye", SMTP_V_QUIT,
	    SMTP_PE_SYNTAX, R_NOARG),
	BAD("RSET x", "RSET x", SMTP_V_RSET, SMTP_PE_SYNTAX, R_NOARG),
	BAD("STARTTLS with an argument", "STARTTLS x", SMTP_V_STARTTLS,
	    SMTP_PE_SYNTAX, R_NOARG),
	BAD("VRFY without argument", "VRFY", SMTP_V_VRFY, SMTP_PE_SYNTAX,
	    R_VRFY),
	BAD("EXPN without argument", "EXPN  ", SMTP_V_EXPN, SMTP_PE_SYNTAX,
	    R_EXPN),
	/* BDAT */
	BAD("BDAT abc", "BDAT abc", SMTP_V_BDAT, SMTP_PE_BDAT_SIZE, R_BDAT),
	BAD("BDAT without a size", "BDAT", SMTP_V_BDAT, SMTP_PE_BDAT_SIZE,
	    R_BDAT),
	BAD("BDAT LAST without a size", "BDAT LAST", SMTP_V_BDAT,
	    SMTP_PE_BDAT_SIZE, R_BDAT),
	BAD("BDAT 10 FIRST", "BDAT 10 FIRST", SMTP_V_BDAT,
	    SMTP_PE_BDAT_SIZE, R_BDAT),
	BAD("BDAT 10 LAST x", "BDAT 10 LAST x", SMTP_V_BDAT,
	    SMTP_PE_BDAT_SIZE, R_BDAT),
	BAD("BDAT -1", "BDAT -1", SMTP_V_BDAT, SMTP_PE_BDAT_SIZE, R_BDAT),
	BAD("BDAT +5", "BDAT +5", SMTP_V_BDAT, SMTP_PE_BDAT_SIZE, R_BDAT),
	BAD("BDAT with a 25-digit size", "BDAT 1234567890123456789012345",
	    SMTP_V_BDAT, SMTP_PE_BDAT_SIZE, R_BDAT),
	BAD("BDAT with a tab before LAST", "BDAT 10\tLAST", SMTP_V_BDAT,
	    SMTP_PE_BDAT_SIZE, R_BDAT),
};

static void
test_cmd_parse(void **state)
{
	size_t ngood = 0, nbad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof cmd_cases / sizeof cmd_cases[0]; i++) {
		const struct cmd_case *c = &cmd_cases[i];
		const char *want_path = c->path ? c->path : "";
		const char *want_envid = c->envid ? c->envid : "";
		const char *want_orcpt = c->orcpt ? c->orcpt : "";
		const char *reply;
		struct smtp_cmd cmd;
		enum smtp_perr pe;
		size_t len;
		char *s = build(&c->in, &len);

		pe = smtp_cmd_parse(s, len, &cmd);
		if (pe != c->want || cmd.verb != c->verb) {
			fail_msg("%s: error %d verb %d, want %d verb %d",
			    c->desc, (int)pe, (int)cmd.verb, (int)c->want,
			    (int)c->verb);
		}
		reply = smtp_perr_reply(pe, cmd.verb);
		if (strcmp(reply, c->want == SMTP_PE_OK ? R_OK :
		    c->reply) != 0) {
			fail_msg("%s: reply '%s'", c->desc, reply);
		}
		if (pe != SMTP_PE_OK) {
			nbad++;
			free(s);
			continue;
		}
		ngood++;
		if (cmd.arg < s || cmd.arg + cmd.arglen > s + len) {
			fail_msg("%s: arg outside the line", c->desc);
		}
		if (c->arg != NULL && (cmd.arglen != strlen(c->arg) ||
		    memcmp(cmd.arg, c->arg, cmd.arglen) != 0)) {
			fail_msg("%s: arg '%.*s', want '%s'", c->desc,
			    (int)cmd.arglen, cmd.arg, c->arg);
		}
		if (cmd.pathlen != strlen(want_path) ||
		    strcmp(cmd.path, want_path) != 0) {
			fail_msg("%s: path '%s', want '%s'", c->desc,
			    cmd.path, want_path);
		}
		if (cmd.size != c->size || cmd.body != c->body ||
		    cmd.smtputf8 != c->smtputf8 || cmd.ret != c->ret ||
		    cmd.notify != c->notify || cmd.chunk != c->chunk ||
		    cmd.last != c->last) {
			fail_msg("%s: size %llu body %d utf8 %d ret %d "
			    "notify %u chunk %llu last %d", c->desc,
			    (unsigned long long)cmd.size, (int)cmd.body,
			    cmd.smtputf8, (int)cmd.ret, cmd.notify,
			    (unsigned long long)cmd.chunk, cmd.last);
		}
		if (strcmp(cmd.envid, want_envid) != 0 ||
		    strcmp(cmd.orcpt, want_orcpt) != 0) {
			fail_msg("%s: envid '%s' orcpt '%s'", c->desc,
			    cmd.envid, cmd.orcpt);
		}
		if (smtp_path_is_8bit(&cmd) != c->is8bit) {
			fail_msg("%s: smtp_path_is_8bit %d", c->desc,
			    smtp_path_is_8bit(&cmd));
		}
		free(s);
	}
	/* STYLE.md 10: bad input is at least half of the table. */
	assert_true(nbad >= ngood);
}

/* Every error with every verb has a reply: "NNN " + text + CR LF, 2xx
 * only for SMTP_PE_OK. */
static void
test_perr_reply(void **state)
{
	(void)state;
	for (int e = SMTP_PE_OK; e <= SMTP_PE_BDAT_SIZE; e++) {
		for (int v = SMTP_V_HELO; v <= SMTP_V_UNKNOWN; v++) {
			const char *r = smtp_perr_reply((enum smtp_perr)e,
			    (enum smtp_verb)v);
			size_t n;

			assert_non_null(r);
			n = strlen(r);
			assert_true(n > 6);
			assert_true(r[0] >= '2' && r[0] <= '5');
			assert_true(r[1] >= '0' && r[1] <= '9');
			assert_true(r[2] >= '0' && r[2] <= '9');
			assert_int_equal(r[3], ' ');
			assert_int_equal(r[n - 2], '\r');
			assert_int_equal(r[n - 1], '\n');
			assert_null(memchr(r, '\n', n - 1));
			assert_null(memchr(r, '\r', n - 2));
			assert_int_equal(r[0] == '2', e == SMTP_PE_OK);
		}
	}
}

/* ---------------------------------------------------------------- */
/* smtp_body_feed / smtp_body_end. */

#define BIG	UINT64_C(1048576)
#define SP10	"          "

struct body_case {
	const char		*desc;
	enum smtp_body_mode	 mode;		/* default DATA */
	uint64_t		 limit;		/* 0: BIG */
	struct text		 in;
	int			 end;		/* BDAT: smtp_body_end */
	struct text		 out;
	unsigned		 flags;
	int			 done;		/* DATA */
	size_t			 keep;		/* input not consumed */
	unsigned		 received;
	const char		*dto[SMTP_LOOPCHECK_MAX + 1];
};

#define F_BARE	SMTP_BODY_BARE_CRLF
#define F_LONG	SMTP_BODY_LONG_LINE
#define F_BIG	SMTP_BODY_TOO_BIG
#define F_NUL	SMTP_BODY_NUL

#define DTO(n)	"Delivered-To: a" #n "@x.org\r\n"

static const struct body_case body_cases[] = {
	/* DATA */
	{ .desc = "header, empty line, body",
	  .in = T("Subject: hi\r\n\r\nHello\r\n.\r\n"),
	  .out = T("Subject: hi\n\nHello\n"), .done = 1 },
	{ .desc = "pipelined command after CRLF.CRLF not consumed",
	  .in = T("a\r\n.\r\nQUIT\r\n"), .out = T("a\n"), .done = 1,
	  .keep = 6 },
	{ .desc = "dot-stuffing undone",
	  .in = T("..a\r\n..\r\n...\r\nb.c\r\n.\r\n"),
	  .out = T(".a\n.\n..\nb.c\n"), .done = 1 },
	{ .desc = "leading dot before a letter dropped (RFC 5321 4.5.2)",
	  .in = T(".x\r\n.\r\n"), .out = T("x\n"), .done = 1 },
	{ .desc = "empty message: the end first", .in = T(".\r\n"),
	  .out = T(""), .done = 1 },
	{ .desc = "one empty line", .in = T("\r\n.\r\n"), .out = T("\n"),
	  .done = 1 },
	{ .desc = "a line of one (stuffed) dot last",
	  .in = T("a\r\n..\r\n.\r\n"), .out = T("a\n.\n"), .done = 1 },
	{ .desc = "dots inside lines are data",
	  .in = T("a.\r\n .\r\nx.\r\n.\r\n"), .out = T("a.\n .\nx.\n"),
	  .done = 1 },
	{ .desc = "unfinished: all consumed, not done",
	  .in = T("a\r\nb"), .out = T("a\nb") },
	{ .desc = "unfinished end marker: .CR pending",
	  .in = T("a\r\n.\r"), .out = T("a\n") },
	{ .desc = "998-octet line is fine",
	  .in = TF("", "x", 998, "\r\n.\r\n"), .out = TF("", "x", 998, "\n"),
	  .done = 1 },
	{ .desc = "999 wire octets with a stuffed dot are 998",
	  .in = TF("..", "x", 997, "\r\n.\r\n"),
	  .out = TF(".", "x", 997, "\n"), .done = 1 },
	{ .desc = "Received: counted in the header only, any case",
	  .in = T("Received: from a\r\nreceived:from b\r\nRECEIVED: c\r\n"
	  "X-Received: d\r\nSubject: Received: e\r\n\r\n"
	  "Received: body\r\n.\r\n"),
	  .out = T("Received: from a\nreceived:from b\nRECEIVED: c\n"
	  "X-Received: d\nSubject: Received: e\n\nReceived: body\n"),
	  .done = 1, .received = 3 },
	{ .desc = "long Received: counted",
	  .in = TF("Received: ", "x", 500, "\r\n\r\n.\r\n"),
	  .out = TF("Received: ", "x", 500, "\n\n"), .done = 1,
	  .received = 1 },
	{ .desc = "Delivered-To: lower-cased, <> and blanks stripped",
	  .in = T("Delivered-To: <Alice@Example.COM>\r\n"
	  "delivered-to:bob@x.org \r\nDELIVERED-TO:\t<Carol@X.org>\r\n"
	  "\r\nDelivered-To: dave@x.org\r\n.\r\n"),
	  .out = T("Delivered-To: <Alice@Example.COM>\n"
	  "delivered-to:bob@x.org \nDELIVERED-TO:\t<Carol@X.org>\n"
	  "\nDelivered-To: dave@x.org\n"), .done = 1,
	  .dto = { "alice@example.com", "bob@x.org", "carol@x.org" } },
	{ .desc = "at most SMTP_LOOPCHECK_MAX Delivered-To: kept",
	  .in = T(DTO(1) DTO(2) DTO(3) DTO(4) DTO(5) DTO(6) DTO(7) DTO(8)
	  DTO(9) "\r\n.\r\n"),
	  .out = T("Delivered-To: a1@x.org\nDelivered-To: a2@x.org\n"
	  "Delivered-To: a3@x.org\nDelivered-To: a4@x.org\n"
	  "Delivered-To: a5@x.org\nDelivered-To: a6@x.org\n"
	  "Delivered-To: a7@x.org\nDelivered-To: a8@x.org\n"
	  "Delivered-To: a9@x.org\n\n"), .done = 1,
	  .dto = { "a1@x.org", "a2@x.org", "a3@x.org", "a4@x.org",
	  "a5@x.org", "a6@x.org", "a7@x.org", "a8@x.org" } },
	{ .desc = "size limit reached exactly is not too big", .limit = 10,
	  .in = T("abc\r\ndef\r\n.\r\n"), .out = T("abc\ndef\n"),
	  .done = 1 },
	{ .desc = "no header: Received: after the first empty line",
	  .in = T("\r\nReceived: x\r\n.\r\n"), .out = T("\nReceived: x\n"),
	  .done = 1 },

	/* DATA, hostile */
	{ .desc = "bare LF flagged", .in = T("a\nb\r\n.\r\n"),
	  .out = T("a\nb\n"), .flags = F_BARE, .done = 1 },
	{ .desc = "bare CR flagged (and dropped)",
	  .in = T("a\rb\r\n.\r\n"), .out = T("ab\n"), .flags = F_BARE,
	  .done = 1 },
	{ .desc = "bare CR at the very start",
	  .in = T("\rX\r\n.\r\n"), .out = T("X\n"), .flags = F_BARE,
	  .done = 1 },
	{ .desc = "a run of CRs before LF", .in = T("\r\r\r\r\n.\r\n"),
	  .out = T("\n"), .flags = F_BARE, .done = 1 },
	{ .desc = "CR CR LF flagged", .in = T("a\r\r\n.\r\n"),
	  .out = T("a\n"), .flags = F_BARE, .done = 1 },
	{ .desc = "LF . LF is not the end (smuggling)",
	  .in = T("a\n.\nb\r\n.\r\n"), .out = T("a\n.\nb\n"),
	  .flags = F_BARE, .done = 1 },
	{ .desc = "CRLF . LF is not the end",
	  .in = T("a\r\n.\nb\r\n.\r\n"), .out = T("a\n.\nb\n"),
	  .flags = F_BARE, .done = 1 },
	{ .desc = "LF . CRLF is not the end (smuggling)",
	  .in = T("a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n"),
	  .out = T("a\n.\nMAIL FROM:<x@y>\n"), .flags = F_BARE, .done = 1 },
	{ .desc = "LF . CRLF first is not the end (smuggling)",
	  .in = T("\n.\r\nRCPT TO:<v@w>\r\n"),
	  .out = T("\n.\nRCPT TO:<v@w>\n"), .flags = F_BARE },
	{ .desc = "CRLF . LF . CRLF: the second dot line is no end",
	  .in = T(".\n.\r\nDATA\r\n.\r\n"), .out = T(".\n.\nDATA\n"),
	  .flags = F_BARE, .done = 1 },
	{ .desc = "CR . CRLF is not the end",
	  .in = T("a\r.\r\nb\r\n.\r\n"), .out = T("a.\nb\n"),
	  .flags = F_BARE, .done = 1 },
	{ .desc = ".CR then a letter",
	  .in = T("a\r\n.\rx\r\n.\r\n"), .out = T("a\n.x\n"),
	  .flags = F_BARE, .done = 1 },
	{ .desc = ".CR CR LF", .in = T("a\r\n.\r\r\n.\r\n"),
	  .out = T("a\n.\n"), .flags = F_BARE, .done = 1 },
	{ .desc = "LF line ends only: never done", .in = T("a\n.\n"),
	  .out = T("a\n.\n"), .flags = F_BARE },
	{ .desc = "NUL octet flagged and kept",
	  .in = TF("a", "", 1, "b\r\n.\r\n"), .out = TF("a", "", 1, "b\n"),
	  .flags = F_NUL, .done = 1 },
	{ .desc = "NUL after a leading dot",
	  .in = TF(".", "", 1, "\r\n.\r\n"), .out = TF("", "", 1, "\n"),
	  .flags = F_NUL, .done = 1 },
	{ .desc = "999-octet line",
	  .in = TF("", "x", 999, "\r\n.\r\n"), .out = TF("", "x", 999, "\n"),
	  .flags = F_LONG, .done = 1 },
	{ .desc = "long line, then short ones: the flag stays",
	  .in = TF("", "x", 1200, "\r\nok\r\n.\r\n"),
	  .out = TF("", "x", 1200, "\nok\n"), .flags = F_LONG, .done = 1 },
	{ .desc = "over the limit: output stops, the end is still found",
	  .limit = 6, .in = T("abc\r\ndef\r\n.\r\nQUIT\r\n"),
	  .out = T("abc\nd"), .flags = F_BIG, .done = 1, .keep = 6 },
	{ .desc = "size limit counts CR LF as two octets, not the LF "
	  "stored", .limit = 9, .in = T("abc\r\ndef\r\n.\r\n"),
	  .out = T("abc\ndef"), .flags = F_BIG, .done = 1 },
	{ .desc = "empty lines at the limit: each counts two octets",
	  .limit = 5, .in = TF("", "\r\n", 1000, ".\r\n"),
	  .out = T("\n\n"), .flags = F_BIG, .done = 1 },
	{ .desc = "too big, the end marker 1200 octets on",
	  .limit = 3, .in = TF("", "0123456789\r\n", 100, ".\r\n"),
	  .out = T("012"), .flags = F_BIG, .done = 1 },
	{ .desc = "limit of 1", .limit = 1, .in = T("ab\r\n.\r\n"),
	  .out = T("a"), .flags = F_BIG, .done = 1 },
	{ .desc = "too big and a long line", .limit = 10,
	  .in = TF("", "y", 1000, "\r\n.\r\n"), .out = T("yyyyyyyyyy"),
	  .flags = F_BIG | F_LONG, .done = 1 },
	{ .desc = "Delivered-To: without a value ignored",
	  .in = T("Delivered-To:\r\nDelivered-To: <>\r\n"
	  "Delivered-To: \t \r\n\r\n.\r\n"),
	  .out = T("Delivered-To:\nDelivered-To: <>\nDelivered-To: \t \n\n"),
	  .done = 1 },
	{ .desc = "Delivered-To: longer than ADDR_MAX ignored",
	  .in = TF("Delivered-To: ", "a", 330, "\r\n\r\n.\r\n"),
	  .out = TF("Delivered-To: ", "a", 330, "\n\n"), .done = 1 },
	{ .desc = "Delivered-To: cut off in the header buffer not kept",
	  .in = TF("Delivered-To:" SP10 SP10 SP10 SP10, "b", 310,
	  "@x.org\r\n\r\n.\r\n"),
	  .out = TF("Delivered-To:" SP10 SP10 SP10 SP10, "b", 310,
	  "@x.org\n\n"), .done = 1 },
	{ .desc = "header ended by a bare LF line",
	  .in = T("\nReceived: x\r\nDelivered-To: a@b\r\n.\r\n"),
	  .out = T("\nReceived: x\nDelivered-To: a@b\n"), .flags = F_BARE,
	  .done = 1 },

	/* BDAT */
	{ .desc = "BDAT: a last line without CRLF completed",
	  .mode = SMTP_BODY_BDAT, .in = T("a\r\nb"), .end = 1,
	  .out = T("a\nb\n") },
	{ .desc = "BDAT: no dot handling, no end marker",
	  .mode = SMTP_BODY_BDAT, .in = T("..a\r\n.\r\nb\r\n"), .end = 1,
	  .out = T("..a\n.\nb\n") },
	{ .desc = "BDAT: CRLF at the end, nothing added",
	  .mode = SMTP_BODY_BDAT, .in = T("a\r\n"), .end = 1,
	  .out = T("a\n") },
	{ .desc = "BDAT: empty message", .mode = SMTP_BODY_BDAT,
	  .in = T(""), .end = 1, .out = T("") },
	{ .desc = "BDAT: not the last chunk, nothing completed",
	  .mode = SMTP_BODY_BDAT, .in = T("a\r\nb"), .out = T("a\nb") },
	{ .desc = "BDAT: Received: counted, the last without CRLF",
	  .mode = SMTP_BODY_BDAT, .in = T("Received: x\r\nReceived: y"),
	  .end = 1, .out = T("Received: x\nReceived: y\n"), .received = 2 },

	/* BDAT, hostile */
	{ .desc = "BDAT: CR alone at the end is bare",
	  .mode = SMTP_BODY_BDAT, .in = T("a\r"), .end = 1,
	  .out = T("a\n"), .flags = F_BARE },
	{ .desc = "BDAT: bare LF flagged", .mode = SMTP_BODY_BDAT,
	  .in = T("a\nb\r\n"), .end = 1, .out = T("a\nb\n"),
	  .flags = F_BARE },
	{ .desc = "BDAT: bare LF last, nothing added",
	  .mode = SMTP_BODY_BDAT, .in = T("a\n"), .end = 1,
	  .out = T("a\n"), .flags = F_BARE },
	{ .desc = "BDAT: 999-octet last line without CRLF",
	  .mode = SMTP_BODY_BDAT, .in = TF("", "z", 999, NULL), .end = 1,
	  .out = TF("", "z", 999, "\n"), .flags = F_LONG },
	{ .desc = "BDAT: over the limit", .mode = SMTP_BODY_BDAT,
	  .limit = 3, .in = T("abcd\r\n"), .end = 1, .out = T("abc"),
	  .flags = F_BIG },
	{ .desc = "BDAT: CR LF only, wire size twice the stored size",
	  .mode = SMTP_BODY_BDAT, .limit = 4, .in = T("\r\n\r\n\r\n"),
	  .end = 1, .out = T("\n\n"), .flags = F_BIG },
	{ .desc = "BDAT: CR LF only, exactly at the limit",
	  .mode = SMTP_BODY_BDAT, .limit = 6, .in = T("\r\n\r\n\r\n"),
	  .end = 1, .out = T("\n\n\n") },
	{ .desc = "BDAT: at the limit, the completing LF is too big",
	  .mode = SMTP_BODY_BDAT, .limit = 2, .in = T("ab"), .end = 1,
	  .out = T("ab"), .flags = F_BIG },
};

/* What one way of feeding a case gave. */
struct result {
	char		*out;
	size_t		 outlen;
	size_t		 consumed;
	struct smtp_body b;
};

/*
 * Feeds in[0..len) as a session does: the first piece is `first`
 * bytes (0: `step`), then pieces of `step` bytes arrive; after each
 * the unconsumed bytes are fed through an output buffer of `cap` bytes
 * until all are used or the end is seen. With BDAT and c->end,
 * smtp_body_end is called last.
 */
static void
run(const struct body_case *c, const char *in, size_t len, size_t first,
    size_t step, size_t cap, struct result *r, const char *how)
{
	size_t pos = 0, avail = 0;
	char *out = malloc(cap);

	assert_non_null(out);
	r->out = malloc(2 * len + 2);
	assert_non_null(r->out);
	r->outlen = 0;
	smtp_body_init(&r->b, c->mode, c->limit ? c->limit : BIG);
	while (avail < len && !r->b.done) {
		size_t piece = avail == 0 && first > 0 ? first : step;

		avail = len - avail < piece ? len : avail + piece;
		while (pos < avail && !r->b.done) {
			char *win = dup_exact(in + pos, avail - pos);
			size_t n, o = (size_t)-1;

			n = smtp_body_feed(&r->b, win, avail - pos, out, cap,
			    &o);
			free(win);
			if (n > avail - pos || o > cap) {
				fail_msg("%s (%s): consumed %zu of %zu, out "
				    "%zu of %zu", c->desc, how, n,
				    avail - pos, o, cap);
			}
			if (n == 0 && !r->b.done) {
				fail_msg("%s (%s): no progress", c->desc, how);
			}
			assert_true(r->outlen + o <= 2 * len + 2);
			memcpy(r->out + r->outlen, out, o);
			r->outlen += o;
			pos += n;
		}
	}
	if (c->mode == SMTP_BODY_BDAT && c->end) {
		r->outlen += smtp_body_end(&r->b, r->out + r->outlen, 1);
	}
	if (c->mode == SMTP_BODY_DATA && r->b.done) {
		size_t o = (size_t)-1;

		/* Once done, nothing more is taken. */
		assert_int_equal(smtp_body_feed(&r->b, "x\r\n", 3, out, cap,
		    &o), 0);
		assert_int_equal(o, 0);
	}
	r->consumed = pos;
	free(out);
}

static void
check(const struct body_case *c, const char *want, size_t wantlen,
    size_t len, const struct result *r, const char *how)
{
	uint64_t lf = 0;
	size_t ndto = 0;
	int done = c->mode == SMTP_BODY_DATA ? c->done : c->end;

	expect_bytes(c->desc, how, r->out, r->outlen, want, wantlen);
	if (r->b.flags != c->flags || r->b.done != done ||
	    r->consumed != len - c->keep) {
		fail_msg("%s (%s): flags %#x done %d consumed %zu, want %#x "
		    "%d %zu", c->desc, how, r->b.flags, r->b.done,
		    r->consumed, c->flags, done, len - c->keep);
	}
	for (size_t i = 0; i < r->outlen; i++) {
		lf += r->out[i] == '\n';
	}
	if (r->b.size != r->outlen || r->b.lines != lf ||
	    smtp_body_vsize(&r->b) != r->outlen + lf) {
		fail_msg("%s (%s): size %llu lines %llu vsize %llu", c->desc,
		    how, (unsigned long long)r->b.size,
		    (unsigned long long)r->b.lines,
		    (unsigned long long)smtp_body_vsize(&r->b));
	}
	if (r->b.received != c->received) {
		fail_msg("%s (%s): received %u, want %u", c->desc, how,
		    r->b.received, c->received);
	}
	while (ndto < SMTP_LOOPCHECK_MAX && c->dto[ndto] != NULL) {
		if (ndto >= r->b.ndto ||
		    strcmp(r->b.dto[ndto], c->dto[ndto]) != 0) {
			fail_msg("%s (%s): Delivered-To %zu '%s', want '%s'",
			    c->desc, how, ndto, ndto < r->b.ndto ?
			    r->b.dto[ndto] : "(none)", c->dto[ndto]);
		}
		ndto++;
	}
	if (r->b.ndto != ndto) {
		fail_msg("%s (%s): %zu Delivered-To, want %zu", c->desc, how,
		    r->b.ndto, ndto);
	}
}

/* One way of feeding a case (see run), checked against want. */
static void
run_check(const struct body_case *c, const char *in, size_t len,
    size_t first, size_t step, size_t cap, const char *want,
    size_t wantlen, const char *how)
{
	struct result r;

	run(c, in, len, first, step, cap, &r, how);
	check(c, want, wantlen, len, &r, how);
	free(r.out);
}

static void
test_body(void **state)
{
	size_t ngood = 0, nbad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof body_cases / sizeof body_cases[0];
	    i++) {
		const struct body_case *c = &body_cases[i];
		size_t len, wantlen;
		char *in = build(&c->in, &len);
		char *want = build(&c->out, &wantlen);
		char how[32];

		if (c->flags != 0) {
			nbad++;
		} else {
			ngood++;
		}
		/* Whole, with room to spare. */
		run_check(c, in, len, 0, len, 2 * len + 2, want, wantlen,
		    "whole");
		/* Byte by byte. */
		run_check(c, in, len, 0, 1, 2 * len + 2, want, wantlen,
		    "bytes");
		/* Split in two at every point. */
		for (size_t k = 1; k < len; k++) {
			snprintf(how, sizeof how, "split at %zu", k);
			run_check(c, in, len, k, len, 2 * len + 2, want,
			    wantlen, how);
		}
		/* Output buffers smaller than the input. */
		for (size_t cap = 2; cap <= 7; cap++) {
			snprintf(how, sizeof how, "cap %zu", cap);
			run_check(c, in, len, 0, len, cap, want, wantlen, how);
		}
		free(in);
		free(want);
	}
	assert_true(nbad >= ngood);
}

/* An output buffer of less than 2 bytes takes nothing (the caller must
 * offer at least 2); smtp_body_end with no room completes nothing. */
static void
test_body_small_cap(void **state)
{
	struct smtp_body b;
	char out[2];
	size_t o;

	(void)state;
	smtp_body_init(&b, SMTP_BODY_DATA, BIG);
	assert_int_equal(smtp_body_feed(&b, "a\r\n", 3, out, 1, &o), 0);
	assert_int_equal(o, 0);
	assert_int_equal(smtp_body_feed(&b, "a\r\n", 3, out, 0, &o), 0);
	assert_int_equal(o, 0);
	/* 2 bytes of room: one octet, then the line end. */
	assert_int_equal(smtp_body_feed(&b, "a\r\n", 3, out, 2, &o), 1);
	assert_int_equal(o, 1);
	assert_int_equal(smtp_body_feed(&b, "\r\n", 2, out, 2, &o), 2);
	assert_int_equal(o, 1);
	assert_int_equal(out[0], '\n');
	smtp_body_init(&b, SMTP_BODY_BDAT, BIG);
	assert_int_equal(smtp_body_feed(&b, "ab", 2, out, 2, &o), 1);
	assert_int_equal(smtp_body_feed(&b, "b", 1, out, 2, &o), 1);
	assert_int_equal(smtp_body_end(&b, out, 0), 0);
	assert_int_equal(b.done, 1);
	assert_int_equal(b.size, 2);
	assert_int_equal(b.lines, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_next),
		cmocka_unit_test(test_cmd_parse),
		cmocka_unit_test(test_perr_reply),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_body_small_cap),
	};

	return cmocka_run_group_tests_name("smtp_parse", tests, NULL, NULL);
}
