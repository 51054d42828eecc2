/* SPDX-License-Identifier: ISC */
/*
 * test_txn.c - the store transaction alone (store/txn.h): files
 * written in tmp/ directories, the group commit that makes them
 * durable, renames them into place and calls back after the sync.
 *
 * Each table row is one round of transactions (up to four), each a
 * list of files "TMP>FINAL" (paths under a temporary directory; an
 * empty FINAL is a scratch file, "-TMP" a file never written, LONG a
 * path longer than the store takes), an error its prepare hook
 * returns, the errno its callback must get, and the files that must be
 * in place at the end. At least half the rows are failures: a rename
 * into a missing directory, onto a directory or below a plain file,
 * ENOSPC from prepare, a file that was never written, a path too long.
 *
 * Every row runs twice: rounds in the loop (syncfs), driven by hand
 * through the table's pre-flush hooks, and io_uring rounds, driven by
 * the event loop (skipped where the kernel refuses io_uring). After
 * each row: every callback came exactly once, with its error; a
 * successful one came only after its files were in place and after a
 * sync that followed the renames; a failed one left nothing in place;
 * every tmp/ directory is empty; nothing is pending.
 *
 * Then: transactions that end in the same turn share one syncfs; a
 * watched writer mid-transaction holds a round back (linger) but never
 * forever; a cancelled transaction is never called back and leaves no
 * file; a callback may commit again.
 *
 * A "|" in a row's transaction is its barrier (txn.h). rename, fsync
 * and syncfs are interposed (defined here, they replace libc's for the
 * whole test program) to see the order of the renames and the syncs,
 * and to make a sync fail with EIO: a queue message must be durable in
 * msg/ before its envelope is renamed, and a sync that fails after the
 * renames, or a client that leaves between rename and callback, must
 * leave neither msg/ nor env/ behind (issue 17, item 9). io_uring's
 * fsyncs run in the kernel: there the order is seen through the
 * store's count of queued fsyncs, and their failure is not injected.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/conn.h"
#include "core/ev.h"
#include "core/log.h"
#include "store/txn.h"
#include "testutil.h"

#define TXNS_MAX	4
#define FILES_MAX	4

enum mode { MODE_LOOP, MODE_URING };

static const char *const mode_name[] = { "in the loop", "io_uring" };

struct row {
	const char	*desc;
	const char	*txn[TXNS_MAX];		/* NULL: no more */
	int		 prep_err[TXNS_MAX];	/* prepare returns it */
	int		 want_err[TXNS_MAX];
	const char	*want;		/* files in place, sorted */
};

