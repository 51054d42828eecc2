/* SPDX-License-Identifier: ISC */
/*
 * mime_imap.c - IMAP text of a parsed MIME tree: RFC 3501 7.4.2 BODY,
 * BODYSTRUCTURE and ENVELOPE, with RFC 5322 3.4 address lists (3.4
 * groups, 4.4 obsolete routes) parsed for the envelope. Written to
 * match Dovecot 2.3 byte for byte: its quoting (imap-quote.c), its
 * address parser's repairs (MISSING_MAILBOX, MISSING_DOMAIN,
 * SYNTAX_ERROR, INVALID_ROUTE) and its defaults.
 *
 * Strings are quoted when they can be; a string with 8-bit octets, CR,
 * LF or more than four quotes and backslashes becomes a literal, as
 * Dovecot does. Subjects and display names are cleaned "for humans"
 * (runs of white space folded to one space, ends trimmed), which turns
 * them into literals whenever anything changed.
 */
#include <string.h>

#include "mime.h"
#include "mime_int.h"

/* Output into the caller's buffer, through a window: the octets
 * [skip, skip + cap) of what is written land in p[0 .. cap); len
 * counts everything written. */
struct out {
	char	*p;
	size_t	 cap;
	size_t	 len;
	size_t	 skip;
};

/* One address being built, Dovecot's struct message_address. */
struct afield {
	const char	*p;
	size_t		 len;
	int		 set;
};

struct actx {
	struct mime_lex	 lx;
	struct mime_sb	 str;
	struct mime_sb	 comment;
	struct afield	 name, route, mailbox, domain;
	int		 invalid;
	unsigned	 count;
	struct out	*o;
	char		 sbuf[MIME_HEADER_MAX];
	char		 cbuf[MIME_HEADER_MAX];
	char		 nbuf[MIME_HEADER_MAX];
	char		 rbuf[MIME_HEADER_MAX];
	char		 mbuf[MIME_HEADER_MAX];
	char		 dbuf[MIME_HEADER_MAX];
};

/*
 * The walk, one unit of text at a time (struct mime_wr.step):
 *
 *   WR_START  "("                      -> WR_HEAD top, or WR_ENV top
 *   WR_HEAD   a part up to its first child: a multipart's "(" (then
 *             WR_HEAD of its first child), a message/rfc822's fields
 *             and " (" (then WR_ENV of its embedded message), or a
 *             whole leaf (then WR_UP)
 *   WR_ENV    one ENVELOPE field (" " before all but the first); the
 *             last one closes: ") (" -> WR_HEAD of the embedded
 *             message, or ")" at the end of an ENVELOPE
 *   WR_UP     part idx is complete: ")" and the parent goes on: "("
 *             and the next sibling, or the parent's own tail and
 *             WR_UP of the parent; the top part's WR_UP writes ")"
 *
 * The parent links make a stack unnecessary, so the place between two
 * pieces is a few integers. A unit is rewritten from its start when it
 * is continued, the octets already given skipped (w->off): a unit is
 * at most one part's fields or one envelope field, so a piece costs
 * about one unit however big the whole text.
 */
enum {
	WR_START,
	WR_HEAD,
	WR_ENV,
	WR_UP,
	WR_DONE
};

/* What WR_HEAD found below a part. */
enum {
	HEAD_LEAF,
	HEAD_CHILD,
	HEAD_ENV
};

#define EMPTY_BODY "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL " \
	"\"7bit\" 0 0"
#define QUOTED_MAX_ESCAPES	4

static void	out_add(struct out *, const char *, size_t);
static void	out_s(struct out *, const char *);
static void	out_c(struct out *, char);
static void	out_u(struct out *, uint64_t);
static void	out_nstring(struct out *, const char *, size_t);
static void	out_nstring_nolf(struct out *, const char *, size_t);
static void	out_humans(struct out *, const char *, size_t);
static void	out_mstr(struct out *, const struct mime *, struct mime_str,
		    int nolf);
