/* SPDX-License-Identifier: ISC */
/*
 * remote.h - one outbound SMTP delivery: the recipients of one message
 * in one domain (or all remote recipients, via relayhost), from DNS to
 * QUIT, on the event loop.
 *
 *   MX lookup (or relayhost's address)
 *     -> connect: next address, then next MX, on failure
 *     -> SMTP client (smtp_client.h) over the connection, STARTTLS
 *        when offered (MX: opportunistic; relayhost: required and
 *        verified), AUTH to the relayhost
 *     -> the body streamed from queue/msg/<id>
 *     -> per-recipient results, then done()
 *
 * The job's memory belongs to the caller (the runner's pool); nothing
 * is allocated here.
 */
#ifndef WREN_QUEUE_REMOTE_H
#define WREN_QUEUE_REMOTE_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/conn.h"
#include "core/err.h"
#include "core/ev.h"
#include "core/limits.h"
#include "map/map.h"

/* Recipients in one transaction: Postfix's default
 * smtp_destination_recipient_limit. */
#define REMOTE_RCPT_MAX		50
#define REMOTE_REPLY_MAX	200	/* kept of each reply, for logs/DSN */
#define REMOTE_ARENA		8192	/* the recipients' addresses */
#define REMOTE_HOST_MAX		256
#define REMOTE_STATUS_MAX	16	/* "5.1.1" and some */

enum remote_outcome {
	REMOTE_PENDING,
	REMOTE_SENT,		/* 2xx after the final dot */
	REMOTE_DEFERRED,	/* 4xx, or no answer: try again later */
	REMOTE_FAILED		/* 5xx: bounce */
};

struct remote_rcpt {
	int			 idx;		/* in the envelope */
	const char		*addr;		/* in the job's arena */
	unsigned		 notify;
	const char		*orcpt;		/* "" when none */
	/* results */
	enum remote_outcome	 outcome;
	char			 status[REMOTE_STATUS_MAX];
	char			 reply[REMOTE_REPLY_MAX];
};

struct remote_job {
	/* what to send */
	char			 id[48];
	char			 sender[ADDR_MAX + 1];	/* "" = <> */
	char			 domain[REMOTE_HOST_MAX];
	char			 msg_path[CFG_PATH_MAX + 64];
	uint64_t		 size;
	int			 smtputf8;
	int			 eightbit;
	int			 ret;
	char			 envid[ADDR_MAX];
	int64_t			 arrival;
	size_t			 nrcpt;
	struct remote_rcpt	 r[REMOTE_RCPT_MAX];
	size_t			 used;
	char			 arena[REMOTE_ARENA];
	/* where it went (for logs and DSN Remote-MTA) */
	char			 relay[REMOTE_HOST_MAX + 64];
	char			 relay_host[REMOTE_HOST_MAX];
	char			 tls[96];
	/* called once, from the loop, when every recipient has an
	 * outcome; the job may then be reused */
	void			(*done)(struct remote_job *);
	void			*arg;
	/* private: the delivery's running state */
	void			*priv;
};

/* Sizes the pool of running deliveries (max_deliveries) and loads the
 * relay credentials' location from the config. */
int	remote_init(struct ev *, struct conn_table *out, const struct cfg *,
	    struct maps *, size_t max, struct err *);
void	remote_reload(const struct cfg *);
void	remote_shutdown(void);

/* Memory one delivery reserves besides its job: its state, the
 * outbound connection slot with its buffers, the TLS client slot. */
size_t	remote_bytes_per_delivery(void);

/* Starts the job; -1 when no slot is free (try later). */
int	remote_start(struct remote_job *);

#endif
