/* SPDX-License-Identifier: ISC */
/*
 * fuzz_modseq.c - libFuzzer harness for the wren-modseq codec
 * (store/modseq.h). The input is one line for modseq_parse (what is
 * accepted formats to the same bytes plus LF, and a cap one byte short
 * leaves the buffer alone) and then a whole file for modseq_load_*
 * (values stay within [base, base + 2^32), fresh is above both
 * highest and, unless trusted, the ceiling).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/modseq.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *p = s, *end = s + size;
	char out[MODSEQ_LINE_MAX + 1];
	struct modseq_rec r;
	struct modseq_load ld;
	size_t n;

	if (modseq_parse(s, size, &r) != MODSEQ_BAD) {
		n = modseq_format(out, sizeof out, &r);
		if (n != size + 1 || memcmp(out, s, size) != 0 ||
		    out[size] != '\n') {
			abort();
		}
		out[0] = '#';
		if (modseq_format(out, n, &r) != n || out[0] != '#') {
			abort();
		}
	}
	modseq_load_init(&ld);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL) {
			break;
		}
		if (modseq_load_line(&ld, p, (size_t)(nl - p), &r) !=
		    MODSEQ_BAD && r.kind != MODSEQ_HEADER &&
		    (r.value < ld.base || r.value - ld.base >= MODSEQ_SPAN)) {
			abort();
		}
		p = nl + 1;
	}
	if (ld.header && (modseq_load_fresh(&ld) <= ld.high ||
	    (!modseq_load_trusted(&ld) && modseq_load_fresh(&ld) <=
	    ld.ceil))) {
		abort();
	}
	return 0;
}
