/* SPDX-License-Identifier: ISC */
/*
 * fuzz_hcache.c - libFuzzer harness for the header cache file's codec
 * (store/hcache_fmt.h). The input, read by pointer and length only, is
 * walked as a whole file (header, then records as the server opens
 * it), parsed as one record, and used as the texts of a record that is
 * formatted and parsed back; it is also parsed as a sort keys item
 * (the item of a record, or the input whole). What is accepted must
 * lie inside the input, keep the bounds, and format again to the same
 * octets; a cap one octet short must leave the output alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/hcache_fmt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned char	out[HCACHE_REC_MAX + 1];
static unsigned char	skout[HCACHE_TEXT_MAX + 1];

static int
inside(const void *p, size_t n, const void *s, size_t len)
{
	const unsigned char *a = p, *b = s;

	return a >= b && n <= len && (size_t)(a - b) <= len - n;
}

/* Sort keys accepted: inside p[0 .. len), the lengths adding up, and
 * formatted again they are themselves. */
static void
check_sk(const uint8_t *p, size_t len)
{
	struct hcache_sk k;
	size_t sum = HCACHE_SK_FIXED;

	if (hcache_sk_parse(p, len, &k) == -1) {
		return;
	}
	for (unsigned i = 0; i < HCACHE_SK_TEXTS; i++) {
		if (k.len[i] > 0xffff || !inside(k.text[i], k.len[i], p,
		    len)) {
			abort();
		}
		sum += k.len[i];
	}
	if (sum != len) {
		abort();
	}
	if (len <= HCACHE_TEXT_MAX && (hcache_sk_fmt(skout, sizeof skout,
	    &k) != len || memcmp(skout, p, len) != 0)) {
		abort();
	}
	skout[0] = '#';
	if (hcache_sk_fmt(skout, len - 1, &k) != 0 || skout[0] != '#') {
		abort();
	}
}

/* An accepted record: in bounds, and formatted again it is itself. */
static void
check_rec(const uint8_t *p, size_t len, size_t n, const struct hcache_rec *r)
{
	uint32_t uid;
	enum hcache_err e;

	if (n < HCACHE_REC_HDR || n > len || n > HCACHE_REC_MAX ||
	    r->uid == 0 || r->env_len > HCACHE_TEXT_MAX ||
	    r->bs_len > HCACHE_TEXT_MAX || r->sk_len > HCACHE_TEXT_MAX ||
	    r->env_len + r->bs_len + r->sk_len == 0 ||
	    (r->sk == NULL) != (r->sk_len == 0) ||
	    (r->sk != NULL && !inside(r->sk, r->sk_len, p, n)) ||
	    hcache_rec_items(p) != ((r->env || r->bs ? HCACHE_HAS_TEXT : 0) |
	    (r->sk ? HCACHE_HAS_SK : 0)) ||
	    (r->env == NULL) != (r->env_len == 0) ||
	    (r->bs == NULL) != (r->bs_len == 0) ||
	    (r->env != NULL && !inside(r->env, r->env_len, p, n)) ||
	    (r->bs != NULL && !inside(r->bs, r->bs_len, p, n)) ||
	    hcache_rec_size(r) != n ||
	    hcache_rec_len(p, len, &uid, &e) != n || uid != r->uid) {
		abort();
	}
	out[0] = '#';
	if (hcache_rec_fmt(out, n - 1, r) != 0 || out[0] != '#') {
		abort();
	}
	if (hcache_rec_fmt(out, sizeof out, r) != n ||
	    memcmp(out, p, n) != 0) {
		abort();
	}
	if (r->sk != NULL) {
		check_sk((const uint8_t *)r->sk, r->sk_len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct hcache_rec r, back;
	enum hcache_err e;
	uint32_t uv, uid;
	size_t n, pos;

	/* A whole file. */
	if (hcache_hdr_parse(data, len, &uv, &e) == 0) {
		for (pos = HCACHE_HDR_LEN; (n = hcache_rec_len(data + pos,
		    len - pos, &uid, &e)) > 0 && n <= len - pos; pos += n) {
			if (hcache_rec_parse(data + pos, len - pos, &r, &e) ==
			    n) {
				check_rec(data + pos, len - pos, n, &r);
			} else if (e != HCACHE_E_SUM) {
				abort();	/* the walk and parse agree */
			}
		}
	}
	/* One record. */
	if ((n = hcache_rec_parse(data, len, &r, &e)) > 0) {
		check_rec(data, len, n, &r);
	} else if (e == HCACHE_OK) {
		abort();
	}
	/* Sort keys, the input whole. */
	check_sk(data, len);
	/* The input as texts: the first octet says where ENVELOPE ends. */
	if (len > 1) {
		size_t cut = data[0] % len;

		memset(&r, 0, sizeof r);
		r.uid = len;
		r.hash = data[0];
		r.vsize = (uint32_t)len * 3;
		r.env = cut > 1 ? (const char *)data + 1 : NULL;
		r.env_len = cut > 1 ? cut - 1 : 0;
		r.bs = cut < len ? (const char *)data + cut : NULL;
		r.bs_len = len - cut;
		n = hcache_rec_fmt(out, sizeof out, &r);
		if (n != hcache_rec_size(&r)) {
			abort();
		}
		if (n > 0) {
			if (hcache_rec_parse(out, n, &back, &e) != n ||
			    back.uid != r.uid || back.env_len != r.env_len ||
			    back.bs_len != r.bs_len ||
			    (r.env_len && memcmp(back.env, r.env,
			    r.env_len) != 0) ||
			    (r.bs_len && memcmp(back.bs, r.bs,
			    r.bs_len) != 0)) {
				abort();
			}
		}
	}
	return 0;
}
