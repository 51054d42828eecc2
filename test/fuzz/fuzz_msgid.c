/* SPDX-License-Identifier: ISC */
/*
 * fuzz_msgid.c - libFuzzer harness for message IDs (msg/msgid.h).
 *
 * The input is walked as a References value: every ID must lie inside
 * the input, be non-empty, hold one '@' not at either end and no
 * space, control, '<' or '"', be followed by '>', and the cursor must
 * advance each time and end at the input's end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msgid.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *id;
	size_t pos = 0, last = 0, len;

	while (msgid_next(in, size, &pos, &id, &len)) {
		const char *at;

		if (id < in || len == 0 || id + len >= in + size ||
		    id[len] != '>' || id[-1] != '<' || pos <= last ||
		    pos > size) {
			abort();
		}
		at = memchr(id, '@', len);
		if (at == NULL || at == id || at == id + len - 1 ||
		    memchr(at + 1, '@', (size_t)(id + len - at - 1)) != NULL) {
			abort();
		}
		for (size_t i = 0; i < len; i++) {
			unsigned char ch = (unsigned char)id[i];

			if (ch <= ' ' || ch == 0x7f || ch == '<' ||
			    ch == '"') {
				abort();
			}
		}
		last = pos;
	}
	if (pos != size) {
		abort();
	}
	return 0;
}
