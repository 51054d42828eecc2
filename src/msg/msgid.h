/* SPDX-License-Identifier: ISC */
/*
 * msgid.h - message IDs in Message-ID, References and In-Reply-To
 * (RFC 5322 3.6.4) for THREAD=REFERENCES (RFC 5256 3), sans-I/O.
 *
 * An ID is what stands between '<' and the next '>': at least one
 * octet, no white space, control, '<' or '"', one '@' with text on
 * both sides (as msg-id = "<" id-left "@" id-right ">"). Anything
 * else in the value (phrases of old In-Reply-To fields, comments,
 * malformed IDs) is skipped. Folding white space must already be
 * unfolded (msg/decode.h gives values so).
 */
#ifndef WREN_MSGID_H
#define WREN_MSGID_H

#include <stddef.h>

#include "core/limits.h"

/* The next valid ID of p[*pos..len): 1 with *id, *idlen (without the
 * brackets, pointing into p) and *pos past it, or 0 at the end. */
int	msgid_next(const char *p, size_t len, size_t *pos, const char **id,
	    size_t *idlen);

#endif
