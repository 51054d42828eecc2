/* SPDX-License-Identifier: ISC */
/*
 * test_map_text.c - the table source parsers (map/map_text.h): users
 * (Dovecot passwd-file), aliases (/etc/aliases), virtual (Postfix
 * virtual(5)), senders (smtpd_sender_login_maps) and relay_passwords,
 * plus map_user_decode and map_type_parse.
 *
 * One table per format. Each row is a source text with a one-line
 * description, the records it must give (line, lower-case key, and the
 * value with its fields NUL-separated, as stored in the .cdb), and then
 * either the end of the source or the exact `NAME:LINE: message` that
 * `wren map` prints. After an error, map_text_next must keep failing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "map/map_text.h"
#include "testutil.h"

#define NAME		"t"
#define REC_MAX		4

/* Real crypt(3) strings of "secret" (openssl passwd -6 / -5). */
#define H6_HASH		"TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0a" \
			"Dehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"
#define H6		"$6$saltsalt$" H6_HASH
#define H6_ROUNDS	"$6$rounds=5000$saltsalt$" H6_HASH
#define H6_R10000	"$6$rounds=10000$saltsalt$WowrPBpEDVlCoruBosYlrZycT" \
			"Cx3//TyDHYqEhX9DUHHt0XTztUqzQDDUuvUGRA8aUe9p55hcAx" \
			"eGcu58sm3u."
#define H5_HASH		"0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA"
#define H5		"$5$saltsalt$" H5_HASH
#define H5_ROUNDS	"$5$rounds=5000$saltsalt$" H5_HASH
#define H5_SALT16	"$5$abcdefghijklmnop$i7zHaTeYqXlesRXJ8dXj6o.MEFQdzf" \
			"IJpJpcWAtszs6"
/* md5-crypt, which wren does not accept. */
#define H1		"$1$saltsalt$9xy1btjgzLYfb7hivXtC//"

/* The users messages. */
#define M_SCHEME	"unsupported password scheme (use PLAIN, " \
			"SHA512-CRYPT, SHA256-CRYPT or CRYPT)"
#define M_CRYPT		"CRYPT: only $5$ (SHA-256) and $6$ (SHA-512) " \
			"hashes are supported"
#define M_NEED6		"SHA512-CRYPT needs a $6$ hash"
#define M_NEED5		"SHA256-CRYPT needs a $5$ hash"
#define M_FIELDS	"expected name:password[:uid:gid:gecos:home:...]"
#define M_USER		"bad user name (a name or a full address)"
#define M_ROUNDS	"rounds= above 100000 (each login would stall " \
			"the server; make a new hash with `wren passwd`)"

/* The list messages. */
#define M_CMD		"delivery to a command ('|...') is not supported"
#define M_FILE		"delivery to a file ('/...') is not supported"
#define M_INCLUDE	"':include:' is not supported"
#define M_ALIAS_SYNTAX	"expected 'name: target, ...'"
#define M_ALIAS_NAME	"bad alias name (a local name, no domain)"
#define M_VKEY		"bad key (user@domain or @domain)"
#define M_VKEY_DOMAIN	"bad key (user@domain or @domain; for a " \
			"Postfix 'domain anything' line, list the " \
			"domain in `domains`)"
#define M_SKEY		"bad key (user@domain, a local part or @domain)"
#define M_TARGET	"bad target address"
#define M_OWNER		"bad owner (a login name or address)"
#define M_NO_TARGET	"no target after the key"
#define M_NO_OWNER	"no owner after the key"
#define M_TOO_MANY	"too many targets for one key"

/* The relay_passwords messages. */
#define M_RELAY		"expected '[host]:port user:password'"
#define M_RELAY_HOST	"bad host (expected [host]:port)"
#define M_RELAY_USER	"expected user:password after the host"

#define M_NUL		"NUL byte in line"
#define M_LONG		"line too long"

/* One expected record; the value is a literal with embedded NULs. */
struct rec_want {
	unsigned	 line;
	const char	*key;
	const char	*val;
	size_t		 vlen;
};

#define R(l, k, v)	{ (l), (k), (v), sizeof(v) - 1 }
#define NOREC		{ { 0, NULL, NULL, 0 } }
#define OK		NULL

struct map_case {
	const char		*desc;
	struct text		 in;
	const char		*err;	/* after the records, or OK */
	struct rec_want		 rec[REC_MAX];
};

static struct map_text	 mt;	/* 33 KB: kept off the stack */
static struct map_rec	 mr;

/* A value for a message: NULs shown as \0, cut to fit. */
static const char *
show(const char *v, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 3 < cap; i++) {
		if (v[i] == '\0') {
			out[n++] = '\\';
			out[n++] = '0';
		} else {
			out[n++] = v[i];
		}
	}
	out[n] = '\0';
	return out;
}

static size_t
count_fields(const char *v, size_t len)
{
	size_t n = 1;

	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\0') {
			n++;
		}
	}
	return n;
}

