/* SPDX-License-Identifier: ISC */
/*
 * addr.h - IP addresses and host names as text. Addresses are written
 * without libc's inet_ntop (musl's formats with snprintf, see fmt.h).
 */
#ifndef WREN_ADDR_H
#define WREN_ADDR_H

#include <stddef.h>
#include <stdint.h>

/* Enough for the longest IPv6 text form plus NUL. */
#define ADDR_TEXT_MAX	46

/* Writes the address in its canonical form (dotted quad, or RFC 5952
 * IPv6: lower case, longest zero run of two or more groups as "::",
 * leftmost on ties, IPv4-mapped as ::ffff:a.b.c.d). Returns the length,
 * or -1 when cap is too small or the family is unknown. */
int	addr_text(char *out, size_t cap, int family, const uint8_t *addr);

/* Checks a host or domain name: RFC 1035 2.3.1 letters, digits and
 * hyphens (plus '_', seen in the wild, and with allow_utf8 the octets
 * of UTF-8 names, RFC 6531), labels of 1-63, at most 253 characters;
 * a trailing dot is fine. Returns 0 or -1. */
int	addr_check_domain(const char *d, size_t len, int allow_utf8);

#endif
