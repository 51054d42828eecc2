/* SPDX-License-Identifier: ISC */
/*
 * dns.c - the stub resolver's queries on the event loop (see dns.h):
 * RFC 1035 4.2 (UDP, and TCP with a length prefix), RFC 7766 (TCP
 * when TC is set), RFC 5452 (random IDs and source ports, answers
 * checked against the question), RFC 1034 3.6.2 (CNAME chains), RFC
 * 2308 (negative answers and their TTL), RFC 6891 (EDNS0 payload
 * size, dropped when a server answers FORMERR).
 *
 * A query walks through these states; every change is logged at
 * debug level by req_set_state:
 *
 *   START --(cache hit, bad name)--------------------------> done
 *     |
 *     v         timeout, error, SERVFAIL: next server
 *   UDP  <-------------------------------------------------.
 *     | TC set                                              |
 *     v                                                     |
 *   TCP_CONNECT -> TCP_WRITE -> TCP_READ --(failure)--------'
 *
 * and ends in req_finish, which frees the slot before calling back.
 * Each try uses a fresh socket connect()ed to the server, so the
 * kernel only hands us packets from that address and port, and picks
 * a random ephemeral source port for it (Linux has done so for UDP
 * since 2008).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/fmt.h"
#include "core/log.h"
#include "core/pool.h"
#include "dns_int.h"

enum req_state {
	REQ_FREE,
	REQ_START,
	REQ_UDP,
	REQ_TCP_CONNECT,
	REQ_TCP_WRITE,
	REQ_TCP_READ
};

#define TCP_BYTES	((size_t)DNS_TCP_BUFS * DNS_TCP_MSG_MAX)

static const char *const req_state_name[] = {
	"free", "start", "udp", "tcp-connect", "tcp-write", "tcp-read"
};

/* What a received message means for its query. */
enum verdict {
	V_IGNORE,	/* not an answer to this query: keep waiting */
	V_DONE,		/* finished (the slot is freed) */
	V_NEXT,		/* try the next server */
	V_SAME,		/* try the same server again (no EDNS) */
	V_TCP,		/* truncated: ask the same server over TCP */
	V_REQUERY	/* chain ends in a CNAME: ask for its target */
};

struct dns_req {
	enum req_state	 state;
	struct timer	 timer;
	int		 fd;
	uint32_t	 seq;		/* for the log */
	uint16_t	 id;
	uint16_t	 qtype;
	char		 qname[DNS_NAME_MAX];	/* as asked: cache key */
	char		 cur[DNS_NAME_MAX];	/* asked now, after CNAMEs */
	unsigned	 hops;
	uint32_t	 chain_ttl;
	unsigned	 tries;
	unsigned	 server;
	int		 edns;
	int		 status;	/* START: a result known at once */
	dns_answer_fn	*cb;
	void		*arg;
	int		 tcp_buf;	/* index, or -1 */
	size_t		 tcp_done;	/* octets written, then read */
	size_t		 tcp_need;	/* message length being read */
	struct dns_req	*next_free;
};

static struct {
	int		 up;
	struct ev	*ev;
	struct dns_server servers[DNS_SERVERS_MAX];
	size_t		 nservers;
	struct dns_req	*reqs;
	size_t		 nreqs;
	size_t		 fresh;		/* reqs[fresh..] never used */
	struct dns_req	*free;		/* given back, most recent first */
	uint8_t		*rx;		/* one UDP message */
	uint8_t		*tcp;		/* DNS_TCP_BUFS x DNS_TCP_MSG_MAX */
	int		 tcp_used[DNS_TCP_BUFS];
	struct dns_answer *scratch;	/* the answer being built */
	uint32_t	 seq;
	uint8_t		 rnd[256];
	size_t		 rnd_left;
} D;

static unsigned	epoch;	/* bumped by dns_query_shutdown */
static unsigned	try_ms = DNS_TRY_MS;
static unsigned	max_tries = DNS_TRIES;

