/*
 * auth.c - login checks on the users table (see auth.h).
 */
#include <string.h>

#include "auth/auth.h"
#include "auth/crypt.h"
#include "msg/mailbox.h"

/* Hashed instead when the login is unknown, so that "no such user"
 * costs what "wrong password" costs. */
static const char dummy_hash[] = "$6$wrenwrenwrenwren$";

enum auth_result
auth_check(struct map *users, const char *login, size_t llen,
    const char *pw, size_t pwlen)
{
	char key[MAP_KEY_MAX + 1], secret[CRYPT_OUT_MAX], out[CRYPT_OUT_MAX];
	/* What is hashed: the password, or nothing when it is too long
	 * to match -- on every path alike, so the work done does not tell
	 * which logins exist. */
	size_t hlen = pwlen <= AUTH_PASSWORD_MAX ? pwlen : 0;
	const char *val;
	struct map_user u;
	size_t vlen;
	int rc, ok = 0;

	if (llen == 0 || llen > MAP_KEY_MAX) {
		(void)sha_crypt(pw, hlen, dummy_hash, out, sizeof out);
		explicit_bzero(out, sizeof out);
		return AUTH_FAIL;
	}
	memcpy(key, login, llen);
	key[llen] = '\0';
	mailbox_lower(key, llen);
	rc = map_lookup(users, key, llen, &val, &vlen);
	if (rc == -1) {
		return AUTH_TEMPFAIL;
	}
	if (rc == 0 || map_user_decode(val, vlen, &u) == -1 ||
	    (u.scheme != MAP_SCHEME_PLAIN && u.slen >= sizeof secret)) {
		(void)sha_crypt(pw, hlen, dummy_hash, out, sizeof out);
		explicit_bzero(out, sizeof out);
		return AUTH_FAIL;
	}
	if (u.scheme == MAP_SCHEME_PLAIN) {
		/* The work of a hashed password, then the comparison. */
		(void)sha_crypt(pw, hlen, dummy_hash, out, sizeof out);
		ok = pwlen <= AUTH_PASSWORD_MAX &&
		    crypt_equal(pw, pwlen, u.secret, u.slen);
	} else {
		memcpy(secret, u.secret, u.slen);
		secret[u.slen] = '\0';
		ok = sha_crypt(pw, hlen, secret, out, sizeof out) == 0 &&
		    pwlen <= AUTH_PASSWORD_MAX &&
		    crypt_equal(out, strlen(out), secret, u.slen);
	}
	explicit_bzero(out, sizeof out);
	return ok ? AUTH_OK : AUTH_FAIL;
}
