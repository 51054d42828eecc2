/* SPDX-License-Identifier: ISC */
/*
 * test_conn.c - listeners, accept-time refusals (pool exhausted, per-IP
 * limit, shutdown), buffered output, input back-pressure, idle
 * timeouts and session deadlines, drain (peers already gone dropped at once, closing
 * connections left alone, hooks that end other connections), slot
 * reuse and the one "disconnect" log line per connection, over real
 * loopback sockets driven by the real event loop in this process.
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
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/conn.h"
#include "core/ev.h"
#include "core/listen.h"
#include "core/log.h"

#define WAIT_MS	2000

/* A line-echo protocol: greets, echoes each line, says bye on drain. */
static int opened, closed, drained, timeouts;
static int consume_input = 1;
static int drain_kills_next;	/* echo_drain also aborts another */

static const char *
echo_refusal(enum conn_refusal why)
{
	switch (why) {
	case CONN_REFUSE_FULL:
		return "421 full\r\n";
	case CONN_REFUSE_PER_IP:
		return "421 per-ip\r\n";
	default:
		return "421 shutdown\r\n";
	}
}

static int
echo_open(struct conn *c)
{
	opened++;
	return conn_write(c, "220 hi\r\n", 8);
}

static void
echo_input(struct conn *c)
{
	const char *nl;

	if (!consume_input) {
		return;
	}
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
echo_timeout(struct conn *c)
{
	timeouts++;
	conn_write(c, "421 timeout\r\n", 13);
	conn_close(c);
}

static void
echo_drain(struct conn *c)
{
	drained++;
	if (drain_kills_next && c->next != NULL) {
		conn_abort(c->next);
	}
	conn_write(c, "421 draining\r\n", 14);
	conn_close(c);
}

static void
echo_close(struct conn *c)
{
	(void)c;
	closed++;
}

static const struct proto echo = {
	.name = "echo",
	.refusal = echo_refusal,
	.open = echo_open,
	.input = echo_input,
	.timeout = echo_timeout,
	.drain = echo_drain,
	.close = echo_close,
};

struct fixture {
	struct ev		ev;
	struct conn_table	t;
	struct listener		l;
};

static struct fixture *
setup(size_t max, size_t per_ip, int family)
{
	static struct fixture f;
	struct cfg_listen a;
	struct err e;

	opened = closed = drained = timeouts = 0;
	consume_input = 1;
	drain_kills_next = 0;
	memset(&a, 0, sizeof a);
	a.family = family;
	if (family == AF_INET) {
		a.addr[0] = 127;
		a.addr[3] = 1;
	} else {
		a.addr[15] = 1;
	}
	assert_int_equal(ev_init(&f.ev, 1024, 64, &e), 0);
	assert_int_equal(conn_table_init(&f.t, &f.ev, max, per_ip, &e), 0);
	assert_int_equal(listener_open(&f.l, &f.t, &a, &echo, &e), 0);
	assert_true(f.l.addr.port != 0);
	return &f;
}

static void
teardown(struct fixture *f)
{
	listener_close(&f->l);
	conn_table_destroy(&f->t);
	ev_destroy(&f->ev);
}

static int
client(struct fixture *f, const char *src)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof ss);
	if (f->l.addr.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(f->l.addr.port);
		memcpy(&sin->sin_addr, f->l.addr.addr, 4);
		len = sizeof *sin;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(f->l.addr.port);
		memcpy(&s6->sin6_addr, f->l.addr.addr, 16);
		len = sizeof *s6;
	}
	fd = socket(f->l.addr.family, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	if (src != NULL) {	/* another loopback source address */
		struct sockaddr_in b;

		memset(&b, 0, sizeof b);
		b.sin_family = AF_INET;
		inet_pton(AF_INET, src, &b.sin_addr);
		assert_int_equal(bind(fd, (struct sockaddr *)&b, sizeof b), 0);
	}
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Runs the loop until `want` has arrived on fd (or EOF/timeout);
 * returns what was read, NUL-terminated, in out. */
static size_t
expect(struct fixture *f, int fd, const char *want, char *out, size_t cap)
{
	uint64_t end = ev_clock_ms() + WAIT_MS;
	size_t got = 0;

	while (ev_clock_ms() < end && got + 1 < cap) {
		ssize_t n;

		ev_run_once(&f->ev, 10);
		n = read(fd, out + got, cap - 1 - got);
		if (n > 0) {
			got += (size_t)n;
			out[got] = '\0';
			if (strstr(out, want) != NULL) {
				break;
			}
		} else if (n == 0) {
			break;
		}
	}
	out[got] = '\0';
	return got;
}

/* 1 when the server closed fd (EOF) within the wait. */
static int
closed_by_server(struct fixture *f, int fd)
{
	uint64_t end = ev_clock_ms() + WAIT_MS;
	char tmp[256];

	while (ev_clock_ms() < end) {
		ssize_t n;

		ev_run_once(&f->ev, 10);
		n = read(fd, tmp, sizeof tmp);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			return 1;
		}
	}
	return 0;
}

