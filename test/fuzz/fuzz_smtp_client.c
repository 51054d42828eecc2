/* SPDX-License-Identifier: ISC */
/*
 * fuzz_smtp_client.c - libFuzzer harness for the outbound SMTP client
 * (queue/smtp_client.h) and the reply reader under it
 * (queue/smtp_reply.h).
 *
 * Replies: the whole input is read as server replies, at once and one
 * byte at a time; both must give the same lines, codes, enhanced codes,
 * texts and error, within their bounds.
 *
 * Sessions: the first two octets choose the options (TLS policy,
 * implicit TLS, credentials, the message, the output space); the rest
 * is a script of steps: server bytes, handshake success or failure, the
 * message sent, a timeout, a lost connection. After each step every
 * action is pulled, with invariants: writes are whole CR LF lines
 * within the output space, with no NUL and no bare CR or LF; STARTTLS
 * is given only when the policy allows it, AUTH goes only under TLS;
 * BODY only in its state. At the end the connection is lost: the
 * session must be DONE with every recipient settled (a valid class),
 * and a 2xx only for a message that was sent.
 *
 * Body: the input as a stored message is encoded through output spaces
 * of 2 and 61 octets; both agree, no bare CR or LF is sent, the only
 * CR LF "." CR LF is the terminator, and undoing the dot-stuffing
 * gives the message back with its line ends made CR LF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg/dsn.h"
#include "queue/smtp_client.h"
#include "queue/smtp_reply.h"
#include "exact.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct trace {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
};

static void	 put(struct trace *, const void *, size_t);
static void	 replies(const uint8_t *, size_t, int, struct trace *);
static void	 session(const uint8_t *, size_t);
static void	 drain(struct smtp_client *, size_t, int *);
static void	 check_write(const struct smtp_client *, const char *,
		    size_t, size_t);
static void	 send_body(struct smtp_client *, int *);
static size_t	 encode(const char *, size_t, size_t, char *);
static void	 body(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace a, b;

	a.cap = b.cap = 4 * size + 64;
	a.len = b.len = 0;
	a.p = malloc(a.cap);
	b.p = malloc(b.cap);
	if (a.p == NULL || b.p == NULL) {
		abort();
	}
	replies(data, size, 0, &a);
	replies(data, size, 1, &b);
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
		abort();	/* reading depends on how bytes arrive */
	}
	free(a.p);
	free(b.p);
	session(data, size);
	body(data, size);
	return 0;
}

