/* SPDX-License-Identifier: ISC */
/*
 * check_dns.c - `wren check --dns`: asks the DNS, through the resolver
 * outbound delivery uses (dns/dns.h), what other mail servers will
 * see of this one, and prints what is right and, for what is missing
 * or wrong, the record to publish.
 *
 *   server      A/AAAA of hostname; PTR of each address, matching
 *               hostname and forward-confirmed (RFC 8601 2.7.3);
 *               DNSBLs (dnsbl_check_zones, RFC 5782 2.1); outbound
 *               port 25 (check_smtp_probe) unless relayhost is set
 *   per domain  MX (RFC 5321 5.1, RFC 7505 null MX), A/AAAA of each
 *               MX host, SPF (RFC 7208: one record, syntax, and
 *               check_host() of our addresses by dns/spf_eval.c,
 *               with the limits of 4.6.4), DKIM key (RFC 6376 3.6.1,
 *               its p= against dkim_key's modulus), DMARC (RFC 7489
 *               6.3); recommended: MTA-STS (RFC 8461 3.1), TLS-RPT
 *               (RFC 8460 3), SRV _submissions._tcp and _imaps._tcp
 *               (RFC 6186 3, RFC 8314 5.1)
 *
 * The resolver is asynchronous; a command line tool asks one thing at
 * a time, so each query runs a private loop until its answer comes
 * or check_dns_timeout passes (then it is cancelled).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bearssl.h>

#include "cli/check_dns.h"
#include "cli/cli.h"
#include "core/der.h"
#include "core/addr.h"
#include "core/ev.h"
#include "core/fmt.h"
#include "core/num.h"

#if WREN_OUTBOUND

#include "dns/dns.h"
#include "dns/spf.h"
#include "msg/base64.h"
#include "tls/tls_cred.h"

/* The private loop: a few sockets and the resolver's timers. */
#define CHK_MAXFDS		1024
#define CHK_MAXTIMERS		64
/* Addresses of hostname kept. */
#define CHK_SELF_MAX		DNS_ANSWER_RR_MAX
/* MX hosts looked at per domain, and addresses each. */
#define CHK_MX_MAX		DNS_HOSTS_MAX
/* A DKIM key's DER: SubjectPublicKeyInfo of a 4096-bit key, and the
 * private key file's DER. */
#define DKIM_DER_MAX		1024
#define DKIM_PRIV_MAX		4096
#define DKIM_MOD_MAX		(4096 / 8 + 1)
/* The column a row's text starts in. */
#define CHK_WHAT_WIDTH		10

enum chk_level {
	CHK_OK,
	CHK_WARN,
	CHK_FAIL,
	CHK_INFO
};

static const char *const chk_level_name[] = { "ok", "warn", "FAIL", "--" };

struct chk {
	const struct cfg	*cfg;
	struct ev		 ev;
	uint64_t		 timeout_ms;
	int			 verbose;
	unsigned		 fails;
	unsigned		 warns;
	char			 host[CFG_HOST_MAX + 1];
	size_t			 nself;
	struct dns_addr		 self[CHK_SELF_MAX];
	/* Scratch answers; never held across a nested query. */
	struct dns_answer	 a1, a2;
};

/* One query in flight. */
struct sq {
	int			 done;
	int			 status;
	struct dns_answer	*out;
};

/* One check_host() evaluation (RFC 7208 4). */
struct spf_chk {
	struct chk		*k;
	const struct dns_addr	*ip;
	unsigned		 lookups;
	char			 why[160];
};

/* dns_mx in flight. */
struct hq {
	int			 done;
	int			 status;
	struct dns_hosts	*out;
};

/* The port 25 probe. */
struct probe {
	int	done;
	int	err;
};

struct key_der {
	unsigned char	der[DKIM_PRIV_MAX];
	size_t		len;
	int		found;
};

static void	row(struct chk *, enum chk_level, const char *what,
		    const char *f, ...) __attribute__((format(printf, 4, 5)));
static void	fix(struct chk *, const char *f, ...)
		    __attribute__((format(printf, 2, 3)));
static int	query(struct chk *, const char *, uint16_t,
		    struct dns_answer *);
static void	query_done(void *, int, const struct dns_answer *);
static const char	*status_text(int);
static void	check_self(struct chk *);
static void	check_ptr(struct chk *, const struct dns_addr *, int,
		    const char *);
static void	check_dnsbl(struct chk *);
static void	check_port25(struct chk *);
static void	probe_ready(struct ev *, int, unsigned, void *);
static void	hosts_done(void *, int, const struct dns_hosts *);
static void	check_domain(struct chk *, const char *);
static int	check_mx(struct chk *, const char *, int *);
static void	check_spf(struct chk *, const char *, int);
static int	spf_check_host(struct spf_chk *, const char *);
static void	check_dkim(struct chk *, const char *);
static int	dkim_key_modulus(const char *, unsigned char *, size_t *,
		    struct err *);
static int	on_pem(void *, const char *, const unsigned char *, size_t);
static void	dkim_fix(struct chk *, const char *, const char *,
		    const char *);
static void	check_dmarc(struct chk *, const char *);
static void	check_txt_rec(struct chk *, const char *, const char *,
		    const char *, const char *, const char *);
static void	check_srv(struct chk *, const char *, const char *,
		    unsigned);
static int	tag_value(const char *, const char *, char *, size_t);
static int	find_txt(const struct dns_answer *, const char *, int,
		    size_t *);
static int	is_self(const struct chk *, const struct dns_addr *);
static void	addr_str(const struct dns_addr *, char *, size_t);
static int	next_word(const char **, const char **, size_t *);
static int	name_copy(char *, size_t, const char *, size_t);

