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
#include "smtp/smtp_verdict.h"
#include "store/maildir.h"
#include "store/txn.h"
#include "tls/dkim_sign.h"

struct dns_req;

/* Inbound checks (smtp_auth.c): signatures verified per message, and
 * forged Authentication-Results fields removed per message (a message
 * with more is refused). A build without them keeps one of each (the
 * session's memory: about 5 KB less per SMTP session). */
#define SMTP_AUTH_SIGS		(WREN_INBOUND_AUTH ? 4 : 1)
#define SMTP_AUTH_CUTS		(WREN_INBOUND_AUTH ? 8 : 1)
/* The Authentication-Results field we add: four signatures with long
 * d= and s=, SPF and DMARC with theirs, folded. */
#define SMTP_AR_MAX		(WREN_INBOUND_AUTH ? 1536 : 1)

/* Results (RFC 8601 2.7), in the order of smtp_auth_result_name. */
enum smtp_auth_res {
	SMTP_AR_NONE, SMTP_AR_PASS, SMTP_AR_FAIL, SMTP_AR_SOFTFAIL,
	SMTP_AR_NEUTRAL, SMTP_AR_TEMPERROR, SMTP_AR_PERMERROR,
	SMTP_AR_POLICY
};

/* One DKIM-Signature of the message. */
struct smtp_auth_sig {
	uint8_t			 res;		/* enum smtp_auth_res */
	uint8_t			 brelaxed;
	uint8_t			 bh_ok;		/* body hash matched */
	const char		*why;		/* a reason, static text */
	uint32_t		 off, len;	/* the field in the header */
	int64_t			 l;		/* l= or -1 */
	uint64_t		 hashed;	/* body octets hashed */
	uint64_t		 empty;		/* simple: empty lines held */
	int			 inline_;	/* simple: in a line */
	int			 any;		/* simple: a line was out */
	unsigned char		 bh[32];	/* bh= */
	char			 d[DKIM_DOMAIN_MAX + 1];
	char			 s[DKIM_SELECTOR_MAX + 1];
	char			 b8[9];		/* header.b (RFC 6008) */
	br_sha256_context	 ctx;
	struct dkim_body	 body;		/* relaxed */
	struct dns_req		*q;
	struct smtp_session	*sess;
};

/* What the inbound checks know of the current message. */
struct smtp_auth {
	int			 on;		/* this message is checked */
	int			 in_head;	/* the header still streams */
	int			 bol;		/* at the start of a line */
	int			 bad;		/* header unreadable: refuse */
	uint64_t		 off;		/* message octets seen */
	uint64_t		 head_len;	/* header section octets */
	size_t			 nsigs;
	struct smtp_auth_sig	 sig[SMTP_AUTH_SIGS];
	unsigned		 pending;	/* DNS answers awaited */
	size_t			 ncuts;
	uint32_t		 cut_off[SMTP_AUTH_CUTS];
	uint32_t		 cut_len[SMTP_AUTH_CUTS];
	uint64_t		 cut_bytes, cut_lines;
	/* DMARC (RFC 7489) */
	char			 from[DKIM_DOMAIN_MAX + 1];	/* "": none */
	char			 org[DKIM_DOMAIN_MAX + 1];
	uint8_t			 dmarc;		/* enum smtp_auth_res */
	uint8_t			 policy;	/* DMARC_P_* applied */
	int			 dmarc_step;	/* 0 from, 1 org domain */
	struct dns_req		*dq;
	const char		*dmarc_why;
	/* the verdict */
	int			 reject;	/* 550 5.7.1 */
	int			 junk;		/* deliver to Junk */
	size_t			 arlen;
	char			 ar[SMTP_AR_MAX];	/* the field, LF */
	/* Input: the SPF result (RFC 7208) for MAIL FROM, set by the SPF
	 * check before DATA (enum smtp_auth_res; SMTP_AR_NONE until
	 * then); its domain is the sender's. Kept across begin. */
	uint8_t			 spf;
};

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

struct dns_req;
struct smtp_session;

