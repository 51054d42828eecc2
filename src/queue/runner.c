/* SPDX-License-Identifier: ISC */
/*
 * runner.c - the queue runner: which queued message is tried when, with
 * how many connections, and what becomes of each recipient.
 *
 *   queue/env/<id>  --inotify/scan-->  index (fixed table of ids and
 *                                      their next attempt time)
 *        |                                   |  due, slots free
 *        |                                   v
 *        |            envelope read  ->  local recipients: Maildir now
 *        |                           ->  remote ones grouped by domain:
 *        |                               one remote_job each (remote.c)
 *        v                                   |
 *   "state" lines appended  <---- results ---+
 *        |
 *        +-- every recipient final: one bounce for the failed ones
 *            (never to <>), then msg/ and env/ are removed
 *
 * The index holds at most RUNNER_INDEX_MAX messages; a larger queue is
 * read again from the directory as room frees up (the files stay the
 * truth). Work per loop turn is bounded: RUNNER_STEP_MAX messages are
 * started per turn, and a rescan reads RUNNER_SCAN_MAX names per turn.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/pool.h"
#include "core/log.h"
#include "map/resolve.h"
#include "queue/control.h"
#include "queue/enqueue.h"
#include "queue/local.h"
#include "queue/qenv.h"
#include "queue/remote.h"
#include "queue/runner.h"
#include "queue/spool.h"

#define RUNNER_INDEX_MAX	1024	/* messages known at once */
#define RUNNER_STEP_MAX		8	/* messages started per loop turn */
#define RUNNER_SCAN_MAX		64	/* directory names read per turn */
#define RUNNER_BUSY_RETRY_S	1	/* limits reached: look again (a
					 * finished job makes it sooner) */
/* Local deliveries per loop turn: each copies a whole message and
 * fsyncs it, so a long alias list is spread over turns. */
#define RUNNER_LOCAL_MAX	4
/* A bounce that cannot be queued is tried this many times, then
 * dropped with a log line (never a message stuck for ever). */
#define RUNNER_BOUNCE_TRIES	5
#define RUNNER_RESCAN_S		60	/* the directory, for missed events */

struct qent {
	char		id[SPOOL_ID_MAX];
	int64_t		next_try;	/* epoch s */
	unsigned	inflight;	/* remote jobs running */
	uint8_t		used;
	uint8_t		forced;		/* flush/retry: ignore next-try */
	uint8_t		blocked;	/* waits for a delivery slot */
	uint8_t		bounce_fails;	/* bounces not queued */
};

struct busy_dom {
	char		name[REMOTE_HOST_MAX];	/* of jobs[k], while it runs */
};

/* One message's envelope at a time: start_message, job_done and settle
 * never nest, so they share it (about 340 KiB, of which a message
 * touches a few pages per recipient). */
static struct qenv	qe_one;

static struct {
	struct ev		*ev;
	const struct cfg	*cfg;
	struct maps		*maps;
	char			 data_dir[CFG_PATH_MAX];
	char			 hostname[CFG_HOST_MAX + 1];
	int			 ino;
	struct qent		 ent[RUNNER_INDEX_MAX];
	size_t			 nent;
	int			 overflow;	/* names left on disk */
	DIR			*scan;
	struct timer		 kick, wake, rescan;
	struct remote_job	*jobs;
	size_t			 njobs;
	struct busy_dom		*dom;
	size_t			 busy;
	int			 draining;
	int			 first_scan;	/* the scan at start */
	unsigned		 local_left;	/* this turn's local budget */
	int			 control_ok;
} rn;

static void	ino_ready(struct ev *, int, unsigned, void *);
static void	kick(void);
static void	kick_fired(struct timer *, void *);
static void	rescan_fired(struct timer *, void *);
static void	scan_step(void);
static struct qent *ent_find(const char *);
static struct qent *ent_add(const char *, int64_t);
static void	ent_drop(struct qent *);
static void	start_message(struct qent *);
static void	job_done(struct remote_job *);
static void	settle(struct qent *, struct qenv *);
static void	bounce_done(void *, int, const char *);
static int	dom_busy(const char *);
static void	deliver_local(struct qent *, struct qenv *, size_t,
		    int64_t);
