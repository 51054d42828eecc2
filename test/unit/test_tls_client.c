/* SPDX-License-Identifier: ISC */
/*
 * test_tls_client.c - the TLS client side (tls_client.h) and the pump
 * it shares with the server side, on the real event loop in this
 * process: a wren client connection talks to a wren server connection
 * over a socketpair or a loopback connection made by conn_connect, to
 * `openssl s_server` over loopback (SNI), or to the test itself playing
 * a broken server.
 *
 * Certificates are made with the openssl CLI at start, in a temporary
 * directory: a private CA with leaves for "mx.test" (EC and RSA), one
 * for "other.test", an expired one, and a self-signed one.
 *
 * Checked: TLS_VERIFY succeeds with the CA and fails on a self-signed,
 * wrong-name or expired certificate with the reason; TLS_OPPORTUNISTIC
 * completes every handshake and reports the verdict; data both ways;
 * close_notify; plaintext left from before STARTTLS dropped; SNI on
 * the wire and at s_server; a peer that is not TLS or hangs up; the
 * outbound slot pool (exhaustion, reuse, apart from the inbound one);
 * a missing CA bundle, the system bundle, reloads; the anchors kept
 * compact and on their own (the bundle file and buffers gone, chains
 * still verify), and hostile bundles.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/conn.h"
#include "core/connect.h"
#include "core/ev.h"
#include "core/log.h"
#include "tls/tls.h"
#include "tls/tls_client.h"

#define WAIT_MS		5000
#define CMD_TIMEOUT_S	60
#define MAX_OUT		2	/* outbound TLS slots */
#define MAX_IN		2	/* inbound TLS slots */

/* Makes the certificates; runs in the temporary directory. */
static const char certs_sh[] =
	"EC='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'\n"
	"openssl req -x509 $EC -keyout ca.key -out ca.crt -days 30 "
	"    -subj '/CN=wren test CA'\n"
	"leaf() {\n"
	"  openssl req -new $3 -keyout $1.key -out $1.csr -subj /CN=$2\n"
	"  printf 'subjectAltName=DNS:%s\\n' $2 > $1.ext\n"
	"  openssl x509 -req -in $1.csr -CA ca.crt -CAkey ca.key "
	"      -set_serial $4 -days 30 -extfile $1.ext -out $1.crt\n"
	"}\n"
	"leaf good mx.test \"$EC\" 2\n"
	"leaf rsa mx.test '-newkey rsa:2048 -nodes' 3\n"
	"leaf wrong other.test \"$EC\" 4\n"
	"openssl req -x509 $EC -keyout self.key -out self.crt -days 30 "
	"    -subj /CN=mx.test -addext subjectAltName=DNS:mx.test\n"
	"openssl req -new $EC -keyout old.key -out old.csr -subj /CN=mx.test\n"
	"printf '[ca]\\ndefault_ca = t\\n[t]\\ndatabase = index.txt\\n"
	"new_certs_dir = .\\nserial = serial\\ndefault_md = sha256\\n"
	"policy = p\\nx509_extensions = x\\nunique_subject = no\\n"
	"[p]\\ncommonName = supplied\\n[x]\\n"
	"subjectAltName = DNS:mx.test\\n' > ca.cnf\n"
	": > index.txt\n"
	"echo 05 > serial\n"
	"openssl ca -config ca.cnf -batch -cert ca.crt -keyfile ca.key "
	"    -in old.csr -out old.crt -notext "
	"    -startdate 20200101000000Z -enddate 20200201000000Z\n"
	"cat ca.crt self.crt > both.crt\n"
	"openssl req -x509 -newkey rsa:2048 -nodes -keyout rsaself.key "
	"    -out rsaself.crt -days 30 -subj /CN=mx.test "
	"    -addext subjectAltName=DNS:mx.test\n";

static struct ev ev;
static struct conn_table tab;
static char dir[] = "/tmp/wren-tls-client-XXXXXX";

/* What the client connections saw (one at a time, except the pool
 * tests, which count). */
static struct {
	const char	*name;		/* for the next tls_client_start */
	int		 mode;
	int		 started, start_failed, done, ok, verified, closed;
	char		 why[128], failure[128], version[16], cipher[64];
	char		 got[8192];
	size_t		 ngot;
	const char	*send;		/* written once the handshake ends */
	struct conn	*c;		/* the last one opened */
	int		 starttls;	/* TLS after "220 go" in the clear */
} cl;

static int srv_opened, srv_closed, srv_refused;

/* --- helpers ---------------------------------------------------------- */

static void
path(char *out, size_t cap, const char *file)
{
	snprintf(out, cap, "%s/%s", dir, file);
}

/* Runs argv in dir, output to dir/cmd.log; its exit status, or -1
 * when it outlives CMD_TIMEOUT_S (then it is killed). */
