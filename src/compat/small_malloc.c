/* SPDX-License-Identifier: ISC */
/*
 * small_malloc.c - the allocator of the static musl builds, linked in
 * place of musl's mallocng (about 6.5 KB on armhf; the size budget).
 *
 * wren allocates its pools once at start-up (core/pool.c) and after
 * that only on a reload (certificates, trust anchors) or in the short
 * commands (wren map, wren user), so speed and fragmentation matter
 * little here and code size does. The process has one thread.
 *
 * Every block starts with a header of SM_HDR octets (16: the alignment
 * malloc owes) that names its class:
 *
 *   small   class c < SM_CLASSES: blocks of SM_MIN << c octets, header
 *           included (32 ... 4096), carved from SM_CHUNK mappings and
 *           kept on a free list per class when freed (reused, never
 *           unmapped: what a reload frees, the next one takes again);
 *   big     SM_BIG: a mapping of its own, its length in the header,
 *           unmapped by free().
 *
 * Fresh mappings are zero, so calloc clears only reused small blocks.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define SM_HDR		16
#define SM_MIN		32
#define SM_CLASSES	8			/* 32 << 7 = 4096 */
#define SM_CHUNK	(64 * 1024)
#define SM_BIG		((size_t)-1)
#define SM_PAGE		4096

struct sm_hdr {
	size_t		 cls;		/* class, or SM_BIG */
	size_t		 len;		/* a big block's mapping length */
};

struct sm_free {
	struct sm_free	*next;
};

static struct {
	struct sm_free	*free[SM_CLASSES];
	unsigned char	*chunk;		/* the small blocks' current chunk */
	size_t		 left;		/* octets not yet carved from it */
} sm;

void	*malloc(size_t);
void	 free(void *);
void	*calloc(size_t, size_t);
void	*realloc(void *, size_t);

static void	*sm_map(size_t);

static void *
sm_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void *
malloc(size_t n)
{
	struct sm_hdr *h;
	size_t c, size;

	if (n > SIZE_MAX / 2) {
		errno = ENOMEM;
		return NULL;
	}
	for (c = 0; c < SM_CLASSES && (size_t)SM_MIN << c < n + SM_HDR;
	    c++) {
	}
	if (c == SM_CLASSES) {
		size = (n + SM_HDR + SM_PAGE - 1) & ~(size_t)(SM_PAGE - 1);
		if ((h = sm_map(size)) == NULL) {
			return NULL;
		}
		h->cls = SM_BIG;
		h->len = size;
		return (unsigned char *)h + SM_HDR;
	}
	if (sm.free[c] != NULL) {
		h = (struct sm_hdr *)sm.free[c];
		sm.free[c] = sm.free[c]->next;
	} else {
		size = (size_t)SM_MIN << c;
		if (sm.left < size) {
			/* The rest of the old chunk is dropped: at most
			 * 4 KB, and only when classes are mixed. */
			if ((sm.chunk = sm_map(SM_CHUNK)) == NULL) {
				sm.left = 0;
				return NULL;
			}
			sm.left = SM_CHUNK;
		}
		h = (struct sm_hdr *)sm.chunk;
		sm.chunk += size;
		sm.left -= size;
	}
	h->cls = c;
	h->len = 0;
	return (unsigned char *)h + SM_HDR;
}

void
free(void *p)
{
	struct sm_hdr *h;
	struct sm_free *f;
	size_t c;

	if (p == NULL) {
		return;
	}
	h = (struct sm_hdr *)((unsigned char *)p - SM_HDR);
	if ((c = h->cls) == SM_BIG) {
		(void)munmap(h, h->len);
		return;
	}
	/* The link overwrites the header: its class was read first. */
	f = (struct sm_free *)h;
	f->next = sm.free[c];
	sm.free[c] = f;
}

void *
calloc(size_t n, size_t size)
{
	struct sm_hdr *h;
	void *p;

	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	if ((p = malloc(n * size)) == NULL) {
		return NULL;
	}
	h = (struct sm_hdr *)((unsigned char *)p - SM_HDR);
	if (h->cls != SM_BIG) {
		memset(p, 0, n * size);
	}
	return p;
}

void *
realloc(void *p, size_t n)
{
	struct sm_hdr *h;
	size_t have;
	void *q;

	if (p == NULL) {
		return malloc(n);
	}
	h = (struct sm_hdr *)((unsigned char *)p - SM_HDR);
	have = (h->cls == SM_BIG ? h->len : (size_t)SM_MIN << h->cls) -
	    SM_HDR;
	if (n <= have) {
		return p;
	}
	if ((q = malloc(n)) == NULL) {
		return NULL;
	}
	memcpy(q, p, have);
	free(p);
	return q;
}
