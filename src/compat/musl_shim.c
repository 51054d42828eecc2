/* SPDX-License-Identifier: ISC */
/*
 * musl_shim.c - linked only into musl cross builds, which use Debian's
 * glibc-built static BearSSL and tinycdb:
 *
 * - the _FORTIFY_SOURCE helpers libbearssl.a calls, which musl lacks
 *   (same contract as glibc's: abort when a copy would overrun);
 * - __assert_fail for tinycdb's assert(): musl's prints with fprintf,
 *   whose FPU register saves trap on FPU-less MIPS (see core/fmt.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fmt.h"

void	*__memcpy_chk(void *, const void *, size_t, size_t);
void	*__memmove_chk(void *, const void *, size_t, size_t);
void	*__memset_chk(void *, int, size_t, size_t);
void	 __assert_fail(const char *, const char *, int, const char *)
	    __attribute__((noreturn));

void *
__memcpy_chk(void *d, const void *s, size_t n, size_t dlen)
{
	if (n > dlen) {
		abort();
	}
	return memcpy(d, s, n);
}

void *
__memmove_chk(void *d, const void *s, size_t n, size_t dlen)
{
	if (n > dlen) {
		abort();
	}
	return memmove(d, s, n);
}

void *
__memset_chk(void *d, int c, size_t n, size_t dlen)
{
	if (n > dlen) {
		abort();
	}
	return memset(d, c, n);
}

void
__assert_fail(const char *expr, const char *file, int line,
    const char *func)
{
	fmt_fd(STDERR_FILENO, "wren: assertion failed: %s (%s:%d: %s)\n",
	    expr, file, line, func);
	abort();
}
