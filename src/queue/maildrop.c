/* SPDX-License-Identifier: ISC */
/*
 * maildrop.c - the maildrop file of local submission and the header
 * scan of a submitted message (see maildrop.h). RFC 5322 2.2 (header
 * fields, folding), 3.4 (address lists, groups), 3.6 (which fields).
 */
#include <string.h>
#include <strings.h>

#include "core/num.h"
#include "msg/mailbox.h"
#include "queue/maildrop.h"

#define VERSION_LINE	"wren-maildrop 1"

/* The lines of the file's header, in their order. */
enum {
	K_VERSION, K_UID, K_ARRIVAL, K_SENDER, K_FLAGS, K_RCPT
};

static const struct {
	const char	*word;
	unsigned	 bit;
} flag_words[] = {
	{ "smtputf8", MAILDROP_F_SMTPUTF8 },
};
#define NFLAGS	(sizeof flag_words / sizeof flag_words[0])

/* Where an element of an address list is, as it is scanned. */
struct elem {
	char	*out;
	size_t	 cap, n;
	int	 angle;	/* 0 none yet, 1 inside <>, 2 after > */
	int	 ws;	/* white space (or a comment) since the last
			 * character taken */
	char	 last;	/* the last character taken */
	int	 phrase;	/* two words side by side: a name */
	int	 bad;
	int	 toolong;
	size_t	 end;	/* in the value: past the last character taken */
	size_t	 close;	/* in the value: the '>' */
};

static const char	*value_of(const char *, size_t, const char *);
static int		 parse_flags(const char *, size_t, unsigned *);
static int		 parse_line(int, const char *, size_t,
			    struct maildrop_env *, enum maildrop_err *);
static int		 is_wsp(char);
static size_t		 skip_comment(const char *, size_t, size_t);
static size_t		 skip_quoted(const char *, size_t, size_t);
static void		 take(struct elem *, const char *, size_t);
static int		 element(const char *, size_t, size_t *, char *,
			    size_t, size_t *);
static int		 has_at(const char *);
static char		*put(char *, char *, const char *, size_t);
static char		*put_str(char *, char *, const char *);
static char		*put_u64(char *, char *, uint64_t);

/* --- the file ------------------------------------------------------ */

enum maildrop_err
maildrop_parse(char *buf, size_t len, struct maildrop_env *env)
{
	size_t lim = len < MAILDROP_HEAD_MAX ? len : MAILDROP_HEAD_MAX;
	size_t pos = 0;
	int want = K_VERSION;

	memset(env, 0, sizeof *env);
	env->sender = "";
	for (;;) {
		char *line = buf + pos;
		char *nl = memchr(line, '\n', lim - pos);
		enum maildrop_err err = MAILDROP_OK;
		size_t ll;

		if (nl == NULL) {
			return len >= MAILDROP_HEAD_MAX ?
			    MAILDROP_E_TOO_LONG : MAILDROP_E_TRUNCATED;
		}
		ll = (size_t)(nl - line);
		if (memchr(line, '\0', ll) != NULL) {
			return MAILDROP_E_NUL;
		}
		*nl = '\0';
		pos += ll + 1;
		if (ll == 0) {
			if (want != K_RCPT) {
				return MAILDROP_E_SYNTAX;
			}
			if (env->nrcpt == 0) {
				return MAILDROP_E_NO_RCPT;
			}
			break;
		}
		if (parse_line(want, line, ll, env, &err) == -1) {
			return err;
		}
		if (want != K_RCPT) {
			want++;
		}
	}
	env->head_len = pos;
	if (!(env->flags & MAILDROP_F_SMTPUTF8)) {
		int utf8 = 0;

		(void)maildrop_addr_ok(env->sender, strlen(env->sender),
		    &utf8);
		for (size_t i = 0; i < env->nrcpt && !utf8; i++) {
			(void)maildrop_addr_ok(env->rcpt[i],
			    strlen(env->rcpt[i]), &utf8);
		}
		if (utf8) {
			return MAILDROP_E_8BIT;
		}
	}
	return MAILDROP_OK;
}

