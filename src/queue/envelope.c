/* SPDX-License-Identifier: ISC */
/*
 * envelope.c - the queue envelope parser and formatters (format in
 * envelope.h). No I/O: the spool reads and appends the file.
 *
 * DSN fields follow RFC 3461 (NOTIFY 4.1, ORCPT 4.2, RET 4.3, ENVID
 * 4.4); status codes RFC 3463.
 */
#include <stddef.h>
#include <string.h>

#include "core/num.h"
#include "queue/envelope.h"

#define MAGIC		"wren-envelope"
#define MAGIC_LEN	(sizeof MAGIC - 1)
#define VERSION		1

enum { PH_MAGIC, PH_HEADER, PH_RCPT, PH_RESULTS };

/* Header lines: bit per kind, for duplicates and required ones. */
enum {
	H_ID = 1 << 0, H_ARRIVAL = 1 << 1, H_SENDER = 1 << 2,
	H_SIZE = 1 << 3, H_RET = 1 << 4, H_ENVID = 1 << 5,
	H_SMTPUTF8 = 1 << 6, H_CLIENT = 1 << 7, H_BODY = 1 << 8
};
#define H_REQUIRED	(H_ID | H_ARRIVAL | H_SENDER | H_SIZE)

struct out {
	char	*p;
	size_t	 cap, n;
	int	 over;
};

static const char *const rstate_names[] = {
	"pending", "deferred", "sent", "failed"
};
static const char *const admin_names[] = {
	"hold", "release", "retry", "bounce"
};

static int		 line_done(struct envelope_parser *);
static enum envelope_err header_line(struct envelope_parser *,
			    const char *, size_t, const char *, size_t);
static enum envelope_err rcpt_line(struct envelope *, const char *,
			    size_t);
static enum envelope_err state_line(struct envelope *, const char *,
			    size_t);
static enum envelope_err reported_line(struct envelope *, const char *,
			    size_t);
static enum envelope_err admin_line(struct envelope *, const char *,
			    size_t);
static int		 is_kind(const char *, size_t, const char *);
static int		 next_field(const char **, const char *, int,
			    const char **, size_t *);
static int		 text_ok(const char *, size_t);
static int		 token_ok(const char *, size_t);
static int		 orcpt_ok(const char *, size_t);
static int		 code_fits(const char *, size_t,
			    enum envelope_rstate);
static int		 num(const char *, size_t, uint64_t, uint64_t *);
static void		 copy(char *, const char *, size_t);
static int		 report_kind(const char *, size_t, unsigned *);
static void		 put(struct out *, const char *, size_t);
static void		 puts0(struct out *, const char *);
static void		 put_u64(struct out *, uint64_t);
static int		 finish_out(struct out *);
static size_t		 utf8_cut(const char *, size_t, size_t);
static size_t		 put_cut(char *, size_t, size_t, const char *);

void
envelope_parser_init(struct envelope_parser *p, struct envelope *env)
{
	memset(p, 0, sizeof *p);
	/* Everything before the recipients; each recipient is cleared
	 * as it is added, so a short envelope touches a few pages of
	 * the caller's 140 KiB, not all of them. */
	memset(env, 0, offsetof(struct envelope, rcpt));
	p->env = env;
	p->phase = PH_MAGIC;
}

int
envelope_feed(struct envelope_parser *p, const char *in, size_t len)
{
	size_t i = 0;

	if (p->err != ENVELOPE_OK) {
		return -1;
	}
	while (i < len) {
		const char *nl = memchr(in + i, '\n', len - i);
		size_t take = (size_t)((nl ? nl : in + len) - (in + i));

		if (take > sizeof p->line - p->len) {
			p->err = ENVELOPE_E_LONG;
			p->err_line = p->lineno + 1;
			return -1;
		}
		memcpy(p->line + p->len, in + i, take);
		p->len += take;
		i += take;
		if (nl == NULL) {
			break;
		}
		i++;		/* the LF */
		if (line_done(p) == -1) {
			return -1;
		}
	}
	return 0;
}

