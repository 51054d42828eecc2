/* SPDX-License-Identifier: ISC */
/*
 * mime.c - streaming MIME structure parser: RFC 5322 2.2 header
 * fields (unfolding 2.2.3), RFC 2045 5 Content-Type (5.2 defaults),
 * 6 Content-Transfer-Encoding, RFC 2046 5.1 multipart boundaries
 * (5.1.1 delimiters, preamble, epilogue), 5.1.5 multipart/digest,
 * 5.2.1 message/rfc822, RFC 2231 3-4 parameter continuations, RFC 2183
 * Content-Disposition, RFC 3282 Content-Language, RFC 2557 4
 * Content-Location. The IMAP writers are in mime_imap.c.
 *
 * The aim is Dovecot 2.3's tree, byte for byte, so that a client sees
 * the same BODYSTRUCTURE from wren as from the server it moved from.
 * Dovecot's rules, kept here on purpose:
 *  - a boundary line is "--" + any open boundary as a prefix (the
 *    longest one wins, then the newest); "--" after it closes. The
 *    [CR]LF before it belongs to the delimiter, not to the part.
 *  - a boundary line of an enclosing multipart also ends a header.
 *  - Content-* fields count only with MIME-Version or Content-Type in
 *    the same header, or in a body part of a multipart.
 *  - a multipart without a boundary parameter, or whose header does
 *    not end with an empty line, has no children.
 *  - the first Content-Type, -ID, -Description, ... wins; of envelope
 *    fields the last one wins.
 *  - RFC 2231 parameters are merged, not decoded: name*0*=a;name*1*=b
 *    gives ("name*" "ab"); boundaries are cut to 80 octets.
 * Divergences from Dovecot (bounds): at most MIME_PARTS_MAX parts
 * (Dovecot 10000), a header field is cut at MIME_HEADER_MAX octets, a
 * string that does not fit the arena reads as NIL, more than
 * MIME_PARAMS_MAX RFC 2231 pieces are left unmerged.
 *
 * Counting: every size is of the CRLF form. Instead of summing block
 * sizes as Dovecot does, the parser keeps two running counters over
 * the whole input, LFs and bare LFs, and snapshots them at the three
 * offsets of each part; the difference of two snapshots gives lines
 * and CRLF size of any range, whatever the chunking was.
 *
 *   offset  0        hdr_off     body_off          end_off
 *   nl      .  ...   n0          n1                n2
 *   lines of body = n2 - n1; size = (end - body) + (bare2 - bare1)
 */
#include <string.h>

#include "mime.h"
#include "mime_int.h"

/* Where a line starts: peek "--" lines; otherwise header or body. */
enum mime_state {
	ST_LINE,	/* at the start of a line */
	ST_PEEK,	/* collecting a "--" line start */
	ST_HDR,		/* inside a header line */
	ST_BODY,	/* inside a body line */
	ST_SKIPLINE,	/* rest of a boundary line */
	ST_OPAQUE	/* overflow: everything to EOF is one body */
};

/* Header fields the parser keeps. */
enum mime_field {
	FLD_NONE,
	FLD_CTYPE,
	FLD_CTE,
	FLD_CID,
	FLD_CDESC,
	FLD_CMD5,
	FLD_CDISP,
	FLD_CLANG,
	FLD_CLOC,
	FLD_ENV		/* + enum mime_env_field */
};

/* Why a header ended. */
enum mime_hdr_end {
	HDR_END_EMPTY,		/* the empty line */
	HDR_END_CUT		/* a boundary line or the end of input */
};

/* A "--" line is decided once this many octets are known (Dovecot's
 * BOUNDARY_END_MAX_LEN: "--" + boundary + "--"). */
#define PEEK_MAX	(2 + MIME_BOUNDARY_MAX + 2)

#define IS_LWSP(c)	((c) == ' ' || (c) == '\t')

static const char *const env_names[MIME_ENV_N] = {
	"Date", "Subject", "From", "Sender", "Reply-To", "To", "Cc",
	"Bcc", "In-Reply-To", "Message-ID"
};

static void	byte(struct mime *, unsigned char);
static void	line_start(struct mime *, unsigned char);
static void	hdr_line_begin(struct mime *, unsigned char);
static void	hdr_byte(struct mime *, unsigned char);
static void	hdr_line_end(struct mime *);
static void	peek_decide(struct mime *, int eof);
static void	boundary_found(struct mime *, unsigned idx, int epilogue);
static void	after_boundary_line(struct mime *);
static unsigned	new_part(struct mime *, unsigned parent, uint64_t off,
		    uint64_t nl, uint64_t bare);
