/* SPDX-License-Identifier: ISC */
/*
 * test_mailbox.c - the address parser (msg/mailbox.h): `local@domain`,
 * `"quoted local"@domain`, a bare `local`, and `@domain` for catch-all
 * keys; the canonical lower-case form, mailbox_format and
 * mailbox_lower.
 *
 * Each row of the parser table is one input with a one-line
 * description and either the parsed local part and domain or the
 * mailbox_err it must give. Every accepted address must format and
 * parse again to the same result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msg/mailbox.h"
#include "testutil.h"

struct parse_case {
	const char		*desc;
	struct text		 in;
	int			 allow_empty_local;
	enum mailbox_err	 want;
	const char		*local;		/* when MAILBOX_OK */
	const char		*domain;
};

#define GOOD(d, s, a, l, dom)	{ (d), T(s), (a), MAILBOX_OK, (l), (dom) }
#define BAD(d, s, a, e)		{ (d), T(s), (a), (e), NULL, NULL }
#define BADF(d, in, e)		{ (d), in, 0, (e), NULL, NULL }

/* 63 and 64 characters: the longest label, and one more. */
#define L63	"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz" \
		"abcdefghijk"
#define L64	L63 "l"
#define X16	"xxxxxxxxxxxxxxxx"

static const struct parse_case cases[] = {
	GOOD("plain address", "alice@example.com", 0, "alice",
	    "example.com"),
	GOOD("dots in local part and domain",
	    "first.last@mail.example.com", 0, "first.last",
	    "mail.example.com"),
	GOOD("plus tag kept", "alice+lists@example.com", 0, "alice+lists",
	    "example.com"),
	GOOD("quoted local part with spaces",
	    "\"john doe\"@example.com", 0, "\"john doe\"", "example.com"),
	GOOD("quoted local part with escapes",
	    "\"a\\\"b\\\\c\"@example.org", 0, "\"a\\\"b\\\\c\"",
	    "example.org"),
	GOOD("quoted local part with '@' and ',', no domain",
	    "\"a@b, c\"", 0, "\"a@b, c\"", ""),
	GOOD("empty quoted local part", "\"\"@example.com", 0, "\"\"",
	    "example.com"),
	GOOD("UTF-8 local part and domain", "jörg@exämple.de", 0, "jörg",
	    "exämple.de"),
	GOOD("trailing dot in the domain dropped", "a@example.com.", 0, "a",
	    "example.com"),
	GOOD("upper case lowered", "Alice@Example.COM", 0, "alice",
	    "example.com"),
	GOOD("upper case lowered in quotes too",
	    "\"John Doe\"@X.ORG", 0, "\"john doe\"", "x.org"),
	GOOD("@domain with allow_empty_local", "@Example.com", 1, "",
	    "example.com"),
	GOOD("bare local part", "Postmaster", 0, "postmaster", ""),
	GOOD("bare local part with allow_empty_local", "root", 1, "root",
	    ""),
	GOOD("every atext special",
	    "!#$%&'*+-/=?^_`{|}~@example.com", 0,
	    "!#$%&'*+-/=?^_`{|}~", "example.com"),
	GOOD("dots anywhere in the local part (lenient)",
	    ".a..b.@example.com", 0, ".a..b.", "example.com"),
	GOOD("single-label domain", "a@localhost", 0, "a", "localhost"),
	GOOD("underscore and digits in the domain",
	    "a@_dmarc.1example.com", 0, "a", "_dmarc.1example.com"),
	GOOD("label of 63 characters", "a@" L63 ".com", 0, "a",
	    L63 ".com"),
	{ "local part of 64 characters", TF("", "x", 64, "@b.c"), 0,
	  MAILBOX_OK,
	  X16 X16 X16 X16,
	  "b.c" },
	{ "domain of 253 characters", TF("a@", L63 ".", 3,
	  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi"),
	  0, MAILBOX_OK, "a",
	  L63 "." L63 "." L63 "."
	  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi" },

	BAD("empty", "", 0, MAILBOX_EMPTY),
	BAD("two trailing dots", "a@example.com..", 0, MAILBOX_BAD_DOMAIN),
	BAD("empty with allow_empty_local", "", 1, MAILBOX_EMPTY),
	BAD("'@' alone", "@", 0, MAILBOX_BAD_LOCAL),
	BAD("'@' alone with allow_empty_local", "@", 1, MAILBOX_BAD_DOMAIN),
	BAD("@domain without allow_empty_local", "@example.com", 0,
	    MAILBOX_BAD_LOCAL),
	BAD("empty domain", "a@", 0, MAILBOX_BAD_DOMAIN),
	BAD("empty label", "a@b..c", 0, MAILBOX_BAD_DOMAIN),
	BAD("leading dot in the domain", "a@.b.c", 0, MAILBOX_BAD_DOMAIN),
	BAD("domain of a dot only", "a@.", 0, MAILBOX_BAD_DOMAIN),
	BAD("label starting with a hyphen", "a@-b.c", 0,
	    MAILBOX_BAD_DOMAIN),
	BAD("label ending with a hyphen", "a@b-.c", 0, MAILBOX_BAD_DOMAIN),
	BAD("domain ending with a hyphen", "a@b.c-", 0, MAILBOX_BAD_DOMAIN),
	BAD("label of 64 characters", "a@" L64 ".com", 0,
	    MAILBOX_BAD_DOMAIN),
	BADF("local part of 65 characters", TF("", "x", 65, "@b.c"),
	    MAILBOX_LOCAL_TOO_LONG),
	BADF("quoted local part of 65 characters between the quotes",
	    TF("\"", "x", 65, "\"@b.c"), MAILBOX_LOCAL_TOO_LONG),
	BADF("domain of 256 characters", TF("a@", "b.", 128, ""),
	    MAILBOX_DOMAIN_TOO_LONG),
	BADF("domain of 254 characters (DNS allows 253)",
	    TF("a@", "b.", 126, "bb"), MAILBOX_BAD_DOMAIN),
	BAD("unterminated quote", "\"john@example.com", 0,
	    MAILBOX_BAD_QUOTE),
	BAD("quote followed by junk", "\"a\"b@example.com", 0,
	    MAILBOX_BAD_QUOTE),
	BAD("tab in a quoted local part", "\"a\tb\"@example.com", 0,
	    MAILBOX_BAD_QUOTE),
	BAD("DEL in a quoted local part", "\"a\x7f" "b\"@example.com", 0,
	    MAILBOX_BAD_QUOTE),
	BAD("escaped control character in quotes", "\"a\\\nb\"@x.org", 0,
	    MAILBOX_BAD_QUOTE),
	BAD("backslash at the end of a quote", "\"a\\", 0,
	    MAILBOX_BAD_QUOTE),
	BAD("space in an unquoted local part", "john doe@example.com", 0,
	    MAILBOX_BAD_LOCAL),
	BADF("NUL byte in the local part", TF("a", "", 1, "b@x.org"),
	    MAILBOX_BAD_LOCAL),
	BADF("NUL byte in the domain", TF("a@x", "", 1, ".org"),
	    MAILBOX_BAD_DOMAIN),
	BADF("NUL byte in quotes", TF("\"a", "", 1, "\"@x.org"),
	    MAILBOX_BAD_QUOTE),
	BAD("address literal (not accepted here)", "a@[1.2.3.4]", 0,
	    MAILBOX_BAD_DOMAIN),
	BAD("two '@'", "a@b@example.com", 0, MAILBOX_BAD_LOCAL),
	BAD("angle brackets", "<a@example.com>", 0, MAILBOX_BAD_LOCAL),
	BAD("comma in an unquoted local part", "a,b@example.com", 0,
	    MAILBOX_BAD_LOCAL),
	BAD("quote inside an unquoted local part", "a\"b@example.com", 0,
	    MAILBOX_BAD_LOCAL),
	BAD("port after the domain", "a@example.com:25", 0,
	    MAILBOX_BAD_DOMAIN),
	BAD("space in the domain", "a@exa mple.com", 0, MAILBOX_BAD_DOMAIN),
};

static void
test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct parse_case *c = &cases[i];
		struct mailbox mb, again;
		char out[ADDR_MAX + 2];
		enum mailbox_err me;
		size_t len;
		char *s = build(&c->in, &len);
		int n;

		me = mailbox_parse(s, len, c->allow_empty_local, &mb);
		if (me != c->want) {
			fail_msg("%s: got %d (%s), want %d (%s)", c->desc,
			    (int)me, mailbox_strerror(me), (int)c->want,
			    mailbox_strerror(c->want));
		}
		free(s);
		if (me != MAILBOX_OK) {
			continue;
		}
		if (mb.llen != strlen(c->local) ||
		    strcmp(mb.local, c->local) != 0) {
			fail_msg("%s: local '%s', want '%s'", c->desc,
			    mb.local, c->local);
		}
		if (mb.dlen != strlen(c->domain) ||
		    strcmp(mb.domain, c->domain) != 0) {
			fail_msg("%s: domain '%s', want '%s'", c->desc,
			    mb.domain, c->domain);
		}
		/* The canonical form parses to itself. */
		n = mailbox_format(&mb, out, sizeof out);
		if (n < 0) {
			fail_msg("%s: mailbox_format failed", c->desc);
		}
		me = mailbox_parse(out, (size_t)n, c->allow_empty_local,
		    &again);
		if (me != MAILBOX_OK || again.llen != mb.llen ||
		    again.dlen != mb.dlen ||
		    strcmp(again.local, mb.local) != 0 ||
		    strcmp(again.domain, mb.domain) != 0) {
			fail_msg("%s: '%s' does not parse to itself",
			    c->desc, out);
		}
	}
}

