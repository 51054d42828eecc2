/* SPDX-License-Identifier: ISC */
/*
 * test_mbox_save.c - APPEND, MULTIAPPEND, COPY and MOVE into Maildir
 * folders (store/mbox_save.h; RFC 3501 6.3.11, 6.4.7, RFC 3502, RFC
 * 4315, RFC 6851), against real folders in a temporary directory.
 *
 * Store rounds run in the loop with syncfs (store_txn_no_uring) and
 * are driven by hand through the connection table's pre-flush hooks,
 * as test_txn.c does; the loop itself runs for inotify and the change
 * timer.
 *
 * Covered: UIDs in batch order in dovecot-uidlist and the index, a
 * session viewing the folder hearing EXISTS, CR LF stored as LF with
 * S= and W=, internal date as mtime, new/ without flags and cur/ with
 * them, keywords by name, hard links (link count 2), COPY into the
 * folder itself, COPY in several batches, MOVE, undo of a failed COPY,
 * copies linked in place (never in tmp/, no data sync: one directory
 * fsync a batch with io_uring),
 * abort at each stage, a destination that vanished, a source file
 * gone, the uidlist lock held by another process, the range sets, and
 * (when doveadm is installed and we are root) Dovecot reading the
 * result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/conn.h"
#include "core/ev.h"
#include "core/log.h"
#include "store/mbox.h"
#include "store/mbox_save.h"
#include "store/txn.h"

#define PATH_MAX_T	1024
#define EVS_MAX		4096
#define COPY_N		150	/* more than two batches */

struct result {
	int		calls;
	int		err;
	uint32_t	uidv, first;
	size_t		n;
};

static struct {
	struct ev		 ev;
	struct conn_table	 t;
	char			 root[64];
	char			 md[PATH_MAX_T];	/* root/Maildir */
	char			 dst[PATH_MAX_T];	/* root/Maildir/.Dst */
	struct mbox_view	 a, b;
	struct mbox_save	 sv;
	char			 evs[EVS_MAX];
	int			 changed;
} fx;

/* --- helpers -------------------------------------------------------- */

static void
on_changed(struct mbox_view *v)
{
	(void)v;
	fx.changed++;
}

static void
on_event(void *arg, enum mbox_event ev, uint32_t seq,
    const struct mbox_msg *m)
{
	char *s = arg;
	size_t len = strlen(s);
	const char *sp = len > 0 ? " " : "";

	(void)m;
	switch (ev) {
	case MBOX_EV_EXPUNGE:
		snprintf(s + len, EVS_MAX - len, "%sE%u", sp, seq);
		break;
	case MBOX_EV_EXISTS:
		snprintf(s + len, EVS_MAX - len, "%sX%u", sp, seq);
		break;
	case MBOX_EV_RECENT:
		snprintf(s + len, EVS_MAX - len, "%sR%u", sp, seq);
		break;
	case MBOX_EV_FLAGS:
		snprintf(s + len, EVS_MAX - len, "%sF%u", sp, seq);
		break;
	}
}

static const char *
update(struct mbox_view *v)
{
	fx.evs[0] = '\0';
	mbox_view_update(v, 1, on_event, fx.evs);
	return fx.evs;
}

static void
on_done(void *arg, int err, uint32_t uidv, uint32_t first, size_t n)
{
	struct result *r = arg;

	r->calls++;
	r->err = err;
	r->uidv = uidv;
	r->first = first;
	r->n = n;
}

/* Store rounds until r is called back. */
static void
drive(struct result *r)
{
	for (int i = 0; i < 20 && r->calls == 0; i++) {
		conn_table_run_pre_flush(&fx.t);
	}
	assert_int_equal(r->calls, 1);
}

static void
run_loop(void)
{
	for (int i = 0; i < 5; i++) {
		(void)ev_run_once(&fx.ev, 5);
	}
}

static void
mkfolder(const char *dir)
{
	const char *subs[] = { "", "/tmp", "/new", "/cur" };
	char p[PATH_MAX_T * 2];

	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", dir, subs[i]);
		assert_int_equal(mkdir(p, 0700), 0);
	}
}

static unsigned
count_dir(const char *dir, const char *sub)
{
	char p[PATH_MAX_T * 2];
	struct dirent *d;
	unsigned n = 0;
	DIR *dd;

	snprintf(p, sizeof p, "%s/%s", dir, sub);
	dd = opendir(p);
	assert_non_null(dd);
	while ((d = readdir(dd)) != NULL) {
		n += d->d_name[0] != '.';
	}
	closedir(dd);
	return n;
}

/* The name of the only (or first in readdir order) file in dir/sub
 * whose name contains part; 0 when none. */
static int
find_file(const char *dir, const char *sub, const char *part, char *out,
    size_t cap)
{
	char p[PATH_MAX_T * 2];
	struct dirent *d;
	DIR *dd;

	snprintf(p, sizeof p, "%s/%s", dir, sub);
	dd = opendir(p);
	assert_non_null(dd);
	while ((d = readdir(dd)) != NULL) {
		if (d->d_name[0] != '.' && strstr(d->d_name, part) != NULL) {
			snprintf(out, cap, "%s", d->d_name);
			closedir(dd);
			return 1;
		}
	}
	closedir(dd);
	return 0;
}

static size_t
slurp(const char *path, char *buf, size_t cap)
{
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd == -1) {
		buf[0] = '\0';
		return 0;
	}
	n = read(fd, buf, cap - 1);
	assert_true(n >= 0);
	close(fd);
	buf[n] = '\0';
	return (size_t)n;
}

/* fx.dst's dovecot-uidlist into buf, NUL terminated. */
static size_t
slurp_dst_uidlist(char *buf, size_t cap)
{
	char p[PATH_MAX_T * 2];

	snprintf(p, sizeof p, "%s/dovecot-uidlist", fx.dst);
	return slurp(p, buf, cap);
}

