/* SPDX-License-Identifier: ISC */
/*
 * tls_cred.h - the server's certificate chain and private key, read
 * from PEM files with BearSSL's decoders: the chain leaf first (Let's
 * Encrypt's fullchain.pem as it is), the key EC or RSA, PKCS#8 or
 * traditional. Loading checks that the key belongs to the leaf.
 */
#ifndef WREN_TLS_CRED_H
#define WREN_TLS_CRED_H

#include <stddef.h>
#include <time.h>
#include <bearssl.h>

#include "core/err.h"

#define TLS_CHAIN_MAX	8	/* certificates in the chain */
#define TLS_PEM_MAX	(256 * 1024)	/* a certificate or key file */

struct tls_cred {
	br_x509_certificate	 chain[TLS_CHAIN_MAX];
	size_t			 chain_len;
	unsigned char		*der;		/* the chain's DER, one block */
	int			 key_type;	/* BR_KEYTYPE_RSA or _EC */
	br_rsa_private_key	 rsa;
	br_ec_private_key	 ec;
	unsigned char		*keybuf;	/* the key's numbers */
	time_t			 not_after;	/* the leaf's expiry */
};

/* Calls fn with the name ("CERTIFICATE") and DER bytes of every PEM
 * object of the file (at most max bytes); stops at fn's -1. */
typedef int tls_pem_fn(void *arg, const char *name,
    const unsigned char *der, size_t len);
int	tls_pem_each(const char *path, size_t max, tls_pem_fn *, void *arg,
	    struct err *);

/* Octets of an RSA private key's numbers (p, q, dp, dq, iq). */
size_t	tls_rsa_size(const br_rsa_private_key *);

/* Copies from into to, its numbers into buf[0..cap): BearSSL's key
 * decoder keeps them in itself, so a key outlives the decoder only as
 * such a copy (the server's key here, DKIM's keys in dkim_sign.c).
 * 0, or -1 when they do not fit (to unchanged). */
int	tls_rsa_copy(br_rsa_private_key *to, const br_rsa_private_key *from,
	    unsigned char *buf, size_t cap);

/* Loads and checks a pair; on error nothing is kept and e says why
 * (`FILE: message`). */
int	tls_cred_load(struct tls_cred *, const char *cert, const char *key,
	    struct err *);
void	tls_cred_free(struct tls_cred *);

#endif
