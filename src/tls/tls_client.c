/* SPDX-License-Identifier: ISC */
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
 * The trust anchors live in one allocation per load, sized exactly
 * (ta_load draws it); a reload makes a new set, and the old one is
 * freed once no handshake uses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pool.h"
#include "tls/tls_client.h"
#include "tls/tls_pump.h"

#define TA_SETS_MAX	4	/* the current anchors and older ones */
#define TA_READ_CHUNK	4096	/* CA bundle text read at once */

struct ta_set {
	br_x509_trust_anchor	*ta;		/* one block, see ta_load */
	size_t			 n;
	size_t			 bytes;		/* of the block */
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

/* One CA bundle being read (ta_load): the PEM decoder, the X.509
 * decoder of the current object, and what was counted or copied. */
struct ta_load {
	const char		*path;
	struct err		*e;
	struct ta_set		*set;		/* NULL while counting */
	size_t			 cap;		/* room in set->ta */
	unsigned char		*out;		/* DNs and keys, or NULL */
	size_t			 room;		/* at out */
	size_t			 n;		/* anchors so far */
	size_t			 bytes;		/* DN and key bytes so far */
	size_t			 mark;		/* bytes at this object */
	size_t			 skipped;
	int			 overflow;
	int			 inside;	/* between BEGIN and END */
	int			 is_cert;
	br_pem_decoder_context	 pem;
	br_x509_decoder_context	 xd;
	unsigned char		 buf[TA_READ_CHUNK];
};

static struct {
	struct pool		 pool;
	struct ta_set		 sets[TA_SETS_MAX];
	struct ta_set		*current;
	int			 ready;
} cli;

/* TLS 1.2 with AEAD suites only, ECDHE first, then RSA key exchange
 * for old MX hosts. TLS 1.0 and 1.1 are deprecated (RFC 8996) and
 * every TLS 1.2 server offers GCM; a server that cannot meet these
 * gets its mail in clear on an MX hop (remote.c retries without TLS),
 * never on a hop that requires TLS. Leaving out CBC, MD5 and the
 * TLS 1.0 PRF keeps 8 KB off the armhf binary. */
static const uint16_t suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_RSA_WITH_AES_256_GCM_SHA384,
};

static void	vrfy_start_chain(const br_x509_class **, const char *);
static void	vrfy_start_cert(const br_x509_class **, uint32_t);
static void	vrfy_append(const br_x509_class **, const unsigned char *,
		    size_t);
static void	vrfy_end_cert(const br_x509_class **);
static unsigned	vrfy_end_chain(const br_x509_class **);
static const br_x509_pkey *vrfy_get_pkey(const br_x509_class *const *,
		    unsigned *);
static void	client_engines(br_ssl_client_context *,
		    br_x509_minimal_context *, const struct ta_set *);
