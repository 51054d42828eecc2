/* SPDX-License-Identifier: ISC */
/*
 * test_dsn.c - the DSN helpers (msg/dsn.h): the NOTIFY list as the
 * queue stores it (RFC 3461 4.1), xtext (RFC 3461 4) as ENVID= and
 * ORCPT= carry it, and enhanced status codes (RFC 3463 2) as remote
 * servers send them.
 *
 * Each row is one input with a one-line description and the result
 * it must give; inputs are exact-size heap copies (ASan sees a read
 * past the end). Writers are tried with the exact capacity and one
 * byte less.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msg/dsn.h"
#include "testutil.h"

#define N_S	DSN_NOTIFY_SUCCESS
#define N_F	DSN_NOTIFY_FAILURE
#define N_D	DSN_NOTIFY_DELAY

struct notify_case {
	const char	*desc;
	struct text	 in;
	int		 want;		/* 0 or -1 */
	unsigned	 bits;
	const char	*canon;		/* dsn_notify_format of bits */
};

#define NGOOD(d, s, b, c)	{ (d), T(s), 0, (b), (c) }
#define NBAD(d, s)		{ (d), T(s), -1, 0, NULL }
#define NBADN(d, s)		{ (d), TN(s), -1, 0, NULL }

static const struct notify_case notify_cases[] = {
	NGOOD("'-' is none", "-", 0, "-"),
	NGOOD("never alone", "never", DSN_NOTIFY_NEVER, "never"),
	NGOOD("one word", "delay", N_D, "delay"),
	NGOOD("all three", "success,failure,delay", N_S | N_F | N_D,
	    "success,failure,delay"),
	NGOOD("any order, written in table order", "delay,success",
	    N_S | N_D, "success,delay"),
	NBAD("empty", ""),
	NBAD("never with another word", "never,failure"),
	NBAD("repeated word", "failure,failure"),
	NBAD("trailing comma", "failure,"),
	NBAD("leading comma", ",failure"),
	NBAD("empty item", "success,,delay"),
	NBAD("upper case (the queue stores lower case)", "FAILURE"),
	NBAD("space after the comma", "success, delay"),
	NBAD("prefix of a word", "fail"),
	NBAD("word with a tail", "delayed"),
	NBAD("'-' with a word", "-,delay"),
	NBADN("NUL inside a word", "fail\0ure"),
};

struct xtext_case {
	const char	*desc;
	struct text	 in;
	int		 want;		/* decoded length, or -1 */
	const char	*out;
};

#define XGOOD(d, s, n, o)	{ (d), T(s), (n), (o) }
#define XGOODN(d, s, n, o)	{ (d), TN(s), (n), (o) }
#define XBAD(d, s)		{ (d), T(s), -1, NULL }
#define XBADN(d, s)		{ (d), TN(s), -1, NULL }

static const struct xtext_case xtext_cases[] = {
	XGOOD("empty", "", 0, ""),
	XGOOD("plain printable text", "rfc822;a@b.example", 18,
	    "rfc822;a@b.example"),
	XGOOD("'+2B' is '+'", "a+2Bb", 3, "a+b"),
	XGOOD("'+3D' is '='", "+3D", 1, "="),
	XGOOD("a plain character spelt as hex", "+41", 1, "A"),
	XGOOD("hexchar at the very end", "x+7E", 2, "x~"),
	XGOOD("'+00' gives a NUL byte", "a+00b", 3, "a\0b"),
	XBAD("'+' alone", "+"),
	XBAD("'+' with one digit at the end", "a+4"),
	XBAD("lower-case hex digits", "+2b"),
	XBAD("non-hex after '+'", "+G0"),
	XBAD("'=' is never plain", "a=b"),
	XBAD("space", "a b"),
	XBAD("DEL", "a\x7f"),
	XBAD("8-bit byte", "caf\xc3\xa9"),
	XBADN("NUL byte", "a\0b"),
	XBAD("CRLF", "abc\r\n"),
};

struct status_case {
	const char	*desc;
	struct text	 in;
	int		 cls;		/* 0 when invalid */
	const char	*subject;
};

#define SGOOD(d, s, c, subj)	{ (d), T(s), (c), (subj) }
#define SBAD(d, s)		{ (d), T(s), 0, "Other or undefined status" }
#define SBADN(d, s)		{ (d), TN(s), 0, "Other or undefined status" }

static const struct status_case status_cases[] = {
	SGOOD("success", "2.0.0", 2, "Other or undefined status"),
	SGOOD("mailbox unknown", "5.1.1", 5, "Addressing status"),
	SGOOD("policy, transient", "4.7.0", 4, "Security or policy status"),
	SGOOD("three-digit parts", "5.999.999", 5,
	    "Other or undefined status"),
	SGOOD("subject 8 is undefined", "5.8.1", 5,
	    "Other or undefined status"),
	SBAD("class 3", "3.0.0"),
	SBAD("class 1", "1.1.1"),
	SBAD("four-digit subject", "5.1000.1"),
	SBAD("four-digit detail", "5.1.1000"),
	SBAD("missing detail", "5.1."),
	SBAD("missing subject", "5..1"),
	SBAD("too short", "5.1"),
	SBAD("extra part", "5.1.1.1"),
	SBAD("trailing space", "5.1.1 "),
	SBAD("sign", "5.+1.1"),
	SBADN("NUL inside", "5.1\0.1"),
	SBAD("empty", ""),
};

