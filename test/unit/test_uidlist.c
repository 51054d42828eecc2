/* SPDX-License-Identifier: ISC */
/*
 * test_uidlist.c - the sans-I/O codecs for Dovecot's Maildir metadata
 * (store/uidlist.h): Maildir file names with Dovecot's S=, W= fields,
 * flags and keyword letters (maildir_name_parse, maildir_name_format),
 * dovecot-uidlist headers and records, versions 1 and 3
 * (uidlist_parse_header, uidlist_parse_record, uidlist_record_ext,
 * uidlist_format_*), and dovecot-keywords lines (keywords_*).
 *
 * Each table row is one input with a one-line description and what it
 * must give. At least half of every table is bad or hostile input.
 * Inputs are copied to heap blocks of exactly their length, so that
 * ASan catches a read past the end; lengths are explicit, so inputs may
 * hold NUL. Every accepted input is formatted again and must parse to
 * the same values; formatters are also tried with every cap up to the
 * length they need, and must not touch out when it does not fit.
 *
 * Last, the Maildir that the real Dovecot made in test/data/maildir
 * (see its regen.sh) is read: every file name, dovecot-uidlist and
 * dovecot-keywords must parse, and the flags and keywords that doveadm
 * set must come back by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>

#include "store/uidlist.h"
#include "testutil.h"

#define L(s)		(s), sizeof(s) - 1
#define BUF_MAX		(UIDLIST_LINE_MAX + 64)
#define LONG_NAME	(MBOX_NAME_MAX + 1)

/* head, then n copies of fill, then tail, in a heap block of exactly
 * its length (build). */
static char *
build_long(const char *head, const char *fill, size_t n, const char *tail,
    size_t *lenp)
{
	const struct text t = TF(head, fill, n, tail);

	return build(&t, lenp);
}

/* ---------------------------------------------------------------- */
/* maildir_name_parse / maildir_name_format */

struct name_case {
	const char	*desc;
	const char	*in;
	size_t		 len;
	int		 rc;
	const char	*base;
	int		 has_size;
	uint64_t	 size;
	int		 has_vsize;
	uint64_t	 vsize;
	int		 has_info;
	unsigned	 flags;
	uint32_t	 keywords;
	const char	*canon;		/* format(base, flags, kw) */
};

#define KW(c)		((uint32_t)1 << ((c) - 'a'))
#define BASE1		"1795663951.M789277P28172.vm"

