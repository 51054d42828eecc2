/* SPDX-License-Identifier: ISC */
/*
 * dns_mx.c - the lookups mail delivery needs, on top of dns_query:
 * a domain's delivery hosts (RFC 5321 5.1: MX records by preference,
 * equal preferences in random order, the domain itself when it has no
 * MX; RFC 7505 null MX) and one host's addresses (a relayhost).
 *
 * A lookup asks for the MX records, then for AAAA and A of at most
 * DNS_MX_PARALLEL hosts at a time, in preference order, and calls back
 * once every host is answered. Hosts without an address are left out.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "core/pool.h"
#include "dns_int.h"

enum lk_state {
	LK_FREE,
	LK_START,	/* timer armed: start, or deliver `status` */
	LK_MX,		/* MX query in flight */
	LK_HOSTS,	/* address queries in flight */
	LK_CALLING	/* inside the callback */
};

enum lk_kind { LK_KIND_MX, LK_KIND_ADDRS };

/* The arg of one address query: which host, which family. */
struct sub {
	struct dns_lookup	*lk;
	uint8_t			 host;
	uint8_t			 v6;
};

struct fam_addrs {
	int		 status;	/* -1 while pending */
	struct dns_req	*q;
	size_t		 n;
	uint8_t		 addr[DNS_HOST_ADDRS_MAX][16];
};

struct dns_lookup {
	enum lk_state	 state;
	enum lk_kind	 kind;
	struct timer	 timer;
	char		 domain[DNS_NAME_MAX];
	int		 status;	/* LK_START: known result */
	dns_hosts_fn	*cb;
	void		*arg;
	struct dns_req	*mxq;
	size_t		 next_host;	/* next to start */
	size_t		 active;	/* hosts being resolved */
	struct dns_hosts hosts;
	struct fam_addrs a6[DNS_HOSTS_MAX], a4[DNS_HOSTS_MAX];
	struct sub	 subs[DNS_HOSTS_MAX][2];
	struct dns_lookup *next_free;
};

static struct {
	struct dns_lookup	*pool;
	size_t			 n;
	size_t			 fresh;	/* pool[fresh..] never used */
	struct dns_lookup	*free;	/* given back, most recent first */
	unsigned		 epoch;	/* bumped by shutdown */
} L;

static struct dns_lookup	*lk_get(enum lk_kind, const char *,
				    dns_hosts_fn *, void *);
static struct dns_lookup	*lk_take(void);
static void	lk_release(struct dns_lookup *);
static void	lk_finish(struct dns_lookup *, int);
static void	lk_abort(struct dns_lookup *);
static void	on_lk_timer(struct timer *, void *);
static void	on_mx(void *, int, const struct dns_answer *);
static void	on_addr(void *, int, const struct dns_answer *);
static void	start_hosts(struct dns_lookup *);
static void	host_done(struct dns_lookup *);
static void	complete(struct dns_lookup *);
static void	sort_mx(struct dns_lookup *, const struct dns_answer *);
static int	parse_literal(const char *, struct dns_addr *);

int
dns_init(struct ev *ev, const struct dns_server *servers, size_t nservers,
    size_t max_lookups, struct err *e)
{
	if (L.pool != NULL) {
		dns_shutdown();
	}
	if (max_lookups == 0) {
		max_lookups = 1;
	}
	if (dns_query_init(ev, servers, nservers, max_lookups, e) == -1) {
		return -1;
	}
	L.pool = pool_pages(max_lookups * sizeof *L.pool);
	if (L.pool == NULL) {
		dns_query_shutdown();
		return err_set(e, "dns lookups: out of memory");
	}
	/* Slots are set up at first use (lk_get): a slot is some 6 KB,
	 * and the pages of slots never used stay out of memory. */
	L.n = max_lookups;
	L.fresh = 0;
	L.free = NULL;
	return 0;
}

void
dns_shutdown(void)
{
	for (size_t i = 0; L.pool != NULL && i < L.fresh; i++) {
		if (L.pool[i].state != LK_FREE) {
			lk_abort(&L.pool[i]);
		}
	}
	pool_pages_free(L.pool, L.n * sizeof *L.pool);
	L.pool = NULL;
	L.n = 0;
	L.fresh = 0;
	L.free = NULL;
	L.epoch++;
	dns_query_shutdown();
}

