/* SPDX-License-Identifier: ISC */
/*
 * tls_cred.c - certificate chain and key from PEM (see tls_cred.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/fmt.h"
#include "tls/tls_cred.h"

/* Days from 0000-01-01 (BearSSL's X.509 time origin) to 1970-01-01. */
#define DAYS_TO_EPOCH	719528u

struct pem_obj {
	char		 name[128];	/* as BearSSL keeps it */
	unsigned char	*data;
	size_t		 len, cap;
};

static void	pem_append(void *, const void *, size_t);
static int	add_cert(void *, const char *, const unsigned char *, size_t);
static int	add_key(void *, const char *, const unsigned char *, size_t);
static int	key_matches_leaf(const struct tls_cred *,
		    br_x509_decoder_context *);

struct load {
	struct tls_cred		*c;
	const char		*path;
	struct err		*e;
	size_t			 der_used;
	br_skey_decoder_context	 skey;
	int			 keys;
};

int
tls_cred_load(struct tls_cred *c, const char *cert, const char *key,
    struct err *e)
{
	static br_x509_decoder_context xd;	/* big */
	struct load ld;
	size_t len;
	char *text;

	memset(c, 0, sizeof *c);
	memset(&ld, 0, sizeof ld);
	ld.c = c;
	ld.e = e;
	/* The DER of the chain is smaller than its PEM text. */
	text = file_read_all(cert, TLS_PEM_MAX, &len, e);
	if (text == NULL) {
		return -1;
	}
	free(text);
	c->der = malloc(len + 1);
	if (c->der == NULL) {
		return err_set(e, "%s: out of memory", cert);
	}
	ld.path = cert;
	if (tls_pem_each(cert, TLS_PEM_MAX, add_cert, &ld, e) == -1) {
		tls_cred_free(c);
		return -1;
	}
	if (c->chain_len == 0) {
		tls_cred_free(c);
		return err_set(e, "%s: no certificate in the file", cert);
	}
	ld.path = key;
	if (tls_pem_each(key, TLS_PEM_MAX, add_key, &ld, e) == -1) {
		tls_cred_free(c);
		return -1;
	}
	if (ld.keys != 1) {
		tls_cred_free(c);
		return err_set(e, "%s: expected one private key, found %d",
		    key, ld.keys);
	}
	br_x509_decoder_init(&xd, NULL, NULL);
	br_x509_decoder_push(&xd, c->chain[0].data, c->chain[0].data_len);
	if (br_x509_decoder_last_error(&xd) != 0 ||
	    br_x509_decoder_get_pkey(&xd) == NULL) {
		tls_cred_free(c);
		return err_set(e, "%s: the first certificate does not decode "
		    "(BearSSL error %d)", cert,
		    br_x509_decoder_last_error(&xd));
	}
	c->not_after = (time_t)((int64_t)xd.notafter_days -
	    (int64_t)DAYS_TO_EPOCH) * 86400 + (time_t)xd.notafter_seconds;
	if (!key_matches_leaf(c, &xd)) {
		tls_cred_free(c);
		return err_set(e, "%s: the key does not belong to the first "
		    "certificate of %s (the chain must start with the "
		    "server's own certificate)", key, cert);
	}
	return 0;
}

void
tls_cred_free(struct tls_cred *c)
{
	free(c->der);
	free(c->keybuf);
	memset(c, 0, sizeof *c);
}

size_t
tls_rsa_size(const br_rsa_private_key *k)
{
	return k->plen + k->qlen + k->dplen + k->dqlen + k->iqlen;
}

int
tls_rsa_copy(br_rsa_private_key *to, const br_rsa_private_key *from,
    unsigned char *buf, size_t cap)
{
	const struct {
		const unsigned char	*src;
		size_t			 len;
		unsigned char		**dst;
	} part[] = {
		{ from->p, from->plen, &to->p },
		{ from->q, from->qlen, &to->q },
		{ from->dp, from->dplen, &to->dp },
		{ from->dq, from->dqlen, &to->dq },
		{ from->iq, from->iqlen, &to->iq },
	};
	unsigned char *p = buf;

	if (tls_rsa_size(from) > cap) {
		return -1;
	}
	*to = *from;
	for (size_t i = 0; i < sizeof part / sizeof part[0]; i++) {
		memcpy(p, part[i].src, part[i].len);
		*part[i].dst = p;
		p += part[i].len;
	}
	return 0;
}

int
tls_pem_each(const char *path, size_t max, tls_pem_fn *fn, void *arg,
    struct err *e)
{
	br_pem_decoder_context pc;
	struct pem_obj obj;
	size_t len, off = 0;
	char *text;
	int inside = 0, rc = 0;

