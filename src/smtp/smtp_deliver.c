/* SPDX-License-Identifier: ISC */
/*
 * smtp_deliver.c - where a message goes while it arrives, and what it
 * hands to the store's group commit (store/txn.h) to become durable
 * before its 250.
 *
 * While DATA streams in, the body goes to ONE file, the "primary": the
 * first mailbox's tmp/ file (or the queue file when every recipient is
 * remote), after that file's own header lines. Memory never holds more
 * than a buffer of it.
 *
 * When the message is complete it is committed as one store
 * transaction whose files are, in this order:
 *
 *   the queue copy          queue/tmp/<id> -> queue/msg/<id>
 *     (the barrier)         msg/ fsync'd before the rest is renamed
 *   each mailbox's copy     Maildir tmp/ -> new/ (a mailbox dropped by
 *                           a forwarding loop keeps only the primary,
 *                           as a scratch file: removed, not renamed),
 *                           or tmp/ -> .Junk/new/ for a copy the
 *                           inbound checks sent to Junk
 *   its envelope            queue/tmp/<id>.env -> queue/env/<id>
 *
 * (the queue files only when a recipient is remote). A copy going to
 * Junk is written in the account's Maildir tmp/ like the others and
 * only its final name differs: the rename stays within one file system
 * and the store syncs .Junk/new/ as it syncs new/; a missing Junk
 * folder is created (durably) by the prepare hook, before the renames.
 * So an envelope
 * is never in env/ without its message durable in msg/, and a failed
 * or abandoned transaction takes every file back, the queue's too:
 * the client is not acknowledged and sends it again, and a remote
 * recipient must not get it twice.
 *
 * The other mailboxes' copies (their header + the body copied in the
 * kernel from the primary), the queue copy and its envelope are written
 * by the transaction's prepare hook, at the start of the commit round,
 * so that every message of the round shares its sync. The store calls
 * back (smtp_committed) once the renames are durable.
 *
 * Mail our users submit (authenticated, on 587 or 465) goes through a
 * dkim_stream (tls/dkim_sign.h) on its way to the primary: Date: and
 * Message-ID: are added when missing and, when the sender's domain is
 * local and has a key, a DKIM-Signature placeholder is written at the
 * end of the header; the body is hashed as it passes, and prepare
 * writes the real signature over the placeholder (one pwrite) before
 * any copy is made. The added octets count in every copy's size.
 *
 * Mail from the world (port 25) for an account with the junk filter
 * on (store/junk.h) also goes through a scanner (msg/junk_tok.h) as it
 * streams; at the end of DATA each such account's database scores it
 * (t->junk_score); at or above junk_threshold its copy goes to Junk
 * (smtp_deliver_junk, before the commit names the files). The header
 * "X-Wren-Junk: 0.97" (or "none" when no scanner was free) is the
 * last line wren adds in front of each copy of an account whose filter
 * is trained (JUNK_MIN_TRAIN ham and spam; none before); it has a
 * fixed width, so the primary, whose header is written before the
 * body, gets "none" first and its score by one pwrite at the end, and
 * every size (S=, W=) is known from the start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* rename */
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "map/resolve.h"
#include "msg/date.h"
#include "store/junk.h"
#include "smtp/smtp_int.h"
#include "store/folder.h"
#include "tls/tls.h"

#define PREFIX_MAX	(3 * ADDR_MAX + SMTP_HELO_MAX + CFG_HOST_MAX + 256 + \
		    SMTP_AR_MAX)

static size_t	prefix(const struct smtp_session *, int, char *, size_t,
		    uint64_t *);
static int	target_path(const struct smtp_session *, int, const char *,
		    char *, size_t);
static int	make_secondary(struct smtp_session *, int);
static int	junk_ensure(const struct smtp_session *, int);
static int	file_exists(const struct smtp_session *, int);
static size_t	nfiles(const struct smtp_session *);
static int	file_name(void *, size_t, char *, char *, size_t);
static int	mailbox_name(const struct smtp_session *, int, char *,
		    char *, size_t);