static void
check_record(enum map_type type, const struct map_case *c, size_t k)
{
	const struct rec_want *w = &c->rec[k];
	char got[160], want[160];
	struct map_user u;

	if (mr.line != w->line) {
		fail_msg("%s: record %zu: line %u, want %u", c->desc, k + 1,
		    mr.line, w->line);
	}
	if (mr.klen != strlen(w->key) || strcmp(mr.key, w->key) != 0) {
		fail_msg("%s: record %zu: key '%s', want '%s'", c->desc,
		    k + 1, mr.key, w->key);
	}
	if (mr.vlen != w->vlen || memcmp(mr.val, w->val, w->vlen) != 0) {
		fail_msg("%s: record %zu: value '%s', want '%s'", c->desc,
		    k + 1, show(mr.val, mr.vlen, got, sizeof got),
		    show(w->val, w->vlen, want, sizeof want));
	}
	if (mr.nfields != count_fields(w->val, w->vlen)) {
		fail_msg("%s: record %zu: %zu fields, want %zu", c->desc,
		    k + 1, mr.nfields, count_fields(w->val, w->vlen));
	}
	/* What the parser stores, the server must be able to read. */
	if (type == MAP_USERS && map_user_decode(mr.val, mr.vlen, &u) != 0) {
		fail_msg("%s: record %zu: map_user_decode failed", c->desc,
		    k + 1);
	}
}

static void
run_case(enum map_type type, const struct map_case *c)
{
	struct err e;
	size_t len, k;
	char *src;
	int rc;

	src = build(&c->in, &len);
	map_text_init(&mt, type, NAME, src, len);
	for (k = 0; k < REC_MAX && c->rec[k].key != NULL; k++) {
		memset(&e, 0, sizeof e);
		rc = map_text_next(&mt, &mr, &e);
		if (rc != 1) {
			fail_msg("%s: record %zu: got %s", c->desc, k + 1,
			    rc == 0 ? "the end" : e.msg);
		}
		check_record(type, c, k);
	}
	memset(&e, 0, sizeof e);
	rc = map_text_next(&mt, &mr, &e);
	if (c->err == NULL) {
		if (rc != 0) {
			fail_msg("%s: after %zu records: got %s", c->desc, k,
			    rc == 1 ? "one more record" : e.msg);
		}
		/* The end stays the end. */
		assert_int_equal(map_text_next(&mt, &mr, &e), 0);
	} else {
		if (rc != -1) {
			fail_msg("%s: accepted (rc %d, key '%s')", c->desc, rc,
			    rc == 1 ? mr.key : "");
		}
		if (strcmp(e.msg, c->err) != 0) {
			fail_msg("%s:\n  got  \"%s\"\n  want \"%s\"", c->desc,
			    e.msg, c->err);
		}
		/* Sticky: no record after an error. */
		for (int i = 0; i < 2; i++) {
			memset(&e, 0, sizeof e);
			if (map_text_next(&mt, &mr, &e) != -1) {
				fail_msg("%s: error not sticky", c->desc);
			}
			assert_string_equal(e.msg, NAME ": earlier error");
		}
	}
	free(src);
}

#define RUN(type, cases) do {					\
	for (size_t i_ = 0; i_ < sizeof(cases) / sizeof(cases[0]);	\
	    i_++) {							\
		run_case((type), &(cases)[i_]);			\
	}							\
} while (0)

/* ---------------------------------------------------------------- */
/* users: name:{SCHEME}secret:uid:gid:gecos:home:shell:extra */

