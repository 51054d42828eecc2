/* SPDX-License-Identifier: ISC */
/*
 * test_smtp_client.c - the outbound SMTP client state machine
 * (queue/smtp_client.h) driven without sockets, as test_smtp_session.c
 * drives the server: whole sessions from a table, then the message
 * body encoder, then the checks smtp_client_init makes.
 *
 * A session row is a description, the options (TLS policy, implicit
 * TLS, credentials), one of the messages below, and a script of steps:
 * server bytes fed to the client (IN, REP for a line repeated many
 * times, INN for bytes with NULs), or an event: K / F the TLS handshake
 * succeeded / failed, D the caller sends the message ("hi\n") and
 * calls body_done, T the timer fires, L the connection is lost. After
 * every step the client's actions are pulled until none is left, into
 * a transcript: each WRITE's bytes and "|", "<TLS>" for STARTTLS,
 * "<BODY>" for BODY, "<Tms>" before a timeout, "<DONE>" once. The row
 * gives the exact transcript and every recipient's result as
 * "code esc stage text" lines.
 *
 * Each row runs three ways: every step fed whole; every step fed byte
 * by byte (the "|" must fall at the same places: a multi-line reply
 * split anywhere changes nothing); and with 100 octets of output space
 * (pipelined commands then go in several writes, so "|" is not
 * compared). A row marked whole-only depends on bytes arriving
 * together (a reply glued to the one before). At least half of the
 * rows are hostile or broken servers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msg/dsn.h"
#include "queue/smtp_client.h"
#include "testutil.h"

#define OUT_MAX		(64 * 1024)

/* --- messages ------------------------------------------------------ */

enum { M1, M3, MDSN, MUTF8, MBAD, MBIG, NMSG };

struct msg_tpl {
	const char	*sender;
	size_t		 nrcpt;
	const char	*rcpt[4];
	unsigned	 notify[4];
	const char	*orcpt[4];
	const char	*envid;
	unsigned	 ret;
	uint64_t	 size;
	int		 b8;
	int		 utf8;
};

static const struct msg_tpl msgs[NMSG] = {
	[M1] = { "a@example.org", 1, { "b@example.net" }, .size = 1000 },
	[M3] = { "a@example.org", 3,
	    { "b@example.net", "c@example.net", "d@example.net" },
	    .size = 1000 },
	[MDSN] = { "a@example.org", 2, { "b@example.net", "c@example.net" },
	    { DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE, DSN_NOTIFY_NEVER },
	    { "rfc822;b+2Bx@example.net", "no addr-type" },
	    "abc+2Bdef", DSN_RET_FULL, 1000, 1, 0 },
	[MUTF8] = { "a@example.org", 1, { "j\xc3\xbcrgen@example.net" },
	    .size = 1000 },
	[MBAD] = { "", 3, { "b\r\nDATA@example.net", "c@example.net", "" },
	    .size = 1000 },
	[MBIG] = { "a@example.org", 1, { "b@example.net" }, .size = 100000 },
};

/* --- session rows --------------------------------------------------- */

struct step {
	const char	*s;	/* 'S' + bytes, or one event letter */
	size_t		 len;
	unsigned	 rep;	/* bytes fed this many times (0: once) */
};

#define IN(x)		{ "S" x, sizeof("S" x) - 1, 0 }
#define INN(x)		{ "S" x, sizeof("S" x) - 1, 0 }
#define REP(x, n)	{ "S" x, sizeof("S" x) - 1, (n) }
#define EV(x)		{ x, 1, 0 }
#define K		EV("K")
#define F		EV("F")
#define D		EV("D")
#define TO		EV("T")
#define L		EV("L")

struct session_case {
	const char		*desc;
	int			 msg;
	enum smtp_tls_policy	 tls;
	int			 tls_active;
	int			 auth;		/* user "user", pass "pass" */
	int			 whole_only;
	struct step		 steps[16];
	const char		*out;
	const char		*res;
};

#define HOST		"mx.example.net"
#define G		IN("220 " HOST " ESMTP\r\n")
#define E		IN("250 " HOST "\r\n")
#define E_PIPE		IN("250-" HOST "\r\n250 PIPELINING\r\n")
#define E_TLS		IN("250-" HOST "\r\n250-PIPELINING\r\n" \
			    "250 STARTTLS\r\n")
#define OK		IN("250 ok\r\n")
#define GO		IN("354 go ahead\r\n")

#define C_EHLO		"EHLO client.example.org\r\n|"
#define C_HELO		"HELO client.example.org\r\n|"
#define C_MAIL		"MAIL FROM:<a@example.org>\r\n|"
#define C_RCPT(x)	"RCPT TO:<" x "@example.net>\r\n|"
#define C_DATA		"DATA\r\n|"
#define C_BODY		"<BODY>hi\r\n.\r\n|"
#define C_QUIT		"QUIT\r\n|<DONE>"
#define C_TLS		"STARTTLS\r\n|<TLS>"
#define C_PIPE3		"MAIL FROM:<a@example.org>\r\n" \
			"RCPT TO:<b@example.net>\r\n" \
			"RCPT TO:<c@example.net>\r\n" \
			"RCPT TO:<d@example.net>\r\nDATA\r\n|"
#define C_PIPE1		"MAIL FROM:<a@example.org>\r\n" \
			"RCPT TO:<b@example.net>\r\nDATA\r\n|"
#define C_TXN1		C_MAIL C_RCPT("b") C_DATA C_BODY C_QUIT

#define R_OK		"250 2.0.0 dot ok\n"
#define R3(x)		x x x

#define X10	"xxxxxxxxxx"
#define X100	X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define X1000	X100 X100 X100 X100 X100 X100 X100 X100 X100 X100

#define PROTO(stage, when, why)	"0 4.5.0 " stage " protocol error from " \
				HOST " " when ": " why "\n"
#define TIMEOUT(stage, when)	"0 4.4.2 " stage " conversation with " \
				HOST " timed out " when "\n"
#define LOST(stage, when)	"0 4.4.2 " stage " lost connection with " \
				HOST " " when "\n"

