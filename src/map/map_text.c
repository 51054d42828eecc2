/* SPDX-License-Identifier: ISC */
/*
 * map_text.c - parsers for the table sources (see map_text.h).
 */
#include <strings.h>
#include <string.h>

#include "map_text.h"
#include "msg/mailbox.h"

#define FIELD_MAX	8	/* passwd-file fields */
#define SHA512_HASH_LEN	86	/* crypt(3) $6$ hash, base64 */
#define SHA256_HASH_LEN	43	/* crypt(3) $5$ hash, base64 */
#define CRYPT_SALT_MAX	16
#define STR(x)		STR2(x)
#define STR2(x)		#x

const char *const map_type_name[MAP_NTYPES] = {
	"users", "aliases", "virtual", "senders", "relay_passwords",
	"public_suffix"
};

static const char *const scheme_name[] = {
	"PLAIN", "SHA512-CRYPT", "SHA256-CRYPT", "CRYPT"
};

static int	logical_line(struct map_text *, const char **, size_t *,
		    unsigned *, const char **);
static int	parse_users(const char *, size_t, struct map_rec *,
		    const char **);
static int	parse_list(enum map_type, const char *, size_t,
		    struct map_rec *, const char **);
static int	parse_relay(const char *, size_t, struct map_rec *,
		    const char **);
static int	parse_psl(const char *, size_t, struct map_rec *,
		    const char **);
static int	check_crypt(const char *, size_t, int);
static int	next_token(const char **, const char *, const char **,
		    size_t *);
static int	put_key(struct map_rec *, const char *, size_t);
static int	put_val(struct map_rec *, const char *, size_t);
static int	is_ws(char);

int
map_type_parse(const char *name)
{
	for (int i = 0; i < MAP_NTYPES; i++) {
		if (strcmp(name, map_type_name[i]) == 0) {
			return i;
		}
	}
	return -1;
}

void
map_text_init(struct map_text *t, enum map_type type, const char *name,
    const char *buf, size_t len)
{
	memset(t, 0, sizeof *t);
	t->type = type;
	t->name = name;
	t->p = buf;
	t->end = buf + len;
}

int
map_text_next(struct map_text *t, struct map_rec *r, struct err *e)
{
	const char *line, *why = NULL;
	size_t len;
	unsigned first = 0;
	int rc;

	if (t->failed) {
		return err_set(e, "%s: earlier error", t->name);
	}
	rc = logical_line(t, &line, &len, &first, &why);
	if (rc <= 0) {
		if (rc < 0) {
			t->failed = 1;
			return err_set(e, "%s:%u: %s", t->name, t->line, why);
		}
		return 0;
	}
	/* The Public Suffix List comments with "//" (and is read up to
	 * the first white space of a line, as its format says). */
	while (t->type == MAP_PSL && len >= 2 && line[0] == '/' &&
	    line[1] == '/') {
		rc = logical_line(t, &line, &len, &first, &why);
		if (rc <= 0) {
			if (rc < 0) {
				t->failed = 1;
				return err_set(e, "%s:%u: %s", t->name,
				    t->line, why);
			}
			return 0;
		}
	}
	r->line = first;
	r->klen = 0;
	r->vlen = 0;
	r->nfields = 0;
	switch (t->type) {
	case MAP_USERS:
		rc = parse_users(line, len, r, &why);
		break;
	case MAP_RELAY_PASSWORDS:
		rc = parse_relay(line, len, r, &why);
		break;
	case MAP_PSL:
		rc = parse_psl(line, len, r, &why);
		break;
	default:
		rc = parse_list(t->type, line, len, r, &why);
		break;
	}
	if (rc == -1) {
		t->failed = 1;
		return err_set(e, "%s:%u: %s", t->name, first, why);
	}
	return 1;
}

