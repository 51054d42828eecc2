/* SPDX-License-Identifier: ISC */
/*
 * setup.c - `wren setup [-c FILE] [--password-stdin] EMAIL [HOSTNAME]`:
 * a first working installation in one command, as mox's quickstart
 * does. Beside FILE (default /etc/wren/wren.conf) it writes:
 *
 *   FILE        every key of the config table with its one-line help,
 *               defaults kept except hostname, domains, the table, TLS
 *               and DKIM paths (beside FILE), data_dir and mail_home
 *               (DIR/data unless DIR is /etc/wren), user (kept only for
 *               root) and the DKIM selector (the year and month);
 *   users       the account EMAIL, as `wren user add` (password asked
 *               twice, or one line of standard input);
 *   aliases     postmaster and abuse to EMAIL (RFC 2142);
 *   *.cdb       compiled, as `wren map`;
 *   dkim/DOMAIN.pem  an RSA key, as `wren dkim-keygen` (DKIM builds);
 *
 * then prints the DNS records to publish, as `wren check --dns` would
 * suggest them (no DNS is queried). Run again, it changes nothing that
 * exists -- it says so for each file -- and makes only what is
 * missing: the account when the users file lacks it, a missing table's
 * .cdb, the DKIM key. Files are written under a temporary name and
 * renamed (file_write_atomic); the key is created with O_EXCL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/crypt.h"
#include "cli/cli.h"
#include "core/file.h"
#include "core/privs.h"
#include "core/fmt.h"
#include "map/map.h"
#include "map/map_edit.h"
#include "msg/mailbox.h"

#define SETUP_USAGE	"wren setup [-c FILE] [--password-stdin] EMAIL " \
			"[HOSTNAME]"
#define SETUP_CONF_MAX	(CFG_NKEYS * (CFG_VALUE_MAX + 160) + 512)
#define ETC		"/etc/wren/"
#define SRV		"/srv/mail"

static int	write_conf(const char *, const char *, const char *,
		    const char *);
static int	exists(const char *, const char *);
static int	compile_missing(enum map_type, const char *);

int
cmd_setup(int argc, char **argv)
{
	static struct cfg c;
	char pw[AUTH_PASSWORD_MAX + 2], secret[CRYPT_OUT_MAX + 16];
	char host[CFG_HOST_MAX + 1];
	char addr[MAP_KEY_MAX + 1];
	struct privs pv;
	const char *conf, *email, *dom, *users, *aliases;
	size_t s, end, len;
	int first, from_stdin = 0, n, found = 0, have_users = 0, rc = 0;
	struct err e;
	char *buf;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--password-stdin") == 0) {
			from_stdin = 1;
			memmove(&argv[i], &argv[i + 1],
			    (size_t)(argc - i) * sizeof *argv);
			argc--;
			break;
		}
	}
	first = cli_options(argc, argv, SETUP_USAGE, NULL, &conf, NULL);
	if (first == -1) {
		return 2;
	}
	if (argc - first < 1 || argc - first > 2) {
		fmt_fd(STDERR_FILENO, "usage: " SETUP_USAGE "\n");
		return 2;
	}
	/* Lower case: the table's keys and the DKIM key's %d are. */
	(void)fmt(addr, sizeof addr, "%s", argv[first]);
	mailbox_lower(addr, strlen(addr));
	email = addr;
	dom = strchr(email, '@');
	if (dom == NULL || strlen(argv[first]) > MAP_KEY_MAX ||
	    map_user_name_ok(email, strlen(email)) == -1) {
		fmt_fd(STDERR_FILENO, "wren setup: '%s' is not an address "
		    "(local@domain)\n", email);
		return 2;
	}
	dom++;
	if (argc - first == 2) {
		(void)fmt(host, sizeof host, "%s", argv[first + 1]);
	} else if (fmt(host, sizeof host, "mail.%s", dom) >=
	    (int)sizeof host) {
		return 2;
	}
	/* A fresh setup asks for the password before writing anything. */
	n = -1;
	if (access(conf, F_OK) == -1 && (n = cli_password("wren setup",
	    from_stdin, pw, sizeof pw)) < 0) {
		return 1;
	}
	/* 1. The configuration: never overwritten. */
	if (exists(conf, "kept as it is; its values are used")) {
		;
	} else if (write_conf(conf, host, dom, email) == -1) {
		return 1;
	}
	if (cfg_load(&c, conf, &e) == -1 || cfg_validate(&c, &e) == -1) {
		fmt_fd(STDERR_FILENO, "%s\n", e.msg);
		return 1;
	}
	users = cfg_str(&c, CFG_USERS);
	aliases = cfg_str(&c, CFG_ALIASES);
	/* 2. The account, unless the users file has it. */
	buf = file_read_all(users, MAP_SOURCE_MAX, &len, &e);
	if (buf != NULL) {
		found = map_edit_find(buf, len, email, strlen(email), &s,
		    &end) != 0;
		explicit_bzero(buf, len);
		free(buf);
		have_users = 1;
	}
	if (found) {
		fmt_fd(STDOUT_FILENO, "%s: has %s; kept as it is\n", users,
		    email);
		rc |= compile_missing(MAP_USERS, users);
	} else {
		if (n < 0) {
			n = cli_password("wren setup", from_stdin, pw,
			    sizeof pw);
		}
		/* As root, a new users file is readable by the group of
		 * `user`, which serve reads the .cdb as (not by others:
		 * it holds password hashes). */
		if (n >= 0 && !have_users && geteuid() == 0 &&
		    privs_resolve(cfg_str(&c, CFG_USER), "/etc/passwd",
		    "/etc/group", &pv, &e) == 0 && pv.switch_user &&
		    (file_write_atomic(users, "", 0, 0640,
		    &e) == -1 || chown(users, 0, pv.gid) == -1)) {
			fmt_fd(STDERR_FILENO, "wren setup: %s: cannot create "
			    "it for group %u\n", users, (unsigned)pv.gid);
			return 1;
		}
		if (n < 0 || cli_password_hash(pw, (size_t)n, secret,
		    sizeof secret) == -1 || cli_user_add(&c, email,
		    secret) == -1) {
			explicit_bzero(pw, sizeof pw);
			return 1;
		}
		explicit_bzero(pw, sizeof pw);
		explicit_bzero(secret, sizeof secret);
	}
	/* 3. The aliases RFC 2142 asks for. */
	if (aliases[0] != '\0' && !exists(aliases, "kept as it is")) {
		char text[3 * MAP_KEY_MAX + 160];

		n = fmt(text, sizeof text, "# /etc/aliases format; compile "
		    "with `wren newaliases` after editing.\n# RFC 2142: "
		    "mail for these reaches a person.\npostmaster: %s\n"
		    "abuse: %s\n", email, email);
		if (n >= (int)sizeof text || file_write_atomic(aliases, text,
		    (size_t)n, 0644, &e) == -1) {
			fmt_fd(STDERR_FILENO, "wren setup: %s\n", n >=
			    (int)sizeof text ? "address too long" : e.msg);
			return 1;
		}
		fmt_fd(STDOUT_FILENO, "%s: written\n", aliases);
	}
	if (aliases[0] != '\0') {
		rc |= compile_missing(MAP_ALIASES, aliases);
	}
