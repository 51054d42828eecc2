/* SPDX-License-Identifier: ISC */
/*
 * mbox.c - the in-memory index of a Maildir folder and the sessions'
 * views of it (see mbox.h). Disk work is in mbox_disk.c.
 *
 * Sequence numbers (RFC 3501 2.3.1.2) are per view: a view sees the
 * records with uid <= known_uid, minus tombstones it has reported.
 * While no tombstone is waiting (the usual case) sequence number i is
 * record i-1; otherwise a cursor walks from the last position.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fmt.h"
#include "store/hcache.h"
#include "store/maildir.h"
#include "store/mbox_int.h"

static struct {
	struct mbox	*open;		/* max_open slots */
	size_t		 max;
	struct ev	*ev;
	struct timer	 notify;	/* changes told from the loop */
	uint64_t	 stamp;		/* last use, for the idle LRU */
	size_t		 idle;		/* slots open without a view */
} mb_all;

static void	notify_run(struct timer *, void *);
static void	close_slot(struct mbox *);
static int	idle_valid(struct mbox *);
static void	evict_idle(size_t keep);
static int	under(const struct mbox *, const char *path, size_t len);

static int	grow(struct mbox *, uint32_t need);
static void	hash_insert(struct mbox *, uint32_t idx);
static void	hash_rebuild(struct mbox *);
static int	visible(const struct mbox_view *, uint32_t idx);
static uint32_t	min_expunge_seen(const struct mbox *);
static uint32_t	view_idx(struct mbox_view *, uint32_t seq);
static int	expunge(struct mbox_view *, int deleted,
		    int (*)(void *, uint32_t), void *, mbox_event_fn *,
		    void *);

int
mbox_init(struct ev *ev, size_t max_open, struct err *e)
{
	size_t len = max_open * sizeof(struct mbox);

	mb_all.open = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mb_all.open == MAP_FAILED) {
		mb_all.open = NULL;
		return err_set(e, "mailbox table: %s", strerror(errno));
	}
	mb_all.max = max_open;
	mb_all.ev = ev;
	timer_init(&mb_all.notify, notify_run, NULL);
	mbox_ms_init(ev);
	if (hcache_init(ev, max_open) == -1) {
		return err_set(e, "header cache table: %s", strerror(errno));
	}
	return mbox_disk_inotify_init(ev, e);
}

void
mbox_shutdown(void)
{
	for (size_t i = 0; mb_all.open != NULL && i < mb_all.max; i++) {
		struct mbox *mb = &mb_all.open[i];

		while (mb->used && mb->views != NULL) {
			mbox_unselect(mb->views);
		}
	}
	evict_idle(0);		/* before the caches they use go */
	hcache_shutdown();
	mbox_disk_inotify_close();
	mbox_ms_shutdown();
	if (mb_all.ev != NULL) {
		ev_timer_cancel(mb_all.ev, &mb_all.notify);
	}
	if (mb_all.open != NULL) {
		munmap(mb_all.open, mb_all.max * sizeof(struct mbox));
	}
	mb_all.open = NULL;
}

int
mbox_select(const char *path, struct mbox_view *v, int readonly,
    struct err *e)
{
	struct mbox *mb = NULL, *free_slot = NULL;
	mbox_changed_fn *changed = v->changed;	/* the caller's */

