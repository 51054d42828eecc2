/* SPDX-License-Identifier: ISC */
/*
 * smtp_reply.c - SMTP server replies without I/O (see smtp_reply.h).
 * RFC 5321 4.2 (reply lines, multi-line replies, the code's digits),
 * 4.5.3.1.5 (line length); RFC 3463 2 and RFC 2034 (enhanced status
 * codes); RFC 5321 4.1.1.1 (EHLO reply lines: keyword and parameters).
 */
#include <string.h>
#include <strings.h>

#include "core/num.h"
#include "queue/smtp_reply.h"

static enum smtp_reply_ev	line_done(struct smtp_reply *);
static size_t	esc_parse(const char *, size_t, unsigned, char *);
static void	text_add(struct smtp_reply *, const char *, size_t);
static int	word_is(const char *, size_t, const char *);

void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof *r);
	r->complete = 1;
}

enum smtp_reply_ev
smtp_reply_feed(struct smtp_reply *r, const char *in, size_t len,
    size_t *used)
{
	const char *nl;
	size_t take, room;

	*used = 0;
	if (r->err != SMTP_RE_OK) {
		return SMTP_REPLY_ERROR;
	}
	if (r->complete) {
		r->complete = 0;
		r->code = 0;
		r->esc[0] = '\0';
		r->text[0] = '\0';
		r->textlen = 0;
		r->nlines = 0;
		r->dropped = 0;
	}
	r->line = NULL;
	r->linelen = 0;
	nl = memchr(in, '\n', len);
	take = nl != NULL ? (size_t)(nl - in) : len;
	/* The line and its CR must fit before the LF. A NUL within what
	 * fits is found first, so that the error does not depend on how
	 * the bytes arrive. */
	room = SMTP_REPLY_LINE_MAX - 1 - r->buflen;
	if (memchr(in, '\0', take < room ? take : room) != NULL) {
		r->err = SMTP_RE_NUL;
		return SMTP_REPLY_ERROR;
	}
	if (take > room) {
		r->err = SMTP_RE_LONG;
		return SMTP_REPLY_ERROR;
	}
	memcpy(r->buf + r->buflen, in, take);
	r->buflen += take;
	if (nl == NULL) {
		*used = len;
		return SMTP_REPLY_NEED;
	}
	*used = take + 1;
	return line_done(r);
}

int
smtp_reply_idle(const struct smtp_reply *r)
{
	return r->buflen == 0 && (r->complete || r->nlines == 0);
}

const char *
smtp_reply_strerror(enum smtp_reply_err e)
{
	switch (e) {
	case SMTP_RE_OK:
		return "no error";
	case SMTP_RE_CODE:
		return "bad reply code";
	case SMTP_RE_MIXED:
		return "reply code changed inside a multi-line reply";
	case SMTP_RE_NUL:
		return "NUL byte in a reply";
	case SMTP_RE_LONG:
		return "reply line too long";
	case SMTP_RE_LINES:
		return "too many reply lines";
	}
	return "bad reply";
}

void
smtp_ehlo_init(struct smtp_ehlo *e)
{
	memset(e, 0, sizeof *e);
}

void
smtp_ehlo_line(struct smtp_ehlo *e, const char *line, size_t len)
{
	size_t klen = 0, i;
	const char *p, *end = line + len;

	while (klen < len && line[klen] != ' ' && line[klen] != '=') {
		klen++;
	}
	p = line + klen;
	if (word_is(line, klen, "PIPELINING")) {
		e->ext |= SMTP_EXT_PIPELINING;
	} else if (word_is(line, klen, "8BITMIME")) {
		e->ext |= SMTP_EXT_8BITMIME;
	} else if (word_is(line, klen, "SMTPUTF8")) {
		e->ext |= SMTP_EXT_SMTPUTF8;
	} else if (word_is(line, klen, "DSN")) {
		e->ext |= SMTP_EXT_DSN;
	} else if (word_is(line, klen, "STARTTLS")) {
		e->ext |= SMTP_EXT_STARTTLS;
	} else if (word_is(line, klen, "ENHANCEDSTATUSCODES")) {
		e->ext |= SMTP_EXT_ENHANCED;
	} else if (word_is(line, klen, "SIZE")) {
		uint64_t v;

		/* "SIZE" alone, or a number we cannot read: no fixed
		 * maximum that we know of (RFC 1870 4). */
		e->ext |= SMTP_EXT_SIZE;
		while (p < end && *p == ' ') {
			p++;
		}
		for (i = 0; p + i < end && p[i] != ' '; i++) {
			continue;
		}
		if (num_parse_u64(p, i, UINT64_MAX, &v) == 0) {
			e->size_max = v;
		}
	} else if (word_is(line, klen, "AUTH")) {
		/* The mechanisms: words after a space or "=". */
		while (p < end) {
			while (p < end && (*p == ' ' || *p == '=')) {
				p++;
			}
			for (i = 0; p + i < end && p[i] != ' '; i++) {
				continue;
			}
			if (word_is(p, i, "PLAIN")) {
				e->ext |= SMTP_EXT_AUTH_PLAIN;
			} else if (word_is(p, i, "LOGIN")) {
				e->ext |= SMTP_EXT_AUTH_LOGIN;
			}
			p += i;
		}
	}
	/* CHUNKING (RFC 3030) and the rest: not used. */
}