static void
test_notify(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof notify_cases /
	    sizeof notify_cases[0]; i++) {
		const struct notify_case *c = &notify_cases[i];
		size_t len, cl;
		char *in = build(&c->in, &len), text[DSN_NOTIFY_TEXT_MAX];
		unsigned bits = 0x5a5a;
		int r = dsn_notify_parse(in, len, &bits);

		if (r != c->want) {
			fail_msg("%s: got %d, want %d", c->desc, r, c->want);
		}
		if (r == -1) {
			if (bits != 0x5a5a) {
				fail_msg("%s: bits written on error", c->desc);
			}
			free(in);
			continue;
		}
		if (bits != c->bits) {
			fail_msg("%s: bits %#x, want %#x", c->desc, bits,
			    c->bits);
		}
		cl = strlen(c->canon);
		if (dsn_notify_format(bits, text, cl + 1) != (int)cl ||
		    strcmp(text, c->canon) != 0 ||
		    dsn_notify_format(bits, text, cl) != -1) {
			fail_msg("%s: format", c->desc);
		}
		free(in);
	}
}

/* Bits no list can hold are refused by the writer. */
static void
test_notify_format_bad(void **state)
{
	char text[DSN_NOTIFY_TEXT_MAX];

	(void)state;
	assert_int_equal(dsn_notify_format(0x10, text, sizeof text), -1);
	assert_int_equal(dsn_notify_format(DSN_NOTIFY_NEVER | N_F, text,
	    sizeof text), -1);
	assert_int_equal(dsn_notify_format(DSN_NOTIFY_ALL &
	    ~DSN_NOTIFY_NEVER, text, sizeof text), 21);
}

static void
test_xtext(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof xtext_cases / sizeof xtext_cases[0];
	    i++) {
		const struct xtext_case *c = &xtext_cases[i];
		size_t len;
		char *in = build(&c->in, &len), *out = malloc(len + 1);
		int n;

		assert_non_null(out);
		n = dsn_xtext_decode(in, len, out, len + 1);
		if (n != c->want || dsn_xtext_valid(in, len) != (n >= 0)) {
			fail_msg("%s: got %d, want %d", c->desc, n, c->want);
		}
		if (n >= 0) {
			expect_bytes(c->desc, "decoded", out, (size_t)n,
			    c->out, (size_t)c->want);
			if (out[n] != '\0' || dsn_xtext_decode(in, len, out,
			    (size_t)n) != -1) {
				fail_msg("%s: NUL or capacity", c->desc);
			}
		}
		free(out);
		free(in);
	}
}

struct enc_case {
	const char	*desc;
	const char	*in;
	size_t		 len;
	const char	*want;
};

static const struct enc_case enc_cases[] = {
	{ "empty", "", 0, "" },
	{ "plain text unchanged", "a@b.example", 11, "a@b.example" },
	{ "'+' and '=' encoded", "a+b=c", 5, "a+2Bb+3Dc" },
	{ "space, controls, NUL and 8-bit", " \r\0\xff", 4,
	    "+20+0D+00+FF" },
};

static void
test_xtext_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof enc_cases / sizeof enc_cases[0];
	    i++) {
		const struct enc_case *c = &enc_cases[i];
		size_t wl = strlen(c->want);
		char *out = malloc(wl + 1);
		int n;

		assert_non_null(out);
		n = dsn_xtext_encode(c->in, c->len, out, wl + 1);
		expect_bytes(c->desc, "encoded", out, n < 0 ? 0 : (size_t)n,
		    c->want, wl);
		if (out[wl] != '\0' ||
		    dsn_xtext_encode(c->in, c->len, out, wl) != -1) {
			fail_msg("%s: NUL or capacity", c->desc);
		}
		free(out);
	}
}

static void
test_status(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof status_cases /
	    sizeof status_cases[0]; i++) {
		const struct status_case *c = &status_cases[i];
		size_t len;
		char *in = build(&c->in, &len);
		int cls = dsn_status_class(in, len);
		const char *name = dsn_status_class_name(in, len);

		if (cls != c->cls) {
			fail_msg("%s: class %d, want %d", c->desc, cls,
			    c->cls);
		}
		if (strcmp(dsn_status_subject(in, len), c->subject) != 0) {
			fail_msg("%s: subject '%s', want '%s'", c->desc,
			    dsn_status_subject(in, len), c->subject);
		}
		if ((cls == 0) != (name[0] == '\0')) {
			fail_msg("%s: class name '%s'", c->desc, name);
		}
		free(in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_notify_format_bad),
		cmocka_unit_test(test_xtext),
		cmocka_unit_test(test_xtext_encode),
		cmocka_unit_test(test_status),
	};

	return cmocka_run_group_tests_name("dsn", tests, NULL, NULL);
}
