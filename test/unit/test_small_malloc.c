/* SPDX-License-Identifier: ISC */
/*
 * test_small_malloc.c - the musl builds' allocator (compat/small_malloc.c),
 * compiled here under other names so the test's own allocator stays
 * the system's: sizes across every class edge, reuse of freed blocks,
 * calloc clearing a reused block, realloc keeping the octets, and the
 * refusals (overflowing calloc, sizes no mapping can hold).
 */
#include "testutil.h"

#include <errno.h>

#define malloc	sm_t_malloc
#define free	sm_t_free
#define calloc	sm_t_calloc
#define realloc	sm_t_realloc
#include "compat/small_malloc.c"
#undef malloc
#undef free
#undef calloc
#undef realloc

static const size_t sizes[] = {
	0, 1, 15, 16, 17, 31, 48, 49, 112, 113, 1008, 2032, 2033, 4079,
	4080, 4081, 8192, 70000, 1 << 20
};

static void
test_sizes_aligned_and_writable(void **state)
{
	void *p[sizeof sizes / sizeof sizes[0]];

	(void)state;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		p[i] = sm_t_malloc(sizes[i]);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		memset(p[i], (int)i + 1, sizes[i]);
	}
	/* No block overlaps another: each still holds its own fill. */
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		for (size_t j = 0; j < sizes[i]; j++) {
			assert_int_equal(((unsigned char *)p[i])[j], i + 1);
		}
		sm_t_free(p[i]);
	}
}

static void
test_freed_block_reused_and_calloc_clears_it(void **state)
{
	unsigned char *a, *b;

	(void)state;
	a = sm_t_malloc(100);
	assert_non_null(a);
	memset(a, 0xAA, 100);
	sm_t_free(a);
	b = sm_t_calloc(10, 10);
	assert_ptr_equal(a, b);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(b[i], 0);
	}
	sm_t_free(b);
	sm_t_free(NULL);
}

static void
test_big_calloc_is_zero(void **state)
{
	unsigned char *p = sm_t_calloc(1, 100000);

	(void)state;
	assert_non_null(p);
	for (int i = 0; i < 100000; i += 997) {
		assert_int_equal(p[i], 0);
	}
	sm_t_free(p);
}

static void
test_realloc_keeps_octets(void **state)
{
	unsigned char *p = NULL, *q;
	size_t n;

	(void)state;
	/* Grown as getdelim grows a line: through every class and big. */
	for (n = 1; n <= 65536; n *= 2) {
		q = sm_t_realloc(p, n);
		assert_non_null(q);
		for (size_t i = n / 2; i < n; i++) {
			q[i] = (unsigned char)i;
		}
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(q[i], (unsigned char)i);
		}
		p = q;
	}
	/* Shrinking keeps the block. */
	assert_ptr_equal(sm_t_realloc(p, 10), p);
	sm_t_free(p);
}

static void
test_refusals(void **state)
{
	(void)state;
	errno = 0;
	assert_null(sm_t_calloc(SIZE_MAX / 2, 3));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(sm_t_malloc(SIZE_MAX));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(sm_t_malloc(SIZE_MAX - 8));
	assert_int_equal(errno, ENOMEM);
	assert_null(sm_t_realloc(sm_t_malloc(1), SIZE_MAX - 1));
}

static void
test_many_small_blocks_span_chunks(void **state)
{
	static void *p[5000];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		p[i] = sm_t_malloc((size_t)(i % 200) + 1);
		assert_non_null(p[i]);
		memset(p[i], i & 0xff, (size_t)(i % 200) + 1);
	}
	for (int i = 0; i < 5000; i++) {
		assert_int_equal(((unsigned char *)p[i])[i % 200], i & 0xff);
		sm_t_free(p[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_aligned_and_writable),
		cmocka_unit_test(test_freed_block_reused_and_calloc_clears_it),
		cmocka_unit_test(test_big_calloc_is_zero),
		cmocka_unit_test(test_realloc_keeps_octets),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_many_small_blocks_span_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
