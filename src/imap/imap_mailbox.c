/* SPDX-License-Identifier: ISC */
/*
 * imap_mailbox.c - the commands on mailboxes as a whole (RFC 3501
 * 6.3): CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST (with
 * LIST-EXTENDED, RFC 5258; LIST-STATUS, RFC 5819; SPECIAL-USE, RFC
 * 6154), LSUB and STATUS.
 *
 * The folders themselves are store/folder.h's (Maildir++ as Dovecot
 * lays it out, Dovecot's subscriptions file); this file turns commands
 * into calls and results into responses. Names travel in modified
 * UTF-7 and are stored as sent; the hierarchy separator is '.'.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/ev.h"
#include "core/fmt.h"
#include "core/log.h"
#include "imap/imap_int.h"
#include "imap/imap_pattern.h"
#include "store/folder.h"

/* Entries of the folder being deleted removed in one step of the
 * DELETE job: a few milliseconds of unlink. */
#define REAP_BUDGET	64

/* One listing for the process: LIST without STATUS, LSUB and RENAME
 * run to their end within one call (FOLDER_LIST_MAX entries, ~115 KB
 * of BSS, touched only when used). A LIST with STATUS is a job and
 * has its own in its workspace. */
static struct imap_list once;

static int		 root_of(const struct imap_session *, char *, size_t);
static int		 name_arg(struct imap_session *, const struct imap_arg *,
			    char *, size_t *);
static void		 folder_no(struct imap_session *, int rc,
			    const struct err *);
static void		 list(struct imap_session *, int lsub);
static void		 list_step(struct imap_session *);
static void		 list_entry(struct imap_session *,
			    const struct imap_list *, size_t i);
static void		 mark_subscribed_below(struct imap_list *,
			    int unmatched);
static int		 list_match(const char *const full[],
			    const size_t flen[], unsigned n, const char *name,
			    size_t len);
static void		 list_line(struct imap_session *, int lsub,
			    const struct folder_entry *, unsigned attrs_out,
			    int extended, const char *childinfo);
static int		 status_out(struct imap_session *, const char *name,
			    size_t len, unsigned items);
static void		 reap_step(struct imap_session *);
static int		 forget(struct imap_session *, const char *, size_t);

/* --- helpers ---------------------------------------------------------- */

static int
root_of(const struct imap_session *s, char *out, size_t cap)
{
	return fmt(out, cap, "%s/Maildir", s->home) < (int)cap ? 0 : -1;
}

int
imap_mailbox_path(const struct imap_session *s, const char *name,
    size_t len, char *out, size_t cap)
{
	char root[FOLDER_PATH_MAX];
	struct err e;

	return root_of(s, root, sizeof root) == 0 && folder_path(root, name,
	    len, out, cap, &e) == 0 ? 0 : -1;
}

/* A mailbox name argument into buf (FOLDER_NAME_MAX + 1 bytes): 0, or
 * -1 with NO or BAD sent. */
static int
name_arg(struct imap_session *s, const struct imap_arg *a, char *buf,
    size_t *len)
{
	if (imap_name_arg(s, a, buf, FOLDER_NAME_MAX + 1, len) == 0) {
		return 0;
	}
	if (a->type == IMAP_ARG_LIST || a->type == IMAP_ARG_SECTION) {
		imap_bad(s, "Invalid mailbox name");
	} else {
		imap_tagged(s, "NO", "[LIMIT] Mailbox name too long");
	}
	return -1;
}

