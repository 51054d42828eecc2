/* SPDX-License-Identifier: ISC */
/*
 * smtp_parse.c - SMTP commands and message bodies without I/O (see
 * smtp_parse.h). RFC 5321 sections 4.1.1-4.1.2 (commands, paths),
 * 4.5.2 (transparency), 4.5.3.1 (sizes); RFC 1870, 3030, 3461, 6152,
 * 6531 for the extensions.
 */
#include <strings.h>
#include <string.h>

#include "core/num.h"
#include "msg/mailbox.h"
#include "smtp/smtp_parse.h"

/* Body scanner states (smtp_body.st). */
enum {
	ST_BOL,		/* at the start of a line */
	ST_DOT,		/* a line that starts with '.' */
	ST_DOTCR,	/* ".\r" at the start of a line: the end? */
	ST_MID,		/* inside a line */
	ST_CR,		/* after a CR */
	ST_LF		/* a line start after a bare LF: a dot there is
			 * data, so <LF>.<CR><LF> never ends DATA (SMTP
			 * smuggling; Postfix also wants <CR><LF>.<CR><LF>) */
};

static const struct {
	const char	*name;
	enum smtp_verb	 verb;
} verbs[] = {
	{ "HELO", SMTP_V_HELO }, { "EHLO", SMTP_V_EHLO },
	{ "MAIL", SMTP_V_MAIL }, { "RCPT", SMTP_V_RCPT },
	{ "DATA", SMTP_V_DATA }, { "BDAT", SMTP_V_BDAT },
	{ "RSET", SMTP_V_RSET }, { "NOOP", SMTP_V_NOOP },
	{ "HELP", SMTP_V_HELP }, { "VRFY", SMTP_V_VRFY },
	{ "EXPN", SMTP_V_EXPN }, { "QUIT", SMTP_V_QUIT },
	{ "STARTTLS", SMTP_V_STARTTLS }, { "AUTH", SMTP_V_AUTH },
	{ "TURN", SMTP_V_TURN }, { "ATRN", SMTP_V_ATRN },
	{ "ETRN", SMTP_V_ETRN },
};

static enum smtp_perr	parse_path_cmd(struct smtp_cmd *, const char *,
			    size_t);
static enum smtp_perr	parse_param(struct smtp_cmd *, const char *,
			    size_t, unsigned *);
static int	is_xtext(const char *, size_t);
static int	is_hex_upper(char);
static int	prefix_ci(const char *, size_t, const char *);
static void	emit(struct smtp_body *, char, char *, size_t *);
static void	line_end(struct smtp_body *, char *, size_t *);
static void	header_line(struct smtp_body *);

/* --- command lines ------------------------------------------------ */

enum smtp_line_rc
smtp_line_next(struct smtp_lines *l, const char *buf, size_t len,
    const char **line, size_t *linelen, size_t *consumed)
{
	const char *nl;
	size_t skip = 0, scan;

	*consumed = 0;
	if (l->discarding) {
		nl = memchr(buf, '\n', len);
		if (nl == NULL) {
			*consumed = len;
			return SMTP_LINE_NEED;
		}
		l->discarding = 0;
		skip = (size_t)(nl - buf) + 1;
		buf += skip;
		len -= skip;
		*consumed = skip;
	}
	scan = len < SMTP_LINE_MAX ? len : SMTP_LINE_MAX;
	nl = memchr(buf, '\n', scan);
	if (nl == NULL) {
		if (len >= SMTP_LINE_MAX) {
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
			return SMTP_LINE_TOO_LONG;
		}
		return SMTP_LINE_NEED;
	}
	*line = buf;
	*linelen = (size_t)(nl - buf);
	if (*linelen > 0 && buf[*linelen - 1] == '\r') {
		(*linelen)--;
	}
	*consumed = skip + (size_t)(nl - buf) + 1;
	return SMTP_LINE_OK;
}

/* --- commands ----------------------------------------------------- */

