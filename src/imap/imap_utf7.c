/* SPDX-License-Identifier: ISC */
/*
 * imap_utf7.c - mailbox names between UTF-8 (RFC 9051 5.1, IMAP4rev2
 * on the wire) and modified UTF-7 (RFC 3501 5.1.3, as stored), without
 * I/O: see imap_utf7.h.
 */
#include <string.h>

#include "imap/imap_utf7.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int	b64_val(char);
static int	utf8_next(const unsigned char *p, size_t len, size_t *i,
		    uint32_t *cp);
static int	put(char *out, size_t cap, size_t *o, const char *p,
		    size_t n);
static int	end_run(char *out, size_t cap, size_t *o, uint32_t acc,
		    int bits);

int
imap_utf8_to_mutf7(const char *in, size_t len, char *out, size_t cap,
    size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0;
	uint32_t acc = 0, cp;
	int bits = 0, run = 0;

	while (i < len) {
		uint16_t w[2];
		int nw = 0;

		if (utf8_next(p, len, &i, &cp) == -1) {
			return -1;
		}
		if (cp >= 0x20 && cp < 0x7f) {
			if (run && end_run(out, cap, &o, acc, bits) == -1) {
				return -1;
			}
			run = bits = 0;
			acc = 0;
			if (put(out, cap, &o, cp == '&' ? "&-" : (const char *)
			    &p[i - 1], cp == '&' ? 2 : 1) == -1) {
				return -1;
			}
			continue;
		}
		if (!run && put(out, cap, &o, "&", 1) == -1) {
			return -1;
		}
		run = 1;
		if (cp >= 0x10000) {	/* UTF-16 surrogates */
			w[nw++] = (uint16_t)(0xd800 + ((cp - 0x10000) >> 10));
			w[nw++] = (uint16_t)(0xdc00 + ((cp - 0x10000) &
			    0x3ff));
		} else {
			w[nw++] = (uint16_t)cp;
		}
		for (int k = 0; k < nw; k++) {
			acc = (acc << 16) | w[k];
			bits += 16;
			while (bits >= 6) {
				bits -= 6;
				if (put(out, cap, &o, &b64[(acc >> bits) &
				    0x3f], 1) == -1) {
					return -1;
				}
			}
			acc &= (1u << bits) - 1;
		}
	}
	if (run && end_run(out, cap, &o, acc, bits) == -1) {
		return -1;
	}
	*outlen = o;
	return 0;
}

/* The last bits of a base64 run (zero-padded), then its '-'. */
static int
end_run(char *out, size_t cap, size_t *o, uint32_t acc, int bits)
{
	if (bits > 0 && put(out, cap, o, &b64[(acc << (6 - bits)) & 0x3f],
	    1) == -1) {
		return -1;
	}
	return put(out, cap, o, "-", 1);
}

size_t
imap_mutf7_to_utf8(const char *in, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < len) {
		uint32_t acc = 0, hi = 0;
		int bits = 0;
		size_t j;

		if ((unsigned char)in[i] >= 0x80) {
			return cap + 1;		/* not 7-bit: not mUTF-7 */
		}
		if (in[i] != '&') {
			if (put(out, cap, &o, in + i, 1) == -1) {
				return cap + 1;
			}
			i++;
			continue;
		}
		if (i + 1 < len && in[i + 1] == '-') {
			if (put(out, cap, &o, "&", 1) == -1) {
				return cap + 1;
			}
			i += 2;
			continue;
		}
		for (j = i + 1; j < len && in[j] != '-'; j++) {
			int v = b64_val(in[j]);
			uint32_t cp;
			char u[4];
			size_t n;

			if (v < 0) {
				return cap + 1;
			}
			acc = (acc << 6) | (uint32_t)v;
			bits += 6;
			if (bits < 16) {
				continue;
			}
			cp = (acc >> (bits - 16)) & 0xffff;
			bits -= 16;
			acc &= (1u << bits) - 1;
			if (cp >= 0xd800 && cp < 0xdc00) {
				hi = cp;
				continue;
			}
			if (cp >= 0xdc00 && cp < 0xe000) {
				if (hi == 0) {
					return cap + 1;
				}
				cp = 0x10000 + ((hi - 0xd800) << 10) +
				    (cp - 0xdc00);
				hi = 0;
			}
			if (cp < 0x80) {
				u[0] = (char)cp;
				n = 1;
			} else if (cp < 0x800) {
				u[0] = (char)(0xc0 | cp >> 6);
				u[1] = (char)(0x80 | (cp & 0x3f));
				n = 2;
			} else if (cp < 0x10000) {
				u[0] = (char)(0xe0 | cp >> 12);
				u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
				u[2] = (char)(0x80 | (cp & 0x3f));
				n = 3;
			} else {
				u[0] = (char)(0xf0 | cp >> 18);
				u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
				u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
				u[3] = (char)(0x80 | (cp & 0x3f));
				n = 4;
			}
			if (put(out, cap, &o, u, n) == -1) {
				return cap + 1;
			}
		}
		if (j >= len || hi != 0) {
			return cap + 1;		/* unterminated */
		}
		i = j + 1;
	}
	return o;
}

static int
b64_val(char c)
{
	const char *p = c != '\0' ? strchr(b64, c) : NULL;

	return p != NULL ? (int)(p - b64) : -1;
}

/* The code point at p[*i] (UTF-8, shortest form, no surrogates): 0,
 * or -1. */
static int
utf8_next(const unsigned char *p, size_t len, size_t *i, uint32_t *cp)
{
	unsigned char c = p[*i];
	int n = c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 :
	    c >= 0xf0 && c < 0xf5 ? 3 : -1;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		(*i)++;
		return 0;
	}
	if (n < 0 || len - *i <= (size_t)n) {
		return -1;
	}
	v = c & (0x3fu >> n);
	for (int k = 1; k <= n; k++) {
		if ((p[*i + (size_t)k] & 0xc0) != 0x80) {
			return -1;
		}
		v = (v << 6) | (p[*i + (size_t)k] & 0x3f);
	}
	if ((n == 2 && (v < 0x800 || (v >= 0xd800 && v < 0xe000))) ||
	    (n == 3 && (v < 0x10000 || v > 0x10ffff))) {
		return -1;
	}
	*i += (size_t)n + 1;
	*cp = v;
	return 0;
}

static int
put(char *out, size_t cap, size_t *o, const char *p, size_t n)
{
	if (n > cap - *o) {
		return -1;
	}
	memcpy(out + *o, p, n);
	*o += n;
	return 0;
}
