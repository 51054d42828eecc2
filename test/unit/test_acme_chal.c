/* SPDX-License-Identifier: ISC */
/*
 * test_acme_chal.c - the table of pending ACME HTTP-01 challenges
 * (acme/acme_chal.h) that the HTTP listener answers from.
 *
 * The rows run in order on one table: each puts, deletes or looks up
 * a token and gives the expected result; a lookup's token is an
 * exact-size heap copy (network data, no NUL), so ASan sees a read
 * past its end. More than half the rows are hostile.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acme/acme_chal.h"
#include "testutil.h"

enum op { PUT, DEL, GET, CLEAR };

struct chal_case {
	const char	*desc;
	enum op		 op;
	struct text	 token;
	const char	*keyauth;	/* PUT: what to put; GET: wanted */
	int		 want;		/* PUT, DEL: result; GET: 1 found */
};

#define TOK	"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define KA	TOK ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define TOK2	"abc_-123"
#define KA2	TOK2 ".x"

static const struct chal_case cases[] = {
	{ "lookup in an empty table", GET, T(TOK), NULL, 0 },
	{ "put a Let's Encrypt sized token", PUT, T(TOK), KA, 0 },
	{ "lookup finds it", GET, T(TOK), KA, 1 },
	{ "put a second one, '-' and '_' allowed", PUT, T(TOK2), KA2, 0 },
	{ "second found", GET, T(TOK2), KA2, 1 },
	{ "prefix of a token is not it", GET, T("LoqXcYV8"), NULL, 0 },
	{ "token plus a byte is not it", GET, T(TOK "A"), NULL, 0 },
	{ "case matters", GET, T("ABC_-123"), NULL, 0 },
	{ "empty token lookup (no free-slot match)", GET, T(""), NULL, 0 },
	{ "NUL inside the token", GET, TN("abc_\0-123"), NULL, 0 },
	{ "path traversal", GET, T("../../etc/passwd"), NULL, 0 },
	{ "percent-encoded", GET, T("abc%5F-123"), NULL, 0 },
	{ "dot in a token", GET, T(TOK2 ".x"), NULL, 0 },
	{ "token longer than ACME_TOKEN_MAX", GET,
	    TF(NULL, "a", ACME_TOKEN_MAX + 1, NULL), NULL, 0 },
	{ "put: empty token", PUT, T(""), "x", -1 },
	{ "put: token with '/'", PUT, T("a/b"), "a/b.x", -1 },
	{ "put: token with '='", PUT, T("abcd="), "abcd=.x", -1 },
	{ "put: token with space", PUT, T("ab cd"), "x", -1 },
	{ "put: token with 8-bit byte", PUT, T("ab\xc3\xa9"), "x", -1 },
	{ "put: token too long", PUT,
	    TF(NULL, "a", ACME_TOKEN_MAX + 1, NULL), "x", -1 },
	{ "put: keyauth empty", PUT, T("tok"), "", -1 },
	{ "put: keyauth with CRLF (header injection)", PUT, T("tok"),
	    "tok.x\r\nSet-Cookie: a=b", -1 },
	{ "put: keyauth with '<'", PUT, T("tok"), "tok.<x>", -1 },
	{ "put: replaces the same token", PUT, T(TOK2), TOK2 ".y", 0 },
	{ "replaced value found", GET, T(TOK2), TOK2 ".y", 1 },
	{ "del an absent token", DEL, T("nope"), NULL, 0 },
	{ "del an empty token", DEL, T(""), NULL, 0 },
	{ "del the second", DEL, T(TOK2), NULL, 1 },
	{ "second gone", GET, T(TOK2), NULL, 0 },
	{ "first kept", GET, T(TOK), KA, 1 },
	{ "clear", CLEAR, T(""), NULL, 0 },
	{ "first gone after clear", GET, T(TOK), NULL, 0 },
};

static void
test_table(void **state)
{
	(void)state;
	acme_chal_clear();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct chal_case *c = &cases[i];
		size_t len;
		char *tok = build(&c->token, &len);
		char *z = malloc(len + 1);
		const char *got;
		int r;

		assert_non_null(z);
		memcpy(z, tok, len);
		z[len] = '\0';
		switch (c->op) {
		case PUT:
			r = acme_chal_put(z, c->keyauth);
			break;
		case DEL:
			r = acme_chal_del(z);
			break;
		case GET:
			got = acme_http01(tok, len);
			r = got != NULL;
			if (got != NULL && c->keyauth != NULL) {
				expect_bytes(c->desc, "keyauth", got,
				    strlen(got), c->keyauth,
				    strlen(c->keyauth));
			}
			break;
		case CLEAR:
		default:
			acme_chal_clear();
			r = 0;
			break;
		}
		if (r != c->want) {
			fail_msg("%s: got %d, want %d", c->desc, r, c->want);
		}
		free(z);
		free(tok);
	}
}

/* The table holds ACME_CHAL_MAX entries; one more is refused, and a
 * freed slot is reused. */
static void
test_full(void **state)
{
	char tok[8];

	(void)state;
	acme_chal_clear();
	for (int i = 0; i < ACME_CHAL_MAX; i++) {
		tok[0] = 't';
		tok[1] = (char)('a' + i);
		tok[2] = '\0';
		assert_int_equal(acme_chal_put(tok, "k.x"), 0);
	}
	assert_int_equal(acme_chal_put("full", "k.x"), -1);
	assert_int_equal(acme_chal_del("ta"), 1);
	assert_int_equal(acme_chal_put("full", "k.x"), 0);
	assert_non_null(acme_http01("full", 4));
	assert_int_equal(acme_chal_put("more", "k.x"), -1);
	acme_chal_clear();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests_name("acme_chal", tests, NULL, NULL);
}
