/* SPDX-License-Identifier: ISC */
/*
 * decode.c - message text for IMAP SEARCH (RFC 3501 6.4.4), see
 * decode.h: quoted-printable and base64 bodies (RFC 2045 6.7, 6.8),
 * charsets to UTF-8 (RFC 2046 4.1.2, WHATWG Encoding), encoded words
 * (RFC 2047) and header fields (RFC 5322 2.2). Dates are in
 * date_parse.c. Sans-I/O: the caller owns every buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/limits.h"
#include "msg/decode.h"

/* Quoted-printable states: after what we have seen. */
enum {
	QP_TEXT,		/* text; ws[] is white space held */
	QP_EQ,			/* "=" */
	QP_EQ_HEX,		/* "=" and one hex digit (in acc) */
	QP_EQ_WS,		/* "=" and white space (in ws[]) */
	QP_EQ_CR		/* "=" [white space] CR */
};

#define B64_DONE	4	/* base64 state after "=" */

/* Header walker states. */
enum {
	H_LINE0,		/* start of a line, no field open */
	H_NAME,			/* in a field name */
	H_NAME_WS,		/* white space after the name */
	H_VALUE,		/* in a value */
	H_LINE,			/* start of a line, a field open */
	H_SKIP,			/* in a line that is no field */
	H_DONE			/* past the empty line */
};

/* windows-1252 0x80-0x9f; the unassigned five are the C1 controls
 * (WHATWG index-windows-1252). */
