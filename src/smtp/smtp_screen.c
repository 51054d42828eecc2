/* SPDX-License-Identifier: ISC */
/*
 * smtp_screen.c - the inbound checks of port 25, for clients outside
 * mynetworks that have not logged in, all on the event loop:
 *
 *   connect  DNSBL lookups of the address in every dnsbl_zones zone
 *            (RFC 5782 2.1) while the greeting waits greet_delay
 *            seconds (Postfix's postscreen); a client that talks
 *            first is refused (554 5.5.1, RFC 5321 4.3.1); a listing
 *            weighing dnsbl_threshold is refused (554 5.7.1), a
 *            lighter one marks the mail for Junk (s->v.junk).
 *            Verdicts are kept SCREEN_CACHE_SECS per address.
 *   MAIL     SPF (RFC 7208) of the HELO name, then of MAIL FROM
 *            (2.3, 2.4), through dns/spf_eval.c; results in s->v;
 *            a fail is refused only with spf_reject = yes (RFC 7372:
 *            550 5.7.23), else DMARC decides.
 *   MAIL, RCPT  messages and recipients per address per hour
 *            (smtp_rate_*), 451 4.7.1 beyond.
 *
 * Memory: fixed tables here and a pool of SCREEN_SPF_MAX evaluators;
 * at most SCREEN_DNS_QUERIES queries in flight (more count as a
 * temporary failure: a zone not asked, an SPF temperror).
 */
#include <string.h>
#include <sys/socket.h>

#include "core/fmt.h"
#include "core/log.h"
#include "dns/dns.h"
#include "smtp/smtp_int.h"

#if WREN_INBOUND_CHECKS

/* A verdict or a rate window per client address (IPv4 as mapped). */
struct screen_cache {
	uint8_t		addr[16];
	uint8_t		mask;		/* zones listing it */
	uint32_t	until;		/* seconds of ev_now; 0: free */
};

struct screen_rate {
	uint8_t		addr[16];
	uint32_t	start;		/* the hour's window; 0: free */
	uint32_t	msgs;
	uint32_t	rcpts;
};

static struct {
	struct pool		 spf;
	size_t			 nzones;
	char			 zone[SCREEN_ZONES_MAX][DNS_NAME_MAX];
	unsigned		 weight[SCREEN_ZONES_MAX];
	unsigned		 inflight;
	struct screen_cache	 cache[SCREEN_CACHE_MAX];
	struct screen_rate	 rate[SCREEN_RATE_MAX];
} scr;

static int	exempt(const struct smtp_session *);
static void	client_addr(const struct smtp_session *, uint8_t *);
static uint32_t	now_secs(void);
static struct dns_req	*query(const char *, uint16_t, dns_answer_fn *,
		    void *);
static void	bl_answer(void *, int, const struct dns_answer *);
static void	bl_verdict(struct smtp_session *);
static int	bl_judge(struct smtp_session *);
static struct screen_cache	*cache_find(const uint8_t *, int);
static void	helo_as_mailfrom(struct smtp_session *);
static void	spf_start(struct smtp_session *);
static int	spf_drive(struct smtp_session *);
static void	spf_answer(void *, int, const struct dns_answer *);
static void	spf_done(struct smtp_session *);

int
screen_init(struct err *e)
{
	return pool_init(&scr.spf, "spf", sizeof(struct spf_eval),
	    SCREEN_SPF_MAX, e);
}

void
screen_shutdown(void)
{
	pool_destroy(&scr.spf);
}

/* dnsbl_zones: "zone[*weight]" items, comma or space separated; a
 * malformed item is logged and left out (the key is free text). */
