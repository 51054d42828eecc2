/* SPDX-License-Identifier: ISC */
/*
 * test_folder.c - an account's Maildir++ folders (store/folder.h) on
 * a real file system, in a temporary directory: provisioning at first
 * login, special-use lookup, listing (implied parents, children,
 * special use, subscriptions, what is left out), CREATE, DELETE and
 * the sliced reaper, RENAME (children, INBOX), SUBSCRIBE and
 * UNSUBSCRIBE with the exact file Dovecot 2.3 writes, and each
 * refusal with its code. Every test checks that nothing appeared
 * outside the account's Maildir.
 *
 * Dovecot itself reading and writing the same trees is
 * test/integration/test_folder_dovecot.py.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>
#include <cmocka.h>

#include "store/folder.h"
#include "store/subs.h"
#include "testutil.h"

struct fx {
	char	top[64];		/* the account's home */
	char	root[128];		/* top/Maildir */
};

static struct folder_list list;

static int
setup(void **state)
{
	static struct fx fx;

	snprintf(fx.top, sizeof fx.top, "/tmp/test_folder.XXXXXX");
	assert_non_null(mkdtemp(fx.top));
	snprintf(fx.root, sizeof fx.root, "%s/Maildir", fx.top);
	*state = &fx;
	return 0;
}

static void
rm_rf(const char *path)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	rm_rf(fx->top);
	return 0;
}

static int
exists(const char *root, const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", root, rel);
	return lstat(p, &st) == 0;
}

static int
mode_of(const char *root, const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", root, rel);
	assert_int_equal(lstat(p, &st), 0);
	return (int)(st.st_mode & 07777);
}

static void
put_file(const char *root, const char *rel, const char *data, size_t len)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", root, rel);
	assert_non_null(f = fopen(p, "w"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
mk(const char *root, const char *rel)
{
	char p[512];

	snprintf(p, sizeof p, "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0700), 0);
}

static void
expect_file(const char *desc, const char *root, const char *rel,
    const char *want)
{
	static char buf[SUBS_FILE_MAX + 4096];
	char p[512];
	size_t n;
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", root, rel);
	assert_non_null(f = fopen(p, "r"));
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	expect_bytes(desc, rel, buf, n, want, strlen(want));
}

/* The home holds only Maildir: nothing was made beside it. */
static void
expect_contained(const struct fx *fx)
{
	DIR *d = opendir(fx->top);
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, "Maildir") != 0) {
			fail_msg("%s appeared outside the Maildir",
			    de->d_name);
		}
	}
	closedir(d);
}

static unsigned
attr_of(const char *name)
{
	int i = folder_list_find(&list, name, strlen(name));

	if (i < 0) {
		fail_msg("%s not listed", name);
	}
	return list.e[i].attr;
}

static void
test_provision(void **state)
{
	struct fx *fx = *state;
	static const char *const f[] = { ".Sent", ".Drafts", ".Trash",
	    ".Junk", ".Archive" };
	struct err e;
	char sub[64];

	assert_int_equal(folder_provision(fx->root, &e), FOLDER_OK);
	assert_int_equal(mode_of(fx->root, ""), 0700);
	assert_true(exists(fx->root, "cur") && exists(fx->root, "new") &&
	    exists(fx->root, "tmp"));
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(mode_of(fx->root, f[i]), 0700);
		snprintf(sub, sizeof sub, "%s/maildirfolder", f[i]);
		assert_true(exists(fx->root, sub));
		snprintf(sub, sizeof sub, "%s/cur", f[i]);
		assert_int_equal(mode_of(fx->root, sub), 0700);
	}
	expect_file("first login", fx->root, "subscriptions",
	    "V\t2\n\nSent\nDrafts\nTrash\nJunk\nArchive\n");
	/* Again: nothing changes. */
	assert_int_equal(folder_provision(fx->root, &e), FOLDER_OK);
	expect_file("second login", fx->root, "subscriptions",
	    "V\t2\n\nSent\nDrafts\nTrash\nJunk\nArchive\n");
	/* A user who unsubscribed Junk, and unsubscribed and deleted
	 * Trash: Trash is made again and subscribed; Junk stays as the
	 * user left it. */
	assert_int_equal(folder_subscribe(fx->root, "Junk", 4, 0, &e),
	    FOLDER_OK);
	assert_int_equal(folder_subscribe(fx->root, "Trash", 5, 0, &e),
	    FOLDER_OK);
	{
		char p[512];

		snprintf(p, sizeof p, "%s/.Trash", fx->root);
		rm_rf(p);
	}
	assert_int_equal(folder_provision(fx->root, &e), FOLDER_OK);
	assert_true(exists(fx->root, ".Trash/maildirfolder"));
	expect_file("Trash again", fx->root, "subscriptions",
	    "V\t2\n\nSent\nDrafts\nArchive\nTrash\n");
	expect_contained(fx);
}

