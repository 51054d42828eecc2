/* SPDX-License-Identifier: ISC */
/*
 * test_imap_thread.c - the THREAD=REFERENCES and ORDEREDSUBJECT trees
 * (imap/imap_thread.h, RFC 5256 3) run step by step as imap_sort.c
 * runs them (with simple sorts here), on small folders: each row is a
 * folder with a one-line description and the thread list it must
 * give (RFC 5256 5 syntax, as "* THREAD" shows it). Half the rows are
 * hostile: loops, self-references, duplicate IDs, junk references,
 * chains past IMAP_THREAD_DEPTH_MAX, a node table that fills up.
 */
#include "imap/imap_thread.h"
#include "msg/msgid.h"
#include "msg/sortkey.h"
#include "testutil.h"

#define CAP	8192
#define MSGS	16

struct m {
	const char	*subj;
	uint32_t	 date;
	const char	*id;		/* without <>; NULL: none */
	const char	*refs;		/* References, raw */
	const char	*irt;		/* In-Reply-To, raw */
};

struct thread_case {
	const char	*desc;
	struct m	 m[MSGS];	/* subj NULL ends */
	const char	*want;
	uint32_t	 cap;		/* 0: CAP */
};

static const struct thread_case cases[] = {
	{ "a reply under its parent",
	  { { "a", 1, "1@x", NULL, NULL }, { "Re: a", 2, "2@x", "<1@x>",
	    NULL } }, "(1 2)", 0 },
	{ "two replies: siblings in date order",
	  { { "a", 1, "1@x", NULL, NULL }, { "Re: a", 3, "2@x", "<1@x>",
	    NULL }, { "Re: a", 2, "3@x", "<1@x>", NULL } },
	  "(1 (3)(2))", 0 },
	{ "In-Reply-To without References",
	  { { "a", 1, "1@x", NULL, NULL }, { "b", 2, "2@x", NULL,
	    "Your mail <1@x>" } }, "(1 2)", 0 },
	{ "References win over In-Reply-To",
	  { { "a", 1, "1@x", NULL, NULL }, { "b", 2, "2@x", NULL, NULL },
	    { "c", 3, "3@x", "<2@x>", "<1@x>" } }, "(1)(2 3)", 0 },
	{ "missing parent: a dummy with two children stays",
	  { { "p", 1, "1@x", "<0@x>", NULL }, { "q", 2, "2@x", "<0@x>",
	    NULL } }, "((1)(2))", 0 },
	{ "missing parent with one child is pruned",
	  { { "p", 1, "1@x", "<0@x>", NULL } }, "(1)", 0 },
	{ "chain through a missing middle",
	  { { "a", 1, "1@x", NULL, NULL }, { "c", 3, "3@x",
	    "<1@x> <2@x>", NULL } }, "(1 2)", 0 },
	{ "same subject roots merge under a dummy",
	  { { "Lunch", 1, "1@x", NULL, NULL }, { "lunch", 2, "2@x", NULL,
	    NULL } }, "((1)(2))", 0 },
	{ "a Re: root goes under the non-reply",
	  { { "Lunch", 1, "1@x", NULL, NULL }, { "Re: lunch", 2, "2@x",
	    NULL, NULL } }, "(1 2)", 0 },
	{ "the non-reply takes the subject even when later",
	  { { "Re: Lunch", 1, "1@x", NULL, NULL }, { "lunch", 2, "2@x",
	    NULL, NULL } }, "(2 1)", 0 },
	{ "empty subjects never merge",
	  { { "", 1, "1@x", NULL, NULL }, { "", 2, "2@x", NULL, NULL } },
	  "(1)(2)", 0 },
	{ "roots in date order, ties by sequence",
	  { { "a", 5, "1@x", NULL, NULL }, { "b", 3, "2@x", NULL, NULL },
	    { "c", 3, "3@x", NULL, NULL } }, "(2)(3)(1)", 0 },
	/* hostile */
	{ "two messages naming each other: the first link holds",
	  { { "a", 1, "1@x", "<2@x>", NULL }, { "b", 2, "2@x", "<1@x>",
	    NULL } }, "(2 1)", 0 },
	{ "a message referring to itself",
	  { { "a", 1, "1@x", "<1@x>", NULL } }, "(1)", 0 },
	{ "a loop inside References",
	  { { "a", 1, "1@x", "<5@x> <6@x> <5@x>", NULL } }, "(1)", 0 },
	{ "duplicate Message-ID: the second is unique",
	  { { "a", 1, "1@x", NULL, NULL }, { "b", 2, "1@x", NULL, NULL },
	    { "c", 3, "3@x", "<1@x>", NULL } }, "(1 3)(2)", 0 },
	{ "no Message-ID at all",
	  { { "a", 1, NULL, NULL, NULL }, { "b", 2, NULL, "<>", NULL } },
	  "(1)(2)", 0 },
	{ "junk references",
	  { { "a", 1, "1@x", "<<<>>> <no-at> < @ > <1@x", "garbage" } },
	  "(1)", 0 },
	{ "References to many missing IDs",
	  { { "a", 1, "1@x", "<a@1> <b@1> <c@1> <d@1> <e@1> <f@1>",
	    NULL }, { "b", 2, "2@x", "<a@1> <b@1> <z@1>", NULL } },
	  "((1)(2))", 0 },
	{ "a full node table keeps every message",
	  { { "a", 1, "1@x", "<a@1> <b@1> <c@1>", NULL }, { "b", 2, "2@x",
	    "<1@x>", NULL }, { "c", 3, "3@x", "<d@1> <e@1>", NULL } },
	  "(1 2)(3)", 5 },
};

static struct thread_node	nodes[CAP];
static uint32_t			bucket[CAP], roots[CAP], idx[CAP];

