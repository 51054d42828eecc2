/* SPDX-License-Identifier: ISC */
/*
 * conn.c - the connection table: slots, buffered output, input
 * back-pressure, idle timers and session deadlines, filters and the
 * deferred reclaim of closed connections. listen.c and connect.c
 * bring connections in.
 *
 * Lifetime of a connection:
 *
 *   conn_adopt (listen.c: accepted; connect.c: connecting)
 *     -> conn_start -> proto->open -> [input/writable/timeout]*
 *     -> conn_close (CLOSING: flush) -> gone: proto->close, fd closed,
 *        admit->release, the "disconnect" line, DEAD, on the reclaim
 *        list
 *     -> before sleep: blocks returned
 *
 * Every way out (peer EOF, read or write error, conn_close after the
 * flush, conn_abort, timeouts, shutdown) goes through conn_gone, once:
 * that is where the one "disconnect" line of a connection is written,
 * with the first cause recorded in c->why.
 *
 * The blocks of a closed connection are returned only before the loop
 * sleeps, so a handler that closes its connection and returns never
 * finds it reused under its feet.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "conn.h"
#include "fmt.h"
#include "log.h"

static void	conn_io(struct ev *, int, unsigned, void *);
static void	conn_idle_fired(struct timer *, void *);
static void	conn_deadline_fired(struct timer *, void *);
static void	conn_expire(struct conn *, const char *);
static void	conn_gone(struct conn *);
static void	conn_why(struct conn *, const char *, int);
static void	conn_why_now(struct conn *, const char *, int);
static void	drain_one(struct conn *);
static int	peer_gone(const struct conn *);
static int	conn_flush(struct conn *);
static int	conn_flushed(struct conn *);
static void	conn_mark_dirty(struct conn *);
static void	table_before_sleep(struct ev *, void *);
static void	table_unchain(struct conn_table *);
static void	update_interest(struct conn *);
static unsigned	interest(const struct conn *);

int
conn_table_init(struct conn_table *t, struct ev *ev, size_t max,
    size_t per_ip, struct err *e)
{
	memset(t, 0, sizeof *t);
	t->ev = ev;
	t->max = max;
	t->per_ip = per_ip;
	t->next_id = (uint32_t)ev_clock_ms() * 2654435761u;
	if (pool_init(&t->conns, "conn", sizeof(struct conn), max, e) == -1) {
		return -1;
	}
	if (pool_init(&t->bufs, "buf", CONN_BUF_SIZE, 2 * max, e) == -1) {
		pool_destroy(&t->conns);
		return -1;
	}
	/* The loop has one before-sleep hook: take it, and call whoever
	 * had it (another table) after our own flush. */
	t->prev_sleep = ev->before_sleep;
	t->prev_sleep_arg = ev->before_sleep_arg;
	ev_set_before_sleep(ev, table_before_sleep, t);
	return 0;
}

void
conn_table_destroy(struct conn_table *t)
{
	ev_hook_fn *prev = t->prev_sleep;

	conn_table_abort_all(t);
	/* Our own reclaim only: not the chained tables' hooks. */
	t->prev_sleep = NULL;
	table_before_sleep(t->ev, t);
	t->prev_sleep = prev;
	table_unchain(t);
	if (t->admit != NULL && t->admit->destroy != NULL) {
		t->admit->destroy(t);
	}
	t->admit = NULL;
	t->admit_state = NULL;
	pool_destroy(&t->conns);
	pool_destroy(&t->bufs);
}

int
conn_table_add_pre_flush(struct conn_table *t, void (*fn)(void *),
    void *arg)
{
	for (size_t i = 0; i < CONN_PRE_FLUSH_MAX; i++) {
		if (t->pre_flush[i].fn == NULL) {
			t->pre_flush[i].fn = fn;
			t->pre_flush[i].arg = arg;
			return 0;
		}
	}
	return -1;
}

int
conn_table_del_pre_flush(struct conn_table *t, void (*fn)(void *),
    void *arg)
{
	/* The slot is only emptied, never shifted: a hook deleting
	 * another while they run cannot make a third one skip a turn. */
	for (size_t i = 0; i < CONN_PRE_FLUSH_MAX; i++) {
		if (t->pre_flush[i].fn == fn && t->pre_flush[i].arg == arg) {
			t->pre_flush[i].fn = NULL;
			t->pre_flush[i].arg = NULL;
			return 0;
		}
	}
	return -1;
}