static void
test_special_use(void **state)
{
	(void)state;
	assert_int_equal(folder_special_use("Sent", 4), FOLDER_A_SENT);
	assert_int_equal(folder_special_use("Drafts", 6), FOLDER_A_DRAFTS);
	assert_int_equal(folder_special_use("Trash", 5), FOLDER_A_TRASH);
	assert_int_equal(folder_special_use("Junk", 4), FOLDER_A_JUNK);
	assert_int_equal(folder_special_use("Archive", 7), FOLDER_A_ARCHIVE);
	assert_int_equal(folder_special_use("sent", 4), 0);
	assert_int_equal(folder_special_use("Sent2", 5), 0);
	assert_int_equal(folder_special_use("Sen", 3), 0);
	assert_int_equal(folder_special_use("", 0), 0);
	assert_string_equal(folder_special_name(FOLDER_A_JUNK), "\\Junk");
	assert_null(folder_special_name(FOLDER_A_HASCHILDREN));
}

struct create_case {
	const char	*desc;
	struct text	 name;
	int		 want;
	const char	*dir;	/* made when OK */
};

static const struct create_case creates[] = {
	{ "plain", T("Work"), FOLDER_OK, ".Work" },
	{ "child without its parent", T("p.q.r"), FOLDER_OK, ".p.q.r" },
	{ "trailing separator (RFC 3501 6.3.3)", T("k."), FOLDER_OK, ".k" },
	{ "INBOX child", T("inbox.x"), FOLDER_OK, ".INBOX.x" },
	{ "modified UTF-7", T("caf&AOk-"), FOLDER_OK, ".caf&AOk-" },
	{ "INBOX", T("INBOX"), FOLDER_ALREADYEXISTS, NULL },
	{ "inbox in lower case", T("inbox"), FOLDER_ALREADYEXISTS, NULL },
	{ "again", T("Work"), FOLDER_ALREADYEXISTS, NULL },
	{ "again with a trailing separator", T("Work."),
	  FOLDER_ALREADYEXISTS, NULL },
	{ "dot dot", T(".."), FOLDER_CANNOT, NULL },
	{ "escape with slashes", T("../../x"), FOLDER_CANNOT, NULL },
	{ "leading slash", T("/tmp/x"), FOLDER_CANNOT, NULL },
	{ "leading tilde", T("~root"), FOLDER_CANNOT, NULL },
	{ "control character", T("a\nb"), FOLDER_CANNOT, NULL },
	{ "8-bit", T("caf\xc3\xa9"), FOLDER_CANNOT, NULL },
	{ "tmp", T("tmp"), FOLDER_CANNOT, NULL },
	{ "cur below", T("a.cur"), FOLDER_CANNOT, NULL },
	{ "wildcard", T("a*"), FOLDER_CANNOT, NULL },
	{ "bad modified UTF-7", T("&AGE-"), FOLDER_CANNOT, NULL },
	{ "over-long", TF(NULL, "x", FOLDER_NAME_MAX + 1, NULL),
	  FOLDER_LIMIT, NULL },
	{ "over-deep", TF("a", ".a", FOLDER_DEPTH_MAX, NULL), FOLDER_LIMIT,
	  NULL },
	{ "empty", T(""), FOLDER_CANNOT, NULL },
};

static void
test_create(void **state)
{
	struct fx *fx = *state;
	struct err e;

	assert_int_equal(folder_provision(fx->root, &e), FOLDER_OK);
	for (size_t i = 0; i < sizeof creates / sizeof creates[0]; i++) {
		const struct create_case *c = &creates[i];
		size_t len;
		char *in = build(&c->name, &len);
		int rc;

		e.msg[0] = '\0';
		rc = folder_create(fx->root, in, len, &e);
		if (rc != c->want) {
			fail_msg("%s: got %d (%s), want %d", c->desc, rc,
			    e.msg, c->want);
		}
		if (rc != FOLDER_OK && (e.msg[0] == '\0' ||
		    strstr(e.msg, fx->top) != NULL)) {
			fail_msg("%s: text \"%s\"", c->desc, e.msg);
		}
		if (c->dir != NULL) {
			char sub[256];

			snprintf(sub, sizeof sub, "%s/maildirfolder", c->dir);
			assert_true(exists(fx->root, sub));
			assert_int_equal(mode_of(fx->root, c->dir), 0700);
		}
		free(in);
	}
	assert_false(exists(fx->root, ".p.q"));
	assert_false(exists(fx->root, ".p"));
	expect_contained(fx);
}

