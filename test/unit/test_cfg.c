/* SPDX-License-Identifier: ISC */
/*
 * test_cfg.c - the configuration parser (core/cfg.h): defaults, the
 * line syntax, every value type, the value parsers shared with the
 * listeners and relay checks (listen, nets, durations, user), the
 * cross-key check and the `wren check` printer.
 *
 * Each table row is one case with a one-line description; malformed
 * input is checked against the exact `FILE:LINE: message` text, since
 * that is what an administrator reads from `wren check`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/cfg.h"

#define NAME		"t.conf"
#define TEXT_MAX	2048
#define NOCHECK		INT64_MIN	/* num not checked */

/* Input text: head, then `fill` repeated nfill times, then tail (so
 * long lines and NUL bytes fit in a table). */
struct text {
	const char	*head;
	char		 fill;
	size_t		 nfill;
	const char	*tail;
};

static struct cfg	c;	/* 20 KB: kept off the stack */

static size_t
build(char *buf, const struct text *t)
{
	size_t hl = strlen(t->head);
	size_t tl = t->tail != NULL ? strlen(t->tail) : 0;

	assert_true(hl + t->nfill + tl < TEXT_MAX);
	memcpy(buf, t->head, hl);
	memset(buf + hl, t->fill, t->nfill);
	if (tl > 0) {
		memcpy(buf + hl + t->nfill, t->tail, tl);
	}
	return hl + t->nfill + tl;
}

static int
parse_str(struct cfg *cf, const char *s, struct err *e)
{
	return cfg_parse(cf, NAME, s, strlen(s), e);
}

/* ---------------------------------------------------------------- */
/* Good files: the key is set to str, and cfg_num gives num. */

struct good_case {
	const char	*desc;
	const char	*text;
	enum cfg_key	 key;
	const char	*str;
	int64_t		 num;
};

static const struct good_case good_cases[] = {
	{ "empty file keeps the default", "",
	  CFG_LOG_LEVEL, "info", 2 },
	{ "full-line comment, then a key",
	  "# a comment\nlog_level = debug\n", CFG_LOG_LEVEL, "debug", 3 },
	{ "indented comment", "   # log_level = error\nlog = stderr\n",
	  CFG_LOG_LEVEL, "info", 2 },
	{ "trailing comment after the value",
	  "log_level = warn # quieter\n", CFG_LOG_LEVEL, "warn", 1 },
	{ "comment right after the value", "log_level = warn#x\n",
	  CFG_LOG_LEVEL, "warn", 1 },
	{ "blank and whitespace-only lines",
	  "\n   \n\t\n\nlog = stderr\n\n", CFG_LOG, "stderr", 1 },
	{ "CRLF line endings",
	  "log_level = error\r\nlog = stderr\r\n", CFG_LOG, "stderr", 1 },
	{ "CRLF before a comment", "log = stderr # c\r\n",
	  CFG_LOG, "stderr", 1 },
	{ "last line without newline", "log_level = debug",
	  CFG_LOG_LEVEL, "debug", 3 },
	{ "tabs around key, '=' and value",
	  "\tsmtp_timeout\t=\t60\t\n", CFG_SMTP_TIMEOUT, "60", 60 },
	{ "no spaces around '='", "smtp_timeout=60\n",
	  CFG_SMTP_TIMEOUT, "60", 60 },
	{ "trailing spaces are trimmed", "log = stderr   \n",
	  CFG_LOG, "stderr", 1 },
	{ "list separated by spaces keeps inner spacing",
	  "domains = example.org  example.net\n", CFG_DOMAINS,
	  "example.org  example.net", 0 },
	{ "list separated by commas",
	  "domains = a.example, b.example,c.example\n", CFG_DOMAINS,
	  "a.example, b.example,c.example", 0 },
	{ "domain with trailing dot", "domains = example.org.\n",
	  CFG_DOMAINS, "example.org.", 0 },
	{ "host name with hyphen and underscore",
	  "hostname = mx-1.my_home.example\n", CFG_HOSTNAME,
	  "mx-1.my_home.example", 0 },
	{ "networks of both families",
	  "mynetworks = 10.0.0.0/8 192.168.0.0/16 fd00::/8 [::1]/128\n",
	  CFG_MYNETWORKS, "10.0.0.0/8 192.168.0.0/16 fd00::/8 [::1]/128",
	  0 },
	{ "bool yes", "tls_auth_only = yes\n", CFG_TLS_AUTH_ONLY, "yes",
	  1 },
	{ "bool true", "tls_auth_only = true\n", CFG_TLS_AUTH_ONLY,
	  "true", 1 },
	{ "bool on", "tls_auth_only = on\n", CFG_TLS_AUTH_ONLY, "on", 1 },
	{ "bool 1", "tls_auth_only = 1\n", CFG_TLS_AUTH_ONLY, "1", 1 },
	{ "bool no", "tls_auth_only = no\n", CFG_TLS_AUTH_ONLY, "no", 0 },
	{ "bool false", "tls_auth_only = false\n", CFG_TLS_AUTH_ONLY,
	  "false", 0 },
	{ "bool off", "tls_auth_only = off\n", CFG_TLS_AUTH_ONLY, "off",
	  0 },
	{ "bool 0", "tls_auth_only = 0\n", CFG_TLS_AUTH_ONLY, "0", 0 },
	{ "size in plain bytes", "message_size_limit = 1024\n",
	  CFG_MESSAGE_SIZE_LIMIT, "1024", 1024 },
	{ "size suffix k", "message_size_limit = 10k\n",
	  CFG_MESSAGE_SIZE_LIMIT, "10k", 10240 },
	{ "size suffix K", "message_size_limit = 10K\n",
	  CFG_MESSAGE_SIZE_LIMIT, "10K", 10240 },
	{ "size suffix m", "message_size_limit = 25m\n",
	  CFG_MESSAGE_SIZE_LIMIT, "25m", 26214400 },
	{ "size suffix M", "message_size_limit = 50M\n",
	  CFG_MESSAGE_SIZE_LIMIT, "50M", 52428800 },
	{ "size suffix g", "message_size_limit = 1g\n",
	  CFG_MESSAGE_SIZE_LIMIT, "1g", 1073741824 },
	{ "size at the top of its range",
	  "message_size_limit = 2147483647\n", CFG_MESSAGE_SIZE_LIMIT,
	  "2147483647", 2147483647 },
	{ "duration without unit is seconds", "smtp_timeout = 45\n",
	  CFG_SMTP_TIMEOUT, "45", 45 },
	{ "duration 30s", "smtp_timeout = 30s\n", CFG_SMTP_TIMEOUT, "30s",
	  30 },
	{ "duration 5m", "smtp_timeout = 5m\n", CFG_SMTP_TIMEOUT, "5m",
	  300 },
	{ "duration 2h", "imap_timeout = 2h\n", CFG_IMAP_TIMEOUT, "2h",
	  7200 },
	{ "duration 1d", "queue_lifetime = 1d\n", CFG_QUEUE_LIFETIME, "1d",
	  86400 },
	{ "duration 2w", "queue_lifetime = 2w\n", CFG_QUEUE_LIFETIME, "2w",
	  1209600 },
	{ "duration 0 where 0 is allowed", "auth_fail_delay = 0\n",
	  CFG_AUTH_FAIL_DELAY, "0", 0 },
	{ "list of durations counts its items",
	  "retry_schedule = 1m, 5m 1h\n", CFG_RETRY_SCHEDULE,
	  "1m, 5m 1h", 3 },
	{ "enum index of debug", "log_level = debug\n", CFG_LOG_LEVEL,
	  "debug", 3 },
	{ "enum index of error", "log_level = error\n", CFG_LOG_LEVEL,
	  "error", 0 },
	{ "enum second word", "sender_login_mismatch = allow\n",
	  CFG_SENDER_LOGIN_MISMATCH, "allow", 1 },
	{ "number at its maximum", "max_connections = 65536\n",
	  CFG_MAX_CONNECTIONS, "65536", 65536 },
	{ "number at its minimum", "remote_smtp_port = 1\n",
	  CFG_REMOTE_SMTP_PORT, "1", 1 },
	{ "number with leading zeros", "remote_smtp_port = 0025\n",
	  CFG_REMOTE_SMTP_PORT, "0025", 25 },
	{ "template with every escape",
	  "mail_home = /home/%u/%d/%n/100%%\n", CFG_MAIL_HOME,
	  "/home/%u/%d/%n/100%%", 0 },
	{ "two delimiters", "recipient_delimiter = +-\n",
	  CFG_RECIPIENT_DELIMITER, "+-", 0 },
	{ "empty delimiter turns it off", "recipient_delimiter =\n",
	  CFG_RECIPIENT_DELIMITER, "", 0 },
	{ "user by name", "user = wren\n", CFG_USER, "wren", 0 },
	{ "user as uid:gid", "user = 8:12\n", CFG_USER, "8:12", 0 },
	{ "empty user: do not switch", "user =\n", CFG_USER, "", 0 },
	{ "listen on IPv4 and IPv6",
	  "smtp_listen = 127.0.0.1:2525 [::1]:2525\n", CFG_SMTP_LISTEN,
	  "127.0.0.1:2525 [::1]:2525", 0 },
	{ "empty listen turns it off", "imaps_listen =\n",
	  CFG_IMAPS_LISTEN, "", 0 },
	{ "relayhost in brackets with port",
	  "relayhost = [smtp.example.net]:587\n", CFG_RELAYHOST,
	  "[smtp.example.net]:587", 0 },
	{ "relayhost name:port", "relayhost = smtp.example.net:2525\n",
	  CFG_RELAYHOST, "smtp.example.net:2525", 0 },
	{ "relayhost bare IPv6", "relayhost = 2001:db8::25\n",
	  CFG_RELAYHOST, "2001:db8::25", 0 },
	{ "dns servers with and without ports",
	  "dns_servers = 127.0.0.1 [::1]:5353 9.9.9.9:53\n",
	  CFG_DNS_SERVERS, "127.0.0.1 [::1]:5353 9.9.9.9:53", 0 },
	{ "free text keeps inner tabs", "dkim_selector = a\tb\n",
	  CFG_DKIM_SELECTOR, "a\tb", 0 },
	{ "'=' inside a value", "dkim_selector = a=b\n",
	  CFG_DKIM_SELECTOR, "a=b", 0 },
};