static int64_t	retry_delay(unsigned attempts);
static int	valid_id(const char *);
static int	admin_line(const char *, enum envelope_admin, struct err *);
static int	queued(const char *);
static int	idle_target(const char *, struct qent **, char *, size_t);

/* `wren queue` through the control socket. */
static const struct control_ops runner_ops = {
	.flush = runner_flush,
	.retry = runner_retry,
	.delete = runner_delete,
	.bounce = runner_bounce,
};

int
runner_init(struct ev *ev, struct conn_table *out, const struct cfg *cfg,
    struct maps *maps, struct err *e)
{
	char dir[SPOOL_PATH_MAX];
	size_t max = (size_t)cfg_num(cfg, CFG_MAX_DELIVERIES);

	/* rn is zero from the start: no memset, which would make all of
	 * the index resident. */
	rn.ev = ev;
	rn.cfg = cfg;
	rn.maps = maps;
	rn.ino = -1;
	if (fmt(rn.data_dir, sizeof rn.data_dir, "%s",
	    cfg_str(cfg, CFG_DATA_DIR)) >= (int)sizeof rn.data_dir) {
		return err_set(e, "data_dir: path too long");
	}
	{
		char host[CFG_HOST_MAX + 1];

		(void)fmt(rn.hostname, sizeof rn.hostname, "%s",
		    cfg_hostname(cfg, host, sizeof host));
	}
	if (spool_init(rn.data_dir, e) == -1 ||
	    enqueue_init(ev, out, e) == -1 ||
	    remote_init(ev, out, cfg, maps, max, e) == -1) {
		return -1;
	}
	rn.njobs = max;
	rn.jobs = pool_pages(max * sizeof *rn.jobs);
	rn.dom = pool_pages(max * sizeof *rn.dom);
	if (rn.jobs == NULL || rn.dom == NULL) {
		return err_set(e, "queue runner: out of memory");
	}
	timer_init(&rn.kick, kick_fired, NULL);
	timer_init(&rn.wake, kick_fired, NULL);
	timer_init(&rn.rescan, rescan_fired, NULL);
	if (spool_path(dir, sizeof dir, rn.data_dir, "env", "", "") == -1) {
		return err_set(e, "%s: path too long", rn.data_dir);
	}
	rn.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (rn.ino == -1 ||
	    inotify_add_watch(rn.ino, dir, IN_MOVED_TO | IN_CLOSE_WRITE) == -1 ||
	    ev_add_fd(ev, rn.ino, EV_READ, ino_ready, NULL) == -1) {
		return err_set(e, "%s: inotify: %s", dir, strerror(errno));
	}
	if (control_init(ev, rn.data_dir, &runner_ops, e) == -1) {
		return -1;
	}
	rn.control_ok = 1;
	rn.first_scan = 1;
	rescan_fired(&rn.rescan, NULL);
	log_info("queue: runner started, max_deliveries %zu, "
	    "%zu bytes per delivery slot", max, sizeof(struct remote_job) +
	    remote_bytes_per_delivery());
	return 0;
}

void
runner_reload(const struct cfg *cfg)
{
	rn.cfg = cfg;
	{
		char host[CFG_HOST_MAX + 1];

		(void)fmt(rn.hostname, sizeof rn.hostname, "%s",
		    cfg_hostname(cfg, host, sizeof host));
	}
	remote_reload(cfg);
	kick();
}

void
runner_drain(void)
{
	rn.draining = 1;
}

size_t
runner_busy(void)
{
	return rn.busy;
}

