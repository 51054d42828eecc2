/* SPDX-License-Identifier: ISC */
/*
 * dns_pkt.h - DNS messages without I/O (RFC 1035 4.1): build a query,
 * parse a response to it.
 *
 *   dns_query_build   one question, RD set, optionally an EDNS0 OPT
 *                     record (RFC 6891) offering DNS_EDNS_UDP_SIZE
 *   dns_msg_init      header and question of a response; it must
 *                     answer our question (id, QR, opcode, qname in
 *                     any case, qtype, qclass) or it is refused
 *   dns_msg_next      the answer and authority records, one at a
 *                     time, names decompressed into caller storage
 *
 * Hostile input is expected: every compression pointer (RFC 1035
 * 4.1.4) must point backwards, inside the packet and past the header,
 * and a name follows at most DNS_PTR_HOPS_MAX of them; labels are at
 * most 63 octets and names 255 (RFC 1035 2.3.4); each RDLENGTH must
 * fit the packet and its type (RFC 1035 3.3, 3.4.1; RFC 3596 2.2).
 * Errors are sticky: once m->err is set, dns_msg_next returns -1.
 *
 * Parsers include only limits.h and libc (STYLE.md section 4).
 */
#ifndef WREN_DNS_PKT_H
#define WREN_DNS_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/* RFC 1035 2.3.4: labels of 63 octets, names of 255 on the wire. */
#define DNS_LABEL_MAX		63
#define DNS_NAME_WIRE_MAX	255
/* A name as text: 253 characters (255 wire octets less the first
 * length octet and the root), plus NUL; the root is written ".". */
#define DNS_NAME_MAX		254
/* Compression pointers followed in one name: a real name needs a few;
 * pointers only go backwards so loops cannot happen, this bounds the
 * work a hostile packet can ask for. */
#define DNS_PTR_HOPS_MAX	16
#define DNS_HDR_LEN		12
/* EDNS0 UDP payload we offer: the DNS flag day 2020 value, which
 * avoids IP fragmentation on almost every path. */
#define DNS_EDNS_UDP_SIZE	1232
/* A query: header, name, type and class, and an 11-octet OPT. */
#define DNS_QUERY_MAX		(DNS_HDR_LEN + DNS_NAME_WIRE_MAX + 4 + 11)
/* Largest message: TCP's two-octet length (RFC 1035 4.2.2). */
#define DNS_MSG_MAX		65535

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_SRV = 33,
	DNS_T_OPT = 41
};

#define DNS_CLASS_IN	1

enum dns_rcode {
	DNS_RC_NOERROR = 0,
	DNS_RC_FORMERR = 1,
	DNS_RC_SERVFAIL = 2,
	DNS_RC_NXDOMAIN = 3,
	DNS_RC_NOTIMP = 4,
	DNS_RC_REFUSED = 5
};

enum dns_perr {
	DNS_PE_OK,
	DNS_PE_NAME,		/* query name: empty label or bad octet */
	DNS_PE_SPACE,		/* caller's buffer too small */
	DNS_PE_SHORT,		/* shorter than a header */
	DNS_PE_ID,		/* not our query id */
	DNS_PE_NOT_RESPONSE,	/* QR bit clear */
	DNS_PE_OPCODE,		/* not a standard query */
	DNS_PE_QDCOUNT,		/* not exactly one question */
	DNS_PE_QUESTION,	/* another name, type or class */
	DNS_PE_TRUNCATED,	/* data runs past the end (or a count
				 * larger than the packet) */
	DNS_PE_LABEL_LONG,	/* label over 63 octets (on the wire:
				 * the unused 0x40 and 0x80 types) */
	DNS_PE_NAME_LONG,	/* name over 255 octets */
	DNS_PE_NAME_CHAR,	/* a name we keep holds '.', space or
				 * control octets */
	DNS_PE_PTR_FORWARD,	/* pointer not strictly backwards */
	DNS_PE_PTR_RANGE,	/* pointer past the end or into the header */
	DNS_PE_PTR_LOOP,	/* more than DNS_PTR_HOPS_MAX pointers */
	DNS_PE_RDLENGTH		/* RDLENGTH does not fit the type */
};

