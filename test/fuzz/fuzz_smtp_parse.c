/* SPDX-License-Identifier: ISC */
/*
 * fuzz_smtp_parse.c - libFuzzer harness for the sans-I/O SMTP parser
 * (smtp/smtp_parse.h).
 *
 * Command lines: the input is framed by smtp_line_next through a
 * sliding window the size of a session buffer, refilled as lines are
 * used, and again one byte at a time; both must give the same lines
 * and overlong-line reports, and a full window must make progress.
 * Each line, and the whole input as one line, goes through
 * smtp_cmd_parse; smtp_perr_reply must be one "NNN text" line ending
 * in CR LF (2xx only for success), and parsed fields stay in bounds.
 *
 * Body: the whole input is decoded as DATA through a 64-byte output
 * buffer as a session would, with invariants on every call (output
 * within cap, consumed within the input, size within the limit,
 * progress until done), and again byte by byte through 2 bytes; both
 * must agree. The end must be the first CR LF . CR LF (counting the
 * CR LF that ended the DATA command), the flags must match the bytes
 * consumed, and a message without bare CR or LF must decode to its
 * unstuffed lines with LF ends, cut at the limit, with the right
 * Received: count and Delivered-To: values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp/smtp_parse.h"
#include "exact.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define WIN		1024	/* session input buffer, > SMTP_LINE_MAX */
#define BODY_CAP	64
#define HLINE_MAX	sizeof(((struct smtp_body *)0)->hline)

/* The events of one framing: 'L', 2 length bytes and the line, or 'T'
 * for a line too long. */
struct trace {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
};

/* One decoding of the body. */
struct dec {
	char		*out;
	size_t		 outlen;
	size_t		 consumed;
	struct smtp_body b;
};

static void	 check_reply(const char *, enum smtp_perr);
static void	 check_cmd(const char *, size_t);
static void	 trace_add(struct trace *, char, const char *, size_t);
static void	 frame(const uint8_t *, size_t, int, struct trace *);
static void	 decode(const char *, size_t, uint64_t, size_t, size_t,
		    struct dec *);
static size_t	 end_of_data(const char *, size_t);
static int	 has_bare(const char *, size_t);
static void	 check_clean(const char *, size_t, uint64_t,
		    const struct dec *);
static void	 check_body(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace a, b;

	a.cap = b.cap = 3 * size + 16;
	a.len = b.len = 0;
	a.p = malloc(a.cap);
	b.p = malloc(b.cap);
	if (a.p == NULL || b.p == NULL) {
		abort();
	}
	frame(data, size, 0, &a);
	frame(data, size, 1, &b);
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
		abort();	/* framing depends on how bytes arrive */
	}
	free(a.p);
	free(b.p);
	check_cmd((const char *)data, size);
	check_body(data, size);
	return 0;
}

static void
check_reply(const char *r, enum smtp_perr pe)
{
	size_t n;

	if (r == NULL) {
		abort();
	}
	n = strlen(r);
	if (n < 7 || r[0] < '2' || r[0] > '5' || r[1] < '0' || r[1] > '9' ||
	    r[2] < '0' || r[2] > '9' || r[3] != ' ' || r[n - 2] != '\r' ||
	    r[n - 1] != '\n' || memchr(r, '\r', n - 2) != NULL ||
	    memchr(r, '\n', n - 1) != NULL ||
	    (r[0] == '2') != (pe == SMTP_PE_OK)) {
		abort();
	}
}

