/* SPDX-License-Identifier: ISC */
/*
 * test_envelope.c - the queue envelope (queue/envelope.h): the parser
 * fed whole, byte by byte and split at every point (all must agree),
 * its formatters read back by the parser, envelope_apply, the DSN
 * helpers of msg/dsn.h (NOTIFY lists, xtext, RFC 3463 codes), and the
 * spool on a temporary data_dir: spool_write_env, spool_append (with a
 * torn last line), spool_read_env, spool_list, spool_show.
 *
 * Each parser row is one file with a one-line description and either
 * the fields it must give (as a dump, see dump()) or the error and
 * its line. More than half of the table is hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "queue/envelope.h"
#include "queue/spool.h"
#include "testutil.h"

#define HEAD	"wren-envelope 1\nid 0A1B\narrival 1764120000\n" \
		"sender a@example.com\nsize 42\n"
#define HEADF	"wren-envelope 1\nid 0A1B\narrival 1764120000\n" \
		"sender a@example.com\nsize 42\nret hdrs\nenvid x+2By\n" \
		"smtputf8 1\nclient mx.example.net [192.0.2.7]\n"
#define R0	"rcpt b@example.net notify=- orcpt=-\n"
#define R1	"rcpt c@example.org notify=failure,delay " \
		"orcpt=rfc822;c+40example.org\n"

#define E_(e)	ENVELOPE_E_##e

struct env_case {
	const char		*desc;
	struct text		 in;
	enum envelope_err	 err;
	unsigned long		 line;	/* of the error */
	const char		*want;	/* substring of dump(), or NULL */
	size_t			 torn;
};

#define OK(d, in_, w)		{ (d), in_, ENVELOPE_OK, 0, (w), 0 }
#define OKT(d, in_, w, t)	{ (d), in_, ENVELOPE_OK, 0, (w), (t) }
#define BAD(d, in_, e, l)	{ (d), in_, E_(e), (l), NULL, 0 }

