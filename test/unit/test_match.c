/* SPDX-License-Identifier: ISC */
/*
 * test_match.c - the SEARCH substring matcher (msg/match.h): case
 * folding (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic and a few
 * signs), invalid UTF-8 compared octet by octet, needles across chunk
 * boundaries, the needle bound, and a comparison with a naive search
 * on random input.
 *
 * Each table row is a needle, a haystack, a one-line description and
 * whether it must be found. Every row is fed whole, byte by byte, and
 * split in two and in three at every point, each chunk in a heap block
 * of exactly its length; a found needle must be reported at the chunk
 * holding its last octet, not before and not later.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msg/match.h"
#include "testutil.h"

struct match_case {
	const char	*desc;
	const char	*needle;
	size_t		 nlen;
	const char	*hay;
	size_t		 hlen;
	int		 found;
};

#define M(d, n, h, f)	{ (d), S(n), S(h), (f) }

static const struct match_case cases[] = {
	M("exact", "abc", "xxabcxx", 1),
	M("at the start", "abc", "abcxx", 1),
	M("at the end", "abc", "xxabc", 1),
	M("whole haystack", "abc", "abc", 1),
	M("absent", "abc", "abxabyab", 0),
	M("needle longer than haystack", "abcd", "abc", 0),
	M("empty needle, empty haystack", "", "", 1),
	M("empty needle", "", "anything", 1),
	M("empty haystack", "a", "", 0),
	M("upper needle, lower haystack", "HELLO", "say hello!", 1),
	M("lower needle, mixed haystack", "hello", "say HeLLo!", 1),
	M("non-letters are not folded", "[", "{", 0),
	M("@ is not `", "@", "`", 0),
	M("KMP: overlapping prefix", "aab", "aaab", 1),
	M("KMP: restart inside a partial match", "ababc", "abababc", 1),
	M("KMP: periodic needle", "abcabd", "abcabcabd", 1),
	M("KMP: near miss", "aaaab", "aaaaaaaa", 0),
	M("KMP: folded periodic", "AbAbC", "aBaBaBc", 1),
	M("NUL in needle and haystack", "a\0b", "xa\0bx", 1),
	M("NUL is not a wildcard", "a\0b", "axb", 0),
	M("line end inside", "a\r\nb", "xa\r\nbx", 1),

	M("Latin-1: E acute folds", "\xc3\x89T\xc3\x89", "\xc3\xa9t\xc3\xa9",
	    1),
	M("Latin-1: lower needle finds upper", "\xc3\xa9t\xc3\xa9",
	    "L'\xc3\x89T\xc3\x89", 1),
	M("Latin-1: A grave .. Thorn", "\xc3\x80\xc3\x9e", "\xc3\xa0\xc3\xbe",
	    1),
	M("Latin-1: multiplication sign is not division sign", "\xc3\x97",
	    "\xc3\xb7", 0),
	M("Latin-1: accents are significant", "\xc3\xa9", "e", 0),
	M("Latin-1: e is not e acute", "e", "\xc3\xa9", 0),
	M("Latin-1: sharp s is not ss", "\xc3\x9f", "ss", 0),
	M("Latin-1: micro sign is Greek mu", "\xc2\xb5", "\xce\x9c", 1),
	M("Latin-1: y diaeresis and its capital U+0178", "\xc3\xbf",
	    "\xc5\xb8", 1),
	M("Latin Ext-A: A macron", "\xc4\x80", "\xc4\x81", 1),
	M("Latin Ext-A: L acute (odd pairs)", "\xc4\xb9", "\xc4\xba", 1),
	M("Latin Ext-A: S caron", "\xc5\xa0", "\xc5\xa1", 1),
	M("Latin Ext-A: Z caron (odd pairs)", "\xc5\xbd", "\xc5\xbe", 1),
	M("Latin Ext-A: OE", "\xc5\x92", "\xc5\x93", 1),
	M("Latin Ext-A: long s is s", "S", "\xc5\xbf", 1),
	M("Latin Ext-A: kra has no capital", "\xc4\xb8", "\xc4\xb9", 0),
	M("Turkish dotted I is not folded", "i", "\xc4\xb0", 0),
	M("Turkish dotless i is not folded", "I", "\xc4\xb1", 0),
	M("Greek: SOFIA", "\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91",
	    "\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1", 1),
	M("Greek: final sigma is sigma", "\xce\xa3", "\xcf\x82", 1),
	M("Greek: alpha tonos", "\xce\x86", "\xce\xac", 1),
	M("Greek: omega tonos", "\xce\x8f", "\xcf\x8e", 1),
	M("Greek: epsilon tonos", "\xce\x88", "\xce\xad", 1),
	M("Cyrillic: PRIVET", "\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95"
	    "\xd0\xa2", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", 1),
	M("Cyrillic: IO", "\xd0\x81", "\xd1\x91", 1),
	M("Cyrillic: YA", "\xd0\xaf", "\xd1\x8f", 1),
	M("capital sharp s is sharp s", "\xc3\x9f", "\xe1\xba\x9e", 1),
	M("Kelvin sign is k", "k", "\xe2\x84\xaa", 1),
	M("k finds Kelvin sign", "\xe2\x84\xaa", "K", 1),
	M("Angstrom sign is a ring", "\xe2\x84\xab", "\xc3\x85", 1),
	M("4-octet character", "\xf0\x9f\x98\x80", "a\xf0\x9f\x98\x80", 1),
	M("4-octet character, other", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x81",
	    0),
	M("CJK", "\xe4\xb8\xad\xe6\x96\x87", "x\xe4\xb8\xad\xe6\x96\x87y", 1),

	M("invalid octets in haystack skipped over", "a", "\xff\xfe" "a", 1),
	M("invalid octet matched as is", "\xff", "a\xff", 1),
	M("overlong dot is not a dot", ".", "\xc0\xae", 0),
	M("overlong matched as is", "\xc0\xae", "x\xc0\xae", 1),
	M("overlong E acute not folded", "\xc3\xa9", "\xe0\x83\x89", 0),
	M("surrogate matched as is", "\xed\xa0\x80", "\xed\xa0\x80", 1),
	M("surrogate octets not folded", "\xed\xa0\x80", "\xed\xa0\x81", 0),
	M("truncated sequence then ASCII", "\xc3" "A", "\xc3" "a", 1),
	M("lead octet of a folded character", "\xc3", "\xc3\x89", 1),
	M("truncated needle in whole character", "\xe2\x82",
	    "\xe2\x82\xac", 1),
	M("truncated needle at haystack end", "\xe2\x82", "x\xe2\x82", 1),
	M("continuation octet alone", "\x89", "\xc3\x89", 0),
	M("continuation octet after folding", "\xa9", "\xc3\x89", 1),
	M("invalid needle, invalid haystack", "\xf8\x88", "\xf8\x88\x80", 1),
};

/* Does s[0..len) end inside a UTF-8 sequence (a lead octet and fewer
 * continuation octets than it announces)? */
