/* SPDX-License-Identifier: ISC */
/*
 * imap_search.c - SEARCH and UID SEARCH (RFC 3501 6.4.4, 7.2.5) as a
 * job: "* SEARCH" goes out first and each matching number follows as
 * soon as its message is decided, so a search of a large folder needs
 * no list of results and stops when the socket is full.
 *
 * A message is decided in up to four steps, each only when the ones
 * before left the answer open (three-valued logic: yes, no, unknown):
 *
 *   1. the index: flags, keywords, size, UID, sequence set, \Recent;
 *   2. the file's stat: INTERNALDATE (BEFORE, ON, SINCE);
 *   3. its header: FROM TO CC BCC SUBJECT HEADER, SENT*, TEXT;
 *   4. its text parts: BODY, and TEXT not found in the header.
 *
 * So "UNSEEN BODY x" never opens a seen message, and "OR FROM a BODY
 * b" never reads the body of a message from a. Memory is fixed: one
 * read buffer, one header field, one MIME tree, and a few streaming
 * matchers (BODY_KEYS_MAX at a time; more BODY/TEXT keys take more
 * passes over the text, which only odd programs have).
 *
 * Time: a step works IMAP_STEP_MS, then yields to the loop. The clock
 * is read before each message and after each block of file octets
 * (IMAP_CHUNK), so a step never runs much past its budget, whatever
 * the size of a message: steps 2-4 are walks that stop between blocks
 * and resume at the next step where they stopped (the header walker,
 * the MIME parser, the decoders and the matchers all keep their state
 * between feeds).
 *
 *   message:  index -> stat -> HEADER -> TREE (header; whole file when
 *             multipart) -> ROUND: for each part, PART_HDR (TEXT only)
 *             and PART_BODY -> next round or decided
 *
 * The walk's state is static (one MIME tree is 88 KiB; a copy per
 * session would add two thirds to a workspace), so one session may
 * hold a message decided in part: the owner. Another session's step
 * waits (it yields and comes back at the next turn, marking itself
 * next), and the owner, having decided its message, lets the one
 * waiting go first. A session never holds the engine while waiting
 * for its socket: output is checked before a message starts, and a
 * message adds at most one number.
 *
 * Choices where RFC 3501 leaves room:
 *   - BEFORE/ON/SINCE compare the UTC date of INTERNALDATE (the file's
 *     mtime), the date FETCH INTERNALDATE shows (+0000).
 *   - SENTBEFORE/SENTON/SENTSINCE compare the date written in the
 *     first Date: field, as RFC 3501 says ("disregarding time and
 *     timezone"); a message without a readable Date: matches none of
 *     them (Dovecot takes it as sent on 1-Jan-1970, so SENTBEFORE
 *     finds it; we do not guess).
 *   - Header keys match the unfolded, RFC 2047-decoded value of every
 *     field of that name in the message's own header (the text as
 *     written: "a@b.c,\n d@e.f" unfolds to "a@b.c, d@e.f"; Dovecot
 *     matches address fields in a normalised form).
 *   - BODY reads the leaf text parts (text/ *, and a body without
 *     MIME), decoded from their Content-Transfer-Encoding and charset
 *     to UTF-8, as Dovecot does without FTS; attachments are not
 *     searched. A body without MIME-Version is still decoded by its
 *     Content-Transfer-Encoding, as Dovecot does.
 *   - TEXT matches "Name: value" (decoded) of any field of any header
 *     of the message (its own, its parts', embedded messages'), as
 *     Dovecot does, or what BODY reads.
 *   - A message whose file cannot be read (expunged by another hand
 *     since) does not match, whatever the program says.
 *
 * Matching is the case-insensitive substring test of msg/match.h.
 *
 * SORT, THREAD and SEARCH RETURN run the same walk with their own
 * arguments before the program (imap_search_prepare) and take the
 * matches as they come (imap_search_run's hit), then the job over.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "imap/imap_int.h"
#include "msg/decode.h"
#include "msg/match.h"
#include "msg/mime.h"

/* Streaming matchers alive at once while reading bodies: 3 KiB each. */
#define BODY_KEYS_MAX	8
#define DAY_SECS	86400

/* A key's value for one message; NO and YES are 0 and 1, so a C
 * truth value is one. */
enum {
	R_NO,
	R_YES,
	R_UNKNOWN
};

/* run.part when the round reads no more parts. */
#define PARTS_OVER	UINT_MAX

/* A message left undecided at the end of a step (with R_* above). */
#define R_MORE		3

/* Where the walk of the message being decided stands. */
enum phase {
	PH_NONE,		/* no message held */
	PH_HEADER,		/* the message's own header */
	PH_TREE,		/* the MIME tree, of the header or the file */
	PH_ROUND,		/* a body round: the next part */
	PH_PART_HDR,		/* a part's header (TEXT keys) */
	PH_PART_BODY		/* a text part's octets */
};

/* What deciding a key needs (see the top comment). */
enum key_need {
	NEED_INDEX,
	NEED_STAT,
	NEED_HEADER,
	NEED_BODY,
	NEED_TEXT		/* header, then body */
};

/*
 * The message being decided. One session at a time may leave a
 * message undecided between steps (run.owner), so this need not live
 * in the session's job; cur.m is looked up again at each step.
 */
