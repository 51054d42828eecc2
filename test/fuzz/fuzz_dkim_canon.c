/* SPDX-License-Identifier: ISC */
/*
 * fuzz_dkim_canon.c - libFuzzer harness for DKIM relaxed
 * canonicalisation (msg/dkim_canon.h, RFC 6376 3.4.2 and 3.4.4) and
 * the DKIM-Signature formatter.
 *
 * The input is a message: its header section goes through dkim_head
 * and the rest through dkim_body, first whole, then in chunks whose
 * sizes come from the first input byte; both runs must give the same
 * octets and the same end of the header (the stream may be cut
 * anywhere). The output must be canonical: the body has no TAB, no WSP
 * run, no WSP before a line end, no empty line at its end, and ends
 * with CR LF when not empty; the header has no WSP run or TAB in a
 * value, and every CR is followed by LF. A few input octets then
 * become d= and s= for the formatter, whose output length must not
 * depend on b='s octets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg/dkim_canon.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct acc {
	char	*p;
	size_t	 len, cap;
};

static void	sink(void *, const void *, size_t);
static size_t	run(const char *, size_t, size_t, struct acc *,
		    struct acc *, char *, size_t);
static void	check_head(const struct acc *);
static void	check_body(const struct acc *);
static void	check_sig(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acc h1, b1, h2, b2;
	char hl1[DKIM_HLIST_MAX], hl2[DKIM_HLIST_MAX];
	size_t step, cap, e1, e2;
	char *in;

	if (size < 1) {
		return 0;
	}
	step = (size_t)data[0] % 17 + 1;
	data++;
	size--;
	in = malloc(size > 0 ? size : 1);
	cap = 2 * size + 16;
	h1.p = malloc(cap);
	b1.p = malloc(cap);
	h2.p = malloc(cap);
	b2.p = malloc(cap);
	if (in == NULL || h1.p == NULL || b1.p == NULL || h2.p == NULL ||
	    b2.p == NULL) {
		abort();
	}
	memcpy(in, data, size);
	h1.cap = b1.cap = h2.cap = b2.cap = cap;
	h1.len = b1.len = h2.len = b2.len = 0;
	e1 = run(in, size, 0, &h1, &b1, hl1, sizeof hl1);
	e2 = run(in, size, step, &h2, &b2, hl2, sizeof hl2);
	if (e1 != e2 || h1.len != h2.len || b1.len != b2.len ||
	    memcmp(h1.p, h2.p, h1.len) != 0 ||
	    memcmp(b1.p, b2.p, b1.len) != 0 || strcmp(hl1, hl2) != 0) {
		abort();	/* the chunking changed the result */
	}
	check_head(&h1);
	check_body(&b1);
	check_sig(data, size);
	free(in);
	free(h1.p);
	free(b1.p);
	free(h2.p);
	free(b2.p);
	return 0;
}

static void
sink(void *arg, const void *p, size_t n)
{
	struct acc *a = arg;

	if (n > a->cap - a->len) {
		abort();	/* more output than the bound */
	}
	memcpy(a->p + a->len, p, n);
	a->len += n;
}

/* The message through both canonicalisers in chunks of step (0:
 * whole); returns where the header section ended. */
static size_t
run(const char *in, size_t len, size_t step, struct acc *h, struct acc *b,
    char *hl, size_t hlcap)
{
	struct dkim_head hd;
	struct dkim_body bd;
	size_t off = 0, end = len;

	dkim_head_init(&hd, sink, h);
	dkim_body_init(&bd, 1, sink, b);
	while (off < len && !hd.done) {
		size_t n = step == 0 || step > len - off ? len - off : step;
		size_t u = dkim_head_feed(&hd, in + off, n);

		if (u > n || (u < n && !hd.done)) {
			abort();
		}
		off += u;
		if (hd.done) {
			end = off;
		}
		if (u < n) {
			break;
		}
	}
	if (!hd.done) {
		dkim_head_end(&hd);
	}
	if (dkim_head_add(&hd, "Date: x\r\n", 9) == 0 &&
	    !dkim_head_has(&hd, DKIM_N_DATE)) {
		abort();
	}
	if (dkim_head_list(&hd, hl, hlcap) == 0) {
		abort();	/* DKIM_HLIST_MAX holds every name */
	}
	while (off < len) {
		size_t n = step == 0 || step > len - off ? len - off : step;

		dkim_body_feed(&bd, in + off, n);
		off += n;
	}
	dkim_body_end(&bd);
	return end;
}

static void
check_head(const struct acc *a)
{
	for (size_t i = 0; i < a->len; i++) {
		char c = a->p[i];

		if (c == '\r' && (i + 1 == a->len || a->p[i + 1] != '\n')) {
			abort();
		}
		if (c == '\n' && (i == 0 || a->p[i - 1] != '\r')) {
			abort();
		}
		if (c == '\t' || (c == ' ' && i + 1 < a->len &&
		    (a->p[i + 1] == ' ' || a->p[i + 1] == '\r'))) {
			abort();
		}
	}
	if (a->len > 0 && (a->len < 2 || a->p[a->len - 1] != '\n')) {
		abort();
	}
}

static void
check_body(const struct acc *a)
{
	check_head(a);	/* the same rules for line ends and WSP */
	if (a->len >= 4 && memcmp(a->p + a->len - 4, "\r\n\r\n", 4) == 0) {
		abort();	/* trailing empty line kept */
	}
	if (a->len == 2) {
		abort();	/* a lone CRLF: an empty line */
	}
}

static void
check_sig(const uint8_t *data, size_t size)
{
	static const unsigned char bh[DKIM_BH_LEN];
	unsigned char b1[64], b2[64];
	char dom[40], sel[20], out1[DKIM_SIG_MAX], out2[DKIM_SIG_MAX];
	struct dkim_sig s;
	size_t dl = size < sizeof dom - 1 ? size : sizeof dom - 1;
	size_t sl = size < sizeof sel - 1 ? size : sizeof sel - 1;
	size_t n1, n2;

	memcpy(dom, data, dl);
	dom[dl] = '\0';
	memcpy(sel, data + (size - sl), sl);
	sel[sl] = '\0';
	memset(b1, 0, sizeof b1);
	memset(b2, 0xff, sizeof b2);
	memset(&s, 0, sizeof s);
	s.domain = dom;
	s.selector = sel;
	s.t = size;
	s.hlist = "from:to:subject:from";
	s.bh = bh;
	s.b = b1;
	s.blen = size % sizeof b1;
	n1 = dkim_sig_format(&s, out1, sizeof out1);
	s.b = b2;
	n2 = dkim_sig_format(&s, out2, sizeof out2);
	if (n1 != n2 || (n1 > 0 && memchr(out1, ';', 17) != NULL)) {
		abort();
	}
	if (n1 > 0 && out1[n1 - 1] != '\n') {
		abort();
	}
}
