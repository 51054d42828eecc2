/* SPDX-License-Identifier: ISC */
/*
 * test_control.c - the queue's control socket (queue/control.h): the
 * request line parser as a table (at least half of it bad or hostile
 * input, each copied to a heap block of exactly its length so that
 * ASan catches a read past the end), then the server on a real event
 * loop in a temporary directory: replies, the ops called, bounds,
 * busy slots, the socket's mode, and a stale or live socket at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/ev.h"
#include "queue/control.h"
#include "testutil.h"

/* --- control_parse ------------------------------------------------ */

struct parse_case {
	const char		*desc;
	struct text		 in;
	enum control_err	 err;
	enum control_verb	 verb;
	const char		*id;
};

static const struct parse_case parse_cases[] = {
	{ "ping", T("ping"), CONTROL_OK, CONTROL_PING, "" },
	{ "flush", T("flush"), CONTROL_OK, CONTROL_FLUSH, "" },
	{ "flush with CR", T("flush\r"), CONTROL_OK, CONTROL_FLUSH, "" },
	{ "retry an id", T("retry 18C3A2F10000A"), CONTROL_OK,
	  CONTROL_RETRY, "18C3A2F10000A" },
	{ "delete an id", T("delete 0"), CONTROL_OK, CONTROL_DELETE, "0" },
	{ "bounce an id with CR", T("bounce ABCDEF\r"), CONTROL_OK,
	  CONTROL_BOUNCE, "ABCDEF" },
	{ "a 31-digit id: the longest",
	  TF("retry ", "F", 31, ""), CONTROL_OK, CONTROL_RETRY,
	  "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" },
	{ "empty line", T(""), CONTROL_E_EMPTY, 0, NULL },
	{ "only a CR", T("\r"), CONTROL_E_EMPTY, 0, NULL },
	{ "a 32-digit id is too long", TF("retry ", "F", 32, ""),
	  CONTROL_E_ID, 0, NULL },
	{ "over the line bound", TF("retry ", "F", 100, ""),
	  CONTROL_E_LONG, 0, NULL },
	{ "upper-case verb", T("FLUSH"), CONTROL_E_VERB, 0, NULL },
	{ "unknown verb", T("frob"), CONTROL_E_VERB, 0, NULL },
	{ "a verb's prefix", T("flus"), CONTROL_E_VERB, 0, NULL },
	{ "a verb with a suffix", T("flushx"), CONTROL_E_VERB, 0, NULL },
	{ "leading space", T(" flush"), CONTROL_E_VERB, 0, NULL },
	{ "flush takes no argument", T("flush ABC"), CONTROL_E_EXTRA, 0,
	  NULL },
	{ "ping with a trailing space", T("ping "), CONTROL_E_EXTRA, 0,
	  NULL },
	{ "retry without id", T("retry"), CONTROL_E_NO_ID, 0, NULL },
	{ "retry with an empty id", T("retry "), CONTROL_E_NO_ID, 0, NULL },
	{ "lower-case hex is not an id", T("delete abc"), CONTROL_E_ID, 0,
	  NULL },
	{ "a path is not an id", T("delete ../../etc/passwd"), CONTROL_E_ID,
	  0, NULL },
	{ "two spaces", T("retry  ABC"), CONTROL_E_ID, 0, NULL },
	{ "two ids", T("retry ABC DEF"), CONTROL_E_ID, 0, NULL },
	{ "NUL inside", TN("retry AB\0C"), CONTROL_E_BYTE, 0, NULL },
	{ "NUL after the verb", TN("flush\0"), CONTROL_E_BYTE, 0, NULL },
	{ "a tab", T("retry\tABC"), CONTROL_E_BYTE, 0, NULL },
	{ "CR in the middle", T("fl\rush"), CONTROL_E_BYTE, 0, NULL },
	{ "8-bit octet", T("flush\xc3\xa9"), CONTROL_E_BYTE, 0, NULL },
	{ "DEL", T("flush\x7f"), CONTROL_E_BYTE, 0, NULL },
};

