/*
 * spool.c - the outbound queue on disk (format in spool.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* rename */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/fmt.h"
#include "queue/spool.h"
#include "store/maildir.h"
#include "smtp/smtp_parse.h"

#define ENV_MAX		(256 * 1024)	/* an envelope file, read back */
#define ENV_LINE	(SMTP_ORCPT_MAX + ADDR_MAX + 64)

static unsigned long	id_seq;

static int	remove_uncommitted(const char *, struct err *);
static int	list_one(const char *, const char *, int);

int
spool_init(const char *data_dir, struct err *e)
{
	static const char *const sub[] = { "queue", "queue/tmp",
	    "queue/msg", "queue/env" };
	char path[SPOOL_PATH_MAX];

	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		if (fmt(path, sizeof path, "%s/%s", data_dir, sub[i]) >=
		    (int)sizeof path) {
			return err_set(e, "%s: path too long", data_dir);
		}
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			return err_set(e, "%s: %s", path, strerror(errno));
		}
	}
	return remove_uncommitted(data_dir, e);
}

void
spool_new_id(char *out, size_t cap)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	/* Sortable by time; unique within this process by the counter
	 * (one server process owns the queue). */
	fmt(out, cap, "%09llX%05lX%04X", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (unsigned)(++id_seq & 0xffff));
}