static uint64_t
subj_of(const char *s)
{
	char base[256];
	int reply;
	size_t n = sortkey_subject(s, strlen(s), base, sizeof base, &reply);

	return n == 0 ? 0 : (sortkey_hash(base, n) & ~1ull) | 2u |
	    (unsigned)reply;
}

static uint64_t
first_id(const char *v)
{
	const char *id;
	size_t pos = 0, len;

	if (v == NULL || !msgid_next(v, strlen(v), &pos, &id, &len)) {
		return 0;
	}
	return sortkey_hash(id, len) | 1;
}

static void
sort_kids(struct thread_set *t)
{
	uint32_t n = 0;

	for (uint32_t i = 1; i < t->nn; i++) {
		if (t->n[i].parent != 0 && t->n[i].parent != THREAD_GONE) {
			uint32_t k = n++;

			while (k > 0 && thread_child_before(t, i,
			    idx[k - 1])) {
				idx[k] = idx[k - 1];
				k--;
			}
			idx[k] = i;
		}
	}
	for (uint32_t k = 0; k < n; k++) {
		t->n[t->n[idx[k]].parent].child = 0;
	}
	while (n-- > 0) {
		struct thread_node *c = &t->n[idx[n]];

		c->next = t->n[c->parent].child;
		t->n[c->parent].child = idx[n];
	}
}

static void
sort_roots(struct thread_set *t)
{
	for (uint32_t i = 1; i < t->nroots; i++) {
		uint32_t r = t->roots[i], k = i;

		while (k > 0 && thread_root_before(t, r, t->roots[k - 1])) {
			t->roots[k] = t->roots[k - 1];
			k--;
		}
		t->roots[k] = r;
	}
}

static size_t
fmt_node(const struct thread_set *t, uint32_t x, char *out, size_t n,
    int space)
{
	uint32_t c = t->n[x].child;

	if (t->n[x].seq != 0) {
		n += (size_t)sprintf(out + n, "%s%u", space ? " " : "",
		    t->n[x].seq);
		space = 1;
	}
	if (c != 0 && t->n[c].next == 0) {
		return fmt_node(t, c, out, n, space);
	}
	if (c != 0 && space) {
		out[n++] = ' ';
	}
	for (; c != 0; c = t->n[c].next) {
		out[n++] = '(';
		n = fmt_node(t, c, out, n, 0);
		out[n++] = ')';
	}
	return n;
}

static void
run(const struct thread_case *tc, char *out)
{
	struct thread_set t;
	uint32_t cap = tc->cap ? tc->cap : CAP, nmsg = 0, nb = 1;
	size_t n = 0;

	while (tc->m[nmsg].subj != NULL) {
		nmsg++;
	}
	while (nb * 2 <= cap) {
		nb *= 2;
	}
	thread_init(&t, nodes, cap, bucket, nb, roots);
	for (uint32_t i = 0; i < nmsg; i++) {
		const struct m *m = &tc->m[i];

		assert_true(thread_add(&t, i + 1, m->date, subj_of(m->subj),
		    m->id ? sortkey_hash(m->id, strlen(m->id)) | 1 : 0,
		    m->refs, m->refs ? strlen(m->refs) : 0,
		    first_id(m->irt), nmsg - i - 1) != 0);
	}
	assert_true(t.nn <= cap);
	for (uint32_t i = 1; i < t.nn; i++) {
		thread_root_of(&t, i);
	}
	for (uint32_t i = 1; i < t.nn; i++) {
		thread_prune(&t, i);
	}
	thread_prune_roots(&t);
	sort_kids(&t);
	sort_roots(&t);
	memset(bucket, 0, sizeof bucket);
	for (uint32_t k = 0; k < t.nroots; k++) {
		thread_subject_add(&t, k);
	}
	for (uint32_t k = 0, end = t.nroots; k < end; k++) {
		thread_subject_merge(&t, k);
	}
	thread_roots_compact(&t);
	sort_kids(&t);
	sort_roots(&t);
	for (uint32_t k = 0; k < t.nroots; k++) {
		out[n++] = '(';
		n = fmt_node(&t, t.roots[k], out, n, 0);
		out[n++] = ')';
	}
	out[n] = '\0';
}

static void
test_references(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[4096];

		run(&cases[i], out);
		if (strcmp(out, cases[i].want) != 0) {
			fail_msg("%s: got %s, want %s", cases[i].desc, out,
			    cases[i].want);
		}
	}
}

/* A chain deeper than IMAP_THREAD_DEPTH_MAX: every message is linked
 * or left a root, never a loop, and the walk stays bounded. */
static void
test_deep_chain(void **state)
{
	static char refs[64];
	struct thread_set t;
	uint32_t n = IMAP_THREAD_DEPTH_MAX + 50, roots_seen = 0;

	(void)state;
	assert_true(n < CAP);
	thread_init(&t, nodes, CAP, bucket, 4096, roots);
	for (uint32_t i = 0; i < n; i++) {
		char id[32];

		snprintf(id, sizeof id, "%u@x", i + 1);
		snprintf(refs, sizeof refs, "<%u@x>", i);
		assert_true(thread_add(&t, i + 1, i, 0, sortkey_hash(id,
		    strlen(id)) | 1, i > 0 ? refs : NULL, i > 0 ?
		    strlen(refs) : 0, 0, n - i - 1) != 0);
	}
	for (uint32_t i = 1; i < t.nn; i++) {
		thread_root_of(&t, i);
	}
	for (uint32_t k = 0; k < t.nroots; k++) {
		roots_seen += t.n[t.roots[k]].seq != 0;
	}
	assert_true(roots_seen >= 1 && roots_seen <= 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_references),
		cmocka_unit_test(test_deep_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
