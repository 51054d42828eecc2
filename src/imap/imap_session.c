/* SPDX-License-Identifier: ISC */
/*
 * imap_session.c - the IMAP4rev1 server state machine (RFC 3501 3,
 * 6.1-6.4) with IDLE (RFC 2177), LITERAL+ (7888), SASL-IR (4959),
 * NAMESPACE (2342), ID (2971), ENABLE (5161), UNSELECT (3691) and
 * STARTTLS (3501 6.2.1, RFC 2595).
 *
 *   NOAUTH --LOGIN/AUTHENTICATE--> AUTH --SELECT/EXAMINE--> SELECTED
 *   SELECTED --CLOSE/UNSELECT--> AUTH; LOGOUT from anywhere.
 *
 * Glue only: bytes are framed and parsed by imap_parse.c; the command
 * table below says which states allow each command and who handles
 * it: this file (login, SELECT, IDLE), imap_mailbox.c (LIST, STATUS),
 * imap_fetch.c and imap_search.c (jobs). Output goes through
 * imap_out.c; mailboxes are store/mbox.h views. Untagged EXISTS/EXPUNGE/FETCH go out
 * before each tagged reply, but EXPUNGE never during FETCH, STORE or
 * SEARCH (RFC 3501 7.4.1), and at once to sessions in IDLE.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "core/addr.h"
#include "core/fmt.h"
#include "core/log.h"
#include "core/pool.h"
#include "auth/auth.h"
#include "auth/login.h"
#include "imap/imap_int.h"
#include "msg/base64.h"
#include "msg/mailbox.h"
#include "store/folder.h"
#include "store/maildir.h"
#include "tls/tls.h"

#if WREN_IMAP_REV2
#define CAPA_REV2	"IMAP4rev2 "
#define CAPA_BINARY	" BINARY"
#else
#define CAPA_REV2	""
#define CAPA_BINARY	""
#endif
#define CAPA_BASE	"IMAP4rev1 " CAPA_REV2 "LITERAL+ SASL-IR ID ENABLE IDLE " \
			"NAMESPACE UNSELECT UIDPLUS MOVE MULTIAPPEND " \
			"CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE " \
			"CONDSTORE QRESYNC STATUS=SIZE" CAPA_BINARY \
			CAPA_COMPRESS CAPA_SORT
#if WREN_COMPRESS
#define CAPA_COMPRESS	" COMPRESS=DEFLATE"
#else
#define CAPA_COMPRESS	""
#endif
#if WREN_IMAP_SORT
#define CAPA_SORT	" ESEARCH SEARCHRES SORT SORT=DISPLAY ESORT " \
			"THREAD=ORDEREDSUBJECT THREAD=REFERENCES"
#else
#define CAPA_SORT	""
#endif

static struct {
	struct ev		*ev;
	const struct cfg	*cfg;
	struct maps		*maps;
	struct pool		 sessions;
} imap;

static const char	*imap_refusal(enum conn_refusal);
static int		 imap_open(struct conn *);
static int		 imaps_open(struct conn *);
static void		 imap_input(struct conn *);
static void		 imap_writable(struct conn *);
static void		 imap_timeout(struct conn *);
static void		 imap_drain(struct conn *);
static void		 imap_close(struct conn *);

#define IMAP_PROTO(name_, open_) { \
	.name = name_, .refusal = imap_refusal, .open = open_, \
	.input = imap_input, .writable = imap_writable, \
	.timeout = imap_timeout, .drain = imap_drain, .close = imap_close }

const struct proto imap_proto = IMAP_PROTO("imap", imap_open);
const struct proto imaps_proto = IMAP_PROTO("imaps", imaps_open);

static int	session_open(struct conn *, int implicit_tls);
static uint64_t	login_timeout_ms(void);
static int	drain_now(const struct imap_session *);
static void	set_state(struct imap_session *, enum imap_state);
static void	literal(struct imap_session *, int sync);
static void	void_command(struct imap_session *, enum imap_fr_ev);
static size_t	message_limit(void);
static void	command(struct imap_session *);
static void	cmd_capability(struct imap_session *);
static void	cmd_noop(struct imap_session *);
static void	cmd_logout(struct imap_session *);
static void	cmd_id(struct imap_session *);
static void	cmd_namespace(struct imap_session *);
static void	cmd_enable(struct imap_session *);
static void	cmd_check(struct imap_session *);
static void	cmd_append(struct imap_session *);
static void	cmd_starttls(struct imap_session *);
static void	cmd_login(struct imap_session *);
static void	cmd_authenticate(struct imap_session *);
static void	sasl_plain(struct imap_session *, const char *, size_t);
static void	try_login(struct imap_session *, const char *, size_t,
		    const char *, size_t);
static void	login_delay_done(struct timer *, void *);
static int	login_allowed(const struct imap_session *);
static int	provision(const char *home, struct err *);
static void	cmd_select(struct imap_session *);
static void	cmd_examine(struct imap_session *);
static void	select_mailbox(struct imap_session *, int readonly);
static void	cmd_close(struct imap_session *);
static void	cmd_unselect(struct imap_session *);
static void	close_mailbox(struct imap_session *, int expunge);
static void	cmd_expunge(struct imap_session *);
static void	cmd_idle(struct imap_session *);
static void	idle_line(struct imap_session *, const char *, size_t);
static void	idle_tick(struct timer *, void *);
static void	job_tick(struct timer *, void *);
static void	mailbox_changed(struct mbox_view *);
static const char *capabilities(const struct imap_session *);

/* States as bits, for the command table. */
#define S_NOAUTH	(1u << IMAP_ST_NOAUTH)
#define S_AUTH		(1u << IMAP_ST_AUTH)
#define S_SELECTED	(1u << IMAP_ST_SELECTED)
#define S_LOGGED_IN	(S_AUTH | S_SELECTED)
#define S_ANY		(S_NOAUTH | S_LOGGED_IN)

