/* SPDX-License-Identifier: ISC */
/*
 * check.c - `wren check`: validate the configuration and print every
 * key with its effective value, defaults included (like postconf).
 * Errors are `FILE:LINE: message` and exit status 1.
 *
 * Then cross-checks that catch a setup that would lose mail or fail
 * to start, without the network (check_all() below runs them; each
 * an error or a warning naming the key or FILE:LINE):
 *   - postmaster@ of every local domain resolves (RFC 5321 4.5.1), and
 *     abuse@ is warned about when it does not (RFC 2142 section 2);
 *   - alias and virtual targets that have no account;
 *   - `user` exists and is not root;
 *   - the certificate covers `hostname` (RFC 6125 6.4: a SAN dNSName,
 *     a wildcard for one leftmost label, the CN only without SANs);
 *   - users, relay_passwords and the DKIM keys are not readable by
 *     others, the DKIM keys load, and `user` can read every table;
 *   - a public (non-loopback) listener while TLS is not set up;
 *   - an `origin` where no account lives while accounts are all
 *     user@domain (bare names, as in `root: alice`, would be unknown).
 *
 *   -d  print the built-in defaults instead (postconf -d)
 *   -n  print only the keys the file sets (postconf -n, doveconf -n)
 *   --dns [-v]  what the DNS says of this server instead (check_dns.h)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acme/acme.h"
#include "cli/check_dns.h"
#include "cli/cli.h"
#include "core/der.h"
#include "core/file.h"
#include "core/fmt.h"
#include "core/privs.h"
#include "imap/imap.h"
#include "map/map.h"
#include "map/resolve.h"
#include "pop3/pop3.h"
#include "smtp/smtp.h"
#include "store/folder.h"
#include "store/hcache.h"
#include "store/junk.h"
#include "store/mbox.h"
#include "store/mbox_save.h"
#include "tls/dkim_sign.h"
#include "tls/tls.h"
#include "tls/tls_cred.h"

#define CHECK_DEFAULTS		0x1u	/* -d */
#define CHECK_NON_DEFAULT	0x2u	/* -n */
#define CHECK_VERBOSE		0x4u	/* -v, with --dns */

/* The certificate's names, for the hostname check. */
#define CERT_NAMES_MAX	32
struct cert_names {
	const unsigned char	*san[CERT_NAMES_MAX];
	size_t			 sanlen[CERT_NAMES_MAX];
	size_t			 nsan;
	const unsigned char	*cn;
	size_t			 cnlen;
};

static int	check_all(const struct cfg *, const char *);
static int	check_tables(const struct cfg *);
static int	check_tls(const struct cfg *, const char *, int *);
static int	check_user(const struct cfg *, const char *);
static int	check_modes(const struct cfg *, const char *);
static int	check_mode(const struct cfg *, const char *, enum cfg_key,
		    const char *);
static int	check_dkim_keys(const struct cfg *, const char *);
static int	check_dkim_load(const struct cfg *, const char *,
		    struct err *);
static int	check_readable(const struct cfg *, const char *);
static int	check_role_addresses(const struct cfg *, const char *,
		    const struct resolver *);
static void	check_targets(const struct cfg *, enum map_type,
		    const struct resolver *);
static void	check_origin(const struct cfg *, const char *);
static void	check_listeners(const struct cfg *, const char *, int);
static void	where(const struct cfg *, const char *, enum cfg_key);
static int	cert_covers(const unsigned char *, size_t, const char *,
		    struct cert_names *);
static int	cert_parse(const unsigned char *, size_t,
		    struct cert_names *);
static void	cert_rdns(const unsigned char *, size_t,
		    struct cert_names *);
static int	host_match(const unsigned char *, size_t, const char *);

