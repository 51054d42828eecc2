/* SPDX-License-Identifier: ISC */
/*
 * test_modseq.c - the wren-modseq codec and recovery rules
 * (store/modseq.h): one table of lines (modseq_parse, formatted again
 * with modseq_format and parsed to the same record), one table of
 * whole files fed line by line (modseq_load_*): what may be trusted
 * and the first value above everything that may have been handed out.
 * At least half of each table is bad or hostile input. Inputs are
 * copied to heap blocks of exactly their length (ASan sees a read past
 * the end).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/modseq.h"

#define L(s)	(s), sizeof(s) - 1

struct line_case {
	const char	*desc;
	const char	*in;
	size_t		 len;
	int		 kind;
	uint32_t	 uid;
	uint64_t	 value;
	uint64_t	 count;
	uint32_t	 flags, keywords, uidvalidity;
};

static const struct line_case line_cases[] = {
	{ "header", L("wren-modseq 1 1700000000 111408025600000"),
	  MODSEQ_HEADER, 0, 111408025600000u, 0, 0, 0, 1700000000 },
	{ "ceiling", L("C 4097"), MODSEQ_CEIL, 0, 4097, 0, 0, 0, 0 },
	{ "message", L("M 7 123456 16 5"), MODSEQ_MSG, 7, 123456, 0, 16,
	  5, 0 },
	{ "message, no flags", L("M 4294967295 9 0 0"), MODSEQ_MSG,
	  4294967295u, 9, 0, 0, 0, 0 },
	{ "expunge mark", L("X 42"), MODSEQ_EXP, 0, 42, 0, 0, 0, 0 },
	{ "clean end", L("E 9223372036854775807 0"), MODSEQ_END, 0,
	  9223372036854775807u, 0, 0, 0, 0 },
	{ "all 26 keywords", L("M 1 1 63 67108863"), MODSEQ_MSG, 1, 1, 0,
	  63, 67108863, 0 },
	/* hostile */
	{ "empty", L(""), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "unknown kind", L("Q 1"), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "no space after kind", L("C4097"), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "two spaces", L("C  4097"), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "trailing space", L("C 4097 "), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "leading zero", L("C 04097"), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "modseq 0", L("X 0"), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "modseq 2^63", L("C 9223372036854775808"), MODSEQ_BAD, 0, 0, 0,
	  0, 0, 0 },
	{ "modseq 2^64 + 1 wraps", L("C 18446744073709551617"), MODSEQ_BAD,
	  0, 0, 0, 0, 0, 0 },
	{ "uid 0", L("M 0 5 0 0"), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "uid 2^32", L("M 4294967296 5 0 0"), MODSEQ_BAD, 0, 0, 0, 0, 0,
	  0 },
	{ "keywords past z", L("M 1 5 0 67108864"), MODSEQ_BAD, 0, 0, 0, 0,
	  0, 0 },
	{ "message missing a field", L("M 1 5 0"), MODSEQ_BAD, 0, 0, 0, 0,
	  0, 0 },
	{ "message with a field more", L("M 1 5 0 0 0"), MODSEQ_BAD, 0, 0,
	  0, 0, 0, 0 },
	{ "negative", L("C -5"), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "NUL inside", L("C 4\0097"), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "CR at the end", L("C 4097\r"), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "header uidvalidity 0", L("wren-modseq 1 0 5"), MODSEQ_BAD, 0,
	  0, 0, 0, 0, 0 },
	{ "header version 2", L("wren-modseq 2 1 5"), MODSEQ_BAD, 0, 0, 0,
	  0, 0, 0 },
	{ "header base past 2^63 - 2^32", L("wren-modseq 1 1 "
	  "9223372032559808513"), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "header cut", L("wren-modseq 1 "), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "end without count", L("E 5"), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
	{ "hex", L("C 0x10"), MODSEQ_BAD, 0, 0, 0, 0, 0, 0 },
};

