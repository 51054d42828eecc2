/* SPDX-License-Identifier: ISC */
/*
 * enqueue.h - a message the server writes into its own queue: a bounce,
 * or a copy forwarded by an alias that points out of a local domain.
 *
 *   enqueue_open    queue/tmp/<new id>, for the caller to write
 *   enqueue_submit  the envelope, then one store transaction (store/
 *                   txn.h, the group commit SMTP uses): msg/ renamed
 *                   before env/, the callback once both are durable;
 *                   the runner hears of the message through inotify
 *   enqueue_commit  the same done at once, each file fsync'd here, for
 *                   a caller that cannot wait (a forwarded copy made
 *                   while a local recipient is delivered)
 */
#ifndef WREN_QUEUE_ENQUEUE_H
#define WREN_QUEUE_ENQUEUE_H

#include <stddef.h>

#include "core/conn.h"
#include "core/err.h"
#include "core/ev.h"
#include "queue/spool.h"

/* A new id in id[SPOOL_ID_MAX] and its open tmp/ file: the fd, or -1. */
int	enqueue_open(const char *data_dir, char *id, struct err *);

/* Slots for messages between enqueue_submit and their callback. */
#define ENQUEUE_SLOTS	8

/* Joins the store's group commit (a user of store_txn_init). */
int	enqueue_init(struct ev *, struct conn_table *, struct err *);
void	enqueue_shutdown(void);

/* err 0: queued and durable; else an errno and nothing is queued. */
typedef void enqueue_done_fn(void *arg, int err, const char *id);

/* Writes the envelope (env->id from enqueue_open; env->size from the
 * file) and queues both files in a store transaction; done is called
 * later, from the loop, always. fd is closed here. -1 (e) when no slot
 * is free or the envelope cannot be written: nothing is left then. */
int	enqueue_submit(const char *data_dir, int fd, struct spool_env *env,
	    enqueue_done_fn *done, void *arg, struct err *);

/* Makes the message (fd, closed here) and its envelope (env->id must
 * be the id from enqueue_open; env->size is taken from the file)
 * durable and queued. 0, or -1 with nothing left behind. */
int	enqueue_commit(const char *data_dir, int fd, struct spool_env *env,
	    struct err *);

/* Gives up a message being written (closes fd, removes the file). */
void	enqueue_abort(const char *data_dir, const char *id, int fd);

#endif
