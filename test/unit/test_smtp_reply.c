/* SPDX-License-Identifier: ISC */
/*
 * test_smtp_reply.c - the sans-I/O reader of SMTP server replies
 * (queue/smtp_reply.h): reply lines and multi-line replies (RFC 5321
 * 4.2), enhanced status codes (RFC 3463, RFC 2034), the kept text and
 * its bounds, sticky errors; and the EHLO keywords (smtp_ehlo_line).
 *
 * Each reply row is one input with a one-line description and the
 * trace it must give: "-text;" for a continuation line (a run of the
 * same line shown once, then "*N;"), "CODE ESC \"text\" lines/dropped;"
 * for a whole reply ("-" for no enhanced code), "!ERR" for the sticky
 * error. Every row is fed whole, byte by byte, and split in two at
 * every point, from heap blocks of exactly their length, and must give
 * the same trace each way. At least half of the rows are hostile.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "queue/smtp_reply.h"
#include "testutil.h"

struct reply_case {
	const char	*desc;
	struct text	 in;
	const char	*want;
};

#define X10	"xxxxxxxxxx"
#define X100	X10 X10 X10 X10 X10 X10 X10 X10 X10 X10

static const struct reply_case reply_cases[] = {
	{ "greeting", T("220 mx.example.org ESMTP\r\n"),
	  "220 - \"mx.example.org ESMTP\" 1/0;" },
	{ "EHLO reply over several lines",
	  T("250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 100\r\n"),
	  "-mx.example.org;-PIPELINING;250 - "
	  "\"mx.example.org PIPELINING SIZE 100\" 3/0;" },
	{ "bare LF ends lines too", T("250-a\n250 b\n"),
	  "-a;250 - \"a b\" 2/0;" },
	{ "enhanced code taken out of the text", T("250 2.1.0 Ok\r\n"),
	  "250 2.1.0 \"Ok\" 1/0;" },
	{ "enhanced code repeated on every line, kept once",
	  T("550-5.1.1 The account\r\n550-5.1.1 does not\r\n"
	    "550 5.1.1 exist\r\n"),
	  "-5.1.1 The account;-5.1.1 does not;"
	  "550 5.1.1 \"The account does not exist\" 3/0;" },
	{ "another enhanced code on a later line stays text",
	  T("451-4.3.0 busy\r\n451 4.7.1 later\r\n"),
	  "-4.3.0 busy;451 4.3.0 \"busy 4.7.1 later\" 2/0;" },
	{ "enhanced code of another class is text",
	  T("250 5.1.1 hmm\r\n"), "250 - \"5.1.1 hmm\" 1/0;" },
	{ "three-digit subject and detail", T("554 5.123.456 no\r\n"),
	  "554 5.123.456 \"no\" 1/0;" },
	{ "enhanced code alone", T("250 2.0.0\r\n"),
	  "250 2.0.0 \"\" 1/0;" },
	{ "four-digit detail is not an enhanced code",
	  T("250 2.1.1000 x\r\n"), "250 - \"2.1.1000 x\" 1/0;" },
	{ "two parts only is not an enhanced code", T("250 2.1 x\r\n"),
	  "250 - \"2.1 x\" 1/0;" },
	{ "enhanced code glued to text is text", T("250 2.1.0ok\r\n"),
	  "250 - \"2.1.0ok\" 1/0;" },
	{ "code without text (RFC 5321 4.2)", T("250\r\n"),
	  "250 - \"\" 1/0;" },
	{ "empty continuation line", T("250-\r\n250 x\r\n"),
	  "-;250 - \"x\" 2/0;" },
	{ "two replies in one buffer", T("250 a\r\n354 b\r\n"),
	  "250 - \"a\" 1/0;354 - \"b\" 1/0;" },
	{ "a reply not finished yet", T("250-a\r\n250-b\r\n250 c"),
	  "-a;-b;" },
	{ "control octets in text become '?'",
	  T("550 a\tb\x1b[31m\rc\r\n"), "550 - \"a?b?[31m?c\" 1/0;" },
	{ "8-bit text is kept", T("250 caf\xc3\xa9\r\n"),
	  "250 - \"caf\xc3\xa9\" 1/0;" },
	{ "longest line: 996 octets of text and CR LF",
	  TF("250 ", "x", 994, "\r\n"), NULL },
	{ "text over 512 octets is cut and counted",
	  TF("250-", X100, 3, "\r\n250-" X100 X100 X100 "\r\n250 y\r\n"),
	  NULL },

	{ "code of four digits", T("2500 x\r\n"), "!CODE" },
	{ "code of two digits", T("25 x\r\n"), "!CODE" },
	{ "letters for a code", T("abc\r\n"), "!CODE" },
	{ "1yz is no SMTP reply", T("150 x\r\n"), "!CODE" },
	{ "second digit over 5", T("260 x\r\n"), "!CODE" },
	{ "first digit over 5", T("650 x\r\n"), "!CODE" },
	{ "code followed by a letter", T("250x\r\n"), "!CODE" },
	{ "code followed by a tab", T("250\tx\r\n"), "!CODE" },
	{ "empty line", T("\r\n"), "!CODE" },
	{ "HTTP answer", T("HTTP/1.1 400 Bad Request\r\n"), "!CODE" },
	{ "another code inside a multi-line reply",
	  T("250-a\r\n251 b\r\n"), "-a;!MIXED" },
	{ "4xx then 5xx in a multi-line reply",
	  T("450-busy\r\n550 no\r\n"), "-busy;!MIXED" },
	{ "bad code on a continuation line", T("250-a\r\nxyz\r\n"),
	  "-a;!CODE" },
	{ "NUL octet", TN("250 a\0b\r\n"), "!NUL" },
	{ "NUL octet in the code", TN("2\00050 a\r\n"), "!NUL" },
	{ "line of 999 octets and CR LF", TF("250 ", "x", 995, "\r\n"),
	  "!LONG" },
	{ "line of 999 octets and a bare LF", TF("250 ", "x", 995, "\n"),
	  "!LONG" },
	{ "NUL early in an overlong line: the NUL is reported",
	  { "250 a\0", "x", 1100, "\r\n", 6 }, "!NUL" },
	{ "2000 octets without a line end", TF("250 ", "x", 2000, NULL),
	  "!LONG" },
	{ "endless continuation lines",
	  TF("", "250-x\r\n", 1001, "250 y\r\n"), "-x;*999;!LINES" },
	{ "1000 lines are still a reply",
	  TF("", "250-x\r\n", 999, "250 y\r\n"), NULL },
	{ "error is sticky: a good reply after it is not read",
	  T("abc\r\n250 ok\r\n"), "!CODE" },
	{ "the line after an overlong one is not read",
	  TF("250 ", "x", 2000, "\r\n250 ok\r\n"), "!LONG" },
};

/* Traces that are too long for the table are built here. */
static void
want_of(size_t i, char *w)
{
	const struct reply_case *c = &reply_cases[i];

	w[0] = '\0';
	if (c->want != NULL) {
		strcpy(w, c->want);
		return;
	}
	if (strcmp(c->desc, "longest line: 996 octets of text and CR "
	    "LF") == 0) {
		/* text cut to 512 */
		trace_add(w, "250 - \"");
		for (int k = 0; k < SMTP_REPLY_TEXT_MAX; k++) {
			trace_add(w, "x");
		}
		trace_add(w, "\" 1/1;");
	} else if (strncmp(c->desc, "text over 512", 13) == 0) {
		trace_add(w, "-" X100 X100 X100 ";*1;");
		trace_add(w, "250 - \"" X100 X100 X100 " ");
		for (int k = 0; k < SMTP_REPLY_TEXT_MAX - 301; k++) {
			trace_add(w, "x");
		}
		trace_add(w, "\" 3/2;");
	} else {
		trace_add(w, "-x;*998;250 - \"x x");
		for (int k = 0; k < (SMTP_REPLY_TEXT_MAX - 1) / 2 - 1; k++) {
			trace_add(w, " x");
		}
		trace_add(w, "\" 1000/%d;", 1000 - SMTP_REPLY_TEXT_MAX / 2);
	}
}

