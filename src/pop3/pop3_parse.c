/* SPDX-License-Identifier: ISC */
/*
 * pop3_parse.c - POP3 command lines (RFC 1939 3, RFC 2449 4), commands
 * (RFC 1939 4-7, RFC 2449 5, RFC 2595 4, RFC 5034 4) and the RETR/TOP
 * response body (RFC 1939 3: byte-stuffing and the final ".", 7: TOP),
 * without I/O. See pop3_parse.h.
 */
#include <string.h>
#include <strings.h>

#include "pop3/pop3_parse.h"

enum arg_kind {
	ARGS_NONE,		/* STAT, RSET, ... */
	ARGS_WORD,		/* USER name */
	ARGS_REST,		/* PASS: the rest of the line */
	ARGS_AUTH,		/* AUTH [mech [initial-response]] */
	ARGS_MSG_OPT,		/* LIST, UIDL [msg] */
	ARGS_MSG,		/* RETR, DELE msg */
	ARGS_TOP		/* TOP msg lines */
};

static const struct {
	const char	*name;
	enum pop3_verb	 verb;
	enum arg_kind	 args;
} verbs[] = {
	{ "USER", POP3_V_USER, ARGS_WORD },
	{ "PASS", POP3_V_PASS, ARGS_REST },
	{ "AUTH", POP3_V_AUTH, ARGS_AUTH },
	{ "STLS", POP3_V_STLS, ARGS_NONE },
	{ "CAPA", POP3_V_CAPA, ARGS_NONE },
	{ "STAT", POP3_V_STAT, ARGS_NONE },
	{ "LIST", POP3_V_LIST, ARGS_MSG_OPT },
	{ "UIDL", POP3_V_UIDL, ARGS_MSG_OPT },
	{ "RETR", POP3_V_RETR, ARGS_MSG },
	{ "TOP", POP3_V_TOP, ARGS_TOP },
	{ "DELE", POP3_V_DELE, ARGS_MSG },
	{ "RSET", POP3_V_RSET, ARGS_NONE },
	{ "NOOP", POP3_V_NOOP, ARGS_NONE },
	{ "QUIT", POP3_V_QUIT, ARGS_NONE },
};

static const char *const perr_text[] = {
	[POP3_PE_OK] = "OK",
	[POP3_PE_EMPTY] = "Empty command",
	[POP3_PE_NUL] = "NUL byte in command",
	[POP3_PE_CHAR] = "Invalid characters in command",
	[POP3_PE_UNKNOWN] = "Unknown command",
	[POP3_PE_MISSING] = "Missing argument",
	[POP3_PE_EXTRA] = "Too many arguments",
	[POP3_PE_NUMBER] = "Invalid message number",
	[POP3_PE_LINES] = "Invalid number of lines",
	[POP3_PE_LINE_LONG] = "Line too long",
};

static size_t	next_word(const char *, size_t, size_t *, const char **);
static int	parse_u32(const char *, size_t, uint32_t *);
static int	is_ctl(unsigned char);
static void	put(char *, size_t *, char);
static void	line_end(struct pop3_xfer *);

/* --- lines -------------------------------------------------------- */

enum pop3_line_rc
pop3_line_next(struct pop3_lines *l, const char *buf, size_t len,
    size_t max, const char **line, size_t *linelen, size_t *consumed)
{
	const char *nl;
	size_t skip = 0, scan;

	*consumed = 0;
	if (l->discarding) {
		nl = memchr(buf, '\n', len);
		if (nl == NULL) {
			*consumed = len;
			return POP3_LINE_NEED;
		}
		l->discarding = 0;
		skip = (size_t)(nl - buf) + 1;
		buf += skip;
		len -= skip;
		*consumed = skip;
	}
	scan = len < max ? len : max;
	nl = memchr(buf, '\n', scan);
	if (nl == NULL) {
		if (len >= max) {
			/* Drop the line through its LF if that is here
			 * already, else all of it and the rest later: never
			 * a byte of the next line. */
			nl = memchr(buf + scan, '\n', len - scan);
			if (nl != NULL) {
				*consumed = skip + (size_t)(nl - buf) + 1;
			} else {
				l->discarding = 1;
				*consumed = skip + len;
			}
			return POP3_LINE_TOO_LONG;
		}
		return POP3_LINE_NEED;
	}
	*line = buf;
	*linelen = (size_t)(nl - buf);
	if (*linelen > 0 && buf[*linelen - 1] == '\r') {
		(*linelen)--;
	}
	*consumed = skip + (size_t)(nl - buf) + 1;
	return POP3_LINE_OK;
}