static const struct map_case users_cases[] = {
	{ "PLAIN, bare name, no other fields",
	  T("sammy:{PLAIN}secret\n"), OK,
	  { R(1, "sammy", "PLAIN\0secret\0") } },
	{ "full address, uid/gid (ignored), home",
	  T("alice@example.com:{PLAIN}pw:1000:1000::/home/alice\n"), OK,
	  { R(1, "alice@example.com", "PLAIN\0pw\0/home/alice") } },
	{ "SHA512-CRYPT with a real $6$ hash",
	  T("bob:{SHA512-CRYPT}" H6 "\n"), OK,
	  { R(1, "bob", "SHA512-CRYPT\0" H6 "\0") } },
	{ "SHA256-CRYPT with a real $5$ hash and a home",
	  T("carol:{SHA256-CRYPT}" H5 "::::/home/carol\n"), OK,
	  { R(1, "carol", "SHA256-CRYPT\0" H5 "\0/home/carol") } },
	{ "{CRYPT} with $6$ and with $5$",
	  T("a:{CRYPT}" H6 "\nb:{CRYPT}" H5 "\n"), OK,
	  { R(1, "a", "CRYPT\0" H6 "\0"), R(2, "b", "CRYPT\0" H5 "\0") } },
	{ "no scheme prefix means CRYPT ($6$, then $5$)",
	  T("a:" H6 "\nb:" H5 "\n"), OK,
	  { R(1, "a", "CRYPT\0" H6 "\0"), R(2, "b", "CRYPT\0" H5 "\0") } },
	{ "rounds=5000$ in $6$ and $5$, rounds=10000$ with a scheme",
	  T("a:" H6_ROUNDS "\nb:" H5_ROUNDS "\n"
	    "c:{SHA512-CRYPT}" H6_R10000 "\n"), OK,
	  { R(1, "a", "CRYPT\0" H6_ROUNDS "\0"),
	    R(2, "b", "CRYPT\0" H5_ROUNDS "\0"),
	    R(3, "c", "SHA512-CRYPT\0" H6_R10000 "\0") } },
	{ "salt of 16 characters, the most crypt(3) uses",
	  T("a:{SHA256-CRYPT}" H5_SALT16 "\n"), OK,
	  { R(1, "a", "SHA256-CRYPT\0" H5_SALT16 "\0") } },
	{ "lower-case scheme names, stored in upper case",
	  T("a:{plain}x\nb:{sha512-crypt}" H6 "\nc:{Sha256-Crypt}" H5 "\n"
	    "d:{crypt}" H5 "\n"), OK,
	  { R(1, "a", "PLAIN\0x\0"), R(2, "b", "SHA512-CRYPT\0" H6 "\0"),
	    R(3, "c", "SHA256-CRYPT\0" H5 "\0"), R(4, "d", "CRYPT\0" H5
	    "\0") } },
	{ "Dovecot extra fields after home (colons in them) are ignored",
	  T("dave:{PLAIN}x:1000:1000:Dave D:/home/dave:/bin/false:"
	    "userdb_mail=maildir:~/Maildir userdb_quota_rule=*:storage=1G\n"),
	  OK, { R(1, "dave", "PLAIN\0x\0/home/dave") } },
	{ "empty trailing fields may be given or omitted",
	  T("a:{PLAIN}x:::::\nb:{PLAIN}y::\nc:{PLAIN}z::::/c::\n"), OK,
	  { R(1, "a", "PLAIN\0x\0"), R(2, "b", "PLAIN\0y\0"),
	    R(3, "c", "PLAIN\0z\0/c") } },
	{ "comments, blank lines, CRLF and trailing white space",
	  T("# users\r\n\r\nsammy:{PLAIN}one \t\r\n  # indented\r\n"
	    "\r\nbob:{PLAIN}two\r\n"), OK,
	  { R(3, "sammy", "PLAIN\0one\0"), R(6, "bob", "PLAIN\0two\0") } },
	{ "name folded to lower case, password keeps its case",
	  T("Alice@Example.COM:{PLAIN}PassWord\n"), OK,
	  { R(1, "alice@example.com", "PLAIN\0PassWord\0") } },
	{ "UTF-8 address as the name",
	  T("Jörg@exämple.de:{PLAIN}geheim\n"), OK,
	  { R(1, "jörg@exämple.de", "PLAIN\0geheim\0") } },
	{ "no continuation lines: an indented line is a record",
	  T("a:{PLAIN}x\n  b:{PLAIN}y\n"), OK,
	  { R(1, "a", "PLAIN\0x\0"), R(2, "b", "PLAIN\0y\0") } },
	{ "PLAIN password with spaces, braces, '#' and '@'",
	  T("a:{PLAIN}{p@ss w0rd}#!\n"), OK,
	  { R(1, "a", "PLAIN\0{p@ss w0rd}#!\0") } },
	{ "no newline at the end of the file",
	  T("a:{PLAIN}x"), OK, { R(1, "a", "PLAIN\0x\0") } },
	{ "empty file", T(""), OK, NOREC },
	{ "only comments and blank lines", T("# a\n\n   \n\t# b\n"), OK,
	  NOREC },

	{ "unknown scheme MD5-CRYPT",
	  T("a:{MD5-CRYPT}" H1 "\n"), "t:1: " M_SCHEME, NOREC },
	{ "unknown scheme SSHA",
	  T("a:{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"), "t:1: " M_SCHEME,
	  NOREC },
	{ "unknown scheme BLF-CRYPT",
	  T("a:{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuu\n"), "t:1: " M_SCHEME,
	  NOREC },
	{ "empty scheme name {}", T("a:{}x\n"), "t:1: " M_SCHEME, NOREC },
	{ "unterminated {SCHEME", T("a:{PLAINsecret\n"),
	  "t:1: unterminated {SCHEME}", NOREC },
	{ "$1$ md5-crypt hash without a prefix (CRYPT)",
	  T("a:" H1 "\n"), "t:1: " M_CRYPT, NOREC },
	{ "plain text without a prefix is not a crypt hash",
	  T("a:secret\n"), "t:1: " M_CRYPT, NOREC },
	{ "{CRYPT} with a $1$ hash", T("a:{CRYPT}" H1 "\n"), "t:1: " M_CRYPT,
	  NOREC },
	{ "SHA512-CRYPT with a $5$ hash",
	  T("a:{SHA512-CRYPT}" H5 "\n"), "t:1: " M_NEED6, NOREC },
	{ "SHA256-CRYPT with a $6$ hash",
	  T("a:{SHA256-CRYPT}" H6 "\n"), "t:1: " M_NEED5, NOREC },
	{ "truncated $6$ hash",
	  T("a:{SHA512-CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRs\n"),
	  "t:1: " M_NEED6, NOREC },
	{ "truncated $5$ hash by one character, no prefix",
	  T("a:$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5s\n"),
	  "t:1: " M_CRYPT, NOREC },
	{ "$5$ hash with a character outside the crypt alphabet",
	  T("a:$5$saltsalt$0IyaXrmV7*sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA\n"),
	  "t:1: " M_CRYPT, NOREC },
	{ "salt of 17 characters",
	  T("a:$6$abcdefghijklmnopq$" H6_HASH "\n"), "t:1: " M_CRYPT, NOREC },
	{ "rounds= not followed by $",
	  T("a:$5$rounds=5000\n"), "t:1: " M_CRYPT, NOREC },
	{ "empty password field", T("a::1000:1000::/home/a\n"),
	  "t:1: empty password field", NOREC },
	{ "name and colon only", T("a:\n"), "t:1: empty password field",
	  NOREC },
	{ "empty password after {PLAIN}", T("a:{PLAIN}\n"),
	  "t:1: empty password after the scheme", NOREC },
	{ "missing colon", T("sammy\n"), "t:1: " M_FIELDS, NOREC },
	{ "a space in the user name", T("sam my:{PLAIN}x\n"),
	  "t:1: " M_USER, NOREC },
	{ "empty user name", T(":{PLAIN}x\n"), "t:1: " M_USER, NOREC },
	{ "@domain as the user name", T("@example.com:{PLAIN}x\n"),
	  "t:1: " M_USER, NOREC },
	{ "user name with a bad domain", T("a@-example.com:{PLAIN}x\n"),
	  "t:1: " M_USER, NOREC },
	{ "rounds=100000, the most a hash may ask for",
	  T("a:$6$rounds=100000$saltsalt$" H6_HASH "\n"), OK,
	  { R(1, "a", "CRYPT\0$6$rounds=100000$saltsalt$" H6_HASH "\0") } },
	{ "dots inside a name and an address",
	  T("first.last:{PLAIN}x\nf.l@example.com:{PLAIN}y\n"), OK,
	  { R(1, "first.last", "PLAIN\0x\0"),
	    R(2, "f.l@example.com", "PLAIN\0y\0") } },
	{ "$6$ with rounds=100001",
	  T("a:$6$rounds=100001$saltsalt$" H6_HASH "\n"), "t:1: " M_ROUNDS,
	  NOREC },
	{ "SHA256-CRYPT with rounds=999999999, on line 2",
	  T("b:{PLAIN}x\na:{SHA256-CRYPT}$5$rounds=999999999$saltsalt$"
	    H5_HASH "\n"), "t:2: " M_ROUNDS, { R(1, "b", "PLAIN\0x\0") } },
	{ "rounds= with 30 digits",
	  T("a:$5$rounds=100000000000000000000000000000$s$" H5_HASH "\n"),
	  "t:1: " M_ROUNDS, NOREC },
	{ "user name ../x", T("../x:{PLAIN}x\n"), "t:1: " M_USER, NOREC },
	{ "user name a/b", T("a/b:{PLAIN}x\n"), "t:1: " M_USER, NOREC },
	{ "user name ..", T("..:{PLAIN}x\n"), "t:1: " M_USER, NOREC },
	{ "user name .", T(".:{PLAIN}x\n"), "t:1: " M_USER, NOREC },
	{ "user name with a leading dot", T(".a:{PLAIN}x\n"),
	  "t:1: " M_USER, NOREC },
	{ "user name with a trailing dot", T("a.:{PLAIN}x\n"),
	  "t:1: " M_USER, NOREC },
	{ "address with a doubled dot", T("a..b@example.com:{PLAIN}x\n"),
	  "t:1: " M_USER, NOREC },
	{ "address with '/' in the local part",
	  T("a/../b@example.com:{PLAIN}x\n"), "t:1: " M_USER, NOREC },
	{ "address with the domain ..", T("a@..:{PLAIN}x\n"),
	  "t:1: " M_USER, NOREC },
	{ "a control character in the name", T("a\001b:{PLAIN}x\n"),
	  "t:1: " M_USER, NOREC },
	{ "DEL in the name", T("a\177b:{PLAIN}x\n"), "t:1: " M_USER,
	  NOREC },
	{ "escape sequence in the name", T("a\033[2Jb:{PLAIN}x\n"),
	  "t:1: " M_USER, NOREC },
	{ "quoted user name", T("\"a.b\"@example.com:{PLAIN}x\n"),
	  "t:1: " M_USER, NOREC },
	{ "quoted user name with '@' but no domain",
	  T("\"a@b\":{PLAIN}x\n"), "t:1: " M_USER, NOREC },
	{ "relative home", T("a:{PLAIN}x:1:1::home/a\n"),
	  "t:1: home must be an absolute path", NOREC },
	{ "error on line 3: the records before it are returned",
	  T("a:{PLAIN}x\n# c\nb:{SSHA}y\nc:{PLAIN}z\n"), "t:3: " M_SCHEME,
	  { R(1, "a", "PLAIN\0x\0") } },
	{ "a NUL byte in the password",
	  TF("a:{PLAIN}x", "", 1, "y\n"), "t:1: " M_NUL, NOREC },
	{ "a NUL byte in a comment on line 2",
	  TF("a:{PLAIN}x\n# ", "", 1, "\n"), "t:2: " M_NUL,
	  { R(1, "a", "PLAIN\0x\0") } },
	{ "a line of MAP_LINE_MAX characters",
	  TF("a:{PLAIN}", "x", MAP_LINE_MAX - 9, "\n"), "t:1: " M_LONG,
	  NOREC },
	{ "a password longer than a value",
	  TF("a:{PLAIN}", "x", MAP_VAL_MAX, "\n"), "t:1: record too long",
	  NOREC },
};

