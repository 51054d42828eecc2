/* SPDX-License-Identifier: ISC */
/*
 * json.c - the JSON reader (see json.h): RFC 8259 sections 2 to 7,
 * one pass, no recursion (an explicit stack of JSON_DEPTH_MAX open
 * containers), tokens into the caller's array.
 */
#include <string.h>

#include "acme/json.h"

/* What may come next. */
enum want {
	W_VALUE,		/* a value */
	W_FIRST_VALUE,		/* a value or ']' (just after '[') */
	W_KEY,			/* a member name */
	W_FIRST_KEY,		/* a member name or '}' (just after '{') */
	W_COLON,		/* ':' after a name */
	W_MORE,			/* ',' or the container's end */
	W_DONE			/* nothing but white space */
};

static size_t	skip_ws(const char *, size_t, size_t);
static long	scan_string(const char *, size_t, size_t);
static long	scan_number(const char *, size_t, size_t);
static int	hex4(const char *, unsigned *);
static size_t	put_utf8(char *, unsigned);

int
json_parse(const char *s, size_t len, struct json_tok *t, size_t cap)
{
	uint32_t stack[JSON_DEPTH_MAX];
	int depth = 0;
	size_t pos = 0, n = 0;
	enum want want = W_VALUE;

	if (len > 0x7fffffffu) {
		return JSON_ERR_SIZE;
	}
	for (;;) {
		struct json_tok *k;
		char c;
		long end;

		pos = skip_ws(s, len, pos);
		if (pos == len) {
			return want == W_DONE ? (int)n : JSON_ERR_SYNTAX;
		}
		c = s[pos];
		if (want == W_DONE) {
			return JSON_ERR_SYNTAX;
		}
		if (want == W_COLON) {
			if (c != ':') {
				return JSON_ERR_SYNTAX;
			}
			pos++;
			want = W_VALUE;
			continue;
		}
		if (want == W_MORE && c == ',') {
			pos++;
			want = t[stack[depth - 1]].type == JSON_OBJECT ?
			    W_KEY : W_VALUE;
			continue;
		}
		if ((want == W_MORE || want == W_FIRST_KEY ||
		    want == W_FIRST_VALUE) && (c == '}' || c == ']')) {
			k = &t[stack[depth - 1]];
			if (c != (k->type == JSON_OBJECT ? '}' : ']')) {
				return JSON_ERR_SYNTAX;
			}
			k->end = (uint32_t)++pos;
			k->next = (uint32_t)n;
			depth--;
			want = depth > 0 ? W_MORE : W_DONE;
			continue;
		}
		if (want == W_MORE) {
			return JSON_ERR_SYNTAX;
		}
		if (n == cap) {
			return JSON_ERR_TOKENS;
		}
		k = &t[n];
		memset(k, 0, sizeof *k);
		k->start = (uint32_t)pos;
		if (want == W_KEY || want == W_FIRST_KEY) {
			if (c != '"' || (end = scan_string(s, len, pos)) < 0) {
				return JSON_ERR_SYNTAX;
			}
			k->type = JSON_STRING;
			k->start++;
			k->end = (uint32_t)end - 1;
			k->next = (uint32_t)++n;
			t[stack[depth - 1]].n++;
			pos = (size_t)end;
			want = W_COLON;
			continue;
		}
		if (depth > 0 && t[stack[depth - 1]].type == JSON_ARRAY) {
			t[stack[depth - 1]].n++;
		}
		n++;
		if (c == '{' || c == '[') {
			if (depth == JSON_DEPTH_MAX) {
				return JSON_ERR_DEPTH;
			}
			k->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
			stack[depth++] = (uint32_t)(n - 1);
			pos++;
			want = c == '{' ? W_FIRST_KEY : W_FIRST_VALUE;
			continue;
		}
		if (c == '"') {
			end = scan_string(s, len, pos);
			k->type = JSON_STRING;
			k->start++;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			end = scan_number(s, len, pos);
			k->type = JSON_NUMBER;
		} else if (len - pos >= 4 && memcmp(s + pos, "true", 4) == 0) {
			end = (long)pos + 4;
			k->type = JSON_TRUE;
		} else if (len - pos >= 5 &&
		    memcmp(s + pos, "false", 5) == 0) {
			end = (long)pos + 5;
			k->type = JSON_FALSE;
		} else if (len - pos >= 4 && memcmp(s + pos, "null", 4) == 0) {
			end = (long)pos + 4;
			k->type = JSON_NULL;
		} else {
			end = -1;
		}
		if (end < 0) {
			return JSON_ERR_SYNTAX;
		}
		k->end = (uint32_t)(k->type == JSON_STRING ? end - 1 : end);
		k->next = (uint32_t)n;
		pos = (size_t)end;
		want = depth > 0 ? W_MORE : W_DONE;
	}
}

int
json_member(const char *s, const struct json_tok *t, int n, int obj,
    const char *key)
{
	size_t kl = strlen(key);
	int i;

	if (obj < 0 || obj >= n || t[obj].type != JSON_OBJECT) {
		return -1;
	}
	i = obj + 1;
	for (uint32_t m = 0; m < t[obj].n && i + 1 < n; m++) {
		if (t[i].end - t[i].start == kl &&
		    memcmp(s + t[i].start, key, kl) == 0) {
			return i + 1;
		}
		i = (int)t[i + 1].next;
	}
	return -1;
}

int
json_elem(const struct json_tok *t, int n, int arr, size_t idx)
{
	int i;

	if (arr < 0 || arr >= n || t[arr].type != JSON_ARRAY ||
	    idx >= t[arr].n) {
		return -1;
	}
	i = arr + 1;
	while (idx-- > 0) {
		i = (int)t[i].next;
	}
	return i < n ? i : -1;
}

