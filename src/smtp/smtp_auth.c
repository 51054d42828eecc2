/* SPDX-License-Identifier: ISC */
/*
 * smtp_auth.c - the checks of mail from the world (port 25, not from
 * mynetworks, not authenticated): DKIM verification (RFC 6376 6),
 * DMARC (RFC 7489 6.6) and the Authentication-Results field (RFC
 * 8601) that reports them, all on the event loop.
 *
 * While the message streams to its file (smtp_deliver.c), the header
 * section is only watched for its end. There the header is read back
 * from the file into one buffer shared by every session (one pread of
 * at most SMTP_AUTH_HEAD_MAX octets; a larger header is refused), its
 * DKIM-Signature fields are parsed (msg/dkim_hdr.h; the first
 * SMTP_AUTH_SIGS are checked, later ones ignored), the From domain is
 * taken, and Authentication-Results fields that claim our host name
 * are noted to be left out of every copy. From then on each body hash
 * is computed as the body passes (RFC 6376 3.4.3, 3.4.4, l=).
 *
 * At the end of DATA the body hashes are compared and, for each
 * signature still in the running, the key is asked from DNS
 * (selector._domainkey.domain TXT), together with the DMARC record
 * (_dmarc.<From domain>, then the organisational domain's). The reply
 * to DATA waits; the session is in COMMIT and other clients are
 * served. When a key arrives, the header is read again and its hash
 * made and checked against the signature (rsa-sha256, BearSSL's
 * PKCS#1 v1.5; keys of 1024 to 4096 bits, RFC 8301). Then DMARC is
 * applied and the verdict is handed back (smtp_checked).
 *
 * rsa-sha1 is a permerror (RFC 8301 3.1: verifiers must not accept
 * it); ed25519-sha256 (RFC 8463) is neutral: wren has no Ed25519.
 * Neither is ever a failure of the message.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/der.h"
#include "core/fmt.h"
#include "core/log.h"
#include "dns/dns.h"
#include "map/map.h"
#include "msg/base64.h"
#include "msg/dkim_hdr.h"
#include "msg/dmarc.h"
#include "smtp/smtp_int.h"

#if WREN_INBOUND_AUTH

/* The header section read back; a longer one is refused (Postfix's
 * header_size_limit is 100 KiB). */
#define SMTP_AUTH_HEAD_MAX	(64 * 1024)
/* Header fields indexed in it. */
#define SMTP_AUTH_FIELDS	1024
/* A DKIM-Signature field: the 4096-bit signature, long d= and h=. */
#define SMTP_AUTH_FIELD_MAX	4096
/* A signature's clock may run ahead of ours this much (t=). */
#define SMTP_AUTH_SKEW		300
/* p= of a 4096-bit key in DER, and b= of its signature. */
#define SMTP_AUTH_KEY_MAX	600
#define SMTP_AUTH_SIG_MAX	(DKIM_KEY_BITS_MAX / 8)

static const char *const res_name[] = {
	"none", "pass", "fail", "softfail", "neutral", "temperror",
	"permerror", "policy"
};

struct field {
	uint32_t	off, len;	/* in head, the line end included */
	uint16_t	nlen;		/* its name */
	uint8_t		used;		/* taken for h= (5.4.2) */
};

static char head[SMTP_AUTH_HEAD_MAX];
static struct field fields[SMTP_AUTH_FIELDS];
static size_t nfields;
static char fbuf[SMTP_AUTH_FIELD_MAX];

static int	head_read(struct smtp_session *);
static int	head_index(size_t);
static int	name_is(const struct field *, const char *);
static const char	*value_of(const struct field *, size_t *);
static void	head_scan(struct smtp_session *);
static void	sig_setup(struct smtp_session *, const struct field *);
static void	from_domain(struct smtp_session *, const struct field *);
static int	ar_forged(const struct field *);
static void	body_feed(struct smtp_auth_sig *, const char *, size_t);
static void	body_end(struct smtp_auth_sig *);
static void	hash_sink(void *, const void *, size_t);
static void	simple_sink(br_sha256_context *, const char *, size_t);
static long	b64(const char *, size_t, unsigned char *, size_t);
static void	key_answer(void *, int, const struct dns_answer *);
static void	verify(struct smtp_session *, struct smtp_auth_sig *,
		    const char *, size_t);
static int	header_hash(struct smtp_auth_sig *, const struct dkim_hdr *,
		    const char *, size_t, unsigned char *);
