/* SPDX-License-Identifier: ISC */
/*
 * fsync_floor.c - the single-thread durable-delivery ceiling of a disk:
 * create tmp/N, write SIZE bytes, fsync, close, rename into new/, fsync
 * new/ -- COUNT times in one thread. A server that acknowledges faster
 * than this is batching its fsyncs (or not syncing).
 *
 *   fsync_floor DIR [COUNT] [SIZE]     prints operations per second
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char tmp[512], dst[512], dir[512], buf[65536];
	int count = argc > 2 ? atoi(argv[2]) : 500;
	int size = argc > 3 ? atoi(argv[3]) : 4096;
	struct timespec a, b;
	int dfd;

	if (argc < 2 || count <= 0 || size <= 0 || size > (int)sizeof buf) {
		fprintf(stderr, "usage: fsync_floor DIR [COUNT] [SIZE]\n");
		return 2;
	}
	snprintf(dir, sizeof dir, "%s/tmp", argv[1]);
	mkdir(argv[1], 0700);
	mkdir(dir, 0700);
	snprintf(dir, sizeof dir, "%s/new", argv[1]);
	mkdir(dir, 0700);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd == -1) {
		perror(dir);
		return 1;
	}
	memset(buf, 'x', sizeof buf);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < count; i++) {
		int fd;

		snprintf(tmp, sizeof tmp, "%s/tmp/%d", argv[1], i);
		snprintf(dst, sizeof dst, "%s/new/%d", argv[1], i);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd == -1 || write(fd, buf, (size_t)size) != size ||
		    fsync(fd) == -1 || close(fd) == -1 ||
		    rename(tmp, dst) == -1 || fsync(dfd) == -1) {
			perror(tmp);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	/* The files stay: deleting them would make the next creations on
	 * an ext4 without a journal scan the freed inodes (ext4's
	 * recently_deleted) and slow whatever the bench runs next. */
	printf("%.1f\n", count / ((double)(b.tv_sec - a.tv_sec) +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e9));
	return 0;
}