int
cmd_check(int argc, char **argv)
{
	static struct cfg c;
	const char *path;
	struct err e;
	size_t max;
	unsigned flags;
	int dns = 0;

	/* --dns, a long option getopt does not know: taken out first. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--dns") == 0) {
			memmove(&argv[i], &argv[i + 1],
			    (size_t)(argc - i) * sizeof *argv);
			argc--;
			dns = 1;
			break;
		}
	}
	if (cli_options(argc, argv, "wren check [-c FILE] [-d | -n] | "
	    "wren check --dns [-c FILE] [-v]", "dnv", &path, &flags) == -1) {
		return 2;
	}
	if (dns) {
		if (!WREN_OUTBOUND) {
			fmt_fd(STDERR_FILENO, "wren check --dns: needs the "
			    "resolver of outbound delivery, not built in\n");
			return 2;
		}
		if (cfg_load(&c, path, &e) == -1) {
			fmt_fd(STDERR_FILENO, "%s\n", e.msg);
			return 1;
		}
		return check_dns(&c, (flags & CHECK_VERBOSE) != 0);
	}
	if (flags & CHECK_DEFAULTS) {
		for (int k = 0; k < CFG_NKEYS; k++) {
			fmt_fd(STDOUT_FILENO, "%s = %s\n", cfg_keys[k].name,
			    cfg_keys[k].def);
		}
		return 0;
	}
	if (cfg_load(&c, path, &e) == -1) {
		fmt_fd(STDERR_FILENO, "%s\n", e.msg);
		return 1;
	}
	for (size_t k = 0; k < listener_nkinds; k++) {
		const struct listener_kind *lk = &listener_kinds[k];

		unsigned line = c.v[lk->key].line;

		if (lk->proto != NULL || cfg_str(&c, lk->key)[0] == '\0') {
			continue;
		}
		if (line != 0) {
			fmt_fd(STDERR_FILENO, "%s:%u: ", path, line);
		} else {
			fmt_fd(STDERR_FILENO, "%s: (default) ", path);
		}
		fmt_fd(STDERR_FILENO, "warning: %s: this version of wren "
		    "does not serve it yet\n", cfg_keys[lk->key].name);
	}
	if (flags & CHECK_NON_DEFAULT) {
		for (int k = 0; k < CFG_NKEYS; k++) {
			if (c.v[k].line != 0) {
				fmt_fd(STDOUT_FILENO, "%s = %s\n",
				    cfg_keys[k].name, c.v[k].str);
			}
		}
		return 0;
	}
	if (check_all(&c, path) == -1) {
		return 1;
	}
	if (cfg_print(&c, STDOUT_FILENO) == -1) {
		return 1;
	}
	max = (size_t)cfg_num(&c, CFG_MAX_CONNECTIONS);
	fmt_fd(STDOUT_FILENO, "# memory: %zu bytes per connection, %zu KiB "
	    "for max_connections = %zu; a TLS session adds %zu bytes\n",
	    conn_bytes_per_connection(),
	    conn_bytes_per_connection() * max / 1024, max,
	    tls_bytes_per_connection());
	/* Every pool a connection draws from is named here: the load
	 * bench and test add these up against the server's RSS. */
	if (WREN_SMTP) {
		fmt_fd(STDOUT_FILENO, "# smtp: %zu bytes per session\n",
		    smtp_bytes_per_session());
	}
	if (WREN_IMAP) {
		fmt_fd(STDOUT_FILENO, "# imap: %zu bytes per session, %zu "
		    "per running command (touched as used)\n",
		    imap_bytes_per_session(), imap_bytes_per_workspace());
		fmt_fd(STDOUT_FILENO, "# imap: a selected mailbox's index "
		    "takes %zu bytes per message; its header cache %zu "
		    "more per message cached, and %zu KiB for all\n",
		    mbox_bytes_per_message(), hcache_bytes_per_message(),
		    hcache_bytes_shared() / 1024);
		fmt_fd(STDOUT_FILENO, "# imap: an APPEND or COPY batch in "
		    "flight takes %zu bytes of its command's workspace; "
		    "a LIST at most %zu bytes, one for the process\n",
		    mbox_save_bytes(), sizeof(struct folder_list));
	}
	if (WREN_POP3) {
		fmt_fd(STDOUT_FILENO, "# pop3: %zu bytes per session\n",
		    pop3_bytes_per_session());
	}
	if (WREN_JUNK_FILTER && cfg_num(&c, CFG_JUNK_FILTER)) {
		size_t n = (size_t)cfg_num(&c, CFG_JUNK_DB_OPEN);

		fmt_fd(STDOUT_FILENO, "# junk: %zu bytes per account's "
		    "database in memory, %zu KiB for junk_db_open = %zu and "
		    "the scanners; at most %zu bytes on disk per account "
		    "(Maildir/wren-junk.db)\n", junk_bytes_per_account(),
		    (n * junk_bytes_per_account() + junk_bytes_shared()) /
		    1024, n, junk_disk_per_account());
	}
	return 0;
}

/*
 * Each table: a source without its .cdb is an error (the server would
 * answer 4xx), a source newer than its .cdb a warning (like postfix
 * check), a .cdb that does not open an error.
 */
