/* SPDX-License-Identifier: ISC */
/*
 * acme.h - certificates from an ACME server (RFC 8555), on the event
 * loop: account, order, TLS-ALPN-01 challenges (RFC 8737), finalize,
 * download, and renewal `acme_renew_before` ahead of expiry.
 *
 * On when acme_email is set. State in data_dir/acme/ (0700):
 *   account.key   the account's EC P-256 key (0600)
 *   account.url   the account URL (the JWS kid)
 *   privkey.pem   the certificate's EC P-256 key (0600)
 *   fullchain.pem the chain, leaf first
 * The server then serves that pair instead of tls_cert/tls_key
 * (acme_tls_paths). A new pair is written atomically (key, then
 * chain, each tmp + fsync + rename) and loaded at once with
 * tls_reload; connections keep the pair they started with.
 *
 * The renewal is checked at start, every day and at each SIGHUP
 * (acme_reload): a certificate missing, unreadable, or expiring within
 * acme_renew_before is ordered again. Failures are retried after
 * ACME_RETRY_MIN_S doubling to a day, each delay jittered by +-25 %.
 */
#ifndef WREN_ACME_H
#define WREN_ACME_H

#include <stddef.h>

#include "core/cfg.h"
#include "core/conn.h"
#include "core/err.h"
#include "core/ev.h"

#define ACME_NAMES_MAX		8	/* names in one certificate */
#define ACME_RETRY_MIN_S	300	/* first retry after a failure */
#define ACME_CHECK_S		86400	/* renewal checked daily */
#define ACME_POLLS_MAX		60	/* polls of one authorization or
					 * order before giving up */
/* acme_directory's two names (the default is the first). */
#define ACME_LETSENCRYPT	"https://acme-v02.api.letsencrypt.org/" \
				"directory"
#define ACME_LE_STAGING		"https://acme-staging-v02.api." \
				"letsencrypt.org/directory"

/* 1 with the pair's paths in cert/key (cap each) when ACME is on in c,
 * else 0. */
int	acme_tls_paths(const struct cfg *c, char *cert, char *key,
	    size_t cap);

/* Starts ACME (nothing when acme_email is empty): the state directory
 * and the account key are made now (as the service user), the first
 * check runs a second later. cfg must outlive ACME (serve's). 0, or
 * -1 with e set. */
int	acme_init(struct ev *, struct conn_table *out, const struct cfg *,
	    struct err *);

/* After SIGHUP: the names and the renewal window again, checked now. */
void	acme_reload(void);
void	acme_shutdown(void);

#endif