static void
test_cfg_good(void **state)
{
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof good_cases / sizeof good_cases[0];
	    i++) {
		const struct good_case *t = &good_cases[i];

		if (parse_str(&c, t->text, &e) != 0) {
			fail_msg("%s: unexpected error: %s", t->desc, e.msg);
		}
		if (strcmp(cfg_str(&c, t->key), t->str) != 0) {
			fail_msg("%s: value '%s', want '%s'", t->desc,
			    cfg_str(&c, t->key), t->str);
		}
		if (t->num != NOCHECK && cfg_num(&c, t->key) != t->num) {
			fail_msg("%s: num %lld, want %lld", t->desc,
			    (long long)cfg_num(&c, t->key),
			    (long long)t->num);
		}
	}
}

/* ---------------------------------------------------------------- */
/* Lengths at their limits: the longest value and line accepted. */

static void
test_cfg_bounds(void **state)
{
	static const struct text value_max = {
		"dkim_selector = ", 'a', CFG_VALUE_MAX - 1, "\n"
	};
	static const struct text line_max = {
		"# ", 'x', CFG_LINE_MAX - 2, "\nlog = stderr\n"
	};
	char buf[TEXT_MAX];
	struct err e;
	size_t len;

	(void)state;
	len = build(buf, &value_max);
	if (cfg_parse(&c, NAME, buf, len, &e) != 0) {
		fail_msg("value of CFG_VALUE_MAX-1: %s", e.msg);
	}
	assert_int_equal(strlen(cfg_str(&c, CFG_DKIM_SELECTOR)),
	    CFG_VALUE_MAX - 1);
	len = build(buf, &line_max);
	if (cfg_parse(&c, NAME, buf, len, &e) != 0) {
		fail_msg("line of CFG_LINE_MAX: %s", e.msg);
	}
	assert_string_equal(cfg_str(&c, CFG_LOG), "stderr");
	/* Only len bytes are read: "lo" has no '='. */
	assert_int_equal(cfg_parse(&c, NAME, "log = stderr", 2, &e), -1);
	assert_string_equal(e.msg, "t.conf:1: expected 'key = value'");
}

/* ---------------------------------------------------------------- */
/* Malformed files: cfg_parse fails with exactly msg. */

struct bad_case {
	const char	*desc;
	struct text	 in;
	const char	*msg;
};

/* A text without filler. */
#define T(s)	{ (s), 0, 0, NULL }
#define K8	"kkkkkkkk"
#define K64	K8 K8 K8 K8 K8 K8 K8 K8

