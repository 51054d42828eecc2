/* SPDX-License-Identifier: ISC */
/*
 * der.c - one DER element at a time (X.690 8.1.2 identifier, 8.1.3
 * length, definite form only as DER requires, 10.1): see der.h.
 */
#include "core/der.h"

int
der_get(const unsigned char **p, const unsigned char *end, unsigned *tag,
    const unsigned char **v, size_t *len)
{
	const unsigned char *q = *p;
	size_t l, k;

	if (q > end || end - q < 2) {
		return -1;
	}
	*tag = q[0];
	l = q[1];
	q += 2;
	if (l & 0x80) {
		k = l & 0x7f;
		if (k == 0 || k > DER_LEN_OCTETS_MAX ||
		    (size_t)(end - q) < k) {
			return -1;
		}
		for (l = 0; k > 0; k--) {
			l = (l << 8) | *q++;
		}
	}
	if ((size_t)(end - q) < l) {
		return -1;
	}
	*v = q;
	*len = l;
	*p = q + l;
	return 0;
}
