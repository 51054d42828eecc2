/*
 * tls_client.c - the client side of TLS (see tls_client.h): BearSSL's
 * client engine with SNI (RFC 6066 3), the "minimal" X.509 engine for
 * the chain and the name (RFC 5280 6, RFC 6125 6), the CA bundle as
 * trust anchors, and opportunistic TLS (RFC 7435) for MX hops.
 *
 * Opportunistic mode wraps the minimal engine in an X.509 class of
 * ours, as brssl's "x509_noanchor" does: every call goes to the minimal
 * engine, whose verdict is kept, and end_chain says yes anyway. The
 * minimal engine stops reading at its first error and gives out the
 * server's key only for a chain it trusts, so a decoder of our own also
 * reads the end-entity certificate and lends its key when the verdict
 * is no (an expired certificate's key is read after its dates).
 *
 *   engine --> vrfy (ours) --+--> br_x509_minimal   verdict, key if ok
 *                            +--> br_x509_decoder   first cert: key
 *
 * The trust anchors live in one allocation per load; a reload makes a
 * new set, and the old one is freed once no handshake uses it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/pool.h"
#include "tls/tls_client.h"
#include "tls/tls_cred.h"
#include "tls/tls_pump.h"

#define TA_SETS_MAX	4	/* the current anchors and older ones */

struct ta_set {
	br_x509_trust_anchor	*ta;
	size_t			 n;
	unsigned char		*data;		/* their DNs and keys */
	unsigned		 refs;		/* "current" + handshakes */
	int			 used;
};

/* Our X.509 engine; BearSSL calls it through the vtable pointer, which
 * must come first. */
struct tls_vrfy {
	const br_x509_class	*vtable;
	br_x509_minimal_context	 minimal;
	br_x509_decoder_context	 ee;		/* the first certificate */
	int			 mode;
	int			 named;		/* a server name was given */
	uint32_t		 certs;		/* seen so far */
	int			 result;	/* minimal's verdict, 0 = ok */
};

/* A slot: the pump first (c->filter_state points at it). */
struct tls_client_conn {
	struct tls_pump		 pump;
	br_ssl_client_context	 cc;
	struct tls_vrfy		 x;
	struct ta_set		*anchors;
	tls_done_fn		*done;
	void			*arg;
};

/* One CA bundle being read into a set. */
struct ta_load {
	struct ta_set		*set;
	size_t			 cap;		/* room in set->ta */
	size_t			 used, room;	/* in set->data */
	size_t			 skipped;
	int			 overflow;
	struct err		*e;
	br_x509_decoder_context	 xd;
};

static struct {
	struct pool		 pool;
	struct ta_set		 sets[TA_SETS_MAX];
	struct ta_set		*current;
	int			 ready;
} cli;

/* ECDHE first, AEAD first; then RSA key exchange and CBC, which some
 * MX hosts still need: on an MX hop any encryption beats cleartext. */
static const uint16_t suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	BR_TLS_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_RSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_RSA_WITH_AES_256_CBC_SHA256,
	BR_TLS_RSA_WITH_AES_128_CBC_SHA,
	BR_TLS_RSA_WITH_AES_256_CBC_SHA,
	BR_TLS_RSA_WITH_3DES_EDE_CBC_SHA,
};

static void	vrfy_start_chain(const br_x509_class **, const char *);
static void	vrfy_start_cert(const br_x509_class **, uint32_t);
static void	vrfy_append(const br_x509_class **, const unsigned char *,
		    size_t);
static void	vrfy_end_cert(const br_x509_class **);
static unsigned	vrfy_end_chain(const br_x509_class **);
static const br_x509_pkey *vrfy_get_pkey(const br_x509_class *const *,
		    unsigned *);
static void	client_done(struct conn *, struct tls_pump *, int);
static void	client_release(struct conn *, struct tls_pump *);
static int	ta_load(struct ta_set *, const char *, struct err *);
static int	ta_add(void *, const char *, const unsigned char *, size_t);
static void	ta_append_dn(void *, const void *, size_t);
static unsigned char *ta_copy(struct ta_load *, const void *, size_t);
static void	ta_free(struct ta_set *);
static void	ta_put(struct ta_set *);

static const br_x509_class vrfy_vtable = {
	.context_size = sizeof(struct tls_vrfy),
	.start_chain = vrfy_start_chain,
	.start_cert = vrfy_start_cert,
	.append = vrfy_append,
	.end_cert = vrfy_end_cert,
	.end_chain = vrfy_end_chain,
	.get_pkey = vrfy_get_pkey,
};

