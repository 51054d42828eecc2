/* SPDX-License-Identifier: ISC */
/*
 * fuzz_map_text.c - libFuzzer harness for the table source parsers
 * (map/map_text.h). The first input byte picks the format (byte %
 * MAP_NTYPES), the rest is the source, read by pointer and length only
 * (no NUL at the end). Every record is checked against what the rest
 * of wren relies on: a lower-case key within MAP_KEY_MAX, NUL-separated
 * fields that match nfields, increasing line numbers, users values
 * that map_user_decode reads, list targets that mailbox_parse accepts;
 * and after an error, map_text_next keeps failing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "map/map_text.h"
#include "msg/mailbox.h"

#define NAME	"fuzz"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct map_text	t;	/* 33 KB: kept off the stack */
static struct map_rec	r;

/* Each NUL-separated field of a list value is an address. */
static void
check_targets(void)
{
	const char *p = r.val, *end = r.val + r.vlen;
	struct mailbox mb;

	while (p <= end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t len = (size_t)((nul ? nul : end) - p);

		if (len == 0 || mailbox_parse(p, len, 0, &mb) != MAILBOX_OK) {
			abort();
		}
		p += len + 1;
	}
}

static void
check_record(enum map_type type, unsigned last, size_t nlines)
{
	struct map_user u;
	struct mailbox mb;
	size_t nuls = 0;

	if (r.line <= last || r.line > nlines) {
		abort();
	}
	if (r.klen == 0 || r.klen > MAP_KEY_MAX || r.key[r.klen] != '\0' ||
	    strlen(r.key) != r.klen) {
		abort();
	}
	for (size_t i = 0; i < r.klen; i++) {
		if (r.key[i] >= 'A' && r.key[i] <= 'Z') {
			abort();	/* keys are stored lower-case */
		}
	}
	if (type == MAP_PSL) {
		return;		/* a Public Suffix List rule is a key alone */
	}
	if (r.vlen > MAP_VAL_MAX || r.nfields == 0) {
		abort();
	}
	for (size_t i = 0; i < r.vlen; i++) {
		nuls += r.val[i] == '\0';
	}
	if (nuls != r.nfields - 1) {
		abort();
	}
	switch (type) {
	case MAP_USERS:
		/* Every record the parser accepts, the server can read. */
		if (r.nfields != 3 || map_user_decode(r.val, r.vlen, &u) != 0) {
			abort();
		}
		if (u.slen == 0 || (u.hlen > 0 && u.home[0] != '/')) {
			abort();
		}
		break;
	case MAP_RELAY_PASSWORDS:
		if (r.nfields != 2 || r.val[0] == '\0' ||
		    r.val[r.vlen - 1] == '\0') {
			abort();
		}
		break;
	default:
		if (mailbox_parse(r.key, r.klen, type != MAP_ALIASES, &mb) !=
		    MAILBOX_OK) {
			abort();
		}
		check_targets();
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum map_type type;
	struct err e;
	unsigned last = 0;
	size_t len, nlines = 1;
	char *src;
	int rc;

	if (size == 0) {
		return 0;
	}
	type = (enum map_type)(data[0] % MAP_NTYPES);
	len = size - 1;
	/* An exact-size copy, so ASan sees any read past len. */
	src = malloc(len != 0 ? len : 1);
	if (src == NULL) {
		return 0;
	}
	memcpy(src, data + 1, len);
	for (size_t i = 0; i < len; i++) {
		nlines += src[i] == '\n';
	}
	map_text_init(&t, type, NAME, src, len);
	while ((rc = map_text_next(&t, &r, &e)) == 1) {
		check_record(type, last, nlines);
		last = r.line;
	}
	if (rc == -1) {
		if (strncmp(e.msg, NAME ":", sizeof NAME) != 0 ||
		    map_text_next(&t, &r, &e) != -1) {
			abort();
		}
	} else if (rc != 0 || map_text_next(&t, &r, &e) != 0) {
		abort();
	}
	free(src);
	return 0;
}