static const uint16_t cp1252_c1[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

/* Charset names and aliases (IANA character-sets registry). */
static const struct {
	const char	*name;
	int		 cs;
} charsets[] = {
	{ "utf-8", DECODE_CS_UTF8 },
	{ "utf8", DECODE_CS_UTF8 },
	{ "us-ascii", DECODE_CS_UTF8 },
	{ "ascii", DECODE_CS_UTF8 },
	{ "us", DECODE_CS_UTF8 },
	{ "ansi_x3.4-1968", DECODE_CS_UTF8 },
	{ "iso646-us", DECODE_CS_UTF8 },
	{ "iso-8859-1", DECODE_CS_LATIN1 },
	{ "iso8859-1", DECODE_CS_LATIN1 },
	{ "iso_8859-1", DECODE_CS_LATIN1 },
	{ "iso_8859-1:1987", DECODE_CS_LATIN1 },
	{ "latin1", DECODE_CS_LATIN1 },
	{ "latin-1", DECODE_CS_LATIN1 },
	{ "l1", DECODE_CS_LATIN1 },
	{ "cp819", DECODE_CS_LATIN1 },
	{ "ibm819", DECODE_CS_LATIN1 },
	{ "iso-ir-100", DECODE_CS_LATIN1 },
	{ "iso-8859-15", DECODE_CS_LATIN9 },
	{ "iso8859-15", DECODE_CS_LATIN9 },
	{ "iso_8859-15", DECODE_CS_LATIN9 },
	{ "latin-9", DECODE_CS_LATIN9 },
	{ "latin9", DECODE_CS_LATIN9 },
	{ "l9", DECODE_CS_LATIN9 },
	{ "windows-1252", DECODE_CS_CP1252 },
	{ "cp1252", DECODE_CS_CP1252 },
	{ "x-cp1252", DECODE_CS_CP1252 },
};

/* Where a decoder writes: the caller's buffer, then its pend[]. Once
 * anything is pending, everything after it is too, to keep order. */
struct sink {
	unsigned char	*out;
	size_t		 cap;
	size_t		 n;
	unsigned char	*pend;
	size_t		*npend;
	size_t		 pendcap;
};

/* Output of decode_header: stops for good when full. */
struct hout {
	unsigned char	*out;
	size_t		 cap;
	size_t		 n;
	int		 full;
};

/* An encoded word found by word_parse. */
struct word {
	const char	*cs;		/* charset, "*lang" removed */
	size_t		 cslen;
	int		 enc;		/* 'B' or 'Q' */
	const char	*text;
	size_t		 textlen;
	size_t		 len;		/* the whole word */
};

static void	sink_init(struct sink *, void *, size_t, unsigned char *,
		    size_t *, size_t);
static void	put(struct sink *, unsigned);
static void	put_utf8(struct sink *, uint32_t);
static size_t	drain(struct sink *);
static int	hexval(unsigned);
static int	b64val(unsigned);
static int	is_ws(unsigned);
static int	lower(unsigned);
static int	name_eq(const char *, size_t, const char *);
static void	qp_flush_ws(struct decode_body *, struct sink *);
static void	qp_byte(struct decode_body *, struct sink *, unsigned);
static void	b64_byte(struct decode_body *, struct sink *, unsigned);
static void	body_flush(struct decode_body *, struct sink *);
static void	cs_byte(struct decode_cs *, struct sink *, unsigned);
static void	cs_flush(struct decode_cs *, struct sink *);
static int	word_parse(const char *, size_t, struct word *);
static void	word_decode(const struct word *, struct decode_cs *,
		    struct hout *);
static void	hout_cs(struct hout *, struct decode_cs *, const void *,
		    size_t);
static void	hout_cs_end(struct hout *, struct decode_cs *);
static void	hout_put(struct hout *, const void *, size_t);
static size_t	utf8_trim(const unsigned char *, size_t);
static void	hdr_append(struct decode_hdr *, unsigned);

/* ---------------------------------------------------------------- */
/* Content-Transfer-Encoding */

int
decode_body_init(struct decode_body *d, const char *cte, size_t len)
{
	memset(d, 0, sizeof *d);
	while (len > 0 && is_ws((unsigned char)cte[0])) {
		cte++;
		len--;
	}
	while (len > 0 && is_ws((unsigned char)cte[len - 1])) {
		len--;
	}
	if (name_eq(cte, len, "quoted-printable")) {
		d->cte = DECODE_CTE_QP;
	} else if (name_eq(cte, len, "base64")) {
		d->cte = DECODE_CTE_BASE64;
	} else {
		d->cte = DECODE_CTE_IDENTITY;
	}
	return d->cte;
}

size_t
decode_body_feed(struct decode_body *d, const void *in, size_t len,
    size_t *used, void *out, size_t cap)
{
	const unsigned char *p = in;
	struct sink s;
	size_t i = 0;

	sink_init(&s, out, cap, d->pend, &d->npend, sizeof d->pend);
	drain(&s);
	if (d->cte == DECODE_CTE_IDENTITY && d->npend == 0) {
		/* Bulk copy: nothing is ever held. */
		i = len < cap - s.n ? len : cap - s.n;
		if (i > 0) {
			memcpy(s.out + s.n, p, i);
		}
		s.n += i;
		*used = i;
		return s.n;
	}
	/* One input octet releases at most DECODE_PEND_MAX octets, so
	 * an empty pend[] always has room for it. */
	while (i < len && d->npend == 0) {
		if (d->cte == DECODE_CTE_QP) {
			qp_byte(d, &s, p[i]);
		} else {
			b64_byte(d, &s, p[i]);
		}
		i++;
	}
	*used = i;
	return s.n;
}

size_t
decode_body_end(struct decode_body *d, void *out, size_t cap)
{
	struct sink s;

	sink_init(&s, out, cap, d->pend, &d->npend, sizeof d->pend);
	drain(&s);
	if (d->npend == 0) {
		body_flush(d, &s);
	}
	return s.n;
}

/* ---------------------------------------------------------------- */
/* Charsets */

int
decode_charset(const char *name, size_t len)
{
	const char *star;

	star = len > 0 ? memchr(name, '*', len) : NULL;
	if (star != NULL) {
		len = (size_t)(star - name);
	}
	while (len > 0 && is_ws((unsigned char)name[0])) {
		name++;
		len--;
	}
	while (len > 0 && is_ws((unsigned char)name[len - 1])) {
		len--;
	}
	if (len == 0) {
		return DECODE_CS_UTF8;
	}
	for (size_t i = 0; i < sizeof charsets / sizeof charsets[0]; i++) {
		if (name_eq(name, len, charsets[i].name)) {
			return charsets[i].cs;
		}
	}
	return DECODE_CS_RAW;
}

int
decode_cs_init(struct decode_cs *c, const char *name, size_t len)
{
	memset(c, 0, sizeof *c);
	c->cs = decode_charset(name, len);
	return c->cs;
}

size_t
decode_cs_feed(struct decode_cs *c, const void *in, size_t len,
    size_t *used, void *out, size_t cap)
{
	const unsigned char *p = in;
	struct sink s;
	size_t i = 0;

	sink_init(&s, out, cap, c->pend, &c->npend, sizeof c->pend);
	drain(&s);
	if (c->cs == DECODE_CS_RAW && c->npend == 0) {
		i = len < cap - s.n ? len : cap - s.n;
		if (i > 0) {
			memcpy(s.out + s.n, p, i);
		}
		s.n += i;
		*used = i;
		return s.n;
	}
	while (i < len && c->npend == 0) {
		cs_byte(c, &s, p[i]);
		i++;
	}
	*used = i;
	return s.n;
}

size_t
decode_cs_end(struct decode_cs *c, void *out, size_t cap)
{
	struct sink s;

	sink_init(&s, out, cap, c->pend, &c->npend, sizeof c->pend);
	drain(&s);
	if (c->npend == 0) {
		cs_flush(c, &s);
	}
	return s.n;
}

/* ---------------------------------------------------------------- */
/* Header values */

size_t
decode_unfold(const char *in, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n < cap; i++) {
		if (in[i] != '\r' && in[i] != '\n') {
			out[n++] = in[i];
		}
	}
	return n;
}