static void
put(const char *dir, const char *sub, const char *name, const char *body)
{
	char p[PATH_MAX_T * 2];
	int fd;

	snprintf(p, sizeof p, "%s/%s/%s", dir, sub, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
}

static void
sel(struct mbox_view *v, const char *dir)
{
	struct err e;

	v->changed = on_changed;
	if (mbox_select(dir, v, 0, &e) == -1) {
		fail_msg("mbox_select %s: %s", dir, e.msg);
	}
}

static void
begin(const char *dir)
{
	struct err e;

	if (mbox_save_begin(&fx.sv, dir, &e) == -1) {
		fail_msg("mbox_save_begin: %s", e.msg);
	}
}

/* One APPEND message from text (CR LF), in pieces of step bytes. */
static void
append_msg(unsigned flags, uint32_t kw, time_t date, const char *text,
    size_t step)
{
	size_t len = strlen(text);

	assert_int_equal(mbox_save_open(&fx.sv, flags, kw, date), 0);
	for (size_t i = 0; i < len; i += step) {
		assert_int_equal(mbox_save_write(&fx.sv, text + i,
		    len - i < step ? len - i : step), 0);
	}
	assert_int_equal(mbox_save_close(&fx.sv), 0);
}

static void
commit(struct result *r)
{
	memset(r, 0, sizeof *r);
	assert_int_equal(mbox_save_commit(&fx.sv, on_done, r), 0);
	assert_int_equal(r->calls, 0);		/* never at once */
	drive(r);
}

/* The n-th record line (1 = first after the header) of dir's
 * dovecot-uidlist: its uid and name. */
static int
uidlist_line(const char *dir, unsigned nth, unsigned *uid, char *name,
    size_t cap)
{
	char p[PATH_MAX_T * 2], buf[65536], *line, *save = NULL;
	unsigned k = 0;

	snprintf(p, sizeof p, "%s/dovecot-uidlist", dir);
	slurp(p, buf, sizeof buf);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (k++ == nth) {
			assert_non_null(colon);
			*uid = (unsigned)strtoul(line, NULL, 10);
			snprintf(name, cap, "%s", colon + 1);
			return 1;
		}
	}
	return 0;
}

static int
lock_exists(const char *dir)
{
	char p[PATH_MAX_T * 2];
	struct stat st;

	snprintf(p, sizeof p, "%s/dovecot-uidlist.lock", dir);
	return stat(p, &st) == 0;
}

/* Source INBOX with n messages "1.<i>" in cur/, seen. */
static void
source(unsigned n)
{
	char name[32], body[64];

	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof name, "1.%05u:2,S", i);
		snprintf(body, sizeof body, "Subject: %u\n\nbody %u\n", i, i);
		put(fx.md, "cur", name, body);
	}
	sel(&fx.a, fx.md);
}

/* --- fixtures ------------------------------------------------------- */

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct err e;

	(void)state;
	memset(&fx.a, 0, sizeof fx.a);
	memset(&fx.b, 0, sizeof fx.b);
	memset(&fx.sv, 0, sizeof fx.sv);
	fx.changed = 0;
	snprintf(fx.root, sizeof fx.root, "/tmp/wren-save.XXXXXX");
	assert_non_null(mkdtemp(fx.root));
	snprintf(fx.md, sizeof fx.md, "%s/Maildir", fx.root);
	snprintf(fx.dst, sizeof fx.dst, "%s/Maildir/.Dst", fx.root);
	mkfolder(fx.md);
	mkfolder(fx.dst);
	assert_int_equal(ev_init(&fx.ev, 1024, 64, &e), 0);
	assert_int_equal(conn_table_init(&fx.t, &fx.ev, 4, 4, &e), 0);
	if (mbox_init(&fx.ev, 4, &e) == -1 ||
	    mbox_save_init(&fx.ev, &fx.t, &e) == -1) {
		fail_msg("init: %s", e.msg);
	}
	store_txn_no_uring();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (fx.sv.view.mb != NULL) {
		mbox_save_end(&fx.sv);
	}
	mbox_shutdown();
	mbox_save_shutdown();
	conn_table_destroy(&fx.t);
	ev_destroy(&fx.ev);
	assert_int_equal(nftw(fx.root, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	return 0;
}

/* --- APPEND --------------------------------------------------------- */

/* One message: LF stored, S= and W= right, in cur/ with its flags,
 * mtime = internal date, UID 1 in dovecot-uidlist, nothing in tmp/, no
 * lock left, and a session on the folder hears EXISTS. */
static void
test_append_one(void **state)
{
	static const char text[] = "Subject: x\r\n\r\nline\r\nbare\rcr\r\n";
	char name[256], p[PATH_MAX_T * 2], buf[256];
	struct result r;
	struct stat st;
	unsigned uid;

	(void)state;
	sel(&fx.b, fx.dst);
	assert_string_equal(update(&fx.b), "");
	begin(fx.dst);
	/* pieces of 3 bytes: CR and LF fall in different writes */
	append_msg(MF_SEEN | MF_FLAGGED, 0, 1000000000, text, 3);
	assert_int_equal(count_dir(fx.dst, "tmp"), 1);
	commit(&r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.first, 1);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.uidv, mbox_uidvalidity(fx.b.mb));
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	assert_int_equal(count_dir(fx.dst, "new"), 0);
	assert_int_equal(count_dir(fx.dst, "cur"), 1);
	assert_false(lock_exists(fx.dst));
	/* 25 bytes stored, 29 with CR LF (the bare CR stays) */
	assert_true(find_file(fx.dst, "cur", ",S=25,W=29:2,FS", name,
	    sizeof name));
	snprintf(p, sizeof p, "%s/cur/%s", fx.dst, name);
	slurp(p, buf, sizeof buf);
	assert_string_equal(buf, "Subject: x\n\nline\nbare\rcr\n");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mtime, 1000000000);
	assert_true(uidlist_line(fx.dst, 1, &uid, buf, sizeof buf));
	assert_int_equal(uid, 1);
	assert_non_null(strstr(name, buf));
	assert_int_equal(strchr(buf, ':'), NULL);
	run_loop();
	assert_string_equal(update(&fx.b), "X1 R1");
	assert_int_equal(mbox_view_seq(&fx.b, 1)->flags,
	    MF_SEEN | MF_FLAGGED);
	assert_int_equal(mbox_view_seq(&fx.b, 1)->vsize, 29);
	assert_true(fx.changed > 0);
	mbox_save_end(&fx.sv);
	mbox_unselect(&fx.b);
}

/* No flags: new/ without ":2,", as Dovecot's APPEND; date 0 is now. */
static void
test_append_new(void **state)
{
	char name[256], p[PATH_MAX_T * 2];
	struct result r;
	struct stat st;
	time_t t0 = time(NULL);

	(void)state;
	put(fx.dst, "new", "1.delivered", "d\n");
	begin(fx.dst);
	append_msg(0, 0, 0, "a\r\n", 100);
	commit(&r);
	assert_int_equal(r.err, 0);
	assert_true(find_file(fx.dst, "new", ",S=2,W=3", name, sizeof name));
	assert_null(strchr(name, ':'));
	/* the save's own view took nothing from new/ (\Recent) */
	assert_true(find_file(fx.dst, "new", "1.delivered", name,
	    sizeof name));
	sel(&fx.b, fx.dst);
	assert_int_equal(fx.b.nrecent, 2);
	mbox_unselect(&fx.b);
	assert_true(find_file(fx.dst, "cur", ",S=2,W=3:2,", name,
	    sizeof name));
	snprintf(p, sizeof p, "%s/cur/%s", fx.dst, name);
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_mtime >= t0 && st.st_mtime <= time(NULL) + 1);
	mbox_save_end(&fx.sv);
}

