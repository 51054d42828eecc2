/* SPDX-License-Identifier: ISC */
/*
 * fuzz_dsn.c - libFuzzer harness for the DSN helpers (msg/dsn.h): the
 * NOTIFY list (RFC 3461 4.1), xtext (RFC 3461 4) as ENVID= and ORCPT=
 * carry it from the network, and enhanced status codes (RFC 3463 2) as
 * remote servers send them.
 *
 * Every reader works on an exact-size copy (ASan sees any read past
 * len); writers get exact-size outputs and one byte less. Accepted
 * text must survive a format and parse round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg/dsn.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	*dup_exact(const void *, size_t);
static void	 check_notify(const char *, size_t);
static int	 xtext_len(const char *, size_t);
static void	 check_xtext(const char *, size_t);
static void	 check_encode(const char *, size_t);
static void	 check_status(const char *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = dup_exact(data, size);

	check_notify(in, size);
	check_xtext(in, size);
	check_encode(in, size);
	check_status(in, size);
	free(in);
	return 0;
}

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

static void
check_notify(const char *s, size_t len)
{
	char text[DSN_NOTIFY_TEXT_MAX];
	unsigned bits = 0x5a5a, again = 0x5a5a;
	int n;

	if (dsn_notify_parse(s, len, &bits) == -1) {
		if (bits != 0x5a5a) {
			abort();	/* written on failure */
		}
		return;
	}
	if ((bits & ~DSN_NOTIFY_ALL) != 0 || ((bits & DSN_NOTIFY_NEVER) &&
	    bits != DSN_NOTIFY_NEVER)) {
		abort();
	}
	n = dsn_notify_format(bits, text, sizeof text);
	if (n <= 0 || (size_t)n >= sizeof text || text[n] != '\0' ||
	    strlen(text) != (size_t)n || (size_t)n > len) {
		abort();
	}
	if (dsn_notify_format(bits, text, (size_t)n) != -1 ||
	    dsn_notify_parse(text, (size_t)n, &again) != 0 ||
	    again != bits) {
		abort();
	}
}

/* The decoded length of valid xtext, by a second reading. */
static int
xtext_len(const char *s, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			i += 2;
		}
		n++;
	}
	return n;
}

static void
check_xtext(const char *s, size_t len)
{
	int valid = dsn_xtext_valid(s, len), n, m, k;
	char *out, *enc, *back;

	if (valid != 0 && valid != 1) {
		abort();
	}
	out = malloc(len + 1);
	if (out == NULL) {
		abort();
	}
	n = dsn_xtext_decode(s, len, out, len + 1);
	if (!valid) {
		if (n != -1) {
			abort();
		}
		free(out);
		return;
	}
	if (n != xtext_len(s, len) || out[n] != '\0') {
		abort();
	}
	if (dsn_xtext_decode(s, len, out, (size_t)n) != -1) {
		abort();	/* no room for the NUL */
	}
	/* Encoding the decoded bytes gives xtext that decodes the same
	 * (the input may have spelt a plain character as +XX). */
	enc = malloc(3 * (size_t)n + 1);
	back = malloc((size_t)n + 1);
	if (enc == NULL || back == NULL) {
		abort();
	}
	m = dsn_xtext_encode(out, (size_t)n, enc, 3 * (size_t)n + 1);
	if (m < n || m > (int)len || !dsn_xtext_valid(enc, (size_t)m)) {
		abort();
	}
	k = dsn_xtext_decode(enc, (size_t)m, back, (size_t)n + 1);
	if (k != n || memcmp(back, out, (size_t)n) != 0) {
		abort();
	}
	free(back);
	free(enc);
	free(out);
}

/* Any bytes encode into valid xtext that decodes back to them. */
static void
check_encode(const char *s, size_t len)
{
	char *enc = malloc(3 * len + 1), *back = malloc(len + 1);
	int m, k;

	if (enc == NULL || back == NULL) {
		abort();
	}
	m = dsn_xtext_encode(s, len, enc, 3 * len + 1);
	if (m < (int)len || m > 3 * (int)len || enc[m] != '\0' ||
	    !dsn_xtext_valid(enc, (size_t)m)) {
		abort();
	}
	if (dsn_xtext_encode(s, len, enc, (size_t)m) != -1) {
		abort();
	}
	k = dsn_xtext_decode(enc, (size_t)m, back, len + 1);
	if (k != (int)len || (len > 0 && memcmp(back, s, len) != 0)) {
		abort();
	}
	free(back);
	free(enc);
}

/* "c.sss.ddd": class 2, 4 or 5, then 1-3 digits, a dot, 1-3 digits. */
static void
check_status(const char *s, size_t len)
{
	int c = dsn_status_class(s, len);
	const char *subj = dsn_status_subject(s, len);
	const char *cname = dsn_status_class_name(s, len);
	size_t i, d1 = 0, d2 = 0;

	if (subj == NULL || cname == NULL || subj[0] == '\0') {
		abort();
	}
	if (c == 0) {
		if (cname[0] != '\0') {
			abort();
		}
		return;
	}
	if ((c != 2 && c != 4 && c != 5) || cname[0] == '\0' ||
	    len >= DSN_STATUS_MAX || s[0] != '0' + c || s[1] != '.') {
		abort();
	}
	for (i = 2; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		d1++;
	}
	if (d1 < 1 || d1 > 3 || i >= len || s[i] != '.') {
		abort();
	}
	for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		d2++;
	}
	if (d2 < 1 || d2 > 3 || i != len) {
		abort();
	}
}
