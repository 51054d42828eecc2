/*
 * fuzz_imap_parse.c - libFuzzer harness for the sans-I/O IMAP parser
 * (imap/imap_parse.h).
 *
 * Framing: the input is framed by imap_frame through a sliding window
 * of a few hundred bytes, as a session reads, and again one byte at a
 * time; both must give the same events and commands. The first input
 * byte picks the literal limit (small, so that the limits are hit) and
 * whether literals are streamed. Kept bytes go to a command buffer
 * that must never outgrow IMAP_LINE_MAX + lit_max.
 *
 * Parsing: each framed command, and the whole input as one command,
 * goes through imap_cmd_parse; the argument tree must stay inside the
 * command and be well formed, and each string argument written by
 * imap_astring_fmt must parse back to the same value. FETCH, STORE and
 * SEARCH go through their own parsers with bound checks; a body
 * section's canonical name must parse back to the same section;
 * sequence sets are walked with "*" = 100 and every range must be
 * ordered and within bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define WIN		300	/* bytes read per session wakeup */
#define STAR		100u

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
	size_t off = 0, have = 0, data_left = 0;

	imap_framer_init(&fr);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		char *win = malloc(n);
		const char *p = win;

		if (win == NULL) {
			abort();
		}
		memcpy(win, data + off, n);
		while (n > 0) {
			size_t used, keep;
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
				if (stream) {
					imap_framer_stream(&fr);
					data_left = (size_t)fr.lit_size;
				}
				break;
			case IMAP_FR_LIT_DATA:
				if (used == 0 || used > data_left) {
					abort();
				}
				data_left -= used;
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
				break;
			case IMAP_FR_LIT_PLUS_TOO_BIG:
				trace_add(t, 'Y', NULL, 0);
				free(win);
				return;
			}
			p += used;
			n -= used;
			off += used;
		}
		free(win);
	}
}

static void
check_cmd(const char *s, size_t len)
{
	char *copy = malloc(len > 0 ? len : 1);
	enum imap_perr e;

	if (copy == NULL) {
		abort();
	}
	memcpy(copy, s, len);
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
		/* round trips last: they reuse cmd2 only */
		for (size_t j = 0; j < cmd.nargs; j++) {
			check_roundtrip(&cmd.args[j]);
		}
	}
	free(copy);
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