static int
unfinished(const char *s, size_t len)
{
	for (size_t k = 1; k <= 4 && k <= len; k++) {
		unsigned char c = (unsigned char)s[len - k];

		if ((c & 0xc0) != 0x80) {
			size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 :
			    c >= 0xc0 ? 2 : 1;

			return c < 0xf8 && want > k;
		}
	}
	return 0;
}

/* Feeds hay in chunks cut at a and b (0 < a <= b <= len; a == len:
 * whole); checks the report comes with the chunk holding end (the
 * octet that completes the first match, or len if none). */
static void
run(const struct match_case *c, size_t a, size_t b, size_t end)
{
	struct match m;
	size_t cuts[4] = { 0, a, b, c->hlen };
	int got = 0;

	assert_int_equal(match_init(&m, c->needle, c->nlen), 0);
	for (int k = 0; k < 3; k++) {
		size_t from = cuts[k], to = cuts[k + 1];
		char *chunk;
		int r;

		if (from > to) {
			continue;
		}
		chunk = dup_exact(c->hay + from, to - from);
		r = match_feed(&m, chunk, to - from);
		free(chunk);
		if (end < c->hlen && r != (end < to)) {
			fail_msg("%s: cuts %zu,%zu: chunk %zu..%zu says %d",
			    c->desc, a, b, from, to, r);
		}
		got = r;
	}
	got = match_end(&m);
	if (got != c->found) {
		fail_msg("%s: cuts %zu,%zu: %d, want %d", c->desc, a, b, got,
		    c->found);
	}
}

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct match_case *c = &cases[i];
		size_t end = c->hlen;

		assert_int_equal(match_in(c->needle, c->nlen, c->hay, c->hlen),
		    c->found);
		/* Where the first match ends: the shortest prefix that
		 * holds it (an empty needle: before any octet). */
		if (c->found && c->nlen == 0) {
			end = 0;
		} else if (c->found) {
			for (end = 0; end < c->hlen; end++) {
				if (match_in(c->needle, c->nlen, c->hay,
				    end + 1) == 1) {
					break;
				}
			}
		}
		/* A needle ending in an unfinished sequence is only
		 * known at the end; an empty one before any octet. */
		if (c->nlen == 0 || unfinished(c->needle, c->nlen)) {
			end = c->hlen;
		}
		for (size_t a = 0; a <= c->hlen; a++) {
			for (size_t b = a; b <= c->hlen; b++) {
				run(c, a, b, end);
			}
		}
	}
}

