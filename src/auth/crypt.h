/* SPDX-License-Identifier: ISC */
/*
 * crypt.h - password hashes of the users table: SHA-crypt ($5$, $6$,
 * Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512", as glibc,
 * Dovecot and `openssl passwd -5/-6` make them) on BearSSL's hashes,
 * and the comparisons, in constant time.
 */
#ifndef WREN_CRYPT_H
#define WREN_CRYPT_H

#include <stddef.h>
#include <stdint.h>

#define CRYPT_SALT_MAX		16
#define CRYPT_ROUNDS_DEFAULT	5000
#define CRYPT_ROUNDS_MIN	1000
#define CRYPT_ROUNDS_MAX	999999999u	/* the spec's; the server
						 * caps at MAP_ROUNDS_MAX */
/* "$6$rounds=999999999$" + 16 salt + "$" + 86 + NUL */
#define CRYPT_OUT_MAX		128

/* Hashes key with setting ("$5$salt", "$6$rounds=N$salt", or a full
 * hash whose settings are reused) into out: 0, or -1 for a setting
 * that is not SHA-crypt. Any rounds the spec allows are run: callers
 * in the server check map_crypt_rounds against MAP_ROUNDS_MAX first. */
int	sha_crypt(const char *key, size_t klen, const char *setting,
	    char *out, size_t cap);

/* 1 when the two strings are equal, comparing every byte of the longer
 * one whatever the result (no early exit on a mismatch). */
int	crypt_equal(const char *a, size_t alen, const char *b, size_t blen);

/* A new "$6$<16 random characters>" setting from getrandom(2);
 * -1 when the kernel gives no randomness. */
int	crypt_new_setting(char *out, size_t cap);

/* The rounds sha_crypt has run in this process, per scheme: lets a
 * test compare the work of two checks without a clock. */
void	crypt_work(uint64_t *r256, uint64_t *r512);

#endif
