/* SPDX-License-Identifier: ISC */
/*
 * decode.h - message text as IMAP SEARCH (RFC 3501 6.4.4) compares it,
 * sans-I/O: body Content-Transfer-Encodings (RFC 2045 6.7, 6.8), a few
 * charsets to UTF-8 (RFC 2046 4.1.2), RFC 2047 encoded words, header
 * fields with unfolding (RFC 5322 2.2, 2.2.3) and the Date: field
 * (RFC 5322 3.3, 4.3).
 *
 * The streaming decoders share one shape: init, then feed chunks of any
 * size and take output into a caller buffer, then end. The output never
 * depends on where the input was cut or on the size of the output
 * buffer. A feed consumes input while it can deliver output; what does
 * not fit is held (at most DECODE_PEND_MAX octets) and delivered first
 * by the next call, so any cap of at least 1 makes progress:
 *
 *	while (len > 0) {
 *		n = decode_body_feed(&d, p, len, &used, out, sizeof out);
 *		p += used;
 *		len -= used;
 *		take(out, n);
 *	}
 *	while ((n = decode_body_end(&d, out, sizeof out)) > 0) {
 *		take(out, n);
 *	}
 *
 * After end, the decoder is as freshly initialised and may be reused.
 */
#ifndef WREN_DECODE_H
#define WREN_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/* Output held by a streaming decoder when the caller's buffer is full:
 * the most that one input octet (or the end) can release. */
#define DECODE_PEND_MAX		(DECODE_QP_WS_MAX + 4)

/* The same for a charset converter: U+FFFD for what was held, then
 * the octet's own U+FFFD (3 + 3). */
#define DECODE_CS_PEND_MAX	8

/* ---- Content-Transfer-Encoding (RFC 2045 6) ---- */

enum decode_cte {
	DECODE_CTE_IDENTITY,	/* 7bit, 8bit, binary, unknown */
	DECODE_CTE_QP,
	DECODE_CTE_BASE64
};

struct decode_body {
	int		cte;		/* enum decode_cte */
	int		st;		/* private */
	uint32_t	acc;
	size_t		nws;
	size_t		npend;
	unsigned char	ws[DECODE_QP_WS_MAX];
	unsigned char	pend[DECODE_PEND_MAX];
};

/* Starts a body decoder for the Content-Transfer-Encoding name
 * cte[0..len) (case-insensitive, surrounding white space ignored):
 * "quoted-printable", "base64", or anything else, which is passed
 * through as is ("7bit", "8bit", "binary", unknown, empty). Returns the
 * enum decode_cte chosen.
 *
 * Quoted-printable (RFC 2045 6.7): "=XX" (either case) gives the octet;
 * "=" [white space] line end is a soft line break and gives nothing;
 * white space before a line end (CRLF, LF or a bare CR) or the end of
 * the body is dropped; an invalid escape ("=ZZ", "=4Z", "=" at the end)
 * is kept as is, as Dovecot does; line ends are kept as they are.
 * Base64 (6.8): octets outside the alphabet are ignored; the first "="
 * ends the data (what follows is ignored); a last group of 2 or 3
 * characters without padding still gives its 1 or 2 octets. */
int	decode_body_init(struct decode_body *d, const char *cte,
	    size_t len);

/* Decodes in[0..len) into out[0..cap): returns the octets written and
 * sets *used to the input consumed (less than len only when output is
 * held, see above). */
size_t	decode_body_feed(struct decode_body *d, const void *in,
	    size_t len, size_t *used, void *out, size_t cap);

/* Ends the body: writes what is held (an unfinished escape, the last
 * base64 group) into out; returns the octets written. Call it until it
 * returns 0. */
size_t	decode_body_end(struct decode_body *d, void *out, size_t cap);

/* ---- Charsets to UTF-8 ---- */