static const struct row rows[] = {
	{ "one file: in place after the first round, called back after "
	  "the next sync",
	  { "tmp/a>new/a" }, { 0 }, { 0 }, "new/a" },
	{ "three transactions in one round",
	  { "tmp/a>new/a", "tmp/b>new/b", "tmp/c>new/c" }, { 0 }, { 0 },
	  "new/a new/b new/c" },
	{ "two files in two directories, one transaction",
	  { "tmp/a>new/a tmp2/b>new2/b" }, { 0 }, { 0 }, "new/a new2/b" },
	{ "a queue message and its envelope, in that order",
	  { "tmp/q1>msg/q1 tmp/q1.env>env/q1" }, { 0 }, { 0 },
	  "env/q1 msg/q1" },
	{ "a scratch file is removed once the others are in place",
	  { "tmp/p> tmp/c>new/c" }, { 0 }, { 0 }, "new/c" },
	{ "a scratch file alone: nothing to place",
	  { "tmp/p>" }, { 0 }, { 0 }, "" },
	{ "a transaction of no file is called back all the same",
	  { "" }, { 0 }, { 0 }, "" },
	/* hostile */
	{ "rename into a missing directory: ENOENT, the file renamed "
	  "before it is removed from new/",
	  { "tmp/a>new/a tmp/b>missing/b" }, { 0 }, { ENOENT }, "" },
	{ "one failing transaction does not fail the others of its round",
	  { "tmp/a>new/a", "tmp/b>missing/b", "tmp/c>new/c" }, { 0 },
	  { 0, ENOENT, 0 }, "new/a new/c" },
	{ "rename below a plain file: ENOTDIR, nothing left",
	  { "tmp/a>blocker/a" }, { 0 }, { ENOTDIR }, "" },
	{ "rename onto a directory: EISDIR, nothing left",
	  { "tmp/a>new/a tmp/b>new/d" }, { 0 }, { EISDIR }, "" },
	{ "prepare reports ENOSPC: called back with it, nothing left",
	  { "tmp/a>new/a tmp2/b>new2/b" }, { ENOSPC }, { ENOSPC }, "" },
	{ "prepare fails for one of two transactions",
	  { "tmp/a>new/a", "tmp/b>new/b" }, { EDQUOT, 0 }, { EDQUOT, 0 },
	  "new/b" },
	{ "a file never written: ENOENT, nothing placed",
	  { "tmp/a>new/a -tmp/b>new/b" }, { 0 }, { ENOENT }, "" },
	{ "a path longer than the store takes: ENAMETOOLONG",
	  { "tmp/a>new/a LONG>new/b" }, { 0 }, { ENAMETOOLONG }, "" },
	{ "a scratch file in a failed transaction is removed too",
	  { "tmp/p> tmp/a>missing/a" }, { 0 }, { ENOENT }, "" },
	{ "a queue message, a barrier, its envelope",
	  { "tmp/q1>msg/q1 | tmp/q1.env>env/q1" }, { 0 }, { 0 },
	  "env/q1 msg/q1" },
	{ "a barrier in one transaction of three",
	  { "tmp/a>new/a", "tmp/q1>msg/q1 | tmp/q1.env>env/q1 tmp/b>new/b",
	    "tmp/c>new/c" }, { 0 }, { 0, 0, 0 },
	  "env/q1 msg/q1 new/a new/b new/c" },
	{ "no barrier: the envelope lands on a directory (EISDIR), the "
	  "message renamed before it leaves msg/",
	  { "tmp/q1>msg/q1 tmp/q1.env>new/d" }, { 0 }, { EISDIR }, "" },
	{ "barrier: the envelope lands on a directory after the message "
	  "was made durable: msg/ emptied",
	  { "tmp/q1>msg/q1 | tmp/q1.env>new/d" }, { 0 }, { EISDIR }, "" },
	{ "barrier: the message cannot be renamed: its envelope never is",
	  { "tmp/q1>missing/q1 | tmp/q1.env>env/q1" }, { 0 }, { ENOENT },
	  "" },
	{ "barrier: prepare fails: nothing renamed",
	  { "tmp/q1>msg/q1 | tmp/q1.env>env/q1" }, { ENOSPC }, { ENOSPC },
	  "" },
};

/* One transaction of a row, with its files and what happened. */
struct tx {
	struct store_txn	 txn;
	struct store_file	 files[FILES_MAX];
	char			 tmp[FILES_MAX][STORE_TXN_PATH_MAX + 8];
	char			 final[FILES_MAX][STORE_TXN_PATH_MAX];
	int			 prep_err;
	int			 calls;
	int			 err;
	int			 placed_at_cb;	/* finals all there */
	uint64_t		 syncs_at_cb, fsyncs_at_cb, rounds_at_cb;
	struct tx		*again;		/* its callback commits */
};

static struct {
	char			 dir[64];
	struct ev		 ev;
	struct conn_table	 t;
	size_t			 busy;		/* watched writers */
} f;

static struct tx txs[TXNS_MAX];

/* What the interposed calls saw, while tracing. */
#define EVENTS_MAX	64
struct event {
	char		 kind;		/* 'R' rename, 'F' fsync, 'S' syncfs */
	char		 path[STORE_TXN_PATH_MAX];	/* rename: target */
	uint64_t	 fsyncs;	/* the store's queued fsyncs then */
};

static struct {
	int		 on;
	size_t		 n;
	struct event	 ev[EVENTS_MAX];
	int		 fail_fsync;	/* EIO for the next directory fsync */
	int		 fail_syncfs;	/* EIO for syncfs from the next one */
} trace;

