/* SPDX-License-Identifier: ISC */
/*
 * fuzz_imap_parse.c - libFuzzer harness for the sans-I/O IMAP parser
 * (imap/imap_parse.h).
 *
 * Framing: the input is framed by imap_frame through a sliding window
 * of a few hundred bytes, as a session reads, and again one byte at a
 * time; both must give the same events and commands. The first input
 * byte picks the literal limit (small, so that the limits are hit) and
 * whether literals are streamed. Kept bytes go to a command buffer
 * that must never outgrow IMAP_LINE_MAX + lit_max. At a literal event
 * the input byte after it decides (so both framings decide alike)
 * whether the command is refused there with imap_framer_void (coming
 * or not), or streamed and refused after some of its bytes; and the
 * text kept so far, its '{' replaced by a marker atom, goes through
 * imap_append_parse as the session does.
 *
 * Parsing: each framed command, and the whole input as one command,
 * goes through imap_cmd_parse; the argument tree must stay inside the
 * command and be well formed, and each string argument written by
 * imap_astring_fmt must parse back to the same value. FETCH, STORE and
 * SEARCH go through their own parsers with bound checks; a body
 * section's canonical name must parse back to the same section;
 * sequence sets are walked with "*" = 100 and every range must be
 * ordered and within bounds. Every parsed command, whatever its name,
 * also goes through imap_list_parse, imap_status_items (at each top
 * level argument) and imap_append_parse, whose results must point
 * into the tree and stay within their bounds; an APPEND date-time is
 * written back (in UTC and in -2359) and must parse to the same time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_parse.h"
#include "exact.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define WIN		300	/* bytes read per session wakeup */
#define STAR		100u
#define MARKER		"X"	/* the session's '{' stand-in (imap_append.c) */
/* date-times of years 0000 to 9999, with any zone */
#define DATE_MIN	(-62167219200 - 86400)
#define DATE_MAX	(253402300799 + 86400)

/* The events of one framing: one byte per event, and for a command
 * its length (4 bytes) and bytes. */
struct trace {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
};

static struct imap_cmd		cmd, cmd2;
static struct imap_fetch	fetch, fetch2;
static struct imap_store	store;
static struct imap_search	search;
static struct imap_list_args	list;
static struct imap_append_args	append, append2;
static char			cmdbuf[IMAP_LINE_MAX + IMAP_LITERAL_MAX + 8];
static char			val[IMAP_CMD_MAX];
static char			out[2 * IMAP_CMD_MAX + 64];

static void	trace_add(struct trace *, int, const char *, size_t);
static void	frame(const uint8_t *, size_t, size_t, int, size_t,
		    struct trace *);
static void	check_cmd(const char *, size_t);
static void	check_tree(const struct imap_cmd *, const char *, size_t);
static void	check_roundtrip(const struct imap_arg *);
static void	check_seqset(const char *, size_t);
static void	check_fetch(const struct imap_cmd *);
static void	check_store(const struct imap_cmd *);
static void	check_search(const struct imap_cmd *);
static void	check_node(const struct imap_search *, size_t);
static void	check_marker(const char *, size_t);
static void	check_list(const struct imap_cmd *);
static void	check_status(const struct imap_cmd *);
static void	check_append(const struct imap_cmd *);
static int	in_tree(const struct imap_cmd *, const struct imap_arg *);
static void	check_date(int64_t);
static void	put_num(char *, unsigned, int);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace a, b;
	size_t lit_max;
	int stream;

	if (size == 0) {
		return 0;
	}
	lit_max = (data[0] & 1) ? IMAP_LITERAL_PRELOGIN_MAX :
	    (size_t)(data[0] >> 2);
	stream = (data[0] & 2) != 0;
	a.cap = b.cap = 8 * size + 64;	/* 5 + n per n-byte command */
	a.len = b.len = 0;
	a.p = malloc(a.cap);
	b.p = malloc(b.cap);
	if (a.p == NULL || b.p == NULL) {
		abort();
	}
	frame(data, size, lit_max, stream, WIN, &a);
	frame(data, size, lit_max, stream, 1, &b);
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
		abort();	/* framing depends on how bytes arrive */
	}
	free(a.p);
	free(b.p);
	check_cmd((const char *)data, size);
	return 0;
}