static int
run(char *const argv[])
{
	time_t end = time(NULL) + CMD_TIMEOUT_S;
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		if (chdir(dir) == -1) {
			_exit(127);
		}
		fd = open("cmd.log", O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (time(NULL) > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(20000);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The loop until cond holds or WAIT_MS passed; cond's last value. */
static int
run_until(int (*cond)(void))
{
	uint64_t end = ev_clock_ms() + WAIT_MS;

	while (!cond() && ev_clock_ms() < end) {
		ev_run_once(&ev, 10);
	}
	return cond();
}

static void
run_ms(uint64_t ms)
{
	uint64_t end = ev_clock_ms() + ms;

	while (ev_clock_ms() < end) {
		ev_run_once(&ev, 10);
	}
}

static int
cl_done(void)
{
	return cl.done > 0;
}

static int
cl_closed(void)
{
	return cl.closed > 0;
}

/* Every server connection opened (or refused) has closed. */
static int
srv_gone(void)
{
	return srv_closed == srv_opened + srv_refused;
}

static int
cl_got_echo(void)
{
	return cl.ngot > 0 && memchr(cl.got, '\n', cl.ngot) != NULL;
}

static void
cl_reset(const char *name, int mode)
{
	memset(&cl, 0, sizeof cl);
	cl.name = name;
	cl.mode = mode;
	cl.send = "PING hello\r\n";
}

/* --- the client protocol ------------------------------------------------ */

static void
on_tls(struct conn *c, int ok, void *arg)
{
	const char *v, *ciph, *why;

	(void)arg;
	cl.done++;
	cl.ok = ok;
	if (!ok) {
		snprintf(cl.failure, sizeof cl.failure, "%s", tls_failure(c));
		return;
	}
	cl.verified = tls_peer_verified(c, &why);
	snprintf(cl.why, sizeof cl.why, "%s", why);
	if (tls_info(c, &v, &ciph)) {
		snprintf(cl.version, sizeof cl.version, "%s", v);
		snprintf(cl.cipher, sizeof cl.cipher, "%s", ciph);
	}
	if (cl.send != NULL) {
		assert_int_equal(conn_write(c, cl.send, strlen(cl.send)), 0);
	}
}

static int
cli_open(struct conn *c)
{
	cl.c = c;
	if (cl.starttls) {
		return 0;
	}
	if (tls_client_start(c, cl.name, cl.mode, on_tls, NULL) == -1) {
		cl.start_failed++;
		return -1;
	}
	cl.started++;
	cl.c = c;
	return 0;
}

static void
cli_input(struct conn *c)
{
	size_t n = c->in.len;

	if (cl.starttls && cl.started == 0) {
		if (n >= 8 && memcmp(buf_head(&c->in), "220 go\r\n", 8) == 0) {
			conn_consume(c, 8);
			assert_int_equal(tls_client_start(c, cl.name, cl.mode,
			    on_tls, NULL), 0);
			cl.started++;
		}
		return;
	}
	if (n > sizeof cl.got - 1 - cl.ngot) {
		n = sizeof cl.got - 1 - cl.ngot;
	}
	memcpy(cl.got + cl.ngot, buf_head(&c->in), n);
	cl.ngot += n;
	cl.got[cl.ngot] = '\0';
	conn_consume(c, c->in.len);
}

static void
cli_close(struct conn *c)
{
	(void)c;
	cl.closed++;
}

static const struct proto cli_proto = {
	.name = "tcli",
	.open = cli_open,
	.input = cli_input,
	.close = cli_close,
};

/* --- the server protocol: implicit TLS, echoes lines, BYE closes --- */

static int
srv_open(struct conn *c)
{
	if (tls_start_now(c) == -1) {
		srv_refused++;
		return -1;
	}
	srv_opened++;
	return 0;
}

static void
srv_input(struct conn *c)
{
	const char *nl;

	while ((nl = memchr(buf_head(&c->in), '\n', c->in.len)) != NULL) {
		size_t n = (size_t)(nl - buf_head(&c->in)) + 1;

		if (n == 5 && memcmp(buf_head(&c->in), "BYE\r\n", 5) == 0) {
			conn_consume(c, n);
			conn_close(c);
			return;
		}
		conn_write(c, "ECHO ", 5);
		conn_write(c, buf_head(&c->in), n);
		conn_consume(c, n);
	}
}

static void
srv_close(struct conn *c)
{
	(void)c;
	srv_closed++;
}

static const struct proto srv_proto = {
	.name = "tsrv",
	.open = srv_open,
	.input = srv_input,
	.close = srv_close,
};

/* Gives fd to the table as a started connection of protocol p. */
static void
adopt(int fd, const struct proto *p)
{
	static const uint8_t lo[16] = { 127, 0, 0, 1 };
	struct conn *c;

	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	c = conn_adopt(&tab, fd, p, AF_INET, lo, 25);
	assert_non_null(c);
	assert_int_equal(conn_start(c), 0);
}

/* The wren server's pair: `name`.crt and .key. */
static void
use_pair(const char *name)
{
	char cert[256], key[256];
	char crt[64], k[64];

	snprintf(crt, sizeof crt, "%s.crt", name);
	snprintf(k, sizeof k, "%s.key", name);
	path(cert, sizeof cert, crt);
	path(key, sizeof key, k);
	assert_int_equal(tls_reload(cert, key, 1), 1);
}

/* A wren server with the pair `name` and a wren client. */
static void
pair_up(const char *name)
{
	int sv[2];

	use_pair(name);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	adopt(sv[0], &srv_proto);
	adopt(sv[1], &cli_proto);
}

/* Waits for both ends to have gone (their slots back in the pools). */
static void
settle(void)
{
	assert_true(run_until(cl_closed));
	assert_true(run_until(srv_gone));
	run_ms(20);
}

/* --- fixtures ------------------------------------------------------------ */

static int
group_setup(void **state)
{
	char *sh[] = { "sh", "-ec", (char *)certs_sh, NULL };
	char ca[256], cert[256], key[256];
	struct err e;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL) {
		return -1;
	}
	if (run(sh) != 0) {
		fprintf(stderr, "certificates: see %s/cmd.log\n", dir);
		return -1;
	}
	path(ca, sizeof ca, "ca.crt");
	path(cert, sizeof cert, "good.crt");
	path(key, sizeof key, "good.key");
	if (ev_init(&ev, 256, 64, &e) == -1 ||
	    conn_table_init(&tab, &ev, 16, 0, &e) == -1 ||
	    tls_init(MAX_IN, cert, key, &e) == -1 ||
	    tls_client_init(MAX_OUT, ca, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	char *rm[] = { "rm", "-rf", dir, NULL };

	(void)state;
	tls_client_shutdown();
	tls_shutdown();
	conn_table_destroy(&tab);
	ev_destroy(&ev);
	return run(rm) == 0 ? 0 : -1;
}

static int
test_setup(void **state)
{
	(void)state;
	srv_opened = srv_closed = srv_refused = 0;
	cl_reset("mx.test", TLS_VERIFY);
	return 0;
}

/* --- wren client, wren server ------------------------------------------- */

struct hs_case {
	const char	*desc;
	const char	*pair;		/* the server's certificate */
	const char	*name;		/* the client's SNI and name */
	int		 mode;
	int		 ok;		/* handshake completes */
	int		 verified;
	const char	*why;		/* in tls_peer_verified's or the
					 * failure's text */
	const char	*cipher;
};

static const struct hs_case hs_cases[] = {
	{ "verify: CA-signed EC leaf for the name", "good", "mx.test",
	    TLS_VERIFY, 1, 1, "verified", "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ "verify: CA-signed RSA leaf for the name", "rsa", "mx.test",
	    TLS_VERIFY, 1, 1, "verified", "ECDHE-RSA-AES128-GCM-SHA256" },
	{ "verify: the name in another case still matches", "good",
	    "MX.Test", TLS_VERIFY, 1, 1, "verified", NULL },
	{ "verify: self-signed fails", "self", "mx.test", TLS_VERIFY, 0, 0,
	    "unknown issuer", NULL },
	{ "verify: wrong name fails", "wrong", "mx.test", TLS_VERIFY, 0, 0,
	    "name mismatch", NULL },
	{ "verify: a parent domain is no match", "good", "test", TLS_VERIFY,
	    0, 0, "name mismatch", NULL },
	{ "verify: a subdomain is no match", "good", "a.mx.test",
	    TLS_VERIFY, 0, 0, "name mismatch", NULL },
	{ "verify: expired fails", "old", "mx.test", TLS_VERIFY, 0, 0,
	    "expired", NULL },
	{ "opportunistic: CA-signed, verified", "good", "mx.test",
	    TLS_OPPORTUNISTIC, 1, 1, "verified", NULL },
	{ "opportunistic: self-signed, encrypted, not verified", "self",
	    "mx.test", TLS_OPPORTUNISTIC, 1, 0, "unknown issuer",
	    "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ "opportunistic: wrong name, encrypted, not verified", "wrong",
	    "mx.test", TLS_OPPORTUNISTIC, 1, 0, "name mismatch", NULL },
	{ "opportunistic: expired, encrypted, not verified", "old",
	    "mx.test", TLS_OPPORTUNISTIC, 1, 0, "expired", NULL },
	{ "opportunistic: CA-signed RSA leaf, verified", "rsa", "mx.test",
	    TLS_OPPORTUNISTIC, 1, 1, "verified",
	    "ECDHE-RSA-AES128-GCM-SHA256" },
	{ "opportunistic: no name, no SNI: never verified", "good", NULL,
	    TLS_OPPORTUNISTIC, 1, 0, "no server name", NULL },
	{ "opportunistic: no name and an expired leaf", "old", "",
	    TLS_OPPORTUNISTIC, 1, 0, "expired", NULL },
};

static void
test_handshakes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof hs_cases / sizeof hs_cases[0]; i++) {
		const struct hs_case *k = &hs_cases[i];

		print_message("  %s\n", k->desc);
		test_setup(NULL);
		cl_reset(k->name, k->mode);
		pair_up(k->pair);
		assert_int_equal(cl.started, 1);
		assert_true(run_until(cl_done));
		assert_int_equal(cl.done, 1);
		assert_int_equal(cl.ok, k->ok);
		if (!k->ok) {
			assert_non_null(strstr(cl.failure, k->why));
			/* The core aborts the client; the server sees EOF. */
			settle();
			assert_int_equal(cl.done, 1);
			continue;
		}
		assert_int_equal(cl.verified, k->verified);
		assert_non_null(strstr(cl.why, k->why));
		assert_string_equal(cl.version, "TLSv1.2");
		if (k->cipher != NULL) {
			assert_string_equal(cl.cipher, k->cipher);
		}
		/* Data both ways, then the server closes (close_notify)
		 * and the client sees the end. */
		assert_true(run_until(cl_got_echo));
		assert_string_equal(cl.got, "ECHO PING hello\r\n");
		assert_int_equal(conn_write(cl.c, "BYE\r\n", 5), 0);
		settle();
		assert_int_equal(cl.done, 1);
	}
}

/* Bulk data: several lines, more than one record's worth each way. */
static void
test_bulk(void **state)
{
	static char big[3 * 1302 + 1];
	char want[3 * 1307 + 1];
	size_t off = 0;

	(void)state;
	for (int i = 0; i < 3; i++) {
		memset(big + i * 1302, 'a' + i, 1300);
		memcpy(big + i * 1302 + 1300, "\r\n", 2);
		memcpy(want + off, "ECHO ", 5);
		memcpy(want + off + 5, big + i * 1302, 1302);
		off += 1307;
	}
	want[off] = '\0';
	cl.send = big;
	pair_up("good");
	assert_true(run_until(cl_done));
	assert_int_equal(cl.ok, 1);
	for (uint64_t end = ev_clock_ms() + WAIT_MS; cl.ngot < off &&
	    ev_clock_ms() < end;) {
		ev_run_once(&ev, 10);
	}
	assert_int_equal(cl.ngot, off);
	assert_memory_equal(cl.got, want, off);
	assert_int_equal(conn_write(cl.c, "BYE\r\n", 5), 0);
	settle();
}

/* The outbound path as the queue uses it: conn_connect, then TLS from
 * the protocol's open hook once connected. */
static void
test_connect_out(void **state)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	struct conn *c;
	struct err e;
	uint64_t end;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fd = -1;

	(void)state;
	assert_true(lfd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(fcntl(lfd, F_SETFL, O_NONBLOCK), 0);
	use_pair("good");
	assert_int_equal(conn_connect(&tab, (struct sockaddr *)&sin,
	    sizeof sin, NULL, 0, &cli_proto, NULL, WAIT_MS, &c, &e), 0);
	for (end = ev_clock_ms() + WAIT_MS; fd == -1 &&
	    ev_clock_ms() < end;) {
		ev_run_once(&ev, 10);
		fd = accept(lfd, NULL, NULL);
	}
	assert_true(fd >= 0);
	adopt(fd, &srv_proto);
	assert_true(run_until(cl_done));
	assert_int_equal(cl.ok, 1);
	assert_int_equal(cl.verified, 1);
	assert_true(run_until(cl_got_echo));
	assert_string_equal(cl.got, "ECHO PING hello\r\n");
	assert_int_equal(conn_write(cl.c, "BYE\r\n", 5), 0);
	settle();
	close(lfd);
}

/* A reply injected in the clear behind "220 go" is not taken as if it
 * had come over TLS. */
static void
test_starttls_drops_plaintext(void **state)
{
	static const char clear[] = "220 go\r\n250 injected\r\n";
	int sv[2];

	(void)state;
	cl.starttls = 1;
	use_pair("good");
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], clear, sizeof clear - 1),
	    (ssize_t)(sizeof clear - 1));
	adopt(sv[1], &cli_proto);
	run_ms(50);
	assert_int_equal(cl.started, 1);
	adopt(sv[0], &srv_proto);
	assert_true(run_until(cl_done));
	assert_int_equal(cl.ok, 1);
	assert_true(run_until(cl_got_echo));
	assert_string_equal(cl.got, "ECHO PING hello\r\n");
	assert_int_equal(conn_write(cl.c, "BYE\r\n", 5), 0);
	settle();
}

