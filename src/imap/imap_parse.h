/* SPDX-License-Identifier: ISC */
/*
 * imap_parse.h - IMAP4rev1 commands without I/O (RFC 3501 sections 2.2
 * and 9 for the grammar; RFC 7888 for LITERAL+; UIDPLUS UID EXPUNGE,
 * MOVE, IDLE, NAMESPACE, ID, ENABLE and UNSELECT by name only).
 *
 * Five pieces, each fed by the session:
 *
 *   imap_frame        wire bytes -> whole commands (lines and literals),
 *                     continuation requests and size errors
 *   imap_cmd_parse    one command -> tag, command, argument tree
 *   imap_seqset_*     sequence sets, checked and walked without storage
 *   imap_fetch_parse  FETCH items, STORE flags, SEARCH programs, from
 *   imap_store_parse  the argument tree of a parsed command
 *   imap_search_parse
 *   imap_astring_fmt  strings out, quoted or as a literal
 *
 * imap_parse.c frames, tokenizes and writes; imap_parse_args.c holds
 * sequence sets, FETCH, STORE and SEARCH.
 *
 * Every error has a short text for the reply (imap_strerror): the
 * session answers `tag BAD <text>`, or `* BAD <text>` when the tag
 * itself is unusable (cmd.tag_len == 0). IMAP_PE_BADCHARSET alone
 * is `tag NO [BADCHARSET (US-ASCII UTF-8)] <text>`.
 *
 * Parsers include only limits.h and libc (STYLE.md section 4).
 */
#ifndef WREN_IMAP_PARSE_H
#define WREN_IMAP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/* --- errors ------------------------------------------------------- */

enum imap_perr {
	IMAP_PE_OK,
	IMAP_PE_EMPTY,		/* "Empty command" (untagged) */
	IMAP_PE_TAG,		/* "Invalid tag" (untagged) */
	IMAP_PE_NO_CMD,		/* "Missing command" */
	IMAP_PE_UNKNOWN,	/* "Unknown command" */
	IMAP_PE_UID_CMD,	/* "Unknown UID command" */
	IMAP_PE_NUL,		/* "NUL byte in command" */
	IMAP_PE_LIT_NUL,	/* "NUL byte in literal" */
	IMAP_PE_CR,		/* "CR without LF" */
	IMAP_PE_EOL,		/* "Unexpected end of line" */
	IMAP_PE_ATOM,		/* "Invalid characters in atom" */
	IMAP_PE_QUOTED,		/* "Unterminated quoted string" */
	IMAP_PE_ESCAPE,		/* "Invalid escape in quoted string" */
	IMAP_PE_LITERAL,	/* "Invalid literal" */
	IMAP_PE_SPACE,		/* "Missing space" */
	IMAP_PE_OPEN,		/* "Missing ')'" */
	IMAP_PE_CLOSE,		/* "Unexpected ')'" */
	IMAP_PE_BRACKET,	/* "Missing ']'" */
	IMAP_PE_DEPTH,		/* "Nesting too deep" */
	IMAP_PE_TOO_MANY,	/* "Too many arguments" */
	IMAP_PE_MISSING,	/* "Missing argument" */
	IMAP_PE_ARG,		/* "Invalid argument" */
	IMAP_PE_SEQSET,		/* "Invalid sequence set" */
	IMAP_PE_NUMBER,		/* "Invalid number" */
	IMAP_PE_FETCH_ATT,	/* "Invalid FETCH attribute" */
	IMAP_PE_FETCH_MANY,	/* "Too many FETCH attributes" */
	IMAP_PE_SECTION,	/* "Invalid section" */
	IMAP_PE_SECTION_DEEP,	/* "Section nesting too deep" */
	IMAP_PE_FIELD,		/* "Invalid header field name" */
	IMAP_PE_FIELDS_MANY,	/* "Too many header fields" */
	IMAP_PE_PARTIAL,	/* "Invalid partial" */
	IMAP_PE_STORE_ITEM,	/* "Invalid STORE item" */
	IMAP_PE_RECENT,		/* "Cannot set \Recent" */
	IMAP_PE_FLAG,		/* "Invalid flag" */
	IMAP_PE_KEYWORD_LONG,	/* "Keyword too long" */
	IMAP_PE_FLAGS_MANY,	/* "Too many flags" */
	IMAP_PE_SEARCH_KEY,	/* "Unknown search key" */
	IMAP_PE_SEARCH_MANY,	/* "Too many search keys" */
	IMAP_PE_DATE,		/* "Invalid date" */
	IMAP_PE_BADCHARSET,	/* "Unsupported charset": NO, not BAD */
	IMAP_PE_LINE_LONG,	/* "Line too long" (IMAP_FR_TOO_LONG) */
	IMAP_PE_LIT_BIG,	/* "Literal too big" (IMAP_FR_LIT_*) */
	IMAP_PE_STATUS_ATT,	/* "Invalid status item" */
	IMAP_PE_LIST_OPT	/* "Invalid LIST option" */
};

