/* SPDX-License-Identifier: ISC */
/*
 * junk_tok.c - the junk filter's tokeniser (see junk_tok.h): RFC 5322
 * header fields with prefixes, MIME parts (RFC 2045 6.7, 6.8 decoded
 * by msg/decode.c, RFC 2046 5.1.1 boundaries by their shape), words
 * hashed into a bounded set.
 */
#include <string.h>

#include "msg/junk_tok.h"

enum { ST_HEAD, ST_PART, ST_BODY };

/* What a header field gives: its prefix, or nothing. */
enum {
	F_NONE,		/* name token only */
	F_SKIP,		/* added on the way in: nothing at all */
	F_SUBJ,
	F_FROM,
	F_TO,
	F_CT,
	F_CTE,
	F_MUA,
	F_MID
};

struct field {
	const char	*name;
	unsigned char	 kind;
	unsigned char	 prefix;	/* 1: name is a prefix ("arc-") */
};

static const struct field fields[] = {
	{ "subject", F_SUBJ, 0 }, { "from", F_FROM, 0 },
	{ "reply-to", F_FROM, 0 }, { "sender", F_FROM, 0 },
	{ "to", F_TO, 0 }, { "cc", F_TO, 0 },
	{ "content-type", F_CT, 0 }, { "content-transfer-encoding", F_CTE, 0 },
	{ "x-mailer", F_MUA, 0 }, { "user-agent", F_MUA, 0 },
	{ "message-id", F_MID, 0 }, { "received", F_SKIP, 0 },
	{ "return-path", F_SKIP, 0 }, { "delivered-to", F_SKIP, 0 },
	{ "authentication-results", F_SKIP, 0 },
	{ "dkim-signature", F_SKIP, 0 }, { "arc-", F_SKIP, 1 },
	{ "x-wren-", F_SKIP, 1 }, { "x-spam-", F_SKIP, 1 },
};
#define NFIELDS	(sizeof fields / sizeof fields[0])

/* Indexed by field kind. */
static const char *const prefixes[] = {
	"", "", "subj:", "from:", "to:", "ct:", "", "mua:", "mid:"
};

/* Top types that are not text (RFC 2046 3, RFC 8081). */
static const char *const binary_types[] = {
	"image/", "application/", "audio/", "video/", "font/", "model/"
};

static void	line(struct junk_tok *, const char *, size_t, int end);
static void	header_line(struct junk_tok *, const char *, size_t, int);
static void	body_text(struct junk_tok *, const char *, size_t, int);
static void	text(struct junk_tok *, const char *, size_t, const char *);
static void	flush_word(struct junk_tok *, const char *);
static void	add(struct junk_tok *, uint32_t);
static void	begin_body(struct junk_tok *);
static void	end_decoder(struct junk_tok *);
static int	field_kind(const char *, size_t);
static int	starts_ci(const char *, size_t, const char *);
static int	is_word(unsigned char);
static int	is_inner(unsigned char);
static unsigned char lower(unsigned char);

void
junk_tok_init(struct junk_tok *t)
{
	t->st = ST_HEAD;
	t->field = F_NONE;
	t->skip = t->part_skip = t->cut = 0;
	t->part_cte = DECODE_CTE_IDENTITY;
	(void)decode_body_init(&t->dec, "", 0);
	t->llen = t->wlen = 0;
	t->msgid = 0;
	t->n = t->dropped = 0;
	memset(t->set, 0, sizeof t->set);
}

void
junk_tok_feed(struct junk_tok *t, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl != NULL ? (size_t)(nl - p) : n;
		size_t room = sizeof t->line - t->llen;

		if (k >= room) {
			/* A piece of a long line: taken as it is. */
			memcpy(t->line + t->llen, p, room);
			line(t, t->line, sizeof t->line, 0);
			t->llen = 0;
			p += room;
			n -= room;
			continue;
		}
		memcpy(t->line + t->llen, p, k);
		t->llen += k;
		if (nl == NULL) {
			return;
		}
		k = t->llen;
		if (k > 0 && t->line[k - 1] == '\r') {
			k--;
		}
		line(t, t->line, k, 1);
		t->llen = 0;
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
}

