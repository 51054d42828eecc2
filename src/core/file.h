/* SPDX-License-Identifier: ISC */
/*
 * file.h - small whole-file helpers for start-up and reload paths
 * (configuration, /etc/passwd) and the commands that write
 * configuration (`wren user`, `wren setup`). Not for the mail path.
 */
#ifndef WREN_FILE_H
#define WREN_FILE_H

#include <stddef.h>

#include "err.h"

/* Reads a regular file of at most `max` bytes into a malloc'ed buffer
 * (NUL-terminated, *len excludes the NUL); NULL with a reason. */
char	*file_read_all(const char *path, size_t max, size_t *len,
	    struct err *);

/*
 * Replaces path with buf[0..len) so that a reader sees the old file or
 * the new one, never a part: a temporary file beside it (created with
 * O_EXCL), fsync, rename, fsync of the directory. An existing file's
 * mode and (as root) owner are kept; a new one gets `mode`. 0, or -1
 * with `FILE: reason` in e and the old file untouched.
 */
int	file_write_atomic(const char *path, const void *buf, size_t len,
	    unsigned mode, struct err *);

/* fsync of the directory holding path (a rename is durable only once
 * the directory entry is on disk): 0, or -1 with a reason. */
int	file_sync_dir(const char *path, struct err *);

#endif
