/* SPDX-License-Identifier: ISC */
/*
 * test_inflate.c - raw DEFLATE decoding (compress/inflate.h): stored,
 * fixed and dynamic blocks made by zlib, a single one-bit distance
 * code, the longest distance and length, and hostile streams (the
 * same errors as zlib's inflate gives them), each fed whole, one byte
 * at a time and with one byte of output room at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compress/inflate.h"

struct inf_case {
	const char		*desc;
	const unsigned char	*in;
	size_t			 len;
	enum zinf_err		 err;
	const char		*out;	/* expected output (GOOD) */
	size_t			 out_len;
	int			 done;	/* final block seen */
};

#define B(...)	(const unsigned char[]){ __VA_ARGS__ }, \
		sizeof((const unsigned char[]){ __VA_ARGS__ })
#define GOOD(d, in, out, done)	{ (d), in, ZINF_OK, (out), \
				    sizeof(out) - 1, (done) }
#define BAD(d, in, e)		{ (d), in, (e), NULL, 0, 0 }

static const char dyn_text[] =
	    "tdrealsudelestrte srrsouetuehoe eedetetslo iodneaeeeset iuti"
	    "hodardidta etl  e ardde ueudtteesuseaeieetiieelleo darthtete"
	    "eelreeitlte eaaaeoonhoul relhtiu ttithtraeidaeoldueeuuana al"
	    " tsede eatuntdlaeaea";

static const struct inf_case cases[] = {
	GOOD("empty final stored block", B(0x01, 0x00, 0x00, 0xff, 0xff),
	    "", 1),
	GOOD("stored \"abc\"", B(0x01, 0x03, 0x00, 0xfc, 0xff, 0x61, 0x62,
	    0x63), "abc", 1),
	GOOD("fixed codes, matches (zlib level 1, Z_FIXED)",
	    B(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0xf0, 0x40, 0xa2,
	    0x14, 0x01), "Hello, Hello, Hello!", 1),
	GOOD("two sync flushes, no final block (RFC 4978 traffic)",
	    B(0x4a, 0x34, 0x54, 0xf0, 0xf3, 0xf7, 0x0f, 0xe0, 0xe5, 0x02,
	    0x00, 0x00, 0x00, 0xff, 0xff, 0x4a, 0x34, 0x52, 0xf0, 0xf1,
	    0x77, 0xf7, 0x0f, 0x0d, 0xe1, 0xe5, 0x02, 0x00, 0x00, 0x00,
	    0xff, 0xff), "a1 NOOP\r\na2 LOGOUT\r\n", 0),
	GOOD("a single one-bit distance code (incomplete, allowed)",
	    B(0x0d, 0xc0, 0x81, 0x00, 0x00, 0x00, 0x00, 0x80, 0x20, 0xd6,
	    0xfd, 0x25, 0xae, 0x18), "aaaa", 1),
	GOOD("empty input", B(0), "", 0),
	GOOD("a final stored block cut in its data (truncated stream)",
	    B(0x01, 0x03, 0x00, 0xfc, 0xff, 0x61), "a", 0),
	BAD("block type 3", B(0x07), ZINF_E_BTYPE),
	BAD("block type 3 after a good block",
	    B(0x00, 0x00, 0x00, 0xff, 0xff, 0x07), ZINF_E_BTYPE),
	BAD("stored: NLEN is not the complement of LEN",
	    B(0x01, 0x03, 0x00, 0x00, 0x00, 0x61, 0x62, 0x63),
	    ZINF_E_STORED),
	BAD("dynamic: HLIT 287 (over 286)",
	    B(0xf5, 0x00, 0x00, 0x00),
	    ZINF_E_COUNTS),
	BAD("dynamic: HDIST 31 (over 30)",
	    B(0x05, 0x1e, 0x00, 0x00),
	    ZINF_E_COUNTS),
	BAD("code length code over-subscribed (4 one-bit codes)",
	    B(0x05, 0x00, 0x92, 0x04),
	    ZINF_E_CODE),
	BAD("code length code incomplete (one one-bit code)",
	    B(0x05, 0x00, 0x00, 0x04),
	    ZINF_E_CODE),
	BAD("repeat-previous (16) with no previous length",
	    B(0x05, 0x00, 0x12, 0x00),
	    ZINF_E_REPEAT),
	BAD("zero runs (18) past HLIT + HDIST",
	    B(0x05, 0x00, 0x90, 0xe0, 0xff, 0x1f),
	    ZINF_E_REPEAT),
	BAD("every length zero: no end-of-block code",
	    B(0x05, 0x00, 0x90, 0xe0, 0x7f, 0x1b),
	    ZINF_E_NO_EOB),
	BAD("literal/length code over-subscribed (258 one-bit codes)",
	    B(0x05, 0xc0, 0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00),
	    ZINF_E_CODE),
	BAD("literal/length code incomplete (one 2-bit code)",
	    B(0x05, 0x80, 0x01, 0x09, 0x00, 0x00, 0x00, 0x40, 0xfe, 0xbf, 0x16),
	    ZINF_E_CODE),
	BAD("fixed: a match before any output",
	    B(0x03, 0x02),
	    ZINF_E_DIST),
	BAD("fixed: distance 2 after one byte",
	    B(0x4b, 0x04, 0x42),
	    ZINF_E_DIST),
	BAD("fixed: length symbol 286",
	    B(0x1b, 0x03),
	    ZINF_E_SYMBOL),
	BAD("fixed: distance symbol 30",
	    B(0x4b, 0x04, 0x3e),
	    ZINF_E_SYMBOL),

	BAD("bytes after the final block", B(0x01, 0x00, 0x00, 0xff, 0xff,
	    0x00), ZINF_E_AFTER_END),
};

