/* SPDX-License-Identifier: ISC */
/*
 * login.h - one login, the same way for SMTP AUTH, IMAP and POP3: who
 * may log in in the clear (tls_auth_only), SASL PLAIN's message, the
 * password check with the per-address failure limit, the log lines
 * fail2ban reads, and the account's home for the mail stores.
 *
 * The protocols keep only their replies and the failure delay.
 */
#ifndef WREN_LOGIN_H
#define WREN_LOGIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/cfg.h"
#include "core/conn.h"
#include "core/limits.h"
#include "map/map.h"

enum login_result {
	LOGIN_OK,		/* out holds the login (and home) */
	LOGIN_FAIL,		/* wrong: delay, then say no */
	LOGIN_TEMPFAIL,		/* the users table cannot be read */
	LOGIN_THROTTLED,	/* auth_fail_limit reached for this address */
	LOGIN_NO_HOME		/* right password, no usable home */
};

struct login {
	char	name[ADDR_MAX + 2];	/* lower case, as the users table */
	char	home[CFG_PATH_MAX];	/* "" unless asked for */
};

/* tls_auth_only (SPEC 3): 1 over TLS, or in the clear when the option
 * is off or the client is 127.0.0.1 or ::1. */
int	login_cleartext_ok(const struct cfg *, const struct conn *, int tls);

/* RFC 4616: "authzid NUL authcid NUL passwd" with authzid empty or the
 * same as authcid (nobody logs in for another): 0 and the two parts
 * (pointers into msg), or -1. */
int	login_sasl_plain(const unsigned char *msg, size_t len,
	    const char **user, size_t *ulen, const char **pw, size_t *pwlen);

/*
 * Checks user/pw against the users table for connection c (ip is its
 * address as text, for the log). Logs "auth ok", "auth refused" or the
 * "auth failed: login=... ip=..." line of conf/fail2ban and counts the
 * failure. With want_home, the account's home is resolved too (the
 * users record's, else mail_home). now_s: the loop's clock, seconds.
 */
enum login_result	login_check(const struct cfg *, struct maps *,
			    const struct conn *c, const char *ip,
			    const char *user, size_t ulen, const char *pw,
			    size_t pwlen, uint64_t now_s, int want_home,
			    struct login *out);

#endif
