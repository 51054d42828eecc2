/* SPDX-License-Identifier: ISC */
/*
 * bench_map.c - `make bench`: how long `wren map` takes to compile a
 * 100,000-line virtual table, and lookups per second against it
 * (half hits, half misses), as the median of several runs.
 *
 *   bench_map WREN_BIN DIR [LINES] [RUNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "map/map.h"

#define LOOKUPS	1000000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	const char *bin, *dir;
	char src[512], cmd[1200], key[64];
	double compile[16], rate[16];
	int lines = 100000, runs = 5;
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_map WREN_BIN DIR [LINES] "
		    "[RUNS]\n");
		return 2;
	}
	bin = argv[1];
	dir = argv[2];
	if (argc > 3) {
		lines = atoi(argv[3]);
	}
	if (argc > 4) {
		runs = atoi(argv[4]);
	}
	if (runs < 1 || runs > 16) {
		runs = 5;
	}
	log_set_level(LOG_LVL_ERROR);
	snprintf(src, sizeof src, "%s/virtual", dir);
	f = fopen(src, "w");
	if (f == NULL) {
		perror(src);
		return 1;
	}
	for (int i = 0; i < lines; i++) {
		fprintf(f, "user%d@example.com  target%d@example.org, "
		    "copy%d@example.net\n", i, i, i);
	}
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s map -t virtual %s >/dev/null", bin,
	    src);
	for (int r = 0; r < runs; r++) {
		double t0 = now();

		if (system(cmd) != 0) {
			fprintf(stderr, "bench_map: %s failed\n", cmd);
			return 1;
		}
		compile[r] = now() - t0;
	}
	for (int r = 0; r < runs; r++) {
		struct map m;
		const char *val;
		size_t vlen;
		unsigned seed = 12345u + (unsigned)r;
		long found = 0;
		double t0;

		map_open(&m, MAP_VIRTUAL, src);
		if (m.state != MAP_ST_OK) {
			fprintf(stderr, "bench_map: table not ok\n");
			return 1;
		}
		t0 = now();
		for (int i = 0; i < LOOKUPS; i++) {
			int n;

			seed = seed * 1103515245u + 12345u;
			n = snprintf(key, sizeof key, "%s%u@example.com",
			    (i & 1) ? "user" : "nobody",
			    (seed >> 8) % (unsigned)lines);
			found += map_lookup(&m, key, (size_t)n, &val,
			    &vlen) == 1;
		}
		rate[r] = LOOKUPS / (now() - t0);
		map_close(&m);
		if (found != LOOKUPS / 2) {
			fprintf(stderr, "bench_map: %ld hits, want %d\n",
			    found, LOOKUPS / 2);
			return 1;
		}
	}
	qsort(compile, (size_t)runs, sizeof compile[0], cmp);
	qsort(rate, (size_t)runs, sizeof rate[0], cmp);
	printf("map compile: %d-line virtual table: median %.3f s "
	    "[%.3f-%.3f] over %d runs\n", lines, compile[runs / 2],
	    compile[0], compile[runs - 1], runs);
	printf("map lookup: median %.0f lookups/s [%.0f-%.0f] over %d runs "
	    "of %d (half hits)\n", rate[runs / 2], rate[0], rate[runs - 1],
	    runs, LOOKUPS);
	return 0;
}