static void
test_users(void **state)
{
	(void)state;
	RUN(MAP_USERS, users_cases);
}

/* ---------------------------------------------------------------- */
/* aliases: name: target, target ... */

static const struct map_case aliases_cases[] = {
	{ "one target", T("postmaster: root\n"), OK,
	  { R(1, "postmaster", "root") } },
	{ "comma separated targets, with and without spaces",
	  T("staff: alice, bob,carol ,dave\n"), OK,
	  { R(1, "staff", "alice\0bob\0carol\0dave") } },
	{ "white space separated targets, no commas",
	  T("staff: alice bob\tcarol\n"), OK,
	  { R(1, "staff", "alice\0bob\0carol") } },
	{ "colon glued to the target, space before the colon",
	  T("abuse:root\nsecurity :root\n"), OK,
	  { R(1, "abuse", "root"), R(2, "security", "root") } },
	{ "continuation lines with an indented comment inside",
	  T("# aliases\n\nteam: alice,\n  bob\n  # not a target\n"
	    "\tcarol@example.org\nroot: sammy\n"), OK,
	  { R(3, "team", "alice\0bob\0carol@example.org"),
	    R(7, "root", "sammy") } },
	{ "CRLF file with trailing white space and comments",
	  T("# x\r\npostmaster: root \r\nabuse: root,\t\r\n  sammy\r\n"),
	  OK, { R(2, "postmaster", "root"), R(3, "abuse", "root\0sammy") } },
	{ "key folded to lower case, targets keep their case",
	  T("PostMaster: Root, Alice@Example.COM\n"), OK,
	  { R(1, "postmaster", "Root\0Alice@Example.COM") } },
	{ "quoted key with a space",
	  T("\"Foo Bar\": baz\n"), OK, { R(1, "\"foo bar\"", "baz") } },
	{ "quoted targets with a comma and a space",
	  T("jd: \"john, doe\"@example.com,\"Jane Doe\"@example.com\n"), OK,
	  { R(1, "jd", "\"john, doe\"@example.com\0"
	    "\"Jane Doe\"@example.com") } },
	{ "UTF-8 key and target",
	  T("Jörg: jörg@exämple.de\n"), OK,
	  { R(1, "jörg", "jörg@exämple.de") } },
	{ "plus tags and dots kept in targets",
	  T("x: first.last+tag@example.com, a.b\n"), OK,
	  { R(1, "x", "first.last+tag@example.com\0a.b") } },
	{ "empty targets between commas are skipped",
	  T("a: b,, ,c,\n"), OK, { R(1, "a", "b\0c") } },
	{ "blank and column-0 comment lines inside a record",
	  T("a: b\n\n# c\n  d\ne: f\n"), OK,
	  { R(1, "a", "b\0d"), R(5, "e", "f") } },
	{ "the same with CRLF line ends",
	  T("a: b\r\n\r\n# c\r\n  d\r\ne: f\r\n"), OK,
	  { R(1, "a", "b\0d"), R(5, "e", "f") } },
	{ "a line of MAP_LINE_MAX - 1 characters",
	  TF("a: b", " ", MAP_LINE_MAX - 6, "c\n"), OK,
	  { R(1, "a", "b\0c") } },
	{ "no newline at the end, comments only before it",
	  T("# a\n#b\nx: y"), OK, { R(3, "x", "y") } },

	{ "|command", T("a: |/usr/bin/procmail\n"), "t:1: " M_CMD, NOREC },
	{ "\"|command\" quoted",
	  T("a: root, \"|/usr/bin/vacation a\"\n"), "t:1: " M_CMD, NOREC },
	{ "/file", T("a: /var/mail/a\n"), "t:1: " M_FILE, NOREC },
	{ "\"/file\" quoted", T("a: \"/var/log/a\"\n"), "t:1: " M_FILE,
	  NOREC },
	{ ":include:", T("list: :include:/etc/mail/list\n"),
	  "t:1: " M_INCLUDE, NOREC },
	{ ":INCLUDE: in upper case, in a continuation",
	  T("list: root,\n  :INCLUDE:/x\n"), "t:1: " M_INCLUDE, NOREC },
	{ "missing colon (virtual syntax)", T("postmaster root\n"),
	  "t:1: " M_ALIAS_SYNTAX, NOREC },
	{ "unterminated quoted key", T("\"foo: bar\n"),
	  "t:1: " M_ALIAS_SYNTAX, NOREC },
	{ "alias name with a domain", T("a@example.com: b\n"),
	  "t:1: " M_ALIAS_NAME, NOREC },
	{ "empty alias name", T(": b\n"), "t:1: " M_ALIAS_NAME, NOREC },
	{ "alias name with a space", T("foo bar: baz\n"),
	  "t:1: " M_ALIAS_NAME, NOREC },
	{ "quoted alias name with junk after the quote",
	  T("\"foo\"bar: baz\n"), "t:1: " M_ALIAS_NAME, NOREC },
	{ "no targets", T("a:\n"), "t:1: " M_NO_TARGET, NOREC },
	{ "only commas as targets", T("a: , ,\n"), "t:1: " M_NO_TARGET,
	  NOREC },
	{ "target with an empty domain", T("a: b@\n"), "t:1: " M_TARGET,
	  NOREC },
	{ "target in angle brackets", T("a: <b@example.com>\n"),
	  "t:1: " M_TARGET, NOREC },
	{ "bad target in a continuation: the record's first line",
	  T("x: y\na: b,\n  c@@d\n"), "t:2: " M_TARGET,
	  { R(1, "x", "y") } },
	{ "a NUL byte in a continuation line",
	  TF("a: b\n c", "", 1, "\n"), "t:2: " M_NUL, NOREC },
	{ "a line of MAP_LINE_MAX characters",
	  TF("a: b", " ", MAP_LINE_MAX - 5, "c\n"), "t:1: " M_LONG,
	  NOREC },
	{ "more targets than a value holds",
	  TF("a: ", "b,", MAP_VAL_MAX / 2 + 1, "\n"), "t:1: " M_TOO_MANY,
	  NOREC },
};

