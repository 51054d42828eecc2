/*
 * spool.c - the outbound queue on disk (layout in spool.h, envelope
 * format in envelope.h): writing a new message's envelope, appending
 * the runner's results, and `wren queue list` / `show`.
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

#include "core/fmt.h"
#include "queue/spool.h"
#include "store/maildir.h"

#define READ_CHUNK	4096	/* envelope and message reads */
/* Column of the sender in `list`: ID, size, arrival as Postfix's
 * mailq lays them out (our time is ISO 8601, in UTC). */
#define LIST_RCPT_INDENT	52

static unsigned long	id_seq;

static int	remove_uncommitted(const char *, struct err *);
static int	parse_fd(int, const char *, struct envelope *, struct err *);
static int	list_one(const char *, const char *, int, uint64_t *);
static void	when(char *, size_t, int64_t);
static int	write_str(int, const char *, size_t);

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
	static char text[ENVELOPE_WRITE_MAX];
	static struct envelope_spec_rcpt r[ENVELOPE_RCPT_MAX];
	char path[SPOOL_PATH_MAX], client[ENVELOPE_CLIENT_MAX + 1];
	struct envelope_spec spec;
	size_t cl;
	int fd, n, rc = 0;

	if (env->nrcpt > ENVELOPE_RCPT_MAX) {
		return err_set(e, "queue %s: %zu recipients, at most %d",
		    env->id, env->nrcpt, ENVELOPE_RCPT_MAX);
	}
	for (size_t i = 0; i < env->nrcpt; i++) {
		r[i].addr = env->rcpt[i].addr;
		r[i].notify = env->rcpt[i].notify;
		r[i].orcpt = env->rcpt[i].orcpt;
	}
	/* The client's HELO name is whatever it sent: no control octet
	 * may reach the file. */
	cl = strlen(env->client);
	if (cl > ENVELOPE_CLIENT_MAX) {
		cl = ENVELOPE_CLIENT_MAX;
	}
	for (size_t i = 0; i < cl; i++) {
		unsigned char c = (unsigned char)env->client[i];

		client[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	client[cl] = '\0';
	memset(&spec, 0, sizeof spec);
	spec.id = env->id;
	spec.arrival = env->arrival;
	spec.sender = env->sender;
	spec.size = env->size;
	spec.ret = env->ret == DSN_RET_FULL ? DSN_RET_FULL :
	    env->ret == DSN_RET_HDRS ? DSN_RET_HDRS : DSN_RET_NONE;
	spec.envid = env->envid;
	spec.smtputf8 = env->smtputf8;
	spec.body8 = env->body8;
	spec.client = cl > 0 ? client : NULL;
	spec.rcpt = r;
	spec.nrcpt = env->nrcpt;
	n = envelope_format(text, sizeof text, &spec);
	if (n < 0) {
		return err_set(e, "queue %s: envelope cannot be written "
		    "(a field is malformed)", env->id);
	}
	if (spool_path(path, sizeof path, data_dir, "tmp", env->id, ".env")
	    == -1) {
		return err_set(e, "queue: path too long");
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	if (store_write_all(fd, text, (size_t)n) == -1) {
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
spool_read_env(const char *data_dir, const char *id, struct envelope *env,
    struct err *e)
{
	char path[SPOOL_PATH_MAX];
	int fd, rc, saved;

	if (!envelope_id_valid(id, strlen(id))) {
		errno = ENOENT;
		return err_set(e, "no message %s", id);
	}
	if (spool_path(path, sizeof path, data_dir, "env", id, "") == -1) {
		errno = ENAMETOOLONG;
		return err_set(e, "queue: path too long");
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		saved = errno;
		err_set(e, "%s: %s", path, strerror(errno));
		errno = saved;
		return -1;
	}
	rc = parse_fd(fd, path, env, e);
	close(fd);
	return rc;
}

int
spool_append(const char *data_dir, const char *id, const char *line,
    size_t len, struct err *e)
{
	char path[SPOOL_PATH_MAX], tail[ENVELOPE_LINE_MAX + 1];
	struct stat st;
	int fd;

	if (len == 0 || line[len - 1] != '\n' ||
	    memchr(line, '\n', len - 1) != NULL) {
		return err_set(e, "queue %s: not one line", id);
	}
	if (spool_path(path, sizeof path, data_dir, "env", id, "") == -1) {
		return err_set(e, "queue: path too long");
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	/*
	 * A crash in the middle of an earlier append can leave a final
	 * line without its LF. Appending after it would glue the two into
	 * one malformed line; cut it off instead (its result was never
	 * acted upon: the runner acts only after fdatasync returned).
	 */
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		int rfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		off_t from = st.st_size > (off_t)sizeof tail ?
		    st.st_size - (off_t)sizeof tail : 0;
		ssize_t got = rfd == -1 ? -1 : pread(rfd, tail,
		    (size_t)(st.st_size - from), from);

		if (rfd != -1) {
			close(rfd);
		}
		if (got > 0 && tail[got - 1] != '\n') {
			ssize_t k = got - 1;

			while (k >= 0 && tail[k] != '\n') {
				k--;
			}
			if (k < 0 || ftruncate(fd, from + k + 1) == -1) {
				close(fd);
				return err_set(e, "%s: cannot cut a torn "
				    "last line", path);
			}
		}
	}
	if (store_write_all(fd, line, len) == -1 || fdatasync(fd) == -1) {
		int saved = errno;

		close(fd);
		return err_set(e, "%s: %s", path, strerror(saved));
	}
	if (close(fd) == -1) {
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	return 0;
}

int
spool_list(const char *data_dir, int fd, struct err *e)
{
	char dir[SPOOL_PATH_MAX];
	struct dirent *de;
	uint64_t bytes = 0;
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
		if (n == 0) {
			fmt_fd(fd, "%-20s %8s %-20s  %s\n", "-Queue ID-",
			    "--Size--", "----Arrival Time----",
			    "-Sender/Recipient-------");
		}
		if (list_one(data_dir, de->d_name, fd, &bytes) == 0) {
			n++;
		}
	}
	closedir(d);
	if (n == 0) {
		fmt_fd(fd, "Mail queue is empty\n");
	} else {
		fmt_fd(fd, "-- %llu Kbytes in %zu Request%s.\n",
		    (unsigned long long)((bytes + 1023) / 1024), n,
		    n == 1 ? "" : "s");
	}
	return 0;
}

int
spool_show(const char *data_dir, const char *id, int fd, struct err *e)
{
	static const char *const ret[] = { "-", "full", "hdrs" };
	static struct envelope env;
	char path[SPOOL_PATH_MAX], buf[READ_CHUNK], t[32];
	char notify[DSN_NOTIFY_TEXT_MAX];
	int mfd;

	if (spool_read_env(data_dir, id, &env, e) == -1) {
		return -1;
	}
	when(t, sizeof t, env.arrival);
	fmt_fd(fd, "*** ENVELOPE ***\nid: %s\narrival: %s\n"
	    "sender: <%s>\nsize: %llu\nret: %s\nenvid: %s\n"
	    "smtputf8: %s\nclient: %s\n", env.id, t, env.sender,
	    (unsigned long long)env.size, ret[env.ret % 3],
	    env.envid[0] ? env.envid : "-", env.smtputf8 ? "yes" : "no",
	    env.client[0] ? env.client : "-");
	if (env.hold) {
		fmt_fd(fd, "status: on hold\n");
	}
	if (env.bounce_at > 0) {
		when(t, sizeof t, env.bounce_at);
		fmt_fd(fd, "bounce requested: %s\n", t);
	}
	for (size_t i = 0; i < env.nrcpt; i++) {
		const struct envelope_rcpt *r = &env.rcpt[i];
		char reason[ENVELOPE_MTA_MAX + ENVELOPE_TEXT_MAX + 32];

		if (dsn_notify_format(r->notify, notify, sizeof notify) < 0) {
			notify[0] = '\0';
		}
		fmt_fd(fd, "recipient %zu: <%s> notify=%s orcpt=%s\n", i,
		    r->addr, notify, r->orcpt[0] ? r->orcpt : "-");
		fmt_fd(fd, "    %s", envelope_rstate_name(r->state));
		if (r->state != ENVELOPE_PENDING) {
			fmt_fd(fd, ", %u attempt%s", (unsigned)r->attempts,
			    r->attempts == 1 ? "" : "s");
		}
		if (r->state == ENVELOPE_DEFERRED) {
			when(t, sizeof t, r->next_try);
			fmt_fd(fd, ", next try %s", t);
		}
		if (r->code[0] != '\0') {
			fmt_fd(fd, ", status %s", r->code);
		}
		if (r->reported & DSN_NOTIFY_FAILURE) {
			fmt_fd(fd, ", bounce sent");
		}
		if (r->reported & DSN_NOTIFY_DELAY) {
			fmt_fd(fd, ", delay notice sent");
		}
		fmt_fd(fd, "\n");
		if (envelope_reason(r, reason, sizeof reason) > 0) {
			fmt_fd(fd, "    (%s)\n", reason);
		}
	}
	if (spool_path(path, sizeof path, data_dir, "msg", env.id, "") ==
	    -1) {
		return err_set(e, "queue: path too long");
	}
	mfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (mfd == -1) {
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	fmt_fd(fd, "*** MESSAGE ***\n");
	for (;;) {
		ssize_t got = read(mfd, buf, sizeof buf);

		if (got == -1 && errno == EINTR) {
			continue;
		}
		if (got <= 0) {
			close(mfd);
			return got == 0 ? 0 : err_set(e, "%s: %s", path,
			    strerror(errno));
		}
		if (write_str(fd, buf, (size_t)got) == -1) {
			close(mfd);
			return err_set(e, "write: %s", strerror(errno));
		}
	}
}

/* Reads the open envelope file to its end through the parser. */
static int
parse_fd(int fd, const char *path, struct envelope *env, struct err *e)
{
	static struct envelope_parser p;
	char buf[READ_CHUNK];

	envelope_parser_init(&p, env);
	for (;;) {
		ssize_t got = read(fd, buf, sizeof buf);

		if (got == -1 && errno == EINTR) {
			continue;
		}
		if (got == -1) {
			return err_set(e, "%s: %s", path, strerror(errno));
		}
		if (got == 0) {
			break;
		}
		if (envelope_feed(&p, buf, (size_t)got) == -1) {
			break;
		}
	}
	if (p.err == ENVELOPE_OK && envelope_finish(&p) == 0) {
		return 0;
	}
	errno = EINVAL;
	return err_set(e, "%s:%lu: %s", path, p.err_line,
	    envelope_strerror(p.err));
}

/* One mailq block; its message size is added to *bytes. */
static int
list_one(const char *data_dir, const char *name, int fd, uint64_t *bytes)
{
	static struct envelope env;
	char t[32], reason[ENVELOPE_MTA_MAX + ENVELOPE_TEXT_MAX + 32];
	char id[SPOOL_ID_MAX + 1];
	struct err e;

	if (!envelope_id_valid(name, strlen(name))) {
		return -1;	/* not ours */
	}
	if (spool_read_env(data_dir, name, &env, &e) == -1) {
		if (errno == ENOENT) {
			return -1;	/* delivered meanwhile */
		}
		fmt_fd(fd, "%-20s (unreadable envelope: %s)\n\n", name,
		    e.msg);
		return 0;
	}
	when(t, sizeof t, env.arrival);
	/* Postfix marks a held message with '!' after its ID. */
	fmt(id, sizeof id, "%s%s", env.id, env.hold ? "!" : "");
	fmt_fd(fd, "%-20s %8llu %s  <%s>\n", id,
	    (unsigned long long)env.size, t, env.sender);
	*bytes += env.size;
	for (size_t i = 0; i < env.nrcpt; i++) {
		const struct envelope_rcpt *r = &env.rcpt[i];

		if (r->state != ENVELOPE_PENDING &&
		    r->state != ENVELOPE_DEFERRED) {
			continue;
		}
		if (envelope_reason(r, reason, sizeof reason) > 0) {
			fmt_fd(fd, "%8s(%s)\n", "", reason);
		}
		fmt_fd(fd, "%*s<%s>\n", LIST_RCPT_INDENT, "", r->addr);
	}
	fmt_fd(fd, "\n");
	return 0;
}

/* An epoch as "2026-12-07 13:19:17Z". */
static void
when(char *out, size_t cap, int64_t epoch)
{
	time_t t = (time_t)epoch;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		fmt(out, cap, "?");
		return;
	}
	fmt(out, cap, "%04d-%02d-%02d %02d:%02d:%02dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int
write_str(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
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
