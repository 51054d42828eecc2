/* SPDX-License-Identifier: ISC */
/*
 * imap_parse.c - IMAP4rev1 framing, command tokens, sequence sets and
 * string output without I/O (see imap_parse.h). RFC 3501 sections 2.2
 * (commands, literals, continuation requests), 4 (data formats), 7.5
 * (the "+" request) and 9 (formal syntax: tag, atom, string, list);
 * RFC 7888 (LITERAL+). Sequence sets and the arguments of FETCH,
 * STORE and SEARCH are in imap_parse_args.c.
 */
#include <string.h>
#include <strings.h>

#include "imap/imap_parse.h"

/* Framer states (imap_framer.st). */
enum {
	FR_LINE,		/* in a line of the command */
	FR_LITERAL,		/* in a literal body, kept */
	FR_STREAM,		/* in a literal body, handed out */
	FR_DISCARD,		/* in a void command, until its line end */
	FR_DISCARD_LIT		/* in a {n+} literal of a void command */
};

/* How much of "{digits[+]}" the line ends with (imap_framer.lit). */
enum { LH_NONE, LH_OPEN, LH_DIGITS, LH_PLUS, LH_CLOSE };

static const char *const perr_text[] = {
	[IMAP_PE_OK] = "Completed",
	[IMAP_PE_EMPTY] = "Empty command",
	[IMAP_PE_TAG] = "Invalid tag",
	[IMAP_PE_NO_CMD] = "Missing command",
	[IMAP_PE_UNKNOWN] = "Unknown command",
	[IMAP_PE_UID_CMD] = "Unknown UID command",
	[IMAP_PE_NUL] = "NUL byte in command",
	[IMAP_PE_LIT_NUL] = "NUL byte in literal",
	[IMAP_PE_CR] = "CR without LF",
	[IMAP_PE_EOL] = "Unexpected end of line",
	[IMAP_PE_ATOM] = "Invalid characters in atom",
	[IMAP_PE_QUOTED] = "Unterminated quoted string",
	[IMAP_PE_ESCAPE] = "Invalid escape in quoted string",
	[IMAP_PE_LITERAL] = "Invalid literal",
	[IMAP_PE_SPACE] = "Missing space",
	[IMAP_PE_OPEN] = "Missing ')'",
	[IMAP_PE_CLOSE] = "Unexpected ')'",
	[IMAP_PE_BRACKET] = "Missing ']'",
	[IMAP_PE_DEPTH] = "Nesting too deep",
	[IMAP_PE_TOO_MANY] = "Too many arguments",
	[IMAP_PE_MISSING] = "Missing argument",
	[IMAP_PE_ARG] = "Invalid argument",
	[IMAP_PE_SEQSET] = "Invalid sequence set",
	[IMAP_PE_NUMBER] = "Invalid number",
	[IMAP_PE_FETCH_ATT] = "Invalid FETCH attribute",
	[IMAP_PE_FETCH_MANY] = "Too many FETCH attributes",
	[IMAP_PE_SECTION] = "Invalid section",
	[IMAP_PE_SECTION_DEEP] = "Section nesting too deep",
	[IMAP_PE_FIELD] = "Invalid header field name",
	[IMAP_PE_FIELDS_MANY] = "Too many header fields",
	[IMAP_PE_PARTIAL] = "Invalid partial",
	[IMAP_PE_STORE_ITEM] = "Invalid STORE item",
	[IMAP_PE_RECENT] = "Cannot set \\Recent",
	[IMAP_PE_FLAG] = "Invalid flag",
	[IMAP_PE_KEYWORD_LONG] = "Keyword too long",
	[IMAP_PE_FLAGS_MANY] = "Too many flags",
	[IMAP_PE_SEARCH_KEY] = "Unknown search key",
	[IMAP_PE_SEARCH_MANY] = "Too many search keys",
	[IMAP_PE_DATE] = "Invalid date",
	[IMAP_PE_BADCHARSET] = "Unsupported charset",
	[IMAP_PE_LINE_LONG] = "Line too long",
	[IMAP_PE_LIT_BIG] = "Literal too big",
	[IMAP_PE_STATUS_ATT] = "Invalid status item",
	[IMAP_PE_LIST_OPT] = "Invalid LIST option",
};

/*
 * Commands and the shape of their top-level arguments (imap_parse.h):
 * a astring, w astring or pattern, s sequence set, l list, x any;
 * after '?' the rest is optional; '*' ends with any number of any
 * more, '+' with any number more of the previous kind.
 */
