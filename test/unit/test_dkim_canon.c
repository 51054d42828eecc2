/* SPDX-License-Identifier: ISC */
/*
 * test_dkim_canon.c - DKIM relaxed canonicalisation (msg/dkim_canon.h,
 * RFC 6376 3.4.2 and 3.4.4) and the DKIM-Signature field's text.
 *
 * Tables of header sections, single fields and bodies with the exact
 * canonical bytes expected (the RFC 6376 3.4.5 example first), half of
 * them hostile: NULs, bare CR, lines of thousands of octets, folds in
 * odd places, WSP at line ends, empty and all-CRLF bodies, names too
 * long, lines without a colon, repeated fields. Every row is fed whole
 * and then split at every offset (and octet by octet); the output, and
 * so its SHA-256, must not change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <bearssl.h>

#include "msg/dkim_canon.h"
#include "testutil.h"

#define OUT_MAX		(64 * 1024)

/* The sink: canonical bytes appended to a buffer. */
struct acc {
	char	*p;
	size_t	 len;
};

struct head_case {
	const char	*desc;
	struct text	 in;
	const char	*want;		/* canonical bytes of signed fields */
	const char	*hlist;		/* h= */
	long		 split;		/* where the section ends; -1: none */
	int		 dup;
};

#define H(d, in, w, hl, sp)	{ (d), in, (w), (hl), (sp), 0 }
#define HDUP(d, in, w, hl, sp)	{ (d), in, (w), (hl), (sp), 1 }

static const struct head_case head_cases[] = {
	H("RFC 6376 3.4.5 with our names: WSP around the colon, fold, "
	    "trailing WSP", T("Subject : Y\t\r\n\tZ  \r\nTo: X\r\n\r\nbody"),
	    "subject:Y Z\r\nto:X\r\n", "subject:to:from", 27),
	H("LF line ends as the queue stores them",
	    T("From: a@b\nDate: now\n\nbody\n"),
	    "from:a@b\r\ndate:now\r\n", "from:date:from", 20),
	H("names in any case, lower-cased; unsigned fields skipped",
	    T("FROM: A\r\nX-Mailer: x\r\nmessage-id: <m>\r\n\r\n"),
	    "from:A\r\nmessage-id:<m>\r\n", "from:message-id:from", 39),
	H("every name we sign, in the order met",
	    T("Content-Transfer-Encoding: 8bit\nContent-Type: t\n"
	    "MIME-Version: 1.0\nReferences: r\nIn-Reply-To: i\n"
	    "Reply-To: rt\nMessage-ID: m\nDate: d\nSubject: s\nCc: c\n"
	    "To: t\nFrom: f\n\n"),
	    "content-transfer-encoding:8bit\r\ncontent-type:t\r\n"
	    "mime-version:1.0\r\nreferences:r\r\nin-reply-to:i\r\n"
	    "reply-to:rt\r\nmessage-id:m\r\ndate:d\r\nsubject:s\r\n"
	    "cc:c\r\nto:t\r\nfrom:f\r\n",
	    "content-transfer-encoding:content-type:mime-version:"
	    "references:in-reply-to:reply-to:message-id:date:subject:cc:"
	    "to:from:from", 161),
	H("a fold right after the colon", T("Subject:\r\n  Hi\r\n\r\n"),
	    "subject:Hi\r\n", "subject:from", 16),
	H("value of only WSP and folds", T("Subject: \t\r\n \r\n\r\n"),
	    "subject:\r\n", "subject:from", 15),
	H("several folds, tabs and spaces mixed",
	    T("To: a,\r\n\tb,\n c ,\r\n\t\t d\r\n\r\n"),
	    "to:a, b, c , d\r\n", "to:from", 24),
	H("no header at all: the empty line first", T("\r\nbody\r\n"),
	    "", "from", 0),
	H("empty input: no end seen", T(""), "", "from", -1),
	H("no empty line: the last field ends with the input",
	    T("From: a\r\nTo: b"), "from:a\r\nto:b\r\n", "from:to:from",
	    -1),
	/* hostile */
	{ "NUL in a value is a character (compared in test_head_special)",
	    TN("Subject: a\0b\r\n\r\n"), NULL, "subject:from", 14, 0 },
	H("bare CR ends a line (as the SMTP client sends it)",
	    T("Subject: a\rb: c\r\r\n"), "subject:a\r\n", "subject:from",
	    16),
	H("CR CR LF: the second CR is the empty line",
	    T("To: a\r\r\nx"), "to:a\r\n", "to:from", 6),
	H("line without a colon: not a field, not hashed",
	    T("From a@b Mon\r\nTo: x\r\n\r\n"), "to:x\r\n", "to:from", 21),
	H("continuation before any field: ignored",
	    T(" junk\r\nTo: x\r\n\r\n"), "to:x\r\n", "to:from", 14),
	H("continuation of a line without a colon: ignored",
	    T("junk\r\n cont: x\r\nTo: y\r\n\r\n"), "to:y\r\n", "to:from",
	    23),
	H("name longer than DKIM_NAME_MAX: never signed",
	    T("From-and-a-very-long-name-that-goes-on-and-on: x\r\n"
	    "\r\n"), "", "from", 50),
	H("a signed name as a prefix of a longer one",
	    T("Fromage: x\r\nTo-do: y\r\n\r\n"), "", "from", 22),
	H("WSP inside a name is kept (obsolete syntax)",
	    T("Sub ject: x\r\n\r\n"), "", "from", 13),
	H("colon in the value", T("Subject: a:b: c\r\n\r\n"),
	    "subject:a:b: c\r\n", "subject:from", 17),
	H("8-bit octets pass", T("Subject: caf\xc3\xa9\r\n\r\n"),
	    "subject:caf\xc3\xa9\r\n", "subject:from", 16),
	{ "a 5000-octet value", TF("Subject: ", "ab ", 1666, "\r\n\r\n"),
	    NULL, "subject:from", 5009, 0 },
	HDUP("From twice: not signable (dup)",
	    T("From: a\r\nFrom: b\r\n\r\n"), "from:a\r\n", "from:from", 18),
	HDUP("Subject twice, in other case",
	    T("Subject: a\r\nSUBJECT : b\r\n\r\n"), "subject:a\r\n",
	    "subject:from", 25),
	H("a WSP line inside the header is a fold, not the end",
	    T("To: a\r\n \r\nCc: b\r\n\r\n"), "to:a\r\ncc:b\r\n",
	    "to:cc:from", 17),
};