static void
trace_add(struct trace *t, int ev, const char *p, size_t n)
{
	if (t->len + 5 + n > t->cap) {
		abort();
	}
	t->p[t->len++] = (unsigned char)ev;
	if (p != NULL) {
		memcpy(t->p + t->len, &n, 4 < sizeof n ? 4 : sizeof n);
		t->len += 4;
		memcpy(t->p + t->len, p, n);
		t->len += n;
	}
}

/* Frames data as a session would, chunk bytes per read; each framed
 * command is parsed (by the first framing only). */
static void
frame(const uint8_t *data, size_t size, size_t lit_max, int stream,
    size_t chunk, struct trace *t)
{
	struct imap_framer fr;
	size_t off = 0, have = 0, data_left = 0, void_at = 0;

	imap_framer_init(&fr);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		char *win = exact_dup(0, data + off, n);
		const char *p = win;

		while (n > 0) {
			size_t used, keep;
			unsigned h;
			enum imap_fr_ev ev;

			ev = imap_frame(&fr, p, n, lit_max, &used, &keep);
			if (keep > used || used > n ||
			    (used == 0 && ev == IMAP_FR_NEED)) {
				abort();
			}
			if (have + keep > IMAP_LINE_MAX + lit_max) {
				abort();	/* the command bound */
			}
			memcpy(cmdbuf + have, p, keep);
			have += keep;
			switch (ev) {
			case IMAP_FR_NEED:
				break;
			case IMAP_FR_CMD:
				if (fr.cmd_len != have || have == 0 ||
				    cmdbuf[have - 1] != '\n' ||
				    data_left != 0) {
					abort();
				}
				trace_add(t, 'C', cmdbuf, have);
				if (chunk != 1) {
					check_cmd(cmdbuf, have);
				}
				have = 0;
				break;
			case IMAP_FR_CONT:
			case IMAP_FR_LITERAL:
				if (fr.lit_size > lit_max) {
					abort();
				}
				trace_add(t, ev == IMAP_FR_CONT ? '+' : 'L',
				    NULL, 0);
				if (chunk != 1) {
					check_marker(cmdbuf, have);
				}
				/* the same byte whatever the chunks */
				h = data[(off + used) % size];
				if (h % 8 == 0) {
					imap_framer_void(&fr,
					    ev == IMAP_FR_LITERAL || (h & 8));
					trace_add(t, 'V', NULL, 0);
					have = 0;
					break;
				}
				if (stream) {
					imap_framer_stream(&fr);
					data_left = (size_t)fr.lit_size;
				}
				if (stream && h % 8 == 1 && data_left > 0) {
					void_at = 1 + (h >> 3) % data_left;
				}
				break;
			case IMAP_FR_LIT_DATA:
				if (used == 0 || used > data_left) {
					abort();
				}
				data_left -= used;
				if (void_at > 0 && (size_t)fr.lit_size -
				    data_left >= void_at) {
					/* refused partway (or at its end:
					 * the same, the line is dropped) */
					imap_framer_void(&fr, 1);
					trace_add(t, 'V', NULL, 0);
					have = 0;
					data_left = 0;
					void_at = 0;
				}
				break;
			case IMAP_FR_TOO_LONG:
			case IMAP_FR_LIT_TOO_BIG:
				{
					size_t tl;

					(void)imap_tag_get(cmdbuf, have, &tl);
				}
				trace_add(t, ev == IMAP_FR_TOO_LONG ? 'T' :
				    'B', NULL, 0);
				have = 0;
				data_left = 0;
				void_at = 0;
				break;
			case IMAP_FR_LIT_PLUS_TOO_BIG:
				trace_add(t, 'Y', NULL, 0);
				exact_done(win);
				return;
			}
			p += used;
			n -= used;
			off += used;
		}
		exact_done(win);
	}
}

static void
check_cmd(const char *s, size_t len)
{
	char *copy = exact_dup(1, s, len);
	enum imap_perr e;

	e = imap_cmd_parse(copy, len, &cmd);
	if (imap_strerror(e) == NULL || cmd.tag_len > IMAP_TAG_MAX ||
	    cmd.nargs > IMAP_ARGS_MAX ||
	    (cmd.tag_len > 0 && cmd.tag != copy)) {
		abort();
	}
	if (e == IMAP_PE_OK) {
		check_tree(&cmd, copy, len);
		if (cmd.nargs > 0 && (cmd.cmd == IMAP_CMD_FETCH ||
		    cmd.cmd == IMAP_CMD_STORE || cmd.cmd == IMAP_CMD_COPY ||
		    cmd.cmd == IMAP_CMD_MOVE ||
		    (cmd.cmd == IMAP_CMD_EXPUNGE && cmd.uid))) {
			check_seqset(cmd.args[0].p, cmd.args[0].len);
		}
		switch (cmd.cmd) {
		case IMAP_CMD_FETCH:
			check_fetch(&cmd);
			break;
		case IMAP_CMD_STORE:
			check_store(&cmd);
			break;
		case IMAP_CMD_SEARCH:
			check_search(&cmd);
			break;
		default:
			break;
		}
		check_list(&cmd);
		check_status(&cmd);
		check_append(&cmd);
		/* round trips last: they reuse cmd2 only */
		for (size_t j = 0; j < cmd.nargs; j++) {
			check_roundtrip(&cmd.args[j]);
		}
	}
	exact_done(copy);
}