static void	dmarc_query(struct smtp_session *, const char *);
static void	dmarc_answer(void *, int, const struct dns_answer *);
static void	dmarc_apply(struct smtp_session *);
static int	aligned(const char *, const char *, int);
static void	org_domain(const char *, char *, size_t);
static size_t	psl_suffix(const char *, size_t);
static int	psl_has(const char *, const char *, size_t);
static void	settle(struct smtp_session *, int);
static void	ar_build(struct smtp_session *);

void
smtp_auth_begin(struct smtp_session *s)
{
	struct smtp_auth *a = &s->auth;
	uint8_t spf = a->spf;

	smtp_auth_cancel(s);
	memset(a, 0, sizeof *a);
	a->spf = spf;
	a->on = s->mode == SMTP_MODE_MX && !s->mynet && s->login[0] == '\0' &&
	    cfg_num(smtp.cfg, CFG_INBOUND_AUTH) != 0;
	a->in_head = 1;
	a->bol = 1;
}

void
smtp_auth_feed(struct smtp_session *s, const char *p, size_t n)
{
	struct smtp_auth *a = &s->auth;
	size_t i = 0;

	if (!a->on || a->bad) {
		return;
	}
	if (a->in_head) {
		for (; i < n; i++) {
			if (a->bol && p[i] == '\n') {
				break;
			}
			a->bol = p[i] == '\n';
		}
		a->off += i;
		if (i == n) {
			return;
		}
		/* p[i] is the empty line: the header is a->off octets. */
		a->head_len = a->off;
		a->in_head = 0;
		head_scan(s);
		i++;
		a->off++;
	}
	for (size_t k = 0; k < a->nsigs; k++) {
		if (a->sig[k].res == SMTP_AR_NONE) {
			body_feed(&a->sig[k], p + i, n - i);
		}
	}
	a->off += n - i;
}

void
smtp_auth_end(struct smtp_session *s)
{
	struct smtp_auth *a = &s->auth;
	char name[DNS_NAME_MAX];

	if (!a->on) {
		smtp_checked(s, 0);
		return;
	}
	if (s->v.spf_checked) {
		/* The SPF check's result for MAIL FROM (smtp_screen.c),
		 * enum spf_result in dns/spf.h's order. */
		static const uint8_t from_spf[] = { SMTP_AR_NONE,
		    SMTP_AR_NEUTRAL, SMTP_AR_PASS, SMTP_AR_FAIL,
		    SMTP_AR_SOFTFAIL, SMTP_AR_TEMPERROR, SMTP_AR_PERMERROR };

		if ((unsigned)s->v.spf_mailfrom < sizeof from_spf) {
			a->spf = from_spf[s->v.spf_mailfrom];
		}
	}
	if (a->in_head && !a->bad) {
		a->head_len = a->off;	/* a header without a body */
		a->in_head = 0;
		head_scan(s);
	}
	for (size_t k = 0; k < a->nsigs && !a->bad; k++) {
		struct smtp_auth_sig *g = &a->sig[k];

		if (g->res != SMTP_AR_NONE) {
			continue;
		}
		body_end(g);
		if (g->res != SMTP_AR_NONE) {
			continue;
		}
		if (fmt(name, sizeof name, "%s._domainkey.%s", g->s, g->d) >=
		    (int)sizeof name) {
			g->res = SMTP_AR_PERMERROR;
			g->why = "key name too long";
			continue;
		}
		g->sess = s;
		g->q = dns_query(name, DNS_T_TXT, key_answer, g);
		if (g->q == NULL) {
			g->res = SMTP_AR_TEMPERROR;
			g->why = "resolver busy";
			continue;
		}
		a->pending++;
	}
	if (!a->bad && a->from[0] != '\0') {
		dmarc_query(s, a->from);
	}
	if (a->pending == 0) {
		settle(s, 0);
	}
}

void
smtp_auth_cancel(struct smtp_session *s)
{
	struct smtp_auth *a = &s->auth;

	for (size_t k = 0; k < a->nsigs; k++) {
		if (a->sig[k].q != NULL) {
			dns_cancel(a->sig[k].q);
			a->sig[k].q = NULL;
		}
	}
	if (a->dq != NULL) {
		dns_cancel(a->dq);
		a->dq = NULL;
	}
	a->pending = 0;
}

int
smtp_auth_ours(const char *id, size_t n)
{
	size_t h = strlen(smtp.hostname);

	return n == h && dkim_domain_in(id, n, smtp.hostname, h, 0);
}

