/* SPDX-License-Identifier: ISC */
/*
 * timer.h - a bounded binary min-heap of timers, sans-I/O.
 *
 * Timers are embedded in their owners (a connection's idle timer lives
 * in the connection), so arming one never allocates; the heap only
 * holds pointers, in an array sized once at start. Each timer knows its
 * heap slot, so cancel and re-arm are O(log n) with no search.
 *
 *                 [0] 10ms            heap[i]'s children are
 *               /          \          heap[2i+1] and heap[2i+2];
 *          [1] 20ms      [2] 15ms     a parent is due no later
 *          /     \                    than its children.
 *     [3] 40ms  [4] 25ms
 *
 * Time is a caller-supplied count of milliseconds (the loop passes the
 * monotonic clock), which keeps this file testable without a clock.
 */
#ifndef WREN_TIMER_H
#define WREN_TIMER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct timer;
typedef void timer_fn(struct timer *, void *arg);

struct timer {
	uint64_t	 due;		/* ms */
	uint64_t	 seq;		/* ties fire in arming order */
	size_t		 slot;		/* index in heap, or TIMER_IDLE */
	timer_fn	*fn;
	void		*arg;
};

#define TIMER_IDLE	((size_t)-1)
#define TIMER_NONE	UINT64_MAX	/* timer_next when empty */

struct timer_heap {
	struct timer	**h;
	size_t		  n, cap;
	uint64_t	  seq;
};

int	timer_heap_init(struct timer_heap *, size_t cap, struct err *);
void	timer_heap_destroy(struct timer_heap *);

/* Prepares a timer for use (not armed). */
void	timer_init(struct timer *, timer_fn *, void *arg);

/* Arms (or re-arms) t to fire at `due`; -1 when the heap is full. */
int	timer_set(struct timer_heap *, struct timer *, uint64_t due);
void	timer_cancel(struct timer_heap *, struct timer *);
int	timer_armed(const struct timer *);

/* Due time of the earliest timer, or TIMER_NONE. */
uint64_t	timer_next(const struct timer_heap *);

/* Runs, in due order, every timer due at or before `now`; a callback
 * may arm or cancel any timer, itself included. Returns how many ran. */
size_t	timer_run(struct timer_heap *, uint64_t now);

#endif
