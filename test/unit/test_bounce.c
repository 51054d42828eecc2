/* SPDX-License-Identifier: ISC */
/*
 * test_bounce.c - RFC 3464 reports (queue/bounce.h): which recipients
 * get one (NOTIFY, reported lines, the null sender), and the report
 * itself, composed into a temporary file for a table of envelopes and
 * originals. Each report is checked in C (header fields, MIME
 * boundaries, parts, fields, no CR or NUL, line lengths, no 8-bit
 * octet in the header without SMTPUTF8) and, when /usr/bin/python3 is
 * there, parsed by Python's email package, which must see a
 * multipart/report with the expected parts, Final-Recipient and
 * Action values and To: address, and no defects.
 *
 * Envelopes are written in the queue's own format and read with the
 * envelope parser, as the runner would. More than half of the rows
 * are edge or hostile cases (NOTIFY exclusions, the null sender,
 * oversized originals and headers, 8-bit senders without SMTPUTF8,
 * long replies, missing line ends).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>

#include "queue/bounce.h"
#include "testutil.h"

#define PYTHON		"/usr/bin/python3"
#define ARRIVAL		1764120000	/* Wed, 26 Nov 2025 01:20:00 */
#define HEAD(sender)	"wren-envelope 1\nid 0A1B\narrival 1764120000\n" \
			"sender " sender "\nsize 100\n"
#define MSG		"Received: from x\nSubject: hello\n" \
			"From: alice@example.com\n\nbody line\n"
#define LIST(...)	{ __VA_ARGS__, NULL }

struct bounce_case {
	const char		*desc;
	const char		*env;
	enum bounce_kind	 kind;
	struct text		 msg;		/* head NULL: no fd */
	int			 want_n;
	const char		*want[16];	/* substrings, in order */
	const char		*absent[6];
	size_t			 max_line;	/* our lines; 0: 78 */
	int			 head8;		/* 8-bit allowed in header */
	/* Python: part types, Final-Recipient and Action lists ("|"
	 * separated, NULL: not checked), the To: address */
	const char		*py2, *py3, *finals, *actions, *to;
};

