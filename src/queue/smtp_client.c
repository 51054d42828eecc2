/* SPDX-License-Identifier: ISC */
/*
 * smtp_client.c - the outbound SMTP client without I/O (see
 * smtp_client.h). RFC 5321 3.1-3.3 (session, HELO fallback, mail
 * transaction), 3.8 (421), 4.1.1 (commands), 4.2 (replies), 4.5.2
 * (transparency), 4.5.3.2 (timeouts); RFC 2920 (PIPELINING), RFC 1870
 * (SIZE), RFC 6152 (8BITMIME), RFC 6531 3.4 (SMTPUTF8), RFC 3461 4
 * (DSN parameters, xtext), RFC 3207 (STARTTLS), RFC 4954 and 4616
 * (AUTH PLAIN; LOGIN as deployed).
 *
 * The mail transaction is a row of commands, each answered in order:
 *
 *   pos    0     1 .. n               n + 1
 *          MAIL  RCPT rcpt[pos - 1]   DATA
 *
 * wr_pos is the next to write, rd_pos the next whose reply is awaited;
 * rd_pos < wr_pos while replies are due. Without PIPELINING a command
 * is written only when rd_pos == wr_pos; with it, all that fit go in
 * one write (RFC 2920 3.1: DATA ends the group). Recipients refused
 * before the session (bad addresses) have no position: both walks
 * skip them.
 */
#include <string.h>
#include <strings.h>

#include "msg/base64.h"
#include "msg/dsn.h"
#include "queue/smtp_client.h"

/* Per recipient (sc->rst). */
enum {
	RS_OPEN,	/* no result yet */
	RS_ACCEPTED,	/* RCPT got 2xx; the "." reply decides */
	RS_FINAL,	/* result set */
	RS_SKIP		/* refused before the session: not sent */
};

/* Body encoder (sc->enc_st). */
enum { ENC_BOL, ENC_MID, ENC_CR };

/* Bounded text for our results. */
struct sb {
	char	*p;
	size_t	 len;
	size_t	 cap;	/* room for the text and its NUL */
};

static void	on_greeting(struct smtp_client *, const struct smtp_reply *);
static void	on_ehlo(struct smtp_client *, const struct smtp_reply *);
static void	on_helo(struct smtp_client *, const struct smtp_reply *);
static void	on_starttls(struct smtp_client *, const struct smtp_reply *);
static void	on_auth(struct smtp_client *, const struct smtp_reply *);
static void	on_txn(struct smtp_client *, const struct smtp_reply *);
static void	on_dot(struct smtp_client *, const struct smtp_reply *);

static const struct {
	const char	*name;
	enum smtp_stage	 stage;
	unsigned	 ms;
	const char	*when;		/* "... with HOST <when>" */
	void		(*on_reply)(struct smtp_client *,
			    const struct smtp_reply *);
} states[SMTP_CL_NSTATES] = {
	[SMTP_CL_GREETING] = { "GREETING", SMTP_STAGE_GREETING,
	    SMTP_CLIENT_GREETING_MS, "while receiving the greeting",
	    on_greeting },
	[SMTP_CL_EHLO] = { "EHLO", SMTP_STAGE_EHLO, SMTP_CLIENT_CMD_MS,
	    "after EHLO", on_ehlo },
	[SMTP_CL_HELO] = { "HELO", SMTP_STAGE_EHLO, SMTP_CLIENT_CMD_MS,
	    "after HELO", on_helo },
	[SMTP_CL_STARTTLS] = { "STARTTLS", SMTP_STAGE_TLS,
	    SMTP_CLIENT_CMD_MS, "after STARTTLS", on_starttls },
	[SMTP_CL_TLS] = { "TLS", SMTP_STAGE_TLS, SMTP_CLIENT_TLS_MS,
	    "during the TLS handshake", NULL },
	[SMTP_CL_AUTH] = { "AUTH", SMTP_STAGE_AUTH, SMTP_CLIENT_CMD_MS,
	    "after AUTH", on_auth },
	[SMTP_CL_AUTH_USER] = { "AUTH_USER", SMTP_STAGE_AUTH,
	    SMTP_CLIENT_CMD_MS, "after AUTH", on_auth },
	[SMTP_CL_AUTH_PASS] = { "AUTH_PASS", SMTP_STAGE_AUTH,
	    SMTP_CLIENT_CMD_MS, "after AUTH", on_auth },
	[SMTP_CL_MAIL] = { "MAIL", SMTP_STAGE_MAIL, SMTP_CLIENT_CMD_MS,
	    "after MAIL FROM", on_txn },
	[SMTP_CL_RCPT] = { "RCPT", SMTP_STAGE_RCPT, SMTP_CLIENT_CMD_MS,
	    "after RCPT TO", on_txn },
	[SMTP_CL_DATA] = { "DATA", SMTP_STAGE_DATA, SMTP_CLIENT_DATA_MS,
	    "after DATA", on_txn },
	[SMTP_CL_BODY] = { "BODY", SMTP_STAGE_BODY, SMTP_CLIENT_BLOCK_MS,
	    "while sending the message", NULL },
	[SMTP_CL_DOT] = { "DOT", SMTP_STAGE_DOT, SMTP_CLIENT_DOT_MS,
	    "after the end of the message", on_dot },
	[SMTP_CL_QUIT] = { "QUIT", SMTP_STAGE_NONE, SMTP_CLIENT_CMD_MS,
	    "after QUIT", NULL },
	[SMTP_CL_DONE] = { "DONE", SMTP_STAGE_NONE, 0, "", NULL },
};

