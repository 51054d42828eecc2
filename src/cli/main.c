/* SPDX-License-Identifier: ISC */
/*
 * main.c - multi-call dispatch, like dropbear's dbmulti.c: the command
 * is argv[1] of `wren`, or argv[0] itself for the classic names
 * (sendmail, newaliases, mailq) as later commands add them.
 */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/fmt.h"
#include "version.h"	/* WREN_VERSION, made by make from its RELEASE */

struct command {
	const char	*name;
	const char	*argv0;		/* invoked under this name */
	int		(*fn)(int, char **);
	const char	*help;
};

static const struct command commands[] = {
	{ "serve", NULL, cmd_serve, "run the server in the foreground" },
	{ "check", NULL, cmd_check,
	  "validate the configuration and print every key; --dns: "
	  "the records to publish" },
	{ "map", NULL, cmd_map,
	  "compile a table source into SOURCE.cdb (like postmap)" },
	{ "newaliases", "newaliases", cmd_newaliases,
	  "compile the configured aliases file" },
	{ "passwd", NULL, cmd_passwd,
	  "print a {SHA512-CRYPT} hash of a password for the users file" },
#if WREN_SUBMISSION
	{ "user", NULL, cmd_user,
	  "add, delete, re-password or list accounts in the users file" },
	{ "setup", NULL, cmd_setup,
	  "write a first wren.conf, account, aliases and DKIM key" },
#endif
#if WREN_HTTP
	{ "client-config", NULL, cmd_client_config,
	  "print an account's mail client settings; write its Apple "
	  "profile" },
#endif
	{ "resolve", NULL, cmd_resolve,
	  "print where addresses go: accounts, remote, or the 5xx reply" },
#if WREN_DKIM
	{ "dkim-keygen", NULL, cmd_dkim_keygen,
	  "make a DKIM key and print the TXT record to publish" },
#endif
#if WREN_OUTBOUND
	{ "queue", "mailq", cmd_queue,
	  "list, show, flush, retry, delete or bounce queued mail "
	  "(like mailq, postqueue, postsuper)" },
	{ "sendmail", "sendmail", cmd_sendmail,
	  "submit a message from standard input (sendmail -t -i -f)" },
#endif
};
#define NCOMMANDS	(sizeof commands / sizeof commands[0])

/* Features chosen in Kconfig, for --help and --version. */
static const struct {
	const char	*name;
	int		 on;
} features[] = {
	{ "smtp", WREN_SMTP },
	{ "submission", WREN_SUBMISSION },
	{ "imap", WREN_IMAP },
	{ "compress", WREN_COMPRESS },
	{ "imap-sort", WREN_IMAP_SORT },
	{ "imap-rev2", WREN_IMAP_REV2 },
	{ "imap-hcache", WREN_IMAP_HCACHE },
	{ "pop3", WREN_POP3 },
	{ "outbound", WREN_OUTBOUND },
	{ "dkim", WREN_DKIM },
	{ "http", WREN_HTTP },
};

static int	usage(int fd);
static void	print_features(int fd);

int
main(int argc, char **argv)
{
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;

	base = base ? base + 1 : (argc > 0 ? argv[0] : "wren");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (commands[i].argv0 != NULL &&
		    strcmp(base, commands[i].argv0) == 0) {
			return commands[i].fn(argc, argv);
		}
	}
	if (argc < 2) {
		return usage(STDERR_FILENO);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(STDOUT_FILENO);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		fmt_fd(STDOUT_FILENO, "wren %s\n", WREN_VERSION);
		print_features(STDOUT_FILENO);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			return commands[i].fn(argc - 1, argv + 1);
		}
	}
	fmt_fd(STDERR_FILENO, "wren: unknown command '%s'\n", argv[1]);
	return usage(STDERR_FILENO);
}

int
cli_options(int argc, char **argv, const char *usage_line,
    const char *extra, const char **config, unsigned *flags)
{
	char optstring[32];
	int ch;

	if (fmt(optstring, sizeof optstring, "+c:h%s", extra ? extra : "") >=
	    (int)sizeof optstring) {
		return -1;	/* a cut option list would misparse */
	}
	*config = WREN_DEFAULT_CONFIG;
	if (flags != NULL) {
		*flags = 0;
	}
	optind = 1;
	opterr = 0;
	while ((ch = getopt(argc, argv, optstring)) != -1) {
		const char *at;

		if (ch == 'c') {
			*config = optarg;
		} else if (ch != 'h' && ch != '?' && ch != ':' &&
		    extra != NULL && (at = strchr(extra, ch)) != NULL &&
		    flags != NULL) {
			*flags |= 1u << (at - extra);
		} else {
			if (ch == '?' || ch == ':') {
				fmt_fd(STDERR_FILENO, "wren: bad option "
				    "'-%c'\n", optopt);
			}
			fmt_fd(ch == 'h' ? STDOUT_FILENO : STDERR_FILENO,
			    "usage: %s\n", usage_line);
			return -1;
		}
	}
	return optind;
}

static int
usage(int fd)
{
	fmt_fd(fd, "usage: wren COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		fmt_fd(fd, "  %-12s %s\n", commands[i].name, commands[i].help);
	}
	fmt_fd(fd, "\nEvery command that reads the configuration takes "
	    "-c FILE (default %s).\n", WREN_DEFAULT_CONFIG);
	print_features(fd);
	return fd == STDOUT_FILENO ? 0 : 2;
}

/* What Kconfig selected, then which listeners this version can serve
 * (a selected protocol is served once its implementation has landed). */
static void
print_features(int fd)
{
	int any = 0;

	fmt_fd(fd, "selected (Kconfig):");
	for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) {
		if (features[i].on) {
			fmt_fd(fd, " %s", features[i].name);
		}
	}
	fmt_fd(fd, "\nlisteners served:");
	for (size_t i = 0; i < listener_nkinds; i++) {
		if (listener_kinds[i].proto != NULL) {
			fmt_fd(fd, " %s", cfg_keys[listener_kinds[i].key].name);
			any = 1;
		}
	}
	fmt_fd(fd, "%s\n", any ? "" : " none yet");
}