int
map_user_decode(const char *val, size_t vlen, struct map_user *u)
{
	const char *f[3], *p = val, *end = val + vlen;
	size_t flen[3];

	for (int i = 0; i < 3; i++) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));

		if (i < 2 && nul == NULL) {
			return -1;
		}
		f[i] = p;
		flen[i] = (size_t)((nul ? nul : end) - p);
		p = nul ? nul + 1 : end;
	}
	for (size_t s = 0; s < sizeof scheme_name / sizeof scheme_name[0];
	    s++) {
		if (strlen(scheme_name[s]) == flen[0] &&
		    memcmp(scheme_name[s], f[0], flen[0]) == 0) {
			u->scheme = (enum map_scheme)s;
			u->secret = f[1];
			u->slen = flen[1];
			u->home = f[2];
			u->hlen = flen[2];
			return 0;
		}
	}
	return -1;
}

int
map_crypt_rounds(const char *s, size_t len, uint32_t *rounds)
{
	const char *p = s + 3, *end = s + len;
	uint64_t r = 0;

	if (len < 3 || s[0] != '$' || (s[1] != '5' && s[1] != '6') ||
	    s[2] != '$') {
		return -1;
	}
	*rounds = MAP_ROUNDS_DEFAULT;
	if ((size_t)(end - p) < 7 || memcmp(p, "rounds=", 7) != 0) {
		return 0;
	}
	p += 7;
	if (p == end || *p < '0' || *p > '9') {
		return -1;
	}
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (r < UINT32_MAX) {
			r = r * 10 + (uint64_t)(*p - '0');
		}
	}
	if (p == end || *p != '$') {
		return -1;
	}
	*rounds = r > UINT32_MAX ? UINT32_MAX : r < MAP_ROUNDS_MIN ?
	    MAP_ROUNDS_MIN : (uint32_t)r;
	return 0;
}

int
map_user_name_ok(const char *s, size_t len)
{
	struct mailbox mb;
	const char *at;
	size_t llen;

	if (len == 0 || s[0] == '"' ||
	    mailbox_parse(s, len, 0, &mb) != MAILBOX_OK) {
		return -1;
	}
	/* Unquoted, the local part holds no '@': the first is the one. */
	at = memchr(s, '@', len);
	llen = at ? (size_t)(at - s) : len;
	if ((at != NULL && mb.dlen == 0) || llen == 0 || s[0] == '.' ||
	    s[llen - 1] == '.') {
		return -1;
	}
	for (size_t i = 0; i < llen; i++) {
		if (s[i] == '/' || (s[i] == '.' && i + 1 < llen &&
		    s[i + 1] == '.')) {
			return -1;
		}
	}
	return 0;
}

/*
 * The next logical line, copied into t->buf: blank lines and `#` lines
 * are skipped; for the Postfix formats, following lines that start
 * with white space are joined with a space (an indented `#` line is a
 * comment, not part of the record). Returns 1, 0 at the end, -1 on an
 * error with the reason in *why.
 */
static int
logical_line(struct map_text *t, const char **out, size_t *len,
    unsigned *first, const char **why)
{
	int continues = t->type != MAP_USERS;
	size_t n = 0;

	for (;;) {
		const char *s = t->p, *nl, *le, *b, *e;
		int indented, skip;

		if (s >= t->end) {
			break;
		}
		nl = memchr(s, '\n', (size_t)(t->end - s));
		le = nl ? nl : t->end;
		indented = is_ws(*s);
		b = s;
		while (b < le && is_ws(*b)) {
			b++;
		}
		e = le;
		while (e > b && is_ws(e[-1])) {
			e--;
		}
		skip = b == e || *b == '#';
		/* Blank and comment lines never end a record (Postfix
		 * readlline(3)); the next line with text at column 0 does. */
		if (n > 0 && (!continues || (!indented && !skip))) {
			break;		/* the next record starts here */
		}
		t->p = nl ? nl + 1 : t->end;
		t->line++;
		if (memchr(s, '\0', (size_t)(le - s)) != NULL) {
			*why = "NUL byte in line";
			return -1;
		}
		s = b;
		le = e;
		if (skip) {
			continue;
		}
		if (n == 0) {
			*first = t->line;
		}
		if (n + 1 + (size_t)(le - s) > sizeof t->buf) {
			*why = "line too long";
			return -1;
		}
		if (n > 0) {
			t->buf[n++] = ' ';
		}
		memcpy(t->buf + n, s, (size_t)(le - s));
		n += (size_t)(le - s);
	}
	*out = t->buf;
	*len = n;
	return n > 0;
}

