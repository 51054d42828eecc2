/* SPDX-License-Identifier: ISC */
/*
 * test_addr.c - addresses to text: IPv4, and IPv6 per RFC 5952 section
 * 4 (lower case, no leading zeros, "::" for the longest run of two or
 * more zero groups, leftmost on ties, IPv4-mapped in dotted form).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/addr.h"

static const struct {
	const char	*what;
	int		 family;
	const char	*in;		/* parsed with inet_pton */
	const char	*want;
} cases[] = {
	{ "v4 loopback", AF_INET, "127.0.0.1", "127.0.0.1" },
	{ "v4 all ones", AF_INET, "255.255.255.255", "255.255.255.255" },
	{ "v4 zero", AF_INET, "0.0.0.0", "0.0.0.0" },
	{ "v6 loopback", AF_INET6, "::1", "::1" },
	{ "v6 unspecified", AF_INET6, "::", "::" },
	{ "v6 leading zeros dropped", AF_INET6, "2001:0db8:0000:0000:0000:"
	  "0000:0002:0001", "2001:db8::2:1" },
	{ "v6 upper case lowered", AF_INET6, "2001:DB8::ABCD",
	  "2001:db8::abcd" },
	{ "v6 single zero group kept", AF_INET6, "2001:db8:0:1:1:1:1:1",
	  "2001:db8:0:1:1:1:1:1" },
	{ "v6 longest run wins", AF_INET6, "2001:0:0:1:0:0:0:1",
	  "2001:0:0:1::1" },
	{ "v6 leftmost on ties", AF_INET6, "2001:db8:0:0:1:0:0:1",
	  "2001:db8::1:0:0:1" },
	{ "v6 run at the end", AF_INET6, "fe80:1::", "fe80:1::" },
	{ "v6 run at the start", AF_INET6, "::2:3:4", "::2:3:4" },
	{ "v6 no zeros", AF_INET6, "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" },
	{ "v6 ipv4-mapped", AF_INET6, "::ffff:192.0.2.7",
	  "::ffff:192.0.2.7" },
	{ "v6 longest", AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
};

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t a[16];
		char out[ADDR_TEXT_MAX];
		int n;

		assert_int_equal(inet_pton(cases[i].family, cases[i].in, a), 1);
		n = addr_text(out, sizeof out, cases[i].family, a);
		if (n < 0 || strcmp(out, cases[i].want) != 0) {
			fail_msg("%s: got '%s', want '%s'", cases[i].what,
			    n < 0 ? "(error)" : out, cases[i].want);
		}
		assert_int_equal(n, (int)strlen(cases[i].want));
	}
}

static void
test_small_buffers_and_bad_family(void **state)
{
	uint8_t a[16];
	char out[8];

	(void)state;
	inet_pton(AF_INET6, "2001:db8::1", a);
	assert_int_equal(addr_text(out, sizeof out, AF_INET6, a), -1);
	inet_pton(AF_INET, "192.168.100.200", a);
	assert_int_equal(addr_text(out, sizeof out, AF_INET, a), -1);
	assert_int_equal(addr_text(out, sizeof out, AF_UNIX, a), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_small_buffers_and_bad_family),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
