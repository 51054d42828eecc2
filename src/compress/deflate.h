/* SPDX-License-Identifier: ISC */
/*
 * deflate.h - raw DEFLATE compression (RFC 1951), sans-I/O: LZ77 on
 * hash chains with lazy matching, each block sent as the smallest of
 * stored, fixed or dynamic Huffman, and the sync flush RFC 4978 needs
 * at the end of each burst of output.
 *
 *   struct zdef *z = ...;                  // caller's storage
 *   zdef_init(z);
 *   used = zdef_write(z, in, len, out, cap, &n);  // may take less
 *   if (zdef_flush(z, out + n, cap - n, &m) == -1) ... room first
 *
 * Output is written a whole block at a time: a call that cannot fit
 * the next block stops and takes no more input until it is called
 * again with room. ZDEF_OUT_MIN bytes of room always suffice.
 * sizeof(struct zdef) is the whole state (two windows, chains, one
 * block of symbols); nothing is allocated.
 */
#ifndef WREN_DEFLATE_H
#define WREN_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

#define ZDEF_WSIZE	(1u << ZDEF_WBITS)

/* The largest block and a sync flush after it: stored, a block is its
 * input (at most ZDEF_BLOCK_IN plus one match) and 5 header bytes;
 * the flush is 5 more, plus the bits left of a byte. */
#define ZDEF_OUT_MIN	(ZDEF_BLOCK_IN + 258 + 16)

#if ZDEF_WBITS > 15 || ZDEF_WBITS < 9
#error "ZDEF_WBITS: RFC 1951 windows are 512 B to 32 KB"
#endif
#if ZDEF_BLOCK_IN + 3 * 258 > ZDEF_WSIZE
#error "ZDEF_BLOCK_IN: a block must stay in the window until sent"
#endif

struct zdef {
	uint32_t	 strstart;	/* next position to match */
	uint32_t	 lookahead;	/* bytes at strstart not matched */
	uint32_t	 block_start;	/* first byte of the open block */
	uint32_t	 block_len;	/* bytes its symbols cover */
	unsigned	 match_len, match_dist;	/* found at strstart */
	unsigned	 prev_len, prev_dist;	/* at strstart - 1 */
	int		 match_avail;	/* strstart - 1 not sent yet */
	uint64_t	 bits;		/* output bits not written yet */
	unsigned	 nbits;
	unsigned	 nsyms;
	int		 dirty;		/* taken since the last flush */
	uint16_t	 freq_l[286], freq_d[30];
	uint8_t		 sym_l[ZDEF_SYMS];	/* literal or length - 3 */
	uint16_t	 sym_d[ZDEF_SYMS];	/* 0 or the distance */
	uint16_t	 head[1u << ZDEF_HASH_BITS];
	uint16_t	 prev[ZDEF_WSIZE];
	unsigned char	 win[2 * ZDEF_WSIZE];
};

void	zdef_init(struct zdef *);

/*
 * Takes bytes of in[0..len) into the stream and writes the blocks
 * they complete to out[0..cap): returns the bytes taken, *produced
 * the bytes written. It takes all of them unless a block waits for
 * room in out.
 */
size_t	zdef_write(struct zdef *, const void *in, size_t len, void *out,
	    size_t cap, size_t *produced);

/*
 * Sync flush: everything taken so far is sent, ending with an empty
 * stored block (RFC 1951 3.2.4, as zlib's Z_SYNC_FLUSH), so that the
 * peer can decode all of it. 0 when done, -1 when out needs room
 * first (call again; *produced may be non-zero either way). Nothing
 * is written when nothing was taken since the last flush.
 */
int	zdef_flush(struct zdef *, void *out, size_t cap, size_t *produced);

/* 1 when bytes were taken since the last flush. */
int	zdef_pending(const struct zdef *);

#endif