static int
parse_users(const char *s, size_t len, struct map_rec *r, const char **why)
{
	const char *f[FIELD_MAX], *p = s, *end = s + len, *sec;
	size_t flen[FIELD_MAX], nf = 0, slen;
	uint32_t rounds;
	int scheme = MAP_SCHEME_CRYPT;

	while (nf < FIELD_MAX) {
		const char *c = memchr(p, ':', (size_t)(end - p));

		f[nf] = p;
		/* The last field (extra) keeps any further colons. */
		if (c == NULL || nf == FIELD_MAX - 1) {
			flen[nf++] = (size_t)(end - p);
			break;
		}
		flen[nf++] = (size_t)(c - p);
		p = c + 1;
	}
	if (nf < 2) {
		*why = "expected name:password[:uid:gid:gecos:home:...]";
		return -1;
	}
	if (map_user_name_ok(f[0], flen[0]) == -1) {
		*why = "bad user name (a name or a full address)";
		return -1;
	}
	if (put_key(r, f[0], flen[0]) == -1) {
		*why = "user name too long";
		return -1;
	}
	sec = f[1];
	slen = flen[1];
	if (slen == 0) {
		*why = "empty password field";
		return -1;
	}
	if (sec[0] == '{') {
		const char *rb = memchr(sec, '}', slen);
		size_t nlen;

		if (rb == NULL) {
			*why = "unterminated {SCHEME}";
			return -1;
		}
		nlen = (size_t)(rb - sec - 1);
		scheme = -1;
		for (size_t i = 0; i < sizeof scheme_name /
		    sizeof scheme_name[0]; i++) {
			if (strlen(scheme_name[i]) == nlen &&
			    strncasecmp(scheme_name[i], sec + 1, nlen) == 0) {
				scheme = (int)i;
			}
		}
		if (scheme == -1) {
			*why = "unsupported password scheme (use PLAIN, "
			    "SHA512-CRYPT, SHA256-CRYPT or CRYPT)";
			return -1;
		}
		slen -= nlen + 2;
		sec = rb + 1;
		if (slen == 0) {
			*why = "empty password after the scheme";
			return -1;
		}
	}
	if (scheme != MAP_SCHEME_PLAIN && check_crypt(sec, slen,
	    scheme) == -1) {
		*why = scheme == MAP_SCHEME_SHA512_CRYPT ? "SHA512-CRYPT needs "
		    "a $6$ hash" : scheme == MAP_SCHEME_SHA256_CRYPT ?
		    "SHA256-CRYPT needs a $5$ hash" : "CRYPT: only $5$ "
		    "(SHA-256) and $6$ (SHA-512) hashes are supported";
		return -1;
	}
	if (scheme != MAP_SCHEME_PLAIN && (map_crypt_rounds(sec, slen,
	    &rounds) == -1 || rounds > MAP_ROUNDS_MAX)) {
		*why = "rounds= above " STR(MAP_ROUNDS_MAX) " (each login "
		    "would stall the server; make a new hash with `wren "
		    "passwd`)";
		return -1;
	}
	if (put_val(r, scheme_name[scheme], strlen(scheme_name[scheme])) ==
	    -1 || put_val(r, sec, slen) == -1 ||
	    put_val(r, nf > 5 ? f[5] : "", nf > 5 ? flen[5] : 0) == -1) {
		*why = "record too long";
		return -1;
	}
	if (nf > 5 && flen[5] > 0 && f[5][0] != '/') {
		*why = "home must be an absolute path";
		return -1;
	}
	return 0;
}

/*
 * aliases: `key: targets`; virtual and senders: `key targets`.
 */
static int
parse_list(enum map_type type, const char *s, size_t len,
    struct map_rec *r, const char **why)
{
	const char *p = s, *end = s + len, *k, *tok;
	size_t klen, tlen, n = 0;
	struct mailbox mb;