static void	client_done(struct conn *, struct tls_pump *, int);
static void	client_release(struct conn *, struct tls_pump *);
static int	ta_load(struct ta_set *, const char *, struct err *);
static int	ta_pass(struct ta_load *);
static int	ta_feed(struct ta_load *, const unsigned char *, size_t);
static void	ta_append_der(void *, const void *, size_t);
static void	ta_add(struct ta_load *);
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
	log_info("tls: %zu trust anchors from %s (%zu bytes kept)", set->n,
	    path, set->bytes);
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
	client_engines(&t->cc, &t->x.minimal, t->anchors);
	eng = &t->cc.eng;
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
tls_client_anchor_bytes(void)
{
	return cli.current != NULL ? cli.current->bytes : 0;
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

/*
 * BearSSL's "full" client profile without 3DES and AES-CCM, which no
 * suite above names (about 6 KB on armhf): TLS 1.0 to 1.2, every hash
 * for the handshake and the certificate chain, RSA and ECDSA
 * signatures, RSA and ECDHE key exchange, AES-GCM, ChaCha20-Poly1305
 * and AES-CBC. The minimal X.509 engine gets our anchors; ours wraps
 * it (tls_vrfy).
 */
static void
client_engines(br_ssl_client_context *cc, br_x509_minimal_context *xc,
    const struct ta_set *ta)
{
	static const br_hash_class *const hashes[] = {
		&br_sha1_vtable, &br_sha224_vtable, &br_sha256_vtable,
		&br_sha384_vtable, &br_sha512_vtable
	};
	br_ssl_engine_context *eng = &cc->eng;
	int id;

	br_ssl_client_zero(cc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_x509_minimal_init(xc, &br_sha256_vtable, ta->ta, ta->n);
	for (id = br_sha1_ID; id <= br_sha512_ID; id++) {
		br_ssl_engine_set_hash(eng, id, hashes[id - 2]);
		br_x509_minimal_set_hash(xc, id, hashes[id - 2]);
	}
	br_x509_minimal_set_rsa(xc, br_rsa_pkcs1_vrfy_get_default());
	br_x509_minimal_set_ecdsa(xc, br_ec_get_default(),
	    br_ecdsa_vrfy_asn1_get_default());
	br_ssl_client_set_default_rsapub(cc);
	br_ssl_engine_set_default_rsavrfy(eng);
	br_ssl_engine_set_default_ec(eng);
	br_ssl_engine_set_default_ecdsa(eng);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
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

/*
 * Reads a PEM bundle into set; on error set is left empty. The file is
 * read twice in small chunks, each PEM object's DER going straight
 * into an X.509 decoder, so neither the file nor a certificate is ever
 * held whole. The first pass counts the anchors and the bytes of their
 * DNs and keys; the second copies them into one block of exactly that
 * size:
 *
 *   set->ta --> +------------------------+
 *               | br_x509_trust_anchor 0 |--.  dn.data, key pointers
 *               | ...                    |  |
 *               | br_x509_trust_anchor n |  |
 *               +------------------------+  |
 *               | DN 0 | n, e or Q 0 | DN 1 ...  (bytes, no padding)
 *               +------------------------------------------+
 */
static int
ta_load(struct ta_set *set, const char *path, struct err *e)
{
	struct ta_load *ld;
	size_t n, bytes;
	int rc;

	memset(set, 0, sizeof *set);
	ld = calloc(1, sizeof *ld);
	if (ld == NULL) {
		return err_set(e, "%s: out of memory", path);
	}
	ld->path = path;
	ld->e = e;
	rc = ta_pass(ld);
	if (rc == 0 && ld->n == 0) {
		rc = err_set(e, "%s: no usable CA certificate in the file",
		    path);
	}
	n = ld->n;
	bytes = ld->bytes;
	if (rc == 0 && (n > SIZE_MAX / sizeof *set->ta / 2 ||
	    (set->ta = malloc(n * sizeof *set->ta + bytes)) == NULL)) {
		rc = err_set(e, "%s: out of memory", path);
	}
	if (rc == 0) {
		ld->set = set;
		ld->cap = n;
		ld->room = bytes;
		ld->out = (unsigned char *)(set->ta + n);
		rc = ta_pass(ld);
	}
	if (rc == 0 && (ld->overflow || set->n != n || ld->bytes != bytes)) {
		rc = err_set(e, "%s: the file changed while read", path);
	}
	if (rc == 0) {
		set->bytes = n * sizeof *set->ta + bytes;
		if (ld->skipped > 0) {
			log_warnx("tls: %s: %zu certificates skipped "
			    "(unsupported key or malformed)", path,
			    ld->skipped);
		}
	}
	free(ld);
	if (rc == -1) {
		ta_free(set);
	}
	return rc;
}

/* One pass over the file: counts (ld->set NULL) or fills ld->set. */
static int
ta_pass(struct ta_load *ld)
{
	struct stat st;
	size_t total = 0;
	int fd, rc = 0, eof = 0;

	ld->n = 0;
	ld->bytes = 0;
	ld->skipped = 0;
	ld->inside = 0;
	fd = open(ld->path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		return err_set(ld->e, "%s: cannot read the CA bundle: %s",
		    ld->path, strerror(errno));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > TLS_CA_MAX) {
		close(fd);
		return err_set(ld->e, "%s: not a CA bundle (a file of at most "
		    "%d bytes)", ld->path, TLS_CA_MAX);
	}
	br_pem_decoder_init(&ld->pem);
	while (rc == 0 && !eof) {
		ssize_t got = read(fd, ld->buf, sizeof ld->buf);

		if (got == -1 && errno == EINTR) {
			continue;
		}
		if (got == -1) {
			rc = err_set(ld->e, "%s: %s", ld->path,
			    strerror(errno));
			break;
		}
		total += (size_t)got;
		if (total > TLS_CA_MAX) {
			rc = err_set(ld->e, "%s: the file changed while read",
			    ld->path);
			break;
		}
		if (got == 0) {
			/* A last line without its newline still ends. */
			eof = 1;
			ld->buf[0] = '\n';
			got = 1;
		}
		rc = ta_feed(ld, ld->buf, (size_t)got);
	}
	close(fd);
	if (rc == 0 && ld->inside) {
		rc = err_set(ld->e, "%s: PEM object not terminated",
		    ld->path);
	}
	return rc;
}

/* PEM text through the decoder; objects begin and end on the way. */
static int
ta_feed(struct ta_load *ld, const unsigned char *p, size_t len)
{
	while (len > 0) {
		size_t used = br_pem_decoder_push(&ld->pem, p, len);
		const char *name;

		p += used;
		len -= used;
		switch (br_pem_decoder_event(&ld->pem)) {
		case BR_PEM_BEGIN_OBJ:
			name = br_pem_decoder_name(&ld->pem);
			ld->inside = 1;
			ld->is_cert = strcmp(name, "CERTIFICATE") == 0 ||
			    strcmp(name, "X509 CERTIFICATE") == 0;
			ld->mark = ld->bytes;
			if (ld->is_cert) {
				br_x509_decoder_init(&ld->xd, ta_append_dn,
				    ld);
			}
			br_pem_decoder_setdest(&ld->pem, ta_append_der, ld);
			break;
		case BR_PEM_END_OBJ:
			if (ld->inside && ld->is_cert) {
				ta_add(ld);
			}
			ld->inside = 0;
			break;
		case BR_PEM_ERROR:
			return err_set(ld->e, "%s: not a valid PEM file",
			    ld->path);
		default:
			break;
		}
	}
	return 0;
}

static void
ta_append_der(void *arg, const void *p, size_t len)
{
	struct ta_load *ld = arg;

	if (ld->is_cert) {
		br_x509_decoder_push(&ld->xd, p, len);
	}
}

/* The certificate just decoded becomes an anchor, as brssl does; its
 * DN is already in place (ta_append_dn), the key follows it. */
static void
ta_add(struct ta_load *ld)
{
	br_x509_trust_anchor ta;
	const br_x509_pkey *pk = br_x509_decoder_get_pkey(&ld->xd);

	memset(&ta, 0, sizeof ta);
	if (pk == NULL || (pk->key_type != BR_KEYTYPE_RSA &&
	    pk->key_type != BR_KEYTYPE_EC)) {
		ld->bytes = ld->mark;
		ld->skipped++;
		return;
	}
	ta.dn.data = ld->out != NULL ? ld->out + ld->mark : NULL;
	ta.dn.len = ld->bytes - ld->mark;
	/* Not a CA: the key itself is trusted (a relay's self-signed
	 * certificate put in relay_ca_file). */
	if (br_x509_decoder_isCA(&ld->xd)) {
		ta.flags |= BR_X509_TA_CA;
	}
	ta.pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta.pkey.key.rsa.n = ta_copy(ld, pk->key.rsa.n,
		    pk->key.rsa.nlen);
		ta.pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta.pkey.key.rsa.e = ta_copy(ld, pk->key.rsa.e,
		    pk->key.rsa.elen);
		ta.pkey.key.rsa.elen = pk->key.rsa.elen;
	} else {
		ta.pkey.key.ec.curve = pk->key.ec.curve;
		ta.pkey.key.ec.q = ta_copy(ld, pk->key.ec.q,
		    pk->key.ec.qlen);
		ta.pkey.key.ec.qlen = pk->key.ec.qlen;
	}
	if (ld->set != NULL) {
		if (ld->set->n == ld->cap) {
			ld->overflow = 1;
		} else if (!ld->overflow) {
			ld->set->ta[ld->set->n++] = ta;
		}
	}
	ld->n++;
}

static void
ta_append_dn(void *arg, const void *p, size_t len)
{
	(void)ta_copy(arg, p, len);
}

/* Bytes counted, and in the second pass copied into the block; where
 * the first pass did not leave room (the file changed in between),
 * the load fails. */
static unsigned char *
ta_copy(struct ta_load *ld, const void *p, size_t len)
{
	unsigned char *dst;

	if (ld->out == NULL) {
		ld->bytes += len;
		return NULL;
	}
	dst = ld->out + ld->bytes;
	if (len > ld->room - ld->bytes) {
		ld->overflow = 1;
		return dst;
	}
	memcpy(dst, p, len);
	ld->bytes += len;
	return dst;
}

static void
ta_free(struct ta_set *set)
{
	free(set->ta);
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
