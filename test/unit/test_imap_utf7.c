/* SPDX-License-Identifier: ISC */
/*
 * test_imap_utf7.c - mailbox names between UTF-8 and modified UTF-7
 * (imap/imap_utf7.h; RFC 3501 5.1.3, RFC 9051 5.1): each row is one
 * name with a one-line description and what each direction must give
 * (NULL: refused). Most rows are hostile: broken UTF-8, broken runs,
 * lone surrogates, outputs that do not fit. Inputs are exact heap
 * copies, so ASan sees a read past the end; every good row also goes
 * the other way and back, and through every smaller output buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "imap/imap_utf7.h"
#include "testutil.h"

struct u2m_case {
	const char	*desc;
	const char	*in;		/* UTF-8 */
	const char	*want;		/* modified UTF-7, NULL: -1 */
};

static const struct u2m_case u2m_cases[] = {
	{ "ASCII as itself", "INBOX.Sent", "INBOX.Sent" },
	{ "empty", "", "" },
	{ "& as &-", "A&B", "A&-B" },
	{ "two-octet char (RFC 3501 5.1.3 example)", "Caf\xc3\xa9",
	  "Caf&AOk-" },
	{ "CJK run", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "&ZeVnLIqe-" },
	{ "a run, ASCII, a run", "\xc3\xa9x\xc3\xa9", "&AOk-x&AOk-" },
	{ "astral: a surrogate pair", "\xf0\x9f\x98\x80", "&2D3eAA-" },
	{ "control octet is encoded", "a\tb", "a&AAk-b" },
	{ "DEL is encoded", "a\x7f", "a&AH8-" },
	{ "8-bit Latin-1, not UTF-8", "Caf\xe9", NULL },
	{ "lone continuation octet", "\x80", NULL },
	{ "cut two-octet sequence", "a\xc3", NULL },
	{ "cut four-octet sequence", "\xf0\x9f\x98", NULL },
	{ "overlong '/' (C0 AF)", "\xc0\xaf", NULL },
	{ "overlong three-octet", "\xe0\x80\xaf", NULL },
	{ "overlong four-octet", "\xf0\x80\x80\xaf", NULL },
	{ "UTF-16 surrogate in UTF-8", "\xed\xa0\x80", NULL },
	{ "past U+10FFFF", "\xf4\x90\x80\x80", NULL },
	{ "F5 lead octet", "\xf5\x80\x80\x80", NULL },
	{ "continuation missing midway", "\xe6\x97x", NULL },
	{ "FE and FF", "\xfe\xff", NULL },
};

struct m2u_case {
	const char	*desc;
	const char	*in;		/* modified UTF-7 */
	const char	*want;		/* UTF-8, NULL: refused */
};

static const struct m2u_case m2u_cases[] = {
	{ "ASCII as itself", "Archive", "Archive" },
	{ "&- is &", "A&-B", "A&B" },
	{ "two-octet char", "Caf&AOk-", "Caf\xc3\xa9" },
	{ "surrogate pair", "&2D3eAA-", "\xf0\x9f\x98\x80" },
	{ "three chars in one run", "&ZeVnLIqe-",
	  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
	{ "unterminated run", "Caf&AOk", NULL },
	{ "& at the very end", "a&", NULL },
	{ "'/' is not modified base64", "&AO/-", NULL },
	{ "'=' padding is not allowed", "&AOk=-", NULL },
	{ "8-bit octet in a run", "&AO\xe9-", NULL },
	{ "lone high surrogate", "&2D0-", NULL },
	{ "lone low surrogate", "&3gA-", NULL },
	{ "high surrogate then ASCII run end", "&2D0AQQ-", NULL },
	{ "NUL octet in a run", "&A\0k-", NULL },
	{ "8-bit octet outside a run", "C\xa2" "af&AOk-", NULL },
	{ "raw UTF-8 is not modified UTF-7", "Caf\xc3\xa9", NULL },
};

static void
test_utf8_to_mutf7(void **state)
{
	char out[256], back[256];

	(void)state;
	for (size_t i = 0; i < sizeof u2m_cases / sizeof u2m_cases[0];
	    i++) {
		const struct u2m_case *c = &u2m_cases[i];
		size_t len = strlen(c->in), n = 0;
		char *in = dup_exact(c->in, len);
		int rc = imap_utf8_to_mutf7(in, len, out, sizeof out, &n);

		if (c->want == NULL) {
			if (rc != -1) {
				fail_msg("%s: accepted as '%.*s'", c->desc,
				    (int)n, out);
			}
			free(in);
			continue;
		}
		if (rc != 0 || n != strlen(c->want) ||
		    memcmp(out, c->want, n) != 0) {
			fail_msg("%s: rc %d '%.*s'", c->desc, rc, (int)n, out);
		}
		/* every smaller buffer: refused, never overrun */
		for (size_t cap = 0; cap < n; cap++) {
			char *small = malloc(cap + 1);
			size_t m;

			assert_non_null(small);
			assert_int_equal(imap_utf8_to_mutf7(in, len, small,
			    cap, &m), -1);
			free(small);
		}
		/* and back */
		assert_int_equal(imap_mutf7_to_utf8(out, n, back,
		    sizeof back), len);
		assert_memory_equal(back, c->in, len);
		free(in);
	}
}

static void
test_mutf7_to_utf8(void **state)
{
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof m2u_cases / sizeof m2u_cases[0];
	    i++) {
		const struct m2u_case *c = &m2u_cases[i];
		/* the NUL row's length runs to its '-' */
		size_t len = strlen(c->in);
		char *in;
		size_t n;

		if (strcmp(c->desc, "NUL octet in a run") == 0) {
			len = 6;
		}
		in = dup_exact(c->in, len);
		n = imap_mutf7_to_utf8(in, len, out, sizeof out);
		if (c->want == NULL) {
			if (n <= sizeof out) {
				fail_msg("%s: accepted as '%.*s'", c->desc,
				    (int)n, out);
			}
		} else if (n != strlen(c->want) ||
		    memcmp(out, c->want, n) != 0) {
			fail_msg("%s: got %zu '%.*s'", c->desc, n,
			    n <= sizeof out ? (int)n : 0, out);
		} else {
			for (size_t cap = 0; cap < n; cap++) {
				char *small = malloc(cap + 1);

				assert_non_null(small);
				assert_true(imap_mutf7_to_utf8(in, len, small,
				    cap) > cap);
				free(small);
			}
		}
		free(in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_to_mutf7),
		cmocka_unit_test(test_mutf7_to_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