static void
test_list(void **state)
{
	struct fx *fx = *state;
	struct err e;

	assert_int_equal(folder_provision(fx->root, &e), FOLDER_OK);
	assert_int_equal(folder_create(fx->root, "a.b.c", 5, &e), 0);
	assert_int_equal(folder_create(fx->root, "INBOX.x", 7, &e), 0);
	assert_int_equal(folder_create(fx->root, "Sent.2025", 9, &e), 0);
	assert_int_equal(folder_subscribe(fx->root, "ghost", 5, 1, &e), 0);
	assert_int_equal(folder_subscribe(fx->root, "a.b.c", 5, 1, &e), 0);
	/* What is no folder, or no folder we can name. */
	put_file(fx->root, ".afile", "", 0);
	mk(fx->root, ".DOVECOT-TRASHED");
	mk(fx->root, FOLDER_TRASH);
	mk(fx->root, ".inbox.y");	/* would open as .INBOX.y */
	mk(fx->root, ".x&AGE-");	/* not canonical mUTF-7 */
	mk(fx->root, "..z");		/* empty first component */
	mk(fx->root, ".x%y");		/* Dovecot makes these: listed */
	{
		char p[512];

		snprintf(p, sizeof p, "%s/.lnk", fx->root);
		assert_int_equal(symlink(".Sent", p), 0);
	}

	assert_int_equal(folder_list(fx->root, 0, &list, &e), FOLDER_OK);
	assert_int_equal(list.cut, 0);
	assert_int_equal(list.skipped, 4);	/* .afile too */
	assert_string_equal(list.e[0].name, "INBOX");
	assert_int_equal(attr_of("INBOX"), FOLDER_A_HASCHILDREN);
	assert_int_equal(attr_of("INBOX.x"), 0);
	assert_int_equal(attr_of("a"), FOLDER_A_NODIR | FOLDER_A_IMPLIED |
	    FOLDER_A_HASCHILDREN);
	assert_int_equal(attr_of("a.b"), FOLDER_A_NODIR | FOLDER_A_IMPLIED |
	    FOLDER_A_HASCHILDREN);
	assert_int_equal(attr_of("a.b.c"), 0);
	assert_int_equal(attr_of("Sent"), FOLDER_A_SENT |
	    FOLDER_A_HASCHILDREN);
	assert_int_equal(attr_of("Sent.2025"), 0);
	assert_int_equal(attr_of("Trash"), FOLDER_A_TRASH);
	assert_int_equal(attr_of("x%y"), 0);
	assert_int_equal(attr_of("lnk"), 0);	/* a link to a folder */
	assert_int_equal(folder_list_find(&list, "ghost", 5), -1);
	assert_int_equal(folder_list_find(&list, "DOVECOT-TRASHED", 15), -1);
	assert_int_equal(folder_list_find(&list, "afile", 5), -1);
	assert_int_equal(folder_list_find(&list, "inbox", 5), 0);
	assert_int_equal(folder_list_find(&list, "inbox.x", 7),
	    folder_list_find(&list, "INBOX.x", 7));
	assert_int_equal(list.n, 13);

	assert_int_equal(folder_list(fx->root, FOLDER_L_SUBSCRIBED, &list,
	    &e), FOLDER_OK);
	assert_int_equal(attr_of("ghost"), FOLDER_A_NODIR |
	    FOLDER_A_SUBSCRIBED);
	assert_int_equal(attr_of("a.b.c"), FOLDER_A_SUBSCRIBED);
	assert_int_equal(attr_of("Junk"), FOLDER_A_JUNK |
	    FOLDER_A_SUBSCRIBED);
	assert_int_equal(attr_of("a"), FOLDER_A_NODIR | FOLDER_A_IMPLIED |
	    FOLDER_A_HASCHILDREN);
	assert_int_equal(list.n, 14);
	expect_contained(fx);
}

