/* SPDX-License-Identifier: ISC */
/*
 * test_decode.c - SEARCH text decoding (msg/decode.h): quoted-printable
 * and base64 bodies (RFC 2045 6.7, 6.8), charsets to UTF-8, RFC 2047
 * encoded words and unfolding, the header walker (RFC 5322 2.2) and
 * Date: parsing (RFC 5322 3.3, 4.3).
 *
 * Each table row is one input with a one-line description and what it
 * must give; at least half of every table is malformed input. Streaming
 * cases are fed whole, byte by byte, split at every point and through
 * output buffers of 1 to 7 octets, each chunk in a heap block of
 * exactly its length (so ASan catches a read past it), and must give
 * the same output each way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msg/decode.h"
#include "testutil.h"

#define OUT_MAX		16384

/* ---------------------------------------------------------------- */
/* Streaming decoders: one driver for both kinds. */

enum { K_BODY, K_CS };

struct stream {
	int			kind;
	struct decode_body	b;
	struct decode_cs	c;
};

static void
stream_init(struct stream *s, int kind, const char *name)
{
	s->kind = kind;
	if (kind == K_BODY) {
		decode_body_init(&s->b, name, strlen(name));
	} else {
		decode_cs_init(&s->c, name, strlen(name));
	}
}

static size_t
stream_feed(struct stream *s, const char *in, size_t len, size_t *used,
    char *out, size_t cap)
{
	if (s->kind == K_BODY) {
		return decode_body_feed(&s->b, in, len, used, out, cap);
	}
	return decode_cs_feed(&s->c, in, len, used, out, cap);
}

static size_t
stream_end(struct stream *s, char *out, size_t cap)
{
	if (s->kind == K_BODY) {
		return decode_body_end(&s->b, out, cap);
	}
	return decode_cs_end(&s->c, out, cap);
}

/* Decodes in[0..len) fed as in[0..split) then chunks of step octets,
 * into buffers of cap octets; returns the output length in out. */
static size_t
stream_run(int kind, const char *name, const char *in, size_t len,
    size_t split, size_t step, size_t cap, char *out)
{
	struct stream s;
	char buf[OUT_MAX];
	size_t off = 0, n = 0, k, used;

	stream_init(&s, kind, name);
	while (off < len) {
		size_t clen = off == 0 && split > 0 ? split : step;
		char *chunk;
		size_t pos = 0;

		if (clen > len - off) {
			clen = len - off;
		}
		chunk = dup_exact(in + off, clen);
		while (pos < clen) {
			k = stream_feed(&s, chunk + pos, clen - pos, &used,
			    buf, cap);
			assert_true(k <= cap);
			assert_true(used <= clen - pos);
			/* Progress: output, or input consumed. */
			assert_true(k > 0 || used > 0);
			assert_true(n + k <= OUT_MAX);
			memcpy(out + n, buf, k);
			n += k;
			pos += used;
		}
		free(chunk);
		off += clen;
	}
	while ((k = stream_end(&s, buf, cap)) > 0) {
		assert_true(k <= cap);
		assert_true(n + k <= OUT_MAX);
		memcpy(out + n, buf, k);
		n += k;
	}
	/* After the end, the decoder starts afresh. */
	assert_int_equal(stream_end(&s, buf, cap), 0);
	return n;
}

/* Every way of feeding must give want. */
static void
stream_check(int kind, const char *desc, const char *name, const char *in,
    size_t len, const char *want, size_t wlen)
{
	static char out[OUT_MAX];
	char how[64];
	size_t n;

	n = stream_run(kind, name, in, len, 0, len > 0 ? len : 1, OUT_MAX,
	    out);
	expect_bytes(desc, "whole", out, n, want, wlen);
	n = stream_run(kind, name, in, len, 0, 1, OUT_MAX, out);
	expect_bytes(desc, "byte by byte", out, n, want, wlen);
	for (size_t sp = 1; sp < len; sp++) {
		n = stream_run(kind, name, in, len, sp, len, OUT_MAX, out);
		snprintf(how, sizeof how, "split at %zu", sp);
		expect_bytes(desc, how, out, n, want, wlen);
	}
	for (size_t cap = 1; cap <= 7; cap++) {
		for (size_t step = 1; step <= 4; step++) {
			n = stream_run(kind, name, in, len, 0, step, cap, out);
			snprintf(how, sizeof how, "cap %zu step %zu", cap,
			    step);
			expect_bytes(desc, how, out, n, want, wlen);
		}
	}
}

/* ---------------------------------------------------------------- */
/* Content-Transfer-Encoding */

struct body_case {
	const char	*desc;
	const char	*cte;
	const char	*in;
	size_t		 inlen;
	const char	*want;
	size_t		 wantlen;
};

#define QP(d, i, w)	{ (d), "quoted-printable", S(i), S(w) }
#define B64(d, i, w)	{ (d), "base64", S(i), S(w) }
#define ID(d, c, i)	{ (d), (c), S(i), S(i) }

#define SP10	"          "
#define SP50	SP10 SP10 SP10 SP10 SP10
#define SP100	SP50 SP50