size_t
decode_header(const char *in, size_t len, char *out, size_t cap)
{
	struct hout o = { (unsigned char *)out, cap, 0, 0 };
	struct decode_cs cs;
	struct word w;
	int active = 0, after_word = 0;
	size_t i = 0, j;

	while (i < len && !o.full) {
		unsigned char ch = (unsigned char)in[i];

		if (ch == '\r' || ch == '\n') {
			i++;
			continue;
		}
		if (ch == '=' && word_parse(in + i, len - i, &w)) {
			/* Adjacent words of one charset share the
			 * converter, so a character split between them
			 * is joined. */
			if (active && decode_charset(w.cs, w.cslen) !=
			    cs.cs) {
				hout_cs_end(&o, &cs);
				active = 0;
			}
			if (!active) {
				decode_cs_init(&cs, w.cs, w.cslen);
				active = 1;
			}
			word_decode(&w, &cs, &o);
			i += w.len;
			after_word = 1;
			continue;
		}
		if (after_word && is_ws(ch)) {
			/* RFC 2047 6.2: white space between two encoded
			 * words is not displayed. */
			for (j = i; j < len && (is_ws((unsigned char)in[j]) ||
			    in[j] == '\r' || in[j] == '\n'); j++) {
				continue;
			}
			if (j < len && in[j] == '=' &&
			    word_parse(in + j, len - j, &w)) {
				i = j;
				continue;
			}
		}
		if (active) {
			hout_cs_end(&o, &cs);
			active = 0;
		}
		after_word = 0;
		hout_put(&o, &ch, 1);
		i++;
	}
	if (active && !o.full) {
		hout_cs_end(&o, &cs);
	}
	if (o.full) {
		o.n = utf8_trim(o.out, o.n);
	}
	return o.n;
}

/* ---------------------------------------------------------------- */
/* Header walker */

void
decode_hdr_init(struct decode_hdr *h)
{
	h->st = H_LINE0;
	h->ready = 0;
	h->end = 0;
	h->cut = 0;
	h->nlen = 0;
	h->vlen = 0;
}

size_t
decode_hdr_feed(struct decode_hdr *h, const void *in, size_t len)
{
	const unsigned char *p = in;
	size_t i;

	for (i = 0; i < len && !h->ready && h->st != H_DONE; i++) {
		unsigned c = p[i];

		if (c == '\r') {
			continue;
		}
		switch (h->st) {
		case H_LINE0:
			if (c == '\n') {
				h->end = 1;
				h->st = H_DONE;
			} else if (c > ' ' && c < 0x7f && c != ':') {
				h->name[0] = (char)c;
				h->nlen = 1;
				h->st = H_NAME;
			} else {
				h->st = H_SKIP;
			}
			break;
		case H_NAME:
			if (c == ':') {
				h->vlen = 0;
				h->cut = 0;
				h->st = H_VALUE;
			} else if (c == '\n') {
				h->st = H_LINE0;
			} else if (is_ws(c)) {
				h->st = H_NAME_WS;
			} else if (c > ' ' && c < 0x7f &&
			    h->nlen < sizeof h->name) {
				h->name[h->nlen++] = (char)c;
			} else {
				h->st = H_SKIP;
			}
			break;
		case H_NAME_WS:
			if (c == ':') {
				h->vlen = 0;
				h->cut = 0;
				h->st = H_VALUE;
			} else if (c == '\n') {
				h->st = H_LINE0;
			} else if (!is_ws(c)) {
				h->st = H_SKIP;
			}
			break;
		case H_VALUE:
			if (c == '\n') {
				h->st = H_LINE;
			} else {
				hdr_append(h, c);
			}
			break;
		case H_LINE:
			if (is_ws(c)) {
				/* RFC 5322 2.2.3: unfolding removes the
				 * CRLF, the white space stays. */
				hdr_append(h, c);
				h->st = H_VALUE;
			} else if (c == '\n') {
				h->ready = 1;
				h->end = 1;
				h->st = H_DONE;
			} else {
				/* The next field: leave its first octet. */
				h->ready = 1;
				h->st = H_LINE0;
				return i;
			}
			break;
		case H_SKIP:
			if (c == '\n') {
				h->st = H_LINE0;
			}
			break;
		default:
			break;
		}
	}
	return i;
}