static const struct bad_case bad_cases[] = {
	/* line syntax */
	{ "missing '='", T("log_level debug\n"),
	  "t.conf:1: expected 'key = value'" },
	{ "key alone", T("log_level\n"),
	  "t.conf:1: expected 'key = value'" },
	{ "space inside the key", T("log level = info\n"),
	  "t.conf:1: expected 'key = value'" },
	{ "'=' hidden in a comment", T("log # = stderr\n"),
	  "t.conf:1: expected 'key = value'" },
	{ "missing key", T("= debug\n"),
	  "t.conf:1: missing key before '='" },
	{ "missing key and value", T("  =\n"),
	  "t.conf:1: missing key before '='" },
	{ "unknown key", T("foo = bar\n"),
	  "t.conf:1: unknown key 'foo'" },
	{ "keys are case-sensitive", T("LOG = stderr\n"),
	  "t.conf:1: unknown key 'LOG'" },
	{ "unknown key after comments counts lines",
	  T("# one\n\n   # three\nfoo = 1\n"),
	  "t.conf:4: unknown key 'foo'" },
	{ "long unknown key is cut to 64 characters",
	  { "", 'k', 70, " = 1\n" }, "t.conf:1: unknown key '" K64 "'" },
	{ "duplicate key names the first line",
	  T("log = stderr\nlog_level = info\nlog = syslog\n"),
	  "t.conf:3: duplicate key 'log' (first set on line 1)" },
	{ "duplicate with the same value",
	  T("user = mail\r\nuser = mail\r\n"),
	  "t.conf:2: duplicate key 'user' (first set on line 1)" },
	{ "line too long", { "# ", 'x', CFG_LINE_MAX - 1, "\n" },
	  "t.conf:1: line longer than 1024 characters" },
	{ "line too long on line 2",
	  { "log = stderr\nlog_level = ", 'x', CFG_LINE_MAX, "" },
	  "t.conf:2: line longer than 1024 characters" },
	{ "value too long", { "dkim_selector = ", 'a', CFG_VALUE_MAX, "\n" },
	  "t.conf:1: dkim_selector: value longer than 511 characters" },
	{ "NUL byte in a value", { "log = std", '\0', 1, "err\n" },
	  "t.conf:1: NUL byte in line" },
	{ "NUL byte in a comment", { "log = stderr # a", '\0', 1, "b\n" },
	  "t.conf:1: NUL byte in line" },
	{ "control character", { "log = std", '\x1b', 1, "err\n" },
	  "t.conf:1: log: control character in value" },
	{ "carriage return inside a value", { "log = std", '\r', 1, "e\n" },
	  "t.conf:1: log: control character in value" },
	{ "error on a CRLF file names the right line",
	  T("log = stderr\r\nlog_level = loud\r\n"),
	  "t.conf:2: log_level: expected one of: error warn info debug; "
	  "got 'loud'" },
	/* bool */
	{ "bad bool", T("tls_auth_only = maybe\n"),
	  "t.conf:1: tls_auth_only: expected yes or no, got 'maybe'" },
	{ "bools are case-sensitive", T("tls_auth_only = YES\n"),
	  "t.conf:1: tls_auth_only: expected yes or no, got 'YES'" },
	{ "empty bool", T("tls_auth_only =\n"),
	  "t.conf:1: tls_auth_only: expected yes or no, got ''" },
	/* numbers */
	{ "non-number", T("max_connections = lots\n"),
	  "t.conf:1: max_connections: expected a number, got 'lots'" },
	{ "negative number", T("max_connections = -1\n"),
	  "t.conf:1: max_connections: expected a number, got '-1'" },
	{ "number with a suffix", T("max_connections = 10k\n"),
	  "t.conf:1: max_connections: expected a number, got '10k'" },
	{ "number below its range", T("remote_smtp_port = 0\n"),
	  "t.conf:1: remote_smtp_port: 0 is out of range 1-65535" },
	{ "number above its range", T("max_connections = 65537\n"),
	  "t.conf:1: max_connections: 65537 is out of range 1-65536" },
	{ "number of 2^63-1 is out of range",
	  T("auth_fail_limit = 9223372036854775807\n"),
	  "t.conf:1: auth_fail_limit: 9223372036854775807 is out of "
	  "range 1-100000" },
	{ "number of 2^63 overflows",
	  T("auth_fail_limit = 9223372036854775808\n"),
	  "t.conf:1: auth_fail_limit: expected a number, got "
	  "'9223372036854775808'" },
	{ "number of 2^64 overflows",
	  T("max_connections = 18446744073709551616\n"),
	  "t.conf:1: max_connections: expected a number, got "
	  "'18446744073709551616'" },
	{ "number of 25 digits", { "max_connections = ", '9', 25, "\n" },
	  "t.conf:1: max_connections: expected a number, got "
	  "'9999999999999999999999999'" },
	/* sizes */
	{ "bad size suffix", T("message_size_limit = 10x\n"),
	  "t.conf:1: message_size_limit: expected a size in bytes "
	  "(suffix k, m or g allowed), got '10x'" },
	{ "size suffix alone", T("message_size_limit = k\n"),
	  "t.conf:1: message_size_limit: expected a size in bytes "
	  "(suffix k, m or g allowed), got 'k'" },
	{ "space before the size suffix", T("message_size_limit = 10 k\n"),
	  "t.conf:1: message_size_limit: expected a size in bytes "
	  "(suffix k, m or g allowed), got '10 k'" },
	{ "size overflowing with its suffix",
	  T("message_size_limit = 9999999999999g\n"),
	  "t.conf:1: message_size_limit: expected a size in bytes "
	  "(suffix k, m or g allowed), got '9999999999999g'" },
	{ "size below its range", T("message_size_limit = 1000\n"),
	  "t.conf:1: message_size_limit: 1000 is out of range "
	  "1024-2147483647" },
	{ "size 2g is one byte too many", T("message_size_limit = 2g\n"),
	  "t.conf:1: message_size_limit: 2g is out of range "
	  "1024-2147483647" },
	/* durations */
	{ "bad duration unit", T("smtp_timeout = 5y\n"),
	  "t.conf:1: smtp_timeout: expected a duration like 30s, 5m, 2h "
	  "or 1d, got '5y'" },
	{ "duration units are lower case", T("smtp_timeout = 5M\n"),
	  "t.conf:1: smtp_timeout: expected a duration like 30s, 5m, 2h "
	  "or 1d, got '5M'" },
	{ "fractional duration", T("imap_timeout = 1.5h\n"),
	  "t.conf:1: imap_timeout: expected a duration like 30s, 5m, 2h "
	  "or 1d, got '1.5h'" },
	{ "duration above its range", T("smtp_timeout = 2h\n"),
	  "t.conf:1: smtp_timeout: 2h is out of range 10s-3600s" },
	{ "duration below its range", T("queue_lifetime = 30s\n"),
	  "t.conf:1: queue_lifetime: 30s is out of range 60s-5184000s" },
	{ "empty retry_schedule", T("retry_schedule =\n"),
	  "t.conf:1: retry_schedule: expected at least one duration" },
	{ "retry_schedule of only commas", T("retry_schedule = , ,\n"),
	  "t.conf:1: retry_schedule: expected at least one duration" },
	{ "zero delay in retry_schedule", T("retry_schedule = 0s 5m\n"),
	  "t.conf:1: retry_schedule: '0s' is not a duration between 1s "
	  "and 2592000s" },
	{ "word in retry_schedule", T("retry_schedule = 5m x 1h\n"),
	  "t.conf:1: retry_schedule: 'x' is not a duration between 1s "
	  "and 2592000s" },
	/* enums */
	{ "bad enum", T("log_level = verbose\n"),
	  "t.conf:1: log_level: expected one of: error warn info debug; "
	  "got 'verbose'" },
	{ "enum words are case-sensitive", T("log_level = DEBUG\n"),
	  "t.conf:1: log_level: expected one of: error warn info debug; "
	  "got 'DEBUG'" },
	{ "prefix of an enum word", T("log = sys\n"),
	  "t.conf:1: log: expected one of: syslog stderr; got 'sys'" },
	{ "enum word followed by another", T("log_level = debug info\n"),
	  "t.conf:1: log_level: expected one of: error warn info debug; "
	  "got 'debug info'" },
	/* listeners */
	{ "listen without port", T("smtp_listen = 127.0.0.1\n"),
	  "t.conf:1: smtp_listen: '127.0.0.1': expected address:port "
	  "(IPv6 as [addr]:port)" },
	{ "listen with an empty port", T("smtp_listen = 127.0.0.1:\n"),
	  "t.conf:1: smtp_listen: '127.0.0.1:': port must be 1-65535" },
	{ "listen on port 0", T("smtp_listen = 127.0.0.1:0\n"),
	  "t.conf:1: smtp_listen: '127.0.0.1:0': port must be 1-65535" },
	{ "listen on port 70000", T("imap_listen = 0.0.0.0:70000\n"),
	  "t.conf:1: imap_listen: '0.0.0.0:70000': port must be 1-65535" },
	{ "listen on a named port", T("imap_listen = 0.0.0.0:imap\n"),
	  "t.conf:1: imap_listen: '0.0.0.0:imap': port must be 1-65535" },
	{ "bad IPv4 in listen", T("smtp_listen = 256.1.1.1:25\n"),
	  "t.conf:1: smtp_listen: '256.1.1.1:25': expected an IPv4 "
	  "address or [IPv6]" },
	{ "host name in listen", T("smtp_listen = localhost:25\n"),
	  "t.conf:1: smtp_listen: 'localhost:25': expected an IPv4 "
	  "address or [IPv6]" },
	{ "bare IPv6 in listen", T("smtp_listen = ::1:25\n"),
	  "t.conf:1: smtp_listen: '::1:25': expected an IPv4 address "
	  "or [IPv6]" },
	{ "IPv4 in brackets", T("smtp_listen = [127.0.0.1]:25\n"),
	  "t.conf:1: smtp_listen: '[127.0.0.1]:25': bad IPv6 address" },
	{ "IPv6 without its ']'", T("smtp_listen = [::1:25\n"),
	  "t.conf:1: smtp_listen: '[::1:25': bad IPv6 address" },
	{ "more listen addresses than CFG_LISTEN_MAX",
	  T("smtp_listen = 127.0.0.1:1 127.0.0.1:2 127.0.0.1:3 "
	    "127.0.0.1:4 127.0.0.1:5\n"),
	  "t.conf:1: smtp_listen: more than 4 addresses" },
	/* networks */
	{ "bad CIDR prefix /33", T("mynetworks = 10.0.0.0/33\n"),
	  "t.conf:1: mynetworks: '10.0.0.0/33': prefix must be 0-32" },
	{ "bad CIDR prefix /129", T("mynetworks = ::1/129\n"),
	  "t.conf:1: mynetworks: '::1/129': prefix must be 0-128" },
	{ "empty CIDR prefix", T("mynetworks = 127.0.0.0/8 10.0.0.0/\n"),
	  "t.conf:1: mynetworks: '10.0.0.0/': prefix must be 0-32" },
	{ "short IPv4 network", T("mynetworks = 10.0.0/8\n"),
	  "t.conf:1: mynetworks: '10.0.0/8': bad address" },
	{ "host name as a network", T("mynetworks = example.org\n"),
	  "t.conf:1: mynetworks: 'example.org': bad address" },
	/* names */
	{ "bad domain in domains",
	  T("domains = example.org bad!.example\n"),
	  "t.conf:1: domains: 'bad!.example' is not a valid domain name" },
	{ "domain label starting with '-'", T("domains = -x.example\n"),
	  "t.conf:1: domains: '-x.example' is not a valid domain name" },
	{ "domain label ending with '-'", T("domains = x-.example\n"),
	  "t.conf:1: domains: 'x-.example' is not a valid domain name" },
	{ "empty label in hostname", T("hostname = mx..example.org\n"),
	  "t.conf:1: hostname: 'mx..example.org' is not a valid host "
	  "name" },
	{ "two names in origin", T("origin = a.example b.example\n"),
	  "t.conf:1: origin: 'a.example b.example' is not a valid host "
	  "name" },
	/* paths and templates */
	{ "path too long", { "data_dir = /", 'd', CFG_PATH_MAX - 1, "\n" },
	  "t.conf:1: data_dir: path longer than 255 characters" },
	{ "bad mail_home escape", T("mail_home = /srv/%x/%n\n"),
	  "t.conf:1: mail_home: unknown escape '%x' (use %n, %d, %u or "
	  "%%)" },
	{ "mail_home ending in '%'", T("mail_home = /srv/%\n"),
	  "t.conf:1: mail_home: unknown escape '% ' (use %n, %d, %u or "
	  "%%)" },
	{ "empty mail_home", T("mail_home =\n"),
	  "t.conf:1: mail_home: expected a path of 1-255 characters" },
	/* recipient delimiter */
	{ "'@' as recipient_delimiter", T("recipient_delimiter = @\n"),
	  "t.conf:1: recipient_delimiter: '@' cannot be a delimiter" },
	{ "':' among the delimiters", T("recipient_delimiter = +:\n"),
	  "t.conf:1: recipient_delimiter: ':' cannot be a delimiter" },
	{ "too many delimiters", T("recipient_delimiter = +-_=~!$&*\n"),
	  "t.conf:1: recipient_delimiter: at most 8 delimiter "
	  "characters" },
	/* user */
	{ "non-numeric gid", T("user = 1000:abc\n"),
	  "t.conf:1: user: '1000:abc': gid must be a number" },
	{ "empty gid", T("user = 1000:\n"),
	  "t.conf:1: user: '1000:': gid must be a number" },
	{ "uid with letters", T("user = 8x\n"),
	  "t.conf:1: user: '8x': expected a name or uid[:gid]" },
	{ "uid of 2^32-1 is reserved", T("user = 4294967295\n"),
	  "t.conf:1: user: '4294967295': expected a name or uid[:gid]" },
	{ "user name with '!'", T("user = mail!\n"),
	  "t.conf:1: user: 'mail!': not a valid user name" },
	{ "user name too long", { "user = ", 'u', 64, "\n" },
	  "t.conf:1: user: user name longer than 63 characters" },
	/* relayhost and dns_servers */
	{ "relayhost without ']'",
	  T("relayhost = [smtp.example.net:587\n"),
	  "t.conf:1: relayhost: '[smtp.example.net:587': missing ']'" },
	{ "two relayhosts", T("relayhost = a.example b.example\n"),
	  "t.conf:1: relayhost: expected one host" },
	{ "relayhost on port 0", T("relayhost = [a.example]:0\n"),
	  "t.conf:1: relayhost: '[a.example]:0': bad port" },
	{ "relayhost with a named port", T("relayhost = a.example:smtp\n"),
	  "t.conf:1: relayhost: 'a.example:smtp': bad port" },
	{ "text after the ']' of relayhost", T("relayhost = [a.example]x\n"),
	  "t.conf:1: relayhost: '[a.example]x': bad port" },
	{ "bad relayhost name", T("relayhost = bad!host\n"),
	  "t.conf:1: relayhost: 'bad!host': bad host name" },
	{ "empty relayhost in brackets", T("relayhost = []:25\n"),
	  "t.conf:1: relayhost: '[]:25': bad host name" },
	{ "name in dns_servers", T("dns_servers = ns.example\n"),
	  "t.conf:1: dns_servers: 'ns.example': expected an IP address" },
	{ "dns server on port 70000", T("dns_servers = 9.9.9.9:70000\n"),
	  "t.conf:1: dns_servers: '9.9.9.9:70000': bad port" },
};