static const struct body_case body_cases[] = {
	QP("plain text", "Hello, world", "Hello, world"),
	QP("empty body", "", ""),
	QP("escapes", "=41=42=43", "ABC"),
	QP("lower-case hex accepted", "=4a=e9", "J\xe9"),
	QP("=3D is an equals sign", "a=3Db", "a=b"),
	QP("=00 gives NUL", "a=00b", "a\0b"),
	QP("8-bit octets pass", "caf\xe9", "caf\xe9"),
	QP("hard line break kept", "a\r\nb", "a\r\nb"),
	QP("LF line break kept", "a\nb", "a\nb"),
	QP("soft line break CRLF", "abc=\r\ndef", "abcdef"),
	QP("soft line break LF", "abc=\ndef", "abcdef"),
	QP("soft line break after white space", "abc=  \t\r\ndef",
	    "abcdef"),
	QP("space before a soft break kept", "a =\r\nb", "a b"),
	QP("trailing white space dropped", "abc \t \r\ndef",
	    "abc\r\ndef"),
	QP("trailing white space at the end dropped", "abc \t", "abc"),
	QP("inner white space kept", "a b\t c", "a b\t c"),
	QP("=20 at a line end is kept", "a=20\r\nb", "a \r\nb"),
	QP("soft break at the very end", "abc=\r\n", "abc"),
	QP("soft break as the last octets", "abc=\n", "abc"),
	QP("'=' CR at the end: soft break", "abc=\r", "abc"),
	QP("'=' CR then text: soft break", "abc=\rdef", "abcdef"),
	QP("many soft breaks", "a=\r\n=\r\n=\nb", "ab"),

	QP("invalid escape =ZZ kept", "a=ZZb", "a=ZZb"),
	QP("half escape =4Z kept", "a=4Zb", "a=4Zb"),
	QP("'=' at the end kept", "abc=", "abc="),
	QP("'=' hex at the end kept", "abc=4", "abc=4"),
	QP("'==41': first '=' kept", "==41", "=A"),
	QP("'=4=41': half escape then escape", "=4=41", "=4A"),
	QP("'=' space text: kept as is", "a= b", "a= b"),
	QP("'=' tabs text: kept as is", "a=\t\tb", "a=\t\tb"),
	QP("'=' space at the end", "a= ", "a="),
	QP("'=' then CR LF inside an escape", "=4\r\nx", "=4\r\nx"),
	QP("'=' then '=' then LF", "a==\nb", "a=b"),
	QP("white space held, then '='", "a  =41", "a  A"),
	QP("100 spaces then text: all kept", "a" SP100 "b", "a" SP100 "b"),
	QP("100 spaces then CRLF: the held part dropped",
	    "a" SP100 "\r\nb", "a" SP50 SP10 SP10 "      " "\r\nb"),
	QP("'=' and 100 spaces then text", "=" SP100 "x", "=" SP100 "x"),
	QP("name in capitals", "=41", "A"),
	{ "name in capitals, padded", " Quoted-Printable\t", S("=41"),
	    S("A") },

	B64("three octets", "QUJD", "ABC"),
	B64("padding ==", "QQ==", "A"),
	B64("padding =", "QUI=", "AB"),
	B64("all of the alphabet ends", "/+/+", "\xff\xef\xfe"),
	B64("zeros", "AAAA", "\0\0\0"),
	B64("empty", "", ""),
	B64("line breaks ignored", "QU\r\nJD\r\nRE\r\nVG", "ABCDEF"),
	B64("white space ignored", " Q U\tJ D ", "ABC"),
	{ "name in any case", "BASE64", S("QUJD"), S("ABC") },

	B64("garbage ignored", "Q!U@J#D$", "ABC"),
	B64("8-bit garbage ignored", "QU\xff\x80JD", "ABC"),
	B64("URL-safe alphabet is garbage", "-_-_QUJD", "ABC"),
	B64("missing padding, 2 left", "QUJDQQ", "ABCA"),
	B64("missing padding, 3 left", "QUJDQUI", "ABCAB"),
	B64("one character left: nothing", "QUJDQ", "ABC"),
	B64("'=' stops the data", "QQ==QUJD", "A"),
	B64("'=' at the start: nothing", "=QUJD", ""),
	B64("'=' after a full group", "QUJD=QUJD", "ABC"),
	B64("'=' after one character", "QUJDQ=QUJD", "ABC"),
	B64("trailing '=' run", "QUJD\n====\n", "ABC"),
	B64("NUL ignored", "QU\0JD", "ABC"),

	ID("7bit passes", "7bit", "a=41\r\n \xff"),
	ID("8bit passes", "8bit", "caf\xc3\xa9=\r\n"),
	ID("binary passes", "binary", "\0\1\2=ZZ"),
	ID("unknown passes", "x-uuencode", "begin 644 x"),
	ID("empty name passes", "", "QUJD=41"),
	ID("prefix of a name is unknown", "base6", "QUJD"),
	ID("longer name is unknown", "base64x", "QUJD"),
	ID("quoted-printabl is unknown", "quoted-printabl", "=41"),
};

static void
test_body(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof body_cases / sizeof body_cases[0];
	    i++) {
		const struct body_case *c = &body_cases[i];

		stream_check(K_BODY, c->desc, c->cte, c->in, c->inlen,
		    c->want, c->wantlen);
	}
}

static void
test_body_init(void **state)
{
	struct decode_body d;

	(void)state;
	assert_int_equal(decode_body_init(&d, S("base64")),
	    DECODE_CTE_BASE64);
	assert_int_equal(decode_body_init(&d, S("Base64")),
	    DECODE_CTE_BASE64);
	assert_int_equal(decode_body_init(&d, S("QUOTED-PRINTABLE")),
	    DECODE_CTE_QP);
	assert_int_equal(decode_body_init(&d, S("7bit")),
	    DECODE_CTE_IDENTITY);
	assert_int_equal(decode_body_init(&d, S("8BIT")),
	    DECODE_CTE_IDENTITY);
	assert_int_equal(decode_body_init(&d, S("binary")),
	    DECODE_CTE_IDENTITY);
	assert_int_equal(decode_body_init(&d, S("")),
	    DECODE_CTE_IDENTITY);
	assert_int_equal(decode_body_init(&d, S("x-gzip64")),
	    DECODE_CTE_IDENTITY);
	assert_int_equal(decode_body_init(&d, "base64junk", 6),
	    DECODE_CTE_BASE64);
}

/* A full output buffer holds what does not fit; nothing is lost. */
static void
test_body_small_cap(void **state)
{
	struct decode_body d;
	char out[4];
	size_t used, n;

	(void)state;
	decode_body_init(&d, S("base64"));
	n = decode_body_feed(&d, S("QUJD"), &used, out, 1);
	assert_int_equal(n, 1);
	assert_int_equal(used, 4);
	assert_int_equal(out[0], 'A');
	/* Held output goes first; the input waits. */
	n = decode_body_feed(&d, S("QUJD"), &used, out, 1);
	assert_int_equal(n, 1);
	assert_int_equal(used, 0);
	assert_int_equal(out[0], 'B');
	n = decode_body_feed(&d, S("QUJD"), &used, out, 4);
	assert_int_equal(n, 4);
	assert_int_equal(used, 4);
	assert_memory_equal(out, "CABC", 4);
	assert_int_equal(decode_body_end(&d, out, 4), 0);

	/* cap 0: nothing written, input only taken while nothing is
	 * held. */
	decode_body_init(&d, S("quoted-printable"));
	n = decode_body_feed(&d, S("ab"), &used, out, 0);
	assert_int_equal(n, 0);
	assert_int_equal(used, 1);
	n = decode_body_end(&d, out, 4);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 'a');

	/* The longest release of one octet: '=' and a full white space
	 * run, then the octet, into a 1-octet buffer. */
	decode_body_init(&d, S("quoted-printable"));
	{
		char in[1 + DECODE_QP_WS_MAX + 1];
		char all[sizeof in];
		size_t got = 0;

		in[0] = '=';
		memset(in + 1, ' ', DECODE_QP_WS_MAX);
		in[sizeof in - 1] = 'x';
		n = decode_body_feed(&d, in, sizeof in, &used, out, 1);
		assert_int_equal(used, sizeof in);
		memcpy(all, out, n);
		got = n;
		while ((n = decode_body_end(&d, out, 1)) > 0) {
			all[got++] = out[0];
		}
		assert_int_equal(got, sizeof in);
		assert_memory_equal(all, in, sizeof in);
	}
}