static const struct name_case name_cases[] = {
	{ "Dovecot name in new/, no info", L(BASE1 ",S=56,W=61"), 0,
	  BASE1 ",S=56,W=61", 1, 56, 1, 61, 0, 0, 0,
	  BASE1 ",S=56,W=61:2," },
	{ "Dovecot name with \\Seen", L(BASE1 ",S=56,W=61:2,S"), 0,
	  BASE1 ",S=56,W=61", 1, 56, 1, 61, 1, MF_SEEN, 0,
	  BASE1 ",S=56,W=61:2,S" },
	{ "Seen and keywords a, b", L(BASE1 ",S=56,W=61:2,Sab"), 0,
	  BASE1 ",S=56,W=61", 1, 56, 1, 61, 1, MF_SEEN, KW('a') | KW('b'),
	  BASE1 ",S=56,W=61:2,Sab" },
	{ "all known flags", L("x:2,DFPRST"), 0, "x", 0, 0, 0, 0, 1,
	  MF_DRAFT | MF_FLAGGED | MF_PASSED | MF_REPLIED | MF_SEEN |
	  MF_TRASHED, 0, "x:2,DFPRST" },
	{ "qmail name without S= or W=", L("1204680122.27984_0.host"), 0,
	  "1204680122.27984_0.host", 0, 0, 0, 0, 0, 0, 0,
	  "1204680122.27984_0.host:2," },
	{ "S= only", L("b,S=1200:2,"), 0, "b,S=1200", 1, 1200, 0, 0, 1, 0,
	  0, "b,S=1200:2," },
	{ "W= only", L("b,W=9"), 0, "b,W=9", 0, 0, 1, 9, 0, 0, 0,
	  "b,W=9:2," },
	{ "W= before S=", L("b,W=7,S=5"), 0, "b,W=7,S=5", 1, 5, 1, 7, 0, 0,
	  0, "b,W=7,S=5:2," },
	{ "S=0 is a size", L("b,S=0"), 0, "b,S=0", 1, 0, 0, 0, 0, 0, 0,
	  "b,S=0:2," },
	{ "S= of 2^64-1", L("b,S=18446744073709551615"), 0,
	  "b,S=18446744073709551615", 1, UINT64_MAX, 0, 0, 0, 0, 0,
	  "b,S=18446744073709551615:2," },
	{ "other ,X= fields are kept in base", L("b,X=1,S=3:2,T"), 0,
	  "b,X=1,S=3", 1, 3, 0, 0, 1, MF_TRASHED, 0, "b,X=1,S=3:2,T" },
	{ ":2, with no flags", L("b:2,"), 0, "b", 0, 0, 0, 0, 1, 0, 0,
	  "b:2," },
	{ "unsorted flags come out sorted", L("b:2,zSaDcF"), 0, "b", 0, 0,
	  0, 0, 1, MF_SEEN | MF_DRAFT | MF_FLAGGED,
	  KW('z') | KW('a') | KW('c'), "b:2,DFSacz" },
	{ "duplicate letters count once", L("b:2,SSaaS"), 0, "b", 0, 0, 0,
	  0, 1, MF_SEEN, KW('a'), "b:2,Sa" },
	{ "unknown upper-case letters are kept", L("b:2,ASXZ"), 0, "b", 0, 0,
	  0, 0, 1, MF_SEEN | MF_LETTER('A') | MF_LETTER('X') |
	  MF_LETTER('Z'), 0, "b:2,ASXZ" },
	{ "digits and punctuation in flags are dropped", L("b:2,S1!-F"), 0,
	  "b", 0, 0, 0, 0, 1, MF_SEEN | MF_FLAGGED, 0, "b:2,FS" },
	{ "a second ',' ends the flags", L("b:2,S,XYZ"), 0, "b", 0, 0, 0, 0,
	  1, MF_SEEN, 0, "b:2,S" },
	{ ":1, experimental info: no flags, base kept", L("b,S=4:1,2"), 0,
	  "b,S=4", 1, 4, 0, 0, 0, 0, 0, "b,S=4:2," },
	{ "':' with no info", L("b:"), 0, "b", 0, 0, 0, 0, 0, 0, 0, "b:2," },
	{ "':2' without ','", L("b:2"), 0, "b", 0, 0, 0, 0, 0, 0, 0,
	  "b:2," },
	{ "':3,S' is not flags", L("b:3,S"), 0, "b", 0, 0, 0, 0, 0, 0, 0,
	  "b:2," },
	{ "flags from the last ':' (Dovecot's strrchr)", L("b:x:2,RS"), 0,
	  "b", 0, 0, 0, 0, 1, MF_REPLIED | MF_SEEN, 0, "b:2,RS" },
	{ "info ':2,' not last: no flags", L("b:2,S:9"), 0, "b", 0, 0, 0, 0,
	  0, 0, 0, "b:2," },
	{ "lower case s= is not a size", L("b,s=5"), 0, "b,s=5", 0, 0, 0, 0,
	  0, 0, 0, "b,s=5:2," },
	{ "S= is empty", L("b,S=:2,S"), 0, "b,S=", 0, 0, 0, 0, 1, MF_SEEN,
	  0, "b,S=:2,S" },
	{ "S= is not a number", L("b,S=12x"), 0, "b,S=12x", 0, 0, 0, 0, 0, 0,
	  0, "b,S=12x:2," },
	{ "S= negative", L("b,S=-1"), 0, "b,S=-1", 0, 0, 0, 0, 0, 0, 0,
	  "b,S=-1:2," },
	{ "S= over 2^64", L("b,S=18446744073709551616"), 0,
	  "b,S=18446744073709551616", 0, 0, 0, 0, 0, 0, 0,
	  "b,S=18446744073709551616:2," },
	{ "first S= is bad: not looked past", L("b,S=x,S=5"), 0,
	  "b,S=x,S=5", 0, 0, 0, 0, 0, 0, 0, "b,S=x,S=5:2," },
	{ "S= in the info is not a size", L("b:2,S,S=5"), 0, "b", 0, 0, 0, 0,
	  1, MF_SEEN, 0, "b:2,S" },
	{ "empty name", L(""), -1, NULL, 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "dot file", L(".nfs0001"), -1, NULL, 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "'.' alone", L("."), -1, NULL, 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "'..'", L(".."), -1, NULL, 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "empty base", L(":2,S"), -1, NULL, 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "'/' in the name", L("../cur/x:2,S"), -1, NULL, 0, 0, 0, 0, 0, 0, 0,
	  NULL },
	{ "'/' in the info", L("x:2,S/"), -1, NULL, 0, 0, 0, 0, 0, 0, 0,
	  NULL },
	{ "NUL in the name", L("x\0y"), -1, NULL, 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "LF in the name", L("x\ny"), -1, NULL, 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "CR at the end", L("x:2,S\r"), -1, NULL, 0, 0, 0, 0, 0, 0, 0,
	  NULL },
};

static void
check_name(const char *desc, const char *s, size_t len,
    const struct name_case *c)
{
	struct maildir_name mn, again;
	char out[BUF_MAX];
	size_t n;
	int rc;

	rc = maildir_name_parse(s, len, &mn);
	if (rc != c->rc) {
		fail_msg("%s: rc %d", desc, rc);
	}
	if (rc == -1) {
		return;
	}
	if (mn.baselen != strlen(c->base) ||
	    memcmp(mn.base, c->base, mn.baselen) != 0 || mn.base != s) {
		fail_msg("%s: base '%.*s'", desc, (int)mn.baselen, mn.base);
	}
	if ((int)mn.has_size != c->has_size || mn.size != c->size ||
	    (int)mn.has_vsize != c->has_vsize || mn.vsize != c->vsize) {
		fail_msg("%s: size %d %llu vsize %d %llu", desc,
		    mn.has_size, (unsigned long long)mn.size, mn.has_vsize,
		    (unsigned long long)mn.vsize);
	}
	if ((int)mn.has_info != c->has_info || mn.flags != c->flags ||
	    mn.keywords != c->keywords) {
		fail_msg("%s: info %d flags %#x keywords %#x", desc,
		    mn.has_info, mn.flags, (unsigned)mn.keywords);
	}
	n = maildir_name_format(out, sizeof out, mn.base, mn.baselen,
	    mn.flags, mn.keywords);
	if (n != strlen(c->canon) || strcmp(out, c->canon) != 0) {
		fail_msg("%s: formatted '%s'", desc, out);
	}
	/* The canonical name parses to the same base, flags, keywords. */
	assert_int_equal(maildir_name_parse(out, n, &again), 0);
	assert_int_equal(again.baselen, mn.baselen);
	assert_memory_equal(again.base, mn.base, mn.baselen);
	assert_int_equal(again.flags, mn.flags);
	assert_int_equal(again.keywords, mn.keywords);
	assert_int_equal(again.has_info, 1);
	assert_true(again.size == mn.size && again.vsize == mn.vsize);
}