static void
check_cmd(const char *line, size_t len)
{
	char *s = exact_dup(1, line, len);
	struct smtp_cmd cmd;
	enum smtp_perr pe;

	pe = smtp_cmd_parse(s, len, &cmd);
	if ((int)pe < SMTP_PE_OK || pe > SMTP_PE_BDAT_SIZE) {
		abort();
	}
	check_reply(smtp_perr_reply(pe, cmd.verb), pe);
	if (pe != SMTP_PE_OK) {
		exact_done(s);
		return;
	}
	if (cmd.verb == SMTP_V_UNKNOWN || cmd.arg < s ||
	    cmd.arg + cmd.arglen > s + len ||
	    (cmd.arglen > 0 && (cmd.arg[0] == ' ' || cmd.arg[0] == '\t' ||
	    cmd.arg[cmd.arglen - 1] == ' ' ||
	    cmd.arg[cmd.arglen - 1] == '\t'))) {
		abort();
	}
	if (cmd.pathlen > ADDR_MAX || cmd.path[cmd.pathlen] != '\0' ||
	    memchr(cmd.path, '\0', cmd.pathlen) != NULL ||
	    memchr(cmd.envid, '\0', sizeof cmd.envid) == NULL ||
	    memchr(cmd.orcpt, '\0', sizeof cmd.orcpt) == NULL) {
		abort();
	}
	if (cmd.verb != SMTP_V_MAIL && cmd.verb != SMTP_V_RCPT &&
	    (cmd.pathlen != 0 || cmd.size != 0 || cmd.notify != 0)) {
		abort();
	}
	if (cmd.verb == SMTP_V_RCPT && cmd.pathlen == 0) {
		abort();	/* RCPT TO:<> */
	}
	if (cmd.verb == SMTP_V_MAIL && smtp_path_is_8bit(&cmd) &&
	    !cmd.smtputf8) {
		abort();
	}
	if ((cmd.notify & SMTP_NOTIFY_NEVER) &&
	    cmd.notify != SMTP_NOTIFY_NEVER) {
		abort();
	}
	if ((cmd.verb == SMTP_V_DATA || cmd.verb == SMTP_V_QUIT ||
	    cmd.verb == SMTP_V_RSET || cmd.verb == SMTP_V_STARTTLS) &&
	    cmd.arglen != 0) {
		abort();
	}
	exact_done(s);
}

static void
trace_add(struct trace *t, char what, const char *line, size_t len)
{
	size_t need = what == 'L' ? 3 + len : 1;

	if (t->len + need > t->cap) {
		abort();
	}
	t->p[t->len++] = (unsigned char)what;
	if (what == 'L') {
		t->p[t->len++] = (unsigned char)(len >> 8);
		t->p[t->len++] = (unsigned char)len;
		memcpy(t->p + t->len, line, len);
		t->len += len;
	}
}

/* Frames data as a session does: bytes arrive (all that fit in the
 * window, or one at a time), then lines are taken until NEED. */
static void
frame(const uint8_t *data, size_t size, int bytewise, struct trace *t)
{
	static char buf[WIN];
	struct smtp_lines l;
	size_t have = 0, pos = 0;

	memset(&l, 0, sizeof l);
	while (pos < size) {
		size_t n = bytewise ? 1 : WIN - have;

		if (n > size - pos) {
			n = size - pos;
		}
		if (n > WIN - have) {
			abort();	/* a full window was left full */
		}
		memcpy(buf + have, data + pos, n);
		have += n;
		pos += n;
		for (;;) {
			char *copy = exact_dup(0, buf, have);
			const char *line = NULL;
			size_t linelen = 0, used = 0;
			enum smtp_line_rc rc;

			rc = smtp_line_next(&l, copy, have, &line, &linelen,
			    &used);
			if (used > have) {
				abort();
			}
			if (rc == SMTP_LINE_OK) {
				if (line < copy || linelen >= SMTP_LINE_MAX ||
				    line + linelen >= copy + used ||
				    copy[used - 1] != '\n' ||
				    (line[linelen] != '\r' &&
				    line[linelen] != '\n')) {
					abort();
				}
				check_cmd(line, linelen);
				trace_add(t, 'L', line, linelen);
			} else if (rc == SMTP_LINE_TOO_LONG) {
				if (used < SMTP_LINE_MAX) {
					abort();
				}
				trace_add(t, 'T', NULL, 0);
			} else if (rc != SMTP_LINE_NEED) {
				abort();
			}
			exact_done(copy);
			memmove(buf, buf + used, have - used);
			have -= used;
			if (rc == SMTP_LINE_NEED) {
				if (have == WIN) {
					abort();	/* stuck */
				}
				break;
			}
		}
	}
}

