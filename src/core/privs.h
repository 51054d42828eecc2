/* SPDX-License-Identifier: ISC */
/*
 * privs.h - who the server runs as: resolving `user` without NSS and
 * dropping root after the listeners are bound.
 *
 * A static binary cannot use getpwnam (glibc's NSS would need shared
 * libraries), so /etc/passwd and /etc/group are read here. The line
 * parsers are sans-I/O and unit-tested.
 */
#ifndef WREN_PRIVS_H
#define WREN_PRIVS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cfg.h"
#include "err.h"
#include "limits.h"

struct privs {
	int		switch_user;	/* 0: `user` is empty */
	char		name[64];
	uint32_t	uid, gid;
	uint32_t	groups[GROUPS_MAX];
	size_t		ngroups;
};

/* Finds `name` in an /etc/passwd image: 1 found, 0 absent. */
int	passwd_find(const char *buf, size_t len, const char *name,
	    uint32_t *uid, uint32_t *gid);

/* Collects the gids of /etc/group entries listing `name` as member;
 * returns how many (at most cap). */
size_t	group_members(const char *buf, size_t len, const char *name,
	    uint32_t *gids, size_t cap);

/* Resolves the `user` value against the given files. */
int	privs_resolve(const char *user, const char *passwd_path,
	    const char *group_path, struct privs *, struct err *);

/* Switches to p's user and groups, for good: 0, or -1 with a reason.
 * Refuses uid 0, and checks that root cannot be regained. Then, with
 * or without a switch, sets PR_SET_NO_NEW_PRIVS (nothing exec'ed later
 * gains privileges). */
int	privs_drop(const struct privs *, struct err *);

/* Creates dir and its missing parents (like mkdir -p); the last one
 * gets `mode` and, when running as root, p's owner. An existing one is
 * left as it is. */
int	dir_ensure(const char *dir, mode_t mode, const struct privs *,
	    struct err *);

#endif
