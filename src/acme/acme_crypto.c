/* SPDX-License-Identifier: ISC */
/*
 * acme_crypto.c - keys, JWS, CSR and the challenge certificate for
 * ACME (see acme_crypto.h): RFC 8555 6.2 and 7.4, RFC 7515, RFC 7518
 * 3.4 (ES256 is r || s, 64 octets), RFC 7638, RFC 2986, RFC 5280
 * 4.1 and RFC 8737 3.
 */
#include <string.h>
#include <sys/random.h>

#include "acme/acme_crypto.h"
#include "core/der.h"
#include "core/fmt.h"
#include "msg/base64.h"
#include "tls/tls_cred.h"

/* OIDs, contents only (X.690 8.19). */
static const unsigned char oid_ecpub[] = {
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const unsigned char oid_p256[] = {
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char oid_ecdsa_sha256[] = {
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const unsigned char oid_san[] = { 0x55, 0x1d, 0x11 };
static const unsigned char oid_ext_req[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e };
static const unsigned char oid_acme_id[] = {	/* RFC 8737 6.1 */
	0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1f };

struct key_load {
	br_skey_decoder_context	 dc;
	int			 found;
};

static void	sha256(const void *, size_t, unsigned char *);
static void	put_spki(struct der_w *, const struct acme_key *);
static void	put_san(struct der_w *, const char *const *, size_t);
static void	put_sig(struct der_w *, const struct acme_key *, size_t);
static int	pem_key(void *, const char *, const unsigned char *, size_t);
static int	b64u(const void *, size_t, char *, size_t);

int
acme_key_gen(struct acme_key *k)
{
	br_hmac_drbg_context rng;
	unsigned char seed[32];

	if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
		return -1;
	}
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof seed);
	if (br_ec_keygen(&rng.vtable, br_ec_get_default(), &k->sk, k->kbuf,
	    BR_EC_secp256r1) == 0 ||
	    br_ec_compute_pub(br_ec_get_default(), &k->pk, k->pbuf,
	    &k->sk) == 0) {
		return -1;
	}
	memset(seed, 0, sizeof seed);
	return 0;
}

long
acme_key_pem(const struct acme_key *k, char *out, size_t cap)
{
	unsigned char der[160];
	size_t l = br_encode_ec_raw_der(NULL, &k->sk, &k->pk);

	if (l == 0 || l > sizeof der ||
	    br_pem_encode(NULL, der, l, "EC PRIVATE KEY", BR_PEM_LINE64) >=
	    cap) {
		return -1;
	}
	(void)br_encode_ec_raw_der(der, &k->sk, &k->pk);
	return (long)br_pem_encode(out, der, l, "EC PRIVATE KEY",
	    BR_PEM_LINE64);
}

int
acme_key_load(struct acme_key *k, const char *path, struct err *e)
{
	struct key_load kl;
	const br_ec_private_key *sk;

	br_skey_decoder_init(&kl.dc);
	kl.found = 0;
	if (tls_pem_each(path, 4096, pem_key, &kl, e) == -1) {
		return -1;
	}
	if (!kl.found || br_skey_decoder_last_error(&kl.dc) != 0 ||
	    (sk = br_skey_decoder_get_ec(&kl.dc)) == NULL ||
	    sk->curve != BR_EC_secp256r1 || sk->xlen > sizeof k->kbuf) {
		return err_set(e, "%s: no EC P-256 private key", path);
	}
	memcpy(k->kbuf, sk->x, sk->xlen);
	k->sk.curve = sk->curve;
	k->sk.x = k->kbuf;
	k->sk.xlen = sk->xlen;
	if (br_ec_compute_pub(br_ec_get_default(), &k->pk, k->pbuf,
	    &k->sk) == 0) {
		return err_set(e, "%s: unusable key", path);
	}
	return 0;
}

long
acme_jwk(const struct acme_key *k, char *out, size_t cap)
{
	char x[48], y[48];
	int l;

	/* pbuf: 0x04 || X || Y (uncompressed point, SEC 1 2.3.3) */
	if (k->pk.qlen != 65 || b64u(k->pk.q + 1, 32, x, sizeof x) == -1 ||
	    b64u(k->pk.q + 33, 32, y, sizeof y) == -1) {
		return -1;
	}
	l = fmt(out, cap, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\","
	    "\"y\":\"%s\"}", x, y);
	return l < 0 || (size_t)l >= cap ? -1 : l;
}

int
acme_thumbprint(const struct acme_key *k, char *out, size_t cap)
{
	char jwk[160];
	unsigned char h[32];
	long l = acme_jwk(k, jwk, sizeof jwk);

	if (l < 0) {
		return -1;
	}
	sha256(jwk, (size_t)l, h);
	return b64u(h, sizeof h, out, cap);
}

long
acme_jws(const struct acme_key *k, const char *kid, const char *nonce,
    const char *url, const char *payload, char *out, size_t cap)
{
	char hdr[1024], who[200];
	unsigned char h[32], sig[64];
	long hl, pl = 0;
	size_t used;
	int l;

	if (kid != NULL) {
		l = fmt(who, sizeof who, "\"kid\":\"%s\"", kid);
	} else {
		l = (int)acme_jwk(k, who + 6, sizeof who - 6);
		memcpy(who, "\"jwk\":", 6);
		l = l < 0 ? -1 : l + 6;
	}
	if (l < 0 || (size_t)l >= sizeof who) {
		return -1;
	}
	l = fmt(hdr, sizeof hdr, "{\"alg\":\"ES256\",%s,\"nonce\":\"%s\","
	    "\"url\":\"%s\"}", who, nonce, url);
	if (l < 0 || (size_t)l >= sizeof hdr) {
		return -1;
	}
	/* {"protected":"H","payload":"P","signature":"S"} */
	if (cap < 16) {
		return -1;
	}
	memcpy(out, "{\"protected\":\"", 14);
	used = 14;
	if ((hl = base64url_encode((const unsigned char *)hdr, (size_t)l,
	    out + used, cap - used)) < 0) {
		return -1;
	}
	used += (size_t)hl;
	if (cap - used < 16) {
		return -1;
	}
	memcpy(out + used, "\",\"payload\":\"", 13);
	used += 13;
	if (payload != NULL && (pl = base64url_encode(
	    (const unsigned char *)payload, strlen(payload), out + used,
	    cap - used)) < 0) {
		return -1;
	}
	/* The signing input is H.P: sign it where it stands. */
	{
		br_sha256_context c;
		char *p0 = out + 14;

		br_sha256_init(&c);
		br_sha256_update(&c, p0, (size_t)hl);
		br_sha256_update(&c, ".", 1);
		br_sha256_update(&c, out + used, (size_t)pl);
		br_sha256_out(&c, h);
	}
	used += (size_t)pl;
	if (br_ecdsa_sign_raw_get_default()(br_ec_get_default(),
	    &br_sha256_vtable, h, &k->sk, sig) != sizeof sig) {
		return -1;
	}
	l = fmt(out + used, cap - used, "\",\"signature\":\"");
	used += (size_t)l;
	if (used >= cap || b64u(sig, sizeof sig, out + used, cap - used) ==
	    -1) {
		return -1;
	}
	used += strlen(out + used);
	if (cap - used < 3) {
		return -1;
	}
	memcpy(out + used, "\"}", 3);
	return (long)used + 2;
}

long
acme_csr(const struct acme_key *k, const char *const *names, size_t n,
    unsigned char *out, size_t cap)
{
	struct der_w w;
	size_t info;

	der_w_init(&w, out, cap);
	der_open(&w, 0x30);
	info = w.len;
	der_open(&w, 0x30);			/* CertificationRequestInfo */
	der_put(&w, 0x02, "\0", 1);		/* version 0 */
	der_put(&w, 0x30, NULL, 0);		/* empty subject */
	put_spki(&w, k);
	der_open(&w, 0xa0);			/* attributes */
	der_open(&w, 0x30);
	der_put(&w, 0x06, oid_ext_req, sizeof oid_ext_req);
	der_open(&w, 0x31);
	der_open(&w, 0x30);			/* Extensions */
	put_san(&w, names, n);
	der_close(&w);
	der_close(&w);
	der_close(&w);
	der_close(&w);
	der_close(&w);				/* info */
	put_sig(&w, k, info);
	der_close(&w);
	return w.err ? -1 : (long)w.len;
}

long
acme_alpn_cert(const struct acme_key *k, const char *name,
    const char *keyauth, unsigned char *out, size_t cap)
{
	static const unsigned char v3[] = { 0x02, 0x01, 0x02 };
	static const char from[] = "200101000000Z", to[] = "491231235959Z";
	unsigned char h[34];
	struct der_w w;
	size_t tbs;

	h[0] = 0x04;			/* OCTET STRING of the digest */
	h[1] = 32;
	sha256(keyauth, strlen(keyauth), h + 2);
	der_w_init(&w, out, cap);
	der_open(&w, 0x30);
	tbs = w.len;
	der_open(&w, 0x30);			/* TBSCertificate */
	der_put(&w, 0xa0, v3, sizeof v3);	/* [0] version 3 */
	der_put(&w, 0x02, h + 2, 8);		/* serial: any, unique */
	out[w.len - 8] &= 0x7f;			/* positive */
	der_open(&w, 0x30);
	der_put(&w, 0x06, oid_ecdsa_sha256, sizeof oid_ecdsa_sha256);
	der_close(&w);
	der_put(&w, 0x30, NULL, 0);		/* issuer: empty */
	der_open(&w, 0x30);			/* validity: no clock */
	der_put(&w, 0x17, from, sizeof from - 1);
	der_put(&w, 0x17, to, sizeof to - 1);
	der_close(&w);
	der_put(&w, 0x30, NULL, 0);		/* subject: empty */
	put_spki(&w, k);
	der_open(&w, 0xa3);
	der_open(&w, 0x30);
	put_san(&w, &name, 1);
	der_open(&w, 0x30);			/* RFC 8737 3: critical */
	der_put(&w, 0x06, oid_acme_id, sizeof oid_acme_id);
	der_put(&w, 0x01, "\xff", 1);
	der_put(&w, 0x04, h, sizeof h);
	der_close(&w);
	der_close(&w);
	der_close(&w);
	der_close(&w);				/* tbs */
	put_sig(&w, k, tbs);
	der_close(&w);
	return w.err ? -1 : (long)w.len;
}

static void
sha256(const void *p, size_t len, unsigned char *out)
{
	br_sha256_context c;

	br_sha256_init(&c);
	br_sha256_update(&c, p, len);
	br_sha256_out(&c, out);
}

/* SubjectPublicKeyInfo of an EC P-256 key (RFC 5480 2). */
static void
put_spki(struct der_w *w, const struct acme_key *k)
{
	unsigned char bits[66];

	bits[0] = 0;
	memcpy(bits + 1, k->pk.q, k->pk.qlen < 65 ? k->pk.qlen : 65);
	der_open(w, 0x30);
	der_open(w, 0x30);
	der_put(w, 0x06, oid_ecpub, sizeof oid_ecpub);
	der_put(w, 0x06, oid_p256, sizeof oid_p256);
	der_close(w);
	der_put(w, 0x03, bits, sizeof bits);
	der_close(w);
}

/* The subjectAltName extension: dNSName [2] for each name. */
static void
put_san(struct der_w *w, const char *const *names, size_t n)
{
	der_open(w, 0x30);
	der_put(w, 0x06, oid_san, sizeof oid_san);
	der_open(w, 0x04);
	der_open(w, 0x30);
	for (size_t i = 0; i < n; i++) {
		der_put(w, 0x82, names[i], strlen(names[i]));
	}
	der_close(w);
	der_close(w);
	der_close(w);
}

/* The algorithm and the signature over out[from..len), which is the
 * whole element just closed. */
static void
put_sig(struct der_w *w, const struct acme_key *k, size_t from)
{
	unsigned char h[32], sig[1 + 80];
	size_t sl;

	if (w->err) {
		return;
	}
	sha256(w->buf + from, w->len - from, h);
	sl = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(),
	    &br_sha256_vtable, h, &k->sk, sig + 1);
	if (sl == 0) {
		w->err = 1;
		return;
	}
	sig[0] = 0;				/* no unused bits */
	der_open(w, 0x30);
	der_put(w, 0x06, oid_ecdsa_sha256, sizeof oid_ecdsa_sha256);
	der_close(w);
	der_put(w, 0x03, sig, sl + 1);
}

static int
pem_key(void *arg, const char *name, const unsigned char *der, size_t len)
{
	struct key_load *kl = arg;

	if (kl->found || strstr(name, "PRIVATE KEY") == NULL) {
		return 0;			/* the first key only */
	}
	br_skey_decoder_push(&kl->dc, der, len);
	kl->found = 1;
	return 0;
}

static int
b64u(const void *p, size_t len, char *out, size_t cap)
{
	return base64url_encode(p, len, out, cap) < 0 ? -1 : 0;
}
