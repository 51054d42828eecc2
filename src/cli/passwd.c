/* SPDX-License-Identifier: ISC */
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
	char pw[AUTH_PASSWORD_MAX + 2], out[CRYPT_OUT_MAX + 16];
	int n;

	(void)argv;
	if (argc > 1) {
		fmt_fd(STDERR_FILENO, "usage: wren passwd\n");
		return 2;
	}
	n = cli_password("wren passwd", !isatty(STDIN_FILENO), pw, sizeof pw);
	if (n < 0 || cli_password_hash(pw, (size_t)n, out, sizeof out) == -1) {
		explicit_bzero(pw, sizeof pw);
		return 1;
	}
	explicit_bzero(pw, sizeof pw);
	fmt_fd(STDOUT_FILENO, "%s\n", out);
	return 0;
}

int
cli_password(const char *who, int from_stdin, char *pw, size_t cap)
{
	char again[AUTH_PASSWORD_MAX + 2];
	int tty = !from_stdin, n;

	if (tty && !isatty(STDIN_FILENO)) {
		fmt_fd(STDERR_FILENO, "%s: standard input is not a terminal; "
		    "give the password with --password-stdin\n", who);
		return -1;
	}
	n = read_line(tty, "Password: ", pw, cap);
	if (n > 0 && tty && (read_line(tty, "Again: ", again,
	    sizeof again) != n || memcmp(pw, again, (size_t)n) != 0)) {
		n = -2;
	}
	explicit_bzero(again, sizeof again);
	if (n <= 0) {
		fmt_fd(STDERR_FILENO, "%s: %s\n", who, n == 0 ?
		    "empty password" : n == -2 ? "the passwords differ" :
		    "password longer than 256 bytes");
		return -1;
	}
	return n;
}

int
cli_password_hash(const char *pw, size_t n, char *out, size_t cap)
{
	char setting[CRYPT_OUT_MAX];
	size_t k = sizeof "{SHA512-CRYPT}" - 1;

	if (cap < k || crypt_new_setting(setting, sizeof setting) == -1 ||
	    sha_crypt(pw, n, setting, out + k, cap - k) == -1) {
		fmt_fd(STDERR_FILENO, "wren: no randomness for a salt\n");
		return -1;
	}
	memcpy(out, "{SHA512-CRYPT}", k);
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
