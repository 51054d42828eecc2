/* SPDX-License-Identifier: ISC */
/*
 * remote.c - one outbound SMTP delivery on the event loop: DNS, the
 * connection (next address, next MX), the client state machine over
 * it, TLS, the body from the queue file, and the per-recipient results.
 *
 *   DNS ──> CONNECT ──> SMTP ────────────> DONE
 *            ^  │ refused/timeout/          (job->done)
 *            │  │ greeting 4xx/5xx/
 *            └──┘ TLS handshake failed (MX: once more in clear)
 *
 * What is tried next follows RFC 5321 5.1 and Postfix: every address
 * of every MX host in preference order until one takes the
 * transaction; once a server has answered MAIL FROM, its replies are
 * the results. MX hosts get opportunistic TLS (a certificate that does
 * not verify still encrypts; the log says "unverified"); a relayhost
 * gets TLS required and verified, and AUTH when relay_passwords has
 * its credentials: anything less is a deferral, never clear text.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/connect.h"
#include "core/fmt.h"
#include "core/pool.h"
#include "core/log.h"
#include "dns/dns.h"
#include "map/map.h"
#include "queue/remote.h"
#include "queue/smtp_client.h"
#include "queue/srs.h"
#include "map/resolve.h"
#include "tls/tls.h"
#include "tls/tls_client.h"

enum rd_state {
	RD_IDLE,
	RD_DNS,
	RD_CONNECT,
	RD_SMTP,
	RD_DONE
};

static const char *const rd_state_name[] = {
	"idle", "dns", "connect", "smtp", "done"
};

#define RD_BODY_CHUNK	2048	/* message bytes read per encode step */
#define RD_BODY_MIN_ROOM	512	/* output room worth an encode step */
/* Connecting: Postfix's smtp_connect_timeout. */
#define REMOTE_CONNECT_MS	(30 * 1000)
#define REMOTE_SMTPS_PORT	465	/* implicit TLS, RFC 8314 */
/* Addresses one attempt connects to, over all MX hosts (Postfix's
 * smtp_mx_address_limit): with 30 s per connect, an attempt ends in
 * minutes, not in the twenty that ten hosts of four addresses take. */
#define REMOTE_ADDRS_MAX	5

struct rdel {
	struct remote_job	*job;
	enum rd_state		 state;
	struct dns_lookup	*dns;
	struct dns_hosts	 hosts;
	size_t			 host, addr;
	struct conn		*c;
	struct smtp_client	 sc;
	struct smtp_client_msg	 msg;
	struct smtp_client_rcpt	 rc[REMOTE_RCPT_MAX];
	char			 sender[ADDR_MAX + 1];
	int			 fd;		/* queue/msg/<id> */
	uint64_t		 off;
	int			 in_body;
	int			 tls_mode;	/* SC_TLS_* */
	int			 clear_retry;	/* TLS failed: once in clear */
	int			 answered;	/* a server took MAIL */
	uint64_t		 t0;		/* ms, for delay= */
	char			 last_err[REMOTE_REPLY_MAX];
	char			 last_status[REMOTE_STATUS_MAX];
	char			 peer_ip[64];
	uint16_t		 port;
	struct timer		 later;
	/* The wait for the server (RFC 5321 4.5.3.2): armed when the
	 * client's state changes or we write, never by what the server
	 * sends, so a server trickling bytes cannot hold the slot. */
	struct timer		 wait;
	enum smtp_client_state	 waiting;	/* state the timer is for */
	unsigned		 tries;		/* addresses tried */
	int			 ready;		/* set up (at first use) */
};

static struct {
	struct ev		*ev;
	struct conn_table	*out;
	const struct cfg	*cfg;
	struct rdel		*pool;
	size_t			 max;
	char			 helo[CFG_HOST_MAX + 1];
	char			 relay_host[REMOTE_HOST_MAX];
	uint16_t		 relay_port;
	struct maps		*maps;
	struct srs_key		 srs;
	int			 srs_ok;
} rm;

static void	set_state(struct rdel *, enum rd_state);
static void	dns_done(void *, int, const struct dns_hosts *);
static void	try_next(struct rdel *);
static void	finish(struct rdel *);
static void	finish_later(struct timer *, void *);
static void	wait_over(struct timer *, void *);
static void	wait_arm(struct rdel *, unsigned);
static void	fail_all(struct rdel *, enum remote_outcome, const char *,
		    const char *);