/* The reply text of an error (no tag, no CR LF); never NULL. */
const char	*imap_strerror(enum imap_perr);

/* --- framing ------------------------------------------------------ */

/*
 * A command is its lines and the literals they announce, verbatim:
 *
 *   a1 LOGIN {5}\r\nalice "secret"\r\n
 *   `-- line --' `lit' `--- line ---'
 *
 * The framer sees each byte once and never looks back: the session
 * appends the bytes the framer keeps to its own command buffer, and
 * parses that buffer when a command is complete.
 *
 *   struct imap_framer fr;          imap_framer_init(&fr);
 *   while (len > 0) {
 *       ev = imap_frame(&fr, in, len, lit_max, &used, &keep);
 *       append(cmdbuf, in, keep);   keep <= used, a prefix
 *       in += used; len -= used;
 *       switch (ev) ...             IMAP_FR_NEED: nothing to do
 *   }
 *
 * Lines end in CR LF or a bare LF. A line ending in {n} (or {n+},
 * RFC 7888) outside a quoted string announces a literal of n bytes
 * that follows it. Bounds, per command:
 *   - the bytes outside literals, line ends included, over all its
 *     lines: at most IMAP_LINE_MAX;
 *   - the literal bytes: at most lit_max, which the caller passes on
 *     every call (IMAP_LITERAL_PRELOGIN_MAX before login,
 *     IMAP_LITERAL_MAX after);
 * so a command never exceeds IMAP_LINE_MAX + lit_max (IMAP_CMD_MAX).
 * A literal size over 2^32 - 1 is too big whatever lit_max is.
 *
 * When a command is void (TOO_LONG, LIT_TOO_BIG), the session finds
 * the tag for its BAD with imap_tag_get on what it kept, and empties
 * its buffer; the framer is already at the next command.
 */
enum imap_fr_ev {
	IMAP_FR_NEED,		/* nothing to report; feed on while input
				 * remains (used < len after a discarded
				 * line), else wait for more */
	IMAP_FR_CMD,		/* a command is complete: the fr.cmd_len
				 * bytes kept since the previous command,
				 * last line end included */
	IMAP_FR_CONT,		/* a synchronizing literal {n} was
				 * accepted: send "+ ..." now; its size
				 * is fr.lit_size */
	IMAP_FR_LITERAL,	/* a non-synchronizing literal {n+} was
				 * accepted (nothing to send) */
	IMAP_FR_LIT_DATA,	/* streaming only (imap_framer_stream):
				 * in[0..used) is literal body, not kept */
	IMAP_FR_TOO_LONG,	/* tag BAD "Line too long": the command
				 * is void, the rest of it is discarded */
	IMAP_FR_LIT_TOO_BIG,	/* {n} over lit_max: tag BAD "Literal
				 * too big"; the literal is never read
				 * (the client waits for "+" and gives up
				 * on the BAD), the command is void */
	IMAP_FR_LIT_PLUS_TOO_BIG /* {n+} over lit_max: the client sends
				 * it anyway, so "* BYE" and close */
};

