/* SPDX-License-Identifier: ISC */
/*
 * acme_http.c - the HTTPS client of ACME (see acme_http.h): RFC 9110
 * and 9112 for the request, RFC 8555 6.1 (HTTPS only) and 6.3 (JOSE
 * content type). One request at a time is all the order flow needs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "acme/acme_http.h"
#include "core/connect.h"
#include "core/fmt.h"
#include "core/log.h"
#include "dns/dns.h"
#include "tls/tls_client.h"

enum ah_state {
	AH_IDLE,
	AH_RESOLVE,
	AH_CONNECT,
	AH_TLS,
	AH_READ,
	AH_DONE
};

static struct {
	struct ev		*ev;
	struct conn_table	*out;
	enum ah_state		 state;
	struct dns_lookup	*lookup;
	struct conn		*c;
	struct timer		 later;		/* calls back from the loop */
	acme_http_fn		*done;
	void			*arg;
	int			 failed;
	char			 host[TLS_NAME_MAX + 1];
	uint16_t		 port;
	char			 path[ACME_URL_MAX];
	const char		*body;
	struct http_resp	 r;
	char			 rbody[HTTP_RESP_BODY_MAX];
} ah;

static int	parse_url(const char *);
static void	resolved(void *, int, const struct dns_hosts *);
static void	connect_to(int, const uint8_t *);
static void	finish(int ok);
static void	call_back(struct timer *, void *);
static void	tls_done(struct conn *, int, void *);

static int	ah_open(struct conn *);
static void	ah_input(struct conn *);
static void	ah_timeout(struct conn *);
static void	ah_close(struct conn *);
static void	ah_connect_failed(struct conn *, int);

static const struct proto acme_proto = {
	.name = "acme",
	.open = ah_open,
	.input = ah_input,
	.timeout = ah_timeout,
	.close = ah_close,
	.connect_failed = ah_connect_failed,
};

void
acme_http_init(struct ev *ev, struct conn_table *out)
{
	memset(&ah, 0, sizeof ah);
	ah.ev = ev;
	ah.out = out;
	timer_init(&ah.later, call_back, NULL);
}

int
acme_http_request(const char *url, const char *body, acme_http_fn *done,
    void *arg)
{
	uint8_t a[16];

	if (ah.state != AH_IDLE) {
		log_warnx("acme: a request is already in flight");
		return -1;
	}
	if (parse_url(url) == -1) {
		log_warnx("acme: not an https URL: %s", url);
		return -1;
	}
	ah.done = done;
	ah.arg = arg;
	ah.body = body;
	ah.failed = 0;
	http_resp_init(&ah.r, ah.rbody, sizeof ah.rbody);
	log_debug("acme: %s %s", body == NULL ? "GET" : "POST", url);
	/* RFC 6761 6.3: localhost is the loopback address, no query. */
	if (strcmp(ah.host, "localhost") == 0) {
		a[0] = 127, a[1] = 0, a[2] = 0, a[3] = 1;
		connect_to(AF_INET, a);
	} else if (inet_pton(AF_INET, ah.host, a) == 1) {
		connect_to(AF_INET, a);
	} else if (inet_pton(AF_INET6, ah.host, a) == 1) {
		connect_to(AF_INET6, a);
	} else if ((ah.lookup = dns_addrs(ah.host, resolved, NULL)) != NULL) {
		ah.state = AH_RESOLVE;
		return 0;
	} else {
		log_warnx("acme: no DNS lookup slot for %s", ah.host);
		ah.state = AH_DONE;
		ah.failed = 1;
		(void)ev_timer_in(ah.ev, &ah.later, 1);
	}
	return 0;
}

void
acme_http_cancel(void)
{
	if (ah.state == AH_RESOLVE && ah.lookup != NULL) {
		dns_lookup_cancel(ah.lookup);
	}
	ah.done = NULL;
	ah.state = AH_IDLE;		/* ah_close then reports nothing */
	if (ah.c != NULL) {
		conn_abort(ah.c);
	}
	ev_timer_cancel(ah.ev, &ah.later);
}

/* https://host[:port]/path; no userinfo, no fragment (RFC 8555 6.1). */
static int
parse_url(const char *url)
{
	const char *h, *end, *colon;
	size_t hl;
	unsigned long port = 443;

	if (strncmp(url, "https://", 8) != 0) {
		return -1;
	}
	h = url + 8;
	end = h + strcspn(h, "/?#");
	colon = memchr(h, ':', (size_t)(end - h));
	hl = (size_t)((colon != NULL ? colon : end) - h);
	if (hl == 0 || hl >= sizeof ah.host || memchr(h, '@', hl) != NULL ||
	    *h == '[') {
		return -1;
	}
	if (colon != NULL) {
		port = 0;
		for (const char *p = colon + 1; p < end; p++) {
			if (*p < '0' || *p > '9' || port > 65535) {
				return -1;
			}
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port == 0 || port > 65535) {
			return -1;
		}
	}
	memcpy(ah.host, h, hl);
	ah.host[hl] = '\0';
	ah.port = (uint16_t)port;
	if (fmt(ah.path, sizeof ah.path, "%s", *end == '\0' ? "/" : end) >=
	    (int)sizeof ah.path || strpbrk(ah.path, " \r\n#") != NULL) {
		return -1;
	}
	return 0;
}

