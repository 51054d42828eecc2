/* SPDX-License-Identifier: ISC */
/*
 * mailbox.h - mail addresses as users write them in tables and SMTP
 * paths: `local@domain`, `"quoted local"@domain`, or a bare `local`.
 * Sans-I/O; includes only limits.h.
 *
 * The canonical form, used as a lookup key, is lower case throughout
 * (ASCII letters only; UTF-8 bytes are kept as they are).
 */
#ifndef WREN_MAILBOX_H
#define WREN_MAILBOX_H

#include <stddef.h>

#include "core/limits.h"

enum mailbox_err {
	MAILBOX_OK,
	MAILBOX_EMPTY,
	MAILBOX_LOCAL_TOO_LONG,
	MAILBOX_DOMAIN_TOO_LONG,
	MAILBOX_BAD_LOCAL,
	MAILBOX_BAD_DOMAIN,
	MAILBOX_BAD_QUOTE
};

struct mailbox {
	char	local[ADDR_LOCAL_MAX + 3];	/* with quotes, lower case */
	size_t	llen;
	char	domain[ADDR_DOMAIN_MAX + 1];	/* lower case, "" if bare */
	size_t	dlen;
};

/* Parses s[0..len). `@domain` alone (a catch-all key) is accepted when
 * allow_empty_local is set. Returns MAILBOX_OK or the reason. */
enum mailbox_err	mailbox_parse(const char *s, size_t len,
			    int allow_empty_local, struct mailbox *);
const char		*mailbox_strerror(enum mailbox_err);

/* Writes "local@domain" (or "local") into out; returns the length, or
 * -1 when cap is too small. */
int	mailbox_format(const struct mailbox *, char *out, size_t cap);

/* ASCII lower-casing in place. */
void	mailbox_lower(char *s, size_t len);

#endif
