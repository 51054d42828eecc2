/* SPDX-License-Identifier: ISC */
/*
 * qenv.h - the runner's handle on one queued message: its envelope as
 * envelope.h parses it (with the state earlier attempts appended), the
 * lines this attempt adds, and what follows from them on disk.
 *
 * Changes are applied in memory at once (envelope_apply) and collected;
 * qenv_commit then writes them all with one append at the end of
 * env/<id> and one fdatasync. The message file is never rewritten.
 */
#ifndef WREN_QUEUE_QENV_H
#define WREN_QUEUE_QENV_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "queue/enqueue.h"
#include "queue/envelope.h"
#include "queue/remote.h"

/* Lines one attempt may add: a state and a reported line per
 * recipient. */
#define QENV_APPEND_MAX	(2 * ENVELOPE_RCPT_MAX * (ENVELOPE_LINE_MAX + 1))

struct qenv {
	struct envelope	 env;
	size_t		 torn;		/* bytes to cut before appending */
	uint8_t		 claimed[ENVELOPE_RCPT_MAX];	/* in a job */
	size_t		 applen;
	char		 app[QENV_APPEND_MAX];
};

/* Reads env/<id>: 1, 0 when it is gone, -1 (e) when it cannot be
 * read, -2 (e) when it is not an envelope this wren reads. */
int	qenv_load(const char *data_dir, const char *id, struct qenv *,
	    struct err *);

/* 1 while recipient i is still to be delivered. */
int	qenv_is_pending(const struct qenv *, size_t i);
size_t	qenv_pending(const struct qenv *);

/* 1 when every recipient is delivered. */
int	qenv_all_sent(const struct qenv *);

/* Forgets the lines recorded and not yet written. */
void	qenv_discard(struct qenv *);

/* When the earliest pending recipient is due (epoch s). */
int64_t	qenv_next_try(const struct qenv *);

/* Most attempts of any recipient. */
uint32_t	qenv_attempts(const struct qenv *);

/* Records recipient i's result; next_try for a deferral. */
int	qenv_result(struct qenv *, size_t i, enum envelope_rstate,
	    int64_t next_try, const char *code, const char *mta,
	    const char *text);

/* Appends the recorded lines to env/<id> and syncs them. */
int	qenv_commit(const char *data_dir, struct qenv *, struct err *);

/* Fills job with recipient i and every other pending, unclaimed one
 * for the same domain (every remote one when relay), and claims them. */
void	qenv_job(struct qenv *, size_t i, const char *domain, int relay,
	    const char *data_dir, struct remote_job *);
void	qenv_unclaim(struct qenv *, const struct remote_job *);

/* The job's outcomes as results; deferrals retry at next_try. */
void	qenv_results(struct qenv *, const struct remote_job *,
	    int64_t next_try);

/*
 * One bounce to the sender for the failed, unreported recipients (none
 * to <>, none where NOTIFY says so): 1 when one was written and handed
 * to the store (done comes later; then call qenv_bounce_done on the
 * envelope read again), 0 when none is wanted (what needs no report is
 * recorded as such now), -1 (e).
 */
int	qenv_bounce_start(const char *data_dir, const char *hostname,
	    struct qenv *, enqueue_done_fn *done, void *arg, struct err *);

/* The bounce `id` is queued: its recipients are recorded as reported. */
int	qenv_bounce_done(const char *data_dir, struct qenv *, const char *id,
	    struct err *);

/* Bounces that could not be queued, given up: logged, and recorded as
 * reported so the message can go. */
int	qenv_bounce_give_up(const char *data_dir, struct qenv *,
	    struct err *);

/* Moves msg/<id> and env/<id> to queue/corrupt/<id>.msg, .env: out
 * of the way, for the administrator to look at (as Postfix's
 * corrupt/ queue). */
int	qenv_set_aside(const char *data_dir, const char *id, struct err *);

/* Removes msg/<id> and env/<id>. */
int	qenv_remove(const char *data_dir, const char *id, struct err *);

#endif