static void
pump(struct fixture *f, int ms)
{
	uint64_t end = ev_clock_ms() + (uint64_t)ms;

	while (ev_clock_ms() < end) {
		ev_run_once(&f->ev, 5);
	}
}

static void
test_greeting_echo_and_quit(void **state)
{
	struct fixture *f = setup(4, 4, AF_INET);
	char buf[256];
	int fd = client(f, NULL);

	(void)state;
	expect(f, fd, "220 hi\r\n", buf, sizeof buf);
	assert_string_equal(buf, "220 hi\r\n");
	/* Pipelined lines: all echoed, in order. */
	assert_int_equal(write(fd, "a\r\nbb\r\nccc\r\n", 12), 12);
	expect(f, fd, "ccc\r\n", buf, sizeof buf);
	assert_string_equal(buf, "a\r\nbb\r\nccc\r\n");
	assert_int_equal(write(fd, "QUIT\r\n", 6), 6);
	expect(f, fd, "221 bye\r\n", buf, sizeof buf);
	assert_string_equal(buf, "221 bye\r\n");
	assert_true(closed_by_server(f, fd));
	assert_int_equal(closed, 1);
	assert_int_equal(f->t.active, 0);
	close(fd);
	teardown(f);
}

static void
test_pool_exhaustion_refuses_with_protocol_line(void **state)
{
	struct fixture *f = setup(2, 10, AF_INET);
	char buf[256];
	int a = client(f, NULL), b = client(f, NULL), c;

	(void)state;
	expect(f, a, "220", buf, sizeof buf);
	expect(f, b, "220", buf, sizeof buf);
	c = client(f, NULL);
	expect(f, c, "421", buf, sizeof buf);
	assert_string_equal(buf, "421 full\r\n");
	assert_true(closed_by_server(f, c));
	assert_int_equal(f->t.active, 2);
	assert_int_equal(f->t.refused, 1);
	/* The two sessions still work. */
	assert_int_equal(write(a, "x\r\n", 3), 3);
	expect(f, a, "x\r\n", buf, sizeof buf);
	assert_string_equal(buf, "x\r\n");
	/* A slot freed is a slot reused. */
	close(b);
	pump(f, 50);
	assert_int_equal(f->t.active, 1);
	close(c);
	c = client(f, NULL);
	expect(f, c, "220", buf, sizeof buf);
	assert_string_equal(buf, "220 hi\r\n");
	close(a);
	close(c);
	pump(f, 50);
	assert_int_equal(pool_avail(&f->t.conns), 2);
	assert_int_equal(pool_avail(&f->t.bufs), 4);
	teardown(f);
}