void
runner_shutdown(void)
{
	if (rn.ev == NULL) {
		return;
	}
	ev_timer_cancel(rn.ev, &rn.kick);
	ev_timer_cancel(rn.ev, &rn.wake);
	ev_timer_cancel(rn.ev, &rn.rescan);
	if (rn.ino != -1) {
		ev_del_fd(rn.ev, rn.ino);
		close(rn.ino);
	}
	if (rn.scan != NULL) {
		closedir(rn.scan);
	}
	if (rn.control_ok) {
		control_shutdown(rn.ev);
	}
	remote_shutdown();
	enqueue_shutdown();
	pool_pages_free(rn.jobs, rn.njobs * sizeof *rn.jobs);
	pool_pages_free(rn.dom, rn.njobs * sizeof *rn.dom);
	memset(&rn, 0, sizeof rn);
	rn.ino = -1;
}

int
runner_flush(char *msg, size_t cap)
{
	for (size_t i = 0; i < RUNNER_INDEX_MAX; i++) {
		rn.ent[i].next_try = 0;
		rn.ent[i].forced = 1;
	}
	kick();
	(void)fmt(msg, cap, "flushing %zu message%s", rn.nent,
	    rn.nent == 1 ? "" : "s");
	return 0;
}

int
runner_retry(const char *id, char *msg, size_t cap)
{
	struct qent *q;

	if (!valid_id(id)) {
		(void)fmt(msg, cap, "bad queue id");
		return -1;
	}
	if (!queued(id)) {
		(void)fmt(msg, cap, "%s: no such message", id);
		return -1;
	}
	q = ent_find(id);
	if (q == NULL) {
		q = ent_add(id, 0);
		if (q == NULL) {
			(void)fmt(msg, cap, "%s: queue index full", id);
			return -1;
		}
	}
	q->next_try = 0;
	q->forced = 1;
	kick();
	(void)fmt(msg, cap, "%s: retrying", id);
	return 0;
}

int
runner_delete(const char *id, char *msg, size_t cap)
{
	struct qent *q;
	struct err e;

	if (idle_target(id, &q, msg, cap) == -1) {
		return -1;
	}
	if (qenv_remove(rn.data_dir, id, &e) == -1) {
		(void)fmt(msg, cap, "%s", e.msg);
		return -1;
	}
	if (q != NULL) {
		ent_drop(q);
	}
	log_info("queue %s: removed by the administrator", id);
	(void)fmt(msg, cap, "%s: deleted", id);
	return 0;
}

int
runner_bounce(const char *id, char *msg, size_t cap)
{
	struct qent *q;
	struct err e;

	if (idle_target(id, &q, msg, cap) == -1) {
		return -1;
	}
	if (admin_line(id, ENVELOPE_BOUNCE, &e) == -1) {
		(void)fmt(msg, cap, "%s", e.msg);
		return -1;
	}
	if (q == NULL) {
		q = ent_add(id, 0);
	}
	if (q != NULL) {
		q->next_try = 0;
		q->forced = 1;
		kick();
	}
	(void)fmt(msg, cap, "%s: bouncing", id);
	return 0;
}

/* --- the index ----------------------------------------------------- */

static struct qent *
ent_find(const char *id)
{
	for (size_t i = 0; i < RUNNER_INDEX_MAX; i++) {
		if (rn.ent[i].used && strcmp(rn.ent[i].id, id) == 0) {
			return &rn.ent[i];
		}
	}
	return NULL;
}