static const struct bounce_case cases[] = {
	{ "failure of one of two recipients, no RET: returned whole",
	  HEAD("alice@example.com")
	  "rcpt bob@example.net notify=- orcpt=-\n"
	  "rcpt carol@example.org notify=- orcpt=-\n"
	  "state 0 sent 1 0 2.0.0 mx.example.net 250 ok\n"
	  "state 1 failed 1 0 5.1.1 mx.example.org[192.0.2.9] 550 5.1.1 "
	  "<carol@example.org>: Recipient address rejected: User unknown "
	  "in virtual mailbox table (in reply to RCPT TO command)\n",
	  BOUNCE_FAILURE, T(MSG), 1,
	  LIST("From: \"Mail Delivery System\" "
	    "<MAILER-DAEMON@mail.example.com>\n",
	    "\nTo: <alice@example.com>\n",
	    "\nSubject: Undelivered Mail Returned to Sender\n",
	    "\nDate: Wed, 26 Nov 2025 01:30:00 +0000\n",
	    "\nMessage-ID: <20251126013000.0B0B@mail.example.com>\n",
	    "\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n",
	    "This is the mail system at host mail.example.com.\n",
	    "It's attached below.\n",
	    "\n<carol@example.org>: host mx.example.org[192.0.2.9] said: 550 "
	    "5.1.1\n    <carol@example.org>: Recipient address rejected: ",
	    "\nReporting-MTA: dns; mail.example.com\nX-Wren-Queue-ID: 0A1B\n"
	    "X-Wren-Sender: rfc822; alice@example.com\n"
	    "Arrival-Date: Wed, 26 Nov 2025 01:20:00 +0000\n\n"
	    "Final-Recipient: rfc822; carol@example.org\nAction: failed\n"
	    "Status: 5.1.1\nRemote-MTA: dns; mx.example.org\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <carol@example.org>: Recipient "
	    "address\n rejected: User",
	    "\nContent-Description: Undelivered Message\n"
	    "Content-Type: message/rfc822\n\n" MSG "\n--",
	    "\n--0B0B.1764120600/mail.example.com--\n"),
	  LIST("bob@example.net", "Original-Envelope-Id",
	    "Content-Transfer-Encoding"), 0, 0,
	  "message/delivery-status", "message/rfc822",
	  "rfc822; carol@example.org", "failed", "alice@example.com" },
	{ "RET=HDRS: the original's header only",
	  HEAD("alice@example.com") "ret hdrs\n"
	  "rcpt carol@example.org notify=failure orcpt=-\n"
	  "state 0 failed 3 0 5.2.2 mx.example.org 552 5.2.2 over quota\n",
	  BOUNCE_FAILURE, T(MSG), 1,
	  LIST("Its header is attached below.\n",
	    "Content-Description: Undelivered Message Headers\n"
	    "Content-Type: text/rfc822-headers\n\nReceived: from x\n"
	    "Subject: hello\nFrom: alice@example.com\n\n--"),
	  LIST("body line"), 0, 0,
	  "message/delivery-status", "text/rfc822-headers",
	  "rfc822; carol@example.org", "failed", "alice@example.com" },
	{ "original over BOUNCE_FULL_MAX: header only, body never read",
	  HEAD("alice@example.com") "ret full\n"
	  "rcpt carol@example.org notify=- orcpt=-\n"
	  "state 0 failed 1 0 5.3.4 mx.example.org 552 5.3.4 too big\n",
	  BOUNCE_FAILURE, TF("Subject: big\n\n", "0123456789abcdef\n",
	  BOUNCE_FULL_MAX / 17 + 1, NULL), 1,
	  LIST("Content-Type: text/rfc822-headers\n\nSubject: big\n\n--"),
	  LIST("0123456789abcdef"), 0, 0,
	  "message/delivery-status", "text/rfc822-headers",
	  "rfc822; carol@example.org", "failed", NULL },
	{ "NOTIFY=NEVER, NOTIFY=SUCCESS and already reported: no report "
	  "for those",
	  HEAD("alice@example.com")
	  "rcpt never@example.org notify=never orcpt=-\n"
	  "rcpt success@example.org notify=success orcpt=-\n"
	  "rcpt fail@example.org notify=success,failure orcpt=-\n"
	  "rcpt done@example.org notify=- orcpt=-\n"
	  "state 0 failed 1 0 5.1.1 - x\nstate 1 failed 1 0 5.1.1 - x\n"
	  "state 2 failed 1 0 5.1.1 - x\nstate 3 failed 1 0 5.1.1 - x\n"
	  "reported 3 failure 1764120500\n",
	  BOUNCE_FAILURE, T(MSG), 1,
	  LIST("\n<fail@example.org>: x\n",
	    "Final-Recipient: rfc822; fail@example.org\nAction: failed\n"
	    "Status: 5.1.1\nDiagnostic-Code: X-Wren; x\n\n--"),
	  LIST("never@", "success@", "done@"), 0, 0,
	  "message/delivery-status", "message/rfc822",
	  "rfc822; fail@example.org", "failed", NULL },
	{ "nobody wants a report: nothing written",
	  HEAD("alice@example.com")
	  "rcpt never@example.org notify=never orcpt=-\n"
	  "rcpt ok@example.org notify=- orcpt=-\n"
	  "state 0 failed 1 0 5.1.1 - x\nstate 1 sent 1 0 2.0.0 - ok\n",
	  BOUNCE_FAILURE, T(MSG), 0, LIST(NULL), LIST(NULL), 0, 0,
	  NULL, NULL, NULL, NULL, NULL },
	{ "null sender: never a bounce",
	  HEAD("") "rcpt bob@example.net notify=failure orcpt=-\n"
	  "state 0 failed 1 0 5.1.1 - x\n",
	  BOUNCE_FAILURE, T(MSG), 0, LIST(NULL), LIST(NULL), 0, 0,
	  NULL, NULL, NULL, NULL, NULL },
	{ "delay notice: deferred recipients that allow DELAY, header only "
	  "even with RET=FULL",
	  HEAD("alice@example.com") "ret full\n"
	  "rcpt slow@example.net notify=- orcpt=-\n"
	  "rcpt nodelay@example.net notify=failure orcpt=-\n"
	  "rcpt gone@example.net notify=- orcpt=-\n"
	  "rcpt both@example.net notify=failure,delay orcpt=-\n"
	  "state 0 deferred 5 1764135000 4.4.1 - connect to "
	  "mx.example.net[192.0.2.1]:25: Connection refused\n"
	  "state 1 deferred 5 1764135000 4.4.1 - x\n"
	  "state 2 failed 5 0 5.1.1 - x\n"
	  "state 3 deferred 5 1764135000 4.7.1 mx.example.net 451 4.7.1 "
	  "greylisted\n",
	  BOUNCE_DELAY, T(MSG), 2,
	  LIST("\nSubject: Delayed Mail (still being retried)\n",
	    "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR "
	    "MESSAGE. #\n",
	    "\nYour message could not be delivered for more than 4 hour(s).\n"
	    "It will be retried until Mon, 1 Dec 2025 01:20:00 +0000.\n",
	    "\n<slow@example.net>: connect to mx.example.net[192.0.2.1]:25: "
	    "Connection\n    refused\n\n<both@",
	    "\nFinal-Recipient: rfc822; slow@example.net\nAction: delayed\n"
	    "Status: 4.4.1\nDiagnostic-Code: X-Wren; connect to "
	    "mx.example.net[192.0.2.1]:25: Connection\n refused\n"
	    "Will-Retry-Until: Mon, 1 Dec 2025 01:20:00 +0000\n",
	    "\nFinal-Recipient: rfc822; both@example.net\nAction: delayed\n"
	    "Status: 4.7.1\nRemote-MTA: dns; mx.example.net\n",
	    "Content-Type: text/rfc822-headers\n"),
	  LIST("nodelay@", "gone@", "body line"), 0, 0,
	  "message/delivery-status", "text/rfc822-headers",
	  "rfc822; slow@example.net|rfc822; both@example.net",
	  "delayed|delayed", "alice@example.com" },
	{ "ENVID and ORCPT decoded from xtext; control octets or another "
	  "type kept as received",
	  HEAD("alice@example.com") "envid abc+2Bdef\n"
	  "rcpt c@example.org notify=- orcpt=rfc822;c+2Bx@example.org\n"
	  "rcpt d@example.org notify=- orcpt=rfc822;d+0Ax@example.org\n"
	  "rcpt e@example.org notify=- orcpt=x-local;e\n"
	  "state 0 failed 1 0 5.1.1 - x\nstate 1 failed 1 0 5.1.1 - x\n"
	  "state 2 failed 1 0 5.1.1 - x\n",
	  BOUNCE_FAILURE, T(MSG), 3,
	  LIST("\nX-Wren-Sender: rfc822; alice@example.com\n"
	    "Original-Envelope-Id: abc+def\n",
	    "\nFinal-Recipient: rfc822; c@example.org\n"
	    "Original-Recipient: rfc822;c+x@example.org\n",
	    "\nFinal-Recipient: rfc822; d@example.org\n"
	    "Original-Recipient: rfc822;d+0Ax@example.org\n",
	    "\nFinal-Recipient: rfc822; e@example.org\n"
	    "Original-Recipient: x-local;e\n"),
	  LIST(NULL), 0, 0,
	  "message/delivery-status", "message/rfc822",
	  "rfc822; c@example.org|rfc822; d@example.org|"
	  "rfc822; e@example.org", "failed|failed|failed", NULL },
	{ "SMTPUTF8 sender and recipient: RFC 6533 report, UTF-8 To:",
	  "wren-envelope 1\nid 0A1B\narrival 1764120000\n"
	  "sender j\xc3\xb6rg@b\xc3\xbc" "cher.example\nsize 9\nsmtputf8 1\n"
	  "rcpt \xc3\xa5sa@example.se notify=- orcpt=-\n"
	  "state 0 failed 1 0 5.1.1 mx.example.se 550 5.1.1 "
	  "\xc3\xa5sa: ok\xc3\xa4nd\n",
	  BOUNCE_FAILURE, T("Subject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\n\n"
	  "gr\xc3\xbc\xc3\x9f" "e\n"), 1,
	  LIST("\nTo: <j\xc3\xb6rg@b\xc3\xbc" "cher.example>\n",
	    "Content-Transfer-Encoding: 8bit\n",
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n",
	    "\n<\xc3\xa5sa@example.se>: host mx.example.se said: 550 5.1.1 "
	    "\xc3\xa5sa: ok\xc3\xa4nd\n",
	    "Content-Type: message/global-delivery-status\n"
	    "Content-Transfer-Encoding: 8bit\n",
	    "X-Wren-Sender: utf-8; j\xc3\xb6rg@b\xc3\xbc" "cher.example\n",
	    "Final-Recipient: utf-8; \xc3\xa5sa@example.se\n",
	    "Content-Type: message/global\nContent-Transfer-Encoding: 8bit\n"
	    "\nSubject:"),
	  LIST(NULL), 0, 1,
	  "message/global-delivery-status", "message/global", NULL, NULL,
	  "j\xc3\xb6rg@b\xc3\xbc" "cher.example" },
	{ "8-bit sender without SMTPUTF8 (hostile): no 8-bit octet in the "
	  "header or the status",
	  HEAD("j\xc3\xb6rg@example.de")
	  "rcpt \xc3\xa5sa@example.se notify=- orcpt=-\n"
	  "state 0 failed 1 0 5.1.1 mx.example.se 550 5.1.1 "
	  "\xc3\xa5sa unknown\n",
	  BOUNCE_FAILURE, T(MSG), 1,
	  LIST("\nTo: <j??rg@example.de>\n",
	    "Content-Type: text/plain; charset=utf-8\n",
	    "Content-Type: message/delivery-status\n\n",
	    "X-Wren-Sender: rfc822; j??rg@example.de\n",
	    "Final-Recipient: rfc822; ??sa@example.se\n",
	    "Diagnostic-Code: smtp; 550 5.1.1 ??sa unknown\n"),
	  LIST("global"), 0, 0,
	  "message/delivery-status", "message/rfc822",
	  "rfc822; ??sa@example.se", "failed", "j??rg@example.de" },
	{ "a long reply with a 300-octet word: folded, the word whole in "
	  "the status, cut in the text",
	  HEAD("alice@example.com")
	  "rcpt carol@example.org notify=- orcpt=-\n"
	  "state 0 failed 1 0 5.7.1 mx.example.org 550 5.7.1 "
	  "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	  "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	  "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	  "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	  "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy then some words after it to "
	  "fold\n",
	  BOUNCE_FAILURE, T(MSG), 1,
	  LIST("\n    yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\n",
	    "\n    yyyyyyyyyyyy then some words after it to fold\n",
	    "\nDiagnostic-Code: smtp; 550 5.7.1\n yyyyyyyy",
	    "yyyy\n then some words after it to fold\n"),
	  LIST(NULL), 998, 0,
	  "message/delivery-status", "message/rfc822",
	  "rfc822; carol@example.org", "failed", NULL },
	{ "original without a final LF nor a body, 8-bit: LF added, "
	  "8bit declared",
	  HEAD("alice@example.com")
	  "rcpt carol@example.org notify=- orcpt=-\n"
	  "state 0 failed 1 0 5.1.1 - x\n",
	  BOUNCE_FAILURE, T("Subject: x\nX-Note: \xc3\xa9t\xc3\xa9"), 1,
	  LIST("\nContent-Transfer-Encoding: 8bit\n",
	    "Content-Type: text/plain; charset=us-ascii\n\n",
	    "Content-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n"
	    "\nSubject: x\nX-Note: \xc3\xa9t\xc3\xa9\n\n--"),
	  LIST(NULL), 0, 0,
	  "message/delivery-status", "message/rfc822",
	  "rfc822; carol@example.org", "failed", NULL },
	{ "header over BOUNCE_HDRS_MAX (hostile): cut after a whole line",
	  HEAD("alice@example.com") "ret hdrs\n"
	  "rcpt carol@example.org notify=- orcpt=-\n"
	  "state 0 failed 1 0 5.1.1 - x\n",
	  BOUNCE_FAILURE, TF("Subject: y\n",
	  "X-Filler: 0123456789012345678901234567890123456789\n", 2000,
	  "\nbody\n"), 1,
	  LIST("Content-Type: text/rfc822-headers\n\nSubject: y\nX-Filler:",
	    "0123456789\n\n--0B0B"),
	  LIST("\nbody\n"), 0, 0,
	  "message/delivery-status", "text/rfc822-headers",
	  "rfc822; carol@example.org", "failed", NULL },
	{ "no original: two parts; no code nor text: 5.0.0 in words",
	  HEAD("alice@example.com")
	  "rcpt carol@example.org notify=- orcpt=-\n"
	  "state 0 failed 1 0 - -\n",
	  BOUNCE_FAILURE, { NULL, NULL, 0, NULL, 0 }, 1,
	  LIST("recipients.\n\nFor further",
	    "\n<carol@example.org>: Permanent failure: Other or undefined "
	    "status\n",
	    "Action: failed\nStatus: 5.0.0\n\n--0B0B.1764120600/"
	    "mail.example.com--\n"),
	  LIST("Undelivered Message", "Diagnostic-Code"), 0, 0,
	  "message/delivery-status", NULL,
	  "rfc822; carol@example.org", "failed", NULL },
};