static struct {
	struct imap_session		*s;
	const struct imap_search	*prog;
	const struct mbox_msg		*m;
	uint32_t			 seq;
	uint32_t			 last_uid;
	int				 fd;
	struct stat			 st;
	uint64_t			 hdr_end;	/* body offset */
	int				 date_seen;
	char				 cte[32];	/* its header's */
	size_t				 cte_len;
	size_t				 whole;		/* octets of the
						 * file in rbuf, when
						 * it all fits */
	uint8_t				 res[IMAP_SEARCH_KEYS_MAX];
} cur = { .fd = -1 };

/*
 * The walk in progress over [pos, end) of cur.fd, and who holds it.
 * Each walk runs block by block until done or run.deadline.
 */
static struct {
	struct imap_session	*owner;		/* a message held */
	struct imap_session	*next;		/* waits: goes first */
	uint32_t		 uid;		/* the message held */
	enum phase		 ph;
	uint64_t		 deadline;	/* ev_clock_ms() */
	uint64_t		 pos, end;
	int			 (*fn)(const struct decode_field *);
	int			 full;		/* PH_TREE of the file */
	int			 single;	/* one part: no MIME walk */
	unsigned		 part;		/* of the round */
} run;

/* The BODY/TEXT keys of the running body pass and their matchers. */
static struct {
	unsigned	n;
	unsigned	key[BODY_KEYS_MAX];
	struct match	m[BODY_KEYS_MAX];
} bp;

static char		rbuf[IMAP_CHUNK];
static char		needle_buf[MATCH_NEEDLE_MAX];
/* "Name: " and the decoded value (UTF-8 may be longer than the raw
 * text: a Latin-1 octet becomes two). */
static char		line[DECODE_NAME_MAX + 2 + 2 * DECODE_HEADER_MAX];
static struct decode_hdr	hdr;
static struct decode_body	dbody;
static struct decode_cs		dcs;
static struct mime		tree;

static enum key_need	key_need(unsigned key);
static int	eval(unsigned i);
static int	eval_index(unsigned i);
static int	in_set(const struct imap_arg *, uint32_t star, uint32_t x);
static int	arg_text(const struct imap_arg *, char *, size_t, size_t *);
static const char	*needle(const struct imap_arg *, size_t *len);
static int	engine_take(struct imap_session *);
static void	engine_drop(void);
static int	over(void);
static int	search_message(struct imap_session *,
		    const struct mbox_msg *, uint32_t seq);
static int	msg_run(void);
static int	msg_decided(void);
static int	any_unknown(enum key_need, enum key_need);
static void	settle(enum key_need, int value);
static void	stat_keys(void);
static void	hw_begin(uint64_t from, uint64_t to,
		    int (*)(const struct decode_field *));
static int	hw_run(void);
static size_t	field_line(const struct decode_field *, size_t *nl);
static int	header_field(const struct decode_field *);
static int	part_field(const struct decode_field *);
static void	date_field(const struct decode_field *);
static int	name_is(const struct decode_field *, const char *, size_t);
static void	tree_begin(int full);
static int	tree_run(void);
static void	search_step(struct imap_session *);
static void	search_abort(struct imap_session *);
static void	search_gone(struct imap_session *);
static void	found(struct imap_session *, const struct mbox_msg *,
		    uint32_t seq);
static void	round_begin(void);
static void	round_end(void);
static int	round_next(void);
static int	part_wanted(const struct mime_part *);
static void	part_begin(const struct mime_part *, uint64_t end);
static int	part_run(void);
static int	round_done(void);
static int	body_text(const char *, size_t);
static int	body_feed(const char *, size_t);
static int32_t	days_of(int64_t t);
static ssize_t	msg_read(uint64_t pos, uint64_t end, const char **);

/* --- the job --------------------------------------------------------- */

void
imap_search_start(struct imap_session *s)
{
#if WREN_IMAP_SORT
	if (s->ws->cmd.nargs > 0 && imap_arg_is(&s->ws->cmd.args[0],
	    "RETURN")) {
		imap_esearch_start(s);		/* RFC 4731 */
		return;
	}
#endif
#if WREN_IMAP_REV2
	if (s->rev2) {
		imap_esearch_all(s);	/* RFC 9051 6.4.4: ESEARCH */
		return;
	}
#endif
	s->ws->job.ret = 0;
	if (imap_search_prepare(s, 0) == 0) {
		(void)imap_out(s, "* SEARCH", 8);
		imap_search_run(s, NULL, NULL, NULL);
	}
}

int
imap_search_prepare(struct imap_session *s, size_t first)
{
	struct imap_ws *ws = s->ws;
	struct imap_search *p = &ws->u.search;
	enum imap_perr pe = imap_search_parse_at(&ws->cmd, first, p);

	if (pe == IMAP_PE_BADCHARSET) {
		/* RFC 3501 6.4.4: NO with the charsets we take. */
		imap_tagged(s, "NO", "[BADCHARSET (US-ASCII UTF-8)] "
		    "Unsupported charset");
		return -1;
	}
	if (pe != IMAP_PE_OK) {
		imap_tagged(s, "BAD", "%s", imap_strerror(pe));
		return -1;
	}
#if WREN_IMAP_SORT
	if (imap_searchres_prog(s, p) == -1) {
		return -1;
	}
#endif
	/* A string the matcher cannot hold is refused now rather than
	 * silently matching nothing. */
	for (unsigned i = 1; i < p->n; i++) {
		const struct imap_search_node *nd = &p->node[i];
		const struct imap_arg *a = nd->key == IMAP_SK_HEADER ?
		    nd->str2 : nd->str;
		size_t len;

		if (key_need(nd->key) >= NEED_HEADER && a != NULL &&
		    nd->key != IMAP_SK_SENTBEFORE && nd->key !=
		    IMAP_SK_SENTON && nd->key != IMAP_SK_SENTSINCE &&
		    needle(a, &len) == NULL) {
			imap_tagged(s, "NO", "[LIMIT] Search string too long");
			return -1;
		}
	}
	return 0;
}

