/*
 * conn.c - listeners, accepting, the connection table, per-IP limits,
 * buffered output and the deferred reclaim of closed connections.
 *
 * Lifetime of a connection:
 *
 *   accept -> checks -> proto->open -> [input/writable/timeout]*
 *     -> conn_close (CLOSING: flush) -> gone: proto->close, fd closed,
 *        DEAD, on the reclaim list -> before sleep: blocks returned
 *
 * The blocks of a closed connection are returned only before the loop
 * sleeps, so a handler that closes its connection and returns never
 * finds it reused under its feet.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "conn.h"
#include "fmt.h"
#include "log.h"

#define LISTEN_BACKLOG	128

static void	accept_ready(struct ev *, int, unsigned, void *);
static void	conn_io(struct ev *, int, unsigned, void *);
static void	conn_idle_fired(struct timer *, void *);
static void	conn_gone(struct conn *);
static int	conn_flush(struct conn *);
static int	conn_flushed(struct conn *);
static void	conn_mark_dirty(struct conn *);
static void	table_before_sleep(struct ev *, void *);
static void	refuse(struct conn_table *, int, const struct proto *,
		    enum conn_refusal, const char *);
static void	addr_to_key(int, const uint8_t *, uint8_t *);
static size_t	iptab_home(const struct conn_table *, const uint8_t *);
static struct iptab_slot *iptab_find(struct conn_table *, const uint8_t *,
		    int);
static void	iptab_dec(struct conn_table *, const uint8_t *);
static void	format_peer(char *, size_t, int, const uint8_t *, uint16_t);
static void	update_interest(struct conn *);

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
	t->nips = max * IPTAB_LOAD_FACTOR;
	t->ips = calloc(t->nips, sizeof *t->ips);
	if (t->ips == NULL) {
		pool_destroy(&t->conns);
		pool_destroy(&t->bufs);
		return err_set(e, "connection table: out of memory");
	}
	ev_set_before_sleep(ev, table_before_sleep, t);
	return 0;
}

void
conn_table_destroy(struct conn_table *t)
{
	conn_table_abort_all(t);
	table_before_sleep(t->ev, t);
	pool_destroy(&t->conns);
	pool_destroy(&t->bufs);
	free(t->ips);
	t->ips = NULL;
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
conn_bytes_per_connection(void)
{
	return sizeof(struct conn) + 2 * CONN_BUF_SIZE +
	    IPTAB_LOAD_FACTOR * sizeof(struct iptab_slot);
}

int
listener_open(struct listener *l, struct conn_table *t,
    const struct cfg_listen *a, const struct proto *p, struct err *e)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	int fd, one = 1;

	memset(l, 0, sizeof *l);
	l->fd = -1;
	l->table = t;
	l->proto = p;
	l->addr = *a;
	format_peer(l->name, sizeof l->name, a->family, a->addr, a->port);
	memset(&ss, 0, sizeof ss);
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->addr, 4);
		slen = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		slen = sizeof *sin6;
	}
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return err_set(e, "%s %s: socket: %s", p->name, l->name,
		    strerror(errno));
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* [::]:25 next to 0.0.0.0:25 must not claim the IPv4 side. */
	if (a->family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof one);
	}
	if (bind(fd, (struct sockaddr *)&ss, slen) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		int saved = errno;

		close(fd);
		return err_set(e, "%s %s: %s", p->name, l->name,
		    strerror(saved));
	}
	if (a->port == 0) {	/* tests bind port 0: record the real one */
		slen = sizeof ss;
		if (getsockname(fd, (struct sockaddr *)&ss, &slen) == 0) {
			l->addr.port = ntohs(a->family == AF_INET ?
			    ((struct sockaddr_in *)&ss)->sin_port :
			    ((struct sockaddr_in6 *)&ss)->sin6_port);
			format_peer(l->name, sizeof l->name, a->family,
			    a->addr, l->addr.port);
		}
	}
	if (ev_add_fd(t->ev, fd, EV_READ, accept_ready, l) == -1) {
		int saved = errno;

		close(fd);
		return err_set(e, "%s %s: %s", p->name, l->name,
		    strerror(saved));
	}
	l->fd = fd;
	return 0;
}

void
listener_close(struct listener *l)
{
	if (l->fd != -1) {
		ev_del_fd(l->table->ev, l->fd);
		close(l->fd);
		l->fd = -1;
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
}

void
conn_close(struct conn *c)
{
	if (c->flags & CONN_F_DEAD) {
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
			    c->idle_ms ? c->idle_ms : SHUTDOWN_GRACE_MS);
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
		conn_gone(c);
	}
}

