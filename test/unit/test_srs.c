/* SPDX-License-Identifier: ISC */
/*
 * test_srs.c - the Sender Rewriting Scheme (queue/srs.h): srs_forward
 * and srs_reverse against values computed independently from libsrs2's
 * algorithm (HMAC-SHA1 over the lower-cased fields, base64, base32
 * day stamps), round trips through one and two forwarders, case
 * changes, bad hashes, expired and future stamps, malformed and
 * oversized addresses; srs_init making and re-reading data_dir/srs.key.
 * At least half of the rows are bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "queue/srs.h"
#include "testutil.h"

#define KEY	"wren-test-key"
#define DOM	"srs.example.com"
#define NOW	((time_t)1764120000)	/* day 20417: stamp 6C */
#define DAY	((time_t)86400)

static struct srs_key key;

/* ---------------------------------------------------------------- */

struct fwd_case {
	const char	*desc;
	const char	*sender;
	time_t		 now;
	size_t		 cap;	/* 0: ADDR_MAX + 1 */
	int		 rc;
	const char	*want;
};

static const struct fwd_case fwd_cases[] = {
	{ "plain address", "alice@example.org", NOW, 0, 1,
	  "SRS0=Sp7s=6C=example.org=alice@" DOM },
	{ "case kept, hashed in lower case", "Alice.B+tag@Example.ORG", NOW,
	  0, 1, "SRS0=ElQb=6C=Example.ORG=Alice.B+tag@" DOM },
	{ "another forwarder's SRS0 becomes SRS1",
	  "SRS0=abcd=TT=orig.com=user@hop1.net", NOW, 0, 1,
	  "SRS1=sBWH=hop1.net==abcd=TT=orig.com=user@" DOM },
	{ "SRS0 with '+' separators", "SRS0+abcd+TT+orig.com+user@hop1.net",
	  NOW, 0, 1, "SRS1=OvoM=hop1.net=+abcd+TT+orig.com+user@" DOM },
	{ "an SRS1 keeps its first hop, rehashed for us",
	  "SRS1=wxyz=hop1.net==abcd=TT=orig.com=user@hop2.net", NOW, 0, 1,
	  "SRS1=sBWH=hop1.net==abcd=TT=orig.com=user@" DOM },
	{ "the null sender stays", "", NOW, 0, 0, "" },
	{ "an address in the SRS domain stays", "bob@" DOM, NOW, 0, 0,
	  "bob@" DOM },
	{ "the SRS domain in another case stays", "bob@SRS.Example.COM",
	  NOW, 0, 0, "bob@SRS.Example.COM" },

	{ "malformed SRS1 is wrapped in SRS0", "SRS1=abcd@hop.net", NOW, 0,
	  1, "SRS0=pOBr=6C=hop.net=SRS1=abcd@" DOM },
	{ "no @", "alice", NOW, 0, -1, NULL },
	{ "empty local part", "@example.org", NOW, 0, -1, NULL },
	{ "empty domain", "alice@", NOW, 0, -1, NULL },
	{ "result one byte too long", "alice@example.org", NOW, 46, -1,
	  NULL },
	{ "result just fits", "alice@example.org", NOW, 47, 1,
	  "SRS0=Sp7s=6C=example.org=alice@" DOM },
	{ "SRS1 result too long", "SRS0=abcd=TT=orig.com=user@hop1.net",
	  NOW, 20, -1, NULL },
	{ "unchanged address too long for out", "bob@" DOM, NOW, 5, -1,
	  NULL },
};

static void
test_forward(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof fwd_cases / sizeof fwd_cases[0]; i++) {
		const struct fwd_case *c = &fwd_cases[i];
		size_t cap = c->cap ? c->cap : ADDR_MAX + 1;
		char *out = malloc(cap);
		int rc;

		assert_non_null(out);
		rc = srs_forward(&key, DOM, c->sender, out, cap, c->now);
		if (rc != c->rc) {
			fail_msg("%s: rc %d, want %d", c->desc, rc, c->rc);
		}
		if (c->want != NULL && strcmp(out, c->want) != 0) {
			fail_msg("%s: got '%s', want '%s'", c->desc, out,
			    c->want);
		}
		free(out);
	}
}

/* ---------------------------------------------------------------- */

struct rev_case {
	const char	*desc;
	const char	*addr;
	time_t		 now;
	size_t		 cap;	/* 0: ADDR_MAX + 1 */
	int		 rc;
	const char	*want;
};

