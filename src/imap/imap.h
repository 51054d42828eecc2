/* SPDX-License-Identifier: ISC */
/*
 * imap.h - the IMAP4rev1 server (RFC 3501) on ports 143 (STARTTLS)
 * and 993 (implicit TLS), serving each user's Maildir.
 *
 *   imap_session.c   connection, framing, state machine, login,
 *                    SELECT, IDLE and the untagged updates
 *   imap_fetch.c     FETCH: items, body sections streamed from disk
 *   imap_search.c    SEARCH: the program against the messages
 *   imap_parse.c     commands without I/O (imap_parse.h)
 *   imap_int.h       what these files share
 */
#ifndef WREN_IMAP_H
#define WREN_IMAP_H

#include <stddef.h>

#include "core/cfg.h"
#include "core/conn.h"
#include "core/err.h"
#include "core/ev.h"
#include "map/map.h"

extern const struct proto imap_proto;	/* 143, STARTTLS */
extern const struct proto imaps_proto;	/* 993, implicit TLS */

/* Sizes the session and workspace pools; once, at start, after
 * privileges are dropped. cfg and maps must outlive the server. */
int	imap_init(struct ev *, struct conn_table *, const struct cfg *,
	    struct maps *, size_t max_sessions, struct err *);
void	imap_shutdown(void);

/* Bytes reserved per session, and per workspace (taken while a
 * command runs), for `wren check` and README. */
size_t	imap_bytes_per_session(void);
size_t	imap_bytes_per_workspace(void);

#endif
