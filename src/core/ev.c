/* SPDX-License-Identifier: ISC */
/*
 * ev.c - epoll event loop (see ev.h). Level-triggered: a handler that
 * leaves data unread is called again next turn, which keeps one busy
 * connection from starving the others.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "limits.h"

static uint32_t	to_epoll(unsigned);

int
ev_init(struct ev *ev, size_t maxfds, size_t maxtimers, struct err *e)
{
	memset(ev, 0, sizeof *ev);
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ev->epfd == -1) {
		return err_set(e, "epoll_create1: %s", strerror(errno));
	}
	ev->fds = calloc(maxfds, sizeof *ev->fds);
	if (ev->fds == NULL || timer_heap_init(&ev->timers, maxtimers,
	    e) == -1) {
		close(ev->epfd);
		free(ev->fds);
		ev->fds = NULL;
		return err_set(e, "event loop: out of memory");
	}
	ev->nfds = maxfds;
	ev->now = ev_clock_ms();
	return 0;
}

void
ev_destroy(struct ev *ev)
{
	if (ev->epfd != -1) {
		close(ev->epfd);
	}
	free(ev->fds);
	timer_heap_destroy(&ev->timers);
	memset(ev, 0, sizeof *ev);
	ev->epfd = -1;
}

int
ev_add_fd(struct ev *ev, int fd, unsigned mask, ev_fd_fn *fn, void *arg)
{
	struct epoll_event ee;
	struct ev_fd *f;

	if (fd < 0 || (size_t)fd >= ev->nfds) {
		errno = EMFILE;
		return -1;
	}
	f = &ev->fds[fd];
	f->gen++;
	memset(&ee, 0, sizeof ee);
	ee.events = to_epoll(mask);
	ee.data.u64 = (uint64_t)f->gen << 32 | (uint32_t)fd;
	if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &ee) == -1) {
		return -1;
	}
	f->fn = fn;
	f->arg = arg;
	f->mask = mask;
	return 0;
}

int
ev_mod_fd(struct ev *ev, int fd, unsigned mask)
{
	struct epoll_event ee;
	struct ev_fd *f;

	if (fd < 0 || (size_t)fd >= ev->nfds || ev->fds[fd].fn == NULL) {
		errno = EBADF;
		return -1;
	}
	f = &ev->fds[fd];
	if (f->mask == mask) {
		return 0;
	}
	memset(&ee, 0, sizeof ee);
	ee.events = to_epoll(mask);
	ee.data.u64 = (uint64_t)f->gen << 32 | (uint32_t)fd;
	if (epoll_ctl(ev->epfd, EPOLL_CTL_MOD, fd, &ee) == -1) {
		return -1;
	}
	f->mask = mask;
	return 0;
}

void
ev_del_fd(struct ev *ev, int fd)
{
	if (fd < 0 || (size_t)fd >= ev->nfds || ev->fds[fd].fn == NULL) {
		return;
	}
	/* Fails only if fd is already closed, which drops it anyway. */
	(void)epoll_ctl(ev->epfd, EPOLL_CTL_DEL, fd, NULL);
	ev->fds[fd].fn = NULL;
	ev->fds[fd].arg = NULL;
	ev->fds[fd].mask = 0;
	ev->fds[fd].gen++;
}

uint64_t
ev_now(const struct ev *ev)
{
	return ev->now;
}

uint64_t
ev_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
ev_timer_in(struct ev *ev, struct timer *t, uint64_t ms)
{
	return timer_set(&ev->timers, t, ev->now + ms);
}

void
ev_timer_cancel(struct ev *ev, struct timer *t)
{
	timer_cancel(&ev->timers, t);
}

void
ev_set_before_sleep(struct ev *ev, ev_hook_fn *fn, void *arg)
{
	ev->before_sleep = fn;
	ev->before_sleep_arg = arg;
}

int
ev_run_once(struct ev *ev, int max_ms)
{
	struct epoll_event evs[EV_BATCH];
	uint64_t next;
	int n, wait_ms = max_ms;

	if (ev->before_sleep != NULL) {
		ev->before_sleep(ev, ev->before_sleep_arg);
	}
	if (ev->stop) {
		return 0;
	}
	ev->now = ev_clock_ms();
	next = timer_next(&ev->timers);
	if (next != TIMER_NONE) {
		uint64_t until = next > ev->now ? next - ev->now : 0;

		if (wait_ms < 0 || until < (uint64_t)wait_ms) {
			wait_ms = until > INT32_MAX ? INT32_MAX : (int)until;
		}
	}
	n = epoll_wait(ev->epfd, evs, EV_BATCH, wait_ms);
	if (n == -1 && errno != EINTR) {
		return -1;
	}
	ev->now = ev_clock_ms();
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)evs[i].data.u64;
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
		struct ev_fd *f = &ev->fds[fd];
		unsigned what = 0;

		if (f->fn == NULL || f->gen != gen) {
			continue;	/* closed earlier in this batch */
		}
		if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP |
		    EPOLLRDHUP)) {
			what |= EV_READ;
		}
		if (evs[i].events & EPOLLOUT) {
			what |= EV_WRITE;
		}
		if ((evs[i].events & (EPOLLERR | EPOLLHUP)) &&
		    !(f->mask & EV_READ)) {
			what |= f->mask & EV_WRITE;
		}
		what &= f->mask | EV_READ;
		if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
			what |= EV_HUP | EV_READ;
		}
		if (what != 0) {
			f->fn(ev, fd, what, f->arg);
		}
	}
	timer_run(&ev->timers, ev->now);
	return 0;
}

int
ev_run(struct ev *ev)
{
	ev->stop = 0;
	while (!ev->stop) {
		if (ev_run_once(ev, -1) == -1) {
			return -1;
		}
	}
	return 0;
}

void
ev_stop(struct ev *ev)
{
	ev->stop = 1;
}

static uint32_t
to_epoll(unsigned mask)
{
	uint32_t e = 0;

	if (mask & EV_READ) {
		e |= EPOLLIN | EPOLLRDHUP;
	}
	if (mask & EV_WRITE) {
		e |= EPOLLOUT;
	}
	return e;
}
