/* SPDX-License-Identifier: ISC */
/*
 * fuzz_imap_utf7.c - libFuzzer harness for mailbox names between UTF-8
 * and modified UTF-7 (imap/imap_utf7.h). The input goes both ways with
 * outputs bounded as the session's: what is accepted stays within its
 * buffer, and every UTF-8 name accepted comes back whole from its
 * modified UTF-7 form; a name decoded from modified UTF-7 is valid
 * UTF-8 and encodes again without error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_utf7.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CAP	1024

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char m[CAP], u[CAP], again[CAP];
	const char *in = (const char *)data;
	size_t n, k;

	if (imap_utf8_to_mutf7(in, size, m, sizeof m, &n) == 0) {
		if (n > sizeof m) {
			abort();
		}
		k = imap_mutf7_to_utf8(m, n, u, sizeof u);
		if (k != size || memcmp(u, in, size) != 0) {
			abort();	/* no round trip */
		}
	}
	k = imap_mutf7_to_utf8(in, size, u, sizeof u);
	if (k <= sizeof u) {
		if (imap_utf8_to_mutf7(u, k, again, sizeof again, &n) ==
		    -1 && k * 3 < sizeof again) {
			abort();	/* decoded to invalid UTF-8 */
		}
	}
	return 0;
}
