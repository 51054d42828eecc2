/* SPDX-License-Identifier: ISC */
/*
 * test_spf_eval.c - check_host() (dns/spf.h spf_eval_*, RFC 7208 4,
 * 5, 6, 7): each row is a small zone, a client address, MAIL FROM
 * and HELO, and the result wanted. The evaluator is fed answers from
 * the zone, no I/O. Rows named "suite:" are cases of the RFC 7208
 * test suite (openspf.org release 2014.04, rfc7208-tests.yml in the
 * pyspf sources) with their zone data; at least half the rows are
 * hostile: loops, limits, timeouts, malformed answers and macros.
 *
 * A zone is lines "name TAB type TAB value"; types A AAAA TXT MX PTR,
 * and TIMEOUT (every query of the name fails temporarily). A name
 * without a line of the type asked is a void lookup.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "dns/dns_pkt.h"
#include "dns/spf.h"
#include "testutil.h"

struct eval_case {
	const char	*desc;
	const char	*zone;
	const char	*ip;
	const char	*mailfrom;
	const char	*helo;
	enum spf_result	 want;
};

#define PASS		SPF_R_PASS
#define FAIL		SPF_R_FAIL
#define SOFT		SPF_R_SOFTFAIL
#define NEUT		SPF_R_NEUTRAL
#define NONE		SPF_R_NONE
#define TEMP		SPF_R_TEMPERROR
#define PERM		SPF_R_PERMERROR

/* Zones shared by several rows. */
#define Z_MAIL	"mail.example.com\tA\t1.2.3.4\n"
#define Z_INC \
	Z_MAIL \
	"ip5.example.com\tTXT\tv=spf1 ip4:1.2.3.5 -all\n" \
	"ip6.example.com\tTXT\tv=spf1 ip4:1.2.3.6 ~all\n" \
	"ip7.example.com\tTXT\tv=spf1 ip4:1.2.3.7 ?all\n" \
	"ip8.example.com\tTIMEOUT\t\n" \
	"erehwon.example.com\tTXT\tv=spfl am not an SPF record\n" \
	"e1.example.com\tTXT\tv=spf1 include:ip5.example.com ~all\n" \
	"e2.example.com\tTXT\tv=spf1 include:ip6.example.com all\n" \
	"e3.example.com\tTXT\tv=spf1 include:ip7.example.com -all\n" \
	"e4.example.com\tTXT\tv=spf1 include:ip8.example.com -all\n" \
	"e5.example.com\tTXT\tv=spf1 include:e6.example.com -all\n" \
	"e6.example.com\tTXT\tv=spf1 include +all\n" \
	"e7.example.com\tTXT\tv=spf1 include:erehwon.example.com -all\n"
#define Z_LIM \
	Z_MAIL \
	"e1.example.com\tTXT\tv=spf1 ip4:1.1.1.1 redirect=e1.example.com\n" \
	"e2.example.com\tTXT\tv=spf1 include:e3.example.com\n" \
	"e3.example.com\tTXT\tv=spf1 include:e2.example.com\n" \
	"e4.example.com\tTXT\tv=spf1 mx\n" \
	"e4.example.com\tMX\tmail.example.com\n" \
	"e4.example.com\tMX\tmail.example.com\n" \
	"e4.example.com\tMX\tmail.example.com\n" \
	"e4.example.com\tMX\tmail.example.com\n" \
	"e4.example.com\tMX\tmail.example.com\n" \
	"e4.example.com\tMX\tmail.example.com\n" \
	"e4.example.com\tMX\tmail.example.com\n" \
	"e4.example.com\tMX\tmail.example.com\n" \
	"e4.example.com\tMX\tmail.example.com\n" \
	"e4.example.com\tMX\tmail.example.com\n" \
	"e4.example.com\tMX\te4.example.com\n" \
	"e4.example.com\tA\t1.2.3.5\n" \
	"e5.example.com\tTXT\tv=spf1 ptr\n" \
	"e5.example.com\tA\t1.2.3.5\n" \
	"5.3.2.1.in-addr.arpa\tPTR\te1.example.com.\n" \
	"5.3.2.1.in-addr.arpa\tPTR\te2.example.com.\n" \
	"5.3.2.1.in-addr.arpa\tPTR\te3.example.com.\n" \
	"5.3.2.1.in-addr.arpa\tPTR\te4.example.com.\n" \
	"5.3.2.1.in-addr.arpa\tPTR\texample.com.\n" \
	"5.3.2.1.in-addr.arpa\tPTR\te6.example.com.\n" \
	"5.3.2.1.in-addr.arpa\tPTR\te7.example.com.\n" \
	"5.3.2.1.in-addr.arpa\tPTR\te8.example.com.\n" \
	"5.3.2.1.in-addr.arpa\tPTR\te9.example.com.\n" \
	"5.3.2.1.in-addr.arpa\tPTR\te10.example.com.\n" \
	"5.3.2.1.in-addr.arpa\tPTR\te5.example.com.\n" \
	"e6.example.com\tTXT\tv=spf1 a mx a mx a mx a mx a ptr " \
	    "ip4:1.2.3.4 -all\n" \
	"e6.example.com\tA\t1.2.3.8\n" \
	"e6.example.com\tMX\te6.example.com\n" \
	"e7.example.com\tTXT\tv=spf1 a mx a mx a mx a mx a ptr a " \
	    "ip4:1.2.3.4 -all\n" \
	"e7.example.com\tA\t1.2.3.20\n" \
	"e8.example.com\tTXT\tv=spf1 a include:inc.example.com " \
	    "ip4:1.2.3.4 mx -all\n" \
	"e8.example.com\tA\t1.2.3.4\n" \
	"inc.example.com\tTXT\tv=spf1 a a a a a a a a\n" \
	"inc.example.com\tA\t1.2.3.10\n" \
	"e9.example.com\tTXT\tv=spf1 a include:inc.example.com a " \
	    "ip4:1.2.3.4 -all\n" \
	"e9.example.com\tA\t1.2.3.21\n" \
	"e11.example.com\tTXT\tv=spf1 a:err.example.com " \
	    "a:err1.example.com a:err2.example.com ?all\n" \
	"e12.example.com\tTXT\tv=spf1 a:err.example.com " \
	    "a:err1.example.com ?all\n"
