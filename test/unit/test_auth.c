/* SPDX-License-Identifier: ISC */
/*
 * test_auth.c - auth_check (auth/auth.h) on a users table compiled with
 * map_compile into a temporary directory: every scheme with the right
 * password, and wrong, empty, longer, shorter, over-long passwords,
 * unknown and over-long logins, logins in another case, records that
 * are not users records, and the table states (a missing .cdb is a
 * temporary failure, an absent table an empty one).
 *
 * The hashes are real crypt(3) strings made outside wren: `openssl
 * passwd -6|-5 -salt SALT PW`, and for frank libxcrypt's crypt(3)
 * (perl -e 'print crypt("frankpw", q{$6$rounds=1000$franksalt})').
 *
 * No test here measures time. test_unknown_user_hashes watches instead
 * whether auth_check reads the password at all, by handing it one on a
 * page that cannot be read: an unknown login must still hash it (the
 * dummy hash), as a known one with a wrong password does.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth/auth.h"
#include "auth/crypt.h"
#include "auth/login.h"
#include "core/log.h"
#include "map/map.h"

/* openssl passwd -6 -salt bobsaltbobsalt12 bobpw */
#define BOB_H	"$6$bobsaltbobsalt12$J62TluR4k2kHGeGmcSbP3REFpBfrymE5D70WyA" \
		"eSB/UDVBIlSYpIsT47gJ1J9J5abxCuGKlF1QbJPOF4Sqk030"
/* openssl passwd -5 -salt carolsalt carolpw */
#define CAROL_H	"$5$carolsalt$NpcpweNCq4EbTYxpNFqi2xOMsJ02.S.ZFw5qWVzyVoD"
/* openssl passwd -5 -salt davesalt davepw */
#define DAVE_H	"$5$davesalt$4XwlEuK0cFHDXhB/vv5ujUlfe6BSBBvyJEr1svjSO70"
/* openssl passwd -6 -salt erinsalt erinpw */
#define ERIN_H	"$6$erinsalt$oDxTkSwyDvGPPmHsooAtLVYvEwl7TDn8S9RlETlnbmnL" \
		"hixgYLZUnUdGP1PNJ2pRZu1DdDdqU6Hr.rh.Y/xfy/"
/* libxcrypt: crypt("frankpw", "$6$rounds=1000$franksalt") */
#define FRANK_H	"$6$rounds=1000$franksalt$KYCdBAWYeG1r9kLqluJma2vCFHAYcdb3" \
		"CU2nd6UjfXx48jsqyEoufAeuA01OUDRPrA.JwGdoTaeHV2.GQL0v0."
/* A PLAIN password of 200 bytes, under AUTH_PASSWORD_MAX. */
#define P20	"0123456789ABCDEFGHIJ"
#define GRACE_P	P20 P20 P20 P20 P20 P20 P20 P20 P20 P20
/* openssl passwd -6 -salt 0123456789abcdef <the 256 bytes of HEIDI_P> */
#define P16	"0123456789abcdef"
#define HEIDI_P	P16 P16 P16 P16 P16 P16 P16 P16 P16 P16 P16 P16 P16 P16 \
		P16 P16
#define HEIDI_H	"$6$0123456789abcdef$l.DDnixrT9g0kaF/30nKnZlVfB7KhnQruTbHDx" \
		"fCX3Hwc8pqAVDkk99PlMfFjZkCDm/3c6KrTv/Om/Bd2V5Wn1"
/* A PLAIN password longer than AUTH_PASSWORD_MAX: 300 bytes of 'p'. */
#define P30	"pppppppppppppppppppppppppppppp"
#define JUDY_P	P30 P30 P30 P30 P30 P30 P30 P30 P30 P30
/* openssl passwd -5 -salt 0123456789abcdef x */
#define IVAN_H	"$5$0123456789abcdef$.fULuWHW4LFdceMju5Z2fLohL4aL5Nk149iH4K" \
		"nvtJ9"

