/* SPDX-License-Identifier: ISC */
/*
 * conn.h - the connection table and the protocol interface: slots,
 * buffered I/O, flushing before the loop sleeps, idle timers, filters.
 *
 * Every connection, whatever its protocol and direction, is a struct
 * conn from a table's pool sized at start (max_connections for the
 * inbound table, max_deliveries for the outbound one), with an input
 * and an output buffer of CONN_BUF_SIZE from a second pool. Nothing is
 * allocated per connection after start-up.
 *
 * Connections come in through two files built on this one:
 *
 *   listen.c  (listeners, accept, per-IP limit, refusals)   inbound
 *   connect.c (non-blocking connect, connect timeout)       outbound
 *        |  conn_adopt, conn_start, conn_table.admit
 *        v
 *   conn.c    (table, I/O, flush, timers, filters)
 *
 * conn.c includes neither: what it must tell them (a connection
 * leaving the table) goes through the struct conn_admit hooks.
 *
 * A protocol is a struct proto: the core calls its hooks, the protocol
 * consumes c->in, appends replies to c->out with conn_write and asks
 * for the end with conn_close. Output is flushed before the loop
 * sleeps, so the replies to a pipelined group leave in one write.
 *
 * Memory per slot: conn_table_bytes_per_slot(); listen.h adds the
 * per-IP table for the inbound figure.
 */
#ifndef WREN_CONN_H
#define WREN_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "ev.h"
#include "limits.h"
#include "pool.h"
#include "timer.h"

struct conn;
struct conn_table;

enum conn_refusal {
	CONN_REFUSE_FULL,	/* no free connection or buffer */
	CONN_REFUSE_PER_IP,	/* max_connections_per_ip reached */
	CONN_REFUSE_SHUTDOWN	/* server is stopping */
};

struct proto {
	const char	*name;
	/* Inbound: the line (with CRLF) sent to a refused client before
	 * close. */
	const char	*(*refusal)(enum conn_refusal);
	/* A new session: greet, set c->sess, the timeout. -1 closes.
	 * Outbound: called once connected, c->sess already the caller's. */
	int		 (*open)(struct conn *);
	/* c->in holds new bytes. */
	void		 (*input)(struct conn *);
	/* Output drained to below half the buffer (optional). */
	void		 (*writable)(struct conn *);
	/* Idle timer fired (optional; default: close). */
	void		 (*timeout)(struct conn *);
	/* The server is stopping (optional; default: close). A protocol
	 * lets work in flight finish, then closes. */
	void		 (*drain)(struct conn *);
	/* The connection is going away: release session state. */
	void		 (*close)(struct conn *);
	/* Outbound only (optional): the connection was never made; err is
	 * the errno value (ECONNREFUSED, ETIMEDOUT for the connect
	 * timeout...). close follows at once; open was never called. */
	void		 (*connect_failed)(struct conn *, int err);
};

/*
 * Bookkeeping of whatever admits connections into a table (listen.c's
 * per-IP counts), called back by conn.c, which knows nothing of it.
 */
struct conn_admit {
	/* c leaves the table (closed or aborted). */
	void	(*release)(struct conn *);
	/* The table is destroyed: free the state. */
	void	(*destroy)(struct conn_table *);
};

/*
 * A filter sits between the socket and the plaintext buffers (TLS is
 * the one we have; core knows nothing of it). With a filter, the core
 * calls read instead of read(2) and flush instead of send(2).
 */
struct conn_filter {
	/* Socket -> c->in: 1 when bytes were added, 0 when nothing now,
	 * -1 when the connection is over (EOF or error). */
	int	(*read)(struct conn *);
	/* c->out -> socket, as far as it takes: 0, or -1 on error. Sets
	 * CONN_F_WBLOCK through conn_want_write when the socket is full. */
	int	(*flush)(struct conn *);
	/* 1 while the filter holds output not yet on the socket. */
	int	(*pending)(const struct conn *);
	/* 1 while the filter holds input not yet in c->in (a TLS record
	 * carries more than c->in may take). */
	int	(*buffered)(const struct conn *);
	/* The connection is going away. */
	void	(*close)(struct conn *);
	/* A filter over another one (compression inside TLS): from its
	 * own state in *state, the filter below, its state in *state
	 * (optional; NULL returned: over the socket). */
	const struct conn_filter *(*below)(const struct conn *,
		    void **state);
};

