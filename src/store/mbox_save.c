/* SPDX-License-Identifier: ISC */
/*
 * mbox_save.c - APPEND, MULTIAPPEND, COPY and MOVE into a Maildir
 * folder (see mbox_save.h): files written into tmp/ or hard-linked to
 * their final names, committed by the store transaction (a link is a
 * file already in place: only its directory is synced), then numbered
 * in order (mbox_disk_record_write, _index) for UIDPLUS (RFC 4315).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fmt.h"
#include "store/mbox_int.h"
#include "store/mbox_save.h"

#define WRITE_BUF	8192	/* LF-converted output, one piece */
#define HOST_MAX	64

static size_t	 busy;		/* saves mid-batch, watched by rounds */
/* Batches whose uidlist lines are written, not yet indexed, in the
 * order written (one list for every folder: a few saves at most). */
static struct mbox_save *written;
static char	 host[HOST_MAX];
static char	 wbuf[WRITE_BUF];

static int	base_of(const struct mbox_save *, size_t i, char *, size_t);
static int	final_name(const struct mbox_save *, size_t i, char *,
		    size_t, int *innew);
static int	txn_name(void *, size_t, char *, char *, size_t);
static int	rec_name(void *, size_t, char *, size_t, int *);
static void	txn_done(void *, int);
static int	txn_placed(void *, int *);
static void	drain(void);
static void	unwrite(struct mbox_save *);
static off_t	next_stop(const struct mbox *);
static void	finish(struct mbox_save *, int err);
static void	new_stem(struct mbox_save *);
static void	set_busy(struct mbox_save *, int);
static int	emit(struct mbox_save *, size_t *, char);
static void	drop_open(struct mbox_save *);
static int	hold(struct mbox_save *);

int
mbox_save_init(struct ev *ev, struct conn_table *t, struct err *e)
{
	if (store_txn_init(ev, t, e) == -1) {
		return -1;
	}
	if (store_txn_watch(&busy) == -1) {
		store_txn_shutdown();
		return err_set(e, "imap: the store watches too many writers");
	}
	return 0;
}

void
mbox_save_shutdown(void)
{
	store_txn_shutdown();
}

int
mbox_save_begin(struct mbox_save *s, const char *path, struct err *e)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->last = -1;
	s->view.changed = NULL;
	/* Read-only: the save's view claims no \Recent and moves nothing
	 * from new/ to cur/ (the sessions' business). */
	if (mbox_select(path, &s->view, 1, e) == -1) {
		if (errno == 0) {
			errno = EIO;
		}
		s->view.mb = NULL;
		return -1;
	}
	s->view.mb->saves++;	/* RENAME waits (mbox_saving) */
	s->txn.name = txn_name;
	s->txn.done = txn_done;
	s->txn.arg = s;
	s->txn.round = -1;
	return 0;
}

int
mbox_save_keyword(struct mbox_save *s, const char *name, size_t len)
{
	return mbox_keyword(s->view.mb, name, len, 1);
}

int
mbox_save_full(const struct mbox_save *s)
{
	return s->n >= (s->copies ? MBOX_COPY_MAX : MBOX_SAVE_MAX);
}

uint32_t
mbox_save_uidvalidity(const struct mbox_save *s)
{
	return s->view.mb != NULL ? mbox_uidvalidity(s->view.mb) : 0;
}

int
mbox_save_open(struct mbox_save *s, unsigned flags, uint32_t keywords,
    time_t date)
{
	char p[MBOX_PATH_MAX];
	struct mbox_save_file *f;

	if (s->view.mb == NULL || s->fd != -1 ||
	    s->txn.state != STORE_TXN_IDLE) {
		errno = EINVAL;
		return -1;
	}
	if (s->n >= MBOX_SAVE_MAX) {
		errno = ENOBUFS;
		return -1;
	}
	if (s->n == 0) {
		new_stem(s);
	}
	if (base_of(s, s->n, p, sizeof p) == -1) {
		return -1;
	}
	s->fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (s->fd == -1) {
		return -1;
	}
	f = &s->f[s->n];
	memset(f, 0, sizeof *f);
	f->flags = flags;
	f->keywords = keywords & ((1u << MAILDIR_KEYWORDS_MAX) - 1);
	s->date = date;
	s->err = 0;
	s->last = -1;
	s->cr = 0;
	set_busy(s, 1);
	return 0;
}

