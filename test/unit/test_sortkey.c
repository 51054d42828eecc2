/* SPDX-License-Identifier: ISC */
/*
 * test_sortkey.c - the SORT and THREAD text keys (msg/sortkey.h): base
 * subjects (RFC 5256 2.1), the reply flag of REFERENCES step 6, and
 * address keys (RFC 5256 SORT FROM/TO/CC; RFC 5957 DISPLAYFROM).
 *
 * Each row is one input with a one-line description and the key it
 * must give; at least half are hostile or malformed. Inputs are heap
 * blocks of exactly their length (ASan catches a read past the end);
 * every row is also run with output caps from 0 up, and each result
 * must be a prefix-consistent, in-bounds answer.
 */
#include "msg/sortkey.h"
#include "testutil.h"

struct subj_case {
	const char	*desc;
	struct text	 in;
	const char	*base;
	int		 reply;
};

static const struct subj_case subj_cases[] = {
	{ "plain", T("Lunch plans"), "LUNCH PLANS", 0 },
	{ "Re:", T("Re: Lunch plans"), "LUNCH PLANS", 1 },
	{ "Re: Re: and case", T("RE: re: lunch plans"), "LUNCH PLANS", 1 },
	{ "Fwd: and Fw:", T("Fwd: Fw: report"), "REPORT", 1 },
	{ "Re with blob inside", T("Re[2]: x"), "X", 1 },
	{ "Re with space before colon", T("Re : x"), "X", 1 },
	{ "list blob then Re", T("[list] Re: x"), "X", 1 },
	{ "two blobs then Fwd", T("[a][b] Fwd: x"), "X", 1 },
	{ "leading blob alone stays", T("[list]"), "[LIST]", 0 },
	{ "blobs of a subject that is all blobs", T("[a][b]"), "[B]", 0 },
	{ "(fwd) trailer", T("report (fwd)"), "REPORT", 1 },
	{ "(fwd) trailers repeated", T("report (fwd) (FWD)  "), "REPORT", 1 },
	{ "[fwd: ] wrapper", T("[Fwd: Budget]"), "BUDGET", 1 },
	{ "wrapper around a Re", T("[fwd: Re: Budget]"), "BUDGET", 1 },
	{ "Re around a wrapper", T("Re: [fwd: Fw: Budget]"), "BUDGET", 1 },
	{ "white space runs", T(" a\t\t b \r\n c "), "A B C", 0 },
	{ "Latin-1 letters decomposed (RFC 5051)", T("\xc3\xa9t\xc3\xa9 x"),
	  "E\xcc\x81TE\xcc\x81 X", 0 },
	{ "y diaeresis, sharp s, ash, division",
	  T("\xc3\xbf\xc3\x9f\xc3\xa6\xc3\xb7"),
	  "Y\xcc\x88\xc3\x9f\xc3\x86\xc3\xb7", 0 },
	{ "other UTF-8 kept", T("\xe2\x82\xac \xd0\xb6"),
	  "\xe2\x82\xac \xd0\xb6", 0 },
	{ "a cut UTF-8 sequence", T("a\xc3"), "A\xc3", 0 },
	/* hostile and odd */
	{ "empty", T(""), "", 0 },
	{ "only Re:", T("Re:"), "", 1 },
	{ "only spaces", T("   \t "), "", 0 },
	{ "Re without colon is text", T("Re x"), "RE X", 0 },
	{ "Rex: is no leader", T("Rex: y"), "REX: Y", 0 },
	{ "unclosed blob", T("[abc Re: x"), "[ABC RE: X", 0 },
	{ "nested bracket is no blob", T("[a[b]] Re: x"), "[A[B]] RE: X", 0 },
	{ "wrapper without its end", T("[fwd: x"), "[FWD: X", 0 },
	{ "bare wrapper", T("[fwd:]"), "", 1 },
	{ "many leaders", TF("", "re: ", 500, "x"), "X", 1 },
	{ "many trailers", TF("x", " (fwd)", 500, NULL), "X", 1 },
	{ "many blobs", TF("", "[z]", 500, "x"), "X", 0 },
	{ "many wrappers", TF("", "[fwd: ", 200, "x"), NULL, 0 },
	{ "NUL octets kept", TN("a\0b"), NULL, 0 },
	{ "lone (fwd)", T("(fwd)"), "", 1 },
};

