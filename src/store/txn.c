/* SPDX-License-Identifier: ISC */
/*
 * txn.c - the group commit shared by every writer of mail (see txn.h):
 * rounds in the loop with one syncfs per file system, or io_uring
 * rounds that never block the loop.
 *
 * A file is renamed only once its data is durable, and its transaction
 * is called back only once the rename is, so after a crash new/ holds
 * no partial file and every acknowledged message. syncfs also flushes
 * whatever else is dirty on that file system: on a mail server's data
 * disk that is mostly mail anyway.
 *
 * The lists, one transaction in at most one of them:
 *
 *   waiting ---> batch ---> placed ---> acking ---> callback
 *   (commit)   (round k: A, C)    (round k+1: B, E)
 *       \
 *        `-> rounds[i].head ---> rounds[i].placed ---> callback
 *            (fdatasync each)    (renamed; fsync dirs, and
 *                                 fdatasync the placed hook's file)
 *
 * A transaction with a barrier (txn.h) is placed in two steps: its
 * files before the barrier are renamed and their directories fsync'd
 * (in the loop: one fsync per directory for the whole round; with
 * io_uring: a stage of the round), then the rest are renamed.
 *
 * A file already in place (tmp equal to final: a hard link to a durable
 * file) costs neither an fdatasync nor a rename; its directory is
 * synced with the others, so a COPY of any size by links costs one
 * fsync per directory per round.
 *
 * Rounds take transactions off the head of a list one at a time, so a
 * callback that cancels another transaction (or commits its own again)
 * never leaves a round walking a stale list.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* rename */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/timer.h"
#include "store/txn.h"
#include "store/uring.h"

#define DIRS_MAX	64	/* distinct directories noted per round */
#define ROUNDS_MAX	16	/* io_uring rounds in flight */
#define ROUND_FDS_MAX	32	/* files or directories in flight */

enum round_stage { ROUND_FREE, ROUND_DATA, ROUND_BARRIER, ROUND_DIRS };

/* An io_uring round. */
struct round {
	enum round_stage	 stage;
	uint32_t		 gen;	/* older rounds' tags: ignored */
	unsigned		 pending;
	int			 err;
	struct store_txn	*head;		/* ROUND_DATA, _BARRIER */
	struct store_txn	*placed;	/* ROUND_DIRS */
	int			 fds[ROUND_FDS_MAX];
	unsigned		 nfds;
};

struct txn_ctx {
	unsigned		 users;
	struct ev		*ev;
	struct conn_table	*table;
	struct timer		 timer;		/* the latest a round runs */
	struct store_txn	*waiting, **waiting_tail;
	struct store_txn	*batch;		/* this round's */
	struct store_txn	*placed;	/* renamed, not yet synced */
	struct store_txn	*acking;	/* synced, being called back */
	uint64_t		 first;		/* ms: the oldest's commit */
	const size_t		*watch[STORE_TXN_WATCH_MAX];
	struct store_txn_stats	 stats;
	struct uring		 uring;		/* fd -1: none */
	struct round		 rounds[ROUNDS_MAX];
};

static struct txn_ctx st = { .waiting_tail = &st.waiting,
    .uring = { .fd = -1, .efd = -1 } };
static char dirs[DIRS_MAX][STORE_TXN_PATH_MAX];

static void	pre_flush(void *);
static void	timer_fired(struct timer *, void *);
static int	busy(void);
static void	arm_fallback(void);
static void	round_sync(void);
static void	round_async(void);
static int	name(const struct store_txn *, size_t, char *, char *);
static int	in_place(const char *, const char *);
static size_t	data_files(const struct store_txn *);
static void	prepare(struct store_txn *);
static size_t	barrier(const struct store_txn *);
static size_t	place_barrier(struct store_txn *, size_t *);
static void	place(struct store_txn *, size_t);
static void	finish(struct store_txn *);
static void	unlink_files(struct store_txn *);
static void	note_dirs(struct store_txn *, size_t, size_t, size_t *);
static void	fail_dirs(struct store_txn *, int);
static void	dir_note(size_t *, const char *);
static int	sync_dirs(size_t);
static void	fail_list(struct store_txn *, int);
static struct store_txn *pop(struct store_txn **);
static int	list_remove(struct store_txn **, struct store_txn *);
static void	round_fsync(struct round *, uint32_t, const char *, int);
static void	round_fsync_fd(struct round *, uint32_t, int, int);
static int	placed_hook(struct store_txn *, int *fd);
static void	uring_ready(struct ev *, int, unsigned, void *);
static void	round_done(void *, uint64_t, int);
static void	round_advance(struct round *);
static int	uring_busy(void);