static void	req_set_state(struct dns_req *, enum req_state);
static void	req_close(struct dns_req *);
static void	req_finish(struct dns_req *, int, const struct dns_answer *);
static void	req_try(struct dns_req *);
static void	req_next(struct dns_req *, int same);
static int	req_udp(struct dns_req *);
static int	req_tcp(struct dns_req *);
static void	on_timer(struct timer *, void *);
static void	on_udp(struct ev *, int, unsigned, void *);
static void	on_tcp(struct ev *, int, unsigned, void *);
static void	tcp_write(struct dns_req *);
static void	tcp_read(struct dns_req *);
static enum verdict	handle(struct dns_req *, const uint8_t *, size_t,
			    int);
static int	collect(struct dns_req *, const uint8_t *, size_t,
		    struct dns_answer *, char *, uint32_t *, uint32_t *,
		    size_t *);
static int	keep_record(struct dns_answer *, const struct dns_rr *);
static void	act(struct dns_req *, enum verdict);
static int	open_socket(const struct dns_server *, int type);
static const char	*type_name(uint16_t);
static const char	*server_text(const struct dns_server *, char *,
			    size_t);
static uint16_t	rand16(void);
static struct dns_req	*req_get(void);

int
dns_query_init(struct ev *ev, const struct dns_server *servers,
    size_t nservers, size_t max_lookups, struct err *e)
{
	if (D.up) {
		dns_query_shutdown();
	}
	memset(&D, 0, sizeof D);
	D.ev = ev;
	if (nservers > DNS_SERVERS_MAX) {
		nservers = DNS_SERVERS_MAX;
	}
	if (nservers > 0) {
		memcpy(D.servers, servers, nservers * sizeof *servers);
		D.nservers = nservers;
	} else {
		char buf[8192];
		ssize_t n = -1;
		int fd = open(DNS_RESOLV_CONF, O_RDONLY | O_CLOEXEC);

		if (fd != -1) {
			n = read(fd, buf, sizeof buf);
			close(fd);
		}
		if (n > 0) {
			D.nservers = dns_resolv_parse(buf, (size_t)n,
			    D.servers, DNS_SERVERS_MAX);
		}
		if (D.nservers == 0) {
			D.servers[0].family = AF_INET;
			D.servers[0].addr[0] = 127;
			D.servers[0].addr[3] = 1;
			D.servers[0].port = DNS_PORT;
			D.nservers = 1;
		}
	}
	if (max_lookups == 0) {
		max_lookups = 1;
	}
	D.nreqs = max_lookups * DNS_QUERIES_PER_LOOKUP;
	D.reqs = pool_pages(D.nreqs * sizeof *D.reqs);
	D.rx = malloc(DNS_UDP_MSG_MAX);
	D.tcp = pool_pages(TCP_BYTES);
	D.scratch = malloc(sizeof *D.scratch);
	if (D.reqs == NULL || D.rx == NULL || D.tcp == NULL ||
	    D.scratch == NULL) {
		D.up = 1;
		dns_query_shutdown();
		return err_set(e, "dns: out of memory");
	}
	/* Slots are set up at first use (req_get): the pages of slots
	 * never used stay untouched, out of the resident set. */
	D.free = NULL;
	D.fresh = 0;
	D.up = 1;
	if (dns_cache_init(DNS_CACHE_MAX, e) == -1) {
		dns_query_shutdown();
		return -1;
	}
	for (size_t i = 0; i < D.nservers; i++) {
		char t[ADDR_STR_MAX];

		log_debug("dns: server %s", server_text(&D.servers[i], t,
		    sizeof t));
	}
	return 0;
}

void
dns_query_shutdown(void)
{
	if (!D.up) {
		return;
	}
	for (size_t i = 0; D.reqs != NULL && i < D.fresh; i++) {
		if (D.reqs[i].state != REQ_FREE) {
			req_close(&D.reqs[i]);
			ev_timer_cancel(D.ev, &D.reqs[i].timer);
		}
	}
	dns_cache_free();
	pool_pages_free(D.reqs, D.nreqs * sizeof *D.reqs);
	free(D.rx);
	pool_pages_free(D.tcp, TCP_BYTES);
	free(D.scratch);
	memset(&D, 0, sizeof D);
	epoch++;
}