static void
test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0];
	    i++) {
		const struct parse_case *c = &parse_cases[i];
		struct control_req req;
		enum control_err got;
		size_t len;
		char *in = build(&c->in, &len);

		got = control_parse(in, len, &req);
		if (got != c->err) {
			fail_msg("%s: got \"%s\", want \"%s\"", c->desc,
			    control_strerror(got), control_strerror(c->err));
		}
		if (c->err == CONTROL_OK) {
			if (req.verb != c->verb ||
			    strcmp(req.id, c->id) != 0) {
				fail_msg("%s: got %s \"%s\"", c->desc,
				    control_verb_name(req.verb), req.id);
			}
		}
		free(in);
	}
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(control_verb_name(CONTROL_BOUNCE), "bounce");
	assert_string_equal(control_verb_name((enum control_verb)99), "?");
	assert_string_equal(control_strerror(CONTROL_E_VERB),
	    "unknown command");
	assert_string_equal(control_strerror((enum control_err)99),
	    "error");
}

/* --- the server on a loop ----------------------------------------- */

static char	calls[TRACE_MAX];
static int	op_rc;

static int
op_flush(char *msg, size_t cap)
{
	trace_add(calls, "flush;");
	snprintf(msg, cap, "2 messages to retry now");
	return op_rc;
}

static int
op_retry(const char *id, char *msg, size_t cap)
{
	trace_add(calls, "retry %s;", id);
	if (op_rc == -1) {
		snprintf(msg, cap, "no message %s\nsecond line", id);
	}
	return op_rc;
}

static int
op_delete(const char *id, char *msg, size_t cap)
{
	(void)msg;
	(void)cap;
	trace_add(calls, "delete %s;", id);
	return op_rc;
}

static const struct control_ops ops = {
	op_flush, op_retry, op_delete, NULL
};

struct fixture {
	struct ev	ev;
	char		dir[64];
	char		path[128];
};