static void
test_cfg_bad(void **state)
{
	char buf[TEXT_MAX];
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0];
	    i++) {
		const struct bad_case *t = &bad_cases[i];
		size_t len = build(buf, &t->in);

		memset(e.msg, 0, sizeof e.msg);
		if (cfg_parse(&c, NAME, buf, len, &e) != -1) {
			fail_msg("%s: accepted", t->desc);
		}
		if (strcmp(e.msg, t->msg) != 0) {
			fail_msg("%s:\n  got  \"%s\"\n  want \"%s\"", t->desc,
			    e.msg, t->msg);
		}
	}
}

/* ---------------------------------------------------------------- */
/* The table's defaults: each is what cfg_defaults sets, and each one
 * written in a file parses to the same value. */

static const struct {
	enum cfg_key	 key;
	int64_t		 num;
} default_nums[] = {
	{ CFG_TLS_AUTH_ONLY, 1 },
	{ CFG_REMOTE_SMTP_PORT, 25 },
	{ CFG_RETRY_SCHEDULE, 6 },
	{ CFG_QUEUE_LIFETIME, 5 * 86400 },
	{ CFG_MAX_CONNECTIONS, 64 },
	{ CFG_MESSAGE_SIZE_LIMIT, 26214400 },
	{ CFG_SMTP_TIMEOUT, 300 },
	{ CFG_IMAP_TIMEOUT, 1800 },
	{ CFG_SENDER_LOGIN_MISMATCH, 0 },
	{ CFG_LOG, 0 },
	{ CFG_LOG_LEVEL, 2 },
};

