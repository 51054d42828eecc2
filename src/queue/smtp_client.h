/* SPDX-License-Identifier: ISC */
/*
 * smtp_client.h - the outbound SMTP client as a state machine without
 * I/O (RFC 5321 3, 4.1, 4.2, 4.5.2, 4.5.3.2; PIPELINING RFC 2920,
 * SIZE RFC 1870, 8BITMIME RFC 6152, SMTPUTF8 RFC 6531, DSN RFC 3461,
 * STARTTLS RFC 3207, AUTH RFC 4954 with PLAIN RFC 4616 and LOGIN).
 *
 * The caller owns the memory, the socket, TLS and the timers; the
 * client owns only its state. One session carries one message to one
 * server:
 *
 *   struct smtp_client sc;
 *   smtp_client_init(&sc, &opts, &msg);
 *   on input:    smtp_client_feed(&sc, buf, n);   (always uses all)
 *   on EOF:      smtp_client_lost(&sc);
 *   on timer:    smtp_client_timeout(&sc);
 *   after each:  while ((a = smtp_client_next(&sc, out, cap, &n)) !=
 *                    SMTP_CLIENT_NONE) {
 *                        WRITE: send out[0..n)
 *                        STARTTLS: handshake, then smtp_client_tls_done
 *                        BODY: smtp_client_body_encode ... _body_end,
 *                              send, then smtp_client_body_done
 *                        DONE: flush, close, read msg.rcpt[i].result
 *                }
 *                and arm the timer for smtp_client_timeout_ms(&sc)
 *                when the state changed (a wait is for a whole reply:
 *                a server trickling bytes does not extend it), and in
 *                BODY each time a block of the message is written.
 *
 * What is sent, in order: EHLO (HELO when EHLO gets a 5xx, RFC 5321
 * 3.2); STARTTLS when the policy says so, then EHLO again (RFC 3207
 * 4.2: what was learned before is forgotten); AUTH PLAIN, else LOGIN,
 * only under TLS; MAIL FROM, RCPT TO for each recipient, DATA (in one
 * write under PIPELINING, else one at a time); the message; QUIT. QUIT
 * is written and the session is DONE at once: its reply is not waited
 * for.
 *
 * Every recipient ends with a result: the server's reply to its RCPT,
 * or to MAIL FROM, DATA or the final "." (MAIL rejected: every
 * recipient gets that reply; DATA or "." answered: every accepted one
 * gets it), or one of our own (code 0) when the server did not say:
 *
 *   4.4.2  connection lost or timed out, at any point (also after the
 *          final "." was sent and before its reply: the message may
 *          then be delivered twice, which every MTA accepts over
 *          losing it; RFC 1047)
 *   4.5.0  the server broke the protocol (bad reply, reply out of turn)
 *   4.7.0  AUTH impossible or failed (credentials and no TLS, no usable
 *          mechanism, 535: deferred, as Postfix does)
 *   4.7.4  TLS required and not offered, or STARTTLS refused
 *   4.7.5  the TLS handshake failed (smtp_client_tls_done(sc, 0))
 *   5.1.3  a recipient address we cannot send (control octets, length)
 *   5.1.7  the same for the sender
 *   5.3.4  the message is over the server's SIZE
 *   5.6.7  the message or an address needs SMTPUTF8, not offered
 *
 * DSN parameters (RET, ENVID, NOTIFY, ORCPT) go only to a server that
 * offers DSN; an ENVID or ORCPT that is not valid xtext, or is over
 * its RFC 3461 length, is left out rather than sent broken.
 *
 * Parsers and protocol engines include only limits.h, their own
 * headers and libc (STYLE.md section 4): this file logs nothing and
 * reads no clock; the caller logs state changes with
 * smtp_client_state_name.
 */
#ifndef WREN_SMTP_CLIENT_H
#define WREN_SMTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "queue/smtp_reply.h"

/* The longest command we write: RCPT TO:<ADDR_MAX> with NOTIFY and an
 * ORCPT of SMTP_ORCPT_MAX, 868 octets. Output space of this size always
 * takes the next command. */
#define SMTP_CLIENT_CMD_MAX	1024

/* Output space the terminator may need: CR LF "." CR LF. */
#define SMTP_CLIENT_BODY_END_MAX	5

/* AUTH PLAIN: authcid and password of at most 255 octets each (RFC
 * 4616 2). */
#define SMTP_AUTH_CRED_MAX	255

/* Waits, RFC 5321 4.5.3.2 (minimums the RFC asks of a client). */
#define SMTP_CLIENT_GREETING_MS	(5 * 60 * 1000)	/* 4.5.3.2.1 */
#define SMTP_CLIENT_CMD_MS	(5 * 60 * 1000)	/* 4.5.3.2.2-3: EHLO,
						 * MAIL, RCPT, and ours:
						 * STARTTLS, AUTH */