#if WREN_DKIM
	/* 4. A DKIM key for the domain, made or printed by dkim-keygen. */
	if (cfg_str(&c, CFG_DKIM_SELECTOR)[0] != '\0' &&
	    cfg_str(&c, CFG_DKIM_KEY)[0] != '\0') {
		const char *k = cfg_str(&c, CFG_DKIM_KEY), *pct;
		char k0[] = "dkim-keygen", k1[] = "-c", kp[] = "-p";
		char *kv[7] = { k0, k1, (char *)conf, NULL, NULL, NULL,
		    NULL };
		char d[CFG_HOST_MAX + 1], path[CFG_PATH_MAX + 16], *slash;

		pct = strstr(k, "%d");
		(void)fmt(d, sizeof d, "%s", dom);
		mailbox_lower(d, strlen(d));
		(void)fmt(path, sizeof path, "%.*s%s%s", pct ? (int)(pct - k) :
		    (int)strlen(k), k, pct ? d : "", pct ? pct + 2 : "");
		slash = strrchr(path, '/');
		if (slash != NULL && slash != path) {
			*slash = '\0';
			if (mkdir(path, 0700) == -1 && errno != EEXIST) {
				fmt_fd(STDERR_FILENO, "wren setup: %s: %s\n",
				    path, strerror(errno));
				return 1;
			}
			*slash = '/';
		}
		if (exists(path, "kept; its record:")) {
			kv[3] = kp;
			kv[4] = path;
			kv[5] = d;
		} else {
			kv[3] = d;
		}
		rc |= cmd_dkim_keygen(kv[5] ? 6 : 4, kv) != 0;
	}
#endif
	/* 5. What the world must see (`wren check --dns` checks it). */
	fmt_fd(STDOUT_FILENO, "\n; Publish in the zone of %s (then run "
	    "`wren check --dns`):\n"
	    "%s. IN MX 10 %s.\n"
	    "%s. IN A <this server's public IPv4 address>\n"
	    "%s. IN TXT \"v=spf1 mx -all\"\n"
	    "_dmarc.%s. IN TXT \"v=DMARC1; p=quarantine; "
	    "rua=mailto:postmaster@%s\"\n"
	    "_submissions._tcp.%s. IN SRV 0 1 465 %s.\n"
	    "_imaps._tcp.%s. IN SRV 0 1 993 %s.\n"
	    "; and the PTR of the server's address: %s.\n"
	    "; TLS: put the certificate and key at %s and %s.\n",
	    dom, dom, cfg_str(&c, CFG_HOSTNAME), cfg_str(&c, CFG_HOSTNAME),
	    dom, dom, dom, dom, cfg_str(&c, CFG_HOSTNAME), dom,
	    cfg_str(&c, CFG_HOSTNAME), cfg_str(&c, CFG_HOSTNAME),
	    cfg_str(&c, CFG_TLS_CERT), cfg_str(&c, CFG_TLS_KEY));
	return rc;
}