int
store_txn_init(struct ev *ev, struct conn_table *table, struct err *e)
{
	struct err why;

	if (st.users > 0) {
		st.users++;
		return 0;
	}
	memset(&st, 0, sizeof st);
	st.ev = ev;
	st.table = table;
	st.waiting_tail = &st.waiting;
	st.uring.fd = st.uring.efd = -1;
	timer_init(&st.timer, timer_fired, NULL);
	for (int i = 0; i < ROUNDS_MAX; i++) {
		st.rounds[i].stage = ROUND_FREE;
	}
	if (conn_table_add_pre_flush(table, pre_flush, NULL) == -1) {
		return err_set(e, "store: no free pre-flush hook");
	}
	st.users = 1;
	if (uring_init(&st.uring, ROUNDS_MAX * ROUND_FDS_MAX, &why) == -1) {
		log_info("store: %s; committing with syncfs in the loop",
		    why.msg);
		return 0;
	}
	if (ev_add_fd(ev, st.uring.efd, EV_READ, uring_ready, NULL) == -1) {
		uring_destroy(&st.uring);
		(void)conn_table_del_pre_flush(table, pre_flush, NULL);
		st.users = 0;
		return err_set(e, "store: cannot watch the io_uring eventfd");
	}
	st.stats.uring = 1;
	log_info("store: committing with io_uring");
	return 0;
}

void
store_txn_shutdown(void)
{
	if (st.users == 0 || --st.users > 0) {
		return;
	}
	if (st.stats.rounds > 0) {
		log_info("store: %llu transaction%s committed in %llu "
		    "round%s", (unsigned long long)st.stats.txns,
		    st.stats.txns == 1 ? "" : "s",
		    (unsigned long long)st.stats.rounds,
		    st.stats.rounds == 1 ? "" : "s");
	}
	ev_timer_cancel(st.ev, &st.timer);
	(void)conn_table_del_pre_flush(st.table, pre_flush, NULL);
	if (st.uring.fd != -1) {
		ev_del_fd(st.ev, st.uring.efd);
	}
	for (int i = 0; i < ROUNDS_MAX; i++) {
		for (unsigned k = 0; k < st.rounds[i].nfds; k++) {
			close(st.rounds[i].fds[k]);
		}
	}
	uring_destroy(&st.uring);
	/* The lists stay: a client that goes away after this still has
	 * its unacknowledged files removed (store_txn_cancel). */
}

void
store_txn_no_uring(void)
{
	if (st.uring.fd == -1 || uring_busy()) {
		return;
	}
	ev_del_fd(st.ev, st.uring.efd);
	uring_destroy(&st.uring);
	st.stats.uring = 0;
}

int
store_txn_watch(const size_t *count)
{
	for (int i = 0; i < STORE_TXN_WATCH_MAX; i++) {
		if (st.watch[i] == count) {
			return 0;
		}
	}
	for (int i = 0; i < STORE_TXN_WATCH_MAX; i++) {
		if (st.watch[i] == NULL) {
			st.watch[i] = count;
			return 0;
		}
	}
	return -1;
}

void
store_txn_commit(struct store_txn *t)
{
	if (st.waiting == NULL && st.placed == NULL) {
		st.first = ev_now(st.ev);
	}
	t->state = STORE_TXN_WAITING;
	t->err = 0;
	t->placed = 0;
	t->round = -1;
	t->next = NULL;
	*st.waiting_tail = t;
	st.waiting_tail = &t->next;
	st.stats.pending++;
	arm_fallback();
}