int
check_dns(const struct cfg *c, int verbose)
{
	static struct chk k;
	struct dns_server servers[DNS_SERVERS_MAX];
	char hb[CFG_HOST_MAX + 1];
	size_t nservers, dlen;
	const char *p, *d, *h;
	struct err e;
	unsigned try_ms;

	memset(&k, 0, sizeof k);
	k.cfg = c;
	k.verbose = verbose;
	k.timeout_ms = (uint64_t)cfg_num(c, CFG_CHECK_DNS_TIMEOUT) * 1000;
	h = cfg_hostname(c, hb, sizeof hb);
	(void)name_copy(k.host, sizeof k.host, h, strlen(h));
	if (ev_init(&k.ev, CHK_MAXFDS, CHK_MAXTIMERS, &e) == -1 ||
	    dns_servers_parse(cfg_str(c, CFG_DNS_SERVERS), servers,
	    DNS_SERVERS_MAX, &nservers, &e) == -1 ||
	    dns_init(&k.ev, servers, nservers, 1, &e) == -1) {
		fmt_fd(STDERR_FILENO, "wren check --dns: %s\n", e.msg);
		return 2;
	}
	/* Two tries within the bound, each at most the resolver's own. */
	try_ms = (unsigned)(k.timeout_ms / 2);
	dns_set_timeouts(try_ms < DNS_TRY_MS ? try_ms : DNS_TRY_MS, 2);

	fmt_fd(STDOUT_FILENO, "server %s:\n", k.host);
	check_self(&k);
	for (size_t i = 0; i < k.nself; i++) {
		check_ptr(&k, &k.self[i], 1, k.host);
	}
	check_dnsbl(&k);
	check_port25(&k);

	p = cfg_str(c, CFG_DOMAINS);
	while (next_word(&p, &d, &dlen)) {
		char dom[CFG_HOST_MAX + 1];

		if (name_copy(dom, sizeof dom, d, dlen) == -1) {
			continue;
		}
		fmt_fd(STDOUT_FILENO, "\ndomain %s:\n", dom);
		check_domain(&k, dom);
	}
	if (cfg_str(c, CFG_DOMAINS)[0] == '\0') {
		fmt_fd(STDOUT_FILENO, "\ndomain %s:\n", k.host);
		check_domain(&k, k.host);
	}
	fmt_fd(STDOUT_FILENO, "\n%u failed, %u warning%s\n", k.fails,
	    k.warns, k.warns == 1 ? "" : "s");
	dns_shutdown();
	ev_destroy(&k.ev);
	return k.fails > 0 ? 1 : 0;
}

/* "  ok    MX        text" */
static void
row(struct chk *k, enum chk_level lv, const char *what, const char *f, ...)
{
	char text[FMT_FD_MAX - 64];
	va_list ap;

	va_start(ap, f);
	(void)vfmt(text, sizeof text, f, ap);
	va_end(ap);
	if (lv == CHK_FAIL) {
		k->fails++;
	} else if (lv == CHK_WARN) {
		k->warns++;
	}
	fmt_fd(STDOUT_FILENO, "  %-5s %-*s %s\n", chk_level_name[lv],
	    CHK_WHAT_WIDTH, what, text);
}

/* An indented line under a row: the record to publish, or advice. */
static void
fix(struct chk *k, const char *f, ...)
{
	char text[FMT_FD_MAX - 64];
	va_list ap;

	(void)k;
	va_start(ap, f);
	(void)vfmt(text, sizeof text, f, ap);
	va_end(ap);
	fmt_fd(STDOUT_FILENO, "        %s\n", text);
}

/* One query to its end or the bound; the status, *out filled on
 * DNS_OK. */
static int
query(struct chk *k, const char *name, uint16_t type, struct dns_answer *out)
{
	struct sq q = { 0, DNS_TEMPFAIL, out };
	struct dns_req *r;
	uint64_t deadline = ev_clock_ms() + k->timeout_ms;

	if (dns_name_check(name) != DNS_PE_OK) {
		return DNS_PERMFAIL;
	}
	r = dns_query(name, type, query_done, &q);
	if (r == NULL) {
		return DNS_TEMPFAIL;
	}
	while (!q.done) {
		uint64_t now = ev_clock_ms();

		if (now >= deadline) {
			dns_cancel(r);
			return DNS_TEMPFAIL;
		}
		if (ev_run_once(&k->ev, (int)(deadline - now)) == -1) {
			dns_cancel(r);
			return DNS_TEMPFAIL;
		}
	}
	return q.status;
}

static void
query_done(void *arg, int status, const struct dns_answer *a)
{
	struct sq *q = arg;

	q->done = 1;
	q->status = status;
	if (status == DNS_OK && a != NULL) {
		memcpy(q->out, a, sizeof *q->out);
	} else if (status == DNS_OK) {
		q->status = DNS_NODATA;
	}
}

static const char *
status_text(int status)
{
	switch (status) {
	case DNS_NXDOMAIN:
		return "the name does not exist (NXDOMAIN)";
	case DNS_NODATA:
		return "no such record";
	case DNS_TEMPFAIL:
		return "lookup failed (timeout or server failure)";
	default:
		return dns_status_str(status);
	}
}

/* hostname's addresses: where mail leaves from and, usually, the MX. */
static void
check_self(struct chk *k)
{
	static const uint16_t types[] = { DNS_T_AAAA, DNS_T_A };
	int seen_tempfail = 0;

	for (size_t t = 0; t < 2; t++) {
		int st = query(k, k->host, types[t], &k->a1);

		if (st == DNS_TEMPFAIL) {
			seen_tempfail = 1;
		}
		if (st != DNS_OK) {
			continue;
		}
		for (size_t i = 0; i < k->a1.n; i++) {
			const struct dns_record *r = &k->a1.rr[i];
			struct dns_addr *a;

			if (r->type != types[t] || k->nself == CHK_SELF_MAX) {
				continue;
			}
			a = &k->self[k->nself++];
			a->family = r->type == DNS_T_A ? AF_INET : AF_INET6;
			memcpy(a->addr, r->addr, sizeof a->addr);
		}
	}
	if (k->nself == 0) {
		row(k, CHK_FAIL, "A", "%s: %s", k->host, seen_tempfail ?
		    status_text(DNS_TEMPFAIL) : "no A or AAAA record");
		if (!seen_tempfail) {
			fix(k, "publish: %s. IN A <this server's public IPv4 "
			    "address>", k->host);
		}
		return;
	}
	for (size_t i = 0; i < k->nself; i++) {
		char a[ADDR_TEXT_MAX];

		addr_str(&k->self[i], a, sizeof a);
		row(k, CHK_OK, k->self[i].family == AF_INET ? "A" : "AAAA",
		    "%s: %s", k->host, a);
	}
}

/*
 * The PTR of an address must name a host whose addresses include it
 * (forward-confirmed, "iprev"); for our own addresses (ours) that name
 * must be want, the hostname: the EHLO name receivers compare it with.
 * For another MX host's address want is that host, and a mismatch
 * only warns. A PTR is set
 * by whoever owns the address block (the ISP or the hosting
 * provider), not in the domain's zone.
 */
