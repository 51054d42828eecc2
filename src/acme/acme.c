/* SPDX-License-Identifier: ISC */
/*
 * acme.c - the ACME order flow (see acme.h): RFC 8555 7.1.1
 * (directory), 7.2 (newNonce), 7.3 (newAccount), 7.4 (newOrder,
 * finalize, download), 7.5 (authorizations, challenges, polling with
 * Retry-After), 6.5 (badNonce: the request again with the new nonce);
 * RFC 8737 (TLS-ALPN-01: the certificate handed to tls_server.c).
 *
 *   check --(missing/expiring)--> DIRECTORY -> [ACCOUNT] -> ORDER
 *     -> AUTHZ[i] -> CHALLENGE[i] -> POLL AUTHZ[i] ... -> FINALIZE
 *     -> POLL ORDER -> CERT -> written, loaded -> check tomorrow
 *   any failure -> retry after a jittered, doubling delay
 *
 * Every POST is a JWS (acme_crypto.h) with the last Replay-Nonce; one
 * request is in flight at a time (acme_http.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acme/acme.h"
#include "acme/acme_chal.h"
#include "acme/acme_crypto.h"
#include "acme/acme_http.h"
#include "acme/json.h"
#include "core/file.h"
#include "core/fmt.h"
#include "core/log.h"
#include "msg/base64.h"
#include "tls/tls.h"
#include "tls/tls_cred.h"

#define ACME_NAME_MAX	256
#define ACME_REQ_MAX	4096	/* a JWS: finalize with its CSR is ~1.5 KB */
#define ACME_PAYLOAD_MAX 1536
#define ACME_NONCE_TRIES 10	/* badNonce answers in a row */
#define ACME_CHAL_DER_MAX 640	/* the TLS-ALPN-01 certificate */

enum ac_state {
	AC_IDLE, AC_DIRECTORY, AC_NONCE, AC_ACCOUNT, AC_ORDER, AC_AUTHZ,
	AC_CHALLENGE, AC_FINALIZE, AC_POLL_ORDER, AC_CERT
};

static const char *const ac_state_name[] = {
	"idle", "directory", "nonce", "account", "order", "authz",
	"challenge", "finalize", "poll-order", "cert"
};

typedef void step_fn(const struct http_resp *, const char *body, int n);

struct chal {
	char			name[ACME_NAME_MAX];
	unsigned char		der[ACME_CHAL_DER_MAX];
	br_x509_certificate	cert;
};

static struct {
	const struct cfg	*cfg;
	struct ev		*ev;
	enum ac_state		 state;
	struct timer		 timer;
	void			(*wake)(void);	/* what the timer runs */
	char			 dir[512];
	char			 p_acckey[560], p_accurl[560];
	char			 p_key[560], p_chain[560];
	struct acme_key		 account, certkey;
	char			 thumb[ACME_THUMB_BUF];
	char			 kid[ACME_URL_MAX];
	char			 nonce[HTTP_NONCE_MAX];
	char			 u_nonce[ACME_URL_MAX], u_account[ACME_URL_MAX];
	char			 u_order_new[ACME_URL_MAX];
	char			 u_order[ACME_URL_MAX], u_finalize[ACME_URL_MAX];
	char			 u_authz[ACME_NAMES_MAX][ACME_URL_MAX];
	int			 responded[ACME_NAMES_MAX];
	size_t			 nauthz, iauthz;
	char			 names[ACME_NAMES_MAX][ACME_NAME_MAX];
	size_t			 nnames;
	/* the POST in flight, for a badNonce retry */
	char			 p_url[ACME_URL_MAX];
	char			 payload[ACME_PAYLOAD_MAX];
	int			 as_get;
	step_fn			*next;
	int			 nonce_tries;
	int			 new_account;	/* made again this round */
	char			 req[ACME_REQ_MAX];
	unsigned		 fails, polls;
	struct chal		 chal[ACME_NAMES_MAX];
	size_t			 nchal;
	struct json_tok		 tok[JSON_TOKENS_MAX];
} ac;

