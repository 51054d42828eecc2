/* SPDX-License-Identifier: ISC */
/*
 * dns_int.h - what the resolver's files share among themselves (not
 * for callers): randomness, the query side's set-up, the cache.
 */
#ifndef WREN_DNS_INT_H
#define WREN_DNS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/ev.h"
#include "dns/dns.h"

/* Fills buf with random octets (getrandom, /dev/urandom fallback). */
void	dns_random(void *buf, size_t len);

/* The event loop the resolver runs on. */
struct ev	*dns_ev(void);

/* dns.c: the query side (servers, query slots, the cache); dns_init
 * and dns_shutdown (dns_mx.c, which also holds the lookup pool) call
 * these, so that the two files depend one way only. */
int	dns_query_init(struct ev *, const struct dns_server *,
	    size_t nservers, size_t max_lookups, struct err *);
void	dns_query_shutdown(void);

/* dns_cache.c: a fixed pool of answers keyed by name and type. */
int	dns_cache_init(size_t entries, struct err *);
void	dns_cache_free(void);
/* The status kept for (name, qtype), with its answer copied to out
 * when DNS_OK: 1 found, 0 absent or expired. */
int	dns_cache_get(const char *name, uint16_t qtype, uint64_t now,
	    int *status, struct dns_answer *out);
/* Keeps status (DNS_OK with ans, DNS_NXDOMAIN or DNS_NODATA) for ttl
 * seconds (clamped); the oldest-used entry makes room. An answer
 * that does not pack into DNS_CACHE_DATA_MAX octets is not kept. */
void	dns_cache_put(const char *name, uint16_t qtype, int status,
	    const struct dns_answer *ans, uint32_t ttl, uint64_t now);

#endif
