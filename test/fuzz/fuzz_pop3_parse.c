/* SPDX-License-Identifier: ISC */
/*
 * fuzz_pop3_parse.c - libFuzzer harness for the sans-I/O POP3 parser
 * (pop3/pop3_parse.h).
 *
 * Lines: the input is framed by pop3_line_next through a buffer the
 * size of a session's, refilled as lines are used, as much as fits
 * and again one byte at a time; both must give the same lines and
 * overlong-line reports, no line may exceed the bound, and a full
 * buffer must make progress. The first input byte picks the bound
 * (command or SASL) and TOP's cut.
 *
 * Commands: each line, and the whole input as one line, goes through
 * pop3_cmd_parse: arguments must point inside the line, numbers be in
 * range (message numbers from 1), the error text one short line.
 *
 * Transformer: the input, as a message file, goes through pop3_xfer
 * whole into a big buffer and in odd-sized pieces through a 2-byte and
 * a 7-byte output; all must agree, and the output must be CR LF lines
 * ending in the only "." line, whose unstuffed lines give back the
 * input's lines (all of them, or TOP's header and n body lines).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/pop3_parse.h"
#include "exact.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define WIN		1024	/* the smallest session input buffer */

struct trace {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
};

static void	 trace_add(struct trace *, char, const char *, size_t);
static void	 frame(const uint8_t *, size_t, size_t, size_t,
		    struct trace *);
static void	 check_cmd(const char *, size_t);
static size_t	 xfer(const char *, size_t, int, uint32_t, size_t, size_t,
		    char *);
static void	 check_wire(const char *, size_t, const char *, size_t, int,
		    uint32_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace a, b;
	size_t max, olen, n;
	char *out, *out2;
	uint32_t lines;
	int top;

	if (size == 0) {
		return 0;
	}
	max = (data[0] & 1) ? POP3_SASL_LINE_MAX : POP3_LINE_MAX;
	top = (data[0] & 2) != 0;
	lines = data[0] >> 2;
	a.cap = b.cap = 3 * size + 64;
	a.len = b.len = 0;
	a.p = malloc(a.cap);
	b.p = malloc(b.cap);
	if (a.p == NULL || b.p == NULL) {
		abort();
	}
	frame(data, size, max, WIN, &a);
	frame(data, size, max, 1, &b);
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
		abort();	/* framing depends on how bytes arrive */
	}
	free(a.p);
	free(b.p);
	check_cmd((const char *)data, size);

	/* The rest of the input as a message file. */
	data++;
	size--;
	out = malloc(2 * size + 8);
	out2 = malloc(2 * size + 8);
	if (out == NULL || out2 == NULL) {
		abort();
	}
	olen = xfer((const char *)data, size, top, lines, size + 1,
	    2 * size + 8, out);
	n = xfer((const char *)data, size, top, lines, 3, 2, out2);
	if (n != olen || memcmp(out, out2, n) != 0) {
		abort();
	}
	n = xfer((const char *)data, size, top, lines, 11, 7, out2);
	if (n != olen || memcmp(out, out2, n) != 0) {
		abort();
	}
	check_wire((const char *)data, size, out, olen, top, lines);
	free(out);
	free(out2);
	return 0;
}

static void
trace_add(struct trace *t, char ev, const char *p, size_t n)
{
	if (t->len + 3 + n > t->cap) {
		abort();
	}
	t->p[t->len++] = (unsigned char)ev;
	if (ev == 'L') {
		t->p[t->len++] = (unsigned char)(n >> 8);
		t->p[t->len++] = (unsigned char)n;
		memcpy(t->p + t->len, p, n);
		t->len += n;
	}
}

/* Frames data as a session does: a buffer of WIN bytes filled from
 * the input at most `step` bytes at a time, lines used and dropped
 * from its front. */
static void
frame(const uint8_t *data, size_t size, size_t max, size_t step,
    struct trace *t)
{
	struct pop3_lines l = { 0 };
	char *buf = malloc(WIN);
	size_t have = 0, off = 0;

	if (buf == NULL) {
		abort();
	}
	while (off < size || have > 0) {
		size_t n = size - off < WIN - have ? size - off : WIN - have;
		const char *line;
		size_t ll, used;
		enum pop3_line_rc rc;
		char *copy;

		if (n > step) {
			n = step;
		}
		memcpy(buf + have, data + off, n);
		have += n;
		off += n;
		copy = exact_dup(0, buf, have);
		rc = pop3_line_next(&l, copy, have, max, &line, &ll, &used);
		if (used > have) {
			abort();
		}
		if (rc == POP3_LINE_OK) {
			if (ll + 1 > max || line < copy ||
			    line + ll > copy + have) {
				abort();
			}
			trace_add(t, 'L', line, ll);
			check_cmd(line, ll);
		} else if (rc == POP3_LINE_TOO_LONG) {
			trace_add(t, 'T', NULL, 0);
		} else if (have == WIN && used == 0) {
			abort();	/* a full buffer must move */
		}
		exact_done(copy);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (rc == POP3_LINE_NEED && off == size) {
			break;
		}
	}
	free(buf);
}

