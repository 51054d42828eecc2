/* SPDX-License-Identifier: ISC */
/*
 * privs.c - user lookup from /etc/passwd and /etc/group, privilege drop.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "num.h"
#include "privs.h"

#define ETC_FILE_MAX	(4 * 1024 * 1024)

static int	field(const char *, const char *, size_t, const char **,
		    size_t *);
static int	parse_id(const char *, size_t, uint32_t *);
static int	no_new_privs(struct err *);

int
passwd_find(const char *buf, size_t len, const char *name, uint32_t *uid,
    uint32_t *gid)
{
	const char *p = buf, *end = buf + len;
	size_t nlen = strlen(name);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *f;
		size_t flen;

		/* name:passwd:uid:gid:gecos:home:shell */
		if (field(p, le, 0, &f, &flen) == 0 && flen == nlen &&
		    memcmp(f, name, nlen) == 0 &&
		    field(p, le, 2, &f, &flen) == 0 &&
		    parse_id(f, flen, uid) == 0 &&
		    field(p, le, 3, &f, &flen) == 0 &&
		    parse_id(f, flen, gid) == 0) {
			return 1;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

size_t
group_members(const char *buf, size_t len, const char *name,
    uint32_t *gids, size_t cap)
{
	const char *p = buf, *end = buf + len;
	size_t nlen = strlen(name), n = 0;

	while (p < end && n < cap) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *f, *m;
		size_t flen;
		uint32_t gid;

		/* name:passwd:gid:member,member */
		if (field(p, le, 2, &f, &flen) == 0 &&
		    parse_id(f, flen, &gid) == 0 &&
		    field(p, le, 3, &f, &flen) == 0) {
			const char *fe = f + flen;

			for (m = f; m < fe;) {
				const char *comma = memchr(m, ',',
				    (size_t)(fe - m));
				const char *me = comma ? comma : fe;

				if ((size_t)(me - m) == nlen &&
				    memcmp(m, name, nlen) == 0) {
					gids[n++] = gid;
					break;
				}
				m = comma ? comma + 1 : fe;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return n;
}

int
privs_resolve(const char *user, const char *passwd_path,
    const char *group_path, struct privs *pv, struct err *e)
{
	struct cfg_user u;
	char *buf;
	size_t len;

	memset(pv, 0, sizeof *pv);
	if (cfg_parse_user(user, &u, e) == -1) {
		return -1;
	}
	if (!u.has_uid && u.name[0] == '\0') {
		return 0;
	}
	pv->switch_user = 1;
	if (u.has_uid) {
		pv->uid = u.uid;
		pv->gid = u.has_gid ? u.gid : u.uid;
		pv->groups[0] = pv->gid;
		pv->ngroups = 1;
		return 0;
	}
	memcpy(pv->name, u.name, sizeof pv->name);
	if ((buf = file_read_all(passwd_path, ETC_FILE_MAX, &len, e)) == NULL) {
		return -1;
	}
	if (!passwd_find(buf, len, u.name, &pv->uid, &pv->gid)) {
		free(buf);
		return err_set(e, "user '%s' not found in %s", u.name,
		    passwd_path);
	}
	free(buf);
	pv->groups[0] = pv->gid;
	pv->ngroups = 1;
	/* Supplementary groups matter (e.g. ssl-cert for the key). */
	if ((buf = file_read_all(group_path, ETC_FILE_MAX, &len,
	    NULL)) != NULL) {
		pv->ngroups += group_members(buf, len, u.name,
		    pv->groups + 1, GROUPS_MAX - 1);
		free(buf);
	}
	return 0;
}

int
privs_drop(const struct privs *pv, struct err *e)
{
	gid_t groups[GROUPS_MAX];

	if (!pv->switch_user) {
		return no_new_privs(e);
	}
	if (pv->uid == 0) {
		return err_set(e, "user: refusing to run the server as root");
	}
	if (geteuid() != 0) {
		if (geteuid() == pv->uid) {
			/* started as that user already */
			return no_new_privs(e);
		}
		return err_set(e, "user: cannot switch to uid %u: not "
		    "started as root", pv->uid);
	}
	for (size_t i = 0; i < pv->ngroups; i++) {
		groups[i] = (gid_t)pv->groups[i];
	}
	if (setgroups(pv->ngroups, groups) == -1 ||
	    setresgid(pv->gid, pv->gid, pv->gid) == -1 ||
	    setresuid(pv->uid, pv->uid, pv->uid) == -1) {
		return err_set(e, "user: cannot switch to %u:%u: %s",
		    pv->uid, pv->gid, strerror(errno));
	}
	if (setuid(0) != -1 || geteuid() == 0) {
		return err_set(e, "user: root could be regained; stopping");
	}
	return no_new_privs(e);
}

int
dir_ensure(const char *dir, mode_t mode, const struct privs *pv,
    struct err *e)
{
	char path[CFG_PATH_MAX];
	size_t len = strlen(dir);
	struct stat st;

	if (len == 0 || len >= sizeof path) {
		return err_set(e, "%s: bad directory name", dir);
	}
	memcpy(path, dir, len + 1);
	/* "/srv/mail/" is /srv/mail: else the loop would make it as a
	 * parent (0755, root's) and never give it its mode and owner. */
	while (len > 1 && path[len - 1] == '/') {
		path[--len] = '\0';
	}
	/* Parents as mkdir -p does (mode 0755, owner root); the last
	 * component with `mode`, owned by the service user. */
	for (size_t i = 1; i <= len; i++) {
		int last = (i == len);

		if (!last && path[i] != '/') {
			continue;
		}
		path[i] = '\0';
		if (mkdir(path, last ? mode : 0755) == 0) {
			if (last && pv->switch_user && geteuid() == 0 &&
			    chown(path, pv->uid, pv->gid) == -1) {
				return err_set(e, "%s: chown: %s", path,
				    strerror(errno));
			}
			/* mkdir's mode went through the umask. */
			if (last && chmod(path, mode) == -1) {
				return err_set(e, "%s: chmod: %s", path,
				    strerror(errno));
			}
		} else if (errno != EEXIST) {
			return err_set(e, "%s: %s", path, strerror(errno));
		} else if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
			return err_set(e, "%s: not a directory", path);
		}
		if (!last) {
			path[i] = '/';
		}
	}
	return 0;
}

/* The n-th ':'-separated field of the line [p, le). */
static int
field(const char *p, const char *le, size_t n, const char **f,
    size_t *flen)
{
	while (n-- > 0) {
		const char *c = memchr(p, ':', (size_t)(le - p));

		if (c == NULL) {
			return -1;
		}
		p = c + 1;
	}
	*f = p;
	{
		const char *c = memchr(p, ':', (size_t)(le - p));

		*flen = (size_t)((c ? c : le) - p);
	}
	return 0;
}

/* uid and gid fields: numbers below 2^32 - 1 ((uid_t)-1 is "none"). */
static int
parse_id(const char *s, size_t len, uint32_t *out)
{
	uint64_t v;

	if (num_parse_u64(s, len, UINT32_MAX - 1, &v) == -1) {
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* No execve from here on can raise privileges (setuid files, file
 * capabilities): the server runs nothing, so nothing is lost, and a
 * hijacked process cannot climb back (prctl(2), Linux 3.5). */
static int
no_new_privs(struct err *e)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		return err_set(e, "prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(errno));
	}
	return 0;
}
