/* SPDX-License-Identifier: ISC */
/*
 * test_hcache_fmt.c - the header cache file's codec
 * (store/hcache_fmt.h): the file header (hcache_hdr_parse,
 * hcache_hdr_fmt), records (hcache_rec_fmt, hcache_rec_parse,
 * hcache_rec_len, hcache_rec_size, hcache_rec_items), the sort keys
 * item (hcache_sk_fmt, hcache_sk_parse), and a file walked record by
 * record as the server opens it.
 *
 * Each table row is one input with a one-line description and what it
 * must give; more than half are damaged or hostile: truncated records,
 * lying lengths, flipped octets, wrong magic, garbage. A record is
 * made by the formatter, then damaged as the row says, and copied to a
 * heap block of exactly its length so that ASan catches a read past
 * the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/hcache_fmt.h"
#include "testutil.h"

#define ENV1	"(\"Mon, 7 Dec 2026 10:00:00 +0000\" \"hello\" " \
		"((NIL NIL \"a\" \"example.test\")) NIL NIL NIL NIL NIL " \
		"NIL \"<1@example.test>\")"
/* Stands for a sort keys item: the record does not look inside. */
#define SK1	"sort keys of a message, as imap_sort.c makes them"
#define BS1	"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL " \
		"\"7bit\" 12 1 NIL NIL NIL NIL)"

/* ---------------------------------------------------------------- */
/* header */

struct hdr_case {
	const char	*desc;
	const char	*in;
	size_t		 len;
	int		 rc;
	uint32_t	 uidvalidity;
	enum hcache_err	 err;
};

static const struct hdr_case hdr_cases[] = {
	{ "a header", "WHC2\x01\x02\x03\x04", 8, 0, 0x04030201,
	  HCACHE_OK },
	{ "a header and records after it", "WHC2\x10\0\0\0xxxx", 12, 0,
	  16, HCACHE_OK },
	{ "UIDVALIDITY 0 is read as it is", "WHC2\0\0\0\0", 8, 0, 0,
	  HCACHE_OK },
	{ "empty file", "", 0, -1, 0, HCACHE_E_SHORT },
	{ "header cut after the magic", "WHC2", 4, -1, 0, HCACHE_E_SHORT },
	{ "header cut by one octet", "WHC2\0\0\0", 7, -1, 0,
	  HCACHE_E_SHORT },
	{ "version 1 (no sort keys): started again", "WHC1\0\0\0\0", 8,
	  -1, 0, HCACHE_E_MAGIC },
	{ "a later version", "WHC3\0\0\0\0", 8, -1, 0, HCACHE_E_MAGIC },
	{ "lower case magic", "whc2\0\0\0\0", 8, -1, 0, HCACHE_E_MAGIC },
	{ "a dovecot-uidlist", "3 V1 N2 G", 9, -1, 0, HCACHE_E_MAGIC },
	{ "NUL octets", "\0\0\0\0\0\0\0\0", 8, -1, 0, HCACHE_E_MAGIC },
};

static void
test_header(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof hdr_cases / sizeof hdr_cases[0];
	    i++) {
		const struct hdr_case *c = &hdr_cases[i];
		char *in = dup_exact(c->in, c->len);
		enum hcache_err e = HCACHE_OK;
		uint32_t uv = 0xdeadbeef;
		int rc = hcache_hdr_parse(in, c->len, &uv, &e);

		if (rc != c->rc || e != c->err || (rc == 0 &&
		    uv != c->uidvalidity)) {
			fail_msg("%s: rc %d err %s uidvalidity %u", c->desc,
			    rc, hcache_strerror(e), (unsigned)uv);
		}
		if (rc == 0) {
			unsigned char out[HCACHE_HDR_LEN];

			hcache_hdr_fmt(out, uv);
			expect_bytes(c->desc, "format", (char *)out,
			    sizeof out, c->in, HCACHE_HDR_LEN);
		}
		free(in);
	}
}

/* ---------------------------------------------------------------- */
/* records */

