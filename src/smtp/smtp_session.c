/* SPDX-License-Identifier: ISC */
/*
 * smtp_session.c - the SMTP server state machine (RFC 5321 4.1, 4.3.2)
 * with PIPELINING (RFC 2920), SIZE (1870), 8BITMIME (6152),
 * ENHANCEDSTATUSCODES (2034, 3463), CHUNKING (3030), SMTPUTF8 (6531)
 * and DSN (3461).
 *
 *   INIT --HELO/EHLO--> READY --MAIL--> MAIL --RCPT--> RCPT
 *   RCPT --DATA--> DATA --CRLF.CRLF--> COMMIT --on disk--> READY
 *   RCPT --BDAT--> BDAT --chunk--> RCPT ... BDAT LAST --> COMMIT
 *   RSET: back to READY; QUIT: 221 and close, from anywhere.
 *
 * On port 25 without AUTH, a client that sends ahead where RFC 2920 3.1
 * says it must wait (after EHLO, DATA, NOOP..., or at all without
 * PIPELINING from EHLO) is disconnected, as Postfix 3.9 does by default
 * (smtpd_forbid_unauth_pipelining): it is a spam engine or a smuggler.
 * So is one that talks before the greeting, when that is seen.
 *
 * Glue only: bytes from the connection go through smtp_parse.c, the
 * replies go to the connection's output (flushed together before the
 * loop sleeps, so a pipelined group's replies leave in one write), the
 * message goes to smtp_deliver.c.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/fmt.h"
#include "core/log.h"
#include "auth/auth.h"
#include "auth/login.h"
#include "auth/throttle.h"
#include "map/resolve.h"
#include "msg/base64.h"
#include "msg/mailbox.h"
#include "smtp/smtp_int.h"
#include "tls/tls.h"

struct smtp_ctx smtp;

static const char *const smtp_state_name[SMTP_ST_NSTATES] = {
	"INIT", "READY", "MAIL", "RCPT", "DATA", "BDAT", "COMMIT"
};

static const char	*smtp_refusal(enum conn_refusal);
static int		 smtp_open(struct conn *);
static void		 smtp_input(struct conn *);
static void		 smtp_writable(struct conn *);
static void		 smtp_timeout(struct conn *);
static void		 smtp_drain(struct conn *);
static void		 smtp_close(struct conn *);

static int		 mx_open(struct conn *);
static int		 submission_open(struct conn *);
static int		 submissions_open(struct conn *);

/* One engine on three kinds of listener; only the start differs. */
#define SMTP_PROTO(pname, openfn) {	\
	.name = pname,			\
	.refusal = smtp_refusal,	\
	.open = openfn,			\
	.input = smtp_input,		\
	.writable = smtp_writable,	\
	.timeout = smtp_timeout,	\
	.drain = smtp_drain,		\
	.close = smtp_close,		\
}

const struct proto smtp_proto = SMTP_PROTO("smtp", mx_open);
/* Submission: senders log in (and on 465, TLS from the first byte). */
const struct proto submission_proto =
    SMTP_PROTO("submission", submission_open);
const struct proto submissions_proto =
    SMTP_PROTO("submissions", submissions_open);

