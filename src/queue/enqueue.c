/* SPDX-License-Identifier: ISC */
/*
 * enqueue.c - messages the server queues by itself (bounces, forwarded
 * copies). Either way a crash leaves nothing or the whole message: the
 * message file is renamed into msg/ before the envelope into env/, and
 * only once both are durable does the caller hear of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fmt.h"
#include "queue/enqueue.h"
#include "store/maildir.h"
#include "store/txn.h"

struct slot {
	struct store_txn	 txn;
	struct store_file	 f[2];
	char			 tmp_msg[SPOOL_PATH_MAX];
	char			 fin_msg[SPOOL_PATH_MAX];
	char			 tmp_env[SPOOL_PATH_MAX];
	char			 fin_env[SPOOL_PATH_MAX];
	char			 id[SPOOL_ID_MAX];
	enqueue_done_fn		*done;
	void			*arg;
	int			 used;
};

static struct {
	int		up;
	struct slot	slot[ENQUEUE_SLOTS];
} eq;

static void	committed(void *, int);

int
enqueue_init(struct ev *ev, struct conn_table *t, struct err *e)
{
	if (store_txn_init(ev, t, e) == -1) {
		return -1;
	}
	eq.up = 1;
	return 0;
}

void
enqueue_shutdown(void)
{
	if (eq.up) {
		store_txn_shutdown();
		eq.up = 0;
	}
}

int
enqueue_submit(const char *data_dir, int fd, struct spool_env *env,
    enqueue_done_fn *done, void *arg, struct err *e)
{
	struct slot *s = NULL;
	struct stat st;

	for (size_t i = 0; i < ENQUEUE_SLOTS; i++) {
		if (!eq.slot[i].used) {
			s = &eq.slot[i];
			break;
		}
	}
	if (!eq.up || s == NULL) {
		enqueue_abort(data_dir, env->id, fd);
		return err_set(e, "queue %s: no free commit slot", env->id);
	}
	if (fstat(fd, &st) == -1) {
		err_set(e, "queue %s: %s", env->id, strerror(errno));
		enqueue_abort(data_dir, env->id, fd);
		return -1;
	}
	close(fd);
	env->size = (uint64_t)st.st_size;
	if (spool_write_env(data_dir, env, e) == -1 ||
	    spool_path(s->tmp_msg, sizeof s->tmp_msg, data_dir, "tmp",
	    env->id, "") == -1 ||
	    spool_path(s->fin_msg, sizeof s->fin_msg, data_dir, "msg",
	    env->id, "") == -1 ||
	    spool_path(s->tmp_env, sizeof s->tmp_env, data_dir, "tmp",
	    env->id, ".env") == -1 ||
	    spool_path(s->fin_env, sizeof s->fin_env, data_dir, "env",
	    env->id, "") == -1 ||
	    fmt(s->id, sizeof s->id, "%s", env->id) >= (int)sizeof s->id) {
		enqueue_abort(data_dir, env->id, -1);
		return -1;
	}
	s->f[0].tmp = s->tmp_msg;
	s->f[0].final = s->fin_msg;
	s->f[1].tmp = s->tmp_env;
	s->f[1].final = s->fin_env;
	memset(&s->txn, 0, sizeof s->txn);
	s->txn.files = s->f;
	s->txn.nfiles = 2;
	s->txn.barrier = 1;	/* msg/ durable before env/ */
	s->txn.done = committed;
	s->txn.arg = s;
	s->done = done;
	s->arg = arg;
	s->used = 1;
	store_txn_commit(&s->txn);
	return 0;
}

/* The store's callback: both files durable in place (err 0), or none
 * left (the store removed them). */
static void
committed(void *arg, int err)
{
	struct slot *s = arg;

	s->used = 0;
	s->done(s->arg, err, s->id);
}

int
enqueue_open(const char *data_dir, char *id, struct err *e)
{
	char path[SPOOL_PATH_MAX];
	int fd;

	spool_new_id(id, SPOOL_ID_MAX);
	if (spool_path(path, sizeof path, data_dir, "tmp", id, "") == -1) {
		err_set(e, "%s: path too long", data_dir);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		err_set(e, "%s: %s", path, strerror(errno));
	}
	return fd;
}

int
enqueue_commit(const char *data_dir, int fd, struct spool_env *env,
    struct err *e)
{
	char path[SPOOL_PATH_MAX], dir[SPOOL_PATH_MAX];
	struct stat st;
	int efd;

	if (fstat(fd, &st) == -1 || fsync(fd) == -1) {
		err_set(e, "queue %s: %s", env->id, strerror(errno));
		enqueue_abort(data_dir, env->id, fd);
		return -1;
	}
	close(fd);
	env->size = (uint64_t)st.st_size;
	if (spool_write_env(data_dir, env, e) == -1) {
		enqueue_abort(data_dir, env->id, -1);
		return -1;
	}
	if (spool_path(path, sizeof path, data_dir, "tmp", env->id,
	    ".env") == -1 ||
	    (efd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		err_set(e, "%s: %s", path, strerror(errno));
		enqueue_abort(data_dir, env->id, -1);
		return -1;
	}
	if (fsync(efd) == -1) {
		err_set(e, "%s: %s", path, strerror(errno));
		close(efd);
		enqueue_abort(data_dir, env->id, -1);
		return -1;
	}
	close(efd);
	if (spool_commit(data_dir, env->id, e) == -1) {
		enqueue_abort(data_dir, env->id, -1);
		return -1;
	}
	if (spool_path(dir, sizeof dir, data_dir, "msg", "", "") == -1 ||
	    store_fsync_dir(dir) == -1 ||
	    spool_path(dir, sizeof dir, data_dir, "env", "", "") == -1 ||
	    store_fsync_dir(dir) == -1) {
		return err_set(e, "queue %s: fsync: %s", env->id,
		    strerror(errno));
	}
	return 0;
}

void
enqueue_abort(const char *data_dir, const char *id, int fd)
{
	char path[SPOOL_PATH_MAX];

	if (fd != -1) {
		close(fd);
	}
	if (spool_path(path, sizeof path, data_dir, "tmp", id, "") == 0) {
		unlink(path);
	}
	if (spool_path(path, sizeof path, data_dir, "tmp", id, ".env") == 0) {
		unlink(path);
	}
}