/* What APPEND stores from the literal: CR LF as LF (Dovecot's
 * default), every other byte kept; S= the stored size, W= the size
 * with CR LF line ends. Each row runs with the literal in one piece
 * and byte by byte. */
static const struct write_row {
	const char	*desc;
	const char	*in;
	size_t		 len;
	const char	*out;
	size_t		 outlen;
	unsigned	 vsize;
} write_rows[] = {
	{ "CR LF becomes LF", "a\r\nb\r\n", 6, "a\nb\n", 4, 6 },
	{ "a bare LF is kept and counts two in W=", "a\nb\n", 4,
	    "a\nb\n", 4, 6 },
	{ "empty literal", "", 0, "", 0, 0 },
	{ "hostile: a bare CR is kept", "a\rb", 3, "a\rb", 3, 3 },
	{ "hostile: a CR at the very end is kept", "a\r", 2, "a\r", 2, 2 },
	{ "hostile: CR CR LF keeps one CR", "a\r\r\n", 4, "a\r\n", 3, 3 },
	{ "hostile: LF CR", "\n\r", 2, "\n\r", 2, 3 },
	{ "hostile: NUL bytes kept", "a\0\r\n\0", 5, "a\0\n\0", 4, 5 },
	{ "hostile: only CRs", "\r\r\r", 3, "\r\r\r", 3, 3 },
	{ "hostile: CR LF CR LF", "\r\n\r\n", 4, "\n\n", 2, 4 },
};

static void
test_write_table(void **state)
{
	char name[256], p[PATH_MAX_T * 2], want[16], got[64];
	size_t nrows = sizeof write_rows / sizeof write_rows[0];

	(void)state;
	begin(fx.dst);
	for (size_t i = 0; i < 2 * nrows; i++) {
		const struct write_row *w = &write_rows[i % nrows];
		size_t step = i < nrows ? (w->len ? w->len : 1) : 1;
		ssize_t n;
		int fd;

		assert_int_equal(mbox_save_open(&fx.sv, 0, 0, 0), 0);
		for (size_t k = 0; k < w->len; k += step) {
			assert_int_equal(mbox_save_write(&fx.sv, w->in + k,
			    w->len - k < step ? w->len - k : step), 0);
		}
		assert_int_equal(mbox_save_close(&fx.sv), 0);
		if (fx.sv.f[i].size != w->outlen ||
		    fx.sv.f[i].vsize != w->vsize) {
			fail_msg("%s: S=%llu W=%u", w->desc,
			    (unsigned long long)fx.sv.f[i].size,
			    fx.sv.f[i].vsize);
		}
		snprintf(want, sizeof want, "_%zu.", i);
		assert_true(find_file(fx.dst, "tmp", want, name, sizeof name));
		snprintf(p, sizeof p, "%s/tmp/%s", fx.dst, name);
		fd = open(p, O_RDONLY);
		assert_true(fd >= 0);
		n = read(fd, got, sizeof got);
		close(fd);
		if (n != (ssize_t)w->outlen || memcmp(got, w->out,
		    w->outlen) != 0) {
			fail_msg("%s: stored %zd bytes", w->desc, n);
		}
	}
	mbox_save_abort(&fx.sv);
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	mbox_save_end(&fx.sv);
}

/* MULTIAPPEND: three messages, one commit, consecutive UIDs after the
 * one there, in the order given. */
static void
test_multiappend(void **state)
{
	char name[256];
	struct result r;
	unsigned uid;

	(void)state;
	put(fx.dst, "cur", "1.old:2,S", "old\n");
	begin(fx.dst);
	for (int i = 0; i < 3; i++) {
		char text[32];

		snprintf(text, sizeof text, "Subject: %d\r\n\r\n", i);
		append_msg(MF_SEEN, 0, 0, text, 7);
	}
	assert_int_equal(count_dir(fx.dst, "tmp"), 3);
	commit(&r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.first, 2);
	assert_int_equal(r.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		char want[16];

		assert_true(uidlist_line(fx.dst, 2 + i, &uid, name,
		    sizeof name));
		assert_int_equal(uid, 2 + i);
		snprintf(want, sizeof want, "_%u.", i);
		assert_non_null(strstr(name, want));
	}
	assert_int_equal(mbox_uidnext(fx.sv.view.mb), 5);
	/* the save goes on with another batch */
	append_msg(0, 0, 0, "x\r\n", 1);
	commit(&r);
	assert_int_equal(r.first, 5);
	mbox_save_end(&fx.sv);
}

/* inotify sees the files in cur/ between the rename and the callback:
 * they must not be numbered then (in name order, "_10" before "_2"),
 * only by the save, in batch order; a file another process delivers
 * meanwhile is numbered after them. */
static void
test_multiappend_inotify_between(void **state)
{
	char name[256], want[16];
	struct result r;
	unsigned uid;

	(void)state;
	sel(&fx.b, fx.dst);
	begin(fx.dst);
	for (int i = 0; i < 12; i++) {
		append_msg(MF_SEEN, 0, 0, "m\r\n", 10);
	}
	memset(&r, 0, sizeof r);
	assert_int_equal(mbox_save_commit(&fx.sv, on_done, &r), 0);
	conn_table_run_pre_flush(&fx.t);	/* renamed, not called back */
	assert_int_equal(r.calls, 0);
	assert_int_equal(count_dir(fx.dst, "cur"), 12);
	put(fx.dst, "new", "2.other", "other\n");
	/* inotify read, not the loop (whose pre-flush runs rounds) */
	mbox_sync(fx.b.mb);
	assert_int_equal(r.calls, 0);
	assert_true(lock_exists(fx.dst));

	assert_string_equal(update(&fx.b), "");
	drive(&r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.first, 1);
	for (unsigned i = 0; i < 12; i++) {
		assert_true(uidlist_line(fx.dst, 1 + i, &uid, name,
		    sizeof name));
		assert_int_equal(uid, 1 + i);
		snprintf(want, sizeof want, "_%u.", i);
		assert_non_null(strstr(name, want));
	}
	run_loop();
	mbox_sync(fx.b.mb);
	assert_string_equal(update(&fx.b), "X13 R13");
	assert_true(uidlist_line(fx.dst, 13, &uid, name, sizeof name));
	assert_int_equal(uid, 13);
	assert_string_equal(name, "2.other");
	assert_false(uidlist_line(fx.dst, 14, &uid, name, sizeof name));
	mbox_save_end(&fx.sv);
	mbox_unselect(&fx.b);
}

