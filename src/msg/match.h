/* SPDX-License-Identifier: ISC */
/*
 * match.h - the case-insensitive substring test of IMAP SEARCH (RFC
 * 3501 6.4.4: "a substring ... case-insensitive"), streaming, sans-I/O.
 *
 * The needle is prepared once (case-folded, with a Knuth-Morris-Pratt
 * failure table); the haystack is then fed in chunks of any size and a
 * match is reported at the chunk holding its last octet, wherever the
 * chunks were cut. Time is linear in the haystack; the state is fixed
 * (about 3 KiB), so a struct match may live on the stack.
 *
 * Folding: both sides are read as UTF-8 and each character is mapped
 * to its Unicode simple case folding (CaseFolding.txt, status C and S)
 * for these blocks:
 *   - ASCII A-Z;
 *   - Latin-1 Supplement U+00C0-U+00DE (not U+00D7), and U+00B5 MICRO
 *     SIGN to Greek mu;
 *   - Latin Extended-A U+0100-U+017F, pairs and U+0178 to U+00FF, U+017F
 *     long s to "s"; not U+0130/U+0131 (Turkish dotted and dotless i,
 *     whose folding depends on the language);
 *   - Greek U+0386-U+03AB to lower case, final sigma U+03C2 to sigma;
 *   - Cyrillic U+0400-U+042F to lower case;
 *   - U+1E9E capital sharp s, U+212A Kelvin and U+212B Angstrom signs.
 * There is no normalisation: accents, ligatures and composed versus
 * decomposed forms stay significant (Dovecot's i;unicode-casemap goes
 * further). Octets that are not valid UTF-8 (overlong, surrogate,
 * unfinished) are compared as they are, one by one.
 */
#ifndef WREN_MATCH_H
#define WREN_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

#if MATCH_NEEDLE_MAX > 65535
#error "MATCH_NEEDLE_MAX must fit the 16-bit failure table"
#endif

struct match {
	size_t		nlen;		/* folded needle */
	size_t		q;		/* private: octets matched */
	int		found;
	int		need;		/* UTF-8 reader */
	int		nseq;
	unsigned char	lo, hi;
	unsigned char	seq[4];
	unsigned char	needle[MATCH_NEEDLE_MAX];
	uint16_t	fail[MATCH_NEEDLE_MAX];
};

/* Prepares m for needle[0..len) (UTF-8). Returns 0, or -1 if len
 * exceeds MATCH_NEEDLE_MAX. An empty needle matches at once. */
int	match_init(struct match *m, const char *needle, size_t len);

/* Starts a new haystack with the same needle. */
void	match_reset(struct match *m);

/* Feeds hay[0..len); returns 1 once the needle was found (and from
 * then on, without reading), else 0. */
int	match_feed(struct match *m, const void *hay, size_t len);

/* Ends the haystack: an unfinished UTF-8 sequence held at the end is
 * compared as it is. Returns 1 if found, else 0. Only needles that end
 * in invalid UTF-8 can need it. */
int	match_end(struct match *m);

/* One-shot: is needle[0..nlen) in hay[0..len)? 1 yes, 0 no, -1 if the
 * needle is too long. */
int	match_in(const char *needle, size_t nlen, const char *hay,
	    size_t len);

#endif
