/* SPDX-License-Identifier: ISC */
/*
 * test_map.c - tables on disk: map_compile (atomic, errors leave the
 * old table, permissions follow the source, duplicates refused) and the
 * run-time side (lookups, a replaced .cdb picked up by map_check, a
 * corrupt or truncated replacement refused while the old table keeps
 * serving, a deleted .cdb turning lookups into temporary failures) and
 * the table file changed in place under a live table: truncated (`: >`,
 * which made the old mmap'ed table fault with SIGBUS), copied over with
 * `cp` (a partial copy refused, the complete one taken), and records
 * pointing outside the file.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"
#include "map/map.h"

static char dir[64];
static char src[128], cdbpath[128];

static void
put_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
}

static char *
slurp(const char *path, size_t *len)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof buf);
	close(fd);
	assert_true(n >= 0);
	*len = (size_t)n;
	return buf;
}

static int
setup(void **state)
{
	(void)state;
	log_set_level(LOG_LVL_ERROR + 0);
	snprintf(dir, sizeof dir, "/tmp/wren-map-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof src, "%s/virtual", dir);
	snprintf(cdbpath, sizeof cdbpath, "%s/virtual.cdb", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
lookup_is(struct map *m, const char *key, const char *want)
{
	const char *val;
	size_t vlen;
	int rc = map_lookup(m, key, strlen(key), &val, &vlen);

	if (want == NULL) {
		assert_int_equal(rc, 0);
		return;
	}
	assert_int_equal(rc, 1);
	assert_int_equal(vlen, strlen(want));
	assert_memory_equal(val, want, vlen);
}

static int
no_temp_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ok = 1;

	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".tmp.") != NULL) {
			ok = 0;
		}
	}
	closedir(d);
	return ok;
}

/* `cp from cdbpath` as cp does it: the same inode, truncated, then
 * written; only the first n bytes when n is not (size_t)-1. */
static void
copy_in_place(const char *from, size_t n)
{
	static char buf[1 << 20];
	int in = open(from, O_RDONLY), out;
	ssize_t len;

	assert_true(in >= 0);
	len = read(in, buf, sizeof buf);
	close(in);
	assert_true(len > 0);
	if (n != (size_t)-1 && n < (size_t)len) {
		len = (ssize_t)n;
	}
	out = open(cdbpath, O_WRONLY | O_TRUNC);
	assert_true(out >= 0);
	assert_int_equal(write(out, buf, (size_t)len), len);
	close(out);
}

/* Compiles text into a .cdb named aside, leaving the table itself as
 * it was. */
static void
compile_aside(const char *text, const char *aside)
{
	char keep[160], tmpsrc[160];
	struct err e;
	size_t n;

	snprintf(tmpsrc, sizeof tmpsrc, "%s/aside", dir);
	put_file(tmpsrc, text, 0644);
	assert_int_equal(map_compile(MAP_VIRTUAL, tmpsrc, &n, &e), 0);
	snprintf(keep, sizeof keep, "%s/aside.cdb", dir);
	assert_int_equal(rename(keep, aside), 0);
}

static void
test_compile_and_lookup(void **state)
{
	struct map m;
	struct err e;
	struct stat st;
	size_t n;

	(void)state;
	put_file(src, "A@Example.com b@example.com\n@example.org c\n",
	    0640);
	assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_true(no_temp_files());
	assert_int_equal(stat(cdbpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);	/* like the source */
	map_open(&m, MAP_VIRTUAL, src);
	assert_int_equal(m.state, MAP_ST_OK);
	lookup_is(&m, "a@example.com", "b@example.com");
	lookup_is(&m, "@example.org", "c");
	lookup_is(&m, "A@Example.com", NULL);	/* keys are lower case */
	lookup_is(&m, "nobody@example.com", NULL);
	assert_int_equal(map_check(&m), 0);	/* unchanged */
	map_close(&m);
}

static void
test_error_leaves_old_table(void **state)
{
	struct err e;
	size_t n, len1, len2;
	char before[65536];

	(void)state;
	put_file(src, "a@example.com b@example.com\n", 0644);
	assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), 0);
	{
		const char *b = slurp(cdbpath, &len1);

		memcpy(before, b, len1);
	}
	put_file(src, "a@example.com new@example.com\nbroken\n", 0644);
	assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), -1);
	assert_non_null(strstr(e.msg, "virtual:2: bad key"));
	assert_memory_equal(slurp(cdbpath, &len2), before, len1);
	assert_int_equal(len1, len2);
	assert_true(no_temp_files());
	/* Duplicates are refused the same way. */
	put_file(src, "a@example.com x\nA@example.com y\n", 0644);
	assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), -1);
	assert_non_null(strstr(e.msg, "virtual:2: duplicate key "
	    "'a@example.com'"));
	assert_memory_equal(slurp(cdbpath, &len2), before, len1);
	/* A missing source too. */
	snprintf(before, sizeof before, "%s/nope", dir);
	assert_int_equal(map_compile(MAP_VIRTUAL, before, &n, &e), -1);
	assert_non_null(strstr(e.msg, "No such file or directory"));
}

