/* SPDX-License-Identifier: ISC */
/*
 * imap_parse_args.c - sequence sets, and the arguments of FETCH, STORE
 * and SEARCH from the argument tree of a parsed command (see
 * imap_parse.h). RFC 3501 sections 6.4.4 (SEARCH keys), 6.4.5 (FETCH
 * items, body sections and partials), 6.4.6 (STORE items), 2.3.2
 * (flags; \Recent is the server's) and 9 (formal syntax:
 * sequence-set, fetch-att, section-spec, store-att-flags, search-key,
 * date).
 */
#include <string.h>
#include <strings.h>

#include "imap/imap_parse.h"

/* Operands of a search key (search_keys[].arg). */
enum {
	SA_NONE,
	SA_STRING,	/* astring */
	SA_DATE,
	SA_NUMBER,
	SA_KEYWORD,
	SA_SEQSET,
	SA_HEADER,	/* field name and value */
	SA_MODSEQ,	/* [entry-name entry-type-req] modseq */
	SA_NOT,		/* one key */
	SA_OR		/* two keys */
};

static const struct {
	const char	*name;
	uint8_t		 key;	/* enum imap_skey */
	uint8_t		 arg;
} search_keys[] = {
	{ "ALL", IMAP_SK_ALL, SA_NONE },
	{ "ANSWERED", IMAP_SK_ANSWERED, SA_NONE },
	{ "BCC", IMAP_SK_BCC, SA_STRING },
	{ "BEFORE", IMAP_SK_BEFORE, SA_DATE },
	{ "BODY", IMAP_SK_BODY, SA_STRING },
	{ "CC", IMAP_SK_CC, SA_STRING },
	{ "DELETED", IMAP_SK_DELETED, SA_NONE },
	{ "DRAFT", IMAP_SK_DRAFT, SA_NONE },
	{ "FLAGGED", IMAP_SK_FLAGGED, SA_NONE },
	{ "FROM", IMAP_SK_FROM, SA_STRING },
	{ "HEADER", IMAP_SK_HEADER, SA_HEADER },
	{ "KEYWORD", IMAP_SK_KEYWORD, SA_KEYWORD },
	{ "LARGER", IMAP_SK_LARGER, SA_NUMBER },
	{ "MODSEQ", IMAP_SK_MODSEQ, SA_MODSEQ },
	{ "NEW", IMAP_SK_NEW, SA_NONE },
	{ "NOT", IMAP_SK_NOT, SA_NOT },
	{ "OLD", IMAP_SK_OLD, SA_NONE },
	{ "ON", IMAP_SK_ON, SA_DATE },
	{ "OR", IMAP_SK_OR, SA_OR },
	{ "RECENT", IMAP_SK_RECENT, SA_NONE },
	{ "SEEN", IMAP_SK_SEEN, SA_NONE },
	{ "SENTBEFORE", IMAP_SK_SENTBEFORE, SA_DATE },
	{ "SENTON", IMAP_SK_SENTON, SA_DATE },
	{ "SENTSINCE", IMAP_SK_SENTSINCE, SA_DATE },
	{ "SINCE", IMAP_SK_SINCE, SA_DATE },
	{ "SMALLER", IMAP_SK_SMALLER, SA_NUMBER },
	{ "SUBJECT", IMAP_SK_SUBJECT, SA_STRING },
	{ "TEXT", IMAP_SK_TEXT, SA_STRING },
	{ "TO", IMAP_SK_TO, SA_STRING },
	{ "UID", IMAP_SK_UID, SA_SEQSET },
	{ "UNANSWERED", IMAP_SK_UNANSWERED, SA_NONE },
	{ "UNDELETED", IMAP_SK_UNDELETED, SA_NONE },
	{ "UNDRAFT", IMAP_SK_UNDRAFT, SA_NONE },
	{ "UNFLAGGED", IMAP_SK_UNFLAGGED, SA_NONE },
	{ "UNKEYWORD", IMAP_SK_UNKEYWORD, SA_KEYWORD },
	{ "UNSEEN", IMAP_SK_UNSEEN, SA_NONE },
};

/* FETCH items that are plain atoms, and the macros (RFC 3501 6.4.5). */
static const struct {
	const char	*name;
	unsigned	 items;
	int		 seen;
	int		 macro;	/* only alone, never in a list */
} fetch_atts[] = {
	{ "FLAGS", IMAP_FETCH_FLAGS, 0, 0 },
	{ "INTERNALDATE", IMAP_FETCH_INTERNALDATE, 0, 0 },
	{ "RFC822.SIZE", IMAP_FETCH_RFC822_SIZE, 0, 0 },
	{ "ENVELOPE", IMAP_FETCH_ENVELOPE, 0, 0 },
	{ "BODY", IMAP_FETCH_BODY, 0, 0 },
	{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE, 0, 0 },
	{ "UID", IMAP_FETCH_UID, 0, 0 },
	{ "MODSEQ", IMAP_FETCH_MODSEQ, 0, 0 },
	{ "RFC822", IMAP_FETCH_RFC822, 1, 0 },
	{ "RFC822.HEADER", IMAP_FETCH_RFC822_HEADER, 0, 0 },
	{ "RFC822.TEXT", IMAP_FETCH_RFC822_TEXT, 1, 0 },
	{ "FAST", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
	    IMAP_FETCH_RFC822_SIZE, 0, 1 },
	{ "ALL", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
	    IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE, 0, 1 },
	{ "FULL", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
	    IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY,
	    0, 1 },
};

static const struct {
	const char	*name;
	unsigned	 flag;
} sys_flags[] = {
	{ "\\Seen", IMAP_FL_SEEN }, { "\\Answered", IMAP_FL_ANSWERED },
	{ "\\Flagged", IMAP_FL_FLAGGED }, { "\\Deleted", IMAP_FL_DELETED },
	{ "\\Draft", IMAP_FL_DRAFT },
};