static struct store_txn_stats	stats(void);

static void
ev_note(char kind, const char *path)
{
	struct event *e;

	if (!trace.on || trace.n == EVENTS_MAX) {
		return;
	}
	e = &trace.ev[trace.n++];
	e->kind = kind;
	snprintf(e->path, sizeof e->path, "%s", path);
	e->fsyncs = stats().fsyncs;
}

static void
fd_path(int fd, char *out, size_t cap)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
}

int
rename(const char *from, const char *to)
{
	ev_note('R', to);
#ifdef SYS_renameat
	return (int)syscall(SYS_renameat, AT_FDCWD, from, AT_FDCWD, to);
#else
	return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 0);
#endif
}

int
fsync(int fd)
{
	char path[STORE_TXN_PATH_MAX];
	struct stat sb;

	fd_path(fd, path, sizeof path);
	ev_note('F', path);
	if (trace.fail_fsync && fstat(fd, &sb) == 0 &&
	    S_ISDIR(sb.st_mode)) {
		trace.fail_fsync = 0;
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

int
syncfs(int fd)
{
	ev_note('S', "");
	if (trace.fail_syncfs) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_syncfs, fd);
}

/* The index of the first event of kind whose path ends in suffix, or
 * -1. */
static int
ev_find(char kind, const char *suffix)
{
	size_t ls = strlen(suffix);

	for (size_t i = 0; i < trace.n; i++) {
		size_t lp = strlen(trace.ev[i].path);

		if (trace.ev[i].kind == kind && lp >= ls &&
		    strcmp(trace.ev[i].path + lp - ls, suffix) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
path_of(char *out, size_t cap, const char *rel)
{
	snprintf(out, cap, "%s/%s", f.dir, rel);
}

static void
mkdir_rel(const char *rel)
{
	char p[256];

	path_of(p, sizeof p, rel);
	assert_int_equal(mkdir(p, 0700), 0);
}

/* Directories of the store under test; "blocker" is a plain file. */
static void
fresh_dirs(void)
{
	static const char *const dirs[] = { "tmp", "tmp2", "new", "new2",
	    "msg", "env", "new/d" };
	char p[256];
	int fd;

	path_of(p, sizeof p, "");
	(void)nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(mkdir(p, 0700), 0);
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		mkdir_rel(dirs[i]);
	}
	path_of(p, sizeof p, "blocker");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

/* The sorted names of the files in the final directories, as
 * "new/a new/b". */
static void
in_place(char *out, size_t cap)
{
	static const char *const dirs[] = { "env", "msg", "new", "new2" };
	char names[32][300], p[256];
	size_t n = 0;

	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		struct dirent *de;
		DIR *d;

		path_of(p, sizeof p, dirs[i]);
		d = opendir(p);
		assert_non_null(d);
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' ||
			    strcmp(de->d_name, "d") == 0) {
				continue;
			}
			assert_true(n < 32);
			snprintf(names[n++], sizeof names[0], "%s/%s",
			    dirs[i], de->d_name);
		}
		closedir(d);
	}
	qsort(names, n, sizeof names[0],
	    (int (*)(const void *, const void *))strcmp);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		snprintf(out + strlen(out), cap - strlen(out), "%s%s",
		    i ? " " : "", names[i]);
	}
}

static size_t
count(const char *rel)
{
	char p[256];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	path_of(p, sizeof p, rel);
	d = opendir(p);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		n += de->d_name[0] != '.';
	}
	closedir(d);
	return n;
}

static struct store_txn_stats
stats(void)
{
	struct store_txn_stats s;

	store_txn_stats(&s);
	return s;
}

/* --- the hooks ---------------------------------------------------- */

static int
tx_prepare(void *arg)
{
	struct tx *x = arg;

	return x->prep_err;
}