#define Z_MACRO \
	"example.com.d.spf.example.com\tTXT\tv=spf1 " \
	    "redirect=a.spf.example.com\n" \
	"a.spf.example.com\tTXT\tv=spf1 include:o.spf.example.com. ~all\n" \
	"o.spf.example.com\tTXT\tv=spf1 ip4:192.168.218.40\n" \
	"msgbas2x.cos.example.com\tA\t192.168.218.40\n" \
	"example.com\tA\t192.168.90.76\n" \
	"example.com\tTXT\tv=spf1 redirect=%{d}.d.spf.example.com.\n" \
	"e1.example.com\tTXT\tv=spf1 -exists:%(ir).sbl.example.com ?all\n" \
	"e1t.example.com\tTXT\tv=spf1 exists:foo%.sbl.example.com ?all\n" \
	"e2.example.com\tTXT\tv=spf1 -all exp=%{r}.example.com\n" \
	"e5.example.com\tTXT\tv=spf1 a:%{a}.example.com -all\n" \
	"e9.example.com\tTXT\tv=spf1 a:%{H} -all\n" \
	"e10.example.com\tTXT\tv=spf1 -include:_spfh.%{d2} " \
	    "ip4:1.2.3.0/24 -all\n" \
	"_spfh.example.com\tTXT\tv=spf1 -a:%{h} +all\n" \
	"e11.example.com\tTXT\tv=spf1 exists:%{i}.%{l2r-}.user.%{d2}\n" \
	"1.2.3.4.gladstone.philip.user.example.com\tA\t127.0.0.2\n" \
	"e12.example.com\tTXT\tv=spf1 exists:%{l2r+-}.user.%{d2}\n" \
	"bar.foo.user.example.com\tA\t127.0.0.2\n"
#define Z_A \
	Z_MAIL \
	"e1.example.com\tTXT\tv=spf1 a/0 -all\n" \
	"e2.example.com\tA\t1.1.1.1\n" \
	"e2.example.com\tAAAA\t1234::2\n" \
	"e2.example.com\tTXT\tv=spf1 a/0 -all\n" \
	"e2a.example.com\tAAAA\t1234::1\n" \
	"e2a.example.com\tTXT\tv=spf1 a//0 -all\n" \
	"e8.example.com\tA\t1.2.3.5\n" \
	"e8.example.com\tAAAA\t2001:db8:1234::dead:beef\n" \
	"e8.example.com\tTXT\tv=spf1 a/24//64 -all\n" \
	"e8b.example.com\tA\t1.2.3.5\n" \
	"e8b.example.com\tTXT\tv=spf1 a//64 -all\n" \
	"e10.example.com\tTXT\tv=spf1 a:foo.example.com/24\n" \
	"foo.example.com\tA\t1.1.1.1\n" \
	"foo.example.com\tA\t1.2.3.5\n" \
	"e11.example.com\tTXT\tv=spf1 a:foo:bar/baz.example.com\n" \
	"foo:bar/baz.example.com\tA\t1.2.3.4\n" \
	"e13.example.com\tTXT\tv=spf1 a:\n" \
	"e5a.example.com\tTXT\tv=spf1 a:museum\n"
