/* SPDX-License-Identifier: ISC */
/*
 * test_map_edit.c - editing one account's line of a users file
 * (map/map_edit.h), as `wren user add|del|passwd` do: each row is a
 * file image, an operation on one name, how many entries of that name
 * the file holds, and the exact bytes expected after the edit (every
 * other byte of the file kept). Half the rows are hostile: CRLF, no
 * final newline, long lines, duplicate names, comments and indented
 * lines that look like entries, NUL bytes, a too-small output.
 */
#include "map/map_edit.h"
#include "testutil.h"

#define OUT_MAX		8192
#define NEW		"bob:{SHA512-CRYPT}$6$new"
#define SEC		"{SHA512-CRYPT}$6$new"

enum op { OP_ADD, OP_DEL, OP_PASSWD };

struct row {
	const char	*desc;
	struct text	 in;
	enum op		 op;
	const char	*name;
	int		 count;		/* map_edit_find's result */
	struct text	 want;		/* after the edit; head NULL: -1 */
	size_t		 cap;		/* output room; 0: OUT_MAX */
};

static const struct row rows[] = {
	{ "add to an empty file", T(""), OP_ADD, "bob", 0,
	  T(NEW "\n"), 0 },
	{ "add after comments, kept as they are",
	  T("# accounts\n\nalice:{PLAIN}x\n"), OP_ADD, "bob", 0,
	  T("# accounts\n\nalice:{PLAIN}x\n" NEW "\n"), 0 },
	{ "add to a file without a final newline",
	  T("alice:{PLAIN}x"), OP_ADD, "bob", 0,
	  T("alice:{PLAIN}x\n" NEW "\n"), 0 },
	{ "add to a CRLF file: CRLF kept",
	  T("alice:{PLAIN}x\r\n"), OP_ADD, "bob", 0,
	  T("alice:{PLAIN}x\r\n" NEW "\r\n"), 0 },
	{ "add to CRLF file without a final line end",
	  T("a:{PLAIN}x\r\nc:{PLAIN}y"), OP_ADD, "bob", 0,
	  T("a:{PLAIN}x\r\nc:{PLAIN}y\r\n" NEW "\r\n"), 0 },
	{ "a comment that looks like an entry is not one",
	  T("#bob:{PLAIN}old\n  # bob:{PLAIN}old\n"), OP_ADD, "bob", 0,
	  T("#bob:{PLAIN}old\n  # bob:{PLAIN}old\n" NEW "\n"), 0 },
	{ "a longer or shorter name is another account",
	  T("bobby:{PLAIN}x\nbo:{PLAIN}y\nbob@x.org:{PLAIN}z\n"),
	  OP_ADD, "bob", 0,
	  T("bobby:{PLAIN}x\nbo:{PLAIN}y\nbob@x.org:{PLAIN}z\n" NEW "\n"),
	  0 },
	{ "delete the middle line, neighbours untouched",
	  T("# c\nalice:{PLAIN}x\nbob:{PLAIN}y::::/h\ncarol:{PLAIN}z\n"),
	  OP_DEL, "bob", 1,
	  T("# c\nalice:{PLAIN}x\ncarol:{PLAIN}z\n"), 0 },
	{ "names compare without ASCII case, as keys are lower-cased",
	  T("Bob:{PLAIN}y\n"), OP_DEL, "bOB", 1, T(""), 0 },
	{ "an indented entry is an entry (map_text trims it)",
	  T("\t bob:{PLAIN}y\n# end\n"), OP_DEL, "bob", 1, T("# end\n"),
	  0 },
	{ "delete the last line that has no newline",
	  T("a:{PLAIN}x\nbob:{PLAIN}y"), OP_DEL, "bob", 1,
	  T("a:{PLAIN}x\n"), 0 },
	{ "delete a CRLF line", T("bob:{PLAIN}y\r\na:{PLAIN}x\r\n"),
	  OP_DEL, "bob", 1, T("a:{PLAIN}x\r\n"), 0 },
	{ "duplicate names are counted, the first is found",
	  T("bob:{PLAIN}1\nbob:{PLAIN}2\n"), OP_DEL, "bob", 2,
	  T("bob:{PLAIN}2\n"), 0 },
	{ "passwd keeps uid, gid, gecos, home and unknown fields",
	  T("bob:{PLAIN}old:1:2:Bob B:/home/bob::userdb_quota=1G:x:y\n"),
	  OP_PASSWD, "bob", 1,
	  T("bob:" SEC ":1:2:Bob B:/home/bob::userdb_quota=1G:x:y\n"), 0 },
	{ "passwd keeps indentation and CRLF",
	  T("  bob:$6$old\r\n"), OP_PASSWD, "bob", 1,
	  T("  bob:" SEC "\r\n"), 0 },
	{ "passwd on an unterminated last line adds no newline",
	  T("a:x\nbob:{PLAIN}old  "), OP_PASSWD, "bob", 1,
	  T("a:x\nbob:" SEC "  "), 0 },
	{ "passwd of an empty password field",
	  T("bob:\n"), OP_PASSWD, "bob", 1, T("bob:" SEC "\n"), 0 },
	{ "a line without ':' is no entry of that name",
	  T("bob\n"), OP_ADD, "bob", 0, T("bob\n" NEW "\n"), 0 },
	{ "a NUL byte anywhere: refused", TN("a:x\n\0bob:y\n"), OP_DEL,
	  "bob", -1, { NULL, NULL, 0, NULL, 0 }, 0 },
	{ "long lines around the entry are kept whole",
	  TF("#", "x", 5000, "\nbob:{PLAIN}y\n"), OP_DEL, "bob", 1,
	  TF("#", "x", 5000, "\n"), 0 },
	{ "long line before an append",
	  TF("a:{PLAIN}", "y", 3000, ""), OP_ADD, "bob", 0,
	  TF("a:{PLAIN}", "y", 3000, "\n" NEW "\n"), 0 },
	{ "output one byte too small: refused",
	  T("a:x\n"), OP_ADD, "bob", 0, { NULL, NULL, 0, NULL, 0 },
	  4 + sizeof NEW - 1 },
	{ "only blank lines and CRs", T("\r\n\r\n \t\n"), OP_ADD, "bob",
	  0, T("\r\n\r\n \t\n" NEW "\r\n"), 0 },
};

