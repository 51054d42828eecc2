/*
 * enqueue.h - a message the server writes into its own queue: a bounce,
 * or a copy forwarded by an alias that points out of a local domain.
 * Not the SMTP path (that one shares its group commit with the
 * mailboxes); this one is rare and fsyncs each file itself.
 *
 *   enqueue_open    queue/tmp/<new id>, for the caller to write
 *   enqueue_commit  fsync, envelope, fsync, rename msg/ then env/,
 *                   fsync both directories: queued, and the runner
 *                   hears of it through inotify
 */
#ifndef WREN_QUEUE_ENQUEUE_H
#define WREN_QUEUE_ENQUEUE_H

#include <stddef.h>

#include "core/err.h"
#include "queue/spool.h"

/* A new id in id[SPOOL_ID_MAX] and its open tmp/ file: the fd, or -1. */
int	enqueue_open(const char *data_dir, char *id, struct err *);

/* Makes the message (fd, closed here) and its envelope (env->id must
 * be the id from enqueue_open; env->size is taken from the file)
 * durable and queued. 0, or -1 with nothing left behind. */
int	enqueue_commit(const char *data_dir, int fd, struct spool_env *env,
	    struct err *);

/* Gives up a message being written (closes fd, removes the file). */
void	enqueue_abort(const char *data_dir, const char *id, int fd);

#endif
