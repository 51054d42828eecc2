/* SPDX-License-Identifier: ISC */
/*
 * test_subs.c - Dovecot's `subscriptions` file (store/subs.h): the
 * V2 form ("V<TAB>2", an empty line, names with TAB separators), the
 * old one-name-a-line form, and what Dovecot 2.3 skips (empty lines,
 * a last line without LF), plus NUL, over-long lines and invalid
 * names; and the writer (subs_put), whose output must read back the
 * same.
 *
 * Each row is a file and the trace its reading must give: "N:name"
 * for a name, "S:reason" for a skipped line, joined by '|'. More than
 * half the rows are hostile. Files are copied to heap blocks of
 * exactly their length so that ASan catches a read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/subs.h"
#include "testutil.h"

struct subs_case {
	const char	*desc;
	struct text	 in;
	const char	*want;
};

static const struct subs_case cases[] = {
	{ "empty file", T(""), "" },
	{ "V2 header only (Dovecot after the last UNSUBSCRIBE)",
	  T("V\t2\n\n"), "" },
	{ "V2 as Dovecot 2.3 writes it", T("V\t2\n\na\tb\nSent\nx&-AOk-\n"),
	  "N:a.b|N:Sent|N:x&-AOk-" },
	{ "V2, INBOX in lower case is INBOX", T("V\t2\n\ninbox\n"),
	  "N:INBOX" },
	{ "V2, a dot in a line is a separator too (Dovecot lists q.r)",
	  T("V\t2\n\nq.r\n"), "N:q.r" },
	{ "old form: the separator itself", T("a.b\nSent\n"),
	  "N:a.b|N:Sent" },
	{ "old form: names Dovecot made with wildcards",
	  T("x%y\nx*y\n"), "N:x%y|N:x*y" },
	{ "V2, a name of FOLDER_NAME_MAX octets",
	  TF("V\t2\n\n", "x", FOLDER_NAME_MAX, "\n"), "N:*" },

	{ "V2 header without its empty line: old form, as Dovecot",
	  T("V\t2\nSent\n"), "S:invalid mailbox name|N:Sent" },
	{ "V3 is not V2: its first line is an old-form name with a TAB",
	  T("V\t3\n\na\tb\n"), "S:invalid mailbox name|S:empty line|"
	  "S:invalid mailbox name" },
	{ "no header, a TAB in an old-form name",
	  T("x\ty\n"), "S:invalid mailbox name" },
	{ "a header line again later is a name V.2",
	  T("V\t2\n\nSent\nV\t2\n"), "N:Sent|N:V.2" },
	{ "header cut short: old form", T("V\t2\n"),
	  "S:invalid mailbox name" },
	{ "header without LF at all", T("V\t2"), "S:last line without LF" },
	{ "last line without LF (Dovecot ignores it)",
	  T("V\t2\n\nSent\nDra"), "N:Sent|S:last line without LF" },
	{ "empty lines in the middle", T("V\t2\n\nSent\n\n\nJunk\n"),
	  "N:Sent|S:empty line|S:empty line|N:Junk" },
	{ "duplicates are passed on (the caller merges them)",
	  T("V\t2\n\nSent\nSent\n"), "N:Sent|N:Sent" },
	{ "NUL in a line", TN("V\t2\n\na\0b\nc\n"), "S:NUL in line|N:c" },
	{ "NUL as the whole file", TN("\0"), "S:last line without LF" },
	{ "over-long line skipped, the next read",
	  TF("V\t2\n\n", "x", FOLDER_NAME_MAX + 1, "\nSent\n"),
	  "S:line too long|N:Sent" },
	{ "a 100 KB line",
	  TF("V\t2\n\n", "y", 100000, "\n"), "S:line too long" },
	{ "CR LF line ends: CR is a control character",
	  T("V\t2\n\nSent\r\n"), "S:invalid mailbox name" },
	{ "path escape in a name", T("V\t2\n\n..\t..\tetc\n"),
	  "S:invalid mailbox name" },
	{ "slash in a name", T("a/b\n"), "S:invalid mailbox name" },
	{ "8-bit name", T("V\t2\n\ncaf\xc3\xa9\n"),
	  "S:invalid mailbox name" },
	{ "invalid modified UTF-7", T("V\t2\n\nx&AGE-\n"),
	  "S:invalid mailbox name" },
	{ "a TAB first in V2 is a leading separator",
	  T("V\t2\n\n\tSent\n"), "S:invalid mailbox name" },
	{ "only LFs", T("\n\n\n"), "S:empty line|S:empty line|S:empty line" },
	{ "over-deep name", TF("V\t2\n\na", "\ta", FOLDER_DEPTH_MAX, "\n"),
	  "S:invalid mailbox name" },
};

static void
run(const char *in, size_t len, char *tr)
{
	struct subs_reader r;
	struct folder_name fn;
	enum subs_ev ev;
	size_t guard = 0;

	tr[0] = '\0';
	subs_reader_init(&r, in, len);
	while ((ev = subs_next(&r, &fn)) != SUBS_END) {
		assert_true(++guard <= len + 1);
		if (tr[0] != '\0') {
			trace_add(tr, "|");
		}
		if (ev == SUBS_NAME) {
			assert_int_equal(fn.name[fn.len], '\0');
			if (fn.len == FOLDER_NAME_MAX) {
				trace_add(tr, "N:*");
			} else {
				trace_add(tr, "N:%s", fn.name);
			}
		} else {
			assert_int_equal(ev, SUBS_SKIP);
			trace_add(tr, "S:%s", subs_skip_str(r.why));
		}
	}
	assert_int_equal(subs_next(&r, &fn), SUBS_END);
}

static void
test_read(void **state)
{
	char tr[TRACE_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len;
		char *in = build(&cases[i].in, &len);

		run(in, len, tr);
		if (strcmp(tr, cases[i].want) != 0) {
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].desc,
			    tr, cases[i].want);
		}
		free(in);
	}
}

/* The writer: Dovecot's exact octets, no partial write past cap, and
 * what it writes reads back. */
static void
test_put(void **state)
{
	static const char want[] = "V\t2\n\na\tb\nSent\nINBOX\tx\n";
	char out[64], tr[TRACE_MAX];
	size_t pos = 0;

	(void)state;
	assert_int_equal(subs_put(out, sizeof out, &pos, "a.b", 3), 0);
	assert_int_equal(subs_put(out, sizeof out, &pos, "Sent", 4), 0);
	assert_int_equal(subs_put(out, sizeof out, &pos, "INBOX.x", 7), 0);
	expect_bytes("writer", "V2", out, pos, want, sizeof want - 1);
	run(out, pos, tr);
	assert_string_equal(tr, "N:a.b|N:Sent|N:INBOX.x");

	/* Does not fit: -1, nothing written, pos unchanged. */
	{
		char small[8];
		size_t p = 0;

		memset(small, 'Z', sizeof small);
		assert_int_equal(subs_put(small, sizeof small, &p, "Sent",
		    4), -1);
		assert_int_equal(p, 0);
		assert_int_equal(small[0], 'Z');
		assert_int_equal(subs_put(small, 5, &p, "", 0), -1);
		p = 6;
		assert_int_equal(subs_put(small, sizeof small, &p, "a", 1),
		    0);
		assert_int_equal(p, 8);
		assert_int_equal(subs_put(small, sizeof small, &p, "", 0),
		    -1);
		p = 9;
		assert_int_equal(subs_put(small, sizeof small, &p, "a", 1),
		    -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_put),
	};

	return cmocka_run_group_tests_name("subs", tests, NULL, NULL);
}
