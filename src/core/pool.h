/* SPDX-License-Identifier: ISC */
/*
 * pool.h - fixed-size block pools, sized once at start-up.
 *
 * A pool is one anonymous mapping of `count` blocks of `size` bytes and
 * a stack of free block indices. pool_get and pool_put are O(1) and
 * never allocate; an empty pool returns NULL, which callers turn into a
 * temporary-failure reply (421, * BYE), never a crash.
 *
 *   base                                           base + count*size
 *   | block 0 | block 1 | block 2 | ...             | block count-1 |
 *   free[] = { 2, 0, ... }   nfree = 2   (top of stack: free[nfree-1])
 *   used[]   one bit per block, catches double and foreign pool_put.
 *
 * Pages are touched only when a block is first used, so the resident
 * size follows the peak number of blocks in use, not `count`.
 */
#ifndef WREN_POOL_H
#define WREN_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct pool {
	const char	*name;		/* for logs: "conn", "buf" */
	unsigned char	*base;
	size_t		 size;		/* block size, rounded up to 16 */
	size_t		 count;
	size_t		 map_len;
	uint32_t	*free;		/* stack of free indices */
	size_t		 nfree;
	uint8_t		*used;		/* bitmap, count bits */
	size_t		 low_water;	/* least nfree seen */
};

int	pool_init(struct pool *, const char *name, size_t size, size_t count,
	    struct err *);
void	pool_destroy(struct pool *);

/* A zero-filled block, or NULL when the pool is empty. */
void	*pool_get(struct pool *);
/* A block as its last user left it (or zero, never used): for big
 * blocks whose users set every field they read, so a take touches no
 * page it does not need. NULL when the pool is empty. */
void	*pool_get_raw(struct pool *);

/* Returns a block; 0, or -1 when p is not a block of this pool that
 * is in use (the block is then left alone). */
int	pool_put(struct pool *, void *p);

size_t	pool_avail(const struct pool *);

/* Zeroed pages for an array sized at start (mmap, not the heap: pages
 * of it never written stay out of memory, whatever malloc would do),
 * or NULL; pool_pages_free gives them back. */
void	*pool_pages(size_t len);
void	 pool_pages_free(void *, size_t len);

/* Bytes reserved for the pool (its blocks and bookkeeping). */
size_t	pool_bytes(const struct pool *);

#endif
