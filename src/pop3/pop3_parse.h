/* SPDX-License-Identifier: ISC */
/*
 * pop3_parse.h - POP3 without I/O: command lines (RFC 1939 3, RFC 2449
 * 4), commands and their arguments (RFC 1939 4-7, CAPA RFC 2449 5,
 * STLS RFC 2595 4, AUTH RFC 5034 4), and the body of a RETR or TOP
 * response (RFC 1939 3 byte-stuffing, 7 TOP).
 *
 * Three small machines, each fed by the session:
 *
 *   pop3_line_next   frames lines; a line over the bound is reported
 *                    once and the rest of it discarded
 *   pop3_cmd_parse   one line -> struct pop3_cmd, or why not
 *   pop3_xfer_feed   message file bytes (LF or CR LF line ends) ->
 *   pop3_xfer_end    the multi-line response: CR LF lines, a '.'
 *                    doubled at the start of a line, TOP's cut after
 *                    the header and n body lines, and the final ".";
 *                    streamed in chunks of any size
 *
 * Parsers include only limits.h and libc (STYLE.md section 4).
 */
#ifndef WREN_POP3_PARSE_H
#define WREN_POP3_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/* --- lines -------------------------------------------------------- */

enum pop3_line_rc {
	POP3_LINE_OK,		/* *linelen bytes of line (no CR LF) */
	POP3_LINE_NEED,		/* no complete line yet */
	POP3_LINE_TOO_LONG	/* report "-ERR Line too long" once;
				 * the rest of the line is discarded */
};

struct pop3_lines {
	int	discarding;	/* inside an overlong line */
};

/*
 * Looks for the next line in buf[0..len), at most max octets with its
 * line end (POP3_LINE_MAX for commands, POP3_SASL_LINE_MAX for an AUTH
 * response). In every case the first *consumed bytes are done with
 * (the caller drops them after using the line); on POP3_LINE_OK the
 * line is (*line)[0..*linelen) without its CR LF. A bare LF ends a
 * line too (telnet users, some old clients).
 */
enum pop3_line_rc	pop3_line_next(struct pop3_lines *, const char *buf,
			    size_t len, size_t max, const char **line,
			    size_t *linelen, size_t *consumed);

/* --- commands ------------------------------------------------------ */

enum pop3_verb {
	POP3_V_USER, POP3_V_PASS, POP3_V_AUTH, POP3_V_STLS, POP3_V_CAPA,
	POP3_V_STAT, POP3_V_LIST, POP3_V_UIDL, POP3_V_RETR, POP3_V_TOP,
	POP3_V_DELE, POP3_V_RSET, POP3_V_NOOP, POP3_V_QUIT, POP3_V_UNKNOWN
};

enum pop3_perr {
	POP3_PE_OK,
	POP3_PE_EMPTY,		/* "Empty command" */
	POP3_PE_NUL,		/* "NUL byte in command" */
	POP3_PE_CHAR,		/* "Invalid characters in command" */
	POP3_PE_UNKNOWN,	/* "Unknown command" */
	POP3_PE_MISSING,	/* "Missing argument" */
	POP3_PE_EXTRA,		/* "Too many arguments" */
	POP3_PE_NUMBER,		/* "Invalid message number" */
	POP3_PE_LINES,		/* "Invalid number of lines" */
	POP3_PE_LINE_LONG	/* "Line too long" (POP3_LINE_TOO_LONG) */
};

/*
 * A parsed command. Arguments point into the line. Numbers are
 * decimal digits only (no sign, no space), message numbers 1..2^32-1,
 * TOP's line count 0..2^32-1.
 *
 *   USER name        arg = name (one word)
 *   PASS secret      arg = the rest of the line, spaces included
 *                    (RFC 1939 7: a password may contain spaces)
 *   AUTH [mech [ir]] arg = mech (NULL: none, list mechanisms),
 *                    ir = the initial response (NULL: none)
 *   LIST/UIDL [n]    nnum 0 or 1, msg
 *   RETR n, DELE n   msg
 *   TOP n k          msg, lines
 *   the others       no argument
 */
struct pop3_cmd {
	enum pop3_verb	 verb;
	const char	*arg;
	size_t		 arglen;
	const char	*ir;
	size_t		 irlen;
	unsigned	 nnum;		/* numbers given */
	uint32_t	 msg;
	uint32_t	 lines;
};

/* Parses one line (without CR LF). On an error cmd->verb is still set
 * when the verb was recognised. Verbs are case-insensitive. */
enum pop3_perr	pop3_cmd_parse(const char *line, size_t len,
		    struct pop3_cmd *);

/* The verb's name in capitals ("UNKNOWN" for the rest). */
const char	*pop3_verb_name(enum pop3_verb);

/* The reply text of an error (no "-ERR ", no CR LF); never NULL. */
const char	*pop3_strerror(enum pop3_perr);

/* --- RETR and TOP output ------------------------------------------- */

/*
 * The message bytes as a multi-line response body:
 *
 *   file:  "Subject: x\n\n.hi\nbye"        (LF or CR LF ends)
 *   wire:  "Subject: x\r\n\r\n..hi\r\nbye\r\n.\r\n"
 *
 * A bare LF becomes CR LF, a CR LF stays, a bare CR is passed as it
 * is (it ends no line). For TOP the output stops after the header,
 * its blank line and `lines` lines of the body (all of the message
 * when it is shorter); then pop3_xfer_done is 1 and the rest of the
 * file need not be read.
 */
struct pop3_xfer {
	int		top;		/* TOP: cut after the body */
	uint32_t	lines;		/* body lines left to send */
	int		in_header;
	int		cr;		/* the previous byte was CR */
	uint64_t	linelen;	/* bytes of the line so far */
	int		done;		/* TOP's cut reached */
	int		ended;		/* pop3_xfer_end was called */
};

/* Whole message (top 0), or header and `lines` body lines (top 1). */
void	pop3_xfer_init(struct pop3_xfer *, int top, uint32_t lines);

/*
 * Transforms in[0..len) into out[0..cap): returns how many input
 * bytes were used and sets *outlen. Uses fewer than len when out is
 * full (one input byte gives at most two: cap < 2 uses nothing) or
 * TOP's cut is reached.
 */
size_t	pop3_xfer_feed(struct pop3_xfer *, const char *in, size_t len,
	    char *out, size_t cap, size_t *outlen);

/* 1 once TOP's cut is reached (more input would be dropped). */
int	pop3_xfer_done(const struct pop3_xfer *);

/* The end of the response: CR LF if the last line had no line end,
 * then ".\r\n". Writes at most POP3_XFER_END_MAX bytes (0 when cap is
 * smaller: call again with room); returns how many. */
#define POP3_XFER_END_MAX	5
size_t	pop3_xfer_end(struct pop3_xfer *, char *out, size_t cap);

#endif
