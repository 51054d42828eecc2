/* SPDX-License-Identifier: ISC */
/*
 * envelope.h - the queue envelope (queue/env/<id>) without I/O: a
 * parser fed the file's bytes in any chunking, and the formatters that
 * write it. Files on disk are hostile input: every length is bounded,
 * every number checked, every recipient index range-checked.
 *
 * The file is text, one item per line, each ended by LF:
 *
 *   wren-envelope 1                  first line, always
 *   id 18C3A2F10000A                 upper-case hex
 *   arrival 1764120000               epoch seconds
 *   sender alice@example.com         empty after the space for <>
 *   size 4213                        bytes of msg/<id>
 *   ret full|hdrs|-                  RFC 3461 RET
 *   envid <xtext>|-                  RFC 3461 ENVID, as received
 *   smtputf8 0|1                     RFC 6531
 *   body 7bit|8bitmime               RFC 6152 BODY= (written when
 *                                    8bitmime; absent means 7bit)
 *   client mail.example.net [192.0.2.7]
 *   rcpt <addr> notify=<list>|- orcpt=<type;xtext>|-
 *
 * Those lines are written once, to tmp/, and renamed into env/: they
 * are never torn. id, arrival, sender and size are required, the other
 * header lines optional, none may appear twice, and all come before
 * the first rcpt line. There are 1 to ENVELOPE_RCPT_MAX recipients,
 * numbered from 0 in file order; an address may hold spaces (a quoted
 * local part), so a rcpt line is split from its right end. notify is
 * the comma list of never, success, failure, delay (msg/dsn.h).
 *
 * The queue runner then records results by APPENDING lines (O_APPEND,
 * fdatasync; see spool_append), never rewriting the message or the
 * envelope, so an SD card sees one small write per attempt:
 *
 *   state <rcpt> <deferred|sent|failed> <attempts> <next-try> <code>
 *         <mta> [<text>]             (one line)
 *       the result of the latest attempt for recipient <rcpt>: the
 *       attempt count so far, when to try again (epoch, 0 = at once),
 *       the enhanced status code (RFC 3463; "-" if none; class 2 for
 *       sent, 4 for deferred, 4 or 5 for failed), the remote MTA as
 *       "host" or "host[address]" ("-" if none reached), and the reply
 *       text, control characters replaced by spaces.
 *   reported <rcpt> <failure|delay|success> <epoch>
 *       a DSN of that kind for <rcpt> has been queued (or was not
 *       needed): it is never sent twice.
 *   admin <hold|release|retry|bounce> <epoch>
 *       what `wren queue` asked: hold the message, release it, retry
 *       every deferred recipient at <epoch> (their next-try is moved
 *       there), or bounce it (the runner fails its pending
 *       recipients).
 *
 * The last state line of a recipient wins. A final line without LF is
 * an append torn by a crash: the parser ignores it (parser.torn says
 * how many bytes) and spool_append cuts it off before it appends
 * again. A line kind this version does not know (from a newer wren)
 * is an error with its line number, never skipped.
 */
#ifndef WREN_ENVELOPE_H
#define WREN_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "msg/dsn.h"

/* Recipients per envelope: what one SMTP transaction can queue
 * (SMTP_RCPT_MAX; smtp_int.h's SMTP_TARGETS_MAX must not exceed it). */
#define ENVELOPE_RCPT_MAX	SMTP_RCPT_MAX
/* One line without its LF: a rcpt line is at most 5 + ADDR_MAX + 35 +
 * SMTP_ORCPT_MAX = 860 octets, a state line 60 + MTA + TEXT = 880. */
#define ENVELOPE_LINE_MAX	1024
#define ENVELOPE_ID_MAX		31	/* queue id, upper-case hex */
#define ENVELOPE_CLIENT_MAX	(SMTP_HELO_MAX + ADDR_STR_MAX + 4)
#define ENVELOPE_MTA_MAX	(CFG_HOST_MAX + ADDR_STR_MAX)
/* Reply text kept per recipient: one SMTP reply line's worth (RFC
 * 5321 4.5.3.1.5: 512 with the CR LF); longer replies are cut. */
