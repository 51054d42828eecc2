/* SPDX-License-Identifier: ISC */
/*
 * test_dns.c - the resolver (dns/dns.h) on a real event loop against
 * fake DNS servers in this process: UDP sockets and TCP listeners on
 * 127.0.0.1 that answer from a table of records. Covers MX order and
 * shuffling, the implicit MX, null MX, NXDOMAIN, CNAME chains (in one
 * answer and asked again), a timeout then the second server, SERVFAIL,
 * TC then TCP, answers with a wrong id or question ignored, the cache
 * (no packet the second time, every kind of answer packed and back
 * as it was, one too big asked again, LRU eviction, flush), the query
 * and lookup slots running out, cancelling (also from a callback),
 * literal addresses, and the dns_servers / resolv.conf parsers.
 * Last, when /usr/sbin/dnsmasq is there, the same lookups against a
 * real server (an answer too big for UDP comes over TCP).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/ev.h"
#include "core/log.h"
#include "dns/dns.h"
#include "testutil.h"

#define TRY_MS		150
#define WAIT_MS		3000

/* --- the zone the fake servers answer from ----------------------- */

#define TXT40(c)	c c c c c c c c c c c c c c c c c c c c \
			c c c c c c c c c c c c c c c c c c c c
#define TXT200(c)	TXT40(c) TXT40(c) TXT40(c) TXT40(c) TXT40(c)

struct frr {
	const char	*owner;		/* NULL: the question's name */
	uint16_t	 type;
	const char	*data;		/* "10 host", "192.0.2.1", text */
};

struct fzone {
	const char	*name;
	uint16_t	 type;
	int		 rcode;
	struct frr	 rr[4];
};

static const struct fzone zone[] = {
	{ "mx.test", DNS_T_MX, 0, { { NULL, DNS_T_MX, "20 b.mx.test" },
	    { NULL, DNS_T_MX, "10 a.mx.test" },
	    { NULL, DNS_T_MX, "20 c.mx.test" } } },
	{ "a.mx.test", DNS_T_A, 0, { { NULL, DNS_T_A, "192.0.2.1" } } },
	{ "a.mx.test", DNS_T_AAAA, 0, { { NULL, DNS_T_AAAA,
	    "2001:db8::1" } } },
	{ "b.mx.test", DNS_T_A, 0, { { NULL, DNS_T_A, "192.0.2.2" } } },
	{ "c.mx.test", DNS_T_A, 0, { { NULL, DNS_T_A, "192.0.2.3" } } },
	{ "imp.test", DNS_T_A, 0, { { NULL, DNS_T_A, "192.0.2.5" } } },
	{ "null.test", DNS_T_MX, 0, { { NULL, DNS_T_MX, "0 ." } } },
	{ "dead.test", DNS_T_MX, 0, { { NULL, DNS_T_MX,
	    "10 gone.dead.test" } } },
	{ "alias.test", DNS_T_A, 0, { { NULL, DNS_T_CNAME,
	    "real.test" } } },
	{ "real.test", DNS_T_A, 0, { { NULL, DNS_T_A, "192.0.2.8" } } },
	{ "chain.test", DNS_T_A, 0, { { NULL, DNS_T_CNAME, "c2.test" },
	    { "c2.test", DNS_T_A, "192.0.2.7" } } },
	{ "loop1.test", DNS_T_A, 0, { { NULL, DNS_T_CNAME,
	    "loop2.test" } } },
	{ "loop2.test", DNS_T_A, 0, { { NULL, DNS_T_CNAME,
	    "loop1.test" } } },
	{ "fail.test", DNS_T_A, 2, { { NULL, 0, NULL } } },
	{ "txt.test", DNS_T_TXT, 0, { { NULL, DNS_T_TXT, "v=spf1 -all" } } },
	{ "many.test", DNS_T_A, 0, { { NULL, DNS_T_A, "192.0.2.11" },
	    { NULL, DNS_T_A, "192.0.2.12" }, { NULL, DNS_T_A, "192.0.2.13" },
	    { NULL, DNS_T_A, "192.0.2.14" } } },
	{ "many.test", DNS_T_AAAA, 0, { { NULL, DNS_T_AAAA, "2001:db8::a" },
	    { NULL, DNS_T_AAAA, "2001:db8::b" },
	    { NULL, DNS_T_AAAA, "2001:db8::c" } } },
	/* 3 x 200 octets of TXT: more than a cache entry holds. */
	{ "bigtxt.test", DNS_T_TXT, 0, { { NULL, DNS_T_TXT, TXT200("a") },
	    { NULL, DNS_T_TXT, TXT200("b") },
	    { NULL, DNS_T_TXT, TXT200("c") } } },
	{ "v6zero.test", DNS_T_AAAA, 0, { { NULL, DNS_T_AAAA,
	    "2001:db8::" }, { NULL, DNS_T_AAAA, "::" } } },
};

/* --- fake servers -------------------------------------------------- */

#define FAKE_TCP_CONNS	4

struct fake {
	int		 udp, lis;
	uint16_t	 port;
	int		 silent;	/* answers nothing */
	int		 tc;		/* UDP answers are truncated */
	int		 junk_first;	/* wrong id and question first */
	int		 servfail;	/* every answer is SERVFAIL */
	int		 no_edns;	/* FORMERR to queries with OPT */
	int		 big;		/* UDP answers padded past 4096 */
	unsigned	 edns_q;	/* queries seen with an OPT */
	unsigned	 udp_q, tcp_q;
	int		 conn[FAKE_TCP_CONNS];
	size_t		 got[FAKE_TCP_CONNS];
	uint8_t		 in[FAKE_TCP_CONNS][600];
};

