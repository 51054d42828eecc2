/* SPDX-License-Identifier: ISC */
/*
 * test_crypt.c - SHA-crypt ($5$, $6$) and the comparison of
 * auth/crypt.h: sha_crypt against hashes made by other implementations,
 * the settings it refuses, crypt_equal, and crypt_new_setting.
 *
 * Every expected hash comes from an implementation other than wren's:
 *   - Ulrich Drepper's test vectors (SHA-crypt.txt, 7 per hash; glibc's
 *     tests use the same ones), each checked again with libxcrypt's
 *     crypt(3) through `perl -e 'print crypt(KEY, SETTING)'`. libxcrypt
 *     refuses rounds=10 instead of raising it to 1000, so the two
 *     "roundstoolow" rows were checked with rounds=1000, which is the
 *     same computation;
 *   - `doveadm pw -s SHA512-CRYPT|SHA256-CRYPT -p PW` (Dovecot), the
 *     {SCHEME} prefix stripped; used as settings, the salt comes from
 *     the hash;
 *   - `openssl passwd -5|-6 -salt SALT PW`.
 * Each row is also run with its own expected hash as the setting, which
 * must give that hash back (how a stored hash is checked).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth/crypt.h"

#define ALPHABET	"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"abcdefghijklmnopqrstuvwxyz"

/* Passwords of the openssl rows. */
#define K32		"abcdefghijklmnopqrstuvwxyzABCDEF"
#define K33		K32 "G"
#define K64		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"0123456789-_"
#define K65		K64 "!"
#define KUTF8		"p\xc3\xa4ssw\xc3\xb6rd \xe2\x9c\x93 " \
			"\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c"
#define K16		"0123456789abcdef"
#define K256		K16 K16 K16 K16 K16 K16 K16 K16 \
			K16 K16 K16 K16 K16 K16 K16 K16
#define SALT16		"0123456789abcdef"

/* Drepper's long password. */
#define KLONG		"a very much longer text to encrypt.  This one " \
			"even stretches over morethan one line."

struct vec {
	const char	*desc;
	const char	*key;
	const char	*setting;
	const char	*want;
};

