/* SPDX-License-Identifier: ISC */
/*
 * map_edit.c - one account's line of a users file, edited in a text
 * image (see map_edit.h). Sans-I/O: the caller reads and writes the
 * file, under its lock.
 */
#include <string.h>

#include "map_edit.h"

static int	is_ws(char);
static int	lower(int);
static size_t	name_at(const char *, size_t, size_t *);

int
map_edit_find(const char *buf, size_t len, const char *name, size_t nlen,
    size_t *start, size_t *end)
{
	size_t pos = 0;
	int n = 0;

	*start = *end = len;
	if (memchr(buf, '\0', len) != NULL) {
		return -1;
	}
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t le = nl ? (size_t)(nl - buf) : len, ks, kl, i;

		kl = name_at(buf + pos, le - pos, &ks);
		if (kl == nlen && kl > 0) {
			for (i = 0; i < kl; i++) {
				if (lower((unsigned char)buf[pos + ks + i]) !=
				    lower((unsigned char)name[i])) {
					break;
				}
			}
			if (i == kl && n++ == 0) {
				*start = pos;
				*end = nl ? le + 1 : len;
			}
		}
		pos = nl ? le + 1 : len;
	}
	return n;
}

long
map_edit_splice(const char *buf, size_t len, size_t start, size_t end,
    const char *line, size_t llen, char *out, size_t cap)
{
	const char *eol = "\n", *nl;
	size_t pre = 0, n;

	if (start > end || end > len) {
		return -1;
	}
	if (start == len) {
		/* Appending: the file's style of line end. */
		nl = memchr(buf, '\n', len);
		if (nl != NULL && nl > buf && nl[-1] == '\r') {
			eol = "\r\n";
		}
		pre = len > 0 && buf[len - 1] != '\n' ? strlen(eol) : 0;
	} else if (buf[end - 1] != '\n') {
		eol = "";		/* the last line, unterminated */
	} else if (end - start >= 2 && buf[end - 2] == '\r') {
		eol = "\r\n";
	}
	if (line == NULL) {
		llen = 0;
		eol = "";
	}
	n = start + pre + llen + strlen(eol) + (len - end);
	if (n > cap || n > (size_t)((unsigned long)-1 >> 1)) {
		return -1;
	}
	memcpy(out, buf, start);
	memcpy(out + start, eol, pre);
	if (llen > 0) {
		memcpy(out + start + pre, line, llen);
	}
	memcpy(out + start + pre + llen, eol, strlen(eol));
	memcpy(out + n - (len - end), buf + end, len - end);
	return (long)n;
}

long
map_edit_set_secret(const char *line, size_t llen, const char *secret,
    size_t slen, char *out, size_t cap)
{
	size_t ks, kl = name_at(line, llen, &ks), rest, n;
	const char *c;

	if (kl == 0) {
		return -1;
	}
	/* After "name:" the password runs to the next ':' (or the end,
	 * less trailing white space, which map_text trims too). */
	rest = ks + kl + 1;
	if ((c = memchr(line + rest, ':', llen - rest)) != NULL) {
		rest = (size_t)(c - line);
	} else {
		rest = llen;
		while (rest > ks + kl + 1 && is_ws(line[rest - 1])) {
			rest--;
		}
	}
	n = ks + kl + 1 + slen + (llen - rest);
	if (n > cap || n > (size_t)((unsigned long)-1 >> 1)) {
		return -1;
	}
	memcpy(out, line, ks + kl);
	out[ks + kl] = ':';
	memcpy(out + ks + kl + 1, secret, slen);
	memcpy(out + ks + kl + 1 + slen, line + rest, llen - rest);
	return (long)n;
}

/* The name of an entry line s[0..len): its length (0 for a comment or
 * a blank line, or a line without ':') and offset *at: the ':'
 * follows it. */
static size_t
name_at(const char *s, size_t len, size_t *at)
{
	const char *c;
	size_t b = 0;

	while (b < len && is_ws(s[b])) {
		b++;
	}
	*at = b;
	if (b == len || s[b] == '#') {
		return 0;
	}
	c = memchr(s + b, ':', len - b);
	return c ? (size_t)(c - s) - b : 0;
}

/* As map_text: a CR before the newline is white space. */
static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c;
}