void
screen_reconfigure(const struct cfg *cfg)
{
	const char *p = cfg_str(cfg, CFG_DNSBL_ZONES);

	/* Cached masks index the old list of zones. */
	memset(scr.cache, 0, sizeof scr.cache);
	scr.nzones = 0;
	while (*p != '\0') {
		size_t n = strcspn(p, ", "), zl = strcspn(p, ", *");
		unsigned w = 1;

		if (n == 0) {
			p++;
			continue;
		}
		if (zl < n) {
			w = 0;
			for (size_t i = zl + 1; i < n && w < 1000; i++) {
				w = p[i] >= '0' && p[i] <= '9' ?
				    w * 10 + (unsigned)(p[i] - '0') : 1000;
			}
		}
		if (zl == 0 || zl >= DNS_NAME_MAX - 80 || w == 0 ||
		    w >= 1000 || scr.nzones == SCREEN_ZONES_MAX) {
			log_warnx("dnsbl_zones: %.*s: left out (zone*weight, "
			    "weight 1-999, at most %d zones)", (int)n, p,
			    SCREEN_ZONES_MAX);
		} else {
			memcpy(scr.zone[scr.nzones], p, zl);
			scr.zone[scr.nzones][zl] = '\0';
			scr.weight[scr.nzones++] = w;
		}
		p += n;
	}
}

int
screen_connect(struct smtp_session *s)
{
	uint64_t delay = (uint64_t)cfg_num(smtp.cfg, CFG_GREET_DELAY) * 1000;
	uint8_t a[16];
	struct screen_cache *hit;

	if (exempt(s)) {
		return 0;
	}
	client_addr(s, a);
	hit = cache_find(a, 0);
	if (hit != NULL) {
		conn_log(s->c, LOG_LVL_DEBUG, "dnsbl: cached verdict");
		s->bl_mask = hit->mask;
	} else {
		char name[DNS_NAME_MAX];

		/* RFC 5782 2.1 (IPv4), 2.4 (IPv6: nibbles, reversed). */
		for (size_t z = 0; z < scr.nzones; z++) {
			int v4 = memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff",
			    12) == 0;

			if (dns_reverse_name(v4 ? a + 12 : a, v4 ? 4 : 16,
			    scr.zone[z], name, sizeof name) == -1) {
				continue;
			}
			s->bl[z].s = s;
			s->bl[z].r = query(name, DNS_T_A, bl_answer,
			    &s->bl[z]);
			if (s->bl[z].r == NULL) {
				conn_log(s->c, LOG_LVL_WARN, "dnsbl: %s not "
				    "asked: resolver busy", scr.zone[z]);
				s->bl_temp = 1;		/* not cached */
				continue;
			}
			s->bl_left++;
		}
	}
	if (delay > 0 && ev_timer_in(smtp.ev, &s->delay, delay) == 0) {
		s->held_timer = 1;
	}
	if (!s->held_timer && s->bl_left == 0) {
		return bl_judge(s);	/* nothing to wait for */
	}
	s->held = 1;
	return 1;
}

void
screen_early(struct smtp_session *s)
{
	conn_log(s->c, LOG_LVL_INFO, "early talker refused: ip=%s spoke "
	    "before the greeting", s->ip);
	smtp_reply(s, "554 5.5.1 Error: talking before the greeting");
	screen_close(s);
	conn_close(s->c);
}

void
screen_timer(struct smtp_session *s)
{
	s->held_timer = 0;
	if (s->bl_left == 0) {
		bl_verdict(s);
	}
}

int
screen_mail(struct smtp_session *s)
{
	s->v.spf_checked = 0;
	if (exempt(s)) {
		return 0;
	}
	s->v.spf_checked = 1;
	if (s->helo_done && strchr(s->sender, '@') == NULL) {
		/* A null sender after the HELO name was checked (a second
		 * bounce on the connection): its result is the HELO's. */
		helo_as_mailfrom(s);
		return 0;
	}
	s->spf = pool_get(&scr.spf);
	if (s->spf == NULL) {
		conn_log(s->c, LOG_LVL_WARN, "spf: every evaluator busy");
		s->v.spf_helo = s->v.spf_mailfrom = SPF_R_TEMPERROR;
		(void)fmt(s->v.spf_why, sizeof s->v.spf_why, "busy");
		(void)fmt(s->v.spf_domain, sizeof s->v.spf_domain, "%s",
		    strchr(s->sender, '@') != NULL ?
		    strrchr(s->sender, '@') + 1 : s->helo);
		return 0;
	}
	s->spf_step = s->helo_done ? 1 : 0;
	spf_start(s);
	if (spf_drive(s) == 1) {
		s->spf_wait = 1;
		return 1;
	}
	spf_done(s);
	return 1;
}

