/* SPDX-License-Identifier: ISC */
/*
 * test_mime.c - the MIME structure parser and IMAP writers
 * (msg/mime.h) against Dovecot's own output.
 *
 * Every test/data/mime/NAME.eml has NAME.expect, made by regen.sh from
 * the real Dovecot: RFC822.SIZE, BODYSTRUCTURE, BODY, ENVELOPE and a
 * list of BODY[section] contents. Each fixture is checked byte for
 * byte when fed whole, in 1- and 7-octet chunks, and converted to CRLF
 * (the CRLF-form sizes must not change); the sections are cut from the
 * file with the part offsets and compared in CRLF form.
 *
 * A table of inline cases follows for what the fixtures cannot show:
 * limits (parts, arena, header length), truncated writer output, bad
 * section paths, and odd input.
 *
 * The piecewise writer (mime_wr_next) must give exactly the one-shot
 * text at any piece size, for every fixture, every part and the
 * hostile messages of big_cases (texts of hundreds of KB), and its
 * texts must be well-formed IMAP whatever their size.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msg/mime.h"

#define FIXTURES_MAX	64
#define OUT_MAX		(256 * 1024)

static struct mime m;		/* as the server keeps it: static */
static char out1[OUT_MAX], out2[OUT_MAX];

struct fixture {
	char	name[128];
	char	*eml;
	size_t	 eml_len;
	char	*expect;
	size_t	 expect_len;
};

static struct fixture fixtures[FIXTURES_MAX];
static size_t nfixtures;

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL) {
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(((const struct fixture *)a)->name,
	    ((const struct fixture *)b)->name);
}

static int
load_fixtures(void **state)
{
	const char *base = getenv("WREN_TEST_DATA");
	char dir[512], path[768];
	struct dirent *de;
	DIR *d;

	(void)state;
	if (base == NULL) {
		fprintf(stderr, "WREN_TEST_DATA is not set\n");
		return -1;
	}
	snprintf(dir, sizeof dir, "%s/mime", base);
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "%s: cannot open\n", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL && nfixtures < FIXTURES_MAX) {
		struct fixture *fx = &fixtures[nfixtures];
		size_t n = strlen(de->d_name);

		if (n < 5 || strcmp(de->d_name + n - 4, ".eml") != 0) {
			continue;
		}
		snprintf(fx->name, sizeof fx->name, "%.*s", (int)(n - 4),
		    de->d_name);
		snprintf(path, sizeof path, "%s/%s.eml", dir, fx->name);
		fx->eml = slurp(path, &fx->eml_len);
		snprintf(path, sizeof path, "%s/%s.expect", dir, fx->name);
		fx->expect = slurp(path, &fx->expect_len);
		if (fx->eml == NULL || fx->expect == NULL) {
			fprintf(stderr, "%s: missing .eml or .expect\n",
			    fx->name);
			closedir(d);
			return -1;
		}
		nfixtures++;
	}
	closedir(d);
	qsort(fixtures, nfixtures, sizeof fixtures[0], cmp_names);
	return 0;
}

static int
free_fixtures(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nfixtures; i++) {
		free(fixtures[i].eml);
		free(fixtures[i].expect);
	}
	return 0;
}

/* The value of `key` in an .expect file, unescaped into buf. */
static int
expect_get(const struct fixture *fx, const char *key, char *buf,
    size_t cap, size_t *len)
{
	size_t klen = strlen(key), i = 0, n = 0;
	const char *e = fx->expect, *end = fx->expect + fx->expect_len;

	while (e < end) {
		const char *nl = memchr(e, '\n', (size_t)(end - e));

		if (nl == NULL) {
			nl = end;
		}
		if ((size_t)(nl - e) > klen && memcmp(e, key, klen) == 0 &&
		    e[klen] == ' ') {
			for (i = klen + 1; e + i < nl && n < cap; i++) {
				char c = e[i];

				if (c == '\\' && e + i + 1 < nl) {
					i++;
					c = e[i] == 'r' ? '\r' :
					    e[i] == 'n' ? '\n' : e[i];
				}
				buf[n++] = c;
			}
			*len = n;
			return 1;
		}
		e = nl + 1;
	}
	return 0;
}

