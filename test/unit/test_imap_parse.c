/* SPDX-License-Identifier: ISC */
/*
 * test_imap_parse.c - the sans-I/O IMAP parser (imap/imap_parse.h):
 * framing of lines and literals (imap_frame; RFC 3501 2.2, 7.5, RFC
 * 7888), commands and their argument tree (imap_cmd_parse; RFC 3501
 * 9), sequence sets, FETCH items and body sections, STORE flags,
 * LIST options (RFC 5258, 5819, 6154) and STATUS items, APPEND's
 * per-message arguments and date-times, commands refused at a
 * literal (imap_framer_void), SEARCH programs and dates, and string
 * output.
 *
 * Each table row is one input with a one-line description and what it
 * must give: the framing events, the parsed tree, the error and its
 * exact reply text. At least half of every table is bad or hostile
 * input. Inputs are copied to heap blocks of exactly their length, so
 * that ASan catches a read past the end. Every framing case is fed
 * whole, byte by byte and split at every point, and must give the same
 * events each way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "imap/imap_parse.h"
#include "testutil.h"

/* ---------------------------------------------------------------- */
/* imap_frame: the input is fed in chunks of `chunk` bytes (each in an
 * exact heap copy) as a session would, appending kept bytes to a
 * command buffer. The trace has one item per event:
 *   C{text}  a command (C#len when over 60 bytes)
 *   +n  Ln   a continuation request / accepted {n+} literal
 *   Dn       streamed literal bytes (stream cases), summed
 *   T B Y    too long, literal too big, {n+} too big (the end)  */

struct frame_case {
	const char	*desc;
	struct text	 in;
	size_t		 lit_max;
	int		 stream;	/* stream every literal */
	const char	*want;
};

#define PRE	IMAP_LITERAL_PRELOGIN_MAX

static const struct frame_case frame_cases[] = {
	{ "one CRLF command", T("a NOOP\r\n"), PRE, 0, "C{a NOOP\r\n}" },
	{ "bare LF ends a line", T("a NOOP\n"), PRE, 0, "C{a NOOP\n}" },
	{ "pipelined commands, last one partial",
	  T("a NOOP\r\nb CHECK\r\nc LOG"), PRE, 0,
	  "C{a NOOP\r\n}C{b CHECK\r\n}" },
	{ "synchronizing literal: + then the rest",
	  T("a LOGIN {5}\r\nalice \"x\"\r\n"), PRE, 0,
	  "+5C{a LOGIN {5}\r\nalice \"x\"\r\n}" },
	{ "literal with CRLF and braces inside kept verbatim",
	  T("a LOGIN {8}\r\n\r\n{3}\r\nx y\r\n"), PRE, 0,
	  "+8C{a LOGIN {8}\r\n\r\n{3}\r\nx y\r\n}" },
	{ "LITERAL+ {n+}: no continuation",
	  T("a LOGIN {5+}\r\nalice {1+}\nx\r\n"), PRE, 0,
	  "L5L1C{a LOGIN {5+}\r\nalice {1+}\nx\r\n}" },
	{ "{5} with fewer bytes: waits for the rest",
	  T("a LOGIN {5}\r\nabc"), PRE, 0, "+5" },
	{ "literal body ending in LF does not end the command",
	  T("a LOGIN {2}\r\n\r\n x\r\n"), PRE, 0,
	  "+2C{a LOGIN {2}\r\n\r\n x\r\n}" },
	{ "zero-length literal", T("a LOGIN {0}\r\n x\r\n"), PRE, 0,
	  "+0C{a LOGIN {0}\r\n x\r\n}" },
	{ "{5} inside a quoted string is text",
	  T("a LOGIN \"x {5}\r\n"), PRE, 0, "C{a LOGIN \"x {5}\r\n}" },
	{ "escaped quote does not end the string",
	  T("a LOGIN \"\\\" {5}\r\nb NOOP\r\n"), PRE, 0,
	  "C{a LOGIN \"\\\" {5}\r\n}C{b NOOP\r\n}" },
	{ "{5} then CR CR LF: not a literal header",
	  T("a LOGIN {5}\r\r\nb NOOP\n"), PRE, 0,
	  "C{a LOGIN {5}\r\r\n}C{b NOOP\n}" },
	{ "CR without LF stays in the line",
	  T("a NOOP\rb NOOP\r\n"), PRE, 0, "C{a NOOP\rb NOOP\r\n}" },
	{ "{} and {+} are not literals", T("a X {} {+}\r\n"), PRE, 0,
	  "C{a X {} {+}\r\n}" },
	{ "literal at exactly the limit", TF("a LOGIN {8192}\r\n", "x",
	  8192, " y\r\n"), PRE, 0, "+8192C#8212" },
	{ "sync literal one over the limit: BAD, never read",
	  T("a LOGIN {8193}\r\nb NOOP\r\n"), PRE, 0, "BC{b NOOP\r\n}" },
	{ "the limit after login", T("a LOGIN {8193}\r\n"),
	  IMAP_LITERAL_MAX, 0, "+8193" },
	{ "literals add up against the limit",
	  TF("a LOGIN {8000}\r\n", "x", 8000, " {193}\r\nb NOOP\n"),
	  PRE, 0, "+8000BC{b NOOP\n}" },
	{ "20-digit literal size overflows",
	  T("a LOGIN {99999999999999999999}\r\nb NOOP\r\n"),
	  IMAP_LITERAL_MAX, 0, "BC{b NOOP\r\n}" },
	{ "2^32 is too big whatever the limit",
	  T("a LOGIN {4294967296}\r\n"), SIZE_MAX, 0, "B" },
	{ "{n+} over the limit: BYE", T("a LOGIN {9000+}\r\nxxxx"), PRE,
	  0, "Y" },
	{ "8190 octets + CRLF: exactly IMAP_LINE_MAX",
	  TF("a X ", "x", 8186, "\r\nb NOOP\r\n"), PRE, 0,
	  "C#8192C{b NOOP\r\n}" },
	{ "8191 octets + CRLF: too long, next command kept",
	  TF("a X ", "x", 8187, "\r\nb NOOP\r\n"), PRE, 0,
	  "TC{b NOOP\r\n}" },
	{ "8191 octets + LF fits", TF("a X ", "x", 8187, "\n"), PRE, 0,
	  "C#8192" },
	{ "long line reported once, rest dropped",
	  TF("a X ", "x", 20000, "\r\nb NOOP\r\n"), PRE, 0,
	  "TC{b NOOP\r\n}" },
	{ "line limit counts every line of a command",
	  TF("a LOGIN {1}\r\nx ", "y", 8190, "\r\nb NOOP\r\n"), PRE, 0,
	  "+1TC{b NOOP\r\n}" },
	{ "long line ending in {n+}: its literal is skipped",
	  TF("a X ", "x", 9000, " {4+}\r\nb NOOP\r\nc NOOP\r\n"), PRE, 0,
	  "TC{c NOOP\r\n}" },
	{ "long line ending in a too big {n+}: BYE",
	  TF("a X ", "x", 9000, " {9000+}\r\n"), PRE, 0, "TY" },
	{ "long line ending in {n}: the client gives up",
	  TF("a X ", "x", 9000, " {4}\r\nb NOOP\r\n"), PRE, 0,
	  "TC{b NOOP\r\n}" },
	{ "empty lines are commands (parsed as empty)",
	  T("\r\n\n"), PRE, 0, "C{\r\n}C{\n}" },
	{ "NUL bytes are framed (the parser refuses them)",
	  TF("a N", "", 1, "OOP\r\n"), PRE, 0, "C#9" },
	{ "streamed literal is handed out, not kept",
	  T("a APPEND x {5}\r\nhello\r\nb NOOP\r\n"), PRE, 1,
	  "+5D5C{a APPEND x {5}\r\n\r\n}C{b NOOP\r\n}" },
	{ "streamed {n+} literal", T("a APPEND x {3+}\r\nabc\r\n"), PRE,
	  1, "L3D3C{a APPEND x {3+}\r\n\r\n}" },
};

/* Runs one framing, chunk bytes at a time (split: first chunk split,
 * then the rest), into tr. */
static void
frame_run(const struct frame_case *c, const char *in, size_t len,
    size_t chunk, size_t split, char *tr)
{
	static char cmd[IMAP_LINE_MAX + IMAP_LITERAL_MAX + 16];
	struct imap_framer fr;
	size_t have = 0, off = 0, data = 0;

	tr[0] = '\0';
	imap_framer_init(&fr);
	while (off < len) {
		size_t n = split > 0 && off < split ? split - off : chunk;
		char *p, *copy;

		if (n > len - off) {
			n = len - off;
		}
		p = copy = dup_exact(in + off, n);
		while (n > 0) {
			size_t used, keep;
			enum imap_fr_ev ev;

			ev = imap_frame(&fr, p, n, c->lit_max, &used, &keep);
			if (ev != IMAP_FR_LIT_DATA && ev != IMAP_FR_NEED &&
			    data > 0) {
				trace_add(tr, "D%zu", data);
				data = 0;
			}
			assert_true(keep <= used && used <= n);
			assert_true(used > 0 || ev != IMAP_FR_NEED);
			assert_true(have + keep <= sizeof cmd);
			memcpy(cmd + have, p, keep);
			have += keep;
			assert_true(have <= IMAP_LINE_MAX + c->lit_max ||
			    c->lit_max == SIZE_MAX);
			switch (ev) {
			case IMAP_FR_NEED:
				break;
			case IMAP_FR_CMD:
				assert_int_equal(fr.cmd_len, have);
				if (have <= 60 &&
				    memchr(cmd, '\0', have) == NULL) {
					trace_add(tr, "C{%.*s}", (int)have,
					    cmd);
				} else {
					trace_add(tr, "C#%zu", have);
				}
				have = 0;
				break;
			case IMAP_FR_CONT:
			case IMAP_FR_LITERAL:
				trace_add(tr, "%c%llu",
				    ev == IMAP_FR_CONT ? '+' : 'L',
				    (unsigned long long)fr.lit_size);
				if (c->stream) {
					imap_framer_stream(&fr);
				}
				break;
			case IMAP_FR_LIT_DATA:
				data += used;	/* chunking splits it */
				break;
			case IMAP_FR_TOO_LONG:
				trace_add(tr, "T");
				have = 0;
				break;
			case IMAP_FR_LIT_TOO_BIG:
				trace_add(tr, "B");
				have = 0;
				break;
			case IMAP_FR_LIT_PLUS_TOO_BIG:
				trace_add(tr, "Y");
				free(copy);
				return;
			}
			p += used;
			n -= used;
			off += used;
		}
		free(copy);
	}
}

static void
test_frame(void **state)
{
	static char tr[TRACE_MAX], tr2[TRACE_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof frame_cases / sizeof frame_cases[0];
	    i++) {
		const struct frame_case *c = &frame_cases[i];
		size_t len;
		char *in = build(&c->in, &len);

		frame_run(c, in, len, len > 0 ? len : 1, 0, tr);
		if (strcmp(tr, c->want) != 0) {
			fail_msg("%s: whole: got '%s' want '%s'", c->desc, tr,
			    c->want);
		}
		frame_run(c, in, len, 1, 0, tr2);
		if (strcmp(tr2, c->want) != 0) {
			fail_msg("%s: byte by byte: got '%s'", c->desc, tr2);
		}
		for (size_t s = 1; len < 200 && s < len; s++) {
			frame_run(c, in, len, len, s, tr2);
			if (strcmp(tr2, c->want) != 0) {
				fail_msg("%s: split at %zu: got '%s'",
				    c->desc, s, tr2);
			}
		}
		free(in);
	}
}

/* The tag of what a session kept, for the BAD of a void command. */
static void
test_tag_get(void **state)
{
	static const struct {
		const char	*buf;
		long		 want;	/* tag length, -1: untagged */
	} cases[] = {
		{ "a1 LOGIN xxxx", 2 }, { "a1\r\n", 2 }, { "abc", 3 },
		{ "", -1 }, { " a", -1 }, { "+ x", -1 }, { "a* x", -1 },
		{ "a(b x", -1 }, { "a%b x", -1 }, { "a\001 x", -1 },
		{ "a]b x", 3 },
	};
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *b = dup_exact(cases[i].buf, strlen(cases[i].buf));
		int rc = imap_tag_get(b, strlen(cases[i].buf), &n);

		if (cases[i].want < 0) {
			assert_int_equal(rc, -1);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(n, (size_t)cases[i].want);
		}
		free(b);
	}
}

/* ---------------------------------------------------------------- */
/* imap_cmd_parse: the tag, the command and the tree dumped as
 *   A:atom N:num NIL Q:value L:value S:section (children)
 * or the error text. */

struct cmd_case {
	const char		*desc;
	struct text		 in;
	const char		*err;	/* NULL: must parse */
	const char		*tag;	/* NULL: untagged (errors) */
	enum imap_cmd_name	 cmd;
	int			 uid;
	const char		*tree;
};

#define OK(d, s, t, c, tree)	{ (d), T(s), NULL, (t), (c), 0, (tree) }
#define OKU(d, s, t, c, tree)	{ (d), T(s), NULL, (t), (c), 1, (tree) }
#define ERR(d, s, e, t, c)	{ (d), T(s), (e), (t), (c), 0, NULL }
#define ERRF(d, in, e, t, c)	{ (d), in, (e), (t), (c), 0, NULL }

#define D9	"((((((((("
#define D8	"(((((((("
#define C8	"))))))))"

