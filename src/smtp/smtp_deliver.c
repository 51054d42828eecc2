/*
 * smtp_deliver.c - where a message goes while it arrives, and the group
 * commit that makes it durable before its 250.
 *
 * While DATA streams in, the body goes to ONE file, the "primary": the
 * first mailbox's tmp/ file (or the queue file when every recipient is
 * remote), after that file's own header lines. Memory never holds more
 * than a buffer of it.
 *
 * When the message is complete, the session joins the commit list. A
 * commit round runs before the loop next sleeps -- as soon as no other
 * session is in the middle of a transaction, or once the oldest
 * message has waited SMTP_COMMIT_LINGER_MS -- and covers every message
 * complete by then: the group commit. Each round costs one syncfs per
 * file system, whatever the number of messages in it:
 *
 *   A  each new message's other files: the other mailboxes' copies
 *      (their header + the body copied in the kernel from the primary),
 *      the queue copy and its envelope
 *   B  syncfs: this round's file data, and the previous round's
 *      renames, are on disk
 *   E  the previous round's messages get their 250
 *   C  this round's files are renamed into new/ (Maildir) and msg/,
 *      env/ (queue); they get their 250 after the next round's sync
 *
 * A file is renamed only once its data is durable, and acknowledged
 * only once the rename is, so after a crash new/ holds no partial file
 * and every acknowledged message. syncfs also flushes whatever else is
 * dirty on that file system: on a mail server's data disk that is
 * mostly mail anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* rename */
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "msg/date.h"
#include "smtp/smtp_int.h"
#include "tls/tls.h"

#define PREFIX_MAX	(3 * ADDR_MAX + SMTP_HELO_MAX + CFG_HOST_MAX + 256)
#define DIRS_MAX	64	/* distinct new/ dirs fsync'd per batch */
/* How long a complete message may wait for others to join its commit
 * while other sessions are still mid-transaction. */
#define SMTP_COMMIT_LINGER_MS	2

static size_t	prefix(const struct smtp_session *, int, char *, size_t,
		    uint64_t *);
static int	target_path(const struct smtp_session *, int, const char *,
		    char *, size_t);
static int	make_secondary(struct smtp_session *, int);
static int	sync_dirs(char (*)[MAILDIR_PATH_MAX], size_t,
		    struct smtp_session *, struct smtp_session *);
static void	arm_fallback(void);
static void	prepare(struct smtp_session *);
static void	place(struct smtp_session *);
static void	finish(struct smtp_session *);
static void	note_final_dirs(const struct smtp_session *,
		    char (*)[MAILDIR_PATH_MAX], size_t *);
static void	commit_async(void);
static void	round_fsync(struct commit_round *, uint32_t, const char *,
		    int);
static void	uring_ready(struct ev *, int, unsigned, void *);
static void	round_done(void *, uint64_t, int);
static void	round_advance(struct commit_round *);
static void	round_forget(struct smtp_session *);
static int	file_exists(const struct smtp_session *, int);
static int	queue_envelope(struct smtp_session *, struct err *);
static void	unlink_all(struct smtp_session *, int);
static void	dir_note(char (*)[MAILDIR_PATH_MAX], size_t *, const char *);