struct listener;		/* listen.h */

#define CONN_F_CLOSING	0x1u	/* flush, then close */
#define CONN_F_DEAD	0x2u	/* closed, block returned before sleep */
#define CONN_F_PAUSED	0x4u	/* input full: not reading */
#define CONN_F_DIRTY	0x8u	/* on the flush list */
#define CONN_F_WBLOCK	0x10u	/* socket full: waiting for EV_WRITE */
#define CONN_F_CONNECTING 0x20u	/* outbound, not connected yet */
#define CONN_F_STARTED	0x40u	/* conn_start ran: ends with a log line */
#define CONN_F_DRAINED	0x80u	/* conn_table_drain has seen it */
#define CONN_F_DEADLINE	0x100u	/* deadline set or cleared: the idle
				 * timeout no longer arms it */
#define CONN_F_QUICKACK	0x200u	/* ACK each read at once (conn_quickack) */

struct conn {
	struct conn_table	*table;
	const struct proto	*proto;
	const struct listener	*listener;	/* NULL: outbound */
	int			 fd;
	uint32_t		 id;		/* short session id for logs */
	unsigned		 flags;
	int			 family;
	uint8_t			 addr[16];	/* peer address */
	uint16_t		 port;
	char			 peer[ADDR_STR_MAX];	/* "[addr]:port" */
	struct buf		 in, out;
	struct timer		 idle;
	uint64_t		 idle_ms;	/* 0 = no idle timeout */
	struct timer		 deadline;	/* absolute: see
						 * conn_set_deadline */
	void			*sess;		/* the protocol's state */
	const struct conn_filter *filter;	/* NULL: plain socket */
	void			*filter_state;
	const struct conn_filter *next_filter;	/* after the flush */
	void			*next_filter_state;
	char			*out_own;	/* c->out's pool block while
						 * a lent buffer is in use */
	struct conn		*next, *prev;	/* all live connections */
	struct conn		*next_dirty;	/* flush list */
	int			 connect_err;	/* connect.c: an error met
						 * at once, told next turn */
	/* Why it ends, for its one "disconnect" line: a static string
	 * ("peer closed", "closed", "idle timeout", "shutdown"...) and
	 * an errno value or 0. The first cause set wins, except that the
	 * peer's EOF or a socket error always does. */
	const char		*why;
	int			 why_err;
};

/* A closing connection without an idle timeout of its own: the
 * longest wait for its client to read the last reply. */
#define CONN_CLOSE_FLUSH_MS	30000

/* Hooks run before each flush; the SMTP group commit is one, the queue
 * may add its own. */
#define CONN_PRE_FLUSH_MAX	4

struct conn_hook {
	void		(*fn)(void *);	/* NULL: free slot */
	void		*arg;
};

struct conn_table {
	struct ev		*ev;
	struct pool		 conns;
	struct pool		 bufs;
	size_t			 max, active;
	/* Limit of connections from one address, applied by listen.c
	 * (may change on reload); 0: none (the outbound table). */
	size_t			 per_ip;
	const struct conn_admit	*admit;		/* NULL: nothing to tell */
	void			*admit_state;
	uint32_t		 next_id;
	int			 draining;
	struct conn		*live;		/* list head */
	struct conn		*dirty;		/* flush list head */
	struct conn		*dead;		/* reclaim list head */
	uint64_t		 refused;	/* counters for logs; outbound:
						 * connects failed */
	uint64_t		 accepted;	/* or connected, outbound */
	/* Run before each flush of the connections' output, once per
	 * loop turn, in the order added (the SMTP group commit hooks in
	 * here). Use conn_table_add_pre_flush, not the array. */
	struct conn_hook	 pre_flush[CONN_PRE_FLUSH_MAX];
	/* The before-sleep hook this table took over from the loop (an
	 * earlier table's, or NULL): tables chain, each runs its own
	 * flush then calls the one before. */
	ev_hook_fn		*prev_sleep;
	void			*prev_sleep_arg;
};

