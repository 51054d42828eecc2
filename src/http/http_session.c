/* SPDX-License-Identifier: ISC */
/*
 * http_session.c - the HTTP/1.1 listener's connections (RFC 9112 9:
 * persistence; RFC 9110 15: status codes; RFC 7617: Basic login; RFC
 * 8555 8.3: HTTP-01; RFC 8461 3.3: the policy host).
 *
 * One request at a time: a request is parsed only once the reply to
 * the one before has left (no pipelining queue to bound), answered at
 * once from a document built into one static buffer, and its bytes are
 * consumed. Limits, all refusals closing the connection:
 *   - the head: http_parse's bounds (400, 414, 431, 505);
 *   - a body only on the Autodiscover POST, HTTP_BODY_MAX (413);
 *   - HTTP_KEEPALIVE_MAX requests per connection;
 *   - http_timeout: each request must arrive whole within it, counted
 *     from the connect or the reply before, as the session deadline
 *     (conn.h) that no byte re-arms, so a slowloris client is cut.
 *
 * A failed login waits auth_fail_delay before its 401, on a timer,
 * and counts towards auth_fail_limit like every other login.
 */
#include <string.h>
#include <strings.h>

#include "acme/acme_chal.h"
#include "auth/login.h"
#include "core/addr.h"
#include "core/fmt.h"
#include "core/log.h"
#include "core/pool.h"
#include "http/http.h"
#include "http/http_autoconf.h"
#include "http/http_parse.h"
#include "msg/base64.h"
#include "tls/tls.h"

#define ACME_PREFIX	"/.well-known/acme-challenge/"
#define AUTODISCOVER	"/autodiscover/autodiscover.xml"
#define XML_TYPE	"application/xml; charset=utf-8"
#define TEXT_TYPE	"text/plain; charset=utf-8"
#define BASIC_MAX	(ADDR_MAX + 1 + 256)	/* user:password */

struct http_session {
	struct conn	*c;
	int		 tls;
	unsigned	 nreq;
	int		 delayed;	/* a 401 waits on the timer */
	int		 head, close;	/* of the delayed request */
	struct timer	 delay;
	char		 ip[ADDR_STR_MAX];
};

static struct {
	struct ev		*ev;
	const struct cfg	*cfg;
	struct maps		*maps;
	struct pool		 sessions;
	char			 doc[HTTP_DOC_MAX];
} http;

static const char	*http_refusal(enum conn_refusal);
static int		 http_open(struct conn *);
static int		 https_open(struct conn *);
static void		 http_input(struct conn *);
static void		 http_writable(struct conn *);
static void		 http_close(struct conn *);

#define HTTP_PROTO(name_, open_) { \
	.name = name_, .refusal = http_refusal, .open = open_, \
	.input = http_input, .writable = http_writable, \
	.close = http_close }

const struct proto http_proto = HTTP_PROTO("http", http_open);
const struct proto https_proto = HTTP_PROTO("https", https_open);

static int	session_open(struct conn *, int tls);
static uint64_t	timeout_ms(void);
static int	request(struct http_session *, const struct http_req *,
		    const char *body, size_t blen);
static int	route(struct http_session *, const struct http_req *,
		    const char *body, size_t blen);
static int	autoconfig(struct http_session *, const struct http_req *,
		    const char *host, size_t hlen, int thunderbird,
		    const char *body, size_t blen);
static int	mobileconfig(struct http_session *, const struct http_req *);
static void	respond(struct http_session *, int head, int status,
		    const char *type, const char *body, long blen,
		    const char *extra, int close);
static void	fail(struct http_session *, int head, int status,
		    const char *extra, int close);
static void	finish(struct http_session *, int close);
static void	delay_done(struct timer *, void *);
static int	path_is(const struct http_req *, const char *, int icase);
static const char *status_text(int);

int
http_init(struct ev *ev, const struct cfg *cfg, struct maps *maps,
    size_t max, struct err *e)
{
	memset(&http, 0, sizeof http);
	http.ev = ev;
	http.cfg = cfg;
	http.maps = maps;
	return pool_init(&http.sessions, "http",
	    sizeof(struct http_session), max, e);
}

void
http_shutdown(void)
{
	pool_destroy(&http.sessions);
}

/* --- connection hooks ------------------------------------------------ */

static const char *
http_refusal(enum conn_refusal why)
{
	(void)why;
	return "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n";
}

static int
http_open(struct conn *c)
{
	return session_open(c, 0);
}