struct imap_framer {
	/* after an event */
	size_t		cmd_len;	/* IMAP_FR_CMD: command length */
	uint64_t	lit_size;	/* IMAP_FR_CONT/LITERAL/_TOO_BIG */
	int		lit_sync;	/* 1 for {n}, 0 for {n+} */
	/* internal */
	int		st;		/* line, literal, discarding, ... */
	int		cr;		/* last byte was a CR */
	int		quote;		/* 1 in "...", 2 after a backslash */
	int		lit;		/* how much of "{n+}" ends the line */
	int		lit_plus;	/* ... with a '+' */
	int		lit_ovf;	/* its digits passed 2^32 - 1 */
	uint64_t	lit_n;
	size_t		lit_left;	/* literal bytes still to come */
	size_t		cur;		/* bytes kept of this command */
	size_t		text;		/* of them, outside literals */
	size_t		lits;		/* of them, in literals */
};

void	imap_framer_init(struct imap_framer *);

/* Frames in[0..len): consumes *used bytes (at least one when len > 0,
 * except that an event may stop it early), of which the first *keep
 * belong to the current command. Returns the event, or IMAP_FR_NEED. */
enum imap_fr_ev	imap_frame(struct imap_framer *, const char *in,
		    size_t len, size_t lit_max, size_t *used, size_t *keep);

/* Right after IMAP_FR_CONT or IMAP_FR_LITERAL: hand the literal body
 * to the caller instead of keeping it (for APPEND, which streams the
 * message to the store): it arrives as IMAP_FR_LIT_DATA events and
 * does not count against lit_max; then the command goes on as usual,
 * and the kept command holds "{n}" CR LF without the body (so the
 * session parses the text before the '{' at the event, e.g.
 * `tag APPEND box (\Seen) "date" ` plus a closing token of its own).
 * For APPEND the session passes its message size limit as lit_max
 * once its buffer starts with "tag APPEND ". */
void	imap_framer_stream(struct imap_framer *);

/* Right after IMAP_FR_CONT or IMAP_FR_LITERAL, or while streaming:
 * the command is refused (the session answers it now). coming is 0
 * when the client sends nothing more of it (it waits for a "+" that
 * was not sent): the framer starts afresh. Else (a {n+} literal, or
 * a "+" already sent) the rest of the literal and of the command up
 * to its line end (with any further {n+} literal announced there)
 * is dropped. */
void	imap_framer_void(struct imap_framer *, int coming);

/* The tag at the start of a command buffer (for the BAD of a void
 * command, or any reply before a full parse): 0 and *taglen when
 * buf starts with a valid tag followed by SP, a line end or the end
 * of buf; -1 when the reply must be untagged ("*"). */
int	imap_tag_get(const char *buf, size_t len, size_t *taglen);

/* --- commands ----------------------------------------------------- */

enum imap_cmd_name {
	IMAP_CMD_UNKNOWN,
	IMAP_CMD_CAPABILITY, IMAP_CMD_NOOP, IMAP_CMD_LOGOUT,
	IMAP_CMD_STARTTLS, IMAP_CMD_LOGIN, IMAP_CMD_AUTHENTICATE,
	IMAP_CMD_SELECT, IMAP_CMD_EXAMINE, IMAP_CMD_CREATE,
	IMAP_CMD_DELETE, IMAP_CMD_RENAME, IMAP_CMD_SUBSCRIBE,
	IMAP_CMD_UNSUBSCRIBE, IMAP_CMD_LIST, IMAP_CMD_LSUB,
	IMAP_CMD_STATUS, IMAP_CMD_APPEND, IMAP_CMD_CHECK, IMAP_CMD_CLOSE,
	IMAP_CMD_EXPUNGE, IMAP_CMD_SEARCH, IMAP_CMD_FETCH, IMAP_CMD_STORE,
	IMAP_CMD_COPY, IMAP_CMD_MOVE, IMAP_CMD_IDLE, IMAP_CMD_NAMESPACE,
	IMAP_CMD_ID, IMAP_CMD_ENABLE, IMAP_CMD_UNSELECT,
	IMAP_CMD_COMPRESS, IMAP_CMD_SORT, IMAP_CMD_THREAD,
	IMAP_CMD_COUNT
};

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* text as sent (flags, seqsets, keys) */
	IMAP_ARG_NUMBER,	/* all digits, <= 2^32 - 1: num */
	IMAP_ARG_NIL,		/* the atom NIL, any case */
	IMAP_ARG_QUOTED,	/* text between the quotes, still escaped
				 * when IMAP_AF_ESC: see imap_arg_str */
	IMAP_ARG_LITERAL,	/* the n bytes of the body */
	IMAP_ARG_LIST,		/* "(" ... ")": the children follow it */
	IMAP_ARG_SECTION	/* FETCH only: BODY[...]<...> or
				 * BODY.PEEK[...]..., whole, unchecked */
};