static const struct {
	const char		*name;
	enum imap_cmd_name	 cmd;
	const char		*shape;
	int			 uid;	/* may follow UID */
} cmds[] = {
	{ "CAPABILITY", IMAP_CMD_CAPABILITY, "", 0 },
	{ "NOOP", IMAP_CMD_NOOP, "", 0 },
	{ "LOGOUT", IMAP_CMD_LOGOUT, "", 0 },
	{ "STARTTLS", IMAP_CMD_STARTTLS, "", 0 },
	{ "LOGIN", IMAP_CMD_LOGIN, "aa", 0 },
	{ "AUTHENTICATE", IMAP_CMD_AUTHENTICATE, "a?a", 0 },
	{ "SELECT", IMAP_CMD_SELECT, "a?l", 0 },
	{ "EXAMINE", IMAP_CMD_EXAMINE, "a?l", 0 },
	{ "CREATE", IMAP_CMD_CREATE, "a?l", 0 },
	{ "DELETE", IMAP_CMD_DELETE, "a", 0 },
	{ "RENAME", IMAP_CMD_RENAME, "aa", 0 },
	{ "SUBSCRIBE", IMAP_CMD_SUBSCRIBE, "a", 0 },
	{ "UNSUBSCRIBE", IMAP_CMD_UNSUBSCRIBE, "a", 0 },
	{ "LIST", IMAP_CMD_LIST, "xx*", 0 },
	{ "LSUB", IMAP_CMD_LSUB, "aw", 0 },
	{ "STATUS", IMAP_CMD_STATUS, "al", 0 },
	{ "APPEND", IMAP_CMD_APPEND, "a*", 0 },
	{ "CHECK", IMAP_CMD_CHECK, "", 0 },
	{ "CLOSE", IMAP_CMD_CLOSE, "", 0 },
	{ "EXPUNGE", IMAP_CMD_EXPUNGE, "", 1 },
	{ "SEARCH", IMAP_CMD_SEARCH, "x*", 1 },
	{ "FETCH", IMAP_CMD_FETCH, "sx?l", 1 },
	{ "STORE", IMAP_CMD_STORE, "sxx*", 1 },
	{ "COPY", IMAP_CMD_COPY, "sa", 1 },
	{ "MOVE", IMAP_CMD_MOVE, "sa", 1 },
	{ "IDLE", IMAP_CMD_IDLE, "", 0 },
	{ "NAMESPACE", IMAP_CMD_NAMESPACE, "", 0 },
	{ "ID", IMAP_CMD_ID, "x", 0 },
	{ "ENABLE", IMAP_CMD_ENABLE, "a+", 0 },
	{ "UNSELECT", IMAP_CMD_UNSELECT, "", 0 },
	{ "COMPRESS", IMAP_CMD_COMPRESS, "a", 0 },
	{ "SORT", IMAP_CMD_SORT, "xx*", 1 },
	{ "THREAD", IMAP_CMD_THREAD, "xx*", 1 },
	{ "UID", IMAP_CMD_UNKNOWN, "", 0 },
};

/* UID EXPUNGE takes a sequence set (RFC 4315 2.1). */
#define UID_EXPUNGE_SHAPE	"s"

/* The tokenizer's cursor over one command. */
struct tok {
	const char		*s;
	size_t			 len;
	size_t			 pos;
	struct imap_cmd		*c;
	int			 fetch;		/* BODY[...] is one token */
	unsigned		 depth;
	uint16_t		 open[IMAP_DEPTH_MAX];	/* open lists */
};

static void		fr_reset(struct imap_framer *);
static void		fr_track(struct imap_framer *, unsigned char);
static int		is_tag_char(unsigned char);
static size_t		tag_scan(const char *, size_t);
static int		at_end(const struct tok *, size_t);
static enum imap_perr	line_end_err(const struct tok *, size_t);
static size_t		word_scan(const struct tok *, size_t);
static int		word_lookup(const char *, size_t);
static enum imap_perr	parse_args(struct tok *);
static enum imap_perr	new_arg(struct tok *, struct imap_arg **);
static enum imap_perr	scan_quoted(struct tok *, unsigned *);
static enum imap_perr	scan_literal(struct tok *, unsigned *);
static enum imap_perr	scan_atom(struct tok *, unsigned *, int *);
static int		section_name(const char *, size_t);
static enum imap_perr	scan_section(struct tok *);
static enum imap_perr	check_shape(const struct imap_cmd *, const char *);
static enum imap_perr	check_one(char, const struct imap_arg *);
static size_t		fmt_u64(char *, uint64_t);

const char *
imap_strerror(enum imap_perr e)
{
	if ((size_t)e >= sizeof perr_text / sizeof perr_text[0] ||
	    perr_text[e] == NULL) {
		return "Syntax error";
	}
	return perr_text[e];
}

