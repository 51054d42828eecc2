/* SPDX-License-Identifier: ISC */
/*
 * fuzz_http_parse.c - libFuzzer harness for the sans-I/O HTTP request
 * head parser and query decoder (http/http_parse.h).
 *
 * The input is parsed whole and at every prefix (as the listener sees
 * it arrive): a prefix shorter than a whole head, or of input asking
 * for more, must ask for more; one holding the head gives it again. A whole head
 * must end in CRLF CRLF within HTTP_HEAD_MAX, with path, query, host
 * and Authorization pointing inside it; the query is then decoded for
 * a few names, each value bounded and free of controls.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_parse.h"
#include "exact.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	inside(const char *, size_t, const char *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = exact_dup(0, data, size);
	struct http_req r;
	int rc = http_parse(in, size, &r);
	size_t r0 = rc == 0 ? r.head_len : 0;

	if (rc != 0 && rc != 1 && rc != 400 && rc != 414 && rc != 431 &&
	    rc != 505) {
		abort();
	}
	if (rc == 0) {
		char v[64];
		static const char *const names[] = { "emailaddress", "a",
		    "" };

		if (r.head_len < 4 || r.head_len > size ||
		    r.head_len > HTTP_HEAD_MAX ||
		    memcmp(in + r.head_len - 4, "\r\n\r\n", 4) != 0 ||
		    r.path_len == 0 || r.path[0] != '/' ||
		    r.content_length < -1 || r.method > HTTP_M_OTHER) {
			abort();
		}
		inside(in, r.head_len, r.path, r.path_len);
		if (r.query != NULL) {
			inside(in, r.head_len, r.query, r.query_len);
			for (size_t k = 0; k < 3; k++) {
				long n = http_query(r.query, r.query_len,
				    names[k], v, sizeof v);

				if (n >= (long)sizeof v ||
				    (n >= 0 && strlen(v) != (size_t)n)) {
					abort();
				}
			}
		}
		if (r.host != NULL) {
			inside(in, r.head_len, r.host, r.host_len);
		}
		if (r.authz != NULL) {
			inside(in, r.head_len, r.authz, r.authz_len);
		}
	}
	/* Prefixes, fewer of them for long inputs. */
	for (size_t k = 0; k < size && k < 512; k++) {
		const char *p = exact_dup(1, data, k);
		int pr = http_parse(p, k, &r);

		/* Bytes after a head (a pipelined request) do not
		 * matter to it. */
		if ((rc == 1 || (rc == 0 && k < r0)) && pr != 1) {
			abort();
		}
		if (rc == 0 && k >= r0 && pr != 0) {
			abort();
		}
	}
	exact_done(in);
	return 0;
}

/* Aborts unless p[0..len) lies within base[0..blen). */
static void
inside(const char *base, size_t blen, const char *p, size_t len)
{
	if (p < base || p > base + blen || len > blen ||
	    (size_t)(p - base) + len > blen) {
		abort();
	}
}
