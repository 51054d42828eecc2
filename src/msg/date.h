/* SPDX-License-Identifier: ISC */
/*
 * date.h - RFC 5322 3.3 date-time, as Received: headers carry it.
 */
#ifndef WREN_DATE_H
#define WREN_DATE_H

#include <stddef.h>
#include <time.h>

#define MSG_DATE_MAX	40	/* "Thu, 26 Nov 2026 01:09:29 +0000" */

/* Writes t in UTC as "Thu, 26 Nov 2026 01:09:29 +0000". */
void	msg_date(char *out, size_t cap, time_t t);

#endif
