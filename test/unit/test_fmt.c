/* SPDX-License-Identifier: ISC */
/*
 * test_fmt.c - our printf-style formatter (core/fmt.h) against the
 * host's snprintf, which is the reference: every case is formatted by
 * both, at several buffer sizes, and must give the same return value
 * and the same bytes (including what lies past the NUL). Behaviour
 * that C leaves undefined (NULL for %s, unknown conversions) is
 * checked against fixed expectations instead.
 *
 * Only src/ is barred from the printf family; a test may use it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/fmt.h"

#define OUT_MAX		512

/* The arguments a case passes after the format. */
enum argk {
	A_NONE,		/* none */
	A_INT,		/* int i */
	A_UINT,		/* unsigned u */
	A_LONG,		/* long i */
	A_ULONG,	/* unsigned long u */
	A_LL,		/* long long i */
	A_ULL,		/* unsigned long long u */
	A_SIZE,		/* size_t u */
	A_SSIZE,	/* ssize_t i */
	A_IMAX,		/* intmax_t i */
	A_UMAX,		/* uintmax_t u */
	A_PTRDIFF,	/* ptrdiff_t i */
	A_STR,		/* const char *s */
	A_W_INT,	/* int w, int i */
	A_W_STR,	/* int w, const char *s */
	A_W_P_INT,	/* int w, int p, int i */
	A_STR_INT	/* const char *s, int i */
};

struct fcase {
	const char		*desc;
	const char		*f;
	enum argk		 k;
	long long		 i;
	unsigned long long	 u;
	const char		*s;
	int			 w, p;
};

/* Formats c with fmt (ref == 0) or snprintf (ref == 1). */
static int
run(int ref, char *buf, size_t cap, const struct fcase *c)
{
#define CALL(...)	(ref ? snprintf(buf, cap, c->f, __VA_ARGS__) : \
			    fmt(buf, cap, c->f, __VA_ARGS__))
	switch (c->k) {
	case A_NONE:
		return CALL(0);
	case A_INT:
		return CALL((int)c->i);
	case A_UINT:
		return CALL((unsigned)c->u);
	case A_LONG:
		return CALL((long)c->i);
	case A_ULONG:
		return CALL((unsigned long)c->u);
	case A_LL:
		return CALL(c->i);
	case A_ULL:
		return CALL(c->u);
	case A_SIZE:
		return CALL((size_t)c->u);
	case A_SSIZE:
		return CALL((ssize_t)c->i);
	case A_IMAX:
		return CALL((intmax_t)c->i);
	case A_UMAX:
		return CALL((uintmax_t)c->u);
	case A_PTRDIFF:
		return CALL((ptrdiff_t)c->i);
	case A_STR:
		return CALL(c->s);
	case A_W_INT:
		return CALL(c->w, (int)c->i);
	case A_W_STR:
		return CALL(c->w, c->s);
	case A_W_P_INT:
		return CALL(c->w, c->p, (int)c->i);
	case A_STR_INT:
		return CALL(c->s, (int)c->i);
	}
#undef CALL
	fail_msg("%s: no argument kind", c->desc);
	return -1;
}

/* ---------------------------------------------------------------- */
/* Cases compared with snprintf. */