/* --- commands ----------------------------------------------------- */

enum pop3_perr
pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd)
{
	const char *w[3];
	size_t wl[3], pos, vlen = 0, n;
	enum arg_kind kind = ARGS_NONE;
	unsigned nw = 0;

	memset(cmd, 0, sizeof *cmd);
	cmd->verb = POP3_V_UNKNOWN;
	if (len == 0) {
		return POP3_PE_EMPTY;
	}
	if (memchr(line, '\0', len) != NULL) {
		return POP3_PE_NUL;
	}
	while (vlen < len && line[vlen] != ' ') {
		vlen++;
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (strlen(verbs[i].name) == vlen &&
		    strncasecmp(line, verbs[i].name, vlen) == 0) {
			cmd->verb = verbs[i].verb;
			kind = verbs[i].args;
			break;
		}
	}
	if (cmd->verb == POP3_V_UNKNOWN) {
		return POP3_PE_UNKNOWN;
	}
	if (kind == ARGS_REST) {
		/* RFC 1939 7: the password is everything after the one
		 * space, spaces included; only CR is refused (NUL was). */
		if (vlen + 1 >= len) {
			return POP3_PE_MISSING;
		}
		cmd->arg = line + vlen + 1;
		cmd->arglen = len - vlen - 1;
		return memchr(cmd->arg, '\r', cmd->arglen) != NULL ?
		    POP3_PE_CHAR : POP3_PE_OK;
	}
	for (size_t i = vlen; i < len; i++) {
		if (is_ctl((unsigned char)line[i])) {
			return POP3_PE_CHAR;
		}
	}
	/* Arguments: words separated by spaces; trailing spaces are
	 * tolerated, as some clients send them. */
	pos = vlen;
	while ((n = next_word(line, len, &pos, &w[nw < 3 ? nw : 2])) > 0) {
		if (nw == 3) {
			return POP3_PE_EXTRA;
		}
		wl[nw++] = n;
	}
	switch (kind) {
	case ARGS_NONE:
		return nw > 0 ? POP3_PE_EXTRA : POP3_PE_OK;
	case ARGS_WORD:
		if (nw == 0) {
			return POP3_PE_MISSING;
		}
		if (nw > 1) {
			return POP3_PE_EXTRA;
		}
		cmd->arg = w[0];
		cmd->arglen = wl[0];
		return POP3_PE_OK;
	case ARGS_AUTH:
		if (nw > 2) {
			return POP3_PE_EXTRA;
		}
		if (nw > 0) {
			cmd->arg = w[0];
			cmd->arglen = wl[0];
		}
		if (nw > 1) {
			cmd->ir = w[1];
			cmd->irlen = wl[1];
		}
		return POP3_PE_OK;
	case ARGS_MSG_OPT:
	case ARGS_MSG:
		if (nw == 0) {
			return kind == ARGS_MSG ? POP3_PE_MISSING : POP3_PE_OK;
		}
		if (nw > 1) {
			return POP3_PE_EXTRA;
		}
		if (parse_u32(w[0], wl[0], &cmd->msg) == -1 || cmd->msg == 0) {
			return POP3_PE_NUMBER;
		}
		cmd->nnum = 1;
		return POP3_PE_OK;
	case ARGS_TOP:
		if (nw < 2) {
			return POP3_PE_MISSING;
		}
		if (nw > 2) {
			return POP3_PE_EXTRA;
		}
		if (parse_u32(w[0], wl[0], &cmd->msg) == -1 || cmd->msg == 0) {
			return POP3_PE_NUMBER;
		}
		if (parse_u32(w[1], wl[1], &cmd->lines) == -1) {
			return POP3_PE_LINES;
		}
		cmd->nnum = 2;
		return POP3_PE_OK;
	case ARGS_REST:
		break;
	}
	return POP3_PE_OK;
}