static void
put(struct trace *t, const void *s, size_t n)
{
	if (n > t->cap - t->len) {
		t->cap = 2 * (t->len + n);
		t->p = realloc(t->p, t->cap);
		if (t->p == NULL) {
			abort();
		}
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

/* --- replies ----------------------------------------------------------- */

static void
replies(const uint8_t *data, size_t size, int bytewise, struct trace *t)
{
	struct smtp_reply r;
	size_t pos = 0;

	smtp_reply_init(&r);
	while (pos < size) {
		size_t n = bytewise ? 1 : size - pos, off = 0;
		char *copy = exact_dup(0, data + pos, n);

		pos += n;
		while (off < n) {
			size_t used = (size_t)-1;
			enum smtp_reply_ev ev;

			ev = smtp_reply_feed(&r, copy + off, n - off, &used);
			if (used > n - off) {
				abort();
			}
			off += used;
			if (ev == SMTP_REPLY_ERROR) {
				unsigned char e = (unsigned char)r.err;

				if (r.err == SMTP_RE_OK) {
					abort();
				}
				put(t, "E", 1);
				put(t, &e, 1);
				exact_done(copy);
				return;
			}
			if (ev == SMTP_REPLY_NEED) {
				if (off != n) {
					abort();	/* all is kept */
				}
				break;
			}
			if (r.linelen > SMTP_REPLY_LINE_MAX - 6 ||
			    r.code < 200 || r.code > 559 ||
			    r.textlen > SMTP_REPLY_TEXT_MAX ||
			    strlen(r.text) != r.textlen ||
			    strlen(r.esc) > SMTP_ESC_MAX ||
			    (r.esc[0] != '\0' &&
			    (unsigned)(r.esc[0] - '0') != r.code / 100) ||
			    r.nlines == 0 || r.nlines > SMTP_REPLY_LINES_MAX ||
			    r.line < r.buf ||
			    r.line + r.linelen > r.buf + sizeof r.buf) {
				abort();
			}
			for (size_t i = 0; i < r.textlen; i++) {
				unsigned char c = (unsigned char)r.text[i];

				if (c < 0x20 || c == 0x7f) {
					abort();
				}
			}
			put(t, ev == SMTP_REPLY_LINE ? "L" : "D", 1);
			put(t, r.line, r.linelen);
			put(t, "\n", 1);
			if (ev == SMTP_REPLY_DONE) {
				char code[4] = { (char)('0' + r.code / 100),
				    (char)('0' + r.code / 10 % 10),
				    (char)('0' + r.code % 10), ' ' };

				if (!smtp_reply_idle(&r)) {
					abort();
				}
				put(t, code, 4);
				put(t, r.esc, strlen(r.esc) + 1);
				put(t, r.text, r.textlen + 1);
			}
		}
		exact_done(copy);
	}
}

/* --- sessions ---------------------------------------------------------- */

static void
session(const uint8_t *data, size_t size)
{
	static const char *const addrs[] = {
		"b@example.net", "c@example.net", "d@example.net",
		"j\xc3\xbcrgen@example.net", "bad\r\naddr", ""
	};
	struct smtp_client_rcpt rc[4];
	struct smtp_client_msg m;
	struct smtp_client_opts o;
	struct smtp_client sc;
	size_t pos = 2, cap;
	int body_sent = 0, done = 0;
	unsigned cfg;

	if (size < 2) {
		return;
	}
	cfg = (unsigned)data[0] | (unsigned)data[1] << 8;
	memset(rc, 0, sizeof rc);
	memset(&m, 0, sizeof m);
	memset(&o, 0, sizeof o);
	m.sender = (cfg & 0x100) ? "" : "a@example.org";
	m.rcpt = rc;
	m.nrcpt = 1 + (cfg >> 9 & 3);
	for (size_t i = 0; i < m.nrcpt; i++) {
		rc[i].addr = addrs[(cfg >> 11) + i < 6 ? (cfg >> 11) + i :
		    i];
		rc[i].notify = (cfg >> (4 + i)) & 0xf;
		rc[i].orcpt = i & 1 ? "rfc822;x+2By@example.net" : NULL;
	}
	m.envid = (cfg & 0x10) ? "env+2Bid" : NULL;
	m.ret = cfg >> 5 & 3;
	m.size = (cfg & 0x80) ? 123456789 : 1000;
	m.need_8bitmime = cfg >> 6 & 1;
	m.need_smtputf8 = cfg >> 7 & 1;
	o.helo = "client.example.org";
	o.peer = "mx.example.net";
	o.tls = (enum smtp_tls_policy)((cfg & 3) % 3);
	o.tls_active = cfg >> 2 & 1;
	if (cfg & 0x8) {
		o.auth_user = "user";
		o.auth_pass = "pass";
	}
	cap = (cfg & 0x4000) ? 100 : SMTP_CLIENT_CMD_MAX;
	if (smtp_client_init(&sc, &o, &m) == -1) {
		abort();
	}
	drain(&sc, cap, &done);
	while (pos < size) {
		unsigned op = data[pos++];
		size_t n;

		switch (op & 7) {
		case 0:
		case 1:
		case 2:
		case 3: {
			char *copy;

			n = (size_t)(op >> 3) + 1;	/* 1..32 */
			if (n > size - pos) {
				n = size - pos;
			}
			copy = exact_dup(0, data + pos, n);
			smtp_client_feed(&sc, copy, n);
			exact_done(copy);
			pos += n;
			break;
		}
		case 4:
			smtp_client_tls_done(&sc, op >> 3 & 1);
			break;
		case 5:
			send_body(&sc, &body_sent);
			break;
		case 6:
			if ((op >> 3) == 0) {
				smtp_client_timeout(&sc);
			} else {
				continue;	/* a quiet moment */
			}
			break;
		default:
			if ((op >> 3) == 0) {
				smtp_client_lost(&sc);
			}
			break;
		}
		if ((unsigned)sc.state >= SMTP_CL_NSTATES ||
		    (sc.state != SMTP_CL_DONE &&
		    smtp_client_timeout_ms(&sc) == 0)) {
			abort();
		}
		drain(&sc, cap, &done);
	}
	smtp_client_lost(&sc);
	drain(&sc, cap, &done);
	if (!done || sc.state != SMTP_CL_DONE) {
		abort();
	}
	for (size_t i = 0; i < m.nrcpt; i++) {
		const struct smtp_result *res = &rc[i].result;

		if (res->stage == SMTP_STAGE_NONE ||
		    res->stage == SMTP_STAGE_CONNECTION ||
		    (res->esc[0] != '2' && res->esc[0] != '4' &&
		    res->esc[0] != '5') || res->esc[1] != '.' ||
		    strlen(res->esc) > SMTP_ESC_MAX ||
		    strlen(res->text) > SMTP_REPLY_TEXT_MAX ||
		    (res->code != 0 &&
		    (unsigned)(res->esc[0] - '0') != res->code / 100) ||
		    (res->esc[0] == '2' && (!body_sent ||
		    res->stage != SMTP_STAGE_DOT))) {
			abort();
		}
	}
}

static void
drain(struct smtp_client *sc, size_t cap, int *done)
{
	static char out[SMTP_CLIENT_CMD_MAX * 4];

	for (int guard = 0; guard < 1000; guard++) {
		size_t n = (size_t)-1;
		enum smtp_client_action a = smtp_client_next(sc, out, cap, &n);

		switch (a) {
		case SMTP_CLIENT_NONE:
			if (n != 0) {
				abort();
			}
			return;
		case SMTP_CLIENT_WRITE:
			check_write(sc, out, n, cap);
			break;
		case SMTP_CLIENT_STARTTLS:
			if (sc->state != SMTP_CL_TLS || sc->tls ||
			    sc->opts.tls == SMTP_TLS_NONE) {
				abort();
			}
			break;
		case SMTP_CLIENT_BODY:
			if (sc->state != SMTP_CL_BODY) {
				abort();
			}
			break;
		case SMTP_CLIENT_DONE:
			if (sc->state != SMTP_CL_DONE) {
				abort();
			}
			*done = 1;
			return;
		default:
			abort();
		}
	}
	abort();	/* actions without end */
}

static void
check_write(const struct smtp_client *sc, const char *out, size_t n,
    size_t cap)
{
	size_t start = 0;

	if (n < 2 || n > cap || out[n - 2] != '\r' || out[n - 1] != '\n' ||
	    memchr(out, '\0', n) != NULL) {
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		if ((out[i] == '\r') != (i + 1 < n && out[i + 1] == '\n') ||
		    (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))) {
			abort();	/* bare CR or LF */
		}
		if (out[i] == '\n') {
			const char *l = out + start;
			size_t len = i + 1 - start;

			if (len > SMTP_CLIENT_CMD_MAX) {
				abort();
			}
			/* Credentials only under TLS. */
			if ((len >= 4 && memcmp(l, "AUTH", 4) == 0) ||
			    sc->state == SMTP_CL_AUTH_USER ||
			    sc->state == SMTP_CL_AUTH_PASS) {
				if (!sc->tls) {
					abort();
				}
			}
			start = i + 1;
		}
	}
}

/* The caller's side of BODY: a short message through small output. */
static void
send_body(struct smtp_client *sc, int *body_sent)
{
	static const char msg[] = "Subject: x\n\n.dot\nbye";
	char o[8];
	size_t pos = 0, n;

	if (sc->state != SMTP_CL_BODY) {
		smtp_client_body_done(sc);	/* must be harmless */
		return;
	}
	while (pos < sizeof msg - 1) {
		pos += smtp_client_body_encode(sc, msg + pos,
		    sizeof msg - 1 - pos, o, 3, &n);
		if (n > 3) {
			abort();
		}
	}
	if (smtp_client_body_end(sc, o, sizeof o) == 0) {
		abort();
	}
	smtp_client_body_done(sc);
	*body_sent = 1;
}

/* --- body ------------------------------------------------------------ */

/* Encodes in as a whole message through `cap` octets of output into
 * out (room for 2 * len + 5); returns the length. */
static size_t
encode(const char *in, size_t len, size_t cap, char *out)
{
	struct smtp_client_rcpt rc = { .addr = "b@example.net" };
	struct smtp_client_msg m = { .sender = "", .rcpt = &rc, .nrcpt = 1 };
	struct smtp_client_opts o = { .helo = "h" };
	struct smtp_client sc;
	char *win = exact_dup(0, in, len), *buf = malloc(cap);
	size_t pos = 0, n = 0, got;

	if (buf == NULL || smtp_client_init(&sc, &o, &m) == -1) {
		abort();
	}
	while (pos < len) {
		size_t used = smtp_client_body_encode(&sc, win + pos,
		    len - pos, buf, cap, &got);

		if (used == 0 || used > len - pos || got > cap ||
		    got > 2 * used) {
			abort();
		}
		memcpy(out + n, buf, got);
		n += got;
		pos += used;
	}
	free(buf);
	exact_done(win);
	buf = malloc(SMTP_CLIENT_BODY_END_MAX);
	if (buf == NULL) {
		abort();
	}
	got = smtp_client_body_end(&sc, buf, SMTP_CLIENT_BODY_END_MAX);
	if (got != 3 && got != 5) {
		abort();
	}
	memcpy(out + n, buf, got);
	free(buf);
	return n + got;
}

static void
body(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char *a = malloc(2 * size + 8), *b = malloc(2 * size + 8);
	char *ref = malloc(2 * size + 8);
	size_t alen, blen, rlen = 0, i;
	int bol = 1;

	if (a == NULL || b == NULL || ref == NULL) {
		abort();
	}
	alen = encode(in, size, 61, a);
	blen = encode(in, size, 2, b);
	if (alen != blen || memcmp(a, b, alen) != 0) {
		abort();
	}
	/* The reference: line ends (LF, CR LF, bare CR) made CR LF, a dot
	 * doubled at each line start, then the terminator. */
	for (i = 0; i < size; i++) {
		char c = in[i];

		if (c == '\r' || c == '\n') {
			ref[rlen++] = '\r';
			ref[rlen++] = '\n';
			if (c == '\r' && i + 1 < size && in[i + 1] == '\n') {
				i++;
			}
			bol = 1;
			continue;
		}
		if (bol && c == '.') {
			ref[rlen++] = '.';
		}
		ref[rlen++] = c;
		bol = 0;
	}
	if (!bol) {
		ref[rlen++] = '\r';
		ref[rlen++] = '\n';
	}
	memcpy(ref + rlen, ".\r\n", 3);
	rlen += 3;
	if (alen != rlen || memcmp(a, ref, rlen) != 0) {
		abort();
	}
	/* No bare CR or LF, and no end of data before the end. */
	for (i = 0; i < alen; i++) {
		if ((a[i] == '\r') != (i + 1 < alen && a[i + 1] == '\n') ||
		    (a[i] == '\n' && (i == 0 || a[i - 1] != '\r'))) {
			abort();
		}
		if (a[i] == '.' && (i == 0 || a[i - 1] == '\n') &&
		    i + 3 <= alen && a[i + 1] == '\r' && i + 3 != alen) {
			abort();
		}
	}
	free(a);
	free(b);
	free(ref);
}