void
dns_set_timeouts(unsigned ms, unsigned tries)
{
	if (ms > 0) {
		try_ms = ms;
	}
	if (tries > 0) {
		max_tries = tries;
	}
}

struct ev *
dns_ev(void)
{
	return D.ev;
}

struct dns_req *
dns_query(const char *name, uint16_t qtype, dns_answer_fn *cb, void *arg)
{
	struct dns_req *r = D.up ? req_get() : NULL;

	if (r == NULL) {
		log_debug("dns: no query slot for %s", name);
		return NULL;
	}
	r->seq = ++D.seq;
	r->qtype = qtype;
	r->cb = cb;
	r->arg = arg;
	r->hops = 0;
	r->tries = 0;
	r->server = 0;
	r->edns = 1;
	r->chain_ttl = UINT32_MAX;
	r->status = DNS_OK;
	r->fd = -1;
	r->tcp_buf = -1;
	if (strlen(name) >= DNS_NAME_MAX || dns_name_check(name) !=
	    DNS_PE_OK) {
		r->status = DNS_PERMFAIL;
		r->qname[0] = '\0';
	} else {
		memcpy(r->qname, name, strlen(name) + 1);
	}
	memcpy(r->cur, r->qname, sizeof r->cur);
	r->state = REQ_START;
	/* Even a cached answer waits for the loop: callers are never
	 * called back from inside dns_query. */
	if (ev_timer_in(D.ev, &r->timer, 0) == -1) {
		r->state = REQ_FREE;
		r->next_free = D.free;
		D.free = r;
		log_warnx("dns: timer heap full");
		return NULL;
	}
	return r;
}

void
dns_cancel(struct dns_req *r)
{
	if (r == NULL || r->state == REQ_FREE) {
		return;
	}
	log_debug("dns %u: cancelled", r->seq);
	req_close(r);
	ev_timer_cancel(D.ev, &r->timer);
	r->state = REQ_FREE;
	r->cb = NULL;
	r->next_free = D.free;
	D.free = r;
}

const char *
dns_record_text(const struct dns_answer *a, const struct dns_record *rr)
{
	return a->text + rr->off;
}

const char *
dns_status_str(int status)
{
	switch (status) {
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "no such domain";
	case DNS_NODATA:
		return "no record of that type";
	case DNS_TEMPFAIL:
		return "temporary failure";
	case DNS_PERMFAIL:
		return "bad name or answer";
	case DNS_NULLMX:
		return "null MX: the domain accepts no mail";
	default:
		return "unknown";
	}
}

void
dns_random(void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len > 0) {
		size_t n;

		if (D.rnd_left == 0) {
			ssize_t got = getrandom(D.rnd, sizeof D.rnd,
			    GRND_NONBLOCK);

			if (got != (ssize_t)sizeof D.rnd) {
				int fd = open("/dev/urandom",
				    O_RDONLY | O_CLOEXEC);

				got = fd == -1 ? -1 :
				    read(fd, D.rnd, sizeof D.rnd);
				if (fd != -1) {
					close(fd);
				}
				if (got != (ssize_t)sizeof D.rnd) {
					/* Never seen; still vary. */
					uint64_t t = ev_clock_ms();

					for (size_t i = 0; i < sizeof D.rnd;
					    i++) {
						t = t * 6364136223846793005u +
						    1442695040888963407u;
						D.rnd[i] ^= (uint8_t)(t >> 56);
					}
				}
			}
			D.rnd_left = sizeof D.rnd;
		}
		n = len < D.rnd_left ? len : D.rnd_left;
		memcpy(out, D.rnd + sizeof D.rnd - D.rnd_left, n);
		D.rnd_left -= n;
		out += n;
		len -= n;
	}
}

