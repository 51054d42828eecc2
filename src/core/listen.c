/* SPDX-License-Identifier: ISC */
/*
 * listen.c - listening sockets, accepting, the per-IP connection count
 * and the refusal of connections over a limit or during shutdown.
 *
 * An accepted socket is adopted by the connection table (conn.c) and
 * started there; from then on conn.c runs it. conn.c tells us when it
 * leaves through table->admit, so that its address is counted down.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "listen.h"
#include "log.h"

/*
 * The per-IP table: open addressing with linear probing, keys of 16
 * bytes (IPv4 mapped into IPv6, IPv6 cut to its /64), one count each.
 *
 *   slot[0]  slot[1]  slot[2]  ...  slot[n-1]      n = max * LOAD
 *   +------+ +------+ +------+      +------+
 *   |key  3| |     0| |key  1|      |     0|       count 0 = empty
 *   +------+ +------+ +------+      +------+
 */
struct iptab_slot {
	uint8_t		addr[16];
	uint32_t	count;		/* 0 = empty slot */
};

struct iptab {
	size_t			n;
	struct iptab_slot	slot[];
};

static void	accept_ready(struct ev *, int, unsigned, void *);
static void	refuse(struct conn_table *, int, const struct proto *,
		    enum conn_refusal, const char *);
static void	listen_release(struct conn *);
static void	listen_destroy(struct conn_table *);
static void	addr_to_key(int, const uint8_t *, uint8_t *);
static size_t	iptab_home(const struct iptab *, const uint8_t *);
static struct iptab_slot *iptab_find(struct iptab *, const uint8_t *, int);
static void	iptab_dec(struct iptab *, const uint8_t *);

static const struct conn_admit listen_admit = {
	.release = listen_release,
	.destroy = listen_destroy,
};

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
	conn_format_peer(l->name, sizeof l->name, a->family, a->addr,
	    a->port);
	if (t->admit == NULL) {
		/* The first listener of a table: the per-IP counts, at
		 * start-up like every other pool. */
		size_t n = t->max * IPTAB_LOAD_FACTOR;
		struct iptab *ipt = calloc(1, sizeof *ipt +
		    n * sizeof ipt->slot[0]);

		if (ipt == NULL) {
			return err_set(e, "%s %s: per-IP table: out of memory",
			    p->name, l->name);
		}
		ipt->n = n;
		t->admit = &listen_admit;
		t->admit_state = ipt;
	} else if (t->admit != &listen_admit) {
		return err_set(e, "%s %s: the table is not for listeners",
		    p->name, l->name);
	}
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
			conn_format_peer(l->name, sizeof l->name, a->family,
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

size_t
conn_bytes_per_connection(void)
{
	return conn_table_bytes_per_slot() +
	    IPTAB_LOAD_FACTOR * sizeof(struct iptab_slot);
}

size_t
listen_ip_count(const struct conn_table *t, int family,
    const uint8_t *addr)
{
	struct iptab_slot *s;
	uint8_t key[16];

	if (t->admit != &listen_admit) {
		return 0;
	}
	addr_to_key(family, addr, key);
	s = iptab_find(t->admit_state, key, 0);
	return s != NULL ? s->count : 0;
}

size_t
listen_ip_keys(const struct conn_table *t)
{
	const struct iptab *ipt = t->admit_state;
	size_t n = 0;

	if (t->admit != &listen_admit) {
		return 0;
	}
	for (size_t i = 0; i < ipt->n; i++) {
		n += ipt->slot[i].count != 0;
	}
	return n;
}

static void
accept_ready(struct ev *ev, int fd, unsigned what, void *arg)
{
	struct listener *l = arg;
	struct conn_table *t = l->table;
	struct iptab *ipt = t->admit_state;

	(void)ev;
	(void)what;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t slen = sizeof ss;
		struct iptab_slot *ip;
		uint8_t key[16], addr[16];
		char peer[ADDR_STR_MAX];
		struct conn *c;
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
		conn_format_peer(peer, sizeof peer, family, addr, port);
		if (t->draining) {
			refuse(t, cfd, l->proto, CONN_REFUSE_SHUTDOWN, peer);
			continue;
		}
		/* Counted whatever the limit, so that a reload changing
		 * it finds the counts right. */
		addr_to_key(family, addr, key);
		ip = iptab_find(ipt, key, 1);
		if (ip != NULL && t->per_ip > 0 && ip->count >= t->per_ip) {
			refuse(t, cfd, l->proto, CONN_REFUSE_PER_IP, peer);
			continue;
		}
		c = ip != NULL ? conn_adopt(t, cfd, l->proto, family, addr,
		    port) : NULL;
		if (c == NULL) {
			/* A slot claimed above stays at count 0: empty. */
			refuse(t, cfd, l->proto, CONN_REFUSE_FULL, peer);
			continue;
		}
		ip->count++;
		c->listener = l;
		conn_log(c, LOG_LVL_INFO, "connect to %s", l->name);
		if (conn_start(c) == -1) {
			log_warn("%s %s: cannot watch connection",
			    l->proto->name, peer);
			conn_discard(c);
		}
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

/* conn.c: c leaves the table. Only accepted connections were counted. */
static void
listen_release(struct conn *c)
{
	uint8_t key[16];

	if (c->listener == NULL) {
		return;
	}
	addr_to_key(c->family, c->addr, key);
	iptab_dec(c->table->admit_state, key);
}

static void
listen_destroy(struct conn_table *t)
{
	free(t->admit_state);
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
iptab_home(const struct iptab *ipt, const uint8_t *key)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++) {
		h = (h ^ key[i]) * 16777619u;
	}
	return h % ipt->n;
}

/* Linear probing over a table twice the connection limit: the number
 * of distinct keys never exceeds the number of live connections, so a
 * free slot always exists. Returns the slot (claimed when `claim` and
 * absent), or NULL if the table is full. */
static struct iptab_slot *
iptab_find(struct iptab *ipt, const uint8_t *key, int claim)
{
	size_t home = iptab_home(ipt, key);

	for (size_t n = 0; n < ipt->n; n++) {
		struct iptab_slot *s = &ipt->slot[(home + n) % ipt->n];

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
iptab_dec(struct iptab *ipt, const uint8_t *key)
{
	struct iptab_slot *s = iptab_find(ipt, key, 0);
	size_t hole, j;

	if (s == NULL || s->count == 0) {
		return;
	}
	if (--s->count > 0) {
		return;
	}
	hole = (size_t)(s - ipt->slot);
	for (j = (hole + 1) % ipt->n; ipt->slot[j].count != 0;
	    j = (j + 1) % ipt->n) {
		size_t home = iptab_home(ipt, ipt->slot[j].addr);

		/* Move j into the hole unless its home lies cyclically
		 * in (hole, j]. */
		if ((j > hole && (home <= hole || home > j)) ||
		    (j < hole && (home <= hole && home > j))) {
			ipt->slot[hole] = ipt->slot[j];
			ipt->slot[j].count = 0;
			hole = j;
		}
	}
}
