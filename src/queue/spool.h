/* SPDX-License-Identifier: ISC */
/*
 * spool.h - the outbound queue on disk, below data_dir:
 *
 *   queue/tmp/<id>      a message or envelope being written; anything
 *                       here at start-up was never acknowledged and is
 *                       removed
 *   queue/msg/<id>      the message: our Received: header, then the
 *                       content as received, LF line ends
 *   queue/env/<id>      its envelope (envelope.h); written and renamed last,
 *                       once the message's rename is durable (a
 *                       barrier: fsync of msg/), so its presence is what
 *                       makes the message queued. A msg/ file without
 *                       env/ is removed at start-up (it never got its
 *                       250), and so is an env/ file without msg/
 *                       (nothing to deliver; removal takes env/ first).
 *
 * The message is stored once for all its remote recipients. The
 * envelope's format, and the result lines the queue runner appends to
 * it, are described in queue/envelope.h (parser and formatters).
 */
#ifndef WREN_SPOOL_H
#define WREN_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/limits.h"
#include "queue/envelope.h"

#define SPOOL_ID_MAX	(ENVELOPE_ID_MAX + 1)	/* with the NUL */
#define SPOOL_PATH_MAX	(CFG_PATH_MAX + 48)

struct spool_rcpt {
	const char	*addr;
	unsigned	 notify;	/* DSN_NOTIFY_* bits */
	const char	*orcpt;		/* "" when not given */
};

struct spool_env {
	const char		*id;
	int64_t			 arrival;
	const char		*sender;
	uint64_t		 size;
	int			 ret;		/* enum dsn_ret */
	const char		*envid;
	int			 smtputf8;
	int			 body8;		/* BODY=8BITMIME given */
	const char		*client;	/* "helo [ip]" */
	const struct spool_rcpt	*rcpt;
	size_t			 nrcpt;
};

/* Creates queue/{tmp,msg,env} (0700) and removes what was never
 * acknowledged: tmp/, msg/ without env/, env/ without msg/. */
int	spool_init(const char *data_dir, struct err *);

/* A new queue id. */
void	spool_new_id(char *out, size_t cap);

/* queue/<sub>/<id>[suffix] into out; -1 if too long. */
int	spool_path(char *out, size_t cap, const char *data_dir,
	    const char *sub, const char *id, const char *suffix);

/* Writes the envelope to queue/tmp/<id>.env; the caller makes it
 * durable (the SMTP group commit syncs the whole file system). At most
 * ENVELOPE_RCPT_MAX recipients; control octets in the client text are
 * written as '?'. */
int	spool_write_env(const char *data_dir, const struct spool_env *,
	    struct err *);

/* Moves tmp/<id> to msg/<id>, fsyncs msg/ (the barrier), then moves
 * tmp/<id>.env to env/<id>; the caller fsyncs env/ afterwards. On
 * failure msg/<id> is removed again (tmp/ is the caller's). */
int	spool_commit(const char *data_dir, const char *id, struct err *);

/*
 * Reads and parses env/<id> into the caller's env. 0, or -1 with the
 * reason ("<path>:<line>: <what>", or the system error); errno is
 * ENOENT when there is no such message. A torn final line is ignored.
 */
int	spool_read_env(const char *data_dir, const char *id,
	    struct envelope *, struct err *);

/*
 * Appends one result line (from envelope_format_state, _reported or
 * _admin, LF included) to env/<id> with O_APPEND and makes it durable
 * with fdatasync before returning: the message and the rest of the
 * envelope are never rewritten. A torn final line left by a crash is
 * cut off first (it was never acknowledged), so the file stays
 * parseable. 0, or -1 with the reason.
 */
int	spool_append(const char *data_dir, const char *id, const char *line,
	    size_t len, struct err *);

/*
 * `wren queue list`, like Postfix's mailq: a title line, then per
 * message "ID SIZE YYYY-MM-DD HH:MM:SSZ  <sender>" (a '!' after the ID
 * when held), then each recipient still to deliver as "   <addr>",
 * preceded by "        (last error)" once it has been tried; a blank
 * line; at the end "-- N Kbytes in M Request(s)." -- or only "Mail
 * queue is empty". An unreadable envelope is listed with its reason.
 */
int	spool_list(const char *data_dir, int fd, int raw, struct err *);

/*
 * `wren queue show ID` (postcat -q): the envelope in words (every
 * recipient with its state, attempts, next try and last reply, the
 * DSN parameters), then "*** MESSAGE ***" and the message as queued.
 * -1 with the reason when id is not a queue id or there is no such
 * message (errno ENOENT), or the envelope does not parse.
 *
 * Unless raw, list and show escape what could drive a terminal: control
 * octets but LF and TAB, DEL, UTF-8 C1 controls and bytes that are not
 * UTF-8 are written as \xNN (valid UTF-8 text passes).
 */
int	spool_show(const char *data_dir, const char *id, int fd, int raw,
	    struct err *);

#endif