static void	set_state(struct smtp_session *, enum smtp_state);
static int	mid_transaction(enum smtp_state);
static void	reply(struct smtp_session *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	error_reply(struct smtp_session *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	command(struct smtp_session *, const char *, size_t);
static int	pipelining_forbidden(const struct smtp_session *,
		    enum smtp_verb);
static void	cmd_ehlo(struct smtp_session *, const struct smtp_cmd *);
static void	cmd_mail(struct smtp_session *, const struct smtp_cmd *);
static int	srs_rcpt(const char *, size_t, char *, size_t);
static void	cmd_rcpt(struct smtp_session *, const struct smtp_cmd *);
static void	cmd_data(struct smtp_session *);
static void	cmd_starttls(struct smtp_session *);
static void	cmd_auth(struct smtp_session *, const struct smtp_cmd *);
static void	sasl_response(struct smtp_session *, const char *, size_t);
static void	sasl_finish(struct smtp_session *, const char *, size_t,
		    const char *, size_t);
static void	sasl_delay_done(struct timer *, void *);
static int	auth_allowed(const struct smtp_session *);
static int	sender_owned(const struct smtp_session *, const char *,
		    size_t);
static void	cmd_bdat(struct smtp_session *, const struct smtp_cmd *);
static int	body_input(struct smtp_session *);
static void	message_end(struct smtp_session *);
static void	reset(struct smtp_session *);
static int	add_target(struct smtp_session *, enum smtp_target_kind,
		    const char *, const char *, const char *, unsigned,
		    const char *);
static uint16_t	arena_put(struct smtp_session *, const char *);
static int	start_delivery(struct smtp_session *);

int
smtp_init(struct ev *ev, struct conn_table *t, const struct cfg *cfg,
    struct maps *maps, size_t max, struct err *e)
{
	memset(&smtp, 0, sizeof smtp);
	smtp.ev = ev;
	smtp.cfg = cfg;
	smtp.maps = maps;
	if (pool_init(&smtp.sessions, "smtp", sizeof(struct smtp_session),
	    max, e) == -1) {
		return -1;
	}
	if (WREN_INBOUND_CHECKS && screen_init(e) == -1) {
		pool_destroy(&smtp.sessions);
		return -1;
	}
	if (spool_init(cfg_str(cfg, CFG_DATA_DIR), e) == -1 ||
	    smtp_commit_init(t, e) == -1) {
		pool_destroy(&smtp.sessions);
		return -1;
	}
	if (WREN_OUTBOUND && *cfg_str(cfg, CFG_SRS_DOMAIN) != '\0') {
		/* Bounces to our SRS addresses go back to the sender
		 * they stand for. */
		if (srs_init(cfg_str(cfg, CFG_DATA_DIR), &smtp.srs, e) == -1) {
			pool_destroy(&smtp.sessions);
			return -1;
		}
		smtp.srs_ok = 1;
	}
	smtp_reconfigure();
	return 0;
}

void
smtp_reconfigure(void)
{
	struct err e;

	if (cfg_parse_nets(cfg_str(smtp.cfg, CFG_MYNETWORKS), smtp.nets,
	    CFG_NETS_MAX, &smtp.nnets, &e) == -1) {
		smtp.nnets = 0;		/* cannot happen: validated */
	}
	(void)fmt(smtp.hostname, sizeof smtp.hostname, "%s",
	    cfg_hostname(smtp.cfg, smtp.hostname, sizeof smtp.hostname));
	if (WREN_INBOUND_CHECKS) {
		screen_reconfigure(smtp.cfg);
	}
}

void
smtp_shutdown(void)
{
	smtp_commit_shutdown();
	if (WREN_INBOUND_CHECKS) {
		screen_shutdown();
	}
	pool_destroy(&smtp.sessions);
}

size_t
smtp_bytes_per_session(void)
{
	return sizeof(struct smtp_session);
}

void
smtp_committed(struct smtp_session *s, int err)
{
	if (err == 0) {
		conn_log(s->c, LOG_LVL_INFO, "%s: from=<%s> size=%llu "
		    "nrcpt=%zu local=%zu remote=%zu: delivered", s->id,
		    s->sender, (unsigned long long)s->body.size, s->nrcpt,
		    s->nlocal, s->nremote);
		reply(s, "250 2.0.0 Ok: queued as %s", s->id);
	} else {
		conn_log(s->c, LOG_LVL_WARN, "%s: not delivered: %s", s->id,
		    strerror(err));
		if (err == ENOSPC || err == EDQUOT) {
			reply(s, "452 4.3.1 Insufficient system storage");
		} else {
			reply(s, "451 4.3.0 Error: local delivery failed");
		}
	}
	reset(s);
	set_state(s, SMTP_ST_READY);
	if (s->draining) {
		reply(s, "421 4.3.2 %s Service shutting down", smtp.hostname);
		conn_close(s->c);
		return;
	}
	smtp_input(s->c);	/* commands pipelined behind the message */
}

static const char *
smtp_refusal(enum conn_refusal why)
{
	switch (why) {
	case CONN_REFUSE_PER_IP:
		return "421 4.3.2 Too many connections from your address\r\n";
	case CONN_REFUSE_SHUTDOWN:
		return "421 4.3.2 Service shutting down\r\n";
	default:
		return "421 4.3.2 Service not available, too many "
		    "connections\r\n";
	}
}

/* Port 25: a client that talks before the greeting does not wait for
 * replies either (smtpd_forbid_unauth_pipelining): refused instead of
 * greeted. Only what is already there at accept can be seen. */
static int
mx_open(struct conn *c)
{
	static const char sync[] = "554 5.5.0 Error: SMTP protocol "
	    "synchronization\r\n";
	char ch;

	if (c->fd >= 0 && recv(c->fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT) == 1) {
		conn_log(c, LOG_LVL_INFO, "improper command pipelining "
		    "before the greeting");
		(void)conn_write(c, sync, sizeof sync - 1);
		return -1;
	}
	if (smtp_open(c) == -1) {
		return -1;
	}
	switch (WREN_INBOUND_CHECKS ? screen_connect(c->sess) : 0) {
	case -1:
		return -1;
	case 1:
		return 0;	/* the screen greets, or refuses, later */
	default:
		smtp_greet(c->sess);
		return 0;
	}
}

static int
submission_open(struct conn *c)
{
	if (smtp_open(c) == -1) {
		return -1;
	}
	((struct smtp_session *)c->sess)->mode = SMTP_MODE_SUBMISSION;
	smtp_greet(c->sess);
	return 0;
}

/* RFC 8314: TLS from the first byte; the greeting waits in c->out
 * until the handshake is done. */
static int
submissions_open(struct conn *c)
{
	struct smtp_session *s;

	if (tls_start_now(c) == -1) {
		return -1;
	}
	if (smtp_open(c) == -1) {
		return -1;
	}
	s = c->sess;
	s->mode = SMTP_MODE_SUBMISSIONS;
	s->tls = 1;
	smtp_greet(s);
	return 0;
}

static int
smtp_open(struct conn *c)
{
	struct smtp_session *s = pool_get(&smtp.sessions);

	if (s == NULL) {
		conn_write(c, smtp_refusal(CONN_REFUSE_FULL),
		    strlen(smtp_refusal(CONN_REFUSE_FULL)));
		return -1;
	}
	s->c = c;
	s->fd = -1;
	timer_init(&s->delay, sasl_delay_done, s);
	c->sess = s;
	if (addr_text(s->ip, sizeof s->ip, c->family, c->addr) == -1) {
		(void)fmt(s->ip, sizeof s->ip, "?");
	}
	s->mynet = cfg_net_match(smtp.nets, smtp.nnets, c->family, c->addr);
	if (c->family == AF_INET6 && !s->mynet) {
		/* ::ffff:a.b.c.d is an IPv4 client on a dual socket. */
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
		    0, 0, 0xff, 0xff };

		if (memcmp(c->addr, mapped, 12) == 0) {
			s->mynet = cfg_net_match(smtp.nets, smtp.nnets,
			    AF_INET, c->addr + 12);
		}
	}
	conn_set_timeout(c, (uint64_t)cfg_num(smtp.cfg, CFG_SMTP_TIMEOUT) *
	    1000);
	return 0;
}

void
smtp_greet(struct smtp_session *s)
{
	reply(s, "220 %s ESMTP wren", smtp.hostname);
}

void
smtp_resume(struct smtp_session *s)
{
	if (!(s->c->flags & (CONN_F_CLOSING | CONN_F_DEAD))) {
		smtp_input(s->c);
	}
}

void
smtp_reply(struct smtp_session *s, const char *f, ...)
{
	char line[SMTP_LINE_MAX + ADDR_MAX];
	va_list ap;

	va_start(ap, f);
	(void)vfmt(line, sizeof line, f, ap);	/* reply() cuts too */
	va_end(ap);
	reply(s, "%s", line);
}

/* Everything that can be done with the input now: commands, and the
 * message body when in DATA or BDAT. */
static void
smtp_input(struct conn *c)
{
	struct smtp_session *s = c->sess;

#if WREN_INBOUND_CHECKS
	if (s->held) {
		if (c->in.len > 0) {
			screen_early(s);	/* spoke before the greeting */
		}
		return;
	}
	if (s->spf_wait) {
		return;		/* MAIL's reply first */
	}
#endif
	if (s->starttls_wait) {
		/* Nothing is read between STARTTLS and the handshake; what
		 * came before is dropped by the core. */
		if (c->filter == NULL) {
			return;
		}
		s->starttls_wait = 0;
	}
	while (!(c->flags & (CONN_F_CLOSING | CONN_F_DEAD)) &&
	    s->state != SMTP_ST_COMMIT && !s->starttls_wait &&
	    s->sasl != SMTP_SASL_DELAY && !screen_waiting(s)) {
		const char *line;
		size_t len, used;
		enum smtp_line_rc rc;

		/* Back-pressure: a client that pipelines without reading
		 * waits until its replies have left. */
		if (c->out.len > CONN_BUF_SIZE / 2) {
			break;
		}
		if (s->state == SMTP_ST_DATA || s->state == SMTP_ST_BDAT) {
			if (body_input(s) == 0) {
				break;
			}
			continue;
		}
		if (c->in.len == 0) {
			break;
		}
		rc = smtp_line_next(&s->lines, buf_head(&c->in), c->in.len,
		    &line, &len, &used);
		if (rc == SMTP_LINE_NEED) {
			conn_consume(c, used);
			break;
		}
		if (rc == SMTP_LINE_TOO_LONG) {
			conn_consume(c, used);
			if (s->sasl != SMTP_SASL_NONE) {
				/* RFC 4954 6: the exchange is over. */
				s->sasl = SMTP_SASL_NONE;
				error_reply(s, "500 5.5.6 Authentication "
				    "Exchange line is too long");
			} else {
				error_reply(s, "500 5.5.2 Error: line too "
				    "long");
			}
			continue;
		}
		if (s->sasl != SMTP_SASL_NONE) {
			sasl_response(s, line, len);
		} else {
			s->pending = c->in.len - used;
			command(s, line, len);
		}
		if (!(c->flags & CONN_F_DEAD)) {
			conn_consume(c, used);
		}
	}
}

static void
smtp_writable(struct conn *c)
{
	struct smtp_session *s = c->sess;

	if (s->state != SMTP_ST_COMMIT && c->in.len > 0) {
		smtp_input(c);
	}
}

static void
smtp_timeout(struct conn *c)
{
	struct smtp_session *s = c->sess;
	const char *version, *cipher;

	if (s->state == SMTP_ST_COMMIT) {
		/* The disk, not the client: wait for the commit. */
		conn_set_timeout(c, (uint64_t)cfg_num(smtp.cfg,
		    CFG_SMTP_TIMEOUT) * 1000);
		return;
	}
	if (s->tls && !tls_info(c, &version, &cipher)) {
		conn_abort(c);	/* a stalled handshake: nobody to tell */
		return;
	}
	reply(s, "421 4.4.2 %s Error: timeout exceeded", smtp.hostname);
	conn_close(c);
}

/* SIGTERM: a session in the middle of a message finishes it (within
 * shutdown_timeout); the others are told at once, except a TLS
 * handshake still going on, where nothing can be said. */
static void
smtp_drain(struct conn *c)
{
	struct smtp_session *s = c->sess;
	const char *version, *cipher;

	if (s->tls && !tls_info(c, &version, &cipher)) {
		conn_abort(c);
		return;
	}
	if (s->state == SMTP_ST_DATA || s->state == SMTP_ST_BDAT ||
	    s->state == SMTP_ST_COMMIT) {
		s->draining = 1;
		return;
	}
	reply(s, "421 4.3.2 %s Service shutting down", smtp.hostname);
	conn_close(c);
}

static void
smtp_close(struct conn *c)
{
	struct smtp_session *s = c->sess;

	if (s == NULL) {
		return;
	}
	if (s->state == SMTP_ST_COMMIT) {
		/* The client will never see the 250: do not deliver a
		 * copy it is going to send again. */
		smtp_deliver_cancel(s);
	} else {
		smtp_deliver_abort(s);
	}
	smtp.busy -= (size_t)mid_transaction(s->state);
	if (WREN_INBOUND_CHECKS) {
		screen_close(s);
	}
	ev_timer_cancel(smtp.ev, &s->delay);
	c->sess = NULL;
	(void)pool_put(&smtp.sessions, s);
}

/* MAIL, RCPT, DATA, BDAT: a message may be about to end. */
static int
mid_transaction(enum smtp_state st)
{
	return st == SMTP_ST_MAIL || st == SMTP_ST_RCPT ||
	    st == SMTP_ST_DATA || st == SMTP_ST_BDAT;
}

static void
set_state(struct smtp_session *s, enum smtp_state to)
{
	smtp.busy += (size_t)mid_transaction(to) -
	    (size_t)mid_transaction(s->state);
	if (s->state != to) {
		log_debug("smtp %08x: %s -> %s", s->c->id,
		    smtp_state_name[s->state], smtp_state_name[to]);
	}
	s->state = to;
}

static void
reply(struct smtp_session *s, const char *f, ...)
{
	char line[SMTP_LINE_MAX + ADDR_MAX];
	va_list ap;
	int n;

	va_start(ap, f);
	n = vfmt(line, sizeof line - 2, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line - 2) {
		n = (int)sizeof line - 3;
	}
	memcpy(line + n, "\r\n", 2);
	if (conn_write(s->c, line, (size_t)n + 2) == -1) {
		/* The output buffer is full of replies the client does
		 * not read: it is not a client worth waiting for. */
		conn_log(s->c, LOG_LVL_INFO, "output full; closing");
		conn_abort(s->c);
	}
}

/* A reply to a bad command: counts towards SMTP_ERRORS_MAX. */
static void
error_reply(struct smtp_session *s, const char *f, ...)
{
	char line[SMTP_LINE_MAX + ADDR_MAX];
	va_list ap;

	va_start(ap, f);
	(void)vfmt(line, sizeof line, f, ap);	/* reply() cuts too */
	va_end(ap);
	reply(s, "%s", line);
	if (++s->errors >= SMTP_ERRORS_MAX &&
	    !(s->c->flags & CONN_F_DEAD)) {
		conn_log(s->c, LOG_LVL_INFO, "too many errors");
		reply(s, "421 4.7.0 %s Error: too many errors",
		    smtp.hostname);
		smtp_deliver_abort(s);
		conn_close(s->c);
	}
}

static void
command(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_cmd cmd;
	enum smtp_perr pe;

	pe = smtp_cmd_parse(line, len, &cmd);
	if (pe == SMTP_PE_BDAT_SIZE) {
		/* The chunk's length is unknown, so where the next
		 * command starts is too (RFC 3030 3): only closing is
		 * safe. */
		reply(s, "%.*s", (int)strcspn(smtp_perr_reply(pe,
		    cmd.verb), "\r"), smtp_perr_reply(pe, cmd.verb));
		reply(s, "421 4.5.0 %s Closing: BDAT framing lost",
		    smtp.hostname);
		conn_close(s->c);
		return;
	}
	if (pe != SMTP_PE_OK) {
		const char *r = smtp_perr_reply(pe, cmd.verb);

		error_reply(s, "%.*s", (int)strcspn(r, "\r"), r);
		return;
	}
	if (pipelining_forbidden(s, cmd.verb)) {
		const char *sp = memchr(line, ' ', len);

		conn_log(s->c, LOG_LVL_INFO, "improper command pipelining "
		    "after %.*s from ip=%s", (int)(sp ? (size_t)(sp - line) :
		    len), line, s->ip);
		reply(s, "554 5.5.0 Error: SMTP protocol synchronization");
		conn_close(s->c);
		return;
	}
	switch (cmd.verb) {
	case SMTP_V_HELO:
	case SMTP_V_EHLO:
		cmd_ehlo(s, &cmd);
		break;
	case SMTP_V_MAIL:
		cmd_mail(s, &cmd);
		break;
	case SMTP_V_RCPT:
		cmd_rcpt(s, &cmd);
		break;
	case SMTP_V_DATA:
		cmd_data(s);
		break;
	case SMTP_V_BDAT:
		cmd_bdat(s, &cmd);
		break;
	case SMTP_V_RSET:
		reset(s);
		if (s->state != SMTP_ST_INIT) {
			set_state(s, SMTP_ST_READY);
		}
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_V_NOOP:
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_V_HELP:
		reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT "
		    "RSET NOOP VRFY QUIT; see RFC 5321");
		break;
	case SMTP_V_VRFY:
		/* RFC 5321 3.5.3: 252 rather than revealing accounts. */
		reply(s, "252 2.5.2 Cannot VRFY user, but will accept "
		    "message and attempt delivery");
		break;
	case SMTP_V_QUIT:
		reply(s, "221 2.0.0 Bye");
		conn_close(s->c);
		break;
	case SMTP_V_AUTH:
		cmd_auth(s, &cmd);
		break;
	case SMTP_V_STARTTLS:
		cmd_starttls(s);
		break;
	case SMTP_V_EXPN:
	case SMTP_V_TURN:
	case SMTP_V_ATRN:
	case SMTP_V_ETRN:
	case SMTP_V_UNKNOWN:
		error_reply(s, "502 5.5.1 Error: command not implemented");
		break;
	}
}