int
decode_hdr_next(struct decode_hdr *h, struct decode_field *f)
{
	if (h->ready) {
		size_t n = h->vlen;

		while (n > 0 && is_ws((unsigned char)h->value[n - 1])) {
			n--;
		}
		h->ready = 0;
		f->name = h->name;
		f->name_len = h->nlen;
		f->value = h->value;
		f->value_len = n;
		f->cut = h->cut;
		return DECODE_HDR_FIELD;
	}
	if (h->end == 1) {
		h->end = 2;
		return DECODE_HDR_END;
	}
	return DECODE_HDR_NONE;
}

void
decode_hdr_finish(struct decode_hdr *h)
{
	if (h->st == H_VALUE || h->st == H_LINE) {
		h->ready = 1;
	}
	if (h->end == 0) {
		h->end = 1;
	}
	h->st = H_DONE;
}

/* ---------------------------------------------------------------- */
/* Output */

static void
sink_init(struct sink *s, void *out, size_t cap, unsigned char *pend,
    size_t *npend, size_t pendcap)
{
	s->out = out;
	s->cap = cap;
	s->n = 0;
	s->pend = pend;
	s->npend = npend;
	s->pendcap = pendcap;
}

static void
put(struct sink *s, unsigned c)
{
	if (*s->npend == 0 && s->n < s->cap) {
		s->out[s->n++] = (unsigned char)c;
	} else if (*s->npend < s->pendcap) {
		s->pend[(*s->npend)++] = (unsigned char)c;
	}
}

static void
put_utf8(struct sink *s, uint32_t cp)
{
	if (cp < 0x80) {
		put(s, cp);
	} else if (cp < 0x800) {
		put(s, 0xc0 | (cp >> 6));
		put(s, 0x80 | (cp & 0x3f));
	} else {
		put(s, 0xe0 | (cp >> 12));
		put(s, 0x80 | ((cp >> 6) & 0x3f));
		put(s, 0x80 | (cp & 0x3f));
	}
}

/* Moves held output into the caller's buffer; returns what is left. */
static size_t
drain(struct sink *s)
{
	size_t k = *s->npend < s->cap - s->n ? *s->npend : s->cap - s->n;

	if (k > 0) {
		memcpy(s->out + s->n, s->pend, k);
		memmove(s->pend, s->pend + k, *s->npend - k);
		s->n += k;
		*s->npend -= k;
	}
	return *s->npend;
}

/* ---------------------------------------------------------------- */
/* Quoted-printable and base64 */

static void
qp_flush_ws(struct decode_body *d, struct sink *s)
{
	for (size_t k = 0; k < d->nws; k++) {
		put(s, d->ws[k]);
	}
	d->nws = 0;
}

