/* SPDX-License-Identifier: ISC */
/*
 * srs.h - the Sender Rewriting Scheme as postsrsd (libsrs2) writes it,
 * so that mail forwarded to another domain keeps passing SPF there and
 * its bounces still find the original sender.
 *
 *   forward  alice@example.org  ->
 *            SRS0=HHHH=TT=example.org=alice@SRS_DOMAIN
 *   again    SRS0=HHHH=TT=example.org=alice@hop1.net  ->
 *            SRS1=GGGG=hop1.net==HHHH=TT=example.org=alice@SRS_DOMAIN
 *   reverse  SRS0...@SRS_DOMAIN -> alice@example.org (hash and age
 *            checked); SRS1=GGGG=hop1.net==...@SRS_DOMAIN ->
 *            SRS0=...@hop1.net (hash checked; hop1 checks the age)
 *
 * TT is the day number modulo 1024 in two base32 characters
 * (A-Z2-7); an SRS0 address older than SRS_MAX_AGE_DAYS is refused.
 * HHHH is the first SRS_HASH_LEN characters of the base64 of
 * HMAC-SHA1(key, lower-case(TT domain local)) for SRS0, and of
 * (hop, "=HHHH=TT=domain=local") for SRS1; it is compared without
 * regard to case, since some MTAs lower-case addresses.
 *
 * The key is data_dir/srs.key: one line of text whose bytes are the
 * HMAC key, made at first start from 32 random bytes (base64, mode
 * 0600). postsrsd's secret file has the same form, so a domain can
 * move from postsrsd to wren by copying its first line.
 */
#ifndef WREN_SRS_H
#define WREN_SRS_H

#include <stddef.h>
#include <time.h>

#include "core/err.h"
#include "core/limits.h"

#define SRS_KEY_MAX		256	/* bytes of the key line */
#define SRS_HASH_LEN		4	/* libsrs2's default length */
#define SRS_MAX_AGE_DAYS	21	/* libsrs2's default maxage */
#define SRS_KEY_FILE		"srs.key"

struct srs_key {
	unsigned char	k[SRS_KEY_MAX];
	size_t		len;
};

/* Reads data_dir/srs.key, first making it (32 random bytes, base64,
 * mode 0600, written to a temporary file, synced and renamed) when it
 * does not exist. A key file that is empty or has a line longer than
 * SRS_KEY_MAX is an error. */
int	srs_init(const char *data_dir, struct srs_key *, struct err *);

/* A key from text, for tests and for callers that keep their own. */
int	srs_key_set(struct srs_key *, const char *text, size_t len);

/*
 * Rewrites envelope sender `sender` into srs_domain at time `now`:
 * 1 rewritten into out, 0 left as it is (the null sender, or an
 * address already in srs_domain: copied to out), -1 when it is no
 * local@domain address or the result does not fit in cap (callers
 * pass ADDR_MAX + 1).
 */
int	srs_forward(const struct srs_key *, const char *srs_domain,
	    const char *sender, char *out, size_t cap, time_t now);

/*
 * Reverses a recipient address: 1 reversed into out, 0 not an SRS
 * address of srs_domain (out untouched), -1 an SRS address of
 * srs_domain whose hash does not match, whose timestamp is too old or
 * malformed, or which does not fit in cap.
 */
int	srs_reverse(const struct srs_key *, const char *srs_domain,
	    const char *addr, char *out, size_t cap, time_t now);

#endif
