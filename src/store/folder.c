/* SPDX-License-Identifier: ISC */
/*
 * folder.c - an account's Maildir++ folders as Dovecot 2.3 lays them
 * out (see folder.h): provisioning at first login, listing with
 * RFC 5258 child and RFC 6154 special-use attributes, CREATE, DELETE
 * with a sliced reaper, RENAME (RFC 3501 6.3.3 - 6.3.5) and Dovecot's
 * subscriptions file (RFC 3501 6.3.6, 6.3.7).
 *
 * Every loop has a named bound: FOLDER_SCAN_MAX directory entries,
 * FOLDER_LIST_MAX names, SUBS_FILE_MAX octets of subscriptions, and
 * the caller's budget for the reaper.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "store/folder.h"
#include "store/subs.h"

#define FOLDER_TRIES		8	/* unique trash names tried */
#define FOLDER_KEYWORDS_MAX	4096	/* dovecot-keywords copied */

struct special {
	const char	*name;
	unsigned	 attr;
	const char	*flag;
};

static const struct special specials[] = {
	{ "Sent", FOLDER_A_SENT, "\\Sent" },
	{ "Drafts", FOLDER_A_DRAFTS, "\\Drafts" },
	{ "Trash", FOLDER_A_TRASH, "\\Trash" },
	{ "Junk", FOLDER_A_JUNK, "\\Junk" },
	{ "Archive", FOLDER_A_ARCHIVE, "\\Archive" },
};
#define NSPECIALS	(sizeof specials / sizeof specials[0])

/*
 * The subscriptions file, read and rewritten in one buffer:
 *
 *   subs_buf: [ SUBS_ROOM ][ the file as read, SUBS_FILE_MAX at most ]
 *              ^ the new file is written from here
 *
 * A kept line is never longer than the line it came from, so the new
 * file, header included, stays behind the line being read; SUBS_ROOM
 * holds the header and the names added at the end.
 */
#define SUBS_ROOM	(sizeof(SUBS_HEADER) + NSPECIALS * \
			    (FOLDER_NAME_MAX + 1))
static char	subs_buf[SUBS_ROOM + SUBS_FILE_MAX];
static unsigned	trash_seq;

static int	fsync_dir(const char *);
static int	write_all(int, const char *, size_t);
static int	rc_name(enum folder_name_err, struct err *);
static int	rc_io(struct err *, const char *);
static int	join(char *, size_t, const char *, const char *);
static int	is_dir_at(int, const struct dirent *);
static int	is_real_dir_at(int, const struct dirent *);
static int	mkdir_sync(const char *);
static int	make_folder(const char *);
static int	read_small(const char *, char *, size_t, size_t *);
static int	write_replace(const char *, const char *, const char *,
		    size_t);
static int	subs_update(const char *, const struct folder_name *,
		    size_t, int, struct err *);
static unsigned	hash_name(const char *, size_t);
static int	list_add(struct folder_list *, const char *, size_t,
		    unsigned);
static void	list_subs(const char *, struct folder_list *);
static int	trash_name(char *, size_t, const char *);
static int	rename_inbox(const char *, const struct folder_name *,
		    struct err *);
static int	reap_walk(const char *, unsigned *, unsigned, struct err *);

int
folder_provision(const char *root, struct err *e)
{
	struct folder_name made[NSPECIALS];
	char path[FOLDER_PATH_MAX];
	struct stat st;
	size_t nmade = 0;

	if (join(path, sizeof path, root, "cur") == -1) {
		return rc_io(e, "Maildir path too long");
	}
	if (stat(path, &st) == -1) {
		static const char *const sub[] = { "cur", "new", "tmp" };

		if (mkdir_sync(root) == -1) {
			return rc_io(e, "Cannot create the Maildir");
		}
		for (size_t i = 0; i < 3; i++) {
			if (join(path, sizeof path, root, sub[i]) == -1 ||
			    mkdir_sync(path) == -1) {
				return rc_io(e, "Cannot create the Maildir");
			}
		}
	}
	for (size_t i = 0; i < NSPECIALS; i++) {
		char dir[FOLDER_DIR_MAX];
		int rc;

		(void)fmt(dir, sizeof dir, ".%s", specials[i].name);
		if (join(path, sizeof path, root, dir) == -1) {
			return rc_io(e, "Maildir path too long");
		}
		if (stat(path, &st) == 0) {
			continue;
		}
		rc = make_folder(path);
		if (rc == FOLDER_ALREADYEXISTS) {
			continue;
		}
		if (rc != FOLDER_OK) {
			return rc_io(e, "Cannot create a special-use folder");
		}
		(void)folder_name_parse(specials[i].name,
		    strlen(specials[i].name), FOLDER_NAME_NEW, &made[nmade]);
		nmade++;
	}
	if (nmade > 0 && fsync_dir(root) == -1) {
		return rc_io(e, "Cannot sync the Maildir");
	}
	return nmade > 0 ? subs_update(root, made, nmade, 1, e) : FOLDER_OK;
}