static const char *const state_name[] = {
	[IMAP_ST_NOAUTH] = "not-authenticated",
	[IMAP_ST_AUTH] = "authenticated",
	[IMAP_ST_SELECTED] = "selected",
	[IMAP_ST_LOGOUT] = "logout",
};

/* Each command, the states that allow it (RFC 3501 6.1-6.4) and its
 * handler. UID FETCH/STORE/SEARCH/COPY/MOVE/EXPUNGE come as their base
 * command with cmd.uid set. */
static const struct {
	enum imap_cmd_name	 cmd;
	unsigned		 states;
	void			(*fn)(struct imap_session *);
} commands[] = {
	{ IMAP_CMD_CAPABILITY,	S_ANY,		cmd_capability },
	{ IMAP_CMD_NOOP,	S_ANY,		cmd_noop },
	{ IMAP_CMD_LOGOUT,	S_ANY,		cmd_logout },
	{ IMAP_CMD_ID,		S_ANY,		cmd_id },
	{ IMAP_CMD_STARTTLS,	S_NOAUTH,	cmd_starttls },
	{ IMAP_CMD_LOGIN,	S_NOAUTH,	cmd_login },
	{ IMAP_CMD_AUTHENTICATE, S_NOAUTH,	cmd_authenticate },
	{ IMAP_CMD_SELECT,	S_LOGGED_IN,	cmd_select },
	{ IMAP_CMD_EXAMINE,	S_LOGGED_IN,	cmd_examine },
	{ IMAP_CMD_LIST,	S_LOGGED_IN,	imap_cmd_list },
	{ IMAP_CMD_LSUB,	S_LOGGED_IN,	imap_cmd_lsub },
	{ IMAP_CMD_STATUS,	S_LOGGED_IN,	imap_cmd_status },
	{ IMAP_CMD_NAMESPACE,	S_LOGGED_IN,	cmd_namespace },
	{ IMAP_CMD_ENABLE,	S_LOGGED_IN,	cmd_enable },
	{ IMAP_CMD_IDLE,	S_LOGGED_IN,	cmd_idle },
	{ IMAP_CMD_CREATE,	S_LOGGED_IN,	imap_cmd_create },
	{ IMAP_CMD_DELETE,	S_LOGGED_IN,	imap_cmd_delete },
	{ IMAP_CMD_RENAME,	S_LOGGED_IN,	imap_cmd_rename },
	{ IMAP_CMD_SUBSCRIBE,	S_LOGGED_IN,	imap_cmd_subscribe },
	{ IMAP_CMD_UNSUBSCRIBE,	S_LOGGED_IN,	imap_cmd_unsubscribe },
	{ IMAP_CMD_APPEND,	S_LOGGED_IN,	cmd_append },
	{ IMAP_CMD_CHECK,	S_SELECTED,	cmd_check },
	{ IMAP_CMD_CLOSE,	S_SELECTED,	cmd_close },
	{ IMAP_CMD_UNSELECT,	S_SELECTED,	cmd_unselect },
	{ IMAP_CMD_EXPUNGE,	S_SELECTED,	cmd_expunge },
	{ IMAP_CMD_FETCH,	S_SELECTED,	imap_fetch_start },
	{ IMAP_CMD_STORE,	S_SELECTED,	imap_store_start },
	{ IMAP_CMD_SEARCH,	S_SELECTED,	imap_search_start },
	{ IMAP_CMD_COPY,	S_SELECTED,	imap_cmd_copy },
	{ IMAP_CMD_MOVE,	S_SELECTED,	imap_cmd_move },
#if WREN_COMPRESS
	{ IMAP_CMD_COMPRESS,	S_LOGGED_IN,	imap_cmd_compress },
#endif
#if WREN_IMAP_SORT
	{ IMAP_CMD_SORT,	S_SELECTED,	imap_sort_start },
	{ IMAP_CMD_THREAD,	S_SELECTED,	imap_thread_start },
#endif
};

int
imap_init(struct ev *ev, struct conn_table *table, const struct cfg *cfg,
    struct maps *maps, size_t max, struct err *e)
{
	memset(&imap, 0, sizeof imap);
	imap.ev = ev;
	imap.cfg = cfg;
	imap.maps = maps;
	if (pool_init(&imap.sessions, "imap", sizeof(struct imap_session),
	    max, e) == -1) {
		return -1;
	}
	if (imap_out_init(ev, max, e) == -1) {
		pool_destroy(&imap.sessions);
		return -1;
	}
	if (mbox_init(ev, max, e) == -1) {
		imap_out_shutdown();
		pool_destroy(&imap.sessions);
		return -1;
	}
	if (mbox_save_init(ev, table, e) == -1) {
		mbox_shutdown();
		imap_out_shutdown();
		pool_destroy(&imap.sessions);
		return -1;
	}
#if WREN_COMPRESS
	if (imap_compress_init(cfg, max, e) == -1) {
		mbox_save_shutdown();
		mbox_shutdown();
		imap_out_shutdown();
		pool_destroy(&imap.sessions);
		return -1;
	}
#endif
	return 0;
}