#define Z_PTR \
	Z_MAIL \
	"mail.example.com\tAAAA\t2001:db8::1\n" \
	"e2.example.com\tTXT\tv=spf1 ptr:example.com -all\n" \
	"4.3.2.1.in-addr.arpa\tPTR\te3.example.com\n" \
	"4.3.2.1.in-addr.arpa\tPTR\te4.example.com\n" \
	"4.3.2.1.in-addr.arpa\tPTR\tmail.example.com\n" \
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.E.B.A.B.E.F.A.C." \
	    "ip6.arpa\tPTR\te3.example.com\n" \
	"e3.example.com\tTXT\tv=spf1 ptr -all\n" \
	"e3.example.com\tA\t1.2.3.4\n" \
	"e3.example.com\tAAAA\tCAFE:BABE::1\n" \
	"e4.example.com\tTXT\tv=spf1 ptr -all\n" \
	"e6.example.com\tTXT\tv=spf1 ptr:example.Com -all\n" \
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2." \
	    "ip6.arpa\tPTR\tmail.Example.com\n"

static const struct eval_case cases[] = {
	/* --- initial processing (suite) --- */
	{ "suite: toolonglabel: a 64-octet label is none", Z_MAIL,
	  "1.2.3.5", "lyme.eater@A1234567890123456789012345678901234567890"
	  "12345678901234567890123.example.com", "mail.example.net", NONE },
	{ "suite: emptylabel: none", Z_MAIL, "1.2.3.5",
	  "lyme.eater@A...example.com", "mail.example.net", NONE },
	{ "suite: helo-not-fqdn: none", "", "1.2.3.5", "", "A2345678",
	  NONE },
	{ "suite: helo-domain-literal: none", "", "1.2.3.5", "",
	  "[1.2.3.5]", NONE },
	{ "suite: nolocalpart: postmaster, fail",
	  "example.net\tTXT\tv=spf1 -all exp=exp.example.net\n", "1.2.3.4",
	  "@example.net", "mail.example.net", FAIL },
	{ "suite: non-ascii-policy: permerror",
	  "hosed.example.com\tTXT\tv=spf1 a:\xEF\xBB\xBFgarbage.example.net "
	  "-all\n", "1.2.3.4", "foobar@hosed.example.com", "hosed", PERM },
	{ "suite: non-ascii-non-spf: other TXT records ignored",
	  "nothosed.example.com\tTXT\tv=spf1 a:example.net -all\n"
	  "nothosed.example.com\tTXT\t\x96\n", "1.2.3.4",
	  "foobar@nothosed.example.com", "hosed", FAIL },
	{ "suite: control-char-policy: permerror",
	  "ctrl.example.com\tTXT\tv=spf1 a:ctrl.example.com\rptr -all\n"
	  "ctrl.example.com\tA\t192.0.2.3\n", "192.0.2.3",
	  "foobar@ctrl.example.com", "hosed", PERM },
	{ "suite: two-spaces: fine",
	  "fine.example.com\tTXT\tv=spf1 a  -all\n", "1.2.3.4",
	  "actually@fine.example.com", "hosed", FAIL },
	/* --- record lookup and selection (suite) --- */
	{ "suite: txttimeout: temperror",
	  "txttimeout.example.net\tTIMEOUT\t\n", "1.2.3.4",
	  "foo@txttimeout.example.net", "mail.example.net", TEMP },
	{ "suite: nospace1: v=spf1mx is no record",
	  "example2.com\tTXT\tv=spf1mx\n", "1.2.3.4", "foo@example2.com",
	  "mail.example1.com", NONE },
	{ "suite: empty: v=spf1 alone is neutral",
	  "example1.com\tTXT\tv=spf1\n", "1.2.3.4", "foo@example1.com",
	  "mail1.example1.com", NEUT },
	{ "suite: nospace2: v=spf10 is another record",
	  "example3.com\tTXT\tv=spf10\nexample3.com\tTXT\tv=spf1 mx\n"
	  "example3.com\tMX\tmail.example1.com\n"
	  "mail.example1.com\tA\t1.2.3.4\n", "1.2.3.4", "foo@example3.com",
	  "mail.example1.com", PASS },
	{ "suite: multitxt2: two records, case apart, permerror",
	  "example6.com\tTXT\tv=spf1 -all\nexample6.com\tTXT\tV=sPf1 +all\n",
	  "1.2.3.4", "foo@example6.com", "mail.example1.com", PERM },
	{ "suite: case-insensitive: v=SpF1 ~all",
	  "example9.com\tTXT\tv=SpF1 ~all\n", "1.2.3.4", "foo@example9.com",
	  "mail.example1.com", SOFT },
	/* --- record evaluation (suite) --- */
	{ "suite: detect-errors-anywhere: permerror after a match",
	  "t1.example.com\tTXT\tv=spf1 ip4:1.2.3.4 -all moo\n", "1.2.3.4",
	  "foo@t1.example.com", "mail.example.com", PERM },
	{ "suite: modifier-charset-good",
	  "t2.example.com\tTXT\tv=spf1 moo.cow-far_out=man:dog/cat "
	  "ip4:1.2.3.4 -all\n", "1.2.3.4", "foo@t2.example.com",
	  "mail.example.com", PASS },
	{ "suite: redirect-after-mechanisms1: all first, loop unused",
	  "t5.example.com\tTXT\tv=spf1 redirect=t5.example.com ~all\n",
	  "1.2.3.4", "foo@t5.example.com", "mail.example.com", SOFT },
	{ "suite: redirect-after-mechanisms2",
	  "t6.example.com\tTXT\tv=spf1 ip4:1.2.3.4 "
	  "redirect=t2.example.com\n"
	  "t2.example.com\tTXT\tv=spf1 moo.cow-far_out=man:dog/cat "
	  "ip4:1.2.3.4 -all\n", "1.2.3.5", "foo@t6.example.com",
	  "mail.example.com", FAIL },
	{ "suite: default-result: neutral",
	  "t7.example.com\tTXT\tv=spf1 ip4:1.2.3.4\n", "1.2.3.5",
	  "foo@t7.example.com", "mail.example.com", NEUT },
	{ "suite: redirect-is-modifier: redirect: is permerror",
	  "t8.example.com\tTXT\tv=spf1 ip4:1.2.3.4 "
	  "redirect:t2.example.com\n", "1.2.3.4", "foo@t8.example.com",
	  "mail.example.com", PERM },
	{ "suite: invalid-domain: a:foo-bar",
	  "t9.example.com\tTXT\tv=spf1 a:foo-bar -all\n", "1.2.3.4",
	  "foo@t9.example.com", "mail.example.com", PERM },
	{ "suite: all-dot: -all. is permerror",
	  "e1.example.com\tTXT\tv=spf1 -all.\n", "1.2.3.4",
	  "foo@e1.example.com", "mail.example.com", PERM },
	{ "suite: all-double: the first all wins",
	  "e5.example.com\tTXT\tv=spf1 all -all\n", "1.2.3.4",
	  "foo@e5.example.com", "mail.example.com", PASS },
	/* --- mechanisms (suite) --- */
	{ "suite: ptr-match-target", Z_PTR, "1.2.3.4",
	  "foo@e2.example.com", "mail.example.com", PASS },
	{ "suite: ptr-match-implicit", Z_PTR, "1.2.3.4",
	  "foo@e3.example.com", "mail.example.com", PASS },
	{ "suite: ptr-nomatch-invalid: PTR that does not validate",
	  Z_PTR, "1.2.3.4", "foo@e4.example.com", "mail.example.com", FAIL },
	{ "suite: ptr-match-ip6", Z_PTR, "CAFE:BABE::1",
	  "foo@e3.example.com", "mail.example.com", PASS },
	{ "suite: ptr-case-change", Z_PTR, "2001:db8::1",
	  "bar@e6.example.com", "mail.example.com", PASS },
	{ "suite: a-nxdomain: /0 matches nothing without records", Z_A,
	  "1.2.3.4", "foo@e1.example.com", "mail.example.com", FAIL },
	{ "suite: a-cidr4-0", Z_A, "1.2.3.4", "foo@e2.example.com",
	  "mail.example.com", PASS },
	{ "suite: a-cidr4-0-ip6", Z_A, "1234::1", "foo@e2.example.com",
	  "mail.example.com", FAIL },
	{ "suite: a-cidr6-0-ip4", Z_A, "1.2.3.4", "foo@e2a.example.com",
	  "mail.example.com", FAIL },
	{ "suite: a-cidr6-0-ip6", Z_A, "1234::1", "foo@e2a.example.com",
	  "mail.example.com", PASS },
	{ "suite: a-dual-cidr-ip4-match", Z_A, "1.2.3.4",
	  "foo@e8.example.com", "mail.example.com", PASS },
	{ "suite: a-dual-cidr-ip6-match", Z_A, "2001:db8:1234::cafe:babe",
	  "foo@e8.example.com", "mail.example.com", PASS },
	{ "suite: a-dual-cidr-ip4-default", Z_A, "1.2.3.4",
	  "foo@e8b.example.com", "mail.example.com", FAIL },
	{ "suite: a-multi-ip1", Z_A, "1.2.3.4", "foo@e10.example.com",
	  "mail.example.com", PASS },
	{ "suite: a-colon-domain", Z_A, "1.2.3.4", "foo@e11.example.com",
	  "mail.example.com", PASS },
	{ "suite: a-empty-domain", Z_A, "1.2.3.4", "foo@e13.example.com",
	  "mail.example.com", PERM },
	{ "suite: a-only-toplabel", Z_A, "1.2.3.4", "foo@e5a.example.com",
	  "mail.example.com", PERM },
	{ "suite: include-fail", Z_INC, "1.2.3.4", "foo@e1.example.com",
	  "mail.example.com", SOFT },
	{ "suite: include-softfail", Z_INC, "1.2.3.4",
	  "foo@e2.example.com", "mail.example.com", PASS },
	{ "suite: include-neutral", Z_INC, "1.2.3.4",
	  "foo@e3.example.com", "mail.example.com", FAIL },
	{ "suite: include-temperror", Z_INC, "1.2.3.4",
	  "foo@e4.example.com", "mail.example.com", TEMP },
	{ "suite: include-permerror", Z_INC, "1.2.3.4",
	  "foo@e5.example.com", "mail.example.com", PERM },
	{ "suite: include-none", Z_INC, "1.2.3.4", "foo@e7.example.com",
	  "mail.example.com", PERM },
	/* --- macros (suite) --- */
	{ "suite: trailing-dot-domain", Z_MACRO, "192.168.218.40",
	  "test@example.com", "msgbas2x.cos.example.com", PASS },
	{ "suite: exp-only-macro-char: %{r} outside exp text", Z_MACRO,
	  "192.168.218.40", "test@e2.example.com",
	  "msgbas2x.cos.example.com", PERM },
	{ "suite: invalid-macro-char: %(ir)", Z_MACRO, "192.168.218.40",
	  "test@e1.example.com", "msgbas2x.cos.example.com", PERM },
	{ "suite: invalid-trailing-macro-char", Z_MACRO, "192.168.218.40",
	  "test@e1t.example.com", "msgbas2x.cos.example.com", PERM },
	{ "suite: undef-macro: %{a}", Z_MACRO, "CAFE:BABE::192.168.218.40",
	  "test@e5.example.com", "msgbas2x.cos.example.com", PERM },
	{ "suite: hello-macro", Z_MACRO, "192.168.218.40",
	  "test@e9.example.com", "msgbas2x.cos.example.com", PASS },
	{ "suite: invalid-hello-macro: escaped, no match", Z_MACRO,
	  "192.168.218.40", "test@e9.example.com", "JUMPIN' JUPITER", FAIL },
	{ "suite: hello-domain-literal", Z_MACRO, "192.168.218.40",
	  "test@e9.example.com", "[192.168.218.40]", FAIL },
	{ "suite: require-valid-helo", Z_MACRO, "1.2.3.4",
	  "test@e10.example.com", "OEMCOMPUTER", FAIL },
	{ "suite: macro-reverse-split-on-dash", Z_MACRO, "1.2.3.4",
	  "philip-gladstone-test@e11.example.com", "mail.example.com",
	  PASS },
	{ "suite: macro-multiple-delimiters", Z_MACRO, "1.2.3.4",
	  "foo-bar+zip+quux@e12.example.com", "mail.example.com", PASS },
	/* --- processing limits (suite) --- */
	{ "suite: redirect-loop: permerror", Z_LIM, "1.2.3.4",
	  "foo@e1.example.com", "mail.example.com", PERM },
	{ "suite: include-loop: permerror", Z_LIM, "1.2.3.4",
	  "foo@e2.example.com", "mail.example.com", PERM },
	{ "suite: mx-limit: 11 MX names, permerror", Z_LIM, "1.2.3.5",
	  "foo@e4.example.com", "mail.example.com", PERM },
	{ "suite: ptr-limit: the 11th PTR name unused", Z_LIM, "1.2.3.5",
	  "foo@e5.example.com", "mail.example.com", NEUT },
	{ "suite: mech-at-limit: 10 lookups pass", Z_LIM, "1.2.3.4",
	  "foo@e6.example.com", "mail.example.com", PASS },
	{ "suite: mech-over-limit: 11 lookups", Z_LIM, "1.2.3.4",
	  "foo@e7.example.com", "mail.example.com", PERM },
	{ "suite: include-at-limit", Z_LIM, "1.2.3.4", "foo@e8.example.com",
	  "mail.example.com", PASS },
	{ "suite: include-over-limit", Z_LIM, "1.2.3.4",
	  "foo@e9.example.com", "mail.example.com", PERM },
	{ "suite: void-at-limit: two void lookups", Z_LIM, "1.2.3.4",
	  "foo@e12.example.com", "mail.example.com", NEUT },
	{ "suite: void-over-limit: three", Z_LIM, "1.2.3.4",
	  "foo@e11.example.com", "mail.example.com", PERM },
	/* --- ours: HELO, null sender, hostile answers --- */
	{ "HELO check: postmaster@helo, pass",
	  "mx.example.org\tTXT\tv=spf1 a -all\n"
	  "mx.example.org\tA\t192.0.2.1\n", "192.0.2.1", "",
	  "mx.example.org", PASS },
	{ "a timeout inside mx is a temperror",
	  "x.example.org\tTXT\tv=spf1 mx -all\n"
	  "x.example.org\tMX\tmx.example.org\n"
	  "mx.example.org\tTIMEOUT\t\n", "192.0.2.1", "a@x.example.org",
	  "h.example.org", TEMP },
	{ "a timeout on ptr is no match, not a temperror",
	  "x.example.org\tTXT\tv=spf1 ptr ~all\n"
	  "1.2.0.192.in-addr.arpa\tTIMEOUT\t\n", "192.0.2.1",
	  "a@x.example.org", "h.example.org", SOFT },
	{ "an A record of 3 octets matches nothing",
	  "x.example.org\tTXT\tv=spf1 a -all\nx.example.org\tA\tshort\n",
	  "192.0.2.1", "a@x.example.org", "h.example.org", FAIL },
	{ "include of itself, 10 deep: permerror, no overflow",
	  "x.example.org\tTXT\tv=spf1 include:x.example.org -all\n",
	  "192.0.2.1", "a@x.example.org", "h.example.org", PERM },
	{ "include chain through two domains ends at the limit",
	  "x.example.org\tTXT\tv=spf1 include:y.example.org\n"
	  "y.example.org\tTXT\tv=spf1 include:x.example.org\n",
	  "192.0.2.1", "a@x.example.org", "h.example.org", PERM },
	{ "redirect to a domain without record: permerror",
	  "x.example.org\tTXT\tv=spf1 redirect=nothing.example.org\n",
	  "192.0.2.1", "a@x.example.org", "h.example.org", PERM },
	{ "redirect with a macro to the sender's domain",
	  "x.example.org\tTXT\tv=spf1 redirect=_s.%{o}\n"
	  "_s.x.example.org\tTXT\tv=spf1 ip4:192.0.2.0/24 -all\n",
	  "192.0.2.1", "a@x.example.org", "h.example.org", PASS },
	{ "%{i} of an IPv6 client: 32 nibbles",
	  "x.example.org\tTXT\tv=spf1 exists:%{ir}.%{v}.x.example.org -all\n"
	  "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
	  "ip6.x.example.org\tA\t127.0.0.2\n", "2001:db8::1",
	  "a@x.example.org", "h.example.org", PASS },
	{ "a macro growing past 253 octets loses labels on the left",
	  "x.example.org\tTXT\tv=spf1 exists:%{o}.%{o}.%{o}.%{o}.%{o}.%{o}."
	  "%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.x "
	  "-all\n", "192.0.2.1", "a@x.example.org", "h.example.org", FAIL },
	{ "%{l0} (a zero DIGIT) is a permerror",
	  "x.example.org\tTXT\tv=spf1 exists:%{l0}.x.example.org -all\n",
	  "192.0.2.1", "a@x.example.org", "h.example.org", PERM },
	{ "%{c} in a mechanism is a permerror",
	  "x.example.org\tTXT\tv=spf1 exists:%{c}.x.example.org -all\n",
	  "192.0.2.1", "a@x.example.org", "h.example.org", PERM },
	{ "a label of 64 octets from a macro: no such name",
	  "x.example.org\tTXT\tv=spf1 a:%{l}.x.example.org -all\n",
	  "192.0.2.1", "a123456789012345678901234567890123456789012345678901"
	  "234567890123@x.example.org", "h.example.org", FAIL },
	{ "three void a: permerror even before -all",
	  "x.example.org\tTXT\tv=spf1 a:n1.x.example.org a:n2.x.example.org "
	  "a:n3.x.example.org -all\n", "192.0.2.1", "a@x.example.org",
	  "h.example.org", PERM },
	{ "an MX answer with an empty target: no address, no match",
	  "x.example.org\tTXT\tv=spf1 mx ~all\nx.example.org\tMX\t\n",
	  "192.0.2.1", "a@x.example.org", "h.example.org", SOFT },
	{ "a PTR name of 300 octets is skipped",
	  "x.example.org\tTXT\tv=spf1 ptr ~all\n"
	  "1.2.0.192.in-addr.arpa\tPTR\t"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x.example.org\n",
	  "192.0.2.1", "a@x.example.org", "h.example.org", SOFT },
	{ "a sender with an empty domain: none",
	  "", "192.0.2.1", "a@", "h.example.org", NONE },
	{ "include:%{d} includes itself until the limit",
	  "x.example.org\tTXT\tv=spf1 include:%{d} -all\n", "192.0.2.1",
	  "a@x.example.org", "h.example.org", PERM },
	{ "redirect to an empty label from a macro: permerror",
	  "x.example.org\tTXT\tv=spf1 redirect=%{l}..x.example.org\n",
	  "192.0.2.1", "a@x.example.org", "h.example.org", PERM },
	{ "exists on an IPv6 client asks for A, not AAAA",
	  "x.example.org\tTXT\tv=spf1 exists:e.x.example.org -all\n"
	  "e.x.example.org\tAAAA\t2001:db8::1\n", "2001:db8::1",
	  "a@x.example.org", "h.example.org", FAIL },
	{ "11 MX names: permerror even if the first matches",
	  "x.example.org\tTXT\tv=spf1 mx -all\n"
	  "x.example.org\tMX\tm.x.example.org\n"
	  "x.example.org\tMX\tm.x.example.org\n"
	  "x.example.org\tMX\tm.x.example.org\n"
	  "x.example.org\tMX\tm.x.example.org\n"
	  "x.example.org\tMX\tm.x.example.org\n"
	  "x.example.org\tMX\tm.x.example.org\n"
	  "x.example.org\tMX\tm.x.example.org\n"
	  "x.example.org\tMX\tm.x.example.org\n"
	  "x.example.org\tMX\tm.x.example.org\n"
	  "x.example.org\tMX\tm.x.example.org\n"
	  "x.example.org\tMX\tm.x.example.org\n"
	  "m.x.example.org\tA\t192.0.2.1\n", "192.0.2.1", "a@x.example.org",
	  "h.example.org", PERM },
	{ "a TXT answer that times out on the second include",
	  "x.example.org\tTXT\tv=spf1 include:y.example.org "
	  "include:z.example.org -all\n"
	  "y.example.org\tTXT\tv=spf1 -all\nz.example.org\tTIMEOUT\t\n",
	  "192.0.2.1", "a@x.example.org", "h.example.org", TEMP },
	{ "ip6 does not match an IPv4 client",
	  "x.example.org\tTXT\tv=spf1 ip6:::/0 -all\n", "192.0.2.1",
	  "a@x.example.org", "h.example.org", FAIL },
};