static const struct session_case session_cases[] = {
	/* --- good servers --- */
	{ "plain success, no PIPELINING", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, E, IN("250 2.1.0 Ok\r\n"), IN("250 2.1.5 Ok\r\n"),
	    IN("354 End data with <CR><LF>.<CR><LF>\r\n"), D,
	    IN("250 2.0.0 Ok: queued as 1234\r\n") },
	  C_EHLO C_TXN1, "250 2.0.0 dot Ok: queued as 1234\n" },
	{ "greeting and EHLO reply on several lines", M1, SMTP_TLS_NONE, 0,
	  0, 0,
	  { IN("220-" HOST " ESMTP\r\n220-no UCE\r\n220 welcome\r\n"),
	    IN("250-" HOST " hello\r\n250-SIZE\r\n250-8BITMIME\r\n"
	       "250 HELP\r\n"), OK, OK, GO, D, OK },
	  C_EHLO "MAIL FROM:<a@example.org> SIZE=1000\r\n|" C_RCPT("b")
	  C_DATA C_BODY C_QUIT, R_OK },
	{ "PIPELINING: one write; one RCPT 550, one 451", M3, SMTP_TLS_NONE,
	  0, 0, 0,
	  { G, E_PIPE,
	    IN("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	       "550 5.1.1 <c@example.net>: no such user\r\n"
	       "451 4.3.0 try again later\r\n354 go ahead\r\n"), D,
	    IN("250 2.0.0 queued\r\n") },
	  C_EHLO C_PIPE3 C_BODY C_QUIT,
	  "250 2.0.0 dot queued\n"
	  "550 5.1.1 rcpt <c@example.net>: no such user\n"
	  "451 4.3.0 rcpt try again later\n" },
	{ "PIPELINING: replies arriving one by one", M3, SMTP_TLS_NONE, 0,
	  0, 0,
	  { G, E_PIPE, OK, OK, IN("550 5.1.1 no\r\n"), OK, GO, D, OK },
	  C_EHLO C_PIPE3 C_BODY C_QUIT,
	  R_OK "550 5.1.1 rcpt no\n" R_OK },
	{ "no PIPELINING: one command at a time", M3, SMTP_TLS_NONE, 0, 0,
	  0,
	  { G, E, OK, OK, IN("550 5.1.1 no such user\r\n"),
	    IN("451 4.3.0 later\r\n"), GO, D, IN("250 queued\r\n") },
	  C_EHLO C_MAIL C_RCPT("b") C_RCPT("c") C_RCPT("d") C_DATA C_BODY
	  C_QUIT,
	  "250 2.0.0 dot queued\n550 5.1.1 rcpt no such user\n"
	  "451 4.3.0 rcpt later\n" },
	{ "PIPELINING, MAIL refused: every recipient gets its reply", M3,
	  SMTP_TLS_NONE, 0, 0, 0,
	  { G, E_PIPE,
	    IN("550 5.7.1 sender rejected\r\n503 5.5.1 need MAIL\r\n"
	       "503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n"
	       "503 5.5.1 need RCPT\r\n") },
	  C_EHLO C_PIPE3 C_QUIT, R3("550 5.7.1 mail sender rejected\n") },
	{ "no PIPELINING, MAIL 451: no RCPT sent", M3, SMTP_TLS_NONE, 0, 0,
	  0, { G, E, IN("451 4.3.2 busy\r\n") },
	  C_EHLO C_MAIL C_QUIT, R3("451 4.3.2 mail busy\n") },
	{ "no recipient accepted: no DATA", M3, SMTP_TLS_NONE, 0, 0, 0,
	  { G, E, OK, IN("550 no\r\n"), IN("550 no\r\n"),
	    IN("550 no\r\n") },
	  C_EHLO C_MAIL C_RCPT("b") C_RCPT("c") C_RCPT("d") C_QUIT,
	  R3("550 5.0.0 rcpt no\n") },
	{ "PIPELINING, no recipient accepted, DATA refused", M1,
	  SMTP_TLS_NONE, 0, 0, 0,
	  { G, E_PIPE, IN("250 ok\r\n550 5.1.1 no\r\n"
	    "554 5.5.1 no valid recipients\r\n") },
	  C_EHLO C_PIPE1 C_QUIT, "550 5.1.1 rcpt no\n" },
	{ "PIPELINING, no recipient accepted, yet 354: an empty message",
	  M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, E_PIPE, IN("250 ok\r\n550 5.1.1 no\r\n354 go\r\n") },
	  C_EHLO C_PIPE1 ".\r\nQUIT\r\n|<DONE>", "550 5.1.1 rcpt no\n" },
	{ "EHLO 502: HELO, and no extensions used", MDSN, SMTP_TLS_NONE, 0,
	  0, 0,
	  { G, IN("502 5.5.2 what\r\n"), E, OK, OK, OK, GO, D, OK },
	  C_EHLO C_HELO C_MAIL C_RCPT("b") C_RCPT("c") C_DATA C_BODY C_QUIT,
	  R_OK R_OK },
	{ "EHLO and HELO refused", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, IN("500 no\r\n"), IN("550 go away\r\n") },
	  C_EHLO C_HELO C_QUIT, "550 5.0.0 ehlo go away\n" },
	{ "EHLO 451: deferred", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, IN("451 later\r\n") }, C_EHLO C_QUIT,
	  "451 4.0.0 ehlo later\n" },
	{ "EHLO 421: over, no QUIT", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, IN("421 4.3.2 shutting down\r\n") }, C_EHLO "<DONE>",
	  "421 4.3.2 ehlo shutting down\n" },
	{ "greeting 554: QUIT, every recipient gets it", M3, SMTP_TLS_NONE,
	  0, 0, 0, { IN("554 5.7.1 no service\r\n") }, C_QUIT,
	  R3("554 5.7.1 greeting no service\n") },
	{ "greeting with our own name: the mail loops, 5.4.6 and QUIT", M1,
	  SMTP_TLS_NONE, 0, 0, 0,
	  { IN("220 CLIENT.example.org ESMTP wren\r\n") }, C_QUIT,
	  "0 5.4.6 greeting mail loops back to myself\n" },
	{ "our name only as a word of the greeting text: no loop", M1,
	  SMTP_TLS_NONE, 0, 0, 0,
	  { IN("220 " HOST " knows client.example.org\r\n"), E,
	    IN("250 2.1.0 Ok\r\n"), IN("250 2.1.5 Ok\r\n"), GO, D, OK },
	  C_EHLO C_TXN1, R_OK },
	{ "greeting 421: over at once", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { IN("421 busy\r\n") }, "<DONE>", "421 4.0.0 greeting busy\n" },
	{ "greeting 450 on two lines", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { IN("450-4.7.1 too many\r\n450 4.7.1 connections\r\n") },
	  C_QUIT, "450 4.7.1 greeting too many connections\n" },
	{ "421 among pipelined RCPT replies: the rest get it", M3,
	  SMTP_TLS_NONE, 0, 0, 0,
	  { G, E_PIPE,
	    IN("250 ok\r\n250 ok\r\n421 4.3.2 shutting down\r\n") },
	  C_EHLO C_PIPE3 "<DONE>", R3("421 4.3.2 rcpt shutting down\n") },
	{ "421 instead of 354", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, E, OK, OK, IN("421 closing\r\n") },
	  C_EHLO C_MAIL C_RCPT("b") C_DATA "<DONE>",
	  "421 4.0.0 data closing\n" },
	{ "DATA 554 for the accepted ones only", M3, SMTP_TLS_NONE, 0, 0,
	  0,
	  { G, E_PIPE, IN("250 ok\r\n250 ok\r\n550 no\r\n250 ok\r\n"
	    "554 5.7.0 no thanks\r\n") },
	  C_EHLO C_PIPE3 C_QUIT,
	  "554 5.7.0 data no thanks\n550 5.0.0 rcpt no\n"
	  "554 5.7.0 data no thanks\n" },
	{ "end of data answered 554", M3, SMTP_TLS_NONE, 0, 0, 0,
	  { G, E_PIPE, IN("250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n"
	    "354 go\r\n"), D, IN("554 5.7.1 spam\r\n") },
	  C_EHLO C_PIPE3 C_BODY C_QUIT, R3("554 5.7.1 dot spam\n") },
	{ "end of data answered 451", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, E, OK, OK, GO, D, IN("451 later\r\n") },
	  C_EHLO C_TXN1, "451 4.0.0 dot later\n" },
	{ "bad addresses refused before the session; <> sender", MBAD,
	  SMTP_TLS_NONE, 0, 0, 0, { G, E, OK, OK, GO, D, OK },
	  C_EHLO "MAIL FROM:<>\r\n|" C_RCPT("c") C_DATA C_BODY C_QUIT,
	  "0 5.1.3 rcpt bad recipient address syntax\n" R_OK
	  "0 5.1.3 rcpt bad recipient address syntax\n" },
	{ "bad addresses skipped under PIPELINING too", MBAD,
	  SMTP_TLS_NONE, 0, 0, 0,
	  { G, E_PIPE, IN("250 ok\r\n550 5.1.1 no\r\n554 no rcpt\r\n") },
	  C_EHLO "MAIL FROM:<>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n|"
	  C_QUIT,
	  "0 5.1.3 rcpt bad recipient address syntax\n550 5.1.1 rcpt no\n"
	  "0 5.1.3 rcpt bad recipient address syntax\n" },

	/* --- extensions --- */
	{ "SIZE, 8BITMIME and DSN parameters", MDSN, SMTP_TLS_NONE, 0, 0, 0,
	  { G, IN("250-" HOST "\r\n250-PIPELINING\r\n250-SIZE 100000\r\n"
	    "250-8BITMIME\r\n250 DSN\r\n"),
	    IN("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"), D, OK },
	  C_EHLO "MAIL FROM:<a@example.org> SIZE=1000 BODY=8BITMIME "
	  "RET=FULL ENVID=abc+2Bdef\r\n"
	  "RCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE "
	  "ORCPT=rfc822;b+2Bx@example.net\r\n"
	  "RCPT TO:<c@example.net> NOTIFY=NEVER\r\nDATA\r\n|" C_BODY C_QUIT,
	  R_OK R_OK },
	{ "the same message to a server without them: no parameters",
	  MDSN, SMTP_TLS_NONE, 0, 0, 0,
	  { G, E_PIPE, IN("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"), D,
	    OK },
	  C_EHLO "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
	  "RCPT TO:<c@example.net>\r\nDATA\r\n|" C_BODY C_QUIT, R_OK R_OK },
	{ "SMTPUTF8 needed by an address and offered", MUTF8,
	  SMTP_TLS_NONE, 0, 0, 0,
	  { G, IN("250-" HOST "\r\n250 SMTPUTF8\r\n"), OK, OK, GO, D, OK },
	  C_EHLO "MAIL FROM:<a@example.org> SMTPUTF8\r\n|"
	  "RCPT TO:<j\xc3\xbcrgen@example.net>\r\n|" C_DATA C_BODY C_QUIT,
	  R_OK },
	{ "SMTPUTF8 needed, not offered: 5.6.7", MUTF8, SMTP_TLS_NONE, 0,
	  0, 0, { G, E }, C_EHLO C_QUIT,
	  "0 5.6.7 mail SMTPUTF8 is required, but was not offered by "
	  HOST "\n" },
	{ "over the server's SIZE: 5.3.4", MBIG, SMTP_TLS_NONE, 0, 0, 0,
	  { G, IN("250-" HOST "\r\n250 SIZE 50000\r\n") }, C_EHLO C_QUIT,
	  "0 5.3.4 mail message size 100000 exceeds size limit 50000 of "
	  "server " HOST "\n" },
	{ "SIZE without a number: no limit", MBIG, SMTP_TLS_NONE, 0, 0, 0,
	  { G, IN("250-" HOST "\r\n250 SIZE\r\n"), OK, OK, GO, D, OK },
	  C_EHLO "MAIL FROM:<a@example.org> SIZE=100000\r\n|" C_RCPT("b")
	  C_DATA C_BODY C_QUIT, R_OK },

	/* --- STARTTLS --- */
	{ "STARTTLS under MAY: handshake, EHLO again, PIPELINING forgotten",
	  M1, SMTP_TLS_MAY, 0, 0, 0,
	  { G, E_TLS, IN("220 2.0.0 Ready to start TLS\r\n"), K, E, OK, OK,
	    GO, D, OK },
	  C_EHLO C_TLS C_EHLO C_TXN1, R_OK },
	{ "STARTTLS offered, policy NONE: not used", M1, SMTP_TLS_NONE, 0,
	  0, 0, { G, IN("250-" HOST "\r\n250 STARTTLS\r\n"), OK, OK, GO, D,
	  OK }, C_EHLO C_TXN1, R_OK },
	{ "implicit TLS: no STARTTLS", M1, SMTP_TLS_REQUIRE, 1, 0, 0,
	  { G, IN("250-" HOST "\r\n250 STARTTLS\r\n"), OK, OK, GO, D, OK },
	  C_EHLO C_TXN1, R_OK },
	{ "REQUIRE, STARTTLS not offered: 4.7.4", M1, SMTP_TLS_REQUIRE, 0,
	  0, 0, { G, E }, C_EHLO C_QUIT,
	  "0 4.7.4 tls TLS is required, but was not offered by " HOST
	  "\n" },
	{ "REQUIRE, HELO server: 4.7.4", M1, SMTP_TLS_REQUIRE, 0, 0, 0,
	  { G, IN("502 no\r\n"), E }, C_EHLO C_HELO C_QUIT,
	  "0 4.7.4 tls TLS is required, but was not offered by " HOST
	  "\n" },
	{ "MAY, STARTTLS answered 454: on in clear", M1, SMTP_TLS_MAY, 0,
	  0, 0,
	  { G, IN("250-" HOST "\r\n250 STARTTLS\r\n"),
	    IN("454 4.7.0 TLS not available\r\n"), OK, OK, GO, D, OK },
	  C_EHLO "STARTTLS\r\n|" C_TXN1, R_OK },
	{ "REQUIRE, STARTTLS answered 454: 4.7.4", M1, SMTP_TLS_REQUIRE, 0,
	  0, 0,
	  { G, IN("250-" HOST "\r\n250 STARTTLS\r\n"),
	    IN("454 4.7.0 TLS not available\r\n") },
	  C_EHLO "STARTTLS\r\n|" C_QUIT,
	  "0 4.7.4 tls TLS is required, but STARTTLS was refused by " HOST
	  ": 454 4.7.0 TLS not available\n" },
	{ "TLS handshake fails: 4.7.5, no QUIT", M1, SMTP_TLS_MAY, 0, 0, 0,
	  { G, E_TLS, IN("220 go\r\n"), F }, C_EHLO C_TLS "<DONE>",
	  "0 4.7.5 tls TLS handshake with " HOST " failed\n" },
	{ "a reply during the handshake", M1, SMTP_TLS_MAY, 0, 0, 0,
	  { G, E_TLS, IN("220 go\r\n"), IN("250 injected\r\n"), K },
	  C_EHLO C_TLS "<DONE>",
	  PROTO("tls", "during the TLS handshake", "reply out of turn") },
	{ "bytes glued to the 220 of STARTTLS (injection)", M1,
	  SMTP_TLS_MAY, 0, 0, 1,
	  { G, E_TLS, IN("220 go\r\n250-PIPELINING\r\n250 ok\r\n"), K },
	  C_EHLO "STARTTLS\r\n|<DONE>",
	  PROTO("tls", "during the TLS handshake", "reply out of turn") },

	/* --- AUTH --- */
	{ "AUTH PLAIN after STARTTLS", M1, SMTP_TLS_REQUIRE, 0, 1, 0,
	  { G, IN("250-" HOST "\r\n250-STARTTLS\r\n250 AUTH LOGIN PLAIN\r\n"),
	    IN("220 go\r\n"), K,
	    IN("250-" HOST "\r\n250 AUTH LOGIN PLAIN\r\n"),
	    IN("235 2.7.0 Authentication successful\r\n"), OK, OK, GO, D,
	    OK },
	  C_EHLO C_TLS C_EHLO "AUTH PLAIN AHVzZXIAcGFzcw==\r\n|" C_TXN1,
	  R_OK },
	{ "AUTH LOGIN over implicit TLS", M1, SMTP_TLS_REQUIRE, 1, 1, 0,
	  { G, IN("250-" HOST "\r\n250 AUTH=LOGIN\r\n"),
	    IN("334 VXNlcm5hbWU6\r\n"), IN("334 UGFzc3dvcmQ6\r\n"),
	    IN("235 ok\r\n"), OK, OK, GO, D, OK },
	  C_EHLO "AUTH LOGIN\r\n|dXNlcg==\r\n|cGFzcw==\r\n|" C_TXN1, R_OK },
	{ "AUTH 535: deferred with the server's text", M1, SMTP_TLS_MAY, 1,
	  1, 0,
	  { G, IN("250-" HOST "\r\n250 AUTH PLAIN\r\n"),
	    IN("535 5.7.8 Authentication credentials invalid\r\n") },
	  C_EHLO "AUTH PLAIN AHVzZXIAcGFzcw==\r\n|" C_QUIT,
	  "0 4.7.8 auth SASL authentication failed; server " HOST
	  " said: 535 5.7.8 Authentication credentials invalid\n" },
	{ "AUTH LOGIN password refused", M1, SMTP_TLS_MAY, 1, 1, 0,
	  { G, IN("250-" HOST "\r\n250 AUTH LOGIN\r\n"), IN("334 x\r\n"),
	    IN("334 y\r\n"), IN("535 no\r\n") },
	  C_EHLO "AUTH LOGIN\r\n|dXNlcg==\r\n|cGFzcw==\r\n|" C_QUIT,
	  "0 4.7.0 auth SASL authentication failed; server " HOST
	  " said: 535 no\n" },
	{ "AUTH PLAIN answered 334: nothing more to give", M1,
	  SMTP_TLS_MAY, 1, 1, 0,
	  { G, IN("250-" HOST "\r\n250 AUTH PLAIN\r\n"), IN("334 \r\n") },
	  C_EHLO "AUTH PLAIN AHVzZXIAcGFzcw==\r\n|" C_QUIT,
	  "0 4.7.0 auth SASL authentication failed; server " HOST
	  " said: 334\n" },
	{ "credentials, no usable mechanism", M1, SMTP_TLS_MAY, 1, 1, 0,
	  { G, IN("250-" HOST "\r\n250 AUTH CRAM-MD5\r\n") }, C_EHLO C_QUIT,
	  "0 4.7.0 auth no usable SASL mechanism (PLAIN, LOGIN) offered by "
	  HOST "\n" },
	{ "credentials, no TLS: not sent in clear", M1, SMTP_TLS_MAY, 0, 1,
	  0, { G, IN("250-" HOST "\r\n250 AUTH PLAIN\r\n") }, C_EHLO C_QUIT,
	  "0 4.7.0 auth no TLS with " HOST
	  ": credentials are not sent in clear\n" },

	/* --- timeouts and lost connections --- */
	{ "timeout waiting for the greeting", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { TO }, "<T300000><DONE>",
	  TIMEOUT("greeting", "while receiving the greeting") },
	{ "timeout after EHLO", M1, SMTP_TLS_NONE, 0, 0, 0, { G, TO },
	  C_EHLO "<T300000><DONE>", TIMEOUT("ehlo", "after EHLO") },
	{ "timeout after STARTTLS", M1, SMTP_TLS_MAY, 0, 0, 0,
	  { G, E_TLS, TO }, C_EHLO "STARTTLS\r\n|<T300000><DONE>",
	  TIMEOUT("tls", "after STARTTLS") },
	{ "timeout during the handshake", M1, SMTP_TLS_MAY, 0, 0, 0,
	  { G, E_TLS, IN("220 go\r\n"), TO },
	  C_EHLO C_TLS "<T300000><DONE>",
	  TIMEOUT("tls", "during the TLS handshake") },
	{ "timeout after AUTH", M1, SMTP_TLS_MAY, 1, 1, 0,
	  { G, IN("250-" HOST "\r\n250 AUTH PLAIN\r\n"), TO },
	  C_EHLO "AUTH PLAIN AHVzZXIAcGFzcw==\r\n|<T300000><DONE>",
	  TIMEOUT("auth", "after AUTH") },
	{ "timeout after MAIL", M1, SMTP_TLS_NONE, 0, 0, 0, { G, E, TO },
	  C_EHLO C_MAIL "<T300000><DONE>", TIMEOUT("mail", "after MAIL FROM") },
	{ "timeout after RCPT", M3, SMTP_TLS_NONE, 0, 0, 0,
	  { G, E, OK, OK, TO },
	  C_EHLO C_MAIL C_RCPT("b") C_RCPT("c") "<T300000><DONE>",
	  R3(TIMEOUT("rcpt", "after RCPT TO")) },
	{ "timeout after DATA: 2 minutes", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, E, OK, OK, TO },
	  C_EHLO C_MAIL C_RCPT("b") C_DATA "<T120000><DONE>",
	  TIMEOUT("data", "after DATA") },
	{ "timeout sending the message: 3 minutes", M1, SMTP_TLS_NONE, 0,
	  0, 0, { G, E, OK, OK, GO, TO },
	  C_EHLO C_MAIL C_RCPT("b") C_DATA "<BODY><T180000><DONE>",
	  TIMEOUT("body", "while sending the message") },
	{ "timeout after the final dot: 10 minutes", M1, SMTP_TLS_NONE, 0,
	  0, 0, { G, E, OK, OK, GO, D, TO },
	  C_EHLO C_MAIL C_RCPT("b") C_DATA C_BODY "<T600000><DONE>",
	  TIMEOUT("dot", "after the end of the message") },
	{ "lost after the final dot: deferred (may duplicate)", M1,
	  SMTP_TLS_NONE, 0, 0, 0, { G, E, OK, OK, GO, D, L },
	  C_EHLO C_MAIL C_RCPT("b") C_DATA C_BODY "<DONE>",
	  LOST("dot", "after the end of the message") },
	{ "lost with pipelined RCPT replies due", M3, SMTP_TLS_NONE, 0, 0,
	  0, { G, E_PIPE, IN("250 ok\r\n250 ok\r\n"), L },
	  C_EHLO C_PIPE3 "<DONE>", R3(LOST("rcpt", "after RCPT TO")) },
	{ "lost before the greeting", M1, SMTP_TLS_NONE, 0, 0, 0, { L },
	  "<DONE>", LOST("greeting", "while receiving the greeting") },
	{ "lost, timeout and bytes after QUIT change nothing", M1,
	  SMTP_TLS_NONE, 0, 0, 0,
	  { G, E, OK, OK, GO, D, OK, IN("221 bye\r\n"), L, TO },
	  C_EHLO C_TXN1 "<T0>", R_OK },

	/* --- hostile servers --- */
	{ "greeting with a bad code", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { IN("abc\r\n") }, "<DONE>",
	  PROTO("greeting", "while receiving the greeting",
	  "bad reply code") },
	{ "an HTTP server", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { IN("HTTP/1.1 400 Bad Request\r\n") }, "<DONE>",
	  PROTO("greeting", "while receiving the greeting",
	  "bad reply code") },
	{ "greeting 354", M1, SMTP_TLS_NONE, 0, 0, 0, { IN("354 hi\r\n") },
	  "<DONE>", PROTO("greeting", "while receiving the greeting",
	  "unexpected greeting") },
	{ "mixed codes in the EHLO reply", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, IN("250-" HOST "\r\n220 x\r\n") }, C_EHLO "<DONE>",
	  PROTO("ehlo", "after EHLO",
	  "reply code changed inside a multi-line reply") },
	{ "overlong reply line", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, IN("250-" HOST "\r\n250 " X1000 "\r\n") }, C_EHLO "<DONE>",
	  PROTO("ehlo", "after EHLO", "reply line too long") },
	{ "NUL byte in a reply", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, INN("250 mx\0evil\r\n") }, C_EHLO "<DONE>",
	  PROTO("ehlo", "after EHLO", "NUL byte in a reply") },
	{ "endless continuation lines", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, REP("250-x\r\n", 1001) }, C_EHLO "<DONE>",
	  PROTO("ehlo", "after EHLO", "too many reply lines") },
	{ "a reply before we sent anything", M1, SMTP_TLS_NONE, 0, 0, 1,
	  { IN("220 " HOST "\r\n250 ok\r\n") }, "<DONE>",
	  PROTO("ehlo", "after EHLO", "reply out of turn") },
	{ "a second reply to EHLO", M1, SMTP_TLS_NONE, 0, 0, 1,
	  { G, IN("250 " HOST "\r\n250 again\r\n") }, C_EHLO "<DONE>",
	  PROTO("mail", "after MAIL FROM", "reply out of turn") },
	{ "a reply while the message is being sent", M1, SMTP_TLS_NONE, 0,
	  0, 0, { G, E, OK, OK, GO, IN("250 early\r\n"), D },
	  C_EHLO C_MAIL C_RCPT("b") C_DATA "<BODY><DONE>",
	  PROTO("body", "while sending the message", "reply out of turn") },
	{ "354 to MAIL", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, E, IN("354 what\r\n") }, C_EHLO C_MAIL "<DONE>",
	  PROTO("mail", "after MAIL FROM", "unexpected reply to MAIL FROM") },
	{ "354 to RCPT", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, E, OK, IN("354 what\r\n") }, C_EHLO C_MAIL C_RCPT("b")
	  "<DONE>", PROTO("rcpt", "after RCPT TO",
	  "unexpected reply to RCPT TO") },
	{ "250 to DATA", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, E, OK, OK, IN("250 what\r\n") },
	  C_EHLO C_MAIL C_RCPT("b") C_DATA "<DONE>",
	  PROTO("data", "after DATA", "unexpected reply to DATA") },
	{ "354 to the final dot", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, E, OK, OK, GO, D, IN("354 again\r\n") },
	  C_EHLO C_MAIL C_RCPT("b") C_DATA C_BODY "<DONE>",
	  PROTO("dot", "after the end of the message",
	  "unexpected reply to the end of data") },
	{ "354 to EHLO", M1, SMTP_TLS_NONE, 0, 0, 0,
	  { G, IN("354 x\r\n") }, C_EHLO "<DONE>",
	  PROTO("ehlo", "after EHLO", "unexpected reply to EHLO") },
	{ "354 to STARTTLS", M1, SMTP_TLS_MAY, 0, 0, 0,
	  { G, E_TLS, IN("354 x\r\n") }, C_EHLO "STARTTLS\r\n|<DONE>",
	  PROTO("tls", "after STARTTLS", "unexpected reply to STARTTLS") },
	{ "too many pipelined replies", M1, SMTP_TLS_NONE, 0, 0, 1,
	  { G, E_PIPE, IN("250 ok\r\n250 ok\r\n354 go\r\n250 extra\r\n") },
	  C_EHLO C_PIPE1 "<DONE>",
	  PROTO("body", "while sending the message", "reply out of turn") },
};

