/* SPDX-License-Identifier: ISC */
/*
 * test_pop3_parse.c - the sans-I/O POP3 parser (pop3/pop3_parse.h):
 * line framing with its bound (RFC 2449 4: 255 octets with CRLF),
 * commands and arguments (RFC 1939, 2449, 2595, 5034), and the RETR /
 * TOP transformer (RFC 1939 3 byte-stuffing, 7 TOP).
 *
 * Each table row is one input with a one-line description and what it
 * must give: the framed lines, the parsed command or the exact error
 * text, the bytes on the wire. At least half of every table is bad or
 * hostile input. Inputs are copied to heap blocks of exactly their
 * length, so that ASan catches a read past the end. Framing and the
 * transformer are fed whole, byte by byte and split at every point
 * (the transformer also into small output buffers), and must give the
 * same result each way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pop3/pop3_parse.h"
#include "testutil.h"

/* The longest input a case may build: the buffers below hold it. */
#define TEXT_MAX	4096

/* ---------------------------------------------------------------- */
/* pop3_line_next: the input arrives in chunks into a buffer, as in a
 * session's c->in; the trace has L{line} (L#len when over 40 bytes or
 * holding control bytes) per line and T per overlong line. */

struct line_case {
	const char	*desc;
	struct text	 in;
	size_t		 max;
	const char	*want;
};

#define CMD	POP3_LINE_MAX
#define SASL	POP3_SASL_LINE_MAX

static const struct line_case line_cases[] = {
	{ "CRLF line", T("STAT\r\n"), CMD, "L{STAT}" },
	{ "bare LF ends a line", T("STAT\n"), CMD, "L{STAT}" },
	{ "pipelined lines, the last partial",
	  T("STAT\r\nLIST\r\nRE"), CMD, "L{STAT}L{LIST}" },
	{ "empty line", T("\r\n\n"), CMD, "L{}L{}" },
	{ "no line end yet: nothing", T("STAT"), CMD, "" },
	{ "253 octets + CRLF: exactly 255",
	  TF("", "x", 253, "\r\nNOOP\r\n"), CMD, "L#253L{NOOP}" },
	{ "254 octets + LF: 255 with the LF",
	  TF("", "x", 254, "\nNOOP\n"), CMD, "L#254L{NOOP}" },
	{ "254 octets + CRLF: too long, the next line kept",
	  TF("", "x", 254, "\r\nNOOP\r\n"), CMD, "TL{NOOP}" },
	{ "255 octets and no LF yet: too long already",
	  TF("", "x", 255, ""), CMD, "T" },
	{ "a long line is reported once and all of it dropped",
	  TF("RETR ", "9", 3000, "\r\nNOOP\r\n"), CMD, "TL{NOOP}" },
	{ "a 300-octet line ending in a bare LF",
	  TF("", "y", 300, "\nQUIT\n"), CMD, "TL{QUIT}" },
	{ "CR inside a line stays in it", T("NO\rOP\r\n"), CMD,
	  "L#5" },
	{ "only the CR before LF is taken off", T("STAT\r\r\n"), CMD,
	  "L#5" },
	{ "NUL bytes are framed (the parser refuses them)",
	  TN("NO\0OP\r\n"), CMD, "L#5" },
	{ "SASL bound: 1022 octets + CRLF fits",
	  TF("", "QUJD", 255, "AA\r\n*\r\n"), SASL, "L#1022L{*}" },
	{ "SASL bound: 1023 octets + CRLF is too long",
	  TF("", "QUJD", 255, "AAA\r\n*\r\n"), SASL, "TL{*}" },
	{ "command bound on a SASL-sized line",
	  TF("", "QUJD", 100, "\r\nSTAT\r\n"), CMD, "TL{STAT}" },
};

