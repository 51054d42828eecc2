/* SPDX-License-Identifier: ISC */
/*
 * test_resolve.c - recipient resolution (SPEC section 4) over real .cdb
 * tables compiled from text: plus-tags, virtual and catch-all, alias
 * chains, self-reference, loops, depth, remote targets, case folding,
 * bare accounts, mail_home, duplicates, and tables that fail.
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

#include "core/log.h"
#include "map/resolve.h"

#define H6 "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8" \
	"wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"

static const char users_src[] =
	"alice@example.com:{PLAIN}pw\n"
	"bob@example.com:{SHA512-CRYPT}" H6 "::::/home/bob\n"
	"sammy:{PLAIN}pw\n"
	"erin:{PLAIN}pw\n"
	"carol@example.org:{PLAIN}pw\n";

static const char aliases_src[] =
	"postmaster: root\n"
	"root: alice@example.com\n"
	"team: alice@example.com, bob@example.com,\n"
	"  friend@remote.example, ALICE@example.com\n"
	"me: me, friend@remote.example\n"
	"erin: erin friend@remote.example\n"
	"loop1: loop2\n"
	"loop2: loop1\n"
	"gone: nobody-here, alice@example.com\n"
	"allgone: nobody-here\n"
	"d0: d1\nd1: d2\nd2: d3\nd3: d4\nd4: d5\nd5: d6\nd6: d7\n"
	"d7: d8\nd8: d9\nd9: d10\nd10: d11\nd11: d12\nd12: d13\n"
	"d13: d14\nd14: d15\nd15: d16\nd16: d17\nd17: d18\nd18: d19\n"
	"d19: d20\nd20: d21\nd21: d22\nd22: alice@example.com\n";

static const char virtual_src[] =
	"info@example.org carol@example.org\n"
	"sales@example.org bob@example.com info@example.org\n"
	"@catch.example alice@example.com\n"
	"Self@example.org self@example.org, carol@example.org\n";

static const char config_src[] =
	"hostname = mail.example.com\n"
	"domains = example.com example.org catch.example\n"
	"origin = example.com\n"
	"mail_home = /var/mail/%d/%n\n"
	"recipient_delimiter = +-\n";

static char dir[64];
static struct cfg cfg;
static struct map users, aliases, virt;
static struct resolver rv;
static struct resolve_result res;

static void
write_map(const char *name, const char *text, enum map_type type,
    struct map *m)
{
	char path[128];
	struct err e;
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	if (map_compile(type, path, &n, &e) == -1) {
		fail_msg("%s", e.msg);
	}
	map_open(m, type, path);
	assert_int_equal(m->state, MAP_ST_OK);
}

static int
setup(void **state)
{
	struct err e;

	(void)state;
	log_set_level(LOG_LVL_ERROR);
	snprintf(dir, sizeof dir, "/tmp/wren-resolve-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(cfg_parse(&cfg, "t", config_src,
	    sizeof config_src - 1, &e), 0);
	write_map("users", users_src, MAP_USERS, &users);
	write_map("aliases", aliases_src, MAP_ALIASES, &aliases);
	write_map("virtual", virtual_src, MAP_VIRTUAL, &virt);
	rv.cfg = &cfg;
	rv.users = &users;
	rv.aliases = &aliases;
	rv.virtual = &virt;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	map_close(&users);
	map_close(&aliases);
	map_close(&virt);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Each case: the address, the expected status, and the expected
 * targets as "L:login:home" / "R:address" in order. */
