/* SPDX-License-Identifier: ISC */
/*
 * maildrop.h - local submission: the maildrop file that `wren sendmail`
 * writes below data_dir and the server's pickup reads, and the scan of
 * a submitted message's header (RFC 5322 3.6) that `sendmail -t` and
 * the missing-header checks need. Sans-I/O: the caller reads and
 * writes the files.
 *
 * Who may write the maildrop (like Postfix's postdrop, without a
 * set-group-id program):
 *
 *   data_dir/             0711 user:group  others may pass, not list
 *   data_dir/maildrop/   03733 user:group  sticky + set-group-id:
 *                                          anyone may create a file,
 *                                          nobody may list, read or
 *                                          remove another's file; the
 *                                          files get the server's group
 *   data_dir/maildrop/bad/ 0700            files pickup refused
 *
 * Every local user can submit; root and `user` always can, even when
 * data_dir is 0700. `sendmail` writes .<name> (mode 0640: the server
 * reads it through the group), fsyncs it, renames it to <name>, and
 * fsyncs the directory, so a file without a leading dot is complete.
 * <name> is MAILDROP_NAME_LEN upper-case hex digits (time, then
 * random), which pickup reuses as the queue id. The submitter is the
 * file's owner: pickup trusts fstat, never the uid line below. Any
 * user may give any envelope sender (-f), as with Postfix; the
 * Received: header that pickup adds names the uid.
 *
 * The file, text up to an empty line, then the message:
 *
 *   wren-maildrop 1
 *   uid 1000                   getuid() of the submitter
 *   arrival 1764120000         seconds since the epoch
 *   sender alice@example.com   empty for the null sender <>
 *   flags -                    comma list of: smtputf8; - for none
 *   rcpt bob@example.net       one per recipient, at least one
 *   (empty line)
 *   the message, LF line ends, headers complete (From:, Date: and
 *   Message-ID: added by sendmail when missing, Bcc: removed)
 *
 * Lines are in this order, each exactly once (rcpt at least once), with
 * one space after the key. Addresses are local@domain (a bare name has
 * been given @origin), printable with no white space; one with UTF-8
 * needs the smtputf8 flag. A file read back is hostile input (any local
 * user can write one): every field is checked, and the header must end
 * within MAILDROP_HEAD_MAX bytes.
 */
#ifndef WREN_MAILDROP_H
#define WREN_MAILDROP_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

#define MAILDROP_HEAD_MAX	65536	/* the file's own header, up to
					 * and including the empty line */
#define MAILDROP_RCPT_MAX	1000	/* as RESOLVE_TARGETS_MAX: Postfix
					 * takes 1000 per message */
#define MAILDROP_NAME_LEN	24	/* file name: 9 hex digits of
					 * seconds, 5 of microseconds, 10
					 * random */
#define MAILDROP_MODE		03733	/* the directory, as above */
#define MAILDROP_FILE_MODE	0640	/* a file, read via the group */
#define MAILDROP_STALE_S	(7 * 86400)	/* a .<name> older than
					 * this was left by a sendmail
					 * that died; pickup removes it */
/* The message's header, held by sendmail (Postfix's header_size_limit
 * is 100 KiB for one field). */
#define MAILDROP_MSG_HEADER_MAX	(256 * 1024)

#define MAILDROP_F_SMTPUTF8	0x1u

/* --- the file ------------------------------------------------------ */

struct maildrop_env {
	uint32_t	 uid;
	int64_t		 arrival;
	const char	*sender;		/* "" for <> */
	unsigned	 flags;			/* MAILDROP_F_* */
	const char	*rcpt[MAILDROP_RCPT_MAX];
	size_t		 nrcpt;
	size_t		 head_len;	/* the message starts here */
};