static void
test_name_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof name_cases / sizeof name_cases[0];
	    i++) {
		const struct name_case *c = &name_cases[i];
		char *s = dup_exact(c->in, c->len);

		check_name(c->desc, s, c->len, c);
		free(s);
	}
}

/* MBOX_NAME_MAX bytes pass; one more fails. */
static void
test_name_long(void **state)
{
	struct name_case ok = { "", NULL, 0, 0, NULL, 0, 0, 0, 0, 1, MF_SEEN,
	    0, NULL };
	struct maildir_name mn;
	char base[MBOX_NAME_MAX + 1], canon[MBOX_NAME_MAX + 4];
	size_t len;
	char *s;

	(void)state;
	s = build_long("", "b", MBOX_NAME_MAX - 4, ":2,S", &len);
	assert_int_equal(len, MBOX_NAME_MAX);
	memset(base, 'b', MBOX_NAME_MAX - 4);
	base[MBOX_NAME_MAX - 4] = '\0';
	memcpy(canon, s, len);
	canon[len] = '\0';
	ok.base = base;
	ok.canon = canon;
	check_name("MBOX_NAME_MAX bytes", s, len, &ok);
	free(s);

	s = build_long("", "b", LONG_NAME - 4, ":2,S", &len);
	assert_int_equal(maildir_name_parse(s, len, &mn), -1);
	free(s);
}

static void
test_name_format(void **state)
{
	char out[32];
	size_t need;

	(void)state;
	/* Unused bits (the MF_LETTER places of D F P R S T) write
	 * nothing; keyword bits above 'z' neither. */
	need = maildir_name_format(out, sizeof out, L("b"),
	    MF_LETTER('S') | MF_LETTER('D') | MF_SEEN, 0xffffffffu);
	assert_int_equal(need, strlen("b:2,Sabcdefghijklmnopqrstuvwxyz"));
	assert_string_equal(out, "b:2,Sabcdefghijklmnopqrstuvwxyz");
	/* Every letter, in ASCII order. */
	need = maildir_name_format(out, sizeof out, L(""), ~0u, 0);
	assert_string_equal(out, ":2,ABCDEFGHIJKLMNOPQRSTUVWXYZ");
	assert_int_equal(need, 29);
	/* Too small: the length needed, out untouched. */
	for (size_t cap = 0; cap <= 6; cap++) {
		memset(out, '#', sizeof out);
		need = maildir_name_format(out, cap, L("abc"), MF_SEEN, 0);
		assert_int_equal(need, 7);
		for (size_t i = 0; i < sizeof out; i++) {
			assert_int_equal(out[i], '#');
		}
	}
	need = maildir_name_format(out, 8, L("abc"), MF_SEEN, 0);
	assert_int_equal(need, 7);
	assert_string_equal(out, "abc:2,S");
}

/* ---------------------------------------------------------------- */
/* uidlist_parse_header / uidlist_format_header */

struct header_case {
	const char	*desc;
	const char	*in;
	size_t		 len;
	int		 rc;
	unsigned	 version;
	uint32_t	 uidvalidity;
	uint32_t	 next_uid;
	const char	*guid;
};

#define GUID	"a822d43540a8076bad6d000083ecc375"