static void	wr_unit(struct out *, const struct mime *,
		    struct mime_wr *);
static void	write_params(struct out *, const struct mime *,
		    struct mime_str, unsigned, int default_charset);
static void	write_common(struct out *, const struct mime *,
		    const struct mime_part *);
static int	write_head(struct out *, const struct mime *, unsigned,
		    int ext);
static void	write_mp_tail(struct out *, const struct mime *,
		    const struct mime_part *, int ext);
static void	write_leaf_tail(struct out *, const struct mime *,
		    const struct mime_part *, int ext);
static void	write_env_field(struct out *, const struct mime *,
		    unsigned, int field);
static unsigned	write_addresses(struct out *, struct actx *,
		    const char *, size_t);
static void	a_set(struct afield *, char *buf, const struct mime_sb *);
static void	a_const(struct afield *, const char *);
static void	a_emit(struct actx *);
static void	a_fixed(struct actx *);
static int	a_local_part(struct actx *);
static int	a_domain(struct actx *);
static int	a_domain_list(struct actx *);
static int	a_angle_addr(struct actx *);
static int	a_name_addr(struct actx *);
static int	a_addr_spec(struct actx *);
static int	a_mailbox(struct actx *);
static int	a_group(struct actx *);
static int	a_address(struct actx *);
static void	a_address_list(struct actx *);

void
mime_wr_init(struct mime_wr *w, const struct mime *m, unsigned part,
    enum mime_wr_kind kind)
{
	memset(w, 0, sizeof *w);
	w->kind = (uint8_t)kind;
	w->top = w->idx = (uint16_t)part;
	w->step = part < m->nparts ? WR_START : WR_DONE;
}

int
mime_wr_done(const struct mime_wr *w)
{
	return w->step == WR_DONE;
}

size_t
mime_wr_next(struct mime_wr *w, const struct mime *m, char *out,
    size_t cap)
{
	size_t n = 0;

	while (n < cap && w->step != WR_DONE) {
		struct out o = { out + n, cap - n, 0, w->off };
		struct mime_wr next = *w;

		if (w->idx >= m->nparts || w->top >= m->nparts) {
			w->step = WR_DONE;	/* not the tree it began on */
			break;
		}
		wr_unit(&o, m, &next);
		if (o.len < w->off) {
			w->step = WR_DONE;	/* idem: cannot happen */
			break;
		}
		if (o.len - w->off <= cap - n) {
			n += o.len - w->off;
			*w = next;
			w->off = 0;
		} else {
			w->off += cap - n;
			n = cap;
		}
	}
	return n;
}

size_t
mime_bodystructure(const struct mime *m, unsigned part, int extended,
    char *out, size_t cap)
{
	struct out o = { out, cap, 0, 0 };
	struct mime_wr w;

	mime_wr_init(&w, m, part, extended ? MIME_WR_BODYSTRUCTURE :
	    MIME_WR_BODY);
	while (w.step != WR_DONE) {
		wr_unit(&o, m, &w);
	}
	return o.len;
}

size_t
mime_envelope(const struct mime *m, unsigned part, char *out, size_t cap)
{
	struct out o = { out, cap, 0, 0 };
	struct mime_wr w;

	mime_wr_init(&w, m, part, MIME_WR_ENVELOPE);
	while (w.step != WR_DONE) {
		wr_unit(&o, m, &w);
	}
	return o.len;
}

