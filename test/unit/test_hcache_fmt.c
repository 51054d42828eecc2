/* SPDX-License-Identifier: ISC */
/*
 * test_hcache_fmt.c - the header cache file's codec
 * (store/hcache_fmt.h): the file header (hcache_hdr_parse,
 * hcache_hdr_fmt), records (hcache_rec_fmt, hcache_rec_parse,
 * hcache_rec_len, hcache_rec_size), and a file walked record by
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
	{ "a header", "WHC1\x01\x02\x03\x04", 8, 0, 0x04030201,
	  HCACHE_OK },
	{ "a header and records after it", "WHC1\x10\0\0\0xxxx", 12, 0,
	  16, HCACHE_OK },
	{ "UIDVALIDITY 0 is read as it is", "WHC1\0\0\0\0", 8, 0, 0,
	  HCACHE_OK },
	{ "empty file", "", 0, -1, 0, HCACHE_E_SHORT },
	{ "header cut after the magic", "WHC1", 4, -1, 0, HCACHE_E_SHORT },
	{ "header cut by one octet", "WHC1\0\0\0", 7, -1, 0,
	  HCACHE_E_SHORT },
	{ "another version", "WHC2\0\0\0\0", 8, -1, 0, HCACHE_E_MAGIC },
	{ "lower case magic", "whc1\0\0\0\0", 8, -1, 0, HCACHE_E_MAGIC },
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
	D_UID0,		/* UID field zeroed */
	D_TRAIL,	/* arg octets of garbage after it */
	D_GARBAGE	/* not a record: arg octets of 0x5a */
};

struct rec_case {
	const char	*desc;
	uint32_t	 uid, hash, vsize;
	const char	*env, *bs;
	size_t		 bs_fill;	/* bs is this many 'x' instead */
	enum damage	 damage;
	size_t		 arg;
	int		 ok;		/* parses to the record */
	enum hcache_err	 err;
};

static const struct rec_case rec_cases[] = {
	{ "both texts", 7, 0x1234, 4321, ENV1, BS1, 0, D_NONE, 0, 1,
	  HCACHE_OK },
	{ "ENVELOPE only", 1, 0, 1, ENV1, NULL, 0, D_NONE, 0, 1,
	  HCACHE_OK },
	{ "BODYSTRUCTURE only", 2, 9, 9, NULL, BS1, 0, D_NONE, 0, 1,
	  HCACHE_OK },
	{ "largest UID, hash and size", 0xffffffffu, 0xffffffffu,
	  0xffffffffu, ENV1, BS1, 0, D_NONE, 0, 1, HCACHE_OK },
	{ "a text of odd length (sum's tail)", 3, 1, 1, "(x)", NULL, 0,
	  D_NONE, 0, 1, HCACHE_OK },
	{ "texts of the longest length", 4, 1, 1, NULL, NULL,
	  HCACHE_TEXT_MAX, D_NONE, 0, 1, HCACHE_OK },
	{ "garbage after the record is not read", 5, 1, 1, ENV1, BS1, 0,
	  D_TRAIL, 13, 1, HCACHE_OK },
	{ "cut by one octet", 7, 1, 1, ENV1, BS1, 0, D_CUT, 1, 0,
	  HCACHE_E_SHORT },
	{ "cut inside its header", 7, 1, 1, ENV1, BS1, 0, D_CUT,
	  sizeof ENV1 - 1 + sizeof BS1 - 1 + 5, 0, HCACHE_E_SHORT },
	{ "only its text, no header", 7, 1, 1, ENV1, BS1, 0, D_CUT,
	  sizeof ENV1 - 1 + sizeof BS1 - 1 + HCACHE_REC_HDR, 0,
	  HCACHE_E_SHORT },
	{ "env_len lies: longer than what is there", 7, 1, 1, ENV1, BS1,
	  0, D_ENVLEN, sizeof ENV1 + 40, 0, HCACHE_E_SHORT },
	{ "env_len lies: shorter (sum breaks)", 7, 1, 1, ENV1, BS1, 0,
	  D_ENVLEN, 10, 0, HCACHE_E_SUM },
	{ "env_len over the bound", 7, 1, 1, ENV1, BS1, 0, D_ENVLEN,
	  HCACHE_TEXT_MAX + 1, 0, HCACHE_E_LEN },
	{ "bs_len 0xffff", 7, 1, 1, ENV1, BS1, 0, D_BSLEN, 0xffff, 0,
	  HCACHE_E_LEN },
	{ "both lengths 0", 7, 1, 1, ENV1, NULL, 0, D_ENVLEN, 0, 0,
	  HCACHE_E_EMPTY },
	{ "UID 0", 7, 1, 1, ENV1, BS1, 0, D_UID0, 0, 0, HCACHE_E_EMPTY },
	{ "a flipped octet in the UID", 7, 1, 1, ENV1, BS1, 0, D_FLIP, 0,
	  0, HCACHE_E_SUM },
	{ "a flipped octet in the hash", 7, 1, 1, ENV1, BS1, 0, D_FLIP, 5,
	  0, HCACHE_E_SUM },
	{ "a flipped octet in the size", 7, 1, 1, ENV1, BS1, 0, D_FLIP,
	  10, 0, HCACHE_E_SUM },
	{ "a flipped octet in the sum", 7, 1, 1, ENV1, BS1, 0, D_FLIP, 17,
	  0, HCACHE_E_SUM },
	{ "a flipped octet in ENVELOPE", 7, 1, 1, ENV1, BS1, 0, D_FLIP, 30,
	  0, HCACHE_E_SUM },
	{ "the last octet flipped", 7, 1, 1, ENV1, BS1, 0, D_FLIP,
	  HCACHE_REC_HDR + sizeof ENV1 - 1 + sizeof BS1 - 2, 0,
	  HCACHE_E_SUM },
	{ "garbage (0x5a...)", 0, 0, 0, NULL, NULL, 0, D_GARBAGE, 64, 0,
	  HCACHE_E_LEN },
	{ "nothing", 0, 0, 0, NULL, NULL, 0, D_GARBAGE, 0, 0,
	  HCACHE_E_SHORT },
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
			fail_msg("%s: parse gave %zu (%s), want %s", c->desc, n,
			    hcache_strerror(e), c->ok ? "the record" :
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
	    sizeof BS1 - 1 };
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
	r.env = ENV1;
	r.env_len = sizeof ENV1 - 1;
	r.uid = 0;
	assert_int_equal(hcache_rec_size(&r), 0);
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
			    sizeof ENV1 - 1, NULL, 0 };

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
		cmocka_unit_test(test_file_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
