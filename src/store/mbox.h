/* SPDX-License-Identifier: ISC */
/*
 * mbox.h - one Maildir folder as IMAP sees it: messages in UID order
 * with their flags, kept in step with the disk, and shared by every
 * session that has the folder selected.
 *
 * On disk everything is Dovecot's (store/uidlist.h): UIDs and
 * UIDVALIDITY in dovecot-uidlist (new UIDs are appended, never a
 * rewrite per message), keyword names in dovecot-keywords, flags in
 * the file names. Dovecot and wren can serve the same Maildir.
 *
 * In memory, one struct mbox per open folder; a message costs one
 * struct mbox_msg (28 bytes), a state byte and its share of the name
 * hash (4-byte slots, at most three quarters full: 5-11 bytes). File
 * names are not kept: a message's base name is read back from its
 * dovecot-uidlist line (the offset is in the record, the page cache
 * holds the file), so a 100,000-message INBOX costs about 3.5 MB.
 * The arrays are mmap'ed and grow with the folder, never per
 * connection.
 *
 * Changes reach the index from wren itself (STORE, EXPUNGE, new/ ->
 * cur/) and from other processes (delivery, Dovecot, a user's mv)
 * through inotify on new/ and cur/: no polling. Each change bumps the
 * folder's change counter; a record remembers the counter of its last
 * change. A session's view (struct mbox_view) remembers how far it has
 * told its client, so each session reports EXISTS, EXPUNGE and FETCH
 * FLAGS when RFC 3501 allows it (7.4.1: no EXPUNGE during FETCH, STORE
 * or SEARCH). An expunged message stays as a tombstone until every
 * view has reported it, which keeps sequence numbers right per view.
 *
 * \Recent (RFC 3501 2.3.2): the first view to learn of a message owns
 * it as recent; that is also when a file in new/ moves to cur/.
 */
#ifndef WREN_MBOX_H
#define WREN_MBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/err.h"
#include "core/ev.h"
#include "core/limits.h"
#include "store/uidlist.h"

#define MBOX_PATH_MAX	(CFG_PATH_MAX + MBOX_NAME_MAX + 64)
#define MBOX_KW_LEN_MAX	64	/* one keyword name */
#define MBOX_IDLE_MAX	8	/* folders kept open without a view: a
				 * few per process (each keeps its index,
				 * ~35 bytes a message), taken from the
				 * max_open slots */

/* Bits of mbox_msg.state. */
#define MB_INNEW	0x01u	/* the file is in new/ (else cur/) */
#define MB_NOINFO	0x02u	/* its name has no ":2," part */
#define MB_GONE		0x04u	/* expunged: a tombstone */
#define MB_MISSING	0x08u	/* not seen by the running scan */
#define MB_MARKED	0x10u	/* marked by the exclusive holder
				 * (POP3 DELE), never on disk */

struct mbox_msg {
	uint32_t	uid;
	uint32_t	vsize;		/* RFC822.SIZE: CR LF size (W=) */
	uint32_t	off;		/* its line in dovecot-uidlist */
	uint32_t	hash;		/* of the base name */
	uint32_t	flags;		/* MF_* (uidlist.h) */
	uint32_t	keywords;	/* bit i: keyword i (letter 'a'+i) */
	uint32_t	mod;		/* change counter at the last change */
	/* state packed in the top byte of keywords would save 4 bytes;
	 * kept apart while the layout settles. */
};

struct mbox;

struct mbox_view;
/* Called after the folder changed by another hand (inotify), once for
 * each view attached to it that set the hook (the folder keeps its
 * own list of views: nobody scans every connection), so sessions in
 * IDLE can report at once. It may detach its own view. */
typedef void mbox_changed_fn(struct mbox_view *);

/* A session's window on a folder. */
struct mbox_view {
	struct mbox	*mb;
	uint32_t	 known_uid;	/* highest UID announced (EXISTS) */
	uint32_t	 exists;	/* messages the client counts */
	uint32_t	 flags_seen;	/* changes reported as FETCH FLAGS */
	uint32_t	 expunge_seen;	/* expunges reported */
	uint32_t	 recent_lo;	/* UIDs recent in this view */
	uint32_t	 recent_hi;
	uint32_t	 nrecent;
	int		 readonly;	/* EXAMINE */
	/* A cursor making sequence <-> index walks O(1) per step. */
	uint32_t	 cur_seq, cur_idx;
	mbox_changed_fn	*changed;	/* the caller's, set before
					 * mbox_select; NULL: not told */
	struct mbox_view *next;		/* views of the same folder */
};

/* What a view has to tell its client (mbox_view_update). */
enum mbox_event {
	MBOX_EV_EXPUNGE,	/* seq: "* seq EXPUNGE" */
	MBOX_EV_EXISTS,		/* seq = new count: "* n EXISTS" */
	MBOX_EV_RECENT,		/* seq = recent count */
	MBOX_EV_FLAGS		/* seq, msg: "* seq FETCH (FLAGS ...)" */
};
typedef void mbox_event_fn(void *arg, enum mbox_event, uint32_t seq,
    const struct mbox_msg *);

/* Once, at start: the loop that carries inotify and how many folders
 * may be open at once. */
int	mbox_init(struct ev *, size_t max_open, struct err *);
void	mbox_shutdown(void);

/*
 * Opens the folder at path (a Maildir: ".../Maildir" or ".../Maildir/
 * .Sent") and attaches the view; a folder already open is shared.
 * Reads dovecot-uidlist, scans new/ and cur/, gives UIDs to new files.
 * -1 with e set when it is not a Maildir or cannot be read, and errno:
 * EMFILE when max_open folders are open already, ENAMETOOLONG, or
 * the disk's (ENOENT: no such Maildir).
 */
