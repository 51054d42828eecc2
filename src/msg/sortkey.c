/* SPDX-License-Identifier: ISC */
/*
 * sortkey.c - base subjects (RFC 5256 2.1) and address keys (RFC 5256
 * 3 SORT FROM/TO/CC, RFC 5957 DISPLAYFROM/DISPLAYTO) for SORT and
 * THREAD, upper-cased for i;ascii-casemap (RFC 4790 9.2).
 */
#include <string.h>

#include "msg/decode.h"
#include "msg/sortkey.h"

/* A span of the text being trimmed. */
struct span {
	const char	*s;
	size_t		 b, e;
};

static size_t	casemap(const char *in, size_t len, size_t *i, char *out);
static int	upper(int c);
static int	is_ws(int c);
static size_t	blob_len(const char *s, size_t b, size_t e);
static int	strip_leader(struct span *, int *reply);
static size_t	addr_end(const char *s, size_t i, size_t len, int *sep);
static size_t	skip_comment(const char *s, size_t i, size_t len);
static size_t	copy_text(const char *s, size_t b, size_t e, int keep_ws,
		    char *out, size_t cap);
static size_t	mailbox_key(const char *s, size_t b, size_t e, int display,
		    char *out, size_t cap);

size_t
sortkey_subject(const char *in, size_t len, char *out, size_t cap,
    int *reply)
{
	struct span sp;
	size_t n = 0;
	int r = 0, again;

	/* Step 1: tabs, line ends and runs of them become one space. */
	for (size_t i = 0; i < len;) {
		char m[3];
		size_t k;

		if (is_ws((unsigned char)in[i])) {
			i++;
			if (n > 0 && out[n - 1] == ' ') {
				continue;
			}
			m[0] = ' ';
			k = 1;
		} else {
			k = casemap(in, len, &i, m);
		}
		if (n + k > cap) {
			break;
		}
		memcpy(out + n, m, k);
		n += k;
	}
	sp.s = out;
	sp.b = 0;
	sp.e = n;
	do {
		/* Step 2: trailers, "(FWD)" and white space. */
		for (;;) {
			if (sp.e > sp.b && out[sp.e - 1] == ' ') {
				sp.e--;
			} else if (sp.e - sp.b >= 5 && memcmp(out + sp.e - 5,
			    "(FWD)", 5) == 0) {
				sp.e -= 5;
				r = 1;
			} else {
				break;
			}
		}
		/* Steps 3 to 5: leaders, and a leading blob that is not
		 * all there is. */
		do {
			size_t bl;

			again = strip_leader(&sp, &r);
			if (!again && (bl = blob_len(out, sp.b, sp.e)) > 0 &&
			    sp.b + bl < sp.e) {
				sp.b += bl;
				again = 1;
			}
		} while (again);
		/* Step 6: a "[FWD: ...]" wrapper, then again from 2. */
		again = sp.e - sp.b >= 6 && memcmp(out + sp.b, "[FWD:", 5) ==
		    0 && out[sp.e - 1] == ']';
		if (again) {
			sp.b += 5;
			sp.e--;
			r = 1;
		}
	} while (again);
	if (reply != NULL) {
		*reply = r;
	}
	memmove(out, out + sp.b, sp.e - sp.b);
	return sp.e - sp.b;
}

size_t
sortkey_addr(const char *in, size_t len, int display, char *out,
    size_t cap)
{
	size_t i = 0, e, n;
	int sep;

	while (i < len) {
		e = addr_end(in, i, len, &sep);
		if (sep == ':') {
			/* A group: its name is the first address's
			 * mailbox, as Dovecot parses it ("undisclosed-
			 * recipients:;" sorts under U). */
			n = copy_text(in, i, e, 1, out, cap);
		} else {
			n = mailbox_key(in, i, e, display, out, cap);
		}
		if (n > 0) {
			return n;
		}
		i = e < len ? e + 1 : len;	/* no mailbox here */
	}
	return 0;
}