static const struct env_case env_cases[] = {
	OK("the required header lines and one recipient", T(HEAD R0),
	    "id=0A1B arrival=1764120000 sender=<a@example.com> size=42 "
	    "ret=0 envid= u8=0 client= hold=0 retry=0 bounce=0 n=1\n"
	    "0 <b@example.net> notify=0 orcpt= pending 0 0 code= mta= "
	    "text= rep=0\n"),
	OK("every header line and two recipients", T(HEADF R0 R1),
	    "ret=2 envid=x+2By u8=1 client=mx.example.net [192.0.2.7] "
	    "hold=0 retry=0 bounce=0 n=2\n0 <b@example.net> notify=0 "
	    "orcpt= pending 0 0 code= mta= text= rep=0\n1 <c@example.org> "
	    "notify=12 orcpt=rfc822;c+40example.org pending"),
	OK("BODY=8BITMIME kept", T(HEAD "body 8bitmime\n" R0), "b8=1 id="),
	OK("body 7bit", T(HEAD "body 7bit\n" R0), "b8=0 id="),
	OK("header lines in another order",
	    T("wren-envelope 1\nsize 1\nsender \narrival 0\nid F\n" R0),
	    "id=F arrival=0 sender=<> size=1"),
	OK("null sender: nothing after the space", T(HEAD "ret full\n" R0),
	    "sender=<a@example.com> size=42 ret=1"),
	OK("a state line, then another for the same recipient: last wins",
	    T(HEAD R0 R1 "state 1 deferred 1 1764120600 4.4.1 - connect "
	    "to mx.example.org[192.0.2.9]:25: Connection refused\n"
	    "state 1 failed 2 0 5.1.1 mx.example.org[192.0.2.9] 550 5.1.1 "
	    "<c@example.org>: no such user\n"),
	    "1 <c@example.org> notify=12 orcpt=rfc822;c+40example.org "
	    "failed 2 0 code=5.1.1 mta=mx.example.org[192.0.2.9] text=550 "
	    "5.1.1 <c@example.org>: no such user rep=0\n"),
	OK("state without text, sent with a 2.x.x code",
	    T(HEAD R0 "state 0 sent 1 0 2.0.0 mx.example.net\n"),
	    "0 <b@example.net> notify=0 orcpt= sent 1 0 code=2.0.0 "
	    "mta=mx.example.net text= rep=0\n"),
	OK("state with code and mta both '-', text kept verbatim",
	    T(HEAD R0 "state 0 deferred 3 99 - -  two  spaces \n"),
	    "deferred 3 99 code= mta= text= two  spaces  rep=0\n"),
	OKT("a torn final line (no LF) is ignored",
	    T(HEAD R0 "state 0 deferred 1 5 4.0.0 - x\nstate 0 sent 2 0 2.0"),
	    "deferred 1 5 code=4.0.0 mta= text=x rep=0\n", 20),
	OKT("a torn final line of one byte after the recipients",
	    T(HEAD R0 "s"), "pending 0 0", 1),
	OK("reported, admin hold then release; admin bounce",
	    T(HEAD R0 R1 "state 1 failed 1 0 5.0.0 -\nreported 1 failure 7\n"
	    "reported 1 delay 8\nadmin hold 9\nadmin release 10\n"
	    "admin bounce 11\n"),
	    "hold=0 retry=0 bounce=11 n=2\n0 <b@example.net> notify=0 "
	    "orcpt= pending 0 0 code= mta= text= rep=0\n1 <c@example.org> "
	    "notify=12 orcpt=rfc822;c+40example.org failed 1 0 "
	    "code=5.0.0 mta= text= rep=12\n"),
	OK("admin hold stays on",
	    T(HEAD R0 "admin release 1\nadmin hold 2\n"), "hold=1"),
	OK("admin retry moves deferred recipients' next try only",
	    T(HEAD R0 R1 "state 0 deferred 1 5000 4.0.0 -\n"
	    "state 1 failed 1 0 5.0.0 -\nadmin retry 100\n"),
	    "retry=100 bounce=0 n=2\n0 <b@example.net> notify=0 orcpt= "
	    "deferred 1 100 code=4.0.0"),
	OK("a state line after admin retry sets its own next try",
	    T(HEAD R0 "state 0 deferred 1 5000 4.0.0 -\nadmin retry 100\n"
	    "state 0 deferred 2 7000 4.0.0 -\n"), "deferred 2 7000"),
	OK("a quoted local part with spaces: rcpt read from the right",
	    T(HEAD "rcpt \"j doe notify=x\"@example.net notify=never "
	    "orcpt=-\n"),
	    "0 <\"j doe notify=x\"@example.net> notify=1 orcpt= pending"),
	OK("UTF-8 sender, recipient and reply text",
	    T("wren-envelope 1\nid 1\narrival 1\nsender j\xc3\xb6@ex.de\n"
	    "size 1\nsmtputf8 1\nrcpt \xc3\xa5@ex.se notify=- orcpt=-\n"
	    "state 0 deferred 1 2 4.2.2 mx.ex.se 452 \xe2\x9c\x89 full\n"),
	    "sender=<j\xc3\xb6@ex.de>"),
	OK("ENVELOPE_RCPT_MAX recipients",
	    TF(HEAD, "rcpt x@y notify=- orcpt=-\n", ENVELOPE_RCPT_MAX,
	    "state 99 sent 1 0 2.0.0 -\n"), "n=100\n"),
	OK("numbers at their bounds",
	    T("wren-envelope 1\nid 0123456789ABCDEF0123456789ABCDE\n"
	    "arrival 253402300799\nsender \nsize 9223372036854775807\n" R0
	    "state 0 deferred 1000000 253402300799 4.999.999 -\n"),
	    "arrival=253402300799 sender=<> size=9223372036854775807"),

	BAD("empty file", T(""), MAGIC, 0),
	BAD("another file's first line", T("From a@b Mon Dec  7\n"),
	    MAGIC, 1),
	BAD("magic without a version", T("wren-envelope\n"), MAGIC, 1),
	BAD("a newer version", T("wren-envelope 2\n" "id 1\n"), VERSION, 1),
	BAD("version with a leading zero", T("wren-envelope 01\n"),
	    VERSION, 1),
	BAD("unknown header line kind", T(HEAD "priority 1\n" R0), KIND, 6),
	BAD("unknown line kind after the recipients (newer wren)",
	    T(HEAD R0 "state 0 sent 1 0 2.0.0 -\nnotify 0 x\n"), KIND, 8),
	BAD("unknown kind with no space", T(HEAD R0 "frobnicate\n"),
	    KIND, 7),
	BAD("kind is case-sensitive", T(HEAD "RCPT b@c notify=- orcpt=-\n"),
	    KIND, 6),
	BAD("duplicate id", T(HEAD "id 0A1C\n" R0), DUP, 6),
	BAD("duplicate sender (a second sender smuggled in)",
	    T(HEAD "sender evil@example.org\n" R0), DUP, 6),
	BAD("duplicate ret", T(HEAD "ret full\nret hdrs\n" R0), DUP, 7),
	BAD("header line after a recipient", T(HEAD R0 "client x\n"),
	    ORDER, 7),
	BAD("recipient after a state line",
	    T(HEAD R0 "state 0 sent 1 0 2.0.0 -\n" R1), ORDER, 8),
	BAD("state line before any recipient",
	    T(HEAD "state 0 sent 1 0 2.0.0 -\n" R0), ORDER, 6),
	BAD("admin line in the header", T(HEAD "admin hold 1\n"), ORDER, 6),
	BAD("size missing before the first recipient",
	    T("wren-envelope 1\nid 1\narrival 1\nsender \n" R0), MISSING, 5),
	BAD("header only: no recipient", T(HEAD), NO_RCPT, 5),
	BAD("header cut in the middle of a line",
	    T("wren-envelope 1\nid 0A"), TRUNCATED, 2),
	BAD("one recipient too many",
	    TF(HEAD, "rcpt x@y notify=- orcpt=-\n", ENVELOPE_RCPT_MAX + 1,
	    NULL), TOO_MANY, 5 + ENVELOPE_RCPT_MAX + 1),
	BAD("state for a recipient that does not exist",
	    T(HEAD R0 "state 1 sent 1 0 2.0.0 -\n"), INDEX, 7),
	BAD("reported for a recipient that does not exist",
	    T(HEAD R0 "reported 4294967295 failure 1\n"), INDEX, 7),
	BAD("recipient index of 21 digits",
	    T(HEAD R0 "state 100000000000000000000 sent 1 0 2.0.0 -\n"),
	    NUMBER, 7),
	BAD("negative recipient index", T(HEAD R0 "state -1 sent 1 0 - -\n"),
	    NUMBER, 7),
	BAD("arrival with a sign", T("wren-envelope 1\narrival +5\n"),
	    NUMBER, 2),
	BAD("arrival after year 9999",
	    T("wren-envelope 1\narrival 253402300800\n"), NUMBER, 2),
	BAD("arrival with a leading zero", T("wren-envelope 1\narrival 05\n"),
	    NUMBER, 2),
	BAD("size that overflows 64 bits",
	    T("wren-envelope 1\nsize 18446744073709551616\n"), NUMBER, 2),
	BAD("size over INT64_MAX",
	    T("wren-envelope 1\nsize 9223372036854775808\n"), NUMBER, 2),
	BAD("size with trailing space", T("wren-envelope 1\nsize 5 \n"),
	    NUMBER, 2),
	BAD("attempts over the bound",
	    T(HEAD R0 "state 0 deferred 1000001 0 4.0.0 -\n"), NUMBER, 7),
	BAD("NUL octet in the sender",
	    TN("wren-envelope 1\nid 1\nsender a\0@b\n"), BYTE, 3),
	BAD("CR LF line ends", T("wren-envelope 1\r\nid 1\r\n"), BYTE, 1),
	BAD("a tab in a reply text",
	    T(HEAD R0 "state 0 deferred 1 0 4.0.0 - a\tb\n"), BYTE, 7),
	BAD("DEL octet", T(HEAD R0 "state 0 deferred 1 0 4.0.0 - \x7f\n"),
	    BYTE, 7),
	BAD("line of 2000 octets",
	    TF("wren-envelope 1\nclient ", "x", 2000, "\n"), LONG, 2),
	BAD("ret neither full nor hdrs", T(HEAD "ret FULL\n" R0), VALUE, 6),
	BAD("envid that is not xtext", T(HEAD "envid a=b\n" R0), VALUE, 6),
	BAD("envid with lower-case hex", T(HEAD "envid a+2b\n" R0),
	    VALUE, 6),
	BAD("smtputf8 2", T(HEAD "smtputf8 2\n" R0), VALUE, 6),
	BAD("body of another type", T(HEAD "body binarymime\n" R0), VALUE, 6),
	BAD("body given twice", T(HEAD "body 7bit\nbody 8bitmime\n" R0),
	    DUP, 7),
	BAD("empty client", T(HEAD "client \n" R0), VALUE, 6),
	BAD("id in lower case", T("wren-envelope 1\nid 0a1b\n"), VALUE, 2),
	BAD("id naming another file", T("wren-envelope 1\nid ../../x\n"),
	    VALUE, 2),
	BAD("id of 32 characters",
	    T("wren-envelope 1\nid 0123456789ABCDEF0123456789ABCDEF\n"),
	    VALUE, 2),
	BAD("sender of 321 octets",
	    TF("wren-envelope 1\nsender ", "a", ADDR_MAX + 1, "\n"), VALUE,
	    2),
	BAD("sender with no space after it", T("wren-envelope 1\nsender\n"),
	    VALUE, 2),
	BAD("recipient without an address",
	    T(HEAD "rcpt  notify=- orcpt=-\n"), VALUE, 6),
	BAD("recipient without orcpt", T(HEAD "rcpt b@c notify=-\n"),
	    VALUE, 6),
	BAD("recipient parameters swapped",
	    T(HEAD "rcpt b@c orcpt=- notify=-\n"), VALUE, 6),
	BAD("recipient address of 321 octets",
	    TF(HEAD "rcpt ", "b", ADDR_MAX + 1, " notify=- orcpt=-\n"),
	    VALUE, 6),
	BAD("NOTIFY=NEVER with FAILURE",
	    T(HEAD "rcpt b@c notify=never,failure orcpt=-\n"), VALUE, 6),
	BAD("NOTIFY word repeated",
	    T(HEAD "rcpt b@c notify=delay,delay orcpt=-\n"), VALUE, 6),
	BAD("NOTIFY list with a trailing comma",
	    T(HEAD "rcpt b@c notify=delay, orcpt=-\n"), VALUE, 6),
	BAD("ORCPT without an address type",
	    T(HEAD "rcpt b@c notify=- orcpt=b@c\n"), VALUE, 6),
	BAD("ORCPT with a bad xtext escape",
	    T(HEAD "rcpt b@c notify=- orcpt=rfc822;b+4@c\n"), VALUE, 6),
	BAD("failed with a success code",
	    T(HEAD R0 "state 0 failed 1 0 2.0.0 -\n"), VALUE, 7),
	BAD("sent with a permanent failure code",
	    T(HEAD R0 "state 0 sent 1 0 5.1.1 -\n"), VALUE, 7),
	BAD("deferred with a 5.x.x code",
	    T(HEAD R0 "state 0 deferred 1 0 5.1.1 -\n"), VALUE, 7),
	BAD("status code with a 4-digit detail",
	    T(HEAD R0 "state 0 deferred 1 0 4.1.1000 -\n"), VALUE, 7),
	BAD("state 'pending' cannot be written",
	    T(HEAD R0 "state 0 pending 0 0 - -\n"), VALUE, 7),
	BAD("state line with an empty field",
	    T(HEAD R0 "state 0  sent 1 0 2.0.0 -\n"), VALUE, 7),
	BAD("state line missing the mta",
	    T(HEAD R0 "state 0 sent 1 0 2.0.0\n"), VALUE, 7),
	BAD("mta with 8-bit octets",
	    T(HEAD R0 "state 0 sent 1 0 2.0.0 m\xc3\xa9x\n"), VALUE, 7),
	BAD("reply text of 511 octets",
	    TF(HEAD R0 "state 0 deferred 1 0 4.0.0 - ", "t",
	    ENVELOPE_TEXT_MAX + 1, "\n"), VALUE, 7),
	BAD("reported of an unknown kind",
	    T(HEAD R0 "reported 0 bounce 1\n"), VALUE, 7),
	BAD("reported with an extra field",
	    T(HEAD R0 "reported 0 failure 1 x\n"), VALUE, 7),
	BAD("admin with an unknown verb", T(HEAD R0 "admin flush 1\n"),
	    VALUE, 7),
	BAD("admin without a time", T(HEAD R0 "admin hold\n"), VALUE, 7),
	BAD("an empty line", T(HEAD "\n" R0), KIND, 6),
	BAD("a second magic line", T(HEAD R0 "wren-envelope 1\n"), KIND, 7),
};