struct dns_lookup *
dns_mx(const char *domain, dns_hosts_fn *cb, void *arg)
{
	return lk_get(LK_KIND_MX, domain, cb, arg);
}

struct dns_lookup *
dns_addrs(const char *host, dns_hosts_fn *cb, void *arg)
{
	return lk_get(LK_KIND_ADDRS, host, cb, arg);
}

void
dns_lookup_cancel(struct dns_lookup *lk)
{
	if (lk == NULL || lk->state == LK_FREE || lk->state == LK_CALLING) {
		return;
	}
	log_debug("dns: lookup of %s cancelled", lk->domain);
	lk_abort(lk);
	lk_release(lk);
}

/* Takes a slot and arms its timer: the work starts from the loop, so
 * the callback never runs inside dns_mx or dns_addrs. */
static struct dns_lookup *
lk_get(enum lk_kind kind, const char *name, dns_hosts_fn *cb, void *arg)
{
	struct dns_lookup *lk = dns_ev() != NULL ? lk_take() : NULL;
	size_t len = strlen(name);

	if (lk == NULL) {
		log_debug("dns: no lookup slot for %s", name);
		return NULL;
	}
	lk->kind = kind;
	lk->cb = cb;
	lk->arg = arg;
	lk->mxq = NULL;
	lk->status = DNS_OK;
	if (len >= DNS_NAME_MAX) {
		lk->status = DNS_PERMFAIL;
		len = 0;
	}
	memcpy(lk->domain, name, len);
	lk->domain[len] = '\0';
	lk->state = LK_START;
	if (ev_timer_in(dns_ev(), &lk->timer, 0) == -1) {
		lk_release(lk);
		return NULL;
	}
	return lk;
}

/* A free slot: the one given back last (its pages are warm), else
 * one never used, set up now. */
static struct dns_lookup *
lk_take(void)
{
	struct dns_lookup *lk = L.free;

	if (lk != NULL) {
		L.free = lk->next_free;
	} else if (L.fresh < L.n) {
		lk = &L.pool[L.fresh++];
		timer_init(&lk->timer, on_lk_timer, lk);
	} else {
		return NULL;
	}
	lk->next_free = NULL;
	return lk;
}

static void
lk_release(struct dns_lookup *lk)
{
	lk->state = LK_FREE;
	lk->cb = NULL;
	lk->next_free = L.free;
	L.free = lk;
}

/* Stops every query of lk (no callbacks). */
static void
lk_abort(struct dns_lookup *lk)
{
	ev_timer_cancel(dns_ev(), &lk->timer);
	dns_cancel(lk->mxq);
	lk->mxq = NULL;
	for (size_t i = 0; i < DNS_HOSTS_MAX; i++) {
		dns_cancel(lk->a6[i].q);
		dns_cancel(lk->a4[i].q);
		lk->a6[i].q = lk->a4[i].q = NULL;
	}
}

/* Calls back, then frees the slot, unless the callback shut the
 * resolver down. hosts stays valid during the call. */
static void
lk_finish(struct dns_lookup *lk, int status)
{
	unsigned epoch = L.epoch;

	lk_abort(lk);
	log_debug("dns: %s %s: %s, %zu hosts", lk->kind == LK_KIND_MX ?
	    "mx" : "addrs", lk->domain, dns_status_str(status),
	    status == DNS_OK ? lk->hosts.n : 0);
	lk->state = LK_CALLING;
	if (lk->cb != NULL) {
		lk->cb(lk->arg, status, status == DNS_OK ? &lk->hosts : NULL);
	}
	if (L.epoch == epoch) {
		lk_release(lk);
	}
}

static void
on_lk_timer(struct timer *t, void *arg)
{
	struct dns_lookup *lk = arg;
	struct dns_addr lit;

	(void)t;
	memset(&lk->hosts, 0, sizeof lk->hosts);
	lk->next_host = 0;
	lk->active = 0;
	if (lk->status != DNS_OK) {
		lk_finish(lk, lk->status);
		return;
	}
	if (lk->kind == LK_KIND_ADDRS && parse_literal(lk->domain,
	    &lit) == 0) {
		lk->hosts.n = 1;
		memcpy(lk->hosts.h[0].name, lk->domain, sizeof lk->domain);
		lk->hosts.h[0].naddrs = 1;
		lk->hosts.h[0].addrs[0] = lit;
		lk_finish(lk, DNS_OK);
		return;
	}
	if (dns_name_check(lk->domain) != DNS_PE_OK) {
		lk_finish(lk, DNS_PERMFAIL);
		return;
	}
	if (lk->kind == LK_KIND_ADDRS) {
		lk->hosts.n = 1;
		memcpy(lk->hosts.h[0].name, lk->domain, sizeof lk->domain);
		lk->state = LK_HOSTS;
		start_hosts(lk);
		return;
	}
	lk->mxq = dns_query(lk->domain, DNS_T_MX, on_mx, lk);
	if (lk->mxq == NULL) {
		lk_finish(lk, DNS_TEMPFAIL);
		return;
	}
	lk->state = LK_MX;
}

