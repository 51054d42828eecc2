/* SPDX-License-Identifier: ISC */
/*
 * folder.h - an account's Maildir++ folders as Dovecot 2.3 lays them
 * out: first-login provisioning, LIST, CREATE, DELETE, RENAME,
 * SUBSCRIBE and UNSUBSCRIBE (RFC 3501 6.3, RFC 5258, RFC 6154).
 *
 * Every function takes the account's Maildir root (home/Maildir).
 * Names are IMAP names as the client sent them (modified UTF-7, '.'
 * separator, see folder_name.h); the layout:
 *
 *   Maildir/                  INBOX (cur new tmp)
 *   Maildir/.Sent/            "Sent" (cur new tmp maildirfolder)
 *   Maildir/.a.b/             "a.b"; "a" need not exist
 *   Maildir/subscriptions     Dovecot's file (subs.h)
 *   Maildir/wren-deleted/     folders being deleted (folder_reap_step)
 *
 * Results: FOLDER_OK (0), or a negative enum folder_rc naming the IMAP
 * response code (RFC 5530) the session answers NO with, with a text in
 * the struct err (safe to send: no path in it).
 *
 * Not reentrant: the subscriptions file is read and rewritten in one
 * static buffer of SUBS_FILE_MAX + 1 KB (the process has one thread).
 * No malloc.
 */
#ifndef WREN_FOLDER_H
#define WREN_FOLDER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/limits.h"
#include "store/folder_name.h"

/* Folders one listing holds, implied parents and subscribed-only names
 * included. Past it the list is cut (folder_list's `cut` is set and a
 * warning text filled) and RENAME of a folder with more children than
 * fit is refused with LIMIT. 512 entries are ~110 KB. */
#define FOLDER_LIST_MAX		512

/* Names SUBSCRIBE keeps at most: half a listing, so folders and
 * subscriptions are listed whole together in the usual case. */
#define FOLDER_SUBS_MAX		(FOLDER_LIST_MAX / 2)

/* Directory entries of the root read by one listing or rename: the
 * folders plus Maildir's and Dovecot's own files, with room. */
#define FOLDER_SCAN_MAX		(4 * FOLDER_LIST_MAX)

/* Where DELETE puts a folder (in one rename) until folder_reap_step
 * removes it. Not a ".name": no Maildir++ reader takes it for a folder
 * (Dovecot 2.3 lists a leftover .DOVECOT-TRASHED as a folder). */
#define FOLDER_TRASH		"wren-deleted"

/* Directory levels below FOLDER_TRASH the reaper descends; a deeper
 * directory is moved up to FOLDER_TRASH first, so depth stays bounded
 * whatever the tree. */
#define FOLDER_REAP_DEPTH	4

/* A subscriptions.lock older than this is taken for a crash's and
 * removed (Dovecot's dotlock is given up after 2 minutes too). */
#define FOLDER_LOCK_STALE	120

/* Paths built from a root and a directory name. */
#define FOLDER_PATH_MAX		(CFG_PATH_MAX + FOLDER_DIR_MAX + 64)

enum folder_rc {
	FOLDER_OK = 0,
	FOLDER_NONEXISTENT = -1,	/* [NONEXISTENT] */
	FOLDER_ALREADYEXISTS = -2,	/* [ALREADYEXISTS] */
	FOLDER_CANNOT = -3,		/* [CANNOT]: bad name, INBOX */
	FOLDER_LIMIT = -4,		/* [LIMIT]: too long/deep/many */
	FOLDER_INUSE = -5,		/* [INUSE]: subscriptions locked */
	FOLDER_SERVERBUG = -6		/* [SERVERBUG]: an I/O error */
};

/* Attributes of a listed name. */
#define FOLDER_A_NODIR		0x01	/* no directory: see IMPLIED */
#define FOLDER_A_IMPLIED	0x02	/* an ancestor of a folder, without
					 * a directory of its own: Dovecot
					 * lists it "\Noselect \HasChildren"
					 * (LIST-EXTENDED: \NonExistent) */
#define FOLDER_A_HASCHILDREN	0x04	/* else \HasNoChildren */
#define FOLDER_A_SUBSCRIBED	0x08
#define FOLDER_A_SENT		0x10	/* RFC 6154 special use */
#define FOLDER_A_DRAFTS		0x20
#define FOLDER_A_TRASH		0x40
#define FOLDER_A_JUNK		0x80
#define FOLDER_A_ARCHIVE	0x100
#define FOLDER_A_SPECIAL	0x1f0
#define FOLDER_A_MARK		0x8000	/* never set by folder_list: the
					 * caller's own, one pass over a
					 * listing marking entries for the
					 * next (LIST's subscribed
					 * descendants) */

/* folder_list flags. */
#define FOLDER_L_SUBSCRIBED	0x1	/* read subscriptions too */

struct folder_entry {
	char		 name[FOLDER_NAME_MAX + 1];
	uint8_t		 len;		/* FOLDER_NAME_MAX < 256 */
	uint16_t	 attr;		/* FOLDER_A_* */
};

