/* SPDX-License-Identifier: ISC */
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

/* IMAP (RFC 3501; imap/). Commands are framed line by line; a literal
 * {n} inside a command other than APPEND is held in the command buffer,
 * so the buffer bounds it (SPEC 7: 8 KiB before login, 64 KiB after). */
#define IMAP_LINE_MAX		8192	/* one line of a command, CRLF incl.;
					 * RFC 7162 3.2.1 asks for 8000 */
#define IMAP_LITERAL_PRELOGIN_MAX 8192
#define IMAP_LITERAL_MAX	65536	/* a non-APPEND literal after login */
#define IMAP_CMD_MAX		(IMAP_LITERAL_MAX + IMAP_LINE_MAX)
#define IMAP_TAG_MAX		64	/* tags longer than this are BAD */
#define IMAP_ARGS_MAX		256	/* tokens of one command */
#define IMAP_DEPTH_MAX		8	/* nested parenthesised lists */
#define IMAP_FETCH_ATTS_MAX	32	/* items in one FETCH */
#define IMAP_SECTION_DEPTH_MAX	16	/* BODY[1.2.3...] parts */
#define IMAP_HDR_FIELDS_MAX	32	/* HEADER.FIELDS (names) */
#define IMAP_SEARCH_KEYS_MAX	64	/* nodes of one SEARCH program */
#define IMAP_FLAGS_MAX		32	/* flags in one STORE */
#define IMAP_KEYWORDS_MAX	26	/* Dovecot's keyword letters a-z */
#define IMAP_KEYWORD_LEN_MAX	64	/* one keyword atom */
#define IMAP_ERRORS_MAX		20	/* BADs per session, then BYE */
#define IMAP_IDLE_MAX_MS	(29 * 60 * 1000) /* RFC 2177 3 */
#define IMAP_NOTIFY_MS		500	/* inotify events coalesced */
#define IMAP_STEP_MS		10	/* a SEARCH slice before others
					 * get their turn */

/* POP3 (RFC 1939, RFC 2449; pop3/). */
#define POP3_LINE_MAX		255	/* command line, incl. CRLF
					 * (RFC 2449 4) */
#define POP3_SASL_LINE_MAX	1024	/* an AUTH response line after
					 * "+ ", incl. CRLF: base64 of two
					 * 64-octet names and a 600-octet
					 * password; it must fit in c->in,
					 * whose smallest size is 1024 */
#define POP3_ERRORS_MAX		10	/* -ERR for bad commands, then
					 * the connection closes (as
					 * SMTP_ERRORS_MAX) */
#define POP3_TIMEOUT_S		600	/* idle after login: RFC 1939
					 * 3 asks for 10 minutes at
					 * least */
#if POP3_SASL_LINE_MAX > CONN_BUF_SIZE
#error "POP3_SASL_LINE_MAX must fit in a connection buffer"
#endif

/* MIME structure (msg/mime.c), parsed as the message streams by.
 * Depth and boundary length are Dovecot's (message-parser.c), so that
 * BODYSTRUCTURE matches it; the part count is ours (Dovecot: 10000). */
#define MIME_PARTS_MAX		256	/* parts per message; more are
					 * served as one opaque body */
#define MIME_DEPTH_MAX		100	/* multipart / message nesting */
#define MIME_BOUNDARY_MAX	80	/* RFC 2046 5.1.1 says 70; longer
					 * ones are cut to 80 as Dovecot */
#define MIME_PARAMS_MAX		32	/* RFC 2231 pieces merged per field */
#define MIME_HEADER_MAX		8192	/* one unfolded header field kept */
#define MIME_ARENA_SIZE		32768	/* strings of one message's tree;
					 * at most 65535 (16-bit offsets) */

/* SEARCH text (msg/decode.c, msg/match.c): header fields and bodies are
 * decoded and matched as they stream by, in fixed state. */
#define DECODE_HEADER_MAX	MIME_HEADER_MAX	/* unfolded field value
					 * kept; the rest is cut */
#define DECODE_NAME_MAX		128	/* a field name; a longer one
					 * makes the line no field */
#define DECODE_CHARSET_MAX	64	/* charset*lang of an encoded
					 * word (RFC 2978 2.3: names 40) */
#define DECODE_QP_WS_MAX	76	/* white space held to see if it
					 * ends a line (RFC 2045 6.7 (3)) */
#define MATCH_NEEDLE_MAX	1024	/* a SEARCH string, in octets */

/* SORT and THREAD (RFC 5256, 5267; imap/imap_sort.c, msg/sortkey.c).
 * One arena, held by one command at a time, has a fixed-size record
 * per message (SORT: 40 octets, THREAD: 52 per message or message
 * ID): 8 MiB sort 200,000 messages. A larger set gets NO [LIMIT];
 * THREAD stops adding IDs only referenced when it is full. Keys that
 * tie in their prefix are keyed again further on (IMAP_SORT_ROUNDS). */
#define IMAP_SORT_ARENA		(8u << 20)
#define IMAP_SORT_KEY		28	/* octets of a message's sort key:
					 * 4 per date or size, the rest
					 * shared by text keys */
