/* SPDX-License-Identifier: ISC */
/*
 * pop3_session.c - the POP3 server state machine (RFC 1939 3-7) with
 * CAPA, RESP-CODES, PIPELINING (RFC 2449), STLS (RFC 2595 4), AUTH
 * PLAIN with an initial response (RFC 5034, RFC 4616) and the response
 * codes of RFC 2449 8 and RFC 3206.
 *
 *   AUTHORIZATION --USER+PASS / AUTH, maildrop locked--> TRANSACTION
 *   TRANSACTION --QUIT--> UPDATE (marked messages removed, unlocked)
 *   a close without QUIT unlocks and removes nothing (RFC 1939 6)
 *
 * The maildrop is the account's Maildir INBOX as a store/mbox.h view,
 * shared with IMAP sessions, and locked against other POP3 sessions
 * (RFC 1939 8). Message numbers are fixed at login: the view is never
 * told of new mail or expunges, so its sequence numbers stay put.
 * DELE only marks; QUIT removes. Sizes are the CR LF sizes of the
 * index (W=), UIDLs Dovecot's default pop3_uidl_format %08Xu%08Xv:
 * UID and UIDVALIDITY in eight hex digits each, which Dovecot 2.3
 * writes in lower case (checked against its pop3 in test_pop3.py), so
 * a client moving from Dovecot does not fetch everything again. RETR
 * sets \Seen, as Dovecot does.
 *
 * Glue only: lines and commands are parsed and message bodies
 * dot-stuffed by pop3_parse.c. LIST, UIDL, RETR and TOP are jobs that
 * write while the output has room and go on from the writable hook as
 * the socket drains, so a 100,000-message LIST or a 30 MB RETR never
 * needs more than the connection's output buffer.
 *
 * Timeouts: before login, login_timeout (from the connect), as
 * the idle timeout and as an absolute session deadline (conn.h), so a
 * client sending a byte now and then is cut all the same (Dovecot's
 * login processes too have a short limit); POP3_TIMEOUT_S (10 minutes,
 * RFC 1939 3) after, re-armed by input.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/fmt.h"
#include "core/log.h"
#include "core/pool.h"
#include "auth/auth.h"
#include "auth/login.h"
#include "msg/base64.h"
#include "msg/mailbox.h"
#include "pop3/pop3.h"
#include "pop3/pop3_parse.h"
#include "store/maildir.h"
#include "store/mbox.h"
#include "tls/tls.h"

/* A RETR/TOP step reads at most half the output buffer from the file:
 * each byte gives at most two on the wire. */
#define POP3_CHUNK	(CONN_BUF_SIZE / 2)
#define STREAM_MIN_ROOM	256	/* smaller gaps wait for the drain */
#define PLAIN_DISALLOWED "[AUTH] Plaintext authentication disallowed " \
			"on non-secure (SSL/TLS) connections"

enum pop3_state {
	POP3_ST_AUTHORIZATION,
	POP3_ST_TRANSACTION,
	POP3_ST_UPDATE
};

static const char *const pop3_state_name[] = {
	"AUTHORIZATION", "TRANSACTION", "UPDATE"
};

enum pop3_busy {
	POP3_B_NONE,
	POP3_B_LIST,		/* LIST or UIDL lines going out */
	POP3_B_RETR,		/* RETR or TOP body going out */
	POP3_B_SASL,		/* waiting for the AUTH response */
	POP3_B_DELAY,		/* failed login: the answer waits */
	POP3_B_STLS		/* waiting for the handshake */
};

struct pop3_session {
	struct conn		*c;
	enum pop3_state		 state;
	enum pop3_busy		 busy;
	int			 tls;
	int			 errors;	/* -ERR to bad commands */
	int			 draining;	/* shutdown: close after
						 * the job */
	struct pop3_lines	 lines;
	struct timer		 delay;		/* failed login */
	char			 user[ADDR_MAX + 2];	/* from USER */
	size_t			 user_len;
	int			 have_user;
	char			 login[ADDR_MAX + 2];
	char			 home[CFG_PATH_MAX];
	char			 ip[ADDR_STR_MAX];
	struct mbox_view	 view;
	int			 locked;
	/* The job: message numbers, never record pointers, cross loop
	 * turns (the index may move between them). */
	int			 uidl;		/* UIDL, not LIST */
	uint32_t		 seq;		/* next line, or msg */
	int			 fd;		/* RETR/TOP: its file */
	off_t			 pos, end;
	int			 set_seen;	/* RETR: \Seen after */
	struct pop3_xfer	 xf;
};

