/* SPDX-License-Identifier: ISC */
/*
 * test_acme_crypto.c - ACME's cryptography (acme/acme_crypto.h) and
 * the DER writer under it (core/der.h): a JWS whose signature verifies
 * over protected.payload with the JWK's key, POST-as-GET with an empty
 * payload, a kid header, a CSR and a TLS-ALPN-01 certificate that
 * BearSSL's X.509 decoder reads back with their names, the key's PEM
 * read back, base64url, and the writer's length forms and its refusals
 * (no room, too deep, close without open).
 */
#include "testutil.h"

#include <bearssl.h>
#include <unistd.h>

#include "acme/acme_crypto.h"
#include "acme/json.h"
#include "core/der.h"
#include "msg/base64.h"

static struct acme_key key;

/* Decodes base64url (no padding) with the standard decoder. */
static long
b64u_decode(const char *s, size_t len, unsigned char *out, size_t cap)
{
	char tmp[4096];
	size_t n = 0;

	assert_true(len + 4 < sizeof tmp);
	for (size_t i = 0; i < len; i++) {
		tmp[n++] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	}
	while (n % 4 != 0) {
		tmp[n++] = '=';
	}
	return base64_decode(tmp, n, out, cap);
}

static void
test_jws(void **state)
{
	static char out[4096], hdr[1024];
	struct json_tok t[32];
	unsigned char sig[64], h[32];
	br_sha256_context c;
	const char *p;
	int n, ip, ipl, is;
	long l;

	(void)state;
	l = acme_jws(&key, NULL, "N0NCE", "https://a/new-acct",
	    "{\"termsOfServiceAgreed\":true}", out, sizeof out);
	assert_true(l > 0);
	n = json_parse(out, (size_t)l, t, 32);
	assert_int_equal(n, 7);
	ip = json_member(out, t, n, 0, "protected");
	ipl = json_member(out, t, n, 0, "payload");
	is = json_member(out, t, n, 0, "signature");
	assert_true(ip > 0 && ipl > 0 && is > 0);
	/* RFC 7515 5.2: the signature over ASCII(protected "." payload) */
	br_sha256_init(&c);
	br_sha256_update(&c, out + t[ip].start, t[ip].end - t[ip].start);
	br_sha256_update(&c, ".", 1);
	br_sha256_update(&c, out + t[ipl].start, t[ipl].end - t[ipl].start);
	br_sha256_out(&c, h);
	assert_int_equal(b64u_decode(out + t[is].start, t[is].end -
	    t[is].start, sig, sizeof sig), 64);
	assert_true(br_ecdsa_i31_vrfy_raw(&br_ec_p256_m31, h, 32, &key.pk,
	    sig, 64));
	l = b64u_decode(out + t[ip].start, t[ip].end - t[ip].start,
	    (unsigned char *)hdr, sizeof hdr - 1);
	assert_true(l > 0);
	hdr[l] = '\0';
	p = strstr(hdr, "\"jwk\":{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"");
	assert_non_null(p);
	assert_non_null(strstr(hdr, "\"alg\":\"ES256\""));
	assert_non_null(strstr(hdr, "\"nonce\":\"N0NCE\""));
	assert_non_null(strstr(hdr, "\"url\":\"https://a/new-acct\""));
	/* POST-as-GET with a kid: an empty payload (RFC 8555 6.3) */
	l = acme_jws(&key, "https://a/acct/1", "n", "https://a/o", NULL, out,
	    sizeof out);
	assert_true(l > 0);
	assert_non_null(strstr(out, "\"payload\":\"\""));
	n = json_parse(out, (size_t)l, t, 32);
	ip = json_member(out, t, n, 0, "protected");
	l = b64u_decode(out + t[ip].start, t[ip].end - t[ip].start,
	    (unsigned char *)hdr, sizeof hdr - 1);
	hdr[l] = '\0';
	assert_non_null(strstr(hdr, "\"kid\":\"https://a/acct/1\""));
	assert_null(strstr(hdr, "jwk"));
	/* too small an output: refused, never overrun */
	for (size_t cap = 0; cap < 300; cap += 7) {
		assert_int_equal(acme_jws(&key, NULL, "n", "https://a/b", "{}",
		    out, cap), -1);
	}
}

static void
test_csr_and_alpn_cert(void **state)
{
	static const char *names[] = { "mail.example.org",
	    "autoconfig.example.org", "mta-sts.example.org" };
	unsigned char der[2048];
	br_x509_decoder_context dc;
	const unsigned char *p, *end, *v;
	unsigned tag;
	size_t len;
	long l;

	(void)state;
	l = acme_csr(&key, names, 3, der, sizeof der);
	assert_true(l > 0);
	/* SEQUENCE { info SEQUENCE, alg SEQUENCE, BIT STRING } */
	p = der;
	end = der + l;
	assert_int_equal(der_get(&p, end, &tag, &v, &len), 0);
	assert_int_equal(tag, 0x30);
	assert_true(p == end);
	for (size_t i = 0; i < 3; i++) {
		assert_non_null(memmem(der, (size_t)l, names[i],
		    strlen(names[i])));
	}
	assert_int_equal(acme_csr(&key, names, 3, der, 100), -1);
	l = acme_alpn_cert(&key, "mail.example.org", "tok.thumb", der,
	    sizeof der);
	assert_true(l > 0);
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, der, (size_t)l);
	assert_int_equal(br_x509_decoder_last_error(&dc), 0);
	assert_true(br_x509_decoder_isCA(&dc) == 0);
	assert_int_equal(br_x509_decoder_get_pkey(&dc)->key_type,
	    BR_KEYTYPE_EC);
	/* the critical acmeIdentifier extension: OID, TRUE, OCTET STRING */
	assert_non_null(memmem(der, (size_t)l, "\x06\x08\x2b\x06\x01\x05"
	    "\x05\x07\x01\x1f\x01\x01\xff\x04\x22\x04\x20", 17));
	assert_int_equal(acme_alpn_cert(&key, "x", "y", der, 64), -1);
}