/* --- the harness ----------------------------------------------------- */

struct run {
	char	out[OUT_MAX];
	size_t	len;
	int	done;
};

static void
out_add(struct run *r, const char *s, size_t n)
{
	assert_true(r->len + n < sizeof r->out);
	memcpy(r->out + r->len, s, n);
	r->len += n;
	r->out[r->len] = '\0';
}

static void
out_str(struct run *r, const char *s)
{
	out_add(r, s, strlen(s));
}

/* Pulls every action; cap is the output space offered. */
static void
drain(const char *desc, struct smtp_client *sc, struct run *r, size_t cap)
{
	static char buf[OUT_MAX];

	for (int guard = 0; guard < 10000; guard++) {
		size_t n = (size_t)-1;
		enum smtp_client_action a;

		a = smtp_client_next(sc, buf, cap, &n);
		switch (a) {
		case SMTP_CLIENT_NONE:
			assert_int_equal(n, 0);
			return;
		case SMTP_CLIENT_WRITE:
			if (n < 2 || n > cap || buf[n - 2] != '\r' ||
			    buf[n - 1] != '\n') {
				fail_msg("%s: bad write of %zu", desc, n);
			}
			out_add(r, buf, n);
			out_str(r, "|");
			break;
		case SMTP_CLIENT_STARTTLS:
			assert_int_equal(sc->state, SMTP_CL_TLS);
			out_str(r, "<TLS>");
			break;
		case SMTP_CLIENT_BODY:
			assert_int_equal(sc->state, SMTP_CL_BODY);
			out_str(r, "<BODY>");
			break;
		case SMTP_CLIENT_DONE:
			assert_int_equal(sc->state, SMTP_CL_DONE);
			if (!r->done) {
				out_str(r, "<DONE>");
			}
			r->done = 1;
			return;
		}
	}
	fail_msg("%s: actions without end", desc);
}

