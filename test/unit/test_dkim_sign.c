/* SPDX-License-Identifier: ISC */
/*
 * test_dkim_sign.c - DKIM signing (tls/dkim_sign.h): PEM RSA keys (a
 * table of good and bad files), the rsa-sha256 signature checked with
 * BearSSL's public-key operation, the stream against a golden message
 * (test/data/dkim/msg.signed, verified by python3-dkim and
 * opendkim-testmsg when it was made: PKCS#1 v1.5 is deterministic, so
 * the same key, time and input give the same octets), fed in every
 * chunk size; the fields added, messages not signed, write failures,
 * and the key rule of dkim_setup (one file, or a %d pattern).
 *
 * WREN_TEST_DATA names test/data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bearssl.h>

#include "core/cfg.h"
#include "core/file.h"
#include "tls/dkim_sign.h"
#include "testutil.h"

#define MSG_MAX		(256 * 1024)
#define T_NOW		INT64_C(1765000000)
#define T_DATE		"Mon, 7 Dec 2026 17:00:00 +0000"
#define T_MSGID		"<abc@host>"

/* The file the stream writes, in memory. */
struct out {
	char	*p;
	size_t	 len;
	size_t	 fail_after;	/* a write past this fails; 0: never */
};

struct key_case {
	const char	*desc;
	const char	*file;		/* under dkim/, or NULL: text */
	const char	*text;
	unsigned	 bits;		/* 0: refused */
	const char	*why;		/* part of the error */
};

static const struct key_case key_cases[] = {
	{ "RSA 2048, PKCS#1 (BEGIN RSA PRIVATE KEY)", "rsa2048.pem", NULL,
	    2048, NULL },
	{ "RSA 1024, PKCS#8 (BEGIN PRIVATE KEY)", "rsa1024-pkcs8.pem", NULL,
	    1024, NULL },
	/* hostile */
	{ "RSA 512: too weak (RFC 8301)", "rsa512.pem", NULL, 0, "bits" },
	{ "an EC key", "ec.pem", NULL, 0, "not an RSA key" },
	{ "empty file", NULL, "", 0, "no PRIVATE KEY" },
	{ "not PEM at all", NULL, "hello\n", 0, "no PRIVATE KEY" },
	{ "a certificate, no key", NULL,
	    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	    0, "no PRIVATE KEY" },
	{ "a key block of garbage base64", NULL,
	    "-----BEGIN PRIVATE KEY-----\nAAAAAAAA\n"
	    "-----END PRIVATE KEY-----\n", 0, "not a private key" },
	{ "a key block never ended", NULL,
	    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow==\n", 0,
	    "no PRIVATE KEY" },
	{ "bad base64 inside", NULL,
	    "-----BEGIN RSA PRIVATE KEY-----\n!!!!\n"
	    "-----END RSA PRIVATE KEY-----\n", 0, "PEM" },
};

static char	*data_path(const char *, char *, size_t);
static char	*slurp(const char *, size_t *);
static int	out_write(void *, const char *, size_t);
static void	load_key(struct dkim_key *, const char *);
static void	same_signature(const struct dkim_key *);
static void	run_stream(const struct dkim_key *, const char *, size_t,
		    size_t, const char *, const char *, struct out *,
		    struct dkim_stream *);

static char *
data_path(const char *name, char *buf, size_t cap)
{
	const char *base = getenv("WREN_TEST_DATA");

	if (base == NULL) {
		base = "test/data";
	}
	assert_true((size_t)snprintf(buf, cap, "%s/dkim/%s", base, name) <
	    cap);
	return buf;
}

static char *
slurp(const char *name, size_t *len)
{
	char path[1024];
	struct err e;
	char *p = file_read_all(data_path(name, path, sizeof path), MSG_MAX,
	    len, &e);

	if (p == NULL) {
		fail_msg("%s", e.msg);
	}
	return p;
}