static void
test_key_pem_and_thumbprint(void **state)
{
	char pem[ACME_PEM_MAX], path[] = "/tmp/test_acme_keyXXXXXX";
	char th[ACME_THUMB_BUF], th2[ACME_THUMB_BUF];
	struct acme_key k2;
	struct err e;
	long l;
	int fd;

	(void)state;
	l = acme_key_pem(&key, pem, sizeof pem);
	assert_true(l > 0);
	assert_non_null(strstr(pem, "-----BEGIN EC PRIVATE KEY-----"));
	assert_int_equal(acme_key_pem(&key, pem, 100), -1);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, pem, (size_t)l), l);
	close(fd);
	assert_int_equal(acme_key_load(&k2, path, &e), 0);
	unlink(path);
	assert_memory_equal(k2.pk.q, key.pk.q, 65);
	assert_int_equal(acme_thumbprint(&key, th, sizeof th), 0);
	assert_int_equal(strlen(th), ACME_THUMB_LEN);
	assert_int_equal(acme_thumbprint(&k2, th2, sizeof th2), 0);
	assert_string_equal(th, th2);
	assert_null(strpbrk(th, "+/="));
	assert_int_equal(acme_key_load(&k2, "/nonexistent/k.pem", &e), -1);
}

static void
test_base64url(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(base64url_encode((const unsigned char *)"\xfb\xff",
	    2, out, sizeof out), 3);
	assert_string_equal(out, "-_8");
	assert_int_equal(base64url_encode((const unsigned char *)"", 0, out,
	    sizeof out), 0);
	assert_int_equal(base64url_encode((const unsigned char *)"abcd", 4,
	    out, 8), -1);
}

static void
test_der_writer(void **state)
{
	unsigned char buf[400], big[300];
	struct der_w w;

	(void)state;
	memset(big, 0xab, sizeof big);
	der_w_init(&w, buf, sizeof buf);
	der_open(&w, 0x30);
	der_put(&w, 0x04, big, 127);		/* short form, the longest */
	der_put(&w, 0x04, big, 128);		/* long form, one octet */
	der_close(&w);				/* 2 + 127 + 3 + 128 = 260 */
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, 264);
	assert_memory_equal(buf, "\x30\x82\x01\x04\x04\x7f", 6);
	assert_memory_equal(buf + 4 + 129, "\x04\x81\x80", 3);
	/* no room */
	der_w_init(&w, buf, 10);
	der_put(&w, 0x04, big, 9);
	assert_int_equal(w.err, 1);
	/* the long form's octets not fitting at the close */
	der_w_init(&w, buf, 2 + 128);
	der_open(&w, 0x30);
	memset(buf + 2, 0, 128);
	w.len += 128;
	der_close(&w);
	assert_int_equal(w.err, 1);
	/* too deep, close without open: sticky */
	der_w_init(&w, buf, sizeof buf);
	for (int i = 0; i <= DER_W_DEPTH; i++) {
		der_open(&w, 0x30);
	}
	assert_int_equal(w.err, 1);
	der_w_init(&w, buf, sizeof buf);
	der_close(&w);
	assert_int_equal(w.err, 1);
	der_put(&w, 0x05, NULL, 0);
	assert_int_equal(w.err, 1);
}

static int
setup(void **state)
{
	(void)state;
	return acme_key_gen(&key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jws),
		cmocka_unit_test(test_csr_and_alpn_cert),
		cmocka_unit_test(test_key_pem_and_thumbprint),
		cmocka_unit_test(test_base64url),
		cmocka_unit_test(test_der_writer),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