static struct qent *
ent_add(const char *id, int64_t next_try)
{
	struct qent *q = ent_find(id);

	if (q != NULL) {
		return q;
	}
	for (size_t i = 0; i < RUNNER_INDEX_MAX; i++) {
		if (!rn.ent[i].used) {
			q = &rn.ent[i];
			break;
		}
	}
	if (q == NULL) {
		/* Full: the message waiting longest makes room (it is read
		 * again by a later rescan), so new mail is always tried. */
		int64_t now = (int64_t)time(NULL), latest = now;

		rn.overflow = 1;
		for (size_t i = 0; i < RUNNER_INDEX_MAX; i++) {
			if (rn.ent[i].inflight == 0 &&
			    rn.ent[i].next_try > latest) {
				latest = rn.ent[i].next_try;
				q = &rn.ent[i];
			}
		}
		if (q == NULL) {
			return NULL;
		}
		rn.nent--;
	}
	memset(q, 0, sizeof *q);
	if (fmt(q->id, sizeof q->id, "%s", id) >= (int)sizeof q->id) {
		q->id[0] = '\0';	/* not an id: the slot stays free */
		return NULL;
	}
	q->next_try = next_try;
	q->used = 1;
	rn.nent++;
	return q;
}

static void
ent_drop(struct qent *q)
{
	q->used = 0;
	rn.nent--;
	if (rn.overflow && rn.scan == NULL) {
		ev_timer_in(rn.ev, &rn.rescan, 0);
	}
}

static int
valid_id(const char *id)
{
	return envelope_id_valid(id, strlen(id));
}

/* The message an operator names, when it exists and no delivery of
 * it is running: 0 with *q its index entry (or NULL), else -1 with
 * the reason in msg. */
static int
idle_target(const char *id, struct qent **q, char *msg, size_t cap)
{
	if (!valid_id(id)) {
		(void)fmt(msg, cap, "bad queue id");
		return -1;
	}
	*q = ent_find(id);
	if (*q != NULL && (*q)->inflight > 0) {
		(void)fmt(msg, cap, "%s: delivery in progress, try again", id);
		return -1;
	}
	if (!queued(id)) {
		(void)fmt(msg, cap, "%s: no such message", id);
		return -1;
	}
	return 0;
}

/* 1 when env/<id> exists. */
static int
queued(const char *id)
{
	char path[SPOOL_PATH_MAX];
	struct stat st;

	return spool_path(path, sizeof path, rn.data_dir, "env", id,
	    "") == 0 && stat(path, &st) == 0;
}

/* An operator's request, durable in the envelope. */
static int
admin_line(const char *id, enum envelope_admin verb, struct err *e)
{
	char line[64];
	int n;

	n = envelope_format_admin(line, sizeof line, verb,
	    (int64_t)time(NULL));
	if (n <= 0) {
		return err_set(e, "%s: cannot record the request", id);
	}
	return spool_append(rn.data_dir, id, line, (size_t)n, e);
}

/* --- events ---------------------------------------------------------- */

static void
ino_ready(struct ev *ev, int fd, unsigned what, void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)ev;
	(void)what;
	(void)arg;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ie = (struct inotify_event *)p;

			if (ie->mask & IN_Q_OVERFLOW) {
				ev_timer_in(rn.ev, &rn.rescan, 0);
			} else if (ie->len > 0 && valid_id(ie->name)) {
				if (ent_add(ie->name, 0) != NULL) {
					kick();
				}
			}
			p += sizeof *ie + ie->len;
		}
	}
}

static void
kick(void)
{
	ev_timer_in(rn.ev, &rn.kick, 0);
}

static void
rescan_fired(struct timer *t, void *arg)
{
	char dir[SPOOL_PATH_MAX];

	(void)t;
	(void)arg;
	if (rn.scan == NULL) {
		if (spool_path(dir, sizeof dir, rn.data_dir, "env", "",
		    "") == -1 || (rn.scan = opendir(dir)) == NULL) {
			log_warn("queue: %s", dir);
			ev_timer_in(rn.ev, &rn.rescan, RUNNER_RESCAN_S * 1000);
			return;
		}
		rn.overflow = 0;
	}
	kick();
}