static const char users_text[] =
    "# wren users, Dovecot passwd-file\n"
    "alice@example.test:{PLAIN}plainpw\n"
    "bob:{SHA512-CRYPT}" BOB_H "\n"
    "carol:" CAROL_H "\n"
    "dave:{SHA256-CRYPT}" DAVE_H ":1000:1000::/home/dave:/bin/sh\n"
    "erin:{sha512-crypt}" ERIN_H "\n"
    "frank@example.test:" FRANK_H "\n"
    "grace:{PLAIN}" GRACE_P "\n"
    "heidi:{SHA512-CRYPT}" HEIDI_H "\n"
    "ivan:{CRYPT}" IVAN_H "\n"
    "judy:{PLAIN}" JUDY_P "\n";
#define NUSERS	10

static char dir[64];
static char users[128], missing[128], absent[128], bad[128], notusers[128];
static struct map m_users, m_missing, m_absent, m_bad, m_notusers;
static char longpw[AUTH_PASSWORD_MAX + 64];

static void
put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int
remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
setup(void **state)
{
	struct err e = { "" };
	char path[160];
	size_t n = 0;

	(void)state;
	log_set_level(LOG_LVL_ERROR + 0);
	snprintf(dir, sizeof dir, "/tmp/wren-auth-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		return -1;
	}
	snprintf(users, sizeof users, "%s/users", dir);
	snprintf(missing, sizeof missing, "%s/users-missing", dir);
	snprintf(absent, sizeof absent, "%s/users-absent", dir);
	snprintf(bad, sizeof bad, "%s/users-bad", dir);
	snprintf(notusers, sizeof notusers, "%s/virtual", dir);

	put_file(users, users_text);
	if (map_compile(MAP_USERS, users, &n, &e) == -1 || n != NUSERS) {
		print_error("users: %s (%zu records, want %d)\n",
		    e.msg, n, NUSERS);
		remove_dir();
		return -1;
	}
	map_open(&m_users, MAP_USERS, users);

	/* The source without its .cdb. */
	put_file(missing, users_text);
	map_open(&m_missing, MAP_USERS, missing);

	/* Neither source nor .cdb. */
	map_open(&m_absent, MAP_USERS, absent);

	/* A .cdb that is not one. */
	put_file(bad, users_text);
	snprintf(path, sizeof path, "%s.cdb", bad);
	put_file(path, "not a cdb file at all\n");
	map_open(&m_bad, MAP_USERS, bad);

	/* A table whose values are not users records. */
	put_file(notusers, "bob@example.test bob@example.org\n");
	if (map_compile(MAP_VIRTUAL, notusers, &n, &e) == -1) {
		print_error("%s\n", e.msg);
		remove_dir();
		return -1;
	}
	map_open(&m_notusers, MAP_USERS, notusers);

	memset(longpw, 'p', sizeof longpw);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	map_close(&m_users);
	map_close(&m_missing);
	map_close(&m_absent);
	map_close(&m_bad);
	map_close(&m_notusers);
	return remove_dir();
}

static void
test_states(void **state)
{
	(void)state;
	assert_int_equal(m_users.state, MAP_ST_OK);
	assert_int_equal(m_missing.state, MAP_ST_MISSING);
	assert_int_equal(m_absent.state, MAP_ST_ABSENT);
	assert_int_equal(m_bad.state, MAP_ST_BAD);
	assert_int_equal(m_notusers.state, MAP_ST_OK);
}

enum table { T_USERS, T_MISSING, T_ABSENT, T_BAD, T_NOTUSERS };

struct acase {
	const char		*desc;
	enum table		 table;
	const char		*login;		/* NULL: MAP_KEY_MAX + 1 */
	size_t			 llen;		/* 0: strlen(login) */
	const char		*pw;		/* NULL: longpw */
	size_t			 pwlen;		/* 0: strlen(pw) */
	enum auth_result	 want;
};

#define OK	AUTH_OK
#define FAIL	AUTH_FAIL
#define TEMP	AUTH_TEMPFAIL
#define EMPTY	((size_t)-1)		/* a pwlen of 0 */