static void
on_mx(void *arg, int status, const struct dns_answer *a)
{
	struct dns_lookup *lk = arg;

	lk->mxq = NULL;
	switch (status) {
	case DNS_OK:
		if (a->n == 1 && strcmp(dns_record_text(a, &a->rr[0]),
		    ".") == 0) {
			lk_finish(lk, DNS_NULLMX);
			return;
		}
		sort_mx(lk, a);
		if (lk->hosts.n == 0) {
			lk_finish(lk, DNS_NULLMX);	/* only "." */
			return;
		}
		break;
	case DNS_NODATA:
		/* RFC 5321 5.1: the domain is its own implicit MX. */
		lk->hosts.implicit = 1;
		lk->hosts.n = 1;
		memcpy(lk->hosts.h[0].name, lk->domain, sizeof lk->domain);
		break;
	default:
		lk_finish(lk, status);
		return;
	}
	lk->state = LK_HOSTS;
	start_hosts(lk);
}

/* Keeps the MX targets (not ".", not twice) by preference, shuffling
 * each run of equal preferences (RFC 5321 5.1). */
static void
sort_mx(struct dns_lookup *lk, const struct dns_answer *a)
{
	struct dns_hosts *hs = &lk->hosts;
	size_t order[DNS_ANSWER_RR_MAX], n = 0;

	for (size_t i = 0; i < a->n; i++) {
		size_t j = n;

		if (a->rr[i].type != DNS_T_MX ||
		    strcmp(dns_record_text(a, &a->rr[i]), ".") == 0) {
			continue;
		}
		while (j > 0 && a->rr[order[j - 1]].pref > a->rr[i].pref) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
		n++;
	}
	for (size_t s = 0; s < n;) {
		size_t e = s + 1;

		while (e < n && a->rr[order[e]].pref ==
		    a->rr[order[s]].pref) {
			e++;
		}
		for (size_t k = e - 1; k > s; k--) {
			uint32_t r;
			size_t j, t;

			dns_random(&r, sizeof r);
			j = s + r % (k - s + 1);
			t = order[k];
			order[k] = order[j];
			order[j] = t;
		}
		s = e;
	}
	hs->n = 0;
	for (size_t i = 0; i < n && hs->n < DNS_HOSTS_MAX; i++) {
		const char *name = dns_record_text(a, &a->rr[order[i]]);
		int dup = 0;

		for (size_t k = 0; k < hs->n; k++) {
			dup |= dns_name_eq(hs->h[k].name, name);
		}
		if (dup || strlen(name) >= DNS_NAME_MAX) {
			continue;
		}
		memcpy(hs->h[hs->n].name, name, strlen(name) + 1);
		hs->h[hs->n].pref = a->rr[order[i]].pref;
		hs->n++;
	}
}

/* Starts AAAA and A queries for hosts until DNS_MX_PARALLEL are in
 * flight. A query that gets no slot counts as a temporary failure. */
static void
start_hosts(struct dns_lookup *lk)
{
	while (lk->active < DNS_MX_PARALLEL && lk->next_host < lk->hosts.n) {
		size_t i = lk->next_host++;
		const char *name = lk->hosts.h[i].name;

		lk->active++;
		for (int v6 = 0; v6 < 2; v6++) {
			struct fam_addrs *fa = v6 ? &lk->a6[i] : &lk->a4[i];
			struct sub *s = &lk->subs[i][v6];

			s->lk = lk;
			s->host = (uint8_t)i;
			s->v6 = (uint8_t)v6;
			fa->n = 0;
			fa->status = -1;
			fa->q = dns_query(name, v6 ? DNS_T_AAAA : DNS_T_A,
			    on_addr, s);
			if (fa->q == NULL) {
				fa->status = DNS_TEMPFAIL;
			}
		}
		if (lk->a6[i].status != -1 && lk->a4[i].status != -1) {
			lk->active--;	/* both failed at once */
		}
	}
	if (lk->active == 0 && lk->next_host == lk->hosts.n) {
		complete(lk);
	}
}

