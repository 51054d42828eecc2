/* SPDX-License-Identifier: ISC */
/*
 * dns.h - the stub resolver on the event loop: UDP queries from a
 * fresh socket each (random ID, kernel-random source port, RFC 5452),
 * TCP when the answer is truncated (RFC 7766), a timeout per try and
 * the next server, answers checked against the question, CNAME chains
 * followed (RFC 1034 3.6.2), and a TTL cache of positive and negative
 * answers (RFC 2308) in a fixed pool.
 *
 * On top, the lookups mail delivery needs (RFC 5321 5.1): dns_mx for
 * a domain's delivery hosts and their addresses, and dns_addrs for one
 * host (a relayhost).
 *
 * One resolver per process: dns_init allocates every pool; nothing is
 * allocated afterwards. Callbacks are never called from inside
 * dns_query, dns_mx or dns_addrs: a result, even from the cache, is
 * delivered from the loop, so callers are not re-entered.
 */
#ifndef WREN_DNS_H
#define WREN_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/ev.h"
#include "dns/dns_pkt.h"

/* Servers: from dns_servers, else the nameserver lines of
 * /etc/resolv.conf (glibc and musl read at most 3), else 127.0.0.1. */
#define DNS_SERVERS_MAX		3
#define DNS_PORT		53
#define DNS_RESOLV_CONF		"/etc/resolv.conf"

/* Tries per query over all servers, the first one at the first
 * server; each try waits DNS_TRY_MS (glibc: 5 s x 2 tries; ours is
 * shorter per try but tries more servers). */
#define DNS_TRY_MS		2000
#define DNS_TRIES		4

/* CNAME links followed for one question (RFC 1034 3.6.2 asks for a
 * bound; BIND's is 16, 8 is plenty for mail). */
#define DNS_CNAME_MAX		8

/* One answer as kept and handed to callbacks: at most this many
 * records, and this many octets of names and TXT text. */
#define DNS_ANSWER_RR_MAX	16
#define DNS_ANSWER_TEXT_MAX	2048

/* Cache: entries in the pool, and TTLs clamped to [min, max] so a
 * zero TTL still spares a burst of deliveries to one domain and a
 * huge one cannot pin stale data. */
#define DNS_CACHE_MAX		64
/* Octets of one cache entry's packed answer (dns_cache.c draws the
 * layout): an MX answer of a few hosts, 16 AAAA records or a DKIM key
 * (a 2048-bit RSA key is some 400 octets of TXT) fit; a larger answer
 * is used once and asked for again next time. */
#define DNS_CACHE_DATA_MAX	512
#define DNS_TTL_MIN		5
#define DNS_TTL_MAX		3600
#define DNS_NEG_TTL		60	/* negative answer without SOA */

/* A UDP answer larger than this (a server ignoring our EDNS0 size)
 * is asked again over TCP rather than read. */
#define DNS_UDP_MSG_MAX		4096

/* TCP answers are read into a few shared buffers; bigger answers
 * (rare: mail needs MX, A, AAAA, TXT) are a temporary failure. */
#define DNS_TCP_BUFS		4
#define DNS_TCP_MSG_MAX		16384

/* Mail lookups (dns_mx, dns_addrs): hosts kept, addresses per host,
 * hosts resolved at once, and raw queries one lookup may hold. */
#define DNS_HOSTS_MAX		10
#define DNS_HOST_ADDRS_MAX	4
#define DNS_MX_PARALLEL		2
#define DNS_QUERIES_PER_LOOKUP	(1 + 2 * DNS_MX_PARALLEL)
/* What one lookup may hold at once, for sizing the loop: a socket per
 * address query in flight (the MX query is done by then), and a timer
 * for each of those plus its own. */
#define DNS_FDS_PER_LOOKUP	(2 * DNS_MX_PARALLEL)
#define DNS_TIMERS_PER_LOOKUP	(1 + 2 * DNS_MX_PARALLEL)

enum dns_status {
	DNS_OK,
	DNS_NXDOMAIN,		/* the name does not exist: permanent */
	DNS_NODATA,		/* the name exists, no record of the type */
	DNS_TEMPFAIL,		/* timeout, SERVFAIL, network error */
	DNS_PERMFAIL,		/* malformed name, CNAME loop */
	DNS_NULLMX		/* RFC 7505 null MX: accepts no mail */
};

/* A server, as parsed from dns_servers or resolv.conf. */
struct dns_server {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];
	uint16_t	port;
};

/* One kept record. For MX, CNAME, PTR and SRV, text holds the target
 * name; for TXT the joined strings (cut at the text area's end). */
struct dns_record {
	uint16_t	type;
	uint16_t	pref;		/* MX; SRV priority */
	uint16_t	weight;		/* SRV */
	uint16_t	port;		/* SRV */
	uint32_t	ttl;
	uint8_t		addr[16];	/* A: 4 octets, AAAA: 16 */
	uint16_t	off;		/* text: answer->text + off, NUL */
	uint16_t	len;
};