void
imap_search_run(struct imap_session *s,
    void (*hit)(struct imap_session *, uint32_t, uint32_t),
    imap_job_fn *after, imap_job_fn *gone)
{
	struct imap_job *j = &s->ws->job;
	unsigned ret = j->ret;

	memset(j, 0, sizeof *j);
	j->st.fd = -1;
	j->uid = s->ws->cmd.uid;
	j->cur = 1;
	j->hit = hit;
	j->after = after;
	j->gone = gone;
	j->ret = ret;
	imap_job_run(s, search_step, search_gone);
}

/* One slice of the walk: IMAP_STEP_MS of matching, or until the
 * output is full; the tagged reply at the end. */
static void
search_step(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;
	const struct mbox_msg *m;
	int r;

	if (!engine_take(s)) {
		imap_job_yield(s);	/* another holds a message */
		return;
	}
	cur.s = s;
	cur.prog = &s->ws->u.search;
	cur.last_uid = 0;
	for (unsigned i = 1; i < cur.prog->n; i++) {
		if (cur.prog->node[i].key == IMAP_SK_UID) {
			/* Once a step: it moves the view's cursor to the
			 * end, and the walk wants it near j->cur. */
			cur.last_uid = mbox_view_last_uid(&s->view);
			break;
		}
	}
	run.deadline = ev_clock_ms() + IMAP_STEP_MS;
	if (run.owner == s) {
		/* The message left at the last step: its index entry
		 * may have moved since, so it is looked up again. */
		m = mbox_view_seq(&s->view, j->cur);
		if (m == NULL || m->uid != run.uid) {
			engine_drop();
			r = R_NO;
		} else {
			cur.m = m;
			if ((r = msg_run()) == R_MORE) {
				imap_job_yield(s);
				return;
			}
			run.owner = NULL;
		}
		if (r == R_YES) {
			found(s, m, j->cur);
		}
		j->cur++;
		if (run.next != NULL) {
			imap_job_yield(s);	/* its turn */
			return;
		}
	}
	while (j->cur <= s->view.exists) {
		if (over()) {
			imap_job_yield(s);	/* others get a turn */
			return;
		}
		if (!imap_room(s)) {
			if (!(s->c->flags & (CONN_F_DEAD | CONN_F_CLOSING))) {
				return;		/* more when it drains */
			}
			break;
		}
		m = mbox_view_seq(&s->view, j->cur);
		if (m != NULL) {
			r = search_message(s, m, j->cur);
			if (r == R_MORE) {
				run.owner = s;
				run.uid = m->uid;
				imap_job_yield(s);
				return;
			}
			if (r == R_YES) {
				found(s, m, j->cur);
			}
		}
		j->cur++;
	}
	search_abort(s);
	if (j->after != NULL) {
		j->after(s);		/* SORT, THREAD, ESEARCH go on */
		return;
	}
	imap_cs_search_end(s);	/* " (MODSEQ n)" (RFC 7162 3.1.5) */
	(void)imap_out(s, "\r\n", 2);
	/* RFC 3501 7.4.1: no EXPUNGE during SEARCH. */
	imap_updates(s, 0);
	imap_tagged(s, "OK", "%sSEARCH completed", j->uid ? "UID " : "");
	imap_job_done(s);
}

/* A match: its number out, or to the command the search feeds. */
static void
found(struct imap_session *s, const struct mbox_msg *m, uint32_t seq)
{
	struct imap_job *j = &s->ws->job;

	if (j->hit != NULL) {
		j->hit(s, seq, m->uid);
	} else {
		(void)imap_outf(s, " %u", j->uid ? m->uid : seq);
	}
	j->count++;
	imap_cs_search_match(s, m);
}

/* A session going away (or done searching) lets go of a message its
 * SEARCH left in the middle, and of its place in line. */
static void
search_abort(struct imap_session *s)
{
	if (run.owner == s) {
		engine_drop();
	}
	if (run.next == s) {
		run.next = NULL;
	}
}

/* The job's abort: the command the search feeds lets go too. */
static void
search_gone(struct imap_session *s)
{
	search_abort(s);
	if (s->ws->job.gone != NULL) {
		s->ws->job.gone(s);
	}
}

/* --- the engine ---------------------------------------------------------- */

/* 1 when s may run a step now; else s waits, first in line if none
 * is. */
static int
engine_take(struct imap_session *s)
{
	if ((run.owner != NULL && run.owner != s) || (run.owner == NULL &&
	    run.next != NULL && run.next != s)) {
		if (run.next == NULL) {
			run.next = s;
		}
		return 0;
	}
	if (run.next == s) {
		run.next = NULL;
	}
	return 1;
}

/* The message held is let go, undecided. */
static void
engine_drop(void)
{
	if (cur.fd != -1) {
		close(cur.fd);
		cur.fd = -1;
	}
	run.ph = PH_NONE;
	run.owner = NULL;
	bp.n = 0;
}

