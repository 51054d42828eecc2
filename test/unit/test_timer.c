/* SPDX-License-Identifier: ISC */
/*
 * test_timer.c - the timer heap: ordering, ties, cancel, re-arm, the
 * capacity bound, callbacks that re-arm, and a randomized comparison
 * against a sorted reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/timer.h"

#define MAXLOG	64

static int fired[MAXLOG];
static int nfired;

static void
record(struct timer *t, void *arg)
{
	(void)t;
	if (nfired < MAXLOG) {
		fired[nfired++] = (int)(intptr_t)arg;
	}
}

static void
test_fires_in_due_order(void **state)
{
	struct timer_heap th;
	struct timer t[5];
	static const uint64_t due[5] = { 50, 10, 40, 20, 30 };
	struct err e;

	(void)state;
	nfired = 0;
	assert_int_equal(timer_heap_init(&th, 8, &e), 0);
	for (int i = 0; i < 5; i++) {
		timer_init(&t[i], record, (void *)(intptr_t)i);
		assert_int_equal(timer_set(&th, &t[i], due[i]), 0);
	}
	assert_int_equal(timer_next(&th), 10);
	assert_int_equal(timer_run(&th, 5), 0);		/* nothing due */
	assert_int_equal(timer_run(&th, 25), 2);
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[1], 3);
	assert_int_equal(timer_run(&th, 1000), 3);
	assert_int_equal(fired[2], 4);
	assert_int_equal(fired[3], 2);
	assert_int_equal(fired[4], 0);
	assert_int_equal(timer_next(&th), TIMER_NONE);
	timer_heap_destroy(&th);
}

static void
test_ties_fire_in_arming_order(void **state)
{
	struct timer_heap th;
	struct timer t[4];
	struct err e;

	(void)state;
	nfired = 0;
	assert_int_equal(timer_heap_init(&th, 4, &e), 0);
	for (int i = 0; i < 4; i++) {
		timer_init(&t[i], record, (void *)(intptr_t)i);
		assert_int_equal(timer_set(&th, &t[i], 7), 0);
	}
	timer_run(&th, 7);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(fired[i], i);
	}
	timer_heap_destroy(&th);
}

static void
test_cancel_and_rearm(void **state)
{
	struct timer_heap th;
	struct timer a, b, c;
	struct err e;

	(void)state;
	nfired = 0;
	assert_int_equal(timer_heap_init(&th, 4, &e), 0);
	timer_init(&a, record, (void *)1);
	timer_init(&b, record, (void *)2);
	timer_init(&c, record, (void *)3);
	timer_set(&th, &a, 10);
	timer_set(&th, &b, 20);
	timer_set(&th, &c, 30);
	timer_cancel(&th, &b);
	assert_false(timer_armed(&b));
	timer_cancel(&th, &b);			/* twice is harmless */
	timer_set(&th, &a, 40);			/* re-arm moves it */
	assert_true(timer_armed(&a));
	assert_int_equal(timer_next(&th), 30);
	timer_run(&th, 100);
	assert_int_equal(nfired, 2);
	assert_int_equal(fired[0], 3);
	assert_int_equal(fired[1], 1);
	timer_heap_destroy(&th);
}

static void
test_capacity_is_a_bound(void **state)
{
	struct timer_heap th;
	struct timer t[3];
	struct err e;

	(void)state;
	assert_int_equal(timer_heap_init(&th, 2, &e), 0);
	for (int i = 0; i < 3; i++) {
		timer_init(&t[i], record, NULL);
	}
	assert_int_equal(timer_set(&th, &t[0], 1), 0);
	assert_int_equal(timer_set(&th, &t[1], 2), 0);
	assert_int_equal(timer_set(&th, &t[2], 3), -1);	/* full */
	assert_false(timer_armed(&t[2]));
	assert_int_equal(timer_set(&th, &t[1], 5), 0);	/* re-arm fits */
	timer_heap_destroy(&th);
}

static struct timer_heap *rearm_heap;
static int rearm_count;

static void
rearm_self(struct timer *t, void *arg)
{
	(void)arg;
	if (++rearm_count < 3) {
		timer_set(rearm_heap, t, t->due + 10);
	}
}

static void
test_callback_may_rearm_itself(void **state)
{
	struct timer_heap th;
	struct timer t;
	struct err e;

	(void)state;
	assert_int_equal(timer_heap_init(&th, 2, &e), 0);
	rearm_heap = &th;
	rearm_count = 0;
	timer_init(&t, rearm_self, NULL);
	timer_set(&th, &t, 10);
	/* Re-armed into the future: a single run does not loop on it. */
	assert_int_equal(timer_run(&th, 10), 1);
	/* A timer armed during a run waits for the next run, even when it
	 * is already due: the loop polls its fds in between. */
	assert_int_equal(timer_run(&th, 100), 1);
	assert_int_equal(rearm_count, 2);
	assert_int_equal(timer_run(&th, 100), 1);
	assert_int_equal(rearm_count, 3);
	assert_int_equal(timer_run(&th, 100), 0);
	timer_heap_destroy(&th);
}

#define NRAND	500

static void
test_random_against_reference(void **state)
{
	static struct timer t[NRAND];
	static int alive[NRAND];
	struct timer_heap th;
	struct err e;
	unsigned seed = 42;
	uint64_t last = 0;

	(void)state;
	assert_int_equal(timer_heap_init(&th, NRAND, &e), 0);
	for (int i = 0; i < NRAND; i++) {
		seed = seed * 1103515245u + 12345u;
		timer_init(&t[i], record, (void *)(intptr_t)i);
		timer_set(&th, &t[i], (seed >> 8) % 10000);
		alive[i] = 1;
	}
	for (int i = 0; i < NRAND; i += 3) {	/* cancel a third */
		timer_cancel(&th, &t[i]);
		alive[i] = 0;
	}
	for (int i = 1; i < NRAND; i += 7) {	/* re-arm some */
		seed = seed * 1103515245u + 12345u;
		timer_set(&th, &t[i], (seed >> 8) % 10000);
		alive[i] = 1;
	}
	/* Pop one at a time: due times never go backwards, and exactly
	 * the live timers come out. */
	for (;;) {
		uint64_t next = timer_next(&th);
		int i;

		if (next == TIMER_NONE) {
			break;
		}
		assert_true(next >= last);
		last = next;
		nfired = 0;
		assert_true(timer_run(&th, next) >= 1);
		for (int k = 0; k < nfired; k++) {
			i = fired[k];
			assert_true(alive[i]);
			assert_int_equal(t[i].due, next);
			alive[i] = 0;
		}
	}
	for (int i = 0; i < NRAND; i++) {
		assert_false(alive[i]);
	}
	timer_heap_destroy(&th);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires_in_due_order),
		cmocka_unit_test(test_ties_fire_in_arming_order),
		cmocka_unit_test(test_cancel_and_rearm),
		cmocka_unit_test(test_capacity_is_a_bound),
		cmocka_unit_test(test_callback_may_rearm_itself),
		cmocka_unit_test(test_random_against_reference),
	};

	return cmocka_run_group_tests_name("timer", tests, NULL, NULL);
}
