/*
 * limits.h - every protocol and implementation bound, named once, with
 * its reason. Parsers include this file and nothing else of ours.
 *
 * Build-time sizes chosen in Kconfig arrive through config.h as
 * CONFIG_* values; they are re-exported here under their working names
 * so that code never spells a raw CONFIG_ symbol.
 */
#ifndef WREN_LIMITS_H
#define WREN_LIMITS_H

#include "config.h"
#include "features.h"

/* Per-connection plaintext buffers, one for input and one for output
 * (Kconfig BUF_SIZE). 4 KiB holds several pipelined SMTP commands and a
 * full 998+2 octet text line with room to spare. */
#define CONN_BUF_SIZE		CONFIG_BUF_SIZE

/* Configuration file (core/config.c). */
#define CFG_LINE_MAX		1024	/* one `key = value` line */
#define CFG_VALUE_MAX		512	/* one value, lists included */
#define CFG_PATH_MAX		256	/* a file or directory name */
#define CFG_LISTEN_MAX		4	/* addresses in one *_listen key */
#define CFG_NETS_MAX		32	/* CIDR entries in mynetworks */
#define CFG_HOST_MAX		253	/* RFC 1035 2.3.4, text form */

/* Logging (core/log.c): a longer line is cut, never split. */
#define LOG_LINE_MAX		1024

/* Address text: "[" IPv6 "]:" port, plus NUL. */
#define ADDR_STR_MAX		(46 + 8)

/* Per-IP connection counting: the table holds at most one slot per
 * connection, so it is sized max_connections * IPTAB_LOAD_FACTOR and
 * can never be filled by an attacker with many addresses. */
#define IPTAB_LOAD_FACTOR	2

/* Shutdown: SIGTERM lets work in flight finish for at most this long
 * (Postfix's master waits similarly before killing its children). */
#define SHUTDOWN_GRACE_MS	30000

/* Epoll: events taken per wakeup. */
#define EV_BATCH		64

/* Accepts per listener wakeup, so one busy listener cannot starve the
 * sessions already connected. */
#define ACCEPT_BATCH		16

/* /etc/passwd and /etc/group lines (core/privs.c). */
#define PASSWD_LINE_MAX		1024
#define GROUPS_MAX		32	/* supplementary groups kept */

/* Mail addresses, RFC 5321 4.5.3.1: local part 64 octets, domain 255,
 * a path 256 with its angle brackets. */
#define ADDR_LOCAL_MAX		64
#define ADDR_DOMAIN_MAX		255
#define ADDR_MAX		(ADDR_LOCAL_MAX + 1 + ADDR_DOMAIN_MAX)

/* Lookup tables (map/). A value is a list of targets or a user record;
 * 16 KiB holds an alias list of a few hundred addresses. */
#define MAP_VAL_MAX		16384
#define MAP_SOURCE_MAX		(256 * 1024 * 1024)	/* text source */
#define MAP_RECHECK_MS		1000	/* how stale a replaced .cdb may be */

/* Recipient resolution: how deep aliases may nest, and how many final
 * recipients one address may expand to (Postfix: 1000 per message). */
#define RESOLVE_DEPTH_MAX	20
#define RESOLVE_TARGETS_MAX	1000

/* SMTP (RFC 5321 4.5.3.1). */
#define SMTP_LINE_MAX		512	/* command line, incl. CRLF */
#define SMTP_TEXT_LINE_MAX	1000	/* message line, incl. CRLF */
#define SMTP_RCPT_MAX		100	/* recipients per message (RFC
					 * 5321 4.5.3.1.8 asks for 100) */
#define SMTP_ERRORS_MAX		10	/* then 421 (Postfix: 20 hard) */
#define SMTP_HOPS_MAX		50	/* Received: headers; Postfix's
					 * hopcount_limit */
#define SMTP_HELO_MAX		255	/* the EHLO argument kept */
#define SMTP_ENVID_MAX		100	/* RFC 3461 4.4 */
#define SMTP_ORCPT_MAX		500	/* RFC 3461 4.2 */
#define SMTP_LOOPCHECK_MAX	8	/* Delivered-To: values compared */

/* Program-wide limits that sizes at start-up are checked against. */
#define MAX_CONNECTIONS_LIMIT	65536

#endif