static const struct fcase ref_cases[] = {
	/* plain text and %% */
	{ "plain text", "hello, world", A_NONE, 0, 0, NULL, 0, 0 },
	{ "empty format", "", A_NONE, 0, 0, NULL, 0, 0 },
	{ "percent sign", "100%% sure", A_NONE, 0, 0, NULL, 0, 0 },
	{ "two percent signs", "%%%%", A_NONE, 0, 0, NULL, 0, 0 },
	/* %d %i */
	{ "%d zero", "%d", A_INT, 0, 0, NULL, 0, 0 },
	{ "%d positive", "%d", A_INT, 42, 0, NULL, 0, 0 },
	{ "%d negative", "%d", A_INT, -42, 0, NULL, 0, 0 },
	{ "%d INT_MAX", "%d", A_INT, INT_MAX, 0, NULL, 0, 0 },
	{ "%d INT_MIN", "%d", A_INT, INT_MIN, 0, NULL, 0, 0 },
	{ "%i negative", "%i", A_INT, -7, 0, NULL, 0, 0 },
	{ "%ld LONG_MIN", "%ld", A_LONG, LONG_MIN, 0, NULL, 0, 0 },
	{ "%lld LLONG_MIN", "%lld", A_LL, LLONG_MIN, 0, NULL, 0, 0 },
	{ "%lld LLONG_MAX", "%lld", A_LL, LLONG_MAX, 0, NULL, 0, 0 },
	{ "%lli negative", "%lli", A_LL, -1234567890123LL, 0, NULL, 0, 0 },
	{ "%zd -1", "%zd", A_SSIZE, -1, 0, NULL, 0, 0 },
	{ "%jd INTMAX_MIN", "%jd", A_IMAX, INTMAX_MIN, 0, NULL, 0, 0 },
	{ "%td negative", "%td", A_PTRDIFF, -5, 0, NULL, 0, 0 },
	{ "%hd wraps", "%hd", A_INT, 40000, 0, NULL, 0, 0 },
	{ "%hhd wraps", "%hhd", A_INT, 200, 0, NULL, 0, 0 },
	{ "%hhd -128", "%hhd", A_INT, -128, 0, NULL, 0, 0 },
	/* %u %x %X */
	{ "%u UINT_MAX", "%u", A_UINT, 0, UINT_MAX, NULL, 0, 0 },
	{ "%u of a negative int", "%u", A_INT, -1, 0, NULL, 0, 0 },
	{ "%lu ULONG_MAX", "%lu", A_ULONG, 0, ULONG_MAX, NULL, 0, 0 },
	{ "%llu ULLONG_MAX", "%llu", A_ULL, 0, ULLONG_MAX, NULL, 0, 0 },
	{ "%zu SIZE_MAX", "%zu", A_SIZE, 0, SIZE_MAX, NULL, 0, 0 },
	{ "%zu zero", "%zu", A_SIZE, 0, 0, NULL, 0, 0 },
	{ "%ju UINTMAX_MAX", "%ju", A_UMAX, 0, UINTMAX_MAX, NULL, 0, 0 },
	{ "%hu wraps", "%hu", A_INT, 70000, 0, NULL, 0, 0 },
	{ "%hhu wraps 300 to 44", "%hhu", A_INT, 300, 0, NULL, 0, 0 },
	{ "%hhu of -1", "%hhu", A_INT, -1, 0, NULL, 0, 0 },
	{ "%x", "%x", A_UINT, 0, 0xdeadbeef, NULL, 0, 0 },
	{ "%X", "%X", A_UINT, 0, 0xdeadbeef, NULL, 0, 0 },
	{ "%x zero", "%x", A_UINT, 0, 0, NULL, 0, 0 },
	{ "%x of a negative int", "%x", A_INT, -2, 0, NULL, 0, 0 },
	{ "%llx ULLONG_MAX", "%llx", A_ULL, 0, ULLONG_MAX, NULL, 0, 0 },
	{ "%llX", "%llX", A_ULL, 0, 0x0123456789abcdefULL, NULL, 0, 0 },
	{ "%zx", "%zx", A_SIZE, 0, 0xabc, NULL, 0, 0 },
	{ "%hhx", "%hhx", A_INT, 0x1ff, 0, NULL, 0, 0 },
	/* widths and flags */
	{ "width pads left", "[%5d]", A_INT, 42, 0, NULL, 0, 0 },
	{ "width, negative", "[%5d]", A_INT, -42, 0, NULL, 0, 0 },
	{ "'-' pads right", "[%-5d]", A_INT, 42, 0, NULL, 0, 0 },
	{ "'0' pads with zeros", "[%05d]", A_INT, 42, 0, NULL, 0, 0 },
	{ "'0' after the sign", "[%05d]", A_INT, -42, 0, NULL, 0, 0 },
	{ "'-' wins over '0'", "[%-05d]", A_INT, -42, 0, NULL, 0, 0 },
	{ "'0' then '-'", "[%0-5d]", A_INT, 42, 0, NULL, 0, 0 },
	{ "width narrower than the number", "[%2d]", A_INT, 12345, 0, NULL,
	  0, 0 },
	{ "'0' with %x", "[%08x]", A_UINT, 0, 0xbeef, NULL, 0, 0 },
	{ "'0' with %X", "[%08X]", A_UINT, 0, 0xbeef, NULL, 0, 0 },
	{ "'0' with %u", "[%010u]", A_UINT, 0, 7, NULL, 0, 0 },
	{ "wide %llu", "[%025llu]", A_ULL, 0, ULLONG_MAX, NULL, 0, 0 },
	{ "wide '-' %lld", "[%-25lld]", A_LL, LLONG_MIN, 0, NULL, 0, 0 },
	{ "'0' %lld LLONG_MIN", "[%025lld]", A_LL, LLONG_MIN, 0, NULL, 0,
	  0 },
	{ "very wide", "[%300d]", A_INT, 1, 0, NULL, 0, 0 },
	/* precision on integers */
	{ "precision pads with zeros", "[%.5d]", A_INT, 42, 0, NULL, 0, 0 },
	{ "precision, negative", "[%.5d]", A_INT, -42, 0, NULL, 0, 0 },
	{ "width and precision", "[%8.5d]", A_INT, -42, 0, NULL, 0, 0 },
	{ "width, precision, '-'", "[%-8.5d]", A_INT, -42, 0, NULL, 0, 0 },
	{ "'0' ignored with precision", "[%08.5d]", A_INT, 42, 0, NULL, 0,
	  0 },
	{ "precision 0, value 0", "[%.0d]", A_INT, 0, 0, NULL, 0, 0 },
	{ "precision '.', value 0", "[%.d]", A_INT, 0, 0, NULL, 0, 0 },
	{ "precision 0 with width, value 0", "[%5.0d]", A_INT, 0, 0, NULL,
	  0, 0 },
	{ "precision 0, value 7", "[%.0d]", A_INT, 7, 0, NULL, 0, 0 },
	{ "precision 0 %u zero", "[%.0u]", A_UINT, 0, 0, NULL, 0, 0 },
	{ "precision 0 %x zero", "[%.0x]", A_UINT, 0, 0, NULL, 0, 0 },
	{ "precision on %x", "[%.3x]", A_UINT, 0, 0xa, NULL, 0, 0 },
	{ "precision below the digits", "[%.2d]", A_INT, 12345, 0, NULL, 0,
	  0 },
	{ "precision on LLONG_MIN", "[%.25lld]", A_LL, LLONG_MIN, 0, NULL,
	  0, 0 },
	/* strings */
	{ "%s", "<%s>", A_STR, 0, 0, "hello", 0, 0 },
	{ "%s empty", "<%s>", A_STR, 0, 0, "", 0, 0 },
	{ "%s width", "[%10s]", A_STR, 0, 0, "hello", 0, 0 },
	{ "%s '-' width", "[%-10s]", A_STR, 0, 0, "hello", 0, 0 },
	{ "%s width narrower", "[%2s]", A_STR, 0, 0, "hello", 0, 0 },
	{ "%s precision cuts", "[%.3s]", A_STR, 0, 0, "hello", 0, 0 },
	{ "%s precision longer", "[%.10s]", A_STR, 0, 0, "hi", 0, 0 },
	{ "%s precision 0", "[%.0s]", A_STR, 0, 0, "hello", 0, 0 },
	{ "%s width and precision", "[%8.3s]", A_STR, 0, 0, "hello", 0, 0 },
	{ "%s '-', width, precision", "[%-8.3s]", A_STR, 0, 0, "hello", 0,
	  0 },
	{ "%s very wide", "[%300s]", A_STR, 0, 0, "x", 0, 0 },
	{ "%s with high bytes", "<%s>", A_STR, 0, 0, "caf\xc3\xa9", 0, 0 },
	/* '*' */
	{ "%.*s cuts", "[%.*s]", A_W_STR, 0, 0, "hello", 3, 0 },
	{ "%.*s zero", "[%.*s]", A_W_STR, 0, 0, "hello", 0, 0 },
	{ "%.*s negative is no precision", "[%.*s]", A_W_STR, 0, 0,
	  "hello", -1, 0 },
	{ "%.*s past a short string", "[%.*s]", A_W_STR, 0, 0, "ab", 64,
	  0 },
	{ "%*s", "[%*s]", A_W_STR, 0, 0, "ab", 6, 0 },
	{ "%*s negative width pads right", "[%*s]", A_W_STR, 0, 0, "ab",
	  -6, 0 },
	{ "%*d", "[%*d]", A_W_INT, 42, 0, NULL, 5, 0 },
	{ "%*d negative width", "[%*d]", A_W_INT, 42, 0, NULL, -5, 0 },
	{ "%*d zero width", "[%*d]", A_W_INT, 42, 0, NULL, 0, 0 },
	{ "%0*d", "[%0*d]", A_W_INT, -3, 0, NULL, 5, 0 },
	{ "%.*d", "[%.*d]", A_W_INT, 7, 0, NULL, 3, 0 },
	{ "%.*d negative precision", "[%.*d]", A_W_INT, 7, 0, NULL, -1, 0 },
	{ "'0' stays when '*' precision is negative", "[%06.*d]", A_W_INT,
	  7, 0, NULL, -1, 0 },
	{ "%*.*d", "[%*.*d]", A_W_P_INT, -42, 0, NULL, 8, 4 },
	{ "%-*.*d", "[%-*.*d]", A_W_P_INT, 42, 0, NULL, 8, 4 },
	/* %c */
	{ "%c", "<%c>", A_INT, 'A', 0, NULL, 0, 0 },
	{ "%c width", "[%3c]", A_INT, 'A', 0, NULL, 0, 0 },
	{ "%c '-' width", "[%-3c]", A_INT, 'A', 0, NULL, 0, 0 },
	{ "%c NUL byte", "<%c>", A_INT, 0, 0, NULL, 0, 0 },
	{ "%c high byte", "<%c>", A_INT, 0xe9, 0, NULL, 0, 0 },
	/* several conversions */
	{ "%s and %d", "%s=%d;", A_STR_INT, -1, 0, "key", 0, 0 },
	{ "log-like line", "smtp %s: %5d bytes", A_STR_INT, 1000, 0,
	  "in", 0, 0 },
};