static void
folder_no(struct imap_session *s, int rc, const struct err *e)
{
	static const char *const code[] = {
		[-FOLDER_NONEXISTENT] = "NONEXISTENT",
		[-FOLDER_ALREADYEXISTS] = "ALREADYEXISTS",
		[-FOLDER_CANNOT] = "CANNOT",
		[-FOLDER_LIMIT] = "LIMIT",
		[-FOLDER_INUSE] = "INUSE",
		[-FOLDER_SERVERBUG] = "SERVERBUG",
	};
	const char *c = rc < 0 && (size_t)-rc < sizeof code / sizeof code[0] ?
	    code[-rc] : "SERVERBUG";

	if (rc == FOLDER_SERVERBUG) {
		conn_log(s->c, LOG_LVL_WARN, "%s", e->msg);
		imap_tagged(s, "NO", "[SERVERBUG] Internal error");
		return;
	}
	imap_tagged(s, "NO", "[%s] %s", c, e->msg[0] ? e->msg :
	    "Not possible");
}

/* --- CREATE, DELETE, RENAME, SUBSCRIBE --------------------------------- */

void
imap_cmd_create(struct imap_session *s)
{
	char root[FOLDER_PATH_MAX], name[FOLDER_NAME_MAX + 1];
	size_t len;
	struct err e;
	int rc;

	e.msg[0] = '\0';
	if (name_arg(s, &s->ws->cmd.args[0], name, &len) == -1) {
		return;
	}
	if (root_of(s, root, sizeof root) == -1) {
		folder_no(s, FOLDER_SERVERBUG, &e);
		return;
	}
	if ((rc = folder_create(root, name, len, &e)) != FOLDER_OK) {
		folder_no(s, rc, &e);
		return;
	}
	imap_tagged(s, "OK", "CREATE completed");
}

/*
 * Before DELETE or RENAME moves a folder (and its children): the
 * store's idle copies of them are closed (their names are about to
 * mean other directories). -1 when a save into one of them is in
 * progress: it names its files by the folder's path, so RENAME waits
 * for it (DELETE goes on: the save then fails and removes its files).
 */
static int
forget(struct imap_session *s, const char *name, size_t len)
{
	char path[MBOX_PATH_MAX];

	if (imap_mailbox_path(s, name, len, path, sizeof path) == -1) {
		return 0;	/* the folder call refuses the name */
	}
	mbox_forget(path);	/* only idle ones: not a saving one */
	return mbox_saving(path) ? -1 : 0;
}

void
imap_cmd_delete(struct imap_session *s)
{
	char root[FOLDER_PATH_MAX], name[FOLDER_NAME_MAX + 1];
	size_t len;
	struct err e;
	int rc;

	e.msg[0] = '\0';
	if (name_arg(s, &s->ws->cmd.args[0], name, &len) == -1) {
		return;
	}
	if (s->state == IMAP_ST_SELECTED && s->view.mb != NULL) {
		char path[MBOX_PATH_MAX];

		if (imap_mailbox_path(s, name, len, path, sizeof path) == 0 &&
		    strcmp(path, mbox_path(s->view.mb)) == 0) {
			imap_tagged(s, "NO", "[INUSE] Mailbox is selected: "
			    "close it first");
			return;
		}
	}
	if (root_of(s, root, sizeof root) == -1) {
		folder_no(s, FOLDER_SERVERBUG, &e);
		return;
	}
	(void)forget(s, name, len);	/* a save goes on and fails */
	if ((rc = folder_delete(root, name, len, &e)) != FOLDER_OK) {
		folder_no(s, rc, &e);
		return;
	}
	/* The files go in slices, so others are served meanwhile; the
	 * OK waits for the end (a crash leaves the rest for the next
	 * DELETE of the account). */
	s->ws->job.count = 0;
	imap_job_run(s, reap_step, NULL);
}

static void
reap_step(struct imap_session *s)
{
	char root[FOLDER_PATH_MAX];
	struct err e;
	int rc;

	if (root_of(s, root, sizeof root) == -1) {
		rc = 0;
	} else {
		rc = folder_reap_step(root, REAP_BUDGET, &e);
	}
	if (rc == 1) {
		imap_job_yield(s);
		return;
	}
	if (rc < 0) {
		/* The folder is gone for clients already; what is left
		 * on disk goes at the next DELETE. */
		conn_log(s->c, LOG_LVL_WARN, "delete: %s", e.msg);
	}
	imap_tagged(s, "OK", "DELETE completed");
	imap_job_done(s);
}