/* The envelope's fields as one text, compared by substring. */
static void
dump(const struct envelope *env, char *out, size_t cap)
{
	size_t n;

	n = (size_t)snprintf(out, cap, "b8=%d id=%s arrival=%lld sender=<%s> "
	    "size=%llu ret=%d envid=%s u8=%d client=%s hold=%d retry=%lld "
	    "bounce=%lld n=%zu\n", env->body8, env->id, (long long)env->arrival,
	    env->sender, (unsigned long long)env->size, (int)env->ret,
	    env->envid, env->smtputf8, env->client, env->hold,
	    (long long)env->retry_at, (long long)env->bounce_at, env->nrcpt);
	for (size_t i = 0; i < env->nrcpt && n < cap; i++) {
		const struct envelope_rcpt *r = &env->rcpt[i];

		n += (size_t)snprintf(out + n, cap - n, "%zu <%s> notify=%u "
		    "orcpt=%s %s %u %lld code=%s mta=%s text=%s rep=%u\n", i,
		    r->addr, r->notify, r->orcpt,
		    envelope_rstate_name(r->state), (unsigned)r->attempts,
		    (long long)r->next_try, r->code, r->mta, r->text,
		    r->reported);
	}
}

/* One parse of in, fed in pieces of at most step octets (0: whole),
 * or split once at split. Returns finish's result. */
