/* SPDX-License-Identifier: ISC */
/*
 * uring.c - the smallest io_uring that does fsync (see uring.h).
 * Layouts from the kernel's include/uapi/linux/io_uring.h, which is a
 * stable ABI.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "store/uring.h"

#define IORING_OFF_SQ_RING	0ULL
#define IORING_OFF_CQ_RING	0x8000000ULL
#define IORING_OFF_SQES		0x10000000ULL
#define IORING_OP_FSYNC		3
#define IORING_FSYNC_DATASYNC	1u
#define IORING_ENTER_GETEVENTS	1u
#define IORING_REGISTER_EVENTFD	4u
#define URING_ENTRIES_MAX	4096

struct uring_sqring_offsets {
	uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array,
	    resv1;
	uint64_t user_addr;
};

struct uring_cqring_offsets {
	uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags,
	    resv1;
	uint64_t user_addr;
};

struct uring_params {
	uint32_t sq_entries, cq_entries, flags, sq_thread_cpu,
	    sq_thread_idle, features, wq_fd, resv[3];
	struct uring_sqring_offsets sq_off;
	struct uring_cqring_offsets cq_off;
};

struct uring_sqe {			/* 64 bytes */
	uint8_t		opcode;
	uint8_t		flags;
	uint16_t	ioprio;
	int32_t		fd;
	uint64_t	off;
	uint64_t	addr;
	uint32_t	len;
	uint32_t	op_flags;	/* fsync_flags */
	uint64_t	user_data;
	uint64_t	pad[3];
};

struct uring_cqe {
	uint64_t	user_data;
	int32_t		res;
	uint32_t	flags;
};

static void	*map_ring(int, size_t, uint64_t);

int
uring_init(struct uring *u, unsigned entries, struct err *e)
{
	struct uring_params p;
	long fd;

	memset(u, 0, sizeof *u);
	u->fd = u->efd = -1;
	if (entries > URING_ENTRIES_MAX) {
		entries = URING_ENTRIES_MAX;
	}
	memset(&p, 0, sizeof p);
	fd = syscall(__NR_io_uring_setup, entries, &p);
	if (fd < 0) {
		return err_set(e, "io_uring: %s", strerror(errno));
	}
	u->fd = (int)fd;
	u->sq_entries = p.sq_entries;
	u->cq_entries = p.cq_entries;
	u->sq_len = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
	u->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct uring_cqe);
	u->sqe_len = p.sq_entries * sizeof(struct uring_sqe);
	u->sq_map = map_ring(u->fd, u->sq_len, IORING_OFF_SQ_RING);
	u->cq_map = map_ring(u->fd, u->cq_len, IORING_OFF_CQ_RING);
	u->sqe_map = map_ring(u->fd, u->sqe_len, IORING_OFF_SQES);
	if (u->sq_map == NULL || u->cq_map == NULL || u->sqe_map == NULL) {
		uring_destroy(u);
		return err_set(e, "io_uring: cannot map the rings");
	}
	u->sq_head = (unsigned *)((char *)u->sq_map + p.sq_off.head);
	u->sq_tail = (unsigned *)((char *)u->sq_map + p.sq_off.tail);
	u->sq_mask = (unsigned *)((char *)u->sq_map + p.sq_off.ring_mask);
	u->sq_array = (unsigned *)((char *)u->sq_map + p.sq_off.array);
	u->cq_head = (unsigned *)((char *)u->cq_map + p.cq_off.head);
	u->cq_tail = (unsigned *)((char *)u->cq_map + p.cq_off.tail);
	u->cq_mask = (unsigned *)((char *)u->cq_map + p.cq_off.ring_mask);
	u->sqes = u->sqe_map;
	u->cqes = (char *)u->cq_map + p.cq_off.cqes;
	u->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->efd == -1 || syscall(__NR_io_uring_register, u->fd,
	    IORING_REGISTER_EVENTFD, &u->efd, 1) < 0) {
		int err = errno;

		uring_destroy(u);
		return err_set(e, "io_uring eventfd: %s", strerror(err));
	}
	return 0;
}

void
uring_destroy(struct uring *u)
{
	if (u->sq_map != NULL) {
		munmap(u->sq_map, u->sq_len);
	}
	if (u->cq_map != NULL) {
		munmap(u->cq_map, u->cq_len);
	}
	if (u->sqe_map != NULL) {
		munmap(u->sqe_map, u->sqe_len);
	}
	if (u->efd != -1) {
		close(u->efd);
	}
	if (u->fd != -1) {
		close(u->fd);
	}
	memset(u, 0, sizeof *u);
	u->fd = u->efd = -1;
}

int
uring_fsync(struct uring *u, int fd, int datasync, uint64_t tag)
{
	unsigned tail = *u->sq_tail, idx;
	struct uring_sqe *sqe;

	/* Every operation in flight needs a completion slot too. */
	if (u->fd == -1 || tail - __atomic_load_n(u->sq_head,
	    __ATOMIC_ACQUIRE) >= u->sq_entries ||
	    u->inflight + u->queued >= u->cq_entries) {
		return -1;
	}
	idx = tail & *u->sq_mask;
	sqe = (struct uring_sqe *)u->sqes + idx;
	memset(sqe, 0, sizeof *sqe);
	sqe->opcode = IORING_OP_FSYNC;
	sqe->fd = fd;
	sqe->op_flags = datasync ? IORING_FSYNC_DATASYNC : 0;
	sqe->user_data = tag;
	u->sq_array[idx] = idx;
	__atomic_store_n(u->sq_tail, tail + 1, __ATOMIC_RELEASE);
	u->queued++;
	return 0;
}

int
uring_submit(struct uring *u)
{
	while (u->queued > 0) {
		long n = syscall(__NR_io_uring_enter, u->fd, u->queued, 0, 0,
		    NULL, 0);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -1;
		}
		u->queued -= (unsigned)n;
		u->inflight += (unsigned)n;
		if (n == 0) {
			return -1;
		}
	}
	return 0;
}

size_t
uring_reap(struct uring *u, uring_done_fn *fn, void *arg)
{
	uint64_t ticks;
	size_t n = 0;

	(void)!read(u->efd, &ticks, sizeof ticks);	/* re-arm */
	for (;;) {
		unsigned head = *u->cq_head;
		const struct uring_cqe *cqe;

		if (head == __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE)) {
			break;
		}
		cqe = (const struct uring_cqe *)u->cqes + (head & *u->cq_mask);
		{
			uint64_t tag = cqe->user_data;
			int res = cqe->res;

			__atomic_store_n(u->cq_head, head + 1,
			    __ATOMIC_RELEASE);
			u->inflight--;
			n++;
			fn(arg, tag, res);
		}
	}
	return n;
}

static void *
map_ring(int fd, size_t len, uint64_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, fd, (off_t)off);

	return p == MAP_FAILED ? NULL : p;
}