/* The lines of zone for name (case-insensitive), of type t, fed to
 * the evaluator; the status of the lookup. */
static enum spf_dns
answer(struct spf_eval *e, const char *zone)
{
	static const struct { const char *n; uint16_t t; } types[] = {
		{ "A", DNS_T_A }, { "AAAA", DNS_T_AAAA }, { "TXT", DNS_T_TXT },
		{ "MX", DNS_T_MX }, { "PTR", DNS_T_PTR }
	};
	const char *p = zone;
	int found = 0;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n'), *t1 = strchr(p, '\t');
		const char *t2 = t1 != NULL ? strchr(t1 + 1, '\t') : NULL;
		size_t nlen, tlen, vlen;
		uint16_t type = 0;

		assert_non_null(nl);
		assert_true(t1 != NULL && t2 != NULL && t2 < nl);
		nlen = (size_t)(t1 - p);
		tlen = (size_t)(t2 - t1 - 1);
		vlen = (size_t)(nl - t2 - 1);
		if (nlen == strlen(e->qname) &&
		    strncasecmp(p, e->qname, nlen) == 0) {
			if (tlen == 7 && strncmp(t1 + 1, "TIMEOUT", 7) == 0) {
				return SPF_DNS_TEMP;
			}
			for (size_t k = 0; k < 5; k++) {
				if (strlen(types[k].n) == tlen &&
				    strncmp(t1 + 1, types[k].n, tlen) == 0) {
					type = types[k].t;
				}
			}
		}
		if (type != 0 && type == e->qtype) {
			char v[4096];
			uint8_t a[16];

			memcpy(v, t2 + 1, vlen);
			v[vlen] = '\0';
			found = 1;
			if (type == DNS_T_A && inet_pton(AF_INET, v, a) == 1) {
				spf_eval_rr(e, type, a, 4);
			} else if (type == DNS_T_A) {
				spf_eval_rr(e, type, v, 3);	/* hostile */
			} else if (type == DNS_T_AAAA) {
				assert_int_equal(inet_pton(AF_INET6, v, a), 1);
				spf_eval_rr(e, type, a, 16);
			} else {
				spf_eval_rr(e, type, v, vlen);
			}
		}
		p = nl + 1;
	}
	return found ? SPF_DNS_OK : SPF_DNS_NONE;
}