static void
parse_chunked(const char *data, size_t len, size_t chunk)
{
	size_t i;

	mime_init(&m);
	if (chunk == 0) {
		mime_feed(&m, data, len);
	} else {
		for (i = 0; i < len; i += chunk) {
			mime_feed(&m, data + i,
			    len - i < chunk ? len - i : chunk);
		}
	}
	mime_finish(&m);
}

static void
check_str(const struct fixture *fx, const char *what, const char *want,
    size_t wlen, const char *got, size_t glen)
{
	if (wlen != glen || memcmp(want, got, wlen) != 0) {
		fprintf(stderr, "%s: %s differs\n want %.*s\n got  %.*s\n",
		    fx->name, what, (int)wlen, want, (int)glen, got);
		fail();
	}
}

/* Offsets ordered and inside the input; sizes between the raw and
 * the all-bare-LF CRLF size; children inside their parent. */
static void
check_tree(size_t size)
{
	unsigned i, c;

	for (i = 0; i < m.nparts; i++) {
		const struct mime_part *p = &m.parts[i];

		assert_true(p->hdr_off <= p->body_off);
		assert_true(p->body_off <= p->end_off);
		assert_true(p->end_off <= size);
		assert_true(p->hdr_size >= p->body_off - p->hdr_off);
		assert_true(p->hdr_size <= 2 * (p->body_off - p->hdr_off));
		assert_true(p->body_size >= p->end_off - p->body_off);
		assert_true(p->body_size <= 2 * (p->end_off - p->body_off));
		for (c = p->child; c != MIME_NONE; c = m.parts[c].next) {
			assert_int_equal(m.parts[c].parent, i);
			assert_true(m.parts[c].hdr_off >= p->body_off);
			assert_true(m.parts[c].end_off <= p->end_off);
		}
	}
	assert_int_equal(m.parts[MIME_ROOT].end_off, size);
}

/* The three writer outputs and the size, concatenated. */
static size_t
render(char *buf, size_t cap)
{
	size_t n = 0;
	uint64_t size = m.parts[MIME_ROOT].hdr_size +
	    m.parts[MIME_ROOT].body_size;

	n += (size_t)snprintf(buf + n, cap - n, "%llu|",
	    (unsigned long long)size);
	n += mime_bodystructure(&m, MIME_ROOT, 1, buf + n, cap - n);
	buf[n++] = '|';
	n += mime_bodystructure(&m, MIME_ROOT, 0, buf + n, cap - n);
	buf[n++] = '|';
	n += mime_envelope(&m, MIME_ROOT, buf + n, cap - n);
	assert_true(n < cap);
	return n;
}

static void
test_fixtures_dovecot(void **state)
{
	static char want[OUT_MAX];
	size_t i, wlen, glen;

	(void)state;
	assert_true(nfixtures >= 20);
	for (i = 0; i < nfixtures; i++) {
		const struct fixture *fx = &fixtures[i];
		char size[32];

		parse_chunked(fx->eml, fx->eml_len, 0);
		assert_true(expect_get(fx, "RFC822.SIZE", want, sizeof want,
		    &wlen));
		glen = (size_t)snprintf(size, sizeof size, "%llu",
		    (unsigned long long)(m.parts[0].hdr_size +
		    m.parts[0].body_size));
		check_str(fx, "RFC822.SIZE", want, wlen, size, glen);

		assert_true(expect_get(fx, "BODYSTRUCTURE", want,
		    sizeof want, &wlen));
		glen = mime_bodystructure(&m, MIME_ROOT, 1, out1,
		    sizeof out1);
		check_str(fx, "BODYSTRUCTURE", want, wlen, out1, glen);

		assert_true(expect_get(fx, "BODY", want, sizeof want, &wlen));
		glen = mime_bodystructure(&m, MIME_ROOT, 0, out1,
		    sizeof out1);
		check_str(fx, "BODY", want, wlen, out1, glen);

		assert_true(expect_get(fx, "ENVELOPE", want, sizeof want,
		    &wlen));
		glen = mime_envelope(&m, MIME_ROOT, out1, sizeof out1);
		check_str(fx, "ENVELOPE", want, wlen, out1, glen);
	}
}

