/* SPDX-License-Identifier: ISC */
/*
 * spool.c - the outbound queue on disk (layout in spool.h, envelope
 * format in envelope.h): writing a new message's envelope, appending
 * the runner's results, and `wren queue list` / `show`.
 *
 * What list and show print goes through an escaping writer unless raw
 * output is asked for: a message is whatever its sender wrote, and an
 * ESC sequence or a bare CR must not reach the administrator's
 * terminal. Control octets other than LF and TAB, DEL, UTF-8 C1
 * controls (U+0080..U+009F) and bytes that are not UTF-8 are shown as
 * \xNN; valid UTF-8 text passes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>		/* rename */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "queue/spool.h"
#include "store/maildir.h"

#define READ_CHUNK	4096	/* envelope and message reads */
/* Column of the sender in `list`: ID, size, arrival as Postfix's
 * mailq lays them out (our time is ISO 8601, in UTC). */
#define LIST_RCPT_INDENT	52
#define OUT_LINE_MAX	FMT_FD_MAX	/* one formatted line of output */

/* The escaping writer of list and show. */
struct out {
	int		 fd;
	int		 raw;		/* bytes as they are */
	int		 err;		/* a write failed: errno */
	unsigned char	 seq[4];	/* a UTF-8 sequence begun */
	size_t		 nseq, need;	/* its bytes, and the total */
	size_t		 n;
	char		 buf[4 * READ_CHUNK];
};

static unsigned long	id_seq;

static int	remove_uncommitted(const char *, struct err *);
static int	parse_fd(int, const char *, struct envelope *, struct err *);
static int	list_one(const char *, const char *, struct out *,
		    uint64_t *);
