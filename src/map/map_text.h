/* SPDX-License-Identifier: ISC */
/*
 * map_text.h - the text formats of the lookup tables (SPEC section 4),
 * parsed without I/O: the caller hands over a whole source image and
 * pulls one record at a time.
 *
 *   users            Dovecot passwd-file
 *                    name:{SCHEME}secret:uid:gid:gecos:home:shell:extra
 *   aliases          /etc/aliases         name: target, target ...
 *   virtual          Postfix virtual(5)   user@domain|@domain  targets
 *   senders          smtpd_sender_login_maps
 *                    user@domain|local|@domain  owner, owner ...
 *   relay_passwords  [host]:port  user:password
 *   public_suffix    the Public Suffix List (publicsuffix.org's
 *                    format): one rule a line ("com", "*.ck",
 *                    "!www.ck"), `//` comment lines; the rule is the
 *                    key, the value empty
 *
 * Postfix formats: `#` lines and blank lines are skipped, a line that
 * starts with white space continues the previous one, targets are
 * separated by commas and/or white space. Keys are stored lower-case.
 *
 * Record values, as stored in the .cdb (fields separated by NUL):
 *   users            SCHEME \0 secret \0 home      (home may be empty)
 *   lists            target \0 target ...
 *   relay_passwords  user \0 password
 */
#ifndef WREN_MAP_TEXT_H
#define WREN_MAP_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/limits.h"

enum map_type {
	MAP_USERS,
	MAP_ALIASES,
	MAP_VIRTUAL,
	MAP_SENDERS,
	MAP_RELAY_PASSWORDS,
	MAP_PSL,		/* the Public Suffix List (DMARC) */
	MAP_NTYPES
};

extern const char *const map_type_name[MAP_NTYPES];

/* -1 when the name is none of the above. */
int	map_type_parse(const char *name);

/* Password schemes accepted in the users table. */
enum map_scheme {
	MAP_SCHEME_PLAIN,
	MAP_SCHEME_SHA512_CRYPT,
	MAP_SCHEME_SHA256_CRYPT,
	MAP_SCHEME_CRYPT
};

#define MAP_KEY_MAX	(ADDR_MAX + 8)	/* "[host]:port" fits too */

/*
 * The most SHA-crypt rounds a users record may ask for. One check runs
 * inside the event loop and holds every client while it runs: 100,000
 * rounds of SHA-512 take about 40 ms on a PC and over a second on a
 * small router; the spec's limit (999,999,999) would take minutes.
 * `wren map` refuses more, and the server refuses to check a hash with
 * more (a .cdb may have been built elsewhere).
 */
#define MAP_ROUNDS_MAX	100000
#define MAP_ROUNDS_DEFAULT	5000	/* without rounds= (the spec's) */
#define MAP_ROUNDS_MIN	1000	/* fewer are raised to this (the spec) */
#define MAP_LINE_MAX	(MAP_KEY_MAX + 2 * MAP_VAL_MAX)	/* joined lines */

struct map_rec {
	unsigned	line;
	char		key[MAP_KEY_MAX + 1];
	size_t		klen;
	char		val[MAP_VAL_MAX];
	size_t		vlen;
	size_t		nfields;
};

struct map_text {
	enum map_type	 type;
	const char	*name;		/* for messages */
	const char	*p, *end;
	unsigned	 line;		/* lines consumed so far */
	int		 failed;	/* sticky */
	char		 buf[MAP_LINE_MAX];	/* the logical line */
};

void	map_text_init(struct map_text *, enum map_type, const char *name,
	    const char *buf, size_t len);

/* 1 with the next record, 0 at the end, -1 on an error (then always
 * -1) with `NAME:LINE: message` in e. */
int	map_text_next(struct map_text *, struct map_rec *, struct err *);

/* Splits a users value; 0, or -1 when malformed. */
struct map_user {
	enum map_scheme	 scheme;
	const char	*secret;
	size_t		 slen;
	const char	*home;
	size_t		 hlen;
};
int	map_user_decode(const char *val, size_t vlen, struct map_user *);

/* The rounds a "$5$..." or "$6$..." string runs (MAP_ROUNDS_DEFAULT
 * without rounds=, at least MAP_ROUNDS_MIN, UINT32_MAX for a number
 * too big to hold): 0, or -1 when it is not SHA-crypt. */
int	map_crypt_rounds(const char *s, size_t len, uint32_t *rounds);

/*
 * A users key: what logins and mail_home's %n and %u may be made of. A
 * local part as RFC 5322 dot-atom (no leading, trailing or doubled dot,
 * not quoted) without '/', optionally "@domain": so "../x", "a/b",
 * control characters and the empty name are refused. 0 or -1.
 */
int	map_user_name_ok(const char *s, size_t len);

#endif