enum smtp_perr
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd)
{
	size_t vlen = 0;

	memset(cmd, 0, sizeof *cmd);
	cmd->verb = SMTP_V_UNKNOWN;
	if (memchr(line, '\0', len) != NULL) {
		return SMTP_PE_NUL;
	}
	while (vlen < len && line[vlen] != ' ') {
		vlen++;
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (strlen(verbs[i].name) == vlen &&
		    strncasecmp(verbs[i].name, line, vlen) == 0) {
			cmd->verb = verbs[i].verb;
			break;
		}
	}
	if (cmd->verb == SMTP_V_UNKNOWN) {
		return SMTP_PE_UNKNOWN;
	}
	cmd->arg = line + vlen;
	cmd->arglen = len - vlen;
	while (cmd->arglen > 0 && (cmd->arg[0] == ' ' ||
	    cmd->arg[0] == '\t')) {
		cmd->arg++;
		cmd->arglen--;
	}
	while (cmd->arglen > 0 && (cmd->arg[cmd->arglen - 1] == ' ' ||
	    cmd->arg[cmd->arglen - 1] == '\t')) {
		cmd->arglen--;
	}
	switch (cmd->verb) {
	case SMTP_V_HELO:
	case SMTP_V_EHLO:
		if (cmd->arglen == 0) {
			return SMTP_PE_NO_DOMAIN;
		}
		for (size_t i = 0; i < cmd->arglen; i++) {
			if ((unsigned char)cmd->arg[i] < 0x20) {
				return SMTP_PE_SYNTAX;
			}
		}
		return SMTP_PE_OK;
	case SMTP_V_MAIL:
	case SMTP_V_RCPT:
		return parse_path_cmd(cmd, cmd->arg, cmd->arglen);
	case SMTP_V_BDAT: {
		const char *sp = memchr(cmd->arg, ' ', cmd->arglen);
		size_t nlen = sp ? (size_t)(sp - cmd->arg) : cmd->arglen;

		if (num_parse_u64(cmd->arg, nlen, UINT64_MAX,
		    &cmd->chunk) == -1) {
			return SMTP_PE_BDAT_SIZE;
		}
		if (sp != NULL) {
			const char *w = sp;
			size_t wl = cmd->arglen - nlen;

			while (wl > 0 && *w == ' ') {
				w++;
				wl--;
			}
			if (wl != 4 || strncasecmp(w, "LAST", 4) != 0) {
				return SMTP_PE_BDAT_SIZE;
			}
			cmd->last = 1;
		}
		return SMTP_PE_OK;
	}
	case SMTP_V_DATA:
	case SMTP_V_RSET:
	case SMTP_V_QUIT:
	case SMTP_V_STARTTLS:
		return cmd->arglen == 0 ? SMTP_PE_OK : SMTP_PE_SYNTAX;
	case SMTP_V_VRFY:
	case SMTP_V_EXPN:
		return cmd->arglen > 0 ? SMTP_PE_OK : SMTP_PE_SYNTAX;
	default:
		return SMTP_PE_OK;	/* NOOP HELP AUTH TURN ATRN ETRN */
	}
}

int
smtp_path_is_8bit(const struct smtp_cmd *cmd)
{
	for (size_t i = 0; i < cmd->pathlen; i++) {
		if ((unsigned char)cmd->path[i] >= 0x80) {
			return 1;
		}
	}
	return 0;
}

