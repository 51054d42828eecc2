/* SPDX-License-Identifier: ISC */
/*
 * test_notify.c - sd_notify written by hand (core/notify.h): each row
 * names an address form and a state; a datagram socket this test owns
 * (a path in a temporary directory, or an abstract name) must receive
 * exactly the state, or the call must fail without sending.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/notify.h"

enum form {
	F_PATH,		/* the test's socket, by path */
	F_ABSTRACT,	/* the test's socket, @abstract */
	F_LITERAL	/* addr as written in the row */
};

static const struct {
	const char	*desc;
	enum form	 form;
	const char	*addr;	/* F_LITERAL only */
	const char	*state;
	int		 rc;
	int		 received;
} cases[] = {
	{ "READY=1 to a path", F_PATH, NULL, "READY=1", 0, 1 },
	{ "STOPPING=1 to a path", F_PATH, NULL, "STOPPING=1", 0, 1 },
	{ "two lines in one datagram", F_PATH, NULL,
	  "RELOADING=1\nSTATUS=reloading", 0, 1 },
	{ "READY=1 to an abstract name", F_ABSTRACT, NULL, "READY=1", 0, 1 },
	{ "unset: nothing sent, no error", F_LITERAL, NULL, "READY=1", 0,
	  0 },
	{ "empty: nothing sent, no error", F_LITERAL, "", "READY=1", 0, 0 },
	{ "relative path refused", F_LITERAL, "run/notify", "READY=1", -1,
	  0 },
	{ "bare @ refused", F_LITERAL, "@", "READY=1", -1, 0 },
	{ "bare / refused", F_LITERAL, "/", "READY=1", -1, 0 },
	{ "vsock form refused", F_LITERAL, "vsock:2:1234", "READY=1", -1,
	  0 },
	{ "path longer than sun_path refused", F_LITERAL,
	  "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "READY=1", -1, 0 },
	{ "socket that does not exist", F_LITERAL,
	  "/nonexistent/wren-notify", "READY=1", -1, 0 },
	{ "abstract name nobody bound", F_LITERAL,
	  "@wren-test-nobody-binds-this", "READY=1", -1, 0 },
};

static int
bind_dgram(const char *addr, struct sockaddr_un *sa)
{
	socklen_t len;
	size_t n = strlen(addr);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, addr, n);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (addr[0] == '@') {
		sa->sun_path[0] = '\0';
	} else {
		len++;
	}
	assert_int_equal(bind(fd, (struct sockaddr *)sa, len), 0);
	return fd;
}

static void
test_cases(void **state)
{
	char dir[] = "/tmp/wren-notify-XXXXXX";
	char path[128], abstract[64], got[256];
	struct sockaddr_un sa;
	int pfd, afd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof path, "%s/notify", dir);
	(void)snprintf(abstract, sizeof abstract, "@wren-test-notify-%d",
	    (int)getpid());
	pfd = bind_dgram(path, &sa);
	afd = bind_dgram(abstract, &sa);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *addr = cases[i].form == F_PATH ? path :
		    cases[i].form == F_ABSTRACT ? abstract : cases[i].addr;
		int fd = cases[i].form == F_ABSTRACT ? afd : pfd;
		struct err e;
		ssize_t n;

		e.msg[0] = '\0';
		if (notify_send_to(addr, cases[i].state, &e) !=
		    cases[i].rc) {
			fail_msg("%s: rc, %s", cases[i].desc, e.msg);
		}
		if (cases[i].rc == -1 && e.msg[0] == '\0') {
			fail_msg("%s: no reason given", cases[i].desc);
		}
		n = recv(fd, got, sizeof got - 1, 0);
		if (!cases[i].received) {
			if (n != -1 || recv(afd, got, sizeof got, 0) != -1) {
				fail_msg("%s: something sent", cases[i].desc);
			}
			continue;
		}
		if (n < 0) {
			fail_msg("%s: nothing received", cases[i].desc);
		}
		got[n] = '\0';
		if (strcmp(got, cases[i].state) != 0) {
			fail_msg("%s: got \"%s\"", cases[i].desc, got);
		}
	}
	close(pfd);
	close(afd);
	unlink(path);
	rmdir(dir);
}

/* notify_send reads $NOTIFY_SOCKET; unset, it is a quiet no-op. */
static void
test_env(void **state)
{
	char dir[] = "/tmp/wren-notify-XXXXXX";
	char path[128], got[64];
	struct sockaddr_un sa;
	struct err e;
	ssize_t n;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof path, "%s/notify", dir);
	fd = bind_dgram(path, &sa);
	assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
	assert_int_equal(notify_send("READY=1", &e), 0);
	assert_int_equal(recv(fd, got, sizeof got, 0), -1);
	assert_int_equal(setenv("NOTIFY_SOCKET", path, 1), 0);
	assert_int_equal(notify_send("STOPPING=1", &e), 0);
	n = recv(fd, got, sizeof got - 1, 0);
	assert_int_equal(n, 10);
	got[n] = '\0';
	assert_string_equal(got, "STOPPING=1");
	assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
	close(fd);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