int
envelope_finish(struct envelope_parser *p)
{
	if (p->err != ENVELOPE_OK) {
		return -1;
	}
	/* A partial final line: a torn append once recipients are known,
	 * a damaged file before that (the head is written at once). */
	if (p->phase < PH_RCPT) {
		p->err = p->len > 0 ? ENVELOPE_E_TRUNCATED : p->lineno == 0 ?
		    ENVELOPE_E_MAGIC : ENVELOPE_E_NO_RCPT;
		p->err_line = p->lineno + (p->len > 0);
		return -1;
	}
	p->torn = p->len;
	p->len = 0;
	return 0;
}

const char *
envelope_strerror(enum envelope_err e)
{
	switch (e) {
	case ENVELOPE_OK:
		return "no error";
	case ENVELOPE_E_LONG:
		return "line too long";
	case ENVELOPE_E_BYTE:
		return "control character";
	case ENVELOPE_E_MAGIC:
		return "not a wren envelope";
	case ENVELOPE_E_VERSION:
		return "unsupported envelope version";
	case ENVELOPE_E_KIND:
		return "unknown line kind";
	case ENVELOPE_E_DUP:
		return "duplicate header line";
	case ENVELOPE_E_ORDER:
		return "line out of order";
	case ENVELOPE_E_MISSING:
		return "missing header line (id, arrival, sender, size)";
	case ENVELOPE_E_NUMBER:
		return "bad number";
	case ENVELOPE_E_VALUE:
		return "malformed value";
	case ENVELOPE_E_TOO_MANY:
		return "too many recipients";
	case ENVELOPE_E_INDEX:
		return "no such recipient";
	case ENVELOPE_E_NO_RCPT:
		return "no recipient";
	case ENVELOPE_E_TRUNCATED:
		return "truncated envelope";
	}
	return "unknown error";
}

enum envelope_err
envelope_apply(struct envelope *env, const char *line, size_t len)
{
	const char *sp;

	if (len > ENVELOPE_LINE_MAX) {
		return ENVELOPE_E_LONG;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f) {
			return ENVELOPE_E_BYTE;
		}
	}
	sp = memchr(line, ' ', len);
	if (sp == NULL) {
		return ENVELOPE_E_KIND;
	}
	if (is_kind(line, (size_t)(sp - line), "state")) {
		return state_line(env, sp + 1, (size_t)(line + len - sp - 1));
	}
	if (is_kind(line, (size_t)(sp - line), "reported")) {
		return reported_line(env, sp + 1,
		    (size_t)(line + len - sp - 1));
	}
	if (is_kind(line, (size_t)(sp - line), "admin")) {
		return admin_line(env, sp + 1, (size_t)(line + len - sp - 1));
	}
	return ENVELOPE_E_KIND;
}