/* Byte by byte: found exactly at the last octet of the needle. */
static void
test_byte_by_byte(void **state)
{
	static const char hay[] = "The quick brown fox jumps over the lazy "
	    "dog; THE QUICK BROWN FOX";
	struct match m;
	size_t i;

	(void)state;
	assert_int_equal(match_init(&m, S("FOX JUMPS")), 0);
	for (i = 0; i < sizeof hay - 1; i++) {
		if (match_feed(&m, hay + i, 1)) {
			break;
		}
	}
	assert_int_equal(i, 24);
	/* Found is sticky: more input is not read. */
	assert_int_equal(match_feed(&m, "zzz", 3), 1);
	assert_int_equal(match_end(&m), 1);
	/* Reset: the same needle, a new haystack. */
	match_reset(&m);
	assert_int_equal(match_feed(&m, S("fox jump")), 0);
	assert_int_equal(match_feed(&m, S("ed")), 0);
	assert_int_equal(match_end(&m), 0);
	match_reset(&m);
	assert_int_equal(match_feed(&m, S("FOX JUMP")), 0);
	assert_int_equal(match_feed(&m, S("S")), 1);
	/* An empty needle is found before any octet. */
	assert_int_equal(match_init(&m, "", 0), 0);
	assert_int_equal(match_feed(&m, "", 0), 1);
	assert_int_equal(match_end(&m), 1);
	match_reset(&m);
	assert_int_equal(match_feed(&m, NULL, 0), 1);
	assert_int_equal(match_in("", 0, "", 0), 1);
}

/* A needle placed at every offset of a haystack, fed split at every
 * point. */
static void
test_across_chunks(void **state)
{
	static const char *const needles[] = { "needle", "\xc3\x89t\xc3\xa9",
	    "\xd0\x9f\xd1\x80\xd0\xb8", "\xf0\x9f\x98\x80!", "aaab" };
	char hay[64], up[16];

	(void)state;
	for (size_t k = 0; k < sizeof needles / sizeof needles[0]; k++) {
		size_t nl = strlen(needles[k]);

		/* The haystack holds the needle in other case where it
		 * has one. */
		memcpy(up, needles[k], nl);
		for (size_t i = 0; i < nl; i++) {
			if (up[i] >= 'a' && up[i] <= 'z') {
				up[i] -= 32;
			}
		}
		if (k == 1) {
			memcpy(up, "\xc3\xa9T\xc3\x89", nl);
		}
		if (k == 2) {
			memcpy(up, "\xd0\xbf\xd0\xa0\xd0\x98", nl);
		}
		for (size_t off = 0; off + nl <= 40; off++) {
			memset(hay, 'a', 40);
			memcpy(hay + off, up, nl);
			for (size_t sp = 0; sp <= 40; sp++) {
				struct match m;
				int r1, r2;

				assert_int_equal(match_init(&m, needles[k],
				    nl), 0);
				r1 = match_feed(&m, hay, sp);
				r2 = match_feed(&m, hay + sp, 40 - sp);
				if (r1 != (off + nl <= sp) || !r2) {
					fail_msg("needle %zu at %zu split "
					    "%zu: %d %d", k, off, sp, r1, r2);
				}
			}
		}
	}
}