int
smtp_deliver_begin(struct smtp_session *s)
{
	char path[MAILDIR_PATH_MAX], hdr[PREFIX_MAX];
	struct err e;
	size_t n;
	int i;

	spool_new_id(s->id, sizeof s->id);
	maildir_unique(s->base, sizeof s->base, smtp.hostname);
	msg_date(s->date, sizeof s->date, time(NULL));
	s->primary = -1;
	for (i = 0; i < (int)s->ntargets; i++) {
		if (s->t[i].kind == SMTP_T_LOCAL) {
			s->primary = i;
			break;
		}
	}
	if (s->primary >= 0) {
		if (maildir_ensure(smtp_str(s, s->t[i].home), &e) == -1) {
			log_warnx("smtp %08x: %s", s->c->id, e.msg);
			return -1;
		}
	}
	if (target_path(s, s->primary, "tmp", path, sizeof path) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	s->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (s->fd == -1) {
		log_warn("smtp %08x: %s", s->c->id, path);
		return -1;
	}
	s->files_open = 1;
	s->write_errno = 0;
	n = prefix(s, s->primary, hdr, sizeof hdr, NULL);
	s->prefix_len = n;
	return smtp_deliver_write(s, hdr, n);
}

int
smtp_deliver_write(struct smtp_session *s, const char *p, size_t n)
{
	if (s->write_errno != 0 || n == 0) {
		return s->write_errno ? -1 : 0;
	}
	if (store_write_all(s->fd, p, n) == -1) {
		s->write_errno = errno;
		return -1;
	}
	return 0;
}

void
smtp_deliver_abort(struct smtp_session *s)
{
	if (!s->files_open) {
		return;
	}
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	unlink_all(s, 0);
	s->files_open = 0;
}

void
smtp_deliver_queue(struct smtp_session *s)
{
	if (smtp.commit_head == NULL && smtp.synced_head == NULL) {
		smtp.commit_first = ev_now(smtp.ev);
	}
	s->next_commit = NULL;
	*smtp.commit_tail = s;
	smtp.commit_tail = &s->next_commit;
	arm_fallback();
}

/*
 * Before the loop sleeps: run a commit round now if no other session is
 * in the middle of a transaction (nobody could join the round soon), or
 * if the oldest waiting message has lingered long enough. Sessions that
 * are still sending join the next round instead of paying for their own
 * sync.
 */
void
smtp_commit_maybe(void *arg)
{
	(void)arg;
	if (smtp.uring.fd != -1) {
		commit_async();	/* costs the loop nothing: no linger */
		return;
	}
	if ((smtp.commit_head != NULL || smtp.synced_head != NULL) &&
	    (smtp.busy == 0 || ev_clock_ms() >= smtp.commit_first +
	    SMTP_COMMIT_LINGER_MS)) {
		smtp_commit_run(&smtp.commit_timer, NULL);
	}
}

void
smtp_deliver_cancel(struct smtp_session *s)
{
	if (s->round >= 0) {
		round_forget(s);
		smtp_deliver_abort(s);
		return;
	}
	struct smtp_session **lists[2] = { &smtp.commit_head,
	    &smtp.synced_head };

	for (int l = 0; l < 2; l++) {
		struct smtp_session **pp;

		for (pp = lists[l]; *pp != NULL; pp = &(*pp)->next_commit) {
			if (*pp != s) {
				continue;
			}
			*pp = s->next_commit;
			if (l == 0 && smtp.commit_tail == &s->next_commit) {
				smtp.commit_tail = pp;
			}
			if (l == 1) {
				/* Renamed but not yet acknowledged: the
				 * client will send it again. */
				unlink_all(s, 1);
				s->files_open = 0;
			}
			break;
		}
	}
	smtp_deliver_abort(s);
}

/*
 * One commit round. Rounds overlap by one step, so each round needs a
 * single sync:
 *
 *   round k:  A   new messages' files written (batch k)
 *             B   syncfs: batch k's data, and batch k-1's renames
 *             E   batch k-1 is durable: its 250s
 *             C   batch k renamed into new/ and the queue (its data is
 *                 durable), waiting for round k+1's sync
 *
 * When no new message comes, the next round runs with an empty batch,
 * only to make the last renames durable.
 */
void
smtp_commit_run(struct timer *t, void *arg)
{
	static char dirs[DIRS_MAX][MAILDIR_PATH_MAX];
	char path[MAILDIR_PATH_MAX];
	struct smtp_session *batch, *synced, *s, *next;
	size_t ndirs = 0, nmsg = 0;

	(void)t;
	(void)arg;
	ev_timer_cancel(smtp.ev, &smtp.commit_timer);
	if (smtp.uring.fd != -1) {
		commit_async();
		return;
	}
	batch = smtp.commit_head;
	synced = smtp.synced_head;
	if (batch == NULL && synced == NULL) {
		return;
	}
	smtp.commit_head = NULL;
	smtp.commit_tail = &smtp.commit_head;
	smtp.synced_head = NULL;
	smtp.commit_first = ev_now(smtp.ev);
	/* A: every file of every new message written. */
	for (s = batch; s != NULL; s = s->next_commit) {
		nmsg++;
		prepare(s);
		for (int i = -1; i < (int)s->ntargets && !s->commit_err;
		    i++) {
			if (file_exists(s, i) &&
			    target_path(s, i, "tmp", path, sizeof path) == 0) {
				dir_note(dirs, &ndirs, path);
			}
		}
	}
	/* The directories the previous round renamed into. */
	for (s = synced; s != NULL; s = s->next_commit) {
		note_final_dirs(s, dirs, &ndirs);
	}
	/* B: one sync per file system for all of it. */
	if (sync_dirs(dirs, ndirs, batch, synced) == -1) {
		log_warn("smtp: syncing the mail file system");
	}
	/* E: the previous round's messages are durable now. */
	for (s = synced; s != NULL; s = next) {
		next = s->next_commit;
		finish(s);
	}
	/* C: this round's into new/ and the queue; acknowledged after the
	 * next round's sync. */
	for (s = batch; s != NULL; s = next) {
		next = s->next_commit;
		place(s);
		if (s->commit_err) {
			finish(s);
			continue;
		}
		s->next_commit = smtp.synced_head;
		smtp.synced_head = s;
	}
	if (smtp.synced_head != NULL || smtp.commit_head != NULL) {
		arm_fallback();
	}
	smtp.batches++;
	smtp.commits += nmsg;
	log_debug("smtp: commit round: %zu new, %zu director%s synced", nmsg,
	    ndirs, ndirs == 1 ? "y" : "ies");
}

/* A: the message's other files, after its primary is complete. */
static void
prepare(struct smtp_session *s)
{
	struct err e;

	s->commit_err = s->write_errno;
	if (close(s->fd) == -1 && s->commit_err == 0) {
		s->commit_err = errno;
	}
	s->fd = -1;
	for (int i = 0; i < (int)s->ntargets && !s->commit_err; i++) {
		if (i != s->primary && s->t[i].kind == SMTP_T_LOCAL &&
		    !s->t[i].dropped) {
			s->commit_err = make_secondary(s, i) == -1 ? errno : 0;
		}
	}
	if (!s->commit_err && s->primary >= 0 && s->nremote > 0) {
		s->commit_err = make_secondary(s, -1) == -1 ? errno : 0;
	}
	if (!s->commit_err && s->nremote > 0 && queue_envelope(s, &e) == -1) {
		log_warnx("smtp %08x: %s", s->c->id, e.msg);
		s->commit_err = EIO;
	}
}

/* C: renames into new/ and the queue (data already durable). */
static void
place(struct smtp_session *s)
{
	char path[MAILDIR_PATH_MAX], to[MAILDIR_PATH_MAX];
	struct err e;

	for (int i = 0; i < (int)s->ntargets && !s->commit_err; i++) {
		if (s->t[i].kind != SMTP_T_LOCAL || s->t[i].dropped) {
			continue;
		}
		if (target_path(s, i, "tmp", path, sizeof path) == -1 ||
		    target_path(s, i, "new", to, sizeof to) == -1 ||
		    rename(path, to) == -1) {
			s->commit_err = errno;
		}
	}
	if (!s->commit_err && s->nremote > 0 && spool_commit(
	    cfg_str(smtp.cfg, CFG_DATA_DIR), s->id, &e) == -1) {
		log_warnx("smtp %08x: %s", s->c->id, e.msg);
		s->commit_err = EIO;
	}
	if (!s->commit_err && s->primary >= 0 && s->t[s->primary].dropped &&
	    target_path(s, s->primary, "tmp", path, sizeof path) == 0) {
		(void)unlink(path);	/* only the body source */
	}
}

/* E: the reply; a failed message leaves no file behind. */
static void
finish(struct smtp_session *s)
{
	if (s->commit_err) {
		unlink_all(s, 1);
	}
	s->files_open = 0;
	s->round = -1;
	smtp_committed(s, s->commit_err);
}

/* The directories a placed message's names live in. */
static void
note_final_dirs(const struct smtp_session *s, char (*dirs)[MAILDIR_PATH_MAX],
    size_t *ndirs)
{
	char to[MAILDIR_PATH_MAX];

	for (int i = 0; i < (int)s->ntargets; i++) {
		if (s->t[i].kind == SMTP_T_LOCAL && !s->t[i].dropped &&
		    target_path(s, i, "new", to, sizeof to) == 0) {
			dir_note(dirs, ndirs, to);
		}
	}
	if (s->nremote > 0) {
		fmt(to, sizeof to, "%s/queue/msg/x",
		    cfg_str(smtp.cfg, CFG_DATA_DIR));
		dir_note(dirs, ndirs, to);
		fmt(to, sizeof to, "%s/queue/env/x",
		    cfg_str(smtp.cfg, CFG_DATA_DIR));
		dir_note(dirs, ndirs, to);
	}
}

/*
 * With io_uring the loop never waits for the disk. A round takes the
 * messages complete so far, queues an fdatasync of each of their files
 * and returns; the kernel runs the fsyncs on its workers, together, and
 * reports through the ring's eventfd. When a round's data is on disk
 * its files are renamed into place and their directories fsync'd the
 * same way; then the 250s. Several rounds may be in flight, each
 * holding at most ROUND_FDS_MAX open files.
 */
static void
commit_async(void)
{
	struct commit_round *r = NULL;
	struct smtp_session *s;
	char path[MAILDIR_PATH_MAX];
	uint32_t idx = 0;

	if (smtp.commit_head == NULL) {
		return;
	}
	for (idx = 0; idx < ROUNDS_MAX; idx++) {
		if (smtp.rounds[idx].stage == ROUND_FREE) {
			r = &smtp.rounds[idx];
			break;
		}
	}
	if (r == NULL) {
		arm_fallback();		/* every round busy: later */
		return;
	}
	r->head = NULL;
	r->err = 0;
	r->nfds = 0;
	r->pending = 0;
	r->stage = ROUND_DATA;
	while ((s = smtp.commit_head) != NULL) {
		unsigned need = 1;	/* the envelope */

		for (int i = -1; i < (int)s->ntargets; i++) {
			need += (unsigned)file_exists(s, i);
		}
		if (r->nfds + need > ROUND_FDS_MAX && r->head != NULL) {
			break;		/* the next round takes it */
		}
		smtp.commit_head = s->next_commit;
		if (smtp.commit_head == NULL) {
			smtp.commit_tail = &smtp.commit_head;
		}
		smtp.commits++;
		prepare(s);
		if (s->commit_err) {
			finish(s);
			continue;
		}
		s->round = (int)idx;
		s->next_commit = r->head;
		r->head = s;
		for (int i = -1; i < (int)s->ntargets; i++) {
			if (file_exists(s, i) &&
			    target_path(s, i, "tmp", path, sizeof path) == 0) {
				round_fsync(r, idx, path, 1);
			}
		}
		if (s->nremote > 0 && spool_path(path, sizeof path,
		    cfg_str(smtp.cfg, CFG_DATA_DIR), "tmp", s->id,
		    ".env") == 0) {
			round_fsync(r, idx, path, 1);
		}
	}
	if (smtp.commit_head != NULL) {
		arm_fallback();
	}
	smtp.batches++;
	if (uring_submit(&smtp.uring) == -1) {
		log_warn("smtp: io_uring submit");
	}
	if (r->head == NULL) {
		r->stage = ROUND_FREE;
	} else if (r->pending == 0) {
		round_advance(r);
	}
}

/* Opens path and queues its fsync in round r (or syncs it now when the
 * ring is full or the file cannot be opened). */
static void
round_fsync(struct commit_round *r, uint32_t idx, const char *path,
    int datasync)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		r->err = errno;
		return;
	}
	if (r->nfds < ROUND_FDS_MAX && uring_fsync(&smtp.uring, fd, datasync,
	    (uint64_t)idx << 32 | r->gen) == 0) {
		r->fds[r->nfds++] = fd;
		r->pending++;
		return;
	}
	if ((datasync ? fdatasync(fd) : fsync(fd)) == -1) {
		r->err = errno;
	}
	close(fd);
}