static void
check_ptr(struct chk *k, const struct dns_addr *ad, int ours,
    const char *want)
{
	char rev[DNS_NAME_MAX], a[ADDR_TEXT_MAX], name[DNS_NAME_MAX];
	enum chk_level bad = ours ? CHK_FAIL : CHK_WARN;
	int st, confirmed = 0, matches = 0;
	size_t alen = ad->family == AF_INET ? 4 : 16;

	addr_str(ad, a, sizeof a);
	if (dns_reverse_name(ad->addr, alen, NULL, rev, sizeof rev) < 0) {
		return;
	}
	st = query(k, rev, DNS_T_PTR, &k->a1);
	name[0] = '\0';
	if (st == DNS_OK) {
		for (size_t i = 0; i < k->a1.n; i++) {
			const struct dns_record *r = &k->a1.rr[i];

			if (r->type != DNS_T_PTR) {
				continue;
			}
			if (name[0] == '\0' || dns_name_eq(
			    dns_record_text(&k->a1, r), want)) {
				(void)fmt(name, sizeof name, "%s",
				    dns_record_text(&k->a1, r));
			}
		}
	}
	if (name[0] == '\0') {
		row(k, bad, "PTR", "%s: %s", a, st == DNS_OK ?
		    "no PTR record" : status_text(st));
		if (st != DNS_TEMPFAIL) {
			fix(k, "publish: %s. IN PTR %s.", rev, want);
			fix(k, "(the owner of %s sets it: ask your ISP or "
			    "hosting provider)", a);
		}
		return;
	}
	matches = dns_name_eq(name, want);
	st = query(k, name, ad->family == AF_INET ? DNS_T_A : DNS_T_AAAA,
	    &k->a2);
	for (size_t i = 0; st == DNS_OK && i < k->a2.n; i++) {
		confirmed |= memcmp(k->a2.rr[i].addr, ad->addr, alen) == 0;
	}
	if (confirmed && (matches || !ours)) {
		row(k, CHK_OK, "PTR", "%s: %s (forward-confirmed)", a, name);
		return;
	}
	if (!confirmed) {
		row(k, bad, "PTR", "%s: %s, whose addresses do not include "
		    "%s (not forward-confirmed)", a, name, a);
	} else {
		row(k, bad, "PTR", "%s: %s, not %s", a, name, want);
	}
	fix(k, "publish: %s. IN PTR %s.", rev, want);
	if (ours && confirmed) {
		fix(k, "(the owner of %s sets it: ask your ISP or hosting "
		    "provider; or set hostname = %s if that name is this "
		    "server)", a, name);
	} else {
		fix(k, "(the owner of %s sets it: ask your ISP or hosting "
		    "provider)", a);
	}
}

/*
 * RFC 5782 2.1: the address reversed under the zone; an A record in
 * 127.0.0.0/8 means listed. Spamhaus answers 127.255.255.x when it
 * refuses the asking resolver (a public one): not a listing.
 */
static void
check_dnsbl(struct chk *k)
{
	const char *p = cfg_str(k->cfg, CFG_DNSBL_CHECK_ZONES), *z;
	size_t zlen;

	while (next_word(&p, &z, &zlen)) {
		char zone[DNS_NAME_MAX], name[DNS_NAME_MAX], what[32];

		if (name_copy(zone, sizeof zone, z, zlen) == -1) {
			continue;
		}
		(void)fmt(what, sizeof what, "DNSBL");
		for (size_t i = 0; i < k->nself; i++) {
			const struct dns_addr *ad = &k->self[i];
			char a[ADDR_TEXT_MAX];
			int st, listed = 0, refused = 0;

			addr_str(ad, a, sizeof a);
			if (dns_reverse_name(ad->addr, ad->family == AF_INET ?
			    4 : 16, zone, name, sizeof name) < 0) {
				continue;
			}
			st = query(k, name, DNS_T_A, &k->a1);
			for (size_t j = 0; st == DNS_OK && j < k->a1.n; j++) {
				const uint8_t *v = k->a1.rr[j].addr;

				if (k->a1.rr[j].type != DNS_T_A ||
				    v[0] != 127) {
					continue;
				}
				if (v[1] == 255 && v[2] == 255) {
					refused = 1;
				} else {
					listed = 1;
				}
			}
			if (listed) {
				row(k, CHK_WARN, what, "%s is LISTED on %s: "
				    "receivers may refuse its mail", a, zone);
				fix(k, "look it up on the list's web site to "
				    "be removed, or send through relayhost");
			} else if (refused || st == DNS_TEMPFAIL) {
				row(k, CHK_WARN, what, "%s: %s could not be "
				    "asked%s", a, zone, refused ? " (it "
				    "refuses this resolver)" : "");
			} else {
				row(k, CHK_OK, what, "%s: not on %s", a,
				    zone);
			}
		}
	}
}

/*
 * Outbound port 25: many home ISPs block it. Connect to the first MX
 * of check_smtp_probe (or to it, when it is an address): a timeout
 * means blocked, and mail can only leave through a relayhost (the
 * provider's submission server, port 587).
 */