/* The CRLF form of data[off .. end), as a FETCH would send it. */
static size_t
crlf_range(const char *data, uint64_t off, uint64_t end, char *buf,
    size_t cap)
{
	size_t n = 0;
	uint64_t i;

	for (i = off; i < end && n + 2 < cap; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) {
			buf[n++] = '\r';
		}
		buf[n++] = data[i];
	}
	return n;
}

/* BODY[section] as Dovecot's imap-msgpart resolves it. */
static size_t
section(const struct fixture *fx, const char *sec, char *buf, size_t cap)
{
	unsigned nums[16], part, e;
	size_t n = 0;
	const char *s = sec;
	const struct mime_part *p;

	while (*s >= '0' && *s <= '9' && n < 16) {
		nums[n++] = (unsigned)strtoul(s, (char **)&s, 10);
		if (*s == '.') {
			s++;
		}
	}
	if (n == 0) {
		p = &m.parts[MIME_ROOT];
		if (strcmp(s, "HEADER") == 0) {
			return crlf_range(fx->eml, p->hdr_off, p->body_off,
			    buf, cap);
		}
		return crlf_range(fx->eml, p->body_off, p->end_off, buf, cap);
	}
	part = mime_find(&m, nums, n);
	if (part == MIME_NONE) {
		return 0;
	}
	p = &m.parts[part];
	if (*s == '\0') {
		return crlf_range(fx->eml, p->body_off, p->end_off, buf, cap);
	}
	if (strcmp(s, "MIME") == 0) {
		return crlf_range(fx->eml, p->hdr_off, p->body_off, buf, cap);
	}
	e = mime_embedded(&m, part);
	if (e == MIME_NONE) {
		return 0;
	}
	p = &m.parts[e];
	if (strcmp(s, "HEADER") == 0) {
		return crlf_range(fx->eml, p->hdr_off, p->body_off, buf, cap);
	}
	return crlf_range(fx->eml, p->body_off, p->end_off, buf, cap);
}

static void
test_fixtures_sections(void **state)
{
	static char want[OUT_MAX], got[OUT_MAX];
	size_t i, wlen, glen, checked = 0;

	(void)state;
	for (i = 0; i < nfixtures; i++) {
		const struct fixture *fx = &fixtures[i];
		const char *e = fx->expect, *end = e + fx->expect_len;

		parse_chunked(fx->eml, fx->eml_len, 0);
		while (e < end) {
			const char *nl = memchr(e, '\n', (size_t)(end - e));
			const char *rb, *lit;
			char key[64], sec[48];
			size_t kl;

			if (nl == NULL) {
				nl = end;
			}
			rb = memchr(e, ']', (size_t)(nl - e));
			if (strncmp(e, "BODY[", 5) != 0 || rb == NULL ||
			    (size_t)(rb - e) + 1 >= sizeof key) {
				e = nl + 1;
				continue;
			}
			kl = (size_t)(rb - e) + 1;
			memcpy(key, e, kl);
			key[kl] = '\0';
			snprintf(sec, sizeof sec, "%.*s", (int)(kl - 6),
			    key + 5);
			assert_true(expect_get(fx, key, want, sizeof want,
			    &wlen));
			/* {n}\r\n<octets>, "" or NIL */
			lit = memchr(want, '\n', wlen);
			if (want[0] == '{' && lit != NULL) {
				size_t skip = (size_t)(lit - want) + 1;

				memmove(want, want + skip, wlen - skip);
				wlen -= skip;
			} else {
				wlen = 0;
			}
			glen = section(fx, sec, got, sizeof got);
			check_str(fx, key, want, wlen, got, glen);
			checked++;
			e = nl + 1;
		}
	}
	assert_true(checked >= 20 * nfixtures);
}