/*
 * RFC 2920 3.1: EHLO, DATA, VRFY, EXPN, TURN, QUIT and NOOP end a
 * group (so do HELO, ETRN and ATRN); without PIPELINING from EHLO every
 * command does. Only on port 25 and before AUTH; QUIT ends the session
 * anyway, and what follows STARTTLS is dropped (cmd_starttls).
 */
static int
pipelining_forbidden(const struct smtp_session *s, enum smtp_verb v)
{
	if (s->pending == 0 || s->mode != SMTP_MODE_MX ||
	    s->login[0] != '\0' || v == SMTP_V_QUIT ||
	    v == SMTP_V_STARTTLS) {
		return 0;
	}
	if (!s->esmtp) {
		return 1;
	}
	switch (v) {
	case SMTP_V_HELO:
	case SMTP_V_EHLO:
	case SMTP_V_DATA:
	case SMTP_V_VRFY:
	case SMTP_V_EXPN:
	case SMTP_V_TURN:
	case SMTP_V_ATRN:
	case SMTP_V_ETRN:
	case SMTP_V_NOOP:
		return 1;
	default:
		return 0;
	}
}

static void
cmd_ehlo(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	size_t n = cmd->arglen < SMTP_HELO_MAX ? cmd->arglen : SMTP_HELO_MAX;

	/* RFC 5321 4.1.4: EHLO in a transaction resets it. */
	reset(s);
	memcpy(s->helo, cmd->arg, n);
	s->helo[n] = '\0';
#if WREN_INBOUND_CHECKS
	s->helo_done = 0;	/* SPF of the new name, at MAIL */
#endif
	s->esmtp = cmd->verb == SMTP_V_EHLO;
	set_state(s, SMTP_ST_READY);
	if (!s->esmtp) {
		reply(s, "250 %s", smtp.hostname);
		return;
	}
	reply(s, "250-%s", smtp.hostname);
	reply(s, "250-PIPELINING");
	reply(s, "250-SIZE %lld",
	    (long long)cfg_num(smtp.cfg, CFG_MESSAGE_SIZE_LIMIT));
	reply(s, "250-8BITMIME");
	reply(s, "250-ENHANCEDSTATUSCODES");
	reply(s, "250-CHUNKING");
	reply(s, "250-SMTPUTF8");
	if (tls_available() && !s->tls) {
		reply(s, "250-STARTTLS");
	}
	if (auth_allowed(s)) {
		reply(s, "250-AUTH PLAIN LOGIN");
	}
	reply(s, "250 DSN");
}