void
store_txn_cancel(struct store_txn *t)
{
	struct store_txn **pp;

	switch (t->state) {
	case STORE_TXN_IDLE:
		return;
	case STORE_TXN_WAITING:
		for (pp = &st.waiting; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == t) {
				*pp = t->next;
				if (st.waiting_tail == &t->next) {
					st.waiting_tail = pp;
				}
				break;
			}
		}
		break;
	case STORE_TXN_BATCH:
		(void)list_remove(&st.batch, t);
		break;
	case STORE_TXN_PLACED:
		(void)list_remove(&st.placed, t);
		break;
	case STORE_TXN_ACK:
		(void)list_remove(&st.acking, t);
		break;
	case STORE_TXN_URING:
		if (t->round >= 0 && t->round < ROUNDS_MAX &&
		    !list_remove(&st.rounds[t->round].head, t)) {
			(void)list_remove(&st.rounds[t->round].placed, t);
		}
		break;
	}
	/* Renamed but not acknowledged: the client sends it again. */
	unlink_files(t);
	t->state = STORE_TXN_IDLE;
	t->round = -1;
	st.stats.pending--;
}

void
store_txn_discard(struct store_txn *t)
{
	t->placed = 0;
	unlink_files(t);
}

void
store_txn_stats(struct store_txn_stats *out)
{
	*out = st.stats;
}

/*
 * Before the loop sleeps: run a round now if no watched writer is in
 * the middle of a transaction (nobody could join the round soon), or
 * if the oldest waiting transaction has lingered long enough. Writers
 * still sending join the next round instead of paying for their own
 * sync.
 */
static void
pre_flush(void *arg)
{
	(void)arg;
	if (st.uring.fd != -1) {
		round_async();	/* costs the loop nothing: no linger */
		return;
	}
	if ((st.waiting != NULL || st.placed != NULL) && (!busy() ||
	    ev_clock_ms() >= st.first + STORE_TXN_LINGER_MS)) {
		round_sync();
	}
}

/* The latest a round may wait; usually it runs sooner, from
 * pre_flush. */
static void
timer_fired(struct timer *t, void *arg)
{
	(void)t;
	(void)arg;
	if (st.uring.fd != -1) {
		round_async();
	} else {
		round_sync();
	}
}

static int
busy(void)
{
	for (int i = 0; i < STORE_TXN_WATCH_MAX; i++) {
		if (st.watch[i] != NULL && *st.watch[i] != 0) {
			return 1;
		}
	}
	return 0;
}

static void
arm_fallback(void)
{
	if (!timer_armed(&st.timer) && ev_timer_in(st.ev, &st.timer,
	    STORE_TXN_LINGER_MS) == -1) {
		log_errorx("store: no timer for the commit; committing now");
		timer_fired(&st.timer, NULL);
	}
}

/*
 * One round in the loop. Rounds overlap by one step, so each round
 * needs a single sync:
 *
 *   round k:  A   batch k's remaining files written (prepare)
 *             B   syncfs: batch k's data, and batch k-1's renames
 *             E   batch k-1 is durable: called back
 *             C   batch k renamed into place (its data is durable),
 *                 waiting for round k+1's sync
 *
 * When no new transaction comes, the next round runs with an empty
 * batch, only to make the last renames durable.
 */
