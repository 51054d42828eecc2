/* SPDX-License-Identifier: ISC */
/*
 * imap_condstore.c - CONDSTORE and QRESYNC (RFC 7162): ENABLE, the
 * SELECT/EXAMINE parameters and their answer (HIGHESTMODSEQ 3.1.1,
 * QRESYNC resync 3.2.5 as a job: VANISHED (EARLIER) then a FETCH per
 * changed message), VANISHED (EARLIER) for UID FETCH (3.2.6), both as
 * jobs in slices, the MODIFIED set of a conditional STORE (3.1.3),
 * MODSEQ in SEARCH (3.1.5) and in ESEARCH (RFC 4731 3.2). The modseqs
 * themselves are the store's (store/mbox.h, store/modseq.h).
 */
#include <string.h>

#include "core/ev.h"
#include "core/fmt.h"
#include "imap/imap_int.h"

#define VANISHED_LINE	900	/* UIDs per "* VANISHED" line, as text */

static void	resync_begin(struct imap_session *);
static void	resync_step(struct imap_session *);
static void	vanished_step(struct imap_session *);
static int	van_range(struct imap_job *);
static void	van_add(struct imap_session *, uint32_t, uint32_t);
static int	has_modseq(struct imap_session *);

void
imap_cs_enable(struct imap_session *s)
{
	const struct imap_cmd *c = &s->ws->cmd;
	char out[64];
	size_t n = 0;

	for (size_t j = 0; j < c->nargs; j = c->args[j].next) {
		int q = imap_arg_is(&c->args[j], "QRESYNC");

		if (WREN_IMAP_REV2 && !s->rev2 &&
		    imap_arg_is(&c->args[j], "IMAP4rev2")) {
			s->rev2 = 1;	/* RFC 9051 6.3.1 */
			n += (size_t)fmt(out + n, sizeof out - n,
			    " IMAP4rev2");
		}

		if ((q || imap_arg_is(&c->args[j], "CONDSTORE")) &&
		    n + 20 < sizeof out) {
			/* RFC 7162 3.2.3: QRESYNC implies CONDSTORE */
			n += (size_t)fmt(out + n, sizeof out - n, " %s",
			    q ? "QRESYNC" : "CONDSTORE");
			s->condstore = 1;
			s->qresync |= q;
		}
	}
	(void)imap_outf(s, "* ENABLED%.*s\r\n", (int)n, out);
	imap_tagged(s, "OK", "ENABLE completed");
}

int
imap_cs_select_args(struct imap_session *s)
{
	const struct imap_cmd *c = &s->ws->cmd;
	struct imap_job *j = &s->ws->job;
	const struct imap_arg *l, *q;

	memset(j, 0, sizeof *j);
	j->st.fd = -1;
	if (c->nargs < 2) {
		return 0;
	}
	l = &c->args[1];
	for (size_t i = 2; i < l->next; i = c->args[i].next) {
		if (imap_arg_is(&c->args[i], "CONDSTORE")) {
			s->condstore = 1;
			continue;
		}
		q = &c->args[c->args[i].next];
		/* QRESYNC (uidvalidity modseq [known-uids [seq-match]]):
		 * only once enabled (RFC 7162 3.2.5). */
		if (!imap_arg_is(&c->args[i], "QRESYNC") || !s->qresync ||
		    c->args[i].next >= l->next || q->type != IMAP_ARG_LIST ||
		    q->nchild < 2 || q[1].type != IMAP_ARG_NUMBER ||
		    q[1].num == 0 || imap_arg_modseq(&c->args[q[1].next],
		    &j->st.skip) == -1 || j->st.skip == 0) {
			imap_tagged(s, "BAD", "Invalid SELECT parameters");
			return -1;
		}
		j->lo = q[1].num;		/* UIDVALIDITY */
		j->item = 1;			/* a resync asked */
		j->cur = 0;
		if (q->nchild >= 3) {
			const struct imap_arg *k = &c->args[c->args[q[1].next].
			    next];

			if (k->type != IMAP_ARG_ATOM && k->type !=
			    IMAP_ARG_NUMBER) {
				imap_tagged(s, "BAD", "Invalid known-uids");
				return -1;
			}
			j->msg_uid = (uint32_t)(k - c->args);	/* its index */
		}
		i = c->args[i].next;
	}
	return 0;
}