/* Results must not depend on chunking, nor on LF vs CRLF storage. */
static void
test_fixtures_chunks_crlf(void **state)
{
	static char crlf[OUT_MAX];
	static const size_t chunks[] = { 1, 7, 64, 65536 };
	size_t i, k, l1, l2;

	(void)state;
	for (i = 0; i < nfixtures; i++) {
		const struct fixture *fx = &fixtures[i];
		size_t n = 0, j;

		parse_chunked(fx->eml, fx->eml_len, 0);
		check_tree(fx->eml_len);
		l1 = render(out1, sizeof out1);
		for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
			parse_chunked(fx->eml, fx->eml_len, chunks[k]);
			l2 = render(out2, sizeof out2);
			check_str(fx, "chunked output", out1, l1, out2, l2);
		}
		for (j = 0; j < fx->eml_len && n + 2 < sizeof crlf; j++) {
			if (fx->eml[j] == '\n' &&
			    (j == 0 || fx->eml[j - 1] != '\r')) {
				crlf[n++] = '\r';
			}
			crlf[n++] = fx->eml[j];
		}
		parse_chunked(crlf, n, 0);
		l2 = render(out2, sizeof out2);
		check_str(fx, "CRLF output", out1, l1, out2, l2);
		parse_chunked(crlf, n, 3);
		l2 = render(out2, sizeof out2);
		check_str(fx, "CRLF chunked output", out1, l1, out2, l2);
	}
}

/*
 * Inline cases. Input: head, then fill repeated nfill times, then
 * tail. Each case names one part by path and what its BODYSTRUCTURE
 * (or ENVELOPE) must be, or only a property of the tree.
 */
struct mime_case {
	const char	*desc;
	const char	*head;
	const char	*fill;
	size_t		 nfill;
	const char	*tail;
	const char	*want_bs;	/* BODYSTRUCTURE of root, or NULL */
	const char	*want_env;	/* ENVELOPE of root, or NULL */
	unsigned	 nparts;	/* expected part count, 0: any */
	int		 flags;		/* MIME_F_* the root must have */
};

static const struct mime_case cases[] = {
	{ "empty input is an empty text/plain message",
	    "", NULL, 0, "",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	    "0 0 NIL NIL NIL NIL)",
	    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)", 1, MIME_F_TEXT },
	{ "a lone LF is an empty header",
	    "\n", NULL, 0, "x",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	    "1 0 NIL NIL NIL NIL)", NULL, 1, MIME_F_TEXT },
	{ "NUL octets in a header read as U+FFFD, never end a string",
	    "Subject: a\0b\n\n", NULL, 0, "",
	    NULL, "(NIL {5}\r\na\xef\xbf\xbd" "b NIL NIL NIL NIL NIL NIL NIL "
	    "NIL)",
	    1, 0 },
	{ "more parts than MIME_PARTS_MAX: the rest is one body",
	    "Content-Type: multipart/mixed; boundary=b\n\n",
	    "--b\n\nx\n", MIME_PARTS_MAX + 10, "--b--\n",
	    NULL, NULL, MIME_PARTS_MAX, MIME_F_MULTIPART | MIME_F_OVERFLOW },
	{ "a header longer than MIME_HEADER_MAX is cut, not fatal",
	    "Subject: ", "y", MIME_HEADER_MAX + 100, "\n\nbody\n",
	    NULL, NULL, 1, MIME_F_TEXT },
	{ "the arena fills: strings read as NIL, part marked",
	    "Content-Type: multipart/mixed; boundary=b\n\n",
	    "--b\nContent-Description: "
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "\n\nx\n", 250, "--b--\n",
	    NULL, NULL, 251, MIME_F_MULTIPART },
	{ "a boundary line without LF at EOF still ends the part",
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--",
	    NULL, 0, "",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	    "1 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)",
	    NULL, 2, MIME_F_MULTIPART },
	{ "an unclosed comment in an address list",
	    "From: a@b.c (oops\n\n", NULL, 0, "",
	    NULL, "(NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) "
	    "((NIL NIL \"a\" \"MISSING_DOMAIN\")) "
	    "((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL NIL)",
	    1, 0 },
	{ "only \"-\" at EOF with an open boundary is body",
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n\n-",
	    NULL, 0, "",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	    "1 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)",
	    NULL, 2, MIME_F_MULTIPART },
	{ "a boundary of 200 octets is cut to MIME_BOUNDARY_MAX",
	    "Content-Type: multipart/mixed; boundary=", "z", 200,
	    "\n\n--zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
	    "zzzzzzzzzzzzzzzzzzzzzzzz\n\nin\n", NULL, NULL, 2,
	    MIME_F_MULTIPART },
};

