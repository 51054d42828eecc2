/* SPDX-License-Identifier: ISC */
/*
 * test_maildir.c - what a crash leaves in Maildir/tmp/ (store/maildir.h):
 * a table of files by age and kind, of which only regular files last
 * written 36 hours ago or more are removed (files being written, fresh
 * or future ones, directories, links and fifos stay); maildir_ensure
 * (every delivery, every POP3 login) sweeping a Maildir at its first
 * use, not again the same day, and a day later; a sweep cut short
 * after MAILDIR_TMP_SWEEP_MAX entries finishing an hour later; a clock
 * set back; tmp/ missing or a symlink, and paths too long.
 *
 * Ages are set back with utimensat from the real clock; the sweep
 * compares mtimes with the `now` it is given, so "a day later" is a
 * later now passed to maildir_tmp_check.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"
#include "store/maildir.h"

#define H	3600

static char home[64], md[96], tmpdir[128];

enum kind { REG, DIR_, LINK, FIFO };

static const struct {
	const char	*desc;
	const char	*name;
	enum kind	 kind;
	long		 age;		/* seconds before now */
	int		 kept;
} rows[] = {
	{ "written now", "now", REG, 0, 1 },
	{ "an hour old", "hour", REG, H, 1 },
	{ "35 hours old", "h35", REG, 35 * H, 1 },
	{ "a second short of 36 hours", "h36m", REG, 36 * H - 1, 1 },
	{ "from the future (clock)", "future", REG, -48 * H, 1 },
	/* What a kill -9 leaves: removed. */
	{ "36 hours old exactly", "h36", REG, 36 * H, 0 },
	{ "37 hours old", "1700000000.M1P2Q3.host", REG, 37 * H, 0 },
	{ "a month old", "month", REG, 30L * 24 * H, 0 },
	{ "a hidden file, old", ".hidden", REG, 40 * H, 0 },
	{ "a name with spaces and colons, old", "a b:2,S", REG, 40 * H,
	    0 },
	/* Not ours to remove, however old. */
	{ "an old directory", "olddir", DIR_, 40 * H, 1 },
	{ "an old symlink", "oldlink", LINK, 40 * H, 1 },
	{ "an old fifo", "oldfifo", FIFO, 40 * H, 1 },
};

static void
set_age(const char *path, long age, time_t now, int atime_too)
{
	struct timespec ts[2];

	ts[0].tv_sec = now - age;
	ts[0].tv_nsec = atime_too ? 0 : UTIME_OMIT;
	ts[1].tv_sec = now - age;
	ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW),
	    0);
}

static void
make(const char *name, enum kind k, long age, time_t now)
{
	char p[256];
	int fd;

	snprintf(p, sizeof p, "%s/%s", tmpdir, name);
	switch (k) {
	case REG:
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "partial", 7), 7);
		close(fd);
		break;
	case DIR_:
		assert_int_equal(mkdir(p, 0700), 0);
		break;
	case LINK:
		assert_int_equal(symlink("/etc/passwd", p), 0);
		break;
	case FIFO:
		assert_int_equal(mkfifo(p, 0600), 0);
		break;
	}
	set_age(p, age, now, 0);
}

static int
exists(const char *name)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", tmpdir, name);
	return lstat(p, &st) == 0;
}

static int
count_tmp(void)
{
	char cmd[200];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof cmd, "ls -A %s | wc -l", tmpdir);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

static int
setup(void **state)
{
	struct err e;

	(void)state;
	log_set_level(LOG_LVL_ERROR + 0);
	snprintf(home, sizeof home, "/tmp/wren-maildir-XXXXXX");
	assert_non_null(mkdtemp(home));
	snprintf(md, sizeof md, "%s/Maildir", home);
	snprintf(tmpdir, sizeof tmpdir, "%s/Maildir/tmp", home);
	assert_int_equal(maildir_ensure(home, &e), 0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_rows(void **state)
{
	time_t now = time(NULL);
	int want = 0;

	(void)state;
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		make(rows[r].name, rows[r].kind, rows[r].age, now);
		want += !rows[r].kept;
	}
	assert_int_equal(maildir_tmp_sweep(md, now), want);
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		if (exists(rows[r].name) != rows[r].kept) {
			fail_msg("%s: %s", rows[r].desc, rows[r].kept ?
			    "removed" : "kept");
		}
	}
	/* Again: nothing more to remove. */
	assert_int_equal(maildir_tmp_sweep(md, now), 0);
}

/* The hook: maildir_ensure sweeps a Maildir at its first use by the
 * process, then not again that day, then a day later. */