void
junk_tok_end(struct junk_tok *t)
{
	if (t->llen > 0 || t->cut) {
		line(t, t->line, t->llen, 1);
		t->llen = 0;
	}
	end_decoder(t);
	flush_word(t, t->st == ST_BODY ? "" : prefixes[t->field]);
}

int
junk_tok_full(const struct junk_tok *t)
{
	return t->n >= JUNK_MSG_TOKENS;
}

uint32_t
junk_tok_id(const struct junk_tok *t)
{
	uint32_t h = 2166136261u;

	if (t->msgid != 0) {
		return t->msgid;
	}
	/* Order-free: the set's slots depend on nothing but the tokens. */
	for (size_t i = 0; i < JUNK_TOK_SLOTS; i++) {
		h = (h ^ t->set[i]) * 16777619u;
	}
	return h != 0 ? h : 1;
}

uint32_t
junk_tok_hash(const char *prefix, const char *w, size_t len)
{
	uint32_t h = 2166136261u;

	for (; *prefix != '\0'; prefix++) {
		h = (h ^ (unsigned char)*prefix) * 16777619u;
	}
	for (size_t i = 0; i < len; i++) {
		h = (h ^ lower((unsigned char)w[i])) * 16777619u;
	}
	return h != 0 ? h : 1;
}

/* One line (end: its end was seen) or a piece of a longer one. */
static void
line(struct junk_tok *t, const char *p, size_t n, int end)
{
	int cont = t->cut;

	t->cut = !end;
	if (t->st != ST_BODY) {
		header_line(t, p, n, cont);
		return;
	}
	if (!cont && n >= 3 && p[0] == '-' && p[1] == '-' &&
	    memchr(p, ' ', n) == NULL && memchr(p, '\t', n) == NULL) {
		/* A boundary's shape (RFC 2046 5.1.1): a part header. */
		end_decoder(t);
		flush_word(t, "");
		t->st = ST_PART;
		t->field = F_NONE;
		t->part_skip = 0;
		t->part_cte = DECODE_CTE_IDENTITY;
		return;
	}
	body_text(t, p, n, end);
}

static void
header_line(struct junk_tok *t, const char *p, size_t n, int cont)
{
	const char *colon, *v;
	size_t nlen, vlen;
	int kind;

	if (cont || (n > 0 && (p[0] == ' ' || p[0] == '\t'))) {
		if (t->field > F_SKIP && t->field != F_CTE) {
			text(t, p, n, prefixes[t->field]);
		}
		return;
	}
	flush_word(t, prefixes[t->field]);
	if (n == 0) {
		begin_body(t);
		return;
	}
	colon = memchr(p, ':', n);
	if (colon == NULL || colon == p) {
		t->field = F_NONE;
		if (t->st == ST_PART) {
			/* Not a part header after all: body text. */
			begin_body(t);
			body_text(t, p, n, 1);
		}
		return;
	}
	nlen = (size_t)(colon - p);
	while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t')) {
		nlen--;
	}
	kind = field_kind(p, nlen);
	t->field = kind;
	if (kind == F_SKIP) {
		return;
	}
	if (t->st == ST_HEAD && nlen <= JUNK_WORD_MAX) {
		add(t, junk_tok_hash("hdr:", p, nlen));
	}
	v = colon + 1;
	vlen = n - (size_t)(v - p);
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	if (kind == F_CT) {
		for (size_t i = 0; i < sizeof binary_types /
		    sizeof binary_types[0]; i++) {
			if (starts_ci(v, vlen, binary_types[i])) {
				t->part_skip = 1;
			}
		}
	} else if (kind == F_CTE) {
		t->part_cte = decode_body_init(&t->dec, v, vlen);
		return;
	} else if (kind == F_MID && t->st == ST_HEAD) {
		while (vlen > 0 && (v[vlen - 1] == ' ' ||
		    v[vlen - 1] == '\t')) {
			vlen--;
		}
		t->msgid = junk_tok_hash("", v, vlen);
	}
	if (kind != F_NONE) {
		text(t, v, vlen, prefixes[kind]);
	}
}