static int
https_open(struct conn *c)
{
	if (tls_start_now(c) == -1) {
		return -1;
	}
	return session_open(c, 1);
}

static int
session_open(struct conn *c, int tls)
{
	struct http_session *s = pool_get(&http.sessions);

	if (s == NULL) {
		const char *r = http_refusal(CONN_REFUSE_FULL);

		(void)conn_write(c, r, strlen(r));
		return -1;
	}
	memset(s, 0, sizeof *s);
	s->c = c;
	s->tls = tls;
	timer_init(&s->delay, delay_done, s);
	c->sess = s;
	if (addr_text(s->ip, sizeof s->ip, c->family, c->addr) == -1) {
		(void)fmt(s->ip, sizeof s->ip, "?");
	}
	/* The first call arms the deadline to the same figure (conn.h):
	 * the first request must be whole within it. */
	conn_set_timeout(c, timeout_ms());
	return 0;
}

static uint64_t
timeout_ms(void)
{
	return (uint64_t)cfg_num(http.cfg, CFG_HTTP_TIMEOUT) * 1000;
}

/* One request after another, each once the reply before has left. */
static void
http_input(struct conn *c)
{
	struct http_session *s = c->sess;

	while (!(c->flags & (CONN_F_CLOSING | CONN_F_DEAD)) &&
	    !s->delayed && !conn_has_output(c) && c->in.len > 0) {
		const char *in = buf_head(&c->in);
		struct http_req r;
		size_t blen = 0;
		int rc = http_parse(in, c->in.len, &r);

		if (rc == 1) {
			return;
		}
		if (rc != 0) {
			fail(s, 0, rc, NULL, 1);
			return;
		}
		if (r.content_length > 0) {
			blen = (size_t)r.content_length;
			/* RFC 9110 9.3.1: a GET body has no meaning; we
			 * take none, rather than skip it. */
			if (r.method == HTTP_M_OTHER) {
				fail(s, 0, 405, "Allow: GET, HEAD\r\n", 1);
				return;
			}
			if (r.method != HTTP_M_POST) {
				fail(s, r.method == HTTP_M_HEAD, 400, NULL, 1);
				return;
			}
			if (blen > HTTP_BODY_MAX) {
				fail(s, 0, 413, NULL, 1);
				return;
			}
			if (c->in.len < r.head_len + blen) {
				return;		/* the body is coming */
			}
		}
		rc = request(s, &r, in + r.head_len, blen);
		conn_consume(c, r.head_len + blen);
		if (rc == 1) {
			return;		/* the 401 waits */
		}
	}
}

static void
http_writable(struct conn *c)
{
	http_input(c);
}

static void
http_close(struct conn *c)
{
	struct http_session *s = c->sess;

	if (s == NULL) {
		return;
	}
	ev_timer_cancel(http.ev, &s->delay);
	explicit_bzero(s, sizeof *s);
	c->sess = NULL;
	(void)pool_put(&http.sessions, s);
}

/* --- requests -------------------------------------------------------- */

/* Answers r: 0 done (the reply queued, the connection closing or set
 * for the next request), 1 when the reply waits on the delay. */
static int
request(struct http_session *s, const struct http_req *r, const char *body,
    size_t blen)
{
	static const char *const mname[] = { "GET", "HEAD", "POST", "-" };
	int close = r->close || ++s->nreq >= HTTP_KEEPALIVE_MAX;
	int status;

	/* route's 200 replies say close when this is the last one. */
	s->close = close;
	status = route(s, r, body, blen);
	conn_log(s->c, LOG_LVL_INFO, "%s %.*s %d", mname[r->method],
	    (int)(r->path_len < 80 ? r->path_len : 80), r->path, status);
	if (status == 0) {
		s->head = r->method == HTTP_M_HEAD;
		s->close = close;
		return 1;
	}
	if (status >= 400 && status != 404 && status != 401) {
		close = 1;
	}
	if (status != 200) {
		fail(s, r->method == HTTP_M_HEAD, status,
		    status == 405 ? (path_is(r, AUTODISCOVER, 1) ?
		    "Allow: GET, HEAD, POST\r\n" : "Allow: GET, HEAD\r\n") :
		    status == 401 ? "WWW-Authenticate: Basic realm=\"wren\", "
		    "charset=\"UTF-8\"\r\n" : NULL, close);
		return 0;
	}
	finish(s, close);
	return 0;
}

/* The status answered (200: the reply is queued; 0: a 401 will be, on
 * the delay timer); anything else is for request to send. */