void
conn_table_run_pre_flush(struct conn_table *t)
{
	for (size_t i = 0; i < CONN_PRE_FLUSH_MAX; i++) {
		void (*fn)(void *) = t->pre_flush[i].fn;

		if (fn != NULL) {
			fn(t->pre_flush[i].arg);
		}
	}
}

size_t
conn_table_bytes_per_slot(void)
{
	return sizeof(struct conn) + 2 * CONN_BUF_SIZE;
}

struct conn *
conn_adopt(struct conn_table *t, int fd, const struct proto *p,
    int family, const uint8_t *addr, uint16_t port)
{
	struct conn *c = pool_get(&t->conns);
	char *inb = c ? pool_get(&t->bufs) : NULL;
	char *outb = inb ? pool_get(&t->bufs) : NULL;

	if (outb == NULL) {
		if (inb != NULL) {
			(void)pool_put(&t->bufs, inb);
		}
		if (c != NULL) {
			(void)pool_put(&t->conns, c);
		}
		return NULL;
	}
	memset(c, 0, sizeof *c);
	c->table = t;
	c->proto = p;
	c->fd = fd;
	c->id = t->next_id++;
	c->family = family;
	memcpy(c->addr, addr, sizeof c->addr);
	c->port = port;
	conn_format_peer(c->peer, sizeof c->peer, family, addr, port);
	buf_init(&c->in, inb, CONN_BUF_SIZE);
	buf_init(&c->out, outb, CONN_BUF_SIZE);
	timer_init(&c->idle, conn_idle_fired, c);
	timer_init(&c->deadline, conn_deadline_fired, c);
	c->next = t->live;
	if (t->live != NULL) {
		t->live->prev = c;
	}
	t->live = c;
	t->active++;
	return c;
}

int
conn_start(struct conn *c)
{
	struct conn_table *t = c->table;

	c->flags &= ~CONN_F_CONNECTING;
	ev_timer_cancel(t->ev, &c->idle);
	timer_init(&c->idle, conn_idle_fired, c);
	/* A filter may have asked for EV_WRITE while connecting. */
	if (ev_add_fd(t->ev, c->fd, interest(c), conn_io, c) == -1) {
		return -1;
	}
	t->accepted++;
	c->flags |= CONN_F_STARTED;
	/* Output queued while connecting leaves now. */
	if (conn_has_output(c)) {
		conn_mark_dirty(c);
	}
	if (c->proto->open(c) == -1) {
		conn_close(c);
	}
	return 0;
}

void
conn_discard(struct conn *c)
{
	if (!(c->flags & CONN_F_DEAD)) {
		conn_why(c, "aborted", 0);
		c->flags |= CONN_F_DEAD;	/* no proto->close */
		conn_gone(c);
	}
}

int
conn_write(struct conn *c, const void *p, size_t len)
{
	if (c->flags & CONN_F_DEAD) {
		return -1;
	}
	if (buf_append(&c->out, p, len) == -1) {
		return -1;
	}
	conn_mark_dirty(c);
	return 0;
}

int
conn_printf(struct conn *c, const char *f, ...)
{
	char line[CONN_BUF_SIZE];
	va_list ap;
	int n;

	va_start(ap, f);
	n = vfmt(line, sizeof line, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line) {
		return -1;
	}
	return conn_write(c, line, (size_t)n);
}

void
conn_consume(struct conn *c, size_t n)
{
	buf_consume(&c->in, n);
	if ((c->flags & CONN_F_PAUSED) && buf_room(&c->in) > 0) {
		c->flags &= ~CONN_F_PAUSED;
		update_interest(c);
	}
	/* Input the filter already holds will not wake the socket: take
	 * it now, for the protocol's loop to find. (An EOF seen here is
	 * seen again by the loop: the socket stays readable.) */
	if (c->filter != NULL && c->filter->buffered(c) &&
	    buf_room(&c->in) > 0) {
		(void)c->filter->read(c);
		if (conn_has_output(c)) {
			conn_mark_dirty(c);
		}
	}
}

void
conn_set_timeout(struct conn *c, uint64_t ms)
{
	c->idle_ms = ms;
	if (ms == 0) {
		ev_timer_cancel(c->table->ev, &c->idle);
	} else if (ev_timer_in(c->table->ev, &c->idle, ms) == -1) {
		conn_log(c, LOG_LVL_ERROR, "timer heap full");
	}
	/* Armed after the idle timer: a tie (nothing received at all)
	 * fires the idle one first and is logged as such. */
	if (c->listener != NULL && ms != 0 &&
	    !(c->flags & CONN_F_DEADLINE)) {
		conn_set_deadline(c, ms);
	}
}

