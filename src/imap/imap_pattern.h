/* SPDX-License-Identifier: ISC */
/*
 * imap_pattern.h - LIST and LSUB mailbox patterns (RFC 3501 6.3.8),
 * sans-I/O.
 *
 * '*' matches any run of characters, '%' any run without the hierarchy
 * delimiter; every other octet matches itself. The name "INBOX" is
 * case-insensitive (RFC 3501 5.1), so its first five octets (in
 * "INBOX" itself and in "INBOX<delim>child") match the pattern's
 * octets whatever their case; every other name is compared exactly.
 *
 * Time is O(pattern x name) whatever the pattern: the pattern is run
 * as a nondeterministic automaton over a bitset of its positions
 * (state k: the first k pattern octets are matched), so a run of
 * thousands of '*' costs what it reads, never the exponential
 * backtracking of a recursive matcher. Memory is a fixed bitset on
 * the stack.
 */
#ifndef WREN_IMAP_PATTERN_H
#define WREN_IMAP_PATTERN_H

#include <stddef.h>

/* The longest pattern (reference and pattern joined) LIST takes; a
 * longer one is refused with BAD by the session. Twice a mailbox name
 * of the longest the session accepts, plus room. */
#define IMAP_PATTERN_MAX	512

/* 1 when name[0..nlen) matches pat[0..plen) with hierarchy delimiter
 * delim, else 0; -1 when plen exceeds IMAP_PATTERN_MAX. */
int	imap_pattern_match(const char *pat, size_t plen, const char *name,
	    size_t nlen, char delim);

#endif
