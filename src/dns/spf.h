/* SPDX-License-Identifier: ISC */
/*
 * spf.h - SPF records without I/O (RFC 7208 sections 4.5, 4.6, 5, 6
 * and 12): recognise a record, then read its terms one at a time.
 *
 *   if (spf_is_record(txt, len)) {
 *           spf_init(&p, txt, len);
 *           while ((rc = spf_next(&p, &t)) == 1) {
 *                   ... t.kind, t.qual, t.domain, t.addr, t.cidr4 ...
 *           }
 *           if (rc == -1) ... spf_strerror(p.err)    (a permerror)
 *   }
 *
 * The evaluation (DNS lookups, their limit of 10, RFC 7208 4.6.4) is
 * the caller's: a term names what to look up and how to match it.
 * Macros (RFC 7208 7) are checked for syntax and flagged, not
 * expanded. Errors are sticky: once p.err is set, spf_next returns -1.
 *
 * Parsers include only limits.h and libc (STYLE.md section 4).
 */
#ifndef WREN_SPF_H
#define WREN_SPF_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/* RFC 7208 4.6.4: terms that cause DNS lookups, per check_host(). */
#define SPF_LOOKUPS_MAX		10
/* A domain-spec as text, as a DNS name (253) plus NUL. */
#define SPF_DOMAIN_MAX		254

enum spf_kind {
	SPF_ALL,
	SPF_INCLUDE,
	SPF_A,
	SPF_MX,
	SPF_PTR,
	SPF_IP4,
	SPF_IP6,
	SPF_EXISTS,
	SPF_REDIRECT,		/* modifiers from here */
	SPF_EXP,
	SPF_UNKNOWN_MOD		/* name=value: ignored (RFC 7208 6) */
};

enum spf_err {
	SPF_E_OK,
	SPF_E_VERSION,		/* not "v=spf1" then a space or the end */
	SPF_E_MECH,		/* unknown mechanism */
	SPF_E_DOMAIN,		/* a domain-spec missing or malformed */
	SPF_E_MACRO,		/* bad macro syntax (RFC 7208 7.1) */
	SPF_E_IP,		/* ip4:/ip6: not an address */
	SPF_E_CIDR,		/* prefix length out of range or bad */
	SPF_E_DUP_MOD,		/* redirect= or exp= twice (6) */
	SPF_E_MOD_NAME,		/* modifier name malformed */
	SPF_E_CHAR		/* a control or non-ASCII octet */
};

/* One term. domain points into the record (dlen octets, not NUL
 * terminated; 0: none given, the current domain applies). cidr4 and
 * cidr6 are 32 and 128 unless given (a, mx, ip4, ip6). */
struct spf_term {
	enum spf_kind	 kind;
	char		 qual;		/* '+', '-', '~' or '?' */
	const char	*domain;
	size_t		 dlen;
	int		 macro;		/* domain holds a %-macro */
	uint8_t		 addr[16];	/* ip4: 4 octets; ip6: 16 */
	unsigned	 cidr4;
	unsigned	 cidr6;
};

struct spf_parser {
	const char	*p;
	size_t		 len;
	size_t		 pos;
	int		 seen_redirect;
	int		 seen_exp;
	enum spf_err	 err;
};

/* 1 when txt[0..len) is an SPF record: "v=spf1" (any case) followed
 * by a space or the end (RFC 7208 4.5). */
int	spf_is_record(const char *txt, size_t len);

/* Starts reading txt[0..len), which must stay in place. -1 (p->err)
 * when it is not an SPF record. */
int	spf_init(struct spf_parser *, const char *txt, size_t len);

/* The next term: 1 with *t filled, 0 at the end, -1 on an error
 * (sticky, p->err). */
int	spf_next(struct spf_parser *, struct spf_term *t);

/* 1 when addr (alen 4 or 16 octets) is inside net/prefix, where net
 * has the same length. */
int	spf_cidr_match(const uint8_t *net, const uint8_t *addr, size_t alen,
	    unsigned prefix);

/* The name of a term's mechanism or modifier ("ip4", "redirect"). */
const char	*spf_kind_name(enum spf_kind);

/* A short English reason, never NULL. */
const char	*spf_strerror(enum spf_err);

#endif
