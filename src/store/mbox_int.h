/* SPDX-License-Identifier: ISC */
/*
 * mbox_int.h - what mbox.c (the index and the views) and mbox_disk.c
 * (uidlist, directory scans, inotify, renames) share. Not for other
 * folders: they use mbox.h.
 */
#ifndef WREN_MBOX_INT_H
#define WREN_MBOX_INT_H

#include <sys/types.h>

#include "store/mbox.h"

struct mbox {
	int		 used;
	unsigned	 refs;		/* views; 0: idle (mbox_unselect) */
	uint64_t	 last_use;	/* idle since (a counter) */
	dev_t		 dir_dev;	/* the folder's directory when */
	ino_t		 dir_ino;	/* opened: an idle one must match */
	unsigned	 saves;		/* mbox_save_begin .. _end */
	char		 path[CFG_PATH_MAX + 64];	/* the Maildir folder */
	/* Records in UID order, tombstones included. */
	struct mbox_msg	*msgs;
	uint8_t		*state;		/* MB_* per record */
	uint32_t	 n, cap;
	/* Open addressing on the base-name hash: index + 1, 0 = empty. */
	uint32_t	*hash;
	uint32_t	 hcap;		/* a power of two, >= 2 * n */
	uint32_t	 ngone;		/* tombstones in msgs */
	uint32_t	 modseq;	/* change counter: RFC 7162
					 * HIGHESTMODSEQ - ms_base */
	/* wren-modseq (mbox_modseq.c); offsets from ms_base like mod */
	uint64_t	 ms_base;
	uint32_t	 ms_ceil;	/* synced ceiling */
	uint32_t	 ms_flushed;	/* M records written up to here */
	uint32_t	 ms_exp;	/* the last expunge (0: none) */
	uint32_t	 ms_exp_flushed;
	uint32_t	 ms_records;	/* lines in the file */
	int		 ms_ready;	/* loaded: changes count */
	int		 ms_clean;	/* the file ends in E */
	uint32_t	 recent_uid;	/* highest UID claimed as recent */
	/* dovecot-uidlist */
	struct uidlist_header hdr;
	int		 ul_fd;		/* read side, for names; -1 */
	dev_t		 ul_dev;
	ino_t		 ul_ino;
	off_t		 ul_size;	/* read up to here */
	uint32_t	 ul_dead;	/* lines of expunged messages */
	off_t		 ul_stop;	/* 0, or where lines of a save not
					 * yet durable start: not read */
	int		 ul_fresh;	/* created empty, its directory
					 * entry not yet fsync'd: done
					 * with the first UID written */
	/* inotify */
	int		 wd_new, wd_cur;
	int		 rescan;	/* lost track: scan everything */
	int		 notify;	/* sessions to be told of a change */
	const void	*excl;		/* a POP3 session holding it */
	/* dovecot-uidlist.lock held across a save's commit (mbox_save.c):
	 * saves holding it, and new files others brought meanwhile,
	 * numbered once it is released. */
	unsigned	 ul_held;
	int		 ul_later;
	/* dovecot-keywords */
	char		 kw[MAILDIR_KEYWORDS_MAX][MBOX_KW_LEN_MAX + 1];
	struct mbox_view *views;
};

/* mbox_disk.c */
int	mbox_disk_open(struct mbox *, struct err *);
void	mbox_disk_close(struct mbox *);
void	mbox_disk_shrink(struct mbox *);
int	mbox_disk_shrink_due(const struct mbox *);
int	mbox_disk_unchanged(const struct mbox *);
int	mbox_disk_scan(struct mbox *);
void	mbox_disk_events(struct mbox *);
int	mbox_disk_base(const struct mbox *, const struct mbox_msg *,
	    char *out, size_t cap, size_t *len);
int	mbox_disk_file(const struct mbox *, const struct mbox_msg *,
	    uint8_t state, char *out, size_t cap);
int	mbox_disk_rename(struct mbox *, uint32_t idx, unsigned flags,
	    uint32_t keywords, uint8_t state);
int	mbox_disk_unlink(struct mbox *, uint32_t idx);
void	mbox_disk_keywords_load(struct mbox *);
int	mbox_disk_keywords_save(struct mbox *);
int	mbox_disk_hold(struct mbox *);
void	mbox_disk_release(struct mbox *);
/* Names file i of a save batch as it now is in place: the name in
 * new/ (innew 1) or cur/. 0, or -1. */
typedef int mbox_disk_name_fn(void *, size_t i, char *name, size_t cap,
    int *innew);
char	*mbox_disk_scratch(size_t *cap);
/* UIDs for a save batch, in two steps so that the uidlist is synced
 * together with the batch's directories: the lines written (fd to
 * sync and close; start: where they begin), then, once durable, the
 * index (stop: where the folder's next batch still waiting starts, or
 * 0), or on failure _drop. */
int	mbox_disk_record_write(struct mbox *, size_t n, mbox_disk_name_fn *,
	    void *, uint32_t *first_uid, off_t *start, int *fd);
int	mbox_disk_record_index(struct mbox *, size_t n, mbox_disk_name_fn *,
	    void *, uint32_t first_uid, off_t stop);
void	mbox_disk_record_drop(struct mbox *, off_t stop);
int	mbox_disk_inotify_init(struct ev *, struct err *);
void	mbox_disk_inotify_close(void);

/* mbox_modseq.c */
void		mbox_ms_init(struct ev *);
void		mbox_ms_shutdown(void);
int		mbox_ms_load(struct mbox *);
uint32_t	mbox_ms_next(struct mbox *);	/* ++modseq, ceiling kept */
void		mbox_ms_dirty(struct mbox *);	/* a batch to write soon */
void		mbox_ms_flush(struct mbox *);
void		mbox_ms_close(struct mbox *);	/* the batch and E */
void		mbox_ms_flush_all(void);	/* mbox.c: every folder */

/* mbox.c, for mbox_disk.c */
uint32_t	mbox_hash(const char *, size_t);
int		mbox_append(struct mbox *, uint32_t uid, uint32_t off,
		    uint32_t hash, uint32_t vsize, unsigned flags,
		    uint32_t keywords, uint8_t state);
int		mbox_find(const struct mbox *, const char *base, size_t len,
		    uint32_t hash, uint32_t *idx);
uint32_t	mbox_find_uid(const struct mbox *, uint32_t uid);
void		mbox_gone(struct mbox *, uint32_t idx);
void		mbox_compact(struct mbox *);
struct mbox	*mbox_by_wd(int wd);
void		mbox_notify(struct mbox *);
void		mbox_rescan_all(void);

#endif
