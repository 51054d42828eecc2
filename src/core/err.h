/* SPDX-License-Identifier: ISC */
/*
 * err.h - the reason a set-up step failed, filled by the callee and
 * printed by the caller (like anet's err buffer). Messages follow
 * `FILE:LINE: message` when they concern a file, so `wren check` and
 * the server's start-up log read the same.
 */
#ifndef WREN_ERR_H
#define WREN_ERR_H

#define ERR_MSG_MAX	512

struct err {
	char	msg[ERR_MSG_MAX];
};

/* Fills e (when not NULL) and returns -1, so callers can write
 * `return err_set(e, "%s: ...", path);`. */
int	err_set(struct err *e, const char *f, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
