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
 */
#ifndef WREN_MAILDIR_H
#define WREN_MAILDIR_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/limits.h"

#define MAILDIR_NAME_MAX	128	/* a base name, without ,S=,W= */
#define MAILDIR_PATH_MAX	(CFG_PATH_MAX + 160)

/* A unique base name for a new message (the same base serves every
 * Maildir the message goes to). */
void	maildir_unique(char *out, size_t cap, const char *hostname);

/* Creates home/Maildir with tmp, new and cur (mode 0700) as needed. */
int	maildir_ensure(const char *home, struct err *);

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