/* Buffer sizes each case is formatted into: nothing, only the NUL,
 * a few bytes, and plenty. */
static const size_t caps[] = { 0, 1, 2, 3, 7, 16, OUT_MAX };

static void
test_fmt_vs_snprintf(void **state)
{
	char got[OUT_MAX + 8], want[OUT_MAX + 8];

	(void)state;
	for (size_t i = 0; i < sizeof ref_cases / sizeof ref_cases[0]; i++) {
		const struct fcase *c = &ref_cases[i];

		for (size_t j = 0; j < sizeof caps / sizeof caps[0]; j++) {
			int ng, nw;

			memset(got, 'Z', sizeof got);
			memset(want, 'Z', sizeof want);
			ng = run(0, got, caps[j], c);
			nw = run(1, want, caps[j], c);
			if (ng != nw) {
				fail_msg("%s (cap %zu): returned %d, snprintf "
				    "%d", c->desc, caps[j], ng, nw);
			}
			if (memcmp(got, want, sizeof got) != 0) {
				fail_msg("%s (cap %zu): \"%s\", snprintf "
				    "\"%s\"", c->desc, caps[j],
				    caps[j] > 0 ? got : "",
				    caps[j] > 0 ? want : "");
			}
		}
	}
}

/* ---------------------------------------------------------------- */
/* Cases where C gives no answer, so ours is written down. */