static struct ev	 ev;
static struct fake	 fk[2];

static size_t
put_name(uint8_t *out, const char *name)
{
	size_t n = 0;
	const char *p = name;

	if (strcmp(name, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);

		out[n++] = (uint8_t)l;
		memcpy(out + n, p, l);
		n += l;
		p += l + (dot != NULL ? 1 : 0);
	}
	out[n++] = 0;
	return n;
}

static size_t
put_rr(uint8_t *out, const char *owner, const struct frr *r)
{
	size_t n = put_name(out, owner), rd;
	uint8_t *lenp;

	out[n++] = (uint8_t)(r->type >> 8);
	out[n++] = (uint8_t)r->type;
	out[n++] = 0;
	out[n++] = 1;
	memcpy(out + n, "\x00\x00\x00\x3c", 4);	/* TTL 60 */
	n += 4;
	lenp = out + n;
	n += 2;
	rd = n;
	switch (r->type) {
	case DNS_T_A:
		assert_int_equal(inet_pton(AF_INET, r->data, out + n), 1);
		n += 4;
		break;
	case DNS_T_AAAA:
		assert_int_equal(inet_pton(AF_INET6, r->data, out + n), 1);
		n += 16;
		break;
	case DNS_T_MX: {
		unsigned pref = (unsigned)atoi(r->data);

		out[n++] = (uint8_t)(pref >> 8);
		out[n++] = (uint8_t)pref;
		n += put_name(out + n, strchr(r->data, ' ') + 1);
		break;
	}
	case DNS_T_CNAME:
	case DNS_T_PTR:
		n += put_name(out + n, r->data);
		break;
	case DNS_T_TXT:
		out[n++] = (uint8_t)strlen(r->data);
		memcpy(out + n, r->data, strlen(r->data));
		n += strlen(r->data);
		break;
	default:
		fail_msg("put_rr: type %u", r->type);
	}
	lenp[0] = (uint8_t)((n - rd) >> 8);
	lenp[1] = (uint8_t)(n - rd);
	return n;
}

/* The answer to query q[0..qlen) from the zone; its length. */
static size_t
fake_answer(const struct fake *f, const uint8_t *q, size_t qlen,
    uint8_t *out, int tcp)
{
	char name[300];
	size_t pos = DNS_HDR_LEN, o = 0, n;
	uint16_t qtype, an = 0;
	int rcode = 3, found = 0;

	while (pos < qlen && q[pos] != 0) {
		if (o > 0) {
			name[o++] = '.';
		}
		memcpy(name + o, q + pos + 1, q[pos]);
		o += q[pos];
		pos += 1 + (size_t)q[pos];
	}
	name[o] = '\0';
	pos++;
	qtype = (uint16_t)(q[pos] << 8 | q[pos + 1]);
	pos += 4;
	memcpy(out, q, pos);	/* id, flags, counts, question */
	out[2] = 0x81;
	out[3] = 0x80;
	memset(out + 6, 0, 6);
	n = pos;
	for (size_t i = 0; i < sizeof zone / sizeof zone[0]; i++) {
		if (strcasecmp(zone[i].name, name) != 0) {
			continue;
		}
		rcode = 0;	/* the name exists */
		if (zone[i].type != qtype) {
			continue;
		}
		found = 1;
		rcode = zone[i].rcode;
		for (int k = 0; k < 4 && zone[i].rr[k].data != NULL; k++) {
			const struct frr *r = &zone[i].rr[k];

			n += put_rr(out + n, r->owner != NULL ? r->owner :
			    name, r);
			an++;
		}
	}
	(void)found;
	if (f->no_edns && q[11] != 0) {
		rcode = 1;
		an = 0;
		n = pos;
	}
	if (f->servfail) {
		rcode = 2;
		an = 0;
		n = pos;
	}
	if (f->tc && !tcp) {
		out[2] |= 0x02;
		an = 0;
		n = pos;
	}
	out[3] = (uint8_t)(0x80 | rcode);
	out[6] = (uint8_t)(an >> 8);
	out[7] = (uint8_t)an;
	return n;
}

static void
fake_udp(struct ev *e, int fd, unsigned events, void *arg)
{
	struct fake *f = arg;
	uint8_t q[600], out[6000];
	struct sockaddr_storage from;
	socklen_t fl = sizeof from;
	ssize_t n;
	size_t len;

	(void)e;
	(void)events;
	n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
	if (n <= 0) {
		return;
	}
	f->udp_q++;
	f->edns_q += q[11] != 0;
	if (f->silent) {
		return;
	}
	len = fake_answer(f, q, (size_t)n, out, 0);
	if (f->big) {
		memset(out + len, 0, 5000 - len);
		len = 5000;
	}
	if (f->junk_first) {
		/* Another id, then another question (type), then QR
		 * clear: all three must be ignored. */
		out[1] ^= 1;
		assert_int_equal(sendto(fd, out, len, 0,
		    (struct sockaddr *)&from, fl), (ssize_t)len);
		out[1] ^= 1;
		out[13] ^= 1;	/* the first letter of the name */
		assert_int_equal(sendto(fd, out, len, 0,
		    (struct sockaddr *)&from, fl), (ssize_t)len);
		out[13] ^= 1;	/* the first letter of the name */
		out[2] &= 0x7f;
		assert_int_equal(sendto(fd, out, len, 0,
		    (struct sockaddr *)&from, fl), (ssize_t)len);
		out[2] |= 0x80;
	}
	assert_int_equal(sendto(fd, out, len, 0, (struct sockaddr *)&from,
	    fl), (ssize_t)len);
}