void
imap_shutdown(void)
{
#if WREN_COMPRESS
	imap_compress_shutdown();
#endif
	mbox_save_shutdown();
	mbox_shutdown();
	imap_out_shutdown();
	pool_destroy(&imap.sessions);
}

size_t
imap_bytes_per_session(void)
{
	return sizeof(struct imap_session);
}

size_t
imap_bytes_per_workspace(void)
{
	return sizeof(struct imap_ws);
}

static void
job_tick(struct timer *t, void *arg)
{
	struct imap_session *s = arg;

	(void)t;
	if (s->busy != IMAP_B_JOB) {
		return;
	}
	if (s->c->flags & (CONN_F_CLOSING | CONN_F_DEAD)) {
		/* It will not go on: others may search meanwhile. */
		imap_job_cancel(s);
		return;
	}
	imap_input(s->c);
}

/* --- connection hooks ------------------------------------------------ */

static const char *
imap_refusal(enum conn_refusal why)
{
	switch (why) {
	case CONN_REFUSE_PER_IP:
		return "* BYE Too many connections from your address\r\n";
	case CONN_REFUSE_SHUTDOWN:
		return "* BYE Server shutting down\r\n";
	default:
		return "* BYE Server busy, too many connections\r\n";
	}
}

static int
imap_open(struct conn *c)
{
	return session_open(c, 0);
}

/* RFC 8314: TLS from the first byte; the greeting waits in c->out. */
static int
imaps_open(struct conn *c)
{
	if (tls_start_now(c) == -1) {
		return -1;
	}
	return session_open(c, 1);
}

static int
session_open(struct conn *c, int implicit_tls)
{
	struct imap_session *s = pool_get(&imap.sessions);

	if (s == NULL) {
		const char *r = imap_refusal(CONN_REFUSE_FULL);

		conn_write(c, r, strlen(r));
		return -1;
	}
	memset(s, 0, sizeof *s);
	s->c = c;
	s->cfg = imap.cfg;
	s->tls = s->implicit_tls = implicit_tls;
	imap_framer_init(&s->fr);
	timer_init(&s->delay, login_delay_done, s);
	timer_init(&s->idle_tick, idle_tick, s);
	timer_init(&s->job_tick, job_tick, s);
	c->sess = s;
	if (addr_text(s->ip, sizeof s->ip, c->family, c->addr) == -1) {
		memcpy(s->ip, "?", 2);
	}
	/* Before login: login_timeout, which is also the session
	 * deadline (conn.h); RFC 3501 5.4's 30 minutes (imap_timeout)
	 * apply once logged in. */
	conn_set_timeout(c, login_timeout_ms());
	(void)imap_outf(s, "* OK [CAPABILITY %s] wren ready\r\n",
	    capabilities(s));
	return 0;
}

/* Before login: login_timeout, as the idle timeout and as the
 * session deadline (conn.h), counted from the connect. */
static uint64_t
login_timeout_ms(void)
{
	return (uint64_t)cfg_num(imap.cfg, CFG_LOGIN_TIMEOUT) * 1000;
}

/*
 * Everything that can be done with the input now. A command's bytes
 * go through the framer into the workspace; a complete command runs.
 * Jobs and the spill stop reading until the output drains.
 */