static const struct acase cases[] = {
	/* The right password, each scheme. */
	{ "PLAIN, full address",
	  T_USERS, "alice@example.test", 0, "plainpw", 0, OK },
	{ "{SHA512-CRYPT}",
	  T_USERS, "bob", 0, "bobpw", 0, OK },
	{ "no scheme: CRYPT, $5$",
	  T_USERS, "carol", 0, "carolpw", 0, OK },
	{ "{SHA256-CRYPT} with the other fields",
	  T_USERS, "dave", 0, "davepw", 0, OK },
	{ "{sha512-crypt} in lower case",
	  T_USERS, "erin", 0, "erinpw", 0, OK },
	{ "CRYPT with rounds=1000",
	  T_USERS, "frank@example.test", 0, "frankpw", 0, OK },
	{ "PLAIN of 200 bytes",
	  T_USERS, "grace", 0, GRACE_P, 0, OK },
	{ "SHA512-CRYPT of 256 bytes, AUTH_PASSWORD_MAX",
	  T_USERS, "heidi", 0, HEIDI_P, 0, OK },
	{ "{CRYPT}, 1-byte password",
	  T_USERS, "ivan", 0, "x", 0, OK },
	/* The login in any case. */
	{ "PLAIN, login in mixed case",
	  T_USERS, "ALICE@Example.TEST", 0, "plainpw", 0, OK },
	{ "SHA512, login in upper case",
	  T_USERS, "BOB", 0, "bobpw", 0, OK },
	{ "CRYPT, login capitalised",
	  T_USERS, "Carol", 0, "carolpw", 0, OK },
	{ "rounds, login in upper case",
	  T_USERS, "FRANK@EXAMPLE.TEST", 0, "frankpw", 0, OK },
	/* Wrong passwords. */
	{ "PLAIN, wrong",
	  T_USERS, "alice@example.test", 0, "wrongpw", 0, FAIL },
	{ "PLAIN, empty",
	  T_USERS, "alice@example.test", 0, "", EMPTY, FAIL },
	{ "PLAIN, one byte more",
	  T_USERS, "alice@example.test", 0, "plainpwx", 0, FAIL },
	{ "PLAIN, one byte less",
	  T_USERS, "alice@example.test", 0, "plainp", 0, FAIL },
	{ "PLAIN, a NUL more",
	  T_USERS, "alice@example.test", 0, "plainpw\0", 8, FAIL },
	{ "PLAIN, other case",
	  T_USERS, "alice@example.test", 0, "PLAINPW", 0, FAIL },
	{ "PLAIN, the scheme and secret",
	  T_USERS, "alice@example.test", 0, "{PLAIN}plainpw", 0, FAIL },
	{ "PLAIN, 300 bytes",
	  T_USERS, "alice@example.test", 0, NULL, 300, FAIL },
	{ "SHA512, wrong",
	  T_USERS, "bob", 0, "wrongpw", 0, FAIL },
	{ "SHA512, empty",
	  T_USERS, "bob", 0, "", EMPTY, FAIL },
	{ "SHA512, one byte more",
	  T_USERS, "bob", 0, "bobpwx", 0, FAIL },
	{ "SHA512, one byte less",
	  T_USERS, "bob", 0, "bobp", 0, FAIL },
	{ "SHA512, a NUL more",
	  T_USERS, "bob", 0, "bobpw\0", 6, FAIL },
	{ "SHA512, the hash itself",
	  T_USERS, "bob", 0, BOB_H, 0, FAIL },
	{ "SHA512, 300 bytes",
	  T_USERS, "bob", 0, NULL, 300, FAIL },
	{ "CRYPT, wrong",
	  T_USERS, "carol", 0, "wrongpw", 0, FAIL },
	{ "CRYPT, empty",
	  T_USERS, "carol", 0, "", EMPTY, FAIL },
	{ "CRYPT, one byte more",
	  T_USERS, "carol", 0, "carolpw!", 0, FAIL },
	{ "CRYPT, one byte less",
	  T_USERS, "carol", 0, "carolp", 0, FAIL },
	{ "CRYPT, 300 bytes",
	  T_USERS, "carol", 0, NULL, 300, FAIL },
	{ "SHA256, wrong",
	  T_USERS, "dave", 0, "wrongpw", 0, FAIL },
	{ "SHA256, empty",
	  T_USERS, "dave", 0, "", EMPTY, FAIL },
	{ "SHA256, one byte more",
	  T_USERS, "dave", 0, "davepw ", 0, FAIL },
	{ "SHA256, one byte less",
	  T_USERS, "dave", 0, "davep", 0, FAIL },
	{ "SHA256, another user's password",
	  T_USERS, "dave", 0, "carolpw", 0, FAIL },
	{ "sha512, wrong",
	  T_USERS, "erin", 0, "wrongpw", 0, FAIL },
	{ "sha512, empty",
	  T_USERS, "erin", 0, "", EMPTY, FAIL },
	{ "sha512, one byte more",
	  T_USERS, "erin", 0, "erinpw1", 0, FAIL },
	{ "sha512, one byte less",
	  T_USERS, "erin", 0, "erinp", 0, FAIL },
	{ "rounds, wrong",
	  T_USERS, "frank@example.test", 0, "wrongpw", 0, FAIL },
	{ "PLAIN 200, one byte less",
	  T_USERS, "grace", 0, GRACE_P, 199, FAIL },
	{ "SHA512 256, one byte less",
	  T_USERS, "heidi", 0, HEIDI_P, 255, FAIL },
	{ "SHA512 256, 257 bytes",
	  T_USERS, "heidi", 0, HEIDI_P "0", 0, FAIL },
	{ "CRYPT 1 byte, empty",
	  T_USERS, "ivan", 0, "", EMPTY, FAIL },
	{ "CRYPT 1 byte, two bytes",
	  T_USERS, "ivan", 0, "xx", 0, FAIL },
	{ "PLAIN of 300 bytes, the right one: longer ones never match",
	  T_USERS, "judy", 0, JUDY_P, 0, FAIL },
	/* Logins. */
	{ "unknown login",
	  T_USERS, "mallory", 0, "bobpw", 0, FAIL },
	{ "unknown address",
	  T_USERS, "nobody@example.test", 0, "plainpw", 0, FAIL },
	{ "unknown login, empty password",
	  T_USERS, "mallory", 0, "", EMPTY, FAIL },
	{ "unknown login, 300 bytes",
	  T_USERS, "mallory", 0, NULL, 300, FAIL },
	{ "bare name of an address user",
	  T_USERS, "alice", 0, "plainpw", 0, FAIL },
	{ "address of a bare-name user",
	  T_USERS, "bob@example.test", 0, "bobpw", 0, FAIL },
	{ "login with a trailing space",
	  T_USERS, "bob ", 0, "bobpw", 0, FAIL },
	{ "login with a NUL more",
	  T_USERS, "bob\0", 4, "bobpw", 0, FAIL },
	{ "empty login",
	  T_USERS, "", 0, "plainpw", 0, FAIL },
	{ "login of MAP_KEY_MAX + 1 bytes",
	  T_USERS, NULL, 0, "bobpw", 0, FAIL },
	/* The table. */
	{ "source without .cdb: temporary failure",
	  T_MISSING, "bob", 0, "bobpw", 0, TEMP },
	{ "source without .cdb, unknown login",
	  T_MISSING, "mallory", 0, "x", 0, TEMP },
	{ "corrupt .cdb: temporary failure",
	  T_BAD, "bob", 0, "bobpw", 0, TEMP },
	{ "no table at all: nobody",
	  T_ABSENT, "bob", 0, "bobpw", 0, FAIL },
	{ "a value that is not a users record",
	  T_NOTUSERS, "bob@example.test", 0, "bob@example.org", 0, FAIL },
};

