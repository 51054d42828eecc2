/* SPDX-License-Identifier: ISC */
/*
 * dkim_hdr.c - tag lists (RFC 6376 3.2), the DKIM-Signature field
 * (3.5, with the checks of 6.1.1) and DKIM key records (3.6.1), read
 * without I/O (see dkim_hdr.h).
 */
#include <string.h>

#include "msg/dkim_hdr.h"

#if WREN_INBOUND_AUTH

#define SEL_MAX		63	/* RFC 1035 label, as a selector */
#define DOMAIN_MAX	253
#define DIGITS_MAX	18	/* fits int64_t; RFC 6376 asks 12 */

/* DKIM-Signature tags we read, as bits for duplicate checks. */
enum {
	T_V = 1 << 0, T_A = 1 << 1, T_B = 1 << 2, T_BH = 1 << 3,
	T_C = 1 << 4, T_D = 1 << 5, T_H = 1 << 6, T_I = 1 << 7,
	T_L = 1 << 8, T_Q = 1 << 9, T_S = 1 << 10, T_T = 1 << 11,
	T_X = 1 << 12
};
#define T_REQUIRED	(T_V | T_A | T_B | T_BH | T_D | T_H | T_S)

static const char *const names[] = {
	"v", "a", "b", "bh", "c", "d", "h", "i", "l", "q", "s", "t", "x"
};

static const char *const errs[DKIM_E_NERR] = {
	"ok", "syntax error", "duplicate tag", "bad version",
	"missing required tag", "unknown algorithm",
	"unknown canonicalization", "unknown query method",
	"From not signed", "bad domain", "i= not within d=", "bad number",
	"x= before t=", "bad key version", "unknown key type",
	"key revoked", "key hash not sha256", "key not for email"
};

static int	is_wsp(char);
static int	eq(const char *, size_t, const char *);
static int	list_has(const char *, size_t, const char *);
static int	domain_ok(const char *, size_t, size_t);
static int	number(const char *, size_t, int64_t *);
static int	canon(const char *, size_t, int *, int *);

void
tag_init(struct tag_it *it, const char *p, size_t len)
{
	it->p = p;
	it->len = len;
	it->off = 0;
}