static void
test_cfg_defaults(void **state)
{
	static struct cfg d;
	char buf[TEXT_MAX];
	struct err e;

	(void)state;
	cfg_defaults(&d);
	for (int k = 0; k < CFG_NKEYS; k++) {
		if (strcmp(cfg_str(&d, (enum cfg_key)k), cfg_keys[k].def)
		    != 0) {
			fail_msg("%s: default '%s', table '%s'",
			    cfg_keys[k].name, cfg_str(&d, (enum cfg_key)k),
			    cfg_keys[k].def);
		}
		assert_int_equal(d.v[k].line, 0);
	}
	for (size_t i = 0; i < sizeof default_nums / sizeof default_nums[0];
	    i++) {
		assert_int_equal(cfg_num(&d, default_nums[i].key),
		    default_nums[i].num);
	}
	/* Every non-empty default, written out, is accepted. */
	for (int k = 0; k < CFG_NKEYS; k++) {
		int n;

		if (cfg_keys[k].def[0] == '\0') {
			continue;
		}
		n = snprintf(buf, sizeof buf, "%s = %s\n", cfg_keys[k].name,
		    cfg_keys[k].def);
		assert_true(n > 0 && (size_t)n < sizeof buf);
		if (cfg_parse(&c, NAME, buf, (size_t)n, &e) != 0) {
			fail_msg("default of %s rejected: %s",
			    cfg_keys[k].name, e.msg);
		}
		assert_string_equal(cfg_str(&c, (enum cfg_key)k),
		    cfg_keys[k].def);
		assert_int_equal(cfg_num(&c, (enum cfg_key)k),
		    cfg_num(&d, (enum cfg_key)k));
		assert_int_equal(c.v[k].line, 1);
	}
	/* An empty file is the defaults, and the path is remembered. */
	assert_int_equal(cfg_parse(&c, NAME, "", 0, &e), 0);
	assert_string_equal(c.path, NAME);
	for (int k = 0; k < CFG_NKEYS; k++) {
		assert_string_equal(c.v[k].str, d.v[k].str);
		assert_int_equal(c.v[k].num, d.v[k].num);
		assert_int_equal(c.v[k].line, 0);
	}
	/* Every key is documented and enum defaults are one of the words. */
	for (int k = 0; k < CFG_NKEYS; k++) {
		assert_non_null(cfg_keys[k].doc);
		assert_true(cfg_keys[k].doc[0] != '\0');
		assert_true(cfg_keys[k].min <= cfg_keys[k].max);
		if (cfg_keys[k].type == CFG_T_ENUM) {
			assert_non_null(cfg_keys[k].words);
		}
		for (int j = 0; j < k; j++) {
			assert_string_not_equal(cfg_keys[k].name,
			    cfg_keys[j].name);
		}
	}
}

/* ---------------------------------------------------------------- */
/* cfg_parse_listen */

struct listen_want {
	int		 family;
	const char	*addr;
	uint16_t	 port;
};

struct listen_case {
	const char		*desc;
	const char		*in;
	size_t			 cap;
	int			 rc;
	const char		*msg;	/* when rc == -1 */
	size_t			 n;
	struct listen_want	 want[CFG_LISTEN_MAX];
};