static void
tx_done(void *arg, int err)
{
	struct tx *x = arg;
	struct store_txn_stats s = stats();
	struct stat sb;

	x->calls++;
	x->err = err;
	x->syncs_at_cb = s.syncs;
	x->fsyncs_at_cb = s.fsyncs;
	x->rounds_at_cb = s.rounds;
	x->placed_at_cb = 1;
	for (size_t i = 0; i < x->txn.nfiles; i++) {
		if (x->final[i][0] != '\0' && stat(x->final[i], &sb) == -1) {
			x->placed_at_cb = 0;
		}
	}
	if (x->again != NULL) {
		store_txn_commit(&x->again->txn);
	}
}

/* Sets x up from spec, writing its tmp/ files. */
static void
tx_setup(struct tx *x, const char *spec, int prep_err)
{
	char buf[256], *save = NULL, *item;

	memset(x, 0, sizeof *x);
	snprintf(buf, sizeof buf, "%s", spec);
	for (item = strtok_r(buf, " ", &save); item != NULL;
	    item = strtok_r(NULL, " ", &save)) {
		size_t i;
		char *gt = strchr(item, '>');
		int make = item[0] != '-';

		if (strcmp(item, "|") == 0) {
			x->txn.barrier = x->txn.nfiles;
			continue;
		}
		i = x->txn.nfiles++;
		assert_true(i < FILES_MAX);
		assert_non_null(gt);
		*gt = '\0';
		if (strcmp(item, "LONG") == 0) {
			memset(x->tmp[i], 'x', STORE_TXN_PATH_MAX + 4);
			x->tmp[i][0] = '/';
			x->tmp[i][STORE_TXN_PATH_MAX + 4] = '\0';
			make = 0;
		} else {
			path_of(x->tmp[i], sizeof x->tmp[i], item + !make);
		}
		if (gt[1] != '\0') {
			path_of(x->final[i], sizeof x->final[i], gt + 1);
		}
		if (make) {
			int fd = open(x->tmp[i], O_WRONLY | O_CREAT | O_EXCL,
			    0600);

			assert_true(fd >= 0);
			assert_int_equal(write(fd, "data\n", 5), 5);
			close(fd);
		}
		x->files[i].tmp = x->tmp[i];
		x->files[i].final = x->final[i];
	}
	x->txn.files = x->files;
	x->txn.prepare = tx_prepare;
	x->txn.done = tx_done;
	x->txn.arg = x;
	x->prep_err = prep_err;
}

/* --- modes -------------------------------------------------------- */

/* A fresh store; 0 when the mode cannot run here (no io_uring). */
static int
mode_start(enum mode m)
{
	struct err e;

	store_txn_shutdown();
	if (store_txn_init(&f.ev, &f.t, &e) == -1) {
		fail_msg("%s", e.msg);
	}
	assert_int_equal(store_txn_watch(&f.busy), 0);
	if (m == MODE_LOOP) {
		store_txn_no_uring();
		assert_int_equal(stats().uring, 0);
		return 1;
	}
	return stats().uring;
}

/* Rounds until nothing is pending, as the loop would run them. */
static void
drive(enum mode m)
{
	for (int i = 0; i < 200 && stats().pending > 0; i++) {
		if (m == MODE_LOOP) {
			conn_table_run_pre_flush(&f.t);
		} else {
			assert_int_not_equal(ev_run_once(&f.ev, 100), -1);
		}
	}
	assert_int_equal(stats().pending, 0);
}

