/* SPDX-License-Identifier: ISC */
/*
 * test_dmarc.c - DMARC records (msg/dmarc.h, RFC 7489 6.3, 6.4): each
 * row is one TXT string with a one-line description and what the
 * parser took from it (p, sp, adkim, aspf, pct), or its error. At
 * least half the rows are malformed or hostile. Records are copied to
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

#include "msg/dmarc.h"
#include "testutil.h"

struct dmarc_case {
	const char	*desc;
	struct text	 in;
	const char	*want;
};

#define C(d, s, w)	{ d, TN(s), w }

static const struct dmarc_case cases[] = {
	/* --- good records --- */
	C("the smallest record", "v=DMARC1; p=none",
	  "p=1 sp=0 adkim=r aspf=r pct=100"),
	C("reject with reports", "v=DMARC1; p=reject; rua=mailto:d@x.org; "
	  "ruf=mailto:f@x.org; fo=1; ri=86400",
	  "p=3 sp=0 adkim=r aspf=r pct=100"),
	C("every tag we apply", "v=DMARC1;p=quarantine;sp=reject;adkim=s;"
	  "aspf=s;pct=25", "p=2 sp=3 adkim=s aspf=s pct=25"),
	C("spaces, folding, a trailing semicolon",
	  "v = DMARC1 ;\tp = Reject ; pct=0 ;",
	  "p=3 sp=0 adkim=r aspf=r pct=0"),
	C("unknown tags are ignored", "v=DMARC1; p=none; np=reject; x=y",
	  "p=1 sp=0 adkim=r aspf=r pct=100"),
	C("pct=100 exactly", "v=DMARC1; p=reject; pct=100",
	  "p=3 sp=0 adkim=r aspf=r pct=100"),

	/* --- not a record, or malformed --- */
	C("hostile: empty", "", "err=not a DMARC record"),
	C("hostile: an SPF record", "v=spf1 -all", "err=not a DMARC record"),
	C("hostile: v= not first", "p=reject; v=DMARC1",
	  "err=not a DMARC record"),
	C("hostile: lower-case version", "v=dmarc1; p=reject",
	  "err=not a DMARC record"),
	C("hostile: DMARC2", "v=DMARC2; p=reject",
	  "err=not a DMARC record"),
	C("hostile: no p=", "v=DMARC1; rua=mailto:x@y.org",
	  "err=bad policy"),
	C("hostile: unknown p=", "v=DMARC1; p=discard", "err=bad policy"),
	C("hostile: unknown sp=", "v=DMARC1; p=none; sp=maybe",
	  "err=bad value"),
	C("hostile: adkim=x", "v=DMARC1; p=none; adkim=x", "err=bad value"),
	C("hostile: aspf empty", "v=DMARC1; p=none; aspf=", "err=bad value"),
	C("hostile: pct=101", "v=DMARC1; p=reject; pct=101",
	  "err=bad value"),
	C("hostile: pct=-1", "v=DMARC1; p=reject; pct=-1", "err=bad value"),
	C("hostile: pct of 4 digits", "v=DMARC1; p=reject; pct=0100",
	  "err=bad value"),
	C("hostile: p= twice", "v=DMARC1; p=none; p=reject",
	  "err=duplicate tag"),
	C("hostile: a tag without =", "v=DMARC1; p=none; garbage",
	  "err=syntax error"),
	C("hostile: NUL in a value", "v=DMARC1; p=no\0ne",
	  "err=syntax error"),
	C("hostile: 8-bit octet", "v=DMARC1; p=none; rua=\xc3\xa9",
	  "err=syntax error"),
};

static void
test_table(void **state)
{
	size_t ncases = sizeof cases / sizeof cases[0], nbad = 0;
	char tr[TRACE_MAX];
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < ncases; i++) {
		struct dmarc_rec r;
		enum dmarc_err e;
		size_t n;
		char *p = build(&cases[i].in, &n);

		nbad += strncmp(cases[i].desc, "hostile", 7) == 0;
		tr[0] = '\0';
		e = dmarc_parse(&r, p, n);
		if (e != DMARC_E_OK) {
			trace_add(tr, "err=%s", dmarc_strerror(e));
		} else {
			trace_add(tr, "p=%d sp=%d adkim=%c aspf=%c pct=%u",
			    (int)r.p, (int)r.sp, r.adkim_strict ? 's' : 'r',
			    r.aspf_strict ? 's' : 'r', r.pct);
		}
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