static int
out_write(void *arg, const char *p, size_t n)
{
	struct out *o = arg;

	if (o->fail_after > 0 && o->len + n > o->fail_after) {
		return -1;
	}
	assert_true(o->len + n <= MSG_MAX);
	memcpy(o->p + o->len, p, n);
	o->len += n;
	return 0;
}

static void
load_key(struct dkim_key *k, const char *name)
{
	char path[1024];
	struct err e;

	if (dkim_key_load(k, data_path(name, path, sizeof path), &e) == -1) {
		fail_msg("%s", e.msg);
	}
}

/* The message in chunks of step (0: whole), then the signature written
 * over its placeholder as smtp_deliver.c and pickup.c do. */
static void
run_stream(const struct dkim_key *k, const char *msg, size_t len,
    size_t step, const char *date, const char *msgid, struct out *o,
    struct dkim_stream *ds)
{
	char sig[DKIM_SIG_MAX];
	uint64_t off = 0;
	long n;

	o->len = 0;
	dkim_stream_init(ds, k, "example.org", "sel", date, msgid, T_NOW);
	for (size_t i = 0; i < len; i += step) {
		if (step == 0 || step > len - i) {
			step = len - i;
		}
		assert_int_equal(dkim_stream_write(ds, msg + i, step,
		    out_write, o), 0);
	}
	n = dkim_stream_finish(ds, out_write, o, sig, sizeof sig, &off);
	assert_true(n >= 0);
	if (n > 0) {
		assert_true(off + (uint64_t)n <= o->len);
		memcpy(o->p + off, sig, (size_t)n);
	}
}

static void
test_keys(void **state)
{
	(void)state;

	for (size_t i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++) {
		const struct key_case *c = &key_cases[i];
		static struct dkim_key k;
		struct err e;
		size_t len;
		char *text;
		int rc;

		if (c->file != NULL) {
			text = slurp(c->file, &len);
		} else {
			len = strlen(c->text);
			text = dup_exact(c->text, len);
		}
		memset(&e, 0, sizeof e);
		rc = dkim_key_parse(&k, text, len, "key.pem", &e);
		if (c->bits > 0) {
			if (rc != 0) {
				fail_msg("%s: %s", c->desc, e.msg);
			}
			assert_int_equal(k.rsa.n_bitlen, c->bits);
			assert_int_equal(dkim_key_siglen(&k), c->bits / 8);
		} else {
			assert_int_equal(rc, -1);
			if (strstr(e.msg, c->why) == NULL) {
				fail_msg("%s: \"%s\" lacks \"%s\"", c->desc,
				    e.msg, c->why);
			}
		}
		free(text);
	}
}

/* The signature verifies with the public key computed from the
 * private one (BearSSL's modulus and exponent helpers). */
static void
test_sign_verifies(void **state)
{
	static struct dkim_key k;
	unsigned char hash[32], sig[DKIM_SIGLEN_MAX], got[32];
	unsigned char n[DKIM_SIGLEN_MAX], ebuf[4];
	br_rsa_public_key pk;
	br_rsa_compute_modulus cm = br_rsa_compute_modulus_get_default();
	br_rsa_compute_pubexp ce = br_rsa_compute_pubexp_get_default();
	br_rsa_pkcs1_vrfy vrfy = br_rsa_pkcs1_vrfy_get_default();
	uint32_t e;
	(void)state;

	load_key(&k, "rsa2048.pem");
	memset(hash, 0x5a, sizeof hash);
	assert_int_equal(dkim_key_sign(&k, hash, sig), 0);
	pk.n = n;
	pk.nlen = cm(n, &k.rsa);
	assert_int_equal(pk.nlen, 256);
	/* compute_pubexp needs p = q = 3 mod 4, which OpenSSL's primes
	 * need not be: its exponent is 65537. */
	e = ce(&k.rsa);
	if (e == 0) {
		e = 65537;
	}
	ebuf[0] = (unsigned char)(e >> 24);
	ebuf[1] = (unsigned char)(e >> 16);
	ebuf[2] = (unsigned char)(e >> 8);
	ebuf[3] = (unsigned char)e;
	pk.e = ebuf;
	pk.elen = 4;
	assert_int_equal(vrfy(sig, 256, BR_HASH_OID_SHA256, 32, &pk, got),
	    1);
	assert_memory_equal(got, hash, 32);
	sig[100] ^= 1;
	assert_true(vrfy(sig, 256, BR_HASH_OID_SHA256, 32, &pk, got) == 0 ||
	    memcmp(got, hash, 32) != 0);
}