#define SMTP_CLIENT_TLS_MS	(5 * 60 * 1000)	/* the handshake (Postfix's
						 * smtp_starttls_timeout) */
#define SMTP_CLIENT_DATA_MS	(2 * 60 * 1000)	/* 4.5.3.2.4: 354 */
#define SMTP_CLIENT_BLOCK_MS	(3 * 60 * 1000)	/* 4.5.3.2.5: each write
						 * of the message */
#define SMTP_CLIENT_DOT_MS	(10 * 60 * 1000) /* 4.5.3.2.6: "." */

enum smtp_tls_policy {
	SMTP_TLS_NONE,		/* never STARTTLS */
	SMTP_TLS_MAY,		/* STARTTLS when offered; in clear when it
				 * is not offered or is refused */
	SMTP_TLS_REQUIRE	/* no TLS: 4.7.4 for every recipient */
};

/* Where a result came from. */
enum smtp_stage {
	SMTP_STAGE_NONE,	/* no result (yet) */
	SMTP_STAGE_CONNECTION,	/* for the caller: the connection could
				 * not be made (never set by the client) */
	SMTP_STAGE_GREETING,
	SMTP_STAGE_EHLO,	/* EHLO or HELO */
	SMTP_STAGE_TLS,		/* STARTTLS or the handshake */
	SMTP_STAGE_AUTH,
	SMTP_STAGE_MAIL,
	SMTP_STAGE_RCPT,
	SMTP_STAGE_DATA,	/* the DATA command */
	SMTP_STAGE_BODY,	/* sending the message */
	SMTP_STAGE_DOT		/* the reply to the final "." */
};

struct smtp_result {
	unsigned	 code;		/* the server's reply code; 0: ours */
	char		 esc[SMTP_ESC_MAX + 1];	/* the server's enhanced
					 * code, or derived from the code
					 * (2.0.0, 4.0.0, 5.0.0), or ours;
					 * esc[0] is '2', '4' or '5' */
	enum smtp_stage	 stage;
	char		 text[SMTP_REPLY_TEXT_MAX + 1];	/* the server's text
					 * (without code and enhanced code),
					 * or ours; NUL ends */
};

/* One recipient. Strings are NUL-terminated and must outlive the
 * session; result is written by the client. */
struct smtp_client_rcpt {
	const char		*addr;		/* no angle brackets */
	unsigned		 notify;	/* DSN_NOTIFY_* (msg/dsn.h);
						 * 0: none */
	const char		*orcpt;		/* as received: addr-type
						 * ";" xtext, passed on
						 * unchanged (RFC 3461 4.2);
						 * NULL or "": none */
	struct smtp_result	 result;
};

struct smtp_client_msg {
	const char		*sender;	/* "" for <> */
	struct smtp_client_rcpt	*rcpt;
	size_t			 nrcpt;		/* 1..SMTP_RCPT_MAX */
	const char		*envid;		/* xtext, as received;
						 * NULL or "": none */
	unsigned		 ret;		/* enum dsn_ret (msg/dsn.h) */
	uint64_t		 size;		/* octets as sent (CR LF) */
	int			 need_8bitmime;
	int			 need_smtputf8;	/* also implied by an
						 * address with 8-bit octets */
};

struct smtp_client_opts {
	const char		*helo;		/* our name, 1..SMTP_HELO_MAX
						 * octets, printable */
	const char		*peer;		/* the server, for our texts
						 * ("mx.example.org[192.0.2.1]") */
	enum smtp_tls_policy	 tls;
	int			 tls_active;	/* implicit TLS (port 465):
						 * the handshake is done */
	const char		*auth_user;	/* NULL: no AUTH */
	const char		*auth_pass;
};

/* States: what we wait for (or are about to write). */
enum smtp_client_state {
	SMTP_CL_GREETING,	/* the server's 220 */
	SMTP_CL_EHLO,
	SMTP_CL_HELO,
	SMTP_CL_STARTTLS,	/* the reply to STARTTLS */
	SMTP_CL_TLS,		/* the caller's handshake */
	SMTP_CL_AUTH,		/* AUTH PLAIN or AUTH LOGIN */
	SMTP_CL_AUTH_USER,	/* LOGIN: the user name was sent */
	SMTP_CL_AUTH_PASS,	/* LOGIN: the password was sent */
	SMTP_CL_MAIL,
	SMTP_CL_RCPT,
	SMTP_CL_DATA,		/* the 354 */
	SMTP_CL_BODY,		/* the caller sends the message */
	SMTP_CL_DOT,		/* the reply to the final "." */
	SMTP_CL_QUIT,		/* QUIT (or "." and QUIT) to write */
	SMTP_CL_DONE,
	SMTP_CL_NSTATES
};