/* --- framing ------------------------------------------------------ */

void
imap_framer_init(struct imap_framer *fr)
{
	memset(fr, 0, sizeof *fr);
	fr->st = FR_LINE;
}

enum imap_fr_ev
imap_frame(struct imap_framer *fr, const char *in, size_t len,
    size_t lit_max, size_t *used, size_t *keep)
{
	size_t i = 0;
	int keeping = fr->st != FR_DISCARD && fr->st != FR_DISCARD_LIT;

	*used = *keep = 0;
	while (i < len) {
		unsigned char c;
		size_t n;

		switch (fr->st) {
		case FR_STREAM:
			if (i > 0) {
				/* bytes kept before: report them first */
				*used = *keep = i;
				return IMAP_FR_NEED;
			}
			n = len < fr->lit_left ? len : fr->lit_left;
			fr->lit_left -= n;
			if (fr->lit_left == 0) {
				fr->st = FR_LINE;
			}
			*used = n;
			return IMAP_FR_LIT_DATA;
		case FR_LITERAL:
		case FR_DISCARD_LIT:
			n = len - i < fr->lit_left ? len - i : fr->lit_left;
			fr->lit_left -= n;
			i += n;
			if (fr->st == FR_LITERAL) {
				fr->cur += n;
			}
			if (fr->lit_left == 0) {
				fr->st = fr->st == FR_LITERAL ? FR_LINE :
				    FR_DISCARD;
			}
			continue;
		case FR_DISCARD:
			c = (unsigned char)in[i++];
			if (c != '\n') {
				fr_track(fr, c);
				continue;
			}
			if (fr->lit == LH_CLOSE && fr->lit_plus) {
				/* the client sends it without waiting */
				if (fr->lit_ovf || fr->lit_n > lit_max) {
					fr->lit_size = fr->lit_ovf ?
					    UINT64_MAX : fr->lit_n;
					fr->lit_sync = 0;
					fr_reset(fr);
					*used = i;
					return IMAP_FR_LIT_PLUS_TOO_BIG;
				}
				fr->lit_left = (size_t)fr->lit_n;
				fr->lit = LH_NONE;
				fr->cr = fr->quote = 0;
				if (fr->lit_left > 0) {
					fr->st = FR_DISCARD_LIT;
				}
				continue;
			}
			fr_reset(fr);
			*used = i;
			return IMAP_FR_NEED;
		default:
			break;
		}

		/* FR_LINE */
		c = (unsigned char)in[i];
		if (fr->text >= IMAP_LINE_MAX) {
			/* this byte makes the command too long: it and the
			 * rest of the line go (FR_DISCARD takes it, and at
			 * the line end skips a {n+} literal the client sends
			 * anyway) */
			fr->st = FR_DISCARD;
			*used = *keep = i;
			return IMAP_FR_TOO_LONG;
		}
		fr->text++;
		fr->cur++;
		i++;
		if (c != '\n') {
			fr_track(fr, c);
			continue;
		}
		if (fr->lit == LH_CLOSE) {
			uint64_t lit_n = fr->lit_n;
			int sync = !fr->lit_plus;

			fr->lit_size = fr->lit_ovf ? UINT64_MAX : lit_n;
			fr->lit_sync = sync;
			fr->lit = LH_NONE;
			fr->cr = fr->quote = 0;
			*used = *keep = i;
			if (fr->lit_ovf || fr->lits > lit_max ||
			    lit_n > (uint64_t)(lit_max - fr->lits)) {
				fr_reset(fr);
				return sync ? IMAP_FR_LIT_TOO_BIG :
				    IMAP_FR_LIT_PLUS_TOO_BIG;
			}
			fr->lits += (size_t)lit_n;
			fr->lit_left = (size_t)lit_n;
			if (lit_n > 0) {
				fr->st = FR_LITERAL;
			}
			return sync ? IMAP_FR_CONT : IMAP_FR_LITERAL;
		}
		fr->cmd_len = fr->cur;
		fr_reset(fr);
		*used = *keep = i;
		return IMAP_FR_CMD;
	}
	*used = i;
	*keep = keeping ? i : 0;
	return IMAP_FR_NEED;
}

void
imap_framer_stream(struct imap_framer *fr)
{
	if (fr->st == FR_LITERAL && fr->lit_left > 0) {
		fr->lits -= fr->lit_left;
		fr->st = FR_STREAM;
	}
}

void
imap_framer_void(struct imap_framer *fr, int coming)
{
	size_t left = fr->st == FR_LITERAL || fr->st == FR_STREAM ?
	    fr->lit_left : 0;

	fr_reset(fr);
	if (coming) {
		fr->st = left > 0 ? FR_DISCARD_LIT : FR_DISCARD;
		fr->lit_left = left;
	}
}