static const struct listen_case listen_cases[] = {
	{ "one IPv4 address", "127.0.0.1:25", 4, 0, NULL, 1,
	  { { AF_INET, "127.0.0.1", 25 } } },
	{ "one IPv6 address in brackets", "[::1]:587", 4, 0, NULL, 1,
	  { { AF_INET6, "::1", 587 } } },
	{ "two addresses", "0.0.0.0:25 [::]:25", 4, 0, NULL, 2,
	  { { AF_INET, "0.0.0.0", 25 }, { AF_INET6, "::", 25 } } },
	{ "comma-separated, highest port", "192.0.2.1:1,[2001:db8::1]:65535",
	  4, 0, NULL, 2,
	  { { AF_INET, "192.0.2.1", 1 },
	    { AF_INET6, "2001:db8::1", 65535 } } },
	{ "exactly cap addresses", "127.0.0.1:1 127.0.0.1:2", 2, 0, NULL, 2,
	  { { AF_INET, "127.0.0.1", 1 }, { AF_INET, "127.0.0.1", 2 } } },
	{ "empty string: no listener", "", 4, 0, NULL, 0, { { 0 } } },
	{ "only separators: no listener", " ,\t, ", 4, 0, NULL, 0,
	  { { 0 } } },
	{ "no port", "127.0.0.1", 4, -1,
	  "'127.0.0.1': expected address:port (IPv6 as [addr]:port)", 0,
	  { { 0 } } },
	{ "port without address", ":25", 4, -1,
	  "':25': expected address:port (IPv6 as [addr]:port)", 0,
	  { { 0 } } },
	{ "port 0", "127.0.0.1:0", 4, -1,
	  "'127.0.0.1:0': port must be 1-65535", 0, { { 0 } } },
	{ "port 65536", "127.0.0.1:65536", 4, -1,
	  "'127.0.0.1:65536': port must be 1-65535", 0, { { 0 } } },
	{ "port 70000", "127.0.0.1:70000", 4, -1,
	  "'127.0.0.1:70000': port must be 1-65535", 0, { { 0 } } },
	{ "negative port", "127.0.0.1:-1", 4, -1,
	  "'127.0.0.1:-1': port must be 1-65535", 0, { { 0 } } },
	{ "missing ':' after ']'", "[::1]25", 4, -1,
	  "'[::1]25': port must be 1-65535", 0, { { 0 } } },
	{ "bad IPv4", "1.2.3:25", 4, -1,
	  "'1.2.3:25': expected an IPv4 address or [IPv6]", 0, { { 0 } } },
	{ "IPv4 octet above 255", "999.0.0.1:25", 4, -1,
	  "'999.0.0.1:25': expected an IPv4 address or [IPv6]", 0,
	  { { 0 } } },
	{ "bare IPv6", "::1:25", 4, -1,
	  "'::1:25': expected an IPv4 address or [IPv6]", 0, { { 0 } } },
	{ "empty brackets", "[]:25", 4, -1,
	  "'[]:25': bad IPv6 address", 0, { { 0 } } },
	{ "IPv4 in brackets", "[127.0.0.1]:25", 4, -1,
	  "'[127.0.0.1]:25': bad IPv6 address", 0, { { 0 } } },
	{ "good then bad", "127.0.0.1:25 127.0.0.1", 4, -1,
	  "'127.0.0.1': expected address:port (IPv6 as [addr]:port)", 0,
	  { { 0 } } },
	{ "more addresses than cap", "127.0.0.1:1 127.0.0.1:2 127.0.0.1:3",
	  2, -1, "more than 2 addresses", 0, { { 0 } } },
};

static void
test_cfg_listen(void **state)
{
	struct cfg_listen out[CFG_LISTEN_MAX];
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof listen_cases / sizeof listen_cases[0];
	    i++) {
		const struct listen_case *t = &listen_cases[i];
		size_t n = 99;
		int rc;

		rc = cfg_parse_listen(t->in, out, t->cap, &n, &e);
		if (rc != t->rc) {
			fail_msg("%s: rc %d, want %d (%s)", t->desc, rc,
			    t->rc, rc == -1 ? e.msg : "");
		}
		if (rc == -1) {
			if (strcmp(e.msg, t->msg) != 0) {
				fail_msg("%s: \"%s\", want \"%s\"", t->desc,
				    e.msg, t->msg);
			}
			continue;
		}
		assert_int_equal(n, t->n);
		for (size_t j = 0; j < n; j++) {
			uint8_t want[16] = { 0 };

			assert_int_equal(inet_pton(t->want[j].family,
			    t->want[j].addr, want), 1);
			if (out[j].family != t->want[j].family ||
			    out[j].port != t->want[j].port ||
			    memcmp(out[j].addr, want, 16) != 0) {
				fail_msg("%s: address %zu differs", t->desc,
				    j);
			}
		}
	}
}

/* ---------------------------------------------------------------- */
/* cfg_parse_nets and cfg_net_match */

struct net_case {
	const char	*desc;
	const char	*nets;
	size_t		 cap;
	const char	*msg;	/* NULL: parses */
	const char	*addr;	/* address tested against the nets */
	int		 match;
};

static const struct net_case net_cases[] = {
	{ "loopback in 127/8", "127.0.0.0/8", 32, NULL, "127.0.0.1", 1 },
	{ "just outside 127/8", "127.0.0.0/8", 32, NULL, "128.0.0.1", 0 },
	{ "::1 in ::1/128", "::1/128", 32, NULL, "::1", 1 },
	{ "::2 not in ::1/128", "::1/128", 32, NULL, "::2", 0 },
	{ "10.1.2.3 not in 10.0/16", "10.0.0.0/16", 32, NULL, "10.1.2.3",
	  0 },
	{ "10.0.255.1 in 10.0/16", "10.0.0.0/16", 32, NULL, "10.0.255.1",
	  1 },
	{ "host bits are cleared", "192.168.1.77/24", 32, NULL,
	  "192.168.1.5", 1 },
	{ "host bits cleared, other net", "192.168.1.77/24", 32, NULL,
	  "192.168.2.77", 0 },
	{ "prefix inside a byte, in", "172.16.0.0/12", 32, NULL,
	  "172.31.255.255", 1 },
	{ "prefix inside a byte, out", "172.16.0.0/12", 32, NULL,
	  "172.32.0.0", 0 },
	{ "IPv6 /33, in", "2001:db8::/33", 32, NULL, "2001:db8:7fff::1",
	  1 },
	{ "IPv6 /33, out", "2001:db8::/33", 32, NULL, "2001:db8:8000::1",
	  0 },
	{ "bracketed IPv6 network", "[fd00::]/8", 32, NULL, "fd12::1", 1 },
	{ "no prefix means one host", "10.0.0.1", 32, NULL, "10.0.0.1", 1 },
	{ "no prefix, other host", "10.0.0.1", 32, NULL, "10.0.0.2", 0 },
	{ "/0 matches all of IPv4", "0.0.0.0/0", 32, NULL, "203.0.113.9",
	  1 },
	{ "families do not mix", "::/0", 32, NULL, "127.0.0.1", 0 },
	{ "mapped IPv6 is not IPv4", "10.0.0.0/8", 32, NULL,
	  "::ffff:10.0.0.1", 0 },
	{ "second net of a list", "10.0.0.0/8, 192.168.0.0/16", 32, NULL,
	  "192.168.3.4", 1 },
	{ "empty list matches nothing", "", 32, NULL, "127.0.0.1", 0 },
	{ "IPv4 prefix /33", "10.0.0.0/33", 32,
	  "'10.0.0.0/33': prefix must be 0-32", NULL, 0 },
	{ "IPv6 prefix /129", "::/129", 32,
	  "'::/129': prefix must be 0-128", NULL, 0 },
	{ "empty prefix", "10.0.0.0/", 32,
	  "'10.0.0.0/': prefix must be 0-32", NULL, 0 },
	{ "negative prefix", "10.0.0.0/-8", 32,
	  "'10.0.0.0/-8': prefix must be 0-32", NULL, 0 },
	{ "prefix with junk", "10.0.0.0/8x", 32,
	  "'10.0.0.0/8x': prefix must be 0-32", NULL, 0 },
	{ "short IPv4", "10.0.0/8", 32, "'10.0.0/8': bad address", NULL,
	  0 },
	{ "prefix alone", "/8", 32, "'/8': bad address", NULL, 0 },
	{ "host name", "localhost", 32, "'localhost': bad address", NULL,
	  0 },
	{ "more nets than cap", "10.0.0.0/8 11.0.0.0/8", 1,
	  "more than 1 networks", NULL, 0 },
};