/* ---------------------------------------------------------------- */
/* Charsets */

struct cs_case {
	const char	*desc;
	const char	*cs;
	const char	*in;
	size_t		 inlen;
	const char	*want;
	size_t		 wantlen;
};

#define CS(d, c, i, w)	{ (d), (c), S(i), S(w) }
#define FFFD		"\xef\xbf\xbd"

static const struct cs_case cs_cases[] = {
	CS("utf-8 ASCII", "utf-8", "hello", "hello"),
	CS("utf-8 2, 3, 4 octets", "utf-8", "\xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
	CS("utf-8 largest code point", "UTF-8", "\xf4\x8f\xbf\xbf",
	    "\xf4\x8f\xbf\xbf"),
	CS("utf-8 last before surrogates", "utf-8", "\xed\x9f\xbf",
	    "\xed\x9f\xbf"),
	CS("utf-8 first after surrogates", "utf-8", "\xee\x80\x80",
	    "\xee\x80\x80"),
	CS("utf-8 NUL passes", "utf-8", "a\0b", "a\0b"),
	CS("utf8 alias", "utf8", "\xc3\xa9", "\xc3\xa9"),
	CS("us-ascii read as utf-8", "us-ascii", "caf\xc3\xa9", "caf\xc3\xa9"),
	CS("empty name is us-ascii", "", "a\xc3\xa9", "a\xc3\xa9"),
	CS("RFC 2231 language ignored", "utf-8*en", "\xc3\xa9", "\xc3\xa9"),

	CS("overlong 2-octet slash", "utf-8", "\xc0\xaf", FFFD FFFD),
	CS("overlong C1 lead", "utf-8", "\xc1\xbf", FFFD FFFD),
	CS("overlong 3-octet", "utf-8", "\xe0\x80\xaf", FFFD FFFD FFFD),
	CS("overlong 4-octet", "utf-8", "\xf0\x80\x80\xaf",
	    FFFD FFFD FFFD FFFD),
	CS("high surrogate", "utf-8", "\xed\xa0\x80", FFFD FFFD FFFD),
	CS("low surrogate", "utf-8", "\xed\xbf\xbf", FFFD FFFD FFFD),
	CS("surrogate pair (CESU-8)", "utf-8", "\xed\xa0\xbd\xed\xb8\x80",
	    FFFD FFFD FFFD FFFD FFFD FFFD),
	CS("past U+10FFFF", "utf-8", "\xf4\x90\x80\x80",
	    FFFD FFFD FFFD FFFD),
	CS("F5 lead", "utf-8", "\xf5\x80", FFFD FFFD),
	CS("FF and FE", "utf-8", "\xff\xfe", FFFD FFFD),
	CS("lone continuation", "utf-8", "a\x80z", "a" FFFD "z"),
	CS("truncated at the end: one U+FFFD", "utf-8", "a\xe2\x82",
	    "a" FFFD),
	CS("truncated 4-octet at the end", "utf-8", "\xf0\x9f\x98", FFFD),
	CS("truncated then ASCII", "utf-8", "\xe2\x82z", FFFD "z"),
	CS("truncated then a character", "utf-8", "\xf0\x9f\x98\xc3\xa9",
	    FFFD "\xc3\xa9"),
	CS("truncated then another lead", "utf-8", "\xe2\xf0\x9f\x98\x80",
	    FFFD "\xf0\x9f\x98\x80"),
	CS("truncated then invalid", "utf-8", "\xe2\xff", FFFD FFFD),
	CS("lead at the very end", "utf-8", "ab\xc3", "ab" FFFD),

	CS("latin1 letters", "iso-8859-1", "caf\xe9 \xc0\xff",
	    "caf\xc3\xa9 \xc3\x80\xc3\xbf"),
	CS("latin1 currency sign", "ISO-8859-1", "\xa4", "\xc2\xa4"),
	CS("latin1 0x92 read as cp1252", "iso-8859-1", "it\x92s",
	    "it\xe2\x80\x99s"),
	CS("latin1 aliases", "Latin1", "\xe9", "\xc3\xa9"),
	CS("iso_8859-1 alias", "iso_8859-1", "\xe9", "\xc3\xa9"),
	CS("latin1 NUL and ASCII", "l1", "a\0b", "a\0b"),
	CS("latin9 euro", "iso-8859-15", "\xa4", "\xe2\x82\xac"),
	CS("latin9 S caron, s caron", "iso-8859-15", "\xa6\xa8",
	    "\xc5\xa0\xc5\xa1"),
	CS("latin9 Z caron, z caron", "latin9", "\xb4\xb8",
	    "\xc5\xbd\xc5\xbe"),
	CS("latin9 OE, oe, Y diaeresis", "iso-8859-15", "\xbc\xbd\xbe",
	    "\xc5\x92\xc5\x93\xc5\xb8"),
	CS("latin9 e acute as latin1", "iso-8859-15", "\xe9", "\xc3\xa9"),
	CS("latin9 0x80 is a control", "iso-8859-15", "\x80", "\xc2\x80"),
	CS("cp1252 euro", "windows-1252", "\x80", "\xe2\x82\xac"),
	CS("cp1252 quotes", "cp1252", "\x93x\x94", "\xe2\x80\x9cx"
	    "\xe2\x80\x9d"),
	CS("cp1252 unassigned 0x81", "windows-1252", "\x81\x8d\x8f\x90\x9d",
	    "\xc2\x81\xc2\x8d\xc2\x8f\xc2\x90\xc2\x9d"),
	CS("cp1252 trade mark, Y diaeresis", "WINDOWS-1252", "\x99\x9f",
	    "\xe2\x84\xa2\xc5\xb8"),

	CS("unknown charset passes octets", "koi8-r", "\xc1\xc2", "\xc1\xc2"),
	CS("unknown passes invalid utf-8", "x-unknown", "\xc0\xaf",
	    "\xc0\xaf"),
	CS("prefix of a name is unknown", "utf-", "\xc0", "\xc0"),
	CS("latin1 with junk is unknown", "latin1x", "\xe9", "\xe9"),
};

static void
test_cs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cs_cases / sizeof cs_cases[0]; i++) {
		const struct cs_case *c = &cs_cases[i];

		stream_check(K_CS, c->desc, c->cs, c->in, c->inlen, c->want,
		    c->wantlen);
	}
}

