/* SPDX-License-Identifier: ISC */
/*
 * test_dkim_hdr.c - what a DKIM verifier reads (msg/dkim_hdr.h): the
 * DKIM-Signature field's value (RFC 6376 3.2, 3.5, 6.1.1) and the key
 * record (3.6.1). Each row is one text with a one-line description
 * and the trace of what the parser took from it, or its error. At
 * least half the rows are malformed or hostile. Texts are copied to
 * heap blocks of exactly their length, so ASan catches a read past
 * the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msg/dkim_hdr.h"
#include "testutil.h"

struct hdr_case {
	const char	*desc;
	int		 key;		/* 1: a key record */
	struct text	 in;
	const char	*want;
};

#define SIG(d, s, w)	{ d, 0, TN(s), w }
#define KEY(d, s, w)	{ d, 1, TN(s), w }
#define BASE	"v=1; a=rsa-sha256; d=example.org; s=sel; h=from:to; " \
		"bh=YmgK; b=c2lnCg=="

static const struct hdr_case cases[] = {
	/* --- good fields --- */
	SIG("the required tags", BASE,
	    "a=0 c=0/0 d=example.org s=sel h=from:to i= l=-1 t=-1 x=-1 "
	    "b=c2lnCg==@63 bh=YmgK"),
	SIG("relaxed/relaxed, folded, t= and x=",
	    " v=1;\n\ta=rsa-sha256; c=relaxed/relaxed; d=Example.ORG;\n"
	    "\ts=s1; t=1700000000; x=1800000000; h=From : Subject;\n"
	    "\tbh=YmgK; b=abcd\n\t efgh",
	    "a=0 c=1/1 d=Example.ORG s=s1 h=From : Subject i= l=-1 "
	    "t=1700000000 x=1800000000 b=abcd\n\t efgh@120 bh=YmgK"),
	SIG("c=relaxed alone: body simple", BASE "; c=relaxed",
	    "a=0 c=1/0 d=example.org s=sel h=from:to i= l=-1 t=-1 x=-1 "
	    "b=c2lnCg==@63 bh=YmgK"),
	SIG("i= in a subdomain of d=, l=, q=dns/txt, unknown tag",
	    BASE "; i=@mail.example.org; l=42; q=dns/txt; zz=whatever",
	    "a=0 c=0/0 d=example.org s=sel h=from:to i=@mail.example.org "
	    "l=42 t=-1 x=-1 b=c2lnCg==@63 bh=YmgK"),
	SIG("ed25519-sha256 parses (the verifier says neutral)",
	    "v=1; a=ed25519-sha256; d=a.b; s=x; h=from; bh=YQ==; b=Yg==",
	    "a=2 c=0/0 d=a.b s=x h=from i= l=-1 t=-1 x=-1 b=Yg==@54 "
	    "bh=YQ=="),
	SIG("rsa-sha1 parses (the verifier refuses it)",
	    "v=1; a=rsa-sha1; d=a.b; s=x; h=from; bh=YQ==; b=Yg==; ",
	    "a=1 c=0/0 d=a.b s=x h=from i= l=-1 t=-1 x=-1 b=Yg==@48 "
	    "bh=YQ=="),
	SIG("an underscore selector with dots", "v=1; a=rsa-sha256; "
	    "d=a.b; s=_k.2024; h=from; bh=YQ==; b=Yg==",
	    "a=0 c=0/0 d=a.b s=_k.2024 h=from i= l=-1 t=-1 x=-1 "
	    "b=Yg==@56 bh=YQ=="),
	KEY("key record", "v=DKIM1; k=rsa; p=TUlJQg==", "p=TUlJQg=="),
	KEY("key record without v= and k=, folded p=",
	    "p=TUlJ\n Qg==; n=notes", "p=TUlJ\n Qg=="),
	KEY("key record with h=sha256 and s=email", "h=sha1:sha256; "
	    "s=email; t=y; p=QQ==", "p=QQ=="),

	/* --- malformed or hostile --- */
	SIG("hostile: empty", "", "err=bad version"),
	SIG("hostile: no v=", "a=rsa-sha256; d=a.b; s=x; h=from; bh=YQ==; "
	    "b=Yg==", "err=bad version"),
	SIG("hostile: v=2", "v=2; a=rsa-sha256; d=a.b; s=x; h=from; "
	    "bh=YQ==; b=Yg==", "err=bad version"),
	SIG("hostile: missing bh=", "v=1; a=rsa-sha256; d=a.b; s=x; "
	    "h=from; b=Yg==", "err=missing required tag"),
	SIG("hostile: empty b=", "v=1; a=rsa-sha256; d=a.b; s=x; h=from; "
	    "bh=YQ==; b=", "err=missing required tag"),
	SIG("hostile: unknown algorithm", "v=1; a=rsa-md5; d=a.b; s=x; "
	    "h=from; bh=YQ==; b=Yg==", "err=unknown algorithm"),
	SIG("hostile: a tag twice", BASE "; d=evil.org",
	    "err=duplicate tag"),
	SIG("hostile: h= without From", "v=1; a=rsa-sha256; d=a.b; s=x; "
	    "h=to:subject; bh=YQ==; b=Yg==", "err=From not signed"),
	SIG("hostile: h= with fromx only", "v=1; a=rsa-sha256; d=a.b; "
	    "s=x; h=fromx; bh=YQ==; b=Yg==", "err=From not signed"),
	SIG("hostile: i= in another domain", BASE "; i=x@evil.org",
	    "err=i= not within d="),
	SIG("hostile: i= in a domain ending like d=", BASE
	    "; i=x@badexample.org", "err=i= not within d="),
	SIG("hostile: i= without @", BASE "; i=example.org",
	    "err=i= not within d="),
	SIG("hostile: x= before t=", BASE "; t=200; x=100",
	    "err=x= before t="),
	SIG("hostile: l= negative", BASE "; l=-1", "err=bad number"),
	SIG("hostile: l= of 40 digits", BASE
	    "; l=1234567890123456789012345678901234567890",
	    "err=bad number"),
	SIG("hostile: c= unknown", BASE "; c=relaxed/nowsp",
	    "err=unknown canonicalization"),
	SIG("hostile: c= with an empty body part", BASE "; c=simple/",
	    "err=unknown canonicalization"),
	SIG("hostile: q= not dns/txt", BASE "; q=http/well-known",
	    "err=unknown query method"),
	SIG("hostile: d= with a slash", "v=1; a=rsa-sha256; d=a/b; s=x; "
	    "h=from; bh=YQ==; b=Yg==", "err=bad domain"),
	SIG("hostile: d= with an empty label", "v=1; a=rsa-sha256; "
	    "d=a..b; s=x; h=from; bh=YQ==; b=Yg==", "err=bad domain"),
	SIG("hostile: selector of 64 octets", "v=1; a=rsa-sha256; d=a.b; "
	    "s=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaa; h=from; bh=YQ==; b=Yg==", "err=bad domain"),
	SIG("hostile: a tag without =", BASE "; junk",
	    "err=syntax error"),
	SIG("hostile: a NUL in a value", "v=1; a=rsa-sha256; d=a.b; s=x; "
	    "h=from; bh=YQ==; b=Y\0g==", "err=syntax error"),
	SIG("hostile: 8-bit octet in a value", BASE "; z=\xff",
	    "err=syntax error"),
	SIG("hostile: tag name starting with a digit", BASE "; 1a=b",
	    "err=syntax error"),
	SIG("hostile: only semicolons", ";;;;", "err=bad version"),
	KEY("hostile: key of another version", "v=DKIM2; p=QQ==",
	    "err=bad key version"),
	KEY("hostile: v= not first", "k=rsa; v=DKIM1; p=QQ==",
	    "err=bad key version"),
	KEY("hostile: ed25519 key", "v=DKIM1; k=ed25519; p=QQ==",
	    "err=unknown key type"),
	KEY("hostile: revoked key", "v=DKIM1; p=", "err=key revoked"),
	KEY("hostile: no p=", "v=DKIM1; k=rsa", "err=missing required tag"),
	KEY("hostile: h= sha1 only", "h=sha1; p=QQ==",
	    "err=key hash not sha256"),
	KEY("hostile: s= for another service", "s=tlsrpt; p=QQ==",
	    "err=key not for email"),
	KEY("hostile: p= twice", "p=QQ==; p=Qg==", "err=duplicate tag"),
	KEY("hostile: garbage", "\x01\x02", "err=syntax error"),
};

