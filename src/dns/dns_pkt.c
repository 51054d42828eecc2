/* SPDX-License-Identifier: ISC */
/*
 * dns_pkt.c - DNS queries and responses without I/O (see dns_pkt.h):
 * RFC 1035 4.1 (message format), 4.1.4 (compression), 3.3 and 3.4.1
 * (RDATA of CNAME, MX, PTR, SOA, TXT, A), RFC 3596 2.2 (AAAA), RFC
 * 6891 6.1 (the OPT record of a query), RFC 2181 8 (TTLs), RFC 4343
 * (case-insensitive names).
 */
#include <string.h>

#include "dns_pkt.h"

#define FLAG_QR		0x8000u
#define FLAG_AA		0x0400u
#define FLAG_TC		0x0200u
#define FLAG_RD		0x0100u
#define OPCODE(f)	(((f) >> 11) & 0xfu)
#define RCODE(f)	((f) & 0xfu)
#define PTR_MASK	0xc0u
#define RR_FIXED	10	/* type, class, TTL, RDLENGTH */

static const char *const perr_text[] = {
	[DNS_PE_OK] = "no error",
	[DNS_PE_NAME] = "bad name (empty label or bad octet)",
	[DNS_PE_SPACE] = "buffer too small",
	[DNS_PE_SHORT] = "shorter than a DNS header",
	[DNS_PE_ID] = "not our query id",
	[DNS_PE_NOT_RESPONSE] = "not a response (QR clear)",
	[DNS_PE_OPCODE] = "not a standard query",
	[DNS_PE_QDCOUNT] = "not exactly one question",
	[DNS_PE_QUESTION] = "answers another question",
	[DNS_PE_TRUNCATED] = "data past the end of the message",
	[DNS_PE_LABEL_LONG] = "label over 63 octets or of a bad type",
	[DNS_PE_NAME_LONG] = "name over 255 octets",
	[DNS_PE_NAME_CHAR] = "name holds a dot, space or control octet",
	[DNS_PE_PTR_FORWARD] = "compression pointer not backwards",
	[DNS_PE_PTR_RANGE] = "compression pointer out of range",
	[DNS_PE_PTR_LOOP] = "too many compression pointers",
	[DNS_PE_RDLENGTH] = "RDLENGTH does not fit the record type"
};

static uint16_t		get16(const uint8_t *);
static uint32_t		get32(const uint8_t *);
static void		put16(uint8_t *, uint16_t);
static int		bad_octet(uint8_t);
static int		lower(int);
static enum dns_perr	read_name(const uint8_t *, size_t, size_t, size_t,
			    char *, size_t *);
static enum dns_perr	encode_name(const char *, uint8_t *, size_t,
			    size_t *);
static enum dns_perr	read_rdata(const struct dns_msg *, size_t, size_t,
			    struct dns_rr *);
static int		kept_type(uint16_t);
static int		fail(struct dns_msg *, enum dns_perr);

enum dns_perr
dns_query_build(uint8_t *buf, size_t cap, size_t *len, uint16_t id,
    const char *name, uint16_t qtype, int edns)
{
	enum dns_perr pe;
	size_t n;

	*len = 0;
	if (cap < DNS_HDR_LEN) {
		return DNS_PE_SPACE;
	}
	memset(buf, 0, DNS_HDR_LEN);
	put16(buf, id);
	put16(buf + 2, FLAG_RD);
	put16(buf + 4, 1);
	put16(buf + 10, edns ? 1 : 0);
	pe = encode_name(name, buf + DNS_HDR_LEN, cap - DNS_HDR_LEN, &n);
	if (pe != DNS_PE_OK) {
		return pe;
	}
	n += DNS_HDR_LEN;
	if (cap - n < 4 + (edns ? 11u : 0u)) {
		return DNS_PE_SPACE;
	}
	put16(buf + n, qtype);
	put16(buf + n + 2, DNS_CLASS_IN);
	n += 4;
	if (edns) {
		/* Root owner, type OPT, class = our UDP size, extended
		 * RCODE, version and flags 0 (no DO), no options. */
		buf[n] = 0;
		put16(buf + n + 1, DNS_T_OPT);
		put16(buf + n + 3, DNS_EDNS_UDP_SIZE);
		memset(buf + n + 5, 0, 6);
		n += 11;
	}
	*len = n;
	return DNS_PE_OK;
}

enum dns_perr
dns_name_check(const char *name)
{
	uint8_t wire[DNS_NAME_WIRE_MAX];
	size_t n;

	return encode_name(name, wire, sizeof wire, &n);
}