static void
check_tree(const struct imap_cmd *c, const char *s, size_t len)
{
	for (size_t j = 0; j < c->nargs; j++) {
		const struct imap_arg *a = &c->args[j];

		if (a->p < s || a->len > len ||
		    (size_t)(a->p - s) > len - a->len ||
		    a->next <= j || a->next > c->nargs) {
			abort();
		}
		if (a->type == IMAP_ARG_LIST) {
			size_t kids = 0;

			for (size_t k = j + 1; k < a->next;
			    k = c->args[k].next) {
				if (c->args[k].next > a->next) {
					abort();
				}
				kids++;
			}
			if (kids != a->nchild || a->p[0] != '(' ||
			    a->p[a->len - 1] != ')') {
				abort();
			}
		} else if (a->next != j + 1) {
			abort();
		}
	}
}

/* A string argument, written out and parsed back. */
static void
check_roundtrip(const struct imap_arg *a)
{
	size_t vl, n, vl2;
	static const char pre[] = "t LOGIN ";

	if (a->type == IMAP_ARG_LIST || a->type == IMAP_ARG_SECTION) {
		if (imap_arg_str(a, val, sizeof val, &vl) != -1) {
			abort();
		}
		return;
	}
	if (imap_arg_str(a, val, sizeof val, &vl) != 0 || vl > a->len) {
		abort();
	}
	memcpy(out, pre, sizeof pre - 1);
	n = imap_astring_fmt(out + sizeof pre - 1,
	    sizeof out - sizeof pre - 8, val, vl);
	if (n > sizeof out - sizeof pre - 8) {
		abort();
	}
	n += sizeof pre - 1;
	memcpy(out + n, " x\r\n", 4);
	n += 4;
	if (imap_cmd_parse(out, n, &cmd2) != IMAP_PE_OK ||
	    imap_arg_str(&cmd2.args[0], out + n, sizeof out - n,
	    &vl2) != 0 || vl2 != vl || memcmp(out + n, val, vl) != 0) {
		abort();
	}
}

static void
check_seqset(const char *p, size_t len)
{
	struct imap_seqset_iter it;
	uint32_t lo, hi;
	int rc;
	size_t count = 0;

	if (imap_seqset_valid(p, len) != 0) {
		abort();	/* imap_cmd_parse checked it */
	}
	if (len == 1 && p[0] == '$') {
		return;		/* RFC 5182: the session replaces it */
	}
	imap_seqset_begin(&it, p, len, STAR);
	while ((rc = imap_seqset_next(&it, &lo, &hi)) == 1) {
		if (lo == 0 || lo > hi || ++count > len) {
			abort();
		}
	}
	if (rc != 0) {
		abort();
	}
}

static void
check_fetch(const struct imap_cmd *c)
{
	static char name[4096], line[4200];

	if (imap_fetch_parse(c, &fetch) != IMAP_PE_OK) {
		return;
	}
	if (fetch.nbody > IMAP_FETCH_ATTS_MAX ||
	    fetch.nfield > IMAP_HDR_FIELDS_MAX) {
		abort();
	}
	for (unsigned i = 0; i < fetch.nbody; i++) {
		const struct imap_fetch_body *b = &fetch.body[i];
		size_t n, m;

		if (b->nparts > IMAP_SECTION_DEPTH_MAX ||
		    b->field0 + b->nfields > fetch.nfield ||
		    (b->partial && b->count == 0) ||
		    (b->text == IMAP_SECT_MIME && b->nparts == 0)) {
			abort();
		}
		for (unsigned k = 0; k < b->nparts; k++) {
			if (b->part[k] == 0) {
				abort();
			}
		}
		n = imap_fetch_body_fmt(&fetch, b, name, sizeof name);
		if (n > sizeof name ||
		    imap_fetch_body_fmt(&fetch, b, name, 2) != n) {
			abort();
		}
		n = imap_fetch_body_fmt(&fetch, b, name, sizeof name);
		if (b->partial) {
			continue;	/* "<start>" is response syntax */
		}
		memcpy(line, "t FETCH 1 ", 10);
		memcpy(line + 10, name, n);
		m = 10 + n;
		if (imap_cmd_parse(line, m, &cmd2) != IMAP_PE_OK ||
		    imap_fetch_parse(&cmd2, &fetch2) != IMAP_PE_OK ||
		    fetch2.nbody != 1 ||
		    fetch2.body[0].nparts != b->nparts ||
		    fetch2.body[0].text != b->text ||
		    fetch2.body[0].nfields != b->nfields ||
		    memcmp(fetch2.body[0].part, b->part,
		    b->nparts * sizeof b->part[0]) != 0) {
			abort();
		}
	}
}