static const struct header_case header_cases[] = {
	{ "Dovecot 2.3 header", L("3 V1795663936 N1 G" GUID), 0, 3,
	  1795663936u, 1, GUID },
	{ "fields in another order", L("3 G" GUID " N25022 V1275660208"), 0,
	  3, 1275660208u, 25022, GUID },
	{ "no GUID (Dovecot 1.1)", L("3 V1 N2"), 0, 3, 1, 2, "" },
	{ "unknown fields skipped", L("3 V5 X N6 Zfoo:bar"), 0, 3, 5, 6, "" },
	{ "upper-case GUID hex",
	  L("3 V5 N6 GA822D43540A8076BAD6D000083ECC375"),
	  0, 3, 5, 6, "A822D43540A8076BAD6D000083ECC375" },
	{ "repeated and trailing spaces", L("3  V5   N6  "), 0, 3, 5, 6, "" },
	{ "uidvalidity 2^32-1", L("3 V4294967295 N4294967295"), 0, 3,
	  UINT32_MAX, UINT32_MAX, "" },
	{ "leading zeros", L("3 V007 N08"), 0, 3, 7, 8, "" },
	{ "version 1 (Courier courierimapuiddb)", L("1 1275660208 25022"), 0,
	  1, 1275660208u, 25022, "" },
	{ "version 1, trailing space", L("1 5 6 "), 0, 1, 5, 6, "" },
	{ "empty line", L(""), -1, 0, 0, 0, NULL },
	{ "version alone", L("3"), -1, 0, 0, 0, NULL },
	{ "version 2 (Dovecot 1.0 betas)", L("2 5 6"), -1, 0, 0, 0, NULL },
	{ "version 4", L("4 V5 N6"), -1, 0, 0, 0, NULL },
	{ "version 0", L("0 V5 N6"), -1, 0, 0, 0, NULL },
	{ "two-digit version", L("13 V5 N6"), -1, 0, 0, 0, NULL },
	{ "not a version", L("x V5 N6"), -1, 0, 0, 0, NULL },
	{ "no space after version", L("3V5 N6"), -1, 0, 0, 0, NULL },
	{ "no V", L("3 N6 G" GUID), -1, 0, 0, 0, NULL },
	{ "no N", L("3 V5"), -1, 0, 0, 0, NULL },
	{ "uidvalidity 0", L("3 V0 N6"), -1, 0, 0, 0, NULL },
	{ "next uid 0", L("3 V5 N0"), -1, 0, 0, 0, NULL },
	{ "uidvalidity 2^32", L("3 V4294967296 N6"), -1, 0, 0, 0, NULL },
	{ "next uid 20 digits", L("3 V5 N99999999999999999999"), -1, 0, 0, 0,
	  NULL },
	{ "V empty", L("3 V N6"), -1, 0, 0, 0, NULL },
	{ "V negative", L("3 V-5 N6"), -1, 0, 0, 0, NULL },
	{ "V with sign", L("3 V+5 N6"), -1, 0, 0, 0, NULL },
	{ "V with junk", L("3 V5x N6"), -1, 0, 0, 0, NULL },
	{ "GUID too short", L("3 V5 N6 Gabc"), -1, 0, 0, 0, NULL },
	{ "GUID 33 digits", L("3 V5 N6 G" GUID "0"), -1, 0, 0, 0, NULL },
	{ "GUID not hex", L("3 V5 N6 Gz822d43540a8076bad6d000083ecc375"), -1,
	  0, 0, 0, NULL },
	{ "CRLF line end", L("3 V5 N6\r"), -1, 0, 0, 0, NULL },
	{ "NUL in the line", L("3 V5\0 N6"), -1, 0, 0, 0, NULL },
	{ "version 1, one number", L("1 5"), -1, 0, 0, 0, NULL },
	{ "version 1, three numbers", L("1 5 6 7"), -1, 0, 0, 0, NULL },
	{ "version 1, uidvalidity 0", L("1 0 6"), -1, 0, 0, 0, NULL },
	{ "version 1, keyed fields", L("1 V5 N6"), -1, 0, 0, 0, NULL },
	{ "version 1, CRLF", L("1 5 6\r"), -1, 0, 0, 0, NULL },
};

static void
test_header_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof header_cases / sizeof header_cases[0];
	    i++) {
		const struct header_case *c = &header_cases[i];
		struct uidlist_header h, again;
		char *s = dup_exact(c->in, c->len);
		char out[BUF_MAX];
		size_t n;
		int rc;

		rc = uidlist_parse_header(s, c->len, &h);
		if (rc != c->rc) {
			fail_msg("%s: rc %d", c->desc, rc);
		}
		free(s);
		if (rc == -1) {
			continue;
		}
		if (h.version != c->version ||
		    h.uidvalidity != c->uidvalidity ||
		    h.next_uid != c->next_uid ||
		    strcmp(h.guid, c->guid) != 0) {
			fail_msg("%s: %u V%u N%u G%s", c->desc, h.version,
			    h.uidvalidity, h.next_uid, h.guid);
		}
		/* Written back as version 3, the same values. */
		n = uidlist_format_header(out, sizeof out, &h);
		assert_int_equal(n, strlen(out));
		assert_int_equal(out[n - 1], '\n');
		assert_int_equal(uidlist_parse_header(out, n - 1, &again), 0);
		assert_int_equal(again.version, 3);
		assert_int_equal(again.uidvalidity, h.uidvalidity);
		assert_int_equal(again.next_uid, h.next_uid);
		assert_string_equal(again.guid, h.guid);
	}
}

static void
test_header_format(void **state)
{
	struct uidlist_header h = { 3, 1795663936u, 1, GUID };
	const char *want = "3 V1795663936 N1 G" GUID "\n";
	char out[BUF_MAX];
	size_t need;

	(void)state;
	need = uidlist_format_header(out, sizeof out, &h);
	assert_int_equal(need, strlen(want));
	assert_string_equal(out, want);
	for (size_t cap = 0; cap <= need; cap++) {
		memset(out, '#', sizeof out);
		assert_int_equal(uidlist_format_header(out, cap, &h), need);
		assert_int_equal(out[0], '#');
		assert_int_equal(out[need], '#');
	}
	memset(out, '#', sizeof out);
	assert_int_equal(uidlist_format_header(out, need + 1, &h), need);
	assert_int_equal(out[need], '\0');
	/* No GUID, version 1 in, version 3 out. */
	h.version = 1;
	h.guid[0] = '\0';
	h.uidvalidity = UINT32_MAX;
	h.next_uid = 10;
	need = uidlist_format_header(out, sizeof out, &h);
	assert_string_equal(out, "3 V4294967295 N10\n");
	assert_int_equal(need, 18);
}

/* ---------------------------------------------------------------- */
/* uidlist_parse_record / uidlist_record_ext / uidlist_format_record */