/* imap_arg.flags */
#define IMAP_AF_WILD	0x01u	/* atom with '%' or '*' (LIST patterns,
				 * sequence sets) */
#define IMAP_AF_BSLASH	0x02u	/* atom starting with '\' (a flag) */
#define IMAP_AF_ESC	0x04u	/* quoted string with '\' escapes */
#define IMAP_AF_8BIT	0x08u	/* quoted or literal with 8-bit bytes */

/*
 * The arguments after the command name (and the UID sub-command), in
 * prefix order; a list is followed by its children:
 *
 *   FETCH 1:4 (FLAGS BODY[HEADER.FIELDS (TO)])
 *
 *   i   type      text                         next  nchild
 *   0   ATOM      1:4                          1     -
 *   1   LIST      (FLAGS BODY[...])            4     2
 *   2   ATOM      FLAGS                        3     -
 *   3   SECTION   BODY[HEADER.FIELDS (TO)]     4     -
 *
 * next is the index just past an argument and everything inside it,
 * so siblings are walked with j = args[j].next: the top level from 0
 * to nargs, the children of a list i from i + 1 to args[i].next.
 */
struct imap_arg {
	const char	*p;	/* into the command buffer */
	uint32_t	 len;	/* LIST: '(' to ')' inclusive */
	uint32_t	 num;	/* NUMBER */
	uint16_t	 next;
	uint16_t	 nchild;	/* LIST */
	uint8_t		 type;		/* enum imap_arg_type */
	uint8_t		 flags;		/* IMAP_AF_* */
};

struct imap_cmd {
	const char		*tag;	/* tag_len 0: answer "* BAD" */
	size_t			 tag_len;
	enum imap_cmd_name	 cmd;	/* UID FETCH: IMAP_CMD_FETCH ... */
	int			 uid;	/* ... with uid = 1 */
	size_t			 nargs;
	struct imap_arg		 args[IMAP_ARGS_MAX];
};

/*
 * Parses a framed command (cmd[0..len), its last line end optional).
 * On an error cmd->tag is set when the tag was valid, and cmd->cmd
 * when the command was recognised. Commands are matched in any case.
 *
 * Besides the syntax, the top-level arguments are checked against
 * the command (a: astring, i.e. atom without wildcards or a leading
 * '\', number, NIL, quoted or literal; w: astring or a pattern with
 * % and *; s: sequence set; l: list; x: anything; [...]: optional;
 * "...": any number more of the kind before it): too few is
 * IMAP_PE_MISSING, too many IMAP_PE_TOO_MANY, a wrong kind
 * IMAP_PE_ARG (IMAP_PE_SEQSET for s).
 *
 *   CAPABILITY NOOP LOGOUT STARTTLS CHECK CLOSE EXPUNGE IDLE
 *   NAMESPACE UNSELECT   -              UID EXPUNGE     s
 *   LOGIN        a a                    AUTHENTICATE    a [a]
 *   SELECT EXAMINE CREATE  a [l]        DELETE SUBSCRIBE UNSUBSCRIBE a
 *   RENAME       a a                    LSUB            a w
 *   LIST         x x ... (imap_list_parse)
 *   STATUS       a l                    APPEND          a ...
 *   SEARCH       x ...                  FETCH           s x
 *   STORE        s x x ...              COPY MOVE       s a
 *   FETCH may end with a list of modifiers (RFC 7162 3.1.4.1).
 *   ID           x                      ENABLE          a ...
 *   COMPRESS     a
 *
 * Literals must be complete and hold no NUL (CHAR8, RFC 3501 9).
 * Sequence sets are checked here; FETCH, STORE and SEARCH need their
 * own parser below for the rest.
 */