static int
route(struct http_session *s, const struct http_req *r, const char *body,
    size_t blen)
{
	int head = r->method == HTTP_M_HEAD;
	int post = path_is(r, AUTODISCOVER, 1);
	size_t hl = r->host != NULL ? r->host_len : 0;
	const char *host = r->host != NULL ? r->host : "";
	long n;

	if (r->method == HTTP_M_OTHER ||
	    (r->method == HTTP_M_POST && !post)) {
		return 405;
	}
	if (post) {
		return autoconfig(s, r, host, hl, 0, body, blen);
	}
	if (path_is(r, "/.well-known/autoconfig/mail/config-v1.1.xml", 0) ||
	    (hl > 11 && strncasecmp(host, "autoconfig.", 11) == 0 &&
	    path_is(r, "/mail/config-v1.1.xml", 0))) {
		return autoconfig(s, r, host, hl, 1, NULL, 0);
	}
	if (path_is(r, "/.well-known/mta-sts.txt", 0)) {
		/* RFC 8461 3.3: the policy host is mta-sts.<domain>. */
		if (hl <= 8 || strncasecmp(host, "mta-sts.", 8) != 0 ||
		    (n = autoconf_mta_sts(http.cfg, http.doc,
		    sizeof http.doc)) < 0) {
			return 404;
		}
		respond(s, head, 200, TEXT_TYPE, http.doc, n, NULL,
		    s->close);
		return 200;
	}
	if (r->path_len > sizeof ACME_PREFIX - 1 &&
	    memcmp(r->path, ACME_PREFIX, sizeof ACME_PREFIX - 1) == 0) {
		const char *ka = acme_http01(r->path + sizeof ACME_PREFIX -
		    1, r->path_len - (sizeof ACME_PREFIX - 1));

		if (ka == NULL) {
			return 404;
		}
		respond(s, head, 200, "application/octet-stream", ka,
		    (long)strlen(ka), NULL, s->close);
		return 200;
	}
	if (path_is(r, HTTP_MOBILECONFIG_PATH, 0)) {
		return mobileconfig(s, r);
	}
	return 404;
}

/*
 * Thunderbird's document, or Outlook's: the address from the query
 * (Thunderbird's ?emailaddress=) or the POST body (<EMailAddress>),
 * else the domain from the Host (autoconfig.<domain>, or the domain
 * itself for the .well-known path), else the first of `domains`.
 */
static int
autoconfig(struct http_session *s, const struct http_req *r,
    const char *host, size_t hlen, int thunderbird, const char *body,
    size_t blen)
{
	char email[ADDR_MAX + 1];
	const char *e = NULL, *d = host;
	size_t elen = 0, dlen = hlen;
	struct autoconf ac;
	long q = -1, n;

	if (r->query != NULL) {
		q = http_query(r->query, r->query_len, "emailaddress", email,
		    sizeof email);
	}
	if (q >= 0) {
		e = email;
		elen = (size_t)q;
	} else if (body != NULL && blen > 0) {
		e = autoconf_request_email(body, blen, &elen);
	}
	if (dlen > 11 && strncasecmp(d, "autoconfig.", 11) == 0) {
		d += 11;
		dlen -= 11;
	}
	/* An address given, but not one (or badly encoded). */
	if (q == -2 || (elen > 0 &&
	    autoconf_init(&ac, http.cfg, e, elen, NULL, 0) == -1)) {
		return 400;
	}
	if (elen == 0 && autoconf_init(&ac, http.cfg, NULL, 0, d, dlen) ==
	    -1 && autoconf_init(&ac, http.cfg, NULL, 0, NULL, 0) == -1) {
		return 500;
	}
	n = thunderbird ? autoconf_thunderbird(&ac, http.doc,
	    sizeof http.doc) : autoconf_autodiscover(&ac, http.doc,
	    sizeof http.doc);
	if (n < 0) {
		return 500;
	}
	respond(s, r->method == HTTP_M_HEAD, 200, XML_TYPE, http.doc, n,
	    NULL, s->close);
	return 200;
}

/* The profile for the account whose login comes with the request
 * (RFC 7617), over TLS only: a password never crosses in the clear,
 * so the plain port does not even ask for one. */