/* RFC 3207: 220, then the handshake; the session starts over (a new
 * EHLO is needed) and nothing pipelined behind STARTTLS is kept. */
static void
cmd_starttls(struct smtp_session *s)
{
	if (s->tls) {
		error_reply(s, "554 5.5.1 Error: TLS already active");
		return;
	}
	if (!tls_available()) {
		error_reply(s, "502 5.5.1 Error: command not implemented");
		return;
	}
	if (s->state != SMTP_ST_INIT && s->state != SMTP_ST_READY) {
		error_reply(s, "503 5.5.1 Error: STARTTLS in a transaction");
		return;
	}
	if (tls_start_after_flush(s->c) == -1) {
		reply(s, "454 4.7.0 TLS not available due to local problem");
		return;
	}
	reply(s, "220 2.0.0 Ready to start TLS");
	reset(s);
	s->helo[0] = '\0';
	s->login[0] = '\0';
	s->esmtp = 0;
	s->tls = 1;
	s->starttls_wait = 1;
	set_state(s, SMTP_ST_INIT);
}

/*
 * RFC 4954 AUTH with PLAIN (RFC 4616) and LOGIN. Only over TLS, or in
 * the clear from loopback, unless tls_auth_only = no. A failure is
 * answered after auth_fail_delay, on a timer: the loop serves others
 * meanwhile. Passwords are never logged.
 */
static void
cmd_auth(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	const char *mech = cmd->arg, *sp, *init = NULL;
	size_t mlen, ilen = 0;

	if (!auth_allowed(s)) {
		error_reply(s, "538 5.7.11 Encryption required for requested "
		    "authentication mechanism");
		return;
	}
	if (s->login[0] != '\0') {
		error_reply(s, "503 5.5.1 Error: already authenticated");
		return;
	}
	if (throttle_refused(s->c->family, s->c->addr, ev_now(smtp.ev) /
	    1000 + 1, (unsigned)cfg_num(smtp.cfg, CFG_AUTH_FAIL_LIMIT))) {
		conn_log(s->c, LOG_LVL_WARN, "auth refused: too many "
		    "failures from ip=%s", s->ip);
		error_reply(s, "454 4.7.0 Too many authentication failures; "
		    "try again later");
		return;
	}
	if (s->state != SMTP_ST_READY) {
		error_reply(s, "503 5.5.1 Error: %s", s->state ==
		    SMTP_ST_INIT ? "send HELO/EHLO first" :
		    "MAIL transaction in progress");
		return;
	}
	if (cmd->arglen == 0) {
		error_reply(s, "501 5.5.4 Syntax: AUTH mechanism");
		return;
	}
	sp = memchr(mech, ' ', cmd->arglen);
	mlen = sp ? (size_t)(sp - mech) : cmd->arglen;
	if (sp != NULL) {
		init = sp + 1;
		ilen = cmd->arglen - mlen - 1;
	}
	if (mlen == 5 && strncasecmp(mech, "PLAIN", 5) == 0) {
		s->sasl = SMTP_SASL_PLAIN;
		if (init == NULL) {
			reply(s, "334 ");
			return;
		}
	} else if (mlen == 5 && strncasecmp(mech, "LOGIN", 5) == 0) {
		s->sasl = SMTP_SASL_LOGIN_USER;
		if (init == NULL) {
			reply(s, "334 VXNlcm5hbWU6");	/* "Username:" */
			return;
		}
	} else {
		error_reply(s, "504 5.5.4 Unrecognized authentication type");
		return;
	}
	sasl_response(s, init, ilen);
}

