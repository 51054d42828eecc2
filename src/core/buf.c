/* SPDX-License-Identifier: ISC */
/*
 * buf.c - byte buffers over pool blocks (see buf.h).
 */
#include <stdarg.h>
#include <string.h>

#include "buf.h"
#include "fmt.h"

void
buf_init(struct buf *b, char *storage, size_t cap)
{
	b->data = storage;
	b->cap = cap;
	b->off = 0;
	b->len = 0;
}

char *
buf_tail(struct buf *b, size_t *room)
{
	if (b->off > 0 && b->off + b->len == b->cap) {
		buf_compact(b);
	}
	*room = b->cap - b->off - b->len;
	return b->data + b->off + b->len;
}

void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = 0;
		b->len = 0;
		return;
	}
	b->off += n;
	b->len -= n;
}

void
buf_compact(struct buf *b)
{
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
}

int
buf_append(struct buf *b, const void *p, size_t len)
{
	if (len > b->cap - b->len) {
		return -1;
	}
	if (len > b->cap - b->off - b->len) {
		buf_compact(b);
	}
	memcpy(b->data + b->off + b->len, p, len);
	b->len += len;
	return 0;
}

int
buf_appendf(struct buf *b, const char *f, ...)
{
	va_list ap;
	size_t room;
	char *t;
	int n;

	buf_compact(b);
	t = buf_tail(b, &room);
	va_start(ap, f);
	n = vfmt(t, room, f, ap);
	va_end(ap);
	/* vfmt needs room for its NUL, which is not kept. */
	if (n < 0 || (size_t)n >= room) {
		return -1;
	}
	b->len += (size_t)n;
	return 0;
}