int
envelope_id_valid(const char *s, size_t len)
{
	if (len == 0 || len > ENVELOPE_ID_MAX) {
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

int
envelope_format(char *out, size_t cap, const struct envelope_spec *s)
{
	static const char *const ret[] = { "-", "full", "hdrs" };
	const char *envid = s->envid ? s->envid : "";
	const char *client = s->client ? s->client : "-";
	struct out o = { out, cap, 0, 0 };
	size_t sl = strlen(s->sender);

	if (!envelope_id_valid(s->id, strlen(s->id)) || s->arrival < 0 ||
	    s->arrival > ENVELOPE_TIME_MAX || s->size > (uint64_t)INT64_MAX ||
	    (unsigned)s->ret > DSN_RET_HDRS || sl > ADDR_MAX ||
	    !text_ok(s->sender, sl) || strlen(envid) > SMTP_ENVID_MAX ||
	    !dsn_xtext_valid(envid, strlen(envid)) || client[0] == '\0' ||
	    strlen(client) > ENVELOPE_CLIENT_MAX ||
	    !text_ok(client, strlen(client)) || s->nrcpt == 0 ||
	    s->nrcpt > ENVELOPE_RCPT_MAX) {
		return -1;
	}
	puts0(&o, MAGIC " 1\nid ");
	puts0(&o, s->id);
	puts0(&o, "\narrival ");
	put_u64(&o, (uint64_t)s->arrival);
	puts0(&o, "\nsender ");
	put(&o, s->sender, sl);
	puts0(&o, "\nsize ");
	put_u64(&o, s->size);
	puts0(&o, "\nret ");
	puts0(&o, ret[s->ret]);
	puts0(&o, "\nenvid ");
	puts0(&o, envid[0] ? envid : "-");
	if (s->body8) {
		puts0(&o, "\nbody 8bitmime");
	}
	puts0(&o, s->smtputf8 ? "\nsmtputf8 1\nclient " :
	    "\nsmtputf8 0\nclient ");
	puts0(&o, client);
	puts0(&o, "\n");
	for (size_t i = 0; i < s->nrcpt; i++) {
		const struct envelope_spec_rcpt *r = &s->rcpt[i];
		const char *orcpt = r->orcpt ? r->orcpt : "";
		size_t al = strlen(r->addr), ol = strlen(orcpt);
		char notify[DSN_NOTIFY_TEXT_MAX];

		if (al == 0 || al > ADDR_MAX || !text_ok(r->addr, al) ||
		    r->addr[0] == ' ' || r->addr[al - 1] == ' ' ||
		    ol > SMTP_ORCPT_MAX || (ol > 0 && !orcpt_ok(orcpt, ol)) ||
		    dsn_notify_format(r->notify, notify, sizeof notify) ==
		    -1) {
			return -1;
		}
		puts0(&o, "rcpt ");
		put(&o, r->addr, al);
		puts0(&o, " notify=");
		puts0(&o, notify);
		puts0(&o, " orcpt=");
		puts0(&o, ol ? orcpt : "-");
		puts0(&o, "\n");
	}
	return finish_out(&o);
}

int
envelope_format_state(char *out, size_t cap, size_t idx,
    const struct envelope_result *r)
{
	struct out o = { out, cap, 0, 0 };
	const char *code = r->code ? r->code : "";
	const char *mta = r->mta ? r->mta : "";
	size_t ml = strlen(mta), tl = r->text ? r->textlen : 0;

	if (r->state == ENVELOPE_PENDING || r->state > ENVELOPE_FAILED ||
	    idx >= ENVELOPE_RCPT_MAX || r->attempts > ENVELOPE_ATTEMPTS_MAX ||
	    r->next_try < 0 || r->next_try > ENVELOPE_TIME_MAX) {
		return -1;
	}
	puts0(&o, "state ");
	put_u64(&o, idx);
	puts0(&o, " ");
	puts0(&o, rstate_names[r->state]);
	puts0(&o, " ");
	put_u64(&o, r->attempts);
	puts0(&o, " ");
	put_u64(&o, (uint64_t)r->next_try);
	puts0(&o, " ");
	puts0(&o, code_fits(code, strlen(code), r->state) ? code : "-");
	puts0(&o, " ");
	if (ml == 0) {
		puts0(&o, "-");
	}
	if (ml > ENVELOPE_MTA_MAX) {
		ml = ENVELOPE_MTA_MAX;
	}
	for (size_t i = 0; i < ml; i++) {
		unsigned char c = (unsigned char)mta[i];

		put(&o, c > 0x20 && c < 0x7f ? mta + i : "?", 1);
	}
	tl = utf8_cut(r->text, tl, ENVELOPE_TEXT_MAX);
	if (tl > 0) {
		puts0(&o, " ");
	}
	for (size_t i = 0; i < tl; i++) {
		unsigned char c = (unsigned char)r->text[i];

		put(&o, c < 0x20 || c == 0x7f ? " " : r->text + i, 1);
	}
	puts0(&o, "\n");
	return finish_out(&o);
}

int
envelope_format_reported(char *out, size_t cap, size_t idx, unsigned kind,
    int64_t when)
{
	struct out o = { out, cap, 0, 0 };
	const char *name;

	switch (kind) {
	case DSN_NOTIFY_FAILURE:
		name = "failure";
		break;
	case DSN_NOTIFY_DELAY:
		name = "delay";
		break;
	case DSN_NOTIFY_SUCCESS:
		name = "success";
		break;
	default:
		return -1;
	}
	if (idx >= ENVELOPE_RCPT_MAX || when < 0 ||
	    when > ENVELOPE_TIME_MAX) {
		return -1;
	}
	puts0(&o, "reported ");
	put_u64(&o, idx);
	puts0(&o, " ");
	puts0(&o, name);
	puts0(&o, " ");
	put_u64(&o, (uint64_t)when);
	puts0(&o, "\n");
	return finish_out(&o);
}

int
envelope_format_admin(char *out, size_t cap, enum envelope_admin a,
    int64_t when)
{
	struct out o = { out, cap, 0, 0 };

	if ((unsigned)a > ENVELOPE_BOUNCE || when < 0 ||
	    when > ENVELOPE_TIME_MAX) {
		return -1;
	}
	puts0(&o, "admin ");
	puts0(&o, admin_names[a]);
	puts0(&o, " ");
	put_u64(&o, (uint64_t)when);
	puts0(&o, "\n");
	return finish_out(&o);
}

const char *
envelope_rstate_name(enum envelope_rstate s)
{
	return (unsigned)s <= ENVELOPE_FAILED ? rstate_names[s] : "?";
}

size_t
envelope_reason(const struct envelope_rcpt *r, char *out, size_t cap)
{
	const char *t = r->text;
	size_t n = 0;

	if (cap == 0) {
		return 0;
	}
	/* An SMTP reply starts with its three-digit code. */
	if (r->mta[0] != '\0' && t[0] >= '2' && t[0] <= '5' &&
	    t[1] >= '0' && t[1] <= '9' && t[2] >= '0' && t[2] <= '9' &&
	    (t[3] == ' ' || t[3] == '-' || t[3] == '\0')) {
		n = put_cut(out, n, cap - 1, "host ");
		n = put_cut(out, n, cap - 1, r->mta);
		n = put_cut(out, n, cap - 1, " said: ");
	}
	n = put_cut(out, n, cap - 1, t);
	out[n] = '\0';
	return n;
}

/* --- parsing --------------------------------------------------------- */

/* A complete line is in p->line[0..p->len). */
static int
line_done(struct envelope_parser *p)
{
	struct envelope *env = p->env;
	const char *l = p->line, *sp, *v;
	size_t len = p->len, kl, vl;
	enum envelope_err e = ENVELOPE_OK;

	p->lineno++;
	p->len = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)l[i];

		if (c < 0x20 || c == 0x7f) {
			e = ENVELOPE_E_BYTE;
			goto fail;
		}
	}
	sp = memchr(l, ' ', len);
	kl = sp ? (size_t)(sp - l) : len;
	v = sp ? sp + 1 : l + len;
	vl = (size_t)(l + len - v);
	if (p->phase == PH_MAGIC) {
		uint64_t ver;

		if (!is_kind(l, kl, MAGIC) || sp == NULL) {
			e = ENVELOPE_E_MAGIC;
		} else if (num(v, vl, 1000000, &ver) == -1 || ver != VERSION) {
			e = ENVELOPE_E_VERSION;
		} else {
			env->version = (unsigned)ver;
			p->phase = PH_HEADER;
		}
	} else if (is_kind(l, kl, "rcpt")) {
		if (p->phase == PH_RESULTS) {
			e = ENVELOPE_E_ORDER;
		} else if ((p->seen & H_REQUIRED) != H_REQUIRED) {
			e = ENVELOPE_E_MISSING;
		} else if (sp == NULL) {
			e = ENVELOPE_E_VALUE;
		} else {
			e = rcpt_line(env, v, vl);
			p->phase = PH_RCPT;
		}
	} else if (is_kind(l, kl, "state") || is_kind(l, kl, "reported") ||
	    is_kind(l, kl, "admin")) {
		if (p->phase != PH_RCPT && p->phase != PH_RESULTS) {
			e = ENVELOPE_E_ORDER;
		} else {
			e = envelope_apply(env, l, len);
			p->phase = PH_RESULTS;
		}
	} else {
		if (p->phase != PH_HEADER) {
			/* a header kind after the rcpt lines is out of
			 * order; anything else is unknown */
			e = header_line(p, l, kl, NULL, 0);
			if (e != ENVELOPE_E_KIND) {
				e = ENVELOPE_E_ORDER;
			}
		} else if (sp == NULL) {
			e = header_line(p, l, kl, NULL, 0) == ENVELOPE_E_KIND
			    ? ENVELOPE_E_KIND : ENVELOPE_E_VALUE;
		} else {
			e = header_line(p, l, kl, v, vl);
		}
	}
	if (e == ENVELOPE_OK) {
		return 0;
	}
fail:
	p->err = e;
	p->err_line = p->lineno;
	return -1;
}

