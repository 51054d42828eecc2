/* SPDX-License-Identifier: ISC */
/*
 * zpump.c - the COMPRESS=DEFLATE connection layer (RFC 4978 3-4): a
 * filter stacked over the socket or over the TLS filter, so that the
 * protocol still reads c->in and writes c->out in the clear.
 *
 * The filter below reads into and sends from c->in and c->out: to
 * drive it, the layer lends it its own compressed buffers in their
 * place for the length of one call (lower_read, lower_flush), with
 * c->filter_state set to the state below. TLS is left as it is.
 *
 * Output: at each flush (before the loop sleeps, or when the socket
 * drains) c->out is deflated into raw_out a block at a time and the
 * burst ends with a sync flush (an empty stored block), so the client
 * can decode every response as soon as it arrives (RFC 4978 4). The
 * bytes queued before compression started (the OK) go first, as they
 * are. Input: compressed bytes are inflated into c->in as far as it
 * has room; the rest waits in raw_in and the inflater, and
 * `buffered` tells the core to come back (a small input may inflate
 * to much more than c->in holds).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pool.h"
#include "compress/deflate.h"
#include "compress/inflate.h"
#include "compress/zpump.h"

/* Compressed input waiting to be inflated: one read's worth. */
#define ZPUMP_IN_SIZE	CONN_BUF_SIZE

struct zslot {
	const struct conn_filter *lower;	/* NULL: the socket */
	void			*lower_state;
	size_t			 plain;		/* c->out bytes sent as
						 * they are (the OK) */
	int			 eof;		/* below: EOF or error */
	struct buf		 raw_in, raw_out;
	struct zinf		 inf;
	struct zdef		 def;
	char			 in_data[ZPUMP_IN_SIZE];
	char			 out_data[ZDEF_OUT_MIN];
};

static struct {
	struct pool	 slots;
	int		 on;
} zp;

static int	zp_read(struct conn *);
static int	zp_flush(struct conn *);
static int	zp_pending(const struct conn *);
static int	zp_buffered(const struct conn *);
static void	zp_close(struct conn *);
static const struct conn_filter *zp_below(const struct conn *, void **);
static int	deflate_out(struct conn *, struct zslot *);
static int	lower_read(struct conn *, struct zslot *);
static int	lower_flush(struct conn *, struct zslot *, int last);
static int	sock_read(struct conn *, struct buf *);
static int	sock_send(struct conn *, struct buf *);

static const struct conn_filter zpump_filter = {
	.read = zp_read,
	.flush = zp_flush,
	.pending = zp_pending,
	.buffered = zp_buffered,
	.close = zp_close,
	.below = zp_below,
};

int
zpump_init(size_t max, struct err *e)
{
	memset(&zp, 0, sizeof zp);
	if (max == 0) {
		return 0;
	}
	if (pool_init(&zp.slots, "compress", sizeof(struct zslot), max,
	    e) == -1) {
		return -1;
	}
	zp.on = 1;
	return 0;
}

void
zpump_shutdown(void)
{
	if (zp.on) {
		pool_destroy(&zp.slots);
	}
	zp.on = 0;
}

size_t
zpump_bytes_per_slot(void)
{
	return sizeof(struct zslot);
}

int
zpump_available(void)
{
	return zp.on && pool_avail(&zp.slots) > 0;
}

int
zpump_active(const struct conn *c)
{
	return conn_filter_state(c, &zpump_filter) != NULL;
}

int
zpump_start(struct conn *c)
{
	/* Raw: every field read is set here; the windows are written
	 * before they are read. */
	struct zslot *z = zp.on ? pool_get_raw(&zp.slots) : NULL;

	if (z == NULL) {
		return -1;
	}
	z->lower = c->filter;
	z->lower_state = c->filter_state;
	z->plain = c->out.len;
	z->eof = 0;
	buf_init(&z->raw_in, z->in_data, sizeof z->in_data);
	buf_init(&z->raw_out, z->out_data, sizeof z->out_data);
	zinf_init(&z->inf);
	zdef_init(&z->def);
	/* What the client sent after COMPRESS is compressed already. */
	if (buf_append(&z->raw_in, buf_head(&c->in), c->in.len) == -1) {
		(void)pool_put(&zp.slots, z);
		return -1;
	}
	buf_consume(&c->in, c->in.len);
	conn_filter_now(c, &zpump_filter, z);
	if (z->raw_in.len > 0) {
		(void)zp_read(c);
	}
	return 0;
}

/* Compressed bytes in, inflated into c->in: 1 when bytes were added,
 * 0 when none now, -1 when the stream is over or broken. */
static int
zp_read(struct conn *c)
{
	struct zslot *z = c->filter_state;
	int added = 0;

	for (;;) {
		if (z->raw_in.len > 0 || z->inf.full) {
			size_t room, n, used;
			char *tail = buf_tail(&c->in, &room);

			if (room == 0) {
				break;
			}
			used = zinf_run(&z->inf, buf_head(&z->raw_in),
			    z->raw_in.len, tail, room, &n);
			buf_consume(&z->raw_in, used);
			buf_commit(&c->in, n);
			added |= n > 0;
			if (z->inf.err != ZINF_OK) {
				conn_log(c, LOG_LVL_INFO, "COMPRESS: %s",
				    zinf_strerror(z->inf.err));
				return -1;
			}
			if (z->inf.full) {
				break;
			}
		}
		if (z->eof) {
			break;
		}
		switch (lower_read(c, z)) {
		case -1:
			z->eof = 1;	/* inflate what came with it */
			continue;
		case 0:
			return added;
		default:
			continue;
		}
	}
	return added ? 1 : z->eof ? -1 : 0;
}