	memset(v, 0, sizeof *v);
	v->changed = changed;
	for (size_t i = 0; i < mb_all.max; i++) {
		struct mbox *m = &mb_all.open[i];

		if (m->used && strcmp(m->path, path) == 0 &&
		    (m->refs > 0 || idle_valid(m))) {
			mb = m;
			break;
		}
		if (!m->used && free_slot == NULL) {
			free_slot = m;
		}
	}
	if (mb == NULL && mb_all.idle > 0) {
		/* A folder opened anew may be an idle one's directory
		 * under another name (moved by another process): that one
		 * goes first, or both would share its inotify watches. */
		for (size_t i = 0; i < mb_all.max; i++) {
			struct mbox *m = &mb_all.open[i];

			if (m->used && m->refs == 0 && !idle_valid(m) &&
			    free_slot == NULL) {
				free_slot = m;
			}
		}
	}
	if (mb == NULL && free_slot == NULL && mb_all.idle > 0) {
		evict_idle(mb_all.idle - 1);	/* the least recently used */
		for (size_t i = 0; i < mb_all.max && free_slot == NULL; i++) {
			if (!mb_all.open[i].used) {
				free_slot = &mb_all.open[i];
			}
		}
	}
	if (mb == NULL) {
		if (free_slot == NULL) {
			errno = EMFILE;
			return err_set(e, "too many open mailboxes");
		}
		mb = free_slot;
		memset(mb, 0, sizeof *mb);
		if (fmt(mb->path, sizeof mb->path, "%s", path) >=
		    (int)sizeof mb->path) {
			errno = ENAMETOOLONG;
			return err_set(e, "mailbox path too long");
		}
		mb->ul_fd = -1;
		mb->wd_new = mb->wd_cur = -1;
		if (mbox_disk_open(mb, e) == -1) {
			int err = errno;

			mbox_disk_close(mb);
			errno = err;
			return -1;
		}
		(void)mbox_ms_load(mb);
		mb->used = 1;
		/* \Recent is not kept on disk: what another session has
		 * seen already sits in cur/, only new/ is news. */
		for (uint32_t i = 0; i < mb->n; i++) {
			if (!(mb->state[i] & (MB_INNEW | MB_GONE))) {
				mb->recent_uid = mb->msgs[i].uid;
			}
		}
	} else {
		if (mb->refs == 0) {
			mb_all.idle--;	/* kept open since its last view */
		}
		mbox_sync(mb);
	}
	mb->refs++;
	v->mb = mb;
	v->readonly = readonly;
	v->flags_seen = mb->modseq;
	v->expunge_seen = mb->modseq;
	v->next = mb->views;
	mb->views = v;
	/* Everything there now is known from the start (SELECT reports
	 * EXISTS); new messages become recent here if unclaimed. */
	for (uint32_t i = 0; i < mb->n; i++) {
		if (mb->state[i] & MB_GONE) {
			continue;
		}
		v->exists++;
		/* EXAMINE sees \Recent without taking it (RFC 3501
		 * 6.3.2): recent_uid moves only for SELECT. */
		if (mb->msgs[i].uid > mb->recent_uid) {
			if (v->recent_lo == 0) {
				v->recent_lo = mb->msgs[i].uid;
			}
			v->recent_hi = mb->msgs[i].uid;
			v->nrecent++;
		}
	}
	if (mb->n > 0) {
		v->known_uid = mb->msgs[mb->n - 1].uid;
		if (!readonly && v->known_uid > mb->recent_uid) {
			mb->recent_uid = v->known_uid;
		}
	}
	/* A view joins with every tombstone already reported. */
	for (uint32_t i = 0; i < mb->n; i++) {
		if (mb->state[i] & MB_GONE && mb->msgs[i].mod > v->expunge_seen) {
			v->expunge_seen = mb->msgs[i].mod;
		}
	}
	if (!readonly) {
		/* new/ -> cur/ once a session has seen them (Dovecot does
		 * the same); a failed rename leaves the file where it is. */
		for (uint32_t i = 0; i < mb->n; i++) {
			if ((mb->state[i] & (MB_INNEW | MB_GONE)) == MB_INNEW) {
				(void)mbox_disk_rename(mb, i, mb->msgs[i].flags,
				    mb->msgs[i].keywords, 0);
			}
		}
	}
	return 0;
}

void
mbox_unselect(struct mbox_view *v)
{
	struct mbox *mb = v->mb;
	struct mbox_view **pp;

	if (mb == NULL) {
		return;
	}
	for (pp = &mb->views; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	}
	v->mb = NULL;
	if (mb->excl != NULL && mb->refs == 1) {
		mb->excl = NULL;
	}
	if (--mb->refs > 0) {
		mbox_compact(mb);
		return;
	}
	/* Kept open, idle, while few others are: a client saving into
	 * Sent command after command (APPEND opens the folder each time)
	 * or asking STATUS does not read it anew. inotify keeps it in
	 * step meanwhile; the least recently used goes first. */
	if (mbox_disk_shrink_due(mb)) {
		close_slot(mb);		/* the uidlist is written anew */
		return;
	}
	/* The header cache's batch is written; its index stays with
	 * the folder's (about 30 bytes a message, at most
	 * MBOX_IDLE_MAX folders): a webmail's next session, which
	 * SORTs the folder again, does not read the whole file anew.
	 * It is freed and the file compacted when the folder closes. */
	hcache_idle(mb);
	mbox_compact(mb);
	mb->last_use = ++mb_all.stamp;
	mb_all.idle++;
	evict_idle(MBOX_IDLE_MAX);
}