static void
round_sync(void)
{
	struct store_txn *t;
	size_t ndirs = 0, ntxn = 0;
	char tmp[STORE_TXN_PATH_MAX], final[STORE_TXN_PATH_MAX];

	ev_timer_cancel(st.ev, &st.timer);
	if (st.waiting == NULL && st.placed == NULL) {
		return;
	}
	st.batch = st.waiting;
	st.waiting = NULL;
	st.waiting_tail = &st.waiting;
	st.acking = st.placed;
	st.placed = NULL;
	st.first = ev_now(st.ev);
	/* A: every file of every new transaction written. */
	for (t = st.batch; t != NULL; t = t->next) {
		t->state = STORE_TXN_BATCH;
		ntxn++;
		prepare(t);
		for (size_t i = 0; i < t->nfiles && !t->err; i++) {
			if (name(t, i, tmp, final) == -1) {
				t->err = errno;
			} else if (final[0] != '\0') {
				st.stats.inplace += (uint64_t)in_place(tmp,
				    final);
				dir_note(&ndirs, tmp);
			}
		}
	}
	for (t = st.acking; t != NULL; t = t->next) {
		t->state = STORE_TXN_ACK;
		note_dirs(t, 0, t->nfiles, &ndirs);
	}
	/* B: one sync per file system for all of it. */
	if (sync_dirs(ndirs) == -1) {
		int err = errno ? errno : EIO;

		log_warn("store: syncing the mail file system");
		fail_list(st.batch, err);
		fail_list(st.acking, err);
	}
	/* E: the previous round's transactions are durable now. */
	while ((t = pop(&st.acking)) != NULL) {
		finish(t);
	}
	/* C: this round's into place; called back after the next sync.
	 * The files before a barrier first, their directories fsync'd. */
	ndirs = 0;
	for (t = st.batch; t != NULL; t = t->next) {
		(void)place_barrier(t, &ndirs);
	}
	for (size_t i = 0; i < ndirs; i++) {
		if (store_fsync_dir(dirs[i]) == -1) {
			log_warn("store: %s", dirs[i]);
			fail_dirs(st.batch, errno ? errno : EIO);
		}
	}
	while ((t = pop(&st.batch)) != NULL) {
		int fd = -1;

		place(t, barrier(t));
		if (!t->err) {
			t->err = placed_hook(t, &fd);
		}
		if (fd != -1) {
			close(fd);	/* the next round's syncfs has it */
		}
		if (t->err) {
			finish(t);
			continue;
		}
		t->state = STORE_TXN_PLACED;
		t->next = st.placed;
		st.placed = t;
	}
	if (st.placed != NULL || st.waiting != NULL) {
		arm_fallback();
	}
	st.stats.rounds++;
	st.stats.txns += ntxn;
	log_debug("store: commit round: %zu new, %zu director%s synced",
	    ntxn, ndirs, ndirs == 1 ? "y" : "ies");
}

/*
 * With io_uring the loop never waits for the disk. A round takes the
 * transactions committed so far, queues an fdatasync of each of their
 * files and returns; the kernel runs the fsyncs on its workers,
 * together, and reports through the ring's eventfd. When a round's
 * data is on disk its files are renamed into place and their
 * directories fsync'd the same way; then the callbacks. Several rounds
 * may be in flight, each holding at most ROUND_FDS_MAX open files.
 */
static void
round_async(void)
{
	char tmp[STORE_TXN_PATH_MAX], final[STORE_TXN_PATH_MAX];
	struct round *r = NULL;
	struct store_txn *t;
	uint32_t idx;

	ev_timer_cancel(st.ev, &st.timer);
	if (st.waiting == NULL) {
		return;
	}
	for (idx = 0; idx < ROUNDS_MAX; idx++) {
		if (st.rounds[idx].stage == ROUND_FREE) {
			r = &st.rounds[idx];
			break;
		}
	}
	if (r == NULL) {
		arm_fallback();		/* every round busy: later */
		return;
	}
	r->head = NULL;
	r->placed = NULL;
	r->err = 0;
	r->nfds = 0;
	r->pending = 0;
	r->stage = ROUND_DATA;
	while ((t = st.waiting) != NULL) {
		if (r->nfds + data_files(t) > ROUND_FDS_MAX &&
		    r->head != NULL) {
			break;		/* the next round takes it */
		}
		st.waiting = t->next;
		if (st.waiting == NULL) {
			st.waiting_tail = &st.waiting;
		}
		st.stats.txns++;
		t->state = STORE_TXN_URING;
		t->round = (int)idx;
		prepare(t);
		if (t->err) {
			finish(t);
			continue;
		}
		t->next = r->head;
		r->head = t;
		for (size_t i = 0; i < t->nfiles && !t->err; i++) {
			if (name(t, i, tmp, final) == -1) {
				t->err = errno;
			} else if (in_place(tmp, final)) {
				st.stats.inplace++;
			} else if (final[0] != '\0') {
				round_fsync(r, idx, tmp, 1);
			}
		}
	}
	if (st.waiting != NULL) {
		arm_fallback();
	}
	st.stats.rounds++;
	if (uring_submit(&st.uring) == -1) {
		log_warn("store: io_uring submit");
	}
	if (r->head == NULL) {
		r->stage = ROUND_FREE;
		r->gen++;
	} else if (r->pending == 0) {
		round_advance(r);
	}
}