static void
fake_conn(struct ev *e, int fd, unsigned events, void *arg)
{
	struct fake *f = arg;
	int k;
	ssize_t n;

	(void)events;
	for (k = 0; k < FAKE_TCP_CONNS && f->conn[k] != fd; k++) {
	}
	assert_true(k < FAKE_TCP_CONNS);
	n = read(fd, f->in[k] + f->got[k], sizeof f->in[k] - f->got[k]);
	if (n > 0) {
		f->got[k] += (size_t)n;
	}
	if (f->got[k] >= 2 && f->got[k] >= 2u + (size_t)(f->in[k][0] << 8 |
	    f->in[k][1])) {
		uint8_t out[2050];
		size_t len;

		f->tcp_q++;
		len = fake_answer(f, f->in[k] + 2, f->got[k] - 2, out + 2, 1);
		out[0] = (uint8_t)(len >> 8);
		out[1] = (uint8_t)len;
		/* In two writes, so the reader sees a split length. */
		assert_int_equal(write(fd, out, 1), 1);
		assert_int_equal(write(fd, out + 1, len + 1),
		    (ssize_t)len + 1);
		n = 0;
	}
	if (n <= 0) {
		ev_del_fd(e, fd);
		close(fd);
		f->conn[k] = -1;
	}
}

static void
fake_accept(struct ev *e, int fd, unsigned events, void *arg)
{
	struct fake *f = arg;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)events;
	if (c == -1) {
		return;
	}
	for (int k = 0; k < FAKE_TCP_CONNS; k++) {
		if (f->conn[k] == -1) {
			f->conn[k] = c;
			f->got[k] = 0;
			assert_int_equal(ev_add_fd(e, c, EV_READ, fake_conn,
			    f), 0);
			return;
		}
	}
	close(c);
}

/* UDP on a free port, TCP on the same number: that one may be taken
 * (other tests run at the same time), then another port is tried. */
static void
fake_start(struct fake *f)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int one = 1, tries = 0;

	memset(f, 0, sizeof *f);
	for (int k = 0; k < FAKE_TCP_CONNS; k++) {
		f->conn[k] = -1;
	}
	for (;;) {
		f->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		assert_true(f->udp >= 0);
		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(f->udp, (struct sockaddr *)&sa,
		    sizeof sa), 0);
		sl = sizeof sa;
		assert_int_equal(getsockname(f->udp, (struct sockaddr *)&sa,
		    &sl), 0);
		f->port = ntohs(sa.sin_port);
		f->lis = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(f->lis >= 0);
		setsockopt(f->lis, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(f->lis, (struct sockaddr *)&sa, sizeof sa) == 0) {
			break;
		}
		assert_true(++tries < 50);
		close(f->lis);
		close(f->udp);
	}
	assert_int_equal(listen(f->lis, 8), 0);
	assert_int_equal(ev_add_fd(&ev, f->udp, EV_READ, fake_udp, f), 0);
	assert_int_equal(ev_add_fd(&ev, f->lis, EV_READ, fake_accept, f), 0);
}

static void
fake_stop(struct fake *f)
{
	ev_del_fd(&ev, f->udp);
	ev_del_fd(&ev, f->lis);
	close(f->udp);
	close(f->lis);
	for (int k = 0; k < FAKE_TCP_CONNS; k++) {
		if (f->conn[k] != -1) {
			ev_del_fd(&ev, f->conn[k]);
			close(f->conn[k]);
		}
	}
}

static void
server_of(const struct fake *f, struct dns_server *s)
{
	memset(s, 0, sizeof *s);
	s->family = AF_INET;
	s->addr[0] = 127;
	s->addr[3] = 1;
	s->port = f->port;
}

