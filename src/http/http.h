/* SPDX-License-Identifier: ISC */
/*
 * http.h - the small HTTP/1.1 listener (RFC 9110, RFC 9112) for client
 * autoconfiguration, on http_listen (plain) and https_listen (implicit
 * TLS, the same certificate as the mail listeners):
 *
 *   http_parse.c      request heads and queries, sans-I/O
 *   http_session.c    connections, limits, routing, Basic login
 *   http_autoconf.c   the documents (also for `wren client-config`)
 *
 * Served, and nothing else (404): Thunderbird autoconfig, Outlook
 * Autodiscover (the one POST), the .mobileconfig behind the account's
 * login (https only), the MTA-STS policy, ACME HTTP-01 challenges.
 */
#ifndef WREN_HTTP_H
#define WREN_HTTP_H

#include <stddef.h>

#include "core/cfg.h"
#include "core/conn.h"
#include "core/err.h"
#include "core/ev.h"
#include "map/map.h"

extern const struct proto http_proto;	/* http_listen */
extern const struct proto https_proto;	/* https_listen, implicit TLS */

/* The URL path of the Apple profile (needs the account's login). */
#define HTTP_MOBILECONFIG_PATH	"/profile.mobileconfig"

/* Sizes the session pool; once, at start. cfg and maps must outlive
 * the server. */
int	http_init(struct ev *, const struct cfg *, struct maps *,
	    size_t max_sessions, struct err *);
void	http_shutdown(void);

#endif
