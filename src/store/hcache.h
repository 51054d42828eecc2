/* SPDX-License-Identifier: ISC */
/*
 * hcache.h - the header cache of a Maildir folder: ENVELOPE and
 * BODYSTRUCTURE texts (RFC 3501 7.4.2) of messages already parsed,
 * in a file of wren's own, "wren-cache" in the folder (format in
 * store/hcache_fmt.h). It is an optimisation only: deleted, truncated
 * or damaged at any time, by anyone, it is rebuilt as messages are
 * fetched again, and a record is served only when its UID, base-name
 * hash and RFC822.SIZE match the message's now.
 *
 * Disk: new records wait in one batch buffer (HCACHE_PEND_MAX, one
 * folder's at a time) and are appended when it is full, 5 s after the
 * first one, when another folder needs the buffer, or when the folder
 * closes or the server stops: never a write per message. A folder
 * whose file is mostly dead (expunged or replaced records) is
 * rewritten when it closes. The file is read with pread into a
 * bounded window, never mapped (a file truncated under a mapping
 * would raise SIGBUS).
 *
 * Memory: a slot per open folder, and an index of 20-byte entries
 * (uid, offset and length of the texts' and of the sort keys' record)
 * per cached message in a table that grows with the folder (mmap'ed,
 * at most three quarters full: 27-53 bytes per message); the batch
 * buffer and the read window are static, shared by every folder.
 */
#ifndef WREN_HCACHE_H
#define WREN_HCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/ev.h"
#include "core/limits.h"
#include "store/hcache_fmt.h"

struct mbox;
struct mbox_msg;

#if WREN_IMAP_HCACHE
/* Once, at start (mbox_init): the loop for the flush timer and how
 * many folders may be open. 0, or -1 when no memory. */
int	hcache_init(struct ev *, size_t max_open);
/* Writes what is pending and forgets every folder (mbox_shutdown). */
void	hcache_shutdown(void);

/* The folder closes (its last view went): pending records are
 * written, the file is compacted if more than half of it is dead,
 * the index is freed. */
void	hcache_close(struct mbox *);

/* The folder goes idle (no view, kept open): pending records are
 * written; the index stays. */
void	hcache_idle(struct mbox *);

/*
 * Gets the folder's cache ready before lookups: 1 ready (or unusable:
 * lookups then miss), 0 when it read one slice of the file (at most
 * one disk read) and wants to be called again after the caller has
 * yielded to the loop.
 */
int	hcache_load(struct mbox *);

/* The record of message m, when the cache holds a valid one: 1 with r
 * set (its texts stay valid until the next hcache call), else 0. */
int	hcache_get(struct mbox *, const struct mbox_msg *m,
	    struct hcache_rec *r);

/* Adds m's texts (env or bs may be NULL) to the batch: 0, or -1 when
 * they are not cached (too long, no memory, file unusable). */
int	hcache_put(struct mbox *, const struct mbox_msg *m, const char *env,
	    size_t env_len, const char *bs, size_t bs_len);

/* The same for m's sort keys (hcache_sk_fmt's item, imap_sort.c): a
 * record of their own, so that texts and keys are added apart. */
int	hcache_get_sk(struct mbox *, const struct mbox_msg *m,
	    struct hcache_rec *r);
int	hcache_put_sk(struct mbox *, const struct mbox_msg *m, const char *sk,
	    size_t sk_len);

/* Index bytes per cached message, average, and the static buffers
 * all folders share (README, `wren check`). */
size_t	hcache_bytes_per_message(void);
size_t	hcache_bytes_shared(void);
#else
/* Built without the cache (Kconfig IMAP_HCACHE): every lookup misses
 * and nothing is written. */
static inline int	hcache_init(struct ev *ev, size_t n)
{ (void)ev; (void)n; return 0; }
static inline void	hcache_shutdown(void) { }
static inline void	hcache_close(struct mbox *mb) { (void)mb; }
static inline void	hcache_idle(struct mbox *mb) { (void)mb; }
static inline int	hcache_load(struct mbox *mb) { (void)mb; return 1; }
static inline int	hcache_get(struct mbox *mb, const struct mbox_msg *m,
			    struct hcache_rec *r)
{ (void)mb; (void)m; (void)r; return 0; }
static inline int	hcache_get_sk(struct mbox *mb,
			    const struct mbox_msg *m, struct hcache_rec *r)
{ (void)mb; (void)m; (void)r; return 0; }
static inline int	hcache_put_sk(struct mbox *mb,
			    const struct mbox_msg *m, const char *sk,
			    size_t sk_len)
{ (void)mb; (void)m; (void)sk; (void)sk_len; return -1; }
static inline size_t	hcache_bytes_per_message(void) { return 0; }
static inline size_t	hcache_bytes_shared(void) { return 0; }
#endif

#endif
