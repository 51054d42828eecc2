/* SPDX-License-Identifier: ISC */
/*
 * auth.c - login checks on the users table (see auth.h).
 *
 * What a check costs. The hash runs inside the event loop, so its time
 * shows in the reply, and an unknown login must not answer sooner than
 * a known one. Every check hashes the password exactly once: with the
 * account's own setting for a SHA-crypt account, else (unknown login,
 * PLAIN account, a record that does not decode, a hash whose rounds
 * are above MAP_ROUNDS_MAX) with the table's reference setting: the
 * scheme, rounds and salt of its most expensive SHA-crypt account
 * (most rounds, then SHA-512 over SHA-256, then the longer salt),
 * found by reading the whole table once each time a new .cdb is in
 * use, so the cost is right for a .cdb built anywhere. A table with no
 * SHA-crypt account uses $6$, 5000 rounds, a 16-character salt (what
 * `wren passwd` makes).
 *
 * Limit: a table that mixes costs (some accounts with more rounds, or
 * $5$ next to $6$) still tells its cheaper accounts from unknown
 * logins, which cost what the most expensive one does. Giving every
 * account the same scheme and rounds (`wren passwd` always does)
 * makes every failure cost the same.
 */
#include <stdint.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/crypt.h"
#include "msg/mailbox.h"

/* "$6$rounds=100000$" + 16 salt + NUL, with room for leading zeros. */
#define REF_MAX		48

/* The reference when the table has no SHA-crypt account. */
static const char default_ref[] = "$6$wrenwrenwrenwren";

/* The .cdb the reference was taken from, told apart as map.c does. */
static struct {
	const struct map	*m;
	const unsigned char	*mem;
	dev_t			 dev;
	ino_t			 ino;
	off_t			 size;
	struct timespec		 mtime, ctime;
	int			 valid;
	char			 setting[REF_MAX];
} ref;

static int	same_table(const struct map *);
static void	find_reference(struct map *);
static void	work(const char *, size_t, const char *);

const char *
auth_reference(struct map *users)
{
	if (users->state != MAP_ST_OK) {
		return default_ref;
	}
	if (!same_table(users)) {
		find_reference(users);
	}
	return ref.setting;
}

enum auth_result
auth_check(struct map *users, const char *login, size_t llen,
    const char *pw, size_t pwlen)
{
	char key[MAP_KEY_MAX + 1], secret[CRYPT_OUT_MAX], out[CRYPT_OUT_MAX];
	/* What is hashed: the password, or nothing when it is too long
	 * to match -- on every path alike, so the work done does not tell
	 * which logins exist. */
	size_t hlen = pwlen <= AUTH_PASSWORD_MAX ? pwlen : 0;
	const char *val, *refset = auth_reference(users);
	struct map_user u;
	uint32_t rounds;
	size_t vlen;
	int rc, ok = 0;

	if (llen == 0 || llen > MAP_KEY_MAX) {
		work(pw, hlen, refset);
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
		work(pw, hlen, refset);
		return AUTH_FAIL;
	}
	if (u.scheme == MAP_SCHEME_PLAIN) {
		/* The work of a hashed password, then the comparison. */
		work(pw, hlen, refset);
		return pwlen <= AUTH_PASSWORD_MAX &&
		    crypt_equal(pw, pwlen, u.secret, u.slen) ? AUTH_OK :
		    AUTH_FAIL;
	}
	/* Never run more rounds than `wren map` allows: the reference's
	 * work instead, and a failure the caller logs. */
	if (map_crypt_rounds(u.secret, u.slen, &rounds) == -1 ||
	    rounds > MAP_ROUNDS_MAX) {
		work(pw, hlen, refset);
		return AUTH_BAD_HASH;
	}
	memcpy(secret, u.secret, u.slen);
	secret[u.slen] = '\0';
	ok = sha_crypt(pw, hlen, secret, out, sizeof out) == 0 &&
	    pwlen <= AUTH_PASSWORD_MAX &&
	    crypt_equal(out, strlen(out), secret, u.slen);
	explicit_bzero(out, sizeof out);
	return ok ? AUTH_OK : AUTH_FAIL;
}

static int
same_table(const struct map *m)
{
	return ref.valid && ref.m == m && ref.mem == m->mem &&
	    ref.dev == m->dev && ref.ino == m->ino && ref.size == m->size &&
	    ref.mtime.tv_sec == m->mtime.tv_sec &&
	    ref.mtime.tv_nsec == m->mtime.tv_nsec &&
	    ref.ctime.tv_sec == m->ctime.tv_sec &&
	    ref.ctime.tv_nsec == m->ctime.tv_nsec;
}

/*
 * One pass over the table (a few ms for 10,000 accounts, once per new
 * .cdb). Records that do not decode, and hashes above MAP_ROUNDS_MAX
 * (never run), do not count.
 */
static void
find_reference(struct map *m)
{
	uint32_t best_r = 0, r;
	size_t best_salt = 0;
	int best_512 = 0;
	unsigned pos;

	memcpy(ref.setting, default_ref, sizeof default_ref);
	cdb_seqinit(&pos, &m->cdb);
	while (cdb_seqnext(&pos, &m->cdb) > 0) {
		const char *val = cdb_getdata(&m->cdb), *salt, *end;
		struct map_user u;
		size_t slen;
		int is512;

		if (val == NULL || map_user_decode(val, cdb_datalen(&m->cdb),
		    &u) == -1 || u.scheme == MAP_SCHEME_PLAIN ||
		    map_crypt_rounds(u.secret, u.slen, &r) == -1 ||
		    r > MAP_ROUNDS_MAX) {
			continue;
		}
		/* The setting: up to the last '$' (the salt's end). */
		end = u.secret + u.slen;
		while (end > u.secret + 3 && end[-1] != '$') {
			end--;
		}
		if (end <= u.secret + 3 ||
		    (size_t)(end - u.secret) > sizeof ref.setting) {
			continue;
		}
		end--;
		for (salt = end; salt > u.secret + 3 && salt[-1] != '$';
		    salt--) {
		}
		slen = (size_t)(end - salt);
		is512 = u.secret[1] == '6';
		if (r < best_r || (r == best_r && (is512 < best_512 ||
		    (is512 == best_512 && slen <= best_salt)))) {
			continue;
		}
		best_r = r;
		best_512 = is512;
		best_salt = slen;
		memcpy(ref.setting, u.secret, (size_t)(end - u.secret));
		ref.setting[end - u.secret] = '\0';
	}
	ref.m = m;
	ref.mem = m->mem;
	ref.dev = m->dev;
	ref.ino = m->ino;
	ref.size = m->size;
	ref.mtime = m->mtime;
	ref.ctime = m->ctime;
	ref.valid = 1;
}

/* Hashing for the time it takes; the result is not used. */
static void
work(const char *pw, size_t hlen, const char *setting)
{
	char out[CRYPT_OUT_MAX];

	(void)sha_crypt(pw, hlen, setting, out, sizeof out);
	explicit_bzero(out, sizeof out);
}