/* --- the test as the server ------------------------------------------- */

static int raw_fd = -1;
static unsigned char raw[4096];
static size_t nraw;

static int
raw_hello(void)
{
	ssize_t n = read(raw_fd, raw + nraw, sizeof raw - nraw);

	if (n > 0) {
		nraw += (size_t)n;
	}
	/* A record header, then the record. */
	return nraw >= 5 && nraw >= 5 + (size_t)(raw[3] << 8 | raw[4]);
}

/* A client on a socketpair whose other end the test holds. */
static void
raw_client(const char *name, int mode)
{
	int sv[2];

	cl_reset(name, mode);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	raw_fd = sv[0];
	nraw = 0;
	adopt(sv[1], &cli_proto);
}

static int
has(const unsigned char *p, size_t n, const char *s)
{
	size_t sl = strlen(s);

	for (size_t i = 0; i + sl <= n; i++) {
		if (memcmp(p + i, s, sl) == 0) {
			return 1;
		}
	}
	return 0;
}

static void
test_client_hello_sni(void **state)
{
	(void)state;
	raw_client("mx.test", TLS_VERIFY);
	assert_true(run_until(raw_hello));
	assert_int_equal(raw[0], 22);		/* handshake record */
	assert_int_equal(raw[5], 1);		/* ClientHello */
	assert_true(has(raw, nraw, "mx.test"));
	assert_int_equal(cl.done, 0);
	close(raw_fd);
	assert_true(run_until(cl_closed));
	assert_int_equal(cl.done, 1);
	assert_int_equal(cl.ok, 0);
	assert_string_equal(cl.failure,
	    "connection closed during the handshake");

	raw_client(NULL, TLS_OPPORTUNISTIC);
	assert_true(run_until(raw_hello));
	assert_false(has(raw, nraw, "mx.test"));
	close(raw_fd);
	assert_true(run_until(cl_closed));
}

