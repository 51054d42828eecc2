/* SPDX-License-Identifier: ISC */
/*
 * test_connect.c - outbound connections (core/connect.h) on the real
 * event loop over loopback: connected (open with the caller's session,
 * bytes both ways through an inbound echo listener on the same loop),
 * refused (ECONNREFUSED through connect_failed, then close), timed out
 * (a listener whose backlog is full drops the SYN: ETIMEDOUT), an
 * error connect(2) gives at once (told next turn, never from inside
 * conn_connect), the outbound pool exhausted, a bad source address,
 * drain and abort of connections in progress, and an inbound table
 * filled to max_connections while an outbound connect still succeeds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/conn.h"
#include "core/connect.h"
#include "core/ev.h"
#include "core/listen.h"
#include "core/log.h"

#define WAIT_MS		3000
#define SHORT_MS	200	/* connect timeout of the blackhole row */

/* ---------------------------------------------------------------- */
/* The inbound side: a line echo that greets and answers QUIT. */

static const char *
echo_refusal(enum conn_refusal why)
{
	return why == CONN_REFUSE_FULL ? "421 full\r\n" : "421 other\r\n";
}

static int
echo_open(struct conn *c)
{
	return conn_write(c, "220 hi\r\n", 8);
}

static void
echo_input(struct conn *c)
{
	const char *nl;

	while ((nl = memchr(buf_head(&c->in), '\n', c->in.len)) != NULL) {
		size_t n = (size_t)(nl - buf_head(&c->in)) + 1;

		if (n == 6 && memcmp(buf_head(&c->in), "QUIT\r\n", 6) == 0) {
			conn_consume(c, n);
			conn_write(c, "221 bye\r\n", 9);
			conn_close(c);
			return;
		}
		conn_write(c, buf_head(&c->in), n);
		conn_consume(c, n);
	}
}

static void
echo_close(struct conn *c)
{
	(void)c;
}

static const struct proto echo = {
	.name = "echo",
	.refusal = echo_refusal,
	.open = echo_open,
	.input = echo_input,
	.close = echo_close,
};

/* ---------------------------------------------------------------- */
/* The outbound side: a client that waits for the greeting, sends
 * "ping", waits for the echo, then QUIT, and records every hook. */

struct client {
	int		 opened, failed, closed, drained;
	int		 fail_err;
	int		 close_after_fail;	/* closed is set when failed */
	char		 got[256];
	size_t		 ngot;
	int		 sent_ping, sent_quit;
	char		 peer[ADDR_STR_MAX];
};

static int in_connect;		/* set around conn_connect */

static int
cli_open(struct conn *c)
{
	struct client *cl = c->sess;

	assert_false(in_connect);
	assert_non_null(cl);
	assert_int_equal(cl->failed, 0);
	assert_false(c->flags & CONN_F_CONNECTING);
	cl->opened++;
	memcpy(cl->peer, c->peer, sizeof cl->peer);
	return 0;
}

static void
cli_input(struct conn *c)
{
	struct client *cl = c->sess;
	size_t n = c->in.len;

	if (n > sizeof cl->got - 1 - cl->ngot) {
		n = sizeof cl->got - 1 - cl->ngot;
	}
	memcpy(cl->got + cl->ngot, buf_head(&c->in), n);
	cl->ngot += n;
	cl->got[cl->ngot] = '\0';
	conn_consume(c, c->in.len);
	if (!cl->sent_ping && strstr(cl->got, "220 hi\r\n") != NULL) {
		cl->sent_ping = 1;
		assert_int_equal(conn_write(c, "ping\r\n", 6), 0);
	}
	if (!cl->sent_quit && strstr(cl->got, "ping\r\n") != NULL) {
		cl->sent_quit = 1;
		assert_int_equal(conn_write(c, "QUIT\r\n", 6), 0);
	}
}

static void
cli_drain(struct conn *c)
{
	struct client *cl = c->sess;

	cl->drained++;
	conn_close(c);
}

static void
cli_connect_failed(struct conn *c, int err)
{
	struct client *cl = c->sess;

	assert_false(in_connect);
	assert_int_equal(cl->opened, 0);
	assert_int_equal(cl->closed, 0);	/* close comes after */
	cl->failed++;
	cl->fail_err = err;
}

static void
cli_close(struct conn *c)
{
	struct client *cl = c->sess;

	assert_false(in_connect);
	cl->closed++;
	cl->close_after_fail = cl->failed;
}