static const struct cmd_case cmd_cases[] = {
	OK("NOOP", "a1 NOOP\r\n", "a1", IMAP_CMD_NOOP, ""),
	OK("no line end", "a1 NOOP", "a1", IMAP_CMD_NOOP, ""),
	OK("bare LF", "a1 capability\n", "a1", IMAP_CMD_CAPABILITY, ""),
	OK("mixed case, tag with ']' and '.'", "x.]1 LoGoUt\r\n", "x.]1",
	    IMAP_CMD_LOGOUT, ""),
	OK("LOGIN atom and quoted with escapes",
	    "a LOGIN alice \"p\\\"w\\\\d\"\r\n", "a", IMAP_CMD_LOGIN,
	    "A:alice Q:p\"w\\d"),
	OK("LOGIN with literals", "a LOGIN {5}\r\nalice {3+}\r\n\x01\xff\"",
	    "a", IMAP_CMD_LOGIN, "L:alice L:\x01\xff\""),
	OK("LOGIN with an empty quoted password", "a LOGIN bob \"\"", "a",
	    IMAP_CMD_LOGIN, "A:bob Q:"),
	OK("UTF-8 in a quoted string", "a LOGIN \"j\xc3\xb6rg\" x", "a",
	    IMAP_CMD_LOGIN, "Q:j\xc3\xb6rg A:x"),
	OK("number and NIL", "a LOGIN 42 nil", "a", IMAP_CMD_LOGIN,
	    "N:42 NIL"),
	OK("2^32 is an atom, not a number", "a LOGIN 4294967296 x", "a",
	    IMAP_CMD_LOGIN, "A:4294967296 A:x"),
	OK("SELECT INBOX", "a SELECT INBOX", "a", IMAP_CMD_SELECT,
	    "A:INBOX"),
	OK("SELECT [Gmail]/Sent is an astring", "a SELECT [Gmail]/Sent",
	    "a", IMAP_CMD_SELECT, "A:[Gmail]/Sent"),
	OK("SELECT BODY[x is just an atom outside FETCH",
	    "a SELECT BODY[x", "a", IMAP_CMD_SELECT, "A:BODY[x"),
	OK("SELECT with CONDSTORE list", "a EXAMINE x (CONDSTORE)", "a",
	    IMAP_CMD_EXAMINE, "A:x (A:CONDSTORE)"),
	OK("LIST with a pattern", "a LIST \"\" %/*", "a", IMAP_CMD_LIST,
	    "Q: A:%/*"),
	OK("STATUS", "a STATUS INBOX (MESSAGES UIDNEXT)", "a",
	    IMAP_CMD_STATUS, "A:INBOX (A:MESSAGES A:UIDNEXT)"),
	OK("extra spaces are taken", "a  STATUS  x  ( MESSAGES  )  ", "a",
	    IMAP_CMD_STATUS, "A:x (A:MESSAGES)"),
	OK("FETCH with a section token", "a FETCH 1:4 (FLAGS "
	    "BODY.PEEK[HEADER.FIELDS (TO \"A)]\")]<0.10>)", "a",
	    IMAP_CMD_FETCH, "A:1:4 (A:FLAGS "
	    "S:BODY.PEEK[HEADER.FIELDS (TO \"A)]\")]<0.10>)"),
	OK("FETCH section with a literal field name",
	    "a FETCH 1 BODY[HEADER.FIELDS ({2}\r\nTO)]", "a",
	    IMAP_CMD_FETCH, "N:1 S:BODY[HEADER.FIELDS ({2}\r\nTO)]"),
	OK("FETCH BINARY tokens are sections (RFC 3516)",
	    "a FETCH 1 (binary[1] BINARY.PEEK[2]<0.5> BINARY.SIZE[3])",
	    "a", IMAP_CMD_FETCH, "N:1 (S:binary[1] S:BINARY.PEEK[2]<0.5> "
	    "S:BINARY.SIZE[3])"),
	OK("SELECT BINARY[x is just an atom outside FETCH",
	    "a SELECT BINARY[x", "a", IMAP_CMD_SELECT, "A:BINARY[x"),
	OKU("UID FETCH", "a uid fetch 1:* UID", "a", IMAP_CMD_FETCH,
	    "A:1:* A:UID"),
	OKU("UID EXPUNGE with a set", "a UID EXPUNGE 3,5", "a",
	    IMAP_CMD_EXPUNGE, "A:3,5"),
	OKU("UID STORE", "a UID STORE 1 +FLAGS (\\Seen $Junk)", "a",
	    IMAP_CMD_STORE, "N:1 A:+FLAGS (A:\\Seen A:$Junk)"),
	OKU("UID COPY / MOVE", "a UID MOVE 1:2 Trash", "a", IMAP_CMD_MOVE,
	    "A:1:2 A:Trash"),
	OKU("UID SEARCH", "a UID SEARCH UNSEEN", "a", IMAP_CMD_SEARCH,
	    "A:UNSEEN"),
	OK("nested lists to IMAP_DEPTH_MAX", "a ID " D8 C8, "a",
	    IMAP_CMD_ID, "(((((((())))))))"),
	OK("ID NIL", "a ID NIL", "a", IMAP_CMD_ID, "NIL"),
	OK("ID list", "a ID (\"name\" \"x\")", "a", IMAP_CMD_ID,
	    "(Q:name Q:x)"),
	OK("ENABLE", "a ENABLE CONDSTORE UTF8=ACCEPT", "a",
	    IMAP_CMD_ENABLE, "A:CONDSTORE A:UTF8=ACCEPT"),
	OK("AUTHENTICATE with initial response",
	    "a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==", "a",
	    IMAP_CMD_AUTHENTICATE, "A:PLAIN A:AGFsaWNlAHNlY3JldA=="),
	OK("APPEND with flags, date and literal",
	    "a APPEND x (\\Seen) \"1-Jan-2024 00:00:00 +0000\" {1}\r\nz",
	    "a", IMAP_CMD_APPEND,
	    "A:x (A:\\Seen) Q:1-Jan-2024 00:00:00 +0000 L:z"),
	OK("every other command name", "a UNSELECT", "a",
	    IMAP_CMD_UNSELECT, ""),
	OK("IDLE", "a idle", "a", IMAP_CMD_IDLE, ""),
	OK("NAMESPACE", "a Namespace", "a", IMAP_CMD_NAMESPACE, ""),
	OK("STARTTLS", "a STARTTLS", "a", IMAP_CMD_STARTTLS, ""),
	OK("RENAME", "a RENAME a b", "a", IMAP_CMD_RENAME, "A:a A:b"),
	OK("CREATE", "a CREATE x", "a", IMAP_CMD_CREATE, "A:x"),
	OK("DELETE", "a DELETE x", "a", IMAP_CMD_DELETE, "A:x"),
	OK("SUBSCRIBE", "a SUBSCRIBE x", "a", IMAP_CMD_SUBSCRIBE, "A:x"),
	OK("UNSUBSCRIBE", "a UNSUBSCRIBE x", "a", IMAP_CMD_UNSUBSCRIBE,
	    "A:x"),
	OK("LSUB", "a LSUB \"\" *", "a", IMAP_CMD_LSUB, "Q: A:*"),
	OK("CHECK CLOSE EXPUNGE", "a EXPUNGE", "a", IMAP_CMD_EXPUNGE, ""),
	OK("COPY", "a COPY 2:4 \"Sent Items\"", "a", IMAP_CMD_COPY,
	    "A:2:4 Q:Sent Items"),
	OK("a tag of IMAP_TAG_MAX", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaa NOOP", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", IMAP_CMD_NOOP, ""),

	/* hostile */
	ERR("empty command", "\r\n", "Empty command", NULL,
	    IMAP_CMD_UNKNOWN),
	ERR("nothing at all", "", "Empty command", NULL, IMAP_CMD_UNKNOWN),
	ERR("tag only", "a1\r\n", "Missing command", "a1",
	    IMAP_CMD_UNKNOWN),
	ERR("tag and space only", "a1 \r\n", "Missing command", "a1",
	    IMAP_CMD_UNKNOWN),
	ERR("tag with '+'", "a+1 NOOP", "Invalid tag", NULL,
	    IMAP_CMD_UNKNOWN),
	ERR("tag '+'", "+ NOOP", "Invalid tag", NULL, IMAP_CMD_UNKNOWN),
	ERR("tag with '*'", "* NOOP", "Invalid tag", NULL,
	    IMAP_CMD_UNKNOWN),
	ERR("tag with '('", "a(1 NOOP", "Invalid tag", NULL,
	    IMAP_CMD_UNKNOWN),
	ERR("tag with '%'", "a% NOOP", "Invalid tag", NULL,
	    IMAP_CMD_UNKNOWN),
	ERR("tag with a quote", "\"a\" NOOP", "Invalid tag", NULL,
	    IMAP_CMD_UNKNOWN),
	ERR("tag with a control character", "a\x01 NOOP", "Invalid tag",
	    NULL, IMAP_CMD_UNKNOWN),
	ERR("tag with 8-bit", "\xc3\xa9 NOOP", "Invalid tag", NULL,
	    IMAP_CMD_UNKNOWN),
	ERR("leading space", " a NOOP", "Invalid tag", NULL,
	    IMAP_CMD_UNKNOWN),
	ERR("tag over IMAP_TAG_MAX", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa NOOP", "Invalid tag", NULL,
	    IMAP_CMD_UNKNOWN),
	ERRF("NUL in the tag", TF("a", "", 1, " NOOP"), "Invalid tag", NULL,
	    IMAP_CMD_UNKNOWN),
	ERR("unknown command", "a FOO bar", "Unknown command", "a",
	    IMAP_CMD_UNKNOWN),
	ERR("command with 8-bit", "a NO\xc3\x90P", "Unknown command", "a",
	    IMAP_CMD_UNKNOWN),
	ERR("UID alone", "a UID", "Missing argument", "a",
	    IMAP_CMD_UNKNOWN),
	ERR("UID LOGIN", "a UID LOGIN a b", "Unknown UID command", "a",
	    IMAP_CMD_UNKNOWN),
	ERR("command glued to a list", "a STATUS(x)", "Missing space", "a",
	    IMAP_CMD_STATUS),
	ERRF("NUL in an argument", TF("a LOGIN a", "", 1, "b c"),
	    "NUL byte in command", "a", IMAP_CMD_LOGIN),
	ERRF("NUL in a quoted string", TF("a LOGIN \"a", "", 1, "\" c"),
	    "NUL byte in command", "a", IMAP_CMD_LOGIN),
	ERRF("NUL in a literal", TF("a LOGIN {3}\r\na", "", 1, "b c"),
	    "NUL byte in literal", "a", IMAP_CMD_LOGIN),
	ERR("8-bit in an atom", "a LOGIN j\xc3\xb6rg x",
	    "Invalid characters in atom", "a", IMAP_CMD_LOGIN),
	ERR("tab between arguments", "a LOGIN a\tb",
	    "Invalid characters in atom", "a", IMAP_CMD_LOGIN),
	ERR("DEL in an atom", "a LOGIN a\x7f x",
	    "Invalid characters in atom", "a", IMAP_CMD_LOGIN),
	ERR("backslash inside an atom", "a LOGIN a\\b x",
	    "Invalid characters in atom", "a", IMAP_CMD_LOGIN),
	ERR("lone backslash", "a STORE 1 FLAGS \\",
	    "Invalid characters in atom", "a", IMAP_CMD_STORE),
	ERR("CR without LF", "a LOGIN a\rb c", "CR without LF", "a",
	    IMAP_CMD_LOGIN),
	ERR("CR at the very end", "a NOOP\r", "CR without LF", "a",
	    IMAP_CMD_NOOP),
	ERR("two commands in one", "a NOOP\r\nb NOOP\r\n",
	    "Unexpected end of line", "a", IMAP_CMD_NOOP),
	ERR("line end inside an argument list", "a LOGIN a\nb",
	    "Unexpected end of line", "a", IMAP_CMD_LOGIN),
	ERR("unterminated quoted string", "a LOGIN \"abc\r\n",
	    "Unterminated quoted string", "a", IMAP_CMD_LOGIN),
	ERR("unterminated quoted string, no line end", "a LOGIN x \"abc",
	    "Unterminated quoted string", "a", IMAP_CMD_LOGIN),
	ERR("quoted string ending in a backslash", "a LOGIN x \"abc\\",
	    "Unterminated quoted string", "a", IMAP_CMD_LOGIN),
	ERR("bad escape in a quoted string", "a LOGIN \"a\\nb\" x",
	    "Invalid escape in quoted string", "a", IMAP_CMD_LOGIN),
	ERR("CR inside a quoted string", "a LOGIN \"a\rb\" x",
	    "CR without LF", "a", IMAP_CMD_LOGIN),
	ERR("{5} with fewer bytes", "a LOGIN {5}\r\nabc",
	    "Invalid literal", "a", IMAP_CMD_LOGIN),
	ERR("literal size overflow", "a LOGIN {99999999999999999999}\r\nx",
	    "Invalid literal", "a", IMAP_CMD_LOGIN),
	ERR("literal without digits", "a LOGIN {}\r\nx y",
	    "Invalid literal", "a", IMAP_CMD_LOGIN),
	ERR("literal header not at a line end", "a LOGIN {1}x y",
	    "Invalid literal", "a", IMAP_CMD_LOGIN),
	ERR("literal glued to an atom", "a LOGIN x{1}\r\ny z",
	    "Missing space", "a", IMAP_CMD_LOGIN),
	ERR("quoted glued to an atom", "a LOGIN \"x\"y z", "Missing space",
	    "a", IMAP_CMD_LOGIN),
	ERR("lists glued together", "a ID (a)(b)", "Missing space", "a",
	    IMAP_CMD_ID),
	ERR("unbalanced '('", "a STATUS x (MESSAGES", "Missing ')'", "a",
	    IMAP_CMD_STATUS),
	ERR("unbalanced ')'", "a STATUS x MESSAGES)", "Unexpected ')'",
	    "a", IMAP_CMD_STATUS),
	ERR("')' first", "a ID )", "Unexpected ')'", "a", IMAP_CMD_ID),
	ERR("nesting over IMAP_DEPTH_MAX", "a ID " D9 ")" C8,
	    "Nesting too deep", "a", IMAP_CMD_ID),
	ERRF("more than IMAP_ARGS_MAX arguments", TF("a ENABLE", " x", 257,
	    NULL), "Too many arguments", "a", IMAP_CMD_ENABLE),
	ERR("NOOP with an argument", "a NOOP x", "Too many arguments", "a",
	    IMAP_CMD_NOOP),
	ERR("LOGIN with one argument", "a LOGIN alice", "Missing argument",
	    "a", IMAP_CMD_LOGIN),
	ERR("LOGIN with three", "a LOGIN a b c", "Too many arguments", "a",
	    IMAP_CMD_LOGIN),
	ERR("LOGIN with a list", "a LOGIN (a) b", "Invalid argument", "a",
	    IMAP_CMD_LOGIN),
	ERR("SELECT a pattern", "a SELECT INBOX*", "Invalid argument", "a",
	    IMAP_CMD_SELECT),
	ERR("SELECT a flag", "a SELECT \\Seen", "Invalid argument", "a",
	    IMAP_CMD_SELECT),
	ERR("STATUS without a list", "a STATUS x MESSAGES",
	    "Invalid argument", "a", IMAP_CMD_STATUS),
	ERR("seqset 0", "a FETCH 0 FLAGS", "Invalid sequence set", "a",
	    IMAP_CMD_FETCH),
	ERR("seqset 1:", "a FETCH 1: FLAGS", "Invalid sequence set", "a",
	    IMAP_CMD_FETCH),
	ERR("seqset :5", "a COPY :5 x", "Invalid sequence set", "a",
	    IMAP_CMD_COPY),
	ERR("seqset 1,,2", "a STORE 1,,2 FLAGS x", "Invalid sequence set",
	    "a", IMAP_CMD_STORE),
	ERR("seqset quoted", "a FETCH \"1\" FLAGS", "Invalid sequence set",
	    "a", IMAP_CMD_FETCH),
	ERR("UID EXPUNGE without a set", "a UID EXPUNGE",
	    "Missing argument", "a", IMAP_CMD_EXPUNGE),
	ERR("FETCH BODY[1.MIME unterminated", "a FETCH 1 BODY[1.MIME",
	    "Missing ']'", "a", IMAP_CMD_FETCH),
	ERR("FETCH BINARY[1 unterminated", "a FETCH 1 (BINARY[1 FLAGS)",
	    "Missing ']'", "a", IMAP_CMD_FETCH),
	ERR("FETCH BINARY.SIZE[ with a CR", "a FETCH 1 BINARY.SIZE[1\r]",
	    "Missing ']'", "a", IMAP_CMD_FETCH),
	ERR("FETCH BINARY.PEEK section with 8-bit",
	    "a FETCH 1 BINARY.PEEK[\x80]", "Invalid section", "a",
	    IMAP_CMD_FETCH),
	ERR("FETCH section with 8-bit", "a FETCH 1 BODY[\xff]",
	    "Invalid section", "a", IMAP_CMD_FETCH),
	ERR("FETCH section with an unterminated string",
	    "a FETCH 1 BODY[HEADER.FIELDS (\"x)]", "Unterminated quoted "
	    "string", "a", IMAP_CMD_FETCH),
	ERR("FETCH without items", "a FETCH 1", "Missing argument", "a",
	    IMAP_CMD_FETCH),
};

