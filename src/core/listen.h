/* SPDX-License-Identifier: ISC */
/*
 * listen.h - listeners: listening sockets, accept, the per-IP limit and
 * refusals, for the inbound connection table.
 *
 * Accepting checks, in order: shutdown in progress, the per-IP limit
 * (table->per_ip), free slots and buffers; a refused connection is sent
 * its protocol's refusal line (421 4.3.2, * BYE) and closed. An
 * accepted one is adopted by the table (conn.h) and started.
 *
 *   listen.c --> conn.c      (conn_adopt, conn_start, conn_discard)
 *        ^          |
 *        +----------+        (only through table->admit: release)
 *
 * The per-IP table is created by the first listener_open on a table,
 * sized table->max * IPTAB_LOAD_FACTOR, and freed with the table.
 * Connections added by connect.c are never counted in it.
 */
#ifndef WREN_LISTEN_H
#define WREN_LISTEN_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "conn.h"
#include "err.h"
#include "limits.h"

/* listen(2) backlog: the kernel caps it at somaxconn. */
#define LISTEN_BACKLOG	128

struct listener {
	int			 fd;
	const struct proto	*proto;
	struct conn_table	*table;
	struct cfg_listen	 addr;
	char			 name[ADDR_STR_MAX];
};

/* Opens a non-blocking listening socket and registers it; port 0 binds
 * a free port, recorded in l->addr.port. */
int	listener_open(struct listener *, struct conn_table *,
	    const struct cfg_listen *, const struct proto *, struct err *);
void	listener_close(struct listener *);

/* Bytes reserved per inbound connection slot (slot, two buffers and
 * IPTAB_LOAD_FACTOR per-IP slots), for README and `wren check`. */
size_t	conn_bytes_per_connection(void);

/* Connections now counted for family/addr's key (IPv4, or the IPv6
 * /64) and the number of keys in use, for logs and tests. */
size_t	listen_ip_count(const struct conn_table *, int family,
	    const uint8_t *addr);
size_t	listen_ip_keys(const struct conn_table *);

#endif
