/* SPDX-License-Identifier: ISC */
/*
 * test_http_parse.c - the strict HTTP/1.1 request head parser and the
 * query decoder (http/http_parse.h) of the autoconfiguration listener.
 *
 * Each row is one input with a one-line description and the result:
 * 0 (a whole head, with the method, path, query, host and head length
 * checked), 1 (more needed) or the status to refuse with. Every input
 * is an exact-size heap copy, so ASan sees a read past its end; a
 * whole head is also fed cut short at every length, which must ask
 * for more (or refuse as the whole does). Half the rows are hostile.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/http_parse.h"
#include "testutil.h"

struct parse_case {
	const char	*desc;
	struct text	 in;
	int		 want;
	int		 method;
	const char	*path;
	const char	*query;		/* NULL: none */
	const char	*host;		/* NULL: none */
	long		 clen;
	int		 close;
};

#define OK(d, s, m, p, q, h, cl, c)	{ (d), T(s), 0, (m), (p), (q), \
					    (h), (cl), (c) }
#define NO(d, s, st)		{ (d), T(s), (st), 0, NULL, NULL, NULL, 0, 0 }
#define NON(d, s, st)		{ (d), TN(s), (st), 0, NULL, NULL, NULL, 0, 0 }
#define NOF(d, in, st)		{ (d), in, (st), 0, NULL, NULL, NULL, 0, 0 }

#define H11	" HTTP/1.1\r\nHost: a.example\r\n\r\n"