static void	set_state(enum ac_state);
static void	wait_then(uint64_t ms, void (*)(void));
static void	on_timer(struct timer *, void *);
static void	check(void);
static void	start(void);
static void	failed(const char *, const struct http_resp *);
static void	post(const char *url, const char *payload, step_fn *);
static void	post_send(void);
static void	on_nonce(void *, const struct http_resp *);
static void	on_post(void *, const struct http_resp *);
static void	on_directory(void *, const struct http_resp *);
static void	on_account(const struct http_resp *, const char *, int);
static void	new_order(void);
static void	on_order(const struct http_resp *, const char *, int);
static void	next_authz(void);
static void	poll_authz(void);
static void	on_authz(const struct http_resp *, const char *, int);
static void	on_challenge(const struct http_resp *, const char *, int);
static void	finalize(void);
static void	poll_order(void);
static void	on_order_state(const struct http_resp *, const char *, int);
static void	on_cert(const struct http_resp *, const char *, int);
static int	parse(const struct http_resp *, const char **);
static int	str_to(const char *, int, int, const char *, char *, size_t);
static void	why_invalid(const char *, int);
static int	member_is(const char *, int, int, const char *,
		    const char *);
static void	names_from_cfg(void);
static int	key_load_or_make(struct acme_key *, const char *);
static void	chal_clear(void);
static int	alpn_lookup(const char *, const br_x509_certificate **,
		    const br_ec_private_key **);

int
acme_tls_paths(const struct cfg *c, char *cert, char *key, size_t cap)
{
	const char *d = cfg_str(c, CFG_DATA_DIR);

	if (*cfg_str(c, CFG_ACME_EMAIL) == '\0') {
		return 0;
	}
	(void)fmt(cert, cap, "%s/acme/fullchain.pem", d);
	(void)fmt(key, cap, "%s/acme/privkey.pem", d);
	return 1;
}

int
acme_init(struct ev *ev, struct conn_table *out, const struct cfg *cfg,
    struct err *e)
{
	const char *d = cfg_str(cfg, CFG_DATA_DIR);
	char url[ACME_URL_MAX + 1];
	size_t len;
	char *txt;
	struct err e2;

	memset(&ac, 0, sizeof ac);
	ac.cfg = cfg;
	ac.ev = ev;
	timer_init(&ac.timer, on_timer, NULL);
	if (*cfg_str(cfg, CFG_ACME_EMAIL) == '\0') {
		return 0;
	}
	acme_http_init(ev, out);
	if (fmt(ac.dir, sizeof ac.dir, "%s/acme", d) >= (int)sizeof ac.dir) {
		return err_set(e, "acme: data_dir too long");
	}
	(void)fmt(ac.p_acckey, sizeof ac.p_acckey, "%s/account.key", ac.dir);
	(void)fmt(ac.p_accurl, sizeof ac.p_accurl, "%s/account.url", ac.dir);
	(void)acme_tls_paths(cfg, ac.p_chain, ac.p_key, sizeof ac.p_chain);
	if (mkdir(ac.dir, 0700) == -1 && errno != EEXIST) {
		return err_set(e, "acme: %s: %s", ac.dir, strerror(errno));
	}
	if (key_load_or_make(&ac.account, ac.p_acckey) == -1 ||
	    acme_thumbprint(&ac.account, ac.thumb, sizeof ac.thumb) == -1) {
		return err_set(e, "acme: %s: no usable account key",
		    ac.p_acckey);
	}
	if ((txt = file_read_all(ac.p_accurl, sizeof url, &len, &e2)) !=
	    NULL) {
		if (len > 0 && txt[len - 1] == '\n') {
			txt[--len] = '\0';
		}
		if (len < sizeof ac.kid) {
			memcpy(ac.kid, txt, len + 1);
		}
		free(txt);
	}
	names_from_cfg();
	tls_set_acme_alpn(alpn_lookup);
	log_info("acme: %s for %zu name%s (%s)%s%s", cfg_str(cfg,
	    CFG_ACME_DIRECTORY), ac.nnames, ac.nnames == 1 ? "" : "s",
	    ac.names[0], ac.kid[0] != '\0' ? ", account " : "", ac.kid);
	wait_then(1000, check);
	return 0;
}

void
acme_reload(void)
{
	if (ac.cfg == NULL || ac.dir[0] == '\0') {
		return;
	}
	names_from_cfg();
	if (ac.state == AC_IDLE) {
		wait_then(10, check);
	}
}