static int
parse(const char *in, size_t len, size_t step, size_t split,
    struct envelope_parser *p, struct envelope *env)
{
	envelope_parser_init(p, env);
	if (step == 0) {
		char *a = dup_exact(in, split), *b = dup_exact(in + split,
		    len - split);

		(void)envelope_feed(p, a, split);
		(void)envelope_feed(p, b, len - split);
		free(a);
		free(b);
	} else {
		for (size_t i = 0; i < len; i += step) {
			size_t k = len - i < step ? len - i : step;
			char *a = dup_exact(in + i, k);

			(void)envelope_feed(p, a, k);
			free(a);
		}
	}
	if (p->err != ENVELOPE_OK) {
		return -1;
	}
	return envelope_finish(p);
}

static void
test_parse(void **state)
{
	static struct envelope env, ref;
	static struct envelope_parser p, pref;
	static char d[64 * 1024];

	(void)state;
	for (size_t i = 0; i < sizeof env_cases / sizeof env_cases[0]; i++) {
		const struct env_case *c = &env_cases[i];
		size_t len, stride;
		char *in = build(&c->in, &len);
		int rc = parse(in, len, 0, len, &pref, &ref);

		if (c->err != ENVELOPE_OK) {
			if (rc != -1 || pref.err != c->err ||
			    pref.err_line != c->line) {
				fail_msg("%s: got %s at line %lu, want %s at "
				    "line %lu", c->desc,
				    rc == 0 ? "success" :
				    envelope_strerror(pref.err),
				    pref.err_line, envelope_strerror(c->err),
				    c->line);
			}
		} else {
			if (rc != 0) {
				fail_msg("%s: %s at line %lu", c->desc,
				    envelope_strerror(pref.err),
				    pref.err_line);
			}
			dump(&ref, d, sizeof d);
			if (c->want != NULL && strstr(d, c->want) == NULL) {
				fail_msg("%s: got\n%s\nwant\n%s", c->desc, d,
				    c->want);
			}
			if (pref.torn != c->torn) {
				fail_msg("%s: torn %zu, want %zu", c->desc,
				    pref.torn, c->torn);
			}
		}
		/* Byte by byte, and split at every point (every 7th in
		 * long inputs): the same result. */
		stride = len > 2000 ? 7 : 1;
		for (size_t s = 0; s <= len + 1; s += stride) {
			size_t step = s <= len ? 0 : 1;
			size_t split = s <= len ? s : 0;
			int r2 = parse(in, len, step, split, &p, &env);

			if (r2 != rc || p.err != pref.err ||
			    p.err_line != pref.err_line ||
			    p.torn != pref.torn ||
			    (rc == 0 && memcmp(&env, &ref, sizeof env) != 0)) {
				fail_msg("%s: differs fed %s %zu", c->desc,
				    step ? "byte by byte" : "split at",
				    split);
			}
		}
		/* Errors are sticky. */
		if (rc == -1 && pref.err != ENVELOPE_E_TRUNCATED &&
		    pref.err != ENVELOPE_E_NO_RCPT &&
		    pref.err != ENVELOPE_E_MAGIC) {
			assert_int_equal(envelope_feed(&pref, R0, strlen(R0)),
			    -1);
			assert_int_equal(envelope_finish(&pref), -1);
		}
		free(in);
	}
}

