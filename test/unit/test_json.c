/* SPDX-License-Identifier: ISC */
/*
 * test_json.c - the JSON reader (acme/json.h): ACME's documents as
 * Let's Encrypt and Pebble send them, every value type, escapes and
 * surrogate pairs, and hostile input (cut short, unbalanced, too deep,
 * too many tokens, bad escapes, bad numbers, trailing text).
 *
 * A row: the document (an exact-size heap copy, so ASan sees a read
 * past its end), the token count or json_err wanted, and optionally a
 * top-level member whose string value must decode to `want` (NULL:
 * json_str must refuse it).
 */
#include "testutil.h"

#include "acme/json.h"

struct json_case {
	const char	*desc;
	struct text	 in;
	int		 rc;
	const char	*key;		/* NULL: no member checked */
	const char	*want;
};

#define DEEP	"[[[[[[[[[[[[[[[["	/* JSON_DEPTH_MAX */
#define DEEPC	"]]]]]]]]]]]]]]]]"

static const struct json_case cases[] = {
	{ "directory", T("{\"newNonce\":\"https://a/n\",\"newAccount\":"
	    "\"https://a/acct\",\"meta\":{\"termsOfService\":\"t\"}}"),
	    9, "newAccount", "https://a/acct" },
	{ "order with identifiers and authorizations",
	    T("{\"status\":\"pending\",\"identifiers\":[{\"type\":\"dns\","
	    "\"value\":\"a.example\"}],\"authorizations\":[\"u1\",\"u2\"],"
	    "\"finalize\":\"f\"}"), 16, "finalize", "f" },
	{ "white space everywhere", T(" \r\n\t{ \"a\" :\t\"b\" , \"c\":[ ] } "),
	    5, "a", "b" },
	{ "escapes", T("{\"k\":\"q\\\"b\\\\s\\/n\\nt\\tr\\rb\\bf\\f\"}"), 3,
	    "k", "q\"b\\s/n\nt\tr\rb\bf\f" },
	{ "\\u escapes to UTF-8 (1, 2, 3 octets)",
	    T("{\"k\":\"\\u0041\\u00e9\\u20AC\"}"), 3, "k",
	    "A\xc3\xa9\xe2\x82\xac" },
	{ "a surrogate pair to 4 octets", T("{\"k\":\"\\ud83d\\ude00\"}"), 3,
	    "k", "\xf0\x9f\x98\x80" },
	{ "numbers, bools, null", T("[0,-1,1.5,2e10,-0.1E-2,true,false,null]"),
	    9, NULL, NULL },
	{ "a bare string", T("\"x\""), 1, NULL, NULL },
	{ "the deepest nesting allowed", TF(DEEP, NULL, 0, DEEPC), 16, NULL,
	    NULL },
	{ "a duplicate key: the first one wins", T("{\"k\":\"1\",\"k\":\"2\"}"),
	    5, "k", "1" },
	{ "member not a string: json_str refuses", T("{\"k\":1}"), 3, "k",
	    NULL },
	{ "a lone high surrogate: json_str refuses",
	    T("{\"k\":\"\\ud83dx\"}"), 3, "k", NULL },
	{ "a lone low surrogate: json_str refuses",
	    T("{\"k\":\"\\ude00\"}"), 3, "k", NULL },
	{ "\\u0000: json_str refuses", T("{\"k\":\"a\\u0000b\"}"), 3, "k",
	    NULL },
	/* hostile */
	{ "empty", T(""), JSON_ERR_SYNTAX, NULL, NULL },
	{ "only white space", T("  \n"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "cut in an object", T("{\"a\":\"b\""), JSON_ERR_SYNTAX, NULL, NULL },
	{ "cut in a string", T("{\"a\":\"b"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "cut after a backslash", T("\"ab\\"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "cut in \\u", T("\"\\u12"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "bad hex in \\u", T("\"\\u12g4\""), JSON_ERR_SYNTAX, NULL, NULL },
	{ "unknown escape", T("\"\\x\""), JSON_ERR_SYNTAX, NULL, NULL },
	{ "a NUL after the backslash", TN("\"\\\0\""), JSON_ERR_SYNTAX, NULL,
	    NULL },
	{ "a raw control character in a string", T("\"a\nb\""),
	    JSON_ERR_SYNTAX, NULL, NULL },
	{ "mismatched close", T("{\"a\":[1}"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "close without open", T("]"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "trailing comma in an array", T("[1,]"), JSON_ERR_SYNTAX, NULL,
	    NULL },
	{ "trailing comma in an object", T("{\"a\":1,}"), JSON_ERR_SYNTAX,
	    NULL, NULL },
	{ "missing colon", T("{\"a\" 1}"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "a key that is no string", T("{1:2}"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "two values in an array without comma", T("[1 2]"),
	    JSON_ERR_SYNTAX, NULL, NULL },
	{ "trailing text", T("{} x"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "two top values", T("1 2"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "leading zero", T("[01]"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "a lone minus", T("[-]"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "a dot without digits", T("[1.]"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "an exponent without digits", T("[1e+]"), JSON_ERR_SYNTAX, NULL,
	    NULL },
	{ "a plus sign", T("[+1]"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "tru", T("[tru]"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "nul cut at the end", T("nul"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "single quotes", T("{'a':1}"), JSON_ERR_SYNTAX, NULL, NULL },
	{ "one level too deep", TF(DEEP "[", NULL, 0, "]" DEEPC),
	    JSON_ERR_DEPTH, NULL, NULL },
	{ "10,000 open brackets", TF(NULL, "[", 10000, NULL), JSON_ERR_DEPTH,
	    NULL, NULL },
	{ "more tokens than the array", TF("[", "1,", 600, "1]"),
	    JSON_ERR_TOKENS, NULL, NULL },
	{ "a NUL between tokens", TN("{\"a\":1}\0"), JSON_ERR_SYNTAX, NULL,
	    NULL },
};

static void
test_table(void **state)
{
	static struct json_tok t[JSON_TOKENS_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct json_case *c = &cases[i];
		size_t len;
		char *in = build(&c->in, &len), out[256];
		int n = json_parse(in, len, t, JSON_TOKENS_MAX), v;
		long l;

		if (n != c->rc) {
			fail_msg("%s: json_parse %d, want %d", c->desc, n,
			    c->rc);
		}
		if (c->key != NULL) {
			v = json_member(in, t, n, 0, c->key);
			if (v < 0) {
				fail_msg("%s: no member %s", c->desc, c->key);
			}
			l = json_str(in, t, v, out, sizeof out);
			if (c->want == NULL ? l != -1 : l < 0 ||
			    strcmp(out, c->want) != 0) {
				fail_msg("%s: json_str %ld \"%s\"", c->desc, l,
				    l >= 0 ? out : "");
			}
		}
		free(in);
	}
}

/* Walking: members past nested values, elements, numbers, absent keys,
 * and a json_str that does not fit. */
static void
test_walk(void **state)
{
	static const char doc[] = "{\"a\":{\"x\":[1,{\"y\":2}]},"
	    "\"b\":[\"p\",[3],\"q\"],\"n\":42,\"big\":1e3,\"s\":\"abcd\"}";
	struct json_tok t[64];
	char out[8];
	uint64_t u;
	int n, b, e;

	(void)state;
	n = json_parse(doc, sizeof doc - 1, t, 64);
	assert_true(n > 0);
	b = json_member(doc, t, n, 0, "b");
	assert_int_equal(t[b].type, JSON_ARRAY);
	assert_int_equal(t[b].n, 3);
	e = json_elem(t, n, b, 2);
	assert_true(json_str_is(doc, &t[e], "q"));
	assert_int_equal(json_elem(t, n, b, 3), -1);
	assert_int_equal(json_elem(t, n, 0, 0), -1);
	assert_int_equal(json_uint(doc, t, json_member(doc, t, n, 0, "n"),
	    &u), 0);
	assert_int_equal(u, 42);
	assert_int_equal(json_uint(doc, t, json_member(doc, t, n, 0, "big"),
	    &u), -1);
	assert_int_equal(json_member(doc, t, n, 0, "nope"), -1);
	assert_int_equal(json_member(doc, t, n, b, "p"), -1);
	assert_int_equal(json_str(doc, t, json_member(doc, t, n, 0, "s"),
	    out, 4), -1);
	assert_int_equal(json_str(doc, t, json_member(doc, t, n, 0, "s"),
	    out, 5), 4);
	assert_false(json_str_is(doc, NULL, "x"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
