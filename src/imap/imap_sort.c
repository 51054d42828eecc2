/* SPDX-License-Identifier: ISC */
/*
 * imap_sort.c - SORT and UID SORT (RFC 5256 3; RFC 5957 DISPLAYFROM,
 * DISPLAYTO), ESORT (RFC 5267 3: SORT RETURN), THREAD and UID THREAD
 * (RFC 5256 3: ORDEREDSUBJECT, REFERENCES), each a job in slices:
 *
 *   wait for the arena -> SEARCH (imap_search.c, matches collected)
 *   -> KEYS (each match's header read once) -> the steps of the
 *   command (merge sorts, the thread steps of imap_thread.c), each
 *   resumable at any index -> OUT (streamed as the socket drains)
 *
 * Every slice works about IMAP_STEP_MS, checked between items of at
 * most MERGE_CHUNK merged elements, one message's header, or one node
 * of a step (one thread of the output), so a sort of 100,000 messages
 * never holds the loop. Memory is one static arena
 * (IMAP_SORT_ARENA) held by one command at a time; another SORT or
 * THREAD waits its turn (it yields and retries each loop turn). A
 * client that does not read holds the arena until it reads or is
 * dropped.
 *
 *   SORT:   ents[cap] (seq, key) | idx[cap] | aux[cap]
 *   THREAD: nodes[cap] | roots[cap] | idx[cap] | aux[cap] (= ID and
 *           subject buckets outside the sorts)
 *
 * A SORT key is fixed (IMAP_SORT_KEY octets): each criterion has a
 * segment, 4 octets big-endian for a date or size, the rest shared by
 * the text criteria (upper-cased, so i;ascii-casemap is memcmp), all
 * complemented under REVERSE; ties fall to the next criterion, then
 * to the sequence number (RFC 5256 3). Neighbours whose keys are
 * equal but cut short are keyed again from further on (tie_step), so
 * texts compare whole while a key stays small. THREAD tells IDs and
 * subjects apart by 64-bit hashes.
 *
 * The keys a header gives (its texts whole, the date, THREAD's hashes)
 * are kept in the folder's header cache (store/hcache.h, Kconfig
 * IMAP_HCACHE) as a message is read, so that a SORT or THREAD of a
 * folder seen before reads a hundred bytes per message from the cache
 * instead of opening each file; they are the keys the header gives,
 * so the answer is the same either way. A record is served only while
 * the message's UID, base-name hash and size are those it was made
 * from (a flag change keeps them: the base name does not change).
 * ARRIVAL is the file's mtime when it was first read.
 *
 * Choices: the sent date is Date: in UTC, or INTERNALDATE without a
 * readable one (RFC 5256 2.2); a message whose file is gone has empty
 * keys and date 0; at most IMAP_SORT_HDR_MAX header octets are read.
 * ESORT's MIN and MAX are the first and last in the sort order (RFC
 * 5267 3.1); its ALL is streamed in that order (imap_esearch.c).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "imap/imap_int.h"
#include "imap/imap_thread.h"
#include "msg/decode.h"
#include "msg/msgid.h"
#include "msg/sortkey.h"
#include "store/hcache.h"

#define CRIT_MAX	8
#define MERGE_CHUNK	4096	/* elements merged per step item */
#define KEY_CUT		(IMAP_SORT_KEY - 1)	/* key[]: bit k, text
					 * criterion k goes on past its
					 * segment; not compared */
#define ADDR_KEY_MAX	1024	/* an address key, for refinement */
#define CLOCK_EVERY	16	/* items between clock reads (a power of
				 * two), when none read a file */

enum crit {
	C_ARRIVAL, C_CC, C_DATE, C_FROM, C_SIZE, C_SUBJECT, C_TO,
	C_DISPLAYFROM, C_DISPLAYTO, C_NONE
};

static const char *const crit_name[C_NONE] = {
	"ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO",
	"DISPLAYFROM", "DISPLAYTO"
};

enum kind { K_SORT, K_ORDERED, K_REFS };

/* The steps after KEYS, per kind (see the top comment). */
enum step {
	S_GATHER,	/* idx: every message (SORT, ORDERED) */
	S_SORT,		/* merge sort of idx with st.before */
	S_TIES,		/* SORT: equal keys cut short compared further */
	S_GROUP,	/* ORDERED: runs of a subject under their first */
	S_ROOTS,	/* REFERENCES 2 */
	S_PRUNE,	/* REFERENCES 4 */
	S_PRUNE_ROOTS,
	S_KIDS,		/* idx: every node with a parent */
	S_RELINK,	/* children lists in idx's order */
	S_ROOTSORT,	/* idx: the roots, then sorted */
	S_ROOTBACK,	/* roots = idx */
	S_SUBJ_ADD,	/* REFERENCES 6 */
	S_SUBJ_MERGE,
	S_COMPACT,
	S_OUT
};

static const enum step prog_sort[] = { S_GATHER, S_SORT, S_TIES, S_OUT };
static const enum step prog_ordered[] = { S_GATHER, S_SORT, S_GROUP,
	S_KIDS, S_SORT, S_RELINK, S_ROOTSORT, S_SORT, S_ROOTBACK, S_OUT };
static const enum step prog_refs[] = { S_ROOTS, S_PRUNE, S_PRUNE_ROOTS,
	S_KIDS, S_SORT, S_RELINK, S_ROOTSORT, S_SORT, S_ROOTBACK,
	S_SUBJ_ADD, S_SUBJ_MERGE, S_COMPACT, S_KIDS, S_SORT, S_RELINK,
	S_ROOTSORT, S_SORT, S_ROOTBACK, S_OUT };

