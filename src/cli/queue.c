/* SPDX-License-Identifier: ISC */
/*
 * queue.c - `wren queue` (like mailq, postcat -q, postqueue -f/-i and
 * postsuper -d): inspects and drives the outbound queue under
 * data_dir.
 *
 *   list            every message with its pending recipients (files)
 *   show ID         its envelope in words and the message (files);
 *                   control characters, escape sequences included,
 *                   are written as \xNN unless -r (raw) is given
 *   flush           try every deferred message now
 *   retry ID        try that message now
 *   delete ID       remove it, no bounce
 *   bounce ID       fail its pending recipients: one bounce to the
 *                   sender
 *
 * flush, retry, delete and bounce go to the running server through
 * its control socket (queue/control.h), which owns the queue while it
 * runs. When no server answers there (no socket, or a stale one),
 * delete removes the files, and flush, retry and bounce append an
 * `admin` line to the envelope (queue/envelope.h) that the server
 * acts on when it next starts.
 */
#include <errno.h>
#include <dirent.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/fmt.h"
#include "queue/control.h"
#include "queue/envelope.h"
#include "queue/spool.h"

#define QUEUE_USAGE	"wren queue [-c FILE] [-r] [list | show ID | " \
			"flush | retry ID | delete ID | bounce ID]"
#define REPLY_WAIT_S	30	/* the server answers at once */

/* What the server said, or that none is running. */
enum ask_result {
	ASK_OK,
	ASK_ERROR,		/* it answered "error ..." */
	ASK_NO_SERVER,		/* nobody listens: work on the files */
	ASK_FAILED		/* could not talk to it */
};

struct verb {
	const char		*name;
	int			 takes_id;
	enum control_verb	 ctl;		/* unused by list, show */
};

static const struct verb verbs[] = {
	{ "list", 0, CONTROL_PING },
	{ "show", 1, CONTROL_PING },
	{ "flush", 0, CONTROL_FLUSH },
	{ "retry", 1, CONTROL_RETRY },
	{ "delete", 1, CONTROL_DELETE },
	{ "bounce", 1, CONTROL_BOUNCE },
};
#define NVERBS	(sizeof verbs / sizeof verbs[0])

static enum ask_result	ask_server(const char *, const char *,
			    const char *, char *, size_t);
static int	offline(const char *, const struct verb *, const char *);
static int	delete_files(const char *, const char *);
static int	append_admin(const char *, const char *,
		    enum envelope_admin);
static int	flush_files(const char *);

int
cmd_queue(int argc, char **argv)
{
	static struct cfg c;
	char text[CONTROL_REPLY_MAX];
	const struct verb *v = NULL;
	const char *path, *name, *id = NULL, *dd;
	struct err e;
	unsigned flags;
	int first, raw, k;

	first = cli_options(argc, argv, QUEUE_USAGE, "r", &path, &flags);
	if (first == -1) {
		return 2;
	}
	/* -r also after the verb: `wren queue show -r ID`. */
	raw = (flags & 1u) != 0;
	k = first;
	for (int i = first; i < argc; i++) {
		if (strcmp(argv[i], "-r") == 0) {
			raw = 1;
		} else {
			argv[k++] = argv[i];
		}
	}
	argc = k;
	name = first < argc ? argv[first] : "list";
	for (size_t i = 0; i < NVERBS; i++) {
		if (strcmp(name, verbs[i].name) == 0) {
			v = &verbs[i];
		}
	}
	if (v == NULL || (first < argc ? argc - first : 1) !=
	    1 + v->takes_id) {
		fmt_fd(STDERR_FILENO, "usage: %s\n", QUEUE_USAGE);
		return 2;
	}
	if (v->takes_id) {
		id = argv[first + 1];
		if (!envelope_id_valid(id, strlen(id))) {
			fmt_fd(STDERR_FILENO, "wren queue: not a queue id: "
			    "%s\n", id);
			return 1;
		}
	}
	if (cfg_load(&c, path, &e) == -1) {
		fmt_fd(STDERR_FILENO, "%s\n", e.msg);
		return 1;
	}
	dd = cfg_str(&c, CFG_DATA_DIR);
	if (strcmp(v->name, "list") == 0 || strcmp(v->name, "show") == 0) {
		int rc = v->takes_id ? spool_show(dd, id, STDOUT_FILENO, raw,
		    &e) : spool_list(dd, STDOUT_FILENO, raw, &e);

		if (rc == -1) {
			fmt_fd(STDERR_FILENO, "wren queue: %s\n", e.msg);
			return 1;
		}
		return 0;
	}
	switch (ask_server(dd, v->name, id, text,
	    sizeof text)) {
	case ASK_OK:
		if (text[0] != '\0') {
			fmt_fd(STDOUT_FILENO, "%s\n", text);
		} else if (id != NULL) {
			fmt_fd(STDOUT_FILENO, "%s: %s requested\n", id,
			    v->name);
		} else {
			fmt_fd(STDOUT_FILENO, "queue flush requested\n");
		}
		return 0;
	case ASK_ERROR:
		fmt_fd(STDERR_FILENO, "wren queue: %s%s%s\n",
		    id ? id : "", id ? ": " : "", text);
		return 1;
	case ASK_FAILED:
		fmt_fd(STDERR_FILENO, "wren queue: %s\n", text);
		return 1;
	case ASK_NO_SERVER:
		break;
	}
	return offline(dd, v, id);
}