/* More folders than FOLDER_LIST_MAX: cut, and said so. */
static void
test_list_cut(void **state)
{
	struct fx *fx = *state;
	struct err e;
	char name[32];

	assert_int_equal(folder_provision(fx->root, &e), FOLDER_OK);
	for (int i = 0; i < FOLDER_LIST_MAX + 10; i++) {
		snprintf(name, sizeof name, ".f%d", i);
		mk(fx->root, name);
	}
	assert_int_equal(folder_list(fx->root, 0, &list, &e), FOLDER_OK);
	assert_int_equal(list.cut, 1);
	assert_int_equal(list.n, FOLDER_LIST_MAX);
	/* RENAME of a folder with more children than fit. */
	mk(fx->root, ".big");
	for (int i = 0; i < FOLDER_LIST_MAX + 1; i++) {
		snprintf(name, sizeof name, ".big.%d", i);
		mk(fx->root, name);
	}
	assert_int_equal(folder_rename(fx->root, "big", 3, "huge", 4, &list,
	    &e), FOLDER_LIMIT);
	assert_true(exists(fx->root, ".big") && !exists(fx->root, ".huge"));
}

static unsigned
reap_all(const char *root, unsigned budget)
{
	struct err e;
	unsigned calls = 0;
	int rc;

	while ((rc = folder_reap_step(root, budget, &e)) == 1) {
		assert_true(++calls < 100000);
	}
	if (rc != 0) {
		fail_msg("reap: %d %s", rc, e.msg);
	}
	return calls + 1;
}

static void
test_delete(void **state)
{
	struct fx *fx = *state;
	char p[512], outside[512];
	struct err e;

	assert_int_equal(folder_provision(fx->root, &e), FOLDER_OK);
	assert_int_equal(folder_create(fx->root, "a", 1, &e), 0);
	assert_int_equal(folder_create(fx->root, "a.b", 3, &e), 0);
	assert_int_equal(folder_subscribe(fx->root, "a", 1, 1, &e), 0);
	for (int i = 0; i < 20; i++) {
		char f[64];

		snprintf(f, sizeof f, ".a/cur/%d.M1P1.h,S=1:2,", i);
		put_file(fx->root, f, "x", 1);
	}
	assert_int_equal(folder_delete(fx->root, "INBOX", 5, &e),
	    FOLDER_CANNOT);
	assert_int_equal(folder_delete(fx->root, "inbox", 5, &e),
	    FOLDER_CANNOT);
	assert_int_equal(folder_delete(fx->root, "nope", 4, &e),
	    FOLDER_NONEXISTENT);
	assert_int_equal(folder_delete(fx->root, "../x", 4, &e),
	    FOLDER_CANNOT);
	assert_int_equal(folder_delete(fx->root, "afile", 5, &e),
	    FOLDER_NONEXISTENT);
	assert_int_equal(folder_delete(fx->root, "a", 1, &e), FOLDER_OK);
	assert_false(exists(fx->root, ".a"));
	assert_true(exists(fx->root, ".a.b/maildirfolder"));
	assert_true(exists(fx->root, FOLDER_TRASH));
	/* The subscription stays, as Dovecot's. */
	expect_file("after delete", fx->root, "subscriptions",
	    "V\t2\n\nSent\nDrafts\nTrash\nJunk\nArchive\na\n");
	assert_int_equal(folder_list(fx->root, 0, &list, &e), 0);
	assert_int_equal(attr_of("a"), FOLDER_A_NODIR | FOLDER_A_IMPLIED |
	    FOLDER_A_HASCHILDREN);
	assert_int_equal(folder_delete(fx->root, "a", 1, &e),
	    FOLDER_NONEXISTENT);
	/* Deleted again and again while reaping: unique trash names. */
	assert_int_equal(folder_create(fx->root, "a", 1, &e), 0);
	assert_int_equal(folder_delete(fx->root, "a", 1, &e), FOLDER_OK);
	assert_int_equal(folder_create(fx->root, "a", 1, &e), 0);
	assert_int_equal(folder_delete(fx->root, "a", 1, &e), FOLDER_OK);

	/* A deep tree and a link out of the trash: the reaper stays
	 * bounded and inside. */
	snprintf(p, sizeof p, "%s/d1", FOLDER_TRASH);
	mk(fx->root, p);
	for (int i = 2; i <= 12; i++) {
		size_t n = strlen(p);

		snprintf(p + n, sizeof p - n, "/d%d", i);
		mk(fx->root, p);
	}
	strcat(p, "/file");
	put_file(fx->root, p, "x", 1);
	snprintf(outside, sizeof outside, "%s/outside", fx->top);
	mkdir(outside, 0700);
	put_file(outside, "keep", "k", 1);
	snprintf(p, sizeof p, "%s/%s/lnk", fx->root, FOLDER_TRASH);
	assert_int_equal(symlink(outside, p), 0);

	/* Budget 1: one removal a call, and it gets there. */
	assert_true(reap_all(fx->root, 1) > 20);
	assert_false(exists(fx->root, FOLDER_TRASH));
	assert_true(exists(outside, "keep"));
	assert_int_equal(folder_reap_step(fx->root, 1, &e), 0);
	rm_rf(outside);
	assert_true(exists(fx->root, ".a.b/cur"));

	/* A big budget: one call. */
	assert_int_equal(folder_create(fx->root, "z", 1, &e), 0);
	assert_int_equal(folder_delete(fx->root, "z", 1, &e), FOLDER_OK);
	assert_int_equal(reap_all(fx->root, 1000), 1);
	expect_contained(fx);
}