/* The header section, from the primary file, into head; indexed. */
static int
head_read(struct smtp_session *s)
{
	size_t n = (size_t)s->auth.head_len, got = 0;

	if (n > sizeof head) {
		return -1;
	}
	while (got < n) {
		ssize_t r = pread(s->fd, head + got, n - got,
		    (off_t)(s->prefix_len + got));

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			return -1;
		}
		got += (size_t)r;
	}
	return head_index(n);
}

/* Splits head[0..n) into fields (a line starting with white space
 * continues the one before); lines without a colon are skipped. -1
 * when there are more than SMTP_AUTH_FIELDS: the message is refused,
 * or a forged field could hide past the index. */
static int
head_index(size_t n)
{
	size_t i = 0;

	nfields = 0;
	while (i < n && nfields < SMTP_AUTH_FIELDS) {
		size_t start = i, colon = 0;

		do {
			const char *lf = memchr(head + i, '\n', n - i);

			i = lf != NULL ? (size_t)(lf - head) + 1 : n;
		} while (i < n && (head[i] == ' ' || head[i] == '\t'));
		for (size_t k = start; k < i && head[k] != '\n'; k++) {
			if (head[k] == ':') {
				colon = k;
				break;
			}
		}
		if (colon > start) {
			struct field *f = &fields[nfields++];

			f->off = (uint32_t)start;
			f->len = (uint32_t)(i - start);
			f->nlen = (uint16_t)(colon - start);
			while (f->nlen > 0 && (head[start + f->nlen - 1] ==
			    ' ' || head[start + f->nlen - 1] == '\t')) {
				f->nlen--;
			}
			f->used = 0;
		}
	}
	return i < n ? -1 : 0;
}

/* The field's value: after its colon, up to its end (LF included). */
static const char *
value_of(const struct field *f, size_t *len)
{
	const char *colon = memchr(head + f->off, ':', f->len);

	*len = f->len - (size_t)(colon + 1 - (head + f->off));
	return colon + 1;
}

static int
name_is(const struct field *f, const char *name)
{
	size_t n = strlen(name);

	return f->nlen == n && dkim_domain_in(head + f->off, n, name, n, 0);
}

/* The end of the header: signatures, From, forged results. */
static void
head_scan(struct smtp_session *s)
{
	struct smtp_auth *a = &s->auth;
	int froms = 0;

	if (head_read(s) == -1) {
		a->bad = 1;
		return;
	}
	for (size_t k = 0; k < nfields; k++) {
		const struct field *f = &fields[k];

		if (name_is(f, "DKIM-Signature")) {
			if (a->nsigs < SMTP_AUTH_SIGS) {
				sig_setup(s, f);
			}
		} else if (name_is(f, "From")) {
			if (froms++ == 0) {
				from_domain(s, f);
			} else {
				a->from[0] = '\0';	/* RFC 7489 6.6.1 */
			}
		} else if (name_is(f, "Authentication-Results") &&
		    ar_forged(f)) {
			if (a->ncuts == SMTP_AUTH_CUTS) {
				a->bad = 1;
				return;
			}
			a->cut_off[a->ncuts] = f->off;
			a->cut_len[a->ncuts++] = f->len;
			a->cut_bytes += f->len;
			for (size_t i = 0; i < f->len; i++) {
				a->cut_lines += head[f->off + i] == '\n';
			}
		}
	}
}

/* One DKIM-Signature: parsed, checked, its body hash started. */
static void
sig_setup(struct smtp_session *s, const struct field *f)
{
	struct smtp_auth_sig *g = &s->auth.sig[s->auth.nsigs++];
	size_t vl;
	const char *v = value_of(f, &vl);
	struct dkim_hdr h;
	enum dkim_err e;
	int64_t now = (int64_t)time(NULL);

	memset(g, 0, sizeof *g);
	g->off = f->off;
	g->len = f->len;
	e = dkim_hdr_parse(&h, v, vl);
	if (h.d != NULL && h.dlen < sizeof g->d) {
		memcpy(g->d, h.d, h.dlen);
	}
	if (h.s != NULL && h.slen < sizeof g->s) {
		memcpy(g->s, h.s, h.slen);
	}
	for (size_t i = 0, k = 0; h.b != NULL && i < h.blen && k < 8; i++) {
		if (h.b[i] != ' ' && h.b[i] != '\t' && h.b[i] != '\r' &&
		    h.b[i] != '\n') {
			g->b8[k++] = h.b[i];
		}
	}
	if (e != DKIM_E_OK) {
		g->res = SMTP_AR_PERMERROR;
		g->why = dkim_strerror(e);
		return;
	}
	if (h.alg == DKIM_A_ED25519_SHA256) {
		g->res = SMTP_AR_NEUTRAL;
		g->why = "ed25519-sha256 not supported";
		return;
	}
	if (h.alg == DKIM_A_RSA_SHA1) {
		g->res = SMTP_AR_PERMERROR;
		g->why = "rsa-sha1 not accepted (RFC 8301)";
		return;
	}
	if (h.x >= 0 && h.x < now) {
		g->res = SMTP_AR_PERMERROR;
		g->why = "signature expired";
		return;
	}
	if (h.t > now + SMTP_AUTH_SKEW) {
		g->res = SMTP_AR_PERMERROR;
		g->why = "signature in the future";
		return;
	}
	if (b64(h.bh, h.bhlen, g->bh, sizeof g->bh) != (long)sizeof g->bh) {
		g->res = SMTP_AR_PERMERROR;
		g->why = "bad bh=";
		return;
	}
	g->l = h.l;
	g->brelaxed = (uint8_t)h.brelaxed;
	br_sha256_init(&g->ctx);
	dkim_body_init(&g->body, 0, hash_sink, g);
}

