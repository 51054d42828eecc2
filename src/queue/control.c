/* SPDX-License-Identifier: ISC */
/*
 * control.c - the queue's control socket (protocol in control.h): a
 * unix stream socket on the event loop, a few fixed client slots, one
 * request line each, answered by the queue runner's functions.
 *
 * The request line is parsed by control_parse.c (sans-I/O). Peers
 * are checked with SO_PEERCRED (unix(7)) on top of the socket's mode
 * 0600: the file's owner is whoever created it, and a server started
 * by root with `user` empty must still refuse other users.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "queue/control.h"

#define CONTROL_BACKLOG	8

struct control_client {
	int			 fd;		/* -1: free slot */
	size_t			 len;
	char			 buf[CONTROL_LINE_MAX];
	struct timer		 timer;
	struct ev		*ev;
};

struct control {
	int				 fd;	/* listening, -1: off */
	char				 path[sizeof(((struct sockaddr_un *)0)
					    ->sun_path)];
	const struct control_ops	*ops;
	struct control_client		 c[CONTROL_CONNS];
};

static struct control	ctl = { .fd = -1 };

static int	socket_in_use(const char *);
static void	on_accept(struct ev *, int, unsigned, void *);
static void	on_read(struct ev *, int, unsigned, void *);
static void	on_timeout(struct timer *, void *);
static void	answer(struct control_client *, const char *, size_t);
static void	client_reply(struct control_client *, int, const char *);
static void	client_close(struct control_client *);
static int	peer_allowed(int, unsigned *);

int
control_init(struct ev *ev, const char *data_dir,
    const struct control_ops *ops, struct err *e)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd;

	if (ctl.fd != -1) {
		return err_set(e, "control socket already open");
	}
	if (fmt(ctl.path, sizeof ctl.path, "%s/%s", data_dir,
	    CONTROL_SOCKET) >= (int)sizeof ctl.path) {
		return err_set(e, "%s/%s: path too long for a unix socket",
		    data_dir, CONTROL_SOCKET);
	}
	if (lstat(ctl.path, &st) == 0) {
		/* Never remove what is not a socket, nor the socket of a
		 * server that still answers (two servers, one queue). */
		if (!S_ISSOCK(st.st_mode)) {
			return err_set(e, "%s: exists and is not a socket",
			    ctl.path);
		}
		if (socket_in_use(ctl.path)) {
			return err_set(e, "%s: another server is running on "
			    "this data_dir", ctl.path);
		}
		if (unlink(ctl.path) == -1) {
			return err_set(e, "%s: %s", ctl.path, strerror(errno));
		}
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, ctl.path, strlen(ctl.path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return err_set(e, "control socket: %s", strerror(errno));
	}
	old = umask(0177);	/* born 0600: no window with a wider mode */
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		umask(old);
		err_set(e, "%s: %s", ctl.path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(ctl.path, 0600) == -1 || listen(fd, CONTROL_BACKLOG) == -1
	    || ev_add_fd(ev, fd, EV_READ, on_accept, &ctl) == -1) {
		err_set(e, "%s: %s", ctl.path, strerror(errno));
		close(fd);
		unlink(ctl.path);
		return -1;
	}
	ctl.fd = fd;
	ctl.ops = ops;
	for (size_t i = 0; i < CONTROL_CONNS; i++) {
		ctl.c[i].fd = -1;
		ctl.c[i].ev = ev;
		timer_init(&ctl.c[i].timer, on_timeout, &ctl.c[i]);
	}
	return 0;
}

void
control_shutdown(struct ev *ev)
{
	if (ctl.fd == -1) {
		return;
	}
	for (size_t i = 0; i < CONTROL_CONNS; i++) {
		client_close(&ctl.c[i]);
	}
	ev_del_fd(ev, ctl.fd);
	close(ctl.fd);
	ctl.fd = -1;
	(void)unlink(ctl.path);
}

/* 1 when something accepts connections on path. */
static int
socket_in_use(const char *path)
{
	struct sockaddr_un sa;
	int fd, rc;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return 0;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	close(fd);
	return rc == 0;
}

