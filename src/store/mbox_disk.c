/* SPDX-License-Identifier: ISC */
/*
 * mbox_disk.c - a Maildir folder on disk, for the index in mbox.c:
 * reading and appending dovecot-uidlist, scanning new/ and cur/,
 * renaming for flags, unlinking for EXPUNGE, dovecot-keywords, and
 * inotify on new/ and cur/ so changes by other processes are seen
 * without polling.
 *
 * Dovecot's rules, kept so both can serve one Maildir:
 *  - dovecot-uidlist.lock is created O_EXCL around any change of the
 *    uidlist; one older than 2 minutes is stale (Dovecot's
 *    MAILDIR_UIDLIST_LOCK_STALE_TIMEOUT). New UIDs are appended as
 *    "<uid> :<base>" lines; the header's N is not rewritten, so the
 *    next UID is the larger of N and the last record + 1.
 *  - A new uidlist is written to the lock file and renamed over.
 *  - Files seen for the first time get UIDs in name order (names
 *    start with the delivery time), as Dovecot assigns them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* rename */
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "store/maildir.h"
#include "store/mbox_int.h"

#define UL_NAME		"dovecot-uidlist"
#define UL_LOCK		"dovecot-uidlist.lock"
#define KW_NAME		"dovecot-keywords"
#define LOCK_STALE_S	120	/* Dovecot's stale uidlist lock */
#define LOCK_TRIES	20	/* 5 ms apart: 100 ms at most */
#define READ_CHUNK	65536
#define NEW_BATCH_MAX	(1u << 20)	/* scratch for unknown files */
#define INOTIFY_BUF	16384
#define TOUCHED_MAX	32	/* folders changed in one batch */

/* Files without a UID yet, gathered by a scan or by inotify. The
 * directory travels in the offset's top bit, so that sorting offs
 * (assign_uids) keeps each name with its directory. */
struct pending {
	char		*names;		/* NUL-separated names */
	size_t		 used, cap;
	uint32_t	*offs;		/* offset in names | PD_INNEW */
	uint32_t	 n, ncap;
};

#define PD_INNEW	0x80000000u	/* names stay below 2^28 bytes */
#define PD_NAME(pd, i)	((pd)->names + ((pd)->offs[i] & ~PD_INNEW))

static struct {
	struct ev	*ev;
	int		 fd;
} ino = { NULL, -1 };

static char	 chunk[READ_CHUNK];

static int	dir_path(char *, size_t, const struct mbox *, const char *);
static int	uidlist_read(struct mbox *, int full);
static int	scan_dir(struct mbox *, int innew, struct pending *);
static int	apply_name(struct mbox *, int innew, const char *, size_t,
		    struct pending *);
static int	canonical(const struct mbox *, int, const char *, size_t,
		    const struct maildir_name *, char *, size_t);
static int	pending_add(struct pending *, const char *, size_t, int);
static void	pending_free(struct pending *);
static void	pending_drop(struct pending *, int, const char *, size_t);
static int	assign_uids(struct mbox *, struct pending *);
static int	own_save(const char *);
static int	lock_uidlist(const struct mbox *);
static void	unlock_uidlist(const struct mbox *);
static uint32_t	vsize_of(const struct mbox *, const struct maildir_name *,
		    const char *name, int innew);
static void	inotify_ready(struct ev *, int, unsigned, void *);
static void	resolve_missing(struct mbox *);
static void	removed(struct mbox *, int, const char *, size_t);

int
mbox_disk_open(struct mbox *mb, struct err *e)
{
	char p[MBOX_PATH_MAX];
	struct stat st;

	for (int i = 0; i < 2; i++) {
		if (dir_path(p, sizeof p, mb, i ? "cur" : "new") == -1 ||
		    stat(p, &st) == -1 || !S_ISDIR(st.st_mode)) {
			errno = ENOENT;
			return err_set(e, "%s: not a Maildir folder", mb->path);
		}
	}
	if (ino.fd != -1) {
		(void)dir_path(p, sizeof p, mb, "new");
		mb->wd_new = inotify_add_watch(ino.fd, p, IN_CREATE |
		    IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR);
		(void)dir_path(p, sizeof p, mb, "cur");
		mb->wd_cur = inotify_add_watch(ino.fd, p, IN_CREATE |
		    IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR);
	}
	if (stat(mb->path, &st) == -1) {
		return err_set(e, "%s: %s", mb->path, strerror(errno));
	}
	mb->dir_dev = st.st_dev;
	mb->dir_ino = st.st_ino;
	mbox_disk_keywords_load(mb);
	if (mbox_disk_scan(mb) == -1) {
		return err_set(e, "%s: %s", mb->path, strerror(errno));
	}
	return 0;
}

void
mbox_disk_close(struct mbox *mb)
{
	if (ino.fd != -1) {
		if (mb->wd_new >= 0) {
			(void)inotify_rm_watch(ino.fd, mb->wd_new);
		}
		if (mb->wd_cur >= 0 && mb->wd_cur != mb->wd_new) {
			(void)inotify_rm_watch(ino.fd, mb->wd_cur);
		}
	}
	mb->wd_new = mb->wd_cur = -1;
	if (mb->ul_fresh) {
		mb->ul_fresh = 0;
		(void)store_fsync_dir(mb->path);
	}
	if (mb->ul_fd != -1) {
		close(mb->ul_fd);
		mb->ul_fd = -1;
	}
}

int
mbox_disk_shrink_due(const struct mbox *mb)
{
	uint32_t live = mb->n - mb->ngone;

	return mb->ul_fd != -1 && mb->ul_dead >= 16 && mb->ul_dead * 4 >=
	    mb->ul_dead + live;
}

/*
 * An idle folder used again: 1 when dovecot-uidlist is as this process
 * left it. Another process may have appended to it or written it anew
 * (new UIDVALIDITY) meanwhile: the folder is then opened afresh, as it
 * would have been without the idle copy.
 */