#define ENVELOPE_TEXT_MAX	510
#define ENVELOPE_ATTEMPTS_MAX	1000000
/* Epoch values up to 9999-12-31T23:59:59Z, so any is printable. */
#define ENVELOPE_TIME_MAX	INT64_C(253402300799)
/* A whole new envelope (header and rcpt lines), written at once. */
#define ENVELOPE_WRITE_MAX	((10 + ENVELOPE_RCPT_MAX) * \
				    (ENVELOPE_LINE_MAX + 1))

enum envelope_err {
	ENVELOPE_OK,
	ENVELOPE_E_LONG,	/* line over ENVELOPE_LINE_MAX */
	ENVELOPE_E_BYTE,	/* NUL, CR or another control octet */
	ENVELOPE_E_MAGIC,	/* first line is not wren-envelope */
	ENVELOPE_E_VERSION,	/* a version this wren does not read */
	ENVELOPE_E_KIND,	/* unknown line kind */
	ENVELOPE_E_DUP,		/* header line given twice */
	ENVELOPE_E_ORDER,	/* header after rcpt, rcpt after results */
	ENVELOPE_E_MISSING,	/* id, arrival, sender or size missing */
	ENVELOPE_E_NUMBER,	/* not a number, or out of range */
	ENVELOPE_E_VALUE,	/* a field's value is malformed */
	ENVELOPE_E_TOO_MANY,	/* over ENVELOPE_RCPT_MAX recipients */
	ENVELOPE_E_INDEX,	/* no such recipient */
	ENVELOPE_E_NO_RCPT,	/* the file ends without a recipient */
	ENVELOPE_E_TRUNCATED	/* ends inside the header lines */
};

enum envelope_rstate {
	ENVELOPE_PENDING,	/* never tried */
	ENVELOPE_DEFERRED,
	ENVELOPE_SENT,
	ENVELOPE_FAILED
};

enum envelope_admin {
	ENVELOPE_HOLD,
	ENVELOPE_RELEASE,
	ENVELOPE_RETRY,
	ENVELOPE_BOUNCE
};

struct envelope_rcpt {
	char			 addr[ADDR_MAX + 1];
	unsigned		 notify;	/* DSN_NOTIFY_*, 0 none */
	char			 orcpt[SMTP_ORCPT_MAX + 1]; /* as received,
						 * "" when none */
	/* from the last state line (ENVELOPE_PENDING: none) */
	enum envelope_rstate	 state;
	uint32_t		 attempts;
	int64_t			 next_try;
	char			 code[DSN_STATUS_MAX];	/* "" if none */
	char			 mta[ENVELOPE_MTA_MAX + 1];	/* "" */
	char			 text[ENVELOPE_TEXT_MAX + 1];
	unsigned		 reported;	/* DSN_NOTIFY_FAILURE,
						 * _DELAY, _SUCCESS */
};

/* A parsed envelope: about 1.4 KiB per recipient, 140 KiB in all. */
struct envelope {
	unsigned		 version;
	char			 id[ENVELOPE_ID_MAX + 1];
	int64_t			 arrival;
	char			 sender[ADDR_MAX + 1];	/* "" for <> */
	uint64_t		 size;
	enum dsn_ret		 ret;
	char			 envid[SMTP_ENVID_MAX + 1];	/* xtext */
	int			 smtputf8;
	int			 body8;		/* BODY=8BITMIME */
	char			 client[ENVELOPE_CLIENT_MAX + 1];
	int			 hold;		/* admin hold, not released */
	int64_t			 retry_at;	/* last admin retry, 0 */
	int64_t			 bounce_at;	/* last admin bounce, 0 */
	size_t			 nrcpt;
	struct envelope_rcpt	 rcpt[ENVELOPE_RCPT_MAX];
};

struct envelope_parser {
	struct envelope		*env;
	char			 line[ENVELOPE_LINE_MAX];
	size_t			 len;		/* of a line in progress */
	unsigned long		 lineno;	/* lines completed */
	unsigned		 seen;		/* header lines seen */
	int			 phase;		/* header, rcpt, results */
	enum envelope_err	 err;		/* sticky */
	unsigned long		 err_line;	/* where err was found */
	size_t			 torn;		/* final bytes ignored */
};

/* Starts a parse into env (the caller's storage, cleared here). */
void	envelope_parser_init(struct envelope_parser *, struct envelope *);