enum maildrop_err {
	MAILDROP_OK,
	MAILDROP_E_TRUNCATED,	/* the input ends inside the header */
	MAILDROP_E_TOO_LONG,	/* no end within MAILDROP_HEAD_MAX */
	MAILDROP_E_VERSION,	/* not "wren-maildrop 1" */
	MAILDROP_E_SYNTAX,	/* a line missing, out of order, unknown */
	MAILDROP_E_NUL,		/* NUL byte in the header */
	MAILDROP_E_NUMBER,	/* uid or arrival is not a number */
	MAILDROP_E_FLAGS,	/* an unknown flag */
	MAILDROP_E_SENDER,	/* the sender is not an address */
	MAILDROP_E_RCPT,	/* a recipient is not an address */
	MAILDROP_E_NO_RCPT,	/* no recipient */
	MAILDROP_E_TOO_MANY,	/* over MAILDROP_RCPT_MAX recipients */
	MAILDROP_E_8BIT		/* UTF-8 address without smtputf8 */
};

/*
 * Parses the header at the start of buf[0..len) (the file, or at least
 * its first MAILDROP_HEAD_MAX bytes). On MAILDROP_OK the strings in env
 * point into buf, whose line ends are overwritten with NULs, and the
 * message is buf[env->head_len..]. Nothing is read past len.
 */
enum maildrop_err	maildrop_parse(char *buf, size_t len,
			    struct maildrop_env *);
const char		*maildrop_strerror(enum maildrop_err);

/* Writes the header for env (head_len ignored) into out; returns its
 * length, or -1 when cap is too small or a field would not parse back
 * (the same checks as maildrop_parse). */
long	maildrop_format(char *out, size_t cap,
	    const struct maildrop_env *);

/* 1 when s[0..len) may be an envelope address in the file: local@domain
 * (mailbox.h syntax), no white space or control bytes; *utf8 is set
 * when it holds UTF-8. */
int	maildrop_addr_ok(const char *s, size_t len, int *utf8);

/* 1 when name is a maildrop file name (MAILDROP_NAME_LEN upper-case
 * hex digits), the form that may serve as a queue id. */
int	maildrop_name_ok(const char *name);

/* --- the submitted message's header ------------------------------- */

enum maildrop_hline {
	MAILDROP_HL_BODY,	/* not header: the body starts here */
	MAILDROP_HL_FIELD,	/* "Name:" starts a field */
	MAILDROP_HL_CONT	/* SP or HT: continues the field before */
};

/* Classifies one line (without its line end) in the header position.
 * The empty line is MAILDROP_HL_BODY: the caller knows it as the
 * separator. */
enum maildrop_hline	maildrop_header_line(const char *line, size_t len);

/* One field of a header block (LF line ends). */
struct maildrop_field {
	const char	*name;		/* NULL (nlen 0): no field */
	size_t		 nlen;
	const char	*value;		/* after the colon, folds
					 * included, no final LF */
	size_t		 vlen;
	size_t		 off, len;	/* the whole field, LF incl. */
};

/* The field at *pos of hdr[0..len), then *pos moves past it: 1, or 0
 * at the end. A field runs to the next line that starts with neither
 * SP nor HT. */
int	maildrop_field_next(const char *hdr, size_t len, size_t *pos,
	    struct maildrop_field *);

/* 1 when f is named `name` (ASCII case-insensitive). */
int	maildrop_field_is(const struct maildrop_field *, const char *name);

/*
 * The next address of an address-list value (RFC 5322 3.4: To, Cc,
 * Bcc) from *pos: display names, comments, quoted display names, group
 * names (`team: a@x, b@y;`) and source routes are dropped; white space
 * around `@` and `.` too. Returns 1 with the address in out (NUL
 * ended; a bare name has no @), 0 when no address is left, or -1 for
 * an element that is no address (unbalanced <, quote or comment, a
 * phrase without <...>, <>, a control byte, or longer than cap - 1):
 * *pos is past it, so the caller may go on.
 */
int	maildrop_addr_next(const char *v, size_t len, size_t *pos,
	    char *out, size_t cap);

/*
 * Copies an address-list value into out with "@domain" added to every
 * bare name (`alice`, `Alice <alice>`, `alice (Alice)`), as Postfix
 * qualifies the headers of local mail; everything else (display
 * names, comments, folding, elements that are no address) is kept
 * byte for byte. Returns the new length (no NUL), or -1 when out is
 * too small.
 */
long	maildrop_qualify(const char *v, size_t len, const char *domain,
	    char *out, size_t cap);

#endif
