/* SPDX-License-Identifier: ISC */
/*
 * tls_pump.h - the engine pump shared by the server side (tls_server.c)
 * and the client side (tls_client.c); internal to src/tls.
 *
 * A TLS slot is a side's own struct whose first member is a struct
 * tls_pump: the pump keeps the record buffers and the filter state,
 * the side keeps its BearSSL context (server or client) around it.
 * Each side has its own pool of slots, sized at start, so that inbound
 * connections never take the slots outbound delivery needs.
 *
 *   | struct tls_pump: eng, side, flags, in record | out record | side...
 *     ^ c->filter_state
 */
#ifndef WREN_TLS_PUMP_H
#define WREN_TLS_PUMP_H

#include <stdint.h>
#include <bearssl.h>

#include "core/conn.h"
#include "tls/tls.h"

/* Failures that are no BearSSL error code (t->err). */
#define TLS_ERR_EOF	(-1)	/* the peer closed during the handshake */
#define TLS_ERR_IO	(-2)	/* the socket failed */

struct tls_pump;

struct tls_side {
	const char	*name;		/* "server", "client" */
	/* The handshake ended (ok = 1) or failed (t->err says why).
	 * Called at most once per connection, from the filter; it may
	 * close or abort c, and must not touch t after that. */
	void		 (*done)(struct conn *, struct tls_pump *, int ok);
	/* c is going away: give the slot back. */
	void		 (*release)(struct conn *, struct tls_pump *);
};

struct tls_pump {
	br_ssl_engine_context	*eng;
	const struct tls_side	*side;
	int			 handshake_done;
	int			 done_called;
	int			 close_sent;	/* close_notify queued */
	int			 err;		/* BR_ERR_*, TLS_ERR_* */
	unsigned char		 buf[TLS_INBUF + TLS_OUTBUF];
};

/* Ties t to its engine (already initialised by the side) and gives the
 * engine t's record buffers. */
void	tls_pump_init(struct tls_pump *, br_ssl_engine_context *,
	    const struct tls_side *);

/* The filter; c->filter_state is the struct tls_pump. */
extern const struct conn_filter tls_pump_filter;

/* c's pump when TLS is on (installed), else NULL. */
struct tls_pump	*tls_pump_of(const struct conn *);

/* "TLSv1.2"; "ECDHE-RSA-AES128-GCM-SHA256" (OpenSSL's names, which
 * Postfix logs and Received: headers show). */
const char	*tls_version_name(unsigned version);
const char	*tls_suite_name(unsigned suite);

#endif
