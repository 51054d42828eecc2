/* SPDX-License-Identifier: ISC */
/*
 * bounce.c - delivery status notifications (see bounce.h): RFC 3464
 * (message/delivery-status), RFC 6522 (multipart/report), RFC 3461
 * (NOTIFY, RET, ORCPT, ENVID), RFC 6533 (UTF-8 addresses), RFC 3463
 * (status codes), RFC 3834 5 (Auto-Submitted).
 *
 * The report is written through one small buffer; the original
 * message is read twice with pread (once to measure its header and
 * see whether it has 8-bit octets, once to copy it), never held.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "msg/date.h"
#include "queue/bounce.h"

#define OUT_BUF		8192
#define COPY_BUF	8192
#define BOUNDARY_MAX	70	/* RFC 2046 5.1.1 */
/* Holds every line formatted into it whole (an address, an MTA, a
 * reply text and an ORCPT at most), so no (void)fmt() below cuts;
 * the boundary alone is cut on purpose, to RFC 2046's 70. */
#define LINE_BUF	(ADDR_MAX + ENVELOPE_MTA_MAX + ENVELOPE_TEXT_MAX + \
			    SMTP_ORCPT_MAX + 64)

struct out {
	int	fd;
	int	err;		/* errno of the first failed write */
	size_t	n;
	char	buf[OUT_BUF];
};

/* The returned original: which part, how long, whether 8-bit. */
struct orig {
	int		present;
	int		full;		/* whole message, else header */
	uint64_t	len;
	int		eight;
};