static void
test_not_tls(void **state)
{
	static const char banner[] = "220 plain.example ESMTP\r\n";

	(void)state;
	raw_client("mx.test", TLS_OPPORTUNISTIC);
	assert_true(run_until(raw_hello));
	assert_int_equal(write(raw_fd, banner, sizeof banner - 1),
	    (ssize_t)(sizeof banner - 1));
	assert_true(run_until(cl_closed));
	assert_int_equal(cl.done, 1);
	assert_int_equal(cl.ok, 0);
	print_message("  not TLS: %s\n", cl.failure);
	assert_true(strlen(cl.failure) > 0);
	assert_null(strstr(cl.failure, "no error"));
	close(raw_fd);
}

static void
test_no_name_to_verify(void **state)
{
	int sv[2];

	(void)state;
	cl_reset(NULL, TLS_VERIFY);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	adopt(sv[1], &cli_proto);
	assert_int_equal(cl.start_failed, 1);
	assert_true(run_until(cl_closed));
	assert_int_equal(cl.done, 0);
	close(sv[0]);

	cl_reset("", TLS_VERIFY);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	adopt(sv[1], &cli_proto);
	assert_int_equal(cl.start_failed, 1);
	assert_true(run_until(cl_closed));
	close(sv[0]);
}

/* --- pools ------------------------------------------------------------ */