/* The Python side: argv file, part 2 type, part 3 type ("-": none),
 * Final-Recipient values, Action values ("-": not checked), To:. */
static const char py_check[] =
"import sys, email\n"
"from email import policy\n"
"path, t2, t3, finals, actions, to = sys.argv[1:7]\n"
"with open(path, 'rb') as f:\n"
"    m = email.message_from_binary_file(f, policy=policy.default)\n"
"assert m.get_content_type() == 'multipart/report', m.get_content_type()\n"
"assert m.get_param('report-type') == 'delivery-status'\n"
"assert not m.defects, m.defects\n"
"parts = m.get_payload()\n"
"assert len(parts) == (2 if t3 == '-' else 3), len(parts)\n"
"for p in parts:\n"
"    assert not p.defects, p.defects\n"
"assert parts[0].get_content_type() == 'text/plain'\n"
"assert parts[1].get_content_type() == t2, parts[1].get_content_type()\n"
"if t2 == 'message/delivery-status':\n"
"    blocks = parts[1].get_payload()\n"
"    assert blocks[0]['Reporting-MTA'] == 'dns; mail.example.com'\n"
"    assert blocks[0]['Arrival-Date'] is not None\n"
"    got = '|'.join(str(b['Final-Recipient']) for b in blocks[1:])\n"
"    assert got == finals, (got, finals)\n"
"    got = '|'.join(str(b['Action']) for b in blocks[1:])\n"
"    assert got == actions, (got, actions)\n"
"    for b in blocks[1:]:\n"
"        assert b['Status'][0] in '45', b['Status']\n"
"if t3 != '-':\n"
"    assert parts[2].get_content_type() == t3, parts[2].get_content_type()\n"
"if t3 in ('message/rfc822', 'message/global'):\n"
"    inner = parts[2].get_payload()[0]\n"
"    assert inner['Subject'] is not None\n"
"if to != '-':\n"
"    got = m['To'].addresses[0].addr_spec\n"
"    # raw UTF-8 (RFC 6532) comes back surrogate-escaped\n"
"    got = got.encode('utf-8', 'surrogateescape').decode('utf-8')\n"
"    assert got == to, (got, to)\n"
"assert m['Auto-Submitted'] == 'auto-replied'\n"
"assert 'MAILER-DAEMON@mail.example.com' in str(m['From'])\n";