static void
line_run(const struct line_case *c, const char *in, size_t len,
    size_t chunk, size_t split, char *tr)
{
	static char buf[2 * TEXT_MAX];
	struct pop3_lines l = { 0 };
	size_t have = 0, off = 0;

	assert_true(len < TEXT_MAX);
	tr[0] = '\0';
	while (off < len) {
		size_t n = split > 0 && off < split ? split - off : chunk;
		char *copy;

		if (n > len - off) {
			n = len - off;
		}
		memcpy(buf + have, in + off, n);
		have += n;
		off += n;
		for (;;) {
			const char *line = NULL;
			size_t ll = 0, used;
			enum pop3_line_rc rc;

			copy = dup_exact(buf, have);
			rc = pop3_line_next(&l, copy, have, c->max, &line, &ll,
			    &used);
			assert_true(used <= have);
			if (rc == POP3_LINE_OK) {
				int plain = ll <= 40;

				assert_true(line >= copy && line + ll <=
				    copy + have);
				assert_true(ll + 1 <= c->max);
				for (size_t i = 0; i < ll; i++) {
					plain &= line[i] >= 0x20;
				}
				if (plain) {
					trace_add(tr, "L{%.*s}", (int)ll,
					    line);
				} else {
					trace_add(tr, "L#%zu", ll);
				}
			} else if (rc == POP3_LINE_TOO_LONG) {
				trace_add(tr, "T");
			}
			free(copy);
			memmove(buf, buf + used, have - used);
			have -= used;
			if (rc == POP3_LINE_NEED) {
				break;
			}
		}
	}
}

static void
test_lines(void **state)
{
	static char tr[TRACE_MAX], tr2[TRACE_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof line_cases / sizeof line_cases[0];
	    i++) {
		const struct line_case *c = &line_cases[i];
		size_t len;
		char *in = build(&c->in, &len);

		line_run(c, in, len, len > 0 ? len : 1, 0, tr);
		if (strcmp(tr, c->want) != 0) {
			fail_msg("%s: whole: got '%s' want '%s'", c->desc, tr,
			    c->want);
		}
		line_run(c, in, len, 1, 0, tr2);
		if (strcmp(tr2, c->want) != 0) {
			fail_msg("%s: byte by byte: got '%s'", c->desc, tr2);
		}
		for (size_t s = 1; len < 400 && s < len; s++) {
			line_run(c, in, len, len, s, tr2);
			if (strcmp(tr2, c->want) != 0) {
				fail_msg("%s: split at %zu: got '%s'",
				    c->desc, s, tr2);
			}
		}
		free(in);
	}
}

/* ---------------------------------------------------------------- */
/* pop3_cmd_parse: the verb, then either the arguments ("a=... ir=...
 * n=... k=...") or "ERR:<exact reply text>". */

struct cmd_case {
	const char	*desc;
	struct text	 in;
	const char	*verb;
	const char	*want;
};