/* A free slot: the one given back last (its pages are warm), else
 * one never used, set up now. */
static struct dns_req *
req_get(void)
{
	struct dns_req *r = D.free;

	if (r != NULL) {
		D.free = r->next_free;
	} else if (D.fresh < D.nreqs) {
		r = &D.reqs[D.fresh++];
		timer_init(&r->timer, on_timer, r);
	} else {
		return NULL;
	}
	r->next_free = NULL;
	return r;
}

static void
req_set_state(struct dns_req *r, enum req_state to)
{
	log_debug("dns %u: %s -> %s", r->seq, req_state_name[r->state],
	    req_state_name[to]);
	r->state = to;
}

/* Closes the try's socket and gives back its TCP buffer. */
static void
req_close(struct dns_req *r)
{
	if (r->fd != -1) {
		ev_del_fd(D.ev, r->fd);
		close(r->fd);
		r->fd = -1;
	}
	if (r->tcp_buf != -1) {
		D.tcp_used[r->tcp_buf] = 0;
		r->tcp_buf = -1;
	}
}

/* Frees the slot first, then calls back: the callback may start new
 * queries (in this slot too), cancel others or shut down. */
static void
req_finish(struct dns_req *r, int status, const struct dns_answer *a)
{
	dns_answer_fn *cb = r->cb;
	void *arg = r->arg;

	log_debug("dns %u: %s %s: %s%s%s", r->seq, type_name(r->qtype),
	    r->qname[0] != '\0' ? r->qname : "(bad name)",
	    dns_status_str(status), a != NULL ? ", records: " : "",
	    a != NULL ? (a->n > 0 ? "yes" : "none") : "");
	req_close(r);
	ev_timer_cancel(D.ev, &r->timer);
	r->state = REQ_FREE;
	r->cb = NULL;
	r->next_free = D.free;
	D.free = r;
	if (cb != NULL) {
		cb(arg, status, status == DNS_OK ? a : NULL);
	}
}

/* Sends the next try, from the server in r->server; moves on through
 * the servers while sockets fail, and fails when tries run out. */
static void
req_try(struct dns_req *r)
{
	while (r->tries < max_tries) {
		r->tries++;
		r->id = rand16();
		if (req_udp(r) == 0) {
			return;
		}
		r->server = (r->server + 1) % (unsigned)D.nservers;
	}
	req_finish(r, DNS_TEMPFAIL, NULL);
}

static void
req_next(struct dns_req *r, int same)
{
	req_close(r);
	ev_timer_cancel(D.ev, &r->timer);
	if (!same) {
		r->server = (r->server + 1) % (unsigned)D.nservers;
	}
	req_try(r);
}

static int
req_udp(struct dns_req *r)
{
	uint8_t q[DNS_QUERY_MAX];
	char t[ADDR_STR_MAX];
	size_t qlen;
	const struct dns_server *s = &D.servers[r->server];

	if (dns_query_build(q, sizeof q, &qlen, r->id, r->cur, r->qtype,
	    r->edns) != DNS_PE_OK) {
		return -1;	/* checked in dns_query; not reached */
	}
	r->fd = open_socket(s, SOCK_DGRAM);
	if (r->fd == -1) {
		log_warn("dns %u: socket to %s", r->seq,
		    server_text(s, t, sizeof t));
		return -1;
	}
	if (send(r->fd, q, qlen, 0) != (ssize_t)qlen ||
	    ev_add_fd(D.ev, r->fd, EV_READ, on_udp, r) == -1 ||
	    ev_timer_in(D.ev, &r->timer, try_ms) == -1) {
		log_warn("dns %u: send to %s", r->seq,
		    server_text(s, t, sizeof t));
		req_close(r);
		return -1;
	}
	log_debug("dns %u: %s %s? id %u to %s try %u%s", r->seq,
	    type_name(r->qtype), r->cur, r->id, server_text(s, t, sizeof t),
	    r->tries, r->edns ? "" : " (no EDNS)");
	req_set_state(r, REQ_UDP);
	return 0;
}