/* 1 when the step's time is used up. */
static int
over(void)
{
	return ev_clock_ms() >= run.deadline;
}

/* --- one message ------------------------------------------------------- */

/* R_YES or R_NO when the message is decided, R_MORE when the step's
 * time ran out in its file (go on with msg_run at the next step). */
static int
search_message(struct imap_session *s, const struct mbox_msg *m,
    uint32_t seq)
{
	int r;

	cur.m = m;
	cur.seq = seq;
	cur.fd = -1;
	cur.date_seen = 0;
	cur.whole = 0;
	memset(cur.res, R_UNKNOWN, sizeof cur.res);

	if ((r = eval(0)) != R_UNKNOWN) {
		return r;	/* the index was enough */
	}
	if ((cur.fd = mbox_open_msg(s->view.mb, m, &cur.st)) == -1) {
		conn_log(s->c, LOG_LVL_DEBUG, "%s: SEARCH: UID %u unreadable",
		    s->selected, m->uid);
		return R_NO;
	}
	stat_keys();
	if (eval(0) != R_UNKNOWN) {
		return msg_decided();
	}
	/* The header pass runs even without header keys: the body
	 * pass needs to know where the body starts. */
	cur.cte_len = 0;
	hw_begin(0, (uint64_t)cur.st.st_size, header_field);
	run.ph = PH_HEADER;
	return msg_run();
}

/*
 * The walk of the open message, from where it stands, until the
 * message is decided (R_YES, R_NO: the file is closed) or the step's
 * time is up (R_MORE).
 */
static int
msg_run(void)
{
	const struct mime_part *p;
	int r;

	for (;;) {
		switch (run.ph) {
		case PH_NONE:
			return msg_decided();
		case PH_HEADER:
			if ((r = hw_run()) == R_MORE) {
				return R_MORE;
			}
			if (r == -1) {
				/* Unreadable: not a match, whatever the
				 * program says ("NOT BODY x" included). */
				(void)msg_decided();
				return R_NO;
			}
			cur.hdr_end = run.pos;
			settle(NEED_HEADER, R_NO);
			if (eval(0) != R_UNKNOWN || !any_unknown(NEED_BODY,
			    NEED_TEXT)) {
				return msg_decided();
			}
			/* Most mail is one part: its header tells, and
			 * then the body is the rest of the file, with no
			 * need to parse it for MIME. */
			tree_begin(0);
			run.ph = PH_TREE;
			break;
		case PH_TREE:
			if ((r = tree_run()) == R_MORE) {
				return R_MORE;
			}
			if (r == -1) {
				settle(NEED_BODY, R_NO);
				settle(NEED_TEXT, R_NO);
				return msg_decided();
			}
			if (!run.full) {
				run.single = !(tree.parts[MIME_ROOT].flags &
				    (MIME_F_MULTIPART | MIME_F_RFC822));
				if (!run.single) {
					tree_begin(1);
					break;
				}
			}
			round_begin();
			run.ph = PH_ROUND;
			break;
		case PH_ROUND:
			if (round_next() == 0) {
				/* Every part of the round was read. */
				round_end();
				if (eval(0) != R_UNKNOWN ||
				    !any_unknown(NEED_BODY, NEED_TEXT)) {
					return msg_decided();
				}
				round_begin();
			}
			break;
		case PH_PART_HDR:
			if ((r = hw_run()) == R_MORE) {
				return R_MORE;
			}
			p = &tree.parts[run.part];
			if (r == -1 || round_done()) {
				run.part = PARTS_OVER;
				run.ph = PH_ROUND;
			} else if (part_wanted(p)) {
				part_begin(p, p->end_off);
				run.ph = PH_PART_BODY;
			} else {
				run.part++;
				run.ph = PH_ROUND;
			}
			break;
		case PH_PART_BODY:
			if ((r = part_run()) == R_MORE) {
				return R_MORE;
			}
			run.part = r == 1 ? PARTS_OVER : run.part + 1;
			run.ph = PH_ROUND;
			break;
		}
	}
}

/* The message is decided: its file is closed, the walk is over. */
static int
msg_decided(void)
{
	int r = eval(0);

	if (cur.fd != -1) {
		close(cur.fd);
		cur.fd = -1;
	}
	run.ph = PH_NONE;
	bp.n = 0;
	/* Every key is settled by now; unknown cannot remain, but a
	 * message we could not decide is not a match. */
	return r == R_YES ? R_YES : R_NO;
}

static enum key_need
key_need(unsigned key)
{
	switch (key) {
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
		return NEED_STAT;
	case IMAP_SK_BCC:
	case IMAP_SK_CC:
	case IMAP_SK_FROM:
	case IMAP_SK_TO:
	case IMAP_SK_SUBJECT:
	case IMAP_SK_HEADER:
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		return NEED_HEADER;
	case IMAP_SK_BODY:
		return NEED_BODY;
	case IMAP_SK_TEXT:
		return NEED_TEXT;
	default:
		return NEED_INDEX;
	}
}

/* Node i, three-valued: file keys read cur.res, which starts unknown
 * and is settled pass by pass. */