/* The caller's side of BODY: "hi\n" through a 3-octet output. */
static void
send_body(struct smtp_client *sc, struct run *r)
{
	static const char msg[] = "hi\n";
	char o[SMTP_CLIENT_BODY_END_MAX];
	size_t pos = 0, n, used;

	if (sc->state != SMTP_CL_BODY) {
		return;
	}
	while (pos < sizeof msg - 1) {
		used = smtp_client_body_encode(sc, msg + pos,
		    sizeof msg - 1 - pos, o, 3, &n);
		assert_true(used > 0 && n <= 3);
		out_add(r, o, n);
		pos += used;
	}
	assert_int_equal(smtp_client_body_end(sc, o, 4), 0);
	n = smtp_client_body_end(sc, o, sizeof o);
	out_add(r, o, n);
	out_str(r, "|");
	smtp_client_body_done(sc);
}

static void
feed(struct smtp_client *sc, const char *s, size_t n, int bytewise,
    struct run *r, size_t cap, const char *desc)
{
	if (!bytewise) {
		char *copy = dup_exact(s, n);

		smtp_client_feed(sc, copy, n);
		free(copy);
		drain(desc, sc, r, cap);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char *copy = dup_exact(s + i, 1);

		smtp_client_feed(sc, copy, 1);
		free(copy);
		drain(desc, sc, r, cap);
	}
}

