/* SPDX-License-Identifier: ISC */
/*
 * test_spf.c - SPF record syntax (dns/spf.h, RFC 7208 4.5, 5, 6, 7.1,
 * 12): each row is a TXT string with a one-line description and the
 * trace of its terms, then the error if any. At least half the rows
 * are malformed or hostile. Records are copied to heap blocks of
 * exactly their length, so ASan catches a read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dns/spf.h"
#include "testutil.h"

struct spf_case {
	const char	*desc;
	struct text	 in;
	const char	*want;
};

#define C(d, s, w)	{ d, TN(s), w }

static const struct spf_case spf_cases[] = {
	/* --- good records --- */
	C("the smallest record", "v=spf1", ""),
	C("mx and a hard fail", "v=spf1 mx -all", "+mx;-all;"),
	C("version in upper case, mechanisms too", "V=SPF1 MX ~ALL",
	  "+mx;~all;"),
	C("every qualifier", "v=spf1 +a -mx ~ptr ?all",
	  "+a;-mx;~ptr;?all;"),
	C("ip4 with and without a prefix",
	  "v=spf1 ip4:192.0.2.10 ip4:198.51.100.0/24 -all",
	  "+ip4 192.0.2.10/32;+ip4 198.51.100.0/24;-all;"),
	C("ip6 with a prefix", "v=spf1 ip6:2001:db8::/32 -all",
	  "+ip6 2001:0db8:0000:0000:0000:0000:0000:0000/128p32;-all;"),
	C("a and mx with domains and dual cidr",
	  "v=spf1 a:mail.example.org/28 mx:example.org//64 a/24//48 -all",
	  "+a mail.example.org/28;+mx example.org//64;+a /24//48;-all;"),
	C("include, exists with a macro, redirect",
	  "v=spf1 include:_spf.google.com exists:%{i}._spf.%{d} "
	  "redirect=_spf.example.org",
	  "+include _spf.google.com;+exists %{i}._spf.%{d} macro;"
	  "+redirect _spf.example.org;"),
	C("an unknown modifier is kept and ignored, exp too",
	  "v=spf1 foo=bar%%baz exp=explain.example.org -all",
	  "+modifier bar%%baz macro;+exp explain.example.org;-all;"),
	C("several spaces between terms, trailing spaces",
	  "v=spf1   mx    -all   ", "+mx;-all;"),
	C("a domain with a trailing dot", "v=spf1 a:example.org. -all",
	  "+a example.org.;-all;"),
	C("macro with digits, reverse and delimiters",
	  "v=spf1 exists:%{i3r.-_}.%{l1r+}.%_%-.example.org",
	  "+exists %{i3r.-_}.%{l1r+}.%_%-.example.org macro;"),
	C("prefix 0 is allowed", "v=spf1 ip4:0.0.0.0/0",
	  "+ip4 0.0.0.0/0;"),

	/* --- not a record, or malformed --- */
	C("hostile: empty", "", "err=VERSION"),
	C("hostile: v=spf10 is another version", "v=spf10 -all",
	  "err=VERSION"),
	C("hostile: DKIM record", "v=DKIM1; p=abc", "err=VERSION"),
	C("hostile: leading space", " v=spf1 -all", "err=VERSION"),
	C("hostile: unknown mechanism", "v=spf1 mx foo -all",
	  "+mx;err=MECH"),
	C("hostile: all with an argument", "v=spf1 all:example.org",
	  "err=MECH"),
	C("hostile: include without a domain", "v=spf1 include -all",
	  "err=DOMAIN"),
	C("hostile: include with an empty domain", "v=spf1 include: -all",
	  "err=DOMAIN"),
	C("hostile: single-label domain", "v=spf1 a:localhost",
	  "err=DOMAIN"),
	C("hostile: numeric top label", "v=spf1 a:192.0.2.1",
	  "err=DOMAIN"),
	C("hostile: empty label", "v=spf1 a:mail..example.org",
	  "err=DOMAIN"),
	C("hostile: label of 64 octets",
	  "v=spf1 a:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaa.org", "err=DOMAIN"),
	C("hostile: ip4 prefix 33", "v=spf1 ip4:192.0.2.0/33",
	  "err=CIDR"),
	C("hostile: ip4 prefix with a leading zero",
	  "v=spf1 ip4:192.0.2.0/024", "err=CIDR"),
	C("hostile: ip6 prefix 129", "v=spf1 ip6:::1/129", "err=CIDR"),
	C("hostile: ip4 address with a fifth octet",
	  "v=spf1 ip4:192.0.2.1.5", "err=IP"),
	C("hostile: ip4 with an IPv6 address", "v=spf1 ip4:2001:db8::1",
	  "err=IP"),
	C("hostile: ip4 without an address", "v=spf1 ip4 -all", "err=IP"),
	C("hostile: ip4 with only a prefix", "v=spf1 ip4:/24", "err=IP"),
	C("hostile: a with a cidr that is not a number", "v=spf1 a/x",
	  "err=MECH"),
	C("hostile: redirect twice",
	  "v=spf1 redirect=a.example.org redirect=b.example.org",
	  "+redirect a.example.org;err=DUP_MOD"),
	C("hostile: modifier name starting with a digit", "v=spf1 1x=y",
	  "err=MOD_NAME"),
	C("hostile: modifier without a name", "v=spf1 =y",
	  "err=MOD_NAME"),
	C("hostile: macro cut at the percent", "v=spf1 exists:%",
	  "err=MACRO"),
	C("hostile: unknown macro letter", "v=spf1 exists:%{q}.example.org",
	  "err=MACRO"),
	C("hostile: unterminated macro", "v=spf1 exists:%{d.example.org",
	  "err=MACRO"),
	C("hostile: percent then a letter", "v=spf1 exists:%d.example.org",
	  "err=MACRO"),
	C("hostile: a tab inside a term", "v=spf1 mx\t-all", "err=CHAR"),
	C("hostile: a NUL inside a term", "v=spf1 mx\0 -all", "err=CHAR"),
	C("hostile: an octet over 0x7e", "v=spf1 a:\xc3\xa9.example.org",
	  "err=CHAR"),
	C("hostile: a bare qualifier", "v=spf1 - -all", "err=MECH"),
	C("hostile: ptr with a prefix", "v=spf1 ptr/24", "err=CIDR"),
};