void
acme_shutdown(void)
{
	if (ac.dir[0] == '\0') {
		return;
	}
	acme_http_cancel();
	ev_timer_cancel(ac.ev, &ac.timer);
	tls_set_acme_alpn(NULL);
}

static void
set_state(enum ac_state to)
{
	log_debug("acme: %s -> %s", ac_state_name[ac.state],
	    ac_state_name[to]);
	ac.state = to;
}

static void
wait_then(uint64_t ms, void (*fn)(void))
{
	ac.wake = fn;
	if (ev_timer_in(ac.ev, &ac.timer, ms) == -1) {
		log_errorx("acme: timer heap full: ACME stops");
	}
}

static void
on_timer(struct timer *t, void *arg)
{
	(void)t;
	(void)arg;
	if (ac.wake != NULL) {
		ac.wake();
	}
}

/* The pair on disk: renew when missing, broken, or within the
 * window. */
static void
check(void)
{
	struct tls_cred cr;
	struct err e;
	time_t now = time(NULL), at;
	int64_t before = cfg_num(ac.cfg, CFG_ACME_RENEW_BEFORE);

	ac.new_account = 0;
	if (tls_cred_load(&cr, ac.p_chain, ac.p_key, &e) == -1) {
		log_info("acme: no usable certificate yet (%s): ordering one",
		    e.msg);
		start();
		return;
	}
	at = cr.not_after - (time_t)before;
	tls_cred_free(&cr);
	if (at <= now) {
		log_info("acme: the certificate expires within "
		    "acme_renew_before: renewing");
		start();
		return;
	}
	wait_then((uint64_t)(at - now < ACME_CHECK_S ? at - now :
	    ACME_CHECK_S) * 1000, check);
}

static void
start(void)
{
	const char *dir = cfg_str(ac.cfg, CFG_ACME_DIRECTORY);

	if (strcmp(dir, "letsencrypt") == 0) {
		dir = ACME_LETSENCRYPT;
	} else if (strcmp(dir, "letsencrypt-staging") == 0) {
		dir = ACME_LE_STAGING;
	}
	ac.nonce[0] = '\0';
	ac.polls = 0;
	set_state(AC_DIRECTORY);
	if (acme_http_request(dir, NULL, on_directory, NULL) == -1) {
		failed("cannot fetch the directory", NULL);
	}
}

/* Logs why, with the server's problem document (RFC 7807) if any,
 * and retries later. */
static void
failed(const char *why, const struct http_resp *r)
{
	unsigned d;
	uint32_t rnd = 0;
	uint64_t ms;
	const char *b;
	char detail[256] = "";
	int n;

	if (r != NULL && (n = parse(r, &b)) > 0) {
		(void)json_str(b, ac.tok, json_member(b, ac.tok, n, 0,
		    "detail"), detail, sizeof detail);
	}
	chal_clear();
	set_state(AC_IDLE);
	ac.fails++;
	d = ACME_RETRY_MIN_S;
	for (unsigned i = 1; i < ac.fails && d < ACME_CHECK_S; i++) {
		d *= 2;
	}
	if (d > ACME_CHECK_S) {
		d = ACME_CHECK_S;
	}
	(void)getrandom(&rnd, sizeof rnd, GRND_NONBLOCK);
	/* +-25 %: many routers failing together do not retry together */
	ms = (uint64_t)d * 750 + (uint64_t)(rnd % (d * 500 + 1));
	log_warnx("acme: %s%s%s (HTTP %u); next try in %llu s", why,
	    detail[0] != '\0' ? ": " : "", detail, r != NULL ? r->status : 0,
	    (unsigned long long)(ms / 1000));
	wait_then(ms, check);
}

/* POST url with payload (NULL: POST-as-GET), then next(answer). */
static void
post(const char *url, const char *payload, step_fn *next)
{
	if (fmt(ac.p_url, sizeof ac.p_url, "%s", url) >=
	    (int)sizeof ac.p_url || (payload != NULL &&
	    fmt(ac.payload, sizeof ac.payload, "%s", payload) >=
	    (int)sizeof ac.payload)) {
		failed("request too large", NULL);
		return;
	}
	ac.as_get = payload == NULL;
	ac.next = next;
	ac.nonce_tries = 0;
	post_send();
}

