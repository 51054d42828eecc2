/* SPDX-License-Identifier: ISC */
/*
 * imap_int.h - what the IMAP files share: the session, its workspace,
 * the output path (imap_out.c) and each command file's entry points.
 *
 * A session is small and lives as long as its connection. Reading and
 * running a command needs a workspace (the command buffer, the parsed
 * command, FETCH/SEARCH state and an output spill buffer); it comes
 * from a pool when a command starts and goes back when the command is
 * done and its output has left, so sessions in IDLE hold none.
 *
 * Output: imap_out() appends to the connection's buffer, or to the
 * workspace's spill when that is full; the spill drains as the socket
 * takes it. Long jobs (FETCH of many messages, STORE of many) produce
 * output step by step: job_step runs while the output is under half a
 * buffer, and again when the socket drains.
 */
#ifndef WREN_IMAP_INT_H
#define WREN_IMAP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/conn.h"
#include "core/limits.h"
#include "imap/imap.h"
#include "imap/imap_parse.h"
#include "msg/decode.h"
#include "store/folder.h"
#include "store/mbox.h"
#include "store/mbox_save.h"

struct mime;

#define IMAP_MAILBOX_MAX	255	/* a mailbox name's octets as the
				 * client writes it; a longer one
				 * exists nowhere (Maildir++ names
				 * are file names) */
#define IMAP_YIELD_MS	1	/* a yielding job's next slice: the
				 * next loop turn */
#define IMAP_SPILL_MAX	(256 * 1024)	/* output that did not fit
				 * c->out: what one command may answer at
				 * once without the client reading (the
				 * EXPUNGEs of 15,000 messages, a LIST of
				 * 512 long names); address space, its
				 * pages touched only as used */
#define IMAP_CHUNK	16384	/* file reads while streaming a body */
#define IMAP_UIDSET_TEXT_MAX	1024	/* APPENDUID/COPYUID sets as text */
#define IMAP_STREAM_BUF	32768	/* output lent to the connection while
				 * a FETCH sends bodies: 8 times fewer
				 * writes than CONN_BUF_SIZE */

enum imap_state {
	IMAP_ST_NOAUTH,
	IMAP_ST_AUTH,
	IMAP_ST_SELECTED,
	IMAP_ST_LOGOUT
};

enum imap_busy {
	IMAP_B_NONE,
	IMAP_B_JOB,		/* a FETCH/STORE/SEARCH producing output */
	IMAP_B_IDLE,		/* waiting for DONE */
	IMAP_B_SASL,		/* waiting for the AUTHENTICATE response */
	IMAP_B_DELAY,		/* failed login: the answer waits */
	IMAP_B_STARTTLS		/* waiting for the handshake */
};

/* A body being streamed: raw file bytes [pos, end), bare LF sent as
 * CR LF, the first `skip` output octets dropped and at most `left`
 * sent (a <partial>). */
struct imap_stream {
	int		fd;
	off_t		pos, end;
	uint64_t	skip, left;
	int		cr;		/* previous raw byte was CR */
};

/* A BINARY item being decoded (imap_binary.c, RFC 3516): its raw
 * octets are in the job's stream (pos, end; skip and left count
 * decoded octets), read twice: once to count, once to send. */
struct imap_bin {
	struct decode_body d;
	uint64_t	 size;		/* decoded octets counted */
	unsigned	 k;		/* the FETCH body item */
	int		 phase;		/* counting, sending */
	int		 nul;		/* a NUL seen: literal8 */
	int		 cr;		/* the last raw octet was CR */
};

struct imap_session;
/* A job's step (runs while the output has room) and its abort (the
 * session goes away mid-job). */
typedef void imap_job_fn(struct imap_session *);

