/*
 * auth.h - checking a login and password against the users table, for
 * SMTP AUTH, IMAP and POP3 alike. An unknown login and a wrong password
 * take the same work and give the same answer.
 */
#ifndef WREN_AUTH_H
#define WREN_AUTH_H

#include <stddef.h>

#include "map/map.h"

enum auth_result {
	AUTH_OK,
	AUTH_FAIL,		/* unknown login or wrong password */
	AUTH_TEMPFAIL		/* the users table cannot be read */
};

#define AUTH_PASSWORD_MAX	256	/* longer ones never match */

/* Checks login (a bare name or an address; case-insensitive) with pw
 * against the users table. */
enum auth_result	auth_check(struct map *users, const char *login,
			    size_t llen, const char *pw, size_t pwlen);

#endif