/*
 * One header line "kind value". With v NULL it only classifies the
 * kind: ENVELOPE_E_KIND when unknown, else ENVELOPE_E_VALUE.
 */
static enum envelope_err
header_line(struct envelope_parser *p, const char *k, size_t kl,
    const char *v, size_t vl)
{
	static const struct {
		const char	*name;
		unsigned	 bit;
	} kinds[] = {
		{ "id", H_ID }, { "arrival", H_ARRIVAL },
		{ "sender", H_SENDER }, { "size", H_SIZE }, { "ret", H_RET },
		{ "envid", H_ENVID }, { "smtputf8", H_SMTPUTF8 },
		{ "client", H_CLIENT }, { "body", H_BODY },
	};
	struct envelope *env = p->env;
	unsigned bit = 0;
	uint64_t n;

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (is_kind(k, kl, kinds[i].name)) {
			bit = kinds[i].bit;
		}
	}
	if (bit == 0) {
		return ENVELOPE_E_KIND;
	}
	if (v == NULL) {
		return ENVELOPE_E_VALUE;
	}
	if (p->seen & bit) {
		return ENVELOPE_E_DUP;
	}
	p->seen |= bit;
	switch (bit) {
	case H_ID:
		if (!envelope_id_valid(v, vl)) {
			return ENVELOPE_E_VALUE;
		}
		copy(env->id, v, vl);
		break;
	case H_ARRIVAL:
		if (num(v, vl, (uint64_t)ENVELOPE_TIME_MAX, &n) == -1) {
			return ENVELOPE_E_NUMBER;
		}
		env->arrival = (int64_t)n;
		break;
	case H_SENDER:
		if (vl > ADDR_MAX) {
			return ENVELOPE_E_VALUE;
		}
		copy(env->sender, v, vl);
		break;
	case H_SIZE:
		if (num(v, vl, INT64_MAX, &n) == -1) {
			return ENVELOPE_E_NUMBER;
		}
		env->size = n;
		break;
	case H_RET:
		if (vl == 1 && v[0] == '-') {
			env->ret = DSN_RET_NONE;
		} else if (vl == 4 && memcmp(v, "full", 4) == 0) {
			env->ret = DSN_RET_FULL;
		} else if (vl == 4 && memcmp(v, "hdrs", 4) == 0) {
			env->ret = DSN_RET_HDRS;
		} else {
			return ENVELOPE_E_VALUE;
		}
		break;
	case H_ENVID:
		if (vl == 1 && v[0] == '-') {
			break;
		}
		if (vl == 0 || vl > SMTP_ENVID_MAX ||
		    !dsn_xtext_valid(v, vl)) {
			return ENVELOPE_E_VALUE;
		}
		copy(env->envid, v, vl);
		break;
	case H_SMTPUTF8:
		if (vl != 1 || (v[0] != '0' && v[0] != '1')) {
			return ENVELOPE_E_VALUE;
		}
		env->smtputf8 = v[0] == '1';
		break;
	case H_BODY:
		if (vl == 4 && memcmp(v, "7bit", 4) == 0) {
			env->body8 = 0;
		} else if (vl == 8 && memcmp(v, "8bitmime", 8) == 0) {
			env->body8 = 1;
		} else {
			return ENVELOPE_E_VALUE;
		}
		break;
	case H_CLIENT:
		if (vl == 0 || vl > ENVELOPE_CLIENT_MAX) {
			return ENVELOPE_E_VALUE;
		}
		copy(env->client, v, vl);
		break;
	}
	return ENVELOPE_OK;
}