static void
run_row(const struct row *r, enum mode m)
{
	struct store_txn_stats before;
	char got[512];
	size_t n = 0, nok = 0, nfiles = 0;

	fresh_dirs();
	for (; n < TXNS_MAX && r->txn[n] != NULL; n++) {
		tx_setup(&txs[n], r->txn[n], r->prep_err[n]);
	}
	before = stats();
	for (size_t i = 0; i < n; i++) {
		store_txn_commit(&txs[i].txn);
		assert_int_equal(txs[i].calls, 0);	/* never at once */
		nok += r->want_err[i] == 0;
		for (size_t k = 0; k < txs[i].txn.nfiles; k++) {
			nfiles += txs[i].final[k][0] != '\0';
		}
	}
	assert_int_equal(stats().pending, before.pending + n);
	if (m == MODE_LOOP) {
		/* The first round places; the successes wait for the
		 * next sync. */
		conn_table_run_pre_flush(&f.t);
		for (size_t i = 0; i < n; i++) {
			if (r->want_err[i] == 0 && txs[i].calls != 0) {
				fail_msg("%s (%s): txn %zu called back before "
				    "the sync of its renames", r->desc,
				    mode_name[m], i);
			}
		}
	}
	drive(m);
	for (size_t i = 0; i < n; i++) {
		const struct tx *x = &txs[i];

		if (x->calls != 1 || x->err != r->want_err[i]) {
			fail_msg("%s (%s): txn %zu: %d calls, err %d (%s), "
			    "want %d", r->desc, mode_name[m], i, x->calls,
			    x->err, strerror(x->err), r->want_err[i]);
		}
		if (x->err == 0 && !x->placed_at_cb) {
			fail_msg("%s (%s): txn %zu called back before its "
			    "files were in place", r->desc, mode_name[m], i);
		}
		if (x->err == 0 && m == MODE_LOOP &&
		    x->syncs_at_cb < before.syncs + (nfiles > 0 ? 2 : 0)) {
			fail_msg("%s (%s): txn %zu called back after %llu "
			    "syncs", r->desc, mode_name[m], i,
			    (unsigned long long)(x->syncs_at_cb -
			    before.syncs));
		}
		if (x->err == 0 && m == MODE_URING &&
		    x->fsyncs_at_cb < before.fsyncs + nfiles) {
			fail_msg("%s (%s): txn %zu called back after %llu "
			    "fsyncs", r->desc, mode_name[m], i,
			    (unsigned long long)(x->fsyncs_at_cb -
			    before.fsyncs));
		}
	}
	if (m == MODE_LOOP) {
		/* One round places, the next acknowledges: whatever the
		 * number of transactions. */
		uint64_t want = nok > 0 ? 2 : 1;

		if (stats().rounds - before.rounds != want) {
			fail_msg("%s (%s): %llu rounds, want %llu", r->desc,
			    mode_name[m], (unsigned long long)(stats().rounds
			    - before.rounds), (unsigned long long)want);
		}
	}
	in_place(got, sizeof got);
	if (strcmp(got, r->want) != 0) {
		fail_msg("%s (%s): in place \"%s\", want \"%s\"", r->desc,
		    mode_name[m], got, r->want);
	}
	if (count("tmp") + count("tmp2") != 0) {
		fail_msg("%s (%s): files left in tmp/", r->desc,
		    mode_name[m]);
	}
}

/* --- tests -------------------------------------------------------- */

static void
test_rows(enum mode m)
{
	if (!mode_start(m)) {
		print_message("io_uring not available here: skipped\n");
		return;
	}
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		run_row(&rows[i], m);
	}
}

static void
test_rows_loop(void **state)
{
	(void)state;
	test_rows(MODE_LOOP);
}

static void
test_rows_uring(void **state)
{
	(void)state;
	test_rows(MODE_URING);
}

/* Transactions complete in the same turn: one syncfs for their data,
 * one for their renames, however many they are. */
static void
test_shared_sync(void **state)
{
	struct store_txn_stats before;

	(void)state;
	mode_start(MODE_LOOP);
	fresh_dirs();
	tx_setup(&txs[0], "tmp/a>new/a tmp2/a>new2/a", 0);
	tx_setup(&txs[1], "tmp/b>new/b", 0);
	tx_setup(&txs[2], "tmp/q>msg/q tmp/q.env>env/q", 0);
	tx_setup(&txs[3], "tmp/c>new/c", 0);
	before = stats();
	for (int i = 0; i < 4; i++) {
		store_txn_commit(&txs[i].txn);
	}
	conn_table_run_pre_flush(&f.t);
	assert_int_equal(stats().syncs, before.syncs + 1);
	assert_int_equal(count("new") + count("new2"), 4 + 1);	/* + d */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(txs[i].calls, 0);
	}
	conn_table_run_pre_flush(&f.t);
	assert_int_equal(stats().syncs, before.syncs + 2);
	assert_int_equal(stats().rounds, before.rounds + 2);
	assert_int_equal(stats().txns, before.txns + 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(txs[i].calls, 1);
		assert_int_equal(txs[i].err, 0);
		assert_int_equal(txs[i].syncs_at_cb, before.syncs + 2);
	}
	assert_int_equal(stats().pending, 0);
}

