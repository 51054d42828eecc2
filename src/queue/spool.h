/*
 * spool.h - the outbound queue on disk, below data_dir:
 *
 *   queue/tmp/<id>      a message or envelope being written; anything
 *                       here at start-up was never acknowledged and is
 *                       removed
 *   queue/msg/<id>      the message: our Received: header, then the
 *                       content as received, LF line ends
 *   queue/env/<id>      its envelope (below); written and renamed last,
 *                       so its presence is what makes the message
 *                       queued. A msg/ file without env/ is removed at
 *                       start-up (it never got its 250).
 *
 * The message is stored once for all its remote recipients. The
 * envelope is text, one item per line, read back as hostile input:
 *
 *   wren-envelope 1
 *   id 18C3A2F10000A
 *   arrival 1764120000
 *   sender alice@example.com        (empty for the null sender <>)
 *   size 4213                       (bytes of msg/<id>)
 *   ret full|hdrs|-                 (RFC 3461 RET)
 *   envid <xtext>|-                 (RFC 3461 ENVID)
 *   smtputf8 0|1
 *   client mail.example.net [192.0.2.7]
 *   rcpt bob@example.net notify=- orcpt=-
 *       (one per recipient; notify: comma list of never, success,
 *        failure, delay; orcpt as received, e.g. rfc822;bob@example.net)
 */
#ifndef WREN_SPOOL_H
#define WREN_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/limits.h"

#define SPOOL_ID_MAX	32
#define SPOOL_PATH_MAX	(CFG_PATH_MAX + 48)

struct spool_rcpt {
	const char	*addr;
	unsigned	 notify;	/* SMTP_NOTIFY_* bits */
	const char	*orcpt;		/* "" when not given */
};

struct spool_env {
	const char		*id;
	int64_t			 arrival;
	const char		*sender;
	uint64_t		 size;
	int			 ret;		/* 0 none, 1 full, 2 hdrs */
	const char		*envid;
	int			 smtputf8;
	const char		*client;	/* "helo [ip]" */
	const struct spool_rcpt	*rcpt;
	size_t			 nrcpt;
};

/* Creates queue/{tmp,msg,env} (0700) and removes what was never
 * acknowledged. */
int	spool_init(const char *data_dir, struct err *);

/* A new queue id. */
void	spool_new_id(char *out, size_t cap);

/* queue/<sub>/<id>[suffix] into out; -1 if too long. */
int	spool_path(char *out, size_t cap, const char *data_dir,
	    const char *sub, const char *id, const char *suffix);

/* Writes the envelope to queue/tmp/<id>.env; the caller makes it
 * durable (the SMTP group commit syncs the whole file system). */
int	spool_write_env(const char *data_dir, const struct spool_env *,
	    struct err *);

/* Moves tmp/<id> to msg/<id> and tmp/<id>.env to env/<id>, in that
 * order; the caller fsyncs msg/ and env/ afterwards (once per batch). */
int	spool_commit(const char *data_dir, const char *id, struct err *);

/* `wren queue list`: one block per message, like mailq. */
int	spool_list(const char *data_dir, int fd, struct err *);

#endif