/* Writes the unit at w and moves w to the next one. */
static void
wr_unit(struct out *o, const struct mime *m, struct mime_wr *w)
{
	int ext = w->kind == MIME_WR_BODYSTRUCTURE;
	const struct mime_part *p = &m->parts[w->idx], *pp;

	switch (w->step) {
	case WR_START:
		out_c(o, '(');
		w->step = w->kind == MIME_WR_ENVELOPE ? WR_ENV : WR_HEAD;
		w->field = 0;
		return;
	case WR_HEAD:
		switch (write_head(o, m, w->idx, ext)) {
		case HEAD_CHILD:
			w->idx = p->child;
			break;
		case HEAD_ENV:
			w->step = WR_ENV;
			w->field = 0;
			break;
		default:
			w->step = WR_UP;
			break;
		}
		return;
	case WR_ENV:
		if (w->field > 0) {
			out_c(o, ' ');
		}
		write_env_field(o, m, w->kind == MIME_WR_ENVELOPE ? w->idx :
		    p->child, w->field);
		if (++w->field < MIME_ENV_N) {
			return;
		}
		if (w->kind == MIME_WR_ENVELOPE) {
			out_c(o, ')');
			w->step = WR_DONE;
			return;
		}
		out_s(o, ") (");
		w->idx = p->child;
		w->step = WR_HEAD;
		return;
	case WR_UP:
		if (w->idx == w->top || p->parent >= m->nparts) {
			out_c(o, ')');
			w->step = WR_DONE;
			return;
		}
		pp = &m->parts[p->parent];
		if (pp->flags & MIME_F_MULTIPART) {
			out_c(o, ')');
			if (p->next != MIME_NONE) {
				out_c(o, '(');
				w->idx = p->next;
				w->step = WR_HEAD;
				return;
			}
			write_mp_tail(o, m, pp, ext);
		} else {
			/* message/rfc822: its embedded message is done. */
			out_s(o, ") ");
			out_u(o, pp->body_lines);
			write_leaf_tail(o, m, pp, ext);
		}
		w->idx = p->parent;
		return;
	default:
		return;
	}
}

/*
 * BODY / BODYSTRUCTURE (RFC 3501 7.4.2 body, body-type-1part,
 * body-type-mpart, body-ext-*), as Dovecot's imap-bodystructure.c:
 * part idx up to its first child (HEAD_CHILD: a multipart's "(";
 * HEAD_ENV: a message/rfc822 up to its envelope), or whole
 * (HEAD_LEAF).
 */
static int
write_head(struct out *o, const struct mime *m, unsigned idx, int ext)
{
	const struct mime_part *p = &m->parts[idx];
	int text;

	if (p->flags & MIME_F_MULTIPART) {
		if (p->child != MIME_NONE) {
			out_c(o, '(');
			return HEAD_CHILD;
		}
		/* No body parts at all: one empty text/plain. */
		out_s(o, EMPTY_BODY);
		out_s(o, ext ? " NIL NIL NIL NIL)" : ")");
		write_mp_tail(o, m, p, ext);
		return HEAD_LEAF;
	}
	if (p->flags & MIME_F_RFC822) {
		out_s(o, "\"message\" \"rfc822\"");
		text = 0;
	} else if (p->flags & MIME_F_OVERFLOW) {
		/* Too deep to parse: Dovecot calls it a blob. */
		out_s(o, "\"application\" \"octet-stream\"");
		text = 0;
	} else if (p->type.len == MIME_NIL) {
		out_s(o, "\"text\" \"plain\"");
		text = 1;
	} else {
		size_t tl;
		const char *t = mime_str(m, p->type, &tl);

		text = mime_strcaseeq(t, tl, "text");
		out_mstr(o, m, p->type, 0);
		out_c(o, ' ');
		out_mstr(o, m, p->subtype, 0);
	}
	out_c(o, ' ');
	write_params(o, m, p->params, p->nparams, text);
	out_c(o, ' ');
	if (p->id.len == MIME_NIL) {
		out_s(o, "NIL");
	} else {
		out_mstr(o, m, p->id, 1);
	}
	out_c(o, ' ');
	if (p->desc.len == MIME_NIL) {
		out_s(o, "NIL");
	} else {
		out_mstr(o, m, p->desc, 1);
	}
	out_c(o, ' ');
	if (p->cte.len == MIME_NIL) {
		out_s(o, "\"7bit\"");
	} else {
		out_mstr(o, m, p->cte, 0);
	}
	out_c(o, ' ');
	out_u(o, p->body_size);
	if (text) {
		out_c(o, ' ');
		out_u(o, p->body_lines);
	} else if ((p->flags & MIME_F_RFC822) && p->child != MIME_NONE) {
		out_s(o, " (");
		return HEAD_ENV;
	}
	write_leaf_tail(o, m, p, ext);
	return HEAD_LEAF;
}