static struct map *
table(enum table t)
{
	switch (t) {
	case T_USERS:		return &m_users;
	case T_MISSING:		return &m_missing;
	case T_ABSENT:		return &m_absent;
	case T_BAD:		return &m_bad;
	case T_NOTUSERS:	return &m_notusers;
	}
	return NULL;
}

static const char *
result_name(enum auth_result r)
{
	return r == AUTH_OK ? "AUTH_OK" : r == AUTH_FAIL ? "AUTH_FAIL" :
	    r == AUTH_TEMPFAIL ? "AUTH_TEMPFAIL" : "?";
}

static void
test_auth_check(void **state)
{
	static char longlogin[MAP_KEY_MAX + 1];
	int failed = 0;

	(void)state;
	memset(longlogin, 'b', sizeof longlogin);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct acase *c = &cases[i];
		const char *login = c->login ? c->login : longlogin;
		size_t llen = c->login == NULL ? sizeof longlogin : c->llen ?
		    c->llen : strlen(c->login);
		const char *pw = c->pw ? c->pw : longpw;
		size_t pwlen = c->pwlen == EMPTY ? 0 : c->pwlen ? c->pwlen :
		    strlen(c->pw);
		enum auth_result got;

		got = auth_check(table(c->table), login, llen, pw, pwlen);
		if (got != c->want) {
			print_error("%s: %s, want %s\n", c->desc,
			    result_name(got), result_name(c->want));
			failed++;
		}
	}
	if (failed) {
		fail_msg("%d of %zu cases failed", failed,
		    sizeof cases / sizeof cases[0]);
	}
}