/* Formatters: what they write, the parser reads back. */
static void
test_format(void **state)
{
	static struct envelope env;
	static struct envelope_parser p;
	static char out[ENVELOPE_WRITE_MAX], line[ENVELOPE_LINE_MAX + 2];
	struct envelope_spec_rcpt r[3] = {
		{ "b@example.net", 0, NULL },
		{ "\"x y\"@example.org", DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY,
		  "rfc822;x+20y@example.org" },
		{ "\xc3\xa5@ex.se", DSN_NOTIFY_NEVER, "" },
	};
	struct envelope_spec s = {
		"18C3A2F10000A", 1764120000, "a@example.com", 4213,
		DSN_RET_HDRS, "abc+2Bdef", 1, "mx [192.0.2.7]", r, 3, 0
	};
	struct envelope_result res;
	char text[2 * ENVELOPE_TEXT_MAX];
	int n;

	(void)state;
	n = envelope_format(out, sizeof out, &s);
	assert_true(n > 0);
	assert_string_equal(out, "wren-envelope 1\nid 18C3A2F10000A\n"
	    "arrival 1764120000\nsender a@example.com\nsize 4213\n"
	    "ret hdrs\nenvid abc+2Bdef\nsmtputf8 1\n"
	    "client mx [192.0.2.7]\n"
	    "rcpt b@example.net notify=- orcpt=-\n"
	    "rcpt \"x y\"@example.org notify=failure,delay "
	    "orcpt=rfc822;x+20y@example.org\n"
	    "rcpt \xc3\xa5@ex.se notify=never orcpt=-\n");
	/* Too small by one: refused, nothing half written counts. */
	assert_int_equal(envelope_format(out, (size_t)n, &s), -1);
	n = envelope_format(out, sizeof out, &s);

	/* A hostile reply: controls, 8-bit, too long, cut at a UTF-8
	 * boundary; an mta with a space; a code of the wrong class. */
	memset(text, 'x', sizeof text);
	memcpy(text, "451\r\n4.7.1 \x01 try", 16);
	text[ENVELOPE_TEXT_MAX - 1] = '\xe2';
	text[ENVELOPE_TEXT_MAX] = '\x9c';
	text[ENVELOPE_TEXT_MAX + 1] = '\x89';
	memset(&res, 0, sizeof res);
	res.state = ENVELOPE_DEFERRED;
	res.attempts = 3;
	res.next_try = 1764121000;
	res.code = "5.7.1";
	res.mta = "mx example";
	res.text = text;
	res.textlen = sizeof text;
	assert_true(envelope_format_state(line, sizeof line, 1, &res) > 0);
	assert_memory_equal(line, "state 1 deferred 3 1764121000 - mx?example "
	    "451  4.7.1   try", 51);
	/* 43 octets of fields, the text cut before the split sequence */
	assert_int_equal(strlen(line), 43 + ENVELOPE_TEXT_MAX - 1 + 1);

	envelope_parser_init(&p, &env);
	assert_int_equal(envelope_feed(&p, out, (size_t)n), 0);
	assert_int_equal(envelope_feed(&p, line, strlen(line)), 0);
	assert_true(envelope_format_reported(line, sizeof line, 2,
	    DSN_NOTIFY_DELAY, 5) > 0);
	assert_string_equal(line, "reported 2 delay 5\n");
	assert_int_equal(envelope_feed(&p, line, strlen(line)), 0);
	assert_true(envelope_format_admin(line, sizeof line, ENVELOPE_HOLD,
	    6) > 0);
	assert_string_equal(line, "admin hold 6\n");
	assert_int_equal(envelope_feed(&p, line, strlen(line)), 0);
	assert_int_equal(envelope_finish(&p), 0);
	assert_string_equal(env.id, "18C3A2F10000A");
	assert_int_equal(env.ret, DSN_RET_HDRS);
	assert_string_equal(env.envid, "abc+2Bdef");
	assert_int_equal(env.nrcpt, 3);
	assert_string_equal(env.rcpt[1].addr, "\"x y\"@example.org");
	assert_int_equal(env.rcpt[1].notify, DSN_NOTIFY_FAILURE |
	    DSN_NOTIFY_DELAY);
	assert_string_equal(env.rcpt[1].orcpt, "rfc822;x+20y@example.org");
	assert_int_equal(env.rcpt[1].state, ENVELOPE_DEFERRED);
	assert_int_equal(env.rcpt[1].attempts, 3);
	assert_string_equal(env.rcpt[1].code, "");
	assert_string_equal(env.rcpt[1].mta, "mx?example");
	assert_int_equal(strlen(env.rcpt[1].text), ENVELOPE_TEXT_MAX - 1);
	assert_int_equal(env.rcpt[2].notify, DSN_NOTIFY_NEVER);
	assert_int_equal(env.rcpt[2].reported, DSN_NOTIFY_DELAY);
	assert_int_equal(env.hold, 1);

	/* envelope_apply: the same, and nothing changes on refusal. */
	{
		static struct envelope before;
		const char *bad[] = {
			"state 3 sent 1 0 2.0.0 -", "state 0 sent 1 0 5.0.0 -",
			"rcpt x@y notify=- orcpt=-", "id 1", "admin hold",
			"reported 0 failure", "state 0 sent 1 0 2.0.0 -\n",
		};

		before = env;
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			assert_int_not_equal(envelope_apply(&env, bad[i],
			    strlen(bad[i])), ENVELOPE_OK);
			assert_memory_equal(&env, &before, sizeof env);
		}
		assert_int_equal(envelope_apply(&env,
		    S("state 0 sent 2 0 2.0.0 mx.example.net 250 ok")),
		    ENVELOPE_OK);
		assert_int_equal(env.rcpt[0].state, ENVELOPE_SENT);
		assert_string_equal(env.rcpt[0].text, "250 ok");
	}

	/* Formatters refuse what the parser would refuse. */
	{
		struct envelope_spec t = s;
		struct envelope_spec_rcpt br = { "a\nrcpt evil@x", 0, NULL };

		t.sender = "a\n@b";
		assert_int_equal(envelope_format(out, sizeof out, &t), -1);
		t = s;
		t.id = "../x";
		assert_int_equal(envelope_format(out, sizeof out, &t), -1);
		t = s;
		t.nrcpt = 0;
		assert_int_equal(envelope_format(out, sizeof out, &t), -1);
		t = s;
		t.envid = "a b";
		assert_int_equal(envelope_format(out, sizeof out, &t), -1);
		t = s;
		t.rcpt = &br;
		t.nrcpt = 1;
		assert_int_equal(envelope_format(out, sizeof out, &t), -1);
		br.addr = "b@c";
		br.orcpt = "nosemicolon";
		assert_int_equal(envelope_format(out, sizeof out, &t), -1);
		br.orcpt = NULL;
		br.notify = DSN_NOTIFY_NEVER | DSN_NOTIFY_DELAY;
		assert_int_equal(envelope_format(out, sizeof out, &t), -1);
		res.state = ENVELOPE_PENDING;
		assert_int_equal(envelope_format_state(line, sizeof line, 0,
		    &res), -1);
		res.state = ENVELOPE_SENT;
		assert_int_equal(envelope_format_state(line, sizeof line,
		    ENVELOPE_RCPT_MAX, &res), -1);
		res.next_try = -1;
		assert_int_equal(envelope_format_state(line, sizeof line, 0,
		    &res), -1);
		assert_int_equal(envelope_format_reported(line, sizeof line,
		    0, DSN_NOTIFY_NEVER, 1), -1);
		assert_int_equal(envelope_format_admin(line, sizeof line,
		    (enum envelope_admin)9, 1), -1);
		assert_int_equal(envelope_format_admin(line, 5,
		    ENVELOPE_HOLD, 1), -1);
	}
}

static void
test_reason(void **state)
{
	struct envelope_rcpt r;
	char out[64];

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(envelope_reason(&r, out, sizeof out), 0);
	assert_string_equal(out, "");
	strcpy(r.text, "connect to mx[1.2.3.4]:25: refused");
	assert_int_equal(envelope_reason(&r, out, sizeof out), 34);
	strcpy(r.mta, "mx.example.net[192.0.2.1]");
	strcpy(r.text, "550 5.1.1 no such user");
	envelope_reason(&r, out, sizeof out);
	assert_string_equal(out, "host mx.example.net[192.0.2.1] said: "
	    "550 5.1.1 no such user");
	/* Cut to the buffer, never inside a UTF-8 sequence. */
	strcpy(r.mta, "m");
	strcpy(r.text, "550 \xe2\x9c\x89\xe2\x9c\x89");
	assert_int_equal(envelope_reason(&r, out, 22), 20);
	assert_string_equal(out, "host m said: 550 \xe2\x9c\x89");
}