static void
test_rows(void **state)
{
	static char out[OUT_MAX], line[OUT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		size_t len, wlen = 0, start, end, ll;
		char *in = build(&r->in, &len), *want = NULL;
		size_t cap = r->cap ? r->cap : OUT_MAX;
		long n = -1;
		int c;

		if (r->want.head != NULL) {
			want = build(&r->want, &wlen);
		}
		c = map_edit_find(in, len, r->name, strlen(r->name), &start,
		    &end);
		if (c != r->count) {
			fail_msg("%s: %d entries, want %d", r->desc, c,
			    r->count);
		}
		if (c == -1) {
			assert_null(want);
			free(in);
			continue;
		}
		if (r->op == OP_ADD) {
			n = map_edit_splice(in, len, start, end, S(NEW), out,
			    cap);
		} else if (r->op == OP_DEL) {
			n = map_edit_splice(in, len, start, end, NULL, 0, out,
			    cap);
		} else {
			ll = end - start;
			if (ll > 0 && in[start + ll - 1] == '\n') {
				ll--;
			}
			if (ll > 0 && in[start + ll - 1] == '\r' &&
			    end > start + ll) {
				ll--;
			}
			n = map_edit_set_secret(in + start, ll, S(SEC), line,
			    sizeof line);
			assert_true(n >= 0);
			n = map_edit_splice(in, len, start, end, line,
			    (size_t)n, out, cap);
		}
		if (want == NULL) {
			if (n != -1) {
				fail_msg("%s: %ld bytes, want -1", r->desc, n);
			}
		} else {
			if (n < 0) {
				fail_msg("%s: -1", r->desc);
			}
			expect_bytes(r->desc, "edit", out, (size_t)n, want,
			    wlen);
		}
		free(in);
		free(want);
	}
}

/* Spans outside the buffer and a nameless line are refused. */
static void
test_bad_args(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(map_edit_splice(S("abc"), 2, 1, NULL, 0, out,
	    sizeof out), -1);
	assert_int_equal(map_edit_splice(S("abc"), 1, 4, NULL, 0, out,
	    sizeof out), -1);
	assert_int_equal(map_edit_set_secret(S("# c:x"), S("s"), out,
	    sizeof out), -1);
	assert_int_equal(map_edit_set_secret(S("bob:x"), S("s"), out, 4),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