static const char *const sect_names[] = {
	[IMAP_SECT_ALL] = "",
	[IMAP_SECT_HEADER] = "HEADER",
	[IMAP_SECT_HEADER_FIELDS] = "HEADER.FIELDS",
	[IMAP_SECT_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
	[IMAP_SECT_TEXT] = "TEXT",
	[IMAP_SECT_MIME] = "MIME",
};

static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* A cursor over the text of one BODY[...] token. */
struct cur {
	const char	*s;
	size_t		 len;
	size_t		 pos;
};

/* Output that counts what it needs and writes what fits. */
struct out {
	char		*buf;
	size_t		 cap;
	size_t		 n;
};

static int		seq_number(struct imap_seqset_iter *, uint32_t *);
static enum imap_perr	fetch_att(struct imap_fetch *,
			    const struct imap_arg *, int);
static enum imap_perr	fetch_body(struct imap_fetch *,
			    const struct imap_arg *);
static enum imap_perr	section_parse(struct imap_fetch *,
			    struct imap_fetch_body *, struct cur *);
static enum imap_perr	header_list(struct imap_fetch *,
			    struct imap_fetch_body *, struct cur *);
static enum imap_perr	field_name(struct cur *, struct imap_str *);
static int		is_ftext(const char *, size_t);
static int		cur_number(struct cur *, int, uint32_t *);
static enum imap_perr	store_flag(struct imap_store *,
			    const struct imap_arg *);
static enum imap_perr	keyword_check(const struct imap_arg *);
static enum imap_perr	search_key(struct imap_search *,
			    const struct imap_cmd *, size_t *, size_t);
static enum imap_perr	search_operand(struct imap_search_node *, int,
			    const struct imap_arg *);
static int		parse_date(const struct imap_arg *, int32_t *);
static int		parse_date_time(const struct imap_arg *, int64_t *);
static int		digits(const char *, size_t, int *);
static int32_t		days_from_civil(int, int, int);
static int		word_eq(const char *, size_t, const char *);
static void		out_put(struct out *, const char *, size_t);
static void		out_u32(struct out *, uint32_t);

/* --- sequence sets ------------------------------------------------ */

int
imap_seqset_valid(const char *p, size_t len)
{
	struct imap_seqset_iter it;
	uint32_t lo, hi;
	int rc;

	if (len == 0) {
		return -1;
	}
	if (len == 1 && p[0] == '$') {
		return 0;	/* RFC 5182: the session puts its set there */
	}
	imap_seqset_begin(&it, p, len, 1);
	while ((rc = imap_seqset_next(&it, &lo, &hi)) == 1) {
		continue;
	}
	return rc;
}

void
imap_seqset_begin(struct imap_seqset_iter *it, const char *p, size_t len,
    uint32_t star)
{
	it->p = p;
	it->len = len;
	it->pos = 0;
	it->star = star;
}

int
imap_seqset_next(struct imap_seqset_iter *it, uint32_t *lo, uint32_t *hi)
{
	uint32_t a, b;

	if (it->pos >= it->len) {
		return it->len == 0 ? -1 : 0;
	}
	if (seq_number(it, &a) != 0) {
		return -1;
	}
	b = a;
	if (it->pos < it->len && it->p[it->pos] == ':') {
		it->pos++;
		if (seq_number(it, &b) != 0) {
			return -1;
		}
	}
	if (it->pos < it->len) {
		/* a ',' and another element must follow */
		if (it->p[it->pos] != ',' || it->pos + 1 == it->len) {
			it->pos = it->len;
			return -1;
		}
		it->pos++;
	}
	*lo = a < b ? a : b;
	*hi = a < b ? b : a;
	return 1;
}

/* seq-number = nz-number / "*" */
static int
seq_number(struct imap_seqset_iter *it, uint32_t *v)
{
	uint64_t n = 0;
	size_t start = it->pos;

	if (it->pos < it->len && it->p[it->pos] == '*') {
		it->pos++;
		*v = it->star;
		return 0;
	}
	if (it->pos >= it->len || it->p[it->pos] < '1' ||
	    it->p[it->pos] > '9') {
		it->pos = it->len;
		return -1;
	}
	while (it->pos < it->len && it->p[it->pos] >= '0' &&
	    it->p[it->pos] <= '9') {
		n = n * 10 + (uint64_t)(it->p[it->pos++] - '0');
		if (n > UINT32_MAX || it->pos - start > 10) {
			it->pos = it->len;
			return -1;
		}
	}
	*v = (uint32_t)n;
	return 0;
}

/* --- FETCH -------------------------------------------------------- */

enum imap_perr
imap_fetch_parse(const struct imap_cmd *c, struct imap_fetch *f)
{
	const struct imap_arg *a;
	enum imap_perr e;

	f->items = 0;
	f->seen = 0;
	f->nbody = 0;
	f->nfield = 0;
	f->changedsince = 0;
	f->vanished = 0;
	if (c->nargs < 2) {
		return IMAP_PE_MISSING;
	}
	a = &c->args[1];
	if (a->next != c->nargs) {
		/* RFC 7162 3.1.4.1, 3.2.6: (CHANGEDSINCE n [VANISHED]) */
		const struct imap_arg *m = &c->args[a->next];

		for (size_t j = a->next + 1u; j < m->next;
		    j = c->args[j].next) {
			if (imap_arg_is(&c->args[j], "VANISHED")) {
				f->vanished = 1;
			} else if (imap_arg_is(&c->args[j], "CHANGEDSINCE") &&
			    c->args[j].next < m->next && imap_arg_modseq(
			    &c->args[c->args[j].next], &f->changedsince) == 0 &&
			    f->changedsince > 0) {
				j = c->args[j].next;
			} else {
				return IMAP_PE_ARG;
			}
		}
		if (f->vanished && (f->changedsince == 0 || !c->uid)) {
			return IMAP_PE_ARG;	/* RFC 7162 3.2.6 */
		}
	}
	if (a->type != IMAP_ARG_LIST) {
		return fetch_att(f, a, 1);
	}
	if (a->nchild == 0) {
		return IMAP_PE_MISSING;
	}
	if (a->nchild > IMAP_FETCH_ATTS_MAX) {
		return IMAP_PE_FETCH_MANY;
	}
	for (size_t j = 2; j < a->next; j = c->args[j].next) {
		if ((e = fetch_att(f, &c->args[j], 0)) != IMAP_PE_OK) {
			return e;
		}
	}
	return IMAP_PE_OK;
}

size_t
imap_fetch_body_fmt(const struct imap_fetch *f,
    const struct imap_fetch_body *b, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };

	if (b->binary == IMAP_BIN_SIZE) {
		out_put(&o, "BINARY.SIZE[", 12);
	} else if (b->binary) {
		out_put(&o, "BINARY[", 7);
	} else {
		out_put(&o, "BODY[", 5);
	}
	for (unsigned i = 0; i < b->nparts; i++) {
		if (i > 0) {
			out_put(&o, ".", 1);
		}
		out_u32(&o, b->part[i]);
	}
	if (b->text != IMAP_SECT_ALL) {
		if (b->nparts > 0) {
			out_put(&o, ".", 1);
		}
		out_put(&o, sect_names[b->text], strlen(sect_names[b->text]));
	}
	if (b->text == IMAP_SECT_HEADER_FIELDS ||
	    b->text == IMAP_SECT_HEADER_FIELDS_NOT) {
		out_put(&o, " (", 2);
		for (unsigned i = 0; i < b->nfields; i++) {
			const struct imap_str *n = &f->field[b->field0 + i];
			int quote = 0;

			for (size_t k = 0; k < n->len; k++) {
				if (strchr("(){%*]", n->p[k]) != NULL) {
					quote = 1;
				}
			}
			if (i > 0) {
				out_put(&o, " ", 1);
			}
			if (quote) {
				out_put(&o, "\"", 1);
			}
			for (size_t k = 0; k < n->len; k++) {
				char ch = n->p[k];

				if (ch >= 'a' && ch <= 'z') {
					ch = (char)(ch - 'a' + 'A');
				}
				out_put(&o, &ch, 1);
			}
			if (quote) {
				out_put(&o, "\"", 1);
			}
		}
		out_put(&o, ")", 1);
	}
	out_put(&o, "]", 1);
	if (b->partial) {
		out_put(&o, "<", 1);
		out_u32(&o, b->start);
		out_put(&o, ">", 1);
	}
	return o.n;
}