struct imap_job {
	imap_job_fn	*step;
	imap_job_fn	*abort;		/* may be NULL */
	struct imap_seqset_iter	it;
	uint32_t	 lo, hi, cur;	/* range being walked */
	int		 uid;		/* UID FETCH/STORE: cur is a UID */
	unsigned	 item;		/* next FETCH item of this message */
	uint32_t	 seq;		/* the message being answered */
	const struct mbox_msg *msg;	/* valid within one step only: */
	uint32_t	 msg_uid;	/* the index may move between */
	int		 open;		/* "* n FETCH (" written: 1, and
					 * an item after it: 2 */
	int		 streaming;	/* a body literal is going out */
	uint32_t	 kwmask;	/* STORE: the keywords' letters */
	int		 set_seen;	/* \Seen to add after this message */
	struct imap_stream st;
	struct imap_bin	 bin;
	int		 err;		/* NO at the end (file vanished;
					 * IMAP_ERR_CTE: UNKNOWN-CTE) */
	unsigned	 count;		/* messages answered */
	/* STORE UNCHANGEDSINCE: the UIDs not stored (RFC 7162 3.1.3) */
	char		 modified[IMAP_UIDSET_TEXT_MAX];
	uint32_t	 mod_hi;
	uint64_t	 mod_max;	/* SEARCH MODSEQ: of the matches */
	/* A SEARCH feeding SORT, THREAD (imap_sort.c) or ESEARCH
	 * (imap_esearch.c): each match goes to hit, and after follows
	 * the walk. */
	void		(*hit)(struct imap_session *, uint32_t seq,
			    uint32_t uid);
	imap_job_fn	*after;
	imap_job_fn	*gone;		/* the session goes away meanwhile */
	unsigned	 ret;		/* ESEARCH: RETURN options */
	uint32_t	 min, max, slo, shi;	/* its results so far */
	uint64_t	 mod_min, mod_last;	/* ESEARCH MODSEQ: of MIN
					 * and of the latest match */
	/* VANISHED (EARLIER) (imap_condstore.c), before the FETCH or
	 * resync job that then starts: the known-UID ranges still to
	 * walk, the gap search's place, the output line's length. */
	struct {
		struct imap_seqset_iter it;
		int		 set;	/* a set (else 1:top) */
		int		 more;	/* a range is being walked */
		uint32_t	 u, hi, top;
		size_t		 col;
		imap_job_fn	*then;
	} van;
};

/* An APPEND in progress (imap_append.c). */
struct imap_append {
	struct mbox_save save;		/* the store's: the messages */
	char		 path[MBOX_PATH_MAX];	/* the folder */
	unsigned	 count;		/* messages begun */
	uint64_t	 left;		/* bytes of this one still to come */
	int		 failed;	/* an errno: NO at the end */
	int		 done, err;	/* the commit's outcome: */
	uint32_t	 uidvalidity, first;	/* UIDs first.. */
	size_t		 n;		/* ..first + n - 1 */
	struct err	 e;
};

/* The UID ranges of a COPY/MOVE set, sorted and merged: a set of a
 * line's length has at most one range per two octets ("1,3,5"). */
#define IMAP_COPY_RANGES_MAX	(IMAP_LINE_MAX / 2)

struct imap_uid_range {
	uint32_t	lo, hi;
};

/* A COPY or MOVE in progress (imap_copy.c). */
struct imap_copy {
	struct mbox_save	 save;	/* the batch being linked */
	struct mbox_uidset	 src, dst;	/* for COPYUID */
	struct imap_uid_range	 range[IMAP_COPY_RANGES_MAX];
	size_t			 nranges;	/* the set, as UIDs */
	size_t			 ri;		/* the range being walked */
	uint32_t		 uidvalidity;	/* the destination's */
	int			 move;
	int			 begun;		/* save begun, not ended */
	int			 waiting;	/* for a batch's commit */
	int			 err;		/* a batch failed: errno */
	int			 src_cut;	/* a set overflowed: no
						 * COPYUID */
	int			 train;		/* junk filter: 1 spam (into
						 * Junk), 0 ham (out of it),
						 * -1 neither */
};

/* A LIST or LSUB (imap_mailbox.c): the listing, the patterns and the
 * next entry. One with RETURN (STATUS) is a job and keeps them in its
 * workspace between slices; the others run to their end in one call. */