enum damage {
	D_NONE,
	D_CUT,		/* arg octets short */
	D_FLIP,		/* octet arg xor 0x20 */
	D_ENVLEN,	/* env_len field set to arg */
	D_BSLEN,	/* bs_len field set to arg */
	D_SKLEN,	/* sk_len field set to arg */
	D_UID0,		/* UID field zeroed */
	D_TRAIL,	/* arg octets of garbage after it */
	D_GARBAGE	/* not a record: arg octets of 0x5a */
};

struct rec_case {
	const char	*desc;
	uint32_t	 uid, hash, vsize;
	const char	*env, *bs;
	size_t		 bs_fill;	/* bs is this many 'x' instead */
	const char	*sk;		/* the sort keys item, or NULL */
	enum damage	 damage;
	size_t		 arg;
	int		 ok;		/* parses to the record */
	enum hcache_err	 err;
};

static const struct rec_case rec_cases[] = {
	{ "both texts", 7, 0x1234, 4321, ENV1, BS1, 0, NULL, D_NONE, 0, 1,
	  HCACHE_OK },
	{ "ENVELOPE only", 1, 0, 1, ENV1, NULL, 0, NULL, D_NONE, 0, 1,
	  HCACHE_OK },
	{ "BODYSTRUCTURE only", 2, 9, 9, NULL, BS1, 0, NULL, D_NONE, 0, 1,
	  HCACHE_OK },
	{ "largest UID, hash and size", 0xffffffffu, 0xffffffffu,
	  0xffffffffu, ENV1, BS1, 0, NULL, D_NONE, 0, 1, HCACHE_OK },
	{ "a text of odd length (sum's tail)", 3, 1, 1, "(x)", NULL, 0, NULL,
	  D_NONE, 0, 1, HCACHE_OK },
	{ "texts of the longest length", 4, 1, 1, NULL, NULL,
	  HCACHE_TEXT_MAX, NULL, D_NONE, 0, 1, HCACHE_OK },
	{ "garbage after the record is not read", 5, 1, 1, ENV1, BS1, 0, NULL,
	  D_TRAIL, 13, 1, HCACHE_OK },
	{ "cut by one octet", 7, 1, 1, ENV1, BS1, 0, NULL, D_CUT, 1, 0,
	  HCACHE_E_SHORT },
	{ "cut inside its header", 7, 1, 1, ENV1, BS1, 0, NULL, D_CUT,
	  sizeof ENV1 - 1 + sizeof BS1 - 1 + 5, 0, HCACHE_E_SHORT },
	{ "only its text, no header", 7, 1, 1, ENV1, BS1, 0, NULL, D_CUT,
	  sizeof ENV1 - 1 + sizeof BS1 - 1 + HCACHE_REC_HDR, 0,
	  HCACHE_E_SHORT },
	{ "env_len lies: longer than what is there", 7, 1, 1, ENV1, BS1,
	  0, NULL, D_ENVLEN, sizeof ENV1 + 40, 0, HCACHE_E_SHORT },
	{ "env_len lies: shorter (sum breaks)", 7, 1, 1, ENV1, BS1, 0, NULL,
	  D_ENVLEN, 10, 0, HCACHE_E_SUM },
	{ "env_len over the bound", 7, 1, 1, ENV1, BS1, 0, NULL, D_ENVLEN,
	  HCACHE_TEXT_MAX + 1, 0, HCACHE_E_LEN },
	{ "bs_len 0xffff", 7, 1, 1, ENV1, BS1, 0, NULL, D_BSLEN, 0xffff, 0,
	  HCACHE_E_LEN },
	{ "both lengths 0", 7, 1, 1, ENV1, NULL, 0, NULL, D_ENVLEN, 0, 0,
	  HCACHE_E_EMPTY },
	{ "UID 0", 7, 1, 1, ENV1, BS1, 0, NULL, D_UID0, 0, 0, HCACHE_E_EMPTY },
	{ "a flipped octet in the UID", 7, 1, 1, ENV1, BS1, 0, NULL, D_FLIP,
	  0, 0, HCACHE_E_SUM },
	{ "a flipped octet in the hash", 7, 1, 1, ENV1, BS1, 0, NULL, D_FLIP,
	  5, 0, HCACHE_E_SUM },
	{ "a flipped octet in the size", 7, 1, 1, ENV1, BS1, 0, NULL, D_FLIP,
	  10, 0, HCACHE_E_SUM },
	{ "a flipped octet in the sum", 7, 1, 1, ENV1, BS1, 0, NULL, D_FLIP,
	  17, 0, HCACHE_E_SUM },
	{ "a flipped octet in sk_len (sum breaks)", 7, 1, 1, ENV1, BS1, 0,
	  SK1, D_FLIP, 20, 0, HCACHE_E_SUM },
	{ "a flipped octet in ENVELOPE", 7, 1, 1, ENV1, BS1, 0, NULL, D_FLIP,
	  30, 0, HCACHE_E_SUM },
	{ "the last octet flipped", 7, 1, 1, ENV1, BS1, 0, NULL, D_FLIP,
	  HCACHE_REC_HDR + sizeof ENV1 - 1 + sizeof BS1 - 2, 0,
	  HCACHE_E_SUM },
	{ "garbage (0x5a...)", 0, 0, 0, NULL, NULL, 0, NULL, D_GARBAGE, 64, 0,
	  HCACHE_E_LEN },
	{ "nothing", 0, 0, 0, NULL, NULL, 0, NULL, D_GARBAGE, 0, 0,
	  HCACHE_E_SHORT },
	{ "sort keys only", 8, 2, 3, NULL, NULL, 0, SK1, D_NONE, 0, 1,
	  HCACHE_OK },
	{ "texts and sort keys", 9, 2, 3, ENV1, BS1, 0, SK1, D_NONE, 0, 1,
	  HCACHE_OK },
	{ "sk_len over the bound", 9, 2, 3, ENV1, NULL, 0, SK1, D_SKLEN,
	  HCACHE_TEXT_MAX + 1, 0, HCACHE_E_LEN },
	{ "sk_len 0xffffffff (wraps nothing)", 9, 2, 3, NULL, NULL, 0, SK1,
	  D_SKLEN, 0xffffffffu, 0, HCACHE_E_LEN },
	{ "sk_len lies: longer than what is there", 9, 2, 3, NULL, NULL, 0,
	  SK1, D_SKLEN, sizeof SK1 + 5, 0, HCACHE_E_SHORT },
	{ "sk_len lies: shorter (sum breaks)", 9, 2, 3, ENV1, NULL, 0, SK1,
	  D_SKLEN, 3, 0, HCACHE_E_SUM },
	{ "sk_len zeroed: texts only (sum breaks)", 9, 2, 3, ENV1, NULL, 0,
	  SK1, D_SKLEN, 0, 0, HCACHE_E_SUM },
	{ "sk_len zeroed, no texts: empty", 9, 2, 3, NULL, NULL, 0, SK1,
	  D_SKLEN, 0, 0, HCACHE_E_EMPTY },
	{ "a flipped octet in the sort keys", 9, 2, 3, ENV1, NULL, 0, SK1,
	  D_FLIP, HCACHE_REC_HDR + sizeof ENV1 + 2, 0, HCACHE_E_SUM },
};