int
mbox_save_write(struct mbox_save *s, const char *p, size_t n)
{
	size_t out = 0;

	if (s->fd == -1) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < n && s->err == 0; i++) {
		char c = p[i];

		if (s->cr) {
			s->cr = 0;
			if (c != '\n' && emit(s, &out, '\r') == -1) {
				break;
			}
		}
		if (c == '\r') {
			s->cr = 1;
			continue;
		}
		(void)emit(s, &out, c);
	}
	if (s->err == 0 && out > 0 && store_write_all(s->fd, wbuf,
	    out) == -1) {
		s->err = errno;
	}
	if (s->err != 0) {
		errno = s->err;
		return -1;
	}
	return 0;
}

int
mbox_save_close(struct mbox_save *s)
{
	size_t out = 0;

	if (s->fd == -1) {
		errno = EINVAL;
		return -1;
	}
	if (s->cr && s->err == 0) {
		s->cr = 0;
		(void)emit(s, &out, '\r');
		if (s->err == 0 && store_write_all(s->fd, wbuf, out) == -1) {
			s->err = errno;
		}
	}
	if (s->err == 0 && s->date != 0) {
		struct timespec ts[2] = { { s->date, 0 }, { s->date, 0 } };

		if (futimens(s->fd, ts) == -1) {
			s->err = errno;
		}
	}
	if (close(s->fd) == -1 && s->err == 0) {
		s->err = errno;
	}
	s->fd = -1;
	if (s->err != 0) {
		int err = s->err;

		drop_open(s);
		errno = err;
		return -1;
	}
	s->n++;
	return 0;
}

int
mbox_save_copy(struct mbox_save *s, struct mbox_view *src,
    const struct mbox_msg *m)
{
	char from[MBOX_PATH_MAX], to[MBOX_PATH_MAX];
	struct mbox *sm = src->mb, *dm = s->view.mb;
	struct mbox_save_file *f;
	struct maildir_name mn;
	struct stat st;
	const char *slash;
	uint32_t idx, kw = 0;

	if (dm == NULL || sm == NULL || s->fd != -1 ||
	    s->txn.state != STORE_TXN_IDLE) {
		errno = EINVAL;
		return -1;
	}
	if (s->n >= MBOX_COPY_MAX) {
		errno = ENOBUFS;
		return -1;
	}
	idx = (uint32_t)(m - sm->msgs);
	if (idx >= sm->n || sm->state[idx] & MB_GONE) {
		errno = ENOENT;
		return -1;
	}
	if (mbox_disk_file(sm, m, sm->state[idx], from, sizeof from) == -1) {
		return -1;
	}
	/* The size for S=: from the source's name, as Dovecot names its
	 * files (one inode: the same bytes), else from the file. */
	slash = strrchr(from, '/');
	if (slash != NULL && maildir_name_parse(slash + 1, strlen(slash + 1),
	    &mn) == 0 && mn.has_size) {
		st.st_size = (off_t)mn.size;
	} else if (stat(from, &st) == -1) {
		if (errno == ENOENT) {
			sm->rescan = 1;		/* renamed or expunged */
		}
		return -1;
	}
	/* The link appears in place at once: nobody may number it before
	 * the batch is (held until mbox_disk_record_index). */
	if (hold(s) == -1) {
		return -1;
	}
	if (s->n == 0) {
		new_stem(s);
	}
	s->copies = 1;
	/* Keyword letters are per folder: by name. */
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		const char *name;
		int k;

		if (!(m->keywords & (1u << i)) ||
		    (name = mbox_keyword_name(sm, i)) == NULL) {
			continue;
		}
		k = mbox_keyword(dm, name, strlen(name), 1);
		if (k >= 0) {
			kw |= 1u << k;
		}
	}
	f = &s->f[s->n];
	memset(f, 0, sizeof *f);
	f->size = (uint64_t)st.st_size;
	f->vsize = m->vsize;
	f->flags = m->flags;
	f->keywords = kw;
	f->inplace = 1;
	if (txn_name(s, s->n, NULL, to, sizeof to) == -1) {
		return -1;
	}
	/* Straight to its final name: atomic, and the data is as durable
	 * as the source's; the commit syncs the directory. */
	if (link(from, to) == 0) {
		s->n++;
		return 0;
	}
	if (errno != EXDEV && errno != EPERM && errno != EMLINK) {
		if (errno == ENOENT) {
			sm->rescan = 1;		/* renamed or expunged */
		}
		return -1;
	}
	/* Another file system, or links refused: the bytes, into tmp/,
	 * synced and renamed by the commit like an APPEND. */
	f->inplace = 0;
	if (base_of(s, s->n, to, sizeof to) == -1) {
		return -1;
	}
	{
		int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out,
		    err = 0;

		if (in == -1) {
			if (errno == ENOENT) {
				sm->rescan = 1;
			}
			return -1;
		}
		out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (out == -1) {
			err = errno;
		} else if (fstat(in, &st) == -1 || store_copy(out, in, 0,
		    (uint64_t)st.st_size) == -1 ||
		    futimens(out, (struct timespec[2]){ st.st_mtim,
		    st.st_mtim }) == -1) {
			err = errno;
		}
		close(in);
		if (out != -1 && close(out) == -1 && err == 0) {
			err = errno;
		}
		if (err != 0) {
			if (out != -1) {
				(void)unlink(to);
			}
			errno = err;
			return -1;
		}
	}
	f->size = (uint64_t)st.st_size;
	s->n++;
	set_busy(s, 1);
	return 0;
}

