/* SPDX-License-Identifier: ISC */
/*
 * fuzz_imap_pattern.c - libFuzzer harness for the LIST pattern matcher
 * (imap/imap_pattern.h).
 *
 * Input: the first octet picks the delimiter ('.' when even, '/' when
 * odd), the rest is the pattern up to the first LF, then the name. The
 * answer must be -1 exactly when the pattern is longer than
 * IMAP_PATTERN_MAX, else equal to an independent dynamic-programming
 * matcher (a table of prefixes, with the same INBOX folding), and be
 * the same when the name is given in a block of exactly its length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_pattern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NAME_MAX_REF	1024

static int	reference(const char *, size_t, const char *, size_t, char);
static int	fold_eq(char, char);

/* ok[i][j]: pat[0..i) matches name[0..j). */
static unsigned char	ok[IMAP_PATTERN_MAX + 1][NAME_MAX_REF + 1];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p, *nl, *name;
	size_t plen, nlen;
	char delim, *copy;
	int got;

	if (size < 1) {
		return 0;
	}
	delim = (data[0] & 1) ? '/' : '.';
	p = (const char *)data + 1;
	nl = memchr(p, '\n', size - 1);
	plen = nl != NULL ? (size_t)(nl - p) : size - 1;
	name = nl != NULL ? nl + 1 : p + plen;
	nlen = size - 1 - plen - (nl != NULL);
	got = imap_pattern_match(p, plen, name, nlen, delim);
	if (plen > IMAP_PATTERN_MAX) {
		if (got != -1) {
			abort();
		}
		return 0;
	}
	if (got != 0 && got != 1) {
		abort();
	}
	if (nlen <= NAME_MAX_REF && got != reference(p, plen, name, nlen,
	    delim)) {
		abort();
	}
	copy = malloc(nlen > 0 ? nlen : 1);
	if (copy == NULL) {
		return 0;
	}
	memcpy(copy, name, nlen);
	if (imap_pattern_match(p, plen, copy, nlen, delim) != got) {
		abort();
	}
	free(copy);
	return 0;
}

static int
reference(const char *pat, size_t plen, const char *name, size_t nlen,
    char delim)
{
	size_t fold = 0;

	if (nlen >= 5 && (nlen == 5 || name[5] == delim)) {
		fold = 5;
		for (size_t i = 0; i < 5; i++) {
			if (!fold_eq(name[i], "INBOX"[i])) {
				fold = 0;
			}
		}
	}
	for (size_t i = 0; i <= plen; i++) {
		for (size_t j = 0; j <= nlen; j++) {
			int v;

			if (i == 0) {
				v = j == 0;
			} else if (pat[i - 1] == '*') {
				v = ok[i - 1][j] || (j > 0 && ok[i][j - 1]);
			} else if (pat[i - 1] == '%') {
				v = ok[i - 1][j] || (j > 0 && ok[i][j - 1] &&
				    name[j - 1] != delim);
			} else {
				v = j > 0 && ok[i - 1][j - 1] &&
				    (pat[i - 1] == name[j - 1] || (j - 1 <
				    fold && fold_eq(pat[i - 1], name[j - 1])));
			}
			ok[i][j] = (unsigned char)v;
		}
	}
	return ok[plen][nlen];
}

static int
fold_eq(char a, char b)
{
	if (a >= 'a' && a <= 'z') {
		a = (char)(a - 'a' + 'A');
	}
	if (b >= 'a' && b <= 'z') {
		b = (char)(b - 'a' + 'A');
	}
	return a == b;
}