static const char *
err_name(enum smtp_reply_err e)
{
	switch (e) {
	case SMTP_RE_OK:
		return "OK";
	case SMTP_RE_CODE:
		return "CODE";
	case SMTP_RE_MIXED:
		return "MIXED";
	case SMTP_RE_NUL:
		return "NUL";
	case SMTP_RE_LONG:
		return "LONG";
	case SMTP_RE_LINES:
		return "LINES";
	}
	return "?";
}

/* One run: the trace of feeding pieces of `step` octets (0: whole),
 * or the two halves split at `split` (step SIZE_MAX). */
struct run {
	char	 tr[TRACE_MAX * 8];
	char	 last[SMTP_REPLY_LINE_MAX + 1];
	int	 rep;
	int	 err;
};

static void
flush_rep(struct run *r)
{
	if (r->rep > 0) {
		size_t n = strlen(r->tr);

		snprintf(r->tr + n, sizeof r->tr - n, "*%d;", r->rep);
		r->rep = 0;
	}
}

static void
add(struct run *r, const char *fmt, ...)
{
	size_t n = strlen(r->tr);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->tr + n, sizeof r->tr - n, fmt, ap);
	va_end(ap);
}

static void
feed_piece(struct smtp_reply *p, struct run *r, const char *s, size_t len)
{
	char *copy = dup_exact(s, len);
	size_t off = 0;

	while (!r->err) {
		size_t used = (size_t)-1;
		enum smtp_reply_ev ev;

		ev = smtp_reply_feed(p, copy + off, len - off, &used);
		assert_true(used <= len - off);
		off += used;
		if (ev == SMTP_REPLY_ERROR) {
			flush_rep(r);
			add(r, "!%s", err_name(p->err));
			assert_true(p->err != SMTP_RE_OK);
			assert_non_null(smtp_reply_strerror(p->err));
			/* sticky */
			assert_int_equal(smtp_reply_feed(p, "250 x\r\n", 7,
			    &used), SMTP_REPLY_ERROR);
			r->err = 1;
			break;
		}
		if (ev == SMTP_REPLY_NEED) {
			assert_int_equal(off, len);
			break;
		}
		assert_true(p->linelen < SMTP_REPLY_LINE_MAX);
		assert_true(p->textlen <= SMTP_REPLY_TEXT_MAX);
		assert_int_equal(strlen(p->text), p->textlen);
		if (ev == SMTP_REPLY_LINE) {
			assert_false(smtp_reply_idle(p));
			if (p->linelen == strlen(r->last) &&
			    memcmp(p->line, r->last, p->linelen) == 0 &&
			    r->tr[0] != '\0') {
				r->rep++;
				continue;
			}
			flush_rep(r);
			memcpy(r->last, p->line, p->linelen);
			r->last[p->linelen] = '\0';
			add(r, "-%.*s;", (int)p->linelen, p->line);
			continue;
		}
		flush_rep(r);
		r->last[0] = '\0';
		assert_true(smtp_reply_idle(p));
		add(r, "%u %s \"%s\" %u/%u;", p->code,
		    p->esc[0] != '\0' ? p->esc : "-", p->text, p->nlines,
		    p->dropped);
	}
	free(copy);
}