static void	pump(struct rdel *);
static void	body_pump(struct rdel *);
static void	tls_done(struct conn *, int, void *);
static void	collect(struct rdel *);
static void	log_results(struct rdel *);
static void	srs_sender(struct rdel *);
static int	parse_relayhost(const char *, char *, size_t, uint16_t *);
static int	relay_creds(char *, size_t, char *, size_t);

static int	rd_open(struct conn *);
static void	rd_input(struct conn *);
static void	rd_writable(struct conn *);
static void	rd_timeout(struct conn *);
static void	rd_drain(struct conn *);
static void	rd_close(struct conn *);
static void	rd_connect_failed(struct conn *, int);

static const struct proto remote_proto = {
	.name = "smtp-out",
	.open = rd_open,
	.input = rd_input,
	.writable = rd_writable,
	.timeout = rd_timeout,
	.drain = rd_drain,
	.close = rd_close,
	.connect_failed = rd_connect_failed,
};

int
remote_init(struct ev *ev, struct conn_table *out, const struct cfg *cfg,
    struct maps *maps, size_t max, struct err *e)
{
	struct dns_server servers[DNS_SERVERS_MAX];
	size_t nservers = 0;

	memset(&rm, 0, sizeof rm);
	rm.ev = ev;
	rm.out = out;
	rm.max = max;
	rm.maps = maps;
	rm.pool = pool_pages(max * sizeof *rm.pool);
	if (rm.pool == NULL) {
		return err_set(e, "outbound: out of memory");
	}
	/* The resolver also serves the inbound checks of port 25
	 * (smtp_screen.c): room for their queries. Slots are set up at
	 * first use (remote_start): pages of slots
	 * never used stay out of memory. */
	if (dns_servers_parse(cfg_str(cfg, CFG_DNS_SERVERS), servers,
	    DNS_SERVERS_MAX, &nservers, e) == -1 ||
	    dns_init(ev, servers, nservers, max + (SCREEN_DNS_QUERIES +
	    DNS_QUERIES_PER_LOOKUP - 1) / DNS_QUERIES_PER_LOOKUP,
	    e) == -1) {
		return -1;
	}
	switch (tls_client_init(max, cfg_str(cfg, CFG_RELAY_CA_FILE), e)) {
	case -1:
		return -1;
	case 1:
		log_warnx("outbound TLS: %s: relayhost deliveries will "
		    "be deferred", e->msg);
		break;
	default:
		log_info("outbound TLS: %zu trust anchors",
		    tls_client_anchors());
		break;
	}
	if (*cfg_str(cfg, CFG_SRS_DOMAIN) != '\0') {
		if (srs_init(cfg_str(cfg, CFG_DATA_DIR), &rm.srs, e) == -1) {
			return -1;
		}
		rm.srs_ok = 1;
	}
	remote_reload(cfg);
	return 0;
}

void
remote_reload(const struct cfg *cfg)
{
	struct err e;

	if (rm.cfg != NULL && tls_client_reload(cfg_str(cfg,
	    CFG_RELAY_CA_FILE), &e) == -1) {
		/* After the privilege drop a root-only bundle cannot be
		 * read again: the anchors loaded at start stay. */
		log_warnx("outbound TLS: %s; keeping the CA bundle in use",
		    e.msg);
	}
	rm.cfg = cfg;
	{
		char host[CFG_HOST_MAX + 1];

		/* Same size: never cut. */
		(void)fmt(rm.helo, sizeof rm.helo, "%s",
		    cfg_hostname(cfg, host, sizeof host));
	}
	rm.relay_host[0] = '\0';
	rm.relay_port = 0;
	if (*cfg_str(cfg, CFG_RELAYHOST) != '\0' &&
	    parse_relayhost(cfg_str(cfg, CFG_RELAYHOST), rm.relay_host,
	    sizeof rm.relay_host, &rm.relay_port) == -1) {
		log_warnx("relayhost %s: not [host]:port",
		    cfg_str(cfg, CFG_RELAYHOST));
	}
	dns_cache_flush();
}