static const struct vec vecs[] = {
	/* Drepper, SHA-256. */
	{ "drepper 256: default rounds", "Hello world!", "$5$saltstring",
	  "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5" },
	{ "drepper 256: rounds=10000, salt cut to 16", "Hello world!",
	  "$5$rounds=10000$saltstringsaltstring",
	  "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqF"
	  "Mz2.opqey6IcA" },
	{ "drepper 256: explicit rounds=5000 is kept in the output",
	  "This is just a test", "$5$rounds=5000$toolongsaltstring",
	  "$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHP"
	  "vOW8mGRcvxa5" },
	{ "drepper 256: rounds=1400, 84-byte key", KLONG,
	  "$5$rounds=1400$anotherlongsaltstring",
	  "$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzy"
	  "xf12oP84Bnq1" },
	{ "drepper 256: rounds=77777, short salt",
	  "we have a short salt string but not a short password",
	  "$5$rounds=77777$short",
	  "$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQR"
	  "d/" },
	{ "drepper 256: rounds=123456, salt of exactly 16", "a short string",
	  "$5$rounds=123456$asaltof16chars..",
	  "$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxP"
	  "yzV/cZKmF/wJvD" },
	{ "drepper 256: rounds=10 raised to 1000",
	  "the minimum number is still observed", "$5$rounds=10$roundstoolow",
	  "$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/"
	  "gL972bIC" },
	/* Drepper, SHA-512. */
	{ "drepper 512: default rounds", "Hello world!", "$6$saltstring",
	  "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNj"
	  "nQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1" },
	{ "drepper 512: rounds=10000, salt cut to 16", "Hello world!",
	  "$6$rounds=10000$saltstringsaltstring",
	  "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeq"
	  "h0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v." },
	{ "drepper 512: explicit rounds=5000 is kept in the output",
	  "This is just a test", "$6$rounds=5000$toolongsaltstring",
	  "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGo"
	  "NeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0" },
	{ "drepper 512: rounds=1400, 84-byte key", KLONG,
	  "$6$rounds=1400$anotherlongsaltstring",
	  "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQ"
	  "s.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1" },
	{ "drepper 512: rounds=77777, short salt",
	  "we have a short salt string but not a short password",
	  "$6$rounds=77777$short",
	  "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbk"
	  "vr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0" },
	{ "drepper 512: rounds=123456, salt of exactly 16", "a short string",
	  "$6$rounds=123456$asaltof16chars..",
	  "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4"
	  "oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1" },
	{ "drepper 512: rounds=10 raised to 1000",
	  "the minimum number is still observed", "$6$rounds=10$roundstoolow",
	  "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50Y"
	  "hH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX." },
	/* An empty salt (libxcrypt; the 512 one is also in PHP's tests). */
	{ "512: empty salt, the rest of the setting ignored", "foo",
	  "$6$$bar$",
	  "$6$$QMXjqd7rHQZPQ1yHsXkQqC1FBzDiVfTHXL.LaeDAeVV.IzMaV9VU4MQ8kPuZ"
	  "a2SOP1A0RPm772EaFYjpEJtdu." },
	{ "256: empty salt, the rest of the setting ignored", "foo",
	  "$5$$bar$", "$5$$9rlMzFmH6wTaam/8njhJdgD/Y6FpolRkkeYRdL6KJT1" },
	/* doveadm pw: the whole hash as the setting. */
	{ "doveadm SHA512-CRYPT hunter2", "hunter2",
	  "$6$qWHgVByD.Xz3xRqB$NnbK61gh.fBKVbP8Rb5DIfQfqvgUFr42e1UnkGrd.t5y"
	  "nHGWnSaaB5sMfSgbhQc6VLannUwhL4c6bHQgIbhoA.",
	  "$6$qWHgVByD.Xz3xRqB$NnbK61gh.fBKVbP8Rb5DIfQfqvgUFr42e1UnkGrd.t5y"
	  "nHGWnSaaB5sMfSgbhQc6VLannUwhL4c6bHQgIbhoA." },
	{ "doveadm SHA512-CRYPT with spaces", "Correct Horse Battery Staple",
	  "$6$C.2iVNgReSdQ8bk4$p6omyKJuSOoSS4nVbqgnhHv21wjcREbxIi5atSQccPdZ"
	  "6K3aTvgYPVhjvaFjFD4.Us4FwzO87.qTf5wXx.hPW/",
	  "$6$C.2iVNgReSdQ8bk4$p6omyKJuSOoSS4nVbqgnhHv21wjcREbxIi5atSQccPdZ"
	  "6K3aTvgYPVhjvaFjFD4.Us4FwzO87.qTf5wXx.hPW/" },
	{ "doveadm SHA256-CRYPT hunter2", "hunter2",
	  "$5$brP3EwZONntTIRNa$kL2PSdeMPH8Pz2F5Kv2N7cdQ0X62/ncV2kwgVAkhDm7",
	  "$5$brP3EwZONntTIRNa$kL2PSdeMPH8Pz2F5Kv2N7cdQ0X62/ncV2kwgVAkhDm7" },
	{ "doveadm SHA256-CRYPT with spaces", "Correct Horse Battery Staple",
	  "$5$Eq9YSUabCdbUral4$FYg1gnJTunwhGQuF6vLGDn7sREijRjaoXpzM8EwrkVC",
	  "$5$Eq9YSUabCdbUral4$FYg1gnJTunwhGQuF6vLGDn7sREijRjaoXpzM8EwrkVC" },
	/* openssl passwd -6, 16-character salt. */
	{ "openssl -6: 1-byte key", "x", "$6$" SALT16,
	  "$6$" SALT16 "$8YztVyzwDEH96nI5J4SMvvvaVH43cm6MjQyfl3gZsAa8rZMsHQV"
	  "TiLQraFpug5a6xlaOJbzt.7jq8UBJs4F7M1" },
	{ "openssl -6: 32-byte key", K32, "$6$" SALT16,
	  "$6$" SALT16 "$d8EtAVZZF4rCOH2E/qsmxtZZJSl4LjPmfR1zGdtG.aOKjq6K98T"
	  "NXDRGVNDrJ78Bi97nzmAQUIBtfLIYbWQh80" },
	{ "openssl -6: 33-byte key", K33, "$6$" SALT16,
	  "$6$" SALT16 "$gex2.iWSpuiPLFoCp93KwcvAGYf8KLEnrRMoRK6enOYFxJbxpt3"
	  "dvFPG7cnoCmuzjpYFKcueNh8JkWhABK6Fh0" },
	{ "openssl -6: 64-byte key (one SHA-512 block of key)", K64,
	  "$6$" SALT16,
	  "$6$" SALT16 "$lc1m6xZG6tNagaVcftg.7RDg8uBJq7YnLvHJFDuL909JdZo5Flr"
	  "XqnZZJkMSnj76ydtoets54DQTudaB2jJEN0" },
	{ "openssl -6: 65-byte key", K65, "$6$" SALT16,
	  "$6$" SALT16 "$C7/9hWQoHhixk7dolmnjHyK3ofEZMEFmdfV2L6SGSs.nG5e/2bu"
	  "7RiB5n1gRiM365wDdsFjMhECyzY2qg6dSN/" },
	{ "openssl -6: UTF-8 key", KUTF8, "$6$" SALT16,
	  "$6$" SALT16 "$BHeweKwAjtgaZd1Rvil/8nPoY0bEB4yj2sOe1069q2zaBQeiVqE"
	  "sTya/jO5Up6F/tqgOLiLydcWKh6ymKuDHM." },
	{ "openssl -6: 256-byte key, the longest accepted", K256,
	  "$6$" SALT16,
	  "$6$" SALT16 "$l.DDnixrT9g0kaF/30nKnZlVfB7KhnQruTbHDxfCX3Hwc8pqAVD"
	  "kk99PlMfFjZkCDm/3c6KrTv/Om/Bd2V5Wn1" },
	/* openssl passwd -6, short salt with '/' and '.'. */
	{ "openssl -6: 1-byte key, salt ab/.XY", "x", "$6$ab/.XY",
	  "$6$ab/.XY$vRVqKqL0EQyUPU.Tvamxwi.jemzd5uhk2w3qqjzb4zFPo.KOXnPV7NX"
	  "GBxs6D5kSWkSEdtQCmvi2q2hk2ibmc0" },
	{ "openssl -6: 64-byte key, salt ab/.XY", K64, "$6$ab/.XY",
	  "$6$ab/.XY$H7IG3sKY7I4Gs449EqSDO8yAm6dRg.7oCwPJOKcxGskZr0gxM2/nXze"
	  "kIXxDkN3TJTHuNoVWP.myQ/v2jLJzq0" },
	{ "openssl -6: UTF-8 key, salt ab/.XY", KUTF8, "$6$ab/.XY",
	  "$6$ab/.XY$/qRG0UmEWNvHPnv0qRR2ZoPXt/0R0yINgT9qCp1KrVgdcnMOrVw1B.t"
	  "nFs1dRIQZOtHmcw53pCb6hASUF5weG/" },
	/* openssl passwd -5, 16-character salt. */
	{ "openssl -5: 1-byte key", "x", "$5$" SALT16,
	  "$5$" SALT16 "$.fULuWHW4LFdceMju5Z2fLohL4aL5Nk149iH4KnvtJ9" },
	{ "openssl -5: 32-byte key (one SHA-256 block of key)", K32,
	  "$5$" SALT16,
	  "$5$" SALT16 "$8Kmfo1lra.sXuV29SNVLfEeGaOPe8ra9zNRE1Y1uga0" },
	{ "openssl -5: 33-byte key", K33, "$5$" SALT16,
	  "$5$" SALT16 "$mVrW7bivVw6UDV6fra3qp4jDTltPFUeONA2ornNbuJ0" },
	{ "openssl -5: 64-byte key", K64, "$5$" SALT16,
	  "$5$" SALT16 "$29Z9FVP0.AMhCDWwIq2bAejJIeOF4wv4M0rmlSyyIuC" },
	{ "openssl -5: 65-byte key", K65, "$5$" SALT16,
	  "$5$" SALT16 "$u1W.ZHLTWWYyFSSKsmeZc5W5P5BSE5uKvcMgv17evj6" },
	{ "openssl -5: UTF-8 key", KUTF8, "$5$" SALT16,
	  "$5$" SALT16 "$7c0oPeWcm4aJHW9wumNCttliB2QeDPF4MkPxBW4SWW8" },
	{ "openssl -5: 256-byte key, the longest accepted", K256,
	  "$5$" SALT16,
	  "$5$" SALT16 "$E5ZLVz0vrgRgQIEEvSznjTTyiXeAK2tSgf31lPicQk7" },
	/* openssl passwd -5, short salt. */
	{ "openssl -5: 1-byte key, salt ab/.XY", "x", "$5$ab/.XY",
	  "$5$ab/.XY$LcmphM.L5yMHlQUjqiq1/M4PqvWy51WeQ/Cd966Rw72" },
	{ "openssl -5: 64-byte key, salt ab/.XY", K64, "$5$ab/.XY",
	  "$5$ab/.XY$6YQCCWYcCnlI8xt1UJuV8I3HLo8ftssuL9U1JOjbey1" },
	{ "openssl -5: UTF-8 key, salt ab/.XY", KUTF8, "$5$ab/.XY",
	  "$5$ab/.XY$61UJ1FTk3o4yuW7aUz1nkdL/TFfESR21sQxRJpNc1/A" },
};