#define IMAP_SORT_ROUNDS	(DECODE_HEADER_MAX / 4 + 1) /* keys
					 * equal but cut short are keyed
					 * again up to this many times: a
					 * text is compared whole (to the
					 * DECODE_HEADER_MAX kept of it) */
#define IMAP_SORT_HDR_MAX	65536	/* header octets read per message
					 * for its keys */
#define IMAP_THREAD_DEPTH_MAX	4096	/* parents walked to refuse a
					 * loop (RFC 5256 3 step 1B); a
					 * deeper chain is not linked */
#define SORTKEY_PHRASE_MAX	512	/* a display name (RFC 5957) */
#define IMAP_SEARCHRES_MAX	2048	/* the UID set a session keeps for
					 * "$" (RFC 5182) as text: 300
					 * scattered UIDs; a larger result
					 * is not saved (NO [LIMIT]) */

/* Maildir index (store/): a mailbox bigger than this is refused. */
#define MBOX_MSGS_MAX		(1u << 22)
#define MBOX_NAME_MAX		255	/* one Maildir file name */
#define UIDLIST_LINE_MAX	1024	/* one dovecot-uidlist line */

/* COMPRESS=DEFLATE (RFC 4978; compress/): raw DEFLATE (RFC 1951)
 * both ways, in fixed state per session. */
#define ZINF_WINDOW		32768	/* RFC 1951 3.2.5: the longest
					 * distance a peer may use */
#define ZDEF_WBITS		15	/* our own window: 32 KB matches
					 * across messages (mail headers
					 * repeat); 2 x window + chains
					 * are most of a session's 200 KB */
#define ZDEF_HASH_BITS		13	/* heads of the hash chains */
#define ZDEF_CHAIN_MAX		32	/* candidates tried per match:
					 * zlib's level 5; CPU is what a
					 * Pi or a router lacks */
#define ZDEF_BLOCK_IN		16384	/* input bytes per block at most:
					 * bounds a block's output */
#define ZDEF_SYMS		8192	/* LZ77 symbols per block */

/* HTTP (http/: autoconfiguration, MTA-STS, ACME HTTP-01). Requests
 * are tiny (a path, a Host, an address), so the bounds are small and a
 * whole request head must fit the connection's input buffer. */
#define HTTP_LINE_MAX		1024	/* request line or one header line,
					 * CRLF included (RFC 9112 3 lets
					 * a server choose; 414 / 431) */
#define HTTP_HEADERS_MAX	32	/* header fields per request: 431 */
#define HTTP_HEAD_MAX		(CONN_BUF_SIZE / 2)	/* whole head,
					 * to CRLF CRLF; with the body it
					 * fits the input buffer */
#define HTTP_BODY_MAX		(CONN_BUF_SIZE / 2)	/* Autodiscover
					 * POST: the XML is ~400 bytes */
#define HTTP_KEEPALIVE_MAX	32	/* requests per connection */
#define HTTP_DOC_MAX		3072	/* a generated document (the
					 * .mobileconfig is ~2 KB) */

/* Inbound defence on port 25 (smtp/smtp_screen.c). */
#define SCREEN_ZONES_MAX	8	/* dnsbl_zones: a listing mask
					 * fits a byte */
#define SCREEN_CACHE_MAX	256	/* DNSBL verdicts kept, by address */
#define SCREEN_CACHE_SECS	600	/* ... for this long: a spammer's
					 * retries within minutes cost no
					 * lookup, a delisting shows soon */
#define SCREEN_RATE_MAX		512	/* addresses counted per hour; the
					 * oldest window goes when full */
#define SCREEN_SPF_MAX		8	/* SPF evaluations at once (12 KB
					 * each); more wait as temperror */
/* DNS queries in flight for all of it: every zone of a few connects
 * plus the SPF lookups; the resolver and the loop get room for them
 * (cli/serve.c, queue/remote.c). */
#define SCREEN_DNS_QUERIES	(WREN_INBOUND_CHECKS ? 32 : 0)

/* Junk filter (msg/junk_tok.h, store/junk_db.h). */
#define JUNK_WORD_MIN		3	/* shorter words say little */
#define JUNK_WORD_MAX		32	/* longer: base64, hashes; dropped */
#define JUNK_LINE_MAX		1024	/* a line tokenised at once; a
					 * longer one in pieces */
#define JUNK_MSG_TOKENS		1024	/* distinct tokens kept per
					 * message; the rest are ignored */
#define JUNK_REC_MAX		1024	/* messages remembered as trained
					 * (double-training guard) */

/* Program-wide limits that sizes at start-up are checked against. */
#define MAX_CONNECTIONS_LIMIT	65536

/* ACME (RFC 8555): what its JSON documents and HTTP answers need. */
#define JSON_DEPTH_MAX		16	/* nesting: ACME's deepest is 3 */
#define JSON_TOKENS_MAX		512	/* values in one document: an
					 * order of 100 names is ~220 */
#define HTTP_RESP_HEADER_MAX	4096	/* one response header line */
#define HTTP_RESP_BODY_MAX	16384	/* a JSON answer or a chain of
					 * three PEM certificates */
#define HTTP_LOCATION_MAX	512	/* a Location: URL */
#define HTTP_NONCE_MAX		128	/* a Replay-Nonce (RFC 8555 6.5.1) */

#endif