/* Reads a bounded number of names from the queue directory. */
static void
scan_step(void)
{
	struct dirent *d;
	int n = 0;

	while (rn.scan != NULL && n++ < RUNNER_SCAN_MAX) {
		d = readdir(rn.scan);
		if (d == NULL) {
			closedir(rn.scan);
			rn.scan = NULL;
			rn.first_scan = 0;
			ev_timer_in(rn.ev, &rn.rescan, RUNNER_RESCAN_S * 1000);
			break;
		}
		if (valid_id(d->d_name) && ent_find(d->d_name) == NULL) {
			/* Known from an earlier run: its own state says
			 * when (start_message looks), except that a server
			 * that starts tries everything once: it may have
			 * been down because the network was. */
			struct qent *q = ent_add(d->d_name, 0);

			if (q != NULL && rn.first_scan) {
				q->forced = 1;
			}
		}
	}
}

static void
kick_fired(struct timer *t, void *arg)
{
	int64_t now = (int64_t)time(NULL), next = INT64_MAX;
	int started = 0;

	(void)t;
	(void)arg;
	rn.local_left = RUNNER_LOCAL_MAX;
	scan_step();
	for (size_t i = 0; i < RUNNER_INDEX_MAX; i++) {
		struct qent *q = &rn.ent[i];

		if (!q->used || q->inflight > 0) {
			continue;
		}
		if (q->next_try <= now && !rn.draining &&
		    started < RUNNER_STEP_MAX) {
			started++;
			start_message(q);
			if (!q->used || q->inflight > 0) {
				continue;
			}
		}
		if (q->used && q->inflight == 0 && q->next_try < next) {
			next = q->next_try;
		}
	}
	if (rn.scan != NULL || started >= RUNNER_STEP_MAX) {
		kick();
		return;
	}
	if (next != INT64_MAX && !rn.draining) {
		int64_t ms = (next - now) * 1000;

		ev_timer_in(rn.ev, &rn.wake, ms < 0 ? 0 : (uint64_t)ms);
	}
}

/* --- one message ----------------------------------------------------- */

/*
 * Reads the envelope, delivers local recipients at once, and starts one
 * remote job per destination (as far as the limits allow); what could
 * not start waits RUNNER_BUSY_RETRY_S.
 */