/* One item; alone is 1 at the top level, where the macros may be. */
static enum imap_perr
fetch_att(struct imap_fetch *f, const struct imap_arg *a, int alone)
{
	if (a->type == IMAP_ARG_SECTION) {
		return fetch_body(f, a);
	}
	if (a->type != IMAP_ARG_ATOM) {
		return IMAP_PE_FETCH_ATT;
	}
	for (size_t i = 0; i < sizeof fetch_atts / sizeof fetch_atts[0];
	    i++) {
		if (imap_arg_is(a, fetch_atts[i].name)) {
			if (fetch_atts[i].macro && !alone) {
				return IMAP_PE_FETCH_ATT;
			}
			f->items |= fetch_atts[i].items;
			f->seen |= fetch_atts[i].seen;
			return IMAP_PE_OK;
		}
	}
	return IMAP_PE_FETCH_ATT;
}

/* "BODY" [".PEEK"] section ["<" number "." nz-number ">"] */
static enum imap_perr
fetch_body(struct imap_fetch *f, const struct imap_arg *a)
{
	struct imap_fetch_body *b;
	struct cur cu = { a->p, a->len, 0 };
	enum imap_perr e;

	if (f->nbody >= IMAP_FETCH_ATTS_MAX) {
		return IMAP_PE_FETCH_MANY;
	}
	b = &f->body[f->nbody];
	memset(b, 0, sizeof *b);
	if (a->len >= 5 && strncasecmp(a->p, "BODY[", 5) == 0) {
		cu.pos = 5;
	} else if (a->len >= 10 && strncasecmp(a->p, "BODY.PEEK[", 10) == 0) {
		cu.pos = 10;
		b->peek = 1;
	} else if (a->len >= 7 && strncasecmp(a->p, "BINARY", 6) == 0) {
		/* RFC 3516 4.1: section-binary = "[" [section-part] "]" */
		b->binary = IMAP_BIN_DATA;
		cu.pos = a->p[6] == '[' ? 7 : 12;
		if (cu.pos > a->len) {
			return IMAP_PE_FETCH_ATT;
		}
		if (cu.pos == 12 && strncasecmp(a->p + 6, ".PEEK[", 6) == 0) {
			b->peek = 1;
		} else if (cu.pos == 12 &&
		    strncasecmp(a->p + 6, ".SIZE[", 6) == 0) {
			b->peek = 1;
			b->binary = IMAP_BIN_SIZE;
		} else if (cu.pos == 12) {
			return IMAP_PE_FETCH_ATT;
		}
	} else {
		return IMAP_PE_FETCH_ATT;
	}
	if ((e = section_parse(f, b, &cu)) != IMAP_PE_OK) {
		return e;
	}
	if (b->binary && b->text != IMAP_SECT_ALL) {
		return IMAP_PE_SECTION;
	}
	if (cu.pos < cu.len) {
		if (b->binary == IMAP_BIN_SIZE) {
			return IMAP_PE_PARTIAL;	/* RFC 3516 4.2 */
		}
		if (cu.s[cu.pos++] != '<' ||
		    cur_number(&cu, 0, &b->start) != 0 ||
		    cu.pos >= cu.len || cu.s[cu.pos++] != '.' ||
		    cur_number(&cu, 1, &b->count) != 0 ||
		    cu.pos + 1 != cu.len || cu.s[cu.pos] != '>') {
			return IMAP_PE_PARTIAL;
		}
		b->partial = 1;
	}
	if (!b->peek) {
		f->seen = 1;
	}
	f->nbody++;
	return IMAP_PE_OK;
}

/*
 * section-spec = section-msgtext / (section-part ["." section-text])
 * from just past '[' to just past ']'. The tokenizer has found the
 * ']' already, stepping over strings and literals as we do here.
 */
static enum imap_perr
section_parse(struct imap_fetch *f, struct imap_fetch_body *b,
    struct cur *cu)
{
	size_t start = cu->pos, n;
	const char *w;

