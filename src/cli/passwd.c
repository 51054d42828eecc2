/*
 * passwd.c - `wren passwd` (like `doveadm pw -s SHA512-CRYPT`): reads
 * a password -- from the terminal without echo, asked twice, or one
 * line of standard input -- and prints {SHA512-CRYPT}$6$... for the
 * users file, with a random 16-character salt.
 */
#include <errno.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/crypt.h"
#include "cli/cli.h"
#include "core/fmt.h"

static int	read_line(int, const char *, char *, size_t);

int
cmd_passwd(int argc, char **argv)
{
	char pw[AUTH_PASSWORD_MAX + 2], again[AUTH_PASSWORD_MAX + 2];
	char setting[CRYPT_OUT_MAX], out[CRYPT_OUT_MAX];
	int tty = isatty(STDIN_FILENO), n;

	(void)argv;
	if (argc > 1) {
		fmt_fd(STDERR_FILENO, "usage: wren passwd\n");
		return 2;
	}
	n = read_line(tty, "Password: ", pw, sizeof pw);
	if (n > 0 && tty && (read_line(tty, "Again: ", again,
	    sizeof again) != n || memcmp(pw, again, (size_t)n) != 0)) {
		fmt_fd(STDERR_FILENO, "wren passwd: the passwords differ\n");
		return 1;
	}
	if (n <= 0) {
		fmt_fd(STDERR_FILENO, "wren passwd: %s\n", n == 0 ?
		    "empty password" : "password longer than 256 bytes");
		return 1;
	}
	if (crypt_new_setting(setting, sizeof setting) == -1 ||
	    sha_crypt(pw, (size_t)n, setting, out, sizeof out) == -1) {
		fmt_fd(STDERR_FILENO, "wren passwd: no randomness for a "
		    "salt\n");
		return 1;
	}
	explicit_bzero(pw, sizeof pw);
	explicit_bzero(again, sizeof again);
	fmt_fd(STDOUT_FILENO, "{SHA512-CRYPT}%s\n", out);
	return 0;
}

/* One line without its newline; echo off on a terminal. Returns its
 * length, or -1 when too long. */
static int
read_line(int tty, const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	size_t n = 0;
	int toolong = 0;
	char ch;

	if (tty) {
		fmt_fd(STDERR_FILENO, "%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	for (;;) {
		ssize_t r = read(STDIN_FILENO, &ch, 1);

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0 || ch == '\n') {
			break;
		}
		if (n + 1 < cap - 1) {
			buf[n++] = ch;
		} else {
			toolong = 1;
		}
	}
	if (n > 0 && buf[n - 1] == '\r') {
		n--;
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fmt_fd(STDERR_FILENO, "\n");
	}
	buf[n] = '\0';
	return toolong || n > AUTH_PASSWORD_MAX ? -1 : (int)n;
}
