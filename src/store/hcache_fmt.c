/* SPDX-License-Identifier: ISC */
/*
 * hcache_fmt.c - the header cache file's codec (store/hcache_fmt.h):
 * header and records parsed and written by pointer and length. The
 * file is hostile input like every file on disk: each length is
 * checked against what the caller holds before it is used, and a
 * record counts only when its checksum agrees.
 */
#include <string.h>

#include "store/hcache_fmt.h"

/* Version 2: records carry sort keys (version 1 files are started
 * again: their magic is not ours). */
static const char magic[4] = { 'W', 'H', 'C', '2' };

static uint32_t	get32(const unsigned char *);
static void	put32(unsigned char *, uint32_t);
static uint64_t	get64(const unsigned char *);
static void	put64(unsigned char *, uint64_t);
static uint32_t	rec_sum(const unsigned char *, size_t len);

int
hcache_hdr_parse(const void *p, size_t len, uint32_t *uidvalidity,
    enum hcache_err *e)
{
	if (len < HCACHE_HDR_LEN) {
		*e = HCACHE_E_SHORT;
		return -1;
	}
	if (memcmp(p, magic, sizeof magic) != 0) {
		*e = HCACHE_E_MAGIC;
		return -1;
	}
	*uidvalidity = get32((const unsigned char *)p + 4);
	*e = HCACHE_OK;
	return 0;
}

void
hcache_hdr_fmt(void *out, uint32_t uidvalidity)
{
	memcpy(out, magic, sizeof magic);
	put32((unsigned char *)out + 4, uidvalidity);
}

size_t
hcache_rec_len(const void *p, size_t len, uint32_t *uid, enum hcache_err *e)
{
	const unsigned char *b = p;
	size_t el, bl, kl;

	if (len < HCACHE_REC_HDR) {
		*e = HCACHE_E_SHORT;
		return 0;
	}
	el = (size_t)b[12] | (size_t)b[13] << 8;
	bl = (size_t)b[14] | (size_t)b[15] << 8;
	kl = get32(b + 20);
	if (el > HCACHE_TEXT_MAX || bl > HCACHE_TEXT_MAX ||
	    kl > HCACHE_TEXT_MAX) {
		*e = HCACHE_E_LEN;
		return 0;
	}
	if (el + bl + kl == 0 || (*uid = get32(b)) == 0) {
		*e = HCACHE_E_EMPTY;
		return 0;
	}
	*e = HCACHE_OK;
	return HCACHE_REC_HDR + el + bl + kl;
}

unsigned
hcache_rec_items(const void *p)
{
	const unsigned char *b = p;

	return (b[12] | b[13] | b[14] | b[15] ? HCACHE_HAS_TEXT : 0) |
	    (get32(b + 20) != 0 ? HCACHE_HAS_SK : 0);
}

size_t
hcache_rec_parse(const void *p, size_t len, struct hcache_rec *r,
    enum hcache_err *e)
{
	const unsigned char *b = p;
	size_t n, el, bl, kl;
	uint32_t uid;

	if ((n = hcache_rec_len(p, len, &uid, e)) == 0) {
		return 0;
	}
	el = (size_t)b[12] | (size_t)b[13] << 8;
	kl = get32(b + 20);
	bl = n - HCACHE_REC_HDR - el - kl;
	if (len < n) {
		*e = HCACHE_E_SHORT;
		return 0;
	}
	if (rec_sum(b, n) != get32(b + 16)) {
		*e = HCACHE_E_SUM;
		return 0;
	}
	r->uid = get32(b);
	r->hash = get32(b + 4);
	r->vsize = get32(b + 8);
	r->env = el > 0 ? (const char *)b + HCACHE_REC_HDR : NULL;
	r->env_len = el;
	r->bs = bl > 0 ? (const char *)b + HCACHE_REC_HDR + el : NULL;
	r->bs_len = bl;
	r->sk = kl > 0 ? (const char *)b + HCACHE_REC_HDR + el + bl : NULL;
	r->sk_len = kl;
	*e = HCACHE_OK;
	return n;
}

size_t
hcache_rec_size(const struct hcache_rec *r)
{
	size_t el = r->env != NULL ? r->env_len : 0;
	size_t bl = r->bs != NULL ? r->bs_len : 0;
	size_t kl = r->sk != NULL ? r->sk_len : 0;

	if (el > HCACHE_TEXT_MAX || bl > HCACHE_TEXT_MAX ||
	    kl > HCACHE_TEXT_MAX || el + bl + kl == 0 || r->uid == 0) {
		return 0;
	}
	return HCACHE_REC_HDR + el + bl + kl;
}