	if (cu->pos < cu->len && cu->s[cu->pos] >= '0' &&
	    cu->s[cu->pos] <= '9') {
		for (;;) {
			uint32_t v;

			if (cur_number(cu, 1, &v) != 0) {
				return IMAP_PE_SECTION;
			}
			if (b->nparts >= IMAP_SECTION_DEPTH_MAX) {
				return IMAP_PE_SECTION_DEEP;
			}
			b->part[b->nparts++] = v;
			if (cu->pos >= cu->len || cu->s[cu->pos] != '.') {
				break;
			}
			cu->pos++;
			if (cu->pos >= cu->len || cu->s[cu->pos] < '0' ||
			    cu->s[cu->pos] > '9') {
				break;
			}
		}
		if (cu->s[cu->pos - 1] != '.') {
			if (cu->pos < cu->len && cu->s[cu->pos] == ']') {
				goto done;
			}
			return IMAP_PE_SECTION;
		}
	}
	w = cu->s + cu->pos;
	n = 0;
	while (cu->pos + n < cu->len && (cu->s[cu->pos + n] == '.' ||
	    ((cu->s[cu->pos + n] | 0x20) >= 'a' &&
	    (cu->s[cu->pos + n] | 0x20) <= 'z'))) {
		n++;
	}
	cu->pos += n;
	if (n == 0 && b->nparts == 0) {
		b->text = IMAP_SECT_ALL;
	} else if (word_eq(w, n, "HEADER")) {
		b->text = IMAP_SECT_HEADER;
	} else if (word_eq(w, n, "TEXT")) {
		b->text = IMAP_SECT_TEXT;
	} else if (word_eq(w, n, "MIME") && b->nparts > 0) {
		b->text = IMAP_SECT_MIME;
	} else if (word_eq(w, n, "HEADER.FIELDS") ||
	    word_eq(w, n, "HEADER.FIELDS.NOT")) {
		enum imap_perr e;

		b->text = n == 13 ? IMAP_SECT_HEADER_FIELDS :
		    IMAP_SECT_HEADER_FIELDS_NOT;
		if ((e = header_list(f, b, cu)) != IMAP_PE_OK) {
			return e;
		}
	} else {
		return IMAP_PE_SECTION;
	}
	if (cu->pos >= cu->len || cu->s[cu->pos] != ']') {
		return IMAP_PE_SECTION;
	}
done:
	b->spec = cu->s + start;
	b->spec_len = cu->pos - start;
	cu->pos++;
	return IMAP_PE_OK;
}

/* SP header-list = SP "(" header-fld-name *(SP header-fld-name) ")" */
static enum imap_perr
header_list(struct imap_fetch *f, struct imap_fetch_body *b,
    struct cur *cu)
{
	enum imap_perr e;

	if (cu->pos + 1 >= cu->len || cu->s[cu->pos] != ' ' ||
	    cu->s[cu->pos + 1] != '(') {
		return IMAP_PE_SECTION;
	}
	cu->pos += 2;
	b->field0 = f->nfield;
	for (;;) {
		while (cu->pos < cu->len && cu->s[cu->pos] == ' ') {
			cu->pos++;
		}
		if (cu->pos >= cu->len) {
			return IMAP_PE_SECTION;
		}
		if (cu->s[cu->pos] == ')') {
			cu->pos++;
			break;
		}
		if (b->nfields > 0 && cu->s[cu->pos - 1] != ' ') {
			return IMAP_PE_SECTION;
		}
		if (f->nfield >= IMAP_HDR_FIELDS_MAX) {
			return IMAP_PE_FIELDS_MANY;
		}
		if ((e = field_name(cu, &f->field[f->nfield])) !=
		    IMAP_PE_OK) {
			return e;
		}
		f->nfield++;
		b->nfields++;
	}
	return b->nfields > 0 ? IMAP_PE_OK : IMAP_PE_SECTION;
}

/* header-fld-name = astring, whose value must be a field-name (RFC
 * 5322 3.6.8: printable, no colon); kept only without escapes so that
 * the pointer is the name. */
static enum imap_perr
field_name(struct cur *cu, struct imap_str *name)
{
	const char *s = cu->s;
	size_t n = 0, start = cu->pos;

	if (s[cu->pos] == '"') {
		start = ++cu->pos;
		while (cu->pos < cu->len && s[cu->pos] != '"') {
			if (s[cu->pos] == '\\') {
				return IMAP_PE_FIELD;
			}
			cu->pos++;
		}
		if (cu->pos >= cu->len) {
			return IMAP_PE_SECTION;
		}
		n = cu->pos++ - start;
	} else if (s[cu->pos] == '{') {
		uint32_t v;

		cu->pos++;
		if (cur_number(cu, 0, &v) != 0) {
			return IMAP_PE_SECTION;
		}
		if (cu->pos < cu->len && s[cu->pos] == '+') {
			cu->pos++;
		}
		if (cu->pos >= cu->len || s[cu->pos] != '}') {
			return IMAP_PE_SECTION;
		}
		cu->pos++;
		if (cu->pos < cu->len && s[cu->pos] == '\r') {
			cu->pos++;
		}
		if (cu->pos >= cu->len || s[cu->pos] != '\n') {
			return IMAP_PE_SECTION;
		}
		cu->pos++;
		if (v > cu->len - cu->pos) {
			return IMAP_PE_SECTION;
		}
		start = cu->pos;
		cu->pos += v;
		n = v;
	} else {
		while (cu->pos < cu->len && s[cu->pos] != ' ' &&
		    s[cu->pos] != ')' && s[cu->pos] != ']' &&
		    s[cu->pos] != '(' && s[cu->pos] != '"' &&
		    s[cu->pos] != '{') {
			cu->pos++;
		}
		n = cu->pos - start;
		if (n == 0) {
			return IMAP_PE_SECTION;
		}
	}
	if (n == 0 || !is_ftext(s + start, n)) {
		return IMAP_PE_FIELD;
	}
	name->p = s + start;
	name->len = n;
	return IMAP_PE_OK;
}

/* ftext (RFC 5322 3.6.8) without '"' and '\', which would need escapes
 * when we echo the name. */
static int
is_ftext(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 33 || ch > 126 || ch == ':' || ch == '"' ||
		    ch == '\\') {
			return 0;
		}
	}
	return 1;
}