/* The golden message, fed whole and in every chunk size up to 80, and
 * in a few larger ones. */
static void
test_stream_golden(void **state)
{
	static struct dkim_key k;
	static struct dkim_stream ds;
	static char buf[MSG_MAX];
	struct out o = { buf, 0, 0 };
	size_t len, glen;
	char *msg = slurp("msg.eml", &len);
	char *gold = slurp("msg.signed", &glen);
	size_t steps[] = { 0, 97, 128, 333, 4096 };
	(void)state;

	load_key(&k, "rsa2048.pem");
	for (size_t step = 1; step <= 80 + sizeof steps / sizeof steps[0];
	    step++) {
		size_t s = step <= 80 ? step : steps[step - 81];

		run_stream(&k, msg, len, s, T_DATE, T_MSGID, &o, &ds);
		if (o.len != glen || memcmp(o.p, gold, glen) != 0) {
			expect_bytes("golden", "signed", o.p, o.len, gold,
			    glen);
			fail_msg("chunks of %zu differ", s);
		}
		assert_null(ds.why);
		assert_int_equal(ds.added, glen - len);
	}
	free(msg);
	free(gold);
}

static void
test_stream_cases(void **state)
{
	static struct dkim_key k;
	static struct dkim_stream ds;
	static char buf[MSG_MAX];
	struct out o = { buf, 0, 0 };
	char sig[DKIM_SIG_MAX];
	uint64_t off;
	const char *m;
	(void)state;

	load_key(&k, "rsa2048.pem");

	/* No key: only the missing fields, before the empty line. */
	m = "From: a@example.org\n\nbody\n";
	run_stream(NULL, m, strlen(m), 0, T_DATE, T_MSGID, &o, &ds);
	expect_bytes("no key", "out", o.p, o.len,
	    S("From: a@example.org\nDate: " T_DATE "\nMessage-ID: " T_MSGID
	    "\n\nbody\n"));

	/* No key, nothing missing (any case): unchanged. */
	m = "DATE: x\nmessage-id: <y>\n\nbody\n";
	run_stream(NULL, m, strlen(m), 3, T_DATE, T_MSGID, &o, &ds);
	expect_bytes("nothing missing", "out", o.p, o.len, m, strlen(m));
	assert_int_equal(ds.added, 0);

	/* Nothing to add (pickup: NULL date and msgid). */
	m = "From: a\n\nb\n";
	run_stream(NULL, m, strlen(m), 1, NULL, NULL, &o, &ds);
	expect_bytes("pickup, no key", "out", o.p, o.len, m, strlen(m));

	/* A header without an empty line: the fields and the whole
	 * signature at the end; nothing left to write over. */
	m = "From: a@example.org\nSubject: x\n";
	run_stream(&k, m, strlen(m), 5, T_DATE, T_MSGID, &o, &ds);
	assert_int_equal(o.len, strlen(m) + ds.added);
	assert_non_null(memmem(o.p, o.len, "\nDKIM-Signature: ", 17));
	assert_int_equal(o.p[o.len - 1], '\n');
	assert_non_null(memmem(o.p, o.len, "bh=47DEQpj8HBSa+/TImW+5JCeuQeRk"
	    "m5NMpJWZG3hSuFU=", 46));	/* SHA-256 of nothing */

	/* ... cut without a line end: one is added first. */
	m = "From: a@example.org";
	run_stream(&k, m, strlen(m), 0, NULL, NULL, &o, &ds);
	assert_memory_equal(o.p, "From: a@example.org\nDKIM-Signature: ",
	    36);

	/* A signed field twice: not signed, the reason kept. */
	m = "From: a\nTo: b\nTo: c\n\nbody\n";
	run_stream(&k, m, strlen(m), 0, T_DATE, T_MSGID, &o, &ds);
	assert_null(memmem(o.p, o.len, "DKIM-Signature", 14));
	assert_non_null(ds.why);
	assert_non_null(memmem(o.p, o.len, "Message-ID: " T_MSGID, 22));

	/* A DKIM-Signature already there (any case): ours would follow
	 * it, RFC 6376 5.6 wants it first: not signed. */
	m = "dkim-SIGNATURE : v=1; d=x\nFrom: a\n\nbody\n";
	run_stream(&k, m, strlen(m), 2, NULL, NULL, &o, &ds);
	expect_bytes("signed already", "out", o.p, o.len, m, strlen(m));
	assert_non_null(ds.why);

	/* Empty message. */
	run_stream(&k, "", 0, 0, T_DATE, NULL, &o, &ds);
	assert_memory_equal(o.p, "Date: " T_DATE "\nDKIM-Signature: ", 53);

	/* d= or selector that cannot be a tag: not signed. */
	o.len = 0;
	dkim_stream_init(&ds, &k, "exa mple.org", "sel", NULL, NULL, T_NOW);
	assert_int_equal(dkim_stream_write(&ds, S("From: a\n\nb\n"),
	    out_write, &o), 0);
	assert_int_equal(dkim_stream_finish(&ds, out_write, &o, sig,
	    sizeof sig, &off), 0);
	assert_null(memmem(o.p, o.len, "DKIM-Signature", 14));
	assert_non_null(ds.why);

	/* A write that fails: -1 from then on. */
	o.len = 0;
	o.fail_after = 20;
	dkim_stream_init(&ds, &k, "example.org", "sel", T_DATE, T_MSGID,
	    T_NOW);
	assert_int_equal(dkim_stream_write(&ds, S("From: a@example.org\n"),
	    out_write, &o), 0);
	assert_int_equal(dkim_stream_write(&ds, S("\nbody\n"), out_write,
	    &o), -1);
	assert_int_equal(dkim_stream_write(&ds, S("more\n"), out_write, &o),
	    -1);
	assert_int_equal(dkim_stream_finish(&ds, out_write, &o, sig,
	    sizeof sig, &off), -1);
	o.fail_after = 0;
}