struct imap_list {
	struct folder_list	 l;
	struct imap_list_args	 la;
	char			 full[IMAP_LIST_PATTERNS_MAX]
				    [2 * FOLDER_NAME_MAX + 2];
	const char		*fullp[IMAP_LIST_PATTERNS_MAX];
	size_t			 flen[IMAP_LIST_PATTERNS_MAX];	/* each
						 * reference + pattern */
	size_t			 next;		/* entry of l to answer */
	int			 lsub;
	uint64_t		 slice;		/* ev_clock_ms() at the
						 * slice's start */
	int			 yielded;	/* the next step begins a
						 * slice */
};

struct imap_ws {
	char		 buf[IMAP_CMD_MAX];
	size_t		 len;		/* bytes of the command kept */
	struct imap_cmd	 cmd;
	char		 tag[IMAP_TAG_MAX + 1];
	union {
		struct imap_fetch	fetch;
		struct imap_store	store;
		struct imap_search	search;
		struct imap_append	append;
		struct imap_copy	copy;
		struct imap_list	list;
	} u;
	int		 appending;	/* u.append is in use */
	struct imap_job	 job;
	size_t		 spill_len, spill_off;
	char		 spill[IMAP_SPILL_MAX];
	char		 stream[IMAP_STREAM_BUF];	/* lent to c->out */
};

struct imap_session {
	struct conn		*c;
	enum imap_state		 state;
	enum imap_busy		 busy;
	int			 tls;
	int			 implicit_tls;
	int			 errors;	/* BADs, then BYE */
	struct imap_framer	 fr;
	struct imap_ws		*ws;
	struct timer		 delay;		/* failed login */
	struct timer		 idle_tick;	/* IDLE keep-alive */
	struct timer		 job_tick;	/* a job's next slice */
	const struct cfg	*cfg;
	char			 login[ADDR_MAX + 2];
	char			 home[CFG_PATH_MAX];
	char			 ip[ADDR_STR_MAX];
	char			 selected[64];	/* mailbox name, for logs */
	char			 idle_tag[IMAP_TAG_MAX + 1];	/* IDLE's, kept
					 * while the workspace is away */
	struct mbox_view	 view;
	struct imap_session	*next_changed;
	uint8_t			 condstore;	/* RFC 7162 3.1: enabled */
	uint8_t			 qresync;	/* 3.2.3: ENABLE QRESYNC */
	uint8_t			 rev2;		/* ENABLE IMAP4rev2: RFC
						 * 9051 behaviour (E) */
	/* SEARCHRES (RFC 5182): the UIDs of the last SEARCH RETURN
	 * (SAVE), as a UID set, for "$" (imap_esearch.c). */
	char			 saved[IMAP_SEARCHRES_MAX];
	size_t			 saved_len;
	uint32_t		 saved_lo, saved_hi;	/* last range */
	int			 saved_over;	/* did not fit */
	struct imap_arg		 saved_arg;	/* "$" as an argument */
};

/* imap_out.c: the workspace pool (one per session at most). */
int	imap_out_init(struct ev *, size_t max_sessions, struct err *);
void	imap_out_shutdown(void);
/* The session's workspace: 0, or -1 when none is left (cannot happen:
 * one per session). */
int	imap_ws_take(struct imap_session *);
void	imap_ws_release(struct imap_session *);
/* Moves spilled output to the connection: 1 when all of it went. */
int	imap_spill_drain(struct imap_session *);

/* imap_out.c: output. Appends to the connection's buffer, or to the
 * spill; a client that lets IMAP_SPILL_MAX pile up is dropped. */