void
imap_cmd_rename(struct imap_session *s)
{
	const struct imap_cmd *cmd = &s->ws->cmd;
	char root[FOLDER_PATH_MAX], from[FOLDER_NAME_MAX + 1];
	char to[FOLDER_NAME_MAX + 1];
	size_t flen, tlen;
	struct err e;
	int rc;

	e.msg[0] = '\0';
	if (name_arg(s, &cmd->args[0], from, &flen) == -1 ||
	    name_arg(s, &cmd->args[cmd->args[0].next], to, &tlen) == -1) {
		return;
	}
	if (root_of(s, root, sizeof root) == -1) {
		folder_no(s, FOLDER_SERVERBUG, &e);
		return;
	}
	if (forget(s, from, flen) == -1) {
		imap_tagged(s, "NO", "[INUSE] A message is being saved into "
		    "it; try again");
		return;
	}
	if ((rc = folder_rename(root, from, flen, to, tlen, &once.l, &e)) !=
	    FOLDER_OK) {
		folder_no(s, rc, &e);
		return;
	}
	imap_rev2_rename_list(s, from, flen, to, tlen);	/* OLDNAME */
	imap_tagged(s, "OK", "RENAME completed");
}

static void
subscribe(struct imap_session *s, int on)
{
	char root[FOLDER_PATH_MAX], name[FOLDER_NAME_MAX + 1];
	size_t len;
	struct err e;
	int rc;

	e.msg[0] = '\0';
	if (name_arg(s, &s->ws->cmd.args[0], name, &len) == -1) {
		return;
	}
	if (root_of(s, root, sizeof root) == -1) {
		folder_no(s, FOLDER_SERVERBUG, &e);
		return;
	}
	rc = folder_subscribe(root, name, len, on, &e);
	if (rc != FOLDER_OK && !(rc == FOLDER_NONEXISTENT && !on)) {
		folder_no(s, rc, &e);
		return;
	}
	/* UNSUBSCRIBE of a name not subscribed: done already. */
	imap_tagged(s, "OK", "%s completed", on ? "SUBSCRIBE" :
	    "UNSUBSCRIBE");
}

void
imap_cmd_subscribe(struct imap_session *s)
{
	subscribe(s, 1);
}

void
imap_cmd_unsubscribe(struct imap_session *s)
{
	subscribe(s, 0);
}

/* --- LIST, LSUB -------------------------------------------------------- */

void
imap_cmd_list(struct imap_session *s)
{
	list(s, 0);
}

void
imap_cmd_lsub(struct imap_session *s)
{
	list(s, 1);
}

/* 1 when name matches one of the patterns (each reference + pattern),
 * in time linear in the name (imap_pattern.h). */
static int
list_match(const char *const full[], const size_t flen[], unsigned n,
    const char *name, size_t len)
{
	for (unsigned i = 0; i < n; i++) {
		if (imap_pattern_match(full[i], flen[i], name, len,
		    FOLDER_SEP) == 1) {
			return 1;
		}
	}
	return 0;
}

/* The attributes a LIST or LSUB line shows. */
#define OUT_SUBSCRIBED	0x01u
#define OUT_NOSELECT	0x02u	/* LSUB's parent of a subscribed one */
#define OUT_CHILDREN	0x04u	/* \HasChildren, \HasNoChildren */

