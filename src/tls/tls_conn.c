/*
 * tls_conn.c - the TLS filter on BearSSL's server engine (see tls.h).
 *
 *   socket --read--> recvrec --engine--> recvapp --> c->in
 *   c->out --> sendapp --engine--> sendrec --send--> socket
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pool.h"
#include "tls/tls.h"
#include "tls/tls_cred.h"

#define CREDS_MAX	4	/* the current pair and older ones in use */

struct cred_slot {
	struct tls_cred	cred;
	unsigned	refs;		/* connections using it */
	int		loaded;
};

struct tls_conn {
	br_ssl_server_context	 sc;
	struct cred_slot	*cred;
	int			 handshake_done;
	int			 close_sent;	/* close_notify queued */
	unsigned char		 buf[TLS_INBUF + TLS_OUTBUF];
};

static struct {
	struct pool		 pool;
	struct cred_slot	 creds[CREDS_MAX];
	struct cred_slot	*current;
	br_ssl_session_cache_lru cache;
	unsigned char		 cache_buf[TLS_CACHE_SIZE];
	struct stat		 cert_st, key_st;
	int			 busy_logged;
} tls;

static const uint16_t suites_ec[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
};
static const uint16_t suites_rsa[] = {
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

static int	tls_read(struct conn *);
static int	tls_flush(struct conn *);
static int	tls_pending(const struct conn *);
static int	tls_buffered(const struct conn *);
static void	tls_close(struct conn *);
static int	send_records(struct conn *, struct tls_conn *);
static struct tls_conn	*tls_new(struct conn *);
static void	cred_put(struct cred_slot *);

static const struct conn_filter tls_filter = {
	.read = tls_read,
	.flush = tls_flush,
	.pending = tls_pending,
	.buffered = tls_buffered,
	.close = tls_close,
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
	conn_filter_after_flush(c, &tls_filter, t);
	return 0;
}

int
tls_start_now(struct conn *c)
{
	struct tls_conn *t = tls_new(c);

	if (t == NULL) {
		return -1;
	}
	conn_filter_now(c, &tls_filter, t);
	return 0;
}

int
tls_info(const struct conn *c, const char **version, const char **cipher)
{
	const struct tls_conn *t = c->filter == &tls_filter ?
	    c->filter_state : NULL;
	br_ssl_session_parameters pp;

	if (t == NULL || !t->handshake_done) {
		return 0;
	}
	br_ssl_engine_get_session_parameters(&t->sc.eng, &pp);
	*version = "TLSv1.2";
	switch (pp.cipher_suite) {
	case BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
		*cipher = "ECDHE-ECDSA-AES128-GCM-SHA256";
		break;
	case BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
		*cipher = "ECDHE-ECDSA-AES256-GCM-SHA384";
		break;
	case BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:
		*cipher = "ECDHE-ECDSA-CHACHA20-POLY1305";
		break;
	case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:
		*cipher = "ECDHE-RSA-AES128-GCM-SHA256";
		break;
	case BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		*cipher = "ECDHE-RSA-AES256-GCM-SHA384";
		break;
	default:
		*cipher = "ECDHE-RSA-CHACHA20-POLY1305";
		break;
	}
	return 1;
}

size_t
tls_bytes_per_connection(void)
{
	return sizeof(struct tls_conn);
}

/* A slot and an engine for c, with the current pair. */
static struct tls_conn *
tls_new(struct conn *c)
{
	br_ssl_engine_context *eng;
	struct tls_conn *t;
	struct tls_cred *cr;

	if (tls.current == NULL || (t = pool_get(&tls.pool)) == NULL) {
		conn_log(c, LOG_LVL_WARN, "no TLS %s",
		    tls.current == NULL ? "certificate" : "slot free");
		return NULL;
	}
	t->cred = tls.current;
	t->cred->refs++;
	cr = &t->cred->cred;
	if (cr->key_type == BR_KEYTYPE_EC) {
		br_ssl_server_init_full_ec(&t->sc, cr->chain, cr->chain_len,
		    BR_KEYTYPE_EC, &cr->ec);
	} else {
		br_ssl_server_init_full_rsa(&t->sc, cr->chain, cr->chain_len,
		    &cr->rsa);
	}
	eng = &t->sc.eng;
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	if (cr->key_type == BR_KEYTYPE_EC) {
		br_ssl_engine_set_suites(eng, suites_ec,
		    sizeof suites_ec / sizeof suites_ec[0]);
	} else {
		br_ssl_engine_set_suites(eng, suites_rsa,
		    sizeof suites_rsa / sizeof suites_rsa[0]);
	}
	br_ssl_engine_add_flags(eng, BR_OPT_ENFORCE_SERVER_PREFERENCES |
	    BR_OPT_NO_RENEGOTIATION);
	br_ssl_server_set_cache(&t->sc, &tls.cache.vtable);
	br_ssl_engine_set_buffers_bidi(eng, t->buf, TLS_INBUF,
	    t->buf + TLS_INBUF, TLS_OUTBUF);
	if (!br_ssl_server_reset(&t->sc)) {
		conn_log(c, LOG_LVL_ERROR, "TLS engine reset failed: %d",
		    br_ssl_engine_last_error(eng));
		cred_put(t->cred);
		(void)pool_put(&tls.pool, t);
		return NULL;
	}
	return t;
}

static int
tls_read(struct conn *c)
{
	struct tls_conn *t = c->filter_state;
	br_ssl_engine_context *eng = &t->sc.eng;
	int added = 0;

	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);
		unsigned char *p;
		size_t len, room;
		ssize_t n;

		if (st == BR_SSL_CLOSED) {
			int err = br_ssl_engine_last_error(eng);

			if (err != BR_ERR_OK) {
				conn_log(c, LOG_LVL_INFO, "TLS error %d", err);
			}
			return added ? 1 : -1;
		}
		if (!t->handshake_done && (st & (BR_SSL_SENDAPP |
		    BR_SSL_RECVAPP))) {
			const char *v, *ciph;

			t->handshake_done = 1;
			if (tls_info(c, &v, &ciph)) {
				conn_log(c, LOG_LVL_INFO, "TLS %s %s", v,
				    ciph);
			}
		}
		if (st & BR_SSL_SENDREC) {
			if (send_records(c, t) == -1) {
				return -1;
			}
			if (br_ssl_engine_current_state(eng) &
			    BR_SSL_SENDREC) {
				/* Socket full: read more once it drains. */
				return added;
			}
			continue;
		}
		if (st & BR_SSL_RECVAPP) {
			char *tail = buf_tail(&c->in, &room);

			if (room == 0) {
				return added;
			}
			p = br_ssl_engine_recvapp_buf(eng, &len);
			if (len > room) {
				len = room;
			}
			memcpy(tail, p, len);
			buf_commit(&c->in, len);
			br_ssl_engine_recvapp_ack(eng, len);
			added = 1;
			continue;
		}
		if (!(st & BR_SSL_RECVREC)) {
			return added;
		}
		p = br_ssl_engine_recvrec_buf(eng, &len);
		n = read(c->fd, p, len);
		if (n > 0) {
			br_ssl_engine_recvrec_ack(eng, (size_t)n);
			continue;
		}
		if (n == 0) {
			return added ? 1 : -1;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return added;
		}
		return added ? 1 : -1;
	}
}

