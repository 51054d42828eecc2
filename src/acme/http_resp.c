/* SPDX-License-Identifier: ISC */
/*
 * http_resp.c - the HTTP/1.1 response reader (see http_resp.h): RFC
 * 9112 section 4 (status line), 5 (fields; obsolete line folding is
 * refused, 5.2), 6.3 (message body length) and 7.1 (chunked).
 */
#include <string.h>

#include "acme/http_resp.h"

static void	line_done(struct http_resp *);
static void	status_line(struct http_resp *, const char *, size_t);
static void	header_line(struct http_resp *, const char *, size_t);
static void	headers_end(struct http_resp *);
static void	chunk_size(struct http_resp *, const char *, size_t);
static int	num(const char *, size_t, int, uint64_t *);
static int	name_is(const char *, size_t, const char *);
static void	copy_value(char *, size_t, const char *, size_t,
		    struct http_resp *);
static void	fail(struct http_resp *, enum http_r_err);

void
http_resp_init(struct http_resp *r, char *body, size_t cap)
{
	memset(r, 0, sizeof *r);
	r->body = body;
	r->body_cap = cap;
}

size_t
http_resp_feed(struct http_resp *r, const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && r->state != HTTP_R_DONE &&
	    r->state != HTTP_R_ERROR) {
		size_t n;

		switch (r->state) {
		case HTTP_R_BODY:
		case HTTP_R_BODY_EOF:
		case HTTP_R_CHUNK_DATA:
			n = len - i;
			if (r->state != HTTP_R_BODY_EOF && n > r->left) {
				n = (size_t)r->left;
			}
			if (n > r->body_cap - r->body_len) {
				fail(r, HTTP_R_ERR_BODY);
				break;
			}
			memcpy(r->body + r->body_len, p + i, n);
			r->body_len += n;
			i += n;
			if (r->state == HTTP_R_BODY_EOF) {
				break;
			}
			r->left -= n;
			if (r->left == 0) {
				r->state = r->state == HTTP_R_BODY ?
				    HTTP_R_DONE : HTTP_R_CHUNK_END;
			}
			break;
		default:
			/* A line: up to LF, CR dropped at line_done. */
			if (p[i] == '\n') {
				i++;
				line_done(r);
				break;
			}
			if (r->line_len == sizeof r->line) {
				fail(r, HTTP_R_ERR_LINE);
				break;
			}
			r->line[r->line_len++] = p[i++];
			break;
		}
	}
	return i;
}

void
http_resp_eof(struct http_resp *r)
{
	if (r->state == HTTP_R_BODY_EOF) {
		r->state = HTTP_R_DONE;
	} else if (r->state != HTTP_R_DONE) {
		fail(r, HTTP_R_ERR_EOF);
	}
}

const char *
http_resp_strerror(enum http_r_err e)
{
	switch (e) {
	case HTTP_R_OK: return "no error";
	case HTTP_R_ERR_SYNTAX: return "malformed HTTP response";
	case HTTP_R_ERR_LINE: return "HTTP header line too long";
	case HTTP_R_ERR_BODY: return "HTTP response body too large";
	case HTTP_R_ERR_EOF: return "connection closed mid-response";
	case HTTP_R_ERR_FRAMING: return "bad HTTP message framing";
	}
	return "?";
}

static void
line_done(struct http_resp *r)
{
	size_t n = r->line_len;

	r->line_len = 0;
	if (n > 0 && r->line[n - 1] == '\r') {
		n--;
	}
	if (memchr(r->line, '\0', n) != NULL ||
	    memchr(r->line, '\r', n) != NULL) {
		fail(r, HTTP_R_ERR_SYNTAX);
		return;
	}
	switch (r->state) {
	case HTTP_R_STATUS:
		status_line(r, r->line, n);
		break;
	case HTTP_R_HEADER:
		if (n == 0) {
			headers_end(r);
		} else {
			header_line(r, r->line, n);
		}
		break;
	case HTTP_R_CHUNK_SIZE:
		chunk_size(r, r->line, n);
		break;
	case HTTP_R_CHUNK_END:
		if (n != 0) {
			fail(r, HTTP_R_ERR_SYNTAX);
		} else {
			r->state = HTTP_R_CHUNK_SIZE;
		}
		break;
	case HTTP_R_TRAILER:
		if (n == 0) {
			r->state = HTTP_R_DONE;
		}
		break;
	default:
		break;
	}
}

/* HTTP/1.x SP 3DIGIT SP [reason] (RFC 9112 4). */
static void
status_line(struct http_resp *r, const char *l, size_t n)
{
	uint64_t v;

	if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[7] < '0' ||
	    l[7] > '9' || l[8] != ' ' || num(l + 9, 3, 10, &v) == -1 ||
	    v < 100 || (n > 12 && l[12] != ' ')) {
		fail(r, HTTP_R_ERR_SYNTAX);
		return;
	}
	r->status = (unsigned)v;
	r->state = HTTP_R_HEADER;
}

