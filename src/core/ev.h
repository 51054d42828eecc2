/* SPDX-License-Identifier: ISC */
/*
 * ev.h - the event loop: epoll, one thread, fd handlers and timers.
 *
 * Handlers live in a table indexed by fd, sized once at start. Each
 * registration gets a generation number that travels in the epoll
 * event, so an event queued for an fd that was closed (and perhaps
 * reused by accept) in the same batch is dropped, not misdelivered.
 * Error and hang-up wake a handler as readable: it finds the error by
 * reading. A before-sleep hook runs before every epoll_wait; that is
 * where output is flushed and closed connections are reclaimed.
 */
#ifndef WREN_EV_H
#define WREN_EV_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "timer.h"

#define EV_READ		0x1u
#define EV_WRITE	0x2u
#define EV_HUP		0x4u	/* error or hang-up: reported with EV_READ */

struct ev;
typedef void ev_fd_fn(struct ev *, int fd, unsigned events, void *arg);
typedef void ev_hook_fn(struct ev *, void *arg);

struct ev_fd {
	ev_fd_fn	*fn;
	void		*arg;
	unsigned	 mask;
	uint32_t	 gen;
};

struct ev {
	int		 epfd;
	struct ev_fd	*fds;
	size_t		 nfds;
	struct timer_heap timers;
	uint64_t	 now;		/* ms, monotonic, cached per turn */
	int		 stop;
	ev_hook_fn	*before_sleep;
	void		*before_sleep_arg;
};

/* fd numbers must stay below maxfds; timers are bounded by maxtimers. */
int	ev_init(struct ev *, size_t maxfds, size_t maxtimers, struct err *);
void	ev_destroy(struct ev *);

int	ev_add_fd(struct ev *, int fd, unsigned mask, ev_fd_fn *, void *);
int	ev_mod_fd(struct ev *, int fd, unsigned mask);
void	ev_del_fd(struct ev *, int fd);

/* Milliseconds on the monotonic clock, as of the current turn. */
uint64_t	ev_now(const struct ev *);
uint64_t	ev_clock_ms(void);

/* Arms t to fire `ms` from now; -1 when the timer heap is full. */
int	ev_timer_in(struct ev *, struct timer *, uint64_t ms);
void	ev_timer_cancel(struct ev *, struct timer *);

void	ev_set_before_sleep(struct ev *, ev_hook_fn *, void *);

/* One turn: before-sleep hook, wait (at most max_ms; -1 = until the next
 * timer), dispatch, timers. Returns -1 only if epoll fails. */
int	ev_run_once(struct ev *, int max_ms);

/* Turns until ev_stop; returns 0, or -1 if epoll fails. */
int	ev_run(struct ev *);
void	ev_stop(struct ev *);

#endif
