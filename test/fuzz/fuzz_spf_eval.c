/* SPDX-License-Identifier: ISC */
/*
 * fuzz_spf_eval.c - libFuzzer harness for check_host() as a state
 * machine (dns/spf.h spf_eval_*): every answer comes from the input.
 *
 * Input: a flags octet (bit 0: IPv6 client), the client address (16
 * octets, the first 4 for IPv4), then per lookup: a status octet
 * (mod 3: ok, none, temporary), a count octet (mod 8 records), and
 * per record a length octet and that many octets, fed as a record of
 * the type asked (an A of any length, a TXT of any text). The input
 * running out is a temporary failure.
 *
 * Invariants: the evaluation ends within the lookups the limits
 * allow (10 terms, each at most 1 + 10 names, plus the records);
 * qname is a NUL-terminated string within its buffer; the result is
 * one of the seven; the arena is never overrun (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/spf.h"

/* 11 record fetches + 10 terms x (1 + 10 names) and some slack. */
#define FUZZ_LOOKUPS_MAX	200

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct spf_eval e;
	size_t pos = 17, lookups = 0;

	if (size < 17) {
		return 0;
	}
	spf_eval_init(&e, data + 1, (data[0] & 1) ? 16 : 4, "example.org",
	    "user@example.org", "mx.example.net", "mx.example.com", 0);
	while (spf_eval_next(&e) == 1) {
		unsigned st, n;

		if (++lookups > FUZZ_LOOKUPS_MAX ||
		    memchr(e.qname, '\0', sizeof e.qname) == NULL) {
			abort();
		}
		if (pos + 2 > size) {
			spf_eval_end(&e, SPF_DNS_TEMP);
			continue;
		}
		st = data[pos++] % 3;
		n = data[pos++] % 8;
		for (unsigned i = 0; st == 0 && i < n && pos < size; i++) {
			size_t len = data[pos++];

			if (len > size - pos) {
				len = size - pos;
			}
			spf_eval_rr(&e, e.qtype, data + pos, len);
			pos += len;
		}
		spf_eval_end(&e, (enum spf_dns)st);
	}
	if ((unsigned)e.result > SPF_R_PERMERROR ||
	    memchr(e.why, '\0', sizeof e.why) == NULL) {
		abort();
	}
	return 0;
}
