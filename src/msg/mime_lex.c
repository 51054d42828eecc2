/* SPDX-License-Identifier: ISC */
/*
 * mime_lex.c - the lexer shared by mime.c and mime_imap.c (see
 * mime_int.h): RFC 5322 3.2.2 CFWS with nested comments, 3.2.3 atoms
 * and dot-atoms, 3.2.4 quoted strings (folding removed), 3.2.5
 * phrases, 3.4.1 domains and domain literals, RFC 2045 5.1 tokens.
 * It follows Dovecot's rfc822-parser.c so that what a malformed field
 * yields is the same: 1 = more input follows, 0 = end of input,
 * -1 = syntax error; output goes to bounded builders.
 */
#include <string.h>

#include "core/limits.h"
#include "mime_int.h"

static int	content_param(struct mime_lex *, struct mime_sb *key,
		    struct mime_sb *val);
static void	put_uint(struct mime_sb *, unsigned);

void
mime_sb_init(struct mime_sb *sb, char *buf, size_t cap)
{
	sb->p = buf;
	sb->len = 0;
	sb->cap = cap;
	sb->over = 0;
}

void
mime_sb_add(struct mime_sb *sb, const void *s, size_t len)
{
	if (len > sb->cap - sb->len) {
		len = sb->cap - sb->len;
		sb->over = 1;
	}
	if (len > 0) {
		memcpy(sb->p + sb->len, s, len);
		sb->len += len;
	}
}

void
mime_sb_addc(struct mime_sb *sb, char c)
{
	if (sb->len < sb->cap) {
		sb->p[sb->len++] = c;
	} else {
		sb->over = 1;
	}
}

int
mime_strcaseeq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i];
		unsigned char y = (unsigned char)b[i];

		if (y == '\0') {
			return 0;
		}
		if (x >= 'A' && x <= 'Z') {
			x = (unsigned char)(x + 32);
		}
		if (y >= 'A' && y <= 'Z') {
			y = (unsigned char)(y + 32);
		}
		if (x != y) {
			return 0;
		}
	}
	return b[alen] == '\0';
}

/* RFC 5322 3.2.3 atext (1), RFC 2045 5.1 tspecials among it (2):
 * '/', '=', '?'. 8-bit octets are atext, as in Dovecot. */
static const unsigned char char_class[128] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 0, 2,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 0, 2,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0
};

int
mime_is_atext(unsigned char c)
{
	return c >= 128 || char_class[c] != 0;
}

int
mime_is_token(unsigned char c)
{
	return c >= 128 || char_class[c] == 1 || c == '.';
}

/* CFWS of RFC 5322 3.2.2; nested comments, quoted pairs. The text of
 * the last comment is kept when lx->comment is set. */
static int
lex_comment(struct mime_lex *lx)
{
	const unsigned char *start;
	int level = 1;

	if (lx->comment != NULL) {
		lx->comment->len = 0;
	}
	start = ++lx->data;
	for (; lx->data < lx->end; lx->data++) {
		switch (*lx->data) {
		case '(':
			level++;
			break;
		case ')':
			if (--level == 0) {
				if (lx->comment != NULL) {
					mime_sb_add(lx->comment, start,
					    (size_t)(lx->data - start));
				}
				lx->data++;
				return lx->data < lx->end ? 1 : 0;
			}
			break;
		case '\\':
			if (lx->comment != NULL) {
				mime_sb_add(lx->comment, start,
				    (size_t)(lx->data - start));
			}
			start = lx->data + 1;
			lx->data++;
			if (lx->data >= lx->end) {
				return -1;
			}
			break;
		default:
			break;
		}
	}
	return -1;
}

int
mime_lex_skip(struct mime_lex *lx)
{
	while (lx->data < lx->end) {
		unsigned char c = *lx->data;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			lx->data++;
			continue;
		}
		if (c != '(') {
			break;
		}
		if (lex_comment(lx) < 0) {
			return -1;
		}
	}
	return lx->data < lx->end ? 1 : 0;
}