static const struct {
	const char		*what;
	const char		*addr;
	enum resolve_status	 status;
	const char		*targets[6];
} cases[] = {
	{ "plain account", "alice@example.com", RESOLVE_OK,
	  { "L:alice@example.com:/var/mail/example.com/alice" } },
	{ "home from the users file", "bob@example.com", RESOLVE_OK,
	  { "L:bob@example.com:/home/bob" } },
	{ "case folded", "ALICE@Example.COM", RESOLVE_OK,
	  { "L:alice@example.com:/var/mail/example.com/alice" } },
	{ "plus tag removed", "alice+lists@example.com", RESOLVE_OK,
	  { "L:alice@example.com:/var/mail/example.com/alice" } },
	{ "second delimiter character", "alice-x@example.com", RESOLVE_OK,
	  { "L:alice@example.com:/var/mail/example.com/alice" } },
	{ "bare account in any local domain", "sammy@example.org",
	  RESOLVE_OK, { "L:sammy:/var/mail/example.com/sammy" } },
	{ "alias chain", "postmaster@example.com", RESOLVE_OK,
	  { "L:alice@example.com:/var/mail/example.com/alice" } },
	{ "alias to locals and a remote, duplicate removed",
	  "team@example.com", RESOLVE_OK,
	  { "L:alice@example.com:/var/mail/example.com/alice",
	    "L:bob@example.com:/home/bob", "R:friend@remote.example" } },
	{ "alias to itself keeps its mailbox (bare account)",
	  "erin@example.com", RESOLVE_OK,
	  { "L:erin:/var/mail/example.com/erin",
	    "R:friend@remote.example" } },
	{ "alias to itself without an account", "me@example.com",
	  RESOLVE_OK, { "R:friend@remote.example" } },
	{ "alias loop", "loop1@example.com", RESOLVE_LOOP, { NULL } },
	{ "alias nesting too deep", "d0@example.com", RESOLVE_LOOP,
	  { NULL } },
	{ "alias with one unknown target", "gone@example.com", RESOLVE_OK,
	  { "L:alice@example.com:/var/mail/example.com/alice" } },
	{ "alias with only unknown targets", "allgone@example.com",
	  RESOLVE_UNKNOWN, { NULL } },
	{ "virtual address", "info@example.org", RESOLVE_OK,
	  { "L:carol@example.org:/var/mail/example.org/carol" } },
	{ "virtual to virtual", "sales@example.org", RESOLVE_OK,
	  { "L:bob@example.com:/home/bob",
	    "L:carol@example.org:/var/mail/example.org/carol" } },
	{ "virtual catch-all", "anything@catch.example", RESOLVE_OK,
	  { "L:alice@example.com:/var/mail/example.com/alice" } },
	{ "virtual self reference", "self@example.org", RESOLVE_OK,
	  { "L:carol@example.org:/var/mail/example.org/carol" } },
	{ "unknown local user", "nobody@example.com", RESOLVE_UNKNOWN,
	  { NULL } },
	{ "remote domain", "Someone@Elsewhere.example", RESOLVE_OK,
	  { "R:someone@elsewhere.example" } },
	{ "host name is local", "alice@mail.example.com", RESOLVE_UNKNOWN,
	  { NULL } },
	{ "localhost is local, bare account", "sammy@localhost", RESOLVE_OK,
	  { "L:sammy:/var/mail/example.com/sammy" } },
	{ "bare recipient takes the origin", "alice", RESOLVE_OK,
	  { "L:alice@example.com:/var/mail/example.com/alice" } },
	{ "not an address", "a b@example.com", RESOLVE_BAD_ADDRESS,
	  { NULL } },
	{ "empty", "", RESOLVE_BAD_ADDRESS, { NULL } },
};

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = 0;

		resolve(&rv, cases[i].addr, strlen(cases[i].addr), &res);
		if (res.status != cases[i].status) {
			fail_msg("%s: status %s, want %s (%s)", cases[i].what,
			    resolve_status_name(res.status),
			    resolve_status_name(cases[i].status), res.why);
		}
		if (res.status != RESOLVE_OK) {
			continue;
		}
		while (n < 6 && cases[i].targets[n] != NULL) {
			char got[512];

			if (n >= res.n) {
				fail_msg("%s: only %zu targets", cases[i].what,
				    res.n);
			}
			if (res.t[n].kind == RESOLVE_LOCAL) {
				snprintf(got, sizeof got, "L:%s:%s",
				    res.t[n].addr, res.t[n].home);
			} else {
				snprintf(got, sizeof got, "R:%s",
				    res.t[n].addr);
			}
			if (strcmp(got, cases[i].targets[n]) != 0) {
				fail_msg("%s: target %zu is %s, want %s",
				    cases[i].what, n, got,
				    cases[i].targets[n]);
			}
			n++;
		}
		if (n != res.n) {
			fail_msg("%s: %zu targets, want %zu", cases[i].what,
			    res.n, n);
		}
	}
}

static void
test_unknown_target_is_counted(void **state)
{
	(void)state;
	resolve(&rv, "gone@example.com", 16, &res);
	assert_int_equal(res.status, RESOLVE_OK);
	assert_int_equal(res.unknown, 1);
	/* '-' is a delimiter here: nobody-here is nobody. */
	assert_non_null(strstr(res.why, "nobody@example.com"));
}

static void
test_loop_names_the_chain(void **state)
{
	(void)state;
	resolve(&rv, "loop1@example.com", 17, &res);
	assert_int_equal(res.status, RESOLVE_LOOP);
	assert_string_equal(res.why, "loop1@example.com expands to itself "
	    "through loop2@example.com");
}

static void
test_missing_table_is_temporary(void **state)
{
	struct map missing;
	struct resolver r2 = rv;
	char path[128];
	FILE *f;

	(void)state;
	/* A source without its .cdb: lookups fail, never "unknown". */
	snprintf(path, sizeof path, "%s/virtual2", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("x@example.com y@example.com\n", f);
	fclose(f);
	map_open(&missing, MAP_VIRTUAL, path);
	assert_int_equal(missing.state, MAP_ST_MISSING);
	r2.virtual = &missing;
	resolve(&r2, "alice@example.com", 17, &res);
	assert_int_equal(res.status, RESOLVE_TEMPFAIL);
	/* Remote addresses need no table. */
	resolve(&r2, "x@remote.example", 16, &res);
	assert_int_equal(res.status, RESOLVE_OK);
	map_close(&missing);
}

static void
test_absent_tables_are_empty(void **state)
{
	struct map none;
	struct resolver r2 = rv;

	(void)state;
	map_open(&none, MAP_VIRTUAL, "/nonexistent/wren/virtual");
	assert_int_equal(none.state, MAP_ST_ABSENT);
	r2.virtual = &none;
	resolve(&r2, "alice@example.com", 17, &res);
	assert_int_equal(res.status, RESOLVE_OK);
	map_close(&none);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_unknown_target_is_counted),
		cmocka_unit_test(test_loop_names_the_chain),
		cmocka_unit_test(test_missing_table_is_temporary),
		cmocka_unit_test(test_absent_tables_are_empty),
	};

	return cmocka_run_group_tests_name("resolve", tests, setup, teardown);
}