struct record_case {
	const char	*desc;
	unsigned	 version;
	const char	*in;
	size_t		 len;
	int		 rc;
	uint32_t	 uid;
	const char	*base;
	const char	*w;		/* W ext value, NULL if absent */
};

static const struct record_case record_cases[] = {
	{ "Dovecot 2.3 record", 3,
	  L("1 :1795663936.M903030P28077.vm,S=40,W=44"),
	  0, 1, "1795663936.M903030P28077.vm,S=40,W=44", NULL },
	{ "extension fields", 3, L("25 W1234 S1200 Gabcdef :b,S=1200"), 0, 25,
	  "b,S=1200", "1234" },
	{ "empty extension value", 3, L("7 W :b"), 0, 7, "b", "" },
	{ "extension with ':' inside", 3, L("7 W1:2 :b"), 0, 7, "b", "1:2" },
	{ "repeated spaces", 3, L("7   W5   :b"), 0, 7, "b", "5" },
	{ "uid 2^32-2", 3, L("4294967294 :b"), 0, 4294967294u, "b", NULL },
	{ "leading zeros in uid", 3, L("007 :b"), 0, 7, "b", NULL },
	{ "name with info is cut at ':'", 3, L("7 :b:2,S"), 0, 7, "b", NULL },
	{ "trailing space kept in the name", 3, L("7 :b "), 0, 7, "b ", NULL },
	{ "space inside the name", 3, L("7 :a b"), 0, 7, "a b", NULL },
	{ "bad extension key is skipped", 3, L("7 1x W3 :b"), 0, 7, "b", "3" },
	{ "version 1 record", 1, L("7 1035478339.27041_118.foo.org"), 0, 7,
	  "1035478339.27041_118.foo.org", NULL },
	{ "version 1 name with flags", 1, L("7 b,S=5:2,RS"), 0, 7, "b,S=5",
	  NULL },
	{ "version 1, repeated spaces", 1, L("7   b"), 0, 7, "b", NULL },
	{ "version 1, name starting with ':'", 1, L("7 :b"), -1, 0, NULL,
	  NULL },
	{ "empty line", 3, L(""), -1, 0, NULL, NULL },
	{ "uid alone", 3, L("7"), -1, 0, NULL, NULL },
	{ "uid and space", 3, L("7 "), -1, 0, NULL, NULL },
	{ "uid 0", 3, L("0 :b"), -1, 0, NULL, NULL },
	{ "uid 00", 3, L("00 :b"), -1, 0, NULL, NULL },
	{ "uid 2^32-1 (Dovecot's 'none yet')", 3, L("4294967295 :b"), -1, 0,
	  NULL, NULL },
	{ "uid 2^32", 3, L("4294967296 :b"), -1, 0, NULL, NULL },
	{ "uid 2^64+1 (wraps in Dovecot)", 3, L("18446744073709551617 :b"),
	  -1, 0, NULL, NULL },
	{ "negative uid", 3, L("-1 :b"), -1, 0, NULL, NULL },
	{ "no uid", 3, L(" :b"), -1, 0, NULL, NULL },
	{ "uid with junk", 3, L("7x :b"), -1, 0, NULL, NULL },
	{ "tab after uid", 3, L("7\t:b"), -1, 0, NULL, NULL },
	{ "missing ':'", 3, L("7 b"), -1, 0, NULL, NULL },
	{ "missing ':' after fields", 3, L("7 W5 S4"), -1, 0, NULL, NULL },
	{ "':' glued to a field", 3, L("7 W5:b"), -1, 0, NULL, NULL },
	{ "':' and no name", 3, L("7 :"), -1, 0, NULL, NULL },
	{ "name is only info", 3, L("7 ::2,S"), -1, 0, NULL, NULL },
	{ "name with '/'", 3, L("7 :../../etc/passwd"), -1, 0, NULL, NULL },
	{ "'/' in the cut-off info", 3, L("7 :b:2,/"), -1, 0, NULL, NULL },
	{ "version 1 name with '/'", 1, L("7 a/b"), -1, 0, NULL, NULL },
	{ "CRLF line end", 3, L("7 :b\r"), -1, 0, NULL, NULL },
	{ "version 1 CRLF", 1, L("7 b\r"), -1, 0, NULL, NULL },
	{ "NUL in the name", 3, L("7 :b\0c"), -1, 0, NULL, NULL },
	{ "LF in the line", 3, L("7 :b\n8 :c"), -1, 0, NULL, NULL },
	{ "version 2", 2, L("7 :b"), -1, 0, NULL, NULL },
	{ "version 0", 0, L("7 :b"), -1, 0, NULL, NULL },
};