const char *
maildrop_strerror(enum maildrop_err e)
{
	switch (e) {
	case MAILDROP_OK: return "no error";
	case MAILDROP_E_TRUNCATED: return "file ends inside its header";
	case MAILDROP_E_TOO_LONG: return "header longer than 64 KiB";
	case MAILDROP_E_VERSION: return "not a wren-maildrop 1 file";
	case MAILDROP_E_SYNTAX: return "header line missing, unknown or out "
	    "of order";
	case MAILDROP_E_NUL: return "NUL byte in the header";
	case MAILDROP_E_NUMBER: return "bad number";
	case MAILDROP_E_FLAGS: return "unknown flag";
	case MAILDROP_E_SENDER: return "bad sender address";
	case MAILDROP_E_RCPT: return "bad recipient address";
	case MAILDROP_E_NO_RCPT: return "no recipient";
	case MAILDROP_E_TOO_MANY: return "too many recipients";
	case MAILDROP_E_8BIT: return "UTF-8 address without the smtputf8 "
	    "flag";
	}
	return "bad maildrop file";
}

long
maildrop_format(char *out, size_t cap, const struct maildrop_env *env)
{
	char *p = out, *end = out + cap;
	int utf8 = 0, first = 1;

	if (env->arrival < 0 || env->nrcpt == 0 ||
	    env->nrcpt > MAILDROP_RCPT_MAX || env->uid == UINT32_MAX ||
	    (env->flags & ~(unsigned)MAILDROP_F_SMTPUTF8) != 0 ||
	    (env->sender[0] != '\0' && !maildrop_addr_ok(env->sender,
	    strlen(env->sender), &utf8))) {
		return -1;
	}
	for (size_t i = 0; i < env->nrcpt; i++) {
		if (!maildrop_addr_ok(env->rcpt[i], strlen(env->rcpt[i]),
		    &utf8)) {
			return -1;
		}
	}
	if (utf8 && !(env->flags & MAILDROP_F_SMTPUTF8)) {
		return -1;
	}
	p = put_str(p, end, VERSION_LINE "\nuid ");
	p = put_u64(p, end, env->uid);
	p = put_str(p, end, "\narrival ");
	p = put_u64(p, end, (uint64_t)env->arrival);
	p = put_str(p, end, "\nsender ");
	p = put_str(p, end, env->sender);
	p = put_str(p, end, "\nflags ");
	for (size_t i = 0; i < NFLAGS; i++) {
		if (env->flags & flag_words[i].bit) {
			p = put_str(p, end, first ? "" : ",");
			p = put_str(p, end, flag_words[i].word);
			first = 0;
		}
	}
	p = put_str(p, end, first ? "-\n" : "\n");
	for (size_t i = 0; i < env->nrcpt; i++) {
		p = put_str(p, end, "rcpt ");
		p = put_str(p, end, env->rcpt[i]);
		p = put_str(p, end, "\n");
	}
	p = put_str(p, end, "\n");
	/* The reader stops at MAILDROP_HEAD_MAX: never write more. */
	if (p == NULL || (size_t)(p - out) > MAILDROP_HEAD_MAX) {
		return -1;
	}
	return (long)(p - out);
}

int
maildrop_addr_ok(const char *s, size_t len, int *utf8)
{
	struct mailbox mb;
	int high = 0;

	if (len == 0 || len > ADDR_MAX) {
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f) {
			return 0;
		}
		high |= c >= 0x80;
	}
	if (mailbox_parse(s, len, 0, &mb) != MAILBOX_OK || mb.dlen == 0) {
		return 0;
	}
	if (high && utf8 != NULL) {
		*utf8 = 1;
	}
	return 1;
}