/* A multipart after its last body part: subtype [params dsp lang loc]. */
static void
write_mp_tail(struct out *o, const struct mime *m,
    const struct mime_part *p, int ext)
{
	out_c(o, ' ');
	out_mstr(o, m, p->subtype, 0);
	if (!ext) {
		return;
	}
	out_c(o, ' ');
	write_params(o, m, p->params, p->nparams, 0);
	write_common(o, m, p);
}

/* body-ext-1part after the lines: md5 dsp lang loc. */
static void
write_leaf_tail(struct out *o, const struct mime *m,
    const struct mime_part *p, int ext)
{
	if (!ext) {
		return;
	}
	out_c(o, ' ');
	if (p->md5.len == MIME_NIL) {
		out_s(o, "NIL");
	} else {
		out_mstr(o, m, p->md5, 1);
	}
	write_common(o, m, p);
}

/* body-fld-dsp, body-fld-lang, body-fld-loc. */
static void
write_common(struct out *o, const struct mime *m, const struct mime_part *p)
{
	const char *l;
	size_t len, i, n;
	unsigned k;

	out_c(o, ' ');
	if (p->disp.len == MIME_NIL) {
		out_s(o, "NIL");
	} else {
		out_c(o, '(');
		out_mstr(o, m, p->disp, 0);
		out_c(o, ' ');
		write_params(o, m, p->disp_params, p->ndisp_params, 0);
		out_c(o, ')');
	}
	out_c(o, ' ');
	l = mime_str(m, p->lang, &len);
	if (l == NULL || p->nlang == 0) {
		out_s(o, "NIL");
	} else {
		out_c(o, '(');
		for (i = 0, k = 0; k < p->nlang && i < len; k++) {
			n = strnlen(l + i, len - i);
			if (k > 0) {
				out_c(o, ' ');
			}
			out_nstring(o, l + i, n);
			i += n + 1;
		}
		out_c(o, ')');
	}
	out_c(o, ' ');
	if (p->loc.len == MIME_NIL) {
		out_s(o, "NIL");
	} else {
		out_mstr(o, m, p->loc, 1);
	}
}

/* body-fld-param; text/ * gets ("charset" "us-ascii") unless it names
 * a charset (RFC 2045 5.2). */
static void
write_params(struct out *o, const struct mime *m, struct mime_str list,
    unsigned count, int default_charset)
{
	const char *l;
	size_t len, i = 0, kl, vl;
	unsigned k;
	int seen = 0;

	l = mime_str(m, list, &len);
	if (l == NULL) {
		count = 0;
	}
	if (!default_charset && count == 0) {
		out_s(o, "NIL");
		return;
	}
	out_c(o, '(');
	for (k = 0; k < count && i < len; k++) {
		kl = strnlen(l + i, len - i);
		if (i + kl >= len) {
			break;
		}
		vl = strnlen(l + i + kl + 1, len - i - kl - 1);
		if (k > 0) {
			out_c(o, ' ');
		}
		if (default_charset && mime_strcaseeq(l + i, kl, "charset")) {
			seen = 1;
		}
		out_nstring(o, l + i, kl);
		out_c(o, ' ');
		out_nstring(o, l + i + kl + 1, vl);
		i += kl + 1 + vl + 1;
	}
	if (default_charset && !seen) {
		if (k > 0) {
			out_c(o, ' ');
		}
		out_s(o, "\"charset\" \"us-ascii\"");
	}
	out_c(o, ')');
}

