/* SPDX-License-Identifier: ISC */
/*
 * runner.h - the queue runner inside `wren serve`: it delivers what
 * queue/env/ holds, on the server's event loop.
 *
 * The files are the truth: at start the runner reads queue/env/, and
 * inotify tells it of every message committed afterwards (by inbound
 * SMTP, the maildrop pickup or a bounce), which it tries at once.
 * Each attempt's result is appended to the message's envelope as one
 * state line per recipient (the message itself is never rewritten),
 * so a restart, even after kill -9, resumes where the last durable
 * line left off. Messages wait per `retry_schedule` between attempts
 * and bounce after `queue_lifetime`.
 *
 * Limits: max_deliveries connections at once in total and
 * max_deliveries_per_domain to one domain (or to the relayhost);
 * recipients in one domain share one SMTP transaction.
 */
#ifndef WREN_QUEUE_RUNNER_H
#define WREN_QUEUE_RUNNER_H

#include "core/cfg.h"
#include "core/conn.h"
#include "core/err.h"
#include "core/ev.h"
#include "map/map.h"

/* Starts the runner: reads the queue, watches queue/env/, and starts
 * deliveries on `out` (the outbound connection table). */
int	runner_init(struct ev *, struct conn_table *out, const struct cfg *,
	    struct maps *, struct err *);

/* A new configuration (SIGHUP): limits and schedule apply to the next
 * attempts. */
void	runner_reload(const struct cfg *);

/* Stop starting deliveries (shutdown); those in flight finish. */
void	runner_drain(void);

/* Deliveries in flight. */
size_t	runner_busy(void);

void	runner_shutdown(void);

/* Operator actions (`wren queue` through the control socket): each
 * returns 0, or -1 with a reason in msg. */
int	runner_flush(char *msg, size_t cap);
int	runner_retry(const char *id, char *msg, size_t cap);
int	runner_delete(const char *id, char *msg, size_t cap);
int	runner_bounce(const char *id, char *msg, size_t cap);

#endif
