/* SPDX-License-Identifier: ISC */
/*
 * test_smtp_session.c - the SMTP session state machine
 * (smtp/smtp_session.c, smtp/smtp_deliver.c) driven without sockets:
 * every command, every reply the session sends, durable delivery into
 * Maildir and the queue with the pipelined group commit, and hostile
 * input (NUL bytes, overlong lines, bare LF, smuggling, pipelined
 * garbage, BDAT framing, size and hop limits, 8-bit data, error floods).
 *
 * The harness builds a real event loop, connection table, configuration
 * and compiled tables in a temporary directory, then makes connections
 * by hand the way conn.c's accept does, but with fd -1: input is
 * appended to c->in and handed to smtp_proto.input; replies are read
 * from c->out and removed from it, so nothing is ever sent. A finished
 * message is committed by calling the table's pre-flush hook (the SMTP
 * group commit) until no round is pending: the first round renames the
 * message into new/, the next acknowledges it. The loop itself never
 * runs. A connection is ended with conn_abort and its blocks returned
 * by the table's before-sleep hook, as the loop would.
 *
 * Each table row is one session from a fresh connection: a one-line
 * description, the client's bytes (head, a fill repeated n times, tail;
 * NUL bytes allowed), optionally an event (idle timeout, shutdown) and
 * more bytes, the exact server output after the greeting ({ID} stands
 * for a queue id), whether the connection ends closed, and how many
 * messages reached each mailbox and the queue. After every row: no
 * file is left in any tmp/, every file in new/ carries S= and W= equal
 * to its sizes, no session is left mid-transaction or in a commit, and
 * every pool block is back.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/conn.h"
#include "core/ev.h"
#include "core/log.h"
#include "map/map.h"
#include "smtp/smtp.h"
#include "smtp/smtp_int.h"
#include "store/txn.h"

#define MAXC		4	/* connection slots and sessions */
#define OUT_MAX		(64 * 1024)
#define IN_MAX		(64 * 1024)

/* --- fixture ------------------------------------------------------- */

static struct {
	char			dir[64];
	struct ev		ev;
	struct conn_table	t;
	struct cfg		cfg;
	struct maps		maps;
	uint32_t		next_id;
} f;

static char outbuf[OUT_MAX];	/* everything the server sent */
static size_t outlen;
static int failures;		/* rows that did not give what they must */
static int nchecked;		/* messages whose S= and W= were checked */

static void
path_of(char *out, size_t cap, const char *rel)
{
	int n = snprintf(out, cap, "%s/%s", f.dir, rel);

	assert_true(n > 0 && (size_t)n < cap);
}

static void
write_file(const char *rel, const char *text)
{
	char path[256];
	FILE *fp;

	path_of(path, sizeof path, rel);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static void
compile(const char *rel, enum map_type type, const char *text)
{
	char path[256];
	struct err e;
	size_t n;

	write_file(rel, text);
	path_of(path, sizeof path, rel);
	if (map_compile(type, path, &n, &e) == -1) {
		fail_msg("%s", e.msg);
	}
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void
rm_tree(const char *rel)
{
	char path[256];
	struct stat st;

	path_of(path, sizeof path, rel);
	if (lstat(path, &st) == 0) {
		assert_int_equal(nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS),
		    0);
	}
}

/* Files (not dot entries) in a directory; 0 when it does not exist. */
static int
count(const char *rel)
{
	char path[256];
	struct dirent *d;
	DIR *dp;
	int n = 0;

	path_of(path, sizeof path, rel);
	dp = opendir(path);
	if (dp == NULL) {
		return 0;
	}
	while ((d = readdir(dp)) != NULL) {
		n += d->d_name[0] != '.';
	}
	closedir(dp);
	return n;
}

static void
empty_dir(const char *rel)
{
	char path[256], file[512];
	struct dirent *d;
	DIR *dp;

	path_of(path, sizeof path, rel);
	dp = opendir(path);
	assert_non_null(dp);
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] != '.') {
			snprintf(file, sizeof file, "%s/%s", path, d->d_name);
			assert_int_equal(unlink(file), 0);
		}
	}
	closedir(dp);
}