static void
check_store(const struct imap_cmd *c)
{
	if (imap_store_parse(c, &store) != IMAP_PE_OK) {
		return;
	}
	if (store.nkw > IMAP_FLAGS_MAX || store.flags > 0x1f) {
		abort();
	}
	for (unsigned i = 0; i < store.nkw; i++) {
		if (store.kw[i].len == 0 ||
		    store.kw[i].len > IMAP_KEYWORD_LEN_MAX) {
			abort();
		}
	}
}

static void
check_search(const struct imap_cmd *c)
{
	if (imap_search_parse(c, &search) != IMAP_PE_OK) {
		return;
	}
	if (search.n == 0 || search.n > IMAP_SEARCH_KEYS_MAX ||
	    search.node[0].key != IMAP_SK_AND ||
	    search.node[0].next != search.n) {
		abort();
	}
	check_node(&search, 0);
}

static void
check_node(const struct imap_search *s, size_t i)
{
	const struct imap_search_node *nd = &s->node[i];

	if (i >= s->n || nd->next <= i || nd->next > s->n) {
		abort();
	}
	switch (nd->key) {
	case IMAP_SK_AND:
		for (size_t j = i + 1; j < nd->next; j = s->node[j].next) {
			check_node(s, j);
			if (s->node[j].next > nd->next) {
				abort();
			}
		}
		break;
	case IMAP_SK_NOT:
		check_node(s, i + 1);
		if (s->node[i + 1].next != nd->next) {
			abort();
		}
		break;
	case IMAP_SK_OR:
		check_node(s, i + 1);
		check_node(s, s->node[i + 1].next);
		if (s->node[s->node[i + 1].next].next != nd->next) {
			abort();
		}
		break;
	case IMAP_SK_SEQSET:
	case IMAP_SK_UID:
		if (nd->str == NULL || nd->next != i + 1) {
			abort();
		}
		check_seqset(nd->str->p, nd->str->len);
		break;
	case IMAP_SK_HEADER:
		if (nd->str == NULL || nd->str2 == NULL) {
			abort();
		}
		break;
	default:
		if (nd->next != i + 1) {
			abort();
		}
		break;
	}
}

/* What the session parses at an APPEND literal: the text kept so far
 * up to the literal's '{', the '{' replaced by the marker. */
static void
check_marker(const char *s, size_t len)
{
	size_t brace = len;
	char *copy;

	while (brace > 0 && s[brace - 1] != '{') {
		brace--;
	}
	if (brace == 0) {
		abort();	/* a literal event without its "{" */
	}
	brace--;
	copy = malloc(brace + sizeof MARKER - 1);
	if (copy == NULL) {
		abort();
	}
	memcpy(copy, s, brace);
	memcpy(copy + brace, MARKER, sizeof MARKER - 1);
	if (imap_cmd_parse(copy, brace + sizeof MARKER - 1, &cmd) ==
	    IMAP_PE_OK) {
		check_tree(&cmd, copy, brace + sizeof MARKER - 1);
		check_append(&cmd);
	}
	free(copy);
}

/* 1 when a points at a top-level or nested argument of c. */
static int
in_tree(const struct imap_cmd *c, const struct imap_arg *a)
{
	return a >= c->args && a < c->args + c->nargs;
}