static void	end_header(struct mime *, enum mime_hdr_end, uint64_t off,
		    uint64_t nl, uint64_t bare);
static void	cut_header(struct mime *, uint64_t off, uint64_t nl,
		    uint64_t bare);
static void	finish_part(struct mime *, unsigned, uint64_t off,
		    uint64_t nl, uint64_t bare);
static void	field_begin(struct mime *);
static void	field_commit(struct mime *);
static void	value_add(struct mime *, unsigned char);
static struct mime_str	arena_put(struct mime *, unsigned part,
			    const char *, size_t);
static struct mime_str	arena_token(struct mime *, unsigned part,
			    const char *, size_t);
static struct mime_str	arena_store(struct mime *, unsigned part,
			    const char *, size_t, size_t room);
static void	parse_ctype(struct mime *, struct mime_part *,
		    const char *, size_t);
static void	parse_cte(struct mime *, struct mime_part *,
		    const char *, size_t);
static void	parse_cdisp(struct mime *, struct mime_part *,
		    const char *, size_t);
static void	parse_clang(struct mime *, struct mime_part *,
		    const char *, size_t);
static const char	*list_find(const char *list, size_t len,
			    unsigned count, const char *name, size_t *vlen);

static const struct mime_str nil_str = { 0, MIME_NIL };

void
mime_init(struct mime *m)
{
	/* The arena and the header buffers need no clearing. */
	memset(m, 0, offsetof(struct mime, value));
	m->new_bnd_len = -1;
	m->state = ST_LINE;
	m->in_hdr = 1;
	(void)new_part(m, MIME_NONE, 0, 0, 0);
	m->cur = MIME_ROOT;
}

void
mime_feed(struct mime *m, const char *data, size_t len)
{
	size_t i = 0;

	if (m->finished) {
		return;
	}
	while (i < len) {
		if (m->state == ST_BODY || m->state == ST_OPAQUE ||
		    m->state == ST_SKIPLINE) {
			/* Fast path: nothing but counting up to the LF. */
			const char *lf = memchr(data + i, '\n', len - i);
			size_t stop = lf != NULL ? (size_t)(lf - data) : len;

			if (stop > i) {
				const unsigned char *u =
				    (const unsigned char *)data;

				m->last2 = stop - i >= 2 ? u[stop - 2] :
				    m->last;
				m->last = u[stop - 1];
				m->pos += stop - i;
				i = stop;
				continue;
			}
		}
		byte(m, (unsigned char)data[i]);
		i++;
	}
}

void
mime_finish(struct mime *m)
{
	unsigned p;

	if (m->finished) {
		return;
	}
	if (m->state == ST_PEEK) {
		peek_decide(m, 1);
	}
	if (m->in_hdr) {
		if (m->state == ST_HDR) {
			hdr_line_end(m);
		}
		cut_header(m, m->pos, m->nl, m->bare);
	}
	for (p = m->cur; p != MIME_NONE; p = m->parts[p].parent) {
		finish_part(m, p, m->pos, m->nl, m->bare);
	}
	m->cur = MIME_ROOT;
	m->finished = 1;
}

const char *
mime_str(const struct mime *m, struct mime_str s, size_t *len)
{
	if (s.len == MIME_NIL || (size_t)s.off + s.len > MIME_ARENA_SIZE) {
		*len = 0;
		return NULL;
	}
	*len = s.len;
	return m->arena + s.off;
}

int
mime_param(const struct mime *m, struct mime_str list, unsigned count,
    const char *name, const char **val, size_t *vlen)
{
	const char *l, *v;
	size_t len;

	l = mime_str(m, list, &len);
	if (l == NULL) {
		return 0;
	}
	v = list_find(l, len, count, name, vlen);
	if (v == NULL) {
		return 0;
	}
	*val = v;
	return 1;
}