void
conn_set_deadline(struct conn *c, uint64_t ms)
{
	c->flags |= CONN_F_DEADLINE;
	if (ms == 0) {
		ev_timer_cancel(c->table->ev, &c->deadline);
	} else if (ev_timer_in(c->table->ev, &c->deadline, ms) == -1) {
		conn_log(c, LOG_LVL_ERROR, "timer heap full");
	}
}

void
conn_clear_deadline(struct conn *c)
{
	conn_set_deadline(c, 0);
}

void
conn_close(struct conn *c)
{
	if (c->flags & CONN_F_DEAD) {
		return;
	}
	conn_why(c, "closed", 0);
	if (c->flags & CONN_F_CONNECTING) {
		conn_gone(c);		/* nobody to flush to yet */
		return;
	}
	/* With a filter, closing has output of its own (TLS
	 * close_notify): always through the flush. */
	if ((conn_has_output(c) || c->filter != NULL) &&
	    !(c->flags & CONN_F_CLOSING)) {
		c->flags |= CONN_F_CLOSING;
		/* Bound the wait for a client that never reads. */
		if (!timer_armed(&c->idle)) {
			(void)ev_timer_in(c->table->ev, &c->idle,
			    c->idle_ms ? c->idle_ms : CONN_CLOSE_FLUSH_MS);
		}
		update_interest(c);
		conn_mark_dirty(c);
		return;
	}
	if (conn_has_output(c) || (c->flags & CONN_F_CLOSING)) {
		return;			/* already flushing */
	}
	conn_gone(c);
}

void
conn_abort(struct conn *c)
{
	if (!(c->flags & CONN_F_DEAD)) {
		conn_why(c, "aborted", 0);
		conn_gone(c);
	}
}

void
conn_table_drain(struct conn_table *t)
{
	struct conn *c, *next;

	t->draining = 1;
	/* A hook may end other connections than its own (they go to the
	 * reclaim list, where ->next no longer means live): start over
	 * from the head then, skipping those already seen. */
	for (c = t->live; c != NULL; c = next) {
		next = c->next;
		if (!(c->flags & CONN_F_DRAINED)) {
			c->flags |= CONN_F_DRAINED;
			drain_one(c);
		}
		if (next != NULL && (next->flags & CONN_F_DEAD)) {
			next = t->live;
		}
	}
}

void
conn_table_abort_all(struct conn_table *t)
{
	while (t->live != NULL) {
		struct conn *c = t->live;

		if (t->draining) {
			/* Whatever the drain had said: it ends here. */
			conn_why_now(c, "shutdown grace over", 0);
		}
		conn_abort(c);
	}
}

void
conn_log(const struct conn *c, int level, const char *f, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	if (!log_enabled((enum log_level)level)) {
		return;
	}
	/* A longer message is cut, as log lines are (limits.h). */
	va_start(ap, f);
	(void)vfmt(msg, sizeof msg, f, ap);
	va_end(ap);
	log_msg((enum log_level)level, 0, "%s %08x %s: %s", c->proto->name,
	    c->id, c->peer, msg);
}

