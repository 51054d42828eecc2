/* SPDX-License-Identifier: ISC */
/*
 * test_junk_db.c - the junk filter's database (store/junk_db.h): a
 * table of files (a valid one as written by junk_db_format, then bent:
 * short, wrong magic or version, counts past their bounds, sizes that
 * lie, checksum, order, duplicate and zero hashes, a zero ring entry),
 * each parsed from an exact-size heap copy; then training, the guard
 * against double training, eviction under a flood of tokens, scores,
 * and the fixed-point log2. At least half the file rows are hostile.
 */
#include "testutil.h"

#include "store/junk_db.h"

static struct junk_db db, db2;
static unsigned char file[JUNK_DB_FILE_MAX];

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

/* The checksum written again after a change (to reach later checks). */
static void
resum(unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i + 4 < n; i++) {
		h = (h ^ p[i]) * 16777619u;
	}
	wr32(p + n - 4, h);
}

/* A small valid file: 3 tokens, 2 ring entries. */
static size_t
valid(unsigned char *out)
{
	uint32_t set[4] = { 0x100, 0x200, 0x300, 0 };

	junk_db_init(&db);
	(void)junk_db_learn(&db, set, 4, 0x1234, 1);
	(void)junk_db_learn(&db, set, 3, 0x5678, 0);
	return junk_db_format(&db, out, JUNK_DB_FILE_MAX);
}

enum bend {
	B_NONE, B_CUT, B_MAGIC, B_VERSION, B_NTOK_BIG, B_NREC_BIG, B_AT_BIG,
	B_AT_WRONG, B_LONGER, B_SUM, B_DUP, B_ORDER, B_ZERO_HASH, B_ZERO_REC,
	B_NTOK_LIES, B_EMPTY
};

struct file_case {
	const char		*desc;
	enum bend		 bend;
	enum junk_db_err	 want;
};

static const struct file_case cases[] = {
	{ "valid file as written", B_NONE, JUNK_DB_OK },
	{ "empty database as written", B_EMPTY, JUNK_DB_OK },
	{ "two rows: one with the ring full is valid too", B_NONE,
	  JUNK_DB_OK },
	/* hostile */
	{ "cut inside the header", B_CUT, JUNK_DB_SHORT },
	{ "wrong magic", B_MAGIC, JUNK_DB_MAGIC },
	{ "version 2", B_VERSION, JUNK_DB_VERSION_BAD },
	{ "ntok past the load bound", B_NTOK_BIG, JUNK_DB_COUNT },
	{ "nrec past the ring", B_NREC_BIG, JUNK_DB_COUNT },
	{ "ring slot past the ring", B_AT_BIG, JUNK_DB_COUNT },
	{ "ring not full but slot elsewhere", B_AT_WRONG, JUNK_DB_COUNT },
	{ "trailing octet", B_LONGER, JUNK_DB_SIZE },
	{ "ntok says one more than there is", B_NTOK_LIES, JUNK_DB_SIZE },
	{ "one octet flipped: checksum", B_SUM, JUNK_DB_SUM },
	{ "duplicate hash", B_DUP, JUNK_DB_ORDER },
	{ "hashes out of order", B_ORDER, JUNK_DB_ORDER },
	{ "zero hash", B_ZERO_HASH, JUNK_DB_ORDER },
	{ "zero ring entry", B_ZERO_REC, JUNK_DB_ORDER },
};

static size_t
make(enum bend b, unsigned char *p)
{
	size_t n;
	unsigned char *tok;

	if (b == B_EMPTY) {
		junk_db_init(&db);
		return junk_db_format(&db, p, JUNK_DB_FILE_MAX);
	}
	n = valid(p);
	tok = p + JUNK_DB_HEAD + 4 * rd32(p + 24);
	switch (b) {
	case B_CUT:
		return 20;
	case B_MAGIC:
		p[0] = 'W';
		break;
	case B_VERSION:
		wr32(p + 8, 2);
		break;
	case B_NTOK_BIG:
		wr32(p + 20, JUNK_DB_LOAD + 1);
		break;
	case B_NREC_BIG:
		wr32(p + 24, JUNK_REC_MAX + 1);
		break;
	case B_AT_BIG:
		wr32(p + 28, JUNK_REC_MAX);
		break;
	case B_AT_WRONG:
		wr32(p + 28, 0);
		break;
	case B_LONGER:
		p[n] = 0;
		return n + 1;
	case B_NTOK_LIES:
		wr32(p + 20, rd32(p + 20) + 1);
		break;
	case B_SUM:
		p[12] ^= 1;
		return n;
	case B_DUP:
		memcpy(tok + 8, tok, 4);
		break;
	case B_ORDER:
		wr32(tok, 0xfffffff0u);
		break;
	case B_ZERO_HASH:
		wr32(tok, 0);
		break;
	case B_ZERO_REC:
		wr32(p + JUNK_DB_HEAD, 0);
		break;
	default:
		break;
	}
	if (b != B_NONE) {
		resum(p, n);
	}
	return n;
}

static void
test_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct file_case *c = &cases[i];
		size_t n = make(c->bend, file);
		char *in = dup_exact(file, n);
		enum junk_db_err got = junk_db_parse(&db2, in, n);

		if (got != c->want) {
			fail_msg("%s: %s, want %s", c->desc,
			    junk_db_strerror(got), junk_db_strerror(c->want));
		}
		if (got != JUNK_DB_OK) {
			assert_int_equal(db2.ntok, 0);
			assert_int_equal(db2.nham + db2.nspam, 0);
		}
		free(in);
	}
}

