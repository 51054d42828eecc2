/* SPDX-License-Identifier: ISC */
/*
 * map.c - `wren map [-c FILE] [-t TYPE] SOURCE` (like postmap) and
 * `newaliases` (argv[0]): compile a table source into SOURCE.cdb.
 *
 * Without -t, the type is that of the config key naming SOURCE (the
 * same path, or the same file). Errors are `FILE:LINE: message`; on any
 * error the old .cdb stays and the exit status is 1.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/fmt.h"
#include "map/map.h"

static int	type_from_config(const char *, const char *);
static int	compile(int, const char *);

int
cmd_map(int argc, char **argv)
{
	const char *path, *type = NULL;
	int first, t;

	/* -t TYPE takes an argument; cli_options handles -c and flags,
	 * so pick -t out first. */
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "-t") == 0) {
			type = argv[i + 1];
			memmove(&argv[i], &argv[i + 2],
			    (size_t)(argc - i - 1) * sizeof *argv);
			argc -= 2;
			break;
		}
	}
	first = cli_options(argc, argv, "wren map [-c FILE] [-t TYPE] SOURCE",
	    NULL, &path, NULL);
	if (first == -1) {
		return 2;
	}
	if (first + 1 != argc) {
		fmt_fd(STDERR_FILENO, "usage: wren map [-c FILE] [-t TYPE] "
		    "SOURCE\n");
		return 2;
	}
	if (type != NULL) {
		t = map_type_parse(type);
		if (t == -1) {
			fmt_fd(STDERR_FILENO, "wren map: unknown type '%s' "
			    "(users, aliases, virtual, senders, "
			    "relay_passwords, public_suffix)\n", type);
			return 2;
		}
	} else if ((t = type_from_config(path, argv[first])) == -1) {
		return 1;
	}
	return compile(t, argv[first]);
}

int
cmd_newaliases(int argc, char **argv)
{
	static struct cfg c;
	const char *path;
	struct err e;

	if (cli_options(argc, argv, "newaliases [-c FILE]", NULL, &path,
	    NULL) == -1) {
		return 2;
	}
	if (cfg_load(&c, path, &e) == -1) {
		fmt_fd(STDERR_FILENO, "%s\n", e.msg);
		return 1;
	}
	return compile(MAP_ALIASES, cfg_str(&c, CFG_ALIASES));
}

static int
compile(int type, const char *src)
{
	struct err e;
	size_t n;

	if (map_compile((enum map_type)type, src, &n, &e) == -1) {
		fmt_fd(STDERR_FILENO, "%s\n", e.msg);
		return 1;
	}
	fmt_fd(STDOUT_FILENO, "%s: %zu %s -> %s.cdb\n", src, n,
	    n == 1 ? "entry" : "entries", src);
	return 0;
}

/* The table type of the config key whose value names src. */
static int
type_from_config(const char *config, const char *src)
{
	static struct cfg c;
	struct stat a, b;
	struct err e;
	int have = stat(src, &a) == 0;

	if (cfg_load(&c, config, &e) == -1) {
		fmt_fd(STDERR_FILENO, "%s\nwren map: without -t TYPE the "
		    "type comes from the configuration\n", e.msg);
		return -1;
	}
	for (int t = 0; t < MAP_NTYPES; t++) {
		const char *v = cfg_str(&c, map_cfg_key[t]);

		if (strcmp(v, src) == 0 || (have && v[0] != '\0' &&
		    stat(v, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)) {
			return t;
		}
	}
	fmt_fd(STDERR_FILENO, "wren map: %s is not a table of %s; give its "
	    "type with -t (users, aliases, virtual, senders, "
	    "relay_passwords, public_suffix)\n", src, config);
	return -1;
}