static void
on_accept(struct ev *ev, int lfd, unsigned events, void *arg)
{
	(void)events;
	(void)arg;
	/* Bounded per wake: the loop has other work. */
	for (int n = 0; n < CONTROL_CONNS + 1; n++) {
		struct control_client *c = NULL;
		unsigned uid;
		int fd;

		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED) {
				log_warn("control: accept");
			}
			return;
		}
		if (!peer_allowed(fd, &uid)) {
			static const char no[] = "error permission denied\n";

			log_warnx("control: uid %u refused", uid);
			(void)!send(fd, no, sizeof no - 1, MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		for (size_t i = 0; i < CONTROL_CONNS; i++) {
			if (ctl.c[i].fd == -1) {
				c = &ctl.c[i];
				break;
			}
		}
		if (c == NULL) {
			static const char busy[] = "error busy, try again\n";

			(void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		if (ev_add_fd(ev, fd, EV_READ, on_read, c) == -1 ||
		    ev_timer_in(ev, &c->timer, CONTROL_TIMEOUT_MS) == -1) {
			log_warnx("control: no room for a client");
			client_close(c);
		}
	}
}

static int
peer_allowed(int fd, unsigned *uid)
{
	struct ucred cr;
	socklen_t len = sizeof cr;

	*uid = (unsigned)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1 ||
	    len != sizeof cr) {
		return 0;
	}
	*uid = (unsigned)cr.uid;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void
on_read(struct ev *ev, int fd, unsigned events, void *arg)
{
	struct control_client *c = arg;
	const char *nl;
	ssize_t n;

	(void)ev;
	(void)events;
	n = read(fd, c->buf + c->len, sizeof c->buf - c->len);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			client_close(c);
		}
		return;
	}
	if (n == 0) {
		/* Gone before a whole line: nobody to answer. */
		client_close(c);
		return;
	}
	nl = memchr(c->buf + c->len, '\n', (size_t)n);
	c->len += (size_t)n;
	if (nl != NULL) {
		answer(c, c->buf, (size_t)(nl - c->buf));
	} else if (c->len == sizeof c->buf) {
		client_reply(c, -1, control_strerror(CONTROL_E_LONG));
	}
}

static void
on_timeout(struct timer *t, void *arg)
{
	struct control_client *c = arg;

	(void)t;
	client_reply(c, -1, "timeout");
}

/* Runs one request and replies. */
static void
answer(struct control_client *c, const char *line, size_t len)
{
	const struct control_ops *ops = ctl.ops;
	char msg[CONTROL_TEXT_MAX];
	struct control_req req;
	enum control_err pe;
	int rc = -1;

	msg[0] = '\0';
	pe = control_parse(line, len, &req);
	if (pe != CONTROL_OK) {
		log_info("control: refused: %s", control_strerror(pe));
		client_reply(c, -1, control_strerror(pe));
		return;
	}
	switch (req.verb) {
	case CONTROL_PING:
		(void)fmt(msg, sizeof msg, "wren %d", (int)getpid());
		rc = 0;
		break;
	case CONTROL_FLUSH:
		if (ops != NULL && ops->flush != NULL) {
			rc = ops->flush(msg, sizeof msg);
		} else {
			(void)fmt(msg, sizeof msg, "not supported");
		}
		break;
	case CONTROL_RETRY:
	case CONTROL_DELETE:
	case CONTROL_BOUNCE: {
		int (*fn)(const char *, char *, size_t) = NULL;

		if (ops != NULL) {
			fn = req.verb == CONTROL_RETRY ? ops->retry :
			    req.verb == CONTROL_DELETE ? ops->delete :
			    ops->bounce;
		}
		if (fn != NULL) {
			rc = fn(req.id, msg, sizeof msg);
		} else {
			(void)fmt(msg, sizeof msg, "not supported");
		}
		break;
	}
	}
	msg[sizeof msg - 1] = '\0';
	log_info("control: %s%s%s: %s%s%s", control_verb_name(req.verb),
	    req.id[0] ? " " : "", req.id, rc == 0 ? "ok" : "error",
	    msg[0] ? ": " : "", msg);
	client_reply(c, rc, msg);
}

/* Writes "ok[ text]\n" or "error[ text]\n" and closes. The reply is
 * short and the socket's buffer empty, so one send suffices; a client
 * that cannot take it loses it. */
static void
client_reply(struct control_client *c, int rc, const char *text)
{
	char out[CONTROL_REPLY_MAX];
	size_t n = 0;

	n += (size_t)fmt(out, sizeof out, "%s", rc == 0 ? "ok" : "error");
	if (text[0] != '\0') {
		n += (size_t)fmt(out + n, sizeof out - n - 1, " %s", text);
		if (n > sizeof out - 2) {
			n = sizeof out - 2;
		}
	}
	/* Text from the runner may hold anything: one line only. */
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)out[i] < 0x20) {
			out[i] = ' ';
		}
	}
	out[n++] = '\n';
	(void)!send(c->fd, out, n, MSG_NOSIGNAL);
	client_close(c);
}

static void
client_close(struct control_client *c)
{
	if (c->fd == -1) {
		return;
	}
	ev_timer_cancel(c->ev, &c->timer);
	ev_del_fd(c->ev, c->fd);
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}