static int
cl_all_closed(void)
{
	return cl.closed == MAX_OUT + 1;
}

static void
test_outbound_pool(void **state)
{
	int sv[MAX_OUT + 1][2];

	(void)state;
	cl_reset("mx.test", TLS_OPPORTUNISTIC);
	for (int i = 0; i <= MAX_OUT; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]),
		    0);
		adopt(sv[i][1], &cli_proto);
	}
	assert_int_equal(cl.started, MAX_OUT);
	assert_int_equal(cl.start_failed, 1);
	for (int i = 0; i <= MAX_OUT; i++) {
		close(sv[i][0]);
	}
	assert_true(run_until(cl_all_closed));
	assert_int_equal(cl.done, MAX_OUT);
	assert_int_equal(cl.ok, 0);
	/* The slots came back. */
	for (int i = 0; i < MAX_OUT + 1; i++) {
		test_setup(NULL);
		pair_up("good");
		assert_true(run_until(cl_done));
		assert_int_equal(cl.ok, 1);
		assert_int_equal(conn_write(cl.c, "BYE\r\n", 5), 0);
		settle();
	}
}

static void
test_inbound_flood_spares_outbound(void **state)
{
	int in[MAX_IN + 1][2];

	(void)state;
	for (int i = 0; i <= MAX_IN; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, in[i]),
		    0);
		adopt(in[i][0], &srv_proto);
	}
	assert_int_equal(srv_opened, MAX_IN);
	assert_int_equal(srv_refused, 1);
	raw_client("mx.test", TLS_VERIFY);
	assert_int_equal(cl.started, 1);
	assert_true(run_until(raw_hello));
	close(raw_fd);
	for (int i = 0; i <= MAX_IN; i++) {
		close(in[i][1]);
	}
	assert_true(run_until(cl_closed));
	assert_true(run_until(srv_gone));
	run_ms(20);
}