unsigned
folder_special_use(const char *name, size_t len)
{
	for (size_t i = 0; i < NSPECIALS; i++) {
		if (strlen(specials[i].name) == len &&
		    memcmp(specials[i].name, name, len) == 0) {
			return specials[i].attr;
		}
	}
	return 0;
}

const char *
folder_special_name(unsigned attr)
{
	for (size_t i = 0; i < NSPECIALS; i++) {
		if (specials[i].attr == attr) {
			return specials[i].flag;
		}
	}
	return NULL;
}

int
folder_list(const char *root, unsigned flags, struct folder_list *l,
    struct err *e)
{
	struct dirent *de;
	size_t nreal, scanned = 0;
	DIR *d;

	l->n = 0;
	l->cut = 0;
	l->skipped = 0;
	memset(l->hash, 0, sizeof l->hash);
	(void)list_add(l, "INBOX", 5, 0);
	if ((d = opendir(root)) == NULL) {
		if (errno == ENOENT) {
			return FOLDER_OK;	/* not provisioned yet */
		}
		return rc_io(e, "Cannot read the Maildir");
	}
	while ((de = readdir(d)) != NULL) {
		struct folder_name fn;
		size_t dlen = strlen(de->d_name);

		if (++scanned > FOLDER_SCAN_MAX) {
			l->cut = 1;
			break;
		}
		if (de->d_name[0] != '.' || dlen < 2 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, ".DOVECOT-TRASHED") == 0) {
			continue;
		}
		/* Only what maps back to this very directory: ".inbox.x"
		 * would be opened as ".INBOX.x". */
		if (dlen - 1 > FOLDER_NAME_MAX ||
		    folder_name_parse(de->d_name + 1, dlen - 1,
		    FOLDER_NAME_LAX, &fn) != FOLDER_NAME_OK || fn.inbox ||
		    fn.dirlen != dlen ||
		    memcmp(fn.dir, de->d_name, dlen) != 0 ||
		    !is_dir_at(dirfd(d), de)) {
			l->skipped++;
			continue;
		}
		if (list_add(l, fn.name, fn.len, fn.depth == 1 ?
		    folder_special_use(fn.name, fn.len) : 0) == -1) {
			break;
		}
	}
	closedir(d);
	/* Implied parents: every proper prefix ending before a separator
	 * of a real folder (loops bounded by FOLDER_LIST_MAX names of
	 * FOLDER_NAME_MAX octets). */
	nreal = l->n;
	for (size_t i = 1; i < nreal; i++) {
		const struct folder_entry *fe = &l->e[i];

		for (size_t j = 1; j < fe->len; j++) {
			if (fe->name[j] == FOLDER_SEP &&
			    folder_list_find(l, fe->name, j) < 0 &&
			    list_add(l, fe->name, j,
			    FOLDER_A_NODIR | FOLDER_A_IMPLIED) == -1) {
				break;
			}
		}
	}
	for (size_t i = 1; i < l->n; i++) {
		const struct folder_entry *fe = &l->e[i];
		const char *sep = NULL;
		int p;

		for (size_t j = 0; j < fe->len; j++) {
			if (fe->name[j] == FOLDER_SEP) {
				sep = fe->name + j;
			}
		}
		if (sep != NULL && (p = folder_list_find(l, fe->name,
		    (size_t)(sep - fe->name))) >= 0) {
			l->e[p].attr |= FOLDER_A_HASCHILDREN;
		}
	}
	if (flags & FOLDER_L_SUBSCRIBED) {
		list_subs(root, l);
	}
	return FOLDER_OK;
}

