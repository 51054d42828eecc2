/* SPDX-License-Identifier: ISC */
/*
 * test_imap_pattern.c - LIST patterns (imap/imap_pattern.h): '*' and
 * '%' against the '.' delimiter, INBOX case-insensitive (RFC 3501 5.1)
 * and no other name, the pattern bound, and hostile patterns (hundreds
 * of wildcards before a tail that does not match, which a backtracking
 * matcher takes exponential time over).
 *
 * Each row: a one-line description, the pattern (head, a fill repeated
 * n times, a tail, so long patterns fit), the name and the answer.
 * Every pattern and name is passed in a heap block of exactly its
 * length. A last test compares with a naive recursive matcher on short
 * random patterns and names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "imap/imap_pattern.h"
#include "testutil.h"

struct pat_case {
	const char	*desc;
	struct text	 pat;
	const char	*name;
	int		 want;	/* 1, 0, or -1 (pattern too long) */
};

#define P(d, p, n, w)		{ (d), T(p), (n), (w) }
#define PF(d, h, f, k, t, n, w)	{ (d), TF(h, f, k, t), (n), (w) }

static const struct pat_case cases[] = {
	P("star matches everything", "*", "Sent", 1),
	P("star matches across the delimiter", "*", "a.b.c", 1),
	P("percent matches one level", "%", "Sent", 1),
	P("percent stops at the delimiter", "%", "a.b", 0),
	P("percent then delimiter then percent", "%.%", "a.b", 1),
	P("percent.percent needs two levels", "%.%", "a.b.c", 0),
	P("prefix star", "Arch*", "Archive", 1),
	P("prefix star, children too", "Arch*", "Archive.2024", 1),
	P("prefix percent, no children", "Arch%", "Archive.2024", 0),
	P("exact name", "Sent", "Sent", 1),
	P("exact name, other name", "Sent", "Sent2", 0),
	P("names are case-sensitive", "sent", "Sent", 0),
	P("INBOX in lower case", "inbox", "INBOX", 1),
	P("INBOX in mixed case", "InBoX", "INBOX", 1),
	P("INBOX pattern prefix with star", "in*", "INBOX", 1),
	P("INBOX child: prefix folds", "inbox.*", "INBOX.sub", 1),
	P("INBOX child: the child does not fold", "inbox.SUB", "INBOX.sub",
	    0),
	P("INBOXES is not INBOX: no folding", "inboxes", "INBOXes", 0),
	P("star in the middle", "a*z", "abcz", 1),
	P("percent in the middle, within a level", "a%z", "abcz", 1),
	P("percent in the middle, across a level", "a%z", "ab.cz", 0),
	P("star then percent", "*%", "a.b", 1),
	P("percent then star", "%*", "a.b", 1),
	P("two stars", "**", "", 1),
	P("delimiter only name", "%", ".", 0),

	/* Hostile. */
	P("empty pattern, empty name", "", "", 1),
	P("empty pattern, a name", "", "Sent", 0),
	P("a pattern, empty name", "a", "", 0),
	P("percent matches empty", "%", "", 1),
	P("literal star in name is a wildcard in pattern", "a*", "a*", 1),
	P("NUL-free high octets compared exactly", "\xc3\xa9*",
	    "\xc3\xa9t\xc3\xa9", 1),
	P("high octets are not folded", "\xc3\x89", "\xc3\xa9", 0),
	PF("100 stars then a missing x", NULL, "*", 100, "x", "Archive", 0),
	PF("200 stars then a long non-matching tail", NULL, "*", 200,
	    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "Archive.2024.Q1", 0),
	PF("200 stars then a matching tail", NULL, "*", 200, "Q1",
	    "Archive.2024.Q1", 1),
	PF("200 percents cannot pass a delimiter", NULL, "%", 200, "x",
	    "a.x", 0),
	PF("200 percents, one level", NULL, "%", 200, "x", "aaaax", 1),
	PF("alternating star and percent, no match", NULL, "*%", 150, "!",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0),
	PF("a* repeated, no match", NULL, "a*", 100, "b",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0),
	PF("a% repeated against dotted name", NULL, "a%", 30, ".b",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b", 1),
	P("pattern ending in the delimiter", "Archive.", "Archive", 0),
	P("percent cannot match a leading delimiter", "%", ".x", 0),
	P("star then delimiter, name ends in it", "*.", "a.", 1),
	P("an 8-bit octet is not the delimiter", "%", "a\xae" "b", 1),
	P("Turkish capital I is not I in INBOX", "inbox",
	    "\xc4\xb0NBOX", 0),
	P("INBOX prefix, percent stops at its child", "inbox%", "INBOX.x",
	    0),
	P("INBOX prefix, star takes its child", "inbox*", "INBOX.x", 1),
	PF("300 stars, delimiter, 200 percents", NULL, "*", 300, ".%%%%",
	    "a.b", 1),
	PF("512 percents against a deep name", NULL, "%", 512, NULL,
	    "a.b.c.d.e.f.g.h", 0),
	PF("pattern of the longest length", NULL, "*", 512, NULL, "x", 1),
	PF("pattern one octet too long", NULL, "*", 513, NULL, "x", -1),
	PF("long literal pattern against a short name", NULL, "a", 512,
	    NULL, "aaa", 0),
};

static int
naive(const char *p, size_t pl, const char *n, size_t nl)
{
	if (pl == 0) {
		return nl == 0;
	}
	if (*p == '*' || *p == '%') {
		for (size_t i = 0; i <= nl; i++) {
			if (naive(p + 1, pl - 1, n + i, nl - i)) {
				return 1;
			}
			if (i < nl && *p == '%' && n[i] == '.') {
				return 0;
			}
		}
		return 0;
	}
	return nl > 0 && *p == *n && naive(p + 1, pl - 1, n + 1, nl - 1);
}

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct pat_case *c = &cases[i];
		size_t pl, nl = strlen(c->name);
		char *p = build(&c->pat, &pl);
		char *n = dup_exact(c->name, nl);
		int got = imap_pattern_match(p, pl, n, nl, '.');

		if (got != c->want) {
			fail_msg("%s: got %d, want %d", c->desc, got, c->want);
		}
		free(p);
		free(n);
	}
}

static uint32_t
rnd(void)
{
	static uint32_t x = 2463534242u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/* Names without "INBOX": the naive matcher knows no folding. */
static void
test_random(void **state)
{
	static const char alpha[] = "ab.*%";
	char p[10], n[14];

	(void)state;
	for (int iter = 0; iter < 100000; iter++) {
		size_t pl = rnd() % sizeof p, nl = rnd() % sizeof n;
		int want, got;

		for (size_t i = 0; i < pl; i++) {
			p[i] = alpha[rnd() % 5];
		}
		for (size_t i = 0; i < nl; i++) {
			n[i] = alpha[rnd() % 3];
		}
		want = naive(p, pl, n, nl);
		got = imap_pattern_match(p, pl, n, nl, '.');
		if (got != want) {
			fail_msg("iter %d: \"%.*s\" vs \"%.*s\": %d, want %d",
			    iter, (int)pl, p, (int)nl, n, got, want);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests_name("imap_pattern", tests, NULL,
	    NULL);
}