static unsigned char	fill_text[HCACHE_TEXT_MAX];

/* The row's record, damaged as it says, in an exact heap block. */
static unsigned char *
make(const struct rec_case *c, struct hcache_rec *r, size_t *lenp)
{
	unsigned char buf[HCACHE_REC_MAX + 64];
	size_t n;

	memset(r, 0, sizeof *r);
	if (c->damage == D_GARBAGE) {
		memset(buf, 0x5a, c->arg);
		*lenp = c->arg;
		return (unsigned char *)dup_exact(buf, c->arg);
	}
	memset(fill_text, 'x', sizeof fill_text);
	r->uid = c->uid;
	r->hash = c->hash;
	r->vsize = c->vsize;
	if (c->bs_fill > 0) {
		r->env = (const char *)fill_text;
		r->env_len = c->bs_fill;
		r->bs = (const char *)fill_text;
		r->bs_len = c->bs_fill;
	} else {
		r->env = c->env;
		r->env_len = c->env ? strlen(c->env) : 0;
		r->bs = c->bs;
		r->bs_len = c->bs ? strlen(c->bs) : 0;
	}
	r->sk = c->sk;
	r->sk_len = c->sk ? strlen(c->sk) : 0;
	n = hcache_rec_fmt(buf, sizeof buf, r);
	assert_int_equal(n, hcache_rec_size(r));
	assert_true(n > 0);
	switch (c->damage) {
	case D_CUT:
		n -= c->arg;
		break;
	case D_FLIP:
		buf[c->arg] ^= 0x20;
		break;
	case D_ENVLEN:
		buf[12] = (unsigned char)c->arg;
		buf[13] = (unsigned char)(c->arg >> 8);
		if (c->arg == 0) {
			buf[14] = buf[15] = 0;
		}
		break;
	case D_BSLEN:
		buf[14] = (unsigned char)c->arg;
		buf[15] = (unsigned char)(c->arg >> 8);
		break;
	case D_SKLEN:
		buf[20] = (unsigned char)c->arg;
		buf[21] = (unsigned char)(c->arg >> 8);
		buf[22] = (unsigned char)(c->arg >> 16);
		buf[23] = (unsigned char)(c->arg >> 24);
		break;
	case D_UID0:
		memset(buf, 0, 4);
		break;
	case D_TRAIL:
		memset(buf + n, 0x5a, c->arg);
		n += c->arg;
		break;
	default:
		break;
	}
	*lenp = n;
	return (unsigned char *)dup_exact(buf, n);
}