int
mbox_disk_unchanged(const struct mbox *mb)
{
	char p[MBOX_PATH_MAX];
	struct stat st;

	return mb->ul_fd != -1 && dir_path(p, sizeof p, mb, UL_NAME) == 0 &&
	    stat(p, &st) == 0 && st.st_ino == mb->ul_ino &&
	    st.st_dev == mb->ul_dev && st.st_size == mb->ul_size;
}

/*
 * When the last session leaves a folder whose dovecot-uidlist is more
 * than a quarter lines of expunged messages, it is written anew
 * (Dovecot's rule too): to the lock file, fsync'd, renamed over. Done
 * at close, so no record's offset needs to follow.
 */
void
mbox_disk_shrink(struct mbox *mb)
{
	char p[MBOX_PATH_MAX], lockp[MBOX_PATH_MAX], base[MBOX_NAME_MAX + 1];
	size_t len, blen;
	int fd, rc = 0;

	if (!mbox_disk_shrink_due(mb) || lock_uidlist(mb) == -1) {
		return;
	}
	/* What Dovecot appended since our last read stays in. */
	if (uidlist_read(mb, 0) == -1) {
		unlock_uidlist(mb);
		return;
	}
	(void)dir_path(p, sizeof p, mb, UL_NAME);
	(void)dir_path(lockp, sizeof lockp, mb, UL_LOCK);
	fd = open(lockp, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd == -1) {
		unlock_uidlist(mb);
		return;
	}
	if (mb->n > 0 && mb->msgs[mb->n - 1].uid >= mb->hdr.next_uid) {
		mb->hdr.next_uid = mb->msgs[mb->n - 1].uid + 1;
	}
	len = uidlist_format_header(chunk, sizeof chunk, &mb->hdr);
	for (uint32_t i = 0; i < mb->n && rc == 0; i++) {
		if (mb->state[i] & MB_GONE) {
			continue;
		}
		if (mbox_disk_base(mb, &mb->msgs[i], base, sizeof base,
		    &blen) == -1) {
			rc = -1;	/* the file changed under us */
			break;
		}
		if (len + UIDLIST_LINE_MAX > sizeof chunk) {
			rc = store_write_all(fd, chunk, len);
			len = 0;
		}
		len += uidlist_format_record(chunk + len, sizeof chunk - len,
		    mb->msgs[i].uid, base, blen);
	}
	if (rc == 0 && (store_write_all(fd, chunk, len) == -1 ||
	    fsync(fd) == -1)) {
		rc = -1;
	}
	close(fd);
	if (rc == 0 && rename(lockp, p) == 0) {
		mb->ul_fresh = 0;
		(void)store_fsync_dir(mb->path);
		return;		/* the lock file became the uidlist */
	}
	unlock_uidlist(mb);
}

/*
 * Everything from the disk: the uidlist, then both directories. A
 * record whose file is not found is expunged (or, never seen by any
 * view, dropped); a file without a record gets a UID.
 */
int
mbox_disk_scan(struct mbox *mb)
{
	struct pending pd = { 0 };
	uint32_t old_n = mb->n;
	int rc = 0;

	for (uint32_t i = 0; i < mb->n; i++) {
		if (!(mb->state[i] & MB_GONE)) {
			mb->state[i] |= MB_MISSING;
		}
	}
	if (uidlist_read(mb, 1) == -1 && errno != ENOENT) {
		rc = -1;
	}
	/* new/ first: a file moving new/ -> cur/ during the scan is
	 * then seen at least once (Dovecot scans in this order too). */
	if (scan_dir(mb, 1, &pd) == -1 || scan_dir(mb, 0, &pd) == -1) {
		rc = -1;
	}
	if (rc == -1) {
		/* A half-read directory must not expunge anything. */
		for (uint32_t i = 0; i < mb->n; i++) {
			mb->state[i] &= (uint8_t)~MB_MISSING;
		}
		pending_free(&pd);
		return -1;
	}
	for (uint32_t i = 0; i < mb->n; i++) {
		if (!(mb->state[i] & MB_MISSING)) {
			continue;
		}
		mb->state[i] &= (uint8_t)~MB_MISSING;
		if (i < old_n) {
			mbox_gone(mb, i);
		} else {
			/* A uidlist line with no file: never shown. */
			mb->state[i] |= MB_GONE;
			mb->msgs[i].mod = 0;
			mb->ngone++;
			mb->ul_dead++;
		}
	}
	/* No dovecot-uidlist: written even for an empty folder, as
	 * Dovecot does, so that UIDVALIDITY is set (RFC 3501 2.3.1.1). */
	if ((pd.n > 0 || mb->ul_fd == -1) && assign_uids(mb, &pd) == -1) {
		rc = -1;
	}
	pending_free(&pd);
	mb->rescan = 0;
	return rc;
}

/* The scratch buffer for wren-modseq (mbox_modseq.c), which never runs
 * inside a uidlist read or write. */
char *
mbox_disk_scratch(size_t *cap)
{
	*cap = sizeof chunk;
	return chunk;
}

/* Reads what inotify has for every folder, then this one's changes are
 * in its index. */
void
mbox_disk_events(struct mbox *mb)
{
	if (ino.fd != -1) {
		inotify_ready(ino.ev, ino.fd, EV_READ, NULL);
	}
	if (mb->rescan || ino.fd == -1) {
		(void)mbox_disk_scan(mb);
	}
}

/* The base name of a record, read back from its uidlist line. */
int
mbox_disk_base(const struct mbox *mb, const struct mbox_msg *m, char *out,
    size_t cap, size_t *len)
{
	char line[UIDLIST_LINE_MAX + 1];
	const char *base, *nl;
	uint32_t uid;
	size_t blen;
	ssize_t n;

	if (mb->ul_fd == -1) {
		errno = ENOENT;
		return -1;
	}
	n = pread(mb->ul_fd, line, sizeof line - 1, (off_t)m->off);
	if (n <= 0) {
		errno = EIO;
		return -1;
	}
	nl = memchr(line, '\n', (size_t)n);
	if (nl == NULL || uidlist_parse_record(line, (size_t)(nl - line),
	    mb->hdr.version, &uid, &base, &blen) == -1 || uid != m->uid ||
	    blen >= cap) {
		errno = EIO;
		return -1;
	}
	memcpy(out, base, blen);
	out[blen] = '\0';
	*len = blen;
	return 0;
}

