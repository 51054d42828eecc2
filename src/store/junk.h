/* SPDX-License-Identifier: ISC */
/*
 * junk.h - the junk filter's pools and files: the accounts' token
 * databases (store/junk_db.h) held in memory, the training queue fed
 * by IMAP moves, and the scanners that SMTP fills while DATA streams.
 *
 * Files, in the account's Maildir:
 *   wren-junk.db      the database (format in junk_db.h)
 *   wren-junk.db.tmp  its next version, being written
 *   wren-junk.off     present: the filter is off for this account
 *                     (nothing scored, nothing trained, no header)
 * and `junk_filter = no` turns it off for everyone.
 *
 * Memory, all from start-up: junk_db_open databases (sizeof(struct
 * junk_db), about 135 KB each), the least recently used one written
 * out (when changed) and reused for the next account; JUNK_SCAN_MAX
 * scanners (struct junk_tok, about 13 KB each) for messages arriving
 * at once, plus one for training; one file buffer of JUNK_DB_FILE_MAX.
 * A message arriving when every scanner is taken is not scored (its
 * header says "none").
 *
 * Writes are batched, never one per message: a changed database is
 * rewritten (tmp, fsync, rename) JUNK_FLUSH_MS after its first change,
 * or at once after JUNK_FLUSH_EVENTS trainings, when its slot is
 * reused, and at shutdown. A crash loses at most that batch of
 * training, never the file.
 *
 * Training: junk_train queues a message already open (the fd: a
 * rename of the file by a flag change later does not matter), and a
 * timer job reads it JUNK_TRAIN_SLICE octets a turn, so a large
 * message never holds the loop; the queue holds JUNK_TRAIN_MAX
 * messages, and a caller finding it full waits (junk_train_room).
 */
#ifndef WREN_JUNK_H
#define WREN_JUNK_H

#include <stddef.h>

#include "core/cfg.h"
#include "core/ev.h"
#include "msg/junk_tok.h"

#define JUNK_SCAN_MAX		4	/* messages scored while arriving */
#define JUNK_TRAIN_MAX		32	/* messages queued for training */
#define JUNK_TRAIN_SLICE	65536	/* octets read per loop turn */
#define JUNK_FLUSH_MS		5000
#define JUNK_FLUSH_EVENTS	64

/* For tests and the bench: trainings done, database rewrites and the
 * octets they wrote, since start. */
struct junk_stats {
	unsigned long long	trained, skipped, writes, bytes;
};

#if WREN_JUNK_FILTER
/* Start-up: the pools. Before it (or after junk_shutdown), the filter
 * is off: scans return NULL, trainings are dropped. */
int	junk_init(struct ev *ev, const struct cfg *cfg, struct err *e);

/* Writes what changed, stops the jobs, closes queued files. */
void	junk_shutdown(void);

/* Memory (for wren check): per database held, shared by all (the
 * scanners and the file buffer); the largest file per account. */
size_t	junk_bytes_per_account(void);
size_t	junk_bytes_shared(void);
size_t	junk_disk_per_account(void);

/* 1 when the account with this Maildir home is filtered. */
int	junk_on(const char *home);

/* 1 when the account's database is trained enough to score
 * (JUNK_MIN_TRAIN ham and spam); loads it when not held. */
int	junk_trained(const char *home);

/* A scanner for an arriving message, initialised; NULL when none is
 * free or the filter is off. Give it back with junk_scan_put. */
struct junk_tok *junk_scan_get(void);
void	junk_scan_put(struct junk_tok *t);

/* The scanner's junk_tok_feed and junk_tok_end (msg/junk_tok.h), for
 * callers that are built with the filter off too. */
void	junk_scan_feed(struct junk_tok *t, const char *p, size_t n);
void	junk_scan_end(struct junk_tok *t);

/* The score (thousandths) of the ended scan t for the account, or -1
 * (not trained enough, or its database unreadable). Loads the
 * account's database when not held (one read of at most
 * JUNK_DB_FILE_MAX). */
int	junk_score(const char *home, const struct junk_tok *t);

/* Queues the open message fd (taken over: closed when trained) to be
 * trained as spam (1) or ham (0) for the account. 0, or -1 (queue
 * full or filter off: fd closed). */
int	junk_train(const char *home, int fd, int spam);

/* Free places in the training queue. */
size_t	junk_train_room(void);

const struct junk_stats *junk_stats(void);
#else
/* Built without the filter: it is off; callers need no #if. */
static inline int
junk_init(struct ev *ev, const struct cfg *cfg, struct err *e)
{
	(void)ev;
	(void)cfg;
	(void)e;
	return 0;
}
static inline void junk_shutdown(void) { }
static inline size_t junk_bytes_per_account(void) { return 0; }
static inline size_t junk_bytes_shared(void) { return 0; }
static inline size_t junk_disk_per_account(void) { return 0; }
static inline int junk_on(const char *h) { (void)h; return 0; }
static inline int junk_trained(const char *h) { (void)h; return 0; }
static inline struct junk_tok *junk_scan_get(void) { return NULL; }
static inline void junk_scan_put(struct junk_tok *t) { (void)t; }
static inline void
junk_scan_feed(struct junk_tok *t, const char *p, size_t n)
{
	(void)t;
	(void)p;
	(void)n;
}
static inline void junk_scan_end(struct junk_tok *t) { (void)t; }
static inline int
junk_score(const char *h, const struct junk_tok *t)
{
	(void)h;
	(void)t;
	return -1;
}
static inline size_t junk_train_room(void) { return 0; }
static inline int
junk_train(const char *h, int fd, int spam)
{
	(void)h;
	(void)fd;	/* never called: junk_on said no */
	(void)spam;
	return -1;
}
#endif

#endif
