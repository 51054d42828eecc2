/* SPDX-License-Identifier: ISC */
/*
 * map_make.c - compiling a table source into its .cdb (`wren map`).
 *
 * The new table is written next to the old one under a temporary name
 * and renamed over it only when complete and on disk, so a reader sees
 * either the old table or the new one, never half of one, and a source
 * with an error leaves the old table serving.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* rename */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/fmt.h"
#include "map/map.h"

int
map_compile(enum map_type type, const char *src, size_t *nrec,
    struct err *e)
{
	static struct map_text text;	/* big: keep it off the stack */
	static struct map_rec rec;
	char tmp[CFG_PATH_MAX + 32], dst[CFG_PATH_MAX + 4];
	struct cdb_make cm;
	struct stat st;
	char *buf;
	size_t len;
	int fd, rc;

	*nrec = 0;
	if (fmt(dst, sizeof dst, "%s.cdb", src) >= (int)sizeof dst ||
	    fmt(tmp, sizeof tmp, "%s.cdb.tmp.%d", src, (int)getpid()) >=
	    (int)sizeof tmp) {
		return err_set(e, "%s: path too long", src);
	}
	buf = file_read_all(src, MAP_SOURCE_MAX, &len, e);
	if (buf == NULL) {
		return -1;
	}
	if (stat(src, &st) == -1) {
		free(buf);
		return err_set(e, "%s: %s", src, strerror(errno));
	}
	/* The table gets the source's permissions (users.cdb holds the
	 * same password hashes as users), as postmap does. */
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	    st.st_mode & 0666);
	if (fd == -1) {
		free(buf);
		return err_set(e, "%s: %s", tmp, strerror(errno));
	}
	if (geteuid() == 0) {
		(void)fchown(fd, st.st_uid, st.st_gid);
	}
	(void)fchmod(fd, st.st_mode & 0666);
	if (cdb_make_start(&cm, fd) == -1) {
		rc = err_set(e, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	map_text_init(&text, type, src, buf, len);
	while ((rc = map_text_next(&text, &rec, e)) == 1) {
		rc = cdb_make_put(&cm, rec.key, (unsigned)rec.klen, rec.val,
		    (unsigned)rec.vlen, CDB_PUT_INSERT);
		if (rc == 1) {
			rc = err_set(e, "%s:%u: duplicate key '%s'", src,
			    rec.line, rec.key);
			goto fail_make;
		}
		if (rc < 0) {
			rc = err_set(e, "%s: %s", tmp, strerror(errno));
			goto fail_make;
		}
		(*nrec)++;
	}
	if (rc == -1) {
		goto fail_make;
	}
	if (cdb_make_finish(&cm) == -1 || fsync(fd) == -1) {
		rc = err_set(e, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		rc = err_set(e, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, dst) == -1) {
		rc = err_set(e, "%s: %s", dst, strerror(errno));
		goto fail;
	}
	free(buf);
	return file_sync_dir(dst, e);

fail_make:
	/* cdb_make_finish frees the record lists; its file is dropped. */
	(void)cdb_make_finish(&cm);
fail:
	if (fd != -1) {
		close(fd);
	}
	unlink(tmp);
	free(buf);
	return rc;
}