struct field_case {
	const char	*desc;
	struct text	 in;
	int		 crlf;
	const char	*want;
	size_t		 wlen;		/* when want holds NULs */
};

static const struct field_case field_cases[] = {
	{ "RFC 6376 3.4.5: A: X", T("A: X\r\n"), 1, "a:X\r\n", 0 },
	{ "RFC 6376 3.4.5: B : Y<TAB><CRLF><TAB>Z<SP><SP>",
	    T("B : Y\t\r\n\tZ  \r\n"), 1, "b:Y Z\r\n", 0 },
	{ "the DKIM-Signature as hashed: no CRLF, b= empty",
	    T("DKIM-Signature: v=1; a=rsa-sha256;\n\th=from;\n\tb="), 0,
	    "dkim-signature:v=1; a=rsa-sha256; h=from; b=", 0 },
	{ "no line end at all", T("X-A:  b  "), 1, "x-a:b\r\n", 0 },
	{ "WSP before the colon, none after", T("X \t:b"), 1, "x:b\r\n", 0 },
	{ "empty value", T("X:"), 1, "x:\r\n", 0 },
	{ "NUL in the value", TN("X: \0 \0"), 1, "x:\0 \0\r\n", 7 },
	{ "only a name: no colon, nothing", T("X"), 1, "", 0 },
};

struct body_case {
	const char	*desc;
	struct text	 in;
	int		 sep;
	const char	*want;
	size_t		 wlen;		/* when want holds NULs */
};

#define B(d, in, w)	{ (d), in, 0, (w), 0 }

