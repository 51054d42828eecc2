/* SPDX-License-Identifier: ISC */
/*
 * spf_eval.c - check_host() of RFC 7208 (sections 4, 5, 6.1, 7) as a
 * state machine: spf_eval_next names the lookup it needs, the caller
 * feeds the answer back. No I/O here, so a test drives it from a
 * table and the SMTP server from the resolver on the event loop.
 *
 * include and redirect push a frame; the records of the frames in
 * use sit one after the other in the arena, so popping a frame frees
 * its record:
 *
 *   arena: [ record of f[0] ][ record of f[1] ][ free ...       ]
 *            ^f[0].rec         ^f[1].rec         ^used
 */
#include <string.h>

#include "core/fmt.h"
#include "dns/dns_pkt.h"
#include "dns/spf.h"

enum {
	ST_TXT,			/* the top frame needs its record */
	ST_W_TXT,
	ST_RUN,			/* the next term of the top frame */
	ST_W_A,			/* a or exists */
	ST_W_MX,
	ST_MX_ADDR,
	ST_W_MX_ADDR,
	ST_W_PTR,
	ST_PTR_ADDR,
	ST_W_PTR_ADDR,
	ST_DONE
};

/* Labels of a macro value (an IPv6 address has 32). */
#define SPF_PARTS_MAX	64

static void	finish(struct spf_eval *, enum spf_result, const char *);
static void	match(struct spf_eval *);
static int	run_term(struct spf_eval *);
static int	count_lookup(struct spf_eval *);
static int	void_lookup(struct spf_eval *);
static int	record_ready(struct spf_eval *);
static int	ask(struct spf_eval *, const char *, uint16_t, int);
static uint16_t	addr_type(const struct spf_eval *);
static int	expand(struct spf_eval *, const char *, size_t, char *,
		    size_t);
static int	macro(struct spf_eval *, char, unsigned, int, const char *,
		    size_t, int, char *, size_t, size_t *);
static size_t	letter_value(struct spf_eval *, char, char *, size_t);
static int	put(char *, size_t, size_t *, const char *, size_t);
static int	domain_ok(const char *, int);
static int	crt_macro(const char *, size_t);
static int	name_under(const char *, const char *);
static char	lower(char);

void
spf_eval_init(struct spf_eval *e, const uint8_t *ip, size_t alen,
    const char *domain, const char *sender, const char *helo,
    const char *receiver, unsigned long now)
{
	const char *at = strrchr(sender, '@');
	size_t llen = at != NULL ? (size_t)(at - sender) : 0;

	memset(e, 0, sizeof *e);
	e->alen = alen == 16 ? 16 : 4;
	memcpy(e->ip, ip, e->alen);
	e->now = now;
	/* 4.3: no local part is "postmaster"; no sender at all is
	 * postmaster@ the domain checked (the HELO check). */
	if (llen == 0 || llen >= sizeof e->local) {
		(void)fmt(e->local, sizeof e->local, "postmaster");
	} else {
		memcpy(e->local, sender, llen);
	}
	(void)fmt(e->sdomain, sizeof e->sdomain, "%s", at != NULL ? at + 1 :
	    domain);
	(void)fmt(e->helo, sizeof e->helo, "%s", helo);
	(void)fmt(e->receiver, sizeof e->receiver, "%s", receiver);
	e->depth = 1;
	e->state = ST_TXT;
	if (strlen(domain) >= SPF_DOMAIN_MAX || domain[0] == '[' ||
	    !domain_ok(domain, 1)) {
		/* 4.3: a malformed or single-label domain (a HELO name
		 * like "OEMCOMPUTER" or "[192.0.2.1]") has no policy. */
		finish(e, SPF_R_NONE, "not a domain name");
		return;
	}
	(void)fmt(e->f[0].domain, sizeof e->f[0].domain, "%s", domain);
}

