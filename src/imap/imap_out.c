/* SPDX-License-Identifier: ISC */
/*
 * imap_out.c - what every IMAP command file writes through: the
 * output path (the connection's buffer, then the workspace's spill),
 * the workspace pool, tagged and BAD replies, jobs and the untagged
 * updates (RFC 3501 7.3.1, 7.4.1, 7.4.2).
 *
 *   imap_session.c  (framing, states, the command table)
 *        |  imap_fetch.c  imap_search.c  imap_mailbox.c  ...
 *        v        |            |              |
 *   imap_out.c  <-+------------+--------------+
 *
 * Nothing here calls up into a command file: a job carries its own
 * step and abort functions.
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "core/fmt.h"
#include "core/log.h"
#include "core/pool.h"
#include "imap/imap_int.h"

static struct {
	struct ev	*ev;
	struct pool	 ws;
} out;

static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr",
	"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

int
imap_out_init(struct ev *ev, size_t max, struct err *e)
{
	memset(&out, 0, sizeof out);
	out.ev = ev;
	/* One workspace per session at most; pages are touched only by
	 * the ones in use, so RSS follows the commands running. */
	return pool_init(&out.ws, "imap-ws", sizeof(struct imap_ws), max, e);
}

void
imap_out_shutdown(void)
{
	pool_destroy(&out.ws);
}

/* --- workspace -------------------------------------------------------- */

int
imap_ws_take(struct imap_session *s)
{
	if (s->ws != NULL) {
		return 0;
	}
	/* Not zeroed: 180 KB a command, mostly buffers. What a command
	 * reads before writing is set here; the rest is set by the
	 * command that uses it (parsers fill cmd and u, jobs their job). */
	s->ws = pool_get_raw(&out.ws);
	if (s->ws == NULL) {
		return -1;	/* cannot happen: one per session */
	}
	s->ws->len = 0;
	s->ws->spill_len = s->ws->spill_off = 0;
	s->ws->tag[0] = '*';
	s->ws->tag[1] = '\0';
	s->ws->appending = 0;
	memset(&s->ws->job, 0, sizeof s->ws->job);
	s->ws->job.st.fd = -1;
	return 0;
}

void
imap_ws_release(struct imap_session *s)
{
	if (s->ws != NULL) {
		(void)pool_put(&out.ws, s->ws);
		s->ws = NULL;
	}
}

int
imap_spill_drain(struct imap_session *s)
{
	struct imap_ws *ws = s->ws;
	size_t room = buf_room(&s->c->out), n = ws->spill_len - ws->spill_off;

	if (n > room) {
		n = room;
	}
	if (n > 0 && conn_write(s->c, ws->spill + ws->spill_off, n) == 0) {
		ws->spill_off += n;
	}
	if (ws->spill_off == ws->spill_len) {
		ws->spill_off = ws->spill_len = 0;
		return 1;
	}
	return 0;
}

/* --- output ----------------------------------------------------------- */

int
imap_out(struct imap_session *s, const void *p, size_t len)
{
	struct imap_ws *ws = s->ws;

	if ((ws == NULL || ws->spill_len == 0) && conn_write(s->c, p, len) ==
	    0) {
		return 0;
	}
	if (ws == NULL && imap_ws_take(s) == -1) {
		return -1;
	}
	ws = s->ws;
	if (ws->spill_off > 0 && ws->spill_len + len > sizeof ws->spill) {
		memmove(ws->spill, ws->spill + ws->spill_off, ws->spill_len -
		    ws->spill_off);
		ws->spill_len -= ws->spill_off;
		ws->spill_off = 0;
	}
	if (ws->spill_len + len > sizeof ws->spill) {
		/* More than a client that does not read deserves. */
		conn_log(s->c, LOG_LVL_WARN, "output overflow, closing");
		conn_abort(s->c);
		return -1;
	}
	memcpy(ws->spill + ws->spill_len, p, len);
	ws->spill_len += len;
	return 0;
}

int
imap_outf(struct imap_session *s, const char *f, ...)
{
	char line[4096];	/* 26 keywords of 64 octets fit */
	va_list ap;
	int n;

	va_start(ap, f);
	n = vfmt(line, sizeof line, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line) {
		return -1;
	}
	return imap_out(s, line, (size_t)n);
}

