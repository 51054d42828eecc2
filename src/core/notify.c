/* SPDX-License-Identifier: ISC */
/*
 * notify.c - sd_notify(3) without libsystemd: the state text is one
 * datagram sent to the AF_UNIX socket systemd passes in $NOTIFY_SOCKET
 * (see systemd's sd_notify(3), "Notes": an absolute path or, with a
 * leading '@', an abstract-namespace name). The socket is opened per
 * message: the server notifies a handful of times in its life.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

static int	notify_addr(const char *, struct sockaddr_un *, socklen_t *,
		    struct err *);

int
notify_send(const char *state, struct err *e)
{
	return notify_send_to(getenv("NOTIFY_SOCKET"), state, e);
}

int
notify_send_to(const char *addr, const char *state, struct err *e)
{
	struct sockaddr_un sa;
	socklen_t len = 0;
	size_t n = strlen(state);
	ssize_t w;
	int fd, saved;

	if (addr == NULL || addr[0] == '\0') {
		return 0;
	}
	if (notify_addr(addr, &sa, &len, e) == -1) {
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		return err_set(e, "notify: socket: %s", strerror(errno));
	}
	do {
		w = sendto(fd, state, n, MSG_NOSIGNAL,
		    (const struct sockaddr *)&sa, len);
	} while (w == -1 && errno == EINTR);
	saved = errno;
	(void)close(fd);
	if (w == -1) {
		return err_set(e, "notify: %s: %s", addr, strerror(saved));
	}
	if ((size_t)w != n) {
		return err_set(e, "notify: %s: short send", addr);
	}
	return 0;
}

/* Fills sa and its length from "/path" or "@abstract". An abstract
 * name's length is counted exactly: trailing NULs would be part of
 * the name and miss systemd's socket. */
static int
notify_addr(const char *addr, struct sockaddr_un *sa, socklen_t *len,
    struct err *e)
{
	size_t n = strlen(addr);

	if (addr[0] != '/' && addr[0] != '@') {
		return err_set(e, "notify: NOTIFY_SOCKET is neither an "
		    "absolute path nor @abstract");
	}
	if (n < 2 || n >= sizeof sa->sun_path) {
		return err_set(e, "notify: NOTIFY_SOCKET of %zu bytes does "
		    "not fit", n);
	}
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, addr, n);
	if (addr[0] == '@') {
		sa->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    n + 1);
	}
	return 0;
}