static void
check_port25(struct chk *k)
{
	char host[CFG_HOST_MAX + 1], a[ADDR_TEXT_MAX], mxname[DNS_NAME_MAX];
	const char *v = cfg_str(k->cfg, CFG_CHECK_SMTP_PROBE), *colon;
	struct sockaddr_storage ss;
	struct dns_addr target;
	struct probe pr = { 0, 0 };
	struct dns_lookup *l;
	uint64_t port = 25, deadline;
	socklen_t sl;
	size_t hlen = strlen(v);
	int fd;

	if (cfg_str(k->cfg, CFG_RELAYHOST)[0] != '\0') {
		row(k, CHK_OK, "port 25", "not needed: mail leaves through "
		    "relayhost %s", cfg_str(k->cfg, CFG_RELAYHOST));
		return;
	}
	if (v[0] == '\0') {
		return;
	}
	/* [host]:port, host:port or host, as relayhost is written. */
	if (v[0] == '[') {
		const char *rb = strchr(v, ']');

		v++;
		hlen = rb != NULL ? (size_t)(rb - v) : 0;
		colon = rb != NULL && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = strchr(v, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			colon = NULL;
		}
		if (colon != NULL) {
			hlen = (size_t)(colon - v);
		}
	}
	if (colon != NULL && num_parse_u64(colon + 1, strlen(colon + 1),
	    65535, &port) == -1) {
		port = 25;
	}
	if (name_copy(host, sizeof host, v, hlen) == -1) {
		return;
	}
	memset(&target, 0, sizeof target);
	mxname[0] = '\0';
	if (inet_pton(AF_INET, host, target.addr) == 1) {
		target.family = AF_INET;
	} else if (inet_pton(AF_INET6, host, target.addr) == 1) {
		target.family = AF_INET6;
	} else {
		static struct dns_hosts hs;
		struct hq q = { 0, DNS_TEMPFAIL, &hs };
		uint64_t dl = ev_clock_ms() + k->timeout_ms;

		/* Exactly how delivery picks its first host. */
		l = dns_mx(host, hosts_done, &q);
		while (l != NULL && !q.done && ev_clock_ms() < dl) {
			(void)ev_run_once(&k->ev, (int)(dl - ev_clock_ms()));
		}
		if (l != NULL && !q.done) {
			dns_lookup_cancel(l);
		}
		if (!q.done || q.status != DNS_OK || hs.n == 0 ||
		    hs.h[0].naddrs == 0) {
			row(k, CHK_WARN, "port 25", "not tried: the MX of %s "
			    "does not resolve (%s)", host,
			    status_text(q.status));
			return;
		}
		/* IPv4 when there is one: home IPv6 is often missing. */
		target = hs.h[0].addrs[0];
		for (size_t i = 0; i < hs.h[0].naddrs; i++) {
			if (hs.h[0].addrs[i].family == AF_INET) {
				target = hs.h[0].addrs[i];
				break;
			}
		}
		(void)fmt(mxname, sizeof mxname, "%s ", hs.h[0].name);
	}
	addr_str(&target, a, sizeof a);
	memset(&ss, 0, sizeof ss);
	if (target.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, target.addr, 4);
		sl = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, target.addr, 16);
		sl = sizeof *s6;
	}
	fd = socket(target.family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		row(k, CHK_WARN, "port 25", "socket: %s", strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0) {
		pr.done = 1;
	} else if (errno != EINPROGRESS) {
		pr.done = 1;
		pr.err = errno;
	} else if (ev_add_fd(&k->ev, fd, EV_WRITE, probe_ready, &pr) ==
	    -1) {
		pr.done = 1;
		pr.err = errno;
	} else {
		deadline = ev_clock_ms() + k->timeout_ms;
		while (!pr.done && ev_clock_ms() < deadline) {
			(void)ev_run_once(&k->ev, (int)(deadline -
			    ev_clock_ms()));
		}
		ev_del_fd(&k->ev, fd);
		if (!pr.done) {
			pr.err = ETIMEDOUT;
		}
	}
	close(fd);
	if (pr.err == 0) {
		row(k, CHK_OK, "port 25", "outbound connections work "
		    "(%s%s port %u)", mxname, a, (unsigned)port);
		return;
	}
	if (pr.err == ETIMEDOUT) {
		row(k, CHK_WARN, "port 25", "outbound port 25 looks BLOCKED: "
		    "no answer from %s%s port %u in %u s", mxname, a,
		    (unsigned)port, (unsigned)(k->timeout_ms / 1000));
	} else {
		row(k, CHK_WARN, "port 25", "outbound port 25 refused by "
		    "%s%s port %u: %s", mxname, a, (unsigned)port,
		    strerror(pr.err));
	}
	fix(k, "mail to other domains will not leave; send it through "
	    "your provider's server:");
	fix(k, "relayhost = [smtp.your-provider.example]:587 (and its "
	    "login in relay_passwords)");
}

static void
probe_ready(struct ev *ev, int fd, unsigned events, void *arg)
{
	struct probe *pr = arg;
	socklen_t len = sizeof pr->err;

	(void)ev;
	(void)events;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &pr->err, &len) == -1) {
		pr->err = errno;
	}
	pr->done = 1;
}

/* dns_mx's callback: the hosts copied into the caller's struct. */
static void
hosts_done(void *arg, int status, const struct dns_hosts *hs)
{
	struct hq *q = arg;

	q->done = 1;
	q->status = status;
	if (status == DNS_OK && hs != NULL) {
		memcpy(q->out, hs, sizeof *hs);
	}
}

static void
check_domain(struct chk *k, const char *dom)
{
	const char *sel = cfg_str(k->cfg, CFG_DKIM_SELECTOR);
	int we_are_mx = 0;

	(void)check_mx(k, dom, &we_are_mx);
	check_spf(k, dom, we_are_mx);
	if (sel[0] != '\0' && cfg_str(k->cfg, CFG_DKIM_KEY)[0] != '\0') {
		check_dkim(k, dom);
	} else {
		row(k, CHK_WARN, "DKIM", "not signing: set dkim_selector and "
		    "dkim_key (wren dkim-keygen %s)", dom);
	}
	check_dmarc(k, dom);
	check_txt_rec(k, "MTA-STS", "_mta-sts", dom, "v=STSv1", "id");
	check_txt_rec(k, "TLS-RPT", "_smtp._tls", dom, "v=TLSRPTv1", "rua");
	check_srv(k, dom, "_submissions._tcp", 465);
	check_srv(k, dom, "_imaps._tcp", 993);
}

/*
 * The MX set, then each host's addresses. A host without an address
 * cannot receive (delivery skips it); a name without MX gets mail at
 * its own A (RFC 5321 5.1) but we ask for an explicit MX.
 */
