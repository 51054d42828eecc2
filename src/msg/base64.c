/* SPDX-License-Identifier: ISC */
/*
 * base64.c - RFC 4648 base64 (see base64.h).
 */
#include "msg/base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
value(char c)
{
	if (c >= 'A' && c <= 'Z') {
		return c - 'A';
	}
	if (c >= 'a' && c <= 'z') {
		return c - 'a' + 26;
	}
	if (c >= '0' && c <= '9') {
		return c - '0' + 52;
	}
	if (c == '+') {
		return 62;
	}
	if (c == '/') {
		return 63;
	}
	return -1;
}

long
base64_decode(const char *s, size_t len, unsigned char *out, size_t cap)
{
	size_t n = 0;

	if (len % 4 != 0) {
		return -1;
	}
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;

		for (int k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[k] = value(s[i + k])) < 0) {
				return -1;	/* data after '=', or junk */
			}
		}
		if (n + 3 - (size_t)pad > cap) {
			return -1;
		}
		out[n++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2) {
			out[n++] = (unsigned char)((v[1] & 0xf) << 4 |
			    v[2] >> 2);
		}
		if (pad < 1) {
			out[n++] = (unsigned char)((v[2] & 0x3) << 6 | v[3]);
		}
	}
	return (long)n;
}

long
base64_encode(const unsigned char *p, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	if ((len + 2) / 3 * 4 + 1 > cap) {
		return -1;
	}
	for (size_t i = 0; i < len; i += 3) {
		unsigned w = (unsigned)p[i] << 16;

		if (i + 1 < len) {
			w |= (unsigned)p[i + 1] << 8;
		}
		if (i + 2 < len) {
			w |= p[i + 2];
		}
		out[n++] = alphabet[w >> 18 & 63];
		out[n++] = alphabet[w >> 12 & 63];
		out[n++] = i + 1 < len ? alphabet[w >> 6 & 63] : '=';
		out[n++] = i + 2 < len ? alphabet[w & 63] : '=';
	}
	out[n] = '\0';
	return (long)n;
}

long
base64url_encode(const unsigned char *p, size_t len, char *out, size_t cap)
{
	long n = base64_encode(p, len, out, cap);

	for (long i = 0; i < n; i++) {
		if (out[i] == '+') {
			out[i] = '-';
		} else if (out[i] == '/') {
			out[i] = '_';
		} else if (out[i] == '=') {
			out[i] = '\0';		/* only at the end */
			return i;
		}
	}
	return n;
}