int
screen_rate(struct smtp_session *s, int rcpt)
{
	uint32_t lim = (uint32_t)cfg_num(smtp.cfg, rcpt ?
	    CFG_SMTP_RATE_RECIPIENTS : CFG_SMTP_RATE_MESSAGES);
	uint32_t now = now_secs();
	struct screen_rate *r = NULL, *old = &scr.rate[0];
	uint8_t a[16];

	if (lim == 0 || exempt(s)) {
		return 0;
	}
	client_addr(s, a);
	for (size_t i = 0; i < SCREEN_RATE_MAX && r == NULL; i++) {
		struct screen_rate *x = &scr.rate[i];

		if (x->start != 0 && memcmp(x->addr, a, 16) == 0) {
			r = x;
		} else if (x->start < old->start) {
			old = x;	/* a free one (0) first */
		}
	}
	if (r == NULL || now - r->start >= 3600) {
		r = r != NULL ? r : old;
		memset(r, 0, sizeof *r);
		memcpy(r->addr, a, 16);
		r->start = now;
	}
	if ((rcpt ? r->rcpts : r->msgs) >= lim) {
		conn_log(s->c, LOG_LVL_INFO, "rate limit: ip=%s over %u %s "
		    "per hour", s->ip, (unsigned)lim, rcpt ? "recipients" :
		    "messages");
		smtp_reply(s, "451 4.7.1 Error: too many %s from your "
		    "address; try again later", rcpt ? "recipients" :
		    "messages");
		return -1;
	}
	*(rcpt ? &r->rcpts : &r->msgs) += 1;
	return 0;
}

void
screen_close(struct smtp_session *s)
{
	for (size_t z = 0; z < SCREEN_ZONES_MAX; z++) {
		if (s->bl[z].r != NULL) {
			dns_cancel(s->bl[z].r);
			s->bl[z].r = NULL;
			scr.inflight--;
		}
	}
	s->bl_left = 0;
	if (s->spf_req != NULL) {
		dns_cancel(s->spf_req);
		s->spf_req = NULL;
		scr.inflight--;
	}
	if (s->spf != NULL) {
		(void)pool_put(&scr.spf, s->spf);
		s->spf = NULL;
	}
	if (s->held_timer) {
		ev_timer_cancel(smtp.ev, &s->delay);
		s->held_timer = 0;
	}
	s->held = 0;
	s->spf_wait = 0;
}

/* Checks are for strangers on port 25 (SPEC: mynetworks and logged-in
 * users are trusted). */
static int
exempt(const struct smtp_session *s)
{
	return s->mode != SMTP_MODE_MX || s->mynet || s->login[0] != '\0';
}

