/* SPDX-License-Identifier: ISC */
/*
 * tls_server.c - the server side of TLS (see tls.h): BearSSL's server
 * engine with our certificate and key (tls_cred.c), the session cache,
 * and a pool of slots sized from max_connections. The records go
 * through the pump (tls_pump.c), as the client side's do.
 *
 * A connection keeps the pair it started with: pairs are counted and
 * an old one is freed when its last connection ends.
 */
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/pool.h"
#include "tls/tls.h"
#include "tls/tls_cred.h"
#include "tls/tls_pump.h"

#define CREDS_MAX	4	/* the current pair and older ones in use */

struct cred_slot {
	struct tls_cred	cred;
	unsigned	refs;		/* connections using it */
	int		loaded;
};

#define ACME_ALPN	"acme-tls/1"	/* RFC 8737 6.2 */

struct tls_conn;

/* A server policy in front of BearSSL's single-certificate ones: it
 * hands out the TLS-ALPN-01 certificate when asked for. */
struct alpn_policy {
	const br_ssl_server_policy_class *vtable;
	const br_ssl_server_policy_class **inner;	/* NULL: none */
	struct tls_conn			*t;
};

/* A slot: the pump first (c->filter_state points at it). */
struct tls_conn {
	struct tls_pump		 pump;
	br_ssl_server_context	 sc;
	struct cred_slot	*cred;		/* NULL: challenge only */
	struct alpn_policy	 alpn;
};

static struct {
	struct pool		 pool;
	struct cred_slot	 creds[CREDS_MAX];
	struct cred_slot	*current;
	br_ssl_session_cache_lru cache;
	unsigned char		 cache_buf[TLS_CACHE_SIZE];
	struct stat		 cert_st, key_st;
	int			 busy_logged;
	tls_alpn_fn		*acme_alpn;
} tls;

/* Not const: BearSSL's prototype asks for char **. */
static const char *alpn_names[] = { ACME_ALPN };

static const uint16_t suites_ec[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
};
/* An RSA pair: its suites first, then, with ACME on, the EC ones for
 * the challenge certificate. */
static const uint16_t suites_both[] = {
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
};
#define SUITES_RSA_N	3	/* the RSA ones alone */

static void	server_engines(br_ssl_server_context *);
static struct tls_conn	*tls_new(struct conn *);
static void	server_done(struct conn *, struct tls_pump *, int);
static void	server_release(struct conn *, struct tls_pump *);
static void	cred_put(struct cred_slot *);
static int	alpn_choose(const br_ssl_server_policy_class **,
		    const br_ssl_server_context *, br_ssl_server_choices *);
static uint32_t	alpn_keyx(const br_ssl_server_policy_class **,
		    unsigned char *, size_t *);
static size_t	alpn_sign(const br_ssl_server_policy_class **, unsigned,
		    unsigned char *, size_t, size_t);

static const br_ssl_server_policy_class alpn_policy_vt = {
	sizeof(struct alpn_policy), alpn_choose, alpn_keyx, alpn_sign
};

static const struct tls_side server_side = {
	.name = "server",
	.done = server_done,
	.release = server_release,
};

int
tls_init(size_t max, const char *cert, const char *key, struct err *e)
{
	memset(&tls, 0, sizeof tls);
	br_ssl_session_cache_lru_init(&tls.cache, tls.cache_buf,
	    sizeof tls.cache_buf);
	if (pool_init(&tls.pool, "tls", sizeof(struct tls_conn), max,
	    e) == -1) {
		return -1;
	}
	if (tls_reload(cert, key, 1) == -1) {
		return err_set(e, "TLS: the certificate or key is unusable "
		    "(see above)");
	}
	return 0;
}

void
tls_shutdown(void)
{
	for (int i = 0; i < CREDS_MAX; i++) {
		if (tls.creds[i].loaded) {
			tls_cred_free(&tls.creds[i].cred);
		}
	}
	pool_destroy(&tls.pool);
}

int
tls_available(void)
{
	return tls.current != NULL;
}

