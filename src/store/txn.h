/* SPDX-License-Identifier: ISC */
/*
 * txn.h - the durable write path: a store transaction takes files
 * already written in tmp/ directories (Maildir tmp/, queue/tmp/), makes
 * their data durable, renames them into place (new/, queue/msg/, ...),
 * makes the renames durable, and only then calls back. Inbound SMTP,
 * the queue runner (bounces, local delivery), the sendmail pickup and
 * IMAP APPEND share it.
 *
 * Transactions are committed in rounds, run before the loop sleeps, so
 * that every transaction complete by then shares one sync (the group
 * commit). In the loop, a round costs one syncfs per file system:
 *
 *   A  each new transaction's prepare hook (files still to write)
 *   B  syncfs: this round's file data and the previous round's
 *      renames are on disk
 *   E  the previous round's transactions are called back
 *   C  this round's files are renamed; they are called back after the
 *      next round's sync
 *
 * With io_uring (Linux 5.1+) the loop never waits for the disk: each
 * file gets an fdatasync on the kernel's workers, then the renames,
 * then an fsync of each directory renamed into (and, at once, an
 * fdatasync of what the placed hook wrote), then the callback.
 *
 * A transaction may set a barrier: its files before it are renamed and
 * their directories fsync'd before the files after it are renamed (a
 * queue message is durable in msg/ before its envelope appears in
 * env/, so a crash can never leave an envelope without its message).
 * Rounds holding no barrier pay nothing for it.
 *
 * A round runs as soon as no watched writer is in the middle of a
 * transaction (none could join soon), or once the oldest transaction
 * has waited STORE_TXN_LINGER_MS.
 *
 * After a crash the final directories hold no partial file and every
 * file whose transaction was called back with 0. A failed transaction
 * leaves no file behind, in tmp/ or in place.
 *
 *   struct store_txn *t = &my->txn;      (caller's memory, no malloc)
 *   t->files = files; t->nfiles = 2;     (or t->name, for many files)
 *   t->done = delivered; t->arg = my;
 *   store_txn_commit(t);                 (later: delivered(my, 0))
 */
#ifndef WREN_STORE_TXN_H
#define WREN_STORE_TXN_H

#include <stddef.h>
#include <stdint.h>

#include "core/conn.h"
#include "core/err.h"
#include "core/ev.h"
#include "store/maildir.h"

/* Longest path a transaction handles: Maildir and queue paths fit. */
#define STORE_TXN_PATH_MAX	MAILDIR_PATH_MAX
/* How long a complete transaction may wait for others to join its
 * round while watched writers are still mid-transaction. */
#define STORE_TXN_LINGER_MS	2
/* Writers' counters a round looks at (SMTP; later IMAP APPEND). */
#define STORE_TXN_WATCH_MAX	4

/* Called once per committed transaction, from a round (never from
 * store_txn_commit itself): err 0 when every file is durable in place,
 * else an errno (ENOSPC, EDQUOT, EIO...) and no file is left. The
 * transaction is idle again: the callback may reuse it. */
typedef void store_txn_done_fn(void *arg, int err);

/* Optional: writes what is still missing (extra copies, an envelope)
 * at the start of the round, before the sync; 0 or an errno. */
typedef int store_txn_prepare_fn(void *arg);

/* Optional: every file of t is in place (renamed), its directories
 * not yet synced. 0 with *fd an open file whose data the store syncs
 * together with those directories, then closes (-1: none: IMAP's
 * dovecot-uidlist, appended meanwhile, costs no sync of its own), or
 * an errno: t fails (its files are removed). */
typedef int store_txn_placed_fn(void *arg, int *fd);

/* Names file i (0 <= i < nfiles): into tmp the path it was written
 * to, into final where it goes ("" for a scratch file: not synced,
 * removed once the others are in place). A tmp equal to final is a
 * file already in place whose data is durable (a hard link to a
 * synced file, IMAP COPY): no data sync and no rename, only its
 * directory is synced with the others; a failed transaction removes
 * it as it removes the rest. Either buffer may be NULL when not
 * wanted; each holds cap bytes. 0, or -1 with errno. */