static int
eval(unsigned i)
{
	const struct imap_search_node *n = cur.prog->node;
	unsigned j;
	int a, b, r;

	switch (n[i].key) {
	case IMAP_SK_AND:
		r = R_YES;
		for (j = i + 1; j < n[i].next; j = n[j].next) {
			if ((a = eval(j)) == R_NO) {
				return R_NO;
			}
			if (a == R_UNKNOWN) {
				r = R_UNKNOWN;
			}
		}
		return r;
	case IMAP_SK_OR:
		if ((a = eval(i + 1)) == R_YES) {
			return R_YES;
		}
		if ((b = eval(n[i + 1].next)) == R_YES) {
			return R_YES;
		}
		return a == R_NO && b == R_NO ? R_NO : R_UNKNOWN;
	case IMAP_SK_NOT:
		a = eval(i + 1);
		return a == R_UNKNOWN ? R_UNKNOWN : a == R_YES ? R_NO : R_YES;
	default:
		if (key_need(n[i].key) != NEED_INDEX) {
			return cur.res[i];
		}
		return eval_index(i);
	}
}

/* Keys the index answers: never a file. */
static int
eval_index(unsigned i)
{
	const struct imap_search_node *nd = &cur.prog->node[i];
	const struct mbox_msg *m = cur.m;
	struct mbox_view *v = &cur.s->view;
	char kw[IMAP_KEYWORD_LEN_MAX + 1];
	uint64_t mod;
	size_t len;
	int k, r;

	switch (nd->key) {
	case IMAP_SK_ALL:
		return R_YES;
	case IMAP_SK_ANSWERED:
		return (m->flags & MF_REPLIED) != 0;
	case IMAP_SK_UNANSWERED:
		return (m->flags & MF_REPLIED) == 0;
	case IMAP_SK_DELETED:
		return (m->flags & MF_TRASHED) != 0;
	case IMAP_SK_UNDELETED:
		return (m->flags & MF_TRASHED) == 0;
	case IMAP_SK_DRAFT:
		return (m->flags & MF_DRAFT) != 0;
	case IMAP_SK_UNDRAFT:
		return (m->flags & MF_DRAFT) == 0;
	case IMAP_SK_FLAGGED:
		return (m->flags & MF_FLAGGED) != 0;
	case IMAP_SK_UNFLAGGED:
		return (m->flags & MF_FLAGGED) == 0;
	case IMAP_SK_SEEN:
		return (m->flags & MF_SEEN) != 0;
	case IMAP_SK_UNSEEN:
		return (m->flags & MF_SEEN) == 0;
	case IMAP_SK_RECENT:
		return mbox_view_recent(v, m) != 0;
	case IMAP_SK_OLD:
		return mbox_view_recent(v, m) == 0;
	case IMAP_SK_NEW:
		/* RFC 3501 6.4.4: RECENT UNSEEN. */
		return mbox_view_recent(v, m) && !(m->flags & MF_SEEN);
	case IMAP_SK_KEYWORD:
	case IMAP_SK_UNKEYWORD:
		/* Looked up per message: another session may create the
		 * keyword meanwhile, and 26 names are cheap to scan. A
		 * keyword the folder does not know is on no message. */
		r = 0;
		if (arg_text(nd->str, kw, sizeof kw, &len) == 0 &&
		    (k = mbox_keyword(v->mb, kw, len, 0)) >= 0) {
			r = (m->keywords & (1u << k)) != 0;
		}
		return nd->key == IMAP_SK_KEYWORD ? r : !r;
	case IMAP_SK_LARGER:
		return m->vsize > nd->num;
	case IMAP_SK_SMALLER:
		return m->vsize < nd->num;
	case IMAP_SK_SEQSET:
		return in_set(nd->str, v->exists, cur.seq);
	case IMAP_SK_UID:
		return in_set(nd->str, cur.last_uid, m->uid);
	case IMAP_SK_MODSEQ:
		return imap_arg_modseq(nd->str, &mod) == 0 &&
		    mbox_modseq(v->mb, m) >= mod;
	default:
		return R_NO;
	}
}

/* Is x in the set? "*" is star; a range is taken either way round
 * (RFC 3501 9: "2:4" and "4:2" are the same), so "UID 500:*" holds
 * the last UID even when it is below 500. */
static int
in_set(const struct imap_arg *a, uint32_t star, uint32_t x)
{
	struct imap_seqset_iter it;
	uint32_t lo, hi;

	imap_seqset_begin(&it, a->p, a->len, star);
	while (imap_seqset_next(&it, &lo, &hi) == 1) {
		if (x >= lo && x <= hi) {
			return R_YES;
		}
	}
	return R_NO;
}

static int
arg_text(const struct imap_arg *a, char *buf, size_t cap, size_t *len)
{
	return a == NULL ? -1 : imap_arg_str(a, buf, cap, len);
}

/* A string operand, unescaped, in a static buffer; NULL when it is
 * longer than the matcher takes. */
static const char *
needle(const struct imap_arg *a, size_t *len)
{
	if (arg_text(a, needle_buf, sizeof needle_buf, len) == -1) {
		return NULL;
	}
	return needle_buf;
}

/* 1 when a key needing from..to is still open. */
static int
any_unknown(enum key_need from, enum key_need to)
{
	for (unsigned i = 1; i < cur.prog->n; i++) {
		enum key_need k = key_need(cur.prog->node[i].key);

		if (k >= from && k <= to && cur.res[i] == R_UNKNOWN) {
			return 1;
		}
	}
	return 0;
}

/* Keys of kind `need` still open become value. */
static void
settle(enum key_need need, int value)
{
	for (unsigned i = 1; i < cur.prog->n; i++) {
		if (key_need(cur.prog->node[i].key) == need &&
		    cur.res[i] == R_UNKNOWN) {
			cur.res[i] = (uint8_t)value;
		}
	}
}