static void
test_needle_bound(void **state)
{
	static char needle[MATCH_NEEDLE_MAX + 1], hay[3 * MATCH_NEEDLE_MAX];
	struct match m;

	(void)state;
	memset(needle, 'a', sizeof needle);
	assert_int_equal(match_init(&m, needle, MATCH_NEEDLE_MAX + 1), -1);
	assert_int_equal(match_in(needle, MATCH_NEEDLE_MAX + 1, "a", 1), -1);
	assert_int_equal(match_in(needle, MATCH_NEEDLE_MAX + 1, needle,
	    sizeof needle), -1);

	/* The longest needle: a^1023 b, found once after a long run of
	 * a's, across chunks. */
	needle[MATCH_NEEDLE_MAX - 1] = 'B';
	memset(hay, 'a', sizeof hay);
	hay[sizeof hay - 1] = 'b';
	assert_int_equal(match_init(&m, needle, MATCH_NEEDLE_MAX), 0);
	for (size_t i = 0; i + 100 < sizeof hay; i += 100) {
		assert_int_equal(match_feed(&m, hay + i, 100), 0);
	}
	assert_int_equal(match_feed(&m, hay + (sizeof hay / 100) * 100,
	    sizeof hay % 100), 1);
	hay[sizeof hay - 1] = 'a';
	assert_int_equal(match_in(needle, MATCH_NEEDLE_MAX, hay, sizeof hay),
	    0);
	/* 1024 octets of two-octet characters. */
	for (size_t i = 0; i < MATCH_NEEDLE_MAX; i += 2) {
		memcpy(needle + i, "\xc3\x89", 2);
		memcpy(hay + i + 1, "\xc3\xa9", 2);
	}
	hay[0] = 'x';
	assert_int_equal(match_in(needle, MATCH_NEEDLE_MAX, hay,
	    MATCH_NEEDLE_MAX + 1), 1);
}

/* ---------------------------------------------------------------- */
/* Random ASCII against a naive search. */

static uint32_t seed = 12345;

static uint32_t
rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 16;
}

static int
naive(const char *n, size_t nl, const char *h, size_t hl)
{
	if (nl == 0) {
		return 1;
	}
	for (size_t i = 0; i + nl <= hl; i++) {
		size_t k;

		for (k = 0; k < nl; k++) {
			int a = n[k], b = h[i + k];

			a = a >= 'A' && a <= 'Z' ? a + 32 : a;
			b = b >= 'A' && b <= 'Z' ? b + 32 : b;
			if (a != b) {
				break;
			}
		}
		if (k == nl) {
			return 1;
		}
	}
	return 0;
}

static void
test_random(void **state)
{
	static const char alpha[] = "abAB";
	char n[8], h[40];

	(void)state;
	for (int iter = 0; iter < 50000; iter++) {
		size_t nl = rnd() % 7, hl = rnd() % 40, sp;
		struct match m;
		int want, got;

		for (size_t i = 0; i < nl; i++) {
			n[i] = alpha[rnd() % 4];
		}
		for (size_t i = 0; i < hl; i++) {
			h[i] = alpha[rnd() % 4];
		}
		want = naive(n, nl, h, hl);
		sp = hl > 0 ? rnd() % (hl + 1) : 0;
		assert_int_equal(match_init(&m, n, nl), 0);
		match_feed(&m, h, sp);
		match_feed(&m, h + sp, hl - sp);
		got = match_end(&m);
		if (got != want) {
			fail_msg("iter %d: needle \"%.*s\" hay \"%.*s\": "
			    "%d, want %d", iter, (int)nl, n, (int)hl, h, got,
			    want);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_across_chunks),
		cmocka_unit_test(test_needle_bound),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests_name("match", tests, NULL, NULL);
}