static void
imap_input(struct conn *c)
{
	struct imap_session *s = c->sess;

	if (s->busy == IMAP_B_STARTTLS) {
		/* Nothing is read between STARTTLS and the handshake; what
		 * the client pipelined in the clear is dropped by the core
		 * when TLS starts. */
		if (c->filter == NULL) {
			return;
		}
		s->busy = IMAP_B_NONE;
		if (s->ws != NULL) {
			s->ws->len = 0;
		}
	}
	while (!(c->flags & (CONN_F_CLOSING | CONN_F_DEAD))) {
		const char *in;
		size_t used, keep, lit_max;
		enum imap_fr_ev ev;

		if (s->ws != NULL && s->ws->spill_len > 0 &&
		    imap_spill_drain(s) == 0) {
			break;
		}
		if (s->busy == IMAP_B_JOB) {
			imap_job_step(s);
			if (s->busy == IMAP_B_JOB) {
				break;
			}
			continue;
		}
		if (c->table->draining && drain_now(s)) {
			/* Shutdown: the work left in flight is done. */
			(void)imap_outf(s, "* BYE Server shutting down\r\n");
			conn_close(c);
			break;
		}
		if (c->out.len > c->out.cap / 2 || s->busy ==
		    IMAP_B_DELAY || s->busy == IMAP_B_STARTTLS) {
			break;
		}
		if (c->in.len == 0) {
			break;
		}
		if (s->busy == IMAP_B_IDLE || s->busy == IMAP_B_SASL) {
			/* One line, not a command: DONE, or the SASL
			 * response. */
			const char *nl = memchr(buf_head(&c->in), '\n',
			    c->in.len);
			size_t len;

			if (nl == NULL) {
				if (c->in.len == CONN_BUF_SIZE) {
					conn_consume(c, c->in.len);
					(void)imap_outf(s, "* BYE Line too "
					    "long\r\n");
					conn_close(c);
				}
				break;
			}
			len = (size_t)(nl - buf_head(&c->in));
			used = len + 1;
			if (len > 0 && nl[-1] == '\r') {
				len--;
			}
			if (s->busy == IMAP_B_IDLE) {
				idle_line(s, buf_head(&c->in), len);
			} else {
				if (imap_ws_take(s) == -1) {
					break;
				}
				sasl_plain(s, buf_head(&c->in), len);
			}
			if (!(c->flags & CONN_F_DEAD)) {
				conn_consume(c, used);
			}
			continue;
		}
		if (imap_ws_take(s) == -1) {
			break;
		}
		in = buf_head(&c->in);
		lit_max = s->state == IMAP_ST_NOAUTH ?
		    IMAP_LITERAL_PRELOGIN_MAX : IMAP_LITERAL_MAX;
		if (s->state != IMAP_ST_NOAUTH) {
			/* An APPEND's message goes to the store, not the
			 * workspace: its limit is the configured one. The
			 * framer cannot know the command yet, so literal()
			 * holds other commands to IMAP_LITERAL_MAX. */
			lit_max = message_limit();
		}
		ev = imap_frame(&s->fr, in, c->in.len, lit_max, &used, &keep);
		if (keep > 0) {
			if (s->ws->len + keep <= sizeof s->ws->buf) {
				memcpy(s->ws->buf + s->ws->len, in, keep);
			}
			s->ws->len += keep;
		}
		if (ev == IMAP_FR_LIT_DATA) {
			imap_append_data(s, in, used);
		}
		conn_consume(c, used);
		switch (ev) {
		case IMAP_FR_NEED:
		case IMAP_FR_LIT_DATA:
			break;
		case IMAP_FR_CONT:
		case IMAP_FR_LITERAL:
			literal(s, ev == IMAP_FR_CONT);
			break;
		case IMAP_FR_TOO_LONG:
		case IMAP_FR_LIT_TOO_BIG:
			void_command(s, ev);
			break;
		case IMAP_FR_LIT_PLUS_TOO_BIG:
			(void)imap_outf(s, "* BYE Literal too big\r\n");
			conn_close(c);
			return;
		case IMAP_FR_CMD:
			if (s->ws->appending) {
				imap_append_end(s);
			} else if (s->ws->len > sizeof s->ws->buf) {
				memcpy(s->ws->tag, "*", 2);
				imap_bad(s, "Command too long");
			} else {
				command(s);
			}
			if (s->ws != NULL) {
				s->ws->len = 0;
			}
			break;
		}
	}
	/* A session between commands, or in IDLE, holds no workspace
	 * (nor lends one to its connection). */
	if (s->busy != IMAP_B_JOB && c->out_own != NULL) {
		(void)conn_out_reclaim(c);
	}
	if ((s->busy == IMAP_B_NONE || s->busy == IMAP_B_IDLE) &&
	    c->out_own == NULL &&
	    s->ws != NULL && s->ws->len == 0 && s->ws->spill_len == 0 &&
	    c->in.len == 0 && !(c->flags & CONN_F_DEAD)) {
		imap_ws_release(s);
	}
}

/* The largest literal after login: an APPEND's message. */
static size_t
message_limit(void)
{
	int64_t n = cfg_num(imap.cfg, CFG_MESSAGE_SIZE_LIMIT);

	return n > IMAP_LITERAL_MAX ? (size_t)n : IMAP_LITERAL_MAX;
}

/* A literal was announced ("+" owed when sync): an APPEND's message
 * goes to the store as it comes; any other is kept. */
static void
literal(struct imap_session *s, int sync)
{
	int r;

	if (!imap_append_command(s)) {
		if (s->fr.lits > IMAP_LITERAL_MAX) {
			void_command(s, IMAP_FR_LIT_TOO_BIG);
			imap_framer_void(&s->fr, !sync);
			return;
		}
		r = 0;
	} else {
		r = imap_append_literal(s, s->fr.lit_size, sync);
	}
	if (r == 1) {
		imap_framer_stream(&s->fr);
		/* A client's last small segment (the CRLF after the
		 * message) waits for our ACK under Nagle: ACK at once. */
		conn_quickack(s->c, 1);
	}
	if (r >= 0 && sync) {
		(void)imap_outf(s, "+ Ready for literal data\r\n");
	}
}

/* A command too long, or with a literal over the limit: void. An
 * APPEND's message over message_size_limit is NO [TOOBIG] (RFC 7889),
 * anything else BAD. */
static void
void_command(struct imap_session *s, enum imap_fr_ev ev)
{
	size_t tl;
	int append = imap_append_command(s), was = s->ws->appending;

	imap_append_cancel(s);
	if (!was && imap_tag_get(s->ws->buf, s->ws->len, &tl) == 0 &&
	    tl <= IMAP_TAG_MAX) {
		memcpy(s->ws->tag, s->ws->buf, tl);
		s->ws->tag[tl] = '\0';
	}
	if (append && ev == IMAP_FR_LIT_TOO_BIG) {
		imap_tagged(s, "NO", "[TOOBIG] Message too large (limit %lld "
		    "bytes)", (long long)cfg_num(imap.cfg,
		    CFG_MESSAGE_SIZE_LIMIT));
	} else {
		imap_bad(s, imap_strerror(ev == IMAP_FR_TOO_LONG ?
		    IMAP_PE_LINE_LONG : IMAP_PE_LIT_BIG));
	}
	s->ws->len = 0;
}