int
imap_tag_get(const char *buf, size_t len, size_t *taglen)
{
	size_t n = tag_scan(buf, len);

	if (n == 0 || n > IMAP_TAG_MAX) {
		return -1;
	}
	if (n < len && buf[n] != ' ' && buf[n] != '\r' && buf[n] != '\n') {
		return -1;
	}
	*taglen = n;
	return 0;
}

/* --- commands ----------------------------------------------------- */

enum imap_perr
imap_cmd_parse(const char *s, size_t len, struct imap_cmd *c)
{
	struct tok t;
	const char *shape;
	size_t n;
	int k;
	enum imap_perr e;

	c->tag = NULL;
	c->tag_len = 0;
	c->cmd = IMAP_CMD_UNKNOWN;
	c->uid = 0;
	c->nargs = 0;
	memset(&t, 0, sizeof t);
	t.s = s;
	t.len = len;
	t.c = c;
	if (at_end(&t, 0)) {
		return IMAP_PE_EMPTY;
	}
	n = tag_scan(s, len);
	if (n == 0 || n > IMAP_TAG_MAX ||
	    (n < len && s[n] != ' ' && !at_end(&t, n))) {
		return IMAP_PE_TAG;
	}
	c->tag = s;
	c->tag_len = n;
	t.pos = n;
	while (t.pos < len && s[t.pos] == ' ') {
		t.pos++;
	}
	if (at_end(&t, t.pos)) {
		return IMAP_PE_NO_CMD;
	}
	n = word_scan(&t, t.pos);
	if ((k = word_lookup(s + t.pos, n)) < 0) {
		return IMAP_PE_UNKNOWN;
	}
	c->cmd = cmds[k].cmd;
	shape = cmds[k].shape;
	t.pos += n;
	if (c->cmd == IMAP_CMD_UNKNOWN) {
		/* UID: the sub-command follows */
		while (t.pos < len && s[t.pos] == ' ') {
			t.pos++;
		}
		if (at_end(&t, t.pos)) {
			return IMAP_PE_MISSING;
		}
		n = word_scan(&t, t.pos);
		if ((k = word_lookup(s + t.pos, n)) < 0 || !cmds[k].uid) {
			return IMAP_PE_UID_CMD;
		}
		c->cmd = cmds[k].cmd;
		c->uid = 1;
		shape = c->cmd == IMAP_CMD_EXPUNGE ? UID_EXPUNGE_SHAPE :
		    cmds[k].shape;
		t.pos += n;
	}
	if (t.pos < len && s[t.pos] != ' ' && !at_end(&t, t.pos)) {
		return s[t.pos] == '\r' || s[t.pos] == '\n' ?
		    line_end_err(&t, t.pos) : IMAP_PE_SPACE;
	}
	t.fetch = c->cmd == IMAP_CMD_FETCH;
	if ((e = parse_args(&t)) != IMAP_PE_OK) {
		return e;
	}
	return check_shape(c, shape);
}

/* --- command helpers ---------------------------------------------- */

/* tag = 1*<any ASTRING-CHAR except "+"> (RFC 3501 9). */
static int
is_tag_char(unsigned char ch)
{
	if (ch <= 0x20 || ch >= 0x7f) {
		return 0;
	}
	return strchr("(){%*\"\\+", ch) == NULL;
}

static size_t
tag_scan(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && is_tag_char((unsigned char)s[n])) {
		n++;
	}
	return n;
}

/* 1 when s[pos..) is empty or only the command's last line end. */
static int
at_end(const struct tok *t, size_t pos)
{
	size_t left = t->len - pos;

	return left == 0 || (left == 1 && t->s[pos] == '\n') ||
	    (left == 2 && t->s[pos] == '\r' && t->s[pos + 1] == '\n');
}

/* Why a CR or LF at pos is not the end (at_end is false there). */
static enum imap_perr
line_end_err(const struct tok *t, size_t pos)
{
	if (t->s[pos] == '\r' &&
	    (pos + 1 == t->len || t->s[pos + 1] != '\n')) {
		return IMAP_PE_CR;
	}
	return IMAP_PE_EOL;
}

/* The length of the command name at pos: up to SP or a line end. */
static size_t
word_scan(const struct tok *t, size_t pos)
{
	size_t n = 0;

	while (pos + n < t->len && t->s[pos + n] != ' ' &&
	    t->s[pos + n] != '\r' && t->s[pos + n] != '\n' &&
	    t->s[pos + n] != '(' && t->s[pos + n] != ')') {
		n++;
	}
	return n;
}

