/* SPDX-License-Identifier: ISC */
/*
 * http_parse.h - an HTTP/1.1 request head parser (RFC 9112 2-3, 5;
 * RFC 9110 7.2, 8.6), sans-I/O, strict: the small listener of http/
 * answers GET and HEAD (and one small POST), so anything unusual is
 * refused rather than interpreted.
 *
 * The caller hands the bytes received so far; http_parse says whether
 * a whole head is there (and where it ends), more is needed, or which
 * status to answer. Results point into the caller's bytes.
 */
#ifndef WREN_HTTP_PARSE_H
#define WREN_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

enum http_method {
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_OTHER		/* a valid token we do not serve: 405 */
};

struct http_req {
	enum http_method	 method;
	int			 minor;		/* HTTP/1.0 or 1.1 */
	const char		*path;		/* target up to '?' */
	size_t			 path_len;
	const char		*query;		/* after '?', or NULL */
	size_t			 query_len;
	const char		*host;		/* port cut off; NULL: none */
	size_t			 host_len;
	const char		*authz;		/* Authorization value */
	size_t			 authz_len;
	long			 content_length;	/* -1: none */
	int			 close;		/* Connection: close, or
						 * 1.0 without keep-alive */
	size_t			 head_len;	/* through CRLF CRLF */
};

/*
 * Parses the head at buf[0..len). Returns 0 with *r filled when a
 * whole head is there; 1 when more bytes are needed (none of the limits
 * is passed yet); else the status to answer and close with: 400 (bad
 * syntax, bare LF, obs-fold, no or two Host in 1.1, Transfer-Encoding,
 * bad or two Content-Length), 414 (request line over HTTP_LINE_MAX),
 * 431 (a header line over HTTP_LINE_MAX, over HTTP_HEADERS_MAX fields
 * or a head over HTTP_HEAD_MAX), 505 (not HTTP/1.0 or 1.1).
 */
int	http_parse(const char *buf, size_t len, struct http_req *r);

/*
 * The value of the query parameter name in q[0..qlen) ("a=1&b=2"),
 * percent-decoded (RFC 3986 2.1, '+' as a space) into out with a NUL:
 * its length; -1 when absent; -2 when badly encoded, holding a NUL or
 * a control character, or longer than cap - 1.
 */
long	http_query(const char *q, size_t qlen, const char *name, char *out,
	    size_t cap);

#endif
