/* SPDX-License-Identifier: ISC */
/*
 * test_junk_tok.c - the junk filter's tokeniser (msg/junk_tok.h): one
 * table of messages, each with tokens that must be in its set and
 * tokens that must not; every row is fed whole and again one octet at
 * a time (the set must not depend on the cuts), from an exact-size
 * heap copy (ASan sees a read past the end). At least half the rows
 * are hostile: broken headers, binary, over-long lines and words,
 * lying MIME, floods of distinct words.
 */
#include "testutil.h"

#include "msg/junk_tok.h"

#define NMAX	6

struct tok_case {
	const char	*desc;
	struct text	 in;
	const char	*has[NMAX];	/* "prefix:word" or "word" */
	const char	*hasnt[NMAX];
	int		 full;		/* the set must be full */
	int		 msgid;		/* a Message-ID was seen */
};

static const struct tok_case cases[] = {
	{ "plain message: words, header prefixes, case folded",
	  T("From: Alice <alice@shop.example>\r\nSubject: Cheap PILLS\r\n"
	    "\r\nBuy cheap pills today\r\n"),
	  { "subj:cheap", "subj:pills", "cheap", "today", "hdr:subject",
	    "from:alice" },
	  { "from:cheap", "subj:today", "from:buy" }, 0, 0 },
	{ "host names give their last two labels",
	  T("Subject: x\n\nsee http://www.deals.shop.example/x now\n"),
	  { "www.deals.shop.example", "host:shop.example", "http" },
	  { "host:deals.shop.example" }, 0, 0 },
	{ "base64 text part decoded, binary part skipped",
	  T("Content-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\n"
	    "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n"
	    "\naGVsbG8gd29ybGQgbWlyYWNsZQ==\n--b1\n"
	    "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\n"
	    "c2VjcmV0d29yZA==\n--b1--\n"),
	  { "hello", "world", "miracle" }, { "secretword",
	  "ahvsbg8gd29ybgqgbwlyywnszq" }, 0, 0 },
	{ "quoted-printable with a soft line break joins the word",
	  T("Content-Transfer-Encoding: quoted-printable\n\n"
	    "vi=\nagra caf=C3=A9\n"),
	  { "viagra", "caf\xc3\xa9" }, { "agra" }, 0, 0 },
	{ "folded Subject continues its prefix",
	  T("Subject: first\r\n\tsecond\r\nX-Other: third\r\n\r\nbody\r\n"),
	  { "subj:first", "subj:second", "hdr:x-other", "body" },
	  { "subj:third", "third", "second" }, 0, 0 },
	{ "fields added on the way in give nothing",
	  T("Received: from evil.example by us\nReturn-Path: <a@b.example>\n"
	    "X-Wren-Junk: 0.99\nAuthentication-Results: mx; spf=pass\n"
	    "Subject: hi there\n\ntext\n"),
	  { "subj:there", "text" }, { "hdr:received", "evil", "hdr:x-wren-"
	  "junk", "hdr:return-path", "spf", "pass" }, 0, 0 },
	{ "Message-ID seen",
	  T("Message-ID: <abc@host.example>\n\nbody text\n"),
	  { "mid:abc", "hdr:message-id" }, { NULL }, 0, 1 },
	{ "short, numeric and dotted numeric words dropped",
	  T("Subject: a\n\nab 12345 10.0.0.1 $99 abc\n"),
	  { "abc", "$99" }, { "ab", "12345", "10.0.0.1" }, 0, 0 },
	/* hostile */
	{ "empty input", T(""), { NULL }, { "hdr:" }, 0, 0 },
	{ "header only, no body, no final newline",
	  T("Subject: unfinished business"),
	  { "subj:unfinished", "subj:business" }, { NULL }, 0, 0 },
	{ "header line without a colon is ignored",
	  T("garbage line here\nSubject: fine\n\nok body\n"),
	  { "subj:fine", "body" }, { "garbage", "hdr:garbage line here" },
	  0, 0 },
	{ "field name longer than a word: no name token",
	  TF("X-", "a", 200, ": value words\n\nbody\n"),
	  { "body" }, { "value" }, 0, 0 },
	{ "word over JUNK_WORD_MAX dropped, neighbours kept",
	  TF("Subject: x\n\nbefore ", "z", 40, " after\n"),
	  { "before", "after" }, { "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" },
	  0, 0 },
	{ "line longer than JUNK_LINE_MAX: taken in pieces",
	  TF("Subject: x\n\nstart ", "word ", 600, "finish\n"),
	  { "start", "word", "finish" }, { NULL }, 0, 0 },
	{ "NUL and control octets split words",
	  TN("Subject: x\n\nfoo\0bar\x01" "baz\x7fqux\n"),
	  { "foo", "bar", "baz", "qux" }, { "foobar" }, 0, 0 },
	{ "bare CR line ends are text, not line ends",
	  T("Subject: one\rtwo\r\rthree\n\nbody\n"),
	  { "subj:one", "subj:two", "subj:three", "body" }, { NULL }, 0, 0 },
	{ "boundary-shaped line without a part header: body again",
	  T("Subject: x\n\n-----\nnot a header line\n"),
	  { "not", "header", "line" }, { NULL }, 0, 0 },
	{ "binary Content-Type at top: body skipped",
	  T("Content-Type: application/octet-stream\n\nsecret payload\n"),
	  { "hdr:content-type", "ct:application" }, { "secret", "payload" },
	  0, 0 },
	{ "broken base64 (stray octets, early padding) does not stop",
	  T("Content-Transfer-Encoding: base64\n\n!!aGVs*bG8=garbage\n"),
	  { NULL }, { "garbage" }, 0, 0 },
	{ "QP escapes that are not escapes kept",
	  T("Content-Transfer-Encoding: quoted-printable\n\nfoo=ZZbar =\n"),
	  { "foo", "zzbar" }, { NULL }, 0, 0 },
	{ "unterminated encoding header (no value)",
	  T("Content-Transfer-Encoding:\n\nplain words\n"),
	  { "plain", "words" }, { NULL }, 0, 0 },
	{ "a flood of distinct words fills the set, bounded",
	  TF("Subject: x\n\n", "abc\xc3\xa9 def\xc3\xa8 ", 4000, "\n"),
	  { NULL }, { NULL }, 0, 0 },
	{ "only trailing inner punctuation: no word",
	  T("Subject: x\n\n--- ... '''\n"), { NULL }, { "---", "..." },
	  0, 0 },
};