int
tls_reload(const char *cert, const char *key, int force)
{
	struct stat cs, ks;
	struct cred_slot *slot = NULL;
	struct err e;

	if (cert[0] == '\0') {
		return 0;
	}
	if (stat(cert, &cs) == -1 && stat(key, &ks) == -1 &&
	    tls.current == NULL) {
		if (force) {
			log_info("tls: no certificate (%s): TLS is off", cert);
		}
		return 0;	/* TLS not set up */
	}
	if (stat(cert, &cs) == -1 || stat(key, &ks) == -1) {
		if (force) {
			log_warn("tls: %s or %s", cert, key);
			return -1;
		}
		return 0;	/* in the middle of a renewal? next time */
	}
	if (!force && tls.current != NULL &&
	    cs.st_mtim.tv_sec == tls.cert_st.st_mtim.tv_sec &&
	    cs.st_mtim.tv_nsec == tls.cert_st.st_mtim.tv_nsec &&
	    cs.st_ino == tls.cert_st.st_ino &&
	    ks.st_mtim.tv_sec == tls.key_st.st_mtim.tv_sec &&
	    ks.st_mtim.tv_nsec == tls.key_st.st_mtim.tv_nsec &&
	    ks.st_ino == tls.key_st.st_ino) {
		return 0;
	}
	tls.cert_st = cs;
	tls.key_st = ks;
	for (int i = 0; i < CREDS_MAX; i++) {
		if (!tls.creds[i].loaded) {
			slot = &tls.creds[i];
			break;
		}
	}
	if (slot == NULL) {
		if (!tls.busy_logged) {
			log_warnx("tls: too many certificates still in use; "
			    "the new one is taken when a session ends");
			tls.busy_logged = 1;
		}
		tls.cert_st.st_ino = 0;		/* retry */
		return -1;
	}
	if (tls_cred_load(&slot->cred, cert, key, &e) == -1) {
		log_errorx("tls: new certificate refused, keeping the old "
		    "one: %s", e.msg);
		return -1;
	}
	slot->loaded = 1;
	slot->refs = 1;			/* the "current" reference */
	if (tls.current != NULL) {
		cred_put(tls.current);
		/* Sessions of the old pair must not resume with the new
		 * one (another key type, other suites). */
		br_ssl_session_cache_lru_init(&tls.cache, tls.cache_buf,
		    sizeof tls.cache_buf);
	}
	tls.current = slot;
	tls.busy_logged = 0;
	log_info("tls: certificate %s loaded (%zu in the chain)", cert,
	    slot->cred.chain_len);
	return 1;
}

int
tls_start_after_flush(struct conn *c)
{
	struct tls_conn *t = tls_new(c);

	if (t == NULL) {
		return -1;
	}
	conn_filter_after_flush(c, &tls_pump_filter, &t->pump);
	return 0;
}

int
tls_start_now(struct conn *c)
{
	struct tls_conn *t = tls_new(c);

	if (t == NULL) {
		return -1;
	}
	conn_filter_now(c, &tls_pump_filter, &t->pump);
	return 0;
}

size_t
tls_bytes_per_connection(void)
{
	return sizeof(struct tls_conn);
}

/*
 * What the suites above need, and nothing more: BearSSL's "full"
 * profile would also link 3DES, AES-CBC and AES-CCM, MD5 and the
 * TLS 1.0 PRF (about 8 KB on armhf) that a TLS 1.2 server offering
 * only ECDHE with AEAD never uses. The key is signed with (ECDHE),
 * never used for key exchange.
 */