static size_t
dump_tree(const struct imap_cmd *c, size_t from, size_t to, char *out,
    size_t cap)
{
	size_t n = 0;
	char val[IMAP_LITERAL_MAX];

	for (size_t j = from; j < to; j = c->args[j].next) {
		const struct imap_arg *a = &c->args[j];
		size_t vlen = 0;

		assert_true(a->next > j && a->next <= to);
		if (n > 0) {
			n += (size_t)snprintf(out + n, cap - n, " ");
		}
		switch (a->type) {
		case IMAP_ARG_LIST: {
			size_t kids = 0;

			for (size_t k = j + 1; k < a->next;
			    k = c->args[k].next) {
				kids++;
			}
			assert_int_equal(kids, a->nchild);
			assert_true(a->p[0] == '(' && a->p[a->len - 1] == ')');
			n += (size_t)snprintf(out + n, cap - n, "(");
			n += dump_tree(c, j + 1, a->next, out + n, cap - n);
			n += (size_t)snprintf(out + n, cap - n, ")");
			break;
		}
		case IMAP_ARG_SECTION:
			n += (size_t)snprintf(out + n, cap - n, "S:%.*s",
			    (int)a->len, a->p);
			break;
		default:
			assert_int_equal(imap_arg_str(a, val, sizeof val,
			    &vlen), 0);
			if (a->type == IMAP_ARG_NIL) {
				n += (size_t)snprintf(out + n, cap - n, "NIL");
				break;
			}
			n += (size_t)snprintf(out + n, cap - n, "%c:%.*s",
			    a->type == IMAP_ARG_ATOM ? 'A' :
			    a->type == IMAP_ARG_NUMBER ? 'N' :
			    a->type == IMAP_ARG_QUOTED ? 'Q' : 'L',
			    (int)vlen, val);
			break;
		}
	}
	return n;
}

static struct imap_cmd cmd;

/* Checks the result e of a parse against the error text a case wants
 * (NULL: none); returns 1 when the case wants an error, so that its
 * loop goes on to the next case. */
static int
check_perr(const char *desc, enum imap_perr e, const char *err)
{
	if (err != NULL) {
		if (e == IMAP_PE_OK || strcmp(imap_strerror(e), err) != 0) {
			fail_msg("%s: got '%s' want '%s'", desc,
			    imap_strerror(e), err);
		}
		return 1;
	}
	if (e != IMAP_PE_OK) {
		fail_msg("%s: %s", desc, imap_strerror(e));
	}
	return 0;
}

static void
test_cmd_parse(void **state)
{
	static char tree[8192];

	(void)state;
	for (size_t i = 0; i < sizeof cmd_cases / sizeof cmd_cases[0];
	    i++) {
		const struct cmd_case *c = &cmd_cases[i];
		size_t len;
		char *in = build(&c->in, &len);
		enum imap_perr e = imap_cmd_parse(in, len, &cmd);

		(void)check_perr(c->desc, e, c->err);
		if (c->tag == NULL) {
			assert_int_equal(cmd.tag_len, 0);
		} else if (cmd.tag_len != strlen(c->tag) ||
		    memcmp(cmd.tag, c->tag, cmd.tag_len) != 0) {
			fail_msg("%s: wrong tag", c->desc);
		}
		if (cmd.cmd != c->cmd || (c->err == NULL &&
		    cmd.uid != c->uid)) {
			fail_msg("%s: command %d uid %d", c->desc,
			    (int)cmd.cmd, cmd.uid);
		}
		if (c->err == NULL) {
			tree[0] = '\0';
			dump_tree(&cmd, 0, cmd.nargs, tree, sizeof tree);
			if (strcmp(tree, c->tree) != 0) {
				fail_msg("%s: tree '%s' want '%s'", c->desc,
				    tree, c->tree);
			}
		}
		free(in);
	}
}

/* Many arguments and a long UID set, as iOS sends. */
static void
test_cmd_bounds(void **state)
{
	static char buf[IMAP_LINE_MAX];
	size_t n = 0;
	struct imap_seqset_iter it;
	uint32_t lo, hi, count = 0;

	(void)state;
	n += (size_t)snprintf(buf, sizeof buf, "a UID FETCH ");
	for (uint32_t u = 1; n < IMAP_LINE_MAX - 40; u += 3) {
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%u:%u,",
		    u + 1, u);
	}
	n += (size_t)snprintf(buf + n, sizeof buf - n, "* FLAGS\r\n");
	assert_int_equal(imap_cmd_parse(buf, n, &cmd), IMAP_PE_OK);
	imap_seqset_begin(&it, cmd.args[0].p, cmd.args[0].len, 7);
	while (imap_seqset_next(&it, &lo, &hi) == 1) {
		if (lo == 7 && hi == 7) {
			break;
		}
		assert_int_equal(lo, 1 + 3 * count);
		assert_int_equal(hi, lo + 1);
		count++;
	}
	assert_true(count > 800);

	n = (size_t)snprintf(buf, sizeof buf, "a ENABLE");
	for (int i = 0; i < IMAP_ARGS_MAX; i++) {
		n += (size_t)snprintf(buf + n, sizeof buf - n, " x");
	}
	assert_int_equal(imap_cmd_parse(buf, n, &cmd), IMAP_PE_OK);
	assert_int_equal(cmd.nargs, IMAP_ARGS_MAX);
}

/* ---------------------------------------------------------------- */

static void
test_seqset(void **state)
{
	static const struct {
		const char	*set;
		uint32_t	 star;
		const char	*want;	/* NULL: invalid */
	} cases[] = {
		{ "1", 10, "1-1" },
		{ "1:5", 10, "1-5" },
		{ "5:2", 10, "2-5" },
		{ "*", 10, "10-10" },
		{ "*:*", 10, "10-10" },
		{ "3:*", 10, "3-10" },
		{ "*:3", 10, "3-10" },
		{ "20:*", 10, "10-20" },
		{ "1,3:4,7", 10, "1-1,3-4,7-7" },
		{ "4294967295", 1, "4294967295-4294967295" },
		{ "1:4294967295", 1, "1-4294967295" },
		{ "*", 0, "0-0" },
		{ "", 1, NULL },
		{ "0", 1, NULL },
		{ "0:3", 1, NULL },
		{ "1:0", 1, NULL },
		{ "01", 1, NULL },
		{ "1:", 1, NULL },
		{ ":5", 1, NULL },
		{ "1,,2", 1, NULL },
		{ "1,", 1, NULL },
		{ ",1", 1, NULL },
		{ "1::2", 1, NULL },
		{ "1:2:3", 1, NULL },
		{ "4294967296", 1, NULL },
		{ "99999999999", 1, NULL },
		{ "1 ", 1, NULL },
		{ "$,1", 1, NULL },
		{ "$:3", 1, NULL },
		{ "$$", 1, NULL },
		{ "**", 1, NULL },
		{ "-1", 1, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *s = cases[i].set;
		char *p = dup_exact(s, strlen(s));
		char got[256] = "";
		struct imap_seqset_iter it;
		uint32_t lo, hi;
		int rc, valid = imap_seqset_valid(p, strlen(s));

		imap_seqset_begin(&it, p, strlen(s), cases[i].star);
		while ((rc = imap_seqset_next(&it, &lo, &hi)) == 1) {
			assert_true(lo <= hi);
			snprintf(got + strlen(got), sizeof got - strlen(got),
			    "%s%u-%u", got[0] ? "," : "", lo, hi);
		}
		if (cases[i].want == NULL) {
			if (valid != -1) {
				fail_msg("'%s' should be invalid", s);
			}
		} else if (valid != 0 || rc != 0 ||
		    strcmp(got, cases[i].want) != 0) {
			fail_msg("'%s': got '%s' rc %d", s, got, rc);
		}
		free(p);
	}
	/* RFC 5182: "$" alone is valid (the session puts the saved UID
	 * set in its place before a command runs), and no walk takes it. */
	{
		struct imap_seqset_iter it;
		uint32_t lo, hi;

		assert_int_equal(imap_seqset_valid("$", 1), 0);
		imap_seqset_begin(&it, "$", 1, 5);
		assert_int_equal(imap_seqset_next(&it, &lo, &hi), -1);
	}
}

/* ---------------------------------------------------------------- */
/* FETCH: items as a mask, and each body section as its canonical name
 * with " peek" for BODY.PEEK; or the error. */

struct fetch_case {
	const char	*desc;
	const char	*in;
	const char	*err;
	unsigned	 items;
	int		 seen;
	const char	*bodies;
};

#define F_FAST	(IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | \
		 IMAP_FETCH_RFC822_SIZE)
#define F_ALL	(F_FAST | IMAP_FETCH_ENVELOPE)
#define FOK(d, s, it, seen, b)	{ (d), (s), NULL, (it), (seen), (b) }
#define FERR(d, s, e)			{ (d), (s), (e), 0, 0, NULL }