enum imap_perr	imap_cmd_parse(const char *cmd, size_t len,
		    struct imap_cmd *);

/* The value of a string argument (atom, number, NIL as "NIL", quoted
 * unescaped, literal) into buf[0..cap): 0 and *len, or -1 when it is
 * a list or section, or longer than cap. No NUL is added. */
int	imap_arg_str(const struct imap_arg *, char *buf, size_t cap,
	    size_t *len);

/* 1 when the argument is an atom (or NIL) equal to word in any case. */
int	imap_arg_is(const struct imap_arg *, const char *word);

/* An RFC 7162 mod-sequence-valzer (0 to 2^63 - 1, an atom or number
 * of digits): 0 and *v, or -1. */
int	imap_arg_modseq(const struct imap_arg *, uint64_t *v);

/* 1 when the argument may be used as an astring (the 'a' above). */
int	imap_arg_is_astring(const struct imap_arg *);

/* --- sequence sets (RFC 3501 9: sequence-set) --------------------- */

/* 0 when p[0..len) is a sequence set ("1,3:5,7:*"), -1 if not. Each
 * number is 1 to 2^32 - 1, without leading zeros. "$" (RFC 5182
 * SEARCHRES) is valid too: the session replaces it with the saved UID
 * set before the command runs (the walk below does not take it). */
int	imap_seqset_valid(const char *p, size_t len);

/*
 * Walks a sequence set without storing it: each call scans the next
 * element of the text and gives it as lo <= hi, with "*" replaced by
 * star (the largest sequence number or UID; with 0, for an empty
 * mailbox, "*" gives 0 and the caller decides). Ranges come in the
 * order sent and may overlap.
 *
 *   imap_seqset_begin(&it, a->p, a->len, exists);
 *   while (imap_seqset_next(&it, &lo, &hi) == 1) ...
 */
struct imap_seqset_iter {
	const char	*p;
	size_t		 len;
	size_t		 pos;
	uint32_t	 star;
};

void	imap_seqset_begin(struct imap_seqset_iter *, const char *p,
	    size_t len, uint32_t star);

/* 1 and a range, 0 at the end, -1 on a syntax error. */
int	imap_seqset_next(struct imap_seqset_iter *, uint32_t *lo,
	    uint32_t *hi);

/* --- FETCH (RFC 3501 6.4.5) --------------------------------------- */

#define IMAP_FETCH_FLAGS	0x001u
#define IMAP_FETCH_INTERNALDATE	0x002u
#define IMAP_FETCH_RFC822_SIZE	0x004u
#define IMAP_FETCH_ENVELOPE	0x008u
#define IMAP_FETCH_BODY		0x010u	/* BODY (structure, no ext.) */
#define IMAP_FETCH_BODYSTRUCTURE 0x020u
#define IMAP_FETCH_UID		0x040u	/* (for UID FETCH the session
					 * sends UID even without it) */
#define IMAP_FETCH_RFC822	0x080u	/* = BODY[], sets \Seen */
#define IMAP_FETCH_RFC822_HEADER 0x100u	/* = BODY.PEEK[HEADER] */
#define IMAP_FETCH_RFC822_TEXT	0x200u	/* = BODY[TEXT], sets \Seen */
#define IMAP_FETCH_MODSEQ	0x400u	/* RFC 7162 3.1.4 */

enum imap_sect_text {
	IMAP_SECT_ALL,		/* BODY[] or BODY[1.2]: the whole part */
	IMAP_SECT_HEADER,
	IMAP_SECT_HEADER_FIELDS,
	IMAP_SECT_HEADER_FIELDS_NOT,
	IMAP_SECT_TEXT,
	IMAP_SECT_MIME		/* only after a part number */
};

struct imap_str {
	const char	*p;
	size_t		 len;
};

/* imap_fetch_body.binary (RFC 3516 4.1, 4.2) */
#define IMAP_BIN_DATA	1	/* BINARY[part]<partial>, BINARY.PEEK */
#define IMAP_BIN_SIZE	2	/* BINARY.SIZE[part] (peek set) */