static void
run_reply(const char *in, size_t len, size_t step, size_t split,
    struct run *r)
{
	struct smtp_reply p;

	memset(r, 0, sizeof *r);
	smtp_reply_init(&p);
	assert_true(smtp_reply_idle(&p));
	if (step == SIZE_MAX) {
		feed_piece(&p, r, in, split);
		feed_piece(&p, r, in + split, len - split);
	} else if (step == 0) {
		feed_piece(&p, r, in, len);
	} else {
		for (size_t i = 0; i < len; i += step) {
			feed_piece(&p, r, in + i,
			    len - i < step ? len - i : step);
		}
	}
	flush_rep(r);
}

static void
test_reply(void **state)
{
	static char want[TRACE_MAX * 8];
	static struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof reply_cases / sizeof reply_cases[0];
	    i++) {
		const struct reply_case *c = &reply_cases[i];
		size_t len;
		char *in = build(&c->in, &len);

		want_of(i, want);
		run_reply(in, len, 0, 0, &r);
		if (strcmp(r.tr, want) != 0) {
			fail_msg("%s (whole): got\n%.300s\nwant\n%.300s",
			    c->desc, r.tr, want);
		}
		run_reply(in, len, 1, 0, &r);
		if (strcmp(r.tr, want) != 0) {
			fail_msg("%s (byte by byte): got\n%.300s\nwant\n"
			    "%.300s", c->desc, r.tr, want);
		}
		for (size_t s = 0; len < 2048 && s <= len; s++) {
			run_reply(in, len, SIZE_MAX, s, &r);
			if (strcmp(r.tr, want) != 0) {
				fail_msg("%s (split at %zu): got\n%.300s\n"
				    "want\n%.300s", c->desc, s, r.tr, want);
			}
		}
		free(in);
	}
}