uint64_t
sortkey_hash(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* --- subjects ---------------------------------------------------------- */

/*
 * The comparator's form of the character at in[*i] into out (1 to 3
 * octets; *i moves past it): ASCII upper-cased, and Latin-1 letters
 * (U+00C0 to U+00FF, the accented letters of western European names)
 * title-cased and decomposed, as i;unicode-casemap (RFC 5051) does
 * and Dovecot sorts: "e" with acute is "E" then U+0301. Other text
 * is kept as it is (RFC 5256 asks only for i;ascii-casemap).
 */
static size_t
casemap(const char *in, size_t len, size_t *i, char *out)
{
	/* U+00C0..U+00DF: the letter of its decomposition ('.' none:
	 * kept) and the low octet of the combining mark (U+03xx);
	 * U+00E0..U+00FE are the same in lower case. */
	static const char base[] = "AAAAAA.CEEEEIIII.NOOOOO..UUUUY..";
	static const unsigned char mark[32] = { 0x80, 0x81, 0x82, 0x83,
		0x88, 0x8a, 0, 0xa7, 0x80, 0x81, 0x82, 0x88, 0x80, 0x81,
		0x82, 0x88, 0, 0x83, 0x80, 0x81, 0x82, 0x83, 0x88, 0, 0,
		0x80, 0x81, 0x82, 0x88, 0x81, 0, 0 };
	unsigned lo;

	if ((unsigned char)in[*i] != 0xc3 || *i + 1 >= len ||
	    ((unsigned char)in[*i + 1] & 0xc0) != 0x80) {
		out[0] = (char)upper((unsigned char)in[(*i)++]);
		return 1;
	}
	lo = (unsigned char)in[*i + 1] & 0x3f;
	*i += 2;
	if (lo == 0x3f) {		/* y with diaeresis */
		memcpy(out, "Y\xcc\x88", 3);
		return 3;
	}
	if (base[lo & 31] == '.' || lo == 0x37) {
		/* No decomposition: the upper case (division kept). */
		out[0] = (char)0xc3;
		out[1] = (char)(0x80 | (lo == 0x37 ? lo : lo & 31));
		return 2;
	}
	out[0] = base[lo & 31];
	out[1] = (char)0xcc;
	out[2] = (char)mark[lo & 31];
	return 3;
}

static int
upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The length of a subj-blob ("[" *BLOBCHAR "]" *WSP) at s[b], or 0. */
static size_t
blob_len(const char *s, size_t b, size_t e)
{
	size_t i = b + 1;

	if (b >= e || s[b] != '[') {
		return 0;
	}
	while (i < e && s[i] != ']' && s[i] != '[') {
		i++;
	}
	if (i >= e || s[i] != ']') {
		return 0;
	}
	for (i++; i < e && s[i] == ' '; i++) {
		continue;
	}
	return i - b;
}

/* Removes one subj-leader (*subj-blob subj-refwd, or a space): 1 if
 * one was there. */
static int
strip_leader(struct span *sp, int *reply)
{
	const char *s = sp->s;
	size_t i = sp->b, bl;

	if (i < sp->e && s[i] == ' ') {
		sp->b++;
		return 1;
	}
	while ((bl = blob_len(s, i, sp->e)) > 0) {
		i += bl;
	}
	if (sp->e - i >= 2 && (memcmp(s + i, "RE", 2) == 0 ||
	    memcmp(s + i, "FW", 2) == 0)) {
		if (s[i + 1] == 'W' && i + 2 < sp->e && s[i + 2] == 'D') {
			i++;
		}
		i += 2;
		while (i < sp->e && s[i] == ' ') {
			i++;
		}
		i += blob_len(s, i, sp->e);
		if (i < sp->e && s[i] == ':') {
			sp->b = i + 1;
			*reply = 1;
			return 1;
		}
	}
	return 0;
}

/* --- addresses ---------------------------------------------------------- */

/* Past a comment opened at s[i] (nested, with quoted pairs). */
static size_t
skip_comment(const char *s, size_t i, size_t len)
{
	unsigned depth = 0;

	for (; i < len; i++) {
		if (s[i] == '\\') {
			i++;
		} else if (s[i] == '(') {
			depth++;
		} else if (s[i] == ')' && --depth == 0) {
			return i + 1;
		}
	}
	return len;
}

/* The end of the address starting at s[i]: the next ',' ';' or ':'
 * outside quotes, comments and angle brackets (*sep: which, or 0 at
 * the end of the text). */
static size_t
addr_end(const char *s, size_t i, size_t len, int *sep)
{
	int angle = 0;

	while (i < len) {
		char c = s[i];

		if (c == '"') {
			for (i++; i < len && s[i] != '"'; i++) {
				i += s[i] == '\\';
			}
			i++;
			continue;
		}
		if (c == '(') {
			i = skip_comment(s, i, len);
			continue;
		}
		if (c == '<') {
			angle = 1;
		} else if (c == '>') {
			angle = 0;
		} else if (!angle && (c == ',' || c == ';' || c == ':')) {
			*sep = c;
			return i;
		}
		i++;
	}
	*sep = 0;
	return len;
}

/*
 * s[b..e) without comments and quotes (the quoted text kept, quoted
 * pairs unescaped), upper-cased; white space dropped, or with keep_ws
 * runs of it made one space, trimmed.
 */
static size_t
copy_text(const char *s, size_t b, size_t e, int keep_ws, char *out,
    size_t cap)
{
	size_t n = 0;
	int q = 0, sp = 0;

	for (size_t i = b; i < e && n < cap; i++) {
		int c = (unsigned char)s[i];

		if (!q && c == '(') {
			i = skip_comment(s, i, e) - 1;
			sp = 1;
			continue;
		}
		if (c == '"') {
			q = !q;
			continue;
		}
		if (q && c == '\\' && i + 1 < e) {
			c = (unsigned char)s[++i];
		} else if (is_ws(c)) {
			sp = 1;
			continue;
		}
		if (sp && keep_ws && n > 0) {
			if (n + 2 > cap) {
				break;	/* a cut text ends before a space */
			}
			out[n++] = ' ';
		}
		sp = 0;
		out[n++] = (char)upper(c);
	}
	return n;
}

/* The key of one address s[b..e): 0 when it holds no mailbox. */
static size_t
mailbox_key(const char *s, size_t b, size_t e, int display, char *out,
    size_t cap)
{
	char phrase[SORTKEY_PHRASE_MAX];
	size_t lt = b, ab, ae, at, n, pl;
	int q = 0;

	/* The angle address, if any, outside quotes and comments. */
	while (lt < e && s[lt] != '<') {
		if (s[lt] == '"') {
			q = !q;
		} else if (q && s[lt] == '\\') {
			lt++;
		} else if (!q && s[lt] == '(') {
			lt = skip_comment(s, lt, e) - 1;
		}
		lt++;
	}
	if (lt < e) {
		ab = lt + 1;
		for (ae = ab; ae < e && s[ae] != '>'; ae++) {
			if (s[ae] == ':') {
				ab = ae + 1;	/* an obsolete route */
			}
		}
	} else {
		ab = b;
		ae = e;
		lt = b;		/* no phrase */
	}
	/* The local part ends at the last '@' outside quotes. */
	at = ae;
	q = 0;
	for (size_t i = ab; i < ae; i++) {
		if (s[i] == '"') {
			q = !q;
		} else if (q && s[i] == '\\') {
			i++;
		} else if (!q && s[i] == '@') {
			at = i;
		}
	}
	n = copy_text(s, ab, at, 0, out, cap);
	if (n == 0) {
		return 0;	/* no mailbox: an empty group, "<>" */
	}
	if (!display) {
		return n;
	}
	pl = copy_text(s, b, lt, 1, phrase, sizeof phrase);
	if (pl > 0) {
		/* Encoded words, then the case of what they gave. */
		char dec[SORTKEY_PHRASE_MAX];
		size_t dl = decode_header(phrase, pl, dec, sizeof dec);

		n = 0;
		for (size_t i = 0; i < dl;) {
			char m[3];
			size_t k = casemap(dec, dl, &i, m);

			if (n + k > cap) {
				break;
			}
			memcpy(out + n, m, k);
			n += k;
		}
		if (n > 0) {
			return n;
		}
		n = copy_text(s, ab, at, 0, out, cap);
	}
	if (at < ae && n < cap) {
		out[n++] = '@';
		n += copy_text(s, at + 1, ae, 0, out + n, cap - n);
	}
	return n;
}