/* The ring's eventfd: completions. */
static void
uring_ready(struct ev *ev, int fd, unsigned what, void *arg)
{
	(void)ev;
	(void)fd;
	(void)what;
	(void)arg;
	uring_reap(&smtp.uring, round_done, NULL);
	if (smtp.uring.queued > 0 && uring_submit(&smtp.uring) == -1) {
		log_warn("smtp: io_uring submit");
	}
}

static void
round_done(void *arg, uint64_t tag, int res)
{
	uint32_t idx = (uint32_t)(tag >> 32);
	struct commit_round *r;

	(void)arg;
	if (idx >= ROUNDS_MAX) {
		return;
	}
	r = &smtp.rounds[idx];
	if (r->gen != (uint32_t)tag || r->stage == ROUND_FREE) {
		return;		/* a round that was given up */
	}
	if (res < 0 && r->err == 0) {
		r->err = -res;
	}
	if (--r->pending == 0) {
		round_advance(r);
	}
}

/* Every fsync of the round's current stage is done. */
static void
round_advance(struct commit_round *r)
{
	static char dirs[DIRS_MAX][MAILDIR_PATH_MAX];
	uint32_t idx = (uint32_t)(r - smtp.rounds);
	struct smtp_session *s, *next, *kept = NULL;
	size_t ndirs = 0;

	for (unsigned i = 0; i < r->nfds; i++) {
		close(r->fds[i]);
	}
	r->nfds = 0;
	if (r->stage == ROUND_DATA) {
		for (s = r->head; s != NULL; s = next) {
			next = s->next_commit;
			if (r->err && !s->commit_err) {
				s->commit_err = r->err;
			}
			place(s);
			if (s->commit_err) {
				finish(s);
				continue;
			}
			note_final_dirs(s, dirs, &ndirs);
			s->next_commit = kept;
			kept = s;
		}
		r->head = kept;
		r->stage = ROUND_DIRS;
		for (size_t i = 0; i < ndirs; i++) {
			round_fsync(r, idx, dirs[i], 0);
		}
		if (uring_submit(&smtp.uring) == -1) {
			log_warn("smtp: io_uring submit");
		}
		if (r->pending > 0) {
			return;
		}
	}
	for (s = r->head; s != NULL; s = next) {
		next = s->next_commit;
		if (r->err && !s->commit_err) {
			s->commit_err = r->err;
		}
		finish(s);
	}
	r->head = NULL;
	r->stage = ROUND_FREE;
	r->gen++;
}