int
spf_eval_next(struct spf_eval *e)
{
	struct spf_frame *f;

	for (;;) {
		f = &e->f[e->depth - 1];
		switch (e->state) {
		case ST_DONE:
			return 0;
		case ST_TXT:
			e->nrec = 0;
			f->rec = e->used;
			f->reclen = 0;
			return ask(e, f->domain, DNS_T_TXT, ST_W_TXT);
		case ST_RUN:
			if (run_term(e) == 1) {
				return 1;
			}
			break;
		case ST_MX_ADDR:
		case ST_PTR_ADDR:
			if (e->iname >= e->nnames ||
			    e->iname >= SPF_NAMES_MAX) {
				e->state = ST_RUN;	/* no match */
				break;
			}
			return ask(e, e->names[e->iname++], addr_type(e),
			    e->state == ST_MX_ADDR ? ST_W_MX_ADDR :
			    ST_W_PTR_ADDR);
		default:
			return 1;	/* still waiting for an answer */
		}
	}
}

void
spf_eval_rr(struct spf_eval *e, uint16_t type, const void *data,
    size_t len)
{
	struct spf_frame *f = &e->f[e->depth - 1];
	const uint8_t *a = data;

	switch (e->state) {
	case ST_W_TXT:
		if (type != DNS_T_TXT || !spf_is_record(data, len)) {
			return;		/* other TXT records: not ours */
		}
		if (++e->nrec == 1) {
			if (len + 1 > sizeof e->arena - e->used) {
				f->reclen = (size_t)-1;	/* too big */
				return;
			}
			memcpy(e->arena + e->used, data, len);
			f->reclen = len;
			e->used += len;
		}
		return;
	case ST_W_A:
		if (f->t.kind == SPF_EXISTS) {
			e->hit |= type == DNS_T_A;
			return;
		}
		/* FALLTHROUGH */
	case ST_W_MX_ADDR:
		if (type == addr_type(e) && len == e->alen) {
			e->hit |= spf_cidr_match(a, e->ip, e->alen,
			    e->alen == 4 ? f->t.cidr4 : f->t.cidr6);
		}
		return;
	case ST_W_PTR_ADDR:
		if (type == addr_type(e) && len == e->alen) {
			e->hit |= memcmp(a, e->ip, e->alen) == 0;
		}
		return;
	case ST_W_MX:
	case ST_W_PTR:
		if (type != (e->state == ST_W_MX ? DNS_T_MX : DNS_T_PTR)) {
			return;
		}
		/* 4.6.4: more than 10 MX names is a permerror, more
		 * than 10 PTR names are ignored. */
		if (e->nnames < SPF_NAMES_MAX && len < SPF_DOMAIN_MAX) {
			memcpy(e->names[e->nnames], data, len);
			e->names[e->nnames][len] = '\0';
		} else if (e->nnames < SPF_NAMES_MAX) {
			e->names[e->nnames][0] = '\0';
		}
		e->nnames++;
		return;
	default:
		return;
	}
}

void
spf_eval_end(struct spf_eval *e, enum spf_dns st)
{
	struct spf_frame *f = &e->f[e->depth - 1];
	int st_was = e->state;

	if (st == SPF_DNS_TEMP && st_was != ST_W_PTR &&
	    st_was != ST_W_PTR_ADDR) {
		char why[sizeof e->why];

		(void)fmt(why, sizeof why, "DNS failure for %s", e->qname);
		finish(e, SPF_R_TEMPERROR, why);
		return;
	}
	switch (st_was) {
	case ST_W_TXT:
		if (st != SPF_DNS_OK || e->nrec == 0) {
			/* 6.1: a redirect to no record is a permerror;
			 * include maps none to permerror in finish. */
			finish(e, f->via_redirect ? SPF_R_PERMERROR :
			    SPF_R_NONE, "no SPF record");
		} else if (e->nrec > 1) {
			finish(e, SPF_R_PERMERROR, "more than one SPF "
			    "record");	/* 4.5 */
		} else if (f->reclen == (size_t)-1) {
			finish(e, SPF_R_TEMPERROR, "SPF records too large "
			    "to evaluate");
		} else {
			(void)record_ready(e);
		}
		return;
	case ST_W_A:
	case ST_W_MX:
	case ST_W_PTR:
		if (st == SPF_DNS_NONE && void_lookup(e) == -1) {
			return;
		}
		if (st_was == ST_W_A) {
			if (e->hit) {
				match(e);
			} else {
				e->state = ST_RUN;
			}
		} else if (st_was == ST_W_MX && e->nnames > SPF_NAMES_MAX) {
			finish(e, SPF_R_PERMERROR, "more than 10 MX names");
		} else if (st_was == ST_W_MX) {
			e->iname = 0;
			e->state = ST_MX_ADDR;
		} else {
			size_t n = 0;

			/* Only names under the target are worth an
			 * address lookup (5.5). */
			for (size_t i = 0; i < e->nnames &&
			    i < SPF_NAMES_MAX; i++) {
				if (name_under(e->names[i], e->target)) {
					memmove(e->names[n++], e->names[i],
					    SPF_DOMAIN_MAX);
				}
			}
			e->nnames = n;
			e->iname = 0;
			e->state = ST_PTR_ADDR;
		}
		return;
	case ST_W_MX_ADDR:
	case ST_W_PTR_ADDR:
		if (e->hit) {
			match(e);
		} else {
			e->state = st_was == ST_W_MX_ADDR ? ST_MX_ADDR :
			    ST_PTR_ADDR;
		}
		return;
	default:
		return;
	}
}