int
mbox_save_commit(struct mbox_save *s, mbox_save_done_fn *done, void *arg)
{
	int err;

	if (s->view.mb == NULL || s->fd != -1 || s->n == 0 ||
	    s->txn.state != STORE_TXN_IDLE) {
		err = EINVAL;
		goto fail;
	}
	if (hold(s) == -1) {
		err = errno;
		goto fail;
	}
	s->done = done;
	s->arg = arg;
	s->txn.files = NULL;
	s->txn.name = txn_name;
	s->txn.nfiles = s->n;
	s->txn.barrier = 0;
	s->txn.prepare = NULL;
	s->txn.on_placed = txn_placed;
	s->txn.done = txn_done;
	s->txn.arg = s;
	set_busy(s, 0);
	store_txn_commit(&s->txn);
	return 0;
fail:
	if (s->txn.state == STORE_TXN_IDLE) {
		mbox_save_abort(s);
	}
	errno = err;
	return -1;
}

void
mbox_save_abort(struct mbox_save *s)
{
	if (s->view.mb == NULL) {
		return;
	}
	if (s->written) {
		/* Its lines name files removed now (or by the cancel):
		 * read as expunged; later batches may be indexed. */
		unwrite(s);
		mbox_disk_record_drop(s->view.mb, next_stop(s->view.mb));
	}
	if (s->txn.state != STORE_TXN_IDLE) {
		store_txn_cancel(&s->txn);	/* files gone, no callback */
	} else if (s->synced) {
		char p[MBOX_PATH_MAX];

		/* Synced, waiting behind an earlier batch: in place. */
		for (size_t i = 0; i < s->n; i++) {
			if (txn_name(s, i, NULL, p, sizeof p) == 0) {
				(void)unlink(p);
			}
		}
	} else {
		if (s->fd != -1) {
			close(s->fd);
			s->fd = -1;
			drop_open(s);
		}
		s->txn.name = txn_name;
		s->txn.nfiles = s->n;
		if (s->n > 0) {
			store_txn_discard(&s->txn);
		}
	}
	if (s->held) {
		s->held = 0;
		mbox_disk_release(s->view.mb);
	}
	s->n = 0;
	s->copies = 0;
	s->synced = 0;
	set_busy(s, 0);
	if (written != NULL) {
		drain();	/* batches that waited behind this one */
	}
}

int
mbox_save_undo(struct mbox_save *s, const struct mbox_uidset *set)
{
	int rc = 0;

	for (size_t r = 0; r < set->n; r++) {
		if (mbox_save_undo_range(s, set->lo[r], set->hi[r]) == -1) {
			rc = -1;
		}
	}
	return rc;
}

