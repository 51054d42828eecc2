/* SPDX-License-Identifier: ISC */
/*
 * mbox_save.h - saving messages into a Maildir folder for IMAP: APPEND
 * and MULTIAPPEND (RFC 3501 6.3.11, RFC 3502), COPY (6.4.7) and MOVE
 * (RFC 6851), with the destination UIDs that UIDPLUS reports (RFC 4315
 * APPENDUID, COPYUID).
 *
 * A save is a batch of up to MBOX_SAVE_MAX written files (APPEND) or
 * MBOX_COPY_MAX copies, committed at once through the store
 * transaction (store/txn.h, the group commit SMTP delivery uses), then
 * numbered in batch order in dovecot-uidlist and the folder's index;
 * every session viewing the folder is told (EXISTS at its next
 * update). Either every file of a batch gets its UID or none stays:
 * MULTIAPPEND is one batch.
 *  - A written file goes to tmp/, is made durable and renamed into
 *    new/ (no flags) or cur/ (":2,<flags>"), as Dovecot's APPEND does.
 *  - A copy by hard link goes straight to its final name in new/ or
 *    cur/ (its data is durable already, as the source's): no data
 *    sync, no rename. A copy by bytes (another file system) goes
 *    through tmp/ like an APPEND.
 *  - Once a batch's files are in place, its lines are appended to
 *    dovecot-uidlist and synced together with the directories (the
 *    store's placed hook: one io_uring stage, the uidlist's fdatasync
 *    beside the directories' fsyncs, not after them). A crash before
 *    both are durable leaves a line naming a missing file (a UID read
 *    as expunged, never shown: the index learns of lines only once
 *    they are durable) or a file without its line (numbered by the
 *    next scan: a message the client never got OK for, a duplicate
 *    if it saves again, never a loss), as with Dovecot.
 *
 * File names are Dovecot's: "<sec>.M<usec>P<pid>Q<n>_<i>.<host>" in
 * tmp/, "<that>,S=<size>,W=<vsize>[:2,<flags>]" in place. Messages are
 * stored with LF line ends (Dovecot's default); W= is the CR LF size.
 *
 * dovecot-uidlist.lock is taken at commit (at a batch's first copy,
 * since copies appear in place at once) and held until the files have
 * their UIDs (as Dovecot holds it around its renames), so no other
 * process numbers them in another order.
 *
 * A save holds a view of the destination folder (mbox_select) from
 * mbox_save_begin to mbox_save_end: it takes one of mbox_init's
 * max_open slots when no session has the folder open (the folder stays
 * open, idle, afterwards: the next APPEND to it reads nothing again).
 * RENAME of the folder waits meanwhile (mbox_saving: NO [INUSE]): the
 * save names its files by the folder's path.
 *
 * Memory: sizeof(struct mbox_save) per save in flight, in the caller's
 * memory (mbox_save_bytes()); nothing is allocated. A COPY of any
 * length runs as batches of MBOX_COPY_MAX with one transaction each
 * (a 1,000-message COPY: one directory fsync and one uidlist
 * fdatasync, at once).
 *
 * APPEND (one message a command):
 *   mbox_save_begin(&sv, path, &e)       ENOENT: NO [TRYCREATE]
 *   kw = mbox_save_keyword(&sv, "$Forwarded", 10)    (per keyword)
 *   mbox_save_open(&sv, MF_SEEN, 1u << kw, date)
 *   mbox_save_write(&sv, p, n)           (each piece of the literal)
 *   mbox_save_close(&sv)
 *   mbox_save_commit(&sv, appended, s)   later: appended(s, 0, uidv,
 *                                        first, 1) -> "OK [APPENDUID
 *                                        uidv first]"; mbox_save_end
 * MULTIAPPEND: open / write / close per message (at most
 *   MBOX_SAVE_MAX, else NO [LIMIT]), one commit: UIDs first..first+n-1
 *   ("APPENDUID uidv first:last"). Any message failing (a write, a
 *   close): mbox_save_abort, none is appended (RFC 3502).
 * COPY: begin; for each source message (ascending) mbox_save_copy
 *   and mbox_uidset_add(&src, uid); when mbox_save_full or at the end,
 *   commit; in the callback mbox_uidset_add_range(&dst, first,
 *   first + n - 1) and go on with the next ones. If a batch fails
 *   (or a range does not fit in dst: mbox_save_undo_range for that
 *   batch too), mbox_save_undo(&sv, &dst) removes what earlier batches
 *   copied (RFC 3501: COPY is all or nothing), then mbox_save_end; NO.
 *   A source whose src set overflowed: OK without COPYUID.
 *   Success: "OK [COPYUID uidv <src> <dst>]" (mbox_uidset_format).
 * MOVE: the COPY, then on the source view mbox_view_update(v, 1, ...)
 *   and mbox_expunge_uids(v, mbox_uidset_want, &src, fn, arg): the
 *   "* n EXPUNGE" lines follow the untagged "OK [COPYUID ...]".
 */