struct ent {
	uint32_t	seq;
	uint8_t		key[IMAP_SORT_KEY];
};

struct crit_seg {
	uint8_t		c;		/* enum crit */
	uint8_t		rev;
	uint8_t		off, len;	/* in the key */
};

/* The arena's holder and its command. */
static struct {
	struct imap_session	*owner;
	enum kind		 kind;
	const enum step		*prog;
	unsigned		 pc;
	unsigned		 ret;		/* ESORT: RET_*; 0: SORT */
	unsigned		 ncrit;
	struct crit_seg		 crit[CRIT_MAX];
	uint32_t		 n, cap;	/* matches, room for */
	int			 full;
	uint32_t		 cur, end;	/* the step's index range */
	uint64_t		 deadline;
	struct ent		*ents;
	uint32_t		*idx, *aux;
	uint32_t		 nidx;
	struct thread_set	 t;
	/* merge sort of base[0..sn) (idx, or a tie group of it) */
	int			 (*before)(uint32_t, uint32_t);
	uint32_t		*base, *src, *dst, sn, w, at;
	uint32_t		 a, b, k, mid, hi;	/* the merge */
	/* S_TIES: the group [glo, ghi) being keyed again (tph 1) or
	 * sorted (tph 2), groups nested as frames (see tie_step) */
	int			 tph;
	uint32_t		 p, glo, ghi, koff;
	unsigned		 kc;		/* criterion keyed at koff */
	unsigned		 ntf;
	struct {
		uint32_t	 end;
		uint16_t	 c;		/* criteria before c tie */
		uint16_t	 off;		/* c keyed from off */
	}			 tf[IMAP_SORT_ROUNDS];
	/* THREAD output: where the walk is */
	uint32_t		 node;
	int			 leaving, space;
} st;

/* One message's header, as read for its keys: the texts (criterion
 * st.kc's from octet st.koff on, when a tie is refined), with their
 * whole lengths. */
static struct {
	int64_t		date;		/* sent, or -1 */
	int64_t		mtime;
	char		text[C_NONE][IMAP_SORT_KEY];
	size_t		tlen[C_NONE];
	size_t		full[C_NONE];
	uint64_t	subj;		/* THREAD */
	uint64_t	id, irt;
	size_t		refs_len;
	int		seen;		/* fields taken: bit per kind */
} hk;

static unsigned char	arena[IMAP_SORT_ARENA]
			    __attribute__((aligned(8)));
static char		rbuf[IMAP_CHUNK];
static char		refs[DECODE_HEADER_MAX];
static char		dec[DECODE_HEADER_MAX];
static char		base[DECODE_HEADER_MAX];
static char		abuf[ADDR_KEY_MAX];
static struct decode_hdr	hdr;
/* The keys of the header being read, for the cache: their texts
 * whole in sktext (sk_over when they do not fit), formatted into
 * skout. */
static struct hcache_sk	skb;
static char		sktext[HCACHE_TEXT_MAX];
static size_t		sktext_len;
static int		sk_over;
static int		io_done;	/* a file was read since over() */
static char		skout[HCACHE_TEXT_MAX];
/* The cache's text of each criterion (HCACHE_SK_TEXTS: none). */
static const uint8_t	crit_sk[C_NONE] = {
	HCACHE_SK_TEXTS, HCACHE_SK_CC, HCACHE_SK_TEXTS, HCACHE_SK_FROM,
	HCACHE_SK_TEXTS, HCACHE_SK_SUBJECT, HCACHE_SK_TO, HCACHE_SK_DFROM,
	HCACHE_SK_DTO
};

static int	parse_crit(const struct imap_cmd *, size_t i);
static int	parse_charset(struct imap_session *, size_t i);
static void	begin(struct imap_session *, enum kind);
static void	wait_step(struct imap_session *);
static void	job_abort(struct imap_session *);
static void	release(struct imap_session *);
static void	hit(struct imap_session *, uint32_t seq, uint32_t uid);
static void	searched(struct imap_session *);
static void	step(struct imap_session *);
static int	step_begin(enum step);
static int	step_item(struct imap_session *, enum step, uint32_t i);
static int	over(void);
static void	keys_of(struct imap_session *, uint32_t i);
static void	read_header(struct imap_session *, uint32_t seq,
		    uint32_t *vsize);
static int	keys_cached(struct imap_session *,
		    const struct mbox_msg *);
static void	keys_put(struct imap_session *, const struct mbox_msg *);
static void	sk_keep(enum crit, const char *, size_t);
static void	field(const struct decode_field *);
static void	key_build(struct ent *, uint32_t vsize);
static void	text_key(enum crit, const char *, size_t);
static void	addr_key(enum crit, const struct decode_field *, int display);
static int	tie_step(struct imap_session *);
static void	be32(uint8_t *p, uint64_t v);
static uint32_t	date32(int64_t t);
static int	merge_pass(void);
static int	ent_before(uint32_t, uint32_t);
static uint64_t	key_word(const uint8_t *);
static int	subj_before(uint32_t, uint32_t);
static int	kid_before(uint32_t, uint32_t);
static int	root_before(uint32_t, uint32_t);
static uint32_t	number(struct imap_session *, uint32_t seq);
static int	out_sort(struct imap_session *, uint32_t i);
static int	out_thread(struct imap_session *);
static void	finish(struct imap_session *, const char *status,
		    const char *text);

/* --- commands ----------------------------------------------------------- */

