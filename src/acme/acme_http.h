/* SPDX-License-Identifier: ISC */
/*
 * acme_http.h - the HTTPS client of ACME: one request at a time, over
 * an outbound connection (core/connect.h, the delivery table) with
 * TLS_VERIFY (tls/tls_client.h: the trust anchors of relay_ca_file or
 * the system bundle), the name resolved by dns/ ("localhost" and IP
 * literals without a query), HTTP/1.1 with Connection: close, the
 * answer read by http_resp.h into a fixed body buffer.
 *
 *   acme_http_init(ev, out_table)
 *   acme_http_request(url, body or NULL for GET, done, arg)
 *   done(arg, r): r->state HTTP_R_DONE, or NULL with why in the log
 */
#ifndef WREN_ACME_HTTP_H
#define WREN_ACME_HTTP_H

#include "acme/http_resp.h"
#include "core/conn.h"
#include "core/ev.h"

#define ACME_HTTP_TIMEOUT_MS	30000	/* connect, handshake or answer */
#define ACME_URL_MAX		HTTP_LOCATION_MAX

/* r is NULL when the request failed (logged); valid during the call. */
typedef void acme_http_fn(void *arg, const struct http_resp *r);

void	acme_http_init(struct ev *, struct conn_table *out);

/* Starts a GET (body NULL) or a POST of application/jose+json: 0, or
 * -1 when a request is in flight or the URL is not https (logged).
 * done is always called from the loop, never from here. */
int	acme_http_request(const char *url, const char *body,
	    acme_http_fn *done, void *arg);

/* Drops the request in flight without calling back (shutdown). */
void	acme_http_cancel(void);

#endif
