/* SPDX-License-Identifier: ISC */
/*
 * dkim_canon.c - DKIM relaxed canonicalisation, streaming (RFC 6376
 * 3.4.2 header fields, 3.4.4 body), and the DKIM-Signature field's
 * text (3.5, 3.7). See dkim_canon.h.
 *
 * Both canonicalisers hold only a few flags between calls, so a chunk
 * may end anywhere, even between the CR and LF of a line end:
 *
 *   header:  name ':' value, name lower-cased, WSP around the colon
 *            dropped, folds unfolded, WSP runs -> one SP, WSP at the
 *            end dropped; then CR LF
 *   body:    WSP runs -> one SP, WSP at line ends dropped, empty lines
 *            held back (a count) until a line with content comes, so
 *            those at the end are never output
 */
#include <string.h>

#include "msg/base64.h"
#include "msg/dkim_canon.h"

/* Where dkim_head is in a line. */
enum {
	HS_BOL,			/* at the start of a line */
	HS_NAME,		/* in a field name */
	HS_VALUE		/* after the colon, or in a continuation */
};

/* Columns a line of the DKIM-Signature field should stay under. */
#define SIG_COLS	76
/* Base64 characters of b= per line: "\t " + 72 < 78 columns. */
#define SIG_B_CHUNK	72

const char *const dkim_head_names[DKIM_NAMES] = {
	"from", "to", "cc", "subject", "date", "message-id", "reply-to",
	"in-reply-to", "references", "mime-version", "content-type",
	"content-transfer-encoding"
};

static void	hput(struct dkim_head *, const char *, size_t);
static void	hflush(struct dkim_head *);
static void	field_end(struct dkim_head *);
static void	name_done(struct dkim_head *);
static int	name_index(const char *, size_t);
static int	same_name(const char *, const char *, size_t);
static void	bput(struct dkim_body *, const char *, size_t);
static void	bflush(struct dkim_body *);
static int	is_wsp(char);
static char	lower(char);
static int	tag_ok(const char *);
static int	add(char *, size_t, size_t *, const char *, size_t);

void
dkim_head_init(struct dkim_head *h, dkim_sink_fn *sink, void *arg)
{
	memset(h, 0, sizeof *h);
	h->sink = sink;
	h->arg = arg;
	h->st = HS_BOL;
}

size_t
dkim_head_feed(struct dkim_head *h, const char *p, size_t n)
{
	size_t i;

	if (h->done) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (h->cr) {
			h->cr = 0;
			if (c == '\n') {
				continue;	/* the LF of CR LF */
			}
		}
		if (h->st == HS_BOL) {
			if (c == '\r' || c == '\n') {
				if (h->all) {
					continue;	/* not in one field */
				}
				field_end(h);
				h->done = 1;
				break;
			}
			if (is_wsp(c)) {
				/* A fold: the line end goes, the WSP stays
				 * (and is compressed) (3.4.2). */
				h->st = HS_VALUE;
				h->wsp = 1;
				continue;
			}
			field_end(h);
			h->st = HS_NAME;
			h->nlen = 0;
		}
		if (h->st == HS_NAME) {
			if (c == ':') {
				name_done(h);
			} else if (c == '\r' || c == '\n') {
				/* No colon: not a field; never hashed. */
				h->sign = 0;
				h->st = HS_BOL;
				h->cr = c == '\r';
			} else if (h->nlen < DKIM_NAME_MAX) {
				h->name[h->nlen++] = c;
			} else {
				h->nlen = DKIM_NAME_MAX + 1;
			}
			continue;
		}
		/* HS_VALUE */
		if (c == '\r' || c == '\n') {
			h->st = HS_BOL;
			h->cr = c == '\r';
		} else if (is_wsp(c)) {
			h->wsp = 1;
		} else {
			if (h->sign) {
				if (h->wsp && !h->vstart) {
					hput(h, " ", 1);
				}
				hput(h, &c, 1);
			}
			h->wsp = 0;
			h->vstart = 0;
		}
	}
	h->bytes += i;
	hflush(h);
	return i;
}

void
dkim_head_end(struct dkim_head *h)
{
	if (h->done) {
		return;
	}
	field_end(h);
	h->done = 1;
	hflush(h);
}

int
dkim_head_add(struct dkim_head *h, const char *p, size_t n)
{
	struct dkim_head t;
	int k = name_index(p, n);

	if (k < 0 || memchr(p, ':', n) == NULL ||
	    (h->seen & (UINT32_C(1) << k)) || h->norder >= DKIM_H_MAX) {
		return -1;
	}
	dkim_head_init(&t, h->sink, h->arg);
	(void)dkim_head_feed(&t, p, n);
	dkim_head_end(&t);
	h->seen |= UINT32_C(1) << k;
	h->order[h->norder++] = (uint8_t)k;
	return 0;
}

int
dkim_head_has(const struct dkim_head *h, enum dkim_name k)
{
	return (h->seen & (UINT32_C(1) << k)) != 0;
}