/* A frame ends with r: the check ends, or the include of the frame
 * below matches (pass) or not (fail, softfail, neutral) or fails
 * (5.2: temperror stays, none and permerror become permerror). */
static void
finish(struct spf_eval *e, enum spf_result r, const char *why)
{
	while (e->depth > 1) {
		e->used = e->f[e->depth - 1].rec;
		e->depth--;
		if (r == SPF_R_FAIL || r == SPF_R_SOFTFAIL ||
		    r == SPF_R_NEUTRAL) {
			e->state = ST_RUN;
			return;
		}
		if (r == SPF_R_PASS) {
			match(e);
			return;
		}
		if (r == SPF_R_NONE) {
			r = SPF_R_PERMERROR;
			why = "include of a domain without SPF record";
		}
	}
	e->result = r;
	if (e->why[0] == '\0') {
		(void)fmt(e->why, sizeof e->why, "%s", why);
	}
	e->state = ST_DONE;
}

/* The top frame's current term matched: its qualifier decides. */
static void
match(struct spf_eval *e)
{
	struct spf_frame *f = &e->f[e->depth - 1];
	char why[sizeof e->why];
	enum spf_result r;

	switch (f->t.qual) {
	case '-':
		r = SPF_R_FAIL;
		break;
	case '~':
		r = SPF_R_SOFTFAIL;
		break;
	case '?':
		r = SPF_R_NEUTRAL;
		break;
	default:
		r = SPF_R_PASS;
		break;
	}
	(void)fmt(why, sizeof why, "%c%s in %s", f->t.qual,
	    spf_kind_name(f->t.kind), f->domain);
	finish(e, r, why);
}

/* The record of the top frame has come: 4.6 says a syntax error
 * anywhere is a permerror, so the whole record is read once first. */
static int
record_ready(struct spf_eval *e)
{
	struct spf_frame *f = &e->f[e->depth - 1];
	const char *rec = e->arena + f->rec;
	struct spf_term t;
	char why[sizeof e->why];
	int rc;

	f->redirect = NULL;
	(void)spf_init(&f->p, rec, f->reclen);
	while ((rc = spf_next(&f->p, &t)) == 1) {
		if (t.kind == SPF_REDIRECT) {
			f->redirect = t.domain;
			f->rlen = t.dlen;
		}
		if (t.macro && t.kind != SPF_UNKNOWN_MOD &&
		    crt_macro(t.domain, t.dlen)) {
			(void)fmt(why, sizeof why, "%%{c}, %%{r} or %%{t} "
			    "outside an explanation, in %s", f->domain);
			finish(e, SPF_R_PERMERROR, why);	/* 7.2 */
			return -1;
		}
	}
	if (rc == -1) {
		(void)fmt(why, sizeof why, "%s in the record of %s",
		    spf_strerror(f->p.err), f->domain);
		finish(e, SPF_R_PERMERROR, why);
		return -1;
	}
	(void)spf_init(&f->p, rec, f->reclen);
	e->state = ST_RUN;
	return 0;
}