static const struct fetch_case fetch_cases[] = {
	FOK("single atom", "a FETCH 1 FLAGS", IMAP_FETCH_FLAGS, 0, ""),
	FOK("ALL", "a FETCH 1:* all", F_ALL, 0, ""),
	FOK("FAST", "a FETCH 1 FAST", F_FAST, 0, ""),
	FOK("MODSEQ (RFC 7162 3.1.4)", "a FETCH 1 (FLAGS MODSEQ)",
	    IMAP_FETCH_FLAGS | IMAP_FETCH_MODSEQ, 0, ""),
	FOK("CHANGEDSINCE modifier", "a FETCH 1:* (FLAGS) (CHANGEDSINCE 12)",
	    IMAP_FETCH_FLAGS, 0, ""),
	FOK("CHANGEDSINCE and VANISHED in UID FETCH",
	    "a UID FETCH 1:* FLAGS (VANISHED CHANGEDSINCE 12)",
	    IMAP_FETCH_FLAGS, 0, ""),
	FERR("VANISHED without CHANGEDSINCE",
	    "a UID FETCH 1:* FLAGS (VANISHED)", "Invalid argument"),
	FERR("VANISHED in a FETCH by sequence numbers",
	    "a FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)", "Invalid argument"),
	FERR("CHANGEDSINCE 0", "a FETCH 1 FLAGS (CHANGEDSINCE 0)",
	    "Invalid argument"),
	FERR("CHANGEDSINCE without a value", "a FETCH 1 FLAGS (CHANGEDSINCE)",
	    "Invalid argument"),
	FERR("CHANGEDSINCE past 2^63 - 1",
	    "a FETCH 1 FLAGS (CHANGEDSINCE 99999999999999999999)",
	    "Invalid argument"),
	FERR("unknown modifier", "a FETCH 1 FLAGS (FOO 1)",
	    "Invalid argument"),
	FERR("VANISHED twice without CHANGEDSINCE",
	    "a UID FETCH 1 FLAGS (VANISHED VANISHED)", "Invalid argument"),
	FOK("FULL", "a FETCH 1 FULL", F_ALL | IMAP_FETCH_BODY, 0, ""),
	FOK("every atom", "a FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE "
	    "ENVELOPE BODY BODYSTRUCTURE UID RFC822 RFC822.HEADER "
	    "RFC822.TEXT)", 0x3ffu, 1, ""),
	FOK("RFC822.HEADER does not set \\Seen",
	    "a FETCH 1 (UID RFC822.HEADER)",
	    IMAP_FETCH_UID | IMAP_FETCH_RFC822_HEADER, 0, ""),
	FOK("BODY[]", "a FETCH 1 BODY[]", 0, 1, "BODY[]"),
	FOK("BODY.PEEK[] in lower case", "a FETCH 1 body.peek[]", 0, 0,
	    "BODY[] peek"),
	FOK("parts and MIME", "a FETCH 1 (BODY[1.2.3] BODY.PEEK[2.MIME])",
	    0, 1, "BODY[1.2.3] BODY[2.MIME] peek"),
	FOK("HEADER and TEXT", "a FETCH 1 (BODY.PEEK[header] "
	    "BODY.PEEK[1.TEXT] BODY.PEEK[3.HEADER])", 0, 0,
	    "BODY[HEADER] peek BODY[1.TEXT] peek BODY[3.HEADER] peek"),
	FOK("HEADER.FIELDS, canonical upper case",
	    "a FETCH 1 BODY.PEEK[header.fields (From to \"X-A\" {4}\r\n"
	    "x(y))]", 0, 0,
	    "BODY[HEADER.FIELDS (FROM TO X-A \"X(Y)\")] peek"),
	FOK("HEADER.FIELDS.NOT after a part",
	    "a FETCH 1 BODY[1.HEADER.FIELDS.NOT (Received)]", 0, 1,
	    "BODY[1.HEADER.FIELDS.NOT (RECEIVED)]"),
	FOK("partial", "a FETCH 1 BODY.PEEK[TEXT]<0.2048>", 0, 0,
	    "BODY[TEXT]<0> peek"),
	FOK("partial at 2^32 - 1",
	    "a FETCH 1 BODY[]<4294967295.4294967295>", 0, 1,
	    "BODY[]<4294967295>"),
	FOK("part numbers to IMAP_SECTION_DEPTH_MAX",
	    "a FETCH 1 BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16]", 0, 1,
	    "BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16]"),
	FERR("unknown atom", "a FETCH 1 FOO", "Invalid FETCH attribute"),
	FERR("macro in a list", "a FETCH 1 (ALL)",
	    "Invalid FETCH attribute"),
	FERR("empty list", "a FETCH 1 ()", "Missing argument"),
	FERR("nested list", "a FETCH 1 ((FLAGS))",
	    "Invalid FETCH attribute"),
	FERR("quoted item", "a FETCH 1 \"FLAGS\"",
	    "Invalid FETCH attribute"),
	FERR("BODY.PEEK without a section", "a FETCH 1 BODY.PEEK",
	    "Invalid FETCH attribute"),
	FOK("BINARY[] sets \\Seen (RFC 3516 4.1)", "a FETCH 1 BINARY[]",
	    0, 1, "BINARY[]"),
	FOK("BINARY.PEEK of a part, with a partial",
	    "a FETCH 1 binary.peek[1.2]<10.20>", 0, 0, "BINARY[1.2]<10> peek"),
	FOK("BINARY.SIZE never sets \\Seen (RFC 3516 4.2)",
	    "a FETCH 1 (BINARY.SIZE[3] FLAGS)", IMAP_FETCH_FLAGS, 0,
	    "BINARY.SIZE[3] peek"),
	FOK("BINARY and BODY together", "a FETCH 1 (BINARY[2] BODY[2])",
	    0, 1, "BINARY[2] BODY[2]"),
	FERR("BINARY without a section", "a FETCH 1 BINARY",
	    "Invalid FETCH attribute"),
	FERR("BINARY.SIZE without a section", "a FETCH 1 BINARY.SIZE",
	    "Invalid FETCH attribute"),
	FERR("BINARY.FOO[1] is one atom", "a FETCH 1 BINARY.FOO[1]",
	    "Invalid FETCH attribute"),
	FERR("BINARY[HEADER]: numbers only", "a FETCH 1 BINARY[HEADER]",
	    "Invalid section"),
	FERR("BINARY[1.TEXT]", "a FETCH 1 BINARY[1.TEXT]",
	    "Invalid section"),
	FERR("BINARY[1.MIME]", "a FETCH 1 BINARY.PEEK[1.MIME]",
	    "Invalid section"),
	FERR("BINARY[HEADER.FIELDS (A)]",
	    "a FETCH 1 BINARY[HEADER.FIELDS (A)]", "Invalid section"),
	FERR("BINARY[0]", "a FETCH 1 BINARY[0]", "Invalid section"),
	FERR("BINARY[1.]", "a FETCH 1 BINARY[1.]", "Invalid section"),
	FERR("BINARY.SIZE with a partial", "a FETCH 1 BINARY.SIZE[1]<0.5>",
	    "Invalid partial"),
	FERR("BINARY partial without count", "a FETCH 1 BINARY[1]<5>",
	    "Invalid partial"),
	FERR("BINARY section with a space", "a FETCH 1 (BINARY[1 FLAGS])",
	    "Invalid section"),
	FERR("BODY[0]", "a FETCH 1 BODY[0]", "Invalid section"),
	FERR("BODY[1.0]", "a FETCH 1 BODY[1.0]", "Invalid section"),
	FERR("BODY[01]", "a FETCH 1 BODY[01]", "Invalid section"),
	FERR("BODY[1.]", "a FETCH 1 BODY[1.]", "Invalid section"),
	FERR("BODY[.1]", "a FETCH 1 BODY[.1]", "Invalid section"),
	FERR("BODY[1..2]", "a FETCH 1 BODY[1..2]", "Invalid section"),
	FERR("part number overflow", "a FETCH 1 BODY[4294967296]",
	    "Invalid section"),
	FERR("BODY[MIME] without a part", "a FETCH 1 BODY[MIME]",
	    "Invalid section"),
	FERR("unknown section text", "a FETCH 1 BODY[FOO]",
	    "Invalid section"),
	FERR("HEADER.FIELDS without a list", "a FETCH 1 BODY[HEADER.FIELDS]",
	    "Invalid section"),
	FERR("HEADER.FIELDS with an empty list",
	    "a FETCH 1 BODY[HEADER.FIELDS ()]", "Invalid section"),
	FERR("HEADER.FIELDS list unclosed",
	    "a FETCH 1 BODY[HEADER.FIELDS (A]", "Invalid section"),
	FERR("field name with a colon", "a FETCH 1 BODY[HEADER.FIELDS (A:)]",
	    "Invalid header field name"),
	FERR("field name with an escape",
	    "a FETCH 1 BODY[HEADER.FIELDS (\"a\\\\b\")]",
	    "Invalid header field name"),
	FERR("empty field name", "a FETCH 1 BODY[HEADER.FIELDS (\"\")]",
	    "Invalid header field name"),
	FERR("text after the section", "a FETCH 1 BODY[TEXT]x",
	    "Invalid partial"),
	FERR("part numbers over IMAP_SECTION_DEPTH_MAX",
	    "a FETCH 1 BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17]",
	    "Section nesting too deep"),
	FERR("partial with count 0", "a FETCH 1 BODY[]<5.0>",
	    "Invalid partial"),
	FERR("partial without count", "a FETCH 1 BODY[]<5>",
	    "Invalid partial"),
	FERR("partial overflow", "a FETCH 1 BODY[]<4294967296.1>",
	    "Invalid partial"),
	FERR("partial unclosed", "a FETCH 1 BODY[]<1.2",
	    "Invalid partial"),
	FERR("partial with junk", "a FETCH 1 BODY[]<1.2>x",
	    "Invalid partial"),
	FERR("more than IMAP_FETCH_ATTS_MAX sections",
	    "a FETCH 1 (BODY[1] BODY[1] BODY[1] BODY[1] BODY[1] BODY[1] "
	    "BODY[1] BODY[1] BODY[1] BODY[1] BODY[1] BODY[1] BODY[1] "
	    "BODY[1] BODY[1] BODY[1] BODY[1] BODY[1] BODY[1] BODY[1] "
	    "BODY[1] BODY[1] BODY[1] BODY[1] BODY[1] BODY[1] BODY[1] "
	    "BODY[1] BODY[1] BODY[1] BODY[1] BODY[1] BODY[1])",
	    "Too many FETCH attributes"),
	FERR("more than IMAP_HDR_FIELDS_MAX names",
	    "a FETCH 1 (BODY[HEADER.FIELDS (a b c d e f g h i j k l m n o p)]"
	    " BODY[HEADER.FIELDS (a b c d e f g h i j k l m n o p q)])",
	    "Too many header fields"),
};

static void
test_fetch(void **state)
{
	static struct imap_fetch f;
	char got[1024], name[256];

	(void)state;
	for (size_t i = 0; i < sizeof fetch_cases / sizeof fetch_cases[0];
	    i++) {
		const struct fetch_case *c = &fetch_cases[i];
		char *in = dup_exact(c->in, strlen(c->in));
		enum imap_perr e = imap_cmd_parse(in, strlen(c->in), &cmd);

		(void)check_perr(c->desc, e, NULL);
		e = imap_fetch_parse(&cmd, &f);
		if (check_perr(c->desc, e, c->err)) {
			free(in);
			continue;
		}
		got[0] = '\0';
		for (unsigned b = 0; b < f.nbody; b++) {
			size_t n = imap_fetch_body_fmt(&f, &f.body[b], name,
			    sizeof name);

			assert_true(n < sizeof name);
			/* too small a buffer: the same length */
			assert_int_equal(imap_fetch_body_fmt(&f, &f.body[b],
			    name, 3), n);
			snprintf(got + strlen(got), sizeof got - strlen(got),
			    "%s%.*s%s", b ? " " : "", (int)n, name,
			    f.body[b].peek ? " peek" : "");
		}
		if (f.items != c->items || f.seen != c->seen ||
		    strcmp(got, c->bodies) != 0) {
			fail_msg("%s: items %#x seen %d bodies '%s'",
			    c->desc, f.items, f.seen, got);
		}
		free(in);
	}
}

/* The fields of one section, and its spelling as sent. */
static void
test_fetch_section_fields(void **state)
{
	static struct imap_fetch f;
	const char *in = "a FETCH 1 BODY.PEEK[2.3.header.fields (a \"B-C\")]"
	    "<10.20>";
	const struct imap_fetch_body *b;

	(void)state;
	assert_int_equal(imap_cmd_parse(in, strlen(in), &cmd), IMAP_PE_OK);
	assert_int_equal(imap_fetch_parse(&cmd, &f), IMAP_PE_OK);
	assert_int_equal(f.nbody, 1);
	b = &f.body[0];
	assert_int_equal(b->nparts, 2);
	assert_int_equal(b->part[0], 2);
	assert_int_equal(b->part[1], 3);
	assert_int_equal(b->text, IMAP_SECT_HEADER_FIELDS);
	assert_int_equal(b->nfields, 2);
	assert_int_equal(f.field[b->field0].len, 1);
	assert_memory_equal(f.field[b->field0 + 1].p, "B-C", 3);
	assert_true(b->partial && b->start == 10 && b->count == 20);
	assert_int_equal(b->spec_len, strlen("2.3.header.fields (a \"B-C\")"));
	assert_memory_equal(b->spec, "2.3.header.fields (a \"B-C\")",
	    b->spec_len);
}

/* ---------------------------------------------------------------- */

struct store_case {
	const char		*desc;
	const char		*in;
	const char		*err;
	enum imap_store_op	 op;
	int			 silent;
	unsigned		 flags;
	const char		*kw;	/* space-separated */
};

#define SOK(d, s, op, sil, fl, kw)	{ (d), (s), NULL, (op), (sil), \
					  (fl), (kw) }
#define SERR(d, s, e)			{ (d), (s), (e), 0, 0, 0, NULL }

#define K10	" k0 k1 k2 k3 k4 k5 k6 k7 k8 k9"
#define K30	K10 K10 K10