/* --- the CA bundle ------------------------------------------------------ */

static void
handshake(const char *pair, const char *name, int mode)
{
	test_setup(NULL);
	cl_reset(name, mode);
	cl.send = "BYE\r\n";
	pair_up(pair);
	assert_true(run_until(cl_done));
	settle();
}

static void
test_ca_bundle(void **state)
{
	char ca[256], both[256], notca[256];
	struct err e;

	(void)state;
	path(ca, sizeof ca, "ca.crt");
	path(both, sizeof both, "both.crt");
	path(notca, sizeof notca, "good.key");
	assert_int_equal(tls_client_anchors(), 1);

	/* Missing: not fatal, and nothing verifies. */
	tls_client_shutdown();
	memset(&e, 0, sizeof e);
	assert_int_equal(tls_client_init(MAX_OUT, "/nonexistent/ca.pem",
	    &e), 1);
	assert_non_null(strstr(e.msg, "/nonexistent/ca.pem"));
	assert_int_equal(tls_client_anchors(), 0);
	handshake("good", "mx.test", TLS_VERIFY);
	assert_int_equal(cl.ok, 0);
	assert_string_equal(cl.failure, "unknown issuer");
	handshake("good", "mx.test", TLS_OPPORTUNISTIC);
	assert_int_equal(cl.ok, 1);
	assert_int_equal(cl.verified, 0);
	assert_string_equal(cl.why, "unknown issuer");

	/* Reloads: the CA, then the CA and a self-signed leaf. */
	assert_int_equal(tls_client_reload(ca, &e), 0);
	assert_int_equal(tls_client_anchors(), 1);
	handshake("good", "mx.test", TLS_VERIFY);
	assert_int_equal(cl.ok, 1);
	assert_int_equal(cl.verified, 1);
	handshake("self", "mx.test", TLS_VERIFY);
	assert_int_equal(cl.ok, 0);
	assert_int_equal(tls_client_reload(both, &e), 0);
	assert_int_equal(tls_client_anchors(), 2);
	handshake("self", "mx.test", TLS_VERIFY);
	assert_int_equal(cl.ok, 1);
	assert_int_equal(cl.verified, 1);

	/* A file with no certificate is refused; the old anchors stay. */
	assert_int_equal(tls_client_reload(notca, &e), -1);
	assert_non_null(strstr(e.msg, "no usable CA certificate"));
	assert_int_equal(tls_client_anchors(), 2);
	assert_int_equal(tls_client_reload("/nonexistent", &e), -1);
	assert_int_equal(tls_client_anchors(), 2);

	/* "" is the system bundle, when the system has one. */
	if (access(TLS_CA_DEFAULT, R_OK) == 0) {
		assert_int_equal(tls_client_reload("", &e), 0);
		print_message("  system bundle: %zu anchors\n",
		    tls_client_anchors());
		assert_true(tls_client_anchors() > 10);
		handshake("good", "mx.test", TLS_VERIFY);
		assert_int_equal(cl.ok, 0);
		assert_string_equal(cl.failure, "unknown issuer");
	}
	assert_int_equal(tls_client_reload(ca, &e), 0);
}

/* Writes dir/file from the named files, joined, with a text between
 * them and one after; nl = 0 drops the last newline. */