static size_t
build(const struct mime_case *c, char *buf, size_t cap)
{
	size_t n = 0, i, hl = strlen(c->head), tl = strlen(c->tail);

	/* The NUL case: the head holds one NUL inside. */
	if (strcmp(c->desc, cases[2].desc) == 0) {
		hl = 14;
	}
	memcpy(buf, c->head, hl);
	n = hl;
	for (i = 0; c->fill != NULL && i < c->nfill; i++) {
		size_t fl = strlen(c->fill);

		assert_true(n + fl < cap);
		memcpy(buf + n, c->fill, fl);
		n += fl;
	}
	assert_true(n + tl < cap);
	memcpy(buf + n, c->tail, tl);
	return n + tl;
}

static void
test_cases(void **state)
{
	static char in[OUT_MAX * 2];
	size_t i, n, len;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct mime_case *c = &cases[i];
		struct fixture fx;

		snprintf(fx.name, sizeof fx.name, "case %zu (%s)", i, c->desc);
		n = build(c, in, sizeof in);
		parse_chunked(in, n, 0);
		if (c->want_bs != NULL) {
			len = mime_bodystructure(&m, MIME_ROOT, 1, out1,
			    sizeof out1);
			check_str(&fx, "BODYSTRUCTURE", c->want_bs,
			    strlen(c->want_bs), out1, len);
		}
		if (c->want_env != NULL) {
			len = mime_envelope(&m, MIME_ROOT, out1, sizeof out1);
			check_str(&fx, "ENVELOPE", c->want_env,
			    strlen(c->want_env), out1, len);
		}
		if (c->nparts != 0 && m.nparts != c->nparts) {
			fprintf(stderr, "%s: %u parts, want %u\n", fx.name,
			    m.nparts, c->nparts);
			fail();
		}
		assert_int_equal(m.parts[MIME_ROOT].flags & c->flags,
		    c->flags);
		check_tree(n);
		/* Writers survive the largest output. */
		len = mime_bodystructure(&m, MIME_ROOT, 1, out1, sizeof out1);
		assert_true(len < sizeof out1);
	}
}

/* A short buffer gets a prefix of the output and the full length. */
static void
test_writer_cap(void **state)
{
	static const char msg[] = "Subject: hi\nFrom: a@b.c\n\nbody\n";
	size_t full, cap, len;

	(void)state;
	parse_chunked(msg, sizeof msg - 1, 0);
	full = mime_bodystructure(&m, MIME_ROOT, 1, out1, sizeof out1);
	for (cap = 0; cap <= full; cap++) {
		memset(out2, '#', full + 1);
		len = mime_bodystructure(&m, MIME_ROOT, 1, out2, cap);
		assert_int_equal(len, full);
		assert_memory_equal(out1, out2, cap);
		assert_int_equal(out2[cap], '#');	/* nothing past cap */
	}
	full = mime_envelope(&m, MIME_ROOT, out1, sizeof out1);
	len = mime_envelope(&m, MIME_ROOT, out2, 5);
	assert_int_equal(len, full);
	assert_memory_equal(out1, out2, 5);
}