void
remote_shutdown(void)
{
	if (rm.pool == NULL) {
		return;
	}
	for (size_t i = 0; i < rm.max; i++) {
		if (!rm.pool[i].ready) {
			continue;
		}
		ev_timer_cancel(rm.ev, &rm.pool[i].later);
		if (rm.pool[i].fd != -1) {
			close(rm.pool[i].fd);
		}
	}
	dns_shutdown();
	tls_client_shutdown();
	pool_pages_free(rm.pool, rm.max * sizeof *rm.pool);
	rm.pool = NULL;
}

size_t
remote_bytes_per_delivery(void)
{
	return sizeof(struct rdel) + conn_table_bytes_per_slot() +
	    tls_client_bytes_per_connection();
}

int
remote_start(struct remote_job *j)
{
	struct rdel *d = NULL;

	for (size_t i = 0; i < rm.max; i++) {
		if (rm.pool[i].state == RD_IDLE) {
			d = &rm.pool[i];
			break;
		}
	}
	if (d == NULL) {
		return -1;
	}
	if (!d->ready) {
		d->fd = -1;
		timer_init(&d->later, finish_later, d);
		timer_init(&d->wait, wait_over, d);
		d->ready = 1;
	}
	d->hosts.n = 0;
	d->job = j;
	d->host = d->addr = 0;
	d->tries = 0;
	d->c = NULL;
	d->in_body = 0;
	d->off = 0;
	d->clear_retry = 0;
	d->answered = 0;
	d->last_err[0] = '\0';
	d->last_status[0] = '\0';
	d->t0 = ev_now(rm.ev);
	j->priv = d;
	/* Same size (ADDR_MAX + 1): never cut. */
	(void)fmt(d->sender, sizeof d->sender, "%s", j->sender);
	srs_sender(d);
	j->relay[0] = j->tls[0] = j->relay_host[0] = '\0';
	for (size_t i = 0; i < j->nrcpt; i++) {
		j->r[i].outcome = REMOTE_PENDING;
		j->r[i].status[0] = j->r[i].reply[0] = '\0';
	}
	if (rm.relay_host[0] != '\0') {
		d->port = rm.relay_port;
		d->tls_mode = TLS_VERIFY;
		d->dns = dns_addrs(rm.relay_host, dns_done, d);
	} else {
		d->port = (uint16_t)cfg_num(rm.cfg, CFG_REMOTE_SMTP_PORT);
		d->tls_mode = TLS_OPPORTUNISTIC;
		d->dns = dns_mx(j->domain, dns_done, d);
	}
	if (d->dns == NULL) {
		d->job = NULL;
		return -1;
	}
	set_state(d, RD_DNS);
	return 0;
}

static void
set_state(struct rdel *d, enum rd_state to)
{
	log_debug("queue %s: %s -> %s", d->job != NULL ? d->job->id : "-",
	    rd_state_name[d->state], rd_state_name[to]);
	d->state = to;
}

static void
dns_done(void *arg, int status, const struct dns_hosts *hosts)
{
	struct rdel *d = arg;
	struct remote_job *j = d->job;
	const char *what = rm.relay_host[0] != '\0' ? rm.relay_host :
	    j->domain;

	d->dns = NULL;
	switch (status) {
	case DNS_OK:
		d->hosts = *hosts;
		try_next(d);
		return;
	case DNS_NULLMX:
		(void)fmt(d->last_err, sizeof d->last_err,
		    "domain %s does not accept mail (nullMX)", what);
		fail_all(d, REMOTE_FAILED, "5.1.10", d->last_err);
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
	case DNS_PERMFAIL:
		if (rm.relay_host[0] != '\0') {
			/* Our own configuration: never bounce for it. */
			(void)fmt(d->last_err, sizeof d->last_err,
			    "relayhost %s: %s", what, dns_status_str(status));
			fail_all(d, REMOTE_DEFERRED, "4.4.4", d->last_err);
			break;
		}
		(void)fmt(d->last_err, sizeof d->last_err, "Host or domain "
		    "name not found. Name service error for name=%s: %s", what,
		    dns_status_str(status));
		fail_all(d, REMOTE_FAILED, "5.1.2", d->last_err);
		break;
	default:
		(void)fmt(d->last_err, sizeof d->last_err, "Host or domain "
		    "name not found. Name service error for name=%s: %s", what,
		    dns_status_str(status));
		fail_all(d, REMOTE_DEFERRED, "4.4.3", d->last_err);
		break;
	}
	finish(d);
}

