/* SPDX-License-Identifier: ISC */
/*
 * auth.h - checking a login and password against the users table, for
 * SMTP AUTH, IMAP and POP3 alike. An unknown login and a wrong password
 * give the same answer, and take the work of the table's most expensive
 * hash (auth.c says how, and its limit).
 */
#ifndef WREN_AUTH_H
#define WREN_AUTH_H

#include <stddef.h>

#include "map/map.h"

enum auth_result {
	AUTH_OK,
	AUTH_FAIL,		/* unknown login or wrong password */
	AUTH_TEMPFAIL,		/* the users table cannot be read */
	AUTH_BAD_HASH		/* a failure: the account's hash asks for
				 * more than MAP_ROUNDS_MAX rounds and was
				 * not run (the caller logs it) */
};

#define AUTH_PASSWORD_MAX	256	/* longer ones never match */

/* Checks login (a bare name or an address; case-insensitive) with pw
 * against the users table. */
enum auth_result	auth_check(struct map *users, const char *login,
			    size_t llen, const char *pw, size_t pwlen);

/* The setting hashed when an account's own is not (unknown login,
 * PLAIN, refused hash): the most expensive SHA-crypt setting of the
 * table in use ("$6$rounds=N$salt"), found once per .cdb. */
const char	*auth_reference(struct map *users);

#endif