static void
check_list(const struct imap_cmd *c)
{
	if (imap_list_parse(c, &list) != IMAP_PE_OK) {
		return;
	}
	if (list.ref == NULL || !in_tree(c, list.ref) || list.npat == 0 ||
	    list.npat > IMAP_LIST_PATTERNS_MAX || list.sel > 0x0f ||
	    list.ret > 0x0f || list.status > 0x1f ||
	    ((list.ret & IMAP_LR_STATUS) != 0) != (list.status != 0) ||
	    list.sel == IMAP_LS_RECURSIVEMATCH ||
	    (!list.extended && (list.sel != 0 || list.ret != 0 ||
	    c->nargs != 2))) {
		abort();
	}
	for (unsigned k = 0; k <= list.npat; k++) {
		const struct imap_arg *a = k < list.npat ? list.pat[k] :
		    list.ref;

		if (!in_tree(c, a) || a->type == IMAP_ARG_LIST ||
		    a->type == IMAP_ARG_SECTION ||
		    (!imap_arg_is_astring(a) && !(a->flags & IMAP_AF_WILD))) {
			abort();
		}
	}
}

static void
check_status(const struct imap_cmd *c)
{
	unsigned items;

	for (size_t j = 0; j < c->nargs; j = c->args[j].next) {
		if (imap_status_items(c, j, &items) == IMAP_PE_OK &&
		    (items == 0 || items > 0x1f ||
		    c->args[j].type != IMAP_ARG_LIST)) {
			abort();
		}
	}
	if (c->nargs < IMAP_ARGS_MAX &&
	    imap_status_items(c, c->nargs, &items) == IMAP_PE_OK) {
		abort();
	}
}

static void
check_append(const struct imap_cmd *c)
{
	if (imap_append_parse(c, &append) != IMAP_PE_OK) {
		return;
	}
	if (c->nargs == 0 || (append.mailbox == NULL) !=
	    (c->args[0].next == c->nargs) ||
	    (append.mailbox != NULL && (append.mailbox != &c->args[0] ||
	    !imap_arg_is_astring(append.mailbox))) ||
	    append.fl.flags > 0x1f || append.fl.nkw > IMAP_FLAGS_MAX) {
		abort();
	}
	for (unsigned i = 0; i < append.fl.nkw; i++) {
		if (append.fl.kw[i].len == 0 ||
		    append.fl.kw[i].len > IMAP_KEYWORD_LEN_MAX) {
			abort();
		}
	}
	if (append.date != -1) {
		check_date(append.date);
	}
}

/* A parsed date-time, written back in UTC and in zone -2359: each
 * must parse to the same instant (days_from_civil inverted as in
 * Howard Hinnant's civil_from_days). */
static void
check_date(int64_t t)
{
	static const char mon[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
		"Sep", "Oct", "Nov", "Dec"
	};
	static char line[] = "t APPEND b \"dd-Mon-yyyy hh:mm:ss +zzzz\" "
	    MARKER;
	char *q = line + 12;
	int64_t days, z, era, y, secs;
	unsigned doe, yoe, doy, mp, d, m;

	if (t < DATE_MIN || t > DATE_MAX) {
		abort();
	}
	for (int pass = 0; pass < 2; pass++) {
		/* pass 1: the local time in -2359 is 86340 s earlier */
		int64_t lt = pass == 0 ? t : t - 86340;

		days = lt >= 0 ? lt / 86400 : -((-lt + 86399) / 86400);
		secs = lt - days * 86400;
		z = days + 719468;
		era = (z >= 0 ? z : z - 146096) / 146097;
		doe = (unsigned)(z - era * 146097);
		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		y = (int64_t)yoe + era * 400;
		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		mp = (5 * doy + 2) / 153;
		d = doy - (153 * mp + 2) / 5 + 1;
		m = mp < 10 ? mp + 3 : mp - 9;
		y += m <= 2;
		if (y < 0 || y > 9999) {
			continue;	/* zone moved it out of 4 digits */
		}
		put_num(q, d, 2);
		memcpy(q + 3, mon[m - 1], 3);
		put_num(q + 7, (unsigned)y, 4);
		put_num(q + 12, (unsigned)(secs / 3600), 2);
		put_num(q + 15, (unsigned)(secs / 60 % 60), 2);
		put_num(q + 18, (unsigned)(secs % 60), 2);
		memcpy(q + 21, pass == 0 ? "+0000" : "-2359", 5);
		if (imap_cmd_parse(line, sizeof line - 1, &cmd2) !=
		    IMAP_PE_OK ||
		    imap_append_parse(&cmd2, &append2) != IMAP_PE_OK ||
		    append2.date != t) {
			abort();
		}
	}
}

/* v as n decimal digits at p. */
static void
put_num(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}
