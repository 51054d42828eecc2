/* SPDX-License-Identifier: ISC */
/*
 * uidlist.h - sans-I/O codecs for Dovecot's Maildir metadata, so that
 * wren and Dovecot can serve the same Maildir:
 *
 *   file names   <base>[,S=<size>][,W=<vsize>][:2,<flags><keywords>]
 *                (https://cr.yp.to/proto/maildir.html, plus Dovecot's
 *                S= / W= and keyword letters a-z)
 *   dovecot-uidlist   "3 V<uidvalidity> N<nextuid> G<guid>" then
 *                "<uid> [<ext>...] :<base>" per message (version 1:
 *                "1 <uidvalidity> <nextuid>", "<uid> <name>")
 *   dovecot-keywords  "<index> <name>", index 0..25 = letter 'a'+index
 *
 * Every function reads a line or name by pointer and length (no NUL is
 * needed or looked for) and never allocates. Formatters return the
 * length the output needs (without the NUL) and write it, NUL
 * terminated, only when that length is below cap; otherwise out is
 * left alone.
 */
#ifndef WREN_UIDLIST_H
#define WREN_UIDLIST_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/* Maildir flags (Maildir spec "info" after ":2,"), one bit each. */
enum {
	MF_DRAFT = 1 << 0,	/* D  \Draft */
	MF_FLAGGED = 1 << 1,	/* F  \Flagged */
	MF_PASSED = 1 << 2,	/* P  (forwarded; no IMAP flag) */
	MF_REPLIED = 1 << 3,	/* R  \Answered */
	MF_SEEN = 1 << 4,	/* S  \Seen */
	MF_TRASHED = 1 << 5,	/* T  \Deleted */
};

/*
 * Unknown upper-case flag letters (A-Z other than DFPRST, e.g. a
 * client's experimental flag) are kept in the same word, bit
 * MF_OTHER_SHIFT + (letter - 'A'), so that a rename which changes only
 * the known flags keeps them, as Dovecot does. Code that maps flags to
 * IMAP looks at (flags & MF_KNOWN) only; code that sets IMAP flags
 * keeps (old & MF_OTHER).
 */
#define MF_KNOWN	0x3fu
#define MF_OTHER_SHIFT	6
#define MF_OTHER	(~MF_KNOWN)
#define MF_LETTER(c)	(1u << (MF_OTHER_SHIFT + ((c) - 'A')))

#define MAILDIR_KEYWORDS_MAX	26	/* letters a-z */

struct maildir_name {
	const char	*base;	   /* up to the first ':' (excluded) */
	size_t		 baselen;
	uint64_t	 size;	   /* ,S=<n> (0 if absent) */
	uint64_t	 vsize;	   /* ,W=<n> (0 if absent) */
	unsigned	 has_size:1, has_vsize:1, has_info:1;
	unsigned	 flags;	   /* MF_* (and MF_OTHER letters) */
	uint32_t	 keywords; /* bit i: letter 'a'+i, keyword index i */
};

/*
 * Splits a Maildir file name (the name only, no directory). Returns 0,
 * or -1 when it is not a Maildir message name: empty, starts with '.',
 * contains '/', NUL, CR or LF (such a name cannot be written to
 * dovecot-uidlist; Dovecot skips those files), longer than
 * MBOX_NAME_MAX, or has an empty base (starts with ':').
 *
 * base ends at the first ':'. The info is read as Dovecot reads it:
 * from the last ':', and only if it is "2,"; has_info is then set and
 * the letters up to the next ',' (or the end) are the flags: upper
 * case to flags (unknown ones as MF_LETTER), a-z to keywords, in any
 * order, duplicates counting once; other bytes are ignored. Any other
 * info (":1,..." experimental, or no "2,") gives no flags, has_info 0,
 * and the same base. Whatever the flags, formatting base with them
 * gives the canonical name, so bytes after a second ',' in the info
 * and ignored bytes do not survive a rename (Dovecot drops them too).
 *
 * S= and W= are read as Dovecot reads them: the first ",S=" (",W=") in
 * the base, then digits up to the next ',' or the end of the base; if
 * that first field is empty, not all digits, or overflows 64 bits,
 * has_size (has_vsize) stays 0 and the name is still valid. S= is the
 * file size as stored (LF line ends), W= the size with CRLF line ends
 * (RFC822.SIZE); both are hints, the file is the truth.
 */
