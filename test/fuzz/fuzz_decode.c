/* SPDX-License-Identifier: ISC */
/*
 * fuzz_decode.c - libFuzzer harness for the SEARCH text helpers
 * (msg/decode.h, msg/match.h). Input: one octet choosing the needle
 * length, one seeding the chunk sizes and output caps, then the text.
 *
 * Besides the sanitizers, it checks what SEARCH relies on:
 *   - every streaming decoder (each Content-Transfer-Encoding, each
 *     charset) gives the same output fed whole or in random chunks
 *     through small output buffers, never more output than 1 (bodies)
 *     or 3 (charsets) times the input, and known charsets give valid
 *     UTF-8;
 *   - decode_header with a smaller cap gives a prefix of its output,
 *     and with exactly its length the same output;
 *   - the header walker gives the same fields whole and chunked;
 *   - a parsed Date: is in range and parses the same once written out;
 *   - the matcher, whole or chunked, agrees with a naive search over a
 *     separately written folding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg/decode.h"
#include "msg/match.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define IN_MAX		8192
#define OUT_MAX		(3 * IN_MAX + 16)

static uint32_t	rs;

static unsigned char	ref[OUT_MAX], got[OUT_MAX];
static struct decode_hdr	hdr;

static uint32_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs;
}

/* ---------------------------------------------------------------- */
/* Streaming decoders */

enum { K_BODY, K_CS };

struct stream {
	int			kind;
	struct decode_body	b;
	struct decode_cs	c;
};

static size_t
run(int kind, const char *name, const uint8_t *in, size_t len, int chunked,
    unsigned char *out)
{
	struct stream s;
	unsigned char buf[16];
	size_t off = 0, n = 0, k, used, cap = chunked ? 1 + rnd() % 16 :
	    sizeof buf;

	s.kind = kind;
	if (kind == K_BODY) {
		decode_body_init(&s.b, name, strlen(name));
	} else {
		decode_cs_init(&s.c, name, strlen(name));
	}
	while (off < len) {
		size_t clen = chunked ? 1 + rnd() % 64 : len - off;

		if (clen > len - off) {
			clen = len - off;
		}
		while (clen > 0) {
			if (kind == K_BODY) {
				k = decode_body_feed(&s.b, in + off, clen,
				    &used, buf, cap);
			} else {
				k = decode_cs_feed(&s.c, in + off, clen, &used,
				    buf, cap);
			}
			if (k > cap || used > clen || (k == 0 && used == 0) ||
			    n + k > OUT_MAX) {
				abort();
			}
			memcpy(out + n, buf, k);
			n += k;
			off += used;
			clen -= used;
		}
	}
	for (;;) {
		k = kind == K_BODY ? decode_body_end(&s.b, buf, cap) :
		    decode_cs_end(&s.c, buf, cap);
		if (k == 0) {
			break;
		}
		if (k > cap || n + k > OUT_MAX) {
			abort();
		}
		memcpy(out + n, buf, k);
		n += k;
	}
	return n;
}

/* Is p[0..len) valid UTF-8 (no overlongs, surrogates, > U+10FFFF)? */
static int
valid_utf8(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i], need;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc0 && c < 0xe0) {
			need = 1, cp = c & 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c < 0xf0) {
			need = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c < 0xf8) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (i + need >= len) {
			return 0;
		}
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80) {
				return 0;
			}
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff)) {
			return 0;
		}
		i += need + 1;
	}
	return 1;
}

static void
check_streams(const uint8_t *in, size_t len)
{
	static const char *const ctes[] = { "quoted-printable", "base64",
	    "7bit" };
	static const char *const css[] = { "utf-8", "iso-8859-1",
	    "iso-8859-15", "windows-1252", "x-unknown" };
	size_t n1, n2;

	for (size_t i = 0; i < sizeof ctes / sizeof ctes[0]; i++) {
		n1 = run(K_BODY, ctes[i], in, len, 0, ref);
		n2 = run(K_BODY, ctes[i], in, len, 1, got);
		if (n1 != n2 || memcmp(ref, got, n1) != 0 || n1 > len) {
			abort();
		}
	}
	for (size_t i = 0; i < sizeof css / sizeof css[0]; i++) {
		n1 = run(K_CS, css[i], in, len, 0, ref);
		n2 = run(K_CS, css[i], in, len, 1, got);
		if (n1 != n2 || memcmp(ref, got, n1) != 0 || n1 > 3 * len) {
			abort();
		}
		if (i < 4 && !valid_utf8(ref, n1)) {
			abort();
		}
		/* Valid UTF-8 passes unchanged. */
		if (i == 0 && valid_utf8(in, len) &&
		    (n1 != len || memcmp(ref, in, len) != 0)) {
			abort();
		}
	}
}

/* ---------------------------------------------------------------- */
/* Encoded words */

