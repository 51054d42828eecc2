/* SPDX-License-Identifier: ISC */
/*
 * test_maildrop.c - the maildrop file and the submitted header scan
 * (queue/maildrop.h): maildrop_parse on good and hostile files (at
 * least half of the rows are bad), maildrop_format round trips and
 * refusals, file names, header line classes, field framing, and the
 * addresses of To/Cc/Bcc values (RFC 5322 3.4) including groups,
 * comments, routes and the elements that are no address, and the
 * qualification of bare names in such values.
 *
 * Inputs are copied to heap blocks of exactly their length, so ASan
 * catches a read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "queue/maildrop.h"
#include "testutil.h"

#define HEAD	"wren-maildrop 1\nuid 1000\narrival 1764120000\n"
#define A32	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A64	A32 A32

/* ---------------------------------------------------------------- */
/* maildrop_parse */

struct parse_case {
	const char		*desc;
	struct text		 in;
	enum maildrop_err	 err;
	/* on MAILDROP_OK: */
	uint32_t		 uid;
	int64_t			 arrival;
	const char		*sender;
	unsigned		 flags;
	const char		*rcpts;		/* joined with '|' */
	size_t			 nrcpt;	/* when rcpts is NULL */
	size_t			 head_len;
	const char		*body;	/* the rest of the input */
};

#define OK(d, in, s, f, r, hl, b) \
	{ d, in, MAILDROP_OK, 1000, 1764120000, s, f, r, 0, hl, b }
#define BAD(d, in, e)	{ d, in, e, 0, 0, NULL, 0, NULL, 0, 0, NULL }

