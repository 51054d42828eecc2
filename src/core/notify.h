/* SPDX-License-Identifier: ISC */
/*
 * notify.h - the systemd readiness protocol (sd_notify(3)), written by
 * hand: one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET.
 * No libsystemd (the binary is static and runs where there is none).
 */
#ifndef WREN_NOTIFY_H
#define WREN_NOTIFY_H

#include "err.h"

/* Sends state (e.g. "READY=1", "STOPPING=1") to the service manager
 * named by $NOTIFY_SOCKET. Returns 0 when sent or when the variable is
 * unset or empty (not started by systemd), -1 with a reason otherwise.
 * Never blocks: the socket is non-blocking. */
int	notify_send(const char *state, struct err *);

/* The same to an explicit address: an absolute path, or "@name" for
 * Linux's abstract namespace (the '@' stands for the leading NUL).
 * NULL or "" sends nothing and returns 0. Other forms (a relative
 * path, a name that does not fit sockaddr_un) are -1. */
int	notify_send_to(const char *addr, const char *state, struct err *);

#endif