static void
test_per_ip_limit(void **state)
{
	struct fixture *f = setup(8, 2, AF_INET);
	char buf[256];
	int a = client(f, "127.0.0.1"), b = client(f, "127.0.0.1");
	int c, d;

	(void)state;
	expect(f, a, "220", buf, sizeof buf);
	expect(f, b, "220", buf, sizeof buf);
	c = client(f, "127.0.0.1");
	expect(f, c, "421", buf, sizeof buf);
	assert_string_equal(buf, "421 per-ip\r\n");
	/* Another address is not affected. */
	d = client(f, "127.0.0.2");
	expect(f, d, "220", buf, sizeof buf);
	assert_string_equal(buf, "220 hi\r\n");
	/* When one closes, the address may connect again. */
	close(a);
	pump(f, 50);
	close(c);
	c = client(f, "127.0.0.1");
	expect(f, c, "220", buf, sizeof buf);
	assert_string_equal(buf, "220 hi\r\n");
	close(b);
	close(c);
	close(d);
	pump(f, 50);
	assert_int_equal(f->t.active, 0);
	teardown(f);
}

static void
test_per_ip_table_survives_many_addresses(void **state)
{
	struct fixture *f = setup(16, 1, AF_INET);
	char buf[256], src[32];

	(void)state;
	/* 200 distinct addresses, one at a time: slots are deleted and
	 * reused, the table never fills. */
	for (int i = 1; i <= 200; i++) {
		int fd;

		snprintf(src, sizeof src, "127.0.%d.%d", i / 200, i % 200 + 1);
		fd = client(f, src);
		expect(f, fd, "220", buf, sizeof buf);
		assert_string_equal(buf, "220 hi\r\n");
		close(fd);
		pump(f, 5);
	}
	pump(f, 50);
	assert_int_equal(f->t.active, 0);
	assert_int_equal(listen_ip_keys(&f->t), 0);
	teardown(f);
}

static void
test_idle_timeout(void **state)
{
	struct fixture *f = setup(4, 4, AF_INET);
	char buf[256];
	int fd = client(f, NULL);

	(void)state;
	expect(f, fd, "220", buf, sizeof buf);
	assert_non_null(f->t.live);
	conn_set_timeout(f->t.live, 100);
	expect(f, fd, "421 timeout", buf, sizeof buf);
	assert_string_equal(buf, "421 timeout\r\n");
	assert_true(closed_by_server(f, fd));
	assert_int_equal(timeouts, 1);
	close(fd);
	teardown(f);
}

/* A byte every 20 ms re-arms the idle timer each time: the session
 * deadline, armed with the first idle timeout, cuts it all the same. */
static void
test_deadline_cuts_a_slow_sender(void **state)
{
	struct fixture *f = setup(4, 4, AF_INET);
	char buf[256];
	int fd = client(f, NULL), cut = 0;
	uint64_t end = ev_clock_ms() + WAIT_MS;

	(void)state;
	expect(f, fd, "220", buf, sizeof buf);
	assert_non_null(f->t.live);
	conn_set_timeout(f->t.live, 200);
	while (ev_clock_ms() < end && !cut) {
		ssize_t n;

		(void)write(fd, "x", 1);
		pump(f, 20);
		n = read(fd, buf, sizeof buf - 1);
		if (n > 0) {
			buf[n] = '\0';
			cut = strstr(buf, "421 timeout") != NULL;
		}
	}
	assert_true(cut);
	assert_int_equal(timeouts, 1);
	assert_true(closed_by_server(f, fd));
	close(fd);
	teardown(f);
}

/* Once cleared (the client logged in), input re-arms the idle timer
 * and nothing else limits the session; an explicit deadline holds
 * whatever the input. */
static void
test_deadline_cleared_and_set(void **state)
{
	struct fixture *f = setup(4, 4, AF_INET);
	char buf[256];
	int fd = client(f, NULL);

	(void)state;
	expect(f, fd, "220", buf, sizeof buf);
	conn_set_timeout(f->t.live, 150);
	conn_clear_deadline(f->t.live);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(write(fd, "x", 1), 1);
		pump(f, 25);
	}
	assert_int_equal(timeouts, 0);
	assert_int_equal(f->t.active, 1);
	/* Later calls never arm it again by themselves. */
	conn_set_timeout(f->t.live, 150);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(write(fd, "y", 1), 1);
		pump(f, 25);
	}
	assert_int_equal(timeouts, 0);
	conn_set_deadline(f->t.live, 100);
	for (int i = 0; i < 20 && timeouts == 0; i++) {
		(void)write(fd, "z", 1);
		pump(f, 25);
	}
	assert_int_equal(timeouts, 1);
	assert_true(closed_by_server(f, fd));
	close(fd);
	teardown(f);
}

