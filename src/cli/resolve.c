/* SPDX-License-Identifier: ISC */
/*
 * resolve.c - `wren resolve ADDRESS...` (like `sendmail -bv` and
 * `postmap -q`): where mail to each address goes, from the compiled
 * tables, through the same resolution the SMTP server runs at RCPT TO
 * (map/resolve.h, SPEC section 4): the accounts with their Maildir,
 * the remote addresses, or the exact reply a client would get.
 *
 *   wren resolve [-c FILE] ADDRESS...
 *
 * Exit status: 0 when every address is accepted, 1 when one would be
 * refused or deferred, 2 on bad usage or configuration.
 */
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/fmt.h"
#include "map/map.h"
#include "map/resolve.h"
#include "msg/mailbox.h"

static int	resolve_one(const struct resolver *, const char *);

int
cmd_resolve(int argc, char **argv)
{
	static struct cfg c;
	static struct maps m;
	struct resolver rv;
	const char *path;
	struct err e;
	int first, rc = 0;

	first = cli_options(argc, argv, "wren resolve [-c FILE] ADDRESS...",
	    NULL, &path, NULL);
	if (first == -1) {
		return 2;
	}
	if (first >= argc) {
		fmt_fd(STDERR_FILENO, "usage: wren resolve [-c FILE] "
		    "ADDRESS...\n");
		return 2;
	}
	if (cfg_load(&c, path, &e) == -1) {
		fmt_fd(STDERR_FILENO, "%s\n", e.msg);
		return 2;
	}
	maps_open(&m, &c);
	rv.cfg = &c;
	rv.users = &m.m[MAP_USERS];
	rv.aliases = &m.m[MAP_ALIASES];
	rv.virtual = &m.m[MAP_VIRTUAL];
	for (int i = first; i < argc; i++) {
		if (resolve_one(&rv, argv[i]) != 0) {
			rc = 1;
		}
	}
	maps_close(&m);
	return rc;
}

/*
 * One address, printed as
 *   ADDRESS: local LOGIN HOME/Maildir (as DEST)
 *   ADDRESS: remote TARGET
 *   ADDRESS: 550 5.1.1 <ADDRESS>: Recipient address rejected: ... (why)
 * with one line per target. The replies are smtp_session.c's at RCPT
 * TO, word for word. Returns 0 when accepted, else 1.
 */
static int
resolve_one(const struct resolver *rv, const char *arg)
{
	static struct resolve_result res;
	struct mailbox mb;
	const char *a = arg;
	size_t len = strlen(a);

	if (len >= 2 && a[0] == '<' && a[len - 1] == '>') {
		a++;
		len -= 2;
	}
	if (mailbox_parse(a, len, 0, &mb) == MAILBOX_OK && mb.dlen > 0 &&
	    !resolve_is_local_domain(rv->cfg, mb.domain, mb.dlen)) {
		fmt_fd(STDOUT_FILENO, "%s: remote %.*s (relayed for "
		    "mynetworks and logged-in clients; others get 554 5.7.1 "
		    "<%.*s>: Relay access denied)\n", arg, (int)len, a,
		    (int)len, a);
		return 0;
	}
	resolve(rv, a, len, &res);
	switch (res.status) {
	case RESOLVE_OK:
		break;
	case RESOLVE_UNKNOWN:
		fmt_fd(STDOUT_FILENO, "%s: 550 5.1.1 <%.*s>: Recipient "
		    "address rejected: User unknown (%s)\n", arg, (int)len, a,
		    res.why);
		return 1;
	case RESOLVE_LOOP:
		fmt_fd(STDOUT_FILENO, "%s: 550 5.4.6 <%.*s>: Recipient "
		    "address rejected: alias loop (%s)\n", arg, (int)len, a,
		    res.why);
		return 1;
	case RESOLVE_TOO_MANY:
		fmt_fd(STDOUT_FILENO, "%s: 452 4.5.3 <%.*s>: expands to too "
		    "many recipients (%s)\n", arg, (int)len, a, res.why);
		return 1;
	case RESOLVE_BAD_ADDRESS:
		fmt_fd(STDOUT_FILENO, "%s: 501 5.1.3 <%.*s>: Bad recipient "
		    "address syntax\n", arg, (int)len, a);
		return 1;
	case RESOLVE_TEMPFAIL:
		fmt_fd(STDOUT_FILENO, "%s: 451 4.3.0 <%.*s>: Temporary lookup "
		    "failure (%s)\n", arg, (int)len, a, res.why);
		return 1;
	}
	for (size_t i = 0; i < res.n; i++) {
		const struct resolve_target *t = &res.t[i];

		if (t->kind == RESOLVE_LOCAL) {
			fmt_fd(STDOUT_FILENO, "%s: local %s %s/Maildir "
			    "(as %s)\n", arg, t->addr, t->home, t->dest);
		} else if (WREN_OUTBOUND) {
			fmt_fd(STDOUT_FILENO, "%s: remote %s\n", arg, t->addr);
		} else {
			fmt_fd(STDOUT_FILENO, "%s: remote %s (dropped: "
			    "outbound delivery is not built in)\n", arg,
			    t->addr);
		}
	}
	if (res.unknown > 0) {
		fmt_fd(STDOUT_FILENO, "%s: warning: %zu alias target%s "
		    "without an account skipped (%s)\n", arg, res.unknown,
		    res.unknown == 1 ? "" : "s", res.why);
	}
	return 0;
}
