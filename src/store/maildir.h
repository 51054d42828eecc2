/* SPDX-License-Identifier: ISC */
/*
 * maildir.h - writing into Maildir (https://cr.yp.to/proto/maildir.html)
 * the way Dovecot names its files, so Dovecot and wren's IMAP read a
 * message's sizes from its name:
 *
 *   <sec>.M<usec>P<pid>Q<n>.<host>,S=<size>,W=<vsize>
 *
 * S= is the file size (LF line ends, as stored), W= the size with CR LF
 * line ends (what IMAP's RFC822.SIZE reports).
 *
 * Durability: a file is written in tmp/, fsync'd, renamed into new/,
 * and new/ is fsync'd; only then may the message be acknowledged.
 *
 * What a crash leaves in tmp/ (a kill -9 in the middle of a transfer)
 * is removed as Dovecot does: files last written 36 hours ago or more.
 * A folder's tmp/ is swept at its first use by the process and then
 * once a day, on use: maildir_ensure, which every delivery and POP3
 * login runs, asks maildir_tmp_check, which remembers when each folder
 * was swept in a small direct-mapped table (a hash of the path and the
 * time the next sweep is due; 16 bytes a slot). Dovecot keeps that time
 * in tmp/'s atime instead, which any reader of the directory moves on a
 * relatime mount (tmp/'s mtime changes with every delivery), so a daily
 * backup would put a daily sweep off for ever; a table in memory costs
 * a sweep per folder per restart, and when more folders are in use
 * than it has slots, an extra sweep where two collide.
 */
#ifndef WREN_MAILDIR_H
#define WREN_MAILDIR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"
#include "core/limits.h"

#define MAILDIR_NAME_MAX	128	/* a base name, without ,S=,W= */
#define MAILDIR_PATH_MAX	(CFG_PATH_MAX + 160)

#define MAILDIR_TMP_AGE		(36 * 3600)	/* Dovecot's, and qmail's */
#define MAILDIR_TMP_EVERY	(24 * 3600)	/* one sweep a day */
#define MAILDIR_TMP_RETRY	3600		/* after one cut short */
#define MAILDIR_TMP_SWEEP_MAX	512	/* tmp/ entries looked at per sweep */
#define MAILDIR_TMP_SLOTS	512	/* folders whose sweep is remembered */

/* A unique base name for a new message (the same base serves every
 * Maildir the message goes to). */
void	maildir_unique(char *out, size_t cap, const char *hostname);

/* Creates home/Maildir with tmp, new and cur (mode 0700) as needed,
 * then sweeps its tmp/ if that is due (maildir_tmp_check). */
int	maildir_ensure(const char *home, struct err *);

/* Removes the regular files of folder/tmp (folder: home/Maildir or a
 * Maildir++ subfolder) whose mtime is MAILDIR_TMP_AGE before now or
 * older, looking at MAILDIR_TMP_SWEEP_MAX entries at most, and records
 * the next sweep as due MAILDIR_TMP_EVERY later (MAILDIR_TMP_RETRY for
 * a sweep cut short). Returns the number of files removed, -1 when
 * tmp/ cannot be read (the next sweep is due a day later all the
 * same). */
int	maildir_tmp_sweep(const char *folder, time_t now);

/* Sweeps folder/tmp at its first use and when its next sweep is due
 * (or more than a day away: the clock was set back). 0, or -1 when
 * tmp/ cannot be read. What opening a folder for writing calls. */
int	maildir_tmp_check(const char *folder, time_t now);

/* home/Maildir/<sub>/<base>[,S=..,W=..] into out; -1 if too long. */
int	maildir_path(char *out, size_t cap, const char *home,
	    const char *sub, const char *base, uint64_t size, uint64_t vsize);

/* Writes all of buf (EINTR-safe): 0 or -1 with errno. */
int	store_write_all(int fd, const void *buf, size_t len);

/* Copies len bytes from src at offset off to the end of dst, in the
 * kernel where it can (copy_file_range), else through a small buffer. */
int	store_copy(int dst, int src, uint64_t off, uint64_t len);

/* fsync of the directory holding path (or of path, a directory). */
int	store_fsync_dir(const char *dir);

/* Starts writeback of a file early (sync_file_range), so the fsync that
 * follows for a whole batch finds most of the work done. */
void	store_start_writeback(int fd);

#endif
