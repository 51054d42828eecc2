/* SPDX-License-Identifier: ISC */
/*
 * qenv.c - one queued message as the runner sees it: the envelope read
 * through envelope.h's parser, results appended as state lines, the
 * bounce for what failed, the removal once nothing is pending.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* rename */
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "queue/bounce.h"
#include "queue/enqueue.h"
#include "queue/qenv.h"
#include "queue/spool.h"
#include "store/maildir.h"

#define QENV_READ_CHUNK	4096

static const char	*domain_of(const char *);
static int		 record_reported(struct qenv *, size_t, unsigned);

int
qenv_load(const char *data_dir, const char *id, struct qenv *q,
    struct err *e)
{
	static struct envelope_parser p;
	char path[SPOOL_PATH_MAX], buf[QENV_READ_CHUNK];
	ssize_t n;
	int fd;

	if (spool_path(path, sizeof path, data_dir, "env", id, "") == -1) {
		return err_set(e, "%s: bad queue id", id);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT) {
			return 0;
		}
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	envelope_parser_init(&p, &q->env);
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (envelope_feed(&p, buf, (size_t)n) == -1) {
			break;
		}
	}
	close(fd);
	if (n < 0) {
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	if (p.err != ENVELOPE_OK || envelope_finish(&p) == -1) {
		err_set(e, "%s:%lu: %s", path, p.err_line,
		    envelope_strerror(p.err));
		return -2;
	}
	q->torn = p.torn;
	q->applen = 0;
	memset(q->claimed, 0, sizeof q->claimed);
	return 1;
}

int
qenv_is_pending(const struct qenv *q, size_t i)
{
	enum envelope_rstate s = q->env.rcpt[i].state;

	return s == ENVELOPE_PENDING || s == ENVELOPE_DEFERRED;
}

size_t
qenv_pending(const struct qenv *q)
{
	size_t n = 0;

	for (size_t i = 0; i < q->env.nrcpt; i++) {
		n += qenv_is_pending(q, i) != 0;
	}
	return n;
}

int
qenv_all_sent(const struct qenv *q)
{
	for (size_t i = 0; i < q->env.nrcpt; i++) {
		if (q->env.rcpt[i].state != ENVELOPE_SENT) {
			return 0;
		}
	}
	return 1;
}

void
qenv_discard(struct qenv *q)
{
	q->applen = 0;
}

int64_t
qenv_next_try(const struct qenv *q)
{
	int64_t t = INT64_MAX;

	for (size_t i = 0; i < q->env.nrcpt; i++) {
		if (qenv_is_pending(q, i) && q->env.rcpt[i].next_try < t) {
			t = q->env.rcpt[i].next_try;
		}
	}
	return t;
}

uint32_t
qenv_attempts(const struct qenv *q)
{
	uint32_t a = 0;

	for (size_t i = 0; i < q->env.nrcpt; i++) {
		if (q->env.rcpt[i].attempts > a) {
			a = q->env.rcpt[i].attempts;
		}
	}
	return a;
}

int
qenv_result(struct qenv *q, size_t i, enum envelope_rstate st,
    int64_t next_try, const char *code, const char *mta, const char *text)
{
	struct envelope_result r = {
		.state = st,
		.attempts = q->env.rcpt[i].attempts + 1,
		.next_try = st == ENVELOPE_DEFERRED ? next_try : 0,
		.code = code,
		.mta = mta,
		.text = text,
		.textlen = text != NULL ? strlen(text) : 0,
	};
	char *out = q->app + q->applen;
	int n;

	n = envelope_format_state(out, sizeof q->app - q->applen, i, &r);
	if (n <= 0 || envelope_apply(&q->env, out, (size_t)n - 1) !=
	    ENVELOPE_OK) {
		return -1;
	}
	q->applen += (size_t)n;
	return 0;
}

static int
record_reported(struct qenv *q, size_t i, unsigned kind)
{
	char *out = q->app + q->applen;
	int n;

	n = envelope_format_reported(out, sizeof q->app - q->applen, i, kind,
	    (int64_t)time(NULL));
	if (n <= 0 || envelope_apply(&q->env, out, (size_t)n - 1) !=
	    ENVELOPE_OK) {
		return -1;
	}
	q->applen += (size_t)n;
	return 0;
}