static int
req_tcp(struct dns_req *r)
{
	const struct dns_server *s = &D.servers[r->server];
	char t[ADDR_STR_MAX];

	req_close(r);
	ev_timer_cancel(D.ev, &r->timer);
	for (int i = 0; i < DNS_TCP_BUFS; i++) {
		if (!D.tcp_used[i]) {
			D.tcp_used[i] = 1;
			r->tcp_buf = i;
			break;
		}
	}
	if (r->tcp_buf == -1) {
		log_warnx("dns %u: every TCP buffer is busy", r->seq);
		return -1;
	}
	r->fd = open_socket(s, SOCK_STREAM);
	if (r->fd == -1 || ev_add_fd(D.ev, r->fd, EV_WRITE, on_tcp, r) == -1 ||
	    ev_timer_in(D.ev, &r->timer, try_ms) == -1) {
		log_warn("dns %u: tcp to %s", r->seq,
		    server_text(s, t, sizeof t));
		req_close(r);
		return -1;
	}
	r->tcp_done = 0;
	r->tcp_need = 0;
	req_set_state(r, REQ_TCP_CONNECT);
	return 0;
}

static void
on_timer(struct timer *tm, void *arg)
{
	struct dns_req *r = arg;
	int status;

	(void)tm;
	if (r->state == REQ_START) {
		if (r->status != DNS_OK) {
			req_finish(r, r->status, NULL);
		} else if (dns_cache_get(r->qname, r->qtype,
		    ev_now(D.ev), &status, D.scratch) == 1) {
			/* scratch is free: answers are built in it only
			 * from the loop, never during a callback. */
			log_debug("dns %u: cached", r->seq);
			req_finish(r, status, D.scratch);
		} else {
			req_try(r);
		}
		return;
	}
	log_debug("dns %u: timeout (%s)", r->seq, req_state_name[r->state]);
	req_next(r, 0);
}

static void
on_udp(struct ev *ev, int fd, unsigned events, void *arg)
{
	struct dns_req *r = arg;
	unsigned ep = epoch;

	(void)ev;
	(void)fd;
	(void)events;
	for (;;) {
		ssize_t n = recv(r->fd, D.rx, DNS_UDP_MSG_MAX, MSG_TRUNC);

		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR)) {
			return;
		}
		if (n == -1) {
			log_debug("dns %u: recv: %s", r->seq,
			    strerror(errno));
			req_next(r, 0);
			return;
		}
		if (n > DNS_UDP_MSG_MAX) {
			log_debug("dns %u: %zd octets over UDP, asking over "
			    "TCP", r->seq, n);
			act(r, V_TCP);
			return;
		}
		act(r, handle(r, D.rx, (size_t)n, 1));
		if (ep != epoch || r->state != REQ_UDP || r->fd != fd) {
			return;	/* finished, moved on, reused, shut down */
		}
	}
}

static void
on_tcp(struct ev *ev, int fd, unsigned events, void *arg)
{
	struct dns_req *r = arg;

	(void)ev;
	(void)fd;
	if (r->state == REQ_TCP_CONNECT) {
		int soerr = 0;
		socklen_t sl = sizeof soerr;

		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &sl) == -1 || soerr != 0) {
			log_debug("dns %u: tcp connect: %s", r->seq,
			    strerror(soerr != 0 ? soerr : errno));
			req_next(r, 0);
			return;
		}
		req_set_state(r, REQ_TCP_WRITE);
	}
	if (r->state == REQ_TCP_WRITE && (events & (EV_WRITE | EV_HUP))) {
		tcp_write(r);
	} else if (r->state == REQ_TCP_READ && (events & EV_READ)) {
		tcp_read(r);
	}
}

/* Writes the length prefix and the query (rebuilt: the same id and
 * flags give the same octets), as far as the socket takes it. */
