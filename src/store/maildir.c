/* SPDX-License-Identifier: ISC */
/*
 * maildir.c - Maildir primitives for delivery (see maildir.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "store/maildir.h"

#define COPY_CHUNK	8192	/* fallback copy buffer */

/*
 * When each folder's tmp/ is next due for a sweep, by a hash of the
 * folder's path; a slot is overwritten by another folder hashing to it
 * (which only costs that folder one more sweep).
 *
 *   swept[hash % MAILDIR_TMP_SLOTS] = { hash, due }
 */
struct swept {
	uint64_t	hash;
	int64_t		due;
};

static unsigned long	unique_seq;
static struct swept	swept[MAILDIR_TMP_SLOTS];

static struct swept	*swept_slot(const char *, uint64_t *);
static int		 mkdir_durable(char *);

void
maildir_unique(char *out, size_t cap, const char *hostname)
{
	char host[64];
	struct timeval tv;
	size_t n = 0;

	/* '/' and ':' cannot be in a Maildir name: Dovecot writes them
	 * as \057 and \072. */
	for (const char *h = hostname; *h != '\0' && n + 5 < sizeof host;
	    h++) {
		if (*h == '/') {
			memcpy(host + n, "\\057", 4);
			n += 4;
		} else if (*h == ':') {
			memcpy(host + n, "\\072", 4);
			n += 4;
		} else {
			host[n++] = *h;
		}
	}
	host[n] = '\0';
	gettimeofday(&tv, NULL);
	/* Only a long host name can be cut (MAILDIR_NAME_MAX), and the
	 * name stays unique by its time, process and counter. */
	(void)fmt(out, cap, "%lld.M%ldP%dQ%lu.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (int)getpid(), ++unique_seq, host);
}

int
maildir_ensure(const char *home, struct err *e)
{
	static const char *const sub[] = { "", "/Maildir", "/Maildir/tmp",
	    "/Maildir/new", "/Maildir/cur" };
	char path[MAILDIR_PATH_MAX];
	struct stat st;

	/* The common case: everything is there. */
	if (fmt(path, sizeof path, "%s/Maildir/tmp", home) <
	    (int)sizeof path && stat(path, &st) == 0 &&
	    fmt(path, sizeof path, "%s/Maildir/new", home) <
	    (int)sizeof path && stat(path, &st) == 0) {
		if (fmt(path, sizeof path, "%s/Maildir", home) <
		    (int)sizeof path) {
			(void)maildir_tmp_check(path, time(NULL));
		}
		return 0;
	}
	/* Parents of home (mail_home's /srv/mail/%d) as mkdir -p. */
	if (fmt(path, sizeof path, "%s", home) >= (int)sizeof path) {
		return err_set(e, "%s: path too long", home);
	}
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir_durable(path) == -1) {
				return err_set(e, "%s: %s", path,
				    strerror(errno));
			}
			*p = '/';
		}
	}
	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		if (fmt(path, sizeof path, "%s%s", home, sub[i]) >=
		    (int)sizeof path) {
			return err_set(e, "%s: path too long", home);
		}
		if (mkdir_durable(path) == -1) {
			return err_set(e, "%s: %s", path, strerror(errno));
		}
	}
	if (fmt(path, sizeof path, "%s/Maildir", home) < (int)sizeof path) {
		(void)maildir_tmp_check(path, time(NULL));
	}
	return 0;
}