/* The domain of the one address of From (RFC 7489 3.1), lower case;
 * "" when there is none or more than one. */
static void
from_domain(struct smtp_session *s, const struct field *f)
{
	size_t vl, n = 0;
	const char *v = value_of(f, &vl), *end = v + vl, *lt, *at = NULL, *p;
	char *out = s->auth.from;

	out[0] = '\0';
	lt = memchr(v, '<', (size_t)(end - v));
	if (memchr(v, ',', (size_t)(end - v)) != NULL && lt == NULL) {
		return;
	}
	for (p = lt != NULL ? lt : v; p < end && *p != '>'; p++) {
		if (*p == '@') {
			at = p;
		}
	}
	if (at == NULL) {
		return;
	}
	for (p = at + 1; p < end && *p != '>' && *p != ' ' && *p != '\t' &&
	    *p != '\n' && *p != ';' && *p != ','; p++) {
		if (n + 1 >= sizeof s->auth.from) {
			out[0] = '\0';
			return;
		}
		out[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p | 0x20 : *p);
	}
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '.') {
		out[n - 1] = '\0';
	}
}

/* 1 when an Authentication-Results field names us as its authserv-id
 * (RFC 8601 5: such fields from outside are forgeries). */
static int
ar_forged(const struct field *f)
{
	size_t vl;
	const char *v = value_of(f, &vl), *end = v + vl, *id;

	while (v < end && (*v == ' ' || *v == '\t' || *v == '\n')) {
		v++;
	}
	for (id = v; v < end && *v != ';' && *v != ' ' && *v != '\t' &&
	    *v != '\n' && *v != '('; v++) {
	}
	return smtp_auth_ours(id, (size_t)(v - id));
}

/* Body octets (stored with LF line ends) into a signature's hash. */
static void
body_feed(struct smtp_auth_sig *g, const char *p, size_t n)
{
	if (g->brelaxed) {
		dkim_body_feed(&g->body, p, n);
		return;
	}
	/* simple (3.4.3): lines end in CR LF; empty lines at the end
	 * are not part of it, so they are held back until a line with
	 * text comes. */
	while (n > 0) {
		const char *lf = memchr(p, '\n', n);
		size_t run = lf != NULL ? (size_t)(lf - p) : n;

		if (run > 0) {
			for (; g->empty > 0; g->empty--) {
				hash_sink(g, "\r\n", 2);
			}
			hash_sink(g, p, run);
			g->inline_ = 1;
			g->any = 1;
		}
		if (lf == NULL) {
			return;
		}
		if (g->inline_) {
			hash_sink(g, "\r\n", 2);
			g->inline_ = 0;
		} else {
			g->empty++;
		}
		p += run + 1;
		n -= run + 1;
	}
}

/* The body is complete: its hash against bh=. */
static void
body_end(struct smtp_auth_sig *g)
{
	unsigned char got[32];

	if (g->brelaxed) {
		dkim_body_end(&g->body);
	} else if (g->inline_) {
		hash_sink(g, "\r\n", 2);
	} else if (!g->any) {
		hash_sink(g, "\r\n", 2);	/* an empty body is CR LF */
	}
	if (g->l >= 0 && g->hashed < (uint64_t)g->l) {
		g->res = SMTP_AR_FAIL;
		g->why = "body shorter than l=";
		return;
	}
	br_sha256_out(&g->ctx, got);
	if (memcmp(got, g->bh, sizeof got) != 0) {
		g->res = SMTP_AR_FAIL;
		g->why = "body hash did not verify";
		return;
	}
	g->bh_ok = 1;
}