static int
setup(void **state)
{
	static struct fixture f;
	struct err e;

	memset(&f, 0, sizeof f);
	snprintf(f.dir, sizeof f.dir, "/tmp/wren-test-control-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof f.path, "%s/control", f.dir);
	if (ev_init(&f.ev, 256, 64, &e) == -1) {
		fail_msg("%s", e.msg);
	}
	calls[0] = '\0';
	op_rc = 0;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	control_shutdown(&f->ev);
	ev_destroy(&f->ev);
	unlink(f->path);
	rmdir(f->dir);
	return 0;
}

static void
start(struct fixture *f)
{
	struct err e;

	if (control_init(&f->ev, f->dir, &ops, &e) == -1) {
		fail_msg("control_init: %s", e.msg);
	}
}

static int
client(const struct fixture *f)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

/* Turns the loop until fd has the whole reply (the server closes). */
static void
reply(struct fixture *f, int fd, char *out, size_t cap)
{
	struct timeval tv = { 0, 10000 };
	size_t len = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	for (int turn = 0; turn < 200; turn++) {
		ssize_t n;

		ev_run_once(&f->ev, 10);
		n = read(fd, out + len, cap - 1 - len);
		if (n == 0) {
			break;
		}
		if (n > 0) {
			len += (size_t)n;
		}
	}
	out[len] = '\0';
	close(fd);
}

static void
ask(struct fixture *f, const char *req, size_t len, char *out, size_t cap)
{
	int fd = client(f);

	assert_int_equal(write(fd, req, len), (ssize_t)len);
	reply(f, fd, out, cap);
}

struct rt_case {
	const char	*desc;
	const char	*req;
	int		 rc;		/* what the ops return */
	const char	*want;
	const char	*calls;
};

static const struct rt_case rt_cases[] = {
	{ "flush", "flush\n", 0, "ok 2 messages to retry now\n", "flush;" },
	{ "flush with CR LF", "flush\r\n", 0,
	  "ok 2 messages to retry now\n", "flush;" },
	{ "retry, ok without text", "retry 1A2B\n", 0, "ok\n",
	  "retry 1A2B;" },
	{ "retry refused: the text is one line", "retry 1A2B\n", -1,
	  "error no message 1A2B second line\n", "retry 1A2B;" },
	{ "delete", "delete FF\n", 0, "ok\n", "delete FF;" },
	{ "bounce has no op here", "bounce FF\n", 0,
	  "error not supported\n", "" },
	{ "unknown command", "frob\n", 0, "error unknown command\n", "" },
	{ "bad id", "delete ../x\n", 0, "error not a queue id\n", "" },
	{ "NUL", "flu\0sh\n", 0, "error invalid octet in request\n", "" },
	{ "only the first line is run", "retry AB\nflush\n", 0, "ok\n",
	  "retry AB;" },
	{ "no LF within the bound",
	  "flushflushflushflushflushflushflushflushflushflushflushflush"
	  "flush", 0, "error request too long\n", "" },
};

static void
test_requests(void **state)
{
	struct fixture *f = *state;
	char out[CONTROL_REPLY_MAX + 1];

	start(f);
	for (size_t i = 0; i < sizeof rt_cases / sizeof rt_cases[0]; i++) {
		const struct rt_case *c = &rt_cases[i];
		size_t len = strlen(c->req);

		if (strcmp(c->desc, "NUL") == 0) {
			len = 7;
		}
		calls[0] = '\0';
		op_rc = c->rc;
		ask(f, c->req, len, out, sizeof out);
		if (strcmp(out, c->want) != 0 ||
		    strcmp(calls, c->calls) != 0) {
			fail_msg("%s: got \"%s\" calls \"%s\", want \"%s\" "
			    "calls \"%s\"", c->desc, out, calls, c->want,
			    c->calls);
		}
	}
	ask(f, "ping\n", 5, out, sizeof out);
	assert_true(strncmp(out, "ok wren ", 8) == 0);
}

static void
test_socket_mode_and_split_line(void **state)
{
	struct fixture *f = *state;
	char out[CONTROL_REPLY_MAX + 1];
	struct stat st;
	int fd;

	start(f);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	/* A request in pieces, the loop turning between them. */
	fd = client(f);
	assert_int_equal(write(fd, "ret", 3), 3);
	ev_run_once(&f->ev, 10);
	assert_int_equal(write(fd, "ry 0F", 5), 5);
	ev_run_once(&f->ev, 10);
	assert_int_equal(write(fd, "\n", 1), 1);
	reply(f, fd, out, sizeof out);
	assert_string_equal(out, "ok\n");
	assert_string_equal(calls, "retry 0F;");
}

static void
test_busy_and_silent_clients(void **state)
{
	struct fixture *f = *state;
	char out[CONTROL_REPLY_MAX + 1];
	int idle[CONTROL_CONNS];

	start(f);
	for (size_t i = 0; i < CONTROL_CONNS; i++) {
		idle[i] = client(f);
		ev_run_once(&f->ev, 10);
	}
	/* Every slot holds a silent client: the next one is told. */
	ask(f, "flush\n", 6, out, sizeof out);
	assert_string_equal(out, "error busy, try again\n");
	assert_string_equal(calls, "");
	/* A client that hangs up frees its slot. */
	close(idle[0]);
	for (int t = 0; t < 5; t++) {
		ev_run_once(&f->ev, 10);
	}
	ask(f, "flush\n", 6, out, sizeof out);
	assert_string_equal(out, "ok 2 messages to retry now\n");
	for (size_t i = 1; i < CONTROL_CONNS; i++) {
		close(idle[i]);
	}
}

static void
test_stale_live_and_foreign_files(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sa;
	struct err e;
	int fd;

	/* A socket left by a dead server is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);
	start(f);
	/* A live one is not: a second server on the same data_dir. */
	assert_int_equal(control_init(&f->ev, f->dir, &ops, &e), -1);
	control_shutdown(&f->ev);
	assert_int_equal(access(f->path, F_OK), -1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(control_init(&f->ev, f->dir, &ops, &e), -1);
	assert_non_null(strstr(e.msg, "another server"));
	close(fd);
	unlink(f->path);
	/* Nor is a file that is not a socket. */
	fd = open(f->path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(control_init(&f->ev, f->dir, &ops, &e), -1);
	assert_non_null(strstr(e.msg, "not a socket"));
	assert_int_equal(access(f->path, F_OK), 0);
	unlink(f->path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_requests, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_socket_mode_and_split_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_and_silent_clients,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_stale_live_and_foreign_files, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
