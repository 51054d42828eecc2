/*
 * test_map.c - tables on disk: map_compile (atomic, errors leave the
 * old table, permissions follow the source, duplicates refused) and the
 * run-time side (lookups, a replaced .cdb picked up by map_check, a
 * corrupt or truncated replacement refused while the old table keeps
 * serving, a deleted .cdb turning lookups into temporary failures).
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
	};

	return cmocka_run_group_tests_name("map", tests, setup, teardown);
}