/* Next address of this host, then the next host. */
static void
try_next(struct rdel *d)
{
	struct remote_job *j = d->job;
	struct err e;

	while (d->host < d->hosts.n && d->tries < REMOTE_ADDRS_MAX) {
		const struct dns_host *h = &d->hosts.h[d->host];
		const struct dns_addr *a;
		struct sockaddr_storage ss;
		socklen_t sl;

		if (d->addr >= h->naddrs) {
			d->host++;
			d->addr = 0;
			d->clear_retry = 0;
			continue;
		}
		a = &h->addrs[d->addr++];
		memset(&ss, 0, sizeof ss);
		if (a->family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(d->port);
			memcpy(&s6->sin6_addr, a->addr, 16);
			sl = sizeof *s6;
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			s4->sin_port = htons(d->port);
			memcpy(&s4->sin_addr, a->addr, 4);
			sl = sizeof *s4;
		}
		addr_text(d->peer_ip, sizeof d->peer_ip, a->family,
		    a->addr);
		(void)fmt(j->relay_host, sizeof j->relay_host, "%s[%s]",
		    h->name, d->peer_ip);
		(void)fmt(j->relay, sizeof j->relay, "%s[%s]:%u", h->name,
		    d->peer_ip, (unsigned)d->port);
		j->tls[0] = '\0';
		if (conn_connect(rm.out, (struct sockaddr *)&ss, sl, NULL, 0,
		    &remote_proto, d, REMOTE_CONNECT_MS, &d->c, &e) == -1) {
			(void)fmt(d->last_err, sizeof d->last_err,
			    "connect to %s: %s", j->relay, e.msg);
			continue;
		}
		d->tries++;
		set_state(d, RD_CONNECT);
		return;
	}
	if (d->last_err[0] == '\0') {
		(void)fmt(d->last_err, sizeof d->last_err,
		    "no address to deliver to for %s", j->domain);
	}
	fail_all(d, REMOTE_DEFERRED, d->last_status[0] != '\0' ?
	    d->last_status : "4.4.1", d->last_err);
	finish(d);
}

static void
fail_all(struct rdel *d, enum remote_outcome o, const char *status,
    const char *text)
{
	struct remote_job *j = d->job;

	for (size_t i = 0; i < j->nrcpt; i++) {
		if (j->r[i].outcome == REMOTE_PENDING) {
			j->r[i].outcome = o;
			(void)fmt(j->r[i].status, sizeof j->r[i].status, "%s",
			    status);
			(void)fmt(j->r[i].reply, sizeof j->r[i].reply, "%s",
			    text);
		}
	}
}

/* The job is over: log each recipient, then tell the runner from the
 * loop (never from inside a connection hook). */
static void
finish(struct rdel *d)
{
	set_state(d, RD_DONE);
	log_results(d);
	ev_timer_in(rm.ev, &d->later, 0);
}

static void
finish_later(struct timer *t, void *arg)
{
	struct rdel *d = arg;
	struct remote_job *j = d->job;

	(void)t;
	if (d->state == RD_CONNECT) {
		/* The last connection ended without a transaction: the
		 * next address or host. */
		try_next(d);
		return;
	}
	if (d->fd != -1) {
		close(d->fd);
		d->fd = -1;
	}
	d->job = NULL;
	d->c = NULL;
	set_state(d, RD_IDLE);
	j->priv = NULL;
	j->done(j);
}

static void
log_results(struct rdel *d)
{
	struct remote_job *j = d->job;
	uint64_t ms = ev_now(rm.ev) - d->t0;
	int64_t total = (int64_t)time(NULL) - j->arrival;

	for (size_t i = 0; i < j->nrcpt; i++) {
		const struct remote_rcpt *r = &j->r[i];
		const char *st = r->outcome == REMOTE_SENT ? "sent" :
		    r->outcome == REMOTE_FAILED ? "bounced" : "deferred";

		log_info("queue %s: to=<%s>, relay=%s, delay=%lld, "
		    "delays=%llu.%03llu, tls=%s, dsn=%s, status=%s (%s)",
		    j->id, r->addr, j->relay[0] != '\0' ? j->relay : "none",
		    (long long)total, (unsigned long long)(ms / 1000),
		    (unsigned long long)(ms % 1000),
		    j->tls[0] != '\0' ? j->tls : "none", r->status, st,
		    r->reply);
	}
}