/* --- INTERNALDATE ------------------------------------------------------ */

static void
stat_keys(void)
{
	int32_t d = days_of((int64_t)cur.st.st_mtime);

	for (unsigned i = 1; i < cur.prog->n; i++) {
		const struct imap_search_node *nd = &cur.prog->node[i];

		switch (nd->key) {
		case IMAP_SK_BEFORE:
			cur.res[i] = d < nd->days;
			break;
		case IMAP_SK_ON:
			cur.res[i] = d == nd->days;
			break;
		case IMAP_SK_SINCE:
			cur.res[i] = d >= nd->days;
			break;
		default:
			break;
		}
	}
}

/*
 * The file's octets from pos (before end) at *p: 0 at the end, -1 on
 * error. Most mail fits in rbuf: it is read once, and the header,
 * MIME and body passes all read it from there (a pread per pass was
 * a third of a text search's time).
 */
static ssize_t
msg_read(uint64_t pos, uint64_t end, const char **p)
{
	size_t want;
	ssize_t n;

	if (cur.whole == 0 && cur.st.st_size > 0 &&
	    (uint64_t)cur.st.st_size <= sizeof rbuf) {
		size_t got = 0;

		while (got < (size_t)cur.st.st_size) {
			n = pread(cur.fd, rbuf + got, (size_t)cur.st.st_size -
			    got, (off_t)got);
			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n < 0) {
				return -1;
			}
			if (n == 0) {
				break;	/* shorter than its stat said */
			}
			got += (size_t)n;
		}
		/* An empty read still counts as cached: not again. */
		cur.whole = got > 0 ? got : SIZE_MAX;
	}
	if (cur.whole != 0) {
		size_t have = cur.whole == SIZE_MAX ? 0 : cur.whole;

		if (pos >= end || pos >= have) {
			return 0;
		}
		*p = rbuf + pos;
		return (ssize_t)((end < have ? end : have) - pos);
	}
	if (pos >= end) {
		return 0;
	}
	want = end - pos < sizeof rbuf ? (size_t)(end - pos) : sizeof rbuf;
	do {
		n = pread(cur.fd, rbuf, want, (off_t)pos);
	} while (n < 0 && errno == EINTR);
	*p = rbuf;
	return n;
}

/* The UTC day of t, rounding down for times before 1970. */
static int32_t
days_of(int64_t t)
{
	int64_t d = t / DAY_SECS;

	if (t % DAY_SECS < 0) {
		d--;
	}
	return (int32_t)d;
}

/* --- header ------------------------------------------------------------- */

/* A walk of the header that starts at from (at most to), calling fn
 * for each field until fn returns 1 (hw_run). */
static void
hw_begin(uint64_t from, uint64_t to, int (*fn)(const struct decode_field *))
{
	decode_hdr_init(&hdr);
	run.pos = from;
	run.end = to;
	run.fn = fn;
}

/*
 * The header walk, block by block: 1 when it is over (run.pos is then
 * where the body starts), R_MORE when the step's time ran out, -1 on
 * a read error.
 */
static int
hw_run(void)
{
	struct decode_field f;
	int done = 0, ev;

	while (!done) {
		const char *p;
		ssize_t n = msg_read(run.pos, run.end, &p);
		size_t left;

		if (n < 0) {
			return -1;
		}
		if (n == 0) {
			/* All header, no empty line. */
			decode_hdr_finish(&hdr);
			while (decode_hdr_next(&hdr, &f) == DECODE_HDR_FIELD) {
				if (run.fn(&f)) {
					break;
				}
			}
			break;
		}
		left = (size_t)n;
		while (left > 0 && !done) {
			size_t used = decode_hdr_feed(&hdr, p, left);
			int any = 0;

			p += used;
			left -= used;
			run.pos += used;
			while ((ev = decode_hdr_next(&hdr, &f)) !=
			    DECODE_HDR_NONE) {
				any = 1;
				if (ev == DECODE_HDR_END || run.fn(&f)) {
					done = 1;
					break;
				}
			}
			if (used == 0 && !any) {
				/* Cannot happen by decode.h; never spin. */
				done = 1;
			}
		}
		if (!done && over()) {
			return R_MORE;
		}
	}
	return 1;
}

/* "Name: value" of a field into line[], the value decoded (RFC 2047)
 * to UTF-8 from line + *nl + 2; returns the whole length. */
static size_t
field_line(const struct decode_field *f, size_t *nl)
{
	size_t n = f->name_len < DECODE_NAME_MAX ? f->name_len :
	    DECODE_NAME_MAX;

	memcpy(line, f->name, n);
	line[n] = ':';
	line[n + 1] = ' ';
	*nl = n;
	return n + 2 + decode_header(f->value, f->value_len, line + n + 2,
	    sizeof line - n - 2);
}

/* One field of the message's header against every header key still
 * open. Never stops the walk: the body offset is wanted. */
