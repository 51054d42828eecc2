/* SPDX-License-Identifier: ISC */
/*
 * connect.h - outbound connections: a non-blocking connect(2) into a
 * connection table of their own, so that inbound clients, however many,
 * never take the slots delivery needs.
 *
 *   connect.c --> conn.c     (conn_adopt, conn_start, conn_discard)
 *
 * The outbound table is an ordinary struct conn_table, sized from
 * max_deliveries, with per_ip 0 (no per-IP limit) and no listener:
 *
 *   conn_table_init(&out, ev, cfg_num(cfg, CFG_MAX_DELIVERIES), 0, &e);
 *
 * conn_table_drain and conn_table_abort_all work on it as on the
 * inbound one. Memory per slot: conn_table_bytes_per_slot().
 *
 * Life of an outbound connection:
 *
 *   conn_connect -> 0, *out_conn set, CONN_F_CONNECTING
 *     connected          -> proto->open(c)  (c->sess = the caller's)
 *                           then input/writable/timeout/close as for
 *                           an accepted connection
 *     refused, unreachable, no answer within connect_timeout_ms
 *                        -> proto->connect_failed(c, errno value;
 *                           ETIMEDOUT for the timeout), then
 *                           proto->close(c); open is never called
 *     conn_close/conn_abort, conn_table_drain or abort_all meanwhile
 *                        -> proto->close(c) alone
 *
 * No hook is ever called from inside conn_connect: an error that
 * connect(2) reports at once is told on the next loop turn.
 */
#ifndef WREN_CONNECT_H
#define WREN_CONNECT_H

#include <stdint.h>
#include <sys/socket.h>

#include "conn.h"
#include "err.h"

/*
 * Starts connecting to dst (AF_INET or AF_INET6), from src when not
 * NULL (a bind address: port 0 lets the kernel pick), on table t, for
 * protocol p with c->sess = sess; connect_timeout_ms must be > 0.
 *
 * Returns 0 with *out_conn set: the connection is in progress and the
 * hooks above will tell how it ends. Returns -1 with e filled, and no
 * hook called, when the table is draining, no slot or buffer is free,
 * the address is not usable, socket(2) or bind(2) fails, or the loop
 * cannot watch the socket or arm the timer.
 *
 * Before open, the caller may only conn_close or conn_abort the
 * connection (or conn_write: the bytes leave once connected).
 */
int	conn_connect(struct conn_table *t, const struct sockaddr *dst,
	    socklen_t dst_len, const struct sockaddr *src, socklen_t src_len,
	    const struct proto *p, void *sess, uint64_t connect_timeout_ms,
	    struct conn **out_conn, struct err *e);

#endif