static int
mobileconfig(struct http_session *s, const struct http_req *r)
{
	unsigned char dec[BASIC_MAX];
	const unsigned char *colon;
	struct login l;
	struct autoconf ac;
	long n;
	int status = 401;

	if (!s->tls) {
		return 403;
	}
	if (r->authz == NULL || r->authz_len < 7 ||
	    strncasecmp(r->authz, "Basic ", 6) != 0 ||
	    (n = base64_decode(r->authz + 6, r->authz_len - 6, dec,
	    sizeof dec)) < 0 ||
	    (colon = memchr(dec, ':', (size_t)n)) == NULL) {
		return 401;
	}
	switch (login_check(http.cfg, http.maps, s->c, s->ip,
	    (const char *)dec, (size_t)(colon - dec),
	    (const char *)colon + 1, (size_t)n - (size_t)(colon - dec) - 1,
	    ev_now(http.ev) / 1000 + 1, 0, &l)) {
	case LOGIN_OK:
		status = 200;
		break;
	case LOGIN_THROTTLED:
		status = 429;
		break;
	case LOGIN_TEMPFAIL:
	case LOGIN_NO_HOME:
		status = 503;
		break;
	case LOGIN_FAIL:
		status = 0;
		break;
	}
	explicit_bzero(dec, sizeof dec);
	if (status == 0) {
		s->delayed = 1;
		if (ev_timer_in(http.ev, &s->delay, (uint64_t)cfg_num(
		    http.cfg, CFG_AUTH_FAIL_DELAY) * 1000) == -1) {
			s->delayed = 0;
			return 401;
		}
		return 0;
	}
	if (status != 200) {
		return status;
	}
	if (autoconf_init(&ac, http.cfg, l.name, strlen(l.name), NULL, 0) ==
	    -1 || (n = autoconf_mobileconfig(&ac, http.doc,
	    sizeof http.doc)) < 0) {
		return 404;	/* no address, or no IMAP or submission */
	}
	respond(s, r->method == HTTP_M_HEAD, 200,
	    "application/x-apple-aspen-config", http.doc, n,
	    "Content-Disposition: attachment; "
	    "filename=\"wren.mobileconfig\"\r\n", s->close);
	return 200;
}

static void
delay_done(struct timer *t, void *arg)
{
	struct http_session *s = arg;

	(void)t;
	s->delayed = 0;
	fail(s, s->head, 401, "WWW-Authenticate: Basic realm=\"wren\", "
	    "charset=\"UTF-8\"\r\n", s->close);
	if (!(s->c->flags & (CONN_F_DEAD | CONN_F_CLOSING))) {
		http_input(s->c);
	}
}

/* --- replies --------------------------------------------------------- */

/* Status line, headers, and the body unless HEAD (RFC 9110 9.3.2:
 * the same headers). A reply that does not fit the output buffer
 * (HTTP_DOC_MAX over a small BUF_SIZE) becomes a 500. */
static void
respond(struct http_session *s, int head, int status, const char *type,
    const char *body, long blen, const char *extra, int close)
{
	char h[512];
	int n;

	n = fmt(h, sizeof h, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %ld\r\nCache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n%s%s\r\n", status,
	    status_text(status), type, blen, extra != NULL ? extra : "",
	    close ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof h ||
	    s->c->out.cap - s->c->out.len < (size_t)n + (size_t)blen) {
		conn_log(s->c, LOG_LVL_WARN, "reply too big for the buffer");
		conn_abort(s->c);
		return;
	}
	(void)conn_write(s->c, h, (size_t)n);
	if (!head && blen > 0) {
		(void)conn_write(s->c, body, (size_t)blen);
	}
}

/* An error reply: the status as its text body. */
static void
fail(struct http_session *s, int head, int status, const char *extra,
    int close)
{
	char body[64];
	int n = fmt(body, sizeof body, "%d %s\n", status,
	    status_text(status));

	if (n < 0 || (size_t)n >= sizeof body) {
		n = 0;
	}
	respond(s, head, status, TEXT_TYPE, body, n, extra, close);
	finish(s, close);
}

/* After a reply: close, or give the next request its own deadline. */
static void
finish(struct http_session *s, int close)
{
	if (s->c->flags & (CONN_F_DEAD | CONN_F_CLOSING)) {
		return;
	}
	if (close) {
		conn_close(s->c);
		return;
	}
	conn_set_deadline(s->c, timeout_ms());
}

static int
path_is(const struct http_req *r, const char *p, int icase)
{
	size_t n = strlen(p);

	return r->path_len == n && (icase ? strncasecmp(r->path, p, n) :
	    memcmp(r->path, p, n)) == 0;
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}