const char *
pop3_verb_name(enum pop3_verb v)
{
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (verbs[i].verb == v) {
			return verbs[i].name;
		}
	}
	return "UNKNOWN";
}

const char *
pop3_strerror(enum pop3_perr e)
{
	if ((unsigned)e >= sizeof perr_text / sizeof perr_text[0] ||
	    perr_text[e] == NULL) {
		return "Syntax error";
	}
	return perr_text[e];
}

/* The next space-separated word at or after *pos: its length (0 at
 * the end of the line), *w its start; *pos moves past it. */
static size_t
next_word(const char *s, size_t len, size_t *pos, const char **w)
{
	size_t i = *pos, start;

	while (i < len && s[i] == ' ') {
		i++;
	}
	start = i;
	while (i < len && s[i] != ' ') {
		i++;
	}
	*pos = i;
	*w = s + start;
	return i - start;
}

/* Digits only (a sign, as in "+1" or "-1", is not a number here),
 * at most 2^32 - 1. Leading zeros are accepted, as RFC 1939 does not
 * forbid them; ten significant digits at most. */
static int
parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return -1;
		}
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX) {
			return -1;
		}
	}
	*out = (uint32_t)v;
	return 0;
}

static int
is_ctl(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

/* --- RETR and TOP output -------------------------------------------- */

void
pop3_xfer_init(struct pop3_xfer *x, int top, uint32_t lines)
{
	memset(x, 0, sizeof *x);
	x->top = top;
	x->lines = lines;
	x->in_header = 1;
}

size_t
pop3_xfer_feed(struct pop3_xfer *x, const char *in, size_t len, char *out,
    size_t cap, size_t *outlen)
{
	size_t i, o = 0;

	for (i = 0; i < len && !x->done && !x->ended; i++) {
		char ch = in[i];

		if (cap - o < 2) {
			break;		/* the worst case of one byte */
		}
		if (ch == '\n') {
			if (!x->cr) {
				put(out, &o, '\r');
			}
			put(out, &o, '\n');
			line_end(x);
			continue;
		}
		/* RFC 1939 3: a line starting with the termination octet
		 * gets another one in front. */
		if (x->linelen == 0 && ch == '.') {
			put(out, &o, '.');
		}
		put(out, &o, ch);
		x->linelen++;
		x->cr = ch == '\r';
	}
	*outlen = o;
	return i;
}

int
pop3_xfer_done(const struct pop3_xfer *x)
{
	return x->done;
}

size_t
pop3_xfer_end(struct pop3_xfer *x, char *out, size_t cap)
{
	size_t o = 0;

	if (x->ended || cap < POP3_XFER_END_MAX) {
		return 0;
	}
	if (x->linelen > 0) {
		/* The file does not end in a line end: the terminator must
		 * still be on a line of its own. A trailing CR is already
		 * out and only needs its LF. */
		if (!x->cr) {
			put(out, &o, '\r');
		}
		put(out, &o, '\n');
	}
	put(out, &o, '.');
	put(out, &o, '\r');
	put(out, &o, '\n');
	x->ended = 1;
	return o;
}

static void
put(char *out, size_t *o, char ch)
{
	out[(*o)++] = ch;
}

/* A line ended (its LF is out). The header ends at the first empty
 * line, "\n" or "\r\n"; TOP then counts the body lines. */
static void
line_end(struct pop3_xfer *x)
{
	int empty = x->linelen == 0 || (x->linelen == 1 && x->cr);

	x->linelen = 0;
	x->cr = 0;
	if (!x->top) {
		return;
	}
	if (x->in_header) {
		if (empty) {
			x->in_header = 0;
			x->done = x->lines == 0;
		}
		return;
	}
	if (x->lines > 0 && --x->lines == 0) {
		x->done = 1;
	}
}