static const struct parse_case parse_cases[] = {
	OK("one recipient, then the message",
	   T(HEAD "sender alice@example.com\nflags -\nrcpt bob@example.net\n"
	     "\nSubject: hi\n\nbody\n"),
	   "alice@example.com", 0, "bob@example.net", 99,
	   "Subject: hi\n\nbody\n"),
	OK("null sender, two recipients, empty message",
	   T(HEAD "sender \nflags -\nrcpt a@x.org\nrcpt b@y.org\n\n"),
	   "", 0, "a@x.org|b@y.org", 87, ""),
	OK("smtputf8 flag with a UTF-8 recipient",
	   T(HEAD "sender a@x.org\nflags smtputf8\nrcpt j\xc3\xb6rg@x.org"
	     "\n\nx"),
	   "a@x.org", MAILDROP_F_SMTPUTF8, "j\xc3\xb6rg@x.org", 92, "x"),
	OK("flag given twice is the same flag",
	   T(HEAD "sender a@x.org\nflags smtputf8,smtputf8\nrcpt b@x.org"
	     "\n\n"),
	   "a@x.org", MAILDROP_F_SMTPUTF8, "b@x.org", 97, ""),
	OK("the message may hold anything, NULs too",
	   TN(HEAD "sender a@x.org\nflags -\nrcpt b@x.org\n\n\0\n\nwren-"),
	   "a@x.org", 0, "b@x.org", 81, "\0\n\nwren-"),
	OK("quoted local part without spaces",
	   T(HEAD "sender \"a.b\"@x.org\nflags -\nrcpt b@x.org\n\n"),
	   "\"a.b\"@x.org", 0, "b@x.org", 85, ""),
	OK("a local part of 64 octets",
	   T(HEAD "sender \nflags -\nrcpt " A64 "@x.org\n\n"),
	   "", 0, A64 "@x.org", 137, ""),
	{ "1000 recipients", TF(HEAD "sender \nflags -\n", "rcpt b@x.org\n",
	  1000, "\n"), MAILDROP_OK, 1000, 1764120000, "", 0, NULL, 1000,
	  61 + 13000, "" },

	BAD("empty file", T(""), MAILDROP_E_TRUNCATED),
	BAD("version line only, no newline", T("wren-maildrop 1"),
	    MAILDROP_E_TRUNCATED),
	BAD("ends before the empty line",
	    T(HEAD "sender \nflags -\nrcpt a@x.org\n"), MAILDROP_E_TRUNCATED),
	BAD("version 2", T("wren-maildrop 2\n"), MAILDROP_E_VERSION),
	BAD("version line with CR", T("wren-maildrop 1\r\nuid 1\n"),
	    MAILDROP_E_VERSION),
	BAD("an SMTP envelope is not a maildrop file",
	    T("wren-envelope 1\nid 1\n"), MAILDROP_E_VERSION),
	BAD("no header line ends within 64 KiB",
	    TF("wren-maildrop 1\nuid ", "1", 70000, "\n"),
	    MAILDROP_E_TOO_LONG),
	BAD("header longer than 64 KiB",
	    TF(HEAD "sender \nflags -\n", "rcpt " A64 "@x.org\n", 950,
	    "\n"), MAILDROP_E_TOO_LONG),
	BAD("lines out of order",
	    T("wren-maildrop 1\narrival 1\nuid 1\n"), MAILDROP_E_SYNTAX),
	BAD("unknown line", T(HEAD "sender \nflags -\nsize 3\nrcpt a@x.org\n"
	    "\n"), MAILDROP_E_SYNTAX),
	BAD("empty line too early", T(HEAD "\n"), MAILDROP_E_SYNTAX),
	BAD("key without its space", T("wren-maildrop 1\nuid\n"),
	    MAILDROP_E_SYNTAX),
	BAD("key in upper case", T("wren-maildrop 1\nUID 1\n"),
	    MAILDROP_E_SYNTAX),
	BAD("NUL inside a line", TN("wren-maildrop 1\nuid 1\0 2\n"),
	    MAILDROP_E_NUL),
	BAD("uid with a sign", T("wren-maildrop 1\nuid -1\n"),
	    MAILDROP_E_NUMBER),
	BAD("uid 2^32 - 1 is (uid_t)-1",
	    T("wren-maildrop 1\nuid 4294967295\n"), MAILDROP_E_NUMBER),
	BAD("uid empty", T("wren-maildrop 1\nuid \n"), MAILDROP_E_NUMBER),
	BAD("arrival overflows int64",
	    T("wren-maildrop 1\nuid 1\narrival 9223372036854775808\n"),
	    MAILDROP_E_NUMBER),
	BAD("arrival with a leading zero",
	    T("wren-maildrop 1\nuid 1\narrival 012\n"), MAILDROP_E_NUMBER),
	BAD("arrival with trailing space",
	    T("wren-maildrop 1\nuid 1\narrival 12 \n"), MAILDROP_E_NUMBER),
	BAD("sender with a space",
	    T(HEAD "sender a b@x.org\n"), MAILDROP_E_SENDER),
	BAD("sender without a domain", T(HEAD "sender alice\n"),
	    MAILDROP_E_SENDER),
	BAD("sender in angle brackets", T(HEAD "sender <a@x.org>\n"),
	    MAILDROP_E_SENDER),
	BAD("unknown flag", T(HEAD "sender \nflags 8bit\n"),
	    MAILDROP_E_FLAGS),
	BAD("empty flag list", T(HEAD "sender \nflags \n"), MAILDROP_E_FLAGS),
	BAD("trailing comma in flags", T(HEAD "sender \nflags smtputf8,\n"),
	    MAILDROP_E_FLAGS),
	BAD("no recipient", T(HEAD "sender \nflags -\n\nbody"),
	    MAILDROP_E_NO_RCPT),
	BAD("recipient with a tab",
	    T(HEAD "sender \nflags -\nrcpt a\t@x.org\n\n"), MAILDROP_E_RCPT),
	BAD("recipient with CR",
	    T(HEAD "sender \nflags -\nrcpt a@x.org\r\n\n"), MAILDROP_E_RCPT),
	BAD("bare recipient name", T(HEAD "sender \nflags -\nrcpt bob\n\n"),
	    MAILDROP_E_RCPT),
	BAD("recipient with an empty domain",
	    T(HEAD "sender \nflags -\nrcpt bob@\n\n"), MAILDROP_E_RCPT),
	BAD("local part of 65 octets",
	    T(HEAD "sender \nflags -\nrcpt a" A64 "@x.org\n\n"),
	    MAILDROP_E_RCPT),
	BAD("recipient that is a path",
	    T(HEAD "sender \nflags -\nrcpt ../../etc/passwd\n\n"),
	    MAILDROP_E_RCPT),
	BAD("1001 recipients",
	    TF(HEAD "sender \nflags -\n", "rcpt b@x.org\n", 1001, "\n"),
	    MAILDROP_E_TOO_MANY),
	BAD("UTF-8 recipient without smtputf8",
	    T(HEAD "sender \nflags -\nrcpt j\xc3\xb6rg@x.org\n\n"),
	    MAILDROP_E_8BIT),
	BAD("UTF-8 sender without smtputf8",
	    T(HEAD "sender j\xc3\xb6rg@x.org\nflags -\nrcpt a@x.org\n\n"),
	    MAILDROP_E_8BIT),
	BAD("a second sender line",
	    T(HEAD "sender \nsender a@x.org\n"), MAILDROP_E_SYNTAX),
	BAD("rcpt after flags missing", T(HEAD "sender \nrcpt a@x.org\n"),
	    MAILDROP_E_SYNTAX),
};

