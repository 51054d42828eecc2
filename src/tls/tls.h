/* SPDX-License-Identifier: ISC */
/*
 * tls.h - TLS on any connection, with BearSSL's engines, which do no
 * I/O themselves: the pump (tls_pump.c) is a filter that moves records
 * between the socket and the engine, and plaintext between the engine
 * and the connection's buffers (core/conn.h, struct conn_filter). This
 * header is the server side (tls_server.c) and what both sides share;
 * the client side, for outbound delivery, is tls_client.h.
 *
 * The server side: TLS 1.2 only (BearSSL's highest), ECDHE with
 * AES-GCM or ChaCha20-Poly1305, the server's order; a fixed-size
 * session cache for resumption. Engine contexts and record buffers
 * come from a pool sized at start (max_connections), apart from the
 * client side's: nothing is allocated per handshake.
 *
 * The certificate and key (tls_cred.h) are reloaded on SIGHUP and when
 * the certificate file changes (a Let's Encrypt renewal); a broken new
 * pair is refused and the old one keeps serving. A connection keeps the
 * pair it started with.
 */
#ifndef WREN_TLS_H
#define WREN_TLS_H

#include <stddef.h>
#include <bearssl.h>

#include "core/conn.h"
#include "core/err.h"

/* Record buffers per connection, either side: a full incoming record
 * (peers send full ones), and a smaller outgoing one (BearSSL
 * fragments what we send to fit). */
#define TLS_INBUF	(16384 + 325)	/* BR_SSL_BUFSIZE_INPUT */
#define TLS_OUTBUF	(4096 + 85)
#define TLS_CACHE_SIZE	(64 * 1024)	/* session cache, ~100 bytes each */

/* Sizes the pool; loads the pair (missing files: TLS off, 0). */
int	tls_init(size_t max_conns, const char *cert, const char *key,
	    struct err *);
void	tls_shutdown(void);

/* 1 when a certificate is loaded (STARTTLS may be offered). */
int	tls_available(void);

/* Reloads the pair if its files changed (or always, when forced): 1 on
 * a new pair, 0 unchanged, -1 refused (logged; the old pair stays). */
int	tls_reload(const char *cert, const char *key, int force);

/* Starts TLS on c once its queued output has left (STARTTLS), or at
 * once (implicit TLS). -1 when no TLS slot or no certificate. */
int	tls_start_after_flush(struct conn *);
int	tls_start_now(struct conn *);

/* 1 once the handshake is done (either side); then "TLSv1.2" and the
 * cipher suite's OpenSSL name ("ECDHE-RSA-AES128-GCM-SHA256"). */
int	tls_info(const struct conn *, const char **version,
	    const char **cipher);

/* Why the handshake of c failed ("unknown issuer", "peer sent fatal
 * alert 40", "connection closed during the handshake"), while c is
 * still there (from tls_client.h's done callback). */
const char	*tls_failure(const struct conn *);

/* The text of a BearSSL error code (BR_ERR_*, BR_ERR_X509_*). */
const char	*tls_strerror(int err);

/*
 * TLS-ALPN-01 (RFC 8737 3): fn (set by acme/, NULL to unset) is asked,
 * when a client offers ALPN "acme-tls/1" (and only it, as the
 * validation servers do), for a challenge certificate for the name
 * the client sent (SNI): 1 with the one-certificate chain and its EC
 * key, 0 when none is pending. Such a connection is closed once the
 * handshake is done. With fn set, a handshake is possible before any
 * certificate is loaded (the first order).
 */
typedef int tls_alpn_fn(const char *name, const br_x509_certificate **,
    const br_ec_private_key **);
void	tls_set_acme_alpn(tls_alpn_fn *);

/* Bytes of one TLS slot, for `wren check` and README. */
size_t	tls_bytes_per_connection(void);

#endif