/* The path of a record's file in its current state. */
int
mbox_disk_file(const struct mbox *mb, const struct mbox_msg *m,
    uint8_t state, char *out, size_t cap)
{
	char base[MBOX_NAME_MAX + 1], name[MBOX_NAME_MAX + 1];
	size_t blen;

	if (mbox_disk_base(mb, m, base, sizeof base, &blen) == -1) {
		return -1;
	}
	if (state & MB_NOINFO) {
		memcpy(name, base, blen + 1);
	} else if (maildir_name_format(name, sizeof name, base, blen,
	    m->flags, m->keywords) >= sizeof name) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (fmt(out, cap, "%s/%s/%s", mb->path, state & MB_INNEW ? "new" :
	    "cur", name) >= (int)cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Renames a message's file to carry new flags, in cur/. */
int
mbox_disk_rename(struct mbox *mb, uint32_t idx, unsigned flags,
    uint32_t keywords, uint8_t state)
{
	struct mbox_msg *m = &mb->msgs[idx], next = *m;
	char from[MBOX_PATH_MAX], to[MBOX_PATH_MAX];

	next.flags = flags;
	next.keywords = keywords;
	if (mbox_disk_file(mb, m, mb->state[idx], from, sizeof from) == -1 ||
	    mbox_disk_file(mb, &next, state, to, sizeof to) == -1) {
		return -1;
	}
	if (strcmp(from, to) != 0 && rename(from, to) == -1) {
		if (errno == ENOENT) {
			mb->rescan = 1;	/* moved by someone else */
		}
		return -1;
	}
	m->flags = flags;
	m->keywords = keywords;
	mb->state[idx] = (uint8_t)((mb->state[idx] & MB_GONE) | state);
	return 0;
}

int
mbox_disk_unlink(struct mbox *mb, uint32_t idx)
{
	char p[MBOX_PATH_MAX];

	if (mbox_disk_file(mb, &mb->msgs[idx], mb->state[idx], p,
	    sizeof p) == -1) {
		return -1;
	}
	return unlink(p);
}

void
mbox_disk_keywords_load(struct mbox *mb)
{
	char p[MBOX_PATH_MAX];
	const char *line, *end, *name;
	unsigned i;
	size_t nlen;
	ssize_t n;
	int fd;

	memset(mb->kw, 0, sizeof mb->kw);
	if (dir_path(p, sizeof p, mb, KW_NAME) == -1 ||
	    (fd = open(p, O_RDONLY | O_CLOEXEC)) == -1) {
		return;
	}
	n = read(fd, chunk, sizeof chunk - 1);
	close(fd);
	for (line = chunk, end = chunk + (n > 0 ? n : 0); line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len = (size_t)((nl ? nl : end) - line);

		if (keywords_parse_line(line, len, &i, &name, &nlen) == 0 &&
		    nlen <= MBOX_KW_LEN_MAX) {
			memcpy(mb->kw[i], name, nlen);
			mb->kw[i][nlen] = '\0';
		}
		line += len + 1;
	}
}

/* dovecot-keywords is small: written whole, then renamed over. */
int
mbox_disk_keywords_save(struct mbox *mb)
{
	char p[MBOX_PATH_MAX], tmp[MBOX_PATH_MAX];
	size_t len = 0;
	int fd, rc = 0;

	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		if (mb->kw[i][0] != '\0') {
			len += keywords_format_line(chunk + len,
			    sizeof chunk - len, i, mb->kw[i],
			    strlen(mb->kw[i]));
		}
	}
	if (dir_path(p, sizeof p, mb, KW_NAME) == -1 ||
	    fmt(tmp, sizeof tmp, "%s.wren.tmp", p) >= (int)sizeof tmp) {
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		return -1;
	}
	if (store_write_all(fd, chunk, len) == -1 || fsync(fd) == -1) {
		rc = -1;
	}
	close(fd);
	if (rc == 0 && rename(tmp, p) == -1) {
		rc = -1;
	}
	if (rc == -1) {
		(void)unlink(tmp);
	}
	return rc;
}

/*
 * A save takes dovecot-uidlist.lock before its files are renamed into
 * place and keeps it until they are numbered (mbox_disk_record), as
 * Dovecot does: nobody else can give them UIDs in another order in
 * between. Saves of this process share it (a count).
 */
int
mbox_disk_hold(struct mbox *mb)
{
	if (mb->ul_held == 0 && lock_uidlist(mb) == -1) {
		return -1;
	}
	mb->ul_held++;
	return 0;
}

void
mbox_disk_release(struct mbox *mb)
{
	if (mb->ul_held == 0 || --mb->ul_held > 0) {
		return;
	}
	unlock_uidlist(mb);
	if (mb->ul_later) {
		/* Files others brought while we held it. */
		mb->ul_later = 0;
		mb->rescan = 1;
		mbox_notify(mb);
	}
}

/*
 * The files of a save batch, in place, get the next UIDs in batch
 * order, in two steps. The lock is held (mbox_disk_hold) throughout.
 *
 * The lines of a batch, written but not synced (the caller syncs fd,
 * together with the directories its files were renamed into, and
 * closes it). Their UIDs are taken at once (the header's next UID
 * moves past them, so a second batch written before this one is
 * indexed follows it), and every read of the uidlist stops where they
 * start (ul_stop) until mbox_disk_record_index: the index, and so every
 * session, learns of them only once they are durable.
 */
int
mbox_disk_record_write(struct mbox *mb, size_t n, mbox_disk_name_fn *name,
    void *arg, uint32_t *first_uid, off_t *start, int *fdp)
{
	char p[MBOX_PATH_MAX], nm[MBOX_NAME_MAX + 1];
	struct maildir_name mn;
	size_t len = 0;
	off_t at;
	uint32_t first;
	int fd, innew, rc = 0;

	if (uidlist_read(mb, 0) == -1 || mb->ul_fd == -1 ||
	    dir_path(p, sizeof p, mb, UL_NAME) == -1) {
		if (errno == 0 || errno == ENOENT) {
			errno = EIO;
		}
		return -1;
	}
	fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd == -1) {
		return -1;
	}
	at = lseek(fd, 0, SEEK_END);
	first = mb->hdr.next_uid;
	if (mb->n > 0 && mb->msgs[mb->n - 1].uid >= first) {
		first = mb->msgs[mb->n - 1].uid + 1;
	}
	if (at == -1 || (uint64_t)first + n >= UINT32_MAX) {
		close(fd);
		errno = at == -1 ? errno : EOVERFLOW;
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (name(arg, i, nm, sizeof nm, &innew) == -1 ||
		    maildir_name_parse(nm, strlen(nm), &mn) == -1) {
			errno = EINVAL;
			rc = -1;
			break;
		}
		if (len + UIDLIST_LINE_MAX > sizeof chunk) {
			rc = store_write_all(fd, chunk, len);
			len = 0;
		}
		len += uidlist_format_record(chunk + len, sizeof chunk - len,
		    first + (uint32_t)i, mn.base, mn.baselen);
	}
	if (rc == 0 && store_write_all(fd, chunk, len) == -1) {
		rc = -1;
	}
	if (rc == 0 && mb->ul_fresh) {
		/* The uidlist was created empty: its name too, now that
		 * it gives UIDs (rare: a folder's first message). */
		if (store_fsync_dir(mb->path) == -1) {
			rc = -1;
		} else {
			mb->ul_fresh = 0;
		}
	}
	if (rc == -1) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	if (mb->ul_stop == 0) {
		mb->ul_stop = at;
	}
	mb->hdr.next_uid = first + (uint32_t)n;
	*first_uid = first;
	*start = at;
	*fdp = fd;
	return 0;
}

