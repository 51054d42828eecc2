/* SPDX-License-Identifier: ISC */
/*
 * fuzz_dns_pkt.c - libFuzzer harness for the sans-I/O DNS codec
 * (dns/dns_pkt.h).
 *
 * Responses: the input is a message in an exact-size heap copy. The
 * question the parser must accept is read from the input itself (its
 * id and type, and the labels at offset 12 when they are plain), so
 * the records behind it get parsed too. Every record must keep its
 * names NUL-terminated, under DNS_NAME_MAX, free of dots inside labels,
 * spaces and control octets (SRV targets too); RDATA must lie inside
 * the message and fit its type; no more records than the counts;
 * errors must be sticky.
 *
 * Queries: the input, cut at its first NUL, is a name for
 * dns_query_build; a query that is built must fit DNS_QUERY_MAX, and
 * with QR set must parse back as the answer to its own question.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_pkt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_response(const uint8_t *, size_t);
static void	check_name(const char *);
static void	check_query(const uint8_t *, size_t);
static size_t	plain_qname(const uint8_t *, size_t, char *, size_t *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size > 0 ? size : 1);

	if (copy == NULL) {
		abort();
	}
	memcpy(copy, data, size);
	check_response(copy, size);
	free(copy);
	check_query(data, size);
	return 0;
}

static void
check_name(const char *n)
{
	size_t len = strnlen(n, DNS_NAME_MAX);

	if (len == 0 || len >= DNS_NAME_MAX) {
		abort();
	}
	if (strcmp(n, ".") == 0) {
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)n[i];

		if (c <= 0x20 || c == 0x7f) {
			abort();
		}
		if (c == '.' && (i == 0 || i == len - 1 || n[i - 1] == '.')) {
			abort();	/* empty label */
		}
	}
}

/* The question's name when it is plain labels (no pointer): its text
 * in out and the offset after its type and class; 0 otherwise. */
static size_t
plain_qname(const uint8_t *p, size_t len, char *out, size_t *qtype_off)
{
	size_t pos = DNS_HDR_LEN, o = 0;

	while (pos < len && p[pos] != 0) {
		size_t l = p[pos];

		if (l > DNS_LABEL_MAX || pos + 1 + l > len ||
		    o + l + 2 > DNS_NAME_MAX) {
			return 0;
		}
		if (o > 0) {
			out[o++] = '.';
		}
		memcpy(out + o, p + pos + 1, l);
		o += l;
		pos += 1 + l;
	}
	if (pos + 5 > len) {
		return 0;
	}
	if (o == 0) {
		out[o++] = '.';
	}
	out[o] = '\0';
	if (strlen(out) != o) {
		return 0;	/* a NUL inside a label */
	}
	*qtype_off = pos + 1;
	return 1;
}

static void
check_response(const uint8_t *p, size_t len)
{
	char qname[DNS_NAME_MAX];
	uint16_t id = 0, qtype = 1;
	size_t qoff = 0, n = 0;
	struct dns_msg m;
	struct dns_rr rr;
	int rc;

	if (len >= DNS_HDR_LEN) {
		id = (uint16_t)(p[0] << 8 | p[1]);
	}
	if (!plain_qname(p, len, qname, &qoff)) {
		memcpy(qname, "example.com", 12);
	} else {
		qtype = (uint16_t)(p[qoff] << 8 | p[qoff + 1]);
	}
	if (dns_msg_init(&m, p, len, id, qname, qtype) == -1) {
		if (m.err == DNS_PE_OK || dns_msg_next(&m, &rr) != -1) {
			abort();
		}
		return;
	}
	if (len < DNS_HDR_LEN || m.pos > len) {
		abort();
	}
	while ((rc = dns_msg_next(&m, &rr)) == 1) {
		if (++n > (size_t)m.ancount + m.nscount || m.pos > len) {
			abort();
		}
		check_name(rr.owner);
		if (rr.rdata < p || rr.rdata + rr.rdlen > p + len ||
		    rr.ttl > INT32_MAX) {
			abort();
		}
		switch (rr.type) {
		case DNS_T_A:
			if (rr.rdlen != 4) {
				abort();
			}
			break;
		case DNS_T_AAAA:
			if (rr.rdlen != 16) {
				abort();
			}
			break;
		case DNS_T_SRV:
			if (rr.rdlen < 7) {
				abort();
			}
			check_name(rr.target);
			break;
		case DNS_T_MX:
		case DNS_T_CNAME:
		case DNS_T_PTR:
		case DNS_T_SOA:
			check_name(rr.target);
			break;
		case DNS_T_TXT: {
			char txt[300];
			int t = dns_txt_join(&rr, txt, sizeof txt);
			size_t total = 0, i = 0;

			/* The strings' lengths, as the parser checked
			 * them to fill RDATA exactly. */
			while (i < rr.rdlen) {
				total += rr.rdata[i];
				i += 1 + (size_t)rr.rdata[i];
			}
			if (i != rr.rdlen || (total < sizeof txt ?
			    t != (int)total : t != -1)) {
				abort();
			}
			break;
		}
		default:
			abort();	/* a type not kept */
		}
	}
	if (rc == -1) {
		if (m.err == DNS_PE_OK || dns_msg_next(&m, &rr) != -1) {
			abort();
		}
	} else if (rc != 0 || m.err != DNS_PE_OK) {
		abort();
	}
	if (dns_strerror(m.err) == NULL) {
		abort();
	}
}

static void
check_query(const uint8_t *data, size_t size)
{
	char name[300];
	uint8_t q[DNS_QUERY_MAX], *copy;
	size_t n = size < sizeof name - 1 ? size : sizeof name - 1, len;
	struct dns_msg m;
	struct dns_rr rr;
	uint16_t qtype = size > 0 ? data[0] : 1;
	enum dns_perr pe;

	memcpy(name, data, n);
	name[n] = '\0';
	pe = dns_query_build(q, sizeof q, &len, 0xbeef, name, qtype,
	    (int)(size & 1));
	if (pe != dns_name_check(name)) {
		abort();
	}
	if (pe != DNS_PE_OK) {
		if (len != 0) {
			abort();
		}
		return;
	}
	if (len > DNS_QUERY_MAX || len < DNS_HDR_LEN + 5) {
		abort();
	}
	copy = malloc(len);
	if (copy == NULL) {
		abort();
	}
	memcpy(copy, q, len);
	copy[2] |= 0x80;	/* QR: now it reads as an empty answer */
	if (dns_msg_init(&m, copy, len, 0xbeef, name, qtype) != 0 ||
	    dns_msg_next(&m, &rr) != 0) {
		abort();
	}
	free(copy);
}