int	mbox_select(const char *path, struct mbox_view *, int readonly,
	    struct err *);
/* Detaches the view. The folder stays open, idle, after its last
 * view: up to MBOX_IDLE_MAX idle folders, the least recently used
 * closed first (and whenever a slot is needed), so that the next
 * mbox_select of it (APPEND to Sent command after command, STATUS)
 * costs no read of the folder. An idle folder is reused only while its
 * path names the same directory. */
void	mbox_unselect(struct mbox_view *);

/* Closes the idle folders at path and its Maildir++ children (".a"
 * and ".a.b"): before DELETE or RENAME moves them. */
void	mbox_forget(const char *path);

/* 1 when a save (APPEND, COPY, MOVE: mbox_save_begin to
 * mbox_save_end) into the folder at path or one of its children is in
 * progress: RENAME waits for it to end (NO [INUSE]), since the save
 * names its files by the folder's path. */
int	mbox_saving(const char *path);

uint32_t	mbox_uidvalidity(const struct mbox *);
uint32_t	mbox_uidnext(const struct mbox *);
const char	*mbox_path(const struct mbox *);

/* Re-reads the disk now if inotify said it changed (CHECK, NOOP). */
void	mbox_sync(struct mbox *);

/*
 * Tells the view's client what changed, through fn: expunges first
 * (only when allow_expunge), then EXISTS and RECENT for new messages
 * (which become known and, if unclaimed, recent here), then flag
 * changes by others.
 */
void	mbox_view_update(struct mbox_view *, int allow_expunge,
	    mbox_event_fn *, void *);

/* Sequence number -> record (NULL when out of range), and the record
 * for a UID with its sequence number (NULL when not in the view). */
const struct mbox_msg	*mbox_view_seq(struct mbox_view *, uint32_t seq);
const struct mbox_msg	*mbox_view_uid(struct mbox_view *, uint32_t uid,
			    uint32_t *seq);
/* The first message of the view with a UID >= uid, and its sequence
 * number; NULL when there is none. */
const struct mbox_msg	*mbox_view_uid_ge(struct mbox_view *, uint32_t uid,
			    uint32_t *seq);
/* UID of the last message in the view (for "*" in UID sets); 0 when
 * empty. */
uint32_t	mbox_view_last_uid(struct mbox_view *);
/* 1 when the message is \Recent in this view. */
int	mbox_view_recent(const struct mbox_view *, const struct mbox_msg *);
/* Sequence number of the first message without \Seen, or 0. */
uint32_t	mbox_view_first_unseen(struct mbox_view *);

/*
 * Sets a message's flags and keywords (renaming its file). The change
 * counts as reported to view (the session answers STORE itself).
 * 0, or -1 with errno (the file vanished: ENOENT).
 */
int	mbox_store(struct mbox_view *, const struct mbox_msg *,
	    unsigned flags, uint32_t keywords);

/* Removes every message with \Deleted in the view (and, with want,
 * only those whose UID want accepts); fn hears each "* seq EXPUNGE"
 * (NULL: silently, for CLOSE). 0 or -1. */
int	mbox_expunge(struct mbox_view *, int (*want)(void *, uint32_t uid),
	    void *want_arg, mbox_event_fn *, void *);

/* MOVE (RFC 6851): removes the messages whose UID want accepts,
 * \Deleted or not, otherwise as mbox_expunge (run mbox_view_update
 * with allow_expunge first, so fn hears each "* seq EXPUNGE"); the
 * removals from cur/ are durable on return (one directory fsync). */
int	mbox_expunge_uids(struct mbox_view *, int (*want)(void *,
	    uint32_t uid), void *want_arg, mbox_event_fn *, void *);

/* Opens a message file read-only; st gets its stat (size, mtime =
 * INTERNALDATE). -1 with errno. */
int	mbox_open_msg(struct mbox *, const struct mbox_msg *, struct stat *);

/* Keywords: index of a name (case-insensitive, as IMAP flags are),
 * added to dovecot-keywords when create is set and a letter is free;
 * -1 when unknown or full. */
int		 mbox_keyword(struct mbox *, const char *, size_t, int create);
/* Name of keyword i, or NULL. */
const char	*mbox_keyword_name(const struct mbox *, unsigned i);

/*
 * POP3 (RFC 1939 8: the maildrop is locked for the session): one
 * holder at a time per folder, and a mark per message for it (DELE,
 * applied at QUIT with mbox_expunge_marked). 0, or -1 when another
 * holds it. The marks go when the holder unlocks.
 */
int	mbox_lock_exclusive(struct mbox_view *, const void *holder);
void	mbox_unlock_exclusive(struct mbox_view *, const void *holder);
void	mbox_mark(struct mbox_view *, const struct mbox_msg *, int on);
/* 1 when marked, or expunged meanwhile by another hand (IMAP): either
 * way no longer there for the holder. */
int	mbox_marked(const struct mbox_view *, const struct mbox_msg *);
/* Removes the marked messages (their files): 0, or -1 if some could
 * not be removed. */
int	mbox_expunge_marked(struct mbox_view *);

/*
 * CONDSTORE/QRESYNC (RFC 7162; store/modseq.h, mbox_modseq.c): a
 * message's MODSEQ, the folder's HIGHESTMODSEQ, and the modseq of its
 * last expunge (0: none known), below which a client must be sent every
 * UID it asks about that is not there (VANISHED (EARLIER)).
 */
uint64_t	mbox_modseq(const struct mbox *, const struct mbox_msg *);
uint64_t	mbox_highestmodseq(const struct mbox *);
uint64_t	mbox_vanished_since(const struct mbox *);

/* Bytes of index per message, for README and `wren check`. */
size_t	mbox_bytes_per_message(void);

#endif