unsigned
mime_find(const struct mime *m, const unsigned *nums, size_t n)
{
	unsigned part = MIME_ROOT;
	size_t i;

	if (!m->finished) {
		return MIME_NONE;
	}
	for (i = 0; i < n; i++) {
		const struct mime_part *p = &m->parts[part];
		unsigned k = nums[i];

		if (p->flags & MIME_F_MULTIPART) {
			part = p->child;
			while (k > 1 && part != MIME_NONE) {
				part = m->parts[part].next;
				k--;
			}
			if (k == 0 || part == MIME_NONE) {
				return MIME_NONE;
			}
		} else if (k != 1) {
			return MIME_NONE;
		} else if (i + 1 < n && !(p->flags & MIME_F_RFC822)) {
			return MIME_NONE;
		}
		/* Going on inside a message/rfc822: its embedded message
		 * stands for it. */
		if (i + 1 < n && (m->parts[part].flags & MIME_F_RFC822)) {
			part = m->parts[part].child;
			if (part == MIME_NONE) {
				return MIME_NONE;
			}
		}
	}
	return part;
}

unsigned
mime_embedded(const struct mime *m, unsigned part)
{
	if (part >= m->nparts) {
		return MIME_NONE;
	}
	if (m->parts[part].flags & MIME_F_RFC822) {
		return m->parts[part].child;
	}
	return MIME_NONE;
}

/*
 * The byte machine. Counters first (so a handler that sees an LF
 * already has it counted), then the state, then the history.
 */
static void
byte(struct mime *m, unsigned char c)
{
	if (c == '\n') {
		m->nl++;
		if (m->last != '\r') {
			m->bare++;
		}
	}
	switch (m->state) {
	case ST_LINE:
		line_start(m, c);
		break;
	case ST_PEEK:
		m->peek[m->npeek++] = (char)c;
		if (c == '\n' || m->npeek == PEEK_MAX) {
			m->last2 = m->last;
			m->last = c;
			m->pos++;
			peek_decide(m, 0);
			return;
		}
		break;
	case ST_HDR:
		hdr_byte(m, c);
		break;
	case ST_BODY:
		if (c == '\n') {
			m->state = ST_LINE;
		}
		break;
	case ST_SKIPLINE:
		if (c == '\n') {
			m->last2 = m->last;
			m->last = c;
			m->pos++;
			after_boundary_line(m);
			return;
		}
		break;
	case ST_OPAQUE:
		break;
	}
	m->last2 = m->last;
	m->last = c;
	m->pos++;
}

static void
line_start(struct mime *m, unsigned char c)
{
	if (c == '-' && m->nbnd > 0) {
		/* Maybe a boundary: remember where the line began and the
		 * newline before it, which a delimiter takes along. */
		m->peek_line = m->pos;
		m->peek_nl = m->nl;
		m->peek_bare = m->bare;
		m->peek_prevnl = m->pos == m->seg_start ? 0 :
		    (m->last2 == '\r' ? 2 : 1);
		m->peek[0] = (char)c;
		m->npeek = 1;
		m->state = ST_PEEK;
		return;
	}
	if (m->in_hdr) {
		hdr_line_begin(m, c);
		hdr_byte(m, c);
		return;
	}
	m->state = c == '\n' ? ST_LINE : ST_BODY;
}

/*
 * Boundary test of RFC 2046 5.1.1 the way Dovecot's boundary_line_find
 * does it: the line (without [CR]LF and a closing "--") must start
 * with an open boundary; the longest match wins, then the newest.
 */
static void
peek_decide(struct mime *m, int eof)
{
	const char *d = m->peek + 2;
	size_t size, fs, i, n = m->npeek;
	const char *lf;
	int best = -1, k;

	(void)eof;
	m->npeek = 0;
	if (n >= 2 && m->peek[1] == '-') {
		size = n - 2;
		lf = memchr(d, '\n', size);
		if (lf != NULL) {
			fs = (size_t)(lf - d);
			if (fs > 0 && d[fs - 1] == '\r') {
				fs--;
			}
			if (fs > 2 && d[fs - 1] == '-' && d[fs - 2] == '-') {
				fs -= 2;
			}
		} else {
			fs = size;
		}
		for (k = m->nbnd - 1; k >= 0; k--) {
			const struct mime_bnd *b = &m->bnd[k];

			if (b->len <= fs && memcmp(b->s, d, b->len) == 0 &&
			    (best < 0 || m->bnd[best].len < b->len)) {
				best = k;
			}
		}
		if (best >= 0 && m->in_hdr && m->bnd[best].part == m->cur) {
			best = -1;	/* our own: not yet */
		}
		if (best >= 0) {
			size_t bl = m->bnd[best].len;
			int epi = size >= bl + 2 && d[bl] == '-' &&
			    d[bl + 1] == '-';

			boundary_found(m, (unsigned)best, epi);
			if (lf != NULL) {
				after_boundary_line(m);
			}
			return;
		}
	}
	/* Not a boundary: the octets were an ordinary line start. */
	if (m->in_hdr) {
		hdr_line_begin(m, (unsigned char)m->peek[0]);
		for (i = 0; i < n; i++) {
			hdr_byte(m, (unsigned char)m->peek[i]);
		}
		return;
	}
	m->state = m->peek[n - 1] == '\n' ? ST_LINE : ST_BODY;
}

