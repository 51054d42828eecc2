/* SPDX-License-Identifier: ISC */
/*
 * fuzz_uidlist.c - libFuzzer harness for the Dovecot Maildir metadata
 * codecs (store/uidlist.h). The input, read by pointer and length only,
 * is tried as a Maildir file name, a dovecot-uidlist header, a record
 * of version 1 and 3 (with every extension key), and a
 * dovecot-keywords line. What is accepted must point inside the input,
 * keep the documented bounds, format into the length the formatter
 * announced (a cap one byte short leaves out untouched), and parse
 * again to the same values; a formatted name formats again to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/uidlist.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define OUT_MAX		(UIDLIST_LINE_MAX + 64)

static char	out[OUT_MAX], out2[OUT_MAX];

static int
inside(const char *p, size_t n, const char *s, size_t len)
{
	return p >= s && n <= len && (size_t)(p - s) <= len - n;
}

/* need must fit; a cap of need leaves out alone. */
static void
check_fit(size_t need, size_t got_with_short_cap)
{
	if (need + 1 > OUT_MAX || got_with_short_cap != need ||
	    out2[0] != '#') {
		abort();
	}
}

static void
fuzz_name(const char *s, size_t len)
{
	struct maildir_name mn, a;
	size_t n, m;

	if (maildir_name_parse(s, len, &mn) == -1) {
		return;
	}
	if (len == 0 || len > MBOX_NAME_MAX || mn.base != s ||
	    mn.baselen == 0 || mn.baselen > len ||
	    memchr(s, '/', len) != NULL || memchr(s, '\0', len) != NULL ||
	    memchr(mn.base, ':', mn.baselen) != NULL ||
	    (mn.keywords >> MAILDIR_KEYWORDS_MAX) != 0 ||
	    (mn.flags & MF_LETTER('D')) || (mn.flags & MF_LETTER('S')) ||
	    (!mn.has_info && (mn.flags || mn.keywords)) ||
	    (!mn.has_size && mn.size) || (!mn.has_vsize && mn.vsize)) {
		abort();
	}
	n = maildir_name_format(out, sizeof out, mn.base, mn.baselen,
	    mn.flags, mn.keywords);
	out2[0] = '#';
	check_fit(n, maildir_name_format(out2, n, mn.base, mn.baselen,
	    mn.flags, mn.keywords));
	if (n < mn.baselen + 3 || n > mn.baselen + 3 + 26 + 26 ||
	    out[n] != '\0') {
		abort();
	}
	/* The canonical name may pass MBOX_NAME_MAX; then it is refused. */
	if (maildir_name_parse(out, n, &a) == -1) {
		if (n <= MBOX_NAME_MAX) {
			abort();
		}
		return;
	}
	if (a.baselen != mn.baselen || memcmp(a.base, mn.base,
	    mn.baselen) != 0 || !a.has_info || a.flags != mn.flags ||
	    a.keywords != mn.keywords || a.has_size != mn.has_size ||
	    a.size != mn.size || a.has_vsize != mn.has_vsize ||
	    a.vsize != mn.vsize) {
		abort();
	}
	m = maildir_name_format(out2, sizeof out2, a.base, a.baselen,
	    a.flags, a.keywords);
	if (m != n || memcmp(out, out2, n) != 0) {
		abort();
	}
}

static void
fuzz_header(const char *s, size_t len)
{
	struct uidlist_header h, a;
	size_t n;

	if (uidlist_parse_header(s, len, &h) == -1) {
		return;
	}
	if ((h.version != 1 && h.version != 3) || h.uidvalidity == 0 ||
	    h.next_uid == 0 || h.guid[32] != '\0' ||
	    (h.guid[0] != '\0' && strlen(h.guid) != 32) ||
	    len > UIDLIST_LINE_MAX) {
		abort();
	}
	n = uidlist_format_header(out, sizeof out, &h);
	out2[0] = '#';
	check_fit(n, uidlist_format_header(out2, n, &h));
	if (n == 0 || out[n - 1] != '\n' || out[n] != '\0' ||
	    uidlist_parse_header(out, n - 1, &a) == -1 || a.version != 3 ||
	    a.uidvalidity != h.uidvalidity || a.next_uid != h.next_uid ||
	    strcmp(a.guid, h.guid) != 0) {
		abort();
	}
}

static void
fuzz_record(const char *s, size_t len, unsigned version)
{
	static const char keys[] = "SWGQ:0 ";
	const char *base, *b2, *v;
	size_t baselen, b2len, vlen, n;
	uint32_t uid, u2;
	int rc;

	rc = uidlist_parse_record(s, len, version, &uid, &base, &baselen);
	for (size_t k = 0; version == 3 && k < sizeof keys - 1; k++) {
		int e = uidlist_record_ext(s, len, keys[k], &v, &vlen);

		if ((e == -1) != (rc == -1) ||
		    (e == 1 && !inside(v, vlen, s, len)) ||
		    (e != 1 && v != NULL)) {
			abort();
		}
		if (e == 1 && (v[-1] != keys[k] || memchr(v, ' ', vlen))) {
			abort();
		}
	}
	if (rc == -1) {
		return;
	}
	if (uid == 0 || uid == UINT32_MAX || baselen == 0 ||
	    baselen > MBOX_NAME_MAX || !inside(base, baselen, s, len) ||
	    memchr(base, '/', baselen) || memchr(base, ':', baselen) ||
	    memchr(base, '\r', baselen) || memchr(base, '\0', baselen)) {
		abort();
	}
	n = uidlist_format_record(out, sizeof out, uid, base, baselen);
	out2[0] = '#';
	check_fit(n, uidlist_format_record(out2, n, uid, base, baselen));
	if (out[n - 1] != '\n' || out[n] != '\0' ||
	    uidlist_parse_record(out, n - 1, 3, &u2, &b2, &b2len) == -1 ||
	    u2 != uid || b2len != baselen ||
	    memcmp(b2, base, baselen) != 0) {
		abort();
	}
}

static void
fuzz_keywords(const char *s, size_t len)
{
	const char *name, *n2;
	size_t namelen, n2len, n;
	unsigned idx, i2;

	if (keywords_parse_line(s, len, &idx, &name, &namelen) == -1) {
		return;
	}
	if (idx >= MAILDIR_KEYWORDS_MAX || namelen == 0 ||
	    !inside(name, namelen, s, len) || memchr(name, ' ', namelen)) {
		abort();
	}
	n = keywords_format_line(out, sizeof out, idx, name, namelen);
	out2[0] = '#';
	check_fit(n, keywords_format_line(out2, n, idx, name, namelen));
	if (out[n - 1] != '\n' ||
	    keywords_parse_line(out, n - 1, &i2, &n2, &n2len) == -1 ||
	    i2 != idx || n2len != namelen || memcmp(n2, name, namelen) != 0) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	if (size > UIDLIST_LINE_MAX + 16) {
		return 0;
	}
	fuzz_name(s, size);
	fuzz_header(s, size);
	fuzz_record(s, size, 1);
	fuzz_record(s, size, 3);
	fuzz_keywords(s, size);
	return 0;
}