/* --- the connection ------------------------------------------------ */

static int
rd_open(struct conn *c)
{
	struct rdel *d = c->sess;
	struct remote_job *j = d->job;
	int relay = rm.relay_host[0] != '\0';
	struct smtp_client_opts o;
	static char user[SMTP_AUTH_CRED_MAX + 1], pass[SMTP_AUTH_CRED_MAX + 1];

	d->answered = 0;
	memset(&o, 0, sizeof o);
	o.helo = rm.helo;
	o.peer = j->relay_host;
	o.tls = relay ? SMTP_TLS_REQUIRE : d->clear_retry ? SMTP_TLS_NONE :
	    SMTP_TLS_MAY;
	if (relay && relay_creds(user, sizeof user, pass, sizeof pass) == 1) {
		o.auth_user = user;
		o.auth_pass = pass;
	}
	d->msg.sender = d->sender;
	d->msg.rcpt = d->rc;
	d->msg.nrcpt = j->nrcpt;
	d->msg.envid = j->envid[0] != '\0' ? j->envid : NULL;
	d->msg.ret = (unsigned)j->ret;
	d->msg.size = j->size;
	d->msg.need_8bitmime = j->eightbit;
	d->msg.need_smtputf8 = j->smtputf8;
	for (size_t i = 0; i < j->nrcpt; i++) {
		memset(&d->rc[i], 0, sizeof d->rc[i]);
		d->rc[i].addr = j->r[i].addr;
		d->rc[i].notify = j->r[i].notify;
		d->rc[i].orcpt = j->r[i].orcpt[0] != '\0' ? j->r[i].orcpt :
		    NULL;
	}
	if (relay && d->port == REMOTE_SMTPS_PORT) {
		/* Port 465: TLS before the greeting (RFC 8314). */
		o.tls_active = 1;
		if (tls_client_start(c, rm.relay_host, TLS_VERIFY, tls_done,
		    d) == -1) {
			(void)fmt(d->last_err, sizeof d->last_err,
			    "no TLS slot");
			return -1;
		}
	}
	if (smtp_client_init(&d->sc, &o, &d->msg) == -1) {
		(void)fmt(d->last_err, sizeof d->last_err,
		    "cannot set up the SMTP session");
		log_warnx("queue %s: %s (helo '%s' sender '%s' nrcpt %zu)",
		    j->id, d->last_err, rm.helo, d->sender, j->nrcpt);
		return -1;
	}
	set_state(d, RD_SMTP);
	conn_set_timeout(c, 0);
	wait_arm(d, smtp_client_timeout_ms(&d->sc));
	return 0;
}

static void
rd_input(struct conn *c)
{
	struct rdel *d = c->sess;

	smtp_client_feed(&d->sc, buf_head(&c->in), c->in.len);
	conn_consume(c, c->in.len);
	pump(d);
}

static void
rd_writable(struct conn *c)
{
	struct rdel *d = c->sess;

	if (d->in_body) {
		body_pump(d);
	} else {
		pump(d);
	}
}

static void
rd_timeout(struct conn *c)
{
	struct rdel *d = c->sess;

	smtp_client_timeout(&d->sc);
	collect(d);
	conn_abort(c);
}

/* The server took longer than RFC 5321 4.5.3.2 allows for this step. */
static void
wait_over(struct timer *t, void *arg)
{
	struct rdel *d = arg;

	(void)t;
	if (d->c != NULL && d->state == RD_SMTP) {
		rd_timeout(d->c);
	}
}

static void
wait_arm(struct rdel *d, unsigned ms)
{
	d->waiting = d->sc.state;
	if (ms == 0) {
		ev_timer_cancel(rm.ev, &d->wait);
	} else if (ev_timer_in(rm.ev, &d->wait, ms) == -1) {
		log_warnx("queue %s: timer heap full", d->job->id);
	}
}