static int
check_mx(struct chk *k, const char *dom, int *we_are_mx)
{
	char hosts[CHK_MX_MAX][DNS_NAME_MAX];
	uint16_t prefs[CHK_MX_MAX];
	size_t n = 0;
	int st = query(k, dom, DNS_T_MX, &k->a1);

	if (st != DNS_OK) {
		row(k, CHK_FAIL, "MX", "%s: %s", dom, st == DNS_NODATA ?
		    "no MX record" : status_text(st));
		if (st != DNS_TEMPFAIL) {
			fix(k, "publish: %s. IN MX 10 %s.", dom, k->host);
		}
		return -1;
	}
	for (size_t i = 0; i < k->a1.n && n < CHK_MX_MAX; i++) {
		const struct dns_record *r = &k->a1.rr[i];

		if (r->type != DNS_T_MX) {
			continue;
		}
		if (strcmp(dns_record_text(&k->a1, r), ".") == 0) {
			row(k, CHK_FAIL, "MX", "%s: null MX (RFC 7505): the "
			    "domain says it receives no mail", dom);
			fix(k, "publish instead: %s. IN MX 10 %s.", dom,
			    k->host);
			return -1;
		}
		(void)fmt(hosts[n], sizeof hosts[n], "%s",
		    dns_record_text(&k->a1, r));
		prefs[n++] = r->pref;
	}
	if (n == 0) {
		row(k, CHK_FAIL, "MX", "%s: no MX record", dom);
		fix(k, "publish: %s. IN MX 10 %s.", dom, k->host);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		row(k, CHK_OK, "MX", "%s: %u %s", dom, prefs[i], hosts[i]);
		if (dns_name_eq(hosts[i], k->host)) {
			*we_are_mx = 1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct dns_addr others[DNS_HOST_ADDRS_MAX];
		size_t found = 0, nothers = 0;
		int tempfail = 0;

		for (int t = 0; t < 2; t++) {
			uint16_t type = t == 0 ? DNS_T_A : DNS_T_AAAA;
			int s = query(k, hosts[i], type, &k->a2);

			tempfail |= s == DNS_TEMPFAIL;
			for (size_t j = 0; s == DNS_OK && j < k->a2.n; j++) {
				struct dns_addr ad;
				char a[ADDR_TEXT_MAX];

				if (k->a2.rr[j].type != type) {
					continue;
				}
				ad.family = type == DNS_T_A ? AF_INET :
				    AF_INET6;
				memcpy(ad.addr, k->a2.rr[j].addr,
				    sizeof ad.addr);
				addr_str(&ad, a, sizeof a);
				row(k, CHK_OK, t == 0 ? "A" : "AAAA", "%s: %s",
				    hosts[i], a);
				if (is_self(k, &ad)) {
					*we_are_mx = 1;
				} else if (nothers < DNS_HOST_ADDRS_MAX) {
					others[nothers++] = ad;
				}
				found++;
			}
		}
		if (found == 0) {
			char a[ADDR_TEXT_MAX];

			row(k, CHK_FAIL, "A", "%s (MX of %s): %s", hosts[i],
			    dom, tempfail ? status_text(DNS_TEMPFAIL) :
			    "no A or AAAA record: it cannot receive mail");
			if (k->nself > 0 && dns_name_eq(hosts[i], k->host)) {
				addr_str(&k->self[0], a, sizeof a);
				fix(k, "publish: %s. IN %s %s", hosts[i],
				    k->self[0].family == AF_INET ? "A" :
				    "AAAA", a);
			} else if (!tempfail) {
				fix(k, "publish: %s. IN A <its public IPv4 "
				    "address>", hosts[i]);
			}
		}
		/* Another host's PTR: only a warning, it is not ours. */
		for (size_t j = 0; j < nothers; j++) {
			check_ptr(k, &others[j], 0, hosts[i]);
		}
	}
	if (!*we_are_mx) {
		row(k, CHK_WARN, "MX", "%s: no MX host is %s: mail for it "
		    "goes elsewhere", dom, k->host);
	}
	return 0;
}

/*
 * SPF: exactly one record (RFC 7208 4.5), its syntax, and for each of
 * our addresses check_host() must give pass, or receivers that follow
 * the DMARC policy reject or file our mail.
 */
static void
check_spf(struct chk *k, const char *dom, int we_are_mx)
{
	static char rec[DNS_ANSWER_TEXT_MAX];
	const char *mech = we_are_mx ? "mx" : NULL;
	char mechbuf[CFG_HOST_MAX + 8];
	struct spf_parser p;
	struct spf_term t;
	size_t idx;
	unsigned terms = 0;
	int st, n, rc, bad = 0, broken = 0;

	if (mech == NULL) {
		(void)fmt(mechbuf, sizeof mechbuf, "a:%s", k->host);
		mech = mechbuf;
	}
	st = query(k, dom, DNS_T_TXT, &k->a1);
	n = st == DNS_OK ? find_txt(&k->a1, "v=spf1", 1, &idx) : 0;
	if (st == DNS_TEMPFAIL) {
		row(k, CHK_FAIL, "SPF", "%s: %s", dom, status_text(st));
		return;
	}
	if (n == 0) {
		row(k, CHK_FAIL, "SPF", "%s: no SPF record (v=spf1)", dom);
		fix(k, "publish: %s. IN TXT \"v=spf1 %s -all\"", dom, mech);
		return;
	}
	(void)fmt(rec, sizeof rec, "%s", dns_record_text(&k->a1,
	    &k->a1.rr[idx]));
	if (n > 1) {
		row(k, CHK_FAIL, "SPF", "%s: %d SPF records; there must be "
		    "one (RFC 7208 4.5: permerror)", dom, n);
		fix(k, "keep one: %s. IN TXT \"v=spf1 %s -all\"", dom, mech);
		return;
	}
	if (k->verbose) {
		fix(k, "%s. IN TXT \"%s\"", dom, rec);
	}
	(void)spf_init(&p, rec, strlen(rec));
	while ((rc = spf_next(&p, &t)) == 1) {
		terms++;
	}
	if (rc == -1) {
		row(k, CHK_FAIL, "SPF", "%s: \"%s\": syntax error in term "
		    "%u: %s", dom, rec, terms + 1, spf_strerror(p.err));
		fix(k, "publish instead: %s. IN TXT \"v=spf1 %s -all\"", dom,
		    mech);
		return;
	}
	if (k->nself == 0) {
		row(k, CHK_WARN, "SPF", "%s: \"%s\": not evaluated (no "
		    "address for %s)", dom, rec, k->host);
		return;
	}
	for (size_t i = 0; i < k->nself; i++) {
		struct spf_chk se;
		char a[ADDR_TEXT_MAX];
		int r;

		memset(&se, 0, sizeof se);
		se.k = k;
		se.ip = &k->self[i];
		addr_str(se.ip, a, sizeof a);
		r = spf_check_host(&se, dom);
		if (r == SPF_R_PASS) {
			row(k, CHK_OK, "SPF", "%s: \"%s\" authorises %s "
			    "(pass, %u lookup%s)", dom, rec, a, se.lookups,
			    se.lookups == 1 ? "" : "s");
			continue;
		}
		bad = 1;
		broken |= r == SPF_R_PERMERROR || r == SPF_R_TEMPERROR;
		row(k, CHK_FAIL, "SPF", "%s: \"%s\" does not authorise %s "
		    "(%s%s%s)", dom, rec, a, spf_result_name(r),
		    se.why[0] != '\0' ? ": " : "", se.why);
	}
	if (bad) {
		const char *rest = rec + 6;

		while (*rest == ' ') {
			rest++;
		}
		/* A record that errs is replaced, not extended. */
		if (broken) {
			rest = "";
		}
		fix(k, "publish instead: %s. IN TXT \"v=spf1 %s %s\"", dom,
		    mech, rest[0] != '\0' ? rest : "-all");
	}
}

/* RFC 7208 4: check_host(ip, domain) by dns/spf_eval.c, each lookup
 * it asks for answered through the private loop. */
static int
spf_check_host(struct spf_chk *e, const char *domain)
{
	static struct spf_eval ev;
	struct dns_answer *a = &e->k->a2;

	spf_eval_init(&ev, e->ip->addr, e->ip->family == AF_INET ? 4 : 16,
	    domain, "", e->k->host, e->k->host, (unsigned long)time(NULL));
	while (spf_eval_next(&ev) == 1) {
		int st = query(e->k, ev.qname, ev.qtype, a);

		for (size_t i = 0; st == DNS_OK && i < a->n; i++) {
			const struct dns_record *r = &a->rr[i];

			if (r->type == DNS_T_A || r->type == DNS_T_AAAA) {
				spf_eval_rr(&ev, r->type, r->addr,
				    r->type == DNS_T_A ? 4 : 16);
			} else {
				spf_eval_rr(&ev, r->type,
				    dns_record_text(a, r), r->len);
			}
		}
		spf_eval_end(&ev, st == DNS_OK ? SPF_DNS_OK :
		    st == DNS_TEMPFAIL ? SPF_DNS_TEMP : SPF_DNS_NONE);
	}
	e->lookups = ev.lookups;
	(void)fmt(e->why, sizeof e->why, "%s", ev.why);
	return ev.result;
}

/*
 * SELECTOR._domainkey.DOMAIN (RFC 6376 3.6.2.1): v=DKIM1 if given,
 * k=rsa, p= the public key. Its modulus must be that of dkim_key
 * (%d in the path is the domain): a key rotated on disk but not in
 * the DNS makes every signature fail.
 */
static void
check_dkim(struct chk *k, const char *dom)
{
	static unsigned char der[DKIM_DER_MAX];
	unsigned char mod[DKIM_MOD_MAX];
	const char *sel = cfg_str(k->cfg, CFG_DKIM_SELECTOR);
	const char *pat = cfg_str(k->cfg, CFG_DKIM_KEY), *pct;
	char name[DNS_NAME_MAX], path[CFG_PATH_MAX], val[DNS_ANSWER_TEXT_MAX];
	char b64[DNS_ANSWER_TEXT_MAX];
	const unsigned char *n, *ev;
	size_t nlen, elen, modlen = 0, idx, bl = 0;
	struct err e;
	long dl;
	int st, have_key;

	pct = strstr(pat, "%d");
	if (pct != NULL) {
		(void)fmt(path, sizeof path, "%.*s%s%s", (int)(pct - pat), pat,
		    dom, pct + 2);
		if (access(path, F_OK) == -1) {
			row(k, CHK_INFO, "DKIM", "%s: no key %s: not signed",
			    dom, path);
			return;
		}
	} else {
		(void)fmt(path, sizeof path, "%s", pat);
	}
	have_key = dkim_key_modulus(path, mod, &modlen, &e) == 0;
	if (!have_key) {
		row(k, CHK_WARN, "DKIM", "%s: key not compared: %s", dom,
		    e.msg);
	}
	if (fmt(name, sizeof name, "%s._domainkey.%s", sel, dom) >=
	    (int)sizeof name) {
		return;
	}
	st = query(k, name, DNS_T_TXT, &k->a1);
	if (st == DNS_TEMPFAIL) {
		row(k, CHK_FAIL, "DKIM", "%s: %s", name, status_text(st));
		return;
	}
	if (st != DNS_OK || find_txt(&k->a1, "", 0, &idx) == 0) {
		row(k, CHK_FAIL, "DKIM", "%s: no key record%s", name,
		    st == DNS_NXDOMAIN ? " (NXDOMAIN)" : "");
		dkim_fix(k, path, dom, sel);
		return;
	}
	(void)fmt(val, sizeof val, "%s", dns_record_text(&k->a1,
	    &k->a1.rr[idx]));
	if (k->verbose) {
		fix(k, "%s. IN TXT \"%s\"", name, val);
	}
	{
		char v[16], kt[16];
		const char *s = val;

		while (*s == ' ' || *s == '\t') {
			s++;
		}
		if ((tag_value(val, "v", v, sizeof v) == 1 && (strcmp(v,
		    "DKIM1") != 0 || strncmp(s, "v=", 2) != 0)) ||
		    (tag_value(val, "k", kt, sizeof kt) == 1 &&
		    strcmp(kt, "rsa") != 0)) {
			row(k, CHK_FAIL, "DKIM", "%s: not a v=DKIM1 k=rsa "
			    "key record", name);
			dkim_fix(k, path, dom, sel);
			return;
		}
	}
	if (tag_value(val, "p", val, sizeof val) != 1 || val[0] == '\0') {
		row(k, CHK_FAIL, "DKIM", "%s: no key in p= (empty: the key "
		    "is revoked)", name);
		dkim_fix(k, path, dom, sel);
		return;
	}
	/* p= may hold folding white space (RFC 6376 3.6.1). */
	for (const char *s = val; *s != '\0' && bl + 1 < sizeof b64; s++) {
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') {
			b64[bl++] = *s;
		}
	}
	b64[bl] = '\0';
	dl = base64_decode(b64, bl, der, sizeof der);
	if (dl < 0 ||
	    der_rsa_pub(der, (size_t)dl, &n, &nlen, &ev, &elen) == -1) {
		row(k, CHK_FAIL, "DKIM", "%s: p= is not an RSA public key",
		    name);
		dkim_fix(k, path, dom, sel);
		return;
	}
	if (!have_key) {
		row(k, CHK_OK, "DKIM", "%s: RSA key of %zu bits published",
		    name, nlen * 8);
		return;
	}
	if (nlen != modlen || memcmp(n, mod, nlen) != 0) {
		row(k, CHK_FAIL, "DKIM", "%s: the published key is not the "
		    "one in %s: signatures will fail", name, path);
		dkim_fix(k, path, dom, sel);
		return;
	}
	row(k, CHK_OK, "DKIM", "%s: matches %s (RSA %zu bits)", name, path,
	    nlen * 8);
}