static void
post_send(void)
{
	const char *kid = strcmp(ac.p_url, ac.u_account) == 0 ? NULL : ac.kid;

	if (ac.nonce[0] == '\0') {
		if (acme_http_request(ac.u_nonce, NULL, on_nonce, NULL) ==
		    -1) {
			failed("cannot ask for a nonce", NULL);
		}
		return;
	}
	if (acme_jws(&ac.account, kid, ac.nonce, ac.p_url, ac.as_get ? NULL :
	    ac.payload, ac.req, sizeof ac.req) < 0) {
		failed("cannot sign the request", NULL);
		return;
	}
	ac.nonce[0] = '\0';			/* used once */
	if (acme_http_request(ac.p_url, ac.req, on_post, NULL) == -1) {
		failed("cannot send the request", NULL);
	}
}

static void
on_nonce(void *arg, const struct http_resp *r)
{
	(void)arg;
	if (r == NULL || r->nonce[0] == '\0') {
		failed("no nonce from newNonce", r);
		return;
	}
	memcpy(ac.nonce, r->nonce, sizeof ac.nonce);
	post_send();
}

static void
on_post(void *arg, const struct http_resp *r)
{
	const char *b;
	int n;

	(void)arg;
	if (r == NULL) {
		failed("request failed", NULL);
		return;
	}
	memcpy(ac.nonce, r->nonce, sizeof ac.nonce);
	n = parse(r, &b);
	/* RFC 8555 6.5: a badNonce answer carries a fresh nonce. */
	if (r->status == 400 && member_is(b, n, 0, "type",
	    "urn:ietf:params:acme:error:badNonce") &&
	    ++ac.nonce_tries <= ACME_NONCE_TRIES) {
		log_info("acme: badNonce, sending again");
		post_send();
		return;
	}
	/* An account the server no longer knows (a test server started
	 * again, a deactivation): a new one, once, in the same round. */
	if (ac.kid[0] != '\0' && member_is(b, n, 0, "type",
	    "urn:ietf:params:acme:error:accountDoesNotExist") &&
	    !ac.new_account) {
		log_warnx("acme: account %s unknown to the server: a new one",
		    ac.kid);
		ac.kid[0] = '\0';
		(void)unlink(ac.p_accurl);
		ac.new_account = 1;
		start();
		return;
	}
	ac.next(r, b, n);
}

static void
on_directory(void *arg, const struct http_resp *r)
{
	const char *b;
	int n;

	(void)arg;
	if (r == NULL || r->status != 200 || (n = parse(r, &b)) <= 0 ||
	    str_to(b, n, 0, "newNonce", ac.u_nonce, sizeof ac.u_nonce) ||
	    str_to(b, n, 0, "newAccount", ac.u_account,
	    sizeof ac.u_account) ||
	    str_to(b, n, 0, "newOrder", ac.u_order_new,
	    sizeof ac.u_order_new)) {
		failed("no usable directory", r);
		return;
	}
	if (ac.kid[0] != '\0') {
		new_order();
		return;
	}
	set_state(AC_ACCOUNT);
	{
		char p[512];

		(void)fmt(p, sizeof p, "{\"termsOfServiceAgreed\":true,"
		    "\"contact\":[\"mailto:%s\"]}",
		    cfg_str(ac.cfg, CFG_ACME_EMAIL));
		post(ac.u_account, p, on_account);
	}
}

static void
on_account(const struct http_resp *r, const char *b, int n)
{
	struct err e;

	(void)b;
	(void)n;
	if ((r->status != 200 && r->status != 201) || r->location[0] ==
	    '\0' || strlen(r->location) >= sizeof ac.kid) {
		failed("account refused", r);
		return;
	}
	memcpy(ac.kid, r->location, strlen(r->location) + 1);
	if (file_write_atomic(ac.p_accurl, ac.kid, strlen(ac.kid), 0600,
	    &e) == -1) {
		log_warnx("acme: %s (the account is asked again next time)",
		    e.msg);
	}
	log_info("acme: account %s", ac.kid);
	new_order();
}