enum decode_charset {
	DECODE_CS_RAW,		/* unknown: octets passed through */
	DECODE_CS_UTF8,		/* utf-8, us-ascii: checked */
	DECODE_CS_LATIN1,	/* iso-8859-1 read as windows-1252 */
	DECODE_CS_LATIN9,	/* iso-8859-15 */
	DECODE_CS_CP1252	/* windows-1252 */
};

struct decode_cs {
	int		cs;		/* enum decode_charset */
	int		need;		/* private: UTF-8 state */
	int		nseq;
	unsigned char	lo, hi;
	unsigned char	seq[4];
	size_t		npend;
	unsigned char	pend[DECODE_CS_PEND_MAX];
};

/* Looks up a charset name (case-insensitive, with common aliases such
 * as "latin1", "cp1252", "utf8", "ascii"; an RFC 2231 "*language"
 * suffix is ignored). Empty means us-ascii (RFC 2046 4.1.2). Returns
 * the enum decode_charset, DECODE_CS_RAW when unknown. */
int	decode_charset(const char *name, size_t len);

/* Starts a converter for charset name[0..len) (see decode_charset).
 * UTF-8 and US-ASCII are checked as UTF-8 (as Dovecot reads us-ascii,
 * since unlabelled 8-bit text is mostly UTF-8): every invalid, overlong
 * or surrogate sequence, and an unfinished one at the end, becomes
 * U+FFFD, one per maximal invalid subpart (WHATWG Encoding 8.1.1).
 * ISO-8859-1 is read as windows-1252, as WHATWG and every browser do,
 * since its C1 controls are in practice cp1252 quotes and dashes; the
 * five unassigned cp1252 octets map to the C1 controls. Unknown
 * charsets pass octets through unchanged. Returns the enum
 * decode_charset chosen. */
int	decode_cs_init(struct decode_cs *c, const char *name, size_t len);

/* Converts in[0..len) into out[0..cap), as decode_body_feed. */
size_t	decode_cs_feed(struct decode_cs *c, const void *in, size_t len,
	    size_t *used, void *out, size_t cap);

/* Ends the text (an unfinished UTF-8 sequence gives U+FFFD); call
 * until it returns 0. */
size_t	decode_cs_end(struct decode_cs *c, void *out, size_t cap);

/* ---- Header field values ---- */

/* Unfolds a field value (RFC 5322 2.2.3): every CR and LF is removed,
 * the white space after them kept. Writes at most cap octets (the rest
 * is cut) and returns the length. */
size_t	decode_unfold(const char *in, size_t len, char *out, size_t cap);

/* Decodes a field value to UTF-8: unfolds it, and decodes every RFC
 * 2047 encoded word "=?charset[*lang]?B|Q?text?=" through its charset
 * (unknown charsets give the decoded octets as they are). White space
 * between two encoded words is dropped (RFC 2047 6.2), and a character
 * split across adjacent words of one charset is joined. Words are
 * found wherever they start, not only after white space, as Dovecot
 * and most readers do. A malformed word (no "?=", a space, a control
 * or "?" in the text, an encoding other than B or Q, a charset longer
 * than DECODE_CHARSET_MAX) is left as literal text; literal text is
 * copied as it is. B text is decoded as base64 bodies are; Q text
 * takes "_" as space and keeps invalid escapes.
 *
 * Writes at most cap octets, not NUL-terminated, and returns the
 * length; when the output is cut, an unfinished UTF-8 sequence at the
 * cut is dropped too, so the result is always a prefix of what a
 * larger cap gives. */
size_t	decode_header(const char *in, size_t len, char *out, size_t cap);