static void
test_records(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof rec_cases / sizeof rec_cases[0];
	    i++) {
		const struct rec_case *c = &rec_cases[i];
		struct hcache_rec want, got;
		enum hcache_err e = HCACHE_OK;
		size_t len, n, full;
		uint32_t uid = 0;
		unsigned char *in = make(c, &want, &len);

		n = hcache_rec_parse(in, len, &got, &e);
		full = hcache_rec_size(&want);
		if (c->ok ? n != full || e != HCACHE_OK : n != 0 ||
		    e != c->err) {
			fail_msg("%s: parse gave %zu (%s), want %s", c->desc,
			    n, hcache_strerror(e), c->ok ? "the record" :
			    hcache_strerror(c->err));
		}
		if (c->ok) {
			assert_int_equal(got.uid, want.uid);
			assert_int_equal(got.hash, want.hash);
			assert_int_equal(got.vsize, want.vsize);
			assert_int_equal(got.env_len, want.env_len);
			assert_int_equal(got.bs_len, want.bs_len);
			assert_true((got.env == NULL) == (want.env == NULL));
			assert_true((got.bs == NULL) == (want.bs == NULL));
			if (got.env != NULL) {
				expect_bytes(c->desc, "env", got.env,
				    got.env_len, want.env, want.env_len);
				assert_true((unsigned char *)got.env >= in &&
				    (unsigned char *)got.env + got.env_len <=
				    in + len);
			}
			if (got.bs != NULL) {
				expect_bytes(c->desc, "bs", got.bs, got.bs_len,
				    want.bs, want.bs_len);
			}
			assert_int_equal(got.sk_len, want.sk_len);
			assert_true((got.sk == NULL) == (want.sk == NULL));
			if (got.sk != NULL) {
				expect_bytes(c->desc, "sk", got.sk, got.sk_len,
				    want.sk, want.sk_len);
			}
			assert_int_equal(hcache_rec_items(in),
			    (want.env || want.bs ? HCACHE_HAS_TEXT : 0) |
			    (want.sk ? HCACHE_HAS_SK : 0));
			assert_int_equal(hcache_rec_len(in, len, &uid, &e),
			    full);
			assert_int_equal(uid, want.uid);
		} else if (c->err == HCACHE_E_LEN || c->err ==
		    HCACHE_E_EMPTY) {
			/* The header alone says so too. */
			if (hcache_rec_len(in, len, &uid, &e) != 0 ||
			    e != c->err) {
				fail_msg("%s: rec_len accepted it", c->desc);
			}
		}
		free(in);
	}
}