static const char *const err_names[] = {
	"OK", "VERSION", "MECH", "DOMAIN", "MACRO", "IP", "CIDR", "DUP_MOD",
	"MOD_NAME", "CHAR"
};

static void
term_trace(const struct spf_term *t, char *tr)
{
	trace_add(tr, "%c%s", t->qual, spf_kind_name(t->kind));
	switch (t->kind) {
	case SPF_IP4:
		trace_add(tr, " %u.%u.%u.%u/%u", t->addr[0], t->addr[1],
		    t->addr[2], t->addr[3], t->cidr4);
		break;
	case SPF_IP6:
		for (int i = 0; i < 16; i += 2) {
			trace_add(tr, "%s%02x%02x", i ? ":" : " ",
			    t->addr[i], t->addr[i + 1]);
		}
		trace_add(tr, "/128p%u", t->cidr6);
		break;
	default:
		if (t->dlen > 0) {
			trace_add(tr, " %.*s", (int)t->dlen, t->domain);
		}
		if ((t->kind == SPF_A || t->kind == SPF_MX) &&
		    (t->cidr4 != 32 || t->cidr6 != 128)) {
			trace_add(tr, t->dlen > 0 ? "" : " ");
			if (t->cidr4 != 32) {
				trace_add(tr, "/%u", t->cidr4);
			}
			if (t->cidr6 != 128) {
				trace_add(tr, "//%u", t->cidr6);
			}
		}
		if (t->macro) {
			trace_add(tr, " macro");
		}
		break;
	}
	trace_add(tr, ";");
}