static struct {
	struct ev		*ev;
	const struct cfg	*cfg;
	struct maps		*maps;
	struct pool		 sessions;
} pop3;

#define IN_AUTH		0x1u
#define IN_TRANS	0x2u

static const char	*pop3_refusal(enum conn_refusal);
static int		 pop3_open(struct conn *);
static int		 pop3s_open(struct conn *);
static void		 pop3_input(struct conn *);
static void		 pop3_writable(struct conn *);
static void		 pop3_timeout(struct conn *);
static void		 pop3_drain(struct conn *);
static void		 pop3_close(struct conn *);

#define POP3_PROTO(name_, open_) { \
	.name = name_, .refusal = pop3_refusal, .open = open_, \
	.input = pop3_input, .writable = pop3_writable, \
	.timeout = pop3_timeout, .drain = pop3_drain, .close = pop3_close }

const struct proto pop3_proto = POP3_PROTO("pop3", pop3_open);
const struct proto pop3s_proto = POP3_PROTO("pop3s", pop3s_open);

static int	session_open(struct conn *, int implicit_tls);
static uint64_t	login_timeout_ms(void);
static void	set_state(struct pop3_session *, enum pop3_state);
static void	reply(struct pop3_session *, const char *f, ...)
		    __attribute__((format(printf, 2, 3)));
static void	bad(struct pop3_session *, const char *f, ...)
		    __attribute__((format(printf, 2, 3)));
static void	command(struct pop3_session *, const char *, size_t);
static void	cmd_user(struct pop3_session *, const struct pop3_cmd *);
static void	cmd_pass(struct pop3_session *, const struct pop3_cmd *);
static void	cmd_auth(struct pop3_session *, const struct pop3_cmd *);
static void	cmd_stls(struct pop3_session *, const struct pop3_cmd *);
static void	cmd_capa(struct pop3_session *, const struct pop3_cmd *);
static void	cmd_stat(struct pop3_session *, const struct pop3_cmd *);
static void	cmd_list(struct pop3_session *, const struct pop3_cmd *);
static void	cmd_retr(struct pop3_session *, const struct pop3_cmd *);
static void	cmd_dele(struct pop3_session *, const struct pop3_cmd *);
static void	cmd_rset(struct pop3_session *, const struct pop3_cmd *);
static void	cmd_noop(struct pop3_session *, const struct pop3_cmd *);
static void	cmd_quit(struct pop3_session *, const struct pop3_cmd *);
static void	sasl_plain(struct pop3_session *, const char *, size_t);
static int	login_allowed(const struct pop3_session *);
static void	try_login(struct pop3_session *, const char *, size_t,
		    const char *, size_t);
static void	login_delay_done(struct timer *, void *);
static int	maildrop_open(struct pop3_session *);
static void	maildrop_close(struct pop3_session *);
static const struct mbox_msg *message(struct pop3_session *, uint32_t);
static void	totals(struct pop3_session *, uint32_t *, uint64_t *);
static void	job_step(struct pop3_session *);
static int	list_step(struct pop3_session *);
static int	stream_step(struct pop3_session *);
static void	job_end(struct pop3_session *);

/* Commands and the states they are valid in (RFC 1939 4-7; CAPA in
 * both, RFC 2449 5; STLS and AUTH before login, RFC 2595 4, 5034 4). */
static const struct {
	enum pop3_verb	 verb;
	unsigned	 states;
	void		(*fn)(struct pop3_session *,
			    const struct pop3_cmd *);
} commands[] = {
	{ POP3_V_USER, IN_AUTH, cmd_user },
	{ POP3_V_PASS, IN_AUTH, cmd_pass },
	{ POP3_V_AUTH, IN_AUTH, cmd_auth },
	{ POP3_V_STLS, IN_AUTH, cmd_stls },
	{ POP3_V_CAPA, IN_AUTH | IN_TRANS, cmd_capa },
	{ POP3_V_QUIT, IN_AUTH | IN_TRANS, cmd_quit },
	{ POP3_V_STAT, IN_TRANS, cmd_stat },
	{ POP3_V_LIST, IN_TRANS, cmd_list },
	{ POP3_V_UIDL, IN_TRANS, cmd_list },
	{ POP3_V_RETR, IN_TRANS, cmd_retr },
	{ POP3_V_TOP, IN_TRANS, cmd_retr },
	{ POP3_V_DELE, IN_TRANS, cmd_dele },
	{ POP3_V_RSET, IN_TRANS, cmd_rset },
	{ POP3_V_NOOP, IN_TRANS, cmd_noop },
};