static void
imap_writable(struct conn *c)
{
	imap_input(c);
}

static void
imap_timeout(struct conn *c)
{
	struct imap_session *s = c->sess;
	const char *version, *cipher;

	if (s->tls && !tls_info(c, &version, &cipher)) {
		conn_abort(c);	/* a stalled handshake: nobody to tell */
		return;
	}
	(void)imap_outf(s, "* BYE Disconnected for inactivity\r\n");
	conn_close(c);
}

/* Shutdown: a FETCH/STORE/SEARCH producing output, or a command
 * still arriving (an APPEND literal), is finished first: a BYE in the
 * middle of a literal would corrupt it; imap_input says BYE after it,
 * and shutdown_timeout bounds the wait. Other sessions (IDLE among
 * them) are told at once; a TLS handshake cannot be told anything. */
static void
imap_drain(struct conn *c)
{
	struct imap_session *s = c->sess;
	const char *version, *cipher;

	if (s->tls && !tls_info(c, &version, &cipher)) {
		conn_abort(c);
		return;
	}
	if (!drain_now(s)) {
		return;
	}
	(void)imap_outf(s, "* BYE Server shutting down\r\n");
	conn_close(c);
}

/* 1 when the session is between commands: nothing would be cut by a
 * BYE now. */
static int
drain_now(const struct imap_session *s)
{
	return s->busy != IMAP_B_JOB && (s->ws == NULL || (s->ws->len == 0 &&
	    s->ws->spill_len == 0));
}

static void
imap_close(struct conn *c)
{
	struct imap_session *s = c->sess;

	if (s == NULL) {
		return;
	}
	imap_job_cancel(s);
	imap_append_cancel(s);
	mbox_unselect(&s->view);
	ev_timer_cancel(imap.ev, &s->delay);
	ev_timer_cancel(imap.ev, &s->idle_tick);
	ev_timer_cancel(imap.ev, &s->job_tick);
	imap_ws_release(s);
	explicit_bzero(s, sizeof *s);
	c->sess = NULL;
	(void)pool_put(&imap.sessions, s);
}

/* --- commands -------------------------------------------------------- */

static void
set_state(struct imap_session *s, enum imap_state to)
{
	conn_log(s->c, LOG_LVL_DEBUG, "%s -> %s", state_name[s->state],
	    state_name[to]);
	s->state = to;
}

/* A complete command in the workspace: parsed, checked against the
 * session's state, run. */
static void
command(struct imap_session *s)
{
	struct imap_ws *ws = s->ws;
	struct imap_cmd *cmd = &ws->cmd;
	enum imap_perr pe = imap_cmd_parse(ws->buf, ws->len, cmd);
	unsigned st = 1u << s->state;

	if (cmd->tag_len > 0 && cmd->tag_len <= IMAP_TAG_MAX) {
		memcpy(ws->tag, cmd->tag, cmd->tag_len);
		ws->tag[cmd->tag_len] = '\0';
	} else {
		memcpy(ws->tag, "*", 2);
	}
	if (pe != IMAP_PE_OK) {
		if (pe != IMAP_PE_EMPTY) {	/* a stray empty line */
			imap_bad(s, imap_strerror(pe));
		}
		return;
	}
#if WREN_IMAP_SORT
	imap_searchres_cmd(s);		/* "$" (RFC 5182) */
#endif
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (commands[i].cmd != cmd->cmd) {
			continue;
		}
		if (commands[i].states & st) {
			commands[i].fn(s);
		} else if (s->state == IMAP_ST_NOAUTH) {
			imap_bad(s, "Log in first");
		} else if (commands[i].states == S_NOAUTH) {
			imap_bad(s, "Already logged in");
		} else {
			imap_bad(s, "No mailbox selected");
		}
		return;
	}
	imap_bad(s, "Unknown command");
}

static void
cmd_noop(struct imap_session *s)
{
	if (s->state == IMAP_ST_SELECTED) {
		mbox_sync(s->view.mb);
	}
	imap_updates(s, 1);
	imap_tagged(s, "OK", "NOOP completed");
}

static void
cmd_logout(struct imap_session *s)
{
	(void)imap_outf(s, "* BYE Logging out\r\n");
	imap_tagged(s, "OK", "LOGOUT completed");
	set_state(s, IMAP_ST_LOGOUT);
	conn_close(s->c);
}

static void
cmd_id(struct imap_session *s)
{
	(void)imap_outf(s, "* ID (\"name\" \"wren\")\r\n");
	imap_tagged(s, "OK", "ID completed");
}

static void
cmd_namespace(struct imap_session *s)
{
	(void)imap_outf(s, "* NAMESPACE ((\"\" \".\")) NIL NIL\r\n");
	imap_tagged(s, "OK", "NAMESPACE completed");
}

static void
cmd_enable(struct imap_session *s)
{
	imap_cs_enable(s);	/* CONDSTORE, QRESYNC (RFC 7162 3.2.3) */
}

