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

/*
 * check_host() (RFC 7208 4) as a state machine fed DNS answers, so
 * that it runs on the event loop and in tests without I/O:
 *
 *   spf_eval_init(&e, ip, 4, "example.org", "joe@example.org",
 *       helo, our_name, now);
 *   while (spf_eval_next(&e) == 1) {
 *           look up e.qname for e.qtype, then
 *           spf_eval_rr(&e, type, data, len) per record (A/AAAA: the
 *           address octets; TXT: the joined text; MX/PTR: the name),
 *           spf_eval_end(&e, SPF_DNS_OK / _NONE / _TEMP);
 *   }
 *   e.result, e.why
 *
 * Limits of 4.6.4: 10 terms that query the DNS (include a mx ptr
 * exists redirect), 2 void lookups, 10 MX names, 10 PTR names.
 * Macros (7) are expanded; %{p} is "unknown" (7.3 allows it; RFC 7208
 * 5.5 asks not to use it) and exp= is not evaluated.
 */
enum spf_result {
	SPF_R_NONE,
	SPF_R_NEUTRAL,
	SPF_R_PASS,
	SPF_R_FAIL,
	SPF_R_SOFTFAIL,
	SPF_R_TEMPERROR,
	SPF_R_PERMERROR
};

/* How a lookup ended: records given; no such name or no record of
 * the type (a "void lookup", 4.6.4); timeout or server failure. */
enum spf_dns {
	SPF_DNS_OK,
	SPF_DNS_NONE,
	SPF_DNS_TEMP
};

/* include and redirect nest at most this deep (each costs one of the
 * 10 lookups, so deeper is a permerror anyway). */
#define SPF_DEPTH_MAX		(SPF_LOOKUPS_MAX + 1)
#define SPF_VOID_MAX		2	/* 4.6.4 */
#define SPF_NAMES_MAX		10	/* MX or PTR names per term */
/* The records of one chain (the record and the ones including it)
 * are kept here; a chain larger is a temperror (ours, not the
 * sender's fault). Real records are 50 to 450 octets. */
#define SPF_ARENA_MAX		4096
/* A reverse name for ip6 (64 + "ip6.arpa") fits a domain name. */
#define SPF_QNAME_MAX		SPF_DOMAIN_MAX
#define SPF_LOCAL_MAX		65	/* RFC 5321 4.5.3.1.1 + NUL */

struct spf_frame {
	char			 domain[SPF_DOMAIN_MAX];
	size_t			 rec;		/* arena offset of the record */
	size_t			 reclen;
	struct spf_parser	 p;
	struct spf_term		 t;		/* the term being evaluated */
	const char		*redirect;	/* NULL: none */
	size_t			 rlen;
	int			 via_redirect;	/* none is then a permerror */
};

struct spf_eval {
	/* the question */
	uint8_t			 ip[16];
	size_t			 alen;		/* 4 or 16 */
	char			 local[SPF_LOCAL_MAX];
	char			 sdomain[SPF_DOMAIN_MAX];	/* %{o} */
	char			 helo[SPF_DOMAIN_MAX];
	char			 receiver[SPF_DOMAIN_MAX];
	unsigned long		 now;
	/* the lookup asked for by spf_eval_next */
	char			 qname[SPF_QNAME_MAX];
	uint16_t		 qtype;
	/* the answer */
	enum spf_result		 result;
	char			 why[120];
	/* the walk */
	int			 state;
	size_t			 depth;
	unsigned		 lookups;
	unsigned		 voids;
	unsigned		 nrec;		/* SPF records in a TXT answer */
	int			 hit;		/* an address matched */
	char			 target[SPF_DOMAIN_MAX];
	size_t			 nnames, iname;
	char			 names[SPF_NAMES_MAX][SPF_DOMAIN_MAX];
	size_t			 used;
	char			 arena[SPF_ARENA_MAX];
	struct spf_frame	 f[SPF_DEPTH_MAX];
};

/* Starts check_host(ip, domain, sender) (RFC 7208 4.1); alen is 4 or
 * 16; sender "" or without "@" means postmaster@domain (4.3). helo
 * and receiver are for the h and r macros; now for t. */
void	spf_eval_init(struct spf_eval *, const uint8_t *ip, size_t alen,
	    const char *domain, const char *sender, const char *helo,
	    const char *receiver, unsigned long now);

/* 1: look up e->qname for e->qtype and feed the answer; 0: done,
 * e->result and e->why hold the verdict. */
int	spf_eval_next(struct spf_eval *);

/* One record of the answer to the last lookup, of the given type
 * (others, CNAMEs, are ignored). */
void	spf_eval_rr(struct spf_eval *, uint16_t type, const void *data,
	    size_t len);

/* The answer is complete. */
void	spf_eval_end(struct spf_eval *, enum spf_dns);

/* "pass", "fail", ... as RFC 8601 and Received-SPF spell them. */
const char	*spf_result_name(enum spf_result);

#endif