static void
results(const struct smtp_client_msg *m, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < m->nrcpt; i++) {
		const struct smtp_result *res = &m->rcpt[i].result;

		n += (size_t)snprintf(out + n, cap - n, "%u %s %s %s\n",
		    res->code, res->esc, smtp_stage_name(res->stage),
		    res->text);
		assert_true(n < cap);
	}
}

static void
strip_bars(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++) {
		if (*s != '|') {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static void
run_session(const struct session_case *c, int mode)
{
	static struct run r;
	static char got[16384], want[OUT_MAX];
	static const char *how[] = { "whole", "byte by byte",
	    "100-octet output" };
	const struct msg_tpl *t = &msgs[c->msg];
	struct smtp_client_rcpt rc[4];
	struct smtp_client_msg m;
	struct smtp_client_opts o;
	struct smtp_client sc;
	size_t cap = mode == 2 ? 100 : OUT_MAX;

	memset(&r, 0, sizeof r);
	memset(rc, 0, sizeof rc);
	for (size_t i = 0; i < t->nrcpt; i++) {
		rc[i].addr = t->rcpt[i];
		rc[i].notify = t->notify[i];
		rc[i].orcpt = t->orcpt[i];
		rc[i].result.code = 999;	/* init must clear it */
	}
	memset(&m, 0, sizeof m);
	m.sender = t->sender;
	m.rcpt = rc;
	m.nrcpt = t->nrcpt;
	m.envid = t->envid;
	m.ret = t->ret;
	m.size = t->size;
	m.need_8bitmime = t->b8;
	m.need_smtputf8 = t->utf8;
	memset(&o, 0, sizeof o);
	o.helo = "client.example.org";
	o.peer = HOST;
	o.tls = c->tls;
	o.tls_active = c->tls_active;
	if (c->auth) {
		o.auth_user = "user";
		o.auth_pass = "pass";
	}
	assert_int_equal(smtp_client_init(&sc, &o, &m), 0);
	assert_int_equal(smtp_client_timeout_ms(&sc),
	    SMTP_CLIENT_GREETING_MS);
	drain(c->desc, &sc, &r, cap);
	for (size_t k = 0; k < 16 && c->steps[k].s != NULL; k++) {
		const struct step *st = &c->steps[k];

		switch (st->s[0]) {
		case 'S':
			for (unsigned n = 0; n < (st->rep ? st->rep : 1);
			    n++) {
				feed(&sc, st->s + 1, st->len - 1, mode == 1,
				    &r, cap, c->desc);
			}
			break;
		case 'K':
			smtp_client_tls_done(&sc, 1);
			break;
		case 'F':
			smtp_client_tls_done(&sc, 0);
			break;
		case 'D':
			send_body(&sc, &r);
			break;
		case 'T': {
			char tb[32];

			snprintf(tb, sizeof tb, "<T%u>",
			    smtp_client_timeout_ms(&sc));
			out_str(&r, tb);
			smtp_client_timeout(&sc);
			break;
		}
		case 'L':
			smtp_client_lost(&sc);
			break;
		default:
			fail_msg("%s: bad step", c->desc);
		}
		drain(c->desc, &sc, &r, cap);
	}
	strcpy(want, c->out);
	if (mode == 2) {
		strip_bars(want);
		strip_bars(r.out);
	}
	if (strcmp(r.out, want) != 0) {
		fail_msg("%s (%s): client sent\n%s\nwant\n%s", c->desc,
		    how[mode], r.out, want);
	}
	results(&m, got, sizeof got);
	if (strcmp(got, c->res) != 0) {
		fail_msg("%s (%s): results\n%swant\n%s", c->desc, how[mode],
		    got, c->res);
	}
	/* Every recipient is settled, with a valid class. */
	assert_int_equal(sc.state, SMTP_CL_DONE);
	assert_int_equal(smtp_client_timeout_ms(&sc), 0);
	for (size_t i = 0; i < m.nrcpt; i++) {
		const struct smtp_result *res = &rc[i].result;

		if (res->stage == SMTP_STAGE_NONE ||
		    strchr("245", res->esc[0]) == NULL ||
		    res->esc[0] == '\0' || res->esc[1] != '.' ||
		    (res->code != 0 && (unsigned)(res->esc[0] - '0') !=
		    res->code / 100)) {
			fail_msg("%s: recipient %zu unsettled", c->desc, i);
		}
	}
}

static void
test_sessions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof session_cases /
	    sizeof session_cases[0]; i++) {
		const struct session_case *c = &session_cases[i];

		for (int mode = 0; mode < 3; mode++) {
			if (mode == 1 && c->whole_only) {
				continue;
			}
			run_session(c, mode);
		}
	}
}

