/* SPDX-License-Identifier: ISC */
/*
 * timer.c - binary min-heap of timers (see timer.h for the picture).
 */
#include <stdlib.h>

#include "timer.h"

static int	earlier(const struct timer *, const struct timer *);
static void	place(struct timer_heap *, size_t, struct timer *);
static void	sift_up(struct timer_heap *, size_t);
static void	sift_down(struct timer_heap *, size_t);
static void	remove_at(struct timer_heap *, size_t);

int
timer_heap_init(struct timer_heap *th, size_t cap, struct err *e)
{
	th->n = 0;
	th->seq = 0;
	th->cap = cap;
	th->h = calloc(cap ? cap : 1, sizeof *th->h);
	if (th->h == NULL) {
		return err_set(e, "timers: out of memory");
	}
	return 0;
}

void
timer_heap_destroy(struct timer_heap *th)
{
	for (size_t i = 0; i < th->n; i++) {
		th->h[i]->slot = TIMER_IDLE;
	}
	free(th->h);
	th->h = NULL;
	th->n = th->cap = 0;
}

void
timer_init(struct timer *t, timer_fn *fn, void *arg)
{
	t->due = 0;
	t->seq = 0;
	t->slot = TIMER_IDLE;
	t->fn = fn;
	t->arg = arg;
}

int
timer_set(struct timer_heap *th, struct timer *t, uint64_t due)
{
	if (t->slot != TIMER_IDLE) {
		remove_at(th, t->slot);
	}
	if (th->n == th->cap) {
		return -1;
	}
	t->due = due;
	t->seq = th->seq++;
	place(th, th->n++, t);
	sift_up(th, t->slot);
	return 0;
}

void
timer_cancel(struct timer_heap *th, struct timer *t)
{
	if (t->slot != TIMER_IDLE) {
		remove_at(th, t->slot);
	}
}

int
timer_armed(const struct timer *t)
{
	return t->slot != TIMER_IDLE;
}

uint64_t
timer_next(const struct timer_heap *th)
{
	return th->n ? th->h[0]->due : TIMER_NONE;
}

size_t
timer_run(struct timer_heap *th, uint64_t now)
{
	uint64_t armed_before = th->seq;
	size_t ran = 0;

	/* A timer armed by a callback of this run, even for "now", waits
	 * for the next turn: otherwise a job that yields with a zero
	 * timer would run again at once, and the loop would never poll
	 * the other clients in between. Timers due together fire in
	 * arming order, so the first one armed during the run ends it. */
	while (th->n > 0 && th->h[0]->due <= now &&
	    th->h[0]->seq < armed_before) {
		struct timer *t = th->h[0];

		remove_at(th, 0);
		ran++;
		t->fn(t, t->arg);
	}
	return ran;
}

static int
earlier(const struct timer *a, const struct timer *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void
place(struct timer_heap *th, size_t i, struct timer *t)
{
	th->h[i] = t;
	t->slot = i;
}

static void
sift_up(struct timer_heap *th, size_t i)
{
	struct timer *t = th->h[i];

	while (i > 0 && earlier(t, th->h[(i - 1) / 2])) {
		place(th, i, th->h[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(th, i, t);
}

static void
sift_down(struct timer_heap *th, size_t i)
{
	struct timer *t = th->h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= th->n) {
			break;
		}
		if (c + 1 < th->n && earlier(th->h[c + 1], th->h[c])) {
			c++;
		}
		if (!earlier(th->h[c], t)) {
			break;
		}
		place(th, i, th->h[c]);
		i = c;
	}
	place(th, i, t);
}

/* The last element fills the hole, then moves up or down. */
static void
remove_at(struct timer_heap *th, size_t i)
{
	struct timer *t = th->h[i];

	t->slot = TIMER_IDLE;
	th->n--;
	if (i == th->n) {
		return;
	}
	place(th, i, th->h[th->n]);
	sift_up(th, i);
	sift_down(th, i);
}