/* Shutdown: a delivery in flight finishes (serve.c's grace period). */
static void
rd_drain(struct conn *c)
{
	(void)c;
}

static void
rd_connect_failed(struct conn *c, int err)
{
	struct rdel *d = c->sess;

	(void)fmt(d->last_err, sizeof d->last_err, "connect to %s: %s",
	    d->job->relay, strerror(err));
}

static void
rd_close(struct conn *c)
{
	struct rdel *d = c->sess;

	d->c = NULL;
	ev_timer_cancel(rm.ev, &d->wait);
	if (d->fd != -1) {
		close(d->fd);
		d->fd = -1;
	}
	d->in_body = 0;
	if (d->state == RD_SMTP) {
		/* Gone before the session ended: lost. */
		smtp_client_lost(&d->sc);
		collect(d);
	}
	if (d->state == RD_DONE) {
		finish(d);
	} else if (d->state == RD_CONNECT) {
		/* Refused, or no server took the transaction: the next
		 * address (collect said so). */
		ev_timer_in(rm.ev, &d->later, 0);
	}
}

/* Moves the client along: commands out, STARTTLS, body, the end. */
static void
pump(struct rdel *d)
{
	static char out[SMTP_CLIENT_CMD_MAX * 4];
	struct conn *c = d->c;
	int wrote = 0;

	if (c == NULL || d->state != RD_SMTP) {
		return;
	}
	for (;;) {
		size_t room = buf_room(&c->out), n = 0;
		enum smtp_client_action a;

		if (room > sizeof out) {
			room = sizeof out;
		}
		if (room < SMTP_CLIENT_CMD_MAX) {
			break;		/* rd_writable comes back */
		}
		a = smtp_client_next(&d->sc, out, room, &n);
		log_debug("queue %s: smtp client %s, action %d",
		    d->job->id, smtp_client_state_name(d->sc.state), (int)a);
		if (a == SMTP_CLIENT_NONE) {
			break;
		}
		if (a == SMTP_CLIENT_WRITE) {
			if (conn_write(c, out, n) == -1) {
				break;
			}
			wrote = 1;
			continue;
		}
		if (a == SMTP_CLIENT_STARTTLS) {
			if (tls_client_start(c, d->hosts.h[d->host].name,
			    rm.relay_host[0] != '\0' ? TLS_VERIFY :
			    TLS_OPPORTUNISTIC, tls_done, d) == -1) {
				smtp_client_tls_done(&d->sc, 0);
				continue;
			}
			break;
		}
		if (a == SMTP_CLIENT_BODY) {
			d->fd = open(d->job->msg_path, O_RDONLY | O_CLOEXEC);
			if (d->fd == -1) {
				log_warn("queue %s: %s", d->job->id,
				    d->job->msg_path);
				smtp_client_lost(&d->sc);
				collect(d);
				conn_abort(c);
				return;
			}
			d->in_body = 1;
			d->off = 0;
			body_pump(d);
			return;
		}
		/* SMTP_CLIENT_DONE */
		collect(d);
		conn_close(c);
		return;
	}
	if (wrote || d->sc.state != d->waiting) {
		wait_arm(d, smtp_client_timeout_ms(&d->sc));
	}
}

/* The message, as much as the output buffer takes now. Encoding at
 * most doubles a chunk (LF -> CR LF, '.' -> ".."), so a chunk is at
 * most half the room left. */
static void
body_pump(struct rdel *d)
{
	static char in[RD_BODY_CHUNK], out[2 * RD_BODY_CHUNK + 8];
	struct conn *c = d->c;

	while (d->in_body) {
		size_t room = buf_room(&c->out), want, n, used, outlen;
		ssize_t r;

		if (room > sizeof out) {
			room = sizeof out;
		}
		if (room < RD_BODY_MIN_ROOM) {
			break;		/* rd_writable comes back */
		}
		want = (room - SMTP_CLIENT_BODY_END_MAX) / 2;
		if (want > sizeof in) {
			want = sizeof in;
		}
		r = pread(d->fd, in, want, (off_t)d->off);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			log_warn("queue %s: %s", d->job->id,
			    d->job->msg_path);
			smtp_client_lost(&d->sc);
			collect(d);
			conn_abort(c);
			return;
		}
		if (r == 0) {
			n = smtp_client_body_end(&d->sc, out, room);
			(void)conn_write(c, out, n);
			close(d->fd);
			d->fd = -1;
			d->in_body = 0;
			smtp_client_body_done(&d->sc);
			pump(d);
			return;
		}
		n = (size_t)r;
		used = smtp_client_body_encode(&d->sc, in, n, out, room,
		    &outlen);
		if (conn_write(c, out, outlen) == -1) {
			break;		/* cannot happen: room was checked */
		}
		d->off += used;
	}
	wait_arm(d, SMTP_CLIENT_BLOCK_MS);
}

