/* SPDX-License-Identifier: ISC */
/*
 * fuzz_subs.c - libFuzzer harness for Dovecot's subscriptions file
 * (store/subs.h).
 *
 * The input is a whole file, read from an exact-size copy: every line
 * gives one event, the reader always moves on, every name it gives is
 * a valid name (accepted again by folder_name_parse), and a skip has
 * a reason. The names are then written with subs_put, in a buffer
 * just large enough and in one a little too small (where the write
 * must fail without a partial line), and the file written must read
 * back as the same names, with no skip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/subs.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
dup_exact(const void *s, size_t len)
{
	char *p = malloc(len > 0 ? len : 1);

	if (p == NULL) {
		abort();
	}
	if (len > 0) {
		memcpy(p, s, len);
	}
	return p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = dup_exact(data, size);
	size_t cap = sizeof(SUBS_HEADER) + size + 1, outlen = 0, n = 0;
	char *out = malloc(cap), *names = malloc(size + 1);
	size_t *lens = malloc((size + 1) * sizeof *lens), namelen = 0;
	struct subs_reader r;
	struct folder_name fn, again;
	enum subs_ev ev;
	size_t last = 0, events = 0;

	if (out == NULL || names == NULL || lens == NULL) {
		abort();
	}
	subs_reader_init(&r, in, size);
	while ((ev = subs_next(&r, &fn)) != SUBS_END) {
		if (++events > size + 1 || r.pos <= last || r.pos > size) {
			abort();	/* no progress, or past the end */
		}
		last = r.pos;
		if (ev == SUBS_SKIP) {
			if (r.why == SUBS_SKIP_NONE ||
			    (r.why == SUBS_SKIP_NAME) !=
			    (r.name_err != FOLDER_NAME_OK)) {
				abort();
			}
			continue;
		}
		if (ev != SUBS_NAME || folder_name_parse(fn.name, fn.len,
		    FOLDER_NAME_LAX, &again) != FOLDER_NAME_OK ||
		    again.len != fn.len ||
		    memcmp(again.name, fn.name, fn.len) != 0) {
			abort();
		}
		/* A name takes at least as many octets as its line. */
		if (namelen + fn.len > size) {
			abort();
		}
		memcpy(names + namelen, fn.name, fn.len);
		namelen += fn.len;
		lens[n++] = fn.len;
		if (subs_put(out, cap, &outlen, fn.name, fn.len) != 0) {
			abort();
		}
	}
	/* Read back what was written. */
	subs_reader_init(&r, out, outlen);
	if (n > 0 && !r.v2) {
		abort();
	}
	namelen = 0;
	for (size_t i = 0; i < n; i++) {
		if (subs_next(&r, &fn) != SUBS_NAME || fn.len != lens[i] ||
		    memcmp(fn.name, names + namelen, fn.len) != 0) {
			abort();
		}
		namelen += fn.len;
	}
	if (subs_next(&r, &fn) != SUBS_END) {
		abort();
	}
	/* One octet short: the last name does not fit, nothing changes. */
	if (n > 0) {
		size_t pos = outlen - lens[n - 1] - 1;
		char keep = out[pos];

		if (subs_put(out, outlen - 1, &pos, names + namelen -
		    lens[n - 1], lens[n - 1]) != -1 ||
		    pos != outlen - lens[n - 1] - 1 || out[pos] != keep) {
			abort();
		}
	}
	free(in);
	free(out);
	free(names);
	free(lens);
	return 0;
}