/*
 * The batch written at first_uid is durable: the index learns of it.
 * stop: where the next batch still waiting for its sync starts (0:
 * none). Batches of one folder are indexed in the order written.
 */
int
mbox_disk_record_index(struct mbox *mb, size_t n, mbox_disk_name_fn *name,
    void *arg, uint32_t first, off_t stop)
{
	char nm[MBOX_NAME_MAX + 1];
	struct maildir_name mn;
	int innew, rc = 0;

	mb->ul_stop = stop;
	for (size_t i = 0; i < n; i++) {
		uint32_t h;

		if (name(arg, i, nm, sizeof nm, &innew) == -1 ||
		    maildir_name_parse(nm, strlen(nm), &mn) == -1) {
			rc = -1;
			break;
		}
		h = mbox_hash(mn.base, mn.baselen);
		if (mbox_append(mb, first + (uint32_t)i, 0, h,
		    (uint32_t)(mn.has_vsize && mn.vsize <= UINT32_MAX ?
		    mn.vsize : 0), mn.flags, mn.keywords, (uint8_t)((innew ?
		    MB_INNEW : 0) | (mn.has_info ? 0 : MB_NOINFO))) == -1) {
			rc = -1;
			break;
		}
	}
	/* Offsets: every line is read back once, from where the read
	 * side stood (uidlist_read sets each record's, found by UID). */
	if (uidlist_read(mb, 0) == -1) {
		rc = -1;
	}
	if (rc == -1) {
		mb->rescan = 1;
	}
	mbox_notify(mb);
	return rc;
}

/* A batch written by mbox_disk_record_write failed: its lines name
 * removed files. stop as for mbox_disk_record_index. */
void
mbox_disk_record_drop(struct mbox *mb, off_t stop)
{
	mb->ul_stop = stop;
	mb->rescan = 1;		/* read as expunged, never shown */
	mbox_notify(mb);
}

int
mbox_disk_inotify_init(struct ev *ev, struct err *e)
{
	ino.ev = ev;
	ino.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino.fd == -1) {
		/* No inotify: changes by others are seen at each command
		 * (a scan), IDLE by the NOOP-like refresh timer. */
		log_warn("inotify: %s; scanning folders instead",
		    strerror(errno));
		return 0;
	}
	if (ev_add_fd(ev, ino.fd, EV_READ, inotify_ready, NULL) == -1) {
		close(ino.fd);
		ino.fd = -1;
		return err_set(e, "inotify: cannot watch");
	}
	return 0;
}

void
mbox_disk_inotify_close(void)
{
	if (ino.fd != -1) {
		ev_del_fd(ino.ev, ino.fd);
		close(ino.fd);
		ino.fd = -1;
	}
}

/* --- helpers -------------------------------------------------------- */

static int
dir_path(char *out, size_t cap, const struct mbox *mb, const char *sub)
{
	return fmt(out, cap, "%s/%s", mb->path, sub) >= (int)cap ? -1 : 0;
}

/*
 * Reads dovecot-uidlist: all of it (full, or when Dovecot replaced the
 * file) or what was appended since the last read. Records become
 * index entries marked MB_MISSING until a scan finds their file; with
 * pd, lines naming a pending file give it its UID instead.
 */