int
qenv_commit(const char *data_dir, struct qenv *q, struct err *e)
{
	char path[SPOOL_PATH_MAX];
	struct stat st;
	int fd;

	if (q->applen == 0) {
		return 0;
	}
	if (spool_path(path, sizeof path, data_dir, "env", q->env.id,
	    "") == -1) {
		return err_set(e, "%s: bad queue id", q->env.id);
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd == -1) {
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	/* A line torn by a crash is cut off first, so ours start on a
	 * line of their own. */
	if (q->torn > 0 && (fstat(fd, &st) == -1 ||
	    ftruncate(fd, st.st_size - (off_t)q->torn) == -1)) {
		err_set(e, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	q->torn = 0;
	if (store_write_all(fd, q->app, q->applen) == -1 ||
	    fdatasync(fd) == -1) {
		err_set(e, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	q->applen = 0;
	return 0;
}

void
qenv_job(struct qenv *q, size_t i, const char *domain, int relay,
    const char *data_dir, struct remote_job *j)
{
	const struct envelope *env = &q->env;

	memset(j, 0, offsetof(struct remote_job, r));
	/* Each field is as large as its source, so none is cut; but the
	 * domain when it is a long relay host, only a label then: remote.c
	 * connects to its own copy of relayhost. */
	(void)fmt(j->id, sizeof j->id, "%s", env->id);
	(void)fmt(j->sender, sizeof j->sender, "%s", env->sender);
	(void)fmt(j->domain, sizeof j->domain, "%s", domain);
	spool_path(j->msg_path, sizeof j->msg_path, data_dir, "msg", env->id,
	    "");
	j->size = env->size;
	j->smtputf8 = env->smtputf8;
	j->eightbit = env->body8;
	j->ret = (int)env->ret;
	(void)fmt(j->envid, sizeof j->envid, "%s", env->envid);
	j->arrival = env->arrival;
	j->nrcpt = 0;
	j->used = 0;
	for (size_t k = i; k < env->nrcpt && j->nrcpt < REMOTE_RCPT_MAX;
	    k++) {
		const struct envelope_rcpt *er = &env->rcpt[k];
		struct remote_rcpt *r = &j->r[j->nrcpt];
		size_t al = strlen(er->addr) + 1, ol = strlen(er->orcpt) + 1;

		if (!qenv_is_pending(q, k) || q->claimed[k]) {
			continue;
		}
		if (!relay && strcasecmp(domain_of(er->addr), domain) != 0) {
			continue;
		}
		if (j->used + al + ol > sizeof j->arena) {
			break;
		}
		r->idx = (int)k;
		r->addr = j->arena + j->used;
		memcpy(j->arena + j->used, er->addr, al);
		j->used += al;
		r->orcpt = j->arena + j->used;
		memcpy(j->arena + j->used, er->orcpt, ol);
		j->used += ol;
		r->notify = er->notify;
		r->outcome = REMOTE_PENDING;
		q->claimed[k] = 1;
		j->nrcpt++;
	}
}

void
qenv_unclaim(struct qenv *q, const struct remote_job *j)
{
	for (size_t k = 0; k < j->nrcpt; k++) {
		q->claimed[j->r[k].idx] = 0;
	}
}

void
qenv_results(struct qenv *q, const struct remote_job *j, int64_t next_try)
{
	for (size_t k = 0; k < j->nrcpt; k++) {
		const struct remote_rcpt *r = &j->r[k];
		enum envelope_rstate st;

		if ((size_t)r->idx >= q->env.nrcpt ||
		    strcmp(q->env.rcpt[r->idx].addr, r->addr) != 0) {
			continue;	/* the file changed under us */
		}
		switch (r->outcome) {
		case REMOTE_SENT:
			st = ENVELOPE_SENT;
			break;
		case REMOTE_FAILED:
			st = ENVELOPE_FAILED;
			break;
		default:
			st = ENVELOPE_DEFERRED;
			break;
		}
		if (qenv_result(q, (size_t)r->idx, st, next_try, r->status,
		    j->relay_host, r->reply) == -1) {
			log_warnx("queue %s: state line for <%s> refused",
			    j->id, r->addr);
		}
	}
}

int
qenv_set_aside(const char *data_dir, const char *id, struct err *e)
{
	char dir[SPOOL_PATH_MAX], from[SPOOL_PATH_MAX], to[SPOOL_PATH_MAX];
	static const char *const sub[] = { "msg", "env" };

	if (spool_path(dir, sizeof dir, data_dir, "corrupt", "", "") == -1) {
		return err_set(e, "%s: path too long", data_dir);
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		return err_set(e, "%s: %s", dir, strerror(errno));
	}
	for (size_t k = 0; k < 2; k++) {
		if (spool_path(from, sizeof from, data_dir, sub[k], id,
		    "") == -1 || fmt(to, sizeof to, "%s%s.%s", dir, id,
		    sub[k]) >= (int)sizeof to) {
			return err_set(e, "%s: path too long", id);
		}
		if (rename(from, to) == -1 && errno != ENOENT) {
			return err_set(e, "%s: %s", from, strerror(errno));
		}
	}
	return 0;
}

int
qenv_remove(const char *data_dir, const char *id, struct err *e)
{
	char path[SPOOL_PATH_MAX];

	/* The envelope first: without it the message is not queued, and
	 * a msg/ file left alone is removed at the next start. */
	if (spool_path(path, sizeof path, data_dir, "env", id, "") == -1 ||
	    (unlink(path) == -1 && errno != ENOENT)) {
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	if (spool_path(path, sizeof path, data_dir, "msg", id, "") == -1 ||
	    (unlink(path) == -1 && errno != ENOENT)) {
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	return 0;
}

/*
 * The report goes into the queue like any message: from <> to the
 * sender, so the runner delivers it to a local Maildir or out. It is
 * committed through the store's group commit; only once it is durable
 * (qenv_bounce_done) are the recipients recorded as reported, so a
 * crash in between can send a second report, never none.
 */
int
qenv_bounce_start(const char *data_dir, const char *hostname,
    struct qenv *q, enqueue_done_fn *done, void *arg, struct err *e)
{
	const struct envelope *env = &q->env;
	char id[SPOOL_ID_MAX], path[SPOOL_PATH_MAX];
	struct spool_rcpt r = { .addr = env->sender, .notify = 0,
	    .orcpt = "" };
	struct spool_env ne = {
		.sender = "",
		.ret = 0,
		.envid = "",
		.smtputf8 = env->smtputf8,
		.client = "bounce",
		.rcpt = &r,
		.nrcpt = 1,
	};
	struct bounce_req br = {
		.env = env,
		.kind = BOUNCE_FAILURE,
		.host = hostname,
		.now = (int64_t)time(NULL),
	};
	int fd, n;

	if (!bounce_needed(env, BOUNCE_FAILURE)) {
		/* Failed recipients of a bounce, or NOTIFY=NEVER: mark
		 * them so nothing is reported later. */
		for (size_t i = 0; i < env->nrcpt; i++) {
			if (env->rcpt[i].state == ENVELOPE_FAILED &&
			    !(env->rcpt[i].reported & DSN_NOTIFY_FAILURE)) {
				if (env->sender[0] == '\0') {
					log_info("queue %s: to=<%s>: failed; "
					    "no bounce to <>", env->id,
					    env->rcpt[i].addr);
				}
				record_reported(q, i, DSN_NOTIFY_FAILURE);
			}
		}
		return qenv_commit(data_dir, q, e);
	}
	fd = enqueue_open(data_dir, id, e);
	if (fd == -1) {
		return -1;
	}
	if (spool_path(path, sizeof path, data_dir, "msg", env->id,
	    "") == -1) {
		enqueue_abort(data_dir, id, fd);
		return err_set(e, "%s: bad queue id", env->id);
	}
	br.id = id;
	br.msg_fd = open(path, O_RDONLY | O_CLOEXEC);
	n = bounce_write(fd, &br, e);
	if (br.msg_fd != -1) {
		close(br.msg_fd);
	}
	if (n <= 0) {
		enqueue_abort(data_dir, id, fd);
		return n < 0 ? -1 : 0;
	}
	ne.id = id;
	ne.arrival = br.now;
	if (enqueue_submit(data_dir, fd, &ne, done, arg, e) == -1) {
		return -1;
	}
	return 1;
}

int
qenv_bounce_done(const char *data_dir, struct qenv *q, const char *id,
    struct err *e)
{
	const struct envelope *env = &q->env;

	log_info("queue %s: sender non-delivery notification: %s", env->id,
	    id);
	for (size_t i = 0; i < env->nrcpt; i++) {
		if (bounce_rcpt_wanted(env, i, BOUNCE_FAILURE)) {
			record_reported(q, i, DSN_NOTIFY_FAILURE);
		}
	}
	return qenv_commit(data_dir, q, e);
}

int
qenv_bounce_give_up(const char *data_dir, struct qenv *q, struct err *e)
{
	const struct envelope *env = &q->env;

	for (size_t i = 0; i < env->nrcpt; i++) {
		if (bounce_rcpt_wanted(env, i, BOUNCE_FAILURE)) {
			log_warnx("queue %s: to=<%s>: bounce to <%s> dropped: "
			    "it could not be queued", env->id,
			    env->rcpt[i].addr, env->sender);
			record_reported(q, i, DSN_NOTIFY_FAILURE);
		}
	}
	return qenv_commit(data_dir, q, e);
}

static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}