static void
header_line(struct http_resp *r, const char *l, size_t n)
{
	const char *colon = memchr(l, ':', n), *v;
	size_t nl, vl;
	uint64_t u;

	if (l[0] == ' ' || l[0] == '\t' || colon == NULL || colon == l ||
	    colon[-1] == ' ' || colon[-1] == '\t') {
		fail(r, HTTP_R_ERR_SYNTAX);	/* folding, no name */
		return;
	}
	nl = (size_t)(colon - l);
	v = colon + 1;
	vl = n - nl - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) {
		vl--;
	}
	if (name_is(l, nl, "location")) {
		copy_value(r->location, sizeof r->location, v, vl, r);
	} else if (name_is(l, nl, "replay-nonce")) {
		copy_value(r->nonce, sizeof r->nonce, v, vl, r);
	} else if (name_is(l, nl, "retry-after")) {
		/* An HTTP-date is left as 0: the caller's own delay. */
		if (num(v, vl, 10, &u) == 0) {
			r->retry_after = u > 86400 ? 86400 : (uint32_t)u;
		}
	} else if (name_is(l, nl, "content-length")) {
		if (num(v, vl, 10, &u) == -1 || (r->has_len &&
		    u != r->left)) {
			fail(r, HTTP_R_ERR_FRAMING);
			return;
		}
		r->has_len = 1;
		r->left = u;
	} else if (name_is(l, nl, "transfer-encoding")) {
		if (!name_is(v, vl, "chunked") || r->chunked) {
			fail(r, HTTP_R_ERR_FRAMING);	/* only chunked */
			return;
		}
		r->chunked = 1;
	}
}

static void
headers_end(struct http_resp *r)
{
	if (r->status < 200) {			/* interim: the next one */
		if (r->has_len || r->chunked) {
			fail(r, HTTP_R_ERR_FRAMING);
			return;
		}
		r->status = 0;
		r->location[0] = r->nonce[0] = '\0';
		r->retry_after = 0;
		r->state = HTTP_R_STATUS;
		return;
	}
	if (r->chunked && r->has_len) {
		fail(r, HTTP_R_ERR_FRAMING);	/* RFC 9112 6.3: smuggling */
		return;
	}
	if (r->status == 204 || r->status == 304) {
		r->state = HTTP_R_DONE;
	} else if (r->chunked) {
		r->state = HTTP_R_CHUNK_SIZE;
	} else if (r->has_len && r->left > r->body_cap) {
		fail(r, HTTP_R_ERR_BODY);
	} else if (r->has_len) {
		r->state = r->left == 0 ? HTTP_R_DONE : HTTP_R_BODY;
	} else {
		r->state = HTTP_R_BODY_EOF;
	}
}

/* chunk-size [ chunk-ext ] (RFC 9112 7.1.1). */
static void
chunk_size(struct http_resp *r, const char *l, size_t n)
{
	size_t d = 0;

	while (d < n && l[d] != ';' && l[d] != ' ' && l[d] != '\t') {
		d++;
	}
	if (num(l, d, 16, &r->left) == -1) {
		fail(r, HTTP_R_ERR_SYNTAX);
		return;
	}
	if (r->left > r->body_cap - r->body_len) {
		fail(r, HTTP_R_ERR_BODY);	/* said at once */
		return;
	}
	r->state = r->left == 0 ? HTTP_R_TRAILER : HTTP_R_CHUNK_DATA;
}

/* 1 to 16 digits in base 10 or 16, no sign: 0, else -1. */
static int
num(const char *s, size_t n, int base, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 15) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (s[i] >= '0' && s[i] <= '9') {
			d = (unsigned)(s[i] - '0');
		} else if (base == 16 && s[i] >= 'a' && s[i] <= 'f') {
			d = (unsigned)(s[i] - 'a' + 10);
		} else if (base == 16 && s[i] >= 'A' && s[i] <= 'F') {
			d = (unsigned)(s[i] - 'A' + 10);
		} else {
			return -1;
		}
		v = v * (unsigned)base + d;
	}
	*out = v;
	return 0;
}

/* Case-insensitive compare of s[0..n) with the lower-case lit. */
static int
name_is(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n && lit[i] != '\0'; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		if (c != lit[i]) {
			return 0;
		}
	}
	return i == n && lit[i] == '\0';
}

static void
copy_value(char *dst, size_t cap, const char *v, size_t vl,
    struct http_resp *r)
{
	if (vl >= cap) {
		fail(r, HTTP_R_ERR_LINE);
		return;
	}
	memcpy(dst, v, vl);
	dst[vl] = '\0';
}

static void
fail(struct http_resp *r, enum http_r_err e)
{
	if (r->err == HTTP_R_OK) {
		r->err = e;
	}
	r->state = HTTP_R_ERROR;
}