	if (next_token(&p, end, &k, &klen) == 0) {
		*why = "missing key";
		return -1;
	}
	if (type == MAP_ALIASES) {
		/* The key ends at the colon, which may be glued to it. */
		const char *colon = memchr(k, ':', (size_t)(end - k));

		if (k[0] == '"') {
			const char *q = memchr(k + 1, '"', (size_t)(end - k -
			    1));
			colon = q ? memchr(q, ':', (size_t)(end - q)) : NULL;
		}
		if (colon == NULL) {
			*why = "expected 'name: target, ...'";
			return -1;
		}
		klen = (size_t)(colon - k);
		while (klen > 0 && is_ws(k[klen - 1])) {
			klen--;
		}
		p = colon + 1;
		if (klen == 0 || mailbox_parse(k, klen, 0, &mb) !=
		    MAILBOX_OK || mb.dlen != 0 || memchr(k, '@', klen)) {
			*why = "bad alias name (a local name, no domain)";
			return -1;
		}
	} else {
		int catchall = klen > 0 && k[0] == '@';

		if (mailbox_parse(k, klen, 1, &mb) != MAILBOX_OK) {
			*why = type == MAP_VIRTUAL ? "bad key (user@domain or "
			    "@domain)" : "bad key (user@domain, a local part "
			    "or @domain)";
			return -1;
		}
		if (type == MAP_VIRTUAL && mb.dlen == 0 && !catchall) {
			*why = "bad key (user@domain or @domain; for a "
			    "Postfix 'domain anything' line, list the "
			    "domain in `domains`)";
			return -1;
		}
	}
	if (put_key(r, k, klen) == -1) {
		*why = "key too long";
		return -1;
	}
	while (next_token(&p, end, &tok, &tlen)) {
		enum mailbox_err me;

		if (type == MAP_ALIASES) {
			const char *t = tok;
			size_t l = tlen;

			if (l > 1 && t[0] == '"') {	/* "|cmd" forms */
				t++;
				l--;
			}
			if (t[0] == '|') {
				*why = "delivery to a command ('|...') is not "
				    "supported";
				return -1;
			}
			if (t[0] == '/') {
				*why = "delivery to a file ('/...') is not "
				    "supported";
				return -1;
			}
			if (l >= 9 && strncasecmp(t, ":include:", 9) == 0) {
				*why = "':include:' is not supported";
				return -1;
			}
		}
		me = mailbox_parse(tok, tlen, 0, &mb);
		if (me != MAILBOX_OK) {
			*why = type == MAP_SENDERS ? "bad owner (a login "
			    "name or address)" : "bad target address";
			return -1;
		}
		if (put_val(r, tok, tlen) == -1) {
			*why = "too many targets for one key";
			return -1;
		}
		n++;
	}
	if (n == 0) {
		*why = type == MAP_SENDERS ? "no owner after the key" :
		    "no target after the key";
		return -1;
	}
	return 0;
}

/* `[host]:port user:password` (the key as Postfix's smtp_sasl_password
 * maps write it: brackets mean "no MX lookup"). */
/* A Public Suffix List rule: its first word, the value empty. */
static int
parse_psl(const char *s, size_t len, struct map_rec *r, const char **why)
{
	size_t n = 0;

	while (n < len && !is_ws(s[n])) {
		n++;
	}
	if (n == 0 || put_key(r, s, n) == -1) {
		*why = "rule too long";
		return -1;
	}
	return 0;
}