/* --- the body encoder ----------------------------------------------- */

struct body_case {
	const char	*desc;
	struct text	 in;
	struct text	 want;	/* with the terminator */
};

static const struct body_case body_cases[] = {
	{ "empty message", T(""), T(".\r\n") },
	{ "one line", T("hi\n"), T("hi\r\n.\r\n") },
	{ "no final line end", T("hi"), T("hi\r\n.\r\n") },
	{ "header, blank line, body",
	  T("Subject: x\n\nbody\n"), T("Subject: x\r\n\r\nbody\r\n.\r\n") },
	{ "dots at line starts doubled", T(".a\n..b\n.\n"),
	  T("..a\r\n...b\r\n..\r\n.\r\n") },
	{ "a lone dot as the whole message", T("."), T("..\r\n.\r\n") },
	{ "dots inside lines untouched", T("a.b\n a.\n"),
	  T("a.b\r\n a.\r\n.\r\n") },
	{ "CR LF input is not doubled", T("a\r\nb\r\n"),
	  T("a\r\nb\r\n.\r\n") },
	{ "CR LF input with a dot line", T("a\r\n.b\r\n.\r\n"),
	  T("a\r\n..b\r\n..\r\n.\r\n") },
	{ "mixed LF and CR LF", T("a\nb\r\nc"), T("a\r\nb\r\nc\r\n.\r\n") },
	{ "empty lines", T("\n\n"), T("\r\n\r\n.\r\n") },
	{ "a line of 2000 octets", TF("", "x", 2000, "\n"),
	  TF("", "x", 2000, "\r\n.\r\n") },

	{ "bare CR ends a line", T("a\rb"), T("a\r\nb\r\n.\r\n") },
	{ "CR . CR LF (smuggling) is stuffed", T("a\r.\r\nb\n"),
	  T("a\r\n..\r\nb\r\n.\r\n") },
	{ "LF . LF is stuffed", T("a\n.\nb"), T("a\r\n..\r\nb\r\n.\r\n") },
	{ "LF . CR LF is stuffed", T("a\n.\r\nb"),
	  T("a\r\n..\r\nb\r\n.\r\n") },
	{ "CR CR LF: two line ends", T("a\r\r\n"), T("a\r\n\r\n.\r\n") },
	{ "ends with a CR", T("a\r"), T("a\r\n.\r\n") },
	{ "ends with CR LF", T("a\r\n"), T("a\r\n.\r\n") },
	{ "a message that is a terminator", T(".\r\n"), T("..\r\n.\r\n") },
	{ "NUL octets pass", TN("a\0b\n"), TN("a\0b\r\n.\r\n") },
	{ "LF CR: two line ends", T("a\n\rb"), T("a\r\n\r\nb\r\n.\r\n") },
};