static void
tls_done(struct conn *c, int ok, void *arg)
{
	struct rdel *d = arg;
	const char *v = "", *ciph = "", *why = NULL;

	if (ok && tls_info(c, &v, &ciph)) {
		int verified = tls_peer_verified(c, &why);

		(void)fmt(d->job->tls, sizeof d->job->tls, "%s %s %s%s%s%s", v,
		    ciph, verified ? "verified" : "unverified",
		    verified ? "" : " (", verified || why == NULL ? "" : why,
		    verified ? "" : ")");
	} else if (!ok) {
		(void)fmt(d->last_err, sizeof d->last_err,
		    "TLS handshake with %s failed: %s", d->job->relay,
		    tls_failure(c));
	}
	smtp_client_tls_done(&d->sc, ok);
	if (ok) {
		pump(d);
	}
}

/*
 * The session's results into the job. When no server took the
 * transaction (refused at the greeting, EHLO, or the TLS handshake)
 * and another address is left, the state goes back to RD_CONNECT: the
 * close hook then tries the next one (RFC 5321 5.1).
 */
static void
collect(struct rdel *d)
{
	struct remote_job *j = d->job;
	int took = 0, tls_failed = 0;

	if (d->state != RD_SMTP) {
		return;
	}
	for (size_t i = 0; i < j->nrcpt; i++) {
		const struct smtp_result *res = &d->rc[i].result;

		if (res->stage >= SMTP_STAGE_MAIL || res->esc[0] == '2' ||
		    strcmp(res->esc, "5.4.6") == 0) {
			took = 1;	/* 5.4.6: it loops back to us */
		}
		if (res->stage == SMTP_STAGE_TLS && res->code == 0) {
			tls_failed = 1;
		}
	}
	if (!took) {
		const struct smtp_result *res = &d->rc[0].result;

		if (res->code != 0) {
			(void)fmt(d->last_err, sizeof d->last_err,
			    "host %s said: %u %s (in reply to %s)",
			    j->relay_host, res->code, res->text,
			    smtp_stage_name(res->stage));
		} else if (res->text[0] != '\0' && (!tls_failed ||
		    d->last_err[0] == '\0')) {
			(void)fmt(d->last_err, sizeof d->last_err, "%s: %s",
			    j->relay_host, res->text);
		}
		if (res->esc[0] == '4' || res->esc[0] == '5') {
			/* Deferred whatever it says: another address, or
			 * the next attempt, may take it. */
			(void)fmt(d->last_status, sizeof d->last_status, "4%s",
			    res->esc + 1);
		}
		if (tls_failed && rm.relay_host[0] == '\0' &&
		    !d->clear_retry) {
			/* Opportunistic TLS that fails: the same host
			 * again in clear, as Postfix does. */
			d->clear_retry = 1;
			d->addr--;
			set_state(d, RD_CONNECT);
			return;
		}
		if (d->host < d->hosts.n && d->tries < REMOTE_ADDRS_MAX) {
			set_state(d, RD_CONNECT);
			return;
		}
	}
	for (size_t i = 0; i < j->nrcpt; i++) {
		const struct smtp_result *res = &d->rc[i].result;
		struct remote_rcpt *r = &j->r[i];

		r->outcome = res->esc[0] == '2' ? REMOTE_SENT :
		    res->esc[0] == '5' ? REMOTE_FAILED : REMOTE_DEFERRED;
		(void)fmt(r->status, sizeof r->status, "%s",
		    res->esc[0] != '\0' ? res->esc : "4.4.2");
		if (res->code != 0) {
			(void)fmt(r->reply, sizeof r->reply, "%u %s%s%s",
			    res->code, res->esc,
			    res->esc[0] != '\0' ? " " : "", res->text);
		} else {
			(void)fmt(r->reply, sizeof r->reply, "%s",
			    res->text[0] != '\0' ? res->text : d->last_err);
		}
	}
	set_state(d, RD_DONE);
}