static void
list_line(struct imap_session *s, int lsub, const struct folder_entry *fe,
    unsigned out, int extended, const char *childinfo)
{
	const char *what = lsub ? "LSUB" : "LIST";
	char attrs[128], q[2 * FOLDER_NAME_MAX + 2];
	size_t al = 0, ql;
	const char *su = folder_special_name(fe->attr & FOLDER_A_SPECIAL);

#define ATTR(t) do { \
	size_t tl_ = strlen(t); \
	if (al + tl_ + 1 < sizeof attrs) { \
		if (al > 0) { \
			attrs[al++] = ' '; \
		} \
		memcpy(attrs + al, t, tl_); \
		al += tl_; \
	} \
} while (0)
	if ((out & OUT_NOSELECT) || (lsub && (fe->attr & FOLDER_A_NODIR))) {
		ATTR("\\Noselect");	/* LSUB: RFC 3501 6.3.9 */
	} else if (fe->attr & FOLDER_A_NODIR) {
		if (extended || (fe->attr & FOLDER_A_IMPLIED) == 0) {
			ATTR("\\NonExistent");
		} else {
			ATTR("\\Noselect");
		}
	}
	if (out & OUT_SUBSCRIBED) {
		ATTR("\\Subscribed");
	}
	/* LIST-EXTENDED gives children only when asked (RETURN
	 * (CHILDREN), RFC 5258 4), as Dovecot does; plain LIST always. */
	if ((!(fe->attr & FOLDER_A_NODIR) || (fe->attr & FOLDER_A_IMPLIED)) &&
	    (out & OUT_CHILDREN)) {
		ATTR(fe->attr & FOLDER_A_HASCHILDREN ? "\\HasChildren" :
		    "\\HasNoChildren");
	}
	if (su != NULL) {
		ATTR(su);
	}
#undef ATTR
	ql = imap_name_out(s, fe->name, fe->len, q, sizeof q);
	if (ql > sizeof q) {
		return;		/* cannot happen: every octet escaped fits */
	}
	if (childinfo != NULL) {
		(void)imap_outf(s, "* %s (%.*s) \".\" %.*s (\"CHILDINFO\" "
		    "(\"%s\"))\r\n", what, (int)al, attrs, (int)ql, q,
		    childinfo);
	} else {
		(void)imap_outf(s, "* %s (%.*s) \".\" %.*s\r\n", what,
		    (int)al, attrs, (int)ql, q);
	}
}

/*
 * Marks (FOLDER_A_MARK) every entry of the listing with a subscribed
 * entry below it; with unmatched set, only one the patterns do not
 * match (LSUB: a child that "%" leaves out shows its parent, RFC 3501
 * 6.3.9). Each subscribed name looks its ancestors up in the
 * listing's hash, nearest first, and stops at one marked already (its
 * ancestors are then marked too): linear in the listing, where asking
 * for each entry whether some other is below it was quadratic.
 */
static void
mark_subscribed_below(struct imap_list *L, int unmatched)
{
	struct folder_list *l = &L->l;

	for (size_t i = 0; i < l->n; i++) {
		l->e[i].attr &= (uint16_t)~FOLDER_A_MARK;
	}
	for (size_t k = 0; k < l->n; k++) {
		const struct folder_entry *c = &l->e[k];

		if (!(c->attr & FOLDER_A_SUBSCRIBED) || c->len < 3 ||
		    (unmatched && list_match(L->fullp, L->flen, L->la.npat,
		    c->name, c->len))) {
			continue;
		}
		/* An ancestor's name is c's up to a separator that leaves
		 * at least one octet below it. */
		for (size_t j = (size_t)c->len - 2; j > 0; j--) {
			int p;

			if (c->name[j] != FOLDER_SEP ||
			    (p = folder_list_find(l, c->name, j)) < 0 ||
			    memcmp(l->e[p].name, c->name, j) != 0) {
				/* Not one, or INBOX for "inbox": what is
				 * below "inbox" is not below "INBOX". */
				continue;
			}
			if (l->e[p].attr & FOLDER_A_MARK) {
				break;
			}
			l->e[p].attr |= FOLDER_A_MARK;
		}
	}
}