static const struct cmd_case cmd_cases[] = {
	/* good */
	{ "STAT", T("STAT"), "STAT", "" },
	{ "verbs are case-insensitive", T("sTaT"), "STAT", "" },
	{ "trailing spaces tolerated", T("NOOP  "), "NOOP", "" },
	{ "USER", T("USER alice@example.test"), "USER",
	  "a=alice@example.test" },
	{ "PASS keeps spaces", T("PASS  my secret pw "), "PASS",
	  "a= my secret pw " },
	{ "PASS keeps a tab", T("PASS a\tb"), "PASS", "a=a\tb" },
	{ "LIST without argument", T("LIST"), "LIST", "" },
	{ "LIST n", T("list 3"), "LIST", "n=3" },
	{ "UIDL n", T("UIDL 1"), "UIDL", "n=1" },
	{ "RETR 2^32-1", T("RETR 4294967295"), "RETR", "n=4294967295" },
	{ "leading zeros are digits", T("RETR 007"), "RETR", "n=7" },
	{ "TOP n 0", T("TOP 1 0"), "TOP", "n=1 k=0" },
	{ "TOP n 2^32-1", T("TOP 2 4294967295"), "TOP",
	  "n=2 k=4294967295" },
	{ "DELE", T("DELE 12"), "DELE", "n=12" },
	{ "several spaces between arguments", T("TOP  1   5"), "TOP",
	  "n=1 k=5" },
	{ "AUTH lists mechanisms", T("AUTH"), "AUTH", "" },
	{ "AUTH PLAIN", T("AUTH PLAIN"), "AUTH", "a=PLAIN" },
	{ "AUTH PLAIN with initial response",
	  T("AUTH plain AGFsaWNlAHB3"), "AUTH",
	  "a=plain ir=AGFsaWNlAHB3" },
	{ "AUTH PLAIN =", T("AUTH PLAIN ="), "AUTH", "a=PLAIN ir==" },
	{ "STLS CAPA RSET QUIT", T("stls"), "STLS", "" },
	{ "UTF-8 user name", T("USER j\xc3\xb6rg"), "USER",
	  "a=j\xc3\xb6rg" },
	/* bad */
	{ "empty line", T(""), "UNKNOWN", "ERR:Empty command" },
	{ "unknown verb", T("XTND XMIT"), "UNKNOWN",
	  "ERR:Unknown command" },
	{ "APOP is not offered", T("APOP alice 0123"), "UNKNOWN",
	  "ERR:Unknown command" },
	{ "leading space", T(" STAT"), "UNKNOWN", "ERR:Unknown command" },
	{ "verb prefix", T("STA"), "UNKNOWN", "ERR:Unknown command" },
	{ "verb too long", T("STATS"), "UNKNOWN", "ERR:Unknown command" },
	{ "tab after the verb", T("STAT\t"), "UNKNOWN",
	  "ERR:Unknown command" },
	{ "NUL in a command", TN("ST\0AT"), "UNKNOWN",
	  "ERR:NUL byte in command" },
	{ "NUL in a password", TN("PASS a\0b"), "UNKNOWN",
	  "ERR:NUL byte in command" },
	{ "CR in a password", T("PASS a\rb"), "PASS",
	  "ERR:Invalid characters in command" },
	{ "control byte in a user", T("USER al\x01ice"), "USER",
	  "ERR:Invalid characters in command" },
	{ "DEL in an argument", T("RETR 1\x7f"), "RETR",
	  "ERR:Invalid characters in command" },
	{ "STAT with an argument", T("STAT 1"), "STAT",
	  "ERR:Too many arguments" },
	{ "USER missing", T("USER"), "USER", "ERR:Missing argument" },
	{ "USER with spaces only", T("USER   "), "USER",
	  "ERR:Missing argument" },
	{ "USER with two words", T("USER alice smith"), "USER",
	  "ERR:Too many arguments" },
	{ "PASS missing", T("PASS"), "PASS", "ERR:Missing argument" },
	{ "PASS and a space only", T("PASS "), "PASS",
	  "ERR:Missing argument" },
	{ "RETR missing", T("RETR"), "RETR", "ERR:Missing argument" },
	{ "RETR 0", T("RETR 0"), "RETR", "ERR:Invalid message number" },
	{ "RETR 000", T("RETR 000"), "RETR",
	  "ERR:Invalid message number" },
	{ "RETR -1", T("RETR -1"), "RETR", "ERR:Invalid message number" },
	{ "RETR +1", T("RETR +1"), "RETR", "ERR:Invalid message number" },
	{ "RETR 2^32", T("RETR 4294967296"), "RETR",
	  "ERR:Invalid message number" },
	{ "RETR 20 digits", T("RETR 99999999999999999999"), "RETR",
	  "ERR:Invalid message number" },
	{ "RETR hex", T("RETR 0x1"), "RETR",
	  "ERR:Invalid message number" },
	{ "RETR 1a", T("RETR 1a"), "RETR", "ERR:Invalid message number" },
	{ "RETR 1 2", T("RETR 1 2"), "RETR", "ERR:Too many arguments" },
	{ "DELE abc", T("DELE abc"), "DELE",
	  "ERR:Invalid message number" },
	{ "LIST 0", T("LIST 0"), "LIST", "ERR:Invalid message number" },
	{ "LIST 1 2", T("LIST 1 2"), "LIST", "ERR:Too many arguments" },
	{ "UIDL -5", T("UIDL -5"), "UIDL", "ERR:Invalid message number" },
	{ "TOP without lines", T("TOP 1"), "TOP", "ERR:Missing argument" },
	{ "TOP without anything", T("TOP"), "TOP", "ERR:Missing argument" },
	{ "TOP negative lines", T("TOP 1 -1"), "TOP",
	  "ERR:Invalid number of lines" },
	{ "TOP lines 2^32", T("TOP 1 4294967296"), "TOP",
	  "ERR:Invalid number of lines" },
	{ "TOP 0 lines", T("TOP 0 1"), "TOP",
	  "ERR:Invalid message number" },
	{ "TOP three numbers", T("TOP 1 2 3"), "TOP",
	  "ERR:Too many arguments" },
	{ "TOP many words", T("TOP 1 2 3 4 5 6"), "TOP",
	  "ERR:Too many arguments" },
	{ "AUTH with three words", T("AUTH PLAIN a b"), "AUTH",
	  "ERR:Too many arguments" },
	{ "a long argument list",
	  TF("LIST", " 1", 120, ""), "LIST", "ERR:Too many arguments" },
};