static int
header_field(const struct decode_field *f)
{
	const struct imap_search_node *n = cur.prog->node;
	size_t nl = 0, all = 0, len;
	int decoded = 0;

	if (name_is(f, "Date", 4) && !cur.date_seen) {
		date_field(f);
	}
	if (name_is(f, "Content-Transfer-Encoding", 25) && cur.cte_len == 0 &&
	    f->value_len <= sizeof cur.cte) {
		/* Kept for a body the MIME parser calls non-MIME (no
		 * MIME-Version): Dovecot still decodes it for SEARCH. */
		memcpy(cur.cte, f->value, f->value_len);
		cur.cte_len = f->value_len;
	}
	for (unsigned i = 1; i < cur.prog->n; i++) {
		char name[DECODE_NAME_MAX];
		const struct imap_arg *a = n[i].str;
		const char *want, *nee;
		int whole = 0;

		if (cur.res[i] != R_UNKNOWN) {
			continue;
		}
		switch (n[i].key) {
		case IMAP_SK_FROM:
			want = "From";
			break;
		case IMAP_SK_TO:
			want = "To";
			break;
		case IMAP_SK_CC:
			want = "Cc";
			break;
		case IMAP_SK_BCC:
			want = "Bcc";
			break;
		case IMAP_SK_SUBJECT:
			want = "Subject";
			break;
		case IMAP_SK_HEADER:
			if (arg_text(a, name, sizeof name, &len) == -1 ||
			    !name_is(f, name, len)) {
				continue;
			}
			want = NULL;
			a = n[i].str2;
			break;
		case IMAP_SK_TEXT:
			want = NULL;
			whole = 1;
			break;
		default:
			continue;
		}
		if (want != NULL && !name_is(f, want, strlen(want))) {
			continue;
		}
		if (!decoded) {
			all = field_line(f, &nl);	/* once per field */
			decoded = 1;
		}
		if ((nee = needle(a, &len)) != NULL && match_in(nee, len,
		    whole ? line : line + nl + 2, whole ? all :
		    all - nl - 2) == 1) {
			cur.res[i] = R_YES;
		}
	}
	return 0;
}

/* A field of a part's header (a body part's MIME header, an embedded
 * message's header): TEXT covers every header of the message, as in
 * Dovecot. 1 when the walk can stop. */
static int
part_field(const struct decode_field *f)
{
	size_t nl, all = 0, len;
	int decoded = 0, open = 0, found = 0;

	for (unsigned k = 0; k < bp.n; k++) {
		const struct imap_search_node *nd = &cur.prog->node[bp.key[k]];
		const char *nee;

		if (nd->key != IMAP_SK_TEXT || cur.res[bp.key[k]] !=
		    R_UNKNOWN) {
			continue;
		}
		if (!decoded) {
			all = field_line(f, &nl);
			decoded = 1;
		}
		if ((nee = needle(nd->str, &len)) != NULL &&
		    match_in(nee, len, line, all) == 1) {
			cur.res[bp.key[k]] = R_YES;
			found = 1;
		} else {
			open++;
		}
	}
	return open == 0 || (found && eval(0) != R_UNKNOWN);
}

/* RFC 3501 6.4.4 SENT*: the date as written in the first Date:. */
static void
date_field(const struct decode_field *f)
{
	struct decode_date d;
	int ok = decode_date(f->value, f->value_len, &d) == 0;

	cur.date_seen = 1;
	for (unsigned i = 1; i < cur.prog->n; i++) {
		const struct imap_search_node *nd = &cur.prog->node[i];

		if (!ok) {
			continue;	/* settled as no after the header */
		}
		switch (nd->key) {
		case IMAP_SK_SENTBEFORE:
			cur.res[i] = d.days < nd->days;
			break;
		case IMAP_SK_SENTON:
			cur.res[i] = d.days == nd->days;
			break;
		case IMAP_SK_SENTSINCE:
			cur.res[i] = d.days >= nd->days;
			break;
		default:
			break;
		}
	}
}

static int
name_is(const struct decode_field *f, const char *name, size_t len)
{
	return f->name_len == len && strncasecmp(f->name, name, len) == 0;
}

/* --- body ------------------------------------------------------------- */

/* The MIME tree: of the header only (full 0), or of the whole file. */
static void
tree_begin(int full)
{
	mime_init(&tree);
	run.full = full;
	run.pos = 0;
	run.end = full ? (uint64_t)cur.st.st_size : cur.hdr_end;
}

/* The tree, block by block: 1 when built, R_MORE, or -1. */
static int
tree_run(void)
{
	while (run.pos < run.end) {
		const char *p;
		ssize_t n = msg_read(run.pos, run.end, &p);

		if (n < 0) {
			return -1;
		}
		if (n == 0) {
			break;		/* shorter than its stat said */
		}
		mime_feed(&tree, p, (size_t)n);
		run.pos += (uint64_t)n;
		if (run.pos < run.end && over()) {
			return R_MORE;
		}
	}
	mime_finish(&tree);
	return 1;
}

/*
 * A round: up to BODY_KEYS_MAX open BODY/TEXT keys over every text
 * part (and, for TEXT, the headers of the parts below the root);
 * between rounds the program may already be decided.
 */
static void
round_begin(void)
{
	bp.n = 0;
	for (unsigned i = 1; i < cur.prog->n && bp.n < BODY_KEYS_MAX; i++) {
		const struct imap_search_node *nd = &cur.prog->node[i];
		const char *nee;
		size_t len;

		if (key_need(nd->key) < NEED_BODY ||
		    cur.res[i] != R_UNKNOWN) {
			continue;
		}
		if ((nee = needle(nd->str, &len)) == NULL ||
		    match_init(&bp.m[bp.n], nee, len) == -1) {
			cur.res[i] = R_NO;	/* refused at the start */
			continue;
		}
		bp.key[bp.n++] = i;
	}
	run.part = 0;
}