/* Section paths that name nothing (RFC 3501 6.4.5). */
static void
test_find(void **state)
{
	static const char msg[] =
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: text/plain\n\none\n"
	    "--b\nContent-Type: message/rfc822\n\nSubject: in\n\ntwo\n"
	    "--b--\n";
	static const struct {
		const char	*desc;
		unsigned	 nums[4];
		size_t		 n;
		int		 found;
	} paths[] = {
		{ "no numbers: the root", { 0 }, 0, 1 },
		{ "first body part", { 1 }, 1, 1 },
		{ "part 0 does not exist", { 0 }, 1, 0 },
		{ "past the last part", { 3 }, 1, 0 },
		{ "1.1 of a text part is itself", { 1, 1 }, 2, 1 },
		{ "1.2 of a text part", { 1, 2 }, 2, 0 },
		{ "1.1.1: a text part has no inside", { 1, 1, 1 }, 3, 0 },
		{ "2.1 enters the embedded message", { 2, 1 }, 2, 1 },
		{ "2.2 of a one-part message", { 2, 2 }, 2, 0 },
		{ "huge number", { 4000000000u }, 1, 0 },
	};
	size_t i;
	unsigned p;

	(void)state;
	parse_chunked(msg, sizeof msg - 1, 0);
	for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		p = mime_find(&m, paths[i].nums, paths[i].n);
		if ((p != MIME_NONE) != paths[i].found) {
			fprintf(stderr, "find: %s\n", paths[i].desc);
			fail();
		}
	}
	p = mime_find(&m, paths[7].nums, 2);
	assert_int_equal(mime_embedded(&m, 2), p);
	assert_int_equal(mime_embedded(&m, 1), MIME_NONE);
	assert_int_equal(mime_embedded(&m, MIME_ROOT), MIME_NONE);
	assert_int_equal(mime_embedded(&m, 999), MIME_NONE);
}

static void
test_param(void **state)
{
	static const char msg[] =
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; Charset=\"ISO-8859-1\"; x=\"a\\\"b\"\n"
	    "Content-Disposition: attachment; filename*0*=utf-8''a%20;"
	    " filename*1*=b\n\nx\n";
	const struct mime_part *p;
	const char *v;
	size_t vlen;

	(void)state;
	parse_chunked(msg, sizeof msg - 1, 0);
	p = &m.parts[MIME_ROOT];
	assert_int_equal(mime_param(&m, p->params, p->nparams, "charset",
	    &v, &vlen), 1);
	assert_int_equal(vlen, 10);
	assert_memory_equal(v, "ISO-8859-1", 10);
	assert_int_equal(mime_param(&m, p->params, p->nparams, "x", &v,
	    &vlen), 1);
	assert_memory_equal(v, "a\"b", 3);
	assert_int_equal(mime_param(&m, p->params, p->nparams, "name", &v,
	    &vlen), 0);
	assert_int_equal(mime_param(&m, p->disp_params, p->ndisp_params,
	    "filename*", &v, &vlen), 1);
	assert_int_equal(vlen, 12);
	assert_memory_equal(v, "utf-8''a%20b", 12);
}

/*
 * Piecewise writing.
 */

/* Messages whose structure texts are far over any output buffer. */
struct big_case {
	const char	*desc;
	const char	*head;
	const char	*fill;
	size_t		 nfill;
	const char	*tail;
	size_t		 min_text;	/* the biggest text is at least */
};

#define LONG50	"0123456789012345678901234567890123456789012345678"
#define NAME200	LONG50 LONG50 LONG50 LONG50

static const struct big_case big_cases[] = {
	{ "250 attachments with 200-char RFC 2231 names",
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n",
	    "--b\nContent-Type: application/pdf; name*0*=utf-8''" NAME200
	    ";\n name*1*=%C3%A9.pdf\nContent-Disposition: attachment;\n"
	    " filename*0*=utf-8''" NAME200 ";\n filename*1*=%C3%A9.pdf\n"
	    "Content-Transfer-Encoding: base64\n\nAAAA\n", 250, "--b--\n",
	    32768 },
	{ "a From of thousands of addresses",
	    "Subject: s\nFrom: ", "\"Some One\" <someone@example.com>, ",
	    220, "x@y\nTo: z@w\n\nbody\n", 24000 },
	{ "a From of commas only: 44 octets of text per octet",
	    "From: ", ",", MIME_HEADER_MAX, "\n\nbody\n", 300000 },
	{ "a Subject of 8 KB with white space to fold",
	    "Subject: ", "a  \t", MIME_HEADER_MAX / 4, "\n\nbody\n", 4000 },
	{ "message/rfc822 nested 60 deep, each with an envelope",
	    "", "Content-Type: message/rfc822\nFrom: a@b\nSubject: hi\n"
	    "To: \"x\" <c@d>\n\n", 60, "end\n", 10000 },
	{ "multipart nested 90 deep",
	    "", "Content-Type: multipart/mixed; boundary=b\n\n--b\n", 90,
	    "\nx\n", 3000 },
};