static void
test_charset_names(void **state)
{
	(void)state;
	assert_int_equal(decode_charset(S("UTF-8")), DECODE_CS_UTF8);
	assert_int_equal(decode_charset(S("us-ascii")), DECODE_CS_UTF8);
	assert_int_equal(decode_charset(S("ANSI_X3.4-1968")), DECODE_CS_UTF8);
	assert_int_equal(decode_charset(S("")), DECODE_CS_UTF8);
	assert_int_equal(decode_charset(S(" utf-8 ")), DECODE_CS_UTF8);
	assert_int_equal(decode_charset(S("ISO-8859-1")), DECODE_CS_LATIN1);
	assert_int_equal(decode_charset(S("latin-1")), DECODE_CS_LATIN1);
	assert_int_equal(decode_charset(S("ISO-8859-15")), DECODE_CS_LATIN9);
	assert_int_equal(decode_charset(S("cp1252")), DECODE_CS_CP1252);
	assert_int_equal(decode_charset(S("Windows-1252")), DECODE_CS_CP1252);
	assert_int_equal(decode_charset(S("iso-8859-2")), DECODE_CS_RAW);
	assert_int_equal(decode_charset(S("shift_jis")), DECODE_CS_RAW);
	assert_int_equal(decode_charset(S("utf-16")), DECODE_CS_RAW);
	assert_int_equal(decode_charset(S("utf-8\0")), DECODE_CS_RAW);
	assert_int_equal(decode_charset("utf-8", 3), DECODE_CS_RAW);
	assert_int_equal(decode_charset(S("iso-8859-1*fr")), DECODE_CS_LATIN1);
}

/* ---------------------------------------------------------------- */
/* Encoded words */

struct hdr_case {
	const char	*desc;
	const char	*in;
	size_t		 inlen;
	const char	*want;
	size_t		 wantlen;
};

#define H(d, i, w)	{ (d), S(i), S(w) }

static const struct hdr_case word_cases[] = {
	H("plain text", "Hello world", "Hello world"),
	H("empty", "", ""),
	H("Q word", "=?utf-8?q?caf=C3=A9?=", "caf\xc3\xa9"),
	H("B word", "=?UTF-8?B?Y2Fmw6k=?=", "caf\xc3\xa9"),
	H("Q in capitals, lower-case hex", "=?UTF-8?Q?caf=c3=a9?=",
	    "caf\xc3\xa9"),
	H("latin1 word", "=?iso-8859-1?q?caf=E9?=", "caf\xc3\xa9"),
	H("cp1252 word", "=?windows-1252?Q?=80?=", "\xe2\x82\xac"),
	H("latin9 word", "=?ISO-8859-15?B?pA==?=", "\xe2\x82\xac"),
	H("underscore is space", "=?utf-8?q?a_b?=", "a b"),
	H("=5F is an underscore", "=?utf-8?q?a=5Fb?=", "a_b"),
	H("space between words dropped", "=?utf-8?q?a?= =?utf-8?q?b?=",
	    "ab"),
	H("folding between words dropped",
	    "=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab"),
	H("tabs and spaces between words dropped",
	    "=?utf-8?q?a?= \t  =?utf-8?q?b?=", "ab"),
	H("adjacent words without space", "=?utf-8?q?a?==?utf-8?q?b?=",
	    "ab"),
	H("words of different charsets joined",
	    "=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", "\xc3\xa9\xc3\xa9"),
	H("word then text keeps the space", "=?utf-8?q?a?= b", "a b"),
	H("text then word keeps the space", "a =?utf-8?q?b?=", "a b"),
	H("word inside text", "foo=?utf-8?q?bar?=baz", "foobarbaz"),
	H("character split across words", "=?utf-8?b?4oI=?= =?utf-8?b?rA==?=",
	    "\xe2\x82\xac"),
	H("character split across Q words",
	    "=?utf-8?q?=E2?= =?UTF-8?q?=82=AC?=", "\xe2\x82\xac"),
	H("RFC 2231 language", "=?utf-8*en?q?hi?=", "hi"),
	H("empty text", "=?utf-8?q?\?=", ""),
	H("unfolding", "a\r\n b\r\n\tc", "a b\tc"),
	H("LF-only unfolding", "a\n b", "a b"),
	H("raw UTF-8 kept", "caf\xc3\xa9", "caf\xc3\xa9"),
	H("raw 8-bit kept", "caf\xe9", "caf\xe9"),
	H("RFC 2047 example", "(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)",
	    "(ab)"),
	H("RFC 2047 example, folded", "(=?ISO-8859-1?Q?a?=\r\n    "
	    "=?ISO-8859-1?Q?b?=)", "(ab)"),
	H("B without padding", "=?utf-8?b?YWI?=", "ab"),

	H("unknown charset: octets as decoded",
	    "=?x-unknown?q?=E9t=E9?=", "\xe9t\xe9"),
	H("unknown charset B", "=?koi8-r?b?wcI=?=", "\xc1\xc2"),
	H("truncated word is literal", "=?utf-8?q?abc", "=?utf-8?q?abc"),
	H("truncated right after Q", "=?utf-8?q?", "=?utf-8?q?"),
	H("truncated after charset", "=?utf-8?", "=?utf-8?"),
	H("just =?", "=?", "=?"),
	H("'?' without '='", "=?utf-8?q?abc?", "=?utf-8?q?abc?"),
	H("bad encoding letter", "=?utf-8?x?abc?=", "=?utf-8?x?abc?="),
	H("two-letter encoding", "=?utf-8?qq?abc?=", "=?utf-8?qq?abc?="),
	H("space in text", "=?utf-8?q?a b?=", "=?utf-8?q?a b?="),
	H("'?' in text", "=?utf-8?q?a?b?=", "=?utf-8?q?a?b?="),
	H("empty charset", "=??q?a?=", "=??q?a?="),
	H("space in charset", "=?utf 8?q?a?=", "=?utf 8?q?a?="),
	H("control in text", "=?utf-8?q?a\x01?=", "=?utf-8?q?a\x01?="),
	H("charset too long",
	    "=?xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx?q?a?=",
	    "=?xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx?q?a?="),
	H("charset of DECODE_CHARSET_MAX",
	    "=?xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx?q?a?=", "a"),
	H("invalid Q escape kept", "=?utf-8?q?=ZZ?=", "=ZZ"),
	H("Q '=' at the end kept", "=?utf-8?q?a=?=", "a="),
	H("Q half escape at the end", "=?utf-8?q?a=4?=", "a=4"),
	H("B garbage ignored", "=?utf-8?b?Y*W!I=?=", "ab"),
	H("B all garbage", "=?utf-8?b?!!!?=", ""),
	H("overlong UTF-8 in a word", "=?utf-8?b?wK8=?=", FFFD FFFD),
	H("surrogate in a word", "=?utf-8?q?=ED=A0=80?=", FFFD FFFD FFFD),
	H("unfinished character then text", "=?utf-8?q?=E2?=x", FFFD "x"),
	H("unfinished character at the end", "=?utf-8?q?a=E2=82?=",
	    "a" FFFD),
	H("unfinished, then another charset",
	    "=?utf-8?q?=E2?= =?iso-8859-1?q?x?=", FFFD "x"),
	H("space before a malformed word kept",
	    "=?utf-8?q?a?= =?bad", "a =?bad"),
	H("malformed then good", "=?utf-8?q?a b?= =?utf-8?q?c?=",
	    "=?utf-8?q?a b?= c"),
	H("'=?' inside a good word's text",
	    "=?utf-8?q?=3D=3F?=", "=?"),
	H("invalid UTF-8 in literal text kept", "\xc0\xaf", "\xc0\xaf"),
	H("NUL in text kept", "a\0b", "a\0b"),
};

