/* SPDX-License-Identifier: ISC */
/*
 * connect.c - outbound connections: socket, optional bind, a
 * non-blocking connect(2) watched by the loop, the connect timeout,
 * then the connection handed to conn.c as if it had been accepted.
 *
 *   conn_connect: adopt (CONNECTING) -> EV_WRITE + connect timer
 *     -> connect_ready: SO_ERROR 0, peer known -> conn_start -> open
 *                       an error               -> connect_fail
 *     -> connect_timer_fired (ETIMEDOUT, or the error connect(2)
 *        gave at once)                         -> connect_fail
 *   connect_fail: proto->connect_failed, then conn_abort (close)
 *
 * While connecting, this file owns the fd's registration and the
 * connection's timer; conn_start gives both back to conn.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connect.h"
#include "log.h"

static void	connect_ready(struct ev *, int, unsigned, void *);
static void	connect_timer_fired(struct timer *, void *);
static void	connect_fail(struct conn *, int);
static int	sockaddr_split(const struct sockaddr *, socklen_t, int *,
		    uint8_t *, uint16_t *);

int
conn_connect(struct conn_table *t, const struct sockaddr *dst,
    socklen_t dst_len, const struct sockaddr *src, socklen_t src_len,
    const struct proto *p, void *sess, uint64_t connect_timeout_ms,
    struct conn **out_conn, struct err *e)
{
	char peer[ADDR_STR_MAX];
	uint8_t addr[16];
	uint16_t port;
	struct conn *c;
	int family, fd;

	*out_conn = NULL;
	if (sockaddr_split(dst, dst_len, &family, addr, &port) == -1) {
		return err_set(e, "%s: connect: not an IPv4 or IPv6 address",
		    p->name);
	}
	conn_format_peer(peer, sizeof peer, family, addr, port);
	if (src != NULL && (src_len < sizeof(sa_family_t) ||
	    src->sa_family != family)) {
		return err_set(e, "%s %s: the source address is not of the "
		    "same family", p->name, peer);
	}
	if (connect_timeout_ms == 0) {
		return err_set(e, "%s %s: no connect timeout", p->name, peer);
	}
	if (t->draining) {
		return err_set(e, "%s %s: shutting down", p->name, peer);
	}
	/* Checked before socket(2): a full pool costs no syscall. */
	if (pool_avail(&t->conns) == 0 || pool_avail(&t->bufs) < 2) {
		return err_set(e, "%s %s: no free outbound connection slot "
		    "(%zu of %zu in use)", p->name, peer, t->active, t->max);
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return err_set(e, "%s %s: socket: %s", p->name, peer,
		    strerror(errno));
	}
	/* The client pipelines its commands: no Nagle delay on them. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
	    sizeof(int));
	if (src != NULL && bind(fd, src, src_len) == -1) {
		int saved = errno;

		close(fd);
		return err_set(e, "%s %s: bind to the source address: %s",
		    p->name, peer, strerror(saved));
	}
	c = conn_adopt(t, fd, p, family, addr, port);
	if (c == NULL) {		/* cannot happen after the check */
		close(fd);
		return err_set(e, "%s %s: no free outbound connection slot",
		    p->name, peer);
	}
	c->sess = sess;
	c->flags |= CONN_F_CONNECTING;
	timer_init(&c->idle, connect_timer_fired, c);
	if (connect(fd, dst, dst_len) == -1 && errno != EINPROGRESS &&
	    errno != EINTR) {
		/* Refused or unreachable at once: told next turn, by the
		 * timer, never from inside this call. */
		c->connect_err = errno;
		connect_timeout_ms = 0;
	} else if (ev_add_fd(t->ev, fd, EV_WRITE, connect_ready, c) == -1) {
		int saved = errno;

		conn_discard(c);
		return err_set(e, "%s %s: cannot watch the socket: %s",
		    p->name, peer, strerror(saved));
	}
	if (ev_timer_in(t->ev, &c->idle, connect_timeout_ms) == -1) {
		conn_discard(c);
		return err_set(e, "%s %s: timer heap full", p->name, peer);
	}
	conn_log(c, LOG_LVL_DEBUG, "connecting");
	*out_conn = c;
	return 0;
}

static void
connect_ready(struct ev *ev, int fd, unsigned what, void *arg)
{
	struct conn *c = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int);
	int err = 0;

	if (c->flags & CONN_F_DEAD) {
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
		err = errno;
	}
	if (err == 0) {
		/* Writable with no error may still be a socket the
		 * kernel gave up on: connected only if it has a peer. */
		len = sizeof ss;
		if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1) {
			if (!(what & (EV_WRITE | EV_HUP))) {
				return;		/* not yet */
			}
			err = errno;
		}
	}
	if (err != 0) {
		connect_fail(c, err);
		return;
	}
	ev_del_fd(ev, fd);		/* conn_start watches it anew */
	conn_log(c, LOG_LVL_INFO, "connected");
	if (conn_start(c) == -1) {
		connect_fail(c, errno);
	}
}

static void
connect_timer_fired(struct timer *tm, void *arg)
{
	struct conn *c = arg;

	(void)tm;
	if (!(c->flags & CONN_F_DEAD)) {
		connect_fail(c, c->connect_err != 0 ? c->connect_err :
		    ETIMEDOUT);
	}
}

/* The one way a connection attempt ends badly: the hook, then close.
 * CONN_F_CONNECTING stays set, so a conn_close from the hook is
 * immediate and output written meanwhile never leaves. */
static void
connect_fail(struct conn *c, int err)
{
	c->table->refused++;
	c->connect_err = err;
	conn_log(c, LOG_LVL_INFO, "connect failed: %s", strerror(err));
	if (c->proto->connect_failed != NULL) {
		c->proto->connect_failed(c, err);
	}
	conn_abort(c);			/* proto->close, unless done */
}

/* Family, address (16 bytes, IPv4 in the first 4) and port of sa:
 * 0, or -1 when it is not a whole IPv4 or IPv6 address. */
static int
sockaddr_split(const struct sockaddr *sa, socklen_t len, int *family,
    uint8_t *addr, uint16_t *port)
{
	memset(addr, 0, 16);
	if (sa == NULL || len < sizeof(sa_family_t)) {
		return -1;
	}
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const void *)sa;

		*family = AF_INET;
		memcpy(addr, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 &&
	    len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		*family = AF_INET6;
		memcpy(addr, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
		return 0;
	}
	return -1;
}
