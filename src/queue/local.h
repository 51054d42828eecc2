/* SPDX-License-Identifier: ISC */
/*
 * local.h - delivery of a queued message into one local account's
 * Maildir (tmp/, fsync, rename into new/, fsync of new/).
 */
#ifndef WREN_QUEUE_LOCAL_H
#define WREN_QUEUE_LOCAL_H

#include "core/err.h"
#include "map/resolve.h"
#include "queue/envelope.h"

/* Delivers the queued file msg_fd (read from offset 0 with pread) to
 * the account t (a RESOLVE_LOCAL target), with Return-Path <sender>
 * and Delivered-To t->dest. 0 once it is durable in new/; -1 with the
 * reason in e (a temporary failure: disk full, I/O error). */
int	local_deliver(const struct resolve_target *t, const char *sender,
	    const char *hostname, int msg_fd, struct err *e);

/* Puts a copy of the queued file msg_fd back into the queue for the
 * remote address `to` (an alias of a local recipient pointing out),
 * with the original envelope sender. 0, or -1 (e). */
int	local_forward(const char *data_dir, const struct envelope *,
	    int msg_fd, const char *to, struct err *e);

#endif
