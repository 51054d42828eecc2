/* SPDX-License-Identifier: ISC */
/*
 * base64.h - RFC 4648 section 4 base64, as SASL (RFC 4954) and MIME
 * use it, and its URL form without padding (section 5) for JWS (RFC
 * 7515 2) in ACME. Sans-I/O.
 */
#ifndef WREN_BASE64_H
#define WREN_BASE64_H

#include <stddef.h>

/* Decodes s[0..len) (padding required, no white space) into out;
 * returns the decoded length, or -1 on bad input or a short out. */
long	base64_decode(const char *s, size_t len, unsigned char *out,
	    size_t cap);

/* Encodes p[0..len) with padding and a NUL; returns the text length,
 * or -1 when cap is too small. */
long	base64_encode(const unsigned char *p, size_t len, char *out,
	    size_t cap);

/* The URL-safe alphabet ('-' '_'), no padding, with a NUL: the text
 * length, or -1 when cap is too small. */
long	base64url_encode(const unsigned char *p, size_t len, char *out,
	    size_t cap);

#endif
