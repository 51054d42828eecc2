/* SPDX-License-Identifier: ISC */
/*
 * throttle.h - failed logins per client address: after auth_fail_limit
 * failures within an hour, that address is refused until the hour is
 * over. IPv6 clients are counted per /64. Sans-clock: the caller passes
 * the time in seconds.
 *
 * The table has a fixed number of slots, so many addresses cannot make
 * it grow, and failures from other addresses cannot flush a block:
 *   - a new address takes a free or expired slot, else the unblocked
 *     slot with the fewest failures (the oldest of those), so a block
 *     is never evicted and an address close to its limit is the last
 *     to go;
 *   - when every slot holds a block, a new address whose /24 (IPv4) or
 *     /48 (IPv6) already holds one turns that block into a block of the
 *     whole prefix, which also frees the prefix's other slots;
 *   - otherwise the new address is not counted (blocks are kept).
 * Filling the table with blocks takes THROTTLE_SLOTS * limit failures
 * from as many prefixes.
 *
 * A slot is blocked when its count reached the limit last passed to
 * throttle_refused (every caller asks before it counts a failure).
 */
#ifndef WREN_THROTTLE_H
#define WREN_THROTTLE_H

#include <stdint.h>

#define THROTTLE_SLOTS	1024
#define THROTTLE_WINDOW	3600	/* seconds */
#define THROTTLE_V4_AGG	24	/* prefix bits of an IPv4 aggregate */
#define THROTTLE_V6_AGG	48	/* and of IPv6 (a site, RFC 6177) */

/* 1 when the address, or an aggregate holding it, has reached limit
 * failures in its window. */
int	throttle_refused(int family, const uint8_t *addr, uint64_t now,
	    unsigned limit);

/* Counts one failure; returns the count in the current window (of the
 * aggregate when the address is in one), 0 when the table is full of
 * blocks and the address is not counted. */
unsigned	throttle_failed(int family, const uint8_t *addr,
		    uint64_t now);

#endif