/* One BODY[section]<partial> or BODY.PEEK[...], or a BINARY item
 * (then only part numbers: text is IMAP_SECT_ALL). */
struct imap_fetch_body {
	int		 peek;
	int		 binary;	/* 0 or IMAP_BIN_* */
	unsigned	 nparts;	/* 1.2.3: 3 */
	uint32_t	 part[IMAP_SECTION_DEPTH_MAX];	/* each >= 1 */
	enum imap_sect_text text;
	unsigned	 field0;	/* HEADER.FIELDS[.NOT]: the names */
	unsigned	 nfields;	/* are fetch.field[field0..+n) */
	int		 partial;	/* <start.count> given */
	uint32_t	 start;
	uint32_t	 count;		/* >= 1 */
	const char	*spec;		/* the section as sent, between */
	size_t		 spec_len;	/* '[' and ']' */
};

struct imap_fetch {
	unsigned		items;	/* IMAP_FETCH_* */
	int			seen;	/* a non-PEEK body, RFC822 or
					 * RFC822.TEXT: set \Seen */
	unsigned		nbody;
	struct imap_fetch_body	body[IMAP_FETCH_ATTS_MAX];
	unsigned		nfield;
	struct imap_str		field[IMAP_HDR_FIELDS_MAX];	/* header
					 * names, as sent (no escapes) */
	uint64_t		changedsince;	/* RFC 7162 3.1.4.1; 0:
						 * none */
	int			vanished;	/* RFC 7162 3.2.6 */
};

/* The items of a parsed FETCH (args[1]: ALL, FAST, FULL, one item or
 * a list of them). Pointers go into the command buffer. */
enum imap_perr	imap_fetch_parse(const struct imap_cmd *,
		    struct imap_fetch *);

/* Writes the name a FETCH response gives a body section, canonical
 * and upper case as Dovecot does: "BODY[1.2.HEADER.FIELDS (FROM TO)]",
 * "BINARY[1.2]", "BINARY.SIZE[1]"
 * and "<start>" after a partial (RFC 3501 7.4.2). Returns the length
 * it needs; the text in buf is whole only when that is <= cap (no
 * NUL). The section as the client spelt it is body->spec. */
size_t	imap_fetch_body_fmt(const struct imap_fetch *,
	    const struct imap_fetch_body *, char *buf, size_t cap);

/* --- STORE (RFC 3501 6.4.6) --------------------------------------- */

#define IMAP_FL_SEEN		0x01u
#define IMAP_FL_ANSWERED	0x02u
#define IMAP_FL_FLAGGED		0x04u
#define IMAP_FL_DELETED		0x08u
#define IMAP_FL_DRAFT		0x10u

enum imap_store_op { IMAP_STORE_SET, IMAP_STORE_ADD, IMAP_STORE_REMOVE };

struct imap_store {
	enum imap_store_op	op;	/* FLAGS, +FLAGS, -FLAGS */
	int			silent;	/* .SILENT */
	unsigned		flags;	/* IMAP_FL_* */
	unsigned		nkw;	/* keywords, as sent, once each */
	struct imap_str		kw[IMAP_FLAGS_MAX];	/* (any case) */
	int			unchanged;	/* RFC 7162 3.1.3: */
	uint64_t		unchangedsince;	/* UNCHANGEDSINCE n */
};

/* The item and flags of a parsed STORE (args[1], args[2...]): a flag
 * list, possibly empty, or flags separated by spaces. \Recent is
 * refused (RFC 3501 2.3.2), as are other system flags; a keyword is
 * an atom of at most IMAP_KEYWORD_LEN_MAX characters. At most
 * IMAP_FLAGS_MAX flags in all. */
enum imap_perr	imap_store_parse(const struct imap_cmd *,
		    struct imap_store *);

/* --- LIST (RFC 3501 6.3.8, LIST-EXTENDED RFC 5258, LIST-STATUS 5819,
 * SPECIAL-USE 6154) and STATUS items (RFC 3501 6.3.10) ------------ */