int
pop3_init(struct ev *ev, const struct cfg *cfg, struct maps *maps,
    size_t max, struct err *e)
{
	memset(&pop3, 0, sizeof pop3);
	pop3.ev = ev;
	pop3.cfg = cfg;
	pop3.maps = maps;
	if (pool_init(&pop3.sessions, "pop3", sizeof(struct pop3_session),
	    max, e) == -1) {
		return -1;
	}
	/* The mailbox layer is IMAP's to set up when IMAP is built in
	 * (it hears of changes for IDLE); POP3 needs no notification. */
	if (!WREN_IMAP && mbox_init(ev, max, e) == -1) {
		pool_destroy(&pop3.sessions);
		return -1;
	}
	return 0;
}

void
pop3_shutdown(void)
{
	if (!WREN_IMAP) {
		mbox_shutdown();
	}
	pool_destroy(&pop3.sessions);
}

size_t
pop3_bytes_per_session(void)
{
	return sizeof(struct pop3_session);
}

/* --- connection hooks ------------------------------------------------ */

/* RFC 2449 8.1.2 / RFC 3206: SYS/TEMP says "try again later". */
static const char *
pop3_refusal(enum conn_refusal why)
{
	switch (why) {
	case CONN_REFUSE_PER_IP:
		return "-ERR [SYS/TEMP] Too many connections from your "
		    "address\r\n";
	case CONN_REFUSE_SHUTDOWN:
		return "-ERR [SYS/TEMP] Server shutting down\r\n";
	default:
		return "-ERR [SYS/TEMP] Server busy, too many "
		    "connections\r\n";
	}
}

static int
pop3_open(struct conn *c)
{
	return session_open(c, 0);
}

/* RFC 8314: TLS from the first byte; the greeting waits in c->out. */
static int
pop3s_open(struct conn *c)
{
	if (tls_start_now(c) == -1) {
		return -1;
	}
	return session_open(c, 1);
}

static int
session_open(struct conn *c, int implicit_tls)
{
	struct pop3_session *s = pool_get(&pop3.sessions);

	if (s == NULL) {
		const char *r = pop3_refusal(CONN_REFUSE_FULL);

		conn_write(c, r, strlen(r));
		return -1;
	}
	memset(s, 0, sizeof *s);
	s->c = c;
	s->tls = implicit_tls;
	s->fd = -1;
	timer_init(&s->delay, login_delay_done, s);
	c->sess = s;
	if (addr_text(s->ip, sizeof s->ip, c->family, c->addr) == -1) {
		(void)fmt(s->ip, sizeof s->ip, "?");
	}
	conn_set_timeout(c, login_timeout_ms());
	reply(s, "+OK wren ready");
	return 0;
}

/* Before login: login_timeout, as the idle timeout and as the
 * session deadline (conn.h), counted from the connect. */
static uint64_t
login_timeout_ms(void)
{
	return (uint64_t)cfg_num(pop3.cfg, CFG_LOGIN_TIMEOUT) * 1000;
}

/*
 * Everything that can be done with the input now: a job's next step,
 * then one line after another while the output has room. Nothing is
 * read while a job writes, a failed login waits or STLS is pending.
 */
static void
pop3_input(struct conn *c)
{
	struct pop3_session *s = c->sess;

	if (s->busy == POP3_B_STLS) {
		/* Nothing is read between STLS and the handshake; what
		 * the client pipelined in the clear is dropped by the core
		 * when TLS starts (CVE-2011-0411). */
		if (c->filter == NULL) {
			return;
		}
		s->busy = POP3_B_NONE;
	}
	while (!(c->flags & (CONN_F_CLOSING | CONN_F_DEAD))) {
		const char *line;
		size_t len, used;
		enum pop3_line_rc rc;
		int sasl = s->busy == POP3_B_SASL;

		if (s->busy == POP3_B_LIST || s->busy == POP3_B_RETR) {
			job_step(s);
			if (s->busy != POP3_B_NONE) {
				break;
			}
			continue;
		}
		if (c->out.len > CONN_BUF_SIZE / 2 || s->busy ==
		    POP3_B_DELAY || s->busy == POP3_B_STLS ||
		    c->in.len == 0) {
			break;
		}
		rc = pop3_line_next(&s->lines, buf_head(&c->in), c->in.len,
		    sasl ? POP3_SASL_LINE_MAX : POP3_LINE_MAX, &line, &len,
		    &used);
		if (rc == POP3_LINE_NEED) {
			conn_consume(c, used);
			break;
		}
		if (rc == POP3_LINE_TOO_LONG) {
			conn_consume(c, used);
			if (sasl) {
				/* RFC 5034 4: the exchange is over. */
				s->busy = POP3_B_NONE;
			}
			bad(s, "%s", pop3_strerror(POP3_PE_LINE_LONG));
			continue;
		}
		if (sasl) {
			s->busy = POP3_B_NONE;
			sasl_plain(s, line, len);
		} else {
			command(s, line, len);
		}
		if (!(c->flags & CONN_F_DEAD)) {
			conn_consume(c, used);
		}
	}
}