/* number (nz: nz-number) of at most 10 digits and 2^32 - 1. */
static int
cur_number(struct cur *cu, int nz, uint32_t *v)
{
	uint64_t n = 0;
	size_t start = cu->pos;

	if (cu->pos >= cu->len || cu->s[cu->pos] < (nz ? '1' : '0') ||
	    cu->s[cu->pos] > '9') {
		return -1;
	}
	while (cu->pos < cu->len && cu->s[cu->pos] >= '0' &&
	    cu->s[cu->pos] <= '9') {
		n = n * 10 + (uint64_t)(cu->s[cu->pos++] - '0');
		if (n > UINT32_MAX || cu->pos - start > 10) {
			return -1;
		}
	}
	*v = (uint32_t)n;
	return 0;
}

/* --- STORE -------------------------------------------------------- */

enum imap_perr
imap_store_parse(const struct imap_cmd *c, struct imap_store *st)
{
	const struct imap_arg *item, *fl;
	const char *p;
	size_t n;
	enum imap_perr e;

	st->op = IMAP_STORE_SET;
	st->silent = 0;
	st->flags = 0;
	st->nkw = 0;
	st->unchanged = 0;
	if (c->nargs < 3) {
		return IMAP_PE_MISSING;
	}
	item = &c->args[1];
	if (item->type == IMAP_ARG_LIST) {
		/* RFC 7162 3.1.3: (UNCHANGEDSINCE n) */
		if (item->nchild != 2 || !imap_arg_is(&c->args[2],
		    "UNCHANGEDSINCE") || imap_arg_modseq(&c->args[3],
		    &st->unchangedsince) == -1 || item->next + 1u >=
		    c->nargs) {
			return IMAP_PE_STORE_ITEM;
		}
		st->unchanged = 1;
		item = &c->args[item->next];
	}
	if (item->type != IMAP_ARG_ATOM) {
		return IMAP_PE_STORE_ITEM;
	}
	p = item->p;
	n = item->len;
	if (n > 0 && (p[0] == '+' || p[0] == '-')) {
		st->op = p[0] == '+' ? IMAP_STORE_ADD : IMAP_STORE_REMOVE;
		p++;
		n--;
	}
	if (n == 12 && strncasecmp(p, "FLAGS.SILENT", 12) == 0) {
		st->silent = 1;
	} else if (n != 5 || strncasecmp(p, "FLAGS", 5) != 0) {
		return IMAP_PE_STORE_ITEM;
	}
	fl = &c->args[item->next];
	if (fl->type == IMAP_ARG_LIST) {
		if (fl->next != c->nargs) {
			return IMAP_PE_TOO_MANY;
		}
		if (fl->nchild > IMAP_FLAGS_MAX) {
			return IMAP_PE_FLAGS_MANY;
		}
		for (size_t j = item->next + 1u; j < fl->next;
		    j = c->args[j].next) {
			if ((e = store_flag(st, &c->args[j])) != IMAP_PE_OK) {
				return e;
			}
		}
		return IMAP_PE_OK;
	}
	for (size_t j = item->next, k = 0; j < c->nargs;
	    j = c->args[j].next, k++) {
		if (k >= IMAP_FLAGS_MAX) {
			return IMAP_PE_FLAGS_MANY;
		}
		if ((e = store_flag(st, &c->args[j])) != IMAP_PE_OK) {
			return e;
		}
	}
	return IMAP_PE_OK;
}

static enum imap_perr
store_flag(struct imap_store *st, const struct imap_arg *a)
{
	enum imap_perr e;

	if (a->type == IMAP_ARG_ATOM && (a->flags & IMAP_AF_BSLASH)) {
		for (size_t i = 0; i < sizeof sys_flags / sizeof sys_flags[0];
		    i++) {
			if (imap_arg_is(a, sys_flags[i].name)) {
				st->flags |= sys_flags[i].flag;
				return IMAP_PE_OK;
			}
		}
		return imap_arg_is(a, "\\Recent") ? IMAP_PE_RECENT :
		    IMAP_PE_FLAG;
	}
	if ((e = keyword_check(a)) != IMAP_PE_OK) {
		return e;
	}
	for (unsigned i = 0; i < st->nkw; i++) {
		if (st->kw[i].len == a->len &&
		    strncasecmp(st->kw[i].p, a->p, a->len) == 0) {
			return IMAP_PE_OK;
		}
	}
	st->kw[st->nkw].p = a->p;
	st->kw[st->nkw].len = a->len;
	st->nkw++;
	return IMAP_PE_OK;
}

/* flag-keyword = atom: ATOM-CHARs only (RFC 3501 9). */
static enum imap_perr
keyword_check(const struct imap_arg *a)
{
	/* NIL is no keyword: clients would read FLAGS (NIL) as nil. */
	if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NUMBER) {
		return IMAP_PE_FLAG;
	}
	if (a->flags & (IMAP_AF_WILD | IMAP_AF_BSLASH) ||
	    memchr(a->p, ']', a->len) != NULL) {
		return IMAP_PE_FLAG;
	}
	if (a->len > IMAP_KEYWORD_LEN_MAX) {
		return IMAP_PE_KEYWORD_LONG;
	}
	return IMAP_PE_OK;
}

/* --- LIST, STATUS ------------------------------------------------- */

int
imap_arg_modseq(const struct imap_arg *a, uint64_t *v)
{
	uint64_t n = 0;

	if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NUMBER) ||
	    a->len == 0 || a->len > 19) {
		return -1;
	}
	for (uint32_t i = 0; i < a->len; i++) {
		if (a->p[i] < '0' || a->p[i] > '9') {
			return -1;
		}
		n = n * 10 + (uint64_t)(a->p[i] - '0');	/* < 10^19 */
	}
	if (n > ((UINT64_C(1) << 63) - 1)) {
		return -1;
	}
	*v = n;
	return 0;
}