static void
new_order(void)
{
	char p[ACME_PAYLOAD_MAX];
	size_t l;

	set_state(AC_ORDER);
	l = (size_t)fmt(p, sizeof p, "{\"identifiers\":[");
	for (size_t i = 0; i < ac.nnames && l < sizeof p; i++) {
		l += (size_t)fmt(p + l, sizeof p - l,
		    "%s{\"type\":\"dns\",\"value\":\"%s\"}", i > 0 ? "," : "",
		    ac.names[i]);
	}
	if (l < sizeof p) {
		l += (size_t)fmt(p + l, sizeof p - l, "]}");
	}
	if (l >= sizeof p) {
		failed("too many names", NULL);
		return;
	}
	post(ac.u_order_new, p, on_order);
}

static void
on_order(const struct http_resp *r, const char *b, int n)
{
	int a;

	if (r->status != 201 || n <= 0 || r->location[0] == '\0' ||
	    str_to(b, n, 0, "finalize", ac.u_finalize,
	    sizeof ac.u_finalize) ||
	    (a = json_member(b, ac.tok, n, 0, "authorizations")) < 0 ||
	    ac.tok[a].type != JSON_ARRAY || ac.tok[a].n > ACME_NAMES_MAX) {
		failed("order refused", r);
		return;
	}
	memcpy(ac.u_order, r->location, sizeof ac.u_order);
	ac.nauthz = ac.tok[a].n;
	for (size_t i = 0; i < ac.nauthz; i++) {
		if (json_str(b, ac.tok, json_elem(ac.tok, n, a, i),
		    ac.u_authz[i], sizeof ac.u_authz[i]) < 0) {
			failed("bad authorization URL", r);
			return;
		}
		ac.responded[i] = 0;
	}
	ac.iauthz = 0;
	log_info("acme: order %s, %zu authorization%s", ac.u_order,
	    ac.nauthz, ac.nauthz == 1 ? "" : "s");
	next_authz();
}

static void
next_authz(void)
{
	if (ac.iauthz == ac.nauthz) {
		finalize();
		return;
	}
	set_state(AC_AUTHZ);
	ac.polls = 0;
	poll_authz();
}

static void
poll_authz(void)
{
	post(ac.u_authz[ac.iauthz], NULL, on_authz);
}

/* RFC 8555 7.5: pending -> answer the challenge once, then poll until
 * valid or invalid. */
static void
on_authz(const struct http_resp *r, const char *b, int n)
{
	const char *want = cfg_num(ac.cfg, CFG_ACME_CHALLENGE) == 0 ?
	    "tls-alpn-01" : "http-01";
	char token[128], url[ACME_URL_MAX], keyauth[200], name[ACME_NAME_MAX];
	int st, chs, ch = -1, id;
	struct chal *c;
	long l;

	st = n > 0 ? json_member(b, ac.tok, n, 0, "status") : -1;
	if (r->status != 200 || st < 0) {
		failed("cannot read an authorization", r);
		return;
	}
	if (json_str_is(b, &ac.tok[st], "valid")) {
		ac.iauthz++;
		next_authz();
		return;
	}
	if (!json_str_is(b, &ac.tok[st], "pending")) {
		why_invalid(b, n);
		failed("authorization not valid", r);
		return;
	}
	if (ac.responded[ac.iauthz]) {
		if (++ac.polls > ACME_POLLS_MAX) {
			failed("authorization still pending", r);
			return;
		}
		wait_then(r->retry_after > 0 ? r->retry_after * 1000ull :
		    1000, poll_authz);
		return;
	}
	chs = json_member(b, ac.tok, n, 0, "challenges");
	id = json_member(b, ac.tok, n, 0, "identifier");
	for (size_t i = 0; chs >= 0 && i < ac.tok[chs].n; i++) {
		int e = json_elem(ac.tok, n, chs, i);

		if (member_is(b, n, e, "type", want)) {
			ch = e;
			break;
		}
	}
	if (ch < 0 || str_to(b, n, ch, "token", token, sizeof token) ||
	    str_to(b, n, ch, "url", url, sizeof url) ||
	    str_to(b, n, id, "value", name, sizeof name) ||
	    strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") != strlen(token)) {
		failed("no usable challenge offered", r);
		return;
	}
	(void)fmt(keyauth, sizeof keyauth, "%s.%s", token, ac.thumb);
	if (ac.nchal == ACME_NAMES_MAX) {
		failed("too many challenges", NULL);
		return;
	}
	if (cfg_num(ac.cfg, CFG_ACME_CHALLENGE) == 1) {
		/* HTTP-01: http_listen answers from the table. */
		if (acme_chal_put(token, keyauth) == -1) {
			failed("cannot store the HTTP-01 challenge", NULL);
			return;
		}
	} else {
		c = &ac.chal[ac.nchal];
		l = acme_alpn_cert(&ac.account, name, keyauth, c->der,
		    sizeof c->der);
		if (l < 0) {
			failed("cannot make the challenge certificate", NULL);
			return;
		}
		memcpy(c->name, name, sizeof c->name);
		c->cert.data = c->der;
		c->cert.data_len = (size_t)l;
		ac.nchal++;
	}
	ac.responded[ac.iauthz] = 1;
	set_state(AC_CHALLENGE);
	log_info("acme: answering %s for %s", want, name);
	post(url, "{}", on_challenge);
}