static const struct store_case store_cases[] = {
	SOK("FLAGS list", "a STORE 1 FLAGS (\\Seen \\Deleted)",
	    IMAP_STORE_SET, 0, IMAP_FL_SEEN | IMAP_FL_DELETED, ""),
	SOK("+FLAGS.SILENT single flag", "a STORE 1:* +flags.silent \\seen",
	    IMAP_STORE_ADD, 1, IMAP_FL_SEEN, ""),
	SOK("-FLAGS several bare flags",
	    "a STORE 2 -FLAGS \\Answered \\Flagged \\Draft $Junk",
	    IMAP_STORE_REMOVE, 0,
	    IMAP_FL_ANSWERED | IMAP_FL_FLAGGED | IMAP_FL_DRAFT, "$Junk"),
	SOK("empty list clears", "a STORE 1 FLAGS ()", IMAP_STORE_SET, 0, 0,
	    ""),
	SOK("keywords kept once", "a STORE 1 +FLAGS (foo $Bar FOO NonJunk)",
	    IMAP_STORE_ADD, 0, 0, "foo $Bar NonJunk"),
	SOK("keyword of IMAP_KEYWORD_LEN_MAX",
	    "a STORE 1 +FLAGS kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkkkkkk", IMAP_STORE_ADD, 0, 0,
	    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkkkkkk"),
	SERR("\\Recent in a list", "a STORE 1 +FLAGS (\\Seen \\Recent)",
	    "Cannot set \\Recent"),
	SERR("\\Recent alone", "a STORE 1 FLAGS \\RECENT",
	    "Cannot set \\Recent"),
	SERR("unknown system flag", "a STORE 1 FLAGS \\Foo", "Invalid flag"),
	SERR("\\* is not a flag to store", "a STORE 1 FLAGS (\\*)",
	    "Invalid flag"),
	SERR("keyword with ']'", "a STORE 1 FLAGS a]b", "Invalid flag"),
	SERR("keyword with '%'", "a STORE 1 FLAGS a%", "Invalid flag"),
	SERR("quoted flag", "a STORE 1 FLAGS \"x\"", "Invalid flag"),
	SERR("nested list", "a STORE 1 FLAGS ((x))", "Invalid flag"),
	SERR("keyword too long",
	    "a STORE 1 +FLAGS kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkkkkkkk", "Keyword too long"),
	SERR("unknown item", "a STORE 1 LABELS x", "Invalid STORE item"),
	SERR("FLAGS.LOUD", "a STORE 1 FLAGS.LOUD x", "Invalid STORE item"),
	SERR("++FLAGS", "a STORE 1 ++FLAGS x", "Invalid STORE item"),
	SOK("UNCHANGEDSINCE (RFC 7162 3.1.3)",
	    "a STORE 1 (UNCHANGEDSINCE 5) +FLAGS x", IMAP_STORE_ADD, 0, 0,
	    "x"),
	SOK("UNCHANGEDSINCE 0 and the largest modseq",
	    "a STORE 1 (unchangedsince 9223372036854775807) FLAGS ()",
	    IMAP_STORE_SET, 0, 0, ""),
	SERR("UNCHANGEDSINCE without a value",
	    "a STORE 1 (UNCHANGEDSINCE) +FLAGS x", "Invalid STORE item"),
	SERR("UNCHANGEDSINCE 2^63", "a STORE 1 (UNCHANGEDSINCE "
	    "9223372036854775808) +FLAGS x", "Invalid STORE item"),
	SERR("UNCHANGEDSINCE not a number",
	    "a STORE 1 (UNCHANGEDSINCE -5) +FLAGS x", "Invalid STORE item"),
	SERR("unknown modifier", "a STORE 1 (FOO 5) +FLAGS x",
	    "Invalid STORE item"),
	SERR("modifier and item, no flags",
	    "a STORE 1 (UNCHANGEDSINCE 5) +FLAGS", "Invalid STORE item"),
	SERR("two modifier lists",
	    "a STORE 1 (UNCHANGEDSINCE 5) (UNCHANGEDSINCE 6) +FLAGS x",
	    "Invalid STORE item"),
	SERR("something after the list", "a STORE 1 FLAGS (a) b",
	    "Too many arguments"),
	SERR("too many flags in a list", "a STORE 1 FLAGS (" K30 " x y z)",
	    "Too many flags"),
	SERR("too many bare flags", "a STORE 1 FLAGS" K30 " x y z",
	    "Too many flags"),
};

static void
test_store(void **state)
{
	static struct imap_store st;

	(void)state;
	for (size_t i = 0; i < sizeof store_cases / sizeof store_cases[0];
	    i++) {
		const struct store_case *c = &store_cases[i];
		char *in = dup_exact(c->in, strlen(c->in));
		enum imap_perr e = imap_cmd_parse(in, strlen(c->in), &cmd);
		char kw[512] = "";

		(void)check_perr(c->desc, e, NULL);
		e = imap_store_parse(&cmd, &st);
		if (check_perr(c->desc, e, c->err)) {
			free(in);
			continue;
		}
		for (unsigned k = 0; k < st.nkw; k++) {
			snprintf(kw + strlen(kw), sizeof kw - strlen(kw),
			    "%s%.*s", k ? " " : "", (int)st.kw[k].len,
			    st.kw[k].p);
		}
		if (st.op != c->op || st.silent != c->silent ||
		    st.flags != c->flags || strcmp(kw, c->kw) != 0) {
			fail_msg("%s: op %d silent %d flags %#x kw '%s'",
			    c->desc, (int)st.op, st.silent, st.flags, kw);
		}
		free(in);
	}
}

/* ---------------------------------------------------------------- */
/* LIST (RFC 3501 6.3.8, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819,
 * SPECIAL-USE RFC 6154): the options as bits, the reference and the
 * patterns dumped as in the command tree. err is the error of
 * imap_cmd_parse, or else of imap_list_parse. */

struct list_case {
	const char	*desc;
	struct text	 in;
	const char	*err;
	unsigned	 sel;
	unsigned	 ret;
	unsigned	 status;
	int		 extended;
	const char	*ref;
	const char	*pats;
};

#define LOK(d, s, sel, ret, st, ext, ref, pats) \
	{ (d), T(s), NULL, (sel), (ret), (st), (ext), (ref), (pats) }
#define LERR(d, s, e)	{ (d), T(s), (e), 0, 0, 0, 0, NULL, NULL }

#define LS_SUB		IMAP_LS_SUBSCRIBED
#define LS_REM		IMAP_LS_REMOTE
#define LS_REC		IMAP_LS_RECURSIVEMATCH
#define LS_SU		IMAP_LS_SPECIAL_USE
#define LR_SUB		IMAP_LR_SUBSCRIBED
#define LR_CH		IMAP_LR_CHILDREN
#define LR_SU		IMAP_LR_SPECIAL_USE
#define LR_ST		IMAP_LR_STATUS
#define SA_ALL		(IMAP_SA_MESSAGES | IMAP_SA_RECENT | \
			 IMAP_SA_UIDNEXT | IMAP_SA_UIDVALIDITY | \
			 IMAP_SA_UNSEEN)

/* IMAP_LIST_PATTERNS_MAX patterns, and one more */
#define P16		"p0 p1 p2 p3 p4 p5 p6 p7 p8 p9 pa pb pc pd pe pf"
#define P16_DUMP	"A:p0 A:p1 A:p2 A:p3 A:p4 A:p5 A:p6 A:p7 A:p8 A:p9 " \
			"A:pa A:pb A:pc A:pd A:pe A:pf"

static const struct list_case list_cases[] = {
	LOK("RFC 3501 LIST", "a LIST \"\" *", 0, 0, 0, 0, "Q:", "A:*"),
	LOK("reference and % pattern", "a list INBOX. %", 0, 0, 0, 0,
	    "A:INBOX.", "A:%"),
	LOK("NIL reference, quoted pattern", "a LIST nil \"Sent Items\"",
	    0, 0, 0, 0, "NIL", "Q:Sent Items"),
	LOK("literal reference and pattern", "a LIST {0}\r\n {3}\r\nA/%",
	    0, 0, 0, 0, "L:", "L:A/%"),
	LOK("RETURN as a reference is a name, (CHILDREN) its patterns",
	    "a LIST RETURN (CHILDREN)", 0, 0, 0, 1, "A:RETURN",
	    "A:CHILDREN"),
	LOK("empty selection list is RFC 5258 syntax",
	    "a LIST () \"\" *", 0, 0, 0, 1, "Q:", "A:*"),
	LOK("SUBSCRIBED RECURSIVEMATCH, several patterns",
	    "a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX Work/*)",
	    LS_SUB | LS_REC, 0, 0, 1, "Q:", "A:INBOX A:Work/*"),
	LOK("REMOTE accepted, options in any case",
	    "a LIST (remote Subscribed) \"\" %", LS_REM | LS_SUB, 0, 0, 1,
	    "Q:", "A:%"),
	LOK("RECURSIVEMATCH with SPECIAL-USE",
	    "a LIST (SPECIAL-USE RECURSIVEMATCH) \"\" *", LS_SU | LS_REC, 0,
	    0, 1, "Q:", "A:*"),
	LOK("options given twice", "a LIST (SUBSCRIBED subscribed) \"\" *",
	    LS_SUB, 0, 0, 1, "Q:", "A:*"),
	LOK("every return option and all STATUS items",
	    "a LIST \"\" % RETURN (SUBSCRIBED CHILDREN SPECIAL-USE STATUS "
	    "(MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN))", 0,
	    LR_SUB | LR_CH | LR_SU | LR_ST, SA_ALL, 1, "Q:", "A:%"),
	LOK("STATUS first, its list skipped, CHILDREN after",
	    "a LIST \"\" * return (status (unseen messages) children)", 0,
	    LR_ST | LR_CH, IMAP_SA_UNSEEN | IMAP_SA_MESSAGES, 1, "Q:",
	    "A:*"),
	LOK("empty RETURN list (RFC 5258 return-options)",
	    "a LIST \"\" * RETURN ()", 0, 0, 0, 1, "Q:", "A:*"),
	LOK("selection, pattern list and RETURN together",
	    "a LIST (SUBSCRIBED) \"\" (\"*\") RETURN (CHILDREN)", LS_SUB,
	    LR_CH, 0, 1, "Q:", "Q:*"),
	LOK("IMAP_LIST_PATTERNS_MAX patterns", "a LIST \"\" (" P16 ")", 0,
	    0, 0, 1, "Q:", P16_DUMP),
	LERR("unknown selection option", "a LIST (SUBSCRIBED FOO) \"\" *",
	     "Invalid LIST option"),
	LERR("SUBSCRIBE is not SUBSCRIBED", "a LIST (SUBSCRIBE) \"\" *",
	     "Invalid LIST option"),
	LERR("RECURSIVEMATCH alone (RFC 5258 3)",
	     "a LIST (RECURSIVEMATCH) \"\" *", "Invalid LIST option"),
	LERR("RECURSIVEMATCH twice, still alone",
	     "a LIST (RECURSIVEMATCH recursivematch) \"\" *",
	     "Invalid LIST option"),
	LERR("RECURSIVEMATCH with REMOTE only",
	     "a LIST (REMOTE RECURSIVEMATCH) \"\" *", "Invalid LIST option"),
	LERR("quoted selection option", "a LIST (\"SUBSCRIBED\") \"\" *",
	     "Invalid LIST option"),
	LERR("nested selection list", "a LIST ((SUBSCRIBED)) \"\" *",
	     "Invalid LIST option"),
	LERR("return option as a selection option",
	     "a LIST (CHILDREN) \"\" *", "Invalid LIST option"),
	LERR("selection option as a return option",
	     "a LIST \"\" * RETURN (RECURSIVEMATCH)", "Invalid LIST option"),
	LERR("unknown return option (MYRIGHTS, RFC 8440)",
	     "a LIST \"\" * RETURN (MYRIGHTS)", "Invalid LIST option"),
	LERR("RETURN without its list", "a LIST \"\" * RETURN",
	     "Invalid LIST option"),
	LERR("RETURN with an atom", "a LIST \"\" * RETURN CHILDREN",
	     "Invalid LIST option"),
	LERR("STATUS without items", "a LIST \"\" * RETURN (STATUS)",
	     "Invalid status item"),
	LERR("STATUS last in RETURN without its list",
	     "a LIST \"\" * RETURN (CHILDREN STATUS)", "Invalid status item"),
	LERR("STATUS with an empty list", "a LIST \"\" * RETURN (STATUS ())",
	     "Invalid status item"),
	LERR("STATUS with an unknown item",
	     "a LIST \"\" * RETURN (STATUS (MESSAGES SIZES))",
	     "Invalid status item"),
	LERR("STATUS followed by an atom, not a list",
	     "a LIST \"\" * RETURN (STATUS MESSAGES)", "Invalid status item"),
	LERR("quoted RETURN", "a LIST \"\" * \"RETURN\" (CHILDREN)",
	     "Too many arguments"),
	LERR("too many patterns", "a LIST \"\" (" P16 " pg)",
	     "Too many arguments"),
	LERR("empty pattern list", "a LIST \"\" ()", "Missing argument"),
	LERR("a list among the patterns", "a LIST \"\" (INBOX (x))",
	     "Invalid argument"),
	LERR("a flag as the reference", "a LIST \\Seen *",
	     "Invalid argument"),
	LERR("a flag as the pattern", "a LIST \"\" \\*", "Invalid argument"),
	LERR("selection options then one argument",
	     "a LIST (SUBSCRIBED) \"\"", "Missing argument"),
	LERR("RFC 3501 LIST with one argument", "a LIST *",
	     "Missing argument"),
	LERR("a third argument without RETURN", "a LIST \"\" * x",
	     "Too many arguments"),
	LERR("something after the RETURN list",
	     "a LIST \"\" * RETURN (CHILDREN) x", "Too many arguments"),
	LERR("RETURN twice", "a LIST \"\" * RETURN () RETURN ()",
	     "Too many arguments"),
};

/* One argument dumped as in test_cmd_parse. */
static void
dump_arg(const struct imap_cmd *c, const struct imap_arg *a, char *out,
    size_t cap)
{
	size_t j = (size_t)(a - c->args);

	assert_true(j < c->nargs);
	(void)dump_tree(c, j, c->args[j].next, out, cap);
}

static void
test_list(void **state)
{
	static struct imap_list_args la;
	static char ref[512], pats[2048];

	(void)state;
	for (size_t i = 0; i < sizeof list_cases / sizeof list_cases[0];
	    i++) {
		const struct list_case *c = &list_cases[i];
		size_t len;
		char *in = build(&c->in, &len);
		enum imap_perr e = imap_cmd_parse(in, len, &cmd);

		if (e == IMAP_PE_OK) {
			assert_int_equal(cmd.cmd, IMAP_CMD_LIST);
			e = imap_list_parse(&cmd, &la);
		}
		if (check_perr(c->desc, e, c->err)) {
			free(in);
			continue;
		}
		assert_non_null(la.ref);
		assert_true(la.npat >= 1 && la.npat <= IMAP_LIST_PATTERNS_MAX);
		ref[0] = pats[0] = '\0';
		dump_arg(&cmd, la.ref, ref, sizeof ref);
		for (unsigned k = 0; k < la.npat; k++) {
			size_t n = strlen(pats);

			if (k > 0) {
				pats[n++] = ' ';
				pats[n] = '\0';
			}
			dump_arg(&cmd, la.pat[k], pats + n, sizeof pats - n);
		}
		if (la.sel != c->sel || la.ret != c->ret ||
		    la.status != c->status || la.extended != c->extended ||
		    strcmp(ref, c->ref) != 0 || strcmp(pats, c->pats) != 0) {
			fail_msg("%s: sel %#x ret %#x status %#x ext %d "
			    "ref '%s' pats '%s'", c->desc, la.sel, la.ret,
			    la.status, la.extended, ref, pats);
		}
		free(in);
	}
}