/*
 * ENVELOPE (RFC 3501 7.4.2): date subject from sender reply-to to cc
 * bcc in-reply-to message-id; sender and reply-to default to from.
 * One field of part idx.
 */
static void
write_env_field(struct out *o, const struct mime *m, unsigned idx,
    int f)
{
	const struct mime_part *p = &m->parts[idx];
	struct actx a;
	const char *s, *from;
	size_t len, flen;

	s = mime_str(m, p->env[f], &len);
	switch (f) {
	case MIME_ENV_DATE:
	case MIME_ENV_IN_REPLY_TO:
	case MIME_ENV_MESSAGE_ID:
		out_nstring_nolf(o, s, len);
		return;
	case MIME_ENV_SUBJECT:
		if (s == NULL) {
			out_s(o, "NIL");
		} else {
			out_humans(o, s, len);
		}
		return;
	case MIME_ENV_SENDER:
	case MIME_ENV_REPLY_TO: {
		struct out count = { NULL, 0, 0, 0 };

		from = mime_str(m, p->env[MIME_ENV_FROM], &flen);
		if (s == NULL || write_addresses(&count, &a, s, len) == 0) {
			s = from;
			len = flen;
		}
		break;
	}
	default:
		break;
	}
	(void)write_addresses(o, &a, s, len);
}

/* An address list as ((name adl mailbox host) ...) or NIL; returns the
 * number of addresses written. */
static unsigned
write_addresses(struct out *o, struct actx *a, const char *s, size_t len)
{
	a->o = o;
	a->count = 0;
	if (s != NULL) {
		a->lx.data = (const unsigned char *)s;
		a->lx.end = (const unsigned char *)s + len;
		mime_sb_init(&a->str, a->sbuf, sizeof a->sbuf);
		mime_sb_init(&a->comment, a->cbuf, sizeof a->cbuf);
		a->lx.comment = &a->comment;
		memset(&a->name, 0, sizeof a->name);
		a->route = a->mailbox = a->domain = a->name;
		a->invalid = 0;
		if (mime_lex_skip(&a->lx) > 0) {
			a_address_list(a);
		}
	}
	if (a->count == 0) {
		out_s(o, "NIL");
	} else {
		out_c(o, ')');
	}
	return a->count;
}

/*
 * RFC 5322 3.4 address parsing, Dovecot's message-address.c step by
 * step (its return convention: 1 more input, 0 end, -1 error).
 */
static void
a_set(struct afield *f, char *buf, const struct mime_sb *sb)
{
	memcpy(buf, sb->p, sb->len);
	f->p = buf;
	f->len = sb->len;
	f->set = 1;
}

static void
a_const(struct afield *f, const char *s)
{
	f->p = s;
	f->len = strlen(s);
	f->set = 1;
}

static void
a_emit(struct actx *a)
{
	struct out *o = a->o;

	if (a->count == 0) {
		out_c(o, '(');
	}
	a->count++;
	out_c(o, '(');
	if (a->name.set) {
		out_humans(o, a->name.p, a->name.len);
	} else {
		out_s(o, "NIL");
	}
	out_c(o, ' ');
	out_nstring(o, a->route.set ? a->route.p : NULL, a->route.len);
	out_c(o, ' ');
	out_nstring(o, a->mailbox.set ? a->mailbox.p : NULL,
	    a->mailbox.len);
	out_c(o, ' ');
	out_nstring(o, a->domain.set ? a->domain.p : NULL, a->domain.len);
	out_c(o, ')');
	memset(&a->name, 0, sizeof a->name);
	a->route = a->mailbox = a->domain = a->name;
	a->invalid = 0;
}

static void
a_fixed(struct actx *a)
{
	if (!a->mailbox.set) {
		a_const(&a->mailbox, "MISSING_MAILBOX");
		a->invalid = 1;
	}
	if (!a->domain.set || a->domain.len == 0) {
		a_const(&a->domain, "MISSING_DOMAIN");
		a->invalid = 1;
	}
	a_emit(a);
}

