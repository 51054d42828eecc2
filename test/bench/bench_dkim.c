/* SPDX-License-Identifier: ISC */
/*
 * bench_dkim.c - `make bench`: the cost of DKIM signing (rsa-2048,
 * relaxed/relaxed) per message, for a 4 KB and a 1 MB message: the
 * whole stream (canonicalisation, both SHA-256 hashes, the RSA
 * signature) as messages per second, and the RSA signature alone.
 * Each figure is the median of RUNS runs of about a second.
 *
 *   bench_dkim [KEY.pem] [RUNS]    (test/data/dkim/rsa2048.pem)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls/dkim_sign.h"

#define RUN_SECONDS	1.0

static double	now(void);
static int	cmp(const void *, const void *);
static int	discard(void *, const char *, size_t);
static char	*make_message(size_t);
static double	rate(const struct dkim_key *, const char *, size_t, int);

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

static int
discard(void *arg, const char *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return 0;
}

/* A header and text lines of 72 octets, LF ends, as queued. */
static char *
make_message(size_t size)
{
	static const char head[] = "From: Alice <alice@example.org>\n"
	    "To: Bob <bob@example.net>\nSubject: a benchmark message\n"
	    "Date: Mon, 7 Dec 2026 17:00:00 +0000\n"
	    "Message-ID: <bench@example.org>\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n\n";
	char *p = malloc(size);
	size_t off = sizeof head - 1;

	if (p == NULL) {
		exit(1);
	}
	memcpy(p, head, off);
	while (off < size) {
		size_t n = size - off < 73 ? size - off : 73;

		for (size_t i = 0; i < n; i++) {
			p[off + i] = i == 72 ? '\n' : "the quick  brown "
			    "fox\t"[(off + i) % 21];
		}
		off += n;
	}
	p[size - 1] = '\n';
	return p;
}

/* Messages (or, msg NULL, bare signatures) per second over one run. */
static double
rate(const struct dkim_key *k, const char *msg, size_t len, int chunk)
{
	static struct dkim_stream ds;
	unsigned char hash[32] = { 1 }, sig[DKIM_SIGLEN_MAX];
	char out[DKIM_SIG_MAX];
	double t0 = now(), t;
	uint64_t off;
	long n = 0;

	do {
		for (int r = 0; r < 4; r++, n++) {
			if (msg == NULL) {
				(void)dkim_key_sign(k, hash, sig);
				continue;
			}
			dkim_stream_init(&ds, k, "example.org", "sel", NULL,
			    NULL, 1765000000);
			for (size_t i = 0; i < len; i += (size_t)chunk) {
				size_t c = len - i < (size_t)chunk ?
				    len - i : (size_t)chunk;

				(void)dkim_stream_write(&ds, msg + i, c,
				    discard, NULL);
			}
			if (dkim_stream_finish(&ds, discard, NULL, out,
			    sizeof out, &off) <= 0) {
				fprintf(stderr, "bench_dkim: not signed\n");
				exit(1);
			}
		}
		t = now() - t0;
	} while (t < RUN_SECONDS);
	return (double)n / t;
}

int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "test/data/dkim/rsa2048.pem";
	int runs = argc > 2 ? atoi(argv[2]) : 3;
	static struct dkim_key k;
	static const size_t sizes[] = { 4096, 1024 * 1024 };
	double r[16];
	struct err e;

	if (runs < 1 || runs > 16) {
		runs = 3;
	}
	if (dkim_key_load(&k, path, &e) == -1) {
		fprintf(stderr, "bench_dkim: %s\n", e.msg);
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		r[i] = rate(&k, NULL, 0, 0);
	}
	qsort(r, (size_t)runs, sizeof r[0], cmp);
	printf("dkim: rsa-%u signature alone: %.0f/s (%.2f ms)\n",
	    k.rsa.n_bitlen, r[runs / 2], 1e3 / r[runs / 2]);
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		char *msg = make_message(sizes[s]);

		for (int i = 0; i < runs; i++) {
			r[i] = rate(&k, msg, sizes[s], 8192);
		}
		qsort(r, (size_t)runs, sizeof r[0], cmp);
		printf("dkim: rsa-%u relaxed/relaxed, %zu KB message: "
		    "%.0f signed/s (%.2f ms each, %.1f MB/s hashed)\n",
		    k.rsa.n_bitlen, sizes[s] / 1024, r[runs / 2],
		    1e3 / r[runs / 2], r[runs / 2] * (double)sizes[s] / 1e6);
		free(msg);
	}
	return 0;
}
