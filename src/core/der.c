/* SPDX-License-Identifier: ISC */
/*
 * der.c - one DER element at a time (X.690 8.1.2 identifier, 8.1.3
 * length, definite form only as DER requires, 10.1): see der.h.
 */
#include <string.h>

#include "core/der.h"

int
der_get(const unsigned char **p, const unsigned char *end, unsigned *tag,
    const unsigned char **v, size_t *len)
{
	const unsigned char *q = *p;
	size_t l, k;

	if (q > end || end - q < 2) {
		return -1;
	}
	*tag = q[0];
	l = q[1];
	q += 2;
	if (l & 0x80) {
		k = l & 0x7f;
		if (k == 0 || k > DER_LEN_OCTETS_MAX ||
		    (size_t)(end - q) < k) {
			return -1;
		}
		for (l = 0; k > 0; k--) {
			l = (l << 8) | *q++;
		}
	}
	if ((size_t)(end - q) < l) {
		return -1;
	}
	*v = q;
	*len = l;
	*p = q + l;
	return 0;
}

int
der_rsa_pub(const unsigned char *der, size_t len, const unsigned char **n,
    size_t *nlen, const unsigned char **e, size_t *elen)
{
	const unsigned char *p = der, *end = der + len, *v;
	size_t vlen;
	unsigned tag;

	if (der_get(&p, end, &tag, &v, &vlen) == -1 || tag != 0x30) {
		return -1;
	}
	p = v;
	end = v + vlen;
	if (der_get(&p, end, &tag, &v, &vlen) == -1) {
		return -1;
	}
	if (tag == 0x30) {
		/* The algorithm; then the key in a BIT STRING without
		 * unused bits, read once more (not nested again). */
		if (der_get(&p, end, &tag, &v, &vlen) == -1 || tag != 0x03 ||
		    vlen < 1 || v[0] != 0) {
			return -1;
		}
		p = v + 1;
		end = v + vlen;
		if (der_get(&p, end, &tag, &v, &vlen) == -1 || tag != 0x30) {
			return -1;
		}
		p = v;
		end = v + vlen;
		if (der_get(&p, end, &tag, &v, &vlen) == -1) {
			return -1;
		}
	}
	for (int k = 0; k < 2; k++) {
		if (k == 1 && der_get(&p, end, &tag, &v, &vlen) == -1) {
			return -1;
		}
		if (tag != 0x02 || vlen == 0) {
			return -1;
		}
		while (vlen > 1 && v[0] == 0) {
			v++;
			vlen--;
		}
		*(k == 0 ? n : e) = v;
		*(k == 0 ? nlen : elen) = vlen;
	}
	return 0;
}

void
der_w_init(struct der_w *w, unsigned char *buf, size_t cap)
{
	memset(w, 0, sizeof *w);
	w->buf = buf;
	w->cap = cap;
}

/* The tag and a one-octet length, fixed at the close. */
void
der_open(struct der_w *w, unsigned tag)
{
	if (w->err || w->depth == DER_W_DEPTH || w->cap - w->len < 2) {
		w->err = 1;
		return;
	}
	w->open[w->depth++] = w->len;
	w->buf[w->len++] = (unsigned char)tag;
	w->buf[w->len++] = 0;
}

/* The contents move right by the long form's length octets, if any. */
void
der_close(struct der_w *w)
{
	size_t at, l, k = 0;

	if (w->err || w->depth == 0) {
		w->err = 1;
		return;
	}
	at = w->open[--w->depth];
	l = w->len - at - 2;
	if (l >= 0x80) {
		for (size_t t = l; t > 0; t >>= 8) {
			k++;
		}
		if (k > DER_LEN_OCTETS_MAX || w->cap - w->len < k) {
			w->err = 1;
			return;
		}
		memmove(w->buf + at + 2 + k, w->buf + at + 2, l);
		w->buf[at + 1] = (unsigned char)(0x80 | k);
		for (size_t i = 0; i < k; i++) {
			w->buf[at + 2 + i] = (unsigned char)(l >> 8 *
			    (k - 1 - i));
		}
		w->len += k;
	} else {
		w->buf[at + 1] = (unsigned char)l;
	}
}

void
der_put(struct der_w *w, unsigned tag, const void *v, size_t len)
{
	der_open(w, tag);
	if (w->err || w->cap - w->len < len) {
		w->err = 1;
		return;
	}
	if (len > 0) {
		memcpy(w->buf + w->len, v, len);
	}
	w->len += len;
	der_close(w);
}