/* ---------------------------------------------------------------- */
/* STATUS items (RFC 3501 6.3.10) of the argument at index `at`. */

static void
test_status_items(void **state)
{
	static const struct {
		const char	*desc;
		const char	*in;
		size_t		 at;
		const char	*err;	/* of either parse */
		unsigned	 items;
	} cases[] = {
		{ "all five items", "a STATUS INBOX (MESSAGES RECENT UIDNEXT "
		  "UIDVALIDITY UNSEEN)", 1, NULL, SA_ALL },
		{ "one item, lower case", "a status Sent (uidnext)", 1, NULL,
		  IMAP_SA_UIDNEXT },
		{ "an item twice", "a STATUS x (UNSEEN Messages unseen)", 1,
		  NULL, IMAP_SA_UNSEEN | IMAP_SA_MESSAGES },
		{ "literal mailbox", "a STATUS {3}\r\nbox (RECENT)", 1, NULL,
		  IMAP_SA_RECENT },
		{ "no items", "a STATUS INBOX ()", 1, "Invalid status item",
		  0 },
		{ "unknown item among good ones",
		  "a STATUS INBOX (MESSAGES FOO)", 1, "Invalid status item",
		  0 },
		{ "HIGHESTMODSEQ (RFC 7162 3.1.2)",
		  "a STATUS INBOX (HIGHESTMODSEQ)", 1, NULL,
		  IMAP_SA_HIGHESTMODSEQ },
		{ "SIZE (RFC 8438) and DELETED (RFC 9051 6.3.11)",
		  "a STATUS INBOX (size DELETED)", 1, NULL,
		  IMAP_SA_SIZE | IMAP_SA_DELETED },
		{ "SIZE.MAX is no item", "a STATUS INBOX (SIZE.MAX)", 1,
		  "Invalid status item", 0 },
		{ "DELETED-STORAGE is not ours",
		  "a STATUS INBOX (DELETED-STORAGE)", 1,
		  "Invalid status item", 0 },
		{ "quoted item", "a STATUS INBOX (\"MESSAGES\")", 1,
		  "Invalid status item", 0 },
		{ "nested list", "a STATUS INBOX ((MESSAGES))", 1,
		  "Invalid status item", 0 },
		{ "a number", "a STATUS INBOX (1)", 1, "Invalid status item",
		  0 },
		{ "item with a trailing dot", "a STATUS INBOX (MESSAGES.)", 1,
		  "Invalid status item", 0 },
		{ "the index of an atom, not a list",
		  "a STATUS INBOX (UNSEEN)", 0, "Invalid status item", 0 },
		{ "an index past the arguments", "a STATUS INBOX (UNSEEN)", 2,
		  "Invalid status item", 0 },
		{ "items not in a list", "a STATUS INBOX MESSAGES", 1,
		  "Invalid argument", 0 },
		{ "no items at all", "a STATUS INBOX", 1, "Missing argument",
		  0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned items = 0;
		size_t len = strlen(cases[i].in);
		char *in = dup_exact(cases[i].in, len);
		enum imap_perr e = imap_cmd_parse(in, len, &cmd);

		if (e == IMAP_PE_OK) {
			e = imap_status_items(&cmd, cases[i].at, &items);
		}
		if (!check_perr(cases[i].desc, e, cases[i].err) &&
		    items != cases[i].items) {
			fail_msg("%s: items %#x", cases[i].desc, items);
		}
		free(in);
	}
}

/* ---------------------------------------------------------------- */
/* APPEND (RFC 3501 6.3.11): one message's arguments, the command text
 * up to its literal's '{' with the session's marker (here MARK) in
 * its place. The mailbox dumped as in the tree (NULL: the marker
 * alone, the literal is the mailbox); the date in seconds since the
 * epoch, checked against `date -u -d ... +%s`. */

struct append_case {
	const char	*desc;
	struct text	 in;
	const char	*err;	/* of imap_cmd_parse, else append */
	const char	*mailbox;
	unsigned	 flags;
	const char	*kw;	/* space-separated */
	int64_t		 date;	/* -1: none */
};

#define AOK(d, s, mb, fl, kw, t) \
	{ (d), T(s), NULL, (mb), (fl), (kw), (t) }
#define AERR(d, s, e)	{ (d), T(s), (e), NULL, 0, NULL, 0 }
/* a date-time alone, good or bad */
#define ADT(d, dt, t)	AOK(d, "a APPEND box \"" dt "\" MARK", "A:box", \
			    0, "", (t))
#define ADTBAD(d, dt)	AERR(d, "a APPEND box \"" dt "\" MARK", \
			    "Invalid date")

#define K64	"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk" \
		"kkkkkkkkkkkkkkkk"

static const struct append_case append_cases[] = {
	AOK("mailbox only", "a APPEND INBOX MARK", "A:INBOX", 0, "", -1),
	AOK("flags and date (Thunderbird's sent copy)",
	    "a APPEND Sent (\\Seen $Forwarded) \"07-Dec-2026 16:48:15 +0000\""
	    " MARK", "A:Sent", IMAP_FL_SEEN, "$Forwarded", 1796662095),
	AOK("quoted mailbox, every system flag but \\Recent",
	    "a APPEND \"My Drafts\" (\\Seen \\Answered \\Flagged \\Deleted "
	    "\\Draft) MARK", "Q:My Drafts", IMAP_FL_SEEN | IMAP_FL_ANSWERED |
	    IMAP_FL_FLAGGED | IMAP_FL_DELETED | IMAP_FL_DRAFT, "", -1),
	AOK("literal mailbox (a first literal, kept)",
	    "a APPEND {6}\r\nDrafts (\\Draft) MARK", "L:Drafts",
	    IMAP_FL_DRAFT, "", -1),
	AOK("empty flag list", "a APPEND box () MARK", "A:box", 0, "", -1),
	AOK("keywords kept once, any case",
	    "a APPEND box (foo $Junk FOO) MARK", "A:box", 0, "foo $Junk", -1),
	AOK("keyword of IMAP_KEYWORD_LEN_MAX",
	    "a APPEND box (" K64 ") MARK", "A:box", 0, K64, -1),
	/* This row calls imap_append_parse on a command of one atom; the
	 * session cannot get one from imap_cmd_parse (see the #if 0 row
	 * below), so it is parsed here with DELETE's shape, which
	 * imap_append_parse does not look at. */
	AOK("the marker alone: the literal is the mailbox",
	    "a DELETE MARK", NULL, 0, "", -1),
	ADTBAD("the epoch itself: refused (0 is \"now\" to the store)",
	    "01-Jan-1970 00:00:00 +0000"),
	ADT("space-padded day", " 1-Jan-2020 00:00:00 +0000", 1577836800),
	ADT("two-digit day, month in lower case",
	    "01-jan-2020 00:00:00 +0000", 1577836800),
	ADT("zone east: +0100 is an hour earlier in UTC",
	    "01-Jan-2020 01:00:00 +0100", 1577836800),
	ADT("zone west with minutes, across a year end",
	    "31-Dec-2019 15:30:00 -0830", 1577836800),
	ADT("zone +2359", "02-Jan-2020 23:59:00 +2359", 1577923200),
	ADT("29-Feb in a leap year", "29-Feb-2024 12:34:56 +0000",
	    1709210096),
	ADT("29-Feb-2000 (divisible by 400)", "29-Feb-2000 00:00:00 +0000",
	    951782400),
	ADTBAD("1-Mar-1900, before the epoch: refused",
	    " 1-Mar-1900 00:00:00 +0000"),
	ADT("past 2^31 - 1 (no 32-bit overflow)",
	    "19-Jan-2038 03:14:08 +0000", 2147483648),
	ADT("the last second of year 9999", "31-Dec-9999 23:59:59 +0000",
	    253402300799),
	ADTBAD("year 0000: before the epoch, refused",
	    "01-Jan-0000 00:00:00 +0000"),
	ADTBAD("29-Feb-0000: valid day, but before the epoch",
	    "29-Feb-0000 00:00:00 +0000"),
	ADT("leap second 60 is the next second",
	    "30-Jun-2015 23:59:60 +0000", 1435708800),
	AERR("\\Recent in the flags", "a APPEND box (\\Seen \\Recent) MARK",
	     "Cannot set \\Recent"),
	AERR("unknown system flag", "a APPEND box (\\Junk) MARK",
	     "Invalid flag"),
	AERR("\\* is no flag to set", "a APPEND box (\\*) MARK",
	     "Invalid flag"),
	AERR("keyword with a wildcard", "a APPEND box (a*) MARK",
	     "Invalid flag"),
	AERR("quoted flag", "a APPEND box (\"\\\\Seen\") MARK",
	     "Invalid flag"),
	AERR("nested list of flags", "a APPEND box ((\\Seen)) MARK",
	     "Invalid flag"),
	AERR("keyword one over IMAP_KEYWORD_LEN_MAX",
	     "a APPEND box (" K64 "k) MARK", "Keyword too long"),
	AERR("too many flags", "a APPEND box (" K30 " x y z) MARK",
	     "Too many flags"),
	ADTBAD("day 32", "32-Jan-2020 00:00:00 +0000"),
	ADTBAD("day 00", "00-Jan-2020 00:00:00 +0000"),
	ADTBAD("padded day 0", " 0-Jan-2020 00:00:00 +0000"),
	ADTBAD("31-Apr", "31-Apr-2020 00:00:00 +0000"),
	ADTBAD("29-Feb in a common year", "29-Feb-2019 00:00:00 +0000"),
	ADTBAD("29-Feb-2100 (century, not leap)",
	       "29-Feb-2100 00:00:00 +0000"),
	ADTBAD("29-Feb-1900 (century, not leap)",
	       "29-Feb-1900 00:00:00 +0000"),
	ADTBAD("30-Feb", "30-Feb-2024 00:00:00 +0000"),
	ADTBAD("unknown month", "01-Foo-2020 00:00:00 +0000"),
	ADTBAD("month by number", "01-001-2020 00:00:00 +0000"),
	ADTBAD("8-bit month", "01-J\xe4n-2020 00:00:00 +0000"),
	ADTBAD("unpadded day: 25 octets", "1-Jan-2020 00:00:00 +0000"),
	ADTBAD("day padded after the digit", "1 -Jan-2020 00:00:00 +0000"),
	ADTBAD("two-digit year", "01-Jan-20 00:00:00 +0000"),
	ADTBAD("hour 24", "01-Jan-2020 24:00:00 +0000"),
	ADTBAD("minute 60", "01-Jan-2020 00:60:00 +0000"),
	ADTBAD("second 61", "01-Jan-2020 00:00:61 +0000"),
	ADTBAD("time with dots", "01-Jan-2020 00.00.00 +0000"),
	ADTBAD("zone without a sign: 25 octets", "01-Jan-2020 00:00:00 0000"),
	ADTBAD("zone sign '*'", "01-Jan-2020 00:00:00 *0000"),
	ADTBAD("zone hour 24", "01-Jan-2020 00:00:00 +2400"),
	ADTBAD("zone minute 60", "01-Jan-2020 00:00:00 -0060"),
	ADTBAD("zone by name", "01-Jan-2020 00:00:00 +UTC0"),
	ADTBAD("zone with a colon: 27 octets", "01-Jan-2020 00:00:00 +00:00"),
	ADTBAD("trailing space: 27 octets", "01-Jan-2020 00:00:00 +0000 "),
	ADTBAD("leading space before a two-digit day",
	       " 01-Jan-2020 00:00:00 +000"),
	ADTBAD("RFC 5322 date, not RFC 3501",
	       "Wed, 1 Jan 2020 00:00:00 +0000"),
	ADTBAD("escaped backslash, 26 octets unescaped",
	       "01-Jan-2020 00:00:00 +000\\\\"),
	ADTBAD("escaped quote inside", "01-Jan-2020 00:00:00 +00\\\"0"),
	ADTBAD("empty date", ""),
	AERR("date as an atom", "a APPEND box 01-Jan-2020 MARK",
	     "Invalid date"),
	AERR("date as a literal",
	     "a APPEND box {26}\r\n01-Jan-2020 00:00:00 +0000 MARK",
	     "Invalid date"),
	AERR("NIL for the date", "a APPEND box NIL MARK", "Invalid date"),
	AERR("two flag lists", "a APPEND box (\\Seen) (\\Draft) MARK",
	     "Invalid date"),
	AERR("an extra argument after the date",
	     "a APPEND box \"01-Jan-2020 00:00:00 +0000\" extra MARK",
	     "Too many arguments"),
	AERR("two dates", "a APPEND box \"01-Jan-2020 00:00:00 +0000\" "
	     "\"01-Jan-2020 00:00:00 +0000\" MARK", "Too many arguments"),
	AERR("date before the flags",
	     "a APPEND box \"01-Jan-2020 00:00:00 +0000\" (\\Seen) MARK",
	     "Too many arguments"),
	AERR("the marker quoted", "a APPEND box \"MARK\"",
	     "Invalid argument"),
	AERR("the marker a list", "a APPEND box (MARK)",
	     "Invalid argument"),
	AERR("the marker a number", "a APPEND box 7", "Invalid argument"),
	AERR("the mailbox a flag", "a APPEND \\Seen MARK",
	     "Invalid argument"),
	AERR("the mailbox a flag list", "a APPEND (\\Seen) MARK",
	     "Invalid argument"),
	AERR("the marker glued to the flag list",
	     "a APPEND box (\\Seen)MARK", "Missing space"),
	/* Was a bug: APPEND's shape "ax*" wanted two arguments, so a
	 * mailbox sent as a literal (the marker alone) got BAD. */
	AOK("the marker alone through imap_cmd_parse",
	    "a APPEND MARK", NULL, 0, "", -1),
	/* Was a bug: one second before the epoch read as "no date";
	 * dates before 1970 are refused now. */
	ADTBAD("a date that is -1", "31-Dec-1969 23:59:59 +0000"),
};