/* Canonical body octets, up to l=. */
static void
hash_sink(void *arg, const void *p, size_t n)
{
	struct smtp_auth_sig *g = arg;

	if (g->l >= 0 && g->hashed + n > (uint64_t)g->l) {
		n = (size_t)((uint64_t)g->l - g->hashed);
	}
	br_sha256_update(&g->ctx, p, n);
	g->hashed += n;
}

/* "simple" header canonicalisation (3.4.1): as is, CR LF line ends. */
static void
simple_sink(br_sha256_context *c, const char *p, size_t n)
{
	while (n > 0) {
		const char *lf = memchr(p, '\n', n);
		size_t run = lf != NULL ? (size_t)(lf - p) : n;

		br_sha256_update(c, p, run);
		if (lf == NULL) {
			return;
		}
		br_sha256_update(c, "\r\n", 2);
		p += run + 1;
		n -= run + 1;
	}
}

static void
relaxed_sink(void *arg, const void *p, size_t n)
{
	br_sha256_update(arg, p, n);
}

/* Base64 with folding white space in it (b=, bh=, p=). */
static long
b64(const char *p, size_t n, unsigned char *out, size_t cap)
{
	static char q[2 * SMTP_AUTH_KEY_MAX];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
		    p[i] == '\n') {
			continue;
		}
		if (k == sizeof q) {
			return -1;
		}
		q[k++] = p[i];
	}
	return base64_decode(q, k, out, cap);
}

/* A key record arrived (or not) for signature g. */
static void
key_answer(void *arg, int status, const struct dns_answer *ans)
{
	struct smtp_auth_sig *g = arg;
	struct smtp_session *s = g->sess;
	const char *txt = NULL;
	size_t tlen = 0;

	g->q = NULL;
	s->auth.pending--;
	if (status == DNS_OK) {
		for (size_t k = 0; k < ans->n; k++) {
			if (ans->rr[k].type == DNS_T_TXT) {
				txt = dns_record_text(ans, &ans->rr[k]);
				tlen = ans->rr[k].len;
				break;
			}
		}
	}
	if (status == DNS_TEMPFAIL) {
		g->res = SMTP_AR_TEMPERROR;
		g->why = "key lookup failed";
	} else if (txt == NULL) {
		g->res = SMTP_AR_PERMERROR;
		g->why = "no key";
	} else {
		verify(s, g, txt, tlen);
	}
	if (s->auth.pending == 0) {
		settle(s, 1);
	}
}

/* The header hash of g against its signature, with the key in txt. */
static void
verify(struct smtp_session *s, struct smtp_auth_sig *g, const char *txt,
    size_t tlen)
{
	static unsigned char der[SMTP_AUTH_KEY_MAX], sig[SMTP_AUTH_SIG_MAX];
	unsigned char hash[32], signed_hash[32];
	br_rsa_public_key pk;
	const unsigned char *n, *ev;
	struct dkim_hdr h;
	const char *key;
	size_t keylen;
	enum dkim_err e;
	long dl, bl;
	const char *v;
	size_t vl;

	g->res = SMTP_AR_PERMERROR;
	if ((e = dkim_keyrec_parse(txt, tlen, &key, &keylen)) != DKIM_E_OK) {
		g->why = dkim_strerror(e);
		return;
	}
	dl = b64(key, keylen, der, sizeof der);
	if (dl <= 0 || der_rsa_pub(der, (size_t)dl, &n, &pk.nlen, &ev,
	    &pk.elen) == -1) {
		g->why = "key is not an RSA key";
		return;
	}
	/* BearSSL's key type is not const; it only reads them. */
	pk.n = (unsigned char *)(uintptr_t)n;
	pk.e = (unsigned char *)(uintptr_t)ev;
	if (pk.nlen < DKIM_KEY_BITS_MIN / 8 ||
	    pk.nlen > DKIM_KEY_BITS_MAX / 8) {
		g->why = "key size not accepted (RFC 8301)";
		return;
	}
	if (head_read(s) == -1 || g->len > sizeof fbuf) {
		g->res = SMTP_AR_TEMPERROR;
		g->why = "header not readable";
		return;
	}
	v = head + g->off;
	vl = g->len;
	{
		const char *colon = memchr(v, ':', vl);

		(void)dkim_hdr_parse(&h, colon + 1,
		    vl - (size_t)(colon + 1 - v));
		h.b_off += (size_t)(colon + 1 - v);
	}
	bl = b64(h.b, h.blen, sig, sizeof sig);
	if (bl <= 0) {
		g->why = "bad b=";
		return;
	}
	if (header_hash(g, &h, v, vl, hash) == -1) {
		g->why = "signature field too long";
		return;
	}
	if ((size_t)bl != pk.nlen || !br_rsa_pkcs1_vrfy_get_default()(sig,
	    (size_t)bl, BR_HASH_OID_SHA256, sizeof signed_hash, &pk,
	    signed_hash) || memcmp(hash, signed_hash, sizeof hash) != 0) {
		g->res = SMTP_AR_FAIL;
		g->why = "signature did not verify";
		return;
	}
	g->res = SMTP_AR_PASS;
	g->why = NULL;
}