/* One IMAP value of an answer at t[*i]: a parenthesised list, a
 * quoted string, a literal, a number or NIL. 0 if it is not one. */
static int
imap_value(const char *t, size_t n, size_t *i, unsigned depth)
{
	size_t k = *i, len = 0;

	if (k >= n || depth > 300) {
		return 0;
	}
	if (t[k] == '(') {
		k++;
		for (;;) {
			if (k < n && t[k] == ')') {
				*i = k + 1;
				return 1;
			}
			if (!imap_value(t, n, &k, depth + 1)) {
				return 0;
			}
			if (k < n && t[k] == ' ') {
				k++;
				if (k < n && t[k] == ')') {
					return 0;	/* "( x )" */
				}
			} else if (k >= n || (t[k] != ')' && t[k] != '(')) {
				return 0;
			}
		}
	}
	if (t[k] == '"') {
		for (k++; k < n && t[k] != '"'; k++) {
			if (t[k] == '\\') {
				k++;
			} else if (t[k] == '\r' || t[k] == '\n' ||
			    (unsigned char)t[k] >= 0x80) {
				return 0;
			}
		}
		if (k >= n) {
			return 0;
		}
		*i = k + 1;
		return 1;
	}
	if (t[k] == '{') {
		for (k++; k < n && t[k] >= '0' && t[k] <= '9'; k++) {
			len = len * 10 + (size_t)(t[k] - '0');
		}
		if (k + 3 > n || memcmp(t + k, "}\r\n", 3) != 0 ||
		    len > n - k - 3) {
			return 0;
		}
		*i = k + 3 + len;
		return 1;
	}
	if (n - k >= 3 && memcmp(t + k, "NIL", 3) == 0) {
		*i = k + 3;
		return 1;
	}
	if (t[k] >= '0' && t[k] <= '9') {
		while (k < n && t[k] >= '0' && t[k] <= '9') {
			k++;
		}
		*i = k;
		return 1;
	}
	return 0;
}

static void
check_imap(const char *what, const char *t, size_t n)
{
	size_t i = 0;

	if (!imap_value(t, n, &i, 0) || i != n || n < 2 || t[0] != '(') {
		fprintf(stderr, "%s: not one IMAP list (%zu of %zu octets "
		    "read): %.*s\n", what, i, n, n > 200 ? 200 : (int)n, t);
		fail();
	}
}

/* Text of kind for part, whole and in pieces of every size in the
 * table: the same octets; a piece is short only at the end. With
 * reparse, the message is parsed again between two pieces, as the
 * server does when another client used the tree meanwhile. */
static size_t
check_pieces(const char *what, unsigned part, enum mime_wr_kind kind,
    char *whole, char *piecewise, size_t cap, const char *msg,
    size_t msg_len, int reparse)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 64, 1000, 4096,
	    65536 };
	size_t full, k, n, got;
	struct mime_wr w;

	full = kind == MIME_WR_ENVELOPE ?
	    mime_envelope(&m, part, whole, cap) :
	    mime_bodystructure(&m, part, kind == MIME_WR_BODYSTRUCTURE,
	    whole, cap);
	assert_true(full < cap);
	for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		if ((sizes[k] < 1000 && full > 20000) ||
		    (sizes[k] < 4096 && full > 200000)) {
			continue;	/* a unit is rewritten per piece */
		}
		mime_wr_init(&w, &m, part, kind);
		got = 0;
		while (!mime_wr_done(&w)) {
			assert_true(got + sizes[k] <= cap);
			n = mime_wr_next(&w, &m, piecewise + got, sizes[k]);
			got += n;
			if (n < sizes[k] && !mime_wr_done(&w)) {
				fprintf(stderr, "%s: short piece\n", what);
				fail();
			}
			if (reparse && (sizes[k] >= 64 || full < 2000)) {
				parse_chunked(msg, msg_len, 0);
			}
		}
		assert_int_equal(mime_wr_next(&w, &m, piecewise, 10), 0);
		if (got != full || memcmp(whole, piecewise, full) != 0) {
			fprintf(stderr, "%s: pieces of %zu differ (%zu/%zu)\n",
			    what, sizes[k], got, full);
			fail();
		}
	}
	if (full > 0) {
		check_imap(what, whole, full);
	}
	return full;
}

