/* SPDX-License-Identifier: ISC */
/*
 * imap_copy.c - COPY (RFC 3501 6.4.7) and MOVE (RFC 6851), with
 * COPYUID (RFC 4315 3).
 *
 * A job: the set is walked in order and each message hard-linked to
 * its final name in the destination (one inode, no second write on an
 * SD card; a copy where links cannot be made), MBOX_COPY_MAX at a
 * time; each batch is committed through the store transaction (one
 * directory fsync, one uidlist fdatasync) and numbered in order, so
 * the destination UIDs follow the source set. A batch that
 * fails takes the earlier ones with it (COPY is all or nothing). MOVE
 * then expunges the sources: "* OK [COPYUID ...]", the EXPUNGEs, the
 * tagged OK.
 *
 *   start --> link a batch --> commit --> (round) --> numbered --+
 *               ^                                                |
 *               +---------------- more in the set ---------------+
 *   set done --> [MOVE: expunge] --> OK [COPYUID v src dst]
 *
 * The junk filter (store/junk.h) learns here, the one place every
 * MOVE and COPY passes (a COPY then EXPUNGE as Thunderbird does
 * without MOVE included): a message copied into Junk is trained as
 * spam, one copied out of Junk into any folder but Trash as ham (spam
 * deleted from Junk goes to Trash: that says nothing about it). Each
 * source file is opened as it is linked and queued for the training
 * job (read in slices later); a full queue makes this job wait.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/fmt.h"
#include "core/log.h"
#include "imap/imap_int.h"
#include "store/junk.h"

static void	copy_step(struct imap_session *);
static void	copy_abort(struct imap_session *);
static void	batch_done(void *, int err, uint32_t uidvalidity,
		    uint32_t first, size_t n);
static int	set_ranges(struct imap_session *, const struct imap_arg *);
static int	range_cmp(const void *, const void *);
static int	in_set(void *, uint32_t uid);
static int	next_message(struct imap_session *);
static void	finish(struct imap_session *);
static void	fail(struct imap_session *, const char *code,
		    const char *text);
static void	wake(struct imap_session *);
static int	train_way(struct imap_session *, const char *dst);
static int	is_folder(const char *path, const char *name);

static void
start(struct imap_session *s, int move)
{
	struct imap_ws *ws = s->ws;
	struct imap_copy *cp = &ws->u.copy;
	const struct imap_arg *set = &ws->cmd.args[0];
	char name[IMAP_MAILBOX_MAX + 1], path[MBOX_PATH_MAX];
	size_t nlen;
	struct err e;

	if (move && s->view.readonly) {
		imap_tagged(s, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (imap_check_set(s, set) == -1) {
		return;
	}
	if (imap_name_arg(s, &ws->cmd.args[set->next], name, sizeof name,
	    &nlen) == -1 || imap_mailbox_path(s, name, nlen, path,
	    sizeof path) == -1) {
		imap_tagged(s, "NO", "[TRYCREATE] No such mailbox");
		return;
	}
	cp->nranges = cp->ri = 0;
	if (set_ranges(s, set) == -1) {
		return;
	}
	memset(&cp->save, 0, sizeof cp->save);
	if (mbox_save_begin(&cp->save, path, &e) == -1) {
		if (errno == ENOENT) {
			imap_tagged(s, "NO", "[TRYCREATE] No such mailbox");
		} else if (errno == EMFILE) {
			imap_tagged(s, "NO", "[UNAVAILABLE] Too many mailboxes "
			    "open; try again later");
		} else {
			conn_log(s->c, LOG_LVL_WARN, "copy: %s", e.msg);
			imap_tagged(s, "NO", "[SERVERBUG] Cannot copy now");
		}
		return;
	}
	cp->move = move;
	cp->train = train_way(s, path);
	cp->begun = 1;
	cp->waiting = cp->err = cp->src_cut = 0;
	cp->uidvalidity = 0;
	mbox_uidset_init(&cp->src);
	mbox_uidset_init(&cp->dst);
	memset(&ws->job, 0, sizeof ws->job);
	ws->job.st.fd = -1;
	ws->job.uid = ws->cmd.uid;
	imap_job_run(s, copy_step, copy_abort);
}

void
imap_cmd_copy(struct imap_session *s)
{
	start(s, 0);
}

void
imap_cmd_move(struct imap_session *s)
{
	start(s, 1);
}

/* One batch: linked, then committed; the next step comes when the
 * store has numbered it. */