static void
test_replaced_cdb_is_picked_up(void **state)
{
	struct map m;
	struct err e;
	size_t n;

	(void)state;
	put_file(src, "a@example.com one@example.com\n", 0644);
	assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), 0);
	map_open(&m, MAP_VIRTUAL, src);
	lookup_is(&m, "a@example.com", "one@example.com");
	put_file(src, "a@example.com two@example.com\nz@example.com q\n",
	    0644);
	assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), 0);
	/* Until the check, the old mapping answers. */
	lookup_is(&m, "a@example.com", "one@example.com");
	assert_int_equal(map_check(&m), 1);
	lookup_is(&m, "a@example.com", "two@example.com");
	lookup_is(&m, "z@example.com", "q");
	map_close(&m);
}

static void
test_corrupt_replacement_keeps_old_table(void **state)
{
	static char junk[4096];
	struct map m;
	struct err e;
	size_t n;
	char tmp[160];

	(void)state;
	put_file(src, "a@example.com one@example.com\n", 0644);
	assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), 0);
	map_open(&m, MAP_VIRTUAL, src);
	/* A file too short to be a cdb, renamed over the table. */
	snprintf(tmp, sizeof tmp, "%s/junk", dir);
	put_file(tmp, "not a cdb\n", 0644);
	assert_int_equal(rename(tmp, cdbpath), 0);
	assert_int_equal(map_check(&m), 0);
	assert_int_equal(m.state, MAP_ST_OK);
	lookup_is(&m, "a@example.com", "one@example.com");
	/* A header pointing outside the file. */
	memset(junk, 0xff, sizeof junk);
	{
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		assert_int_equal(write(fd, junk, sizeof junk), 4096);
		close(fd);
	}
	assert_int_equal(rename(tmp, cdbpath), 0);
	assert_int_equal(map_check(&m), 0);
	lookup_is(&m, "a@example.com", "one@example.com");
	map_close(&m);
	/* Opened fresh, the same file is a temporary failure. */
	map_open(&m, MAP_VIRTUAL, src);
	assert_int_equal(m.state, MAP_ST_BAD);
	{
		const char *val;
		size_t vlen;

		assert_int_equal(map_lookup(&m, "a@example.com", 13, &val,
		    &vlen), -1);
	}
	map_close(&m);
}

static void
test_deleted_cdb_is_temporary_failure(void **state)
{
	struct map m;
	struct err e;
	const char *val;
	size_t n, vlen;

	(void)state;
	put_file(src, "a@example.com one@example.com\n", 0644);
	assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), 0);
	map_open(&m, MAP_VIRTUAL, src);
	assert_int_equal(unlink(cdbpath), 0);
	assert_int_equal(map_check(&m), 1);
	assert_int_equal(m.state, MAP_ST_MISSING);
	assert_int_equal(map_lookup(&m, "a@example.com", 13, &val, &vlen),
	    -1);
	/* Rebuilt: served again. */
	assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), 0);
	assert_int_equal(map_check(&m), 1);
	lookup_is(&m, "a@example.com", "one@example.com");
	/* Source and table gone: an empty table. */
	unlink(cdbpath);
	unlink(src);
	assert_int_equal(map_check(&m), 1);
	assert_int_equal(m.state, MAP_ST_ABSENT);
	lookup_is(&m, "a@example.com", NULL);
	map_close(&m);
}

static void
test_large_table(void **state)
{
	struct map m;
	struct err e;
	size_t n;
	FILE *f = fopen(src, "w");
	char key[64], want[64];

	(void)state;
	assert_non_null(f);
	for (int i = 0; i < 20000; i++) {
		fprintf(f, "user%d@example.com target%d@example.org\n", i, i);
	}
	fclose(f);
	assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), 0);
	assert_int_equal(n, 20000);
	map_open(&m, MAP_VIRTUAL, src);
	for (int i = 0; i < 20000; i += 997) {
		snprintf(key, sizeof key, "user%d@example.com", i);
		snprintf(want, sizeof want, "target%d@example.org", i);
		lookup_is(&m, key, want);
	}
	map_close(&m);
}