/* A session of round idx goes away before its reply. */
static void
round_forget(struct smtp_session *s)
{
	struct commit_round *r = &smtp.rounds[s->round];
	struct smtp_session **pp;

	for (pp = &r->head; *pp != NULL; pp = &(*pp)->next_commit) {
		if (*pp == s) {
			*pp = s->next_commit;
			break;
		}
	}
	unlink_all(s, 1);
	s->files_open = 0;
	s->round = -1;
}

int
smtp_commit_init(struct err *e)
{
	struct err why;

	for (int i = 0; i < ROUNDS_MAX; i++) {
		smtp.rounds[i].stage = ROUND_FREE;
	}
	if (uring_init(&smtp.uring, ROUNDS_MAX * ROUND_FDS_MAX, &why) == -1) {
		log_info("smtp: %s; committing with syncfs in the loop",
		    why.msg);
		return 0;
	}
	if (ev_add_fd(smtp.ev, smtp.uring.efd, EV_READ, uring_ready,
	    NULL) == -1) {
		uring_destroy(&smtp.uring);
		return err_set(e, "smtp: cannot watch the io_uring eventfd");
	}
	log_info("smtp: committing with io_uring");
	return 0;
}

void
smtp_commit_shutdown(void)
{
	if (smtp.uring.fd != -1) {
		ev_del_fd(smtp.ev, smtp.uring.efd);
		uring_destroy(&smtp.uring);
	}
}