/* A watched writer mid-transaction holds the round back for at most
 * STORE_TXN_LINGER_MS; with none, the round runs at once. */
static void
test_linger(void **state)
{
	struct store_txn_stats before;
	uint64_t t0;

	(void)state;
	mode_start(MODE_LOOP);
	fresh_dirs();
	tx_setup(&txs[0], "tmp/a>new/a", 0);
	assert_int_not_equal(ev_run_once(&f.ev, 0), -1);	/* now */
	f.busy = 1;
	before = stats();
	t0 = ev_clock_ms();
	store_txn_commit(&txs[0].txn);
	conn_table_run_pre_flush(&f.t);
	if (ev_clock_ms() < t0 + STORE_TXN_LINGER_MS) {
		assert_int_equal(stats().rounds, before.rounds);
	}
	/* The loop's fallback timer or the linger end it anyway. */
	for (int i = 0; i < 100 && txs[0].calls == 0; i++) {
		assert_int_not_equal(ev_run_once(&f.ev, 50), -1);
	}
	assert_int_equal(txs[0].calls, 1);
	assert_int_equal(txs[0].err, 0);
	f.busy = 0;
	fresh_dirs();
	tx_setup(&txs[0], "tmp/a>new/a", 0);
	before = stats();
	store_txn_commit(&txs[0].txn);
	conn_table_run_pre_flush(&f.t);
	assert_int_equal(stats().rounds, before.rounds + 1);
	assert_int_equal(count("new"), 2);		/* a and d */
	drive(MODE_LOOP);
	assert_int_equal(txs[0].calls, 1);
}

/* fn in each mode that can run here, from fresh directories. */
static void
each_mode(void (*fn)(enum mode))
{
	for (int m = MODE_LOOP; m <= MODE_URING; m++) {
		if (mode_start((enum mode)m)) {
			fresh_dirs();
			fn((enum mode)m);
		}
	}
}

/* Cancelled while waiting, or renamed but not yet synced: never called
 * back, no file left in tmp/ or in place. */
static void
cancel_in(enum mode m)
{
	char got[512];

	tx_setup(&txs[0], "tmp/a>new/a tmp2/b>new2/b", 0);
	tx_setup(&txs[1], "tmp/c>new/c", 0);
	store_txn_commit(&txs[0].txn);
	store_txn_commit(&txs[1].txn);
	store_txn_cancel(&txs[0].txn);
	assert_int_equal(stats().pending, 1);
	if (m == MODE_LOOP) {
		conn_table_run_pre_flush(&f.t);
		assert_int_equal(count("new"), 2);	/* c, d */
		store_txn_cancel(&txs[1].txn);		/* renamed */
	}
	drive(m);
	store_txn_cancel(&txs[0].txn);		/* idle: nothing */
	assert_int_equal(txs[0].calls, 0);
	assert_int_equal(txs[1].calls, m == MODE_LOOP ? 0 : 1);
	in_place(got, sizeof got);
	assert_string_equal(got, m == MODE_LOOP ? "" : "new/c");
	assert_int_equal(count("tmp") + count("tmp2"), 0);
	assert_int_equal(stats().pending, 0);
}

static void
test_cancel(void **state)
{
	(void)state;
	each_mode(cancel_in);
}

/* A callback commits the next transaction: it goes to a later round;
 * a failed one may commit too. */
static void
recommit_in(enum mode m)
{
	char got[512];

	tx_setup(&txs[0], "tmp/a>new/a", 0);
	tx_setup(&txs[1], "tmp/b>new/b", 0);
	tx_setup(&txs[2], "tmp/c>missing/c", 0);
	txs[0].again = &txs[1];
	txs[2].again = &txs[0];
	store_txn_commit(&txs[2].txn);
	drive(m);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(txs[i].calls, 1);
	}
	assert_int_equal(txs[2].err, ENOENT);
	in_place(got, sizeof got);
	assert_string_equal(got, "new/a new/b");
	assert_int_equal(count("tmp"), 0);
}