/* The round's keys not found are not there. */
static void
round_end(void)
{
	for (unsigned i = 0; i < bp.n; i++) {
		if (cur.res[bp.key[i]] == R_UNKNOWN) {
			cur.res[bp.key[i]] = R_NO;
		}
	}
	bp.n = 0;
}

/* Starts the walk of the round's next part from run.part: 1 (run.ph
 * set), or 0 when the round has no part left. */
static int
round_next(void)
{
	if (run.single) {
		/* The header-only tree ends at the header: the body is
		 * the rest of the file. */
		if (run.part == 0 && (tree.parts[MIME_ROOT].flags &
		    MIME_F_TEXT)) {
			part_begin(&tree.parts[MIME_ROOT],
			    (uint64_t)cur.st.st_size);
			run.ph = PH_PART_BODY;
			return 1;
		}
		return 0;
	}
	for (; run.part < tree.nparts; run.part++) {
		const struct mime_part *p = &tree.parts[run.part];

		if (run.part != MIME_ROOT) {
			hw_begin(p->hdr_off, p->body_off, part_field);
			run.ph = PH_PART_HDR;
			return 1;
		}
		if (part_wanted(p)) {
			part_begin(p, p->end_off);
			run.ph = PH_PART_BODY;
			return 1;
		}
	}
	return 0;
}

/* A leaf text part: its octets are searched. */
static int
part_wanted(const struct mime_part *p)
{
	return (p->flags & MIME_F_TEXT) && p->child == MIME_NONE &&
	    !(p->flags & (MIME_F_MULTIPART | MIME_F_RFC822));
}

/* 1 when the round's keys are all found or the program is decided. */
static int
round_done(void)
{
	for (unsigned i = 0; i < bp.n; i++) {
		if (cur.res[bp.key[i]] == R_UNKNOWN) {
			return eval(0) != R_UNKNOWN;
		}
	}
	return 1;
}

/* One text part [body_off, end): raw octets -> transfer decoding ->
 * charset to UTF-8 -> the matchers (part_run). */
static void
part_begin(const struct mime_part *p, uint64_t end)
{
	const char *cte, *cs = "";
	size_t cte_len, cs_len = 0;

	if ((cte = mime_str(&tree, p->cte, &cte_len)) == NULL) {
		cte = "";
		cte_len = 0;
		if (p == &tree.parts[MIME_ROOT]) {
			cte = cur.cte;
			cte_len = cur.cte_len;
		}
	}
	if (!mime_param(&tree, p->params, p->nparams, "charset", &cs,
	    &cs_len)) {
		cs = "";
		cs_len = 0;
	}
	(void)decode_body_init(&dbody, cte, cte_len);
	(void)decode_cs_init(&dcs, cs, cs_len);
	for (unsigned i = 0; i < bp.n; i++) {
		match_reset(&bp.m[i]);	/* no match across two parts */
	}
	run.pos = p->body_off;
	run.end = end;
}

/*
 * The part, block by block: 1 when reading can stop (every key found,
 * or the program decided), 0 at its end otherwise, R_MORE when the
 * step's time ran out.
 */
static int
part_run(void)
{
	static char dbuf[4096];
	size_t n;

	while (run.pos < run.end) {
		const char *in;
		ssize_t r = msg_read(run.pos, run.end, &in);
		size_t left;

		if (r <= 0) {
			break;
		}
		run.pos += (uint64_t)r;
		left = (size_t)r;
		while (left > 0) {
			size_t used;

			n = decode_body_feed(&dbody, in, left, &used, dbuf,
			    sizeof dbuf);
			in += used;
			left -= used;
			if (body_text(dbuf, n)) {
				return 1;
			}
		}
		if (run.pos < run.end && over()) {
			return R_MORE;
		}
	}
	while ((n = decode_body_end(&dbody, dbuf, sizeof dbuf)) > 0) {
		if (body_text(dbuf, n)) {
			return 1;
		}
	}
	while ((n = decode_cs_end(&dcs, dbuf, sizeof dbuf)) > 0) {
		if (body_feed(dbuf, n)) {
			return 1;
		}
	}
	for (unsigned i = 0; i < bp.n; i++) {
		if (cur.res[bp.key[i]] == R_UNKNOWN && match_end(&bp.m[i])) {
			cur.res[bp.key[i]] = R_YES;
		}
	}
	return round_done();
}

/* Transfer-decoded octets through the charset converter. */
static int
body_text(const char *p, size_t len)
{
	static char ubuf[4096];

	while (len > 0) {
		size_t used, n = decode_cs_feed(&dcs, p, len, &used, ubuf,
		    sizeof ubuf);

		p += used;
		len -= used;
		if (body_feed(ubuf, n)) {
			return 1;
		}
	}
	return 0;
}

/* UTF-8 text to the open matchers: 1 when reading can stop. */
static int
body_feed(const char *p, size_t len)
{
	int open = 0, found = 0;

	if (len == 0) {
		return 0;
	}
	for (unsigned i = 0; i < bp.n; i++) {
		if (cur.res[bp.key[i]] != R_UNKNOWN) {
			continue;
		}
		if (match_feed(&bp.m[i], p, len)) {
			cur.res[bp.key[i]] = R_YES;
			found = 1;
		} else {
			open++;
		}
	}
	if (open == 0) {
		return 1;
	}
	/* "OR BODY a BODY b": once a is found, b need not be read. */
	return found && eval(0) != R_UNKNOWN;
}