static void
bundle(const char *file, const char *const *parts, const char *between,
    const char *tail, int nl)
{
	char out[256], in[256], buf[65536];
	size_t len = 0;
	FILE *f;

	for (size_t i = 0; parts[i] != NULL; i++) {
		path(in, sizeof in, parts[i]);
		f = fopen(in, "r");
		assert_non_null(f);
		len += fread(buf + len, 1, sizeof buf - len, f);
		fclose(f);
		if (between != NULL && parts[i + 1] != NULL) {
			assert_true(strlen(between) < sizeof buf - len);
			memcpy(buf + len, between, strlen(between));
			len += strlen(between);
		}
	}
	if (tail != NULL) {
		assert_true(strlen(tail) < sizeof buf - len);
		memcpy(buf + len, tail, strlen(tail));
		len += strlen(tail);
	}
	if (!nl && len > 0 && buf[len - 1] == '\n') {
		len--;
	}
	path(out, sizeof out, file);
	f = fopen(out, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* Scribbles over freed heap memory, so anchors still pointing at the
 * bundle's text or DER would not verify (ASan would say so first). */
static void
scribble_heap(void)
{
	for (size_t sz = 64; sz <= 512 * 1024; sz *= 2) {
		void *p = malloc(sz);

		assert_non_null(p);
		memset(p, 0xa5, sz);
		free(p);
	}
}

struct ta_case {
	const char	*desc;
	const char	*parts[5];
	const char	*between;	/* text between the files */
	const char	*tail;		/* text after them */
	int		 nl;		/* the file ends with a newline */
	int		 rc;		/* tls_client_reload */
	size_t		 anchors;
	const char	*err;		/* in e.msg when rc is -1 */
};

static const struct ta_case ta_cases[] = {
	{ "an EC CA, an EC and an RSA self-signed leaf", { "ca.crt",
	    "self.crt", "rsaself.crt", NULL }, NULL, NULL, 1, 0, 3, NULL },
	{ "no newline after the last END line", { "ca.crt", "rsaself.crt",
	    NULL }, NULL, NULL, 0, 0, 2, NULL },
	{ "text between the certificates is skipped", { "ca.crt",
	    "rsaself.crt", NULL }, "# comment\nIssuer: x\n\n", "\n\n", 1,
	    0, 2, NULL },
	{ "hostile: a private key among the certificates is no anchor",
	    { "ca.crt", "good.key", "rsaself.crt", NULL }, NULL, NULL, 1, 0,
	    2, NULL },
	{ "hostile: a key alone", { "good.key", NULL }, NULL, NULL, 1, -1,
	    0, "no usable CA certificate" },
	{ "hostile: a certificate cut before its END line", { "ca.crt",
	    "rsaself.crt", NULL }, NULL,
	    "-----BEGIN CERTIFICATE-----\nMIIB\n", 1, -1, 0,
	    "not terminated" },
	{ "hostile: a BEGIN inside an object", { "ca.crt", "rsaself.crt",
	    NULL }, "-----BEGIN CERTIFICATE-----\nMIIB\n", NULL, 1, -1, 0,
	    "not a valid PEM" },
	{ "hostile: base64 that is not", { "ca.crt", "rsaself.crt", NULL },
	    "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
	    NULL, 1, -1, 0, "not a valid PEM" },
	{ "hostile: garbage DER in a CERTIFICATE object is skipped",
	    { "ca.crt", "rsaself.crt", NULL },
	    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	    NULL, 1, 0, 2, NULL },
};

/* The anchors live on their own: the bundle (file and every buffer it
 * was read through) is gone, freed memory scribbled over, and chains
 * still verify against the EC CA, an EC key and an RSA key. */
static void
test_ca_compact(void **state)
{
	char file[256], ca[256];
	struct err e;

	(void)state;
	path(file, sizeof file, "bundle.pem");
	path(ca, sizeof ca, "ca.crt");
	for (size_t i = 0; i < sizeof ta_cases / sizeof ta_cases[0]; i++) {
		const struct ta_case *k = &ta_cases[i];

		print_message("  %s\n", k->desc);
		assert_int_equal(tls_client_reload(ca, &e), 0);
		bundle("bundle.pem", k->parts, k->between, k->tail, k->nl);
		memset(&e, 0, sizeof e);
		assert_int_equal(tls_client_reload(file, &e), k->rc);
		if (k->rc == -1) {
			if (strstr(e.msg, k->err) == NULL) {
				fail_msg("%s", e.msg);
			}
			assert_int_equal(tls_client_anchors(), 1);
			continue;
		}
		assert_int_equal(tls_client_anchors(), k->anchors);
		/* The anchors, their DNs and keys: less than the file. */
		assert_true(tls_client_anchor_bytes() > k->anchors * 100);
		assert_true(tls_client_anchor_bytes() < 4096);
	}

	/* The first bundle again; then it goes. */
	bundle("bundle.pem", ta_cases[0].parts, NULL, NULL, 1);
	assert_int_equal(tls_client_reload(file, &e), 0);
	assert_int_equal(unlink(file), 0);
	scribble_heap();
	handshake("good", "mx.test", TLS_VERIFY);
	assert_int_equal(cl.ok, 1);
	assert_int_equal(cl.verified, 1);
	handshake("self", "mx.test", TLS_VERIFY);
	assert_int_equal(cl.ok, 1);
	assert_int_equal(cl.verified, 1);
	handshake("rsaself", "mx.test", TLS_VERIFY);
	assert_int_equal(cl.ok, 1);
	assert_int_equal(cl.verified, 1);
	handshake("wrong", "mx.test", TLS_VERIFY);
	assert_int_equal(cl.ok, 0);
	assert_string_equal(cl.failure, "name mismatch");

	/* The system bundle: a fraction of the file is kept. */
	if (access(TLS_CA_DEFAULT, R_OK) == 0) {
		struct stat st;

		assert_int_equal(stat(TLS_CA_DEFAULT, &st), 0);
		assert_int_equal(tls_client_reload("", &e), 0);
		print_message("  system bundle: %zu anchors in %zu bytes "
		    "(the file: %lld)\n", tls_client_anchors(),
		    tls_client_anchor_bytes(), (long long)st.st_size);
		assert_true(tls_client_anchor_bytes() <
		    (size_t)st.st_size / 2);
		assert_true(tls_client_anchor_bytes() <
		    tls_client_anchors() * 1024);
	}
	assert_int_equal(tls_client_reload(ca, &e), 0);
}

/* --- against openssl s_server ------------------------------------------ */

static int
cl_got_rev(void)
{
	return strstr(cl.got, "olleh GNIP") != NULL;
}

/* Connects to 127.0.0.1:port, retrying while the server starts. */
static int
connect_retry(uint16_t port)
{
	struct sockaddr_in sin;
	uint64_t end = ev_clock_ms() + 10000;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while (ev_clock_ms() < end) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		assert_true(fd >= 0);
		if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0) {
			return fd;
		}
		close(fd);
		usleep(50000);
	}
	return -1;
}

