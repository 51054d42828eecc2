/*
 * file.h - small whole-file helpers for start-up and reload paths
 * (configuration, /etc/passwd). Not for the mail path.
 */
#ifndef WREN_FILE_H
#define WREN_FILE_H

#include <stddef.h>

#include "err.h"

/* Reads a regular file of at most `max` bytes into a malloc'ed buffer
 * (NUL-terminated, *len excludes the NUL); NULL with a reason. */
char	*file_read_all(const char *path, size_t max, size_t *len,
	    struct err *);

#endif