static const struct rev_case rev_cases[] = {
	{ "SRS0 back to the sender", "SRS0=Sp7s=6C=example.org=alice@" DOM,
	  NOW, 0, 1, "alice@example.org" },
	{ "case of the original kept",
	  "SRS0=ElQb=6C=Example.ORG=Alice.B+tag@" DOM, NOW, 0, 1,
	  "Alice.B+tag@Example.ORG" },
	{ "whole address lower-cased by some MTA",
	  "srs0=sp7s=6c=example.org=alice@" DOM, NOW, 0, 1,
	  "alice@example.org" },
	{ "whole address upper-cased", "SRS0=SP7S=6C=EXAMPLE.ORG=ALICE@"
	  "SRS.EXAMPLE.COM", NOW, 0, 1, "ALICE@EXAMPLE.ORG" },
	{ "SRS1 back to the first hop's SRS0",
	  "SRS1=sBWH=hop1.net==abcd=TT=orig.com=user@" DOM, NOW, 0, 1,
	  "SRS0=abcd=TT=orig.com=user@hop1.net" },
	{ "SRS1 with '+' kept as it was",
	  "SRS1=OvoM=hop1.net=+abcd+TT+orig.com+user@" DOM, NOW, 0, 1,
	  "SRS0+abcd+TT+orig.com+user@hop1.net" },
	{ "21 days later: still good", "SRS0=Sp7s=6C=example.org=alice@" DOM,
	  NOW + 21 * DAY, 0, 1, "alice@example.org" },
	{ "another domain: not ours", "SRS0=Sp7s=6C=example.org=alice@"
	  "other.net", NOW, 0, 0, NULL },
	{ "our domain, no SRS address", "postmaster@" DOM, NOW, 0, 0, NULL },
	{ "SRS0= and nothing: not SRS", "SRS0=@" DOM, NOW, 0, 0, NULL },
	{ "SRS0 without a separator: not SRS", "SRS0xSp7s@" DOM, NOW, 0, 0,
	  NULL },
	{ "no @: not SRS", "SRS0=Sp7s=6C=example.org=alice", NOW, 0, 0,
	  NULL },

	{ "22 days later: expired", "SRS0=Sp7s=6C=example.org=alice@" DOM,
	  NOW + 22 * DAY, 0, -1, NULL },
	{ "stamp from the future", "SRS0=Sp7s=6C=example.org=alice@" DOM,
	  NOW - 2 * DAY, 0, -1, NULL },
	{ "bad hash", "SRS0=Sp7t=6C=example.org=alice@" DOM, NOW, 0, -1,
	  NULL },
	{ "hash of the right text under another key",
	  "SRS0=AAAA=6C=example.org=alice@" DOM, NOW, 0, -1, NULL },
	{ "local part changed", "SRS0=Sp7s=6C=example.org=mallory@" DOM, NOW,
	  0, -1, NULL },
	{ "domain changed", "SRS0=Sp7s=6C=evil.org=alice@" DOM, NOW, 0, -1,
	  NULL },
	{ "stamp changed", "SRS0=Sp7s=6D=example.org=alice@" DOM, NOW, 0, -1,
	  NULL },
	{ "hash too short", "SRS0=Sp7=6C=example.org=alice@" DOM, NOW, 0,
	  -1, NULL },
	{ "hash too long", "SRS0=Sp7sX=6C=example.org=alice@" DOM, NOW, 0,
	  -1, NULL },
	{ "empty hash", "SRS0==6C=example.org=alice@" DOM, NOW, 0, -1, NULL },
	{ "stamp not base32", "SRS0=Sp7s=61=example.org=alice@" DOM, NOW, 0,
	  -1, NULL },
	{ "stamp of three characters", "SRS0=Sp7s=6CA=example.org=alice@"
	  DOM, NOW, 0, -1, NULL },
	{ "missing local part", "SRS0=Sp7s=6C=example.org@" DOM, NOW, 0, -1,
	  NULL },
	{ "empty local part", "SRS0=Sp7s=6C=example.org=@" DOM, NOW, 0, -1,
	  NULL },
	{ "empty domain", "SRS0=Sp7s=6C==alice@" DOM, NOW, 0, -1, NULL },
	{ "only a hash", "SRS0=Sp7s@" DOM, NOW, 0, -1, NULL },
	{ "SRS1 without its host", "SRS1=sBWH@" DOM, NOW, 0, -1, NULL },
	{ "SRS1 with an empty host", "SRS1=sBWH===abcd=TT=x=y@" DOM, NOW, 0,
	  -1, NULL },
	{ "SRS1 with nothing after the host", "SRS1=sBWH=hop1.net=@" DOM,
	  NOW, 0, -1, NULL },
	{ "SRS1 with a bad hash",
	  "SRS1=xxxx=hop1.net==abcd=TT=orig.com=user@" DOM, NOW, 0, -1,
	  NULL },
	{ "SRS1 with another hop",
	  "SRS1=sBWH=evil.net==abcd=TT=orig.com=user@" DOM, NOW, 0, -1,
	  NULL },
	{ "reversed address one byte too long",
	  "SRS0=Sp7s=6C=example.org=alice@" DOM, NOW, 17, -1, NULL },
};

