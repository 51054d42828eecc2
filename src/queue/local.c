/* SPDX-License-Identifier: ISC */
/*
 * local.c - delivery from the queue into a local Maildir: mail that
 * `wren sendmail` dropped for local accounts, and bounces or delay
 * notices to local senders. (Inbound SMTP delivers its local
 * recipients itself, before its 250; the queue only holds those that
 * came another way.)
 *
 * One copy per account: Return-Path and Delivered-To, then the queued
 * file (which starts with our Received: line), written to tmp/,
 * fsync'd, renamed into new/ and the directory fsync'd, as Maildir
 * asks (and as Dovecot's LDA does). The copy counts line ends on the
 * way so the name carries Dovecot's ,S= and ,W= sizes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* rename */
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "queue/enqueue.h"
#include "queue/local.h"
#include "store/maildir.h"

#define LOCAL_COPY_CHUNK	(64 * 1024)
#define LOCAL_PREFIX_MAX	(2 * ADDR_MAX + 64)

static int	copy_counting(int dst, int src, uint64_t *size,
		    uint64_t *lines);

int
local_deliver(const struct resolve_target *t, const char *sender,
    const char *hostname, int msg_fd, struct err *e)
{
	char tmp[MAILDIR_PATH_MAX], fin[MAILDIR_PATH_MAX], dir[MAILDIR_PATH_MAX];
	char base[MAILDIR_NAME_MAX], hdr[LOCAL_PREFIX_MAX];
	uint64_t size = 0, lines = 0;
	int fd, n;

	if (maildir_ensure(t->home, e) == -1) {
		return -1;
	}
	maildir_unique(base, sizeof base, hostname);
	if (maildir_path(tmp, sizeof tmp, t->home, "tmp", base, 0, 0) == -1) {
		err_set(e, "%s: path too long", t->home);
		return -1;
	}
	n = fmt(hdr, sizeof hdr, "Return-Path: <%s>\nDelivered-To: %s\n",
	    sender, t->dest != NULL ? t->dest : t->addr);
	if (n < 0 || (size_t)n >= sizeof hdr) {
		err_set(e, "header too long");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		err_set(e, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (store_write_all(fd, hdr, (size_t)n) == -1 ||
	    copy_counting(fd, msg_fd, &size, &lines) == -1 ||
	    fsync(fd) == -1) {
		err_set(e, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	size += (uint64_t)n;
	lines += 2;
	if (maildir_path(fin, sizeof fin, t->home, "new", base, size,
	    size + lines) == -1 ||
	    maildir_path(dir, sizeof dir, t->home, "new", "", 0, 0) == -1) {
		err_set(e, "%s: path too long", t->home);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, fin) == -1 || store_fsync_dir(dir) == -1) {
		err_set(e, "%s: %s", fin, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The whole queued file, from its start, counting LFs (for ,W=). */
static int
copy_counting(int dst, int src, uint64_t *size, uint64_t *lines)
{
	static char chunk[LOCAL_COPY_CHUNK];
	uint64_t off = 0;

	for (;;) {
		ssize_t r = pread(src, chunk, sizeof chunk, (off_t)off);

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			return -1;
		}
		if (r == 0) {
			break;
		}
		for (const char *p = chunk, *end = chunk + r;
		    (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
			(*lines)++;
		}
		if (store_write_all(dst, chunk, (size_t)r) == -1) {
			return -1;
		}
		off += (uint64_t)r;
	}
	*size = off;
	return 0;
}

int
local_forward(const char *data_dir, const struct envelope *env, int msg_fd,
    const char *to, struct err *e)
{
	char id[SPOOL_ID_MAX];
	struct stat st;
	struct spool_rcpt r = { .addr = to, .notify = 0, .orcpt = "" };
	struct spool_env ne = {
		.arrival = env->arrival,
		.sender = env->sender,
		.ret = (int)env->ret,
		.envid = env->envid,
		.smtputf8 = env->smtputf8,
		.client = "local",
		.rcpt = &r,
		.nrcpt = 1,
	};
	int fd;

	if (fstat(msg_fd, &st) == -1) {
		return err_set(e, "fstat: %s", strerror(errno));
	}
	fd = enqueue_open(data_dir, id, e);
	if (fd == -1) {
		return -1;
	}
	if (store_copy(fd, msg_fd, 0, (uint64_t)st.st_size) == -1) {
		err_set(e, "queue %s: %s", id, strerror(errno));
		enqueue_abort(data_dir, id, fd);
		return -1;
	}
	ne.id = id;
	if (enqueue_commit(data_dir, fd, &ne, e) == -1) {
		return -1;
	}
	log_info("queue %s: forwarded as %s to <%s>", env->id, id, to);
	return 0;
}