/* The modulus of the PEM RSA key at path, big-endian without leading
 * zeros. */
static int
dkim_key_modulus(const char *path, unsigned char *mod, size_t *len,
    struct err *e)
{
	static struct key_der kd;
	br_skey_decoder_context dc;
	const br_rsa_private_key *sk;
	br_rsa_compute_modulus cm = br_rsa_compute_modulus_get_default();
	size_t l, z = 0;
	int rc = -1;

	memset(&kd, 0, sizeof kd);
	if (tls_pem_each(path, TLS_PEM_MAX, on_pem, &kd, e) == -1) {
		return -1;
	}
	if (!kd.found) {
		return err_set(e, "%s: no private key in the file", path);
	}
	br_skey_decoder_init(&dc);
	br_skey_decoder_push(&dc, kd.der, kd.len);
	if (br_skey_decoder_last_error(&dc) != 0 ||
	    br_skey_decoder_key_type(&dc) != BR_KEYTYPE_RSA) {
		(void)err_set(e, "%s: not an RSA private key", path);
		goto out;
	}
	sk = br_skey_decoder_get_rsa(&dc);
	l = cm(NULL, sk);
	if (l == 0 || l > DKIM_MOD_MAX) {
		(void)err_set(e, "%s: key size not supported", path);
		goto out;
	}
	(void)cm(mod, sk);
	while (z < l && mod[z] == 0) {
		z++;
	}
	memmove(mod, mod + z, l - z);
	*len = l - z;
	rc = 0;
out:
	explicit_bzero(&dc, sizeof dc);
	explicit_bzero(&kd, sizeof kd);
	return rc;
}

