/* SPDX-License-Identifier: ISC */
/*
 * imap_esearch.c - SEARCH RETURN and the ESEARCH response (RFC 4731),
 * its ALL sets (also ESORT's, RFC 5267), and SEARCHRES (RFC 5182):
 * SEARCH RETURN (SAVE) keeps the matching UIDs in the session, and
 * "$" stands for them in FETCH, STORE, COPY, MOVE, UID EXPUNGE and
 * search programs (SEARCH, SORT, THREAD).
 *
 * The SEARCH runs as usual (imap_search.c) with its matches sent here:
 * ALL goes out as they come (runs of numbers as ranges), so ESEARCH
 * gives ALL first and then MIN MAX COUNT (any order is valid); the
 * saved set is built the same way into the session's text (at most
 * IMAP_SEARCHRES_MAX octets: a larger result is not saved, NO
 * [LIMIT], and $ is empty). A command using $ runs as its UID form
 * over that set, so its FETCH responses carry UIDs too.
 *
 * Choices: SAVE alone answers no ESEARCH (RFC 5182 2.1); with MIN or
 * MAX alone it saves just those (2.4); $ in the SEARCH that saves is
 * BAD (the set would change under the walk); SORT RETURN takes no
 * SAVE.
 */
#include <string.h>

#include "core/fmt.h"
#include "imap/imap_int.h"

/* "$" when nothing is saved: a UID no message has (UIDs are given in
 * order; the folder's UIDVALIDITY changes long before). */
#define NO_UID		"4294967295"

static void	es_hit(struct imap_session *, uint32_t seq, uint32_t uid);
static void	es_done(struct imap_session *);
static uint32_t	uid_of(struct imap_session *, uint32_t seq);
static int	save_all(unsigned ret);
static int	is_dollar(const struct imap_arg *);
static void	saved_arg(struct imap_session *, struct imap_arg *);
static void	saved_add(struct imap_session *, uint32_t uid);
static void	saved_flush(struct imap_session *);

/* --- SEARCH RETURN ------------------------------------------------------ */

void
imap_esearch_start(struct imap_session *s)
{
	const struct imap_cmd *c = &s->ws->cmd;
	unsigned ret;

	if (imap_return_parse(s, 1, &ret, 1) == -1) {
		return;
	}
	s->ws->job.ret = ret;
	if (ret & IMAP_RET_SAVE) {
		/* RFC 5182 2.1: a SEARCH that fails leaves $ empty. */
		s->saved_len = 0;
		s->saved_lo = s->saved_hi = 0;
		s->saved_over = 0;
	}
	if (imap_search_prepare(s, c->args[1].next) == -1) {
		return;
	}
	if (ret != IMAP_RET_SAVE) {		/* SAVE alone: no ESEARCH */
		(void)imap_outf(s, "* ESEARCH (TAG \"%s\")%s", s->ws->tag,
		    c->uid ? " UID" : "");
	}
	imap_search_run(s, es_hit, es_done, NULL);
}

void
imap_esearch_all(struct imap_session *s)
{
	s->ws->job.ret = IMAP_RET_ALL;
	if (imap_search_prepare(s, 0) == -1) {
		return;
	}
	(void)imap_outf(s, "* ESEARCH (TAG \"%s\")%s", s->ws->tag,
	    s->ws->cmd.uid ? " UID" : "");
	imap_search_run(s, es_hit, es_done, NULL);
}

int
imap_return_parse(struct imap_session *s, size_t i, unsigned *ret, int save)
{
	static const char *const names[] = { "MIN", "MAX", "ALL", "COUNT",
		"SAVE" };
	const struct imap_cmd *c = &s->ws->cmd;
	const struct imap_arg *l = &c->args[i];

	*ret = 0;
	if (i >= c->nargs || l->type != IMAP_ARG_LIST) {
		imap_tagged(s, "BAD", "Invalid RETURN options");
		return -1;
	}
	for (size_t j = i + 1; j < l->next; j = c->args[j].next) {
		unsigned k = 0;

		while (k < 5 && !imap_arg_is(&c->args[j], names[k])) {
			k++;
		}
		if (k == 5 || (k == 4 && !save)) {
			imap_tagged(s, "BAD", "Unknown RETURN option");
			return -1;
		}
		*ret |= 1u << k;
	}
	if ((*ret & ~IMAP_RET_SAVE) == 0 && !(*ret & IMAP_RET_SAVE)) {
		*ret = IMAP_RET_ALL;
	}
	return 0;
}

/* --- ESEARCH ---------------------------------------------------------- */

void
imap_set_add(struct imap_session *s, uint32_t v)
{
	struct imap_job *j = &s->ws->job;

	if (j->slo == 0) {
		(void)imap_outf(s, " ALL %u", v);
	} else if (v == j->shi + 1) {
		j->shi = v;
		return;
	} else {
		imap_set_flush(s);
		(void)imap_outf(s, ",%u", v);
	}
	j->slo = j->shi = v;
}

void
imap_set_flush(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;

	if (j->shi > j->slo) {
		(void)imap_outf(s, ":%u", j->shi);
	}
}

static void
es_hit(struct imap_session *s, uint32_t seq, uint32_t uid)
{
	struct imap_job *j = &s->ws->job;
	uint32_t v = j->uid ? uid : seq;

	if (j->min == 0) {
		j->min = v;
	}
	j->max = v;
	if (j->ret & IMAP_RET_ALL) {
		imap_set_add(s, v);
	}
	imap_cs_esearch_hit(s, seq);
	if (save_all(j->ret)) {
		saved_add(s, uid);
	}
}