/* Encodes in through output space `cap`, feeding `step` octets at a
 * time (0: all; SIZE_MAX: two halves split at `split`). */
static char *
encode(const char *in, size_t len, size_t cap, size_t step, size_t split,
    size_t *outlen)
{
	struct smtp_client_rcpt rc = { .addr = "b@example.net" };
	struct smtp_client_msg m = { .sender = "", .rcpt = &rc, .nrcpt = 1 };
	struct smtp_client_opts o = { .helo = "h" };
	struct smtp_client sc;
	char *out = malloc(2 * len + 8), *o2 = malloc(cap);
	size_t n = 0, pos = 0, lim = 0;

	assert_non_null(out);
	assert_non_null(o2);
	assert_int_equal(smtp_client_init(&sc, &o, &m), 0);
	while (pos < len) {
		size_t used, got;
		char *copy;

		if (step == SIZE_MAX) {
			lim = pos < split ? split : len;
		} else {
			lim = step == 0 || len - pos < step ? len : pos + step;
		}
		copy = dup_exact(in + pos, lim - pos);
		used = smtp_client_body_encode(&sc, copy, lim - pos, o2, cap,
		    &got);
		free(copy);
		assert_true(used <= lim - pos && got <= cap);
		assert_true(used > 0 || lim == pos);
		memcpy(out + n, o2, got);
		n += got;
		pos += used;
	}
	free(o2);
	o2 = malloc(SMTP_CLIENT_BODY_END_MAX);
	assert_non_null(o2);
	assert_int_equal(smtp_client_body_end(&sc, o2,
	    SMTP_CLIENT_BODY_END_MAX - 1), 0);
	lim = smtp_client_body_end(&sc, o2, SMTP_CLIENT_BODY_END_MAX);
	memcpy(out + n, o2, lim);
	free(o2);
	*outlen = n + lim;
	return out;
}

