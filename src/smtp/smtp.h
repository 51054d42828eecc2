/* SPDX-License-Identifier: ISC */
/*
 * smtp.h - the SMTP server (RFC 5321) on port 25: sessions, relay
 * control, durable delivery into Maildir and the outbound queue.
 *
 *   smtp_session.c   the state machine: commands -> replies and events
 *   smtp_deliver.c   files for a message, and the group commit
 *   smtp_parse.c     commands and bodies without I/O
 */
#ifndef WREN_SMTP_H
#define WREN_SMTP_H

#include <stddef.h>

#include "core/cfg.h"
#include "core/conn.h"
#include "core/err.h"
#include "core/ev.h"
#include "map/map.h"

extern const struct proto smtp_proto;		/* port 25 */
extern const struct proto submission_proto;	/* 587, STARTTLS */
extern const struct proto submissions_proto;	/* 465, implicit TLS */

/* Sizes the session pool, prepares the queue directories. Once, at
 * start, after privileges are dropped. cfg and maps stay the caller's
 * and must live as long as the server. */
int	smtp_init(struct ev *, struct conn_table *, const struct cfg *,
	    struct maps *, size_t max_sessions, struct err *);

/* The configuration was reloaded (mynetworks, hostname, limits). */
void	smtp_reconfigure(void);

void	smtp_shutdown(void);

/* Bytes reserved per session, for `wren check` and README: a session
 * is zeroed whole when its connection is accepted, so each SMTP
 * connection makes all of it resident. */
size_t	smtp_bytes_per_session(void);

#endif