/* The latest a round may wait; usually it runs sooner, from
 * smtp_commit_maybe. */
static void
arm_fallback(void)
{
	if (!timer_armed(&smtp.commit_timer) &&
	    ev_timer_in(smtp.ev, &smtp.commit_timer,
	    SMTP_COMMIT_LINGER_MS) == -1) {
		log_errorx("smtp: no timer for the commit; committing now");
		smtp_commit_run(&smtp.commit_timer, NULL);
	}
}

/* 1 when target i (-1: the queue copy) has a file of its own. */
static int
file_exists(const struct smtp_session *s, int i)
{
	if (i < 0) {
		return s->nremote > 0;
	}
	return s->t[i].kind == SMTP_T_LOCAL && (!s->t[i].dropped ||
	    i == s->primary);
}

/* The queue envelope of a message with remote recipients, in the
 * queue's tmp/ (synced with the files, renamed after them). */
static int
queue_envelope(struct smtp_session *s, struct err *e)
{
	struct spool_rcpt r[SMTP_TARGETS_MAX];
	char client[SMTP_HELO_MAX + 64], hdr[PREFIX_MAX];
	struct spool_env env;
	size_t nr = 0;

	for (size_t i = 0; i < s->ntargets; i++) {
		if (s->t[i].kind != SMTP_T_REMOTE) {
			continue;
		}
		r[nr].addr = smtp_str(s, s->t[i].addr);
		r[nr].notify = s->t[i].notify;
		r[nr].orcpt = smtp_str(s, s->t[i].orcpt);
		nr++;
	}
	fmt(client, sizeof client, "%s [%s]", s->helo, s->ip);
	memset(&env, 0, sizeof env);
	env.id = s->id;
	env.arrival = (int64_t)time(NULL);
	env.sender = s->sender;
	env.size = s->body.size + prefix(s, -1, hdr, sizeof hdr, NULL);
	env.ret = (int)s->ret;
	env.envid = s->envid;
	env.smtputf8 = s->smtputf8;
	env.client = client;
	env.rcpt = r;
	env.nrcpt = nr;
	return spool_write_env(cfg_str(smtp.cfg, CFG_DATA_DIR), &env, e);
}