static void
test_ensure_sweeps_first_use_then_daily(void **state)
{
	char h2[128], t2[512], f[200];
	struct err e;
	time_t now = time(NULL), back;
	int fd;

	(void)state;
	/* A Maildir made before (by another process): its first use. */
	snprintf(h2, sizeof h2, "%s/other", home);
	snprintf(t2, sizeof t2, "mkdir -p %s/Maildir/tmp %s/Maildir/new "
	    "%s/Maildir/cur", h2, h2, h2);
	assert_int_equal(system(t2), 0);
	snprintf(t2, sizeof t2, "%s/Maildir", h2);
	snprintf(f, sizeof f, "%s/Maildir/tmp/crash0", h2);
	fd = open(f, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	set_age(f, 40 * H, now, 1);
	assert_int_equal(maildir_ensure(h2, &e), 0);
	assert_int_equal(access(f, F_OK), -1);
	/* setup's maildir_ensure was this Maildir's first use: a crash
	 * now waits for the next day, however many deliveries come. */
	make("crash1", REG, 40 * H, now);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(maildir_ensure(home, &e), 0);
	}
	assert_true(exists("crash1"));
	assert_int_equal(maildir_tmp_check(md, now + 23 * H), 0);
	assert_true(exists("crash1"));
	assert_int_equal(maildir_tmp_check(md, now + 24 * H + 10), 0);
	assert_false(exists("crash1"));
	/* The day after that, again. */
	make("crash2", REG, 40 * H, now);
	assert_int_equal(maildir_tmp_check(md, now + 24 * H + 20), 0);
	assert_true(exists("crash2"));
	assert_int_equal(maildir_tmp_check(md, now + 48 * H + 10), 0);
	assert_false(exists("crash2"));
	/* The clock set back three days: the next sweep, three days
	 * away, means nothing; swept now. */
	back = now - 72 * H;
	make("crash3", REG, 40 * H, back);
	assert_int_equal(maildir_tmp_check(md, back), 0);
	assert_false(exists("crash3"));
}

/* More entries than a sweep looks at: it stops, and is due again an
 * hour later, not a day. */
static void
test_sweep_is_bounded(void **state)
{
	time_t now = time(NULL);
	int n = MAILDIR_TMP_SWEEP_MAX + 88, left;

	(void)state;
	for (int i = 0; i < n; i++) {
		char name[32];

		snprintf(name, sizeof name, "partial.%d", i);
		make(name, REG, 40 * H, now);
	}
	assert_int_equal(maildir_tmp_sweep(md, now), MAILDIR_TMP_SWEEP_MAX);
	left = count_tmp();
	assert_int_equal(left, n - MAILDIR_TMP_SWEEP_MAX);
	assert_int_equal(maildir_tmp_check(md, now + 10), 0);
	assert_int_equal(count_tmp(), left);
	assert_int_equal(maildir_tmp_check(md, now + MAILDIR_TMP_RETRY),
	    0);
	assert_int_equal(count_tmp(), 0);
	/* Complete this time: the next is a day away. */
	make("late", REG, 40 * H, now);
	assert_int_equal(maildir_tmp_check(md, now + 2 * MAILDIR_TMP_RETRY),
	    0);
	assert_true(exists("late"));
}

/* Hostile paths: no tmp/, tmp/ a symlink, names too long. */
static void
test_bad_paths(void **state)
{
	char p[600], t2[200], target[200];
	struct err e;
	time_t now = time(NULL);

	(void)state;
	snprintf(p, sizeof p, "%s/nowhere", home);
	assert_int_equal(maildir_tmp_check(p, now), -1);
	assert_int_equal(maildir_tmp_check(p, now), 0);	/* not retried */
	assert_int_equal(maildir_tmp_sweep(p, now), -1);
	memset(p, 'x', sizeof p - 1);
	p[0] = '/';
	p[sizeof p - 1] = '\0';
	assert_int_equal(maildir_tmp_sweep(p, now), -1);
	assert_int_equal(maildir_tmp_check(p, now), -1);
	assert_int_equal(maildir_ensure(p, &e), -1);
	/* tmp/ a symlink to somewhere else: not followed. */
	snprintf(target, sizeof target, "%s/elsewhere", home);
	assert_int_equal(mkdir(target, 0700), 0);
	snprintf(p, sizeof p, "%s/elsewhere/old", home);
	assert_int_equal(close(open(p, O_WRONLY | O_CREAT, 0600)), 0);
	set_age(p, 40 * H, now, 1);
	snprintf(t2, sizeof t2, "%s/linked", home);
	assert_int_equal(mkdir(t2, 0700), 0);
	snprintf(t2, sizeof t2, "%s/linked/tmp", home);
	assert_int_equal(symlink(target, t2), 0);
	snprintf(t2, sizeof t2, "%s/linked", home);
	assert_int_equal(maildir_tmp_sweep(t2, now), -1);
	assert_int_equal(access(p, F_OK), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ensure_sweeps_first_use_then_daily, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_is_bounded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_paths, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("maildir", tests, NULL, NULL);
}