/* Feeds the next bytes of the file, in any chunking. Returns 0, or -1
 * once an error is found (p->err, p->err_line; sticky). */
int	envelope_feed(struct envelope_parser *, const char *p, size_t len);

/* The end of the file: 0 when the envelope is complete (a final line
 * without LF is ignored, see above), else -1 with p->err. */
int	envelope_finish(struct envelope_parser *);

/* A short description of err ("unknown line kind", ...). */
const char	*envelope_strerror(enum envelope_err);

/*
 * Applies one appended line (state, reported, admin; without its LF)
 * to a parsed envelope, as the parser would: the runner formats a
 * line, appends it to the file, and applies it, so memory and disk
 * agree. ENVELOPE_OK or the reason it is refused (env unchanged).
 */
enum envelope_err	envelope_apply(struct envelope *, const char *line,
			    size_t len);

/* 1 when s[0..len) is a queue id: 1 to ENVELOPE_ID_MAX characters of
 * 0-9 A-F (nothing that could name another file). */
int	envelope_id_valid(const char *s, size_t len);

/* --- formatters ----------------------------------------------------
 * Each writes its line(s), LF ended, NUL-terminated, into out and
 * returns the length without the NUL; or -1 when out is too small or a
 * field is impossible (what they write, the parser reads back). */

struct envelope_spec_rcpt {
	const char	*addr;
	unsigned	 notify;	/* DSN_NOTIFY_* */
	const char	*orcpt;		/* as received, "" or NULL: none */
};

/* A new envelope, as the receiving side knows it. */
struct envelope_spec {
	const char			*id;
	int64_t				 arrival;
	const char			*sender;	/* "" for <> */
	uint64_t			 size;
	enum dsn_ret			 ret;
	const char			*envid;	/* xtext, "" or NULL */
	int				 smtputf8;
	const char			*client;	/* NULL: "-" */
	const struct envelope_spec_rcpt	*rcpt;
	size_t				 nrcpt;
	int				 body8;	/* BODY=8BITMIME */
};

/* The whole envelope (header and rcpt lines); -1 also when an address
 * or the client holds a control octet or is too long, an id, envid or
 * orcpt is malformed, or nrcpt is 0 or over ENVELOPE_RCPT_MAX.
 * ENVELOPE_WRITE_MAX always suffices. */
int	envelope_format(char *out, size_t cap, const struct envelope_spec *);

/* An attempt's result for one recipient. */
struct envelope_result {
	enum envelope_rstate	 state;		/* not ENVELOPE_PENDING */
	uint32_t		 attempts;
	int64_t			 next_try;
	const char		*code;		/* NULL or "": none */
	const char		*mta;		/* NULL or "": none */
	const char		*text;		/* the reply; may be NULL */
	size_t			 textlen;
};

/*
 * A state line for recipient idx. The text is hostile (a remote
 * server's reply): control octets become spaces and it is cut to
 * ENVELOPE_TEXT_MAX (not inside a UTF-8 sequence); an mta with octets
 * outside 0x21-0x7e has them replaced by '?', and is cut too; a code
 * that is malformed or of the wrong class for the state is written
 * "-". -1 only for a bad state, idx, count or time, or a small out.
 * ENVELOPE_LINE_MAX + 2 always suffices.
 */
int	envelope_format_state(char *out, size_t cap, size_t idx,
	    const struct envelope_result *);

/* "reported <idx> <kind> <when>": kind one of DSN_NOTIFY_FAILURE,
 * _DELAY, _SUCCESS. */
int	envelope_format_reported(char *out, size_t cap, size_t idx,
	    unsigned kind, int64_t when);

/* "admin <verb> <when>". */
int	envelope_format_admin(char *out, size_t cap, enum envelope_admin,
	    int64_t when);

/* --- reading ------------------------------------------------------ */

/* "deferred", "sent", "failed", "pending". */
const char	*envelope_rstate_name(enum envelope_rstate);

/* A recipient's last result in words, as mailq and bounces show it:
 * "host <mta> said: <text>" when the text is an SMTP reply from a
 * remote MTA, else the text; "" when there is none. Returns the
 * length (cut to cap - 1). */
size_t	envelope_reason(const struct envelope_rcpt *, char *out,
	    size_t cap);

#endif