int	maildir_name_parse(const char *name, size_t len,
	    struct maildir_name *);

/*
 * base ":2," then the flag letters in ASCII order (upper case
 * DFPRST and MF_OTHER letters, then keyword letters a-z sorted), as
 * Dovecot writes them; ":2," with no letters when there are none.
 * Returns the length needed (excluding NUL); writes NUL-terminated
 * output only if it fits in cap.
 */
size_t	maildir_name_format(char *out, size_t cap, const char *base,
	    size_t baselen, unsigned flags, uint32_t keywords);

/*
 * dovecot-uidlist version 3 (Dovecot's maildir-uidlist.c): header
 * "3 V<uidvalidity> N<nextuid> G<guid hex>" (fields in any order,
 * unknown fields ignored), then records "<uid> [<ext fields like W1234
 * S1200 G<guid>>] :<basename>". Version 1 files ("1 <uidvalidity>
 * <nextuid>", records "<uid> <basename>") are read too.
 */
struct uidlist_header {
	unsigned	 version;	/* 1 or 3 */
	uint32_t	 uidvalidity;
	uint32_t	 next_uid;
	char		 guid[33];	/* hex, "" if absent */
};

/*
 * One header line, without its LF. Returns 0, or -1 when the version
 * is not 1 or 3 (Dovecot never wrote 2), a number is missing, not
 * decimal or above 2^32-1, uidvalidity or next_uid is 0, the guid is
 * not 32 hex digits, or the line has a CR, NUL, or is longer than
 * UIDLIST_LINE_MAX.
 */
int	uidlist_parse_header(const char *line, size_t len,
	    struct uidlist_header *);

/*
 * One record line (without its LF) -> uid and base name (pointer into
 * line). -1 when malformed: version not 1 or 3, uid 0, 2^32-1 (Dovecot's
 * "no UID yet") or larger, uid not followed by a space, no field
 * starting with ':' (version 3), empty name, name with '/', a CR or
 * NUL anywhere, name longer than MBOX_NAME_MAX, line longer than
 * UIDLIST_LINE_MAX. The name is cut at its first ':' (version 1 names
 * carry the info; Dovecot matches bases up to ':'). Spaces between
 * fields may repeat; spaces inside the name are kept, as Dovecot does.
 * Extension fields whose key is not a letter are skipped (Dovecot
 * drops them). That uids increase is the caller's check; that they
 * stay below next_uid is not one: Dovecot appends records without
 * rewriting the header, so next_uid may be behind the last uid (use
 * max(next_uid, last uid + 1)).
 */
int	uidlist_parse_record(const char *line, size_t len, unsigned version,
	    uint32_t *uid, const char **base, size_t *baselen);

/*
 * Looks up the extension field key (an upper-case letter: 'S' size,
 * 'W' vsize, 'G' guid) of a version 3 record. Returns 1 and the value
 * (pointer into line) when found, 0 when absent, -1 when the line is
 * malformed.
 */
int	uidlist_record_ext(const char *line, size_t len, char key,
	    const char **val, size_t *vallen);

/*
 * "3 V%u N%u G%s\n" (always version 3, whatever h->version says; G left
 * out when guid is "") / "%u :%.*s\n" (base must have no ':', '/' or
 * LF: pass maildir_name.base). Return the length needed, write only
 * if it fits.
 */
size_t	uidlist_format_header(char *out, size_t cap,
	    const struct uidlist_header *);
size_t	uidlist_format_record(char *out, size_t cap, uint32_t uid,
	    const char *base, size_t baselen);

/*
 * dovecot-keywords: lines "<index> <name>" (index 0..25 maps to letter
 * 'a'+index). Parse takes a line without its LF; -1 when the index is
 * not a decimal 0..25, the separator is not one space, or the name is
 * empty or holds a space, CR, LF, NUL or other control byte. Format
 * writes "<index> <name>\n".
 */
int	keywords_parse_line(const char *line, size_t len, unsigned *index,
	    const char **name, size_t *namelen);
size_t	keywords_format_line(char *out, size_t cap, unsigned index,
	    const char *name, size_t namelen);

#endif