void
conn_table_drain(struct conn_table *t)
{
	struct conn *c, *next;

	t->draining = 1;
	for (c = t->live; c != NULL; c = next) {
		next = c->next;
		if (c->proto->drain != NULL) {
			c->proto->drain(c);
		} else {
			conn_close(c);
		}
	}
}

void
conn_table_abort_all(struct conn_table *t)
{
	while (t->live != NULL) {
		conn_abort(t->live);
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
	va_start(ap, f);
	vfmt(msg, sizeof msg, f, ap);
	va_end(ap);
	log_msg((enum log_level)level, 0, "%s %08x %s: %s", c->proto->name,
	    c->id, c->peer, msg);
}

static void
accept_ready(struct ev *ev, int fd, unsigned what, void *arg)
{
	struct listener *l = arg;
	struct conn_table *t = l->table;

	(void)ev;
	(void)what;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t slen = sizeof ss;
		struct iptab_slot *ip;
		uint8_t key[16], addr[16];
		char peer[ADDR_STR_MAX];
		struct conn *c;
		char *inb, *outb;
		uint16_t port;
		int cfd, family;

		cfd = accept4(fd, (struct sockaddr *)&ss, &slen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED) {
				/* EMFILE and friends: log, try next turn. */
				log_warn("%s %s: accept", l->proto->name,
				    l->name);
			}
			return;
		}
		/* Replies and TLS handshake flights go out whole, once per
		 * loop turn: Nagle would only hold the last piece back for
		 * a delayed ACK (40 ms). */
		(void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
		    sizeof(int));
		memset(addr, 0, sizeof addr);
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			family = AF_INET;
			memcpy(addr, &sin->sin_addr, 4);
			port = ntohs(sin->sin_port);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			family = AF_INET6;
			memcpy(addr, &s6->sin6_addr, 16);
			port = ntohs(s6->sin6_port);
		}
		format_peer(peer, sizeof peer, family, addr, port);
		if (t->draining) {
			refuse(t, cfd, l->proto, CONN_REFUSE_SHUTDOWN, peer);
			continue;
		}
		addr_to_key(family, addr, key);
		ip = iptab_find(t, key, 1);
		if (ip != NULL && ip->count >= t->per_ip) {
			refuse(t, cfd, l->proto, CONN_REFUSE_PER_IP, peer);
			continue;
		}
		c = pool_get(&t->conns);
		inb = c ? pool_get(&t->bufs) : NULL;
		outb = inb ? pool_get(&t->bufs) : NULL;
		if (ip == NULL || outb == NULL) {
			if (inb != NULL) {
				(void)pool_put(&t->bufs, inb);
			}
			if (c != NULL) {
				(void)pool_put(&t->conns, c);
			}
			refuse(t, cfd, l->proto, CONN_REFUSE_FULL, peer);
			continue;
		}
		ip->count++;
		c->out_own = NULL;
		c->table = t;
		c->proto = l->proto;
		c->listener = l;
		c->fd = cfd;
		c->id = t->next_id++;
		c->family = family;
		memcpy(c->addr, addr, sizeof addr);
		c->port = port;
		memcpy(c->peer, peer, sizeof peer);
		buf_init(&c->in, inb, CONN_BUF_SIZE);
		buf_init(&c->out, outb, CONN_BUF_SIZE);
		timer_init(&c->idle, conn_idle_fired, c);
		c->next = t->live;
		if (t->live != NULL) {
			t->live->prev = c;
		}
		t->live = c;
		t->active++;
		t->accepted++;
		if (ev_add_fd(t->ev, cfd, EV_READ, conn_io, c) == -1) {
			log_warn("%s %s: cannot watch connection",
			    l->proto->name, peer);
			close(cfd);
			c->fd = -1;
			c->flags |= CONN_F_DEAD;	/* no open, no close */
			conn_gone(c);
			continue;
		}
		conn_log(c, LOG_LVL_INFO, "connect to %s", l->name);
		if (c->proto->open(c) == -1) {
			conn_close(c);
		}
	}
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
	if (c->flags & CONN_F_CLOSING) {
		conn_abort(c);		/* peer gone: nobody to flush to */
		return;
	}
	if (c->flags & CONN_F_PAUSED) {
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
			conn_log(c, LOG_LVL_INFO, "disconnect");
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
			conn_log(c, LOG_LVL_INFO, "disconnect");
			conn_abort(c);
			return;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return;
		}
		conn_log(c, LOG_LVL_INFO, "read: %s", strerror(errno));
		conn_abort(c);
		return;
	}