/* Two APPENDs to one folder in the same round share the uidlist lock
 * (it is let go after the second) and get UIDs one after the other,
 * each batch's together. */
static void
test_two_saves_one_round(void **state)
{
	static struct mbox_save sv2;
	struct result r1, r2;
	struct err e;

	(void)state;
	begin(fx.dst);
	assert_int_equal(mbox_save_begin(&sv2, fx.dst, &e), 0);
	append_msg(MF_SEEN, 0, 0, "one\r\n", 10);
	append_msg(MF_SEEN, 0, 0, "two\r\n", 10);
	assert_int_equal(mbox_save_open(&sv2, MF_SEEN, 0, 0), 0);
	assert_int_equal(mbox_save_write(&sv2, "three\r\n", 7), 0);
	assert_int_equal(mbox_save_close(&sv2), 0);
	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	assert_int_equal(mbox_save_commit(&fx.sv, on_done, &r1), 0);
	assert_int_equal(mbox_save_commit(&sv2, on_done, &r2), 0);
	drive(&r1);
	drive(&r2);
	assert_int_equal(r1.err, 0);
	assert_int_equal(r2.err, 0);
	assert_int_equal(r1.n, 2);
	assert_int_equal(r2.n, 1);
	/* in the store's callback order: 1-2 and 3, or 1 and 2-3 */
	assert_true((r1.first == 1 && r2.first == 3) ||
	    (r2.first == 1 && r1.first == 2));
	assert_false(lock_exists(fx.dst));
	mbox_save_end(&sv2);
	mbox_save_end(&fx.sv);
}

/* The uidlist lines of a batch are written once its files are in
 * place and synced with their directories (the next round here): no
 * view learns of them before. A second save into the folder, written
 * behind the first, is numbered after it; a save given up after its
 * lines were written leaves UIDs nobody is shown. RENAME waits while
 * a save is begun (mbox_saving), for the folder and its parent. */
static void
test_lines_wait_for_sync(void **state)
{
	static struct mbox_save sv2, sv3;
	char buf[4096], parent[PATH_MAX_T];
	struct result r1, r2, r3;
	struct err e;

	(void)state;
	assert_true(snprintf(parent, sizeof parent, "%s/.Ds", fx.md) <
	    (int)sizeof parent);
	assert_int_equal(mbox_saving(fx.dst), 0);
	sel(&fx.a, fx.dst);
	begin(fx.dst);
	assert_int_equal(mbox_saving(fx.dst), 1);
	assert_int_equal(mbox_saving(fx.md), 0);	/* not a child */
	assert_int_equal(mbox_saving(parent), 0);	/* ".Ds" != ".Dst" */
	assert_int_equal(mbox_save_begin(&sv2, fx.dst, &e), 0);
	assert_int_equal(mbox_save_begin(&sv3, fx.dst, &e), 0);
	append_msg(MF_SEEN, 0, 0, "one\r\n", 10);
	assert_int_equal(mbox_save_open(&sv2, MF_SEEN, 0, 0), 0);
	assert_int_equal(mbox_save_write(&sv2, "two\r\n", 5), 0);
	assert_int_equal(mbox_save_close(&sv2), 0);
	assert_int_equal(mbox_save_open(&sv3, MF_SEEN, 0, 0), 0);
	assert_int_equal(mbox_save_write(&sv3, "three\r\n", 7), 0);
	assert_int_equal(mbox_save_close(&sv3), 0);
	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	memset(&r3, 0, sizeof r3);
	assert_int_equal(mbox_save_commit(&fx.sv, on_done, &r1), 0);
	assert_int_equal(mbox_save_commit(&sv2, on_done, &r2), 0);
	assert_int_equal(mbox_save_commit(&sv3, on_done, &r3), 0);
	/* round 1: data synced, renamed, lines written; not durable */
	conn_table_run_pre_flush(&fx.t);
	assert_int_equal(r1.calls + r2.calls + r3.calls, 0);
	assert_int_equal(count_dir(fx.dst, "cur"), 3);
	assert_true(slurp_dst_uidlist(buf, sizeof buf) > 0);
	assert_non_null(strstr(buf, "\n3 :"));
	/* inotify read now (the loop would run the store's timer: the
	 * next round, the callbacks) */
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a), "");		/* not yet */
	assert_int_equal(r1.calls + r2.calls + r3.calls, 0);
	/* sv2 is given up now: its file goes, its UID is never shown */
	mbox_save_abort(&sv2);
	assert_int_equal(count_dir(fx.dst, "cur"), 2);
	drive(&r1);
	drive(&r3);
	assert_int_equal(r2.calls, 0);
	assert_int_equal(r1.err, 0);
	assert_int_equal(r3.err, 0);
	assert_int_equal(r1.n + r3.n, 2);
	assert_true(r1.first != r3.first);
	assert_true(r1.first >= 1 && r1.first <= 3);
	assert_true(r3.first >= 1 && r3.first <= 3);
	assert_false(lock_exists(fx.dst));
	run_loop();
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a), "X2 R2");
	mbox_save_end(&sv3);
	mbox_save_end(&sv2);
	assert_int_equal(mbox_saving(fx.dst), 1);
	mbox_save_end(&fx.sv);
	assert_int_equal(mbox_saving(fx.dst), 0);
	mbox_unselect(&fx.a);
}

/* Keywords: created in the destination's dovecot-keywords, letters in
 * the name. */
static void
test_append_keywords(void **state)
{
	char name[256], p[PATH_MAX_T * 2], buf[256];
	struct result r;
	int k0, k1;

	(void)state;
	begin(fx.dst);
	k0 = mbox_save_keyword(&fx.sv, "$Forwarded", 10);
	k1 = mbox_save_keyword(&fx.sv, "Work", 4);
	assert_int_equal(k0, 0);
	assert_int_equal(k1, 1);
	assert_int_equal(mbox_save_keyword(&fx.sv, "$forwarded", 10), 0);
	append_msg(0, (1u << k0) | (1u << k1), 0, "k\r\n", 10);
	commit(&r);
	assert_int_equal(r.err, 0);
	assert_true(find_file(fx.dst, "cur", ":2,ab", name, sizeof name));
	snprintf(p, sizeof p, "%s/dovecot-keywords", fx.dst);
	slurp(p, buf, sizeof buf);
	assert_string_equal(buf, "0 $Forwarded\n1 Work\n");
	mbox_save_end(&fx.sv);
}