	text = file_read_all(path, max, &len, e);
	if (text == NULL) {
		return -1;
	}
	memset(&obj, 0, sizeof obj);
	obj.cap = len;
	obj.data = malloc(len + 1);
	if (obj.data == NULL) {
		free(text);
		return err_set(e, "%s: out of memory", path);
	}
	br_pem_decoder_init(&pc);
	while (off < len && rc == 0) {
		off += br_pem_decoder_push(&pc, text + off, len - off);
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			(void)fmt(obj.name, sizeof obj.name, "%s",
			    br_pem_decoder_name(&pc));
			obj.len = 0;
			br_pem_decoder_setdest(&pc, pem_append, &obj);
			inside = 1;
			break;
		case BR_PEM_END_OBJ:
			if (inside) {
				rc = fn(arg, obj.name, obj.data, obj.len);
			}
			inside = 0;
			break;
		case BR_PEM_ERROR:
			rc = err_set(e, "%s: not a valid PEM file", path);
			break;
		default:
			break;
		}
	}
	if (rc == 0 && inside) {
		rc = err_set(e, "%s: PEM object not terminated", path);
	}
	free(obj.data);
	free(text);
	return rc;
}

static void
pem_append(void *arg, const void *p, size_t n)
{
	struct pem_obj *o = arg;

	/* Base64 decodes to less than the text: the buffer, as large as
	 * the file, always has room. */
	if (o->len + n <= o->cap) {
		memcpy(o->data + o->len, p, n);
		o->len += n;
	}
}

static int
add_cert(void *arg, const char *name, const unsigned char *der, size_t len)
{
	struct load *ld = arg;
	struct tls_cred *c = ld->c;

	if (strcmp(name, "CERTIFICATE") != 0) {
		return 0;	/* e.g. parameters; not ours */
	}
	if (c->chain_len == TLS_CHAIN_MAX) {
		return err_set(ld->e, "%s: more than %d certificates",
		    ld->path, TLS_CHAIN_MAX);
	}
	memcpy(c->der + ld->der_used, der, len);
	c->chain[c->chain_len].data = c->der + ld->der_used;
	c->chain[c->chain_len].data_len = len;
	c->chain_len++;
	ld->der_used += len;
	return 0;
}

static int
add_key(void *arg, const char *name, const unsigned char *der, size_t len)
{
	struct load *ld = arg;
	struct tls_cred *c = ld->c;
	const br_rsa_private_key *rk;
	const br_ec_private_key *ek;
	size_t total;

	if (strcmp(name, "PRIVATE KEY") != 0 &&
	    strcmp(name, "RSA PRIVATE KEY") != 0 &&
	    strcmp(name, "EC PRIVATE KEY") != 0) {
		return 0;	/* "EC PARAMETERS" before an EC key */
	}
	if (++ld->keys > 1) {
		return 0;
	}
	br_skey_decoder_init(&ld->skey);
	br_skey_decoder_push(&ld->skey, der, len);
	if (br_skey_decoder_last_error(&ld->skey) != 0) {
		return err_set(ld->e, "%s: not an RSA or EC private key "
		    "(BearSSL error %d)", ld->path,
		    br_skey_decoder_last_error(&ld->skey));
	}
	c->key_type = br_skey_decoder_key_type(&ld->skey);
	/* The decoder's numbers live in the decoder: copy them. */
	if (c->key_type == BR_KEYTYPE_RSA) {
		rk = br_skey_decoder_get_rsa(&ld->skey);
		total = tls_rsa_size(rk);
		if ((c->keybuf = malloc(total)) == NULL) {
			return err_set(ld->e, "%s: out of memory", ld->path);
		}
		/* Sized for it: cannot fail. */
		(void)tls_rsa_copy(&c->rsa, rk, c->keybuf, total);
	} else {
		ek = br_skey_decoder_get_ec(&ld->skey);
		if ((c->keybuf = malloc(ek->xlen)) == NULL) {
			return err_set(ld->e, "%s: out of memory", ld->path);
		}
		c->ec = *ek;
		memcpy(c->keybuf, ek->x, ek->xlen);
		c->ec.x = c->keybuf;
	}
	return 0;
}

/* The public key computed from the private key equals the leaf's. */
static int
key_matches_leaf(const struct tls_cred *c, br_x509_decoder_context *xd)
{
	const br_x509_pkey *pk = br_x509_decoder_get_pkey(xd);
	unsigned char buf[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char n[512];
	size_t nlen;
	const unsigned char *ln;
	size_t lnlen;

	if (pk->key_type != c->key_type) {
		return 0;
	}
	if (c->key_type == BR_KEYTYPE_EC) {
		br_ec_public_key pub;

		if (pk->key.ec.curve != c->ec.curve ||
		    br_ec_compute_pub(br_ec_get_default(), &pub, buf,
		    &c->ec) == 0) {
			return 0;
		}
		return pub.qlen == pk->key.ec.qlen &&
		    memcmp(pub.q, pk->key.ec.q, pub.qlen) == 0;
	}
	nlen = br_rsa_compute_modulus_get_default()(NULL, &c->rsa);
	if (nlen == 0 || nlen > sizeof n ||
	    br_rsa_compute_modulus_get_default()(n, &c->rsa) != nlen) {
		return 0;
	}
	ln = pk->key.rsa.n;
	lnlen = pk->key.rsa.nlen;
	while (lnlen > 0 && *ln == 0) {		/* leading zeros */
		ln++;
		lnlen--;
	}
	/* The modulus is the key: equal moduli, same key pair. (The
	 * exponent cannot be recomputed from every private key.) */
	return lnlen == nlen && memcmp(ln, n, nlen) == 0;
}