static void
test_rename(void **state)
{
	struct fx *fx = *state;
	struct err e;

	assert_int_equal(folder_provision(fx->root, &e), FOLDER_OK);
	assert_int_equal(folder_create(fx->root, "p", 1, &e), 0);
	assert_int_equal(folder_create(fx->root, "p.c1", 4, &e), 0);
	assert_int_equal(folder_create(fx->root, "p.c1.d", 6, &e), 0);
	assert_int_equal(folder_create(fx->root, "pq", 2, &e), 0);
	assert_int_equal(folder_create(fx->root, "other", 5, &e), 0);
	assert_int_equal(folder_subscribe(fx->root, "p.c1", 4, 1, &e), 0);
	put_file(fx->root, ".p.c1/cur/1.M1P1.h,S=1:2,S", "x", 1);

	assert_int_equal(folder_rename(fx->root, "nope", 4, "z", 1, &list,
	    &e), FOLDER_NONEXISTENT);
	assert_int_equal(folder_rename(fx->root, "p", 1, "other", 5, &list,
	    &e), FOLDER_ALREADYEXISTS);
	assert_int_equal(folder_rename(fx->root, "p", 1, "INBOX", 5, &list,
	    &e), FOLDER_ALREADYEXISTS);
	assert_int_equal(folder_rename(fx->root, "p", 1, "p", 1, &list,
	    &e), FOLDER_ALREADYEXISTS);
	assert_int_equal(folder_rename(fx->root, "p", 1, "p.c1.x", 6, &list,
	    &e), FOLDER_CANNOT);
	assert_int_equal(folder_rename(fx->root, "p", 1, "../z", 4, &list,
	    &e), FOLDER_CANNOT);
	assert_int_equal(folder_rename(fx->root, "p", 1, "tmp", 3, &list,
	    &e), FOLDER_CANNOT);
	/* A child's new name would exist: nothing moves. */
	assert_int_equal(folder_create(fx->root, "z.c1", 4, &e), 0);
	assert_int_equal(folder_rename(fx->root, "p", 1, "z", 1, &list,
	    &e), FOLDER_ALREADYEXISTS);
	assert_true(exists(fx->root, ".p") && !exists(fx->root, ".z"));
	assert_int_equal(folder_delete(fx->root, "z.c1", 4, &e), 0);
	assert_int_equal(reap_all(fx->root, 100), 1);
	/* A child's new name too long. */
	{
		char big[FOLDER_NAME_MAX];

		memset(big, 'x', sizeof big);
		assert_int_equal(folder_rename(fx->root, "p", 1, big,
		    FOLDER_NAME_MAX - 2, &list, &e), FOLDER_LIMIT);
	}

	assert_int_equal(folder_rename(fx->root, "p", 1, "z", 1, &list,
	    &e), FOLDER_OK);
	assert_true(exists(fx->root, ".z/maildirfolder"));
	assert_true(exists(fx->root, ".z.c1/cur/1.M1P1.h,S=1:2,S"));
	assert_true(exists(fx->root, ".z.c1.d"));
	assert_true(exists(fx->root, ".pq"));	/* not a child of p */
	assert_false(exists(fx->root, ".p") || exists(fx->root, ".p.c1") ||
	    exists(fx->root, ".p.c1.d"));
	/* Subscriptions stay as they were, as Dovecot 2.3's. */
	expect_file("after rename", fx->root, "subscriptions",
	    "V\t2\n\nSent\nDrafts\nTrash\nJunk\nArchive\np\tc1\n");
	/* A child renamed up a level. */
	assert_int_equal(folder_rename(fx->root, "z.c1", 4, "top", 3, &list,
	    &e), FOLDER_OK);
	assert_true(exists(fx->root, ".top") && exists(fx->root, ".top.d"));
	/* An implied parent: its children move, as with Dovecot. */
	assert_int_equal(folder_create(fx->root, "im.b", 4, &e), 0);
	assert_int_equal(folder_rename(fx->root, "im", 2, "im2", 3, &list,
	    &e), FOLDER_OK);
	assert_true(exists(fx->root, ".im2.b") && !exists(fx->root, ".im2"));
	assert_false(exists(fx->root, ".im.b"));
	expect_contained(fx);
}