static void	put(struct out *, const char *, size_t);
static void	puts0(struct out *, const char *);
static void	putf(struct out *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	flush(struct out *);
static void	wrap(struct out *, const char *, int);
static void	field(struct out *, const char *, const char *);
static void	clean(char *, size_t, const char *, int);
static int	has8(const char *);
static int	measure(int, int, struct orig *, struct err *);
static int	copy_orig(struct out *, int, const struct orig *,
		    struct err *);
static void	human(struct out *, const struct bounce_req *,
		    const struct orig *);
static void	status(struct out *, const struct bounce_req *, int);
static void	rcpt_status(struct out *, const struct bounce_req *,
		    const struct envelope_rcpt *, int);
static void	orcpt_value(char *, size_t, const char *, int);

int
bounce_rcpt_wanted(const struct envelope *env, size_t i,
    enum bounce_kind kind)
{
	const struct envelope_rcpt *r;
	unsigned bit;

	if (env->sender[0] == '\0' || i >= env->nrcpt) {
		return 0;
	}
	r = &env->rcpt[i];
	if (kind == BOUNCE_FAILURE) {
		bit = DSN_NOTIFY_FAILURE;
		if (r->state != ENVELOPE_FAILED) {
			return 0;
		}
	} else {
		bit = DSN_NOTIFY_DELAY;
		if (r->state != ENVELOPE_DEFERRED) {
			return 0;
		}
	}
	if (r->reported & bit) {
		return 0;
	}
	/* Not given: FAILURE,DELAY (RFC 3461 4.1 lets the MTA choose). */
	return r->notify == 0 || (r->notify & bit) != 0;
}

int
bounce_needed(const struct envelope *env, enum bounce_kind kind)
{
	for (size_t i = 0; i < env->nrcpt; i++) {
		if (bounce_rcpt_wanted(env, i, kind)) {
			return 1;
		}
	}
	return 0;
}

int
bounce_write(int fd, const struct bounce_req *q, struct err *e)
{
	static struct out w;
	const struct envelope *env = q->env;
	char host[CFG_HOST_MAX + 1], to[ADDR_MAX + 1], date[MSG_DATE_MAX];
	char boundary[BOUNDARY_MAX + 1], line[LINE_BUF];
	int global = 0, text8 = 0, n = 0;
	struct orig orig;
	struct tm tm;
	time_t t;

	for (size_t i = 0; i < env->nrcpt; i++) {
		if (!bounce_rcpt_wanted(env, i, q->kind)) {
			continue;
		}
		n++;
		global |= has8(env->rcpt[i].addr);
		text8 |= has8(env->rcpt[i].addr) | has8(env->rcpt[i].text);
	}
	if (n == 0) {
		return 0;
	}
	/* RFC 6533 only for a message that was sent with SMTPUTF8. */
	global = env->smtputf8 && (global || has8(env->sender));
	text8 |= global;
	memset(&orig, 0, sizeof orig);
	if (q->msg_fd >= 0 && measure(q->msg_fd, q->kind == BOUNCE_FAILURE &&
	    env->ret != DSN_RET_HDRS, &orig, e) == -1) {
		return -1;
	}
	w.fd = fd;
	w.err = 0;
	w.n = 0;
	clean(host, sizeof host, q->host, 0);
	clean(to, sizeof to, env->sender, env->smtputf8);
	t = (time_t)q->now;
	if (gmtime_r(&t, &tm) == NULL) {
		memset(&tm, 0, sizeof tm);
	}
	/* Postfix's form: queue id, time, host; cut to RFC 2046's 70. */
	(void)fmt(boundary, sizeof boundary, "%s.%lld/%s", q->id,
	    (long long)q->now, host);

	/* The header (RFC 5322 3.6; RFC 3834 5 Auto-Submitted). */
	putf(&w, "From: \"Mail Delivery System\" <MAILER-DAEMON@%s>\n", host);
	(void)fmt(line, sizeof line, "To: <%s>", to);
	field(&w, line, NULL);
	putf(&w, "Subject: %s\n", q->kind == BOUNCE_FAILURE ?
	    "Undelivered Mail Returned to Sender" :
	    "Delayed Mail (still being retried)");
	msg_date(date, sizeof date, t);
	putf(&w, "Date: %s\n", date);
	putf(&w, "Message-ID: <%04d%02d%02d%02d%02d%02d.%s@%s>\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, q->id, host);
	puts0(&w, "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n");
	putf(&w, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\n\tboundary=\"%s\"\n", boundary);
	if (text8 || orig.eight) {
		puts0(&w, "Content-Transfer-Encoding: 8bit\n");
	}
	puts0(&w, "\nThis is a MIME-encapsulated message.\n\n");

	/* 1: in words. */
	putf(&w, "--%s\nContent-Description: Notification\n"
	    "Content-Type: text/plain; charset=%s\n%s\n", boundary,
	    text8 ? "utf-8" : "us-ascii",
	    text8 ? "Content-Transfer-Encoding: 8bit\n" : "");
	human(&w, q, &orig);

	/* 2: for programs. */
	putf(&w, "--%s\nContent-Description: Delivery report\n"
	    "Content-Type: message/%sdelivery-status\n%s\n", boundary,
	    global ? "global-" : "",
	    global ? "Content-Transfer-Encoding: 8bit\n" : "");
	status(&w, q, global);

	/* 3: what was sent. */
	if (orig.present) {
		putf(&w, "\n--%s\nContent-Description: Undelivered %s\n"
		    "Content-Type: %s\n%s\n", boundary,
		    orig.full ? "Message" : "Message Headers",
		    orig.full ? (global ? "message/global" :
		    "message/rfc822") : (global ? "message/global-headers" :
		    "text/rfc822-headers"),
		    orig.eight ? "Content-Transfer-Encoding: 8bit\n" : "");
		if (copy_orig(&w, q->msg_fd, &orig, e) == -1) {
			return -1;
		}
	}
	putf(&w, "\n--%s--\n", boundary);
	if (flush(&w) == -1) {
		return err_set(e, "bounce %s: %s", q->id, strerror(w.err));
	}
	return n;
}

/* --- the three parts ------------------------------------------------- */

/* Part 1, worded as Postfix's bounce(8) templates. */
static void
human(struct out *w, const struct bounce_req *q, const struct orig *o)
{
	const struct envelope *env = q->env;
	char host[CFG_HOST_MAX + 1], line[LINE_BUF], date[MSG_DATE_MAX];
	char reason[ENVELOPE_MTA_MAX + ENVELOPE_TEXT_MAX + 32];

	clean(host, sizeof host, q->host, 0);
	putf(w, "This is the mail system at host %s.\n\n", host);
	if (q->kind == BOUNCE_FAILURE) {
		puts0(w, "I'm sorry to have to inform you that your message "
		    "could not\nbe delivered to one or more recipients.");
		puts0(w, !o->present ? "\n" : o->full ?
		    " It's attached below.\n" :
		    " Its header is attached below.\n");
	} else {
		int64_t h = (q->now - env->arrival) / 3600;

		puts0(w, "###############################################"
		    "#####################\n# THIS IS A WARNING ONLY.  YOU "
		    "DO NOT NEED TO RESEND YOUR MESSAGE. #\n##############"
		    "######################################################"
		    "\n\n");
		putf(w, "Your message could not be delivered for more than "
		    "%lld hour(s).\n", (long long)(h > 0 ? h : 0));
		if (q->retry_until > 0) {
			msg_date(date, sizeof date, (time_t)q->retry_until);
			putf(w, "It will be retried until %s.\n", date);
		}
	}
	puts0(w, "\nFor further assistance, please send mail to "
	    "postmaster.\n\nIf you do so, please include this problem "
	    "report. You can\ndelete your own text from the attached "
	    "returned message.\n\n                   The mail system\n\n");
	for (size_t i = 0; i < env->nrcpt; i++) {
		const struct envelope_rcpt *r = &env->rcpt[i];
		char addr[ADDR_MAX + 1];

		if (!bounce_rcpt_wanted(env, i, q->kind)) {
			continue;
		}
		clean(addr, sizeof addr, r->addr, 1);
		if (envelope_reason(r, reason, sizeof reason) == 0) {
			const char *c = r->code[0] ? r->code :
			    q->kind == BOUNCE_FAILURE ? "5.0.0" : "4.0.0";

			(void)fmt(reason, sizeof reason, "%s: %s",
			    dsn_status_class_name(c, strlen(c)),
			    dsn_status_subject(c, strlen(c)));
		}
		(void)fmt(line, sizeof line, "<%s>: %s", addr, reason);
		clean(line, sizeof line, line, 1);
		wrap(w, line, 1);
		puts0(w, "\n");
	}
}

/* Part 2 (RFC 3464 2.2, 2.3). */
static void
status(struct out *w, const struct bounce_req *q, int global)
{
	const struct envelope *env = q->env;
	char host[CFG_HOST_MAX + 1], line[LINE_BUF], date[MSG_DATE_MAX];
	char s[ADDR_MAX + 1], envid[SMTP_ENVID_MAX + 1];

	clean(host, sizeof host, q->host, 0);
	putf(w, "Reporting-MTA: dns; %s\n", host);
	putf(w, "X-Wren-Queue-ID: %s\n", env->id);
	clean(s, sizeof s, env->sender, global);
	(void)fmt(line, sizeof line, "X-Wren-Sender: %s; %s",
	    global && has8(s) ? "utf-8" : "rfc822", s);
	field(w, line, NULL);
	/* RFC 3461 4.4: ENVID is returned decoded, when it is text. */
	if (env->envid[0] != '\0') {
		if (dsn_xtext_decode(env->envid, strlen(env->envid), envid,
		    sizeof envid) < 0 || has8(envid)) {
			memcpy(envid, env->envid, strlen(env->envid) + 1);
		}
		clean(line, sizeof line, envid, 0);
		field(w, "Original-Envelope-Id: ", line);
	}
	msg_date(date, sizeof date, (time_t)env->arrival);
	putf(w, "Arrival-Date: %s\n", date);
	for (size_t i = 0; i < env->nrcpt; i++) {
		if (bounce_rcpt_wanted(env, i, q->kind)) {
			rcpt_status(w, q, &env->rcpt[i], global);
		}
	}
}

static void
rcpt_status(struct out *w, const struct bounce_req *q,
    const struct envelope_rcpt *r, int global)
{
	char addr[ADDR_MAX + 1], line[LINE_BUF], host[ENVELOPE_MTA_MAX + 1];
	char date[MSG_DATE_MAX], *b;
	const char *t = r->text;

	clean(addr, sizeof addr, r->addr, global);
	(void)fmt(line, sizeof line, "\nFinal-Recipient: %s; %s",
	    global && has8(addr) ? "utf-8" : "rfc822", addr);
	puts0(w, "\n");
	field(w, line + 1, NULL);
	if (r->orcpt[0] != '\0') {
		orcpt_value(line, sizeof line, r->orcpt, global);
		field(w, "Original-Recipient: ", line);
	}
	putf(w, "Action: %s\n", q->kind == BOUNCE_FAILURE ? "failed" :
	    "delayed");
	putf(w, "Status: %s\n", r->code[0] ? r->code :
	    q->kind == BOUNCE_FAILURE ? "5.0.0" : "4.0.0");
	if (r->mta[0] != '\0') {
		memcpy(host, r->mta, strlen(r->mta) + 1);
		if ((b = strchr(host, '[')) != NULL && b != host) {
			*b = '\0';	/* "name[address]": the name */
		}
		putf(w, "Remote-MTA: dns; %s\n", host);
	}
	if (t[0] != '\0') {
		int smtp = r->mta[0] != '\0' && t[0] >= '2' && t[0] <= '5' &&
		    t[1] >= '0' && t[1] <= '9' && t[2] >= '0' && t[2] <= '9';

		(void)fmt(line, sizeof line, "Diagnostic-Code: %s; %s",
		    smtp ? "smtp" : "X-Wren", t);
		clean(line, sizeof line, line, global);
		field(w, line, NULL);
	}
	if (q->kind == BOUNCE_DELAY && q->retry_until > 0) {
		msg_date(date, sizeof date, (time_t)q->retry_until);
		putf(w, "Will-Retry-Until: %s\n", date);
	}
}

/*
 * ORCPT "type;xtext" as RFC 3461 4.2 asks to report it: an rfc822
 * address decoded from xtext, unless that gives control octets (or
 * 8-bit outside a global report); other types as received.
 */
static void
orcpt_value(char *out, size_t cap, const char *orcpt, int global)
{
	const char *semi = strchr(orcpt, ';');
	char dec[SMTP_ORCPT_MAX + 1];
	size_t tl = semi ? (size_t)(semi - orcpt) : 0;
	int n;

	if (semi != NULL && tl == 6 && strncasecmp(orcpt, "rfc822", 6) == 0 &&
	    (n = dsn_xtext_decode(semi + 1, strlen(semi + 1), dec,
	    sizeof dec)) >= 0) {
		int ok = 1;

		for (int i = 0; i < n; i++) {
			unsigned char c = (unsigned char)dec[i];

			if (c < 0x20 || c == 0x7f || (c >= 0x80 && !global)) {
				ok = 0;
			}
		}
		if (ok) {
			(void)fmt(out, cap, "rfc822;%s", dec);
			return;
		}
	}
	clean(out, cap, orcpt, 0);
}

/* --- the original ---------------------------------------------------- */

/*
 * How much of the original goes into part 3: all of it when full is
 * allowed and it is at most BOUNCE_FULL_MAX, else its header (up to
 * the empty line, at most BOUNCE_HDRS_MAX, cut after a line end); and
 * whether that holds 8-bit octets.
 */
static int
measure(int fd, int full, struct orig *o, struct err *e)
{
	char buf[COPY_BUF];
	struct stat st;
	uint64_t off = 0, last_lf = 0, limit;
	char prev = '\n';

	if (fstat(fd, &st) == -1) {
		return err_set(e, "bounce: original: %s", strerror(errno));
	}
	o->present = 1;
	o->full = full && (uint64_t)st.st_size <= BOUNCE_FULL_MAX;
	limit = o->full ? (uint64_t)st.st_size : BOUNCE_HDRS_MAX;
	for (;;) {
		size_t want = limit - off < sizeof buf ?
		    (size_t)(limit - off) : sizeof buf;
		ssize_t got;

		if (want == 0) {
			break;
		}
		got = pread(fd, buf, want, (off_t)off);
		if (got == -1 && errno == EINTR) {
			continue;
		}
		if (got == -1) {
			return err_set(e, "bounce: original: %s",
			    strerror(errno));
		}
		if (got == 0) {
			break;
		}
		for (ssize_t i = 0; i < got; i++) {
			unsigned char c = (unsigned char)buf[i];

			if (!o->full && c == '\n' && prev == '\n') {
				/* the empty line: the header ends before
				 * it */
				o->len = off + (uint64_t)i;
				return 0;
			}
			if (c == '\n') {
				last_lf = off + (uint64_t)i + 1;
			}
			if (c >= 0x80) {
				o->eight = 1;
			}
			prev = (char)c;
		}
		off += (uint64_t)got;
	}
	/* The end of the file, or of the bound: a header that long is cut
	 * after its last whole line. */
	o->len = o->full || off < limit ? off : last_lf;
	return 0;
}

static int
copy_orig(struct out *w, int fd, const struct orig *o, struct err *e)
{
	char buf[COPY_BUF];
	uint64_t off = 0;
	char last = '\n';

	while (off < o->len) {
		size_t want = o->len - off < sizeof buf ?
		    (size_t)(o->len - off) : sizeof buf;
		ssize_t got = pread(fd, buf, want, (off_t)off);

		if (got == -1 && errno == EINTR) {
			continue;
		}
		if (got <= 0) {
			return err_set(e, "bounce: original: %s",
			    got == 0 ? "shorter than measured" :
			    strerror(errno));
		}
		put(w, buf, (size_t)got);
		last = buf[got - 1];
		off += (uint64_t)got;
	}
	if (last != '\n') {
		put(w, "\n", 1);
	}
	return 0;
}

/* --- output ---------------------------------------------------------- */

static void
put(struct out *w, const char *s, size_t len)
{
	while (len > 0 && w->err == 0) {
		size_t k = sizeof w->buf - w->n;

		if (k > len) {
			k = len;
		}
		memcpy(w->buf + w->n, s, k);
		w->n += k;
		s += k;
		len -= k;
		if (w->n == sizeof w->buf) {
			(void)flush(w);
		}
	}
}

static void
puts0(struct out *w, const char *s)
{
	put(w, s, strlen(s));
}

static void
putf(struct out *w, const char *f, ...)
{
	char line[LINE_BUF];
	va_list ap;
	int n;

	va_start(ap, f);
	n = vfmt(line, sizeof line, f, ap);
	va_end(ap);
	if (n > 0) {
		put(w, line, (size_t)n < sizeof line ? (size_t)n :
		    sizeof line - 1);
	}
}

static int
flush(struct out *w)
{
	size_t off = 0;

	while (off < w->n && w->err == 0) {
		ssize_t k = write(w->fd, w->buf + off, w->n - off);

		if (k == -1 && errno == EINTR) {
			continue;
		}
		if (k <= 0) {
			w->err = k == 0 ? EIO : errno;
			break;
		}
		off += (size_t)k;
	}
	w->n = 0;
	return w->err == 0 ? 0 : -1;
}

/*
 * Writes s as lines of at most BOUNCE_WIDTH octets where it can, then
 * LF. Text (text = 1): broken at a space, which is dropped, with
 * continuation lines indented by four spaces; a longer word is cut
 * (not inside a UTF-8 sequence). A header field (text = 0): folded
 * before a space, which starts the next line (RFC 5322 2.2.3); a
 * longer word is kept whole (our values are all under 998).
 */
static void
wrap(struct out *w, const char *s, int text)
{
	size_t len = strlen(s), width = BOUNCE_WIDTH;

	while (len > 0 && s[len - 1] == ' ') {
		len--;		/* a line of only spaces cannot follow */
	}
	while (len > width) {
		size_t cut = width;

		while (cut > 0 && s[cut] != ' ') {
			cut--;
		}
		if (cut == 0 && text) {
			cut = width;
			while (cut > 0 && ((unsigned char)s[cut] & 0xc0) ==
			    0x80) {
				cut--;
			}
			if (cut == 0) {
				cut = width;
			}
		} else if (cut == 0) {
			cut = width;
			while (cut < len && s[cut] != ' ') {
				cut++;
			}
			if (cut == len) {
				break;
			}
		}
		put(w, s, cut);
		put(w, "\n", 1);
		s += cut;
		len -= cut;
		if (text) {
			while (len > 0 && *s == ' ') {
				s++;
				len--;
			}
			if (len == 0) {
				return;
			}
			put(w, "    ", 4);
			width = BOUNCE_WIDTH - 4;
		}
	}
	put(w, s, len);
	put(w, "\n", 1);
}

/* A header or status field, name and value (or a whole "Name: value"
 * line in name when value is NULL), folded. */
static void
field(struct out *w, const char *name, const char *value)
{
	char line[LINE_BUF];

	if (value != NULL) {
		(void)fmt(line, sizeof line, "%s%s", name, value);
		name = line;
	}
	wrap(w, name, 0);
}

/* A copy of s with control octets as spaces, and 8-bit octets as '?'
 * unless allowed; cut to cap - 1 (dst may be s). */
static void
clean(char *dst, size_t cap, const char *s, int allow8)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = c < 0x20 || c == 0x7f ? ' ' :
		    c >= 0x80 && !allow8 ? '?' : (char)c;
	}
	dst[i] = '\0';
}

static int
has8(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80) {
			return 1;
		}
	}
	return 0;
}
