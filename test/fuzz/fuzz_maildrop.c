/* SPDX-License-Identifier: ISC */
/*
 * fuzz_maildrop.c - libFuzzer harness for the maildrop file and the
 * submitted-header scan (queue/maildrop.h).
 *
 * The file: maildrop_parse on an exact-size copy must not read past it;
 * on success every field must be what maildrop_format accepts, the
 * header must end with an empty line at head_len, and formatting the
 * result must give back exactly the bytes parsed. Every shorter prefix
 * of an accepted header is refused as truncated.
 *
 * The header scan: the input is framed into fields with
 * maildrop_field_next (fields tile the input, names are field names),
 * each line is classified, and each field value is split into
 * addresses with maildrop_addr_next through a small and a large buffer:
 * progress every call, addresses NUL-ended within the buffer, never
 * empty and, outside quotes, with no white space, comma or angle
 * bracket. maildrop_qualify's output splits into as many results, the
 * same addresses but for "@q.example" after each one without an '@'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/maildrop.h"
#include "exact.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	 check_file(const uint8_t *, size_t);
static void	 check_header(const uint8_t *, size_t);
static void	 check_addrs(const char *, size_t, size_t);
static void	 check_qualify(const char *, size_t);
static size_t	 split(const char *, size_t, char *, size_t, int);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_file(data, size);
	check_header(data, size);
	return 0;
}

static void
check_file(const uint8_t *data, size_t size)
{
	static struct maildrop_env env, again;
	static char out[MAILDROP_HEAD_MAX];
	char *buf = exact_dup(0, data, size);
	enum maildrop_err err;
	long n;

	err = maildrop_parse(buf, size, &env);
	if (maildrop_strerror(err) == NULL) {
		abort();
	}
	if (err != MAILDROP_OK) {
		exact_done(buf);
		return;
	}
	if (env.head_len < 2 || env.head_len > size ||
	    env.head_len > MAILDROP_HEAD_MAX ||
	    data[env.head_len - 1] != '\n' ||
	    data[env.head_len - 2] != '\n' || env.nrcpt == 0 ||
	    env.nrcpt > MAILDROP_RCPT_MAX) {
		abort();
	}
	for (size_t i = 0; i < env.nrcpt; i++) {
		if (env.rcpt[i] < buf || env.rcpt[i] >= buf + env.head_len ||
		    !maildrop_addr_ok(env.rcpt[i], strlen(env.rcpt[i]),
		    NULL)) {
			abort();
		}
	}
	n = maildrop_format(out, sizeof out, &env);
	if (n != (long)env.head_len || memcmp(out, data, (size_t)n) != 0) {
		abort();	/* parse and format disagree */
	}
	/* Every prefix when short, else a sample (each parse is linear). */
	for (size_t k = 0; k < env.head_len;
	    k += env.head_len < 512 ? 1 : 61) {
		char *p = exact_dup(1, data, k);

		if (maildrop_parse(p, k, &again) != MAILDROP_E_TRUNCATED) {
			abort();
		}
		exact_done(p);
	}
	exact_done(buf);
}

static void
check_header(const uint8_t *data, size_t size)
{
	char *h = exact_dup(0, data, size);
	struct maildrop_field f;
	size_t pos = 0, last = 0;

	while (maildrop_field_next(h, size, &pos, &f) == 1) {
		size_t le = 0;

		if (f.off != last || f.len == 0 || f.off + f.len != pos ||
		    pos > size || f.value < h || f.value + f.vlen > h + pos) {
			abort();
		}
		if (f.name != NULL) {
			if (f.name != h + f.off || f.nlen == 0 ||
			    f.value <= f.name + f.nlen ||
			    f.value[-1] != ':') {
				abort();
			}
		}
		while (le < f.len && h[f.off + le] != '\n') {
			le++;
		}
		if ((maildrop_header_line(h + f.off, le) ==
		    MAILDROP_HL_FIELD) != (f.name != NULL)) {
			abort();
		}
		check_addrs(f.value, f.vlen, 8);
		check_addrs(f.value, f.vlen, ADDR_MAX + 1);
		check_qualify(f.value, f.vlen);
		last = pos;
	}
	if (pos != size) {
		abort();
	}
	exact_done(h);
}

static void
check_addrs(const char *value, size_t vlen, size_t cap)
{
	char *v = exact_dup(1, value, vlen);
	char *out = malloc(cap);
	size_t pos = 0;
	int rc;

	if (out == NULL) {
		abort();
	}
	for (;;) {
		size_t before = pos;

		rc = maildrop_addr_next(v, vlen, &pos, out, cap);
		if (pos > vlen || (rc != 0 && pos <= before)) {
			abort();
		}
		if (rc == 0) {
			break;
		}
		if (rc == 1) {
			size_t n = strnlen(out, cap);

			/* A quoted local part may hold anything else. */
			if (n == 0 || n == cap || (strchr(out, '"') == NULL &&
			    strpbrk(out, " \t\r\n,<>") != NULL)) {
				abort();
			}
		} else if (rc != -1) {
			abort();
		}
	}
	if (pos != vlen) {
		abort();
	}
	free(out);
	exact_done(v);
}

/* The results of an address list as one string: each address (with
 * "@q.example" added when `add` and it has no '@'), or "!" for -1,
 * each followed by NUL. Returns its length. */
static size_t
split(const char *v, size_t len, char *dst, size_t cap, int add)
{
	char a[ADDR_MAX + 1];
	size_t pos = 0, n = 0;
	int rc;

	while ((rc = maildrop_addr_next(v, len, &pos, a, sizeof a)) != 0) {
		const char *s = rc == 1 ? a : "!";
		size_t sl = strlen(s);
		int q = 0, at = 0;

		for (size_t k = 0; rc == 1 && k < sl; k++) {
			if (s[k] == '"') {
				q = !q;
			} else if (s[k] == '\\' && q && k + 1 < sl) {
				k++;
			} else if (s[k] == '@' && !q) {
				at = 1;
			}
		}
		if (n + sl + 12 > cap) {
			abort();
		}
		memcpy(dst + n, s, sl);
		n += sl;
		if (add && rc == 1 && !at) {
			memcpy(dst + n, "@q.example", 10);
			n += 10;
		}
		dst[n++] = '\0';
	}
	return n;
}

static void
check_qualify(const char *value, size_t vlen)
{
	/* Each bare name takes at least one octet and gains
	 * "@q.example" (10): at most 11 octets per input octet. (The
	 * bound was 66 per octet: 800 KB of fresh pages per call at
	 * 4 KB, the harness's main cost.) */
	size_t cap = 11 * vlen + 64;
	char *v = exact_dup(1, value, vlen);
	char *q = malloc(cap);
	char *want = malloc(cap + 64), *got = malloc(cap + 64);
	size_t wl, gl;
	long n;

	if (q == NULL || want == NULL || got == NULL) {
		abort();
	}
	n = maildrop_qualify(v, vlen, "q.example", q, cap);
	if (n < 0 || (size_t)n < vlen) {
		abort();
	}
	wl = split(v, vlen, want, cap + 64, 1);
	gl = split(q, (size_t)n, got, cap + 64, 0);
	/* An address qualified past ADDR_MAX is no address any more:
	 * compare only when none is that long. */
	for (size_t k = 0; k < wl; k += strlen(want + k) + 1) {
		if (strlen(want + k) > ADDR_MAX) {
			wl = gl = 0;
			break;
		}
	}
	if (wl != gl || memcmp(want, got, wl) != 0) {
		abort();
	}
	free(q);
	free(want);
	free(got);
	exact_done(v);
}
