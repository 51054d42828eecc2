/* SPDX-License-Identifier: ISC */
/*
 * acme_crypto.h - the cryptography of ACME (RFC 8555) with BearSSL:
 * ECDSA P-256 keys (generated from a DRBG seeded by getrandom, kept as
 * "EC PRIVATE KEY" PEM), the JWK and its thumbprint (RFC 7638), JWS
 * ES256 in flattened JSON (RFC 8555 6.2, RFC 7515 7.2.2), a PKCS #10
 * request with the names as subjectAltName (RFC 2986, RFC 8555 7.4),
 * and the TLS-ALPN-01 self-signed certificate (RFC 8737 3).
 */
#ifndef WREN_ACME_CRYPTO_H
#define WREN_ACME_CRYPTO_H

#include <stddef.h>
#include <bearssl.h>

#include "core/err.h"

#define ACME_PEM_MAX	512	/* an EC P-256 key as PEM */
#define ACME_THUMB_LEN	43	/* base64url of a SHA-256 */
#define ACME_THUMB_BUF	48	/* room to encode it (padding, NUL) */

struct acme_key {
	br_ec_private_key	sk;
	br_ec_public_key	pk;
	unsigned char		kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	unsigned char		pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
};

/* A new P-256 key: 0, or -1 (no entropy). */
int	acme_key_gen(struct acme_key *);

/* The key as PEM in out[0..cap) with a NUL: its length, or -1. */
long	acme_key_pem(const struct acme_key *, char *out, size_t cap);

/* Reads a P-256 key from a PEM file: 0, or -1 with e set. */
int	acme_key_load(struct acme_key *, const char *path, struct err *);

/* The public JWK, members in RFC 7638's order: its length, or -1. */
long	acme_jwk(const struct acme_key *, char *out, size_t cap);

/* base64url(SHA-256(JWK)) with a NUL: out holds ACME_THUMB_BUF. */
int	acme_thumbprint(const struct acme_key *, char *out, size_t cap);

/* A JWS request body: the protected header names kid (the account
 * URL) or, when kid is NULL, the jwk; payload NULL is POST-as-GET (an
 * empty payload, RFC 8555 6.3). Its length, or -1 when out is short. */
long	acme_jws(const struct acme_key *, const char *kid, const char *nonce,
	    const char *url, const char *payload, char *out, size_t cap);

/* A CSR in DER for names[0..n) signed with key: length or -1. */
long	acme_csr(const struct acme_key *, const char *const *names, size_t n,
	    unsigned char *out, size_t cap);

/* The TLS-ALPN-01 certificate for name, holding the critical
 * acmeIdentifier extension with SHA-256(keyauth), signed by key:
 * length or -1. */
long	acme_alpn_cert(const struct acme_key *, const char *name,
	    const char *keyauth, unsigned char *out, size_t cap);

#endif
