/* SPDX-License-Identifier: ISC */
/*
 * test_mbox.c - the shared Maildir index and the sessions' views of it
 * (store/mbox.h), against real Maildirs in a temporary directory.
 *
 * Each test gets a fresh Maildir (tmp/, new/, cur/), an event loop and
 * mbox_init; it leaves through mbox_shutdown and the directory is
 * removed. "Another process" is the test itself writing, renaming or
 * unlinking files behind the index's back; inotify brings those in at
 * mbox_sync (or when the loop dispatches the inotify fd).
 *
 * Covered: UIDs given to a folder without dovecot-uidlist (name order,
 * a v3 header), re-open, the Maildir made by the real Dovecot
 * (test/data/maildir, see regen.sh), two and three views (FLAGS,
 * EXPUNGE only when allowed, RFC 3501 7.4.1 sequence renumbering while
 * tombstones wait), delivery, renames and deletes by others, the
 * sequence / UID lookups at their edges, keywords, broken uidlists,
 * names without ":2," or W=, a 10,000-message folder, and the
 * CONDSTORE modseqs kept in wren-modseq across closes, crashes, a lost
 * file and changes by other processes.
 *
 * The tests named test_bug_* show faults found in review; they fail
 * until the fix proposed with them is in (see the comment on each).
 *
 * Events a view hears are written as one string: "E2" = "* 2 EXPUNGE",
 * "X5" = "* 5 EXISTS", "R1" = "* 1 RECENT", "F3:7" = FETCH FLAGS of
 * sequence 3 (UID 7), separated by spaces.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/ev.h"
#include "core/log.h"
#include "store/mbox.h"

#define PATH_MAX_T	1024
#define EVS_MAX		4096
#define BIG_N		10000

static struct {
	struct ev	 ev;
	char		 root[64];
	char		 md[PATH_MAX_T];	/* root/Maildir */
	struct mbox_view a, b, c;	/* outlive a test: see shutdown */
	int		 changed;
	char		 evs[EVS_MAX];
} fx;

/* --- helpers -------------------------------------------------------- */

/* Each view attached when the folder changed hears it. */
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
		assert_non_null(m);
		snprintf(s + len, EVS_MAX - len, "%sF%u:%u", sp, seq, m->uid);
		break;
	}
}

/* mbox_view_update, events as a string. */
static const char *
update(struct mbox_view *v, int allow_expunge)
{
	fx.evs[0] = '\0';
	mbox_view_update(v, allow_expunge, on_event, fx.evs);
	return fx.evs;
}

/* EXPUNGE as imap_session.c's cmd_expunge runs it: the updates first
 * (mbox_expunge reports through fn only for a view that has heard
 * every earlier expunge), then the expunge; all the client hears. */
static const char *
expunge(struct mbox_view *v)
{
	fx.evs[0] = '\0';
	mbox_view_update(v, 1, on_event, fx.evs);
	assert_int_equal(mbox_expunge(v, NULL, NULL, on_event, fx.evs), 0);
	return fx.evs;
}

/* Turns of the loop until the change callback ran (it runs from a
 * timer, never inside the call that made the change). */
static void
run_loop_until_changed(int before)
{
	for (int i = 0; i < 50 && fx.changed == before; i++) {
		ev_run_once(&fx.ev, 20);
	}
}

static void
md_path(char *out, const char *sub, const char *name)
{
	int n = snprintf(out, PATH_MAX_T, "%s/%s%s%s", fx.md, sub,
	    name != NULL ? "/" : "", name != NULL ? name : "");

	assert_true(n > 0 && n < PATH_MAX_T);
}

static void
write_path(const char *p, const char *body, size_t len, int flags)
{
	int fd = open(p, O_WRONLY | O_CREAT | flags, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* A file put straight into sub/ (as if there before the test). */
static void
put(const char *sub, const char *name, const char *body)
{
	char p[PATH_MAX_T];

	md_path(p, sub, name);
	write_path(p, body, strlen(body), O_TRUNC);
}

/* Delivery by another process: written in tmp/, renamed into new/. */
static void
deliver(const char *name, const char *body)
{
	char t[PATH_MAX_T], n[PATH_MAX_T];

	md_path(t, "tmp", name);
	md_path(n, "new", name);
	write_path(t, body, strlen(body), O_TRUNC);
	assert_int_equal(rename(t, n), 0);
}

static void
mv(const char *fsub, const char *from, const char *tsub, const char *to)
{
	char f[PATH_MAX_T], t[PATH_MAX_T];

	md_path(f, fsub, from);
	md_path(t, tsub, to);
	assert_int_equal(rename(f, t), 0);
}

static int
has_file(const char *sub, const char *name)
{
	char p[PATH_MAX_T];
	struct stat st;

	md_path(p, sub, name);
	return stat(p, &st) == 0;
}

static unsigned
count_dir(const char *sub)
{
	char p[PATH_MAX_T];
	struct dirent *d;
	unsigned n = 0;
	DIR *dir;

	md_path(p, sub, NULL);
	dir = opendir(p);
	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL) {
		n += d->d_name[0] != '.';
	}
	closedir(dir);
	return n;
}

/* A control file (dovecot-uidlist ...) into buf, NUL terminated. */
static size_t
slurp(const char *name, char *buf, size_t cap)
{
	char p[PATH_MAX_T];
	ssize_t n;
	int fd;

	md_path(p, name, NULL);
	fd = open(p, O_RDONLY);
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

static void
spit(const char *name, const char *text)
{
	char p[PATH_MAX_T];

	md_path(p, name, NULL);
	write_path(p, text, strlen(text), O_TRUNC);
}

static void
append_to(const char *name, const char *text)
{
	char p[PATH_MAX_T];

	md_path(p, name, NULL);
	write_path(p, text, strlen(text), O_APPEND);
}

static void
sel(struct mbox_view *v, int readonly)
{
	struct err e;

	e.msg[0] = '\0';
	v->changed = on_changed;
	if (mbox_select(fx.md, v, readonly, &e) == -1) {
		fail_msg("mbox_select: %s", e.msg);
	}
}

/* The whole message of record m, NUL terminated. */
static void
read_msg(struct mbox_view *v, const struct mbox_msg *m, char *buf,
    size_t cap)
{
	struct stat st;
	int fd = mbox_open_msg(v->mb, m, &st);
	ssize_t n;

	if (fd < 0) {
		fail_msg("mbox_open_msg uid %u: %s", m->uid, strerror(errno));
	}
	n = read(fd, buf, cap - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_int_equal((off_t)n, st.st_size);
	close(fd);
}

static uint32_t
uid_at(struct mbox_view *v, uint32_t seq)
{
	const struct mbox_msg *m = mbox_view_seq(v, seq);

	return m != NULL ? m->uid : 0;
}

/* Sets flags on the message at seq (keeping its keywords). */
static void
store(struct mbox_view *v, uint32_t seq, unsigned flags)
{
	const struct mbox_msg *m = mbox_view_seq(v, seq);

	assert_non_null(m);
	assert_int_equal(mbox_store(v, m, flags, m->keywords), 0);
}

/* n messages in cur/ named "1.<letter>:2," (UIDs 1..n in order). */
static void
cur_letters(unsigned n)
{
	char name[32];

	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof name, "1.%c:2,", 'a' + i);
		put("cur", name, "From: x\n\nbody\n");
	}
}

static int
rm_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)type;
	(void)f;
	return remove(p);
}

