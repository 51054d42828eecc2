/* SPDX-License-Identifier: ISC */
/*
 * dkim_sign.c - DKIM signing with BearSSL: keys from PEM, the stream
 * that adds missing fields and hashes the message on its way to disk,
 * the rsa-sha256 signature (RFC 6376 3.3, 3.7, 5; RFC 8301). See
 * dkim_sign.h for the design.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/file.h"
#include "core/fmt.h"
#include "tls/dkim_sign.h"
#include "tls/tls_cred.h"

/* A key file: a PEM RSA key is a few kilobytes. */
#define DKIM_PEM_MAX	(64 * 1024)

/* What dkim_setup loaded. */
struct dkim_keys {
	struct dkim_key	 k[DKIM_KEYS_MAX];
	size_t		 n;
	char		 selector[DKIM_SELECTOR_MAX + 1];
	int		 loaded;
};

static struct dkim_keys keys;

/* One PEM key being decoded. */
struct pem_key {
	br_skey_decoder_context	 skey;
	int			 found;
};

static void	pem_push(void *, const void *, size_t);
static int	copy_rsa(struct dkim_key *, const br_rsa_private_key *);
static void	head_sink(void *, const void *, size_t);
static void	body_sink(void *, const void *, size_t);
static int	put(struct dkim_stream *, const char *, size_t,
		    dkim_write_fn *, void *);
static int	insert(struct dkim_stream *, int, dkim_write_fn *, void *);
static long	sign_field(struct dkim_stream *, char *, size_t);
static int	keys_load(struct dkim_keys *, const struct cfg *,
		    struct err *);
static void	rebase(struct dkim_key *, const struct dkim_key *);
static int	load_one(struct dkim_key *, const char *, const char *,
		    size_t, int, struct err *);

int
dkim_key_parse(struct dkim_key *k, const char *text, size_t len,
    const char *name, struct err *e)
{
	br_pem_decoder_context pc;
	struct pem_key pk;
	const char *nm;
	size_t off = 0;
	int inside = 0, err;

	memset(k, 0, sizeof *k);
	memset(&pk, 0, sizeof pk);
	br_pem_decoder_init(&pc);
	while (off < len && !pk.found) {
		off += br_pem_decoder_push(&pc, text + off, len - off);
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			/* An EC key is decoded too, to be named. */
			nm = br_pem_decoder_name(&pc);
			inside = strcmp(nm, "PRIVATE KEY") == 0 ||
			    strcmp(nm, "RSA PRIVATE KEY") == 0 ||
			    strcmp(nm, "EC PRIVATE KEY") == 0;
			if (inside) {
				br_skey_decoder_init(&pk.skey);
			}
			br_pem_decoder_setdest(&pc, inside ? pem_push : NULL,
			    &pk);
			break;
		case BR_PEM_END_OBJ:
			if (inside) {
				pk.found = 1;
			}
			inside = 0;
			break;
		case BR_PEM_ERROR:
			return err_set(e, "%s: not a valid PEM file", name);
		default:
			break;
		}
	}
	if (!pk.found) {
		return err_set(e, "%s: no PRIVATE KEY in the file", name);
	}
	err = br_skey_decoder_last_error(&pk.skey);
	if (err != 0) {
		return err_set(e, "%s: not a private key (BearSSL error %d)",
		    name, err);
	}
	if (br_skey_decoder_key_type(&pk.skey) != BR_KEYTYPE_RSA) {
		return err_set(e, "%s: not an RSA key (DKIM signs with "
		    "rsa-sha256)", name);
	}
	if (copy_rsa(k, br_skey_decoder_get_rsa(&pk.skey)) == -1) {
		return err_set(e, "%s: RSA key of %u bits: %d to %d are "
		    "supported", name, br_skey_decoder_get_rsa(
		    &pk.skey)->n_bitlen, DKIM_KEY_BITS_MIN, DKIM_KEY_BITS_MAX);
	}
	return 0;
}

int
dkim_key_load(struct dkim_key *k, const char *path, struct err *e)
{
	size_t len;
	char *text;
	int rc;

	text = file_read_all(path, DKIM_PEM_MAX, &len, e);
	if (text == NULL) {
		return -1;
	}
	rc = dkim_key_parse(k, text, len, path, e);
	explicit_bzero(text, len);
	free(text);
	return rc;
}

size_t
dkim_key_siglen(const struct dkim_key *k)
{
	return (k->rsa.n_bitlen + 7) / 8;
}