typedef int store_txn_name_fn(void *arg, size_t i, char *tmp, char *final,
    size_t cap);

/* A file of a transaction described by a table. */
struct store_file {
	const char	*tmp;		/* written and closed */
	const char	*final;		/* NULL or "": scratch */
};

enum store_txn_state {
	STORE_TXN_IDLE,		/* not committed, or called back */
	STORE_TXN_WAITING,	/* committed, waiting for a round */
	STORE_TXN_BATCH,	/* in-loop round: being prepared, renamed */
	STORE_TXN_PLACED,	/* in-loop round: renamed, not synced */
	STORE_TXN_ACK,		/* in-loop round: being called back */
	STORE_TXN_URING		/* in an io_uring round */
};

struct store_txn {
	/* The caller's, set before store_txn_commit; the files (and the
	 * strings the table points to) must stay until the callback. */
	const struct store_file	*files;	/* a table, or NULL: */
	store_txn_name_fn	*name;	/* names them on demand */
	size_t			 nfiles;	/* renamed in order */
	size_t			 barrier;	/* 0: none; else files
						 * [0, barrier) durable in
						 * place before the others
						 * are renamed */
	store_txn_prepare_fn	*prepare;	/* may be NULL */
	store_txn_placed_fn	*on_placed;	/* may be NULL */
	store_txn_done_fn	*done;
	void			*arg;		/* for the hooks */
	/* The store's. */
	enum store_txn_state	 state;
	int			 err;
	size_t			 placed;	/* files renamed */
	int			 round;		/* io_uring: or -1 */
	struct store_txn	*next;
};

struct store_txn_stats {
	uint64_t	txns;		/* taken by a round */
	uint64_t	rounds;		/* rounds run */
	uint64_t	syncs;		/* syncfs (in-loop rounds) */
	uint64_t	fsyncs;		/* queued (io_uring rounds) */
	uint64_t	datasyncs;	/* files' data synced one by one
					 * (io_uring, or its fallback) */
	uint64_t	inplace;	/* files already in place: no
					 * data sync, no rename */
	size_t		pending;	/* not yet called back */
	int		uring;		/* 1: io_uring in use */
};

/*
 * Starts the store's commit machinery on ev: a pre-flush hook on
 * table (rounds run before the loop flushes output and sleeps), a
 * fallback timer, and io_uring when the kernel allows it. Each call
 * counts one user; the first one sets up, later ones only count (the
 * table of the first call is kept). 0, or -1 with a reason.
 */
int	store_txn_init(struct ev *, struct conn_table *, struct err *);

/* One user less; the last one logs the counts and stops it all.
 * Transactions still pending are dropped without a callback. */
void	store_txn_shutdown(void);

/* Rounds run in the loop with syncfs from now on (tests drive rounds
 * by hand; also the fallback when io_uring fails). Call it while no
 * io_uring round is in flight. */
void	store_txn_no_uring(void);

/* Rounds wait (up to STORE_TXN_LINGER_MS) while *busy is not 0: a
 * caller's count of writers in the middle of a transaction. 0, or -1
 * when STORE_TXN_WATCH_MAX counters are watched already. */
int	store_txn_watch(const size_t *busy);

/* Queues t for the next round; its files must be written (or written
 * by its prepare hook). The callback comes later, always. */
void	store_txn_commit(struct store_txn *);

/* The caller gives up t (its client left): t is taken out of its
 * round, its files are removed (from tmp/ and from where they were
 * renamed to), and it is never called back. No effect on an idle t. */
void	store_txn_cancel(struct store_txn *);

/* Removes t's files from tmp/ (a transaction given up before it was
 * committed; the name hook or table must be filled in). */
void	store_txn_discard(struct store_txn *);

void	store_txn_stats(struct store_txn_stats *);

#endif