void
mbox_forget(const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < mb_all.max; i++) {
		struct mbox *mb = &mb_all.open[i];

		if (mb->used && mb->refs == 0 && under(mb, path, len)) {
			close_slot(mb);
			mb_all.idle--;
		}
	}
}

int
mbox_saving(const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < mb_all.max; i++) {
		const struct mbox *mb = &mb_all.open[i];

		if (mb->used && mb->saves > 0 && under(mb, path, len)) {
			return 1;
		}
	}
	return 0;
}

uint32_t
mbox_uidvalidity(const struct mbox *mb)
{
	return mb->hdr.uidvalidity;
}

uint32_t
mbox_uidnext(const struct mbox *mb)
{
	return mb->hdr.next_uid;
}

const char *
mbox_path(const struct mbox *mb)
{
	return mb->path;
}

void
mbox_sync(struct mbox *mb)
{
	mbox_disk_events(mb);
}

void
mbox_view_update(struct mbox_view *v, int allow_expunge, mbox_event_fn *fn,
    void *arg)
{
	struct mbox *mb = v->mb;
	uint32_t seq = 0, added = 0, first_new = 0, start, end, last, known;

	if (mb == NULL) {
		return;
	}
	known = v->known_uid;	/* new ones get EXISTS, not FETCH */
	if (allow_expunge && v->expunge_seen != mb->modseq) {
		for (uint32_t i = 0; i < mb->n; i++) {
			const struct mbox_msg *m = &mb->msgs[i];

			if (m->uid > v->known_uid) {
				break;
			}
			if (!(mb->state[i] & MB_GONE)) {
				seq++;
			} else if (m->mod > v->expunge_seen) {
				if (mbox_view_recent(v, m)) {
					v->nrecent--;
				}
				fn(arg, MBOX_EV_EXPUNGE, seq + 1, m);
				v->exists--;
			}
		}
		v->expunge_seen = mb->modseq;
		v->cur_seq = 0;
		mbox_compact(mb);
	}
	/*
	 * New records, up to (not past) a tombstone this view has not
	 * heard of: past it, known_uid would make the tombstone count in
	 * the view's sequence numbers although it was never in its EXISTS
	 * (a message that came and went while the view was in FETCH).
	 * Once expunges may be told, such tombstones are behind
	 * expunge_seen and are passed over.
	 */
	for (start = mb->n; start > 0 && mb->msgs[start - 1].uid >
	    v->known_uid; start--) {
	}
	last = v->known_uid;
	for (end = start; end < mb->n; end++) {
		if (mb->state[end] & MB_GONE) {
			if (mb->msgs[end].mod > v->expunge_seen) {
				break;
			}
		} else if (added++ == 0) {
			first_new = end;
		}
		last = mb->msgs[end].uid;
	}
	if (added > 0) {
		uint32_t claimed = 0;

		for (uint32_t i = first_new; i < end; i++) {
			uint32_t uid = mb->msgs[i].uid;

			if (mb->state[i] & MB_GONE || uid <= mb->recent_uid ||
			    v->readonly) {
				continue;
			}
			if (v->recent_hi < mb->recent_uid) {
				/* Someone else claimed in between: only the
				 * newest run is kept as recent here. */
				v->recent_lo = uid;
				v->nrecent = 0;
			} else if (v->recent_lo == 0) {
				v->recent_lo = uid;
			}
			v->recent_hi = uid;
			v->nrecent++;
			claimed = uid;
			if (mb->state[i] & MB_INNEW) {
				(void)mbox_disk_rename(mb, i, mb->msgs[i].flags,
				    mb->msgs[i].keywords, 0);
			}
		}
		if (claimed > mb->recent_uid) {
			mb->recent_uid = claimed;
		}
		v->exists += added;
		v->known_uid = last;
		fn(arg, MBOX_EV_EXISTS, v->exists, NULL);
		fn(arg, MBOX_EV_RECENT, v->nrecent, NULL);
	} else {
		v->known_uid = last;	/* none, or all gone */
	}
	if (v->flags_seen != mb->modseq) {
		seq = 0;
		for (uint32_t i = 0; i < mb->n; i++) {
			const struct mbox_msg *m = &mb->msgs[i];

			if (m->uid > v->known_uid) {
				break;
			}
			if (!visible(v, i)) {
				continue;
			}
			seq++;
			if (!(mb->state[i] & MB_GONE) &&
			    m->mod > v->flags_seen && m->uid <= known) {
				fn(arg, MBOX_EV_FLAGS, seq, m);
			}
		}
		v->flags_seen = mb->modseq;
	}
}