int
spool_path(char *out, size_t cap, const char *data_dir, const char *sub,
    const char *id, const char *suffix)
{
	int n = fmt(out, cap, "%s/queue/%s/%s%s", data_dir, sub, id, suffix);

	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

int
spool_write_env(const char *data_dir, const struct spool_env *env,
    struct err *e)
{
	static char text[ENV_MAX];
	static const char *const ret[] = { "-", "full", "hdrs" };
	char path[SPOOL_PATH_MAX];
	struct buf b;
	int fd, rc = 0;

	buf_init(&b, text, sizeof text);
	if (buf_appendf(&b, "wren-envelope 1\nid %s\narrival %lld\n"
	    "sender %s\nsize %llu\nret %s\nenvid %s\nsmtputf8 %d\n"
	    "client %s\n", env->id, (long long)env->arrival, env->sender,
	    (unsigned long long)env->size, ret[env->ret % 3],
	    env->envid[0] ? env->envid : "-", env->smtputf8,
	    env->client) == -1) {
		return err_set(e, "queue %s: envelope too large", env->id);
	}
	for (size_t i = 0; i < env->nrcpt; i++) {
		const struct spool_rcpt *r = &env->rcpt[i];
		char notify[40];
		int n = 0;

		notify[0] = '\0';
		if (r->notify & SMTP_NOTIFY_NEVER) {
			n += fmt(notify + n, sizeof notify - (size_t)n,
			    "never");
		}
		if (r->notify & SMTP_NOTIFY_SUCCESS) {
			n += fmt(notify + n, sizeof notify - (size_t)n,
			    "%ssuccess", n ? "," : "");
		}
		if (r->notify & SMTP_NOTIFY_FAILURE) {
			n += fmt(notify + n, sizeof notify - (size_t)n,
			    "%sfailure", n ? "," : "");
		}
		if (r->notify & SMTP_NOTIFY_DELAY) {
			fmt(notify + n, sizeof notify - (size_t)n, "%sdelay",
			    n ? "," : "");
		}
		if (buf_appendf(&b, "rcpt %s notify=%s orcpt=%s\n", r->addr,
		    notify[0] ? notify : "-", r->orcpt[0] ? r->orcpt : "-")
		    == -1) {
			return err_set(e, "queue %s: envelope too large",
			    env->id);
		}
	}
	if (spool_path(path, sizeof path, data_dir, "tmp", env->id, ".env")
	    == -1) {
		return err_set(e, "queue: path too long");
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	if (store_write_all(fd, buf_head(&b), b.len) == -1) {
		rc = err_set(e, "%s: %s", path, strerror(errno));
		unlink(path);
	}
	close(fd);
	return rc;
}

int
spool_commit(const char *data_dir, const char *id, struct err *e)
{
	char from[SPOOL_PATH_MAX], to[SPOOL_PATH_MAX];

	if (spool_path(from, sizeof from, data_dir, "tmp", id, "") == -1 ||
	    spool_path(to, sizeof to, data_dir, "msg", id, "") == -1) {
		return err_set(e, "queue: path too long");
	}
	if (rename(from, to) == -1) {
		return err_set(e, "%s: %s", to, strerror(errno));
	}
	if (spool_path(from, sizeof from, data_dir, "tmp", id, ".env") ==
	    -1 || spool_path(to, sizeof to, data_dir, "env", id, "") == -1) {
		return err_set(e, "queue: path too long");
	}
	if (rename(from, to) == -1) {
		return err_set(e, "%s: %s", to, strerror(errno));
	}
	return 0;
}

int
spool_list(const char *data_dir, int fd, struct err *e)
{
	char dir[SPOOL_PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if (fmt(dir, sizeof dir, "%s/queue/env", data_dir) >=
	    (int)sizeof dir) {
		return err_set(e, "queue: path too long");
	}
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT) {
			fmt_fd(fd, "Mail queue is empty\n");
			return 0;
		}
		return err_set(e, "%s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.') {
			continue;
		}
		if (list_one(dir, de->d_name, fd) == 0) {
			n++;
		}
	}
	closedir(d);
	if (n == 0) {
		fmt_fd(fd, "Mail queue is empty\n");
	} else {
		fmt_fd(fd, "-- %zu request%s.\n", n, n == 1 ? "" : "s");
	}
	return 0;
}

/* One mailq block: ID, size, arrival time, sender, then recipients. */
static int
list_one(const char *dir, const char *name, int fd)
{
	char path[SPOOL_PATH_MAX], when[32];
	const char *p, *end, *sender = "", *size = "?";
	size_t slen = 0, zlen = 1;
	long long arrival = 0;
	struct err e;
	struct tm tm;
	time_t t;
	size_t len;
	char *text;

	if (fmt(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
		return -1;
	}
	text = file_read_all(path, ENV_MAX, &len, &e);
	if (text == NULL) {
		return -1;
	}
	if (len < 16 || memcmp(text, "wren-envelope 1\n", 16) != 0) {
		fmt_fd(fd, "%s  (unreadable envelope)\n\n", name);
		free(text);
		return 0;
	}
	for (p = text, end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);

		if (ll > 7 && memcmp(p, "sender ", 7) == 0) {
			sender = p + 7;
			slen = ll - 7;
		} else if (ll > 5 && memcmp(p, "size ", 5) == 0) {
			size = p + 5;
			zlen = ll - 5;
		} else if (ll > 8 && memcmp(p, "arrival ", 8) == 0) {
			arrival = strtoll(p + 8, NULL, 10);
		}
		p = nl ? nl + 1 : end;
	}
	t = (time_t)arrival;
	gmtime_r(&t, &tm);
	fmt(when, sizeof when, "%04d-%02d-%02d %02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	fmt_fd(fd, "%-20s %8.*s %s  <%.*s>\n", name, (int)zlen, size, when,
	    (int)slen, sender);
	for (p = text; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);

		if (ll > 5 && memcmp(p, "rcpt ", 5) == 0) {
			const char *sp = memchr(p + 5, ' ', ll - 5);
			size_t al = sp ? (size_t)(sp - p - 5) : ll - 5;

			fmt_fd(fd, "%45s<%.*s>\n", "", (int)al, p + 5);
		}
		p = nl ? nl + 1 : end;
	}
	fmt_fd(fd, "\n");
	free(text);
	return 0;
}

/* tmp/ holds nothing acknowledged; msg/ without env/ was not either. */
static int
remove_uncommitted(const char *data_dir, struct err *e)
{
	char dir[SPOOL_PATH_MAX], path[SPOOL_PATH_MAX + 64];
	struct dirent *de;
	struct stat st;
	DIR *d;

	fmt(dir, sizeof dir, "%s/queue/tmp", data_dir);
	if ((d = opendir(dir)) == NULL) {
		return err_set(e, "%s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' && fmt(path, sizeof path, "%s/%s",
		    dir, de->d_name) < (int)sizeof path) {
			(void)unlink(path);
		}
	}
	closedir(d);
	fmt(dir, sizeof dir, "%s/queue/msg", data_dir);
	if ((d = opendir(dir)) == NULL) {
		return err_set(e, "%s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || spool_path(path, sizeof path,
		    data_dir, "env", de->d_name, "") == -1 ||
		    stat(path, &st) == 0) {
			continue;
		}
		if (fmt(path, sizeof path, "%s/%s", dir, de->d_name) <
		    (int)sizeof path) {
			(void)unlink(path);
		}
	}
	closedir(d);
	return 0;
}