static const struct tls_side client_side = {
	.name = "client",
	.done = client_done,
	.release = client_release,
};

int
tls_client_init(size_t max, const char *ca_file, struct err *e)
{
	memset(&cli, 0, sizeof cli);
	if (pool_init(&cli.pool, "tls-out", sizeof(struct tls_client_conn),
	    max, e) == -1) {
		return -1;
	}
	cli.ready = 1;
	if (tls_client_reload(ca_file, e) == -1) {
		/* No anchors: every chain is "unknown issuer". */
		cli.current = &cli.sets[0];
		cli.current->used = 1;
		cli.current->refs = 1;
		return 1;
	}
	return 0;
}

void
tls_client_shutdown(void)
{
	if (!cli.ready) {
		return;
	}
	for (int i = 0; i < TA_SETS_MAX; i++) {
		if (cli.sets[i].used) {
			ta_free(&cli.sets[i]);
		}
	}
	pool_destroy(&cli.pool);
	memset(&cli, 0, sizeof cli);
}

int
tls_client_reload(const char *ca_file, struct err *e)
{
	struct ta_set *set = NULL;
	const char *path = ca_file != NULL && ca_file[0] != '\0' ? ca_file :
	    TLS_CA_DEFAULT;

	if (!cli.ready) {
		return err_set(e, "TLS client not initialised");
	}
	for (int i = 0; i < TA_SETS_MAX; i++) {
		if (!cli.sets[i].used) {
			set = &cli.sets[i];
			break;
		}
	}
	if (set == NULL) {
		return err_set(e, "%s: older CA bundles still in use by "
		    "handshakes; try again later", path);
	}
	if (ta_load(set, path, e) == -1) {
		return -1;
	}
	set->used = 1;
	set->refs = 1;			/* the "current" reference */
	if (cli.current != NULL) {
		ta_put(cli.current);
	}
	cli.current = set;
	log_info("tls: %zu trust anchors from %s", set->n, path);
	return 0;
}

size_t
tls_client_anchors(void)
{
	return cli.current != NULL ? cli.current->n : 0;
}

int
tls_client_start(struct conn *c, const char *name, int mode,
    tls_done_fn *done, void *arg)
{
	struct tls_client_conn *t;
	br_ssl_engine_context *eng;
	size_t nlen = name != NULL ? strnlen(name, TLS_NAME_MAX + 1) : 0;

	if ((mode != TLS_VERIFY && mode != TLS_OPPORTUNISTIC) ||
	    nlen > TLS_NAME_MAX || (mode == TLS_VERIFY && nlen == 0)) {
		conn_log(c, LOG_LVL_ERROR, "TLS: no usable server name to "
		    "verify");
		return -1;
	}
	if (!cli.ready || (t = pool_get(&cli.pool)) == NULL) {
		conn_log(c, LOG_LVL_WARN, "no outbound TLS slot free");
		return -1;
	}
	t->anchors = cli.current;
	t->anchors->refs++;
	/* The full client: every hash, signature and key exchange BearSSL
	 * has; the minimal engine with our anchors, then ours around it. */
	br_ssl_client_init_full(&t->cc, &t->x.minimal, t->anchors->ta,
	    t->anchors->n);
	eng = &t->cc.eng;
	br_ssl_engine_set_versions(eng, BR_TLS10, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, sizeof suites /
	    sizeof suites[0]);
	br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);
	t->x.vtable = &vrfy_vtable;
	t->x.mode = mode;
	t->x.named = nlen > 0;
	br_ssl_engine_set_x509(eng, &t->x.vtable);
	tls_pump_init(&t->pump, eng, &client_side);
	t->done = done;
	t->arg = arg;
	if (!br_ssl_client_reset(&t->cc, nlen > 0 ? name : NULL, 0)) {
		conn_log(c, LOG_LVL_ERROR, "TLS engine reset failed: %s",
		    tls_strerror(br_ssl_engine_last_error(eng)));
		client_release(c, &t->pump);
		return -1;
	}
	/* Plaintext that came after the server's "220 ready to start
	 * TLS" was not sent over TLS (injected?): never read as if it
	 * had been (RFC 3207 4.2, the client's side of CVE-2011-0411). */
	conn_consume(c, c->in.len);
	conn_filter_now(c, &tls_pump_filter, &t->pump);
	/* Nothing to write but the ClientHello: mark c for the flush. */
	(void)conn_write(c, "", 0);
	return 0;
}