static void
copy_step(struct imap_session *s)
{
	struct imap_copy *cp = &s->ws->u.copy;
	struct imap_job *j = &s->ws->job;

	if (cp->waiting) {
		return;
	}
	if (cp->err != 0) {
		fail(s, cp->err == ENOSPC || cp->err == EDQUOT ?
		    "[OVERQUOTA] " : "[SERVERBUG] ", "Cannot copy the "
		    "messages");
		return;
	}
	while (!mbox_save_full(&cp->save) && (cp->train < 0 ||
	    junk_train_room() > 0) && next_message(s)) {
		if (mbox_save_copy(&cp->save, &s->view, j->msg) == -1) {
			if (errno == ENOENT) {
				fail(s, "[EXPUNGEISSUED] ", "Some of the "
				    "messages were expunged meanwhile");
			} else if (errno == EAGAIN) {
				fail(s, "[INUSE] ", "The mailbox is locked; "
				    "try again");
			} else {
				fail(s, errno == ENOSPC || errno == EDQUOT ?
				    "[OVERQUOTA] " : "[SERVERBUG] ", "Cannot "
				    "copy the messages");
			}
			return;
		}
		if (mbox_uidset_add(&cp->src, j->msg->uid) == -1) {
			cp->src_cut = 1;
		}
		if (cp->train >= 0) {
			int fd = mbox_open_msg(s->view.mb, j->msg, NULL);

			if (fd == -1 || junk_train(s->home, fd,
			    cp->train) == -1) {
				conn_log(s->c, LOG_LVL_WARN, "junk: message "
				    "%u not trained", j->msg->uid);
			}
		}
		j->msg = NULL;
		j->count++;
	}
	if (cp->save.n == 0 && cp->train >= 0 && junk_train_room() == 0) {
		imap_job_yield(s);	/* the training queue drains */
		return;
	}
	if (cp->save.n == 0) {
		finish(s);
		return;
	}
	cp->waiting = 1;
	if (mbox_save_commit(&cp->save, batch_done, s) == -1) {
		cp->waiting = 0;
		fail(s, errno == EAGAIN ? "[INUSE] " : "[SERVERBUG] ",
		    errno == EAGAIN ? "The mailbox is locked; try again" :
		    "Cannot copy the messages");
	}
}

static void
batch_done(void *arg, int err, uint32_t uidvalidity, uint32_t first,
    size_t n)
{
	struct imap_session *s = arg;
	struct imap_copy *cp = &s->ws->u.copy;

	cp->waiting = 0;
	cp->err = err;
	if (err == 0) {
		cp->uidvalidity = uidvalidity;
		if (n > 0 && mbox_uidset_add_range(&cp->dst, first,
		    first + (uint32_t)n - 1) == -1) {
			cp->src_cut = 1;
		}
	}
	wake(s);	/* the next step, from the loop */
}

/*
 * The store's callback runs from a round (an fd handler or the
 * pre-flush hook), never from a step of this job: the step may run
 * this very turn, from a timer due now, instead of imap_job_yield's
 * 1 ms (which guards a step that yields to itself), a sleep every
 * APPEND or COPY would pay after its sync.
 */
static void
wake(struct imap_session *s)
{
	if (ev_timer_in(s->c->table->ev, &s->job_tick, 0) == -1) {
		imap_job_yield(s);
	}
}

/*
 * The set as sorted, merged UID ranges, once at the start: a message
 * named twice is copied once (a set is a set), the walk is in UID
 * order, and MOVE expunges exactly what the set named however
 * scattered its UIDs are. Sequence numbers become UIDs now: the view
 * does not change under the job (no EXPUNGE is told meanwhile). 0, or
 * -1 with a reply sent.
 */
static int
set_ranges(struct imap_session *s, const struct imap_arg *set)
{
	struct imap_copy *cp = &s->ws->u.copy;
	struct imap_seqset_iter it;
	uint32_t lo, hi;
	size_t n = 0;

	imap_seqset_begin(&it, set->p, set->len, s->ws->cmd.uid ?
	    mbox_view_last_uid(&s->view) : s->view.exists);
	while (imap_seqset_next(&it, &lo, &hi) == 1) {
		if (hi == 0) {
			continue;	/* "*" in an empty mailbox */
		}
		if (!s->ws->cmd.uid) {
			const struct mbox_msg *a = mbox_view_seq(&s->view, lo);
			const struct mbox_msg *b = mbox_view_seq(&s->view, hi);

			if (a == NULL || b == NULL) {
				continue;	/* checked before: cannot be */
			}
			lo = a->uid;
			hi = b->uid;
		}
		if (n == IMAP_COPY_RANGES_MAX) {
			imap_tagged(s, "NO", "[LIMIT] Sequence set too long");
			return -1;
		}
		cp->range[n].lo = lo;
		cp->range[n].hi = hi;
		n++;
	}
	qsort(cp->range, n, sizeof cp->range[0], range_cmp);
	cp->nranges = 0;
	for (size_t i = 0; i < n; i++) {
		struct imap_uid_range *last = cp->nranges > 0 ?
		    &cp->range[cp->nranges - 1] : NULL;

		if (last != NULL && (uint64_t)cp->range[i].lo <=
		    (uint64_t)last->hi + 1) {
			if (cp->range[i].hi > last->hi) {
				last->hi = cp->range[i].hi;
			}
		} else {
			cp->range[cp->nranges++] = cp->range[i];
		}
	}
	return 0;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct imap_uid_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* MOVE's expunge: 1 when the set named uid (a binary search). */
static int
in_set(void *arg, uint32_t uid)
{
	const struct imap_copy *cp = arg;
	size_t lo = 0, hi = cp->nranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uid < cp->range[mid].lo) {
			hi = mid;
		} else if (uid > cp->range[mid].hi) {
			lo = mid + 1;
		} else {
			return 1;
		}
	}
	return 0;
}