void
imap_sort_start(struct imap_session *s)
{
	const struct imap_cmd *c = &s->ws->cmd;
	size_t i = 0;
	unsigned ret = 0;

	if (imap_arg_is(&c->args[0], "RETURN")) {
		if (imap_return_parse(s, 1, &ret, 0) == -1) {
			return;
		}
		i = c->args[1].next;
	}
	if (i >= c->nargs || parse_crit(c, i) == -1) {
		imap_tagged(s, "BAD", "Invalid sort criteria");
		return;
	}
	i = c->args[i].next;
	s->ws->job.ret = ret;
	if (parse_charset(s, i) == -1 || imap_search_prepare(s,
	    c->args[i].next) == -1) {
		return;
	}
	begin(s, K_SORT);
}

void
imap_thread_start(struct imap_session *s)
{
	const struct imap_cmd *c = &s->ws->cmd;
	enum kind k;

	if (imap_arg_is(&c->args[0], "REFERENCES")) {
		k = K_REFS;
	} else if (imap_arg_is(&c->args[0], "ORDEREDSUBJECT")) {
		k = K_ORDERED;
	} else {
		imap_tagged(s, "BAD", "Unknown thread algorithm");
		return;
	}
	s->ws->job.ret = 0;
	if (parse_charset(s, c->args[0].next) == -1 ||
	    imap_search_prepare(s, c->args[c->args[0].next].next) == -1) {
		return;
	}
	begin(s, k);
}

/* The criteria list at args[i] into st.crit, with the key's segments
 * laid out: 0, or -1 when invalid. */
static int
parse_crit(const struct imap_cmd *c, size_t i)
{
	const struct imap_arg *l = &c->args[i];
	unsigned ntext = 0, fixed = 0, rev = 0;

	st.ncrit = 0;
	if (l->type != IMAP_ARG_LIST || l->nchild == 0) {
		return -1;
	}
	for (size_t j = i + 1; j < l->next; j = c->args[j].next) {
		unsigned k = 0;

		if (imap_arg_is(&c->args[j], "REVERSE") && !rev) {
			rev = 1;
			continue;
		}
		while (k < C_NONE && !imap_arg_is(&c->args[j], crit_name[k])) {
			k++;
		}
		if (k == C_NONE || st.ncrit == CRIT_MAX) {
			return -1;
		}
		st.crit[st.ncrit].c = (uint8_t)k;
		st.crit[st.ncrit++].rev = (uint8_t)rev;
		rev = 0;
		if (k == C_ARRIVAL || k == C_DATE || k == C_SIZE) {
			fixed += 4;
		} else {
			ntext++;
		}
	}
	if (rev || st.ncrit == 0 || fixed + 4 * ntext > KEY_CUT) {
		return -1;	/* REVERSE at the end; too many */
	}
	for (unsigned k = 0, off = 0; k < st.ncrit; k++) {
		unsigned c2 = st.crit[k].c, len = c2 == C_ARRIVAL || c2 ==
		    C_DATE || c2 == C_SIZE ? 4 : (KEY_CUT - fixed) / ntext;

		st.crit[k].off = (uint8_t)off;
		st.crit[k].len = (uint8_t)len;
		off += len;
	}
	return 0;
}

/* SORT and THREAD name a charset (RFC 5256 3): 0, or -1 answered. */
static int
parse_charset(struct imap_session *s, size_t i)
{
	const struct imap_cmd *c = &s->ws->cmd;

	if (i >= c->nargs || c->args[i].next >= c->nargs) {
		imap_tagged(s, "BAD", "Missing argument");
		return -1;
	}
	if (!imap_arg_is(&c->args[i], "UTF-8") &&
	    !imap_arg_is(&c->args[i], "US-ASCII")) {
		imap_tagged(s, "NO", "[BADCHARSET (US-ASCII UTF-8)] "
		    "Unsupported charset");
		return -1;
	}
	return 0;
}

/* --- the job ------------------------------------------------------------ */

/* The kind is read again from the command once the arena is ours
 * (st is the holder's). */
static void
begin(struct imap_session *s, enum kind k)
{
	(void)k;
	imap_job_run(s, wait_step, job_abort);
}

/* Waiting for the arena; then the SEARCH, its matches into it. */
static void
wait_step(struct imap_session *s)
{
	const struct imap_cmd *c = &s->ws->cmd;
	size_t i = 0;
	uint32_t per;

	if (st.owner != NULL) {
		imap_job_yield(s);
		return;
	}
	st.owner = s;
	st.ret = s->ws->job.ret;
	if (c->cmd == IMAP_CMD_SORT) {
		if (imap_arg_is(&c->args[0], "RETURN")) {
			i = c->args[1].next;
		}
		(void)parse_crit(c, i);		/* checked before */
		st.kind = K_SORT;
		st.prog = prog_sort;
		per = sizeof(struct ent) + 2 * sizeof(uint32_t);
	} else {
		st.kind = imap_arg_is(&c->args[0], "REFERENCES") ? K_REFS :
		    K_ORDERED;
		st.prog = st.kind == K_REFS ? prog_refs : prog_ordered;
		per = sizeof(struct thread_node) + 3 * sizeof(uint32_t);
	}
	st.cap = (uint32_t)(sizeof arena / per);
	st.n = 0;
	st.full = 0;
	st.pc = 0;
	st.cur = 0;
	if (st.kind == K_SORT) {
		st.ents = (struct ent *)(void *)arena;
		st.idx = (uint32_t *)(void *)(st.ents + st.cap);
		st.aux = st.idx + st.cap;
	} else {
		struct thread_node *nodes = (struct thread_node *)(void *)
		    arena;
		uint32_t *roots = (uint32_t *)(void *)(nodes + st.cap);
		uint32_t nb = 1;

		while (nb * 2 <= st.cap) {
			nb *= 2;
		}
		st.idx = roots + st.cap;
		st.aux = st.idx + st.cap;
		/* The ID buckets share aux: no sort runs while IDs are
		 * looked up. */
		thread_init(&st.t, nodes, st.cap, st.aux, nb, roots);
	}
	imap_search_run(s, hit, searched, job_abort);
}