static int
setup(void **state)
{
	const char *subs[] = { "", "/tmp", "/new", "/cur" };
	struct err e;

	(void)state;
	memset(&fx.a, 0, sizeof fx.a);
	memset(&fx.b, 0, sizeof fx.b);
	memset(&fx.c, 0, sizeof fx.c);
	fx.changed = 0;
	snprintf(fx.root, sizeof fx.root, "/tmp/wren-mbox.XXXXXX");
	assert_non_null(mkdtemp(fx.root));
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(fx.md, sizeof fx.md, "%s/Maildir%s", fx.root,
		    subs[i]);
		assert_int_equal(mkdir(fx.md, 0700), 0);
	}
	snprintf(fx.md, sizeof fx.md, "%s/Maildir", fx.root);
	assert_int_equal(ev_init(&fx.ev, 1024, 64, &e), 0);
	if (mbox_init(&fx.ev, 8, &e) == -1) {
		fail_msg("mbox_init: %s", e.msg);
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	mbox_shutdown();
	ev_destroy(&fx.ev);
	assert_int_equal(nftw(fx.root, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	return 0;
}

/* --- opening -------------------------------------------------------- */

/* No dovecot-uidlist: UIDs 1..n in name order, a v3 header written,
 * new/ moved to cur/ by a read-write SELECT, new/ files are recent. */
static void
test_open_fresh(void **state)
{
	static const char *want_names[] = {
		"100.a.h:2,S", "100.c.h:2,", "200.b.h:2,", "200.d.h:2,",
		"200.e.h,S=5:2,",
	};
	char buf[4096], guid[64], msg[256];
	unsigned v3, uv, next;
	time_t t0 = time(NULL), t1;
	int pos = 0;

	(void)state;
	put("cur", "100.a.h:2,S", "one\n");
	put("cur", "100.c.h:2,", "two\n");
	put("new", "200.b.h", "three\n");
	put("new", "200.d.h", "four\n");
	put("new", "200.e.h,S=5", "five\n");
	sel(&fx.a, 0);
	t1 = time(NULL);

	assert_int_equal(fx.a.exists, 5);
	assert_int_equal(mbox_uidnext(fx.a.mb), 6);
	assert_true(mbox_uidvalidity(fx.a.mb) >= (uint32_t)t0 &&
	    mbox_uidvalidity(fx.a.mb) <= (uint32_t)t1);
	assert_string_equal(mbox_path(fx.a.mb), fx.md);

	/* dovecot-uidlist: "3 V<uv> N<next> G<32 hex>", then the records. */
	slurp("dovecot-uidlist", buf, sizeof buf);
	assert_int_equal(sscanf(buf, "%u V%u N%u G%63s\n%n", &v3, &uv, &next,
	    guid, &pos), 4);
	assert_int_equal(v3, 3);
	assert_int_equal(uv, mbox_uidvalidity(fx.a.mb));
	assert_int_equal(next, 6);
	assert_int_equal(strlen(guid), 32);
	assert_int_equal(strspn(guid, "0123456789abcdef"), 32);
	assert_string_equal(strchr(buf, '\n') + 1,
	    "1 :100.a.h\n2 :100.c.h\n3 :200.b.h\n4 :200.d.h\n"
	    "5 :200.e.h,S=5\n");
	assert_false(has_file("", "dovecot-uidlist.lock"));

	/* new/ -> cur/ with ":2," added. */
	assert_int_equal(count_dir("new"), 0);
	assert_int_equal(count_dir("cur"), 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_true(has_file("cur", want_names[i]));
	}

	/* Sequence i is UID i; the bodies follow the names. */
	for (uint32_t s = 1; s <= 5; s++) {
		assert_int_equal(uid_at(&fx.a, s), s);
	}
	read_msg(&fx.a, mbox_view_seq(&fx.a, 1), msg, sizeof msg);
	assert_string_equal(msg, "one\n");
	read_msg(&fx.a, mbox_view_seq(&fx.a, 3), msg, sizeof msg);
	assert_string_equal(msg, "three\n");
	read_msg(&fx.a, mbox_view_seq(&fx.a, 5), msg, sizeof msg);
	assert_string_equal(msg, "five\n");
	assert_int_equal(mbox_view_seq(&fx.a, 1)->flags & MF_KNOWN, MF_SEEN);
	assert_int_equal(mbox_view_seq(&fx.a, 2)->flags, 0);

	/* \Recent: what was in new/. */
	assert_int_equal(fx.a.nrecent, 3);
	for (uint32_t s = 1; s <= 5; s++) {
		assert_int_equal(mbox_view_recent(&fx.a,
		    mbox_view_seq(&fx.a, s)), s >= 3);
	}
	assert_int_equal(mbox_view_first_unseen(&fx.a), 2);
	assert_int_equal(mbox_view_last_uid(&fx.a), 5);

	/* A second session: same messages, none recent for it. */
	sel(&fx.b, 0);
	assert_ptr_equal(fx.a.mb, fx.b.mb);
	assert_int_equal(fx.b.exists, 5);
	assert_int_equal(fx.b.nrecent, 0);
	mbox_unselect(&fx.b);
	mbox_unselect(&fx.a);
	assert_null(fx.a.mb);
}

/* UIDs follow the name across new/ and cur/; EXAMINE moves nothing. */
static void
test_open_name_order_examine(void **state)
{
	(void)state;
	put("cur", "1.b:2,", "b\n");
	put("new", "1.a", "a\n");
	put("new", "1.c", "c\n");
	put("cur", "1.d:2,F", "d\n");
	sel(&fx.a, 1);
	assert_int_equal(fx.a.exists, 4);
	assert_int_equal(fx.a.nrecent, 0);
	for (uint32_t s = 1; s <= 4; s++) {
		assert_int_equal(uid_at(&fx.a, s), s);
	}
	assert_int_equal(mbox_view_seq(&fx.a, 4)->flags & MF_KNOWN,
	    MF_FLAGGED);
	for (uint32_t s = 1; s <= 4; s++) {
		char msg[16], want[16];

		read_msg(&fx.a, mbox_view_seq(&fx.a, s), msg, sizeof msg);
		snprintf(want, sizeof want, "%c\n", 'a' + (int)s - 1);
		assert_string_equal(msg, want);
	}
	/* read-only: still in new/ */
	assert_true(has_file("new", "1.a"));
	assert_true(has_file("new", "1.c"));
	mbox_unselect(&fx.a);

	/* RFC 3501 6.3.2: EXAMINE must not take \Recent away. */
	sel(&fx.a, 0);
	assert_false(has_file("new", "1.a"));
	assert_true(has_file("cur", "1.a:2,"));
	mbox_unselect(&fx.a);
}

/* Closing and opening again keeps UIDs, UIDVALIDITY and the file. */
static void
test_reopen(void **state)
{
	char before[4096], after[4096], msg[64];
	uint32_t uv;

	(void)state;
	put("new", "5.x", "x\n");
	put("new", "6.y", "y\n");
	put("cur", "4.w:2,S", "w\n");
	sel(&fx.a, 0);
	uv = mbox_uidvalidity(fx.a.mb);
	assert_int_equal(fx.a.nrecent, 2);
	mbox_unselect(&fx.a);
	slurp("dovecot-uidlist", before, sizeof before);

	sel(&fx.a, 0);
	slurp("dovecot-uidlist", after, sizeof after);
	assert_string_equal(before, after);
	assert_int_equal(mbox_uidvalidity(fx.a.mb), uv);
	assert_int_equal(mbox_uidnext(fx.a.mb), 4);
	assert_int_equal(fx.a.exists, 3);
	assert_int_equal(fx.a.nrecent, 0);	/* all in cur/ now */
	read_msg(&fx.a, mbox_view_seq(&fx.a, 1), msg, sizeof msg);
	assert_string_equal(msg, "w\n");
	read_msg(&fx.a, mbox_view_seq(&fx.a, 3), msg, sizeof msg);
	assert_string_equal(msg, "y\n");
	mbox_unselect(&fx.a);
}

/* The Maildir that Dovecot 2.3 made (test/data/maildir/regen.sh). */
static void
copy_dovecot_maildir(void)
{
	const char *data = getenv("WREN_TEST_DATA");
	char cmd[8 * PATH_MAX_T];

	if (data == NULL) {
		data = "test/data";
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -R '%s/maildir/Maildir'"
	    " '%s' && mkdir -p '%s/tmp' '%s/.Archive/tmp'", fx.md, data,
	    fx.md, fx.md, fx.md);
	assert_int_equal(system(cmd), 0);
}

struct dovecot_want {
	uint32_t	 uid;
	unsigned	 flags;
	const char	*kw[3];
	const char	*subject;
};

static void
check_dovecot(struct mbox_view *v, const struct dovecot_want *w, size_t n)
{
	char msg[256], subj[64];

	assert_int_equal(v->exists, n);
	for (size_t i = 0; i < n; i++) {
		uint32_t seq = 0, kws = 0;
		const struct mbox_msg *m = mbox_view_uid(v, w[i].uid, &seq);

		assert_non_null(m);
		assert_int_equal(seq, i + 1);
		assert_int_equal(m->flags, w[i].flags);
		assert_int_equal(m->vsize, 61);	/* W=61 */
		for (size_t k = 0; k < 3 && w[i].kw[k] != NULL; k++) {
			int idx = mbox_keyword(v->mb, w[i].kw[k],
			    strlen(w[i].kw[k]), 0);

			assert_true(idx >= 0);
			kws |= 1u << idx;
		}
		assert_int_equal(m->keywords, kws);
		read_msg(v, m, msg, sizeof msg);
		snprintf(subj, sizeof subj, "Subject: %s\n", w[i].subject);
		assert_non_null(strstr(msg, subj));
	}
}

static void
test_dovecot_maildir(void **state)
{
	static const struct dovecot_want inbox[] = {
		{ 1, MF_SEEN, { NULL }, "message 1" },
		{ 2, MF_SEEN, { "$Label1", "Junk", NULL }, "message 2" },
		{ 3, MF_DRAFT | MF_FLAGGED | MF_REPLIED, { NULL },
		    "message 3" },
		{ 4, 0, { "$Label1", "NonJunk", NULL }, "message 4" },
	};
	static const struct dovecot_want archive[] = {
		{ 1, MF_SEEN, { "$Label1", "Junk", NULL }, "message 2" },
		{ 2, MF_DRAFT | MF_FLAGGED | MF_REPLIED, { NULL },
		    "message 3" },
		{ 3, 0, { "$Label1", "NonJunk", NULL }, "message 4" },
	};
	char before[4096], after[4096], apath[PATH_MAX_T + 16];

	(void)state;
	copy_dovecot_maildir();
	slurp("dovecot-uidlist", before, sizeof before);
	sel(&fx.a, 0);
	assert_int_equal(mbox_uidvalidity(fx.a.mb), 1795664243u);
	/* N5 but record 5 (expunged): the next UID is 6 */
	assert_int_equal(mbox_uidnext(fx.a.mb), 6);
	assert_string_equal(mbox_keyword_name(fx.a.mb, 0), "$Label1");
	assert_string_equal(mbox_keyword_name(fx.a.mb, 1), "Junk");
	assert_string_equal(mbox_keyword_name(fx.a.mb, 2), "NonJunk");
	assert_null(mbox_keyword_name(fx.a.mb, 3));
	assert_null(mbox_keyword_name(fx.a.mb, 26));
	assert_int_equal(mbox_keyword(fx.a.mb, "junk", 4, 0), 1);
	assert_int_equal(mbox_keyword(fx.a.mb, "NONJUNK", 7, 0), 2);
	check_dovecot(&fx.a, inbox, 4);
	/* All four were in new/: recent here, now in cur/, same info. */
	assert_int_equal(fx.a.nrecent, 4);
	assert_int_equal(count_dir("new"), 0);
	assert_int_equal(count_dir("cur"), 4);
	slurp("dovecot-uidlist", after, sizeof after);
	assert_string_equal(before, after);
	/* STORE writes letters Dovecot reads back the same way. */
	store(&fx.a, 4, MF_SEEN);
	assert_int_equal(count_dir("cur"), 4);
	mbox_unselect(&fx.a);

	/* .Archive: N1 behind the records, its own keyword letters. */
	snprintf(apath, sizeof apath, "%s/.Archive", fx.md);
	{
		struct err e;

		assert_int_equal(mbox_select(apath, &fx.b, 1, &e), 0);
	}
	assert_int_equal(mbox_uidvalidity(fx.b.mb), 1795664244u);
	assert_int_equal(mbox_uidnext(fx.b.mb), 4);
	assert_string_equal(mbox_keyword_name(fx.b.mb, 2), "Junk");
	check_dovecot(&fx.b, archive, 3);
	mbox_unselect(&fx.b);
}

/* --- views ---------------------------------------------------------- */

/* STORE in one view is FETCH FLAGS in the other, once. */
static void
test_views_store(void **state)
{
	(void)state;
	cur_letters(3);
	sel(&fx.a, 0);
	sel(&fx.b, 0);
	store(&fx.a, 2, MF_SEEN | MF_FLAGGED);
	assert_true(has_file("cur", "1.b:2,FS"));
	assert_false(has_file("cur", "1.b:2,"));
	assert_string_equal(update(&fx.a, 1), "");	/* its own change */
	assert_string_equal(update(&fx.b, 0), "F2:2");
	assert_string_equal(update(&fx.b, 1), "");
	assert_int_equal(mbox_view_seq(&fx.b, 2)->flags,
	    MF_SEEN | MF_FLAGGED);
	/* The same flags again: nothing to say. */
	store(&fx.a, 2, MF_SEEN | MF_FLAGGED);
	assert_string_equal(update(&fx.b, 1), "");
	/* inotify brings our own rename back: no change by others. */
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "");
	assert_string_equal(update(&fx.b, 1), "");
	/* Changes by both: each hears only the other's. */
	store(&fx.a, 1, MF_REPLIED);
	store(&fx.b, 3, MF_DRAFT);
	assert_string_equal(update(&fx.a, 1), "F3:3");
	/* B was behind when it stored: it hears its own change back too
	 * (allowed, RFC 3501 7.4.2; Dovecot does not send it). */
	update(&fx.b, 1);
	if (strcmp(fx.evs, "F1:1") != 0) {
		assert_string_equal(fx.evs, "F1:1 F3:3");
	}
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "");
	assert_string_equal(update(&fx.b, 1), "");
	mbox_unselect(&fx.a);
	mbox_unselect(&fx.b);
}