static void
test_vectors(void **state)
{
	char out[CRYPT_OUT_MAX], again[CRYPT_OUT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
		const struct vec *v = &vecs[i];

		memset(out, 'Z', sizeof out);
		if (sha_crypt(v->key, strlen(v->key), v->setting, out,
		    sizeof out) != 0) {
			fail_msg("%s: sha_crypt failed", v->desc);
		}
		if (memchr(out, '\0', sizeof out) == NULL ||
		    strcmp(out, v->want) != 0) {
			fail_msg("%s:\n got  %.*s\n want %s", v->desc,
			    (int)sizeof out, out, v->want);
		}
		/* The stored hash as the setting gives itself back. */
		if (sha_crypt(v->key, strlen(v->key), v->want, again,
		    sizeof again) != 0 || strcmp(again, v->want) != 0) {
			fail_msg("%s: with the hash as the setting", v->desc);
		}
	}
}

/* A wrong key, and one byte more or less, give another hash. */
static void
test_other_keys(void **state)
{
	static const char *const settings[] = {
		"$6$" SALT16, "$5$" SALT16, "$6$rounds=1000$" SALT16,
	};
	static const struct {
		const char	*desc;
		const char	*key;
		size_t		 klen;
	} keys[] = {
		{ "empty", "", 0 },
		{ "one byte", "s", 1 },
		{ "the password", "secret", 6 },
		{ "upper case", "SECRET", 6 },
		{ "one byte less", "secre", 5 },
		{ "one byte more", "secret!", 7 },
		{ "a NUL after it", "secret\0", 7 },
		{ "a NUL inside", "sec\0ret", 7 },
	};
	char out[sizeof keys / sizeof keys[0]][CRYPT_OUT_MAX];

	(void)state;
	for (size_t s = 0; s < sizeof settings / sizeof settings[0]; s++) {
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			assert_int_equal(sha_crypt(keys[i].key, keys[i].klen,
			    settings[s], out[i], sizeof out[i]), 0);
			for (size_t j = 0; j < i; j++) {
				if (strcmp(out[i], out[j]) == 0) {
					fail_msg("%s: '%s' and '%s' give the "
					    "same hash", settings[s],
					    keys[i].desc, keys[j].desc);
				}
			}
		}
	}
}

