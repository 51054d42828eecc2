/* SPDX-License-Identifier: ISC */
/*
 * login.c - a login for any protocol (see login.h).
 */
#include <string.h>
#include <sys/socket.h>

#include "auth/auth.h"
#include "auth/login.h"
#include "auth/throttle.h"
#include "core/fmt.h"
#include "core/log.h"
#include "map/resolve.h"
#include "msg/mailbox.h"

static int	account_home(const struct cfg *, struct maps *, struct login *);

int
login_cleartext_ok(const struct cfg *cfg, const struct conn *c, int tls)
{
	static const uint8_t v4lo[4] = { 127, 0, 0, 1 };
	static const uint8_t v6lo[16] = { [15] = 1 };

	if (tls || !cfg_num(cfg, CFG_TLS_AUTH_ONLY)) {
		return 1;
	}
	return (c->family == AF_INET && memcmp(c->addr, v4lo, 4) == 0) ||
	    (c->family == AF_INET6 && memcmp(c->addr, v6lo, 16) == 0);
}

int
login_sasl_plain(const unsigned char *msg, size_t len, const char **user,
    size_t *ulen, const char **pw, size_t *pwlen)
{
	const unsigned char *z1 = memchr(msg, '\0', len), *z2;

	z2 = z1 ? memchr(z1 + 1, '\0', (size_t)(msg + len - z1 - 1)) : NULL;
	if (z1 == NULL || z2 == NULL) {
		return -1;
	}
	if (z1 != msg && ((size_t)(z1 - msg) != (size_t)(z2 - z1 - 1) ||
	    memcmp(msg, z1 + 1, (size_t)(z1 - msg)) != 0)) {
		return -1;		/* acting for another user */
	}
	*user = (const char *)z1 + 1;
	*ulen = (size_t)(z2 - z1 - 1);
	*pw = (const char *)z2 + 1;
	*pwlen = (size_t)(msg + len - z2 - 1);
	return 0;
}

enum login_result
login_check(const struct cfg *cfg, struct maps *maps, const struct conn *c,
    const char *ip, const char *user, size_t ulen, const char *pw,
    size_t pwlen, uint64_t now_s, int want_home, struct login *out)
{
	unsigned limit = (unsigned)cfg_num(cfg, CFG_AUTH_FAIL_LIMIT);
	enum auth_result r;

	out->name[0] = out->home[0] = '\0';
	if (user == NULL || ulen > ADDR_MAX || memchr(user, '\0', ulen)) {
		user = "";
		ulen = 0;
	}
	if (throttle_refused(c->family, c->addr, now_s, limit)) {
		conn_log(c, LOG_LVL_WARN, "auth refused: too many failures "
		    "from ip=%s", ip);
		return LOGIN_THROTTLED;
	}
	r = auth_check(&maps->m[MAP_USERS], user, ulen, pw, pwlen);
	if (r == AUTH_TEMPFAIL) {
		return LOGIN_TEMPFAIL;
	}
	if (r == AUTH_BAD_HASH) {
		conn_log(c, LOG_LVL_WARN, "auth: the hash of login=%.*s has "
		    "more than rounds=%d: not checked (make a new one with "
		    "`wren passwd`)", (int)(ulen > 64 ? 64 : ulen), user,
		    MAP_ROUNDS_MAX);
		r = AUTH_FAIL;
	}
	if (r == AUTH_FAIL) {
		(void)throttle_failed(c->family, c->addr, now_s);
		/* The line conf/fail2ban/filter.d/wren.conf matches. */
		conn_log(c, LOG_LVL_WARN, "auth failed: login=%.*s ip=%s",
		    (int)(ulen > 64 ? 64 : ulen), user, ip);
		return LOGIN_FAIL;
	}
	memcpy(out->name, user, ulen);
	out->name[ulen] = '\0';
	mailbox_lower(out->name, ulen);
	if (want_home && account_home(cfg, maps, out) == -1) {
		conn_log(c, LOG_LVL_WARN, "login=%s: no home", out->name);
		return LOGIN_NO_HOME;
	}
	conn_log(c, LOG_LVL_INFO, "auth ok: login=%s", out->name);
	return LOGIN_OK;
}

/* The users record's home, else mail_home (resolve.h). */
static int
account_home(const struct cfg *cfg, struct maps *maps, struct login *l)
{
	static struct resolve_result res;
	struct resolver rv = { cfg, &maps->m[MAP_USERS],
	    &maps->m[MAP_ALIASES], &maps->m[MAP_VIRTUAL] };

	resolve_account(&rv, l->name, strlen(l->name), &res);
	for (size_t i = 0; res.status == RESOLVE_OK && i < res.n; i++) {
		if (res.t[i].kind == RESOLVE_LOCAL) {
			return fmt(l->home, sizeof l->home, "%s",
			    res.t[i].home) < (int)sizeof l->home ? 0 : -1;
		}
	}
	return -1;
}
