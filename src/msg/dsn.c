/* SPDX-License-Identifier: ISC */
/*
 * dsn.c - DSN parameters and status codes (see dsn.h): NOTIFY lists
 * (RFC 3461 4.1), xtext (RFC 3461 4) and enhanced status codes (RFC
 * 3463 2, 3).
 */
#include <string.h>

#include "msg/dsn.h"

static const struct {
	const char	*name;
	size_t		 len;
	unsigned	 bit;
} notify_words[] = {
	{ "never", 5, DSN_NOTIFY_NEVER },
	{ "success", 7, DSN_NOTIFY_SUCCESS },
	{ "failure", 7, DSN_NOTIFY_FAILURE },
	{ "delay", 5, DSN_NOTIFY_DELAY },
};

#define NWORDS	(sizeof notify_words / sizeof notify_words[0])

static int	hex_value(char);
static int	digits(const char *, size_t, size_t *);

int
dsn_notify_parse(const char *s, size_t len, unsigned *bits)
{
	const char *end = s + len;
	unsigned v = 0;

	if (len == 1 && s[0] == '-') {
		*bits = 0;
		return 0;
	}
	if (len == 0) {
		return -1;
	}
	while (s < end) {
		const char *c = memchr(s, ',', (size_t)(end - s));
		size_t wl = (size_t)((c ? c : end) - s), k;

		for (k = 0; k < NWORDS; k++) {
			if (wl == notify_words[k].len &&
			    memcmp(s, notify_words[k].name, wl) == 0) {
				break;
			}
		}
		if (k == NWORDS || (v & notify_words[k].bit)) {
			return -1;
		}
		v |= notify_words[k].bit;
		s = c ? c + 1 : end;
		if (c != NULL && s == end) {
			return -1;	/* trailing comma */
		}
	}
	if ((v & DSN_NOTIFY_NEVER) && v != DSN_NOTIFY_NEVER) {
		return -1;
	}
	*bits = v;
	return 0;
}

int
dsn_notify_format(unsigned bits, char *out, size_t cap)
{
	size_t n = 0;

	if ((bits & ~DSN_NOTIFY_ALL) != 0 || ((bits & DSN_NOTIFY_NEVER) &&
	    bits != DSN_NOTIFY_NEVER)) {
		return -1;
	}
	if (bits == 0) {
		if (cap < 2) {
			return -1;
		}
		memcpy(out, "-", 2);
		return 1;
	}
	for (size_t k = 0; k < NWORDS; k++) {
		size_t wl = notify_words[k].len;

		if (!(bits & notify_words[k].bit)) {
			continue;
		}
		if (n + (n > 0) + wl + 1 > cap) {
			return -1;
		}
		if (n > 0) {
			out[n++] = ',';
		}
		memcpy(out + n, notify_words[k].name, wl);
		n += wl;
	}
	out[n] = '\0';
	return (int)n;
}

int
dsn_xtext_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '+') {
			if (i + 2 >= len || hex_value(s[i + 1]) < 0 ||
			    hex_value(s[i + 2]) < 0) {
				return 0;
			}
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return 0;
		}
	}
	return 1;
}

int
dsn_xtext_decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	if (!dsn_xtext_valid(s, len)) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '+') {
			c = (char)(hex_value(s[i + 1]) << 4 |
			    hex_value(s[i + 2]));
			i += 2;
		}
		if (n + 1 >= cap) {
			return -1;
		}
		out[n++] = c;
	}
	if (cap == 0) {
		return -1;
	}
	out[n] = '\0';
	return (int)n;
}

int
dsn_xtext_encode(const char *s, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 33 || c > 126 || c == '+' || c == '=') {
			if (n + 3 >= cap) {
				return -1;
			}
			out[n++] = '+';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 0xf];
		} else {
			if (n + 1 >= cap) {
				return -1;
			}
			out[n++] = (char)c;
		}
	}
	if (cap == 0) {
		return -1;
	}
	out[n] = '\0';
	return (int)n;
}

int
dsn_status_class(const char *s, size_t len)
{
	size_t i = 2, d;

	if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.') {
		return 0;
	}
	if (digits(s + i, len - i, &d) == -1) {
		return 0;
	}
	i += d;
	if (i >= len || s[i] != '.') {
		return 0;
	}
	i++;
	if (digits(s + i, len - i, &d) == -1 || i + d != len) {
		return 0;
	}
	return s[0] - '0';
}

const char *
dsn_status_subject(const char *s, size_t len)
{
	static const char *const name[] = {
		"Other or undefined status",
		"Addressing status",
		"Mailbox status",
		"Mail system status",
		"Network and routing status",
		"Mail delivery protocol status",
		"Message content or media status",
		"Security or policy status",
	};

	/* A valid code's subject starts at s[2]; only 1-digit subjects
	 * 0-7 are defined. */
	if (dsn_status_class(s, len) == 0 || s[3] != '.' || s[2] < '0' ||
	    s[2] > '7') {
		return name[0];
	}
	return name[s[2] - '0'];
}

const char *
dsn_status_class_name(const char *s, size_t len)
{
	switch (dsn_status_class(s, len)) {
	case 2:
		return "Success";
	case 4:
		return "Persistent transient failure";
	case 5:
		return "Permanent failure";
	default:
		return "";
	}
}

/* Upper-case hex only, as RFC 3461 4 writes it. */
static int
hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* 1-3 digits at s: their count in *n, or -1. */
static int
digits(const char *s, size_t len, size_t *n)
{
	size_t i = 0;

	while (i < len && i < 4 && s[i] >= '0' && s[i] <= '9') {
		i++;
	}
	if (i == 0 || i > 3) {
		return -1;
	}
	*n = i;
	return 0;
}