static void
boundary_found(struct mime *m, unsigned idx, int epilogue)
{
	unsigned owner = m->bnd[idx].part;
	uint64_t off, nl, bare;
	unsigned p;

	/* The peeked octets are counted already; step back to the line
	 * start, then over the newline before it. */
	off = m->peek_line - (uint64_t)m->peek_prevnl;
	nl = m->peek_nl - (m->peek_prevnl ? 1 : 0);
	bare = m->peek_bare - (m->peek_prevnl == 1 ? 1 : 0);
	if (m->in_hdr) {
		cut_header(m, off, nl, bare);
	}
	for (p = m->cur; p != owner && p != MIME_NONE;
	    p = m->parts[p].parent) {
		finish_part(m, p, off, nl, bare);
	}
	m->cur = (uint16_t)owner;
	m->in_hdr = 0;
	/* A close delimiter retires its boundary; any delimiter retires
	 * the boundaries opened after it. */
	m->nbnd = (uint8_t)(epilogue ? idx : idx + 1);
	m->epilogue = epilogue;
	m->state = ST_SKIPLINE;
}

static void
after_boundary_line(struct mime *m)
{
	unsigned p;

	m->seg_start = m->pos;
	if (m->epilogue) {
		m->in_hdr = 0;
		m->state = ST_LINE;
		return;
	}
	if (m->nparts >= MIME_PARTS_MAX) {
		/* No room for another part: the rest is one body. */
		m->parts[m->cur].flags |= MIME_F_OVERFLOW;
		m->in_hdr = 0;
		m->state = ST_OPAQUE;
		return;
	}
	p = new_part(m, m->cur, m->pos, m->nl, m->bare);
	m->parts[p].flags |= MIME_F_IS_MIME;
	m->cur = (uint16_t)p;
	m->in_hdr = 1;
	m->state = ST_LINE;
}

static unsigned
new_part(struct mime *m, unsigned parent, uint64_t off, uint64_t nl,
    uint64_t bare)
{
	unsigned idx = m->nparts++, i;
	struct mime_part *p = &m->parts[idx];

	memset(p, 0, sizeof *p);
	p->parent = (uint16_t)parent;
	p->child = MIME_NONE;
	p->next = MIME_NONE;
	p->hdr_off = p->body_off = p->end_off = off;
	p->type = p->subtype = p->params = nil_str;
	p->id = p->desc = p->cte = p->md5 = nil_str;
	p->disp = p->disp_params = p->lang = p->loc = nil_str;
	for (i = 0; i < MIME_ENV_N; i++) {
		p->env[i] = nil_str;
	}
	/* Start counters, turned into sizes at body start and end. */
	p->hdr_lines = (uint32_t)nl;
	p->hdr_size = bare;
	if (parent != MIME_NONE) {
		struct mime_part *pp = &m->parts[parent];

		p->depth = (uint8_t)(pp->depth + 1);
		if (pp->child == MIME_NONE) {
			pp->child = (uint16_t)idx;
		} else {
			i = pp->child;
			while (m->parts[i].next != MIME_NONE) {
				i = m->parts[i].next;
			}
			m->parts[i].next = (uint16_t)idx;
		}
	}
	m->seg_start = off;
	m->seen_ctype = 0;
	m->new_bnd_len = -1;
	m->line_no = 0;
	m->field = FLD_NONE;
	m->value_len = 0;
	return idx;
}

/*
 * End of the header of m->cur at `off`: decide what the body is
 * (Dovecot's parse_next_header at end of headers).
 */