static uint16_t
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static void
stop(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			return;
		}
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* s_server's default certificate is for other.test; with SNI mx.test
 * it serves the mx.test one (-servername, -cert2): verifying mx.test
 * succeeds only if the name reached it. */
static void
test_s_server_sni(void **state)
{
	char port[16];
	char *argv[] = { "openssl", "s_server", "-accept", NULL,
	    "-cert", "wrong.crt", "-key", "wrong.key",
	    "-servername", "mx.test", "-cert2", "good.crt",
	    "-key2", "good.key", "-rev", "-quiet", NULL };
	char addr[32];
	uint16_t p = free_port();
	pid_t pid;
	int fd;

	(void)state;
	snprintf(port, sizeof port, "%u", p);
	snprintf(addr, sizeof addr, "127.0.0.1:%s", port);
	argv[3] = addr;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int out;

		if (chdir(dir) == -1) {
			_exit(127);
		}
		out = open("s_server.log", O_WRONLY | O_CREAT | O_APPEND,
		    0600);
		dup2(out, 1);
		dup2(out, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	fd = connect_retry(p);
	if (fd == -1) {
		stop(pid);
		fail_msg("openssl s_server did not start");
	}
	cl_reset("mx.test", TLS_VERIFY);
	adopt(fd, &cli_proto);
	if (!run_until(cl_done) || !cl.ok) {
		stop(pid);
		fail_msg("handshake with s_server: %s", cl.failure);
	}
	assert_int_equal(cl.verified, 1);
	assert_string_equal(cl.version, "TLSv1.2");
	print_message("  s_server: %s %s\n", cl.version, cl.cipher);
	if (!run_until(cl_got_rev)) {
		stop(pid);
		fail_msg("no reply from s_server: '%s'", cl.got);
	}
	conn_close(cl.c);
	assert_true(run_until(cl_closed));

	/* Without SNI: the other.test certificate. */
	fd = connect_retry(p);
	assert_true(fd >= 0);
	cl_reset("mx.test", TLS_OPPORTUNISTIC);
	cl.name = NULL;
	adopt(fd, &cli_proto);
	assert_true(run_until(cl_done));
	assert_int_equal(cl.ok, 1);
	assert_int_equal(cl.verified, 0);
	conn_close(cl.c);
	assert_true(run_until(cl_closed));
	stop(pid);
}

static void
test_sizes(void **state)
{
	(void)state;
	print_message("  outbound TLS slot: %zu bytes, inbound: %zu\n",
	    tls_client_bytes_per_connection(), tls_bytes_per_connection());
	assert_true(tls_client_bytes_per_connection() > TLS_INBUF);
	assert_true(tls_client_bytes_per_connection() < 40 * 1024);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_handshakes, test_setup),
		cmocka_unit_test_setup(test_bulk, test_setup),
		cmocka_unit_test_setup(test_connect_out, test_setup),
		cmocka_unit_test_setup(test_starttls_drops_plaintext,
		    test_setup),
		cmocka_unit_test_setup(test_client_hello_sni, test_setup),
		cmocka_unit_test_setup(test_not_tls, test_setup),
		cmocka_unit_test_setup(test_no_name_to_verify, test_setup),
		cmocka_unit_test_setup(test_outbound_pool, test_setup),
		cmocka_unit_test_setup(test_inbound_flood_spares_outbound,
		    test_setup),
		cmocka_unit_test_setup(test_ca_bundle, test_setup),
		cmocka_unit_test_setup(test_ca_compact, test_setup),
		cmocka_unit_test_setup(test_s_server_sni, test_setup),
		cmocka_unit_test(test_sizes),
	};

	log_open(LOG_DEST_STDERR, LOG_LVL_WARN, "test_tls_client");
	/* The certificates are made by openssl in a child process, which
	 * QEMU user-mode emulation does not run reliably here; the TLS
	 * code under test is the same on the host, where this runs (and
	 * the integration suite drives outbound TLS under QEMU). */
	if (getenv("WREN_QEMU") != NULL && *getenv("WREN_QEMU") != '\0') {
		printf("test_tls_client: skipped under QEMU\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