int
folder_list_find(const struct folder_list *l, const char *name,
    size_t len)
{
	char key[FOLDER_NAME_MAX];
	unsigned h;

	if (len > FOLDER_NAME_MAX) {
		return -1;
	}
	memcpy(key, name, len);
	if (len >= 5 && strncasecmp(key, "INBOX", 5) == 0 &&
	    (len == 5 || key[5] == FOLDER_SEP)) {
		memcpy(key, "INBOX", 5);
	}
	h = hash_name(key, len);
	for (size_t k = 0; k < 2 * FOLDER_LIST_MAX; k++) {
		unsigned slot = (h + (unsigned)k) % (2 * FOLDER_LIST_MAX);
		unsigned ix = l->hash[slot];
		const struct folder_entry *fe;

		if (ix == 0) {
			return -1;
		}
		fe = &l->e[ix - 1];
		if (fe->len == len && memcmp(fe->name, key, len) == 0) {
			return (int)(ix - 1);
		}
	}
	return -1;
}

int
folder_path(const char *root, const char *name, size_t len, char *out,
    size_t cap, struct err *e)
{
	struct folder_name fn;
	enum folder_name_err ne;

	if ((ne = folder_name_parse(name, len, FOLDER_NAME_LAX, &fn)) !=
	    FOLDER_NAME_OK) {
		return rc_name(ne, e);
	}
	if (join(out, cap, root, fn.dir) == -1) {
		return rc_io(e, "Mailbox path too long");
	}
	return FOLDER_OK;
}

int
folder_create(const char *root, const char *name, size_t len,
    struct err *e)
{
	char path[FOLDER_PATH_MAX];
	struct folder_name fn;
	enum folder_name_err ne;
	int rc;

	ne = folder_name_parse(name, len, FOLDER_NAME_NEW | FOLDER_NAME_TRAIL,
	    &fn);
	if (ne != FOLDER_NAME_OK) {
		return rc_name(ne, e);
	}
	if (fn.inbox) {
		(void)err_set(e, "Mailbox already exists");
		return FOLDER_ALREADYEXISTS;
	}
	if (join(path, sizeof path, root, fn.dir) == -1) {
		return rc_io(e, "Mailbox path too long");
	}
	rc = make_folder(path);
	if (rc == FOLDER_ALREADYEXISTS) {
		(void)err_set(e, "Mailbox already exists");
		return rc;
	}
	if (rc != FOLDER_OK || fsync_dir(root) == -1) {
		return rc_io(e, "Cannot create the mailbox");
	}
	return FOLDER_OK;
}

int
folder_delete(const char *root, const char *name, size_t len,
    struct err *e)
{
	char path[FOLDER_PATH_MAX], to[FOLDER_PATH_MAX];
	struct folder_name fn;
	enum folder_name_err ne;
	struct stat st;

	if ((ne = folder_name_parse(name, len, FOLDER_NAME_LAX, &fn)) !=
	    FOLDER_NAME_OK) {
		return rc_name(ne, e);
	}
	if (fn.inbox) {
		(void)err_set(e, "INBOX can't be deleted");
		return FOLDER_CANNOT;
	}
	if (join(path, sizeof path, root, fn.dir) == -1 ||
	    join(to, sizeof to, root, FOLDER_TRASH) == -1) {
		return rc_io(e, "Mailbox path too long");
	}
	if (lstat(path, &st) == -1 && errno != ENOENT && errno != ENOTDIR) {
		return rc_io(e, "Cannot delete the mailbox");
	}
	if (lstat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
		(void)err_set(e, "Mailbox doesn't exist: %.*s",
		    (int)fn.len, fn.name);
		return FOLDER_NONEXISTENT;
	}
	if (mkdir(to, 0700) == -1 && errno != EEXIST) {
		return rc_io(e, "Cannot delete the mailbox");
	}
	for (int i = 0;; i++) {
		if (trash_name(to, sizeof to, root) == -1) {
			return rc_io(e, "Mailbox path too long");
		}
		if (rename(path, to) == 0) {
			break;
		}
		if ((errno != EEXIST && errno != ENOTEMPTY) ||
		    i + 1 == FOLDER_TRIES) {
			return rc_io(e, "Cannot delete the mailbox");
		}
	}
	if (fsync_dir(root) == -1) {
		return rc_io(e, "Cannot sync the Maildir");
	}
	return FOLDER_OK;
}

int
folder_reap_step(const char *root, unsigned budget, struct err *e)
{
	char top[FOLDER_PATH_MAX];
	unsigned done = 0;

	if (join(top, sizeof top, root, FOLDER_TRASH) == -1) {
		return rc_io(e, "Maildir path too long");
	}
	while (done < budget) {
		int rc = reap_walk(top, &done, budget, e);

		if (rc <= 0) {
			return rc;	/* 0: all gone; < 0: error */
		}
	}
	return 1;
}