static const char *const stage_names[] = {
	"none", "connection", "greeting", "ehlo", "tls", "auth", "mail",
	"rcpt", "data", "body", "dot"
};

static void	set_state(struct smtp_client *, enum smtp_client_state);
static int	awaiting(const struct smtp_client *);
static void	handle_reply(struct smtp_client *, const struct smtp_reply *);
static void	after_hello(struct smtp_client *);
static void	after_tls(struct smtp_client *);
static void	begin_txn(struct smtp_client *);
static void	quit(struct smtp_client *, int dot_first);
static void	auth_failed(struct smtp_client *, const struct smtp_reply *);
static void	proto_error(struct smtp_client *, const char *);
static void	give_up(struct smtp_client *, const char *, const char *);
static void	settle_reply(struct smtp_client *, const struct smtp_reply *);
static void	settle_local(struct smtp_client *, const char *esc,
		    enum smtp_stage, const char *text);
static void	result_reply(struct smtp_result *,
		    const struct smtp_reply *, enum smtp_stage);
static void	result_local(struct smtp_result *, const char *esc,
		    enum smtp_stage, const char *text);
static size_t	next_pos(const struct smtp_client *, size_t);
static int	txn_more(const struct smtp_client *);
static void	txn_state(struct smtp_client *);
static size_t	txn_write(struct smtp_client *, char *, size_t);
static size_t	cmd_build(struct smtp_client *, char *, size_t);
static size_t	mail_build(const struct smtp_client *, char *, size_t);
static size_t	rcpt_build(const struct smtp_client *, size_t, char *,
		    size_t);
static size_t	auth_build(const struct smtp_client *, char *, size_t);
static size_t	b64_line(const char *, size_t, char *, size_t);
static int	orcpt_ok(const char *);
static int	addr_ok(const char *, int);
static int	has_8bit(const char *);
static const char	*peer(const struct smtp_client *);
static void	sb_init(struct sb *, char *, size_t);
static void	sb_mem(struct sb *, const char *, size_t);
static void	sb_str(struct sb *, const char *);
static void	sb_u64(struct sb *, uint64_t);
static void	sb_reply(struct sb *, const struct smtp_reply *);

int
smtp_client_init(struct smtp_client *sc,
    const struct smtp_client_opts *opts, struct smtp_client_msg *msg)
{
	size_t hlen;

	memset(sc, 0, sizeof *sc);
	if (opts->helo == NULL || msg->sender == NULL || msg->nrcpt == 0 ||
	    msg->nrcpt > SMTP_RCPT_MAX || msg->rcpt == NULL) {
		return -1;
	}
	hlen = strlen(opts->helo);
	if (hlen == 0 || hlen > SMTP_HELO_MAX) {
		return -1;
	}
	for (size_t i = 0; i < hlen; i++) {
		unsigned char c = (unsigned char)opts->helo[i];

		if (c <= 0x20 || c >= 0x7f) {
			return -1;
		}
	}
	if (opts->auth_user != NULL && (opts->auth_pass == NULL ||
	    strlen(opts->auth_user) > SMTP_AUTH_CRED_MAX ||
	    strlen(opts->auth_pass) > SMTP_AUTH_CRED_MAX)) {
		return -1;
	}
	sc->opts = *opts;
	sc->msg = msg;
	sc->tls = opts->tls_active != 0;
	sc->smtputf8 = msg->need_smtputf8 != 0 || has_8bit(msg->sender);
	smtp_reply_init(&sc->reply);
	smtp_ehlo_init(&sc->ehlo);
	for (size_t i = 0; i < msg->nrcpt; i++) {
		struct smtp_client_rcpt *rc = &msg->rcpt[i];

		memset(&rc->result, 0, sizeof rc->result);
		if (rc->addr == NULL || !addr_ok(rc->addr, 0)) {
			result_local(&rc->result, "5.1.3", SMTP_STAGE_RCPT,
			    "bad recipient address syntax");
			sc->rst[i] = RS_SKIP;
			continue;
		}
		sc->rst[i] = RS_OPEN;
		sc->smtputf8 |= has_8bit(rc->addr);
	}
	set_state(sc, SMTP_CL_GREETING);
	sc->await = 1;
	sc->enc_st = ENC_BOL;
	return 0;
}

void
smtp_client_feed(struct smtp_client *sc, const char *in, size_t len)
{
	struct smtp_reply *r = &sc->reply;

	while (len > 0 && sc->state != SMTP_CL_DONE &&
	    sc->state != SMTP_CL_QUIT) {
		enum smtp_reply_ev ev;
		size_t used;

		/* A reply must answer a command that was written; bytes
		 * before a handshake would be taken as encrypted (the
		 * STARTTLS injection of CVE-2011-0411, server side). */
		if (smtp_reply_idle(r) && !awaiting(sc)) {
			proto_error(sc, "reply out of turn");
			return;
		}
		ev = smtp_reply_feed(r, in, len, &used);
		in += used;
		len -= used;
		if (ev == SMTP_REPLY_ERROR) {
			proto_error(sc, smtp_reply_strerror(r->err));
			return;
		}
		if (ev == SMTP_REPLY_NEED) {
			continue;
		}
		if (sc->state == SMTP_CL_EHLO && r->nlines > 1 &&
		    r->code / 100 == 2) {
			smtp_ehlo_line(&sc->ehlo, r->line, r->linelen);
		}
		if (ev == SMTP_REPLY_DONE) {
			handle_reply(sc, r);
		}
	}
}