int
tls_peer_verified(const struct conn *c, const char **why)
{
	const struct tls_pump *p = tls_pump_of(c);
	const struct tls_client_conn *t;
	const char *w;
	int ok = 0;

	if (p == NULL || p->side != &client_side) {
		w = "not an outbound TLS connection";
	} else if (!p->handshake_done) {
		w = "handshake not done";
	} else {
		t = (const struct tls_client_conn *)p;
		if (t->x.result != 0) {
			w = tls_strerror(t->x.result);
		} else if (!t->x.named) {
			w = "no server name to check";
		} else {
			w = "verified";
			ok = 1;
		}
	}
	if (why != NULL) {
		*why = w;
	}
	return ok;
}

size_t
tls_client_bytes_per_connection(void)
{
	return sizeof(struct tls_client_conn);
}

static void
vrfy_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct tls_vrfy *x = (struct tls_vrfy *)(void *)ctx;

	x->certs = 0;
	x->result = BR_ERR_X509_EMPTY_CHAIN;
	x->minimal.vtable->start_chain(&x->minimal.vtable, server_name);
}

static void
vrfy_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct tls_vrfy *x = (struct tls_vrfy *)(void *)ctx;

	x->minimal.vtable->start_cert(&x->minimal.vtable, length);
	if (x->certs == 0) {
		br_x509_decoder_init(&x->ee, NULL, NULL);
	}
}

static void
vrfy_append(const br_x509_class **ctx, const unsigned char *buf,
    size_t len)
{
	struct tls_vrfy *x = (struct tls_vrfy *)(void *)ctx;

	x->minimal.vtable->append(&x->minimal.vtable, buf, len);
	if (x->certs == 0) {
		br_x509_decoder_push(&x->ee, buf, len);
	}
}

static void
vrfy_end_cert(const br_x509_class **ctx)
{
	struct tls_vrfy *x = (struct tls_vrfy *)(void *)ctx;

	x->minimal.vtable->end_cert(&x->minimal.vtable);
	x->certs++;
}

/* The verdict is kept; in opportunistic mode a key is all we need. */
static unsigned
vrfy_end_chain(const br_x509_class **ctx)
{
	struct tls_vrfy *x = (struct tls_vrfy *)(void *)ctx;
	unsigned r = x->minimal.vtable->end_chain(&x->minimal.vtable);

	x->result = (int)r;
	if (r == 0 || x->mode == TLS_VERIFY) {
		return r;
	}
	if (x->certs == 0) {
		return BR_ERR_X509_EMPTY_CHAIN;
	}
	if (br_x509_decoder_get_pkey(&x->ee) == NULL) {
		return (unsigned)br_x509_decoder_last_error(&x->ee);
	}
	return 0;
}

static const br_x509_pkey *
vrfy_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct tls_vrfy *x = (struct tls_vrfy *)(void *)ctx;
	const br_x509_pkey *pk;

	if (x->result == 0) {
		return x->minimal.vtable->get_pkey(&x->minimal.vtable,
		    usages);
	}
	if (x->mode == TLS_VERIFY) {
		return NULL;
	}
	/* Unverified: the key may serve for what the suite needs. */
	pk = br_x509_decoder_get_pkey(&x->ee);
	if (pk != NULL && usages != NULL) {
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	}
	return pk;
}

static void
client_done(struct conn *c, struct tls_pump *p, int ok)
{
	struct tls_client_conn *t = (struct tls_client_conn *)p;
	const char *v, *ciph, *why;

	/* The anchors serve the handshake only (no renegotiation). */
	if (t->anchors != NULL) {
		ta_put(t->anchors);
		t->anchors = NULL;
	}
	if (ok && tls_info(c, &v, &ciph)) {
		int verified = tls_peer_verified(c, &why);

		conn_log(c, LOG_LVL_INFO, "TLS %s %s, certificate %s%s%s",
		    v, ciph, verified ? "verified" : "not verified (",
		    verified ? "" : why, verified ? "" : ")");
	} else if (!ok) {
		conn_log(c, LOG_LVL_INFO, "TLS handshake failed: %s",
		    tls_strerror(p->err));
	}
	if (t->done != NULL) {
		t->done(c, ok, t->arg);
	}
}

static void
client_release(struct conn *c, struct tls_pump *p)
{
	struct tls_client_conn *t = (struct tls_client_conn *)p;

	(void)c;
	if (t->anchors != NULL) {
		ta_put(t->anchors);
	}
	(void)pool_put(&cli.pool, t);
}

/* Reads a PEM bundle into set; on error set is left empty. The DNs and
 * keys are parts of the certificates, whose DER is smaller than the
 * file: one block of the file's size holds them all. */