static void
test_truncated_in_place_keeps_old_table(void **state)
{
	struct map m;
	struct err e;
	struct stat st;
	size_t n;

	(void)state;
	put_file(src, "a@example.com one@example.com\n", 0644);
	assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), 0);
	map_open(&m, MAP_VIRTUAL, src);
	assert_int_equal(m.state, MAP_ST_OK);
	/* `: > virtual.cdb`: the same inode, now empty. A lookup before
	 * the next check read the mapping past EOF: SIGBUS. */
	assert_int_equal(truncate(cdbpath, 0), 0);
	lookup_is(&m, "a@example.com", "one@example.com");
	lookup_is(&m, "b@example.com", NULL);
	assert_int_equal(map_check(&m), 0);
	assert_int_equal(m.state, MAP_ST_OK);
	lookup_is(&m, "a@example.com", "one@example.com");
	assert_int_equal(map_check(&m), 0);	/* refused once, not reread */
	/* Cut to half a header, then to the header alone. */
	put_file(src, "a@example.com two@example.com\n", 0644);
	assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), 0);
	assert_int_equal(map_check(&m), 1);
	lookup_is(&m, "a@example.com", "two@example.com");
	assert_int_equal(stat(cdbpath, &st), 0);
	assert_int_equal(truncate(cdbpath, 1024), 0);
	lookup_is(&m, "a@example.com", "two@example.com");
	assert_int_equal(map_check(&m), 0);
	assert_int_equal(truncate(cdbpath, 2048), 0);
	assert_int_equal(map_check(&m), 0);
	lookup_is(&m, "a@example.com", "two@example.com");
	map_close(&m);
}

static void
test_cp_over_live_table(void **state)
{
	char next[160];
	struct map m;
	struct err e;
	struct stat st;
	size_t n;

	(void)state;
	put_file(src, "a@example.com one@example.com\n", 0644);
	assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), 0);
	map_open(&m, MAP_VIRTUAL, src);
	snprintf(next, sizeof next, "%s/next.cdb", dir);
	compile_aside("a@example.com two@example.com\n"
	    "b@example.com three@example.com\n", next);
	assert_int_equal(stat(next, &st), 0);
	/* Every prefix of the new file is refused: the old table serves.
	 * Sizes past the header, at a record, in the tables. */
	for (size_t cut = 2048; cut < (size_t)st.st_size; cut += 7) {
		copy_in_place(next, cut);
		assert_int_equal(map_check(&m), 0);
		lookup_is(&m, "a@example.com", "one@example.com");
		lookup_is(&m, "b@example.com", NULL);
	}
	/* The copy complete: taken at the next check. */
	copy_in_place(next, (size_t)-1);
	assert_int_equal(map_check(&m), 1);
	lookup_is(&m, "a@example.com", "two@example.com");
	lookup_is(&m, "b@example.com", "three@example.com");
	/* Truncated again after the switch: still no fault. */
	assert_int_equal(truncate(cdbpath, 0), 0);
	lookup_is(&m, "b@example.com", "three@example.com");
	assert_int_equal(map_check(&m), 0);
	lookup_is(&m, "b@example.com", "three@example.com");
	map_close(&m);
}

/* A header that validates over records that do not: every lookup is an
 * error or an absence, never a read outside the table (ASan). */
static void
test_hostile_records(void **state)
{
	static const struct {
		const char	*desc;
		long		 off;	/* from the first record */
		unsigned char	 val;
		size_t		 len;
	} rows[] = {
		{ "key length huge", 0, 0xff, 4 },
		{ "value length huge", 4, 0xff, 4 },
		{ "both lengths huge", 0, 0xff, 8 },
		{ "record bytes zeroed", 0, 0x00, 8 },
		{ "key bytes garbled", 8, 0x41, 4 },
	};
	struct err e;
	size_t n;

	(void)state;
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		struct map m;
		unsigned char b[16];
		const char *val;
		size_t vlen;
		int fd, rc;

		put_file(src, "a@example.com one@example.com\n", 0644);
		assert_int_equal(map_compile(MAP_VIRTUAL, src, &n, &e), 0);
		memset(b, rows[r].val, sizeof b);
		fd = open(cdbpath, O_WRONLY);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, b, rows[r].len, 2048 +
		    rows[r].off), (ssize_t)rows[r].len);
		close(fd);
		map_open(&m, MAP_VIRTUAL, src);
		assert_int_equal(m.state, MAP_ST_OK);
		rc = map_lookup(&m, "a@example.com", 13, &val, &vlen);
		if (rc == 1) {
			fail_msg("%s: found a corrupt record", rows[r].desc);
		}
		rc = map_lookup(&m, "zz@example.com", 14, &val, &vlen);
		assert_true(rc <= 0);
		map_close(&m);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile_and_lookup),
		cmocka_unit_test(test_error_leaves_old_table),
		cmocka_unit_test(test_replaced_cdb_is_picked_up),
		cmocka_unit_test(test_corrupt_replacement_keeps_old_table),
		cmocka_unit_test(test_deleted_cdb_is_temporary_failure),
		cmocka_unit_test(test_large_table),
		cmocka_unit_test(test_truncated_in_place_keeps_old_table),
		cmocka_unit_test(test_cp_over_live_table),
		cmocka_unit_test(test_hostile_records),
	};

	return cmocka_run_group_tests_name("map", tests, setup, teardown);
}