int
imap_cs_select_end(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;
	struct mbox *mb = s->view.mb;

	/* RFC 7162 3.1.2.1: with every SELECT and EXAMINE, as the
	 * modseqs persist (never NOMODSEQ). */
	(void)imap_outf(s, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
	    (unsigned long long)mbox_highestmodseq(mb));
	if (j->item != 1 || j->lo != mbox_uidvalidity(mb)) {
		return 0;	/* RFC 7162 3.2.5: another UIDVALIDITY */
	}
	/* VANISHED (EARLIER) first, then the changed messages. */
	if (j->st.skip < mbox_vanished_since(mb)) {
		const struct imap_arg *k = j->msg_uid ?
		    &s->ws->cmd.args[j->msg_uid] : NULL;

		imap_cs_vanished(s, k, mbox_uidnext(mb) - 1, resync_begin);
		return 1;
	}
	resync_begin(s);
	return 1;
}

void
imap_cs_vanished(struct imap_session *s, const struct imap_arg *set,
    uint32_t top, imap_job_fn *then)
{
	struct imap_job *j = &s->ws->job;

	/* Every UID asked about, up to top, that is not there: RFC 7162
	 * 3.2.5.2 allows those expunged before the client's modseq too,
	 * which is all this folder can tell apart. Ranges of the set,
	 * then the gaps between messages in each: O(ranges + messages),
	 * which the client chooses: a job in slices (RFC 7162 3.2.5.1
	 * and 3.2.6 say only that VANISHED comes first). */
	j->van.set = set != NULL;
	j->van.top = top;
	j->van.col = 0;
	j->van.then = then;
	j->van.more = 1;
	j->van.u = 1;
	j->van.hi = top;
	if (set != NULL) {
		imap_seqset_begin(&j->van.it, set->p, set->len, top);
	}
	if (set != NULL || top == 0) {
		j->van.more = van_range(j);
	}
	imap_job_run(s, vanished_step, NULL);
}

void
imap_cs_modified(struct imap_session *s, uint32_t uid)
{
	struct imap_job *j = &s->ws->job;
	size_t n = strlen(j->modified);

	/* UIDs come in order: extend the last range when it touches. */
	if (j->mod_hi != 0 && uid == j->mod_hi + 1 && n > 0) {
		char *colon = strrchr(j->modified, ':');
		char *comma = strrchr(j->modified, ',');

		if (colon != NULL && (comma == NULL || colon > comma)) {
			n = (size_t)(colon - j->modified);
		}
		(void)fmt(j->modified + n, sizeof j->modified - n, ":%u", uid);
	} else if (n + 12 < sizeof j->modified) {
		(void)fmt(j->modified + n, sizeof j->modified - n, "%s%u",
		    n ? "," : "", uid);
	} else {
		j->err = 2;	/* too many to list: NO */
	}
	j->mod_hi = uid;
}

void
imap_cs_search_match(struct imap_session *s, const struct mbox_msg *m)
{
	uint64_t v = mbox_modseq(s->view.mb, m);

	if (v > s->ws->job.mod_max) {
		s->ws->job.mod_max = v;
	}
}

void
imap_cs_search_end(struct imap_session *s)
{
	if (has_modseq(s) && s->ws->job.mod_max > 0) {
		(void)imap_outf(s, " (MODSEQ %llu)",
		    (unsigned long long)s->ws->job.mod_max);
	}
}

void
imap_cs_esearch_hit(struct imap_session *s, uint32_t seq)
{
	struct imap_job *j = &s->ws->job;
	const struct mbox_msg *m;

	if (!(j->ret & (IMAP_RET_MIN | IMAP_RET_MAX)) ||
	    (m = mbox_view_seq(&s->view, seq)) == NULL) {
		return;
	}
	j->mod_last = mbox_modseq(s->view.mb, m);
	if (j->mod_min == 0) {
		j->mod_min = j->mod_last;
	}
}

void
imap_cs_esearch_end(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;
	uint64_t v = j->mod_max;

	if (j->count == 0 || !has_modseq(s)) {
		return;		/* RFC 7162 3.1.5: none matched, none */
	}
	if (!(j->ret & (IMAP_RET_ALL | IMAP_RET_COUNT))) {
		/* RFC 4731 3.2: of the messages returned, when only MIN
		 * and MAX are. */
		v = 0;
		if (j->ret & IMAP_RET_MIN) {
			v = j->mod_min;
		}
		if ((j->ret & IMAP_RET_MAX) && j->mod_last > v) {
			v = j->mod_last;
		}
	}
	if (v > 0) {
		(void)imap_outf(s, " MODSEQ %llu", (unsigned long long)v);
	}
}