static void
test_aliases(void **state)
{
	(void)state;
	RUN(MAP_ALIASES, aliases_cases);
}

/* ---------------------------------------------------------------- */
/* virtual: user@domain|@domain  target target ... */

static const struct map_case virtual_cases[] = {
	{ "a blank line does not end a record", T("a@x.org b\n\n  c\n"),
	  OK, { R(1, "a@x.org", "b\0c") } },
	{ "key domain with two trailing dots", T("a@example.com.. b\n"),
	  "t:1: " M_VKEY, NOREC },
	{ "address to a local name",
	  T("alice@example.com alice\n"), OK,
	  { R(1, "alice@example.com", "alice") } },
	{ "catch-all @domain", T("@example.com postmaster\n"), OK,
	  { R(1, "@example.com", "postmaster") } },
	{ "targets separated by commas and/or white space",
	  T("team@example.com alice, bob carol,dave@example.org\n"), OK,
	  { R(1, "team@example.com",
	    "alice\0bob\0carol\0dave@example.org") } },
	{ "tab between key and target",
	  T("a@example.com\tb@example.net\n"), OK,
	  { R(1, "a@example.com", "b@example.net") } },
	{ "continuation lines with an indented comment",
	  T("list@example.com alice,\n  # bob left\n\tcarol\n"
	    "x@example.com y\n"), OK,
	  { R(1, "list@example.com", "alice\0carol"),
	    R(4, "x@example.com", "y") } },
	{ "CRLF, comments, blank lines, trailing white space",
	  T("# virtual\r\n\r\na@example.com b \r\n# c\r\n"
	    "c@example.com d\t\r\n"), OK,
	  { R(3, "a@example.com", "b"), R(5, "c@example.com", "d") } },
	{ "key folded to lower case, targets keep their case",
	  T("Info@Example.COM Alice@Example.ORG\n"), OK,
	  { R(1, "info@example.com", "Alice@Example.ORG") } },
	{ "quoted local part in the key and in a target",
	  T("\"John Doe\"@example.com \"john doe\"@example.org, jd\n"), OK,
	  { R(1, "\"john doe\"@example.com",
	    "\"john doe\"@example.org\0jd") } },
	{ "UTF-8 addresses",
	  T("jörg@exämple.de Jörg, joerg@example.org\n"), OK,
	  { R(1, "jörg@exämple.de", "Jörg\0joerg@example.org") } },
	{ "plus tag in the key kept",
	  T("alice+lists@example.com alice\n"), OK,
	  { R(1, "alice+lists@example.com", "alice") } },
	{ "several records with the right line numbers",
	  T("a@x.org b\n\n\nc@x.org d,\n e\nf@x.org g\n"), OK,
	  { R(1, "a@x.org", "b"), R(4, "c@x.org", "d\0e"),
	    R(6, "f@x.org", "g") } },

	{ "key without @ (Postfix 'domain anything' line)",
	  T("example.com anything\n"), "t:1: " M_VKEY_DOMAIN, NOREC },
	{ "bare local part as the key", T("alice bob\n"),
	  "t:1: " M_VKEY_DOMAIN, NOREC },
	{ "unquoted space splits the key", T("john doe@example.com jd\n"),
	  "t:1: " M_VKEY_DOMAIN, NOREC },
	{ "key with a bad domain (leading hyphen)",
	  T("a@-example.com b\n"), "t:1: " M_VKEY, NOREC },
	{ "key with an empty label", T("a@example..com b\n"),
	  "t:1: " M_VKEY, NOREC },
	{ "key '@' alone", T("@ b\n"), "t:1: " M_VKEY, NOREC },
	{ "key with an address literal", T("a@[192.0.2.1] b\n"),
	  "t:1: " M_VKEY, NOREC },
	{ "unterminated quoted key",
	  T("\"john@example.com x\n"), "t:1: " M_VKEY, NOREC },
	{ "key with a local part of 65 characters",
	  TF("", "a", 65, "@example.com b\n"), "t:1: " M_VKEY, NOREC },
	{ "no targets", T("a@example.com\n"), "t:1: " M_NO_TARGET, NOREC },
	{ "only commas after the key", T("a@example.com ,,\n"),
	  "t:1: " M_NO_TARGET, NOREC },
	{ "target with two @", T("a@example.com b@@c\n"), "t:1: " M_TARGET,
	  NOREC },
	{ "target with a bad domain",
	  T("a@example.com b@x-.com\n"), "t:1: " M_TARGET, NOREC },
	{ "error after good records: first line of the bad one",
	  T("a@x.org b\nc@x.org d,\n  e@\n"), "t:2: " M_TARGET,
	  { R(1, "a@x.org", "b") } },
	{ "a NUL byte in a continuation line on line 2",
	  TF("a@b.org d\n e", "", 1, "f\n"), "t:2: " M_NUL, NOREC },
	{ "a line of MAP_LINE_MAX characters",
	  TF("a@b.org c", " ", MAP_LINE_MAX - 10, "d\n"), "t:1: " M_LONG,
	  NOREC },
};

