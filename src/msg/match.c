/* SPDX-License-Identifier: ISC */
/*
 * match.c - streaming case-insensitive substring search for IMAP
 * SEARCH (RFC 3501 6.4.4), see match.h. Unicode simple case folding
 * (UAX #44 CaseFolding.txt) for a few blocks; Knuth-Morris-Pratt over
 * the folded octets.
 *
 * Both needle and haystack go through the same reader: UTF-8 is
 * decoded as WHATWG Encoding 8.1.1 does (so an invalid sequence is cut
 * at the same octet however the input is chunked), a valid character
 * is folded and encoded again, and an invalid octet passes unchanged.
 * Folding never lengthens a character, so the folded needle fits in
 * MATCH_NEEDLE_MAX when the raw one does.
 *
 *   hay octets -> reader (seq[], need) -> fold -> KMP (q, fail[])
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/limits.h"
#include "msg/match.h"

static void	rd_reset(struct match *);
static void	rd_byte(struct match *, unsigned, int);
static void	emit_cp(struct match *, uint32_t, int);
static void	emit(struct match *, unsigned, int);
static void	step(struct match *, unsigned);
static uint32_t	fold(uint32_t);

int
match_init(struct match *m, const char *needle, size_t len)
{
	size_t k;

	m->nlen = 0;
	if (len > MATCH_NEEDLE_MAX) {
		m->found = 0;
		m->q = 0;
		rd_reset(m);
		return -1;
	}
	rd_reset(m);
	for (size_t i = 0; i < len; i++) {
		rd_byte(m, (unsigned char)needle[i], 0);
	}
	for (int i = 0; i < m->nseq; i++) {
		emit(m, m->seq[i], 0);
	}
	/* fail[i]: the longest proper prefix of needle[0..i] that is
	 * also its suffix. */
	k = 0;
	if (m->nlen > 0) {
		m->fail[0] = 0;
	}
	for (size_t i = 1; i < m->nlen; i++) {
		while (k > 0 && m->needle[i] != m->needle[k]) {
			k = m->fail[k - 1];
		}
		if (m->needle[i] == m->needle[k]) {
			k++;
		}
		m->fail[i] = (uint16_t)k;
	}
	match_reset(m);
	return 0;
}

void
match_reset(struct match *m)
{
	m->q = 0;
	m->found = m->nlen == 0;
	rd_reset(m);
}

int
match_feed(struct match *m, const void *hay, size_t len)
{
	const unsigned char *p = hay;

	for (size_t i = 0; i < len && !m->found; i++) {
		unsigned b = p[i];

		if (b < 0x80 && m->need == 0) {
			/* The common case, without the reader. */
			step(m, b >= 'A' && b <= 'Z' ? b + 32 : b);
		} else {
			rd_byte(m, b, 1);
		}
	}
	return m->found;
}

int
match_end(struct match *m)
{
	for (int i = 0; i < m->nseq && !m->found; i++) {
		emit(m, m->seq[i], 1);
	}
	rd_reset(m);
	return m->found;
}

int
match_in(const char *needle, size_t nlen, const char *hay, size_t len)
{
	struct match m;

	if (match_init(&m, needle, nlen) == -1) {
		return -1;
	}
	match_feed(&m, hay, len);
	return match_end(&m);
}

static void
rd_reset(struct match *m)
{
	m->need = 0;
	m->nseq = 0;
	m->lo = 0x80;
	m->hi = 0xbf;
}

/* Reads one octet; a finished character or an invalid octet goes on
 * to emit (to the needle if !hay, else to the search). */