static void
test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0];
	    i++) {
		const struct parse_case *c = &parse_cases[i];
		static struct maildrop_env env;
		enum maildrop_err err;
		size_t len;
		char *buf = build(&c->in, &len);

		err = maildrop_parse(buf, len, &env);
		if (err != c->err) {
			fail_msg("%s: got %s, want %s", c->desc,
			    maildrop_strerror(err), maildrop_strerror(c->err));
		}
		assert_non_null(maildrop_strerror(err));
		if (err != MAILDROP_OK) {
			free(buf);
			continue;
		}
		if (env.uid != c->uid || env.arrival != c->arrival ||
		    strcmp(env.sender, c->sender) != 0 ||
		    env.flags != c->flags || env.head_len != c->head_len) {
			fail_msg("%s: uid %u arrival %lld sender '%s' "
			    "flags %u head_len %zu", c->desc, env.uid,
			    (long long)env.arrival, env.sender, env.flags,
			    env.head_len);
		}
		if (c->rcpts != NULL) {
			char joined[4096] = "";

			for (size_t k = 0; k < env.nrcpt; k++) {
				strcat(joined, k ? "|" : "");
				strcat(joined, env.rcpt[k]);
			}
			if (strcmp(joined, c->rcpts) != 0) {
				fail_msg("%s: rcpts '%s'", c->desc, joined);
			}
		} else if (env.nrcpt != c->nrcpt) {
			fail_msg("%s: %zu rcpts", c->desc, env.nrcpt);
		}
		expect_bytes(c->desc, "body", buf + env.head_len,
		    len - env.head_len, c->body,
		    c->in.len ? c->in.len - c->head_len : strlen(c->body));
		free(buf);
	}
}

/* Every prefix of a good file is truncated, never accepted or read
 * past. */
static void
test_parse_prefixes(void **state)
{
	static const char file[] = HEAD "sender a@x.org\nflags smtputf8\n"
	    "rcpt b@x.org\nrcpt c@x.org\n\nmsg";
	static struct maildrop_env env;

	(void)state;
	for (size_t n = 0; n < sizeof file - 1; n++) {
		char *buf = dup_exact(file, n);
		enum maildrop_err err = maildrop_parse(buf, n, &env);

		if (n < sizeof file - 1 - 3 && err != MAILDROP_E_TRUNCATED) {
			fail_msg("prefix %zu: %s", n, maildrop_strerror(err));
		}
		if (n >= sizeof file - 1 - 3 && err != MAILDROP_OK) {
			fail_msg("prefix %zu: %s", n, maildrop_strerror(err));
		}
		free(buf);
	}
}

