/*
 * check.c - `wren check`: validate the configuration and print every
 * key with its effective value, defaults included (like postconf).
 * Errors are `FILE:LINE: message` and exit status 1.
 *
 *   -d  print the built-in defaults instead (postconf -d)
 *   -n  print only the keys the file sets (postconf -n, doveconf -n)
 */
#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/fmt.h"
#include "imap/imap.h"
#include "map/map.h"
#include "pop3/pop3.h"
#include "store/folder.h"
#include "store/mbox.h"
#include "store/mbox_save.h"
#include "tls/tls.h"
#include "tls/tls_cred.h"

#define CHECK_DEFAULTS		0x1u	/* -d */
#define CHECK_NON_DEFAULT	0x2u	/* -n */

static int	check_tables(const struct cfg *);
static int	check_tls(const struct cfg *);

int
cmd_check(int argc, char **argv)
{
	static struct cfg c;
	const char *path;
	struct err e;
	size_t max;

	unsigned flags;

	if (cli_options(argc, argv, "wren check [-c FILE] [-d | -n]", "dn",
	    &path, &flags) == -1) {
		return 2;
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
	if (check_tables(&c) == -1 || check_tls(&c) == -1) {
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
	if (WREN_IMAP) {
		fmt_fd(STDOUT_FILENO, "# imap: %zu bytes per session, %zu "
		    "per running command (touched as used)\n",
		    imap_bytes_per_session(), imap_bytes_per_workspace());
		fmt_fd(STDOUT_FILENO, "# imap: a selected mailbox's index "
		    "takes %zu bytes per message\n",
		    mbox_bytes_per_message());
		fmt_fd(STDOUT_FILENO, "# imap: an APPEND or COPY batch in "
		    "flight takes %zu bytes of its command's workspace; "
		    "a LIST at most %zu bytes, one for the process\n",
		    mbox_save_bytes(), sizeof(struct folder_list));
	}
	if (WREN_POP3) {
		fmt_fd(STDOUT_FILENO, "# pop3: %zu bytes per session\n",
		    pop3_bytes_per_session());
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
 * simply not set up: a warning.
 */
#define TLS_WARN_DAYS	14

static int
check_tls(const struct cfg *c)
{
	const char *cert = cfg_str(c, CFG_TLS_CERT);
	const char *key = cfg_str(c, CFG_TLS_KEY);
	struct tls_cred cred;
	struct err e;
	struct tm tm;
	long days;

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
	gmtime_r(&cred.not_after, &tm);
	days = (long)((cred.not_after - time(NULL)) / 86400);
	fmt_fd(STDOUT_FILENO, "# tls: %zu certificate%s, %s key matches, "
	    "expires %04d-%02d-%02d (%ld days)\n", cred.chain_len,
	    cred.chain_len == 1 ? "" : "s",
	    cred.key_type == BR_KEYTYPE_EC ? "EC" : "RSA", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, days);
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
	return 0;
}