static void
test_dsn(void **state)
{
	char out[64];
	unsigned b = 99;

	(void)state;
	assert_int_equal(dsn_notify_parse(S("-"), &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(dsn_notify_parse(S("delay,failure"), &b), 0);
	assert_int_equal(b, DSN_NOTIFY_DELAY | DSN_NOTIFY_FAILURE);
	assert_int_equal(dsn_notify_parse(S(""), &b), -1);
	assert_int_equal(dsn_notify_parse(S("FAILURE"), &b), -1);
	assert_int_equal(dsn_notify_parse(S(",failure"), &b), -1);
	assert_int_equal(dsn_notify_parse(S("never,never"), &b), -1);
	assert_int_equal(dsn_notify_parse(S("never,success"), &b), -1);
	assert_int_equal(dsn_notify_format(DSN_NOTIFY_ALL &
	    ~DSN_NOTIFY_NEVER, out, sizeof out), 21);
	assert_string_equal(out, "success,failure,delay");
	assert_int_equal(dsn_notify_format(0, out, sizeof out), 1);
	assert_string_equal(out, "-");
	assert_int_equal(dsn_notify_format(0x10, out, sizeof out), -1);
	assert_int_equal(dsn_notify_format(DSN_NOTIFY_DELAY, out, 5), -1);

	assert_int_equal(dsn_xtext_decode(S("a+2Bb+3Dc"), out, sizeof out),
	    5);
	assert_string_equal(out, "a+b=c");
	assert_int_equal(dsn_xtext_decode(S("a+2b"), out, sizeof out), -1);
	assert_int_equal(dsn_xtext_decode(S("a+2"), out, sizeof out), -1);
	assert_int_equal(dsn_xtext_decode(S("a b"), out, sizeof out), -1);
	assert_int_equal(dsn_xtext_decode(S("a=b"), out, sizeof out), -1);
	assert_int_equal(dsn_xtext_decode(S("abcd"), out, 4), -1);
	assert_int_equal(dsn_xtext_encode(S("a+b c\xc3"), out, sizeof out),
	    12);
	assert_string_equal(out, "a+2Bb+20c+C3");
	assert_int_equal(dsn_xtext_encode(S("++"), out, 6), -1);
	assert_true(dsn_xtext_valid(S("")));
	assert_false(dsn_xtext_valid(S("+")));

	assert_int_equal(dsn_status_class(S("5.1.1")), 5);
	assert_int_equal(dsn_status_class(S("2.0.0")), 2);
	assert_int_equal(dsn_status_class(S("4.999.999")), 4);
	assert_int_equal(dsn_status_class(S("3.1.1")), 0);
	assert_int_equal(dsn_status_class(S("5.1")), 0);
	assert_int_equal(dsn_status_class(S("5.1.")), 0);
	assert_int_equal(dsn_status_class(S("5..1")), 0);
	assert_int_equal(dsn_status_class(S("5.1000.1")), 0);
	assert_int_equal(dsn_status_class(S("5.1.1 ")), 0);
	assert_int_equal(dsn_status_class(S("5.a.1")), 0);
	assert_string_equal(dsn_status_subject(S("5.1.1")),
	    "Addressing status");
	assert_string_equal(dsn_status_subject(S("4.7.1")),
	    "Security or policy status");
	assert_string_equal(dsn_status_subject(S("4.8.1")),
	    "Other or undefined status");
	assert_string_equal(dsn_status_subject(S("x")),
	    "Other or undefined status");
	assert_string_equal(dsn_status_class_name(S("4.4.1")),
	    "Persistent transient failure");
	assert_string_equal(dsn_status_class_name(S("9")), "");
}

/* ---------------------------------------------------------------- */
/* The spool on disk. */

static char	*read_file(const char *, size_t *);
static char	*run_to_string(int (*)(const char *, const char *, int,
		    int, struct err *), const char *, const char *);

static char *
read_file(const char *path, size_t *len)
{
	static char buf[256 * 1024];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof buf - 1);
	assert_true(n >= 0);
	close(fd);
	buf[n] = '\0';
	if (len != NULL) {
		*len = (size_t)n;
	}
	return buf;
}

static int	show_raw;	/* run_to_string's raw flag */

static char *
run_to_string(int (*f)(const char *, const char *, int, int,
    struct err *), const char *dd, const char *id)
{
	static char path[512];
	struct err e;
	int fd;

	snprintf(path, sizeof path, "%s/out.txt", dd);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	if (f != NULL) {
		if (f(dd, id, fd, show_raw, &e) == -1) {
			fail_msg("%s", e.msg);
		}
	} else if (spool_list(dd, fd, show_raw, &e) == -1) {
		fail_msg("%s", e.msg);
	}
	close(fd);
	return read_file(path, NULL);
}

static void
write_msg(const char *dd, const char *id, const char *text)
{
	char path[SPOOL_PATH_MAX];
	int fd;

	assert_int_equal(spool_path(path, sizeof path, dd, "tmp", id, ""), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
test_spool(void **state)
{
	static struct envelope env;
	char dd[] = "/tmp/wren-test-envelope-XXXXXX";
	char path[SPOOL_PATH_MAX], line[ENVELOPE_LINE_MAX + 2], cmd[600];
	struct spool_rcpt r[2] = {
		{ "b@example.net", 0, "" },
		{ "c@example.org", DSN_NOTIFY_FAILURE,
		  "rfc822;c@example.org" },
	};
	struct spool_env se;
	struct envelope_result res;
	struct err e;
	const char *out, *msg = "Received: x\nSubject: t\n\nbody\n";
	char id[SPOOL_ID_MAX];
	size_t len;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dd));
	if (spool_init(dd, &e) == -1) {
		fail_msg("%s", e.msg);
	}
	out = run_to_string(NULL, dd, NULL);
	assert_string_equal(out, "Mail queue is empty\n");

	spool_new_id(id, sizeof id);
	assert_true(envelope_id_valid(id, strlen(id)));
	memset(&se, 0, sizeof se);
	se.id = id;
	se.arrival = 1764120000;	/* 2025-11-26 01:20:00Z */
	se.sender = "a@example.com";
	se.size = strlen(msg);
	se.ret = DSN_RET_FULL;
	se.envid = "";
	se.client = "helo\tname [127.0.0.1]";
	se.rcpt = r;
	se.nrcpt = 2;
	write_msg(dd, id, msg);
	if (spool_write_env(dd, &se, &e) == -1 ||
	    spool_commit(dd, id, &e) == -1) {
		fail_msg("%s", e.msg);
	}
	if (spool_read_env(dd, id, &env, &e) == -1) {
		fail_msg("%s", e.msg);
	}
	assert_string_equal(env.client, "helo?name [127.0.0.1]");
	assert_int_equal(env.nrcpt, 2);

	/* A deferral for one, success for the other. */
	memset(&res, 0, sizeof res);
	res.state = ENVELOPE_DEFERRED;
	res.attempts = 1;
	res.next_try = 1764120300;
	res.code = "4.7.1";
	res.mta = "mx.example.net[192.0.2.1]";
	res.text = "451 4.7.1 greylisted";
	res.textlen = strlen(res.text);
	assert_true(envelope_format_state(line, sizeof line, 0, &res) > 0);
	if (spool_append(dd, id, line, strlen(line), &e) == -1) {
		fail_msg("%s", e.msg);
	}
	res.state = ENVELOPE_SENT;
	res.code = "2.0.0";
	res.text = "250 ok";
	res.textlen = 6;
	assert_true(envelope_format_state(line, sizeof line, 1, &res) > 0);
	if (spool_append(dd, id, line, strlen(line), &e) == -1) {
		fail_msg("%s", e.msg);
	}
	/* Not one line: refused. */
	assert_int_equal(spool_append(dd, id, S("state 0\nstate 1\n"), &e),
	    -1);
	assert_int_equal(spool_append(dd, id, S("admin hold 1"), &e), -1);

	/* A crash tore the next append: the parser ignores it, the next
	 * append cuts it off. */
	assert_int_equal(spool_path(path, sizeof path, dd, "env", id, ""), 0);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "state 0 fail", 12), 12);
	close(fd);
	if (spool_read_env(dd, id, &env, &e) == -1) {
		fail_msg("%s", e.msg);
	}
	assert_int_equal(env.rcpt[0].state, ENVELOPE_DEFERRED);
	assert_int_equal(env.rcpt[1].state, ENVELOPE_SENT);
	out = run_to_string(NULL, dd, NULL);
	snprintf(cmd, sizeof cmd, "-Queue ID-           --Size-- "
	    "----Arrival Time----  -Sender/Recipient-------\n"
	    "%-20s %8zu 2025-11-26 01:20:00Z  <a@example.com>\n"
	    "        (host mx.example.net[192.0.2.1] said: 451 4.7.1 "
	    "greylisted)\n%52s<b@example.net>\n\n"
	    "-- 1 Kbytes in 1 Request.\n", id, strlen(msg), "");
	assert_string_equal(out, cmd);

	assert_true(envelope_format_admin(line, sizeof line, ENVELOPE_HOLD,
	    1764120001) > 0);
	if (spool_append(dd, id, line, strlen(line), &e) == -1) {
		fail_msg("%s", e.msg);
	}
	out = read_file(path, &len);
	assert_non_null(strstr(out, "250 ok\nadmin hold 1764120001\n"));
	assert_null(strstr(out, "state 0 fail"));
	out = run_to_string(NULL, dd, NULL);
	snprintf(cmd, sizeof cmd, "\n%s! ", id);
	assert_non_null(strstr(out, cmd));

	out = run_to_string(spool_show, dd, id);
	assert_non_null(strstr(out, "*** ENVELOPE ***\nid: "));
	assert_non_null(strstr(out, "sender: <a@example.com>\n"));
	assert_non_null(strstr(out, "status: on hold\n"));
	assert_non_null(strstr(out, "recipient 0: <b@example.net> notify=- "
	    "orcpt=-\n    deferred, 1 attempt, next try 2025-11-26 "
	    "01:25:00Z, status 4.7.1\n    (host mx.example.net[192.0.2.1] "
	    "said: 451 4.7.1 greylisted)\n"));
	assert_non_null(strstr(out, "recipient 1: <c@example.org> "
	    "notify=failure orcpt=rfc822;c@example.org\n    sent, 1 "
	    "attempt, status 2.0.0\n"));
	assert_non_null(strstr(out, "*** MESSAGE ***\nReceived: x\n"
	    "Subject: t\n\nbody\n"));

	/* show refuses what is not a queue id, and a missing one. */
	assert_int_equal(spool_show(dd, "../../etc/passwd", 1, 0, &e), -1);
	assert_int_equal(spool_show(dd, "ABC", 1, 0, &e), -1);

	/* A damaged envelope is listed with its reason and line. */
	{
		char bad[SPOOL_PATH_MAX];

		assert_int_equal(spool_path(bad, sizeof bad, dd, "env",
		    "0BAD", ""), 0);
		fd = open(bad, O_WRONLY | O_CREAT, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "wren-envelope 1\nid 0BAD\nx 1\n",
		    28), 28);
		close(fd);
		out = run_to_string(NULL, dd, NULL);
		assert_non_null(strstr(out, "0BAD                 "
		    "(unreadable envelope: "));
		assert_non_null(strstr(out, "/queue/env/0BAD:3: unknown line "
		    "kind)\n"));
		assert_non_null(strstr(out, "in 2 Requests.\n"));
		assert_int_equal(spool_read_env(dd, "0BAD", &env, &e), -1);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dd);
	assert_int_equal(system(cmd), 0);
}