static void
job_abort(struct imap_session *s)
{
	release(s);
}

static void
release(struct imap_session *s)
{
	if (st.owner == s) {
		st.owner = NULL;
	}
}

/* A match of the SEARCH: its sequence number kept. */
static void
hit(struct imap_session *s, uint32_t seq, uint32_t uid)
{
	(void)s;
	(void)uid;
	if (st.n >= st.cap) {
		st.full = 1;
		return;
	}
	if (st.kind == K_SORT) {
		st.ents[st.n++].seq = seq;
	} else {
		st.t.roots[st.n++] = seq;	/* roots come later */
	}
}

/* The SEARCH is over: the keys, then the command's steps. */
static void
searched(struct imap_session *s)
{
	s->ws->job.step = step;
	s->ws->job.abort = job_abort;
	if (st.full) {
		finish(s, "NO", "[LIMIT] Too many messages to sort");
		return;
	}
	st.cur = 0;
	st.end = st.n;
	st.koff = 0;
	st.kc = 0;
	st.pc = (unsigned)-1;	/* KEYS first */
	step(s);
}

/* One slice: items of the current step until done or out of time. */
static void
step(struct imap_session *s)
{
	st.deadline = ev_clock_ms() + IMAP_STEP_MS;
	/* The cache is read before the first keys: its file is loaded
	 * in slices of its own. */
	if (st.pc == (unsigned)-1 && hcache_load(s->view.mb) == 0) {
		imap_job_yield(s);
		return;
	}
	for (;;) {
		enum step sp = st.pc == (unsigned)-1 ? S_GATHER :
		    st.prog[st.pc];

		while (st.cur < st.end) {
			int r;

			if (st.pc == (unsigned)-1) {
				keys_of(s, st.cur);
				r = 1;
			} else {
				r = step_item(s, sp, st.cur);
			}
			if (r == 0) {
				return;		/* waits for the socket */
			}
			if (r == -1) {
				finish(s, "OK", NULL);
				return;
			}
			st.cur++;
			/* The clock is read after every item that read a
			 * file, else every CLOCK_EVERY items: keys from the
			 * cache take a fraction of a microsecond, about
			 * what the clock costs. */
			if (st.cur < st.end && (io_done || (st.cur &
			    (CLOCK_EVERY - 1)) == 0) && over()) {
				imap_job_yield(s);
				return;
			}
		}
		if (sp == S_OUT) {
			finish(s, "OK", NULL);
			return;
		}
		st.pc++;
		st.cur = 0;
		if (step_begin(st.prog[st.pc]) == 1) {
			finish(s, "OK", NULL);	/* S_OUT of nothing */
			return;
		}
		if (over()) {
			imap_job_yield(s);
			return;
		}
	}
}

/* Sets st.end for a step (and does what it does once): 1 when the
 * output is already complete. */
static int
step_begin(enum step sp)
{
	switch (sp) {
	case S_GATHER:
		st.nidx = st.end = st.kind == K_SORT ? st.n : st.t.nn - 1;
		st.before = st.kind == K_SORT ? ent_before : subj_before;
		break;
	case S_SORT:
		st.at = st.k = st.hi = 0;
		st.base = st.src = st.idx;
		st.dst = st.aux;
		st.sn = st.nidx;
		st.w = 1;
		st.end = st.nidx > 1 ? UINT32_MAX : 0;
		break;
	case S_TIES:
		st.tph = 0;
		st.p = 0;
		st.ntf = 1;
		st.tf[0].end = st.n;
		st.tf[0].c = 0;
		st.tf[0].off = 0;
		st.end = st.n > 1 ? UINT32_MAX : 0;
		break;
	case S_GROUP:
		st.t.nroots = 0;
		st.end = st.nidx;
		break;
	case S_ROOTS:
	case S_PRUNE:
		st.t.nroots = sp == S_ROOTS ? 0 : st.t.nroots;
		st.end = st.t.nn;
		st.cur = 1;
		break;
	case S_PRUNE_ROOTS:
		thread_prune_roots(&st.t);
		st.end = 0;
		break;
	case S_KIDS:
		st.nidx = 0;
		st.end = st.t.nn;
		st.cur = 1;
		st.before = kid_before;
		break;
	case S_RELINK:
		st.end = 2 * st.nidx;	/* clear, then link backwards */
		break;
	case S_ROOTSORT:
		memcpy(st.idx, st.t.roots, st.t.nroots * sizeof *st.idx);
		st.nidx = st.t.nroots;
		st.before = root_before;
		st.end = 0;
		break;
	case S_ROOTBACK:
		memcpy(st.t.roots, st.idx, st.nidx * sizeof *st.idx);
		st.end = 0;
		break;
	case S_SUBJ_ADD:
		memset(st.t.bucket, 0, st.t.nb * sizeof *st.t.bucket);
		/* FALLTHROUGH */
	case S_SUBJ_MERGE:
		st.end = st.t.nroots;
		break;
	case S_COMPACT:
		thread_roots_compact(&st.t);
		st.end = 0;
		break;
	case S_OUT:
		if (st.kind == K_SORT && st.ret == 0) {
			(void)imap_out(st.owner, "* SORT", 6);
		} else if (st.kind == K_SORT) {
			struct imap_session *s = st.owner;

			(void)imap_outf(s, "* ESEARCH (TAG \"%s\")%s",
			    s->ws->tag, s->ws->cmd.uid ? " UID" : "");
			if (st.n > 0 && (st.ret & IMAP_RET_MIN)) {
				(void)imap_outf(s, " MIN %u", number(s,
				    st.ents[st.idx[0]].seq));
			}
			if (st.n > 0 && (st.ret & IMAP_RET_MAX)) {
				(void)imap_outf(s, " MAX %u", number(s,
				    st.ents[st.idx[st.n - 1]].seq));
			}
			if (st.ret & IMAP_RET_COUNT) {
				(void)imap_outf(s, " COUNT %u", st.n);
			}
			s->ws->job.slo = s->ws->job.shi = 0;
			if (!(st.ret & IMAP_RET_ALL)) {
				return 1;
			}
		} else {
			(void)imap_out(st.owner, "* THREAD", 8);
			st.node = 0;
		}
		st.end = st.kind == K_SORT ? st.n : st.t.nroots;
		return st.end == 0;
	}
	return 0;
}