static void
start_message(struct qent *q)
{
	struct qenv *qe = &qe_one;
	int64_t now = (int64_t)time(NULL);
	const char *relay = cfg_str(rn.cfg, CFG_RELAYHOST);
	struct err e;
	int blocked = 0, local_later = 0;
	uint8_t forced;

	switch (qenv_load(rn.data_dir, q->id, qe, &e)) {
	case 0:
		ent_drop(q);	/* delivered or deleted meanwhile */
		return;
	case -1:
		log_warnx("queue %s: %s", q->id, e.msg);
		q->next_try = now + RUNNER_RESCAN_S;
		return;
	case -2:
		log_errorx("queue %s: %s; moved to queue/corrupt/", q->id,
		    e.msg);
		if (qenv_set_aside(rn.data_dir, q->id, &e) == -1) {
			log_warnx("queue %s: %s", q->id, e.msg);
			q->next_try = now + RUNNER_RESCAN_S;
			return;
		}
		ent_drop(q);
		return;
	}
	if (qe->env.hold) {
		q->next_try = INT64_MAX;
		return;
	}
	if (!q->forced && qenv_pending(qe) > 0 &&
	    qenv_next_try(qe) > now) {
		q->next_try = qenv_next_try(qe);
		return;
	}
	forced = q->forced;
	q->forced = 0;
	if (qe->env.bounce_at != 0 ||
	    now - qe->env.arrival > cfg_num(rn.cfg, CFG_QUEUE_LIFETIME)) {
		/* Too old, or returned by the administrator: what is
		 * still pending fails now (RFC 3463 4.4.7, as Postfix's
		 * "message expired"). */
		for (size_t i = 0; i < qe->env.nrcpt; i++) {
			const struct envelope_rcpt *r = &qe->env.rcpt[i];
			char why[ENVELOPE_TEXT_MAX + 1];

			if (!qenv_is_pending(qe, i)) {
				continue;
			}
			if (qe->env.bounce_at != 0) {
				(void)fmt(why, sizeof why,
				    "returned to sender by the postmaster");
			} else {
				(void)fmt(why, sizeof why,
				    "delivery time expired%s%s",
				    r->text[0] != '\0' ? ": " : "", r->text);
			}
			qenv_result(qe, i, ENVELOPE_FAILED, 0,
			    qe->env.bounce_at != 0 ? "5.0.0" : "4.4.7",
			    r->mta, why);
			log_info("queue %s: to=<%s>, status=expired (%s)",
			    q->id, r->addr, why);
		}
		if (qenv_commit(rn.data_dir, qe, &e) == -1) {
			log_warnx("queue %s: %s", q->id, e.msg);
		}
		settle(q, qe);
		return;
	}
	for (size_t i = 0; i < qe->env.nrcpt; i++) {
		struct remote_job *j = NULL;
		const char *dom;

		if (!qenv_is_pending(qe, i) || qe->claimed[i]) {
			continue;
		}
		dom = strrchr(qe->env.rcpt[i].addr, '@');
		dom = dom != NULL ? dom + 1 : "";
		if (*dom == '\0' || resolve_is_local_domain(rn.cfg, dom,
		    strlen(dom))) {
			if (rn.local_left == 0) {
				local_later = 1;	/* next turn */
				continue;
			}
			rn.local_left--;
			deliver_local(q, qe, i, now);
			continue;
		}
		if (rn.draining) {
			continue;
		}
		if (*relay != '\0') {
			dom = relay;
		}
		if (rn.busy >= rn.njobs || dom_busy(dom) >=
		    cfg_num(rn.cfg, CFG_MAX_DELIVERIES_PER_DOMAIN)) {
			blocked = 1;
			continue;
		}
		for (size_t k = 0; k < rn.njobs; k++) {
			if (rn.jobs[k].done == NULL) {
				j = &rn.jobs[k];
				break;
			}
		}
		if (j == NULL) {
			blocked = 1;
			continue;
		}
		qenv_job(qe, i, dom, *relay != '\0', rn.data_dir, j);
		j->done = job_done;
		j->arg = q;
		if (remote_start(j) == -1) {
			qenv_unclaim(qe, j);
			j->done = NULL;
			blocked = 1;
			continue;
		}
		(void)fmt(rn.dom[j - rn.jobs].name, sizeof rn.dom[0].name,
		    "%s", dom);
		rn.busy++;
		q->inflight++;
	}
	if (qenv_commit(rn.data_dir, qe, &e) == -1) {
		log_warnx("queue %s: %s", q->id, e.msg);
	}
	if (q->inflight == 0 && !local_later) {
		settle(q, qe);
	}
	if (q->used && q->inflight == 0 && local_later) {
		q->next_try = now;
		q->forced = 1;
		kick();
	} else if (q->used && q->inflight == 0 && blocked) {
		q->next_try = now + RUNNER_BUSY_RETRY_S;
		q->blocked = 1;
		q->forced = forced;	/* a flush reaches it all the same */
	}
}