static char	*slurp(int, size_t *);
static void	check_report(const struct bounce_case *, const char *,
		    size_t);
static void	python_check(const struct bounce_case *, const char *);

static char *
slurp(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *p = malloc(cap + 1);
	ssize_t k;

	assert_non_null(p);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	while ((k = read(fd, p + n, cap - n)) > 0) {
		n += (size_t)k;
		if (n == cap) {
			cap *= 2;
			p = realloc(p, cap + 1);
			assert_non_null(p);
		}
	}
	assert_true(k == 0);
	p[n] = '\0';
	*len = n;
	return p;
}

/* Structure: no CR or NUL; lines within bounds; the header's fields;
 * the boundary delimiting exactly the expected parts; the wanted
 * substrings in order, the absent ones absent. */
static void
check_report(const struct bounce_case *c, const char *r, size_t len)
{
	size_t max = c->max_line ? c->max_line : 78;
	const char *p, *end = r + len, *hend, *third, *b;
	char boundary[128], delim[256];
	size_t bl, nparts = 0;

	if (memchr(r, '\0', len) != NULL || memchr(r, '\r', len) != NULL) {
		fail_msg("%s: CR or NUL in the report", c->desc);
	}
	hend = strstr(r, "\n\n");
	assert_non_null(hend);
	for (p = r; p < hend; p++) {
		if ((unsigned char)*p >= 0x80 && !c->head8) {
			fail_msg("%s: 8-bit octet in the header", c->desc);
		}
	}
	b = strstr(r, "boundary=\"");
	assert_non_null(b);
	b += 10;
	bl = strcspn(b, "\"");
	assert_true(bl > 0 && bl <= 70);
	memcpy(boundary, b, bl);
	boundary[bl] = '\0';
	snprintf(delim, sizeof delim, "\n--%s\n", boundary);
	for (p = r; (p = strstr(p, delim)) != NULL; p++) {
		nparts++;
	}
	assert_int_equal(nparts, c->msg.head != NULL ? 3 : 2);
	snprintf(delim, sizeof delim, "\n--%s--\n", boundary);
	bl = strlen(delim);
	if (len < bl || memcmp(end - bl, delim, bl) != 0) {
		fail_msg("%s: does not end with the closing delimiter",
		    c->desc);
	}
	/* Our lines (all but part 3's content) short; any line <= 998. */
	snprintf(delim, sizeof delim, "\n--%s\nContent-Description: "
	    "Undelivered", boundary);
	third = strstr(r, delim);
	if (third != NULL) {
		third = strstr(third, "\n\n");
	}
	for (p = r; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);
		int ours = third == NULL || p <= third;

		if (ll > 998 || (ours && ll > max)) {
			fail_msg("%s: line of %zu octets: %.60s...", c->desc,
			    ll, p);
		}
		p = nl ? nl + 1 : end;
	}
	for (size_t k = 0; k < 4; k++) {
		static const char *const need[] = { "\nTo: <", "\nDate: ",
		    "\nMessage-ID: <", "\nContent-Type: multipart/report; "
		    "report-type=delivery-status;\n\tboundary=\"" };

		if (strstr(r, need[k]) == NULL || strstr(r, need[k]) > hend) {
			fail_msg("%s: no %s in the header", c->desc,
			    need[k] + 1);
		}
	}
	p = r;
	for (size_t k = 0; c->want[k] != NULL; k++) {
		const char *f = strstr(p, c->want[k]);

		if (f == NULL) {
			fprintf(stderr, "--- the report:\n%.20000s\n---\n", r);
			fail_msg("%s: want %zu not found (in order): \"%s\"",
			    c->desc, k, c->want[k]);
		}
		p = f + 1;	/* in order of their starts */
	}
	for (size_t k = 0; c->absent[k] != NULL; k++) {
		if (strstr(r, c->absent[k]) != NULL) {
			fail_msg("%s: \"%s\" should not be there", c->desc,
			    c->absent[k]);
		}
	}
}

