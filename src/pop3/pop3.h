/* SPDX-License-Identifier: ISC */
/*
 * pop3.h - the POP3 server (RFC 1939, CAPA RFC 2449, STLS RFC 2595,
 * AUTH PLAIN RFC 5034) on ports 110 (STLS) and 995 (implicit TLS),
 * serving each account's Maildir INBOX.
 *
 *   pop3_session.c   connection, state machine, login, the maildrop
 *                    lock and the streamed LIST/UIDL/RETR/TOP replies
 *   pop3_parse.c     lines, commands and the RETR/TOP body without
 *                    I/O (pop3_parse.h)
 */
#ifndef WREN_POP3_H
#define WREN_POP3_H

#include <stddef.h>

#include "core/cfg.h"
#include "core/conn.h"
#include "core/err.h"
#include "core/ev.h"
#include "map/map.h"

extern const struct proto pop3_proto;	/* 110, STLS */
extern const struct proto pop3s_proto;	/* 995, implicit TLS */

/* Sizes the session pool; once, at start, after privileges are
 * dropped. cfg and maps must outlive the server. Without IMAP in the
 * build it also sets up the mailbox layer (store/mbox.h) that both
 * serve from. */
int	pop3_init(struct ev *, const struct cfg *, struct maps *,
	    size_t max_sessions, struct err *);
void	pop3_shutdown(void);

/* Bytes reserved per session, for `wren check` and README. */
size_t	pop3_bytes_per_session(void);

#endif
