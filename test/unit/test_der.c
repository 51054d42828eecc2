/* SPDX-License-Identifier: ISC */
/*
 * test_der.c - one DER element at a time (core/der.h): short and long
 * lengths, and every way an element can be cut short or malformed.
 *
 * Each row is an exact-size heap copy (ASan sees a read past its end)
 * with a one-line description: the tag, content offset and length of
 * the first element and how far the cursor moves, or -1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/der.h"

struct der_case {
	const char		*desc;
	const unsigned char	*in;
	size_t			 len;
	int			 rc;
	unsigned		 tag;
	size_t			 voff, vlen;	/* contents at in + voff */
};

#define B(...)	(const unsigned char[]){ __VA_ARGS__ }, \
		sizeof((const unsigned char[]){ __VA_ARGS__ })
#define GOOD(d, in, t, off, n)	{ (d), in, 0, (t), (off), (n) }
#define BAD(d, in)		{ (d), in, -1, 0, 0, 0 }

static unsigned char big[3 + 0x1234];

static const struct der_case cases[] = {
	GOOD("NULL: tag 05, no contents", B(0x05, 0x00), 0x05, 2, 0),
	GOOD("INTEGER 1", B(0x02, 0x01, 0x01), 0x02, 2, 1),
	GOOD("a SEQUENCE with the rest of the input after it",
	    B(0x30, 0x03, 0x02, 0x01, 0x05, 0xff, 0xff), 0x30, 2, 3),
	GOOD("long form, one length octet", B(0x04, 0x81, 0x01, 0xaa),
	    0x04, 3, 1),
	GOOD("long form, two length octets (non-minimal, read anyway)",
	    B(0x04, 0x82, 0x00, 0x01, 0xaa), 0x04, 4, 1),
	GOOD("long form, three length octets, zero length",
	    B(0x04, 0x83, 0x00, 0x00, 0x00), 0x04, 5, 0),
	GOOD("BIT STRING with the unused-bits octet",
	    B(0x03, 0x02, 0x00, 0x80), 0x03, 2, 2),
	GOOD("context tag [0] constructed", B(0xa0, 0x00), 0xa0, 2, 0),
	{ "empty input", (const unsigned char[]){ 0 }, 0, -1, 0, 0, 0 },
	BAD("only a tag", B(0x30)),
	BAD("length says 1, nothing follows", B(0x02, 0x01)),
	BAD("length says 3, two follow", B(0x04, 0x03, 0x01, 0x02)),
	BAD("indefinite length (BER, not DER)",
	    B(0x30, 0x80, 0x00, 0x00)),
	BAD("four length octets: over DER_LEN_OCTETS_MAX",
	    B(0x04, 0x84, 0x00, 0x00, 0x00, 0x01, 0xaa)),
	BAD("0xff: 127 length octets", B(0x04, 0xff, 0x00)),
	BAD("long form cut in its length octets", B(0x04, 0x82, 0x01)),
	BAD("long form length past the end", B(0x04, 0x81, 0x05, 0x01)),
	BAD("three length octets saying 16 MB, 1 byte there",
	    B(0x04, 0x83, 0xff, 0xff, 0xff, 0x00)),
	BAD("two length octets, 0xffff", B(0x30, 0x82, 0xff, 0xff, 0x00)),
};

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct der_case *c = &cases[i];
		unsigned char *in = malloc(c->len ? c->len : 1);
		const unsigned char *p, *v = NULL;
		unsigned tag = 0;
		size_t vlen = 0;
		int rc;

		assert_non_null(in);
		memcpy(in, c->in, c->len);
		p = in;
		rc = der_get(&p, in + c->len, &tag, &v, &vlen);
		if (rc != c->rc) {
			fail_msg("%s: rc %d, want %d", c->desc, rc, c->rc);
		}
		if (rc == 0) {
			assert_int_equal(tag, c->tag);
			assert_ptr_equal(v, in + c->voff);
			assert_int_equal(vlen, c->vlen);
			assert_ptr_equal(p, in + c->voff + c->vlen);
		} else {
			assert_ptr_equal(p, in);	/* nothing moved */
		}
		free(in);
	}
}

/* A 0x1234-byte element in three length octets, then every prefix of
 * it is refused. */
static void
test_long_and_every_prefix(void **state)
{
	const unsigned char *p, *v;
	unsigned tag;
	size_t vlen;

	(void)state;
	big[0] = 0x04;
	big[1] = 0x82;
	big[2] = 0x12;
	big[3] = 0x34;
	p = big;
	assert_int_equal(der_get(&p, big + 4 + 0x1234 - 1, &tag, &v, &vlen),
	    -1);
	for (size_t n = 0; n < 4 + 16; n++) {
		p = big;
		assert_int_equal(der_get(&p, big + n, &tag, &v, &vlen), -1);
	}
}

