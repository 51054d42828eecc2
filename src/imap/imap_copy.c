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
 */
#include <errno.h>
#include <string.h>

#include "core/fmt.h"
#include "core/log.h"
#include "imap/imap_int.h"

static void	copy_step(struct imap_session *);
static void	copy_abort(struct imap_session *);
static void	batch_done(void *, int err, uint32_t uidvalidity,
		    uint32_t first, size_t n);
static int	next_message(struct imap_session *);
static void	finish(struct imap_session *);
static void	fail(struct imap_session *, const char *code,
		    const char *text);

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
	if (imap_arg_str(&ws->cmd.args[set->next], name, sizeof name,
	    &nlen) == -1 || imap_mailbox_path(s, name, nlen, path,
	    sizeof path) == -1) {
		imap_tagged(s, "NO", "[TRYCREATE] No such mailbox");
		return;
	}
	memset(cp, 0, sizeof *cp);
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
	cp->begun = 1;
	mbox_uidset_init(&cp->src);
	mbox_uidset_init(&cp->dst);
	memset(&ws->job, 0, sizeof ws->job);
	ws->job.st.fd = -1;
	ws->job.uid = ws->cmd.uid;
	imap_seqset_begin(&ws->job.it, set->p, set->len, ws->job.uid ?
	    mbox_view_last_uid(&s->view) : s->view.exists);
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
	while (!mbox_save_full(&cp->save) && next_message(s)) {
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
		j->msg = NULL;
		j->count++;
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
	imap_job_yield(s);	/* the next step, from the loop */
}

/* The next message of the set into j->msg: 1, or 0 at the end. */
static int
next_message(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;

	for (;;) {
		if (j->hi == 0 || j->cur > j->hi || j->cur == 0) {
			if (imap_seqset_next(&j->it, &j->lo, &j->hi) != 1) {
				return 0;
			}
			if (j->hi == 0) {
				continue;	/* "*" in an empty mailbox */
			}
			j->cur = j->lo == 0 ? 1 : j->lo;
		}
		if (j->uid) {
			const struct mbox_msg *m = mbox_view_uid_ge(&s->view,
			    j->cur, &j->seq);

			if (m == NULL || m->uid > j->hi) {
				j->cur = j->hi = 0;
				continue;
			}
			j->msg = m;
			j->cur = m->uid == UINT32_MAX ? 0 : m->uid + 1;
			if (j->cur == 0) {
				j->hi = 0;
			}
			return 1;
		}
		j->msg = mbox_view_seq(&s->view, j->cur);
		j->seq = j->cur;
		j->cur = j->cur == UINT32_MAX ? 0 : j->cur + 1;
		if (j->msg != NULL) {
			return 1;
		}
	}
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
		if (cp->src.n > 0 && mbox_expunge_uids(&s->view,
		    mbox_uidset_want, &cp->src, imap_update_event, s) == -1) {
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