static void
rd_byte(struct match *m, unsigned b, int hay)
{
	uint32_t cp;

	if (m->need == 0) {
		m->lo = 0x80;
		m->hi = 0xbf;
		if (b < 0x80) {
			emit_cp(m, b, hay);
			return;
		} else if (b >= 0xc2 && b <= 0xdf) {
			m->need = 1;
		} else if (b >= 0xe0 && b <= 0xef) {
			m->lo = b == 0xe0 ? 0xa0 : 0x80;
			m->hi = b == 0xed ? 0x9f : 0xbf;
			m->need = 2;
		} else if (b >= 0xf0 && b <= 0xf4) {
			m->lo = b == 0xf0 ? 0x90 : 0x80;
			m->hi = b == 0xf4 ? 0x8f : 0xbf;
			m->need = 3;
		} else {
			emit(m, b, hay);
			return;
		}
		m->seq[0] = (unsigned char)b;
		m->nseq = 1;
		return;
	}
	if (b < m->lo || b > m->hi) {
		/* What was held is not a character: its octets go as
		 * they are (all but the first are continuation octets,
		 * which cannot start one), then b starts afresh. */
		for (int i = 0; i < m->nseq; i++) {
			emit(m, m->seq[i], hay);
		}
		rd_reset(m);
		rd_byte(m, b, hay);
		return;
	}
	m->lo = 0x80;
	m->hi = 0xbf;
	m->seq[m->nseq++] = (unsigned char)b;
	if (m->nseq < m->need + 1) {
		return;
	}
	cp = m->seq[0] & (0x7f >> (m->need + 1));
	for (int i = 1; i < m->nseq; i++) {
		cp = cp << 6 | (m->seq[i] & 0x3f);
	}
	rd_reset(m);
	emit_cp(m, cp, hay);
}

static void
emit_cp(struct match *m, uint32_t cp, int hay)
{
	cp = fold(cp);
	if (cp < 0x80) {
		emit(m, cp, hay);
	} else if (cp < 0x800) {
		emit(m, 0xc0 | (cp >> 6), hay);
		emit(m, 0x80 | (cp & 0x3f), hay);
	} else if (cp < 0x10000) {
		emit(m, 0xe0 | (cp >> 12), hay);
		emit(m, 0x80 | ((cp >> 6) & 0x3f), hay);
		emit(m, 0x80 | (cp & 0x3f), hay);
	} else {
		emit(m, 0xf0 | (cp >> 18), hay);
		emit(m, 0x80 | ((cp >> 12) & 0x3f), hay);
		emit(m, 0x80 | ((cp >> 6) & 0x3f), hay);
		emit(m, 0x80 | (cp & 0x3f), hay);
	}
}

static void
emit(struct match *m, unsigned c, int hay)
{
	if (hay) {
		step(m, c);
	} else if (m->nlen < sizeof m->needle) {
		m->needle[m->nlen++] = (unsigned char)c;
	}
}

/* One KMP step over a folded octet. */
static void
step(struct match *m, unsigned c)
{
	size_t q = m->q;

	if (m->found) {
		return;
	}
	while (q > 0 && m->needle[q] != c) {
		q = m->fail[q - 1];
	}
	if (m->needle[q] == c) {
		q++;
	}
	if (q == m->nlen) {
		m->found = 1;
		q = 0;
	}
	m->q = q;
}

/* Simple case folding of the blocks match.h lists. */
static uint32_t
fold(uint32_t c)
{
	if (c < 0x80) {
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	}
	if (c < 0x100) {
		if (c == 0xb5) {
			return 0x3bc;
		}
		return c >= 0xc0 && c <= 0xde && c != 0xd7 ? c + 32 : c;
	}
	if (c < 0x180) {
		if ((c < 0x130 || (c >= 0x132 && c <= 0x137) ||
		    (c >= 0x14a && c <= 0x177)) && c % 2 == 0) {
			return c + 1;
		}
		if (((c >= 0x139 && c <= 0x148) ||
		    (c >= 0x179 && c <= 0x17e)) && c % 2 == 1) {
			return c + 1;
		}
		if (c == 0x178) {
			return 0xff;
		}
		return c == 0x17f ? 's' : c;
	}
	if (c >= 0x386 && c <= 0x3ab) {
		if (c == 0x386) {
			return 0x3ac;
		}
		if (c >= 0x388 && c <= 0x38a) {
			return c + 37;
		}
		if (c == 0x38c) {
			return 0x3cc;
		}
		if (c == 0x38e || c == 0x38f) {
			return c + 63;
		}
		return c >= 0x391 && c != 0x3a2 ? c + 32 : c;
	}
	if (c == 0x3c2) {
		return 0x3c3;
	}
	if (c >= 0x400 && c <= 0x42f) {
		return c < 0x410 ? c + 80 : c + 32;
	}
	if (c == 0x1e9e) {
		return 0xdf;
	}
	if (c == 0x212a) {
		return 'k';
	}
	return c == 0x212b ? 0xe5 : c;
}