static const struct proto cli = {
	.name = "cli",
	.open = cli_open,
	.input = cli_input,
	.drain = cli_drain,
	.close = cli_close,
	.connect_failed = cli_connect_failed,
};

/* ---------------------------------------------------------------- */

struct fixture {
	struct ev		ev;
	struct conn_table	in, out;
	struct listener		l;
	int			blackhole;	/* listen(0), never accepted */
	int			filler[4];
};

static struct fixture f;

static void
sin_of(struct sockaddr_in *sin, const char *ip, uint16_t port)
{
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
}

static void
setup(size_t max_in, size_t max_out)
{
	struct cfg_listen a;
	struct err e;

	memset(&f, 0, sizeof f);
	f.blackhole = -1;
	for (size_t i = 0; i < 4; i++) {
		f.filler[i] = -1;
	}
	memset(&a, 0, sizeof a);
	a.family = AF_INET;
	a.addr[0] = 127;
	a.addr[3] = 1;
	assert_int_equal(ev_init(&f.ev, 1024, 64, &e), 0);
	assert_int_equal(conn_table_init(&f.in, &f.ev, max_in, 16, &e), 0);
	assert_int_equal(conn_table_init(&f.out, &f.ev, max_out, 0, &e), 0);
	assert_int_equal(listener_open(&f.l, &f.in, &a, &echo, &e), 0);
}

static void
teardown(void)
{
	listener_close(&f.l);
	/* Destroyed in the order made: the before-sleep chain copes. */
	conn_table_destroy(&f.in);
	conn_table_destroy(&f.out);
	assert_null(f.ev.before_sleep);
	for (size_t i = 0; i < 4; i++) {
		if (f.filler[i] != -1) {
			close(f.filler[i]);
		}
	}
	if (f.blackhole != -1) {
		close(f.blackhole);
	}
	ev_destroy(&f.ev);
}

static void
pump_until(const int *flag, int ms)
{
	uint64_t end = ev_clock_ms() + (uint64_t)ms;

	while ((flag == NULL || *flag == 0) && ev_clock_ms() < end) {
		ev_run_once(&f.ev, 5);
	}
}

/* A port on 127.0.0.1 that nothing listens on: bound, then closed. */
static uint16_t
closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin_of(&sin, "127.0.0.1", 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* A listener with a backlog of 0 whose queue is already full: Linux
 * drops further SYNs, so a connect to it never completes. */
static uint16_t
blackhole_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	f.blackhole = socket(AF_INET, SOCK_STREAM, 0);
	sin_of(&sin, "127.0.0.1", 0);
	assert_int_equal(bind(f.blackhole, (struct sockaddr *)&sin,
	    sizeof sin), 0);
	assert_int_equal(listen(f.blackhole, 0), 0);
	assert_int_equal(getsockname(f.blackhole, (struct sockaddr *)&sin,
	    &len), 0);
	for (size_t i = 0; i < 2; i++) {
		f.filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		(void)connect(f.filler[i], (struct sockaddr *)&sin,
		    sizeof sin);
	}
	usleep(50 * 1000);
	return ntohs(sin.sin_port);
}

static int
do_connect(struct conn_table *t, const char *ip, uint16_t port,
    const char *src, struct client *cl, uint64_t timeout,
    struct conn **c, struct err *e)
{
	struct sockaddr_in dst, s;
	int rc;

	sin_of(&dst, ip, port);
	if (src != NULL) {
		sin_of(&s, src, 0);
	}
	in_connect = 1;
	rc = conn_connect(t, (struct sockaddr *)&dst, sizeof dst,
	    src ? (struct sockaddr *)&s : NULL, src ? sizeof s : 0, &cli,
	    cl, timeout, c, e);
	in_connect = 0;
	return rc;
}

/* ---------------------------------------------------------------- */
/* One connection attempt per row: where to, and how it must end. */

enum target {
	TO_LISTENER,		/* the echo listener on this loop */
	TO_CLOSED,		/* a port nobody listens on */
	TO_BLACKHOLE,		/* SYN dropped: no answer ever */
	TO_BROADCAST		/* connect(2) fails at once */
};

struct connect_case {
	const char	*desc;
	enum target	 to;
	const char	*src;		/* bind address, NULL: none */
	uint64_t	 timeout_ms;
	int		 want_open;	/* 1: open, bytes both ways */
	int		 want_err;	/* connect_failed's err; -1: any */
};