/* Both fakes up; the resolver asks fk[0] first, then fk[1]. */
static int
setup(void **state)
{
	struct dns_server sv[2];
	struct err e;

	(void)state;
	if (getenv("DNS_TEST_DEBUG") != NULL) {
		log_open(LOG_DEST_STDERR, LOG_LVL_DEBUG, "test_dns");
	}
	assert_int_equal(ev_init(&ev, 1024, 256, &e), 0);
	fake_start(&fk[0]);
	fake_start(&fk[1]);
	server_of(&fk[0], &sv[0]);
	server_of(&fk[1], &sv[1]);
	dns_set_timeouts(TRY_MS, 4);
	if (dns_init(&ev, sv, 2, 4, &e) == -1) {
		fail_msg("dns_init: %s", e.msg);
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	dns_shutdown();
	fake_stop(&fk[0]);
	fake_stop(&fk[1]);
	ev_destroy(&ev);
	return 0;
}

/* --- results ------------------------------------------------------- */

struct res {
	int			 done;
	int			 status;
	char			 text[TRACE_MAX];	/* hosts, records */
	struct dns_req		*cancel_q;	/* cancelled in the callback */
};

static void
on_hosts(void *arg, int status, const struct dns_hosts *hs)
{
	struct res *r = arg;

	r->done++;
	r->status = status;
	r->text[0] = '\0';
	if (hs == NULL) {
		return;
	}
	if (hs->implicit) {
		trace_add(r->text, "implicit ");
	}
	for (size_t i = 0; i < hs->n; i++) {
		trace_add(r->text, "%s%s/%u", i > 0 ? " " : "", hs->h[i].name,
		    hs->h[i].pref);
		for (size_t k = 0; k < hs->h[i].naddrs; k++) {
			char a[64];

			inet_ntop(hs->h[i].addrs[k].family,
			    hs->h[i].addrs[k].addr, a, sizeof a);
			trace_add(r->text, "%s%s", k == 0 ? "=" : ",", a);
		}
	}
}

static void
on_answer(void *arg, int status, const struct dns_answer *a)
{
	struct res *r = arg;

	r->done++;
	r->status = status;
	r->text[0] = '\0';
	if (r->cancel_q != NULL) {
		dns_cancel(r->cancel_q);
		r->cancel_q = NULL;
	}
	if (a == NULL) {
		return;
	}
	trace_add(r->text, "%s>%s", a->qname, a->cname);
	for (size_t i = 0; i < a->n; i++) {
		char t[64];

		if (a->rr[i].type == DNS_T_A) {
			inet_ntop(AF_INET, a->rr[i].addr, t, sizeof t);
			trace_add(r->text, " %s", t);
		} else if (a->rr[i].type == DNS_T_AAAA) {
			inet_ntop(AF_INET6, a->rr[i].addr, t, sizeof t);
			trace_add(r->text, " %s", t);
		} else if (a->rr[i].type == DNS_T_MX) {
			trace_add(r->text, " %u[%s]", a->rr[i].pref,
			    dns_record_text(a, &a->rr[i]));
		} else {
			trace_add(r->text, " [%s]",
			    dns_record_text(a, &a->rr[i]));
		}
	}
}

static void
run_until(const int *done, int want)
{
	uint64_t end = ev_clock_ms() + WAIT_MS;

	while (*done < want && ev_clock_ms() < end) {
		assert_int_equal(ev_run_once(&ev, 10), 0);
	}
	assert_int_equal(*done, want);
}

/* Runs the loop for ms, whatever happens. */
static void
run_for(int ms)
{
	uint64_t end = ev_clock_ms() + (uint64_t)ms;

	while (ev_clock_ms() < end) {
		assert_int_equal(ev_run_once(&ev, 10), 0);
	}
}

static void
lookup_mx(const char *domain, struct res *r)
{
	memset(r, 0, sizeof *r);
	assert_non_null(dns_mx(domain, on_hosts, r));
	assert_int_equal(r->done, 0);	/* never from inside dns_mx */
	run_until(&r->done, 1);
}

/* --- tests --------------------------------------------------------- */

static void
test_mx_order(void **state)
{
	int seen_bc = 0, seen_cb = 0;
	struct res r;

	(void)state;
	for (int i = 0; i < 24 && !(seen_bc && seen_cb); i++) {
		dns_cache_flush();
		lookup_mx("mx.test", &r);
		assert_int_equal(r.status, DNS_OK);
		if (strcmp(r.text, "a.mx.test/10=2001:db8::1,192.0.2.1 "
		    "b.mx.test/20=192.0.2.2 c.mx.test/20=192.0.2.3") == 0) {
			seen_bc = 1;
		} else if (strcmp(r.text, "a.mx.test/10=2001:db8::1,192.0.2.1 "
		    "c.mx.test/20=192.0.2.3 b.mx.test/20=192.0.2.2") == 0) {
			seen_cb = 1;
		} else {
			fail_msg("mx.test: %s", r.text);
		}
	}
	/* Equal preferences come in both orders. */
	assert_true(seen_bc && seen_cb);
	assert_int_equal(fk[1].udp_q, 0);
}

static void
test_mx_kinds(void **state)
{
	struct res r;

	(void)state;
	lookup_mx("imp.test", &r);
	assert_int_equal(r.status, DNS_OK);
	assert_string_equal(r.text, "implicit imp.test/0=192.0.2.5");
	lookup_mx("null.test", &r);
	assert_int_equal(r.status, DNS_NULLMX);
	lookup_mx("nowhere.test", &r);
	assert_int_equal(r.status, DNS_NXDOMAIN);
	lookup_mx("dead.test", &r);
	assert_int_equal(r.status, DNS_TEMPFAIL);	/* no host resolves */
	lookup_mx("real.test", &r);	/* no MX, A via implicit */
	assert_string_equal(r.text, "implicit real.test/0=192.0.2.8");
	lookup_mx("a..test", &r);
	assert_int_equal(r.status, DNS_PERMFAIL);
	lookup_mx("fail.test", &r);	/* implicit: A is SERVFAIL */
	assert_int_equal(r.status, DNS_TEMPFAIL);
}

static void
test_addrs(void **state)
{
	struct res r;

	(void)state;
	memset(&r, 0, sizeof r);
	assert_non_null(dns_addrs("192.0.2.99", on_hosts, &r));
	run_until(&r.done, 1);
	assert_int_equal(r.status, DNS_OK);
	assert_string_equal(r.text, "192.0.2.99/0=192.0.2.99");
	memset(&r, 0, sizeof r);
	assert_non_null(dns_addrs("[2001:db8::5]", on_hosts, &r));
	run_until(&r.done, 1);
	assert_string_equal(r.text, "[2001:db8::5]/0=2001:db8::5");
	assert_int_equal(fk[0].udp_q, 0);	/* no query for literals */
	/* 3 AAAA and 4 A: two of each kept, IPv6 first. */
	memset(&r, 0, sizeof r);
	assert_non_null(dns_addrs("many.test", on_hosts, &r));
	run_until(&r.done, 1);
	assert_string_equal(r.text, "many.test/0=2001:db8::a,2001:db8::b,"
	    "192.0.2.11,192.0.2.12");
	memset(&r, 0, sizeof r);
	assert_non_null(dns_addrs("nowhere.test", on_hosts, &r));
	run_until(&r.done, 1);
	assert_int_equal(r.status, DNS_NXDOMAIN);
	memset(&r, 0, sizeof r);
	assert_non_null(dns_addrs("null.test", on_hosts, &r));
	run_until(&r.done, 1);
	assert_int_equal(r.status, DNS_NODATA);
}

static void
query(const char *name, uint16_t qtype, struct res *r)
{
	memset(r, 0, sizeof *r);
	assert_non_null(dns_query(name, qtype, on_answer, r));
	assert_int_equal(r->done, 0);	/* never from inside dns_query */
	run_until(&r->done, 1);
}

static void
test_query_cname_txt(void **state)
{
	struct res r;

	(void)state;
	query("alias.test", DNS_T_A, &r);	/* asked again for real.test */
	assert_int_equal(r.status, DNS_OK);
	assert_string_equal(r.text, "alias.test>real.test 192.0.2.8");
	assert_int_equal(fk[0].udp_q, 2);
	query("chain.test", DNS_T_A, &r);	/* the chain in one answer */
	assert_string_equal(r.text, "chain.test>c2.test 192.0.2.7");
	assert_int_equal(fk[0].udp_q, 3);
	query("loop1.test", DNS_T_A, &r);
	assert_int_equal(r.status, DNS_PERMFAIL);
	query("txt.test", DNS_T_TXT, &r);
	assert_string_equal(r.text, "txt.test>txt.test [v=spf1 -all]");
	query("txt.test", DNS_T_MX, &r);
	assert_int_equal(r.status, DNS_NODATA);
	query("bad name.test", DNS_T_A, &r);
	assert_int_equal(r.status, DNS_PERMFAIL);
}

static void
test_cache(void **state)
{
	struct res r;
	unsigned before;

	(void)state;
	query("real.test", DNS_T_A, &r);
	assert_int_equal(r.status, DNS_OK);
	before = fk[0].udp_q;
	query("REAL.test.", DNS_T_A, &r);
	assert_int_equal(r.status, DNS_OK);
	assert_string_equal(r.text, "real.test>real.test 192.0.2.8");
	assert_int_equal(fk[0].udp_q, before);	/* no packet */
	/* Negative answers are kept too. */
	query("nowhere.test", DNS_T_A, &r);
	assert_int_equal(r.status, DNS_NXDOMAIN);
	before = fk[0].udp_q;
	query("nowhere.test", DNS_T_A, &r);
	assert_int_equal(r.status, DNS_NXDOMAIN);
	assert_int_equal(fk[0].udp_q, before);
	dns_cache_flush();
	query("nowhere.test", DNS_T_A, &r);
	assert_int_equal(fk[0].udp_q, before + 1);
}

/* Every kind of answer comes back from the cache as the server gave
 * it, without a packet; one too big for an entry is asked again. */
struct cache_case {
	const char	*desc;
	const char	*name;
	uint16_t	 type;
	int		 status;
	int		 cached;	/* the second time: no packet */
	const char	*text;		/* NULL: not checked */
};

static const struct cache_case cache_cases[] = {
	{ "A records, several", "many.test", DNS_T_A, DNS_OK, 1,
	    "many.test>many.test 192.0.2.11 192.0.2.12 192.0.2.13 "
	    "192.0.2.14" },
	{ "AAAA records", "many.test", DNS_T_AAAA, DNS_OK, 1,
	    "many.test>many.test 2001:db8::a 2001:db8::b 2001:db8::c" },
	{ "AAAA ending in zeros, and all zeros", "v6zero.test", DNS_T_AAAA,
	    DNS_OK, 1, "v6zero.test>v6zero.test 2001:db8:: ::" },
	{ "MX with preferences, in the server's order", "mx.test", DNS_T_MX,
	    DNS_OK, 1, "mx.test>mx.test 20[b.mx.test] 10[a.mx.test] "
	    "20[c.mx.test]" },
	{ "null MX", "null.test", DNS_T_MX, DNS_OK, 1,
	    "null.test>null.test 0[.]" },
	{ "TXT", "txt.test", DNS_T_TXT, DNS_OK, 1,
	    "txt.test>txt.test [v=spf1 -all]" },
	{ "a CNAME chain keeps its final name", "chain.test", DNS_T_A,
	    DNS_OK, 1, "chain.test>c2.test 192.0.2.7" },
	{ "the name in another case finds the entry", "CHAIN.Test.",
	    DNS_T_A, DNS_OK, 1, "chain.test>c2.test 192.0.2.7" },
	{ "NXDOMAIN is kept", "nowhere.test", DNS_T_A, DNS_NXDOMAIN, 1,
	    "" },
	{ "NODATA is kept", "txt.test", DNS_T_MX, DNS_NODATA, 1, "" },
	{ "hostile: 600 octets of TXT do not fit an entry: asked again",
	    "bigtxt.test", DNS_T_TXT, DNS_OK, 0, NULL },
	{ "hostile: SERVFAIL is not kept", "fail.test", DNS_T_A,
	    DNS_TEMPFAIL, 0, "" },
	{ "hostile: a bad name is not asked nor kept", "a..test", DNS_T_A,
	    DNS_PERMFAIL, 1, "" },
	{ "hostile: a CNAME loop is not kept", "loop1.test", DNS_T_A,
	    DNS_PERMFAIL, 0, "" },
};

static void
test_cache_kinds(void **state)
{
	struct res r1, r2;

	(void)state;
	for (size_t i = 0; i < sizeof cache_cases / sizeof cache_cases[0];
	    i++) {
		const struct cache_case *k = &cache_cases[i];
		unsigned before;

		print_message("  %s\n", k->desc);
		query(k->name, k->type, &r1);
		assert_int_equal(r1.status, k->status);
		if (k->text != NULL) {
			assert_string_equal(r1.text, k->text);
		}
		before = fk[0].udp_q + fk[1].udp_q;
		query(k->name, k->type, &r2);
		assert_int_equal(r2.status, k->status);
		if (strcasecmp(k->name, "CHAIN.Test.") != 0) {
			assert_string_equal(r2.text, r1.text);
		}
		if (k->cached) {
			assert_int_equal(fk[0].udp_q + fk[1].udp_q, before);
		} else {
			assert_true(fk[0].udp_q + fk[1].udp_q > before);
		}
	}
	/* The big TXT came whole both times (3 x 200 and the name). */
	query("bigtxt.test", DNS_T_TXT, &r1);
	assert_int_equal(strlen(r1.text),
	    strlen("bigtxt.test>bigtxt.test [] [] []") + 600);
	assert_true(dns_cache_bytes_per_entry() < 1024);
}

/* More names than entries: the least recently used one goes, the
 * others stay; a flush empties it all. */
static void
test_cache_evict(void **state)
{
	char name[64];
	struct res r;
	unsigned before;

	(void)state;
	for (int i = 0; i < DNS_CACHE_MAX; i++) {
		snprintf(name, sizeof name, "n%d.test", i);
		query(name, DNS_T_A, &r);
		assert_int_equal(r.status, DNS_NXDOMAIN);
	}
	/* n0 used again: now n1 is the oldest. */
	before = fk[0].udp_q;
	query("n0.test", DNS_T_A, &r);
	assert_int_equal(fk[0].udp_q, before);
	query("real.test", DNS_T_A, &r);	/* takes n1's entry */
	assert_int_equal(fk[0].udp_q, before + 1);
	query("n0.test", DNS_T_A, &r);
	query("n2.test", DNS_T_A, &r);
	query(name, DNS_T_A, &r);		/* the last one */
	query("real.test", DNS_T_A, &r);
	assert_int_equal(fk[0].udp_q, before + 1);
	query("n1.test", DNS_T_A, &r);
	assert_int_equal(fk[0].udp_q, before + 2);
	dns_cache_flush();
	query("real.test", DNS_T_A, &r);
	assert_int_equal(fk[0].udp_q, before + 3);
	assert_string_equal(r.text, "real.test>real.test 192.0.2.8");
}

/* The query slots (set up at first use) run out at 4 lookups' worth,
 * and one cancelled is taken again. */
static void
test_slots(void **state)
{
	struct dns_req *q[4 * DNS_QUERIES_PER_LOOKUP], *again;
	struct dns_lookup *lk[5];
	struct res r;
	size_t n = sizeof q / sizeof q[0];

	(void)state;
	memset(&r, 0, sizeof r);
	fk[0].silent = fk[1].silent = 1;
	for (size_t i = 0; i < n; i++) {
		q[i] = dns_query("real.test", DNS_T_A, on_answer, &r);
		assert_non_null(q[i]);
	}
	assert_null(dns_query("real.test", DNS_T_A, on_answer, &r));
	run_for(5);
	dns_cancel(q[3]);
	again = dns_query("imp.test", DNS_T_A, on_answer, &r);
	assert_ptr_equal(again, q[3]);
	assert_null(dns_query("real.test", DNS_T_A, on_answer, &r));
	for (size_t i = 0; i < n; i++) {
		dns_cancel(q[i]);
	}
	for (size_t i = 0; i < 4; i++) {
		lk[i] = dns_mx("mx.test", on_hosts, &r);
		assert_non_null(lk[i]);
	}
	assert_null(dns_mx("mx.test", on_hosts, &r));
	dns_lookup_cancel(lk[1]);
	lk[4] = dns_addrs("real.test", on_hosts, &r);
	assert_ptr_equal(lk[4], lk[1]);
	run_for(TRY_MS / 2);
	assert_int_equal(r.done, 0);
	/* dns_shutdown (teardown) cancels what is left. */
}

static void
test_timeout_next_server(void **state)
{
	struct res r;
	uint64_t t0;

	(void)state;
	fk[0].silent = 1;
	t0 = ev_clock_ms();
	query("real.test", DNS_T_A, &r);
	assert_int_equal(r.status, DNS_OK);
	assert_true(ev_clock_ms() - t0 >= TRY_MS);
	assert_int_equal(fk[0].udp_q, 1);
	assert_int_equal(fk[1].udp_q, 1);
	/* Both silent: 4 tries, then a temporary failure. */
	fk[1].silent = 1;
	query("imp.test", DNS_T_A, &r);
	assert_int_equal(r.status, DNS_TEMPFAIL);
	assert_int_equal(fk[0].udp_q, 3);
	assert_int_equal(fk[1].udp_q, 3);
}

static void
test_servfail(void **state)
{
	struct res r;

	(void)state;
	fk[0].servfail = 1;
	query("real.test", DNS_T_A, &r);
	assert_int_equal(r.status, DNS_OK);
	assert_int_equal(fk[0].udp_q, 1);
	assert_int_equal(fk[1].udp_q, 1);
	query("fail.test", DNS_T_A, &r);	/* SERVFAIL everywhere */
	assert_int_equal(r.status, DNS_TEMPFAIL);
	assert_int_equal(fk[0].udp_q + fk[1].udp_q, 2 + 4);
}

static void
test_tcp(void **state)
{
	struct res r;

	(void)state;
	fk[0].tc = 1;
	query("many.test", DNS_T_A, &r);
	assert_int_equal(r.status, DNS_OK);
	assert_string_equal(r.text, "many.test>many.test 192.0.2.11 "
	    "192.0.2.12 192.0.2.13 192.0.2.14");
	assert_int_equal(fk[0].udp_q, 1);
	assert_int_equal(fk[0].tcp_q, 1);
	assert_int_equal(fk[1].udp_q, 0);
}

/* A server that refuses EDNS0 is asked again without it; one that
 * sends more than DNS_UDP_MSG_MAX over UDP is asked over TCP. */
static void
test_edns_and_big(void **state)
{
	struct res r;

	(void)state;
	fk[0].no_edns = 1;
	query("real.test", DNS_T_A, &r);
	assert_int_equal(r.status, DNS_OK);
	assert_int_equal(fk[0].udp_q, 2);
	assert_int_equal(fk[0].edns_q, 1);
	assert_int_equal(fk[1].udp_q, 0);
	fk[0].no_edns = 0;
	fk[0].big = 1;
	query("chain.test", DNS_T_A, &r);
	assert_int_equal(r.status, DNS_OK);
	assert_string_equal(r.text, "chain.test>c2.test 192.0.2.7");
	assert_int_equal(fk[0].udp_q, 3);
	assert_int_equal(fk[0].tcp_q, 1);
}

static void
test_junk_ignored(void **state)
{
	struct res r;

	(void)state;
	fk[0].junk_first = 1;
	query("real.test", DNS_T_A, &r);
	assert_int_equal(r.status, DNS_OK);
	assert_string_equal(r.text, "real.test>real.test 192.0.2.8");
	assert_int_equal(fk[0].udp_q, 1);	/* no retry */
	assert_int_equal(fk[1].udp_q, 0);
}

static void
test_cancel(void **state)
{
	struct res a, b;
	struct dns_req *q;
	struct dns_lookup *lk;

	(void)state;
	/* Cancelled before it started, and while waiting. */
	memset(&a, 0, sizeof a);
	q = dns_query("real.test", DNS_T_A, on_answer, &a);
	assert_non_null(q);
	dns_cancel(q);
	fk[0].silent = fk[1].silent = 1;
	q = dns_query("imp.test", DNS_T_A, on_answer, &a);
	run_for(TRY_MS / 2);
	assert_int_equal(fk[0].udp_q, 1);
	dns_cancel(q);
	run_for(TRY_MS * 2);
	assert_int_equal(a.done, 0);
	assert_int_equal(fk[1].udp_q, 0);
	/* Cancelled from inside another query's callback: a's answer
	 * comes from the cache, in the turn b is sent. */
	fk[0].silent = fk[1].silent = 0;
	query("real.test", DNS_T_A, &a);
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a.cancel_q = dns_query("imp.test", DNS_T_A, on_answer, &b);
	assert_non_null(dns_query("real.test", DNS_T_A, on_answer, &a));
	assert_non_null(a.cancel_q);
	run_until(&a.done, 1);
	run_for(TRY_MS * 2);
	assert_int_equal(b.done, 0);
	/* A lookup cancelled half-way. */
	memset(&a, 0, sizeof a);
	fk[0].silent = 1;
	lk = dns_mx("mx.test", on_hosts, &a);
	assert_non_null(lk);
	run_for(5);
	dns_lookup_cancel(lk);
	fk[0].silent = 0;
	run_for(TRY_MS * 2);
	assert_int_equal(a.done, 0);
	/* Every slot given back: 4 lookups still fit. */
	for (int i = 0; i < 4; i++) {
		assert_non_null(dns_mx("mx.test", on_hosts, &a));
	}
	assert_null(dns_mx("mx.test", on_hosts, &a));
	run_until(&a.done, 4);
}

static void
test_servers_parse(void **state)
{
	struct dns_server sv[3];
	struct err e;
	size_t n;
	static const char conf[] =
	    "# a comment\n"
	    "search example.org\n"
	    "nameserver 192.0.2.53\n"
	    "nameserver\n"
	    "nameserver   garbage\n"
	    "  nameserver\t2001:db8::53 # trailing comment\n"
	    "nameserverx 192.0.2.1\n"
	    "nameserver fe80::1%eth0\n"
	    "options ndots:2\r\n"
	    "nameserver 192.0.2.54\r\n"
	    "nameserver 192.0.2.55\n";

	(void)state;
	n = dns_resolv_parse(conf, sizeof conf - 1, sv, 3);
	assert_int_equal(n, 3);
	assert_int_equal(sv[0].family, AF_INET);
	assert_memory_equal(sv[0].addr, "\xc0\x00\x02\x35", 4);
	assert_int_equal(sv[0].port, 53);
	assert_int_equal(sv[1].family, AF_INET6);
	assert_int_equal(sv[1].addr[15], 0x53);
	assert_memory_equal(sv[2].addr, "\xc0\x00\x02\x36", 4);
	assert_int_equal(dns_resolv_parse("", 0, sv, 3), 0);
	assert_int_equal(dns_resolv_parse("nameserver 1.2.3.4", 18, sv, 3),
	    1);

	assert_int_equal(dns_servers_parse("127.0.0.1:5353, [::1]:54 ::2",
	    sv, 3, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(sv[0].port, 5353);
	assert_int_equal(sv[1].family, AF_INET6);
	assert_int_equal(sv[1].port, 54);
	assert_int_equal(sv[2].port, 53);
	assert_int_equal(sv[2].addr[15], 2);
	assert_int_equal(dns_servers_parse("", sv, 3, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dns_servers_parse("dns.example", sv, 3, &n, &e), -1);
	assert_int_equal(dns_servers_parse("1.2.3.4:0", sv, 3, &n, &e), -1);
	assert_int_equal(dns_servers_parse("1.2.3.4:x", sv, 3, &n, &e), -1);
	assert_int_equal(dns_servers_parse("[::1", sv, 3, &n, &e), -1);
	assert_int_equal(dns_servers_parse("1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4",
	    sv, 3, &n, &e), 0);
	assert_int_equal(n, 3);
}

#define DNSMASQ	"/usr/sbin/dnsmasq"

/* 6 strings of 250 octets: over the 1232 octets we offer on UDP. */
#define BIG_TXT_STR \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

static pid_t	dnsmasq_pid = -1;

/* Stops our dnsmasq, also when the test failed half-way. */
static int
dnsmasq_teardown(void **state)
{
	(void)state;
	if (dnsmasq_pid > 0) {
		int status;

		dns_shutdown();
		kill(dnsmasq_pid, SIGTERM);
		waitpid(dnsmasq_pid, &status, 0);
		dnsmasq_pid = -1;
		ev_destroy(&ev);
	}
	return 0;
}

static void
test_dnsmasq(void **state)
{
	char port[16], big[1600];
	struct dns_server sv;
	struct res r;
	struct err e;
	pid_t pid;
	int up = 0, status;

	(void)state;
	/* Under QEMU user-mode emulation the fork and exec of a native
	 * dnsmasq is unreliable; the code under test is the same as on
	 * the host, where this runs. */
	if (access(DNSMASQ, X_OK) != 0 || (getenv("WREN_QEMU") != NULL &&
	    *getenv("WREN_QEMU") != '\0')) {
		skip();
	}
	assert_int_equal(ev_init(&ev, 1024, 256, &e), 0);
	/* A free port: bound, then left for dnsmasq. */
	fake_start(&fk[0]);
	snprintf(port, sizeof port, "--port=%u", fk[0].port);
	fake_stop(&fk[0]);
	/* No quotes: execv passes them on, and dnsmasq would keep them. */
	snprintf(big, sizeof big, "--txt-record=big.test,%s,%s,%s,%s,%s,%s",
	    BIG_TXT_STR, BIG_TXT_STR, BIG_TXT_STR, BIG_TXT_STR, BIG_TXT_STR,
	    BIG_TXT_STR);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { DNSMASQ, "--no-daemon", port,
		    "--listen-address=127.0.0.1", "--bind-interfaces",
		    "--no-resolv", "--no-hosts", "--no-poll",
		    "--conf-file=/dev/null", "--pid-file=", "--local=/test/",
		    "--local-ttl=60", geteuid() == 0 ? "--user=root" :
		    "--local-ttl=60",
		    "--mx-host=example.test,mx1.example.test,10",
		    "--mx-host=example.test,mx2.example.test,20",
		    "--host-record=mx1.example.test,192.0.2.25",
		    "--host-record=mx2.example.test,192.0.2.26,2001:db8::26",
		    "--txt-record=_dmarc.example.test,v=DMARC1; p=none",
		    "--host-record=plain.test,192.0.2.30",
		    big, NULL };
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execv(DNSMASQ, argv);
		_exit(127);
	}
	dnsmasq_pid = pid;
	memset(&sv, 0, sizeof sv);
	sv.family = AF_INET;
	sv.addr[0] = 127;
	sv.addr[3] = 1;
	sv.port = (uint16_t)atoi(port + 7);
	dns_set_timeouts(500, 2);
	assert_int_equal(dns_init(&ev, &sv, 1, 4, &e), 0);
	/* Wait until it answers (refused until it listens). */
	for (int i = 0; i < 60 && !up; i++) {
		dns_cache_flush();
		memset(&r, 0, sizeof r);
		assert_non_null(dns_query("plain.test", DNS_T_A, on_answer,
		    &r));
		run_until(&r.done, 1);
		up = r.status == DNS_OK;
		if (!up) {
			usleep(50000);
		}
	}
	assert_true(up);
	lookup_mx("example.test", &r);
	assert_int_equal(r.status, DNS_OK);
	assert_string_equal(r.text, "mx1.example.test/10=192.0.2.25 "
	    "mx2.example.test/20=2001:db8::26,192.0.2.26");
	lookup_mx("plain.test", &r);
	assert_string_equal(r.text, "implicit plain.test/0=192.0.2.30");
	lookup_mx("nope.test", &r);
	assert_int_equal(r.status, DNS_NXDOMAIN);
	query("_dmarc.example.test", DNS_T_TXT, &r);
	assert_string_equal(r.text, "_dmarc.example.test>_dmarc.example.test "
	    "[v=DMARC1; p=none]");
	{
		static const uint8_t a[4] = { 192, 0, 2, 25 };
		char rev[128];

		assert_true(dns_reverse_name(a, 4, NULL, rev, sizeof rev) > 0);
		query(rev, DNS_T_PTR, &r);
		assert_string_equal(r.text, "25.2.0.192.in-addr.arpa>"
		    "25.2.0.192.in-addr.arpa [mx1.example.test]");
	}
	query("big.test", DNS_T_TXT, &r);
	assert_int_equal(r.status, DNS_OK);
	assert_int_equal(strlen(r.text), strlen("big.test>big.test []") +
	    6 * 250);
	(void)status;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mx_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mx_kinds, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_addrs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_cname_txt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_kinds, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cache_evict, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_next_server,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_servfail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edns_and_big, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_junk_ignored, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test(test_servers_parse),
		cmocka_unit_test_teardown(test_dnsmasq, dnsmasq_teardown),
	};

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