static void
tcp_write(struct dns_req *r)
{
	uint8_t q[2 + DNS_QUERY_MAX];
	size_t qlen;
	ssize_t n;

	if (dns_query_build(q + 2, sizeof q - 2, &qlen, r->id, r->cur,
	    r->qtype, r->edns) != DNS_PE_OK) {
		req_next(r, 0);
		return;
	}
	q[0] = (uint8_t)(qlen >> 8);
	q[1] = (uint8_t)qlen;
	n = send(r->fd, q + r->tcp_done, qlen + 2 - r->tcp_done,
	    MSG_NOSIGNAL);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n <= 0) {
		log_debug("dns %u: tcp send: %s", r->seq, strerror(errno));
		req_next(r, 0);
		return;
	}
	r->tcp_done += (size_t)n;
	if (r->tcp_done == qlen + 2) {
		r->tcp_done = 0;
		if (ev_mod_fd(D.ev, r->fd, EV_READ) == -1) {
			req_next(r, 0);
			return;
		}
		req_set_state(r, REQ_TCP_READ);
	}
}

/* Reads the two-octet length, then the message, into the TCP buffer. */
static void
tcp_read(struct dns_req *r)
{
	uint8_t *buf = D.tcp + (size_t)r->tcp_buf * DNS_TCP_MSG_MAX;
	size_t want = r->tcp_need == 0 ? 2 : r->tcp_need;
	ssize_t n;

	n = recv(r->fd, buf + r->tcp_done, want - r->tcp_done, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n <= 0) {
		log_debug("dns %u: tcp recv: %s", r->seq,
		    n == 0 ? "closed early" : strerror(errno));
		req_next(r, 0);
		return;
	}
	r->tcp_done += (size_t)n;
	if (r->tcp_done < want) {
		return;
	}
	if (r->tcp_need == 0) {
		r->tcp_need = (size_t)buf[0] << 8 | buf[1];
		r->tcp_done = 0;
		if (r->tcp_need < DNS_HDR_LEN ||
		    r->tcp_need > DNS_TCP_MSG_MAX) {
			log_debug("dns %u: tcp answer of %zu octets", r->seq,
			    r->tcp_need);
			req_next(r, 0);
		}
		return;
	}
	act(r, handle(r, buf, r->tcp_need, 0));
}

/* Carries out a verdict on r (which may be finished afterwards). */
static void
act(struct dns_req *r, enum verdict v)
{
	switch (v) {
	case V_IGNORE:
		if (r->state != REQ_UDP) {
			req_next(r, 0);	/* TCP: the one answer is wrong */
		}
		return;
	case V_DONE:
		return;
	case V_NEXT:
		req_next(r, 0);
		return;
	case V_SAME:
		req_next(r, 1);
		return;
	case V_TCP:
		if (req_tcp(r) == -1) {
			req_next(r, 0);
		}
		return;
	case V_REQUERY:
		req_close(r);
		ev_timer_cancel(D.ev, &r->timer);
		r->tries = 0;
		r->server = 0;
		req_try(r);
		return;
	}
}

/*
 * One message from the server. Packets that do not answer our
 * question (id, name, type, class) are ignored, as RFC 5452 9.1 asks;
 * a malformed answer to it sends us to the next server.
 */
