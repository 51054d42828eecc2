/* SPDX-License-Identifier: ISC */
/*
 * smtp_int.h - what smtp_session.c and smtp_deliver.c share: the
 * session, its transaction, and the server-wide SMTP context.
 */
#ifndef WREN_SMTP_INT_H
#define WREN_SMTP_INT_H

#include <stdint.h>

#include "core/addr.h"
#include "core/timer.h"
#include "core/pool.h"
#include "queue/spool.h"
#include "queue/srs.h"
#include "smtp/smtp.h"
#include "smtp/smtp_parse.h"
#include "store/maildir.h"
#include "store/txn.h"
#include "tls/dkim_sign.h"

#define SMTP_TARGETS_MAX	100	/* mailboxes + remote addresses
					 * one message goes to */
#define SMTP_ARENA		8192	/* their strings */

enum smtp_state {
	SMTP_ST_INIT,		/* greeted, no HELO/EHLO yet */
	SMTP_ST_READY,		/* HELO/EHLO done, no transaction */
	SMTP_ST_MAIL,		/* MAIL accepted */
	SMTP_ST_RCPT,		/* at least one RCPT accepted */
	SMTP_ST_DATA,		/* reading the DATA body */
	SMTP_ST_BDAT,		/* reading a BDAT chunk */
	SMTP_ST_COMMIT,		/* message complete, waiting for disk */
	SMTP_ST_NSTATES
};

enum smtp_target_kind { SMTP_T_LOCAL, SMTP_T_REMOTE };

/* Where a SASL exchange (RFC 4954) stands. */
enum smtp_sasl {
	SMTP_SASL_NONE,
	SMTP_SASL_PLAIN,	/* 334 sent, waiting for the response */
	SMTP_SASL_LOGIN_USER,	/* 334 Username: */
	SMTP_SASL_LOGIN_PASS,	/* 334 Password: */
	SMTP_SASL_DELAY		/* failed: 535 after auth_fail_delay */
};

/* One destination of the message; strings are offsets into arena. */
struct smtp_target {
	uint8_t		kind;
	uint8_t		notify;		/* DSN NOTIFY bits (remote) */
	uint8_t		dropped;	/* forwarding loop: not delivered */
	uint8_t		junk;		/* into the account's Junk folder */
	uint16_t	addr;		/* mailbox login / remote address */
	uint16_t	home;		/* LOCAL */
	uint16_t	dto;		/* LOCAL: Delivered-To address */
	uint16_t	orcpt;		/* REMOTE: DSN ORCPT, "" if none */
};

/* Which listener the session came in on. */
enum smtp_mode {
	SMTP_MODE_MX,		/* smtp_listen: mail from the world */
	SMTP_MODE_SUBMISSION,	/* submission_listen: STARTTLS, AUTH */
	SMTP_MODE_SUBMISSIONS	/* submissions_listen: implicit TLS, AUTH */
};

struct smtp_session {
	struct conn		*c;
	enum smtp_mode		 mode;
	enum smtp_state		 state;
	struct smtp_lines	 lines;
	unsigned		 errors;
	size_t			 pending;	/* input behind the command
						 * being handled */
	int			 esmtp;
	int			 mynet;		/* client in mynetworks */
	int			 draining;	/* close after this message */
	int			 tls;		/* STARTTLS done */
	enum smtp_sasl		 sasl;
	char			 login[ADDR_MAX + 1];	/* "" = not yet */
	char			 sasl_user[ADDR_MAX + 1];	/* LOGIN */
	struct timer		 delay;		/* auth_fail_delay */
	int			 starttls_wait;	/* until the filter is on */
	char			 helo[SMTP_HELO_MAX + 1];
	char			 ip[ADDR_TEXT_MAX];	/* client address */
	/* the transaction */
	char			 sender[ADDR_MAX + 1];
	int			 smtputf8;
	int			 body8;		/* MAIL ... BODY=8BITMIME */
	enum smtp_ret		 ret;
	char			 envid[SMTP_ENVID_MAX + 1];
	size_t			 nrcpt;		/* RCPT commands accepted */
	char			 rcpt1[ADDR_MAX + 1];	/* the first */
	size_t			 ntargets, nlocal, nremote;
	struct smtp_target	 t[SMTP_TARGETS_MAX];
	size_t			 used;
	char			 arena[SMTP_ARENA];
	/* the message */
	struct smtp_body	 body;
	uint64_t		 bdat_left;	/* of the current chunk */
	int			 bdat_last;
	int			 bdat_skip;	/* rejected chunk: discard */
	enum smtp_state		 bdat_prev;	/* state to return to */
	int			 files_open;	/* delivery started */
	char			 id[SPOOL_ID_MAX];
	char			 base[MAILDIR_NAME_MAX];
	char			 date[48];
	int			 primary;	/* target index, -1 = queue */
	int			 fd;		/* the primary file */
	uint64_t		 prefix_len;	/* of the primary file */
	int			 write_errno;
	struct store_txn	 txn;		/* the commit (store/txn.h) */
	int			 submit;	/* our user's mail: Date and
						 * Message-ID added, perhaps
						 * signed (tls/dkim_sign.h) */
	struct dkim_stream	 dkim;
};

struct smtp_ctx {
	struct ev		*ev;
	const struct cfg	*cfg;
	struct maps		*maps;
	struct pool		 sessions;
	struct cfg_net		 nets[CFG_NETS_MAX];
	size_t			 nnets;
	char			 hostname[CFG_HOST_MAX + 1];
	size_t			 busy;		/* sessions mid-transaction:
						 * the store's rounds wait */
	struct srs_key		 srs;		/* srs_domain's key */
	int			 srs_ok;
};

extern struct smtp_ctx smtp;

static inline const char *
smtp_str(const struct smtp_session *s, uint16_t off)
{
	return s->arena + off;
}

/* smtp_deliver.c */
int	smtp_deliver_begin(struct smtp_session *);
int	smtp_deliver_write(struct smtp_session *, const char *, size_t);
void	smtp_deliver_abort(struct smtp_session *);
void	smtp_deliver_queue(struct smtp_session *);
void	smtp_deliver_cancel(struct smtp_session *);

/*
 * Routes target i's copy (a mailbox: SMTP_T_LOCAL) into its account's
 * Junk folder (Maildir/.Junk/new/) instead of new/; i -1: every mailbox
 * of the message. Call it between the RCPT that added the target and
 * smtp_deliver_queue (the end of DATA: the verdicts of the inbound
 * checks); reset() forgets it. The folder is created at the commit as
 * IMAP's first login does (folder_provision) when it is missing. reason
 * is logged. 0, or -1 when i is no mailbox of the message.
 */
int	smtp_deliver_junk(struct smtp_session *, int i, const char *reason);
int	smtp_commit_init(struct conn_table *, struct err *);
void	smtp_commit_shutdown(void);

/* smtp_session.c, called back when the message is on disk (err 0) or
 * not (an errno). */
void	smtp_committed(struct smtp_session *, int err);

#endif
