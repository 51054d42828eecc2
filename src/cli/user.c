/* SPDX-License-Identifier: ISC */
/*
 * user.c - `wren user add|del|passwd|list [-c FILE] [--password-stdin]
 * ADDRESS`: edits the users file (Dovecot passwd-file) in place of an
 * editor, and recompiles its .cdb as `wren map` does.
 *
 * Safe against another `wren user` and against readers: the edit runs
 * under flock(2) on USERS.lock beside the file (a second command waits
 * up to USER_LOCK_WAIT_MS, then fails saying so); the new file is
 * written to a temporary name, fsync'ed and renamed, keeping its mode
 * and owner; every byte but the account's line is kept (map_edit.h).
 * The edited text is parsed before it replaces the file, so a file
 * that `wren map` would refuse is left alone. The server notices the
 * new .cdb by itself (map_check, within MAP_RECHECK_MS): no signal.
 * The password is read before the lock is taken, so a person typing
 * does not hold it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/crypt.h"
#include "cli/cli.h"
#include "core/file.h"
#include "core/fmt.h"
#include "map/map.h"
#include "map/map_edit.h"
#include "map/resolve.h"

#define USER_LOCK_WAIT_MS	10000	/* then the other edit is stuck */
#define USER_SECRET_MAX		(CRYPT_OUT_MAX + 16)
#define USAGE	"wren user add|del|passwd|list [-c FILE] [--password-stdin] " \
		"[ADDRESS]"

enum user_op { USER_ADD, USER_DEL, USER_PASSWD, USER_LIST };

static const char *const op_name[] = { "add", "del", "passwd", "list" };

static int	edit(const struct cfg *, enum user_op, const char *,
		    const char *);
static int	lock_beside(const char *);
static int	list(const char *);

int
cmd_user(int argc, char **argv)
{
	static struct cfg c;
	char pw[AUTH_PASSWORD_MAX + 2], secret[USER_SECRET_MAX];
	const char *conf;
	int op = -1, first, from_stdin = 0, n, rc;
	struct err e;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--password-stdin") == 0) {
			from_stdin = 1;
			memmove(&argv[i], &argv[i + 1],
			    (size_t)(argc - i) * sizeof *argv);
			argc--;
			break;
		}
	}
	for (int i = 0; argc > 1 && i < 4; i++) {
		if (strcmp(argv[1], op_name[i]) == 0) {
			op = i;
		}
	}
	if (op == -1) {
		int help = argc > 1 && (strcmp(argv[1], "-h") == 0 ||
		    strcmp(argv[1], "--help") == 0);

		fmt_fd(help ? STDOUT_FILENO : STDERR_FILENO, "usage: " USAGE
		    "\n");
		return help ? 0 : 2;
	}
	first = cli_options(argc - 1, argv + 1, USAGE, NULL, &conf, NULL);
	if (first == -1) {
		return 2;
	}
	first++;
	if (argc - first != (op == USER_LIST ? 0 : 1)) {
		fmt_fd(STDERR_FILENO, "usage: " USAGE "\n");
		return 2;
	}
	if (cfg_load(&c, conf, &e) == -1) {
		fmt_fd(STDERR_FILENO, "%s\n", e.msg);
		return 1;
	}
	if (cfg_str(&c, CFG_USERS)[0] == '\0') {
		fmt_fd(STDERR_FILENO, "wren user: %s sets no users file\n",
		    conf);
		return 1;
	}
	if (op == USER_LIST) {
		return list(cfg_str(&c, CFG_USERS));
	}
	secret[0] = '\0';
	if (op != USER_DEL) {
		n = cli_password("wren user", from_stdin, pw, sizeof pw);
		if (n < 0 || cli_password_hash(pw, (size_t)n, secret,
		    sizeof secret) == -1) {
			explicit_bzero(pw, sizeof pw);
			return 1;
		}
		explicit_bzero(pw, sizeof pw);
	}
	rc = edit(&c, (enum user_op)op, argv[first], secret);
	explicit_bzero(secret, sizeof secret);
	return rc == 0 ? 0 : 1;
}

int
cli_user_add(const struct cfg *c, const char *addr, const char *secret)
{
	return edit(c, USER_ADD, addr, secret);
}