static enum verdict
handle(struct dns_req *r, const uint8_t *pkt, size_t len, int udp)
{
	struct dns_answer *a = D.scratch;
	struct dns_msg m;
	char final[DNS_NAME_MAX];
	uint32_t ttl, negttl;
	size_t found;
	int rc;

	if (dns_msg_init(&m, pkt, len, r->id, r->cur, r->qtype) == -1) {
		log_debug("dns %u: ignored %zu octets: %s", r->seq, len,
		    dns_strerror(m.err));
		return V_IGNORE;
	}
	if (m.tc && udp) {
		log_debug("dns %u: truncated, asking over TCP", r->seq);
		return V_TCP;
	}
	switch (m.rcode) {
	case DNS_RC_NOERROR:
	case DNS_RC_NXDOMAIN:
		break;
	case DNS_RC_FORMERR:
		if (r->edns) {
			r->edns = 0;	/* an old server: ask plainly */
			return V_SAME;
		}
		/* FALLTHROUGH */
	default:
		log_debug("dns %u: server answered rcode %u", r->seq,
		    m.rcode);
		return V_NEXT;
	}
	rc = collect(r, pkt, len, a, final, &ttl, &negttl, &found);
	if (rc == -1) {
		log_debug("dns %u: malformed answer", r->seq);
		return V_NEXT;
	}
	if (rc == -2) {
		log_debug("dns %u: CNAME chain over %d links", r->seq,
		    DNS_CNAME_MAX);
		req_finish(r, DNS_PERMFAIL, NULL);
		return V_DONE;
	}
	if (found > 0) {
		if (r->chain_ttl < ttl) {
			ttl = r->chain_ttl;
		}
		a->ttl = ttl;
		dns_cache_put(r->qname, r->qtype, DNS_OK, a, ttl,
		    ev_now(D.ev));
		req_finish(r, DNS_OK, a);
		return V_DONE;
	}
	if (!dns_name_eq(final, r->cur) && m.rcode == DNS_RC_NOERROR) {
		/* The server gave the chain but not its end. */
		log_debug("dns %u: CNAME %s -> %s", r->seq, r->cur, final);
		if (ttl < r->chain_ttl) {
			r->chain_ttl = ttl;
		}
		memcpy(r->cur, final, sizeof r->cur);
		return V_REQUERY;
	}
	rc = m.rcode == DNS_RC_NXDOMAIN ? DNS_NXDOMAIN : DNS_NODATA;
	dns_cache_put(r->qname, r->qtype, rc, NULL, negttl, ev_now(D.ev));
	req_finish(r, rc, NULL);
	return V_DONE;
}

/*
 * Follows the CNAME chain from r->cur through the answer section (at
 * most DNS_CNAME_MAX links over the whole query), then keeps the
 * records of r->qtype owned by its end in a. The final name goes to
 * final, the smallest TTL of the chain and records to *ttl, the
 * negative TTL (RFC 2308 5: SOA TTL and MINIMUM, the smaller) to
 * *negttl, the count of records of the type to *found. 0, -1 for a
 * malformed message, -2 for a chain too long.
 */
static int
collect(struct dns_req *r, const uint8_t *pkt, size_t len,
    struct dns_answer *a, char *final, uint32_t *ttl, uint32_t *negttl,
    size_t *found)
{
	struct dns_msg m;
	struct dns_rr rr;
	int rc;

	memcpy(final, r->cur, DNS_NAME_MAX);
	*ttl = UINT32_MAX;
	*negttl = DNS_NEG_TTL;
	*found = 0;
	for (;;) {
		char next[DNS_NAME_MAX];
		uint32_t cttl = 0;
		int have_next = 0;

		next[0] = '\0';
		(void)dns_msg_init(&m, pkt, len, r->id, r->cur, r->qtype);
		while ((rc = dns_msg_next(&m, &rr)) == 1) {
			if (rr.section != DNS_SEC_ANSWER ||
			    !dns_name_eq(rr.owner, final)) {
				continue;
			}
			if (rr.type == r->qtype) {
				(*found)++;
			} else if (rr.type == DNS_T_CNAME && !have_next) {
				memcpy(next, rr.target, sizeof next);
				cttl = rr.ttl;
				have_next = 1;
			}
		}
		if (rc == -1) {
			return -1;
		}
		if (*found > 0 || !have_next) {
			break;
		}
		if (++r->hops > DNS_CNAME_MAX) {
			return -2;
		}
		memcpy(final, next, DNS_NAME_MAX);
		if (cttl < *ttl) {
			*ttl = cttl;
		}
	}
	memset(a, 0, offsetof(struct dns_answer, text));
	memcpy(a->qname, r->qname, sizeof a->qname);
	memcpy(a->cname, final, sizeof a->cname);
	a->qtype = r->qtype;
	(void)dns_msg_init(&m, pkt, len, r->id, r->cur, r->qtype);
	while (dns_msg_next(&m, &rr) == 1) {
		if (rr.section == DNS_SEC_AUTHORITY && rr.type == DNS_T_SOA) {
			*negttl = rr.ttl < rr.soa_min ? rr.ttl : rr.soa_min;
		}
		if (rr.section != DNS_SEC_ANSWER || rr.type != r->qtype ||
		    !dns_name_eq(rr.owner, final)) {
			continue;
		}
		if (rr.ttl < *ttl) {
			*ttl = rr.ttl;
		}
		if (keep_record(a, &rr) == -1) {
			break;	/* full: the rest are left out */
		}
	}
	if (*ttl == UINT32_MAX) {
		*ttl = 0;
	}
	return 0;
}