static void
on_challenge(const struct http_resp *r, const char *b, int n)
{
	(void)b;
	(void)n;
	if (r->status != 200) {
		failed("challenge refused", r);
		return;
	}
	set_state(AC_AUTHZ);
	wait_then(r->retry_after > 0 ? r->retry_after * 1000ull : 1000,
	    poll_authz);
}

static void
finalize(void)
{
	unsigned char der[1024];
	char p[ACME_PAYLOAD_MAX], b64[1400];
	const char *names[ACME_NAMES_MAX];
	long l;

	set_state(AC_FINALIZE);
	for (size_t i = 0; i < ac.nnames; i++) {
		names[i] = ac.names[i];
	}
	/* A new key for each certificate (RFC 8555 11.1 leaves it to us;
	 * a leaked old key then dies with its certificate). */
	if (acme_key_gen(&ac.certkey) == -1 ||
	    (l = acme_csr(&ac.certkey, names, ac.nnames, der,
	    sizeof der)) < 0 ||
	    base64url_encode(der, (size_t)l, b64, sizeof b64) < 0) {
		failed("cannot make the certificate request", NULL);
		return;
	}
	(void)fmt(p, sizeof p, "{\"csr\":\"%s\"}", b64);
	ac.polls = 0;
	post(ac.u_finalize, p, on_order_state);
}

static void
poll_order(void)
{
	post(ac.u_order, NULL, on_order_state);
}

static void
on_order_state(const struct http_resp *r, const char *b, int n)
{
	char url[ACME_URL_MAX];
	int st = n > 0 ? json_member(b, ac.tok, n, 0, "status") : -1;

	if (r->status != 200 || st < 0) {
		failed("finalize refused", r);
		return;
	}
	if (json_str_is(b, &ac.tok[st], "valid")) {
		if (str_to(b, n, 0, "certificate", url, sizeof url)) {
			failed("no certificate URL", r);
			return;
		}
		set_state(AC_CERT);
		post(url, NULL, on_cert);
		return;
	}
	if (!json_str_is(b, &ac.tok[st], "processing") &&
	    !json_str_is(b, &ac.tok[st], "ready") &&
	    !json_str_is(b, &ac.tok[st], "pending")) {
		failed("order invalid", r);
		return;
	}
	if (++ac.polls > ACME_POLLS_MAX) {
		failed("order still processing", r);
		return;
	}
	set_state(AC_POLL_ORDER);
	wait_then(r->retry_after > 0 ? r->retry_after * 1000ull : 1000,
	    poll_order);
}

/* The chain: key first, then the chain, each atomically, then loaded
 * for new connections at once. */
static void
on_cert(const struct http_resp *r, const char *b, int n)
{
	char pem[ACME_PEM_MAX];
	long pl;
	struct err e;

	(void)b;
	(void)n;
	if (r->status != 200 || r->body_len < 30 || memcmp(r->body,
	    "-----BEGIN CERTIFICATE-----", 27) != 0) {
		failed("no certificate chain in the answer", r);
		return;
	}
	if ((pl = acme_key_pem(&ac.certkey, pem, sizeof pem)) < 0 ||
	    file_write_atomic(ac.p_key, pem, (size_t)pl, 0600, &e) == -1 ||
	    file_write_atomic(ac.p_chain, r->body, r->body_len, 0644,
	    &e) == -1) {
		memset(pem, 0, sizeof pem);
		failed(pl < 0 ? "cannot encode the key" : e.msg, NULL);
		return;
	}
	memset(pem, 0, sizeof pem);
	chal_clear();
	set_state(AC_IDLE);
	ac.fails = 0;
	log_info("acme: new certificate for %s written to %s", ac.names[0],
	    ac.p_chain);
	if (tls_reload(ac.p_chain, ac.p_key, 1) != 1) {
		log_warnx("acme: the new certificate did not load");
	}
	wait_then((uint64_t)ACME_CHECK_S * 1000, check);
}