static void
qp_byte(struct decode_body *d, struct sink *s, unsigned c)
{
	int h;

	switch (d->st) {
	case QP_TEXT:
		if (is_ws(c)) {
			/* Held: dropped if the line ends next. A run
			 * longer than any legal line goes out. */
			if (d->nws == sizeof d->ws) {
				qp_flush_ws(d, s);
			}
			d->ws[d->nws++] = (unsigned char)c;
		} else if (c == '\r' || c == '\n') {
			d->nws = 0;
			put(s, c);
		} else if (c == '=') {
			qp_flush_ws(d, s);
			d->st = QP_EQ;
		} else {
			qp_flush_ws(d, s);
			put(s, c);
		}
		return;
	case QP_EQ:
		if (hexval(c) >= 0) {
			d->acc = c;
			d->st = QP_EQ_HEX;
		} else if (is_ws(c)) {
			d->ws[0] = (unsigned char)c;
			d->nws = 1;
			d->st = QP_EQ_WS;
		} else if (c == '\r') {
			d->st = QP_EQ_CR;
		} else if (c == '\n') {
			d->st = QP_TEXT;
		} else {
			put(s, '=');
			d->st = QP_TEXT;
			qp_byte(d, s, c);
		}
		return;
	case QP_EQ_HEX:
		if ((h = hexval(c)) >= 0) {
			put(s, (unsigned)(hexval(d->acc) << 4 | h));
			d->st = QP_TEXT;
		} else {
			put(s, '=');
			put(s, d->acc);
			d->st = QP_TEXT;
			qp_byte(d, s, c);
		}
		return;
	case QP_EQ_WS:
		if (is_ws(c) && d->nws < sizeof d->ws) {
			d->ws[d->nws++] = (unsigned char)c;
		} else if (c == '\r') {
			d->nws = 0;
			d->st = QP_EQ_CR;
		} else if (c == '\n') {
			d->nws = 0;
			d->st = QP_TEXT;
		} else {
			put(s, '=');
			qp_flush_ws(d, s);
			d->st = QP_TEXT;
			qp_byte(d, s, c);
		}
		return;
	default:
		/* QP_EQ_CR: a soft line break, LF or not. */
		d->st = QP_TEXT;
		if (c != '\n') {
			qp_byte(d, s, c);
		}
		return;
	}
}

static void
b64_byte(struct decode_body *d, struct sink *s, unsigned c)
{
	int v;

	if (d->st == B64_DONE) {
		return;
	}
	if (c == '=') {
		body_flush(d, s);
		d->st = B64_DONE;
		return;
	}
	if ((v = b64val(c)) < 0) {
		return;
	}
	d->acc = d->acc << 6 | (uint32_t)v;
	if (++d->st == 4) {
		put(s, (d->acc >> 16) & 0xff);
		put(s, (d->acc >> 8) & 0xff);
		put(s, d->acc & 0xff);
		d->acc = 0;
		d->st = 0;
	}
}

/* Releases what a decoder holds at the end and resets it. */
static void
body_flush(struct decode_body *d, struct sink *s)
{
	if (d->cte == DECODE_CTE_QP) {
		switch (d->st) {
		case QP_EQ:
		case QP_EQ_WS:
			put(s, '=');
			break;
		case QP_EQ_HEX:
			put(s, '=');
			put(s, d->acc);
			break;
		default:
			break;
		}
	} else if (d->cte == DECODE_CTE_BASE64) {
		if (d->st == 2) {
			put(s, (d->acc >> 4) & 0xff);
		} else if (d->st == 3) {
			put(s, (d->acc >> 10) & 0xff);
			put(s, (d->acc >> 2) & 0xff);
		}
	}
	d->st = 0;
	d->acc = 0;
	d->nws = 0;
}

/* ---------------------------------------------------------------- */
/* Charset conversion */

