/* SPDX-License-Identifier: ISC */
/*
 * bench_deflate.c - CPU and ratio of compress/deflate.c alone on the
 * messages of a Maildir, framed as IMAP FETCH responses, written in
 * pieces of CHUNK octets (a session's c->out) with a sync flush every
 * FLUSH pieces (0: only at the end), each burst inflated back with
 * compress/inflate.c and compared. Figures only, never pass/fail.
 *
 *   bench_deflate MAILDIR/cur [CHUNK [FLUSH]]
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "compress/deflate.h"
#include "compress/inflate.h"
#include "core/fmt.h"

#define ALL_MAX	(256u << 20)

static struct zdef def;
static struct zinf inf;
static unsigned char out[ZDEF_OUT_MIN];
static unsigned char back[1u << 16];

static double	cpu(void);
static void	check(const unsigned char *, size_t, const unsigned char *,
		    size_t *);

static double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Inflates p[0..n) and compares it with the next plain bytes. */
static void
check(const unsigned char *p, size_t n, const unsigned char *plain,
    size_t *off)
{
	while (n > 0 || inf.full) {
		size_t got, used = zinf_run(&inf, p, n, back, sizeof back,
		    &got);

		if (inf.err != ZINF_OK || memcmp(back, plain + *off, got)) {
			fmt_fd(2, "bench_deflate: round trip broken at %zu\n",
			    *off);
			exit(1);
		}
		*off += got;
		p += used;
		n -= used;
	}
}

int
main(int argc, char **argv)
{
	unsigned char *all = malloc(ALL_MAX);
	size_t len = 0, chunk, flush, zbytes = 0, off = 0, pieces = 0;
	double t = 0;
	DIR *d;
	struct dirent *e;
	unsigned nmsg = 0;

	if (argc < 2 || all == NULL || (d = opendir(argv[1])) == NULL) {
		fmt_fd(2, "usage: bench_deflate MAILDIR/cur [CHUNK [FLUSH]]\n");
		return 2;
	}
	chunk = argc > 2 ? strtoul(argv[2], NULL, 10) : 4096;
	flush = argc > 3 ? strtoul(argv[3], NULL, 10) : 1;
	while ((e = readdir(d)) != NULL && len < ALL_MAX / 2) {
		char path[4096];
		int fd;
		ssize_t n;

		if (e->d_name[0] == '.') {
			continue;
		}
		(void)fmt(path, sizeof path, "%s/%s", argv[1], e->d_name);
		if ((fd = open(path, O_RDONLY)) == -1) {
			continue;
		}
		len += (size_t)fmt((char *)all + len, 128,
		    "* %u FETCH (UID %u BODY[] {%u}\r\n", nmsg + 1, nmsg + 1,
		    0);
		n = read(fd, all + len, ALL_MAX / 2 - len);
		close(fd);
		if (n > 0) {
			len += (size_t)n;
		}
		len += (size_t)fmt((char *)all + len, 64, ")\r\n");
		nmsg++;
	}
	closedir(d);
	zdef_init(&def);
	zinf_init(&inf);
	for (size_t p = 0; p < len; p += chunk) {
		size_t n = len - p < chunk ? len - p : chunk, done = 0, got;
		double t0 = cpu();
		int last = p + n >= len || (flush > 0 &&
		    ++pieces % flush == 0);

		while (done < n) {
			done += zdef_write(&def, all + p + done, n - done,
			    out, sizeof out, &got);
			t += cpu() - t0;
			zbytes += got;
			check(out, got, all, &off);
			t0 = cpu();
		}
		while (last) {
			int rc = zdef_flush(&def, out, sizeof out, &got);

			t += cpu() - t0;
			zbytes += got;
			check(out, got, all, &off);
			t0 = cpu();
			if (rc == 0) {
				break;
			}
		}
	}
	if (off != len) {
		fmt_fd(2, "bench_deflate: %zu of %zu octets back\n", off, len);
		return 1;
	}
	fmt_fd(1, "bench_deflate: %u messages, %zu octets -> %zu (%u.%u %% "
	    "saved), chunk %zu flush %zu: deflate CPU %u ms\n", nmsg, len,
	    zbytes, (unsigned)(100 - 100.0 * zbytes / len),
	    (unsigned)(1000 - 1000.0 * zbytes / len) % 10, chunk, flush,
	    (unsigned)(t * 1000));
	return 0;
}