const char *
smtp_perr_reply(enum smtp_perr e, enum smtp_verb v)
{
	switch (e) {
	case SMTP_PE_OK:
		return "250 2.0.0 Ok\r\n";
	case SMTP_PE_UNKNOWN:
		return "500 5.5.2 Error: command not recognized\r\n";
	case SMTP_PE_NUL:
		return "500 5.5.2 Error: NUL byte in command\r\n";
	case SMTP_PE_NO_DOMAIN:
		return v == SMTP_V_HELO ? "501 5.5.4 Syntax: HELO hostname\r\n"
		    : "501 5.5.4 Syntax: EHLO hostname\r\n";
	case SMTP_PE_SYNTAX:
		switch (v) {
		case SMTP_V_MAIL:
			return "501 5.5.4 Syntax: MAIL FROM:<address>\r\n";
		case SMTP_V_RCPT:
			return "501 5.5.4 Syntax: RCPT TO:<address>\r\n";
		case SMTP_V_VRFY:
			return "501 5.5.4 Syntax: VRFY address\r\n";
		case SMTP_V_EXPN:
			return "501 5.5.4 Syntax: EXPN list\r\n";
		case SMTP_V_HELO:
		case SMTP_V_EHLO:
			return "501 5.5.4 Syntax: bad hostname\r\n";
		default:
			return "501 5.5.4 Syntax: no arguments allowed\r\n";
		}
	case SMTP_PE_BAD_SENDER:
		return "501 5.1.7 Bad sender address syntax\r\n";
	case SMTP_PE_BAD_RCPT:
		return "501 5.1.3 Bad recipient address syntax\r\n";
	case SMTP_PE_BAD_PARAM:
		return "555 5.5.4 Unsupported option\r\n";
	case SMTP_PE_PARAM_VALUE:
		return "501 5.5.4 Bad parameter value\r\n";
	case SMTP_PE_8BIT_ADDR:
		return "553 5.6.7 Address with UTF-8 needs SMTPUTF8\r\n";
	case SMTP_PE_BDAT_SIZE:
		return "501 5.5.4 Syntax: BDAT size [LAST]\r\n";
	}
	return "501 5.5.4 Syntax error\r\n";
}

/* "FROM:<path> params" / "TO:<path> params". */
static enum smtp_perr
parse_path_cmd(struct smtp_cmd *cmd, const char *a, size_t len)
{
	int mail = cmd->verb == SMTP_V_MAIL;
	const char *kw = mail ? "FROM:" : "TO:";
	size_t kwlen = strlen(kw), plen;
	enum smtp_perr pe;
	const char *p, *end = a + len, *ps;
	enum smtp_perr bad = mail ? SMTP_PE_BAD_SENDER : SMTP_PE_BAD_RCPT;
	unsigned seen = 0;
	struct mailbox mb;

	if (!prefix_ci(a, len, kw)) {
		return SMTP_PE_SYNTAX;
	}
	p = a + kwlen;
	while (p < end && *p == ' ') {		/* "FROM: <a@b>" too */
		p++;
	}
	if (p < end && *p == '<') {
		int quoted = 0;

		ps = ++p;
		while (p < end && (quoted || *p != '>')) {
			if (*p == '"') {
				quoted = !quoted;
			} else if (*p == '\\' && quoted && p + 1 < end) {
				p++;
			}
			p++;
		}
		if (p == end) {
			return SMTP_PE_SYNTAX;
		}
		plen = (size_t)(p - ps);
		p++;			/* the '>' */
	} else {
		/* No brackets (seen from broken clients; Postfix takes
		 * it too): the path runs to the first space. */
		ps = p;
		while (p < end && *p != ' ') {
			p++;
		}
		plen = (size_t)(p - ps);
		if (plen == 0) {
			return SMTP_PE_SYNTAX;
		}
	}
	/* An obsolete source route "@a,@b:user@c" is ignored (RFC 5321
	 * 4.1.2 and C). */
	if (plen > 0 && ps[0] == '@') {
		const char *colon = memchr(ps, ':', plen);

		if (colon == NULL) {
			return bad;
		}
		plen -= (size_t)(colon + 1 - ps);
		ps = colon + 1;
	}
	if (plen > ADDR_MAX) {
		return bad;
	}
	if (plen == 0) {
		if (!mail) {
			return SMTP_PE_BAD_RCPT;	/* RCPT TO:<> */
		}
	} else if (mailbox_parse(ps, plen, 0, &mb) != MAILBOX_OK) {
		return bad;
	} else if (mb.dlen == 0 && (mail || mb.llen != 10 ||
	    strncasecmp(mb.local, "postmaster", 10) != 0)) {
		/* Only <postmaster> may come without a domain (RFC 5321
		 * 4.5.1). */
		return bad;
	}
	memcpy(cmd->path, ps, plen);
	cmd->path[plen] = '\0';
	cmd->pathlen = plen;
	/* Parameters: SP-separated KEY[=VALUE] (RFC 5321 4.1.2). */
	while (p < end) {
		const char *k;

		if (*p != ' ') {
			return SMTP_PE_SYNTAX;
		}
		while (p < end && *p == ' ') {
			p++;
		}
		if (p == end) {
			break;
		}
		k = p;
		while (p < end && *p != ' ') {
			p++;
		}
		pe = parse_param(cmd, k, (size_t)(p - k), &seen);
		if (pe != SMTP_PE_OK) {
			return pe;
		}
	}
	if (mail && smtp_path_is_8bit(cmd) && !cmd->smtputf8) {
		return SMTP_PE_8BIT_ADDR;
	}
	return SMTP_PE_OK;
}

