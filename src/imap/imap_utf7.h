/* SPDX-License-Identifier: ISC */
/*
 * imap_utf7.h - mailbox names between UTF-8 (RFC 9051 5.1: IMAP4rev2
 * sends them as they are) and modified UTF-7 (RFC 3501 5.1.3: how
 * IMAP4rev1 sends them, and how the store keeps them, as Dovecot's
 * Maildir++ does). Sans-I/O: libc only.
 */
#ifndef WREN_IMAP_UTF7_H
#define WREN_IMAP_UTF7_H

#include <stddef.h>
#include <stdint.h>

/* UTF-8 in[0..len) to modified UTF-7 in out[0..cap): printable ASCII
 * as itself ("&" as "&-"), every other character in "&...-" runs of
 * modified base64 of UTF-16. 0 and *outlen, or -1 when in is not
 * UTF-8 (overlong forms, surrogates, past U+10FFFF, cut sequences)
 * or out is too small. */
int	imap_utf8_to_mutf7(const char *in, size_t len, char *out,
	    size_t cap, size_t *outlen);

/* Modified UTF-7 in[0..len) to UTF-8 in out[0..cap): the length, or
 * more than cap when in is not modified UTF-7 as RFC 3501 5.1.3 has
 * it (an 8-bit octet, an unterminated run, an octet outside modified
 * base64, a lone surrogate) or out is too small. Runs are decoded as
 * they come: the shapes folder_name.h refuses (ASCII encoded, spare
 * bits) are not checked again here. */
size_t	imap_mutf7_to_utf8(const char *in, size_t len, char *out,
	    size_t cap);

#endif