/* The script, written once; have: -1 not yet looked, 0 no Python. */
static char	script[] = "/tmp/wren-test-bounce-py-XXXXXX";
static int	have = -1;

static void
python_check(const struct bounce_case *c, const char *path)
{
	char cmd[2048];
	int fd;

	if (have == -1) {
		have = access(PYTHON, X_OK) == 0;
		if (!have) {
			fprintf(stderr, "test_bounce: no %s, Python checks "
			    "skipped\n", PYTHON);
			return;
		}
		fd = mkstemp(script);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, py_check, sizeof py_check - 1),
		    (ssize_t)(sizeof py_check - 1));
		close(fd);
	}
	if (!have || c->py2 == NULL) {
		return;
	}
	snprintf(cmd, sizeof cmd, PYTHON " %s '%s' '%s' '%s' '%s' '%s' '%s'",
	    script, path, c->py2, c->py3 ? c->py3 : "-",
	    c->finals ? c->finals : "-", c->actions ? c->actions : "-",
	    c->to ? c->to : "-");
	if (c->finals == NULL) {
		/* a global report: Python does not split its blocks */
		assert_null(c->actions);
	}
	if (system(cmd) != 0) {
		fail_msg("%s: Python's email package disagrees (%s)",
		    c->desc, cmd);
	}
}