int
mbox_save_undo_range(struct mbox_save *s, uint32_t lo, uint32_t hi)
{
	struct mbox *mb = s->view.mb;
	int rc = 0;

	if (mb == NULL) {
		return -1;
	}
	/* Only records there are visited: a range is never wider than
	 * what the save numbered. */
	for (uint32_t i = 0; i < mb->n; i++) {
		uint32_t u = mb->msgs[i].uid;

		if (u < lo || u > hi || mb->state[i] & MB_GONE) {
			continue;
		}
		if (mbox_disk_unlink(mb, i) == -1 && errno != ENOENT) {
			rc = -1;
			continue;
		}
		mbox_gone(mb, i);
	}
	mbox_notify(mb);
	return rc;
}

void
mbox_save_end(struct mbox_save *s)
{
	mbox_save_abort(s);
	if (s->view.mb != NULL && s->view.mb->saves > 0) {
		s->view.mb->saves--;
	}
	mbox_unselect(&s->view);
}

void
mbox_uidset_init(struct mbox_uidset *set)
{
	set->n = 0;
	set->overflow = 0;
}

int
mbox_uidset_add(struct mbox_uidset *set, uint32_t uid)
{
	return mbox_uidset_add_range(set, uid, uid);
}

int
mbox_uidset_add_range(struct mbox_uidset *set, uint32_t lo, uint32_t hi)
{
	if (lo == 0 || hi < lo) {
		errno = EINVAL;
		return -1;
	}
	if (set->n > 0 && set->hi[set->n - 1] != UINT32_MAX &&
	    lo == set->hi[set->n - 1] + 1) {
		set->hi[set->n - 1] = hi;
		return 0;
	}
	if (set->n == MBOX_UIDSET_MAX) {
		set->overflow = 1;
		errno = ENOBUFS;
		return -1;
	}
	set->lo[set->n] = lo;
	set->hi[set->n] = hi;
	set->n++;
	return 0;
}

int
mbox_uidset_want(void *arg, uint32_t uid)
{
	const struct mbox_uidset *set = arg;

	for (size_t r = 0; r < set->n; r++) {
		if (uid >= set->lo[r] && uid <= set->hi[r]) {
			return 1;
		}
	}
	return 0;
}

size_t
mbox_uidset_format(const struct mbox_uidset *set, char *out, size_t cap)
{
	char tmp[32];
	size_t len = 0;

	for (size_t r = 0; r < set->n; r++) {
		int k;

		if (set->lo[r] == set->hi[r]) {
			k = fmt(tmp, sizeof tmp, "%s%u", r ? "," : "",
			    set->lo[r]);
		} else {
			k = fmt(tmp, sizeof tmp, "%s%u:%u", r ? "," : "",
			    set->lo[r], set->hi[r]);
		}
		if (len + (size_t)k < cap) {
			memcpy(out + len, tmp, (size_t)k);
		}
		len += (size_t)k;
	}
	if (len < cap) {
		out[len] = '\0';
	}
	return len;
}

size_t
mbox_save_bytes(void)
{
	return sizeof(struct mbox_save);
}

/* --- helpers -------------------------------------------------------- */

/* A stem per batch: maildir_unique's name, unique for the process;
 * file i is "<stem up to the host>_<i>.<host>". */
static void
new_stem(struct mbox_save *s)
{
	if (host[0] == '\0' && (gethostname(host, sizeof host - 1) == -1 ||
	    host[0] == '\0')) {
		(void)fmt(host, sizeof host, "localhost");
	}
	maildir_unique(s->stem, sizeof s->stem, host);
}