static void
test_virtual(void **state)
{
	(void)state;
	RUN(MAP_VIRTUAL, virtual_cases);
}

/* ---------------------------------------------------------------- */
/* senders: user@domain|local|@domain  owner, owner ... */

static const struct map_case senders_cases[] = {
	{ "address owned by one login",
	  T("alice@example.com alice\n"), OK,
	  { R(1, "alice@example.com", "alice") } },
	{ "bare local part as the key, two owners",
	  T("postmaster alice, bob\n"), OK,
	  { R(1, "postmaster", "alice\0bob") } },
	{ "@domain as the key", T("@example.com admin\n"), OK,
	  { R(1, "@example.com", "admin") } },
	{ "owners as full addresses, space separated",
	  T("sales@example.com bob@example.com carol@example.com\n"), OK,
	  { R(1, "sales@example.com",
	    "bob@example.com\0carol@example.com") } },
	{ "continuation lines and an indented comment",
	  T("info@example.com alice,\n\t# bob\n  carol\n"), OK,
	  { R(1, "info@example.com", "alice\0carol") } },
	{ "CRLF, comments, blank lines, trailing white space",
	  T("# s\r\n\r\na@example.com b \r\nc d\r\n"), OK,
	  { R(3, "a@example.com", "b"), R(4, "c", "d") } },
	{ "key folded to lower case, owners keep their case",
	  T("Sales@Example.COM Bob\n"), OK,
	  { R(1, "sales@example.com", "Bob") } },
	{ "quoted local part in the key",
	  T("\"the boss\"@example.com boss\n"), OK,
	  { R(1, "\"the boss\"@example.com", "boss") } },
	{ "UTF-8 key and owner",
	  T("jörg@exämple.de jörg\n"), OK,
	  { R(1, "jörg@exämple.de", "jörg") } },

	{ "no owner", T("alice@example.com\n"), "t:1: " M_NO_OWNER, NOREC },
	{ "only commas after the key", T("alice@example.com , ,\n"),
	  "t:1: " M_NO_OWNER, NOREC },
	{ "owner with an empty domain", T("a@example.com b@\n"),
	  "t:1: " M_OWNER, NOREC },
	{ "owner in angle brackets", T("a@example.com <b@example.com>\n"),
	  "t:1: " M_OWNER, NOREC },
	{ "owner with an unterminated quote",
	  T("a@example.com \"bob\n"), "t:1: " M_OWNER, NOREC },
	{ "key with an empty label", T("a@b..c x\n"), "t:1: " M_SKEY,
	  NOREC },
	{ "key '@' alone", T("@ x\n"), "t:1: " M_SKEY, NOREC },
	{ "key with a label of 64 characters",
	  TF("a@", "b", 64, ".com x\n"), "t:1: " M_SKEY, NOREC },
	{ "key with junk after the quoted local part",
	  T("\"a\"b@example.com x\n"), "t:1: " M_SKEY, NOREC },
	{ "key with two @", T("a@b@example.com x\n"), "t:1: " M_SKEY, NOREC },
	{ "error after a good record: first line of the bad one",
	  T("a@x.org b\n\nc@x.org\n  # comment only\n"), "t:3: " M_NO_OWNER,
	  { R(1, "a@x.org", "b") } },
	{ "a NUL byte in the key", TF("a", "", 1, "@x.org b\n"),
	  "t:1: " M_NUL, NOREC },
	{ "a line of MAP_LINE_MAX characters",
	  TF("a b", "\t", MAP_LINE_MAX - 4, "c\n"), "t:1: " M_LONG, NOREC },
	{ "more owners than a value holds",
	  TF("a ", "b ", MAP_VAL_MAX / 2 + 1, "\n"), "t:1: " M_TOO_MANY,
	  NOREC },
};