/* One ESMTP parameter; `seen` catches a parameter given twice. */
static enum smtp_perr
parse_param(struct smtp_cmd *cmd, const char *k, size_t len,
    unsigned *seen)
{
	const char *eq = memchr(k, '=', len), *v;
	size_t klen = eq ? (size_t)(eq - k) : len, vlen;
	unsigned bit;
	int mail = cmd->verb == SMTP_V_MAIL;

	v = eq ? eq + 1 : k + len;
	vlen = eq ? len - klen - 1 : 0;
#define IS(name)	(klen == sizeof(name) - 1 && \
			    strncasecmp(k, name, klen) == 0)
	if (mail && IS("SIZE")) {
		bit = 0x1;
		if (num_parse_u64(v, vlen, UINT64_MAX, &cmd->size) == -1) {
			return SMTP_PE_PARAM_VALUE;
		}
	} else if (mail && IS("BODY")) {
		bit = 0x2;
		if (vlen == 4 && strncasecmp(v, "7BIT", 4) == 0) {
			cmd->body = SMTP_BODY_7BIT;
		} else if (vlen == 8 && strncasecmp(v, "8BITMIME", 8) == 0) {
			cmd->body = SMTP_BODY_8BITMIME;
		} else if (vlen == 10 && strncasecmp(v, "BINARYMIME", 10) ==
		    0) {
			return SMTP_PE_BAD_PARAM;	/* not offered */
		} else {
			return SMTP_PE_PARAM_VALUE;
		}
	} else if (mail && IS("SMTPUTF8")) {
		bit = 0x4;
		if (eq != NULL) {
			return SMTP_PE_PARAM_VALUE;
		}
		cmd->smtputf8 = 1;
	} else if (mail && IS("RET")) {
		bit = 0x8;
		if (vlen == 4 && strncasecmp(v, "FULL", 4) == 0) {
			cmd->ret = SMTP_RET_FULL;
		} else if (vlen == 4 && strncasecmp(v, "HDRS", 4) == 0) {
			cmd->ret = SMTP_RET_HDRS;
		} else {
			return SMTP_PE_PARAM_VALUE;
		}
	} else if (mail && IS("ENVID")) {
		bit = 0x10;
		if (vlen == 0 || vlen > SMTP_ENVID_MAX ||
		    !is_xtext(v, vlen)) {
			return SMTP_PE_PARAM_VALUE;
		}
		memcpy(cmd->envid, v, vlen);
		cmd->envid[vlen] = '\0';
	} else if (mail && IS("AUTH")) {
		/* RFC 4954 5: accepted, never trusted nor passed on. */
		bit = 0x80;
		if (vlen == 0 || !is_xtext(v, vlen)) {
			return SMTP_PE_PARAM_VALUE;
		}
	} else if (!mail && IS("NOTIFY")) {
		const char *w = v, *end = v + vlen;

		bit = 0x20;
		if (vlen == 0) {
			return SMTP_PE_PARAM_VALUE;
		}
		while (w < end) {
			const char *c = memchr(w, ',', (size_t)(end - w));
			size_t wl = (size_t)((c ? c : end) - w);

			if (wl == 5 && strncasecmp(w, "NEVER", 5) == 0) {
				cmd->notify |= SMTP_NOTIFY_NEVER;
			} else if (wl == 7 && strncasecmp(w, "SUCCESS", 7) ==
			    0) {
				cmd->notify |= SMTP_NOTIFY_SUCCESS;
			} else if (wl == 7 && strncasecmp(w, "FAILURE", 7) ==
			    0) {
				cmd->notify |= SMTP_NOTIFY_FAILURE;
			} else if (wl == 5 && strncasecmp(w, "DELAY", 5) ==
			    0) {
				cmd->notify |= SMTP_NOTIFY_DELAY;
			} else {
				return SMTP_PE_PARAM_VALUE;
			}
			w = c ? c + 1 : end;
			if (c != NULL && w == end) {
				return SMTP_PE_PARAM_VALUE;
			}
		}
		/* NEVER stands alone (RFC 3461 4.1). */
		if ((cmd->notify & SMTP_NOTIFY_NEVER) &&
		    cmd->notify != SMTP_NOTIFY_NEVER) {
			return SMTP_PE_PARAM_VALUE;
		}
	} else if (!mail && IS("ORCPT")) {
		const char *semi = memchr(v, ';', vlen);

		bit = 0x40;
		/* addr-type ";" xtext (RFC 3461 4.2) */
		if (semi == NULL || semi == v || vlen > SMTP_ORCPT_MAX ||
		    !is_xtext(semi + 1, (size_t)(v + vlen - semi - 1))) {
			return SMTP_PE_PARAM_VALUE;
		}
		memcpy(cmd->orcpt, v, vlen);
		cmd->orcpt[vlen] = '\0';
	} else {
		return SMTP_PE_BAD_PARAM;
	}