static int
uidlist_read(struct mbox *mb, int full)
{
	char p[MBOX_PATH_MAX];
	struct stat st;
	off_t pos, line_start;
	size_t have = 0;
	int fd = mb->ul_fd, skip = 0, header = 0;

	if (dir_path(p, sizeof p, mb, UL_NAME) == -1) {
		return -1;
	}
	if (stat(p, &st) == -1) {
		return -1;
	}
	if (fd == -1 || st.st_ino != mb->ul_ino || st.st_dev != mb->ul_dev ||
	    st.st_size < mb->ul_size) {
		int nfd = open(p, O_RDONLY | O_CLOEXEC);

		if (nfd == -1) {
			return -1;
		}
		if (fd != -1) {
			close(fd);
		}
		mb->ul_fd = fd = nfd;
		if (fstat(fd, &st) == -1) {
			return -1;
		}
		mb->ul_dev = st.st_dev;
		mb->ul_ino = st.st_ino;
		mb->ul_size = 0;
		mb->ul_dead = 0;
		full = 1;
	}
	pos = full ? 0 : mb->ul_size;
	line_start = pos;
	for (;;) {
		size_t want = sizeof chunk - have;
		ssize_t n;
		size_t used = 0;

		/* Lines written but not yet durable are not read yet
		 * (mbox_disk_record_write). */
		if (mb->ul_stop > 0 && (off_t)want > mb->ul_stop - pos) {
			want = mb->ul_stop > pos ? (size_t)(mb->ul_stop -
			    pos) : 0;
		}
		n = want > 0 ? pread(fd, chunk + have, want, pos) : 0;

		if (n < 0) {
			return -1;
		}
		if (n == 0) {
			break;
		}
		pos += n;
		have += (size_t)n;
		for (;;) {
			char *nl = memchr(chunk + used, '\n', have - used);
			size_t len;
			const char *base;
			size_t blen;
			uint32_t uid, idx;

			if (nl == NULL) {
				break;
			}
			len = (size_t)(nl - (chunk + used));
			if (skip) {
				/* the tail of an overlong line */
				skip = 0;
			} else if (line_start == 0) {
				if (uidlist_parse_header(chunk + used, len,
				    &mb->hdr) == -1) {
					/* Dovecot starts over too: new UIDs,
					 * a new UIDVALIDITY. */
					log_warnx("%s/%s: bad header, "
					    "rebuilding",
					    mb->path, UL_NAME);
					close(fd);
					mb->ul_fd = -1;
					errno = ENOENT;
					return -1;
				}
				header = 1;
			} else if (uidlist_parse_record(chunk + used, len,
			    mb->hdr.version, &uid, &base, &blen) == 0) {
				uint32_t h = mbox_hash(base, blen);

				if (uid >= mb->hdr.next_uid) {
					mb->hdr.next_uid = uid + 1;
				}
				idx = mbox_find_uid(mb, uid);
				if (idx != UINT32_MAX) {
					mb->msgs[idx].off = (uint32_t)line_start;
				} else if (mb->n == 0 || uid > mb->msgs[mb->n -
				    1].uid) {
					const char *w;
					size_t wl;
					uint32_t vs = 0;

					if (uidlist_record_ext(chunk + used, len,
					    'W', &w, &wl) == 1) {
						/* Digits only, within 32 bits;
						 * else 0: the size is then
						 * counted from the file. */
						uint64_t v = 0;

						for (size_t k = 0; k < wl &&
						    v <= UINT32_MAX; k++) {
							v = w[k] >= '0' &&
							    w[k] <= '9' ?
							    v * 10 + (uint64_t)
							    (w[k] - '0') :
							    (uint64_t)UINT32_MAX + 1;
						}
						vs = v <= UINT32_MAX ?
						    (uint32_t)v : 0;
					}
					if (mbox_append(mb, uid,
					    (uint32_t)line_start, h, vs, 0, 0,
					    MB_MISSING) == -1) {
						return -1;
					}
				}
			}
			used += len + 1;
			line_start += (off_t)len + 1;
		}
		if (used == 0 && have == sizeof chunk) {
			/* An overlong line: skip to its end, counting the
			 * bytes so later offsets stay right. */
			line_start += (off_t)have;
			have = 0;
			skip = 1;
			continue;
		}
		memmove(chunk, chunk + used, have - used);
		have -= used;
	}
	if (full && !header) {
		/* Empty or no complete first line (a crash, a full disk):
		 * records appended now would be read as the header. */
		log_warnx("%s/%s: no header, rebuilding", mb->path, UL_NAME);
		close(fd);
		mb->ul_fd = -1;
		errno = ENOENT;
		return -1;
	}
	mb->ul_size = line_start;
	return 0;
}

static int
scan_dir(struct mbox *mb, int innew, struct pending *pd)
{
	char p[MBOX_PATH_MAX];
	struct dirent *d;
	DIR *dir;

	if (dir_path(p, sizeof p, mb, innew ? "new" : "cur") == -1 ||
	    (dir = opendir(p)) == NULL) {
		return -1;
	}
	errno = 0;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.') {
			continue;
		}
		if (apply_name(mb, innew, d->d_name, strlen(d->d_name),
		    pd) == -1) {
			closedir(dir);
			return -1;
		}
		errno = 0;
	}
	closedir(dir);
	return errno == 0 ? 0 : -1;
}

/* A file exists under this name: its record follows it, or it waits
 * for a UID. */
static int
apply_name(struct mbox *mb, int innew, const char *name, size_t len,
    struct pending *pd)
{
	char canon[MBOX_NAME_MAX + 1];
	struct maildir_name mn;
	uint32_t idx;
	uint8_t st;

	if (maildir_name_parse(name, len, &mn) == -1) {
		return 0;
	}
	if (canonical(mb, innew, name, len, &mn, canon, sizeof canon) == 1) {
		name = canon;
		len = strlen(canon);
		(void)maildir_name_parse(name, len, &mn);
	}
	if (!mbox_find(mb, mn.base, mn.baselen, mbox_hash(mn.base,
	    mn.baselen), &idx)) {
		return pending_add(pd, name, len, innew);
	}
	st = (uint8_t)((innew ? MB_INNEW : 0) | (mn.has_info ? 0 : MB_NOINFO));
	if (mb->msgs[idx].flags != mn.flags ||
	    mb->msgs[idx].keywords != mn.keywords) {
		mb->msgs[idx].flags = mn.flags;
		mb->msgs[idx].keywords = mn.keywords;
		mb->msgs[idx].mod = mbox_ms_next(mb);
	}
	if (mb->msgs[idx].vsize == 0) {
		mb->msgs[idx].vsize = vsize_of(mb, &mn, name, innew);
	}
	mb->state[idx] = st;
	return 0;
}