int
folder_rename(const char *root, const char *from, size_t flen,
    const char *to, size_t tlen, struct folder_list *scratch,
    struct err *e)
{
	char src[FOLDER_PATH_MAX], dst[FOLDER_PATH_MAX];
	struct folder_name ff, tf, cf;
	enum folder_name_err ne;
	struct dirent *de;
	struct stat st;
	size_t scanned = 0;
	int self;
	DIR *d;

	if ((ne = folder_name_parse(from, flen, FOLDER_NAME_LAX, &ff)) !=
	    FOLDER_NAME_OK || (ne = folder_name_parse(to, tlen,
	    FOLDER_NAME_NEW, &tf)) != FOLDER_NAME_OK) {
		return rc_name(ne, e);
	}
	if (tf.inbox || (ff.len == tf.len &&
	    memcmp(ff.name, tf.name, ff.len) == 0)) {
		(void)err_set(e, "Target mailbox already exists");
		return FOLDER_ALREADYEXISTS;
	}
	if (ff.inbox) {
		return rename_inbox(root, &tf, e);	/* "INBOX.old" too */
	}
	if (tf.len > ff.len && tf.name[ff.len] == FOLDER_SEP &&
	    memcmp(tf.name, ff.name, ff.len) == 0) {
		(void)err_set(e, "Can't rename mailbox under its own child");
		return FOLDER_CANNOT;
	}
	if (join(src, sizeof src, root, ff.dir) == -1 ||
	    join(dst, sizeof dst, root, tf.dir) == -1) {
		return rc_io(e, "Mailbox path too long");
	}
	/* An implied parent (children, no directory) is renamed too, by
	 * its children, as Dovecot does. */
	self = lstat(src, &st) == 0 && S_ISDIR(st.st_mode);
	if (lstat(dst, &st) == 0) {
		(void)err_set(e, "Target mailbox already exists");
		return FOLDER_ALREADYEXISTS;
	}
	/* The children: ".from.rest" each becoming ".to.rest", all
	 * checked before anything moves. */
	scratch->n = 0;
	if ((d = opendir(root)) == NULL) {
		return rc_io(e, "Cannot read the Maildir");
	}
	while ((de = readdir(d)) != NULL && ++scanned <= FOLDER_SCAN_MAX) {
		struct folder_entry *ce;
		size_t dlen = strlen(de->d_name), rest;

		if (dlen <= ff.dirlen + 1 ||
		    memcmp(de->d_name, ff.dir, ff.dirlen) != 0 ||
		    de->d_name[ff.dirlen] != FOLDER_SEP) {
			continue;
		}
		rest = dlen - ff.dirlen;	/* ".rest" */
		if (scratch->n == FOLDER_LIST_MAX) {
			closedir(d);
			(void)err_set(e, "Mailbox has too many children");
			return FOLDER_LIMIT;
		}
		ce = &scratch->e[scratch->n];
		if (tf.len + rest > FOLDER_NAME_MAX) {
			closedir(d);
			(void)err_set(e, "Mailbox name too long");
			return FOLDER_LIMIT;
		}
		memcpy(ce->name, tf.name, tf.len);
		memcpy(ce->name + tf.len, de->d_name + ff.dirlen, rest);
		ce->len = (uint8_t)(tf.len + rest);
		/* attr holds the length of ".rest", the part the old and
		 * new names share, so the old directory is found again. */
		ce->attr = (uint16_t)rest;
		ne = folder_name_parse(ce->name, ce->len, FOLDER_NAME_LAX,
		    &cf);
		if (ne != FOLDER_NAME_OK) {
			closedir(d);
			return rc_name(ne, e);
		}
		if (join(dst, sizeof dst, root, cf.dir) == -1) {
			closedir(d);
			return rc_io(e, "Mailbox path too long");
		}
		if (lstat(dst, &st) == 0) {
			closedir(d);
			(void)err_set(e, "Target mailbox already exists: "
			    "%.*s", (int)cf.len, cf.name);
			return FOLDER_ALREADYEXISTS;
		}
		scratch->n++;
	}
	closedir(d);
	if (de != NULL) {
		(void)err_set(e, "Too many entries in the Maildir");
		return FOLDER_LIMIT;	/* children might be missed */
	}
	if (!self && scratch->n == 0) {
		(void)err_set(e, "Mailbox doesn't exist: %.*s",
		    (int)ff.len, ff.name);
		return FOLDER_NONEXISTENT;
	}
	if (self && (join(dst, sizeof dst, root, tf.dir) == -1 ||
	    rename(src, dst) == -1)) {
		return rc_io(e, "Cannot rename the mailbox");
	}
	for (size_t i = 0; i < scratch->n; i++) {
		const struct folder_entry *ce = &scratch->e[i];
		size_t rest = ce->attr;
		char old[FOLDER_DIR_MAX], neu[FOLDER_DIR_MAX];

		(void)fmt(old, sizeof old, "%s%.*s", ff.dir, (int)rest,
		    ce->name + ce->len - rest);
		(void)fmt(neu, sizeof neu, ".%.*s", (int)ce->len, ce->name);
		if (join(src, sizeof src, root, old) == -1 ||
		    join(dst, sizeof dst, root, neu) == -1 ||
		    rename(src, dst) == -1) {
			return rc_io(e, "Cannot rename a child mailbox");
		}
	}
	if (fsync_dir(root) == -1) {
		return rc_io(e, "Cannot sync the Maildir");
	}
	return FOLDER_OK;
}