static void
test_cfg_nets(void **state)
{
	struct cfg_net nets[CFG_NETS_MAX];
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof net_cases / sizeof net_cases[0]; i++) {
		const struct net_case *t = &net_cases[i];
		uint8_t addr[16] = { 0 };
		int family, rc;
		size_t n;

		rc = cfg_parse_nets(t->nets, nets, t->cap, &n, &e);
		if (t->msg != NULL) {
			if (rc != -1 || strcmp(e.msg, t->msg) != 0) {
				fail_msg("%s: rc %d \"%s\", want \"%s\"",
				    t->desc, rc, rc == -1 ? e.msg : "",
				    t->msg);
			}
			continue;
		}
		if (rc != 0) {
			fail_msg("%s: unexpected error: %s", t->desc, e.msg);
		}
		family = strchr(t->addr, ':') != NULL ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(family, t->addr, addr), 1);
		if (cfg_net_match(nets, n, family, addr) != t->match) {
			fail_msg("%s: match is not %d", t->desc, t->match);
		}
	}
}

/* ---------------------------------------------------------------- */
/* cfg_parse_secs */

static const struct {
	const char	*desc;
	const char	*in;
	size_t		 len;	/* 0: strlen(in) */
	int		 rc;
	int64_t		 secs;
} secs_cases[] = {
	{ "plain seconds", "30", 0, 0, 30 },
	{ "zero", "0", 0, 0, 0 },
	{ "suffix s", "30s", 0, 0, 30 },
	{ "suffix m", "5m", 0, 0, 300 },
	{ "suffix h", "2h", 0, 0, 7200 },
	{ "suffix d", "1d", 0, 0, 86400 },
	{ "suffix w", "1w", 0, 0, 604800 },
	{ "largest count", "4294967295", 0, 0, 4294967295LL },
	{ "largest count of weeks", "4294967295w", 0, 0,
	  4294967295LL * 604800 },
	{ "only len bytes are read", "30s and more", 3, 0, 30 },
	{ "cut before the unit", "5m", 1, 0, 5 },
	{ "empty", "", 0, -1, 0 },
	{ "unit alone", "s", 0, -1, 0 },
	{ "unknown unit", "5y", 0, -1, 0 },
	{ "upper-case unit", "5M", 0, -1, 0 },
	{ "two units", "5mm", 0, -1, 0 },
	{ "unit first", "m5", 0, -1, 0 },
	{ "negative", "-5", 0, -1, 0 },
	{ "plus sign", "+5", 0, -1, 0 },
	{ "fraction", "1.5h", 0, -1, 0 },
	{ "space before the unit", "5 m", 0, -1, 0 },
	{ "count above 2^32-1", "4294967296", 0, -1, 0 },
	{ "21 digits", "100000000000000000000", 0, -1, 0 },
};

static void
test_cfg_secs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof secs_cases / sizeof secs_cases[0];
	    i++) {
		size_t len = secs_cases[i].len != 0 ? secs_cases[i].len :
		    strlen(secs_cases[i].in);
		int64_t v = -12345;
		int rc = cfg_parse_secs(secs_cases[i].in, len, &v);

		if (rc != secs_cases[i].rc) {
			fail_msg("%s: rc %d", secs_cases[i].desc, rc);
		}
		if (rc == 0 && v != secs_cases[i].secs) {
			fail_msg("%s: %lld, want %lld", secs_cases[i].desc,
			    (long long)v, (long long)secs_cases[i].secs);
		}
	}
}

/* ---------------------------------------------------------------- */
/* cfg_parse_user */

#define U8	"uuuuuuuu"
#define U63	U8 U8 U8 U8 U8 U8 U8 "uuuuuuu"

static const struct {
	const char	*desc;
	const char	*in;
	const char	*msg;	/* NULL: parses */
	const char	*name;
	int		 has_uid, has_gid;
	uint32_t	 uid, gid;
} user_cases[] = {
	{ "a name", "mail", NULL, "mail", 0, 0, 0, 0 },
	{ "name with '_' '-' '.' and digits", "_wren-mail.2", NULL,
	  "_wren-mail.2", 0, 0, 0, 0 },
	{ "name of 63 characters", U63, NULL, U63, 0, 0, 0, 0 },
	{ "uid alone", "8", NULL, "", 1, 0, 8, 0 },
	{ "uid:gid", "8:12", NULL, "", 1, 1, 8, 12 },
	{ "numeric root", "0:0", NULL, "", 1, 1, 0, 0 },
	{ "largest uid and gid", "4294967294:4294967294", NULL, "", 1, 1,
	  4294967294u, 4294967294u },
	{ "empty: do not switch", "", NULL, "", 0, 0, 0, 0 },
	{ "non-numeric gid", "1000:abc", "'1000:abc': gid must be a number",
	  NULL, 0, 0, 0, 0 },
	{ "empty gid", "8:", "'8:': gid must be a number", NULL, 0, 0, 0,
	  0 },
	{ "two gids", "8:12:13", "'8:12:13': gid must be a number", NULL, 0,
	  0, 0, 0 },
	{ "gid of 2^32-1", "8:4294967295",
	  "'8:4294967295': gid must be a number", NULL, 0, 0, 0, 0 },
	{ "uid with letters", "8x", "'8x': expected a name or uid[:gid]",
	  NULL, 0, 0, 0, 0 },
	{ "uid of 2^32-1", "4294967295",
	  "'4294967295': expected a name or uid[:gid]", NULL, 0, 0, 0, 0 },
	{ "uid too large", "99999999999",
	  "'99999999999': expected a name or uid[:gid]", NULL, 0, 0, 0, 0 },
	{ "gid without uid", ":8", "':8': not a valid user name", NULL, 0,
	  0, 0, 0 },
	{ "name starting with '-'", "-mail", "'-mail': not a valid user "
	  "name", NULL, 0, 0, 0, 0 },
	{ "name with a space", "ma il", "'ma il': not a valid user name",
	  NULL, 0, 0, 0, 0 },
	{ "name with '!'", "mail!", "'mail!': not a valid user name", NULL,
	  0, 0, 0, 0 },
	{ "name with a ':'", "mail:8", "'mail:8': not a valid user name",
	  NULL, 0, 0, 0, 0 },
	{ "name of 64 characters", U63 "u",
	  "user name longer than 63 characters", NULL, 0, 0, 0, 0 },
};

static void
test_cfg_user(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof user_cases / sizeof user_cases[0];
	    i++) {
		struct cfg_user u;
		struct err e;
		int rc = cfg_parse_user(user_cases[i].in, &u, &e);

		if (user_cases[i].msg != NULL) {
			if (rc != -1 || strcmp(e.msg, user_cases[i].msg)
			    != 0) {
				fail_msg("%s: rc %d \"%s\", want \"%s\"",
				    user_cases[i].desc, rc,
				    rc == -1 ? e.msg : "",
				    user_cases[i].msg);
			}
			continue;
		}
		if (rc != 0) {
			fail_msg("%s: unexpected error: %s",
			    user_cases[i].desc, e.msg);
		}
		assert_string_equal(u.name, user_cases[i].name);
		assert_int_equal(u.has_uid, user_cases[i].has_uid);
		assert_int_equal(u.has_gid, user_cases[i].has_gid);
		assert_int_equal(u.uid, user_cases[i].uid);
		assert_int_equal(u.gid, user_cases[i].gid);
	}
}