static int
word_lookup(const char *w, size_t n)
{
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		if (strlen(cmds[i].name) == n &&
		    strncasecmp(cmds[i].name, w, n) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/*
 * The arguments, into c->args in prefix order. Lists are closed by
 * filling in next and len of the LIST arg whose index is on the open
 * stack. Blanks: one or more spaces between arguments (RFC 3501 asks
 * for one; Dovecot and Cyrus take more), none needed after '(' or
 * before ')'.
 */
static enum imap_perr
parse_args(struct tok *t)
{
	struct imap_cmd *c = t->c;
	int need_sp = 1;

	for (;;) {
		struct imap_arg *a;
		size_t start, sp = t->pos;
		unsigned flags = 0;
		int num = 0;
		enum imap_perr e;
		unsigned char ch;

		while (t->pos < t->len && t->s[t->pos] == ' ') {
			t->pos++;
		}
		sp = t->pos - sp;
		if (at_end(t, t->pos)) {
			break;
		}
		ch = (unsigned char)t->s[t->pos];
		if (ch == ')') {
			if (t->depth == 0) {
				return IMAP_PE_CLOSE;
			}
			a = &c->args[t->open[--t->depth]];
			a->next = (uint16_t)c->nargs;
			a->len = (uint32_t)(t->s + t->pos + 1 - a->p);
			t->pos++;
			need_sp = 1;
			continue;
		}
		if (ch == '\r' || ch == '\n') {
			return line_end_err(t, t->pos);
		}
		if (need_sp && sp == 0) {
			return IMAP_PE_SPACE;
		}
		if ((e = new_arg(t, &a)) != IMAP_PE_OK) {
			return e;
		}
		start = t->pos;
		need_sp = 1;
		if (ch == '(') {
			if (t->depth >= IMAP_DEPTH_MAX) {
				return IMAP_PE_DEPTH;
			}
			a->type = IMAP_ARG_LIST;
			t->open[t->depth++] = (uint16_t)(a - c->args);
			t->pos++;
			need_sp = 0;
			continue;
		}
		if (ch == '"') {
			a->type = IMAP_ARG_QUOTED;
			e = scan_quoted(t, &flags);
			start++;
			a->len = (uint32_t)(t->pos - 1 - start);
		} else if (ch == '{') {
			a->type = IMAP_ARG_LITERAL;
			e = scan_literal(t, &flags);	/* sets a->len */
			start = t->pos - a->len;
		} else {
			a->type = IMAP_ARG_ATOM;
			e = scan_atom(t, &flags, &num);
			a->len = (uint32_t)(t->pos - start);
		}
		if (e != IMAP_PE_OK) {
			return e;
		}
		a->p = t->s + start;
		a->flags = (uint8_t)flags;
		if (a->type == IMAP_ARG_ATOM && num) {
			uint64_t v = 0;

			for (size_t i = 0; i < a->len && v <= UINT32_MAX;
			    i++) {
				v = v * 10 + (uint64_t)(a->p[i] - '0');
			}
			if (a->len <= 10 && v <= UINT32_MAX) {
				a->type = IMAP_ARG_NUMBER;
				a->num = (uint32_t)v;
			}
		} else if (a->type == IMAP_ARG_ATOM &&
		    imap_arg_is(a, "NIL")) {
			a->type = IMAP_ARG_NIL;
		}
	}
	if (t->depth > 0) {
		return IMAP_PE_OPEN;
	}
	return IMAP_PE_OK;
}

/* A new argument at t->pos, counted in its list. */
static enum imap_perr
new_arg(struct tok *t, struct imap_arg **ap)
{
	struct imap_cmd *c = t->c;
	struct imap_arg *a;

	if (c->nargs >= IMAP_ARGS_MAX) {
		return IMAP_PE_TOO_MANY;
	}
	a = &c->args[c->nargs++];
	memset(a, 0, sizeof *a);
	a->p = t->s + t->pos;
	a->next = (uint16_t)c->nargs;
	if (t->depth > 0) {
		c->args[t->open[t->depth - 1]].nchild++;
	}
	*ap = a;
	return IMAP_PE_OK;
}

/* quoted = DQUOTE *QUOTED-CHAR DQUOTE, from the opening quote at
 * t->pos to just past the closing one. 8-bit bytes are taken (UTF-8,
 * as RFC 9051 and every server allow). */
static enum imap_perr
scan_quoted(struct tok *t, unsigned *flags)
{
	t->pos++;
	for (;;) {
		unsigned char ch;

		if (t->pos >= t->len) {
			return IMAP_PE_QUOTED;
		}
		ch = (unsigned char)t->s[t->pos];
		if (ch == '"') {
			t->pos++;
			return IMAP_PE_OK;
		}
		if (ch == '\0') {
			return IMAP_PE_NUL;
		}
		if (ch == '\n' || (ch == '\r' && (t->pos + 1 == t->len ||
		    t->s[t->pos + 1] == '\n'))) {
			return IMAP_PE_QUOTED;
		}
		if (ch == '\r') {
			return IMAP_PE_CR;
		}
		if (ch == '\\') {
			if (t->pos + 1 == t->len) {
				return IMAP_PE_QUOTED;
			}
			ch = (unsigned char)t->s[t->pos + 1];
			if (ch != '"' && ch != '\\') {
				return IMAP_PE_ESCAPE;
			}
			*flags |= IMAP_AF_ESC;
			t->pos++;
		} else if (ch >= 0x80) {
			*flags |= IMAP_AF_8BIT;
		}
		t->pos++;
	}
}

/* literal = "{" number ["+"] "}" CRLF *CHAR8 (RFC 3501 9, RFC 7888);
 * a bare LF is taken as the framer takes it. Sets the arg's len. */
static enum imap_perr
scan_literal(struct tok *t, unsigned *flags)
{
	struct imap_arg *a = &t->c->args[t->c->nargs - 1];
	uint64_t n = 0;
	size_t digits = 0;

	t->pos++;
	while (t->pos < t->len && t->s[t->pos] >= '0' &&
	    t->s[t->pos] <= '9') {
		if (++digits > 10) {
			return IMAP_PE_LITERAL;
		}
		n = n * 10 + (uint64_t)(t->s[t->pos++] - '0');
	}
	if (digits == 0 || n > UINT32_MAX) {
		return IMAP_PE_LITERAL;
	}
	if (t->pos < t->len && t->s[t->pos] == '+') {
		t->pos++;
	}
	if (t->pos >= t->len || t->s[t->pos] != '}') {
		return IMAP_PE_LITERAL;
	}
	t->pos++;
	if (t->pos < t->len && t->s[t->pos] == '\r') {
		t->pos++;
	}
	if (t->pos >= t->len || t->s[t->pos] != '\n') {
		return IMAP_PE_LITERAL;
	}
	t->pos++;
	if (n > t->len - t->pos) {
		return IMAP_PE_LITERAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)t->s[t->pos + i];

		if (ch == '\0') {
			return IMAP_PE_LIT_NUL;
		}
		if (ch >= 0x80) {
			*flags |= IMAP_AF_8BIT;
		}
	}
	t->pos += (size_t)n;
	a->len = (uint32_t)n;
	return IMAP_PE_OK;
}

/*
 * An atom, taken widely so that one scanner serves every command:
 * ATOM-CHARs, the resp-special ']' (astrings), the list-wildcards '%'
 * and '*' (patterns, sequence sets; flagged IMAP_AF_WILD) and a
 * leading '\' (flags). In FETCH, BODY[ and BODY.PEEK[ start a section
 * that runs to its ']' and may hold spaces, lists and strings.
 */
static enum imap_perr
scan_atom(struct tok *t, unsigned *flags, int *num)
{
	size_t start = t->pos;
	int section = 0, digits = 1;
	enum imap_perr e;

	while (t->pos < t->len) {
		unsigned char ch = (unsigned char)t->s[t->pos];
		size_t n = t->pos - start;

		if (ch == ' ' || ch == '(' || ch == ')' || ch == '"' ||
		    ch == '{' || ch == '\r' || ch == '\n') {
			break;
		}
		if (ch == '\0') {
			return IMAP_PE_NUL;
		}
		if (ch < 0x20 || ch >= 0x7f || (ch == '\\' && n > 0)) {
			return IMAP_PE_ATOM;
		}
		if (ch == '[' && t->fetch && !section && section_name(t->s +
		    start, n)) {
			section = 1;
			t->c->args[t->c->nargs - 1].type = IMAP_ARG_SECTION;
			if ((e = scan_section(t)) != IMAP_PE_OK) {
				return e;
			}
			digits = 0;
			continue;
		}
		if (ch == '\\') {
			*flags |= IMAP_AF_BSLASH;
		} else if (ch == '%' || ch == '*') {
			*flags |= IMAP_AF_WILD;
		}
		if (ch < '0' || ch > '9') {
			digits = 0;
		}
		t->pos++;
	}
	if (t->pos == start || (t->pos - start == 1 &&
	    (*flags & IMAP_AF_BSLASH))) {
		return IMAP_PE_ATOM;
	}
	*num = digits;
	return IMAP_PE_OK;
}

/* BODY, BODY.PEEK and RFC 3516 BINARY, BINARY.PEEK, BINARY.SIZE:
 * the names a section may follow. */
static int
section_name(const char *p, size_t n)
{
	static const char *const names[] = { "BODY", "BODY.PEEK",
	    "BINARY", "BINARY.PEEK", "BINARY.SIZE" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (n == strlen(names[i]) && strncasecmp(p, names[i], n) == 0) {
			return 1;
		}
	}
	return 0;
}

/* From '[' to just past its ']', stepping over strings and literals
 * (header-fld-name is an astring); imap_fetch_parse checks the rest. */
static enum imap_perr
scan_section(struct tok *t)
{
	unsigned flags = 0;
	enum imap_perr e;

	t->pos++;
	for (;;) {
		unsigned char ch;

		if (t->pos >= t->len) {
			return IMAP_PE_BRACKET;
		}
		ch = (unsigned char)t->s[t->pos];
		if (ch == ']') {
			t->pos++;
			return IMAP_PE_OK;
		}
		if (ch == '"') {
			if ((e = scan_quoted(t, &flags)) != IMAP_PE_OK) {
				return e;
			}
			continue;
		}
		if (ch == '{') {
			/* a scratch arg for scan_literal's length */
			struct imap_arg *a = &t->c->args[t->c->nargs - 1];
			uint32_t keep = a->len;

			e = scan_literal(t, &flags);
			a->len = keep;
			if (e != IMAP_PE_OK) {
				return e;
			}
			continue;
		}
		if (ch == '\0') {
			return IMAP_PE_NUL;
		}
		if (ch == '\r' || ch == '\n') {
			return IMAP_PE_BRACKET;
		}
		if (ch < 0x20 || ch >= 0x7f) {
			return IMAP_PE_SECTION;
		}
		t->pos++;
	}
}

/* The top-level arguments against a shape string (see cmds[]). */
static enum imap_perr
check_shape(const struct imap_cmd *c, const char *shape)
{
	size_t j = 0;
	int opt = 0;
	char prev = 'x';
	enum imap_perr e;

	for (const char *k = shape;; k++) {
		if (*k == '?') {
			opt = 1;
			continue;
		}
		if (*k == '*' || *k == '+') {
			char kind = *k == '*' ? 'x' : prev;

			for (; j < c->nargs; j = c->args[j].next) {
				if ((e = check_one(kind, &c->args[j])) !=
				    IMAP_PE_OK) {
					return e;
				}
			}
			return IMAP_PE_OK;
		}
		if (*k == '\0') {
			return j < c->nargs ? IMAP_PE_TOO_MANY : IMAP_PE_OK;
		}
		if (j >= c->nargs) {
			return opt ? IMAP_PE_OK : IMAP_PE_MISSING;
		}
		if ((e = check_one(*k, &c->args[j])) != IMAP_PE_OK) {
			return e;
		}
		prev = *k;
		j = c->args[j].next;
	}
}

static enum imap_perr
check_one(char kind, const struct imap_arg *a)
{
	switch (kind) {
	case 'a':
		return imap_arg_is_astring(a) ? IMAP_PE_OK : IMAP_PE_ARG;
	case 'w':
		if (imap_arg_is_astring(a) || (a->type == IMAP_ARG_ATOM &&
		    !(a->flags & IMAP_AF_BSLASH))) {
			return IMAP_PE_OK;
		}
		return IMAP_PE_ARG;
	case 's':
		if ((a->type != IMAP_ARG_ATOM &&
		    a->type != IMAP_ARG_NUMBER) ||
		    imap_seqset_valid(a->p, a->len) != 0) {
			return IMAP_PE_SEQSET;
		}
		return IMAP_PE_OK;
	case 'l':
		return a->type == IMAP_ARG_LIST ? IMAP_PE_OK : IMAP_PE_ARG;
	default:
		return IMAP_PE_OK;
	}
}

/* --- arguments ---------------------------------------------------- */

int
imap_arg_str(const struct imap_arg *a, char *buf, size_t cap,
    size_t *len)
{
	size_t n = 0;

	switch (a->type) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_NUMBER:
	case IMAP_ARG_NIL:
	case IMAP_ARG_LITERAL:
		if (a->len > cap) {
			return -1;
		}
		memcpy(buf, a->p, a->len);
		*len = a->len;
		return 0;
	case IMAP_ARG_QUOTED:
		for (size_t i = 0; i < a->len; i++) {
			if (a->p[i] == '\\' && i + 1 < a->len) {
				i++;
			}
			if (n >= cap) {
				return -1;
			}
			buf[n++] = a->p[i];
		}
		*len = n;
		return 0;
	default:
		return -1;
	}
}

