/* SPDX-License-Identifier: ISC */
/*
 * fuzz_der.c - libFuzzer harness for the DER element reader
 * (core/der.h): the input is walked as nested elements, depth first,
 * as `wren check` walks a certificate; every element's contents must
 * lie inside its parent, the cursor must move forward, and a refused
 * element must leave the cursor where it was. The input is also read
 * as a DKIM record's RSA key (der_rsa_pub): n and e, when found, lie
 * inside it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/der.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define DEPTH_MAX	16

static void
walk(const unsigned char *p, const unsigned char *end, int depth)
{
	while (p < end) {
		const unsigned char *start = p, *v;
		unsigned tag;
		size_t len;

		if (der_get(&p, end, &tag, &v, &len) == -1) {
			if (p != start) {
				abort();	/* moved on failure */
			}
			return;
		}
		if (p <= start || v < start || v + len > end || p != v + len) {
			abort();
		}
		if ((tag & 0x20) && depth < DEPTH_MAX) {
			walk(v, v + len, depth + 1);	/* constructed */
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *n, *e;
	size_t nlen, elen;

	walk(data, data + size, 0);
	if (der_rsa_pub(data, size, &n, &nlen, &e, &elen) == 0 &&
	    (n < data || n + nlen > data + size || e < data ||
	    e + elen > data + size || nlen == 0 || elen == 0)) {
		abort();
	}
	return 0;
}