static void
end_header(struct mime *m, enum mime_hdr_end why, uint64_t off,
    uint64_t nl, uint64_t bare)
{
	struct mime_part *p = &m->parts[m->cur];
	int multipart = 0;

	field_commit(m);
	if (why == HDR_END_EMPTY && m->new_bnd_len >= 0 &&
	    (p->flags & MIME_F_IS_MIME)) {
		if (p->depth + 1 < MIME_DEPTH_MAX) {
			struct mime_bnd *b = &m->bnd[m->nbnd++];

			b->part = m->cur;
			b->len = (uint8_t)m->new_bnd_len;
			memcpy(b->s, m->new_bnd, b->len);
			multipart = 1;
		} else {
			p->flags &= ~MIME_F_MULTIPART;
			p->flags |= MIME_F_OVERFLOW;
		}
	}
	if (!(p->flags & MIME_F_IS_MIME)) {
		/* RFC 2045 4: without MIME-Version the Content-* fields
		 * mean nothing. */
		p->type = p->subtype = p->params = nil_str;
		p->id = p->desc = p->cte = p->md5 = nil_str;
		p->disp = p->disp_params = p->lang = p->loc = nil_str;
		p->nparams = p->ndisp_params = p->nlang = 0;
	}
	if (!m->seen_ctype || !(p->flags & MIME_F_IS_MIME)) {
		/* RFC 2045 5.2 and RFC 2046 5.1.5 defaults. */
		if (p->parent != MIME_NONE &&
		    (m->parts[p->parent].flags & MIME_F_DIGEST)) {
			p->flags |= MIME_F_RFC822;
		} else {
			p->flags |= MIME_F_TEXT;
		}
	}
	p->body_off = off;
	p->hdr_lines = (uint32_t)nl - p->hdr_lines;
	p->hdr_size = (off - p->hdr_off) + (bare - p->hdr_size);
	p->body_lines = (uint32_t)nl;
	p->body_size = bare;
	m->in_hdr = 0;
	m->seen_ctype = 0;
	m->new_bnd_len = -1;
	m->seg_start = off;
	m->state = ST_LINE;
	if (multipart || !(p->flags & MIME_F_RFC822)) {
		return;
	}
	if (p->depth + 1 < MIME_DEPTH_MAX && m->nparts < MIME_PARTS_MAX) {
		/* message/rfc822: the body is a message of its own. */
		m->cur = (uint16_t)new_part(m, m->cur, off, nl, bare);
		m->in_hdr = 1;
	} else {
		p->flags &= ~MIME_F_RFC822;
		p->flags |= MIME_F_OVERFLOW;
	}
}

/* A header ended without its empty line (a boundary, or EOF). An
 * embedded message starting there is empty, and so on down. */
static void
cut_header(struct mime *m, uint64_t off, uint64_t nl, uint64_t bare)
{
	while (m->in_hdr) {
		end_header(m, HDR_END_CUT, off, nl, bare);
	}
}

static void
finish_part(struct mime *m, unsigned idx, uint64_t off, uint64_t nl,
    uint64_t bare)
{
	struct mime_part *p = &m->parts[idx];

	p->end_off = off;
	p->body_lines = (uint32_t)nl - p->body_lines;
	p->body_size = (off - p->body_off) + (bare - p->body_size);
}

/*
 * Header lines. A line starting with SP or HTAB continues the field
 * before it (RFC 5322 2.2.3); the value keeps "\n" between the lines
 * and drops CRs before LF, as Dovecot's full_value does.
 */
static void
hdr_line_begin(struct mime *m, unsigned char c)
{
	m->state = ST_HDR;
	m->line_len = 0;
	m->line_cr = 0;
	if (IS_LWSP(c) && m->line_no > 0) {
		m->cont = 1;
		if (m->field != FLD_NONE) {
			value_add(m, '\n');
		}
	} else {
		field_commit(m);
		m->cont = 0;
		m->name_len = 0;
		m->name_long = 0;
		m->in_value = 0;
	}
	m->line_no++;
}

static void
hdr_byte(struct mime *m, unsigned char c)
{
	if (c == '\n') {
		hdr_line_end(m);
		if (m->line_len == (size_t)m->line_cr && !m->cont) {
			/* The empty line: it belongs to the header. */
			m->field = FLD_NONE;
			end_header(m, HDR_END_EMPTY, m->pos + 1, m->nl,
			    m->bare);
			return;
		}
		m->state = ST_LINE;
		return;
	}
	m->line_len++;
	m->line_cr = c == '\r';
	if (m->cont || m->in_value) {
		if (m->field == FLD_NONE) {
			return;
		}
		if (!m->cont && m->skip_lwsp) {
			if (IS_LWSP(c)) {
				m->lwsp_run++;
				value_add(m, c);
				return;
			}
			/* Leading LWSP of the value is dropped. */
			m->skip_lwsp = 0;
			m->value_len = 0;
		}
		value_add(m, c);
		return;
	}
	if (c == ':') {
		m->in_value = 1;
		m->skip_lwsp = 1;
		m->lwsp_run = 0;
		m->value_len = 0;
		field_begin(m);
		return;
	}
	if (m->name_len < sizeof m->name) {
		m->name[m->name_len++] = (char)c;
	} else {
		m->name_long = 1;
	}
}