/* Keeps the DER of the file's first private key. */
static int
on_pem(void *arg, const char *name, const unsigned char *der, size_t len)
{
	struct key_der *kd = arg;

	if (kd->found || len > sizeof kd->der ||
	    (strcmp(name, "RSA PRIVATE KEY") != 0 &&
	    strcmp(name, "PRIVATE KEY") != 0)) {
		return 0;
	}
	memcpy(kd->der, der, len);
	kd->len = len;
	kd->found = 1;
	return 0;
}

/* The record to publish, as `wren dkim-keygen -p` prints it from the
 * key (one implementation of the 255-octet split). */
static void
dkim_fix(struct chk *k, const char *path, const char *dom, const char *sel)
{
	char a0[] = "dkim-keygen", a1[] = "-p", a2[CFG_PATH_MAX];
	char a3[CFG_HOST_MAX + 1], a4[CFG_VALUE_MAX];
	char *argv[] = { a0, a1, a2, a3, a4, NULL };

	(void)fmt(a2, sizeof a2, "%s", path);
	(void)fmt(a3, sizeof a3, "%s", dom);
	(void)fmt(a4, sizeof a4, "%s", sel);

	if (access(path, R_OK) == -1) {
		fix(k, "publish the record `wren dkim-keygen -p %s %s %s` "
		    "prints", path, dom, sel);
		return;
	}
	fix(k, "publish:");
	(void)cmd_dkim_keygen(5, argv);
}

/* _dmarc.DOMAIN (RFC 7489 6.3, 6.6.3): one record starting v=DMARC1
 * with a p= of none, quarantine or reject. */
static void
check_dmarc(struct chk *k, const char *dom)
{
	char name[DNS_NAME_MAX], pol[32];
	const char *rec;
	size_t idx;
	int st, n;

	(void)fmt(name, sizeof name, "_dmarc.%s", dom);
	st = query(k, name, DNS_T_TXT, &k->a1);
	if (st == DNS_TEMPFAIL) {
		row(k, CHK_FAIL, "DMARC", "%s: %s", name, status_text(st));
		return;
	}
	n = st == DNS_OK ? find_txt(&k->a1, "v=DMARC1", 0, &idx) : 0;
	if (n != 1) {
		row(k, CHK_FAIL, "DMARC", "%s: %s", name, n == 0 ?
		    "no DMARC record (v=DMARC1)" : "more than one DMARC "
		    "record (RFC 7489 6.6.3: none is used)");
		fix(k, "publish: %s. IN TXT \"v=DMARC1; p=quarantine; "
		    "rua=mailto:postmaster@%s\"", name, dom);
		return;
	}
	rec = dns_record_text(&k->a1, &k->a1.rr[idx]);
	if (tag_value(rec, "p", pol, sizeof pol) != 1 ||
	    (strcmp(pol, "none") != 0 && strcmp(pol, "quarantine") != 0 &&
	    strcmp(pol, "reject") != 0)) {
		row(k, CHK_FAIL, "DMARC", "%s: \"%s\": no valid p= (none, "
		    "quarantine or reject)", name, rec);
		fix(k, "publish instead: %s. IN TXT \"v=DMARC1; "
		    "p=quarantine; rua=mailto:postmaster@%s\"", name, dom);
		return;
	}
	if (strcmp(pol, "none") == 0) {
		row(k, CHK_WARN, "DMARC", "%s: \"%s\": p=none only monitors;"
		    " p=quarantine once SPF and DKIM pass", name, rec);
		return;
	}
	row(k, CHK_OK, "DMARC", "%s: \"%s\"", name, rec);
}

/* A recommended TXT record: PREFIX.DOMAIN starting with version and
 * holding the tag need (MTA-STS: id, RFC 8461 3.1; TLS-RPT: rua,
 * RFC 8460 3). */