/*
 * A table of `max` slots on the loop ev; per_ip is the inbound limit
 * per address (0: none, for the outbound table). Several tables may
 * share a loop; destroy them in any order.
 */
int	conn_table_init(struct conn_table *, struct ev *, size_t max,
	    size_t per_ip, struct err *);
void	conn_table_destroy(struct conn_table *);

/*
 * Adds fn(arg) to the hooks run before each flush (in the order added):
 * 0, or -1 when CONN_PRE_FLUSH_MAX hooks are already there. Deleting
 * removes the hook with that fn and arg (0), -1 when there is none; a
 * hook may delete itself or another while the hooks run.
 */
int	conn_table_add_pre_flush(struct conn_table *, void (*fn)(void *),
	    void *arg);
int	conn_table_del_pre_flush(struct conn_table *, void (*fn)(void *),
	    void *arg);

/* Runs the pre-flush hooks now (the loop does it before sleeping;
 * tests drive it by hand). */
void	conn_table_run_pre_flush(struct conn_table *);

/* Bytes reserved per slot of any table: the struct and two buffers
 * (the outbound figure; listen.h's conn_bytes_per_connection adds the
 * per-IP table for inbound). */
size_t	conn_table_bytes_per_slot(void);

/*
 * For listen.c and connect.c, which bring connections in.
 *
 * conn_adopt takes the non-blocking socket fd (peer: family, 16-byte
 * addr, port) into the table: a slot and two buffers, on the live list,
 * its idle timer unarmed, not watched by the loop. NULL when no slot or
 * buffer is free; fd is then still the caller's.
 *
 * conn_start hands an adopted connection to the loop: CONN_F_CONNECTING
 * cleared, the idle timer the core's again, the fd watched for input,
 * then proto->open (-1 from open closes). It returns -1, with nothing
 * called, when the fd cannot be watched: the caller then ends it.
 *
 * conn_discard ends an adopted connection that was never started,
 * calling no proto hook; the fd is closed.
 */
struct conn	*conn_adopt(struct conn_table *, int fd, const struct proto *,
		    int family, const uint8_t *addr, uint16_t port);
int		 conn_start(struct conn *);
void		 conn_discard(struct conn *);

/* Appends to the output buffer: 0, or -1 when it does not fit. */
int	conn_write(struct conn *, const void *, size_t);
int	conn_printf(struct conn *, const char *f, ...)
	    __attribute__((format(printf, 2, 3)));

/* Consumes n input bytes and resumes reading if input was full. */
void	conn_consume(struct conn *, size_t n);

/* While on, every read is ACKed at once (TCP_QUICKACK): for a request
 * that comes in several segments, such as an IMAP APPEND literal, whose
 * client holds its last small segment (Nagle) until our ACK, which
 * Linux would otherwise delay up to 40 ms. Off: the usual delayed ACK
 * (fewer packets). */
void	conn_quickack(struct conn *, int on);

/* Sets (0 = clears) the idle timeout, re-armed by every input. Not
 * for a connection still connecting (its timer is the connect one).
 * On an inbound connection whose deadline was neither set nor cleared,
 * the first call also arms the deadline to the same ms (below). */
void	conn_set_timeout(struct conn *, uint64_t ms);

/*
 * The session deadline: an absolute limit, counted from when it is
 * armed and never re-armed by input, so that a client sending a byte
 * now and then (slowloris) holds no slot for longer than that. The
 * idle timer alone cannot do it: every byte re-arms it.
 *
 * The rule, for every protocol by default: an inbound connection must
 * have said who it is within its first idle timeout, counted from the
 * start. The first conn_set_timeout (in proto->open) arms the deadline
 * to the same figure; the protocol calls conn_clear_deadline once the
 * client has authenticated (IMAP, POP3, SMTP AUTH), or, on a port
 * where nobody logs in (SMTP on 25), once the session is doing real
 * work (its first MAIL). Until then the whole session, however active,
 * ends at the deadline: a real client logs in within seconds.
 *
 * On expiry the connection ends as on an idle timeout (proto->timeout,
 * default close) with "session time limit" as its disconnect reason;
 * a connection already closing is left to its output timeout.
 * Outbound connections get no deadline unless asked for.
 *
 * conn_set_deadline arms (or re-arms) it ms from now (0 clears);
 * either call stops the first conn_set_timeout from arming it.
 */