int
mime_lex_atom(struct mime_lex *lx, struct mime_sb *sb)
{
	const unsigned char *start;

	if (lx->data >= lx->end || !mime_is_atext(*lx->data)) {
		return -1;
	}
	for (start = lx->data++; lx->data < lx->end; lx->data++) {
		if (!mime_is_atext(*lx->data)) {
			mime_sb_add(sb, start, (size_t)(lx->data - start));
			return mime_lex_skip(lx);
		}
	}
	mime_sb_add(sb, start, (size_t)(lx->data - start));
	return 0;
}

int
mime_lex_dot_atom(struct mime_lex *lx, struct mime_sb *sb)
{
	const unsigned char *start;
	int ret;

	if (lx->data >= lx->end || !mime_is_atext(*lx->data)) {
		return -1;
	}
	for (start = lx->data++; lx->data < lx->end;) {
		if (mime_is_atext(*lx->data)) {
			lx->data++;
			continue;
		}
		mime_sb_add(sb, start, (size_t)(lx->data - start));
		if ((ret = mime_lex_skip(lx)) <= 0) {
			return ret;
		}
		if (*lx->data != '.') {
			return 1;
		}
		lx->data++;
		mime_sb_addc(sb, '.');
		if ((ret = mime_lex_skip(lx)) <= 0) {
			return ret;
		}
		start = lx->data;
	}
	mime_sb_add(sb, start, (size_t)(lx->data - start));
	return 0;
}

int
mime_lex_token(struct mime_lex *lx, struct mime_sb *sb)
{
	const unsigned char *start;

	for (start = lx->data; lx->data < lx->end; lx->data++) {
		if (!mime_is_token(*lx->data)) {
			mime_sb_add(sb, start, (size_t)(lx->data - start));
			return mime_lex_skip(lx);
		}
	}
	mime_sb_add(sb, start, (size_t)(lx->data - start));
	return 0;
}

int
mime_lex_quoted(struct mime_lex *lx, struct mime_sb *sb)
{
	const unsigned char *start;
	size_t len;

	lx->data++;
	for (start = lx->data; lx->data < lx->end; lx->data++) {
		switch (*lx->data) {
		case '"':
			mime_sb_add(sb, start, (size_t)(lx->data - start));
			lx->data++;
			return mime_lex_skip(lx);
		case '\n':
			/* Folding inside the string: drop the [CR]LF. */
			len = (size_t)(lx->data - start);
			if (len > 0 && start[len - 1] == '\r') {
				len--;
			}
			mime_sb_add(sb, start, len);
			start = lx->data + 1;
			break;
		case '\\':
			lx->data++;
			if (lx->data >= lx->end) {
				return -1;
			}
			mime_sb_add(sb, start, (size_t)(lx->data - start - 1));
			start = lx->data;
			break;
		default:
			break;
		}
	}
	return -1;
}

static int
lex_atom_or_dot(struct mime_lex *lx, struct mime_sb *sb)
{
	const unsigned char *start;

	for (start = lx->data; lx->data < lx->end; lx->data++) {
		if (!mime_is_atext(*lx->data) && *lx->data != '.') {
			mime_sb_add(sb, start, (size_t)(lx->data - start));
			return mime_lex_skip(lx);
		}
	}
	mime_sb_add(sb, start, (size_t)(lx->data - start));
	return 0;
}

/* phrase = 1*word / obs-phrase (RFC 5322 3.2.5, 4.1): words joined by
 * one space. */
int
mime_lex_phrase(struct mime_lex *lx, struct mime_sb *sb)
{
	int ret;

	if (lx->data >= lx->end) {
		return 0;
	}
	if (*lx->data == '.') {
		return -1;
	}
	for (;;) {
		if (*lx->data == '"') {
			ret = mime_lex_quoted(lx, sb);
		} else {
			ret = lex_atom_or_dot(lx, sb);
		}
		if (ret <= 0) {
			return ret;
		}
		if (!mime_is_atext(*lx->data) && *lx->data != '"' &&
		    *lx->data != '.') {
			break;
		}
		mime_sb_addc(sb, ' ');
	}
	return mime_lex_skip(lx);
}

