/* SPDX-License-Identifier: ISC */
/*
 * test_deflate.c - raw DEFLATE encoding (compress/deflate.h), checked
 * by decoding with compress/inflate.h: each row is an input shape (text,
 * runs, random bytes that only the stored form keeps small, repeats
 * at the longest distance, enough to slide the window several times)
 * fed in pieces of a given size with a sync flush every so often, into
 * an output of a given room. Round trips through zlib run in
 * test_imap_compress.py, where Python's zlib is the peer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compress/deflate.h"
#include "compress/inflate.h"

enum shape { TEXT, RUN, RANDOM, FAR, EMPTY, MAILBOX, PERIOD };

struct def_case {
	const char	*desc;
	enum shape	 shape;
	size_t		 len;
	size_t		 piece;		/* bytes per zdef_write */
	size_t		 flush_every;	/* pieces between flushes; 0: end */
	size_t		 room;		/* output room per call */
	size_t		 max_out;	/* bound on the compressed size */
};

static const struct def_case cases[] = {
	{ "empty input: nothing at all", EMPTY, 0, 1, 1, ZDEF_OUT_MIN, 0 },
	{ "one byte, flushed", TEXT, 1, 1, 1, ZDEF_OUT_MIN, 8 },
	{ "an IMAP line per flush", TEXT, 3000, 40, 1, ZDEF_OUT_MIN, 3000 },
	{ "text, one write", TEXT, 200000, 200000, 0, ZDEF_OUT_MIN, 80000 },
	{ "text, 1-byte writes, no flush", TEXT, 20000, 1, 0, ZDEF_OUT_MIN,
	    9000 },
	{ "text in 4 KB writes (a connection buffer)", TEXT, 300000, 4096,
	    3, ZDEF_OUT_MIN, 120000 },
	{ "a run of one byte: length 258 matches", RUN, 100000, 7000, 0,
	    ZDEF_OUT_MIN, 600 },
	{ "random bytes: stored blocks, barely bigger", RANDOM, 100000, 5000,
	    2, ZDEF_OUT_MIN, 100000 + 200 },
	{ "repeats 32000 bytes apart", FAR, 128000, 10000, 0, ZDEF_OUT_MIN,
	    40000 },
	{ "output room far over a block", TEXT, 100000, 65536, 1,
	    8 * ZDEF_OUT_MIN, 40000 },
	{ "mail-like lines, slid many times", MAILBOX, 600000, 1500, 5,
	    ZDEF_OUT_MIN, 200000 },
	{ "matches cut by each flush (compared 8 bytes at a time)", PERIOD,
	    20000, 13, 1, ZDEF_OUT_MIN, 20000 },
	{ "matches longer than the search's nice length", PERIOD, 200000,
	    4096, 0, ZDEF_OUT_MIN, 3000 },
};

static void
make(const struct def_case *c, unsigned char *p)
{
	static const char *const words[] = { "ledger", "harbour", "granite",
		"willow", "copper", "lantern", "meadow", "orbit", "\r\n",
		"Received: from", "Subject:", "the", "of", "and" };
	uint32_t x = 2463534242u;
	size_t i = 0;

	while (i < c->len) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		switch (c->shape) {
		case RUN:
			p[i++] = 'z';
			break;
		case RANDOM:
			p[i++] = (unsigned char)(x >> 11);
			break;
		case PERIOD:
			/* 37 random bytes over and over: every match
			 * runs to the lookahead's end or to 258. */
			p[i] = i < 37 ? (unsigned char)(x >> 9) : p[i - 37];
			i++;
			break;
		case FAR:
			/* 32000 random bytes, then them again, and so on. */
			p[i] = i < 32000 ? (unsigned char)(x >> 7) :
			    p[i - 32000];
			i++;
			break;
		default: {
			const char *w = words[x % (c->shape == MAILBOX ? 14 :
			    8)];
			size_t n = strlen(w);

			for (size_t k = 0; k <= n && i < c->len; k++) {
				p[i++] = k < n ? (unsigned char)w[k] : ' ';
			}
			break;
		}
		}
	}
}