/* ---------------------------------------------------------------- */
/* formatting bounds */

static void
test_format_bounds(void **state)
{
	unsigned char out[HCACHE_REC_MAX + 1];
	struct hcache_rec r = { 9, 1, 1, ENV1, sizeof ENV1 - 1, BS1,
	    sizeof BS1 - 1, NULL, 0 };
	size_t need = hcache_rec_size(&r);

	(void)state;
	for (size_t cap = 0; cap < need; cap++) {
		memset(out, '#', sizeof out);
		assert_int_equal(hcache_rec_fmt(out, cap, &r), 0);
		assert_int_equal(out[0], '#');	/* left alone */
	}
	assert_int_equal(hcache_rec_fmt(out, need, &r), need);
	/* A text over the bound, none at all, UID 0: no record. */
	r.env_len = HCACHE_TEXT_MAX + 1;
	r.env = (const char *)fill_text;
	assert_int_equal(hcache_rec_size(&r), 0);
	assert_int_equal(hcache_rec_fmt(out, sizeof out, &r), 0);
	r.env = NULL;
	r.bs = NULL;
	assert_int_equal(hcache_rec_size(&r), 0);
	r.sk = (const char *)fill_text;
	r.sk_len = HCACHE_TEXT_MAX + 1;
	assert_int_equal(hcache_rec_size(&r), 0);
	r.sk_len = HCACHE_TEXT_MAX;
	assert_int_equal(hcache_rec_size(&r), HCACHE_REC_HDR +
	    HCACHE_TEXT_MAX);
	r.sk = NULL;
	r.env = ENV1;
	r.env_len = sizeof ENV1 - 1;
	r.uid = 0;
	assert_int_equal(hcache_rec_size(&r), 0);
}

/* ---------------------------------------------------------------- */
/* sort keys */

enum sk_damage {
	SK_NONE,
	SK_CUT,		/* arg octets short */
	SK_TRAIL,	/* arg octets of garbage after it */
	SK_LEN,		/* text 0's length field set to arg */
	SK_LASTLEN,	/* the last text's length field set to arg */
	SK_GARBAGE	/* arg octets of 0xff */
};

struct sk_case {
	const char	*desc;
	const char	*subj, *refs;	/* other texts fixed */
	size_t		 fill;		/* subject is this many 'x' instead */
	enum sk_damage	 damage;
	size_t		 arg;
	int		 ok;
};

static const struct sk_case sk_cases[] = {
	{ "keys with every text", "LUNCH PLANS", "<a@b> <c@d>", 0, SK_NONE,
	  0, 1 },
	{ "empty texts (no Subject, no References)", "", "", 0, SK_NONE,
	  0, 1 },
	{ "the longest item that fits", NULL, "", HCACHE_TEXT_MAX -
	  HCACHE_SK_FIXED - 30, SK_NONE, 0, 1 },
	{ "cut by one octet", "LUNCH", "<a@b>", 0, SK_CUT, 1, 0 },
	{ "cut inside the fixed part", "LUNCH", "<a@b>", 0, SK_CUT, 40, 0 },
	{ "one octet more than the lengths say", "LUNCH", "<a@b>", 0,
	  SK_TRAIL, 1, 0 },
	{ "a length one over what is there", "LUNCH", "<a@b>", 0, SK_LEN,
	  6, 0 },
	{ "a length one under (a stray octet at the end)", "LUNCH", "<a@b>",
	  0, SK_LEN, 4, 0 },
	{ "the last length 0xffff", "LUNCH", "<a@b>", 0, SK_LASTLEN,
	  0xffff, 0 },
	{ "nothing", NULL, NULL, 0, SK_GARBAGE, 0, 0 },
	{ "0xff garbage of the fixed part's length", NULL, NULL, 0,
	  SK_GARBAGE, HCACHE_SK_FIXED, 0 },
	{ "0xff garbage of 200 octets", NULL, NULL, 0, SK_GARBAGE, 200, 0 },
};