int
maildrop_name_ok(const char *name)
{
	size_t i;

	for (i = 0; i < MAILDROP_NAME_LEN; i++) {
		char c = name[i];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return name[i] == '\0';
}

/* --- the submitted message's header -------------------------------- */

enum maildrop_hline
maildrop_header_line(const char *line, size_t len)
{
	size_t i = 0;

	if (len == 0) {
		return MAILDROP_HL_BODY;
	}
	if (line[0] == ' ' || line[0] == '\t') {
		return MAILDROP_HL_CONT;
	}
	/* RFC 5322 3.6.8 ftext, then (obsolete, 4.5.8) white space
	 * before the colon. */
	while (i < len && (unsigned char)line[i] >= 33 &&
	    (unsigned char)line[i] <= 126 && line[i] != ':') {
		i++;
	}
	if (i == 0) {
		return MAILDROP_HL_BODY;
	}
	while (i < len && is_wsp(line[i])) {
		i++;
	}
	return i < len && line[i] == ':' ? MAILDROP_HL_FIELD :
	    MAILDROP_HL_BODY;
}

int
maildrop_field_next(const char *hdr, size_t len, size_t *pos,
    struct maildrop_field *f)
{
	size_t start = *pos, e, first_end;
	const char *nl;

	if (start >= len) {
		return 0;
	}
	nl = memchr(hdr + start, '\n', len - start);
	e = nl ? (size_t)(nl - hdr) + 1 : len;
	first_end = nl ? (size_t)(nl - hdr) : len;
	while (e < len && (hdr[e] == ' ' || hdr[e] == '\t')) {
		nl = memchr(hdr + e, '\n', len - e);
		e = nl ? (size_t)(nl - hdr) + 1 : len;
	}
	memset(f, 0, sizeof *f);
	f->off = start;
	f->len = e - start;
	f->value = hdr + start;
	f->vlen = e - start - (hdr[e - 1] == '\n');
	if (maildrop_header_line(hdr + start, first_end - start) ==
	    MAILDROP_HL_FIELD) {
		size_t n = 0, colon;

		while (hdr[start + n] != ':' && !is_wsp(hdr[start + n])) {
			n++;
		}
		colon = n;
		while (hdr[start + colon] != ':') {
			colon++;
		}
		f->name = hdr + start;
		f->nlen = n;
		f->value = hdr + start + colon + 1;
		f->vlen -= colon + 1;
	}
	*pos = e;
	return 1;
}

int
maildrop_field_is(const struct maildrop_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->name != NULL && f->nlen == n &&
	    strncasecmp(f->name, name, n) == 0;
}

int
maildrop_addr_next(const char *v, size_t len, size_t *pos, char *out,
    size_t cap)
{
	size_t i = *pos;

	for (;;) {
		int rc;

		while (i < len && (v[i] == ',' || v[i] == ';' ||
		    is_wsp(v[i]) || v[i] == '\r' || v[i] == '\n')) {
			i++;
		}
		if (i >= len) {
			*pos = len;
			return 0;
		}
		rc = element(v, len, &i, out, cap, NULL);
		*pos = i;
		if (rc != 0) {
			return rc;
		}
	}
}

long
maildrop_qualify(const char *v, size_t len, const char *domain, char *out,
    size_t cap)
{
	char addr[ADDR_MAX + 1];
	size_t i = 0, copied = 0, n = 0, dl = strlen(domain);

	for (;;) {
		size_t ins;
		int rc;

		while (i < len && (v[i] == ',' || v[i] == ';' ||
		    is_wsp(v[i]) || v[i] == '\r' || v[i] == '\n')) {
			i++;
		}
		if (i >= len) {
			break;
		}
		rc = element(v, len, &i, addr, sizeof addr, &ins);
		if (rc != 1 || has_at(addr)) {
			continue;
		}
		if (n + (ins - copied) + 1 + dl > cap) {
			return -1;
		}
		memcpy(out + n, v + copied, ins - copied);
		n += ins - copied;
		out[n++] = '@';
		memcpy(out + n, domain, dl);
		n += dl;
		copied = ins;
	}
	if (n + (len - copied) > cap) {
		return -1;
	}
	memcpy(out + n, v + copied, len - copied);
	return (long)(n + len - copied);
}

/* --- helpers -------------------------------------------------------- */

/* The value after "key " on a line, or NULL when the key differs. */
static const char *
value_of(const char *line, size_t ll, const char *key)
{
	size_t kl = strlen(key);

	if (ll < kl + 1 || memcmp(line, key, kl) != 0 || line[kl] != ' ') {
		return NULL;
	}
	return line + kl + 1;
}

/* One line of the file's header in state `want`; -1 sets *err. */
static int
parse_line(int want, const char *line, size_t ll, struct maildrop_env *env,
    enum maildrop_err *err)
{
	const char *v;
	uint64_t n;
	size_t vl;

	if (want == K_VERSION) {
		if (strcmp(line, VERSION_LINE) != 0) {
			*err = MAILDROP_E_VERSION;
			return -1;
		}
		return 0;
	}
	v = value_of(line, ll, want == K_UID ? "uid" : want == K_ARRIVAL ?
	    "arrival" : want == K_SENDER ? "sender" : want == K_FLAGS ?
	    "flags" : "rcpt");
	if (v == NULL) {
		*err = MAILDROP_E_SYNTAX;
		return -1;
	}
	vl = ll - (size_t)(v - line);
	/* Numbers as the formatter writes them: no leading zero. */
	if ((want == K_UID || want == K_ARRIVAL) && vl > 1 && v[0] == '0') {
		*err = MAILDROP_E_NUMBER;
		return -1;
	}
	switch (want) {
	case K_UID:
		if (num_parse_u64(v, vl, UINT32_MAX - 1, &n) == -1) {
			*err = MAILDROP_E_NUMBER;
			return -1;
		}
		env->uid = (uint32_t)n;
		return 0;
	case K_ARRIVAL:
		if (num_parse_u64(v, vl, INT64_MAX, &n) == -1) {
			*err = MAILDROP_E_NUMBER;
			return -1;
		}
		env->arrival = (int64_t)n;
		return 0;
	case K_SENDER:
		if (vl > 0 && !maildrop_addr_ok(v, vl, NULL)) {
			*err = MAILDROP_E_SENDER;
			return -1;
		}
		env->sender = v;
		return 0;
	case K_FLAGS:
		if (parse_flags(v, vl, &env->flags) == -1) {
			*err = MAILDROP_E_FLAGS;
			return -1;
		}
		return 0;
	default:
		if (!maildrop_addr_ok(v, vl, NULL)) {
			*err = MAILDROP_E_RCPT;
			return -1;
		}
		if (env->nrcpt == MAILDROP_RCPT_MAX) {
			*err = MAILDROP_E_TOO_MANY;
			return -1;
		}
		env->rcpt[env->nrcpt++] = v;
		return 0;
	}
}

/* "-" or a comma list of known words, none empty. */
static int
parse_flags(const char *v, size_t vl, unsigned *flags)
{
	size_t i = 0;

	*flags = 0;
	if (vl == 1 && v[0] == '-') {
		return 0;
	}
	for (;;) {
		const char *comma = memchr(v + i, ',', vl - i);
		size_t wl = (size_t)((comma ? comma : v + vl) - (v + i));
		size_t k;

		for (k = 0; k < NFLAGS; k++) {
			if (strlen(flag_words[k].word) == wl &&
			    memcmp(flag_words[k].word, v + i, wl) == 0) {
				*flags |= flag_words[k].bit;
				break;
			}
		}
		if (k == NFLAGS) {
			return -1;
		}
		if (comma == NULL) {
			return 0;
		}
		i += wl + 1;
	}
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* v[i] is '(': the index past the matching ')', or (size_t)-1. RFC
 * 5322 3.2.2: comments nest, a backslash quotes the next character. */
static size_t
skip_comment(const char *v, size_t len, size_t i)
{
	size_t depth = 0;

	for (; i < len; i++) {
		if (v[i] == '\\') {
			i++;
		} else if (v[i] == '(') {
			depth++;
		} else if (v[i] == ')' && --depth == 0) {
			return i + 1;
		}
	}
	return (size_t)-1;
}

/* v[i] is '"': the index past the closing quote, or (size_t)-1. */
static size_t
skip_quoted(const char *v, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (v[i] == '\\') {
			i++;
		} else if (v[i] == '"') {
			return i + 1;
		}
	}
	return (size_t)-1;
}

/* Takes s[0..n) (a character, or a whole quoted string) into the
 * element; a control byte makes it no address. Two words with only
 * white space between them, neither at an '@' or '.', make a phrase:
 * a display name, not an address. */
static void
take(struct elem *el, const char *s, size_t n)
{
	if (el->ws && el->n > 0 && el->last != '@' && el->last != '.' &&
	    s[0] != '@' && s[0] != '.') {
		el->phrase = 1;
	}
	el->ws = 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			/* NUL, CR or LF in a quoted string */
			el->bad = 1;
		}
	}
	if (el->n + n >= el->cap) {
		el->toolong = 1;
		return;
	}
	memcpy(el->out + el->n, s, n);
	el->n += n;
	el->last = s[n - 1];
}

