/* SPDX-License-Identifier: ISC */
/*
 * dmarc.h - a DMARC record (RFC 7489 6.3, 6.4) read without I/O: the
 * tags a receiver applies (p, sp, adkim, aspf, pct); the reporting
 * tags (rua, ruf, fo, rf, ri) are checked for syntax only, as wren
 * sends no reports.
 *
 *   struct dmarc_rec r;
 *   if (dmarc_parse(&r, txt, len) == DMARC_E_OK) ... r.p, r.pct ...
 *
 * A TXT record that is not "v=DMARC1" first is DMARC_E_VERSION (it is
 * not a DMARC record: 6.6.3 discards it). Parsers include only
 * limits.h and libc (STYLE.md section 4); the tag-list syntax is
 * dkim_hdr.h's.
 */
#ifndef WREN_DMARC_H
#define WREN_DMARC_H

#include <stddef.h>

#include "core/limits.h"

enum dmarc_policy {
	DMARC_P_UNSET,		/* sp= absent: p= applies */
	DMARC_P_NONE,
	DMARC_P_QUARANTINE,
	DMARC_P_REJECT
};

enum dmarc_err {
	DMARC_E_OK,
	DMARC_E_VERSION,	/* not v=DMARC1 first: not a record */
	DMARC_E_SYNTAX,		/* not a tag list */
	DMARC_E_DUP,		/* a tag twice */
	DMARC_E_POLICY,		/* p= missing or unknown (6.6.3) */
	DMARC_E_VALUE,		/* sp, adkim, aspf or pct out of range */
	DMARC_E_NERR
};

struct dmarc_rec {
	enum dmarc_policy	 p, sp;
	int			 adkim_strict, aspf_strict;
	unsigned		 pct;		/* 0..100, default 100 */
};

enum dmarc_err	dmarc_parse(struct dmarc_rec *, const char *p, size_t len);

const char	*dmarc_strerror(enum dmarc_err);

#endif