static void
cmd_dump(const struct pop3_cmd *c, char *out, size_t cap)
{
	out[0] = '\0';
	if (c->arg != NULL) {
		snprintf(out + strlen(out), cap - strlen(out), "a=%.*s",
		    (int)c->arglen, c->arg);
	}
	if (c->ir != NULL) {
		snprintf(out + strlen(out), cap - strlen(out), "%sir=%.*s",
		    out[0] ? " " : "", (int)c->irlen, c->ir);
	}
	if (c->nnum >= 1) {
		snprintf(out + strlen(out), cap - strlen(out), "%sn=%u",
		    out[0] ? " " : "", c->msg);
	}
	if (c->nnum == 2) {
		snprintf(out + strlen(out), cap - strlen(out), " k=%u",
		    c->lines);
	}
}

static void
test_cmd_parse(void **state)
{
	char got[512];

	(void)state;
	for (size_t i = 0; i < sizeof cmd_cases / sizeof cmd_cases[0]; i++) {
		const struct cmd_case *c = &cmd_cases[i];
		struct pop3_cmd cmd;
		enum pop3_perr e;
		size_t len;
		char *in = build(&c->in, &len);

		e = pop3_cmd_parse(in, len, &cmd);
		if (e == POP3_PE_OK) {
			cmd_dump(&cmd, got, sizeof got);
			if (cmd.arg != NULL) {
				assert_true(cmd.arg >= in && cmd.arg +
				    cmd.arglen <= in + len);
			}
			if (cmd.ir != NULL) {
				assert_true(cmd.ir >= in && cmd.ir +
				    cmd.irlen <= in + len);
			}
		} else {
			snprintf(got, sizeof got, "ERR:%s", pop3_strerror(e));
		}
		if (strcmp(got, c->want) != 0) {
			fail_msg("%s: got '%s' want '%s'", c->desc, got,
			    c->want);
		}
		if (strcmp(pop3_verb_name(cmd.verb), c->verb) != 0) {
			fail_msg("%s: verb %s, want %s", c->desc,
			    pop3_verb_name(cmd.verb), c->verb);
		}
		free(in);
	}
}