/*
 * The index rebuilds a file's name from its base and flags
 * (mbox_disk_file). A name spelt otherwise (letters out of order or
 * repeated, bytes Dovecot ignores, an info other than "2,") is renamed
 * to that spelling, as the next STORE would do. 1 when renamed (out is
 * the new name); 0 when it was canonical, or could not be renamed.
 */
static int
canonical(const struct mbox *mb, int innew, const char *name, size_t len,
    const struct maildir_name *mn, char *out, size_t cap)
{
	char from[MBOX_PATH_MAX], to[MBOX_PATH_MAX];
	const char *sub = innew ? "new" : "cur";
	size_t n = mn->baselen;

	if (mn->has_info) {
		n = maildir_name_format(out, cap, mn->base, mn->baselen,
		    mn->flags, mn->keywords);
	} else if (n < cap) {
		memcpy(out, mn->base, n);
		out[n] = '\0';
	}
	if (n >= cap || (n == len && memcmp(out, name, len) == 0)) {
		return 0;
	}
	if (fmt(from, sizeof from, "%s/%s/%s", mb->path, sub, name) >=
	    (int)sizeof from || fmt(to, sizeof to, "%s/%s/%s", mb->path, sub,
	    out) >= (int)sizeof to || access(to, F_OK) == 0 ||
	    rename(from, to) == -1) {
		return 0;
	}
	return 1;
}