int
folder_subscribe(const char *root, const char *name, size_t len, int on,
    struct err *e)
{
	struct folder_name fn;
	enum folder_name_err ne;

	if ((ne = folder_name_parse(name, len, FOLDER_NAME_LAX, &fn)) !=
	    FOLDER_NAME_OK) {
		return rc_name(ne, e);
	}
	return subs_update(root, &fn, 1, on, e);
}

/* fsync of a directory, so the entries made in it last. */
static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd == -1) {
		return -1;
	}
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A name fault as the session answers it. */
static int
rc_name(enum folder_name_err ne, struct err *e)
{
	(void)err_set(e, "%s", folder_name_strerror(ne));
	return ne == FOLDER_NAME_LONG || ne == FOLDER_NAME_DEEP ?
	    FOLDER_LIMIT : FOLDER_CANNOT;
}

/* An I/O fault: the text says what failed, with errno's reason. */
static int
rc_io(struct err *e, const char *what)
{
	int saved = errno;

	if (saved == ENOSPC || saved == EDQUOT) {
		(void)err_set(e, "%s: %s", what, strerror(saved));
		return FOLDER_LIMIT;
	}
	(void)err_set(e, "%s: %s", what, saved != 0 ? strerror(saved) :
	    "error");
	return FOLDER_SERVERBUG;
}

static int
join(char *out, size_t cap, const char *root, const char *sub)
{
	int n = fmt(out, cap, "%s%s%s", root, sub[0] == '\0' ? "" : "/",
	    sub);

	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* A directory, or a symbolic link to one (Dovecot follows links). */
static int
is_dir_at(int dfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type == DT_DIR) {
		return 1;
	}
	if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK) {
		return 0;
	}
	return fstatat(dfd, de->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* A directory itself, never through a link: the reaper must not walk
 * out of the trash. */
static int
is_real_dir_at(int dfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN) {
		return de->d_type == DT_DIR;
	}
	return fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode);
}

/* mkdir 0700 and fsync of the new directory's parent; an existing one
 * is fine. */
static int
mkdir_sync(const char *path)
{
	char parent[FOLDER_PATH_MAX];
	char *slash;

	if (mkdir(path, 0700) == -1) {
		return errno == EEXIST ? 0 : -1;
	}
	if (fmt(parent, sizeof parent, "%s", path) >= (int)sizeof parent) {
		return 0;
	}
	slash = strrchr(parent, '/');
	if (slash == NULL) {
		return fsync_dir(".");
	}
	*slash = '\0';
	return fsync_dir(slash == parent ? "/" : parent);
}

/*
 * A Maildir++ folder as Dovecot makes one: the directory (its mkdir
 * is the test for existence), cur/ new/ tmp/ and an empty
 * maildirfolder file, then an fsync of it. The caller syncs the root.
 */
