/* SPDX-License-Identifier: ISC */
/*
 * test_http_resp.c - the HTTP/1.1 response reader (acme/http_resp.h):
 * ACME answers as Pebble and Let's Encrypt send them (Content-Length,
 * chunked, read to the close, 1xx first) and hostile ones (bad status
 * lines, folding, smuggling framings, huge chunks, long lines, bodies
 * over the buffer, early EOF).
 *
 * Every row runs twice: in one feed, and one octet at a time, from an
 * exact-size heap copy; both must end the same way.
 */
#include "testutil.h"

#include "acme/http_resp.h"

struct resp_case {
	const char	*desc;
	struct text	 in;
	int		 eof;		/* call http_resp_eof after */
	enum http_r_err	 err;		/* HTTP_R_OK: must be DONE */
	unsigned	 status;
	const char	*body;
	const char	*location, *nonce;
	uint32_t	 retry;
};

#define OK(d, in, eof, st, body, loc, nonce, ra) \
	{ (d), in, (eof), HTTP_R_OK, (st), (body), (loc), (nonce), (ra) }
#define BAD(d, in, eof, e) \
	{ (d), in, (eof), (e), 0, NULL, NULL, NULL, 0 }

static const struct resp_case cases[] = {
	OK("201 with Location, nonce and a JSON body",
	    T("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
	    "Location: https://a/acct/1\r\nReplay-Nonce: abc_-1\r\n"
	    "Content-Length: 2\r\n\r\n{}"), 0, 201, "{}", "https://a/acct/1",
	    "abc_-1", 0),
	OK("header names in any case, spaces around values",
	    T("HTTP/1.1 200 OK\r\nrEpLaY-nOnCe:   n1  \r\nCONTENT-LENGTH:1"
	    "\r\n\r\nx"), 0, 200, "x", "", "n1", 0),
	OK("bare LF line ends", T("HTTP/1.1 200 OK\nContent-Length: 3\n\nabc"),
	    0, 200, "abc", "", "", 0),
	OK("chunked with an extension and a trailer",
	    T("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n"), 0, 200,
	    "abc0123456789", "", "", 0),
	OK("body read to the close", T("HTTP/1.0 200 OK\r\n\r\nall of it"), 1,
	    200, "all of it", "", "", 0),
	OK("204: no body", T("HTTP/1.1 204 No Content\r\nReplay-Nonce: z\r\n"
	    "\r\n"), 0, 204, "", "", "z", 0),
	OK("a 100 Continue first", T("HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nq"), 0, 200, "q", "",
	    "", 0),
	OK("Retry-After in seconds", T("HTTP/1.1 200 OK\r\nRetry-After: 7\r\n"
	    "Content-Length: 0\r\n\r\n"), 0, 200, "", "", "", 7),
	OK("Retry-After as a date: left to the caller",
	    T("HTTP/1.1 503 x\r\nRetry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n"
	    "Content-Length: 0\r\n\r\n"), 0, 503, "", "", "", 0),
	OK("a huge Retry-After is clamped to a day",
	    T("HTTP/1.1 200 OK\r\nRetry-After: 99999999\r\nContent-Length: 0"
	    "\r\n\r\n"), 0, 200, "", "", "", 86400),
	OK("status line without a reason", T("HTTP/1.1 404\r\n"
	    "Content-Length: 0\r\n\r\n"), 0, 404, "", "", "", 0),
	OK("two equal Content-Length", T("HTTP/1.1 200 OK\r\nContent-Length: 1"
	    "\r\nContent-Length: 1\r\n\r\nz"), 0, 200, "z", "", "", 0),
	/* hostile */
	BAD("empty, then EOF", T(""), 1, HTTP_R_ERR_EOF),
	BAD("not HTTP", T("SSH-2.0-OpenSSH\r\n"), 0, HTTP_R_ERR_SYNTAX),
	BAD("HTTP/2 status line", T("HTTP/2 200 OK\r\n\r\n"), 0,
	    HTTP_R_ERR_SYNTAX),
	BAD("two-digit status", T("HTTP/1.1 20 OK\r\n\r\n"), 0,
	    HTTP_R_ERR_SYNTAX),
	BAD("status 099", T("HTTP/1.1 099 x\r\n\r\n"), 0, HTTP_R_ERR_SYNTAX),
	BAD("status with letters", T("HTTP/1.1 2x0 OK\r\n\r\n"), 0,
	    HTTP_R_ERR_SYNTAX),
	BAD("no space after the status", T("HTTP/1.1 200OK\r\n\r\n"), 0,
	    HTTP_R_ERR_SYNTAX),
	BAD("obsolete line folding", T("HTTP/1.1 200 OK\r\nLocation: a\r\n"
	    " b\r\n\r\n"), 0, HTTP_R_ERR_SYNTAX),
	BAD("header without a colon", T("HTTP/1.1 200 OK\r\nnocolon\r\n\r\n"),
	    0, HTTP_R_ERR_SYNTAX),
	BAD("space before the colon", T("HTTP/1.1 200 OK\r\nLocation : a\r\n"
	    "\r\n"), 0, HTTP_R_ERR_SYNTAX),
	BAD("empty header name", T("HTTP/1.1 200 OK\r\n: a\r\n\r\n"), 0,
	    HTTP_R_ERR_SYNTAX),
	BAD("NUL in a header", TN("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n"), 0,
	    HTTP_R_ERR_SYNTAX),
	BAD("bare CR inside a line", T("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n"),
	    0, HTTP_R_ERR_SYNTAX),
	BAD("Content-Length and chunked (smuggling)",
	    T("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n0\r\n\r\n"), 0, HTTP_R_ERR_FRAMING),
	BAD("two different Content-Length", T("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab"), 0,
	    HTTP_R_ERR_FRAMING),
	BAD("negative Content-Length", T("HTTP/1.1 200 OK\r\n"
	    "Content-Length: -1\r\n\r\n"), 0, HTTP_R_ERR_FRAMING),
	BAD("Content-Length with 16 digits", T("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 1000000000000000\r\n\r\n"), 0,
	    HTTP_R_ERR_FRAMING),
	BAD("gzip transfer coding", T("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "gzip, chunked\r\n\r\n"), 0, HTTP_R_ERR_FRAMING),
	BAD("chunked twice", T("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
	    "\r\nTransfer-Encoding: chunked\r\n\r\n"), 0, HTTP_R_ERR_FRAMING),
	BAD("a 1xx with a body length", T("HTTP/1.1 100 x\r\nContent-Length: 1"
	    "\r\n\r\n"), 0, HTTP_R_ERR_FRAMING),
	BAD("chunk size not hex", T("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\nzz\r\n"), 0, HTTP_R_ERR_SYNTAX),
	BAD("chunk size overflowing 64 bits", T("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n"), 0,
	    HTTP_R_ERR_SYNTAX),
	BAD("a chunk larger than the body buffer", T("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n100000\r\nabc"), 0,
	    HTTP_R_ERR_BODY),
	BAD("chunk data not followed by CRLF", T("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n1\r\nab\r\n"), 0,
	    HTTP_R_ERR_SYNTAX),
	BAD("Content-Length over the body buffer", TF("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 20000\r\n\r\n", "x", 20000, NULL), 0,
	    HTTP_R_ERR_BODY),
	BAD("a body to the close over the buffer", TF("HTTP/1.1 200 OK\r\n\r\n",
	    "x", 17000, NULL), 1, HTTP_R_ERR_BODY),
	BAD("body cut by EOF", T("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
	    "ab"), 1, HTTP_R_ERR_EOF),
	BAD("EOF inside the headers", T("HTTP/1.1 200 OK\r\nLocation: a"), 1,
	    HTTP_R_ERR_EOF),
	BAD("a header line over the limit", TF("HTTP/1.1 200 OK\r\nX: ", "a",
	    5000, "\r\n\r\n"), 0, HTTP_R_ERR_LINE),
	BAD("a status line over the limit", TF("HTTP/1.1 200 ", "a", 5000,
	    "\r\n"), 0, HTTP_R_ERR_LINE),
	BAD("a Location over HTTP_LOCATION_MAX", TF("HTTP/1.1 200 OK\r\n"
	    "Location: ", "a", 600, "\r\n\r\n"), 0, HTTP_R_ERR_LINE),
	BAD("a nonce over HTTP_NONCE_MAX", TF("HTTP/1.1 200 OK\r\n"
	    "Replay-Nonce: ", "a", 200, "\r\n\r\n"), 0, HTTP_R_ERR_LINE),
	BAD("endless 100 Continue, then EOF", TF(NULL,
	    "HTTP/1.1 100 Continue\r\n\r\n", 300, NULL), 1, HTTP_R_ERR_EOF),
};

static void
run(const struct resp_case *c, const char *in, size_t len, int bytewise)
{
	static char body[HTTP_RESP_BODY_MAX];
	static struct http_resp r;
	const char *how = bytewise ? "octet by octet" : "one feed";
	size_t used = 0;

	http_resp_init(&r, body, sizeof body);
	if (bytewise) {
		for (size_t i = 0; i < len && r.state != HTTP_R_DONE &&
		    r.state != HTTP_R_ERROR; i++) {
			used += http_resp_feed(&r, in + i, 1);
		}
	} else {
		used = http_resp_feed(&r, in, len);
	}
	if (used > len) {
		fail_msg("%s (%s): consumed %zu of %zu", c->desc, how, used,
		    len);
	}
	if (c->eof) {
		http_resp_eof(&r);
	}
	if (r.err != c->err || (c->err == HTTP_R_OK) !=
	    (r.state == HTTP_R_DONE)) {
		fail_msg("%s (%s): err %d state %d, want err %d", c->desc, how,
		    r.err, r.state, c->err);
	}
	if (c->err != HTTP_R_OK) {
		return;
	}
	assert_int_equal(r.status, c->status);
	expect_bytes(c->desc, how, r.body, r.body_len, c->body,
	    strlen(c->body));
	assert_string_equal(r.location, c->location);
	assert_string_equal(r.nonce, c->nonce);
	assert_int_equal(r.retry_after, c->retry);
}

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len;
		char *in = build(&cases[i].in, &len);

		run(&cases[i], in, len, 0);
		run(&cases[i], in, len, 1);
		free(in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