enum smtp_client_action
smtp_client_next(struct smtp_client *sc, char *out, size_t cap,
    size_t *outlen)
{
	char cmd[SMTP_CLIENT_CMD_MAX];
	size_t n;

	*outlen = 0;
	switch (sc->state) {
	case SMTP_CL_DONE:
		return SMTP_CLIENT_DONE;
	case SMTP_CL_TLS:
		if (sc->action_due) {
			sc->action_due = 0;
			return SMTP_CLIENT_STARTTLS;
		}
		return SMTP_CLIENT_NONE;
	case SMTP_CL_BODY:
		if (sc->action_due) {
			sc->action_due = 0;
			return SMTP_CLIENT_BODY;
		}
		return SMTP_CLIENT_NONE;
	case SMTP_CL_MAIL:
	case SMTP_CL_RCPT:
	case SMTP_CL_DATA:
		*outlen = txn_write(sc, out, cap);
		return *outlen > 0 ? SMTP_CLIENT_WRITE : SMTP_CLIENT_NONE;
	default:
		break;
	}
	if (!sc->out_due) {
		return SMTP_CLIENT_NONE;
	}
	n = cmd_build(sc, cmd, sizeof cmd);
	if (n == 0 || n > cap) {
		return SMTP_CLIENT_NONE;
	}
	memcpy(out, cmd, n);
	*outlen = n;
	sc->out_due = 0;
	if (sc->state == SMTP_CL_QUIT) {
		set_state(sc, SMTP_CL_DONE);	/* its reply is not awaited */
	} else {
		sc->await = 1;
	}
	return SMTP_CLIENT_WRITE;
}

void
smtp_client_tls_done(struct smtp_client *sc, int ok)
{
	char text[SMTP_REPLY_TEXT_MAX + 1];
	struct sb b;

	if (sc->state != SMTP_CL_TLS) {
		return;
	}
	sc->action_due = 0;
	if (!ok) {
		sb_init(&b, text, sizeof text);
		sb_str(&b, "TLS handshake with ");
		sb_str(&b, peer(sc));
		sb_str(&b, " failed");
		settle_local(sc, "4.7.5", SMTP_STAGE_TLS, text);
		set_state(sc, SMTP_CL_DONE);
		return;
	}
	/* RFC 3207 4.2: forget what the server said before. */
	sc->tls = 1;
	smtp_ehlo_init(&sc->ehlo);
	set_state(sc, SMTP_CL_EHLO);
	sc->out_due = 1;
}

size_t
smtp_client_body_encode(struct smtp_client *sc, const char *in, size_t len,
    char *out, size_t cap, size_t *outlen)
{
	size_t i, o = 0;

	for (i = 0; i < len && cap - o >= 2; i++) {
		char c = in[i];

		if (sc->enc_st == ENC_CR) {
			sc->enc_st = ENC_BOL;
			if (c == '\n') {
				continue;	/* CR LF: already sent */
			}
		}
		if (c == '\r' || c == '\n') {
			/* A bare CR ends a line too: never one on the
			 * wire, where a receiver might take CR "." CR LF
			 * for the end (SMTP smuggling). */
			out[o++] = '\r';
			out[o++] = '\n';
			sc->enc_st = c == '\r' ? ENC_CR : ENC_BOL;
			continue;
		}
		if (sc->enc_st == ENC_BOL && c == '.') {
			out[o++] = '.';		/* RFC 5321 4.5.2 */
		}
		out[o++] = c;
		sc->enc_st = ENC_MID;
	}
	*outlen = o;
	return i;
}

size_t
smtp_client_body_end(struct smtp_client *sc, char *out, size_t cap)
{
	size_t o = 0;

	if (cap < SMTP_CLIENT_BODY_END_MAX) {
		return 0;
	}
	if (sc->enc_st == ENC_MID) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	sc->enc_st = ENC_BOL;
	return o + 3;
}

void
smtp_client_body_done(struct smtp_client *sc)
{
	if (sc->state != SMTP_CL_BODY) {
		return;
	}
	sc->action_due = 0;
	set_state(sc, SMTP_CL_DOT);
	sc->await = 1;
}

unsigned
smtp_client_timeout_ms(const struct smtp_client *sc)
{
	return states[sc->state].ms;
}

void
smtp_client_timeout(struct smtp_client *sc)
{
	give_up(sc, "conversation with ", " timed out ");
}

void
smtp_client_lost(struct smtp_client *sc)
{
	/* Lost after the final "." and before its reply: the server may
	 * have taken the message. We retry (4.4.2) and may deliver it
	 * twice, as every MTA does rather than lose it (RFC 1047). */
	give_up(sc, "lost connection with ", " ");
}

/* The session ends without the server: every open recipient gets 4.4.2
 * "<lead><peer><mid><when>". */
static void
give_up(struct smtp_client *sc, const char *lead, const char *mid)
{
	char text[SMTP_REPLY_TEXT_MAX + 1];
	struct sb b;

	if (sc->state == SMTP_CL_DONE || sc->state == SMTP_CL_QUIT) {
		set_state(sc, SMTP_CL_DONE);
		return;
	}
	sb_init(&b, text, sizeof text);
	sb_str(&b, lead);
	sb_str(&b, peer(sc));
	sb_str(&b, mid);
	sb_str(&b, states[sc->state].when);
	settle_local(sc, "4.4.2", states[sc->state].stage, text);
	set_state(sc, SMTP_CL_DONE);
}

