/* SPDX-License-Identifier: ISC */
/*
 * err.c - filling a struct err (see err.h).
 */
#include <stdarg.h>

#include "err.h"
#include "fmt.h"

int
err_set(struct err *e, const char *f, ...)
{
	va_list ap;

	if (e != NULL) {
		va_start(ap, f);
		(void)vfmt(e->msg, sizeof e->msg, f, ap);
		va_end(ap);
	}
	return -1;
}