/* View A expunges 2 and 4 of 5. B keeps the old numbering until it may
 * hear EXPUNGE, then gets 2 and 3 (RFC 3501 7.4.1: each EXPUNGE
 * renumbers at once). C, slower still, is not hurt by B catching up. */
static void
test_views_expunge(void **state)
{
	uint32_t seq;
	const struct mbox_msg *m;

	(void)state;
	cur_letters(5);
	sel(&fx.a, 0);
	sel(&fx.b, 0);
	sel(&fx.c, 0);
	/* Nothing \Deleted: nothing happens. */
	assert_string_equal(expunge(&fx.a), "");
	store(&fx.a, 2, MF_TRASHED);
	store(&fx.a, 4, MF_TRASHED | MF_SEEN);
	assert_string_equal(expunge(&fx.a), "E2 E3");
	assert_int_equal(fx.a.exists, 3);
	assert_false(has_file("cur", "1.b:2,T"));
	assert_false(has_file("cur", "1.d:2,ST"));
	assert_int_equal(uid_at(&fx.a, 2), 3);
	assert_int_equal(uid_at(&fx.a, 3), 5);
	assert_int_equal(uid_at(&fx.a, 4), 0);

	/* B and C still see five, tombstones included. */
	for (uint32_t s = 1; s <= 5; s++) {
		assert_int_equal(uid_at(&fx.b, s), s);
	}
	m = mbox_view_uid(&fx.b, 4, &seq);
	assert_non_null(m);
	assert_int_equal(seq, 4);
	assert_int_equal(mbox_store(&fx.b, m, MF_SEEN, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fx.b.exists, 5);
	/* During FETCH/STORE/SEARCH: no EXPUNGE, no FLAGS for the dead. */
	assert_string_equal(update(&fx.b, 0), "");
	assert_int_equal(fx.b.exists, 5);
	assert_int_equal(uid_at(&fx.b, 5), 5);
	assert_string_equal(update(&fx.b, 1), "E2 E3");
	assert_int_equal(fx.b.exists, 3);
	assert_int_equal(uid_at(&fx.b, 1), 1);
	assert_int_equal(uid_at(&fx.b, 2), 3);
	assert_int_equal(uid_at(&fx.b, 3), 5);
	assert_int_equal(uid_at(&fx.b, 4), 0);
	assert_null(mbox_view_uid(&fx.b, 2, &seq));
	m = mbox_view_uid_ge(&fx.b, 4, &seq);
	assert_non_null(m);
	assert_int_equal(m->uid, 5);
	assert_int_equal(seq, 3);
	assert_string_equal(update(&fx.b, 1), "");

	/* C: the tombstones waited for it. */
	for (uint32_t s = 1; s <= 5; s++) {
		assert_int_equal(uid_at(&fx.c, s), s);
	}
	assert_string_equal(update(&fx.c, 1), "E2 E3");
	assert_int_equal(fx.c.exists, 3);
	assert_int_equal(uid_at(&fx.c, 3), 5);
	/* Our own unlinks come back through inotify: nothing new. */
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "");
	assert_string_equal(update(&fx.b, 1), "");
	assert_string_equal(update(&fx.c, 1), "");
	mbox_unselect(&fx.a);
	mbox_unselect(&fx.b);
	mbox_unselect(&fx.c);
}

/* A view that has not heard another's expunge yet expunges itself:
 * every EXPUNGE reaches its client, numbered in the order given, from
 * mbox_expunge's fn or from the update that follows (the session does
 * both when it answers EXPUNGE). */
static void
test_views_expunge_not_caught_up(void **state)
{
	(void)state;
	cur_letters(5);
	sel(&fx.a, 0);
	sel(&fx.b, 0);
	store(&fx.b, 2, MF_TRASHED);
	assert_string_equal(expunge(&fx.b), "E2");
	store(&fx.a, 4, MF_TRASHED);	/* A still counts 5 */
	expunge(&fx.a);
	/* (A was behind when it stored, so it may hear its own change
	 * back: "F3:4", allowed by RFC 3501 7.4.2) */
	if (strcmp(fx.evs, "E2 E3") != 0) {
		assert_string_equal(fx.evs, "E2 F3:4 E3");
	}
	assert_int_equal(fx.a.exists, 3);
	assert_int_equal(uid_at(&fx.a, 3), 5);
	assert_string_equal(update(&fx.b, 1), "E3");
	assert_int_equal(fx.b.exists, 3);
	/* Without the update first, the view's own expunges reach fn
	 * only if it had heard all before; else the next update. */
	store(&fx.a, 1, MF_TRASHED);
	fx.evs[0] = '\0';
	assert_int_equal(mbox_expunge(&fx.a, NULL, NULL, on_event, fx.evs),
	    0);
	if (fx.evs[0] == '\0') {
		assert_string_equal(update(&fx.a, 1), "E1");
	} else {
		assert_string_equal(fx.evs, "E1");
		assert_string_equal(update(&fx.a, 1), "");
	}
	assert_int_equal(fx.a.exists, 2);
	mbox_unselect(&fx.a);
	mbox_unselect(&fx.b);
}

/* A view that leaves lets the tombstones it held go. */
static void
test_views_unselect_compacts(void **state)
{
	(void)state;
	cur_letters(3);
	sel(&fx.a, 0);
	sel(&fx.b, 0);
	store(&fx.a, 1, MF_TRASHED);
	assert_string_equal(expunge(&fx.a), "E1");
	assert_int_equal(uid_at(&fx.a, 1), 2);
	mbox_unselect(&fx.b);
	assert_int_equal(uid_at(&fx.a, 1), 2);
	assert_int_equal(uid_at(&fx.a, 2), 3);
	sel(&fx.b, 0);
	assert_int_equal(fx.b.exists, 2);
	assert_int_equal(uid_at(&fx.b, 1), 2);
	assert_string_equal(update(&fx.b, 1), "");
	mbox_unselect(&fx.a);
	mbox_unselect(&fx.b);
}

/* --- idle folders (kept open after their last view) ------------------ */

/* Files of this process open under dir/ (an open folder keeps its
 * dovecot-uidlist open: how a test sees that it is still open). */
static int
open_under(const char *dir)
{
	char link[PATH_MAX_T], target[PATH_MAX_T];
	size_t len = strlen(dir);
	struct dirent *d;
	DIR *fds = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(fds);
	while ((d = readdir(fds)) != NULL) {
		ssize_t k;

		snprintf(link, sizeof link, "/proc/self/fd/%s", d->d_name);
		k = readlink(link, target, sizeof target - 1);
		if (k <= 0) {
			continue;
		}
		target[k] = '\0';
		n += strncmp(target, dir, len) == 0 && target[len] == '/';
	}
	closedir(fds);
	return n;
}

/* The folder stays open without a view: what arrives meanwhile is
 * learnt through inotify, and the next view sees it with its UID. */
static void
test_idle_sees_delivery(void **state)
{
	struct mbox *mb;

	(void)state;
	cur_letters(2);
	sel(&fx.a, 0);
	mb = fx.a.mb;
	mbox_unselect(&fx.a);
	deliver("2.new", "hello\n");
	for (int i = 0; i < 5; i++) {
		ev_run_once(&fx.ev, 20);	/* inotify, no view */
	}
	sel(&fx.a, 0);
	assert_ptr_equal(fx.a.mb, mb);		/* the same, kept */
	assert_int_equal(fx.a.exists, 3);
	assert_int_equal(uid_at(&fx.a, 3), 3);
	mbox_unselect(&fx.a);
}

/* Hostile: the folder is moved away and another one takes its path
 * behind the idle copy's back; or dovecot-uidlist is written anew
 * (new UIDVALIDITY). The next view gets the folder now at the path. */
static void
test_idle_replaced(void **state)
{
	char old[PATH_MAX_T], sub[PATH_MAX_T];
	const char *subs[] = { "", "/tmp", "/new", "/cur" };
	uint32_t uv;

	(void)state;
	cur_letters(2);
	sel(&fx.a, 0);
	uv = mbox_uidvalidity(fx.a.mb);
	mbox_unselect(&fx.a);
	assert_true(snprintf(old, sizeof old, "%s.old", fx.md) <
	    (int)sizeof old);
	assert_int_equal(rename(fx.md, old), 0);
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(sub, sizeof sub, "%s%s", fx.md, subs[i]);
		assert_int_equal(mkdir(sub, 0700), 0);
	}
	cur_letters(3);
	sel(&fx.a, 0);
	assert_int_equal(fx.a.exists, 3);
	mbox_unselect(&fx.a);
	/* Another process writes the uidlist anew. */
	spit("dovecot-uidlist", "3 V77 N9\n5 :1.a\n6 :1.b\n7 :1.c\n");
	sel(&fx.a, 0);
	assert_int_equal(mbox_uidvalidity(fx.a.mb), 77);
	assert_true(uv != 77);
	assert_int_equal(uid_at(&fx.a, 1), 5);
	assert_int_equal(uid_at(&fx.a, 3), 7);
	mbox_unselect(&fx.a);
}