static void
conn_io(struct ev *ev, int fd, unsigned what, void *arg)
{
	struct conn *c = arg;

	(void)ev;
	if (c->flags & CONN_F_DEAD) {
		return;
	}
	if (what & EV_WRITE) {
		if (conn_flush(c) == -1) {
			conn_abort(c);
			return;
		}
		if (c->flags & CONN_F_DEAD) {
			return;
		}
	}
	if (!(what & EV_READ)) {
		return;
	}
	if ((c->flags & (CONN_F_PAUSED | CONN_F_CLOSING)) &&
	    !(what & EV_HUP)) {
		return;
	}
	if (c->flags & (CONN_F_CLOSING | CONN_F_PAUSED)) {
		/* Peer gone: nobody to flush to, nothing more to read. */
		conn_why_now(c, "peer closed", 0);
		conn_abort(c);
		return;
	}
	if (c->filter != NULL) {
		int rc;

		if (buf_room(&c->in) == 0) {
			c->flags |= CONN_F_PAUSED;
			update_interest(c);
			return;
		}
		rc = c->filter->read(c);
		if (c->flags & CONN_F_DEAD) {
			return;
		}
		if (conn_has_output(c)) {
			/* Handshake records, or output that waited for
			 * the handshake to finish. */
			conn_mark_dirty(c);
		}
		if (rc == -1) {
			/* EOF or a TLS error (the filter logged it). */
			conn_why_now(c, "peer closed", 0);
			conn_abort(c);
			return;
		}
		if (rc == 0) {
			return;
		}
		goto got_input;
	}
	for (;;) {
		size_t room;
		char *tail = buf_tail(&c->in, &room);
		ssize_t n;

		if (room == 0) {
			c->flags |= CONN_F_PAUSED;
			update_interest(c);
			break;
		}
		n = read(fd, tail, room);
		if (n > 0) {
			buf_commit(&c->in, (size_t)n);
			break;
		}
		if (n == 0) {
			conn_why_now(c, "peer closed", 0);
			conn_abort(c);
			return;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return;
		}
		conn_why_now(c, "read error", errno);
		conn_abort(c);
		return;
	}
got_input:
	if (c->flags & CONN_F_QUICKACK) {
		/* Linux clears it after a while: set again per read. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &(int){ 1 },
		    sizeof(int));
	}
	if (c->idle_ms != 0) {
		(void)ev_timer_in(c->table->ev, &c->idle, c->idle_ms);
	}
	c->proto->input(c);
	if (!(c->flags & CONN_F_DEAD) && buf_room(&c->in) == 0 &&
	    !(c->flags & CONN_F_PAUSED)) {
		/* The protocol left the buffer full: wait for it to
		 * consume before reading more. */
		c->flags |= CONN_F_PAUSED;
		update_interest(c);
	}
}

static void
conn_idle_fired(struct timer *tm, void *arg)
{
	struct conn *c = arg;

	(void)tm;
	if (c->flags & CONN_F_DEAD) {
		return;
	}
	if (c->flags & CONN_F_CLOSING) {
		conn_why_now(c, "output timeout", 0);
		conn_abort(c);
		return;
	}
	conn_expire(c, "idle timeout");
}

/* The session deadline passed: as an idle timeout, under its own
 * name. A closing connection has its output timeout already. */
static void
conn_deadline_fired(struct timer *tm, void *arg)
{
	struct conn *c = arg;

	(void)tm;
	if (c->flags & (CONN_F_DEAD | CONN_F_CLOSING)) {
		return;
	}
	/* The idle timer, maybe about to fire, now bounds the goodbye's
	 * flush (conn_close keeps an armed one): give it its full wait,
	 * or the reply could be dropped as an output timeout. */
	(void)ev_timer_in(c->table->ev, &c->idle,
	    c->idle_ms ? c->idle_ms : CONN_CLOSE_FLUSH_MS);
	conn_expire(c, "session time limit");
}

/* Ends c for the reason why through proto->timeout (default close),
 * unless the protocol still waits on work in flight. */
static void
conn_expire(struct conn *c, const char *why)
{
	conn_why_now(c, why, 0);
	if (c->proto->timeout != NULL) {
		c->proto->timeout(c);
	} else {
		conn_close(c);
	}
	if (!(c->flags & (CONN_F_CLOSING | CONN_F_DEAD))) {
		c->why = NULL;	/* the protocol waits on (SMTP commit) */
		c->why_err = 0;
	}
}

/* Records why c ends, unless a cause was recorded already. */
static void
conn_why(struct conn *c, const char *why, int err)
{
	if (c->why == NULL) {
		c->why = why;
		c->why_err = err;
	}
}

/* Records why c ends, whatever was recorded before: the peer's EOF, a
 * socket error, the end of the shutdown grace are the real cause. */
static void
conn_why_now(struct conn *c, const char *why, int err)
{
	c->why = why;
	c->why_err = err;
}

static void
drain_one(struct conn *c)
{
	if (c->flags & CONN_F_CONNECTING) {
		conn_why(c, "shutdown", 0);
		conn_close(c);
		return;
	}
	if (peer_gone(c)) {
		conn_why_now(c, "peer closed", 0);
		conn_abort(c);
		return;
	}
	if (c->flags & CONN_F_CLOSING) {
		return;		/* its last words are on their way */
	}
	conn_why(c, "shutdown", 0);
	if (c->proto->drain != NULL) {
		c->proto->drain(c);
	} else {
		conn_close(c);
	}
}

