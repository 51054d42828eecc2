/* SPDX-License-Identifier: ISC */
/*
 * junk_db.c - the junk filter's token table, file format and
 * classifier (see junk_db.h), in integers only.
 *
 * The table is open addressing with linear probes:
 *
 *   ent: [ h=0 ][ h=a 3/0 ][ h=b 0/7 ][ h=0 ][ ... ]   hash & (SLOTS-1)
 *                ^ a's home   ^ b's home was a's slot: probed on
 *
 * Eviction empties slots in place, which would cut probe chains; the
 * survivors are then put back one by one, walking from an empty slot
 * (see evict).
 */
#include <stdlib.h>
#include <string.h>

#include "store/junk_db.h"

#define MASK		(JUNK_DB_SLOTS - 1)
#define Q16		65536u
#define F_MIN		655u		/* 0.01 */
#define F_MAX		(Q16 - F_MIN)	/* 0.99 */
#define DEV_MIN		6554u		/* 0.1: too neutral to count */
#define COUNT_MAX	65535u
#define N_CAP		(1u << 24)	/* message counts in products */

static const char magic[8] = { 'w', 'r', 'e', 'n', 'j', 'u', 'n', 'k' };

/* 2^(1/2^k) in Q30, k = 1..8: the fraction of a power of two. */
static const uint32_t root2[8] = {
	1518500250u, 1276901417u, 1170923762u, 1121280436u,
	1097253708u, 1085434106u, 1079572136u, 1076653033u
};

static struct junk_ent *find(struct junk_db *, uint32_t, int insert);
static const struct junk_ent *lookup(const struct junk_db *, uint32_t);
static void	count(struct junk_db *, const uint32_t *, size_t, int spam,
		    int sign);
static void	evict(struct junk_db *, uint32_t keep);
static void	put(struct junk_db *, struct junk_ent);
static uint32_t	prob(const struct junk_db *, const struct junk_ent *);
static uint32_t	pow2(uint32_t);
static uint32_t	rd32(const unsigned char *);
static void	wr32(unsigned char *, uint32_t);
static uint32_t	fnv(const unsigned char *, size_t);
static int	ent_cmp(const void *, const void *);

void
junk_db_init(struct junk_db *db)
{
	db->nham = db->nspam = db->ntok = db->nrec = db->rec_at = 0;
	memset(db->rec, 0, sizeof db->rec);
	memset(db->ent, 0, sizeof db->ent);
}

enum junk_db_err
junk_db_parse(struct junk_db *db, const void *in, size_t n)
{
	const unsigned char *p = in, *e;
	uint32_t ntok, nrec, at, prev = 0;
	uint64_t want;

	junk_db_init(db);
	if (n < JUNK_DB_HEAD + 4) {
		return JUNK_DB_SHORT;
	}
	if (memcmp(p, magic, sizeof magic) != 0) {
		return JUNK_DB_MAGIC;
	}
	if (rd32(p + 8) != JUNK_DB_VERSION) {
		return JUNK_DB_VERSION_BAD;
	}
	ntok = rd32(p + 20);
	nrec = rd32(p + 24);
	at = rd32(p + 28);
	if (ntok > JUNK_DB_LOAD || nrec > JUNK_REC_MAX ||
	    at >= JUNK_REC_MAX || (nrec < JUNK_REC_MAX && at != nrec)) {
		return JUNK_DB_COUNT;
	}
	want = JUNK_DB_HEAD + 4 + 4 * (uint64_t)nrec + 8 * (uint64_t)ntok;
	if (want != n) {
		return JUNK_DB_SIZE;
	}
	if (fnv(p, n - 4) != rd32(p + n - 4)) {
		return JUNK_DB_SUM;
	}
	e = p + JUNK_DB_HEAD;
	for (uint32_t i = 0; i < nrec; i++, e += 4) {
		db->rec[i] = rd32(e);
		if (db->rec[i] == 0) {
			junk_db_init(db);
			return JUNK_DB_ORDER;
		}
	}
	for (uint32_t i = 0; i < ntok; i++, e += 8) {
		struct junk_ent t;

		t.h = rd32(e);
		t.ham = (uint16_t)(e[4] | e[5] << 8);
		t.spam = (uint16_t)(e[6] | e[7] << 8);
		if (t.h <= prev) {
			junk_db_init(db);
			return JUNK_DB_ORDER;	/* 0, duplicate, order */
		}
		prev = t.h;
		put(db, t);
	}
	db->nham = rd32(p + 12);
	db->nspam = rd32(p + 16);
	db->nrec = nrec;
	db->rec_at = at;
	return JUNK_DB_OK;
}