/* c->out deflated and sent, as far as the socket takes it. */
static int
zp_flush(struct conn *c)
{
	struct zslot *z = c->filter_state;

	for (;;) {
		int last;

		if (deflate_out(c, z) == -1) {
			return -1;
		}
		last = c->out.len == 0 && z->plain == 0 &&
		    !zdef_pending(&z->def);
		if (lower_flush(c, z, last) == -1) {
			return -1;
		}
		if (z->raw_out.len > 0 || last) {
			return 0;	/* socket full, or all gone */
		}
	}
}

/* Moves what it can of c->out into raw_out: the plain bytes first,
 * then deflated, then the sync flush once c->out is empty. */
static int
deflate_out(struct conn *c, struct zslot *z)
{
	size_t room, n, used;
	char *tail = buf_tail(&z->raw_out, &room);

	if (z->plain > 0) {
		n = z->plain < room ? z->plain : room;
		memcpy(tail, buf_head(&c->out), n);
		buf_commit(&z->raw_out, n);
		buf_consume(&c->out, n);
		z->plain -= n;
		if (z->plain > 0) {
			return 0;
		}
		tail = buf_tail(&z->raw_out, &room);
	}
	if (c->out.len > 0) {
		used = zdef_write(&z->def, buf_head(&c->out), c->out.len,
		    tail, room, &n);
		buf_consume(&c->out, used);
		buf_commit(&z->raw_out, n);
		if (c->out.len > 0) {
			return 0;	/* raw_out first */
		}
		tail = buf_tail(&z->raw_out, &room);
	}
	/* -1 only asks for room: raw_out drains first. */
	(void)zdef_flush(&z->def, tail, room, &n);
	buf_commit(&z->raw_out, n);
	return 0;
}

static int
zp_pending(const struct conn *c)
{
	const struct zslot *z = c->filter_state;
	int below = 0;

	if (z->lower != NULL) {
		/* The filter below sees its own state (and only reads
		 * it: the cast changes nothing). */
		struct conn *m = (struct conn *)c;

		m->filter_state = z->lower_state;
		below = z->lower->pending(m);
		m->filter_state = (void *)z;
	}
	return below || z->raw_out.len > 0 || z->plain > 0 ||
	    zdef_pending(&z->def);
}

static int
zp_buffered(const struct conn *c)
{
	const struct zslot *z = c->filter_state;
	int below = 0;

	if (z->inf.full) {
		return 1;
	}
	if (z->lower != NULL) {
		struct conn *m = (struct conn *)c;

		m->filter_state = z->lower_state;
		below = z->lower->buffered(m);
		m->filter_state = (void *)z;
	}
	return below;
}

static void
zp_close(struct conn *c)
{
	struct zslot *z = c->filter_state;

	if (z == NULL) {
		return;
	}
	if (z->lower != NULL && z->lower->close != NULL) {
		c->filter_state = z->lower_state;
		z->lower->close(c);
	}
	c->filter_state = NULL;
	(void)pool_put(&zp.slots, z);
}

static const struct conn_filter *
zp_below(const struct conn *c, void **state)
{
	const struct zslot *z = *state;

	(void)c;
	*state = z->lower_state;
	return z->lower;
}

/* The filter below (or the socket) reads into raw_in. */
static int
lower_read(struct conn *c, struct zslot *z)
{
	struct buf keep = c->in;
	int rc;

	if (z->lower == NULL) {
		return sock_read(c, &z->raw_in);
	}
	c->in = z->raw_in;
	c->filter_state = z->lower_state;
	rc = z->lower->read(c);
	z->raw_in = c->in;
	c->in = keep;
	c->filter_state = z;
	return rc;
}

/* The filter below (or the socket) sends raw_out. Until the last of
 * our output is in raw_out (last), the filter below must not see that
 * the connection is closing: TLS would send its close_notify. */
static int
lower_flush(struct conn *c, struct zslot *z, int last)
{
	struct buf keep = c->out;
	unsigned closing = c->flags & CONN_F_CLOSING;
	int rc;

	if (z->lower == NULL) {
		return sock_send(c, &z->raw_out);
	}
	if (!last) {
		c->flags &= ~CONN_F_CLOSING;
	}
	c->out = z->raw_out;
	c->filter_state = z->lower_state;
	rc = z->lower->flush(c);
	z->raw_out = c->out;
	c->out = keep;
	c->filter_state = z;
	c->flags |= closing;
	return rc;
}

/* read(2) into b: 1 when bytes came, 0 when none now, -1 at EOF or on
 * an error. */
static int
sock_read(struct conn *c, struct buf *b)
{
	for (;;) {
		size_t room;
		char *tail = buf_tail(b, &room);
		ssize_t n;

		if (room == 0) {
			return 0;
		}
		n = read(c->fd, tail, room);
		if (n > 0) {
			buf_commit(b, (size_t)n);
			return 1;
		}
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		}
		return -1;
	}
}

/* b to the socket until it is full (EV_WRITE asked for): 0, or -1 on
 * an error. */
static int
sock_send(struct conn *c, struct buf *b)
{
	while (b->len > 0) {
		ssize_t n = send(c->fd, buf_head(b), b->len, MSG_NOSIGNAL);

		if (n > 0) {
			buf_consume(b, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_want_write(c, 1);
			return 0;
		}
		return -1;
	}
	conn_want_write(c, 0);
	return 0;
}