static void
test_reports(void **state)
{
	static struct envelope env;
	static struct envelope_parser p;
	char opath[] = "/tmp/wren-test-bounce-XXXXXX";
	char mpath[] = "/tmp/wren-test-bounce-msg-XXXXXX";

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct bounce_case *c = &cases[i];
		struct bounce_req q;
		struct err e;
		size_t len, mlen;
		char *r, *m;
		int out, mfd = -1, n;

		envelope_parser_init(&p, &env);
		if (envelope_feed(&p, c->env, strlen(c->env)) == -1 ||
		    envelope_finish(&p) == -1) {
			fail_msg("%s: envelope: line %lu: %s", c->desc,
			    p.err_line, envelope_strerror(p.err));
		}
		assert_int_equal(bounce_needed(&env, c->kind),
		    c->want_n > 0);
		if (c->msg.head != NULL) {
			strcpy(mpath, "/tmp/wren-test-bounce-msg-XXXXXX");
			mfd = mkstemp(mpath);
			assert_true(mfd >= 0);
			m = build(&c->msg, &mlen);
			assert_int_equal(write(mfd, m, mlen), (ssize_t)mlen);
			free(m);
		}
		strcpy(opath, "/tmp/wren-test-bounce-XXXXXX");
		out = mkstemp(opath);
		assert_true(out >= 0);
		memset(&q, 0, sizeof q);
		q.env = &env;
		q.kind = c->kind;
		q.host = "mail.example.com";
		q.id = "0B0B";
		q.now = ARRIVAL + (c->kind == BOUNCE_DELAY ? 4 * 3600 + 60 :
		    600);
		q.retry_until = c->kind == BOUNCE_DELAY ? ARRIVAL + 5 * 86400 :
		    0;
		q.msg_fd = mfd;
		n = bounce_write(out, &q, &e);
		if (n != c->want_n) {
			fail_msg("%s: bounce_write gave %d, want %d (%s)",
			    c->desc, n, c->want_n, n == -1 ? e.msg : "");
		}
		r = slurp(out, &len);
		if (n == 0) {
			assert_int_equal(len, 0);
		} else {
			check_report(c, r, len);
			python_check(c, opath);
		}
		free(r);
		close(out);
		unlink(opath);
		if (mfd != -1) {
			close(mfd);
			unlink(mpath);
		}
	}
	if (have == 1) {
		unlink(script);
	}
}