/* Hostile: another process renames an idle folder, and the new name
 * is opened: the idle copy goes first, so the new one has inotify to
 * itself (a delivery into it is seen without a scan). */
static void
test_idle_renamed_by_other(void **state)
{
	char x[PATH_MAX_T], y[PATH_MAX_T], p[PATH_MAX_T];
	const char *subs[] = { "", "/tmp", "/new", "/cur" };
	struct err e;
	int before;

	(void)state;
	assert_true(snprintf(x, sizeof x, "%s/.X", fx.md) < (int)sizeof x);
	assert_true(snprintf(y, sizeof y, "%s/.Y", fx.md) < (int)sizeof y);
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		assert_true(snprintf(p, sizeof p, "%s%s", x, subs[i]) <
		    (int)sizeof p);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	assert_int_equal(mbox_select(x, &fx.b, 0, &e), 0);
	mbox_unselect(&fx.b);
	assert_int_equal(rename(x, y), 0);
	fx.b.changed = on_changed;
	assert_int_equal(mbox_select(y, &fx.b, 0, &e), 0);
	assert_int_equal(open_under(x), 0);	/* the idle copy went */
	assert_int_equal(fx.b.exists, 0);
	before = fx.changed;
	assert_true(snprintf(p, sizeof p, "%s/new/5.y", y) < (int)sizeof p);
	write_path(p, "y\n", 2, O_EXCL);
	run_loop_until_changed(before);
	assert_true(fx.changed > before);	/* inotify, no scan */
	assert_string_equal(update(&fx.b, 1), "X1 R1");
	mbox_unselect(&fx.b);
}

/* mbox_forget closes the idle folder at a path and its Maildir++
 * children, not a folder with a view, nor a sibling with a longer
 * name; mbox_saving is 0 without a save (test_mbox_save.c has one). */
static void
test_idle_forget(void **state)
{
	char child[PATH_MAX_T], sib[PATH_MAX_T], p[PATH_MAX_T];
	const char *subs[] = { "", "/tmp", "/new", "/cur" };
	struct err e;

	(void)state;
	assert_true(snprintf(child, sizeof child, "%s/.X.y", fx.md) <
	    (int)sizeof child);
	assert_true(snprintf(sib, sizeof sib, "%s/.XY", fx.md) <
	    (int)sizeof sib);
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(p, sizeof p, "%s%s", child, subs[i]);
		assert_int_equal(mkdir(p, 0700), 0);
		snprintf(p, sizeof p, "%s%s", sib, subs[i]);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	assert_int_equal(mbox_select(child, &fx.b, 0, &e), 0);
	mbox_unselect(&fx.b);
	assert_int_equal(open_under(child), 1);	/* idle: its uidlist */
	assert_int_equal(mbox_select(sib, &fx.c, 0, &e), 0);
	assert_true(snprintf(p, sizeof p, "%s/.X", fx.md) < (int)sizeof p);
	assert_int_equal(mbox_saving(p), 0);
	mbox_forget(p);
	assert_int_equal(open_under(child), 0);	/* closed: a child */
	assert_int_equal(open_under(sib), 1);	/* not a child */
	mbox_forget(sib);
	assert_int_equal(open_under(sib), 1);	/* a view: kept */
	mbox_unselect(&fx.c);
	mbox_forget(sib);
	assert_int_equal(open_under(sib), 0);
}

/* --- other processes ------------------------------------------------ */

/* Delivery into new/: EXISTS after mbox_sync, a UID appended. */
static void
test_other_delivery(void **state)
{
	char buf[4096], line[64];
	const char *nl;
	int before;

	(void)state;
	cur_letters(2);
	sel(&fx.a, 0);
	sel(&fx.b, 0);
	assert_int_equal(fx.a.nrecent, 0);
	before = fx.changed;
	deliver("2.new", "hello\n");
	assert_string_equal(update(&fx.a, 1), "");	/* not read yet */
	mbox_sync(fx.a.mb);
	assert_int_equal(fx.changed, before);	/* from the loop only */
	run_loop_until_changed(before);
	assert_true(fx.changed > before);
	assert_string_equal(update(&fx.a, 1), "X3 R1");
	assert_string_equal(update(&fx.b, 1), "X3 R0");
	assert_int_equal(uid_at(&fx.a, 3), 3);
	assert_true(mbox_view_recent(&fx.a, mbox_view_seq(&fx.a, 3)));
	assert_false(mbox_view_recent(&fx.b, mbox_view_seq(&fx.b, 3)));
	assert_int_equal(mbox_uidnext(fx.a.mb), 4);
	/* The first to learn of it moved it to cur/. */
	assert_true(has_file("cur", "2.new:2,"));
	assert_int_equal(count_dir("new"), 0);
	slurp("dovecot-uidlist", buf, sizeof buf);
	nl = buf + strlen(buf) - 1;
	assert_int_equal(*nl, '\n');
	while (nl > buf && nl[-1] != '\n') {
		nl--;
	}
	assert_string_equal(nl, "3 :2.new\n");
	assert_int_equal(strncmp(buf, "3 V", 3), 0);

	/* Through the event loop this time, as IDLE would. */
	before = fx.changed;
	deliver("3.new", "again\n");
	run_loop_until_changed(before);
	assert_true(fx.changed > before);
	assert_string_equal(update(&fx.b, 1), "X4 R1");
	assert_string_equal(update(&fx.a, 1), "X4 R1");
	assert_int_equal(fx.a.nrecent, 1);	/* 3 is no longer its own */
	snprintf(line, sizeof line, "4 :3.new\n");
	slurp("dovecot-uidlist", buf, sizeof buf);
	assert_non_null(strstr(buf, line));
	mbox_unselect(&fx.a);
	mbox_unselect(&fx.b);
}

/* Dovecot gave the UID itself (appended to dovecot-uidlist, skipping
 * some): that UID is used, not one of ours. */
static void
test_other_uid_from_uidlist(void **state)
{
	char buf[4096];
	uint32_t seq;

	(void)state;
	cur_letters(2);
	sel(&fx.a, 0);
	append_to("dovecot-uidlist", "9 :7.dove\n");
	deliver("7.dove", "dove\n");
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "X3 R1");
	assert_non_null(mbox_view_uid(&fx.a, 9, &seq));
	assert_int_equal(seq, 3);
	assert_int_equal(mbox_uidnext(fx.a.mb), 10);
	slurp("dovecot-uidlist", buf, sizeof buf);
	assert_null(strstr(buf, "3 :7.dove"));
	deliver("8.next", "next\n");
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "X4 R2");
	assert_int_equal(uid_at(&fx.a, 4), 10);
	mbox_unselect(&fx.a);
}

/* A rename by another process (flags) is FETCH FLAGS, same UID. */
static void
test_other_rename(void **state)
{
	char before[4096], after[4096], msg[64];

	(void)state;
	cur_letters(3);
	sel(&fx.a, 0);
	slurp("dovecot-uidlist", before, sizeof before);
	mv("cur", "1.b:2,", "cur", "1.b:2,RS");
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 0), "F2:2");
	assert_int_equal(fx.a.exists, 3);
	assert_int_equal(mbox_view_seq(&fx.a, 2)->flags,
	    MF_REPLIED | MF_SEEN);
	read_msg(&fx.a, mbox_view_seq(&fx.a, 2), msg, sizeof msg);
	slurp("dovecot-uidlist", after, sizeof after);
	assert_string_equal(before, after);
	/* Two renames before we look: the last name counts. */
	mv("cur", "1.c:2,", "cur", "1.c:2,F");
	mv("cur", "1.c:2,F", "cur", "1.c:2,Fa");
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "F3:3");
	assert_int_equal(mbox_view_seq(&fx.a, 3)->flags, MF_FLAGGED);
	assert_int_equal(mbox_view_seq(&fx.a, 3)->keywords, 1);
	/* Our STORE after theirs renames from the name they gave. */
	store(&fx.a, 3, MF_FLAGGED | MF_SEEN);
	assert_true(has_file("cur", "1.c:2,FSa"));
	mbox_unselect(&fx.a);
}

/* Moved from new/ to cur/ with flags by another process (Dovecot or a
 * MUA) while only EXAMINE had it. */
static void
test_other_new_to_cur(void **state)
{
	(void)state;
	put("new", "1.a", "a\n");
	sel(&fx.a, 1);
	assert_true(has_file("new", "1.a"));
	mv("new", "1.a", "cur", "1.a:2,S");
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "F1:1");
	assert_int_equal(fx.a.exists, 1);
	assert_int_equal(mbox_view_seq(&fx.a, 1)->flags, MF_SEEN);
	mbox_unselect(&fx.a);
}

/* A file deleted by another process: EXPUNGE, when allowed. */
static void
test_other_delete(void **state)
{
	char p[PATH_MAX_T];

	(void)state;
	cur_letters(3);
	sel(&fx.a, 0);
	md_path(p, "cur", "1.b:2,");
	assert_int_equal(unlink(p), 0);
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 0), "");
	assert_int_equal(uid_at(&fx.a, 3), 3);
	assert_string_equal(update(&fx.a, 1), "E2");
	assert_int_equal(fx.a.exists, 2);
	assert_int_equal(uid_at(&fx.a, 2), 3);
	/* The whole folder emptied by hand. */
	md_path(p, "cur", "1.a:2,");
	assert_int_equal(unlink(p), 0);
	md_path(p, "cur", "1.c:2,");
	assert_int_equal(unlink(p), 0);
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "E1 E1");
	assert_int_equal(fx.a.exists, 0);
	assert_null(mbox_view_seq(&fx.a, 1));
	assert_int_equal(mbox_view_last_uid(&fx.a), 0);
	mbox_unselect(&fx.a);
}

/* --- lookups at their edges ----------------------------------------- */

struct lookup_case {
	const char	*desc;
	char		 op;		/* 's' seq, 'u' uid, 'g' ge */
	uint32_t	 arg;
	uint32_t	 want_uid;	/* 0: NULL */
	uint32_t	 want_seq;	/* for 'u', 'g' */
};