/* The path of file i in tmp/. */
static int
base_of(const struct mbox_save *s, size_t i, char *out, size_t cap)
{
	const char *q = strchr(s->stem, 'Q');
	const char *dot = q != NULL ? strchr(q, '.') : NULL;
	int head = dot != NULL ? (int)(dot - s->stem) : (int)strlen(s->stem);

	if (fmt(out, cap, "%s/tmp/%.*s_%u%s", s->view.mb->path, head,
	    s->stem, (unsigned)i, s->stem + head) >= (int)cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* The name of file i in place: in new/ without flags, as Dovecot
 * saves it; else in cur/ with ":2,<flags>". */
static int
final_name(const struct mbox_save *s, size_t i, char *out, size_t cap,
    int *innew)
{
	const struct mbox_save_file *f = &s->f[i];
	char tmp[MBOX_PATH_MAX], base[MBOX_NAME_MAX + 1];
	const char *slash;
	int k;

	if (base_of(s, i, tmp, sizeof tmp) == -1) {
		return -1;
	}
	slash = strrchr(tmp, '/');
	/* W= 0 for a non-empty file: a copy whose size the index did not
	 * know; left out, readers count it. */
	if (f->vsize == 0 && f->size > 0) {
		k = fmt(base, sizeof base, "%s,S=%llu", slash + 1,
		    (unsigned long long)f->size);
	} else {
		k = fmt(base, sizeof base, "%s,S=%llu,W=%u", slash + 1,
		    (unsigned long long)f->size, f->vsize);
	}
	if (k >= (int)sizeof base) {
		errno = ENAMETOOLONG;
		return -1;
	}
	*innew = f->flags == 0 && f->keywords == 0;
	if (*innew) {
		if (fmt(out, cap, "%s", base) >= (int)cap) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return 0;
	}
	if (maildir_name_format(out, cap, base, strlen(base), f->flags,
	    f->keywords) >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
txn_name(void *arg, size_t i, char *tmp, char *final, size_t cap)
{
	struct mbox_save *s = arg;
	int inplace = s->f[i].inplace != 0;
	char name[MBOX_NAME_MAX + 1], *out = final != NULL ? final : tmp;
	int innew;

	if (tmp != NULL && !inplace && base_of(s, i, tmp, cap) == -1) {
		return -1;
	}
	if (final == NULL && (tmp == NULL || !inplace)) {
		return 0;
	}
	/* The final name; a link in place is its own tmp (store/txn.h). */
	if (final_name(s, i, name, sizeof name, &innew) == -1) {
		return -1;
	}
	if (fmt(out, cap, "%s/%s/%s", s->view.mb->path, innew ? "new" :
	    "cur", name) >= (int)cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (inplace && tmp != NULL && tmp != out) {
		memcpy(tmp, out, strlen(out) + 1);
	}
	return 0;
}

static int
rec_name(void *arg, size_t i, char *name, size_t cap, int *innew)
{
	return final_name(arg, i, name, cap, innew);
}

/*
 * The files are in place, their directories not yet synced: their
 * uidlist lines are appended now and synced by the store together with
 * the directories (one wait instead of two in a row). A crash before
 * both are durable cannot lose an acknowledged message (the OK waits
 * for the callback) and leaves either
 *  - a line whose file is not in place: the UID reads as expunged, a
 *    UID never shown to anyone (the index learns of the lines only
 *    once durable: mbox_disk_record_write); or
 *  - a file in place without its line: the next scan gives it a UID,
 *    a message the client never got OK for (a duplicate if it saves
 *    again, never a loss), as Dovecot's APPEND would leave it.
 */
static int
txn_placed(void *arg, int *fd)
{
	struct mbox_save *s = arg;
	struct mbox_save **pp;

	if (mbox_disk_record_write(s->view.mb, s->n, rec_name, s, &s->first,
	    &s->ul_off, fd) == -1) {
		*fd = -1;
		return errno != 0 ? errno : EIO;
	}
	s->written = 1;
	s->synced = 0;
	s->wnext = NULL;
	for (pp = &written; *pp != NULL; pp = &(*pp)->wnext) {
	}
	*pp = s;
	return 0;
}

/* The store's callback: durable (err 0) or failed, files removed. */
static void
txn_done(void *arg, int err)
{
	struct mbox_save *s = arg;

	if (!s->written) {
		/* Failed before its lines were written (the placed hook
		 * runs before every success). */
		finish(s, err != 0 ? err : EIO);
		return;
	}
	s->synced = 1;
	s->sync_err = err;
	drain();
}

/*
 * Indexes the synced batches in the order their lines were written:
 * one waits while an earlier batch of the same folder has not been
 * synced, so the index (in UID order) and every session learn of the
 * UIDs in order. Callbacks may end saves (mbox_save_abort comes back
 * here): the list is walked from its head again after each.
 */
static void
drain(void)
{
	struct mbox_save *s, *q;

again:
	for (s = written; s != NULL; s = s->wnext) {
		if (!s->synced) {
			continue;
		}
		for (q = written; q != s && q->view.mb != s->view.mb;
		    q = q->wnext) {
		}
		if (q != s) {
			continue;	/* an earlier batch of its folder */
		}
		unwrite(s);
		if (s->sync_err != 0) {
			mbox_disk_record_drop(s->view.mb,
			    next_stop(s->view.mb));
			finish(s, s->sync_err);
		} else if (mbox_disk_record_index(s->view.mb, s->n, rec_name,
		    s, s->first, next_stop(s->view.mb)) == -1) {
			char p[MBOX_PATH_MAX];
			int err = errno != 0 ? errno : EIO;

			/* All or nothing: the files go again. */
			for (size_t i = 0; i < s->n; i++) {
				if (txn_name(s, i, NULL, p, sizeof p) == 0) {
					(void)unlink(p);
				}
			}
			finish(s, err);
		} else {
			finish(s, 0);
		}
		goto again;
	}
}

/* Out of the written list. */
static void
unwrite(struct mbox_save *s)
{
	for (struct mbox_save **pp = &written; *pp != NULL;
	    pp = &(*pp)->wnext) {
		if (*pp == s) {
			*pp = s->wnext;
			break;
		}
	}
	s->wnext = NULL;
	s->written = 0;
}

/* Where the folder's first batch still in the written list starts:
 * reads of the uidlist stop there (0: none). */
static off_t
next_stop(const struct mbox *mb)
{
	for (const struct mbox_save *s = written; s != NULL; s = s->wnext) {
		if (s->view.mb == mb) {
			return s->ul_off;
		}
	}
	return 0;
}

/* The batch is over: the lock let go, the caller called back. */
static void
finish(struct mbox_save *s, int err)
{
	struct mbox *mb = s->view.mb;
	size_t n = s->n;

	if (s->held) {
		s->held = 0;
		mbox_disk_release(mb);
	}
	s->n = 0;
	s->copies = 0;
	s->synced = 0;
	if (s->done != NULL) {
		s->done(s->arg, err, mbox_uidvalidity(mb), err ? 0 : s->first,
		    err ? 0 : n);
	}
}

static void
set_busy(struct mbox_save *s, int on)
{
	if (on && !s->busy) {
		s->busy = 1;
		busy++;
	} else if (!on && s->busy) {
		s->busy = 0;
		busy--;
	}
}

/* The uidlist lock for the batch, once. 0, or -1 with errno (EAGAIN:
 * another process holds it). */
static int
hold(struct mbox_save *s)
{
	if (s->held) {
		return 0;
	}
	if (mbox_disk_hold(s->view.mb) == -1) {
		if (errno == EEXIST) {
			errno = EAGAIN;
		}
		return -1;
	}
	s->held = 1;
	return 0;
}

/* One stored byte into wbuf (written out when full), counting the
 * sizes: W= counts a LF without CR before it as two bytes, as the
 * index does for files without W=. */
static int
emit(struct mbox_save *s, size_t *out, char c)
{
	struct mbox_save_file *f = &s->f[s->n];

	if (*out == sizeof wbuf) {
		if (store_write_all(s->fd, wbuf, *out) == -1) {
			s->err = errno;
			return -1;
		}
		*out = 0;
	}
	wbuf[(*out)++] = c;
	f->size++;
	f->vsize += (c == '\n' && s->last != '\r') ? 2 : 1;
	s->last = (unsigned char)c;
	return 0;
}

/* The message being written goes (its file in tmp/). */
static void
drop_open(struct mbox_save *s)
{
	char p[MBOX_PATH_MAX];

	if (base_of(s, s->n, p, sizeof p) == 0) {
		(void)unlink(p);
	}
	if (s->n == 0) {
		set_busy(s, 0);
	}
}