static const struct parse_case cases[] = {
	OK("plain GET", "GET /x" H11, HTTP_M_GET, "/x", NULL, "a.example",
	    -1, 0),
	OK("HEAD with a query", "HEAD /a?emailaddress=b%40c" H11,
	    HTTP_M_HEAD, "/a", "emailaddress=b%40c", "a.example", -1, 0),
	OK("POST with a length", "POST /autodiscover/autodiscover.xml "
	    "HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n",
	    HTTP_M_POST, "/autodiscover/autodiscover.xml", NULL, "h", 12, 0),
	OK("unknown method is a token: 405 later",
	    "DELETE /" H11, HTTP_M_OTHER, "/", NULL, "a.example", -1, 0),
	OK("Host with a port, case-insensitive name",
	    "GET / HTTP/1.1\r\nhOsT: Mta-Sts.example:8443\r\n\r\n",
	    HTTP_M_GET, "/", NULL, "Mta-Sts.example", -1, 0),
	OK("1.0 without Host closes", "GET / HTTP/1.0\r\n\r\n",
	    HTTP_M_GET, "/", NULL, NULL, -1, 1),
	OK("1.1 Connection: close", "GET / HTTP/1.1\r\nHost: h\r\n"
	    "Connection: close\r\n\r\n", HTTP_M_GET, "/", NULL, "h", -1, 1),
	OK("OWS around a value", "GET / HTTP/1.1\r\nHost: \t h \t\r\n"
	    "X-A:\r\n\r\n", HTTP_M_GET, "/", NULL, "h", -1, 0),
	OK("empty query", "GET /? HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_M_GET, "/", "", "h", -1, 0),
	NO("half a request line", "GET /x HTT", 1),
	NO("head without the blank line", "GET /x HTTP/1.1\r\nHost: h\r\n",
	    1),
	NO("bare LF ends the request line", "GET / HTTP/1.1\nHost: h\r\n\r\n",
	    400),
	NO("bare LF ends a header", "GET / HTTP/1.1\r\nHost: h\n\r\n", 400),
	NO("CR inside a header value", "GET / HTTP/1.1\r\nHost: h\r\n"
	    "X: a\rb\r\n\r\n", 400),
	NON("NUL in a header value", "GET / HTTP/1.1\r\nHost: h\r\n"
	    "X: a\0b\r\n\r\n", 400),
	NON("NUL in the target", "GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n",
	    400),
	NO("1.1 without Host", "GET / HTTP/1.1\r\n\r\n", 400),
	NO("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	    400),
	NO("Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
	NO("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n",
	    400),
	NO("obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
	    400),
	NO("space before the colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
	    400),
	NO("header without a colon", "GET / HTTP/1.1\r\nHost h\r\n\r\n",
	    400),
	NO("empty header name", "GET / HTTP/1.1\r\n: h\r\n\r\n", 400),
	NO("Transfer-Encoding (smuggling)", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400),
	NO("two Content-Lengths", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 1\r\nContent-Length: 1\r\n\r\n", 400),
	NO("negative Content-Length", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: -1\r\n\r\n", 400),
	NO("huge Content-Length", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 99999999999999999999\r\n\r\n", 400),
	NO("absolute-form target", "GET http://h/ HTTP/1.1\r\nHost: h\r\n"
	    "\r\n", 400),
	NO("asterisk-form target", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
	    400),
	NO("two spaces after the method", "GET  / HTTP/1.1\r\nHost: h\r\n"
	    "\r\n", 400),
	NO("8-bit byte in the target", "GET /\xc3\xa9 HTTP/1.1\r\n"
	    "Host: h\r\n\r\n", 400),
	NO("fragment in the target", "GET /#x HTTP/1.1\r\nHost: h\r\n\r\n",
	    400),
	NO("HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
	NO("HTTP/1.2", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505),
	NO("lower-case version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400),
	NO("HTTP/0.9 (no version)", "GET /\r\n\r\n", 400),
	NO("method with a control char", "G\tT / HTTP/1.1\r\nHost: h\r\n"
	    "\r\n", 400),
	NON("TLS hello on the plain port, refused before any LF",
	    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
	NOF("request line over HTTP_LINE_MAX",
	    TF("GET /", "a", HTTP_LINE_MAX, " HTTP/1.1\r\nHost: h\r\n\r\n"),
	    414),
	NOF("request line over the bound, not ended yet",
	    TF("GET /", "a", HTTP_LINE_MAX, NULL), 414),
	NOF("header line over HTTP_LINE_MAX",
	    TF("GET / HTTP/1.1\r\nHost: h\r\nX: ", "b", HTTP_LINE_MAX,
	    "\r\n\r\n"), 431),
	NOF("too many header fields",
	    TF("GET / HTTP/1.1\r\nHost: h\r\n", "X: y\r\n",
	    HTTP_HEADERS_MAX, "\r\n"), 431),
	NOF("head over HTTP_HEAD_MAX in short lines",
	    TF("GET / HTTP/1.1\r\nHost: h\r\n", "X-Long-Header-Name: "
	    "abcdefghijklmnopqrstuvwxyz0123456789abcdefghij\r\n",
	    HTTP_HEAD_MAX / 64 + 1, "\r\n"), 431),
};

static void
test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct parse_case *c = &cases[i];
		struct http_req r;
		size_t len;
		char *in = build(&c->in, &len);
		int rc = http_parse(in, len, &r);

		if (rc != c->want) {
			fail_msg("%s: got %d, want %d", c->desc, rc, c->want);
		}
		if (rc == 0) {
			assert_int_equal(r.method, c->method);
			assert_int_equal(r.head_len, len);
			assert_int_equal(r.content_length, c->clen);
			assert_int_equal(r.close, c->close);
			expect_bytes(c->desc, "path", r.path, r.path_len,
			    c->path, strlen(c->path));
			if ((r.query == NULL) != (c->query == NULL) ||
			    (r.host == NULL) != (c->host == NULL)) {
				fail_msg("%s: query or host", c->desc);
			}
			if (c->query != NULL) {
				expect_bytes(c->desc, "query", r.query,
				    r.query_len, c->query, strlen(c->query));
			}
			if (c->host != NULL) {
				expect_bytes(c->desc, "host", r.host,
				    r.host_len, c->host, strlen(c->host));
			}
		}
		/* Every prefix: more needed, or the same refusal early. */
		for (size_t k = 0; k < len && c->want <= 1; k++) {
			char *p = dup_exact(in, k);
			int pr = http_parse(p, k, &r);

			if (pr != 1) {
				fail_msg("%s: prefix %zu gave %d", c->desc, k,
				    pr);
			}
			free(p);
		}
		free(in);
	}
}

struct query_case {
	const char	*desc;
	const char	*q;
	const char	*name;
	long		 want;
	const char	*out;	/* NULL: want is -1 or -2 */
};

static const struct query_case qcases[] = {
	{ "plain value", "emailaddress=a@b.c", "emailaddress", 5,
	    "a@b.c" },
	{ "percent-encoded @", "x=1&emailaddress=a%40b.c", "emailaddress",
	    5, "a@b.c" },
	{ "'+' is a space", "n=a+b", "n", 3, "a b" },
	{ "empty value", "n=&m=1", "n", 0, "" },
	{ "absent", "m=1", "n", -1, NULL },
	{ "name is a prefix of another", "nn=1", "n", -1, NULL },
	{ "bad escape", "n=%4", "n", -2, NULL },
	{ "non-hex escape", "n=%zz", "n", -2, NULL },
	{ "escaped NUL", "n=a%00b", "n", -2, NULL },
	{ "escaped CR LF", "n=a%0d%0aX", "n", -2, NULL },
	{ "too long for the buffer", "n=0123456789abcdef", "n", -2, NULL },
};

static void
test_query(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof qcases / sizeof qcases[0]; i++) {
		const struct query_case *c = &qcases[i];
		char *q = dup_exact(c->q, strlen(c->q));
		char out[16];
		long n = http_query(q, strlen(c->q), c->name, out, sizeof out);
		long want = c->out != NULL ? (long)strlen(c->out) : c->want;

		if (n != want) {
			fail_msg("%s: got %ld, want %ld", c->desc, n, want);
		}
		if (n >= 0) {
			expect_bytes(c->desc, "value", out, (size_t)n,
			    c->out, (size_t)want);
		}
		free(q);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_query),
	};

	return cmocka_run_group_tests_name("http_parse", tests, NULL, NULL);
}