/* The output drained: a client reading a long RETR or LIST is not
 * idle, though it sends nothing (a 30 MB message on a slow line takes
 * longer than the timeout). */
static void
pop3_writable(struct conn *c)
{
	struct pop3_session *s = c->sess;

	if (s->busy == POP3_B_LIST || s->busy == POP3_B_RETR) {
		conn_set_timeout(c, c->idle_ms);
	}
	pop3_input(c);
}

static void
pop3_timeout(struct conn *c)
{
	struct pop3_session *s = c->sess;
	const char *version, *cipher;

	if (s->tls && !tls_info(c, &version, &cipher)) {
		conn_abort(c);	/* a stalled handshake: nobody to tell */
		return;
	}
	if (s->busy == POP3_B_LIST || s->busy == POP3_B_RETR) {
		conn_abort(c);	/* no line may cut into a listing */
		return;
	}
	reply(s, "-ERR Disconnected for inactivity");
	conn_close(c);
}

/* Shutdown: a listing or message in flight is finished first (a line
 * in its middle would corrupt it; shutdown_timeout bounds the wait);
 * nothing marked is removed. A TLS handshake still going on cannot be
 * told anything. */
static void
pop3_drain(struct conn *c)
{
	struct pop3_session *s = c->sess;
	const char *version, *cipher;

	if (s->tls && !tls_info(c, &version, &cipher)) {
		conn_abort(c);
		return;
	}
	if (s->busy == POP3_B_LIST || s->busy == POP3_B_RETR) {
		s->draining = 1;
		return;
	}
	if (s->busy != POP3_B_STLS) {
		/* (after STLS the client expects a handshake, not text) */
		reply(s, "-ERR [SYS/TEMP] Server shutting down");
	}
	conn_close(c);
}

/* Also the end of a session without QUIT: the lock goes, and with it
 * the marks; no message is removed (RFC 1939 6). */
static void
pop3_close(struct conn *c)
{
	struct pop3_session *s = c->sess;

	if (s == NULL) {
		return;
	}
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->state == POP3_ST_TRANSACTION) {
		conn_log(c, LOG_LVL_INFO, "closed without QUIT: login=%s, "
		    "nothing deleted", s->login);
	}
	maildrop_close(s);
	ev_timer_cancel(pop3.ev, &s->delay);
	explicit_bzero(s, sizeof *s);
	c->sess = NULL;
	(void)pool_put(&pop3.sessions, s);
}

/* --- replies --------------------------------------------------------- */

static void
set_state(struct pop3_session *s, enum pop3_state to)
{
	conn_log(s->c, LOG_LVL_DEBUG, "%s -> %s", pop3_state_name[s->state],
	    pop3_state_name[to]);
	s->state = to;
}

/* One status line; the caller's text starts with "+OK" or "-ERR".
 * Commands run only while the output is under half full, and no line
 * is longer than that, so it always fits. */
static void
reply(struct pop3_session *s, const char *f, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, f);
	n = vfmt(line, sizeof line - 2, f, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	if ((size_t)n > sizeof line - 3) {
		n = (int)(sizeof line - 3);
	}
	line[n++] = '\r';
	line[n++] = '\n';
	(void)conn_write(s->c, line, (size_t)n);
}

/* "-ERR text" to a command that was wrong; too many of them end the
 * session, as a client that keeps sending garbage is not a client. */
static void
bad(struct pop3_session *s, const char *f, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, f);
	(void)vfmt(text, sizeof text, f, ap);
	va_end(ap);
	reply(s, "-ERR %s", text);
	if (++s->errors >= POP3_ERRORS_MAX) {
		conn_log(s->c, LOG_LVL_INFO, "too many bad commands from "
		    "ip=%s", s->ip);
		reply(s, "-ERR Too many bad commands, closing");
		conn_close(s->c);
	}
}

/* --- commands -------------------------------------------------------- */

