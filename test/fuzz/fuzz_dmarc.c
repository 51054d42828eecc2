/* SPDX-License-Identifier: ISC */
/*
 * fuzz_dmarc.c - libFuzzer harness for the DMARC record parser
 * (msg/dmarc.h). The input is one TXT string. Invariants: a record
 * parsed has p= set (none, quarantine or reject), sp= unset or one of
 * them, pct within 0..100; an error has a name; the same input parses
 * the same way twice (no hidden state).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg/dmarc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_rec a, b;
	enum dmarc_err e = dmarc_parse(&a, (const char *)data, size);

	if (dmarc_parse(&b, (const char *)data, size) != e ||
	    dmarc_strerror(e) == NULL) {
		abort();
	}
	if (e != DMARC_E_OK) {
		return 0;
	}
	if (a.p < DMARC_P_NONE || a.p > DMARC_P_REJECT ||
	    a.sp > DMARC_P_REJECT || a.pct > 100 ||
	    memcmp(&a, &b, sizeof a) != 0) {
		abort();
	}
	return 0;
}