/* A DNSBL query of a session (smtp_screen.c). */
struct screen_q {
	struct smtp_session	*s;
	struct dns_req		*r;
};

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
	int16_t		junk_score;	/* LOCAL: the junk filter's, in
					 * thousandths; SMTP_JUNK_NONE not
					 * scored, SMTP_JUNK_OFF no filter
					 * (no X-Wren-Junk) */
};

#define SMTP_JUNK_NONE	(-1)
#define SMTP_JUNK_OFF	(-2)

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
	/* inbound checks (smtp_screen.c); kept for the session, the
	 * SPF part reset per transaction */
	struct smtp_verdict	 v;
#if WREN_INBOUND_CHECKS
	int			 held;		/* greeting held */
	int			 held_timer;	/* greet_delay running */
	int			 spf_wait;	/* MAIL reply waits */
	int			 spf_step;	/* 0: HELO, 1: MAIL FROM */
	int			 helo_done;	/* spf_helo is for s->helo */
	unsigned		 bl_left;	/* DNSBL answers to come */
	unsigned		 bl_mask;	/* zones listing the client */
	int			 bl_temp;	/* a zone did not answer: the
						 * verdict is not cached */
	struct screen_q		 bl[SCREEN_ZONES_MAX];
	struct dns_req		*spf_req;
	struct spf_eval		*spf;
#endif
	struct smtp_auth	 auth;		/* inbound checks */
	struct junk_tok		*jt;		/* scanner while DATA streams
						 * (store/junk.h), or NULL */
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

/* smtp_auth.c: the inbound checks of mail from the world (DKIM, RFC
 * 6376; DMARC, RFC 7489; Authentication-Results, RFC 8601). begin at
 * the start of a message (decides whether it is checked), feed with
 * every message octet as stored, end once it is complete: it calls
 * smtp_checked, at once (async 0) or, when DNS answers are awaited,
 * from the loop (async 1). cancel drops the lookups (abort). */
void	smtp_auth_begin(struct smtp_session *);
void	smtp_auth_feed(struct smtp_session *, const char *, size_t);
void	smtp_auth_end(struct smtp_session *);
void	smtp_auth_cancel(struct smtp_session *);
/* 1 when id[0..n) (an authserv-id) is ours. */
int	smtp_auth_ours(const char *, size_t);

/* smtp_session.c: the checks are done (async 1: from a callback). */
void	smtp_checked(struct smtp_session *, int async);

/* smtp_session.c, called back when the message is on disk (err 0) or
 * not (an errno). */
void	smtp_committed(struct smtp_session *, int err);

/* smtp_session.c: a reply line (CRLF added); the greeting; what came
 * in meanwhile, handled; MAIL's verdict after its checks (why: a
 * refusal, NULL: 250). */
void	smtp_reply(struct smtp_session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	smtp_greet(struct smtp_session *);
void	smtp_resume(struct smtp_session *);
void	smtp_mail_checked(struct smtp_session *, const char *why);

/* smtp_screen.c (INBOUND_CHECKS): the checks of port 25. */
int	screen_init(struct err *);
void	screen_shutdown(void);
void	screen_reconfigure(const struct cfg *);
/* At connect: 1 when the greeting is held (the screen greets or
 * refuses later), 0 to greet now, -1 refused (554 written). */
int	screen_connect(struct smtp_session *);
/* Input while the greeting is held: an early talker, refused. */
void	screen_early(struct smtp_session *);
/* The greet_delay timer (s->delay) ran out. */
void	screen_timer(struct smtp_session *);
/* At MAIL (sender set): 0 when exempt (MAIL goes on), 1 when
 * smtp_mail_checked has been called or will be once SPF is done. */
int	screen_mail(struct smtp_session *);
/* Rate limits at MAIL (rcpt 0) and RCPT (1): 0, or -1 when over
 * (451 4.7.1 sent). Counts what passes. */
int	screen_rate(struct smtp_session *, int rcpt);
void	screen_close(struct smtp_session *);

/* 1 while MAIL's reply waits for SPF: no command is read. */
static inline int
screen_waiting(const struct smtp_session *s)
{
#if WREN_INBOUND_CHECKS
	return s->spf_wait;
#else
	(void)s;
	return 0;
#endif
}

#endif
