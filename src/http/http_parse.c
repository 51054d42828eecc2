/* SPDX-License-Identifier: ISC */
/*
 * http_parse.c - the strict HTTP/1.1 request head parser (RFC 9112
 * 2.2 message parsing, 3 request line, 5 field syntax, 6.3 message
 * body length; RFC 9110 5.6.2 tokens, 7.2 Host) and query-string
 * decoding (RFC 3986 2.1). Sans-I/O.
 *
 * Strict where RFC 9112 lets a server choose, since smuggling and
 * confusion come from leniency: lines end in CRLF only (no bare LF or
 * CR, 2.2); no obs-fold (5.2); no whitespace between a field name and
 * its colon (5.1); Transfer-Encoding is refused (we take no chunked
 * body), as are two Content-Lengths or two Hosts (RFC 9110 7.2).
 */
#include <string.h>

#include "http/http_parse.h"

static int	is_tchar(unsigned char);
static int	name_is(const char *, size_t, const char *);
static int	request_line(const char *, size_t, struct http_req *);
static int	header(const char *, size_t, struct http_req *,
		    unsigned *seen);
static int	hexval(unsigned char);

#define SEEN_HOST	0x1u
#define SEEN_CL		0x2u
#define SEEN_KEEP	0x4u

int
http_parse(const char *buf, size_t len, struct http_req *r)
{
	size_t pos = 0, nfields = 0;
	unsigned seen = 0;
	int first = 1, rc;

	memset(r, 0, sizeof *r);
	r->content_length = -1;
	for (;;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll, cap = HTTP_LINE_MAX;

		if (nl == NULL) {
			/* A method that cannot be one is refused before
			 * its line ends (a TLS hello on the plain port). */
			for (size_t i = pos; first && i < len &&
			    buf[i] != ' '; i++) {
				if (!is_tchar((unsigned char)buf[i])) {
					return 400;
				}
			}
			/* Whatever is there without an end already counts
			 * against the bounds. */
			if (len - pos >= cap) {
				return first ? 414 : 431;
			}
			if (len >= HTTP_HEAD_MAX) {
				return 431;
			}
			return 1;
		}
		ll = (size_t)(nl - (buf + pos)) + 1;
		if (ll > cap) {
			return first ? 414 : 431;
		}
		if (pos + ll > HTTP_HEAD_MAX) {
			return 431;
		}
		if (ll < 2 || buf[pos + ll - 2] != '\r') {
			return 400;	/* bare LF */
		}
		ll -= 2;
		if (first) {
			if ((rc = request_line(buf + pos, ll, r)) != 0) {
				return rc;
			}
			first = 0;
		} else if (ll == 0) {
			pos += 2;
			break;
		} else {
			if (++nfields > HTTP_HEADERS_MAX) {
				return 431;
			}
			if ((rc = header(buf + pos, ll, r, &seen)) != 0) {
				return rc;
			}
		}
		pos += ll + 2;
	}
	/* RFC 9112 3.2: a 1.1 request without Host is a 400. */
	if (r->minor == 1 && !(seen & SEEN_HOST)) {
		return 400;
	}
	if (r->minor == 0 && !(seen & SEEN_KEEP)) {
		r->close = 1;
	}
	r->head_len = pos;
	return 0;
}

long
http_query(const char *q, size_t qlen, const char *name, char *out,
    size_t cap)
{
	size_t nl = strlen(name), i = 0;

	while (i < qlen) {
		const char *amp = memchr(q + i, '&', qlen - i);
		size_t end = amp != NULL ? (size_t)(amp - q) : qlen;
		size_t o = 0;

		if (end - i > nl && q[i + nl] == '=' &&
		    memcmp(q + i, name, nl) == 0) {
			for (size_t k = i + nl + 1; k < end; k++) {
				int ch = (unsigned char)q[k];

				if (ch == '%') {
					int h, l;

					if (end - k < 3 ||
					    (h = hexval((unsigned char)
					    q[k + 1])) < 0 ||
					    (l = hexval((unsigned char)
					    q[k + 2])) < 0) {
						return -2;
					}
					ch = h * 16 + l;
					k += 2;
				} else if (ch == '+') {
					ch = ' ';
				}
				if (ch < 0x20 || ch == 0x7f || o + 1 >= cap) {
					return -2;
				}
				out[o++] = (char)ch;
			}
			out[o] = '\0';
			return (long)o;
		}
		i = end + 1;
	}
	return -1;
}

/* method SP request-target SP HTTP-version (RFC 9112 3); the target
 * in origin-form only (3.2.1): a path starting with '/'. */