const struct mbox_msg *
mbox_view_seq(struct mbox_view *v, uint32_t seq)
{
	uint32_t idx = view_idx(v, seq);

	return idx == UINT32_MAX ? NULL : &v->mb->msgs[idx];
}

const struct mbox_msg *
mbox_view_uid(struct mbox_view *v, uint32_t uid, uint32_t *seq)
{
	const struct mbox_msg *m = mbox_view_uid_ge(v, uid, seq);

	return m != NULL && m->uid == uid ? m : NULL;
}

const struct mbox_msg *
mbox_view_uid_ge(struct mbox_view *v, uint32_t uid, uint32_t *seq)
{
	struct mbox *mb = v->mb;
	uint32_t lo = 0, hi, idx, s = 0;

	if (mb == NULL || uid > v->known_uid) {
		return NULL;
	}
	hi = mb->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (mb->msgs[mid].uid < uid) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	for (idx = lo; idx < mb->n && !visible(v, idx); idx++) {
		if (mb->msgs[idx].uid > v->known_uid) {
			return NULL;
		}
	}
	if (idx >= mb->n || mb->msgs[idx].uid > v->known_uid) {
		return NULL;
	}
	if (mb->ngone == 0) {
		s = idx + 1;
	} else if (v->cur_seq != 0 && v->cur_idx <= idx) {
		s = v->cur_seq;
		for (uint32_t i = v->cur_idx + 1; i <= idx; i++) {
			s += (uint32_t)visible(v, i);
		}
	} else {
		for (uint32_t i = 0; i <= idx; i++) {
			s += (uint32_t)visible(v, i);
		}
	}
	v->cur_seq = s;
	v->cur_idx = idx;
	*seq = s;
	return &mb->msgs[idx];
}

uint32_t
mbox_view_last_uid(struct mbox_view *v)
{
	const struct mbox_msg *m = v->exists ? mbox_view_seq(v, v->exists) :
	    NULL;

	return m ? m->uid : 0;
}

int
mbox_view_recent(const struct mbox_view *v, const struct mbox_msg *m)
{
	return v->nrecent > 0 && m->uid >= v->recent_lo &&
	    m->uid <= v->recent_hi;
}

uint32_t
mbox_view_first_unseen(struct mbox_view *v)
{
	for (uint32_t s = 1; s <= v->exists; s++) {
		const struct mbox_msg *m = mbox_view_seq(v, s);

		if (m != NULL && !(m->flags & MF_SEEN)) {
			return s;
		}
	}
	return 0;
}

int
mbox_store(struct mbox_view *v, const struct mbox_msg *m, unsigned flags,
    uint32_t keywords)
{
	struct mbox *mb = v->mb;
	uint32_t idx = (uint32_t)(m - mb->msgs);
	int caught_up = v->flags_seen == mb->modseq;

	if (mb->state[idx] & MB_GONE) {
		errno = ENOENT;
		return -1;
	}
	if (m->flags == flags && m->keywords == keywords) {
		return 0;
	}
	if (mbox_disk_rename(mb, idx, flags, keywords, mb->state[idx] &
	    (uint8_t)~(MB_INNEW | MB_NOINFO)) == -1) {
		return -1;
	}
	mb->msgs[idx].mod = mbox_ms_next(mb);
	if (caught_up) {
		v->flags_seen = mb->modseq;
	}
	mbox_notify(mb);
	return 0;
}

int
mbox_expunge(struct mbox_view *v, int (*want)(void *, uint32_t),
    void *want_arg, mbox_event_fn *fn, void *arg)
{
	return expunge(v, 1, want, want_arg, fn, arg);
}

int
mbox_expunge_uids(struct mbox_view *v, int (*want)(void *, uint32_t),
    void *want_arg, mbox_event_fn *fn, void *arg)
{
	char p[MBOX_PATH_MAX];
	int rc = expunge(v, 0, want, want_arg, fn, arg);

	/*
	 * MOVE: the copies are durable already (the save's commit); the
	 * removals are made durable too before the tagged OK, so that a
	 * crash cannot bring the messages back here after the client was
	 * told they moved (duplicates in both folders). One fsync per
	 * directory per MOVE, whatever its size; new/ only holds messages
	 * no session has seen, which a MOVE names rarely, and a removal
	 * from it lost in a crash is that same duplicate.
	 */
	if (fmt(p, sizeof p, "%s/cur", v->mb->path) >= (int)sizeof p ||
	    store_fsync_dir(p) == -1) {
		rc = -1;
	}
	return rc;
}