int	imap_out(struct imap_session *, const void *, size_t);
int	imap_outf(struct imap_session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* "<tag> <status> <text>" for the command running. */
void	imap_tagged(struct imap_session *, const char *status,
	    const char *f, ...) __attribute__((format(printf, 3, 4)));
/* "<tag> BAD why" (or "* BAD" before a tag is known); counts toward
 * IMAP_ERRORS_MAX, after which the session is closed with BYE. */
void	imap_bad(struct imap_session *, const char *why);
/* 1 while the output has room for another step of a job. */
int	imap_room(const struct imap_session *);

/* imap_out.c: jobs. imap_job_run makes the session busy with a job
 * and runs its first step; the session calls imap_job_step again as
 * the output drains or the job's timer fires. */
void	imap_job_run(struct imap_session *, imap_job_fn *step,
	    imap_job_fn *abort);
void	imap_job_step(struct imap_session *);
/* The job is over: the tagged reply is written, the session reads on. */
void	imap_job_done(struct imap_session *);
/* The session goes away: the job's abort runs (if any). */
void	imap_job_cancel(struct imap_session *);
/* A job that has worked IMAP_STEP_MS without filling the output asks
 * to go on at the next loop turn, so other sessions are served; until
 * then imap_job_step does nothing (the output's flush or the client's
 * input would run it again in the same turn). */
void	imap_job_yield(struct imap_session *);

/* imap_out.c: untagged EXISTS, RECENT, FETCH FLAGS (and EXPUNGE when
 * allowed), and the same one line per change as an mbox_event_fn. */
void	imap_updates(struct imap_session *, int allow_expunge);
void	imap_update_event(void *session, enum mbox_event, uint32_t seq,
	    const struct mbox_msg *);
/* "(\Seen \Flagged kw)" for a message. */
size_t	imap_flags_fmt(const struct imap_session *, const struct mbox_msg *,
	    char *, size_t);
/* INTERNALDATE text "dd-Mon-yyyy hh:mm:ss +0000" of a time. */
size_t	imap_date_fmt(int64_t t, char *, size_t);
/* IMAP_FL_* (imap_parse.h) as the store's MF_* flags. */
unsigned	imap_mf_flags(unsigned imap_flags);
/* A sequence set naming a message that is not there is BAD (RFC 3501
 * 9: seq-number; a UID set never is): 0, or -1 with BAD sent. */
int	imap_check_set(struct imap_session *, const struct imap_arg *);

/* imap_fetch.c: FETCH and STORE (with its FETCH responses) as jobs. */
void	imap_fetch_start(struct imap_session *);

/* imap_binary.c: FETCH BINARY items (RFC 3516 4.1, 4.2) of a part
 * whose raw body is the job's stream [st.pos, st.end), size octets
 * sent as CRLF text (p NULL: the whole message; else its part).
 * Returns -1 when the caller sends it as BODY[] does (7bit, 8bit,
 * multiparts, the whole message), 0 when written or refused (j->err set to
 * IMAP_ERR_CTE for an encoding it cannot decode), or IMAP_STREAM_BIN
 * to go on with imap_bin_pump (1 done, 0 later: output full or a
 * slice used, the job having yielded). */
#define IMAP_ERR_CTE	3
#define IMAP_STREAM_BIN	3
struct mime;
struct mime_part;
#if WREN_IMAP_REV2
int	imap_bin_body(struct imap_session *, unsigned k,
	    const struct mime *, const struct mime_part *p, uint64_t size);
int	imap_bin_pump(struct imap_session *);
#else
static inline int	imap_bin_body(struct imap_session *s, unsigned k,
			    const struct mime *m, const struct mime_part *p,
			    uint64_t size)
{ (void)s; (void)k; (void)m; (void)p; (void)size; return -1; }
static inline int	imap_bin_pump(struct imap_session *s)
{ (void)s; return 1; }
#endif
/* The MIME tree of the FETCH job's current message (its header only
 * unless full); NULL when it cannot be read. */
const struct mime	*imap_fetch_tree(struct imap_session *, int full);
/* imap_hcache.c: the folder's header cache for FETCH. Ready: 1, or 0
 * when a slice of it was loaded and the job yielded (step again). */
#if WREN_IMAP_HCACHE
int	imap_hcache_ready(struct imap_session *);
/* ENVELOPE (bs 0) or BODYSTRUCTURE text of the current message, from
 * the cache or written and added to it: 1 with text and len (valid
 * until the next call), 0 when it must be streamed from the tree. */
int	imap_hcache_text(struct imap_session *, int bs, const char **text,
	    size_t *len);
#else
static inline int	imap_hcache_ready(struct imap_session *s)
{ (void)s; return 1; }
static inline int	imap_hcache_text(struct imap_session *s, int bs,
			    const char **text, size_t *len)
{ (void)s; (void)bs; (void)text; (void)len; return 0; }
#endif
void	imap_store_start(struct imap_session *);

/* imap_search.c: SEARCH and UID SEARCH as a job: "* SEARCH" and the
 * matching numbers go out as they are found. */
void	imap_search_start(struct imap_session *);
/* The program from argument first into ws->u.search, checked: 0, or
 * -1 with the command answered (BAD, NO). */
int	imap_search_prepare(struct imap_session *, size_t first);
/* Runs the prepared program as a job whose matches go to hit and
 * whose end runs after (which takes the job over), instead of the
 * SEARCH response; gone runs if the session goes away before. */
void	imap_search_run(struct imap_session *,
	    void (*hit)(struct imap_session *, uint32_t, uint32_t),
	    imap_job_fn *after, imap_job_fn *gone);

/* imap_sort.c: SORT and THREAD (RFC 5256, 5267) as jobs: the SEARCH
 * above, then per-message keys in the sort arena, a sliced merge
 * sort, and the answer streamed. */
void	imap_sort_start(struct imap_session *);
void	imap_thread_start(struct imap_session *);

/* imap_esearch.c: SEARCH RETURN (RFC 4731) and SEARCHRES (RFC 5182). */
#define IMAP_RET_MIN	0x01u	/* RETURN options */
#define IMAP_RET_MAX	0x02u
#define IMAP_RET_ALL	0x04u
#define IMAP_RET_COUNT	0x08u
#define IMAP_RET_SAVE	0x10u
void	imap_esearch_start(struct imap_session *);
/* SEARCH without RETURN once IMAP4rev2 is enabled: RETURN (ALL),
 * answered with ESEARCH (RFC 9051 6.4.4). */
void	imap_esearch_all(struct imap_session *);
/* RETURN (options) at args[i] into *ret: 0, or -1 with BAD sent. An
 * empty list means ALL; SAVE only where save is 1 (SEARCH). */
int	imap_return_parse(struct imap_session *, size_t i, unsigned *ret,
	    int save);
/* v joins an ALL set being written (" ALL 1:3,5"; job.slo and
 * job.shi zero to begin), and the last range is written. */
void	imap_set_add(struct imap_session *, uint32_t v);
void	imap_set_flush(struct imap_session *);
/* SEARCHRES: a parsed command's "$" becomes the saved UID set (the
 * command then runs as its UID form), and SELECT, EXAMINE, CLOSE and
 * UNSELECT forget it; imap_searchres_prog does the same for a SEARCH
 * program's "$" keys: 0, or -1 with BAD sent. */
void	imap_searchres_cmd(struct imap_session *);
int	imap_searchres_prog(struct imap_session *, struct imap_search *);

/* imap_append.c: APPEND. The session asks imap_append_command
 * whether the command being framed is an APPEND (its literals are
 * messages up to message_size_limit), passes each literal announced
 * to imap_append_literal (1: a message, stream it to
 * imap_append_data; 0: keep it; -1: refused, answered, framer
 * voided), and the command's end to imap_append_end. */
int	imap_append_command(const struct imap_session *);
int	imap_append_literal(struct imap_session *, uint64_t size, int sync);
void	imap_append_data(struct imap_session *, const char *, size_t);
void	imap_append_end(struct imap_session *);
/* Drops the messages of an APPEND in progress (the session leaves). */
void	imap_append_cancel(struct imap_session *);

/* imap_compress.c (built with COMPRESS only): COMPRESS=DEFLATE (RFC
 * 4978) and its pool of slots, min(imap_compress_max, max) of them. */
int	imap_compress_init(const struct cfg *, size_t max, struct err *);
void	imap_compress_shutdown(void);
void	imap_cmd_compress(struct imap_session *);

/* imap_copy.c: COPY and MOVE (and their UID forms) as jobs. */
void	imap_cmd_copy(struct imap_session *);
void	imap_cmd_move(struct imap_session *);

/* imap_condstore.c: CONDSTORE and QRESYNC (RFC 7162). ENABLE; SELECT
 * and EXAMINE parameters, checked before the folder opens (-1: BAD
 * sent) and answered after its untagged data (1: a QRESYNC resync
 * job sends the tagged reply); "* VANISHED (EARLIER)" for the UIDs of
 * set (NULL: all) up to top that are not in the view, as a job in
 * slices which calls then (from a step) when the last line is out;
 * a UID for the MODIFIED set of a conditional STORE (in order). */
void	imap_cs_enable(struct imap_session *);
int	imap_cs_select_args(struct imap_session *);
int	imap_cs_select_end(struct imap_session *);
void	imap_cs_vanished(struct imap_session *, const struct imap_arg *set,
	    uint32_t top, imap_job_fn *then);
void	imap_cs_modified(struct imap_session *, uint32_t uid);
/* SEARCH: each match, then before the line end: " (MODSEQ n)" when
 * the program has MODSEQ and something matched (RFC 7162 3.1.5). */
void	imap_cs_search_match(struct imap_session *,
	    const struct mbox_msg *);
void	imap_cs_search_end(struct imap_session *);
/* ESEARCH (RFC 4731 3.2, RFC 7162 3.1.5): the modseq of a match (seq)
 * noted for MIN and MAX; at the end " MODSEQ n" when the program has
 * MODSEQ and something matched: the highest of the messages returned
 * (only MIN and MAX when ALL and COUNT are not asked). */
void	imap_cs_esearch_hit(struct imap_session *, uint32_t seq);
void	imap_cs_esearch_end(struct imap_session *);

/* imap_mailbox.c: the commands on mailboxes as a whole (RFC 3501
 * 6.3). */
void	imap_cmd_create(struct imap_session *);
void	imap_cmd_delete(struct imap_session *);
void	imap_cmd_rename(struct imap_session *);
void	imap_cmd_subscribe(struct imap_session *);
void	imap_cmd_unsubscribe(struct imap_session *);
void	imap_cmd_list(struct imap_session *);
void	imap_cmd_lsub(struct imap_session *);
void	imap_cmd_status(struct imap_session *);
/* The Maildir path of a mailbox name: 0, or -1 when the name is not
 * one a mailbox can have. */
int	imap_mailbox_path(const struct imap_session *, const char *name,
	    size_t len, char *out, size_t cap);

/* imap_rev2.c: IMAP4rev2 (RFC 9051) mailbox names. imap_name_arg is
 * imap_arg_str for a mailbox name or LIST pattern: after ENABLE
 * IMAP4rev2 the name comes as UTF-8 and is given in modified UTF-7,
 * as stored (-1: too long or not UTF-8). imap_name_out writes a
 * stored name for a response (imap_astring_fmt), in UTF-8 after
 * ENABLE IMAP4rev2; the length it needs is returned. */
#if WREN_IMAP_REV2
int	imap_name_arg(const struct imap_session *, const struct imap_arg *,
	    char *buf, size_t cap, size_t *len);
size_t	imap_name_out(const struct imap_session *, const char *name,
	    size_t len, char *out, size_t cap);
/* SELECT and EXAMINE in IMAP4rev2: "* LIST () "." name" (6.3.2). */
void	imap_rev2_select_list(struct imap_session *, const char *name,
	    size_t len);
/* RENAME in IMAP4rev2: "* LIST () "." to ("OLDNAME" (from))" (6.3.6,
 * 7.3.1); nothing in IMAP4rev1 or when from is INBOX. */
void	imap_rev2_rename_list(struct imap_session *, const char *from,
	    size_t flen, const char *to, size_t tlen);

#else
static inline int	imap_name_arg(const struct imap_session *s,
			    const struct imap_arg *a, char *buf, size_t cap,
			    size_t *len)
{ (void)s; return imap_arg_str(a, buf, cap, len); }
static inline size_t	imap_name_out(const struct imap_session *s,
			    const char *name, size_t len, char *out,
			    size_t cap)
{ (void)s; return imap_astring_fmt(out, cap, name, len); }
static inline void	imap_rev2_select_list(struct imap_session *s,
			    const char *name, size_t len)
{ (void)s; (void)name; (void)len; }
static inline void	imap_rev2_rename_list(struct imap_session *s,
			    const char *from, size_t flen, const char *to,
			    size_t tlen)
{ (void)s; (void)from; (void)flen; (void)to; (void)tlen; }
#endif

#endif
