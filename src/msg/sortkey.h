/* SPDX-License-Identifier: ISC */
/*
 * sortkey.h - the text keys of SORT and THREAD (RFC 5256 2.1, 3;
 * RFC 5957), sans-I/O: the base subject of a Subject field and the
 * first mailbox of an address field, both upper-cased for the
 * i;ascii-casemap comparator (RFC 4790 9.2), so that a plain byte
 * comparison of two keys is the comparator's.
 */
#ifndef WREN_SORTKEY_H
#define WREN_SORTKEY_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/*
 * The base subject (RFC 5256 2.1) of a Subject value already decoded
 * to UTF-8 (msg/decode.h decode_header): white space runs become one
 * space, then trailers "(fwd)" and white space, leaders "Re:", "Fw:",
 * "Fwd:" (with [blob]s before and inside them), a leading [blob] that
 * is not all there is, and a "[fwd: ...]" wrapper are removed until
 * none is left. ASCII letters are upper-cased, Latin-1 letters title-
 * cased and decomposed as i;unicode-casemap does (RFC 5051; Dovecot
 * sorts so): an accented letter takes 3 octets where it took 2.
 * Writes the base into out (at most cap octets: the text that does
 * not fit is left out before the base is taken; 2 * len always fits)
 * and returns its length; *reply (may be NULL) is set to 1 when a
 * Re/Fwd leader, a (fwd) trailer or a [fwd:] wrapper was removed
 * (RFC 5256 3, REFERENCES step 6), else 0.
 */
size_t	sortkey_subject(const char *in, size_t len, char *out, size_t cap,
	    int *reply);

/*
 * The key of an address field's raw value (To, From, Cc as written,
 * not decoded) for SORT: with display 0 the local part of its first
 * mailbox (RFC 5256 SORT FROM: addr-mailbox), unquoted; with display
 * 1 (RFC 5957 DISPLAYFROM, DISPLAYTO) the display name of the first
 * mailbox, RFC 2047-decoded (at most SORTKEY_PHRASE_MAX octets of it;
 * case as for subjects), or when it has none (or an empty one)
 * its addr-spec "local@domain". A group counts by its name, as
 * Dovecot takes a group for a first address with that mailbox;
 * comments are dropped. Upper-cased;
 * writes at most cap octets, returns the length (0: no mailbox).
 */
size_t	sortkey_addr(const char *in, size_t len, int display, char *out,
	    size_t cap);

/* A 64-bit hash (FNV-1a) of p[0..len): equal subjects and message
 * IDs are told apart by it in THREAD's tables. */
uint64_t	sortkey_hash(const char *p, size_t len);

#endif
