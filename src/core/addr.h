/*
 * addr.h - IP addresses as text, without libc's inet_ntop (musl's
 * formats with snprintf, see fmt.h for why we avoid that).
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

#endif