/* A body line of the current part (end: its line end too). */
static void
body_text(struct junk_tok *t, const char *p, size_t n, int end)
{
	char out[256];
	size_t used, k;

	if (t->skip) {
		return;
	}
	while (n > 0) {
		k = decode_body_feed(&t->dec, p, n, &used, out, sizeof out);
		text(t, out, k, "");
		p += used;
		n -= used;
	}
	if (end) {
		k = decode_body_feed(&t->dec, "\n", 1, &used, out,
		    sizeof out);
		text(t, out, k, "");
		/* what the newline released beyond out is taken at the
		 * next feed or end (the decoder holds it) */
	}
}

static void
begin_body(struct junk_tok *t)
{
	static const char *const cte_name[] = {
		"", "quoted-printable", "base64"
	};

	t->st = ST_BODY;
	t->field = F_NONE;
	t->skip = t->part_skip;
	(void)decode_body_init(&t->dec, cte_name[t->part_cte],
	    strlen(cte_name[t->part_cte]));
}

/* What the decoder still holds, as text. */
static void
end_decoder(struct junk_tok *t)
{
	char out[64];
	size_t k;

	while ((k = decode_body_end(&t->dec, out, sizeof out)) > 0) {
		if (!t->skip) {
			text(t, out, k, "");
		}
	}
}

/* Cuts p[0..n) into words (see junk_tok.h), each given prefix. */
static void
text(struct junk_tok *t, const char *p, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (is_word(c) || (t->wlen > 0 && is_inner(c))) {
			if (t->wlen < sizeof t->word) {
				t->word[t->wlen] = (char)c;
			}
			if (t->wlen <= JUNK_WORD_MAX) {
				t->wlen++;
			}
		} else if (t->wlen > 0) {
			flush_word(t, prefix);
		}
	}
}

/* The word collected: to the set when it qualifies. */
static void
flush_word(struct junk_tok *t, const char *prefix)
{
	size_t n = t->wlen, dot = 0, dots = 0, alpha = 0;
	const char *w = t->word;

	t->wlen = 0;
	if (n > JUNK_WORD_MAX) {
		return;		/* too long (or longer than kept) */
	}
	while (n > 0 && is_inner((unsigned char)w[n - 1])) {
		n--;
	}
	if (n < JUNK_WORD_MIN) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c == '.') {
			dots++;
		} else if (c < '0' || c > '9') {
			alpha = 1;
		}
	}
	if (!alpha) {
		return;		/* numbers, dotted or not */
	}
	add(t, junk_tok_hash(prefix, w, n));
	if (dots == 0) {
		return;
	}
	/* A host name: its last two labels too. */
	for (size_t i = n, seen = 0; i-- > 0; ) {
		if (w[i] == '.' && ++seen == 2) {
			dot = i + 1;
			break;
		}
	}
	if (n - dot >= JUNK_WORD_MIN) {
		add(t, junk_tok_hash("host:", w + dot, n - dot));
	}
}

/* Into the set (open addressing, linear probes), unless full. */
static void
add(struct junk_tok *t, uint32_t h)
{
	size_t i = h & (JUNK_TOK_SLOTS - 1);

	while (t->set[i] != 0) {
		if (t->set[i] == h) {
			return;
		}
		i = (i + 1) & (JUNK_TOK_SLOTS - 1);
	}
	if (t->n >= JUNK_MSG_TOKENS) {
		t->dropped++;
		return;
	}
	t->set[i] = h;
	t->n++;
}

static int
field_kind(const char *p, size_t n)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		size_t k = strlen(fields[i].name);

		if ((k == n || (fields[i].prefix && n > k)) &&
		    starts_ci(p, n, fields[i].name)) {
			return fields[i].kind;
		}
	}
	return F_NONE;
}

/* 1 when p[0..n) begins with lower-case s, in any case. */
static int
starts_ci(const char *p, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= n || lower((unsigned char)p[i]) !=
		    (unsigned char)s[i]) {
			return 0;
		}
	}
	return 1;
}

static int
is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80 || c == '$';
}

static int
is_inner(unsigned char c)
{
	return c == '-' || c == '_' || c == '.' || c == '\'';
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}