/* One item of a step: 1 done, 0 when the output is full (the same
 * item again when it drains), -1 when the client is gone. */
static int
step_item(struct imap_session *s, enum step sp, uint32_t i)
{
	struct thread_node *n = st.t.n;

	switch (sp) {
	case S_GATHER:
		st.idx[i] = st.kind == K_SORT ? i : i + 1;
		break;
	case S_SORT:
		if (merge_pass()) {
			st.cur = st.end - 1;	/* sorted */
		}
		break;
	case S_TIES:
		if (tie_step(s)) {
			st.cur = st.end - 1;	/* refined */
		}
		break;
	case S_GROUP: {
		uint32_t a = st.idx[i], r = i > 0 ? st.idx[i - 1] : 0;

		if (r != 0 && (n[r].subj | 1) == (n[a].subj | 1)) {
			n[a].parent = n[r].parent != 0 ? n[r].parent : r;
		} else {
			st.t.roots[st.t.nroots++] = a;
		}
		break;
	}
	case S_ROOTS:
		thread_root_of(&st.t, i);
		break;
	case S_PRUNE:
		thread_prune(&st.t, i);
		break;
	case S_KIDS:
		if (n[i].parent != 0 && n[i].parent != THREAD_GONE) {
			st.idx[st.nidx++] = i;
		}
		break;
	case S_RELINK:
		if (i < st.nidx) {
			n[n[st.idx[i]].parent].child = 0;
		} else {
			uint32_t c = st.idx[2 * st.nidx - 1 - i];

			n[c].next = n[n[c].parent].child;
			n[n[c].parent].child = c;
		}
		break;
	case S_SUBJ_ADD:
		thread_subject_add(&st.t, i);
		break;
	case S_SUBJ_MERGE:
		thread_subject_merge(&st.t, i);
		break;
	case S_OUT:
		if (!imap_room(s)) {
			return s->c->flags & (CONN_F_DEAD | CONN_F_CLOSING) ?
			    -1 : 0;
		}
		if (st.kind == K_SORT) {
			return out_sort(s, i);
		}
		while (!out_thread(s)) {
			if (!imap_room(s)) {
				return s->c->flags & (CONN_F_DEAD |
				    CONN_F_CLOSING) ? -1 : 0;
			}
		}
		return 1;
	default:
		break;
	}
	return 1;
}

static int
over(void)
{
	io_done = 0;
	return ev_clock_ms() >= st.deadline;
}

/* The tagged reply (status OK: the answer's line end first). */
static void
finish(struct imap_session *s, const char *status, const char *text)
{
	const char *name = s->ws->cmd.cmd == IMAP_CMD_SORT ? "SORT" :
	    "THREAD";

	if (text == NULL) {
		if (st.kind == K_SORT && st.ret != 0) {
			imap_set_flush(s);
		}
		(void)imap_out(s, "\r\n", 2);
	}
	release(s);
	imap_updates(s, 0);	/* no EXPUNGE: as SEARCH */
	if (text != NULL) {
		imap_tagged(s, status, "%s", text);
	} else {
		imap_tagged(s, status, "%s%s completed", s->ws->cmd.uid ?
		    "UID " : "", name);
	}
	imap_job_done(s);
}

/* --- keys ------------------------------------------------------------- */

/* Match i's header read and its keys made. */
static void
keys_of(struct imap_session *s, uint32_t i)
{
	uint32_t seq = st.kind == K_SORT ? st.ents[i].seq : st.t.roots[i];
	uint32_t vsize = 0, date, left = st.n - i - 1;

	read_header(s, seq, &vsize);
	if (st.kind == K_SORT) {
		key_build(&st.ents[i], vsize);
		return;
	}
	date = date32(hk.date >= 0 ? hk.date : hk.mtime);
	if (st.kind == K_ORDERED) {
		(void)thread_add_plain(&st.t, seq, date, hk.subj);
	} else {
		(void)thread_add(&st.t, seq, date, hk.subj, hk.id,
		    hk.refs_len > 0 ? refs : NULL, hk.refs_len, hk.irt, left);
	}
}