/* The client's address in 16 octets, IPv4 as ::ffff:a.b.c.d. */
static void
client_addr(const struct smtp_session *s, uint8_t *a)
{
	if (s->c->family == AF_INET) {
		memcpy(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		memcpy(a + 12, s->c->addr, 4);
	} else {
		memcpy(a, s->c->addr, 16);
	}
}

static uint32_t
now_secs(void)
{
	return (uint32_t)(ev_now(smtp.ev) / 1000) + 1;	/* never 0 */
}

static struct dns_req *
query(const char *name, uint16_t type, dns_answer_fn *cb, void *arg)
{
	struct dns_req *r;

	if (scr.inflight >= SCREEN_DNS_QUERIES) {
		return NULL;
	}
	r = dns_query(name, type, cb, arg);
	scr.inflight += r != NULL;
	return r;
}

/* RFC 5782 2.1: an A record in 127.0.0.0/8 is a listing;
 * 127.255.255.0/24 are the error codes some lists answer a public
 * resolver with (Spamhaus), not listings. */
static void
bl_answer(void *arg, int status, const struct dns_answer *ans)
{
	struct screen_q *q = arg;
	struct smtp_session *s = q->s;
	size_t z = (size_t)(q - s->bl);

	q->r = NULL;
	scr.inflight--;
	s->bl_left--;
	for (size_t i = 0; status == DNS_OK && i < ans->n; i++) {
		const uint8_t *ip = ans->rr[i].addr;

		if (ans->rr[i].type == DNS_T_A && ip[0] == 127 &&
		    !(ip[1] == 255 && ip[2] == 255)) {
			s->bl_mask |= 1u << z;
		}
	}
	if (status == DNS_TEMPFAIL) {
		conn_log(s->c, LOG_LVL_INFO, "dnsbl: %s: %s", scr.zone[z],
		    dns_status_str(status));
		s->bl_temp = 1;
	}
	if (s->bl_left == 0 && !s->bl_temp) {
		struct screen_cache *c;
		uint8_t a[16];

		client_addr(s, a);
		c = cache_find(a, 1);
		memcpy(c->addr, a, 16);
		c->mask = (uint8_t)s->bl_mask;
		c->until = now_secs() + SCREEN_CACHE_SECS;
	}
	if (s->bl_left == 0 && !s->held_timer) {
		bl_verdict(s);
	}
}

/* Every answer is in and the delay over: refuse, or greet. */
static void
bl_verdict(struct smtp_session *s)
{
	s->held = 0;
	if (bl_judge(s) == -1) {
		conn_close(s->c);
		return;
	}
	smtp_greet(s);
	smtp_resume(s);
}

/* The listings' weight: -1 refused (554 written), 0 served, perhaps
 * with the mark for Junk. */
static int
bl_judge(struct smtp_session *s)
{
	size_t n = 0;
	unsigned mask = s->bl_mask;

	s->v.dnsbl_score = 0;
	s->v.dnsbl_zones[0] = '\0';
	for (size_t z = 0; z < scr.nzones; z++) {
		if (!(mask & (1u << z))) {
			continue;
		}
		s->v.dnsbl_score += scr.weight[z];
		n += (size_t)fmt(s->v.dnsbl_zones + n,
		    n < sizeof s->v.dnsbl_zones ? sizeof s->v.dnsbl_zones -
		    n : 0, "%s%s", n > 0 ? "," : "", scr.zone[z]);
	}
	if (s->v.dnsbl_score >= (unsigned)cfg_num(smtp.cfg,
	    CFG_DNSBL_THRESHOLD)) {
		conn_log(s->c, LOG_LVL_INFO, "dnsbl: ip=%s refused: listed "
		    "by %s (score %u)", s->ip, s->v.dnsbl_zones,
		    s->v.dnsbl_score);
		smtp_reply(s, "554 5.7.1 Service unavailable; client [%s] "
		    "blocked using %s", s->ip, s->v.dnsbl_zones);
		return -1;
	}
	if (s->v.dnsbl_score > 0) {
		s->v.junk = 1;
		conn_log(s->c, LOG_LVL_INFO, "dnsbl: ip=%s listed by %s "
		    "(score %u): mail goes to Junk", s->ip, s->v.dnsbl_zones,
		    s->v.dnsbl_score);
	}
	return 0;
}

/* The live entry for a (NULL: none); with take, the entry to fill:
 * a's own, else a free or expired one, else the one ending first. */
static struct screen_cache *
cache_find(const uint8_t *a, int take)
{
	uint32_t now = now_secs();
	struct screen_cache *old = &scr.cache[0];

	for (size_t i = 0; i < SCREEN_CACHE_MAX; i++) {
		struct screen_cache *c = &scr.cache[i];

		if (c->until > now && memcmp(c->addr, a, 16) == 0) {
			return c;
		}
		if (c->until < old->until) {
			old = c;
		}
	}
	return take ? old : NULL;
}

/* The evaluation of step 0 (the HELO name, as postmaster@helo) or 1
 * (MAIL FROM's domain). */
static void
spf_start(struct smtp_session *s)
{
	const char *dom = s->helo, *at = strrchr(s->sender, '@');
	uint8_t a[16];

	client_addr(s, a);
	if (s->spf_step == 1) {
		dom = at != NULL ? at + 1 : s->sender;
	}
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		spf_eval_init(s->spf, a + 12, 4, dom, s->spf_step ?
		    s->sender : "", s->helo, smtp.hostname, now_secs());
	} else {
		spf_eval_init(s->spf, a, 16, dom, s->spf_step ? s->sender :
		    "", s->helo, smtp.hostname, now_secs());
	}
}