/* Everything in out[0..len) inflates to want[0..wlen). */
static void
inflates_to(const unsigned char *out, size_t len, const unsigned char *want,
    size_t wlen)
{
	static struct zinf z;
	unsigned char *back = malloc(wlen + 1);
	size_t used, n;

	assert_non_null(back);
	zinf_init(&z);
	used = zinf_run(&z, out, len, back, wlen + 1, &n);
	assert_int_equal(z.err, ZINF_OK);
	assert_int_equal(used, len);
	assert_int_equal(n, wlen);
	assert_memory_equal(back, want, wlen);
	free(back);
}

static void
test_round_trips(void **state)
{
	static struct zdef z;

	(void)state;
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		const struct def_case *c = &cases[k];
		unsigned char *in = malloc(c->len + 1);
		size_t cap = c->len + c->len / 8 + 64 * 1024, o = 0, i = 0;
		unsigned char *out = malloc(cap);
		size_t pieces = 0, n;

		assert_non_null(in);
		assert_non_null(out);
		make(c, in);
		zdef_init(&z);
		while (i < c->len) {
			size_t want = c->len - i < c->piece ? c->len - i :
			    c->piece, took = 0;

			while (took < want) {
				size_t r = cap - o < c->room ? cap - o :
				    c->room;

				took += zdef_write(&z, in + i + took, want -
				    took, out + o, r, &n);
				o += n;
			}
			i += want;
			if (c->flush_every && ++pieces % c->flush_every ==
			    0) {
				/* After a sync flush, all so far decodes. */
				while (zdef_flush(&z, out + o, c->room, &n) ==
				    -1) {
					o += n;
				}
				o += n;
				assert_false(zdef_pending(&z));
				inflates_to(out, o, in, i);
			}
		}
		while (zdef_flush(&z, out + o, c->room, &n) == -1) {
			o += n;
		}
		o += n;
		inflates_to(out, o, in, c->len);
		if (o > c->max_out) {
			fail_msg("%s: %zu bytes out, want at most %zu",
			    c->desc, o, c->max_out);
		}
		free(in);
		free(out);
	}
}

/* With less room than a block needs, nothing is written and no more
 * is taken than the window holds; with ZDEF_OUT_MIN it goes on. */
static void
test_no_room(void **state)
{
	static struct zdef z;
	static unsigned char in[4 * ZDEF_WSIZE], out[8 * ZDEF_OUT_MIN];
	size_t took, n, o = 0;

	(void)state;
	for (size_t i = 0; i < sizeof in; i++) {
		in[i] = (unsigned char)((uint32_t)i * 2654435761u >> 24);
	}
	zdef_init(&z);
	took = zdef_write(&z, in, sizeof in, out, 0, &n);
	assert_int_equal(n, 0);
	assert_true(took <= 2 * ZDEF_WSIZE);
	assert_int_equal(zdef_write(&z, in + took, sizeof in - took, out, 0,
	    &n), 0);
	assert_int_equal(zdef_flush(&z, out, 3, &n), -1);
	assert_int_equal(n, 0);
	while (took < sizeof in) {
		took += zdef_write(&z, in + took, sizeof in - took, out + o,
		    ZDEF_OUT_MIN, &n);
		o += n;
	}
	while (zdef_flush(&z, out + o, ZDEF_OUT_MIN, &n) == -1) {
		o += n;
	}
	o += n;
	inflates_to(out, o, in, sizeof in);
	/* A flush with nothing new writes nothing. */
	assert_int_equal(zdef_flush(&z, out, 0, &n), 0);
	assert_int_equal(n, 0);
}

/* The sync flush ends with an empty stored block: 00 00 ff ff. */
static void
test_sync_marker(void **state)
{
	static struct zdef z;
	unsigned char out[64];
	size_t n, m;

	(void)state;
	zdef_init(&z);
	assert_int_equal(zdef_write(&z, "a1 OK\r\n", 7, out, sizeof out, &n),
	    7);
	assert_int_equal(zdef_flush(&z, out + n, sizeof out - n, &m), 0);
	n += m;
	assert_true(n >= 4);
	assert_memory_equal(out + n - 4, "\x00\x00\xff\xff", 4);
	inflates_to(out, n, (const unsigned char *)"a1 OK\r\n", 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_no_room),
		cmocka_unit_test(test_sync_marker),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
