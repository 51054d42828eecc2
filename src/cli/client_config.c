/* SPDX-License-Identifier: ISC */
/*
 * client_config.c - `wren client-config [-c FILE] EMAIL [--mobileconfig
 * FILE]`: the settings a mail client needs for an account, as a table
 * for hand entry, from the same struct autoconf the HTTP listener's
 * documents are made of (http/http_autoconf.h); with --mobileconfig,
 * the Apple profile written to FILE as the listener serves it.
 */
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/fmt.h"
#include "core/file.h"
#include "http/http_autoconf.h"

#if WREN_HTTP

#define USAGE	"wren client-config [-c FILE] EMAIL [--mobileconfig FILE]"

int
cmd_client_config(int argc, char **argv)
{
	static char doc[HTTP_DOC_MAX];
	const char *conf, *out = NULL, *email;
	struct autoconf ac;
	struct cfg c;
	struct err e;
	int i = cli_options(argc, argv, USAGE, NULL, &conf, NULL);
	long n;

	if (i < 0) {
		return 2;
	}
	if (i + 1 == argc - 2 && strcmp(argv[i + 1], "--mobileconfig") == 0) {
		out = argv[i + 2];
	} else if (i + 1 != argc) {
		fmt_fd(STDERR_FILENO, "usage: %s\n", USAGE);
		return 2;
	}
	email = argv[i];
	if (cfg_load(&c, conf, &e) == -1) {
		fmt_fd(STDERR_FILENO, "wren client-config: %s\n", e.msg);
		return 1;
	}
	if (autoconf_init(&ac, &c, email, strlen(email), NULL, 0) == -1) {
		fmt_fd(STDERR_FILENO, "wren client-config: %s: not a plain "
		    "address (letters, digits, . _ + - =, one @)\n", email);
		return 1;
	}
	fmt_fd(STDOUT_FILENO, "Email address   %s\nUser name       %s\n"
	    "Password        the account's (wren user passwd)\n"
	    "Authentication  normal password\n\n"
	    "%-6s %-30s %-6s %s\n", ac.email, ac.email, "PROTO", "SERVER",
	    "PORT", "SECURITY");
	for (size_t k = 0; k < ac.nsrv; k++) {
		const struct autoconf_srv *s = &ac.srv[k];

		fmt_fd(STDOUT_FILENO, "%-6s %-30s %-6u %s\n",
		    strcmp(s->proto, "imap") == 0 ? "IMAP" :
		    strcmp(s->proto, "pop3") == 0 ? "POP3" : "SMTP", ac.host,
		    s->port, s->ssl ? "SSL/TLS" : "STARTTLS");
	}
	if (ac.nsrv == 0) {
		fmt_fd(STDOUT_FILENO, "(no IMAP, POP3 or submission listener "
		    "is configured)\n");
	}
	if (out == NULL) {
		return 0;
	}
	if ((n = autoconf_mobileconfig(&ac, doc, sizeof doc)) < 0) {
		fmt_fd(STDERR_FILENO, "wren client-config: no profile: it "
		    "needs an IMAP and a submission listener\n");
		return 1;
	}
	if (file_write_atomic(out, doc, (size_t)n, 0644, &e) == -1) {
		fmt_fd(STDERR_FILENO, "wren client-config: %s\n", e.msg);
		return 1;
	}
	fmt_fd(STDOUT_FILENO, "\nApple profile written to %s\n", out);
	return 0;
}

#endif