static void
check_record(const char *desc, unsigned version, const char *s, size_t len,
    int want_rc, uint32_t want_uid, const char *want_base,
    const char *want_w)
{
	const char *base, *w;
	size_t baselen, wlen;
	uint32_t uid, again_uid;
	char out[BUF_MAX];
	size_t n;
	int rc;

	rc = uidlist_parse_record(s, len, version, &uid, &base, &baselen);
	if (rc != want_rc) {
		fail_msg("%s: rc %d", desc, rc);
	}
	if (rc == -1) {
		return;
	}
	if (uid != want_uid || baselen != strlen(want_base) ||
	    memcmp(base, want_base, baselen) != 0 || base < s ||
	    base + baselen > s + len) {
		fail_msg("%s: %u '%.*s'", desc, uid, (int)baselen, base);
	}
	if (version == 3) {
		rc = uidlist_record_ext(s, len, 'W', &w, &wlen);
		if (rc != (want_w != NULL) || (want_w != NULL &&
		    (wlen != strlen(want_w) ||
		    memcmp(w, want_w, wlen) != 0))) {
			fail_msg("%s: ext W rc %d", desc, rc);
		}
		assert_int_equal(uidlist_record_ext(s, len, 'Q', &w, &wlen),
		    0);
		assert_null(w);
	}
	/* Written back (version 3), the same uid and base. */
	n = uidlist_format_record(out, sizeof out, uid, base, baselen);
	assert_int_equal(n, strlen(out));
	assert_int_equal(out[n - 1], '\n');
	assert_int_equal(uidlist_parse_record(out, n - 1, 3, &again_uid,
	    &base, &baselen), 0);
	assert_int_equal(again_uid, uid);
	assert_int_equal(baselen, strlen(want_base));
	assert_memory_equal(base, want_base, baselen);
}

static void
test_record_parse(void **state)
{
	const char *v;
	size_t vlen;

	(void)state;
	for (size_t i = 0; i < sizeof record_cases / sizeof record_cases[0];
	    i++) {
		const struct record_case *c = &record_cases[i];
		char *s = dup_exact(c->in, c->len);

		check_record(c->desc, c->version, s, c->len, c->rc, c->uid,
		    c->base, c->w);
		free(s);
	}
	/* Other keys of one record; a malformed record has none. */
	assert_int_equal(uidlist_record_ext(L("25 W1234 S1200 GXY :b"), 'S',
	    &v, &vlen), 1);
	assert_int_equal(vlen, 4);
	assert_memory_equal(v, "1200", 4);
	assert_int_equal(uidlist_record_ext(L("25 W1234 S1200 GXY :b"), 'G',
	    &v, &vlen), 1);
	assert_int_equal(vlen, 2);
	assert_int_equal(uidlist_record_ext(L("25 W1 :Sb"), 'S', &v, &vlen),
	    0);
	assert_int_equal(uidlist_record_ext(L("0 W1 :b"), 'W', &v, &vlen),
	    -1);
	assert_null(v);
}

/* Names up to MBOX_NAME_MAX; lines up to UIDLIST_LINE_MAX. */
static void
test_record_long(void **state)
{
	const char *base;
	size_t len, baselen;
	uint32_t uid;
	char *s;

	(void)state;
	s = build_long("4294967294 :", "n", MBOX_NAME_MAX, "", &len);
	assert_int_equal(uidlist_parse_record(s, len, 3, &uid, &base,
	    &baselen), 0);
	assert_int_equal(baselen, MBOX_NAME_MAX);
	free(s);
	s = build_long("1 :", "n", MBOX_NAME_MAX + 1, "", &len);
	assert_int_equal(uidlist_parse_record(s, len, 3, &uid, &base,
	    &baselen), -1);
	free(s);
	/* Long extension fields fill a line up to UIDLIST_LINE_MAX. */
	s = build_long("1 X", "x", UIDLIST_LINE_MAX - 6, " :b", &len);
	assert_int_equal(len, UIDLIST_LINE_MAX);
	assert_int_equal(uidlist_parse_record(s, len, 3, &uid, &base,
	    &baselen), 0);
	free(s);
	s = build_long("1 X", "x", UIDLIST_LINE_MAX - 5, " :b", &len);
	assert_int_equal(uidlist_parse_record(s, len, 3, &uid, &base,
	    &baselen), -1);
	free(s);
	s = build_long("3 V1 N2 X", "x", UIDLIST_LINE_MAX - 9, "", &len);
	{
		struct uidlist_header h;

		assert_int_equal(uidlist_parse_header(s, len, &h), 0);
		free(s);
		s = build_long("3 V1 N2 X", "x", UIDLIST_LINE_MAX - 9, "x",
		    &len);
		assert_int_equal(uidlist_parse_header(s, len, &h), -1);
	}
	free(s);
}

static void
test_record_format(void **state)
{
	char out[64];
	size_t need;

	(void)state;
	need = uidlist_format_record(out, sizeof out, 4294967294u, L("b,S=5"));
	assert_string_equal(out, "4294967294 :b,S=5\n");
	assert_int_equal(need, 18);
	for (size_t cap = 0; cap <= need; cap++) {
		memset(out, '#', sizeof out);
		assert_int_equal(uidlist_format_record(out, cap, 4294967294u,
		    L("b,S=5")), need);
		assert_int_equal(out[0], '#');
	}
	need = uidlist_format_record(out, sizeof out, 1, L("b"));
	assert_string_equal(out, "1 :b\n");
}

/* ---------------------------------------------------------------- */
/* keywords_parse_line / keywords_format_line */

struct keyword_case {
	const char	*desc;
	const char	*in;
	size_t		 len;
	int		 rc;
	unsigned	 index;
	const char	*name;
};

