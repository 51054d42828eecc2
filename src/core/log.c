/* SPDX-License-Identifier: ISC */
/*
 * log.c - logging to stderr or to the syslog socket.
 *
 * The syslog client is our own (RFC 3164 framing over the /dev/log
 * datagram socket, as glibc and musl do) because libc's syslog() uses
 * vsnprintf, see fmt.h. If /dev/log is absent or full, a line goes to
 * stderr instead of being lost silently.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "limits.h"
#include "log.h"

#define SYSLOG_PATH	"/dev/log"
#define SYSLOG_FAC_MAIL	(2 << 3)	/* RFC 5424 6.2.1: facility 2 */
#define LOG_IDENT_MAX	32

static const char *const level_name[] = {
	"error", "warn", "info", "debug"
};
/* RFC 5424 severities for our levels: err, warning, info, debug. */
static const int level_sev[] = { 3, 4, 6, 7 };

static struct {
	enum log_dest	dest;
	enum log_level	level;
	char		ident[LOG_IDENT_MAX];
	int		fd;		/* syslog socket, or -1 */
	int		pid;		/* 0 until log_open */
} lg = { LOG_DEST_STDERR, LOG_LVL_INFO, "wren", -1, 0 };

static void	log_write(enum log_level, const char *, size_t);
static int	syslog_connect(void);

void
log_open(enum log_dest dest, enum log_level level, const char *ident)
{
	log_close();
	lg.dest = dest;
	lg.level = level;
	lg.pid = (int)getpid();
	(void)fmt(lg.ident, sizeof lg.ident, "%s", ident);
	if (dest == LOG_DEST_SYSLOG) {
		lg.fd = syslog_connect();
	}
}

void
log_set_level(enum log_level level)
{
	lg.level = level;
}

int
log_enabled(enum log_level level)
{
	return level <= lg.level;
}

void
log_close(void)
{
	if (lg.fd != -1) {
		close(lg.fd);
		lg.fd = -1;
	}
}

void
log_msg(enum log_level level, int with_errno, const char *f, ...)
{
	char line[LOG_LINE_MAX];
	int saved = errno, n;
	size_t len;
	va_list ap;

	if (!log_enabled(level)) {
		return;
	}
	va_start(ap, f);
	n = vfmt(line, sizeof line, f, ap);
	va_end(ap);
	len = n < 0 ? 0 : (size_t)n;
	if (len >= sizeof line) {
		len = sizeof line - 1;
	}
	if (with_errno) {
		n = fmt(line + len, sizeof line - len, ": %s",
		    strerror(saved));
		len += (size_t)n;
		if (len >= sizeof line) {
			len = sizeof line - 1;
		}
	}
	/* One event, one line: a CR or LF from a peer must not forge a
	 * second log line. */
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)line[i] < 0x20) {
			line[i] = '?';
		}
	}
	log_write(level, line, len);
	errno = saved;
}

void
fatal(const char *f, ...)
{
	char line[LOG_LINE_MAX];
	int saved = errno;
	va_list ap;

	va_start(ap, f);
	(void)vfmt(line, sizeof line, f, ap);
	va_end(ap);
	errno = saved;
	log_msg(LOG_LVL_ERROR, 1, "%s", line);
	exit(1);
}

void
fatalx(const char *f, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, f);
	(void)vfmt(line, sizeof line, f, ap);
	va_end(ap);
	log_msg(LOG_LVL_ERROR, 0, "%s", line);
	exit(1);
}

static void
log_write(enum log_level level, const char *msg, size_t len)
{
	char out[LOG_LINE_MAX + 128];
	struct tm tm;
	time_t now = time(NULL);
	int n, pid = lg.pid ? lg.pid : (int)getpid();

	if (lg.dest == LOG_DEST_SYSLOG && lg.fd == -1) {
		lg.fd = syslog_connect();	/* syslogd restarted? */
	}
	if (lg.dest == LOG_DEST_SYSLOG && lg.fd != -1) {
		static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr",
		    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

		localtime_r(&now, &tm);
		n = fmt(out, sizeof out, "<%d>%s %2d %02d:%02d:%02d %s[%d]: "
		    "%s: %.*s", SYSLOG_FAC_MAIL | level_sev[level],
		    mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec, lg.ident, pid, level_name[level],
		    (int)len, msg);
		if (n > 0 && send(lg.fd, out, (size_t)n < sizeof out ?
		    (size_t)n : sizeof out - 1, MSG_DONTWAIT | MSG_NOSIGNAL)
		    >= 0) {
			return;
		}
		/* Socket gone: reconnect next time, use stderr now. */
		close(lg.fd);
		lg.fd = -1;
	}
	gmtime_r(&now, &tm);
	n = fmt(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02dZ %s[%d]: "
	    "%s: %.*s\n", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, lg.ident, pid,
	    level_name[level], (int)len, msg);
	if (n > 0) {
		size_t w = (size_t)n < sizeof out ? (size_t)n : sizeof out - 1;
		if (out[w - 1] != '\n') {
			out[w - 1] = '\n';
		}
		(void)!write(STDERR_FILENO, out, w);
	}
}

static int
syslog_connect(void)
{
	struct sockaddr_un sun;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, SYSLOG_PATH, sizeof SYSLOG_PATH);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}
