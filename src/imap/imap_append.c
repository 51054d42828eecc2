/* SPDX-License-Identifier: ISC */
/*
 * imap_append.c - APPEND (RFC 3501 6.3.11) with MULTIAPPEND (RFC 3502)
 * and APPENDUID (RFC 4315 3).
 *
 * A message literal is never held in memory: when the framer announces
 * a literal and the text before it is "tag APPEND mailbox [flags]
 * [date]", the session asks this file, which opens a file in the
 * folder's tmp/ and from then on gets the literal's bytes as they
 * arrive. When the command's last line ends, every message of it is
 * committed in one store transaction (the group commit SMTP delivery
 * uses), and the tagged OK [APPENDUID ...] goes out only once they are
 * durable and have their UIDs:
 *
 *   {n} or {n+} --> imap_append_literal --> "+" (when {n})
 *     literal bytes --> imap_append_data --> tmp/ file
 *     [ (flags) "date" {m} ...  the next message, MULTIAPPEND ]
 *   CRLF --> imap_append_end --> commit (a job that waits) --> OK
 *
 * A message over message_size_limit is refused before a byte of it is
 * read (the framer's literal limit, answered NO [TOOBIG]); a folder
 * that does not exist, before its literal too (NO [TRYCREATE]).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/fmt.h"
#include "core/log.h"
#include "imap/imap_int.h"

/* What the kept command becomes after each message literal: the text
 * of the next message's arguments follows it, so one parse reads them
 * like the first ("mailbox" here stands for the real one, kept in
 * struct imap_append). */
#define NEXT_PREFIX	"a APPEND m "

static int	head_parse(struct imap_session *, size_t brace,
		    struct imap_append_args *);
static int	refuse(struct imap_session *, int coming, const char *code,
		    const char *text);
static void	wait_step(struct imap_session *);
static void	wait_abort(struct imap_session *);
static void	committed(void *, int err, uint32_t uidvalidity,
		    uint32_t first, size_t n);
static void	wake(struct imap_session *);

int
imap_append_command(const struct imap_session *s)
{
	const struct imap_ws *ws = s->ws;
	size_t tl;

	if (s->state == IMAP_ST_NOAUTH || ws == NULL) {
		return 0;
	}
	if (ws->appending) {
		return 1;
	}
	return imap_tag_get(ws->buf, ws->len, &tl) == 0 && ws->len >= tl + 8 &&
	    strncasecmp(ws->buf + tl, " APPEND ", 8) == 0;
}

/* Where the literal header "{n}" or "{n+}" that ends the kept text
 * starts. */
static size_t
brace_pos(const struct imap_ws *ws)
{
	size_t i = ws->len;

	while (i > 0 && ws->buf[i - 1] != '{') {
		i--;
	}
	return i > 0 ? i - 1 : 0;
}