void	conn_set_deadline(struct conn *, uint64_t ms);
void	conn_clear_deadline(struct conn *);

/* Flushes pending output, then closes (at once while still
 * connecting: proto->close, no connect_failed). After this call the
 * caller must not touch the connection, except through hooks it
 * receives. */
void	conn_close(struct conn *);

/* Closes at once, dropping unsent output. */
void	conn_abort(struct conn *);

/* Installs a filter once the output already queued has left in the
 * clear (STARTTLS: the 220 goes out plain, then TLS starts). Input
 * that arrived before is discarded: commands pipelined after STARTTLS
 * must not be taken as if sent over TLS (CVE-2011-0411). */
void	conn_filter_after_flush(struct conn *, const struct conn_filter *,
	    void *state);

/* Installs a filter now (implicit TLS, before the greeting). */
void	conn_filter_now(struct conn *, const struct conn_filter *, void *);

/* The state of filter f on c, whether it is the installed one or one
 * below it (TLS under compression), or NULL when f is not there. */
void	*conn_filter_state(const struct conn *, const struct conn_filter *f);

/*
 * Bulk output (a body streamed from disk) through a larger buffer the
 * protocol owns, so that each write to the socket carries more than
 * CONN_BUF_SIZE: lend only while nothing is queued (-1 otherwise);
 * reclaim once it has all left (-1 while bytes wait in it). The
 * protocol must reclaim before its storage goes away; a connection
 * closed meanwhile gives its own block back by itself.
 */
int	conn_out_lend(struct conn *, char *storage, size_t cap);
int	conn_out_reclaim(struct conn *);

/* For filters: the socket is full, wake up when writable (or not). */
void	conn_want_write(struct conn *, int);

/* 1 while output is queued, in the buffer or in the filter. */
int	conn_has_output(const struct conn *);

/*
 * Stop accepting (done by the caller closing listeners) and ask every
 * session to finish, at once, in this call:
 *   - a connection whose peer has already closed (an EOF with nothing
 *     unread before it, or a reset, waiting on the socket) is aborted:
 *     nobody is there to tell;
 *   - one still connecting is closed;
 *   - one already closing keeps flushing;
 *   - every other one gets proto->drain (default: close). The hook
 *     says goodbye (421, * BYE, -ERR) and closes, or leaves work in
 *     flight to finish (a message being received) and closes after.
 * The caller bounds the whole (shutdown_timeout) with
 * conn_table_abort_all. Outbound: conn_connect refuses from now on.
 */
void	conn_table_drain(struct conn_table *);

/* Closes every connection at once (end of the shutdown grace). */
void	conn_table_abort_all(struct conn_table *);

/* "a.b.c.d:port" or "[v6]:port" into out. */
void	conn_format_peer(char *out, size_t cap, int family,
	    const uint8_t *addr, uint16_t port);

/*
 * Logs with "proto id [addr]:" in front.
 *
 * Every connection that was started (and every accepted one, which
 * listen.c logs as "connect to ...") ends with exactly one line,
 * however it ends, written when it leaves the table:
 *
 *   imap 5f3a0c12 192.0.2.7:51234: disconnect: peer closed
 *
 * The reason is "peer closed", "closed" (by us: QUIT, LOGOUT, an
 * error reply), "idle timeout", "session time limit" (the deadline),
 * "output timeout" (a closing client that does not read), "shutdown",
 * "shutdown grace over", "aborted",
 * or "read error: ..." / "write error: ..." with the system's text.
 */
void	conn_log(const struct conn *, int level, const char *f, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