/*
 * The lines wren adds in front of the message for target i (-1: the
 * queue copy): Return-Path and Delivered-To for a mailbox (RFC 5321
 * 4.4; Delivered-To as Postfix writes it, which also detects forwarding
 * loops), and the Received trace (RFC 5321 4.4) for both.
 */
static size_t
prefix(const struct smtp_session *s, int i, char *out, size_t cap,
    uint64_t *lines)
{
	int n = 0, one = s->nrcpt == 1, tls;
	const char *tlsv = "", *cipher = "";
	char tlsnote[96] = "";

	if (i >= 0) {
		n = fmt(out, cap, "Return-Path: <%s>\nDelivered-To: %s\n",
		    s->sender, smtp_str(s, s->t[i].dto));
	}
	tls = tls_info(s->c, &tlsv, &cipher);
	if (tls) {
		fmt(tlsnote, sizeof tlsnote, "\n\t(using %s with cipher %s)",
		    tlsv, cipher);
	}
	/* RFC 3848: ESMTPS with TLS, UTF8SMTP(S) with SMTPUTF8. */
	n += fmt(out + n, cap - (size_t)n, "Received: from %s ([%s%s])\n"
	    "\tby %s (wren) with %s%s id %s%s%s%s%s;\n\t%s\n", s->helo,
	    s->c->family == AF_INET6 ? "IPv6:" : "", s->ip, smtp.hostname,
	    s->smtputf8 ? "UTF8SMTP" : s->esmtp ? "ESMTP" : "SMTP",
	    tls ? "S" : "", s->id, tls ? tlsnote : "",
	    one ? "\n\tfor <" : "", one ? s->rcpt1 : "", one ? ">" : "",
	    s->date);
	if ((size_t)n >= cap) {
		n = (int)cap - 1;
	}
	if (lines != NULL) {
		*lines = 0;
		for (int k = 0; k < n; k++) {
			*lines += out[k] == '\n';
		}
	}
	return (size_t)n;
}

/* tmp/ or new/ path of target i; -1 is the queue file (tmp only). */
static int
target_path(const struct smtp_session *s, int i, const char *sub,
    char *out, size_t cap)
{
	char hdr[PREFIX_MAX];
	uint64_t size, vsize, lines;
	size_t n;

	if (i < 0) {
		return spool_path(out, cap, cfg_str(smtp.cfg, CFG_DATA_DIR),
		    "tmp", s->id, "");
	}
	if (strcmp(sub, "tmp") == 0) {
		return maildir_path(out, cap, smtp_str(s, s->t[i].home), sub,
		    s->base, 0, 0);
	}
	n = prefix(s, i, hdr, sizeof hdr, &lines);
	size = n + s->body.size;
	vsize = n + lines + smtp_body_vsize(&s->body);
	return maildir_path(out, cap, smtp_str(s, s->t[i].home), sub,
	    s->base, size, vsize);
}