int
imap_append_literal(struct imap_session *s, uint64_t size, int sync)
{
	struct imap_ws *ws = s->ws;
	struct imap_append *ap = &ws->u.append;
	struct imap_append_args aa;
	size_t brace = brace_pos(ws);
	uint32_t kw = 0;
	int r;

	if (ws->len > sizeof ws->buf) {
		return 0;	/* too long already: BAD at its end */
	}
	if ((r = head_parse(s, brace, &aa)) != 1) {
		return r;	/* the mailbox name's literal, or refused */
	}
	if (!ws->appending) {
		char name[IMAP_MAILBOX_MAX + 1];
		size_t nlen;

		if (imap_name_arg(s, aa.mailbox, name, sizeof name, &nlen) ==
		    -1 || imap_mailbox_path(s, name, nlen, ap->path,
		    sizeof ap->path) == -1) {
			return refuse(s, !sync, "[TRYCREATE] ",
			    "No such mailbox");
		}
		if (mbox_save_begin(&ap->save, ap->path, &ap->e) == -1) {
			if (errno == ENOENT) {
				return refuse(s, !sync, "[TRYCREATE] ",
				    "No such mailbox");
			}
			conn_log(s->c, LOG_LVL_WARN, "append %.*s: %s",
			    (int)nlen, name, ap->e.msg);
			return refuse(s, !sync, errno == EMFILE ?
			    "[UNAVAILABLE] " : "[SERVERBUG] ",
			    "Cannot save now");
		}
		ws->appending = 1;
		ap->count = 0;
		ap->failed = 0;
		ap->done = 0;
	}
	if (size == 0) {
		return refuse(s, !sync, "", "Cannot save an empty message");
	}
	if (mbox_save_full(&ap->save)) {
		return refuse(s, !sync, "[LIMIT] ", "Too many messages in one "
		    "APPEND");
	}
	for (unsigned i = 0; i < aa.fl.nkw; i++) {
		int k = mbox_save_keyword(&ap->save, aa.fl.kw[i].p,
		    aa.fl.kw[i].len);

		if (k < 0) {
			return refuse(s, !sync, "[LIMIT] ", "Too many keywords "
			    "in this mailbox");
		}
		kw |= 1u << k;
	}
	if (mbox_save_open(&ap->save, imap_mf_flags(aa.fl.flags), kw,
	    aa.date > 0 ? (time_t)aa.date : 0) == -1) {
		conn_log(s->c, LOG_LVL_WARN, "append: %s", strerror(errno));
		return refuse(s, !sync, errno == ENOSPC || errno == EDQUOT ?
		    "[OVERQUOTA] " : "[SERVERBUG] ", "Cannot save now");
	}
	ap->count++;
	ap->left = size;
	/* The next message's arguments (or the final line end) follow:
	 * kept after a prefix that parses like the command's head. */
	memcpy(ws->buf, NEXT_PREFIX, sizeof NEXT_PREFIX - 1);
	ws->len = sizeof NEXT_PREFIX - 1;
	return 1;
}

/*
 * Parses the kept text up to the literal at brace: 1 when the literal
 * is a message, 0 when it is the mailbox name (kept as usual), -1 when
 * the command was refused here (BAD sent, the framer voided).
 */
static int
head_parse(struct imap_session *s, size_t brace,
    struct imap_append_args *aa)
{
	struct imap_ws *ws = s->ws;
	char saved;
	enum imap_perr pe;

	if (brace > 0 && ws->buf[brace - 1] == '~') {
		brace--;	/* literal8 "~{n}" (RFC 3516 4.4) */
	}
	saved = ws->buf[brace];
	ws->buf[brace] = 'X';	/* the marker */
	pe = imap_cmd_parse(ws->buf, brace + 1, &ws->cmd);
	if (pe == IMAP_PE_OK && (brace == 0 || ws->buf[brace - 1] != ' ')) {
		pe = IMAP_PE_SPACE;	/* "box{5}": the literal is glued */
	}
	if (!ws->appending && ws->cmd.tag_len > 0 && ws->cmd.tag_len <=
	    IMAP_TAG_MAX) {
		memcpy(ws->tag, ws->cmd.tag, ws->cmd.tag_len);
		ws->tag[ws->cmd.tag_len] = '\0';
	}
	if (pe == IMAP_PE_OK) {
		pe = imap_append_parse(&ws->cmd, aa);
	}
	ws->buf[brace] = saved;
	if (pe != IMAP_PE_OK) {
		imap_append_cancel(s);
		imap_framer_void(&s->fr, !s->fr.lit_sync);
		ws->len = 0;
		imap_bad(s, imap_strerror(pe));
		return -1;
	}
	return aa->mailbox != NULL || ws->appending ? 1 : 0;
}

/* The command is refused at a literal: every message saved so far
 * goes, the tagged NO now, and the framer forgets the command (or
 * drops what the client sends of it anyway). */
static int
refuse(struct imap_session *s, int coming, const char *code,
    const char *text)
{
	imap_append_cancel(s);
	imap_framer_void(&s->fr, coming);
	s->ws->len = 0;
	imap_tagged(s, "NO", "%s%s", code, text);
	return -1;
}

