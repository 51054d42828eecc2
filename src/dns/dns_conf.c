/* SPDX-License-Identifier: ISC */
/*
 * dns_conf.c - where the resolver's servers come from: the dns_servers
 * key ("ip[:port]", "[ipv6]:port" or a bare IPv6 address, separated by
 * commas or spaces) and the `nameserver` lines of resolv.conf(5).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "core/num.h"
#include "dns.h"

static int	parse_ip(const char *, size_t, struct dns_server *);
static int	is_space(char);

int
dns_servers_parse(const char *s, struct dns_server *out, size_t cap,
    size_t *n, struct err *e)
{
	const char *p = s, *end = s + strlen(s);

	*n = 0;
	while (p < end) {
		const char *it, *h, *colon = NULL;
		size_t ilen, hlen;
		struct dns_server sv;
		uint64_t port = DNS_PORT;

		while (p < end && (is_space(*p) || *p == ',')) {
			p++;
		}
		if (p == end) {
			break;
		}
		it = p;
		while (p < end && !is_space(*p) && *p != ',') {
			p++;
		}
		ilen = (size_t)(p - it);
		h = it;
		hlen = ilen;
		if (h[0] == '[') {
			const char *rb = memchr(h, ']', hlen);

			if (rb == NULL) {
				return err_set(e, "'%.*s': missing ']'",
				    (int)ilen, it);
			}
			if (rb + 1 < it + ilen) {
				colon = rb + 1;
			}
			h++;
			hlen = (size_t)(rb - h);
		} else {
			colon = memchr(h, ':', hlen);
			if (colon != NULL && memchr(colon + 1, ':',
			    (size_t)(it + ilen - colon - 1)) != NULL) {
				colon = NULL;	/* a bare IPv6 address */
			} else if (colon != NULL) {
				hlen = (size_t)(colon - h);
			}
		}
		if (colon != NULL && (*colon != ':' || num_parse_u64(colon + 1,
		    (size_t)(it + ilen - colon - 1), 65535, &port) == -1 ||
		    port == 0)) {
			return err_set(e, "'%.*s': bad port", (int)ilen, it);
		}
		if (parse_ip(h, hlen, &sv) == -1) {
			return err_set(e, "'%.*s': expected an IP address",
			    (int)ilen, it);
		}
		sv.port = (uint16_t)port;
		if (*n < cap) {
			out[(*n)++] = sv;
		}
	}
	return 0;
}

size_t
dns_resolv_parse(const char *buf, size_t len, struct dns_server *out,
    size_t cap)
{
	const char *p = buf, *end = buf + len;
	size_t n = 0;

	while (p < end && n < cap) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end, *w, *a;
		size_t alen;

		w = p;
		p = nl != NULL ? nl + 1 : end;
		while (w < le && is_space(*w)) {
			w++;
		}
		if ((size_t)(le - w) < 11 ||
		    memcmp(w, "nameserver", 10) != 0 || !is_space(w[10])) {
			continue;
		}
		a = w + 10;
		while (a < le && is_space(*a)) {
			a++;
		}
		alen = 0;
		while (a + alen < le && !is_space(a[alen]) && a[alen] != '#' &&
		    a[alen] != ';' && a[alen] != '\r') {
			alen++;
		}
		/* A scope (fe80::1%eth0) cannot be kept in our form. */
		if (parse_ip(a, alen, &out[n]) == 0) {
			out[n].port = DNS_PORT;
			n++;
		}
	}
	return n;
}

static int
parse_ip(const char *s, size_t len, struct dns_server *sv)
{
	char tmp[64];

	if (len == 0 || len >= sizeof tmp) {
		return -1;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(sv, 0, sizeof *sv);
	if (inet_pton(AF_INET, tmp, sv->addr) == 1) {
		sv->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, sv->addr) == 1) {
		sv->family = AF_INET6;
		return 0;
	}
	return -1;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}
