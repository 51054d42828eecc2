/* SPDX-License-Identifier: ISC */
/*
 * fuzz_folder_name.c - libFuzzer harness for IMAP mailbox names and
 * their Maildir++ directories (store/folder_name.h).
 *
 * The input is one name, checked in every mode (new, lax, each with
 * and without a trailing separator allowed) from an exact-size copy.
 * Every result must have a text; an accepted name must be at most
 * FOLDER_NAME_MAX printable ASCII octets without '/', with no empty,
 * leading or trailing component, at most FOLDER_DEPTH_MAX levels, its
 * directory "." + name (or "" for INBOX alone), INBOX in capitals when
 * first, and it must be accepted again, unchanged, in every mode.
 * What a new name may be, an existing one may be too; a trailing
 * separator only ever removes one octet.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/folder_name.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
dup_exact(const void *s, size_t len)
{
	char *p = malloc(len > 0 ? len : 1);

	if (p == NULL) {
		abort();
	}
	if (len > 0) {
		memcpy(p, s, len);
	}
	return p;
}

static void
check_ok(const struct folder_name *fn)
{
	unsigned depth = 1;

	if (fn->len == 0 || fn->len > FOLDER_NAME_MAX ||
	    fn->name[fn->len] != '\0' || fn->name[0] == FOLDER_SEP ||
	    fn->name[fn->len - 1] == FOLDER_SEP || fn->name[0] == '~') {
		abort();
	}
	for (size_t i = 0; i < fn->len; i++) {
		unsigned char c = (unsigned char)fn->name[i];

		if (c < 0x20 || c >= 0x7f || c == '/') {
			abort();
		}
		if (c == FOLDER_SEP) {
			depth++;
			if (fn->name[i + 1] == FOLDER_SEP) {
				abort();
			}
		}
	}
	if (depth != fn->depth || depth > FOLDER_DEPTH_MAX) {
		abort();
	}
	if (fn->len >= 5 && strncasecmp(fn->name, "INBOX", 5) == 0 &&
	    (fn->len == 5 || fn->name[5] == FOLDER_SEP) &&
	    memcmp(fn->name, "INBOX", 5) != 0) {
		abort();
	}
	if (fn->inbox != (fn->len == 5 && memcmp(fn->name, "INBOX", 5) ==
	    0)) {
		abort();
	}
	if (fn->inbox ? fn->dirlen != 0 || fn->dir[0] != '\0' :
	    fn->dirlen != fn->len + 1 || fn->dir[0] != '.' ||
	    memcmp(fn->dir + 1, fn->name, fn->len) != 0 ||
	    fn->dir[fn->dirlen] != '\0') {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned modes[] = { FOLDER_NAME_NEW, FOLDER_NAME_LAX,
	    FOLDER_NAME_NEW | FOLDER_NAME_TRAIL,
	    FOLDER_NAME_LAX | FOLDER_NAME_TRAIL };
	struct folder_name fn[4], again;
	enum folder_name_err err[4];
	char *in = dup_exact(data, size);

	for (size_t m = 0; m < 4; m++) {
		const char *t;

		err[m] = folder_name_parse(in, size, modes[m], &fn[m]);
		if ((unsigned)err[m] >= FOLDER_NAME_ERR_MAX) {
			abort();
		}
		t = folder_name_strerror(err[m]);
		if (t == NULL || t[0] == '\0') {
			abort();
		}
		if (err[m] != FOLDER_NAME_OK) {
			continue;
		}
		check_ok(&fn[m]);
		for (size_t k = 0; k < 4; k++) {
			char *copy = dup_exact(fn[m].name, fn[m].len);

			if (!(modes[k] & FOLDER_NAME_LAX) &&
			    (modes[m] & FOLDER_NAME_LAX)) {
				free(copy);
				continue;	/* lax may not be new */
			}
			if (folder_name_parse(copy, fn[m].len, modes[k],
			    &again) != FOLDER_NAME_OK ||
			    again.len != fn[m].len ||
			    memcmp(again.name, fn[m].name, fn[m].len) != 0) {
				abort();
			}
			free(copy);
		}
	}
	/* New implies lax, with and without TRAIL. */
	if ((err[0] == FOLDER_NAME_OK && err[1] != FOLDER_NAME_OK) ||
	    (err[2] == FOLDER_NAME_OK && err[3] != FOLDER_NAME_OK)) {
		abort();
	}
	/* TRAIL takes all it took without, the same way, and at most one
	 * octet more. */
	for (size_t m = 0; m < 2; m++) {
		if (err[m] == FOLDER_NAME_OK &&
		    (err[m + 2] != FOLDER_NAME_OK ||
		    fn[m + 2].len != fn[m].len)) {
			abort();
		}
		if (err[m + 2] == FOLDER_NAME_OK && fn[m + 2].len != size &&
		    fn[m + 2].len + 1 != size) {
			abort();
		}
	}
	free(in);
	return 0;
}