static void
command(struct pop3_session *s, const char *line, size_t len)
{
	struct pop3_cmd cmd;
	enum pop3_perr pe = pop3_cmd_parse(line, len, &cmd);
	unsigned in = s->state == POP3_ST_AUTHORIZATION ? IN_AUTH :
	    IN_TRANS;

	if (pe != POP3_PE_OK) {
		bad(s, "%s", pop3_strerror(pe));
		return;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (commands[i].verb != cmd.verb) {
			continue;
		}
		if (!(commands[i].states & in)) {
			bad(s, "%s", in == IN_AUTH ? "Not logged in" :
			    "Already logged in");
			return;
		}
		commands[i].fn(s, &cmd);
		return;
	}
	bad(s, "%s", pop3_strerror(POP3_PE_UNKNOWN));
}

/* RFC 2449 5. USER and SASL only where a login may happen; STLS only
 * before TLS (RFC 2595 4). */
static void
cmd_capa(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	int auth = s->state == POP3_ST_AUTHORIZATION;
	int login = auth && login_allowed(s);

	(void)cmd;
	reply(s, "+OK Capability list follows");
	reply(s, "TOP");
	if (login) {
		reply(s, "USER");
	}
	reply(s, "UIDL");
	reply(s, "RESP-CODES");
	reply(s, "PIPELINING");
	reply(s, "AUTH-RESP-CODE");
	if (login) {
		reply(s, "SASL PLAIN");
	}
	if (auth && !s->tls && tls_available()) {
		reply(s, "STLS");
	}
	reply(s, ".");
}

/* The OK goes out in the clear, then TLS starts; bytes the client
 * pipelined after STLS are dropped by the core. RFC 2595 4: a USER
 * given before is forgotten. */
static void
cmd_stls(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	if (s->tls) {
		bad(s, "TLS is already active");
		return;
	}
	if (!tls_available()) {
		reply(s, "-ERR TLS not available");
		return;
	}
	reply(s, "+OK Begin TLS negotiation now");
	if (tls_start_after_flush(s->c) == -1) {
		reply(s, "-ERR [SYS/TEMP] TLS not available now");
		conn_close(s->c);
		return;
	}
	s->tls = 1;
	s->busy = POP3_B_STLS;
	s->have_user = 0;
	s->lines.discarding = 0;
}

/* tls_auth_only: over TLS, or in the clear from 127.0.0.1 and ::1
 * only (SPEC section 3). */
static int
login_allowed(const struct pop3_session *s)
{
	return login_cleartext_ok(pop3.cfg, s->c, s->tls);
}

/* "+OK" whatever the name: which accounts exist is not told. A name
 * too long to be one is kept cut, and fails at PASS. */
static void
cmd_user(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	size_t n = cmd->arglen < sizeof s->user - 1 ? cmd->arglen :
	    sizeof s->user - 1;

	if (!login_allowed(s)) {
		bad(s, PLAIN_DISALLOWED);
		return;
	}
	memcpy(s->user, cmd->arg, n);
	s->user[n] = '\0';
	s->user_len = n;
	s->have_user = 1;
	reply(s, "+OK");
}

static void
cmd_pass(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (!login_allowed(s)) {
		bad(s, PLAIN_DISALLOWED);
		return;
	}
	if (!s->have_user) {
		bad(s, "No username given");
		return;
	}
	/* RFC 1939 7: after a failed PASS, USER comes again. */
	s->have_user = 0;
	try_login(s, s->user, s->user_len, cmd->arg, cmd->arglen);
}

/* RFC 5034 4: AUTH PLAIN with the initial response on the line ("="
 * is an empty one) or after a "+ "; a bare AUTH lists the mechanisms
 * (as Dovecot does, for old Outlook versions). */
static void
cmd_auth(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (cmd->arg == NULL) {
		reply(s, "+OK");
		if (login_allowed(s)) {
			reply(s, "PLAIN");
		}
		reply(s, ".");
		return;
	}
	if (cmd->arglen != 5 || strncasecmp(cmd->arg, "PLAIN", 5) != 0) {
		bad(s, "Unsupported authentication mechanism");
		return;
	}
	if (!login_allowed(s)) {
		bad(s, PLAIN_DISALLOWED);
		return;
	}
	if (cmd->ir == NULL) {
		s->busy = POP3_B_SASL;
		reply(s, "+ ");
		return;
	}
	sasl_plain(s, cmd->ir, cmd->irlen);
}