/* Every verb by name, in both cases, and every error text. */
static void
test_verbs_and_errors(void **state)
{
	static const char *const names[] = { "USER", "PASS", "AUTH",
	    "STLS", "CAPA", "STAT", "LIST", "UIDL", "RETR", "TOP", "DELE",
	    "RSET", "NOOP", "QUIT" };
	struct pop3_cmd cmd;

	(void)state;
	for (int v = POP3_V_USER; v < POP3_V_UNKNOWN; v++) {
		char lower[8];
		const char *n = pop3_verb_name((enum pop3_verb)v);

		assert_string_equal(n, names[v]);
		for (size_t i = 0; i <= strlen(n); i++) {
			lower[i] = (char)(n[i] | (n[i] ? 0x20 : 0));
		}
		(void)pop3_cmd_parse(lower, strlen(lower), &cmd);
		assert_int_equal(cmd.verb, v);
	}
	assert_string_equal(pop3_verb_name(POP3_V_UNKNOWN), "UNKNOWN");
	for (int e = POP3_PE_OK; e <= POP3_PE_LINE_LONG; e++) {
		const char *s = pop3_strerror((enum pop3_perr)e);

		assert_non_null(s);
		assert_true(strlen(s) > 0 && strlen(s) < 40);
		assert_null(strpbrk(s, "\r\n"));
	}
	assert_string_equal(pop3_strerror(POP3_PE_LINE_LONG),
	    "Line too long");
	assert_string_equal(pop3_strerror((enum pop3_perr)999),
	    "Syntax error");
}

/* ---------------------------------------------------------------- */
/* pop3_xfer: file bytes -> the wire, final "." included. */

struct xfer_case {
	const char	*desc;
	struct text	 in;
	int		 top;
	uint32_t	 lines;
	const char	*want;
};

static const struct xfer_case xfer_cases[] = {
	{ "empty message", T(""), 0, 0, ".\r\n" },
	{ "LF line", T("a\n"), 0, 0, "a\r\n.\r\n" },
	{ "CRLF line stays", T("a\r\n"), 0, 0, "a\r\n.\r\n" },
	{ "mixed line ends", T("a\r\nb\nc\r\n"), 0, 0,
	  "a\r\nb\r\nc\r\n.\r\n" },
	{ "no newline at the end", T("a\nlast"), 0, 0,
	  "a\r\nlast\r\n.\r\n" },
	{ "ends in a bare CR", T("a\r"), 0, 0, "a\r\n.\r\n" },
	{ "a line of one dot", T("a\n.\nb\n"), 0, 0,
	  "a\r\n..\r\nb\r\n.\r\n" },
	{ "dots at line starts", T("..x\n.y\n...\n"), 0, 0,
	  "...x\r\n..y\r\n....\r\n.\r\n" },
	{ "dot first and no newline", T(".hi"), 0, 0, "..hi\r\n.\r\n" },
	{ "a lone dot, no newline", T("."), 0, 0, "..\r\n.\r\n" },
	{ "dot after CRLF", T("a\r\n.\r\n"), 0, 0, "a\r\n..\r\n.\r\n" },
	{ "dot inside a line untouched", T("x.\n a.b\n"), 0, 0,
	  "x.\r\n a.b\r\n.\r\n" },
	{ "bare CR ends no line", T(".a\r.b\n"), 0, 0,
	  "..a\r.b\r\n.\r\n" },
	{ "CR then dot at a line start", T("\r.x\n"), 0, 0,
	  "\r.x\r\n.\r\n" },
	{ "empty lines", T("\n\n"), 0, 0, "\r\n\r\n.\r\n" },
	{ "LF CR LF", T("\n\r\n"), 0, 0, "\r\n\r\n.\r\n" },
	{ "NUL bytes pass", TN("a\0b\n"), 0, 0, "a\0b\r\n.\r\n" },
	{ "a long line", TF("", "x", 3000, "\n.\n"), 0, 0, NULL },
	/* TOP */
	{ "TOP 0: the header and its blank line",
	  T("H: 1\nH: 2\n\nb1\nb2\nb3\n"), 1, 0,
	  "H: 1\r\nH: 2\r\n\r\n.\r\n" },
	{ "TOP 2", T("H: 1\nH: 2\n\nb1\nb2\nb3\n"), 1, 2,
	  "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n.\r\n" },
	{ "TOP beyond the body", T("H: 1\n\nb1\nb2\n"), 1, 10,
	  "H: 1\r\n\r\nb1\r\nb2\r\n.\r\n" },
	{ "TOP 2^32-1", T("H: 1\n\nb1\nb2"), 1, UINT32_MAX,
	  "H: 1\r\n\r\nb1\r\nb2\r\n.\r\n" },
	{ "TOP of a header without a blank line",
	  T("H: 1\nH: 2"), 1, 0, "H: 1\r\nH: 2\r\n.\r\n" },
	{ "TOP with CRLF ends", T("H: 1\r\n\r\nb1\r\nb2\r\n"), 1, 1,
	  "H: 1\r\n\r\nb1\r\n.\r\n" },
	{ "TOP stuffs dots in the body", T("H\n\n.b1\n.b2\n"), 1, 1,
	  "H\r\n\r\n..b1\r\n.\r\n" },
	{ "TOP: the last body line without newline",
	  T("H\n\nb1"), 1, 1, "H\r\n\r\nb1\r\n.\r\n" },
	{ "TOP of an empty message", T(""), 1, 0, ".\r\n" },
	{ "TOP: a blank first line ends the header",
	  T("\nbody\nmore\n"), 1, 1, "\r\nbody\r\n.\r\n" },
	{ "TOP: a CR-only line is blank", T("H\n\r\nb\nc\n"), 1, 0,
	  "H\r\n\r\n.\r\n" },
	{ "TOP: CR CR is not blank", T("H\n\r\rX\n\nb\n"), 1, 0,
	  "H\r\n\r\rX\r\n\r\n.\r\n" },
	{ "TOP: blank lines in the body count",
	  T("H\n\n\n\nb\n"), 1, 2, "H\r\n\r\n\r\n\r\n.\r\n" },
	{ "TOP: the dot-only header line",
	  T(".\n\nb\n"), 1, 0, "..\r\n\r\n.\r\n" },
};