/*
 * Sends "verb[ id]\n" (the CLI's verbs are the protocol's) to
 * data_dir/control and reads the reply line into text (without
 * "ok"/"error" and the LF), or the reason it failed.
 */
static enum ask_result
ask_server(const char *dd, const char *verb, const char *id, char *text,
    size_t cap)
{
	struct timeval tv = { REPLY_WAIT_S, 0 };
	char req[CONTROL_LINE_MAX + 1], buf[CONTROL_REPLY_MAX + 1];
	struct sockaddr_un sa;
	size_t len = 0;
	int fd, reqlen;
	char *nl;

	text[0] = '\0';
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (fmt(sa.sun_path, sizeof sa.sun_path, "%s/%s", dd,
	    CONTROL_SOCKET) >= (int)sizeof sa.sun_path) {
		/* The server could not have made it either. */
		return ASK_NO_SERVER;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		(void)fmt(text, cap, "socket: %s", strerror(errno));
		return ASK_FAILED;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		int err = errno;

		close(fd);
		if (err == ENOENT || err == ECONNREFUSED) {
			return ASK_NO_SERVER;
		}
		(void)fmt(text, cap, "%s: %s%s", sa.sun_path, strerror(err),
		    err == EACCES ? " (run as root or the server's user)" :
		    "");
		return ASK_FAILED;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	reqlen = fmt(req, sizeof req, "%s%s%s\n", verb, id ? " " : "",
	    id ? id : "");
	if (reqlen < 0 || (size_t)reqlen >= sizeof req ||
	    send(fd, req, (size_t)reqlen, MSG_NOSIGNAL) != reqlen) {
		(void)fmt(text, cap, "%s: cannot send the request",
		    sa.sun_path);
		close(fd);
		return ASK_FAILED;
	}
	while (len < sizeof buf - 1 &&
	    memchr(buf, '\n', len) == NULL) {
		ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);

		if (r == -1 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	nl = memchr(buf, '\n', len);
	if (nl == NULL) {
		(void)fmt(text, cap, "%s: no answer from the server",
		    sa.sun_path);
		return ASK_FAILED;
	}
	*nl = '\0';
	if (strncmp(buf, "ok", 2) == 0 && (buf[2] == '\0' || buf[2] == ' ')) {
		(void)fmt(text, cap, "%s", buf[2] ? buf + 3 : "");
		return ASK_OK;
	}
	if (strncmp(buf, "error", 5) == 0 &&
	    (buf[5] == '\0' || buf[5] == ' ')) {
		(void)fmt(text, cap, "%s", buf[5] ? buf + 6 : "failed");
		return ASK_ERROR;
	}
	(void)fmt(text, cap, "%s: unexpected answer", sa.sun_path);
	return ASK_FAILED;
}

/* No server runs: the files are ours until it starts. */
static int
offline(const char *dd, const struct verb *v, const char *id)
{
	switch (v->ctl) {
	case CONTROL_DELETE:
		return delete_files(dd, id);
	case CONTROL_RETRY:
		if (append_admin(dd, id, ENVELOPE_RETRY) == -1) {
			return 1;
		}
		fmt_fd(STDOUT_FILENO, "%s: will be retried when the server "
		    "starts\n", id);
		return 0;
	case CONTROL_BOUNCE:
		if (append_admin(dd, id, ENVELOPE_BOUNCE) == -1) {
			return 1;
		}
		fmt_fd(STDOUT_FILENO, "%s: will be bounced when the server "
		    "starts\n", id);
		return 0;
	case CONTROL_FLUSH:
		return flush_files(dd);
	case CONTROL_PING:
		break;
	}
	return 1;
}

static int
delete_files(const char *dd, const char *id)
{
	char env[SPOOL_PATH_MAX], msg[SPOOL_PATH_MAX];

	if (spool_path(env, sizeof env, dd, "env", id, "") == -1 ||
	    spool_path(msg, sizeof msg, dd, "msg", id, "") == -1) {
		fmt_fd(STDERR_FILENO, "wren queue: %s: path too long\n", dd);
		return 1;
	}
	/* The envelope first: without it the message is gone. */
	if (unlink(env) == -1) {
		if (errno == ENOENT) {
			fmt_fd(STDERR_FILENO, "wren queue: no message %s\n",
			    id);
		} else {
			fmt_fd(STDERR_FILENO, "wren queue: %s: %s\n", env,
			    strerror(errno));
		}
		return 1;
	}
	if (unlink(msg) == -1 && errno != ENOENT) {
		fmt_fd(STDERR_FILENO, "wren queue: %s: %s\n", msg,
		    strerror(errno));
		return 1;
	}
	fmt_fd(STDOUT_FILENO, "%s: deleted\n", id);
	return 0;
}

/* Records what the operator asked in the envelope, for the server's
 * next start; checks first that there is such a message. */
static int
append_admin(const char *dd, const char *id, enum envelope_admin what)
{
	static struct envelope env;	/* 140 KiB: off the stack */
	char line[ENVELOPE_LINE_MAX + 2];
	struct err e;
	int len;

	if (spool_read_env(dd, id, &env, &e) == -1) {
		if (errno == ENOENT) {
			fmt_fd(STDERR_FILENO, "wren queue: no message %s\n",
			    id);
		} else {
			fmt_fd(STDERR_FILENO, "wren queue: %s\n", e.msg);
		}
		return -1;
	}
	len = envelope_format_admin(line, sizeof line, what,
	    (int64_t)time(NULL));
	if (len < 0 || spool_append(dd, id, line, (size_t)len, &e) == -1) {
		fmt_fd(STDERR_FILENO, "wren queue: %s\n",
		    len < 0 ? "cannot format the request" : e.msg);
		return -1;
	}
	return 0;
}

/* A retry request in every envelope. */
static int
flush_files(const char *dd)
{
	char dir[SPOOL_PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	int rc = 0;
	DIR *d;

	if (fmt(dir, sizeof dir, "%s/queue/env", dd) >= (int)sizeof dir) {
		fmt_fd(STDERR_FILENO, "wren queue: %s: path too long\n", dd);
		return 1;
	}
	d = opendir(dir);
	if (d == NULL && errno != ENOENT) {
		fmt_fd(STDERR_FILENO, "wren queue: %s: %s\n", dir,
		    strerror(errno));
		return 1;
	}
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (!envelope_id_valid(de->d_name, strlen(de->d_name))) {
			continue;
		}
		if (append_admin(dd, de->d_name, ENVELOPE_RETRY) == -1) {
			rc = 1;
			continue;
		}
		n++;
	}
	if (d != NULL) {
		closedir(d);
	}
	fmt_fd(STDOUT_FILENO, "%zu message%s will be retried when the "
	    "server starts\n", n, n == 1 ? "" : "s");
	return rc;
}
