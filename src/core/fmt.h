/* SPDX-License-Identifier: ISC */
/*
 * fmt.h - a small printf-style formatter, used instead of libc's.
 *
 * Why our own: musl's printf_core saves floating-point registers in its
 * prologue, and Debian's mipsel musl is built hard-float, so any
 * snprintf() traps on the FPU-less MIPS cores of most routers. wren uses
 * no floating point at all; this formatter keeps it that way (and is
 * smaller). `make lint` refuses the printf family elsewhere in src/.
 *
 * Conversions: %d %i %u %x %X %c %s %p %%; flags '-' and '0'; width and
 * precision as numbers or '*'; length modifiers hh h l ll z j t.
 */
#ifndef WREN_FMT_H
#define WREN_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Like snprintf: writes at most cap-1 bytes plus NUL (nothing when cap
 * is 0) and returns the length the full output would have. */
int	fmt(char *dst, size_t cap, const char *f, ...)
	    __attribute__((format(printf, 3, 4)));
int	vfmt(char *dst, size_t cap, const char *f, va_list ap)
	    __attribute__((format(printf, 3, 0)));

/* Formats into a stack buffer and writes it to fd, retrying on EINTR;
 * returns 0 or -1. Output longer than FMT_FD_MAX is cut. */
#define FMT_FD_MAX	2048
int	fmt_fd(int fd, const char *f, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
