/* SPDX-License-Identifier: ISC */
/*
 * mbox_modseq.c - a folder's mod-sequences (RFC 7162 3.1.1, 3.2.10) on
 * disk: wren-modseq (format and recovery rules in store/modseq.h) read
 * when the folder opens, appended in batches while it is open, closed
 * with an E record.
 *
 * In memory nothing is added per message: struct mbox_msg's 32-bit
 * change counter (mod) becomes the offset of the message's modseq from
 * the folder's base, so MODSEQ = ms_base + mod; a folder keeps a few
 * words more (struct mbox). Writes, for an SD card:
 *  - a flag change costs one "M" line (about 30 bytes), appended with
 *    the others of the last MODSEQ_FLUSH_MS in one write, unsynced;
 *  - every MODSEQ_STEP values, one "C" line, synced before the value
 *    above the old ceiling is handed out;
 *  - at close (the last session leaves), the batch, one sync, then
 *    "E"; nothing when nothing changed; the file is written anew
 *    (temporary file, renamed) only when it holds more than twice the
 *    records it needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* rename */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "core/timer.h"
#include "store/maildir.h"
#include "store/mbox_int.h"
#include "store/modseq.h"

#define MODSEQ_FLUSH_MS	2000	/* batch window of M records */
#define MS_SLACK	1024	/* records over 2 x live before a rewrite */
#define MS_REBASE	(UINT32_C(1) << 31)	/* offsets: a new base */

static struct {
	struct ev	*ev;
	struct timer	 flush;
} ms;

/* Reads and batches go through mbox_disk.c's 64 KB scratch (never in
 * use then: no bss of our own); a ceiling, which may be written from
 * inside a uidlist write (a new message's modseq), formats on the
 * stack. */
static char	*ms_buf;
static size_t	 ms_cap;

static void	flush_run(struct timer *, void *);
static int	ms_path(const struct mbox *, const char *suffix, char *,
		    size_t);
static int	read_file(struct mbox *, struct modseq_load *);
static int	write_ceiling(struct mbox *, uint32_t ceil);
static int	snapshot(struct mbox *, int end);
static size_t	put_rec(struct mbox *, char *, size_t, enum modseq_kind,
		    uint32_t uid, uint32_t rel, const struct mbox_msg *);
static size_t	add(struct mbox *, size_t, enum modseq_kind, uint32_t uid,
		    uint32_t rel, const struct mbox_msg *);
static int	append_batch(struct mbox *, int end);

void
mbox_ms_init(struct ev *ev)
{
	ms.ev = ev;
	timer_init(&ms.flush, flush_run, NULL);
	ms_buf = mbox_disk_scratch(&ms_cap);
}

void
mbox_ms_shutdown(void)
{
	if (ms.ev != NULL) {
		ev_timer_cancel(ms.ev, &ms.flush);
	}
}

