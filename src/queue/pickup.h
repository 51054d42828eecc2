/* SPDX-License-Identifier: ISC */
/*
 * pickup.h - the server side of local submission: files that `wren
 * sendmail` left in data_dir/maildrop/ (format and permissions in
 * maildrop.h) become queue entries (spool.h), on the event loop.
 *
 * maildrop/ is watched with inotify (a file renamed in, or closed
 * after writing) and scanned once at start for what was dropped while
 * the server was down. One file is in progress at a time, and a loop
 * turn writes at most one queue entry. For each file:
 *
 *   1. open it without following links; it must be a regular file
 *      with one link, no larger than message_size_limit plus its
 *      header; its header must parse (maildrop_parse). Anything else
 *      is moved to maildrop/bad/ (or removed, if bad/ is not ours)
 *      with a log line: a local user's file never stops the server.
 *   2. queue/tmp/<id>: a Received: header naming the file owner's uid
 *      (fstat, never the file's own uid line), then the message;
 *      queue/tmp/<id>.env: the envelope with every recipient
 *      (envelope_format). Recipients are not resolved here: the queue
 *      runner does that at delivery.
 *   3. one store transaction (store/txn.h, the group commit SMTP
 *      uses): tmp/<id> into queue/msg/, then tmp/<id>.env into
 *      queue/env/ (the envelope last: its presence makes the message
 *      queued), called back once both are durable.
 *   4. in that callback, with no error, the next entry of the file
 *      (step 2) or, after the last, the unlink of the maildrop file.
 *
 * The queue id is the maildrop file name plus two hex digits (a chunk
 * of ENVELOPE_RCPT_MAX recipients; more make more entries), so a crash
 * before 4 is harmless: the file is taken again at the next start;
 * an entry whose env/<id> is there is not queued again (its
 * directories are synced before the file goes). A file whose name is
 * not of sendmail's form gets fresh ids; a crash could then queue it
 * twice, never lose it. A failure that may pass (disk full, a failed
 * commit) leaves the file for a retry PICKUP_RETRY_MS later; the
 * entries of that file already queued are remembered (one file's
 * worth) and not queued again by the retry.
 *
 * At start pickup also makes data_dir mode 0711 when it is 0700, so
 * that local users other than root and `user` can reach maildrop/
 * (they still cannot list data_dir nor enter anything below it but
 * maildrop/).
 */
#ifndef WREN_PICKUP_H
#define WREN_PICKUP_H

#include "core/cfg.h"
#include "core/conn.h"
#include "core/err.h"
#include "core/ev.h"

#define PICKUP_RETRY_MS		60000	/* after a failure that may
					 * pass (disk full) */
#define PICKUP_SCAN_BATCH	64	/* directory entries looked at per
					 * loop turn while none is a file
					 * to take */

/* Creates queue/ (spool_init) and maildrop/ with its mode, watches it,
 * joins the store's group commit on table (store_txn_init: one user
 * more) and schedules the first scan. Call after the privilege drop,
 * as the service user. cfg stays the caller's: hostname and
 * message_size_limit are read from it at each file, so a reload
 * applies. */
int	pickup_init(struct ev *, struct conn_table *, const struct cfg *,
	    struct err *);

/* Stops watching and leaves the store (store_txn_shutdown). A queue
 * entry not yet renamed into the queue is removed from queue/tmp/;
 * one renamed but not yet called back stays. The maildrop file stays
 * either way and is taken again at the next start. */
void	pickup_shutdown(void);

#endif