/* One client response line of the SASL exchange. */
static void
sasl_response(struct smtp_session *s, const char *line, size_t len)
{
	unsigned char buf[2 * ADDR_MAX + AUTH_PASSWORD_MAX + 8];
	long n;

	if (len == 1 && line[0] == '*') {
		s->sasl = SMTP_SASL_NONE;
		error_reply(s, "501 5.7.0 Authentication aborted");
		return;
	}
	if (len == 1 && line[0] == '=') {
		n = 0;		/* an empty initial response */
	} else if ((n = base64_decode(line, len, buf, sizeof buf)) < 0) {
		s->sasl = SMTP_SASL_NONE;
		error_reply(s, "501 5.5.2 Cannot decode response");
		return;
	}
	switch (s->sasl) {
	case SMTP_SASL_PLAIN: {
		const char *user, *pw;
		size_t ulen, pwlen;

		if (login_sasl_plain(buf, (size_t)n, &user, &ulen, &pw,
		    &pwlen) == -1) {
			/* Malformed, or acting for another user. */
			sasl_finish(s, NULL, 0, "", 0);
		} else {
			sasl_finish(s, user, ulen, pw, pwlen);
		}
		break;
	}
	case SMTP_SASL_LOGIN_USER:
		if ((size_t)n > ADDR_MAX) {
			n = ADDR_MAX;
		}
		memcpy(s->sasl_user, buf, (size_t)n);
		s->sasl_user[n] = '\0';
		s->sasl = SMTP_SASL_LOGIN_PASS;
		reply(s, "334 UGFzc3dvcmQ6");		/* "Password:" */
		break;
	case SMTP_SASL_LOGIN_PASS:
		sasl_finish(s, s->sasl_user, strlen(s->sasl_user),
		    (const char *)buf, (size_t)n);
		break;
	default:
		break;
	}
	explicit_bzero(buf, sizeof buf);
}

static void
sasl_finish(struct smtp_session *s, const char *user, size_t ulen,
    const char *pw, size_t pwlen)
{
	struct login l;

	s->sasl = SMTP_SASL_NONE;
	switch (login_check(smtp.cfg, smtp.maps, s->c, s->ip, user, ulen, pw,
	    pwlen, ev_now(smtp.ev) / 1000 + 1, 0, &l)) {
	case LOGIN_OK:
	case LOGIN_NO_HOME:	/* (not asked for) */
		memcpy(s->login, l.name, sizeof s->login);
		/* Logged in: from now on only the idle timer (conn.h). */
		conn_clear_deadline(s->c);
		reply(s, "235 2.7.0 Authentication successful");
		return;
	case LOGIN_THROTTLED:
		error_reply(s, "454 4.7.0 Too many authentication failures; "
		    "try again later");
		return;
	case LOGIN_TEMPFAIL:
		reply(s, "454 4.7.0 Temporary authentication failure");
		return;
	case LOGIN_FAIL:
		break;
	}
	s->sasl = SMTP_SASL_DELAY;
	if (ev_timer_in(smtp.ev, &s->delay, (uint64_t)cfg_num(smtp.cfg,
	    CFG_AUTH_FAIL_DELAY) * 1000) == -1) {
		sasl_delay_done(&s->delay, s);
	}
}

static void
sasl_delay_done(struct timer *t, void *arg)
{
	struct smtp_session *s = arg;

	(void)t;
	if (WREN_INBOUND_CHECKS && s->sasl != SMTP_SASL_DELAY) {
		screen_timer(s);	/* the timer held the greeting */
		return;
	}
	s->sasl = SMTP_SASL_NONE;
	error_reply(s, "535 5.7.8 Error: authentication failed");
	if (!(s->c->flags & (CONN_F_DEAD | CONN_F_CLOSING))) {
		smtp_input(s->c);	/* what the client sent meanwhile */
	}
}

/*
 * SPEC section 4: a login owns its own address, every address that
 * resolves to its account, and what sender_logins grants (keys
 * user@domain, a bare local part for local domains, then @domain).
 */
static int
sender_owned(const struct smtp_session *s, const char *addr, size_t len)
{
	static struct resolve_result res;
	struct map *senders = &smtp.maps->m[MAP_SENDERS];
	char key[ADDR_MAX + 2];
	const char *keys[3];
	size_t klen[3], nkeys = 0;
	struct mailbox mb;
	struct resolver rv;

	if (mailbox_parse(addr, len, 0, &mb) != MAILBOX_OK) {
		return 0;
	}
	(void)mailbox_format(&mb, key, sizeof key);
	if (strcmp(key, s->login) == 0) {
		return 1;
	}
	rv.cfg = smtp.cfg;
	rv.users = &smtp.maps->m[MAP_USERS];
	rv.aliases = &smtp.maps->m[MAP_ALIASES];
	rv.virtual = &smtp.maps->m[MAP_VIRTUAL];
	resolve(&rv, addr, len, &res);
	for (size_t i = 0; res.status == RESOLVE_OK && i < res.n; i++) {
		if (res.t[i].kind == RESOLVE_LOCAL &&
		    strcmp(res.t[i].addr, s->login) == 0) {
			return 1;
		}
	}
	keys[nkeys] = key;
	klen[nkeys++] = strlen(key);
	if (mb.dlen > 0 && resolve_is_local_domain(smtp.cfg, mb.domain,
	    mb.dlen)) {
		keys[nkeys] = mb.local;
		klen[nkeys++] = mb.llen;
	}
	if (mb.dlen > 0) {
		keys[nkeys] = strchr(key, '@');
		klen[nkeys] = strlen(keys[nkeys]);
		nkeys++;
	}
	for (size_t k = 0; k < nkeys; k++) {
		const char *val, *p, *end;
		size_t vlen;

		if (map_lookup(senders, keys[k], klen[k], &val, &vlen) != 1) {
			continue;
		}
		for (p = val, end = val + vlen; p < end;) {
			const char *nul = memchr(p, '\0', (size_t)(end - p));
			size_t n = (size_t)((nul ? nul : end) - p);

			if (n == strlen(s->login) &&
			    strncasecmp(p, s->login, n) == 0) {
				return 1;
			}
			p = nul ? nul + 1 : end;
		}
		return 0;	/* the most specific key decides */
	}
	return 0;
}