#undef IS
	if (*seen & bit) {
		return SMTP_PE_PARAM_VALUE;	/* given twice */
	}
	*seen |= bit;
	return SMTP_PE_OK;
}

/* RFC 3461 4: xtext = *( xchar / hexchar ), "+" HEX HEX. */
static int
is_xtext(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '+') {
			if (i + 2 >= len || !is_hex_upper(s[i + 1]) ||
			    !is_hex_upper(s[i + 2])) {
				return 0;
			}
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return 0;
		}
	}
	return 1;
}

static int
is_hex_upper(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static int
prefix_ci(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);

	return len >= n && strncasecmp(s, p, n) == 0;
}

/* --- message body -------------------------------------------------- */

void
smtp_body_init(struct smtp_body *b, enum smtp_body_mode mode,
    uint64_t limit)
{
	memset(b, 0, sizeof *b);
	b->mode = mode;
	b->limit = limit;
	b->st = ST_BOL;
	b->in_header = 1;
}

size_t
smtp_body_feed(struct smtp_body *b, const char *in, size_t len, char *out,
    size_t cap, size_t *outlen)
{
	size_t i;

	*outlen = 0;
	for (i = 0; i < len && !b->done && cap - *outlen >= 2; i++) {
		char c = in[i];

		if (c == '\0') {
			b->flags |= SMTP_BODY_NUL;
		}
		switch (b->st) {
		case ST_BOL:
			if (c == '.' && b->mode == SMTP_BODY_DATA) {
				b->st = ST_DOT;
				continue;
			}
			break;
		case ST_DOT:
			if (c == '\r') {
				b->st = ST_DOTCR;
				continue;
			}
			/* ".." -> "."; a dot before anything else is
			 * dropped too (RFC 5321 4.5.2). */
			b->st = ST_MID;
			if (c == '\n') {
				b->flags |= SMTP_BODY_BARE_CRLF;
				emit(b, '.', out, outlen);
				line_end(b, out, outlen);
				b->st = ST_LF;
				continue;
			}
			break;
		case ST_DOTCR:
			if (c == '\n') {
				b->done = 1;	/* CRLF . CRLF */
				i++;
				goto out;
			}
			/* ".\r" + something: a bare CR. */
			b->flags |= SMTP_BODY_BARE_CRLF;
			emit(b, '.', out, outlen);
			b->st = ST_MID;
			break;
		case ST_CR:
			if (c == '\n') {
				line_end(b, out, outlen);
				continue;
			}
			b->flags |= SMTP_BODY_BARE_CRLF;
			b->st = ST_MID;
			break;
		default:
			break;
		}
		/* ST_BOL or ST_MID with an ordinary character. */
		if (c == '\r') {
			b->st = ST_CR;
			continue;
		}
		if (c == '\n') {
			b->flags |= SMTP_BODY_BARE_CRLF;
			line_end(b, out, outlen);
			b->st = ST_LF;
			continue;
		}
		b->st = ST_MID;
		emit(b, c, out, outlen);
	}
out:
	return i;
}