int
tag_next(struct tag_it *it, const char **name, size_t *nlen,
    const char **val, size_t *vlen, size_t *voff)
{
	const char *p = it->p;
	size_t i = it->off, n = it->len, start, end;

	for (;;) {
		while (i < n && is_wsp(p[i])) {
			i++;
		}
		if (i < n && p[i] == ';') {
			i++;		/* an empty spec: tolerated */
			continue;
		}
		break;
	}
	if (i == n) {
		it->off = n;
		return 0;
	}
	start = i;
	if (!((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z')) {
		return -1;
	}
	while (i < n && (((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z') ||
	    (p[i] >= '0' && p[i] <= '9') || p[i] == '_')) {
		i++;
	}
	*name = p + start;
	*nlen = i - start;
	while (i < n && is_wsp(p[i])) {
		i++;
	}
	if (i == n || p[i] != '=') {
		return -1;
	}
	i++;
	while (i < n && is_wsp(p[i])) {
		i++;
	}
	start = end = i;
	for (; i < n && p[i] != ';'; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!is_wsp(p[i]) && (c < 0x21 || c > 0x7e)) {
			return -1;
		}
		if (!is_wsp(p[i])) {
			end = i + 1;
		}
	}
	*val = p + start;
	*vlen = end - start;
	*voff = start;
	it->off = i < n ? i + 1 : n;
	return 1;
}

int
tag_is(const char *name, size_t nlen, const char *t)
{
	return strlen(t) == nlen && memcmp(name, t, nlen) == 0;
}

enum dkim_err
dkim_hdr_parse(struct dkim_hdr *h, const char *p, size_t len)
{
	struct tag_it it;
	const char *nm, *v;
	size_t nl, vl, vo;
	unsigned seen = 0;
	int rc;

	memset(h, 0, sizeof *h);
	h->l = h->t = h->x = -1;
	tag_init(&it, p, len);
	while ((rc = tag_next(&it, &nm, &nl, &v, &vl, &vo)) == 1) {
		unsigned bit = 0;

		for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
			if (tag_is(nm, nl, names[k])) {
				bit = 1u << k;
			}
		}
		if (bit & seen) {
			return DKIM_E_DUP;
		}
		seen |= bit;
		switch (bit) {
		case T_V:
			if (!eq(v, vl, "1")) {
				return DKIM_E_VERSION;
			}
			break;
		case T_A:
			if (eq(v, vl, "rsa-sha256")) {
				h->alg = DKIM_A_RSA_SHA256;
			} else if (eq(v, vl, "rsa-sha1")) {
				h->alg = DKIM_A_RSA_SHA1;
			} else if (eq(v, vl, "ed25519-sha256")) {
				h->alg = DKIM_A_ED25519_SHA256;
			} else {
				return DKIM_E_ALG;
			}
			break;
		case T_B:
			h->b = v;
			h->blen = vl;
			h->b_off = vo;
			break;
		case T_BH:
			h->bh = v;
			h->bhlen = vl;
			break;
		case T_C:
			if (canon(v, vl, &h->hrelaxed, &h->brelaxed) == -1) {
				return DKIM_E_CANON;
			}
			break;
		case T_D:
			h->d = v;
			h->dlen = vl;
			break;
		case T_H:
			h->h = v;
			h->hlen = vl;
			break;
		case T_I:
			h->i = v;
			h->ilen = vl;
			break;
		case T_L:
			if (number(v, vl, &h->l) == -1) {
				return DKIM_E_NUMBER;
			}
			break;
		case T_Q:
			if (!list_has(v, vl, "dns/txt")) {
				return DKIM_E_QUERY;
			}
			break;
		case T_S:
			h->s = v;
			h->slen = vl;
			break;
		case T_T:
			if (number(v, vl, &h->t) == -1) {
				return DKIM_E_NUMBER;
			}
			break;
		case T_X:
			if (number(v, vl, &h->x) == -1) {
				return DKIM_E_NUMBER;
			}
			break;
		default:
			break;		/* unknown tags are ignored (3.2) */
		}
	}
	if (rc == -1) {
		return DKIM_E_SYNTAX;
	}
	if (!(seen & T_V)) {
		return DKIM_E_VERSION;
	}
	if ((seen & T_REQUIRED) != T_REQUIRED || h->blen == 0 ||
	    h->bhlen == 0) {
		return DKIM_E_MISSING;
	}
	if (!domain_ok(h->d, h->dlen, DOMAIN_MAX) ||
	    !domain_ok(h->s, h->slen, SEL_MAX)) {
		return DKIM_E_DOMAIN;
	}
	if (!list_has(h->h, h->hlen, "from")) {
		return DKIM_E_FROM;
	}
	if (h->i != NULL) {
		const char *at = memchr(h->i, '@', h->ilen);

		if (at == NULL || !dkim_domain_in(at + 1, h->ilen -
		    (size_t)(at + 1 - h->i), h->d, h->dlen, 1)) {
			return DKIM_E_AUID;
		}
	}
	if (h->t >= 0 && h->x >= 0 && h->x <= h->t) {
		return DKIM_E_EXPIRY;
	}
	return DKIM_E_OK;
}

enum dkim_err
dkim_keyrec_parse(const char *p, size_t len, const char **key,
    size_t *keylen)
{
	struct tag_it it;
	const char *nm, *v;
	size_t nl, vl, vo;
	unsigned seen = 0;
	int rc, first = 1;

	*key = NULL;
	*keylen = 0;
	tag_init(&it, p, len);
	while ((rc = tag_next(&it, &nm, &nl, &v, &vl, &vo)) == 1) {
		static const char *const kt[] = { "v", "h", "k", "p", "s" };
		unsigned bit = 0;

		for (size_t k = 0; k < sizeof kt / sizeof kt[0]; k++) {
			bit |= tag_is(nm, nl, kt[k]) ? 1u << k : 0;
		}
		if (bit & seen) {
			return DKIM_E_DUP;
		}
		seen |= bit;
		/* v= must be first when present (3.6.1). */
		if (bit == 1 && (!first || !eq(v, vl, "DKIM1"))) {
			return DKIM_E_KEY_VERSION;
		}
		if (bit == 2 && !list_has(v, vl, "sha256")) {
			return DKIM_E_KEY_HASH;
		}
		if (bit == 4 && !eq(v, vl, "rsa")) {
			return DKIM_E_KEY_TYPE;
		}
		if (bit == 8) {
			*key = v;
			*keylen = vl;
		}
		if (bit == 16 && !list_has(v, vl, "email") &&
		    !list_has(v, vl, "*")) {
			return DKIM_E_KEY_SERVICE;
		}
		first = 0;
	}
	if (rc == -1) {
		return DKIM_E_SYNTAX;
	}
	if (!(seen & 8)) {
		return DKIM_E_MISSING;
	}
	return *keylen == 0 ? DKIM_E_KEY_REVOKED : DKIM_E_OK;
}

const char *
dkim_strerror(enum dkim_err e)
{
	return (unsigned)e < DKIM_E_NERR ? errs[e] : "error";
}

int
dkim_domain_in(const char *a, size_t alen, const char *b, size_t blen,
    int sub)
{
	if (blen == 0 || alen < blen) {
		return 0;
	}
	if (alen > blen && (!sub || a[alen - blen - 1] != '.')) {
		return 0;
	}
	for (size_t k = 0; k < blen; k++) {
		char x = a[alen - blen + k], y = b[k];

		if (x >= 'A' && x <= 'Z') {
			x = (char)(x | 0x20);
		}
		if (y >= 'A' && y <= 'Z') {
			y = (char)(y | 0x20);
		}
		if (x != y) {
			return 0;
		}
	}
	return 1;
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
eq(const char *v, size_t n, const char *s)
{
	return tag_is(v, n, s);
}

/* 1 when the colon-separated list v (FWS around items) holds s, in
 * any ASCII case. */
static int
list_has(const char *v, size_t n, const char *s)
{
	size_t i = 0, sl = strlen(s);

	while (i <= n) {
		size_t a = i, b;

		while (i < n && v[i] != ':') {
			i++;
		}
		b = i;
		while (a < b && is_wsp(v[a])) {
			a++;
		}
		while (b > a && is_wsp(v[b - 1])) {
			b--;
		}
		if (b - a == sl && dkim_domain_in(v + a, sl, s, sl, 0)) {
			return 1;
		}
		i++;
	}
	return 0;
}

/* Letters, digits, '-', '_' (selectors, and names such as
 * _dmarc), dots between labels; at most max octets. */
static int
domain_ok(const char *d, size_t n, size_t max)
{
	if (n == 0 || n > max || d[0] == '.' || d[n - 1] == '.') {
		return 0;
	}
	for (size_t k = 0; k < n; k++) {
		char c = (char)(d[k] | 0x20);

		if (!((c >= 'a' && c <= 'z') || (d[k] >= '0' &&
		    d[k] <= '9') || d[k] == '-' || d[k] == '_' ||
		    (d[k] == '.' && d[k - 1] != '.'))) {
			return 0;
		}
	}
	return 1;
}

static int
number(const char *v, size_t n, int64_t *out)
{
	int64_t x = 0;

	if (n == 0 || n > DIGITS_MAX) {
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		if (v[k] < '0' || v[k] > '9') {
			return -1;
		}
		x = x * 10 + (v[k] - '0');
	}
	*out = x;
	return 0;
}

/* c= "header[/body]": 1 = relaxed. */
static int
canon(const char *v, size_t n, int *hr, int *br)
{
	int *r[2] = { hr, br };

	const char *slash = memchr(v, '/', n);
	size_t hl = slash != NULL ? (size_t)(slash - v) : n;

	for (int k = 0; k < 2; k++) {
		const char *x = k == 0 ? v : slash + 1;
		size_t xl = k == 0 ? hl : n - hl - 1;

		if (k == 1 && slash == NULL) {
			*r[1] = 0;
			break;
		}
		if (eq(x, xl, "relaxed")) {
			*r[k] = 1;
		} else if (eq(x, xl, "simple")) {
			*r[k] = 0;
		} else {
			return -1;
		}
	}
	return 0;
}

#endif