static int
check_tables(const struct cfg *c)
{
	int rc = 0;

	for (int t = 0; t < MAP_NTYPES; t++) {
		const char *src = cfg_str(c, map_cfg_key[t]);
		struct stat s, d;
		struct map m;
		int have_src, have_cdb;
		char cdb[CFG_PATH_MAX + 4];

		if (src[0] == '\0') {
			continue;
		}
		if (fmt(cdb, sizeof cdb, "%s.cdb", src) >= (int)sizeof cdb) {
			fmt_fd(STDERR_FILENO, "%s: %s: path too long\n",
			    cfg_keys[map_cfg_key[t]].name, src);
			rc = -1;
			continue;
		}
		have_src = stat(src, &s) == 0;
		have_cdb = stat(cdb, &d) == 0;
		if (have_src && !have_cdb) {
			fmt_fd(STDERR_FILENO, "%s: %s is missing: run "
			    "`wren map %s`\n", cfg_keys[map_cfg_key[t]].name,
			    cdb, src);
			rc = -1;
			continue;
		}
		if (!have_cdb) {
			continue;	/* not in use: an empty table */
		}
		if (have_src && (s.st_mtim.tv_sec > d.st_mtim.tv_sec ||
		    (s.st_mtim.tv_sec == d.st_mtim.tv_sec &&
		    s.st_mtim.tv_nsec > d.st_mtim.tv_nsec))) {
			fmt_fd(STDERR_FILENO, "%s: warning: %s is newer than "
			    "%s: run `wren map %s`\n",
			    cfg_keys[map_cfg_key[t]].name, src, cdb, src);
		}
		map_open(&m, (enum map_type)t, src);
		if (m.state != MAP_ST_OK) {
			fmt_fd(STDERR_FILENO, "%s: %s: %s\n",
			    cfg_keys[map_cfg_key[t]].name, cdb,
			    map_state_name(m.state));
			rc = -1;
		}
		map_close(&m);
	}
	return rc;
}

/*
 * The certificate and key: they must load and belong together (the
 * key matches the first certificate, so the chain starts with the
 * server's own). The expiry date is printed; under TLS_WARN_DAYS left
 * is a warning, past it an error. Neither file existing means TLS is
 * simply not set up: a warning. The leaf must name `hostname`, the name
 * clients connect to (MX, IMAP): an error when the key sets it, a
 * warning when it is this system's name (the file does not say what
 * clients use). *tls_ok: a certificate and key that load.
 */
#define TLS_WARN_DAYS	14

static int
check_tls(const struct cfg *c, const char *conf, int *tls_ok)
{
	const char *cert = cfg_str(c, CFG_TLS_CERT);
	const char *key = cfg_str(c, CFG_TLS_KEY);
	char hbuf[CFG_HOST_MAX + 1], names[256], acert[600], akey[600];
	const char *host = cfg_hostname(c, hbuf, sizeof hbuf);
	static struct cert_names cn;
	struct tls_cred cred;
	struct err e;
	struct tm tm;
	long days;
	int rc = 0, covers;

	*tls_ok = 0;
	if (WREN_ACME && acme_tls_paths(c, acert, akey, sizeof acert)) {
		/* ACME's own pair (acme.h) instead of tls_cert/tls_key */
		cert = acert;
		key = akey;
		if (access(cert, F_OK) == -1) {
			fmt_fd(STDERR_FILENO, "acme: no certificate yet (%s): "
			    "wren serve orders one\n", cert);
			return 0;
		}
	}
	if (cert[0] == '\0' && key[0] == '\0') {
		return 0;
	}
	if (access(cert, F_OK) == -1 && errno == ENOENT &&
	    access(key, F_OK) == -1 && errno == ENOENT) {
		fmt_fd(STDERR_FILENO, "tls_cert: warning: %s does not exist: "
		    "no STARTTLS and no implicit TLS\n", cert);
		return 0;
	}
	if (tls_cred_load(&cred, cert, key, &e) == -1) {
		fmt_fd(STDERR_FILENO, "%s\n", e.msg);
		return -1;
	}
	*tls_ok = 1;
	gmtime_r(&cred.not_after, &tm);
	days = (long)((cred.not_after - time(NULL)) / 86400);
	fmt_fd(STDOUT_FILENO, "# tls: %zu certificate%s, %s key matches, "
	    "expires %04d-%02d-%02d (%ld days)\n", cred.chain_len,
	    cred.chain_len == 1 ? "" : "s",
	    cred.key_type == BR_KEYTYPE_EC ? "EC" : "RSA", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, days);
	covers = cert_covers(cred.chain[0].data, cred.chain[0].data_len,
	    host, &cn);
	if (covers != 1) {
		size_t o = 0;

		names[0] = '\0';
		for (size_t i = 0; i < cn.nsan && o < sizeof names; i++) {
			o += (size_t)fmt(names + o, sizeof names - o, "%s%.*s",
			    i > 0 ? ", " : "", (int)cn.sanlen[i],
			    (const char *)cn.san[i]);
		}
		if (cn.nsan == 0 && cn.cn != NULL) {
			(void)fmt(names, sizeof names, "CN %.*s",
			    (int)cn.cnlen, (const char *)cn.cn);
		}
		if (cfg_str(c, CFG_HOSTNAME)[0] != '\0') {
			where(c, conf, CFG_HOSTNAME);
			fmt_fd(STDERR_FILENO, "hostname: %s: the certificate "
			    "%s does not cover it (it names %s): clients that "
			    "check names will refuse it\n", host, cert,
			    names[0] != '\0' ? names : "nothing");
			rc = -1;
		} else {
			fmt_fd(STDERR_FILENO, "hostname: warning: this "
			    "system's name %s is not in the certificate %s "
			    "(it names %s): set hostname to the name clients "
			    "use\n", host, cert, names[0] != '\0' ? names :
			    "nothing");
		}
	}
	tls_cred_free(&cred);
	if (days < 0) {
		fmt_fd(STDERR_FILENO, "%s: the certificate has expired\n",
		    cert);
		return -1;
	}
	if (days < TLS_WARN_DAYS) {
		fmt_fd(STDERR_FILENO, "%s: warning: the certificate expires "
		    "in %ld days\n", cert, days);
	}
	return rc;
}

