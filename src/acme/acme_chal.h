/* SPDX-License-Identifier: ISC */
/*
 * acme_chal.h - the pending ACME HTTP-01 challenges (RFC 8555 8.3): a
 * small fixed table of token -> key authorization that the ACME client
 * fills and the HTTP listener reads to answer
 * GET /.well-known/acme-challenge/<token>. Sans-I/O, no allocation.
 */
#ifndef WREN_ACME_CHAL_H
#define WREN_ACME_CHAL_H

#include <stddef.h>

/* Challenges pending at once: one order covers hostname plus the
 * autoconfig. and mta-sts. names, one challenge each, plus room. */
#define ACME_CHAL_MAX		8
/* A token has at least 128 bits of entropy in base64url (RFC 8555
 * 8.3: 22 characters and up; Let's Encrypt sends 43); 64 bounds it. */
#define ACME_TOKEN_MAX		64
/* Key authorization = token "." base64url(SHA-256 thumbprint) (RFC
 * 8555 8.1): the token plus 1 plus 43. */
#define ACME_KEYAUTH_MAX	(ACME_TOKEN_MAX + 1 + 43)

/* Adds the challenge token -> keyauth (NUL-terminated), replacing one
 * with the same token. The token must be 1..ACME_TOKEN_MAX base64url
 * characters (RFC 4648 5, no padding), the key authorization
 * 1..ACME_KEYAUTH_MAX base64url characters and dots. Returns 0, or -1
 * on bad input or a full table. */
int		 acme_chal_put(const char *token, const char *keyauth);

/* Removes the challenge of token; returns 1 removed, 0 absent. */
int		 acme_chal_del(const char *token);

/* Removes every challenge. */
void		 acme_chal_clear(void);

/* The key authorization for token[0..len) (network data, not
 * NUL-terminated), or NULL when no such challenge is pending or the
 * token is not base64url: the HTTP listener answers 404. */
const char	*acme_http01(const char *token, size_t len);

#endif
