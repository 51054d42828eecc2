/* SPDX-License-Identifier: ISC */
/*
 * fuzz_dkim_hdr.c - libFuzzer harness for the DKIM verifier's readers
 * (msg/dkim_hdr.h): tag lists, the DKIM-Signature value and the key
 * record.
 *
 * The input is read as a tag list (every tag's name and value lie in
 * the input, names are non-empty, each step consumes input), as a
 * DKIM-Signature value (on success: every text inside the input, b=
 * at its offset, the required tags there, x= after t=, i= within d=)
 * and as a key record (p= inside the input, not empty). The same bytes
 * through dkim_domain_in against their own halves must not read past
 * either.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg/dkim_hdr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
inside(const char *in, size_t n, const char *p, size_t len)
{
	if (len > 0 && (p == NULL || p < in || p + len > in + n)) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *nm, *v, *k;
	struct tag_it it;
	struct dkim_hdr h;
	size_t nl, vl, vo, kl, steps = 0, last = 0;
	int rc;

	tag_init(&it, in, size);
	while ((rc = tag_next(&it, &nm, &nl, &v, &vl, &vo)) == 1) {
		inside(in, size, nm, nl);
		inside(in, size, v, vl);
		if (nl == 0 || v != in + vo || it.off <= last ||
		    ++steps > size) {
			abort();
		}
		last = it.off;
	}
	if (rc == 0 && it.off != size) {
		abort();
	}
	if (dkim_hdr_parse(&h, in, size) == DKIM_E_OK) {
		inside(in, size, h.b, h.blen);
		inside(in, size, h.bh, h.bhlen);
		inside(in, size, h.d, h.dlen);
		inside(in, size, h.s, h.slen);
		inside(in, size, h.h, h.hlen);
		inside(in, size, h.i, h.ilen);
		if (h.b != in + h.b_off || h.blen == 0 || h.dlen == 0 ||
		    h.slen == 0 || h.hlen == 0 ||
		    (h.t >= 0 && h.x >= 0 && h.x <= h.t)) {
			abort();
		}
	}
	if (dkim_keyrec_parse(in, size, &k, &kl) == DKIM_E_OK) {
		inside(in, size, k, kl);
		if (kl == 0) {
			abort();
		}
	}
	(void)dkim_domain_in(in, size / 2, in + size / 2, size - size / 2,
	    1);
	return 0;
}