static void
check_txt_rec(struct chk *k, const char *what, const char *prefix,
    const char *dom, const char *version, const char *need)
{
	char name[DNS_NAME_MAX], v[DNS_ANSWER_TEXT_MAX];
	size_t idx;
	int st, n;

	(void)fmt(name, sizeof name, "%s.%s", prefix, dom);
	st = query(k, name, DNS_T_TXT, &k->a1);
	n = st == DNS_OK ? find_txt(&k->a1, version, 0, &idx) : 0;
	if (n == 1 && tag_value(dns_record_text(&k->a1, &k->a1.rr[idx]),
	    need, v, sizeof v) == 1 && v[0] != '\0') {
		row(k, CHK_OK, what, "%s: \"%s\"", name,
		    dns_record_text(&k->a1, &k->a1.rr[idx]));
		return;
	}
	row(k, CHK_WARN, what, "%s: %s (recommended)", name, n > 1 ?
	    "more than one record" : n == 1 ? "malformed record" :
	    st == DNS_TEMPFAIL ? status_text(st) : "missing");
	if (st == DNS_TEMPFAIL) {
		return;
	}
	if (strcmp(version, "v=STSv1") == 0) {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		fix(k, "publish: %s. IN TXT \"v=STSv1; id=%04d%02d%02d\"",
		    name, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		fix(k, "and serve the policy at https://mta-sts.%s/"
		    ".well-known/mta-sts.txt (RFC 8461 3.2)", dom);
	} else {
		fix(k, "publish: %s. IN TXT \"%s; rua=mailto:postmaster@%s\"",
		    name, version, dom);
	}
}

/* RFC 6186 3.1, RFC 8314 5.1: clients find the servers from the
 * address alone. */
static void
check_srv(struct chk *k, const char *dom, const char *svc, unsigned port)
{
	char name[DNS_NAME_MAX];
	int st;

	(void)fmt(name, sizeof name, "%s.%s", svc, dom);
	st = query(k, name, DNS_T_SRV, &k->a1);
	for (size_t i = 0; st == DNS_OK && i < k->a1.n; i++) {
		const struct dns_record *r = &k->a1.rr[i];

		if (r->type != DNS_T_SRV) {
			continue;
		}
		row(k, CHK_OK, "SRV", "%s: %u %u %u %s", name, r->pref,
		    r->weight, r->port, dns_record_text(&k->a1, r));
		return;
	}
	row(k, CHK_WARN, "SRV", "%s: %s (recommended)", name,
	    st == DNS_TEMPFAIL ? status_text(st) : "missing");
	if (st == DNS_TEMPFAIL) {
		return;
	}
	fix(k, "publish: %s. IN SRV 0 1 %u %s.", name, port, k->host);
}

/*
 * The value of tag name in a tag=value list (RFC 6376 3.2: "; "
 * separated, white space around both allowed) into out; 1 found, 0
 * not. out may be rec itself.
 */
static int
tag_value(const char *rec, const char *name, char *out, size_t cap)
{
	const char *p = rec;
	size_t nl = strlen(name);

	while (*p != '\0') {
		const char *t, *v, *end;
		size_t tl;

		while (*p == ' ' || *p == '\t' || *p == ';') {
			p++;
		}
		t = p;
		while (*p != '\0' && *p != '=' && *p != ';' && *p != ' ' &&
		    *p != '\t') {
			p++;
		}
		tl = (size_t)(p - t);
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		if (*p != '=') {
			while (*p != '\0' && *p != ';') {
				p++;
			}
			continue;
		}
		p++;
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		v = p;
		while (*p != '\0' && *p != ';') {
			p++;
		}
		end = p;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t')) {
			end--;
		}
		if (tl == nl && strncmp(t, name, nl) == 0) {
			size_t vl = (size_t)(end - v);

			if (vl >= cap) {
				vl = cap - 1;
			}
			memmove(out, v, vl);
			out[vl] = '\0';
			return 1;
		}
	}
	return 0;
}

/*
 * TXT records of a that start with prefix: spf (RFC 7208 4.5:
 * "v=spf1" then a space or the end, any case) or a tag list's first
 * tag (DMARC, MTA-STS, TLS-RPT; "" counts every record). Returns the
 * count, the first one's index in *idx.
 */
static int
find_txt(const struct dns_answer *a, const char *prefix, int spf,
    size_t *idx)
{
	size_t pl = strlen(prefix);
	int n = 0;

	for (size_t i = 0; i < a->n; i++) {
		const char *t = dns_record_text(a, &a->rr[i]);
		int ok;

		if (a->rr[i].type != DNS_T_TXT) {
			continue;
		}
		if (spf) {
			ok = spf_is_record(t, a->rr[i].len);
		} else {
			while (*t == ' ' || *t == '\t') {
				t++;
			}
			ok = strncmp(t, prefix, pl) == 0 && (t[pl] == '\0' ||
			    t[pl] == ';' || t[pl] == ' ' || t[pl] == '\t' ||
			    pl == 0);
		}
		if (ok && n++ == 0) {
			*idx = i;
		}
	}
	return n;
}

static int
is_self(const struct chk *k, const struct dns_addr *a)
{
	for (size_t i = 0; i < k->nself; i++) {
		if (k->self[i].family == a->family && memcmp(k->self[i].addr,
		    a->addr, a->family == AF_INET ? 4 : 16) == 0) {
			return 1;
		}
	}
	return 0;
}

static void
addr_str(const struct dns_addr *a, char *out, size_t cap)
{
	if (addr_text(out, cap, a->family, a->addr) == -1) {
		(void)fmt(out, cap, "?");
	}
}

/* The next item of a space or comma separated list. */
static int
next_word(const char **p, const char **w, size_t *len)
{
	const char *s = *p;

	while (*s == ' ' || *s == '\t' || *s == ',') {
		s++;
	}
	if (*s == '\0') {
		*p = s;
		return 0;
	}
	*w = s;
	while (*s != '\0' && *s != ' ' && *s != '\t' && *s != ',') {
		s++;
	}
	*len = (size_t)(s - *w);
	*p = s;
	return 1;
}

/* A name without its trailing dot, lower-cased, NUL-terminated. */
static int
name_copy(char *out, size_t cap, const char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '.') {
		len--;
	}
	if (len == 0 || len >= cap) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[len] = '\0';
	return 0;
}

#else	/* !WREN_OUTBOUND */

int
check_dns(const struct cfg *c, int verbose)
{
	(void)c;
	(void)verbose;
	fmt_fd(STDERR_FILENO, "wren check --dns: this build has no resolver "
	    "(CONFIG_OUTBOUND is off)\n");
	return 2;
}

#endif