static void
resolved(void *arg, int status, const struct dns_hosts *hosts)
{
	(void)arg;
	ah.lookup = NULL;
	if (status != DNS_OK || hosts == NULL || hosts->n == 0 ||
	    hosts->h[0].naddrs == 0) {
		log_warnx("acme: %s does not resolve", ah.host);
		finish(0);
		return;
	}
	connect_to(hosts->h[0].addrs[0].family, hosts->h[0].addrs[0].addr);
}

static void
connect_to(int family, const uint8_t *a)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct err e;

	memset(&ss, 0, sizeof ss);
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(ah.port);
		memcpy(&s6->sin6_addr, a, 16);
		sl = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(ah.port);
		memcpy(&s4->sin_addr, a, 4);
		sl = sizeof *s4;
	}
	ah.state = AH_CONNECT;
	if (conn_connect(ah.out, (struct sockaddr *)&ss, sl, NULL, 0,
	    &acme_proto, NULL, ACME_HTTP_TIMEOUT_MS, &ah.c, &e) == -1) {
		log_warnx("acme: connect to %s: %s", ah.host, e.msg);
		ah.c = NULL;
		ah.state = AH_DONE;
		ah.failed = 1;
		(void)ev_timer_in(ah.ev, &ah.later, 1);
	}
}

static int
ah_open(struct conn *c)
{
	conn_set_timeout(c, ACME_HTTP_TIMEOUT_MS);
	ah.state = AH_TLS;
	if (tls_client_start(c, ah.host, TLS_VERIFY, tls_done, NULL) == -1) {
		return -1;
	}
	return 0;
}

static void
tls_done(struct conn *c, int ok, void *arg)
{
	char head[1024], host[TLS_NAME_MAX + 8];
	size_t bl = ah.body != NULL ? strlen(ah.body) : 0;
	int l;

	(void)arg;
	if (!ok) {
		log_warnx("acme: TLS with %s failed: %s", ah.host,
		    tls_failure(c));
		return;			/* the core aborts c: ah_close */
	}
	/* RFC 8555 6.1: the JOSE type for POST; RFC 8555 7.4.2: the
	 * chain as PEM. */
	/* RFC 9110 7.2: the port too when it is not the default. */
	(void)fmt(host, sizeof host, ah.port == 443 ? "%s" : "%s:%u", ah.host,
	    (unsigned)ah.port);
	if (ah.body != NULL) {
		l = fmt(head, sizeof head, "POST %s HTTP/1.1\r\nHost: %s\r\n"
		    "User-Agent: wren\r\nAccept: application/json, "
		    "application/pem-certificate-chain\r\n"
		    "Connection: close\r\nContent-Type: "
		    "application/jose+json\r\nContent-Length: %zu\r\n\r\n",
		    ah.path, host, bl);
	} else {
		l = fmt(head, sizeof head, "GET %s HTTP/1.1\r\nHost: %s\r\n"
		    "User-Agent: wren\r\nAccept: application/json\r\n"
		    "Connection: close\r\n\r\n", ah.path, host);
	}
	if (l < 0 || (size_t)l >= sizeof head ||
	    conn_write(c, head, (size_t)l) == -1 ||
	    (bl > 0 && conn_write(c, ah.body, bl) == -1)) {
		log_warnx("acme: request to %s too large", ah.host);
		conn_abort(c);
		return;
	}
	ah.state = AH_READ;
}

static void
ah_input(struct conn *c)
{
	size_t n = c->in.len;

	if (ah.state != AH_READ) {
		conn_consume(c, n);
		return;
	}
	(void)http_resp_feed(&ah.r, buf_head(&c->in), n);
	conn_consume(c, n);
	if (ah.r.state == HTTP_R_DONE || ah.r.state == HTTP_R_ERROR) {
		conn_close(c);		/* ah_close reports */
	}
}

static void
ah_timeout(struct conn *c)
{
	log_warnx("acme: %s did not answer in time", ah.host);
	conn_abort(c);
}

static void
ah_close(struct conn *c)
{
	(void)c;
	ah.c = NULL;
	if (ah.state == AH_READ) {
		http_resp_eof(&ah.r);
		if (ah.r.state != HTTP_R_DONE) {
			log_warnx("acme: %s: %s", ah.host,
			    http_resp_strerror(ah.r.err));
		}
		finish(ah.r.state == HTTP_R_DONE);
	} else if (ah.state != AH_IDLE && ah.state != AH_DONE) {
		finish(0);
	}
}

static void
ah_connect_failed(struct conn *c, int err)
{
	(void)c;
	log_warnx("acme: connect to %s port %u: %s", ah.host,
	    (unsigned)ah.port, strerror(err));
}

/* The callback runs from a timer: never inside conn or dns code, so
 * it may start the next request at once. */
static void
finish(int ok)
{
	ah.state = AH_DONE;
	ah.failed = !ok;
	if (ev_timer_in(ah.ev, &ah.later, 0) == -1) {
		call_back(&ah.later, NULL);
	}
}

static void
call_back(struct timer *t, void *arg)
{
	acme_http_fn *done = ah.done;

	(void)t;
	(void)arg;
	ah.state = AH_IDLE;
	ah.done = NULL;
	if (done != NULL) {
		done(ah.arg, ah.failed ? NULL : &ah.r);
	}
}