static void
test_reverse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof rev_cases / sizeof rev_cases[0]; i++) {
		const struct rev_case *c = &rev_cases[i];
		size_t cap = c->cap ? c->cap : ADDR_MAX + 1;
		char *out = malloc(cap);
		int rc;

		assert_non_null(out);
		strcpy(out, cap > 3 ? "-" : "");
		rc = srs_reverse(&key, DOM, c->addr, out, cap, c->now);
		if (rc != c->rc) {
			fail_msg("%s: rc %d, want %d", c->desc, rc, c->rc);
		}
		if (c->want != NULL && strcmp(out, c->want) != 0) {
			fail_msg("%s: got '%s', want '%s'", c->desc, out,
			    c->want);
		}
		if (rc == 0 && strcmp(out, cap > 3 ? "-" : "") != 0) {
			fail_msg("%s: out written for a non-SRS address",
			    c->desc);
		}
		free(out);
	}
}

/* Forward, then reverse, at several times and for several senders;
 * and through two forwarders with their own keys and domains. */
static void
test_round_trip(void **state)
{
	static const char *const senders[] = {
		"alice@example.org", "a.b-c+d@sub.example.co.uk",
		"x@y.z", "UPPER@CASE.ORG", "o'brien@example.ie",
		"has=equals@example.org",
	};
	struct srs_key k2;
	char a[ADDR_MAX + 1], b[ADDR_MAX + 1], c[ADDR_MAX + 1],
	    d[ADDR_MAX + 1];

	(void)state;
	assert_int_equal(srs_key_set(&k2, S("another secret")), 0);
	for (size_t i = 0; i < sizeof senders / sizeof senders[0]; i++) {
		for (time_t t = 0; t < 2000 * DAY; t += 97 * DAY + 3601) {
			assert_int_equal(srs_forward(&key, DOM, senders[i], a,
			    sizeof a, t), 1);
			assert_int_equal(srs_reverse(&key, DOM, a, b,
			    sizeof b, t + 20 * DAY), 1);
			assert_string_equal(b, senders[i]);
			/* Another forwarder passes it on. */
			assert_int_equal(srs_forward(&k2, "fwd2.net", a, c,
			    sizeof c, t), 1);
			assert_memory_equal(c, "SRS1=", 5);
			assert_int_equal(srs_reverse(&k2, "fwd2.net", c, d,
			    sizeof d, t + 30 * DAY), 1);
			assert_string_equal(d, a);
			/* The wrong key never reverses. */
			assert_int_equal(srs_reverse(&k2, DOM, a, b, sizeof b,
			    t), -1);
		}
	}
}

/* ---------------------------------------------------------------- */

static void
test_init(void **state)
{
	char dir[] = "/tmp/test_srs.XXXXXX", path[64];
	struct srs_key k1, k2;
	struct stat st;
	struct err e;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/srs.key", dir);
	assert_int_equal(srs_init(dir, &k1, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(k1.len, 44);		/* base64 of 32 bytes */
	assert_int_equal(st.st_size, 45);
	/* Read back, not made again. */
	assert_int_equal(srs_init(dir, &k2, &e), 0);
	assert_int_equal(k2.len, k1.len);
	assert_memory_equal(k2.k, k1.k, k1.len);
	/* A postsrsd secret: first line, CR LF tolerated. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("my postsrsd secret\r\nsecond line\n", f);
	fclose(f);
	assert_int_equal(srs_init(dir, &k2, &e), 0);
	assert_int_equal(k2.len, 18);
	assert_memory_equal(k2.k, "my postsrsd secret", 18);
	/* Empty: refused. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("\n", f);
	fclose(f);
	assert_int_equal(srs_init(dir, &k2, &e), -1);
	assert_non_null(strstr(e.msg, "empty"));
	/* Longer than SRS_KEY_MAX: refused. */
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < SRS_KEY_MAX + 1; i++) {
		fputc('k', f);
	}
	fclose(f);
	assert_int_equal(srs_init(dir, &k2, &e), -1);
	/* Exactly SRS_KEY_MAX without a newline: fine. */
	assert_int_equal(truncate(path, SRS_KEY_MAX), 0);
	assert_int_equal(srs_init(dir, &k2, &e), 0);
	assert_int_equal(k2.len, SRS_KEY_MAX);
	/* A symlink is not followed. */
	unlink(path);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(srs_init(dir, &k2, &e), -1);
	unlink(path);
	/* An unwritable data_dir. */
	assert_int_equal(srs_init("/nonexistent/dir", &k2, &e), -1);
	rmdir(dir);
	assert_int_equal(srs_key_set(&k2, "", 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_init),
	};

	if (srs_key_set(&key, S(KEY)) == -1) {
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