enum imap_perr
imap_status_items(const struct imap_cmd *c, size_t i, unsigned *items)
{
	static const struct { const char *name; unsigned bit; } att[] = {
		{ "MESSAGES", IMAP_SA_MESSAGES }, { "RECENT", IMAP_SA_RECENT },
		{ "UIDNEXT", IMAP_SA_UIDNEXT },
		{ "UIDVALIDITY", IMAP_SA_UIDVALIDITY },
		{ "UNSEEN", IMAP_SA_UNSEEN },
		{ "HIGHESTMODSEQ", IMAP_SA_HIGHESTMODSEQ },
		{ "SIZE", IMAP_SA_SIZE }, { "DELETED", IMAP_SA_DELETED },
	};
	const struct imap_arg *l = &c->args[i];

	*items = 0;
	if (i >= c->nargs || l->type != IMAP_ARG_LIST || l->nchild == 0) {
		return IMAP_PE_STATUS_ATT;
	}
	for (size_t j = i + 1; j < l->next; j = c->args[j].next) {
		size_t k;

		for (k = 0; k < sizeof att / sizeof att[0]; k++) {
			if (imap_arg_is(&c->args[j], att[k].name)) {
				*items |= att[k].bit;
				break;
			}
		}
		if (k == sizeof att / sizeof att[0]) {
			return IMAP_PE_STATUS_ATT;
		}
	}
	return IMAP_PE_OK;
}

/* A LIST reference or pattern: an astring, or an atom with % or *. */
static int
list_word(const struct imap_arg *a)
{
	return imap_arg_is_astring(a) || (a->type == IMAP_ARG_ATOM &&
	    (a->flags & IMAP_AF_WILD) && !(a->flags & IMAP_AF_BSLASH));
}

enum imap_perr
imap_list_parse(const struct imap_cmd *c, struct imap_list_args *la)
{
	size_t j = 0;
	const struct imap_arg *a;

	memset(la, 0, sizeof *la);
	if (c->nargs < 2) {
		return IMAP_PE_MISSING;
	}
	if (c->args[0].type == IMAP_ARG_LIST) {
		la->extended = 1;
		for (size_t k = 1; k < c->args[0].next; k = c->args[k].next) {
			a = &c->args[k];
			if (imap_arg_is(a, "SUBSCRIBED")) {
				la->sel |= IMAP_LS_SUBSCRIBED;
			} else if (imap_arg_is(a, "REMOTE")) {
				la->sel |= IMAP_LS_REMOTE;
			} else if (imap_arg_is(a, "RECURSIVEMATCH")) {
				la->sel |= IMAP_LS_RECURSIVEMATCH;
			} else if (imap_arg_is(a, "SPECIAL-USE")) {
				la->sel |= IMAP_LS_SPECIAL_USE;
			} else {
				return IMAP_PE_LIST_OPT;
			}
		}
		if (la->sel == IMAP_LS_RECURSIVEMATCH ||
		    la->sel == (IMAP_LS_RECURSIVEMATCH | IMAP_LS_REMOTE)) {
			/* RFC 5258 3: it needs a criterion to recurse */
			return IMAP_PE_LIST_OPT;
		}
		j = c->args[0].next;
	}
	if (j >= c->nargs || !list_word(&c->args[j])) {
		return j >= c->nargs ? IMAP_PE_MISSING : IMAP_PE_ARG;
	}
	la->ref = &c->args[j];
	j = c->args[j].next;
	if (j >= c->nargs) {
		return IMAP_PE_MISSING;
	}
	a = &c->args[j];
	if (a->type == IMAP_ARG_LIST) {
		la->extended = 1;
		if (a->nchild == 0) {
			return IMAP_PE_MISSING;
		}
		for (size_t k = j + 1; k < a->next; k = c->args[k].next) {
			if (!list_word(&c->args[k])) {
				return IMAP_PE_ARG;
			}
			if (la->npat == IMAP_LIST_PATTERNS_MAX) {
				return IMAP_PE_TOO_MANY;
			}
			la->pat[la->npat++] = &c->args[k];
		}
	} else if (list_word(a)) {
		la->pat[la->npat++] = a;
	} else {
		return IMAP_PE_ARG;
	}
	j = a->next;
	if (j == c->nargs) {
		return IMAP_PE_OK;
	}
	if (!imap_arg_is(&c->args[j], "RETURN")) {
		return IMAP_PE_TOO_MANY;
	}
	la->extended = 1;
	j = c->args[j].next;
	a = &c->args[j];
	if (j >= c->nargs || a->type != IMAP_ARG_LIST) {
		return IMAP_PE_LIST_OPT;
	}
	for (size_t k = j + 1; k < a->next; k = c->args[k].next) {
		const struct imap_arg *o = &c->args[k];

		if (imap_arg_is(o, "SUBSCRIBED")) {
			la->ret |= IMAP_LR_SUBSCRIBED;
		} else if (imap_arg_is(o, "CHILDREN")) {
			la->ret |= IMAP_LR_CHILDREN;
		} else if (imap_arg_is(o, "SPECIAL-USE")) {
			la->ret |= IMAP_LR_SPECIAL_USE;
		} else if (imap_arg_is(o, "STATUS")) {
			unsigned items = 0;
			enum imap_perr e = o->next < a->next ?
			    imap_status_items(c, o->next, &items) :
			    IMAP_PE_STATUS_ATT;

			if (e != IMAP_PE_OK) {
				return e;
			}
			la->status |= items;	/* STATUS twice: both */
			la->ret |= IMAP_LR_STATUS;
			k = o->next;	/* the items' list is walked past */
		} else {
			return IMAP_PE_LIST_OPT;
		}
	}
	return a->next == c->nargs ? IMAP_PE_OK : IMAP_PE_TOO_MANY;
}

/* --- APPEND ------------------------------------------------------- */