/* ---------------------------------------------------------------- */
/* cfg_validate: checks across keys, after a successful parse. */

static const struct {
	const char	*desc;
	const char	*text;
	const char	*msg;	/* NULL: valid */
} validate_cases[] = {
	{ "defaults are valid", "", NULL },
#if WREN_SMTP && WREN_IMAP
	{ "same address in two listeners",
	  "smtp_listen = 127.0.0.1:2525\nimap_listen = 127.0.0.1:2525\n",
	  "t.conf:2: imap_listen: port 2525 is also in smtp_listen" },
	{ "a listener on smtp_listen's default address",
	  "imap_listen = 0.0.0.0:25\n",
	  "t.conf:1: imap_listen: port 25 is also in smtp_listen" },
	{ "IPv6 written two ways in two listeners",
	  "smtp_listen = [::1]:2525\nimap_listen = [0:0::1]:2525\n",
	  "t.conf:2: imap_listen: port 2525 is also in smtp_listen" },
	{ "same port on other addresses is fine",
	  "smtp_listen = 127.0.0.1:2525\nimap_listen = 127.0.0.2:2525\n",
	  NULL },
	{ "same port on IPv4 and IPv6 is fine",
	  "smtp_listen = 0.0.0.0:2525\nimap_listen = [::]:2525\n", NULL },
	{ "the key set in the file is blamed, not the default",
	  "smtp_listen = 0.0.0.0:143\n",
	  "t.conf:1: smtp_listen: port 143 is also in imap_listen" },
#endif
#if WREN_SMTP
	{ "same address twice in one listener",
	  "smtp_listen = 127.0.0.1:25 127.0.0.1:25\n",
	  "t.conf:1: smtp_listen: port 25 is also in smtp_listen" },
#endif
#if WREN_POP3
	{ "pop3 and pop3s on one port",
	  "pop3_listen = 127.0.0.1:995\npop3s_listen = 127.0.0.1:995\n",
	  "t.conf:2: pop3s_listen: port 995 is also in pop3_listen" },
#else
	{ "a listener not built in",
	  "pop3_listen = 127.0.0.1:110\n",
	  "t.conf:1: pop3_listen: POP3 is not built into this binary" },
#endif
};

static void
test_cfg_validate(void **state)
{
	(void)state;
	for (size_t i = 0;
	    i < sizeof validate_cases / sizeof validate_cases[0]; i++) {
		struct err e;
		int rc;

		if (parse_str(&c, validate_cases[i].text, &e) != 0) {
			fail_msg("%s: parse: %s", validate_cases[i].desc,
			    e.msg);
		}
		rc = cfg_validate(&c, &e);
		if (validate_cases[i].msg == NULL) {
			if (rc != 0) {
				fail_msg("%s: %s", validate_cases[i].desc,
				    e.msg);
			}
			continue;
		}
		if (rc != -1 || strcmp(e.msg, validate_cases[i].msg) != 0) {
			fail_msg("%s: rc %d \"%s\", want \"%s\"",
			    validate_cases[i].desc, rc, rc ? e.msg : "",
			    validate_cases[i].msg);
		}
	}
}

/* ---------------------------------------------------------------- */
/* cfg_print: one `key = value` line per key, in table order. */

static void
check_print(const char *text, const char *host)
{
	char out[16384], want[CFG_VALUE_MAX + 64];
	size_t len = 0;
	const char *p;
	struct err e;
	ssize_t r;
	int fds[2];

	if (parse_str(&c, text, &e) != 0) {
		fail_msg("parse: %s", e.msg);
	}
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(cfg_print(&c, fds[1]), 0);
	close(fds[1]);
	while ((r = read(fds[0], out + len, sizeof out - 1 - len)) > 0) {
		len += (size_t)r;
	}
	close(fds[0]);
	assert_true(len < sizeof out - 1);
	out[len] = '\0';
	p = out;
	for (int k = 0; k < CFG_NKEYS; k++) {
		const char *v = cfg_str(&c, (enum cfg_key)k);
		const char *nl = strchr(p, '\n');

		if ((k == CFG_HOSTNAME || k == CFG_ORIGIN) && v[0] == '\0') {
			v = host;
		}
		snprintf(want, sizeof want, "%s = %s", cfg_keys[k].name, v);
		if (nl == NULL || (size_t)(nl - p) != strlen(want) ||
		    memcmp(p, want, strlen(want)) != 0) {
			fail_msg("line %d: want \"%s\"", k + 1, want);
		}
		p = nl + 1;
	}
	assert_string_equal(p, "");	/* exactly CFG_NKEYS lines */
}

static void
test_cfg_print(void **state)
{
	(void)state;
	/* origin falls back to the host name */
	check_print("hostname = mx.example.org\n", "mx.example.org");
	check_print("hostname = mx.example.org\norigin = example.org\n"
	    "domains = example.org, example.net\nlog_level = debug\n",
	    "mx.example.org");
}

/* The system's name stands in for an empty hostname. */
static void
test_cfg_hostname(void **state)
{
	char buf[CFG_HOST_MAX + 1], sys[CFG_HOST_MAX + 1] = "";
	struct err e;
	const char *h;

	(void)state;
	assert_int_equal(parse_str(&c, "", &e), 0);
	h = cfg_hostname(&c, buf, sizeof buf);
	assert_non_null(h);
	assert_true(h[0] != '\0');
	if (gethostname(sys, sizeof sys - 1) == 0 && sys[0] != '\0') {
		assert_string_equal(h, sys);
	}
	assert_string_equal(cfg_hostname(&c, buf, 0), "localhost");
	assert_int_equal(parse_str(&c, "hostname = mx.example\n", &e), 0);
	assert_string_equal(cfg_hostname(&c, buf, sizeof buf), "mx.example");
}

int
main(void)
{
	const struct CMUnitTest cfg_parse_tests[] = {
		cmocka_unit_test(test_cfg_defaults),
		cmocka_unit_test(test_cfg_good),
		cmocka_unit_test(test_cfg_bounds),
		cmocka_unit_test(test_cfg_bad),
		cmocka_unit_test(test_cfg_validate),
		cmocka_unit_test(test_cfg_print),
		cmocka_unit_test(test_cfg_hostname),
	};
	const struct CMUnitTest cfg_value_tests[] = {
		cmocka_unit_test(test_cfg_listen),
		cmocka_unit_test(test_cfg_nets),
		cmocka_unit_test(test_cfg_secs),
		cmocka_unit_test(test_cfg_user),
	};
	int failed = 0;

	failed += cmocka_run_group_tests(cfg_parse_tests, NULL, NULL);
	failed += cmocka_run_group_tests(cfg_value_tests, NULL, NULL);
	return failed != 0;
}