static void	when(char *, size_t, int64_t);
static void	out_init(struct out *, int, int);
static void	out_fmt(struct out *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	out_bytes(struct out *, const char *, size_t);
static void	out_byte(struct out *, unsigned char);
static void	out_put(struct out *, const void *, size_t);
static void	out_escape(struct out *, const unsigned char *, size_t);
static int	out_flush(struct out *);
static int	out_finish(struct out *);
static int	utf8_next_ok(const unsigned char *, size_t, unsigned char);

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
		if (mkdir(path, 0700) == 0) {
			/* A new directory's entry durable before mail is
			 * renamed below it. */
			*strrchr(path, '/') = '\0';
			if (store_fsync_dir(path) == -1) {
				return err_set(e, "%s: fsync: %s", path,
				    strerror(errno));
			}
		} else if (errno != EEXIST) {
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
	 * (one server process owns the queue). 18 characters: every
	 * caller passes SPOOL_ID_MAX. */
	(void)fmt(out, cap, "%09llX%05lX%04X", (long long)tv.tv_sec,
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
	/* The barrier: the message durable in msg/ before its envelope
	 * makes it queued. */
	if (spool_path(from, sizeof from, data_dir, "msg", "", "") == -1 ||
	    store_fsync_dir(from) == -1) {
		int saved = errno;

		(void)unlink(to);
		return err_set(e, "%s: fsync: %s", from, strerror(saved));
	}
	if (spool_path(from, sizeof from, data_dir, "tmp", id, ".env") ==
	    -1 || spool_path(to, sizeof to, data_dir, "env", id, "") == -1) {
		return err_set(e, "queue: path too long");
	}
	if (rename(from, to) == -1) {
		int saved = errno;

		if (spool_path(from, sizeof from, data_dir, "msg", id, "") ==
		    0) {
			(void)unlink(from);	/* not queued: no message */
		}
		return err_set(e, "%s: %s", to, strerror(saved));
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
spool_list(const char *data_dir, int fd, int raw, struct err *e)
{
	static struct out o;
	char dir[SPOOL_PATH_MAX];
	struct dirent *de;
	uint64_t bytes = 0;
	size_t n = 0;
	DIR *d;

	if (fmt(dir, sizeof dir, "%s/queue/env", data_dir) >=
	    (int)sizeof dir) {
		return err_set(e, "queue: path too long");
	}
	out_init(&o, fd, raw);
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT) {
			out_fmt(&o, "Mail queue is empty\n");
			return out_finish(&o) == -1 ? err_set(e, "write: %s",
			    strerror(errno)) : 0;
		}
		return err_set(e, "%s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.') {
			continue;
		}
		if (n == 0) {
			out_fmt(&o, "%-20s %8s %-20s  %s\n", "-Queue ID-",
			    "--Size--", "----Arrival Time----",
			    "-Sender/Recipient-------");
		}
		if (list_one(data_dir, de->d_name, &o, &bytes) == 0) {
			n++;
		}
	}
	closedir(d);
	if (n == 0) {
		out_fmt(&o, "Mail queue is empty\n");
	} else {
		out_fmt(&o, "-- %llu Kbytes in %zu Request%s.\n",
		    (unsigned long long)((bytes + 1023) / 1024), n,
		    n == 1 ? "" : "s");
	}
	if (out_finish(&o) == -1) {
		return err_set(e, "write: %s", strerror(errno));
	}
	return 0;
}

int
spool_show(const char *data_dir, const char *id, int fd, int raw,
    struct err *e)
{
	static const char *const ret[] = { "-", "full", "hdrs" };
	static struct envelope env;
	static struct out o;
	char path[SPOOL_PATH_MAX], buf[READ_CHUNK], t[32];
	char notify[DSN_NOTIFY_TEXT_MAX];
	int mfd;

	if (spool_read_env(data_dir, id, &env, e) == -1) {
		return -1;
	}
	out_init(&o, fd, raw);
	when(t, sizeof t, env.arrival);
	out_fmt(&o, "*** ENVELOPE ***\nid: %s\narrival: %s\n"
	    "sender: <%s>\nsize: %llu\nret: %s\nenvid: %s\n"
	    "smtputf8: %s\nclient: %s\n", env.id, t, env.sender,
	    (unsigned long long)env.size, ret[env.ret % 3],
	    env.envid[0] ? env.envid : "-", env.smtputf8 ? "yes" : "no",
	    env.client[0] ? env.client : "-");
	if (env.hold) {
		out_fmt(&o, "status: on hold\n");
	}
	if (env.bounce_at > 0) {
		when(t, sizeof t, env.bounce_at);
		out_fmt(&o, "bounce requested: %s\n", t);
	}
	for (size_t i = 0; i < env.nrcpt; i++) {
		const struct envelope_rcpt *r = &env.rcpt[i];
		char reason[ENVELOPE_MTA_MAX + ENVELOPE_TEXT_MAX + 32];

		if (dsn_notify_format(r->notify, notify, sizeof notify) < 0) {
			notify[0] = '\0';
		}
		out_fmt(&o, "recipient %zu: <%s> notify=%s orcpt=%s\n", i,
		    r->addr, notify, r->orcpt[0] ? r->orcpt : "-");
		out_fmt(&o, "    %s", envelope_rstate_name(r->state));
		if (r->state != ENVELOPE_PENDING) {
			out_fmt(&o, ", %u attempt%s", (unsigned)r->attempts,
			    r->attempts == 1 ? "" : "s");
		}
		if (r->state == ENVELOPE_DEFERRED) {
			when(t, sizeof t, r->next_try);
			out_fmt(&o, ", next try %s", t);
		}
		if (r->code[0] != '\0') {
			out_fmt(&o, ", status %s", r->code);
		}
		if (r->reported & DSN_NOTIFY_FAILURE) {
			out_fmt(&o, ", bounce sent");
		}
		if (r->reported & DSN_NOTIFY_DELAY) {
			out_fmt(&o, ", delay notice sent");
		}
		out_fmt(&o, "\n");
		if (envelope_reason(r, reason, sizeof reason) > 0) {
			out_fmt(&o, "    (%s)\n", reason);
		}
	}
	if (spool_path(path, sizeof path, data_dir, "msg", env.id, "") ==
	    -1) {
		return err_set(e, "queue: path too long");
	}
	mfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (mfd == -1) {
		int saved = errno;

		(void)out_finish(&o);
		return err_set(e, "%s: %s", path, strerror(saved));
	}
	out_fmt(&o, "*** MESSAGE ***\n");
	for (;;) {
		ssize_t got = read(mfd, buf, sizeof buf);

		if (got == -1 && errno == EINTR) {
			continue;
		}
		if (got <= 0) {
			int saved = errno;

			close(mfd);
			if (got < 0) {
				(void)out_finish(&o);
				return err_set(e, "%s: %s", path,
				    strerror(saved));
			}
			break;
		}
		out_bytes(&o, buf, (size_t)got);
		if (o.err) {
			close(mfd);
			return err_set(e, "write: %s", strerror(o.err));
		}
	}
	if (out_finish(&o) == -1) {
		return err_set(e, "write: %s", strerror(errno));
	}
	return 0;
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
list_one(const char *data_dir, const char *name, struct out *o,
    uint64_t *bytes)
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
		out_fmt(o, "%-20s (unreadable envelope: %s)\n\n", name,
		    e.msg);
		return 0;
	}
	when(t, sizeof t, env.arrival);
	/* Postfix marks a held message with '!' after its ID. */
	(void)fmt(id, sizeof id, "%s%s", env.id, env.hold ? "!" : "");
	out_fmt(o, "%-20s %8llu %s  <%s>\n", id,
	    (unsigned long long)env.size, t, env.sender);
	*bytes += env.size;
	for (size_t i = 0; i < env.nrcpt; i++) {
		const struct envelope_rcpt *r = &env.rcpt[i];

		if (r->state != ENVELOPE_PENDING &&
		    r->state != ENVELOPE_DEFERRED) {
			continue;
		}
		if (envelope_reason(r, reason, sizeof reason) > 0) {
			out_fmt(o, "%8s(%s)\n", "", reason);
		}
		out_fmt(o, "%*s<%s>\n", LIST_RCPT_INDENT, "", r->addr);
	}
	out_fmt(o, "\n");
	return 0;
}

/* An epoch as "2026-12-07 13:19:17Z". */
static void
when(char *out, size_t cap, int64_t epoch)
{
	time_t t = (time_t)epoch;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		(void)fmt(out, cap, "?");
		return;
	}
	(void)fmt(out, cap, "%04d-%02d-%02d %02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

/*
 * tmp/ holds nothing acknowledged; msg/ without env/ was not either.
 * Nor was env/ without msg/: the store renames a message durably before
 * its envelope (store/txn.h's barrier), so only a crash in an older
 * version's commit, or a half-done removal (env/ goes first), leaves
 * one, and there is nothing to deliver.
 */
static int
remove_uncommitted(const char *data_dir, struct err *e)
{
	char dir[SPOOL_PATH_MAX], path[SPOOL_PATH_MAX + 64];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (fmt(dir, sizeof dir, "%s/queue/tmp", data_dir) >=
	    (int)sizeof dir) {
		return err_set(e, "%s: path too long", data_dir);
	}
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
	if (fmt(dir, sizeof dir, "%s/queue/msg", data_dir) >=
	    (int)sizeof dir) {
		return err_set(e, "%s: path too long", data_dir);
	}
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
	if (fmt(dir, sizeof dir, "%s/queue/env", data_dir) >=
	    (int)sizeof dir) {
		return err_set(e, "%s: path too long", data_dir);
	}
	if ((d = opendir(dir)) == NULL) {
		return err_set(e, "%s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (!envelope_id_valid(de->d_name, strlen(de->d_name)) ||
		    spool_path(path, sizeof path, data_dir, "msg",
		    de->d_name, "") == -1 || lstat(path, &st) == 0 ||
		    errno != ENOENT) {
			continue;
		}
		if (fmt(path, sizeof path, "%s/%s", dir, de->d_name) <
		    (int)sizeof path && unlink(path) == 0) {
			log_warnx("queue %s: an envelope without its message "
			    "(never acknowledged): removed", de->d_name);
		}
	}
	closedir(d);
	return 0;
}

static void
out_init(struct out *o, int fd, int raw)
{
	o->fd = fd;
	o->raw = raw;
	o->err = 0;
	o->nseq = o->need = 0;
	o->n = 0;
}

/* One formatted piece (cut at OUT_LINE_MAX), escaped. */
static void
out_fmt(struct out *o, const char *f, ...)
{
	char line[OUT_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, f);
	n = vfmt(line, sizeof line, f, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	out_bytes(o, line, (size_t)n < sizeof line ? (size_t)n :
	    sizeof line - 1);
}

static void
out_bytes(struct out *o, const char *p, size_t len)
{
	for (size_t i = 0; i < len && !o->err; i++) {
		if (o->raw) {
			out_put(o, p + i, 1);
		} else {
			out_byte(o, (unsigned char)p[i]);
		}
	}
}

/* The escaping state machine: a byte, alone or in a UTF-8 sequence. */
static void
out_byte(struct out *o, unsigned char c)
{
	if (o->need > 0) {
		if (utf8_next_ok(o->seq, o->nseq, c)) {
			o->seq[o->nseq++] = c;
			if (o->nseq < o->need) {
				return;
			}
			/* U+0080..U+009F: C1 controls (0x9b is CSI). */
			if (o->seq[0] == 0xc2 && o->seq[1] < 0xa0) {
				out_escape(o, o->seq, o->nseq);
			} else {
				out_put(o, o->seq, o->nseq);
			}
			o->nseq = o->need = 0;
			return;
		}
		out_escape(o, o->seq, o->nseq);	/* cut short */
		o->nseq = o->need = 0;
	}
	if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
		out_put(o, &c, 1);
	} else if (c >= 0xc2 && c <= 0xf4) {
		o->seq[0] = c;
		o->nseq = 1;
		o->need = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	} else {
		out_escape(o, &c, 1);
	}
}

/* 1 when c may follow the n bytes of seq (RFC 3629 section 4). */
static int
utf8_next_ok(const unsigned char *seq, size_t n, unsigned char c)
{
	unsigned char lo = 0x80, hi = 0xbf;

	if (n == 1) {
		if (seq[0] == 0xe0) {
			lo = 0xa0;
		} else if (seq[0] == 0xed) {
			hi = 0x9f;
		} else if (seq[0] == 0xf0) {
			lo = 0x90;
		} else if (seq[0] == 0xf4) {
			hi = 0x8f;
		}
	}
	return c >= lo && c <= hi;
}

static void
out_escape(struct out *o, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		char e[4] = { '\\', 'x', hex[p[i] >> 4], hex[p[i] & 15] };

		out_put(o, e, sizeof e);
	}
}

static void
out_put(struct out *o, const void *p, size_t n)
{
	if (o->n + n > sizeof o->buf && out_flush(o) == -1) {
		return;
	}
	memcpy(o->buf + o->n, p, n);
	o->n += n;
}

/* The end of the output: a sequence left unfinished is escaped, and
 * everything written; 0, or -1 with errno. */
static int
out_finish(struct out *o)
{
	if (o->nseq > 0) {
		out_escape(o, o->seq, o->nseq);
		o->nseq = o->need = 0;
	}
	return out_flush(o);
}

/* Writes what is buffered; 0, or -1 with errno. */
static int
out_flush(struct out *o)
{
	size_t off = 0;

	if (o->err) {
		errno = o->err;
		return -1;
	}
	while (off < o->n) {
		ssize_t w = write(o->fd, o->buf + off, o->n - off);

		if (w == -1 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			o->err = w == 0 ? EIO : errno;
			errno = o->err;
			return -1;
		}
		off += (size_t)w;
	}
	o->n = 0;
	return 0;
}