int
imap_arg_is(const struct imap_arg *a, const char *word)
{
	size_t n = strlen(word);

	return (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) &&
	    a->len == n && strncasecmp(a->p, word, n) == 0;
}

int
imap_arg_is_astring(const struct imap_arg *a)
{
	switch (a->type) {
	case IMAP_ARG_ATOM:
		return !(a->flags & (IMAP_AF_WILD | IMAP_AF_BSLASH));
	case IMAP_ARG_NUMBER:
	case IMAP_ARG_NIL:
	case IMAP_ARG_QUOTED:
	case IMAP_ARG_LITERAL:
		return 1;
	default:
		return 0;
	}
}

/* --- output ------------------------------------------------------- */

size_t
imap_astring_fmt(char *buf, size_t cap, const char *s, size_t len)
{
	size_t need = 2, n;
	int lit = 0;
	char num[24];

	if (len > (SIZE_MAX - 32) / 2) {
		return SIZE_MAX;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\0' || ch == '\r' || ch == '\n' || ch >= 0x80) {
			lit = 1;
			break;
		}
		need += (ch == '"' || ch == '\\') ? 2 : 1;
	}
	if (!lit) {
		if (need <= cap) {
			n = 0;
			buf[n++] = '"';
			for (size_t i = 0; i < len; i++) {
				if (s[i] == '"' || s[i] == '\\') {
					buf[n++] = '\\';
				}
				buf[n++] = s[i];
			}
			buf[n] = '"';
		}
		return need;
	}
	n = fmt_u64(num, len);
	need = 1 + n + 3 + len;
	if (need <= cap) {
		buf[0] = '{';
		memcpy(buf + 1, num, n);
		memcpy(buf + 1 + n, "}\r\n", 3);
		memcpy(buf + 4 + n, s, len);
	}
	return need;
}

