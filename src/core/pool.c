/* SPDX-License-Identifier: ISC */
/*
 * pool.c - fixed-size block pools (see pool.h for the picture).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pool.h"

#define POOL_ALIGN	16
#define POOL_COUNT_MAX	(1u << 24)	/* indices fit in 32 bits */

int
pool_init(struct pool *p, const char *name, size_t size, size_t count,
    struct err *e)
{
	memset(p, 0, sizeof *p);
	p->name = name;
	if (size == 0 || count == 0 || count > POOL_COUNT_MAX ||
	    size > SIZE_MAX / 2 / count) {
		return err_set(e, "pool %s: bad size %zu x %zu", name, count,
		    size);
	}
	p->size = (size + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	p->count = count;
	p->map_len = p->size * count;
	p->base = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->base == MAP_FAILED) {
		p->base = NULL;
		return err_set(e, "pool %s: cannot map %zu bytes", name,
		    p->map_len);
	}
	p->free = calloc(count, sizeof *p->free);
	p->used = calloc((count + 7) / 8, 1);
	if (p->free == NULL || p->used == NULL) {
		pool_destroy(p);
		return err_set(e, "pool %s: out of memory", name);
	}
	/* Lowest index on top, so a lightly used pool keeps touching the
	 * same few pages. */
	for (size_t i = 0; i < count; i++) {
		p->free[i] = (uint32_t)(count - 1 - i);
	}
	p->nfree = count;
	p->low_water = count;
	return 0;
}

void
pool_destroy(struct pool *p)
{
	if (p->base != NULL) {
		munmap(p->base, p->map_len);
	}
	free(p->free);
	free(p->used);
	memset(p, 0, sizeof *p);
}

void *
pool_get_raw(struct pool *p)
{
	uint32_t i;

	if (p->nfree == 0) {
		return NULL;
	}
	i = p->free[--p->nfree];
	if (p->nfree < p->low_water) {
		p->low_water = p->nfree;
	}
	p->used[i / 8] |= (uint8_t)(1u << (i % 8));
	return p->base + (size_t)i * p->size;
}

void *
pool_get(struct pool *p)
{
	void *b = pool_get_raw(p);

	if (b != NULL) {
		memset(b, 0, p->size);
	}
	return b;
}

int
pool_put(struct pool *p, void *ptr)
{
	unsigned char *b = ptr;
	size_t off;
	uint32_t i;

	if (b < p->base || b >= p->base + p->map_len) {
		return -1;
	}
	off = (size_t)(b - p->base);
	if (off % p->size != 0) {
		return -1;
	}
	i = (uint32_t)(off / p->size);
	if (!(p->used[i / 8] & (1u << (i % 8)))) {
		return -1;		/* double put */
	}
	p->used[i / 8] &= (uint8_t)~(1u << (i % 8));
	p->free[p->nfree++] = i;
	return 0;
}

size_t
pool_avail(const struct pool *p)
{
	return p->nfree;
}

size_t
pool_bytes(const struct pool *p)
{
	return p->map_len + p->count * sizeof *p->free + (p->count + 7) / 8;
}

void *
pool_pages(size_t len)
{
	void *p;

	if (len == 0) {
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void
pool_pages_free(void *p, size_t len)
{
	if (p != NULL) {
		munmap(p, len);
	}
}
