/* SPDX-License-Identifier: ISC */
/*
 * folder_name.h - IMAP mailbox names and their Maildir++ directories,
 * as Dovecot 2.3 lays them out (sans-I/O).
 *
 * The hierarchy separator is '.', the namespace prefix "" (what
 * NAMESPACE announces). INBOX, in any case, is the Maildir itself;
 * "a.b" is the directory Maildir/.a.b, whose name is the client's
 * modified UTF-7 octets unchanged (Dovecot's default). A name whose
 * first component is INBOX in any case is an ordinary folder with that
 * component written "INBOX": "inbox.x" is Maildir/.INBOX.x, as
 * Dovecot does.
 *
 * A name is checked left to right and the first fault is reported,
 * each with its own code and text (folder_name_strerror): the length
 * first (a bound, so nothing longer is read), then each octet, then
 * the shape of the components. Modified UTF-7 (RFC 3501 5.1.3) must be
 * canonical, as Dovecot requires: "&-" for '&', base64 runs closed by
 * '-', no printable ASCII encoded, no two runs side by side, no more
 * than 5 spare bits and all of them zero, surrogates paired.
 */
#ifndef WREN_FOLDER_NAME_H
#define WREN_FOLDER_NAME_H

#include <stddef.h>

#define FOLDER_SEP		'.'	/* hierarchy separator (NAMESPACE) */

/* Octets of a name as the client sends it (modified UTF-7). The
 * directory ".name" must fit one 255-octet file name, with room for
 * Dovecot's and our suffixes; Dovecot itself refuses names whose
 * directory would not fit. */
#define FOLDER_NAME_MAX		200

/* Components of a name ("a.b.c" has 3). Deeper trees serve no client
 * and make every LIST dearer. */
#define FOLDER_DEPTH_MAX	16

/* ".name": the directory under the Maildir root, with its NUL. */
#define FOLDER_DIR_MAX		(FOLDER_NAME_MAX + 2)

/* How a name is taken. */
#define FOLDER_NAME_NEW		0x0	/* one the client creates */
#define FOLDER_NAME_LAX		0x1	/* one that may exist already:
					 * '%', '*', tmp, new, cur pass
					 * (Dovecot creates such folders) */
#define FOLDER_NAME_TRAIL	0x2	/* one trailing separator is taken
					 * and dropped (CREATE, RFC 3501
					 * 6.3.3) */

enum folder_name_err {
	FOLDER_NAME_OK = 0,
	FOLDER_NAME_EMPTY,		/* "" */
	FOLDER_NAME_LONG,		/* over FOLDER_NAME_MAX octets */
	FOLDER_NAME_DEEP,		/* over FOLDER_DEPTH_MAX levels */
	FOLDER_NAME_LEAD_SEP,		/* ".a" */
	FOLDER_NAME_TRAIL_SEP,		/* "a." */
	FOLDER_NAME_EMPTY_PART,		/* "a..b" */
	FOLDER_NAME_SLASH,		/* "a/b", "/a" */
	FOLDER_NAME_TILDE,		/* "~a" */
	FOLDER_NAME_CTL,		/* < 0x20, 0x7f, or one encoded */
	FOLDER_NAME_8BIT,		/* octets >= 0x80: not mUTF-7 */
	FOLDER_NAME_WILDCARD,		/* '%' or '*' */
	FOLDER_NAME_RESERVED,		/* tmp, new, cur, DOVECOT-TRASHED */
	FOLDER_NAME_UTF7_OPEN,		/* '&' run without its '-' */
	FOLDER_NAME_UTF7_B64,		/* not a modified base64 octet */
	FOLDER_NAME_UTF7_BITS,		/* spare bits: too many, or not 0 */
	FOLDER_NAME_UTF7_ASCII,		/* printable ASCII encoded */
	FOLDER_NAME_UTF7_SPLIT,		/* two runs side by side */
	FOLDER_NAME_UTF7_SURROGATE,	/* unpaired UTF-16 surrogate */
	FOLDER_NAME_ERR_MAX
};

struct folder_name {
	char		 name[FOLDER_NAME_MAX + 1];	/* normalised */
	size_t		 len;
	char		 dir[FOLDER_DIR_MAX];	/* "" for INBOX, ".name" */
	size_t		 dirlen;
	unsigned	 depth;		/* components */
	int		 inbox;		/* 1: INBOX itself */
};

/* Checks s[0..len) (any octets; no NUL needed) taken as `how`
 * (FOLDER_NAME_* flags) and fills out: the name with an INBOX first
 * component in capitals and a dropped trailing separator, and its
 * directory. FOLDER_NAME_OK or the first fault found. */
enum folder_name_err folder_name_parse(const char *s, size_t len,
	    unsigned how, struct folder_name *out);

/* A short English sentence for a code, for the text of a NO. */
const char	*folder_name_strerror(enum folder_name_err);

/* 1 when name[0..len) is INBOX in any case, else 0. */
int	folder_name_is_inbox(const char *name, size_t len);

#endif
