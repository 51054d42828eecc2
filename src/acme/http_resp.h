/* SPDX-License-Identifier: ISC */
/*
 * http_resp.h - an HTTP/1.1 response reader (RFC 9112), sans-I/O, for
 * the ACME client: the status line, the headers ACME reads (Location,
 * Replay-Nonce, Retry-After in seconds, Content-Length,
 * Transfer-Encoding: chunked), and a body bounded by the caller's
 * buffer. Interim 1xx responses are skipped.
 *
 *   struct http_resp r;
 *   http_resp_init(&r, body, sizeof body);
 *   on input:  used = http_resp_feed(&r, p, n);  (all of it unless
 *              r.state is HTTP_R_DONE or HTTP_R_ERROR)
 *   on EOF:    http_resp_eof(&r);   (ends a body read to the close)
 *   r.state == HTTP_R_DONE: r.status, r.location, r.nonce, r.body
 *
 * Errors are sticky (r.err); HTTP_R_DONE comes once the whole message
 * is in, never before.
 */
#ifndef WREN_HTTP_RESP_H
#define WREN_HTTP_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

enum http_r_state {
	HTTP_R_STATUS,		/* the status line */
	HTTP_R_HEADER,		/* header lines */
	HTTP_R_BODY,		/* Content-Length octets */
	HTTP_R_BODY_EOF,	/* octets until the connection closes */
	HTTP_R_CHUNK_SIZE,	/* chunk-size [; ext] CRLF */
	HTTP_R_CHUNK_DATA,
	HTTP_R_CHUNK_END,	/* the CRLF after a chunk's data */
	HTTP_R_TRAILER,		/* trailer lines up to the empty one */
	HTTP_R_DONE,
	HTTP_R_ERROR
};

enum http_r_err {
	HTTP_R_OK,
	HTTP_R_ERR_SYNTAX,	/* malformed status, header or chunk line */
	HTTP_R_ERR_LINE,	/* a line over HTTP_RESP_HEADER_MAX */
	HTTP_R_ERR_BODY,	/* the body does not fit */
	HTTP_R_ERR_EOF,		/* the connection closed too early */
	HTTP_R_ERR_FRAMING	/* bad or conflicting Content-Length or
				 * Transfer-Encoding (RFC 9112 6.3) */
};

struct http_resp {
	enum http_r_state state;
	enum http_r_err	 err;
	unsigned	 status;
	char		 location[HTTP_LOCATION_MAX];	/* "" if none */
	char		 nonce[HTTP_NONCE_MAX];		/* "" if none */
	uint32_t	 retry_after;	/* seconds; 0: none or a date */
	char		*body;		/* the caller's; not NUL-ended */
	size_t		 body_cap, body_len;
	uint64_t	 left;		/* of the body or the chunk */
	int		 has_len, chunked;
	size_t		 line_len;
	char		 line[HTTP_RESP_HEADER_MAX];
};

void	http_resp_init(struct http_resp *, char *body, size_t cap);
size_t	http_resp_feed(struct http_resp *, const char *p, size_t len);
void	http_resp_eof(struct http_resp *);

/* A short English text for r->err. */
const char	*http_resp_strerror(enum http_r_err);

#endif