static int
make_folder(const char *path)
{
	static const char *const sub[] = { "cur", "new", "tmp" };
	char p[FOLDER_PATH_MAX];
	int fd;

	if (mkdir(path, 0700) == -1) {
		return errno == EEXIST ? FOLDER_ALREADYEXISTS :
		    FOLDER_SERVERBUG;
	}
	for (size_t i = 0; i < 3; i++) {
		if (join(p, sizeof p, path, sub[i]) == -1 ||
		    mkdir(p, 0700) == -1) {
			return FOLDER_SERVERBUG;
		}
	}
	if (join(p, sizeof p, path, "maildirfolder") == -1 ||
	    (fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		return FOLDER_SERVERBUG;
	}
	close(fd);
	return fsync_dir(path) == -1 ? FOLDER_SERVERBUG : FOLDER_OK;
}

/* A whole small file into buf: 0, 1 when absent, -1 on an error
 * (errno EFBIG when it holds more than cap). */
static int
read_small(const char *path, char *buf, size_t cap, size_t *len)
{
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*len = 0;
	if (fd == -1) {
		return errno == ENOENT ? 1 : -1;
	}
	for (;;) {
		char one;
		ssize_t n = have < cap ? read(fd, buf + have, cap - have) :
		    read(fd, &one, 1);

		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			close(fd);
			return -1;
		}
		if (n == 0) {
			break;
		}
		if (have == cap) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
		have += (size_t)n;
	}
	close(fd);
	*len = have;
	return 0;
}

/* buf[0..len) becomes root/name through root/lock (O_EXCL: Dovecot's
 * dotlock name), fsync'd, renamed, root fsync'd. -1 with errno EBUSY
 * while another holds a fresh lock. */
static int
write_replace(const char *root, const char *name, const char *buf,
    size_t len)
{
	char lock[FOLDER_PATH_MAX], path[FOLDER_PATH_MAX], lname[64];
	struct stat st;
	int fd, rc;

	(void)fmt(lname, sizeof lname, "%s.lock", name);
	if (join(lock, sizeof lock, root, lname) == -1 ||
	    join(path, sizeof path, root, name) == -1) {
		return -1;
	}
	fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 && errno == EEXIST && lstat(lock, &st) == 0 &&
	    st.st_mtime + FOLDER_LOCK_STALE < time(NULL) &&
	    unlink(lock) == 0) {
		fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
	}
	if (fd == -1) {
		if (errno == EEXIST) {
			errno = EBUSY;
		}
		return -1;
	}
	rc = write_all(fd, buf, len);
	if (rc == 0) {
		rc = fsync(fd);
	}
	if (close(fd) == -1) {
		rc = -1;
	}
	if (rc == 0) {
		rc = rename(lock, path);
	}
	if (rc == -1) {
		int saved = errno;

		(void)unlink(lock);
		errno = saved;
		return -1;
	}
	return fsync_dir(root);
}

/*
 * Adds (on) or removes names[0..n) in the subscriptions file. What is
 * there stays in its order, in the V2 form, less the lines Dovecot
 * would drop too; a name already in its wanted state costs no write.
 */
static int
subs_update(const char *root, const struct folder_name *names, size_t n,
    int on, struct err *e)
{
	char path[FOLDER_PATH_MAX];
	unsigned found = 0;	/* bit i: names[i] is in the file */
	struct subs_reader r;
	struct folder_name fn;
	size_t inlen = 0, outlen = 0, kept = 0;
	enum subs_ev ev;
	int rc, changed = 0;

	if (join(path, sizeof path, root, SUBS_FILE) == -1) {
		return rc_io(e, "Maildir path too long");
	}
	rc = read_small(path, subs_buf + SUBS_ROOM, SUBS_FILE_MAX, &inlen);
	if (rc == -1) {
		if (errno == EFBIG) {
			(void)err_set(e, "Too many subscriptions");
			return FOLDER_LIMIT;
		}
		return rc_io(e, "Cannot read subscriptions");
	}
	subs_reader_init(&r, subs_buf + SUBS_ROOM, inlen);
	changed = !r.v2 && inlen > 0;
	while ((ev = subs_next(&r, &fn)) != SUBS_END) {
		int keep = 1;

		if (ev == SUBS_SKIP) {
			changed = 1;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (fn.len != names[i].len ||
			    memcmp(fn.name, names[i].name, fn.len) != 0) {
				continue;
			}
			if (found & (1U << i)) {
				keep = 0;	/* a duplicate */
				changed = 1;
			}
			found |= 1U << i;
			if (!on) {
				keep = 0;
				changed = 1;
			}
		}
		/* Behind the line just read, never over the unread. */
		if (keep && subs_put(subs_buf, SUBS_ROOM + r.pos, &outlen,
		    fn.name, fn.len) == -1) {
			(void)err_set(e, "Too many subscriptions");
			return FOLDER_LIMIT;
		}
		kept += keep;
	}
	for (size_t i = 0; on && i < n; i++) {
		if (found & (1U << i)) {
			continue;
		}
		changed = 1;
		/* A listing must hold them all (with the folders), and a
		 * read take the file back: over SUBS_FILE_MAX it could
		 * never be read (nor repaired) again. */
		if (++kept > FOLDER_SUBS_MAX) {
			(void)err_set(e, "Too many subscriptions (%d at most)",
			    FOLDER_SUBS_MAX);
			return FOLDER_LIMIT;
		}
		if (subs_put(subs_buf, SUBS_FILE_MAX, &outlen,
		    names[i].name, names[i].len) == -1) {
			(void)err_set(e, "Too many subscriptions");
			return FOLDER_LIMIT;
		}
	}
	if (!changed) {
		return FOLDER_OK;
	}
	if (outlen == 0) {
		(void)fmt(subs_buf, sizeof subs_buf, "%s", SUBS_HEADER);
		outlen = strlen(SUBS_HEADER);
	}
	if (write_replace(root, SUBS_FILE, subs_buf, outlen) == -1) {
		if (errno == EBUSY) {
			(void)err_set(e, "Subscriptions are being changed; "
			    "try again");
			return FOLDER_INUSE;
		}
		return rc_io(e, "Cannot write subscriptions");
	}
	return FOLDER_OK;
}