/* Abort at each stage leaves nothing, and the lock is let go. */
static void
test_abort(void **state)
{
	struct result r;

	(void)state;
	begin(fx.dst);
	/* mid-message */
	assert_int_equal(mbox_save_open(&fx.sv, 0, 0, 0), 0);
	assert_int_equal(mbox_save_write(&fx.sv, "abc", 3), 0);
	mbox_save_abort(&fx.sv);
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	/* closed messages, not committed */
	append_msg(0, 0, 0, "a\r\n", 10);
	append_msg(MF_SEEN, 0, 0, "b\r\n", 10);
	assert_int_equal(mbox_save_open(&fx.sv, 0, 0, 0), 0);
	mbox_save_abort(&fx.sv);
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	/* committed, not yet called back: cancelled, never called */
	append_msg(0, 0, 0, "a\r\n", 10);
	memset(&r, 0, sizeof r);
	assert_int_equal(mbox_save_commit(&fx.sv, on_done, &r), 0);
	assert_true(lock_exists(fx.dst));
	mbox_save_abort(&fx.sv);
	for (int i = 0; i < 4; i++) {
		conn_table_run_pre_flush(&fx.t);
	}
	assert_int_equal(r.calls, 0);
	assert_false(lock_exists(fx.dst));
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	assert_int_equal(count_dir(fx.dst, "new"), 0);
	assert_int_equal(count_dir(fx.dst, "cur"), 0);
	/* commit of nothing, or with a message open */
	assert_int_equal(mbox_save_commit(&fx.sv, on_done, &r), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(mbox_save_open(&fx.sv, 0, 0, 0), 0);
	assert_int_equal(mbox_save_commit(&fx.sv, on_done, &r), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	/* full batch */
	for (int i = 0; i < MBOX_SAVE_MAX; i++) {
		append_msg(0, 0, 0, "z\r\n", 10);
	}
	assert_true(mbox_save_full(&fx.sv));
	assert_int_equal(mbox_save_open(&fx.sv, 0, 0, 0), -1);
	assert_int_equal(errno, ENOBUFS);
	mbox_save_end(&fx.sv);
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	assert_null(fx.sv.view.mb);
}

/* A write fails mid-literal (EFBIG from RLIMIT_FSIZE, standing in
 * for ENOSPC): the rest of the literal is refused quickly, close
 * reports the error and drops that file; the batch's other messages
 * stay and commit. */
static void
test_append_write_fails(void **state)
{
	char big[4096];
	struct rlimit old, lim;
	struct result r;

	(void)state;
	memset(big, 'x', sizeof big);
	begin(fx.dst);
	append_msg(MF_SEEN, 0, 0, "ok\r\n", 10);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 1000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(mbox_save_open(&fx.sv, 0, 0, 0), 0);
	assert_int_equal(mbox_save_write(&fx.sv, big, sizeof big), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(mbox_save_write(&fx.sv, "y", 1), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(mbox_save_close(&fx.sv), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(count_dir(fx.dst, "tmp"), 1);
	commit(&r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(count_dir(fx.dst, "cur"), 1);
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	mbox_save_end(&fx.sv);
}

/* The folder is missing: ENOENT (TRYCREATE); cur/ vanished before the
 * round: the callback has the error and nothing stays. */
static void
test_append_dest_gone(void **state)
{
	char p[PATH_MAX_T * 2];
	struct result r;
	struct err e;

	(void)state;
	snprintf(p, sizeof p, "%s/.Nope", fx.md);
	assert_int_equal(mbox_save_begin(&fx.sv, p, &e), -1);
	assert_int_equal(errno, ENOENT);
	begin(fx.dst);
	append_msg(MF_SEEN, 0, 0, "a\r\n", 10);
	append_msg(MF_SEEN, 0, 0, "b\r\n", 10);
	snprintf(p, sizeof p, "%s/cur", fx.dst);
	assert_int_equal(rmdir(p), 0);
	commit(&r);
	assert_int_not_equal(r.err, 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	assert_int_equal(count_dir(fx.dst, "new"), 0);
	assert_false(lock_exists(fx.dst));
	mbox_save_end(&fx.sv);
}

/* Another process holds dovecot-uidlist.lock: EAGAIN at commit, the
 * batch dropped, the other's lock left alone. */
static void
test_append_locked(void **state)
{
	char p[PATH_MAX_T * 2];
	struct result r;

	(void)state;
	begin(fx.dst);
	append_msg(0, 0, 0, "a\r\n", 10);
	snprintf(p, sizeof p, "%s/dovecot-uidlist.lock", fx.dst);
	put(fx.dst, ".", "dovecot-uidlist.lock", "");
	assert_int_equal(mbox_save_commit(&fx.sv, on_done, &r), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	assert_true(lock_exists(fx.dst));
	assert_int_equal(unlink(p), 0);
	mbox_save_end(&fx.sv);
}

/* --- COPY and MOVE -------------------------------------------------- */

/* Three messages copied by hard link: link count 2, flags kept,
 * keywords mapped by name (the letters differ), UIDs in source order,
 * tmp/ empty. */
static void
test_copy_links(void **state)
{
	char name[256], p[PATH_MAX_T * 2], buf[256];
	struct mbox_uidset src, dst;
	struct result r;
	struct stat st;
	unsigned uid;

	(void)state;
	put(fx.md, ".", "dovecot-keywords", "0 Junk\n1 Work\n");
	put(fx.md, "cur", "1.a:2,Sb", "Subject: a\n\na\n");
	put(fx.md, "cur", "1.b:2,FS", "Subject: b\n\nb\n");
	put(fx.md, "cur", "1.c:2,", "Subject: c\n\nc\n");
	put(fx.dst, ".", "dovecot-keywords", "0 Other\n");
	sel(&fx.a, fx.md);
	begin(fx.dst);
	mbox_uidset_init(&src);
	mbox_uidset_init(&dst);
	for (uint32_t s = 1; s <= 3; s++) {
		const struct mbox_msg *m = mbox_view_seq(&fx.a, s);

		assert_int_equal(mbox_save_copy(&fx.sv, &fx.a, m), 0);
		assert_int_equal(mbox_uidset_add(&src, m->uid), 0);
	}
	commit(&r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.first, 1);
	assert_int_equal(r.n, 3);
	assert_int_equal(mbox_uidset_add_range(&dst, r.first,
	    r.first + 2), 0);
	assert_int_equal(mbox_uidset_format(&src, buf, sizeof buf), 3);
	assert_string_equal(buf, "1:3");
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	/* Work was b in the source, is b here too only by name */
	assert_true(find_file(fx.dst, "cur", "_0.", name, sizeof name));
	assert_non_null(strstr(name, ":2,Sb"));
	snprintf(p, sizeof p, "%s/cur/%s", fx.dst, name);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_nlink, 2);
	snprintf(p, sizeof p, "%s/dovecot-keywords", fx.dst);
	slurp(p, buf, sizeof buf);
	assert_string_equal(buf, "0 Other\n1 Work\n");
	assert_true(find_file(fx.dst, "cur", "_1.", name, sizeof name));
	assert_non_null(strstr(name, ",S=14,W=17:2,FS"));
	/* no flags: new/, as an APPEND without flags */
	assert_true(find_file(fx.dst, "new", "_2.", name, sizeof name));
	assert_null(strchr(name, ':'));
	for (unsigned i = 0; i < 3; i++) {
		char want[16];

		assert_true(uidlist_line(fx.dst, 1 + i, &uid, name,
		    sizeof name));
		assert_int_equal(uid, 1 + i);
		snprintf(want, sizeof want, "_%u.", i);
		assert_non_null(strstr(name, want));
	}
	mbox_save_end(&fx.sv);
	mbox_unselect(&fx.a);
}

/* Across file systems (a source folder on /dev/shm when that is
 * tmpfs and /tmp is not): link(2) fails with EXDEV, the bytes are
 * copied, the internal date kept; one inode each. */
static void
test_copy_exdev(void **state)
{
	char shm[64], p[PATH_MAX_T * 2], name[256], buf[PATH_MAX_T * 4];
	struct result r;
	struct stat st, sst;
	struct timespec ts[2] = { { 1200000000, 0 }, { 1200000000, 0 } };

	(void)state;
	snprintf(shm, sizeof shm, "/dev/shm/wren-save.XXXXXX");
	if (mkdtemp(shm) == NULL || stat(shm, &sst) == -1 ||
	    stat(fx.root, &st) == -1 || st.st_dev == sst.st_dev) {
		if (shm[0] != '\0') {
			(void)rmdir(shm);
		}
		skip();
	}
	snprintf(p, sizeof p, "%s/M", shm);
	mkfolder(p);
	put(p, "cur", "1.x:2,S", "Subject: x\n\nx\n");
	snprintf(buf, sizeof buf, "%s/cur/1.x:2,S", p);
	assert_int_equal(utimensat(AT_FDCWD, buf, ts, 0), 0);
	sel(&fx.a, p);
	begin(fx.dst);
	assert_int_equal(mbox_save_copy(&fx.sv, &fx.a,
	    mbox_view_seq(&fx.a, 1)), 0);
	commit(&r);
	assert_int_equal(r.err, 0);
	assert_true(find_file(fx.dst, "cur", ",S=14,W=17:2,S", name,
	    sizeof name));
	snprintf(buf, sizeof buf, "%s/cur/%s", fx.dst, name);
	assert_int_equal(stat(buf, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	assert_int_equal(st.st_mtime, 1200000000);
	slurp(buf, buf, sizeof buf);
	assert_string_equal(buf, "Subject: x\n\nx\n");
	mbox_save_end(&fx.sv);
	mbox_unselect(&fx.a);
	assert_int_equal(nftw(shm, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* COPY into the selected folder itself: new UIDs after the others, the
 * session hears EXISTS. */
static void
test_copy_same_folder(void **state)
{
	struct result r;

	(void)state;
	source(2);
	begin(fx.md);
	assert_int_equal(mbox_save_copy(&fx.sv, &fx.a,
	    mbox_view_seq(&fx.a, 2)), 0);
	assert_int_equal(mbox_save_copy(&fx.sv, &fx.a,
	    mbox_view_seq(&fx.a, 1)), 0);
	commit(&r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.first, 3);
	assert_int_equal(count_dir(fx.md, "cur"), 4);
	run_loop();
	assert_string_equal(update(&fx.a), "X4 R2");
	/* UID 3 is the copy of UID 2 (same bytes, one inode) */
	{
		struct stat s2, s3;
		int fd2 = mbox_open_msg(fx.a.mb, mbox_view_seq(&fx.a, 2), &s2);
		int fd3 = mbox_open_msg(fx.a.mb, mbox_view_seq(&fx.a, 3), &s3);

		assert_true(fd2 >= 0 && fd3 >= 0);
		assert_int_equal(s2.st_ino, s3.st_ino);
		close(fd2);
		close(fd3);
	}
	mbox_save_end(&fx.sv);
	mbox_unselect(&fx.a);
}

/* 150 messages in batches of MBOX_SAVE_MAX: consecutive UIDs, one
 * range each side; then MOVE: the sources expunged with events. */
static void
test_copy_batches_move(void **state)
{
	char buf[256];
	struct mbox_uidset src, dst;
	struct result r;
	uint32_t s = 1;

	(void)state;
	source(COPY_N);
	begin(fx.dst);
	mbox_uidset_init(&src);
	mbox_uidset_init(&dst);
	while (s <= COPY_N) {
		const struct mbox_msg *m = mbox_view_seq(&fx.a, s);

		assert_int_equal(mbox_save_copy(&fx.sv, &fx.a, m), 0);
		assert_int_equal(mbox_uidset_add(&src, m->uid), 0);
		s++;
		if (mbox_save_full(&fx.sv) || s > COPY_N) {
			commit(&r);
			assert_int_equal(r.err, 0);
			assert_int_equal(mbox_uidset_add_range(&dst, r.first,
			    r.first + (uint32_t)r.n - 1), 0);
		}
	}
	mbox_uidset_format(&dst, buf, sizeof buf);
	assert_string_equal(buf, "1:150");
	mbox_uidset_format(&src, buf, sizeof buf);
	assert_string_equal(buf, "1:150");
	assert_int_equal(count_dir(fx.dst, "cur"), COPY_N);
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	/* MOVE's second half on the source view */
	assert_string_equal(update(&fx.a), "");
	fx.evs[0] = '\0';
	assert_int_equal(mbox_expunge_uids(&fx.a, mbox_uidset_want, &src,
	    on_event, fx.evs), 0);
	assert_int_equal(strncmp(fx.evs, "E1 E1 E1", 8), 0);
	assert_int_equal(fx.a.exists, 0);
	assert_int_equal(count_dir(fx.md, "cur"), 0);
	mbox_save_end(&fx.sv);
	mbox_unselect(&fx.a);
}

/* A source file gone behind the index: ENOENT, and the COPY undone:
 * what earlier batches copied is removed, nothing in tmp/. */
static void
test_copy_source_gone_undo(void **state)
{
	char p[PATH_MAX_T * 2], name[64];
	struct mbox_uidset dst;
	struct result r;

	(void)state;
	source(4);
	begin(fx.dst);
	mbox_uidset_init(&dst);
	/* a first batch committed */
	assert_int_equal(mbox_save_copy(&fx.sv, &fx.a,
	    mbox_view_seq(&fx.a, 1)), 0);
	assert_int_equal(mbox_save_copy(&fx.sv, &fx.a,
	    mbox_view_seq(&fx.a, 2)), 0);
	commit(&r);
	assert_int_equal(r.err, 0);
	assert_int_equal(mbox_uidset_add_range(&dst, r.first, r.first + 1),
	    0);
	/* the second meets a file expunged by another hand */
	assert_int_equal(mbox_save_copy(&fx.sv, &fx.a,
	    mbox_view_seq(&fx.a, 3)), 0);
	snprintf(name, sizeof name, "1.%05u:2,S", 3u);
	snprintf(p, sizeof p, "%s/cur/%s", fx.md, name);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mbox_save_copy(&fx.sv, &fx.a,
	    mbox_view_seq(&fx.a, 4)), -1);
	assert_int_equal(errno, ENOENT);
	mbox_save_abort(&fx.sv);
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	assert_int_equal(mbox_save_undo(&fx.sv, &dst), 0);
	assert_int_equal(count_dir(fx.dst, "cur"), 0);
	assert_int_equal(count_dir(fx.dst, "new"), 0);
	/* the source's own files are still there (but the one removed) */
	assert_int_equal(count_dir(fx.md, "cur"), 3);
	mbox_save_end(&fx.sv);
	mbox_unselect(&fx.a);
}

/* A copy by hard link goes straight to its final name under the
 * uidlist lock (never through tmp/), and the commit takes it in place:
 * no data sync, no rename (store stats); 300 copies are one batch,
 * numbered in order; a folder locked by another process: EAGAIN at the
 * first copy, nothing left. */
static void
test_copy_in_place(void **state)
{
	struct store_txn_stats a, b;
	char name[256], want[32], p[PATH_MAX_T * 2];
	struct result r;
	unsigned uid;

	(void)state;
	source(300);
	begin(fx.dst);
	for (uint32_t s = 1; s <= 300; s++) {
		assert_false(mbox_save_full(&fx.sv));
		assert_int_equal(mbox_save_copy(&fx.sv, &fx.a,
		    mbox_view_seq(&fx.a, s)), 0);
		if (s == 1) {
			assert_true(lock_exists(fx.dst));
			assert_int_equal(count_dir(fx.dst, "tmp"), 0);
			assert_int_equal(count_dir(fx.dst, "cur"), 1);
			assert_true(find_file(fx.dst, "cur", "_0.", name,
			    sizeof name));
			assert_non_null(strstr(name, ",S=19,W=22:2,S"));
		}
	}
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	assert_int_equal(count_dir(fx.dst, "cur"), 300);
	store_txn_stats(&a);
	commit(&r);
	store_txn_stats(&b);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.first, 1);
	assert_int_equal(r.n, 300);
	assert_int_equal(b.inplace - a.inplace, 300);
	assert_int_equal(b.datasyncs - a.datasyncs, 0);
	assert_false(lock_exists(fx.dst));
	for (unsigned i = 0; i < 300; i += 37) {
		assert_true(uidlist_line(fx.dst, 1 + i, &uid, name,
		    sizeof name));
		assert_int_equal(uid, 1 + i);
		snprintf(want, sizeof want, "_%u.", i);
		assert_non_null(strstr(name, want));
	}
	/* the folder's own view learns of them without a second UID */
	run_loop();
	assert_int_equal(mbox_uidnext(fx.sv.view.mb), 301);
	/* locked by another process: refused at the first copy */
	snprintf(p, sizeof p, "%s/dovecot-uidlist.lock", fx.dst);
	put(fx.dst, ".", "dovecot-uidlist.lock", "");
	assert_int_equal(mbox_save_copy(&fx.sv, &fx.a,
	    mbox_view_seq(&fx.a, 1)), -1);
	assert_int_equal(errno, EAGAIN);
	mbox_save_abort(&fx.sv);
	assert_int_equal(count_dir(fx.dst, "cur"), 300);
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	assert_true(lock_exists(fx.dst));
	assert_int_equal(unlink(p), 0);
	mbox_save_end(&fx.sv);
	mbox_unselect(&fx.a);
}

/* With io_uring (skipped where the kernel refuses it): a COPY batch of
 * 200 links costs two syncs queued together, the destination
 * directory's and dovecot-uidlist's; no data fsync per message, none
 * run in the loop. */
static void
test_copy_uring_syncs(void **state)
{
	struct store_txn_stats a, b;
	struct result r;
	struct err e;

	(void)state;
	/* setup turned io_uring off: start the store again */
	mbox_save_shutdown();
	if (mbox_save_init(&fx.ev, &fx.t, &e) == -1) {
		fail_msg("init: %s", e.msg);
	}
	store_txn_stats(&a);
	if (!a.uring) {
		skip();
	}
	source(200);
	begin(fx.dst);
	for (uint32_t s = 1; s <= 200; s++) {
		assert_int_equal(mbox_save_copy(&fx.sv, &fx.a,
		    mbox_view_seq(&fx.a, s)), 0);
	}
	memset(&r, 0, sizeof r);
	assert_int_equal(mbox_save_commit(&fx.sv, on_done, &r), 0);
	for (int i = 0; i < 200 && r.calls == 0; i++) {
		conn_table_run_pre_flush(&fx.t);
		(void)ev_run_once(&fx.ev, 5);
	}
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 200);
	store_txn_stats(&b);
	assert_int_equal(b.fsyncs - a.fsyncs, 2);
	assert_int_equal(b.datasyncs - a.datasyncs, 0);
	assert_int_equal(count_dir(fx.dst, "cur"), 200);
	assert_int_equal(count_dir(fx.dst, "tmp"), 0);
	mbox_save_end(&fx.sv);
	mbox_unselect(&fx.a);
}

/* Copy across file systems cannot be tested without a second mount;
 * the range sets are tested here. */
static void
test_uidset(void **state)
{
	struct mbox_uidset set;
	char buf[64];

	(void)state;
	mbox_uidset_init(&set);
	assert_int_equal(mbox_uidset_format(&set, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	assert_int_equal(mbox_uidset_add(&set, 0), -1);
	assert_int_equal(mbox_uidset_add(&set, 4), 0);
	assert_int_equal(mbox_uidset_add(&set, 5), 0);
	assert_int_equal(mbox_uidset_add(&set, 9), 0);
	assert_int_equal(mbox_uidset_add_range(&set, 10, 12), 0);
	assert_int_equal(mbox_uidset_add(&set, 2), 0);
	assert_int_equal(mbox_uidset_add(&set, UINT32_MAX - 1), 0);
	assert_int_equal(mbox_uidset_add(&set, UINT32_MAX), 0);
	assert_int_equal(mbox_uidset_add_range(&set, 7, 6), -1);
	mbox_uidset_format(&set, buf, sizeof buf);
	assert_string_equal(buf, "4:5,9:12,2,4294967294:4294967295");
	assert_int_equal(mbox_uidset_format(&set, buf, 4), 32);
	assert_true(mbox_uidset_want(&set, 11));
	assert_false(mbox_uidset_want(&set, 6));
	mbox_uidset_init(&set);
	for (uint32_t u = 1; u <= 4 * MBOX_UIDSET_MAX; u += 2) {
		(void)mbox_uidset_add(&set, u);
	}
	assert_true(set.overflow);
	assert_int_equal(set.n, MBOX_UIDSET_MAX);
}

/* --- Dovecot -------------------------------------------------------- */

/* Dovecot reads what we saved: the same UIDs and flags. Needs doveadm
 * and root (its static userdb runs as nobody); skipped otherwise. */
static void
test_dovecot_reads(void **state)
{
	char conf[PATH_MAX_T * 2], cmd[PATH_MAX_T * 4], out[4096];
	struct result r;
	FILE *f;
	size_t n;
	int kw, rc;

	(void)state;
	if (geteuid() != 0 || access("/usr/bin/doveadm", X_OK) != 0) {
		skip();
	}
	begin(fx.dst);
	kw = mbox_save_keyword(&fx.sv, "Work", 4);
	append_msg(MF_SEEN, 1u << kw, 0, "Subject: 1\r\n\r\none\r\n", 5);
	append_msg(0, 0, 0, "Subject: 2\r\n\r\ntwo\r\n", 5);
	commit(&r);
	assert_int_equal(r.err, 0);
	source(2);
	assert_int_equal(mbox_save_copy(&fx.sv, &fx.a,
	    mbox_view_seq(&fx.a, 2)), 0);
	commit(&r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.first, 3);
	mbox_save_end(&fx.sv);
	mbox_unselect(&fx.a);
	snprintf(conf, sizeof conf, "%s/dovecot.conf", fx.root);
	f = fopen(conf, "w");
	assert_non_null(f);
	/* As test/data/maildir/regen.sh: a private instance for auth. */
	fprintf(f, "mail_location = maildir:%s\nfirst_valid_uid = 1\n"
	    "base_dir = %s/run\nlog_path = %s/log\nssl = no\n"
	    "protocols =\nlisten = 127.0.0.1\n"
	    "default_internal_user = root\ndefault_login_user = root\n"
	    "passdb {\n  driver = static\n  args = password=x\n}\n"
	    "userdb {\n  driver = static\n"
	    "  args = uid=65534 gid=65534 home=%s\n}\n", fx.md, fx.root,
	    fx.root, fx.root);
	fclose(f);
	snprintf(cmd, sizeof cmd, "chmod 0755 %s && chown -R 65534:65534 %s "
	    "&& dovecot -c %s", fx.root, fx.md, conf);
	if (system(cmd) != 0) {
		skip();
	}
	snprintf(cmd, sizeof cmd, "sleep 0.5; doveadm -c %s fetch -u test "
	    "'uid flags' mailbox Dst all 2>&1", conf);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	rc = pclose(f);
	/* Stop it by its PID. */
	snprintf(cmd, sizeof cmd, "kill $(cat %s/run/master.pid); "
	    "sleep 0.5", fx.root);
	(void)system(cmd);
	if (rc != 0) {
		fail_msg("doveadm: %s", out);
	}
	/* \Recent: Dovecot's own, per its index; not ours to compare. */
	for (char *rp; (rp = strstr(out, " \\Recent")) != NULL;) {
		memmove(rp, rp + 8, strlen(rp + 8) + 1);
	}
	for (char *rp; (rp = strstr(out, "\\Recent")) != NULL;) {
		memmove(rp, rp + 7, strlen(rp + 7) + 1);
	}
	/* doveadm's flow output: a form feed between messages */
	assert_string_equal(out, "uid: 1\nflags: \\Seen Work\n\f\n"
	    "uid: 2\nflags: \n\f\nuid: 3\nflags: \\Seen\n");
}

/* --- memory --------------------------------------------------------- */

static void
test_bytes(void **state)
{
	(void)state;
	assert_int_equal(mbox_save_bytes(), sizeof(struct mbox_save));
	/* a save in flight: below 2.5 KB besides its copies' records,
	 * each small */
	assert_true(sizeof(struct mbox_save_file) <= 24);
	assert_true(mbox_save_bytes() < 2560 + MBOX_COPY_MAX *
	    sizeof(struct mbox_save_file));
	assert_true(sizeof(struct mbox_uidset) < 1100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_append_one),
		T(test_append_new),
		T(test_write_table),
		T(test_multiappend),
		T(test_multiappend_inotify_between),
		T(test_two_saves_one_round),
		T(test_lines_wait_for_sync),
		T(test_append_keywords),
		T(test_abort),
		T(test_append_write_fails),
		T(test_append_dest_gone),
		T(test_append_locked),
		T(test_copy_links),
		T(test_copy_exdev),
		T(test_copy_same_folder),
		T(test_copy_batches_move),
		T(test_copy_source_gone_undo),
		T(test_copy_in_place),
		T(test_copy_uring_syncs),
		T(test_dovecot_reads),
		cmocka_unit_test(test_uidset),
		cmocka_unit_test(test_bytes),
#undef T
	};

	log_set_level(LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