/* Every check runs, so one pass shows every problem. */
static int
check_all(const struct cfg *c, const char *conf)
{
	static struct maps m;
	struct resolver rv;
	int rc = 0, tls_ok = 0;

	rc |= check_tables(c);
	rc |= check_tls(c, conf, &tls_ok);
	rc |= check_user(c, conf);
	rc |= check_modes(c, conf);
	rc |= check_readable(c, conf);
	check_listeners(c, conf, tls_ok);
	maps_open(&m, c);
	rv.cfg = c;
	rv.users = &m.m[MAP_USERS];
	rv.aliases = &m.m[MAP_ALIASES];
	rv.virtual = &m.m[MAP_VIRTUAL];
	if (rv.users->state == MAP_ST_ABSENT &&
	    rv.aliases->state == MAP_ST_ABSENT &&
	    rv.virtual->state == MAP_ST_ABSENT) {
		fmt_fd(STDERR_FILENO, "users: warning: no users, aliases or "
		    "virtual table yet: every local address is unknown\n");
	} else if (rv.users->state != MAP_ST_MISSING &&
	    rv.users->state != MAP_ST_BAD &&
	    rv.aliases->state != MAP_ST_MISSING &&
	    rv.aliases->state != MAP_ST_BAD &&
	    rv.virtual->state != MAP_ST_MISSING &&
	    rv.virtual->state != MAP_ST_BAD) {
		/* (tables that do not open are check_tables' errors) */
		rc |= check_role_addresses(c, conf, &rv);
		check_targets(c, MAP_ALIASES, &rv);
		check_targets(c, MAP_VIRTUAL, &rv);
		check_origin(c, conf);
	}
	maps_close(&m);
	return rc != 0 ? -1 : 0;
}

/* `FILE:LINE: ` when the file sets the key; nothing for a default. */
static void
where(const struct cfg *c, const char *conf, enum cfg_key k)
{
	if (c->v[k].line != 0) {
		fmt_fd(STDERR_FILENO, "%s:%u: ", conf, c->v[k].line);
	}
}

/*
 * `user` as serve resolves it (privs.c reads /etc/passwd itself: a
 * static binary has no NSS): a name that is not there, or uid 0, makes
 * serve refuse to start, and a service manager restart it in a loop.
 */
static int
check_user(const struct cfg *c, const char *conf)
{
	const char *user = cfg_str(c, CFG_USER);
	struct privs pv;
	struct err e;

	if (user[0] == '\0') {
		return 0;
	}
	if (privs_resolve(user, "/etc/passwd", "/etc/group", &pv, &e) == -1) {
		where(c, conf, CFG_USER);
		fmt_fd(STDERR_FILENO, "user: %s: serve would not start; "
		    "create the user (e.g. useradd -r -s /usr/sbin/nologin "
		    "wren) or set another\n", e.msg);
		return -1;
	}
	if (pv.switch_user && pv.uid == 0) {
		where(c, conf, CFG_USER);
		fmt_fd(STDERR_FILENO, "user: '%s' is root (uid 0): serve "
		    "refuses to run as root; use an unprivileged user such "
		    "as mail\n", user);
		return -1;
	}
	return 0;
}

/* Secrets: the users table (password hashes), relay_passwords (clear
 * text) and the DKIM key, sources and .cdb files alike. */
static int
check_modes(const struct cfg *c, const char *conf)
{
	static const enum cfg_key keys[] = { CFG_USERS, CFG_RELAY_PASSWORDS };
	char path[CFG_PATH_MAX + 4];
	int rc = 0;

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *src = cfg_str(c, keys[i]);

		if (src[0] == '\0') {
			continue;
		}
		rc |= check_mode(c, conf, keys[i], src);
		if (fmt(path, sizeof path, "%s.cdb", src) < (int)sizeof path) {
			rc |= check_mode(c, conf, keys[i], path);
		}
	}
	if (WREN_DKIM) {	/* else dkim_key is not read at all */
		rc |= check_dkim_keys(c, conf);
	}
	return rc;
}

/*
 * The DKIM keys: they load as serve loads them (dkim_setup: PEM, RSA,
 * 1024-4096 bits; with %d in dkim_key, one file per local domain that
 * has one), and none is readable by others.
 */