/* bounce_rcpt_wanted, recipient by recipient. */
static void
test_wanted(void **state)
{
	static struct envelope env;
	static struct envelope_parser p;
	static const char text[] = HEAD("a@b")
	    "rcpt r0@x notify=- orcpt=-\n"
	    "rcpt r1@x notify=never orcpt=-\n"
	    "rcpt r2@x notify=delay orcpt=-\n"
	    "rcpt r3@x notify=failure orcpt=-\n"
	    "rcpt r4@x notify=- orcpt=-\n"
	    "rcpt r5@x notify=- orcpt=-\n"
	    "state 0 failed 1 0 5.0.0 -\nstate 1 failed 1 0 5.0.0 -\n"
	    "state 2 deferred 1 0 4.0.0 -\nstate 3 deferred 1 0 4.0.0 -\n"
	    "state 4 sent 1 0 2.0.0 -\n"
	    "state 5 deferred 1 0 4.0.0 -\nreported 5 delay 1\n";
	/* failure, delay per recipient */
	static const int want[6][2] = {
		{ 1, 0 }, { 0, 0 }, { 0, 1 }, { 0, 0 }, { 0, 0 }, { 0, 0 },
	};

	(void)state;
	envelope_parser_init(&p, &env);
	assert_int_equal(envelope_feed(&p, text, sizeof text - 1), 0);
	assert_int_equal(envelope_finish(&p), 0);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(bounce_rcpt_wanted(&env, i, BOUNCE_FAILURE),
		    want[i][0]);
		assert_int_equal(bounce_rcpt_wanted(&env, i, BOUNCE_DELAY),
		    want[i][1]);
	}
	assert_int_equal(bounce_rcpt_wanted(&env, 6, BOUNCE_FAILURE), 0);
	assert_int_equal(bounce_rcpt_wanted(&env, 99999, BOUNCE_DELAY), 0);
	assert_true(bounce_needed(&env, BOUNCE_FAILURE));
	assert_true(bounce_needed(&env, BOUNCE_DELAY));
	/* The runner records the reports: then none is needed. */
	assert_int_equal(envelope_apply(&env, S("reported 0 failure 2")),
	    ENVELOPE_OK);
	assert_int_equal(envelope_apply(&env, S("reported 2 delay 2")),
	    ENVELOPE_OK);
	assert_false(bounce_needed(&env, BOUNCE_FAILURE));
	assert_false(bounce_needed(&env, BOUNCE_DELAY));
	/* And never to <>. */
	env.sender[0] = '\0';
	env.rcpt[0].reported = 0;
	assert_false(bounce_needed(&env, BOUNCE_FAILURE));
}

/* A write error is reported, not hidden. */
static void
test_write_error(void **state)
{
	static struct envelope env;
	static struct envelope_parser p;
	static const char text[] = HEAD("a@b")
	    "rcpt r0@x notify=- orcpt=-\nstate 0 failed 1 0 5.0.0 -\n";
	struct bounce_req q;
	struct err e;
	int fds[2];

	(void)state;
	envelope_parser_init(&p, &env);
	assert_int_equal(envelope_feed(&p, text, sizeof text - 1), 0);
	assert_int_equal(envelope_finish(&p), 0);
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	memset(&q, 0, sizeof q);
	q.env = &env;
	q.kind = BOUNCE_FAILURE;
	q.host = "h";
	q.id = "1";
	q.now = ARRIVAL;
	q.msg_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(bounce_write(fds[1], &q, &e), -1);
	assert_non_null(strstr(e.msg, "bounce 1: "));
	close(fds[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wanted),
		cmocka_unit_test(test_reports),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