static void
cs_byte(struct decode_cs *c, struct sink *s, unsigned b)
{
	switch (c->cs) {
	case DECODE_CS_LATIN1:
	case DECODE_CS_CP1252:
		if (b >= 0x80 && b < 0xa0) {
			put_utf8(s, cp1252_c1[b - 0x80]);
		} else {
			put_utf8(s, b);
		}
		return;
	case DECODE_CS_LATIN9:
		switch (b) {
		case 0xa4:
			put_utf8(s, 0x20ac);
			return;
		case 0xa6:
			put_utf8(s, 0x0160);
			return;
		case 0xa8:
			put_utf8(s, 0x0161);
			return;
		case 0xb4:
			put_utf8(s, 0x017d);
			return;
		case 0xb8:
			put_utf8(s, 0x017e);
			return;
		case 0xbc:
			put_utf8(s, 0x0152);
			return;
		case 0xbd:
			put_utf8(s, 0x0153);
			return;
		case 0xbe:
			put_utf8(s, 0x0178);
			return;
		default:
			put_utf8(s, b);
			return;
		}
	case DECODE_CS_UTF8:
		break;
	default:
		put(s, b);
		return;
	}
	/* UTF-8 as WHATWG decodes it: lo..hi is the range the next
	 * octet must be in, which rules out overlong forms, surrogates
	 * and code points past U+10FFFF at the first octet that shows
	 * them. */
	if (c->need == 0) {
		c->lo = 0x80;
		c->hi = 0xbf;
		if (b < 0x80) {
			put(s, b);
			return;
		} else if (b >= 0xc2 && b <= 0xdf) {
			c->need = 1;
		} else if (b >= 0xe0 && b <= 0xef) {
			c->lo = b == 0xe0 ? 0xa0 : 0x80;
			c->hi = b == 0xed ? 0x9f : 0xbf;
			c->need = 2;
		} else if (b >= 0xf0 && b <= 0xf4) {
			c->lo = b == 0xf0 ? 0x90 : 0x80;
			c->hi = b == 0xf4 ? 0x8f : 0xbf;
			c->need = 3;
		} else {
			put_utf8(s, 0xfffd);
			return;
		}
		c->seq[0] = (unsigned char)b;
		c->nseq = 1;
		return;
	}
	if (b < c->lo || b > c->hi) {
		c->need = 0;
		c->nseq = 0;
		put_utf8(s, 0xfffd);
		cs_byte(c, s, b);
		return;
	}
	c->lo = 0x80;
	c->hi = 0xbf;
	c->seq[c->nseq++] = (unsigned char)b;
	if (c->nseq == c->need + 1) {
		for (int k = 0; k < c->nseq; k++) {
			put(s, c->seq[k]);
		}
		c->need = 0;
		c->nseq = 0;
	}
}

static void
cs_flush(struct decode_cs *c, struct sink *s)
{
	if (c->need > 0) {
		put_utf8(s, 0xfffd);
	}
	c->need = 0;
	c->nseq = 0;
}

/* ---------------------------------------------------------------- */
/* Encoded words (RFC 2047 2, 4) */

/* Is p[0..len) an encoded word "=?cs?e?text?=" at its start? */
static int
word_parse(const char *p, size_t len, struct word *w)
{
	size_t i, k;

	if (len < 8 || p[0] != '=' || p[1] != '?') {
		return 0;
	}
	for (i = 2; i < len && p[i] != '?'; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= ' ' || c >= 0x7f || i - 2 >= DECODE_CHARSET_MAX) {
			return 0;
		}
	}
	if (i == 2 || i + 4 > len) {
		return 0;
	}
	w->cs = p + 2;
	w->cslen = i - 2;
	w->enc = p[i + 1] == 'b' || p[i + 1] == 'B' ? 'B' :
	    p[i + 1] == 'q' || p[i + 1] == 'Q' ? 'Q' : 0;
	if (w->enc == 0 || p[i + 2] != '?') {
		return 0;
	}
	i += 3;
	for (k = i; k < len && p[k] != '?'; k++) {
		unsigned char c = (unsigned char)p[k];

		if (c <= ' ' || c == 0x7f) {
			return 0;
		}
	}
	if (k + 1 >= len || p[k + 1] != '=') {
		return 0;
	}
	w->text = p + i;
	w->textlen = k - i;
	w->len = k + 2;
	/* RFC 2231 5: charset*language. */
	for (k = 0; k < w->cslen && w->cs[k] != '*'; k++) {
		continue;
	}
	w->cslen = k;
	return 1;
}