static const struct connect_case connect_cases[] = {
	{ "to a listener: open, greeting in, ping out and back, QUIT",
	  TO_LISTENER, NULL, WAIT_MS, 1, 0 },
	{ "to a listener from source address 127.0.0.2",
	  TO_LISTENER, "127.0.0.2", WAIT_MS, 1, 0 },
	{ "to a closed port: ECONNREFUSED, then close",
	  TO_CLOSED, NULL, WAIT_MS, 0, ECONNREFUSED },
	{ "to a full backlog (SYN dropped): ETIMEDOUT after the timeout",
	  TO_BLACKHOLE, NULL, SHORT_MS, 0, ETIMEDOUT },
	{ "to 255.255.255.255: connect(2) fails at once, told next turn",
	  TO_BROADCAST, NULL, WAIT_MS, 0, -1 },
};

static void
run_connect_case(const struct connect_case *k)
{
	struct client cl;
	struct conn *c = NULL;
	struct err e;
	uint16_t port = 0;
	const char *ip = "127.0.0.1";
	uint64_t t0;

	setup(4, 2);
	memset(&cl, 0, sizeof cl);
	switch (k->to) {
	case TO_LISTENER:
		port = f.l.addr.port;
		break;
	case TO_CLOSED:
		port = closed_port();
		break;
	case TO_BLACKHOLE:
		port = blackhole_port();
		break;
	case TO_BROADCAST:
		ip = "255.255.255.255";
		port = 25;
		break;
	}
	/* Timers run from the loop's clock of this turn. */
	t0 = ev_now(&f.ev);
	if (do_connect(&f.out, ip, port, k->src, &cl, k->timeout_ms, &c,
	    &e) == -1) {
		fail_msg("%s: conn_connect: %s", k->desc, e.msg);
	}
	assert_non_null(c);
	assert_ptr_equal(c->sess, &cl);
	assert_null(c->listener);
	assert_int_equal(f.out.active, 1);
	/* Nothing is told from inside the call. */
	assert_int_equal(cl.opened + cl.failed + cl.closed, 0);
	pump_until(&cl.closed, WAIT_MS + (int)k->timeout_ms);
	assert_int_equal(cl.closed, 1);
	if (k->want_open) {
		char want[ADDR_STR_MAX];

		assert_int_equal(cl.opened, 1);
		assert_int_equal(cl.failed, 0);
		snprintf(want, sizeof want, "127.0.0.1:%u", port);
		assert_string_equal(cl.peer, want);
		assert_string_equal(cl.got, "220 hi\r\nping\r\n221 bye\r\n");
		assert_int_equal(f.out.accepted, 1);
		assert_int_equal(f.in.accepted, 1);
	} else {
		assert_int_equal(cl.opened, 0);
		assert_int_equal(cl.failed, 1);
		assert_int_equal(cl.close_after_fail, 1);
		if (k->want_err != -1) {
			assert_int_equal(cl.fail_err, k->want_err);
		} else {
			assert_true(cl.fail_err != 0 &&
			    cl.fail_err != ETIMEDOUT);
		}
		assert_int_equal(f.out.refused, 1);
		assert_int_equal(f.out.accepted, 0);
	}
	if (k->want_err == ETIMEDOUT) {
		assert_true(ev_clock_ms() - t0 >= k->timeout_ms - 10);
	}
	pump_until(NULL, 20);
	assert_int_equal(f.out.active, 0);
	assert_int_equal(f.in.active, 0);
	assert_int_equal(pool_avail(&f.out.conns), 2);
	assert_int_equal(pool_avail(&f.out.bufs), 4);
	teardown();
}

static void
test_connect_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof connect_cases /
	    sizeof connect_cases[0]; i++) {
		print_message("connect: %s\n", connect_cases[i].desc);
		run_connect_case(&connect_cases[i]);
	}
}

/* The source address is the one the listener sees. */
static void
test_source_address_seen_by_listener(void **state)
{
	struct client cl;
	struct conn *c;
	struct err e;

	(void)state;
	setup(4, 2);
	memset(&cl, 0, sizeof cl);
	cl.sent_ping = cl.sent_quit = 1;	/* no exchange */
	assert_int_equal(do_connect(&f.out, "127.0.0.1", f.l.addr.port,
	    "127.0.0.2", &cl, WAIT_MS, &c, &e), 0);
	pump_until(&cl.opened, WAIT_MS);
	pump_until(NULL, 20);
	assert_non_null(f.in.live);
	assert_int_equal(strncmp(f.in.live->peer, "127.0.0.2:", 10), 0);
	assert_int_equal(listen_ip_count(&f.in, AF_INET,
	    (const uint8_t *)"\x7f\x00\x00\x02"), 1);
	/* The outbound side is never counted per IP. */
	assert_int_equal(listen_ip_keys(&f.out), 0);
	conn_table_abort_all(&f.out);
	assert_int_equal(cl.closed, 1);
	pump_until(NULL, 50);
	assert_int_equal(f.in.active, 0);
	teardown();
}