/* Both expunges: with deleted, only messages with \Deleted. */
static int
expunge(struct mbox_view *v, int deleted, int (*want)(void *, uint32_t),
    void *want_arg, mbox_event_fn *fn, void *arg)
{
	struct mbox *mb = v->mb;
	uint32_t seq = 0;
	int rc = 0, caught_up = v->expunge_seen == mb->modseq;

	for (uint32_t i = 0; i < mb->n; i++) {
		struct mbox_msg *m = &mb->msgs[i];

		if (m->uid > v->known_uid) {
			break;
		}
		if (!visible(v, i)) {
			continue;
		}
		seq++;
		if (mb->state[i] & MB_GONE || (deleted && !(m->flags &
		    MF_TRASHED)) || (want != NULL && !want(want_arg,
		    m->uid))) {
			continue;
		}
		if (mbox_disk_unlink(mb, i) == -1 && errno != ENOENT) {
			rc = -1;
			continue;
		}
		mbox_gone(mb, i);
		if (caught_up) {
			if (mbox_view_recent(v, m)) {
				v->nrecent--;
			}
			if (fn != NULL) {
				fn(arg, MBOX_EV_EXPUNGE, seq, m);
			}
			seq--;
			v->exists--;
			v->expunge_seen = mb->modseq;
		}
	}
	v->cur_seq = 0;
	mbox_compact(mb);
	mbox_notify(mb);
	return rc;
}

int
mbox_open_msg(struct mbox *mb, const struct mbox_msg *m, struct stat *st)
{
	char path[MBOX_PATH_MAX];
	uint32_t idx = (uint32_t)(m - mb->msgs);
	int fd;

	if (mbox_disk_file(mb, m, mb->state[idx], path, sizeof path) == -1) {
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT) {
		/* Renamed or removed by another process: the index learns
		 * at its next sync (never here: callers hold pointers). */
		mb->rescan = 1;
	}
	if (fd != -1 && st != NULL && fstat(fd, st) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
mbox_keyword(struct mbox *mb, const char *name, size_t len, int create)
{
	int free_i, reloaded = 0;

	if (len == 0 || len > MBOX_KW_LEN_MAX) {
		return -1;
	}
again:
	free_i = -1;
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		if (mb->kw[i][0] == '\0') {
			if (free_i == -1) {
				free_i = i;
			}
			continue;
		}
		if (strlen(mb->kw[i]) == len && strncasecmp(mb->kw[i], name,
		    len) == 0) {
			return i;
		}
	}
	if (!create) {
		return -1;
	}
	if (!reloaded) {
		/* Dovecot may have taken letters since we read the file. */
		mbox_disk_keywords_load(mb);
		reloaded = 1;
		goto again;
	}
	if (free_i == -1) {
		return -1;
	}
	memcpy(mb->kw[free_i], name, len);
	mb->kw[free_i][len] = '\0';
	if (mbox_disk_keywords_save(mb) == -1) {
		mb->kw[free_i][0] = '\0';
		return -1;
	}
	return free_i;
}

const char *
mbox_keyword_name(const struct mbox *mb, unsigned i)
{
	return i < MAILDIR_KEYWORDS_MAX && mb->kw[i][0] != '\0' ? mb->kw[i] :
	    NULL;
}

int
mbox_lock_exclusive(struct mbox_view *v, const void *holder)
{
	if (v->mb->excl != NULL && v->mb->excl != holder) {
		return -1;
	}
	v->mb->excl = holder;
	return 0;
}

void
mbox_unlock_exclusive(struct mbox_view *v, const void *holder)
{
	struct mbox *mb = v->mb;

	if (mb == NULL || mb->excl != holder) {
		return;
	}
	for (uint32_t i = 0; i < mb->n; i++) {
		mb->state[i] &= (uint8_t)~MB_MARKED;
	}
	mb->excl = NULL;
}

void
mbox_mark(struct mbox_view *v, const struct mbox_msg *m, int on)
{
	uint32_t idx = (uint32_t)(m - v->mb->msgs);

	if (on) {
		v->mb->state[idx] |= MB_MARKED;
	} else {
		v->mb->state[idx] &= (uint8_t)~MB_MARKED;
	}
}

int
mbox_marked(const struct mbox_view *v, const struct mbox_msg *m)
{
	return (v->mb->state[m - v->mb->msgs] & (MB_MARKED | MB_GONE)) != 0;
}

int
mbox_expunge_marked(struct mbox_view *v)
{
	struct mbox *mb = v->mb;
	int rc = 0;

	for (uint32_t i = 0; i < mb->n; i++) {
		if ((mb->state[i] & (MB_MARKED | MB_GONE)) != MB_MARKED) {
			continue;
		}
		if (mbox_disk_unlink(mb, i) == -1 && errno != ENOENT) {
			rc = -1;
			continue;
		}
		mb->state[i] &= (uint8_t)~MB_MARKED;
		mbox_gone(mb, i);
	}
	mbox_notify(mb);
	return rc;
}

size_t
mbox_bytes_per_message(void)
{
	/* A record, its state byte, and its share of the hash table
	 * (4 bytes a slot, two thirds full on average). */
	return sizeof(struct mbox_msg) + 1 + 6;
}

/* --- for mbox_disk.c ------------------------------------------------ */

/* FNV-1a: short names, no attacker-chosen flood worth more (a folder
 * is one user's, and a collision only costs a compare). */
uint32_t
mbox_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	}
	return h;
}