static void
es_done(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;
	int over = 0;

	imap_set_flush(s);
	if (j->count > 0 && (j->ret & IMAP_RET_MIN)) {
		(void)imap_outf(s, " MIN %u", j->min);
	}
	if (j->count > 0 && (j->ret & IMAP_RET_MAX)) {
		(void)imap_outf(s, " MAX %u", j->max);
	}
	if (j->ret & IMAP_RET_COUNT) {
		(void)imap_outf(s, " COUNT %u", j->count);
	}
	if (j->ret != IMAP_RET_SAVE) {
		imap_cs_esearch_end(s);	/* " MODSEQ n" (RFC 4731 3.2) */
		(void)imap_out(s, "\r\n", 2);
	}
	if ((j->ret & IMAP_RET_SAVE) && !save_all(j->ret) && j->count > 0) {
		uint32_t lo = j->uid ? j->min : uid_of(s, j->min);
		uint32_t hi = j->uid ? j->max : uid_of(s, j->max);

		if (j->ret & IMAP_RET_MIN) {
			saved_add(s, lo);
		}
		if ((j->ret & IMAP_RET_MAX) && !((j->ret & IMAP_RET_MIN) &&
		    hi == lo)) {
			saved_add(s, hi);
		}
	}
	saved_flush(s);
	if (s->saved_over) {
		s->saved_len = 0;
		over = 1;
	}
	imap_updates(s, 0);
	if (over) {
		imap_tagged(s, "NO", "[LIMIT] Search result too large to "
		    "save");
	} else {
		imap_tagged(s, "OK", "%sSEARCH completed", j->uid ? "UID " :
		    "");
	}
	imap_job_done(s);
}

/* --- SEARCHRES (RFC 5182) ------------------------------------------- */

void
imap_searchres_cmd(struct imap_session *s)
{
	struct imap_cmd *c = &s->ws->cmd;

	switch (c->cmd) {
	case IMAP_CMD_SELECT:
	case IMAP_CMD_EXAMINE:
	case IMAP_CMD_CLOSE:
	case IMAP_CMD_UNSELECT:
		s->saved_len = 0;	/* RFC 5182 2.1 */
		break;
	case IMAP_CMD_FETCH:
	case IMAP_CMD_STORE:
	case IMAP_CMD_COPY:
	case IMAP_CMD_MOVE:
	case IMAP_CMD_EXPUNGE:
		if (c->nargs > 0 && is_dollar(&c->args[0])) {
			/* The set holds UIDs: the UID form answers it
			 * (FETCH responses then carry UID too). */
			saved_arg(s, &c->args[0]);
			c->uid = 1;
		}
		break;
	default:
		break;
	}
}

int
imap_searchres_prog(struct imap_session *s, struct imap_search *p)
{
	for (unsigned i = 1; i < p->n; i++) {
		struct imap_search_node *nd = &p->node[i];

		if ((nd->key != IMAP_SK_SEQSET && nd->key != IMAP_SK_UID) ||
		    !is_dollar(nd->str)) {
			continue;
		}
		if (s->ws->job.ret & IMAP_RET_SAVE) {
			/* The set would change under the walk. */
			imap_tagged(s, "BAD", "$ in a SEARCH that saves");
			return -1;
		}
		saved_arg(s, &s->saved_arg);
		nd->str = &s->saved_arg;
		nd->key = IMAP_SK_UID;
	}
	return 0;
}

static int
is_dollar(const struct imap_arg *a)
{
	return a != NULL && a->type == IMAP_ARG_ATOM && a->len == 1 &&
	    a->p[0] == '$';
}

/* The saved set as an argument (a UID no message has when empty). */
static void
saved_arg(struct imap_session *s, struct imap_arg *a)
{
	a->type = IMAP_ARG_ATOM;
	a->flags = 0;
	a->p = s->saved_len > 0 ? s->saved : NO_UID;
	a->len = (uint32_t)(s->saved_len > 0 ? s->saved_len :
	    sizeof NO_UID - 1);
}

/* uid joins the set being saved (UIDs come in increasing order). */
static void
saved_add(struct imap_session *s, uint32_t uid)
{
	if (s->saved_hi != 0 && uid == s->saved_hi + 1) {
		s->saved_hi = uid;
		return;
	}
	saved_flush(s);
	s->saved_lo = s->saved_hi = uid;
}

static void
saved_flush(struct imap_session *s)
{
	char t[32];
	int n;

	if (s->saved_lo == 0) {
		return;
	}
	if (s->saved_hi > s->saved_lo) {
		n = fmt(t, sizeof t, "%s%u:%u", s->saved_len > 0 ? "," : "",
		    s->saved_lo, s->saved_hi);
	} else {
		n = fmt(t, sizeof t, "%s%u", s->saved_len > 0 ? "," : "",
		    s->saved_lo);
	}
	if (n < 0 || (size_t)n >= sizeof t || s->saved_len + (size_t)n >
	    sizeof s->saved) {
		s->saved_over = 1;
	} else {
		memcpy(s->saved + s->saved_len, t, (size_t)n);
		s->saved_len += (size_t)n;
	}
	s->saved_lo = s->saved_hi = 0;
}

/* RFC 5182 2.4: SAVE saves every match, but with MIN or MAX alone
 * (no ALL, no COUNT) just those. */
static int
save_all(unsigned ret)
{
	return (ret & IMAP_RET_SAVE) && ((ret & (IMAP_RET_ALL |
	    IMAP_RET_COUNT)) || !(ret & (IMAP_RET_MIN | IMAP_RET_MAX)));
}

/* The UID of message seq (0 if none). */
static uint32_t
uid_of(struct imap_session *s, uint32_t seq)
{
	const struct mbox_msg *m = mbox_view_seq(&s->view, seq);

	return m != NULL ? m->uid : 0;
}