const char *
junk_db_strerror(enum junk_db_err err)
{
	static const char *const text[] = {
		"ok", "shorter than its header", "not a wren junk database",
		"unknown version", "a count out of bounds",
		"size differs from the counts", "checksum mismatch",
		"tokens out of order"
	};

	return (unsigned)err < sizeof text / sizeof text[0] ? text[err] :
	    "error";
}

size_t
junk_db_file_size(const struct junk_db *db)
{
	return JUNK_DB_HEAD + 4 + 4 * (size_t)db->nrec + 8 * (size_t)db->ntok;
}

size_t
junk_db_format(const struct junk_db *db, void *out, size_t cap)
{
	unsigned char *p = out, *e, *tok;
	size_t n = junk_db_file_size(db);

	if (cap < n) {
		return 0;
	}
	memcpy(p, magic, sizeof magic);
	wr32(p + 8, JUNK_DB_VERSION);
	wr32(p + 12, db->nham);
	wr32(p + 16, db->nspam);
	wr32(p + 20, db->ntok);
	wr32(p + 24, db->nrec);
	wr32(p + 28, db->rec_at);
	e = p + JUNK_DB_HEAD;
	for (uint32_t i = 0; i < db->nrec; i++, e += 4) {
		wr32(e, db->rec[i]);
	}
	tok = e;
	for (uint32_t i = 0; i < JUNK_DB_SLOTS; i++) {
		const struct junk_ent *t = &db->ent[i];

		if (t->h == 0) {
			continue;
		}
		wr32(e, t->h);
		e[4] = (unsigned char)t->ham;
		e[5] = (unsigned char)(t->ham >> 8);
		e[6] = (unsigned char)t->spam;
		e[7] = (unsigned char)(t->spam >> 8);
		e += 8;
	}
	qsort(tok, db->ntok, 8, ent_cmp);
	wr32(p + n - 4, fnv(p, n - 4));
	return n;
}

enum junk_learn
junk_db_learn(struct junk_db *db, const uint32_t *set, size_t nslots,
    uint32_t id, int spam)
{
	uint32_t key = id << 1 != 0 ? id << 1 : 2u, i;	/* spam: | 1 */
	enum junk_learn rc = JUNK_LEARN_NEW;

	for (i = 0; i < db->nrec; i++) {
		if ((db->rec[i] & ~1u) == key) {
			break;
		}
	}
	if (i < db->nrec) {
		if ((int)(db->rec[i] & 1u) == (spam != 0)) {
			return JUNK_LEARN_SAME;
		}
		/* The user says the filter (or an earlier move) was wrong:
		 * the other way's counts go first. */
		count(db, set, nslots, !spam, -1);
		db->rec[i] = key | (spam != 0);
		rc = JUNK_LEARN_FLIP;
	} else {
		db->rec[db->rec_at] = key | (spam != 0);
		db->rec_at = (db->rec_at + 1) % JUNK_REC_MAX;
		if (db->nrec < JUNK_REC_MAX) {
			db->nrec++;
		}
	}
	if (db->ntok + JUNK_MSG_TOKENS > JUNK_DB_LOAD) {
		evict(db, JUNK_DB_SLOTS / 2 > JUNK_MSG_TOKENS ?
		    JUNK_DB_SLOTS / 2 - JUNK_MSG_TOKENS : 0);
	}
	count(db, set, nslots, spam, 1);
	return rc;
}

