/* SPDX-License-Identifier: ISC */
/*
 * subs.h - Dovecot's `subscriptions` file in the Maildir root
 * (sans-I/O): reading it name by name, and writing it.
 *
 * The format, as Dovecot 2.3 writes it (checked with doveadm and
 * imap 2.3.19):
 *
 *   V<TAB>2<LF>          version header
 *   <LF>                 empty line
 *   Sent<LF>             one name a line, modified UTF-7 as the
 *   a<TAB>b<LF>          client sent it, the separator written TAB
 *
 * Without that header the file is the old form: one name a line with
 * the separator itself ("a.b"); any other first line (even "V<TAB>3")
 * is a name of the old form, as Dovecot reads it. Dovecot skips an
 * empty line (with a warning) and ignores a last line without its LF
 * (a write cut short); so do we. A NUL, a line over FOLDER_NAME_MAX
 * octets, or a name folder_name_parse refuses (FOLDER_NAME_LAX) are
 * skipped too, each reported once. Duplicates are the reader's caller's
 * concern (Dovecot lists a name once).
 *
 * We always write the V2 form (Dovecot keeps the old form when it
 * appends to an old file; it reads both).
 */
#ifndef WREN_SUBS_H
#define WREN_SUBS_H

#include <stddef.h>

#include "store/folder_name.h"

#define SUBS_FILE	"subscriptions"
#define SUBS_HEADER	"V\t2\n\n"

/* The largest file read: 1,024 names of 64 octets. A longer file is
 * refused whole rather than cut, so a rewrite never drops names. */
#define SUBS_FILE_MAX	(64 * 1024)

enum subs_ev {
	SUBS_END = 0,		/* no more lines */
	SUBS_NAME,		/* a name in the folder_name */
	SUBS_SKIP		/* a line skipped; its reason in why */
};

enum subs_skip {
	SUBS_SKIP_NONE = 0,
	SUBS_SKIP_EMPTY,	/* an empty line */
	SUBS_SKIP_NUL,		/* a NUL octet in the line */
	SUBS_SKIP_LONG,		/* over FOLDER_NAME_MAX octets */
	SUBS_SKIP_NAME,		/* folder_name_parse refused it */
	SUBS_SKIP_UNTERMINATED	/* the last line has no LF */
};

struct subs_reader {
	const char	*p;
	size_t		 len;
	size_t		 pos;
	int		 v2;		/* 1: the V2 header was seen */
	unsigned	 line;		/* of the last event, from 1 */
	enum subs_skip	 why;		/* of the last SUBS_SKIP */
	enum folder_name_err name_err;	/* with SUBS_SKIP_NAME */
};

/* Starts reading buf[0..len) (the whole file, held by the caller for
 * the reader's life). */
void	subs_reader_init(struct subs_reader *, const char *buf, size_t len);

/* The next line: SUBS_NAME with the name in *out, SUBS_SKIP, or
 * SUBS_END. */
enum subs_ev subs_next(struct subs_reader *, struct folder_name *out);

/* Appends SUBS_HEADER (when *pos is 0) and then name[0..len) (a
 * name with '.' separators) as one V2 line to out[*pos..cap); 0, or
 * -1 when it does not fit (out and *pos unchanged). */
int	subs_put(char *out, size_t cap, size_t *pos, const char *name,
	    size_t len);

/* A short text for a skip reason. */
const char *subs_skip_str(enum subs_skip);

#endif