int
dns_msg_init(struct dns_msg *m, const uint8_t *pkt, size_t len, uint16_t id,
    const char *name, uint16_t qtype)
{
	char qname[DNS_NAME_MAX];
	size_t next;
	enum dns_perr pe;

	memset(m, 0, sizeof *m);
	m->p = pkt;
	m->len = len;
	if (len < DNS_HDR_LEN) {
		return fail(m, DNS_PE_SHORT);
	}
	m->id = get16(pkt);
	m->flags = get16(pkt + 2);
	m->qdcount = get16(pkt + 4);
	m->ancount = get16(pkt + 6);
	m->nscount = get16(pkt + 8);
	m->arcount = get16(pkt + 10);
	m->rcode = RCODE(m->flags);
	m->tc = (m->flags & FLAG_TC) != 0;
	m->aa = (m->flags & FLAG_AA) != 0;
	if (m->id != id) {
		return fail(m, DNS_PE_ID);
	}
	if (!(m->flags & FLAG_QR)) {
		return fail(m, DNS_PE_NOT_RESPONSE);
	}
	if (OPCODE(m->flags) != 0) {
		return fail(m, DNS_PE_OPCODE);
	}
	if (m->qdcount != 1) {
		return fail(m, DNS_PE_QDCOUNT);
	}
	pe = read_name(pkt, len, DNS_HDR_LEN, len, qname, &next);
	if (pe != DNS_PE_OK) {
		return fail(m, pe);
	}
	if (len - next < 4) {
		return fail(m, DNS_PE_TRUNCATED);
	}
	if (!dns_name_eq(qname, name) || get16(pkt + next) != qtype ||
	    get16(pkt + next + 2) != DNS_CLASS_IN) {
		return fail(m, DNS_PE_QUESTION);
	}
	m->pos = next + 4;
	m->left_an = m->ancount;
	m->left_ns = m->nscount;
	return 0;
}

int
dns_msg_next(struct dns_msg *m, struct dns_rr *rr)
{
	while (m->err == DNS_PE_OK && m->left_an + m->left_ns > 0) {
		size_t owner = m->pos, fixed, rdlen;
		enum dns_perr pe;
		uint16_t type, rclass;

		memset(rr, 0, sizeof *rr);
		if (m->left_an > 0) {
			rr->section = DNS_SEC_ANSWER;
			m->left_an--;
		} else {
			rr->section = DNS_SEC_AUTHORITY;
			m->left_ns--;
		}
		pe = read_name(m->p, m->len, owner, m->len, NULL, &fixed);
		if (pe != DNS_PE_OK) {
			return fail(m, pe);
		}
		if (m->len - fixed < RR_FIXED) {
			return fail(m, DNS_PE_TRUNCATED);
		}
		type = get16(m->p + fixed);
		rclass = get16(m->p + fixed + 2);
		rdlen = get16(m->p + fixed + 8);
		if (m->len - fixed - RR_FIXED < rdlen) {
			return fail(m, DNS_PE_TRUNCATED);
		}
		m->pos = fixed + RR_FIXED + rdlen;
		if (!kept_type(type) || rclass != DNS_CLASS_IN) {
			continue;
		}
		pe = read_name(m->p, m->len, owner, m->len, rr->owner,
		    &fixed);
		if (pe != DNS_PE_OK) {
			return fail(m, pe);
		}
		rr->type = type;
		rr->rclass = rclass;
		rr->ttl = get32(m->p + fixed + 4);
		if (rr->ttl > INT32_MAX) {
			rr->ttl = 0;
		}
		pe = read_rdata(m, fixed + RR_FIXED, rdlen, rr);
		if (pe != DNS_PE_OK) {
			return fail(m, pe);
		}
		return 1;
	}
	return m->err == DNS_PE_OK ? 0 : -1;
}

int
dns_txt_join(const struct dns_rr *rr, char *out, size_t cap)
{
	size_t i = 0, o = 0;
	int fits = 1;

	if (cap == 0) {
		return -1;
	}
	while (i < rr->rdlen) {
		size_t n = rr->rdata[i++];

		if (n > rr->rdlen - i) {
			n = rr->rdlen - i;	/* checked by the parser */
		}
		if (n > cap - 1 - o) {
			n = cap - 1 - o;
			fits = 0;
		}
		memcpy(out + o, rr->rdata + i, n);
		o += n;
		i += rr->rdata[i - 1];
	}
	out[o] = '\0';
	return fits ? (int)o : -1;
}

int
dns_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.') {
		la--;
	}
	if (lb > 0 && b[lb - 1] == '.') {
		lb--;
	}
	if (la != lb) {
		return 0;
	}
	for (size_t i = 0; i < la; i++) {
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) {
			return 0;
		}
	}
	return 1;
}