/* RFC 6376 3.7 and 5.4.2: the fields h= names, each the last one not
 * yet taken, then the signature field with b= empty, no line end. */
static int
header_hash(struct smtp_auth_sig *g, const struct dkim_hdr *h,
    const char *f, size_t flen, unsigned char *out)
{
	br_sha256_context c;
	size_t i = 0, n;
	int relaxed = 0;

	{
		/* h.hrelaxed is of the parse in verify. */
		relaxed = h->hrelaxed;
	}
	br_sha256_init(&c);
	while (i <= h->hlen) {
		size_t a = i, b;

		while (i < h->hlen && h->h[i] != ':') {
			i++;
		}
		b = i++;
		while (a < b && (h->h[a] == ' ' || h->h[a] == '\t' ||
		    h->h[a] == '\r' || h->h[a] == '\n')) {
			a++;
		}
		while (b > a && (h->h[b - 1] == ' ' || h->h[b - 1] == '\t' ||
		    h->h[b - 1] == '\r' || h->h[b - 1] == '\n')) {
			b--;
		}
		for (size_t k = nfields; b > a && k-- > 0;) {
			struct field *x = &fields[k];

			if (x->used || x->nlen != b - a ||
			    !dkim_domain_in(head + x->off, b - a, h->h + a,
			    b - a, 0)) {
				continue;
			}
			x->used = 1;
			if (relaxed) {
				dkim_canon_field(head + x->off, x->len, 1,
				    relaxed_sink, &c);
			} else {
				simple_sink(&c, head + x->off, x->len);
			}
			break;
		}
	}
	/* The signature field, b='s value taken out. */
	if (flen > sizeof fbuf) {
		return -1;
	}
	n = h->b_off;
	memcpy(fbuf, f, n);
	memcpy(fbuf + n, f + h->b_off + h->blen, flen - h->b_off - h->blen);
	n += flen - h->b_off - h->blen;
	if (n > 0 && fbuf[n - 1] == '\n') {
		n--;
	}
	if (relaxed) {
		dkim_canon_field(fbuf, n, 0, relaxed_sink, &c);
	} else {
		simple_sink(&c, fbuf, n);
	}
	br_sha256_out(&c, out);
	(void)g;
	return 0;
}

/* _dmarc.<domain> TXT (RFC 7489 6.6.3). */
static void
dmarc_query(struct smtp_session *s, const char *domain)
{
	char name[DNS_NAME_MAX];

	if (fmt(name, sizeof name, "_dmarc.%s", domain) >= (int)sizeof name) {
		s->auth.dmarc = SMTP_AR_PERMERROR;
		return;
	}
	s->auth.dq = dns_query(name, DNS_T_TXT, dmarc_answer, s);
	if (s->auth.dq == NULL) {
		s->auth.dmarc = SMTP_AR_TEMPERROR;
		s->auth.dmarc_why = "resolver busy";
		return;
	}
	s->auth.pending++;
}