/* Walking a SEQUENCE's children stops cleanly at its end. */
static void
test_walk(void **state)
{
	static const unsigned char seq[] = { 0x30, 0x06, 0x02, 0x01, 0x01,
		0x02, 0x01, 0x02 };
	const unsigned char *p = seq, *v, *q, *qe;
	unsigned tag;
	size_t vlen, n = 0;

	(void)state;
	assert_int_equal(der_get(&p, seq + sizeof seq, &tag, &v, &vlen), 0);
	q = v;
	qe = v + vlen;
	while (q < qe && der_get(&q, qe, &tag, &v, &vlen) == 0) {
		assert_int_equal(tag, 0x02);
		assert_int_equal(v[0], ++n);
	}
	assert_int_equal(n, 2);
	assert_ptr_equal(q, qe);
}

/* RSA public keys as DKIM records hold them (der_rsa_pub): n and e
 * (first octets given, leading zeros skipped) or -1. */
struct rsa_case {
	const char		*desc;
	const unsigned char	*in;
	size_t			 len;
	int			 rc;
	unsigned char		 n0, e0;
	size_t			 nlen, elen;
};

#define RSA_OK(d, in, n0, nl, e0, el)	{ (d), in, 0, (n0), (e0), (nl), (el) }
#define RSA_BAD(d, in)			{ (d), in, -1, 0, 0, 0, 0 }

/* rsaEncryption's AlgorithmIdentifier: OID 1.2.840.113549.1.1.1, NULL */
#define ALG	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, \
		0x01, 0x01, 0x01, 0x05, 0x00

static const struct rsa_case rsa_cases[] = {
	RSA_OK("bare RSAPublicKey { n, e }",
	    B(0x30, 0x07, 0x02, 0x02, 0x00, 0xc1, 0x02, 0x01, 0x03),
	    0xc1, 1, 0x03, 1),
	RSA_OK("SubjectPublicKeyInfo around it",
	    B(0x30, 0x1a, ALG, 0x03, 0x09, 0x00,
	    0x30, 0x06, 0x02, 0x01, 0x7f, 0x02, 0x01, 0x03),
	    0x7f, 1, 0x03, 1),
	RSA_OK("n with two leading zeros",
	    B(0x30, 0x08, 0x02, 0x03, 0x00, 0x00, 0xa5, 0x02, 0x01, 0x01),
	    0xa5, 1, 0x01, 1),
	RSA_BAD("empty input", B(0x00)),
	RSA_BAD("not a SEQUENCE", B(0x31, 0x03, 0x02, 0x01, 0x05)),
	RSA_BAD("SEQUENCE cut short", B(0x30, 0x07, 0x02, 0x02, 0x00)),
	RSA_BAD("only n", B(0x30, 0x03, 0x02, 0x01, 0x05)),
	RSA_BAD("e is not an INTEGER",
	    B(0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0x03)),
	RSA_BAD("n empty", B(0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x03)),
	RSA_BAD("BIT STRING with unused bits",
	    B(0x30, 0x1a, ALG, 0x03, 0x09, 0x01,
	    0x30, 0x06, 0x02, 0x01, 0x7f, 0x02, 0x01, 0x03)),
	RSA_BAD("BIT STRING missing after the algorithm",
	    B(0x30, 0x0f, ALG)),
	RSA_BAD("BIT STRING holding no SEQUENCE",
	    B(0x30, 0x16, ALG, 0x03, 0x05, 0x00, 0x02, 0x01, 0x7f, 0x05,
	    0x00)),
	RSA_BAD("SPKI nested in the BIT STRING again",
	    B(0x30, 0x2d, ALG, 0x03, 0x1c, 0x00,
	    0x30, 0x1a, ALG, 0x03, 0x09, 0x00,
	    0x30, 0x06, 0x02, 0x01, 0x7f, 0x02, 0x01, 0x03)),
	RSA_BAD("a length past the input",
	    B(0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x05)),
};

static void
test_rsa_pub(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof rsa_cases / sizeof rsa_cases[0]; i++) {
		const struct rsa_case *c = &rsa_cases[i];
		unsigned char *in = malloc(c->len);
		const unsigned char *n = NULL, *e = NULL;
		size_t nlen = 0, elen = 0;
		int rc;

		assert_non_null(in);
		memcpy(in, c->in, c->len);
		rc = der_rsa_pub(in, c->len, &n, &nlen, &e, &elen);
		if (rc != c->rc) {
			fail_msg("%s: rc %d", c->desc, rc);
		}
		if (rc == 0 && (n[0] != c->n0 || nlen != c->nlen ||
		    e[0] != c->e0 || elen != c->elen)) {
			fail_msg("%s: wrong n or e", c->desc);
		}
		free(in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_long_and_every_prefix),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_rsa_pub),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