/* FNV-1a. */
static unsigned
hash_name(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	}
	return (unsigned)(h % (2 * FOLDER_LIST_MAX));
}

/* Appends a name not yet in l: its index, or -1 (and l->cut) when
 * l is full. */
static int
list_add(struct folder_list *l, const char *name, size_t len,
    unsigned attr)
{
	unsigned h = hash_name(name, len);
	struct folder_entry *fe;

	if (l->n == FOLDER_LIST_MAX || len > FOLDER_NAME_MAX) {
		l->cut = 1;
		return -1;
	}
	fe = &l->e[l->n];
	memcpy(fe->name, name, len);
	fe->name[len] = '\0';
	fe->len = (uint8_t)len;
	fe->attr = (uint16_t)attr;
	/* Half full at most: a free slot is always found. */
	while (l->hash[h] != 0) {
		h = (h + 1) % (2 * FOLDER_LIST_MAX);
	}
	l->hash[h] = (uint16_t)(l->n + 1);
	return (int)l->n++;
}

/* Marks the subscribed names of l, and adds those with no folder. A
 * file that cannot be read lists nothing as subscribed. */
static void
list_subs(const char *root, struct folder_list *l)
{
	char path[FOLDER_PATH_MAX];
	struct subs_reader r;
	struct folder_name fn;
	enum subs_ev ev;
	size_t len;
	int p;

	if (join(path, sizeof path, root, SUBS_FILE) == -1 ||
	    read_small(path, subs_buf, SUBS_FILE_MAX, &len) != 0) {
		return;
	}
	subs_reader_init(&r, subs_buf, len);
	while ((ev = subs_next(&r, &fn)) != SUBS_END) {
		if (ev == SUBS_SKIP) {
			l->skipped++;
		} else if ((p = folder_list_find(l, fn.name, fn.len)) >= 0) {
			l->e[p].attr |= FOLDER_A_SUBSCRIBED;
		} else {
			(void)list_add(l, fn.name, fn.len,
			    FOLDER_A_NODIR | FOLDER_A_SUBSCRIBED);
		}
	}
}