static int
has(const struct junk_tok *t, const char *tok)
{
	const char *c = strchr(tok, ':');
	char prefix[32] = "";
	uint32_t h;

	if (c != NULL && (size_t)(c - tok) + 1 < sizeof prefix) {
		memcpy(prefix, tok, (size_t)(c - tok) + 1);
		prefix[c - tok + 1] = '\0';
		tok = c + 1;
	}
	h = junk_tok_hash(prefix, tok, strlen(tok));
	for (size_t i = 0; i < JUNK_TOK_SLOTS; i++) {
		if (t->set[i] == h) {
			return 1;
		}
	}
	return 0;
}

static void
check(const struct tok_case *c, const struct junk_tok *t)
{
	for (int k = 0; k < NMAX && c->has[k] != NULL; k++) {
		if (!has(t, c->has[k])) {
			fail_msg("%s: no token %s", c->desc, c->has[k]);
		}
	}
	for (int k = 0; k < NMAX && c->hasnt[k] != NULL; k++) {
		if (has(t, c->hasnt[k])) {
			fail_msg("%s: token %s", c->desc, c->hasnt[k]);
		}
	}
	assert_true(t->n <= JUNK_MSG_TOKENS);
	assert_int_equal(c->msgid, t->msgid != 0);
	assert_int_not_equal(junk_tok_id(t), 0);
}

static void
test_table(void **state)
{
	static struct junk_tok a, b;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct tok_case *c = &cases[i];
		size_t len;
		char *in = build(&c->in, &len);

		junk_tok_init(&a);
		junk_tok_feed(&a, in, len);
		junk_tok_end(&a);
		check(c, &a);
		junk_tok_init(&b);
		for (size_t k = 0; k < len; k++) {
			char *one = dup_exact(in + k, 1);

			junk_tok_feed(&b, one, 1);
			free(one);
		}
		junk_tok_end(&b);
		if (memcmp(a.set, b.set, sizeof a.set) != 0 || a.n != b.n) {
			fail_msg("%s: octet by octet gives another set",
			    c->desc);
		}
		free(in);
	}
}

static void
test_flood_is_bounded(void **state)
{
	static struct junk_tok t;
	char w[16];

	(void)state;
	junk_tok_init(&t);
	junk_tok_feed(&t, "Subject: x\n\n", 12);
	for (unsigned i = 0; i < 3 * JUNK_MSG_TOKENS; i++) {
		int n = 0;

		for (unsigned v = i + 1; v > 0 && n < 10; v /= 26) {
			w[n++] = (char)('a' + v % 26);
		}
		w[n++] = 'q';
		w[n++] = 'x';
		w[n++] = ' ';
		junk_tok_feed(&t, w, (size_t)n);
	}
	junk_tok_end(&t);
	assert_int_equal(t.n, JUNK_MSG_TOKENS);
	assert_true(junk_tok_full(&t));
	assert_true(t.dropped > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_flood_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
