/* SPDX-License-Identifier: ISC */
/*
 * zpump.h - the COMPRESS=DEFLATE layer (RFC 4978) of a connection: a
 * connection filter that inflates what comes in and deflates what
 * goes out, over the socket or inside TLS.
 *
 *   socket <-> [TLS filter] <-> zpump: raw_in  --inflate--> c->in
 *                                      raw_out <--deflate-- c->out
 *
 * A session that compresses takes a slot from a pool sized at start
 * (zpump_init): 32 KB of inflate window, the deflater's two windows
 * and chains, one block of symbols and the compressed buffers, about
 * 200 KB in all (zpump_bytes_per_slot). Pages are touched only when a
 * slot is first used. When every slot is taken, COMPRESS answers
 * NO [LIMIT].
 */
#ifndef WREN_ZPUMP_H
#define WREN_ZPUMP_H

#include <stddef.h>

#include "core/conn.h"
#include "core/err.h"

/* A pool of max slots (0: none, COMPRESS is always refused). */
int	zpump_init(size_t max, struct err *);
void	zpump_shutdown(void);

/* Bytes of one slot. */
size_t	zpump_bytes_per_slot(void);

/* 1 while a slot is free. */
int	zpump_available(void);

/* 1 when compression is on for c. */
int	zpump_active(const struct conn *);

/*
 * Compression on c from now (RFC 4978 3): the output already queued
 * (the tagged OK) leaves as it is, everything written after it is
 * compressed; the input not read yet, and all input after it, is
 * compressed. Over TLS, compression goes inside. 0, or -1 when no
 * slot is free (nothing changed).
 */
int	zpump_start(struct conn *);

#endif