/* A queued message with this text, committed with spool_commit. */
static void
queue_one(const char *dd, char *id, size_t cap, const char *text)
{
	static const struct spool_rcpt r = { "b@example.net", 0, "" };
	struct spool_env se;
	struct err e;

	spool_new_id(id, cap);
	memset(&se, 0, sizeof se);
	se.id = id;
	se.arrival = 1764120000;
	se.sender = "a@example.com";
	se.size = strlen(text);
	se.envid = "";
	se.client = "h [127.0.0.1]";
	se.rcpt = &r;
	se.nrcpt = 1;
	write_msg(dd, id, text);
	if (spool_write_env(dd, &se, &e) == -1 ||
	    spool_commit(dd, id, &e) == -1) {
		fail_msg("%s", e.msg);
	}
}

static int
exists(const char *dd, const char *sub, const char *id)
{
	char path[SPOOL_PATH_MAX];
	struct stat sb;

	assert_int_equal(spool_path(path, sizeof path, dd, sub, id, ""), 0);
	return lstat(path, &sb) == 0;
}

/*
 * Issue 17, item 9: start-up removes what was never acknowledged --
 * tmp/, msg/ without env/, and env/ without msg/ (a crash between the
 * renames of an older commit); a complete message stays. spool_commit
 * whose envelope cannot be renamed (env/<id> is a directory) takes the
 * message back out of msg/.
 */