static void
test_rename_inbox(void **state)
{
	struct fx *fx = *state;
	struct err e;

	assert_int_equal(folder_provision(fx->root, &e), FOLDER_OK);
	put_file(fx->root, "cur/1.M1P1.h,S=1:2,S", "x", 1);
	put_file(fx->root, "new/2.M1P1.h,S=1", "y", 1);
	put_file(fx->root, "dovecot-keywords", "0 $Label1\n", 10);
	assert_int_equal(folder_rename(fx->root, "INBOX", 5, "Sent", 4,
	    &list, &e), FOLDER_ALREADYEXISTS);
	assert_int_equal(folder_rename(fx->root, "inbox", 5, "Old", 3,
	    &list, &e), FOLDER_OK);
	assert_true(exists(fx->root, ".Old/cur/1.M1P1.h,S=1:2,S"));
	assert_true(exists(fx->root, ".Old/new/2.M1P1.h,S=1"));
	assert_true(exists(fx->root, ".Old/tmp"));
	assert_true(exists(fx->root, ".Old/maildirfolder"));
	expect_file("keywords", fx->root, ".Old/dovecot-keywords",
	    "0 $Label1\n");
	assert_true(exists(fx->root, "cur") && exists(fx->root, "new"));
	assert_false(exists(fx->root, "cur/1.M1P1.h,S=1:2,S"));
	assert_false(exists(fx->root, "new/2.M1P1.h,S=1"));
	/* INBOX.old is a folder like any other on Maildir++. */
	assert_int_equal(folder_rename(fx->root, "INBOX", 5, "INBOX.old", 9,
	    &list, &e), FOLDER_OK);
	assert_true(exists(fx->root, ".INBOX.old/cur"));
	expect_contained(fx);
}

