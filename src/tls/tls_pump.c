/* SPDX-License-Identifier: ISC */
/*
 * tls_pump.c - the TLS filter on a BearSSL engine, server or client
 * (see tls_pump.h): BearSSL does no I/O, this file does it.
 *
 *   socket --read--> recvrec --engine--> recvapp --> c->in
 *   c->out --> sendapp --engine--> sendrec --send--> socket
 *
 * Closing sends close_notify first (RFC 5246 7.2.1). The side is told
 * once when the handshake ends, well or badly, after the bytes of that
 * read have been handled, so that it may close the connection.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "tls/tls_pump.h"

struct suite_name {
	uint16_t	 id;
	const char	*name;
};

/* What either side offers (tls_server.c, tls_client.c). */
static const struct suite_name suite_names[] = {
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	    "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	    "ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	    "ECDHE-ECDSA-CHACHA20-POLY1305" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	    "ECDHE-RSA-AES128-GCM-SHA256" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	    "ECDHE-RSA-AES256-GCM-SHA384" },
	{ BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	    "ECDHE-RSA-CHACHA20-POLY1305" },
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	    "ECDHE-ECDSA-AES128-SHA256" },
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
	    "ECDHE-ECDSA-AES256-SHA384" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	    "ECDHE-RSA-AES128-SHA256" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
	    "ECDHE-RSA-AES256-SHA384" },
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	    "ECDHE-ECDSA-AES128-SHA" },
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	    "ECDHE-ECDSA-AES256-SHA" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA" },
	{ BR_TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256" },
	{ BR_TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384" },
	{ BR_TLS_RSA_WITH_AES_128_CBC_SHA256, "AES128-SHA256" },
	{ BR_TLS_RSA_WITH_AES_256_CBC_SHA256, "AES256-SHA256" },
	{ BR_TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA" },
	{ BR_TLS_RSA_WITH_AES_256_CBC_SHA, "AES256-SHA" },
	{ BR_TLS_RSA_WITH_3DES_EDE_CBC_SHA, "DES-CBC3-SHA" },
};

static int	tls_read(struct conn *);
static int	tls_flush(struct conn *);
static int	tls_pending(const struct conn *);
static int	tls_buffered(const struct conn *);
static void	tls_close(struct conn *);
static int	pump_read(struct conn *, struct tls_pump *);
static int	send_records(struct conn *, struct tls_pump *);
static void	pump_failed(struct conn *, struct tls_pump *, int err);

const struct conn_filter tls_pump_filter = {
	.read = tls_read,
	.flush = tls_flush,
	.pending = tls_pending,
	.buffered = tls_buffered,
	.close = tls_close,
};

void
tls_pump_init(struct tls_pump *t, br_ssl_engine_context *eng,
    const struct tls_side *side)
{
	t->eng = eng;
	t->side = side;
	t->handshake_done = 0;
	t->done_called = 0;
	t->close_sent = 0;
	t->err = BR_ERR_OK;
	br_ssl_engine_set_buffers_bidi(eng, t->buf, TLS_INBUF,
	    t->buf + TLS_INBUF, TLS_OUTBUF);
}

struct tls_pump *
tls_pump_of(const struct conn *c)
{
	/* Under compression too (RFC 4978 over TLS). */
	return conn_filter_state(c, &tls_pump_filter);
}

int
tls_info(const struct conn *c, const char **version, const char **cipher)
{
	const struct tls_pump *t = tls_pump_of(c);
	br_ssl_session_parameters pp;

	if (t == NULL || !t->handshake_done) {
		return 0;
	}
	br_ssl_engine_get_session_parameters(t->eng, &pp);
	*version = tls_version_name(pp.version);
	*cipher = tls_suite_name(pp.cipher_suite);
	return 1;
}

const char *
tls_failure(const struct conn *c)
{
	const struct tls_pump *t = tls_pump_of(c);

	if (t == NULL) {
		return "TLS is not on";
	}
	return tls_strerror(t->err);
}

const char *
tls_version_name(unsigned v)
{
	switch (v) {
	case BR_TLS10:
		return "TLSv1";
	case BR_TLS11:
		return "TLSv1.1";
	case BR_TLS12:
		return "TLSv1.2";
	default:
		return "TLS?";
	}
}

const char *
tls_suite_name(unsigned id)
{
	for (size_t i = 0; i < sizeof suite_names / sizeof suite_names[0];
	    i++) {
		if (suite_names[i].id == id) {
			return suite_names[i].name;
		}
	}
	return "UNKNOWN";
}

const char *
tls_strerror(int err)
{
	/* One loop, one thread: the alert text may live here. */
	static char alert[64];

	switch (err) {
	case BR_ERR_OK:
		return "no error";
	case TLS_ERR_EOF:
		return "connection closed during the handshake";
	case TLS_ERR_IO:
		return "connection lost";
	case BR_ERR_X509_EXPIRED:
		return "certificate has expired or is not yet valid";
	case BR_ERR_X509_NOT_TRUSTED:
		return "unknown issuer";
	case BR_ERR_X509_BAD_SERVER_NAME:
		return "name mismatch";
	case BR_ERR_X509_BAD_SIGNATURE:
		return "bad certificate signature";
	case BR_ERR_X509_NOT_CA:
		return "issuer is not a CA";
	case BR_ERR_X509_DN_MISMATCH:
		return "broken chain (issuer name mismatch)";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE:
		return "key usage forbids TLS";
	case BR_ERR_X509_WEAK_PUBLIC_KEY:
		return "weak public key";
	case BR_ERR_X509_CRITICAL_EXTENSION:
		return "unknown critical extension";
	case BR_ERR_X509_UNSUPPORTED:
	case BR_ERR_X509_WRONG_KEY_TYPE:
		return "unsupported certificate algorithm";
	case BR_ERR_X509_EMPTY_CHAIN:
		return "no certificate";
	case BR_ERR_X509_LIMIT_EXCEEDED:
		return "certificate chain too long";
	case BR_ERR_X509_TIME_UNKNOWN:
		return "no clock to check validity";
	case BR_ERR_UNSUPPORTED_VERSION:
	case BR_ERR_BAD_VERSION:
		return "no common protocol version";
	case BR_ERR_BAD_CIPHER_SUITE:
		return "no common cipher suite";
	case BR_ERR_BAD_MAC:
		return "bad record MAC";
	case BR_ERR_BAD_SIGNATURE:
		return "bad key exchange signature";
	case BR_ERR_WRONG_KEY_USAGE:
		return "key unusable for the cipher suite";
	case BR_ERR_UNKNOWN_TYPE:
	case BR_ERR_BAD_LENGTH:
	case BR_ERR_UNEXPECTED:
		return "not TLS, or a broken record";
	case BR_ERR_TOO_LARGE:
		return "record too large";
	case BR_ERR_BAD_FINISHED:
		return "bad Finished message";
	case BR_ERR_IO:
		return "I/O error";
	default:
		break;
	}
	if (err >= BR_ERR_X509_OK && err < BR_ERR_X509_OK + 32) {
		return "malformed certificate";
	}
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT) {
		(void)fmt(alert, sizeof alert, "peer sent fatal alert %d",
		    err - BR_ERR_RECV_FATAL_ALERT);
		return alert;
	}
	if (err >= BR_ERR_SEND_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT +
	    256) {
		(void)fmt(alert, sizeof alert, "sent fatal alert %d",
		    err - BR_ERR_SEND_FATAL_ALERT);
		return alert;
	}
	(void)fmt(alert, sizeof alert, "TLS error %d", err);
	return alert;
}

/* The side hears of the handshake's end here, once, after the bytes of
 * this read were handled: the callee may close c. */
static int
tls_read(struct conn *c)
{
	struct tls_pump *t = c->filter_state;
	int rc = pump_read(c, t);

	if (!t->done_called && (t->handshake_done || rc == -1)) {
		t->done_called = 1;
		if (!t->handshake_done && t->err == BR_ERR_OK) {
			t->err = TLS_ERR_EOF;
		}
		t->side->done(c, t, t->handshake_done);
	}
	return rc;
}

/* Records in, plaintext out to c->in: as the filter's read. */
static int
pump_read(struct conn *c, struct tls_pump *t)
{
	br_ssl_engine_context *eng = t->eng;
	int added = 0;

	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);
		unsigned char *p;
		size_t len, room;
		ssize_t n;

		if (st == BR_SSL_CLOSED) {
			int err = br_ssl_engine_last_error(eng);

			if (err != BR_ERR_OK) {
				t->err = err;
				conn_log(c, LOG_LVL_INFO, "TLS error %d: %s",
				    err, tls_strerror(err));
			}
			return added ? 1 : -1;
		}
		if (!t->handshake_done && (st & (BR_SSL_SENDAPP |
		    BR_SSL_RECVAPP))) {
			t->handshake_done = 1;
		}
		if (st & BR_SSL_SENDREC) {
			if (send_records(c, t) == -1) {
				t->err = TLS_ERR_IO;
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
		t->err = TLS_ERR_IO;
		return added ? 1 : -1;
	}
}

static int
tls_flush(struct conn *c)
{
	struct tls_pump *t = c->filter_state;
	br_ssl_engine_context *eng = t->eng;

	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);

		if (st == BR_SSL_CLOSED) {
			pump_failed(c, t, br_ssl_engine_last_error(eng));
			return -1;
		}
		if (st & BR_SSL_SENDREC) {
			if (send_records(c, t) == -1) {
				pump_failed(c, t, TLS_ERR_IO);
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

/* A failure seen while flushing: the core aborts c on our -1, so the
 * side hears of an unfinished handshake now. */
static void
pump_failed(struct conn *c, struct tls_pump *t, int err)
{
	if (t->done_called || t->handshake_done) {
		return;
	}
	t->done_called = 1;
	t->err = err != BR_ERR_OK ? err : TLS_ERR_EOF;
	t->side->done(c, t, 0);
}

static int
tls_pending(const struct conn *c)
{
	const struct tls_pump *t = c->filter_state;

	return (br_ssl_engine_current_state(t->eng) & BR_SSL_SENDREC) != 0;
}

static int
tls_buffered(const struct conn *c)
{
	const struct tls_pump *t = c->filter_state;

	return (br_ssl_engine_current_state(t->eng) & BR_SSL_RECVAPP) != 0;
}

static void
tls_close(struct conn *c)
{
	struct tls_pump *t = c->filter_state;

	if (t == NULL) {
		return;
	}
	t->side->release(c, t);
	c->filter_state = NULL;
}

/* Records to the socket until it is full: 0, or -1 on an error. */
static int
send_records(struct conn *c, struct tls_pump *t)
{
	br_ssl_engine_context *eng = t->eng;

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