static int
parse_relay(const char *s, size_t len, struct map_rec *r, const char **why)
{
	const char *p = s, *end = s + len, *k, *v, *colon;
	size_t klen, vlen;

	if (next_token(&p, end, &k, &klen) == 0) {
		*why = "expected '[host]:port user:password'";
		return -1;
	}
	/* user:password is one word taken as it is: a password may
	 * hold commas and quotes (Postfix reads the rest of the line). */
	while (p < end && is_ws(*p)) {
		p++;
	}
	v = p;
	while (p < end && !is_ws(*p)) {
		p++;
	}
	vlen = (size_t)(p - v);
	while (p < end && is_ws(*p)) {
		p++;
	}
	if (vlen == 0) {
		*why = "expected '[host]:port user:password'";
		return -1;
	}
	if (p != end) {
		*why = "expected '[host]:port user:password'";
		return -1;
	}
	if (k[0] == '[') {
		const char *rb = memchr(k, ']', klen);

		if (rb == NULL || rb == k + 1 || (rb + 1 < k + klen &&
		    rb[1] != ':')) {
			*why = "bad host (expected [host]:port)";
			return -1;
		}
	}
	colon = memchr(v, ':', vlen);
	if (colon == NULL || colon == v || colon == v + vlen - 1) {
		*why = "expected user:password after the host";
		return -1;
	}
	if (put_key(r, k, klen) == -1 ||
	    put_val(r, v, (size_t)(colon - v)) == -1 ||
	    put_val(r, colon + 1, (size_t)(v + vlen - colon - 1)) == -1) {
		*why = "entry too long";
		return -1;
	}
	return 0;
}

/* crypt(3) strings: $5$ or $6$, optional rounds=N$, salt of up to 16,
 * then the hash of its fixed length in the crypt alphabet. */
static int
check_crypt(const char *s, size_t len, int scheme)
{
	const char *p, *end = s + len, *dollar;
	size_t hlen;
	char id;

	if (len < 4 || s[0] != '$' || (s[1] != '5' && s[1] != '6') ||
	    s[2] != '$') {
		return -1;
	}
	id = s[1];
	if ((scheme == MAP_SCHEME_SHA512_CRYPT && id != '6') ||
	    (scheme == MAP_SCHEME_SHA256_CRYPT && id != '5')) {
		return -1;
	}
	p = s + 3;
	if ((size_t)(end - p) > 7 && memcmp(p, "rounds=", 7) == 0) {
		p += 7;
		while (p < end && *p >= '0' && *p <= '9') {
			p++;
		}
		if (p == end || *p != '$') {
			return -1;
		}
		p++;
	}
	dollar = memchr(p, '$', (size_t)(end - p));
	if (dollar == NULL || (size_t)(dollar - p) > CRYPT_SALT_MAX) {
		return -1;
	}
	hlen = (size_t)(end - dollar - 1);
	if (hlen != (id == '6' ? SHA512_HASH_LEN : SHA256_HASH_LEN)) {
		return -1;
	}
	for (const char *q = dollar + 1; q < end; q++) {
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		    (*q >= '0' && *q <= '9') || *q == '.' || *q == '/')) {
			return -1;
		}
	}
	return 0;
}

/* The next target: separated by commas and/or white space; a quoted
 * local part may contain either. */
static int
next_token(const char **pp, const char *end, const char **tok, size_t *len)
{
	const char *p = *pp;
	int quoted = 0;

	while (p < end && (is_ws(*p) || *p == ',' || *p == '\r' ||
	    *p == '\n')) {
		p++;
	}
	if (p == end) {
		*pp = p;
		return 0;
	}
	*tok = p;
	while (p < end) {
		if (*p == '"') {
			quoted = !quoted;
		} else if (*p == '\\' && quoted && p + 1 < end) {
			p++;
		} else if (!quoted && (is_ws(*p) || *p == ',' || *p == '\r' ||
		    *p == '\n')) {
			break;
		}
		p++;
	}
	*len = (size_t)(p - *tok);
	*pp = p;
	return 1;
}

static int
put_key(struct map_rec *r, const char *k, size_t len)
{
	if (len > MAP_KEY_MAX) {
		return -1;
	}
	memcpy(r->key, k, len);
	r->key[len] = '\0';
	r->klen = len;
	mailbox_lower(r->key, len);
	return 0;
}

/* Appends one field, NUL-separated from the previous one. */
static int
put_val(struct map_rec *r, const char *v, size_t len)
{
	size_t sep = r->nfields > 0 ? 1 : 0;

	if (r->vlen + sep + len > sizeof r->val) {
		return -1;
	}
	if (sep) {
		r->val[r->vlen++] = '\0';
	}
	memcpy(r->val + r->vlen, v, len);
	r->vlen += len;
	r->nfields++;
	return 0;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}