/* A local recipient: resolved now (aliases may point elsewhere). */
static void
deliver_local(struct qent *q, struct qenv *qe, size_t i, int64_t now)
{
	static struct resolve_result res;
	struct resolver rv = {
		.cfg = rn.cfg,
		.users = &rn.maps->m[MAP_USERS],
		.aliases = &rn.maps->m[MAP_ALIASES],
		.virtual = &rn.maps->m[MAP_VIRTUAL],
	};
	const struct envelope_rcpt *r = &qe->env.rcpt[i];
	int64_t later = now + retry_delay(r->attempts + 1);
	char path[SPOOL_PATH_MAX];
	struct err e;
	int fd, temp = 0;

	resolve(&rv, r->addr, strlen(r->addr), &res);
	if (res.status == RESOLVE_TEMPFAIL) {
		qenv_result(qe, i, ENVELOPE_DEFERRED, later, "4.3.0", "local",
		    "temporary lookup failure");
		log_info("queue %s: to=<%s>, relay=local, status=deferred "
		    "(temporary lookup failure)", q->id, r->addr);
		return;
	}
	if (res.status != RESOLVE_OK) {
		qenv_result(qe, i, ENVELOPE_FAILED, 0,
		    res.status == RESOLVE_LOOP ? "5.4.6" : "5.1.1", "local",
		    res.status == RESOLVE_LOOP ? "mail forwarding loop" :
		    "unknown user");
		log_info("queue %s: to=<%s>, relay=local, status=bounced "
		    "(%s)", q->id, r->addr, resolve_status_name(res.status));
		return;
	}
	if (spool_path(path, sizeof path, rn.data_dir, "msg", q->id,
	    "") == -1 || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("queue %s: %s", q->id, path);
		qenv_result(qe, i, ENVELOPE_DEFERRED, later, "4.3.0", "local",
		    "queue file unreadable");
		return;
	}
	for (size_t k = 0; k < res.n; k++) {
		const struct resolve_target *t = &res.t[k];

		if (t->kind == RESOLVE_REMOTE) {
			/* An alias pointing out: a copy of the message
			 * goes back into the queue for it. */
			if (local_forward(rn.data_dir, &qe->env, fd, t->addr,
			    &e) == -1) {
				log_warnx("queue %s: to=<%s>: %s", q->id,
				    t->addr, e.msg);
				temp = 1;
			}
			continue;
		}
		if (local_deliver(t, qe->env.sender, rn.hostname, fd,
		    &e) == -1) {
			const char *to = t->dest != NULL ? t->dest : t->addr;
			struct err e2;

			log_warnx("queue %s: to=<%s>, relay=local, "
			    "status=deferred (%s)", q->id, to, e.msg);
			/* This target alone is tried again, as a message
			 * of its own: the targets that took it must not
			 * get it twice. */
			if (local_forward(rn.data_dir, &qe->env, fd, to,
			    &e2) == -1) {
				log_warnx("queue %s: to=<%s>: %s", q->id, to,
				    e2.msg);
				temp = 1;
			}
			continue;
		}
		log_info("queue %s: to=<%s>, orig_to=<%s>, relay=local, "
		    "delay=%lld, status=sent (delivered to maildir)", q->id,
		    t->dest != NULL ? t->dest : t->addr, r->addr,
		    (long long)(now - qe->env.arrival));
	}
	close(fd);
	if (temp) {
		qenv_result(qe, i, ENVELOPE_DEFERRED, later, "4.3.0", "local",
		    "local delivery failed");
		return;
	}
	qenv_result(qe, i, ENVELOPE_SENT, 0, "2.0.0", "local",
	    "delivered to maildir");
}

static void
job_done(struct remote_job *j)
{
	struct qent *q = j->arg;
	struct qenv *qe = &qe_one;
	struct err e;

	rn.dom[j - rn.jobs].name[0] = '\0';
	rn.busy--;
	q->inflight--;
	j->done = NULL;
	/* A slot is free: what waited for one is due now. */
	for (size_t i = 0; i < RUNNER_INDEX_MAX; i++) {
		if (rn.ent[i].used && rn.ent[i].blocked) {
			rn.ent[i].blocked = 0;
			rn.ent[i].next_try = 0;
		}
	}
	if (qenv_load(rn.data_dir, q->id, qe, &e) == 1) {
		int64_t at = (int64_t)time(NULL) +
		    retry_delay(qenv_attempts(qe) + 1);

		qenv_results(qe, j, at);
		if (q->inflight == 0 && qenv_all_sent(qe)) {
			/* Removed next: recording "sent" first would cost
			 * a synced write per message for nothing (after a
			 * crash either way the files say what is left). */
			qenv_discard(qe);
		} else if (qenv_commit(rn.data_dir, qe, &e) == -1) {
			log_warnx("queue %s: %s", q->id, e.msg);
		}
		if (q->inflight == 0) {
			settle(q, qe);
		}
	} else {
		log_warnx("queue %s: envelope gone during delivery", q->id);
		if (q->inflight == 0) {
			ent_drop(q);
		}
	}
	kick();
}