/* The header of message seq into hk (empty keys when unreadable). */
static void
read_header(struct imap_session *s, uint32_t seq, uint32_t *vsize)
{
	const struct mbox_msg *m = mbox_view_seq(&s->view, seq);
	struct decode_field f;
	struct stat sb;
	uint64_t pos = 0;
	int fd, done = 0, ev;

	memset(hk.tlen, 0, sizeof hk.tlen);
	memset(hk.full, 0, sizeof hk.full);
	hk.date = -1;
	hk.mtime = 0;
	hk.subj = hk.id = hk.irt = 0;
	hk.refs_len = 0;
	hk.seen = 0;
	if (m != NULL && keys_cached(s, m)) {
		*vsize = m->vsize;
		return;
	}
	io_done = 1;
	if (m == NULL || (fd = mbox_open_msg(s->view.mb, m, &sb)) == -1) {
		return;
	}
	*vsize = m->vsize;
	hk.mtime = (int64_t)sb.st_mtime;
	sktext_len = 0;
	sk_over = 0;
	memset(&skb, 0, sizeof skb);
	decode_hdr_init(&hdr);
	while (!done && pos < IMAP_SORT_HDR_MAX) {
		ssize_t n = pread(fd, rbuf, sizeof rbuf, (off_t)pos);
		const char *p = rbuf;

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			sk_over = 1;	/* keys of half a header: not kept */
		}
		if (n <= 0) {
			decode_hdr_finish(&hdr);
			while (decode_hdr_next(&hdr, &f) == DECODE_HDR_FIELD) {
				field(&f);
			}
			break;
		}
		pos += (uint64_t)n;
		while (n > 0 && !done) {
			size_t used = decode_hdr_feed(&hdr, p, (size_t)n);
			int any = 0;

			p += used;
			n -= (ssize_t)used;
			while ((ev = decode_hdr_next(&hdr, &f)) !=
			    DECODE_HDR_NONE) {
				any = 1;
				if (ev == DECODE_HDR_END) {
					done = 1;
					break;
				}
				field(&f);
			}
			if (used == 0 && !any) {
				done = 1;	/* never spin */
			}
		}
	}
	close(fd);
	keys_put(s, m);
}

/* hk from m's record in the cache: 1, or 0 when there is none. */
static int
keys_cached(struct imap_session *s, const struct mbox_msg *m)
{
	struct hcache_rec r;
	struct hcache_sk k;

	if (hcache_get_sk(s->view.mb, m, &r) != 1 ||
	    hcache_sk_parse(r.sk, r.sk_len, &k) == -1 ||
	    k.len[HCACHE_SK_REFS] > sizeof refs) {
		return 0;
	}
	hk.date = k.date;
	hk.mtime = k.mtime;
	hk.subj = k.subj;
	hk.id = k.id;
	hk.irt = k.irt;
	/* Only the texts the criteria key (THREAD keys none). */
	for (unsigned j = 0; st.kind == K_SORT && j < st.ncrit; j++) {
		unsigned c = st.crit[j].c;

		if (crit_sk[c] != HCACHE_SK_TEXTS) {
			text_key((enum crit)c, k.text[crit_sk[c]],
			    k.len[crit_sk[c]]);
		}
	}
	hk.refs_len = k.len[HCACHE_SK_REFS];
	if (st.kind == K_REFS && hk.refs_len > 0) {
		memcpy(refs, k.text[HCACHE_SK_REFS], hk.refs_len);
	}
	return 1;
}

/* The keys just read from m's header into the cache, when they fit. */
static void
keys_put(struct imap_session *s, const struct mbox_msg *m)
{
	size_t n;

	if (sk_over) {
		return;			/* read from the file each time */
	}
	skb.date = hk.date;
	skb.mtime = hk.mtime;
	skb.subj = hk.subj;
	skb.id = hk.id;
	skb.irt = hk.irt;
	skb.text[HCACHE_SK_REFS] = refs;
	skb.len[HCACHE_SK_REFS] = hk.refs_len;
	if ((n = hcache_sk_fmt(skout, sizeof skout, &skb)) > 0) {
		(void)hcache_put_sk(s->view.mb, m, skout, n);
	}
}

/* Criterion c's whole text, kept for the cache. */
static void
sk_keep(enum crit c, const char *t, size_t n)
{
	if (n > sizeof sktext - sktext_len) {
		sk_over = 1;
		return;
	}
	memcpy(sktext + sktext_len, t, n);
	skb.text[crit_sk[c]] = sktext + sktext_len;
	skb.len[crit_sk[c]] = n;
	sktext_len += n;
}

/* One header field: the first of each name counts. */
static void
field(const struct decode_field *f)
{
	static const char *const names[] = { "Subject", "From", "To", "Cc",
		"Date", "Message-ID", "References", "In-Reply-To" };
	const char *id;
	size_t k = 0, n, pos = 0, idlen;
	int reply;

	while (k < 8 && !(f->name_len == strlen(names[k]) &&
	    strncasecmp(f->name, names[k], f->name_len) == 0)) {
		k++;
	}
	if (k == 8 || (hk.seen & (1 << k))) {
		return;
	}
	hk.seen |= 1 << k;
	switch (k) {
	case 0:
		n = decode_header(f->value, f->value_len, dec, sizeof dec);
		n = sortkey_subject(dec, n, base, sizeof base, &reply);
		text_key(C_SUBJECT, base, n);
		sk_keep(C_SUBJECT, base, n);
		hk.subj = n == 0 ? 0 : (sortkey_hash(base, n) & ~1ull) |
		    2u | (unsigned)reply;
		break;
	case 1:
		addr_key(C_FROM, f, 0);
		addr_key(C_DISPLAYFROM, f, 1);
		break;
	case 2:
		addr_key(C_TO, f, 0);
		addr_key(C_DISPLAYTO, f, 1);
		break;
	case 3:
		addr_key(C_CC, f, 0);
		break;
	case 4: {
		struct decode_date d;

		if (decode_date(f->value, f->value_len, &d) == 0) {
			hk.date = d.t;
		}
		break;
	}
	case 5:
	case 7:
		if (msgid_next(f->value, f->value_len, &pos, &id, &idlen)) {
			*(k == 5 ? &hk.id : &hk.irt) = sortkey_hash(id,
			    idlen) | 1;
		}
		break;
	default:
		/* A cut value may end in half an ID: msgid_next skips
		 * it (no '>'). */
		memcpy(refs, f->value, f->value_len);
		hk.refs_len = f->value_len;
		break;
	}
}