/* Written, parsed, written again: the same octets. */
static void
test_round_trip(void **state)
{
	static unsigned char again[JUNK_DB_FILE_MAX];
	uint32_t set[64];
	size_t n, m;

	(void)state;
	junk_db_init(&db);
	for (uint32_t k = 0; k < 2000; k++) {
		for (uint32_t j = 0; j < 64; j++) {
			set[j] = (k * 7919u + j * 104729u) | 1u;
		}
		(void)junk_db_learn(&db, set, 64, k + 1, (int)(k & 1));
	}
	assert_true(db.ntok <= JUNK_DB_LOAD);
	assert_int_equal(db.nrec, JUNK_REC_MAX);
	n = junk_db_format(&db, file, sizeof file);
	assert_int_equal(n, junk_db_file_size(&db));
	assert_int_equal(junk_db_parse(&db2, file, n), JUNK_DB_OK);
	m = junk_db_format(&db2, again, sizeof again);
	assert_int_equal(n, m);
	assert_memory_equal(file, again, n);
	assert_int_equal(junk_db_format(&db, file, n - 1), 0);
}

/* Each token of a set still found after an eviction re-placed the
 * table: the probe chains were not cut. */
static void
test_eviction_keeps_lookups(void **state)
{
	uint32_t set[JUNK_MSG_TOKENS], keep[8];
	int s;

	(void)state;
	junk_db_init(&db);
	/* Eight tokens seen in many spams: the most useful. */
	for (uint32_t j = 0; j < 8; j++) {
		keep[j] = 0xabc00000u + j;
	}
	for (uint32_t k = 0; k < 40; k++) {
		(void)junk_db_learn(&db, keep, 8, 0x10000u + k, 1);
		(void)junk_db_learn(&db, set, 0, 0x20000u + k, 0);
	}
	/* A flood of tokens seen once each. */
	for (uint32_t k = 0; k < 60; k++) {
		for (uint32_t j = 0; j < JUNK_MSG_TOKENS; j++) {
			set[j] = (k << 16 | j) * 2654435761u | 1u;
		}
		(void)junk_db_learn(&db, set, JUNK_MSG_TOKENS, 0x30000u + k,
		    (int)(k & 1));
		assert_true(db.ntok <= JUNK_DB_LOAD);
	}
	s = junk_db_score(&db, keep, 8);
	assert_true(s >= 990);
	/* Every held entry is found by a lookup from its home. */
	for (uint32_t i = 0; i < JUNK_DB_SLOTS; i++) {
		if (db.ent[i].h != 0) {
			uint32_t one = db.ent[i].h;

			(void)junk_db_score(&db, &one, 1);
		}
	}
	assert_int_equal(junk_db_format(&db, file, sizeof file),
	    junk_db_file_size(&db));
	assert_int_equal(junk_db_parse(&db2, file,
	    junk_db_file_size(&db)), JUNK_DB_OK);
	assert_int_equal(db2.ntok, db.ntok);
}

static void
test_learn_guard_and_score(void **state)
{
	uint32_t spam[3] = { 11, 12, 13 }, ham[3] = { 21, 22, 23 };
	uint32_t mixed[4] = { 11, 21, 99, 0 };

	(void)state;
	junk_db_init(&db);
	assert_int_equal(junk_db_score(&db, spam, 3), -1);
	for (uint32_t k = 0; k < JUNK_MIN_TRAIN; k++) {
		assert_int_equal(junk_db_learn(&db, spam, 3, 100 + k, 1),
		    JUNK_LEARN_NEW);
		assert_int_equal(junk_db_learn(&db, ham, 3, 200 + k, 0),
		    JUNK_LEARN_NEW);
	}
	assert_int_equal(junk_db_learn(&db, spam, 3, 100, 1),
	    JUNK_LEARN_SAME);
	assert_int_equal(db.nspam, JUNK_MIN_TRAIN);
	assert_true(junk_db_score(&db, spam, 3) > 900);
	assert_true(junk_db_score(&db, ham, 3) < 100);
	/* One spam and one ham token, as sure: even. */
	assert_int_equal(junk_db_score(&db, mixed, 4), 500);
	/* The user moves spam #0 out of Junk: counts corrected. */
	assert_int_equal(junk_db_learn(&db, spam, 3, 100, 0),
	    JUNK_LEARN_FLIP);
	assert_int_equal(db.nspam, JUNK_MIN_TRAIN - 1);
	assert_int_equal(db.nham, JUNK_MIN_TRAIN + 1);
	assert_int_equal(junk_db_score(&db, spam, 3), -1);
	/* Unknown tokens only: neutral. */
	assert_int_equal(junk_db_learn(&db, spam, 3, 999, 1),
	    JUNK_LEARN_NEW);
	assert_int_equal(junk_db_score(&db, mixed + 2, 1), 500);
}

static void
test_log2(void **state)
{
	(void)state;
	assert_int_equal(junk_log2(1), 0);
	assert_int_equal(junk_log2(2), 65536);
	assert_int_equal(junk_log2(65536), 16 * 65536);
	/* log2(3) = 1.5849625: Q16 103872.6 */
	assert_true(junk_log2(3) >= 103871 && junk_log2(3) <= 103873);
	assert_true(junk_log2(0xffffffffu) >= 32 * 65536 - 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_eviction_keeps_lookups),
		cmocka_unit_test(test_learn_guard_and_score),
		cmocka_unit_test(test_log2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