static void
dmarc_answer(void *arg, int status, const struct dns_answer *ans)
{
	struct smtp_session *s = arg;
	struct smtp_auth *a = &s->auth;
	struct dmarc_rec r;
	int found = 0, many = 0;

	a->dq = NULL;
	a->pending--;
	for (size_t k = 0; status == DNS_OK && k < ans->n; k++) {
		const char *t = dns_record_text(ans, &ans->rr[k]);

		if (ans->rr[k].type != DNS_T_TXT ||
		    dmarc_parse(&r, t, ans->rr[k].len) != DMARC_E_OK) {
			continue;
		}
		many += found;
		found = 1;
		if (!many) {
			a->policy = (uint8_t)(a->dmarc_step == 1 &&
			    r.sp != DMARC_P_UNSET ? r.sp : r.p);
			a->dmarc_step |= (r.adkim_strict ? 4 : 0) |
			    (r.aspf_strict ? 8 : 0);
			a->dmarc_step |= r.pct < 100 && (unsigned)(
			    ev_now(smtp.ev) % 100) >= r.pct ? 16 : 0;
		}
	}
	if (status == DNS_TEMPFAIL) {
		a->dmarc = SMTP_AR_TEMPERROR;
		a->dmarc_why = "record lookup failed";
	} else if (found && many) {
		a->dmarc = SMTP_AR_PERMERROR;	/* 6.6.3: then none */
		a->dmarc_why = "more than one record";
		a->policy = DMARC_P_NONE;
	} else if (found) {
		a->dmarc = SMTP_AR_POLICY;	/* evaluated in settle */
	} else if ((a->dmarc_step & 3) == 0) {
		org_domain(a->from, a->org, sizeof a->org);
		a->dmarc_step = 1;
		if (strcmp(a->org, a->from) != 0) {
			dmarc_query(s, a->org);
		}
	}
	if (a->pending == 0) {
		settle(s, 1);
	}
}

/* RFC 7489 3.1: identifier alignment of d (a DKIM d= or the SPF
 * domain) with the From domain, strict or relaxed. */
static int
aligned(const char *from, const char *d, int strict)
{
	char a[DKIM_DOMAIN_MAX + 1], b[DKIM_DOMAIN_MAX + 1];
	size_t fl = strlen(from), dl = strlen(d);

	if (dkim_domain_in(from, fl, d, dl, 0)) {
		return 1;
	}
	if (strict) {
		return 0;
	}
	org_domain(from, a, sizeof a);
	org_domain(d, b, sizeof b);
	return strcmp(a, b) == 0 && a[0] != '\0';
}

/* The organisational domain (RFC 7489 3.2) from the Public Suffix
 * List map; without it, the last two labels. */
static void
org_domain(const char *d, char *out, size_t cap)
{
	size_t n = strlen(d), keep;
	const char *p;

	if (n >= cap) {
		out[0] = '\0';
		return;
	}
	keep = psl_suffix(d, n);
	if (keep == 0) {
		/* no map: assume a one-label public suffix */
		p = d + n;
		for (int dots = 0; p > d; p--) {
			if (p[-1] == '.' && ++dots == 2) {
				break;
			}
		}
		(void)fmt(out, cap, "%s", p);
		return;
	}
	/* keep: octets of the public suffix; one label more */
	if (keep >= n) {
		(void)fmt(out, cap, "%s", d);
		return;
	}
	p = d + n - keep - 1;	/* the dot before the suffix */
	while (p > d && p[-1] != '.') {
		p--;
	}
	(void)fmt(out, cap, "%s", p);
}

/* Octets of d's public suffix by the list's rules (the longest
 * match; an exception rule "!x" makes x's parent the suffix; no rule:
 * the last label), or 0 without a usable table. */
static size_t
psl_suffix(const char *d, size_t n)
{
	struct map *m = &smtp.maps->m[MAP_PSL];
	const char *p = d;

	if (m->state != MAP_ST_OK) {
		return 0;
	}
	for (;;) {
		size_t cl = n - (size_t)(p - d);
		const char *dot = memchr(p, '.', cl);

		if (psl_has("!", p, cl)) {
			return dot != NULL ? cl - (size_t)(dot + 1 - p) : 0;
		}
		if (psl_has("", p, cl) || (dot != NULL && psl_has("*.",
		    dot + 1, cl - (size_t)(dot + 1 - p)))) {
			return cl;
		}
		if (dot == NULL) {
			return cl;	/* the default rule "*" */
		}
		p = dot + 1;
	}
}

static int
psl_has(const char *pre, const char *p, size_t n)
{
	char key[DKIM_DOMAIN_MAX + 3];
	const char *v;
	size_t vl, pl = strlen(pre);

	if (pl + n > sizeof key) {
		return 0;
	}
	memcpy(key, pre, pl);
	memcpy(key + pl, p, n);
	return map_lookup(&smtp.maps->m[MAP_PSL], key, pl + n, &v, &vl) == 1;
}

/* Every answer is in: DMARC, the verdict, the field. */
static void
settle(struct smtp_session *s, int async)
{
	dmarc_apply(s);
	ar_build(s);
	smtp_checked(s, async);
}

