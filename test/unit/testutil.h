/* SPDX-License-Identifier: ISC */
/*
 * testutil.h - helpers shared by the cmocka unit tests: table inputs
 * built from a head, a repeated fill and a tail (struct text, T, TN,
 * TF, build) into heap blocks of exactly their length so that ASan
 * catches a read past the end (dup_exact), event traces (trace_add)
 * and octet-exact comparisons (expect_bytes).
 *
 * Header only: every helper is static inline, so a test that uses
 * none of them gets no warning.
 */
#ifndef WREN_TESTUTIL_H
#define WREN_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Room for one trace (trace_add); callers declare char tr[TRACE_MAX]. */
#define TRACE_MAX	8192

/* A string literal with its length, NULs included. */
#define S(s)		(s), (sizeof(s) - 1)

/*
 * Input of a table row: head, then fill repeated nfill times, then
 * tail, so that long parts fit in a table. Any of the three may be
 * NULL. A fill of "" is one NUL byte; a head holding NULs gives its
 * length in len (TN), 0 meaning strlen.
 */
struct text {
	const char	*head;
	const char	*fill;
	size_t		 nfill;
	const char	*tail;
	size_t		 len;	/* head length when it holds NULs */
};

#define T(s)		{ (s), NULL, 0, NULL, 0 }
#define TN(s)		{ (s), NULL, 0, NULL, sizeof(s) - 1 }
#define TF(h, f, n, t)	{ (h), (f), (n), (t), 0 }

/* An exact-size heap copy of s[0..len) (one byte is allocated for an
 * empty one); the caller frees it. */
static inline char *
dup_exact(const void *s, size_t len)
{
	char *p = malloc(len > 0 ? len : 1);

	assert_non_null(p);
	if (len > 0) {
		memcpy(p, s, len);
	}
	return p;
}

/* The text of t in a heap block of exactly its length (no NUL after
 * it); its length in *lenp. The caller frees it. */
static inline char *
build(const struct text *t, size_t *lenp)
{
	size_t hl = 0, fl = 0, tl = 0, len;
	char *out;

	if (t->head != NULL) {
		hl = t->len > 0 ? t->len : strlen(t->head);
	}
	if (t->fill != NULL) {
		fl = t->fill[0] == '\0' ? 1 : strlen(t->fill);
	}
	if (t->tail != NULL) {
		tl = strlen(t->tail);
	}
	len = hl + fl * t->nfill + tl;
	out = malloc(len > 0 ? len : 1);
	assert_non_null(out);
	if (hl > 0) {
		memcpy(out, t->head, hl);
	}
	for (size_t i = 0; i < t->nfill; i++) {
		memcpy(out + hl + i * fl, t->fill, fl);
	}
	if (tl > 0) {
		memcpy(out + len - tl, t->tail, tl);
	}
	*lenp = len;
	return out;
}

/* Appends printf-style text to the trace tr (a NUL-terminated string
 * in a buffer of TRACE_MAX bytes), cut to fit. */
static inline void
trace_add(char *tr, const char *fmt, ...)
{
	size_t n = strlen(tr);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tr + n, TRACE_MAX - n, fmt, ap);
	va_end(ap);
}

/* Fails the test unless got[0..glen) is want[0..wlen); the message
 * names the case (desc) and the way it was run (how), and shows at
 * most 200 octets of each. */
static inline void
expect_bytes(const char *desc, const char *how, const char *got,
    size_t glen, const char *want, size_t wlen)
{
	if (glen != wlen || memcmp(got, want, wlen) != 0) {
		fail_msg("%s (%s): got %zu octets \"%.*s\", want %zu \"%.*s\"",
		    desc, how, glen, (int)(glen < 200 ? glen : 200), got,
		    wlen, (int)(wlen < 200 ? wlen : 200), want);
	}
}

#endif