/* Another copy: its own header, then the primary's body. */
static int
make_secondary(struct smtp_session *s, int i)
{
	char path[MAILDIR_PATH_MAX], src[MAILDIR_PATH_MAX], hdr[PREFIX_MAX];
	struct err e;
	size_t n;
	int fd, in, rc = 0;

	if (i >= 0 && maildir_ensure(smtp_str(s, s->t[i].home), &e) == -1) {
		log_warnx("smtp %08x: %s", s->c->id, e.msg);
		errno = EIO;
		return -1;
	}
	if (target_path(s, i, "tmp", path, sizeof path) == -1 ||
	    target_path(s, s->primary, "tmp", src, sizeof src) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in == -1) {
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		int err = errno;

		close(in);
		errno = err;
		return -1;
	}
	n = prefix(s, i, hdr, sizeof hdr, NULL);
	if (store_write_all(fd, hdr, n) == -1 ||
	    store_copy(fd, in, s->prefix_len, s->body.size) == -1) {
		rc = -1;
	} else {
		store_start_writeback(fd);
	}
	if (close(fd) == -1) {
		rc = -1;
	}
	close(in);
	return rc;
}

/*
 * Makes everything written under the given directories durable: syncfs
 * once per file system (st_dev) among them -- one journal commit for
 * the whole batch instead of one fsync per file. On failure every
 * message of the batch fails (which file was lost is not known); the
 * clients retry.
 */
static int
sync_dirs(char (*dirs)[MAILDIR_PATH_MAX], size_t n,
    struct smtp_session *batch, struct smtp_session *synced)
{
	dev_t done[DIRS_MAX];
	size_t ndone = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		struct stat st;
		size_t k;
		int fd;

		if (stat(dirs[i], &st) == -1) {
			rc = -1;
			break;
		}
		for (k = 0; k < ndone && done[k] != st.st_dev; k++) {
		}
		if (k < ndone) {
			continue;
		}
		done[ndone++] = st.st_dev;
		fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd == -1 || syncfs(fd) == -1) {
			rc = -1;
		}
		if (fd != -1) {
			close(fd);
		}
		if (rc == -1) {
			break;
		}
	}
	if (rc == -1) {
		int err = errno ? errno : EIO;

		for (struct smtp_session *s = batch; s != NULL;
		    s = s->next_commit) {
			if (!s->commit_err) {
				s->commit_err = err;
			}
		}
		for (struct smtp_session *s = synced; s != NULL;
		    s = s->next_commit) {
			if (!s->commit_err) {
				s->commit_err = err;
			}
		}
	}
	return rc;
}

/* Removes the message's tmp/ files and, after a failed commit, what
 * reached new/: nothing unacknowledged may stay visible. */
static void
unlink_all(struct smtp_session *s, int renamed_too)
{
	char path[MAILDIR_PATH_MAX];

	for (int i = -1; i < (int)s->ntargets; i++) {
		if (i >= 0 && s->t[i].kind != SMTP_T_LOCAL) {
			continue;
		}
		if (target_path(s, i, "tmp", path, sizeof path) == 0) {
			(void)unlink(path);
		}
		if (renamed_too && i >= 0 &&
		    target_path(s, i, "new", path, sizeof path) == 0) {
			(void)unlink(path);
		}
	}
	if (renamed_too) {
		char d[SPOOL_PATH_MAX];
		const char *dd = cfg_str(smtp.cfg, CFG_DATA_DIR);

		if (spool_path(d, sizeof d, dd, "tmp", s->id, ".env") == 0) {
			(void)unlink(d);
		}
	}
}

/* Remembers the directory of path for the batch's directory fsyncs. */
static void
dir_note(char (*dirs)[MAILDIR_PATH_MAX], size_t *n, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;
	char dir[MAILDIR_PATH_MAX];

	if (len == 0 || len >= sizeof dir) {
		return;
	}
	memcpy(dir, path, len);
	dir[len] = '\0';
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(dirs[i], dir) == 0) {
			return;
		}
	}
	if (*n == DIRS_MAX) {
		(void)store_fsync_dir(dir);	/* no room: now */
		return;
	}
	memcpy(dirs[(*n)++], dir, len + 1);
}