static void
test_header(void **state)
{
	static char out[OUT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof word_cases / sizeof word_cases[0]; i++) {
		const struct hdr_case *c = &word_cases[i];
		char *in = dup_exact(c->in, c->inlen);
		size_t n;

		n = decode_header(in, c->inlen, out, sizeof out);
		expect_bytes(c->desc, "decode", out, n, c->want, c->wantlen);
		/* A smaller cap gives a prefix, never past the cap. */
		for (size_t cap = 0; cap < c->wantlen; cap++) {
			char *small = malloc(cap > 0 ? cap : 1);
			size_t k = decode_header(in, c->inlen, small, cap);

			assert_non_null(small);
			assert_true(k <= cap);
			if (memcmp(small, c->want, k) != 0) {
				fail_msg("%s: cap %zu not a prefix", c->desc,
				    cap);
			}
			free(small);
		}
		free(in);
	}
}

static void
test_header_cut(void **state)
{
	char out[16];

	(void)state;
	/* The cut does not split a character. */
	assert_int_equal(decode_header(S("caf\xc3\xa9"), out, 4), 3);
	assert_int_equal(decode_header(S("=?utf-8?q?caf=C3=A9?="), out, 4),
	    3);
	assert_int_equal(decode_header(S("=?utf-8?q?=E2=82=AC?="), out, 2),
	    0);
	assert_int_equal(decode_header(S("=?utf-8?q?=E2=82=AC?="), out, 3),
	    3);
	assert_int_equal(decode_header(S("\xf0\x9f\x98\x80x"), out, 4), 4);
	assert_int_equal(decode_header(S("\xf0\x9f\x98\x80x"), out, 3), 0);
	assert_int_equal(decode_header(S("abc"), out, 0), 0);
	assert_int_equal(decode_header(S("abc"), NULL, 0), 0);
}

static void
test_unfold(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(decode_unfold(S("a\r\n b"), out, sizeof out), 3);
	assert_memory_equal(out, "a b", 3);
	assert_int_equal(decode_unfold(S("a\n\tb\r\n c"), out, sizeof out), 5);
	assert_memory_equal(out, "a\tb c", 5);
	assert_int_equal(decode_unfold(S("\r\n"), out, sizeof out), 0);
	assert_int_equal(decode_unfold(S("abc"), out, 2), 2);
	assert_memory_equal(out, "ab", 2);
	assert_int_equal(decode_unfold(S("a\rb"), out, sizeof out), 2);
	assert_int_equal(decode_unfold(S(""), out, sizeof out), 0);
}

/* ---------------------------------------------------------------- */
/* Header walker */

struct walk_case {
	const char	*desc;
	struct text	 in;
	int		 finish;	/* decode_hdr_finish at the end */
	const char	*want;		/* "name|value\n"... "END n" */
};

#define W(d, i, w)		{ (d), T(i), 0, (w) }
#define WN(d, i, w)		{ (d), TN(i), 0, (w) }
#define WF(d, i, w)		{ (d), T(i), 1, (w) }
#define WL(d, h, f, n, t, w)	{ (d), TF(h, f, n, t), 0, (w) }