long
json_str(const char *s, const struct json_tok *t, int i, char *out,
    size_t cap)
{
	const char *p, *end;
	size_t o = 0;

	if (i < 0 || t[i].type != JSON_STRING) {
		return -1;
	}
	p = s + t[i].start;
	end = s + t[i].end;
	while (p < end) {
		char tmp[4];
		size_t l = 1;
		unsigned u, lo;

		tmp[0] = *p++;
		if (tmp[0] == '\\') {
			/* scan_string saw a valid escape: p < end. */
			switch (*p++) {
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case 'n': tmp[0] = '\n'; break;
			case 'r': tmp[0] = '\r'; break;
			case 't': tmp[0] = '\t'; break;
			case 'u':
				(void)hex4(p, &u);
				p += 4;
				if (u >= 0xdc00 && u < 0xe000) {
					return -1;	/* lone low half */
				}
				if (u >= 0xd800 && u < 0xdc00) {
					/* RFC 8259 7: a pair, or nothing */
					if (end - p < 6 || p[0] != '\\' ||
					    p[1] != 'u' ||
					    hex4(p + 2, &lo) == -1 ||
					    lo < 0xdc00 || lo >= 0xe000) {
						return -1;
					}
					p += 6;
					u = 0x10000 + ((u - 0xd800) << 10) +
					    (lo - 0xdc00);
				}
				if (u == 0) {
					return -1;	/* C strings */
				}
				l = put_utf8(tmp, u);
				break;
			default: tmp[0] = p[-1]; break;	/* " \ / */
			}
		}
		if (cap - o <= l) {
			return -1;
		}
		memcpy(out + o, tmp, l);
		o += l;
	}
	if (o >= cap) {
		return -1;
	}
	out[o] = '\0';
	return (long)o;
}

int
json_str_is(const char *s, const struct json_tok *t, const char *lit)
{
	size_t l = strlen(lit);

	return t != NULL && t->type == JSON_STRING &&
	    t->end - t->start == l && memcmp(s + t->start, lit, l) == 0;
}

int
json_uint(const char *s, const struct json_tok *t, int i, uint64_t *out)
{
	uint64_t v = 0;

	if (i < 0 || t[i].type != JSON_NUMBER) {
		return -1;
	}
	for (uint32_t p = t[i].start; p < t[i].end; p++) {
		if (s[p] < '0' || s[p] > '9' || v > (1ull << 53) / 10) {
			return -1;
		}
		v = v * 10 + (uint64_t)(s[p] - '0');
	}
	*out = v;
	return 0;
}

static size_t
skip_ws(const char *s, size_t len, size_t pos)
{
	while (pos < len && (s[pos] == ' ' || s[pos] == '\t' ||
	    s[pos] == '\n' || s[pos] == '\r')) {
		pos++;
	}
	return pos;
}

/* s[pos] is '"': the offset past the closing quote, or -1. */
static long
scan_string(const char *s, size_t len, size_t pos)
{
	unsigned u;

	for (pos++; pos < len; pos++) {
		unsigned char c = (unsigned char)s[pos];

		if (c == '"') {
			return (long)pos + 1;
		}
		if (c < 0x20) {
			return -1;		/* RFC 8259 7: escape them */
		}
		if (c != '\\') {
			continue;
		}
		if (++pos == len) {
			return -1;
		}
		if (s[pos] == 'u') {
			if (len - pos < 5 || hex4(s + pos + 1, &u) == -1) {
				return -1;
			}
			pos += 4;
		} else if (strchr("\"\\/bfnrt", s[pos]) == NULL ||
		    s[pos] == '\0') {
			return -1;
		}
	}
	return -1;
}

/* RFC 8259 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static long
scan_number(const char *s, size_t len, size_t pos)
{
	size_t d;

#define DIGITS() do { d = pos; while (pos < len && s[pos] >= '0' && \
	s[pos] <= '9') { pos++; } } while (0)
	if (s[pos] == '-') {
		pos++;
	}
	DIGITS();
	if (pos == d || (s[d] == '0' && pos - d > 1)) {
		return -1;
	}
	if (pos < len && s[pos] == '.') {
		pos++;
		DIGITS();
		if (pos == d) {
			return -1;
		}
	}
	if (pos < len && (s[pos] == 'e' || s[pos] == 'E')) {
		pos++;
		if (pos < len && (s[pos] == '+' || s[pos] == '-')) {
			pos++;
		}
		DIGITS();
		if (pos == d) {
			return -1;
		}
	}
#undef DIGITS
	return (long)pos;
}

static int
hex4(const char *p, unsigned *u)
{
	*u = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned v;

		if (c >= '0' && c <= '9') {
			v = (unsigned)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			v = (unsigned)(c - 'a' + 10);
		} else if (c >= 'A' && c <= 'F') {
			v = (unsigned)(c - 'A' + 10);
		} else {
			return -1;
		}
		*u = *u << 4 | v;
	}
	return 0;
}

static size_t
put_utf8(char *o, unsigned u)
{
	if (u < 0x80) {
		o[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		o[0] = (char)(0xc0 | u >> 6);
		o[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		o[0] = (char)(0xe0 | u >> 12);
		o[1] = (char)(0x80 | (u >> 6 & 0x3f));
		o[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | u >> 18);
	o[1] = (char)(0x80 | (u >> 12 & 0x3f));
	o[2] = (char)(0x80 | (u >> 6 & 0x3f));
	o[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}