int
mbox_append(struct mbox *mb, uint32_t uid, uint32_t off, uint32_t hash,
    uint32_t vsize, unsigned flags, uint32_t keywords, uint8_t state)
{
	struct mbox_msg *m;

	if (mb->n > 0 && uid <= mb->msgs[mb->n - 1].uid) {
		errno = EINVAL;		/* UIDs only grow */
		return -1;
	}
	if (mb->n == mb->cap && grow(mb, mb->n + 1) == -1) {
		return -1;
	}
	m = &mb->msgs[mb->n];
	m->uid = uid;
	m->vsize = vsize;
	m->off = off;
	m->hash = hash;
	m->flags = flags;
	m->keywords = keywords;
	/* A new message has a modseq of its own (RFC 7162 3.1.1);
	 * while the folder opens, mbox_ms_load gives them. */
	m->mod = mb->ms_ready ? mbox_ms_next(mb) : 0;
	mb->state[mb->n] = state;
	mb->n++;
	if ((uint64_t)mb->n * 4 > (uint64_t)mb->hcap * 3) {
		hash_rebuild(mb);
	} else {
		hash_insert(mb, mb->n - 1);
	}
	return 0;
}

int
mbox_find(const struct mbox *mb, const char *base, size_t len, uint32_t h,
    uint32_t *idx)
{
	char name[MBOX_NAME_MAX + 1];
	size_t nlen;

	if (mb->hcap == 0) {
		return 0;
	}
	for (uint32_t i = h & (mb->hcap - 1);; i = (i + 1) & (mb->hcap - 1)) {
		uint32_t e = mb->hash[i];

		if (e == 0) {
			return 0;
		}
		if (mb->msgs[e - 1].hash != h || mb->state[e - 1] & MB_GONE) {
			continue;
		}
		if (mbox_disk_base(mb, &mb->msgs[e - 1], name, sizeof name,
		    &nlen) == 0 && nlen == len && memcmp(name, base, len) == 0) {
			*idx = e - 1;
			return 1;
		}
	}
}

uint32_t
mbox_find_uid(const struct mbox *mb, uint32_t uid)
{
	uint32_t lo = 0, hi = mb->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (mb->msgs[mid].uid < uid) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < mb->n && mb->msgs[lo].uid == uid ? lo : UINT32_MAX;
}

void
mbox_gone(struct mbox *mb, uint32_t idx)
{
	if (mb->state[idx] & MB_GONE) {
		return;
	}
	mb->state[idx] |= MB_GONE;
	mb->msgs[idx].mod = mbox_ms_next(mb);
	mb->ms_exp = mb->msgs[idx].mod;
	mb->ngone++;
	mb->ul_dead++;
}

/* Drops the tombstones every view has reported. */
void
mbox_compact(struct mbox *mb)
{
	uint32_t seen = min_expunge_seen(mb), j = 0;

	if (mb->ngone == 0) {
		return;
	}
	for (uint32_t i = 0; i < mb->n; i++) {
		if (mb->state[i] & MB_GONE && mb->msgs[i].mod <= seen) {
			mb->ngone--;
			continue;
		}
		mb->msgs[j] = mb->msgs[i];
		mb->state[j] = mb->state[i];
		j++;
	}
	if (j != mb->n) {
		mb->n = j;
		hash_rebuild(mb);
		for (struct mbox_view *v = mb->views; v != NULL; v = v->next) {
			v->cur_seq = 0;
		}
	}
}