static int
pending_add(struct pending *pd, const char *name, size_t len, int innew)
{
	if (pd == NULL) {
		return 0;
	}
	if (pd->used + len + 1 > pd->cap || pd->n == pd->ncap) {
		size_t cap = pd->cap ? pd->cap * 2 : 65536;
		uint32_t ncap = pd->ncap ? pd->ncap * 2 : 1024;
		char *names;
		uint32_t *offs;

		if (cap > NEW_BATCH_MAX * (MBOX_NAME_MAX + 1)) {
			errno = EFBIG;
			return -1;
		}
		names = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		offs = mmap(NULL, (size_t)ncap * 4, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (names == MAP_FAILED || offs == MAP_FAILED) {
			return -1;
		}
		if (pd->names != NULL) {
			memcpy(names, pd->names, pd->used);
			memcpy(offs, pd->offs, (size_t)pd->n * 4);
			munmap(pd->names, pd->cap);
			munmap(pd->offs, (size_t)pd->ncap * 4);
		}
		pd->names = names;
		pd->offs = offs;
		pd->cap = cap;
		pd->ncap = ncap;
	}
	memcpy(pd->names + pd->used, name, len);
	pd->names[pd->used + len] = '\0';
	pd->offs[pd->n] = (uint32_t)pd->used | (innew ? PD_INNEW : 0);
	pd->n++;
	pd->used += len + 1;
	return 0;
}

static void
pending_free(struct pending *pd)
{
	if (pd->names != NULL) {
		munmap(pd->names, pd->cap);
		munmap(pd->offs, (size_t)pd->ncap * 4);
	}
	memset(pd, 0, sizeof *pd);
}

/* A name seen arriving earlier in this batch left again (our own
 * STORE then EXPUNGE, a move new/ -> cur/, a rename by another
 * process): it must not get a UID. "" parses as no name. */
static void
pending_drop(struct pending *pd, int innew, const char *name, size_t len)
{
	for (uint32_t i = 0; i < pd->n; i++) {
		char *s = PD_NAME(pd, i);

		if (!(pd->offs[i] & PD_INNEW) == !innew &&
		    strncmp(s, name, len) == 0 && s[len] == '\0') {
			s[0] = '\0';
		}
	}
}

static const char *sort_names;

static int
cmp_pending(const void *a, const void *b)
{
	return strcmp(sort_names + (*(const uint32_t *)a & ~PD_INNEW),
	    sort_names + (*(const uint32_t *)b & ~PD_INNEW));
}

/*
 * New files get the next UIDs, in name order, under Dovecot's lock:
 * lines appended to dovecot-uidlist (created when missing) and
 * fdatasync'd, since a UID given to a client must never name another
 * message after a power cut.
 */
static int
assign_uids(struct mbox *mb, struct pending *pd)
{
	char p[MBOX_PATH_MAX], lockp[MBOX_PATH_MAX];
	struct uidlist_header h;
	size_t len = 0;
	off_t at;
	int fd, create, rc = 0;
	uint32_t first, first0;

	if (mb->ul_held > 0) {
		/* A save of ours holds the lock until its files have
		 * their UIDs: others' files are numbered after
		 * (mbox_disk_release); the save's own files are numbered by
		 * mbox_disk_record, and need no rescan (a COPY of 1,000
		 * links would otherwise cost a scan of the folder per
		 * batch). */
		for (uint32_t i = 0; i < pd->n; i++) {
			const char *name = PD_NAME(pd, i);

			if (name[0] != '\0' && !own_save(name)) {
				mb->ul_later = 1;
				break;
			}
		}
		return 0;
	}
	if (lock_uidlist(mb) == -1) {
		mb->rescan = 1;		/* try again at the next look */
		return -1;
	}
	/* What Dovecot may have added meanwhile. */
	(void)uidlist_read(mb, 0);
	(void)dir_path(p, sizeof p, mb, UL_NAME);
	(void)dir_path(lockp, sizeof lockp, mb, UL_LOCK);
	create = mb->ul_fd == -1;
	if (create) {
		uint8_t r[16];

		memset(&h, 0, sizeof h);
		h.version = 3;
		h.uidvalidity = (uint32_t)time(NULL);
		h.next_uid = 1;
		if (getrandom(r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r) {
			for (int i = 0; i < 16; i++) {
				h.guid[2 * i] = "0123456789abcdef"[r[i] >> 4];
				h.guid[2 * i + 1] = "0123456789abcdef"[r[i] &
				    15];
			}
		}
		mb->hdr = h;
		fd = open(lockp, O_WRONLY | O_TRUNC | O_CLOEXEC);
		at = 0;
	} else {
		fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
		at = lseek(fd, 0, SEEK_END);
	}
	if (fd == -1 || at == -1) {
		if (fd != -1) {
			close(fd);
		}
		unlock_uidlist(mb);
		return -1;
	}
	sort_names = pd->names;
	if (pd->n > 1) {
		qsort(pd->offs, pd->n, sizeof *pd->offs, cmp_pending);
	}
	first = mb->hdr.next_uid;
	if (mb->n > 0 && mb->msgs[mb->n - 1].uid >= first) {
		first = mb->msgs[mb->n - 1].uid + 1;
	}
	first0 = first;
	if (create) {
		/* N past every UID given below, as Dovecot writes it. */
		mb->hdr.next_uid = first + pd->n;
		len = uidlist_format_header(chunk, sizeof chunk, &mb->hdr);
	}
	for (uint32_t i = 0; i < pd->n && rc == 0; i++) {
		const char *name = PD_NAME(pd, i);
		char fp[MBOX_PATH_MAX];
		struct maildir_name mn;
		struct stat st;
		size_t need;
		uint32_t idx;

		if (maildir_name_parse(name, strlen(name), &mn) == -1 ||
		    mbox_find(mb, mn.base, mn.baselen, mbox_hash(mn.base,
		    mn.baselen), &idx)) {
			continue;	/* Dovecot gave it a UID meanwhile */
		}
		/* inotify may name a file gone since: no UID for it. */
		if (fmt(fp, sizeof fp, "%s/%s/%s", mb->path, pd->offs[i] &
		    PD_INNEW ? "new" : "cur", name) >= (int)sizeof fp ||
		    stat(fp, &st) == -1) {
			continue;
		}
		if (len + UIDLIST_LINE_MAX > sizeof chunk) {
			if (store_write_all(fd, chunk, len) == -1) {
				rc = -1;
				break;
			}
			at += (off_t)len;
			len = 0;
		}
		need = uidlist_format_record(chunk + len, sizeof chunk - len,
		    first, mn.base, mn.baselen);
		if (mbox_append(mb, first, (uint32_t)(at + (off_t)len),
		    mbox_hash(mn.base, mn.baselen), 0, mn.flags,
		    mn.keywords & ((1u << MAILDIR_KEYWORDS_MAX) - 1),
		    0) == -1) {
			rc = -1;
			break;
		}
		/* innew is recorded below, once the record exists */
		len += need;
		first++;
	}
	if (rc == 0 && len > 0 && store_write_all(fd, chunk, len) == -1) {
		rc = -1;
	}
	/*
	 * An empty folder's new uidlist (a folder just created, about to
	 * receive a COPY) is not synced: lost in a crash before any UID
	 * was written into it, it is written again with another
	 * UIDVALIDITY, under which no client holds a UID. Its first UIDs
	 * sync it, name included (ul_fresh; mbox_disk_record_write), as does
	 * closing the folder: one sync fewer for the first COPY.
	 */
	if (rc == 0 && (!create || first != first0) && fdatasync(fd) == -1) {
		rc = -1;
	}
	close(fd);
	if (rc == 0) {
		mb->hdr.next_uid = first;
		if (create && rename(lockp, p) == -1) {
			rc = -1;
		}
	}
	unlock_uidlist(mb);
	if (create && rc == 0 && first == first0) {
		mb->ul_fresh = 1;
	} else if (rc == 0 && (create || (mb->ul_fresh && first != first0))) {
		mb->ul_fresh = 0;
		(void)store_fsync_dir(mb->path);
	}
	if (rc == 0) {
		/* Open the read side and learn where the lines went. */
		mb->ul_size = 0;
		if (mb->ul_fd != -1 && !create) {
			struct stat st;

			if (fstat(mb->ul_fd, &st) == 0) {
				mb->ul_size = st.st_size;
			}
		} else {
			(void)uidlist_read(mb, 1);
		}
		/* Directory state and sizes of the new records. */
		for (uint32_t i = 0; i < pd->n; i++) {
			const char *name = PD_NAME(pd, i);
			struct maildir_name mn;
			uint32_t idx;

			if (maildir_name_parse(name, strlen(name), &mn) == 0 &&
			    mbox_find(mb, mn.base, mn.baselen,
			    mbox_hash(mn.base, mn.baselen), &idx)) {
				int innew = (pd->offs[i] & PD_INNEW) != 0;

				mb->state[idx] = (uint8_t)((innew ?
				    MB_INNEW : 0) | (mn.has_info ? 0 :
				    MB_NOINFO));
				/* Dovecot may have numbered it: its record
				 * has no flags yet. */
				mb->msgs[idx].flags = mn.flags;
				mb->msgs[idx].keywords = mn.keywords;
				mb->msgs[idx].vsize = vsize_of(mb, &mn, name,
				    innew);
			}
		}
	}
	return rc;
}

/*
 * 1 when name is a file of one of this process's saves: mbox_save.c
 * names them "<sec>.M<usec>P<pid>Q<n>_<i>.<host>" (maildir_unique plus
 * "_<i>"; nothing else writes that "_"). Asked only while a save holds
 * the uidlist lock, when such a file not yet in the index is one of
 * that save's, numbered by it (or removed if the save fails). One left
 * by a crashed process of the same pid is numbered by the next scan
 * that holds no save.
 */
static int
own_save(const char *name)
{
	static char tag[24];
	static size_t tlen;
	const char *p;

	if (tlen == 0) {
		tlen = (size_t)fmt(tag, sizeof tag, "P%dQ", (int)getpid());
	}
	for (p = strstr(name, tag); p != NULL; p = strstr(p + 1, tag)) {
		const char *q = p + tlen;

		if (p == name || p[-1] < '0' || p[-1] > '9' || *q < '0' ||
		    *q > '9') {
			continue;
		}
		while (*q >= '0' && *q <= '9') {
			q++;
		}
		if (*q == '_') {
			return 1;
		}
	}
	return 0;
}

static int
lock_uidlist(const struct mbox *mb)
{
	char p[MBOX_PATH_MAX];

	if (dir_path(p, sizeof p, mb, UL_LOCK) == -1) {
		return -1;
	}
	for (int i = 0; i < LOCK_TRIES; i++) {
		struct stat st;
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd != -1) {
			close(fd);
			return 0;
		}
		if (errno != EEXIST) {
			return -1;
		}
		if (stat(p, &st) == 0 && st.st_mtime + LOCK_STALE_S <
		    time(NULL)) {
			(void)unlink(p);
			continue;
		}
		nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
	}
	errno = EAGAIN;
	return -1;
}

static void
unlock_uidlist(const struct mbox *mb)
{
	char p[MBOX_PATH_MAX];

	if (dir_path(p, sizeof p, mb, UL_LOCK) == 0) {
		(void)unlink(p);
	}
}

/* RFC822.SIZE: W= from the name, else counted from the file (each bare
 * LF is served as CR LF). */
static uint32_t
vsize_of(const struct mbox *mb, const struct maildir_name *mn,
    const char *name, int innew)
{
	char p[MBOX_PATH_MAX];
	uint64_t size = 0;
	char prev = 0;
	ssize_t n;
	int fd;

	if (mn->has_vsize) {
		return (uint32_t)mn->vsize;
	}
	if (fmt(p, sizeof p, "%s/%s/%s", mb->path, innew ? "new" : "cur",
	    name) >= (int)sizeof p || (fd = open(p, O_RDONLY |
	    O_CLOEXEC)) == -1) {
		return 0;
	}
	while ((n = read(fd, chunk, sizeof chunk)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] == '\n' && prev != '\r') {
				size++;
			}
			prev = chunk[i];
		}
		size += (uint64_t)n;
	}
	close(fd);
	return size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
}

