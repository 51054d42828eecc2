/* SPDX-License-Identifier: ISC */
/*
 * hcache_fmt.h - sans-I/O codec of wren's header cache file, one per
 * Maildir folder ("wren-cache"): the IMAP texts of ENVELOPE and
 * BODYSTRUCTURE (RFC 3501 7.4.2) of messages already parsed, so that
 * a FETCH of them reads a few hundred bytes instead of the message,
 * and the keys SORT and THREAD read from a header (RFC 5256), so that
 * a SORT reads about a hundred bytes per message instead of a file.
 *
 *   header   "WHC2" uidvalidity                       8 octets
 *   record   uid hash vsize env_len bs_len sum sk_len 24 octets
 *            env_len octets of ENVELOPE text
 *            bs_len octets of BODYSTRUCTURE text
 *            sk_len octets of sort keys (below)
 *
 * Numbers are little-endian: u32 except env_len and bs_len (u16). A
 * length of 0 means the item is not in the record (no item is ever
 * empty; a record holds one at least). A file of version 1 ("WHC1",
 * no sort keys) is not ours: it is started again. hash and vsize
 * are the index's (store/mbox.h: the hash of the file's base name
 * and RFC822.SIZE): a record whose UID,
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
#define HCACHE_REC_HDR	24
/* A text longer than this is not cached (served as before, parsed
 * from the message): ordinary ones are 100-1,000 octets; those of
 * messages with hundreds of parts are streamed, not kept. */
#define HCACHE_TEXT_MAX	8192
#define HCACHE_REC_MAX	(HCACHE_REC_HDR + 3 * HCACHE_TEXT_MAX)

struct hcache_rec {
	uint32_t	 uid;
	uint32_t	 hash;
	uint32_t	 vsize;
	const char	*env;	/* NULL when absent */
	size_t		 env_len;
	const char	*bs;
	size_t		 bs_len;
	const char	*sk;	/* sort keys, hcache_sk_parse */
	size_t		 sk_len;
};

/*
 * The sort keys of a message (an item of at most HCACHE_TEXT_MAX
 * octets): what imap_sort.c takes from its header, whole, so that a
 * key is the same read from here or from the message.
 *
 *   date mtime                 i64 each (date -1: no readable Date:)
 *   subj id irt                u64 each (THREAD's hashes; 0: none)
 *   len[HCACHE_SK_TEXTS]       u16 each
 *   the texts, one after the other
 */
enum hcache_sk_text {
	HCACHE_SK_SUBJECT,	/* base subject, upper-cased */
	HCACHE_SK_FROM,		/* first addr-mailbox, as sortkey_addr */
	HCACHE_SK_TO,
	HCACHE_SK_CC,
	HCACHE_SK_DFROM,	/* display names (RFC 5957) */
	HCACHE_SK_DTO,
	HCACHE_SK_REFS,		/* the References value as written */
	HCACHE_SK_TEXTS
};

#define HCACHE_SK_FIXED	(5 * 8 + 2 * HCACHE_SK_TEXTS)

struct hcache_sk {
	int64_t		 date, mtime;
	uint64_t	 subj, id, irt;
	const char	*text[HCACHE_SK_TEXTS];	/* may be NULL if len 0 */
	size_t		 len[HCACHE_SK_TEXTS];
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

/* The length of a record holding r's items (0 when one is too long
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

/* Which items the record whose header is at p holds (it passed
 * hcache_rec_len): HCACHE_HAS_TEXT (ENVELOPE or BODYSTRUCTURE) and
 * HCACHE_HAS_SK, or'ed. */
#define HCACHE_HAS_TEXT	1
#define HCACHE_HAS_SK	2
unsigned	hcache_rec_items(const void *p);

/* Sort keys into out[0 .. cap): their length, or 0 when they do not
 * fit (a text over 65,535 octets, or cap, or HCACHE_TEXT_MAX). */
size_t	hcache_sk_fmt(void *out, size_t cap, const struct hcache_sk *k);
/* Sort keys from p[0 .. len) (a record's item): 0 with k set (texts
 * point into p), or -1 when the lengths do not add up to len. */
int	hcache_sk_parse(const void *p, size_t len, struct hcache_sk *k);

const char	*hcache_strerror(enum hcache_err);

#endif