int
junk_db_score(const struct junk_db *db, const uint32_t *set, size_t nslots)
{
	uint32_t top[JUNK_TOP], dev[JUNK_TOP];
	size_t ntop = 0;
	int64_t l = 0;
	uint32_t e;

	if (db->nham < JUNK_MIN_TRAIN || db->nspam < JUNK_MIN_TRAIN) {
		return -1;
	}
	for (size_t i = 0; i < nslots; i++) {
		const struct junk_ent *t;
		uint32_t f, d;
		size_t k;

		if (set[i] == 0 || (t = lookup(db, set[i])) == NULL) {
			continue;
		}
		f = prob(db, t);
		d = f > Q16 / 2 ? f - Q16 / 2 : Q16 / 2 - f;
		if (d < DEV_MIN || (ntop == JUNK_TOP && d <= dev[ntop - 1])) {
			continue;
		}
		/* Insertion into the list, most significant first. */
		k = ntop < JUNK_TOP ? ntop++ : ntop - 1;
		while (k > 0 && dev[k - 1] < d) {
			dev[k] = dev[k - 1];
			top[k] = top[k - 1];
			k--;
		}
		dev[k] = d;
		top[k] = f;
	}
	for (size_t k = 0; k < ntop; k++) {
		l += (int64_t)junk_log2(top[k]) - junk_log2(Q16 - top[k]);
	}
	/* P = 1 / (1 + 2^-l); past 2^20 it rounds to 0 or 1000. */
	if (l >= (int64_t)20 * Q16) {
		return 1000;
	}
	if (l <= -(int64_t)20 * Q16) {
		return 0;
	}
	e = pow2((uint32_t)(l < 0 ? -l : l));
	if (l >= 0) {
		return (int)((1000ull * e + (Q16 + e) / 2) / (Q16 + e));
	}
	return (int)((1000ull * Q16 + (Q16 + e) / 2) / (Q16 + e));
}

uint32_t
junk_log2(uint32_t v)
{
	uint64_t y;
	uint32_t r;
	int k = 31;

	if (v == 0) {
		return 0;
	}
	while (!(v & (1u << k))) {
		k--;
	}
	r = (uint32_t)k << 16;
	y = (uint64_t)v << 30 >> k;		/* in [1, 2) as Q30 */
	/* Squaring doubles the log: each carry past 2 is a bit. */
	for (int b = 15; b >= 0; b--) {
		y = (y * y) >> 30;
		if (y >= (2ull << 30)) {
			y >>= 1;
			r |= 1u << b;
		}
	}
	return r;
}

/* 2^(x / 2^16) in Q16, for x < 20 << 16. */
static uint32_t
pow2(uint32_t x)
{
	uint64_t r = 1ull << 30;

	for (int k = 0; k < 8; k++) {
		if (x & (0x8000u >> k)) {
			r = (r * root2[k]) >> 30;
		}
	}
	return (uint32_t)((r << (x >> 16)) >> 14);
}

/* Robinson's f(w) of a token, in Q16 within [F_MIN, F_MAX]. */
static uint32_t
prob(const struct junk_db *db, const struct junk_ent *t)
{
	uint64_t nh = db->nham < N_CAP ? db->nham : N_CAP;
	uint64_t ns = db->nspam < N_CAP ? db->nspam : N_CAP;
	uint64_t b = (uint64_t)t->spam * nh, g = 2 * (uint64_t)t->ham * ns;
	uint64_t n = (uint64_t)t->ham + t->spam, p, f;

	if (b + g == 0) {
		return Q16 / 2;
	}
	p = (b << 16) / (b + g);
	f = (Q16 / 2 + n * p) / (1 + n);
	return f < F_MIN ? F_MIN : f > F_MAX ? F_MAX : (uint32_t)f;
}

