/* SPDX-License-Identifier: ISC */
/*
 * test_throttle.c - the failed-login table (auth/throttle.h): counting
 * per address and per IPv6 /64, refusal at the limit, the window, and
 * above all that failures from other addresses never flush a block:
 * 5,000 failures from other IPv4 addresses or other /64s of the same
 * /54 (the flood that used to evict the oldest slot), an address near
 * its limit kept through a flood, a table full of blocks aggregating a
 * prefix that already holds one, and refusing to count the rest.
 *
 * The table is global: each test starts at a time far past the windows
 * of the ones before, where every slot has expired.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "auth/throttle.h"

#define LIMIT	10

/* A fresh start time: every slot of earlier tests has expired. */
static uint64_t
fresh(void)
{
	static uint64_t t = 1000000;

	t += 100 * THROTTLE_WINDOW;
	return t;
}

static void
v4(uint8_t *a, unsigned n)
{
	a[0] = 10;
	a[1] = (uint8_t)(n >> 16);
	a[2] = (uint8_t)(n >> 8);
	a[3] = (uint8_t)n;
}

/* 2001:db8:0:NNNN:...: /64s numbered n (the 4th group; the /48 is
 * 2001:db8:0::), tail varies inside the /64. */
static void
v6(uint8_t *a, unsigned n, unsigned tail)
{
	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[4] = (uint8_t)(n >> 24);
	a[5] = (uint8_t)(n >> 16);
	a[6] = (uint8_t)(n >> 8);
	a[7] = (uint8_t)n;
	a[15] = (uint8_t)tail;
	a[14] = (uint8_t)(tail >> 8);
}

static void
fail_n(int family, const uint8_t *a, uint64_t now, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		(void)throttle_failed(family, a, now);
	}
}

static int
refused(int family, const uint8_t *a, uint64_t now)
{
	return throttle_refused(family, a, now, LIMIT);
}

/*
 * One address: rows of (failures from it, failures from others in
 * between, seconds later, expected refusal).
 */
static const struct {
	const char	*desc;
	unsigned	 fails;
	unsigned	 others;	/* other IPv4 addresses, 1 each */
	uint64_t	 later;		/* asked this much later */
	int		 refused;
} rows[] = {
	{ "no failure", 0, 0, 0, 0 },
	{ "one under the limit", LIMIT - 1, 0, 0, 0 },
	{ "at the limit", LIMIT, 0, 0, 1 },
	{ "over the limit", LIMIT + 5, 0, 0, 1 },
	{ "at the limit, near the window's end", LIMIT, 0,
	    THROTTLE_WINDOW - 1, 1 },
	{ "at the limit, window over", LIMIT, 0, THROTTLE_WINDOW, 0 },
	/* Hostile: floods from other addresses. */
	{ "blocked, then 1,023 others (fills the table)", LIMIT, 1023, 0,
	    1 },
	{ "blocked, then 1,024 others (the old eviction)", LIMIT, 1024, 0,
	    1 },
	{ "blocked, then 5,000 others", LIMIT, 5000, 0, 1 },
	{ "blocked, then 20,000 others", LIMIT, 20000, 0, 1 },
	{ "blocked, 5,000 others, window over", LIMIT, 5000,
	    THROTTLE_WINDOW, 0 },
	{ "one under, 5,000 others: not blocked", LIMIT - 1, 5000, 0, 0 },
};

static void
test_rows(void **state)
{
	uint8_t a[4] = { 192, 0, 2, 7 }, o[4];

	(void)state;
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		uint64_t t = fresh();

		assert_false(refused(AF_INET, a, t));	/* as callers do */
		fail_n(AF_INET, a, t, rows[r].fails);
		for (unsigned i = 0; i < rows[r].others; i++) {
			v4(o, i);
			(void)throttle_failed(AF_INET, o, t + 1);
		}
		if (refused(AF_INET, a, t + rows[r].later) !=
		    rows[r].refused) {
			fail_msg("%s: refused should be %d", rows[r].desc,
			    rows[r].refused);
		}
	}
}

/* The flood: one /64 blocked, then 5,000 failures from other
 * /64s of the same /54. */
static void
test_ipv6_flood_keeps_block(void **state)
{
	uint8_t a[16], o[16];
	uint64_t t = fresh();

	(void)state;
	v6(a, 0x2a5, 1);
	fail_n(AF_INET6, a, t, LIMIT);
	assert_true(refused(AF_INET6, a, t));
	v6(a, 0x2a5, 999);	/* the same /64 */
	assert_true(refused(AF_INET6, a, t));
	for (unsigned i = 0; i < 5000; i++) {
		v6(o, 0x400 + i % 1024, i);
		(void)throttle_failed(AF_INET6, o, t + 1);
	}
	assert_true(refused(AF_INET6, a, t + 2));
	v6(o, 0x401, 0);
	assert_false(refused(AF_INET6, o, t + 2));
}

/* An address one failure short of its limit is the last to be evicted:
 * a flood of single failures does not reset it. */