/* "<addr> notify=<list> orcpt=<orcpt>", read from the right: the
 * address may hold spaces, the two parameters never do. */
static enum envelope_err
rcpt_line(struct envelope *env, const char *v, size_t vl)
{
	struct envelope_rcpt *r;
	const char *end = v + vl, *o, *n;
	size_t al, nl, ol;
	unsigned notify;

	if (env->nrcpt == ENVELOPE_RCPT_MAX) {
		return ENVELOPE_E_TOO_MANY;
	}
	for (o = end; o > v && o[-1] != ' '; o--) {
	}
	if (o == v) {
		return ENVELOPE_E_VALUE;
	}
	for (n = o - 1; n > v && n[-1] != ' '; n--) {
	}
	if (n == v) {
		return ENVELOPE_E_VALUE;
	}
	ol = (size_t)(end - o);
	nl = (size_t)(o - 1 - n);
	al = (size_t)(n - 1 - v);
	if (ol < 6 || memcmp(o, "orcpt=", 6) != 0 || nl < 7 ||
	    memcmp(n, "notify=", 7) != 0) {
		return ENVELOPE_E_VALUE;
	}
	o += 6;
	ol -= 6;
	n += 7;
	nl -= 7;
	if (al == 0 || al > ADDR_MAX || v[0] == ' ' || v[al - 1] == ' ' ||
	    dsn_notify_parse(n, nl, &notify) == -1 ||
	    ol > SMTP_ORCPT_MAX || !(ol == 1 && o[0] == '-' ? 1 :
	    orcpt_ok(o, ol))) {
		return ENVELOPE_E_VALUE;
	}
	r = &env->rcpt[env->nrcpt++];
	memset(r, 0, sizeof *r);
	copy(r->addr, v, al);
	r->notify = notify;
	if (!(ol == 1 && o[0] == '-')) {
		copy(r->orcpt, o, ol);
	}
	r->state = ENVELOPE_PENDING;
	return ENVELOPE_OK;
}