static void
list(struct imap_session *s, int lsub)
{
	struct imap_cmd *cmd = &s->ws->cmd;
	const char *what = lsub ? "LSUB" : "LIST";
	struct imap_list *L;
	struct imap_list_args la;
	size_t rlen, plen;
	char ref[FOLDER_NAME_MAX + 1], root[FOLDER_PATH_MAX];
	enum imap_perr pe;
	struct err e;

	if (lsub) {
		memset(&la, 0, sizeof la);
		la.ref = &cmd->args[0];
		la.pat[0] = &cmd->args[cmd->args[0].next];
		la.npat = 1;
		la.sel = IMAP_LS_SUBSCRIBED;
	} else if ((pe = imap_list_parse(cmd, &la)) != IMAP_PE_OK) {
		imap_bad(s, imap_strerror(pe));
		return;
	}
	/* RETURN (STATUS) opens folders: a job with its own listing.
	 * The rest is answered now, from the process's. */
	L = (la.ret & IMAP_LR_STATUS) ? &s->ws->u.list : &once;
	L->la = la;
	L->lsub = lsub;
	if (imap_name_arg(s, la.ref, ref, sizeof ref, &rlen) == -1) {
		imap_tagged(s, "OK", "%s completed (no such reference)",
		    what);
		return;
	}
	for (unsigned i = 0; i < la.npat; i++) {
		char *f = L->full[i];

		memcpy(f, ref, rlen);
		if (imap_name_arg(s, la.pat[i], f + rlen, sizeof L->full[i] -
		    rlen, &plen) == -1) {
			imap_bad(s, "Pattern too long");
			return;
		}
		if (plen == 0 && la.npat == 1 && !la.extended) {
			/* RFC 3501 6.3.8: the delimiter and root. */
			(void)imap_outf(s, "* %s (\\Noselect) \".\" \"\"\r\n",
			    what);
			imap_tagged(s, "OK", "%s completed", what);
			return;
		}
		L->fullp[i] = f;
		L->flen[i] = rlen + plen;
	}
	if (root_of(s, root, sizeof root) == -1 || folder_list(root,
	    (la.sel & IMAP_LS_SUBSCRIBED) || (la.ret & IMAP_LR_SUBSCRIBED) ?
	    FOLDER_L_SUBSCRIBED : 0, &L->l, &e) != FOLDER_OK) {
		conn_log(s->c, LOG_LVL_WARN, "list: %s", root[0] ? e.msg :
		    "path too long");
		imap_tagged(s, "NO", "[SERVERBUG] Cannot list mailboxes");
		return;
	}
	if (L->l.cut) {
		conn_log(s->c, LOG_LVL_WARN, "list: more than %d folders, "
		    "cut", FOLDER_LIST_MAX);
	}
	if (la.sel & IMAP_LS_SUBSCRIBED) {
		mark_subscribed_below(L, lsub);
	}
	L->next = 0;
	if (L != &once) {
		L->yielded = 1;		/* the first slice begins */
		imap_job_run(s, list_step, NULL);
		return;
	}
	while (L->next < L->l.n) {
		list_entry(s, L, L->next++);
	}
	imap_tagged(s, "OK", "%s completed", what);
}

/*
 * A step of a LIST with RETURN (STATUS). A slice is IMAP_STEP_MS of
 * entries, checked after each (so at most that plus one folder's
 * opening, as a SEARCH slice is at most that plus one block of a
 * file), then the loop's turn. A folder never opened costs the scan of
 * its new/ and cur/ and the writing of its dovecot-uidlist
 * (mbox_select); one open already, a few stat calls.
 *
 * A slice begins at the step after a yield. When the output is full
 * the step returns and the slice goes on as it drains; a drain comes
 * from the flush before the loop sleeps, which calls the session back
 * at once, so the slice's time counts across them: else a client that
 * reads fast would have its whole LIST answered in one turn.
 */