#ifndef WREN_MBOX_SAVE_H
#define WREN_MBOX_SAVE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/conn.h"
#include "core/err.h"
#include "core/ev.h"
#include "store/maildir.h"
#include "store/mbox.h"
#include "store/txn.h"

#define MBOX_SAVE_MAX	64	/* files written in one batch:
				 * MULTIAPPEND messages */
#define MBOX_COPY_MAX	1024	/* copies in one batch: each costs
				 * sizeof(struct mbox_save_file) of
				 * the save; a batch costs two syncs */
#define MBOX_UIDSET_MAX	128	/* ranges in a struct mbox_uidset */

/* Called once per committed batch, from a store round: err 0 and the
 * batch's UIDs first..first+n-1 in the order the files were added,
 * or an errno (ENOSPC, EDQUOT, EIO, EAGAIN: the uidlist lock is
 * held elsewhere) and no file of the batch is left. The save is ready
 * for the next batch (or mbox_save_end) when this runs. */
typedef void mbox_save_done_fn(void *arg, int err, uint32_t uidvalidity,
    uint32_t first, size_t n);

struct mbox_save_file {
	uint64_t	size;		/* as stored (LF line ends) */
	uint32_t	vsize;		/* CR LF size: W= */
	uint32_t	flags;		/* MF_* */
	uint32_t	keywords;	/* the destination's letters */
	uint32_t	inplace;	/* 1: hard-linked to its final
					 * name (no tmp/ file) */
};

struct mbox_save {
	struct mbox_view	 view;		/* of the destination */
	struct store_txn	 txn;
	char			 stem[MAILDIR_NAME_MAX + 1];
	struct mbox_save_file	 f[MBOX_COPY_MAX];
	size_t			 n;		/* files in the batch */
	int			 copies;	/* the batch is a COPY's:
						 * MBOX_COPY_MAX of them */
	int			 fd;		/* a message being written */
	int			 err;		/* its first write error */
	int			 last;		/* last byte stored, or -1 */
	int			 cr;		/* a CR waits for the next
						 * byte */
	time_t			 date;		/* its internal date */
	int			 held;		/* the uidlist lock, for the
						 * batch committed */
	int			 busy;		/* counted in the watch */
	mbox_save_done_fn	*done;
	void			*arg;
	/* The batch's uidlist lines, written once its files are in
	 * place and synced with their directories (mbox_save.c). */
	int			 written;	/* waiting to be indexed */
	int			 synced;	/* called back by the store */
	int			 sync_err;
	uint32_t		 first;		/* its first UID */
	off_t			 ul_off;	/* where its lines start */
	struct mbox_save	*wnext;		/* written, in order */
};

/* Ranges of UIDs in the order added, for COPYUID and MOVE. */
struct mbox_uidset {
	uint32_t	lo[MBOX_UIDSET_MAX];
	uint32_t	hi[MBOX_UIDSET_MAX];
	size_t		n;
	int		overflow;	/* a UID did not fit: incomplete */
};

/* Once, at start (after mbox_init): the store's commit machinery on
 * the loop, with APPENDs in progress watched so rounds wait for them
 * briefly. 0, or -1 with e. */
int	mbox_save_init(struct ev *, struct conn_table *, struct err *);
void	mbox_save_shutdown(void);

