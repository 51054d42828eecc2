/* SPDX-License-Identifier: ISC */
/*
 * hcache.c - the header cache's file and index (store/hcache.h): one
 * "wren-cache" per folder, records appended in batches, found by UID
 * through a table in memory, read back with pread.
 *
 *   slot (one per open folder)          table (mmap'ed, grows)
 *   +-----------------------+           +-----+------+-----+---------+
 *   | mb, fd, uidvalidity   |---------->| uid | off  | len | sk: off |
 *   | end: file size known  |           |     |      |     |     len | 20 B
 *   | loaded: scan position |           | 0 = empty slot             |
 *   +-----------------------+           +----------------------------+
 *   offset <  end: in the file (read through the window)
 *   offset >= end: in the batch buffer, at offset - end
 *
 * A message has two records at most: the latest holding its texts
 * (off, len) and the latest holding its sort keys (sk_off, sk_len),
 * the same one when a record holds both. FETCH and SORT each add the
 * item they made, so neither rewrites the other's.
 *
 * An entry of length 0 marks a record found bad: a miss until a new
 * record replaces it. Nothing is removed from the table while the
 * folder is open (expunged messages' entries stay, the mailbox keeps
 * tombstones too); the table is rebuilt when the folder opens again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* rename */
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "core/timer.h"
#include "store/hcache.h"
#include "store/mbox_int.h"

/* The whole file is the Kconfig option IMAP_HCACHE: without it the
 * header declares stubs that always miss. */
#if WREN_IMAP_HCACHE

#define HC_NAME		"wren-cache"
#define HC_TMP		"wren-cache.tmp"
/* The batch: about a hundred messages' texts per write. */
#define HCACHE_PEND_MAX	65536
/* The read window: records are read about a hundred at a time (they
 * are mostly asked for in the order they were written). */
#define HCACHE_WIN_MAX	65536
/* A record read out of file order: this much read with it. */
#define HCACHE_WIN_SMALL	4096
#define HCACHE_FLUSH_MS	5000	/* a batch waits at most this long */
/* Compacted at close when dead records outweigh live ones and are
 * worth a rewrite. */
#define HCACHE_DEAD_MIN	65536
#define HC_TAB_MIN	1024
/* Opening a file: windows read for this long, then the loop runs
 * (a 10,000-message folder's 6 MB take a few such slices). */
#define HCACHE_SLICE_MS	10

struct hc_ent {
	uint32_t	uid;
	uint32_t	off;
	uint32_t	len;	/* 0: none, or found bad */
	uint32_t	sk_off;
	uint32_t	sk_len;
};

enum hc_state {
	HC_CLOSED,	/* not opened yet */
	HC_LOADING,
	HC_READY,
	HC_BROKEN	/* unusable until the folder opens again */
};

struct hc {
	struct mbox	*mb;
	enum hc_state	 state;
	int		 fd;
	uint32_t	 end;		/* file size as written by us */
	uint32_t	 loaded;	/* scanned up to here */
	struct hc_ent	*tab;
	uint32_t	 cap, n;	/* cap: a power of two, or 0 */
	uint32_t	 hint;		/* is_live: the last index found */
};

static struct {
	struct hc	*slot;
	size_t		 max;
	struct ev	*ev;
	struct timer	 flush;
	struct hc	*last;		/* the last slot found */
	struct hc	*pend_hc;	/* owner of the batch */
	size_t		 pend_len;
	struct hc	*win_hc;	/* owner of the window */
	uint32_t	 win_off, win_len;
} hc;

static unsigned char	pend[HCACHE_PEND_MAX];
static unsigned char	win[HCACHE_WIN_MAX];

static struct hc	*slot_of(struct mbox *, int create);
static int	open_file(struct hc *);
static void	reset(struct hc *);
static void	forget(struct hc *);
static void	load_slice(struct hc *);
static void	flush_timer(struct timer *, void *);
static int	write_batch(void);
static struct hc_ent	*find(struct hc *, uint32_t uid);
static int	add(struct hc *, uint32_t uid, uint32_t off, uint32_t len,
		    unsigned items);
static int	get_rec(struct mbox *, const struct mbox_msg *,
		    struct hcache_rec *, int sk);
static int	put_rec(struct mbox *, const struct mbox_msg *,
		    struct hcache_rec *);
static int	copy_rec(int fd, size_t *o, struct hc *, uint32_t off,
		    uint32_t len);
static int	grow(struct hc *);
static const unsigned char	*rec_at(struct hc *, uint32_t off,
				    uint32_t len);