/* "[host]:port", "host:port" or "host" (port 25). */
static int
parse_relayhost(const char *s, char *host, size_t cap, uint16_t *port)
{
	const char *end, *colon;
	size_t len;
	long p = 25;

	if (*s == '[') {
		end = strchr(s, ']');
		if (end == NULL) {
			return -1;
		}
		s++;
		len = (size_t)(end - s);
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		len = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (colon != NULL) {
		char *stop;

		p = strtol(colon + 1, &stop, 10);
		if (*stop != '\0' || p < 1 || p > 65535) {
			return -1;
		}
	}
	if (len == 0 || len >= cap) {
		return -1;
	}
	memcpy(host, s, len);
	host[len] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/*
 * relay_passwords: user and password under the relayhost as configured,
 * then "[host]:port", then "host" (smtp_sasl_password_maps' order).
 * 1 found, 0 none (no AUTH), -1 the table is unusable.
 */
static int
relay_creds(char *user, size_t ucap, char *pass, size_t pcap)
{
	char keys[3][REMOTE_HOST_MAX + 16];
	struct map *m = &rm.maps->m[MAP_RELAY_PASSWORDS];
	int n[3];

	n[0] = fmt(keys[0], sizeof keys[0], "%s",
	    cfg_str(rm.cfg, CFG_RELAYHOST));
	n[1] = fmt(keys[1], sizeof keys[1], "[%s]:%u", rm.relay_host,
	    (unsigned)rm.relay_port);
	n[2] = fmt(keys[2], sizeof keys[2], "%s", rm.relay_host);
	for (int k = 0; k < 3; k++) {
		const char *v, *colon;
		size_t vlen, klen = strlen(keys[k]);
		int rc;

		if (n[k] >= (int)sizeof keys[k]) {
			continue;	/* a cut key could match another entry */
		}
		for (size_t i = 0; i < klen; i++) {
			if (keys[k][i] >= 'A' && keys[k][i] <= 'Z') {
				keys[k][i] = (char)(keys[k][i] - 'A' + 'a');
			}
		}
		rc = map_lookup(m, keys[k], klen, &v, &vlen);
		if (rc == -1) {
			return -1;
		}
		if (rc == 0) {
			continue;
		}
		/* `wren map` stores "user\0password". */
		colon = memchr(v, '\0', vlen);
		if (colon == NULL || (size_t)(colon - v) >= ucap ||
		    vlen - (size_t)(colon - v) - 1 >= pcap) {
			log_warnx("relay_passwords: %s: not user:password",
			    keys[k]);
			return -1;
		}
		memcpy(user, v, (size_t)(colon - v));
		user[colon - v] = '\0';
		memcpy(pass, colon + 1, vlen - (size_t)(colon - v) - 1);
		pass[vlen - (size_t)(colon - v) - 1] = '\0';
		return 1;
	}
	return 0;
}

/*
 * With srs_domain set, a sender outside our domains (mail forwarded
 * by an alias, or relayed for mynetworks) leaves with an SRS address
 * of ours, so the next hop's SPF check sees our domain; the reverse
 * happens when a bounce comes back to it.
 */
static void
srs_sender(struct rdel *d)
{
	const char *srs_domain = cfg_str(rm.cfg, CFG_SRS_DOMAIN);
	const char *at = strrchr(d->sender, '@');
	char out[ADDR_MAX + 1];

	if (!rm.srs_ok || *srs_domain == '\0' || at == NULL ||
	    resolve_is_local_domain(rm.cfg, at + 1, strlen(at + 1))) {
		return;
	}
	if (srs_forward(&rm.srs, srs_domain, d->sender, out, sizeof out,
	    time(NULL)) == 1) {
		log_debug("queue %s: sender <%s> as <%s>", d->job->id,
		    d->sender, out);
		/* Same size (ADDR_MAX + 1): never cut. */
		(void)fmt(d->sender, sizeof d->sender, "%s", out);
	}
}