/* root/FOLDER_TRASH/<time>.<pid>.<n>: a name no other delete uses. */
static int
trash_name(char *out, size_t cap, const char *root)
{
	int n = fmt(out, cap, "%s/%s/%lld.%d.%u", root, FOLDER_TRASH,
	    (long long)time(NULL), (int)getpid(), ++trash_seq);

	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * RENAME INBOX (RFC 3501 6.3.5): the new folder is made in place, then
 * INBOX's cur/ and new/ are moved into it and made again empty. A
 * crash leaves every message in INBOX or in the new folder; a missing
 * cur/ or new/ is made again by maildir_ensure. dovecot-keywords goes
 * along, so that flag letters keep their keywords.
 */
static int
rename_inbox(const char *root, const struct folder_name *tf,
    struct err *e)
{
	static const char *const sub[] = { "cur", "new" };
	char dir[FOLDER_PATH_MAX], a[FOLDER_PATH_MAX], b[FOLDER_PATH_MAX];
	char kw[FOLDER_KEYWORDS_MAX];
	size_t kwlen = 0;
	int fd;

	if (join(dir, sizeof dir, root, tf->dir) == -1) {
		return rc_io(e, "Mailbox path too long");
	}
	if (mkdir(dir, 0700) == -1) {
		if (errno == EEXIST) {
			(void)err_set(e, "Target mailbox already exists");
			return FOLDER_ALREADYEXISTS;
		}
		return rc_io(e, "Cannot create the mailbox");
	}
	if (join(a, sizeof a, dir, "tmp") == -1 || mkdir(a, 0700) == -1 ||
	    join(a, sizeof a, dir, "maildirfolder") == -1 ||
	    (fd = open(a, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		return rc_io(e, "Cannot create the mailbox");
	}
	close(fd);
	if (join(a, sizeof a, root, "dovecot-keywords") == 0 &&
	    read_small(a, kw, sizeof kw, &kwlen) == 0 && kwlen > 0 &&
	    join(b, sizeof b, dir, "dovecot-keywords") == 0) {
		fd = open(b, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd == -1 || write_all(fd, kw, kwlen) == -1 ||
		    fsync(fd) == -1) {
			if (fd != -1) {
				close(fd);
			}
			return rc_io(e, "Cannot copy keywords");
		}
		close(fd);
	}
	if (fsync_dir(dir) == -1 || fsync_dir(root) == -1) {
		return rc_io(e, "Cannot sync the Maildir");
	}
	for (size_t i = 0; i < 2; i++) {
		if (join(a, sizeof a, root, sub[i]) == -1 ||
		    join(b, sizeof b, dir, sub[i]) == -1 ||
		    rename(a, b) == -1 || mkdir(a, 0700) == -1) {
			return rc_io(e, "Cannot move INBOX's messages");
		}
	}
	if (fsync_dir(dir) == -1 || fsync_dir(root) == -1) {
		return rc_io(e, "Cannot sync the Maildir");
	}
	return FOLDER_OK;
}

/*
 * One walk from the top of the trash down to a directory holding no
 * directory, unlinking files on the way, at most budget - *done
 * removals. Each directory opened or removed, each file unlinked
 * counts one, so a walk always spends at least one. 1: go on; 0: the
 * trash is gone; < 0: an error.
 */
static int
reap_walk(const char *top, unsigned *done, unsigned budget,
    struct err *e)
{
	char path[FOLDER_PATH_MAX];
	size_t plen;
	unsigned depth = 0, removed = 0;

	if (join(path, sizeof path, top, "") == -1) {
		return rc_io(e, "Maildir path too long");
	}
	plen = strlen(path);
	for (;;) {
		char sub[256];
		struct dirent *de;
		int has_sub = 0;
		DIR *d = opendir(path);

		if (d == NULL) {
			if (errno == ENOENT && depth == 0) {
				return 0;
			}
			return rc_io(e, "Cannot read deleted mailboxes");
		}
		++*done;
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0) {
				continue;
			}
			if (is_real_dir_at(dirfd(d), de)) {
				(void)fmt(sub, sizeof sub, "%s", de->d_name);
				has_sub = 1;
				break;
			}
			if (removed > 0 && *done >= budget) {
				closedir(d);
				return 1;
			}
			if (unlinkat(dirfd(d), de->d_name, 0) == -1 &&
			    errno != ENOENT) {
				closedir(d);
				return rc_io(e, "Cannot remove a deleted "
				    "mailbox");
			}
			++*done;
			removed++;
		}
		closedir(d);
		if (!has_sub) {
			if (rmdir(path) == -1 && errno != ENOENT) {
				if (errno == ENOTEMPTY || errno == EEXIST) {
					return 1;	/* filled meanwhile */
				}
				return rc_io(e, "Cannot remove a deleted "
				    "mailbox");
			}
			++*done;
			return depth == 0 ? 0 : 1;
		}
		if (plen + 1 + strlen(sub) >= sizeof path) {
			errno = ENAMETOOLONG;
			return rc_io(e, "Cannot remove a deleted mailbox");
		}
		if (depth + 1 > FOLDER_REAP_DEPTH) {
			char up[FOLDER_PATH_MAX];

			/* Too deep: move it up to the top, to be walked
			 * from there. */
			path[plen] = '/';
			memcpy(path + plen + 1, sub, strlen(sub) + 1);
			if (fmt(up, sizeof up, "%s/r%u.%u", top,
			    ++trash_seq, (unsigned)time(NULL)) >=
			    (int)sizeof up || rename(path, up) == -1) {
				return rc_io(e, "Cannot remove a deleted "
				    "mailbox");
			}
			++*done;
			return 1;
		}
		path[plen] = '/';
		memcpy(path + plen + 1, sub, strlen(sub) + 1);
		plen += 1 + strlen(sub);
		depth++;
	}
}