static int
a_local_part(struct actx *a)
{
	int ret;

	a->str.len = 0;
	if (*a->lx.data == '"') {
		ret = mime_lex_quoted(&a->lx, &a->str);
	} else {
		ret = mime_lex_dot_atom(&a->lx, &a->str);
	}
	if (ret < 0) {
		return -1;
	}
	a_set(&a->mailbox, a->mbuf, &a->str);
	return ret;
}

static int
a_domain(struct actx *a)
{
	int ret;

	a->str.len = 0;
	if ((ret = mime_lex_domain(&a->lx, &a->str)) < 0) {
		return -1;
	}
	a_set(&a->domain, a->dbuf, &a->str);
	return ret;
}

/* obs-domain-list = "@" domain *(*(CFWS / ",") [CFWS] "@" domain) */
static int
a_domain_list(struct actx *a)
{
	int ret;

	a->str.len = 0;
	for (;;) {
		if (a->lx.data >= a->lx.end) {
			return 0;
		}
		if (*a->lx.data != '@') {
			break;
		}
		if (a->str.len > 0) {
			mime_sb_addc(&a->str, ',');
		}
		mime_sb_addc(&a->str, '@');
		if ((ret = mime_lex_domain(&a->lx, &a->str)) <= 0) {
			return ret;
		}
		while (mime_lex_skip(&a->lx) > 0 && *a->lx.data == ',') {
			a->lx.data++;
		}
	}
	a_set(&a->route, a->rbuf, &a->str);
	return 1;
}

/* angle-addr = "<" [obs-route] addr-spec ">" */
static int
a_angle_addr(struct actx *a)
{
	a->lx.data++;
	if (mime_lex_skip(&a->lx) <= 0) {
		return -1;
	}
	if (*a->lx.data == '@') {
		if (a_domain_list(a) > 0 && *a->lx.data == ':') {
			a->lx.data++;
		} else {
			a_const(&a->route, "INVALID_ROUTE");
			if (a->lx.data >= a->lx.end) {
				return -1;
			}
		}
		if (mime_lex_skip(&a->lx) <= 0) {
			return -1;
		}
	}
	if (*a->lx.data != '>') {
		if (a_local_part(a) <= 0) {
			return -1;
		}
		if (*a->lx.data == '@' && a_domain(a) <= 0) {
			return -1;
		}
	}
	if (*a->lx.data != '>') {
		return -1;
	}
	a->lx.data++;
	return mime_lex_skip(&a->lx);
}

/* name-addr = [display-name] angle-addr */
static int
a_name_addr(struct actx *a)
{
	a->str.len = 0;
	if (mime_lex_phrase(&a->lx, &a->str) <= 0 || *a->lx.data != '<') {
		return -1;
	}
	if (a->str.len > 0) {
		a_set(&a->name, a->nbuf, &a->str);
	}
	if (a_angle_addr(a) < 0) {
		a_const(&a->domain, "SYNTAX_ERROR");
		a->invalid = 1;
	}
	return a->lx.data < a->lx.end ? 1 : 0;
}

/* addr-spec = local-part "@" domain; a (comment) is the name. */
static int
a_addr_spec(struct actx *a)
{
	int ret, ret2 = -2, quoted;

	a->comment.len = 0;
	quoted = *a->lx.data == '"';
	ret = a_local_part(a);
	if (ret <= 0) {
		a->invalid = 1;
	}
	if (ret != 0 && a->lx.data < a->lx.end && *a->lx.data == '@') {
		ret2 = a_domain(a);
		if (ret2 <= 0) {
			ret = ret2;
		}
	}
	if (a->comment.len > 0) {
		a_set(&a->name, a->nbuf, &a->comment);
	} else if (ret2 == -2) {
		/* "user" alone is a mailbox; "user more words" is a
		 * display name. */
		size_t orig;

		mime_sb_addc(&a->str, ' ');
		orig = a->str.len;
		(void)mime_lex_phrase(&a->lx, &a->str);
		if (a->str.len != orig) {
			a->mailbox.set = 0;
			a_set(&a->name, a->nbuf, &a->str);
		} else if (!quoted) {
			a_const(&a->domain, "");
		}
		a->invalid = 1;
		ret = -1;
	}
	return ret;
}