const char *
smtp_client_state_name(enum smtp_client_state st)
{
	if ((unsigned)st >= SMTP_CL_NSTATES) {
		return "?";
	}
	return states[st].name;
}

const char *
smtp_stage_name(enum smtp_stage st)
{
	if ((unsigned)st >= sizeof stage_names / sizeof stage_names[0]) {
		return "?";
	}
	return stage_names[st];
}

/* --- transitions ---------------------------------------------------- */

/* Every change of state passes here (STYLE.md section 5); the caller
 * logs it, since this file does no I/O. */
static void
set_state(struct smtp_client *sc, enum smtp_client_state to)
{
	sc->state = to;
}

/* A reply is due for a command already written. */
static int
awaiting(const struct smtp_client *sc)
{
	switch (sc->state) {
	case SMTP_CL_MAIL:
	case SMTP_CL_RCPT:
	case SMTP_CL_DATA:
		return sc->rd_pos < sc->wr_pos;
	case SMTP_CL_TLS:
	case SMTP_CL_BODY:
	case SMTP_CL_QUIT:
	case SMTP_CL_DONE:
		return 0;
	default:
		return sc->await;
	}
}

static void
handle_reply(struct smtp_client *sc, const struct smtp_reply *r)
{
	sc->await = 0;
	/* RFC 5321 3.8: 421 at any point, and the server closes. */
	if (r->code == 421) {
		settle_reply(sc, r);
		set_state(sc, SMTP_CL_DONE);
		return;
	}
	states[sc->state].on_reply(sc, r);
}

static void
on_greeting(struct smtp_client *sc, const struct smtp_reply *r)
{
	size_t hl = strlen(sc->opts.helo), wl = strcspn(r->text, " ");

	if (r->code / 100 == 2 && wl == hl &&
	    strncasecmp(r->text, sc->opts.helo, hl) == 0) {
		/* The server greets with our own name: the mail would
		 * come back to us (an MX or relay pointing here), so it
		 * fails now rather than looping (RFC 5321 5.1). */
		settle_local(sc, "5.4.6", SMTP_STAGE_GREETING,
		    "mail loops back to myself");
		quit(sc, 0);
		return;
	}
	if (r->code / 100 == 2) {
		set_state(sc, SMTP_CL_EHLO);
		sc->out_due = 1;
		return;
	}
	if (r->code / 100 == 3) {
		proto_error(sc, "unexpected greeting");
		return;
	}
	/* 554 (RFC 5321 3.1) or another refusal: the server waits for
	 * QUIT. The caller may try another MX, as Postfix does. */
	settle_reply(sc, r);
	quit(sc, 0);
}

static void
on_ehlo(struct smtp_client *sc, const struct smtp_reply *r)
{
	switch (r->code / 100) {
	case 2:
		after_hello(sc);
		return;
	case 5:
		/* RFC 5321 3.2: an old server; HELO, no extensions. */
		smtp_ehlo_init(&sc->ehlo);
		set_state(sc, SMTP_CL_HELO);
		sc->out_due = 1;
		return;
	case 4:
		settle_reply(sc, r);
		quit(sc, 0);
		return;
	default:
		proto_error(sc, "unexpected reply to EHLO");
		return;
	}
}

static void
on_helo(struct smtp_client *sc, const struct smtp_reply *r)
{
	switch (r->code / 100) {
	case 2:
		smtp_ehlo_init(&sc->ehlo);
		after_hello(sc);
		return;
	case 4:
	case 5:
		settle_reply(sc, r);
		quit(sc, 0);
		return;
	default:
		proto_error(sc, "unexpected reply to HELO");
		return;
	}
}

static void
on_starttls(struct smtp_client *sc, const struct smtp_reply *r)
{
	char text[SMTP_REPLY_TEXT_MAX + 1];
	struct sb b;

	switch (r->code / 100) {
	case 2:
		/* Nothing may follow the 220 before the handshake: feed
		 * refuses bytes in SMTP_CL_TLS. */
		set_state(sc, SMTP_CL_TLS);
		sc->action_due = 1;
		return;
	case 4:
	case 5:
		if (sc->opts.tls != SMTP_TLS_REQUIRE) {
			after_tls(sc);		/* on in clear */
			return;
		}
		sb_init(&b, text, sizeof text);
		sb_str(&b, "TLS is required, but STARTTLS was refused by ");
		sb_str(&b, peer(sc));
		sb_str(&b, ": ");
		sb_reply(&b, r);
		settle_local(sc, "4.7.4", SMTP_STAGE_TLS, text);
		quit(sc, 0);
		return;
	default:
		proto_error(sc, "unexpected reply to STARTTLS");
		return;
	}
}

static void
on_auth(struct smtp_client *sc, const struct smtp_reply *r)
{
	int cls = (int)(r->code / 100);

	if (cls == 4 || cls == 5) {
		auth_failed(sc, r);
		return;
	}
	if (cls == 2) {
		sc->authed = 1;
		begin_txn(sc);
		return;
	}
	/* 334: LOGIN asks for the user name, then the password. PLAIN
	 * sent its response already, and a 334 after the password is a
	 * server that wants more than we have. */
	if (sc->state == SMTP_CL_AUTH && sc->auth_login) {
		set_state(sc, SMTP_CL_AUTH_USER);
		sc->out_due = 1;
	} else if (sc->state == SMTP_CL_AUTH_USER) {
		set_state(sc, SMTP_CL_AUTH_PASS);
		sc->out_due = 1;
	} else {
		auth_failed(sc, r);
	}
}