static void
dmarc_apply(struct smtp_session *s)
{
	struct smtp_auth *a = &s->auth;
	const char *at = strrchr(s->sender, '@');
	int pass = 0;

	if (a->bad) {
		a->reject = 1;
		return;
	}
	if (a->dmarc != SMTP_AR_POLICY) {
		return;		/* none, or an error: no policy (6.6.3) */
	}
	for (size_t k = 0; k < a->nsigs; k++) {
		if (a->sig[k].res == SMTP_AR_PASS && aligned(a->from,
		    a->sig[k].d, a->dmarc_step & 4)) {
			pass = 1;
		}
	}
	if (a->spf == SMTP_AR_PASS && at != NULL && aligned(a->from, at + 1,
	    a->dmarc_step & 8)) {
		pass = 1;
	}
	if (pass) {
		a->dmarc = SMTP_AR_PASS;
		return;
	}
	a->dmarc = SMTP_AR_FAIL;
	if (a->dmarc_step & 16) {	/* outside pct=: one step down */
		a->policy = a->policy == DMARC_P_REJECT ? DMARC_P_QUARANTINE :
		    DMARC_P_NONE;
	}
	if (a->policy == DMARC_P_REJECT && strcmp(cfg_str(smtp.cfg,
	    CFG_DMARC_REJECT), "quarantine") == 0) {
		a->policy = DMARC_P_QUARANTINE;
	}
	a->reject = a->policy == DMARC_P_REJECT;
	a->junk = a->policy == DMARC_P_QUARANTINE;
}

/*
 * Authentication-Results: <hostname>;
 *	spf=<r> smtp.mailfrom=<domain>;
 *	dkim=<r> (<why>) header.d=<d> header.s=<s> header.b=<b8>;
 *	dmarc=<r> (p=<policy>) header.from=<domain>
 */
static void
ar_build(struct smtp_session *s)
{
	static const char *const pol[] = { "", "none", "quarantine",
	    "reject" };
	struct smtp_auth *a = &s->auth;
	const char *at = strrchr(s->sender, '@');
	char *o = a->ar;
	size_t cap = sizeof a->ar, n;

	n = (size_t)fmt(o, cap, "Authentication-Results: %s;\n\tspf=%s",
	    smtp.hostname, res_name[a->spf]);
	if (at != NULL && n < cap) {
		n += (size_t)fmt(o + n, cap - n, " smtp.mailfrom=%s", at + 1);
	}
	if (a->nsigs == 0 && n < cap) {
		n += (size_t)fmt(o + n, cap - n, ";\n\tdkim=none");
	}
	for (size_t k = 0; k < a->nsigs && n < cap; k++) {
		const struct smtp_auth_sig *g = &a->sig[k];

		n += (size_t)fmt(o + n, cap - n, ";\n\tdkim=%s%s%s%s"
		    "%s%s%s%s%s%s", res_name[g->res],
		    g->why != NULL ? " (" : "", g->why != NULL ? g->why : "",
		    g->why != NULL ? ")" : "", g->d[0] ? " header.d=" : "",
		    g->d, g->s[0] ? " header.s=" : "", g->s,
		    g->b8[0] ? " header.b=" : "", g->b8);
	}
	if (n < cap) {
		n += (size_t)fmt(o + n, cap - n, ";\n\tdmarc=%s",
		    res_name[a->from[0] == '\0' || a->dmarc == SMTP_AR_POLICY ?
		    SMTP_AR_NONE : a->dmarc]);
	}
	if (a->dmarc == SMTP_AR_PASS || a->dmarc == SMTP_AR_FAIL) {
		if (n < cap) {
			n += (size_t)fmt(o + n, cap - n, " (p=%s)",
			    pol[a->policy]);
		}
	}
	if (a->from[0] != '\0' && n < cap) {
		n += (size_t)fmt(o + n, cap - n, " header.from=%s", a->from);
	}
	if (n + 2 > cap) {
		/* cut: still one well-formed field */
		n = (size_t)fmt(o, cap, "Authentication-Results: %s; "
		    "none\n", smtp.hostname);
	} else {
		o[n++] = '\n';
		o[n] = '\0';
	}
	a->arlen = n;
}

#else

void
smtp_auth_begin(struct smtp_session *s)
{
	s->auth.on = 0;
}

void
smtp_auth_feed(struct smtp_session *s, const char *p, size_t n)
{
	(void)s;
	(void)p;
	(void)n;
}

void
smtp_auth_end(struct smtp_session *s)
{
	smtp_checked(s, 0);
}

void
smtp_auth_cancel(struct smtp_session *s)
{
	(void)s;
}

int
smtp_auth_ours(const char *id, size_t n)
{
	(void)id;
	(void)n;
	return 0;
}

#endif