static void
test_senders(void **state)
{
	(void)state;
	RUN(MAP_SENDERS, senders_cases);
}

/* ---------------------------------------------------------------- */
/* relay_passwords: [host]:port user:password */

static const struct map_case relay_cases[] = {
	{ "password with a comma and a quote",
	  T("[h]:587 u:pa,s\"s\n"), OK, { R(1, "[h]:587", "u\0pa,s\"s") } },
	{ "bracketed host and port",
	  T("[smtp.example.com]:587 user:secret\n"), OK,
	  { R(1, "[smtp.example.com]:587", "user\0secret") } },
	{ "bracketed host without a port, address as the user",
	  T("[smtp.example.com] me@example.com:pw\n"), OK,
	  { R(1, "[smtp.example.com]", "me@example.com\0pw") } },
	{ "host without brackets",
	  T("smtp.example.com:25 u:p\n"), OK,
	  { R(1, "smtp.example.com:25", "u\0p") } },
	{ "password with colons: the first colon splits",
	  T("[h]:587 u:a:b:c\n"), OK, { R(1, "[h]:587", "u\0a:b:c") } },
	{ "key folded to lower case, user and password keep their case",
	  T("[SMTP.Example.COM]:587 User:PassWord\n"), OK,
	  { R(1, "[smtp.example.com]:587", "User\0PassWord") } },
	{ "CRLF, comments, blank lines, tab, trailing white space",
	  T("# relay\r\n\r\n[a.example]:465\tu:p \r\n"), OK,
	  { R(3, "[a.example]:465", "u\0p") } },
	{ "IPv6 address in brackets",
	  T("[2001:db8::1]:587 u:p\n"), OK,
	  { R(1, "[2001:db8::1]:587", "u\0p") } },
	{ "user:password on a continuation line",
	  T("[h]:587\n  u:p\n[i]:25 v:q\n"), OK,
	  { R(1, "[h]:587", "u\0p"), R(3, "[i]:25", "v\0q") } },

	{ "host only", T("[h]:587\n"), "t:1: " M_RELAY, NOREC },
	{ "extra field after user:password", T("[h]:587 u:p extra\n"),
	  "t:1: " M_RELAY, NOREC },
	{ "extra field on a continuation line",
	  T("[h]:587 u:p\n  more\n"), "t:1: " M_RELAY, NOREC },
	{ "missing password (no colon)", T("[h]:587 user\n"),
	  "t:1: " M_RELAY_USER, NOREC },
	{ "empty password", T("[h]:587 user:\n"), "t:1: " M_RELAY_USER,
	  NOREC },
	{ "missing user", T("[h]:587 :pw\n"), "t:1: " M_RELAY_USER, NOREC },
	{ "unterminated [host", T("[smtp.example.com:587 u:p\n"),
	  "t:1: " M_RELAY_HOST, NOREC },
	{ "empty brackets", T("[]:587 u:p\n"), "t:1: " M_RELAY_HOST, NOREC },
	{ "junk after ]", T("[h]587 u:p\n"), "t:1: " M_RELAY_HOST, NOREC },
	{ "error after a good record",
	  T("[a]:25 u:p\n# x\n[b]:25 u\n"), "t:3: " M_RELAY_USER,
	  { R(1, "[a]:25", "u\0p") } },
	{ "a NUL byte in the password",
	  TF("[h]:587 u:p", "", 1, "q\n"), "t:1: " M_NUL, NOREC },
	{ "a line of MAP_LINE_MAX characters",
	  TF("[h]:587 u:p", " ", MAP_LINE_MAX - 12, "x\n"), "t:1: " M_LONG,
	  NOREC },
	{ "a key longer than MAP_KEY_MAX",
	  TF("[", "h", MAP_KEY_MAX, "]:25 u:p\n"), "t:1: entry too long",
	  NOREC },
};