static void
test_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof line_cases / sizeof line_cases[0];
	    i++) {
		const struct line_case *c = &line_cases[i];
		char *in = malloc(c->len + 1), out[MODSEQ_LINE_MAX + 1];
		struct modseq_rec r, r2;
		size_t n;

		memcpy(in, c->in, c->len);
		print_message("  %s\n", c->desc);
		assert_int_equal(modseq_parse(in, c->len, &r), c->kind);
		if (c->kind != MODSEQ_BAD) {
			assert_int_equal(r.uid, c->uid);
			assert_true(r.value == c->value);
			assert_true(r.count == c->count);
			assert_int_equal(r.flags, c->flags);
			assert_int_equal(r.keywords, c->keywords);
			assert_int_equal(r.uidvalidity, c->uidvalidity);
			n = modseq_format(out, sizeof out, &r);
			assert_true(n > 0 && n < sizeof out);
			assert_int_equal(out[n - 1], '\n');
			assert_int_equal(n - 1, c->len);
			assert_memory_equal(out, c->in, c->len);
			/* too small a buffer: untouched */
			out[0] = '#';
			assert_int_equal(modseq_format(out, n, &r), n);
			assert_int_equal(out[0], '#');
			assert_int_equal(modseq_parse(in, c->len, &r2),
			    c->kind);
		}
		free(in);
	}
}

struct load_case {
	const char	*desc;
	const char	*file;		/* lines */
	int		 trusted;
	uint64_t	 fresh;
	uint64_t	 vanished;
	int		 header;
};

static const struct load_case load_cases[] = {
	{ "clean file: highest + 1",
	  "wren-modseq 1 9 1000\nC 5096\nM 1 1001 16 0\nM 2 1005 0 0\n"
	  "E 1007 2\n", 1, 1008, 0, 1 },
	{ "clean with an expunge mark",
	  "wren-modseq 1 9 1000\nC 5096\nX 1003\nE 1004 0\n", 1, 1005,
	  1003, 1 },
	{ "a batch after E, no E again: past the ceiling",
	  "wren-modseq 1 9 1000\nC 5096\nE 1004 0\nM 1 1005 0 0\n", 0,
	  5097, 0, 1 },
	{ "ceiling raised twice, crash: the higher one",
	  "wren-modseq 1 9 1000\nC 5096\nC 9192\nM 1 6000 0 0\n", 0, 9193,
	  0, 1 },
	/* hostile */
	{ "empty file", "", 0, 1, 0, 0 },
	{ "no header first", "C 5096\nwren-modseq 1 9 1000\n", 0, 1, 0, 0 },
	{ "torn last line: not clean even after E",
	  "wren-modseq 1 9 1000\nC 5096\nE 1004 0\nM 1 10", 0, 5097, 0, 1 },
	{ "a value below base stops the file",
	  "wren-modseq 1 9 1000\nC 5096\nM 1 999 0 0\nE 1004 0\n", 0, 5097,
	  0, 1 },
	{ "a value 2^32 past base stops the file",
	  "wren-modseq 1 9 1000\nC 5096\nM 1 4294968296 0 0\nE 4294968296 0\n",
	  0, 5097, 0, 1 },
	{ "a second header stops the file",
	  "wren-modseq 1 9 1000\nC 5096\nwren-modseq 1 9 2000\nE 1004 0\n",
	  0, 5097, 0, 1 },
	{ "garbage line in the middle",
	  "wren-modseq 1 9 1000\nC 5096\n\xff\xfe\nE 1004 0\n", 0, 5097, 0,
	  1 },
};

static void
test_load(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof load_cases / sizeof load_cases[0];
	    i++) {
		const struct load_case *c = &load_cases[i];
		const char *p = c->file, *end = p + strlen(p);
		struct modseq_load ld;
		struct modseq_rec r;

		print_message("  %s\n", c->desc);
		modseq_load_init(&ld);
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n;
			char *line;

			if (nl == NULL) {
				ld.clean = 0;	/* as the reader does */
				break;
			}
			n = (size_t)(nl - p);
			line = malloc(n + 1);
			memcpy(line, p, n);
			(void)modseq_load_line(&ld, line, n, &r);
			free(line);
			p = nl + 1;
		}
		assert_int_equal(ld.header, c->header);
		assert_int_equal(modseq_load_trusted(&ld), c->trusted);
		assert_true(modseq_load_fresh(&ld) == c->fresh);
		assert_true(ld.vanished == c->vanished);
	}
}

static void
test_floor(void **state)
{
	(void)state;
	assert_true(modseq_floor(0) == 1);
	assert_true(modseq_floor(-5) == 1);
	assert_true(modseq_floor(1700000000000000) ==
	    (uint64_t)1700000000000000 * 16);
	/* a microsecond later is above 15 changes of the earlier one */
	assert_true(modseq_floor(1700000000000001) > modseq_floor(
	    1700000000000000) + 15);
	assert_true(modseq_floor(INT64_MAX) == MODSEQ_MAX - MODSEQ_SPAN);
	assert_true(modseq_floor((int64_t)((MODSEQ_MAX - MODSEQ_SPAN) / 16))
	    <= MODSEQ_MAX - MODSEQ_SPAN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_floor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