static const struct {
	struct fcase	 c;
	const char	*want;
} fixed_cases[] = {
	{ { "NULL %s", "<%s>", A_STR, 0, 0, NULL, 0, 0 }, "<(null)>" },
	{ { "NULL %s with width", "[%8s]", A_STR, 0, 0, NULL, 0, 0 },
	  "[  (null)]" },
	{ { "NULL %s with '-' width", "[%-8s]", A_STR, 0, 0, NULL, 0, 0 },
	  "[(null)  ]" },
	{ { "NULL %.*s", "[%.*s]", A_W_STR, 0, 0, NULL, 6, 0 },
	  "[(null)]" },
	{ { "unknown conversion is copied", "a%yb", A_NONE, 0, 0, NULL, 0,
	    0 }, "a%yb" },
	{ { "lone '%' at the end", "100%", A_NONE, 0, 0, NULL, 0, 0 },
	  "100%" },
	{ { "unknown conversion after flags", "[%-5q]", A_NONE, 0, 0, NULL,
	    0, 0 }, "[%q]" },
};

static void
test_fmt_fixed(void **state)
{
	char got[OUT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof fixed_cases / sizeof fixed_cases[0];
	    i++) {
		const struct fcase *c = &fixed_cases[i].c;
		int n = run(0, got, sizeof got, c);

		if (strcmp(got, fixed_cases[i].want) != 0 ||
		    n != (int)strlen(fixed_cases[i].want)) {
			fail_msg("%s: \"%s\" (%d), want \"%s\"", c->desc, got,
			    n, fixed_cases[i].want);
		}
	}
}

/* ---------------------------------------------------------------- */
/* Truncation: the return value is the full length, the output is cut
 * at cap-1 and NUL-terminated, and nothing past cap is touched. */

