/* SPDX-License-Identifier: ISC */
/*
 * junk_db.h - an account's junk filter: the token database, its file
 * format and the classifier, sans-I/O (store/junk.h reads and writes
 * the file, msg/junk_tok.h makes the tokens).
 *
 * The database: a fixed table of JUNK_DB_SLOTS entries (token hash,
 * ham count, spam count; 8 octets each), the number of ham and spam
 * messages trained, and a ring of the last JUNK_REC_MAX messages
 * trained (their identity, junk_tok_id, and the way they went).
 *
 * Training (junk_db_learn) adds 1 to each distinct token's ham or spam
 * count. A message already in the ring the same way is not trained
 * again (a COPY of a copy, a client moving the message back and forth
 * twice); one in it the other way is first untrained (its counts taken
 * back), then trained the new way: the user corrected the filter. Past
 * the ring's memory (1,024 messages), a message trained again counts
 * twice: bounded memory, accepted.
 *
 * Bounded size: the table holds at most JUNK_DB_LOAD tokens (3/4 of
 * its slots, so probes stay short). A training that could pass it
 * first evicts the least useful tokens, those seen in the fewest
 * messages (ham + spam count; among equals, the first found), down to
 * half the slots. Counts stop at 65,535.
 *
 * The classifier (junk_db_score), as Paul Graham's "A Plan for Spam"
 * with Gary Robinson's correction for rare words, as mox does:
 *  - per token with h ham and s spam counts, of NH ham and NS spam
 *    messages: p = (s/NS) / (s/NS + 2h/NH) (Graham doubles ham counts
 *    to lean away from false positives), then Robinson's
 *    f = (S x + n p) / (S + n) with n = h + s, S = 1, x = 0.5 (a word
 *    seen once says little), f kept within [0.01, 0.99];
 *  - the JUNK_TOP tokens of the message whose f is furthest from 0.5
 *    (none closer than 0.1) are combined as naive Bayes does:
 *    P = prod f / (prod f + prod (1 - f)), computed as log odds.
 * All in fixed point (Q16 probabilities, log2 by squaring): routers'
 * cores without an FPU trap every floating-point instruction. The
 * score is P in thousandths; with fewer than JUNK_MIN_TRAIN ham or
 * spam messages trained there is no score (-1).
 *
 * The file, "wren-junk.db" in the Maildir, all integers little-endian:
 *
 *   0   8  "wrenjunk"
 *   8   4  version: 1
 *   12  4  ham messages trained      16  4  spam messages trained
 *   20  4  tokens (ntok)             24  4  ring entries (nrec)
 *   28  4  ring's next slot
 *   32      nrec x 4: ring entries (identity << 1, | 1 for spam;
 *           never 0)
 *   ...     ntok x 8: hash (4, never 0), ham (2), spam (2), in
 *           strictly ascending hash order (so one database has one
 *           file, and a duplicate is an error)
 *   end  4  FNV-1a of every octet before it
 *
 * Size: 36 + 4 nrec + 8 ntok octets, at most JUNK_DB_FILE_MAX. The
 * parser trusts nothing: every count against its bound and the size,
 * the checksum, the order.
 */
#ifndef WREN_JUNK_DB_H
#define WREN_JUNK_DB_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

#define JUNK_DB_SLOTS	16384u		/* a power of two: 128 KB */
#define JUNK_DB_LOAD	(JUNK_DB_SLOTS / 4 * 3)
#define JUNK_DB_VERSION	1
#define JUNK_DB_HEAD	32
#define JUNK_DB_FILE_MAX (JUNK_DB_HEAD + 4 * JUNK_REC_MAX + \
			    8 * JUNK_DB_LOAD + 4)
#define JUNK_TOP	15		/* tokens a score combines */
#define JUNK_MIN_TRAIN	5		/* ham and spam, before scoring */

struct junk_ent {
	uint32_t	h;		/* 0: empty slot */
	uint16_t	ham, spam;
};

struct junk_db {
	uint32_t	nham, nspam;	/* messages trained */
	uint32_t	ntok;		/* slots in use */
	uint32_t	nrec, rec_at;	/* the ring */
	uint32_t	rec[JUNK_REC_MAX];
	struct junk_ent	ent[JUNK_DB_SLOTS];
};

enum junk_db_err {
	JUNK_DB_OK,
	JUNK_DB_SHORT,		/* smaller than a header */
	JUNK_DB_MAGIC,
	JUNK_DB_VERSION_BAD,	/* a version this build cannot read */
	JUNK_DB_COUNT,		/* a count past its bound */
	JUNK_DB_SIZE,		/* size not what the counts say */
	JUNK_DB_SUM,		/* checksum */
	JUNK_DB_ORDER		/* hash 0, duplicate or out of order,
				 * ring entry 0 */
};

enum junk_learn {
	JUNK_LEARN_NEW,		/* trained */
	JUNK_LEARN_SAME,	/* trained this way before: nothing done */
	JUNK_LEARN_FLIP		/* untrained the other way, then trained */
};

/* An empty database. */
void	junk_db_init(struct junk_db *db);

/* The file p[0..n) into db (any earlier content replaced). Returns
 * JUNK_DB_OK, or an error with db emptied. */
enum junk_db_err junk_db_parse(struct junk_db *db, const void *p, size_t n);

/* A text for the error, for logs and wren check. */
const char *junk_db_strerror(enum junk_db_err err);

/* The file of db into out[0..cap): returns its size, 0 when cap is
 * smaller than junk_db_file_size(db). */
size_t	junk_db_format(const struct junk_db *db, void *out, size_t cap);

/* The size junk_db_format writes. */
size_t	junk_db_file_size(const struct junk_db *db);

/* Trains a message: its token set set[0..nslots) (0 entries skipped,
 * as junk_tok's set), identity id (junk_tok_id), spam 1 or ham 0. */
enum junk_learn junk_db_learn(struct junk_db *db, const uint32_t *set,
	    size_t nslots, uint32_t id, int spam);

/* The spam probability of a token set in thousandths (0..1000), or -1
 * when db has fewer than JUNK_MIN_TRAIN ham or spam messages. */
int	junk_db_score(const struct junk_db *db, const uint32_t *set,
	    size_t nslots);

/* log2(v) in Q16 for v >= 1 (exposed for the unit test). */
uint32_t junk_log2(uint32_t v);

#endif
