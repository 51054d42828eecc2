/* SPDX-License-Identifier: ISC */
/*
 * tls_client.h - TLS for outbound connections (the queue's SMTP client
 * to an MX or to relayhost), with BearSSL's client engine: TLS 1.0 to
 * 1.2 (1.2 preferred), ECDHE suites first, SNI, and certificates
 * checked against a CA bundle loaded once at start (relay_ca_file, or
 * the system bundle).
 *
 * Two modes (RFC 7435 for the second):
 *   TLS_VERIFY         the chain must lead to a trust anchor and the
 *                      name must match (RFC 6125, SAN dNSName, else the
 *                      CN); anything else fails the handshake. For
 *                      relayhost.
 *   TLS_OPPORTUNISTIC  any certificate is accepted and the connection
 *                      encrypted anyway; the verdict of a real check is
 *                      kept for the log (tls_peer_verified). For MX.
 *
 * Slots come from their own pool, sized at start from the number of
 * outbound connections, so an inbound flood never takes them. Memory
 * per slot: tls_client_bytes_per_connection().
 *
 *   tls_client_init(max_outbound, cfg relay_ca_file, &e)
 *   ... connected: tls_client_start(c, "mx.example.org",
 *           TLS_OPPORTUNISTIC, on_tls, sess)
 *   on_tls(c, ok, sess): ok ? tls_info(), tls_peer_verified()
 *                           : tls_failure(c); then proto->close
 */
#ifndef WREN_TLS_CLIENT_H
#define WREN_TLS_CLIENT_H

#include <stddef.h>

#include "core/conn.h"
#include "core/err.h"
#include "tls/tls.h"

#define TLS_CA_DEFAULT	"/etc/ssl/certs/ca-certificates.crt"
#define TLS_CA_MAX	(4 * 1024 * 1024)	/* a CA bundle file */
#define TLS_NAME_MAX	255		/* a host name, RFC 1035 2.3.4 */

enum tls_mode {
	TLS_VERIFY = 1,
	TLS_OPPORTUNISTIC = 2
};

/* The handshake ended: ok = 1, or 0 with tls_failure(c) saying why.
 * Called once, from the event loop; it may write to c, close or abort
 * it. When c goes away before (the idle timer, conn_close), only the
 * protocol's close hook runs. After ok = 0 the core aborts c. */
typedef void tls_done_fn(struct conn *, int ok, void *arg);

/* Sizes the pool and loads the CA bundle (ca_file "" = TLS_CA_DEFAULT)
 * into trust anchors: 0; 1 when the bundle could not be loaded, e says
 * why, and every TLS_VERIFY handshake then fails; -1 when the pool
 * cannot be had (fatal, e says why). */
int	tls_client_init(size_t max_outbound, const char *ca_file,
	    struct err *);
void	tls_client_shutdown(void);

/* Reads the CA bundle again (SIGHUP): 0 with the new anchors in use
 * for new handshakes, -1 with e set and the old anchors kept. */
int	tls_client_reload(const char *ca_file, struct err *);

/* Trust anchors loaded, and the bytes they hold: one block with the
 * anchors and only their DNs and public keys (about 70 KB for a
 * system bundle of 150 CAs); nothing else of the file is kept. */
size_t	tls_client_anchors(void);
size_t	tls_client_anchor_bytes(void);

/* Starts TLS on c at once (the client speaks first: the ClientHello
 * leaves on the next flush, or once connected), with SNI and the name
 * to check = server_name, a DNS name (NULL or "" only in
 * TLS_OPPORTUNISTIC: no SNI, and the name counts as unverified).
 * Input not yet consumed is dropped: it came in the clear. -1 when no
 * slot is free or the name is unusable (logged); done is not called
 * then. */
int	tls_client_start(struct conn *, const char *server_name, int mode,
	    tls_done_fn *done, void *arg);

/* For a client connection after its handshake: 1 when the chain and
 * name verified, else 0 with why ("certificate has expired or is not
 * yet valid", "unknown issuer", "name mismatch"...). 0 with a why for
 * a server-side or non-TLS connection, too. why may be NULL. */
int	tls_peer_verified(const struct conn *, const char **why);

/* Bytes of one outbound TLS slot, for `wren check` and README. */
size_t	tls_client_bytes_per_connection(void);

#endif