struct bad {
	const char	*desc;
	const char	*setting;
	size_t		 klen;		/* of a key of 'k's */
	size_t		 cap;
};

static const struct bad bads[] = {
	{ "md5-crypt", "$1$x", 6, CRYPT_OUT_MAX },
	{ "unknown id 7", "$7$x", 6, CRYPT_OUT_MAX },
	{ "bcrypt", "$2b$05$abcdefghijklmnopqrstuu", 6, CRYPT_OUT_MAX },
	{ "empty setting", "", 6, CRYPT_OUT_MAX },
	{ "a lone $", "$", 6, CRYPT_OUT_MAX },
	{ "no $ after the id", "$6", 6, CRYPT_OUT_MAX },
	{ "a character after the id", "$6x$salt", 6, CRYPT_OUT_MAX },
	{ "no leading $", "6$salt", 6, CRYPT_OUT_MAX },
	{ "a space first", " $6$salt", 6, CRYPT_OUT_MAX },
	{ "two-digit id", "$56$salt", 6, CRYPT_OUT_MAX },
	{ "DES", "ab", 6, CRYPT_OUT_MAX },
	{ "rounds not a number", "$6$rounds=abc$x", 6, CRYPT_OUT_MAX },
	{ "rounds empty", "$6$rounds=$x", 6, CRYPT_OUT_MAX },
	{ "rounds negative", "$6$rounds=-5000$x", 6, CRYPT_OUT_MAX },
	{ "rounds with a sign", "$5$rounds=+5000$x", 6, CRYPT_OUT_MAX },
	{ "rounds then a letter", "$6$rounds=5000x$x", 6, CRYPT_OUT_MAX },
	{ "rounds without the closing $", "$6$rounds=5000", 6,
	  CRYPT_OUT_MAX },
	{ "key of 257 bytes", "$6$" SALT16, 257, CRYPT_OUT_MAX },
	{ "key of 257 bytes, $5$", "$5$" SALT16, 257, CRYPT_OUT_MAX },
	{ "key of 4096 bytes", "$6$" SALT16, 4096, CRYPT_OUT_MAX },
	{ "output buffer one byte short", "$6$" SALT16, 6,
	  CRYPT_OUT_MAX - 1 },
	{ "output buffer empty", "$5$" SALT16, 6, 0 },
};

