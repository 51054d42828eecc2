/*
 * enqueue.c - messages the server queues by itself (bounces, forwarded
 * copies): each file fsync'd before it is renamed, the directories
 * after, so a crash leaves either nothing or the whole message.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fmt.h"
#include "queue/enqueue.h"
#include "store/maildir.h"

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