/* domain = dot-atom / domain-literal (RFC 5322 3.4.1), after "@". */
int
mime_lex_domain(struct mime_lex *lx, struct mime_sb *sb)
{
	const unsigned char *start;

	lx->data++;
	if (mime_lex_skip(lx) <= 0) {
		return -1;
	}
	if (*lx->data != '[') {
		return mime_lex_dot_atom(lx, sb);
	}
	for (start = lx->data; lx->data < lx->end; lx->data++) {
		if (*lx->data == '\\') {
			lx->data++;
			if (lx->data >= lx->end) {
				break;
			}
		} else if (*lx->data == ']') {
			lx->data++;
			mime_sb_add(sb, start, (size_t)(lx->data - start));
			return mime_lex_skip(lx);
		}
	}
	return -1;
}

/*
 * Parameters and RFC 2231 3-4 continuations, merged as Dovecot's
 * rfc2231_parse does: plain parameters in their order, then each
 * continued one (sorted by name, then index) as one "name" or "name*"
 * whose value is the concatenation, still encoded. With an index
 * missing, the pieces stay apart as "name*<n>[*]".
 */
struct rfc2231_piece {
	size_t		key;	/* offset in the scratch */
	size_t		klen;
	size_t		val;
	size_t		vlen;
	unsigned	idx;
	int		ext;
};

int
mime_lex_params(struct mime_lex *lx, struct mime_sb *out, unsigned *count)
{
	char kbuf[MIME_HEADER_MAX], vbuf[MIME_HEADER_MAX];
	char sbuf[MIME_HEADER_MAX + 2 * MIME_PARAMS_MAX];
	struct rfc2231_piece pc[MIME_PARAMS_MAX], t;
	struct mime_sb key, val, scratch;
	unsigned npc = 0, idx = 0, i, j, next, next_idx;
	int ret, broken = 0;

	mime_sb_init(&scratch, sbuf, sizeof sbuf);
	for (;;) {
		mime_sb_init(&key, kbuf, sizeof kbuf);
		mime_sb_init(&val, vbuf, sizeof vbuf);
		ret = content_param(lx, &key, &val);
		if (ret == 0) {
			break;
		}
		if (ret < 0) {
			broken = 1;
			if (lx->data >= lx->end) {
				break;
			}
			lx->data++;
			continue;
		}
		{
			const char *star = memchr(key.p, '*', key.len);
			size_t q;
			int ext;

			if (star != NULL && npc < MIME_PARAMS_MAX) {
				q = (size_t)(star - key.p);
				if (q + 1 < key.len) {
					/* Dovecot keeps the index of the
					 * previous piece for "name*". */
					q++;
					idx = 0;
					while (q < key.len &&
					    key.p[q] >= '0' &&
					    key.p[q] <= '9') {
						idx = idx * 10 +
						    (unsigned)(key.p[q] - '0');
						q++;
					}
				}
				ext = q < key.len && key.p[q] == '*';
				if (ext) {
					q++;
				}
				if (q == key.len) {
					struct rfc2231_piece *r = &pc[npc++];

					r->key = scratch.len;
					r->klen = (size_t)(star - key.p);
					mime_sb_add(&scratch, key.p, r->klen);
					r->val = scratch.len;
					r->vlen = val.len;
					mime_sb_add(&scratch, val.p, val.len);
					r->idx = idx;
					r->ext = ext;
					continue;
				}
			}
		}
		mime_sb_add(out, key.p, key.len);
		mime_sb_addc(out, '\0');
		mime_sb_add(out, val.p, val.len);
		mime_sb_addc(out, '\0');
		(*count)++;
	}
	if (scratch.over) {
		out->over = 1;
		return -1;
	}
	/* Stable sort by name (strcmp order), then index. */
	for (i = 1; i < npc; i++) {
		t = pc[i];
		for (j = i; j > 0; j--) {
			const struct rfc2231_piece *a = &pc[j - 1];
			size_t n = a->klen < t.klen ? a->klen : t.klen;
			int c = memcmp(scratch.p + a->key,
			    scratch.p + t.key, n);

			if (c == 0) {
				c = a->klen < t.klen ? -1 :
				    (a->klen > t.klen ? 1 : 0);
			}
			if (c < 0 || (c == 0 && a->idx <= t.idx)) {
				break;
			}
			pc[j] = pc[j - 1];
		}
		pc[j] = t;
	}
	for (i = 0; i < npc; i = next) {
		int ok = 1, have_ext = 0;

		next_idx = 0;
		for (j = i; j < npc; j++) {
			if (pc[i].klen != pc[j].klen) {
				break;
			}
			{
				size_t k;
				int same = 1;

				for (k = 0; k < pc[i].klen; k++) {
					char a = scratch.p[pc[i].key + k];
					char b = scratch.p[pc[j].key + k];

					if (a >= 'A' && a <= 'Z') {
						a = (char)(a + 32);
					}
					if (b >= 'A' && b <= 'Z') {
						b = (char)(b + 32);
					}
					if (a != b) {
						same = 0;
						break;
					}
				}
				if (!same) {
					break;
				}
			}
			if (pc[j].idx != next_idx) {
				ok = 0;
			}
			if (pc[j].ext) {
				have_ext = 1;
			}
			next_idx++;
		}
		next = j;
		if (!ok) {
			for (j = i; j < next; j++) {
				mime_sb_add(out, scratch.p + pc[j].key,
				    pc[j].klen);
				mime_sb_addc(out, '*');
				put_uint(out, pc[j].idx);
				if (pc[j].ext) {
					mime_sb_addc(out, '*');
				}
				mime_sb_addc(out, '\0');
				mime_sb_add(out, scratch.p + pc[j].val,
				    pc[j].vlen);
				mime_sb_addc(out, '\0');
				(*count)++;
			}
			continue;
		}
		mime_sb_add(out, scratch.p + pc[i].key, pc[i].klen);
		if (have_ext) {
			mime_sb_addc(out, '*');
		}
		mime_sb_addc(out, '\0');
		if (!pc[i].ext && have_ext) {
			mime_sb_add(out, "''", 2);
		}
		for (j = i; j < next; j++) {
			const char *s = scratch.p + pc[j].val;
			size_t k;

			if (pc[j].ext || !have_ext) {
				mime_sb_add(out, s, pc[j].vlen);
				continue;
			}
			for (k = 0; k < pc[j].vlen; k++) {
				if (s[k] == '%') {
					mime_sb_add(out, "%25", 3);
				} else {
					mime_sb_addc(out, s[k]);
				}
			}
		}
		mime_sb_addc(out, '\0');
		(*count)++;
	}
	return broken ? -1 : 0;
}