got_input:
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
		conn_log(c, LOG_LVL_INFO, "timeout flushing output");
		conn_abort(c);
		return;
	}
	conn_log(c, LOG_LVL_INFO, "idle timeout");
	if (c->proto->timeout != NULL) {
		c->proto->timeout(c);
	} else {
		conn_close(c);
	}
}

/* Closes the socket now and queues the blocks for reclaim. */
static void
conn_gone(struct conn *c)
{
	struct conn_table *t = c->table;
	uint8_t key[16];

	if (!(c->flags & CONN_F_DEAD)) {
		if (c->proto->close != NULL) {
			c->proto->close(c);
		}
		c->flags |= CONN_F_DEAD;
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
	addr_to_key(c->family, c->addr, key);
	iptab_dec(t, key);
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
		conn_log(c, LOG_LVL_INFO, "write: %s", strerror(errno));
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
}

static void
update_interest(struct conn *c)
{
	unsigned mask = 0;

	if (c->fd == -1) {
		return;
	}
	if (!(c->flags & (CONN_F_PAUSED | CONN_F_CLOSING))) {
		mask |= EV_READ;
	}
	if (c->flags & CONN_F_WBLOCK) {
		mask |= EV_WRITE;
	}
	if (ev_mod_fd(c->table->ev, c->fd, mask) == -1) {
		conn_log(c, LOG_LVL_WARN, "epoll_ctl: %s", strerror(errno));
	}
}

static void
refuse(struct conn_table *t, int fd, const struct proto *p,
    enum conn_refusal why, const char *peer)
{
	static const char *const reason[] = {
		"no free connection slot", "too many connections from "
		"this address", "shutting down"
	};
	const char *line = p->refusal(why);

	t->refused++;
	log_warnx("%s %s: refused: %s", p->name, peer, reason[why]);
	/* Best effort: a fresh socket has room for one line. */
	(void)send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/* IPv4 addresses are counted as IPv4-mapped IPv6 ones; IPv6 clients
 * are counted per /64, the smallest block a home user is given, so a
 * single host cannot dodge the limit by cycling its interface id. */
static void
addr_to_key(int family, const uint8_t *addr, uint8_t *key)
{
	memset(key, 0, 16);
	if (family == AF_INET) {
		key[10] = 0xff;
		key[11] = 0xff;
		memcpy(key + 12, addr, 4);
	} else {
		memcpy(key, addr, 8);
	}
}

/* FNV-1a of the key: the slot a key probes first. */
static size_t
iptab_home(const struct conn_table *t, const uint8_t *key)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++) {
		h = (h ^ key[i]) * 16777619u;
	}
	return h % t->nips;
}

/* Linear probing over a table twice the connection limit: the number
 * of distinct keys never exceeds the number of live connections, so a
 * free slot always exists. Returns the slot (claimed when `claim` and
 * absent), or NULL if the table is full. */
static struct iptab_slot *
iptab_find(struct conn_table *t, const uint8_t *key, int claim)
{
	size_t home = iptab_home(t, key);

	for (size_t n = 0; n < t->nips; n++) {
		struct iptab_slot *s = &t->ips[(home + n) % t->nips];

		if (s->count == 0) {
			if (!claim) {
				return NULL;
			}
			memcpy(s->addr, key, 16);
			return s;
		}
		if (memcmp(s->addr, key, 16) == 0) {
			return s;
		}
	}
	return NULL;
}

/* Decrements; an emptied slot is deleted by shifting later members of
 * its probe run back, so lookups never need tombstones. */
static void
iptab_dec(struct conn_table *t, const uint8_t *key)
{
	struct iptab_slot *s = iptab_find(t, key, 0);
	size_t hole, j;

	if (s == NULL || s->count == 0) {
		return;
	}
	if (--s->count > 0) {
		return;
	}
	hole = (size_t)(s - t->ips);
	for (j = (hole + 1) % t->nips; t->ips[j].count != 0;
	    j = (j + 1) % t->nips) {
		size_t home = iptab_home(t, t->ips[j].addr);

		/* Move j into the hole unless its home lies cyclically
		 * in (hole, j]. */
		if ((j > hole && (home <= hole || home > j)) ||
		    (j < hole && (home <= hole && home > j))) {
			t->ips[hole] = t->ips[j];
			t->ips[j].count = 0;
			hole = j;
		}
	}
}

static void
format_peer(char *out, size_t cap, int family, const uint8_t *addr,
    uint16_t port)
{
	char a[ADDR_TEXT_MAX];

	if (addr_text(a, sizeof a, family, addr) == -1) {
		fmt(a, sizeof a, "?");
	}
	if (family == AF_INET6) {
		fmt(out, cap, "[%s]:%u", a, port);
	} else {
		fmt(out, cap, "%s:%u", a, port);
	}
}