/*
 * One listing, in the caller's storage (a LIST's own, or one per
 * process for what runs to its end in one call). Entry 0 is always
 * INBOX. The order is
 * the directory's, then implied parents, then subscribed-only names;
 * Dovecot's order differs (tests compare sets).
 */
struct folder_list {
	struct folder_entry e[FOLDER_LIST_MAX];
	size_t		 n;
	int		 cut;		/* 1: more than FOLDER_LIST_MAX */
	unsigned	 skipped;	/* entries or lines not listable */
	uint16_t	 hash[2 * FOLDER_LIST_MAX];	/* index + 1 */
};

/*
 * First login: creates root (mode 0700) with cur/ new/ tmp/ when
 * missing, then Sent, Drafts, Trash, Junk and Archive when missing,
 * each a Maildir++ folder with its maildirfolder file, and subscribes
 * those it created. Durable: every directory created in is fsync'd.
 * When all exist it costs six stat calls.
 */
int	folder_provision(const char *root, struct err *);

/* The RFC 6154 attribute of a top-level name ("Sent" -> FOLDER_A_SENT),
 * exact case as Dovecot's default config names them, else 0. */
unsigned	folder_special_use(const char *name, size_t len);

/* "\\Sent" etc. for one FOLDER_A_* special-use bit, else NULL. */
const char	*folder_special_name(unsigned attr);

/*
 * Fills l with every folder under root (readdir: directories named
 * ".name" whose name folder_name_parse takes in FOLDER_NAME_LAX and
 * maps back to that directory; ".DOVECOT-TRASHED", files and other
 * entries are left out), INBOX, the implied parents, children and
 * special-use attributes; with FOLDER_L_SUBSCRIBED, also
 * FOLDER_A_SUBSCRIBED, and subscribed names that do not exist as
 * FOLDER_A_NODIR | FOLDER_A_SUBSCRIBED (not counted as children).
 * Reads at most FOLDER_SCAN_MAX entries. 0, or FOLDER_SERVERBUG.
 */
int	folder_list(const char *root, unsigned flags, struct folder_list *l,
	    struct err *);

/* The index of name in a filled list (INBOX in any case), or -1. */
int	folder_list_find(const struct folder_list *, const char *name,
	    size_t len);

/* The directory of an existing or new folder: root, or root/.name,
 * into out. 0, or FOLDER_CANNOT / FOLDER_LIMIT for the name (taken
 * FOLDER_NAME_LAX: folders Dovecot made can be opened). */
int	folder_path(const char *root, const char *name, size_t len,
	    char *out, size_t cap, struct err *);

/* CREATE (RFC 3501 6.3.3): one trailing separator is dropped; INBOX
 * and an existing folder are FOLDER_ALREADYEXISTS; parents are not
 * made (Maildir++ needs none). The new folder is made in a temporary
 * directory and renamed into place complete. */
int	folder_create(const char *root, const char *name, size_t len,
	    struct err *);

/* DELETE (RFC 3501 6.3.4): INBOX is FOLDER_CANNOT; children stay (as
 * Dovecot does on Maildir++); subscriptions stay. The folder is
 * renamed into FOLDER_TRASH in one step; its files go later, through
 * folder_reap_step. */
int	folder_delete(const char *root, const char *name, size_t len,
	    struct err *);

/* Removes at most `budget` entries (files and directories) from
 * root/FOLDER_TRASH, and FOLDER_TRASH itself once empty. 1 when more
 * is left, 0 when nothing is, FOLDER_SERVERBUG on an error. */
int	folder_reap_step(const char *root, unsigned budget, struct err *);

/*
 * RENAME (RFC 3501 6.3.5): the folder and each child ".from.*" become
 * ".to.*" (an implied parent without a directory is renamed through
 * its children, as Dovecot does), after checking that no target
 * exists (FOLDER_ALREADYEXISTS), that every new name is valid
 * (FOLDER_CANNOT, FOLDER_LIMIT) and that `to` is not under `from`
 * (FOLDER_CANNOT); a target that is itself one of the names moved is
 * taken as existing. Subscriptions are left as
 * they are, as Dovecot 2.3 does. RENAME INBOX: a new folder `to` gets
 * INBOX's cur/ and new/ (two directory renames, whatever the number of
 * messages) and INBOX is left empty; Dovecot 2.3 refuses it on
 * Maildir++. scratch: the caller's listing storage, overwritten.
 */
int	folder_rename(const char *root, const char *from, size_t flen,
	    const char *to, size_t tlen, struct folder_list *scratch,
	    struct err *);

/* SUBSCRIBE (on 1) or UNSUBSCRIBE (on 0) name; whether the folder
 * exists does not matter (RFC 3501 6.3.6). The file is rewritten only
 * when it changes: written to subscriptions.lock (O_EXCL, as Dovecot's
 * dotlock, so the two never write at once: a fresh lock is
 * FOLDER_INUSE), fsync'd, renamed over subscriptions, root fsync'd.
 * Unsubscribing a name not subscribed is OK, as in Dovecot 2.3. */
int	folder_subscribe(const char *root, const char *name, size_t len,
	    int on, struct err *);

#endif
