/* SPDX-License-Identifier: ISC */
/*
 * test_pool.c - fixed-size block pools: exhaustion, reuse, bad puts and
 * no leak over 10,000 acquire/release cycles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/pool.h"

#define NBLOCKS	8
#define BLOCK	100

static void
test_exhaustion_then_reuse(void **state)
{
	struct pool p;
	struct err e;
	void *b[NBLOCKS];

	(void)state;
	assert_int_equal(pool_init(&p, "t", BLOCK, NBLOCKS, &e), 0);
	for (int i = 0; i < NBLOCKS; i++) {
		b[i] = pool_get(&p);
		assert_non_null(b[i]);
		for (int j = 0; j < i; j++) {
			assert_ptr_not_equal(b[i], b[j]);
		}
		memset(b[i], 0xab, BLOCK);	/* whole block is usable */
	}
	assert_int_equal(pool_avail(&p), 0);
	assert_null(pool_get(&p));		/* empty: NULL, not a crash */
	assert_int_equal(pool_put(&p, b[3]), 0);
	assert_int_equal(pool_avail(&p), 1);
	/* The block comes back, zero-filled. */
	b[3] = pool_get(&p);
	assert_non_null(b[3]);
	for (int i = 0; i < BLOCK; i++) {
		assert_int_equal(((unsigned char *)b[3])[i], 0);
	}
	for (int i = 0; i < NBLOCKS; i++) {
		assert_int_equal(pool_put(&p, b[i]), 0);
	}
	assert_int_equal(pool_avail(&p), NBLOCKS);
	pool_destroy(&p);
}

static void
test_bad_puts_are_refused(void **state)
{
	struct pool p;
	struct err e;
	char outside[16];
	unsigned char *b;

	(void)state;
	assert_int_equal(pool_init(&p, "t", BLOCK, NBLOCKS, &e), 0);
	b = pool_get(&p);
	assert_int_equal(pool_put(&p, outside), -1);	/* foreign */
	assert_int_equal(pool_put(&p, b + 1), -1);	/* misaligned */
	assert_int_equal(pool_put(&p, b), 0);
	assert_int_equal(pool_put(&p, b), -1);		/* double put */
	assert_int_equal(pool_avail(&p), NBLOCKS);
	pool_destroy(&p);
}

static void
test_no_leak_over_10000_cycles(void **state)
{
	struct pool p;
	struct err e;
	void *held[NBLOCKS];
	unsigned seed = 1;
	int n = 0;

	(void)state;
	assert_int_equal(pool_init(&p, "t", BLOCK, NBLOCKS, &e), 0);
	for (int cycle = 0; cycle < 10000; cycle++) {
		seed = seed * 1103515245u + 12345u;
		if (n < NBLOCKS && (n == 0 || (seed >> 16) % 2 == 0)) {
			held[n] = pool_get(&p);
			assert_non_null(held[n]);
			n++;
		} else {
			int i = (int)((seed >> 8) % (unsigned)n);

			assert_int_equal(pool_put(&p, held[i]), 0);
			held[i] = held[--n];
		}
		assert_int_equal(pool_avail(&p), NBLOCKS - n);
	}
	while (n > 0) {
		assert_int_equal(pool_put(&p, held[--n]), 0);
	}
	assert_int_equal(pool_avail(&p), NBLOCKS);
	pool_destroy(&p);
}

static void
test_bad_sizes(void **state)
{
	struct pool p;
	struct err e;

	(void)state;
	assert_int_equal(pool_init(&p, "t", 0, 4, &e), -1);
	assert_string_equal(e.msg, "pool t: bad size 4 x 0");
	assert_int_equal(pool_init(&p, "t", 16, 0, &e), -1);
	assert_int_equal(pool_init(&p, "t", SIZE_MAX / 2, 4, &e), -1);
}

static void
test_bytes_accounts_for_blocks(void **state)
{
	struct pool p;
	struct err e;

	(void)state;
	assert_int_equal(pool_init(&p, "t", 100, 10, &e), 0);
	/* 100 rounds up to 112 (16-byte alignment). */
	assert_true(pool_bytes(&p) >= 112 * 10);
	pool_destroy(&p);
}

/* pool_get_raw leaves a block as it was (no page touched for it);
 * pool_get still zeroes; both count and refuse alike. */
static void
test_raw_is_not_zeroed(void **state)
{
	struct pool p;
	struct err e;
	unsigned char *b;

	(void)state;
	assert_int_equal(pool_init(&p, "t", BLOCK, 1, &e), 0);
	b = pool_get_raw(&p);
	assert_non_null(b);
	assert_int_equal(b[0], 0);		/* fresh pages are zero */
	memset(b, 0x5a, BLOCK);
	assert_null(pool_get_raw(&p));		/* empty */
	assert_int_equal(pool_put(&p, b), 0);
	b = pool_get_raw(&p);
	assert_int_equal(b[0], 0x5a);		/* as left */
	assert_int_equal(b[BLOCK - 1], 0x5a);
	assert_int_equal(pool_put(&p, b), 0);
	assert_int_equal(pool_put(&p, b), -1);	/* double put */
	b = pool_get(&p);
	assert_int_equal(b[0], 0);		/* pool_get zeroes */
	assert_int_equal(b[BLOCK - 1], 0);
	pool_destroy(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exhaustion_then_reuse),
		cmocka_unit_test(test_bad_puts_are_refused),
		cmocka_unit_test(test_no_leak_over_10000_cycles),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_bytes_accounts_for_blocks),
		cmocka_unit_test(test_raw_is_not_zeroed),
	};

	return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