static const struct body_case body_cases[] = {
	B("RFC 6376 3.4.5 example body",
	    T(" C \r\nD \t E\r\n\r\n\r\n"), " C\r\nD E\r\n"),
	B("empty body: empty (3.4.4, errata 1384)", T(""), ""),
	B("only CRLFs: empty", T("\r\n\r\n\r\n"), ""),
	B("only LFs: empty", T("\n\n\n\n"), ""),
	B("only WSP lines: empty", T("  \r\n\t\r\n \t \r\n"), ""),
	B("no final line end: one is added", T("abc"), "abc\r\n"),
	B("WSP at the end without a line end", T("a\r\n   "), "a\r\n"),
	B("empty lines inside are kept", T("a\r\n\r\n  \r\nb\r\n\r\n"),
	    "a\r\n\r\n\r\nb\r\n"),
	B("LF line ends become CRLF", T("a\nb \n\n"), "a\r\nb\r\n"),
	B("leading WSP compressed, kept", T("\t \tx  y\t\r\n"),
	    " x y\r\n"),
	{ "the separator line skipped (sep 1)", T("\r\nbody\r\n"), 1,
	    "body\r\n", 0 },
	{ "LF separator skipped", T("\nbody\n\n"), 1, "body\r\n", 0 },
	{ "empty body after the separator", T("\r\n"), 1, "", 0 },
	/* hostile */
	{ "NULs are characters", TN("a\0b\r\n\0\r\n"), 0,
	    "a\0b\r\n\0\r\n", 8 },
	B("bare CR ends a line", T("a\rb\r\r\nc"), "a\r\nb\r\n\r\nc\r\n"),
	B("CR CR: two line ends", T("x\r\r"), "x\r\n"),
	B("a dot line as stored (unstuffed)", T(".\r\n..\r\n"),
	    ".\r\n..\r\n"),
	{ "a 10000-octet line", TF(NULL, "x", 10000, "\r\n"), 0, NULL, 0 },
	{ "100000 empty lines then text", TF(NULL, "\r\n", 100000, "z"), 0,
	    NULL, 0 },
	{ "100000 empty lines at the end", TF("a\r\n", "\n", 100000, NULL),
	    0, "a\r\n", 0 },
	B("8-bit and DEL", T("\xff\x7f \xc3\xa9\r\n"),
	    "\xff\x7f \xc3\xa9\r\n"),
};

static void	sink(void *, const void *, size_t);
static void	head_run(const struct head_case *, const char *, size_t,
		    size_t, struct acc *, size_t *, struct dkim_head *);
static void	body_run(const struct body_case *, const char *, size_t,
		    size_t, size_t, struct acc *);
static char	*expect_body(const struct body_case *, size_t *);

static void
sink(void *arg, const void *p, size_t n)
{
	struct acc *a = arg;

	assert_true(a->len + n <= OUT_MAX + 200000);
	memcpy(a->p + a->len, p, n);
	a->len += n;
}

/* Feeds in[0..len) in pieces of at most step after a first of first. */
static void
head_run(const struct head_case *c, const char *in, size_t len,
    size_t first, struct acc *a, size_t *used, struct dkim_head *h)
{
	size_t off = 0;

	(void)c;
	dkim_head_init(h, sink, a);
	*used = 0;
	while (off < len && !h->done) {
		size_t n = off == 0 ? first : 1;
		size_t u;

		if (n > len - off) {
			n = len - off;
		}
		if (off == 0 && first == 0) {
			n = len;
		}
		u = dkim_head_feed(h, in + off, n);
		assert_true(u <= n);
		*used += u;
		if (u < n) {
			assert_true(h->done);
		}
		off += n;
	}
	if (!h->done) {
		dkim_head_end(h);
	}
}

static void
test_head(void **state)
{
	static char buf[OUT_MAX], ref[OUT_MAX];
	(void)state;

	for (size_t i = 0; i < sizeof head_cases / sizeof head_cases[0];
	    i++) {
		const struct head_case *c = &head_cases[i];
		struct dkim_head h;
		struct acc a = { buf, 0 };
		char hl[DKIM_HLIST_MAX];
		size_t len, used, reflen, splits;
		char *in = build(&c->in, &len);

		head_run(c, in, len, 0, &a, &used, &h);
		if (c->want != NULL) {
			expect_bytes(c->desc, "canonical", a.p, a.len, c->want,
			    strlen(c->want));
		}
		assert_int_equal(h.dup, c->dup);
		assert_true(dkim_head_list(&h, hl, sizeof hl) > 0);
		if (strcmp(hl, c->hlist) != 0) {
			fail_msg("%s: h=%s, want %s", c->desc, hl, c->hlist);
		}
		if (c->split >= 0) {
			assert_true(h.done);
			if ((long)used != c->split) {
				fail_msg("%s: ends at %zu, want %ld", c->desc,
				    used, c->split);
			}
		} else {
			assert_int_equal(used, len);
		}
		/* The same in every two-piece split and octet by octet. */
		memcpy(ref, a.p, a.len);
		reflen = a.len;
		splits = len < 600 ? len : 600;
		for (size_t k = 1; k <= splits; k++) {
			size_t u2;

			a.len = 0;
			head_run(c, in, len, k, &a, &u2, &h);
			if (a.len != reflen || memcmp(a.p, ref, reflen) != 0 ||
			    u2 != used) {
				fail_msg("%s: split at %zu differs", c->desc,
				    k);
			}
		}
		free(in);
	}
}