/*
 * inotify: applies each folder's events to its index. A removal only
 * marks the record; if the same batch brings the file back under a
 * new name (a rename by another process), it was a flag change,
 * otherwise an expunge. Unknown new names get UIDs.
 */
static void
inotify_ready(struct ev *ev, int fd, unsigned events, void *arg)
{
	static char buf[INOTIFY_BUF] __attribute__((aligned(8)));
	struct mbox *touched[TOUCHED_MAX], *pd_owner = NULL;
	struct pending pd = { 0 };
	size_t ntouched = 0;

	(void)ev;
	(void)events;
	(void)arg;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n <= 0) {
			break;
		}
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ie = (struct inotify_event *)p;
			struct mbox *mb;
			size_t len, k;
			int innew;

			p += sizeof *ie + ie->len;
			if (ie->mask & IN_Q_OVERFLOW) {
				mbox_rescan_all();
				continue;
			}
			mb = mbox_by_wd(ie->wd);
			if (mb == NULL || ie->len == 0 || ie->name[0] == '.') {
				continue;
			}
			for (k = 0; k < ntouched && touched[k] != mb; k++) {
			}
			if (k == ntouched) {
				if (ntouched == TOUCHED_MAX) {
					mb->rescan = 1;	/* at its next look */
					continue;
				}
				touched[ntouched++] = mb;
			}
			len = strlen(ie->name);
			innew = ie->wd == mb->wd_new;
			if (ie->mask & (IN_CREATE | IN_MOVED_TO)) {
				struct pending *to = pd_owner == NULL ||
				    pd_owner == mb ? &pd : NULL;

				if (to == NULL) {
					/* One folder's new files at a time;
					 * the others scan. */
					mb->rescan = 1;
				} else if (apply_name(mb, innew, ie->name, len,
				    to) == -1) {
					mb->rescan = 1;
				} else if (pd.n > 0) {
					pd_owner = mb;
				}
			} else if (ie->mask & (IN_DELETE | IN_MOVED_FROM)) {
				if (mb == pd_owner) {
					/* Not there any more: no UID. */
					pending_drop(&pd, innew, ie->name,
					    len);
				}
				removed(mb, innew, ie->name, len);
			}
		}
	}
	for (size_t k = 0; k < ntouched; k++) {
		struct mbox *mb = touched[k];

		resolve_missing(mb);
		if (mb == pd_owner && !mb->rescan) {
			(void)assign_uids(mb, &pd);
		}
		if (mb->rescan) {
			(void)mbox_disk_scan(mb);
		}
		mbox_notify(mb);
	}
	pending_free(&pd);
}

/* A name left a directory: if it is the record's current name, the
 * record is missing unless the same batch brings it back. */
static void
removed(struct mbox *mb, int innew, const char *name, size_t len)
{
	struct maildir_name mn;
	char now[MBOX_PATH_MAX];
	const char *slash;
	uint32_t idx;

	if (maildir_name_parse(name, len, &mn) == -1 || !mbox_find(mb,
	    mn.base, mn.baselen, mbox_hash(mn.base, mn.baselen), &idx) ||
	    mbox_disk_file(mb, &mb->msgs[idx], mb->state[idx], now,
	    sizeof now) == -1) {
		return;
	}
	slash = strrchr(now, '/');
	if (innew == !!(mb->state[idx] & MB_INNEW) && strcmp(slash + 1,
	    name) == 0) {
		mb->state[idx] |= MB_MISSING;
	}
}

static void
resolve_missing(struct mbox *mb)
{
	for (uint32_t i = 0; i < mb->n; i++) {
		if (mb->state[i] & MB_MISSING) {
			mb->state[i] &= (uint8_t)~MB_MISSING;
			mbox_gone(mb, i);
		}
	}
}