/* The body as JSON into ac.tok: the token count, or <= 0 (*b set). */
static int
parse(const struct http_resp *r, const char **b)
{
	*b = r->body;
	return json_parse(r->body, r->body_len, ac.tok, JSON_TOKENS_MAX);
}

/* Member key of object obj as a string into out: 0, or -1. */
static int
str_to(const char *b, int n, int obj, const char *key, char *out,
    size_t cap)
{
	return json_str(b, ac.tok, json_member(b, ac.tok, n, obj, key), out,
	    cap) < 0 ? -1 : 0;
}

/* The detail of the first challenge that failed (RFC 8555 8: its
 * "error" problem document), for the log. */
static void
why_invalid(const char *b, int n)
{
	int chs = json_member(b, ac.tok, n, 0, "challenges");
	char detail[256];

	for (size_t i = 0; chs >= 0 && i < ac.tok[chs].n; i++) {
		int e = json_member(b, ac.tok, n, json_elem(ac.tok, n, chs, i),
		    "error");

		if (e >= 0 && str_to(b, n, e, "detail", detail,
		    sizeof detail) == 0) {
			log_warnx("acme: challenge failed: %s", detail);
			return;
		}
	}
}

/* 1 when member key of object obj is the string lit. */
static int
member_is(const char *b, int n, int obj, const char *key, const char *lit)
{
	int i = n > 0 ? json_member(b, ac.tok, n, obj, key) : -1;

	return i >= 0 && json_str_is(b, &ac.tok[i], lit);
}

/* hostname, then acme_names (autoconfig.DOMAIN, mta-sts.DOMAIN...). */
static void
names_from_cfg(void)
{
	const char *p = cfg_str(ac.cfg, CFG_ACME_NAMES);
	char host[ACME_NAME_MAX];

	ac.nnames = 0;
	(void)fmt(ac.names[ac.nnames++], ACME_NAME_MAX, "%s",
	    cfg_hostname(ac.cfg, host, sizeof host));
	while (*p != '\0' && ac.nnames < ACME_NAMES_MAX) {
		size_t l;

		p += strspn(p, " ,\t");
		l = strcspn(p, " ,\t");
		if (l > 0 && l < ACME_NAME_MAX) {
			memcpy(ac.names[ac.nnames], p, l);
			ac.names[ac.nnames++][l] = '\0';
		}
		p += l;
	}
}

static int
key_load_or_make(struct acme_key *k, const char *path)
{
	struct err e;
	char pem[ACME_PEM_MAX];
	long l;
	struct stat st;

	if (stat(path, &st) == 0) {
		if (acme_key_load(k, path, &e) == -1) {
			log_errorx("acme: %s", e.msg);
			return -1;
		}
		return 0;
	}
	if (acme_key_gen(k) == -1 || (l = acme_key_pem(k, pem,
	    sizeof pem)) < 0 || file_write_atomic(path, pem, (size_t)l, 0600,
	    &e) == -1) {
		memset(pem, 0, sizeof pem);
		return -1;
	}
	memset(pem, 0, sizeof pem);
	log_info("acme: new account key %s", path);
	return 0;
}

static void
chal_clear(void)
{
	ac.nchal = 0;
	acme_chal_clear();
}

/* For tls_server.c: a pending TLS-ALPN-01 challenge for name. */
static int
alpn_lookup(const char *name, const br_x509_certificate **chain,
    const br_ec_private_key **key)
{
	for (size_t i = 0; name != NULL && i < ac.nchal; i++) {
		if (strcasecmp(ac.chal[i].name, name) == 0) {
			*chain = &ac.chal[i].cert;
			*key = &ac.account.sk;
			return 1;
		}
	}
	return 0;
}