/* "<rcpt> <state> <attempts> <next-try> <code> <mta> [<text>]" */
static enum envelope_err
state_line(struct envelope *env, const char *v, size_t vl)
{
	const char *p = v, *end = v + vl, *f[6];
	size_t fl[6];
	uint64_t idx, attempts, next;
	enum envelope_rstate st;
	struct envelope_rcpt *r;
	const char *text = "";
	size_t tl = 0;

	for (int i = 0; i < 6; i++) {
		if (next_field(&p, end, i, &f[i], &fl[i]) == -1) {
			return ENVELOPE_E_VALUE;
		}
	}
	if (p < end) {
		if (*p != ' ') {
			return ENVELOPE_E_VALUE;
		}
		text = p + 1;
		tl = (size_t)(end - text);
	}
	if (num(f[0], fl[0], UINT32_MAX, &idx) == -1 ||
	    num(f[2], fl[2], ENVELOPE_ATTEMPTS_MAX, &attempts) == -1 ||
	    num(f[3], fl[3], (uint64_t)ENVELOPE_TIME_MAX, &next) == -1) {
		return ENVELOPE_E_NUMBER;
	}
	if (idx >= env->nrcpt) {
		return ENVELOPE_E_INDEX;
	}
	if (is_kind(f[1], fl[1], "deferred")) {
		st = ENVELOPE_DEFERRED;
	} else if (is_kind(f[1], fl[1], "sent")) {
		st = ENVELOPE_SENT;
	} else if (is_kind(f[1], fl[1], "failed")) {
		st = ENVELOPE_FAILED;
	} else {
		return ENVELOPE_E_VALUE;
	}
	if (!(fl[4] == 1 && f[4][0] == '-') && !code_fits(f[4], fl[4], st)) {
		return ENVELOPE_E_VALUE;
	}
	if (fl[5] > ENVELOPE_MTA_MAX || !token_ok(f[5], fl[5]) ||
	    tl > ENVELOPE_TEXT_MAX) {
		return ENVELOPE_E_VALUE;
	}
	r = &env->rcpt[idx];
	/* No stale bytes of an older, longer value after the NUL: the
	 * struct's bytes depend only on the last line. */
	memset(r->code, 0, sizeof r->code);
	memset(r->mta, 0, sizeof r->mta);
	memset(r->text, 0, sizeof r->text);
	r->state = st;
	r->attempts = (uint32_t)attempts;
	r->next_try = (int64_t)next;
	copy(r->code, f[4], fl[4] == 1 && f[4][0] == '-' ? 0 : fl[4]);
	copy(r->mta, f[5], fl[5] == 1 && f[5][0] == '-' ? 0 : fl[5]);
	copy(r->text, text, tl);
	return ENVELOPE_OK;
}