static void
check_header(const uint8_t *in, size_t len)
{
	size_t n, k, cap;

	n = decode_header((const char *)in, len, (char *)ref, OUT_MAX);
	if (n > 3 * len) {
		abort();
	}
	k = decode_header((const char *)in, len, (char *)got, n);
	if (k != n || memcmp(ref, got, n) != 0) {
		abort();
	}
	cap = n > 0 ? rnd() % n : 0;
	k = decode_header((const char *)in, len, (char *)got, cap);
	if (k > cap || memcmp(ref, got, k) != 0) {
		abort();
	}
	k = decode_unfold((const char *)in, len, (char *)got, OUT_MAX);
	if (k > len || memchr(got, '\n', k) != NULL ||
	    memchr(got, '\r', k) != NULL) {
		abort();
	}
}

/* ---------------------------------------------------------------- */
/* Header walker */

static size_t
walk(const uint8_t *in, size_t len, int chunked, unsigned char *out)
{
	struct decode_field f;
	size_t off = 0, n = 0;
	int ev, stall = 0;

	decode_hdr_init(&hdr);
	for (;;) {
		size_t clen = chunked ? 1 + rnd() % 32 : len - off, used;

		if (clen > len - off) {
			clen = len - off;
		}
		used = decode_hdr_feed(&hdr, in + off, clen);
		if (used > clen) {
			abort();
		}
		off += used;
		if (off == len) {
			decode_hdr_finish(&hdr);
		}
		stall = used == 0 ? stall + 1 : 0;
		while ((ev = decode_hdr_next(&hdr, &f)) != DECODE_HDR_NONE) {
			stall = 0;
			if (ev == DECODE_HDR_END) {
				n += (size_t)snprintf((char *)out + n,
				    OUT_MAX - n, "END %zu\n", off);
				return n;
			}
			if (f.name_len == 0 || f.name_len > DECODE_NAME_MAX ||
			    f.value_len > DECODE_HEADER_MAX ||
			    memchr(f.value, '\n', f.value_len) != NULL ||
			    memchr(f.name, ':', f.name_len) != NULL ||
			    n + f.name_len + f.value_len + 8 > OUT_MAX) {
				abort();
			}
			memcpy(out + n, f.name, f.name_len);
			n += f.name_len;
			out[n++] = ':';
			memcpy(out + n, f.value, f.value_len);
			n += f.value_len;
			out[n++] = f.cut ? '!' : '\n';
		}
		if (stall > 1) {
			abort();
		}
	}
}

static void
check_walk(const uint8_t *in, size_t len)
{
	size_t n1, n2;

	n1 = walk(in, len, 0, ref);
	n2 = walk(in, len, 1, got);
	if (n1 != n2 || memcmp(ref, got, n1) != 0) {
		abort();
	}
}

/* ---------------------------------------------------------------- */
/* Date: */

static void
check_date(const uint8_t *in, size_t len)
{
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct decode_date d, e;
	char buf[80];
	int64_t secs;
	int z, n;

	if (decode_date((const char *)in, len, &d) != 0) {
		return;
	}
	if (d.mon < 1 || d.mon > 12 || d.day < 1 || d.day > 31 ||
	    d.year < 0 || d.year > 9999 || d.zone < -6000 || d.zone > 6000 ||
	    d.days != decode_days(d.year, d.mon, d.day)) {
		abort();
	}
	secs = d.t + (int64_t)d.zone * 60 - (int64_t)d.days * 86400;
	if (secs < 0 || secs > 86400) {
		abort();
	}
	if (secs == 86400) {
		return;		/* a leap second: 23:59:60 */
	}
	z = d.zone < 0 ? -d.zone : d.zone;
	n = snprintf(buf, sizeof buf, "%d %s %04d %02d:%02d:%02d %c%02d%02d",
	    d.day, mon[d.mon - 1], d.year, (int)(secs / 3600),
	    (int)(secs / 60 % 60), (int)(secs % 60), d.zone < 0 ? '-' : '+',
	    z / 60, z % 60);
	if (decode_date(buf, (size_t)n, &e) != 0 || e.t != d.t ||
	    e.year != d.year || e.mon != d.mon || e.day != d.day ||
	    e.zone != d.zone) {
		abort();
	}
}

/* ---------------------------------------------------------------- */
/* Matcher against a naive search */

/* Simple case folding, written apart from match.c: pairs listed by
 * their capital. */
