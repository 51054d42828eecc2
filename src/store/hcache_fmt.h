/* SPDX-License-Identifier: ISC */
/*
 * hcache_fmt.h - sans-I/O codec of wren's header cache file, one per
 * Maildir folder ("wren-cache"): the IMAP texts of ENVELOPE and
 * BODYSTRUCTURE (RFC 3501 7.4.2) of messages already parsed, so that
 * a FETCH of them reads a few hundred bytes instead of the message.
 *
 *   header   "WHC1" uidvalidity                       8 octets
 *   record   uid hash vsize env_len bs_len sum        20 octets
 *            env_len octets of ENVELOPE text
 *            bs_len octets of BODYSTRUCTURE text
 *
 * Numbers are little-endian: u32 except env_len and bs_len (u16). A
 * length of 0 means the item is not in the record (neither text is
 * ever empty). hash and vsize are the index's (store/mbox.h: the
 * hash of the file's base name and RFC822.SIZE): a record whose UID,
 * hash or vsize differ from the message's now is never served. sum
 * covers the record but itself: torn writes and garbage are caught.
 * Records are appended; a later one for the same UID replaces an
 * earlier one. The file is an optimisation: wren deletes or rebuilds
 * it whenever it does not like it.
 *
 * Everything reads by pointer and length and never allocates.
 */
#ifndef WREN_HCACHE_FMT_H
#define WREN_HCACHE_FMT_H

#include <stddef.h>
#include <stdint.h>

#define HCACHE_HDR_LEN	8
#define HCACHE_REC_HDR	20
/* A text longer than this is not cached (served as before, parsed
 * from the message): ordinary ones are 100-1,000 octets; those of
 * messages with hundreds of parts are streamed, not kept. */
#define HCACHE_TEXT_MAX	8192
#define HCACHE_REC_MAX	(HCACHE_REC_HDR + 2 * HCACHE_TEXT_MAX)

struct hcache_rec {
	uint32_t	 uid;
	uint32_t	 hash;
	uint32_t	 vsize;
	const char	*env;	/* NULL when absent */
	size_t		 env_len;
	const char	*bs;
	size_t		 bs_len;
};

enum hcache_err {
	HCACHE_OK,
	HCACHE_E_SHORT,		/* more octets needed (truncated) */
	HCACHE_E_MAGIC,		/* not a header of ours */
	HCACHE_E_LEN,		/* a length over HCACHE_TEXT_MAX */
	HCACHE_E_EMPTY,		/* a record with no text, or UID 0 */
	HCACHE_E_SUM		/* checksum mismatch */
};

/* The file's header: 0 with *uidvalidity set, or -1 (e: E_SHORT,
 * E_MAGIC). */
int	hcache_hdr_parse(const void *p, size_t len, uint32_t *uidvalidity,
	    enum hcache_err *e);
/* Writes the header into out (HCACHE_HDR_LEN octets). */
void	hcache_hdr_fmt(void *out, uint32_t uidvalidity);

/*
 * One record at p[0 .. len): its length (> 0) with r set (the texts
 * point into p), or 0 with *e saying why not (E_SHORT: p holds only
 * part of it, which at the end of a file means a torn tail).
 */
size_t	hcache_rec_parse(const void *p, size_t len, struct hcache_rec *r,
	    enum hcache_err *e);

/* The length of a record holding r's texts (0 when a text is too long
 * or none is there). */
size_t	hcache_rec_size(const struct hcache_rec *r);

/* Writes r into out[0 .. cap): its length, or 0 when it does not fit
 * or cannot be a record (hcache_rec_size is 0); out is then left
 * alone. */
size_t	hcache_rec_fmt(void *out, size_t cap, const struct hcache_rec *r);

/*
 * The length of the record starting at p[0 .. len), from its header
 * alone (no checksum: a file is scanned with this when it is opened,
 * records are checked when served), with *uid set: it may be more
 * than len (the record is cut); 0 when the header is cut (len <
 * HCACHE_REC_HDR, *e E_SHORT) or cannot be a record's.
 */
size_t	hcache_rec_len(const void *p, size_t len, uint32_t *uid,
	    enum hcache_err *e);

const char	*hcache_strerror(enum hcache_err);

#endif