/* The next message of the set into j->msg: 1, or 0 at the end. */
static int
next_message(struct imap_session *s)
{
	struct imap_copy *cp = &s->ws->u.copy;
	struct imap_job *j = &s->ws->job;

	while (cp->ri < cp->nranges) {
		const struct imap_uid_range *r = &cp->range[cp->ri];
		const struct mbox_msg *m;

		if (j->cur < r->lo) {
			j->cur = r->lo;
		}
		m = mbox_view_uid_ge(&s->view, j->cur, &j->seq);
		if (m == NULL || m->uid > r->hi) {
			cp->ri++;
			continue;
		}
		j->msg = m;
		if (m->uid == UINT32_MAX) {
			cp->ri = cp->nranges;	/* no UID after it */
		} else {
			j->cur = m->uid + 1;
		}
		return 1;
	}
	return 0;
}

static void
finish(struct imap_session *s)
{
	struct imap_copy *cp = &s->ws->u.copy;
	char src[IMAP_UIDSET_TEXT_MAX], dst[IMAP_UIDSET_TEXT_MAX];
	char code[2 * IMAP_UIDSET_TEXT_MAX + 32];
	const char *verb = cp->move ? "MOVE" : "COPY";
	int have = 0;

	if (cp->src.n > 0 && !cp->src_cut && !cp->src.overflow &&
	    !cp->dst.overflow && mbox_uidset_format(&cp->src, src,
	    sizeof src) < sizeof src && mbox_uidset_format(&cp->dst, dst,
	    sizeof dst) < sizeof dst) {
		have = fmt(code, sizeof code, "[COPYUID %u %s %s] ",
		    cp->uidvalidity, src, dst) < (int)sizeof code;
	}
	mbox_save_end(&cp->save);
	cp->begun = 0;
	if (cp->move) {
		if (have) {
			(void)imap_outf(s, "* OK %sMoved\r\n", code);
		}
		imap_updates(s, 1);
		if (cp->src.n > 0 && mbox_expunge_uids(&s->view, in_set, cp,
		    imap_update_event, s) == -1) {
			imap_tagged(s, "NO", "Copied, but some messages could "
			    "not be removed from this mailbox");
			imap_job_done(s);
			return;
		}
		imap_tagged(s, "OK", "%s%s completed", s->ws->cmd.uid ?
		    "UID " : "", verb);
	} else {
		imap_updates(s, 1);
		imap_tagged(s, "OK", "%s%s%s completed", have ? code : "",
		    s->ws->cmd.uid ? "UID " : "", verb);
	}
	imap_job_done(s);
}

/* A batch failed: the earlier ones go too, then NO. */
static void
fail(struct imap_session *s, const char *code, const char *text)
{
	copy_abort(s);
	imap_tagged(s, "NO", "%s%s", code, text);
	imap_job_done(s);
}

static void
copy_abort(struct imap_session *s)
{
	struct imap_copy *cp = &s->ws->u.copy;

	if (!cp->begun) {
		return;
	}
	mbox_save_abort(&cp->save);
	if (cp->dst.n > 0 && mbox_save_undo(&cp->save, &cp->dst) == -1) {
		conn_log(s->c, LOG_LVL_WARN, "copy: copies of a failed COPY "
		    "could not all be removed");
	}
	mbox_save_end(&cp->save);
	cp->begun = 0;
}

/* Which way a COPY or MOVE into dst trains the junk filter (see the
 * top comment): 1 spam, 0 ham, -1 not at all. */
static int
train_way(struct imap_session *s, const char *dst)
{
	if (!junk_on(s->home)) {
		return -1;
	}
	if (is_folder(dst, "Junk")) {
		return is_folder(mbox_path(s->view.mb), "Junk") ? -1 : 1;
	}
	if (is_folder(mbox_path(s->view.mb), "Junk") &&
	    !is_folder(dst, "Trash")) {
		return 0;
	}
	return -1;
}

/* 1 when path is the account's top-level folder name (Maildir/.name). */
static int
is_folder(const char *path, const char *name)
{
	size_t n = strlen(path), k = strlen(name);

	return n > k + 2 && path[n - k - 2] == '/' && path[n - k - 1] ==
	    '.' && strcmp(path + n - k, name) == 0;
}