/* End of a header line (LF or EOF). */
static void
hdr_line_end(struct mime *m)
{
	if (m->field == FLD_NONE) {
		return;
	}
	if (m->line_cr && m->val_cr) {
		m->value_len--;		/* the CR of CRLF */
	}
	m->val_cr = 0;
	if (!m->cont && m->skip_lwsp && m->lwsp_run > 0 && m->value_len > 0) {
		/* A value of only LWSP keeps all but the first. */
		memmove(m->value, m->value + 1, m->value_len - 1);
		m->value_len--;
	}
	m->skip_lwsp = 0;
}

static void
value_add(struct mime *m, unsigned char c)
{
	m->val_cr = 0;
	if (c == '\0') {
		/* Strings are NUL-free: U+FFFD, as Dovecot's
		 * message_header_strdup. */
		if (m->value_len + 3 <= sizeof m->value) {
			memcpy(m->value + m->value_len, "\xef\xbf\xbd", 3);
			m->value_len += 3;
		}
		return;
	}
	if (m->value_len >= sizeof m->value) {
		return;
	}
	m->value[m->value_len++] = (char)c;
	m->val_cr = c == '\r';
}

/* At the colon: which field is this? */
static void
field_begin(struct mime *m)
{
	struct mime_part *p = &m->parts[m->cur];
	size_t n = m->name_len;
	unsigned i;

	m->field = FLD_NONE;
	if (m->name_long) {
		return;
	}
	while (n > 0 && IS_LWSP(m->name[n - 1])) {
		n--;
	}
	if (mime_strcaseeq(m->name, n, "MIME-Version")) {
		p->flags |= MIME_F_IS_MIME;
	} else if (mime_strcaseeq(m->name, n, "Content-Type")) {
		p->flags |= MIME_F_IS_MIME;
		m->field = FLD_CTYPE;
	} else if (mime_strcaseeq(m->name, n, "Content-Transfer-Encoding")) {
		m->field = FLD_CTE;
	} else if (mime_strcaseeq(m->name, n, "Content-ID")) {
		m->field = FLD_CID;
	} else if (mime_strcaseeq(m->name, n, "Content-Description")) {
		m->field = FLD_CDESC;
	} else if (mime_strcaseeq(m->name, n, "Content-MD5")) {
		m->field = FLD_CMD5;
	} else if (mime_strcaseeq(m->name, n, "Content-Disposition")) {
		m->field = FLD_CDISP;
	} else if (mime_strcaseeq(m->name, n, "Content-Language")) {
		m->field = FLD_CLANG;
	} else if (mime_strcaseeq(m->name, n, "Content-Location")) {
		m->field = FLD_CLOC;
	} else if (m->cur == MIME_ROOT ||
	    (m->parts[p->parent].flags & MIME_F_RFC822)) {
		/* The envelope of the message or an embedded one. */
		for (i = 0; i < MIME_ENV_N; i++) {
			if (mime_strcaseeq(m->name, n, env_names[i])) {
				m->field = FLD_ENV + (int)i;
				break;
			}
		}
	}
}

static void
field_commit(struct mime *m)
{
	struct mime_part *p = &m->parts[m->cur];
	const char *v = m->value;
	size_t len = m->value_len;
	int f = m->field;

	m->field = FLD_NONE;
	switch (f) {
	case FLD_NONE:
		return;
	case FLD_CTYPE:
		if (!m->seen_ctype) {
			m->seen_ctype = 1;
			parse_ctype(m, p, v, len);
		}
		return;
	case FLD_CTE:
		if (p->cte.len == MIME_NIL) {
			parse_cte(m, p, v, len);
		}
		return;
	case FLD_CID:
		if (p->id.len == MIME_NIL) {
			p->id = arena_put(m, m->cur, v, len);
		}
		return;
	case FLD_CDESC:
		if (p->desc.len == MIME_NIL) {
			p->desc = arena_put(m, m->cur, v, len);
		}
		return;
	case FLD_CMD5:
		if (p->md5.len == MIME_NIL) {
			p->md5 = arena_put(m, m->cur, v, len);
		}
		return;
	case FLD_CDISP:
		/* Dovecot tests the params, not the field: a later
		 * Content-Disposition replaces one without params. */
		if (p->ndisp_params == 0) {
			parse_cdisp(m, p, v, len);
		}
		return;
	case FLD_CLANG:
		if (p->nlang == 0) {
			parse_clang(m, p, v, len);
		}
		return;
	case FLD_CLOC:
		if (p->loc.len == MIME_NIL) {
			p->loc = arena_put(m, m->cur, v, len);
		}
		return;
	default:
		/* Envelope fields: the last one wins. */
		p->env[f - FLD_ENV] = arena_put(m, m->cur, v, len);
		return;
	}
}

