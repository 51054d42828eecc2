/* SPDX-License-Identifier: ISC */
/*
 * test_base64.c - the RFC 4648 section 4 codec (msg/base64.h) that
 * reads SASL responses (RFC 4954 4) in the SMTP, IMAP and POP3
 * sessions.
 *
 * Each decode row is one input with a one-line description and either
 * the decoded bytes or -1; every input is an exact-size heap copy, so
 * ASan sees a read past its end. Decoding is tried with the exact
 * capacity and with one byte less. Encoding rows give the text and
 * the capacities around the needed one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msg/base64.h"
#include "testutil.h"

struct dec_case {
	const char	*desc;
	struct text	 in;
	long		 want;		/* length, or -1 */
	const char	*out;		/* when want >= 0 */
};

#define GOOD(d, s, n, o)	{ (d), T(s), (n), (o) }
#define BAD(d, s)		{ (d), T(s), -1, NULL }
#define BADN(d, s)		{ (d), TN(s), -1, NULL }
#define BADF(d, in)		{ (d), in, -1, NULL }

static const struct dec_case dec_cases[] = {
	GOOD("empty input, empty output", "", 0, ""),
	GOOD("one group, no padding", "QUJD", 3, "ABC"),
	GOOD("one '=' of padding", "QUI=", 2, "AB"),
	GOOD("two '=' of padding", "QQ==", 1, "A"),
	GOOD("SASL PLAIN with NULs", "AHVzZXIAcGFzcw==", 10,
	    "\0user\0pass"),
	GOOD("'+' and '/' are digits 62 and 63", "+/+/", 3,
	    "\xfb\xff\xbf"),
	GOOD("unused pad bits set: accepted (RFC 4648 3.5 allows)",
	    "QR==", 1, "A"),
	BAD("length not a multiple of 4", "QUJ"),
	BAD("one character", "Q"),
	BAD("padding missing", "QQ"),
	BAD("three '=' of padding", "Q==="),
	BAD("only padding", "===="),
	BAD("'=' inside the text", "QQ==QUJD"),
	BAD("'=' then data in the last group", "QU=D"),
	BAD("space inside", "QU JD"),
	BAD("CRLF at the end", "QUJD\r\n"),
	BAD("URL-safe alphabet '-'", "QU-D"),
	BAD("URL-safe alphabet '_'", "QU_D"),
	BADN("NUL byte", "QU\0D"),
	BAD("8-bit byte", "QU\xc3\xa9"),
	BAD("'*' as the cancel of AUTH is not base64", "*"),
	BADF("long text, junk in the last group",
	    TF(NULL, "QUJD", 300, "QUJ!")),
};

struct enc_case {
	const char	*desc;
	const char	*in;
	size_t		 len;
	const char	*want;
};

static const struct enc_case enc_cases[] = {
	{ "empty", "", 0, "" },
	{ "one byte: two '='", "A", 1, "QQ==" },
	{ "two bytes: one '='", "AB", 2, "QUI=" },
	{ "three bytes: no padding", "ABC", 3, "QUJD" },
	{ "NULs and high bytes", "\0\xff\xfe", 3, "AP/+" },
	{ "SASL PLAIN", "\0user\0pass", 10, "AHVzZXIAcGFzcw==" },
};

static void
test_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof dec_cases / sizeof dec_cases[0];
	    i++) {
		const struct dec_case *c = &dec_cases[i];
		size_t len, cap;
		char *in = build(&c->in, &len);
		unsigned char *out;
		long n;

		cap = len / 4 * 3;
		out = malloc(cap > 0 ? cap : 1);
		assert_non_null(out);
		n = base64_decode(in, len, out, cap);
		if (n != c->want) {
			fail_msg("%s: got %ld, want %ld", c->desc, n, c->want);
		}
		if (n >= 0) {
			expect_bytes(c->desc, "decoded", (const char *)out,
			    (size_t)n, c->out, (size_t)c->want);
			/* Exact size only: one byte less is refused. */
			free(out);
			out = malloc(n > 0 ? (size_t)n : 1);
			assert_non_null(out);
			if (base64_decode(in, len, out, (size_t)n) != n ||
			    (n > 0 && base64_decode(in, len, out,
			    (size_t)n - 1) != -1)) {
				fail_msg("%s: capacity not exact", c->desc);
			}
		}
		free(out);
		free(in);
	}
}

static void
test_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof enc_cases / sizeof enc_cases[0];
	    i++) {
		const struct enc_case *c = &enc_cases[i];
		size_t tl = strlen(c->want);
		char *out = malloc(tl + 1);
		long n;

		assert_non_null(out);
		n = base64_encode((const unsigned char *)c->in, c->len, out,
		    tl + 1);
		expect_bytes(c->desc, "encoded", out, n < 0 ? 0 : (size_t)n,
		    c->want, tl);
		if (out[tl] != '\0' || base64_encode(
		    (const unsigned char *)c->in, c->len, out, tl) != -1) {
			fail_msg("%s: NUL or capacity", c->desc);
		}
		free(out);
	}
}

/* Every byte string of length 0-5 from a few values encodes and
 * decodes back to itself. */
static void
test_round_trip(void **state)
{
	static const unsigned char v[] = { 0x00, 0x3f, 0x80, 0xff };
	unsigned char in[5], back[5];
	char text[16];

	(void)state;
	for (size_t len = 0; len <= sizeof in; len++) {
		size_t combos = 1;

		for (size_t k = 0; k < len; k++) {
			combos *= sizeof v;
		}
		for (size_t m = 0; m < combos; m++) {
			size_t x = m;
			long tl;

			for (size_t k = 0; k < len; k++) {
				in[k] = v[x % sizeof v];
				x /= sizeof v;
			}
			tl = base64_encode(in, len, text, sizeof text);
			assert_true(tl >= 0);
			assert_int_equal(base64_decode(text, (size_t)tl, back,
			    sizeof back), (long)len);
			assert_memory_equal(in, back, len);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