/* ---------------------------------------------------------------- */
/* maildrop_format */

struct format_case {
	const char	*desc;
	uint32_t	 uid;
	int64_t		 arrival;
	const char	*sender;
	unsigned	 flags;
	const char	*rcpt[3];
	const char	*want;		/* NULL: refused */
};

static const struct format_case format_cases[] = {
	{ "plain", 1000, 1764120000, "alice@example.com", 0,
	  { "bob@example.net" }, HEAD "sender alice@example.com\nflags -\n"
	  "rcpt bob@example.net\n\n" },
	{ "null sender, two recipients", 0, 0, "", 0, { "a@x.org",
	  "b@y.org" }, "wren-maildrop 1\nuid 0\narrival 0\nsender \n"
	  "flags -\nrcpt a@x.org\nrcpt b@y.org\n\n" },
	{ "smtputf8", 4294967294u, 1, "j\xc3\xb6rg@x.org",
	  MAILDROP_F_SMTPUTF8, { "a@x.org" }, "wren-maildrop 1\n"
	  "uid 4294967294\narrival 1\nsender j\xc3\xb6rg@x.org\n"
	  "flags smtputf8\nrcpt a@x.org\n\n" },
	{ "no recipient", 1, 1, "", 0, { NULL }, NULL },
	{ "negative arrival", 1, -1, "", 0, { "a@x.org" }, NULL },
	{ "uid (uid_t)-1", UINT32_MAX, 1, "", 0, { "a@x.org" }, NULL },
	{ "unknown flag bit", 1, 1, "", 0x10, { "a@x.org" }, NULL },
	{ "bare recipient", 1, 1, "", 0, { "bob" }, NULL },
	{ "recipient with a newline", 1, 1, "", 0,
	  { "a@x.org\nrcpt c@evil.org" }, NULL },
	{ "sender with a space", 1, 1, "a b@x.org", 0, { "a@x.org" }, NULL },
	{ "UTF-8 without the flag", 1, 1, "", 0, { "j\xc3\xb6rg@x.org" },
	  NULL },
};

static void
test_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof format_cases / sizeof format_cases[0];
	    i++) {
		const struct format_case *c = &format_cases[i];
		static struct maildrop_env env, back;
		char out[1024];
		long n;

		memset(&env, 0, sizeof env);
		env.uid = c->uid;
		env.arrival = c->arrival;
		env.sender = c->sender;
		env.flags = c->flags;
		while (env.nrcpt < 3 && c->rcpt[env.nrcpt] != NULL) {
			env.rcpt[env.nrcpt] = c->rcpt[env.nrcpt];
			env.nrcpt++;
		}
		n = maildrop_format(out, sizeof out, &env);
		if (c->want == NULL) {
			if (n != -1) {
				fail_msg("%s: formatted", c->desc);
			}
			continue;
		}
		if (n < 0) {
			fail_msg("%s: refused", c->desc);
		}
		expect_bytes(c->desc, "format", out, (size_t)n, c->want,
		    strlen(c->want));
		/* Too small a buffer, by one byte. */
		assert_int_equal(maildrop_format(out, (size_t)n - 1, &env),
		    -1);
		/* And back. */
		if (maildrop_parse(out, (size_t)n, &back) != MAILDROP_OK ||
		    back.uid != env.uid || back.arrival != env.arrival ||
		    strcmp(back.sender, env.sender) != 0 ||
		    back.flags != env.flags || back.nrcpt != env.nrcpt ||
		    back.head_len != (size_t)n) {
			fail_msg("%s: does not parse back", c->desc);
		}
	}
}