static void
cmd_check(struct imap_session *s)
{
	mbox_sync(s->view.mb);
	imap_updates(s, 1);
	imap_tagged(s, "OK", "CHECK completed");
}

/* An APPEND whose message came as no literal at all (a quoted string
 * or an atom): the grammar wants a literal (RFC 3501 9: append). The
 * ones with literals never get here: imap_append.c takes them. */
static void
cmd_append(struct imap_session *s)
{
	imap_bad(s, "The message must be sent as a literal");
}

static const char *
capabilities(const struct imap_session *s)
{
	static char capa[512];
	int n;

	/* Before login: how to log in; after: what there is to use
	 * (RFC 3501 6.2.1, 7.2.1), APPENDLIMIT among it (RFC 7889). */
	if (s->state == IMAP_ST_NOAUTH) {
		n = fmt(capa, sizeof capa, "%s APPENDLIMIT=%lld%s%s",
		    CAPA_BASE, (long long)cfg_num(imap.cfg,
		    CFG_MESSAGE_SIZE_LIMIT), !s->tls && tls_available() ?
		    " STARTTLS" : "", login_allowed(s) ? " AUTH=PLAIN" :
		    " LOGINDISABLED");
	} else {
		n = fmt(capa, sizeof capa, "%s APPENDLIMIT=%lld", CAPA_BASE,
		    (long long)cfg_num(imap.cfg, CFG_MESSAGE_SIZE_LIMIT));
	}
	return n >= 0 && n < (int)sizeof capa ? capa : CAPA_BASE;
}

static void
cmd_capability(struct imap_session *s)
{
	(void)imap_outf(s, "* CAPABILITY %s\r\n", capabilities(s));
	imap_tagged(s, "OK", "CAPABILITY completed");
}

/* The OK goes out in the clear, then TLS starts; bytes the client
 * pipelined after STARTTLS are dropped by the core (CVE-2011-0411). */
static void
cmd_starttls(struct imap_session *s)
{
	if (s->tls) {
		imap_bad(s, "TLS is already "
		    "active");
		return;
	}
	if (!tls_available()) {
		imap_tagged(s, "NO", "TLS not available");
		return;
	}
	imap_tagged(s, "OK", "Begin TLS negotiation now");
	if (tls_start_after_flush(s->c) == -1) {
		(void)imap_outf(s, "* BYE TLS not available now\r\n");
		conn_close(s->c);
		return;
	}
	s->tls = 1;
	s->busy = IMAP_B_STARTTLS;
	imap_framer_init(&s->fr);
}

/* tls_auth_only (SPEC section 3), as for SMTP AUTH. */
static int
login_allowed(const struct imap_session *s)
{
	return login_cleartext_ok(imap.cfg, s->c, s->tls);
}

