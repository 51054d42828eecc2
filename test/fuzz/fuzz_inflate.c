/* SPDX-License-Identifier: ISC */
/*
 * fuzz_inflate.c - libFuzzer harness for the raw DEFLATE decoder
 * (compress/inflate.h).
 *
 * The input is decoded whole into a large output, then again in
 * chunks whose sizes come from the input's first byte with a few bytes
 * of output room per call: both runs must agree on the error, the
 * output (up to where either stopped) and the end, every call must
 * stay in its bounds, and a call that neither errs nor fills its
 * output must take all its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compress/inflate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define OUT_MAX	(1u << 20)	/* a bomb stops here: output full */

static struct zinf z1, z2;
static unsigned char out1[OUT_MAX], out2[OUT_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n1 = 0, n2 = 0, i = 0, chunk, room, stall = 0;
	size_t used;

	if (size < 1) {
		return 0;
	}
	chunk = 1 + (data[0] & 15);
	room = 1 + (data[0] >> 4);
	data++;
	size--;
	zinf_init(&z1);
	used = zinf_run(&z1, data, size, out1, sizeof out1, &n1);
	if (used > size || n1 > sizeof out1) {
		abort();
	}
	if (z1.err == ZINF_OK && !z1.full && used != size) {
		abort();
	}
	zinf_init(&z2);
	while (z2.err == ZINF_OK && n2 < n1 + 1 && stall < 3 &&
	    n2 < sizeof out2) {
		size_t len = size - i < chunk ? size - i : chunk, p;
		size_t r = sizeof out2 - n2 < room ? sizeof out2 - n2 : room;

		used = zinf_run(&z2, data + i, len, out2 + n2, r, &p);
		if (used > len || p > r) {
			abort();
		}
		if (z2.err == ZINF_OK && !z2.full && used != len) {
			abort();
		}
		i += used;
		n2 += p;
		stall = used == 0 && p == 0 ? stall + 1 : 0;
	}
	/* Same bytes as far as both went. */
	if (memcmp(out1, out2, n1 < n2 ? n1 : n2) != 0) {
		abort();
	}
	/* A whole run that ended cleanly (not full) is matched exactly. */
	if (!z1.full && i == size && z1.err != z2.err) {
		abort();
	}
	if (!z1.full && i == size && z1.err == ZINF_OK && (n1 != n2 ||
	    zinf_done(&z1) != zinf_done(&z2))) {
		abort();
	}
	return 0;
}