static int
check_dkim_keys(const struct cfg *c, const char *conf)
{
	const char *key = cfg_str(c, CFG_DKIM_KEY);
	const char *sel = cfg_str(c, CFG_DKIM_SELECTOR);
	char host[CFG_HOST_MAX + 1], list[CFG_VALUE_MAX + CFG_HOST_MAX + 2];
	char path[CFG_PATH_MAX + CFG_HOST_MAX];
	const char *pct = strstr(key, "%d"), *p;
	struct err e;
	int rc = 0, found = 0;

	if (key[0] == '\0' || sel[0] == '\0') {
		return 0;
	}
	if (pct == NULL) {
		if (access(key, F_OK) == -1) {
			where(c, conf, CFG_DKIM_KEY);
			fmt_fd(STDERR_FILENO, "dkim_key: %s: %s (make one "
			    "with `wren dkim-keygen -o %s DOMAIN %s`)\n", key,
			    strerror(errno), key, sel);
			return -1;
		}
		return check_mode(c, conf, CFG_DKIM_KEY, key) |
		    check_dkim_load(c, conf, &e);
	}
	(void)fmt(list, sizeof list, "%s %s", cfg_str(c, CFG_DOMAINS),
	    cfg_hostname(c, host, sizeof host));
	for (p = list; *p != '\0';) {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',') {
			p++;
		}
		n = strcspn(p, " \t,");
		if (n > 0 && fmt(path, sizeof path, "%.*s%.*s%s",
		    (int)(pct - key), key, (int)n, p, pct + 2) <
		    (int)sizeof path && access(path, F_OK) == 0) {
			found = 1;
			rc |= check_mode(c, conf, CFG_DKIM_KEY, path);
		}
		p += n;
	}
	if (!found) {
		where(c, conf, CFG_DKIM_KEY);
		fmt_fd(STDERR_FILENO, "dkim_key: %s: no key for any local "
		    "domain (%%d is each of them; make one with `wren "
		    "dkim-keygen -o FILE DOMAIN %s`)\n", key, sel);
		return -1;
	}
	return rc | check_dkim_load(c, conf, &e);
}

static int
check_dkim_load(const struct cfg *c, const char *conf, struct err *e)
{
	if (dkim_setup(c, e) == -1) {
		where(c, conf, CFG_DKIM_KEY);
		fmt_fd(STDERR_FILENO, "%s\n", e->msg);
		return -1;
	}
	return 0;
}

/*
 * serve opens the tables after it has become `user`: a .cdb that user
 * cannot read answers every lookup with a temporary failure (451). The
 * service user is never root (check_user), so only the mode bits and
 * the owner and groups count.
 */
static int
check_readable(const struct cfg *c, const char *conf)
{
	char path[CFG_PATH_MAX + 4];
	struct privs pv;
	struct err e;
	int rc = 0;

	if (privs_resolve(cfg_str(c, CFG_USER), "/etc/passwd", "/etc/group",
	    &pv, &e) == -1 || !pv.switch_user || pv.uid == 0) {
		return 0;
	}
	for (int t = 0; t < MAP_NTYPES; t++) {
		const char *src = cfg_str(c, map_cfg_key[t]);
		struct stat st;
		int ok;

		if (src[0] == '\0' || fmt(path, sizeof path, "%s.cdb", src) >=
		    (int)sizeof path || stat(path, &st) == -1) {
			continue;
		}
		ok = (st.st_mode & S_IROTH) != 0 ||
		    (st.st_uid == pv.uid && (st.st_mode & S_IRUSR) != 0);
		for (size_t g = 0; g < pv.ngroups && !ok; g++) {
			ok = st.st_gid == pv.groups[g] &&
			    (st.st_mode & S_IRGRP) != 0;
		}
		if (!ok) {
			where(c, conf, map_cfg_key[t]);
			fmt_fd(STDERR_FILENO, "%s: %s is not readable by user "
			    "%s (uid %u), which serve runs as: every lookup "
			    "would fail (451); run `chgrp %u %s` and `chmod "
			    "g+r %s`\n", cfg_keys[map_cfg_key[t]].name, path,
			    cfg_str(c, CFG_USER), (unsigned)pv.uid,
			    (unsigned)pv.gid, path, path);
			rc = -1;
		}
	}
	return rc;
}

static int
check_mode(const struct cfg *c, const char *conf, enum cfg_key k,
    const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1 || (st.st_mode & (S_IROTH | S_IWOTH)) ==
	    0) {
		return 0;
	}
	where(c, conf, k);
	fmt_fd(STDERR_FILENO, "%s: %s is %s by others (mode 0%u%u%u): run "
	    "`chmod o-rw %s`\n", cfg_keys[k].name, path,
	    (st.st_mode & S_IROTH) ? "readable" : "writable",
	    (unsigned)(st.st_mode >> 6) & 7u, (unsigned)(st.st_mode >> 3) & 7u,
	    (unsigned)st.st_mode & 7u, path);
	return -1;
}