static void
test_drain_lets_sessions_say_goodbye(void **state)
{
	struct fixture *f = setup(4, 4, AF_INET);
	char buf[256];
	int a = client(f, NULL), b = client(f, NULL);

	(void)state;
	expect(f, a, "220", buf, sizeof buf);
	expect(f, b, "220", buf, sizeof buf);
	listener_close(&f->l);
	conn_table_drain(&f->t);
	expect(f, a, "421 draining", buf, sizeof buf);
	assert_string_equal(buf, "421 draining\r\n");
	assert_true(closed_by_server(f, a));
	assert_true(closed_by_server(f, b));
	assert_int_equal(drained, 2);
	assert_int_equal(f->t.active, 0);
	close(a);
	close(b);
	teardown(f);
}

/* Clients that left before the drain are dropped by the drain call
 * itself, without their hook (nobody would read a goodbye); those
 * still there are told. */
static void
test_drain_drops_peers_already_gone(void **state)
{
	struct fixture *f = setup(8, 8, AF_INET);
	char buf[256];
	int gone1 = client(f, NULL), here = client(f, NULL);
	int gone2 = client(f, NULL);

	(void)state;
	expect(f, gone1, "220", buf, sizeof buf);
	expect(f, here, "220", buf, sizeof buf);
	expect(f, gone2, "220", buf, sizeof buf);
	close(gone1);		/* FIN, greeting read: a clean EOF */
	shutdown(gone2, SHUT_WR);	/* half-closed, all it sent read */
	listener_close(&f->l);
	/* No loop turn in between: the EOFs wait unread on the sockets. */
	assert_int_equal(f->t.active, 3);
	conn_table_drain(&f->t);
	assert_int_equal(f->t.active, 1);
	assert_int_equal(drained, 1);
	assert_int_equal(closed, 2);	/* `here` is flushing its 421 */
	expect(f, here, "421 draining", buf, sizeof buf);
	assert_string_equal(buf, "421 draining\r\n");
	assert_true(closed_by_server(f, here));
	assert_int_equal(f->t.active, 0);
	close(here);
	close(gone2);
	teardown(f);
}

/* A connection already closing is not asked to drain again (its last
 * reply stays the last line); a hook that ends another connection
 * does not derail the walk over the table. */
static void
test_drain_skips_closing_and_survives_hooks(void **state)
{
	struct fixture *f = setup(8, 8, AF_INET);
	char buf[256];
	int fd[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		fd[i] = client(f, NULL);
		expect(f, fd[i], "220", buf, sizeof buf);
	}
	/* The newest connection is the head of the list: make it a
	 * closing one that cannot flush yet. */
	conn_write(f->t.live, "221 bye\r\n", 9);
	f->t.live->flags |= CONN_F_WBLOCK;	/* as if the socket were
						 * full */
	conn_close(f->t.live);
	assert_true(f->t.live->flags & CONN_F_CLOSING);
	f->t.live->flags &= ~CONN_F_WBLOCK;
	drain_kills_next = 1;
	listener_close(&f->l);
	conn_table_drain(&f->t);
	/* Of the three others, the first drained aborts its successor;
	 * the walk goes on to the last one. */
	assert_int_equal(drained, 2);
	pump(f, 100);
	assert_int_equal(f->t.active, 0);
	expect(f, fd[3], "221 bye", buf, sizeof buf);
	assert_string_equal(buf, "221 bye\r\n");
	for (int i = 0; i < 4; i++) {
		close(fd[i]);
	}
	teardown(f);
}