/* One element of an address list, from *ip to its top-level ',' or
 * ';' (consumed) or the end: 1 address, 0 nothing (a group name, only
 * comments), -1 no address. */
static int
element(const char *v, size_t len, size_t *ip, char *out, size_t cap,
    size_t *ins)
{
	struct elem el;
	size_t i = *ip;

	memset(&el, 0, sizeof el);
	el.out = out;
	el.cap = cap;
	while (i < len) {
		char c = v[i];

		if (c == '(' || c == '"') {
			size_t j = c == '(' ? skip_comment(v, len, i) :
			    skip_quoted(v, len, i);

			if (j == (size_t)-1) {
				el.bad = 1;
				i = len;
				break;
			}
			if (c == '(') {
				el.ws = 1;
			} else if (el.angle != 2) {
				take(&el, v + i, j - i);
				el.end = j;
			}
			i = j;
			continue;
		}
		i++;
		if (el.angle != 1 && (c == ',' || c == ';')) {
			break;
		}
		if (el.angle == 0 && c == ':') {
			/* What came before was a group's display name. */
			el.n = 0;
			el.phrase = 0;
			el.ws = 0;
			el.toolong = 0;
		} else if (c == '<') {
			if (el.angle != 0) {
				el.bad = 1;
			}
			el.angle = 1;
			el.n = 0;
			el.phrase = 0;
			el.ws = 0;
			el.toolong = 0;
		} else if (c == '>') {
			if (el.angle != 1) {
				el.bad = 1;
			}
			el.angle = 2;
			el.close = i - 1;
		} else if (is_wsp(c) || c == '\r' || c == '\n') {
			el.ws = 1;
		} else if (el.angle != 2) {
			take(&el, &c, 1);
			el.end = i;
		}
	}
	*ip = i;
	if (el.bad || el.angle == 1 || el.toolong || el.phrase ||
	    (el.angle == 2 && el.n == 0)) {
		return -1;
	}
	if (el.n == 0) {
		return 0;
	}
	if (out[0] == '@') {
		/* A source route, <@a,@b:user@c> (RFC 5322 4.4). */
		char *colon = memchr(out, ':', el.n);

		if (colon == NULL || colon + 1 == out + el.n) {
			return -1;
		}
		el.n -= (size_t)(colon + 1 - out);
		memmove(out, colon + 1, el.n);
	}
	/* Inside <> a list separator belongs to no address. */
	for (size_t k = 0, q = 0; k < el.n; k++) {
		if (out[k] == '"' && (k == 0 || out[k - 1] != '\\')) {
			q = !q;
		} else if (!q && (out[k] == ',' || out[k] == ';')) {
			return -1;
		}
	}
	out[el.n] = '\0';
	if (ins != NULL) {
		*ins = el.angle == 2 ? el.close : el.end;
	}
	return 1;
}

/* An '@' outside quotes: the address has a domain. */
static int
has_at(const char *a)
{
	int q = 0;

	for (; *a != '\0'; a++) {
		if (*a == '\\' && q && a[1] != '\0') {
			a++;
		} else if (*a == '"') {
			q = !q;
		} else if (*a == '@' && !q) {
			return 1;
		}
	}
	return 0;
}

/* Appends to [p, end); NULL once it does not fit, and stays NULL. */
static char *
put(char *p, char *end, const char *s, size_t n)
{
	if (p == NULL || (size_t)(end - p) < n) {
		return NULL;
	}
	memcpy(p, s, n);
	return p + n;
}

static char *
put_str(char *p, char *end, const char *s)
{
	return put(p, end, s, strlen(s));
}

static char *
put_u64(char *p, char *end, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[sizeof tmp - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return put(p, end, tmp + sizeof tmp - n, n);
}
