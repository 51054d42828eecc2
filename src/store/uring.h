/* SPDX-License-Identifier: ISC */
/*
 * uring.h - fsync without blocking the loop: a minimal io_uring
 * (Linux 5.1+) used only for IORING_OP_FSYNC. The kernel runs the
 * fsyncs on its own workers, many at once, so the journal commits them
 * together while the single-threaded loop keeps serving; completions
 * arrive through an eventfd the loop watches.
 *
 * No liburing and no kernel headers: the few ABI structures are
 * declared in uring.c. Where io_uring is missing or forbidden (old
 * kernel, seccomp), uring_init fails and callers use plain fsync.
 */
#ifndef WREN_URING_H
#define WREN_URING_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct uring {
	int		 fd;		/* the ring, or -1 */
	int		 efd;		/* eventfd signalled on completion */
	void		*sq_map, *cq_map, *sqe_map;
	size_t		 sq_len, cq_len, sqe_len;
	unsigned	*sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned	*cq_head, *cq_tail, *cq_mask;
	void		*sqes;		/* struct io_uring_sqe[] */
	void		*cqes;		/* struct io_uring_cqe[] */
	unsigned	 sq_entries, cq_entries;
	unsigned	 queued;	/* prepared, not yet submitted */
	unsigned	 inflight;	/* submitted, not yet reaped */
};

typedef void uring_done_fn(void *arg, uint64_t tag, int res);

/* A ring of at least `entries` slots; -1 (with a reason) when io_uring
 * cannot be used here. */
int	uring_init(struct uring *, unsigned entries, struct err *);
void	uring_destroy(struct uring *);

/* Queues an fsync (fdatasync when datasync) of fd, to be reported with
 * tag; -1 when the ring is full (the caller syncs by itself). */
int	uring_fsync(struct uring *, int fd, int datasync, uint64_t tag);

/* Hands the queued operations to the kernel; 0 or -1. */
int	uring_submit(struct uring *);

/* Reports every completed operation to fn; returns how many. */
size_t	uring_reap(struct uring *, uring_done_fn *fn, void *arg);

#endif