static void
list_step(struct imap_session *s)
{
	struct imap_list *L = &s->ws->u.list;

	if (L->yielded) {
		L->yielded = 0;
		L->slice = ev_clock_ms();
	}
	while (L->next < L->l.n) {
		if (ev_clock_ms() >= L->slice + IMAP_STEP_MS) {
			L->yielded = 1;
			imap_job_yield(s);	/* others get a turn */
			return;
		}
		if (!imap_room(s)) {
			if (!(s->c->flags & (CONN_F_DEAD | CONN_F_CLOSING))) {
				return;		/* more when it drains */
			}
			break;
		}
		list_entry(s, L, L->next++);
	}
	imap_tagged(s, "OK", "LIST completed");
	imap_job_done(s);
}

/* The LIST or LSUB line of entry i when the command selects it, and
 * its STATUS when asked. */
static void
list_entry(struct imap_session *s, const struct imap_list *L, size_t i)
{
	const struct imap_list_args *la = &L->la;
	const struct folder_entry *fe = &L->l.e[i];
	unsigned out = 0;
	const char *childinfo = NULL;
	int lsub = L->lsub;
	/* The special-use folders count as subscribed, as Dovecot's
	 * "auto = subscribe" mailboxes do. */
	int sub = (fe->attr & (FOLDER_A_SUBSCRIBED | FOLDER_A_SPECIAL)) != 0;

	if (!list_match(L->fullp, L->flen, la->npat, fe->name, fe->len)) {
		return;
	}
	if (la->sel & IMAP_LS_SUBSCRIBED) {
		if (!sub) {
			/* LSUB "%" and RECURSIVEMATCH show a parent of a
			 * subscribed mailbox (RFC 3501 6.3.9, RFC 5258
			 * 3.5). */
			if (!(fe->attr & FOLDER_A_MARK)) {
				return;
			}
			if (lsub) {
				out |= OUT_NOSELECT;
			} else if (la->sel & IMAP_LS_RECURSIVEMATCH) {
				childinfo = "SUBSCRIBED";
			} else {
				return;
			}
		}
	} else if (fe->attr & FOLDER_A_NODIR &&
	    !(fe->attr & FOLDER_A_IMPLIED)) {
		return;	/* subscribed only: not a mailbox */
	}
	if ((la->sel & IMAP_LS_SPECIAL_USE) &&
	    !(fe->attr & FOLDER_A_SPECIAL)) {
		return;
	}
	if (sub && !lsub && (la->sel & IMAP_LS_SUBSCRIBED ||
	    la->ret & IMAP_LR_SUBSCRIBED)) {
		out |= OUT_SUBSCRIBED;
	}
	if (!la->sel || (la->ret & IMAP_LR_CHILDREN)) {
		out |= OUT_CHILDREN;
	}
	list_line(s, lsub, fe, out, la->extended, childinfo);
	if ((la->ret & IMAP_LR_STATUS) && !(fe->attr & FOLDER_A_NODIR)) {
		/* RFC 5819: a folder that cannot be opened gets no
		 * STATUS, and the LIST is still OK. */
		(void)status_out(s, fe->name, fe->len, la->status);
	}
}

/* --- STATUS ------------------------------------------------------------ */

/* "* STATUS name (items)" for an existing mailbox: 0, or -1 when it
 * cannot be opened (nothing written). */
