/* SPDX-License-Identifier: ISC */
/*
 * der.h - reading DER (ITU-T X.690 8.1, 10.1), sans-I/O: one element at
 * a time, tag and contents, for the few ASN.1 structures wren reads
 * itself (certificate names for `wren check`, RSA public keys for DKIM
 * records). BearSSL decodes everything it signs or verifies with.
 * And writing it, for the two structures ACME needs (a PKCS #10
 * request, RFC 2986, and a self-signed challenge certificate, RFC
 * 8737): elements opened and closed like brackets, lengths filled in
 * at the close (short or long form, X.690 8.1.3).
 *
 *   const unsigned char *p = buf, *end = buf + len, *v;
 *   while (p < end && der_get(&p, end, &tag, &v, &vlen) == 0) ...
 */
#ifndef WREN_DER_H
#define WREN_DER_H

#include <stddef.h>

/* Length octets a length may have after its 0x8N octet: 3 covers
 * every structure we read (16 MB). */
#define DER_LEN_OCTETS_MAX	3

/* One element at *p, all of it before end: 0 with its tag (the first
 * octet; only one-octet tags are read), its contents v[0..len), and *p
 * past it; -1 (nothing moved) when it is cut short, has an
 * indefinite length (0x80) or more than DER_LEN_OCTETS_MAX length
 * octets. */
int	der_get(const unsigned char **p, const unsigned char *end,
	    unsigned *tag, const unsigned char **v, size_t *len);

/* n and e of an RSA public key as DKIM records publish it (RFC 6376
 * 3.6.1): a SubjectPublicKeyInfo (RFC 5280 4.1.2.7) SEQUENCE {
 * SEQUENCE { algorithm, parameters }, BIT STRING { RSAPublicKey } },
 * or a bare RSAPublicKey SEQUENCE { INTEGER n, INTEGER e } that some
 * publish and verifiers accept. Leading zero octets are skipped; the
 * pointers point into der. 0, or -1 when malformed. */
int	der_rsa_pub(const unsigned char *der, size_t len,
	    const unsigned char **n, size_t *nlen, const unsigned char **e,
	    size_t *elen);

/* A DER writer into buf[0..cap): der_open/der_close nest (at most
 * DER_W_DEPTH deep), der_put writes a whole primitive element. Errors
 * (no room, too deep, close without open) are sticky in err; the
 * length is then meaningless. */
#define DER_W_DEPTH	10

struct der_w {
	unsigned char	*buf;
	size_t		 cap, len;
	size_t		 open[DER_W_DEPTH];
	int		 depth;
	int		 err;
};

void	der_w_init(struct der_w *, unsigned char *buf, size_t cap);
void	der_open(struct der_w *, unsigned tag);
void	der_close(struct der_w *);
void	der_put(struct der_w *, unsigned tag, const void *v, size_t len);

#endif