/* ---------------------------------------------------------------- */
/* smtp_ehlo_line: what one line of an EHLO reply adds. */

struct ehlo_case {
	const char	*desc;
	const char	*line;
	unsigned	 ext;
	uint64_t	 size;
};

static const struct ehlo_case ehlo_cases[] = {
	{ "PIPELINING", "PIPELINING", SMTP_EXT_PIPELINING, 0 },
	{ "keywords are case-insensitive", "pipelining",
	  SMTP_EXT_PIPELINING, 0 },
	{ "SIZE with a limit", "SIZE 10240000", SMTP_EXT_SIZE, 10240000 },
	{ "SIZE alone: no limit known", "SIZE", SMTP_EXT_SIZE, 0 },
	{ "SIZE 0: no limit (RFC 1870 4)", "SIZE 0", SMTP_EXT_SIZE, 0 },
	{ "SIZE with two spaces", "SIZE  123", SMTP_EXT_SIZE, 123 },
	{ "8BITMIME", "8BITMIME", SMTP_EXT_8BITMIME, 0 },
	{ "SMTPUTF8", "SMTPUTF8", SMTP_EXT_SMTPUTF8, 0 },
	{ "DSN", "DSN", SMTP_EXT_DSN, 0 },
	{ "STARTTLS", "STARTTLS", SMTP_EXT_STARTTLS, 0 },
	{ "ENHANCEDSTATUSCODES", "ENHANCEDSTATUSCODES", SMTP_EXT_ENHANCED,
	  0 },
	{ "AUTH with both mechanisms and others",
	  "AUTH CRAM-MD5 PLAIN LOGIN XOAUTH2",
	  SMTP_EXT_AUTH_PLAIN | SMTP_EXT_AUTH_LOGIN, 0 },
	{ "old AUTH=LOGIN form", "AUTH=LOGIN", SMTP_EXT_AUTH_LOGIN, 0 },
	{ "AUTH mechanisms in lower case", "auth plain",
	  SMTP_EXT_AUTH_PLAIN, 0 },

	{ "CHUNKING is not used", "CHUNKING", 0, 0 },
	{ "unknown keyword", "X-EXPS GSSAPI", 0, 0 },
	{ "keyword with a suffix is another keyword", "PIPELININGX", 0, 0 },
	{ "keyword with a prefix", "X-PIPELINING", 0, 0 },
	{ "empty line", "", 0, 0 },
	{ "AUTH without mechanisms", "AUTH", 0, 0 },
	{ "AUTH with unusable mechanisms only", "AUTH CRAM-MD5 GSSAPI", 0,
	  0 },
	{ "PLAIN as a prefix of a mechanism", "AUTH PLAINX LOGINY", 0, 0 },
	{ "SIZE with letters", "SIZE 10M", SMTP_EXT_SIZE, 0 },
	{ "SIZE over 64 bits", "SIZE 99999999999999999999999",
	  SMTP_EXT_SIZE, 0 },
	{ "SIZE negative", "SIZE -1", SMTP_EXT_SIZE, 0 },
	{ "a space before the keyword", " PIPELINING", 0, 0 },
	{ "8-bit junk", "\xff\xfe", 0, 0 },
};

static void
test_ehlo(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof ehlo_cases / sizeof ehlo_cases[0];
	    i++) {
		const struct ehlo_case *c = &ehlo_cases[i];
		size_t len = strlen(c->line);
		char *copy = dup_exact(c->line, len);
		struct smtp_ehlo e;

		smtp_ehlo_init(&e);
		smtp_ehlo_line(&e, copy, len);
		if (e.ext != c->ext || e.size_max != c->size) {
			fail_msg("%s: ext %#x size %llu, want %#x %llu",
			    c->desc, e.ext, (unsigned long long)e.size_max,
			    c->ext, (unsigned long long)c->size);
		}
		free(copy);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_ehlo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