void
imap_tagged(struct imap_session *s, const char *status, const char *f, ...)
{
	char text[512];
	va_list ap;
	int n;

	va_start(ap, f);
	n = vfmt(text, sizeof text, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof text) {
		/* Our texts are short; one that is not loses its words,
		 * never the status. */
		memcpy(text, "Completed", sizeof "Completed");
	}
	(void)imap_outf(s, "%s %s %s\r\n", s->ws ? s->ws->tag : "*", status,
	    text);
}

void
imap_bad(struct imap_session *s, const char *why)
{
	if (s->ws != NULL && s->ws->tag[0] != '*') {
		(void)imap_outf(s, "%s BAD %s\r\n", s->ws->tag, why);
	} else {
		(void)imap_outf(s, "* BAD %s\r\n", why);
	}
	if (++s->errors >= IMAP_ERRORS_MAX) {
		(void)imap_outf(s, "* BYE Too many invalid commands\r\n");
		conn_close(s->c);
	}
}

int
imap_room(const struct imap_session *s)
{
	return (s->ws == NULL || s->ws->spill_len == 0) &&
	    s->c->out.len < s->c->out.cap / 2 &&
	    !(s->c->flags & (CONN_F_CLOSING | CONN_F_DEAD));
}

/* --- jobs -------------------------------------------------------------- */

void
imap_job_run(struct imap_session *s, imap_job_fn *step, imap_job_fn *abort)
{
	s->ws->job.step = step;
	s->ws->job.abort = abort;
	s->busy = IMAP_B_JOB;
	step(s);
}

void
imap_job_step(struct imap_session *s)
{
	/* A job that yielded waits for its timer. Its output's flush
	 * before the loop sleeps calls the session back (writable), and
	 * a step then would write again, be flushed again, and so on:
	 * the loop would never poll the others until the job ended. */
	if (timer_armed(&s->job_tick)) {
		return;
	}
	s->ws->job.step(s);
}

void
imap_job_done(struct imap_session *s)
{
	s->busy = IMAP_B_NONE;
}

void
imap_job_cancel(struct imap_session *s)
{
	if (s->busy == IMAP_B_JOB && s->ws != NULL &&
	    s->ws->job.abort != NULL) {
		s->ws->job.abort(s);
	}
}

void
imap_job_yield(struct imap_session *s)
{
	/* 1 ms, not 0: a timer due at the turn's cached time runs again
	 * in the same turn's timer_run, and the job would never let the
	 * loop poll. A step that worked IMAP_STEP_MS is past that 1 ms
	 * already, so the next turn does not sleep for it. */
	if (ev_timer_in(out.ev, &s->job_tick, IMAP_YIELD_MS) == -1) {
		/* No timer: the job goes on when the client sends more
		 * or the output drains (slower, never stuck: output is
		 * pending or the search is answered piecewise). */
		conn_log(s->c, LOG_LVL_DEBUG, "job: no timer slot");
	}
}

/* --- untagged updates ------------------------------------------------- */

void
imap_updates(struct imap_session *s, int allow_expunge)
{
	if (s->state == IMAP_ST_SELECTED) {
		mbox_view_update(&s->view, allow_expunge, imap_update_event,
		    s);
	}
}