/* Runs one transformation: input in chunks (split: first chunk of
 * split bytes), output in pieces of at most cap. */
static size_t
xfer_run(const struct xfer_case *c, const char *in, size_t len,
    size_t chunk, size_t split, size_t cap, char *out, size_t outcap)
{
	struct pop3_xfer x;
	size_t off = 0, o = 0;
	char *piece = malloc(cap);

	assert_non_null(piece);
	pop3_xfer_init(&x, c->top, c->lines);
	while (off < len && !pop3_xfer_done(&x)) {
		size_t n = split > 0 && off < split ? split - off : chunk;
		char *copy;
		size_t p = 0;

		if (n > len - off) {
			n = len - off;
		}
		copy = dup_exact(in + off, n);
		while (p < n && !pop3_xfer_done(&x)) {
			size_t olen, used;

			used = pop3_xfer_feed(&x, copy + p, n - p, piece, cap,
			    &olen);
			assert_true(used <= n - p && olen <= cap);
			assert_true(used > 0 || pop3_xfer_done(&x));
			assert_true(o + olen <= outcap);
			memcpy(out + o, piece, olen);
			o += olen;
			p += used;
		}
		free(copy);
		off += n;
	}
	free(piece);
	piece = malloc(POP3_XFER_END_MAX);
	assert_non_null(piece);
	len = pop3_xfer_end(&x, piece, POP3_XFER_END_MAX);
	assert_true(o + len <= outcap);
	memcpy(out + o, piece, len);
	o += len;
	free(piece);
	return o;
}

/* The reference: the same rules written as plainly as possible, for
 * the long cases and as a check on the table. */
