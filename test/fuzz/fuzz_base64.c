/* SPDX-License-Identifier: ISC */
/*
 * fuzz_base64.c - libFuzzer harness for the RFC 4648 section 4 base64
 * codec (msg/base64.h), which reads SASL responses (RFC 4954) from the
 * network in the SMTP, IMAP and POP3 sessions.
 *
 * The input is decoded from an exact-size copy (so ASan sees any read
 * past len) into exact-size outputs, with every capacity from the
 * needed one down to a short one; accepted text must survive an encode
 * and decode round trip, and the raw input must encode into text that
 * decodes back to it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg/base64.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	*dup_exact(const void *, size_t);
static void	 check_decode(const char *, size_t);
static void	 check_encode(const unsigned char *, size_t);
static int	 is_alpha64(char);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_decode((const char *)data, size);
	check_encode(data, size);
	return 0;
}

static void *
dup_exact(const void *s, size_t len)
{
	void *p = malloc(len > 0 ? len : 1);

	if (p == NULL) {
		abort();
	}
	if (len > 0) {
		memcpy(p, s, len);
	}
	return p;
}

static int
is_alpha64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Text to bytes: the length is 3/4 of the text less the padding, and a
 * capacity one short is refused. */
static void
check_decode(const char *data, size_t size)
{
	char *in = dup_exact(data, size), *again;
	size_t need = size / 4 * 3, pad = 0;
	unsigned char *out = malloc(need > 0 ? need : 1), *out2;
	long n, m;

	if (out == NULL) {
		abort();
	}
	n = base64_decode(in, size, out, need);
	if (n < 0) {
		free(out);
		free(in);
		return;
	}
	if (size % 4 != 0) {
		abort();	/* padding is required */
	}
	while (pad < 2 && pad < size && in[size - 1 - pad] == '=') {
		pad++;
	}
	if ((size_t)n != need - pad) {
		abort();
	}
	for (size_t i = 0; i < size - pad; i++) {
		if (!is_alpha64(in[i])) {
			abort();	/* junk or white space accepted */
		}
	}
	if (n > 0 && base64_decode(in, size, out, (size_t)n - 1) != -1) {
		abort();
	}
	/* Encoding gives the same text, but for the unused low bits of
	 * the last character before the padding (RFC 4648 3.5). */
	again = malloc(size + 1);
	out2 = malloc(n > 0 ? (size_t)n : 1);
	if (again == NULL || out2 == NULL) {
		abort();
	}
	m = base64_encode(out, (size_t)n, again, size + 1);
	if (m != (long)size || again[size] != '\0' ||
	    (size > 0 && memcmp(again, in, size - pad - 1) != 0) ||
	    memcmp(again + size - pad, in + size - pad, pad) != 0) {
		abort();
	}
	if (base64_decode(again, size, out2, (size_t)n) != n ||
	    (n > 0 && memcmp(out, out2, (size_t)n) != 0)) {
		abort();
	}
	free(out2);
	free(again);
	free(out);
	free(in);
}

/* Bytes to text: exactly 4/3 of the input rounded up, plus a NUL; one
 * byte less is refused. */
static void
check_encode(const unsigned char *data, size_t size)
{
	size_t tlen = (size + 2) / 3 * 4;
	char *text = malloc(tlen + 1);
	unsigned char *back = malloc(size > 0 ? size : 1);

	if (text == NULL || back == NULL) {
		abort();
	}
	if (base64_encode(data, size, text, tlen) != -1 ||
	    base64_encode(data, size, text, tlen + 1) != (long)tlen ||
	    text[tlen] != '\0' || strlen(text) != tlen) {
		abort();
	}
	if (base64_decode(text, tlen, back, size) != (long)size ||
	    (size > 0 && memcmp(back, data, size) != 0)) {
		abort();
	}
	free(back);
	free(text);
}
