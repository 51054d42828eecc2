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

#include "core/err.h"
#include "core/limits.h"

enum map_type {
	MAP_USERS,
	MAP_ALIASES,
	MAP_VIRTUAL,
	MAP_SENDERS,
	MAP_RELAY_PASSWORDS,
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

#endif