static int	is_live(struct hc *, uint32_t uid);
static void	compact(struct hc *);
static int	compact_due(struct hc *);
static int	path_of(const struct hc *, const char *name, char *out,
		    size_t cap);

/* --- public -------------------------------------------------------- */

int
hcache_init(struct ev *ev, size_t max_open)
{
	size_t len = (max_open > 0 ? max_open : 1) * sizeof(struct hc);

	memset(&hc, 0, sizeof hc);
	hc.slot = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hc.slot == MAP_FAILED) {
		hc.slot = NULL;
		return -1;
	}
	hc.max = max_open;
	hc.ev = ev;
	timer_init(&hc.flush, flush_timer, NULL);
	return 0;
}

void
hcache_shutdown(void)
{
	if (hc.slot == NULL) {
		return;
	}
	for (size_t i = 0; i < hc.max; i++) {
		if (hc.slot[i].mb != NULL) {
			hcache_close(hc.slot[i].mb);
		}
	}
	if (hc.ev != NULL) {
		ev_timer_cancel(hc.ev, &hc.flush);
	}
	munmap(hc.slot, (hc.max > 0 ? hc.max : 1) * sizeof(struct hc));
	hc.slot = NULL;
}

void
hcache_close(struct mbox *mb)
{
	struct hc *h = slot_of(mb, 0);

	if (h == NULL) {
		return;
	}
	if (hc.pend_hc == h) {
		(void)write_batch();
	}
	if (compact_due(h)) {
		compact(h);
	}
	forget(h);
	h->mb = NULL;
	if (hc.last == h) {
		hc.last = NULL;
	}
}

void
hcache_idle(struct mbox *mb)
{
	struct hc *h = slot_of(mb, 0);

	if (h != NULL && hc.pend_hc == h) {
		(void)write_batch();
	}
	if (h != NULL && compact_due(h)) {
		hcache_close(mb);	/* compacted; loaded again when used */
	}
}

/* More than half of the file dead (records of messages gone or
 * replaced), and worth a rewrite. */
static int
compact_due(struct hc *h)
{
	struct mbox *mb = h->mb;
	uint64_t live = 0, dead;

	if (h->state != HC_READY) {
		return 0;
	}
	for (uint32_t i = 0; i < mb->n; i++) {
		struct hc_ent *e = find(h, mb->msgs[i].uid);

		if (e != NULL && !(mb->state[i] & MB_GONE)) {
			live += e->len + (e->sk_off != e->off ? e->sk_len : 0);
		}
	}
	dead = h->end - HCACHE_HDR_LEN - live;
	return dead > live && dead >= HCACHE_DEAD_MIN;
}

int
hcache_load(struct mbox *mb)
{
	struct hc *h = slot_of(mb, 1);

	if (h == NULL) {
		return 1;		/* no slot: uncached */
	}
	if (h->state == HC_CLOSED && open_file(h) == -1) {
		h->state = HC_BROKEN;
	}
	if (h->state != HC_LOADING) {
		return 1;
	}
	load_slice(h);
	return h->state == HC_LOADING ? 0 : 1;
}

int
hcache_get(struct mbox *mb, const struct mbox_msg *m, struct hcache_rec *r)
{
	return get_rec(mb, m, r, 0);
}

int
hcache_get_sk(struct mbox *mb, const struct mbox_msg *m,
    struct hcache_rec *r)
{
	return get_rec(mb, m, r, 1);
}

int
hcache_put(struct mbox *mb, const struct mbox_msg *m, const char *env,
    size_t env_len, const char *bs, size_t bs_len)
{
	struct hcache_rec r;

	memset(&r, 0, sizeof r);
	r.env = env;
	r.env_len = env != NULL ? env_len : 0;
	r.bs = bs;
	r.bs_len = bs != NULL ? bs_len : 0;
	return put_rec(mb, m, &r);
}

int
hcache_put_sk(struct mbox *mb, const struct mbox_msg *m, const char *sk,
    size_t sk_len)
{
	struct hcache_rec r;

	memset(&r, 0, sizeof r);
	r.sk = sk;
	r.sk_len = sk != NULL ? sk_len : 0;
	return put_rec(mb, m, &r);
}