static void
test_cases(void **state)
{
	static struct spf_eval e;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct eval_case *c = &cases[i];
		const char *at = strrchr(c->mailfrom, '@');
		uint8_t ip[16];
		size_t alen = 4;
		unsigned queries = 0;

		if (inet_pton(AF_INET, c->ip, ip) != 1) {
			assert_int_equal(inet_pton(AF_INET6, c->ip, ip), 1);
			alen = 16;
		}
		spf_eval_init(&e, ip, alen, at != NULL ? at + 1 : c->helo,
		    c->mailfrom, c->helo, "mx.receiver.example", 1700000000);
		while (spf_eval_next(&e) == 1) {
			assert_true(++queries < 200);
			spf_eval_end(&e, answer(&e, c->zone));
		}
		if (e.result != c->want) {
			print_error("case %zu (%s): %s, wanted %s (%s)\n", i,
			    c->desc, spf_result_name(e.result),
			    spf_result_name(c->want), e.why);
		}
		assert_int_equal(e.result, c->want);
	}
}

/* A chain of records larger than the arena: a temperror (ours), not
 * a read or write past it; a TXT answer of 5000 octets alone too. */
static void
test_big_records(void **state)
{
	static struct spf_eval e;
	static char big[6000];
	static const uint8_t ip[4] = { 192, 0, 2, 1 };
	size_t n;

	(void)state;
	n = (size_t)snprintf(big, sizeof big, "v=spf1");
	while (n < 5000) {
		n += (size_t)snprintf(big + n, sizeof big - n,
		    " ip4:192.0.2.9");
	}
	spf_eval_init(&e, ip, 4, "x.example.org", "a@x.example.org", "h",
	    "r", 0);
	assert_int_equal(spf_eval_next(&e), 1);
	spf_eval_rr(&e, DNS_T_TXT, big, n);
	spf_eval_end(&e, SPF_DNS_OK);
	assert_int_equal(spf_eval_next(&e), 0);
	assert_int_equal(e.result, SPF_R_TEMPERROR);
	/* 2500 + 2500: the include's record does not fit beside. */
	spf_eval_init(&e, ip, 4, "x.example.org", "a@x.example.org", "h",
	    "r", 0);
	assert_int_equal(spf_eval_next(&e), 1);
	n = (size_t)snprintf(big, sizeof big, "v=spf1 include:y.example.org");
	while (n < 2500) {
		n += (size_t)snprintf(big + n, sizeof big - n,
		    " ip4:192.0.2.9");
	}
	spf_eval_rr(&e, DNS_T_TXT, big, n);
	spf_eval_end(&e, SPF_DNS_OK);
	assert_int_equal(spf_eval_next(&e), 1);
	assert_string_equal(e.qname, "y.example.org");
	memcpy(big, "v=spf1 -all   ", 14);	/* same length, new text */
	spf_eval_rr(&e, DNS_T_TXT, big, n);
	spf_eval_end(&e, SPF_DNS_OK);
	assert_int_equal(spf_eval_next(&e), 0);
	assert_int_equal(e.result, SPF_R_TEMPERROR);
}