enum dns_section {
	DNS_SEC_ANSWER,
	DNS_SEC_AUTHORITY
};

/* One parsed record. Types other than A, AAAA, MX, CNAME, TXT, PTR,
 * SRV and SOA are skipped by dns_msg_next (their names still checked). */
struct dns_rr {
	enum dns_section	 section;
	uint16_t		 type;
	uint16_t		 rclass;
	uint32_t		 ttl;	/* RFC 2181 8: over 2^31-1 reads 0 */
	char			 owner[DNS_NAME_MAX];
	/* A, AAAA: 4 or 16 octets */
	uint8_t			 addr[16];
	/* MX preference; SRV priority (RFC 2782) */
	uint16_t		 pref;
	/* SRV weight and port */
	uint16_t		 weight;
	uint16_t		 port;
	/* MX exchange, CNAME, PTR, SRV target; SOA MNAME */
	char			 target[DNS_NAME_MAX];
	/* SOA MINIMUM (RFC 2308 5: negative answers' TTL) */
	uint32_t		 soa_min;
	/* TXT: the character-strings, each a length octet then text,
	 * exactly filling rdata (read with dns_txt_join) */
	const uint8_t		*rdata;
	size_t			 rdlen;
};

struct dns_msg {
	const uint8_t	*p;
	size_t		 len;
	uint16_t	 id;
	uint16_t	 flags;
	uint16_t	 qdcount, ancount, nscount, arcount;
	unsigned	 rcode;
	int		 tc;	/* truncated: ask again over TCP */
	int		 aa;
	size_t		 pos;		/* next record */
	unsigned	 left_an;	/* answer records not yet read */
	unsigned	 left_ns;
	enum dns_perr	 err;
};

/* Writes a query for name (text, a trailing dot optional) into
 * buf[0..cap); its length in *len. Names are sent as given (the
 * caller lower-cases if it wishes). DNS_PE_OK, DNS_PE_NAME,
 * DNS_PE_LABEL_LONG, DNS_PE_NAME_LONG or DNS_PE_SPACE. */
enum dns_perr	dns_query_build(uint8_t *buf, size_t cap, size_t *len,
		    uint16_t id, const char *name, uint16_t qtype,
		    int edns);

/* Checks that a name is one we could query: the same rules as
 * dns_query_build. */
enum dns_perr	dns_name_check(const char *name);

/* Reads the header and question of pkt[0..len), which must answer the
 * query (id, name, qtype) in class IN. 0, or -1 with m->err set. The
 * packet must stay in place while records are read. */
int		dns_msg_init(struct dns_msg *m, const uint8_t *pkt,
		    size_t len, uint16_t id, const char *name,
		    uint16_t qtype);

/* The next answer or authority record of a kept type: 1 with *rr
 * filled, 0 when there are no more, -1 on an error (sticky; m->err).
 * A record with TC set may be cut short: the caller asks over TCP
 * rather than reading it. */
int		dns_msg_next(struct dns_msg *m, struct dns_rr *rr);

/* Joins the character-strings of a TXT record (RFC 7208 3.3: without
 * separators) into out[0..cap) with a NUL; returns the joined length,
 * or -1 if it does not fit (out then holds a cut prefix). */
int		dns_txt_join(const struct dns_rr *rr, char *out, size_t cap);

/* Case-insensitive (ASCII only, RFC 4343) name equality, a trailing
 * dot ignored on either side. */
int		dns_name_eq(const char *a, const char *b);

/* The reversed-address name of an IPv4 (alen 4) or IPv6 (alen 16)
 * address under zone: "4.3.2.1.<zone>" or 32
 * nibbles (RFC 3596 2.5). zone NULL means in-addr.arpa / ip6.arpa (for
 * PTR); a DNSBL zone gives the name to query for A. The length, or -1
 * when it does not fit cap or alen is neither. */
int		dns_reverse_name(const uint8_t *addr, size_t alen,
		    const char *zone, char *out, size_t cap);

/* A short English reason, never NULL. */
const char	*dns_strerror(enum dns_perr);

#endif