static void
on_addr(void *arg, int status, const struct dns_answer *a)
{
	struct sub *s = arg;
	struct dns_lookup *lk = s->lk;
	struct fam_addrs *fa = s->v6 ? &lk->a6[s->host] : &lk->a4[s->host];
	size_t want = s->v6 ? 16 : 4;

	fa->q = NULL;
	fa->status = status;
	for (size_t i = 0; status == DNS_OK && i < a->n &&
	    fa->n < DNS_HOST_ADDRS_MAX; i++) {
		if (a->rr[i].type == (s->v6 ? DNS_T_AAAA : DNS_T_A)) {
			memcpy(fa->addr[fa->n++], a->rr[i].addr, want);
		}
	}
	if (lk->a6[s->host].status != -1 && lk->a4[s->host].status != -1) {
		host_done(lk);
	}
}

static void
host_done(struct dns_lookup *lk)
{
	lk->active--;
	start_hosts(lk);
}

/*
 * Every host is answered: merge each one's addresses (IPv6 first, but
 * half the room kept for IPv4 so a host without IPv6 routes stays
 * reachable), drop the hosts without any, and choose the status.
 */
static void
complete(struct dns_lookup *lk)
{
	struct dns_hosts *hs = &lk->hosts;
	size_t kept = 0;
	int all_nx = 1, all_neg = 1;

	for (size_t i = 0; i < hs->n; i++) {
		struct fam_addrs *f6 = &lk->a6[i], *f4 = &lk->a4[i];
		size_t n4 = f4->n, n6, half = DNS_HOST_ADDRS_MAX / 2;
		struct dns_host h = hs->h[i];

		n6 = f6->n;
		if (n6 > DNS_HOST_ADDRS_MAX - (n4 < half ? n4 : half)) {
			n6 = DNS_HOST_ADDRS_MAX - (n4 < half ? n4 : half);
		}
		if (n4 > DNS_HOST_ADDRS_MAX - n6) {
			n4 = DNS_HOST_ADDRS_MAX - n6;
		}
		h.naddrs = 0;
		for (size_t k = 0; k < n6; k++) {
			h.addrs[h.naddrs].family = AF_INET6;
			memcpy(h.addrs[h.naddrs++].addr, f6->addr[k], 16);
		}
		for (size_t k = 0; k < n4; k++) {
			memset(h.addrs[h.naddrs].addr, 0, 16);
			h.addrs[h.naddrs].family = AF_INET;
			memcpy(h.addrs[h.naddrs++].addr, f4->addr[k], 4);
		}
		if (f6->status != DNS_NXDOMAIN || f4->status != DNS_NXDOMAIN) {
			all_nx = 0;
		}
		if ((f6->status != DNS_NXDOMAIN && f6->status != DNS_NODATA) ||
		    (f4->status != DNS_NXDOMAIN &&
		    f4->status != DNS_NODATA)) {
			all_neg = 0;
		}
		if (h.naddrs == 0) {
			log_debug("dns: %s: host %s has no address (%s/%s)",
			    lk->domain, h.name, dns_status_str(f6->status),
			    dns_status_str(f4->status));
			continue;
		}
		hs->h[kept++] = h;
	}
	hs->n = kept;
	if (kept > 0) {
		lk_finish(lk, DNS_OK);
	} else if (lk->kind == LK_KIND_MX && !hs->implicit) {
		lk_finish(lk, DNS_TEMPFAIL);	/* MX hosts may come back */
	} else if (all_nx) {
		lk_finish(lk, DNS_NXDOMAIN);
	} else {
		lk_finish(lk, all_neg ? DNS_NODATA : DNS_TEMPFAIL);
	}
}

/* An IP address as text: a.b.c.d, an IPv6 address, or one in [ ]. */
static int
parse_literal(const char *s, struct dns_addr *out)
{
	char tmp[64];
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof tmp) {
		return -1;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, tmp, out->addr) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, out->addr) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -1;
}
