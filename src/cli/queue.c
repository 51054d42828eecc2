/*
 * queue.c - `wren queue [list | show ID | delete ID]` (like mailq,
 * postcat -q and postsuper -d): the outbound queue under data_dir.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/file.h"
#include "core/fmt.h"
#include "queue/spool.h"

#define SHOW_MAX	(64 * 1024 * 1024)

static int	valid_id(const char *);

int
cmd_queue(int argc, char **argv)
{
	static struct cfg c;
	char env[SPOOL_PATH_MAX], msg[SPOOL_PATH_MAX];
	const char *path, *verb, *dd;
	struct err e;
	int first;

	first = cli_options(argc, argv,
	    "wren queue [-c FILE] [list | show ID | delete ID]", NULL, &path,
	    NULL);
	if (first == -1) {
		return 2;
	}
	verb = first < argc ? argv[first] : "list";
	if (cfg_load(&c, path, &e) == -1) {
		fmt_fd(STDERR_FILENO, "%s\n", e.msg);
		return 1;
	}
	dd = cfg_str(&c, CFG_DATA_DIR);
	if (strcmp(verb, "list") == 0 && first + 1 >= argc) {
		if (spool_list(dd, STDOUT_FILENO, &e) == -1) {
			fmt_fd(STDERR_FILENO, "wren queue: %s\n", e.msg);
			return 1;
		}
		return 0;
	}
	if ((strcmp(verb, "show") != 0 && strcmp(verb, "delete") != 0) ||
	    first + 2 != argc) {
		fmt_fd(STDERR_FILENO, "usage: wren queue [-c FILE] [list | "
		    "show ID | delete ID]\n");
		return 2;
	}
	if (!valid_id(argv[first + 1]) ||
	    spool_path(env, sizeof env, dd, "env", argv[first + 1], "") ==
	    -1 || spool_path(msg, sizeof msg, dd, "msg", argv[first + 1],
	    "") == -1 || access(env, F_OK) == -1) {
		fmt_fd(STDERR_FILENO, "wren queue: no message %s\n",
		    argv[first + 1]);
		return 1;
	}
	if (strcmp(verb, "delete") == 0) {
		/* The envelope first: without it the message is gone. */
		if (unlink(env) == -1 || (unlink(msg) == -1 &&
		    errno != ENOENT)) {
			fmt_fd(STDERR_FILENO, "wren queue: %s: %s\n", env,
			    strerror(errno));
			return 1;
		}
		fmt_fd(STDOUT_FILENO, "%s: deleted\n", argv[first + 1]);
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		size_t len;
		char *text = file_read_all(i ? msg : env, SHOW_MAX, &len, &e);

		if (text == NULL) {
			fmt_fd(STDERR_FILENO, "wren queue: %s\n", e.msg);
			return 1;
		}
		fmt_fd(STDOUT_FILENO, "*** %s ***\n", i ? "MESSAGE" :
		    "ENVELOPE");
		(void)!write(STDOUT_FILENO, text, len);
		free(text);
	}
	return 0;
}

/* Queue ids are upper-case hex: nothing that could name another file. */
static int
valid_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= SPOOL_ID_MAX) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'A' && id[i] <= 'F'))) {
			return 0;
		}
	}
	return 1;
}