static void
test_spool_start(void **state)
{
	char dd[] = "/tmp/wren-spool-XXXXXX", cmd[600];
	char a[SPOOL_ID_MAX], b[SPOOL_ID_MAX], c[SPOOL_ID_MAX];
	char path[SPOOL_PATH_MAX];
	struct err e;

	(void)state;
	assert_non_null(mkdtemp(dd));
	assert_int_equal(spool_init(dd, &e), 0);
	queue_one(dd, a, sizeof a, "complete\n");
	queue_one(dd, b, sizeof b, "env without msg\n");
	queue_one(dd, c, sizeof c, "msg without env\n");
	/* b's message lost, c's envelope lost */
	assert_int_equal(spool_path(path, sizeof path, dd, "msg", b, ""), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(spool_path(path, sizeof path, dd, "env", c, ""), 0);
	assert_int_equal(unlink(path), 0);
	/* a file in tmp/ */
	write_msg(dd, "0ABC", "partial");
	/* an env/ name that is not a queue id is not ours to remove */
	assert_int_equal(spool_path(path, sizeof path, dd, "env", "x.y",
	    ""), 0);
	assert_int_equal(close(open(path, O_WRONLY | O_CREAT, 0600)), 0);
	assert_int_equal(spool_init(dd, &e), 0);
	assert_true(exists(dd, "msg", a) && exists(dd, "env", a));
	if (exists(dd, "env", b)) {
		fail_msg("an envelope without its message survived start-up");
	}
	assert_false(exists(dd, "msg", c));
	assert_false(exists(dd, "tmp", "0ABC"));
	assert_true(exists(dd, "env", "x.y"));

	/* The envelope cannot be renamed: the message leaves msg/. */
	spool_new_id(b, sizeof b);
	assert_int_equal(spool_path(path, sizeof path, dd, "env", b, ""), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	write_msg(dd, b, "x\n");
	assert_int_equal(spool_path(path, sizeof path, dd, "tmp", b,
	    ".env"), 0);
	assert_int_equal(close(open(path, O_WRONLY | O_CREAT, 0600)), 0);
	assert_int_equal(spool_commit(dd, b, &e), -1);
	if (exists(dd, "msg", b)) {
		fail_msg("spool_commit failed and left msg/%s", b);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dd);
	assert_int_equal(system(cmd), 0);
}

/*
 * Issue 17, item 10: `wren queue show` escapes what could drive the
 * terminal (ESC sequences, bare CR, C1 controls as UTF-8 or as raw
 * bytes, bytes that are not UTF-8), keeps UTF-8 text and TAB, and
 * writes the exact bytes when raw. A UTF-8 character split by the read
 * size (4096) passes whole.
 */
static void
test_show_escapes(void **state)
{
	static const struct {
		const char	*desc;
		const char	*in;
		const char	*want;
	} rows[] = {
		{ "plain text and TAB pass", "a\tb c\n", "a\tb c\n" },
		{ "UTF-8 text passes", "caf\xc3\xa9 \xe2\x82\xac "
		  "\xf0\x9f\x98\x80\n", "caf\xc3\xa9 \xe2\x82\xac "
		  "\xf0\x9f\x98\x80\n" },
		/* hostile */
		{ "ESC sequence: clear screen", "\x1b[2J\x1b]0;t\x07x\n",
		  "\\x1b[2J\\x1b]0;t\\x07x\n" },
		{ "bare CR rewriting the line", "ok\rFAKE\n",
		  "ok\\x0dFAKE\n" },
		{ "C1 CSI as UTF-8", "\xc2\x9b" "31m\n",
		  "\\xc2\\x9b" "31m\n" },
		{ "C1 CSI as a raw byte", "\x9b" "31m\n", "\\x9b" "31m\n" },
		{ "DEL and NUL", "\x7f\x01\n", "\\x7f\\x01\n" },
		{ "overlong and invalid UTF-8", "\xc0\xaf\xed\xa0\x80"
		  "\xff\n", "\\xc0\\xaf\\xed\\xa0\\x80\\xff\n" },
		{ "a sequence cut by ESC", "\xe2\x82\x1b\n",
		  "\\xe2\\x82\\x1b\n" },
		{ "a sequence cut by the end", "x\xe2\x82",
		  "x\\xe2\\x82" },
	};
	char dd[] = "/tmp/wren-show-XXXXXX", id[SPOOL_ID_MAX], cmd[600];
	static char big[8192], want[8192 + 4];
	const char *out, *m;
	struct err e;

	(void)state;
	assert_non_null(mkdtemp(dd));
	assert_int_equal(spool_init(dd, &e), 0);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		queue_one(dd, id, sizeof id, rows[i].in);
		show_raw = 0;
		out = run_to_string(spool_show, dd, id);
		m = strstr(out, "*** MESSAGE ***\n");
		assert_non_null(m);
		m += strlen("*** MESSAGE ***\n");
		if (strcmp(m, rows[i].want) != 0) {
			fail_msg("%s: got \"%s\"", rows[i].desc, m);
		}
		show_raw = 1;
		out = run_to_string(spool_show, dd, id);
		m = strstr(out, "*** MESSAGE ***\n");
		assert_non_null(m);
		assert_string_equal(m + strlen("*** MESSAGE ***\n"),
		    rows[i].in);
	}
	/* across the read size */
	memset(big, 'x', sizeof big);
	memcpy(big + 4095, "\xc3\xa9", 2);
	memcpy(big + 6000, "\x1b", 1);
	big[sizeof big - 1] = '\0';
	memcpy(want, big, 6000);
	memcpy(want + 6000, "\\x1b", 4);
	memcpy(want + 6004, big + 6001, sizeof big - 6001);
	queue_one(dd, id, sizeof id, big);
	show_raw = 0;
	out = run_to_string(spool_show, dd, id);
	m = strstr(out, "*** MESSAGE ***\n");
	assert_non_null(m);
	assert_string_equal(m + strlen("*** MESSAGE ***\n"), want);
	show_raw = 0;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dd);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_dsn),
		cmocka_unit_test(test_spool),
		cmocka_unit_test(test_spool_start),
		cmocka_unit_test(test_show_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