static int
tls_flush(struct conn *c)
{
	struct tls_conn *t = c->filter_state;
	br_ssl_engine_context *eng = &t->sc.eng;

	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);

		if (st == BR_SSL_CLOSED) {
			return -1;
		}
		if (st & BR_SSL_SENDREC) {
			if (send_records(c, t) == -1) {
				return -1;
			}
			if (br_ssl_engine_current_state(eng) &
			    BR_SSL_SENDREC) {
				return 0;	/* waiting for EV_WRITE */
			}
			continue;
		}
		if (c->out.len == 0 && (c->flags & CONN_F_CLOSING) &&
		    !t->close_sent) {
			/* RFC 5246 7.2.1: close_notify before closing. */
			t->close_sent = 1;
			br_ssl_engine_close(eng);
			continue;
		}
		if (c->out.len > 0 && (st & BR_SSL_SENDAPP)) {
			size_t len;
			unsigned char *p = br_ssl_engine_sendapp_buf(eng,
			    &len);

			if (len > c->out.len) {
				len = c->out.len;
			}
			memcpy(p, buf_head(&c->out), len);
			buf_consume(&c->out, len);
			br_ssl_engine_sendapp_ack(eng, len);
			if (c->out.len == 0) {
				br_ssl_engine_flush(eng, 0);
			}
			continue;
		}
		conn_want_write(c, 0);
		return 0;
	}
}

static int
tls_pending(const struct conn *c)
{
	const struct tls_conn *t = c->filter_state;

	return (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_SENDREC)
	    != 0;
}

static int
tls_buffered(const struct conn *c)
{
	const struct tls_conn *t = c->filter_state;

	return (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_RECVAPP)
	    != 0;
}

static void
tls_close(struct conn *c)
{
	struct tls_conn *t = c->filter_state;

	if (t == NULL) {
		return;
	}
	cred_put(t->cred);
	(void)pool_put(&tls.pool, t);
	c->filter_state = NULL;
}

/* Records to the socket until it is full: 0, or -1 on an error. */
static int
send_records(struct conn *c, struct tls_conn *t)
{
	br_ssl_engine_context *eng = &t->sc.eng;

	while (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC) {
		size_t len;
		unsigned char *p = br_ssl_engine_sendrec_buf(eng, &len);
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			br_ssl_engine_sendrec_ack(eng, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_want_write(c, 1);
			return 0;
		}
		return -1;
	}
	return 0;
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
