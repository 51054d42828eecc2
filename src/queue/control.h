/* SPDX-License-Identifier: ISC */
/*
 * control.h - the queue's control socket: how `wren queue` asks the
 * running server to act (as postqueue asks Postfix's master).
 *
 * The socket is data_dir/control, a unix stream socket of mode 0600
 * owned by the user the server runs as (control_init is called after
 * the privilege drop). The server also checks every peer with
 * SO_PEERCRED: root and its own uid are served, anyone else gets an
 * error line and is closed.
 *
 * The protocol is one line each way. The client connects, writes one
 * request, reads one reply; the server then closes.
 *
 *   request = verb [SP id] [CR] LF      at most CONTROL_LINE_MAX octets
 *   verb    = "ping" | "flush" | "retry" | "delete" | "bounce"
 *   id      = a queue id: 1 to ENVELOPE_ID_MAX of 0-9 A-F
 *             (required by retry, delete and bounce; ping and flush
 *             take none)
 *   reply   = ("ok" | "error") [SP text] LF
 *                                       at most CONTROL_REPLY_MAX octets
 *
 *   "flush\n"              -> "ok 3 messages to retry now\n"
 *   "retry 18C3A2F10000A\n" -> "ok\n"
 *   "delete 18C3A2F1\n"    -> "error no message 18C3A2F1\n"
 *   "frob\n"               -> "error unknown command\n"
 *   "ping\n"               -> "ok wren <pid>\n"
 *
 * flush: every deferred message is tried now; retry ID: that one now;
 * delete ID: removed from the queue without a bounce (postsuper -d);
 * bounce ID: its pending recipients fail now and the sender gets one
 * bounce. A client that sends no complete line within
 * CONTROL_TIMEOUT_MS, or more than CONTROL_LINE_MAX octets without LF,
 * gets an error and is closed: the loop never waits for one.
 */
#ifndef WREN_QUEUE_CONTROL_H
#define WREN_QUEUE_CONTROL_H

#include <stddef.h>

#include "core/err.h"
#include "core/ev.h"
#include "queue/envelope.h"

#define CONTROL_SOCKET		"control"	/* below data_dir */
#define CONTROL_LINE_MAX	64	/* request, LF included: the
					 * longest is "bounce <31>\r\n" */
#define CONTROL_REPLY_MAX	512	/* reply, LF included */
#define CONTROL_TEXT_MAX	(CONTROL_REPLY_MAX - 8)	/* after "error " */
#define CONTROL_CONNS		4	/* clients served at once */
#define CONTROL_TIMEOUT_MS	5000	/* for the request line */

enum control_verb {
	CONTROL_PING,
	CONTROL_FLUSH,
	CONTROL_RETRY,
	CONTROL_DELETE,
	CONTROL_BOUNCE
};

enum control_err {
	CONTROL_OK,
	CONTROL_E_EMPTY,	/* empty line */
	CONTROL_E_LONG,		/* over CONTROL_LINE_MAX */
	CONTROL_E_BYTE,		/* NUL, a control octet or 8-bit */
	CONTROL_E_VERB,		/* unknown command */
	CONTROL_E_NO_ID,	/* retry/delete/bounce without an id */
	CONTROL_E_EXTRA,	/* an argument where none is taken */
	CONTROL_E_ID		/* not a queue id */
};

struct control_req {
	enum control_verb	verb;
	char			id[ENVELOPE_ID_MAX + 1];  /* "" if none */
};

/*
 * Parses one request line, given without its LF (a final CR is
 * allowed). Verbs are lower case, one space separates the id; nothing
 * else is accepted. Returns CONTROL_OK and fills req, or the error.
 */
enum control_err	control_parse(const char *line, size_t len,
			    struct control_req *req);

/* "unknown command", ...: the text of the error reply. */
const char	*control_strerror(enum control_err);

/* "ping", "flush", ... */
const char	*control_verb_name(enum control_verb);

/*
 * What the server does for each verb (the queue runner's functions):
 * 0 done, -1 refused; either way msg (cap bytes, "" on entry) may get
 * a line of text for the reply, without LF. A NULL entry answers
 * "error not supported".
 */
struct control_ops {
	int	(*flush)(char *msg, size_t cap);
	int	(*retry)(const char *id, char *msg, size_t cap);
	int	(*delete)(const char *id, char *msg, size_t cap);
	int	(*bounce)(const char *id, char *msg, size_t cap);
};

/*
 * Creates data_dir/control (an old socket there is replaced unless a
 * server still answers on it) and serves it on the loop with ops,
 * which must outlive it. Uses one listening fd, CONTROL_CONNS client
 * fds and CONTROL_CONNS timers of the loop. 0, or -1 with e.
 */
int	control_init(struct ev *, const char *data_dir,
	    const struct control_ops *, struct err *);

/* Closes the socket and its clients and removes the file. */
void	control_shutdown(struct ev *);

#endif
