/* SPDX-License-Identifier: ISC */
/*
 * fuzz_deflate.c - libFuzzer harness for the raw DEFLATE encoder
 * (compress/deflate.h), checked by the decoder (compress/inflate.h).
 *
 * The input's first two bytes choose the piece size and how often to
 * sync-flush; the rest is compressed in those pieces through an
 * output of exactly ZDEF_OUT_MIN bytes of room per call (the least the
 * encoder promises to work with). Every flush must leave a stream that
 * decodes to exactly the bytes written so far, and the end must decode
 * to the whole input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compress/deflate.h"
#include "compress/inflate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define IN_MAX	(1u << 16)
#define FLUSH_MAX	32

static struct zdef zd;
static struct zinf zi;
static unsigned char out[2 * IN_MAX + 64 * ZDEF_OUT_MIN];
static unsigned char back[IN_MAX + 1];

static size_t	fed, got;

/* Feeds the decoder what was written since the last check: it must
 * give back exactly the input up to len (one decoder for the whole
 * stream, as the peer has). */
static void
check(size_t o, const uint8_t *want, size_t len)
{
	size_t n, used;

	used = zinf_run(&zi, out + fed, o - fed, back, sizeof back, &n);
	if (zi.err != ZINF_OK || used != o - fed || got + n != len ||
	    memcmp(back, want + got, n) != 0) {
		abort();
	}
	fed = o;
	got = len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t piece, every, i = 0, o = 0, pieces = 0, n;

	if (size < 2 || size - 2 > IN_MAX) {
		return 0;
	}
	piece = 1 + data[0] * 37;
	every = data[1] & 7;
	data += 2;
	size -= 2;
	zdef_init(&zd);
	zinf_init(&zi);
	fed = got = 0;
	while (i < size) {
		size_t want = size - i < piece ? size - i : piece, took = 0;

		while (took < want) {
			took += zdef_write(&zd, data + i + took, want - took,
			    out + o, ZDEF_OUT_MIN, &n);
			if (n > ZDEF_OUT_MIN) {
				abort();
			}
			o += n;
		}
		i += want;
		/* At most FLUSH_MAX flushes an input: each builds the
		 * block's trees, and thousands (one a byte) made a run
		 * take 20 ms without finding more. */
		if (every != 0 && ++pieces % every == 0 &&
		    pieces / every <= FLUSH_MAX) {
			while (zdef_flush(&zd, out + o, ZDEF_OUT_MIN, &n) ==
			    -1) {
				o += n;
			}
			o += n;
			check(o, data, i);
		}
	}
	while (zdef_flush(&zd, out + o, ZDEF_OUT_MIN, &n) == -1) {
		o += n;
	}
	o += n;
	check(o, data, size);
	/* Without flushes, never much over the input (stored blocks of
	 * ZDEF_BLOCK_IN bytes at worst). */
	if (every == 0 && o > size + size / 64 + 64) {
		abort();
	}
	return 0;
}