/* A whole line is in r->buf (its LF not stored). */
static enum smtp_reply_ev
line_done(struct smtp_reply *r)
{
	char *s = r->buf;
	size_t n = r->buflen, skip;
	unsigned code;
	int last;

	r->buflen = 0;
	if (n > 0 && s[n - 1] == '\r') {
		n--;
	}
	if (n > SMTP_REPLY_LINE_MAX - 2) {
		r->err = SMTP_RE_LONG;	/* a bare LF after 999 octets */
		return SMTP_REPLY_ERROR;
	}
	/* Reply-code = %x32-35 %x30-35 %x30-39 (RFC 5321 4.2). */
	if (n < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '5' ||
	    s[2] < '0' || s[2] > '9' || (n > 3 && s[3] != ' ' &&
	    s[3] != '-')) {
		r->err = SMTP_RE_CODE;
		return SMTP_REPLY_ERROR;
	}
	code = (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 +
	    (unsigned)(s[2] - '0');
	last = n == 3 || s[3] == ' ';
	if (r->nlines > 0 && code != r->code) {
		r->err = SMTP_RE_MIXED;
		return SMTP_REPLY_ERROR;
	}
	if (++r->nlines > SMTP_REPLY_LINES_MAX) {
		r->err = SMTP_RE_LINES;
		return SMTP_REPLY_ERROR;
	}
	r->code = code;
	r->line = n > 3 ? s + 4 : s + 3;
	r->linelen = n > 3 ? n - 4 : 0;
	/* The enhanced code opens the first line's text and is usually
	 * repeated on the others (RFC 2034 4): kept once. */
	if (r->nlines == 1) {
		skip = esc_parse(r->line, r->linelen, code / 100, r->esc);
	} else {
		char esc[SMTP_ESC_MAX + 1];

		skip = esc_parse(r->line, r->linelen, code / 100, esc);
		if (skip > 0 && strcmp(esc, r->esc) != 0) {
			skip = 0;	/* another code: keep it as text */
		}
	}
	text_add(r, r->line + skip, r->linelen - skip);
	if (last) {
		r->complete = 1;
		return SMTP_REPLY_DONE;
	}
	return SMTP_REPLY_LINE;
}

/*
 * An enhanced status code at the start of s: class "." 1*3digit "."
 * 1*3digit, then a space or the end (RFC 3463 2). Its class must be
 * the reply's first digit (RFC 2034 4), else it is text. Copies it to
 * out and returns how much of s to skip (the code and its spaces), or
 * 0 with out empty.
 */
static size_t
esc_parse(const char *s, size_t len, unsigned cls, char *out)
{
	size_t i = 0;

	out[0] = '\0';
	if (len < 5 || (unsigned)(s[0] - '0') != cls || s[1] != '.') {
		return 0;
	}
	i = 2;
	for (int part = 0; part < 2; part++) {
		size_t d = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9' && d < 4) {
			i++;
			d++;
		}
		if (d == 0 || d > 3) {
			return 0;
		}
		if (part == 0) {
			if (i >= len || s[i] != '.') {
				return 0;
			}
			i++;
		}
	}
	if (i < len && s[i] != ' ') {
		return 0;
	}
	memcpy(out, s, i);
	out[i] = '\0';
	while (i < len && s[i] == ' ') {
		i++;
	}
	return i;
}

/* Appends one line's text to r->text, a space between lines; control
 * octets become '?' so that the text is safe in a log line and a
 * bounce. What does not fit is counted as dropped. */
static void
text_add(struct smtp_reply *r, const char *s, size_t len)
{
	size_t room;

	if (len == 0) {
		return;
	}
	if (r->textlen > 0) {
		if (r->textlen + 1 >= SMTP_REPLY_TEXT_MAX) {
			r->dropped++;
			return;
		}
		r->text[r->textlen++] = ' ';
	}
	room = SMTP_REPLY_TEXT_MAX - r->textlen;
	if (len > room) {
		len = room;
		r->dropped++;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		r->text[r->textlen++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	r->text[r->textlen] = '\0';
}

static int
word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(s, w, len) == 0;
}