/*
 * Whether auth_check reads the password: it gets one on a PROT_NONE
 * page, and the first read of it ends in SIGSEGV, caught here. Nothing
 * is timed; what is observed is that the password was fed to a hash.
 */
static sigjmp_buf jb;

static void
on_fault(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

enum { CALL_AUTH, CALL_CRYPT };

static int
reads_password(int call, const char *login, size_t pwlen)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)pg * 2;
	struct sigaction sa, osegv, obus;
	char *page, out[CRYPT_OUT_MAX];
	volatile int faulted = 0;

	page = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	    0);
	assert_true(page != MAP_FAILED);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fault;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGSEGV, &sa, &osegv), 0);
	assert_int_equal(sigaction(SIGBUS, &sa, &obus), 0);
	if (sigsetjmp(jb, 1) == 0) {
		if (call == CALL_AUTH) {
			(void)auth_check(&m_users, login, strlen(login), page,
			    pwlen);
		} else {
			(void)sha_crypt(page, pwlen, "$6$" P16, out,
			    sizeof out);
		}
	} else {
		faulted = 1;
	}
	sigaction(SIGSEGV, &osegv, NULL);
	sigaction(SIGBUS, &obus, NULL);
	munmap(page, len);
	return faulted;
}

struct rcase {
	const char	*desc;
	int		 call;
	const char	*login;
	size_t		 pwlen;
	int		 reads;
};

static const struct rcase rcases[] = {
	/* The probe itself: a read is seen, and no read is not. */
	{ "sha_crypt of 8 bytes reads them", CALL_CRYPT, NULL, 8, 1 },
	{ "sha_crypt of 0 bytes reads nothing", CALL_CRYPT, NULL, 0, 0 },
	/* A known login with a wrong password hashes it... */
	{ "known SHA512 login, 8 bytes", CALL_AUTH, "bob", 8, 1 },
	{ "known SHA256 login, 8 bytes", CALL_AUTH, "carol", 8, 1 },
	{ "known login, 256 bytes", CALL_AUTH, "bob", AUTH_PASSWORD_MAX, 1 },
	/* ...and so must an unknown one. */
	{ "unknown login, 1 byte", CALL_AUTH, "mallory", 1, 1 },
	{ "unknown login, 8 bytes", CALL_AUTH, "mallory", 8, 1 },
	{ "unknown address, 64 bytes", CALL_AUTH, "nobody@example.test", 64,
	  1 },
	{ "unknown login, 256 bytes", CALL_AUTH, "mallory",
	  AUTH_PASSWORD_MAX, 1 },
};

static void
test_unknown_user_hashes(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof rcases / sizeof rcases[0]; i++) {
		const struct rcase *r = &rcases[i];
		int got = reads_password(r->call, r->login, r->pwlen);

		if (got != r->reads) {
			print_error("%s: the password %s, want it %s\n",
			    r->desc, got ? "is read" : "is not read",
			    r->reads ? "read" : "not read");
			failed++;
		}
	}
	if (failed) {
		fail_msg("%d of %zu cases failed", failed,
		    sizeof rcases / sizeof rcases[0]);
	}
}

/* SASL PLAIN messages (RFC 4616): who is logging in, and refusals of
 * malformed messages and of acting for another user. */