static void
run_lookups(struct mbox_view *v, const struct lookup_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct mbox_msg *m = NULL;
		uint32_t seq = 0xdead;

		switch (c[i].op) {
		case 's':
			m = mbox_view_seq(v, c[i].arg);
			seq = c[i].want_seq;
			break;
		case 'u':
			m = mbox_view_uid(v, c[i].arg, &seq);
			break;
		case 'g':
			m = mbox_view_uid_ge(v, c[i].arg, &seq);
			break;
		}
		if (c[i].want_uid == 0) {
			if (m != NULL) {
				fail_msg("%s: got uid %u", c[i].desc, m->uid);
			}
			continue;
		}
		if (m == NULL || m->uid != c[i].want_uid ||
		    seq != c[i].want_seq) {
			fail_msg("%s: got uid %u seq %u", c[i].desc,
			    m ? m->uid : 0, seq);
		}
	}
}

/* UIDs 1..6, 2 and 5 expunged by A (gaps); B has not heard it; 7 has
 * arrived and neither has heard of it. Lookups run in a jumbled order
 * so the cursor is tested too. */
static void
test_lookups(void **state)
{
	static const struct lookup_case in_a[] = {
		{ "seq 0", 's', 0, 0, 0 },
		{ "seq 4, the last", 's', 4, 6, 4 },
		{ "seq 1", 's', 1, 1, 1 },
		{ "seq 3", 's', 3, 4, 3 },
		{ "seq 2", 's', 2, 3, 2 },
		{ "seq 5 beyond exists", 's', 5, 0, 0 },
		{ "seq max", 's', UINT32_MAX, 0, 0 },
		{ "uid 0", 'u', 0, 0, 0 },
		{ "uid 6", 'u', 6, 6, 4 },
		{ "uid 1", 'u', 1, 1, 1 },
		{ "uid 2 expunged", 'u', 2, 0, 0 },
		{ "uid 5 expunged", 'u', 5, 0, 0 },
		{ "uid 4", 'u', 4, 4, 3 },
		{ "uid 7 not yet known", 'u', 7, 0, 0 },
		{ "uid max", 'u', UINT32_MAX, 0, 0 },
		{ "ge 0", 'g', 0, 1, 1 },
		{ "ge 5 (gap)", 'g', 5, 6, 4 },
		{ "ge 2 (gap)", 'g', 2, 3, 2 },
		{ "ge 3", 'g', 3, 3, 2 },
		{ "ge 7 not yet known", 'g', 7, 0, 0 },
		{ "ge max", 'g', UINT32_MAX, 0, 0 },
	};
	static const struct lookup_case in_b[] = {
		{ "seq 6", 's', 6, 6, 6 },
		{ "seq 2 tombstone", 's', 2, 2, 2 },
		{ "seq 5 tombstone", 's', 5, 5, 5 },
		{ "seq 1", 's', 1, 1, 1 },
		{ "seq 7 beyond", 's', 7, 0, 0 },
		{ "seq 0", 's', 0, 0, 0 },
		{ "uid 5 tombstone", 'u', 5, 5, 5 },
		{ "uid 2 tombstone", 'u', 2, 2, 2 },
		{ "uid 3", 'u', 3, 3, 3 },
		{ "uid 7 not yet known", 'u', 7, 0, 0 },
		{ "ge 0", 'g', 0, 1, 1 },
		{ "ge 6", 'g', 6, 6, 6 },
		{ "ge 4", 'g', 4, 4, 4 },
		{ "ge 7", 'g', 7, 0, 0 },
	};
	static const struct lookup_case in_b_after[] = {
		{ "seq 5 now the new one", 's', 5, 7, 5 },
		{ "seq 2", 's', 2, 3, 2 },
		{ "uid 7", 'u', 7, 7, 5 },
		{ "uid 5 gone", 'u', 5, 0, 0 },
		{ "ge 5", 'g', 5, 6, 4 },
		{ "ge 7", 'g', 7, 7, 5 },
		{ "ge 8", 'g', 8, 0, 0 },
		{ "seq 6 beyond", 's', 6, 0, 0 },
	};

	(void)state;
	cur_letters(6);
	sel(&fx.a, 0);
	sel(&fx.b, 0);
	store(&fx.a, 2, MF_TRASHED);
	store(&fx.a, 5, MF_TRASHED);
	assert_string_equal(expunge(&fx.a), "E2 E4");
	deliver("9.late", "late\n");
	mbox_sync(fx.a.mb);
	run_lookups(&fx.a, in_a, sizeof in_a / sizeof in_a[0]);
	run_lookups(&fx.b, in_b, sizeof in_b / sizeof in_b[0]);
	assert_int_equal(mbox_view_last_uid(&fx.a), 6);
	assert_int_equal(mbox_view_last_uid(&fx.b), 6);
	assert_int_equal(mbox_view_first_unseen(&fx.a), 1);
	assert_string_equal(update(&fx.b, 1), "E2 E4 X5 R1");
	run_lookups(&fx.b, in_b_after,
	    sizeof in_b_after / sizeof in_b_after[0]);
	assert_int_equal(mbox_view_last_uid(&fx.b), 7);
	mbox_unselect(&fx.a);
	mbox_unselect(&fx.b);
}

static void
test_lookups_empty(void **state)
{
	uint32_t seq = 0;

	(void)state;
	sel(&fx.a, 0);
	assert_int_equal(fx.a.exists, 0);
	assert_int_equal(fx.a.nrecent, 0);
	assert_null(mbox_view_seq(&fx.a, 0));
	assert_null(mbox_view_seq(&fx.a, 1));
	assert_null(mbox_view_uid(&fx.a, 0, &seq));
	assert_null(mbox_view_uid(&fx.a, 1, &seq));
	assert_null(mbox_view_uid_ge(&fx.a, 0, &seq));
	assert_int_equal(mbox_view_last_uid(&fx.a), 0);
	assert_int_equal(mbox_view_first_unseen(&fx.a), 0);
	assert_string_equal(update(&fx.a, 1), "");
	assert_string_equal(expunge(&fx.a), "");
	deliver("1.first", "x\n");
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "X1 R1");
	assert_int_equal(uid_at(&fx.a, 1), 1);
	mbox_unselect(&fx.a);
}

/* --- keywords ------------------------------------------------------- */

static void
test_keywords(void **state)
{
	char buf[4096], name[16];
	struct mbox *mb;

	(void)state;
	cur_letters(1);
	sel(&fx.a, 0);
	mb = fx.a.mb;
	assert_int_equal(mbox_keyword(mb, "Foo", 3, 0), -1);
	assert_int_equal(mbox_keyword(mb, "", 0, 1), -1);
	memset(buf, 'k', MBOX_KW_LEN_MAX + 1);
	assert_int_equal(mbox_keyword(mb, buf, MBOX_KW_LEN_MAX + 1, 1), -1);
	assert_int_equal(mbox_keyword(mb, "Foo", 3, 1), 0);
	assert_int_equal(mbox_keyword(mb, "fOO", 3, 1), 0);
	assert_int_equal(mbox_keyword(mb, "Foobar", 3, 0), 0); /* len 3 */
	slurp("dovecot-keywords", buf, sizeof buf);
	assert_string_equal(buf, "0 Foo\n");
	for (int i = 1; i < 26; i++) {
		snprintf(name, sizeof name, "$kw%02d", i);
		assert_int_equal(mbox_keyword(mb, name, strlen(name), 1), i);
	}
	assert_int_equal(mbox_keyword(mb, "$one_too_many", 13, 1), -1);
	assert_int_equal(mbox_keyword(mb, "$one_too_many", 13, 0), -1);
	assert_int_equal(mbox_keyword(mb, "$kw25", 5, 1), 25);
	assert_string_equal(mbox_keyword_name(mb, 25), "$kw25");
	assert_null(mbox_keyword_name(mb, 26));
	slurp("dovecot-keywords", buf, sizeof buf);
	assert_non_null(strstr(buf, "0 Foo\n1 $kw01\n"));
	assert_non_null(strstr(buf, "\n25 $kw25\n"));
	assert_null(strstr(buf, "one_too_many"));
	/* Letters a and z on a message. */
	assert_int_equal(mbox_store(&fx.a, mbox_view_seq(&fx.a, 1), MF_SEEN,
	    1u | 1u << 25), 0);
	assert_true(has_file("cur", "1.a:2,Saz"));
	mbox_unselect(&fx.a);

	sel(&fx.a, 0);
	assert_string_equal(mbox_keyword_name(fx.a.mb, 0), "Foo");
	assert_string_equal(mbox_keyword_name(fx.a.mb, 25), "$kw25");
	assert_int_equal(mbox_view_seq(&fx.a, 1)->keywords, 1u | 1u << 25);
	assert_false(has_file("", "dovecot-keywords.wren.tmp"));
	mbox_unselect(&fx.a);
}

/* --- damaged or odd files ------------------------------------------- */

/* A dovecot-uidlist whose header cannot be read is written again: new
 * UIDVALIDITY, UIDs from 1 in name order. */
static void
test_broken_header(void **state)
{
	static const char *headers[] = {
		"garbage",
		"2 V5 N3",		/* Dovecot never wrote version 2 */
		"3 V0 N3",		/* UIDVALIDITY 0 */
		"3 V5 N3 Gxyz",		/* guid not 32 hex */
		"3 V5 N3\r",
	};
	char buf[4096], text[256];

	(void)state;
	put("cur", "1.a:2,", "a\n");
	put("cur", "1.b:2,S", "b\n");
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		snprintf(text, sizeof text, "%s\n7 :1.a\n8 :1.b\n",
		    headers[i]);
		spit("dovecot-uidlist", text);
		sel(&fx.a, 0);
		assert_int_equal(fx.a.exists, 2);
		assert_true(mbox_uidvalidity(fx.a.mb) != 0 &&
		    mbox_uidvalidity(fx.a.mb) != 5);
		assert_int_equal(uid_at(&fx.a, 1), 1);
		assert_int_equal(uid_at(&fx.a, 2), 2);
		assert_int_equal(mbox_view_seq(&fx.a, 2)->flags, MF_SEEN);
		slurp("dovecot-uidlist", buf, sizeof buf);
		assert_int_equal(strncmp(buf, "3 V", 3), 0);
		assert_non_null(strstr(buf, "\n1 :1.a\n2 :1.b\n"));
		mbox_unselect(&fx.a);
		/* and read back as it was written */
		sel(&fx.a, 0);
		assert_int_equal(uid_at(&fx.a, 2), 2);
		mbox_unselect(&fx.a);
	}
}