static int
group_setup(void **state)
{
	char conf[2048], users[512];
	struct err e;
	int n;

	(void)state;
	log_set_level(getenv("WREN_TEST_DEBUG") ? LOG_LVL_DEBUG :
	    LOG_LVL_ERROR);
	memset(&f, 0, sizeof f);
	snprintf(f.dir, sizeof f.dir, "/tmp/wren-smtp-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	n = snprintf(conf, sizeof conf,
	    "hostname = mail.example.test\n"
	    "domains = example.test\n"
	    "data_dir = %s\n"
	    "mail_home = %s/%%d/%%n\n"
	    "mynetworks = 127.0.0.1/32\n"
	    "greet_delay = 0\n"
	    "message_size_limit = 10240\n"
	    "smtp_timeout = 60\n"
	    "users = %s/users\n"
	    "aliases = %s/aliases\n"
	    "virtual = %s/virtual\n"
	    "sender_logins = %s/senders\n"
	    "relay_passwords = %s/relay_passwords\n"
	    "log = stderr\n",
	    f.dir, f.dir, f.dir, f.dir, f.dir, f.dir, f.dir);
	assert_true(n > 0 && (size_t)n < sizeof conf);
	if (cfg_parse(&f.cfg, "test.conf", conf, (size_t)n, &e) == -1) {
		fail_msg("%s", e.msg);
	}
	/* carol's home lies below a plain file until a row removes it:
	 * her mailbox cannot be created (451). */
	snprintf(users, sizeof users,
	    "alice@example.test:{PLAIN}x\n"
	    "bob:{PLAIN}x\n"
	    "carol@example.test:{PLAIN}x::::%s/blocker/carol\n", f.dir);
	compile("users", MAP_USERS, users);
	compile("aliases", MAP_ALIASES,
	    "loop1: loop2\n"
	    "loop2: loop1\n"
	    "postmaster: alice@example.test\n");
	compile("virtual", MAP_VIRTUAL,
	    "info@example.test alice@example.test\n");
	maps_open(&f.maps, &f.cfg);
	assert_int_equal(f.maps.m[MAP_USERS].state, MAP_ST_OK);
	assert_int_equal(f.maps.m[MAP_ALIASES].state, MAP_ST_OK);
	assert_int_equal(ev_init(&f.ev, 64, 16, &e), 0);
	assert_int_equal(conn_table_init(&f.t, &f.ev, MAXC, MAXC, &e), 0);
	if (smtp_init(&f.ev, &f.t, &f.cfg, &f.maps, MAXC, &e) == -1) {
		fail_msg("%s", e.msg);
	}
	/* The commits here are driven by hand, round by round: the
	 * in-loop path. The io_uring path is covered by the integration
	 * tests against the running server. */
	store_txn_no_uring();
	assert_non_null(f.t.pre_flush[0].fn);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	conn_table_destroy(&f.t);
	smtp_shutdown();
	maps_close(&f.maps);
	ev_destroy(&f.ev);
	assert_int_equal(nftw(f.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	return 0;
}

/* Mailboxes and queue empty, carol's home blocked again. */
static void
fresh_store(void)
{
	rm_tree("example.test");
	rm_tree("mail.example.test");
	rm_tree("blocker");
	write_file("blocker", "not a directory\n");
	empty_dir("queue/tmp");
	empty_dir("queue/msg");
	empty_dir("queue/env");
}

/* --- fake connections -------------------------------------------- */

static void
idle_fired(struct timer *t, void *arg)
{
	(void)t;
	(void)arg;			/* the loop never runs here */
}

static int
commit_pending(void)
{
	struct store_txn_stats sts;

	store_txn_stats(&sts);
	return sts.pending > 0;
}

/* Moves c's output to outbuf; returns how many bytes. */
static size_t
take_output(struct conn *c)
{
	size_t n = c->out.len;

	assert_true(outlen + n < sizeof outbuf);
	memcpy(outbuf + outlen, buf_head(&c->out), n);
	outlen += n;
	buf_consume(&c->out, n);
	return n;
}

/* What accept does, without a socket: 127.0.0.<host>. */
static struct conn *
conn_new(int host)
{
	static const char greeting[] = "220 mail.example.test ESMTP wren\r\n";
	struct conn *c = pool_get(&f.t.conns);
	char *inb = pool_get(&f.t.bufs), *outb = pool_get(&f.t.bufs);

	assert_non_null(c);
	assert_non_null(inb);
	assert_non_null(outb);
	c->table = &f.t;
	c->proto = &smtp_proto;
	c->fd = -1;
	c->id = ++f.next_id;
	c->family = AF_INET;
	c->addr[0] = 127;
	c->addr[3] = (uint8_t)host;
	c->port = 50000;
	snprintf(c->peer, sizeof c->peer, "127.0.0.%d:50000", host);
	buf_init(&c->in, inb, CONN_BUF_SIZE);
	buf_init(&c->out, outb, CONN_BUF_SIZE);
	timer_init(&c->idle, idle_fired, c);
	timer_init(&c->deadline, idle_fired, c);
	c->next = f.t.live;
	if (f.t.live != NULL) {
		f.t.live->prev = c;
	}
	f.t.live = c;
	f.t.active++;
	assert_int_equal(smtp_proto.open(c), 0);
	assert_int_equal(c->out.len, sizeof greeting - 1);
	assert_memory_equal(buf_head(&c->out), greeting, sizeof greeting - 1);
	buf_consume(&c->out, c->out.len);
	return c;
}

static int
conn_ended(const struct conn *c)
{
	return (c->flags & (CONN_F_CLOSING | CONN_F_DEAD)) != 0;
}

/* Commit rounds until none is pending (the loop runs one per turn). */
static size_t
commit_all(struct conn *c)
{
	size_t got = 0;

	for (int i = 0; i < 8 && commit_pending(); i++) {
		conn_table_run_pre_flush(&f.t);
		got += take_output(c);
	}
	return got;
}

/*
 * Where a polite client stops sending to wait for replies (RFC 2920
 * 3.1): after a line that ends a group (EHLO, HELO, DATA, NOOP, VRFY,
 * EXPN, ETRN, TURN, ATRN), and after every line before EHLO has
 * offered PIPELINING. Stopping too often (a body line that reads
 * "DATA") changes nothing: the session only sees bytes come later.
 * Returns how many bytes of p[0..len) go in one write.
 */
static size_t
polite_turn(const struct conn *c, const char *p, size_t len)
{
	static const char *const last[] = { "EHLO", "HELO", "DATA", "NOOP",
	    "VRFY", "EXPN", "ETRN", "TURN", "ATRN" };
	const struct smtp_session *s = c->sess;
	size_t off = 0;

	while (off < len) {
		const char *lf = memchr(p + off, '\n', len - off);
		size_t end = lf ? (size_t)(lf - p) + 1 : len;

		if (!s->esmtp) {
			return end;
		}
		for (size_t i = 0; i < sizeof last / sizeof last[0]; i++) {
			if (end - off >= 5 && strncasecmp(p + off, last[i],
			    4) == 0 && (p[off + 4] == ' ' ||
			    p[off + 4] == '\r' || p[off + 4] == '\n')) {
				return end;
			}
		}
		off = end;
	}
	return len;
}

/*
 * Hands p[0..len) to the session as fast as its input buffer takes it,
 * taking the replies after each step (the client reads everything);
 * with `commit`, runs the commit rounds whenever a message waits. Ends
 * when the connection is closing or nothing moves any more. Unless
 * `burst`, the client waits for replies where RFC 2920 says it must
 * (polite_turn: the session answers everything it has before the next
 * write); a burst goes in as one write, sent without waiting.
 */
static void
feed(struct conn *c, const char *p, size_t len, int commit, int burst)
{
	size_t off = 0;

	for (int guard = 0; guard < 100000; guard++) {
		size_t fed = 0, before = c->in.len, got;

		if (conn_ended(c)) {
			return;
		}
		if (off < len) {
			size_t room;
			char *tail = buf_tail(&c->in, &room);

			fed = len - off < room ? len - off : room;
			if (!burst) {
				size_t turn = polite_turn(c, p + off, fed);

				fed = turn < fed ? turn : fed;
			}
			memcpy(tail, p + off, fed);
			buf_commit(&c->in, fed);
			off += fed;
		}
		if (fed > 0) {
			smtp_proto.input(c);
		} else if (!conn_ended(c)) {
			smtp_proto.writable(c);	/* output was drained */
		}
		got = take_output(c);
		if (commit) {
			got += commit_all(c);
		}
		if (fed == 0 && got == 0 && c->in.len == before) {
			return;
		}
	}
	fail_msg("feed: no end");
}

/* What the loop does for a connection that ends: close, reclaim. */
static void
conn_finish(struct conn *c)
{
	if (!(c->flags & CONN_F_DEAD)) {
		buf_consume(&c->out, c->out.len);	/* nobody to read */
		conn_abort(c);
	}
	f.ev.before_sleep(&f.ev, f.ev.before_sleep_arg);
}

/* --- case tables -------------------------------------------------- */

/* head, then fill repeated nfill times, then tail; sizeof keeps NULs. */
struct text {
	const char	*head;
	size_t		 hlen;
	const char	*fill;
	size_t		 flen;
	size_t		 nfill;
	const char	*tail;
	size_t		 tlen;
};

#define T(s)		{ (s), sizeof(s) - 1, "", 0, 0, "", 0 }
#define TF(h, fl, n, t)	{ (h), sizeof(h) - 1, (fl), sizeof(fl) - 1, (n), \
			    (t), sizeof(t) - 1 }

enum then {
	THEN_NONE,
	THEN_TIMEOUT,		/* the idle timer fires */
	THEN_DRAIN,		/* the server is stopping */
	THEN_UNBLOCK		/* carol's home becomes creatable */
};

enum peer { IN = 1, OUT = 2 };	/* 127.0.0.1 in mynetworks, .2 not */

struct scase {
	const char	*desc;
	enum peer	 peer;
	struct text	 in;
	enum then	 then;
	struct text	 in2;		/* after `then` */
	int		 burst;		/* in2 in one write, no waiting */
	struct text	 out;
	int		 closed;
	int		 alice, bob, carol, queue;	/* messages stored */
	const char	*head;		/* alice's message starts with */
	const char	*tail;		/* and ends with */
};

static size_t
build(const struct text *t, char *out, size_t cap)
{
	size_t n = t->hlen + t->flen * t->nfill + t->tlen;

	assert_true(n <= cap);
	if (t->hlen > 0) {		/* an unset text has no pointers */
		memcpy(out, t->head, t->hlen);
	}
	for (size_t i = 0; i < t->nfill; i++) {
		memcpy(out + t->hlen + i * t->flen, t->fill, t->flen);
	}
	if (t->tlen > 0) {
		memcpy(out + n - t->tlen, t->tail, t->tlen);
	}
	return n;
}

/* got == want, where "{ID}" in want stands for a queue id. */
static int
output_matches(const char *want, size_t wlen, const char *got, size_t glen)
{
	size_t i = 0, j = 0;

	while (i < wlen) {
		if (wlen - i >= 4 && memcmp(want + i, "{ID}", 4) == 0) {
			size_t k = j;

			while (k < glen && ((got[k] >= '0' && got[k] <= '9') ||
			    (got[k] >= 'A' && got[k] <= 'F'))) {
				k++;
			}
			if (k - j < 8) {
				return 0;
			}
			i += 4;
			j = k;
			continue;
		}
		if (j == glen || want[i] != got[j]) {
			return 0;
		}
		i++;
		j++;
	}
	return j == glen;
}

static void
print_escaped(const char *label, const char *p, size_t n)
{
	fprintf(stderr, "    %s (%zu): \"", label, n);
	for (size_t i = 0; i < n && i < 3000; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '\r') {
			fputs("\\r", stderr);
		} else if (ch == '\n') {
			fputs("\\n\"\n      \"", stderr);
		} else if (ch < 0x20 || ch >= 0x7f) {
			fprintf(stderr, "\\x%02x", ch);
		} else {
			fputc(ch, stderr);
		}
	}
	fputs(n > 3000 ? "...\"\n" : "\"\n", stderr);
}

static void
bad(const char *desc, const char *f_, ...)
    __attribute__((format(printf, 2, 3)));