enum smtp_client_action {
	SMTP_CLIENT_NONE,	/* wait for input, tls_done or body_done */
	SMTP_CLIENT_WRITE,	/* send the bytes put in out */
	SMTP_CLIENT_STARTTLS,	/* start the TLS handshake now */
	SMTP_CLIENT_BODY,	/* send the message, then body_done */
	SMTP_CLIENT_DONE	/* over: results are ready (every call
				 * after it returns DONE again) */
};

struct smtp_client {
	enum smtp_client_state	 state;
	struct smtp_client_opts	 opts;
	struct smtp_client_msg	*msg;
	struct smtp_reply	 reply;
	struct smtp_ehlo	 ehlo;		/* what the server offers */
	int			 tls;		/* TLS is up (implicit or
						 * STARTTLS) */
	int			 authed;	/* AUTH succeeded */
	int			 smtputf8;	/* the message needs it */
	/* internal */
	int			 await;		/* a written command waits
						 * for its reply (outside the
						 * transaction) */
	int			 out_due;	/* the command of this state
						 * is still to be written */
	int			 action_due;	/* STARTTLS or BODY to give */
	int			 auth_login;	/* LOGIN, not PLAIN */
	int			 quit_dot;	/* "." before QUIT */
	int			 mail_failed;
	size_t			 accepted;	/* RCPT accepted */
	size_t			 wr_pos;	/* transaction: 0 MAIL,
						 * 1..n RCPT, n+1 DATA */
	size_t			 rd_pos;
	int			 enc_st;	/* body encoder */
	unsigned char		 rst[SMTP_RCPT_MAX];	/* per recipient */
};

/* Sets up a session: greeting awaited. Strings in opts and msg are used
 * in place. -1 when opts or msg cannot make a session: no or a bad helo
 * name, credentials over SMTP_AUTH_CRED_MAX, no recipients or more than
 * SMTP_RCPT_MAX. */
int	smtp_client_init(struct smtp_client *,
	    const struct smtp_client_opts *, struct smtp_client_msg *);

/* Takes server bytes; always uses all of them (a partial reply is kept
 * inside). Bytes after the session is DONE are ignored. */
void	smtp_client_feed(struct smtp_client *, const char *in, size_t len);

/*
 * The next thing for the caller to do. SMTP_CLIENT_WRITE puts *outlen
 * bytes in out[0..cap): whole commands only, as many as pipelining
 * allows and fit; NONE when a command is due but does not fit (send
 * what is queued, then call again; cap >= SMTP_CLIENT_CMD_MAX always
 * fits). STARTTLS and BODY are given once each time they are due.
 */
enum smtp_client_action	smtp_client_next(struct smtp_client *, char *out,
			    size_t cap, size_t *outlen);

/* After SMTP_CLIENT_STARTTLS: the handshake succeeded (ok 1; EHLO is
 * sent again) or failed (ok 0; the session is DONE, 4.7.5). */
void	smtp_client_tls_done(struct smtp_client *, int ok);

/*
 * The message, stored with LF line ends (CR LF and bare CR are taken
 * as line ends too), becomes the DATA stream: CR LF line ends, a '.'
 * doubled at the start of a line (RFC 5321 4.5.2). State is kept
 * across calls, so a line may be split anywhere. Transforms
 * in[0..len) into out[0..cap): returns the input bytes used (fewer
 * than len when out is full; cap >= 2 makes progress) and sets
 * *outlen.
 */
size_t	smtp_client_body_encode(struct smtp_client *, const char *in,
	    size_t len, char *out, size_t cap, size_t *outlen);

/* The end of the message: CR LF "." CR LF, or "." CR LF when the
 * message ended with a line end (or was empty). Returns the bytes
 * written to out, or 0 when cap < SMTP_CLIENT_BODY_END_MAX. */
size_t	smtp_client_body_end(struct smtp_client *, char *out, size_t cap);

/* After SMTP_CLIENT_BODY: the whole message and its end were handed to
 * the connection; the reply to "." is awaited. */
void	smtp_client_body_done(struct smtp_client *);

/* How long the current wait may last, in ms (RFC 5321 4.5.3.2); 0 when
 * nothing is awaited from the server (DONE). */
unsigned	smtp_client_timeout_ms(const struct smtp_client *);

/* The timer fired: pending recipients get 4.4.2, the session is DONE. */
void	smtp_client_timeout(struct smtp_client *);

/* The connection was lost (EOF, read or write error): pending
 * recipients get 4.4.2, the session is DONE. Harmless once DONE. */
void	smtp_client_lost(struct smtp_client *);

/* "GREETING", "EHLO", ... for the caller's debug log. */
const char	*smtp_client_state_name(enum smtp_client_state);

/* "greeting", "ehlo", ... for log lines and bounces. */
const char	*smtp_stage_name(enum smtp_stage);

#endif
