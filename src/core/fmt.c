/* SPDX-License-Identifier: ISC */
/*
 * fmt.c - printf-style formatting without floating point (see fmt.h).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"

struct out {
	char	*dst;
	size_t	 cap;
	size_t	 len;		/* what the full output would have */
};

enum lenmod { LM_NONE, LM_HH, LM_H, LM_L, LM_LL, LM_Z, LM_J, LM_T };

static void	put(struct out *, char);
static void	put_pad(struct out *, char, int);
static void	put_str(struct out *, const char *, size_t);
static void	put_num(struct out *, uintmax_t, int, int, int, int, int,
		    int, int);

int
fmt(char *dst, size_t cap, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vfmt(dst, cap, f, ap);
	va_end(ap);
	return n;
}

int
fmt_fd(int fd, const char *f, ...)
{
	char buf[FMT_FD_MAX];
	va_list ap;
	size_t len, off = 0;
	ssize_t w;
	int n;

	va_start(ap, f);
	n = vfmt(buf, sizeof buf, f, ap);
	va_end(ap);
	if (n < 0) {
		return -1;
	}
	len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
	while (off < len) {
		w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

int
vfmt(char *dst, size_t cap, const char *f, va_list ap)
{
	struct out o = { dst, cap, 0 };

	while (*f != '\0') {
		int left = 0, zero = 0, width = 0, prec = -1;
		enum lenmod lm = LM_NONE;
		uintmax_t u;
		intmax_t s;
		const char *str;

		if (*f != '%') {
			put(&o, *f++);
			continue;
		}
		f++;
		for (;; f++) {
			if (*f == '-') {
				left = 1;
			} else if (*f == '0') {
				zero = 1;
			} else {
				break;
			}
		}
		if (*f == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = 1;
				width = -width;
			}
			f++;
		} else {
			while (*f >= '0' && *f <= '9') {
				width = width * 10 + (*f++ - '0');
			}
		}
		if (*f == '.') {
			f++;
			prec = 0;
			if (*f == '*') {
				prec = va_arg(ap, int);
				f++;
			} else {
				while (*f >= '0' && *f <= '9') {
					prec = prec * 10 + (*f++ - '0');
				}
			}
		}
		switch (*f) {
		case 'h':
			lm = (f[1] == 'h') ? LM_HH : LM_H;
			f += (lm == LM_HH) ? 2 : 1;
			break;
		case 'l':
			lm = (f[1] == 'l') ? LM_LL : LM_L;
			f += (lm == LM_LL) ? 2 : 1;
			break;
		case 'z': lm = LM_Z; f++; break;
		case 'j': lm = LM_J; f++; break;
		case 't': lm = LM_T; f++; break;
		default: break;
		}
		switch (*f) {
		case 'd':
		case 'i':
			switch (lm) {
			case LM_L: s = va_arg(ap, long); break;
			case LM_LL: s = va_arg(ap, long long); break;
			case LM_Z: s = va_arg(ap, ssize_t); break;
			case LM_J: s = va_arg(ap, intmax_t); break;
			case LM_T: s = va_arg(ap, ptrdiff_t); break;
			case LM_HH: s = (signed char)va_arg(ap, int); break;
			case LM_H: s = (short)va_arg(ap, int); break;
			default: s = va_arg(ap, int); break;
			}
			u = s < 0 ? (uintmax_t)0 - (uintmax_t)s : (uintmax_t)s;
			put_num(&o, u, s < 0, 10, 0, width, prec, left, zero);
			break;
		case 'u':
		case 'x':
		case 'X':
			switch (lm) {
			case LM_L: u = va_arg(ap, unsigned long); break;
			case LM_LL: u = va_arg(ap, unsigned long long); break;
			case LM_Z: u = va_arg(ap, size_t); break;
			case LM_J: u = va_arg(ap, uintmax_t); break;
			case LM_T: u = (uintmax_t)va_arg(ap, ptrdiff_t); break;
			case LM_HH: u = (unsigned char)va_arg(ap, unsigned);
				break;
			case LM_H: u = (unsigned short)va_arg(ap, unsigned);
				break;
			default: u = va_arg(ap, unsigned); break;
			}
			put_num(&o, u, 0, *f == 'u' ? 10 : 16, *f == 'X',
			    width, prec, left, zero);
			break;
		case 'p':
			put_str(&o, "0x", 2);
			u = (uintmax_t)(uintptr_t)va_arg(ap, void *);
			put_num(&o, u, 0, 16, 0, 0, -1, 0, 0);
			break;
		case 'c':
			if (!left) {
				put_pad(&o, ' ', width - 1);
			}
			put(&o, (char)va_arg(ap, int));
			if (left) {
				put_pad(&o, ' ', width - 1);
			}
			break;
		case 's': {
			size_t n;

			str = va_arg(ap, const char *);
			if (str == NULL) {
				str = "(null)";
			}
			if (prec >= 0) {
				const char *nul = memchr(str, '\0',
				    (size_t)prec);
				n = nul ? (size_t)(nul - str) : (size_t)prec;
			} else {
				n = strlen(str);
			}
			if (!left) {
				put_pad(&o, ' ', width - (int)n);
			}
			put_str(&o, str, n);
			if (left) {
				put_pad(&o, ' ', width - (int)n);
			}
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			/* A lone '%' at the end: print it, stop. */
			put(&o, '%');
			f--;
			break;
		default:
			/* Unknown conversion: copy it verbatim. */
			put(&o, '%');
			put(&o, *f);
			break;
		}
		f++;
	}
	if (o.cap > 0) {
		o.dst[o.len < o.cap ? o.len : o.cap - 1] = '\0';
	}
	return o.len > INT32_MAX ? -1 : (int)o.len;
}

static void
put(struct out *o, char c)
{
	if (o->len + 1 < o->cap) {
		o->dst[o->len] = c;
	}
	o->len++;
}

static void
put_pad(struct out *o, char c, int n)
{
	while (n-- > 0) {
		put(o, c);
	}
}

static void
put_str(struct out *o, const char *s, size_t n)
{
	while (n-- > 0) {
		put(o, *s++);
	}
}

/* Digits are produced backwards into a buffer wide enough for a 64-bit
 * value in base 10 (20 digits). */
static void
put_num(struct out *o, uintmax_t u, int neg, int base, int upper,
    int width, int prec, int left, int zero)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, len;

	do {
		tmp[n++] = digits[u % (unsigned)base];
		u /= (unsigned)base;
	} while (u != 0 && n < (int)sizeof tmp);
	if (prec == 0 && n == 1 && tmp[0] == '0') {
		n = 0;
	}
	len = (prec > n ? prec : n) + neg;
	if (!left && !(zero && prec < 0)) {
		put_pad(o, ' ', width - len);
	}
	if (neg) {
		put(o, '-');
	}
	if (!left && zero && prec < 0) {
		put_pad(o, '0', width - len);
	}
	put_pad(o, '0', prec - n);
	while (n > 0) {
		put(o, tmp[--n]);
	}
	if (left) {
		put_pad(o, ' ', width - len);
	}
}