static int
status_out(struct imap_session *s, const char *name, size_t len,
    unsigned items)
{
	char path[MBOX_PATH_MAX], out[256], q[2 * FOLDER_NAME_MAX + 2];
	struct mbox_view v;
	struct err e;
	uint32_t unseen = 0, deleted = 0;
	uint64_t size = 0;
	size_t ol = 0, ql;

	memset(&v, 0, sizeof v);
	if (imap_mailbox_path(s, name, len, path, sizeof path) == -1 ||
	    (ql = imap_name_out(s, name, len, q, sizeof q)) > sizeof q ||
	    mbox_select(path, &v, 1, &e) == -1) {
		return -1;
	}
	if (items & (IMAP_SA_UNSEEN | IMAP_SA_SIZE | IMAP_SA_DELETED)) {
		for (uint32_t i = 1; i <= v.exists; i++) {
			const struct mbox_msg *m = mbox_view_seq(&v, i);

			unseen += m != NULL && !(m->flags & MF_SEEN);
			size += m != NULL ? m->vsize : 0;
			deleted += m != NULL && (m->flags & MF_TRASHED);
		}
	}
#define ITEM(bit, label, val) do { \
	if (items & (bit)) { \
		int n_ = fmt(out + ol, sizeof out - ol, "%s%s %u", \
		    ol ? " " : "", label, (unsigned)(val)); \
		if (n_ > 0 && (size_t)n_ < sizeof out - ol) { \
			ol += (size_t)n_; \
		} \
	} \
} while (0)
	ITEM(IMAP_SA_MESSAGES, "MESSAGES", v.exists);
	ITEM(IMAP_SA_RECENT, "RECENT", v.nrecent);
	ITEM(IMAP_SA_UIDNEXT, "UIDNEXT", mbox_uidnext(v.mb));
	ITEM(IMAP_SA_UIDVALIDITY, "UIDVALIDITY", mbox_uidvalidity(v.mb));
	ITEM(IMAP_SA_UNSEEN, "UNSEEN", unseen);
	ITEM(IMAP_SA_DELETED, "DELETED", deleted);
#undef ITEM
	if (items & IMAP_SA_HIGHESTMODSEQ) {	/* RFC 7162 3.1.2 */
		int n_ = fmt(out + ol, sizeof out - ol, "%sHIGHESTMODSEQ %llu",
		    ol ? " " : "",
		    (unsigned long long)mbox_highestmodseq(v.mb));

		ol += n_ > 0 && (size_t)n_ < sizeof out - ol ? (size_t)n_ : 0;
	}
	if (items & IMAP_SA_SIZE) {	/* RFC 8438: RFC822.SIZE summed */
		int n_ = fmt(out + ol, sizeof out - ol, "%sSIZE %llu",
		    ol ? " " : "", (unsigned long long)size);

		ol += n_ > 0 && (size_t)n_ < sizeof out - ol ? (size_t)n_ : 0;
	}
	mbox_unselect(&v);
	(void)imap_outf(s, "* STATUS %.*s (%.*s)\r\n", (int)ql, q, (int)ol,
	    out);
	return 0;
}

/*
 * The items are checked before the mailbox is looked up, so an unknown
 * item is BAD whether or not the mailbox exists. A name longer than
 * any mailbox can have is NO [NONEXISTENT], like any other name that
 * is not there.
 *
 * One STATUS opens one folder in one call, as SELECT does: what a
 * slice of LIST-STATUS is bounded by. That call (mbox_select) reads the
 * folder whole, dovecot-uidlist and new/ and cur/, so its time grows
 * with the folder (~0.1 s for 30,000 messages, more the first time),
 * not with anything the command says; a shorter turn needs an open in
 * steps in the store, for SELECT and POP3 as well.
 */
void
imap_cmd_status(struct imap_session *s)
{
	struct imap_cmd *cmd = &s->ws->cmd;
	char name[FOLDER_NAME_MAX + 1];
	size_t nlen;
	unsigned items;
	enum imap_perr pe = imap_status_items(cmd, cmd->args[0].next, &items);

	if (pe != IMAP_PE_OK) {
		imap_bad(s, imap_strerror(pe));
		return;
	}
	if (cmd->args[0].type == IMAP_ARG_LIST) {
		imap_bad(s, "Invalid mailbox name");
		return;
	}
	if (imap_name_arg(s, &cmd->args[0], name, sizeof name, &nlen) ==
	    -1 || status_out(s, name, nlen, items) == -1) {
		imap_tagged(s, "NO", "[NONEXISTENT] No such mailbox");
		return;
	}
	imap_tagged(s, "OK", "STATUS completed");
}
