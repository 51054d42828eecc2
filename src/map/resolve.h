/* SPDX-License-Identifier: ISC */
/*
 * resolve.h - recipient resolution (SPEC section 4): which mailboxes
 * and which remote addresses one recipient address stands for.
 *
 * For local@domain with domain local (in `domains`, the host name or
 * localhost), after removing a +tag (recipient_delimiter):
 *   virtual (local@domain, then @domain) -> aliases (local) ->
 *   account (local@domain, then local) -> unknown (550 5.1.1).
 * Targets are expanded recursively; a target that names the address
 * being expanded delivers to its own mailbox (`alice: alice, bob`).
 * Loops and nesting deeper than RESOLVE_DEPTH_MAX fail the recipient
 * (550 5.4.6); duplicates are removed. Addresses in other domains are
 * remote (forwarded by outbound delivery).
 */
#ifndef WREN_RESOLVE_H
#define WREN_RESOLVE_H

#include <stddef.h>

#include "core/cfg.h"
#include "core/limits.h"
#include "map/map.h"

enum resolve_status {
	RESOLVE_OK,
	RESOLVE_UNKNOWN,	/* 550 5.1.1: no such user here */
	RESOLVE_LOOP,		/* 550 5.4.6: expansion loops or too deep */
	RESOLVE_TOO_MANY,	/* 550 5.5.3: expands to too many targets */
	RESOLVE_BAD_ADDRESS,	/* 501 5.1.3: not an address */
	RESOLVE_TEMPFAIL	/* 451 4.3.0: a table is missing or bad */
};

enum resolve_kind {
	RESOLVE_LOCAL,		/* an account: login and home */
	RESOLVE_REMOTE		/* an address to forward to */
};

struct resolve_target {
	enum resolve_kind	 kind;
	const char		*addr;	/* login, or the remote address */
	const char		*home;	/* LOCAL: Maildir is home/Maildir */
	const char		*dest;	/* LOCAL: the address delivered to
					 * (local@domain, for Delivered-To) */
};

#define RESOLVE_ARENA	(RESOLVE_TARGETS_MAX * 96)

struct resolve_result {
	enum resolve_status	status;
	size_t			n;
	struct resolve_target	t[RESOLVE_TARGETS_MAX];
	size_t			unknown;	/* targets with no account */
	char			why[ADDR_MAX + 64];	/* for the log */
	size_t			used;
	char			arena[RESOLVE_ARENA];
};

/* What resolution needs: the config and the three tables. */
struct resolver {
	const struct cfg	*cfg;
	struct map		*users, *aliases, *virtual;
};

/* Resolves one address (no angle brackets). The result is complete
 * only when status is RESOLVE_OK. */
void	resolve(const struct resolver *, const char *addr, size_t len,
	    struct resolve_result *);

/* The account a login names (local@domain, then the bare local part;
 * no aliases, no virtual): one RESOLVE_LOCAL target with its home, or
 * RESOLVE_UNKNOWN. For IMAP and POP3, after the password check. */
void	resolve_account(const struct resolver *, const char *login,
	    size_t len, struct resolve_result *);

/* 1 when mail for the domain is delivered here. */
int	resolve_is_local_domain(const struct cfg *, const char *domain,
	    size_t len);

const char	*resolve_status_name(enum resolve_status);

#endif