static int
a_mailbox(struct actx *a)
{
	const unsigned char *start = a->lx.data;
	int ret;

	if ((ret = a_name_addr(a)) < 0) {
		a->lx.data = start;
		ret = a_addr_spec(a);
		if (a->invalid && !a->name.set && a->mailbox.set &&
		    !a->domain.set) {
			a->name = a->mailbox;
			a->mailbox.set = 0;
		}
	}
	if (ret < 0) {
		a->invalid = 1;
	}
	a_fixed(a);
	return ret;
}

/* group = display-name ":" [group-list] ";" [CFWS]: written as
 * (NIL NIL "name" NIL) members (NIL NIL NIL NIL). */
static int
a_group(struct actx *a)
{
	int ret;

	a->str.len = 0;
	if (mime_lex_phrase(&a->lx, &a->str) <= 0 || *a->lx.data != ':') {
		return -1;
	}
	a->lx.data++;
	if ((ret = mime_lex_skip(&a->lx)) <= 0) {
		a->invalid = 1;
	}
	a_set(&a->mailbox, a->mbuf, &a->str);
	a_emit(a);
	if (ret > 0 && *a->lx.data != ';') {
		for (;;) {
			(void)a_mailbox(a);
			if (a->lx.data >= a->lx.end || *a->lx.data != ',') {
				break;
			}
			a->lx.data++;
			if (mime_lex_skip(&a->lx) <= 0) {
				ret = -1;
				break;
			}
		}
	}
	if (ret >= 0) {
		if (a->lx.data >= a->lx.end || *a->lx.data != ';') {
			ret = -1;
		} else {
			a->lx.data++;
			ret = mime_lex_skip(&a->lx);
		}
	}
	a_emit(a);
	return ret == 0 ? 0 : 1;
}

static int
a_address(struct actx *a)
{
	const unsigned char *start = a->lx.data;
	int ret;

	if ((ret = a_group(a)) < 0) {
		a->lx.data = start;
		ret = a_mailbox(a);
	}
	return ret;
}

static void
a_address_list(struct actx *a)
{
	int ret;

	for (;;) {
		if (a_address(a) == 0) {
			break;
		}
		if (a->lx.data >= a->lx.end || *a->lx.data != ',') {
			break;
		}
		a->lx.data++;
		if ((ret = mime_lex_skip(&a->lx)) <= 0) {
			if (ret < 0) {
				a_fixed(a);	/* trailing garbage */
			}
			break;
		}
	}
}

/*
 * Strings (Dovecot's imap-quote.c).
 */
static void
out_add(struct out *o, const char *s, size_t n)
{
	size_t pos = o->len, at;

	o->len += n;
	if (o->len <= o->skip || o->cap == 0) {
		return;
	}
	if (pos < o->skip) {
		s += o->skip - pos;
		n -= o->skip - pos;
		pos = o->skip;
	}
	at = pos - o->skip;
	if (at >= o->cap) {
		return;
	}
	memcpy(o->p + at, s, n < o->cap - at ? n : o->cap - at);
}

static void
out_s(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

static void
out_c(struct out *o, char c)
{
	if (o->skip == 0 && o->len < o->cap) {
		o->p[o->len++] = c;
		return;
	}
	out_add(o, &c, 1);
}

static void
out_u(struct out *o, uint64_t v)
{
	char d[24];
	size_t n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0) {
		out_c(o, d[--n]);
	}
}

