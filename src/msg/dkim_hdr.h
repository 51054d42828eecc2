/* SPDX-License-Identifier: ISC */
/*
 * dkim_hdr.h - what a DKIM verifier reads, without I/O: tag lists
 * (RFC 6376 3.2, the syntax DMARC records share, RFC 7489 6.4), the
 * DKIM-Signature field's value (RFC 6376 3.5, checked as 6.1.1 asks)
 * and the key record of selector._domainkey.<d> (3.6.1).
 *
 *   struct dkim_hdr h;
 *   err = dkim_hdr_parse(&h, value, len);      DKIM_E_OK or why not
 *   ... h.d, h.s, h.h (pointers into value), h.b_off ...
 *
 * Values point into the caller's text; nothing is copied or kept.
 * Parsers include only limits.h and libc (STYLE.md section 4).
 */
#ifndef WREN_DKIM_HDR_H
#define WREN_DKIM_HDR_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/* One tag of a tag list: name and value with the white space around
 * them left out (a value may hold FWS inside: b=, bh=, h=). */
struct tag_it {
	const char	*p;
	size_t		 len, off;
};

/* Starts reading the tag list p[0..len). */
void	tag_init(struct tag_it *, const char *p, size_t len);

/* The next tag: 1 with its name and value (*voff: the value's offset
 * in the list), 0 at the end, -1 on bad syntax (no "=", a name not
 * ALPHA *(ALPHA / DIGIT / "_"), a control octet in the value). */
int	tag_next(struct tag_it *, const char **name, size_t *nlen,
	    const char **val, size_t *vlen, size_t *voff);

/* 1 when name[0..nlen) is the tag name t (case-sensitive, 3.2). */
int	tag_is(const char *name, size_t nlen, const char *t);

enum dkim_alg {
	DKIM_A_RSA_SHA256,
	DKIM_A_RSA_SHA1,	/* RFC 8301 3.1: never valid */
	DKIM_A_ED25519_SHA256	/* RFC 8463: no Ed25519 in wren */
};

enum dkim_err {
	DKIM_E_OK,
	DKIM_E_SYNTAX,		/* not a tag list */
	DKIM_E_DUP,		/* a tag twice (3.2) */
	DKIM_E_VERSION,		/* v= missing or not 1 */
	DKIM_E_MISSING,		/* a required tag missing (6.1.1) */
	DKIM_E_ALG,		/* a= unknown */
	DKIM_E_CANON,		/* c= unknown */
	DKIM_E_QUERY,		/* q= without dns/txt */
	DKIM_E_FROM,		/* h= does not sign From (5.4) */
	DKIM_E_DOMAIN,		/* d= or s= not a domain name */
	DKIM_E_AUID,		/* i= not within d= (3.5) */
	DKIM_E_NUMBER,		/* l=, t= or x= not a number */
	DKIM_E_EXPIRY,		/* x= not after t= (3.5) */
	DKIM_E_KEY_VERSION,	/* key record: v= not DKIM1 */
	DKIM_E_KEY_TYPE,	/* key record: k= not rsa */
	DKIM_E_KEY_REVOKED,	/* key record: p= empty (3.6.1) */
	DKIM_E_KEY_HASH,	/* key record: h= without sha256 */
	DKIM_E_KEY_SERVICE,	/* key record: s= without email or * */
	DKIM_E_NERR
};

/* The DKIM-Signature tags a verifier uses. Each text points into the
 * parsed value (length beside it); l, t, x are -1 when absent. */
struct dkim_hdr {
	enum dkim_alg	 alg;
	int		 hrelaxed, brelaxed;	/* c=, simple/simple */
	const char	*b, *bh, *d, *s, *h, *i;
	size_t		 blen, bhlen, dlen, slen, hlen, ilen;
	size_t		 b_off;		/* of b='s value in the text */
	int64_t		 l, t, x;
};

/* Parses a DKIM-Signature field's value (after the colon, folds
 * included). DKIM_E_OK, or the first error met. */
enum dkim_err	dkim_hdr_parse(struct dkim_hdr *, const char *p,
		    size_t len);

/* The key record (3.6.1): p= (base64 text, FWS possible) into *key.
 * DKIM_E_OK or why it is unusable. */
enum dkim_err	dkim_keyrec_parse(const char *p, size_t len,
		    const char **key, size_t *keylen);

/* A short reason for an Authentication-Results comment. */
const char	*dkim_strerror(enum dkim_err);

/* 1 when a[0..alen) equals b[0..blen) ignoring ASCII case, or (sub 1)
 * is a subdomain of it ("x.b"). */
int	dkim_domain_in(const char *a, size_t alen, const char *b,
	    size_t blen, int sub);

#endif