static int
ta_load(struct ta_set *set, const char *path, struct err *e)
{
	struct ta_load *ld;
	struct stat st;
	int rc = 0;

	memset(set, 0, sizeof *set);
	if (stat(path, &st) == -1) {
		return err_set(e, "%s: cannot read the CA bundle: %s", path,
		    strerror(errno));
	}
	if (!S_ISREG(st.st_mode) || st.st_size > TLS_CA_MAX) {
		return err_set(e, "%s: not a CA bundle (a file of at most %d "
		    "bytes)", path, TLS_CA_MAX);
	}
	ld = calloc(1, sizeof *ld);
	set->data = malloc((size_t)st.st_size + 1);
	if (ld == NULL || set->data == NULL) {
		free(ld);
		ta_free(set);
		return err_set(e, "%s: out of memory", path);
	}
	ld->set = set;
	ld->room = (size_t)st.st_size + 1;
	ld->e = e;
	if (tls_pem_each(path, TLS_CA_MAX, ta_add, ld, e) == -1) {
		rc = -1;
	} else if (ld->overflow) {
		rc = err_set(e, "%s: the file changed while read", path);
	} else if (set->n == 0) {
		rc = err_set(e, "%s: no usable CA certificate in the file",
		    path);
	}
	if (rc == 0 && ld->skipped > 0) {
		log_warnx("tls: %s: %zu certificates skipped (unsupported "
		    "key or malformed)", path, ld->skipped);
	}
	free(ld);
	if (rc == -1) {
		ta_free(set);
	}
	return rc;
}

/* One PEM object: a certificate becomes an anchor, as brssl does. */
static int
ta_add(void *arg, const char *name, const unsigned char *der, size_t len)
{
	struct ta_load *ld = arg;
	struct ta_set *set = ld->set;
	br_x509_trust_anchor *ta;
	const br_x509_pkey *pk;
	size_t mark = ld->used;

	if (strcmp(name, "CERTIFICATE") != 0 &&
	    strcmp(name, "X509 CERTIFICATE") != 0) {
		return 0;
	}
	if (set->n == ld->cap) {
		size_t cap = ld->cap ? ld->cap * 2 : 64;

		ta = realloc(set->ta, cap * sizeof *ta);
		if (ta == NULL) {
			return err_set(ld->e, "CA bundle: out of memory");
		}
		set->ta = ta;
		ld->cap = cap;
	}
	ta = &set->ta[set->n];
	memset(ta, 0, sizeof *ta);
	ta->dn.data = set->data + ld->used;
	br_x509_decoder_init(&ld->xd, ta_append_dn, ld);
	br_x509_decoder_push(&ld->xd, der, len);
	pk = br_x509_decoder_get_pkey(&ld->xd);
	if (pk == NULL || ld->overflow) {
		ld->used = mark;
		ld->skipped++;
		return 0;
	}
	ta->dn.len = ld->used - mark;
	if (br_x509_decoder_isCA(&ld->xd)) {
		ta->flags |= BR_X509_TA_CA;
	}
	/* Not a CA: the key itself is trusted (a relay's self-signed
	 * certificate put in relay_ca_file). */
	ta->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = ta_copy(ld, pk->key.rsa.n,
		    pk->key.rsa.nlen);
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = ta_copy(ld, pk->key.rsa.e,
		    pk->key.rsa.elen);
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
	} else if (pk->key_type == BR_KEYTYPE_EC) {
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = ta_copy(ld, pk->key.ec.q,
		    pk->key.ec.qlen);
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
	} else {
		ld->used = mark;
		ld->skipped++;
		return 0;
	}
	if (ld->overflow) {
		ld->used = mark;
		return 0;
	}
	set->n++;
	return 0;
}

static void
ta_append_dn(void *arg, const void *p, size_t len)
{
	(void)ta_copy(arg, p, len);
}

/* Bytes into the set's block; on overflow (the file grew since its
 * size was taken) the load fails. */
static unsigned char *
ta_copy(struct ta_load *ld, const void *p, size_t len)
{
	unsigned char *dst = ld->set->data + ld->used;

	if (len > ld->room - ld->used) {
		ld->overflow = 1;
		return dst;
	}
	memcpy(dst, p, len);
	ld->used += len;
	return dst;
}

static void
ta_free(struct ta_set *set)
{
	free(set->ta);
	free(set->data);
	memset(set, 0, sizeof *set);
}

/* Drops a reference; a set nobody uses is freed. */
static void
ta_put(struct ta_set *set)
{
	if (--set->refs == 0) {
		ta_free(set);
	}
}