/* RFC 7208 2.4: a null sender's check is the HELO's. */
static void
helo_as_mailfrom(struct smtp_session *s)
{
	s->v.spf_mailfrom = s->v.spf_helo;
	(void)fmt(s->v.spf_domain, sizeof s->v.spf_domain, "%s", s->helo);
	(void)fmt(s->v.spf_why, sizeof s->v.spf_why, "%s",
	    "null sender: the HELO result");
}

/* Runs the evaluation until it needs an answer (1) or both steps are
 * done (0). */
static int
spf_drive(struct smtp_session *s)
{
	struct spf_eval *e = s->spf;
	const char *at;

	for (;;) {
		while (spf_eval_next(e) == 1) {
			s->spf_req = query(e->qname, e->qtype, spf_answer,
			    s);
			if (s->spf_req != NULL) {
				return 1;
			}
			spf_eval_end(e, SPF_DNS_TEMP);
		}
		if (s->spf_step == 0) {
			s->v.spf_helo = e->result;
			s->helo_done = 1;
			conn_log(s->c, LOG_LVL_INFO, "spf: helo=%s result=%s "
			    "(%s)", s->helo, spf_result_name(e->result),
			    e->why);
		} else {
			/* Step 1 runs only for a sender with a domain. */
			at = strrchr(s->sender, '@');
			s->v.spf_mailfrom = e->result;
			(void)fmt(s->v.spf_domain, sizeof s->v.spf_domain,
			    "%s", at != NULL ? at + 1 : s->helo);
			(void)fmt(s->v.spf_why, sizeof s->v.spf_why, "%s",
			    e->why);
			conn_log(s->c, LOG_LVL_INFO, "spf: mailfrom=%s "
			    "domain=%s result=%s (%s)", s->sender,
			    s->v.spf_domain, spf_result_name(e->result),
			    e->why);
			return 0;
		}
		if (strchr(s->sender, '@') == NULL) {
			helo_as_mailfrom(s);
			return 0;
		}
		s->spf_step = 1;
		spf_start(s);
	}
}

static void
spf_answer(void *arg, int status, const struct dns_answer *ans)
{
	struct smtp_session *s = arg;
	struct spf_eval *e = s->spf;
	enum spf_dns st = SPF_DNS_TEMP;

	s->spf_req = NULL;
	scr.inflight--;
	if (status == DNS_OK) {
		st = SPF_DNS_OK;
		for (size_t i = 0; i < ans->n; i++) {
			const struct dns_record *r = &ans->rr[i];

			if (r->type == DNS_T_A || r->type == DNS_T_AAAA) {
				spf_eval_rr(e, r->type, r->addr, r->type ==
				    DNS_T_A ? 4 : 16);
			} else {
				spf_eval_rr(e, r->type, dns_record_text(ans,
				    r), r->len);
			}
		}
	} else if (status == DNS_NXDOMAIN || status == DNS_NODATA ||
	    status == DNS_PERMFAIL) {
		st = SPF_DNS_NONE;
	}
	spf_eval_end(e, st);
	if (spf_drive(s) == 0) {
		spf_done(s);
		smtp_resume(s);		/* commands pipelined behind MAIL */
	}
}

/* Both verdicts are in: the evaluator goes back, MAIL is answered. */
static void
spf_done(struct smtp_session *s)
{
	const char *why = NULL;

	(void)pool_put(&scr.spf, s->spf);
	s->spf = NULL;
	s->spf_wait = 0;
	if (s->v.spf_mailfrom == SPF_R_FAIL &&
	    cfg_num(smtp.cfg, CFG_SPF_REJECT)) {
		why = "550 5.7.23 SPF validation failed";
	}
	smtp_mail_checked(s, why);
}

#endif
