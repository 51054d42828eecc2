/* SPDX-License-Identifier: ISC */
/*
 * fuzz_cfg.c - libFuzzer harness for the configuration parser
 * (core/cfg.h): the input is a whole file for cfg_parse (then
 * cfg_validate when it parses) and, cut at the first NUL and at
 * CFG_VALUE_MAX, a value for the listen, nets and user parsers.
 *
 * Besides the sanitizers, it checks what the callers rely on: a
 * message is always a NUL-terminated `NAME:LINE: ...`, counts never
 * pass their cap, and every value accepted in a file is accepted
 * again, with the same number, when written back as `key = value`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/cfg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct cfg	c, again;

static void
check_msg(const struct err *e, const char *prefix)
{
	if (memchr(e->msg, '\0', sizeof e->msg) == NULL ||
	    strncmp(e->msg, prefix, strlen(prefix)) != 0) {
		abort();
	}
}

/* A value accepted once is accepted again on its own. */
static void
round_trip(void)
{
	char line[CFG_LINE_MAX + 2];
	struct err e;

	for (int k = 0; k < CFG_NKEYS; k++) {
		size_t nl, vl;

		if (c.v[k].line == 0) {
			continue;
		}
		nl = strlen(cfg_keys[k].name);
		vl = strlen(c.v[k].str);
		memcpy(line, cfg_keys[k].name, nl);
		memcpy(line + nl, " = ", 3);
		memcpy(line + nl + 3, c.v[k].str, vl);
		if (cfg_parse(&again, "rt", line, nl + 3 + vl, &e) != 0 ||
		    strcmp(again.v[k].str, c.v[k].str) != 0 ||
		    again.v[k].num != c.v[k].num) {
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_listen listen[CFG_LISTEN_MAX];
	struct cfg_net nets[CFG_NETS_MAX];
	char s[CFG_VALUE_MAX];
	struct cfg_user u;
	struct err e;
	size_t len, n;
	int64_t secs;

	if (cfg_parse(&c, "f.conf", (const char *)data, size, &e) == 0) {
		for (int k = 0; k < CFG_NKEYS; k++) {
			if (memchr(c.v[k].str, '\0', sizeof c.v[k].str)
			    == NULL) {
				abort();
			}
			(void)cfg_num(&c, (enum cfg_key)k);
		}
		if (cfg_validate(&c, &e) == -1) {
			check_msg(&e, "f.conf:");
		}
		round_trip();
	} else {
		check_msg(&e, "f.conf:");
	}

	/* The same bytes as one value. */
	len = size < sizeof s - 1 ? size : sizeof s - 1;
	memcpy(s, data, len);
	s[len] = '\0';
	n = 99;
	if (cfg_parse_listen(s, listen, CFG_LISTEN_MAX, &n, &e) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (listen[i].port == 0 ||
			    (listen[i].family != AF_INET &&
			    listen[i].family != AF_INET6)) {
				abort();
			}
		}
	}
	if (n > CFG_LISTEN_MAX) {
		abort();
	}
	n = 99;
	if (cfg_parse_nets(s, nets, 2, &n, &e) == 0) {
		uint8_t addr[16] = { 0 };

		memcpy(addr, data, size < 16 ? size : 16);
		(void)cfg_net_match(nets, n, AF_INET, addr);
		(void)cfg_net_match(nets, n, AF_INET6, addr);
		/* A network contains its own address. */
		for (size_t i = 0; i < n; i++) {
			if (cfg_net_match(&nets[i], 1, nets[i].family,
			    nets[i].addr) != 1) {
				abort();
			}
		}
	}
	if (n > 2) {
		abort();
	}
	if (cfg_parse_user(s, &u, &e) == 0 &&
	    memchr(u.name, '\0', sizeof u.name) == NULL) {
		abort();
	}
	/* Pointer and length: no NUL needed. */
	(void)cfg_parse_secs((const char *)data, size, &secs);
	return 0;
}
