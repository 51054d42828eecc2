/* SPDX-License-Identifier: ISC */
/*
 * listeners.c - which protocol serves each *_listen key.
 *
 * Protocols join this table as they are implemented (smtp/, imap/,
 * pop3/); until then their keys parse, print and validate, and `wren
 * serve` reports that it does not listen on them.
 */
#include "cli/cli.h"
#include "http/http.h"
#include "imap/imap.h"
#include "pop3/pop3.h"
#include "smtp/smtp.h"

#if WREN_SMTP
#define SMTP_PROTO	(&smtp_proto)
#else
#define SMTP_PROTO	NULL
#endif
#if WREN_IMAP
#define IMAP_PROTO	(&imap_proto)
#define IMAPS_PROTO	(&imaps_proto)
#else
#define IMAP_PROTO	NULL
#define IMAPS_PROTO	NULL
#endif
#if WREN_POP3
#define POP3_PROTO	(&pop3_proto)
#define POP3S_PROTO	(&pop3s_proto)
#else
#define POP3_PROTO	NULL
#define POP3S_PROTO	NULL
#endif
#if WREN_SUBMISSION
#define SUBMISSION_PROTO	(&submission_proto)
#define SUBMISSIONS_PROTO	(&submissions_proto)
#else
#define SUBMISSION_PROTO	NULL
#define SUBMISSIONS_PROTO	NULL
#endif
#if WREN_HTTP
#define HTTP_PROTO	(&http_proto)
#define HTTPS_PROTO	(&https_proto)
#else
#define HTTP_PROTO	NULL
#define HTTPS_PROTO	NULL
#endif

const struct listener_kind listener_kinds[] = {
	{ CFG_SMTP_LISTEN, SMTP_PROTO },
	{ CFG_SUBMISSION_LISTEN, SUBMISSION_PROTO },
	{ CFG_SUBMISSIONS_LISTEN, SUBMISSIONS_PROTO },
	{ CFG_IMAP_LISTEN, IMAP_PROTO },
	{ CFG_IMAPS_LISTEN, IMAPS_PROTO },
	{ CFG_POP3_LISTEN, POP3_PROTO },
	{ CFG_POP3S_LISTEN, POP3S_PROTO },
	{ CFG_HTTP_LISTEN, HTTP_PROTO },
	{ CFG_HTTPS_LISTEN, HTTPS_PROTO },
};
const size_t listener_nkinds = sizeof listener_kinds /
    sizeof listener_kinds[0];