/* Bad record lines are skipped; good ones around them count. */
static void
test_bad_records(void **state)
{
	(void)state;
	put("cur", "1.a:2,", "a\n");
	put("cur", "1.b:2,", "b\n");
	put("cur", "1.c:2,", "c\n");
	spit("dovecot-uidlist", "3 V77 N1\n"
	    "3 :1.a\n"
	    "x :junk\n"
	    "0 :zero\n"
	    "4 no-colon\n"
	    "2 :1.c\n"			/* goes back: ignored */
	    "5 W12 :1.b\n"
	    "6 :missing-file\n");
	sel(&fx.a, 0);
	assert_int_equal(mbox_uidvalidity(fx.a.mb), 77);
	assert_int_equal(fx.a.exists, 3);
	assert_int_equal(uid_at(&fx.a, 1), 3);
	assert_int_equal(uid_at(&fx.a, 2), 5);
	assert_int_equal(mbox_view_seq(&fx.a, 2)->vsize, 12);
	assert_int_equal(uid_at(&fx.a, 3), 7);	/* 1.c: a new UID */
	assert_int_equal(mbox_uidnext(fx.a.mb), 8);
	mbox_unselect(&fx.a);
}

struct name_case {
	const char	*desc;
	const char	*sub;
	const char	*name;		/* as put */
	const char	*body;
	uint32_t	 vsize;
	unsigned	 flags;
	const char	*after;		/* cur/ name after SELECT */
	const char	*stored;	/* cur/ name after STORE \Flagged */
};

/* Names without ":2,", S= and W= present or not: RFC822.SIZE is W=,
 * else the file with each bare LF counted as CR LF. */
static void
test_names_and_vsize(void **state)
{
	static const struct name_case cases[] = {
		{ "cur/, no info, LF", "cur", "1.a", "a\nb\n", 6, 0,
		    "1.a", "1.a:2,F" },
		{ "W= trusted", "cur", "1.b,S=4,W=99:2,S", "a\nb\n", 99,
		    MF_SEEN, "1.b,S=4,W=99:2,S", "1.b,S=4,W=99:2,FS" },
		{ "CR LF not counted twice", "cur", "1.c:2,", "a\r\nb\n", 6,
		    0, "1.c:2,", "1.c:2,F" },
		{ "empty W= ignored", "cur", "1.d,W=:2,", "x\n", 3, 0,
		    "1.d,W=:2,", "1.d,W=:2,F" },
		{ "empty file", "cur", "1.e:2,", "", 0, 0, "1.e:2,",
		    "1.e:2,F" },
		{ "no final LF", "cur", "1.f:2,", "a\nb", 4, 0, "1.f:2,",
		    "1.f:2,F" },
		{ "new/, no info", "new", "2.g", "x\ny\n", 6, 0, "2.g:2,",
		    "2.g:2,F" },
		{ "new/ with info", "new", "2.h:2,R", "x\n", 3, MF_REPLIED,
		    "2.h:2,R", "2.h:2,FR" },
	};
	size_t n = sizeof cases / sizeof cases[0];
	char msg[64];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		put(cases[i].sub, cases[i].name, cases[i].body);
	}
	put("cur", ".hidden", "not a message\n");
	put("new", ".also-hidden", "not a message\n");
	sel(&fx.a, 0);
	assert_int_equal(fx.a.exists, n);
	for (size_t i = 0; i < n; i++) {
		const struct mbox_msg *m = mbox_view_seq(&fx.a,
		    (uint32_t)i + 1);

		assert_non_null(m);
		if (m->vsize != cases[i].vsize || m->flags !=
		    cases[i].flags) {
			fail_msg("%s: vsize %u flags %#x", cases[i].desc,
			    m->vsize, m->flags);
		}
		if (!has_file("cur", cases[i].after)) {
			fail_msg("%s: no cur/%s", cases[i].desc,
			    cases[i].after);
		}
		read_msg(&fx.a, m, msg, sizeof msg);
		assert_string_equal(msg, cases[i].body);
		assert_int_equal(mbox_store(&fx.a, m, m->flags | MF_FLAGGED,
		    0), 0);
		if (!has_file("cur", cases[i].stored)) {
			fail_msg("%s: no cur/%s", cases[i].desc,
			    cases[i].stored);
		}
		read_msg(&fx.a, m, msg, sizeof msg);
		assert_string_equal(msg, cases[i].body);
	}
	mbox_unselect(&fx.a);
}

/* --- size ----------------------------------------------------------- */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_big_folder(void **state)
{
	char name[64], buf[64];
	uint32_t seq;
	double t0, t1, t2, t3;

	(void)state;
	for (unsigned i = 0; i < BIG_N; i++) {
		/* half with W=, half counted from the file */
		if (i % 2 == 0) {
			snprintf(name, sizeof name,
			    "%010u.M%uP1.host,S=20,W=22", 1700000000u + i, i);
		} else {
			snprintf(name, sizeof name, "%010u.M%uP1.host",
			    1700000000u + i, i);
		}
		snprintf(buf, sizeof buf, "Subject: %08u\n\nbody\n", i);
		put("new", name, buf);
	}
	t0 = now_s();
	sel(&fx.a, 0);
	t1 = now_s();
	assert_int_equal(fx.a.exists, BIG_N);
	assert_int_equal(fx.a.nrecent, BIG_N);
	assert_int_equal(count_dir("new"), 0);
	assert_non_null(mbox_view_uid(&fx.a, BIG_N, &seq));
	assert_int_equal(seq, BIG_N);
	assert_int_equal(mbox_view_seq(&fx.a, 1)->vsize, 22);	/* W= */
	assert_int_equal(mbox_view_seq(&fx.a, 2)->vsize, 27); /* counted */
	mbox_unselect(&fx.a);
	t2 = now_s();
	sel(&fx.a, 0);
	t3 = now_s();
	assert_int_equal(fx.a.exists, BIG_N);
	assert_int_equal(mbox_uidnext(fx.a.mb), BIG_N + 1);
	read_msg(&fx.a, mbox_view_seq(&fx.a, BIG_N), buf, sizeof buf);
	assert_int_equal(strncmp(buf, "Subject: 00009999\n", 18), 0);
	mbox_unselect(&fx.a);
	print_message("%u messages: first SELECT %.0f ms (UIDs, new/ -> "
	    "cur/), again %.0f ms; %zu bytes of index each\n", BIG_N,
	    (t1 - t0) * 1e3, (t3 - t2) * 1e3, mbox_bytes_per_message());
}

/* --- CONDSTORE: wren-modseq (store/modseq.h) ------------------------- */

/* The MODSEQ of the message at seq. */
static uint64_t
ms_at(struct mbox_view *v, uint32_t seq)
{
	const struct mbox_msg *m = mbox_view_seq(v, seq);

	assert_non_null(m);
	return mbox_modseq(v->mb, m);
}

/*
 * Modseqs across closes: kept exactly after a clean close; raised for a
 * message whose flags changed while the folder was closed (another
 * process); an expunge while closed raises the expunge mark; a file
 * that does not end cleanly (a crash) or that is gone gives everything
 * a value above all that was handed out; a file deleted while open is
 * written whole again. (mbox_forget after the last view: the folder
 * is closed, not kept open idle.)
 */
static void
test_modseq_persist(void **state)
{
	char text[8192], p[PATH_MAX_T];
	uint64_t h0, h1, h2, m2, m1;
	size_t len;

	(void)state;
	cur_letters(4);
	sel(&fx.a, 0);
	h0 = mbox_highestmodseq(fx.a.mb);
	assert_true(h0 > 0);
	assert_true(ms_at(&fx.a, 1) <= h0 && ms_at(&fx.a, 4) <= h0);
	store(&fx.a, 2, MF_SEEN);
	m2 = ms_at(&fx.a, 2);
	assert_true(m2 > h0 && mbox_highestmodseq(fx.a.mb) == m2);
	m1 = ms_at(&fx.a, 1);
	mbox_unselect(&fx.a);
	mbox_forget(fx.md);	/* closed, not kept idle */
	len = slurp("wren-modseq", text, sizeof text);
	assert_true(strncmp(text, "wren-modseq 1 ", 14) == 0);
	assert_non_null(strstr(text, "\nE "));

	/* clean: the same values, nothing written */
	sel(&fx.a, 0);
	assert_true(mbox_highestmodseq(fx.a.mb) == m2);
	assert_true(ms_at(&fx.a, 2) == m2 && ms_at(&fx.a, 1) == m1);
	mbox_unselect(&fx.a);
	mbox_forget(fx.md);	/* closed, not kept idle */
	assert_int_equal(slurp("wren-modseq", text, sizeof text), len);

	/* flags changed and a message removed while closed */
	mv("cur", "1.c:2,", "cur", "1.c:2,F");
	md_path(p, "cur", "1.d:2,");
	assert_int_equal(unlink(p), 0);
	sel(&fx.a, 0);
	h1 = mbox_highestmodseq(fx.a.mb);
	assert_true(h1 > m2);
	assert_true(ms_at(&fx.a, 3) == h1);		/* 1.c */
	assert_true(ms_at(&fx.a, 1) == m1 && ms_at(&fx.a, 2) == m2);
	assert_true(mbox_vanished_since(fx.a.mb) > m2);
	mbox_unselect(&fx.a);
	mbox_forget(fx.md);	/* closed, not kept idle */

	/* a torn end (a crash): every message above everything */
	append_to("wren-modseq", "M 1 12");
	sel(&fx.a, 0);
	h2 = mbox_highestmodseq(fx.a.mb);
	assert_true(h2 > h1 && ms_at(&fx.a, 1) == h2 &&
	    ms_at(&fx.a, 2) == h2);
	assert_true(mbox_vanished_since(fx.a.mb) == h2);
	/* deleted while open: written whole at close, values kept */
	md_path(p, "wren-modseq", NULL);
	assert_int_equal(unlink(p), 0);
	store(&fx.a, 1, MF_FLAGGED);
	h2 = mbox_highestmodseq(fx.a.mb);
	mbox_unselect(&fx.a);
	mbox_forget(fx.md);	/* closed, not kept idle */
	sel(&fx.a, 0);
	assert_true(mbox_highestmodseq(fx.a.mb) == h2);
	assert_true(ms_at(&fx.a, 1) == h2);
	mbox_unselect(&fx.a);
	mbox_forget(fx.md);	/* closed, not kept idle */

	/* lost while closed: a new sequence above the old one */
	assert_int_equal(unlink(p), 0);
	sel(&fx.a, 0);
	assert_true(mbox_highestmodseq(fx.a.mb) > h2);
	assert_true(ms_at(&fx.a, 1) > h2);
	h2 = mbox_highestmodseq(fx.a.mb);
	mbox_unselect(&fx.a);
	mbox_forget(fx.md);	/* closed, not kept idle */

	/* hostile: a file of garbage counts as lost */
	spit("wren-modseq", "\xff\xfe\n\n");
	sel(&fx.a, 0);
	assert_true(mbox_highestmodseq(fx.a.mb) > h2);
	mbox_unselect(&fx.a);
	mbox_forget(fx.md);	/* closed, not kept idle */
	slurp("wren-modseq", text, sizeof text);
	assert_true(strncmp(text, "wren-modseq 1 ", 14) == 0);
}