static uint32_t
nfold(uint32_t c)
{
	static const struct {
		uint32_t	from, to, step;	/* capitals from..to */
		int32_t		delta;
	} r[] = {
		{ 'A', 'Z', 1, 32 },
		{ 0xc0, 0xd6, 1, 32 },
		{ 0xd8, 0xde, 1, 32 },
		{ 0x100, 0x12e, 2, 1 },
		{ 0x132, 0x136, 2, 1 },
		{ 0x139, 0x147, 2, 1 },
		{ 0x14a, 0x176, 2, 1 },
		{ 0x179, 0x17d, 2, 1 },
		{ 0x388, 0x38a, 1, 37 },
		{ 0x38e, 0x38f, 1, 63 },
		{ 0x391, 0x3a1, 1, 32 },
		{ 0x3a3, 0x3ab, 1, 32 },
		{ 0x400, 0x40f, 1, 80 },
		{ 0x410, 0x42f, 1, 32 },
	};
	static const uint32_t one[][2] = {
		{ 0xb5, 0x3bc }, { 0x178, 0xff }, { 0x17f, 's' },
		{ 0x386, 0x3ac }, { 0x38c, 0x3cc }, { 0x3c2, 0x3c3 },
		{ 0x1e9e, 0xdf }, { 0x212a, 'k' }, { 0x212b, 0xe5 },
	};

	for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
		if (c >= r[i].from && c <= r[i].to &&
		    (c - r[i].from) % r[i].step == 0) {
			return (uint32_t)((int32_t)c + r[i].delta);
		}
	}
	for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
		if (c == one[i][0]) {
			return one[i][1];
		}
	}
	return c;
}

/* Folds p[0..len) into out: each valid character folded, every other
 * octet as it is. */
static size_t
nfold_text(const uint8_t *p, size_t len, unsigned char *out)
{
	size_t i = 0, n = 0, sl;

	while (i < len) {
		uint32_t cp;

		if (p[i] < 0x80) {
			out[n++] = (unsigned char)nfold(p[i]);
			i++;
			continue;
		}
		sl = p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : p[i] >= 0xc0 ? 2 :
		    1;
		if (sl == 1 || i + sl > len || !valid_utf8(p + i, sl)) {
			sl = 0;
		}
		if (sl == 0) {
			out[n++] = p[i++];
			continue;
		}
		cp = p[i] & (0x7f >> sl);
		for (size_t k = 1; k < sl; k++) {
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		i += sl;
		cp = nfold(cp);
		if (cp < 0x80) {
			out[n++] = (unsigned char)cp;
		} else if (cp < 0x800) {
			out[n++] = (unsigned char)(0xc0 | cp >> 6);
			out[n++] = (unsigned char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			out[n++] = (unsigned char)(0xe0 | cp >> 12);
			out[n++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
			out[n++] = (unsigned char)(0x80 | (cp & 0x3f));
		} else {
			out[n++] = (unsigned char)(0xf0 | cp >> 18);
			out[n++] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
			out[n++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
			out[n++] = (unsigned char)(0x80 | (cp & 0x3f));
		}
	}
	return n;
}

static void
check_match(const uint8_t *needle, size_t nl, const uint8_t *hay,
    size_t hl)
{
	static unsigned char fn[IN_MAX], fh[IN_MAX];
	static struct match m;
	size_t fnl, fhl, off;
	int want, r1, r2;

	fnl = nfold_text(needle, nl, fn);
	fhl = nfold_text(hay, hl, fh);
	if (fnl > nl || fhl > hl) {
		abort();
	}
	want = fnl == 0 || (fhl >= fnl && memmem(fh, fhl, fn, fnl) != NULL);
	r1 = match_in((const char *)needle, nl, (const char *)hay, hl);
	if (match_init(&m, (const char *)needle, nl) != 0) {
		abort();
	}
	for (off = 0; off < hl;) {
		size_t c = 1 + rnd() % 16;

		c = c > hl - off ? hl - off : c;
		match_feed(&m, hay + off, c);
		off += c;
	}
	r2 = match_end(&m);
	if (r1 != want || r2 != want) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p;
	size_t len, nl;

	if (size < 2 || size - 2 > IN_MAX) {
		return 0;
	}
	p = data + 2;
	len = size - 2;
	rs = 0x9e3779b9u ^ data[1];
	check_streams(p, len);
	check_header(p, len);
	check_walk(p, len);
	check_date(p, len);
	nl = data[0] % 16;
	nl = nl > len ? len : nl;
	check_match(p, nl, p + nl, len - nl);
	/* A needle from inside the haystack is always found. */
	if (len > 0) {
		size_t at = data[1] % len, l = data[0] % 8;

		l = l > len - at ? len - at : l;
		if (match_in((const char *)p + at, l, (const char *)p, len) !=
		    1) {
			/* Not so for invalid UTF-8 cut apart: only for
			 * slices of valid text. */
			if (valid_utf8(p, len) &&
			    (at == 0 || (p[at] & 0xc0) != 0x80) &&
			    (at + l == len || (p[at + l] & 0xc0) != 0x80)) {
				abort();
			}
		}
	}
	return 0;
}