/* 1 when the peer has closed its side and everything it sent before
 * has been read (a bare EOF waits on the socket), or the connection
 * was reset. Peeked, never consumed: a peer that is still there is
 * read as before. */
static int
peer_gone(const struct conn *c)
{
	char b;
	ssize_t n;

	if (c->fd == -1) {
		return 0;
	}
	n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0) {
		return 1;
	}
	return n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR;
}

/* Closes the socket now and queues the blocks for reclaim. */
static void
conn_gone(struct conn *c)
{
	struct conn_table *t = c->table;

	if (!(c->flags & CONN_F_DEAD)) {
		if (c->proto->close != NULL) {
			c->proto->close(c);
		}
		c->flags |= CONN_F_DEAD;
	}
	if (c->listener != NULL || (c->flags & CONN_F_STARTED)) {
		conn_log(c, LOG_LVL_INFO, "disconnect: %s%s%s",
		    c->why != NULL ? c->why : "closed",
		    c->why_err != 0 ? ": " : "",
		    c->why_err != 0 ? strerror(c->why_err) : "");
	}
	if (c->filter != NULL && c->filter->close != NULL) {
		c->filter->close(c);
	}
	if (c->next_filter != NULL && c->next_filter->close != NULL) {
		c->filter_state = c->next_filter_state;
		c->next_filter->close(c);
	}
	c->filter = c->next_filter = NULL;
	if (c->fd != -1) {
		ev_del_fd(t->ev, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	ev_timer_cancel(t->ev, &c->idle);
	ev_timer_cancel(t->ev, &c->deadline);
	if (t->admit != NULL && t->admit->release != NULL) {
		t->admit->release(c);
	}
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		t->live = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	t->active--;
	c->next = t->dead;
	t->dead = c;
}

/* Writes what the socket takes. 0, or -1 on a write error. */
static int
conn_flush(struct conn *c)
{
	if (c->flags & CONN_F_CONNECTING) {
		return 0;		/* conn_start flushes */
	}
	if (c->filter != NULL) {
		if (c->filter->flush(c) == -1) {
			return -1;
		}
		if (conn_has_output(c)) {
			return 0;	/* waiting for EV_WRITE */
		}
		return conn_flushed(c);
	}
	while (c->out.len > 0) {
		ssize_t n = send(c->fd, buf_head(&c->out), c->out.len,
		    MSG_NOSIGNAL);

		if (n > 0) {
			buf_consume(&c->out, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!(c->flags & CONN_F_WBLOCK)) {
				c->flags |= CONN_F_WBLOCK;
				update_interest(c);
			}
			return 0;
		}
		conn_why_now(c, "write error", errno);
		return -1;
	}
	return conn_flushed(c);
}

/* Everything queued has left: close, start a filter, or let the
 * protocol write more. */
static int
conn_flushed(struct conn *c)
{
	if (c->flags & CONN_F_WBLOCK) {
		c->flags &= ~CONN_F_WBLOCK;
		update_interest(c);
	}
	if (c->flags & CONN_F_CLOSING) {
		conn_gone(c);
		return 0;
	}
	if (c->next_filter != NULL) {
		conn_filter_now(c, c->next_filter, c->next_filter_state);
		c->next_filter = NULL;
		c->next_filter_state = NULL;
		/* Plaintext pipelined behind STARTTLS: dropped. */
		buf_consume(&c->in, c->in.len);
		if (c->flags & CONN_F_PAUSED) {
			c->flags &= ~CONN_F_PAUSED;
			update_interest(c);
		}
		return 0;
	}
	if (c->proto->writable != NULL) {
		c->proto->writable(c);
	}
	return 0;
}

void
conn_filter_after_flush(struct conn *c, const struct conn_filter *f,
    void *state)
{
	c->next_filter = f;
	c->next_filter_state = state;
	conn_mark_dirty(c);
}

void
conn_filter_now(struct conn *c, const struct conn_filter *f, void *state)
{
	c->filter = f;
	c->filter_state = state;
}

void *
conn_filter_state(const struct conn *c, const struct conn_filter *f)
{
	const struct conn_filter *at = c->filter;
	void *state = c->filter_state;

	while (at != NULL && at != f) {
		at = at->below != NULL ? at->below(c, &state) : NULL;
	}
	return at != NULL ? state : NULL;
}

int
conn_out_lend(struct conn *c, char *storage, size_t cap)
{
	if (c->out_own != NULL || c->out.len > 0) {
		return -1;
	}
	c->out_own = c->out.data;
	buf_init(&c->out, storage, cap);
	return 0;
}

int
conn_out_reclaim(struct conn *c)
{
	if (c->out_own == NULL) {
		return 0;
	}
	if (c->out.len > 0) {
		return -1;
	}
	buf_init(&c->out, c->out_own, CONN_BUF_SIZE);
	c->out_own = NULL;
	return 0;
}

void
conn_want_write(struct conn *c, int on)
{
	if (on && !(c->flags & CONN_F_WBLOCK)) {
		c->flags |= CONN_F_WBLOCK;
		update_interest(c);
	} else if (!on && (c->flags & CONN_F_WBLOCK)) {
		c->flags &= ~CONN_F_WBLOCK;
		update_interest(c);
	}
}

int
conn_has_output(const struct conn *c)
{
	return c->out.len > 0 || (c->filter != NULL &&
	    c->filter->pending(c));
}

static void
conn_mark_dirty(struct conn *c)
{
	if (!(c->flags & CONN_F_DIRTY)) {
		c->flags |= CONN_F_DIRTY;
		c->next_dirty = c->table->dirty;
		c->table->dirty = c;
	}
}

/* Flushes the output of every connection written to this turn, then
 * returns the blocks of the connections closed this turn. */
static void
table_before_sleep(struct ev *ev, void *arg)
{
	struct conn_table *t = arg;
	struct conn *c;

	(void)ev;
	conn_table_run_pre_flush(t);
	while ((c = t->dirty) != NULL) {
		t->dirty = c->next_dirty;
		c->flags &= ~CONN_F_DIRTY;
		if (!(c->flags & (CONN_F_DEAD | CONN_F_WBLOCK)) &&
		    conn_flush(c) == -1) {
			conn_abort(c);
		}
	}
	while ((c = t->dead) != NULL) {
		t->dead = c->next;
		(void)pool_put(&t->bufs, c->in.data);
		(void)pool_put(&t->bufs, c->out_own != NULL ? c->out_own :
		    c->out.data);
		c->out_own = NULL;
		(void)pool_put(&t->conns, c);
	}
	if (t->prev_sleep != NULL) {
		t->prev_sleep(ev, t->prev_sleep_arg);
	}
}

/* Takes t out of the chain of before-sleep hooks, wherever it is. */
static void
table_unchain(struct conn_table *t)
{
	ev_hook_fn **fn = &t->ev->before_sleep;
	void **arg = &t->ev->before_sleep_arg;

	while (*fn == table_before_sleep) {
		struct conn_table *u = *arg;

		if (u == t) {
			*fn = t->prev_sleep;
			*arg = t->prev_sleep_arg;
			t->prev_sleep = NULL;
			t->prev_sleep_arg = NULL;
			return;
		}
		fn = &u->prev_sleep;
		arg = &u->prev_sleep_arg;
	}
}

static void
update_interest(struct conn *c)
{
	/* While connecting, connect.c owns the fd's registration. */
	if (c->fd == -1 || (c->flags & CONN_F_CONNECTING)) {
		return;
	}
	if (ev_mod_fd(c->table->ev, c->fd, interest(c)) == -1) {
		conn_log(c, LOG_LVL_WARN, "epoll_ctl: %s", strerror(errno));
	}
}

/* The events c waits for, from its flags. */
static unsigned
interest(const struct conn *c)
{
	unsigned mask = 0;

	if (!(c->flags & (CONN_F_PAUSED | CONN_F_CLOSING))) {
		mask |= EV_READ;
	}
	if (c->flags & CONN_F_WBLOCK) {
		mask |= EV_WRITE;
	}
	return mask;
}

void
conn_format_peer(char *out, size_t cap, int family, const uint8_t *addr,
    uint16_t port)
{
	char a[ADDR_TEXT_MAX];

	if (addr_text(a, sizeof a, family, addr) == -1) {
		(void)fmt(a, sizeof a, "?");
	}
	/* Cut to cap if need be: the text is for logs only. */
	if (family == AF_INET6) {
		(void)fmt(out, cap, "[%s]:%u", a, port);
	} else {
		(void)fmt(out, cap, "%s:%u", a, port);
	}
}

void
conn_quickack(struct conn *c, int on)
{
	if (on) {
		c->flags |= CONN_F_QUICKACK;
	} else {
		c->flags &= ~CONN_F_QUICKACK;
	}
}