/* Runs one case with `chunk` input bytes and `room` output bytes per
 * call; returns the output length, sets *err and *done. */
static size_t
run(const struct inf_case *c, size_t chunk, size_t room,
    unsigned char *out, size_t cap, enum zinf_err *err, int *done)
{
	static struct zinf z;
	unsigned char *in = malloc(c->len ? c->len : 1);
	size_t i = 0, o = 0, stall = 0;

	assert_non_null(in);
	memcpy(in, c->in, c->len);
	zinf_init(&z);
	while (z.err == ZINF_OK && stall < 4) {
		size_t n = c->len - i < chunk ? c->len - i : chunk;
		size_t r = cap - o < room ? cap - o : room, p = 0;
		size_t used = zinf_run(&z, in + i, n, out + o, r, &p);

		/* All the input is taken unless the output is full. */
		if (z.err == ZINF_OK && !z.full) {
			assert_int_equal(used, n);
		}
		i += used;
		o += p;
		stall = used == 0 && p == 0 ? stall + 1 : 0;
	}
	*err = z.err;
	*done = zinf_done(&z);
	free(in);
	return o;
}

static void
check(size_t chunk, size_t room)
{
	static unsigned char out[4096];

	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		const struct inf_case *c = &cases[k];
		enum zinf_err err;
		int done;
		size_t n = run(c, chunk, room, out, sizeof out, &err, &done);

		if (err != c->err) {
			fail_msg("%s (chunk %zu, room %zu): %s, want %s",
			    c->desc, chunk, room, zinf_strerror(err),
			    zinf_strerror(c->err));
		}
		if (c->err == ZINF_OK) {
			if (n != c->out_len || memcmp(out, c->out, n) != 0) {
				fail_msg("%s: wrong output (%zu bytes)",
				    c->desc, n);
			}
			assert_int_equal(done, c->done);
		}
	}
}

static void
test_whole(void **state)
{
	(void)state;
	check(SIZE_MAX, SIZE_MAX);
}

static void
test_byte_at_a_time(void **state)
{
	(void)state;
	check(1, SIZE_MAX);
}

static void
test_one_byte_of_room(void **state)
{
	(void)state;
	check(SIZE_MAX, 1);
	check(3, 1);
}