/* STATUS items, as bits. */
#define IMAP_SA_MESSAGES	0x01u
#define IMAP_SA_RECENT		0x02u
#define IMAP_SA_UIDNEXT		0x04u
#define IMAP_SA_UIDVALIDITY	0x08u
#define IMAP_SA_UNSEEN		0x10u
#define IMAP_SA_HIGHESTMODSEQ	0x20u	/* RFC 7162 3.1.2 */
#define IMAP_SA_SIZE		0x40u	/* RFC 8438, RFC 9051 6.3.11 */
#define IMAP_SA_DELETED		0x80u	/* RFC 9051 6.3.11 */

/* The items of a STATUS list (the LIST argument at index i): 0 and
 * *items, or IMAP_PE_STATUS_ATT for an unknown or missing item. */
enum imap_perr	imap_status_items(const struct imap_cmd *, size_t i,
		    unsigned *items);

/* Selection options (LIST (...) ref pattern). */
#define IMAP_LS_SUBSCRIBED	0x01u
#define IMAP_LS_REMOTE		0x02u	/* accepted, means nothing here */
#define IMAP_LS_RECURSIVEMATCH	0x04u
#define IMAP_LS_SPECIAL_USE	0x08u
/* Return options (... RETURN (...)). */
#define IMAP_LR_SUBSCRIBED	0x01u
#define IMAP_LR_CHILDREN	0x02u
#define IMAP_LR_SPECIAL_USE	0x04u
#define IMAP_LR_STATUS		0x08u

#define IMAP_LIST_PATTERNS_MAX	16	/* patterns in one LIST */

struct imap_list_args {
	unsigned		 sel;		/* IMAP_LS_* */
	unsigned		 ret;		/* IMAP_LR_* */
	unsigned		 status;	/* IMAP_SA_*: RETURN STATUS */
	int			 extended;	/* any RFC 5258 syntax */
	const struct imap_arg	*ref;
	unsigned		 npat;
	const struct imap_arg	*pat[IMAP_LIST_PATTERNS_MAX];
};

/*
 * LIST [(selection-options)] reference (pattern | (patterns))
 * [RETURN (return-options)]. Unknown options are BAD (RFC 5258 3);
 * RECURSIVEMATCH needs another selection option; the reference and
 * the patterns are astrings or patterns with % and *.
 */
enum imap_perr	imap_list_parse(const struct imap_cmd *,
		    struct imap_list_args *);

/* --- APPEND (RFC 3501 6.3.11, MULTIAPPEND RFC 3502) -------------- */

/*
 * APPEND's message literals are streamed to the store, never kept, so
 * the session parses each message's arguments when its literal is
 * announced: the command text kept so far, up to the '{' of the
 * literal, with that '{' replaced by an atom of the session's own
 * (a marker), i.e.  mailbox [flag-list] [date-time] marker.  A text of
 * the marker alone means the literal announced is the mailbox name
 * itself (mailbox is then NULL). Flags as in STORE (\Recent
 * refused); the date-time is RFC 3501's "dd-Mon-yyyy hh:mm:ss +zzzz"
 * (day may be " d"), any other is IMAP_PE_DATE, as is the epoch or
 * a date before it (a file's mtime holds the INTERNALDATE, 0 = now).
 */
struct imap_append_args {
	const struct imap_arg	*mailbox;	/* NULL: see above */
	struct imap_store	 fl;		/* flags, keywords */
	int64_t			 date;		/* seconds since the
						 * epoch, UTC; -1: none
						 * (one before 1970 is
						 * IMAP_PE_DATE) */
};

enum imap_perr	imap_append_parse(const struct imap_cmd *,
		    struct imap_append_args *);

/* --- SEARCH (RFC 3501 6.4.4) -------------------------------------- */