static void
test_sasl_plain(void **state)
{
	static const struct {
		const char	*desc;
		const char	*msg;
		size_t		 len;
		int		 rc;
		const char	*user, *pw;
	} c[] = {
#define M(s)	(s), sizeof(s) - 1
		{ "no authzid", M("\0alice\0pw"), 0, "alice", "pw" },
		{ "same authzid", M("alice\0alice\0pw"), 0, "alice", "pw" },
		{ "empty password", M("\0alice\0"), 0, "alice", "" },
		{ "empty user", M("\0\0pw"), 0, "", "pw" },
		{ "NUL in password", M("\0alice\0p\0w"), 0, "alice",
		    "p\0w" },
		{ "other authzid", M("bob\0alice\0pw"), -1, NULL, NULL },
		{ "longer authzid", M("alicex\0alice\0pw"), -1, NULL, NULL },
		{ "one NUL", M("alice\0pw"), -1, NULL, NULL },
		{ "no NUL", M("alicepw"), -1, NULL, NULL },
		{ "empty", M(""), -1, NULL, NULL },
#undef M
	};

	(void)state;
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		const char *user = NULL, *pw = NULL;
		size_t ulen = 0, pwlen = 0;
		int rc = login_sasl_plain((const unsigned char *)c[i].msg,
		    c[i].len, &user, &ulen, &pw, &pwlen);

		if (rc != c[i].rc) {
			fail_msg("%s: rc %d, want %d", c[i].desc, rc, c[i].rc);
		}
		if (rc == 0 && (ulen != strlen(c[i].user) || memcmp(user,
		    c[i].user, ulen) != 0 || (c[i].pw[0] != 'p' ||
		    c[i].pw[1] != '\0' ? pwlen != strlen(c[i].pw) ||
		    memcmp(pw, c[i].pw, pwlen) != 0 : pwlen != 3))) {
			fail_msg("%s: got %.*s / %.*s", c[i].desc, (int)ulen,
			    user, (int)pwlen, pw);
		}
	}
}

/* ---------------------------------------------------------------- */
/* What a check costs, counted in SHA-crypt rounds (crypt_work), not
 * timed: an unknown login, a PLAIN account and a refused hash cost the
 * table's most expensive hash; a hash above MAP_ROUNDS_MAX is never
 * run, even in a .cdb that `wren map` did not build. */

#define A10	"aaaaaaaaaa"
#define HASH86	A10 A10 A10 A10 A10 A10 A10 A10 "aaaaaa"
#define HASH43	A10 A10 A10 A10 "aaa"

static const char cost_text[] =
    "cheap:$6$cheapsalt$" HASH86 "\n"
    "dear:{SHA512-CRYPT}$6$rounds=20000$dearsalt$" HASH86 "\n"
    "sha2:$5$rounds=20000$sha2saltsha2salt$" HASH43 "\n"
    "low:$6$rounds=10$lowsaltlowsalt12$" HASH86 "\n"
    "plain:{PLAIN}plainpw\n";

/* Rounds run by one auth_check, per scheme. */
static void
cost_of(struct map *m, const char *login, const char *pw,
    enum auth_result want, uint64_t *r256, uint64_t *r512)
{
	uint64_t a256, a512, b256, b512;
	enum auth_result got;

	crypt_work(&a256, &a512);
	got = auth_check(m, login, strlen(login), pw, strlen(pw));
	crypt_work(&b256, &b512);
	if (got != want) {
		fail_msg("%s: result %d, want %d", login, got, want);
	}
	*r256 = b256 - a256;
	*r512 = b512 - a512;
}

