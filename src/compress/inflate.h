/* SPDX-License-Identifier: ISC */
/*
 * inflate.h - raw DEFLATE decompression (RFC 1951), sans-I/O: stored,
 * fixed and dynamic Huffman blocks, a 32 KB window, input fed in
 * chunks of any size and output taken as room allows.
 *
 *   struct zinf z;
 *   zinf_init(&z);
 *   used = zinf_run(&z, in, len, out, cap, &n);   // may take less
 *   if (z.err != ZINF_OK) ... zinf_strerror(z.err)
 *
 * The state is bounded (sizeof(struct zinf), mostly the window) and
 * nothing is allocated. Errors are sticky: once z.err is set the
 * decoder takes no more input. Hostile input (bad block types,
 * over-subscribed or incomplete codes, distances before the start of
 * the data) is an error, never a read outside the window.
 */
#ifndef WREN_INFLATE_H
#define WREN_INFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

enum zinf_err {
	ZINF_OK,
	ZINF_E_BTYPE,		/* block type 3 */
	ZINF_E_STORED,		/* LEN and NLEN disagree */
	ZINF_E_COUNTS,		/* HLIT > 286 or HDIST > 30 */
	ZINF_E_CODE,		/* over-subscribed or incomplete code */
	ZINF_E_REPEAT,		/* code length repeat with no previous
				 * length, or past the end */
	ZINF_E_NO_EOB,		/* no code for end-of-block */
	ZINF_E_SYMBOL,		/* a symbol with no meaning (286, 287,
				 * distance 30, 31, a missing code) */
	ZINF_E_DIST,		/* distance before the start of data */
	ZINF_E_AFTER_END	/* input after the final block */
};

/* Huffman code as counts per length and symbols in canonical order. */
struct zinf_code {
	uint16_t	count[16];
	uint16_t	sym[288];
};

struct zinf {
	enum zinf_err	 err;
	unsigned	 state;
	uint64_t	 bits;		/* input bits not used yet */
	unsigned	 nbits;
	unsigned	 final;		/* this block is the last */
	unsigned	 n;		/* stored bytes left; lengths read */
	unsigned	 hlit, hdist, hclen;
	unsigned	 copy_len, copy_dist;	/* a match not all out */
	unsigned	 full;		/* stopped for want of room */
	uint32_t	 wpos;		/* next write in win */
	uint32_t	 whave;		/* bytes in win, up to its size */
	struct zinf_code lencode, distcode;
	uint8_t		 lens[286 + 30];
	unsigned char	 win[ZINF_WINDOW];
};

void	zinf_init(struct zinf *);

/*
 * Decodes from in[0..len) into out[0..cap): returns the input bytes
 * taken (all of them unless an error stops it or the output is full),
 * *produced the bytes written. z->full is 1 when it stopped because
 * out had no room: call again with room even without new input.
 */
size_t	zinf_run(struct zinf *, const void *in, size_t len, void *out,
	    size_t cap, size_t *produced);

/* 1 once the final block has ended. */
int	zinf_done(const struct zinf *);

const char	*zinf_strerror(enum zinf_err);

#endif