/* A string into the arena, or NIL when it is full (tokens excepted:
 * they may use the last MIME_ARENA_KEEP octets, see arena_token). */
static struct mime_str
arena_put(struct mime *m, unsigned part, const char *s, size_t len)
{
	return arena_store(m, part, s, len, MIME_ARENA_SIZE -
	    MIME_ARENA_KEEP);
}

static struct mime_str
arena_token(struct mime *m, unsigned part, const char *s, size_t len)
{
	return arena_store(m, part, s, len, MIME_ARENA_SIZE);
}

static struct mime_str
arena_store(struct mime *m, unsigned part, const char *s, size_t len,
    size_t room)
{
	struct mime_str r;
	unsigned i;

	if (len <= MIME_RECENT_LEN) {
		for (i = 0; i < m->nrecent && i < MIME_RECENT_N; i++) {
			r = m->recent[i];
			if (r.len == len && memcmp(m->arena + r.off, s,
			    len) == 0) {
				return r;
			}
		}
	}
	if (len >= MIME_NIL || m->arena_used > room ||
	    len > room - m->arena_used) {
		m->parts[part].flags |= MIME_F_TRUNCATED;
		return nil_str;
	}
	r.off = m->arena_used;
	r.len = (uint16_t)len;
	memcpy(m->arena + m->arena_used, s, len);
	m->arena_used = (uint16_t)(m->arena_used + len);
	if (len <= MIME_RECENT_LEN) {
		m->recent[m->nrecent++ % MIME_RECENT_N] = r;
	}
	return r;
}

/*
 * Content-Type: type "/" subtype *(";" parameter), RFC 2045 5.1. Both
 * Dovecot's halves in one: the flags and boundary of message-parser.c
 * and the strings of message-part-data.c.
 */
static void
parse_ctype(struct mime *m, struct mime_part *p, const char *v, size_t len)
{
	char ctbuf[MIME_HEADER_MAX], lbuf[2 * MIME_HEADER_MAX];
	struct mime_sb ct, list;
	struct mime_lex lx = { (const unsigned char *)v,
	    (const unsigned char *)v + len, NULL };
	unsigned count = 0;
	size_t slash;
	int ret;

	mime_sb_init(&ct, ctbuf, sizeof ctbuf);
	(void)mime_lex_skip(&lx);
	ret = -1;
	if (mime_lex_skip(&lx) > 0 && mime_lex_token(&lx, &ct) > 0 &&
	    *lx.data == '/') {
		lx.data++;
		if (mime_lex_skip(&lx) > 0) {
			mime_sb_addc(&ct, '/');
			ret = mime_lex_token(&lx, &ct);
		}
	}
	for (slash = 0; slash < ct.len && ct.p[slash] != '/'; slash++) {
		;
	}
	if (ct.len == 14 && mime_strcaseeq(ct.p, ct.len, "message/rfc822")) {
		p->flags |= MIME_F_RFC822;
	} else if (ct.len >= 4 && mime_strcaseeq(ct.p, 4, "text") &&
	    (ct.len == 4 || ct.p[4] == '/')) {
		p->flags |= MIME_F_TEXT;
	} else if (ct.len >= 10 && mime_strcaseeq(ct.p, 10, "multipart/")) {
		p->flags |= MIME_F_MULTIPART;
		if (mime_strcaseeq(ct.p + 10, ct.len - 10, "digest")) {
			p->flags |= MIME_F_DIGEST;
		}
	}
	p->type = arena_token(m, m->cur, ct.p, slash);
	p->subtype = arena_token(m, m->cur, ct.p + (slash < ct.len ?
	    slash + 1 : slash), slash < ct.len ? ct.len - slash - 1 : 0);
	if (ret < 0) {
		return;		/* broken: no parameters */
	}
	mime_sb_init(&list, lbuf, sizeof lbuf);
	(void)mime_lex_params(&lx, &list, &count);
	if (list.over) {
		p->flags |= MIME_F_TRUNCATED;
		return;
	}
	p->params = arena_put(m, m->cur, list.p, list.len);
	p->nparams = p->params.len == MIME_NIL ? 0 : (uint16_t)count;
	if (p->flags & MIME_F_MULTIPART) {
		const char *b;
		size_t blen;

		b = list_find(list.p, list.len, count, "boundary", &blen);
		if (b != NULL) {
			if (blen > MIME_BOUNDARY_MAX) {
				blen = MIME_BOUNDARY_MAX;
			}
			memcpy(m->new_bnd, b, blen);
			m->new_bnd_len = (int)blen;
		}
	}
}