static const struct keyword_case keyword_cases[] = {
	{ "Dovecot line", L("0 $Label1"), 0, 0, "$Label1" },
	{ "last letter", L("25 NonJunk"), 0, 25, "NonJunk" },
	{ "leading zero", L("07 Junk"), 0, 7, "Junk" },
	{ "UTF-8 name", L("3 caf\xc3\xa9"), 0, 3, "caf\xc3\xa9" },
	{ "one-byte name", L("1 x"), 0, 1, "x" },
	{ "index 26", L("26 x"), -1, 0, NULL },
	{ "index 2^32", L("4294967296 x"), -1, 0, NULL },
	{ "negative index", L("-1 x"), -1, 0, NULL },
	{ "no index", L(" x"), -1, 0, NULL },
	{ "index with junk", L("1x y"), -1, 0, NULL },
	{ "no space (old .customflags first line)", L("0"), -1, 0, NULL },
	{ "empty name", L("1 "), -1, 0, NULL },
	{ "two spaces", L("1  x"), -1, 0, NULL },
	{ "space in the name", L("1 a b"), -1, 0, NULL },
	{ "trailing space", L("1 a "), -1, 0, NULL },
	{ "tab separator", L("1\tx"), -1, 0, NULL },
	{ "CRLF line end", L("1 x\r"), -1, 0, NULL },
	{ "NUL in the name", L("1 x\0y"), -1, 0, NULL },
	{ "DEL in the name", L("1 x\x7f"), -1, 0, NULL },
	{ "empty line", L(""), -1, 0, NULL },
};

static void
test_keywords(void **state)
{
	const char *name;
	unsigned idx;
	size_t namelen, n;
	char out[64];

	(void)state;
	for (size_t i = 0;
	    i < sizeof keyword_cases / sizeof keyword_cases[0]; i++) {
		const struct keyword_case *c = &keyword_cases[i];
		char *s = dup_exact(c->in, c->len);
		int rc;

		rc = keywords_parse_line(s, c->len, &idx, &name, &namelen);
		if (rc != c->rc) {
			fail_msg("%s: rc %d", c->desc, rc);
		}
		if (rc == 0) {
			if (idx != c->index || namelen != strlen(c->name) ||
			    memcmp(name, c->name, namelen) != 0) {
				fail_msg("%s: %u '%.*s'", c->desc, idx,
				    (int)namelen, name);
			}
			n = keywords_format_line(out, sizeof out, idx, name,
			    namelen);
			assert_int_equal(n, strlen(out));
			assert_int_equal(keywords_parse_line(out, n - 1, &idx,
			    &name, &namelen), 0);
			assert_int_equal(idx, c->index);
			assert_memory_equal(name, c->name, namelen);
		}
		free(s);
	}
	n = keywords_format_line(out, sizeof out, 25, L("NonJunk"));
	assert_string_equal(out, "25 NonJunk\n");
	for (size_t cap = 0; cap <= n; cap++) {
		memset(out, '#', sizeof out);
		assert_int_equal(keywords_format_line(out, cap, 25,
		    L("NonJunk")), n);
		assert_int_equal(out[0], '#');
	}
}

/* ---------------------------------------------------------------- */
/* The Maildir made by the real Dovecot (test/data/maildir/regen.sh):
 * INBOX had five messages; doveadm set \Seen on uid 1, \Seen $Label1
 * Junk on 2, \Flagged \Answered \Draft on 3, NonJunk $Label1 on 4,
 * \Deleted on 5, expunged 5, and copied 2..4 to Archive (uids 1..3). */

struct want_msg {
	unsigned	 flags;
	const char	*kw[3];
};

static const struct want_msg inbox_want[] = {
	{ MF_SEEN, { NULL } },
	{ MF_SEEN, { "$Label1", "Junk", NULL } },
	{ MF_FLAGGED | MF_REPLIED | MF_DRAFT, { NULL } },
	{ 0, { "$Label1", "NonJunk", NULL } },
};

#define DIR_MAX		512
#define FILE_MAX	8192
#define MSGS_MAX	8

struct mbox {
	uint32_t	 uid[MSGS_MAX];
	char		 base[MSGS_MAX][MBOX_NAME_MAX + 1];
	size_t		 nrec;
	uint32_t	 last_uid;
	char		 kw[MAILDIR_KEYWORDS_MAX][64];
	size_t		 nfiles;
};

/* The whole file, NUL terminated; its length. */
static size_t
slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fail_msg("%s: cannot open", path);
	}
	n = fread(buf, 1, cap - 1, f);
	assert_true(n < cap - 1);
	buf[n] = '\0';
	fclose(f);
	return n;
}

static void
read_uidlist(const char *dir, struct mbox *mb)
{
	char path[DIR_MAX], buf[FILE_MAX];
	struct uidlist_header h;
	const char *p, *nl, *base;
	size_t len, baselen;
	uint32_t uid;

	snprintf(path, sizeof path, "%s/dovecot-uidlist", dir);
	len = slurp(path, buf, sizeof buf);
	nl = memchr(buf, '\n', len);
	assert_non_null(nl);
	assert_int_equal(uidlist_parse_header(buf, (size_t)(nl - buf), &h),
	    0);
	assert_int_equal(h.version, 3);
	assert_true(h.uidvalidity > 0);
	assert_int_equal(strlen(h.guid), 32);
	mb->last_uid = 0;
	for (p = nl + 1; p < buf + len; p = nl + 1) {
		char *line;

		nl = memchr(p, '\n', (size_t)(buf + len - p));
		assert_non_null(nl);
		line = dup_exact(p, (size_t)(nl - p));
		assert_int_equal(uidlist_parse_record(line, (size_t)(nl - p),
		    h.version, &uid, &base, &baselen), 0);
		assert_true(uid > mb->last_uid);
		assert_true(mb->nrec < MSGS_MAX);
		mb->uid[mb->nrec] = uid;
		memcpy(mb->base[mb->nrec], base, baselen);
		mb->base[mb->nrec][baselen] = '\0';
		mb->nrec++;
		mb->last_uid = uid;
		free(line);
	}
	/* Dovecot appends records without rewriting the header: its
	 * next_uid may trail the records. */
	assert_true(h.next_uid <= mb->last_uid + 1);
}