static void
test_subscribe(void **state)
{
	struct fx *fx = *state;
	struct err e;
	char p[512];
	struct utimbuf ut;

	assert_int_equal(folder_provision(fx->root, &e), FOLDER_OK);
	/* No such folder: allowed (RFC 3501 6.3.6). */
	assert_int_equal(folder_subscribe(fx->root, "a.b", 3, 1, &e), 0);
	assert_int_equal(folder_subscribe(fx->root, "inbox", 5, 1, &e), 0);
	assert_int_equal(folder_subscribe(fx->root, "a.b", 3, 1, &e), 0);
	expect_file("subscribed", fx->root, "subscriptions",
	    "V\t2\n\nSent\nDrafts\nTrash\nJunk\nArchive\na\tb\nINBOX\n");
	assert_int_equal(folder_subscribe(fx->root, "Drafts", 6, 0, &e), 0);
	assert_int_equal(folder_subscribe(fx->root, "never", 5, 0, &e), 0);
	expect_file("unsubscribed", fx->root, "subscriptions",
	    "V\t2\n\nSent\nTrash\nJunk\nArchive\na\tb\nINBOX\n");
	/* Refusals. */
	assert_int_equal(folder_subscribe(fx->root, "a/b", 3, 1, &e),
	    FOLDER_CANNOT);
	assert_int_equal(folder_subscribe(fx->root, "", 0, 1, &e),
	    FOLDER_CANNOT);
	assert_int_equal(folder_subscribe(fx->root, "a\tb", 3, 1, &e),
	    FOLDER_CANNOT);
	/* Dovecot holds its lock: INUSE, file untouched. */
	put_file(fx->root, "subscriptions.lock", "", 0);
	assert_int_equal(folder_subscribe(fx->root, "x", 1, 1, &e),
	    FOLDER_INUSE);
	expect_file("locked", fx->root, "subscriptions",
	    "V\t2\n\nSent\nTrash\nJunk\nArchive\na\tb\nINBOX\n");
	/* A stale lock is taken over. */
	snprintf(p, sizeof p, "%s/subscriptions.lock", fx->root);
	ut.actime = ut.modtime = time(NULL) - FOLDER_LOCK_STALE - 10;
	assert_int_equal(utime(p, &ut), 0);
	assert_int_equal(folder_subscribe(fx->root, "x", 1, 1, &e), 0);
	assert_false(exists(fx->root, "subscriptions.lock"));
	/* The old form, duplicates, junk and a cut last line: rewritten
	 * in the V2 form without them. */
	put_file(fx->root, "subscriptions",
	    "a.b\nSent\nSent\n\nx\ty\nlast", 23);
	assert_int_equal(folder_subscribe(fx->root, "Sent", 4, 1, &e), 0);
	expect_file("old form", fx->root, "subscriptions",
	    "V\t2\n\na\tb\nSent\n");
	/* A big old-form file, rewritten in place: every name kept, in
	 * order, the new one last. */
	{
		static char old[SUBS_FILE_MAX], want[SUBS_FILE_MAX + 64];
		size_t ol = 0, wl;

		int i;

		wl = (size_t)snprintf(want, sizeof want, "V\t2\n\n");
		for (i = 0; i < FOLDER_SUBS_MAX - 1 && ol + 16 < sizeof old;
		    i++) {
			ol += (size_t)snprintf(old + ol, sizeof old - ol,
			    "n%d.%d\n", i, i % 7);
			wl += (size_t)snprintf(want + wl, sizeof want - wl,
			    "n%d\t%d\n", i, i % 7);
		}
		snprintf(want + wl, sizeof want - wl, "INBOX\tnew\n");
		put_file(fx->root, "subscriptions", old, ol);
		assert_int_equal(folder_subscribe(fx->root, "inbox.new", 9, 1,
		    &e), 0);
		expect_file("big old form", fx->root, "subscriptions", want);
		/* Full (FOLDER_SUBS_MAX names): one more is LIMIT, and the
		 * file stays as it was, readable: UNSUBSCRIBE works. */
		assert_int_equal(i + 1, FOLDER_SUBS_MAX);
		assert_int_equal(folder_subscribe(fx->root, "one.more", 8, 1,
		    &e), FOLDER_LIMIT);
		expect_file("full", fx->root, "subscriptions", want);
		assert_int_equal(folder_subscribe(fx->root, "inbox.new", 9, 0,
		    &e), 0);
	}
	/* Too big a file: LIMIT, not a cut. */
	{
		static char big[SUBS_FILE_MAX + 2];

		memset(big, 'a', sizeof big);
		big[sizeof big - 1] = '\n';
		put_file(fx->root, "subscriptions", big, sizeof big);
		assert_int_equal(folder_subscribe(fx->root, "q", 1, 1, &e),
		    FOLDER_LIMIT);
	}
	expect_contained(fx);
}

static void
test_path(void **state)
{
	struct fx *fx = *state;
	struct err e;
	char out[512], small[8];

	assert_int_equal(folder_path(fx->root, "inbox", 5, out, sizeof out,
	    &e), 0);
	assert_string_equal(out, fx->root);
	assert_int_equal(folder_path(fx->root, "a.b", 3, out, sizeof out,
	    &e), 0);
	assert_string_equal(out + strlen(fx->root), "/.a.b");
	assert_int_equal(folder_path(fx->root, "x%y", 3, out, sizeof out,
	    &e), 0);
	assert_int_equal(folder_path(fx->root, "../a", 4, out, sizeof out,
	    &e), FOLDER_CANNOT);
	assert_int_equal(folder_path(fx->root, "a", 1, small, sizeof small,
	    &e), FOLDER_SERVERBUG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_provision, setup,
		    teardown),
		cmocka_unit_test(test_special_use),
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_cut, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_inbox, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_subscribe, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_path, setup, teardown),
	};

	return cmocka_run_group_tests_name("folder", tests, NULL, NULL);
}
