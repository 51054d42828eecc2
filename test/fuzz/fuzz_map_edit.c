/* SPDX-License-Identifier: ISC */
/*
 * fuzz_map_edit.c - libFuzzer harness for the users-file line editor
 * (map/map_edit.h). The first input byte is the length of the name
 * (mod 16) taken from the next bytes; the rest is the file image. For
 * every result it checks what `wren user` relies on: a found span lies
 * on line boundaries within the image; a delete removes exactly that
 * span; an add keeps the image as a prefix and ends in a line end; the
 * name is then found once more (or once, after an add); a password
 * change keeps the bytes before the line and after it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "map/map_edit.h"

#define IMG_MAX	8192
#define SEC	"{PLAIN}s"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	out[IMG_MAX * 2], line[IMG_MAX * 2];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *name, *buf;
	size_t nlen, len, s, e, s2, e2;
	long n;
	int c, c2;

	if (size < 1) {
		return 0;
	}
	nlen = data[0] % 16;
	if (size - 1 < nlen || size - 1 - nlen > IMG_MAX) {
		return 0;
	}
	name = (const char *)data + 1;
	buf = name + nlen;
	len = size - 1 - nlen;
	c = map_edit_find(buf, len, name, nlen, &s, &e);
	if (c == -1) {
		return 0;
	}
	if (s > e || e > len || (c == 0 && (s != len || e != len)) ||
	    (c > 0 && ((s > 0 && buf[s - 1] != '\n') ||
	    (e < len && buf[e - 1] != '\n') || s == e))) {
		abort();
	}
	if (c == 0) {
		n = map_edit_splice(buf, len, s, e, name, nlen, out,
		    sizeof out);
		if (n < (long)len + (long)nlen + 1 ||
		    memcmp(out, buf, len) != 0 || out[n - 1] != '\n') {
			abort();
		}
		return 0;
	}
	n = map_edit_splice(buf, len, s, e, NULL, 0, out, sizeof out);
	if (n != (long)(len - (e - s)) || memcmp(out, buf, s) != 0 ||
	    memcmp(out + s, buf + e, len - e) != 0) {
		abort();
	}
	c2 = map_edit_find(out, (size_t)n, name, nlen, &s2, &e2);
	if (c2 != c - 1) {
		abort();
	}
	n = map_edit_set_secret(buf + s, e - s, SEC, sizeof SEC - 1, line,
	    sizeof line);
	if (n < 0) {
		abort();	/* a found line has a name */
	}
	n = map_edit_splice(buf, len, s, e, line, (size_t)n, out,
	    sizeof out);
	if (n < 0 || memcmp(out, buf, s) != 0 ||
	    memcmp(out + n - (long)(len - e), buf + e, len - e) != 0) {
		abort();
	}
	return 0;
}