void
imap_update_event(void *arg, enum mbox_event ev, uint32_t seq,
    const struct mbox_msg *m)
{
	struct imap_session *s = arg;
	char flags[32 * MAILDIR_KEYWORDS_MAX];

	switch (ev) {
	case MBOX_EV_EXPUNGE:
		if (s->qresync) {	/* RFC 7162 3.2.10 */
			(void)imap_outf(s, "* VANISHED %u\r\n", m->uid);
			break;
		}
		(void)imap_outf(s, "* %u EXPUNGE\r\n", seq);
		break;
	case MBOX_EV_EXISTS:
		(void)imap_outf(s, "* %u EXISTS\r\n", seq);
		break;
	case MBOX_EV_RECENT:
		if (!s->rev2) {		/* RFC 9051 appendix E 6 */
			(void)imap_outf(s, "* %u RECENT\r\n", seq);
		}
		break;
	case MBOX_EV_FLAGS: {
		size_t n = imap_flags_fmt(s, m, flags, sizeof flags);

		if (n < sizeof flags && s->condstore) {	/* RFC 7162 3.2.4 */
			(void)imap_outf(s, "* %u FETCH (UID %u FLAGS %.*s "
			    "MODSEQ (%llu))\r\n", seq, m->uid, (int)n, flags,
			    (unsigned long long)mbox_modseq(s->view.mb, m));
		} else if (n < sizeof flags) {
			(void)imap_outf(s, "* %u FETCH (UID %u FLAGS %.*s)\r\n",
			    seq, m->uid, (int)n, flags);
		}
		break;
	}
	}
}

/* --- formats ---------------------------------------------------------- */

size_t
imap_flags_fmt(const struct imap_session *s, const struct mbox_msg *m,
    char *buf, size_t cap)
{
	static const struct { unsigned mf; const char *name; } sys[] = {
		{ MF_SEEN, "\\Seen" }, { MF_REPLIED, "\\Answered" },
		{ MF_FLAGGED, "\\Flagged" }, { MF_TRASHED, "\\Deleted" },
		{ MF_DRAFT, "\\Draft" },
	};
	char tmp[32 * MAILDIR_KEYWORDS_MAX];
	size_t n = 0;

	tmp[n++] = '(';
	for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
		if (m->flags & sys[i].mf) {
			n += (size_t)fmt(tmp + n, sizeof tmp - n, "%s%s",
			    n > 1 ? " " : "", sys[i].name);
		}
	}
	if (!s->rev2 && mbox_view_recent(&s->view, m)) {
		n += (size_t)fmt(tmp + n, sizeof tmp - n, "%s\\Recent",
		    n > 1 ? " " : "");
	}
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		const char *k = (m->keywords & (1u << i)) ?
		    mbox_keyword_name(s->view.mb, i) : NULL;

		if (k != NULL && n + strlen(k) + 3 < sizeof tmp) {
			n += (size_t)fmt(tmp + n, sizeof tmp - n, "%s%s",
			    n > 1 ? " " : "", k);
		}
	}
	tmp[n++] = ')';
	if (n < cap) {
		memcpy(buf, tmp, n);
	}
	return n;
}

size_t
imap_date_fmt(int64_t t, char *buf, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;
	int n;

	if (gmtime_r(&tt, &tm) == NULL) {
		memset(&tm, 0, sizeof tm);
		tm.tm_mday = 1;
		tm.tm_year = 70;
	}
	n = fmt(buf, cap, "%02d-%s-%04d %02d:%02d:%02d +0000", tm.tm_mday,
	    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	return n < 0 ? cap : (size_t)n;
}

/* --- shared checks ------------------------------------------------- */

unsigned
imap_mf_flags(unsigned fl)
{
	return (fl & IMAP_FL_SEEN ? MF_SEEN : 0u) |
	    (fl & IMAP_FL_ANSWERED ? MF_REPLIED : 0u) |
	    (fl & IMAP_FL_FLAGGED ? MF_FLAGGED : 0u) |
	    (fl & IMAP_FL_DELETED ? MF_TRASHED : 0u) |
	    (fl & IMAP_FL_DRAFT ? MF_DRAFT : 0u);
}

int
imap_check_set(struct imap_session *s, const struct imap_arg *a)
{
	struct imap_seqset_iter it;
	uint32_t lo, hi;
	int rc;

	if (s->ws->cmd.uid) {
		return 0;
	}
	imap_seqset_begin(&it, a->p, a->len, s->view.exists);
	while ((rc = imap_seqset_next(&it, &lo, &hi)) == 1) {
		if (lo == 0 || hi > s->view.exists) {
			imap_tagged(s, "BAD", "Invalid sequence set: no such "
			    "message");
			return -1;
		}
	}
	if (rc == -1) {
		imap_tagged(s, "BAD", "Invalid sequence set");
		return -1;
	}
	return 0;
}
