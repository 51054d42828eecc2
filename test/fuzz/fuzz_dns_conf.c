/* SPDX-License-Identifier: ISC */
/*
 * fuzz_dns_conf.c - libFuzzer harness for where the resolver's servers
 * come from (dns/dns.h): the dns_servers key and the `nameserver`
 * lines of a resolv.conf(5) image.
 *
 * The input is read as a resolv.conf image (exact-size copy: ASan sees
 * any read past len) and, cut at its first NUL, as a dns_servers
 * value. Every server kept must be a well-formed address with a port.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns.h"

#define CAP	3

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_server(const struct dns_server *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_server sv[CAP + 1];
	struct err e;
	char *copy = malloc(size > 0 ? size : 1), *s;
	size_t n = 0x5a5a, n1;

	if (copy == NULL) {
		abort();
	}
	memcpy(copy, data, size);
	memset(&sv[CAP], 0x5a, sizeof sv[CAP]);
	n = dns_resolv_parse(copy, size, sv, CAP);
	if (n > CAP || sv[CAP].family != 0x5a5a5a5a) {
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		check_server(&sv[i]);
		if (sv[i].port != 53) {
			abort();
		}
	}
	if (dns_resolv_parse(copy, size, sv, 0) != 0) {
		abort();
	}
	free(copy);

	s = malloc(size + 1);
	if (s == NULL) {
		abort();
	}
	memcpy(s, data, size);
	s[size] = '\0';
	if (dns_servers_parse(s, sv, CAP, &n, &e) == 0) {
		if (n > CAP || sv[CAP].family != 0x5a5a5a5a) {
			abort();
		}
		for (size_t i = 0; i < n; i++) {
			check_server(&sv[i]);
		}
		/* A smaller cap keeps a prefix and still accepts. */
		if (dns_servers_parse(s, sv, 1, &n1, &e) != 0 ||
		    n1 != (n > 0)) {
			abort();
		}
	} else if (memchr(e.msg, '\0', sizeof e.msg) == NULL ||
	    e.msg[0] != '\'') {
		abort();
	}
	free(s);
	return 0;
}

static void
check_server(const struct dns_server *sv)
{
	if ((sv->family != AF_INET && sv->family != AF_INET6) ||
	    sv->port == 0) {
		abort();
	}
	if (sv->family == AF_INET) {
		for (size_t i = 4; i < sizeof sv->addr; i++) {
			if (sv->addr[i] != 0) {
				abort();
			}
		}
	}
}
