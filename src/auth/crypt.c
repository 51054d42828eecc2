/* SPDX-License-Identifier: ISC */
/*
 * crypt.c - SHA-crypt (https://www.akkadia.org/drepper/SHA-crypt.txt),
 * the $5$ and $6$ schemes, on BearSSL's SHA-256 and SHA-512.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <bearssl.h>

#include "auth/crypt.h"
#include "core/fmt.h"

#define HASH_MAX	64	/* SHA-512 */

static const char b64[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* The byte order of the final encoding (the spec's step 22). */
static const uint8_t order512[] = {
	0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4, 47, 5, 26,
	6, 27, 48, 28, 49, 7, 50, 8, 29, 9, 30, 51, 31, 52, 10, 53, 11, 32,
	12, 33, 54, 34, 55, 13, 56, 14, 35, 15, 36, 57, 37, 58, 16, 59, 17,
	38, 18, 39, 60, 40, 61, 19, 62, 20, 41
};
static const uint8_t order256[] = {
	0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14, 15, 25, 5,
	6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19, 29
};

union hctx {
	br_sha256_context	s256;
	br_sha512_context	s512;
};

struct hash {
	const br_hash_class	*cls;
	size_t			 len;
	union hctx		 ctx;
};

static uint64_t	work256, work512;	/* crypt_work */

static void	h_init(struct hash *);
static void	h_add(struct hash *, const void *, size_t);
static void	h_out(struct hash *, unsigned char *);
static size_t	b64_put(char *, uint32_t, int);

int
sha_crypt(const char *key, size_t klen, const char *setting, char *out,
    size_t cap)
{
	unsigned char a[HASH_MAX], b[HASH_MAX], dp[HASH_MAX], ds[HASH_MAX];
	unsigned char p[256], s[CRYPT_SALT_MAX];
	const char *salt, *end;
	struct hash h;
	uint32_t rounds = CRYPT_ROUNDS_DEFAULT;
	int custom = 0, is512;
	size_t slen, hl, n;
	char *o;

	if (setting[0] != '$' || (setting[1] != '5' && setting[1] != '6') ||
	    setting[2] != '$' || klen > sizeof p || cap < CRYPT_OUT_MAX) {
		return -1;
	}
	is512 = setting[1] == '6';
	h.cls = is512 ? &br_sha512_vtable : &br_sha256_vtable;
	hl = is512 ? 64 : 32;
	salt = setting + 3;
	if (strncmp(salt, "rounds=", 7) == 0) {
		uint64_t r = 0;
		const char *q = salt + 7;

		while (*q >= '0' && *q <= '9' && r <= CRYPT_ROUNDS_MAX) {
			r = r * 10 + (uint64_t)(*q++ - '0');
		}
		if (*q != '$' || q == salt + 7) {
			return -1;
		}
		rounds = r < CRYPT_ROUNDS_MIN ? CRYPT_ROUNDS_MIN :
		    r > CRYPT_ROUNDS_MAX ? CRYPT_ROUNDS_MAX : (uint32_t)r;
		custom = 1;
		salt = q + 1;
	}
	end = salt;
	while (*end != '\0' && *end != '$' && end - salt < CRYPT_SALT_MAX) {
		end++;
	}
	slen = (size_t)(end - salt);
	memcpy(s, salt, slen);
	/* B = H(P S P) */
	h_init(&h);
	h_add(&h, key, klen);
	h_add(&h, s, slen);
	h_add(&h, key, klen);
	h_out(&h, b);
	/* A = H(P S B-repeated-to-|P| P-or-B-per-bit-of-|P|) */
	h_init(&h);
	h_add(&h, key, klen);
	h_add(&h, s, slen);
	for (n = klen; n > hl; n -= hl) {
		h_add(&h, b, hl);
	}
	h_add(&h, b, n);
	for (n = klen; n > 0; n >>= 1) {
		if (n & 1) {
			h_add(&h, b, hl);
		} else {
			h_add(&h, key, klen);
		}
	}
	h_out(&h, a);
	/* P' = H(P repeated |P| times), stretched to |P| */
	h_init(&h);
	for (n = 0; n < klen; n++) {
		h_add(&h, key, klen);
	}
	h_out(&h, dp);
	for (n = 0; n < klen; n++) {
		p[n] = dp[n % hl];
	}
	/* S' = H(S repeated 16 + A[0] times), stretched to |S| */
	h_init(&h);
	for (n = 0; n < 16u + a[0]; n++) {
		h_add(&h, s, slen);
	}
	h_out(&h, ds);
	/* The rounds. */
	if (is512) {
		work512 += rounds;
	} else {
		work256 += rounds;
	}
	for (uint32_t r = 0; r < rounds; r++) {
		h_init(&h);
		if (r & 1) {
			h_add(&h, p, klen);
		} else {
			h_add(&h, a, hl);
		}
		if (r % 3 != 0) {
			h_add(&h, ds, slen);
		}
		if (r % 7 != 0) {
			h_add(&h, p, klen);
		}
		if (r & 1) {
			h_add(&h, a, hl);
		} else {
			h_add(&h, p, klen);
		}
		h_out(&h, a);
	}
	o = out + fmt(out, cap, "$%c$", is512 ? '6' : '5');
	if (custom) {
		o += fmt(o, cap - (size_t)(o - out), "rounds=%u$", rounds);
	}
	memcpy(o, s, slen);
	o += slen;
	*o++ = '$';
	if (is512) {
		for (n = 0; n + 3 <= sizeof order512; n += 3) {
			o += b64_put(o, (uint32_t)a[order512[n]] << 16 |
			    (uint32_t)a[order512[n + 1]] << 8 |
			    a[order512[n + 2]], 4);
		}
		o += b64_put(o, a[63], 2);
	} else {
		for (n = 0; n + 3 <= sizeof order256; n += 3) {
			o += b64_put(o, (uint32_t)a[order256[n]] << 16 |
			    (uint32_t)a[order256[n + 1]] << 8 |
			    a[order256[n + 2]], 4);
		}
		o += b64_put(o, (uint32_t)a[31] << 8 | a[30], 3);
	}
	*o = '\0';
	/* Nothing of the password stays on the stack. */
	explicit_bzero(p, sizeof p);
	explicit_bzero(dp, sizeof dp);
	explicit_bzero(b, sizeof b);
	explicit_bzero(&h, sizeof h);
	return 0;
}

void
crypt_work(uint64_t *r256, uint64_t *r512)
{
	*r256 = work256;
	*r512 = work512;
}

int
crypt_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen > blen ? alen : blen;
	unsigned diff = (unsigned)(alen ^ blen);

	for (size_t i = 0; i < n; i++) {
		unsigned char x = i < alen ? (unsigned char)a[i] : 0;
		unsigned char y = i < blen ? (unsigned char)b[i] : 0;

		diff |= (unsigned)(x ^ y);
	}
	return diff == 0;
}

int
crypt_new_setting(char *out, size_t cap)
{
	unsigned char r[CRYPT_SALT_MAX];
	size_t got = 0;

	while (got < sizeof r) {
		ssize_t n = getrandom(r + got, sizeof r - got, 0);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		got += (size_t)n;
	}
	if (cap < 4 + sizeof r) {
		return -1;
	}
	memcpy(out, "$6$", 3);
	for (size_t i = 0; i < sizeof r; i++) {
		out[3 + i] = b64[r[i] & 0x3f];
	}
	out[3 + sizeof r] = '\0';
	return 0;
}

static void
h_init(struct hash *h)
{
	h->cls->init(&h->ctx.s256.vtable);
}

static void
h_add(struct hash *h, const void *p, size_t n)
{
	h->cls->update(&h->ctx.s256.vtable, p, n);
}

static void
h_out(struct hash *h, unsigned char *out)
{
	h->cls->out(&h->ctx.s256.vtable, out);
}

static size_t
b64_put(char *o, uint32_t w, int n)
{
	for (int i = 0; i < n; i++) {
		o[i] = b64[w & 0x3f];
		w >>= 6;
	}
	return (size_t)n;
}