/* Every accepted connection ends with exactly one "disconnect" line,
 * with its reason, however it ends. */
static void
test_one_disconnect_line_each(void **state)
{
	struct fixture *f = setup(8, 8, AF_INET);
	char buf[256], logbuf[8192], path[] = "/tmp/test_conn_logXXXXXX";
	int logfd = mkstemp(path), saved = dup(STDERR_FILENO);
	int quit, peer, idle, drain, stuck, sz = 4096;
	static char big[CONN_BUF_SIZE];
	const char *p;
	ssize_t n;
	int count = 0, ok = 1;
	size_t left;

	(void)state;
	assert_true(logfd >= 0 && saved >= 0);
	unlink(path);
	/* The log goes to stderr: into the file for now (no cmocka
	 * assertion until it is back, or its report lands there too). */
	fflush(stderr);
	assert_int_equal(dup2(logfd, STDERR_FILENO), STDERR_FILENO);
	log_set_level(LOG_LVL_INFO);
	quit = client(f, NULL);
	expect(f, quit, "220", buf, sizeof buf);
	ok &= write(quit, "QUIT\r\n", 6) == 6;
	ok &= closed_by_server(f, quit);
	peer = client(f, NULL);
	expect(f, peer, "220", buf, sizeof buf);
	close(peer);
	pump(f, 50);
	idle = client(f, NULL);
	expect(f, idle, "220", buf, sizeof buf);
	conn_set_timeout(f->t.live, 50);
	ok &= closed_by_server(f, idle);
	drain = client(f, NULL);
	expect(f, drain, "220", buf, sizeof buf);
	/* One that does not read: still there when the grace is over. */
	stuck = client(f, NULL);
	setsockopt(stuck, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	expect(f, stuck, "220", buf, sizeof buf);
	setsockopt(f->t.live->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	memset(big, 'y', sizeof big);
	for (int i = 0; i < 1000 && !(f->t.live->flags & CONN_F_WBLOCK);
	    i++) {
		if (f->t.live->out.len == 0) {
			conn_write(f->t.live, big, sizeof big);
		}
		pump(f, 2);
	}
	ok &= (f->t.live->flags & CONN_F_WBLOCK) != 0;
	listener_close(&f->l);
	conn_table_drain(&f->t);
	pump(f, 100);
	left = f->t.active;
	conn_table_abort_all(&f->t);
	pump(f, 10);
	log_set_level(LOG_LVL_ERROR);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	n = pread(logfd, logbuf, sizeof logbuf - 1, 0);
	close(logfd);
	assert_true(n > 0);
	logbuf[n] = '\0';
	assert_true(ok);
	assert_int_equal(left, 1);	/* the one that does not read */
	for (p = logbuf; (p = strstr(p, ": disconnect")) != NULL; p++) {
		count++;
	}
	if (count != 5) {
		fputs(logbuf, stderr);
	}
	assert_int_equal(count, 5);
	assert_non_null(strstr(logbuf, "disconnect: closed\n"));
	assert_non_null(strstr(logbuf, "disconnect: peer closed\n"));
	assert_non_null(strstr(logbuf, "disconnect: idle timeout\n"));
	assert_non_null(strstr(logbuf, "disconnect: shutdown\n"));
	assert_non_null(strstr(logbuf, "disconnect: shutdown grace over\n"));
	close(quit);
	close(idle);
	close(drain);
	close(stuck);
	teardown(f);
}

static void
test_full_input_pauses_then_resumes(void **state)
{
	struct fixture *f = setup(4, 4, AF_INET);
	static char big[CONN_BUF_SIZE * 2];
	char buf[256];
	int fd = client(f, NULL);
	struct conn *c;

	(void)state;
	expect(f, fd, "220", buf, sizeof buf);
	c = f->t.live;
	consume_input = 0;
	memset(big, 'x', sizeof big);
	assert_int_equal(write(fd, big, sizeof big), (ssize_t)sizeof big);
	pump(f, 100);
	assert_true(c->flags & CONN_F_PAUSED);
	assert_int_equal(c->in.len, CONN_BUF_SIZE);
	/* Consuming resumes reading: the rest arrives. */
	conn_consume(c, CONN_BUF_SIZE);
	assert_false(c->flags & CONN_F_PAUSED);
	pump(f, 100);
	assert_int_equal(c->in.len, CONN_BUF_SIZE);
	close(fd);
	assert_true(closed_by_server(f, fd) || f->t.active == 0);
	pump(f, 50);
	teardown(f);
}

static void
test_ipv6_listener(void **state)
{
	struct fixture *f = setup(2, 2, AF_INET6);
	char buf[256];
	int fd = client(f, NULL);

	(void)state;
	expect(f, fd, "220", buf, sizeof buf);
	assert_string_equal(buf, "220 hi\r\n");
	assert_non_null(f->t.live);
	assert_int_equal(strncmp(f->t.live->peer, "[::1]:", 6), 0);
	close(fd);
	pump(f, 50);
	teardown(f);
}

static void
test_output_larger_than_socket_buffer(void **state)
{
	struct fixture *f = setup(2, 2, AF_INET);
	static char line[CONN_BUF_SIZE];
	char buf[256];
	int fd = client(f, NULL), sz = 4096;
	size_t total = 0;
	struct conn *c;

	(void)state;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	expect(f, fd, "220", buf, sizeof buf);
	c = f->t.live;
	/* Fill the output buffer; the loop flushes it as the client
	 * reads, waiting on EV_WRITE in between. */
	memset(line, 'y', sizeof line);
	assert_int_equal(conn_write(c, line, CONN_BUF_SIZE), 0);
	assert_int_equal(conn_write(c, "z", 1), -1);	/* full: refused */
	for (uint64_t end = ev_clock_ms() + WAIT_MS;
	    total < CONN_BUF_SIZE && ev_clock_ms() < end;) {
		char tmp[512];
		ssize_t n;

		ev_run_once(&f->ev, 5);
		n = read(fd, tmp, sizeof tmp);
		if (n > 0) {
			total += (size_t)n;
		}
	}
	assert_int_equal(total, CONN_BUF_SIZE);
	assert_int_equal(c->out.len, 0);
	close(fd);
	pump(f, 50);
	teardown(f);
}

/* A lent output buffer carries more than CONN_BUF_SIZE at once, is
 * refused while bytes are queued, comes back only once empty, and a
 * connection closed while it is lent gives its own block back. */
static void
test_lent_output_buffer(void **state)
{
	struct fixture *f = setup(2, 2, AF_INET);
	static char big[4 * CONN_BUF_SIZE], line[3 * CONN_BUF_SIZE];
	char buf[256];
	int fd = client(f, NULL);
	size_t total = 0, avail;
	struct conn *c;

	(void)state;
	expect(f, fd, "220", buf, sizeof buf);
	c = f->t.live;
	assert_int_equal(conn_write(c, "x", 1), 0);
	assert_int_equal(conn_out_lend(c, big, sizeof big), -1); /* queued */
	pump(f, 50);
	assert_int_equal(read(fd, buf, sizeof buf), 1);
	assert_int_equal(conn_out_lend(c, big, sizeof big), 0);
	assert_int_equal(conn_out_lend(c, big, sizeof big), -1); /* twice */
	memset(line, 'y', sizeof line);
	assert_int_equal(conn_write(c, line, sizeof line), 0);
	assert_int_equal(conn_out_reclaim(c), -1);	/* not sent yet */
	for (uint64_t end = ev_clock_ms() + WAIT_MS;
	    total < sizeof line && ev_clock_ms() < end;) {
		char tmp[4096];
		ssize_t n;

		ev_run_once(&f->ev, 5);
		n = read(fd, tmp, sizeof tmp);
		if (n > 0) {
			total += (size_t)n;
		}
	}
	assert_int_equal(total, sizeof line);
	assert_int_equal(conn_out_reclaim(c), 0);
	assert_int_equal(c->out.cap, CONN_BUF_SIZE);
	assert_true(c->out.data != big);
	/* Lent again, then the client goes: the block returns anyway. */
	avail = pool_avail(&f->t.bufs);
	assert_int_equal(conn_out_lend(c, big, sizeof big), 0);
	close(fd);
	pump(f, 50);
	assert_int_equal(pool_avail(&f->t.bufs), avail + 2);
	teardown(f);
}

/* Pre-flush hooks: bounded, run in the order added, deletable (also
 * from a running hook) without the next hook missing its turn. */
static char hook_trace[16];
static size_t hook_n;
static struct conn_table *hook_table;

static void
hook_mark(void *arg)
{
	if (hook_n + 1 < sizeof hook_trace) {
		hook_trace[hook_n++] = *(const char *)arg;
		hook_trace[hook_n] = '\0';
	}
}

static void
hook_del_self(void *arg)
{
	hook_mark(arg);
	assert_int_equal(conn_table_del_pre_flush(hook_table, hook_del_self,
	    arg), 0);
}

static void
test_pre_flush_hooks(void **state)
{
	struct fixture *f = setup(2, 2, AF_INET);
	static const char a = 'a', b = 'b', c = 'c', d = 'd', x = 'x';

	(void)state;
	hook_n = 0;
	hook_trace[0] = '\0';
	hook_table = &f->t;
	assert_int_equal(conn_table_add_pre_flush(&f->t, hook_mark,
	    (void *)&a), 0);
	assert_int_equal(conn_table_add_pre_flush(&f->t, hook_del_self,
	    (void *)&b), 0);
	assert_int_equal(conn_table_add_pre_flush(&f->t, hook_mark,
	    (void *)&c), 0);
	assert_int_equal(conn_table_add_pre_flush(&f->t, hook_mark,
	    (void *)&d), 0);
	/* CONN_PRE_FLUSH_MAX (4) taken: the fifth is refused. */
	assert_int_equal(conn_table_add_pre_flush(&f->t, hook_mark,
	    (void *)&x), -1);
	/* The loop runs them before it sleeps; b removes itself. */
	ev_run_once(&f->ev, 0);
	assert_string_equal(hook_trace, "abcd");
	ev_run_once(&f->ev, 0);
	assert_string_equal(hook_trace, "abcdacd");
	/* Deleting an absent hook fails; a freed slot is reused. */
	assert_int_equal(conn_table_del_pre_flush(&f->t, hook_mark,
	    (void *)&x), -1);
	assert_int_equal(conn_table_del_pre_flush(&f->t, hook_mark,
	    (void *)&a), 0);
	assert_int_equal(conn_table_add_pre_flush(&f->t, hook_mark,
	    (void *)&x), 0);
	hook_n = 0;
	conn_table_run_pre_flush(&f->t);
	assert_string_equal(hook_trace, "xcd");
	teardown(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting_echo_and_quit),
		cmocka_unit_test(test_pool_exhaustion_refuses_with_protocol_line),
		cmocka_unit_test(test_per_ip_limit),
		cmocka_unit_test(test_per_ip_table_survives_many_addresses),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_deadline_cuts_a_slow_sender),
		cmocka_unit_test(test_deadline_cleared_and_set),
		cmocka_unit_test(test_drain_lets_sessions_say_goodbye),
		cmocka_unit_test(test_drain_drops_peers_already_gone),
		cmocka_unit_test(test_drain_skips_closing_and_survives_hooks),
		cmocka_unit_test(test_one_disconnect_line_each),
		cmocka_unit_test(test_full_input_pauses_then_resumes),
		cmocka_unit_test(test_ipv6_listener),
		cmocka_unit_test(test_output_larger_than_socket_buffer),
		cmocka_unit_test(test_lent_output_buffer),
		cmocka_unit_test(test_pre_flush_hooks),
	};

	log_set_level(LOG_LVL_ERROR);	/* refusals log as warnings */
	return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
