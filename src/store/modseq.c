/* SPDX-License-Identifier: ISC */
/*
 * modseq.c - the wren-modseq codec and its recovery rules (RFC 7162
 * 3.1.1 HIGHESTMODSEQ, 3.2.10 expunges); see modseq.h for the format
 * and why a client's HIGHESTMODSEQ never goes backwards. Sans-I/O:
 * the file is hostile input like any other (a torn last line after a
 * power cut, an edit by hand), checked field by field.
 */
#include <string.h>

#include "store/modseq.h"

#define HDR_WORD	"wren-modseq 1 "

static int	field(const char **p, const char *end, uint64_t max,
		    uint64_t *v);
static size_t	put_u64(char *out, uint64_t v);

enum modseq_kind
modseq_parse(const char *p, size_t len, struct modseq_rec *r)
{
	const char *end = p + len;
	uint64_t a = 0, b = 0, c = 0, d = 0;
	char k;

	memset(r, 0, sizeof *r);
	r->kind = MODSEQ_BAD;
	if (len > sizeof HDR_WORD - 1 && memcmp(p, HDR_WORD,
	    sizeof HDR_WORD - 1) == 0) {
		p += sizeof HDR_WORD - 2;	/* at the space */
		if (field(&p, end, UINT32_MAX, &a) == -1 || a == 0 ||
		    field(&p, end, MODSEQ_MAX - MODSEQ_SPAN, &b) == -1 ||
		    b == 0 || p != end) {
			return MODSEQ_BAD;
		}
		r->uidvalidity = (uint32_t)a;
		r->value = b;
		return r->kind = MODSEQ_HEADER;
	}
	if (len < 3 || p[1] != ' ') {
		return MODSEQ_BAD;
	}
	k = p[0];
	p++;				/* at the space */
	switch (k) {
	case 'C':
	case 'X':
		if (field(&p, end, MODSEQ_MAX, &a) == -1 || a == 0 ||
		    p != end) {
			return MODSEQ_BAD;
		}
		r->value = a;
		return r->kind = k == 'C' ? MODSEQ_CEIL : MODSEQ_EXP;
	case 'M':
		if (field(&p, end, UINT32_MAX, &a) == -1 || a == 0 ||
		    field(&p, end, MODSEQ_MAX, &b) == -1 || b == 0 ||
		    field(&p, end, UINT32_MAX, &c) == -1 ||
		    field(&p, end, (UINT32_C(1) << 26) - 1, &d) == -1 ||
		    p != end) {
			return MODSEQ_BAD;
		}
		r->uid = (uint32_t)a;
		r->value = b;
		r->flags = (uint32_t)c;
		r->keywords = (uint32_t)d;
		return r->kind = MODSEQ_MSG;
	case 'E':
		if (field(&p, end, MODSEQ_MAX, &a) == -1 || a == 0 ||
		    field(&p, end, UINT32_MAX, &b) == -1 || p != end) {
			return MODSEQ_BAD;
		}
		r->value = a;
		r->count = b;
		return r->kind = MODSEQ_END;
	default:
		return MODSEQ_BAD;
	}
}

size_t
modseq_format(char *buf, size_t cap, const struct modseq_rec *r)
{
	char t[MODSEQ_LINE_MAX];
	size_t n = 0;

	switch (r->kind) {
	case MODSEQ_HEADER:
		memcpy(t, HDR_WORD, sizeof HDR_WORD - 1);
		n = sizeof HDR_WORD - 1;
		n += put_u64(t + n, r->uidvalidity);
		t[n++] = ' ';
		n += put_u64(t + n, r->value);
		break;
	case MODSEQ_CEIL:
	case MODSEQ_EXP:
		t[n++] = r->kind == MODSEQ_CEIL ? 'C' : 'X';
		t[n++] = ' ';
		n += put_u64(t + n, r->value);
		break;
	case MODSEQ_MSG:
		t[n++] = 'M';
		t[n++] = ' ';
		n += put_u64(t + n, r->uid);
		t[n++] = ' ';
		n += put_u64(t + n, r->value);
		t[n++] = ' ';
		n += put_u64(t + n, r->flags);
		t[n++] = ' ';
		n += put_u64(t + n, r->keywords);
		break;
	case MODSEQ_END:
		t[n++] = 'E';
		t[n++] = ' ';
		n += put_u64(t + n, r->value);
		t[n++] = ' ';
		n += put_u64(t + n, r->count);
		break;
	default:
		return 0;
	}
	t[n++] = '\n';
	if (n < cap) {
		memcpy(buf, t, n);
		buf[n] = '\0';
	}
	return n;
}