/* zlib's dynamic block (level 9 on skewed text), whole and cut. */
static void
test_zlib_dynamic(void **state)
{
	static const unsigned char z9[] = {
		0x0d, 0x8e, 0xc1, 0x09, 0x00, 0x41, 0x08, 0x03, 0x5b, 0x49, 0x6b,
		0x82, 0x81, 0x15, 0xe4, 0x04, 0x8d, 0xfd, 0x9f, 0x1f, 0x41, 0x9c,
		0x49, 0x94, 0x37, 0x2d, 0x67, 0x9d, 0xc9, 0x51, 0x8b, 0x98, 0xee,
		0xa9, 0xa5, 0x96, 0xaf, 0x08, 0xd2, 0x29, 0x6a, 0xb2, 0x10, 0xe5,
		0x1f, 0x8d, 0xe4, 0x50, 0x88, 0x55, 0xbc, 0x72, 0x6b, 0x0f, 0x97,
		0x81, 0x4a, 0x80, 0xb8, 0xd5, 0x89, 0xe5, 0xba, 0x74, 0xdc, 0xce,
		0xf1, 0x41, 0x2a, 0x6e, 0x64, 0xb2, 0x70, 0x82, 0xde, 0xe5, 0x5d,
		0x4a, 0x36, 0x19, 0xca, 0x6b, 0xa4, 0x99, 0xb1, 0xea, 0x7b, 0xb5,
		0x89, 0x66, 0x3e, 0xc5, 0x42, 0x8a, 0x23, 0xfb, 0x7c, 0xbf, 0x63,
		0xfa, 0x92, 0xbb, 0xf6, 0x19, 0x2c, 0xa1, 0xb9, 0xaf, 0x4e, 0xd3,
		0x7e, 0xf2, 0xb4, 0x2b, 0xb1, 0x1f
	};
	static unsigned char out[512];
	struct inf_case c = { "zlib dynamic", z9, sizeof z9, ZINF_OK,
	    dyn_text, sizeof dyn_text - 1, 1 };
	enum zinf_err err;
	int done;

	(void)state;
	assert_int_equal(z9[0] >> 1 & 3, 2);	/* really dynamic */
	for (size_t chunk = 1; chunk <= sizeof z9; chunk += 7) {
		size_t n = run(&c, chunk, 5, out, sizeof out, &err, &done);

		assert_int_equal(err, ZINF_OK);
		assert_int_equal(done, 1);
		assert_int_equal(n, sizeof dyn_text - 1);
		assert_memory_equal(out, dyn_text, n);
	}
}

/* Bits LSB first, Huffman codes MSB first (RFC 1951 3.1.1). */
struct bw {
	unsigned char	*p;
	size_t		 nbits;
};

static void
bw_put(struct bw *w, unsigned v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, w->nbits++) {
		if (v >> i & 1) {
			w->p[w->nbits / 8] |= (unsigned char)(1u << (w->nbits % 8));
		}
	}
}

static void
bw_code(struct bw *w, unsigned c, unsigned n)
{
	while (n-- > 0) {
		bw_put(w, c >> n & 1, 1);
	}
}

/*
 * A stored block of 32768 bytes, then a fixed block with a match of
 * 258 at distance 32768 (code 29, 13 extra bits) and one at 32769:
 * the first copies the window's oldest byte onwards, the second is
 * one too far.
 */
static void
test_longest_distance(void **state)
{
	static unsigned char in[32768 + 64], out[32768 + 300];
	static struct zinf z;
	struct bw w = { in, 0 };
	size_t used, n, total;

	(void)state;
	memset(in, 0, sizeof in);
	bw_put(&w, 0, 3);			/* not final, stored */
	w.nbits = 8;
	bw_put(&w, 32768, 16);
	bw_put(&w, 32767, 16);
	for (size_t i = 0; i < 32768; i++) {
		in[5 + i] = (unsigned char)(i * 7 + i / 251);
	}
	w.nbits = (5 + 32768) * 8;
	bw_put(&w, 1, 1);			/* final, fixed */
	bw_put(&w, 1, 2);
	bw_code(&w, 0xc5, 8);			/* 285: length 258 */
	bw_code(&w, 29, 5);			/* distance 24577 + */
	bw_put(&w, 8191, 13);			/* 8191 = 32768 */
	bw_code(&w, 0, 7);			/* end of block */
	zinf_init(&z);
	used = zinf_run(&z, in, (w.nbits + 7) / 8, out, sizeof out, &n);
	assert_int_equal(z.err, ZINF_OK);
	assert_int_equal(used, (w.nbits + 7) / 8);
	assert_int_equal(n, 32768 + 258);
	assert_memory_equal(out + 32768, out, 258);
	assert_true(zinf_done(&z));
	/* The same, one further back. */
	memset(in + 5 + 32768, 0, sizeof in - 5 - 32768);
	w.nbits = (5 + 32768) * 8;
	bw_put(&w, 1, 1);
	bw_put(&w, 1, 2);
	bw_code(&w, 0xc5, 8);
	bw_code(&w, 29, 5);
	bw_put(&w, 8191, 13);
	bw_code(&w, 0, 7);
	zinf_init(&z);
	/* Distance 32768 with only 32767 bytes out: too far. */
	in[1] = 0xff;				/* LEN 32767 */
	in[2] = 0x7f;
	in[3] = 0x00;
	in[4] = 0x80;
	memmove(in + 5 + 32767, in + 5 + 32768, 8);
	total = 5 + 32767 + 8;
	(void)zinf_run(&z, in, total, out, sizeof out, &n);
	assert_int_equal(z.err, ZINF_E_DIST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_one_byte_of_room),
		cmocka_unit_test(test_zlib_dynamic),
		cmocka_unit_test(test_longest_distance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