int
dkim_key_sign(const struct dkim_key *k, const unsigned char *hash,
    unsigned char *sig)
{
	br_rsa_pkcs1_sign fn = br_rsa_pkcs1_sign_get_default();

	return fn(BR_HASH_OID_SHA256, hash, br_sha256_SIZE, &k->rsa,
	    sig) == 1 ? 0 : -1;
}

int
dkim_setup(const struct cfg *cfg, struct err *e)
{
	/* Loaded aside, then swapped in: a reload that fails keeps the
	 * keys in use. */
	static struct dkim_keys next;
	int rc = keys_load(&next, cfg, e);

	if (rc == 0) {
		memcpy(&keys, &next, sizeof keys);
		for (size_t i = 0; i < keys.n; i++) {
			rebase(&keys.k[i], &next.k[i]);
		}
	}
	explicit_bzero(&next, sizeof next);
	keys.loaded = 1;
	return rc;
}

/* The keys dkim_key names into ks (see dkim_sign.h). */
static int
keys_load(struct dkim_keys *ks, const struct cfg *cfg, struct err *e)
{
	const char *path = cfg_str(cfg, CFG_DKIM_KEY);
	const char *sel = cfg_str(cfg, CFG_DKIM_SELECTOR);
	const char *p = cfg_str(cfg, CFG_DOMAINS);
	char host[CFG_HOST_MAX + 1];
	const char *h;
	int last = 0;

	memset(ks, 0, sizeof *ks);
	if (path[0] == '\0' || sel[0] == '\0') {
		return 0;
	}
	if (strlen(sel) > DKIM_SELECTOR_MAX) {
		return err_set(e, "dkim_selector: longer than %d octets",
		    DKIM_SELECTOR_MAX);
	}
	if (strstr(path, "%d") == NULL) {
		if (load_one(&ks->k[0], path, "", 0, 0, e) == -1) {
			return -1;
		}
		ks->n = 1;
		memcpy(ks->selector, sel, strlen(sel) + 1);
		return 0;
	}
	/* A pattern: each local domain, then the host name. */
	h = cfg_hostname(cfg, host, sizeof host);
	while (!last) {
		size_t n;
		int rc;

		while (*p == ' ' || *p == '\t' || *p == ',') {
			p++;
		}
		if (*p == '\0') {
			p = h;
			last = 1;
		}
		n = last ? strlen(p) : strcspn(p, " \t,");
		if (n == 0 || n > DKIM_DOMAIN_MAX) {
			p += n;
			continue;
		}
		if (ks->n == DKIM_KEYS_MAX) {
			return err_set(e, "dkim_key: more than %d domains "
			    "with a key", DKIM_KEYS_MAX);
		}
		rc = load_one(&ks->k[ks->n], path, p, n, 1, e);
		if (rc == -1) {
			return -1;
		}
		ks->n += (size_t)rc;
		p += n;
	}
	memcpy(ks->selector, sel, strlen(sel) + 1);
	return 0;
}

int
dkim_loaded(void)
{
	return keys.loaded;
}

const struct dkim_key *
dkim_key_for(const char *domain, size_t len)
{
	/* "localhost" and other names without a dot are local but have
	 * no public DNS to hold a key. */
	if (memchr(domain, '.', len) == NULL || domain[len - 1] == '.') {
		return NULL;
	}
	for (size_t i = 0; i < keys.n; i++) {
		const char *d = keys.k[i].domain;

		if (d[0] == '\0' || (strlen(d) == len &&
		    strncasecmp(d, domain, len) == 0)) {
			return &keys.k[i];
		}
	}
	return NULL;
}

const char *
dkim_selector(void)
{
	return keys.selector;
}

void
dkim_stream_init(struct dkim_stream *ds, const struct dkim_key *key,
    const char *domain, const char *selector, const char *date,
    const char *msgid, int64_t now)
{
	memset(ds, 0, sizeof *ds);
	ds->key = key;
	ds->sign = key != NULL;
	if (domain == NULL || selector == NULL ||
	    fmt(ds->domain, sizeof ds->domain, "%s", domain) >=
	    (int)sizeof ds->domain ||
	    fmt(ds->selector, sizeof ds->selector, "%s", selector) >=
	    (int)sizeof ds->selector) {
		ds->sign = 0;
		ds->why = "domain or selector too long";
	}
	if (date != NULL && fmt(ds->date, sizeof ds->date, "%s", date) >=
	    (int)sizeof ds->date) {
		ds->date[0] = '\0';
	}
	if (msgid != NULL && fmt(ds->msgid, sizeof ds->msgid, "%s",
	    msgid) >= (int)sizeof ds->msgid) {
		ds->msgid[0] = '\0';
	}
	ds->t = now;
	ds->last = '\n';
	ds->state = DKIM_S_HEAD;
	br_sha256_init(&ds->hh);
	br_sha256_init(&ds->bh);
	dkim_head_init(&ds->head, head_sink, ds);
	dkim_body_init(&ds->body, 1, body_sink, ds);
}