/* New mail, a rename and an expunge by another process while the
 * folder is open each get a modseq above the last. */
static void
test_modseq_live(void **state)
{
	char p[PATH_MAX_T];
	uint64_t h0;

	(void)state;
	cur_letters(3);
	sel(&fx.a, 0);
	h0 = mbox_highestmodseq(fx.a.mb);
	deliver("9.new", "x\n");
	mbox_sync(fx.a.mb);
	(void)update(&fx.a, 1);
	assert_int_equal(fx.a.exists, 4);
	assert_true(ms_at(&fx.a, 4) > h0);
	h0 = mbox_highestmodseq(fx.a.mb);
	mv("cur", "1.a:2,", "cur", "1.a:2,S");
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "F1:1");
	assert_true(ms_at(&fx.a, 1) > h0);
	h0 = mbox_highestmodseq(fx.a.mb);
	md_path(p, "cur", "1.b:2,");
	assert_int_equal(unlink(p), 0);
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "E2");
	assert_true(mbox_vanished_since(fx.a.mb) > h0);
	mbox_unselect(&fx.a);
}

/* --- faults found in review (fail until fixed) ---------------------- */

/*
 * STORE \Deleted then EXPUNGE before inotify is read (a pipelined
 * client, or two commands in one loop turn): the rename's IN_MOVED_TO
 * names a file whose record is now a tombstone (or compacted), so it
 * is taken as a new file and, though its IN_DELETE follows in the same
 * batch, given a new UID: a ghost EXISTS and a line in dovecot-uidlist
 * for a file that is gone. Fix: mbox_disk.c, pending_drop.
 */
static void
test_bug_store_expunge_ghost(void **state)
{
	char before[4096], after[4096];

	(void)state;
	cur_letters(3);
	sel(&fx.a, 0);
	slurp("dovecot-uidlist", before, sizeof before);
	store(&fx.a, 2, MF_TRASHED);
	assert_string_equal(expunge(&fx.a), "E2");
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "");
	assert_int_equal(fx.a.exists, 2);
	assert_int_equal(mbox_uidnext(fx.a.mb), 4);
	slurp("dovecot-uidlist", after, sizeof after);
	assert_string_equal(before, after);
	mbox_unselect(&fx.a);
}

/*
 * Files in new/ and cur/ whose names sort in another order than the
 * directories are read: assign_uids sorts pd->offs but reads
 * pd->innew[i] by sorted position, so records get the other
 * directory, the file cannot be opened, and the RW SELECT leaves it
 * in new/. Fix: mbox_disk.c keeps the directory with the offset.
 */
static void
test_bug_pending_dir_after_sort(void **state)
{
	static const char *in_new[] = { "1.a", "1.c", "1.e" };
	static const char *in_cur[] = { "1.b:2,", "1.d:2,S" };
	char msg[16], want[16];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		snprintf(want, sizeof want, "%c\n", in_new[i][2]);
		put("new", in_new[i], want);
	}
	for (size_t i = 0; i < 2; i++) {
		snprintf(want, sizeof want, "%c\n", in_cur[i][2]);
		put("cur", in_cur[i], want);
	}
	sel(&fx.a, 0);
	assert_int_equal(fx.a.exists, 5);
	assert_int_equal(count_dir("new"), 0);
	for (uint32_t s = 1; s <= 5; s++) {
		const struct mbox_msg *m = mbox_view_seq(&fx.a, s);

		assert_int_equal(m->uid, s);
		read_msg(&fx.a, m, msg, sizeof msg);
		snprintf(want, sizeof want, "%c\n", 'a' + (int)s - 1);
		assert_string_equal(msg, want);
		assert_int_equal(m->vsize, 3);
	}
	mbox_unselect(&fx.a);
}

/*
 * A message that arrives and is expunged by A before B hears of it,
 * then B updates during FETCH (allow_expunge 0) and learns of a later
 * one. B must never count the tombstone: it was never in B's EXISTS.
 * Fix: mbox.c, mbox_view_update stops at a tombstone B has not heard.
 */
static void
test_bug_tombstone_beyond_known(void **state)
{
	char all[EVS_MAX];
	uint32_t seq;

	(void)state;
	cur_letters(3);
	sel(&fx.a, 0);
	sel(&fx.b, 0);
	deliver("5.x", "x\n");
	deliver("6.y", "y\n");
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "X5 R2");
	store(&fx.a, 4, MF_TRASHED);
	assert_string_equal(expunge(&fx.a), "E4");
	/* B, inside FETCH */
	snprintf(all, sizeof all, "%s", update(&fx.b, 0));
	for (uint32_t s = 1; s <= fx.b.exists; s++) {
		if (uid_at(&fx.b, s) == 4) {
			fail_msg("B's seq %u is the tombstone of UID 4 it "
			    "never heard of (exists %u)", s, fx.b.exists);
		}
	}
	assert_null(mbox_view_uid(&fx.b, 4, &seq));
	/* then allowed */
	update(&fx.b, 1);
	if (all[0] != '\0' && fx.evs[0] != '\0') {
		strcat(all, " ");
	}
	strcat(all, fx.evs);
	assert_null(strchr(all, 'E'));
	assert_int_equal(fx.b.exists, 4);
	assert_int_equal(uid_at(&fx.b, 4), 5);
	mbox_unselect(&fx.a);
	mbox_unselect(&fx.b);
}

/*
 * RECENT counts messages that are there: an expunged recent message is
 * no longer counted (RFC 3501 7.3.2). Fix: mbox.c, nrecent-- when an
 * EXPUNGE of a recent message is reported.
 */
static void
test_bug_recent_after_expunge(void **state)
{
	(void)state;
	put("new", "1.a", "a\n");
	put("new", "1.b", "b\n");
	put("new", "1.c", "c\n");
	sel(&fx.a, 0);
	assert_int_equal(fx.a.nrecent, 3);
	store(&fx.a, 1, MF_TRASHED);
	assert_string_equal(expunge(&fx.a), "E1");
	deliver("2.d", "d\n");
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "X3 R3");
	mbox_unselect(&fx.a);
}

/*
 * An empty Maildir (new account) must still have a UIDVALIDITY: RFC
 * 3501 2.3.1.1 and 9 (nz-number), and it must not change when the
 * first message arrives. Fix: mbox_disk.c writes the header-only
 * dovecot-uidlist when there is none, as Dovecot does.
 */
static void
test_bug_empty_folder_uidvalidity(void **state)
{
	uint32_t uv;

	(void)state;
	sel(&fx.a, 0);
	uv = mbox_uidvalidity(fx.a.mb);
	assert_true(uv != 0);
	assert_int_equal(mbox_uidnext(fx.a.mb), 1);
	deliver("1.first", "x\n");
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "X1 R1");
	assert_int_equal(mbox_uidvalidity(fx.a.mb), uv);
	mbox_unselect(&fx.a);
}

/*
 * An empty (or header-less, e.g. truncated by a crash) dovecot-uidlist
 * must not get records appended without a header: the next reader
 * takes "1 :name" for a header, finds it bad and renumbers everything.
 * Fix: mbox_disk.c, uidlist_read treats "no header line" as a bad
 * header.
 */
static void
test_bug_empty_uidlist(void **state)
{
	char buf[4096];
	uint32_t uv;

	(void)state;
	spit("dovecot-uidlist", "");
	put("cur", "1.a:2,", "a\n");
	sel(&fx.a, 0);
	uv = mbox_uidvalidity(fx.a.mb);
	assert_true(uv != 0);
	slurp("dovecot-uidlist", buf, sizeof buf);
	assert_int_equal(strncmp(buf, "3 V", 3), 0);
	mbox_unselect(&fx.a);
	sel(&fx.a, 0);
	assert_int_equal(mbox_uidvalidity(fx.a.mb), uv);
	assert_int_equal(uid_at(&fx.a, 1), 1);
	mbox_unselect(&fx.a);
}

/*
 * Flag letters not in Dovecot's order ("SR"), a repeated letter, or a
 * ":1," info: the file must still open and take a STORE. The index
 * rebuilds the name from the flags, which gives a name that is not on
 * disk. Fix: mbox_disk.c renames such files to the canonical name when
 * it first sees them (or keeps a "name is odd" bit and scans for it).
 */
static void
test_bug_noncanonical_name(void **state)
{
	static const char *names[] = { "1.a:2,SR", "1.b:2,SS", "1.c:1,x" };
	char msg[64];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		put("cur", names[i], "odd\n");
	}
	sel(&fx.a, 0);
	assert_int_equal(fx.a.exists, 3);
	assert_int_equal(mbox_view_seq(&fx.a, 1)->flags,
	    MF_SEEN | MF_REPLIED);
	for (uint32_t s = 1; s <= 3; s++) {
		const struct mbox_msg *m = mbox_view_seq(&fx.a, s);

		read_msg(&fx.a, m, msg, sizeof msg);
		assert_string_equal(msg, "odd\n");
		if (mbox_store(&fx.a, m, m->flags | MF_FLAGGED, 0) != 0) {
			fail_msg("STORE seq %u: %s", s, strerror(errno));
		}
	}
	assert_int_equal(count_dir("cur"), 3);
	mbox_unselect(&fx.a);
}