/* tls_auth_only (SPEC section 3). */
static int
auth_allowed(const struct smtp_session *s)
{
	return login_cleartext_ok(smtp.cfg, s->c, s->tls);
}

static void
cmd_mail(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	if (s->state == SMTP_ST_INIT) {
		error_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (s->state != SMTP_ST_READY) {
		error_reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (!s->esmtp && (cmd->size || cmd->body || cmd->smtputf8 ||
	    cmd->ret || cmd->envid[0])) {
		error_reply(s, "555 5.5.4 Parameters need EHLO");
		return;
	}
	if (s->mode != SMTP_MODE_MX && s->login[0] == '\0') {
		error_reply(s, "530 5.7.0 Authentication required");
		return;
	}
	if (cmd->size > (uint64_t)cfg_num(smtp.cfg,
	    CFG_MESSAGE_SIZE_LIMIT)) {
		reply(s, "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	if (s->login[0] != '\0' && cmd->pathlen > 0 &&
	    cfg_num(smtp.cfg, CFG_SENDER_LOGIN_MISMATCH) == 0 &&
	    !sender_owned(s, cmd->path, cmd->pathlen)) {
		conn_log(s->c, LOG_LVL_INFO, "sender <%s> not owned by "
		    "login %s", cmd->path, s->login);
		error_reply(s, "553 5.7.1 <%s>: Sender address rejected: not "
		    "owned by user %s", cmd->path, s->login);
		return;
	}
	if (WREN_INBOUND_CHECKS && screen_rate(s, 0) == -1) {
		return;
	}
	memcpy(s->sender, cmd->path, cmd->pathlen + 1);
	s->smtputf8 = cmd->smtputf8;
	s->body8 = cmd->body == SMTP_BODY_8BITMIME;
	s->ret = cmd->ret;
	memcpy(s->envid, cmd->envid, sizeof s->envid);
	if (WREN_INBOUND_CHECKS && screen_mail(s)) {
		return;		/* smtp_mail_checked answers */
	}
	smtp_mail_checked(s, NULL);
}

void
smtp_mail_checked(struct smtp_session *s, const char *why)
{
	if (why != NULL) {
		conn_log(s->c, LOG_LVL_INFO, "sender <%s> refused: %s",
		    s->sender, why);
		reset(s);
		reply(s, "%s", why);
		return;
	}
	set_state(s, SMTP_ST_MAIL);
	/* A sender at work: the session deadline (smtp_timeout from the
	 * connect, against clients that only trickle) is over; a big
	 * message on a slow link has the idle timer only. */
	conn_clear_deadline(s->c);
	reply(s, "250 2.1.0 Ok");
}

static void
cmd_rcpt(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	static struct resolve_result res;	/* big: one for all */
	struct resolver rv;
	struct mailbox mb;
	size_t before = s->ntargets, skipped = 0, rlen = cmd->pathlen;
	const char *rpath = cmd->path;
	char srs_to[ADDR_MAX + 1];
	int srs;

	if (s->state != SMTP_ST_MAIL && s->state != SMTP_ST_RCPT) {
		error_reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (!s->smtputf8 && smtp_path_is_8bit(cmd)) {
		error_reply(s, "553 5.6.7 <%s>: address needs SMTPUTF8",
		    cmd->path);
		return;
	}
	if (s->nrcpt >= SMTP_RCPT_MAX) {
		reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (WREN_INBOUND_CHECKS && screen_rate(s, 1) == -1) {
		return;
	}
	rv.cfg = smtp.cfg;
	rv.users = &smtp.maps->m[MAP_USERS];
	rv.aliases = &smtp.maps->m[MAP_ALIASES];
	rv.virtual = &smtp.maps->m[MAP_VIRTUAL];
	/* An SRS address of ours (a bounce to mail we forwarded): the
	 * address it stands for, wherever that is. */
	srs = srs_rcpt(cmd->path, cmd->pathlen, srs_to, sizeof srs_to);
	if (srs == -1) {
		conn_log(s->c, LOG_LVL_INFO, "<%s>: bad or expired SRS "
		    "address", cmd->path);
		error_reply(s, "550 5.1.1 <%s>: Recipient address rejected: "
		    "invalid SRS address", cmd->path);
		return;
	}
	if (srs == 1) {
		conn_log(s->c, LOG_LVL_INFO, "<%s>: SRS for <%s>", cmd->path,
		    srs_to);
		rpath = srs_to;
		rlen = strlen(srs_to);
	}
	/* Not one of our domains: relaying, for mynetworks only. Decided
	 * on the domain as written, before any table is asked. */
	if (srs == 0 &&
	    mailbox_parse(cmd->path, cmd->pathlen, 0, &mb) == MAILBOX_OK &&
	    mb.dlen > 0 && !resolve_is_local_domain(smtp.cfg, mb.domain,
	    mb.dlen)) {
		if (!s->mynet && s->login[0] == '\0') {
			conn_log(s->c, LOG_LVL_INFO, "relay denied: <%s> "
			    "from=<%s>", cmd->path, s->sender);
			error_reply(s, "554 5.7.1 <%s>: Relay access denied",
			    cmd->path);
			return;
		}
	}
	resolve(&rv, rpath, rlen, &res);
	switch (res.status) {
	case RESOLVE_OK:
		break;
	case RESOLVE_UNKNOWN:
		conn_log(s->c, LOG_LVL_INFO, "unknown recipient <%s>: %s",
		    cmd->path, res.why);
		error_reply(s, "550 5.1.1 <%s>: Recipient address rejected: "
		    "User unknown", cmd->path);
		return;
	case RESOLVE_LOOP:
		conn_log(s->c, LOG_LVL_WARN, "<%s>: %s", cmd->path, res.why);
		error_reply(s, "550 5.4.6 <%s>: Recipient address rejected: "
		    "alias loop", cmd->path);
		return;
	case RESOLVE_TOO_MANY:
		reply(s, "452 4.5.3 <%s>: expands to too many recipients",
		    cmd->path);
		return;
	case RESOLVE_BAD_ADDRESS:
		error_reply(s, "501 5.1.3 <%s>: Bad recipient address syntax",
		    cmd->path);
		return;
	case RESOLVE_TEMPFAIL:
		conn_log(s->c, LOG_LVL_WARN, "<%s>: lookup failed: %s",
		    cmd->path, res.why);
		reply(s, "451 4.3.0 <%s>: Temporary lookup failure",
		    cmd->path);
		return;
	}
	if (res.unknown > 0) {
		conn_log(s->c, LOG_LVL_WARN, "<%s>: %s", cmd->path, res.why);
	}
	for (size_t i = 0; i < res.n; i++) {
		const struct resolve_target *t = &res.t[i];
		int rc;

		if (t->kind == RESOLVE_REMOTE && !WREN_OUTBOUND) {
			conn_log(s->c, LOG_LVL_WARN, "<%s>: forwarding to "
			    "<%s> needs outbound delivery, not built in",
			    cmd->path, t->addr);
			skipped++;
			continue;
		}
		rc = t->kind == RESOLVE_LOCAL ?
		    add_target(s, SMTP_T_LOCAL, t->addr, t->home,
		    t->dest, 0, "") :
		    add_target(s, SMTP_T_REMOTE, t->addr, "", "",
		    cmd->notify, cmd->orcpt);
		if (rc == -1) {
			/* Keep the transaction as it was before. */
			while (s->ntargets > before) {
				s->ntargets--;
				if (s->t[s->ntargets].kind == SMTP_T_LOCAL) {
					s->nlocal--;
				} else {
					s->nremote--;
				}
			}
			reply(s, "452 4.5.3 Error: too many recipients");
			return;
		}
	}
	if (skipped == res.n) {
		error_reply(s, "550 5.7.1 <%s>: cannot forward: outbound "
		    "delivery is not built in", cmd->path);
		return;
	}
	if (s->nrcpt == 0) {
		(void)fmt(s->rcpt1, sizeof s->rcpt1, "%s", cmd->path);
	}
	s->nrcpt++;
	set_state(s, SMTP_ST_RCPT);
	reply(s, "250 2.1.5 Ok");
}

static void
cmd_data(struct smtp_session *s)
{
	if (s->state == SMTP_ST_MAIL) {
		error_reply(s, "554 5.5.1 Error: no valid recipients");
		return;
	}
	if (s->state != SMTP_ST_RCPT) {
		error_reply(s, "503 5.5.1 Error: need RCPT command");
		return;
	}
	if (s->ntargets == 0) {
		error_reply(s, "554 5.5.1 Error: no valid recipients");
		return;
	}
	if (s->files_open) {
		/* RFC 3030 3: DATA after BDAT in one transaction. */
		error_reply(s, "503 5.5.1 Error: DATA after BDAT");
		return;
	}
	if (start_delivery(s) == -1) {
		return;
	}
	smtp_body_init(&s->body, SMTP_BODY_DATA,
	    (uint64_t)cfg_num(smtp.cfg, CFG_MESSAGE_SIZE_LIMIT));
	set_state(s, SMTP_ST_DATA);
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

/* RFC 3030: BDAT <size> [LAST]. A chunk that cannot be taken is still
 * read (and dropped), so the command stream stays in step. */
static void
cmd_bdat(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	s->bdat_left = cmd->chunk;
	s->bdat_last = cmd->last;
	s->bdat_skip = 0;
	s->bdat_prev = s->state;
	if (s->state == SMTP_ST_RCPT && s->ntargets > 0 && !s->files_open) {
		if (start_delivery(s) == -1) {
			/* RFC 3030 3: the transaction has failed; a later
			 * chunk must not start a message without this one. */
			reset(s);
			s->bdat_left = cmd->chunk;
			s->bdat_skip = 1;
			s->bdat_prev = SMTP_ST_READY;
		} else {
			smtp_body_init(&s->body, SMTP_BODY_BDAT,
			    (uint64_t)cfg_num(smtp.cfg,
			    CFG_MESSAGE_SIZE_LIMIT));
		}
	} else if (!(s->state == SMTP_ST_RCPT && s->files_open)) {
		s->bdat_skip = 1;
		error_reply(s, s->state == SMTP_ST_MAIL ||
		    (s->state == SMTP_ST_RCPT && s->ntargets == 0) ?
		    "554 5.5.1 Error: no valid recipients" :
		    "503 5.5.1 Error: need RCPT command");
		if (s->c->flags & CONN_F_DEAD) {
			return;
		}
	}
	/* smtp_input reads the chunk, an empty one included, once this
	 * command line is consumed. */
	set_state(s, SMTP_ST_BDAT);
}

/* Feeds the body decoder; returns 0 when more input is needed. */
static int
body_input(struct smtp_session *s)
{
	static char out[2 * CONN_BUF_SIZE];
	struct conn *c = s->c;
	size_t avail = c->in.len, outlen = 0, used = 0;

	if (s->state == SMTP_ST_BDAT) {
		if (avail > s->bdat_left) {
			avail = (size_t)s->bdat_left;
		}
		if (avail > 0) {
			if (s->bdat_skip) {
				used = avail;
			} else {
				used = smtp_body_feed(&s->body,
				    buf_head(&c->in), avail, out, sizeof out,
				    &outlen);
			}
		}
		s->bdat_left -= used;
	} else if (avail > 0) {
		used = smtp_body_feed(&s->body, buf_head(&c->in), avail, out,
		    sizeof out, &outlen);
	}
	if (outlen > 0) {
		(void)smtp_deliver_write(s, out, outlen);
	}
	conn_consume(c, used);
	if (s->state == SMTP_ST_DATA) {
		if (s->body.done) {
			message_end(s);
			return 1;
		}
		return used > 0;
	}
	if (s->bdat_left > 0) {
		return used > 0;
	}
	/* The chunk is complete. */
	if (s->bdat_skip) {
		set_state(s, s->bdat_prev);	/* as if it never came */
		return 1;
	}
	if (s->bdat_last && smtp_body_vsize(&s->body) == 0) {
		/* BDAT 0 LAST with no octet before: nothing to deliver
		 * (RFC 5322 3.5 needs at least the header). */
		conn_log(s->c, LOG_LVL_INFO, "message refused: empty");
		smtp_deliver_abort(s);
		reset(s);
		set_state(s, SMTP_ST_READY);
		reply(s, "554 5.6.0 Message refused: empty message");
		return 1;
	}
	if (s->bdat_last) {
		outlen = smtp_body_end(&s->body, out, sizeof out);
		(void)smtp_deliver_write(s, out, outlen);
		message_end(s);
		return 1;
	}
	set_state(s, SMTP_ST_RCPT);
	reply(s, "250 2.0.0 %llu octets received",
	    (unsigned long long)s->body.size);
	return 1;
}

/* The whole message is in: refuse it, or queue it for the commit. */
static void
message_end(struct smtp_session *s)
{
	const struct smtp_body *b = &s->body;
	const char *why = NULL;
	size_t live = 0;

	if (b->flags & SMTP_BODY_TOO_BIG) {
		why = "552 5.3.4 Message size exceeds fixed limit";
	} else if (b->flags & SMTP_BODY_BARE_CRLF) {
		/* SMTP smuggling: only CRLF ends a line (RFC 5321 2.3.8). */
		why = "554 5.6.0 Message refused: bare CR or LF in message";
	} else if (b->flags & SMTP_BODY_NUL) {
		why = "554 5.6.0 Message refused: NUL character in message";
	} else if (b->flags & SMTP_BODY_LONG_LINE) {
		why = "554 5.6.0 Message refused: line longer than 998 "
		    "characters";
	} else if (b->received > SMTP_HOPS_MAX) {
		why = "554 5.4.6 Too many hops (Received: headers), mail "
		    "loop?";
	}
	/* A mailbox whose Delivered-To: is already in the message: a
	 * forwarding loop; that copy is not delivered. */
	for (size_t i = 0; i < s->ntargets && why == NULL; i++) {
		struct smtp_target *t = &s->t[i];

		for (size_t k = 0; t->kind == SMTP_T_LOCAL && k < b->ndto;
		    k++) {
			if (strcasecmp(b->dto[k], smtp_str(s, t->dto)) == 0) {
				t->dropped = 1;
				conn_log(s->c, LOG_LVL_WARN, "forwarding loop "
				    "for <%s>: not delivered",
				    smtp_str(s, t->dto));
			}
		}
		live += !t->dropped;
	}
	if (why == NULL && live == 0) {
		why = "554 5.4.6 Mail forwarding loop";
	}
	if (why == NULL && s->write_errno != 0) {
		/* The disk said no while the message streamed in. */
		conn_log(s->c, LOG_LVL_WARN, "message not stored: %s",
		    strerror(s->write_errno));
		why = s->write_errno == ENOSPC || s->write_errno == EDQUOT ?
		    "452 4.3.1 Insufficient system storage" :
		    "451 4.3.0 Error: local delivery failed";
	}
	if (why != NULL) {
		conn_log(s->c, LOG_LVL_INFO, "message refused: %s", why);
		smtp_deliver_abort(s);
		reset(s);
		set_state(s, SMTP_ST_READY);
		reply(s, "%s", why);
		return;
	}
	if (s->v.junk) {
		char listed[sizeof s->v.dnsbl_zones + 16];

		/* A DNSBL listing below dnsbl_threshold (smtp_screen.c). */
		(void)fmt(listed, sizeof listed, "listed by %s",
		    s->v.dnsbl_zones);
		(void)smtp_deliver_junk(s, -1, listed);
	}
	set_state(s, SMTP_ST_COMMIT);
	smtp_auth_end(s);	/* then smtp_checked */
}

void
smtp_checked(struct smtp_session *s, int async)
{
	const struct smtp_auth *a = &s->auth;

	if (a->bad || a->reject) {
		conn_log(s->c, LOG_LVL_INFO, "message refused: %s%s",
		    a->bad ? "header too long, or too many forged "
		    "Authentication-Results" : "DMARC policy of ",
		    a->bad ? "" : a->from);
		smtp_deliver_abort(s);
		reset(s);
		set_state(s, SMTP_ST_READY);
		if (a->bad) {
			reply(s, "554 5.6.0 Message refused: header not "
			    "acceptable");
		} else {
			reply(s, "550 5.7.1 Message rejected per DMARC "
			    "policy of %s", a->from);
		}
		if (async) {
			if (s->draining) {
				reply(s, "421 4.3.2 %s Service shutting down",
				    smtp.hostname);
				conn_close(s->c);
				return;
			}
			smtp_input(s->c);
		}
		return;
	}
	if (a->junk) {
		(void)smtp_deliver_junk(s, -1, "DMARC policy quarantine");
	}
	smtp_deliver_queue(s);
}

static int
start_delivery(struct smtp_session *s)
{
	if (smtp_deliver_begin(s) == -1) {
		int err = errno;

		smtp_deliver_abort(s);
		reply(s, err == ENOSPC || err == EDQUOT ?
		    "452 4.3.1 Insufficient system storage" :
		    "451 4.3.0 Error: cannot deliver now");
		return -1;
	}
	return 0;
}

/* Ends the transaction (not the session). */
static void
reset(struct smtp_session *s)
{
	smtp_deliver_abort(s);
	s->sender[0] = '\0';
	s->smtputf8 = 0;
	s->ret = SMTP_RET_NONE;
	s->envid[0] = '\0';
	s->nrcpt = 0;
	s->rcpt1[0] = '\0';
	s->ntargets = s->nlocal = s->nremote = 0;
	s->used = 0;
	s->bdat_left = 0;
	s->bdat_skip = 0;
	s->primary = -1;
	s->auth.spf = SMTP_AR_NONE;	/* the next MAIL's, when checked */
}

/* Adds a destination unless the message already goes there; -1 when
 * the per-message bounds are reached. */
static int
add_target(struct smtp_session *s, enum smtp_target_kind kind,
    const char *addr, const char *home, const char *dto, unsigned notify,
    const char *orcpt)
{
	struct smtp_target *t;
	size_t need = strlen(addr) + strlen(home) + strlen(dto) +
	    strlen(orcpt) + 4;

	for (size_t i = 0; i < s->ntargets; i++) {
		if (s->t[i].kind == kind &&
		    strcmp(smtp_str(s, s->t[i].addr), addr) == 0) {
			return 0;
		}
	}
	if (s->ntargets == SMTP_TARGETS_MAX ||
	    s->used + need > sizeof s->arena) {
		return -1;
	}
	t = &s->t[s->ntargets++];
	memset(t, 0, sizeof *t);
	t->kind = (uint8_t)kind;
	t->notify = (uint8_t)notify;
	t->addr = arena_put(s, addr);
	t->home = arena_put(s, home);
	t->dto = arena_put(s, dto);
	t->orcpt = arena_put(s, orcpt);
	if (kind == SMTP_T_LOCAL) {
		s->nlocal++;
	} else {
		s->nremote++;
	}
	return 0;
}

static uint16_t
arena_put(struct smtp_session *s, const char *str)
{
	size_t n = strlen(str) + 1;
	uint16_t off = (uint16_t)s->used;

	memcpy(s->arena + s->used, str, n);
	s->used += n;
	return off;
}

/* 1 with the original address in out when path is an SRS address of
 * srs_domain, 0 when it is none, -1 when it is one that does not
 * verify (a forged or expired bounce address). */
static int
srs_rcpt(const char *path, size_t len, char *out, size_t cap)
{
	const char *dom = cfg_str(smtp.cfg, CFG_SRS_DOMAIN);
	char addr[ADDR_MAX + 1];

	if (!WREN_OUTBOUND || !smtp.srs_ok || *dom == '\0' ||
	    len >= sizeof addr) {
		return 0;
	}
	memcpy(addr, path, len);
	addr[len] = '\0';
	return srs_reverse(&smtp.srs, dom, addr, out, cap, time(NULL));
}