/* ---- Header walker (RFC 5322 2.2, 3.6) ----
 *
 * Feed the raw header block (it may go on into the body); pull one
 * event per field, then DECODE_HDR_END at the empty line that ends the
 * header:
 *
 *	decode_hdr_init(&h);
 *	while (!done && len > 0) {
 *		used = decode_hdr_feed(&h, p, len);
 *		p += used, len -= used, off += used;
 *		while ((ev = decode_hdr_next(&h, &f)) != DECODE_HDR_NONE)
 *			...	(END: the body starts at off)
 *	}
 *	decode_hdr_finish(&h);	(at the end of input without the empty
 *				 line; then pull the last events)
 *
 * Lines end with LF or CRLF; every CR is ignored. A field's name is
 * what precedes the colon, white space before the colon dropped (RFC
 * 5322 4.5.x obs-optional); its value is unfolded (CRLF removed, the
 * folding white space kept), with leading and trailing white space
 * removed, and not otherwise decoded (see decode_header). A value
 * longer than DECODE_HEADER_MAX is cut there and flagged. A line that
 * is not a field (no colon, a name with space, a control or 8-bit
 * octet, a name longer than DECODE_NAME_MAX, a continuation line with
 * no field before it, an mbox "From " line) is skipped with its
 * continuation lines. */

enum decode_hdr_ev {
	DECODE_HDR_NONE,	/* feed more */
	DECODE_HDR_FIELD,	/* a field: see struct decode_field */
	DECODE_HDR_END		/* end of the header, once */
};

struct decode_field {
	const char	*name;		/* into the walker, valid */
	size_t		 name_len;	/* until the next feed */
	const char	*value;
	size_t		 value_len;
	int		 cut;		/* the value was longer */
};

/* About DECODE_HEADER_MAX + DECODE_NAME_MAX octets: keep it static
 * or in a session, not on a small stack. */
struct decode_hdr {
	int		st;		/* private */
	int		ready;
	int		end;
	int		cut;
	size_t		nlen;
	size_t		vlen;
	char		name[DECODE_NAME_MAX];
	char		value[DECODE_HEADER_MAX];
};

void	decode_hdr_init(struct decode_hdr *h);

/* Reads in[0..len) and returns the octets consumed: it stops after a
 * field is complete (which it knows at the first octet of the next
 * line, not consumed) until that field is pulled, and consumes nothing
 * after the header's empty line. */
size_t	decode_hdr_feed(struct decode_hdr *h, const void *in,
	    size_t len);

/* The next event; for DECODE_HDR_FIELD, *f is filled. */
int	decode_hdr_next(struct decode_hdr *h, struct decode_field *f);

/* The input ended: a field in progress is complete and END follows. */
void	decode_hdr_finish(struct decode_hdr *h);

/* ---- Date: (RFC 5322 3.3, 4.3) ---- */

struct decode_date {
	int64_t		t;		/* seconds since 1970, UTC */
	int		year;		/* the date as written, */
	int		mon;		/* in the sender's zone: */
	int		day;		/* mon 1..12, day 1..31 */
	int32_t		days;		/* that date, days since 1970 */
	int		zone;		/* minutes east of UTC */
};

/* Parses a Date: value s[0..len) (unfolded or not), implemented in
 * date_parse.c: optional day of week (comma optional, full names
 * taken), day, month name (three letters or full, any case), year (4
 * digits, to 9999; obsolete 2-digit years are 1950-2049, 3-digit ones
 * 1900+), hh:mm[:ss] (a leap second 60 allowed), zone ("+hhmm" or
 * "-hhmm", UT, GMT, Z, the US zones of RFC 5322 4.3; military letters,
 * unknown names and an unreadable offset are -0000, as 4.3 says; a
 * missing time or zone is 00:00:00 and +0000). Comments, folding white
 * space and "-" between day, month and year are taken, and text after
 * the zone is ignored. The date must exist (no 31 Apr). For SENTON,
 * SENTBEFORE and SENTSINCE, RFC 3501 6.4.4 compares the date as
 * written, disregarding time and zone: that is year, mon, day and
 * days. Returns 0, or -1 if unparsable (*d undefined). */
int	decode_date(const char *s, size_t len, struct decode_date *d);

/* Days since 1970-01-01 of a proleptic Gregorian date (day not
 * checked), so that SEARCH dates and decode_date's compare. */
int32_t	decode_days(int year, int mon, int day);

#endif