void
modseq_load_init(struct modseq_load *ld)
{
	memset(ld, 0, sizeof *ld);
}

enum modseq_kind
modseq_load_line(struct modseq_load *ld, const char *p, size_t len,
    struct modseq_rec *r)
{
	enum modseq_kind k;

	if (ld->stopped) {
		return MODSEQ_BAD;
	}
	k = modseq_parse(p, len, r);
	if (k == MODSEQ_BAD || (k == MODSEQ_HEADER) == (ld->header != 0) ||
	    (k != MODSEQ_HEADER && (r->value < ld->base ||
	    r->value - ld->base >= MODSEQ_SPAN))) {
		/* A torn or foreign line: what follows cannot be placed
		 * in order, and the end is not clean. */
		ld->stopped = 1;
		ld->clean = 0;
		return MODSEQ_BAD;
	}
	ld->clean = k == MODSEQ_END;
	switch (k) {
	case MODSEQ_HEADER:
		ld->header = 1;
		ld->uidvalidity = r->uidvalidity;
		ld->base = r->value;
		ld->high = r->value;
		ld->ceil = r->value;
		return k;
	case MODSEQ_CEIL:
		if (r->value > ld->ceil) {
			ld->ceil = r->value;
		}
		return k;
	case MODSEQ_EXP:
		if (r->value > ld->vanished) {
			ld->vanished = r->value;
		}
		break;
	case MODSEQ_END:
		ld->count = r->count;
		break;
	default:
		break;
	}
	if (r->value > ld->high) {
		ld->high = r->value;
	}
	return k;
}

int
modseq_load_trusted(const struct modseq_load *ld)
{
	return ld->header && ld->clean;
}

uint64_t
modseq_load_fresh(const struct modseq_load *ld)
{
	uint64_t top = ld->high;

	if (!modseq_load_trusted(ld) && ld->ceil > top) {
		top = ld->ceil;
	}
	return top + 1;
}

uint64_t
modseq_floor(int64_t unix_us)
{
	if (unix_us <= 0) {
		return 1;
	}
	return (uint64_t)unix_us > (MODSEQ_MAX - MODSEQ_SPAN) / 16 ?
	    MODSEQ_MAX - MODSEQ_SPAN : (uint64_t)unix_us * 16;
}

/* --- helpers -------------------------------------------------------- */

/* " <number>": one space, then digits without a leading zero, at
 * most max, ending at the line's end or before the next space. */
static int
field(const char **pp, const char *end, uint64_t max, uint64_t *v)
{
	const char *p = *pp;
	uint64_t n = 0;
	const char *start;

	if (p == end || *p != ' ') {
		return -1;
	}
	start = ++p;
	while (p < end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');

		if (n > (max - d) / 10) {
			return -1;
		}
		n = n * 10 + d;
		p++;
	}
	if (p == start || (p - start > 1 && *start == '0') ||
	    (p < end && *p != ' ')) {
		return -1;
	}
	*v = n;
	*pp = p;
	return 0;
}

static size_t
put_u64(char *out, uint64_t v)
{
	char t[24];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++) {
		out[i] = t[n - 1 - i];
	}
	return n;
}