static void
check_cmd(const char *s, size_t len)
{
	char *copy = exact_dup(1, s, len);
	struct pop3_cmd cmd;
	enum pop3_perr e = pop3_cmd_parse(copy, len, &cmd);
	const char *text = pop3_strerror(e);

	if (text == NULL || strlen(text) == 0 || strlen(text) > 60 ||
	    strpbrk(text, "\r\n") != NULL ||
	    pop3_verb_name(cmd.verb) == NULL) {
		abort();
	}
	if (e == POP3_PE_OK) {
		if (cmd.verb == POP3_V_UNKNOWN ||
		    (cmd.arg != NULL && (cmd.arg < copy ||
		    cmd.arglen > len || cmd.arg + cmd.arglen > copy + len)) ||
		    (cmd.ir != NULL && (cmd.ir < copy || cmd.irlen > len ||
		    cmd.ir + cmd.irlen > copy + len)) || cmd.nnum > 2 ||
		    (cmd.nnum > 0 && cmd.msg == 0)) {
			abort();
		}
		if (cmd.verb != POP3_V_PASS && cmd.arg != NULL &&
		    (cmd.arglen == 0 || memchr(cmd.arg, ' ', cmd.arglen))) {
			abort();
		}
		if ((cmd.verb == POP3_V_RETR || cmd.verb == POP3_V_DELE) &&
		    cmd.nnum != 1) {
			abort();
		}
		if (cmd.verb == POP3_V_TOP && cmd.nnum != 2) {
			abort();
		}
	}
	exact_done(copy);
}

/* Transforms in as a session streams a file: reads of `chunk` bytes,
 * output through a buffer of cap; returns the bytes written to out. */
static size_t
xfer(const char *in, size_t len, int top, uint32_t lines, size_t chunk,
    size_t cap, char *out)
{
	struct pop3_xfer x;
	char piece[POP3_XFER_END_MAX + 64];
	size_t pos = 0, o = 0;

	if (cap > sizeof piece) {
		cap = sizeof piece;
	}
	pop3_xfer_init(&x, top, lines);
	while (pos < len && !pop3_xfer_done(&x)) {
		size_t n = len - pos < chunk ? len - pos : chunk, olen, used;
		char *copy = exact_dup(0, in + pos, n);

		used = pop3_xfer_feed(&x, copy, n, piece, cap, &olen);
		exact_done(copy);
		if (used > n || olen > cap || olen > 2 * used ||
		    (used == 0 && !pop3_xfer_done(&x))) {
			abort();
		}
		memcpy(out + o, piece, olen);
		o += olen;
		pos += used;
	}
	if (pop3_xfer_end(&x, piece, POP3_XFER_END_MAX - 1) != 0) {
		abort();
	}
	o += pop3_xfer_end(&x, out + o, POP3_XFER_END_MAX);
	if (pop3_xfer_end(&x, piece, sizeof piece) != 0) {
		abort();
	}
	return o;
}

/* The wire is CR LF lines, the last one ".", no other line "."; its
 * unstuffed lines are the input's lines (a bare LF or CR LF ends one,
 * a last line without a line end counts), cut for TOP. */
static void
check_wire(const char *in, size_t len, const char *w, size_t wlen, int top,
    uint32_t lines)
{
	size_t ip = 0, wp = 0;
	int header = 1, cut = 0;
	uint64_t left = lines;

	if (wlen < 3 || memcmp(w + wlen - 3, ".\r\n", 3) != 0 ||
	    (wlen > 3 && memcmp(w + wlen - 5, "\r\n", 2) != 0)) {
		abort();
	}
	wlen -= 3;
	while (wp < wlen) {
		const char *nl = memchr(w + wp, '\n', wlen - wp);
		size_t wl, il, ie;
		const char *wline = w + wp;
		int blank;

		if (nl == NULL || nl == w + wp || nl[-1] != '\r') {
			abort();	/* every line ends in CR LF */
		}
		wl = (size_t)(nl - wline) - 1;
		if (wl > 0 && wline[0] == '.') {
			if (wl < 2 || wline[1] != '.') {
				abort();	/* a dot line not stuffed */
			}
			wline++;
			wl--;
		}
		/* the input's next line */
		if (ip >= len) {
			abort();
		}
		ie = ip;
		while (ie < len && in[ie] != '\n') {
			ie++;
		}
		il = ie - ip;
		if (il > 0 && in[ip + il - 1] == '\r') {
			il--;
		}
		if (il != wl || memcmp(in + ip, wline, wl) != 0) {
			abort();
		}
		blank = ie - ip == 0 || (ie - ip == 1 && in[ip] == '\r');
		ip = ie < len ? ie + 1 : len;
		wp = (size_t)(nl - w) + 1;
		if (top) {
			if (header && blank) {
				header = 0;
				cut = left == 0;
			} else if (!header && --left == 0) {
				cut = 1;
			}
			if (cut) {
				break;
			}
		}
	}
	if (wp != wlen) {
		abort();
	}
	if (!cut && ip != len) {
		abort();	/* all of the input went out */
	}
}
