/*
 * throttle.h - failed logins per client address: after auth_fail_limit
 * failures within an hour, that address is refused until the hour is
 * over. The table has a fixed number of slots; when it is full the
 * slot with the oldest window is reused, so many addresses cannot make
 * it grow. IPv6 clients are counted per /64. Sans-clock: the caller
 * passes the time in seconds.
 */
#ifndef WREN_THROTTLE_H
#define WREN_THROTTLE_H

#include <stdint.h>

#define THROTTLE_SLOTS	1024
#define THROTTLE_WINDOW	3600	/* seconds */

/* 1 when the address has reached limit failures in its window. */
int	throttle_refused(int family, const uint8_t *addr, uint64_t now,
	    unsigned limit);

/* Counts one failure; returns the count in the current window. */
unsigned	throttle_failed(int family, const uint8_t *addr,
		    uint64_t now);

#endif
