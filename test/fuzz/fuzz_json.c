/* SPDX-License-Identifier: ISC */
/*
 * fuzz_json.c - libFuzzer harness for the JSON reader (acme/json.h):
 * every token must lie inside the input and inside its parent, `next`
 * must move forward, and every string, member and element lookup on
 * the result must stay in bounds.
 */
#include <stdint.h>
#include <stdlib.h>

#include "acme/json.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct json_tok t[JSON_TOKENS_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char out[64];
	uint64_t u;
	int n = json_parse(s, size, t, JSON_TOKENS_MAX);

	if (n < 0) {
		return 0;
	}
	if (n == 0) {
		abort();		/* success means one value at least */
	}
	for (int i = 0; i < n; i++) {
		if (t[i].start > t[i].end || t[i].end > size ||
		    t[i].next <= (uint32_t)i || t[i].next > (uint32_t)n) {
			abort();
		}
		(void)json_str(s, t, i, out, sizeof out);
		(void)json_uint(s, t, i, &u);
		(void)json_member(s, t, n, i, "status");
		(void)json_elem(t, n, i, 1);
	}
	if (t[0].next != (uint32_t)n) {
		abort();		/* the top value holds every token */
	}
	return 0;
}