/* Hostile rows where the output is too long for the table, and the
 * NUL-holding ones, are compared here. */
static void
test_head_special(void **state)
{
	static char buf[OUT_MAX];
	struct acc a = { buf, 0 };
	struct dkim_head h;
	(void)state;

	/* the 5000-octet value: "subject:" + (ab ) x 1666 trimmed */
	dkim_head_init(&h, sink, &a);
	for (int i = 0; i < 1666; i++) {
		(void)dkim_head_feed(&h, i == 0 ? "Subject: ab " : "ab ",
		    i == 0 ? 12 : 3);
	}
	assert_int_equal(dkim_head_feed(&h, S("\r\n\r\n")), 2);
	assert_int_equal(a.len, 8 + 1666 * 3 - 1 + 2);
	assert_memory_equal(a.p + a.len - 4, "ab\r\n", 4);
	/* NUL row (the table compares with strlen) */
	a.len = 0;
	dkim_head_init(&h, sink, &a);
	assert_int_equal(dkim_head_feed(&h, S("Subject: a\0b\r\n\r\n")), 14);
	assert_int_equal(a.len, 13);
	assert_memory_equal(a.p, "subject:a\0b\r\n", 13);
	/* after done, nothing more is taken */
	assert_int_equal(dkim_head_feed(&h, S("To: x\r\n")), 0);
	assert_false(h.signed_already);
	/* a DKIM-Signature is noticed, never hashed; a longer name is not
	 * one */
	a.len = 0;
	dkim_head_init(&h, sink, &a);
	(void)dkim_head_feed(&h, S("DKIM-Signature-X: a\r\n"));
	assert_false(h.signed_already);
	(void)dkim_head_feed(&h, S("Dkim-Signature\t: v=1;\r\n b=x\r\n\r\n"));
	assert_true(h.signed_already);
	assert_int_equal(a.len, 0);
}

static void
test_head_add(void **state)
{
	static char buf[OUT_MAX];
	struct acc a = { buf, 0 };
	struct dkim_head h;
	char hl[DKIM_HLIST_MAX];
	(void)state;

	dkim_head_init(&h, sink, &a);
	assert_int_equal(dkim_head_feed(&h, S("From: a\n\nx")), 8);
	assert_false(dkim_head_has(&h, DKIM_N_DATE));
	assert_int_equal(dkim_head_add(&h, S("Date: Mon,  1 Jan\n")), 0);
	assert_true(dkim_head_has(&h, DKIM_N_DATE));
	assert_int_equal(dkim_head_add(&h, S("Date: again\n")), -1);
	assert_int_equal(dkim_head_add(&h, S("From: again\n")), -1);
	assert_int_equal(dkim_head_add(&h, S("X-Other: x\n")), -1);
	assert_int_equal(dkim_head_add(&h, S("Message-ID\n")), -1);
	assert_int_equal(dkim_head_add(&h, S("Message-ID: <x@y>\n")), 0);
	expect_bytes("add", "canonical", a.p, a.len,
	    "from:a\r\ndate:Mon, 1 Jan\r\nmessage-id:<x@y>\r\n", 43);
	assert_true(dkim_head_list(&h, hl, sizeof hl) > 0);
	assert_string_equal(hl, "from:date:message-id:from");
	/* h= that does not fit */
	assert_int_equal(dkim_head_list(&h, hl, 10), 0);
}

static void
test_field(void **state)
{
	static char buf[OUT_MAX];
	(void)state;

	for (size_t i = 0; i < sizeof field_cases / sizeof field_cases[0];
	    i++) {
		const struct field_case *c = &field_cases[i];
		struct acc a = { buf, 0 };
		size_t len, wl = c->wlen > 0 ? c->wlen : strlen(c->want);
		char *in = build(&c->in, &len);

		dkim_canon_field(in, len, c->crlf, sink, &a);
		expect_bytes(c->desc, "canonical", a.p, a.len, c->want, wl);
		free(in);
	}
}

