/* SPDX-License-Identifier: ISC */
/*
 * dsn.h - Delivery Status Notification vocabulary shared by inbound
 * SMTP (which receives the parameters) and the queue (which stores
 * them and writes the reports): NOTIFY and RET (RFC 3461 4.1, 4.3),
 * xtext (RFC 3461 4), and enhanced status codes (RFC 3463).
 *
 * Sans-I/O: includes only limits.h and libc; the functions read by
 * pointer and length and never allocate.
 */
#ifndef WREN_DSN_H
#define WREN_DSN_H

#include <stddef.h>

#include "core/limits.h"

/* RCPT NOTIFY= (RFC 3461 4.1); 0 means the parameter was not given,
 * which RFC 3461 4.1 lets us treat as FAILURE,DELAY. NEVER stands
 * alone. */
#define DSN_NOTIFY_NEVER	0x1u
#define DSN_NOTIFY_SUCCESS	0x2u
#define DSN_NOTIFY_FAILURE	0x4u
#define DSN_NOTIFY_DELAY	0x8u
#define DSN_NOTIFY_ALL		0xfu

/* "never,success,failure,delay" plus NUL. */
#define DSN_NOTIFY_TEXT_MAX	32

/* MAIL RET= (RFC 3461 4.3). */
enum dsn_ret { DSN_RET_NONE, DSN_RET_FULL, DSN_RET_HDRS };

/* An enhanced status code "c.sss.ddd" (RFC 3463 2), NUL included. */
#define DSN_STATUS_MAX		10

/*
 * Parses the lower-case comma list the queue stores ("failure,delay",
 * "never"; "-" for none) into DSN_NOTIFY_* bits. 0, or -1 for an
 * unknown word, an empty item, a repeated word, or NEVER with others.
 */
int	dsn_notify_parse(const char *s, size_t len, unsigned *bits);

/* The list form of bits ("-" for 0) into out; returns its length, or
 * -1 when bits has unknown bits or NEVER with others, or out is too
 * small (DSN_NOTIFY_TEXT_MAX always suffices). */
int	dsn_notify_format(unsigned bits, char *out, size_t cap);

/* 1 when s[0..len) is xtext (RFC 3461 4: printable ASCII but "+" and
 * "=", and "+" followed by two upper-case hex digits). */
int	dsn_xtext_valid(const char *s, size_t len);

/* Decodes xtext into out (NUL-terminated); returns the decoded length,
 * or -1 when the input is not xtext or does not fit. */
int	dsn_xtext_decode(const char *s, size_t len, char *out, size_t cap);

/* Encodes s as xtext into out (NUL-terminated); returns the length,
 * or -1 when it does not fit. */
int	dsn_xtext_encode(const char *s, size_t len, char *out, size_t cap);

/*
 * Checks an enhanced status code "class.subject.detail" (RFC 3463 2:
 * class 2, 4 or 5; subject and detail 1-3 digits each). Returns the
 * class digit (2, 4, 5), or 0 when invalid.
 */
int	dsn_status_class(const char *s, size_t len);

/* RFC 3463 3: the name of a code's subject ("Addressing status",
 * "Mailbox status", ...), "Other or undefined status" for subject 0
 * or an invalid code. */
const char	*dsn_status_subject(const char *s, size_t len);

/* RFC 3463 3.1: "Success", "Persistent transient failure", "Permanent
 * failure" by class; "" when invalid. */
const char	*dsn_status_class_name(const char *s, size_t len);

#endif