/* The next term of the top frame; 1 when a lookup is asked for. */
static int
run_term(struct spf_eval *e)
{
	struct spf_frame *f = &e->f[e->depth - 1];
	struct spf_term *t = &f->t;
	const char *spec;
	size_t slen;
	int rc = spf_next(&f->p, t);

	if (rc == 0 && f->redirect == NULL) {
		finish(e, SPF_R_NEUTRAL, "no term matched");	/* 4.7 */
		return 0;
	}
	if (rc == 0) {
		/* 6.1: the redirect target's verdict is this one. */
		if (count_lookup(e) == -1 || expand(e, f->redirect, f->rlen,
		    e->target, sizeof e->target) == -1) {
			return 0;
		}
		if (!domain_ok(e->target, 0)) {
			finish(e, SPF_R_PERMERROR, "bad redirect target");
			return 0;
		}
		memcpy(f->domain, e->target, sizeof f->domain);
		f->via_redirect = 1;
		e->used = f->rec;
		e->state = ST_TXT;
		return 0;
	}
	if (rc == -1) {
		finish(e, SPF_R_PERMERROR, spf_strerror(f->p.err));
		return 0;
	}
	switch (t->kind) {
	case SPF_ALL:
		match(e);
		return 0;
	case SPF_IP4:
	case SPF_IP6:
		if (e->alen == (t->kind == SPF_IP4 ? 4u : 16u) &&
		    spf_cidr_match(t->addr, e->ip, e->alen, t->kind ==
		    SPF_IP4 ? t->cidr4 : t->cidr6)) {
			match(e);
		}
		return 0;
	case SPF_INCLUDE:
	case SPF_A:
	case SPF_MX:
	case SPF_PTR:
	case SPF_EXISTS:
		break;
	default:
		return 0;	/* modifiers: redirect comes last */
	}
	if (count_lookup(e) == -1) {
		return 0;
	}
	spec = t->dlen > 0 ? t->domain : f->domain;
	slen = t->dlen > 0 ? t->dlen : strlen(f->domain);
	if (expand(e, spec, slen, e->target, sizeof e->target) == -1) {
		return 0;
	}
	if (!domain_ok(e->target, 0)) {
		/* A name no query can be made of (an empty or long
		 * label, perhaps from a macro): it does not exist. */
		if (t->kind == SPF_INCLUDE) {
			finish(e, SPF_R_PERMERROR, "bad include target");
		} else if (void_lookup(e) == 0) {
			e->state = ST_RUN;
		}
		return 0;
	}
	e->hit = 0;
	e->nnames = 0;
	switch (t->kind) {
	case SPF_INCLUDE:
		if (e->depth == SPF_DEPTH_MAX) {
			finish(e, SPF_R_PERMERROR, "includes too deep");
			return 0;
		}
		f = &e->f[e->depth++];
		memset(f, 0, sizeof *f);
		memcpy(f->domain, e->target, sizeof f->domain);
		e->state = ST_TXT;
		return 0;
	case SPF_A:
		return ask(e, e->target, addr_type(e), ST_W_A);
	case SPF_EXISTS:
		return ask(e, e->target, DNS_T_A, ST_W_A);
	case SPF_MX:
		return ask(e, e->target, DNS_T_MX, ST_W_MX);
	default: {
		char rev[SPF_QNAME_MAX];

		(void)dns_reverse_name(e->ip, e->alen, NULL, rev,
		    sizeof rev);	/* fits: 72 octets */
		return ask(e, rev, DNS_T_PTR, ST_W_PTR);
	}
	}
}

/* 4.6.4: the 11th term that queries the DNS is a permerror. */
static int
count_lookup(struct spf_eval *e)
{
	if (++e->lookups > SPF_LOOKUPS_MAX) {
		finish(e, SPF_R_PERMERROR, "more than 10 DNS lookups");
		return -1;
	}
	return 0;
}

/* 4.6.4: the third lookup answering nothing is a permerror. */
static int
void_lookup(struct spf_eval *e)
{
	if (++e->voids > SPF_VOID_MAX) {
		finish(e, SPF_R_PERMERROR, "more than 2 void lookups");
		return -1;
	}
	return 0;
}

static int
ask(struct spf_eval *e, const char *name, uint16_t type, int wait)
{
	size_t n = strlen(name);

	/* A final dot (7.3: ignored for domains) is not asked for. */
	n -= n > 1 && name[n - 1] == '.';
	(void)fmt(e->qname, sizeof e->qname, "%.*s", (int)n, name);
	e->qtype = type;
	e->state = wait;
	return 1;
}

static uint16_t
addr_type(const struct spf_eval *e)
{
	return e->alen == 4 ? DNS_T_A : DNS_T_AAAA;
}