static void
test_bad_settings(void **state)
{
	static char key[4096];
	char out[CRYPT_OUT_MAX];

	(void)state;
	memset(key, 'k', sizeof key);
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		const struct bad *b = &bads[i];
		int rc = sha_crypt(key, b->klen, b->setting, out, b->cap);

		if (rc != -1) {
			fail_msg("%s ('%s'): %d, want -1", b->desc,
			    b->setting, rc);
		}
	}
	/* The edges next to the refused ones are accepted. */
	assert_int_equal(sha_crypt(key, 256, "$6$" SALT16, out, sizeof out),
	    0);
	assert_int_equal(sha_crypt(key, 0, "$6$" SALT16, out, sizeof out), 0);
	/* libxcrypt: crypt("kkkkkk", "$5$rounds=1000$x"). */
	assert_int_equal(sha_crypt(key, 6, "$5$rounds=1000$x", out,
	    CRYPT_OUT_MAX), 0);
	assert_string_equal(out, "$5$rounds=1000$x$"
	    "uFMIa5pcLPRkYr5ibX3uFOnnDLX5BkRhO7qEG/e9g82");
}

struct eq {
	const char	*desc;
	const char	*a;
	size_t		 alen;
	const char	*b;
	size_t		 blen;
	int		 want;
};

#define H	"$6$saltsaltsaltsalt$0123456789abcdefghijklmnopqrstuvwxyz" \
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ./0123456789abcdefghijklmnopqrst"
#define HLEN	(sizeof H - 1)

