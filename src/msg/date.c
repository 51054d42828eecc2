/* SPDX-License-Identifier: ISC */
/*
 * date.c - RFC 5322 dates (see date.h). UTC, so the result does not
 * depend on the zone files a router may lack.
 */
#include "core/fmt.h"
#include "msg/date.h"

void
msg_date(char *out, size_t cap, time_t t)
{
	static const char day[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	(void)fmt(out, cap, "%s, %d %s %04d %02d:%02d:%02d +0000",
	    day[tm.tm_wday % 7], tm.tm_mday, mon[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