/* A key dkim_setup holds signs as the file's key does. */
static void
same_signature(const struct dkim_key *held)
{
	static struct dkim_key k;
	unsigned char hash[32], s1[DKIM_SIGLEN_MAX], s2[DKIM_SIGLEN_MAX];

	assert_non_null(held);
	load_key(&k, "rsa2048.pem");
	memset(hash, 7, sizeof hash);
	assert_int_equal(dkim_key_sign(&k, hash, s1), 0);
	assert_int_equal(dkim_key_sign(held, hash, s2), 0);
	assert_memory_equal(s1, s2, dkim_key_siglen(&k));
}

/* dkim_setup: one file for every local domain, or a %d pattern. */
static void
test_setup(void **state)
{
	static struct cfg cfg;
	char dir[] = "/tmp/wren-dkim-XXXXXX", conf[2048], key[1024];
	char link[1100];
	struct err e;
	int n;
	(void)state;

	assert_non_null(mkdtemp(dir));
	data_path("rsa2048.pem", key, sizeof key);
	if (key[0] != '/') {
		char cwd[512];

		assert_non_null(getcwd(cwd, sizeof cwd));
		n = snprintf(link, sizeof link, "%s/%s", cwd, key);
		assert_true((size_t)n < sizeof link);
		memcpy(key, link, (size_t)n + 1);
	}
	n = snprintf(link, sizeof link, "%s/a.test.pem", dir);
	assert_true((size_t)n < sizeof link);
	assert_int_equal(symlink(key, link), 0);

	/* one key */
	n = snprintf(conf, sizeof conf, "domains = a.test b.test\n"
	    "hostname = mx.a.test\ndkim_selector = s1\ndkim_key = %s\n",
	    key);
	assert_int_equal(cfg_parse(&cfg, "t.conf", conf, (size_t)n, &e), 0);
	assert_int_equal(dkim_setup(&cfg, &e), 0);
	assert_true(dkim_loaded());
	assert_string_equal(dkim_selector(), "s1");
	assert_non_null(dkim_key_for("a.test", 6));
	assert_non_null(dkim_key_for("b.test", 6));
	same_signature(dkim_key_for("a.test", 6));
	assert_null(dkim_key_for("localhost", 9));
	assert_null(dkim_key_for("a.test.", 7));
	assert_null(dkim_key_for("", 0));

	/* a pattern: only a.test has a file */
	n = snprintf(conf, sizeof conf, "domains = a.test, B.test\n"
	    "hostname = mx.a.test\ndkim_selector = s2\n"
	    "dkim_key = %s/%%d.pem\n", dir);
	assert_int_equal(cfg_parse(&cfg, "t.conf", conf, (size_t)n, &e), 0);
	assert_int_equal(dkim_setup(&cfg, &e), 0);
	assert_non_null(dkim_key_for("a.test", 6));
	assert_non_null(dkim_key_for("A.TEST", 6));
	same_signature(dkim_key_for("a.test", 6));
	assert_null(dkim_key_for("b.test", 6));
	assert_null(dkim_key_for("mx.a.test", 9));
	assert_null(dkim_key_for("a.tes", 5));

	/* a reload that fails keeps the keys in use */
	n = snprintf(conf, sizeof conf, "dkim_selector = s3\n"
	    "dkim_key = %s/gone.pem\n", dir);
	assert_int_equal(cfg_parse(&cfg, "t.conf", conf, (size_t)n, &e), 0);
	assert_int_equal(dkim_setup(&cfg, &e), -1);
	assert_non_null(dkim_key_for("a.test", 6));
	assert_string_equal(dkim_selector(), "s2");
	same_signature(dkim_key_for("a.test", 6));

	/* no selector: no signing */
	n = snprintf(conf, sizeof conf, "dkim_key = %s\n", key);
	assert_int_equal(cfg_parse(&cfg, "t.conf", conf, (size_t)n, &e), 0);
	assert_int_equal(dkim_setup(&cfg, &e), 0);
	assert_null(dkim_key_for("a.test", 6));

	/* a missing file without %d is an error */
	n = snprintf(conf, sizeof conf, "dkim_selector = s\n"
	    "dkim_key = %s/none.pem\n", dir);
	assert_int_equal(cfg_parse(&cfg, "t.conf", conf, (size_t)n, &e), 0);
	assert_int_equal(dkim_setup(&cfg, &e), -1);
	assert_non_null(strstr(e.msg, "none.pem"));

	/* a bad file matched by the pattern is an error too */
	n = snprintf(link, sizeof link, "%s/c.test.pem", dir);
	assert_true((size_t)n < sizeof link);
	{
		FILE *f = fopen(link, "w");

		assert_non_null(f);
		fputs("junk\n", f);
		fclose(f);
	}
	n = snprintf(conf, sizeof conf, "domains = a.test c.test\n"
	    "dkim_selector = s\ndkim_key = %s/%%d.pem\n", dir);
	assert_int_equal(cfg_parse(&cfg, "t.conf", conf, (size_t)n, &e), 0);
	assert_int_equal(dkim_setup(&cfg, &e), -1);
	unlink(link);
	n = snprintf(link, sizeof link, "%s/a.test.pem", dir);
	unlink(link);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_sign_verifies),
		cmocka_unit_test(test_stream_golden),
		cmocka_unit_test(test_stream_cases),
		cmocka_unit_test(test_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