static void
bad(const char *desc, const char *f_, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s: ", desc);
	va_start(ap, f_);
	vfprintf(stderr, f_, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
}

static int
read_file(const char *path, char *out, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd == -1) {
		return -1;
	}
	n = read(fd, out, cap);
	close(fd);
	if (n < 0 || (size_t)n == cap) {
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

/*
 * Every message in a new/ directory: its name carries S=<file size>
 * and W=<size with CR LF line ends> (Dovecot's convention). With
 * head/tail, the only message must start and end with them.
 */
static void
check_new(const char *desc, const char *rel, const char *head,
    const char *tail)
{
	static char data[64 * 1024];
	char path[256], file[512];
	struct dirent *d;
	DIR *dp;

	path_of(path, sizeof path, rel);
	dp = opendir(path);
	if (dp == NULL) {
		return;
	}
	while ((d = readdir(dp)) != NULL) {
		const char *s, *w;
		unsigned long long size, vsize, lines = 0;
		size_t len;

		if (d->d_name[0] == '.') {
			continue;
		}
		snprintf(file, sizeof file, "%s/%s", path, d->d_name);
		s = strstr(d->d_name, ",S=");
		w = strstr(d->d_name, ",W=");
		if (s == NULL || w == NULL ||
		    read_file(file, data, sizeof data, &len) == -1) {
			bad(desc, "%s: no S=/W= or unreadable", file);
			continue;
		}
		size = strtoull(s + 3, NULL, 10);
		vsize = strtoull(w + 3, NULL, 10);
		for (size_t i = 0; i < len; i++) {
			lines += data[i] == '\n';
		}
		nchecked++;
		if (size != len || vsize != len + lines) {
			bad(desc, "%s: S=%llu W=%llu, file %zu bytes %llu "
			    "lines", file, size, vsize, len, lines);
		}
		if (head != NULL && (len < strlen(head) ||
		    memcmp(data, head, strlen(head)) != 0)) {
			bad(desc, "message does not start as it must");
			print_escaped("message", data, len);
		}
		if (tail != NULL && (len < strlen(tail) ||
		    memcmp(data + len - strlen(tail), tail,
		    strlen(tail)) != 0)) {
			bad(desc, "message does not end as it must");
			print_escaped("message", data, len);
		}
	}
	closedir(dp);
}

/* Nothing left behind by the session and its commit. */
static void
check_idle(const char *desc)
{
	if (commit_pending() || smtp.busy != 0 || f.t.live != NULL ||
	    f.t.active != 0 || f.t.dead != NULL) {
		bad(desc, "left state: commit %d busy %zu live %p active %zu",
		    commit_pending(), smtp.busy, (void *)f.t.live,
		    f.t.active);
	}
	if (pool_avail(&f.t.conns) != MAXC ||
	    pool_avail(&f.t.bufs) != 2 * MAXC ||
	    pool_avail(&smtp.sessions) != MAXC) {
		bad(desc, "pool blocks not returned: %zu %zu %zu",
		    pool_avail(&f.t.conns), pool_avail(&f.t.bufs),
		    pool_avail(&smtp.sessions));
	}
}

static void
check_store(const struct scase *k)
{
	static const struct {
		const char	*tmp, *new_;
	} box[] = {
		{ "example.test/alice/Maildir/tmp",
		  "example.test/alice/Maildir/new" },
		{ "mail.example.test/bob/Maildir/tmp",
		  "mail.example.test/bob/Maildir/new" },
		{ "blocker/carol/Maildir/tmp", "blocker/carol/Maildir/new" },
	};
	const int want[3] = { k->alice, k->bob, k->carol };

	for (int i = 0; i < 3; i++) {
		if (count(box[i].tmp) != 0) {
			bad(k->desc, "%s: %d files left", box[i].tmp,
			    count(box[i].tmp));
		}
		if (count(box[i].new_) != want[i]) {
			bad(k->desc, "%s: %d messages, want %d", box[i].new_,
			    count(box[i].new_), want[i]);
		}
		check_new(k->desc, box[i].new_, i == 0 ? k->head : NULL,
		    i == 0 ? k->tail : NULL);
	}
	if (count("queue/tmp") != 0) {
		bad(k->desc, "queue/tmp: %d files left", count("queue/tmp"));
	}
	if (count("queue/msg") != k->queue || count("queue/env") != k->queue) {
		bad(k->desc, "queue: %d messages %d envelopes, want %d",
		    count("queue/msg"), count("queue/env"), k->queue);
	}
}

static void
run_case(const struct scase *k)
{
	static char in[IN_MAX], want[OUT_MAX];
	struct conn *c;
	size_t n, wlen;
	int closed;

	fresh_store();
	outlen = 0;
	c = conn_new(k->peer == OUT ? 2 : 1);
	n = build(&k->in, in, sizeof in);
	feed(c, in, n, 1, 0);
	if (!conn_ended(c)) {
		switch (k->then) {
		case THEN_TIMEOUT:
			smtp_proto.timeout(c);
			break;
		case THEN_DRAIN:
			smtp_proto.drain(c);
			break;
		case THEN_UNBLOCK:
			rm_tree("blocker");
			break;
		case THEN_NONE:
			break;
		}
		take_output(c);
		commit_all(c);
	}
	n = build(&k->in2, in, sizeof in);
	feed(c, in, n, 1, k->burst);
	wlen = build(&k->out, want, sizeof want);
	if (!output_matches(want, wlen, outbuf, outlen)) {
		bad(k->desc, "wrong output");
		print_escaped("want", want, wlen);
		print_escaped("got ", outbuf, outlen);
	}
	closed = conn_ended(c);
	if (closed != k->closed) {
		bad(k->desc, "connection %s, want %s", closed ? "closed" :
		    "open", k->closed ? "closed" : "open");
	}
	conn_finish(c);
	check_idle(k->desc);
	check_store(k);
}

static void
run_table(const struct scase *cases, size_t n)
{
	failures = 0;
	nchecked = 0;
	for (size_t i = 0; i < n; i++) {
		run_case(&cases[i]);
	}
	print_message("%zu cases, %d messages delivered and checked, "
	    "%d failed\n", n, nchecked, failures);
	assert_int_equal(failures, 0);
}

/* --- the sessions ------------------------------------------------- */

#define HOST	"mail.example.test"
#define EHLO	"EHLO client.example\r\n"
#define EHLO_HEAD	"250-" HOST "\r\n" \
		"250-PIPELINING\r\n" \
		"250-SIZE 10240\r\n" \
		"250-8BITMIME\r\n" \
		"250-ENHANCEDSTATUSCODES\r\n" \
		"250-CHUNKING\r\n" \
		"250-SMTPUTF8\r\n"
/* From 127.0.0.1, tls_auth_only lets AUTH be offered in the clear;
 * from any other address (OUT) only after STARTTLS. */
#define EHLO_R		EHLO_HEAD "250-AUTH PLAIN LOGIN\r\n" "250 DSN\r\n"
#define EHLO_R_OUT	EHLO_HEAD "250 DSN\r\n"
#define MAIL	"MAIL FROM:<sender@remote.example>\r\n"
#define MAIL_R	"250 2.1.0 Ok\r\n"
#define RCPT	"RCPT TO:<alice@example.test>\r\n"
#define RCPT_R	"250 2.1.5 Ok\r\n"
#define TX	EHLO MAIL RCPT
#define TX_R	EHLO_R MAIL_R RCPT_R
#define DATA_R	"354 End data with <CR><LF>.<CR><LF>\r\n"
#define QUEUED	"250 2.0.0 Ok: queued as {ID}\r\n"
#define OK	"250 2.0.0 Ok\r\n"
#define BYE	"221 2.0.0 Bye\r\n"
#define MSG	"Subject: test\r\n\r\nHello.\r\n"	/* 25 octets */
#define MSG_LF	"Subject: test\n\nHello.\n"		/* 22 stored */
#define HEAD_A	"Return-Path: <sender@remote.example>\n" \
		"Delivered-To: alice@example.test\n" \
		"Received: from client.example ([127.0.0.1])\n" \
		"\tby " HOST " (wren) with ESMTP id "
#define E500	"500 5.5.2 Error: command not recognized\r\n"
#define E500NUL	"500 5.5.2 Error: NUL byte in command\r\n"
#define E500LONG "500 5.5.2 Error: line too long\r\n"
#define E501ARG	"501 5.5.4 Syntax: no arguments allowed\r\n"
#define E502	"502 5.5.1 Error: command not implemented\r\n"
#define E503RCPT "503 5.5.1 Error: need RCPT command\r\n"
#define E503MAIL "503 5.5.1 Error: need MAIL command\r\n"
#define E503HELO "503 5.5.1 Error: send HELO/EHLO first\r\n"
#define E552	"552 5.3.4 Message size exceeds fixed limit\r\n"
#define E554NORCPT "554 5.5.1 Error: no valid recipients\r\n"
#define E554BARE "554 5.6.0 Message refused: bare CR or LF in message\r\n"
#define E555	"555 5.5.4 Unsupported option\r\n"
#define E554EMPTY "554 5.6.0 Message refused: empty message\r\n"
#define E554SYNC "554 5.5.0 Error: SMTP protocol synchronization\r\n"
#define AUTH_A	"AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdAB4\r\n"
#define AUTH_R	"235 2.7.0 Authentication successful\r\n"
#define BDAT_LOST "501 5.5.4 Syntax: BDAT size [LAST]\r\n" \
		"421 4.5.0 " HOST " Closing: BDAT framing lost\r\n"
#define X50	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define X500	X50 X50 X50 X50 X50 X50 X50 X50 X50 X50
#define X998	X500 X50 X50 X50 X50 X50 X50 X50 X50 X50 \
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

/* Every command and every reply the session sends. */
static const struct scase commands[] = {
	{ "HELO: 250 with the host name",
	  .in = T("HELO client.example\r\n"),
	  .out = T("250 " HOST "\r\n") },
	{ "EHLO: the exact extension list",
	  .in = T(EHLO), .out = T(EHLO_R) },
	{ "EHLO twice: both answered",
	  .in = T(EHLO EHLO), .out = T(EHLO_R EHLO_R) },
	{ "lower-case verbs and a mixed-case address",
	  .in = T("ehlo client.example\r\nmail from:<a@b.example>\r\n"
	    "rcpt to:<ALICE@Example.TEST>\r\n"),
	  .out = T(TX_R) },
	{ "MAIL: 250 2.1.0",
	  .in = T(EHLO MAIL), .out = T(EHLO_R MAIL_R) },
	{ "MAIL with the null sender",
	  .in = T(EHLO "MAIL FROM:<>\r\n"), .out = T(EHLO_R MAIL_R) },
	{ "MAIL with a space after the colon, no brackets",
	  .in = T(EHLO "MAIL FROM: a@b.example\r\n"),
	  .out = T(EHLO_R MAIL_R) },
	{ "MAIL with every parameter offered",
	  .in = T(EHLO "MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME "
	    "SMTPUTF8 RET=HDRS ENVID=x+2By\r\n"),
	  .out = T(EHLO_R MAIL_R) },
	{ "MAIL with SIZE exactly the limit",
	  .in = T(EHLO "MAIL FROM:<a@b.example> SIZE=10240\r\n"),
	  .out = T(EHLO_R MAIL_R) },
	{ "MAIL with SIZE over the limit: 552 5.3.4, not a transaction",
	  .in = T(EHLO "MAIL FROM:<a@b.example> SIZE=10241\r\n" RCPT),
	  .out = T(EHLO_R E552 E503MAIL) },
	{ "MAIL parameters after HELO: 555 5.5.4",
	  .in = T("HELO client.example\r\n"
	    "MAIL FROM:<a@b.example> BODY=8BITMIME\r\n"),
	  .out = T("250 " HOST "\r\n555 5.5.4 Parameters need EHLO\r\n") },
	{ "MAIL without parameters after HELO",
	  .in = T("HELO client.example\r\n" MAIL RCPT),
	  .out = T("250 " HOST "\r\n" MAIL_R RCPT_R) },
	{ "RCPT to an account: 250 2.1.5",
	  .in = T(TX), .out = T(TX_R) },
	{ "RCPT to a bare account by its local part",
	  .in = T(EHLO MAIL "RCPT TO:<bob@example.test>\r\n"),
	  .out = T(TX_R) },
	{ "RCPT with a +tag",
	  .in = T(EHLO MAIL "RCPT TO:<alice+news@example.test>\r\n"),
	  .out = T(TX_R) },
	{ "RCPT to <postmaster> without a domain",
	  .in = T(EHLO MAIL "RCPT TO:<postmaster>\r\n"),
	  .out = T(TX_R) },
	{ "RCPT to a virtual address",
	  .in = T(EHLO MAIL "RCPT TO:<info@example.test>\r\n"),
	  .out = T(TX_R) },
	{ "RCPT with NOTIFY and ORCPT",
	  .in = T(EHLO MAIL "RCPT TO:<alice@example.test> "
	    "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice@example.test\r\n"),
	  .out = T(TX_R) },
	{ "RCPT to an unknown user: 550 5.1.1",
	  .in = T(EHLO MAIL "RCPT TO:<nobody@example.test>\r\n"),
	  .out = T(EHLO_R MAIL_R "550 5.1.1 <nobody@example.test>: "
	    "Recipient address rejected: User unknown\r\n") },
	{ "RCPT to an alias loop: 550 5.4.6",
	  .in = T(EHLO MAIL "RCPT TO:<loop1@example.test>\r\n"),
	  .out = T(EHLO_R MAIL_R "550 5.4.6 <loop1@example.test>: "
	    "Recipient address rejected: alias loop\r\n") },
	{ "RCPT to another domain from outside mynetworks: 554 5.7.1",
	  .peer = OUT,
	  .in = T(EHLO MAIL "RCPT TO:<friend@remote.example>\r\n"),
	  .out = T(EHLO_R_OUT MAIL_R "554 5.7.1 <friend@remote.example>: "
	    "Relay access denied\r\n") },
	{ "RCPT to a local account from outside mynetworks",
	  .peer = OUT, .in = T(TX), .out = T(EHLO_R_OUT MAIL_R RCPT_R) },
#if WREN_OUTBOUND
	{ "RCPT to another domain from mynetworks: relayed",
	  .in = T(EHLO MAIL "RCPT TO:<friend@remote.example>\r\n"),
	  .out = T(TX_R) },
#endif
	{ "101 RCPTs: 100 accepted, the 101st 452 4.5.3",
	  .in = TF(EHLO MAIL, RCPT, 101, ""),
	  .out = TF(EHLO_R MAIL_R, RCPT_R, 100,
	    "452 4.5.3 Error: too many recipients\r\n") },
	{ "DATA: 354, on disk, then 250 after the second commit round",
	  .in = T(TX "DATA\r\n" MSG ".\r\n"),
	  .out = T(TX_R DATA_R QUEUED),
	  .alice = 1, .head = HEAD_A, .tail = MSG_LF },
	{ "DATA: dot-stuffed lines are unstuffed",
	  .in = T(TX "DATA\r\nSubject: dots\r\n\r\n..one\r\n...two\r\n"
	    ".\r\n"),
	  .out = T(TX_R DATA_R QUEUED),
	  .alice = 1, .tail = "Subject: dots\n\n.one\n..two\n" },
	{ "DATA: the end split over two reads",
	  .in = T(TX "DATA\r\n" MSG "."), .in2 = T("\r\nNOOP\r\n"),
	  .out = T(TX_R DATA_R QUEUED OK), .alice = 1, .tail = MSG_LF },
	{ "DATA: one copy per mailbox, alias and account",
	  .in = T(EHLO MAIL RCPT "RCPT TO:<bob@example.test>\r\n"
	    "RCPT TO:<postmaster@example.test>\r\nDATA\r\n" MSG ".\r\n"),
	  .out = T(TX_R RCPT_R RCPT_R DATA_R QUEUED),
	  .alice = 1, .bob = 1, .tail = MSG_LF },
#if WREN_OUTBOUND
	{ "DATA: a mailbox and a remote address: Maildir and queue",
	  .in = T(TX "RCPT TO:<friend@remote.example>\r\nDATA\r\n" MSG
	    ".\r\n"),
	  .out = T(TX_R RCPT_R DATA_R QUEUED),
	  .alice = 1, .queue = 1, .tail = MSG_LF },
	{ "DATA: remote addresses only: the queue",
	  .in = T(EHLO MAIL "RCPT TO:<friend@remote.example>\r\nDATA\r\n"
	    MSG ".\r\n"),
	  .out = T(TX_R DATA_R QUEUED), .queue = 1 },
#endif
	{ "DATA: 8-bit headers and body accepted (8BITMIME)",
	  .in = T(TX "DATA\r\nSubject: caf\xc3\xa9\r\n"
	    "From: J\xc3\xb6rg <j@remote.example>\r\n\r\nna\xc3\xafve\r\n"
	    ".\r\n"),
	  .out = T(TX_R DATA_R QUEUED), .alice = 1,
	  .tail = "Subject: caf\xc3\xa9\nFrom: J\xc3\xb6rg "
	    "<j@remote.example>\n\nna\xc3\xafve\n" },
	{ "DATA: a line of exactly 998 octets is accepted",
	  .in = T(TX "DATA\r\nSubject: long\r\n\r\n" X998
	    "\r\n.\r\n"),
	  .out = T(TX_R DATA_R QUEUED), .alice = 1 },
	{ "DATA: 50 Received: headers are accepted",
	  .in = TF(TX "DATA\r\n", "Received: from a by b; x\r\n", 50,
	    "\r\nbody\r\n.\r\n"),
	  .out = T(TX_R DATA_R QUEUED), .alice = 1 },
	{ "DATA: exactly message_size_limit octets with CR LF line ends",
	  .in = TF(TX "DATA\r\n", X500 "xxxxxxxxxx\r\n", 20, ".\r\n"),
	  .out = T(TX_R DATA_R QUEUED), .alice = 1 },
	{ "DATA: delivery fails (mailbox cannot be made): 451 4.3.0",
	  .in = T(EHLO MAIL "RCPT TO:<carol@example.test>\r\nDATA\r\n"),
	  .out = T(TX_R "451 4.3.0 Error: cannot deliver now\r\n") },
	{ "DATA: two messages pipelined back to back",
	  .in = T(TX "DATA\r\n" MSG ".\r\n" MAIL RCPT "DATA\r\n" MSG
	    ".\r\n"),
	  .out = T(TX_R DATA_R QUEUED MAIL_R RCPT_R DATA_R QUEUED),
	  .alice = 2, .tail = MSG_LF },
	{ "pipelined: a whole session in one write, QUIT closes",
	  .in = T(TX "DATA\r\n" MSG ".\r\nQUIT\r\n"),
	  .out = T(TX_R DATA_R QUEUED BYE), .closed = 1, .alice = 1 },
	{ "pipelined: 300 NOOPs, more replies than the output buffer",
	  .in = TF("", "NOOP\r\n", 300, ""), .out = TF("", OK, 300, "") },
	{ "BDAT: a message in two chunks",
	  .in = T(TX "BDAT 15\r\nSubject: test\r\nBDAT 10 LAST\r\n"
	    "\r\nHello.\r\n"),
	  .out = T(TX_R "250 2.0.0 14 octets received\r\n" QUEUED),
	  .alice = 1, .head = HEAD_A, .tail = MSG_LF },
	{ "BDAT: a chunk, then BDAT 0 LAST ends the message",
	  .in = T(TX "BDAT 25\r\n" MSG "BDAT 0 LAST\r\n"),
	  .out = T(TX_R "250 2.0.0 22 octets received\r\n" QUEUED),
	  .alice = 1, .tail = MSG_LF },
	{ "BDAT: a last line without CR LF is completed",
	  .in = T(TX "BDAT 23 LAST\r\nSubject: test\r\n\r\nHello."),
	  .out = T(TX_R QUEUED), .alice = 1, .tail = MSG_LF },
	{ "BDAT: a chunk split over two reads",
	  .in = T(TX "BDAT 25 LAST\r\nSubject: test\r"),
	  .in2 = T("\n\r\nHello.\r\nNOOP\r\n"),
	  .out = T(TX_R QUEUED OK), .alice = 1, .tail = MSG_LF },
	{ "RSET: 250, the transaction is gone",
	  .in = T(TX "RSET\r\nDATA\r\n"), .out = T(TX_R OK E503RCPT) },
	{ "RSET mid-transaction, then a new MAIL works",
	  .in = T(EHLO MAIL "RSET\r\n" MAIL RCPT "DATA\r\n" MSG ".\r\n"),
	  .out = T(EHLO_R MAIL_R OK MAIL_R RCPT_R DATA_R QUEUED),
	  .alice = 1 },
	{ "RSET between BDAT chunks drops the message",
	  .in = T(TX "BDAT 15\r\nSubject: test\r\nRSET\r\nBDAT 3 LAST\r\n"
	    "abcNOOP\r\n"),
	  .out = T(TX_R "250 2.0.0 14 octets received\r\n" OK E503RCPT OK) },
	{ "RSET before HELO: still no MAIL before HELO",
	  .in = T("RSET\r\n" MAIL), .out = T(OK E503HELO) },
	{ "EHLO in a transaction resets it",
	  .in = T(TX EHLO "DATA\r\n"), .out = T(TX_R EHLO_R E503RCPT) },
	{ "NOOP: 250", .in = T("NOOP\r\n"), .out = T(OK) },
	{ "NOOP with an argument: 250",
	  .in = T("NOOP whatever\r\n"), .out = T(OK) },
	{ "HELP: 214",
	  .in = T("HELP\r\n"),
	  .out = T("214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET "
	    "NOOP VRFY QUIT; see RFC 5321\r\n") },
	{ "VRFY: 252, accounts not revealed",
	  .in = T("VRFY alice\r\n"),
	  .out = T("252 2.5.2 Cannot VRFY user, but will accept message "
	    "and attempt delivery\r\n") },
	{ "EXPN: 502", .in = T("EXPN staff\r\n"), .out = T(E502) },
	{ "TURN: 502", .in = T("TURN\r\n"), .out = T(E502) },
	{ "ATRN: 502", .in = T("ATRN example.test\r\n"), .out = T(E502) },
	{ "ETRN: 502", .in = T("ETRN example.test\r\n"), .out = T(E502) },
	{ "STARTTLS: 502 (not offered)",
	  .in = T(EHLO "STARTTLS\r\n"), .out = T(EHLO_R E502) },
	{ "AUTH PLAIN from loopback (tls_auth_only allows it): 235",
	  .in = T(EHLO "AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdAB4\r\n"),
	  .out = T(EHLO_R "235 2.7.0 Authentication successful\r\n") },
	{ "QUIT: 221 and closed",
	  .in = T("QUIT\r\nNOOP\r\n"), .out = T(BYE), .closed = 1 },
	{ "QUIT mid-transaction: nothing delivered",
	  .in = T(TX "QUIT\r\n"), .out = T(TX_R BYE), .closed = 1 },
	{ "idle timeout: 421 4.4.2 and closed",
	  .in = T(EHLO), .then = THEN_TIMEOUT,
	  .out = T(EHLO_R "421 4.4.2 " HOST " Error: timeout exceeded\r\n"),
	  .closed = 1 },
	{ "idle timeout in DATA: 421, nothing delivered",
	  .in = T(TX "DATA\r\nSubject: test\r\n"), .then = THEN_TIMEOUT,
	  .out = T(TX_R DATA_R "421 4.4.2 " HOST " Error: timeout "
	    "exceeded\r\n"),
	  .closed = 1 },
	{ "shutdown between commands: 421 4.3.2 and closed",
	  .in = T(EHLO), .then = THEN_DRAIN,
	  .out = T(EHLO_R "421 4.3.2 " HOST " Service shutting down\r\n"),
	  .closed = 1 },
	{ "shutdown in DATA: the message is finished first",
	  .in = T(TX "DATA\r\nSubject: test\r\n"), .then = THEN_DRAIN,
	  .in2 = T("\r\nHello.\r\n.\r\nNOOP\r\n"),
	  .out = T(TX_R DATA_R QUEUED "421 4.3.2 " HOST " Service shutting "
	    "down\r\n"),
	  .closed = 1, .alice = 1, .tail = MSG_LF },
	{ "shutdown in BDAT: the message is finished first",
	  .in = T(TX "BDAT 25 LAST\r\nSubject: test\r\n"),
	  .then = THEN_DRAIN, .in2 = T("\r\nHello.\r\n"),
	  .out = T(TX_R QUEUED "421 4.3.2 " HOST " Service shutting "
	    "down\r\n"),
	  .closed = 1, .alice = 1, .tail = MSG_LF },
	{ "Delivered-To: of the only mailbox: 554 5.4.6 forwarding loop",
	  .in = T(TX "DATA\r\nDelivered-To: alice@example.test\r\n" MSG
	    ".\r\n"),
	  .out = T(TX_R DATA_R "554 5.4.6 Mail forwarding loop\r\n") },
	{ "Delivered-To: of one of two mailboxes: only the other gets it",
	  .in = T(TX "RCPT TO:<bob@example.test>\r\nDATA\r\n"
	    "Delivered-To: <Alice@Example.Test>\r\n" MSG ".\r\n"),
	  .out = T(TX_R RCPT_R DATA_R QUEUED), .bob = 1 },
};

/* At least half bad: every row here is malformed or hostile. */
static const struct scase hostile[] = {
	{ "NUL byte in a command: 500 5.5.2",
	  .in = T("NO\0OP\r\nNOOP\r\n"), .out = T(E500NUL OK) },
	{ "NUL byte in an address: 500 5.5.2, no transaction",
	  .in = T(EHLO "MAIL FROM:<a\0@b.example>\r\n" RCPT),
	  .out = T(EHLO_R E500NUL E503MAIL) },
	{ "NUL byte in EHLO: 500 5.5.2, still no EHLO",
	  .in = T("EHLO a\0b\r\n" MAIL),
	  .out = T(E500NUL E503HELO) },
	{ "NUL byte in the message: 554 5.6.0",
	  .in = T(TX "DATA\r\nSubject: x\r\n\r\nA\0B\r\n.\r\nNOOP\r\n"),
	  .out = T(TX_R DATA_R "554 5.6.0 Message refused: NUL character "
	    "in message\r\n" OK) },
	{ "NUL byte in a BDAT chunk: 554 5.6.0",
	  .in = T(TX "BDAT 5 LAST\r\nA\0B\r\n"),
	  .out = T(TX_R "554 5.6.0 Message refused: NUL character in "
	    "message\r\n") },
	{ "600-octet command line: 500 5.5.2, then NOOP answered",
	  .in = TF("", "A", 600, "\r\nNOOP\r\n"), .out = T(E500LONG OK) },
	{ "6000 octets without LF, more than the input buffer, then NOOP",
	  .in = TF("", "A", 6000, "\r\nNOOP\r\n"), .out = T(E500LONG OK) },
	{ "overlong MAIL does not start a transaction",
	  .in = TF(EHLO "MAIL FROM:<", "a", 600, "@b.example>\r\n" RCPT),
	  .out = T(EHLO_R E500LONG E503MAIL) },
	{ "510 octets and CR LF (512) is still a command",
	  .in = TF("NOOP ", "a", 505, "\r\n"), .out = T(OK) },
	{ "empty command line: 500",
	  .in = T("\r\n"), .out = T(E500) },
	{ "unknown command: 500",
	  .in = T("XYZZY\r\n"), .out = T(E500) },
	{ "bare LF ends a command line",
	  .in = T("NOOP\nNOOP\n"), .out = T(OK OK) },
	{ "bare CR inside a command: not a verb",
	  .in = T("NOOP\rRSET\r\n"), .out = T(E500) },
	{ "HTTP request on the SMTP port",
	  .in = T("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
	  .out = T(E500 E500 E500) },
	{ "bare LF in DATA: 554 5.6.0",
	  .in = T(TX "DATA\r\nSubject: x\n\nbody\r\n.\r\n"),
	  .out = T(TX_R DATA_R E554BARE) },
	{ "bare CR in DATA: 554 5.6.0",
	  .in = T(TX "DATA\r\nSubject: x\r\n\r\na\rb\r\n.\r\n"),
	  .out = T(TX_R DATA_R E554BARE) },
	{ "<LF>.<CR><LF> does not end DATA (smuggling)",
	  .in = T(TX "DATA\r\nSubject: x\r\n\r\nbody\n.\r\n"
	    "MAIL FROM:<evil@remote.example>\r\n"
	    "RCPT TO:<bob@example.test>\r\nDATA\r\n\r\nsmuggled\r\n.\r\n"
	    "NOOP\r\n"),
	  .out = T(TX_R DATA_R E554BARE OK) },
	{ "<CR><LF>.<LF> does not end DATA",
	  .in = T(TX "DATA\r\nSubject: x\r\n\r\nbody\r\n.\nRSET\r\n.\r\n"),
	  .out = T(TX_R DATA_R E554BARE) },
	{ "<CR>.<CR><LF> does not end DATA",
	  .in = T(TX "DATA\r\nSubject: x\r\n\r\nbody\r.\r\nRSET\r\n.\r\n"),
	  .out = T(TX_R DATA_R E554BARE) },
	{ "pipelined garbage after DATA's end: 250, then 500s",
	  .in = T(TX "DATA\r\n" MSG ".\r\nGARBAGE\r\n\x80\xff\r\nNOOP\r\n"),
	  .out = T(TX_R DATA_R QUEUED E500 E500 OK),
	  .alice = 1, .tail = MSG_LF },
	{ "a line of 999 octets in DATA: 554 5.6.0",
	  .in = T(TX "DATA\r\nSubject: long\r\n\r\n" X998
	    "x\r\n.\r\nNOOP\r\n"),
	  .out = T(TX_R DATA_R "554 5.6.0 Message refused: line longer "
	    "than 998 characters\r\n" OK) },
	{ "a 5000-octet line in DATA: refused, framing kept",
	  .in = TF(TX "DATA\r\nSubject: long\r\n\r\n", X500, 10,
	    "\r\n.\r\nNOOP\r\n"),
	  .out = T(TX_R DATA_R "554 5.6.0 Message refused: line longer "
	    "than 998 characters\r\n" OK) },
	{ "51 Received: headers: 554 5.4.6",
	  .in = TF(TX "DATA\r\n", "Received: from a by b; x\r\n", 51,
	    "\r\nbody\r\n.\r\n"),
	  .out = T(TX_R DATA_R "554 5.4.6 Too many hops (Received: "
	    "headers), mail loop?\r\n") },
	{ "DATA one octet over the size limit: 552 5.3.4",
	  .in = TF(TX "DATA\r\n" X500 "xxxxxxxxxxx\r\n",
	    X500 "xxxxxxxxxx\r\n", 19, ".\r\nNOOP\r\n"),
	  .out = T(TX_R DATA_R E552 OK) },
	{ "DATA far over the size limit: 552, read to its end",
	  .in = TF(TX "DATA\r\n", X500 "\r\n", 60, ".\r\nNOOP\r\n"),
	  .out = T(TX_R DATA_R E552 OK) },
	{ "BDAT chunk over the size limit: 552 5.3.4",
	  .in = TF(TX "BDAT 12000 LAST\r\n", "xxxxxxxxxx\r\n", 1000,
	    "NOOP\r\n"),
	  .out = T(TX_R E552 OK) },
	{ "BDAT of empty lines: the size sent counts, not the LFs stored",
	  .in = TF(TX "BDAT 10242 LAST\r\n", "\r\n", 5121, "NOOP\r\n"),
	  .out = T(TX_R E552 OK) },
	{ "BDAT of empty lines exactly at the size limit: delivered",
	  .in = TF(TX "BDAT 10240 LAST\r\n", "\r\n", 5120, "NOOP\r\n"),
	  .out = T(TX_R QUEUED OK), .alice = 1 },
	{ "BDAT with a bare LF in the chunk: 554 5.6.0",
	  .in = T(TX "BDAT 14 LAST\r\nSubject: x\n\nab"),
	  .out = T(TX_R E554BARE) },
	{ "BDAT with a non-numeric size: 501, 421, closed",
	  .in = T(TX "BDAT ten\r\nNOOP\r\n"),
	  .out = T(TX_R BDAT_LOST), .closed = 1 },
	{ "BDAT with a negative size: 421, closed",
	  .in = T(TX "BDAT -5\r\n"), .out = T(TX_R BDAT_LOST), .closed = 1 },
	{ "BDAT without a size: 421, closed",
	  .in = T(TX "BDAT\r\n"), .out = T(TX_R BDAT_LOST), .closed = 1 },
	{ "BDAT with a 20-digit size: 421, closed",
	  .in = T(TX "BDAT 18446744073709551616 LAST\r\n"),
	  .out = T(TX_R BDAT_LOST), .closed = 1 },
	{ "BDAT with junk after LAST: 421, closed",
	  .in = T(TX "BDAT 5 LASTX\r\nhello"),
	  .out = T(TX_R BDAT_LOST), .closed = 1 },
	{ "BDAT with a size in hex: 421, closed",
	  .in = T(TX "BDAT 0x10\r\n"), .out = T(TX_R BDAT_LOST), .closed = 1 },
	{ "BDAT without MAIL: 503, chunk discarded, next command works",
	  .in = T(EHLO "BDAT 6\r\nQUIT\r\nNOOP\r\n"),
	  .out = T(EHLO_R E503RCPT OK) },
	{ "BDAT before EHLO: 503, discarded, still no MAIL",
	  .in = T("BDAT 4 LAST\r\nQUIT" MAIL),
	  .out = T(E503RCPT E503HELO) },
	{ "BDAT after MAIL without RCPT: 554 5.5.1, discarded",
	  .in = T(EHLO MAIL "BDAT 6\r\nQUIT\r\n" RCPT),
	  .out = T(EHLO_R MAIL_R E554NORCPT RCPT_R) },
	{ "BDAT after refused recipients only: 554 5.5.1, discarded",
	  .in = T(EHLO MAIL "RCPT TO:<nobody@example.test>\r\n"
	    "BDAT 6 LAST\r\nQUIT\r\nNOOP\r\n"),
	  .out = T(EHLO_R MAIL_R "550 5.1.1 <nobody@example.test>: "
	    "Recipient address rejected: User unknown\r\n" E554NORCPT OK) },
	{ "BDAT 0 LAST with no data at all: an empty message refused",
	  .in = T(TX "BDAT 0 LAST\r\n" RCPT),
	  .out = T(TX_R E554EMPTY E503MAIL) },
	{ "BDAT 0, BDAT 0 LAST: still zero octets, refused",
	  .in = T(TX "BDAT 0\r\nBDAT 0 LAST\r\nNOOP\r\n"),
	  .out = T(TX_R "250 2.0.0 0 octets received\r\n" E554EMPTY OK) },
	{ "BDAT 0 without LAST: 250 0 octets, the message goes on",
	  .in = T(TX "BDAT 0\r\nBDAT 25 LAST\r\n" MSG),
	  .out = T(TX_R "250 2.0.0 0 octets received\r\n" QUEUED),
	  .alice = 1, .tail = MSG_LF },
	{ "BDAT size shorter than the data: the rest are commands",
	  .in = T(TX "BDAT 3 LAST\r\nabcNOOP\r\n"),
	  .out = T(TX_R QUEUED OK), .alice = 1, .tail = "\nabc\n" },
	{ "BDAT size longer than the data: waits, nothing delivered",
	  .in = T(TX "BDAT 100 LAST\r\nshort\r\nQUIT\r\n"),
	  .out = T(TX_R) },
	{ "BDAT chunk holding a whole smuggled SMTP session",
	  .in = T(TX "BDAT 53 LAST\r\nSubject: x\r\n\r\n.\r\n"
	    "MAIL FROM:<e@remote.example>\r\nRSET\r\n"),
	  .out = T(TX_R QUEUED), .alice = 1,
	  .tail = "Subject: x\n\n.\nMAIL FROM:<e@remote.example>\nRSET\n" },
	{ "DATA in a BDAT transaction: 503 (RFC 3030 3)",
	  .in = T(TX "BDAT 8\r\nHello.\r\nDATA\r\nRSET\r\n"),
	  .out = T(TX_R "250 2.0.0 7 octets received\r\n"
	    "503 5.5.1 Error: DATA after BDAT\r\n" OK) },
	{ "BDAT after a chunk that failed: no truncated message",
	  .in = T(EHLO MAIL "RCPT TO:<carol@example.test>\r\n"
	    "BDAT 7\r\nfirst\r\n"),
	  .then = THEN_UNBLOCK, .in2 = T("BDAT 8 LAST\r\nsecond\r\n"),
	  .out = T(TX_R "451 4.3.0 Error: cannot deliver now\r\n"
	    E503RCPT) },
	{ "DATA with no recipients: 554 5.5.1",
	  .in = T(EHLO MAIL "DATA\r\n" MSG ".\r\n"),
	  .out = T(EHLO_R MAIL_R E554NORCPT E500 E500 E500 E500) },
	{ "DATA after only refused recipients: 554 5.5.1",
	  .in = T(EHLO MAIL "RCPT TO:<nobody@example.test>\r\nDATA\r\n"),
	  .out = T(EHLO_R MAIL_R "550 5.1.1 <nobody@example.test>: "
	    "Recipient address rejected: User unknown\r\n" E554NORCPT) },
	{ "DATA before MAIL: 503",
	  .in = T(EHLO "DATA\r\n"), .out = T(EHLO_R E503RCPT) },
	{ "DATA before EHLO: 503",
	  .in = T("DATA\r\n"), .out = T(E503RCPT) },
	{ "DATA with an argument: 501, no DATA state",
	  .in = T(TX "DATA now\r\nNOOP\r\n"), .out = T(TX_R E501ARG OK) },
	{ "MAIL before EHLO: 503",
	  .in = T(MAIL), .out = T(E503HELO) },
	{ "nested MAIL: 503",
	  .in = T(EHLO MAIL MAIL), .out = T(EHLO_R MAIL_R
	    "503 5.5.1 Error: nested MAIL command\r\n") },
	{ "RCPT before MAIL: 503",
	  .in = T(EHLO RCPT), .out = T(EHLO_R E503MAIL) },
	{ "RCPT before EHLO: 503",
	  .in = T(RCPT), .out = T(E503MAIL) },
	{ "8-bit recipient without SMTPUTF8: 553 5.6.7",
	  .in = T(EHLO MAIL "RCPT TO:<j\xc3\xb6rg@example.test>\r\n"),
	  .out = T(EHLO_R MAIL_R "553 5.6.7 <j\xc3\xb6rg@example.test>: "
	    "address needs SMTPUTF8\r\n") },
	{ "8-bit sender without SMTPUTF8: 553 5.6.7",
	  .in = T(EHLO "MAIL FROM:<j\xc3\xb6rg@remote.example>\r\n"),
	  .out = T(EHLO_R "553 5.6.7 Address with UTF-8 needs SMTPUTF8\r\n") },
	{ "8-bit sender with SMTPUTF8, then an unknown 8-bit recipient",
	  .in = T(EHLO "MAIL FROM:<j\xc3\xb6rg@remote.example> SMTPUTF8\r\n"
	    "RCPT TO:<j\xc3\xb6rg@example.test>\r\n"),
	  .out = T(EHLO_R MAIL_R "550 5.1.1 <j\xc3\xb6rg@example.test>: "
	    "Recipient address rejected: User unknown\r\n") },
	{ "invalid UTF-8 in EHLO is kept, not a crash",
	  .in = T("EHLO \xff\xfe\xc3\r\n"), .out = T(EHLO_R) },
	{ "unknown MAIL parameter: 555",
	  .in = T(EHLO "MAIL FROM:<a@b.example> FOO=bar\r\n"),
	  .out = T(EHLO_R E555) },
	{ "BODY=BINARYMIME (not offered): 555",
	  .in = T(EHLO "MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n"),
	  .out = T(EHLO_R E555) },
	{ "a RCPT parameter on MAIL: 555",
	  .in = T(EHLO "MAIL FROM:<a@b.example> NOTIFY=NEVER\r\n"),
	  .out = T(EHLO_R E555) },
	{ "a MAIL parameter on RCPT: 555",
	  .in = T(EHLO MAIL "RCPT TO:<alice@example.test> SIZE=10\r\n"),
	  .out = T(EHLO_R MAIL_R E555) },
	{ "SIZE not a number: 501 5.5.4",
	  .in = T(EHLO "MAIL FROM:<a@b.example> SIZE=ten\r\n"),
	  .out = T(EHLO_R "501 5.5.4 Bad parameter value\r\n") },
	{ "SIZE given twice: 501 5.5.4",
	  .in = T(EHLO "MAIL FROM:<a@b.example> SIZE=1 SIZE=2\r\n"),
	  .out = T(EHLO_R "501 5.5.4 Bad parameter value\r\n") },
	{ "SIZE of 20 digits: 501 5.5.4",
	  .in = T(EHLO "MAIL FROM:<a@b.example> SIZE=99999999999999999999"
	    "\r\n"),
	  .out = T(EHLO_R "501 5.5.4 Bad parameter value\r\n") },
	{ "HELO without a domain: 501",
	  .in = T("HELO\r\n"),
	  .out = T("501 5.5.4 Syntax: HELO hostname\r\n") },
	{ "EHLO without a domain: 501",
	  .in = T("EHLO   \r\n"),
	  .out = T("501 5.5.4 Syntax: EHLO hostname\r\n") },
	{ "EHLO with a control character: 501",
	  .in = T("EHLO a\x01" "b\r\n"),
	  .out = T("501 5.5.4 Syntax: bad hostname\r\n") },
	{ "EHLO with a 400-octet name: accepted, kept short",
	  .in = TF("EHLO ", "h", 400, "\r\n" MAIL RCPT "DATA\r\n" MSG
	    ".\r\n"),
	  .out = T(TX_R DATA_R QUEUED), .alice = 1, .tail = MSG_LF },
	{ "MAIL with an unterminated path: 501",
	  .in = T(EHLO "MAIL FROM:<a@b.example\r\n"),
	  .out = T(EHLO_R "501 5.5.4 Syntax: MAIL FROM:<address>\r\n") },
	{ "MAIL with a bad address: 501 5.1.7",
	  .in = T(EHLO "MAIL FROM:<a@@b>\r\n"),
	  .out = T(EHLO_R "501 5.1.7 Bad sender address syntax\r\n") },
	{ "MAIL with junk after the path: 501",
	  .in = T(EHLO "MAIL FROM:<a@b.example>junk\r\n"),
	  .out = T(EHLO_R "501 5.5.4 Syntax: MAIL FROM:<address>\r\n") },
	{ "RCPT TO:<>: 501 5.1.3",
	  .in = T(EHLO MAIL "RCPT TO:<>\r\n"),
	  .out = T(EHLO_R MAIL_R "501 5.1.3 Bad recipient address "
	    "syntax\r\n") },
	{ "RCPT without TO:: 501",
	  .in = T(EHLO MAIL "RCPT alice@example.test\r\n"),
	  .out = T(EHLO_R MAIL_R "501 5.5.4 Syntax: RCPT TO:<address>\r\n") },
	{ "RCPT with a 65-octet local part: 501 5.1.3",
	  .in = TF(EHLO MAIL "RCPT TO:<", "a", 65, "@example.test>\r\n"),
	  .out = T(EHLO_R MAIL_R "501 5.1.3 Bad recipient address "
	    "syntax\r\n") },
	{ "QUIT with an argument: 501, still open",
	  .in = T("QUIT now\r\n"), .out = T(E501ARG) },
	{ "STARTTLS with an argument: 501",
	  .in = T("STARTTLS x\r\n"), .out = T(E501ARG) },
	{ "VRFY without an argument: 501",
	  .in = T("VRFY\r\n"),
	  .out = T("501 5.5.4 Syntax: VRFY address\r\n") },
	{ "EXPN without an argument: 501",
	  .in = T("EXPN\r\n"), .out = T("501 5.5.4 Syntax: EXPN list\r\n") },
	{ "pipelined garbage between commands, with a NUL",
	  .in = T("NOOP\r\nGAR\0BAGE\r\n\x01\x02\x03\r\nNOOP\r\n"),
	  .out = T(OK E500NUL E500 OK) },
	{ "10 errors: 421 4.7.0 and closed, the rest unread",
	  .in = TF("", "XYZZY\r\n", 10, "NOOP\r\n"),
	  .out = TF("", E500, 10, "421 4.7.0 " HOST " Error: too many "
	    "errors\r\n"),
	  .closed = 1 },
	{ "10 errors in a transaction: closed, nothing delivered",
	  .in = TF(TX, "RCPT TO:<nobody@example.test>\r\n", 10,
	    "DATA\r\n" MSG ".\r\n"),
	  .out = TF(TX_R, "550 5.1.1 <nobody@example.test>: Recipient "
	    "address rejected: User unknown\r\n", 10, "421 4.7.0 " HOST
	    " Error: too many errors\r\n"),
	  .closed = 1 },
	{ "9 errors then good commands: still served",
	  .in = TF("", "XYZZY\r\n", 9, "NOOP\r\n"),
	  .out = TF("", E500, 9, OK) },
	{ "relay attempts from outside count as errors",
	  .peer = OUT,
	  .in = TF(EHLO MAIL, "RCPT TO:<x@remote.example>\r\n", 10, ""),
	  .out = TF(EHLO_R_OUT MAIL_R, "554 5.7.1 <x@remote.example>: Relay "
	    "access denied\r\n", 10, "421 4.7.0 " HOST " Error: too many "
	    "errors\r\n"),
	  .closed = 1 },
	{ "a forged source route is stripped, then resolved",
	  .peer = OUT,
	  .in = T(EHLO MAIL "RCPT TO:<@relay.example:x@remote.example>\r\n"),
	  .out = T(EHLO_R_OUT MAIL_R "554 5.7.1 <x@remote.example>: Relay "
	    "access denied\r\n") },

	/* smtpd_forbid_unauth_pipelining (Postfix 3.9): port 25, no AUTH. */
	{ "message sent with DATA, before the 354: 554 5.5.0, closed",
	  .peer = OUT, .in = T(EHLO MAIL RCPT),
	  .in2 = T("DATA\r\n" MSG ".\r\nQUIT\r\n"), .burst = 1,
	  .out = T(EHLO_R_OUT MAIL_R RCPT_R E554SYNC), .closed = 1 },
	{ "the same from mynetworks: not AUTH, refused too",
	  .in = T(EHLO MAIL RCPT),
	  .in2 = T("DATA\r\n" MSG ".\r\n"), .burst = 1,
	  .out = T(TX_R E554SYNC), .closed = 1 },
	{ "a smuggled message behind DATA: 554 5.5.0 before any 354",
	  .peer = OUT, .in = T(EHLO MAIL RCPT),
	  .in2 = T("DATA\r\n" MSG "\n.\n" MAIL RCPT "DATA\r\n" MSG
	    ".\r\n"), .burst = 1,
	  .out = T(EHLO_R_OUT MAIL_R RCPT_R E554SYNC), .closed = 1 },
	{ "EHLO with MAIL in the same write: 554 5.5.0, EHLO unanswered",
	  .peer = OUT, .in2 = T(EHLO MAIL), .burst = 1,
	  .out = T(E554SYNC), .closed = 1 },
	{ "commands before EHLO offered PIPELINING (after HELO): 554",
	  .peer = OUT, .in = T("HELO client.example\r\n"),
	  .in2 = T(MAIL RCPT), .burst = 1,
	  .out = T("250 " HOST "\r\n" E554SYNC), .closed = 1 },
	{ "NOOP ends a group: MAIL behind it refused",
	  .peer = OUT, .in = T(EHLO), .in2 = T("NOOP\r\n" MAIL),
	  .burst = 1, .out = T(EHLO_R_OUT E554SYNC), .closed = 1 },
	{ "MAIL, RCPT, DATA in one write (RFC 2920): answered together",
	  .peer = OUT, .in = T(EHLO), .in2 = T(MAIL RCPT "DATA\r\n"),
	  .burst = 1, .out = T(EHLO_R_OUT MAIL_R RCPT_R DATA_R) },
	{ "BDAT chunks and the message in one write: allowed (RFC 3030)",
	  .peer = OUT, .in = T(EHLO),
	  .in2 = T(MAIL RCPT "BDAT 10\r\nSubject: tBDAT 15 LAST\r\n"
	    "est\r\n\r\nHello.\r\nNOOP\r\n"), .burst = 1,
	  .out = T(EHLO_R_OUT MAIL_R RCPT_R "250 2.0.0 10 octets received\r\n"
	    QUEUED OK), .alice = 1, .tail = MSG_LF },
	{ "QUIT with more behind it: 221, no 554",
	  .peer = OUT, .in = T(EHLO), .in2 = T("QUIT\r\nNOOP\r\n"),
	  .burst = 1, .out = T(EHLO_R_OUT BYE), .closed = 1 },
	{ "after AUTH the message may follow DATA at once",
	  .in = T(EHLO AUTH_A),
	  .in2 = T("MAIL FROM:<alice@example.test>\r\n" RCPT "DATA\r\n"
	    MSG ".\r\n"), .burst = 1,
	  .out = T(EHLO_R AUTH_R MAIL_R RCPT_R DATA_R QUEUED), .alice = 1,
	  .tail = MSG_LF },
};

static void
test_commands(void **state)
{
	(void)state;
	run_table(commands, sizeof commands / sizeof commands[0]);
}

static void
test_hostile(void **state)
{
	(void)state;
	run_table(hostile, sizeof hostile / sizeof hostile[0]);
}

/* The line a refused client gets (conn.c sends it before close). */
static void
test_refusal(void **state)
{
	(void)state;
	assert_string_equal(smtp_proto.refusal(CONN_REFUSE_FULL),
	    "421 4.3.2 Service not available, too many connections\r\n");
	assert_string_equal(smtp_proto.refusal(CONN_REFUSE_PER_IP),
	    "421 4.3.2 Too many connections from your address\r\n");
	assert_string_equal(smtp_proto.refusal(CONN_REFUSE_SHUTDOWN),
	    "421 4.3.2 Service shutting down\r\n");
}

/* Sends one message and leaves it waiting for the commit. */
static struct conn *
message_waiting(void)
{
	static const char in[] = TX "DATA\r\n" MSG ".\r\n";
	static const char want[] = TX_R DATA_R;
	struct conn *c = conn_new(1);

	outlen = 0;
	feed(c, in, sizeof in - 1, 0, 0);
	assert_true(output_matches(want, sizeof want - 1, outbuf, outlen));
	assert_true(commit_pending());
	return c;
}

/* Two messages complete in the same turn share both commit rounds:
 * one round renames both, the next acknowledges both. */
static void
test_group_commit(void **state)
{
	struct conn *a, *b;
	struct store_txn_stats sts;
	uint64_t batches;

	(void)state;
	fresh_store();
	a = message_waiting();
	b = message_waiting();
	store_txn_stats(&sts);
	batches = sts.rounds;
	conn_table_run_pre_flush(&f.t);
	assert_int_equal(a->out.len + b->out.len, 0);
	assert_int_equal(count("example.test/alice/Maildir/new"), 2);
	assert_int_equal(count("example.test/alice/Maildir/tmp"), 0);
	conn_table_run_pre_flush(&f.t);
	assert_false(commit_pending());
	store_txn_stats(&sts);
	assert_int_equal(sts.rounds, batches + 2);
	outlen = 0;
	take_output(a);
	assert_true(output_matches(QUEUED, sizeof QUEUED - 1, outbuf,
	    outlen));
	outlen = 0;
	take_output(b);
	assert_true(output_matches(QUEUED, sizeof QUEUED - 1, outbuf,
	    outlen));
	conn_finish(a);
	conn_finish(b);
	failures = 0;
	check_idle("group commit");
	assert_int_equal(failures, 0);
}

/* A client gone before its 250 must not get a copy delivered: it will
 * send the message again (smtp_deliver_cancel). */
static void
test_gone_before_commit(void **state)
{
	struct conn *c;

	(void)state;
	fresh_store();
	c = message_waiting();
	conn_finish(c);
	failures = 0;
	check_idle("gone before commit");
	assert_int_equal(failures, 0);
	assert_int_equal(count("example.test/alice/Maildir/new"), 0);
	assert_int_equal(count("example.test/alice/Maildir/tmp"), 0);
}

static void
test_gone_after_rename(void **state)
{
	struct conn *c;

	(void)state;
	fresh_store();
	c = message_waiting();
	conn_table_run_pre_flush(&f.t);	/* renamed into new/ */
	assert_int_equal(count("example.test/alice/Maildir/new"), 1);
	assert_int_equal(c->out.len, 0);
	conn_finish(c);
	failures = 0;
	check_idle("gone after rename");
	assert_int_equal(failures, 0);
	assert_int_equal(count("example.test/alice/Maildir/new"), 0);
	assert_int_equal(count("example.test/alice/Maildir/tmp"), 0);
}

/* S= in the one file of a directory equals its size (a Junk copy is
 * named like any other). */
static void
size_named(const char *rel)
{
	char path[256], file[512];
	struct dirent *d;
	struct stat st;
	const char *sz;
	DIR *dp;
	int n = 0;

	path_of(path, sizeof path, rel);
	dp = opendir(path);
	assert_non_null(dp);
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.') {
			continue;
		}
		snprintf(file, sizeof file, "%s/%s", path, d->d_name);
		assert_int_equal(stat(file, &st), 0);
		sz = strstr(d->d_name, ",S=");
		assert_non_null(sz);
		assert_int_equal(strtoull(sz + 3, NULL, 10),
		    (unsigned long long)st.st_size);
		n++;
	}
	closedir(dp);
	assert_int_equal(n, 1);
}

/* One message to alice and bob, with smtp_deliver_junk(which) called
 * between the RCPTs and DATA, as the inbound checks do at its end. */
static struct conn *
junk_message(int which, int want_rc)
{
	static const char tx[] = EHLO MAIL RCPT
	    "RCPT TO:<bob@mail.example.test>\r\n";
	static const char data[] = "DATA\r\n" MSG ".\r\n";
	struct conn *c = conn_new(1);

	outlen = 0;
	feed(c, tx, sizeof tx - 1, 0, 0);
	assert_int_equal(smtp_deliver_junk(c->sess, which, "test"),
	    want_rc);
	feed(c, data, sizeof data - 1, 1, 0);
	assert_false(commit_pending());
	if (memmem(outbuf, outlen, "Ok: queued as", 13) == NULL) {
		fail_msg("%.*s", (int)outlen, outbuf);
	}
	return c;
}

/* smtp_deliver_junk: one mailbox, then all, into Maildir/.Junk/new,
 * the folder created as at IMAP's first login (with the others). */
static void
test_junk(void **state)
{
	struct conn *c;

	(void)state;
	fresh_store();
	c = junk_message(0, 0);		/* alice only */
	conn_finish(c);
	assert_int_equal(count("example.test/alice/Maildir/.Junk/new"), 1);
	assert_int_equal(count("example.test/alice/Maildir/new"), 0);
	assert_int_equal(count("example.test/alice/Maildir/tmp"), 0);
	/* cur new tmp maildirfolder, and the other special folders */
	assert_int_equal(count("example.test/alice/Maildir/.Junk"), 4);
	assert_int_equal(count("example.test/alice/Maildir/.Sent"), 4);
	size_named("example.test/alice/Maildir/.Junk/new");
	assert_int_equal(count("mail.example.test/bob/Maildir/new"), 1);
	assert_int_equal(count("mail.example.test/bob/Maildir/.Junk/new"), 0);
	fresh_store();
	c = junk_message(-1, 0);	/* every mailbox */
	conn_finish(c);
	assert_int_equal(count("example.test/alice/Maildir/.Junk/new"), 1);
	assert_int_equal(count("mail.example.test/bob/Maildir/.Junk/new"), 1);
	assert_int_equal(count("mail.example.test/bob/Maildir/new"), 0);
	assert_int_equal(count("mail.example.test/bob/Maildir/tmp"), 0);
	size_named("mail.example.test/bob/Maildir/.Junk/new");
	fresh_store();
	c = junk_message(7, -1);	/* no such target: INBOX */
	conn_finish(c);
	assert_int_equal(count("example.test/alice/Maildir/new"), 1);
	assert_int_equal(count("mail.example.test/bob/Maildir/new"), 1);
	failures = 0;
	check_idle("junk");
	assert_int_equal(failures, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_gone_before_commit),
		cmocka_unit_test(test_gone_after_rename),
		cmocka_unit_test(test_junk),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
