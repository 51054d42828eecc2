/* SPDX-License-Identifier: ISC */
/*
 * file.c - whole-file reading for start-up, and atomic replacement
 * of a small file (see file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* rename */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "fmt.h"

#define FILE_PATH_MAX	4096	/* PATH_MAX on Linux */

char *
file_read_all(const char *path, size_t max, size_t *len, struct err *e)
{
	struct stat st;
	char *buf;
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		err_set(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > max) {
		close(fd);
		err_set(e, "%s: not a regular file of at most %zu bytes",
		    path, max);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		err_set(e, "%s: out of memory", path);
		return NULL;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int saved = errno;

			close(fd);
			free(buf);
			err_set(e, "%s: %s", path, strerror(saved));
			return NULL;
		}
		if (n == 0) {
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*len = off;
	return buf;
}

int
file_write_atomic(const char *path, const void *buf, size_t len,
    unsigned mode, struct err *e)
{
	char tmp[FILE_PATH_MAX + 32];
	const char *p = buf;
	struct stat st;
	int fd, old = stat(path, &st) == 0;

	if (fmt(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof tmp) {
		return err_set(e, "%s: path too long", path);
	}
	if (old) {
		mode = st.st_mode & 07777;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0600);
	if (fd == -1) {
		return err_set(e, "%s: %s", tmp, strerror(errno));
	}
	/* Owner first, then the mode (fchown clears set-id bits). */
	if (old && geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) == -1) {
		goto fail;
	}
	if (fchmod(fd, (mode_t)mode) == -1) {
		goto fail;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1) {
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		err_set(e, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return file_sync_dir(path, e);

fail:
	err_set(e, "%s: %s", tmp, strerror(errno));
	if (fd != -1) {
		close(fd);
	}
	unlink(tmp);
	return -1;
}

int
file_sync_dir(const char *path, struct err *e)
{
	char dir[FILE_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, n, rc = 0;

	if (slash == NULL) {
		n = fmt(dir, sizeof dir, ".");
	} else if (slash == path) {
		n = fmt(dir, sizeof dir, "/");
	} else {
		n = fmt(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	}
	if (n >= (int)sizeof dir) {
		return err_set(e, "%s: path too long", path);
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fsync(fd) == -1) {
		rc = err_set(e, "%s: %s", dir, strerror(errno));
	}
	if (fd != -1) {
		close(fd);
	}
	return rc;
}