static const struct {
	struct fcase	 c;
	size_t		 cap;
	const char	*want;	/* NULL: buffer untouched */
	int		 n;
} trunc_cases[] = {
	{ { "cap 0 writes nothing", "hello", A_NONE, 0, 0, NULL, 0, 0 }, 0,
	  NULL, 5 },
	{ { "cap 1 is only the NUL", "hello", A_NONE, 0, 0, NULL, 0, 0 }, 1,
	  "", 5 },
	{ { "cap 3 keeps two bytes", "hello", A_NONE, 0, 0, NULL, 0, 0 }, 3,
	  "he", 5 },
	{ { "cap of the length loses the last byte", "hello", A_NONE, 0, 0,
	    NULL, 0, 0 }, 5, "hell", 5 },
	{ { "cap of length+1 fits", "hello", A_NONE, 0, 0, NULL, 0, 0 }, 6,
	  "hello", 5 },
	{ { "string argument cut", "[%s]", A_STR, 0, 0, "abcdef", 0, 0 }, 4,
	  "[ab", 8 },
	{ { "number cut inside its digits", "%d", A_INT, -12345, 0, NULL,
	    0, 0 }, 4, "-12", 6 },
	{ { "padding cut", "[%10d]", A_INT, 1, 0, NULL, 0, 0 }, 4, "[  ",
	  12 },
	{ { "cap 0 still measures", "%llu", A_ULL, 0, ULLONG_MAX, NULL, 0,
	    0 }, 0, NULL, 20 },
};

static void
test_fmt_truncation(void **state)
{
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof trunc_cases / sizeof trunc_cases[0];
	    i++) {
		const struct fcase *c = &trunc_cases[i].c;
		size_t cap = trunc_cases[i].cap;
		const char *want = trunc_cases[i].want;
		int n;

		memset(buf, 'Z', sizeof buf);
		n = run(0, buf, cap, c);
		if (n != trunc_cases[i].n) {
			fail_msg("%s: returned %d, want %d", c->desc, n,
			    trunc_cases[i].n);
		}
		if (want == NULL) {
			assert_int_equal(buf[0], 'Z');
		} else if (strcmp(buf, want) != 0) {
			fail_msg("%s: \"%s\", want \"%s\"", c->desc, buf,
			    want);
		}
		for (size_t j = cap; j < sizeof buf; j++) {
			if (buf[j] != 'Z') {
				fail_msg("%s: byte %zu past cap written",
				    c->desc, j);
			}
		}
	}
	/* With cap 0 the destination may be NULL: a length query. */
	assert_int_equal(fmt(NULL, 0, "%s-%d", "abc", 12345), 9);
}

/* ---------------------------------------------------------------- */
/* %p: "0x" and the pointer's value in hex. */

static void
test_fmt_pointer(void **state)
{
	static const int object = 1;
	const void *ptrs[] = { &object, &ptrs, (const void *)0x1000 };
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) {
		char *end;
		int n = fmt(buf, sizeof buf, "%p", ptrs[i]);

		assert_int_equal(n, (int)strlen(buf));
		assert_memory_equal(buf, "0x", 2);
		assert_true(strspn(buf + 2, "0123456789abcdef") ==
		    strlen(buf + 2));
		assert_true(strtoull(buf + 2, &end, 16) ==
		    (unsigned long long)(uintptr_t)ptrs[i]);
		assert_true(*end == '\0');
	}
	fmt(buf, sizeof buf, "%p", (void *)NULL);
	assert_memory_equal(buf, "0x", 2);
}

/* ---------------------------------------------------------------- */
/* fmt_fd: the whole output reaches the fd, longer output is cut. */

static void
test_fmt_fd(void **state)
{
	char buf[FMT_FD_MAX * 2];
	size_t len = 0;
	ssize_t r;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fmt_fd(fds[1], "%s=%d\n", "key", -7), 0);
	assert_int_equal(fmt_fd(fds[1], "%3000s|", "x"), 0);
	close(fds[1]);
	while ((r = read(fds[0], buf + len, sizeof buf - len)) > 0) {
		len += (size_t)r;
	}
	close(fds[0]);
	assert_int_equal(len, 7 + FMT_FD_MAX - 1);
	assert_memory_equal(buf, "key=-7\n", 7);
	assert_int_equal(buf[7], ' ');
	assert_int_equal(buf[len - 1], ' ');	/* the '|' was cut */
	assert_int_equal(fmt_fd(-1, "x"), -1);
}

int
main(void)
{
	const struct CMUnitTest fmt_tests[] = {
		cmocka_unit_test(test_fmt_vs_snprintf),
		cmocka_unit_test(test_fmt_fixed),
		cmocka_unit_test(test_fmt_truncation),
		cmocka_unit_test(test_fmt_pointer),
		cmocka_unit_test(test_fmt_fd),
	};

	return cmocka_run_group_tests(fmt_tests, NULL, NULL) != 0;
}