struct mbox *
mbox_by_wd(int wd)
{
	for (size_t i = 0; i < mb_all.max; i++) {
		struct mbox *mb = &mb_all.open[i];

		if (mb->used && (mb->wd_new == wd || mb->wd_cur == wd)) {
			return mb;
		}
	}
	return NULL;
}

void
mbox_rescan_all(void)
{
	for (size_t i = 0; i < mb_all.max; i++) {
		if (mb_all.open[i].used) {
			/* Sessions in IDLE look (and scan) at once. */
			mb_all.open[i].rescan = 1;
			mbox_notify(&mb_all.open[i]);
		}
	}
}

/*
 * Sessions hear of a change from the loop, never from inside the call
 * that made it: a session in the middle of a job holds pointers into
 * the index, which telling another session (and compacting) could
 * move.
 */
void
mbox_notify(struct mbox *mb)
{
	mb->notify = 1;
	mbox_ms_dirty(mb);
	if (mb_all.ev != NULL && !timer_armed(&mb_all.notify)) {
		(void)ev_timer_in(mb_all.ev, &mb_all.notify, 0);
	}
}

void
mbox_ms_flush_all(void)
{
	for (size_t i = 0; i < mb_all.max; i++) {
		if (mb_all.open[i].used) {
			mbox_ms_flush(&mb_all.open[i]);
		}
	}
}

static void
notify_run(struct timer *t, void *arg)
{
	(void)t;
	(void)arg;
	for (size_t i = 0; i < mb_all.max; i++) {
		struct mbox *mb = &mb_all.open[i];

		if (mb->used && mb->notify) {
			mb->notify = 0;
			struct mbox_view *v = mb->views, *next;

			for (; v != NULL; v = next) {
				next = v->next;
				if (v->changed != NULL) {
					v->changed(v);
				}
			}
		}
	}
}

/* --- helpers -------------------------------------------------------- */

static int
grow(struct mbox *mb, uint32_t need)
{
	uint32_t cap = mb->cap ? mb->cap : 1024;
	void *m, *s;

	while (cap < need) {
		if (cap >= MBOX_MSGS_MAX) {
			errno = EFBIG;
			return -1;
		}
		cap *= 2;
	}
	if (mb->msgs == NULL) {
		m = mmap(NULL, (size_t)cap * sizeof *mb->msgs, PROT_READ |
		    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		s = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED || s == MAP_FAILED) {
			if (m != MAP_FAILED) {
				munmap(m, (size_t)cap * sizeof *mb->msgs);
			}
			if (s != MAP_FAILED) {
				munmap(s, cap);
			}
			return -1;
		}
	} else {
		m = mremap(mb->msgs, (size_t)mb->cap * sizeof *mb->msgs,
		    (size_t)cap * sizeof *mb->msgs, MREMAP_MAYMOVE);
		if (m == MAP_FAILED) {
			return -1;
		}
		mb->msgs = m;	/* the old address may be gone */
		s = mremap(mb->state, mb->cap, cap, MREMAP_MAYMOVE);
		if (s == MAP_FAILED) {
			/* shrinking in place does not fail */
			(void)mremap(mb->msgs, (size_t)cap * sizeof *mb->msgs,
			    (size_t)mb->cap * sizeof *mb->msgs, 0);
			return -1;
		}
	}
	mb->msgs = m;
	mb->state = s;
	mb->cap = cap;
	return 0;
}

static void
hash_insert(struct mbox *mb, uint32_t idx)
{
	uint32_t i = mb->msgs[idx].hash & (mb->hcap - 1);

	while (mb->hash[i] != 0) {
		i = (i + 1) & (mb->hcap - 1);
	}
	mb->hash[i] = idx + 1;
}