int
dkim_stream_write(struct dkim_stream *ds, const char *p, size_t n,
    dkim_write_fn *write, void *arg)
{
	size_t used;

	if (ds->state == DKIM_S_FAILED) {
		return -1;
	}
	if (ds->state == DKIM_S_HEAD) {
		used = dkim_head_feed(&ds->head, p, n);
		if (put(ds, p, used, write, arg) == -1) {
			return -1;
		}
		if (!ds->head.done) {
			return 0;
		}
		if (insert(ds, 0, write, arg) == -1) {
			return -1;
		}
		ds->state = DKIM_S_BODY;
		p += used;
		n -= used;
	}
	if (ds->sign) {
		dkim_body_feed(&ds->body, p, n);
	}
	return put(ds, p, n, write, arg);
}

long
dkim_stream_finish(struct dkim_stream *ds, dkim_write_fn *write, void *arg,
    char *out, size_t cap, uint64_t *off)
{
	long len;

	if (ds->state == DKIM_S_FAILED) {
		return -1;
	}
	if (ds->state == DKIM_S_HEAD) {
		/* No empty line: the fields go at the end, whole. */
		dkim_head_end(&ds->head);
		ds->state = DKIM_S_BODY;
		return insert(ds, 1, write, arg) == -1 ? -1 : 0;
	}
	if (!ds->sign) {
		return 0;
	}
	dkim_body_end(&ds->body);
	len = sign_field(ds, out, cap);
	if (len <= 0 || (size_t)len != ds->hole_len) {
		ds->why = "the signature does not fit its place";
		return 0;	/* the placeholder stays; it fails to verify */
	}
	*off = ds->hole;
	return len;
}

/* The fields added at the end of the header section; whole: with the
 * signature complete (nothing follows). */
static int
insert(struct dkim_stream *ds, int whole, dkim_write_fn *write, void *arg)
{
	static const unsigned char zero[DKIM_SIGLEN_MAX];
	char buf[DKIM_ADD_MAX], field[DKIM_MSGID_MAX + 16];
	size_t len = 0;
	long n;

	if (ds->last != '\n' && ds->last != '\r') {
		buf[len++] = '\n';	/* a header cut without a line end */
	}
	if (ds->date[0] != '\0' && !dkim_head_has(&ds->head, DKIM_N_DATE)) {
		n = fmt(field, sizeof field, "Date: %s\n", ds->date);
		(void)dkim_head_add(&ds->head, field, (size_t)n);
		memcpy(buf + len, field, (size_t)n);
		len += (size_t)n;
	}
	if (ds->msgid[0] != '\0' &&
	    !dkim_head_has(&ds->head, DKIM_N_MESSAGE_ID)) {
		n = fmt(field, sizeof field, "Message-ID: %s\n", ds->msgid);
		(void)dkim_head_add(&ds->head, field, (size_t)n);
		memcpy(buf + len, field, (size_t)n);
		len += (size_t)n;
	}
	if (ds->sign && ds->head.dup) {
		ds->sign = 0;
		ds->why = "a header field that must be unique appears twice";
	}
	if (ds->sign && ds->head.signed_already) {
		/* Ours would follow it; RFC 6376 5.6 wants it first. */
		ds->sign = 0;
		ds->why = "the message has a DKIM-Signature already";
	}
	if (ds->sign && dkim_head_list(&ds->head, ds->hlist,
	    sizeof ds->hlist) == 0) {
		ds->sign = 0;
		ds->why = "h= too long";
	}
	if (ds->sign) {
		struct dkim_sig sig;

		if (whole) {
			dkim_body_end(&ds->body);	/* the empty body */
			n = sign_field(ds, buf + len, sizeof buf - len);
		} else {
			memset(&sig, 0, sizeof sig);
			sig.domain = ds->domain;
			sig.selector = ds->selector;
			sig.t = ds->t;
			sig.hlist = ds->hlist;
			sig.bh = zero;
			sig.b = zero;
			sig.blen = dkim_key_siglen(ds->key);
			n = (long)dkim_sig_format(&sig, buf + len,
			    sizeof buf - len);
		}
		if (n <= 0) {
			ds->sign = 0;
			ds->why = "the signature field does not fit";
		} else {
			ds->hole = ds->out + len;
			ds->hole_len = (size_t)n;
			len += (size_t)n;
		}
	}
	for (size_t i = 0; i < len; i++) {
		ds->added_lines += buf[i] == '\n';
	}
	ds->added += len;
	if (whole) {
		ds->sign = 0;	/* done: nothing to write over */
	}
	return put(ds, buf, len, write, arg);
}