/* The record of m holding its texts (sk 0) or its sort keys (sk 1). */
static int
get_rec(struct mbox *mb, const struct mbox_msg *m, struct hcache_rec *r,
    int sk)
{
	struct hc *h = slot_of(mb, 0);
	const unsigned char *p;
	struct hc_ent *e;
	enum hcache_err err;
	uint32_t off, len;

	if (h == NULL || h->state != HC_READY ||
	    (e = find(h, m->uid)) == NULL) {
		return 0;
	}
	off = sk ? e->sk_off : e->off;
	if ((len = sk ? e->sk_len : e->len) == 0) {
		return 0;
	}
	if ((p = rec_at(h, off, len)) != NULL && hcache_rec_parse(p, len,
	    r, &err) == len && r->uid == m->uid && r->hash == m->hash &&
	    r->vsize == m->vsize && (sk ? r->sk != NULL : r->env != NULL ||
	    r->bs != NULL)) {
		return 1;
	}
	/* Damaged, or the message is not the one it was made from: a
	 * miss, and the next put replaces it. */
	*(sk ? &e->sk_len : &e->len) = 0;
	return 0;
}

/* r's items, for message m, into the batch. */
static int
put_rec(struct mbox *mb, const struct mbox_msg *m, struct hcache_rec *r)
{
	struct hc *h = slot_of(mb, 0);
	size_t n;

	if (h == NULL || h->state != HC_READY) {
		return -1;
	}
	r->uid = m->uid;
	r->hash = m->hash;
	r->vsize = m->vsize;
	if ((n = hcache_rec_size(r)) == 0) {
		return -1;
	}
	if (hc.pend_hc != NULL && (hc.pend_hc != h ||
	    hc.pend_len + n > sizeof pend)) {
		(void)write_batch();
		if (h->state != HC_READY) {
			return -1;	/* its file went bad */
		}
	}
	if ((uint64_t)h->end + hc.pend_len + n > UINT32_MAX) {
		return -1;		/* 4 GB of texts: enough */
	}
	if (add(h, r->uid, h->end + (uint32_t)hc.pend_len, (uint32_t)n,
	    (r->env != NULL || r->bs != NULL ? HCACHE_HAS_TEXT : 0) |
	    (r->sk != NULL ? HCACHE_HAS_SK : 0)) == -1) {
		return -1;
	}
	(void)hcache_rec_fmt(pend + hc.pend_len, sizeof pend - hc.pend_len,
	    r);
	hc.pend_hc = h;
	hc.pend_len += n;
	if (!timer_armed(&hc.flush) && hc.ev != NULL &&
	    ev_timer_in(hc.ev, &hc.flush, HCACHE_FLUSH_MS) == -1) {
		(void)write_batch();	/* no timer: no batch */
	}
	return 0;
}

size_t
hcache_bytes_per_message(void)
{
	/* An entry, in a table between 3/8 and 3/4 full. */
	return sizeof(struct hc_ent) * 2;
}

size_t
hcache_bytes_shared(void)
{
	/* The batch and the window; imap_hcache.c's two texts and
	 * imap_sort.c's two (the keys' texts, the item made of them). */
	return sizeof pend + sizeof win + 4 * HCACHE_TEXT_MAX;
}

/* --- slots and the file -------------------------------------------- */

static struct hc *
slot_of(struct mbox *mb, int create)
{
	struct hc *fr = NULL;

	if (hc.last != NULL && hc.last->mb == mb) {
		return hc.last;
	}
	for (size_t i = 0; hc.slot != NULL && i < hc.max; i++) {
		if (hc.slot[i].mb == mb) {
			return hc.last = &hc.slot[i];
		}
		if (hc.slot[i].mb == NULL && fr == NULL) {
			fr = &hc.slot[i];
		}
	}
	if (!create || fr == NULL) {
		return NULL;
	}
	memset(fr, 0, sizeof *fr);
	fr->mb = mb;
	fr->fd = -1;
	return hc.last = fr;
}

static int
path_of(const struct hc *h, const char *name, char *out, size_t cap)
{
	return fmt(out, cap, "%s/%s", h->mb->path, name) < (int)cap ? 0 : -1;
}

/* Opens (or creates) the file; a header that is not ours or carries
 * another UIDVALIDITY starts it again. */