static void
on_txn(struct smtp_client *sc, const struct smtp_reply *r)
{
	size_t n = sc->msg->nrcpt, pos = sc->rd_pos;
	int cls = (int)(r->code / 100);

	if (pos == 0) {
		if (cls == 3) {
			proto_error(sc, "unexpected reply to MAIL FROM");
			return;
		}
		if (cls != 2) {
			/* Every recipient gets this reply; their RCPT
			 * replies, if pipelined, are read and ignored. */
			sc->mail_failed = 1;
			settle_reply(sc, r);
		}
	} else if (pos <= n) {
		size_t i = pos - 1;

		if (cls == 3) {
			proto_error(sc, "unexpected reply to RCPT TO");
			return;
		}
		if (!sc->mail_failed) {
			if (cls == 2) {
				sc->rst[i] = RS_ACCEPTED;
				sc->accepted++;
			} else {
				result_reply(&sc->msg->rcpt[i].result, r,
				    SMTP_STAGE_RCPT);
				sc->rst[i] = RS_FINAL;
			}
		}
	} else {
		if (cls == 2) {
			proto_error(sc, "unexpected reply to DATA");
			return;
		}
		sc->rd_pos = next_pos(sc, pos);
		if (cls == 3) {
			if (sc->accepted > 0 && !sc->mail_failed) {
				set_state(sc, SMTP_CL_BODY);
				sc->action_due = 1;
				sc->enc_st = ENC_BOL;
				return;
			}
			/* A pipelined DATA that the server took with no
			 * recipient: an empty message ends it, and goes
			 * nowhere (RFC 2920 3.1). */
			quit(sc, 1);
			return;
		}
		settle_reply(sc, r);	/* the accepted ones */
		quit(sc, 0);
		return;
	}
	sc->rd_pos = next_pos(sc, pos);
	txn_state(sc);
	if (sc->rd_pos == sc->wr_pos && !txn_more(sc)) {
		quit(sc, 0);	/* MAIL refused, or no recipient taken */
	}
}

static void
on_dot(struct smtp_client *sc, const struct smtp_reply *r)
{
	if (r->code / 100 == 3) {
		proto_error(sc, "unexpected reply to the end of data");
		return;
	}
	settle_reply(sc, r);
	quit(sc, 0);
}

/* EHLO or HELO was answered 2xx. */
static void
after_hello(struct smtp_client *sc)
{
	char text[SMTP_REPLY_TEXT_MAX + 1];
	struct sb b;

	if (!sc->tls && sc->opts.tls != SMTP_TLS_NONE &&
	    (sc->ehlo.ext & SMTP_EXT_STARTTLS)) {
		set_state(sc, SMTP_CL_STARTTLS);
		sc->out_due = 1;
		return;
	}
	if (!sc->tls && sc->opts.tls == SMTP_TLS_REQUIRE) {
		sb_init(&b, text, sizeof text);
		sb_str(&b, "TLS is required, but was not offered by ");
		sb_str(&b, peer(sc));
		settle_local(sc, "4.7.4", SMTP_STAGE_TLS, text);
		quit(sc, 0);
		return;
	}
	after_tls(sc);
}

/* TLS is up, or will not be: AUTH if we have credentials. */
static void
after_tls(struct smtp_client *sc)
{
	char text[SMTP_REPLY_TEXT_MAX + 1];
	struct sb b;

	if (sc->opts.auth_user == NULL) {
		begin_txn(sc);
		return;
	}
	sb_init(&b, text, sizeof text);
	if (!sc->tls) {
		sb_str(&b, "no TLS with ");
		sb_str(&b, peer(sc));
		sb_str(&b, ": credentials are not sent in clear");
	} else if (sc->ehlo.ext & SMTP_EXT_AUTH_PLAIN) {
		sc->auth_login = 0;
	} else if (sc->ehlo.ext & SMTP_EXT_AUTH_LOGIN) {
		sc->auth_login = 1;
	} else {
		sb_str(&b, "no usable SASL mechanism (PLAIN, LOGIN) "
		    "offered by ");
		sb_str(&b, peer(sc));
	}
	if (b.len > 0) {
		settle_local(sc, "4.7.0", SMTP_STAGE_AUTH, text);
		quit(sc, 0);
		return;
	}
	set_state(sc, SMTP_CL_AUTH);
	sc->out_due = 1;
}

/* Checks what the server offers against what the message needs, then
 * opens the transaction. */