static void
test_cost(void **state)
{
	static const struct {
		const char		*login, *pw;
		enum auth_result	 want;
	} same[] = {
		{ "nobody", "x", AUTH_FAIL },
		{ "nobody@example.test", "longer password", AUTH_FAIL },
		{ "", "x", AUTH_FAIL },
		{ "dear", "wrong", AUTH_FAIL },
		{ "plain", "wrong", AUTH_FAIL },
		{ "plain", "plainpw", AUTH_OK },
	};
	char path[160];
	struct err e = { "" };
	struct map m;
	uint64_t r256, r512;
	size_t n;

	(void)state;
	snprintf(path, sizeof path, "%s/users-cost", dir);
	put_file(path, cost_text);
	assert_int_equal(map_compile(MAP_USERS, path, &n, &e), 0);
	map_open(&m, MAP_USERS, path);
	/* Most rounds, then SHA-512 over SHA-256 at equal rounds. */
	assert_string_equal(auth_reference(&m), "$6$rounds=20000$dearsalt");
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
		cost_of(&m, same[i].login, same[i].pw, same[i].want, &r256,
		    &r512);
		if (r256 != 0 || r512 != 20000) {
			fail_msg("%s: %llu + %llu rounds, want 0 + 20000",
			    same[i].login, (unsigned long long)r256,
			    (unsigned long long)r512);
		}
	}
	/* Known accounts run their own hash. */
	cost_of(&m, "sha2", "wrong", AUTH_FAIL, &r256, &r512);
	assert_true(r256 == 20000 && r512 == 0);
	cost_of(&m, "cheap", "wrong", AUTH_FAIL, &r256, &r512);
	assert_true(r256 == 0 && r512 == 5000);
	map_close(&m);

	/* The first table: $6$ at 5000 rounds is its most expensive. */
	assert_true(strncmp(auth_reference(&m_users), "$6$", 3) == 0 &&
	    strchr(auth_reference(&m_users) + 3, '$') == NULL);
	cost_of(&m_users, "mallory", "x", AUTH_FAIL, &r256, &r512);
	assert_true(r256 == 0 && r512 == 5000);
	/* No table: the default. */
	assert_string_equal(auth_reference(&m_absent), "$6$wrenwrenwrenwren");
}

/* A .cdb built elsewhere, with a hash above MAP_ROUNDS_MAX. */
static void
test_rounds_cap(void **state)
{
	static const char over[] = "CRYPT\0$6$rounds=150000$oversalt$"
	    HASH86 "\0";
	static const char sha2[] = "CRYPT\0$5$rounds=999999999$x$" HASH43
	    "\0";
	static const char ok[] = "SHA512-CRYPT\0$6$rounds=2000$oksalt$"
	    HASH86 "\0";
	char path[160], cdbpath[170];
	struct cdb_make cm;
	uint64_t r256, r512;
	struct map m;
	int fd;

	(void)state;
	snprintf(path, sizeof path, "%s/users-elsewhere", dir);
	snprintf(cdbpath, sizeof cdbpath, "%s.cdb", path);
	put_file(path, "# built by another tool\n");
	fd = open(cdbpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(cdb_make_start(&cm, fd), 0);
	assert_int_equal(cdb_make_add(&cm, "over", 4, over,
	    sizeof over - 1), 0);
	assert_int_equal(cdb_make_add(&cm, "sha2", 4, sha2,
	    sizeof sha2 - 1), 0);
	assert_int_equal(cdb_make_add(&cm, "ok", 2, ok, sizeof ok - 1), 0);
	assert_int_equal(cdb_make_finish(&cm), 0);
	close(fd);
	map_open(&m, MAP_USERS, path);
	assert_int_equal(m.state, MAP_ST_OK);
	/* Hashes above the cap do not set the cost of others. */
	assert_string_equal(auth_reference(&m), "$6$rounds=2000$oksalt");
	/* Refused, at the reference's cost, never run. */
	cost_of(&m, "over", "pw", AUTH_BAD_HASH, &r256, &r512);
	assert_true(r256 == 0 && r512 == 2000);
	cost_of(&m, "sha2", "pw", AUTH_BAD_HASH, &r256, &r512);
	assert_true(r256 == 0 && r512 == 2000);
	cost_of(&m, "nobody", "pw", AUTH_FAIL, &r256, &r512);
	assert_true(r256 == 0 && r512 == 2000);
	map_close(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sasl_plain),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_auth_check),
		cmocka_unit_test(test_unknown_user_hashes),
		cmocka_unit_test(test_cost),
		cmocka_unit_test(test_rounds_cap),
	};

	return cmocka_run_group_tests_name("auth", tests, setup, teardown);
}