/*
 * postmaster@ of each local domain must reach someone (RFC 5321 4.5.1:
 * a server must accept it), abuse@ should (RFC 2142 2; large mailbox
 * providers and blocklists write to it). The names of `domains`, and
 * the host name; not localhost, which no one outside can name.
 */
static int
check_role_addresses(const struct cfg *c, const char *conf,
    const struct resolver *rv)
{
	static struct resolve_result res;
	static const char *const role[] = { "postmaster", "abuse" };
	char host[CFG_HOST_MAX + 1], addr[ADDR_MAX + 1];
	char list[CFG_VALUE_MAX + CFG_HOST_MAX + 2];
	const char *p, *h = cfg_hostname(c, host, sizeof host);
	size_t hlen = strlen(h);
	int rc = 0;

	(void)fmt(list, sizeof list, "%s %s", h, cfg_str(c, CFG_DOMAINS));
	for (p = list; *p != '\0';) {
		enum cfg_key k = p == list ? CFG_HOSTNAME : CFG_DOMAINS;
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',') {
			p++;
		}
		n = strcspn(p, " \t,");
		if (n == 0 || (n == 9 && strncasecmp(p, "localhost", 9) ==
		    0) || (k == CFG_DOMAINS && n == hlen &&
		    strncasecmp(p, h, n) == 0)) {
			p += n;
			continue;
		}
		for (size_t r = 0; r < 2; r++) {
			if (fmt(addr, sizeof addr, "%s@%.*s", role[r], (int)n,
			    p) >= (int)sizeof addr) {
				continue;
			}
			resolve(rv, addr, strlen(addr), &res);
			if (res.status == RESOLVE_OK ||
			    res.status == RESOLVE_TEMPFAIL) {
				continue;
			}
			where(c, conf, k);
			fmt_fd(STDERR_FILENO, "%s: %s%s would get %s (%s: "
			    "%s): add `%s: root` (or an account) to %s and "
			    "run `wren map %s`%s\n", cfg_keys[k].name,
			    r == 0 ? "" : "warning: ", addr,
			    res.status == RESOLVE_TOO_MANY ? "452" :
			    res.status == RESOLVE_BAD_ADDRESS ? "501" : "550",
			    resolve_status_name(res.status), res.why,
			    role[r], cfg_str(c, CFG_ALIASES),
			    cfg_str(c, CFG_ALIASES), r == 0 ?
			    " (RFC 5321 4.5.1)" : " (RFC 2142)");
			if (r == 0) {
				rc = -1;
			}
		}
		p += n;
	}
	return rc;
}

/*
 * Each target of the aliases or virtual source, resolved as mail to it
 * would be: one without an account is skipped when mail arrives (and
 * the whole address refused when none of its targets has one).
 * Warnings, with the source's FILE:LINE.
 */
static void
check_targets(const struct cfg *c, enum map_type t,
    const struct resolver *rv)
{
	static struct resolve_result res;
	static struct map_text mt;
	static struct map_rec rec;
	const char *src = cfg_str(c, map_cfg_key[t]);
	struct err e;
	size_t len;
	char *buf;

	if (src[0] == '\0' || access(src, F_OK) == -1 ||
	    (buf = file_read_all(src, MAP_SOURCE_MAX, &len, &e)) == NULL) {
		return;
	}
	map_text_init(&mt, t, src, buf, len);
	while (map_text_next(&mt, &rec, &e) == 1) {
		const char *q = rec.val, *end = rec.val + rec.vlen;

		while (q < end) {
			const char *nul = memchr(q, '\0', (size_t)(end - q));
			size_t tl = (size_t)((nul ? nul : end) - q);

			if (tl > 0) {
				resolve(rv, q, tl, &res);
				if (res.status != RESOLVE_OK &&
				    res.status != RESOLVE_TEMPFAIL) {
					fmt_fd(STDERR_FILENO, "%s:%u: "
					    "warning: %s: target %.*s: %s "
					    "(%s)\n", src, rec.line,
					    rec.key, (int)tl, q,
					    resolve_status_name(
					    res.status), res.why);
				}
			}
			q += tl + 1;
		}
	}
	free(buf);
}

/*
 * Bare names (`root: alice` in aliases, `sendmail alice`) take the
 * origin domain. When every account is user@domain and none is
 * @origin, or origin is not delivered here at all, they end up unknown
 * or sent away: the postmaster@ answered 550 that way.
 */