static void
test_relay_passwords(void **state)
{
	(void)state;
	RUN(MAP_RELAY_PASSWORDS, relay_cases);
}

/* ---------------------------------------------------------------- */
/* map_user_decode: the value stored for a users record. */

#define V(s)		(s), sizeof(s) - 1

static const struct {
	const char	*desc;
	const char	*val;
	size_t		 vlen;
	int		 rc;
	enum map_scheme	 scheme;
	const char	*secret;
	const char	*home;
} decode_cases[] = {
	{ "PLAIN with a home", V("PLAIN\0x\0/home/a"), 0,
	  MAP_SCHEME_PLAIN, "x", "/home/a" },
	{ "SHA512-CRYPT, empty home", V("SHA512-CRYPT\0" H6 "\0"), 0,
	  MAP_SCHEME_SHA512_CRYPT, H6, "" },
	{ "SHA256-CRYPT", V("SHA256-CRYPT\0" H5 "\0/h"), 0,
	  MAP_SCHEME_SHA256_CRYPT, H5, "/h" },
	{ "CRYPT, empty home", V("CRYPT\0" H5 "\0"), 0,
	  MAP_SCHEME_CRYPT, H5, "" },

	{ "empty value", V(""), -1, 0, NULL, NULL },
	{ "scheme only", V("PLAIN"), -1, 0, NULL, NULL },
	{ "no NUL after the secret", V("PLAIN\0x"), -1, 0, NULL, NULL },
	{ "unknown scheme", V("MD5-CRYPT\0x\0"), -1, 0, NULL, NULL },
	{ "lower-case scheme (the parser stores upper case)",
	  V("plain\0x\0"), -1, 0, NULL, NULL },
	{ "scheme with a suffix", V("PLAINX\0x\0"), -1, 0, NULL, NULL },
	{ "scheme prefix only", V("PLAI\0x\0"), -1, 0, NULL, NULL },
	{ "empty scheme", V("\0x\0"), -1, 0, NULL, NULL },
};

static void
test_user_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof decode_cases / sizeof decode_cases[0];
	    i++) {
		struct map_user u;
		char *v = malloc(decode_cases[i].vlen + 1);
		int rc;

		/* An exact-size copy: a read past vlen is caught. */
		assert_non_null(v);
		memcpy(v, decode_cases[i].val, decode_cases[i].vlen);
		rc = map_user_decode(v, decode_cases[i].vlen, &u);
		if (rc != decode_cases[i].rc) {
			fail_msg("%s: rc %d, want %d", decode_cases[i].desc,
			    rc, decode_cases[i].rc);
		}
		if (rc == 0) {
			assert_int_equal(u.scheme, decode_cases[i].scheme);
			assert_int_equal(u.slen,
			    strlen(decode_cases[i].secret));
			assert_memory_equal(u.secret, decode_cases[i].secret,
			    u.slen);
			assert_int_equal(u.hlen, strlen(decode_cases[i].home));
			assert_memory_equal(u.home, decode_cases[i].home,
			    u.hlen);
		}
		free(v);
	}
}

/* ---------------------------------------------------------------- */
/* map_type_parse: the names used in the configuration and `wren map`. */

static const struct {
	const char	*name;
	int		 want;
} type_cases[] = {
	{ "users", MAP_USERS },
	{ "aliases", MAP_ALIASES },
	{ "virtual", MAP_VIRTUAL },
	{ "senders", MAP_SENDERS },
	{ "relay_passwords", MAP_RELAY_PASSWORDS },
	{ "", -1 },
	{ "Users", -1 },
	{ "user", -1 },
	{ "relay-passwords", -1 },
	{ "aliases ", -1 },
	{ "virtual\n", -1 },
};

static void
test_type_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof type_cases / sizeof type_cases[0];
	    i++) {
		if (map_type_parse(type_cases[i].name) != type_cases[i].want) {
			fail_msg("'%s': %d, want %d", type_cases[i].name,
			    map_type_parse(type_cases[i].name),
			    type_cases[i].want);
		}
	}
	for (int t = 0; t < MAP_NTYPES; t++) {
		assert_int_equal(map_type_parse(map_type_name[t]), t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_virtual),
		cmocka_unit_test(test_senders),
		cmocka_unit_test(test_relay_passwords),
		cmocka_unit_test(test_user_decode),
		cmocka_unit_test(test_type_parse),
	};

	return cmocka_run_group_tests_name("map_text", tests, NULL, NULL);
}