/*
 * 7.3: a domain-spec with its macros replaced. -1 (a permerror) for
 * c, r or t outside exp=, or a zero DIGIT transformer. A result
 * longer than 253 octets loses labels on the left until it fits.
 */
static int
expand(struct spf_eval *e, const char *s, size_t len, char *out,
    size_t cap)
{
	char big[2 * SPF_DOMAIN_MAX];
	size_t n = 0, i = 0, skip = 0;

	while (i < len) {
		const char *end;
		unsigned digits = 0;
		int rev = 0, upper;
		char letter;
		size_t d0;

		if (s[i] != '%') {
			if (put(big, sizeof big, &n, s + i, 1) == -1) {
				goto toolong;
			}
			i++;
			continue;
		}
		if (i + 1 >= len) {
			goto bad;
		}
		if (s[i + 1] != '{') {
			const char *lit = s[i + 1] == '%' ? "%" :
			    s[i + 1] == '_' ? " " : s[i + 1] == '-' ? "%20" :
			    NULL;

			if (lit == NULL) {
				goto bad;
			}
			if (put(big, sizeof big, &n, lit, strlen(lit)) == -1) {
				goto toolong;
			}
			i += 2;
			continue;
		}
		end = memchr(s + i, '}', len - i);
		if (end == NULL || (size_t)(end - s) < i + 3) {
			goto bad;
		}
		letter = s[i + 2];
		upper = letter >= 'A' && letter <= 'Z';
		d0 = i + 3;
		while (d0 < (size_t)(end - s) && s[d0] >= '0' &&
		    s[d0] <= '9') {
			if (digits > 1000) {
				goto bad;
			}
			digits = digits * 10 + (unsigned)(s[d0++] - '0');
		}
		if (d0 > i + 3 && digits == 0) {
			goto bad;	/* 7.1: the DIGIT is nonzero */
		}
		if (d0 < (size_t)(end - s) && lower(s[d0]) == 'r') {
			rev = 1;
			d0++;
		}
		if (macro(e, lower(letter), digits, rev, s + d0,
		    (size_t)(end - s) - d0, upper, big, sizeof big,
		    &n) == -1) {
			goto bad;
		}
		i = (size_t)(end - s) + 1;
	}
	big[n] = '\0';
	while (n - skip > SPF_DOMAIN_MAX - 1) {
		const char *dot = memchr(big + skip, '.', n - skip);

		if (dot == NULL) {
			goto toolong;
		}
		skip = (size_t)(dot - big) + 1;
	}
	(void)fmt(out, cap, "%s", big + skip);
	return 0;
bad:
	finish(e, SPF_R_PERMERROR, "bad macro");
	return -1;
toolong:
	(void)fmt(out, cap, "-");	/* no domain: does not exist */
	return 0;
}

/* One %{...}: the value split on the delimiters (default "."),
 * reversed with r, the rightmost `digits` parts kept, joined by
 * dots; URL-escaped for an upper-case letter (7.3). */
static int
macro(struct spf_eval *e, char letter, unsigned digits, int rev,
    const char *delims, size_t dlen, int upper, char *out, size_t cap,
    size_t *n)
{
	char val[2 * SPF_DOMAIN_MAX];
	uint16_t ps[SPF_PARTS_MAX], pl[SPF_PARTS_MAX];
	size_t vlen, np = 0, first = 0, start = 0;

	for (size_t k = 0; k < dlen; k++) {
		if (strchr(".-+,/_=", delims[k]) == NULL) {
			return -1;
		}
	}
	if (strchr("slodiphv", letter) == NULL) {
		return -1;	/* c, r, t: only in exp= (7.2) */
	}
	vlen = letter_value(e, letter, val, sizeof val);
	for (size_t k = 0; k <= vlen; k++) {
		int cut = k == vlen || (dlen == 0 ? val[k] == '.' :
		    memchr(delims, val[k], dlen) != NULL);

		if (!cut) {
			continue;
		}
		if (np == SPF_PARTS_MAX) {
			return -1;
		}
		ps[np] = (uint16_t)start;
		pl[np++] = (uint16_t)(k - start);
		start = k + 1;
	}
	if (digits > 0 && digits < np) {
		first = np - digits;
	}
	for (size_t k = first; k < np; k++) {
		size_t idx = rev ? np - 1 - k : k;	/* reversed first */

		if (k > first && put(out, cap, n, ".", 1) == -1) {
			return 0;
		}
		for (size_t c = 0; c < pl[idx]; c++) {
			char ch = val[ps[idx] + c], esc[4];
			int plain = !upper || (ch >= 'a' && ch <= 'z') ||
			    (ch >= 'A' && ch <= 'Z') || (ch >= '0' &&
			    ch <= '9') || strchr("-._~", ch) != NULL;

			if (plain) {
				if (put(out, cap, n, &ch, 1) == -1) {
					return 0;
				}
				continue;
			}
			(void)fmt(esc, sizeof esc, "%%%02X",
			    (unsigned)(unsigned char)ch);
			if (put(out, cap, n, esc, 3) == -1) {
				return 0;
			}
		}
	}
	return 0;
}