static void
test_append(void **state)
{
	static struct imap_append_args ap;
	static char mb[512], kw[4096];

	(void)state;
	for (size_t i = 0; i < sizeof append_cases / sizeof append_cases[0];
	    i++) {
		const struct append_case *c = &append_cases[i];
		size_t len;
		char *in = build(&c->in, &len);
		enum imap_perr e = imap_cmd_parse(in, len, &cmd);

		if (e == IMAP_PE_OK) {
			e = imap_append_parse(&cmd, &ap);
		}
		if (check_perr(c->desc, e, c->err)) {
			free(in);
			continue;
		}
		mb[0] = kw[0] = '\0';
		if (ap.mailbox != NULL) {
			dump_arg(&cmd, ap.mailbox, mb, sizeof mb);
		}
		assert_true(ap.fl.nkw <= IMAP_FLAGS_MAX);
		for (unsigned k = 0; k < ap.fl.nkw; k++) {
			snprintf(kw + strlen(kw), sizeof kw - strlen(kw),
			    "%s%.*s", k ? " " : "", (int)ap.fl.kw[k].len,
			    ap.fl.kw[k].p);
		}
		if ((c->mailbox == NULL) != (ap.mailbox == NULL) ||
		    (c->mailbox != NULL && strcmp(mb, c->mailbox) != 0) ||
		    ap.fl.flags != c->flags || strcmp(kw, c->kw) != 0 ||
		    ap.date != c->date) {
			fail_msg("%s: mailbox '%s' flags %#x kw '%s' "
			    "date %lld", c->desc,
			    ap.mailbox != NULL ? mb : "(none)", ap.fl.flags,
			    kw, (long long)ap.date);
		}
		free(in);
	}
}

/* ---------------------------------------------------------------- */
/* imap_framer_void: a command refused at one of its literals. The
 * case says which literal event (1-based) and what to do there:
 *   VOID0  refuse, nothing more comes (no "+" was sent)
 *   VOID1  refuse, the rest comes anyway ({n+}, or "+" already sent)
 *   SVOID  stream the literal, refuse at its first data (however many
 *          bytes that is), the rest comes
 * Traced as in test_frame, with V for the refusal; the session empties
 * its buffer then. Each case runs whole, byte by byte and split at
 * every point. */

enum { VOID0, VOID1, SVOID };

struct void_case {
	const char	*desc;
	struct text	 in;
	size_t		 lit_max;
	int		 at;
	int		 how;
	const char	*want;
};

static const struct void_case void_cases[] = {
	{ "{n} refused, no + sent: the next command frames cleanly",
	  T("a APPEND nobox {5}\r\nb NOOP\r\n"), PRE, 1, VOID0,
	  "+5VC{b NOOP\r\n}" },
	{ "{0} refused, no + sent", T("a APPEND nobox {0}\r\nb NOOP\n"), PRE,
	  1, VOID0, "+0VC{b NOOP\n}" },
	{ "{n} refused but the client sends it anyway: framed as lines",
	  T("a APPEND nobox {5}\r\nhello\r\nb NOOP\r\n"), PRE, 1, VOID0,
	  "+5VC{hello\r\n}C{b NOOP\r\n}" },
	{ "{n+} refused: its bytes and the rest of the line dropped",
	  T("a APPEND nobox {5+}\r\nhello (\\Seen) x\r\nb NOOP\r\n"), PRE, 1,
	  VOID1, "L5VC{b NOOP\r\n}" },
	{ "{n+} refused: CR LF and a literal header in its body are data",
	  T("a APPEND nobox {9+}\r\nab\r\n{3}\r\n rest\r\nb NOOP\r\n"), PRE,
	  1, VOID1, "L9VC{b NOOP\r\n}" },
	{ "{n+} refused: a body of LFs ends no line",
	  T("a X {3+}\r\n\n\n\n\r\nb NOOP\r\n"), PRE, 1, VOID1,
	  "L3VC{b NOOP\r\n}" },
	{ "{0+} refused: the rest of the line dropped",
	  T("a X {0+}\r\n y z\r\nb NOOP\r\n"), PRE, 1, VOID1,
	  "L0VC{b NOOP\r\n}" },
	{ "+ already sent for {n}: refused, body and line dropped",
	  T("a X {4}\r\nabcd rest\r\nb NOOP\r\n"), PRE, 1, VOID1,
	  "+4VC{b NOOP\r\n}" },
	{ "refused line goes on with a {n+}: that literal dropped too",
	  T("a X {3+}\r\nabc {4+}\r\nb NO\r\nc NOOP\r\n"), PRE, 1,
	  VOID1, "L3VC{c NOOP\r\n}" },
	{ "refused line goes on with a {n}: the client waits, no +",
	  T("a X {3+}\r\nabc {4}\r\nb NOOP\r\n"), PRE, 1, VOID1,
	  "L3VC{b NOOP\r\n}" },
	/* for a MULTIAPPEND the session must pass its message limit
	 * while the rest of a refused APPEND is dropped, or the next
	 * message's {n+} ends the connection */
	{ "refused line goes on with a {n+} over the limit: BYE",
	  T("a X {3+}\r\nabc {9000+}\r\nxxxx"), PRE, 1, VOID1, "L3VY" },
	{ "refused line goes on with a 2^32 {n+}: BYE",
	  T("a X {3+}\r\nabc {4294967296+}\r\n"), IMAP_LITERAL_MAX, 1,
	  VOID1, "L3VY" },
	{ "refused line: {n+} inside a quoted string is text",
	  T("a X {2+}\r\nab \"q\\\" {3+}\"\r\nb NOOP\r\n"), PRE, 1, VOID1,
	  "L2VC{b NOOP\r\n}" },
	{ "refused line ending in CR CR LF: no literal",
	  T("a X {1+}\r\nx {3+}\r\r\nb NOOP\r\n"), PRE, 1, VOID1,
	  "L1VC{b NOOP\r\n}" },
	{ "a discarded line is not held to IMAP_LINE_MAX",
	  TF("a X {1+}\r\nx ", "y", 20000, "\r\nb NOOP\r\n"), PRE, 1, VOID1,
	  "L1VC{b NOOP\r\n}" },
	{ "after a refusal, a too long command is still too long",
	  TF("a X {1+}\r\nx\r\nb X ", "y", 9000, "\r\nc NOOP\r\n"), PRE, 1,
	  VOID1, "L1VTC{c NOOP\r\n}" },
	{ "after a refusal, the literal limit starts afresh",
	  TF("a X {8000+}\r\n", "x", 8000, "\r\nb LOGIN {8000}\r\n"), PRE, 1,
	  VOID1, "L8000V+8000" },
	{ "refused at the second literal of a command",
	  T("a APPEND box {1+}\r\nx {3+}\r\nabc\r\nb NOOP\r\n"), PRE, 2,
	  VOID1, "L1L3VC{b NOOP\r\n}" },
	{ "refused at the second literal, no + sent",
	  T("a APPEND box {1}\r\nx {3}\r\nb NOOP\r\n"), PRE, 2, VOID0,
	  "+1+3VC{b NOOP\r\n}" },
	{ "refused while streaming partway: the rest goes",
	  T("a APPEND box {10}\r\n0123456789 (more) {2+}\r\nxy\r\n"
	  "b NOOP\r\n"), PRE, 1, SVOID, "+10VC{b NOOP\r\n}" },
	{ "refused while streaming a {n+} whose body holds lines",
	  T("a APPEND box {14+}\r\nc NOOP\r\nd {1}\n\r\nb NOOP\r\n"), PRE, 1,
	  SVOID, "L14VC{b NOOP\r\n}" },
	{ "refused while streaming a one-byte literal",
	  T("a APPEND box {1}\r\nz trailing\r\nb NOOP\r\n"), PRE, 1, SVOID,
	  "+1VC{b NOOP\r\n}" },
	{ "refused while streaming the second message (MULTIAPPEND)",
	  T("a APPEND box {2}\r\nab {3+}\r\nxyz {1+}\r\nq\r\nb NOOP\r\n"),
	  PRE, 2, SVOID, "+2D2L3VC{b NOOP\r\n}" },
};

/* Runs one void case like frame_run: chunk bytes per read, the first
 * read split bytes when split > 0. */
static void
void_run(const struct void_case *c, const char *in, size_t len,
    size_t chunk, size_t split, char *tr)
{
	static char cmdv[IMAP_LINE_MAX + IMAP_LITERAL_MAX + 16];
	struct imap_framer fr;
	size_t have = 0, off = 0, data = 0;
	int nlit = 0, armed = 0;

	tr[0] = '\0';
	imap_framer_init(&fr);
	while (off < len) {
		size_t n = split > 0 && off < split ? split - off : chunk;
		char *p, *copy;

		if (n > len - off) {
			n = len - off;
		}
		p = copy = dup_exact(in + off, n);
		while (n > 0) {
			size_t used, keep;
			enum imap_fr_ev ev;

			ev = imap_frame(&fr, p, n, c->lit_max, &used, &keep);
			if (ev != IMAP_FR_LIT_DATA && ev != IMAP_FR_NEED &&
			    data > 0) {
				trace_add(tr, "D%zu", data);
				data = 0;
			}
			assert_true(keep <= used && used <= n);
			assert_true(used > 0 || ev != IMAP_FR_NEED);
			assert_true(have + keep <= sizeof cmdv);
			memcpy(cmdv + have, p, keep);
			have += keep;
			switch (ev) {
			case IMAP_FR_NEED:
				break;
			case IMAP_FR_CMD:
				assert_int_equal(fr.cmd_len, have);
				if (have <= 60) {
					trace_add(tr, "C{%.*s}", (int)have,
					    cmdv);
				} else {
					trace_add(tr, "C#%zu", have);
				}
				have = 0;
				break;
			case IMAP_FR_CONT:
			case IMAP_FR_LITERAL:
				trace_add(tr, "%c%llu",
				    ev == IMAP_FR_CONT ? '+' : 'L',
				    (unsigned long long)fr.lit_size);
				if (++nlit != c->at) {
					if (c->how == SVOID) {
						imap_framer_stream(&fr);
					}
					break;
				}
				if (c->how == SVOID) {
					imap_framer_stream(&fr);
					armed = 1;
					break;
				}
				imap_framer_void(&fr, c->how == VOID1);
				trace_add(tr, "V");
				have = 0;
				break;
			case IMAP_FR_LIT_DATA:
				if (!armed) {
					data += used;
					break;
				}
				armed = 0;
				imap_framer_void(&fr, 1);
				trace_add(tr, "V");
				have = 0;
				break;
			case IMAP_FR_TOO_LONG:
				trace_add(tr, "T");
				have = 0;
				break;
			case IMAP_FR_LIT_TOO_BIG:
				trace_add(tr, "B");
				have = 0;
				break;
			case IMAP_FR_LIT_PLUS_TOO_BIG:
				trace_add(tr, "Y");
				free(copy);
				return;
			}
			p += used;
			n -= used;
			off += used;
		}
		free(copy);
	}
}

static void
test_framer_void(void **state)
{
	static char tr[TRACE_MAX], tr2[TRACE_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof void_cases / sizeof void_cases[0];
	    i++) {
		const struct void_case *c = &void_cases[i];
		size_t len;
		char *in = build(&c->in, &len);

		void_run(c, in, len, len, 0, tr);
		if (strcmp(tr, c->want) != 0) {
			fail_msg("%s: whole: got '%s' want '%s'", c->desc, tr,
			    c->want);
		}
		void_run(c, in, len, 1, 0, tr2);
		if (strcmp(tr2, c->want) != 0) {
			fail_msg("%s: byte by byte: got '%s'", c->desc, tr2);
		}
		for (size_t s = 1; len < 200 && s < len; s++) {
			void_run(c, in, len, len, s, tr2);
			if (strcmp(tr2, c->want) != 0) {
				fail_msg("%s: split at %zu: got '%s'",
				    c->desc, s, tr2);
			}
		}
		free(in);
	}
}

/* ---------------------------------------------------------------- */
/* SEARCH: the program dumped from node 0 as KEY or KEY:operand, with
 * AND(...), NOT(...) and OR(a b); dates as days since 1970. */

static const char *const skey_names[] = {
	"AND", "SEQSET", "ALL", "ANSWERED", "BCC", "BEFORE", "BODY", "CC",
	"DELETED", "DRAFT", "FLAGGED", "FROM", "HEADER", "KEYWORD",
	"LARGER", "NEW", "NOT", "OLD", "ON", "OR", "RECENT", "SEEN",
	"SENTBEFORE", "SENTON", "SENTSINCE", "SINCE", "SMALLER", "SUBJECT",
	"TEXT", "TO", "UID", "UNANSWERED", "UNDELETED", "UNDRAFT",
	"UNFLAGGED", "UNKEYWORD", "UNSEEN", "MODSEQ",
};