static void
spf_trace(const char *txt, size_t len, char *tr)
{
	struct spf_parser p;
	struct spf_term t;
	int rc;

	tr[0] = '\0';
	if (spf_init(&p, txt, len) == -1) {
		assert_false(spf_is_record(txt, len));
		trace_add(tr, "err=%s", err_names[p.err]);
		assert_int_equal(spf_next(&p, &t), -1);
		return;
	}
	while ((rc = spf_next(&p, &t)) == 1) {
		assert_true(t.domain == NULL || (t.domain >= txt &&
		    t.domain + t.dlen <= txt + len));
		term_trace(&t, tr);
	}
	if (rc == -1) {
		assert_true(p.err != SPF_E_OK);
		assert_non_null(spf_strerror(p.err));
		trace_add(tr, "err=%s", err_names[p.err]);
		assert_int_equal(spf_next(&p, &t), -1);	/* sticky */
	} else {
		assert_int_equal(spf_next(&p, &t), 0);
	}
}

static void
test_records(void **state)
{
	size_t hostile = 0, n = sizeof spf_cases / sizeof spf_cases[0];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const struct spf_case *c = &spf_cases[i];
		char tr[TRACE_MAX];
		size_t len;
		char *txt = build(&c->in, &len);

		spf_trace(txt, len, tr);
		if (strcmp(tr, c->want) != 0) {
			fail_msg("%s: got \"%s\", want \"%s\"", c->desc, tr,
			    c->want);
		}
		/* Every prefix parses or fails, never overruns. */
		for (size_t cut = 0; cut < len; cut++) {
			char *p = dup_exact(txt, cut);

			spf_trace(p, cut, tr);
			free(p);
		}
		free(txt);
		hostile += strncmp(c->desc, "hostile:", 8) == 0;
	}
	assert_true(hostile * 2 >= n);
}

struct cidr_case {
	const char	*desc;
	uint8_t		 net[16];
	uint8_t		 addr[16];
	size_t		 alen;
	unsigned	 prefix;
	int		 want;
};

static const struct cidr_case cidr_cases[] = {
	{ "same address /32", { 192, 0, 2, 10 }, { 192, 0, 2, 10 }, 4, 32,
	  1 },
	{ "other address /32", { 192, 0, 2, 10 }, { 192, 0, 2, 11 }, 4, 32,
	  0 },
	{ "inside /24", { 192, 0, 2, 0 }, { 192, 0, 2, 200 }, 4, 24, 1 },
	{ "inside /28, boundary", { 192, 0, 2, 16 }, { 192, 0, 2, 31 }, 4,
	  28, 1 },
	{ "outside /28", { 192, 0, 2, 16 }, { 192, 0, 2, 32 }, 4, 28, 0 },
	{ "/0 matches all", { 0 }, { 203, 0, 113, 5 }, 4, 0, 1 },
	{ "hostile: prefix 33 on IPv4", { 192, 0, 2, 10 },
	  { 192, 0, 2, 10 }, 4, 33, 0 },
	{ "hostile: prefix 129 on IPv6", { 0x20, 1 }, { 0x20, 1 }, 16, 129,
	  0 },
	{ "IPv6 /32", { 0x20, 0x01, 0x0d, 0xb8 },
	  { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 16,
	  32, 1 },
	{ "IPv6 /33 differs in bit 33", { 0x20, 0x01, 0x0d, 0xb8, 0x80 },
	  { 0x20, 0x01, 0x0d, 0xb8, 0x00 }, 16, 33, 0 },
};

static void
test_cidr(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cidr_cases / sizeof cidr_cases[0];
	    i++) {
		const struct cidr_case *c = &cidr_cases[i];

		if (spf_cidr_match(c->net, c->addr, c->alen, c->prefix) !=
		    c->want) {
			fail_msg("%s", c->desc);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_cidr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
