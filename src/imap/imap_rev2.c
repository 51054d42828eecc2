/*
 * imap_rev2.c - what IMAP4rev2 (RFC 9051) changes once a client sends
 * ENABLE IMAP4rev2 (6.3.1, appendix E): mailbox names are UTF-8 on
 * the wire (appendix E 1; 6.3.9), while the store keeps them in
 * modified UTF-7 (RFC 3501 5.1.3), as Dovecot's Maildir++ does; and
 * SELECT and EXAMINE answer with a LIST of the mailbox (6.3.2).
 *
 * The other changes are one test of s->rev2 where they happen: no
 * RECENT responses and no \Recent flag (imap_out.c), no [UNSEEN] at
 * SELECT (imap_session.c).
 */
#include <string.h>

#include "imap/imap_int.h"
#include "store/folder_name.h"

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
imap_name_arg(const struct imap_session *s, const struct imap_arg *a,
    char *buf, size_t cap, size_t *len)
{
	char u[FOLDER_NAME_MAX + 1];
	size_t n, i;

	if (imap_arg_str(a, buf, cap, len) == -1) {
		return -1;
	}
	if (!s->rev2) {
		return 0;
	}
	for (i = 0; i < *len && (unsigned char)buf[i] < 0x80 &&
	    buf[i] != '&'; i++) {
	}
	if (i == *len) {
		return 0;	/* ASCII without '&': the same either way */
	}
	if (*len > sizeof u) {
		return -1;
	}
	memcpy(u, buf, *len);
	if (imap_utf8_to_mutf7(u, *len, buf, cap, &n) == -1) {
		return -1;
	}
	*len = n;
	return 0;
}

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

size_t
imap_name_out(const struct imap_session *s, const char *name, size_t len,
    char *out, size_t cap)
{
	char u[2 * FOLDER_NAME_MAX];
	size_t n = len;

	if (s->rev2) {
		n = imap_mutf7_to_utf8(name, len, u, sizeof u);
		if (n <= sizeof u) {
			name = u;	/* else not mUTF-7: as it is */
		} else {
			n = len;
		}
	}
	return imap_astring_fmt(out, cap, name, n);
}

void
imap_rev2_select_list(struct imap_session *s, const char *name,
    size_t len)
{
	char q[4 * FOLDER_NAME_MAX + 16];
	size_t n = imap_name_out(s, name, len, q, sizeof q);

	if (n <= sizeof q) {
		(void)imap_outf(s, "* LIST () \".\" %.*s\r\n", (int)n, q);
	}
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