int
maildir_tmp_sweep(const char *folder, time_t now)
{
	char path[MAILDIR_PATH_MAX];
	struct dirent *de;
	struct stat st;
	struct swept *sw;
	uint64_t hash;
	size_t seen = 0;
	int fd, removed = 0, cut = 0;
	DIR *d;

	if (fmt(path, sizeof path, "%s/tmp", folder) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	sw = swept_slot(folder, &hash);
	sw->hash = hash;
	sw->due = (int64_t)now + MAILDIR_TMP_EVERY;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		return -1;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0) {
			continue;
		}
		if (++seen > MAILDIR_TMP_SWEEP_MAX) {
			cut = 1;
			break;
		}
		/* A file being written has a fresh mtime; subdirectories,
		 * links and the like are not ours to remove. */
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode) ||
		    st.st_mtime > now - MAILDIR_TMP_AGE) {
			continue;
		}
		if (unlinkat(fd, de->d_name, 0) == 0) {
			removed++;
		} else if (errno != ENOENT) {
			log_warn("%s/%s: cannot remove", path, de->d_name);
		}
	}
	if (cut) {
		sw->due = (int64_t)now + MAILDIR_TMP_RETRY;
	}
	closedir(d);
	if (removed > 0) {
		log_info("%s: removed %d file%s older than %d hours", path,
		    removed, removed == 1 ? "" : "s", MAILDIR_TMP_AGE / 3600);
	}
	return removed;
}

int
maildir_tmp_check(const char *folder, time_t now)
{
	uint64_t hash;
	struct swept *sw = swept_slot(folder, &hash);

	if (sw->hash == hash && (int64_t)now < sw->due &&
	    sw->due - (int64_t)now <= MAILDIR_TMP_EVERY) {
		return 0;
	}
	return maildir_tmp_sweep(folder, now) == -1 ? -1 : 0;
}

int
maildir_path(char *out, size_t cap, const char *home, const char *sub,
    const char *base, uint64_t size, uint64_t vsize)
{
	int n;

	if (size == 0 && vsize == 0) {
		n = fmt(out, cap, "%s/Maildir/%s/%s", home, sub, base);
	} else {
		n = fmt(out, cap, "%s/Maildir/%s/%s,S=%llu,W=%llu", home, sub,
		    base, (unsigned long long)size,
		    (unsigned long long)vsize);
	}
	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

int
store_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			if (n == 0) {
				errno = EIO;
			}
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
store_copy(int dst, int src, uint64_t off, uint64_t len)
{
	off_t in = (off_t)off;
	char buf[COPY_CHUNK];

	while (len > 0) {
		ssize_t n = copy_file_range(src, &in, dst, NULL,
		    len > (1u << 30) ? (1u << 30) : (size_t)len, 0);

		if (n > 0) {
			len -= (uint64_t)n;
			continue;
		}
		if (n == 0) {
			errno = EIO;	/* source shorter than expected */
			return -1;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
		    errno != EOPNOTSUPP) {
			return -1;
		}
		/* No kernel copy here: a plain loop. */
		while (len > 0) {
			ssize_t r = pread(src, buf, len < sizeof buf ?
			    (size_t)len : sizeof buf, in);

			if (r < 0 && errno == EINTR) {
				continue;
			}
			if (r <= 0) {
				if (r == 0) {
					errno = EIO;
				}
				return -1;
			}
			if (store_write_all(dst, buf, (size_t)r) == -1) {
				return -1;
			}
			in += r;
			len -= (uint64_t)r;
		}
	}
	return 0;
}

int
store_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd == -1) {
		return -1;
	}
	rc = fsync(fd);
	close(fd);
	return rc;
}

void
store_start_writeback(int fd)
{
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

/*
 * mkdir (0700) when path is missing; a directory it creates has its
 * entry made durable by an fsync of its parent before any message is
 * renamed below it (the io_uring commit fsyncs only the directories it
 * renames into, so a crash could otherwise lose a first delivery's
 * new/ with the message in it). 0 when path is there, or -1.
 */
static int
mkdir_durable(char *path)
{
	char *slash;
	int rc;

	if (mkdir(path, 0700) == -1) {
		return errno == EEXIST ? 0 : -1;
	}
	slash = strrchr(path, '/');
	if (slash == NULL) {
		return store_fsync_dir(".");
	}
	if (slash == path) {
		return store_fsync_dir("/");
	}
	*slash = '\0';
	rc = store_fsync_dir(path);
	*slash = '/';
	return rc;
}

/* The slot of folder, and its hash (64-bit FNV-1a) in *hash. */
static struct swept *
swept_slot(const char *folder, uint64_t *hash)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const char *p = folder; *p != '\0'; p++) {
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	}
	*hash = h;
	return &swept[h % MAILDIR_TMP_SLOTS];
}
