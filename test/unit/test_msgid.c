/* SPDX-License-Identifier: ISC */
/*
 * test_msgid.c - message IDs out of Message-ID, References and
 * In-Reply-To values (msg/msgid.h; RFC 5322 3.6.4, RFC 5256 3).
 *
 * Each row is a value with a one-line description and the IDs it must
 * give, in order, joined by spaces; at least half are malformed or
 * hostile. Inputs are heap blocks of exactly their length.
 */
#include "msg/msgid.h"
#include "testutil.h"

struct id_case {
	const char	*desc;
	struct text	 in;
	const char	*ids;		/* NULL: only bounds are checked */
};

static const struct id_case cases[] = {
	{ "one", T("<a@b>"), "a@b" },
	{ "References list", T("<a@b> <c@d>\t<e@f>"), "a@b c@d e@f" },
	{ "no spaces between", T("<a@b><c@d>"), "a@b c@d" },
	{ "old In-Reply-To phrase", T("Your message of Monday <x@y>"), "x@y" },
	{ "comment around", T("(c) <a@b> (d)"), "a@b" },
	{ "dots and plus", T("<1.2+3@mail.example.org>"),
	  "1.2+3@mail.example.org" },
	/* malformed and hostile */
	{ "empty", T(""), "" },
	{ "no brackets", T("a@b"), "" },
	{ "empty brackets", T("<>"), "" },
	{ "no at sign", T("<abc>"), "" },
	{ "at sign first", T("<@b>"), "" },
	{ "at sign last", T("<a@>"), "" },
	{ "two at signs", T("<a@b@c>"), "" },
	{ "space inside", T("<a b@c>"), "" },
	{ "quote inside", T("<\"a\"@c>"), "" },
	{ "control inside", T("<a\x01@c>"), "" },
	{ "unclosed", T("<a@b"), "" },
	{ "unclosed then good", T("<a <b@c>"), "b@c" },
	{ "bad then good", T("<x> <y@z>"), "y@z" },
	{ "only openers", TF("", "<", 1000, NULL), "" },
	{ "only closers", TF("", ">", 1000, NULL), "" },
	{ "many IDs", TF("", "<a@b>", 300, NULL), NULL },
	{ "NUL inside", TN("<a\0@b> <c@d>"), "c@d" },
	{ "8-bit inside is kept", T("<\xc3\xa9@b>"), "\xc3\xa9@b" },
};

static void
test_ids(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct id_case *c = &cases[i];
		char got[8192];
		size_t len, pos = 0, n = 0, idlen;
		const char *id;
		char *in = build(&c->in, &len);
		unsigned count = 0;

		while (msgid_next(in, len, &pos, &id, &idlen)) {
			assert_true(id >= in && id + idlen <= in + len);
			assert_true(pos <= len && idlen > 0);
			if (n + idlen + 1 < sizeof got) {
				if (n > 0) {
					got[n++] = ' ';
				}
				memcpy(got + n, id, idlen);
				n += idlen;
			}
			assert_true(++count <= len);
		}
		assert_int_equal(pos, len);
		if (c->ids != NULL && (n != strlen(c->ids) ||
		    memcmp(got, c->ids, n) != 0)) {
			fail_msg("%s: got \"%.*s\"", c->desc, (int)n, got);
		}
		free(in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