static void
check_origin(const struct cfg *c, const char *conf)
{
	static struct map_text mt;
	static struct map_rec rec;
	const char *src = cfg_str(c, CFG_USERS);
	char hbuf[CFG_HOST_MAX + 1], other[ADDR_DOMAIN_MAX + 1];
	const char *o = cfg_str(c, CFG_ORIGIN);
	size_t len, olen, n = 0, here = 0, bare = 0;
	struct err e;
	char *buf;

	if (o[0] == '\0') {
		o = cfg_hostname(c, hbuf, sizeof hbuf);
	}
	olen = strlen(o);
	if (!resolve_is_local_domain(c, o, olen)) {
		where(c, conf, CFG_ORIGIN);
		fmt_fd(STDERR_FILENO, "origin: warning: %s is not a local "
		    "domain: bare names (root, alice) leave this server\n",
		    o);
		return;
	}
	if (src[0] == '\0' || access(src, F_OK) == -1 ||
	    (buf = file_read_all(src, MAP_SOURCE_MAX, &len, &e)) == NULL) {
		return;
	}
	other[0] = '\0';
	map_text_init(&mt, MAP_USERS, src, buf, len);
	while (map_text_next(&mt, &rec, &e) == 1) {
		const char *at = memchr(rec.key, '@', rec.klen);

		n++;
		if (at == NULL) {
			bare++;
		} else if (rec.klen - (size_t)(at + 1 - rec.key) == olen &&
		    strncasecmp(at + 1, o, olen) == 0) {
			here++;
		} else if (other[0] == '\0' &&
		    rec.klen - (size_t)(at + 1 - rec.key) < sizeof other) {
			(void)fmt(other, sizeof other, "%.*s",
			    (int)(rec.klen - (size_t)(at + 1 - rec.key)),
			    at + 1);
		}
	}
	free(buf);
	if (n > 0 && bare == 0 && here == 0) {
		where(c, conf, CFG_ORIGIN);
		fmt_fd(STDERR_FILENO, "origin: warning: %s%s: every account "
		    "in %s is user@domain and none @%s: bare names (`root: "
		    "alice` in aliases, sendmail) are unknown; set origin = "
		    "%s\n", o, cfg_str(c, CFG_ORIGIN)[0] == '\0' ?
		    " (default: hostname)" : "", src, o,
		    other[0] != '\0' ? other : "your mail domain");
	}
}

/*
 * A listener on a non-loopback address while TLS is not set up: mail,
 * and passwords where AUTH is offered, cross the network in clear, and
 * implicit-TLS ports cannot work at all.
 */
static void
check_listeners(const struct cfg *c, const char *conf, int tls_ok)
{
	static const enum cfg_key keys[] = { CFG_SMTP_LISTEN,
	    CFG_SUBMISSION_LISTEN, CFG_SUBMISSIONS_LISTEN, CFG_IMAP_LISTEN,
	    CFG_IMAPS_LISTEN, CFG_POP3_LISTEN, CFG_POP3S_LISTEN,
	    CFG_HTTPS_LISTEN };
	static const uint8_t v6lo[16] = { [15] = 1 };
	struct cfg_listen l[CFG_LISTEN_MAX];
	char others[256];
	size_t n, o = 0;
	int first = -1;
	struct err e;

	if (tls_ok) {
		return;
	}
	others[0] = '\0';
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		int pub = 0;

		if (cfg_parse_listen(cfg_str(c, keys[k]), l,
		    sizeof l / sizeof l[0], &n, &e) == -1) {
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (!(l[i].family == AF_INET && l[i].addr[0] == 127) &&
			    !(l[i].family == AF_INET6 && memcmp(l[i].addr,
			    v6lo, 16) == 0)) {
				pub = 1;
			}
		}
		if (pub && first == -1) {
			first = (int)k;
		} else if (pub && o < sizeof others) {
			o += (size_t)fmt(others + o, sizeof others - o, ", %s",
			    cfg_keys[keys[k]].name);
		}
	}
	if (first == -1) {
		return;
	}
	where(c, conf, keys[first]);
	fmt_fd(STDERR_FILENO, "%s: warning: %s is public and TLS is not set "
	    "up (tls_cert %s): no encryption for mail and passwords%s%s%s\n",
	    cfg_keys[keys[first]].name, cfg_str(c, keys[first]),
	    cfg_str(c, CFG_TLS_CERT), others[0] != '\0' ? " (nor for " : "",
	    others[0] != '\0' ? others + 2 : "", others[0] != '\0' ? ")" :
	    "");
}

/*
 * 1 when the leaf certificate names host (RFC 6125 6.4): a SAN
 * dNSName, or without any, the subject's CN. 0 when not, -1 when the
 * DER does not parse that far. Fills *cn with the names seen.
 */
static int
cert_covers(const unsigned char *der, size_t len, const char *host,
    struct cert_names *cn)
{
	memset(cn, 0, sizeof *cn);
	if (cert_parse(der, len, cn) == -1) {
		return -1;
	}
	for (size_t i = 0; i < cn->nsan; i++) {
		if (host_match(cn->san[i], cn->sanlen[i], host)) {
			return 1;
		}
	}
	if (cn->nsan == 0 && cn->cn != NULL) {
		return host_match(cn->cn, cn->cnlen, host);
	}
	return 0;
}