/*
 * Starts a save into the Maildir folder at path (".../Maildir" or
 * ".../Maildir/.Sent"). -1 with e and errno: ENOENT when the folder
 * does not exist (NO [TRYCREATE]), EMFILE when mbox_init's max_open
 * folders are open (NO [UNAVAILABLE], try later), or another.
 */
int	mbox_save_begin(struct mbox_save *, const char *path,
	    struct err *);
/* The destination's index of a keyword, created in its
 * dovecot-keywords when new; -1 when it has no free letter. */
int	mbox_save_keyword(struct mbox_save *, const char *, size_t);
/* 1 when the batch is full (MBOX_SAVE_MAX written files, or
 * MBOX_COPY_MAX copies): commit it. */
int	mbox_save_full(const struct mbox_save *);

/* A new message in tmp/ with these flags (MF_*), keywords (the
 * destination's, mbox_save_keyword) and internal date (0: now).
 * 0, or -1 with errno (ENOBUFS: the batch is full). */
int	mbox_save_open(struct mbox_save *, unsigned flags, uint32_t keywords,
	    time_t date);
/* Literal bytes as they arrive (CR LF stored as LF). 0, or -1 with
 * errno once a write failed (the caller still reads the literal). */
int	mbox_save_write(struct mbox_save *, const char *, size_t);
/* The message is complete: its date set, its file closed. 0, or -1
 * with errno (the write error; the message is dropped, the rest of
 * the batch stays). */
int	mbox_save_close(struct mbox_save *);

/*
 * Adds source message m of view src (which may be of the destination
 * folder itself) to the batch: hard-linked to its final name in new/
 * or cur/ (numbered at commit, under the uidlist lock taken by the
 * batch's first copy), or copied into tmp/ when link(2) fails with
 * EXDEV, EPERM or EMLINK (one message, at most message_size_limit
 * bytes, in the kernel where copy_file_range works; synced at commit);
 * flags kept, keywords mapped by name. One call is bounded by one
 * message. 0, or -1 with errno: ENOENT when the source file is gone
 * (expunged by another hand), ENOBUFS when the batch is full, EAGAIN
 * when another process holds dovecot-uidlist.lock (NO [INUSE]).
 */
int	mbox_save_copy(struct mbox_save *, struct mbox_view *src,
	    const struct mbox_msg *m);

/* Commits the batch; done is called from a later store round, never
 * from here. 0, or -1 with errno (the batch is discarded, no
 * callback): EINVAL when empty or a message is still open, EAGAIN
 * when another process holds dovecot-uidlist.lock. */
int	mbox_save_commit(struct mbox_save *, mbox_save_done_fn *, void *);

/* Drops the batch not yet called back (its files removed, no
 * callback); the save stays begun. */
void	mbox_save_abort(struct mbox_save *);
/* Removes from the destination the messages whose UIDs are in set,
 * or in lo..hi (copied by earlier batches of a COPY that then failed,
 * or a batch whose range did not fit in the caller's set). 0 or -1. */
int	mbox_save_undo(struct mbox_save *, const struct mbox_uidset *);
int	mbox_save_undo_range(struct mbox_save *, uint32_t lo, uint32_t hi);
/* Aborts what is pending and lets the destination go. */
void	mbox_save_end(struct mbox_save *);

uint32_t	mbox_save_uidvalidity(const struct mbox_save *);

void	mbox_uidset_init(struct mbox_uidset *);
/* Adds uid (or lo..hi) after the others: 0, or -1 when full (overflow
 * is then set: leave COPYUID out). */
int	mbox_uidset_add(struct mbox_uidset *, uint32_t uid);
int	mbox_uidset_add_range(struct mbox_uidset *, uint32_t lo,
	    uint32_t hi);
/* 1 when uid is in set (a want function for mbox_expunge_uids). */
int	mbox_uidset_want(void *set, uint32_t uid);
/* "1:3,7" into out; the length needed, written only if below cap. */
size_t	mbox_uidset_format(const struct mbox_uidset *, char *out,
	    size_t cap);

/* Bytes of a save in flight (APPEND or one COPY batch). */
size_t	mbox_save_bytes(void);

#endif