/* Adds (sign 1) or takes back (-1) one message's counts. */
static void
count(struct junk_db *db, const uint32_t *set, size_t nslots, int spam,
    int sign)
{
	uint32_t *msgs = spam ? &db->nspam : &db->nham;

	for (size_t i = 0; i < nslots; i++) {
		struct junk_ent *t;
		uint16_t *c;

		if (set[i] == 0 || (t = find(db, set[i], sign > 0)) == NULL) {
			continue;
		}
		c = spam ? &t->spam : &t->ham;
		if (sign > 0 && *c < COUNT_MAX) {
			(*c)++;
		} else if (sign < 0 && *c > 0) {
			(*c)--;
		}
	}
	if (sign > 0 && *msgs < UINT32_MAX) {
		(*msgs)++;
	} else if (sign < 0 && *msgs > 0) {
		(*msgs)--;
	}
}

/* The slot of h; with insert, a new one when absent and there is
 * room (the caller evicted first). */
static struct junk_ent *
find(struct junk_db *db, uint32_t h, int insert)
{
	uint32_t i = h & MASK;

	for (uint32_t probes = 0; probes < JUNK_DB_SLOTS; probes++) {
		if (db->ent[i].h == h) {
			return &db->ent[i];
		}
		if (db->ent[i].h == 0) {
			if (!insert || db->ntok >= JUNK_DB_LOAD) {
				return NULL;
			}
			db->ent[i].h = h;
			db->ent[i].ham = db->ent[i].spam = 0;
			db->ntok++;
			return &db->ent[i];
		}
		i = (i + 1) & MASK;
	}
	return NULL;
}

static const struct junk_ent *
lookup(const struct junk_db *db, uint32_t h)
{
	return find((struct junk_db *)db, h, 0);
}

/* Into the table (parse: the file never holds more than the load). */
static void
put(struct junk_db *db, struct junk_ent t)
{
	struct junk_ent *e = find(db, t.h, 1);

	if (e != NULL) {
		e->ham = t.ham;
		e->spam = t.spam;
	}
}

/*
 * Keeps at most `keep` tokens: those seen in the fewest messages go.
 * A histogram of totals (capped at 255) finds the cut: every token
 * below total `cut` goes, and of those at `cut` as many as needed.
 * Then the survivors are re-placed, walking from an empty slot so a
 * chain's earlier members are final before its later ones move.
 */
static void
evict(struct junk_db *db, uint32_t keep)
{
	uint32_t hist[256] = { 0 }, drop, cut, start = 0;

	if (db->ntok <= keep) {
		return;
	}
	drop = db->ntok - keep;
	for (uint32_t i = 0; i < JUNK_DB_SLOTS; i++) {
		uint32_t n = (uint32_t)db->ent[i].ham + db->ent[i].spam;

		if (db->ent[i].h != 0) {
			hist[n > 255 ? 255 : n]++;
		}
	}
	for (cut = 0; cut < 255 && hist[cut] < drop; cut++) {
		drop -= hist[cut];
	}
	for (uint32_t i = 0; i < JUNK_DB_SLOTS; i++) {
		struct junk_ent *t = &db->ent[i];
		uint32_t n = (uint32_t)t->ham + t->spam;

		if (t->h == 0) {
			continue;
		}
		n = n > 255 ? 255 : n;
		if (n < cut || (n == cut && drop > 0)) {
			drop -= n == cut;
			t->h = 0;
			db->ntok--;
		}
	}
	while (db->ent[start].h != 0) {
		start++;	/* one is empty: ntok <= load < slots */
	}
	for (uint32_t k = 1; k <= JUNK_DB_SLOTS; k++) {
		uint32_t i = (start + k) & MASK;
		struct junk_ent t = db->ent[i];

		if (t.h == 0) {
			continue;
		}
		db->ent[i].h = 0;
		db->ntok--;
		put(db, t);
	}
}

static uint32_t
rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
wr32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
fnv(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h = (h ^ p[i]) * 16777619u;
	}
	return h;
}

static int
ent_cmp(const void *a, const void *b)
{
	uint32_t x = rd32(a), y = rd32(b);

	return x < y ? -1 : x > y;
}