/* The fixed key of a message from hk (see the top comment). */
static void
key_build(struct ent *e, uint32_t vsize)
{
	e->key[KEY_CUT] = 0;
	for (unsigned k = st.kc; k < st.ncrit; k++) {
		const struct crit_seg *c = &st.crit[k];
		uint8_t *p = e->key + c->off;
		size_t from = k == st.kc ? st.koff : 0;

		/* Criteria before kc tie in the group: kept as they are. */
		memset(p, 0, c->len);
		switch (c->c) {
		case C_ARRIVAL:
			be32(p, date32(hk.mtime));
			break;
		case C_DATE:
			be32(p, date32(hk.date >= 0 ? hk.date : hk.mtime));
			break;
		case C_SIZE:
			be32(p, vsize);
			break;
		default:
			memcpy(p, hk.text[c->c], hk.tlen[c->c] < c->len ?
			    hk.tlen[c->c] : c->len);
			if (hk.full[c->c] > from + c->len) {
				e->key[KEY_CUT] |= (uint8_t)(1u << k);
			}
			break;
		}
		for (unsigned b = 0; c->rev && b < c->len; b++) {
			p[b] = (uint8_t)~p[b];
		}
	}
}

/* Text t[0..n) of criterion c as hk keeps it (criterion kc's from
 * koff on). */
static void
text_key(enum crit c, const char *t, size_t n)
{
	size_t o = st.kc < st.ncrit && st.crit[st.kc].c == c ? st.koff : 0;
	size_t k = n > o ? n - o : 0;

	k = k < IMAP_SORT_KEY ? k : IMAP_SORT_KEY;
	memcpy(hk.text[c], t + o, k);
	hk.tlen[c] = k;
	hk.full[c] = n;
}

static void
addr_key(enum crit c, const struct decode_field *f, int display)
{
	size_t n = sortkey_addr(f->value, f->value_len, display, abuf,
	    sizeof abuf);

	text_key(c, abuf, n);
	sk_keep(c, abuf, n);
}