/* Decodes in[0..len) as DATA: pieces of `step` bytes arrive, and what
 * is there is fed through `cap` bytes of output until used or done. */
static void
decode(const char *in, size_t len, uint64_t limit, size_t cap,
    size_t step, struct dec *d)
{
	char *out = malloc(cap);
	size_t pos = 0, avail = 0;

	d->out = malloc(2 * len + 2);
	if (out == NULL || d->out == NULL) {
		abort();
	}
	d->outlen = 0;
	smtp_body_init(&d->b, SMTP_BODY_DATA, limit);
	while (avail < len && !d->b.done) {
		avail = len - avail < step ? len : avail + step;
		while (pos < avail && !d->b.done) {
			char *win = exact_dup(0, in + pos, avail - pos);
			size_t n, o = (size_t)-1;

			n = smtp_body_feed(&d->b, win, avail - pos, out, cap,
			    &o);
			exact_done(win);
			if (n > avail - pos || o > cap ||
			    d->b.size > d->b.limit ||
			    (n == 0 && !d->b.done) ||
			    d->outlen + o > 2 * len + 2) {
				abort();
			}
			memcpy(d->out + d->outlen, out, o);
			d->outlen += o;
			pos += n;
		}
	}
	d->consumed = pos;
	free(out);
}

/* Where DATA ends: just past the first CR LF . CR LF, the CR LF of the
 * DATA command counting as the first; (size_t)-1 when not in in. */
static size_t
end_of_data(const char *in, size_t len)
{
	static const char mark[] = "\r\n.\r\n";

	for (size_t k = 0; k + 5 <= len + 2; k++) {
		size_t j;

		for (j = 0; j < 5; j++) {
			char c = k + j < 2 ? "\r\n"[k + j] : in[k + j - 2];

			if (c != mark[j]) {
				break;
			}
		}
		if (j == 5) {
			return k + 3;
		}
	}
	return (size_t)-1;
}

/* A CR not followed by LF, or an LF without a CR before it; a CR last
 * is not known to be bare yet. */
static int
has_bare(const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) {
			return 1;
		}
		if (in[i] == '\r' && i + 1 < len && in[i + 1] != '\n') {
			return 1;
		}
	}
	return 0;
}

/* A finished message without bare CR or LF: in[0..consumed - 3) is
 * lines with CR LF ends. Decode it the plain way and compare. */