size_t
imap_nstring_fmt(char *buf, size_t cap, const char *s, size_t len)
{
	if (s == NULL) {
		if (cap >= 3) {
			memcpy(buf, "NIL", 3);
		}
		return 3;
	}
	return imap_astring_fmt(buf, cap, s, len);
}

/* --- static helpers ----------------------------------------------- */

/* A new command: nothing kept, no line, no literal. */
static void
fr_reset(struct imap_framer *fr)
{
	fr->st = FR_LINE;
	fr->cur = fr->text = fr->lits = 0;
	fr->lit_left = 0;
	fr->cr = fr->quote = 0;
	fr->lit = LH_NONE;
	fr->lit_plus = fr->lit_ovf = 0;
	fr->lit_n = 0;
}

/*
 * Follows one byte of a line other than its LF: whether we are in a
 * quoted string (where "{5}" is text), and how much of a literal
 * header "{digits[+]}" the line ends with. A CR counts only as part
 * of the line end, so its effect waits for the next byte.
 */
static void
fr_track(struct imap_framer *fr, unsigned char c)
{
	if (fr->cr) {
		/* the CR before c was not a line end */
		fr->cr = 0;
		fr->lit = LH_NONE;
	}
	if (c == '\r') {
		fr->cr = 1;
		return;
	}
	if (fr->quote == 2) {
		fr->quote = 1;
		return;
	}
	if (fr->quote == 1) {
		if (c == '\\') {
			fr->quote = 2;
		} else if (c == '"') {
			fr->quote = 0;
		}
		return;
	}
	if (c == '"') {
		fr->quote = 1;
		fr->lit = LH_NONE;
	} else if (c == '{') {
		fr->lit = LH_OPEN;
		fr->lit_n = 0;
		fr->lit_plus = fr->lit_ovf = 0;
	} else if (c >= '0' && c <= '9' &&
	    (fr->lit == LH_OPEN || fr->lit == LH_DIGITS)) {
		fr->lit = LH_DIGITS;
		if (!fr->lit_ovf) {
			fr->lit_n = fr->lit_n * 10 + (uint64_t)(c - '0');
			if (fr->lit_n > UINT32_MAX) {
				fr->lit_ovf = 1;
			}
		}
	} else if (c == '+' && fr->lit == LH_DIGITS) {
		fr->lit = LH_PLUS;
		fr->lit_plus = 1;
	} else if (c == '}' &&
	    (fr->lit == LH_DIGITS || fr->lit == LH_PLUS)) {
		fr->lit = LH_CLOSE;
	} else {
		fr->lit = LH_NONE;
	}
}

/* Decimal digits of v into buf (no NUL); returns their count. */
static size_t
fmt_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0) {
		buf[i++] = tmp[--n];
	}
	return i;
}