static void
test_near_limit_survives_flood(void **state)
{
	uint8_t a[4] = { 198, 51, 100, 1 }, o[4];
	uint64_t t = fresh();

	(void)state;
	assert_false(refused(AF_INET, a, t));	/* sets the limit */
	fail_n(AF_INET, a, t, LIMIT - 1);
	for (unsigned i = 0; i < 5000; i++) {
		v4(o, i);
		(void)throttle_failed(AF_INET, o, t + 1);
	}
	assert_false(refused(AF_INET, a, t + 2));
	assert_int_equal(throttle_failed(AF_INET, a, t + 2), LIMIT);
	assert_true(refused(AF_INET, a, t + 2));
}

/*
 * Every slot a block, from 1,024 different /24s: a new address from yet
 * another /24 is not counted and every block stays; one from a blocked
 * /24 makes the whole /24 a block.
 */
static void
test_full_of_blocks_ipv4(void **state)
{
	uint8_t a[4], b[4] = { 203, 0, 113, 5 };
	uint64_t t = fresh();

	(void)state;
	for (unsigned i = 0; i < THROTTLE_SLOTS; i++) {
		v4(a, i << 8);	/* 10.x.y.0, one per /24 */
		fail_n(AF_INET, a, t, LIMIT);
	}
	assert_int_equal(throttle_failed(AF_INET, b, t + 1), 0);
	assert_int_equal(throttle_failed(AF_INET, b, t + 1), 0);
	assert_false(refused(AF_INET, b, t + 1));
	for (unsigned i = 0; i < THROTTLE_SLOTS; i++) {
		v4(a, i << 8);
		assert_true(refused(AF_INET, a, t + 1));
	}
	/* 10.0.3.77: /24 of a block -> the /24 is blocked. */
	v4(a, (3 << 8) | 77);
	assert_false(refused(AF_INET, a, t + 1));
	assert_true(throttle_failed(AF_INET, a, t + 1) > LIMIT);
	assert_true(refused(AF_INET, a, t + 1));
	v4(a, (3 << 8) | 200);
	assert_true(refused(AF_INET, a, t + 1));
	v4(a, (4 << 8) | 200);	/* another blocked /24: its address only */
	assert_false(refused(AF_INET, a, t + 1));
	/* All expire together. */
	assert_false(refused(AF_INET, a, t + THROTTLE_WINDOW));
	assert_int_equal(throttle_failed(AF_INET, b, t + THROTTLE_WINDOW),
	    1);
}

/*
 * 1,024 /64s of one /48 blocked: the next /64 of that /48 blocks the
 * /48 and frees the other slots, so new addresses are counted again.
 */
static void
test_full_of_blocks_ipv6_aggregates(void **state)
{
	uint8_t a[16], b[4] = { 203, 0, 113, 9 };
	uint64_t t = fresh();

	(void)state;
	for (unsigned i = 0; i < THROTTLE_SLOTS; i++) {
		v6(a, i, 1);
		fail_n(AF_INET6, a, t, LIMIT);
	}
	assert_int_equal(throttle_failed(AF_INET, b, t + 1), 0);
	v6(a, 5000, 1);
	assert_false(refused(AF_INET6, a, t + 1));
	assert_true(throttle_failed(AF_INET6, a, t + 1) > LIMIT);
	v6(a, 0xffff, 3);	/* any /64 of the /48 */
	assert_true(refused(AF_INET6, a, t + 1));
	v6(a, 0, 1);
	assert_true(refused(AF_INET6, a, t + 1));
	a[5] = 1;		/* 2001:db8:1::/48: another site */
	assert_false(refused(AF_INET6, a, t + 1));
	/* The slots the aggregate freed take new addresses. */
	assert_int_equal(throttle_failed(AF_INET, b, t + 1), 1);
}

/* Hostile keys: a v4-mapped IPv6 address counts as its IPv4 address;
 * IPv4 and IPv6 keys never match each other. */
static void
test_mapped_and_families(void **state)
{
	uint8_t a4[4] = { 192, 0, 2, 99 };
	uint8_t m6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	    192, 0, 2, 99 };
	uint8_t z6[16] = { 0 };
	uint64_t t = fresh();

	(void)state;
	fail_n(AF_INET6, m6, t, LIMIT);
	assert_true(refused(AF_INET, a4, t));
	assert_false(refused(AF_INET6, z6, t));	/* ::/64 is not IPv4 */
	fail_n(AF_INET6, z6, t, LIMIT);
	assert_true(refused(AF_INET6, z6, t));
	a4[3] = 98;
	assert_false(refused(AF_INET, a4, t));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_ipv6_flood_keeps_block),
		cmocka_unit_test(test_near_limit_survives_flood),
		cmocka_unit_test(test_full_of_blocks_ipv4),
		cmocka_unit_test(test_full_of_blocks_ipv6_aggregates),
		cmocka_unit_test(test_mapped_and_families),
	};

	return cmocka_run_group_tests_name("throttle", tests, NULL, NULL);
}