static void
hash_rebuild(struct mbox *mb)
{
	uint32_t cap = 2048;

	/* At most three quarters full: linear probing stays short, and
	 * the table costs 5-11 bytes per message. */
	while ((uint64_t)cap * 3 < (uint64_t)mb->n * 4 + 4) {
		cap *= 2;
	}
	if (cap != mb->hcap) {
		void *h = mmap(NULL, (size_t)cap * sizeof *mb->hash,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (h == MAP_FAILED) {
			if (mb->hcap >= mb->n + 1) {
				cap = mb->hcap;	/* fuller, still works */
			} else {
				return;
			}
		} else {
			if (mb->hash != NULL) {
				munmap(mb->hash, (size_t)mb->hcap *
				    sizeof *mb->hash);
			}
			mb->hash = h;
			mb->hcap = cap;
		}
	}
	memset(mb->hash, 0, (size_t)mb->hcap * sizeof *mb->hash);
	for (uint32_t i = 0; i < mb->n; i++) {
		hash_insert(mb, i);
	}
}

/* In the view: known, and not a tombstone it has already reported. */
static int
visible(const struct mbox_view *v, uint32_t idx)
{
	const struct mbox *mb = v->mb;

	if (mb->msgs[idx].uid > v->known_uid) {
		return 0;
	}
	return !(mb->state[idx] & MB_GONE) || mb->msgs[idx].mod >
	    v->expunge_seen;
}

static uint32_t
min_expunge_seen(const struct mbox *mb)
{
	uint32_t m = mb->modseq;

	for (const struct mbox_view *v = mb->views; v != NULL; v = v->next) {
		if (v->expunge_seen < m) {
			m = v->expunge_seen;
		}
	}
	return m;
}

/* Sequence number -> record index, UINT32_MAX when out of range. */
static uint32_t
view_idx(struct mbox_view *v, uint32_t seq)
{
	struct mbox *mb = v->mb;
	uint32_t s, i;

	if (mb == NULL || seq == 0 || seq > v->exists) {
		return UINT32_MAX;
	}
	if (mb->ngone == 0) {
		return seq - 1 < mb->n ? seq - 1 : UINT32_MAX;
	}
	if (v->cur_seq != 0 && v->cur_seq <= seq) {
		s = v->cur_seq;
		i = v->cur_idx;
	} else {
		s = 0;
		i = UINT32_MAX;		/* before the first */
	}
	while (s < seq) {
		i++;
		if (i >= mb->n) {
			return UINT32_MAX;
		}
		s += (uint32_t)visible(v, i);
	}
	v->cur_seq = s;
	v->cur_idx = i;
	return i;
}

/* Closes an open folder (no view left): the uidlist shrunk if worth
 * it, the index unmapped. */
static void
close_slot(struct mbox *mb)
{
	mbox_ms_close(mb);
	hcache_close(mb);	/* its batch out, before the arrays go */
	mbox_disk_shrink(mb);
	mbox_disk_close(mb);
	if (mb->msgs != NULL) {
		munmap(mb->msgs, (size_t)mb->cap * sizeof *mb->msgs);
		munmap(mb->state, mb->cap);
	}
	if (mb->hash != NULL) {
		munmap(mb->hash, (size_t)mb->hcap * sizeof *mb->hash);
	}
	mb->msgs = NULL;
	mb->hash = NULL;
	mb->used = 0;
}

/*
 * An idle folder is used again only if its path still names the
 * directory it was opened on (another process, or a RENAME not seen by
 * mbox_forget, may have moved it, and a new folder may have the name
 * now) and its uidlist is as this process left it. Otherwise it is
 * closed here (the caller opens the path anew).
 */
static int
idle_valid(struct mbox *mb)
{
	struct stat st;

	if (stat(mb->path, &st) == 0 && st.st_dev == mb->dir_dev &&
	    st.st_ino == mb->dir_ino && mbox_disk_unchanged(mb)) {
		return 1;
	}
	close_slot(mb);
	mb_all.idle--;
	return 0;
}

/* Closes the least recently used idle folders until at most keep are
 * left. */
static void
evict_idle(size_t keep)
{
	while (mb_all.idle > keep) {
		struct mbox *old = NULL;

		for (size_t i = 0; i < mb_all.max; i++) {
			struct mbox *mb = &mb_all.open[i];

			if (mb->used && mb->refs == 0 && (old == NULL ||
			    mb->last_use < old->last_use)) {
				old = mb;
			}
		}
		if (old == NULL) {
			mb_all.idle = 0;	/* cannot be: recount */
			return;
		}
		close_slot(old);
		mb_all.idle--;
	}
}

/* 1 when mb is the folder at path (len bytes) or a Maildir++ child of
 * it (".a" and ".a.b"; the root's children are not its own). */
static int
under(const struct mbox *mb, const char *path, size_t len)
{
	return strncmp(mb->path, path, len) == 0 && (mb->path[len] == '\0' ||
	    (mb->path[len] == '.' && len > 0 && strrchr(path, '/') != NULL &&
	    strrchr(path, '/')[1] == '.'));
}