static void
sasl_plain(struct pop3_session *s, const char *line, size_t len)
{
	unsigned char buf[POP3_SASL_LINE_MAX];
	const char *user = NULL, *pw = NULL;
	size_t ulen = 0, pwlen = 0;
	long n;

	if (len == 1 && line[0] == '*') {
		bad(s, "Authentication aborted");
		return;
	}
	if (len == 1 && line[0] == '=') {
		n = 0;
	} else if ((n = base64_decode(line, len, buf, sizeof buf)) < 0) {
		bad(s, "Invalid base64 data");
		return;
	}
	if (login_sasl_plain(buf, (size_t)n, &user, &ulen, &pw, &pwlen) ==
	    -1) {
		try_login(s, "", 0, "", 0);
	} else {
		try_login(s, user, ulen, pw, pwlen);
	}
	explicit_bzero(buf, sizeof buf);
}

static void
try_login(struct pop3_session *s, const char *user, size_t ulen,
    const char *pw, size_t pwlen)
{
	struct login l;

	switch (login_check(pop3.cfg, pop3.maps, s->c, s->ip, user, ulen,
	    pw, pwlen, ev_now(pop3.ev) / 1000 + 1, 1, &l)) {
	case LOGIN_OK:
		memcpy(s->login, l.name, sizeof s->login);
		memcpy(s->home, l.home, sizeof s->home);
		if (maildrop_open(s) == -1) {
			s->login[0] = '\0';
			return;
		}
		set_state(s, POP3_ST_TRANSACTION);
		conn_clear_deadline(s->c);
		conn_set_timeout(s->c, (uint64_t)POP3_TIMEOUT_S * 1000);
		conn_log(s->c, LOG_LVL_INFO, "login=%s: %u messages",
		    s->login, s->view.exists);
		reply(s, "+OK Logged in");
		return;
	case LOGIN_THROTTLED:
		reply(s, "-ERR [SYS/TEMP] Too many authentication failures; "
		    "try again later");
		return;
	case LOGIN_TEMPFAIL:
		reply(s, "-ERR [SYS/TEMP] Temporary authentication failure");
		return;
	case LOGIN_NO_HOME:
		reply(s, "-ERR [SYS/PERM] Account not available");
		return;
	case LOGIN_FAIL:
		break;
	}
	s->busy = POP3_B_DELAY;
	if (ev_timer_in(pop3.ev, &s->delay, (uint64_t)cfg_num(pop3.cfg,
	    CFG_AUTH_FAIL_DELAY) * 1000) == -1) {
		login_delay_done(&s->delay, s);
	}
}

static void
login_delay_done(struct timer *t, void *arg)
{
	struct pop3_session *s = arg;

	(void)t;
	s->busy = POP3_B_NONE;
	reply(s, "-ERR [AUTH] Authentication failed");
	if (!(s->c->flags & (CONN_F_DEAD | CONN_F_CLOSING))) {
		pop3_input(s->c);
	}
}

/*
 * The INBOX, created when the account never had mail (as Dovecot
 * does), then locked: RFC 1939 8 gives the session the maildrop to
 * itself. 0, or -1 with the -ERR sent and nothing held.
 */
static int
maildrop_open(struct pop3_session *s)
{
	char path[MBOX_PATH_MAX];
	struct err e;

	if (fmt(path, sizeof path, "%s/Maildir", s->home) >=
	    (int)sizeof path) {
		reply(s, "-ERR [SYS/PERM] Mailbox path too long");
		return -1;
	}
	if (mbox_select(path, &s->view, 0, &e) == -1 &&
	    (maildir_ensure(s->home, &e) == -1 ||
	    mbox_select(path, &s->view, 0, &e) == -1)) {
		conn_log(s->c, LOG_LVL_WARN, "login=%s: %s", s->login, e.msg);
		reply(s, "-ERR [SYS/TEMP] Cannot open the mailbox");
		return -1;
	}
	if (mbox_lock_exclusive(&s->view, s) == -1) {
		mbox_unselect(&s->view);
		conn_log(s->c, LOG_LVL_INFO, "login=%s: maildrop in use",
		    s->login);
		reply(s, "-ERR [IN-USE] Mailbox is locked by another POP3 "
		    "session");
		return -1;
	}
	s->locked = 1;
	return 0;
}

/* Unlocking drops the marks: a session that ends without QUIT
 * removes nothing. */
static void
maildrop_close(struct pop3_session *s)
{
	if (s->view.mb == NULL) {
		return;
	}
	if (s->locked) {
		mbox_unlock_exclusive(&s->view, s);
		s->locked = 0;
	}
	mbox_unselect(&s->view);
}

/* Message n of the maildrop, or NULL (after -ERR) when there is no
 * such message or it is marked deleted (RFC 1939 5). */