size_t
dkim_head_list(const struct dkim_head *h, char *out, size_t cap)
{
	size_t len = 0;

	for (size_t i = 0; i <= h->norder; i++) {
		/* The last entry: From once more than there is. */
		const char *nm = dkim_head_names[i < h->norder ?
		    h->order[i] : DKIM_N_FROM];

		if ((i > 0 && add(out, cap, &len, ":", 1) == -1) ||
		    add(out, cap, &len, nm, strlen(nm)) == -1) {
			return 0;
		}
	}
	return len;
}

void
dkim_canon_field(const char *p, size_t n, int crlf, dkim_sink_fn *sink,
    void *arg)
{
	struct dkim_head t;

	dkim_head_init(&t, sink, arg);
	t.all = 1;
	(void)dkim_head_feed(&t, p, n);
	if (!crlf) {
		t.sign = 0;	/* no CR LF after it */
	}
	dkim_head_end(&t);
}

void
dkim_body_init(struct dkim_body *b, int sep, dkim_sink_fn *sink, void *arg)
{
	memset(b, 0, sizeof *b);
	b->sink = sink;
	b->arg = arg;
	b->sep = sep;
}

void
dkim_body_feed(struct dkim_body *b, const char *p, size_t n)
{
	size_t j;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (b->cr) {
			b->cr = 0;
			if (c == '\n') {
				continue;
			}
		}
		if (b->sep) {
			b->sep = 0;
			if (c == '\r' || c == '\n') {
				b->cr = c == '\r';
				continue;
			}
		}
		if (c == '\r' || c == '\n') {
			if (b->content) {
				bput(b, "\r\n", 2);
			} else {
				b->empty++;
			}
			b->content = 0;
			b->wsp = 0;
			b->cr = c == '\r';
			continue;
		}
		if (is_wsp(c)) {
			b->wsp = 1;
			continue;
		}
		if (!b->content) {
			for (; b->empty > 0; b->empty--) {
				bput(b, "\r\n", 2);
			}
		}
		if (b->wsp) {
			bput(b, " ", 1);
			b->wsp = 0;
		}
		/* The run of plain octets from here goes out at once. */
		j = i + 1;
		while (j < n && p[j] != '\r' && p[j] != '\n' &&
		    !is_wsp(p[j])) {
			j++;
		}
		bput(b, p + i, j - i);
		i = j - 1;
		b->content = 1;
	}
	bflush(b);
}

void
dkim_body_end(struct dkim_body *b)
{
	if (b->content) {
		bput(b, "\r\n", 2);
		b->content = 0;
	}
	b->empty = 0;
	b->wsp = 0;
	bflush(b);
}

size_t
dkim_sig_format(const struct dkim_sig *s, char *out, size_t cap)
{
	char bh[64], b64[DKIM_SIGLEN_MAX * 4 / 3 + 8], num[24];
	size_t len = 0, col, k;
	const char *hl = s->hlist;
	long blen = 0;
	int64_t t = s->t;

	if (!tag_ok(s->domain) || !tag_ok(s->selector) ||
	    strlen(s->domain) > DKIM_DOMAIN_MAX ||
	    strlen(s->selector) > DKIM_SELECTOR_MAX ||
	    s->blen > DKIM_SIGLEN_MAX ||
	    base64_encode(s->bh, DKIM_BH_LEN, bh, sizeof bh) < 0 ||
	    (s->b != NULL && (blen = base64_encode(s->b, s->blen, b64,
	    sizeof b64)) < 0)) {
		return 0;
	}
	k = sizeof num;
	num[--k] = '\0';
	do {
		num[--k] = (char)('0' + (int)(t % 10));
		t /= 10;
	} while (t > 0 && k > 0);
	if (add(out, cap, &len, "DKIM-Signature: v=1; a=rsa-sha256; "
	    "c=relaxed/relaxed; d=", 56) == -1 ||
	    add(out, cap, &len, s->domain, strlen(s->domain)) == -1 ||
	    add(out, cap, &len, ";\n\ts=", 5) == -1 ||
	    add(out, cap, &len, s->selector, strlen(s->selector)) == -1 ||
	    (s->t >= 0 && (add(out, cap, &len, "; t=", 4) == -1 ||
	    add(out, cap, &len, num + k, strlen(num + k)) == -1)) ||
	    add(out, cap, &len, ";\n\th=", 5) == -1) {
		return 0;
	}
	/* h=: folded after a colon (RFC 6376 3.5: FWS allowed there). */
	col = 3;
	while (*hl != '\0') {
		size_t nl = strcspn(hl, ":");

		if (col + nl + 2 > SIG_COLS && add(out, cap, &len, "\n\t",
		    2) == -1) {
			return 0;
		} else if (col + nl + 2 > SIG_COLS) {
			col = 1;
		}
		if (add(out, cap, &len, hl, nl) == -1) {
			return 0;
		}
		col += nl;
		hl += nl;
		if (*hl == ':') {
			if (add(out, cap, &len, ":", 1) == -1) {
				return 0;
			}
			col++;
			hl++;
		}
	}
	if (add(out, cap, &len, ";\n\tbh=", 6) == -1 ||
	    add(out, cap, &len, bh, strlen(bh)) == -1 ||
	    add(out, cap, &len, ";\n\tb=", 5) == -1) {
		return 0;
	}
	if (s->b == NULL) {
		out[len] = '\0';
		return len;
	}
	for (k = 0; k < (size_t)blen; k += SIG_B_CHUNK) {
		size_t m = (size_t)blen - k < SIG_B_CHUNK ?
		    (size_t)blen - k : SIG_B_CHUNK;

		if ((k > 0 && add(out, cap, &len, "\n\t ", 3) == -1) ||
		    add(out, cap, &len, b64 + k, m) == -1) {
			return 0;
		}
	}
	if (add(out, cap, &len, "\n", 1) == -1) {
		return 0;
	}
	return len;
}