static void
be32(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A time as 32 bits: 1970 to 2106, clamped. */
static uint32_t
date32(int64_t t)
{
	return t < 0 ? 0 : t > (int64_t)UINT32_MAX ? UINT32_MAX :
	    (uint32_t)t;
}

/* --- merge sort ---------------------------------------------------------- */

/*
 * Up to MERGE_CHUNK elements of the merge of two neighbouring runs of
 * width w, [at, mid) and [mid, hi), from src to dst (bottom-up merge
 * sort, stable), resumed where the last call left it (a, b, k). 1 when
 * idx is sorted.
 */
static int
merge_pass(void)
{
	uint32_t n = st.sn, *t, left = MERGE_CHUNK;

	if (st.k == st.hi) {		/* the next pair of runs */
		st.mid = st.at + st.w < n ? st.at + st.w : n;
		st.hi = st.mid + st.w < n ? st.mid + st.w : n;
		st.a = st.k = st.at;
		st.b = st.mid;
	}
	{
		/* In locals: st would be read again after every call of
		 * before, which may write memory as far as the compiler
		 * knows. */
		int (*before)(uint32_t, uint32_t) = st.before;
		const uint32_t *src = st.src;
		uint32_t *dst = st.dst, a = st.a, b = st.b, k = st.k;
		uint32_t mid = st.mid, hi = st.hi;

		for (; left > 0 && k < hi; left--) {
			if (b >= hi || (a < mid && !before(src[b],
			    src[a]))) {
				dst[k++] = src[a++];
			} else {
				dst[k++] = src[b++];
			}
		}
		st.a = a;
		st.b = b;
		st.k = k;
	}
	if (st.k < st.hi) {
		return 0;
	}
	st.at = st.hi;
	if (st.at < n) {
		return 0;
	}
	st.at = 0;
	t = st.src;
	st.src = st.dst;
	st.dst = t;
	if (st.w >= n - st.w) {
		if (st.src != st.base) {
			memcpy(st.base, st.src, n * sizeof *st.base);
		}
		return 1;
	}
	st.w *= 2;
	return 0;
}

/*
 * Equal keys of texts cut short are compared further: such a group
 * of neighbours [glo, ghi) is keyed again from the next segment of
 * its texts (each message's header read again, tph 1), sorted (tph
 * 2), and scanned for groups still equal (a frame, one level deeper);
 * a level is left at its end. Keying every text criterion at once
 * from the same offset is exact: the group ties on all criteria
 * before, so the first text that differs decides, as a comparison of
 * the whole texts would. At most IMAP_SORT_ROUNDS levels: enough for
 * whole texts of 4-octet segments. 1 when done.
 */
static int
tie_step(struct imap_session *s)
{
	unsigned top = st.ntf - 1;
	uint32_t q, cut;

	if (st.tph == 1) {		/* one message keyed again */
		struct ent *e = &st.ents[st.idx[st.p++]];
		uint32_t vsize = 0;

		read_header(s, e->seq, &vsize);
		key_build(e, vsize);
		if (st.p == st.ghi) {
			st.koff = 0;
			st.kc = 0;
			st.tph = 2;
			st.at = st.k = st.hi = 0;
			st.base = st.src = st.idx + st.glo;
			st.dst = st.aux + st.glo;
			st.sn = st.ghi - st.glo;
			st.w = 1;
			st.p = st.glo;
		}
		return 0;
	}
	if (st.tph == 2) {
		st.tph = merge_pass() ? 0 : 2;
		return 0;
	}
	if (st.p >= st.tf[top].end) {
		return --st.ntf == 0;	/* a level done */
	}
	/* From the frame's criterion on: the neighbours equal to p up to
	 * the end of criterion k's segment; a text cut there in any of
	 * them makes them a group, keyed again from the next segment of
	 * that text (and from the start for the criteria after it). */
	q = st.tf[top].end;
	for (unsigned k = st.tf[top].c; k < st.ncrit; k++) {
		const struct crit_seg *c = &st.crit[k];
		size_t end = (size_t)c->off + c->len;
		uint32_t r;

		cut = st.ents[st.idx[st.p]].key[KEY_CUT];
		for (r = st.p + 1; r < q && memcmp(st.ents[st.idx[r]].key,
		    st.ents[st.idx[st.p]].key, end) == 0; r++) {
			cut |= st.ents[st.idx[r]].key[KEY_CUT];
		}
		q = r;
		if (q - st.p < 2) {
			break;
		}
		if ((cut & (1u << k)) && st.ntf < IMAP_SORT_ROUNDS) {
			st.tf[st.ntf].end = q;
			st.tf[st.ntf].c = (uint16_t)k;
			st.tf[st.ntf].off = (uint16_t)((k == st.tf[top].c ?
			    st.tf[top].off : 0) + c->len);
			st.kc = k;
			st.koff = st.tf[st.ntf].off;
			st.ntf++;
			st.glo = st.p;
			st.ghi = q;
			st.tph = 1;
			return 0;
		}
	}
	st.p = q - st.p < 2 ? st.p + 1 : q;
	return 0;
}

/* Keys compared a word at a time, as big-endian numbers (memcmp's
 * order): the comparisons were 40 % of a warm SORT, memcmp calls on
 * 27 octets among them. */
static int
ent_before(uint32_t a, uint32_t b)
{
	const uint8_t *x = st.ents[a].key, *y = st.ents[b].key;
	unsigned i;

	for (i = 0; i + 8 <= KEY_CUT; i += 8) {
		uint64_t u = key_word(x + i), v = key_word(y + i);

		if (u != v) {
			return u < v;
		}
	}
	for (; i < KEY_CUT; i++) {
		if (x[i] != y[i]) {
			return x[i] < y[i];
		}
	}
	return a < b;
}

/* Eight key octets as a big-endian number: a load and a byte swap
 * where the compiler tells the host's order, else shifts. */
static uint64_t
key_word(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap64(w);
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return w;
#else
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
	    (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
	    (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	    (uint64_t)p[6] << 8 | (uint64_t)p[7];
#endif
}

/* ORDEREDSUBJECT: subject, then sent date, then sequence. */
static int
subj_before(uint32_t a, uint32_t b)
{
	const struct thread_node *x = &st.t.n[a], *y = &st.t.n[b];

	if ((x->subj | 1) != (y->subj | 1)) {
		return (x->subj | 1) < (y->subj | 1);
	}
	if (x->date != y->date) {
		return x->date < y->date;
	}
	return x->seq < y->seq;
}

static int
kid_before(uint32_t a, uint32_t b)
{
	return thread_child_before(&st.t, a, b);
}

static int
root_before(uint32_t a, uint32_t b)
{
	return thread_root_before(&st.t, a, b);
}

/* --- output ------------------------------------------------------------ */

static uint32_t
number(struct imap_session *s, uint32_t seq)
{
	const struct mbox_msg *m;

	if (!s->ws->cmd.uid) {
		return seq;
	}
	m = mbox_view_seq(&s->view, seq);
	return m != NULL ? m->uid : 0;
}

static int
out_sort(struct imap_session *s, uint32_t i)
{
	uint32_t v = number(s, st.ents[st.idx[i]].seq);

	if (st.ret != 0) {
		imap_set_add(s, v);
	} else {
		(void)imap_outf(s, " %u", v);
	}
	return 1;
}

/*
 * A piece of the thread list (RFC 5256 5: thread-list): a node's
 * number as it is entered, "(" before each of two or more children,
 * ")" after each; the walk goes on from (st.node, st.leaving) at the
 * next call, without recursion. 1 when root i is done.
 */
static int
out_thread(struct imap_session *s)
{
	struct thread_node *n = st.t.n;
	uint32_t x = st.node, p;

	if (x == 0) {
		x = st.node = st.t.roots[st.cur];
		st.leaving = 0;
		st.space = 0;
		(void)imap_out(s, st.cur == 0 ? " (" : "(", st.cur == 0 ?
		    2 : 1);
	}
	if (!st.leaving) {
		if (n[x].seq != 0) {
			(void)imap_outf(s, "%s%u", st.space ? " " : "",
			    number(s, n[x].seq));
			st.space = 1;
		}
		if (n[x].child == 0) {
			st.leaving = 1;
		} else {
			if (n[n[x].child].next != 0) {
				(void)imap_out(s, st.space ? " (" : "(",
				    st.space ? 2 : 1);
				st.space = 0;
			}
			st.node = n[x].child;
		}
		return 0;
	}
	if ((p = n[x].parent) == 0) {
		(void)imap_out(s, ")", 1);
		st.node = 0;
		return 1;
	}
	if (n[n[p].child].next != 0) {
		(void)imap_out(s, ")", 1);
		if (n[x].next != 0) {
			(void)imap_out(s, "(", 1);
			st.node = n[x].next;
			st.leaving = 0;
			st.space = 0;
			return 0;
		}
	}
	st.node = p;
	return 0;
}