/* Expansion seen from the queries: the RFC 7208 7.4 examples. */
static void
test_macro_examples(void **state)
{
	static const struct { const char *spec, *want; } ex[] = {
		{ "%{s}", "strong-bad@email.example.com" },
		{ "%{o}", "email.example.com" },
		{ "%{d}", "email.example.com" },
		{ "%{d4}", "email.example.com" },
		{ "%{d3}", "email.example.com" },
		{ "%{d2}", "example.com" },
		{ "%{d1}", "com" },
		{ "%{dr}", "com.example.email" },
		{ "%{d2r}", "example.email" },
		{ "%{l}", "strong-bad" },
		{ "%{l-}", "strong.bad" },
		{ "%{lr}", "strong-bad" },
		{ "%{lr-}", "bad.strong" },
		{ "%{l1r-}", "strong" },
		{ "%{ir}.%{v}._spf.%{d2}",
		  "3.2.0.192.in-addr._spf.example.com" },
		{ "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
		{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
		  "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
		{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
		  "3.2.0.192.in-addr.strong.lp._spf.example.com" },
		{ "%{d2}.trusted-domains.example.net",
		  "example.com.trusted-domains.example.net" },
		{ "%{L}%%%_%-.x", "strong-bad% %20.x" },
		{ "%{S}", "strong-bad%40email.example.com" },
	};
	static struct spf_eval e;
	static const uint8_t ip[4] = { 192, 0, 2, 3 };
	char rec[512];

	(void)state;
	for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
		snprintf(rec, sizeof rec, "v=spf1 exists:%s -all",
		    ex[i].spec);
		spf_eval_init(&e, ip, 4, "email.example.com",
		    "strong-bad@email.example.com", "h.example.org", "r",
		    0);
		assert_int_equal(spf_eval_next(&e), 1);
		assert_int_equal(e.qtype, DNS_T_TXT);
		spf_eval_rr(&e, DNS_T_TXT, rec, strlen(rec));
		spf_eval_end(&e, SPF_DNS_OK);
		assert_int_equal(spf_eval_next(&e), 1);
		if (strcmp(e.qname, ex[i].want) != 0) {
			print_error("%s: %s, wanted %s\n", ex[i].spec,
			    e.qname, ex[i].want);
		}
		assert_string_equal(e.qname, ex[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_macro_examples),
		cmocka_unit_test(test_big_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