/* Checks, locks, edits, writes, compiles. */
static int
edit(const struct cfg *c, enum user_op op, const char *addr,
    const char *secret)
{
	static struct map_text text;	/* big: off the stack */
	static struct map_rec rec;
	const char *path = cfg_str(c, CFG_USERS), *at = strchr(addr, '@');
	static char line[MAP_LINE_MAX + USER_SECRET_MAX];
	char *buf = NULL, *out = NULL;
	const char *name;
	size_t alen = strlen(addr), len = 0, s, end, nrec;
	struct stat st;
	struct err e;
	long olen;
	int lock, count, rc = -1;

	if (alen > MAP_KEY_MAX || map_user_name_ok(addr, alen) == -1) {
		fmt_fd(STDERR_FILENO, "wren user: '%s' is not an address "
		    "(local@domain, or a bare name)\n", addr);
		return -1;
	}
	/* As Postfix's virtual_mailbox_domains: an account in a domain
	 * not delivered here could log in but never receive mail. */
	if (op == USER_ADD && at != NULL && !resolve_is_local_domain(c,
	    at + 1, strlen(at + 1))) {
		fmt_fd(STDERR_FILENO, "wren user: %s is not in domains (%s); "
		    "add it there first\n", at + 1, c->path);
		return -1;
	}
	lock = lock_beside(path);
	if (lock == -1) {
		return -1;
	}
	if (stat(path, &st) == 0 || errno != ENOENT || op != USER_ADD) {
		buf = file_read_all(path, MAP_SOURCE_MAX, &len, &e);
		if (buf == NULL) {
			fmt_fd(STDERR_FILENO, "wren user: %s\n", e.msg);
			goto done;
		}
	}
	count = map_edit_find(buf ? buf : "", len, addr, alen, &s, &end);
	if (count == -1 || count > 1) {
		fmt_fd(STDERR_FILENO, "wren user: %s: %s; fix it by hand\n",
		    path, count == -1 ? "NUL byte in the file" :
		    "the account is there twice");
		goto done;
	}
	if ((op == USER_ADD) != (count == 0)) {
		fmt_fd(STDERR_FILENO, "wren user: %s %s in %s\n", addr,
		    count ? "is already" : "is not", path);
		goto done;
	}
	out = malloc(len + sizeof line + 2);
	if (out == NULL) {
		fmt_fd(STDERR_FILENO, "wren user: out of memory\n");
		goto done;
	}
	if (op == USER_ADD) {
		olen = fmt(line, sizeof line, "%s:%s", addr, secret);
	} else if (op == USER_PASSWD) {
		size_t ll = end - s;

		ll -= ll > 0 && buf[s + ll - 1] == '\n';
		ll -= ll > 0 && buf[s + ll - 1] == '\r' && end > s + ll;
		olen = map_edit_set_secret(buf + s, ll, secret,
		    strlen(secret), line, sizeof line);
	} else {
		olen = 0;
	}
	if (olen < 0 || (size_t)olen >= sizeof line) {
		fmt_fd(STDERR_FILENO, "wren user: %s: line too long\n", path);
		goto done;
	}
	olen = map_edit_splice(buf ? buf : "", len, s, end,
	    op == USER_DEL ? NULL : line, (size_t)olen, out,
	    len + sizeof line + 2);
	if (olen < 0) {
		fmt_fd(STDERR_FILENO, "wren user: %s: edit failed\n", path);
		goto done;
	}
	/* What `wren map` will read: refuse to write a file it refuses. */
	map_text_init(&text, MAP_USERS, path, out, (size_t)olen);
	while ((count = map_text_next(&text, &rec, &e)) == 1) {
		continue;
	}
	if (count == -1 || file_write_atomic(path, out, (size_t)olen, 0600,
	    &e) == -1 || map_compile(MAP_USERS, path, &nrec, &e) == -1) {
		fmt_fd(STDERR_FILENO, "wren user: %s\n", e.msg);
		goto done;
	}
	name = op == USER_ADD ? "added" : op == USER_DEL ? "deleted" :
	    "new password for";
	fmt_fd(STDOUT_FILENO, "%s %s; %s.cdb: %zu account%s\n", name, addr,
	    path, nrec, nrec == 1 ? "" : "s");
	rc = 0;
done:
	free(buf);
	free(out);
	close(lock);	/* releases the lock */
	return rc;
}

/* An exclusive flock on PATH.lock, waited for a bounded time. */
static int
lock_beside(const char *path)
{
	char lp[CFG_PATH_MAX + 8];
	struct timespec nap = { 0, 50 * 1000 * 1000 };
	int fd, said = 0;

	(void)fmt(lp, sizeof lp, "%s.lock", path);
	fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		fmt_fd(STDERR_FILENO, "wren user: %s: %s\n", lp,
		    strerror(errno));
		return -1;
	}
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) == -1;
	    waited += 50) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    waited >= USER_LOCK_WAIT_MS) {
			fmt_fd(STDERR_FILENO, "wren user: %s: %s\n", lp,
			    errno == EWOULDBLOCK ? "still locked by another "
			    "edit; try again" : strerror(errno));
			close(fd);
			return -1;
		}
		if (!said++) {
			fmt_fd(STDERR_FILENO, "wren user: waiting for %s\n",
			    lp);
		}
		nanosleep(&nap, NULL);
	}
	return fd;
}

/* The accounts' names, one a line, as the table stores them. */
static int
list(const char *path)
{
	static struct map_text text;
	static struct map_rec rec;
	struct err e;
	size_t len;
	char *buf = file_read_all(path, MAP_SOURCE_MAX, &len, &e);
	int rc;

	if (buf == NULL) {
		fmt_fd(STDERR_FILENO, "wren user: %s\n", e.msg);
		return 1;
	}
	map_text_init(&text, MAP_USERS, path, buf, len);
	while ((rc = map_text_next(&text, &rec, &e)) == 1) {
		fmt_fd(STDOUT_FILENO, "%s\n", rec.key);
	}
	if (rc == -1) {
		fmt_fd(STDERR_FILENO, "wren user: %s\n", e.msg);
	}
	free(buf);
	return rc == -1;
}