/* Opens path and queues its fsync in round r (or syncs it now when the
 * ring is full or the file cannot be opened). */
static void
round_fsync(struct round *r, uint32_t idx, const char *path, int datasync)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		r->err = errno;
		return;
	}
	if (datasync) {
		st.stats.datasyncs++;
	}
	round_fsync_fd(r, idx, fd, datasync);
}

/* Queues the fsync of an open fd in round r, which closes it when the
 * stage ends (or syncs and closes it now when the ring is full). */
static void
round_fsync_fd(struct round *r, uint32_t idx, int fd, int datasync)
{
	if (r->nfds < ROUND_FDS_MAX && uring_fsync(&st.uring, fd, datasync,
	    (uint64_t)idx << 32 | r->gen) == 0) {
		r->fds[r->nfds++] = fd;
		r->pending++;
		st.stats.fsyncs++;
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
	uring_reap(&st.uring, round_done, NULL);
	if (st.uring.queued > 0 && uring_submit(&st.uring) == -1) {
		log_warn("store: io_uring submit");
	}
}

static void
round_done(void *arg, uint64_t tag, int res)
{
	uint32_t idx = (uint32_t)(tag >> 32);
	struct round *r;

	(void)arg;
	if (idx >= ROUNDS_MAX) {
		return;
	}
	r = &st.rounds[idx];
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
round_advance(struct round *r)
{
	uint32_t idx = (uint32_t)(r - st.rounds);
	struct store_txn *t;
	size_t ndirs = 0;

	for (unsigned i = 0; i < r->nfds; i++) {
		close(r->fds[i]);
	}
	r->nfds = 0;
	if (r->stage == ROUND_DATA) {
		struct store_txn *keep = NULL;

		/* The files before a barrier, their directories next. */
		while ((t = pop(&r->head)) != NULL) {
			if (r->err && !t->err) {
				t->err = r->err;
			}
			(void)place_barrier(t, &ndirs);
			if (t->err) {
				finish(t);
				continue;
			}
			t->next = keep;
			keep = t;
		}
		r->head = keep;
		r->stage = ROUND_BARRIER;
		for (size_t i = 0; i < ndirs; i++) {
			round_fsync(r, idx, dirs[i], 0);
		}
		if (ndirs > 0 && uring_submit(&st.uring) == -1) {
			log_warn("store: io_uring submit");
		}
		if (r->pending > 0) {
			return;
		}
	}
	if (r->stage == ROUND_BARRIER) {
		ndirs = 0;
		r->stage = ROUND_DIRS;
		while ((t = pop(&r->head)) != NULL) {
			int fd = -1;

			if (r->err && !t->err) {
				t->err = r->err;
			}
			place(t, barrier(t));
			if (!t->err) {
				t->err = placed_hook(t, &fd);
			}
			if (fd != -1) {
				/* With the directories, not after them:
				 * one sync's wait per stage. */
				round_fsync_fd(r, idx, fd, 1);
			}
			if (t->err) {
				finish(t);
				continue;
			}
			note_dirs(t, barrier(t), t->nfiles, &ndirs);
			t->next = r->placed;
			r->placed = t;
		}
		for (size_t i = 0; i < ndirs; i++) {
			round_fsync(r, idx, dirs[i], 0);
		}
		if (uring_submit(&st.uring) == -1) {
			log_warn("store: io_uring submit");
		}
		if (r->pending > 0) {
			return;
		}
	}
	while ((t = pop(&r->placed)) != NULL) {
		if (r->err && !t->err) {
			t->err = r->err;
		}
		finish(t);
	}
	r->stage = ROUND_FREE;
	r->gen++;
}

/* 1 while an io_uring round is in flight. */
static int
uring_busy(void)
{
	for (int i = 0; i < ROUNDS_MAX; i++) {
		if (st.rounds[i].stage != ROUND_FREE) {
			return 1;
		}
	}
	return 0;
}

/* File i's paths (either may be NULL); "" final: scratch. */
static int
name(const struct store_txn *t, size_t i, char *tmp, char *final)
{
	const struct store_file *f;
	size_t n;

	if (t->files == NULL) {
		if (final != NULL) {
			final[0] = '\0';
		}
		return t->name(t->arg, i, tmp, final, STORE_TXN_PATH_MAX);
	}
	f = &t->files[i];
	if (tmp != NULL) {
		n = strlen(f->tmp);
		if (n >= STORE_TXN_PATH_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(tmp, f->tmp, n + 1);
	}
	if (final != NULL) {
		n = f->final != NULL ? strlen(f->final) : 0;
		if (n >= STORE_TXN_PATH_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(final, n > 0 ? f->final : "", n + 1);
	}
	return 0;
}

/* A file already in place (txn.h): its data is durable, its name
 * final; only its directory is synced. */
static int
in_place(const char *tmp, const char *final)
{
	return final[0] != '\0' && strcmp(tmp, final) == 0;
}

/* t's files whose data is synced one by one (io_uring rounds): not
 * scratch files, not files already in place. A name that fails counts
 * (the round finds the error). */
static size_t
data_files(const struct store_txn *t)
{
	char tmp[STORE_TXN_PATH_MAX], final[STORE_TXN_PATH_MAX];
	size_t n = 0;

	for (size_t i = 0; i < t->nfiles; i++) {
		if (name(t, i, tmp, final) == -1 || (final[0] != '\0' &&
		    !in_place(tmp, final))) {
			n++;
		}
	}
	return n;
}

/* After C: the caller's file to sync with t's directories. */
static int
placed_hook(struct store_txn *t, int *fd)
{
	*fd = -1;
	return t->on_placed != NULL ? t->on_placed(t->arg, fd) : 0;
}

/* A: the caller's last files. */
static void
prepare(struct store_txn *t)
{
	if (t->prepare != NULL && t->err == 0) {
		t->err = t->prepare(t->arg);
	}
}

/* Where t's barrier is: 0 when it has none. */
static size_t
barrier(const struct store_txn *t)
{
	return t->barrier < t->nfiles ? t->barrier : 0;
}

/* The first step of a transaction with a barrier: its files before it
 * renamed, their directories noted for the fsync that must come before
 * the rest is renamed. Returns how many files were placed. */
static size_t
place_barrier(struct store_txn *t, size_t *ndirs)
{
	char tmp[STORE_TXN_PATH_MAX], final[STORE_TXN_PATH_MAX];
	size_t b = barrier(t);

	for (size_t i = 0; i < b && !t->err; i++) {
		if (name(t, i, tmp, final) == -1) {
			t->err = errno;
		} else if (final[0] == '\0') {
			continue;
		} else if (!in_place(tmp, final) && rename(tmp, final) == -1) {
			t->err = errno;
		} else {
			t->placed = i + 1;
			dir_note(ndirs, final);
		}
	}
	return b;
}

/* A directory of the barrier could not be synced: every transaction of
 * list with a barrier fails (which one renamed into it is not kept). */
static void
fail_dirs(struct store_txn *list, int err)
{
	for (struct store_txn *t = list; t != NULL; t = t->next) {
		if (barrier(t) > 0 && !t->err) {
			t->err = err;
		}
	}
}

/* C: renames into place, in order from file `from` (data already
 * durable, and the files before from renamed durably); scratch files
 * go once the others are in place. */
static void
place(struct store_txn *t, size_t from)
{
	char tmp[STORE_TXN_PATH_MAX], final[STORE_TXN_PATH_MAX];

	for (size_t i = from; i < t->nfiles && !t->err; i++) {
		if (name(t, i, tmp, final) == -1) {
			t->err = errno;
		} else if (final[0] == '\0') {
			continue;
		} else if (!in_place(tmp, final) && rename(tmp, final) == -1) {
			t->err = errno;
		} else {
			t->placed = i + 1;
		}
	}
	for (size_t i = 0; i < t->nfiles && !t->err; i++) {
		if (name(t, i, tmp, final) == 0 && final[0] == '\0') {
			(void)unlink(tmp);
		}
	}
}

/* E: the callback; a failed transaction leaves no file behind. */
static void
finish(struct store_txn *t)
{
	if (t->err) {
		unlink_files(t);
	}
	t->state = STORE_TXN_IDLE;
	t->round = -1;
	t->next = NULL;
	st.stats.pending--;
	t->done(t->arg, t->err);
}

/* Removes t's files from tmp/ and, for those already renamed, from
 * where they went (last first: a queue envelope before its message).
 * A file in place is its own tmp: removed as well. */
static void
unlink_files(struct store_txn *t)
{
	char tmp[STORE_TXN_PATH_MAX], final[STORE_TXN_PATH_MAX];

	for (size_t i = t->nfiles; i-- > 0;) {
		if (name(t, i, tmp, final) == -1) {
			continue;
		}
		if (i < t->placed && final[0] != '\0') {
			(void)unlink(final);
		}
		(void)unlink(tmp);
	}
}

/* Notes the directories t's files [from, to) were renamed into. */
static void
note_dirs(struct store_txn *t, size_t from, size_t to, size_t *ndirs)
{
	char final[STORE_TXN_PATH_MAX];

	for (size_t i = from; i < to; i++) {
		if (name(t, i, NULL, final) == 0 && final[0] != '\0') {
			dir_note(ndirs, final);
		}
	}
}

/* Remembers the directory of path for the round's syncs. */
static void
dir_note(size_t *n, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;
	char dir[STORE_TXN_PATH_MAX];

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

/*
 * Makes everything written under the noted directories durable: syncfs
 * once per file system (st_dev) among them -- one journal commit for
 * the whole round instead of one fsync per file. On failure every
 * transaction of the round fails (which file was lost is not known).
 */
static int
sync_dirs(size_t n)
{
	dev_t done[DIRS_MAX];
	size_t ndone = 0;

	errno = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat sb;
		size_t k;
		int fd, rc;

		if (stat(dirs[i], &sb) == -1) {
			return -1;
		}
		for (k = 0; k < ndone && done[k] != sb.st_dev; k++) {
		}
		if (k < ndone) {
			continue;
		}
		done[ndone++] = sb.st_dev;
		fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd == -1) {
			return -1;
		}
		st.stats.syncs++;
		rc = syncfs(fd);
		if (rc == -1) {
			int err = errno;

			close(fd);
			errno = err;
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* Fails every transaction of list that has not failed yet. */
static void
fail_list(struct store_txn *list, int err)
{
	for (struct store_txn *t = list; t != NULL; t = t->next) {
		if (!t->err) {
			t->err = err;
		}
	}
}

static struct store_txn *
pop(struct store_txn **head)
{
	struct store_txn *t = *head;

	if (t != NULL) {
		*head = t->next;
		t->next = NULL;
	}
	return t;
}

static int
list_remove(struct store_txn **head, struct store_txn *t)
{
	for (struct store_txn **pp = head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			t->next = NULL;
			return 1;
		}
	}
	return 0;
}