static void
test_sort_keys(void **state)
{
	static unsigned char buf[HCACHE_TEXT_MAX + 64];

	(void)state;
	memset(fill_text, 'x', sizeof fill_text);
	for (size_t i = 0; i < sizeof sk_cases / sizeof sk_cases[0]; i++) {
		const struct sk_case *c = &sk_cases[i];
		struct hcache_sk want, got;
		size_t n = 0;
		unsigned char *in;
		int rc;

		memset(&want, 0, sizeof want);
		want.date = c->fill ? -1 : 1704196800;
		want.mtime = 1704888000;
		want.subj = 0x8000000000000003ull;
		want.id = 0x1234567890abcdefull;
		want.irt = 0;
		want.text[HCACHE_SK_FROM] = "BOB";
		want.len[HCACHE_SK_FROM] = 3;
		want.text[HCACHE_SK_DFROM] = "BOB SMITH";
		want.len[HCACHE_SK_DFROM] = 9;
		if (c->damage == SK_GARBAGE) {
			memset(buf, 0xff, c->arg);
			n = c->arg;
		} else {
			want.text[HCACHE_SK_SUBJECT] = c->fill ?
			    (const char *)fill_text : c->subj;
			want.len[HCACHE_SK_SUBJECT] = c->fill ? c->fill :
			    strlen(c->subj);
			want.text[HCACHE_SK_REFS] = c->refs;
			want.len[HCACHE_SK_REFS] = strlen(c->refs);
			n = hcache_sk_fmt(buf, sizeof buf, &want);
			assert_true(n > 0);
		}
		switch (c->damage) {
		case SK_CUT:
			n -= c->arg;
			break;
		case SK_TRAIL:
			memset(buf + n, 'z', c->arg);
			n += c->arg;
			break;
		case SK_LEN:
			buf[40] = (unsigned char)c->arg;
			buf[41] = (unsigned char)(c->arg >> 8);
			break;
		case SK_LASTLEN:
			buf[40 + 2 * (HCACHE_SK_TEXTS - 1)] =
			    (unsigned char)c->arg;
			buf[41 + 2 * (HCACHE_SK_TEXTS - 1)] =
			    (unsigned char)(c->arg >> 8);
			break;
		default:
			break;
		}
		in = (unsigned char *)dup_exact((char *)buf, n);
		rc = hcache_sk_parse(in, n, &got);
		if (rc != (c->ok ? 0 : -1)) {
			fail_msg("%s: parse gave %d", c->desc, rc);
		}
		if (c->ok) {
			assert_true(got.date == want.date);
			assert_true(got.mtime == want.mtime);
			assert_true(got.subj == want.subj);
			assert_true(got.id == want.id);
			assert_true(got.irt == want.irt);
			for (unsigned k = 0; k < HCACHE_SK_TEXTS; k++) {
				assert_int_equal(got.len[k], want.len[k]);
				expect_bytes(c->desc, "text", got.text[k],
				    got.len[k], want.len[k] ? want.text[k] :
				    "", want.len[k]);
				assert_true((unsigned char *)got.text[k] >=
				    in && (unsigned char *)got.text[k] +
				    got.len[k] <= in + n);
			}
		}
		free(in);
	}
}