/* --- helpers -------------------------------------------------------- */

/* A program with a MODSEQ criterion enables CONDSTORE (RFC 7162
 * 3.1) and gets the highest modseq of its matches. */
static int
has_modseq(struct imap_session *s)
{
	const struct imap_search *p = &s->ws->u.search;

	for (unsigned i = 0; i < p->n; i++) {
		if (p->node[i].key == IMAP_SK_MODSEQ) {
			s->condstore = 1;
			return 1;
		}
	}
	return 0;
}

/* One slice of VANISHED (EARLIER): gaps while the output has room and
 * for IMAP_STEP_MS at most (a set of many small ranges may have few
 * gaps); then the command that waits for it. */
static void
vanished_step(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;
	uint64_t deadline = ev_clock_ms() + IMAP_STEP_MS;
	unsigned n = 0;

	while (j->van.more) {
		const struct mbox_msg *m;
		uint32_t b, seq;

		if (!imap_room(s)) {
			return;	/* more when the socket drains */
		}
		if ((++n & 63) == 0 && ev_clock_ms() >= deadline) {
			imap_job_yield(s);	/* others get a turn */
			return;
		}
		m = mbox_view_uid_ge(&s->view, j->van.u, &seq);
		b = m == NULL || m->uid > j->van.hi ? j->van.hi : m->uid - 1;
		if (b >= j->van.u) {
			van_add(s, j->van.u, b);
		}
		if (m == NULL || m->uid >= j->van.hi) {
			j->van.more = van_range(j);
		} else {
			j->van.u = m->uid + 1;
		}
	}
	if (j->van.col > 0) {
		(void)imap_out(s, "\r\n", 2);
	}
	j->van.then(s);		/* may reuse the job: nothing after */
}

/* The next range of the set, cut at top, into u..hi: 1, or 0 when
 * the set is done (a full 1:top walk is one range). */
static int
van_range(struct imap_job *j)
{
	uint32_t lo, hi;

	while (j->van.set && imap_seqset_next(&j->van.it, &lo, &hi) == 1) {
		if (lo == 0) {
			lo = 1;
		}
		if (hi > j->van.top) {
			hi = j->van.top;
		}
		if (lo <= hi) {
			j->van.u = lo;
			j->van.hi = hi;
			return 1;
		}
	}
	return 0;
}

/* Range a:b onto the current "* VANISHED (EARLIER)" line, which ends
 * past VANISHED_LINE octets (RFC 7162 3.2.5.1 allows several). */
static void
van_add(struct imap_session *s, uint32_t a, uint32_t b)
{
	struct imap_job *j = &s->ws->job;
	char r[48];
	int n = fmt(r, sizeof r, a == b ? "%s%u" : "%s%u:%u",
	    j->van.col ? "," : "* VANISHED (EARLIER) ", a, b);

	if (n > 0 && (size_t)n < sizeof r) {
		(void)imap_out(s, r, (size_t)n);
		j->van.col += (size_t)n;
	}
	if (j->van.col > VANISHED_LINE) {
		(void)imap_out(s, "\r\n", 2);
		j->van.col = 0;
	}
}

/* After VANISHED (EARLIER): the changed messages from the first. */
static void
resync_begin(struct imap_session *s)
{
	s->ws->job.cur = 1;
	imap_job_run(s, resync_step, NULL);
}

/* The QRESYNC resync's changed messages: a FETCH each, while the
 * output has room; then SELECT's tagged reply. */
static void
resync_step(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;
	struct mbox *mb = s->view.mb;
	char fl[32 * MAILDIR_KEYWORDS_MAX];

	while (imap_room(s) && j->cur <= s->view.exists) {
		const struct mbox_msg *m = mbox_view_seq(&s->view, j->cur);

		if (m != NULL && mbox_modseq(mb, m) > j->st.skip) {
			size_t n = imap_flags_fmt(s, m, fl, sizeof fl);

			(void)imap_outf(s, "* %u FETCH (UID %u FLAGS %.*s "
			    "MODSEQ (%llu))\r\n", j->cur, m->uid, (int)n, fl,
			    (unsigned long long)mbox_modseq(mb, m));
		}
		j->cur++;
	}
	if (j->cur <= s->view.exists) {
		return;		/* more when the socket drains */
	}
	imap_tagged(s, "OK", "[%s] %s completed", s->view.readonly ?
	    "READ-ONLY" : "READ-WRITE", s->view.readonly ? "EXAMINE" :
	    "SELECT");
	imap_job_done(s);
}
