/* SPDX-License-Identifier: ISC */
/*
 * buf.h - a byte buffer over caller-owned storage (a pool block).
 *
 *   data              off          off+len               cap
 *   |  consumed       |   pending    |      free           |
 *
 * Readers consume from the front; writers append at the back;
 * buf_compact moves the pending bytes to the front when the free tail
 * runs short. Nothing here allocates.
 */
#ifndef WREN_BUF_H
#define WREN_BUF_H

#include <stddef.h>

struct buf {
	char	*data;
	size_t	 cap, off, len;
};

void	buf_init(struct buf *, char *storage, size_t cap);

static inline const char *
buf_head(const struct buf *b)
{
	return b->data + b->off;
}

/* Free space at the tail after compacting if that helps. */
char	*buf_tail(struct buf *, size_t *room);
void	buf_commit(struct buf *, size_t n);	/* n bytes written at tail */
void	buf_consume(struct buf *, size_t n);	/* n bytes read at head */
void	buf_compact(struct buf *);

/* Appends all of p or nothing: 0, or -1 when it does not fit. */
int	buf_append(struct buf *, const void *p, size_t len);

/* Appends printf-style text (see fmt.h): all of it or nothing. */
int	buf_appendf(struct buf *, const char *f, ...)
	    __attribute__((format(printf, 2, 3)));

static inline size_t
buf_room(const struct buf *b)
{
	return b->cap - b->len;		/* after a compaction */
}

#endif