static size_t
xfer_ref(const char *in, size_t len, int top, uint32_t lines, char *out)
{
	size_t o = 0, ls = 0;
	int header = 1;
	uint64_t left = lines;

	for (size_t i = 0; i <= len; i++) {
		size_t le = i;
		int blank;

		if (i < len && in[i] != '\n') {
			continue;
		}
		/* line in[ls..le), without its LF */
		if (i == len && ls == len) {
			break;
		}
		if (le > ls && in[ls] == '.') {
			out[o++] = '.';
		}
		memcpy(out + o, in + ls, le - ls);
		o += le - ls;
		if (le > ls && in[le - 1] == '\r') {
			o--;
		}
		out[o++] = '\r';
		out[o++] = '\n';
		blank = le == ls || (le == ls + 1 && in[ls] == '\r');
		ls = i + 1;
		if (top) {
			if (header) {
				if (blank) {
					header = 0;
					if (left == 0) {
						break;
					}
				}
			} else if (--left == 0) {
				break;
			}
		}
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}

static void
test_xfer(void **state)
{
	static char want[3 * TEXT_MAX], got[3 * TEXT_MAX];
	static const size_t caps[] = { 2, 3, 7, 64 };

	(void)state;
	for (size_t i = 0; i < sizeof xfer_cases / sizeof xfer_cases[0];
	    i++) {
		const struct xfer_case *c = &xfer_cases[i];
		size_t len, wlen, glen;
		char *in = build(&c->in, &len);
		char what[64];

		assert_true(len < TEXT_MAX);
		wlen = xfer_ref(in, len, c->top, c->lines, want);
		if (c->want != NULL) {
			size_t tl = strlen(c->want);

			if (c->in.len) {	/* NULs: count them in */
				tl = wlen;
			}
			expect_bytes(c->desc, "reference", want, wlen,
			    c->want, tl);
		}
		glen = xfer_run(c, in, len, len > 0 ? len : 1, 0,
		    sizeof got, got, sizeof got);
		expect_bytes(c->desc, "whole", got, glen, want, wlen);
		glen = xfer_run(c, in, len, 1, 0, 2, got, sizeof got);
		expect_bytes(c->desc, "byte by byte", got, glen, want, wlen);
		for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
			glen = xfer_run(c, in, len, 5, 0, caps[k], got,
			    sizeof got);
			snprintf(what, sizeof what, "out cap %zu", caps[k]);
			expect_bytes(c->desc, what, got, glen, want, wlen);
		}
		for (size_t s = 1; len < 200 && s < len; s++) {
			glen = xfer_run(c, in, len, len, s, sizeof got, got,
			    sizeof got);
			snprintf(what, sizeof what, "split at %zu", s);
			expect_bytes(c->desc, what, got, glen, want, wlen);
		}
		free(in);
	}
}

/* The edges of the API: no room, the end written once, nothing fed
 * after TOP's cut or after the end. */
static void
test_xfer_api(void **state)
{
	struct pop3_xfer x;
	char out[16];
	size_t olen;

	(void)state;
	pop3_xfer_init(&x, 0, 0);
	assert_int_equal(pop3_xfer_feed(&x, "ab", 2, out, 1, &olen), 0);
	assert_int_equal(olen, 0);
	assert_int_equal(pop3_xfer_feed(&x, ".b", 2, out, 2, &olen), 1);
	assert_int_equal(olen, 2);
	assert_memory_equal(out, "..", 2);
	assert_int_equal(pop3_xfer_end(&x, out, POP3_XFER_END_MAX - 1), 0);
	assert_int_equal(pop3_xfer_end(&x, out, sizeof out), 5);
	assert_memory_equal(out, "\r\n.\r\n", 5);
	assert_int_equal(pop3_xfer_end(&x, out, sizeof out), 0);
	assert_int_equal(pop3_xfer_feed(&x, "b", 1, out, sizeof out, &olen),
	    0);

	pop3_xfer_init(&x, 1, 0);
	assert_int_equal(pop3_xfer_feed(&x, "H\n\nbody\n", 8, out,
	    sizeof out, &olen), 3);
	assert_true(pop3_xfer_done(&x));
	assert_int_equal(olen, 5);
	assert_int_equal(pop3_xfer_feed(&x, "body\n", 5, out, sizeof out,
	    &olen), 0);
	assert_int_equal(pop3_xfer_end(&x, out, sizeof out), 3);
	assert_memory_equal(out, ".\r\n", 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_cmd_parse),
		cmocka_unit_test(test_verbs_and_errors),
		cmocka_unit_test(test_xfer),
		cmocka_unit_test(test_xfer_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