static void
trace(const struct hdr_case *c, const char *p, size_t n, char *tr)
{
	tr[0] = '\0';
	if (c->key) {
		const char *k;
		size_t kl;
		enum dkim_err e = dkim_keyrec_parse(p, n, &k, &kl);

		if (e != DKIM_E_OK) {
			trace_add(tr, "err=%s", dkim_strerror(e));
			return;
		}
		assert_true(k >= p && k + kl <= p + n);
		trace_add(tr, "p=%.*s", (int)kl, k);
		return;
	}
	struct dkim_hdr h;
	enum dkim_err e = dkim_hdr_parse(&h, p, n);

	if (e != DKIM_E_OK) {
		trace_add(tr, "err=%s", dkim_strerror(e));
		return;
	}
	assert_true(h.b_off + h.blen <= n);
	assert_memory_equal(p + h.b_off, h.b, h.blen);
	trace_add(tr, "a=%d c=%d/%d d=%.*s s=%.*s h=%.*s i=%.*s l=%lld "
	    "t=%lld x=%lld b=%.*s@%zu bh=%.*s", (int)h.alg, h.hrelaxed,
	    h.brelaxed, (int)h.dlen, h.d, (int)h.slen, h.s, (int)h.hlen,
	    h.h, (int)h.ilen, h.i ? h.i : "", (long long)h.l,
	    (long long)h.t, (long long)h.x, (int)h.blen, h.b, h.b_off,
	    (int)h.bhlen, h.bh);
}

static void
test_table(void **state)
{
	size_t ncases = sizeof cases / sizeof cases[0], nbad = 0;
	char tr[TRACE_MAX];
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < ncases; i++) {
		size_t n;
		char *p = build(&cases[i].in, &n);

		nbad += strncmp(cases[i].desc, "hostile", 7) == 0;
		trace(&cases[i], p, n, tr);
		if (strcmp(tr, cases[i].want) != 0) {
			print_error("%s: got \"%s\", want \"%s\"\n",
			    cases[i].desc, tr, cases[i].want);
			bad++;
		}
		free(p);
	}
	assert_int_equal(bad, 0);
	assert_true(2 * nbad >= ncases);
}

/* dkim_domain_in: equal in any case, or a subdomain when asked. */
static void
test_domain_in(void **state)
{
	(void)state;
	assert_true(dkim_domain_in(S("Mail.Example.org"), S("example.ORG"),
	    1));
	assert_false(dkim_domain_in(S("Mail.Example.org"), S("example.org"),
	    0));
	assert_true(dkim_domain_in(S("example.org"), S("EXAMPLE.org"), 0));
	assert_false(dkim_domain_in(S("badexample.org"), S("example.org"),
	    1));
	assert_false(dkim_domain_in(S("org"), S("example.org"), 1));
	assert_false(dkim_domain_in(S("x"), S(""), 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_domain_in),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