/* The expected body of a row: want, or built for the long rows. */
static char *
expect_body(const struct body_case *c, size_t *len)
{
	char *p;

	if (c->want != NULL) {
		*len = c->wlen > 0 ? c->wlen : strlen(c->want);
		return dup_exact(c->want, *len);
	}
	if (c->in.fill[0] == 'x') {
		*len = 10002;
		p = malloc(*len);
		assert_non_null(p);
		memset(p, 'x', 10000);
		memcpy(p + 10000, "\r\n", 2);
		return p;
	}
	*len = 200003;		/* 100000 CRLF, z, CRLF */
	p = malloc(*len);
	assert_non_null(p);
	for (size_t i = 0; i < 100000; i++) {
		memcpy(p + 2 * i, "\r\n", 2);
	}
	memcpy(p + 200000, "z\r\n", 3);
	return p;
}

static void
body_run(const struct body_case *c, const char *in, size_t len,
    size_t first, size_t step, struct acc *a)
{
	struct dkim_body b;
	size_t off = 0;

	dkim_body_init(&b, c->sep, sink, a);
	while (off < len) {
		size_t n = off == 0 ? first : step;

		if (n == 0 || n > len - off) {
			n = len - off;
		}
		dkim_body_feed(&b, in + off, n);
		off += n;
	}
	dkim_body_end(&b);
}

static void
test_body(void **state)
{
	static char buf[OUT_MAX + 200000];
	(void)state;

	for (size_t i = 0; i < sizeof body_cases / sizeof body_cases[0];
	    i++) {
		const struct body_case *c = &body_cases[i];
		struct acc a = { buf, 0 };
		size_t len, wl;
		char *in = build(&c->in, &len);
		char *want = expect_body(c, &wl);

		body_run(c, in, len, 0, 0, &a);
		if (a.len != wl || memcmp(a.p, want, wl) != 0) {
			expect_bytes(c->desc, "body", a.p,
			    a.len < 200 ? a.len : 200, want,
			    wl < 200 ? wl : 200);
			fail_msg("%s: %zu octets, want %zu", c->desc, a.len,
			    wl);
		}
		/* Octet by octet, and in pieces of 7 after each first
		 * piece length, for the short rows. */
		for (size_t k = 1; len < 2000 && k <= len; k++) {
			a.len = 0;
			body_run(c, in, len, k, k == 1 ? 1 : 7, &a);
			if (a.len != wl || memcmp(a.p, want, wl) != 0) {
				fail_msg("%s: split %zu differs", c->desc, k);
			}
		}
		free(want);
		free(in);
	}
}

/* A sample message's body hash, fed whole, then split at EVERY offset
 * into two and three pieces, is always the same SHA-256. */
static const char sample[] =
    "Hi Bob,  \r\n"
    "\r\n"
    "\tsee you at  noon. \t\r\n"
    "..\r\n"
    "a\rb\nc\r\n"
    " \r\n"
    "\r\n";

static void
hash_sink(void *arg, const void *p, size_t n)
{
	br_sha256_update(arg, p, n);
}

static void
sample_hash(size_t cut1, size_t cut2, unsigned char *out)
{
	br_sha256_context h;
	struct dkim_body b;
	size_t len = sizeof sample - 1;

	br_sha256_init(&h);
	dkim_body_init(&b, 0, hash_sink, &h);
	dkim_body_feed(&b, sample, cut1);
	dkim_body_feed(&b, sample + cut1, cut2 - cut1);
	dkim_body_feed(&b, sample + cut2, len - cut2);
	dkim_body_end(&b);
	br_sha256_out(&h, out);
}

static void
test_body_every_split(void **state)
{
	static const char canon[] = "Hi Bob,\r\n\r\n see you at noon.\r\n"
	    "..\r\na\r\nb\r\nc\r\n";
	unsigned char whole[32], want[32], got[32];
	br_sha256_context h;
	size_t len = sizeof sample - 1;
	(void)state;

	br_sha256_init(&h);
	br_sha256_update(&h, canon, sizeof canon - 1);
	br_sha256_out(&h, want);
	sample_hash(len, len, whole);
	assert_memory_equal(whole, want, 32);
	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i; j <= len; j++) {
			sample_hash(i, j, got);
			if (memcmp(got, whole, 32) != 0) {
				fail_msg("split at %zu and %zu differs", i, j);
			}
		}
	}
}