enum imap_perr
imap_append_parse(const struct imap_cmd *c, struct imap_append_args *ap)
{
	const struct imap_arg *a;
	size_t j = 0, last;
	enum imap_perr e;

	ap->mailbox = NULL;
	ap->fl.op = IMAP_STORE_ADD;
	ap->fl.silent = 0;
	ap->fl.flags = 0;
	ap->fl.nkw = 0;
	ap->date = -1;
	if (c->nargs == 0) {
		return IMAP_PE_MISSING;
	}
	/* The marker is the last top-level argument. */
	for (last = 0; c->args[last].next < c->nargs; last =
	    c->args[last].next) {
	}
	if (c->args[last].type != IMAP_ARG_ATOM) {
		return IMAP_PE_ARG;
	}
	if (last == 0) {
		return IMAP_PE_OK;		/* the mailbox is the literal */
	}
	if (!imap_arg_is_astring(&c->args[0])) {
		return IMAP_PE_ARG;
	}
	ap->mailbox = &c->args[0];
	j = c->args[0].next;
	a = &c->args[j];
	if (j < last && a->type == IMAP_ARG_LIST) {
		if (a->nchild > IMAP_FLAGS_MAX) {
			return IMAP_PE_FLAGS_MANY;
		}
		for (size_t k = j + 1; k < a->next; k = c->args[k].next) {
			if ((e = store_flag(&ap->fl, &c->args[k])) !=
			    IMAP_PE_OK) {
				return e;
			}
		}
		j = a->next;
		a = &c->args[j];
	}
	if (j < last) {
		if (a->type != IMAP_ARG_QUOTED || parse_date_time(a,
		    &ap->date) == -1) {
			return IMAP_PE_DATE;
		}
		j = a->next;
	}
	return j == last ? IMAP_PE_OK : IMAP_PE_TOO_MANY;
}

/* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP
 * time SP zone DQUOTE (RFC 3501 9), the quotes gone: 26 octets, the
 * day "dd" or " d". A day the month lacks is refused. */
static int
parse_date_time(const struct imap_arg *a, int64_t *t)
{
	static const int mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	const char *p = a->p;
	int d, m, y, hh, mm, ss, zh, zm;

	if (a->len != 26 || (a->flags & IMAP_AF_ESC) || p[2] != '-' ||
	    p[6] != '-' || p[11] != ' ' || p[14] != ':' || p[17] != ':' ||
	    p[20] != ' ' || (p[21] != '+' && p[21] != '-')) {
		return -1;
	}
	if (p[0] == ' ' ? digits(p + 1, 1, &d) : digits(p, 2, &d)) {
		return -1;
	}
	for (m = 0; m < 12; m++) {
		if (strncasecmp(p + 3, months[m], 3) == 0) {
			break;
		}
	}
	if (m == 12 || digits(p + 7, 4, &y) || digits(p + 12, 2, &hh) ||
	    digits(p + 15, 2, &mm) || digits(p + 18, 2, &ss) ||
	    digits(p + 22, 2, &zh) || digits(p + 24, 2, &zm)) {
		return -1;
	}
	if (d < 1 || d > mdays[m] || (m == 1 && d == 29 && (y % 4 != 0 ||
	    (y % 100 == 0 && y % 400 != 0))) || hh > 23 || mm > 59 ||
	    ss > 60 || zh > 23 || zm > 59) {
		return -1;
	}
	*t = (int64_t)days_from_civil(y, m + 1, d) * 86400 + hh * 3600 +
	    mm * 60 + ss - (p[21] == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
	/* The store keeps it as the file's mtime, where 0 means "now":
	 * the epoch itself and before are refused. */
	return *t <= 0 ? -1 : 0;
}

/* n decimal digits at p into *v: 0, or -1 when one is not a digit. */
static int
digits(const char *p, size_t n, int *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return -1;
		}
		*v = *v * 10 + (p[i] - '0');
	}
	return 0;
}

/* --- SEARCH ------------------------------------------------------- */

enum imap_perr
imap_search_parse(const struct imap_cmd *c, struct imap_search *s)
{
	return imap_search_parse_at(c, 0, s);
}

enum imap_perr
imap_search_parse_at(const struct imap_cmd *c, size_t j,
    struct imap_search *s)
{
	enum imap_perr e;

	s->utf8 = 0;
	s->n = 0;
	if (j < c->nargs && imap_arg_is(&c->args[j], "CHARSET")) {
		const struct imap_arg *cs;

		j = c->args[j].next;
		if (j >= c->nargs) {
			return IMAP_PE_MISSING;
		}
		cs = &c->args[j];
		if (!imap_arg_is_astring(cs)) {
			return IMAP_PE_ARG;
		}
		if (cs->flags & IMAP_AF_ESC) {
			return IMAP_PE_BADCHARSET;
		}
		if (word_eq(cs->p, cs->len, "UTF-8")) {
			s->utf8 = 1;
		} else if (!word_eq(cs->p, cs->len, "US-ASCII")) {
			return IMAP_PE_BADCHARSET;
		}
		j = cs->next;
	}
	if (j >= c->nargs) {
		return IMAP_PE_MISSING;
	}
	s->node[0].key = IMAP_SK_AND;
	s->node[0].str = s->node[0].str2 = NULL;
	s->n = 1;
	while (j < c->nargs) {
		if ((e = search_key(s, c, &j, c->nargs)) != IMAP_PE_OK) {
			return e;
		}
	}
	s->node[0].next = (uint16_t)s->n;
	return IMAP_PE_OK;
}

/* One key at args[*j] (with its operands, before end) into a new
 * node; *j moves past it. Each call adds a node before it recurses, so
 * the depth is bounded by IMAP_SEARCH_KEYS_MAX. */