static void
begin_txn(struct smtp_client *sc)
{
	char text[SMTP_REPLY_TEXT_MAX + 1];
	const struct smtp_client_msg *m = sc->msg;
	const char *esc = NULL;
	struct sb b;
	size_t pending = 0;

	for (size_t i = 0; i < m->nrcpt; i++) {
		pending += sc->rst[i] == RS_OPEN;
	}
	if (pending == 0) {
		quit(sc, 0);
		return;
	}
	sb_init(&b, text, sizeof text);
	if (!addr_ok(m->sender, 1)) {
		esc = "5.1.7";
		sb_str(&b, "bad sender address syntax");
	} else if (sc->smtputf8 && !(sc->ehlo.ext & SMTP_EXT_SMTPUTF8)) {
		/* RFC 6531 3.4: no downgrade; a permanent failure. */
		esc = "5.6.7";
		sb_str(&b, "SMTPUTF8 is required, but was not offered by ");
		sb_str(&b, peer(sc));
	} else if ((sc->ehlo.ext & SMTP_EXT_SIZE) &&
	    sc->ehlo.size_max > 0 && m->size > sc->ehlo.size_max) {
		esc = "5.3.4";
		sb_str(&b, "message size ");
		sb_u64(&b, m->size);
		sb_str(&b, " exceeds size limit ");
		sb_u64(&b, sc->ehlo.size_max);
		sb_str(&b, " of server ");
		sb_str(&b, peer(sc));
	}
	if (esc != NULL) {
		settle_local(sc, esc, SMTP_STAGE_MAIL, text);
		quit(sc, 0);
		return;
	}
	sc->wr_pos = 0;
	sc->rd_pos = 0;
	sc->accepted = 0;
	sc->mail_failed = 0;
	set_state(sc, SMTP_CL_MAIL);
}

/* QUIT next (after an empty message's "." when dot_first). */
static void
quit(struct smtp_client *sc, int dot_first)
{
	sc->quit_dot = dot_first;
	set_state(sc, SMTP_CL_QUIT);
	sc->out_due = 1;
}

/* AUTH refused or broken off: deferred, as Postfix does (the password
 * may be fixed, the server may recover), with the server's words. */
static void
auth_failed(struct smtp_client *sc, const struct smtp_reply *r)
{
	char text[SMTP_REPLY_TEXT_MAX + 1], esc[SMTP_ESC_MAX + 1];
	struct sb b;

	if (r->esc[0] != '\0') {
		memcpy(esc, r->esc, sizeof esc);
		esc[0] = '4';
	} else {
		memcpy(esc, "4.7.0", 6);
	}
	sb_init(&b, text, sizeof text);
	sb_str(&b, "SASL authentication failed; server ");
	sb_str(&b, peer(sc));
	sb_str(&b, " said: ");
	sb_reply(&b, r);
	settle_local(sc, esc, SMTP_STAGE_AUTH, text);
	quit(sc, 0);
}

/* The server does not speak SMTP: give up the connection. */
static void
proto_error(struct smtp_client *sc, const char *why)
{
	char text[SMTP_REPLY_TEXT_MAX + 1];
	struct sb b;

	sb_init(&b, text, sizeof text);
	sb_str(&b, "protocol error from ");
	sb_str(&b, peer(sc));
	sb_str(&b, " ");
	sb_str(&b, states[sc->state].when);
	sb_str(&b, ": ");
	sb_str(&b, why);
	settle_local(sc, "4.5.0", states[sc->state].stage, text);
	set_state(sc, SMTP_CL_DONE);
}

/* Every recipient still open gets the server's reply (a 2xx to "."
 * too: delivered). */
static void
settle_reply(struct smtp_client *sc, const struct smtp_reply *r)
{
	for (size_t i = 0; i < sc->msg->nrcpt; i++) {
		if (sc->rst[i] == RS_OPEN || sc->rst[i] == RS_ACCEPTED) {
			result_reply(&sc->msg->rcpt[i].result, r,
			    states[sc->state].stage);
			sc->rst[i] = RS_FINAL;
		}
	}
}

/* Every recipient still open gets our own result. */
static void
settle_local(struct smtp_client *sc, const char *esc, enum smtp_stage stage,
    const char *text)
{
	for (size_t i = 0; i < sc->msg->nrcpt; i++) {
		if (sc->rst[i] == RS_OPEN || sc->rst[i] == RS_ACCEPTED) {
			result_local(&sc->msg->rcpt[i].result, esc, stage,
			    text);
			sc->rst[i] = RS_FINAL;
		}
	}
}

static void
result_reply(struct smtp_result *res, const struct smtp_reply *r,
    enum smtp_stage stage)
{
	res->code = r->code;
	if (r->esc[0] != '\0') {
		memcpy(res->esc, r->esc, sizeof res->esc);
	} else {
		res->esc[0] = (char)('0' + r->code / 100);
		memcpy(res->esc + 1, ".0.0", 5);
	}
	res->stage = stage;
	memcpy(res->text, r->text, r->textlen + 1);
}

static void
result_local(struct smtp_result *res, const char *esc,
    enum smtp_stage stage, const char *text)
{
	size_t n = strlen(text);

	res->code = 0;
	memcpy(res->esc, esc, strlen(esc) + 1);
	res->stage = stage;
	if (n > SMTP_REPLY_TEXT_MAX) {
		n = SMTP_REPLY_TEXT_MAX;
	}
	memcpy(res->text, text, n);
	res->text[n] = '\0';
}

/* --- the transaction ------------------------------------------------ */

/* The position after pos, past recipients that are not sent. */
static size_t
next_pos(const struct smtp_client *sc, size_t pos)
{
	size_t n = sc->msg->nrcpt;

	pos++;
	while (pos >= 1 && pos <= n && sc->rst[pos - 1] == RS_SKIP) {
		pos++;
	}
	return pos;
}