/*
 * Delivered to new/ and moved to cur/ with \Seen (by Dovecot or a MUA)
 * before wren reads inotify: both names are pending, the first in name
 * order ("X" before "X:2,S") gives the flags, so the record says no
 * flags and names a file that does not exist. Same when Dovecot wrote
 * the UID itself: flags stay 0. Fix: mbox_disk.c drops a pending name
 * when it leaves its directory in the same batch, and takes flags from
 * the live name when the record is completed.
 */
static void
test_bug_deliver_then_move(void **state)
{
	char msg[64];

	(void)state;
	cur_letters(1);
	sel(&fx.a, 0);
	deliver("5.x", "x\n");
	mv("new", "5.x", "cur", "5.x:2,S");
	append_to("dovecot-uidlist", "7 :6.y\n");
	deliver("6.y", "y\n");
	mv("new", "6.y", "cur", "6.y:2,F");
	mbox_sync(fx.a.mb);
	assert_string_equal(update(&fx.a, 1), "X3 R2");
	/* 6.y has Dovecot's 7; 5.x the next one after it */
	assert_int_equal(uid_at(&fx.a, 2), 7);
	assert_int_equal(uid_at(&fx.a, 3), 8);
	assert_int_equal(mbox_view_seq(&fx.a, 2)->flags, MF_FLAGGED);
	assert_int_equal(mbox_view_seq(&fx.a, 3)->flags, MF_SEEN);
	read_msg(&fx.a, mbox_view_seq(&fx.a, 2), msg, sizeof msg);
	assert_string_equal(msg, "y\n");
	read_msg(&fx.a, mbox_view_seq(&fx.a, 3), msg, sizeof msg);
	assert_string_equal(msg, "x\n");
	/* only the live names got lines */
	{
		char buf[4096];

		slurp("dovecot-uidlist", buf, sizeof buf);
		assert_non_null(strstr(buf, "\n8 :5.x\n"));
		assert_null(strstr(buf, "\n9 "));
	}
	mbox_unselect(&fx.a);
}

/*
 * Dovecot added a keyword after wren opened the folder; wren must not
 * give a new keyword the same letter (both names would then mean 'a').
 * Fix: mbox.c, mbox_keyword reloads dovecot-keywords before taking a
 * free letter.
 */
static void
test_bug_keywords_added_by_other(void **state)
{
	char buf[256];

	(void)state;
	cur_letters(1);
	sel(&fx.a, 0);
	spit("dovecot-keywords", "0 FromDovecot\n");
	assert_int_equal(mbox_keyword(fx.a.mb, "FromWren", 8, 1), 1);
	assert_int_equal(mbox_keyword(fx.a.mb, "fromdovecot", 11, 0), 0);
	slurp("dovecot-keywords", buf, sizeof buf);
	assert_string_equal(buf, "0 FromDovecot\n1 FromWren\n");
	mbox_unselect(&fx.a);
}

/*
 * A line longer than the read buffer (64 KiB) in dovecot-uidlist (a
 * damaged file) must cost only that line. Today the bytes skipped are
 * not counted, every later record's offset is wrong, its name cannot
 * be read back, and its file gets a new UID. Fix: mbox_disk.c,
 * uidlist_read counts the skipped bytes and drops the line's tail.
 */
static void
test_bug_uidlist_long_line(void **state)
{
	size_t len = 70000, head;
	char *text = malloc(len + 64);

	(void)state;
	assert_non_null(text);
	put("cur", "1.a:2,", "a\n");
	put("cur", "1.b:2,", "b\n");
	put("cur", "1.c:2,", "c\n");
	strcpy(text, "3 V77 N4\n1 :1.a\n");
	head = strlen(text);
	memset(text + head, 'z', len);
	strcpy(text + head + len, "\n2 :1.b\n3 :1.c\n");
	spit("dovecot-uidlist", text);
	free(text);
	sel(&fx.a, 0);
	assert_int_equal(mbox_uidvalidity(fx.a.mb), 77);
	assert_int_equal(fx.a.exists, 3);
	assert_int_equal(uid_at(&fx.a, 2), 2);
	assert_int_equal(uid_at(&fx.a, 3), 3);
	assert_int_equal(mbox_uidnext(fx.a.mb), 4);
	mbox_unselect(&fx.a);
}

/*
 * A file renamed by another process before FETCH opens it: open fails
 * with ENOENT and leaves the index alone (callers hold pointers into
 * it); after mbox_sync the record, looked up again by UID, opens. The
 * first block of records is full (1024) and more arrive, so the arrays
 * grow (and may move) in that sync.
 */
static void
test_open_msg_renamed(void **state)
{
	char name[32], msg[64];
	const struct mbox_msg *m;
	struct stat st;
	uint32_t seq;

	(void)state;
	for (unsigned i = 0; i < 1024; i++) {
		snprintf(name, sizeof name, "%05u.m:2,", i);
		put("cur", name, i == 5 ? "five\n" : "x\n");
	}
	sel(&fx.a, 0);
	m = mbox_view_uid(&fx.a, 6, &seq);
	assert_non_null(m);
	mv("cur", "00005.m:2,", "cur", "00005.m:2,S");
	for (unsigned i = 0; i < 4; i++) {
		snprintf(name, sizeof name, "99999.%u", i);
		deliver(name, "new\n");
	}
	errno = 0;
	assert_int_equal(mbox_open_msg(fx.a.mb, m, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(m->uid, 6);
	mbox_sync(fx.a.mb);
	m = mbox_view_uid(&fx.a, 6, &seq);
	assert_non_null(m);
	assert_int_equal(m->flags, MF_SEEN);
	read_msg(&fx.a, m, msg, sizeof msg);
	assert_string_equal(msg, "five\n");
	assert_string_equal(update(&fx.a, 1), "X1028 R4 F6:6");
	mbox_unselect(&fx.a);
}

/* UID EXPUNGE (RFC 4315 2.1): only \Deleted messages in the set. */
static int
want_odd(void *arg, uint32_t uid)
{
	(void)arg;
	return uid % 2 == 1;
}

static void
test_uid_expunge(void **state)
{
	(void)state;
	cur_letters(4);
	sel(&fx.a, 0);
	store(&fx.a, 2, MF_TRASHED);
	store(&fx.a, 3, MF_TRASHED);
	update(&fx.a, 1);
	fx.evs[0] = '\0';
	assert_int_equal(mbox_expunge(&fx.a, want_odd, NULL, on_event,
	    fx.evs), 0);
	assert_string_equal(fx.evs, "E3");
	assert_int_equal(fx.a.exists, 3);
	assert_int_equal(uid_at(&fx.a, 2), 2);
	assert_int_equal(mbox_view_seq(&fx.a, 2)->flags, MF_TRASHED);
	/* CLOSE: silently */
	assert_int_equal(mbox_expunge(&fx.a, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(fx.a.exists, 2);
	assert_int_equal(uid_at(&fx.a, 2), 4);
	mbox_unselect(&fx.a);
}

/* dovecot-uidlist is rewritten when the last view leaves a folder
 * whose lines are mostly expunged messages (not per message), keeps
 * every live UID and UIDVALIDITY, and keeps what another process
 * appended meanwhile. */
static void
test_uidlist_shrinks_at_close(void **state)
{
	char before[8192], after[8192], line[64];
	uint32_t uv;
	int lines = 0;

	(void)state;
	cur_letters(26);
	sel(&fx.a, 0);
	uv = mbox_uidvalidity(fx.a.mb);
	for (uint32_t s = 1; s <= 20; s++) {
		store(&fx.a, s, MF_TRASHED);
	}
	expunge(&fx.a);
	assert_int_equal(fx.a.exists, 6);
	slurp("dovecot-uidlist", before, sizeof before);
	/* Another process appends a line meanwhile (its file follows). */
	append_to("dovecot-uidlist", "27 :9.late\n");
	mbox_unselect(&fx.a);
	slurp("dovecot-uidlist", after, sizeof after);
	assert_true(strlen(after) < strlen(before));
	for (const char *p = after; *p != '\0'; p++) {
		lines += *p == '\n';
	}
	assert_int_equal(lines, 1 + 6 + 1);	/* header, 6 live, 27 */
	assert_non_null(strstr(after, "\n27 :9.late\n"));
	for (uint32_t uid = 21; uid <= 26; uid++) {
		snprintf(line, sizeof line, "\n%u :1.%c\n", uid,
		    'a' + uid - 1);
		assert_non_null(strstr(after, line));
	}
	put("cur", "9.late:2,", "late\n");
	sel(&fx.a, 0);
	assert_int_equal(mbox_uidvalidity(fx.a.mb), uv);
	assert_int_equal(fx.a.exists, 7);
	assert_int_equal(uid_at(&fx.a, 1), 21);
	assert_int_equal(uid_at(&fx.a, 7), 27);
	mbox_unselect(&fx.a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_uidlist_shrinks_at_close),
		T(test_open_fresh),
		T(test_open_name_order_examine),
		T(test_reopen),
		T(test_dovecot_maildir),
		T(test_views_store),
		T(test_views_expunge),
		T(test_views_expunge_not_caught_up),
		T(test_views_unselect_compacts),
		T(test_idle_sees_delivery),
		T(test_idle_replaced),
		T(test_idle_renamed_by_other),
		T(test_idle_forget),
		T(test_other_delivery),
		T(test_other_uid_from_uidlist),
		T(test_other_rename),
		T(test_other_new_to_cur),
		T(test_other_delete),
		T(test_lookups),
		T(test_lookups_empty),
		T(test_keywords),
		T(test_broken_header),
		T(test_bad_records),
		T(test_names_and_vsize),
		T(test_big_folder),
		T(test_modseq_persist),
		T(test_modseq_live),
		T(test_open_msg_renamed),
		T(test_uid_expunge),
		T(test_bug_store_expunge_ghost),
		T(test_bug_pending_dir_after_sort),
		T(test_bug_tombstone_beyond_known),
		T(test_bug_recent_after_expunge),
		T(test_bug_empty_folder_uidvalidity),
		T(test_bug_empty_uidlist),
		T(test_bug_noncanonical_name),
		T(test_bug_deliver_then_move),
		T(test_bug_keywords_added_by_other),
		T(test_bug_uidlist_long_line),
#undef T
	};

	log_set_level(getenv("WREN_TEST_DEBUG") ? LOG_LVL_DEBUG :
	    LOG_LVL_WARN);
	return cmocka_run_group_tests_name("mbox", tests, NULL, NULL);
}
