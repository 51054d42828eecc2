/* SPDX-License-Identifier: ISC */
/*
 * date_parse.c - the Date: field (RFC 5322 3.3, obsolete forms 4.3) as
 * IMAP SEARCH SENT* reads it (RFC 3501 6.4.4); declared in decode.h
 * with the other SEARCH text helpers. date.c writes dates; this reads
 * them, without the C library's locale or zone files.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/limits.h"
#include "msg/decode.h"

static size_t	date_skip_cfws(const char *, size_t, size_t);
static size_t	date_digits(const char *, size_t, size_t, int, int *,
		    int *);
static size_t	date_alpha(const char *, size_t, size_t, char *, size_t,
		    size_t *);
static int	date_month(const char *, size_t);
static int	date_is_wday(const char *, size_t);
static int	date_zone_name(const char *, size_t);
static int	days_in_month(int, int);
static int	is_space(int);

int
decode_date(const char *s, size_t len, struct decode_date *d)
{
	char word[16];
	size_t i, j, wl;
	int v, nd, year, mon, day, hh = 0, mm = 0, ss = 0, zone = 0;

	i = date_skip_cfws(s, len, 0);
	/* [day-of-week ","] */
	j = date_alpha(s, len, i, word, sizeof word, &wl);
	if (j > i) {
		if (!date_is_wday(word, wl)) {
			return -1;
		}
		i = date_skip_cfws(s, len, j);
		if (i < len && s[i] == ',') {
			i = date_skip_cfws(s, len, i + 1);
		}
	}
	/* day month year, "-" allowed between them */
	j = date_digits(s, len, i, 2, &day, &nd);
	if (nd == 0) {
		return -1;
	}
	i = date_skip_cfws(s, len, j);
	if (i < len && s[i] == '-') {
		i = date_skip_cfws(s, len, i + 1);
	}
	j = date_alpha(s, len, i, word, sizeof word, &wl);
	if ((mon = date_month(word, wl)) == 0) {
		return -1;
	}
	i = date_skip_cfws(s, len, j);
	if (i < len && s[i] == '-') {
		i = date_skip_cfws(s, len, i + 1);
	}
	j = date_digits(s, len, i, 9, &year, &nd);
	if (nd < 2 || (j < len && s[j] == ':')) {
		return -1;
	}
	if (nd == 2) {
		/* RFC 5322 4.3: 00-49 are 2000-2049, 50-99 1950-1999. */
		year += year < 50 ? 2000 : 1900;
	} else if (nd == 3) {
		year += 1900;
	}
	if (year > 9999 || day < 1 || day > days_in_month(year, mon)) {
		return -1;
	}
	i = date_skip_cfws(s, len, j);
	/* time-of-day: hh ":" mm [":" ss] */
	j = date_digits(s, len, i, 2, &hh, &nd);
	if (nd == 0 && j > i) {
		return -1;
	}
	if (nd > 0) {
		i = date_skip_cfws(s, len, j);
		if (i >= len || s[i] != ':') {
			return -1;
		}
		i = date_skip_cfws(s, len, i + 1);
		j = date_digits(s, len, i, 2, &mm, &nd);
		if (nd == 0) {
			return -1;
		}
		i = date_skip_cfws(s, len, j);
		if (i < len && s[i] == ':') {
			i = date_skip_cfws(s, len, i + 1);
			j = date_digits(s, len, i, 2, &ss, &nd);
			if (nd == 0) {
				return -1;
			}
			i = date_skip_cfws(s, len, j);
		}
		if (hh > 23 || mm > 59 || ss > 60) {
			return -1;
		}
		/* zone */
		if (i < len && (s[i] == '+' || s[i] == '-')) {
			/* An unreadable offset is as unknown as an
			 * unknown name: -0000. */
			date_digits(s, len, i + 1, 4, &v, &nd);
			if (nd == 4 && v % 100 <= 59) {
				zone = (v / 100) * 60 + v % 100;
				zone = s[i] == '-' ? -zone : zone;
			}
		} else {
			j = date_alpha(s, len, i, word, sizeof word, &wl);
			if (j > i) {
				zone = date_zone_name(word, wl);
			}
		}
	}
	d->year = year;
	d->mon = mon;
	d->day = day;
	d->zone = zone;
	d->days = decode_days(year, mon, day);
	d->t = (int64_t)d->days * 86400 + hh * 3600 + mm * 60 + ss -
	    (int64_t)zone * 60;
	return 0;
}