static void
test_name_ok(void **state)
{
	static const struct {
		const char	*name;
		int		 ok;
	} cases[] = {
		{ "0692A1B2C3D4E0123456789A", 1 },
		{ "000000000000000000000000", 1 },
		{ "0692A1B2C3D4E0123456789", 0 },	/* 23 */
		{ "0692A1B2C3D4E0123456789AB", 0 },	/* 25 */
		{ "0692a1b2c3d4e0123456789a", 0 },	/* lower case */
		{ ".0692A1B2C3D4E0123456789", 0 },	/* temporary */
		{ "bad", 0 },
		{ "", 0 },
		{ "../../../../etc/passwd00", 0 },
		{ "0692A1B2C3D4E012345678.A", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (maildrop_name_ok(cases[i].name) != cases[i].ok) {
			fail_msg("'%s': want %d", cases[i].name, cases[i].ok);
		}
	}
}

/* ---------------------------------------------------------------- */
/* maildrop_header_line */

static void
test_header_line(void **state)
{
	static const struct {
		const char		*desc;
		const char		*line;
		enum maildrop_hline	 want;
	} cases[] = {
		{ "field", "Subject: hi", MAILDROP_HL_FIELD },
		{ "field with empty value", "X-Empty:", MAILDROP_HL_FIELD },
		{ "white space before the colon (obsolete)", "To : a@b",
		  MAILDROP_HL_FIELD },
		{ "continuation with a space", " more", MAILDROP_HL_CONT },
		{ "continuation with a tab", "\tmore", MAILDROP_HL_CONT },
		{ "empty line", "", MAILDROP_HL_BODY },
		{ "no colon", "Hello world", MAILDROP_HL_BODY },
		{ "colon first", ":x", MAILDROP_HL_BODY },
		{ "space inside the name", "Sub ject: x", MAILDROP_HL_BODY },
		{ "Unix From line", "From alice Mon Jan 1", MAILDROP_HL_BODY },
		{ "control byte in the name", "Sub\x01ject: x",
		  MAILDROP_HL_BODY },
		{ "8-bit byte in the name", "Sub\xc3\xa9: x",
		  MAILDROP_HL_BODY },
		{ "CR only", "\r", MAILDROP_HL_BODY },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = strlen(cases[i].line);
		char *l = dup_exact(cases[i].line, n);

		if (maildrop_header_line(l, n) != cases[i].want) {
			fail_msg("%s: got %d", cases[i].desc,
			    maildrop_header_line(l, n));
		}
		free(l);
	}
}

/* ---------------------------------------------------------------- */
/* maildrop_field_next: "name=value" per field, joined by '|'; a field
 * without a name shows as "?=value". */

static void
test_field_next(void **state)
{
	static const struct {
		const char	*desc;
		const char	*hdr;
		const char	*want;
	} cases[] = {
		{ "two fields", "To: a@b\nSubject: hi\n",
		  "To= a@b|Subject= hi" },
		{ "folded field", "To: a@b,\n c@d\n\tfoo\nX: y\n",
		  "To= a@b,\n c@d\n\tfoo|X= y" },
		{ "last field without LF", "A: 1\nB: 2", "A= 1|B= 2" },
		{ "white space before the colon", "To : x\n", "To= x" },
		{ "empty value", "X:\n", "X=" },
		{ "empty header", "", "" },
		{ "leading continuation line", " x\nA: 1\n", "?= x|A= 1" },
		{ "line that is no field", "junk\nA: 1\n", "?=junk|A= 1" },
		{ "continuation at the very end", "A: 1\n ", "A= 1\n " },
		{ "lone LF", "\n", "?=" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = strlen(cases[i].hdr), pos = 0, last = 0;
		char *h = dup_exact(cases[i].hdr, len);
		char got[512] = "";
		struct maildrop_field f;

		while (maildrop_field_next(h, len, &pos, &f) == 1) {
			size_t n = strlen(got);

			if (f.off != last || f.off + f.len != pos) {
				fail_msg("%s: field at %zu+%zu, pos %zu",
				    cases[i].desc, f.off, f.len, pos);
			}
			last = pos;
			snprintf(got + n, sizeof got - n, "%s%.*s=%.*s",
			    n ? "|" : "", (int)(f.name ? f.nlen : 1),
			    f.name ? f.name : "?", (int)f.vlen, f.value);
		}
		if (pos != len || strcmp(got, cases[i].want) != 0) {
			fail_msg("%s: got '%s'", cases[i].desc, got);
		}
		free(h);
	}
	{
		struct maildrop_field f;
		size_t pos = 0;

		assert_int_equal(maildrop_field_next("bCC: x\n", 7, &pos, &f),
		    1);
		assert_true(maildrop_field_is(&f, "Bcc"));
		assert_false(maildrop_field_is(&f, "Bc"));
		assert_false(maildrop_field_is(&f, "Bccc"));
	}
}

/* ---------------------------------------------------------------- */
/* maildrop_addr_next: the addresses joined by '|', "!" for an element
 * that is no address. */

static void
test_addr_next(void **state)
{
	static const struct {
		const char	*desc;
		const char	*value;
		const char	*want;
	} cases[] = {
		{ "one address", " a@b.org", "a@b.org" },
		{ "list", "a@b.org, c@d.org,e@f.org",
		  "a@b.org|c@d.org|e@f.org" },
		{ "display name", "Alice Example <alice@x.org>",
		  "alice@x.org" },
		{ "quoted display name with a comma",
		  "\"Example, Alice\" <alice@x.org>, bob@y.org",
		  "alice@x.org|bob@y.org" },
		{ "comment after", "alice@x.org (Alice)", "alice@x.org" },
		{ "nested comments", "a@x.org (a (b) c), b@y.org",
		  "a@x.org|b@y.org" },
		{ "comment with a comma", "a@x.org (x, y)", "a@x.org" },
		{ "bare names", "root, alice", "root|alice" },
		{ "group", "team: a@x.org, b@y.org;, c@z.org",
		  "a@x.org|b@y.org|c@z.org" },
		{ "empty group", "undisclosed-recipients:;", "" },
		{ "folded value", " a@x.org,\n\tb@y.org", "a@x.org|b@y.org" },
		{ "source route", "<@relay.org,@r2.org:a@x.org>", "a@x.org" },
		{ "spaces around @ and . (obsolete)", "a @ x . org",
		  "a@x.org" },
		{ "quoted local part", "\"a.b\"@x.org", "\"a.b\"@x.org" },
		{ "angle brackets alone", "<a@x.org>", "a@x.org" },
		{ "empty elements", ",,, a@x.org ,,", "a@x.org" },
		{ "empty value", "", "" },
		{ "encoded display name",
		  "=?UTF-8?Q?J=C3=B6rg?= <j@x.org>", "j@x.org" },

		{ "phrase without an address", "Alice Example", "!" },
		{ "phrase, then a good one", "Alice Example, b@y.org",
		  "!|b@y.org" },
		{ "unclosed angle", "Alice <a@x.org", "!" },
		{ "unclosed angle swallows the rest", "<a@x.org, b@y.org",
		  "!" },
		{ "stray >", "a@x.org>", "!" },
		{ "empty angle brackets", "<>", "!" },
		{ "two angle addresses in one element", "<a@x.org> <b@y.org>",
		  "!" },
		{ "unclosed quote", "\"Alice <a@x.org>", "!" },
		{ "unclosed comment", "a@x.org (Alice", "!" },
		{ "route without a colon", "<@relay.org>", "!" },
		{ "route with nothing after it", "<@relay.org:>", "!" },
		{ "space inside the angle brackets",
		  "<alice smith@x.org>", "!" },
		{ "escaped quote inside a comment", "(a\\)b) c@x.org",
		  "c@x.org" },
		{ "backslash at the end of a comment", "a@x.org (\\", "!" },
		{ "address longer than the buffer",
		  A64 A64
		  "aa@x.org, b@y.org", "!|b@y.org" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = strlen(cases[i].value), pos = 0;
		char *v = dup_exact(cases[i].value, len);
		char got[512] = "", out[128];
		int rc, guard = 0;

		while ((rc = maildrop_addr_next(v, len, &pos, out,
		    sizeof out)) != 0) {
			size_t n = strlen(got);

			assert_true(pos <= len);
			snprintf(got + n, sizeof got - n, "%s%s",
			    n ? "|" : "", rc == 1 ? out : "!");
			assert_true(++guard < 20);
		}
		if (strcmp(got, cases[i].want) != 0) {
			fail_msg("%s: got '%s', want '%s'", cases[i].desc, got,
			    cases[i].want);
		}
		free(v);
	}
}

/* ---------------------------------------------------------------- */
/* maildrop_qualify */

static void
test_qualify(void **state)
{
	static const struct {
		const char	*desc;
		const char	*value;
		size_t		 cap;	/* 0: 512 */
		const char	*want;	/* NULL: -1 */
	} cases[] = {
		{ "bare name", " alice", 0, " alice@ex.org" },
		{ "full address untouched", " alice@x.org", 0,
		  " alice@x.org" },
		{ "display name and bare name in <>", " Alice <alice>", 0,
		  " Alice <alice@ex.org>" },
		{ "comment kept after the name", " alice (Alice A.)", 0,
		  " alice@ex.org (Alice A.)" },
		{ "list, mixed", "alice, b@y.org, \"Q, R\" <bob>", 0,
		  "alice@ex.org, b@y.org, \"Q, R\" <bob@ex.org>" },
		{ "group", " team: alice, bob;", 0,
		  " team: alice@ex.org, bob@ex.org;" },
		{ "empty group", " undisclosed-recipients:;", 0,
		  " undisclosed-recipients:;" },
		{ "folding kept", " alice,\n\tbob", 0,
		  " alice@ex.org,\n\tbob@ex.org" },
		{ "route in <> keeps its hops", "<@r.org:alice>", 0,
		  "<@r.org:alice@ex.org>" },
		{ "quoted local part with @ inside quotes",
		  "\"a@b\"", 0, "\"a@b\"@ex.org" },
		{ "empty value", "", 0, "" },
		{ "exact fit", "a", 8, "a@ex.org" },

		{ "phrase without address copied as is", " Alice Example", 0,
		  " Alice Example" },
		{ "unbalanced < copied as is", " Alice <alice", 0,
		  " Alice <alice" },
		{ "<> copied as is", " <>", 0, " <>" },
		{ "unclosed comment copied", "alice (x", 0, "alice (x" },
		{ "NUL in a quoted string copied", "\"a\x01\"", 0,
		  "\"a\x01\"" },
		{ "one byte short", "a", 7, NULL },
		{ "too small for the rest", "a@x.org", 3, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = strlen(cases[i].value);
		size_t cap = cases[i].cap ? cases[i].cap : 512;
		char *v = dup_exact(cases[i].value, len);
		char *out = malloc(cap);
		long n;

		assert_non_null(out);
		n = maildrop_qualify(v, len, "ex.org", out, cap);
		if (cases[i].want == NULL) {
			if (n != -1) {
				fail_msg("%s: got %ld", cases[i].desc, n);
			}
		} else if (n < 0) {
			fail_msg("%s: refused", cases[i].desc);
		} else {
			expect_bytes(cases[i].desc, "qualify", out, (size_t)n,
			    cases[i].want, strlen(cases[i].want));
		}
		free(out);
		free(v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_prefixes),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_header_line),
		cmocka_unit_test(test_field_next),
		cmocka_unit_test(test_addr_next),
		cmocka_unit_test(test_qualify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
