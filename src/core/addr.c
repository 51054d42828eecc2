/* SPDX-License-Identifier: ISC */
/*
 * addr.c - IPv4 and IPv6 addresses to text (RFC 5952 for IPv6).
 */
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "fmt.h"

#define ADDR_LABEL_MAX	63	/* RFC 1035 2.3.4 */
#define ADDR_HOST_MAX	253	/* RFC 1035 2.3.4, in text form */

static int	v4_text(char *, size_t, const uint8_t *);

int
addr_text(char *out, size_t cap, int family, const uint8_t *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	int best = -1, bestlen = 0, run = -1, n;
	size_t len = 0;
	uint16_t g[8];

	if (family == AF_INET) {
		return v4_text(out, cap, a);
	}
	if (family != AF_INET6) {
		return -1;
	}
	if (memcmp(a, mapped, sizeof mapped) == 0) {
		if (cap < 8) {
			return -1;
		}
		memcpy(out, "::ffff:", 7);
		n = v4_text(out + 7, cap - 7, a + 12);
		return n < 0 ? -1 : n + 7;
	}
	for (int i = 0; i < 8; i++) {
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	}
	/* The longest run of zero groups (at least two) becomes "::". */
	for (int i = 0; i <= 8; i++) {
		if (i < 8 && g[i] == 0) {
			if (run == -1) {
				run = i;
			}
		} else if (run != -1) {
			if (i - run > bestlen && i - run >= 2) {
				best = run;
				bestlen = i - run;
			}
			run = -1;
		}
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			n = fmt(out + len, cap - len, "::");
			i += bestlen - 1;
		} else {
			n = fmt(out + len, cap - len, "%s%x",
			    (i > 0 && i != best + bestlen) ? ":" : "", g[i]);
		}
		if (n < 0 || (size_t)n >= cap - len) {
			return -1;
		}
		len += (size_t)n;
	}
	return (int)len;
}

int
addr_check_domain(const char *d, size_t len, int allow_utf8)
{
	size_t label = 0;

	if (len > 0 && d[len - 1] == '.') {
		len--;
	}
	if (len == 0 || len > ADDR_HOST_MAX) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0 || d[i - 1] == '-') {
				return -1;
			}
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' ||
		    (c >= 0x80 && allow_utf8) || (c == '-' && label > 0))) {
			return -1;
		}
		if (++label > ADDR_LABEL_MAX) {
			return -1;
		}
	}
	/* label == 0: an empty last label ("b.." ends in "b."). */
	return (label == 0 || d[len - 1] == '-') ? -1 : 0;
}

static int
v4_text(char *out, size_t cap, const uint8_t *a)
{
	int n = fmt(out, cap, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);

	return (n < 0 || (size_t)n >= cap) ? -1 : n;
}
