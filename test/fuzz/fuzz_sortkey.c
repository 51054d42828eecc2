/* SPDX-License-Identifier: ISC */
/*
 * fuzz_sortkey.c - libFuzzer harness for the SORT/THREAD text keys
 * (msg/sortkey.h).
 *
 * The input is taken as a Subject value and as an address field. The
 * base subject must fit its cap, be the same twice, be at most twice
 * the input (decomposed Latin-1 letters), hold no tab, CR, LF or
 * lower-case ASCII letter, start and end with no space, and taking
 * the base of a base must not make it longer. Address keys must fit
 * every cap, and a local part cut by a smaller cap must be a prefix
 * of the whole one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg/sortkey.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CAP	4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char a[CAP], b[CAP], c[CAP];
	const char *in = (const char *)data;
	size_t n, m, cap;
	int r1, r2;

	n = sortkey_subject(in, size, a, CAP, &r1);
	if (n > CAP || n > 2 * size) {
		abort();
	}
	m = sortkey_subject(in, size, b, CAP, &r2);
	if (m != n || memcmp(a, b, n) != 0 || r1 != r2) {
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		char ch = a[i];

		if (ch == '\t' || ch == '\r' || ch == '\n' ||
		    (ch >= 'a' && ch <= 'z')) {
			abort();
		}
	}
	if (n > 0 && (a[0] == ' ' || a[n - 1] == ' ')) {
		abort();
	}
	m = sortkey_subject(a, n, b, CAP, NULL);
	if (m > n) {
		abort();
	}
	for (int d = 0; d < 2; d++) {
		n = sortkey_addr(in, size, d, a, CAP);
		if (n > CAP) {
			abort();
		}
		for (cap = 0; cap < 40; cap += 7) {
			m = sortkey_addr(in, size, d, c, cap);
			if (m > cap || m > n + 3 || (d == 0 && memcmp(c, a,
			    m) != 0)) {
				abort();
			}
		}
	}
	(void)sortkey_hash(in, size);
	return 0;
}