static const struct walk_case walk_cases[] = {
	W("two fields and a body", "From: a\r\nTo: b\r\n\r\nbody",
	    "From|a\nTo|b\nEND 18"),
	W("LF line ends", "From: a\nTo: b\n\nbody", "From|a\nTo|b\nEND 15"),
	W("folded value", "Subject: a\r\n b\r\n\tc\r\n\r\n",
	    "Subject|a b\tc\nEND 22"),
	W("empty value", "X:\r\n\r\n", "X|\nEND 6"),
	W("value on the next line", "Subject:\r\n  hello\r\n\r\n",
	    "Subject|hello\nEND 21"),
	W("no space after the colon", "A:b\n\n", "A|b\nEND 5"),
	W("trailing white space dropped", "A: b \t\r\n\r\n", "A|b\nEND 10"),
	W("white space before the colon", "Subject \t: x\n\n",
	    "Subject|x\nEND 14"),
	W("colon in the value", "A: b: c\n\n", "A|b: c\nEND 9"),
	W("name case kept", "sUbJeCt: x\n\n", "sUbJeCt|x\nEND 12"),
	W("white-space-only continuation", "A: b\n \n\nbody",
	    "A|b\nEND 8"),
	W("empty header", "\r\nbody", "END 2"),
	W("empty header, LF", "\nbody", "END 1"),
	W("CR dropped in a value", "A: b\rc\n\n", "A|bc\nEND 8"),
	W("CR CR LF", "A: b\r\r\n\r\n", "A|b\nEND 9"),
	WN("NUL in a value kept", "A: b\0c\n\n", "A|b\0c\nEND 8"),
	W("8-bit in a value kept", "A: caf\xc3\xa9\n\n",
	    "A|caf\xc3\xa9\nEND 10"),
	W("encoded word not decoded", "Subject: =?utf-8?q?a?=\n\n",
	    "Subject|=?utf-8?q?a?=\nEND 24"),
	WF("no empty line: finish ends it", "A: b\nC: d",
	    "A|b\nC|d\nEND"),
	WF("finish after a line end", "A: b\n", "A|b\nEND"),
	WF("nothing at all", "", "END"),
	WL("128-octet name is a field", "", "n", 128, ": v\n\n",
	    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    "|v\nEND 133"),

	W("line without a colon skipped", "garbage\r\nA: b\r\n\r\n",
	    "A|b\nEND 17"),
	W("mbox From line skipped",
	    "From a@b Mon Jan  1 00:00:00 2024\nA: b\n\n", "A|b\nEND 40"),
	W("continuation first skipped", " x: y\r\nA: b\r\n\r\n",
	    "A|b\nEND 15"),
	W("continuation of a skipped line skipped",
	    "bad line\r\n cont: x\r\nA: b\r\n\r\n", "A|b\nEND 28"),
	W("space inside a name skipped", "Sub ject: x\nA: b\n\n",
	    "A|b\nEND 18"),
	W("8-bit name skipped", "S\xc3\xbc: x\nA: b\n\n", "A|b\nEND 13"),
	W("control in a name skipped", "S\x01: x\nA: b\n\n", "A|b\nEND 12"),
	W("line starting with a colon skipped", ": x\nA: b\n\n",
	    "A|b\nEND 10"),
	WF("name at the end without colon", "A: b\nXYZ", "A|b\nEND"),
	WL("129-octet name skipped", "", "n", 129, ": v\nA: b\n\n",
	    "A|b\nEND 139"),
	WL("value of DECODE_HEADER_MAX", "A: ", "v", DECODE_HEADER_MAX,
	    "\n\n", NULL),
	WL("value longer than DECODE_HEADER_MAX is cut", "A: ", "v",
	    DECODE_HEADER_MAX + 100, "\n\n", NULL),
	WL("long value folded many times", "A: ", "v\r\n ", 3000, "\n\n",
	    NULL),
};

/* Writes the events of walking in[0..len) in chunks of step (0: every
 * split at sp) as text into out. */
static size_t
walk_run(const char *in, size_t len, size_t sp, size_t step, int finish,
    char *out, size_t cap)
{
	static struct decode_hdr h;
	struct decode_field f;
	size_t off = 0, n = 0, stall = 0;
	int ev, ended = 0;

	decode_hdr_init(&h);
	while (off < len && !ended) {
		size_t clen = sp > 0 && off == 0 ? sp : step;
		size_t used;
		char *chunk;

		if (clen > len - off) {
			clen = len - off;
		}
		chunk = dup_exact(in + off, clen);
		used = decode_hdr_feed(&h, chunk, clen);
		free(chunk);
		assert_true(used <= clen);
		off += used;
		stall = used == 0 ? stall + 1 : 0;
		while ((ev = decode_hdr_next(&h, &f)) != DECODE_HDR_NONE) {
			stall = 0;
			if (ev == DECODE_HDR_END) {
				n += (size_t)snprintf(out + n, cap - n,
				    "END %zu", off);
				ended = 1;
				continue;
			}
			assert_int_equal(ev, DECODE_HDR_FIELD);
			assert_true(n + f.name_len + f.value_len + 8 < cap);
			memcpy(out + n, f.name, f.name_len);
			n += f.name_len;
			out[n++] = '|';
			memcpy(out + n, f.value, f.value_len);
			n += f.value_len;
			if (f.cut) {
				memcpy(out + n, "|cut", 4);
				n += 4;
			}
			out[n++] = '\n';
		}
		assert_true(stall < 2);
	}
	if (ended) {
		/* Nothing is consumed after the empty line. */
		assert_int_equal(decode_hdr_feed(&h, "x", 1), 0);
		assert_int_equal(decode_hdr_next(&h, &f), DECODE_HDR_NONE);
	}
	if (finish) {
		decode_hdr_finish(&h);
		while ((ev = decode_hdr_next(&h, &f)) != DECODE_HDR_NONE) {
			if (ev == DECODE_HDR_END) {
				n += (size_t)snprintf(out + n, cap - n, "END");
				continue;
			}
			assert_true(n + f.name_len + f.value_len + 2 < cap);
			memcpy(out + n, f.name, f.name_len);
			n += f.name_len;
			out[n++] = '|';
			memcpy(out + n, f.value, f.value_len);
			n += f.value_len;
			out[n++] = '\n';
		}
	}
	return n;
}

