/* SPDX-License-Identifier: ISC */
/*
 * dmarc.c - DMARC records (RFC 7489 6.3, 6.4), see dmarc.h.
 */
#include <string.h>

#include "msg/dkim_hdr.h"
#include "msg/dmarc.h"

#if WREN_INBOUND_AUTH

static const char *const tags[] = { "v", "p", "sp", "adkim", "aspf", "pct" };

static const char *const errs[DMARC_E_NERR] = {
	"ok", "not a DMARC record", "syntax error", "duplicate tag",
	"bad policy", "bad value"
};

static int	policy(const char *, size_t, enum dmarc_policy *);
static int	mode(const char *, size_t, int *);

enum dmarc_err
dmarc_parse(struct dmarc_rec *r, const char *p, size_t len)
{
	struct tag_it it;
	const char *nm, *v;
	size_t nl, vl, vo;
	unsigned seen = 0;
	int rc, first = 1;

	memset(r, 0, sizeof *r);
	r->pct = 100;
	tag_init(&it, p, len);
	while ((rc = tag_next(&it, &nm, &nl, &v, &vl, &vo)) == 1) {
		unsigned bit = 0;

		for (size_t k = 0; k < sizeof tags / sizeof tags[0]; k++) {
			bit |= tag_is(nm, nl, tags[k]) ? 1u << k : 0;
		}
		/* 6.4: v=DMARC1 first, exactly. */
		if (first && (bit != 1 || !tag_is(v, vl, "DMARC1"))) {
			return DMARC_E_VERSION;
		}
		first = 0;
		if (bit & seen) {
			return DMARC_E_DUP;
		}
		seen |= bit;
		if ((bit == 2 && policy(v, vl, &r->p) == -1) ||
		    (bit == 4 && policy(v, vl, &r->sp) == -1)) {
			return bit == 2 ? DMARC_E_POLICY : DMARC_E_VALUE;
		}
		if ((bit == 8 && mode(v, vl, &r->adkim_strict) == -1) ||
		    (bit == 16 && mode(v, vl, &r->aspf_strict) == -1)) {
			return DMARC_E_VALUE;
		}
		if (bit == 32) {
			unsigned x = 0;

			if (vl == 0 || vl > 3) {
				return DMARC_E_VALUE;
			}
			for (size_t k = 0; k < vl; k++) {
				if (v[k] < '0' || v[k] > '9') {
					return DMARC_E_VALUE;
				}
				x = x * 10 + (unsigned)(v[k] - '0');
			}
			if (x > 100) {
				return DMARC_E_VALUE;
			}
			r->pct = x;
		}
	}
	if (rc == -1) {
		return first ? DMARC_E_VERSION : DMARC_E_SYNTAX;
	}
	if (first) {
		return DMARC_E_VERSION;
	}
	/* p= is required, and comes right after v= (6.3); a record
	 * without it is not applied. */
	if (!(seen & 2)) {
		return DMARC_E_POLICY;
	}
	return DMARC_E_OK;
}

const char *
dmarc_strerror(enum dmarc_err e)
{
	return (unsigned)e < DMARC_E_NERR ? errs[e] : "error";
}

static int
policy(const char *v, size_t n, enum dmarc_policy *out)
{
	static const char *const w[] = { "none", "quarantine", "reject" };

	for (int k = 0; k < 3; k++) {
		if (dkim_domain_in(v, n, w[k], strlen(w[k]), 0)) {
			*out = (enum dmarc_policy)(k + 1);
			return 0;
		}
	}
	return -1;
}

static int
mode(const char *v, size_t n, int *strict)
{
	if (n == 1 && (v[0] == 'r' || v[0] == 's')) {
		*strict = v[0] == 's';
		return 0;
	}
	return -1;
}

#endif