static size_t
dump_node(const struct imap_search *s, size_t i, char *out, size_t cap)
{
	const struct imap_search_node *nd = &s->node[i];
	char v[256], v2[256];
	size_t n = 0, vl = 0, vl2 = 0;

	assert_true(i < s->n && nd->next > i && nd->next <= s->n);
	n += (size_t)snprintf(out, cap, "%s", skey_names[nd->key]);
	switch (nd->key) {
	case IMAP_SK_AND:
		n += (size_t)snprintf(out + n, cap - n, "(");
		for (size_t j = i + 1; j < nd->next; j = s->node[j].next) {
			if (j > i + 1) {
				n += (size_t)snprintf(out + n, cap - n, " ");
			}
			n += dump_node(s, j, out + n, cap - n);
		}
		n += (size_t)snprintf(out + n, cap - n, ")");
		break;
	case IMAP_SK_NOT:
		n += (size_t)snprintf(out + n, cap - n, "(");
		n += dump_node(s, i + 1, out + n, cap - n);
		assert_int_equal(s->node[i + 1].next, nd->next);
		n += (size_t)snprintf(out + n, cap - n, ")");
		break;
	case IMAP_SK_OR:
		n += (size_t)snprintf(out + n, cap - n, "(");
		n += dump_node(s, i + 1, out + n, cap - n);
		n += (size_t)snprintf(out + n, cap - n, " ");
		n += dump_node(s, s->node[i + 1].next, out + n, cap - n);
		assert_int_equal(s->node[s->node[i + 1].next].next, nd->next);
		n += (size_t)snprintf(out + n, cap - n, ")");
		break;
	case IMAP_SK_BEFORE: case IMAP_SK_ON: case IMAP_SK_SINCE:
	case IMAP_SK_SENTBEFORE: case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		n += (size_t)snprintf(out + n, cap - n, ":%d",
		    (int)nd->days);
		break;
	case IMAP_SK_LARGER: case IMAP_SK_SMALLER:
		n += (size_t)snprintf(out + n, cap - n, ":%u", nd->num);
		break;
	default:
		if (nd->str != NULL) {
			assert_int_equal(imap_arg_str(nd->str, v, sizeof v,
			    &vl), 0);
			n += (size_t)snprintf(out + n, cap - n, ":%.*s",
			    (int)vl, v);
		}
		if (nd->str2 != NULL) {
			assert_int_equal(imap_arg_str(nd->str2, v2,
			    sizeof v2, &vl2), 0);
			n += (size_t)snprintf(out + n, cap - n, "=%.*s",
			    (int)vl2, v2);
		}
		break;
	}
	return n;
}

struct search_case {
	const char	*desc;
	struct text	 in;
	const char	*err;
	int		 utf8;
	const char	*want;
};

#define QOK(d, s, u, w)	{ (d), T(s), NULL, (u), (w) }
#define QERR(d, s, e)	{ (d), T(s), (e), 0, NULL }

#define N10	" ALL ALL ALL ALL ALL ALL ALL ALL ALL ALL"

static const struct search_case search_cases[] = {
	QOK("ALL", "a SEARCH ALL", 0, "AND(ALL)"),
	QOK("flags, mixed case", "a SEARCH unseen Deleted NEW OLD RECENT",
	    0, "AND(UNSEEN DELETED NEW OLD RECENT)"),
	QOK("every flag key", "a SEARCH ANSWERED DRAFT FLAGGED SEEN "
	    "UNANSWERED UNDELETED UNDRAFT UNFLAGGED", 0, "AND(ANSWERED "
	    "DRAFT FLAGGED SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED)"),
	QOK("the header example", "a SEARCH OR FROM a (SEEN NOT DRAFT) 1:5",
	    0, "AND(OR(FROM:a AND(SEEN NOT(DRAFT))) SEQSET:1:5)"),
	QOK("strings: atom, quoted, literal",
	    "a SEARCH SUBJECT \"a \\\"b\\\"\" BODY {3}\r\nx y TEXT z", 0,
	    "AND(SUBJECT:a \"b\" BODY:x y TEXT:z)"),
	QOK("address keys", "a SEARCH BCC a CC b FROM c TO d", 0,
	    "AND(BCC:a CC:b FROM:c TO:d)"),
	QOK("HEADER name and value", "a SEARCH HEADER Message-ID \"<x@y>\"",
	    0, "AND(HEADER:Message-ID=<x@y>)"),
	QOK("HEADER with an empty value", "a SEARCH HEADER X-Spam \"\"", 0,
	    "AND(HEADER:X-Spam=)"),
	QOK("KEYWORD, UNKEYWORD", "a SEARCH KEYWORD $Junk UNKEYWORD foo", 0,
	    "AND(KEYWORD:$Junk UNKEYWORD:foo)"),
	QOK("LARGER SMALLER", "a SEARCH LARGER 1000 SMALLER 4294967295", 0,
	    "AND(LARGER:1000 SMALLER:4294967295)"),
	QOK("MODSEQ (RFC 7162 3.1.5)", "a SEARCH MODSEQ 620162338", 0,
	    "AND(MODSEQ:620162338)"),
	QOK("MODSEQ with entry name and type, past 2^32",
	    "a SEARCH MODSEQ \"/flags/\\\\draft\" all 9223372036854775807",
	    0, "AND(MODSEQ:9223372036854775807)"),
	QERR("MODSEQ without a value", "a SEARCH MODSEQ", "Missing argument"),
	QERR("MODSEQ with a word", "a SEARCH MODSEQ big", "Invalid number"),
	QERR("MODSEQ 2^63", "a SEARCH MODSEQ 9223372036854775808",
	    "Invalid number"),
	QERR("MODSEQ entry with a bad type",
	    "a SEARCH MODSEQ \"/flags/\\\\seen\" mine 5", "Invalid argument"),
	QERR("MODSEQ entry without its type",
	    "a SEARCH MODSEQ \"/flags/\\\\seen\"", "Invalid argument"),
	QOK("UID and a bare set", "a SEARCH UID 1:*,5 2,4:3", 0,
	    "AND(UID:1:*,5 SEQSET:2,4:3)"),
	QOK("dates", "a SEARCH SINCE 1-Jan-1970 BEFORE \"01-feb-1970\" "
	    "ON 29-Feb-2000 SENTSINCE 31-Dec-1969 SENTBEFORE 1-Mar-2100 "
	    "SENTON 15-Jun-2024", 0, "AND(SINCE:0 BEFORE:31 ON:11016 "
	    "SENTSINCE:-1 SENTBEFORE:47541 SENTON:19889)"),
	QOK("CHARSET UTF-8", "a SEARCH CHARSET utf-8 SUBJECT \"\xc3\xa9\"",
	    1, "AND(SUBJECT:\xc3\xa9)"),
	QOK("CHARSET quoted US-ASCII", "a SEARCH CHARSET \"US-ASCII\" ALL",
	    0, "AND(ALL)"),
	QOK("NOT NOT", "a SEARCH NOT NOT SEEN", 0, "AND(NOT(NOT(SEEN)))"),
	QOK("OR of lists", "a SEARCH OR (SEEN FLAGGED) (OR DRAFT ALL)", 0,
	    "AND(OR(AND(SEEN FLAGGED) AND(OR(DRAFT ALL))))"),
	QOK("nested lists", "a SEARCH ((((((((ALL))))))))", 0,
	    "AND(AND(AND(AND(AND(AND(AND(AND(AND(ALL)))))))))"),
	{ "IMAP_SEARCH_KEYS_MAX - 1 keys", TF("a SEARCH", N10, 6,
	  " ALL ALL ALL"), NULL, 0, NULL },
	QERR("unknown key", "a SEARCH FOO", "Unknown search key"),
	QERR("quoted key", "a SEARCH \"ALL\"", "Unknown search key"),
	QERR("OR with one operand", "a SEARCH OR SEEN", "Missing argument"),
	QERR("OR with one operand inside a list", "a SEARCH (OR SEEN) DRAFT",
	    "Missing argument"),
	QERR("NOT at the end", "a SEARCH SEEN NOT", "Missing argument"),
	QERR("FROM without a string", "a SEARCH FROM", "Missing argument"),
	QERR("FROM with a list", "a SEARCH FROM (x)", "Invalid argument"),
	QERR("HEADER with one operand", "a SEARCH HEADER X-A",
	    "Missing argument"),
	QERR("empty list", "a SEARCH ()", "Missing argument"),
	QERR("CHARSET only", "a SEARCH CHARSET UTF-8", "Missing argument"),
	QERR("CHARSET without a name", "a SEARCH CHARSET",
	    "Missing argument"),
	QERR("CHARSET ISO-8859-1", "a SEARCH CHARSET ISO-8859-1 ALL",
	    "Unsupported charset"),
	QERR("CHARSET not first", "a SEARCH ALL CHARSET UTF-8",
	    "Unknown search key"),
	QERR("search nesting too deep", "a SEARCH (((((((((ALL)))))))))",
	    "Nesting too deep"),
	{ "more than IMAP_SEARCH_KEYS_MAX keys", TF("a SEARCH", N10, 7,
	  NULL), "Too many search keys", 0, NULL },
	QERR("LARGER with a word", "a SEARCH LARGER big", "Invalid number"),
	QERR("LARGER over 2^32", "a SEARCH LARGER 4294967296",
	    "Invalid number"),
	QERR("bad set", "a SEARCH 1:0", "Invalid sequence set"),
	QERR("UID with a word", "a SEARCH UID all", "Invalid sequence set"),
	QERR("31-Feb", "a SEARCH SINCE 31-Feb-2024", "Invalid date"),
	QERR("29-Feb in a common year", "a SEARCH ON 29-Feb-1900",
	    "Invalid date"),
	QERR("day 0", "a SEARCH ON 0-Jan-2024", "Invalid date"),
	QERR("three-digit day", "a SEARCH ON 001-Jan-2024", "Invalid date"),
	QERR("unknown month", "a SEARCH ON 1-Foo-2024", "Invalid date"),
	QERR("two-digit year", "a SEARCH ON 1-Jan-24", "Invalid date"),
	QERR("date with time", "a SEARCH ON \"1-Jan-2024 10:00\"",
	    "Invalid date"),
	QERR("ISO date", "a SEARCH ON 2024-01-01", "Invalid date"),
	QERR("literal date", "a SEARCH ON {10}\r\n1-Jan-2024",
	    "Invalid date"),
	QERR("KEYWORD with a flag", "a SEARCH KEYWORD \\Seen", "Invalid flag"),
};

static void
test_search(void **state)
{
	static struct imap_search s;
	static char got[4096];

	(void)state;
	for (size_t i = 0; i < sizeof search_cases / sizeof search_cases[0];
	    i++) {
		const struct search_case *c = &search_cases[i];
		size_t len;
		char *in = build(&c->in, &len);
		enum imap_perr e = imap_cmd_parse(in, len, &cmd);

		if (e != IMAP_PE_OK) {
			if (c->err != NULL &&
			    strcmp(imap_strerror(e), c->err) == 0) {
				free(in);
				continue;
			}
			fail_msg("%s: %s", c->desc, imap_strerror(e));
		}
		e = imap_search_parse(&cmd, &s);
		if (check_perr(c->desc, e, c->err)) {
			free(in);
			continue;
		}
		assert_int_equal(s.node[0].key, IMAP_SK_AND);
		assert_int_equal(s.node[0].next, s.n);
		dump_node(&s, 0, got, sizeof got);
		if (c->want != NULL && strcmp(got, c->want) != 0) {
			fail_msg("%s: got '%s' want '%s'", c->desc, got,
			    c->want);
		}
		assert_int_equal(s.utf8, c->utf8);
		free(in);
	}
}

/* ---------------------------------------------------------------- */

static void
test_astring_fmt(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*want;
	} cases[] = {
		{ "INBOX", 5, "\"INBOX\"" },
		{ "", 0, "\"\"" },
		{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
		{ "a b", 3, "\"a b\"" },
		{ "a\r\nb", 4, "{4}\r\na\r\nb" },
		{ "j\xc3\xb6rg", 5, "{5}\r\nj\xc3\xb6rg" },
		{ "a\0b", 3, "{3}\r\na\0b" },
	};
	char buf[64];
	size_t n, wl;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		wl = strlen(cases[i].want);
		if (cases[i].in[0] == 'a' && cases[i].len == 3 &&
		    cases[i].in[1] == '\0') {
			wl = 8;
		}
		n = imap_astring_fmt(buf, sizeof buf, cases[i].in,
		    cases[i].len);
		assert_int_equal(n, wl);
		assert_memory_equal(buf, cases[i].want, wl);
		/* a buffer one short: nothing written */
		memset(buf, 'Z', sizeof buf);
		assert_int_equal(imap_astring_fmt(buf, wl - 1, cases[i].in,
		    cases[i].len), wl);
		assert_int_equal(buf[0], 'Z');
	}
	assert_int_equal(imap_nstring_fmt(buf, sizeof buf, NULL, 0), 3);
	assert_memory_equal(buf, "NIL", 3);
	assert_int_equal(imap_nstring_fmt(buf, sizeof buf, "x", 1), 3);
	assert_memory_equal(buf, "\"x\"", 3);
	assert_int_equal(imap_nstring_fmt(buf, 2, NULL, 0), 3);
}

/* Output parses back to the same value. */
static void
test_astring_roundtrip(void **state)
{
	static const char *const vals[] = {
		"", "x", "a b", "\"", "\\", "((", "{5}", "\r\n", "\xff\xfe",
		"NIL", "a\"\\b c\r\nd",
	};
	char line[256], val[256];
	size_t n, vl;

	(void)state;
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		memcpy(line, "t LOGIN ", 8);
		n = 8 + imap_astring_fmt(line + 8, sizeof line - 8, vals[i],
		    strlen(vals[i]));
		memcpy(line + n, " x\r\n", 4);
		n += 4;
		assert_int_equal(imap_cmd_parse(line, n, &cmd), IMAP_PE_OK);
		assert_int_equal(imap_arg_str(&cmd.args[0], val, sizeof val,
		    &vl), 0);
		assert_int_equal(vl, strlen(vals[i]));
		assert_memory_equal(val, vals[i], vl);
	}
}

static void
test_strerror(void **state)
{
	(void)state;
	for (int e = IMAP_PE_OK; e <= IMAP_PE_LIT_BIG; e++) {
		const char *s = imap_strerror((enum imap_perr)e);

		assert_non_null(s);
		assert_true(strlen(s) > 0 && strlen(s) < 40);
		assert_null(strpbrk(s, "\r\n"));
	}
	assert_string_equal(imap_strerror(IMAP_PE_LINE_LONG),
	    "Line too long");
	assert_string_equal(imap_strerror(IMAP_PE_LIT_BIG),
	    "Literal too big");
	assert_string_equal(imap_strerror((enum imap_perr)999),
	    "Syntax error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_tag_get),
		cmocka_unit_test(test_cmd_parse),
		cmocka_unit_test(test_cmd_bounds),
		cmocka_unit_test(test_seqset),
		cmocka_unit_test(test_fetch),
		cmocka_unit_test(test_fetch_section_fields),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_status_items),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_framer_void),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_astring_fmt),
		cmocka_unit_test(test_astring_roundtrip),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