static void
word_decode(const struct word *w, struct decode_cs *cs, struct hout *o)
{
	unsigned char buf[64];
	size_t n = 0;
	uint32_t acc = 0;
	int nb = 0, v;

	for (size_t i = 0; i < w->textlen && !o->full; i++) {
		unsigned c = (unsigned char)w->text[i];

		if (n + 3 > sizeof buf) {
			hout_cs(o, cs, buf, n);
			n = 0;
		}
		if (w->enc == 'B') {
			if (c == '=') {
				break;
			}
			if ((v = b64val(c)) < 0) {
				continue;
			}
			acc = acc << 6 | (uint32_t)v;
			if (++nb == 4) {
				buf[n++] = (unsigned char)(acc >> 16);
				buf[n++] = (unsigned char)(acc >> 8);
				buf[n++] = (unsigned char)acc;
				acc = 0;
				nb = 0;
			}
		} else if (c == '_') {
			buf[n++] = ' ';
		} else if (c == '=' && i + 2 < w->textlen &&
		    hexval((unsigned char)w->text[i + 1]) >= 0 &&
		    hexval((unsigned char)w->text[i + 2]) >= 0) {
			buf[n++] = (unsigned char)(
			    hexval((unsigned char)w->text[i + 1]) << 4 |
			    hexval((unsigned char)w->text[i + 2]));
			i += 2;
		} else {
			buf[n++] = (unsigned char)c;
		}
	}
	if (nb == 2) {
		buf[n++] = (unsigned char)(acc >> 4);
	} else if (nb == 3) {
		buf[n++] = (unsigned char)(acc >> 10);
		buf[n++] = (unsigned char)(acc >> 2);
	}
	hout_cs(o, cs, buf, n);
}

/* Converts p[0..len) through cs into o. */
static void
hout_cs(struct hout *o, struct decode_cs *cs, const void *p, size_t len)
{
	const unsigned char *q = p;
	size_t used, k;

	while (len > 0 && !o->full) {
		k = decode_cs_feed(cs, q, len, &used, o->out + o->n,
		    o->cap - o->n);
		o->n += k;
		q += used;
		len -= used;
		if (cs->npend > 0 || (len > 0 && o->n == o->cap)) {
			o->full = 1;
		}
	}
}

static void
hout_cs_end(struct hout *o, struct decode_cs *cs)
{
	if (o->full) {
		return;
	}
	o->n += decode_cs_end(cs, o->out + o->n, o->cap - o->n);
	if (cs->npend > 0) {
		o->full = 1;
	}
}

static void
hout_put(struct hout *o, const void *p, size_t len)
{
	if (len > o->cap - o->n) {
		len = o->cap - o->n;
		o->full = 1;
	}
	if (len > 0) {
		memcpy(o->out + o->n, p, len);
		o->n += len;
	}
}

/* The length of p[0..n) without an unfinished UTF-8 sequence at its
 * end. */
static size_t
utf8_trim(const unsigned char *p, size_t n)
{
	size_t k;
	int want;

	for (k = n; k > 0 && n - k < 4; k--) {
		unsigned char c = p[k - 1];

		if ((c & 0xc0) != 0x80) {
			want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ?
			    2 : 1;
			return (size_t)want > n - k + 1 ? k - 1 : n;
		}
	}
	return n;
}

/* ---------------------------------------------------------------- */
/* Header walker */

static void
hdr_append(struct decode_hdr *h, unsigned c)
{
	if (h->vlen == 0 && is_ws(c)) {
		return;
	}
	if (h->vlen < sizeof h->value) {
		h->value[h->vlen++] = (char)c;
	} else {
		h->cut = 1;
	}
}

/* ---------------------------------------------------------------- */
/* Characters */

static int
hexval(unsigned c)
{
	if (c >= '0' && c <= '9') {
		return (int)(c - '0');
	}
	if (c >= 'A' && c <= 'F') {
		return (int)(c - 'A' + 10);
	}
	if (c >= 'a' && c <= 'f') {
		return (int)(c - 'a' + 10);
	}
	return -1;
}

static int
b64val(unsigned c)
{
	if (c >= 'A' && c <= 'Z') {
		return (int)(c - 'A');
	}
	if (c >= 'a' && c <= 'z') {
		return (int)(c - 'a' + 26);
	}
	if (c >= '0' && c <= '9') {
		return (int)(c - '0' + 52);
	}
	if (c == '+') {
		return 62;
	}
	if (c == '/') {
		return 63;
	}
	return -1;
}

static int
is_ws(unsigned c)
{
	return c == ' ' || c == '\t';
}

static int
lower(unsigned c)
{
	return c >= 'A' && c <= 'Z' ? (int)(c + 32) : (int)c;
}

/* Does p[0..len) equal the lower-case name, in any case? */
static int
name_eq(const char *p, size_t len, const char *name)
{
	size_t k;

	for (k = 0; k < len; k++) {
		if (name[k] == '\0' ||
		    lower((unsigned char)p[k]) != (unsigned char)name[k]) {
			return 0;
		}
	}
	return name[k] == '\0';
}
