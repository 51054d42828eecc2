/* SPDX-License-Identifier: ISC */
/*
 * fuzz_http_resp.c - libFuzzer harness for the HTTP/1.1 response
 * reader (acme/http_resp.h): the input is fed in pieces whose sizes
 * come from its first octet, then EOF; the reader must never consume
 * more than it is given, never write past the body buffer, end DONE
 * only without an error, and give the same result fed whole (the
 * same body when done; after an error, how much of the body came in
 * depends on the pieces).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme/http_resp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char body1[1024], body2[1024];
static struct http_resp r1, r2;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p;
	size_t step, n, i;

	if (size < 1) {
		return 0;
	}
	step = (size_t)(data[0] % 17) + 1;
	p = (const char *)data + 1;
	n = size - 1;
	http_resp_init(&r1, body1, sizeof body1);
	for (i = 0; i < n && r1.state != HTTP_R_DONE &&
	    r1.state != HTTP_R_ERROR; i += step) {
		size_t k = n - i < step ? n - i : step;
		size_t used = http_resp_feed(&r1, p + i, k);

		if (used > k || (used < k && r1.state != HTTP_R_DONE &&
		    r1.state != HTTP_R_ERROR)) {
			abort();
		}
	}
	http_resp_eof(&r1);
	http_resp_init(&r2, body2, sizeof body2);
	(void)http_resp_feed(&r2, p, n);
	http_resp_eof(&r2);
	if (r1.body_len > sizeof body1 ||
	    (r1.state == HTTP_R_DONE) != (r1.err == HTTP_R_OK) ||
	    r1.err != r2.err || r1.status != r2.status ||
	    (r1.state == HTTP_R_DONE && (r1.body_len != r2.body_len ||
	    memcmp(body1, body2, r1.body_len) != 0))) {
		abort();
	}
	return 0;
}
