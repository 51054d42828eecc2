/* SPDX-License-Identifier: ISC */
/*
 * fuzz_junk_tok.c - libFuzzer harness for the junk filter's tokeniser
 * (msg/junk_tok.h). The input is a message, fed whole and then in
 * pieces cut where its first octet says: the two sets must be equal
 * (the cuts change nothing), hold at most JUNK_MSG_TOKENS tokens, and
 * never hold 0 where a token is counted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg/junk_tok.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct junk_tok a, b;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t step = size > 0 ? (size_t)data[0] % 37 + 1 : 1, n = 0;

	junk_tok_init(&a);
	junk_tok_feed(&a, s, size);
	junk_tok_end(&a);
	junk_tok_init(&b);
	for (size_t off = 0; off < size; off += step) {
		junk_tok_feed(&b, s + off, size - off < step ? size - off :
		    step);
	}
	junk_tok_end(&b);
	if (a.n != b.n || memcmp(a.set, b.set, sizeof a.set) != 0 ||
	    a.msgid != b.msgid || a.n > JUNK_MSG_TOKENS ||
	    junk_tok_id(&a) == 0) {
		abort();
	}
	for (size_t i = 0; i < JUNK_TOK_SLOTS; i++) {
		n += a.set[i] != 0;
	}
	if (n != a.n) {
		abort();
	}
	return 0;
}