static int
open_file(struct hc *h)
{
	char p[MBOX_PATH_MAX];
	unsigned char b[HCACHE_HDR_LEN];
	enum hcache_err err;
	uint32_t uv;
	struct stat st;

	if (path_of(h, HC_NAME, p, sizeof p) == -1) {
		return -1;
	}
	h->fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (h->fd == -1) {
		if (errno != EACCES && errno != EROFS) {
			log_warn("%s", p);	/* else a read-only folder */
		}
		return -1;
	}
	/* A link to another file is never truncated or written. */
	if (fstat(h->fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1) {
		log_warnx("%s: not a plain file; not used", p);
		forget(h);
		return -1;
	}
	h->end = st.st_size > (off_t)UINT32_MAX ? UINT32_MAX :
	    (uint32_t)st.st_size;
	if (pread(h->fd, b, sizeof b, 0) != (ssize_t)sizeof b ||
	    hcache_hdr_parse(b, sizeof b, &uv, &err) == -1 ||
	    uv != mbox_uidvalidity(h->mb)) {
		h->end = 0;
	}
	if (h->end == 0) {
		reset(h);
		return h->state == HC_BROKEN ? -1 : 0;
	}
	h->loaded = HCACHE_HDR_LEN;
	h->state = HC_LOADING;
	h->hint = UINT32_MAX;
	/* The table at its size for the folder at once: not doubled
	 * and rehashed five times while the file is walked. */
	while ((uint64_t)h->mb->n * 4 > (uint64_t)h->cap * 3 &&
	    grow(h) == 0) {
	}
	return 0;
}

/* Starts the file again, empty: truncated to a header. */
static void
reset(struct hc *h)
{
	unsigned char b[HCACHE_HDR_LEN];

	h->n = 0;
	if (h->tab != NULL) {
		memset(h->tab, 0, (size_t)h->cap * sizeof *h->tab);
	}
	if (hc.win_hc == h) {
		hc.win_hc = NULL;
	}
	if (hc.pend_hc == h) {
		hc.pend_hc = NULL;
		hc.pend_len = 0;
	}
	hcache_hdr_fmt(b, mbox_uidvalidity(h->mb));
	if (ftruncate(h->fd, 0) == -1 ||
	    pwrite(h->fd, b, sizeof b, 0) != (ssize_t)sizeof b) {
		log_warn("%s/%s", h->mb->path, HC_NAME);
		forget(h);
		h->state = HC_BROKEN;
		return;
	}
	h->end = h->loaded = HCACHE_HDR_LEN;
	h->state = HC_READY;
}

/* Closes the file and frees the index; the slot stays the folder's. */
static void
forget(struct hc *h)
{
	if (hc.pend_hc == h) {
		hc.pend_hc = NULL;
		hc.pend_len = 0;
	}
	if (hc.win_hc == h) {
		hc.win_hc = NULL;
	}
	if (h->fd != -1) {
		close(h->fd);
		h->fd = -1;
	}
	if (h->tab != NULL) {
		munmap(h->tab, (size_t)h->cap * sizeof *h->tab);
	}
	h->tab = NULL;
	h->cap = h->n = 0;
	h->state = HC_CLOSED;
}

/*
 * Windows of the file into the index, for HCACHE_SLICE_MS at most.
 * Records are not checked here (hcache_get checks each one served),
 * only their headers walked: a record cut by the window's end is read
 * again with the next; one cut by the file's end (a torn write) or a
 * header that cannot be a record's ends the file there: it is
 * truncated, and what followed is made again when asked for.
 */
static void
load_slice(struct hc *h)
{
	uint64_t until = ev_clock_ms() + HCACHE_SLICE_MS;
	enum hcache_err err = HCACHE_OK;
	ssize_t got;
	size_t used, n;
	uint32_t uid;

	hc.win_hc = NULL;	/* the window is reused here */
	do {
		got = pread(h->fd, win, sizeof win, h->loaded);
		if (got < 0) {
			if (errno != EINTR) {
				forget(h);
				h->state = HC_BROKEN;
			}
			return;
		}
		used = 0;
		while ((n = hcache_rec_len(win + used, (size_t)got - used,
		    &uid, &err)) > 0 && n <= (size_t)got - used) {
			/* A later record replaces an earlier one (add);
			 * those of messages expunged since are skipped. */
			if (is_live(h, uid) && add(h, uid, h->loaded +
			    (uint32_t)used, (uint32_t)n,
			    hcache_rec_items(win + used)) == -1) {
				forget(h);
				h->state = HC_BROKEN;
				return;
			}
			used += n;
		}
		if (n > 0) {
			err = HCACHE_E_SHORT;
		}
		h->loaded += (uint32_t)used;
	} while ((size_t)got == sizeof win && used > 0 &&
	    err == HCACHE_E_SHORT && ev_clock_ms() < until);
	if ((size_t)got == sizeof win && used > 0 && err == HCACHE_E_SHORT) {
		return;			/* more at the next slice */
	}
	if (h->loaded < h->end) {
		log_warnx("%s/%s: %s at offset %u; cut there", h->mb->path,
		    HC_NAME, hcache_strerror(err), (unsigned)h->loaded);
		if (ftruncate(h->fd, h->loaded) == -1) {
			forget(h);
			h->state = HC_BROKEN;
			return;
		}
		h->end = h->loaded;
	}
	h->state = HC_READY;
}

static void
flush_timer(struct timer *t, void *arg)
{
	(void)t;
	(void)arg;
	(void)write_batch();
}

/*
 * Appends the batch to its folder's file. The file must still be the
 * one we opened, of the size we left it: otherwise someone truncated,
 * replaced or removed it, and it starts again (the batch is lost: it
 * is a cache).
 */
static int
write_batch(void)
{
	struct hc *h = hc.pend_hc;
	char p[MBOX_PATH_MAX];
	struct stat a, b;
	ssize_t n;

	if (h == NULL || hc.pend_len == 0) {
		hc.pend_hc = NULL;
		return 0;
	}
	if (hc.ev != NULL) {
		ev_timer_cancel(hc.ev, &hc.flush);
	}
	if (path_of(h, HC_NAME, p, sizeof p) == -1 ||
	    fstat(h->fd, &a) == -1 || stat(p, &b) == -1 ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev ||
	    a.st_size != (off_t)h->end) {
		log_warnx("%s: changed by another hand; starting it again", p);
		forget(h);
		if (open_file(h) == -1) {
			h->state = HC_BROKEN;
		}
		return -1;
	}
	n = pwrite(h->fd, pend, hc.pend_len, h->end);
	if (n != (ssize_t)hc.pend_len) {
		/* Disk full or failing: cut back what went, stop caching
		 * this folder until it opens again. */
		log_warn("%s", p);
		(void)ftruncate(h->fd, h->end);
		forget(h);
		h->state = HC_BROKEN;
		return -1;
	}
	h->end += (uint32_t)hc.pend_len;
	h->loaded = h->end;
	hc.pend_hc = NULL;
	hc.pend_len = 0;
	return 0;
}

/* --- the index ----------------------------------------------------- */

/* The entry for uid, or NULL. UIDs are dense and grow: uid times an
 * odd constant spreads them. */
static struct hc_ent *
find(struct hc *h, uint32_t uid)
{
	if (h->cap == 0) {
		return NULL;
	}
	for (uint32_t i = (uid * 2654435761u) & (h->cap - 1);;
	    i = (i + 1) & (h->cap - 1)) {
		if (h->tab[i].uid == uid) {
			return &h->tab[i];
		}
		if (h->tab[i].uid == 0) {
			return NULL;
		}
	}
}

static int
add(struct hc *h, uint32_t uid, uint32_t off, uint32_t len, unsigned items)
{
	struct hc_ent *e = find(h, uid);

	if (e == NULL) {
		if ((uint64_t)(h->n + 1) * 4 > (uint64_t)h->cap * 3 &&
		    grow(h) == -1) {
			return -1;
		}
		for (uint32_t i = (uid * 2654435761u) & (h->cap - 1);;
		    i = (i + 1) & (h->cap - 1)) {
			if (h->tab[i].uid == 0) {
				e = &h->tab[i];
				break;
			}
		}
		e->uid = uid;
		h->n++;
	}
	if (items & HCACHE_HAS_TEXT) {
		e->off = off;
		e->len = len;
	}
	if (items & HCACHE_HAS_SK) {
		e->sk_off = off;
		e->sk_len = len;
	}
	return 0;
}

/* Doubles the table (mmap'ed: it grows with the folder, as the
 * mailbox's own arrays do). */
static int
grow(struct hc *h)
{
	uint32_t cap = h->cap ? h->cap * 2 : HC_TAB_MIN;
	struct hc_ent *t;

	if (cap == 0 || cap > MBOX_MSGS_MAX * 2) {
		return -1;
	}
	t = mmap(NULL, (size_t)cap * sizeof *t, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED) {
		return -1;
	}
	for (uint32_t k = 0; k < h->cap; k++) {
		uint32_t i;

		if (h->tab[k].uid == 0) {
			continue;
		}
		for (i = (h->tab[k].uid * 2654435761u) & (cap - 1);
		    t[i].uid != 0; i = (i + 1) & (cap - 1)) {
		}
		t[i] = h->tab[k];
	}
	if (h->tab != NULL) {
		munmap(h->tab, (size_t)h->cap * sizeof *h->tab);
	}
	h->tab = t;
	h->cap = cap;
	return 0;
}

/* The octets of the record at off, len long: in the batch, in the
 * window, or read into the window (one pread of up to HCACHE_WIN_MAX);
 * NULL when the file holds less than the index says. */
static const unsigned char *
rec_at(struct hc *h, uint32_t off, uint32_t len)
{
	ssize_t got;

	if (off >= h->end) {
		if (hc.pend_hc != h || off - h->end + len > hc.pend_len) {
			return NULL;
		}
		return pend + (off - h->end);
	}
	if (hc.win_hc != h || off < hc.win_off ||
	    off + len > hc.win_off + hc.win_len) {
		/* A whole window when the records are read in file order
		 * (this one starts in or at the end of the last window),
		 * else a page or the record: SORT refines ties in sort
		 * order, all over the file, and copying 64 KiB for each
		 * record made that 5x slower. */
		size_t want = hc.win_hc == h && off >= hc.win_off &&
		    off <= hc.win_off + hc.win_len ? sizeof win :
		    len > HCACHE_WIN_SMALL ? len : HCACHE_WIN_SMALL;

		hc.win_hc = NULL;
		do {
			got = pread(h->fd, win, want, off);
		} while (got < 0 && errno == EINTR);
		if (got < (ssize_t)len) {
			return NULL;
		}
		hc.win_hc = h;
		hc.win_off = off;
		hc.win_len = (uint32_t)got;
	}
	return win + (off - hc.win_off);
}

/* compact: the record at off into the batch buffer at *o, which is
 * written out to fd first when it is full; 0, or -1 when a write
 * failed (a record gone bad is left out). */
static int
copy_rec(int fd, size_t *o, struct hc *h, uint32_t off, uint32_t len)
{
	const unsigned char *r;

	if (len == 0 || (r = rec_at(h, off, len)) == NULL) {
		return 0;
	}
	if (*o + len > sizeof pend) {
		if (write(fd, pend, *o) != (ssize_t)*o) {
			return -1;
		}
		*o = 0;
	}
	memcpy(pend + *o, r, len);
	*o += len;
	return 0;
}

/* Records are mostly in UID order (appended as messages are read):
 * the message after the last one found is tried before a search. */
static int
is_live(struct hc *h, uint32_t uid)
{
	const struct mbox *mb = h->mb;
	uint32_t i = h->hint + 1;

	if (i >= mb->n || mb->msgs[i].uid != uid) {
		i = mbox_find_uid(mb, uid);
	}
	if (i == UINT32_MAX) {
		return 0;
	}
	h->hint = i;
	return !(mb->state[i] & MB_GONE);
}

/*
 * Rewrites the file with the live records only, in UID order, into
 * wren-cache.tmp renamed over it. At close only, when more than half
 * is dead: reads and writes of the live part, in window-sized pieces.
 */
static void
compact(struct hc *h)
{
	char p[MBOX_PATH_MAX], t[MBOX_PATH_MAX];
	size_t o = HCACHE_HDR_LEN;
	int fd, ok = 1;

	if (path_of(h, HC_NAME, p, sizeof p) == -1 ||
	    path_of(h, HC_TMP, t, sizeof t) == -1 || write_batch() == -1) {
		return;			/* the batch buffer is needed */
	}
	fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		log_warn("%s", t);
		return;
	}
	/* The batch buffer is free: its batch went just before. */
	hcache_hdr_fmt(pend, mbox_uidvalidity(h->mb));
	for (uint32_t i = 0; ok && i < h->mb->n; i++) {
		const struct mbox_msg *m = &h->mb->msgs[i];
		struct hc_ent *e;

		if (h->mb->state[i] & MB_GONE || (e = find(h, m->uid)) ==
		    NULL) {
			continue;
		}
		ok = copy_rec(fd, &o, h, e->off, e->len) == 0 &&
		    (e->sk_off == e->off || copy_rec(fd, &o, h, e->sk_off,
		    e->sk_len) == 0);
	}
	if (ok && o > 0) {
		ok = write(fd, pend, o) == (ssize_t)o;
	}
	hc.pend_len = 0;
	if (close(fd) == -1 || !ok || rename(t, p) == -1) {
		log_warn("%s", t);
		(void)unlink(t);
	}
}

#endif /* WREN_IMAP_HCACHE */