int
mbox_ms_load(struct mbox *mb)
{
	struct modseq_load ld;
	uint32_t recorded = 0, fresh, i;
	int trusted, changed = 0;

	modseq_load_init(&ld);
	for (i = 0; i < mb->n; i++) {
		mb->msgs[i].mod = 0;
	}
	if (read_file(mb, &ld) == -1 || !ld.header ||
	    ld.uidvalidity != mb->hdr.uidvalidity ||
	    modseq_load_fresh(&ld) - ld.base > MS_REBASE) {
		/* Lost or foreign: a new sequence above the clock floor
		 * and above anything the old file allowed. Also when the
		 * 32-bit offsets near their end (billions of changes):
		 * clients then resync flags once. */
		struct timespec ts;
		uint64_t base;

		(void)clock_gettime(CLOCK_REALTIME, &ts);
		base = modseq_floor((int64_t)ts.tv_sec * 1000000 +
		    ts.tv_nsec / 1000);

		if (ld.header && modseq_load_fresh(&ld) > base) {
			base = modseq_load_fresh(&ld);
		}
		mb->ms_base = base;
		mb->modseq = 1;
		for (i = 0; i < mb->n; i++) {
			mb->msgs[i].mod = 1;
		}
		mb->ms_exp = 1;		/* anything may have gone */
		mb->ms_ceil = 1 + MODSEQ_STEP;
		mb->ms_ready = 1;
		mb->ms_flushed = mb->modseq;
		mb->ms_exp_flushed = mb->ms_exp;
		mb->ms_clean = 0;
		if (snapshot(mb, 0) == -1) {
			log_warn("%s/%s", mb->path, MODSEQ_FILE);
		}
		return 0;
	}
	trusted = modseq_load_trusted(&ld);
	mb->ms_base = ld.base;
	fresh = (uint32_t)(modseq_load_fresh(&ld) - ld.base);
	for (i = 0; i < mb->n; i++) {
		struct mbox_msg *m = &mb->msgs[i];

		if (mb->state[i] & MB_GONE) {
			continue;
		}
		if (m->mod != 0) {
			recorded++;
		}
		if (!trusted || m->mod == 0 || m->mod == UINT32_MAX) {
			/* Unknown here, changed behind our back, or the
			 * file may have lost its last batch. */
			m->mod = fresh;
			changed = 1;
		}
	}
	mb->modseq = changed || !trusted ? fresh : fresh - 1;
	mb->ms_exp = ld.vanished > ld.base ? (uint32_t)(ld.vanished -
	    ld.base) : 0;
	if (!trusted || recorded < ld.count) {
		/* Expunged while we were away (or maybe, after a crash). */
		mb->ms_exp = fresh;
		mb->modseq = fresh;
	}
	mb->ms_ceil = (uint32_t)(ld.ceil - ld.base);
	mb->ms_flushed = changed ? fresh - 1 : mb->modseq;
	mb->ms_exp_flushed = mb->ms_exp == fresh ? 0 : mb->ms_exp;
	mb->ms_ready = 1;
	if (mb->modseq > mb->ms_ceil && write_ceiling(mb, mb->modseq +
	    MODSEQ_STEP) == -1) {
		log_warn("%s/%s", mb->path, MODSEQ_FILE);
	}
	mb->ms_clean = trusted && !changed && mb->ms_exp_flushed == mb->ms_exp;
	mbox_ms_dirty(mb);
	return 0;
}

uint32_t
mbox_ms_next(struct mbox *mb)
{
	if (mb->ms_ready && mb->modseq + 1 > mb->ms_ceil) {
		/* The only synced write: values above the old ceiling
		 * exist only once the new one is on disk. */
		if (write_ceiling(mb, mb->modseq + 1 + MODSEQ_STEP) == -1) {
			log_warn("%s/%s", mb->path, MODSEQ_FILE);
		}
	}
	return ++mb->modseq;
}

void
mbox_ms_dirty(struct mbox *mb)
{
	if (!mb->ms_ready || (mb->ms_flushed == mb->modseq &&
	    mb->ms_exp_flushed == mb->ms_exp)) {
		return;
	}
	if (ms.ev != NULL && !timer_armed(&ms.flush)) {
		(void)ev_timer_in(ms.ev, &ms.flush, MODSEQ_FLUSH_MS);
	}
}

void
mbox_ms_close(struct mbox *mb)
{
	uint32_t live = mb->n - mb->ngone;

	if (!mb->ms_ready) {
		return;
	}
	if (mb->ms_records > 2 * (uint64_t)live + MS_SLACK &&
	    snapshot(mb, 1) == 0) {
		mb->ms_ready = 0;
		return;
	}
	if (append_batch(mb, 1) == -1) {
		log_warn("%s/%s", mb->path, MODSEQ_FILE);
	}
	mb->ms_ready = 0;
}

uint64_t
mbox_modseq(const struct mbox *mb, const struct mbox_msg *m)
{
	return mb->ms_base + m->mod;
}

uint64_t
mbox_highestmodseq(const struct mbox *mb)
{
	return mb->ms_base + mb->modseq;
}

uint64_t
mbox_vanished_since(const struct mbox *mb)
{
	return mb->ms_exp == 0 ? 0 : mb->ms_base + mb->ms_exp;
}

/* --- helpers -------------------------------------------------------- */

static void
flush_run(struct timer *t, void *arg)
{
	(void)t;
	(void)arg;
	mbox_ms_flush_all();
}

void
mbox_ms_flush(struct mbox *mb)
{
	if (mb->ms_ready && (mb->ms_flushed != mb->modseq ||
	    mb->ms_exp_flushed != mb->ms_exp) && append_batch(mb, 0) == -1) {
		log_warn("%s/%s", mb->path, MODSEQ_FILE);
	}
}