size_t
hcache_rec_fmt(void *out, size_t cap, const struct hcache_rec *r)
{
	unsigned char *b = out;
	size_t n = hcache_rec_size(r);
	size_t el = r->env != NULL ? r->env_len : 0;
	size_t bl = r->bs != NULL ? r->bs_len : 0;
	size_t kl = r->sk != NULL ? r->sk_len : 0;

	if (n == 0 || n > cap) {
		return 0;
	}
	put32(b, r->uid);
	put32(b + 4, r->hash);
	put32(b + 8, r->vsize);
	b[12] = (unsigned char)el;
	b[13] = (unsigned char)(el >> 8);
	b[14] = (unsigned char)bl;
	b[15] = (unsigned char)(bl >> 8);
	put32(b + 20, (uint32_t)kl);
	if (el > 0) {
		memcpy(b + HCACHE_REC_HDR, r->env, el);
	}
	if (bl > 0) {
		memcpy(b + HCACHE_REC_HDR + el, r->bs, bl);
	}
	if (kl > 0) {
		memcpy(b + HCACHE_REC_HDR + el + bl, r->sk, kl);
	}
	put32(b + 16, rec_sum(b, n));
	return n;
}

size_t
hcache_sk_fmt(void *out, size_t cap, const struct hcache_sk *k)
{
	unsigned char *b = out;
	size_t n = HCACHE_SK_FIXED;

	for (unsigned i = 0; i < HCACHE_SK_TEXTS; i++) {
		if (k->len[i] > 0xffff) {
			return 0;
		}
		n += k->len[i];
	}
	if (n > cap || n > HCACHE_TEXT_MAX) {
		return 0;
	}
	put64(b, (uint64_t)k->date);
	put64(b + 8, (uint64_t)k->mtime);
	put64(b + 16, k->subj);
	put64(b + 24, k->id);
	put64(b + 32, k->irt);
	n = HCACHE_SK_FIXED;
	for (unsigned i = 0; i < HCACHE_SK_TEXTS; i++) {
		b[40 + 2 * i] = (unsigned char)k->len[i];
		b[41 + 2 * i] = (unsigned char)(k->len[i] >> 8);
		if (k->len[i] > 0) {
			memcpy(b + n, k->text[i], k->len[i]);
		}
		n += k->len[i];
	}
	return n;
}

int
hcache_sk_parse(const void *p, size_t len, struct hcache_sk *k)
{
	const unsigned char *b = p;
	size_t n = HCACHE_SK_FIXED;

	if (len < HCACHE_SK_FIXED) {
		return -1;
	}
	k->date = (int64_t)get64(b);
	k->mtime = (int64_t)get64(b + 8);
	k->subj = get64(b + 16);
	k->id = get64(b + 24);
	k->irt = get64(b + 32);
	for (unsigned i = 0; i < HCACHE_SK_TEXTS; i++) {
		k->len[i] = (size_t)b[40 + 2 * i] | (size_t)b[41 + 2 * i] <<
		    8;
		if (k->len[i] > len - n) {
			return -1;	/* lengths past the item */
		}
		k->text[i] = (const char *)b + n;
		n += k->len[i];
	}
	return n == len ? 0 : -1;
}

const char *
hcache_strerror(enum hcache_err e)
{
	switch (e) {
	case HCACHE_OK:
		return "ok";
	case HCACHE_E_SHORT:
		return "truncated";
	case HCACHE_E_MAGIC:
		return "not a wren header cache";
	case HCACHE_E_LEN:
		return "length out of bounds";
	case HCACHE_E_EMPTY:
		return "empty record";
	case HCACHE_E_SUM:
		return "checksum mismatch";
	}
	return "unknown error";
}

static uint32_t
get32(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
}

static void
put32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
	b[2] = (unsigned char)(v >> 16);
	b[3] = (unsigned char)(v >> 24);
}

static uint64_t
get64(const unsigned char *b)
{
	return (uint64_t)get32(b) | (uint64_t)get32(b + 4) << 32;
}

static void
put64(unsigned char *b, uint64_t v)
{
	put32(b, (uint32_t)v);
	put32(b + 4, (uint32_t)(v >> 32));
}

/*
 * The record's checksum: its octets but the sum field, as Fletcher's
 * two running sums over 32-bit words (two additions a word: every
 * record served is checked, and murmur3's mixing showed at 18 % of
 * a warm FETCH in perf). It catches torn writes and stray garbage,
 * not an attacker: whoever can write the file can write the mail.
 */
static uint32_t
rec_sum(const unsigned char *b, size_t len)
{
	uint64_t s1 = len, s2 = 0;
	uint32_t w;
	size_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		if (i == 16) {
			continue;	/* the sum itself */
		}
		memcpy(&w, b + i, 4);	/* the host's order: cheap; the
					 * file does not move between hosts
					 * that often, and a mismatch only
					 * costs a miss */
		s1 += w;
		s2 += s1;
	}
	for (w = 0; i < len; i++) {
		w = w << 8 | b[i];
	}
	s1 += w;
	s2 += s1;
	return (uint32_t)(s1 ^ s1 >> 32) * 0x9e3779b1u ^
	    (uint32_t)(s2 ^ s2 >> 32);
}