/* "<rcpt> <failure|delay|success> <epoch>" */
static enum envelope_err
reported_line(struct envelope *env, const char *v, size_t vl)
{
	const char *p = v, *end = v + vl, *f[3];
	size_t fl[3];
	uint64_t idx, when;
	unsigned kind;

	for (int i = 0; i < 3; i++) {
		if (next_field(&p, end, i, &f[i], &fl[i]) == -1) {
			return ENVELOPE_E_VALUE;
		}
	}
	if (p != end) {
		return ENVELOPE_E_VALUE;
	}
	if (num(f[0], fl[0], UINT32_MAX, &idx) == -1 ||
	    num(f[2], fl[2], (uint64_t)ENVELOPE_TIME_MAX, &when) == -1) {
		return ENVELOPE_E_NUMBER;
	}
	if (idx >= env->nrcpt) {
		return ENVELOPE_E_INDEX;
	}
	if (report_kind(f[1], fl[1], &kind) == -1) {
		return ENVELOPE_E_VALUE;
	}
	env->rcpt[idx].reported |= kind;
	return ENVELOPE_OK;
}

/* "<hold|release|retry|bounce> <epoch>" */
static enum envelope_err
admin_line(struct envelope *env, const char *v, size_t vl)
{
	const char *p = v, *end = v + vl, *f[2];
	size_t fl[2];
	uint64_t when;
	unsigned a;

	for (int i = 0; i < 2; i++) {
		if (next_field(&p, end, i, &f[i], &fl[i]) == -1) {
			return ENVELOPE_E_VALUE;
		}
	}
	if (p != end) {
		return ENVELOPE_E_VALUE;
	}
	if (num(f[1], fl[1], (uint64_t)ENVELOPE_TIME_MAX, &when) == -1) {
		return ENVELOPE_E_NUMBER;
	}
	for (a = 0; a <= ENVELOPE_BOUNCE; a++) {
		if (is_kind(f[0], fl[0], admin_names[a])) {
			break;
		}
	}
	switch (a) {
	case ENVELOPE_HOLD:
		env->hold = 1;
		break;
	case ENVELOPE_RELEASE:
		env->hold = 0;
		break;
	case ENVELOPE_RETRY:
		/* Due now: only what is deferred so far; a later state
		 * line sets its own next try. */
		env->retry_at = (int64_t)when;
		for (size_t i = 0; i < env->nrcpt; i++) {
			if (env->rcpt[i].state == ENVELOPE_DEFERRED &&
			    env->rcpt[i].next_try > (int64_t)when) {
				env->rcpt[i].next_try = (int64_t)when;
			}
		}
		break;
	case ENVELOPE_BOUNCE:
		env->bounce_at = (int64_t)when;
		break;
	default:
		return ENVELOPE_E_VALUE;
	}
	return ENVELOPE_OK;
}

static int
is_kind(const char *s, size_t len, const char *kind)
{
	size_t kl = strlen(kind);

	return len == kl && memcmp(s, kind, kl) == 0;
}

/* Field i of a line of single-space-separated fields: the pointer is
 * left after it. Empty fields (two spaces) are refused. */