static int
request_line(const char *p, size_t len, struct http_req *r)
{
	const char *sp1 = memchr(p, ' ', len), *sp2, *t, *qm;
	size_t ml, tl, vl;

	if (sp1 == NULL || sp1 == p) {
		return 400;
	}
	ml = (size_t)(sp1 - p);
	for (size_t i = 0; i < ml; i++) {
		if (!is_tchar((unsigned char)p[i])) {
			return 400;
		}
	}
	t = sp1 + 1;
	sp2 = memchr(t, ' ', len - ml - 1);
	if (sp2 == NULL || sp2 == t) {
		return 400;
	}
	tl = (size_t)(sp2 - t);
	vl = len - ml - 1 - tl - 1;
	if (t[0] != '/') {
		return 400;
	}
	/* Visible ASCII only (RFC 3986 2: no spaces, controls, 8-bit). */
	for (size_t i = 0; i < tl; i++) {
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f
		    || t[i] == '#') {
			return 400;
		}
	}
	if (vl != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		if (vl == 8 && memcmp(sp2 + 1, "HTTP/", 5) == 0 &&
		    sp2[6] >= '0' && sp2[6] <= '9' && sp2[7] == '.' &&
		    sp2[8] >= '0' && sp2[8] <= '9') {
			return 505;
		}
		return 400;
	}
	if (sp2[8] == '0' || sp2[8] == '1') {
		r->minor = sp2[8] - '0';
	} else if (sp2[8] >= '2' && sp2[8] <= '9') {
		return 505;
	} else {
		return 400;
	}
	if (ml == 3 && memcmp(p, "GET", 3) == 0) {
		r->method = HTTP_M_GET;
	} else if (ml == 4 && memcmp(p, "HEAD", 4) == 0) {
		r->method = HTTP_M_HEAD;
	} else if (ml == 4 && memcmp(p, "POST", 4) == 0) {
		r->method = HTTP_M_POST;
	} else {
		r->method = HTTP_M_OTHER;
	}
	r->path = t;
	qm = memchr(t, '?', tl);
	r->path_len = qm != NULL ? (size_t)(qm - t) : tl;
	if (qm != NULL) {
		r->query = qm + 1;
		r->query_len = tl - r->path_len - 1;
	}
	return 0;
}

/* field-name ":" OWS field-value OWS (RFC 9112 5). */
static int
header(const char *p, size_t len, struct http_req *r, unsigned *seen)
{
	const char *colon = memchr(p, ':', len), *v;
	size_t nl, vl;

	if (colon == NULL || colon == p) {
		return 400;	/* also obs-fold: a line starting with SP */
	}
	nl = (size_t)(colon - p);
	for (size_t i = 0; i < nl; i++) {
		if (!is_tchar((unsigned char)p[i])) {
			return 400;
		}
	}
	v = colon + 1;
	vl = len - nl - 1;
	while (vl > 0 && (v[0] == ' ' || v[0] == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) {
		vl--;
	}
	for (size_t i = 0; i < vl; i++) {
		unsigned char ch = (unsigned char)v[i];

		/* RFC 9110 5.5: CR, LF and NUL are never valid. */
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			return 400;
		}
	}
	if (name_is(p, nl, "host")) {
		const char *c;

		if (*seen & SEEN_HOST) {
			return 400;
		}
		*seen |= SEEN_HOST;
		for (size_t i = 0; i < vl; i++) {
			unsigned char ch = (unsigned char)v[i];

			if (!((ch >= 'a' && ch <= 'z') ||
			    (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '-' ||
			    ch == '.' || ch == ':' || ch == '[' ||
			    ch == ']')) {
				return 400;
			}
		}
		r->host = v;
		r->host_len = vl;
		/* host[:port]; a bracketed IPv6 literal keeps its own. */
		if (vl > 0 && v[0] != '[' &&
		    (c = memchr(v, ':', vl)) != NULL) {
			r->host_len = (size_t)(c - v);
		}
	} else if (name_is(p, nl, "content-length")) {
		long n = 0;

		if ((*seen & SEEN_CL) || vl == 0 || vl > 9) {
			return 400;
		}
		*seen |= SEEN_CL;
		for (size_t i = 0; i < vl; i++) {
			if (v[i] < '0' || v[i] > '9') {
				return 400;
			}
			n = n * 10 + (v[i] - '0');
		}
		r->content_length = n;
	} else if (name_is(p, nl, "transfer-encoding")) {
		return 400;
	} else if (name_is(p, nl, "authorization")) {
		r->authz = v;
		r->authz_len = vl;
	} else if (name_is(p, nl, "connection")) {
		if (name_is(v, vl, "close")) {
			r->close = 1;
		} else if (name_is(v, vl, "keep-alive")) {
			*seen |= SEEN_KEEP;
		}
	}
	return 0;
}

/* RFC 9110 5.6.2 tchar. */
static int
is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || (ch != 0 &&
	    strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Case-insensitive p[0..len) == lower-case name. */
static int
name_is(const char *p, size_t len, const char *name)
{
	size_t i;

	for (i = 0; i < len && name[i] != '\0'; i++) {
		char ch = p[i];

		if (ch >= 'A' && ch <= 'Z') {
			ch = (char)(ch - 'A' + 'a');
		}
		if (ch != name[i]) {
			return 0;
		}
	}
	return i == len && name[i] == '\0';
}

static int
hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9') {
		return ch - '0';
	}
	if (ch >= 'a' && ch <= 'f') {
		return ch - 'a' + 10;
	}
	if (ch >= 'A' && ch <= 'F') {
		return ch - 'A' + 10;
	}
	return -1;
}