static void
server_engines(br_ssl_server_context *sc)
{
	br_ssl_engine_context *eng = &sc->eng;

	br_ssl_server_zero(sc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_hash(eng, br_sha224_ID, &br_sha224_vtable);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_ec(eng);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
}

/* A slot and an engine for c, with the current pair. */
static struct tls_conn *
tls_new(struct conn *c)
{
	br_ssl_engine_context *eng;
	struct tls_conn *t;
	struct tls_cred *cr;

	if ((tls.current == NULL && tls.acme_alpn == NULL) ||
	    (t = pool_get(&tls.pool)) == NULL) {
		conn_log(c, LOG_LVL_WARN, "no TLS %s",
		    tls.current == NULL ? "certificate" : "slot free");
		return NULL;
	}
	t->cred = tls.current;
	server_engines(&t->sc);
	eng = &t->sc.eng;
	t->alpn.inner = NULL;
	if (t->cred == NULL) {
		br_ssl_engine_set_suites(eng, suites_ec,
		    sizeof suites_ec / sizeof suites_ec[0]);
	} else if ((cr = &t->cred->cred)->key_type == BR_KEYTYPE_EC) {
		t->cred->refs++;
		br_ssl_server_set_single_ec(&t->sc, cr->chain, cr->chain_len,
		    &cr->ec, BR_KEYTYPE_SIGN, BR_KEYTYPE_EC,
		    br_ssl_engine_get_ec(eng),
		    br_ecdsa_sign_asn1_get_default());
		br_ssl_engine_set_suites(eng, suites_ec,
		    sizeof suites_ec / sizeof suites_ec[0]);
		t->alpn.inner = t->sc.policy_vtable;
	} else {
		t->cred->refs++;
		br_ssl_server_set_single_rsa(&t->sc, cr->chain,
		    cr->chain_len, &cr->rsa, BR_KEYTYPE_SIGN,
		    br_rsa_private_get_default(),
		    br_rsa_pkcs1_sign_get_default());
		br_ssl_engine_set_suites(eng, suites_both, tls.acme_alpn != NULL ?
		    sizeof suites_both / sizeof suites_both[0] : SUITES_RSA_N);
		t->alpn.inner = t->sc.policy_vtable;
	}
	if (tls.acme_alpn != NULL) {
		t->alpn.vtable = &alpn_policy_vt;
		t->alpn.t = t;
		t->sc.policy_vtable = &t->alpn.vtable;
		br_ssl_engine_set_protocol_names(eng, alpn_names, 1);
	}
	br_ssl_engine_add_flags(eng, BR_OPT_ENFORCE_SERVER_PREFERENCES |
	    BR_OPT_NO_RENEGOTIATION);
	br_ssl_server_set_cache(&t->sc, &tls.cache.vtable);
	tls_pump_init(&t->pump, eng, &server_side);
	if (!br_ssl_server_reset(&t->sc)) {
		conn_log(c, LOG_LVL_ERROR, "TLS engine reset failed: %d",
		    br_ssl_engine_last_error(eng));
		if (t->cred != NULL) {
			cred_put(t->cred);
		}
		(void)pool_put(&tls.pool, t);
		return NULL;
	}
	return t;
}

/* The handshake's end: logged when it went well (the pump logs the
 * errors). */
static void
server_done(struct conn *c, struct tls_pump *p, int ok)
{
	const char *v, *ciph;

	struct tls_conn *t = (struct tls_conn *)p;
	const char *proto;

	if (ok && tls_info(c, &v, &ciph)) {
		conn_log(c, LOG_LVL_INFO, "TLS %s %s", v, ciph);
	}
	proto = ok ? br_ssl_engine_get_selected_protocol(&t->sc.eng) : NULL;
	if (proto != NULL && strcmp(proto, ACME_ALPN) == 0) {
		/* RFC 8737 3: the handshake was the whole answer. */
		conn_log(c, LOG_LVL_INFO, "acme-tls/1 challenge answered");
		conn_close(c);
	}
}

void
tls_set_acme_alpn(tls_alpn_fn *fn)
{
	tls.acme_alpn = fn;
}

/* ALPN is settled when the policy chooses (BearSSL reads the whole
 * ClientHello first): "acme-tls/1" with a pending challenge for the
 * SNI name gets the challenge certificate; anything else the pair. */
static int
alpn_choose(const br_ssl_server_policy_class **pctx,
    const br_ssl_server_context *cc, br_ssl_server_choices *choices)
{
	struct alpn_policy *ap = (struct alpn_policy *)(void *)pctx;
	struct tls_conn *t = ap->t;
	br_ssl_engine_context *eng = &t->sc.eng;
	const char *proto = br_ssl_engine_get_selected_protocol(eng);
	const br_x509_certificate *chain;
	const br_ec_private_key *key;

	if (proto != NULL && strcmp(proto, ACME_ALPN) == 0 &&
	    tls.acme_alpn != NULL &&
	    tls.acme_alpn(br_ssl_engine_get_server_name(eng), &chain,
	    &key) == 1) {
		br_ssl_engine_set_suites(eng, suites_ec,
		    sizeof suites_ec / sizeof suites_ec[0]);
		br_ssl_server_set_single_ec(&t->sc, chain, 1, key,
		    BR_KEYTYPE_SIGN, BR_KEYTYPE_EC,
		    br_ssl_engine_get_ec(eng),
		    br_ecdsa_sign_asn1_get_default());
		ap->inner = t->sc.policy_vtable;
		t->sc.policy_vtable = &ap->vtable;
	}
	if (ap->inner == NULL) {
		return 0;		/* no pair yet, no challenge */
	}
	return (*ap->inner)->choose(ap->inner, cc, choices);
}

static uint32_t
alpn_keyx(const br_ssl_server_policy_class **pctx, unsigned char *data,
    size_t *len)
{
	struct alpn_policy *ap = (struct alpn_policy *)(void *)pctx;

	return (*ap->inner)->do_keyx(ap->inner, data, len);
}

static size_t
alpn_sign(const br_ssl_server_policy_class **pctx, unsigned algo_id,
    unsigned char *data, size_t hv_len, size_t len)
{
	struct alpn_policy *ap = (struct alpn_policy *)(void *)pctx;

	return (*ap->inner)->do_sign(ap->inner, algo_id, data, hv_len, len);
}

static void
server_release(struct conn *c, struct tls_pump *p)
{
	struct tls_conn *t = (struct tls_conn *)p;

	(void)c;
	if (t->cred != NULL) {
		cred_put(t->cred);
	}
	(void)pool_put(&tls.pool, t);
}

/* Drops a reference; an old pair nobody uses is freed. */
static void
cred_put(struct cred_slot *s)
{
	if (--s->refs == 0) {
		tls_cred_free(&s->cred);
		s->loaded = 0;
	}
}