int32_t
decode_days(int year, int mon, int day)
{
	/* Howard Hinnant's days_from_civil: March-based years, so the
	 * leap day ends a year. */
	int32_t y = year - (mon <= 2);
	int32_t era = (y >= 0 ? y : y - 399) / 400;
	int32_t yoe = y - era * 400;
	int32_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* Skips white space, CR, LF and (nested) comments from i. */
static size_t
date_skip_cfws(const char *s, size_t len, size_t i)
{
	int depth = 0;

	for (; i < len; i++) {
		char c = s[i];

		if (depth > 0) {
			if (c == '\\' && i + 1 < len) {
				i++;
			} else if (c == '(') {
				depth++;
			} else if (c == ')') {
				depth--;
			}
		} else if (c == '(') {
			depth = 1;
		} else if (!is_space(c)) {
			break;
		}
	}
	return i;
}

/* Reads up to max digits from i into *v and their count into *nd;
 * returns the index after them. */
static size_t
date_digits(const char *s, size_t len, size_t i, int max, int *v, int *nd)
{
	*v = 0;
	*nd = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9' && *nd < max) {
		*v = *v * 10 + (s[i] - '0');
		(*nd)++;
		i++;
	}
	/* More digits than a field holds: not a date. */
	if (i < len && s[i] >= '0' && s[i] <= '9') {
		*nd = 0;
	}
	return i;
}

/* Reads letters from i, lowered, into word (the first cap of them);
 * returns the index after them. */
static size_t
date_alpha(const char *s, size_t len, size_t i, char *word, size_t cap,
    size_t *wl)
{
	*wl = 0;
	for (; i < len; i++) {
		int c = (unsigned char)s[i] | 0x20;

		if (c < 'a' || c > 'z') {
			break;
		}
		if (*wl < cap) {
			word[(*wl)++] = (char)c;
		}
	}
	return i;
}

/* 1..12 for "jan", "january", ...; 0 otherwise. */
static int
date_month(const char *w, size_t wl)
{
	static const char *const mon[12] = { "january", "february",
	    "march", "april", "may", "june", "july", "august",
	    "september", "october", "november", "december" };

	if (wl < 3) {
		return 0;
	}
	for (int m = 0; m < 12; m++) {
		if (strncmp(w, mon[m], 3) == 0 && (wl == 3 ||
		    (wl == strlen(mon[m]) && memcmp(w, mon[m], wl) == 0))) {
			return m + 1;
		}
	}
	return 0;
}

static int
date_is_wday(const char *w, size_t wl)
{
	static const char *const day[7] = { "monday", "tuesday",
	    "wednesday", "thursday", "friday", "saturday", "sunday" };

	if (wl < 3) {
		return 0;
	}
	for (int k = 0; k < 7; k++) {
		if (strncmp(w, day[k], 3) == 0 && (wl == 3 ||
		    (wl == strlen(day[k]) && memcmp(w, day[k], wl) == 0))) {
			return 1;
		}
	}
	return 0;
}

/* Minutes east of UTC of a zone name (RFC 5322 4.3); unknown names
 * and military letters are -0000, that is 0. */
static int
date_zone_name(const char *w, size_t wl)
{
	static const struct {
		const char	*name;
		int		 min;
	} zones[] = {
		{ "est", -5 * 60 }, { "edt", -4 * 60 },
		{ "cst", -6 * 60 }, { "cdt", -5 * 60 },
		{ "mst", -7 * 60 }, { "mdt", -6 * 60 },
		{ "pst", -8 * 60 }, { "pdt", -7 * 60 },
	};

	for (size_t k = 0; k < sizeof zones / sizeof zones[0]; k++) {
		if (wl == 3 && memcmp(w, zones[k].name, 3) == 0) {
			return zones[k].min;
		}
	}
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const unsigned char len[12] = { 31, 28, 31, 30, 31, 30, 31,
	    31, 30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) {
		return 29;
	}
	return len[m - 1];
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