static const struct mbox_msg *
message(struct pop3_session *s, uint32_t n)
{
	const struct mbox_msg *m = mbox_view_seq(&s->view, n);

	if (m == NULL || mbox_marked(&s->view, m)) {
		bad(s, "No such message");
		return NULL;
	}
	return m;
}

/* Messages not marked deleted, and their size (RFC 1939 5 STAT). */
static void
totals(struct pop3_session *s, uint32_t *count, uint64_t *size)
{
	*count = 0;
	*size = 0;
	for (uint32_t i = 1; i <= s->view.exists; i++) {
		const struct mbox_msg *m = mbox_view_seq(&s->view, i);

		if (m != NULL && !mbox_marked(&s->view, m)) {
			(*count)++;
			*size += m->vsize;
		}
	}
}

static void
cmd_stat(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	uint32_t count;
	uint64_t size;

	(void)cmd;
	totals(s, &count, &size);
	reply(s, "+OK %u %llu", count, (unsigned long long)size);
}

/* LIST and UIDL: one line for "LIST n", else a listing as a job. */
static void
cmd_list(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	const struct mbox_msg *m;
	int uidl = cmd->verb == POP3_V_UIDL;

	if (cmd->nnum == 1) {
		if ((m = message(s, cmd->msg)) == NULL) {
			return;
		}
		if (uidl) {
			reply(s, "+OK %u %08x%08x", cmd->msg, m->uid,
			    mbox_uidvalidity(s->view.mb));
		} else {
			reply(s, "+OK %u %u", cmd->msg, m->vsize);
		}
		return;
	}
	if (uidl) {
		reply(s, "+OK Unique-ID listing follows");
	} else {
		uint32_t count;
		uint64_t size;

		totals(s, &count, &size);
		reply(s, "+OK %u messages (%llu octets)", count,
		    (unsigned long long)size);
	}
	s->uidl = uidl;
	s->seq = 1;
	s->busy = POP3_B_LIST;
	job_step(s);
}

/* RETR n, TOP n k: the status line, then the body as a job. */
static void
cmd_retr(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	const struct mbox_msg *m = message(s, cmd->msg);
	int top = cmd->verb == POP3_V_TOP;
	struct stat st;

	if (m == NULL) {
		return;
	}
	s->fd = mbox_open_msg(s->view.mb, m, &st);
	if (s->fd == -1) {
		conn_log(s->c, LOG_LVL_WARN, "login=%s: message %u (uid %u): "
		    "%s", s->login, cmd->msg, m->uid, strerror(errno));
		reply(s, "-ERR [SYS/TEMP] Message is no longer available");
		return;
	}
	if (top) {
		reply(s, "+OK Top of message follows");
	} else {
		reply(s, "+OK %u octets", m->vsize);
	}
	s->seq = cmd->msg;
	s->pos = 0;
	s->end = st.st_size;
	s->set_seen = !top;
	pop3_xfer_init(&s->xf, top, cmd->lines);
	s->busy = POP3_B_RETR;
	job_step(s);
}

static void
cmd_dele(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	const struct mbox_msg *m = mbox_view_seq(&s->view, cmd->msg);

	if (m != NULL && mbox_marked(&s->view, m)) {
		bad(s, "Message already deleted");
		return;
	}
	if ((m = message(s, cmd->msg)) == NULL) {
		return;
	}
	mbox_mark(&s->view, m, 1);
	reply(s, "+OK Marked to be deleted");
}

static void
cmd_rset(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	uint32_t count;
	uint64_t size;

	(void)cmd;
	for (uint32_t i = 1; i <= s->view.exists; i++) {
		const struct mbox_msg *m = mbox_view_seq(&s->view, i);

		if (m != NULL) {
			mbox_mark(&s->view, m, 0);
		}
	}
	totals(s, &count, &size);
	reply(s, "+OK %u messages (%llu octets)", count,
	    (unsigned long long)size);
}

static void
cmd_noop(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	reply(s, "+OK");
}

/* RFC 1939 6: in TRANSACTION, the UPDATE state removes the marked
 * messages, then the lock goes. */