/* ---------------------------------------------------------------- */
/* mailbox_format: the text, and -1 when cap has no room for it and
 * its NUL. */

static const struct {
	const char	*desc;
	const char	*in;
	int		 allow_empty_local;
	size_t		 cap;		/* 0: a large buffer */
	int		 want;		/* the length, or -1 */
	const char	*text;
} format_cases[] = {
	{ "local@domain", "Alice@Example.COM.", 0, 0, 17,
	  "alice@example.com" },
	{ "bare local part", "postmaster", 0, 0, 10, "postmaster" },
	{ "@domain", "@example.com", 1, 0, 12, "@example.com" },
	{ "quoted local part", "\"J D\"@x.org", 0, 0, 11,
	  "\"j d\"@x.org" },
	{ "cap exactly length + 1", "a@b.c", 0, 6, 5, "a@b.c" },

	{ "cap of the length, no room for the NUL", "a@b.c", 0, 5, -1,
	  NULL },
	{ "cap of 1 for a bare local part", "a", 0, 1, -1, NULL },
	{ "cap of 1", "a@b.c", 0, 1, -1, NULL },
	{ "cap one short for @domain", "@example.com", 1, 12, -1, NULL },
	{ "cap one short for a quoted local part", "\"a b\"", 0, 5, -1,
	  NULL },
};