/*
 * Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
 *     OPTIONAL, serialNumber, signature, issuer, validity, subject,
 *     subjectPublicKeyInfo, [1] [2] OPTIONAL, [3] extensions }, ... }
 * (RFC 5280 4.1). Extension ::= SEQUENCE { extnID OID, critical
 * BOOLEAN OPTIONAL, extnValue OCTET STRING }; subjectAltName
 * (2.5.29.17) holds GeneralNames, dNSName being [2] IA5String.
 */
static int
cert_parse(const unsigned char *der, size_t len, struct cert_names *cn)
{
	static const unsigned char san_oid[] = { 0x55, 0x1d, 0x11 };
	const unsigned char *p = der, *end = der + len, *v;
	size_t vlen;
	unsigned tag;
	int field = 0;

	if (der_get(&p, end, &tag, &v, &vlen) == -1 || tag != 0x30) {
		return -1;
	}
	p = v;
	end = v + vlen;
	if (der_get(&p, end, &tag, &v, &vlen) == -1 || tag != 0x30) {
		return -1;
	}
	p = v;
	end = v + vlen;
	while (p < end) {
		if (der_get(&p, end, &tag, &v, &vlen) == -1) {
			return -1;
		}
		if (tag == 0xa0) {
			continue;		/* version */
		}
		/* 1 serial, 2 signature, 3 issuer, 4 validity, 5 subject */
		field++;
		if (field == 5 && tag == 0x30) {
			cert_rdns(v, vlen, cn);
		}
		if (tag == 0xa3) {
			const unsigned char *x = v, *xe = v + vlen, *ev;
			size_t elen;

			if (der_get(&x, xe, &tag, &ev, &elen) == -1 ||
			    tag != 0x30) {
				return -1;
			}
			x = ev;
			xe = ev + elen;
			while (x < xe) {
				const unsigned char *q, *qe, *f;
				size_t flen;

				if (der_get(&x, xe, &tag, &ev, &elen) == -1) {
					return -1;
				}
				q = ev;
				qe = ev + elen;
				if (der_get(&q, qe, &tag, &f, &flen) == -1 ||
				    tag != 0x06 || flen != sizeof san_oid ||
				    memcmp(f, san_oid, flen) != 0) {
					continue;
				}
				while (q < qe && der_get(&q, qe, &tag, &f,
				    &flen) == 0 && tag != 0x04) {
					;	/* critical */
				}
				if (tag != 0x04 || der_get(&f, f + flen, &tag,
				    &ev, &elen) == -1 || tag != 0x30) {
					return -1;
				}
				q = ev;
				qe = ev + elen;
				while (q < qe && der_get(&q, qe, &tag, &f,
				    &flen) == 0) {
					if (tag == 0x82 &&
					    cn->nsan < CERT_NAMES_MAX) {
						cn->san[cn->nsan] = f;
						cn->sanlen[cn->nsan++] = flen;
					}
				}
			}
		}
	}
	return 0;
}

/* The last CN of a Name: SEQUENCE OF SET OF { OID, value }. */
static void
cert_rdns(const unsigned char *p, size_t len, struct cert_names *cn)
{
	static const unsigned char cn_oid[] = { 0x55, 0x04, 0x03 };
	const unsigned char *end = p + len, *set, *atv, *f;
	size_t slen, alen, flen;
	unsigned tag;

	while (p < end && der_get(&p, end, &tag, &set, &slen) == 0) {
		const unsigned char *s = set, *se = set + slen;

		while (s < se && der_get(&s, se, &tag, &atv, &alen) == 0) {
			const unsigned char *a = atv, *ae = atv + alen;

			if (der_get(&a, ae, &tag, &f, &flen) == 0 &&
			    tag == 0x06 && flen == sizeof cn_oid &&
			    memcmp(f, cn_oid, flen) == 0 &&
			    der_get(&a, ae, &tag, &f, &flen) == 0) {
				cn->cn = f;
				cn->cnlen = flen;
			}
		}
	}
}

/* A certificate name against a host name, without case; "*." matches
 * one whole leftmost label (RFC 6125 6.4.3), never a bare domain. */
static int
host_match(const unsigned char *name, size_t nlen, const char *host)
{
	size_t hlen = strlen(host);
	const char *dot;

	if (nlen > 0 && name[nlen - 1] == '.') {
		nlen--;
	}
	if (hlen > 0 && host[hlen - 1] == '.') {
		hlen--;
	}
	if (nlen == hlen && strncasecmp((const char *)name, host, hlen) ==
	    0) {
		return 1;
	}
	if (nlen < 3 || name[0] != '*' || name[1] != '.' ||
	    (dot = memchr(host, '.', hlen)) == NULL || dot == host) {
		return 0;
	}
	return (size_t)(host + hlen - (dot + 1)) == nlen - 2 &&
	    strncasecmp((const char *)name + 2, dot + 1, nlen - 2) == 0;
}