static const struct eq eqs[] = {
	{ "equal hashes", H, HLEN, H, HLEN, 1 },
	{ "equal short strings", "pw", 2, "pw", 2, 1 },
	{ "both empty", "", 0, "", 0, 1 },
	{ "first empty", "", 0, "a", 1, 0 },
	{ "second empty", "a", 1, "", 0, 0 },
	{ "first a prefix of the second", H, HLEN - 1, H, HLEN, 0 },
	{ "second a prefix of the first", H, HLEN, H, HLEN - 1, 0 },
	{ "longer only by a NUL", "pw\0", 3, "pw", 2, 0 },
	{ "shorter only by a NUL", "pw", 2, "pw\0", 3, 0 },
	{ "first byte differs",
	  "%6$saltsaltsaltsalt$0123456789abcdefghijklmnopqrstuvwxyz"
	  "ABCDEFGHIJKLMNOPQRSTUVWXYZ./0123456789abcdefghijklmnopqrst",
	  HLEN, H, HLEN, 0 },
	{ "a middle byte differs",
	  "$6$saltsaltsaltsalt$0123456789abcdefghijklmnopqrstuvwxyz"
	  "ABCDEFGHIJKLMNOPqRSTUVWXYZ./0123456789abcdefghijklmnopqrst",
	  HLEN, H, HLEN, 0 },
	{ "last byte differs",
	  "$6$saltsaltsaltsalt$0123456789abcdefghijklmnopqrstuvwxyz"
	  "ABCDEFGHIJKLMNOPQRSTUVWXYZ./0123456789abcdefghijklmnopqrsu",
	  HLEN, H, HLEN, 0 },
	{ "one bit differs (case)", "Secret", 6, "secret", 6, 0 },
	{ "a high bit differs", "\xe4", 1, "\x64", 1, 0 },
	{ "same bytes, only the lengths say so", "abcdef", 3, "abcxyz", 3,
	  1 },
};

static void
test_equal(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof eqs / sizeof eqs[0]; i++) {
		const struct eq *e = &eqs[i];
		int got = crypt_equal(e->a, e->alen, e->b, e->blen);

		if (got != e->want) {
			fail_msg("%s: %d, want %d", e->desc, got, e->want);
		}
		/* Symmetric. */
		if (crypt_equal(e->b, e->blen, e->a, e->alen) != e->want) {
			fail_msg("%s (swapped): want %d", e->desc, e->want);
		}
	}
}

#define NSETTINGS	20
#define SETTING_LEN	(3 + CRYPT_SALT_MAX)

static void
test_new_setting(void **state)
{
	char s[NSETTINGS][CRYPT_OUT_MAX], out[CRYPT_OUT_MAX];
	char again[CRYPT_OUT_MAX];
	int seen[256] = { 0 }, distinct = 0;

	(void)state;
	for (int i = 0; i < NSETTINGS; i++) {
		assert_int_equal(crypt_new_setting(s[i], sizeof s[i]), 0);
		assert_int_equal(strlen(s[i]), SETTING_LEN);
		assert_memory_equal(s[i], "$6$", 3);
		if (strspn(s[i] + 3, ALPHABET) != CRYPT_SALT_MAX) {
			fail_msg("'%s': not 16 characters of the crypt "
			    "alphabet", s[i]);
		}
		for (int k = 3; k < SETTING_LEN; k++) {
			distinct += seen[(unsigned char)s[i][k]]++ == 0;
		}
		for (int j = 0; j < i; j++) {
			if (strcmp(s[i], s[j]) == 0) {
				fail_msg("the same setting twice: %s", s[i]);
			}
		}
		/* Usable: "$6$<salt>$<86>", and verifiable with itself. */
		assert_int_equal(sha_crypt("pw", 2, s[i], out, sizeof out), 0);
		assert_int_equal(strlen(out), SETTING_LEN + 1 + 86);
		assert_memory_equal(out, s[i], SETTING_LEN);
		assert_int_equal(out[SETTING_LEN], '$');
		assert_int_equal(strspn(out + SETTING_LEN + 1, ALPHABET), 86);
		assert_int_equal(sha_crypt("pw", 2, out, again, sizeof again),
		    0);
		assert_string_equal(again, out);
	}
	/* The whole alphabet is used: 320 uniform draws from 64 miss about
	 * 0.4 characters on average; missing 17 or more (a salt drawn from
	 * half the alphabet) has a chance far below 1e-15. */
	if (distinct < 48) {
		fail_msg("only %d distinct salt characters in %d settings",
		    distinct, NSETTINGS);
	}
	/* Room for the setting and its NUL, and not one byte less. */
	assert_int_equal(crypt_new_setting(out, SETTING_LEN + 1), 0);
	assert_int_equal(strlen(out), SETTING_LEN);
	assert_int_equal(crypt_new_setting(out, SETTING_LEN), -1);
	assert_int_equal(crypt_new_setting(out, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_other_keys),
		cmocka_unit_test(test_bad_settings),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_new_setting),
	};

	return cmocka_run_group_tests_name("crypt", tests, NULL, NULL);
}