/* Says that path exists, and what setup does with it. */
static int
exists(const char *path, const char *what)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		return 0;
	}
	fmt_fd(STDOUT_FILENO, "%s: exists; %s\n", path, what);
	return 1;
}

/* Compiles a table whose .cdb is missing; an existing one is left. */
static int
compile_missing(enum map_type t, const char *src)
{
	char cdb[CFG_PATH_MAX + 8];
	struct stat st;
	struct err e;
	size_t n;

	(void)fmt(cdb, sizeof cdb, "%s.cdb", src);
	if (stat(cdb, &st) == 0) {
		return 0;
	}
	if (map_compile(t, src, &n, &e) == -1) {
		fmt_fd(STDERR_FILENO, "wren setup: %s\n", e.msg);
		return 1;
	}
	fmt_fd(STDOUT_FILENO, "%s: compiled\n", cdb);
	return 0;
}

/*
 * Every key of the table, with its help, in the table's order: the
 * same keys as conf/wren.conf, whose longer comments `wren check -d`
 * and the manual give.
 */
static int
write_conf(const char *conf, const char *host, const char *dom,
    const char *email)
{
	static char text[SETUP_CONF_MAX];
	const char *slash = strrchr(conf, '/');
	char dir[CFG_PATH_MAX], data[CFG_PATH_MAX], sel[16], abs[CFG_PATH_MAX];
	int n, etc;
	size_t off;
	struct err e;
	time_t now = time(NULL);
	struct tm tm;

	n = fmt(dir, sizeof dir, "%.*s", slash ? (int)(slash - conf) : 1,
	    slash ? conf : ".");
	/* Absolute paths: serve and cron jobs run from anywhere. */
	if (n < (int)sizeof dir && dir[0] != '/' && getcwd(abs,
	    sizeof abs) != NULL) {
		n = fmt(dir, sizeof dir, "%s/%.*s", abs, slash ?
		    (int)(slash - conf) : 1, slash ? conf : ".");
	}
	if (n >= (int)sizeof dir - 16 || dir[0] != '/') {
		fmt_fd(STDERR_FILENO, "wren setup: %s: path too long\n", conf);
		return -1;
	}
	etc = strcmp(dir, "/etc/wren") == 0;
	(void)fmt(data, sizeof data, "%s/data", dir);
	gmtime_r(&now, &tm);
	(void)fmt(sel, sizeof sel, "%04d%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1);
	n = fmt(text, sizeof text, "# %s - wren's configuration,\n# written "
	    "by `wren setup %s %s`.\n#\n# One `key = value` per line. `wren "
	    "check` validates it; `wren check -d`\n# prints the defaults. "
	    "SIGHUP reloads it (listeners, data_dir, user and\n# log after "
	    "a restart). Accounts: `wren user add|del|passwd|list`.\n\n",
	    conf, email, host);
	off = (size_t)n;
	for (int k = 0; k < CFG_NKEYS && off < sizeof text; k++) {
		const char *v = cfg_keys[k].def, *rest = "";

		if (k == CFG_HOSTNAME) {
			v = host;
		} else if (k == CFG_DOMAINS || k == CFG_ORIGIN) {
			v = dom;
		} else if (k == CFG_USER && geteuid() != 0) {
			v = "";		/* no privileges to drop */
		} else if (k == CFG_DKIM_SELECTOR) {
			v = WREN_DKIM ? sel : "";
		} else if (k == CFG_DKIM_KEY && WREN_DKIM) {
			v = dir;
			rest = "/dkim/%d.pem";
		} else if (strncmp(v, ETC, sizeof ETC - 1) == 0 &&
		    cfg_keys[k].type == CFG_T_PATH) {
			rest = v + sizeof ETC - 2;
			v = dir;
		} else if (!etc && strncmp(v, SRV, sizeof SRV - 1) == 0) {
			rest = v + sizeof SRV - 1;
			v = data;
		}
		n = fmt(text + off, sizeof text - off, "# %s\n%s = %s%s\n\n",
		    cfg_keys[k].doc, cfg_keys[k].name, v, rest);
		off += (size_t)n;
	}
	if (off >= sizeof text || file_write_atomic(conf, text, off, 0644,
	    &e) == -1) {
		fmt_fd(STDERR_FILENO, "wren setup: %s\n", off >= sizeof text ?
		    "configuration too long" : e.msg);
		return -1;
	}
	fmt_fd(STDOUT_FILENO, "%s: written\n", conf);
	return 0;
}