static void
test_walk(void **state)
{
	static char want[3 * DECODE_HEADER_MAX], out[3 * DECODE_HEADER_MAX];
	char how[64];

	(void)state;
	for (size_t i = 0; i < sizeof walk_cases / sizeof walk_cases[0]; i++) {
		const struct walk_case *c = &walk_cases[i];
		size_t len, fl, wl, n;
		char *in = build(&c->in, &len);

		fl = c->in.fill != NULL ? strlen(c->in.fill) : 0;
		if (c->want != NULL) {
			wl = strlen(c->want);
			memcpy(want, c->want, wl);
			/* A want with NUL: the table string stops there. */
			if (strcmp(c->desc, "NUL in a value kept") == 0) {
				memcpy(want, "A|b\0c\nEND 8", 11);
				wl = 11;
			}
		} else {
			/* A long value: v repeated, cut if too long. */
			size_t vl = c->in.nfill;
			int cut = 0;

			if (strcmp(c->in.fill, "v\r\n ") == 0) {
				vl = 2 * c->in.nfill;
			}
			if (vl > DECODE_HEADER_MAX) {
				vl = DECODE_HEADER_MAX;
				cut = 1;
			}
			memcpy(want, "A|", 2);
			for (size_t k = 0; k < vl; k++) {
				want[2 + k] = k % 2 == 1 && fl > 1 ? ' ' : 'v';
			}
			wl = 2 + vl;
			if (fl > 1 && !cut) {
				wl--;	/* the last space is trailing */
			}
			wl += (size_t)snprintf(want + wl, sizeof want - wl,
			    "%s\nEND %zu", cut ? "|cut" : "", len);
		}
		n = walk_run(in, len, 0, len > 0 ? len : 1, c->finish, out,
		    sizeof out);
		expect_bytes(c->desc, "whole", out, n, want, wl);
		n = walk_run(in, len, 0, 1, c->finish, out, sizeof out);
		expect_bytes(c->desc, "byte by byte", out, n, want, wl);
		for (size_t sp = 1; sp < len && len < 1000; sp++) {
			n = walk_run(in, len, sp, len, c->finish, out,
			    sizeof out);
			snprintf(how, sizeof how, "split at %zu", sp);
			expect_bytes(c->desc, how, out, n, want, wl);
		}
		n = walk_run(in, len, 0, 7, c->finish, out, sizeof out);
		expect_bytes(c->desc, "step 7", out, n, want, wl);
		free(in);
	}
}

/* ---------------------------------------------------------------- */
/* Date: */

struct date_case {
	const char	*desc;
	const char	*in;
	int		 ok;
	int64_t		 t;
	int		 y, m, d;
	int		 zone;
};

#define DOK(d, i, t, y, m, dd, z)	\
	{ (d), (i), 1, (t), (y), (m), (dd), (z) }
#define DBAD(d, i)			{ (d), (i), 0, 0, 0, 0, 0, 0 }

static const struct date_case date_cases[] = {
	DOK("what msg_date writes", "Thu, 26 Nov 2026 01:09:29 +0000",
	    1795655369, 2026, 11, 26, 0),
	DOK("positive zone", "Tue, 1 Jul 2003 10:52:37 +0200",
	    1057049557, 2003, 7, 1, 120),
	DOK("two-digit day", "Tue, 01 Jul 2003 10:52:37 +0200",
	    1057049557, 2003, 7, 1, 120),
	DOK("no day of week", "1 Jul 2003 10:52:37 +0200",
	    1057049557, 2003, 7, 1, 120),
	DOK("zone comment", "Tue, 1 Jul 2003 10:52:37 +0200 (CEST)",
	    1057049557, 2003, 7, 1, 120),
	DOK("no seconds", "Tue, 1 Jul 2003 10:52 +0200",
	    1057049520, 2003, 7, 1, 120),
	DOK("date as written, not as UTC", "Mon, 31 Dec 2012 23:30:00 -0800",
	    1357025400, 2012, 12, 31, -480),
	DOK("half-hour zone", "1 Jul 2003 10:52:37 +0530",
	    1057036957, 2003, 7, 1, 330),
	DOK("-0000", "1 Jul 2003 10:52:37 -0000", 1057056757, 2003, 7, 1, 0),
	DOK("GMT", "Tue, 01 Jul 2003 10:52:37 GMT", 1057056757, 2003, 7, 1,
	    0),
	DOK("UT", "1 Jul 2003 10:52:37 UT", 1057056757, 2003, 7, 1, 0),
	DOK("EST", "1 Jul 2003 10:52:37 EST", 1057074757, 2003, 7, 1, -300),
	DOK("EDT", "1 Jul 2003 10:52:37 EDT", 1057071157, 2003, 7, 1, -240),
	DOK("CST", "1 Jul 2003 10:52:37 cst", 1057078357, 2003, 7, 1, -360),
	DOK("MDT", "1 Jul 2003 10:52:37 MDT", 1057078357, 2003, 7, 1, -360),
	DOK("PST", "1 Jul 2003 10:52:37 PST", 1057085557, 2003, 7, 1, -480),
	DOK("PDT", "1 Jul 2003 10:52:37 PDT", 1057081957, 2003, 7, 1, -420),
	DOK("military Z", "1 Jul 2003 10:52:37 Z", 1057056757, 2003, 7, 1, 0),
	DOK("military A is -0000", "1 Jul 2003 10:52:37 A", 1057056757, 2003,
	    7, 1, 0),
	DOK("unknown zone name is -0000", "1 Jul 2003 10:52:37 CEST",
	    1057056757, 2003, 7, 1, 0),
	DOK("no zone", "1 Jul 2003 10:52:37", 1057056757, 2003, 7, 1, 0),
	DOK("no time", "Tue, 1 Jul 2003", 1057017600, 2003, 7, 1, 0),
	DOK("unreadable offset is -0000", "1 Jul 2003 10:52:37 +02:00",
	    1057056757, 2003, 7, 1, 0),
	DOK("offset minutes over 59 is -0000", "1 Jul 2003 10:52:37 +0299",
	    1057056757, 2003, 7, 1, 0),
	DOK("two-digit year 03", "1 Jul 03 10:52:37 +0000", 1057056757, 2003,
	    7, 1, 0),
	DOK("two-digit year 49", "1 Jul 49 00:00:00 +0000", 2508710400LL,
	    2049, 7, 1, 0),
	DOK("two-digit year 99", "1 Jul 99 00:00:00 +0000", 930787200, 1999,
	    7, 1, 0),
	DOK("two-digit year 50", "1 Jan 50 00:00:00 +0000", -631152000LL,
	    1950, 1, 1, 0),
	DOK("three-digit year", "1 Jul 103 10:52:37 +0000", 1057056757, 2003,
	    7, 1, 0),
	DOK("full names", "Tuesday, 1 July 2003 10:52:37 +0200",
	    1057049557, 2003, 7, 1, 120),
	DOK("lower case", "tue, 1 jul 2003 10:52:37 +0200",
	    1057049557, 2003, 7, 1, 120),
	DOK("upper case", "TUE, 1 JUL 2003 10:52:37 +0200",
	    1057049557, 2003, 7, 1, 120),
	DOK("no comma", "Tue 1 Jul 2003 10:52:37 +0200",
	    1057049557, 2003, 7, 1, 120),
	DOK("comments everywhere",
	    "(c)Tue(x),(y) 1 (a(b)c) Jul (z) 2003 10 : 52 : 37 +0200 (CEST)",
	    1057049557, 2003, 7, 1, 120),
	DOK("folded", "Tue,\r\n 1 Jul 2003\r\n 10:52:37\r\n +0200",
	    1057049557, 2003, 7, 1, 120),
	DOK("leading white space", "  \tTue, 1 Jul 2003 10:52:37 +0200",
	    1057049557, 2003, 7, 1, 120),
	DOK("dashes between date parts", "1-Jul-2003 10:52:37 +0200",
	    1057049557, 2003, 7, 1, 120),
	DOK("trailing text ignored", "1 Jul 2003 10:52:37 +0200 foo bar",
	    1057049557, 2003, 7, 1, 120),
	DOK("leap second", "31 Dec 2016 23:59:60 +0000", 1483228800, 2016,
	    12, 31, 0),
	DOK("29 Feb of a leap year", "29 Feb 2004 12:00:00 +0000",
	    1078056000, 2004, 2, 29, 0),
	DOK("29 Feb 2000", "29 Feb 2000 00:00:00 +0000", 951782400, 2000, 2,
	    29, 0),
	DOK("before 1970", "31 Dec 1969 23:59:59 +0000", -1, 1969, 12, 31,
	    0),
	DOK("year 9999", "31 Dec 9999 23:59:59 +0000", 253402300799LL, 9999,
	    12, 31, 0),
	DOK("past 2038 (32-bit time_t)", "19 Jan 2038 03:14:08 +0000",
	    2147483648LL, 2038, 1, 19, 0),
	DOK("one-digit hour", "1 Jul 2003 1:02:03 +0000", 1057021323, 2003,
	    7, 1, 0),

	DBAD("empty", ""),
	DBAD("white space only", "  \r\n "),
	DBAD("garbage", "garbage"),
	DBAD("unknown day name", "Foo, 1 Jul 2003 10:52:37 +0000"),
	DBAD("day name only", "Tue,"),
	DBAD("unknown month", "1 Jux 2003 10:52:37 +0000"),
	DBAD("month as a number", "1 7 2003 10:52:37 +0000"),
	DBAD("two-letter month", "1 Ju 2003 10:52:37 +0000"),
	DBAD("month with junk", "1 Julyx 2003 10:52:37 +0000"),
	DBAD("day 0", "0 Jul 2003 10:52:37 +0000"),
	DBAD("day 32", "32 Jul 2003 10:52:37 +0000"),
	DBAD("three-digit day", "123 Jul 2003 10:52:37 +0000"),
	DBAD("31 April", "31 Apr 2003 10:52:37 +0000"),
	DBAD("29 Feb 1900", "29 Feb 1900 10:52:37 +0000"),
	DBAD("29 Feb 2003", "29 Feb 2003 10:52:37 +0000"),
	DBAD("no year", "1 Jul 10:52:37 +0000"),
	DBAD("one-digit year", "1 Jul 3 10:52:37 +0000"),
	DBAD("five-digit year", "1 Jul 12345 10:52:37 +0000"),
	DBAD("very long year", "1 Jul 1234567890123 10:52:37 +0000"),
	DBAD("hour 24", "1 Jul 2003 24:00:00 +0000"),
	DBAD("minute 60", "1 Jul 2003 10:60:00 +0000"),
	DBAD("second 61", "1 Jul 2003 10:52:61 +0000"),
	DBAD("three-digit hour", "1 Jul 2003 123:00 +0000"),
	DBAD("hour without minutes", "1 Jul 2003 10 +0000"),
	DBAD("colon without minutes", "1 Jul 2003 10: +0000"),
	DBAD("second colon without seconds", "1 Jul 2003 10:52: +0000"),
	DBAD("asctime form", "Tue Jul  1 10:52:37 2003"),
	DBAD("ISO 8601", "2003-07-01T10:52:37Z"),
	DBAD("unclosed comment eats the date", "(Tue, 1 Jul 2003"),
	DBAD("day only", "1"),
	DBAD("day and month only", "1 Jul"),
};