static void
out_literal(struct out *o, const char *s, size_t len)
{
	out_c(o, '{');
	out_u(o, len);
	out_s(o, "}\r\n");
	out_add(o, s, len);
}

/* nstring: NIL, a quoted string, or a literal. */
static void
out_nstring(struct out *o, const char *s, size_t len)
{
	unsigned escapes = 0;
	size_t i;

	if (s == NULL) {
		out_s(o, "NIL");
		return;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			if (escapes++ < QUOTED_MAX_ESCAPES) {
				continue;
			}
			out_literal(o, s, len);
			return;
		}
		if (c == '\r' || c == '\n' || c >= 0x80) {
			out_literal(o, s, len);
			return;
		}
	}
	out_c(o, '"');
	for (i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			out_c(o, '\\');
		}
		out_c(o, s[i]);
	}
	out_c(o, '"');
}

/* The same after unfolding: a line break becomes a space unless white
 * space follows it. */
static void
out_nstring_nolf(struct out *o, const char *s, size_t len)
{
	char buf[MIME_HEADER_MAX];
	size_t i, n = 0;

	if (s == NULL || (memchr(s, '\r', len) == NULL &&
	    memchr(s, '\n', len) == NULL)) {
		out_nstring(o, s, len);
		return;
	}
	for (i = 0; i < len && n < sizeof buf; i++) {
		if (s[i] != '\r' && s[i] != '\n') {
			buf[n++] = s[i];
		} else if (i + 1 < len && s[i + 1] != ' ' &&
		    s[i + 1] != '\t' && s[i + 1] != '\r' &&
		    s[i + 1] != '\n') {
			buf[n++] = ' ';
		}
	}
	out_nstring(o, buf, n);
}

/* imap_append_string_for_humans: fold white space, drop line breaks,
 * trim; quoted as is when nothing needed changing, else a literal. */
static void
out_humans(struct out *o, const char *s, size_t size)
{
	size_t i, remove = 0;
	int wsprefix = 1, last_lwsp = 1, modify = 0, pending = 0;

	for (i = 0; i < size; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case 0:
			last_lwsp = 0;
			modify = 1;
			break;
		case '\t':
		case ' ':
			if (c == '\t' || last_lwsp) {
				modify = 1;
			}
			if (last_lwsp) {
				remove++;
			}
			last_lwsp = 1;
			break;
		case '\r':
		case '\n':
			remove++;
			modify = 1;
			break;
		case '"':
		case '\\':
			modify = 1;
			last_lwsp = 0;
			break;
		default:
			if (c & 0x80) {
				modify = 1;
			}
			last_lwsp = 0;
			break;
		}
		if (!last_lwsp) {
			wsprefix = 0;
		}
	}
	if (last_lwsp && size > 0 && !wsprefix) {
		modify = 1;
		remove++;
	}
	if (!modify) {
		out_c(o, '"');
		out_add(o, s, size);
		out_c(o, '"');
		return;
	}
	if (size == remove) {
		out_s(o, "\"\"");
		return;
	}
	out_c(o, '{');
	out_u(o, size - remove);
	out_s(o, "}\r\n");
	last_lwsp = 1;
	for (i = 0; i < size; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '\t':
		case ' ':
			if (!last_lwsp) {
				pending = 1;
			}
			last_lwsp = 1;
			break;
		case '\r':
		case '\n':
			break;
		default:
			if (pending) {
				out_c(o, ' ');
				pending = 0;
			}
			out_c(o, c == 0 ? (char)0x80 : (char)c);
			last_lwsp = 0;
			break;
		}
	}
}

static void
out_mstr(struct out *o, const struct mime *m, struct mime_str ms, int nolf)
{
	size_t len;
	const char *s = mime_str(m, ms, &len);

	if (s == NULL) {
		/* Lost to the arena: an empty string keeps the syntax. */
		s = "";
		len = 0;
	}
	if (nolf) {
		out_nstring_nolf(o, s, len);
	} else {
		out_nstring(o, s, len);
	}
}