static void
test_sort_keys_bounds(void **state)
{
	static unsigned char out[HCACHE_TEXT_MAX + 64];
	static char big[70000];
	struct hcache_sk k;
	size_t need;

	(void)state;
	memset(&k, 0, sizeof k);
	k.text[HCACHE_SK_SUBJECT] = "X";
	k.len[HCACHE_SK_SUBJECT] = 1;
	need = HCACHE_SK_FIXED + 1;
	for (size_t cap = 0; cap < need; cap++) {
		memset(out, '#', sizeof out);
		assert_int_equal(hcache_sk_fmt(out, cap, &k), 0);
		assert_int_equal(out[0], '#');
	}
	assert_int_equal(hcache_sk_fmt(out, need, &k), need);
	/* A text whose length the u16 cannot say; an item over the
	 * record's bound. */
	memset(big, 'b', sizeof big);
	k.text[HCACHE_SK_REFS] = big;
	k.len[HCACHE_SK_REFS] = 0x10000;
	assert_int_equal(hcache_sk_fmt(out, sizeof out, &k), 0);
	k.len[HCACHE_SK_REFS] = HCACHE_TEXT_MAX - HCACHE_SK_FIXED;
	assert_int_equal(hcache_sk_fmt(out, sizeof out, &k), 0);
	k.len[HCACHE_SK_REFS]--;
	assert_int_equal(hcache_sk_fmt(out, sizeof out, &k),
	    HCACHE_TEXT_MAX);
}

/* ---------------------------------------------------------------- */
/* a file walked as the server opens it */

struct file_case {
	const char	*desc;
	unsigned	 nrec;		/* records written */
	size_t		 cut;		/* octets cut off the end */
	size_t		 garbage_at;	/* record index overwritten, + 1 */
	unsigned	 walked;	/* records the walk accepts */
	unsigned	 served;	/* of those, records that check */
};

static const struct file_case file_cases[] = {
	{ "ten records", 10, 0, 0, 10, 10 },
	{ "a header only", 0, 0, 0, 0, 0 },
	{ "a torn last record", 10, 7, 0, 9, 9 },
	{ "torn in the last header", 10, sizeof ENV1 - 1 + 3, 0, 9, 9 },
	{ "garbage over the fourth record's text", 10, 0, 4, 10, 9 },
	{ "garbage over the first record's text", 3, 0, 1, 3, 2 },
};

static void
test_file_walk(void **state)
{
	static unsigned char file[HCACHE_HDR_LEN + 16 * 512];

	(void)state;
	for (size_t i = 0; i < sizeof file_cases / sizeof file_cases[0];
	    i++) {
		const struct file_case *c = &file_cases[i];
		size_t off = HCACHE_HDR_LEN, pos, len, n;
		unsigned walked = 0, served = 0;
		enum hcache_err e;
		uint32_t uv, uid;
		unsigned char *in;

		hcache_hdr_fmt(file, 77);
		for (unsigned k = 0; k < c->nrec; k++) {
			struct hcache_rec r = { k + 1, k, 100 + k, ENV1,
			    sizeof ENV1 - 1, NULL, 0, NULL, 0 };

			if (c->garbage_at == k + 1) {
				n = hcache_rec_fmt(file + off,
				    sizeof file - off, &r);
				memset(file + off + HCACHE_REC_HDR, 0x5a, 9);
			} else {
				n = hcache_rec_fmt(file + off,
				    sizeof file - off, &r);
			}
			assert_true(n > 0);
			off += n;
		}
		len = off - c->cut;
		in = (unsigned char *)dup_exact(file, len);
		assert_int_equal(hcache_hdr_parse(in, len, &uv, &e), 0);
		assert_int_equal(uv, 77);
		for (pos = HCACHE_HDR_LEN; (n = hcache_rec_len(in + pos,
		    len - pos, &uid, &e)) > 0 && n <= len - pos; pos += n) {
			struct hcache_rec r;

			walked++;
			if (hcache_rec_parse(in + pos, len - pos, &r, &e) ==
			    n && r.uid == uid) {
				served++;
			}
		}
		if (walked != c->walked || served != c->served) {
			fail_msg("%s: walked %u served %u", c->desc, walked,
			    served);
		}
		free(in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_format_bounds),
		cmocka_unit_test(test_sort_keys),
		cmocka_unit_test(test_sort_keys_bounds),
		cmocka_unit_test(test_file_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