static int
ms_path(const struct mbox *mb, const char *suffix, char *out, size_t cap)
{
	if (fmt(out, cap, "%s/%s%s", mb->path, MODSEQ_FILE, suffix) >=
	    (int)cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Feeds the file to ld, applying M records to the index: a record's
 * offset when the message still has the flags it records, UINT32_MAX
 * when they differ. -1 when there is no file. */
static int
read_file(struct mbox *mb, struct modseq_load *ld)
{
	char p[MBOX_PATH_MAX];
	size_t have = 0;
	int fd;

	mb->ms_records = 0;
	if (ms_path(mb, "", p, sizeof p) == -1 ||
	    (fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, ms_buf + have, ms_cap - have);
		size_t used = 0;

		if (n <= 0) {
			break;
		}
		have += (size_t)n;
		for (;;) {
			char *nl = memchr(ms_buf + used, '\n', have - used);
			struct modseq_rec r;
			uint32_t idx;

			if (nl == NULL) {
				break;
			}
			if (modseq_load_line(ld, ms_buf + used, (size_t)(nl -
			    (ms_buf + used)), &r) == MODSEQ_MSG &&
			    (idx = mbox_find_uid(mb, r.uid)) != UINT32_MAX &&
			    !(mb->state[idx] & MB_GONE)) {
				const struct mbox_msg *m = &mb->msgs[idx];

				mb->msgs[idx].mod = m->flags == r.flags &&
				    m->keywords == r.keywords ?
				    (uint32_t)(r.value - ld->base) :
				    UINT32_MAX;
			}
			mb->ms_records++;
			used = (size_t)(nl - ms_buf) + 1;
		}
		if (used == 0 && have == ms_cap) {
			ld->stopped = 1;	/* no line is this long */
			ld->clean = 0;
			break;
		}
		memmove(ms_buf, ms_buf + used, have - used);
		have -= used;
	}
	if (have > 0) {
		ld->clean = 0;	/* a torn last line */
	}
	close(fd);
	return 0;
}

static size_t
put_rec(struct mbox *mb, char *buf, size_t cap, enum modseq_kind k,
    uint32_t uid, uint32_t rel, const struct mbox_msg *m)
{
	struct modseq_rec r;

	memset(&r, 0, sizeof r);
	r.kind = k;
	r.uid = uid;
	r.value = mb->ms_base + rel;
	if (k == MODSEQ_HEADER) {
		r.uidvalidity = mb->hdr.uidvalidity;
		r.value = mb->ms_base;
	} else if (k == MODSEQ_END) {
		r.count = mb->n - mb->ngone;
	}
	if (m != NULL) {
		r.flags = m->flags;
		r.keywords = m->keywords;
	}
	mb->ms_records++;
	return modseq_format(buf, cap, &r);
}

/* A record at ms_buf + len: the new length. */
static size_t
add(struct mbox *mb, size_t len, enum modseq_kind k, uint32_t uid,
    uint32_t rel, const struct mbox_msg *m)
{
	return len + put_rec(mb, ms_buf + len, ms_cap - len, k, uid, rel, m);
}

static int
write_ceiling(struct mbox *mb, uint32_t ceil)
{
	char p[MBOX_PATH_MAX], line[MODSEQ_LINE_MAX + 1];
	size_t n;
	int fd, rc;

	/* Never left half-way: in memory the ceiling moves even when
	 * the disk refuses (logged), or every change would retry. */
	mb->ms_ceil = ceil;
	mb->ms_clean = 0;
	if (ms_path(mb, "", p, sizeof p) == -1 ||
	    (fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC)) == -1) {
		/* Deleted meanwhile: the next batch writes it whole. Safe
		 * to go on: a restart without the file starts above the
		 * clock floor anyway. */
		return errno == ENOENT ? 0 : -1;
	}
	n = put_rec(mb, line, sizeof line, MODSEQ_CEIL, 0, ceil, NULL);
	rc = store_write_all(fd, line, n) == -1 || fdatasync(fd) == -1 ?
	    -1 : 0;
	close(fd);
	return rc;
}

/* The whole file anew: header, ceiling, a record per message, the
 * expunge mark, and E when end. Written aside, synced, renamed. */
static int
snapshot(struct mbox *mb, int end)
{
	char p[MBOX_PATH_MAX], tmp[MBOX_PATH_MAX];
	size_t len = 0;
	int fd, rc = 0;

	if (ms_path(mb, "", p, sizeof p) == -1 || ms_path(mb, ".tmp", tmp,
	    sizeof tmp) == -1 || (fd = open(tmp, O_WRONLY | O_CREAT |
	    O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		return -1;
	}
	mb->ms_records = 0;
	len = add(mb, len, MODSEQ_HEADER, 0, 0, NULL);
	len = add(mb, len, MODSEQ_CEIL, 0, mb->ms_ceil, NULL);
	if (mb->ms_exp > 0) {
		len = add(mb, len, MODSEQ_EXP, 0, mb->ms_exp, NULL);
	}
	for (uint32_t i = 0; i < mb->n && rc == 0; i++) {
		if (mb->state[i] & MB_GONE) {
			continue;
		}
		if (len + MODSEQ_LINE_MAX > ms_cap) {
			rc = store_write_all(fd, ms_buf, len);
			len = 0;
		}
		len = add(mb, len, MODSEQ_MSG, mb->msgs[i].uid,
		    mb->msgs[i].mod, &mb->msgs[i]);
	}
	if (end) {
		len = add(mb, len, MODSEQ_END, 0, mb->modseq, NULL);
	}
	if (rc == 0 && (store_write_all(fd, ms_buf, len) == -1 ||
	    fdatasync(fd) == -1)) {
		rc = -1;
	}
	close(fd);
	if (rc == 0 && rename(tmp, p) == -1) {
		rc = -1;
	}
	if (rc == -1) {
		(void)unlink(tmp);
		return -1;
	}
	mb->ms_flushed = mb->modseq;
	mb->ms_exp_flushed = mb->ms_exp;
	mb->ms_clean = end;
	return store_fsync_dir(mb->path);
}

/*
 * Appends the M records of every message changed since the last batch
 * and the expunge mark. With end: synced, then E (so that an E on disk
 * always follows the records it vouches for); nothing at all when
 * nothing changed since the file last ended in E.
 */
static int
append_batch(struct mbox *mb, int end)
{
	char p[MBOX_PATH_MAX];
	size_t len = 0;
	int fd, rc = 0, wrote = 0;

	if (mb->ms_flushed == mb->modseq && mb->ms_exp_flushed ==
	    mb->ms_exp && (!end || mb->ms_clean)) {
		return 0;
	}
	if (ms_path(mb, "", p, sizeof p) == -1) {
		return -1;
	}
	fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd == -1) {
		/* Deleted while open: our memory is still right. */
		return errno == ENOENT ? snapshot(mb, end) : -1;
	}
	for (uint32_t i = 0; i < mb->n && rc == 0; i++) {
		const struct mbox_msg *m = &mb->msgs[i];

		if (mb->state[i] & MB_GONE || m->mod <= mb->ms_flushed) {
			continue;
		}
		if (len + MODSEQ_LINE_MAX > ms_cap) {
			rc = store_write_all(fd, ms_buf, len);
			len = 0;
		}
		len = add(mb, len, MODSEQ_MSG, m->uid, m->mod, m);
		wrote = 1;
	}
	if (mb->ms_exp_flushed != mb->ms_exp) {
		len = add(mb, len, MODSEQ_EXP, 0, mb->ms_exp, NULL);
		wrote = 1;
	}
	if (rc == 0 && len > 0 && store_write_all(fd, ms_buf, len) == -1) {
		rc = -1;
	}
	if (rc == 0 && end) {
		if (wrote && fdatasync(fd) == -1) {
			rc = -1;
		} else {
			len = put_rec(mb, ms_buf, ms_cap, MODSEQ_END, 0,
			    mb->modseq, NULL);
			rc = store_write_all(fd, ms_buf, len);
		}
	}
	close(fd);
	if (rc == 0) {
		mb->ms_flushed = mb->modseq;
		mb->ms_exp_flushed = mb->ms_exp;
		mb->ms_clean = end;
	}
	return rc;
}