static void
test_commit_from_callback(void **state)
{
	(void)state;
	each_mode(recommit_in);
}

/* Discarding an uncommitted transaction removes its tmp/ files only. */
static void
test_discard(void **state)
{
	(void)state;
	mode_start(MODE_LOOP);
	fresh_dirs();
	tx_setup(&txs[0], "tmp/a>new/a tmp/p> -tmp2/b>new2/b", 0);
	store_txn_discard(&txs[0].txn);
	assert_int_equal(count("tmp") + count("tmp2"), 0);
	assert_int_equal(txs[0].calls, 0);
	assert_int_equal(stats().pending, 0);
}

/* A queue message is renamed, its directory made durable, and only
 * then its envelope renamed; a transaction without a barrier costs no
 * directory fsync in the loop. */
static void
barrier_in(enum mode m)
{
	char got[512];
	int rm, re, fm;

	tx_setup(&txs[0], "tmp/q>msg/q | tmp/q.env>env/q", 0);
	tx_setup(&txs[1], "tmp/a>new/a", 0);
	memset(&trace, 0, sizeof trace);
	trace.on = 1;
	store_txn_commit(&txs[0].txn);
	store_txn_commit(&txs[1].txn);
	drive(m);
	trace.on = 0;
	assert_int_equal(txs[0].calls, 1);
	assert_int_equal(txs[0].err, 0);
	in_place(got, sizeof got);
	assert_string_equal(got, "env/q msg/q new/a");
	rm = ev_find('R', "/msg/q");
	re = ev_find('R', "/env/q");
	assert_true(rm >= 0 && re > rm);
	if (m == MODE_LOOP) {
		fm = ev_find('F', "/msg");
		if (fm < rm || fm > re) {
			fail_msg("loop: no fsync of msg/ between the renames "
			    "of the message (%d) and its envelope (%d): %d",
			    rm, re, fm);
		}
		assert_true(ev_find('S', "") < rm);	/* data first */
	} else if (trace.ev[re].fsyncs <= trace.ev[rm].fsyncs) {
		fail_msg("io_uring: no fsync queued between the renames of "
		    "the message and its envelope");
	}
	if (m == MODE_LOOP) {
		fresh_dirs();
		tx_setup(&txs[1], "tmp/a>new/a tmp2/b>new2/b", 0);
		memset(&trace, 0, sizeof trace);
		trace.on = 1;
		store_txn_commit(&txs[1].txn);
		drive(m);
		trace.on = 0;
		assert_int_equal(ev_find('F', ""), -1);
	}
}

static void
test_barrier_order(void **state)
{
	(void)state;
	each_mode(barrier_in);
}

/* In the loop: the sync after the renames fails (EIO), or the fsync of
 * the barrier does, or the client leaves between the rename and its
 * 250: the transaction fails or is never called back, and neither
 * msg/ nor env/ keeps a file. */