/* ---------------------------------------------------------------- */
/* Refusals: -1 at once with a reason, no hook called, nothing held. */

static void
test_pool_exhausted(void **state)
{
	struct client a, b, x;
	struct conn *c;
	struct err e;
	uint16_t port;

	(void)state;
	setup(4, 2);
	port = blackhole_port();
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	memset(&x, 0, sizeof x);
	assert_int_equal(do_connect(&f.out, "127.0.0.1", port, NULL, &a,
	    WAIT_MS, &c, &e), 0);
	assert_int_equal(do_connect(&f.out, "127.0.0.1", port, NULL, &b,
	    WAIT_MS, &c, &e), 0);
	c = (struct conn *)&x;
	assert_int_equal(do_connect(&f.out, "127.0.0.1", port, NULL, &x,
	    WAIT_MS, &c, &e), -1);
	assert_null(c);
	assert_non_null(strstr(e.msg, "no free outbound connection slot"));
	assert_non_null(strstr(e.msg, "2 of 2"));
	/* Aborting them frees the slots (before the loop sleeps). */
	conn_table_abort_all(&f.out);
	assert_int_equal(a.closed + b.closed, 2);
	assert_int_equal(a.failed + b.failed, 0);
	pump_until(NULL, 10);
	assert_int_equal(pool_avail(&f.out.conns), 2);
	assert_int_equal(do_connect(&f.out, "127.0.0.1", f.l.addr.port,
	    NULL, &x, WAIT_MS, &c, &e), 0);
	pump_until(&x.closed, WAIT_MS);
	assert_int_equal(x.opened, 1);
	assert_int_equal(x.closed, 1);
	assert_int_equal(x.failed, 0);
	teardown();
}

struct bad_case {
	const char	*desc;
	int		 family;	/* of dst */
	socklen_t	 dst_len;	/* 0: the right one */
	const char	*src;		/* bind address */
	uint64_t	 timeout_ms;
	int		 draining;
	const char	*want;		/* in e.msg */
};

static const struct bad_case bad_cases[] = {
	{ "AF_UNIX destination", AF_UNIX, 0, NULL, 1000, 0,
	  "not an IPv4 or IPv6 address" },
	{ "AF_INET destination cut short", AF_INET, 8, NULL, 1000, 0,
	  "not an IPv4 or IPv6 address" },
	{ "empty destination", AF_INET, 1, NULL, 1000, 0,
	  "not an IPv4 or IPv6 address" },
	{ "source address not on this host (192.0.2.1)", AF_INET, 0,
	  "192.0.2.1", 1000, 0, "bind to the source address" },
	{ "zero connect timeout", AF_INET, 0, NULL, 0, 0,
	  "no connect timeout" },
	{ "table draining", AF_INET, 0, NULL, 1000, 1, "shutting down" },
};

static void
test_bad_requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct bad_case *k = &bad_cases[i];
		struct sockaddr_storage ss;
		struct sockaddr_in s;
		struct client cl;
		struct conn *c;
		struct err e;
		socklen_t len = sizeof(struct sockaddr_in);

		print_message("bad: %s\n", k->desc);
		setup(2, 2);
		memset(&cl, 0, sizeof cl);
		memset(&ss, 0, sizeof ss);
		sin_of((struct sockaddr_in *)&ss, "127.0.0.1", f.l.addr.port);
		ss.ss_family = (sa_family_t)k->family;
		if (k->dst_len != 0) {
			len = k->dst_len;
		}
		if (k->src != NULL) {
			sin_of(&s, k->src, 0);
		}
		if (k->draining) {
			conn_table_drain(&f.out);
		}
		in_connect = 1;
		assert_int_equal(conn_connect(&f.out, (struct sockaddr *)&ss,
		    len, k->src ? (struct sockaddr *)&s : NULL,
		    k->src ? sizeof s : 0, &cli, &cl, k->timeout_ms, &c, &e),
		    -1);
		in_connect = 0;
		assert_null(c);
		if (strstr(e.msg, k->want) == NULL) {
			fail_msg("%s: got \"%s\"", k->desc, e.msg);
		}
		pump_until(NULL, 10);
		assert_int_equal(cl.opened + cl.failed + cl.closed, 0);
		assert_int_equal(f.out.active, 0);
		assert_int_equal(pool_avail(&f.out.conns), 2);
		assert_int_equal(pool_avail(&f.out.bufs), 4);
		teardown();
	}
}