enum imap_skey {
	IMAP_SK_AND,		/* "(...)" and the program itself */
	IMAP_SK_SEQSET,		/* a bare sequence set: str */
	IMAP_SK_ALL, IMAP_SK_ANSWERED, IMAP_SK_BCC, IMAP_SK_BEFORE,
	IMAP_SK_BODY, IMAP_SK_CC, IMAP_SK_DELETED, IMAP_SK_DRAFT,
	IMAP_SK_FLAGGED, IMAP_SK_FROM, IMAP_SK_HEADER, IMAP_SK_KEYWORD,
	IMAP_SK_LARGER, IMAP_SK_NEW, IMAP_SK_NOT, IMAP_SK_OLD,
	IMAP_SK_ON, IMAP_SK_OR, IMAP_SK_RECENT, IMAP_SK_SEEN,
	IMAP_SK_SENTBEFORE, IMAP_SK_SENTON, IMAP_SK_SENTSINCE,
	IMAP_SK_SINCE, IMAP_SK_SMALLER, IMAP_SK_SUBJECT, IMAP_SK_TEXT,
	IMAP_SK_TO, IMAP_SK_UID, IMAP_SK_UNANSWERED, IMAP_SK_UNDELETED,
	IMAP_SK_UNDRAFT, IMAP_SK_UNFLAGGED, IMAP_SK_UNKEYWORD,
	IMAP_SK_UNSEEN,
	IMAP_SK_MODSEQ		/* RFC 7162 3.1.5: str, the value */
};

/*
 * A search program, in prefix order. Node 0 is an AND of the whole
 * program. Each node's next is the index just past it and its
 * operands:
 *
 *   SEARCH OR FROM a (SEEN NOT DRAFT) 1:5
 *
 *   i  key     next  operands
 *   0  AND     8     children 1, 7
 *   1  OR      7     2 and node[2].next = 3
 *   2  FROM    3     str -> "a"
 *   3  AND     7     children 4, 5
 *   4  SEEN    5
 *   5  NOT     7     6
 *   6  DRAFT   7
 *   7  SEQSET  8     str -> "1:5"
 *
 * AND: the children are i + 1, then j = node[j].next while
 * j < node[i].next. NOT: i + 1. OR: i + 1 and node[i + 1].next.
 * The depth is at most IMAP_SEARCH_KEYS_MAX, so a recursive walk is
 * bounded.
 */
struct imap_search_node {
	uint8_t			 key;	/* enum imap_skey */
	uint16_t		 next;
	uint32_t		 num;	/* LARGER, SMALLER: octets */
	int32_t			 days;	/* dates: days since 1970-01-01 */
	const struct imap_arg	*str;	/* BCC BODY CC FROM SUBJECT TEXT
					 * TO: the string; HEADER: the
					 * field name; KEYWORD UNKEYWORD:
					 * the atom; SEQSET UID: the set;
					 * MODSEQ: the value */
	const struct imap_arg	*str2;	/* HEADER: the value */
};

struct imap_search {
	int			utf8;	/* CHARSET UTF-8 was given */
	unsigned		n;
	struct imap_search_node	node[IMAP_SEARCH_KEYS_MAX];
};

/*
 * The program of a parsed SEARCH (all args), after an optional
 * CHARSET US-ASCII or UTF-8 (any other: IMAP_PE_BADCHARSET). Dates
 * are d-Mon-yyyy, quoted or not, and must exist (31-Feb-2024 is
 * refused). Strings are imap_args: get them with imap_arg_str. The
 * result points into cmd, which must outlive it.
 */
enum imap_perr	imap_search_parse(const struct imap_cmd *,
		    struct imap_search *);
/* The same from the top-level argument at index first (SORT, THREAD
 * and SEARCH RETURN have their own arguments before the program). */
enum imap_perr	imap_search_parse_at(const struct imap_cmd *, size_t first,
		    struct imap_search *);

/* --- output ------------------------------------------------------- */

/* Writes s[0..len) as an IMAP string: quoted ("..." with \ before
 * '"' and '\') when it has only 7-bit bytes and no CR, LF or NUL,
 * else as a literal {len}\r\n followed by the bytes (a NUL there
 * would need literal8; callers keep NULs out). Returns the length it
 * needs; writes only when that fits in cap (no NUL added). */
size_t	imap_astring_fmt(char *buf, size_t cap, const char *s, size_t len);

/* The same for an nstring: NIL when s is NULL. */
size_t	imap_nstring_fmt(char *buf, size_t cap, const char *s, size_t len);

#endif