void
imap_append_data(struct imap_session *s, const char *p, size_t n)
{
	struct imap_append *ap = &s->ws->u.append;

	if (!s->ws->appending || n > ap->left) {
		return;		/* cannot happen: the framer counts */
	}
	ap->left -= n;
	if (!ap->failed && mbox_save_write(&ap->save, p, n) == -1) {
		ap->failed = errno != 0 ? errno : EIO;
	}
	if (ap->left == 0 && mbox_save_close(&ap->save) == -1 &&
	    !ap->failed) {
		ap->failed = errno != 0 ? errno : EIO;
	}
}

void
imap_append_end(struct imap_session *s)
{
	struct imap_ws *ws = s->ws;
	struct imap_append *ap = &ws->u.append;
	size_t i = sizeof NEXT_PREFIX - 1;

	conn_quickack(s->c, 0);		/* the command is all here */

	/* What follows the last message: its line end, nothing else. */
	if (i < ws->len && ws->buf[i] == '\r') {
		i++;
	}
	if (ws->len > sizeof ws->buf || i + 1 != ws->len ||
	    ws->buf[i] != '\n') {
		imap_append_cancel(s);
		imap_bad(s, "Invalid arguments after the message");
		return;
	}
	if (ap->failed) {
		int err = ap->failed;

		imap_append_cancel(s);
		imap_tagged(s, "NO", "%s", err == ENOSPC || err == EDQUOT ?
		    "[OVERQUOTA] Not enough disk space" :
		    "[SERVERBUG] Cannot save the message");
		return;
	}
	if (mbox_save_commit(&ap->save, committed, s) == -1) {
		int err = errno;

		imap_append_cancel(s);
		imap_tagged(s, "NO", "%s", err == EAGAIN ? "[INUSE] The "
		    "mailbox is locked; try again" : "[SERVERBUG] Cannot "
		    "save the message");
		return;
	}
	imap_job_run(s, wait_step, wait_abort);
}

static void
wait_step(struct imap_session *s)
{
	struct imap_ws *ws = s->ws;
	struct imap_append *ap = &ws->u.append;
	if (!ap->done) {
		return;		/* the store's round has not come yet */
	}
	ws->appending = 0;
	if (ap->err != 0) {
		imap_tagged(s, "NO", "%s", ap->err == ENOSPC || ap->err ==
		    EDQUOT ? "[OVERQUOTA] Not enough disk space" :
		    "[SERVERBUG] Cannot save the message");
	} else if (ap->n == 1) {
		imap_updates(s, 1);
		imap_tagged(s, "OK", "[APPENDUID %u %u] APPEND completed",
		    ap->uidvalidity, ap->first);
	} else {
		imap_updates(s, 1);
		imap_tagged(s, "OK", "[APPENDUID %u %u:%u] APPEND completed",
		    ap->uidvalidity, ap->first, ap->first + (uint32_t)ap->n -
		    1);
	}
	mbox_save_end(&ap->save);
	imap_job_done(s);
}

/* The store's callback: the session hears at its next step. */
static void
committed(void *arg, int err, uint32_t uidvalidity, uint32_t first,
    size_t n)
{
	struct imap_session *s = arg;
	struct imap_append *ap = &s->ws->u.append;

	ap->done = 1;
	ap->err = err;
	ap->uidvalidity = uidvalidity;
	ap->first = first;
	ap->n = n;
	wake(s);
}

/*
 * The store's callback runs from a round (an fd handler or the
 * pre-flush hook), never from a step of this job: the step may run
 * this very turn, from a timer due now, instead of imap_job_yield's
 * 1 ms (which guards a step that yields to itself), a sleep every
 * APPEND or COPY would pay after its sync.
 */
static void
wake(struct imap_session *s)
{
	if (ev_timer_in(s->c->table->ev, &s->job_tick, 0) == -1) {
		imap_job_yield(s);
	}
}

static void
wait_abort(struct imap_session *s)
{
	imap_append_cancel(s);
}

void
imap_append_cancel(struct imap_session *s)
{
	struct imap_ws *ws = s->ws;

	if (ws != NULL && ws->appending) {
		mbox_save_end(&ws->u.append.save);	/* aborts too */
		ws->appending = 0;
		conn_quickack(s->c, 0);
	}
}
