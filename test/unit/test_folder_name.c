/* SPDX-License-Identifier: ISC */
/*
 * test_folder_name.c - IMAP mailbox names and their Maildir++
 * directories (store/folder_name.h): RFC 3501 5.1 and the modified
 * UTF-7 of 5.1.3, with Dovecot 2.3's rules for INBOX.
 *
 * Each row is one name, how it is taken, and the code it must give
 * with, when valid, the normalised name, its directory and depth.
 * More than half the rows are hostile. The input is copied to a heap
 * block of exactly its length, so ASan catches a read past the end;
 * every refusal's text must be a non-empty sentence without CR or LF.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/folder_name.h"
#include "testutil.h"

#define N	FOLDER_NAME_NEW
#define L	FOLDER_NAME_LAX
#define TR	FOLDER_NAME_TRAIL

struct name_case {
	const char		*desc;
	struct text		 in;
	unsigned		 how;
	enum folder_name_err	 want;
	const char		*name;	/* when OK */
	const char		*dir;
	unsigned		 depth;
};

#define OK(d, s, how, name, dir, depth) \
	{ d, T(s), how, FOLDER_NAME_OK, name, dir, depth }
#define BAD(d, s, how, err) \
	{ d, T(s), how, FOLDER_NAME_##err, NULL, NULL, 0 }

static const struct name_case cases[] = {
	/* Valid names. */
	OK("plain name", "Sent", N, "Sent", ".Sent", 1),
	OK("INBOX is the root", "INBOX", N, "INBOX", "", 1),
	OK("INBOX in lower case is the root", "inbox", N, "INBOX", "", 1),
	OK("INBOX in mixed case is the root", "InBoX", N, "INBOX", "", 1),
	OK("INBOX.x is an ordinary folder .INBOX.x", "INBOX.x", N,
	    "INBOX.x", ".INBOX.x", 2),
	OK("inbox.y gets INBOX in capitals, as Dovecot", "inbox.y", N,
	    "INBOX.y", ".INBOX.y", 2),
	OK("INBOXES is not INBOX", "inboxes", N, "inboxes", ".inboxes", 1),
	OK("two levels", "a.b", N, "a.b", ".a.b", 2),
	OK("&- is a literal ampersand", "x&-y", N, "x&-y", ".x&-y", 1),
	OK("two literal ampersands", "&-&-", N, "&-&-", ".&-&-", 1),
	OK("e acute, &AOk-", "caf&AOk-", N, "caf&AOk-", ".caf&AOk-", 1),
	OK("two characters in one run", "&AOkA6Q-", N, "&AOkA6Q-",
	    ".&AOkA6Q-", 1),
	OK("CJK, RFC 3501 5.1.3's example", "&ZeVnLIqe-", N, "&ZeVnLIqe-",
	    ".&ZeVnLIqe-", 1),
	OK("surrogate pair (U+1F600)", "&2D3eAA-", N, "&2D3eAA-",
	    ".&2D3eAA-", 1),
	OK("run, ASCII, run", "&AOk-a&AOk-", N, "&AOk-a&AOk-",
	    ".&AOk-a&AOk-", 1),
	OK("trailing separator dropped for CREATE", "k.", N | TR, "k", ".k",
	    1),
	OK("spaces are allowed", "My Folder", N, "My Folder", ".My Folder",
	    1),
	OK("tilde inside a name", "a~b", N, "a~b", ".a~b", 1),
	OK("cur inside a component is fine", "recur", N, "recur", ".recur",
	    1),
	OK("% allowed for an existing folder", "x%y", L, "x%y", ".x%y", 1),
	OK("* allowed for an existing folder", "x*y", L, "x*y", ".x*y", 1),
	OK("cur allowed for an existing folder", "cur", L, "cur", ".cur", 1),
	OK("NeW in another case is a folder, as in Dovecot", "NeW", N, "NeW",
	    ".NeW", 1),
	OK("TMP in capitals is a folder", "TMP", N, "TMP", ".TMP", 1),
	OK("Cur as a lower level is a folder", "a.Cur", N, "a.Cur", ".a.Cur",
	    2),
	OK("DOVECOT-TRASHED lower level is fine", "a.DOVECOT-TRASHED", N,
	    "a.DOVECOT-TRASHED", ".a.DOVECOT-TRASHED", 2),
	{ "exactly FOLDER_NAME_MAX octets", TF(NULL, "x", FOLDER_NAME_MAX,
	    NULL), N, FOLDER_NAME_OK, NULL, NULL, 1 },
	{ "exactly FOLDER_DEPTH_MAX levels", TF("a", ".a",
	    FOLDER_DEPTH_MAX - 1, NULL), N, FOLDER_NAME_OK, NULL, NULL,
	    FOLDER_DEPTH_MAX },
	{ "FOLDER_NAME_MAX + a trailing dot for CREATE", TF(NULL, "x",
	    FOLDER_NAME_MAX, "."), N | TR, FOLDER_NAME_OK, NULL, NULL, 1 },

	/* Hostile or invalid names. */
	BAD("empty name", "", N, EMPTY),
	{ "one octet over FOLDER_NAME_MAX", TF(NULL, "x",
	    FOLDER_NAME_MAX + 1, NULL), N, FOLDER_NAME_LONG, NULL, NULL, 0 },
	{ "far too long, 100 KB", TF(NULL, "a.", 50000, NULL), N,
	    FOLDER_NAME_LONG, NULL, NULL, 0 },
	{ "over-long with a trailing dot", TF(NULL, "x",
	    FOLDER_NAME_MAX + 1, "."), N | TR, FOLDER_NAME_LONG, NULL, NULL,
	    0 },
	{ "one level over FOLDER_DEPTH_MAX", TF("a", ".a",
	    FOLDER_DEPTH_MAX, NULL), N, FOLDER_NAME_DEEP, NULL, NULL, 0 },
	{ "over-deep even for an existing folder", TF("a", ".a",
	    FOLDER_DEPTH_MAX, NULL), L, FOLDER_NAME_DEEP, NULL, NULL, 0 },
	BAD("leading separator", ".a", N, LEAD_SEP),
	BAD("dot alone", ".", N | TR, LEAD_SEP),
	BAD("dot dot", "..", N, LEAD_SEP),
	BAD("dot dot slash escape", "../../etc", N, SLASH),
	BAD("trailing separator without TRAIL", "a.", N, TRAIL_SEP),
	BAD("two trailing separators even with TRAIL", "k.l..", N | TR,
	    EMPTY_PART),
	BAD("empty component", "a..b", N, EMPTY_PART),
	BAD("slash inside", "a/b", N, SLASH),
	BAD("leading slash", "/etc/passwd", N, SLASH),
	BAD("leading slash for an existing folder", "/etc", L, SLASH),
	BAD("leading tilde", "~root", N, TILDE),
	BAD("leading tilde for an existing folder", "~x", L, TILDE),
	BAD("TAB", "a\tb", N, CTL),
	BAD("CR LF injection", "a\r\nb", N, CTL),
	BAD("DEL", "a\x7f", N, CTL),
	{ "NUL inside", TN("a\0b"), N, FOLDER_NAME_CTL, NULL, NULL, 0 },
	BAD("raw UTF-8 (e acute)", "caf\xc3\xa9", N, 8BIT),
	BAD("raw Latin-1 octet", "\xe9t\xe9", N, 8BIT),
	BAD("8-bit octet inside a base64 run", "&AO\xe9-", N, 8BIT),
	BAD("percent wildcard", "a%", N, WILDCARD),
	BAD("star wildcard", "*", N, WILDCARD),
	BAD("tmp collides with Maildir's tmp/", "tmp", N, RESERVED),
	BAD("new as written", "new", N, RESERVED),
	BAD("cur alone at the top", "cur", N | TR, RESERVED),
	BAD("tmp as a middle level", "a.tmp.b", N, RESERVED),
	BAD("cur as a lower level", "a.cur", N, RESERVED),
	BAD("DOVECOT-TRASHED is Dovecot's delete name", "DOVECOT-TRASHED",
	    N, RESERVED),
	BAD("unterminated &", "x&AOk", N, UTF7_OPEN),
	BAD("& last", "x&", N, UTF7_OPEN),
	BAD("base64 run cut by a separator", "&AOk.x-", N, UTF7_B64),
	BAD("standard base64 slash is not modified base64", "&AO/-", N,
	    UTF7_B64),
	BAD("base64 padding '='", "&AOk=-", N, UTF7_B64),
	BAD("non-shortest: a spare octet", "&AOkA-", N, UTF7_BITS),
	BAD("spare bits not zero (Dovecot takes it)", "&AOl-", N,
	    UTF7_BITS),
	BAD("run too short for one character", "&AO-", N, UTF7_BITS),
	BAD("non-zero spare bits", "&,,,-", N, UTF7_BITS),
	BAD("encoded printable ASCII 'a'", "x&AGE-", N, UTF7_ASCII),
	BAD("encoded '&'", "&ACY-", N, UTF7_ASCII),
	BAD("encoded '/' cannot smuggle a slash", "&AC8-etc", N,
	    UTF7_ASCII),
	BAD("encoded '.' cannot smuggle a level", "a&AC4-b", N, UTF7_ASCII),
	BAD("encoded TAB", "x&AAk-y", N, CTL),
	BAD("encoded NUL", "&AAA-", N, CTL),
	BAD("two runs side by side", "&AOk-&AOk-", N, UTF7_SPLIT),
	BAD("lone high surrogate", "&2D0-", N, UTF7_SURROGATE),
	BAD("lone low surrogate", "&3gA-", N, UTF7_SURROGATE),
	BAD("high surrogate then a BMP character", "&2D0A6Q-", N,
	    UTF7_SURROGATE),
	BAD("two high surrogates", "&2D3YPQ-", N, UTF7_SURROGATE),
};

static void
test_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct name_case *c = &cases[i];
		struct folder_name fn;
		enum folder_name_err got;
		const char *text;
		size_t len;
		char *in = build(&c->in, &len);

		got = folder_name_parse(in, len, c->how, &fn);
		if (got != c->want) {
			fail_msg("%s: got %d (%s), want %d (%s)", c->desc,
			    got, folder_name_strerror(got), c->want,
			    folder_name_strerror(c->want));
		}
		text = folder_name_strerror(got);
		if (text == NULL || text[0] == '\0' ||
		    strpbrk(text, "\r\n") != NULL) {
			fail_msg("%s: bad text", c->desc);
		}
		if (got != FOLDER_NAME_OK) {
			free(in);
			continue;
		}
		if (c->name != NULL) {
			expect_bytes(c->desc, "name", fn.name, fn.len, c->name,
			    strlen(c->name));
			expect_bytes(c->desc, "dir", fn.dir, fn.dirlen, c->dir,
			    strlen(c->dir));
		}
		if (fn.depth != c->depth || fn.name[fn.len] != '\0' ||
		    fn.dir[fn.dirlen] != '\0' ||
		    fn.inbox != (fn.dirlen == 0) ||
		    (!fn.inbox && (fn.dirlen != fn.len + 1 ||
		    memcmp(fn.dir + 1, fn.name, fn.len) != 0))) {
			fail_msg("%s: depth %u, dir/name mismatch", c->desc,
			    fn.depth);
		}
		free(in);
	}
}

/* Every code has its own text. */
static void
test_texts(void **state)
{
	(void)state;
	for (int i = 0; i < FOLDER_NAME_ERR_MAX; i++) {
		const char *a = folder_name_strerror((enum folder_name_err)i);

		assert_non_null(a);
		for (int j = 0; j < i; j++) {
			assert_string_not_equal(a, folder_name_strerror(
			    (enum folder_name_err)j));
		}
	}
	assert_non_null(folder_name_strerror(FOLDER_NAME_ERR_MAX));
	assert_int_equal(folder_name_is_inbox("iNbOx", 5), 1);
	assert_int_equal(folder_name_is_inbox("INBOX.", 6), 0);
	assert_int_equal(folder_name_is_inbox("INBO", 4), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_texts),
	};

	return cmocka_run_group_tests_name("folder_name", tests, NULL, NULL);
}