static void
read_keywords(const char *dir, struct mbox *mb)
{
	char path[DIR_MAX], buf[FILE_MAX];
	const char *p, *nl, *name;
	size_t len, namelen;
	unsigned idx;

	snprintf(path, sizeof path, "%s/dovecot-keywords", dir);
	len = slurp(path, buf, sizeof buf);
	for (p = buf; p < buf + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(buf + len - p));
		assert_non_null(nl);
		assert_int_equal(keywords_parse_line(p, (size_t)(nl - p),
		    &idx, &name, &namelen), 0);
		assert_true(namelen < sizeof mb->kw[0]);
		memcpy(mb->kw[idx], name, namelen);
		mb->kw[idx][namelen] = '\0';
	}
}

/* Every file of dir/sub matches a record; its flags and keyword names
 * are those doveadm set on that record's uid (first_uid is the INBOX
 * uid of the mailbox's uid 1). */
static void
read_files(const char *dir, const char *sub, struct mbox *mb,
    uint32_t first_uid)
{
	char path[DIR_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	snprintf(path, sizeof path, "%s/%s", dir, sub);
	/* git keeps no empty folder: a missing new/ or cur/ is empty. */
	if ((d = opendir(path)) == NULL) {
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct maildir_name mn;
		const struct want_msg *w;
		char fpath[DIR_MAX + sizeof de->d_name + 1];
		char canon[MBOX_NAME_MAX + 1];
		size_t i, len = strlen(de->d_name), n;
		uint32_t kw = 0;

		if (maildir_name_parse(de->d_name, len, &mn) == -1) {
			assert_int_equal(de->d_name[0], '.');
			continue;
		}
		for (i = 0; i < mb->nrec; i++) {
			if (strlen(mb->base[i]) == mn.baselen &&
			    memcmp(mb->base[i], mn.base, mn.baselen) == 0) {
				break;
			}
		}
		if (i == mb->nrec) {
			fail_msg("%s/%s: not in dovecot-uidlist", path,
			    de->d_name);
		}
		mb->nfiles++;
		assert_true(mb->uid[i] + first_uid - 2 <
		    sizeof inbox_want / sizeof inbox_want[0]);
		w = &inbox_want[mb->uid[i] + first_uid - 2];
		assert_int_equal(mn.has_info, 1);
		assert_int_equal(mn.flags, w->flags);
		for (const char *const *k = w->kw; *k != NULL; k++) {
			int found = 0;

			for (int j = 0; j < MAILDIR_KEYWORDS_MAX; j++) {
				if (strcmp(mb->kw[j], *k) == 0) {
					kw |= (uint32_t)1 << j;
					found = 1;
				}
			}
			assert_true(found);
		}
		assert_int_equal(mn.keywords, kw);
		/* S= is the stored size; W= adds one CR per LF. */
		snprintf(fpath, sizeof fpath, "%s/%s", path, de->d_name);
		assert_int_equal(stat(fpath, &st), 0);
		assert_int_equal(mn.has_size, 1);
		assert_int_equal(mn.has_vsize, 1);
		assert_int_equal(mn.size, (uint64_t)st.st_size);
		assert_true(mn.vsize > mn.size);
		/* We would give the file the very name Dovecot gave it. */
		n = maildir_name_format(canon, sizeof canon, mn.base,
		    mn.baselen, mn.flags, mn.keywords);
		assert_int_equal(n, len);
		assert_string_equal(canon, de->d_name);
	}
	closedir(d);
}

static void
test_dovecot_maildir(void **state)
{
	const char *data = getenv("WREN_TEST_DATA");
	char dir[DIR_MAX];
	static struct mbox inbox, archive;

	(void)state;
	if (data == NULL) {
		data = "test/data";
	}
	snprintf(dir, sizeof dir, "%s/maildir/Maildir", data);
	read_uidlist(dir, &inbox);
	read_keywords(dir, &inbox);
	assert_int_equal(inbox.nrec, 5);	/* 5 expunged, still listed */
	read_files(dir, "new", &inbox, 1);
	read_files(dir, "cur", &inbox, 1);
	assert_int_equal(inbox.nfiles, 4);

	snprintf(dir, sizeof dir, "%s/maildir/Maildir/.Archive", data);
	read_uidlist(dir, &archive);
	read_keywords(dir, &archive);
	assert_int_equal(archive.nrec, 3);
	read_files(dir, "new", &archive, 2);
	read_files(dir, "cur", &archive, 2);
	assert_int_equal(archive.nfiles, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_parse),
		cmocka_unit_test(test_name_long),
		cmocka_unit_test(test_name_format),
		cmocka_unit_test(test_header_parse),
		cmocka_unit_test(test_header_format),
		cmocka_unit_test(test_record_parse),
		cmocka_unit_test(test_record_long),
		cmocka_unit_test(test_record_format),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_dovecot_maildir),
	};

	return cmocka_run_group_tests_name("uidlist", tests, NULL, NULL);
}