static int	prepare(void *);
static void	done(void *, int);
static int	queue_envelope(struct smtp_session *, struct err *);
static void	submit_begin(struct smtp_session *);
static int	submit_end(struct smtp_session *);
static int	raw_write(void *, const char *, size_t);
static uint64_t	added(const struct smtp_session *);
static uint64_t	msg_len(const struct smtp_session *);
static int	copy_message(int, int, const struct smtp_session *);
static int	rewrite_primary(struct smtp_session *);
static void	junk_begin(struct smtp_session *);
static void	junk_end(struct smtp_session *);
static size_t	junk_value(const struct smtp_session *, int, char *, size_t);

/* "X-Wren-Junk: " and a value of this width ("0.97", "none"). */
#define JUNK_VALUE_LEN	4

int
smtp_deliver_begin(struct smtp_session *s)
{
	char path[MAILDIR_PATH_MAX], hdr[PREFIX_MAX];
	struct err e;
	size_t n;
	int i;

	spool_new_id(s->id, sizeof s->id);
	maildir_unique(s->base, sizeof s->base, smtp.hostname);
	msg_date(s->date, sizeof s->date, time(NULL));
	memset(&s->txn, 0, sizeof s->txn);
	s->txn.name = file_name;
	s->txn.prepare = prepare;
	s->txn.done = done;
	s->txn.arg = s;
	s->txn.round = -1;
	s->primary = -1;
	for (i = 0; i < (int)s->ntargets; i++) {
		if (s->t[i].kind == SMTP_T_LOCAL) {
			s->primary = i;
			break;
		}
	}
	if (s->primary >= 0) {
		if (maildir_ensure(smtp_str(s, s->t[i].home), &e) == -1) {
			log_warnx("smtp %08x: %s", s->c->id, e.msg);
			return -1;
		}
	}
	if (target_path(s, s->primary, "tmp", path, sizeof path) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	junk_begin(s);
	/* Read too: the inbound checks read the header back. */
	s->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (s->fd == -1) {
		log_warn("smtp %08x: %s", s->c->id, path);
		return -1;
	}
	smtp_auth_begin(s);
	s->files_open = 1;
	s->write_errno = 0;
	n = prefix(s, s->primary, hdr, sizeof hdr, NULL);
	s->prefix_len = n;
	submit_begin(s);
	return raw_write(s, hdr, n);
}

int
smtp_deliver_write(struct smtp_session *s, const char *p, size_t n)
{
	if (s->jt != NULL) {
		junk_scan_feed(s->jt, p, n);
	}
	if (s->submit) {
		return dkim_stream_write(&s->dkim, p, n, raw_write, s);
	}
	if (raw_write(s, p, n) == -1) {
		return -1;
	}
	smtp_auth_feed(s, p, n);
	return 0;
}

void
smtp_deliver_abort(struct smtp_session *s)
{
	smtp_auth_cancel(s);
	if (WREN_JUNK_FILTER && s->jt != NULL) {
		junk_scan_put(s->jt);
		s->jt = NULL;
	}
	if (!s->files_open) {
		return;
	}
	if (s->txn.state != STORE_TXN_IDLE) {
		store_txn_cancel(&s->txn);	/* never called back */
	}
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	s->txn.nfiles = nfiles(s);
	store_txn_discard(&s->txn);
	s->files_open = 0;
}

void
smtp_deliver_queue(struct smtp_session *s)
{
	junk_end(s);
	s->txn.nfiles = nfiles(s);
	s->txn.barrier = s->nremote > 0 ? 1 : 0;
	store_txn_commit(&s->txn);
}

void
smtp_deliver_cancel(struct smtp_session *s)
{
	/* Renamed but not yet acknowledged: the client will send it
	 * again, so the store removes what it renamed too. */
	store_txn_cancel(&s->txn);
	smtp_deliver_abort(s);
}

int
smtp_deliver_junk(struct smtp_session *s, int i, const char *reason)
{
	int any = 0;

	for (int k = 0; k < (int)s->ntargets; k++) {
		if ((i == -1 || i == k) && s->t[k].kind == SMTP_T_LOCAL) {
			if (!s->t[k].junk) {
				conn_log(s->c, LOG_LVL_INFO, "to Junk for "
				    "<%s>: %s", smtp_str(s, s->t[k].dto),
				    reason);
			}
			s->t[k].junk = 1;
			any = 1;
		}
	}
	return any || i == -1 ? 0 : -1;
}

int
smtp_commit_init(struct conn_table *t, struct err *e)
{
	/* serve loads the keys before dropping privileges; a caller
	 * that did not (tests) gets them here. */
	if (!dkim_loaded() && dkim_setup(smtp.cfg, e) == -1) {
		return -1;
	}
	if (store_txn_init(smtp.ev, t, e) == -1) {
		return -1;
	}
	if (store_txn_watch(&smtp.busy) == -1) {
		store_txn_shutdown();
		return err_set(e, "smtp: the store watches too many writers");
	}
	return 0;
}

void
smtp_commit_shutdown(void)
{
	store_txn_shutdown();
}

/* The store's prepare hook, at the start of the commit round: the
 * primary is complete; the message's other files. */
static int
prepare(void *arg)
{
	struct smtp_session *s = arg;
	struct err e;
	int err = s->write_errno;

	if (err == 0 && submit_end(s) == -1) {
		err = s->write_errno != 0 ? s->write_errno : EIO;
	}
	if (close(s->fd) == -1 && err == 0) {
		err = errno;
	}
	s->fd = -1;
	for (int i = 0; i < (int)s->ntargets && !err; i++) {
		if (s->t[i].kind != SMTP_T_LOCAL || s->t[i].dropped) {
			continue;
		}
		if (i != s->primary) {
			err = make_secondary(s, i) == -1 ? errno : 0;
		}
		if (!err && s->t[i].junk && junk_ensure(s, i) == -1) {
			err = EIO;
		}
	}
	if (!err && s->primary >= 0 && s->nremote > 0) {
		err = make_secondary(s, -1) == -1 ? errno : 0;
	}
	if (!err && s->nremote > 0 && queue_envelope(s, &e) == -1) {
		log_warnx("smtp %08x: %s", s->c->id, e.msg);
		err = EIO;
	}
	/* Last: the other copies were made from the primary as it was. */
	if (!err && WREN_INBOUND_AUTH && s->auth.arlen > 0 &&
	    (s->primary < 0 || !s->t[s->primary].dropped) &&
	    rewrite_primary(s) == -1) {
		err = errno != 0 ? errno : EIO;
	}
	return err;
}

/* The store's callback: durable (0) or failed and removed (errno). */
static void
done(void *arg, int err)
{
	struct smtp_session *s = arg;

	s->files_open = 0;
	smtp_committed(s, err);
}

/* How many files the transaction holds (see the top comment). */
static size_t
nfiles(const struct smtp_session *s)
{
	size_t n = s->nremote > 0 ? 2 : 0;

	for (int i = 0; i < (int)s->ntargets; i++) {
		n += (size_t)file_exists(s, i);
	}
	return n;
}

/* The store's name hook: file k, in the order of the top comment. */
static int
file_name(void *arg, size_t k, char *tmp, char *final, size_t cap)
{
	const struct smtp_session *s = arg;
	const char *dd = cfg_str(smtp.cfg, CFG_DATA_DIR);
	int i, env = 0;

	if (s->nremote == 0 || k > 0) {
		k -= s->nremote > 0;	/* after the queue copy */
		for (i = 0; i < (int)s->ntargets; i++) {
			if (file_exists(s, i) && k-- == 0) {
				break;
			}
		}
		if (i < (int)s->ntargets) {
			return mailbox_name(s, i, tmp, final, cap);
		}
		if (s->nremote == 0 || k > 0) {
			errno = EINVAL;
			return -1;
		}
		env = 1;
	}
	if ((tmp != NULL && spool_path(tmp, cap, dd, "tmp", s->id,
	    env ? ".env" : "") == -1) || (final != NULL &&
	    spool_path(final, cap, dd, env ? "env" : "msg", s->id,
	    "") == -1)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* The tmp/ and new/ paths of target i's copy ("" final: scratch). */
static int
mailbox_name(const struct smtp_session *s, int i, char *tmp, char *final,
    size_t cap)
{
	if ((tmp != NULL && target_path(s, i, "tmp", tmp, cap) == -1) ||
	    (final != NULL && !s->t[i].dropped &&
	    target_path(s, i, "new", final, cap) == -1)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (final != NULL && s->t[i].dropped) {
		final[0] = '\0';	/* the body source only */
	}
	return 0;
}

/* 1 when target i (-1: the queue copy) has a file of its own. */
static int
file_exists(const struct smtp_session *s, int i)
{
	if (i < 0) {
		return s->nremote > 0;
	}
	return s->t[i].kind == SMTP_T_LOCAL && (!s->t[i].dropped ||
	    i == s->primary);
}

/* The queue envelope of a message with remote recipients, in the
 * queue's tmp/ (synced with the files, renamed after them). */
static int
queue_envelope(struct smtp_session *s, struct err *e)
{
	struct spool_rcpt r[SMTP_TARGETS_MAX];
	char client[SMTP_HELO_MAX + 64], hdr[PREFIX_MAX];
	struct spool_env env;
	size_t nr = 0;

	for (size_t i = 0; i < s->ntargets; i++) {
		if (s->t[i].kind != SMTP_T_REMOTE) {
			continue;
		}
		r[nr].addr = smtp_str(s, s->t[i].addr);
		r[nr].notify = s->t[i].notify;
		r[nr].orcpt = smtp_str(s, s->t[i].orcpt);
		nr++;
	}
	(void)fmt(client, sizeof client, "%s [%s]", s->helo, s->ip);
	memset(&env, 0, sizeof env);
	env.id = s->id;
	env.arrival = (int64_t)time(NULL);
	env.sender = s->sender;
	env.size = msg_len(s) + prefix(s, -1, hdr, sizeof hdr, NULL);
	env.ret = (int)s->ret;
	env.envid = s->envid;
	env.smtputf8 = s->smtputf8;
	env.body8 = s->body8;
	env.client = client;
	env.rcpt = r;
	env.nrcpt = nr;
	return spool_write_env(cfg_str(smtp.cfg, CFG_DATA_DIR), &env, e);
}

/*
 * The lines wren adds in front of the message for target i (-1: the
 * queue copy): Return-Path and Delivered-To for a mailbox (RFC 5321
 * 4.4; Delivered-To as Postfix writes it, which also detects forwarding
 * loops), and the Received trace (RFC 5321 4.4) for both.
 */
static size_t
prefix(const struct smtp_session *s, int i, char *out, size_t cap,
    uint64_t *lines)
{
	int n = 0, one = s->nrcpt == 1, tls;
	const char *tlsv = "", *cipher = "";
	char tlsnote[96] = "";

	if (i >= 0) {
		n = fmt(out, cap, "Return-Path: <%s>\nDelivered-To: %s\n",
		    s->sender, smtp_str(s, s->t[i].dto));
	}
	if (WREN_INBOUND_AUTH && s->auth.arlen > 0 &&
	    (size_t)n + s->auth.arlen < cap) {
		/* RFC 8601 5: with our trace fields, at the top. */
		memcpy(out + n, s->auth.ar, s->auth.arlen);
		n += (int)s->auth.arlen;
	}
	tls = tls_info(s->c, &tlsv, &cipher);
	if (tls) {
		(void)fmt(tlsnote, sizeof tlsnote,
		    "\n\t(using %s with cipher %s)", tlsv, cipher);
	}
	/* RFC 3848: ESMTPS with TLS, UTF8SMTP(S) with SMTPUTF8. */
	n += fmt(out + n, cap - (size_t)n, "Received: from %s ([%s%s])\n"
	    "\tby %s (wren) with %s%s id %s%s%s%s%s;\n\t%s\n", s->helo,
	    s->c->family == AF_INET6 ? "IPv6:" : "", s->ip, smtp.hostname,
	    s->smtputf8 ? "UTF8SMTP" : s->esmtp ? "ESMTP" : "SMTP",
	    tls ? "S" : "", s->id, tls ? tlsnote : "",
	    one ? "\n\tfor <" : "", one ? s->rcpt1 : "", one ? ">" : "",
	    s->date);
	if (i >= 0 && s->t[i].junk_score != SMTP_JUNK_OFF && n >= 0 &&
	    (size_t)n < cap) {
		char v[JUNK_VALUE_LEN + 1];

		(void)junk_value(s, i, v, sizeof v);
		n += fmt(out + n, cap - (size_t)n, "X-Wren-Junk: %s\n", v);
	}
	if ((size_t)n >= cap) {
		n = (int)cap - 1;
	}
	if (lines != NULL) {
		*lines = 0;
		for (int k = 0; k < n; k++) {
			*lines += out[k] == '\n';
		}
	}
	return (size_t)n;
}

/* Target i's Junk folder exists, or is made now (as at IMAP's first
 * login, with the other special-use folders, durably: before the
 * rename into it). A few stat calls when it exists. 0 or -1. */
static int
junk_ensure(const struct smtp_session *s, int i)
{
	char root[FOLDER_PATH_MAX], path[FOLDER_PATH_MAX];
	struct stat st;
	struct err e;

	if (fmt(root, sizeof root, "%s/Maildir", smtp_str(s, s->t[i].home))
	    >= (int)sizeof root || fmt(path, sizeof path, "%s/.Junk/new",
	    root) >= (int)sizeof path) {
		return -1;
	}
	if (stat(path, &st) == 0) {
		return 0;
	}
	if (folder_provision(root, &e) != FOLDER_OK) {
		log_warnx("smtp %08x: %s: %s", s->c->id, root, e.msg);
		return -1;
	}
	return 0;
}

/* tmp/ or new/ path of target i; -1 is the queue file (tmp only). For
 * a copy sent to Junk, new/ is the Junk folder's. */
static int
target_path(const struct smtp_session *s, int i, const char *sub,
    char *out, size_t cap)
{
	char hdr[PREFIX_MAX];
	uint64_t size, vsize, lines;
	size_t n;

	if (i < 0) {
		return spool_path(out, cap, cfg_str(smtp.cfg, CFG_DATA_DIR),
		    "tmp", s->id, "");
	}
	if (strcmp(sub, "tmp") == 0) {
		return maildir_path(out, cap, smtp_str(s, s->t[i].home), sub,
		    s->base, 0, 0);
	}
	n = prefix(s, i, hdr, sizeof hdr, &lines);
	size = n + msg_len(s);
	vsize = n + lines + smtp_body_vsize(&s->body) + added(s) +
	    (s->submit ? s->dkim.added_lines : 0) - s->auth.cut_bytes -
	    s->auth.cut_lines;
	return maildir_path(out, cap, smtp_str(s, s->t[i].home),
	    s->t[i].junk ? ".Junk/new" : sub, s->base, size, vsize);
}

/* Another copy: its own header, then the primary's body. */
static int
make_secondary(struct smtp_session *s, int i)
{
	char path[MAILDIR_PATH_MAX], src[MAILDIR_PATH_MAX], hdr[PREFIX_MAX];
	struct err e;
	size_t n;
	int fd, in, rc = 0;

	if (i >= 0 && maildir_ensure(smtp_str(s, s->t[i].home), &e) == -1) {
		log_warnx("smtp %08x: %s", s->c->id, e.msg);
		errno = EIO;
		return -1;
	}
	if (target_path(s, i, "tmp", path, sizeof path) == -1 ||
	    target_path(s, s->primary, "tmp", src, sizeof src) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in == -1) {
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		int err = errno;

		close(in);
		errno = err;
		return -1;
	}
	n = prefix(s, i, hdr, sizeof hdr, NULL);
	if (store_write_all(fd, hdr, n) == -1 ||
	    copy_message(fd, in, s) == -1) {
		rc = -1;
	} else {
		store_start_writeback(fd);
	}
	if (close(fd) == -1) {
		rc = -1;
	}
	close(in);
	return rc;
}

/*
 * Mail submitted by one of our users (RFC 6409 8.2, 8.3: the MSA may
 * add Date and Message-ID): through a dkim_stream, signed when the
 * envelope sender's domain is local and has a key (d= is that domain).
 * Mail from the world (port 25) is passed as it is: never signed.
 */
static void
submit_begin(struct smtp_session *s)
{
	char msgid[DKIM_MSGID_MAX];
	const struct dkim_key *key = NULL;
	const char *at = strrchr(s->sender, '@'), *dom = "";

	s->submit = s->mode != SMTP_MODE_MX && s->login[0] != '\0';
	if (!s->submit) {
		return;
	}
	if (at != NULL && resolve_is_local_domain(smtp.cfg, at + 1,
	    strlen(at + 1))) {
		dom = at + 1;
		key = dkim_key_for(dom, strlen(dom));
	}
	(void)fmt(msgid, sizeof msgid, "<%s@%s>", s->id, smtp.hostname);
	dkim_stream_init(&s->dkim, key, dom, dkim_selector(), s->date, msgid,
	    (int64_t)time(NULL));
}

/* The message is complete: the signature over its placeholder. 0, or
 * -1 when the file could not be written. */
static int
submit_end(struct smtp_session *s)
{
	char sig[DKIM_SIG_MAX];
	uint64_t off = 0;
	long len;

	if (!s->submit) {
		return 0;
	}
	len = dkim_stream_finish(&s->dkim, raw_write, s, sig, sizeof sig,
	    &off);
	if (len == -1) {
		return -1;
	}
	if (s->dkim.key != NULL && s->dkim.why != NULL) {
		conn_log(s->c, LOG_LVL_WARN, "not DKIM-signed: %s",
		    s->dkim.why);
	}
	if (len > 0 && pwrite(s->fd, sig, (size_t)len,
	    (off_t)(s->prefix_len + off)) != (ssize_t)len) {
		s->write_errno = errno != 0 ? errno : EIO;
		return -1;
	}
	return 0;
}

/* The message as every copy holds it: forged Authentication-Results
 * fields (smtp_auth.c) left out. */
static uint64_t
msg_len(const struct smtp_session *s)
{
	return s->body.size + added(s) - s->auth.cut_bytes;
}

/* The primary's message (after its prefix) to the end of fd, without
 * the fields the checks cut (in header order). */
static int
copy_message(int fd, int in, const struct smtp_session *s)
{
	uint64_t pos = 0, total = s->body.size + added(s);

	for (size_t k = 0; k < s->auth.ncuts; k++) {
		uint64_t at = s->auth.cut_off[k];

		if (at > pos && store_copy(fd, in, s->prefix_len + pos,
		    at - pos) == -1) {
			return -1;
		}
		pos = at + s->auth.cut_len[k];
	}
	return total > pos ? store_copy(fd, in, s->prefix_len + pos,
	    total - pos) : 0;
}

/*
 * The primary was written before the checks had a result: it is made
 * again, with the Authentication-Results field in its prefix and the
 * forged ones left out, as tmp/<base>.ar renamed over it (one copy in
 * the kernel, like any other mailbox's).
 */
static int
rewrite_primary(struct smtp_session *s)
{
	char path[MAILDIR_PATH_MAX], tmp[MAILDIR_PATH_MAX + 4];
	char hdr[PREFIX_MAX];
	size_t n;
	int fd, in, rc = 0, err = 0;

	if (target_path(s, s->primary, "tmp", path, sizeof path) == -1 ||
	    fmt(tmp, sizeof tmp, "%s.ar", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in == -1) {
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		err = errno;
		close(in);
		errno = err;
		return -1;
	}
	n = prefix(s, s->primary, hdr, sizeof hdr, NULL);
	if (store_write_all(fd, hdr, n) == -1 ||
	    copy_message(fd, in, s) == -1) {
		rc = -1;
		err = errno;
	} else {
		store_start_writeback(fd);
	}
	if (close(fd) == -1 && rc == 0) {
		rc = -1;
		err = errno;
	}
	close(in);
	if (rc == 0 && rename(tmp, path) == -1) {
		rc = -1;
		err = errno;
	}
	if (rc == -1) {
		(void)unlink(tmp);
		errno = err;
		return -1;
	}
	s->prefix_len = n;
	return 0;
}

/* Octets the submission stream added to the message. */
static uint64_t
added(const struct smtp_session *s)
{
	return s->submit ? s->dkim.added : 0;
}

/* Writes to the primary; a failure is kept for the end of DATA. */
static int
raw_write(void *arg, const char *p, size_t n)
{
	struct smtp_session *s = arg;

	if (s->write_errno != 0 || n == 0) {
		return s->write_errno ? -1 : 0;
	}
	if (store_write_all(s->fd, p, n) == -1) {
		s->write_errno = errno;
		return -1;
	}
	return 0;
}

/*
 * Which targets are filtered: accounts with the filter on whose
 * database is trained enough to score (before that their mail gets
 * no header at all); SMTP_JUNK_OFF for the others, and for every
 * target of mail our users submit. A scanner when one is filtered.
 */
static void
junk_begin(struct smtp_session *s)
{
	int any = 0;

	s->jt = NULL;
	for (size_t i = 0; i < s->ntargets; i++) {
		struct smtp_target *t = &s->t[i];

		t->junk_score = SMTP_JUNK_OFF;
		if (WREN_JUNK_FILTER && t->kind == SMTP_T_LOCAL &&
		    s->mode == SMTP_MODE_MX && junk_on(smtp_str(s, t->home)) &&
		    junk_trained(smtp_str(s, t->home))) {
			t->junk_score = SMTP_JUNK_NONE;
			any = 1;
		}
	}
	if (WREN_JUNK_FILTER && any) {
		s->jt = junk_scan_get();
	}
}

/* End of DATA: each filtered account's score and decision; the
 * primary's header value written over its "none". */
static void
junk_end(struct smtp_session *s)
{
	unsigned thr;
	char v[JUNK_VALUE_LEN + 1];

	if (!WREN_JUNK_FILTER || s->jt == NULL) {
		return;
	}
	junk_scan_end(s->jt);
	thr = (unsigned)cfg_num(smtp.cfg, CFG_JUNK_THRESHOLD) * 10;
	for (size_t i = 0; i < s->ntargets; i++) {
		struct smtp_target *t = &s->t[i];
		int sc;

		if (t->junk_score == SMTP_JUNK_OFF || t->dropped) {
			continue;
		}
		sc = junk_score(smtp_str(s, t->home), s->jt);
		t->junk_score = (int16_t)(sc < 0 ? SMTP_JUNK_NONE : sc);
		(void)junk_value(s, (int)i, v, sizeof v);
		conn_log(s->c, LOG_LVL_DEBUG, "junk score %s for <%s>", v,
		    smtp_str(s, t->dto));
		if (sc >= 0 && (unsigned)sc >= thr) {
			char why[32];

			(void)fmt(why, sizeof why, "junk score %s", v);
			(void)smtp_deliver_junk(s, (int)i, why);
		}
	}
	junk_scan_put(s->jt);
	s->jt = NULL;
	if (s->primary >= 0 && s->fd != -1 &&
	    s->t[s->primary].junk_score >= 0) {
		(void)junk_value(s, s->primary, v, sizeof v);
		if (pwrite(s->fd, v, JUNK_VALUE_LEN, (off_t)(s->prefix_len -
		    JUNK_VALUE_LEN - 1)) != JUNK_VALUE_LEN &&
		    s->write_errno == 0) {
			s->write_errno = errno != 0 ? errno : EIO;
		}
	}
}

/* Target i's X-Wren-Junk value, JUNK_VALUE_LEN wide. */
static size_t
junk_value(const struct smtp_session *s, int i, char *out, size_t cap)
{
	int sc = s->t[i].junk_score;

	if (sc < 0) {
		return (size_t)fmt(out, cap, "none");
	}
	sc = (sc + 5) / 10;	/* hundredths */
	return (size_t)fmt(out, cap, "%d.%02d", sc / 100, sc % 100);
}