static void
check_clean(const char *in, size_t len, uint64_t limit,
    const struct dec *d)
{
	char *ref = malloc(len + 1);
	char dto[SMTP_LOOPCHECK_MAX][ADDR_MAX + 1];
	size_t rlen = 0, maxline = 0, ndto = 0, p = 0, keep = 0;
	uint64_t vs = 0;
	size_t body = d->consumed - 3;
	unsigned received = 0;
	int header = 1;

	if (ref == NULL) {
		abort();
	}
	while (p < body) {
		const char *l = in + p, *v;
		const char *cr = memchr(l, '\r', body - p);
		size_t n, vlen;

		if (cr == NULL || cr + 1 >= in + body || cr[1] != '\n') {
			abort();	/* not bare, so a CR LF must end it */
		}
		n = (size_t)(cr - l);
		p += n + 2;
		if (n > 0 && l[0] == '.') {
			l++;
			n--;
		}
		memcpy(ref + rlen, l, n);
		rlen += n;
		ref[rlen++] = '\n';
		if (n > maxline) {
			maxline = n;
		}
		if (!header) {
			continue;
		}
		if (n == 0) {
			header = 0;
			continue;
		}
		if (n >= 9 && strncasecmp(l, "Received:", 9) == 0) {
			received++;
			continue;
		}
		if (n < 13 || strncasecmp(l, "Delivered-To:", 13) != 0 ||
		    ndto == SMTP_LOOPCHECK_MAX || n >= HLINE_MAX) {
			continue;
		}
		v = l + 13;
		vlen = n - 13;
		while (vlen > 0 && (*v == ' ' || *v == '\t' || *v == '<')) {
			v++;
			vlen--;
		}
		while (vlen > 0 && (v[vlen - 1] == ' ' ||
		    v[vlen - 1] == '\t' || v[vlen - 1] == '>')) {
			vlen--;
		}
		if (vlen == 0 || vlen > ADDR_MAX) {
			continue;
		}
		for (size_t i = 0; i < vlen; i++) {
			char c = v[i];

			dto[ndto][i] = c >= 'A' && c <= 'Z' ?
			    (char)(c - 'A' + 'a') : c;
		}
		dto[ndto][vlen] = '\0';
		ndto++;
	}
	/* The limit counts the message as sent: a line end is CR LF, two
	 * octets; the first octet over it ends what is kept. */
	for (size_t i = 0; i < rlen; i++) {
		uint64_t cost = ref[i] == '\n' ? 2 : 1;

		if (vs + cost > limit) {
			break;
		}
		vs += cost;
		keep++;
	}
	if (d->outlen != keep ||
	    memcmp(d->out, ref, d->outlen) != 0 ||
	    ((d->b.flags & SMTP_BODY_TOO_BIG) != 0) != (keep < rlen) ||
	    ((d->b.flags & SMTP_BODY_LONG_LINE) != 0) !=
	    (maxline > SMTP_TEXT_LINE_MAX - 2) ||
	    d->b.received != received || d->b.ndto != ndto) {
		abort();
	}
	for (size_t i = 0; i < ndto; i++) {
		if (memcmp(d->b.dto[i], dto[i], strlen(dto[i]) + 1) != 0) {
			abort();
		}
	}
	free(ref);
}

static void
check_body(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	uint64_t limit = size > 0 && (data[0] & 3) == 0 ? size / 4 :
	    UINT64_C(1) << 40;
	struct dec a, b;
	size_t end = end_of_data(in, size), lf = 0;

	decode(in, size, limit, BODY_CAP, size, &a);
	decode(in, size, limit, 2, 1, &b);
	if (a.outlen != b.outlen || memcmp(a.out, b.out, a.outlen) != 0 ||
	    a.consumed != b.consumed || a.b.flags != b.b.flags ||
	    a.b.done != b.b.done || a.b.size != b.b.size ||
	    a.b.lines != b.b.lines || a.b.received != b.b.received ||
	    a.b.ndto != b.b.ndto) {
		abort();
	}
	for (size_t i = 0; i < a.b.ndto; i++) {
		if (strcmp(a.b.dto[i], b.b.dto[i]) != 0) {
			abort();
		}
	}
	/* The end, and only the real one. */
	if (end != (size_t)-1 ? !a.b.done || a.consumed != end :
	    a.b.done || a.consumed != size) {
		abort();
	}
	for (size_t i = 0; i < a.outlen; i++) {
		lf += a.out[i] == '\n';
	}
	if (a.b.size != a.outlen || a.b.lines != lf ||
	    smtp_body_vsize(&a.b) != a.outlen + lf ||
	    ((a.b.flags & SMTP_BODY_TOO_BIG) &&
	    smtp_body_vsize(&a.b) + 1 < limit) ||
	    ((a.b.flags & SMTP_BODY_NUL) != 0) !=
	    (memchr(in, '\0', a.consumed) != NULL) ||
	    ((a.b.flags & SMTP_BODY_BARE_CRLF) != 0) !=
	    has_bare(in, a.consumed)) {
		abort();
	}
	if (a.b.done && !(a.b.flags & SMTP_BODY_BARE_CRLF)) {
		check_clean(in, size, limit, &a);
	}
	free(a.out);
	free(b.out);
}
