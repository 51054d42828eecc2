/* SPDX-License-Identifier: ISC */
/*
 * fuzz_spf.c - libFuzzer harness for the sans-I/O SPF record parser
 * (dns/spf.h).
 *
 * The input is read as one TXT string. Invariants: spf_init agrees
 * with spf_is_record; every term's domain lies inside the input and
 * holds no space; prefixes stay within 32 and 128; the qualifier is
 * one of the four; errors are sticky; the parser ends (each term
 * consumes at least one octet). spf_cidr_match is called on the
 * parsed ip4/ip6 terms against the first octets of the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/spf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *txt = (const char *)data;
	struct spf_parser p;
	struct spf_term t;
	uint8_t probe[16];
	size_t terms = 0;
	int rc;

	memset(probe, 0, sizeof probe);
	memcpy(probe, data, size < sizeof probe ? size : sizeof probe);
	if (spf_init(&p, txt, size) == -1) {
		if (spf_is_record(txt, size) || spf_next(&p, &t) != -1) {
			abort();
		}
		return 0;
	}
	if (!spf_is_record(txt, size)) {
		abort();
	}
	while ((rc = spf_next(&p, &t)) == 1) {
		if (++terms > size) {
			abort();	/* no progress */
		}
		if (t.qual != '+' && t.qual != '-' && t.qual != '~' &&
		    t.qual != '?') {
			abort();
		}
		if (t.cidr4 > 32 || t.cidr6 > 128) {
			abort();
		}
		if (t.domain != NULL && (t.domain < txt || t.domain + t.dlen >
		    txt + size || memchr(t.domain, ' ', t.dlen) != NULL)) {
			abort();
		}
		if (t.kind == SPF_IP4) {
			(void)spf_cidr_match(t.addr, probe, 4, t.cidr4);
		} else if (t.kind == SPF_IP6) {
			(void)spf_cidr_match(t.addr, probe, 16, t.cidr6);
		}
		(void)spf_kind_name(t.kind);
	}
	if (rc == -1) {
		if (p.err == SPF_E_OK || spf_strerror(p.err) == NULL ||
		    spf_next(&p, &t) != -1) {
			abort();
		}
	} else if (spf_next(&p, &t) != 0) {
		abort();
	}
	return 0;
}