/* Content-Transfer-Encoding: one token, RFC 2045 6.1. */
static void
parse_cte(struct mime *m, struct mime_part *p, const char *v, size_t len)
{
	char buf[MIME_HEADER_MAX];
	struct mime_sb tok;
	struct mime_lex lx = { (const unsigned char *)v,
	    (const unsigned char *)v + len, NULL };

	mime_sb_init(&tok, buf, sizeof buf);
	(void)mime_lex_skip(&lx);
	if (mime_lex_token(&lx, &tok) >= 0 && mime_lex_skip(&lx) == 0 &&
	    tok.len > 0) {
		p->cte = arena_token(m, m->cur, tok.p, tok.len);
	}
}

/* Content-Disposition: token *(";" parameter), RFC 2183 2. */
static void
parse_cdisp(struct mime *m, struct mime_part *p, const char *v, size_t len)
{
	char tbuf[MIME_HEADER_MAX], lbuf[2 * MIME_HEADER_MAX];
	struct mime_sb tok, list;
	struct mime_lex lx = { (const unsigned char *)v,
	    (const unsigned char *)v + len, NULL };
	unsigned count = 0;

	mime_sb_init(&tok, tbuf, sizeof tbuf);
	(void)mime_lex_skip(&lx);
	if (mime_lex_token(&lx, &tok) < 0) {
		return;
	}
	p->disp = arena_token(m, m->cur, tok.p, tok.len);
	mime_sb_init(&list, lbuf, sizeof lbuf);
	(void)mime_lex_params(&lx, &list, &count);
	if (list.over) {
		p->flags |= MIME_F_TRUNCATED;
		return;
	}
	p->disp_params = nil_str;
	p->ndisp_params = 0;
	if (count > 0) {
		p->disp_params = arena_put(m, m->cur, list.p, list.len);
		if (p->disp_params.len != MIME_NIL) {
			p->ndisp_params = (uint16_t)count;
		}
	}
}

/* Content-Language: 1#Language-tag, RFC 3282 2, as a list of atoms. */
static void
parse_clang(struct mime *m, struct mime_part *p, const char *v, size_t len)
{
	char abuf[MIME_HEADER_MAX], lbuf[MIME_HEADER_MAX + 64];
	struct mime_sb atom, list;
	struct mime_lex lx = { (const unsigned char *)v,
	    (const unsigned char *)v + len, NULL };
	unsigned count = 0;

	mime_sb_init(&list, lbuf, sizeof lbuf);
	mime_sb_init(&atom, abuf, sizeof abuf);
	(void)mime_lex_skip(&lx);
	while (mime_lex_atom(&lx, &atom) >= 0) {
		mime_sb_add(&list, atom.p, atom.len);
		mime_sb_addc(&list, '\0');
		count++;
		atom.len = 0;
		if (lx.data >= lx.end || *lx.data != ',') {
			break;
		}
		lx.data++;
		(void)mime_lex_skip(&lx);
	}
	if (count == 0 || list.over) {
		return;
	}
	p->lang = arena_put(m, m->cur, list.p, list.len);
	if (p->lang.len != MIME_NIL) {
		p->nlang = (uint16_t)count;
	}
}

static const char *
list_find(const char *list, size_t len, unsigned count, const char *name,
    size_t *vlen)
{
	size_t i = 0, kl, vl;
	unsigned n;

	for (n = 0; n < count && i < len; n++) {
		kl = strnlen(list + i, len - i);
		if (i + kl >= len) {
			break;
		}
		vl = strnlen(list + i + kl + 1, len - i - kl - 1);
		if (mime_strcaseeq(list + i, kl, name)) {
			*vlen = vl;
			return list + i + kl + 1;
		}
		i += kl + 1 + vl + 1;
	}
	return NULL;
}
