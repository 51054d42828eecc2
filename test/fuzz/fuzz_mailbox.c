/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mailbox.c - libFuzzer harness for the address parser
 * (msg/mailbox.h). The input is parsed in both allow_empty_local
 * modes, read by pointer and length only; an accepted address must
 * be within the RFC 5321 bounds, in lower case, format into
 * ADDR_MAX + 2 bytes, and parse again to the same result. What is
 * accepted without allow_empty_local is accepted with it too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg/mailbox.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
same(const struct mailbox *a, const struct mailbox *b)
{
	return a->llen == b->llen && a->dlen == b->dlen &&
	    memcmp(a->local, b->local, a->llen) == 0 &&
	    memcmp(a->domain, b->domain, a->dlen) == 0;
}

static int
has_upper(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z') {
			return 1;
		}
	}
	return 0;
}

static enum mailbox_err
check(const char *s, size_t len, int allow, struct mailbox *mb)
{
	enum mailbox_err me = mailbox_parse(s, len, allow, mb);
	struct mailbox again;
	char out[ADDR_MAX + 2];
	int n;

	if (mailbox_strerror(me) == NULL) {
		abort();
	}
	if (me != MAILBOX_OK) {
		return me;
	}
	if (mb->llen > ADDR_LOCAL_MAX + 2 || mb->dlen > ADDR_DOMAIN_MAX ||
	    mb->local[mb->llen] != '\0' || mb->domain[mb->dlen] != '\0' ||
	    (mb->llen == 0 && (!allow || mb->dlen == 0)) ||
	    has_upper(mb->local, mb->llen) ||
	    has_upper(mb->domain, mb->dlen)) {
		abort();
	}
	n = mailbox_format(mb, out, sizeof out);
	if (n < 0 || (size_t)n != mb->llen + (mb->dlen ? mb->dlen + 1 : 0) ||
	    out[n] != '\0') {
		abort();
	}
	/* The canonical form is a fixed point. */
	if (mailbox_parse(out, (size_t)n, allow, &again) != MAILBOX_OK ||
	    !same(mb, &again)) {
		abort();
	}
	/* One byte short of room fails cleanly. */
	if (mailbox_format(mb, out, (size_t)n) != -1) {
		abort();
	}
	return me;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailbox strict, lenient;
	enum mailbox_err a, b;
	char *copy;

	/* An exact-size copy, so ASan sees any read past size. */
	copy = malloc(size != 0 ? size : 1);
	if (copy == NULL) {
		return 0;
	}
	memcpy(copy, data, size);
	a = check(copy, size, 0, &strict);
	b = check(copy, size, 1, &lenient);
	if (a == MAILBOX_OK && (b != MAILBOX_OK || !same(&strict, &lenient))) {
		abort();
	}
	free(copy);
	return 0;
}