/* The complete DKIM-Signature field into out: bh= from the body hash,
 * b= over the signed fields and this one with b= empty (3.7). */
static long
sign_field(struct dkim_stream *ds, char *out, size_t cap)
{
	unsigned char bh[br_sha256_SIZE], hash[br_sha256_SIZE];
	unsigned char sig[DKIM_SIGLEN_MAX];
	char unsigned_field[DKIM_SIG_MAX];
	struct dkim_sig s;
	size_t n;

	br_sha256_out(&ds->bh, bh);
	memset(&s, 0, sizeof s);
	s.domain = ds->domain;
	s.selector = ds->selector;
	s.t = ds->t;
	s.hlist = ds->hlist;
	s.bh = bh;
	s.blen = dkim_key_siglen(ds->key);
	n = dkim_sig_format(&s, unsigned_field, sizeof unsigned_field);
	if (n == 0) {
		return 0;
	}
	dkim_canon_field(unsigned_field, n, 0, head_sink, ds);
	br_sha256_out(&ds->hh, hash);
	if (dkim_key_sign(ds->key, hash, sig) == -1) {
		return 0;
	}
	s.b = sig;
	return (long)dkim_sig_format(&s, out, cap);
}

/* Writes through the caller, counting octets. */
static int
put(struct dkim_stream *ds, const char *p, size_t n, dkim_write_fn *write,
    void *arg)
{
	if (n == 0) {
		return 0;
	}
	if (write(arg, p, n) == -1) {
		ds->state = DKIM_S_FAILED;
		return -1;
	}
	ds->out += n;
	ds->last = (unsigned char)p[n - 1];
	return 0;
}

static void
head_sink(void *arg, const void *p, size_t n)
{
	struct dkim_stream *ds = arg;

	br_sha256_update(&ds->hh, p, n);
}

static void
body_sink(void *arg, const void *p, size_t n)
{
	struct dkim_stream *ds = arg;

	br_sha256_update(&ds->bh, p, n);
}

static void
pem_push(void *arg, const void *p, size_t n)
{
	struct pem_key *pk = arg;

	br_skey_decoder_push(&pk->skey, p, n);
}

/* The decoder's numbers live in the decoder: copied into the key. */
static int
copy_rsa(struct dkim_key *k, const br_rsa_private_key *rk)
{
	if (rk->n_bitlen < DKIM_KEY_BITS_MIN ||
	    rk->n_bitlen > DKIM_KEY_BITS_MAX) {
		return -1;
	}
	return tls_rsa_copy(&k->rsa, rk, k->buf, sizeof k->buf);
}

/* A key copied from `from`: its numbers point into its own buf. */
static void
rebase(struct dkim_key *k, const struct dkim_key *from)
{
	k->rsa.p = k->buf + (from->rsa.p - from->buf);
	k->rsa.q = k->buf + (from->rsa.q - from->buf);
	k->rsa.dp = k->buf + (from->rsa.dp - from->buf);
	k->rsa.dq = k->buf + (from->rsa.dq - from->buf);
	k->rsa.iq = k->buf + (from->rsa.iq - from->buf);
}

/* The key of domain d[0..n) (pattern: %d replaced by it; n 0: the
 * path as it is). 1 loaded, 0 no such file (pattern only), -1 (e). */
static int
load_one(struct dkim_key *k, const char *pat, const char *d, size_t n,
    int pattern, struct err *e)
{
	char path[CFG_PATH_MAX + DKIM_DOMAIN_MAX];
	size_t len = 0;

	for (const char *s = pat; *s != '\0'; s++) {
		if (pattern && s[0] == '%' && s[1] == 'd') {
			if (len + n >= sizeof path) {
				return err_set(e, "dkim_key: path too long");
			}
			for (size_t i = 0; i < n; i++) {
				char c = d[i];

				path[len++] = c >= 'A' && c <= 'Z' ?
				    (char)(c - 'A' + 'a') : c;
			}
			s++;
			continue;
		}
		if (len + 1 >= sizeof path) {
			return err_set(e, "dkim_key: path too long");
		}
		path[len++] = *s;
	}
	path[len] = '\0';
	if (pattern && access(path, F_OK) == -1 && errno == ENOENT) {
		return 0;
	}
	if (dkim_key_load(k, path, e) == -1) {
		return -1;
	}
	memcpy(k->domain, d, n);
	k->domain[n] = '\0';
	return 1;
}