static void
test_body(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof body_cases / sizeof body_cases[0];
	    i++) {
		const struct body_case *c = &body_cases[i];
		size_t len, wlen, olen;
		char *in = build(&c->in, &len);
		char *want = build(&c->want, &wlen);
		char *out, how[64];

		out = encode(in, len, 4096, 0, 0, &olen);
		expect_bytes(c->desc, "whole", out, olen, want, wlen);
		free(out);
		out = encode(in, len, 4096, 1, 0, &olen);
		expect_bytes(c->desc, "byte by byte", out, olen, want, wlen);
		free(out);
		for (size_t cap = 2; cap <= 7; cap++) {
			snprintf(how, sizeof how, "output of %zu", cap);
			out = encode(in, len, cap, 0, 0, &olen);
			expect_bytes(c->desc, how, out, olen, want, wlen);
			free(out);
		}
		for (size_t s = 0; len < 100 && s <= len; s++) {
			snprintf(how, sizeof how, "split at %zu", s);
			out = encode(in, len, 4096, SIZE_MAX, s, &olen);
			expect_bytes(c->desc, how, out, olen, want, wlen);
			free(out);
		}
		free(in);
		free(want);
	}
}

/* --- init ------------------------------------------------------------ */

static void
test_init(void **state)
{
	static const char *long_name;
	static char big[SMTP_AUTH_CRED_MAX + 2], host[SMTP_HELO_MAX + 2];
	struct smtp_client_rcpt rc[SMTP_RCPT_MAX + 1];
	struct smtp_client_msg m;
	struct smtp_client_opts o;
	struct smtp_client sc;
	const char *names[SMTP_CL_NSTATES];

	(void)state;
	memset(big, 'u', sizeof big - 1);
	memset(host, 'h', sizeof host - 1);
	long_name = host;
	memset(rc, 0, sizeof rc);
	for (size_t i = 0; i <= SMTP_RCPT_MAX; i++) {
		rc[i].addr = "b@example.net";
	}
	memset(&m, 0, sizeof m);
	m.sender = "a@example.org";
	m.rcpt = rc;
	m.nrcpt = 1;
	memset(&o, 0, sizeof o);
	o.helo = "client.example.org";
	assert_int_equal(smtp_client_init(&sc, &o, &m), 0);
	m.nrcpt = SMTP_RCPT_MAX;
	assert_int_equal(smtp_client_init(&sc, &o, &m), 0);

	/* refused */
	m.nrcpt = SMTP_RCPT_MAX + 1;
	assert_int_equal(smtp_client_init(&sc, &o, &m), -1);
	m.nrcpt = 0;
	assert_int_equal(smtp_client_init(&sc, &o, &m), -1);
	m.nrcpt = 1;
	o.helo = NULL;
	assert_int_equal(smtp_client_init(&sc, &o, &m), -1);
	o.helo = "";
	assert_int_equal(smtp_client_init(&sc, &o, &m), -1);
	o.helo = "two words";
	assert_int_equal(smtp_client_init(&sc, &o, &m), -1);
	o.helo = "x\r\nMAIL";
	assert_int_equal(smtp_client_init(&sc, &o, &m), -1);
	o.helo = long_name;
	assert_int_equal(smtp_client_init(&sc, &o, &m), -1);
	host[SMTP_HELO_MAX] = '\0';
	assert_int_equal(smtp_client_init(&sc, &o, &m), 0);
	o.helo = "client.example.org";
	o.auth_user = "user";
	assert_int_equal(smtp_client_init(&sc, &o, &m), -1);
	o.auth_pass = big;
	assert_int_equal(smtp_client_init(&sc, &o, &m), -1);
	big[SMTP_AUTH_CRED_MAX] = '\0';
	assert_int_equal(smtp_client_init(&sc, &o, &m), 0);
	m.sender = NULL;
	assert_int_equal(smtp_client_init(&sc, &o, &m), -1);

	/* every state has its own name */
	for (int s = 0; s < SMTP_CL_NSTATES; s++) {
		names[s] = smtp_client_state_name((enum smtp_client_state)s);
		assert_non_null(names[s]);
		for (int k = 0; k < s; k++) {
			assert_string_not_equal(names[s], names[k]);
		}
	}
	assert_string_equal(smtp_client_state_name(SMTP_CL_NSTATES), "?");
	assert_string_equal(smtp_stage_name(SMTP_STAGE_DOT), "dot");
	assert_string_equal(smtp_stage_name(SMTP_STAGE_CONNECTION),
	    "connection");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