/* Every fixture, every part: pieces are the whole. */
static void
test_pieces_fixtures(void **state)
{
	size_t i;
	unsigned p;
	char what[256];

	(void)state;
	for (i = 0; i < nfixtures; i++) {
		const struct fixture *fx = &fixtures[i];

		parse_chunked(fx->eml, fx->eml_len, 0);
		for (p = 0; p < m.nparts; p++) {
			snprintf(what, sizeof what, "%s part %u", fx->name, p);
			(void)check_pieces(what, p, MIME_WR_BODYSTRUCTURE,
			    out1, out2, sizeof out1, fx->eml, fx->eml_len,
			    p == 0);
			(void)check_pieces(what, p, MIME_WR_BODY, out1, out2,
			    sizeof out1, fx->eml, fx->eml_len, 0);
			if (p == MIME_ROOT || mime_embedded(&m, p) ==
			    MIME_NONE) {
				continue;
			}
			(void)check_pieces(what, mime_embedded(&m, p),
			    MIME_WR_ENVELOPE, out1, out2, sizeof out1,
			    fx->eml, fx->eml_len, 0);
		}
		(void)check_pieces(fx->name, MIME_ROOT, MIME_WR_ENVELOPE,
		    out1, out2, sizeof out1, fx->eml, fx->eml_len, 1);
	}
	/* No such part: no text, done at once. */
	{
		struct mime_wr w;

		mime_wr_init(&w, &m, m.nparts, MIME_WR_BODYSTRUCTURE);
		assert_true(mime_wr_done(&w));
		assert_int_equal(mime_wr_next(&w, &m, out1, 10), 0);
	}
}

/* Hostile messages: texts far over 32 KiB, complete and well-formed,
 * the same in pieces, also when the tree is parsed again meanwhile. */
static void
test_pieces_big(void **state)
{
	static char in[1u << 20], whole[4u << 20], pw[4u << 20];
	const size_t cap = sizeof whole;
	size_t i, n, big;
	unsigned p;

	(void)state;
	for (i = 0; i < sizeof big_cases / sizeof big_cases[0]; i++) {
		const struct big_case *c = &big_cases[i];
		size_t hl = strlen(c->head), fl = strlen(c->fill), k;

		memcpy(in, c->head, hl);
		n = hl;
		for (k = 0; k < c->nfill; k++) {
			assert_true(n + fl < sizeof in);
			memcpy(in + n, c->fill, fl);
			n += fl;
		}
		memcpy(in + n, c->tail, strlen(c->tail));
		n += strlen(c->tail);
		parse_chunked(in, n, 0);
		big = check_pieces(c->desc, MIME_ROOT, MIME_WR_BODYSTRUCTURE,
		    whole, pw, cap, in, n, 1);
		k = check_pieces(c->desc, MIME_ROOT, MIME_WR_BODY, whole, pw,
		    cap, in, n, 0);
		big = k > big ? k : big;
		k = check_pieces(c->desc, MIME_ROOT, MIME_WR_ENVELOPE, whole,
		    pw, cap, in, n, 1);
		big = k > big ? k : big;
		for (p = 1; p < m.nparts; p++) {
			if (mime_embedded(&m, p) != MIME_NONE) {
				(void)check_pieces(c->desc, mime_embedded(&m,
				    p), MIME_WR_ENVELOPE, whole, pw, cap, in,
				    n, 0);
			}
		}
		if (big < c->min_text) {
			fprintf(stderr, "%s: biggest text %zu, want >= %zu\n",
			    c->desc, big, c->min_text);
			fail();
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_dovecot),
		cmocka_unit_test(test_fixtures_sections),
		cmocka_unit_test(test_fixtures_chunks_crlf),
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_writer_cap),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_param),
		cmocka_unit_test(test_pieces_fixtures),
		cmocka_unit_test(test_pieces_big),
	};

	return cmocka_run_group_tests(tests, load_fixtures, free_fixtures);
}
