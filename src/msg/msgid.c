/* SPDX-License-Identifier: ISC */
/*
 * msgid.c - message IDs out of Message-ID, References and In-Reply-To
 * values (RFC 5322 3.6.4), for THREAD=REFERENCES (RFC 5256 3).
 */
#include <string.h>

#include "msg/msgid.h"

static int	id_valid(const char *p, size_t len);

int
msgid_next(const char *p, size_t len, size_t *pos, const char **id,
    size_t *idlen)
{
	size_t i = *pos;

	while (i < len) {
		const char *lt = memchr(p + i, '<', len - i);
		const char *gt;
		size_t b, n;

		if (lt == NULL) {
			break;
		}
		b = (size_t)(lt - p) + 1;
		gt = memchr(p + b, '>', len - b);
		if (gt == NULL) {
			break;
		}
		n = (size_t)(gt - p) - b;
		if (!id_valid(p + b, n)) {
			/* "<a <b@c>": the second '<' may open a good one. */
			const char *lt2 = memchr(p + b, '<', n);

			i = lt2 != NULL ? (size_t)(lt2 - p) : b + n + 1;
			continue;
		}
		*id = p + b;
		*idlen = n;
		*pos = b + n + 1;
		return 1;
	}
	*pos = len;
	return 0;
}

/* id-left "@" id-right with no space, control, '<' or '"'. */
static int
id_valid(const char *p, size_t len)
{
	const char *at;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= ' ' || c == 0x7f || c == '<' || c == '"') {
			return 0;
		}
	}
	at = len > 0 ? memchr(p, '@', len) : NULL;
	return at != NULL && at > p && at < p + len - 1 &&
	    memchr(at + 1, '@', (size_t)(p + len - at - 1)) == NULL;
}