/* ---------------------------------------------------------------- */

/* Drain: one connection still connecting is closed at once (close,
 * no connect_failed); one connected gets proto->drain. */
static void
test_drain(void **state)
{
	struct client a, b;
	struct conn *c;
	struct err e;
	uint16_t port;

	(void)state;
	setup(4, 2);
	port = blackhole_port();
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	assert_int_equal(do_connect(&f.out, "127.0.0.1", port, NULL, &a,
	    WAIT_MS, &c, &e), 0);
	/* b stops short of QUIT: the greeting is kept unread. */
	b.sent_ping = b.sent_quit = 1;
	assert_int_equal(do_connect(&f.out, "127.0.0.1", f.l.addr.port,
	    NULL, &b, WAIT_MS, &c, &e), 0);
	pump_until(&b.opened, WAIT_MS);
	assert_int_equal(b.opened, 1);
	conn_table_drain(&f.out);
	assert_int_equal(a.closed, 1);
	assert_int_equal(a.failed + a.drained, 0);
	assert_int_equal(b.drained, 1);
	pump_until(&b.closed, WAIT_MS);
	assert_int_equal(b.closed, 1);
	assert_int_equal(f.out.active, 0);
	teardown();
}

/* max_connections clients fill the inbound table (the next one is
 * refused 421) while the outbound table still connects out. */
static void
test_inbound_full_outbound_connects(void **state)
{
	struct sockaddr_in sin;
	struct client cl;
	struct conn *c;
	struct err e;
	char buf[64];
	int fd[3], target, afd;
	socklen_t len = sizeof sin;

	(void)state;
	setup(2, 1);
	for (int i = 0; i < 3; i++) {
		sin_of(&sin, "127.0.0.1", f.l.addr.port);
		fd[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(connect(fd[i], (struct sockaddr *)&sin,
		    sizeof sin), 0);
		fcntl(fd[i], F_SETFL, O_NONBLOCK);
		pump_until(NULL, 30);
	}
	assert_int_equal(f.in.active, 2);
	assert_int_equal(pool_avail(&f.in.conns), 0);
	memset(buf, 0, sizeof buf);
	assert_true(read(fd[2], buf, sizeof buf - 1) > 0);
	assert_string_equal(buf, "421 full\r\n");
	/* A destination of the test's own, accepted by hand. */
	target = socket(AF_INET, SOCK_STREAM, 0);
	sin_of(&sin, "127.0.0.1", 0);
	assert_int_equal(bind(target, (struct sockaddr *)&sin, sizeof sin),
	    0);
	assert_int_equal(listen(target, 4), 0);
	assert_int_equal(getsockname(target, (struct sockaddr *)&sin, &len),
	    0);
	memset(&cl, 0, sizeof cl);
	assert_int_equal(do_connect(&f.out, "127.0.0.1", ntohs(sin.sin_port),
	    NULL, &cl, WAIT_MS, &c, &e), 0);
	/* Written before open: it leaves once connected. */
	assert_int_equal(conn_write(c, "early\r\n", 7), 0);
	pump_until(&cl.opened, WAIT_MS);
	assert_int_equal(cl.opened, 1);
	afd = accept(target, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(write(afd, "220 hi\r\n", 8), 8);
	pump_until(&cl.sent_ping, WAIT_MS);
	memset(buf, 0, sizeof buf);
	for (uint64_t end = ev_clock_ms() + WAIT_MS;
	    strstr(buf, "ping\r\n") == NULL && ev_clock_ms() < end;) {
		ev_run_once(&f.ev, 5);
		(void)recv(afd, buf + strlen(buf), sizeof buf - 1 -
		    strlen(buf), MSG_DONTWAIT);
	}
	assert_string_equal(buf, "early\r\nping\r\n");
	close(afd);
	pump_until(&cl.closed, WAIT_MS);
	assert_int_equal(cl.closed, 1);
	assert_int_equal(f.in.active, 2);	/* untouched */
	for (int i = 0; i < 3; i++) {
		close(fd[i]);
	}
	close(target);
	pump_until(NULL, 30);
	teardown();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_table),
		cmocka_unit_test(test_source_address_seen_by_listener),
		cmocka_unit_test(test_pool_exhausted),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_inbound_full_outbound_connects),
	};

	log_set_level(LOG_LVL_ERROR);
	return cmocka_run_group_tests_name("connect", tests, NULL, NULL);
}