size_t
smtp_body_end(struct smtp_body *b, char *out, size_t cap)
{
	size_t n = 0;

	if (b->st == ST_CR) {
		b->flags |= SMTP_BODY_BARE_CRLF;
	}
	if ((b->st == ST_MID || b->st == ST_CR) && cap >= 1) {
		line_end(b, out, &n);
	}
	b->done = 1;
	return n;
}

uint64_t
smtp_body_vsize(const struct smtp_body *b)
{
	return b->size + b->lines;
}

/* Stores one octet of a line, unless over the size limit (which counts
 * the message as sent, with CR LF line ends: what SIZE= announces). */
static void
emit(struct smtp_body *b, char c, char *out, size_t *n)
{
	if (++b->linelen > SMTP_TEXT_LINE_MAX - 2) {
		b->flags |= SMTP_BODY_LONG_LINE;
	}
	if (b->in_header && b->hlen < sizeof b->hline) {
		b->hline[b->hlen++] = c;
	}
	/* Once over, nothing more is stored: what is kept is a prefix. */
	if ((b->flags & SMTP_BODY_TOO_BIG) || smtp_body_vsize(b) >= b->limit) {
		b->flags |= SMTP_BODY_TOO_BIG;
		return;
	}
	out[(*n)++] = c;
	b->size++;
}

static void
line_end(struct smtp_body *b, char *out, size_t *n)
{
	if (b->in_header) {
		if (b->linelen == 0) {
			b->in_header = 0;	/* the empty line */
		} else {
			header_line(b);
		}
	}
	b->linelen = 0;
	b->hlen = 0;
	b->st = ST_BOL;
	/* Counted as the CR LF it is on the wire (RFC 1870 SIZE). */
	if ((b->flags & SMTP_BODY_TOO_BIG) ||
	    b->limit - smtp_body_vsize(b) < 2) {
		b->flags |= SMTP_BODY_TOO_BIG;
		return;
	}
	out[(*n)++] = '\n';
	b->size++;
	b->lines++;
}

/* Counts Received: (loops, RFC 5321 6.3) and keeps Delivered-To:
 * values (forwarding loops) of a finished header line. */
static void
header_line(struct smtp_body *b)
{
	const char *h = b->hline, *v;
	size_t n = b->hlen, vlen;

	if (prefix_ci(h, n, "Received:")) {
		b->received++;
		return;
	}
	/* A full hline may be cut: its value is not all here. */
	if (!prefix_ci(h, n, "Delivered-To:") ||
	    b->ndto == SMTP_LOOPCHECK_MAX || n == sizeof b->hline) {
		return;
	}
	v = h + 13;
	vlen = n - 13;
	while (vlen > 0 && (*v == ' ' || *v == '\t' || *v == '<')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' ||
	    v[vlen - 1] == '>')) {
		vlen--;
	}
	if (vlen == 0 || vlen > ADDR_MAX) {
		return;
	}
	memcpy(b->dto[b->ndto], v, vlen);
	b->dto[b->ndto][vlen] = '\0';
	mailbox_lower(b->dto[b->ndto], vlen);
	b->ndto++;
}
