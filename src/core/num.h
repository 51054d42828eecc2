/* SPDX-License-Identifier: ISC */
/*
 * num.h - decimal numbers in protocol and file text: digits only, no
 * sign, no white space, no overflow. Header-only so that sans-I/O
 * parsers can use it without linking anything of ours.
 */
#ifndef WREN_NUM_H
#define WREN_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Parses s[0..len) into *out when it is 1-20 digits and at most max;
 * 0, or -1 (and *out untouched). */
static inline int
num_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		uint64_t d;

		if (s[i] < '0' || s[i] > '9') {
			return -1;
		}
		d = (uint64_t)(s[i] - '0');
		if (v > (max - d) / 10) {
			return -1;
		}
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

#endif
