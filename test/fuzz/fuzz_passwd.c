/* SPDX-License-Identifier: ISC */
/*
 * fuzz_passwd.c - libFuzzer harness for the /etc/passwd and /etc/group
 * line parsers (core/privs.h). The input is used as both files, read
 * by pointer and length only (no NUL at the end), and searched for
 * fixed names and for the first name it contains.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/privs.h"

#define CAP	4

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
lookup(const char *buf, size_t len, const char *name)
{
	uint32_t uid, gid, gids[CAP + 1];
	size_t n;

	if (passwd_find(buf, len, name, &uid, &gid) == 1 &&
	    (uid == UINT32_MAX || gid == UINT32_MAX)) {
		abort();	/* (uid_t)-1 is never a user */
	}
	gids[CAP] = 0x5a5a5a5a;
	n = group_members(buf, len, name, gids, CAP);
	if (n > CAP || gids[CAP] != 0x5a5a5a5a) {
		abort();
	}
	if (group_members(buf, len, name, gids, 0) != 0) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "root", "mail", "wren", "" };
	const char *buf;
	char name[64];
	size_t nlen = 0;
	char *copy;

	/* An exact-size copy, so ASan sees any read past len. */
	copy = malloc(size != 0 ? size : 1);
	if (copy == NULL) {
		return 0;
	}
	memcpy(copy, data, size);
	buf = copy;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		lookup(buf, size, names[i]);
	}
	/* The first field of the input as a name. */
	while (nlen < size && nlen < sizeof name - 1 && buf[nlen] != ':' &&
	    buf[nlen] != '\n' && buf[nlen] != '\0') {
		name[nlen] = buf[nlen];
		nlen++;
	}
	name[nlen] = '\0';
	lookup(buf, size, name);
	free(copy);
	return 0;
}
