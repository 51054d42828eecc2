/* SPDX-License-Identifier: ISC */
/*
 * modseq.h - sans-I/O codec and recovery rules of wren-modseq, the
 * file in which a Maildir folder keeps its CONDSTORE/QRESYNC
 * mod-sequences (RFC 7162 3.1.1, 3.2.10). Dovecot keeps flags in file
 * names and knows nothing of this file; it is wren's alone.
 *
 * One text record a line, appended, never rewritten in place:
 *
 *   wren-modseq 1 <uidvalidity> <base>   header (first line only)
 *   C <ceiling>        values up to ceiling may have been handed out
 *   M <uid> <modseq> <flags> <keywords>  a message's state at modseq
 *   X <modseq>         an expunge happened at modseq
 *   E <highest> <count> closed cleanly: highest handed out, count
 *                      messages have an M record
 *
 * Numbers are decimal without leading zeros; flags are MF_* bits and
 * keywords the letters a-z as bits (store/uidlist.h). Every modseq is
 * >= base and < base + 2^32 (the index keeps 32-bit offsets from
 * base); none is 0 or above 2^63 - 1 (RFC 7162 7, mod-sequence-value).
 *
 * Why HIGHESTMODSEQ never goes backwards for a client:
 *  - before a value above the last ceiling C is handed out, a new
 *    "C" record (C + MODSEQ_STEP) is written and synced;
 *  - a file ending in "E" was closed cleanly: its M records are the
 *    truth, and a message whose file name now carries other flags
 *    (changed by Dovecot or mv while wren was away), or that has no
 *    record (delivered meanwhile), gets a fresh value above highest;
 *    fewer matching records than count means expunges meanwhile;
 *  - a file not ending in "E" (crash, power cut: batched records may
 *    be lost) is trusted for nothing but its ceiling: every message
 *    and the expunge mark get C + 1;
 *  - a missing, unreadable or foreign (other UIDVALIDITY) file starts
 *    a new sequence at a clock floor, unix microseconds x 16: above
 *    any earlier one unless 16 changes a microsecond were made since
 *    it started (a change is a rename: a few microseconds at least),
 *    or the clock went back (a board without RTC must restore its
 *    clock first, as fake-hwclock does). Microseconds, not seconds:
 *    a file lost in the second it was made still gets a higher
 *    sequence. 2^63 / 16 us is 18,000 years.
 * A client holding a value below the expunge mark gets, in VANISHED
 * (EARLIER), every UID it asks about that is not there (RFC 7162
 * 3.2.5.2 allows UIDs expunged earlier): only expunge marks are kept,
 * not the UIDs.
 */
#ifndef WREN_MODSEQ_H
#define WREN_MODSEQ_H

#include <stddef.h>
#include <stdint.h>

#define MODSEQ_FILE	"wren-modseq"
#define MODSEQ_MAX	((UINT64_C(1) << 63) - 1)	/* RFC 7162 7 */
#define MODSEQ_LINE_MAX	96	/* the longest record, with room */
#define MODSEQ_STEP	4096	/* values per synced ceiling */
#define MODSEQ_SPAN	(UINT64_C(1) << 32)	/* values past base */

enum modseq_kind {
	MODSEQ_BAD = -1,
	MODSEQ_HEADER,
	MODSEQ_CEIL,
	MODSEQ_MSG,
	MODSEQ_EXP,
	MODSEQ_END
};

struct modseq_rec {
	enum modseq_kind kind;
	uint32_t	 uid;		/* MSG */
	uint32_t	 uidvalidity;	/* HEADER */
	uint64_t	 value;		/* HEADER base, CEIL, MSG, EXP, END
					 * highest */
	uint64_t	 count;		/* END */
	uint32_t	 flags;		/* MSG */
	uint32_t	 keywords;	/* MSG: 26 bits */
};

/* One line (without its LF): the record, or MODSEQ_BAD (a field out
 * of range, a leading zero, a stray byte). */
enum modseq_kind	modseq_parse(const char *p, size_t len,
			    struct modseq_rec *);

/* The line of a record, LF included: its length, written only when
 * below cap (NUL added); 0 for a kind that has no line. */
size_t	modseq_format(char *buf, size_t cap, const struct modseq_rec *);

/* What the lines of a file say, fed one at a time. */
struct modseq_load {
	int		 header;	/* a good header was read */
	int		 stopped;	/* a bad line: the rest is ignored */
	int		 clean;		/* the last record read is E */
	uint32_t	 uidvalidity;
	uint64_t	 base;
	uint64_t	 ceil;		/* highest C */
	uint64_t	 high;		/* highest value in any record */
	uint64_t	 vanished;	/* highest X (or E's in recovery) */
	uint64_t	 count;		/* the last E's count */
};

void	modseq_load_init(struct modseq_load *);

/*
 * Feeds one line (no LF). Returns its kind, or MODSEQ_BAD when the
 * file is not to be read further (not a header first, a bad line, a
 * value outside [base, base + MODSEQ_SPAN), a second header). For
 * MODSEQ_MSG the caller applies r to its index.
 */
enum modseq_kind	modseq_load_line(struct modseq_load *, const char *,
			    size_t, struct modseq_rec *r);

/* After the last line: 1 when the M records may be trusted (a good
 * header and a clean end), else 0. */
int	modseq_load_trusted(const struct modseq_load *);

/* The first value above everything the file allows to have been handed
 * out: highest + 1 when trusted, else max(ceiling, highest) + 1. */
uint64_t	modseq_load_fresh(const struct modseq_load *);

/* The clock floor for a new sequence: unix microseconds x 16 (at least
 * 1, at most MODSEQ_MAX - MODSEQ_SPAN). */
uint64_t	modseq_floor(int64_t unix_us);

#endif