static void
test_empty_body_hashes(void **state)
{
	/* RFC 6376 3.4.4 (errata 1384): relaxed, empty body = SHA-256 of
	 * nothing. */
	static const unsigned char empty[32] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb,
		0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4,
		0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
		0xb8, 0x55
	};
	unsigned char got[32];
	br_sha256_context h;
	struct dkim_body b;
	(void)state;

	br_sha256_init(&h);
	dkim_body_init(&b, 1, hash_sink, &h);
	dkim_body_feed(&b, S("\r\n\r\n \t\r\n\n"));
	dkim_body_end(&b);
	br_sha256_out(&h, got);
	assert_memory_equal(got, empty, 32);
}

static void
test_sig_format(void **state)
{
	unsigned char bh[DKIM_BH_LEN], b[256], b2[256];
	char out[DKIM_SIG_MAX], out2[DKIM_SIG_MAX];
	struct dkim_sig s;
	size_t n, n2, col = 0;
	(void)state;

	memset(bh, 0xab, sizeof bh);
	memset(b, 0, sizeof b);
	memset(b2, 0xff, sizeof b2);
	memset(&s, 0, sizeof s);
	s.domain = "example.org";
	s.selector = "sel";
	s.t = 1765000000;
	s.hlist = "from:to:cc:subject:reply-to:in-reply-to:references:"
	    "mime-version:content-type:content-transfer-encoding:date:"
	    "message-id:from";
	s.bh = bh;
	s.blen = sizeof b;
	n = dkim_sig_format(&s, out, sizeof out);
	assert_true(n > 0);
	assert_string_equal(out + n - 2, "b=");
	assert_non_null(strstr(out, "DKIM-Signature: v=1; a=rsa-sha256; "
	    "c=relaxed/relaxed; d=example.org;\n\ts=sel; t=1765000000;\n"));
	s.b = b;
	n = dkim_sig_format(&s, out, sizeof out);
	s.b = b2;
	n2 = dkim_sig_format(&s, out2, sizeof out2);
	assert_true(n > 0);
	assert_int_equal(n, n2);	/* the placeholder's length holds */
	assert_int_equal(out[n - 1], '\n');
	for (size_t i = 0; i < n; i++) {
		col = out[i] == '\n' ? 0 : col + 1;
		assert_true(col < 78);
	}
	/* no t= */
	s.t = -1;
	assert_null(strstr((dkim_sig_format(&s, out, sizeof out), out),
	    "t="));
	/* too small, bad d= and s= */
	s.t = 1765000000;
	assert_int_equal(dkim_sig_format(&s, out, n2 - 1), 0);
	assert_int_equal(dkim_sig_format(&s, out, 0), 0);
	s.domain = "exa;mple.org";
	assert_int_equal(dkim_sig_format(&s, out, sizeof out), 0);
	s.domain = "";
	assert_int_equal(dkim_sig_format(&s, out, sizeof out), 0);
	s.domain = "example.org";
	s.selector = "a b";
	assert_int_equal(dkim_sig_format(&s, out, sizeof out), 0);
	s.selector = "sel";
	s.blen = DKIM_SIGLEN_MAX + 1;
	assert_int_equal(dkim_sig_format(&s, out, sizeof out), 0);
	/* 4096-bit signature and the longest names fit DKIM_SIG_MAX */
	{
		static unsigned char big[DKIM_SIGLEN_MAX];
		char dom[DKIM_DOMAIN_MAX + 1], sel[DKIM_SELECTOR_MAX + 1];

		memset(dom, 'd', sizeof dom - 1);
		dom[sizeof dom - 1] = '\0';
		memset(sel, 's', sizeof sel - 1);
		sel[sizeof sel - 1] = '\0';
		s.domain = dom;
		s.selector = sel;
		s.b = big;
		s.blen = sizeof big;
		s.t = INT64_C(9999999999);
		assert_true(dkim_sig_format(&s, out, sizeof out) > 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_head_special),
		cmocka_unit_test(test_head_add),
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_body_every_split),
		cmocka_unit_test(test_empty_body_hashes),
		cmocka_unit_test(test_sig_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
