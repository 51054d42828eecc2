/* SPDX-License-Identifier: ISC */
/*
 * cli.h - the subcommands of the multi-call binary and what they share.
 */
#ifndef WREN_CLI_H
#define WREN_CLI_H

#include "core/cfg.h"
#include "core/conn.h"
#include "core/listen.h"

#define WREN_DEFAULT_CONFIG	"/etc/wren/wren.conf"

int	cmd_serve(int argc, char **argv);
int	cmd_check(int argc, char **argv);
int	cmd_map(int argc, char **argv);
int	cmd_newaliases(int argc, char **argv);
int	cmd_queue(int argc, char **argv);
int	cmd_passwd(int argc, char **argv);
int	cmd_sendmail(int argc, char **argv);
int	cmd_resolve(int argc, char **argv);
int	cmd_dkim_keygen(int argc, char **argv);
int	cmd_user(int argc, char **argv);
int	cmd_setup(int argc, char **argv);
int	cmd_client_config(int argc, char **argv);

/* A new password: one line of standard input when from_stdin, else
 * asked twice on the terminal without echo. Returns its length, or -1
 * after printing why (prefixed by who). */
int	cli_password(const char *who, int from_stdin, char *pw, size_t cap);

/* "{SHA512-CRYPT}$6$<random salt>$..." of pw[0..n) into out
 * (CRYPT_OUT_MAX + 16 bytes): 0, or -1 after printing why. */
int	cli_password_hash(const char *pw, size_t n, char *out, size_t cap);

/* `wren user add`'s work for `wren setup`: adds the account with that
 * users-file secret to the table of cfg, under the file's lock, and
 * recompiles it. 0, or -1 after printing why. */
int	cli_user_add(const struct cfg *, const char *addr,
	    const char *secret);

/* The p= value of a DKIM key record (RFC 6376 3.6.1) for the RSA key
 * in a PEM file (PKCS#1 or PKCS#8): the base64 of its DER
 * SubjectPublicKeyInfo, NUL-terminated. 0, or -1 with `FILE: message`
 * in e. For `wren check --dns`, which compares it with the record. */
#define CLI_DKIM_P_MAX	1024	/* base64 of a 4096-bit key's SPKI */
int	cli_dkim_p(const char *keyfile, char *out, size_t cap,
	    struct err *e);

/* Parses the options every config-reading command takes (-c FILE) and
 * returns the index of the first operand, or -1 after printing usage.
 * `extra` lists further flag letters (no argument) the command
 * accepts; each one seen is set in *flags as a bit, in order. */
int	cli_options(int argc, char **argv, const char *usage,
	    const char *extra, const char **config, unsigned *flags);

/*
 * Listener keys and the protocol serving each. A protocol that is built
 * in (Kconfig) but not implemented by this version has no entry yet:
 * its listener is reported, never bound silently.
 */
struct listener_kind {
	enum cfg_key		 key;
	const struct proto	*proto;		/* NULL: not in this build */
};
extern const struct listener_kind listener_kinds[];
extern const size_t listener_nkinds;

#endif