/* Is the command at wr_pos still worth writing? */
static int
txn_more(const struct smtp_client *sc)
{
	size_t n = sc->msg->nrcpt, pos = sc->wr_pos;

	if (pos > n + 1) {
		return 0;
	}
	if (pos == 0) {
		return 1;
	}
	if (sc->mail_failed) {
		return 0;
	}
	if (pos <= n) {
		return 1;
	}
	/* DATA: under PIPELINING before the RCPT replies are in (RFC
	 * 2920 3.1), else only when one recipient was taken. */
	if (sc->accepted > 0) {
		return 1;
	}
	return (sc->ehlo.ext & SMTP_EXT_PIPELINING) && sc->rd_pos <= n;
}

/* The state names the reply awaited next. */
static void
txn_state(struct smtp_client *sc)
{
	size_t n = sc->msg->nrcpt;

	if (sc->rd_pos == 0) {
		set_state(sc, SMTP_CL_MAIL);
	} else if (sc->rd_pos <= n) {
		set_state(sc, SMTP_CL_RCPT);
	} else {
		set_state(sc, SMTP_CL_DATA);
	}
}

/* Writes the transaction's commands that may go now into out. */
static size_t
txn_write(struct smtp_client *sc, char *out, size_t cap)
{
	char cmd[SMTP_CLIENT_CMD_MAX];
	size_t n = sc->msg->nrcpt, o = 0;
	int pipe = (sc->ehlo.ext & SMTP_EXT_PIPELINING) != 0;

	while (txn_more(sc) && (pipe || sc->rd_pos == sc->wr_pos)) {
		size_t pos = sc->wr_pos, len;

		if (pos == 0) {
			len = mail_build(sc, cmd, sizeof cmd);
		} else if (pos <= n) {
			len = rcpt_build(sc, pos - 1, cmd, sizeof cmd);
		} else {
			memcpy(cmd, "DATA\r\n", 6);
			len = 6;
		}
		if (len == 0 || len > cap - o) {
			break;
		}
		memcpy(out + o, cmd, len);
		o += len;
		sc->wr_pos = next_pos(sc, pos);
		if (!pipe) {
			break;
		}
	}
	return o;
}

/* --- commands ------------------------------------------------------- */

/* The command of the current state (outside the transaction). */
static size_t
cmd_build(struct smtp_client *sc, char *out, size_t cap)
{
	struct sb b;

	sb_init(&b, out, cap);
	switch (sc->state) {
	case SMTP_CL_EHLO:
		sb_str(&b, "EHLO ");
		sb_str(&b, sc->opts.helo);
		break;
	case SMTP_CL_HELO:
		sb_str(&b, "HELO ");
		sb_str(&b, sc->opts.helo);
		break;
	case SMTP_CL_STARTTLS:
		sb_str(&b, "STARTTLS");
		break;
	case SMTP_CL_AUTH:
		return auth_build(sc, out, cap);
	case SMTP_CL_AUTH_USER:
		return b64_line(sc->opts.auth_user,
		    strlen(sc->opts.auth_user), out, cap);
	case SMTP_CL_AUTH_PASS:
		return b64_line(sc->opts.auth_pass,
		    strlen(sc->opts.auth_pass), out, cap);
	case SMTP_CL_QUIT:
		if (sc->quit_dot) {
			sb_str(&b, ".\r\n");
		}
		sb_str(&b, "QUIT");
		break;
	default:
		return 0;
	}
	sb_str(&b, "\r\n");
	return b.len;
}

/* MAIL FROM:<sender> and the parameters the server offers. */
static size_t
mail_build(const struct smtp_client *sc, char *out, size_t cap)
{
	const struct smtp_client_msg *m = sc->msg;
	unsigned ext = sc->ehlo.ext;
	struct sb b;

	sb_init(&b, out, cap);
	sb_str(&b, "MAIL FROM:<");
	sb_str(&b, m->sender);
	sb_str(&b, ">");
	if ((ext & SMTP_EXT_SIZE) && m->size > 0) {
		sb_str(&b, " SIZE=");
		sb_u64(&b, m->size);
	}
	/* An 8-bit message to a server without 8BITMIME goes as it is,
	 * as Postfix does unless told to convert it. */
	if (m->need_8bitmime && (ext & SMTP_EXT_8BITMIME)) {
		sb_str(&b, " BODY=8BITMIME");
	}
	if (sc->smtputf8) {
		sb_str(&b, " SMTPUTF8");
	}
	if (ext & SMTP_EXT_DSN) {
		if (m->ret == DSN_RET_FULL) {
			sb_str(&b, " RET=FULL");
		} else if (m->ret == DSN_RET_HDRS) {
			sb_str(&b, " RET=HDRS");
		}
		/* RFC 3461 4.4: passed on as received; a value that is not
		 * xtext or is over 100 characters is left out. */
		if (m->envid != NULL && m->envid[0] != '\0' &&
		    strlen(m->envid) <= SMTP_ENVID_MAX &&
		    dsn_xtext_valid(m->envid, strlen(m->envid))) {
			sb_str(&b, " ENVID=");
			sb_str(&b, m->envid);
		}
	}
	sb_str(&b, "\r\n");
	return b.len;
}