static void
test_subject(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof subj_cases / sizeof subj_cases[0];
	    i++) {
		const struct subj_case *c = &subj_cases[i];
		size_t len, n;
		char *in = build(&c->in, &len);
		char *out = malloc(2 * len + 1);	/* decomposition */
		int reply = -1;

		assert_non_null(out);
		n = sortkey_subject(in, len, out, 2 * len, &reply);
		assert_true(n <= 2 * len);
		if (c->base != NULL) {
			if (n != strlen(c->base) || memcmp(out, c->base, n) !=
			    0 || reply != c->reply) {
				fail_msg("%s: got \"%.*s\" reply %d", c->desc,
				    (int)n, out, reply);
			}
		}
		/* Small caps: in bounds, never more than the cap. */
		for (size_t cap = 0; cap < 8 && cap < len; cap++) {
			char *o = malloc(cap + 1);

			assert_non_null(o);
			assert_true(sortkey_subject(in, len, o, cap, NULL) <=
			    cap);
			free(o);
		}
		free(out);
		free(in);
	}
}

struct addr_case {
	const char	*desc;
	struct text	 in;
	const char	*mbox;		/* display 0 */
	const char	*disp;		/* display 1 */
};

static const struct addr_case addr_cases[] = {
	{ "bare address", T("bob@b.example"), "BOB", "BOB@B.EXAMPLE" },
	{ "name and angle", T("Bob Smith <bob@b.example>"), "BOB",
	  "BOB SMITH" },
	{ "quoted name with comma", T("\"Zed, Z.\" <zed@z.example>"), "ZED",
	  "ZED, Z." },
	{ "encoded name", T("=?UTF-8?Q?=C3=89mile?= <e@x>"), "E",
	  "E\xcc\x81MILE" },
	{ "first of a list", T("a@x, b@y"), "A", "A@X" },
	{ "quoted local part", T("\"j doe\"@x"), "JDOE", "JDOE@X" },
	{ "comment dropped", T("(the boss) boss@x (really)"), "BOSS",
	  "BOSS@X" },
	{ "group: its name", T("My  Team: c@x, d@y;"), "MY TEAM",
	  "MY TEAM" },
	{ "empty group: its name", T("undisclosed-recipients:;, e@z"),
	  "UNDISCLOSED-RECIPIENTS", "UNDISCLOSED-RECIPIENTS" },
	{ "group without a name skipped", T(" : ; f@g"), "F", "F@G" },
	{ "route in angle", T("<@r1,@r2:f@g>"), "F", "F@G" },
	{ "empty display name", T("\"\" <h@i>"), "H", "H@I" },
	{ "no domain", T("root"), "ROOT", "ROOT" },
	/* hostile and odd */
	{ "empty", T(""), "", "" },
	{ "only commas", T(",,,"), "", "" },
	{ "empty angle", T("Nobody <>"), "", "" },
	{ "unclosed angle", T("Bob <bob@b"), "BOB", "BOB" },
	{ "unclosed quote", T("\"abc <x@y>"), NULL, NULL },
	{ "unclosed comment", T("(abc x@y"), "", "" },
	{ "deep comments", TF("", "(", 300, "x@y"), "", "" },
	{ "many colons", TF("", ":", 400, "k@l"), "K", "K@L" },
	{ "quoted group name", T("\"a:b\": c@d;"), "A:B", "A:B" },
	{ "at signs only", T("@@@"), "@@", "@@@" },
	{ "escape at the end", T("\"a\\"), NULL, NULL },
	{ "long name cut", TF("\"", "n", 2000, "\" <m@n>"), "M", NULL },
	{ "NUL in name", TN("a\0b <c@d>"), "C", NULL },
};

static void
addr_check(const struct addr_case *c, int display, const char *want)
{
	size_t len, n, cap;
	char *in = build(&c->in, &len);
	char out[64];

	n = sortkey_addr(in, len, display, out, sizeof out);
	assert_true(n <= sizeof out);
	if (want != NULL && (n != strlen(want) || memcmp(out, want, n) !=
	    0)) {
		fail_msg("%s (display %d): got \"%.*s\"", c->desc, display,
		    (int)n, out);
	}
	/* A smaller cap gives at most cap octets. */
	for (cap = 0; cap < 6; cap++) {
		char *o = malloc(cap + 1);

		assert_non_null(o);
		assert_true(sortkey_addr(in, len, display, o, cap) <= cap);
		free(o);
	}
	free(in);
}

static void
test_addr(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof addr_cases / sizeof addr_cases[0];
	    i++) {
		addr_check(&addr_cases[i], 0, addr_cases[i].mbox);
		addr_check(&addr_cases[i], 1, addr_cases[i].disp);
	}
}

static void
test_hash(void **state)
{
	(void)state;
	assert_true(sortkey_hash("a", 1) != sortkey_hash("b", 1));
	assert_true(sortkey_hash("", 0) == sortkey_hash("x", 0));
	assert_true(sortkey_hash("ab", 2) != sortkey_hash("ba", 2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
