/* SPDX-License-Identifier: ISC */
/*
 * imap_pattern.c - LIST and LSUB mailbox patterns (RFC 3501 6.3.8):
 * '*' and '%' wildcards in linear time per name octet, INBOX
 * case-insensitive (RFC 3501 5.1).
 *
 * The automaton: state k (0 <= k <= plen) means "pat[0..k) matched
 * the name so far". A wildcard at k may match nothing, so state k
 * brings state k + 1 along (the closure, one forward sweep since the
 * empty moves only go up by one). On a name octet c:
 *
 *   pat[k] == '*'                 k -> k   (one more octet swallowed)
 *   pat[k] == '%', c != delim     k -> k
 *   pat[k] == c (see INBOX)       k -> k + 1
 *
 * The name matches when state plen is reached after its last octet.
 * Each octet visits every state once: O(plen) per octet, O(plen x
 * nlen) in all, whatever mix of wildcards the pattern holds.
 */
#include <stdint.h>
#include <string.h>

#include "imap/imap_pattern.h"

#define WORD_BITS	64
#define SET_WORDS	((IMAP_PATTERN_MAX + 1 + WORD_BITS - 1) / WORD_BITS)

struct set {
	uint64_t	w[SET_WORDS];
};

static size_t	inbox_prefix(const char *, size_t, char);
static int	same(char p, char n, int fold);
static void	closure(struct set *, const char *, size_t);

static inline int
set_has(const struct set *s, size_t k)
{
	return (s->w[k / WORD_BITS] >> (k % WORD_BITS)) & 1;
}

static inline void
set_add(struct set *s, size_t k)
{
	s->w[k / WORD_BITS] |= (uint64_t)1 << (k % WORD_BITS);
}

int
imap_pattern_match(const char *pat, size_t plen, const char *name,
    size_t nlen, char delim)
{
	struct set cur, next;
	size_t fold = inbox_prefix(name, nlen, delim);
	size_t words = plen / WORD_BITS + 1;

	if (plen > IMAP_PATTERN_MAX) {
		return -1;
	}
	memset(&cur, 0, sizeof cur);
	set_add(&cur, 0);
	closure(&cur, pat, plen);
	for (size_t j = 0; j < nlen; j++) {
		char c = name[j];
		int any = 0;

		memset(&next, 0, words * sizeof next.w[0]);
		for (size_t k = 0; k < plen; k++) {
			if (!set_has(&cur, k)) {
				continue;
			}
			if (pat[k] == '*' || (pat[k] == '%' && c != delim)) {
				set_add(&next, k);
				any = 1;
			} else if (pat[k] != '*' && pat[k] != '%' &&
			    same(pat[k], c, j < fold)) {
				set_add(&next, k + 1);
				any = 1;
			}
		}
		if (!any) {
			return 0;	/* no state left: cannot match */
		}
		closure(&next, pat, plen);
		memcpy(&cur, &next, words * sizeof cur.w[0]);
	}
	return set_has(&cur, plen);
}

/* 5 when name is INBOX or INBOX<delim>..., in any case: those octets
 * compare case-insensitively; else 0. */
static size_t
inbox_prefix(const char *name, size_t nlen, char delim)
{
	static const char inbox[] = "INBOX";

	if (nlen < 5 || (nlen > 5 && name[5] != delim)) {
		return 0;
	}
	for (size_t i = 0; i < 5; i++) {
		char c = name[i];

		if (c >= 'a' && c <= 'z') {
			c = (char)(c - 'a' + 'A');
		}
		if (c != inbox[i]) {
			return 0;
		}
	}
	return 5;
}

static int
same(char p, char n, int fold)
{
	if (p == n) {
		return 1;
	}
	if (!fold) {
		return 0;
	}
	if (p >= 'a' && p <= 'z') {
		p = (char)(p - 'a' + 'A');
	}
	if (n >= 'a' && n <= 'z') {
		n = (char)(n - 'a' + 'A');
	}
	return p == n;
}

/* A wildcard may match nothing: state k brings k + 1. */
static void
closure(struct set *s, const char *pat, size_t plen)
{
	for (size_t k = 0; k < plen; k++) {
		if (set_has(s, k) && (pat[k] == '*' || pat[k] == '%')) {
			set_add(s, k + 1);
		}
	}
}