/* Appends rr to a; -1 when a has no room for it. */
static int
keep_record(struct dns_answer *a, const struct dns_rr *rr)
{
	struct dns_record *k;
	size_t room = sizeof a->text - a->textlen;
	int n;

	if (a->n == DNS_ANSWER_RR_MAX || room == 0) {
		return -1;
	}
	k = &a->rr[a->n];
	memset(k, 0, sizeof *k);
	k->type = rr->type;
	k->ttl = rr->ttl;
	k->pref = rr->pref;
	k->weight = rr->weight;
	k->port = rr->port;
	memcpy(k->addr, rr->addr, sizeof k->addr);
	k->off = (uint16_t)a->textlen;
	switch (rr->type) {
	case DNS_T_MX:
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_SRV:
		n = (int)strlen(rr->target);
		if ((size_t)n + 1 > room) {
			return -1;
		}
		memcpy(a->text + a->textlen, rr->target, (size_t)n + 1);
		break;
	case DNS_T_TXT:
		n = dns_txt_join(rr, a->text + a->textlen, room);
		if (n == -1) {
			n = (int)room - 1;	/* cut, as documented */
		}
		break;
	default:
		n = 0;
		a->text[a->textlen] = '\0';
		break;
	}
	k->len = (uint16_t)n;
	a->textlen += (size_t)n + 1;
	a->n++;
	return 0;
}

/* A non-blocking socket connect()ed (or connecting) to s. */
static int
open_socket(const struct dns_server *s, int type)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	memset(&ss, 0, sizeof ss);
	if (s->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(s->port);
		memcpy(&s6->sin6_addr, s->addr, 16);
		sl = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(s->port);
		memcpy(&s4->sin_addr, s->addr, 4);
		sl = sizeof *s4;
	}
	fd = socket(s->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) == -1 &&
	    errno != EINPROGRESS) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static const char *
type_name(uint16_t t)
{
	switch (t) {
	case DNS_T_A:
		return "A";
	case DNS_T_AAAA:
		return "AAAA";
	case DNS_T_MX:
		return "MX";
	case DNS_T_CNAME:
		return "CNAME";
	case DNS_T_TXT:
		return "TXT";
	case DNS_T_PTR:
		return "PTR";
	case DNS_T_SRV:
		return "SRV";
	case DNS_T_SOA:
		return "SOA";
	default:
		return "type?";
	}
}

static const char *
server_text(const struct dns_server *s, char *buf, size_t cap)
{
	char a[ADDR_TEXT_MAX];

	if (addr_text(a, sizeof a, s->family, s->addr) == -1) {
		return "?";
	}
	if (s->family == AF_INET6) {
		(void)fmt(buf, cap, "[%s]:%u", a, s->port);
	} else {
		(void)fmt(buf, cap, "%s:%u", a, s->port);
	}
	return buf;
}

static uint16_t
rand16(void)
{
	uint8_t b[2];

	dns_random(b, sizeof b);
	return (uint16_t)(b[0] << 8 | b[1]);
}
