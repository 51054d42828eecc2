/* SPDX-License-Identifier: ISC */
/*
 * exact.h - exact-size copies for the libFuzzer harnesses, without a
 * malloc and free per copy.
 *
 * The harnesses copy each piece they feed (a byte, a window, a line)
 * so that ASan reports any read past it. A malloc per piece made the
 * allocator (stack unwinding, quarantine, the 0xbe fill) a third of
 * the run time of the byte-by-byte passes. Here a copy goes into one
 * of a few arenas allocated once, and ASan's manual poisoning makes
 * the octets before and after it unaddressable, exactly as the
 * redzones of malloc(len) do: the copy starts on an 8-octet boundary
 * (the granule) and ASan's shadow records how many octets of the last
 * granule are addressable. A touch outside is reported as
 * use-after-poison instead of heap-buffer-overflow.
 *
 * A copy lives until the next copy into the same slot: callers that
 * hold two copies at once (a framed line, then the command parsed from
 * it) use two slots. Longer than EXACT_CAP: a plain malloc, which
 * exact_done frees.
 */
#ifndef FUZZ_EXACT_H
#define FUZZ_EXACT_H

#include <sanitizer/asan_interface.h>
#include <stdlib.h>
#include <string.h>

#define EXACT_SLOTS	4
#define EXACT_CAP	(64 * 1024)	/* over any -max_len we use */
#define EXACT_GAP	8		/* poisoned octets before a copy */

struct exact_slot {
	char	*p;	/* EXACT_GAP + EXACT_CAP octets */
	size_t	 len;	/* addressable octets after the gap */
};

static struct exact_slot	exact_slots[EXACT_SLOTS];

/* A copy of s[0 .. len) with nothing addressable around it. */
static char *
exact_dup(unsigned slot, const void *s, size_t len)
{
	struct exact_slot *a = &exact_slots[slot % EXACT_SLOTS];
	char *start;

	if (len > EXACT_CAP) {
		start = malloc(len);
		if (start == NULL) {
			abort();
		}
		memcpy(start, s, len);
		return start;
	}
	if (a->p == NULL) {
		a->p = malloc(EXACT_GAP + EXACT_CAP);
		if (a->p == NULL) {
			abort();
		}
		ASAN_POISON_MEMORY_REGION(a->p, EXACT_GAP + EXACT_CAP);
		a->len = 0;
	}
	start = a->p + EXACT_GAP;
	if (len > a->len) {
		ASAN_UNPOISON_MEMORY_REGION(start, len);
	} else if (len < a->len) {
		ASAN_POISON_MEMORY_REGION(start + len, a->len - len);
	}
	a->len = len;
	if (len > 0) {
		memcpy(start, s, len);
	}
	return start;
}

/* Ends a copy: frees it if it was malloc'ed, else nothing (the slot's
 * next copy replaces it). */
static void
exact_done(const void *p)
{
	for (unsigned i = 0; i < EXACT_SLOTS; i++) {
		if (exact_slots[i].p != NULL &&
		    (const char *)p == exact_slots[i].p + EXACT_GAP) {
			return;
		}
	}
	free((void *)p);
}

#endif