static int
next_field(const char **pp, const char *end, int i, const char **f,
    size_t *fl)
{
	const char *p = *pp, *s;

	if (i > 0) {
		if (p >= end || *p != ' ') {
			return -1;
		}
		p++;
	}
	s = p;
	while (p < end && *p != ' ') {
		p++;
	}
	if (p == s) {
		return -1;
	}
	*f = s;
	*fl = (size_t)(p - s);
	*pp = p;
	return 0;
}

/* No control octets (8-bit is UTF-8 or hostile, but harmless). */
static int
text_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) {
			return 0;
		}
	}
	return 1;
}

/* A token of visible ASCII, or "-". */
static int
token_ok(const char *s, size_t len)
{
	if (len == 0) {
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f) {
			return 0;
		}
	}
	return 1;
}

/* addr-type ";" xtext (RFC 3461 4.2); addr-type is an atom. */
static int
orcpt_ok(const char *s, size_t len)
{
	const char *semi = memchr(s, ';', len);

	if (semi == NULL || semi == s) {
		return 0;
	}
	for (const char *t = s; t < semi; t++) {
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
		    (*t >= '0' && *t <= '9') || *t == '-')) {
			return 0;
		}
	}
	return dsn_xtext_valid(semi + 1, (size_t)(s + len - semi - 1));
}

/* A valid status code whose class fits the state. */
static int
code_fits(const char *s, size_t len, enum envelope_rstate st)
{
	int c = len < DSN_STATUS_MAX ? dsn_status_class(s, len) : 0;

	switch (st) {
	case ENVELOPE_SENT:
		return c == 2;
	case ENVELOPE_DEFERRED:
		return c == 4;
	case ENVELOPE_FAILED:
		return c == 4 || c == 5;
	default:
		return 0;
	}
}

/* Decimal without leading zeros (but "0"), at most max. */
static int
num(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	if (len > 1 && s[0] == '0') {
		return -1;
	}
	return num_parse_u64(s, len, max, out);
}

/* len <= the destination's size - 1, checked by the callers. */
static void
copy(char *dst, const char *s, size_t len)
{
	memcpy(dst, s, len);
	dst[len] = '\0';
}

static int
report_kind(const char *s, size_t len, unsigned *kind)
{
	if (is_kind(s, len, "failure")) {
		*kind = DSN_NOTIFY_FAILURE;
	} else if (is_kind(s, len, "delay")) {
		*kind = DSN_NOTIFY_DELAY;
	} else if (is_kind(s, len, "success")) {
		*kind = DSN_NOTIFY_SUCCESS;
	} else {
		return -1;
	}
	return 0;
}

/* --- output ---------------------------------------------------------- */

static void
put(struct out *o, const char *s, size_t len)
{
	if (o->over || len > o->cap || o->n > o->cap - len) {
		o->over = 1;
		return;
	}
	memcpy(o->p + o->n, s, len);
	o->n += len;
}

static void
puts0(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_u64(struct out *o, uint64_t v)
{
	char d[20];
	size_t n = 0;

	do {
		d[sizeof d - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	put(o, d + sizeof d - n, n);
}

/* NUL-terminates; the length, or -1 when it did not fit. */
static int
finish_out(struct out *o)
{
	if (o->over || o->n >= o->cap) {
		return -1;
	}
	o->p[o->n] = '\0';
	return (int)o->n;
}

/* s[0..len) cut to at most max octets, not inside a UTF-8 sequence. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	size_t n;

	if (len <= max) {
		return len;
	}
	n = max;
	/* back over continuation octets to the start of the sequence
	 * that would be split, at most 3 of them */
	for (size_t k = 0; k < 4 && n > 0 &&
	    ((unsigned char)s[n] & 0xc0) == 0x80; k++) {
		n--;
	}
	return n;
}

/* Appends as much of s as fits below max, not cutting a UTF-8
 * sequence; the new length. */
static size_t
put_cut(char *out, size_t n, size_t max, const char *s)
{
	size_t len = utf8_cut(s, strlen(s), max - n);

	memcpy(out + n, s, len);
	return n + len;
}