static void
cmd_quit(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	uint32_t marked = 0;

	(void)cmd;
	if (s->state != POP3_ST_TRANSACTION) {
		reply(s, "+OK Logging out");
		conn_close(s->c);
		return;
	}
	set_state(s, POP3_ST_UPDATE);
	for (uint32_t i = 1; i <= s->view.exists; i++) {
		const struct mbox_msg *m = mbox_view_seq(&s->view, i);

		marked += m != NULL && mbox_marked(&s->view, m);
	}
	if (marked > 0 && mbox_expunge_marked(&s->view) == -1) {
		conn_log(s->c, LOG_LVL_WARN, "login=%s: some of %u messages "
		    "not removed", s->login, marked);
		reply(s, "-ERR [SYS/TEMP] Some deleted messages not removed");
	} else {
		conn_log(s->c, LOG_LVL_INFO, "logout: login=%s, %u deleted",
		    s->login, marked);
		reply(s, "+OK Logging out, %u messages deleted", marked);
	}
	maildrop_close(s);
	conn_close(s->c);
}

/* --- jobs: listings and message bodies ------------------------------- */

static void
job_step(struct pop3_session *s)
{
	int rc = s->busy == POP3_B_LIST ? list_step(s) : stream_step(s);

	if (rc == -1) {
		/* The +OK is out: no -ERR may follow within the data. */
		conn_abort(s->c);
		return;
	}
	if (rc == 1) {
		job_end(s);
	}
}

/* LIST / UIDL lines while the output is under half full: 1 at the
 * end (the "." written), 0 to go on when it drains. */
static int
list_step(struct pop3_session *s)
{
	struct conn *c = s->c;

	while (c->out.len < CONN_BUF_SIZE / 2) {
		const struct mbox_msg *m;

		if (s->seq == 0 || s->seq > s->view.exists) {
			(void)conn_write(c, ".\r\n", 3);
			return 1;
		}
		m = mbox_view_seq(&s->view, s->seq);
		if (m != NULL && !mbox_marked(&s->view, m)) {
			if (s->uidl) {
				reply(s, "%u %08x%08x", s->seq, m->uid,
				    mbox_uidvalidity(s->view.mb));
			} else {
				reply(s, "%u %u", s->seq, m->vsize);
			}
		}
		s->seq = s->seq == UINT32_MAX ? 0 : s->seq + 1;
	}
	return 0;
}

/*
 * The body of RETR/TOP as the output takes it: 1 when the final "."
 * is written, 0 to go on when it drains, -1 on a read error. A file
 * that shrank since it was opened simply ends there: the response is
 * dot-terminated, its length was never promised.
 */
static int
stream_step(struct pop3_session *s)
{
	static char rbuf[POP3_CHUNK];
	static char out[CONN_BUF_SIZE];
	struct conn *c = s->c;

	for (;;) {
		size_t room = buf_room(&c->out), want, used, olen;
		ssize_t n;

		if (room > sizeof out) {
			room = sizeof out;
		}
		if (pop3_xfer_done(&s->xf) || s->pos >= s->end) {
			olen = pop3_xfer_end(&s->xf, out, room);
			if (olen == 0) {
				return 0;
			}
			(void)conn_write(c, out, olen);
			return 1;
		}
		if (room < STREAM_MIN_ROOM) {
			return 0;
		}
		want = room / 2;
		if (want > sizeof rbuf) {
			want = sizeof rbuf;
		}
		if ((uint64_t)(s->end - s->pos) < want) {
			want = (size_t)(s->end - s->pos);
		}
		n = pread(s->fd, rbuf, want, s->pos);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			conn_log(c, LOG_LVL_WARN, "login=%s: reading message "
			    "%u: %s", s->login, s->seq, strerror(errno));
			return -1;
		}
		if (n == 0) {
			s->end = s->pos;
			continue;
		}
		used = pop3_xfer_feed(&s->xf, rbuf, (size_t)n, out, room,
		    &olen);
		s->pos += (off_t)used;
		if (olen > 0) {
			(void)conn_write(c, out, olen);
		}
	}
}

/* A job's last byte is out: RETR sets \Seen (the message is looked
 * up again by number: the index may have moved since the start). */
static void
job_end(struct pop3_session *s)
{
	if (s->busy == POP3_B_RETR) {
		close(s->fd);
		s->fd = -1;
		if (s->set_seen) {
			const struct mbox_msg *m = mbox_view_seq(&s->view,
			    s->seq);

			if (m != NULL && !(m->flags & MF_SEEN) &&
			    mbox_store(&s->view, m, m->flags | MF_SEEN,
			    m->keywords) == -1) {
				conn_log(s->c, LOG_LVL_DEBUG, "message %u: "
				    "\\Seen not set: %s", s->seq,
				    strerror(errno));
			}
		}
	}
	s->busy = POP3_B_NONE;
	if (s->draining) {
		reply(s, "-ERR [SYS/TEMP] Server shutting down");
		conn_close(s->c);
	}
}