int
dns_reverse_name(const uint8_t *addr, size_t alen, const char *zone,
    char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, zl;

	if (alen != 4 && alen != 16) {
		return -1;
	}
	if (zone == NULL) {
		zone = alen == 4 ? "in-addr.arpa" : "ip6.arpa";
	}
	zl = strlen(zone);
	/* At most 4 x "255." or 32 x "f.", then the zone and NUL. */
	if (cap < (alen == 4 ? 16u : 64u) + zl + 1) {
		return -1;
	}
	if (alen == 4) {
		for (int i = 3; i >= 0; i--) {
			unsigned v = addr[i];

			if (v >= 100) {
				out[o++] = (char)('0' + v / 100);
			}
			if (v >= 10) {
				out[o++] = (char)('0' + v / 10 % 10);
			}
			out[o++] = (char)('0' + v % 10);
			out[o++] = '.';
		}
	} else {
		for (int i = 15; i >= 0; i--) {
			out[o++] = hex[addr[i] & 0xf];
			out[o++] = '.';
			out[o++] = hex[addr[i] >> 4];
			out[o++] = '.';
		}
	}
	memcpy(out + o, zone, zl + 1);
	return (int)(o + zl);
}

const char *
dns_strerror(enum dns_perr pe)
{
	if ((unsigned)pe >= sizeof perr_text / sizeof perr_text[0] ||
	    perr_text[pe] == NULL) {
		return "unknown error";
	}
	return perr_text[pe];
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Octets a host name never holds and that would make the text form
 * ambiguous or unsafe in a log line. */
static int
bad_octet(uint8_t c)
{
	return c <= 0x20 || c == 0x7f || c == '.';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
 * Reads the name at off. The labels in sequence must end by `end`
 * (the end of the RDATA holding them, or of the message); *next is
 * where the sequence ends (after the root octet or the first pointer).
 * Each pointer must go strictly before the start of the labels that
 * led to it, so every jump goes backwards from the last one: a loop
 * is impossible and the hop count only bounds the work.
 *
 *   off: 03 'w' 'w' 'w' c0 0c  ->  12: 07 'e' 'x' ... 00
 *        `-- seg_start            `-- new seg_start (< old)
 *
 * With out != NULL the text form is written there (DNS_NAME_MAX).
 */
static enum dns_perr
read_name(const uint8_t *p, size_t len, size_t off, size_t end, char *out,
    size_t *next)
{
	size_t pos = off, seg_start = off, lim = end, wire = 0, o = 0;
	unsigned hops = 0;
	int jumped = 0;

	for (;;) {
		uint8_t c;

		if (pos >= lim) {
			return DNS_PE_TRUNCATED;
		}
		c = p[pos];
		if ((c & PTR_MASK) == PTR_MASK) {
			size_t t;

			if (lim - pos < 2) {
				return DNS_PE_TRUNCATED;
			}
			t = (size_t)(c & 0x3fu) << 8 | p[pos + 1];
			if (!jumped) {
				*next = pos + 2;
				jumped = 1;
			}
			if (t >= len || t < DNS_HDR_LEN) {
				return DNS_PE_PTR_RANGE;
			}
			if (t >= seg_start) {
				return DNS_PE_PTR_FORWARD;
			}
			if (++hops > DNS_PTR_HOPS_MAX) {
				return DNS_PE_PTR_LOOP;
			}
			pos = seg_start = t;
			lim = len;
			continue;
		}
		if (c > DNS_LABEL_MAX) {
			return DNS_PE_LABEL_LONG;	/* 0x40, 0x80 types */
		}
		wire += (size_t)c + 1;
		if (wire > DNS_NAME_WIRE_MAX) {
			return DNS_PE_NAME_LONG;
		}
		if (c == 0) {
			break;
		}
		if (lim - pos - 1 < c) {
			return DNS_PE_TRUNCATED;
		}
		if (out != NULL) {
			if (o > 0) {
				out[o++] = '.';
			}
			for (size_t i = 1; i <= c; i++) {
				if (bad_octet(p[pos + i])) {
					return DNS_PE_NAME_CHAR;
				}
				out[o++] = (char)p[pos + i];
			}
		}
		pos += (size_t)c + 1;
	}
	if (!jumped) {
		*next = pos + 1;
	}
	if (out != NULL) {
		if (o == 0) {
			out[o++] = '.';
		}
		out[o] = '\0';
	}
	return DNS_PE_OK;
}

static enum dns_perr
encode_name(const char *name, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = 0, nl = strlen(name);
	const char *p = name, *end;

	if (nl > 0 && name[nl - 1] == '.') {
		nl--;
		if (nl > 0 && name[nl - 1] == '.') {
			return DNS_PE_NAME;	/* "a.." */
		}
	}
	end = name + nl;
	while (p < end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t l = dot != NULL ? (size_t)(dot - p) : (size_t)(end - p);

		if (l == 0) {
			return DNS_PE_NAME;
		}
		if (l > DNS_LABEL_MAX) {
			return DNS_PE_LABEL_LONG;
		}
		if (n + 1 + l + 1 > DNS_NAME_WIRE_MAX) {
			return DNS_PE_NAME_LONG;
		}
		if (cap - n < 1 + l + 1) {
			return DNS_PE_SPACE;
		}
		for (size_t i = 0; i < l; i++) {
			if (bad_octet((uint8_t)p[i])) {
				return DNS_PE_NAME;
			}
		}
		out[n] = (uint8_t)l;
		memcpy(out + n + 1, p, l);
		n += 1 + l;
		p += l + (dot != NULL ? 1 : 0);
	}
	if (cap - n < 1) {
		return DNS_PE_SPACE;
	}
	out[n++] = 0;
	*len = n;
	return DNS_PE_OK;
}

/* RDATA of a kept type at off (rdlen octets), checked against what
 * the type needs. A name in RDATA that runs past it is an RDLENGTH
 * error, not a truncated message. */
static enum dns_perr
read_rdata(const struct dns_msg *m, size_t off, size_t rdlen,
    struct dns_rr *rr)
{
	size_t end = off + rdlen, next = 0;
	enum dns_perr pe = DNS_PE_OK;

	rr->rdata = m->p + off;
	rr->rdlen = rdlen;
	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (rdlen != (rr->type == DNS_T_A ? 4u : 16u)) {
			return DNS_PE_RDLENGTH;
		}
		memcpy(rr->addr, m->p + off, rdlen);
		return DNS_PE_OK;
	case DNS_T_MX:
		if (rdlen < 3) {
			return DNS_PE_RDLENGTH;
		}
		rr->pref = get16(m->p + off);
		pe = read_name(m->p, m->len, off + 2, end, rr->target, &next);
		break;
	case DNS_T_SRV:
		/* RFC 2782: priority, weight, port, then the target,
		 * never compressed by the RFC but read as any name. */
		if (rdlen < 7) {
			return DNS_PE_RDLENGTH;
		}
		rr->pref = get16(m->p + off);
		rr->weight = get16(m->p + off + 2);
		rr->port = get16(m->p + off + 4);
		pe = read_name(m->p, m->len, off + 6, end, rr->target, &next);
		break;
	case DNS_T_CNAME:
	case DNS_T_PTR:
		pe = read_name(m->p, m->len, off, end, rr->target, &next);
		break;
	case DNS_T_SOA:
		pe = read_name(m->p, m->len, off, end, rr->target, &next);
		if (pe == DNS_PE_OK) {
			/* RNAME is a mailbox: its first label may hold
			 * a dot, so it is checked but not kept. */
			pe = read_name(m->p, m->len, next, end, NULL, &next);
		}
		if (pe == DNS_PE_OK && end - next != 20) {
			return DNS_PE_RDLENGTH;
		}
		if (pe == DNS_PE_OK) {
			rr->soa_min = get32(m->p + next + 16);
			return DNS_PE_OK;
		}
		break;
	case DNS_T_TXT: {
		size_t i = 0;

		if (rdlen == 0) {
			return DNS_PE_RDLENGTH;
		}
		while (i < rdlen) {
			size_t n = m->p[off + i];

			if (n > rdlen - i - 1) {
				return DNS_PE_RDLENGTH;
			}
			i += 1 + n;
		}
		return DNS_PE_OK;
	}
	default:
		return DNS_PE_OK;
	}
	if (pe == DNS_PE_TRUNCATED) {
		return DNS_PE_RDLENGTH;
	}
	if (pe == DNS_PE_OK && next != end) {
		return DNS_PE_RDLENGTH;
	}
	return pe;
}

static int
kept_type(uint16_t t)
{
	return t == DNS_T_A || t == DNS_T_AAAA || t == DNS_T_MX ||
	    t == DNS_T_CNAME || t == DNS_T_TXT || t == DNS_T_PTR ||
	    t == DNS_T_SRV || t == DNS_T_SOA;
}

static int
fail(struct dns_msg *m, enum dns_perr pe)
{
	m->err = pe;
	return -1;
}