static void
test_date(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof date_cases / sizeof date_cases[0]; i++) {
		const struct date_case *c = &date_cases[i];
		size_t len = strlen(c->in);
		char *in = dup_exact(c->in, len);
		struct decode_date d;
		int rc;

		rc = decode_date(in, len, &d);
		free(in);
		if (!c->ok) {
			if (rc != -1) {
				fail_msg("%s: parsed, want -1", c->desc);
			}
			continue;
		}
		if (rc != 0) {
			fail_msg("%s: -1, want a date", c->desc);
		}
		if (d.t != c->t || d.year != c->y || d.mon != c->m ||
		    d.day != c->d || d.zone != c->zone) {
			fail_msg("%s: t %lld %d-%d-%d zone %d, want %lld "
			    "%d-%d-%d zone %d", c->desc, (long long)d.t,
			    d.year, d.mon, d.day, d.zone, (long long)c->t,
			    c->y, c->m, c->d, c->zone);
		}
		assert_int_equal(d.days, decode_days(c->y, c->m, c->d));
	}
}

static void
test_days(void **state)
{
	(void)state;
	assert_int_equal(decode_days(1970, 1, 1), 0);
	assert_int_equal(decode_days(1969, 12, 31), -1);
	assert_int_equal(decode_days(2000, 3, 1), 11017);
	assert_int_equal(decode_days(2000, 2, 29), 11016);
	assert_int_equal(decode_days(2038, 1, 19), 24855);
	assert_int_equal(decode_days(1900, 3, 1), -25508);
	assert_int_equal(decode_days(9999, 12, 31), 2932896);
	/* Every day from 1900 to 2100 follows the one before. */
	for (int y = 1900, prev = decode_days(1899, 12, 31); y <= 2100; y++) {
		for (int m = 1; m <= 12; m++) {
			static const int ml[12] = { 31, 28, 31, 30, 31, 30, 31,
			    31, 30, 31, 30, 31 };
			int n = ml[m - 1] + (m == 2 && y % 4 == 0 &&
			    (y % 100 != 0 || y % 400 == 0));

			for (int d = 1; d <= n; d++) {
				assert_int_equal(decode_days(y, m, d),
				    prev + 1);
				prev++;
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_body_init),
		cmocka_unit_test(test_body_small_cap),
		cmocka_unit_test(test_cs),
		cmocka_unit_test(test_charset_names),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_header_cut),
		cmocka_unit_test(test_unfold),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_days),
	};

	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