static enum imap_perr
search_key(struct imap_search *s, const struct imap_cmd *c, size_t *j,
    size_t end)
{
	const struct imap_arg *a = &c->args[*j], *name;
	struct imap_search_node *nd;
	size_t i, idx;
	enum imap_perr e;

	if (s->n >= IMAP_SEARCH_KEYS_MAX) {
		return IMAP_PE_SEARCH_MANY;
	}
	idx = s->n++;
	nd = &s->node[idx];
	memset(nd, 0, sizeof *nd);
	*j = a->next;
	if (a->type == IMAP_ARG_LIST) {
		size_t k = (size_t)(a - c->args) + 1;

		nd->key = IMAP_SK_AND;
		if (a->nchild == 0) {
			return IMAP_PE_MISSING;
		}
		while (k < a->next) {
			if ((e = search_key(s, c, &k, a->next)) !=
			    IMAP_PE_OK) {
				return e;
			}
		}
		s->node[idx].next = (uint16_t)s->n;
		return IMAP_PE_OK;
	}
	if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NUMBER) {
		return IMAP_PE_SEARCH_KEY;
	}
	if (a->len > 0 && ((a->p[0] >= '0' && a->p[0] <= '9') ||
	    a->p[0] == '*' || a->p[0] == '$')) {
		if (imap_seqset_valid(a->p, a->len) != 0) {
			return IMAP_PE_SEQSET;
		}
		nd->key = IMAP_SK_SEQSET;
		nd->str = a;
		nd->next = (uint16_t)s->n;
		return IMAP_PE_OK;
	}
	for (i = 0; i < sizeof search_keys / sizeof search_keys[0]; i++) {
		if (imap_arg_is(a, search_keys[i].name)) {
			break;
		}
	}
	if (i == sizeof search_keys / sizeof search_keys[0]) {
		return IMAP_PE_SEARCH_KEY;
	}
	nd->key = search_keys[i].key;
	switch (search_keys[i].arg) {
	case SA_NONE:
		break;
	case SA_NOT:
		if (*j >= end) {
			return IMAP_PE_MISSING;
		}
		if ((e = search_key(s, c, j, end)) != IMAP_PE_OK) {
			return e;
		}
		break;
	case SA_OR:
		for (int k = 0; k < 2; k++) {
			if (*j >= end) {
				return IMAP_PE_MISSING;
			}
			if ((e = search_key(s, c, j, end)) != IMAP_PE_OK) {
				return e;
			}
		}
		break;
	case SA_HEADER:
		if (*j >= end || c->args[*j].next >= end) {
			return IMAP_PE_MISSING;
		}
		if ((e = search_operand(nd, SA_STRING, &c->args[*j])) !=
		    IMAP_PE_OK) {
			return e;
		}
		name = nd->str;
		*j = c->args[*j].next;
		if ((e = search_operand(nd, SA_STRING, &c->args[*j])) !=
		    IMAP_PE_OK) {
			return e;
		}
		nd->str2 = nd->str;
		nd->str = name;
		*j = c->args[*j].next;
		break;
	case SA_MODSEQ:
		/* RFC 7162 3.1.5: an entry name (a string, as
		 * "/flags/\\seen") and priv, shared or all may come
		 * first; a message has one modseq for all, so they are
		 * checked and passed over. */
		if (*j < end && (c->args[*j].type == IMAP_ARG_QUOTED ||
		    c->args[*j].type == IMAP_ARG_LITERAL)) {
			*j = c->args[*j].next;
			if (*j >= end || !(imap_arg_is(&c->args[*j], "priv") ||
			    imap_arg_is(&c->args[*j], "shared") ||
			    imap_arg_is(&c->args[*j], "all"))) {
				return IMAP_PE_ARG;
			}
			*j = c->args[*j].next;
		}
		if (*j >= end) {
			return IMAP_PE_MISSING;
		}
		nd->str = &c->args[*j];
		if (imap_arg_modseq(nd->str, &(uint64_t){ 0 }) == -1) {
			return IMAP_PE_NUMBER;
		}
		*j = c->args[*j].next;
		break;
	default:
		if (*j >= end) {
			return IMAP_PE_MISSING;
		}
		if ((e = search_operand(nd, search_keys[i].arg,
		    &c->args[*j])) != IMAP_PE_OK) {
			return e;
		}
		*j = c->args[*j].next;
		break;
	}
	s->node[idx].next = (uint16_t)s->n;
	return IMAP_PE_OK;
}

static enum imap_perr
search_operand(struct imap_search_node *nd, int kind,
    const struct imap_arg *a)
{
	switch (kind) {
	case SA_STRING:
		if (!imap_arg_is_astring(a)) {
			return IMAP_PE_ARG;
		}
		nd->str = a;
		return IMAP_PE_OK;
	case SA_DATE:
		return parse_date(a, &nd->days) == 0 ? IMAP_PE_OK :
		    IMAP_PE_DATE;
	case SA_NUMBER:
		if (a->type != IMAP_ARG_NUMBER) {
			return IMAP_PE_NUMBER;
		}
		nd->num = a->num;
		return IMAP_PE_OK;
	case SA_KEYWORD:
		nd->str = a;
		return keyword_check(a);
	case SA_SEQSET:
		if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NUMBER) ||
		    imap_seqset_valid(a->p, a->len) != 0) {
			return IMAP_PE_SEQSET;
		}
		nd->str = a;
		return IMAP_PE_OK;
	default:
		return IMAP_PE_ARG;
	}
}

/* date = date-text / DQUOTE date-text DQUOTE, date-text = 1*2DIGIT "-"
 * Mon "-" 4DIGIT. RFC 3501 gives only the syntax; a day the month
 * does not have (31-Feb) is refused, as Dovecot does. */
static int
parse_date(const struct imap_arg *a, int32_t *days)
{
	const char *p = a->p;
	size_t n = a->len, i = 0;
	int d = 0, m, y = 0;
	static const int mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED) ||
	    (a->flags & IMAP_AF_ESC)) {
		return -1;
	}
	while (i < n && i < 2 && p[i] >= '0' && p[i] <= '9') {
		d = d * 10 + (p[i++] - '0');
	}
	if (i == 0 || n != i + 9 || p[i] != '-' || p[i + 4] != '-') {
		return -1;
	}
	for (m = 0; m < 12; m++) {
		if (strncasecmp(p + i + 1, months[m], 3) == 0) {
			break;
		}
	}
	if (m == 12) {
		return -1;
	}
	for (size_t k = i + 5; k < n; k++) {
		if (p[k] < '0' || p[k] > '9') {
			return -1;
		}
		y = y * 10 + (p[k] - '0');
	}
	if (d < 1 || d > mdays[m] || (m == 1 && d == 29 &&
	    (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)))) {
		return -1;
	}
	*days = days_from_civil(y, m + 1, d);
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int32_t
days_from_civil(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int32_t)(era * 146097 + doe - 719468);
}

/* --- static helpers ----------------------------------------------- */

static int
word_eq(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

static void
out_put(struct out *o, const char *p, size_t n)
{
	if (o->n <= o->cap && n <= o->cap - o->n) {
		memcpy(o->buf + o->n, p, n);
	}
	o->n += n;
}

static void
out_u32(struct out *o, uint32_t v)
{
	char tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0) {
		out_put(o, &tmp[--n], 1);
	}
}