static size_t
letter_value(struct spf_eval *e, char letter, char *v, size_t cap)
{
	int n = 0;

	switch (letter) {
	case 's':
		n = fmt(v, cap, "%s@%s", e->local, e->sdomain);
		break;
	case 'l':
		n = fmt(v, cap, "%s", e->local);
		break;
	case 'o':
		n = fmt(v, cap, "%s", e->sdomain);
		break;
	case 'd':
		n = fmt(v, cap, "%s", e->f[e->depth - 1].domain);
		break;
	case 'h':
		n = fmt(v, cap, "%s", e->helo);
		break;
	case 'v':
		n = fmt(v, cap, "%s", e->alen == 4 ? "in-addr" : "ip6");
		break;
	case 'p':
		n = fmt(v, cap, "unknown");	/* 7.3: not looked up */
		break;
	default:		/* 'i' */
		if (e->alen == 4) {
			n = fmt(v, cap, "%u.%u.%u.%u", e->ip[0], e->ip[1],
			    e->ip[2], e->ip[3]);
			break;
		}
		for (size_t k = 0; k < 32; k++) {
			unsigned nib = (e->ip[k / 2] >> (k % 2 ? 0 : 4)) & 15;

			n += fmt(v + n, cap - (size_t)n, k ? ".%x" : "%x",
			    nib);
		}
		break;
	}
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Appends s[0..len) to out (cap includes the NUL); -1 when full. */
static int
put(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
	if (*n + len >= cap) {
		return -1;
	}
	memcpy(out + *n, s, len);
	*n += len;
	return 0;
}

/* A name a query can be made of: labels of 1 to 63 octets, 253 in
 * all, a trailing dot allowed; multi: at least two labels (4.3). */
static int
domain_ok(const char *d, int multi)
{
	size_t len = strlen(d), lab = 0, labels = 0;

	if (len > 0 && d[len - 1] == '.') {
		len--;
	}
	if (len == 0 || len > SPF_DOMAIN_MAX - 1) {
		return 0;
	}
	for (size_t i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (lab == 0 || lab > 63) {
				return 0;
			}
			labels++;
			lab = 0;
		} else if ((unsigned char)d[i] < ' ' ||
		    (unsigned char)d[i] >= 0x7f) {
			return 0;
		} else {
			lab++;
		}
	}
	return !multi || labels >= 2;
}

/* 1 when a domain-spec holds %{c}, %{r} or %{t}, which only an
 * explanation's text may (7.2). */
static int
crt_macro(const char *s, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++) {
		if (s[i] == '%' && s[i + 1] == '%') {
			i++;
		} else if (s[i] == '%' && s[i + 1] == '{' &&
		    strchr("crt", lower(s[i + 2])) != NULL) {
			return 1;
		}
	}
	return 0;
}

/* 1 when name is dom or a name under it, ignoring case and a final
 * dot on either. */
static int
name_under(const char *name, const char *dom)
{
	size_t n = strlen(name), d = strlen(dom);

	n -= n > 0 && name[n - 1] == '.';
	d -= d > 0 && dom[d - 1] == '.';
	if (d == 0 || n < d || (n > d && name[n - d - 1] != '.')) {
		return 0;
	}
	for (size_t i = 0; i < d; i++) {
		if (lower(name[n - d + i]) != lower(dom[i])) {
			return 0;
		}
	}
	return 1;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}