/* One ";" attribute "=" value (RFC 2045 5.1), with Dovecot's leniency:
 * a value may be missing, and an unquoted "=?...?=" is taken whole. */
static int
content_param(struct mime_lex *lx, struct mime_sb *key, struct mime_sb *val)
{
	int ret;

	if (lx->data >= lx->end) {
		return 0;
	}
	if (*lx->data != ';') {
		return -1;
	}
	lx->data++;
	if (mime_lex_skip(lx) <= 0) {
		return -1;
	}
	if (mime_lex_token(lx, key) <= 0) {
		return -1;
	}
	if (*lx->data != '=') {
		return -1;
	}
	lx->data++;
	ret = mime_lex_skip(lx);
	if (ret <= 0) {
		;	/* no value */
	} else if (*lx->data == '"') {
		ret = mime_lex_quoted(lx, val);
	} else if (*lx->data == '=') {
		while (lx->data < lx->end && *lx->data != ';' &&
		    *lx->data != ' ' && *lx->data != '\t' &&
		    *lx->data != '\r' && *lx->data != '\n') {
			mime_sb_addc(val, (char)*lx->data);
			lx->data++;
		}
	} else {
		ret = mime_lex_token(lx, val);
	}
	return ret < 0 ? -1 : 1;
}

static void
put_uint(struct mime_sb *sb, unsigned v)
{
	char d[12];
	size_t n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0) {
		mime_sb_addc(sb, d[--n]);
	}
}