static void
test_format(void **state)
{
	char out[ADDR_MAX + 2];
	struct mailbox mb;

	(void)state;
	for (size_t i = 0; i < sizeof format_cases / sizeof format_cases[0];
	    i++) {
		size_t cap = format_cases[i].cap ? format_cases[i].cap :
		    sizeof out;
		int n;

		assert_int_equal(mailbox_parse(format_cases[i].in,
		    strlen(format_cases[i].in),
		    format_cases[i].allow_empty_local, &mb), MAILBOX_OK);
		memset(out, 'Z', sizeof out);
		n = mailbox_format(&mb, out, cap);
		if (n != format_cases[i].want) {
			fail_msg("%s: %d, want %d", format_cases[i].desc, n,
			    format_cases[i].want);
		}
		if (n >= 0) {
			assert_string_equal(out, format_cases[i].text);
		} else {
			/* Nothing written on failure. */
			assert_int_equal(out[0], 'Z');
		}
		/* Never a byte past cap. */
		if (cap < sizeof out) {
			assert_int_equal(out[cap], 'Z');
		}
	}
	/* A cap of zero writes nothing at all. */
	assert_int_equal(mailbox_parse("a", 1, 0, &mb), MAILBOX_OK);
	out[0] = 'Z';
	assert_int_equal(mailbox_format(&mb, out, 0), -1);
	assert_int_equal(out[0], 'Z');
}

/* ---------------------------------------------------------------- */
/* mailbox_lower: ASCII letters only, and only the first len bytes. */

static const struct {
	const char	*desc;
	const char	*in;
	size_t		 len;
	const char	*want;
} lower_cases[] = {
	{ "ASCII upper case", "ABCXYZ", 6, "abcxyz" },
	{ "digits and punctuation untouched", "A1@[Z]-_.", 9, "a1@[z]-_." },
	{ "UTF-8 upper case untouched", "ÄÖÜ JÖRG", sizeof("ÄÖÜ JÖRG") - 1,
	  "ÄÖÜ jÖrg" },
	{ "only len bytes", "ABCD", 2, "abCD" },
	{ "len 0", "ABC", 0, "ABC" },
	{ "the bytes next to the letters", "@[`{", 4, "@[`{" },
};

static void
test_lower(void **state)
{
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof lower_cases / sizeof lower_cases[0];
	    i++) {
		assert_true(strlen(lower_cases[i].in) < sizeof buf);
		strcpy(buf, lower_cases[i].in);
		mailbox_lower(buf, lower_cases[i].len);
		if (strcmp(buf, lower_cases[i].want) != 0) {
			fail_msg("%s: '%s', want '%s'", lower_cases[i].desc,
			    buf, lower_cases[i].want);
		}
	}
}

/* Every reason has its own text. */
static void
test_strerror(void **state)
{
	(void)state;
	for (int a = MAILBOX_OK; a <= MAILBOX_BAD_QUOTE; a++) {
		assert_non_null(mailbox_strerror((enum mailbox_err)a));
		for (int b = a + 1; b <= MAILBOX_BAD_QUOTE; b++) {
			assert_string_not_equal(
			    mailbox_strerror((enum mailbox_err)a),
			    mailbox_strerror((enum mailbox_err)b));
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_lower),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests_name("mailbox", tests, NULL, NULL);
}