static void
test_queue_rollback(void **state)
{
	char got[512];

	(void)state;
	mode_start(MODE_LOOP);
	for (int barrier = 0; barrier <= 1; barrier++) {
		const char *spec = barrier ?
		    "tmp/a>new/a tmp/q>msg/q | tmp/q.env>env/q" :
		    "tmp/a>new/a tmp/q>msg/q tmp/q.env>env/q";

		/* the sync that makes the renames durable fails */
		fresh_dirs();
		tx_setup(&txs[0], spec, 0);
		store_txn_commit(&txs[0].txn);
		conn_table_run_pre_flush(&f.t);
		in_place(got, sizeof got);
		assert_string_equal(got, "env/q msg/q new/a");
		trace.fail_syncfs = 1;
		conn_table_run_pre_flush(&f.t);
		trace.fail_syncfs = 0;
		assert_int_equal(txs[0].calls, 1);
		assert_int_equal(txs[0].err, EIO);
		in_place(got, sizeof got);
		assert_string_equal(got, "");
		assert_int_equal(count("tmp"), 0);
		assert_int_equal(stats().pending, 0);

		/* the client leaves between the rename and the callback */
		fresh_dirs();
		tx_setup(&txs[0], spec, 0);
		store_txn_commit(&txs[0].txn);
		conn_table_run_pre_flush(&f.t);
		in_place(got, sizeof got);
		assert_string_equal(got, "env/q msg/q new/a");
		store_txn_cancel(&txs[0].txn);
		drive(MODE_LOOP);
		assert_int_equal(txs[0].calls, 0);
		in_place(got, sizeof got);
		assert_string_equal(got, "");
		assert_int_equal(count("tmp"), 0);
	}
	/* the fsync of msg/ at the barrier fails: the envelope is never
	 * renamed, the message leaves msg/ */
	fresh_dirs();
	tx_setup(&txs[0], "tmp/q>msg/q | tmp/q.env>env/q", 0);
	tx_setup(&txs[1], "tmp/a>new/a", 0);
	memset(&trace, 0, sizeof trace);
	trace.on = 1;
	trace.fail_fsync = 1;
	store_txn_commit(&txs[0].txn);
	store_txn_commit(&txs[1].txn);
	drive(MODE_LOOP);
	trace.on = 0;
	trace.fail_fsync = 0;
	assert_int_equal(txs[0].calls, 1);
	assert_int_equal(txs[0].err, EIO);
	assert_int_equal(ev_find('R', "/env/q"), -1);
	assert_int_equal(txs[1].calls, 1);
	assert_int_equal(txs[1].err, 0);
	in_place(got, sizeof got);
	assert_string_equal(got, "new/a");
	assert_int_equal(count("tmp"), 0);
}

/* A first delivery creates home, Maildir and its subdirectories: each
 * new directory's entry is made durable by an fsync of its parent. */
static void
test_ensure_fsyncs_parents(void **state)
{
	static const char *const parents[] = { "", "/h", "/h/u",
	    "/h/u/Maildir" };
	char home[256], want[256];
	struct err e;

	(void)state;
	fresh_dirs();
	path_of(home, sizeof home, "h/u");
	memset(&trace, 0, sizeof trace);
	trace.on = 1;
	assert_int_equal(maildir_ensure(home, &e), 0);
	trace.on = 0;
	for (size_t i = 0; i < sizeof parents / sizeof parents[0]; i++) {
		snprintf(want, sizeof want, "%s%s", f.dir, parents[i]);
		if (ev_find('F', want) == -1) {
			fail_msg("%s: created below it, never fsync'd", want);
		}
	}
	/* Everything there: no fsync at all. */
	memset(&trace, 0, sizeof trace);
	trace.on = 1;
	assert_int_equal(maildir_ensure(home, &e), 0);
	trace.on = 0;
	assert_int_equal(ev_find('F', ""), -1);
}

static int
group_setup(void **state)
{
	struct err e;

	(void)state;
	log_set_level(LOG_LVL_WARN);
	snprintf(f.dir, sizeof f.dir, "/tmp/wren-txn-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	assert_int_equal(ev_init(&f.ev, 64, 16, &e), 0);
	assert_int_equal(conn_table_init(&f.t, &f.ev, 4, 4, &e), 0);
	if (store_txn_init(&f.ev, &f.t, &e) == -1) {
		fail_msg("%s", e.msg);
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	store_txn_shutdown();
	conn_table_destroy(&f.t);
	ev_destroy(&f.ev);
	assert_int_equal(nftw(f.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_loop),
		cmocka_unit_test(test_rows_uring),
		cmocka_unit_test(test_shared_sync),
		cmocka_unit_test(test_linger),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_commit_from_callback),
		cmocka_unit_test(test_discard),
		cmocka_unit_test(test_barrier_order),
		cmocka_unit_test(test_queue_rollback),
		cmocka_unit_test(test_ensure_fsyncs_parents),
	};

	return cmocka_run_group_tests_name("txn", tests, group_setup,
	    group_teardown);
}