/* The end of a field: its CR LF when it is hashed. */
static void
field_end(struct dkim_head *h)
{
	if (h->sign) {
		hput(h, "\r\n", 2);
	}
	h->sign = 0;
	h->wsp = 0;
}

/* The colon: decides whether the field is hashed. */
static void
name_done(struct dkim_head *h)
{
	size_t n = h->nlen;
	int k = -1;

	h->st = HS_VALUE;
	h->vstart = 1;
	h->wsp = 0;
	h->sign = 0;
	if (n > DKIM_NAME_MAX) {
		return;		/* too long for any name of ours */
	}
	while (n > 0 && is_wsp(h->name[n - 1])) {
		n--;		/* WSP before the colon (3.4.2) */
	}
	if (!h->all) {
		k = name_index(h->name, n);
		if (k < 0) {
			h->signed_already |= n == 14 &&
			    same_name(h->name, "dkim-signature", n);
			return;
		}
		if (h->seen & (UINT32_C(1) << k)) {
			h->dup = 1;
			return;
		}
		if (h->norder >= DKIM_H_MAX) {
			return;
		}
		h->seen |= UINT32_C(1) << k;
		h->order[h->norder++] = (uint8_t)k;
	}
	h->sign = 1;
	for (size_t i = 0; i < n; i++) {
		char c = lower(h->name[i]);

		hput(h, &c, 1);
	}
	hput(h, ":", 1);
}

/* The index of a field's name in dkim_head_names (p: the field, or
 * only its name), or -1. */
static int
name_index(const char *p, size_t n)
{
	size_t len = 0;

	while (len < n && p[len] != ':' && p[len] != '\r' &&
	    p[len] != '\n') {
		len++;
	}
	while (len > 0 && is_wsp(p[len - 1])) {
		len--;
	}
	for (int k = 0; k < DKIM_NAMES; k++) {
		const char *nm = dkim_head_names[k];

		if (strlen(nm) != len) {
			continue;
		}
		if (same_name(p, nm, len)) {
			return k;
		}
	}
	return -1;
}

/* 1 when p[0..n) is the lower-case name nm, in any case. */
static int
same_name(const char *p, const char *nm, size_t n)
{
	size_t i;

	for (i = 0; i < n && lower(p[i]) == nm[i]; i++) {
	}
	return i == n;
}

static void
hput(struct dkim_head *h, const char *p, size_t n)
{
	if (h->olen + n > sizeof h->out) {
		hflush(h);
	}
	memcpy(h->out + h->olen, p, n);
	h->olen += n;
}

static void
hflush(struct dkim_head *h)
{
	if (h->olen > 0) {
		h->sink(h->arg, h->out, h->olen);
		h->olen = 0;
	}
}

static void
bput(struct dkim_body *b, const char *p, size_t n)
{
	if (b->olen + n > sizeof b->out) {
		bflush(b);
	}
	if (n > sizeof b->out) {
		b->sink(b->arg, p, n);	/* a long run: no copy */
		return;
	}
	memcpy(b->out + b->olen, p, n);
	b->olen += n;
}

static void
bflush(struct dkim_body *b)
{
	if (b->olen > 0) {
		b->sink(b->arg, b->out, b->olen);
		b->olen = 0;
	}
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A d= or s= value: letters, digits, '-', '.', '_', not empty. */
static int
tag_ok(const char *s)
{
	if (s == NULL || *s == '\0') {
		return 0;
	}
	for (; *s != '\0'; s++) {
		char c = lower(*s);

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_')) {
			return 0;
		}
	}
	return 1;
}

/* Appends p[0..n) and a NUL to out; -1 when it does not fit. */
static int
add(char *out, size_t cap, size_t *len, const char *p, size_t n)
{
	if (cap - *len <= n) {
		return -1;
	}
	memcpy(out + *len, p, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}