struct dns_answer {
	char			qname[DNS_NAME_MAX];	/* as asked */
	char			cname[DNS_NAME_MAX];	/* after CNAMEs */
	uint16_t		qtype;
	uint32_t		ttl;	/* the smallest, clamped */
	size_t			n;
	struct dns_record	rr[DNS_ANSWER_RR_MAX];
	size_t			textlen;
	char			text[DNS_ANSWER_TEXT_MAX];
};

/* The text of a record (an MX/CNAME/PTR/SRV target, TXT text). */
const char	*dns_record_text(const struct dns_answer *,
		    const struct dns_record *);

/* Delivery hosts: names kept for logs and TLS SNI. */
struct dns_addr {
	uint8_t		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];
};

struct dns_host {
	char		name[DNS_NAME_MAX];
	uint16_t	pref;
	size_t		naddrs;
	struct dns_addr	addrs[DNS_HOST_ADDRS_MAX];	/* IPv6 first */
};

struct dns_hosts {
	int		implicit;	/* no MX: the domain itself */
	size_t		n;
	struct dns_host	h[DNS_HOSTS_MAX];
};

struct dns_req;
struct dns_lookup;

/* status is enum dns_status; the answer (NULL unless DNS_OK) is valid
 * only during the call. */
typedef void dns_answer_fn(void *arg, int status,
		    const struct dns_answer *);
/* hosts is NULL unless DNS_OK; valid only during the call. */
typedef void dns_hosts_fn(void *arg, int status,
		    const struct dns_hosts *);

/* Parses a dns_servers value ("ip[:port] [ipv6]:port ...", comma or
 * space separated) into out[0..cap); the count in *n (at most cap,
 * more are ignored). 0, or -1 with e filled. */
int	dns_servers_parse(const char *s, struct dns_server *out, size_t cap,
	    size_t *n, struct err *e);

/* Parses a resolv.conf image: the `nameserver ADDR` lines, port 53;
 * other and malformed lines are skipped. Returns the count found
 * (at most cap). */
size_t	dns_resolv_parse(const char *buf, size_t len, struct dns_server *out,
	    size_t cap);

/* Starts the resolver on ev with the given servers (nservers 0: those
 * of /etc/resolv.conf, else 127.0.0.1). max_lookups bounds the mail
 * lookups (dns_mx/dns_addrs) in flight; raw queries get
 * DNS_QUERIES_PER_LOOKUP times as many slots. Allocates every pool.
 * 0, or -1 with e filled. */
int	dns_init(struct ev *, const struct dns_server *servers,
	    size_t nservers, size_t max_lookups, struct err *e);

/* Cancels every query and lookup without calling back; frees pools. */
void	dns_shutdown(void);

/* For tests: per-try timeout and tries (0 keeps the current value). */
void	dns_set_timeouts(unsigned try_ms, unsigned tries);

/* Empties the cache (for tests and after a configuration reload);
 * touches no entry. */
void	dns_cache_flush(void);

/* Bytes of one cache entry (DNS_CACHE_MAX of them, each resident only
 * once used), for `wren check` and README. */
size_t	dns_cache_bytes_per_entry(void);

/* Queries name (text) for qtype, following CNAMEs. Returns a handle
 * for dns_cancel, or NULL when every query slot is busy (the caller
 * retries later; cb is not called). The handle is valid until cb is
 * called or the query cancelled. */
struct dns_req	*dns_query(const char *name, uint16_t qtype,
		    dns_answer_fn *cb, void *arg);

/* Cancels a query before its callback ran (safe from inside any
 * callback); cb is then never called. */
void	dns_cancel(struct dns_req *);

/*
 * The delivery hosts of domain (RFC 5321 5.1): MX hosts by preference,
 * equal preferences shuffled, each with its AAAA then A addresses;
 * without MX (NODATA) the domain itself (hosts->implicit). Status:
 * DNS_OK; DNS_NULLMX (RFC 7505); DNS_NXDOMAIN; DNS_NODATA (no MX and
 * no address); DNS_PERMFAIL (bad name); DNS_TEMPFAIL (no MX host
 * resolves, or the lookup failed). Hosts that do not resolve are
 * left out. NULL when every lookup slot is busy.
 */
struct dns_lookup	*dns_mx(const char *domain, dns_hosts_fn *cb,
			    void *arg);

/* One host's addresses (AAAA then A) as a single-host list; an IP
 * literal (IPv6 with or without brackets) is returned as is without
 * a query. Status as dns_mx, never DNS_NULLMX. */
struct dns_lookup	*dns_addrs(const char *host, dns_hosts_fn *cb,
			    void *arg);

/* Cancels a lookup before its callback ran; cb is then never called. */
void	dns_lookup_cancel(struct dns_lookup *);

const char	*dns_status_str(int status);

#endif