static void
cmd_login(struct imap_session *s)
{
	struct imap_cmd *cmd = &s->ws->cmd;
	char user[ADDR_MAX + 2], pw[AUTH_PASSWORD_MAX + 2];
	size_t ulen, plen;

	if (!login_allowed(s)) {
		imap_tagged(s, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
		return;
	}
	if (cmd->nargs != 2 || imap_arg_str(&cmd->args[0], user,
	    sizeof user - 1, &ulen) == -1) {
		imap_bad(s, "Invalid arguments");
		return;
	}
	if (imap_arg_str(&cmd->args[cmd->args[0].next], pw, sizeof pw - 1,
	    &plen) == -1) {
		plen = sizeof pw - 1;	/* too long: fails below */
		memset(pw, 0, sizeof pw);
	}
	try_login(s, user, ulen, pw, plen);
	explicit_bzero(pw, sizeof pw);
}

/* AUTHENTICATE PLAIN, with the initial response on the line (SASL-IR,
 * RFC 4959) or after a "+ ". */
static void
cmd_authenticate(struct imap_session *s)
{
	struct imap_cmd *cmd = &s->ws->cmd;
	char ir[IMAP_LINE_MAX];
	size_t irlen;

	if (!imap_arg_is(&cmd->args[0], "PLAIN")) {
		imap_tagged(s, "NO", "Unsupported authentication mechanism");
		return;
	}
	if (!login_allowed(s)) {
		imap_tagged(s, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
		return;
	}
	if (cmd->nargs < 2) {
		s->busy = IMAP_B_SASL;
		(void)imap_outf(s, "+ \r\n");
		return;
	}
	if (imap_arg_str(&cmd->args[cmd->args[0].next], ir, sizeof ir,
	    &irlen) == -1) {
		imap_bad(s, "Invalid initial response");
		return;
	}
	sasl_plain(s, ir, irlen);
}

static void
sasl_plain(struct imap_session *s, const char *line, size_t len)
{
	unsigned char buf[2 * ADDR_MAX + AUTH_PASSWORD_MAX + 8];
	const char *user = NULL, *pw = NULL;
	size_t ulen = 0, pwlen = 0;
	long n;

	s->busy = IMAP_B_NONE;
	if (len == 1 && line[0] == '*') {
		imap_tagged(s, "BAD", "Authentication aborted");
		return;
	}
	if (len == 1 && line[0] == '=') {
		n = 0;
	} else if ((n = base64_decode(line, len, buf, sizeof buf)) < 0) {
		imap_tagged(s, "BAD", "Invalid base64 response");
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
try_login(struct imap_session *s, const char *user, size_t ulen,
    const char *pw, size_t pwlen)
{
	struct login l;
	struct err e;

	switch (login_check(imap.cfg, imap.maps, s->c, s->ip, user, ulen, pw,
	    pwlen, ev_now(imap.ev) / 1000 + 1, 1, &l)) {
	case LOGIN_OK:
		/* INBOX always exists (RFC 3501 6.3.1): an account that
		 * never received mail gets its Maildir now, as Dovecot
		 * creates it at first login. */
		if (maildir_ensure(l.home, &e) == -1 ||
		    provision(l.home, &e) == -1) {
			conn_log(s->c, LOG_LVL_WARN, "login %s: %s", l.name,
			    e.msg);
			imap_tagged(s, "NO", "[UNAVAILABLE] Mailbox not "
			    "available");
			return;
		}
		memcpy(s->login, l.name, sizeof s->login);
		memcpy(s->home, l.home, sizeof s->home);
		set_state(s, IMAP_ST_AUTH);
		conn_clear_deadline(s->c);
		conn_set_timeout(s->c, (uint64_t)cfg_num(imap.cfg,
		    CFG_IMAP_TIMEOUT) * 1000);
		imap_tagged(s, "OK", "[CAPABILITY %s] Logged in",
		    capabilities(s));
		return;
	case LOGIN_THROTTLED:
		imap_tagged(s, "NO", "[UNAVAILABLE] Too many authentication "
		    "failures; try again later");
		return;
	case LOGIN_TEMPFAIL:
		imap_tagged(s, "NO", "[UNAVAILABLE] Temporary authentication "
		    "failure");
		return;
	case LOGIN_NO_HOME:
		imap_tagged(s, "NO", "[UNAVAILABLE] Account not available");
		return;
	case LOGIN_FAIL:
		break;
	}
	/* The answer waits auth_fail_delay; others are served meanwhile. */
	s->busy = IMAP_B_DELAY;
	if (ev_timer_in(imap.ev, &s->delay, (uint64_t)cfg_num(imap.cfg,
	    CFG_AUTH_FAIL_DELAY) * 1000) == -1) {
		login_delay_done(&s->delay, s);
	}
}

/* First login: Sent, Drafts, Trash, Junk and Archive (RFC 6154), as
 * Dovecot's auto = subscribe mailboxes; a few stat calls after. */
static int
provision(const char *home, struct err *e)
{
	char root[FOLDER_PATH_MAX];

	if (fmt(root, sizeof root, "%s/Maildir", home) >= (int)sizeof root) {
		return err_set(e, "home path too long");
	}
	return folder_provision(root, e) == FOLDER_OK ? 0 : -1;
}

static void
login_delay_done(struct timer *t, void *arg)
{
	struct imap_session *s = arg;

	(void)t;
	s->busy = IMAP_B_NONE;
	imap_tagged(s, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
	if (!(s->c->flags & (CONN_F_DEAD | CONN_F_CLOSING))) {
		imap_input(s->c);
	}
}

static void
cmd_select(struct imap_session *s)
{
	select_mailbox(s, 0);
}

static void
cmd_examine(struct imap_session *s)
{
	select_mailbox(s, 1);
}

static void
select_mailbox(struct imap_session *s, int readonly)
{
	struct imap_cmd *cmd = &s->ws->cmd;
	char name[IMAP_MAILBOX_MAX + 1], path[MBOX_PATH_MAX];
	char flags[32 * MAILDIR_KEYWORDS_MAX];
	size_t nlen, fl = 0;
	struct err e;
	uint32_t unseen;

	if (s->state == IMAP_ST_SELECTED) {
		/* RFC 3501 6.3.1: the old one is closed, no expunge. */
		mbox_unselect(&s->view);
		set_state(s, IMAP_ST_AUTH);
		(void)imap_outf(s, "* OK [CLOSED] Previous mailbox closed\r\n");
	}
	if (imap_name_arg(s, &cmd->args[0], name, sizeof name, &nlen) ==
	    -1 || imap_mailbox_path(s, name, nlen, path, sizeof path) == -1) {
		imap_tagged(s, "NO", "[NONEXISTENT] No such mailbox");
		return;
	}
	if (imap_cs_select_args(s) == -1) {
		return;
	}
	s->view.changed = mailbox_changed;
	if (mbox_select(path, &s->view, readonly, &e) == -1) {
		conn_log(s->c, LOG_LVL_INFO, "select %.*s: %s", (int)nlen,
		    name, e.msg);
		imap_tagged(s, "NO", "[NONEXISTENT] No such mailbox");
		return;
	}
	set_state(s, IMAP_ST_SELECTED);
	if (fmt(s->selected, sizeof s->selected, "%.*s", (int)nlen, name) >=
	    (int)sizeof s->selected) {
		/* Only logs read it: cut, and say so. */
		memcpy(s->selected + sizeof s->selected - 4, "...", 4);
	}
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		const char *k = mbox_keyword_name(s->view.mb, i);

		if (k != NULL && fl + strlen(k) + 2 < sizeof flags) {
			flags[fl++] = ' ';
			memcpy(flags + fl, k, strlen(k));
			fl += strlen(k);
		}
	}
	(void)imap_outf(s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft%.*s)\r\n", (int)fl, flags);
	(void)imap_outf(s, "* OK [PERMANENTFLAGS (%s\\Answered \\Flagged "
	    "\\Deleted \\Seen \\Draft%.*s \\*)] Flags permitted\r\n",
	    "", (int)fl, flags);
	(void)imap_outf(s, "* %u EXISTS\r\n", s->view.exists);
	if (s->rev2) {
		/* RFC 9051 6.3.2: the name as the server has it, and
		 * neither RECENT nor UNSEEN (appendix E 6, 8). */
		imap_rev2_select_list(s, name, nlen);
	} else {
		(void)imap_outf(s, "* %u RECENT\r\n", s->view.nrecent);
	}
	unseen = s->rev2 ? 0 : mbox_view_first_unseen(&s->view);
	if (unseen != 0) {
		(void)imap_outf(s, "* OK [UNSEEN %u] First unseen\r\n", unseen);
	}
	(void)imap_outf(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n",
	    mbox_uidvalidity(s->view.mb));
	(void)imap_outf(s, "* OK [UIDNEXT %u] Predicted next UID\r\n",
	    mbox_uidnext(s->view.mb));
	if (imap_cs_select_end(s) == 1) {
		return;		/* the resync job answers */
	}
	imap_tagged(s, "OK", "[%s] %s completed", readonly ? "READ-ONLY" :
	    "READ-WRITE", readonly ? "EXAMINE" : "SELECT");
}

static void
cmd_close(struct imap_session *s)
{
	close_mailbox(s, 1);
}

static void
cmd_unselect(struct imap_session *s)
{
	close_mailbox(s, 0);
}

static void
close_mailbox(struct imap_session *s, int expunge)
{
	if (expunge && !s->view.readonly) {
		(void)mbox_expunge(&s->view, NULL, NULL, NULL, NULL);
	}
	mbox_unselect(&s->view);
	set_state(s, IMAP_ST_AUTH);
	imap_tagged(s, "OK", "%s completed", expunge ? "CLOSE" : "UNSELECT");
}

/* UID EXPUNGE (RFC 4315 2.1): only the messages in the UID set. */
static int
uid_in_set(void *arg, uint32_t uid)
{
	struct imap_session *s = arg;
	const struct imap_arg *a = &s->ws->cmd.args[0];
	struct imap_seqset_iter it;
	uint32_t lo, hi;

	imap_seqset_begin(&it, a->p, a->len, mbox_view_last_uid(&s->view));
	while (imap_seqset_next(&it, &lo, &hi) == 1) {
		if (uid >= lo && uid <= hi) {
			return 1;
		}
	}
	return 0;
}

static void
cmd_expunge(struct imap_session *s)
{
	if (s->view.readonly) {
		imap_tagged(s, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	imap_updates(s, 1);
	if (mbox_expunge(&s->view, s->ws->cmd.uid ? uid_in_set : NULL, s,
	    imap_update_event, s) == -1) {
		imap_tagged(s, "NO", "Some messages could not be expunged");
		return;
	}
	if (s->condstore) {	/* RFC 7162 3.1.10 */
		imap_tagged(s, "OK", "[HIGHESTMODSEQ %llu] EXPUNGE completed",
		    (unsigned long long)mbox_highestmodseq(s->view.mb));
		return;
	}
	imap_tagged(s, "OK", "EXPUNGE completed");
}

/* RFC 2177: updates flow at once until DONE; a keep-alive every few
 * minutes keeps NAT boxes from dropping the connection. */
static void
cmd_idle(struct imap_session *s)
{
	/* The continuation first, as Dovecot: a client waits for it
	 * before it reads updates as IDLE's. */
	(void)imap_outf(s, "+ idling\r\n");
	imap_updates(s, 1);
	s->busy = IMAP_B_IDLE;
	memcpy(s->idle_tag, s->ws->tag, sizeof s->idle_tag);
	(void)ev_timer_in(imap.ev, &s->idle_tick, 2 * 60 * 1000);
}

static void
idle_line(struct imap_session *s, const char *line, size_t len)
{
	ev_timer_cancel(imap.ev, &s->idle_tick);
	s->busy = IMAP_B_NONE;
	if (imap_ws_take(s) == -1) {
		conn_abort(s->c);
		return;
	}
	memcpy(s->ws->tag, s->idle_tag, sizeof s->ws->tag);
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0) {
		imap_updates(s, 1);
		imap_tagged(s, "OK", "IDLE terminated");
	} else {
		imap_tagged(s, "BAD", "Expected DONE");
	}
}

static void
idle_tick(struct timer *t, void *arg)
{
	struct imap_session *s = arg;

	(void)t;
	if (s->busy != IMAP_B_IDLE) {
		return;
	}
	if (s->state == IMAP_ST_SELECTED) {
		mbox_sync(s->view.mb);
		imap_updates(s, 1);
	}
	(void)imap_outf(s, "* OK Still here\r\n");
	(void)ev_timer_in(imap.ev, &s->idle_tick, 2 * 60 * 1000);
}

/* Another hand changed a folder: a session in IDLE on it hears now.
 * The folder calls each of its views; the view is the session's. */
static void
mailbox_changed(struct mbox_view *v)
{
	struct imap_session *s = (struct imap_session *)(void *)
	    ((char *)v - offsetof(struct imap_session, view));

	if (s->c != NULL && s->busy == IMAP_B_IDLE) {
		imap_updates(s, 1);
	}
}