/* RCPT TO:<addr> with NOTIFY and ORCPT when the server offers DSN. */
static size_t
rcpt_build(const struct smtp_client *sc, size_t i, char *out, size_t cap)
{
	const struct smtp_client_rcpt *rc = &sc->msg->rcpt[i];
	struct sb b;

	sb_init(&b, out, cap);
	sb_str(&b, "RCPT TO:<");
	sb_str(&b, rc->addr);
	sb_str(&b, ">");
	if ((sc->ehlo.ext & SMTP_EXT_DSN) && rc->notify != 0) {
		/* RFC 3461 4.1: NEVER stands alone. */
		if (rc->notify & DSN_NOTIFY_NEVER) {
			sb_str(&b, " NOTIFY=NEVER");
		} else {
			const char *sep = " NOTIFY=";

			if (rc->notify & DSN_NOTIFY_SUCCESS) {
				sb_str(&b, sep);
				sb_str(&b, "SUCCESS");
				sep = ",";
			}
			if (rc->notify & DSN_NOTIFY_FAILURE) {
				sb_str(&b, sep);
				sb_str(&b, "FAILURE");
				sep = ",";
			}
			if (rc->notify & DSN_NOTIFY_DELAY) {
				sb_str(&b, sep);
				sb_str(&b, "DELAY");
			}
		}
	}
	if ((sc->ehlo.ext & SMTP_EXT_DSN) && orcpt_ok(rc->orcpt)) {
		sb_str(&b, " ORCPT=");
		sb_str(&b, rc->orcpt);
	}
	sb_str(&b, "\r\n");
	return b.len;
}

/* AUTH PLAIN with its initial response (RFC 4954 4, RFC 4616 2: an
 * empty authzid, the user, the password), or AUTH LOGIN. */
static size_t
auth_build(const struct smtp_client *sc, char *out, size_t cap)
{
	unsigned char raw[2 + 2 * SMTP_AUTH_CRED_MAX];
	size_t ul, pl, n;

	if (sc->auth_login) {
		if (cap < 12) {
			return 0;
		}
		memcpy(out, "AUTH LOGIN\r\n", 12);
		return 12;
	}
	ul = strlen(sc->opts.auth_user);
	pl = strlen(sc->opts.auth_pass);
	raw[0] = '\0';
	memcpy(raw + 1, sc->opts.auth_user, ul);
	raw[1 + ul] = '\0';
	memcpy(raw + 2 + ul, sc->opts.auth_pass, pl);
	if (cap < 11) {
		return 0;
	}
	memcpy(out, "AUTH PLAIN ", 11);
	n = b64_line((const char *)raw, 2 + ul + pl, out + 11, cap - 11);
	memset(raw, 0, sizeof raw);
	return n == 0 ? 0 : 11 + n;
}

/* base64 of s[0..len) and CR LF; 0 when it does not fit. */
static size_t
b64_line(const char *s, size_t len, char *out, size_t cap)
{
	long n = base64_encode((const unsigned char *)s, len, out, cap);

	if (n < 0 || (size_t)n + 2 > cap) {
		return 0;
	}
	out[n] = '\r';
	out[n + 1] = '\n';
	return (size_t)n + 2;
}

/* ORCPT as received, passed on unchanged (RFC 3461 4.2): addr-type
 * (an atom) ";" xtext, at most SMTP_ORCPT_MAX; else it is left out. */
static int
orcpt_ok(const char *v)
{
	const char *semi;
	size_t n;

	if (v == NULL || (n = strlen(v)) == 0 || n > SMTP_ORCPT_MAX ||
	    (semi = memchr(v, ';', n)) == NULL || semi == v) {
		return 0;
	}
	for (const char *p = v; p < semi; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-')) {
			return 0;
		}
	}
	return dsn_xtext_valid(semi + 1, (size_t)(v + n - semi - 1));
}

/* An address we can put in a command: no control octets (a CR or LF
 * would start a command of its own), at most ADDR_MAX; empty only for
 * the sender (<>). */
static int
addr_ok(const char *a, int sender)
{
	size_t n = strlen(a);

	if (n > ADDR_MAX || (n == 0 && !sender)) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];

		if (c < 0x20 || c == 0x7f) {
			return 0;
		}
	}
	return 1;
}

static int
has_8bit(const char *s)
{
	if (s == NULL) {
		return 0;
	}
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80) {
			return 1;
		}
	}
	return 0;
}

static const char *
peer(const struct smtp_client *sc)
{
	return sc->opts.peer != NULL ? sc->opts.peer : "the server";
}

/* --- bounded text ---------------------------------------------------- */

/* A full sb keeps cap - 1 octets and remembers that more did not fit
 * (len == cap); text is NUL-terminated unless cap is 0. */
static void
sb_init(struct sb *b, char *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	if (cap > 0) {
		p[0] = '\0';
	}
}

static void
sb_mem(struct sb *b, const char *s, size_t n)
{
	if (b->len >= b->cap) {
		return;
	}
	if (n > b->cap - 1 - b->len) {
		memcpy(b->p + b->len, s, b->cap - 1 - b->len);
		b->p[b->cap - 1] = '\0';
		b->len = b->cap;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
	sb_mem(b, s, strlen(s));
}

static void
sb_u64(struct sb *b, uint64_t v)
{
	char d[20];
	size_t n = 0;

	do {
		d[sizeof d - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	sb_mem(b, d + sizeof d - n, n);
}

/* "550 5.1.1 text" */
static void
sb_reply(struct sb *b, const struct smtp_reply *r)
{
	sb_u64(b, r->code);
	if (r->esc[0] != '\0') {
		sb_str(b, " ");
		sb_str(b, r->esc);
	}
	if (r->textlen > 0) {
		sb_str(b, " ");
		sb_mem(b, r->text, r->textlen);
	}
}