/*
 * After an attempt: failed recipients not yet reported get one bounce;
 * a message with nothing pending is removed; otherwise it waits for
 * its next attempt.
 */
static void
settle(struct qent *q, struct qenv *qe)
{
	struct err e;

	switch (qenv_bounce_start(rn.data_dir, rn.hostname, qe, bounce_done,
	    q, &e)) {
	case 1:
		q->inflight++;		/* bounce_done settles again */
		return;
	case -1:
		/* Failed recipients stay unreported: the message stays
		 * until their bounce is queued, for a few tries. */
		log_warnx("queue %s: bounce: %s", q->id, e.msg);
		if (++q->bounce_fails < RUNNER_BOUNCE_TRIES) {
			q->next_try = (int64_t)time(NULL) + RUNNER_RESCAN_S;
			return;
		}
		if (qenv_bounce_give_up(rn.data_dir, qe, &e) == -1) {
			log_warnx("queue %s: %s", q->id, e.msg);
			q->next_try = (int64_t)time(NULL) + RUNNER_RESCAN_S;
			return;
		}
		break;
	}
	if (qenv_pending(qe) == 0) {
		if (qenv_remove(rn.data_dir, q->id, &e) == -1) {
			log_warnx("queue %s: %s", q->id, e.msg);
		} else {
			log_info("queue %s: removed", q->id);
		}
		ent_drop(q);
		return;
	}
	q->next_try = qenv_next_try(qe);
}

/* The bounce is durable in the queue (err 0), or was not queued. */
static void
bounce_done(void *arg, int err, const char *id)
{
	struct qent *q = arg;
	struct qenv *qe = &qe_one;
	struct err e;

	q->inflight--;
	if (err != 0) {
		log_warnx("queue %s: bounce %s not queued: %s", q->id, id,
		    strerror(err));
		q->bounce_fails++;
		q->next_try = (int64_t)time(NULL) + RUNNER_RESCAN_S;
	} else {
		switch (qenv_load(rn.data_dir, q->id, qe, &e)) {
		case 1:
			if (qenv_bounce_done(rn.data_dir, qe, id, &e) == 0) {
				settle(q, qe);
				break;
			}
			/* FALLTHROUGH */
		case -1:
			log_warnx("queue %s: %s", q->id, e.msg);
			q->next_try = (int64_t)time(NULL) + RUNNER_RESCAN_S;
			break;
		default:
			if (q->inflight == 0) {
				ent_drop(q);
			}
			break;
		}
	}
	kick();
}

/* retry_schedule's delay after the given number of attempts: the
 * n-th word, the last one repeating (the config checked the words). */
static int64_t
retry_delay(unsigned attempts)
{
	const char *p = cfg_str(rn.cfg, CFG_RETRY_SCHEDULE);
	int64_t secs = 300;
	unsigned k = 0;

	while (*p != '\0') {
		size_t len;
		int64_t v;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len == 0) {
			break;
		}
		if (cfg_parse_secs(p, len, &v) == 0) {
			secs = v;
		}
		p += len;
		if (++k >= attempts) {
			break;
		}
	}
	return secs;
}

static int
dom_busy(const char *dom)
{
	unsigned n = 0;

	for (size_t k = 0; k < rn.njobs; k++) {
		if (rn.jobs[k].done != NULL &&
		    strcasecmp(rn.dom[k].name, dom) == 0) {
			n++;
		}
	}
	return (int)n;
}
