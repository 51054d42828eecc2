/* SPDX-License-Identifier: ISC */
/*
 * serve.c - `wren serve`: the server process.
 *
 * Start-up, in order: read the config, open the log, resolve `user`,
 * create data_dir, size the pools, bind every listener, drop root,
 * then run the loop. Signals arrive through a signalfd in the loop:
 *
 *   SIGHUP          reload; a bad new config is refused, the old stays
 *   SIGTERM SIGINT  stop accepting; sessions whose client is gone
 *                   end at once, idle ones are told (421 4.3.2,
 *                   * BYE, -ERR) at once, work in flight (a message
 *                   being received, a RETR, a delivery) gets at most
 *                   shutdown_timeout (3 s: the whole stop fits in
 *                   procd's 5 s), then everything is cut; exit 0
 *   second signal   cut everything now
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "acme/acme.h"
#include "cli/cli.h"
#include "core/ev.h"
#include "core/fmt.h"
#include "core/log.h"
#include "core/notify.h"
#include "core/privs.h"
#include "map/map.h"
#include "imap/imap.h"
#include "http/http.h"
#include "pop3/pop3.h"
#include "queue/pickup.h"
#include "queue/runner.h"
#include "dns/dns.h"
#include "smtp/smtp.h"
#include "store/junk.h"
#include "tls/dkim_sign.h"
#include "tls/tls.h"

#define SERVE_EXTRA_FDS		64	/* listeners, signalfd, files */
#define SERVE_TIMERS_PER_CONN	2	/* idle + one protocol timer */
#define DRAIN_POLL_MS		50

/* Keys read once at start: changing them needs a restart. */
static const enum cfg_key restart_keys[] = {
	CFG_SMTP_LISTEN, CFG_SUBMISSION_LISTEN, CFG_SUBMISSIONS_LISTEN,
	CFG_IMAP_LISTEN, CFG_IMAPS_LISTEN, CFG_POP3_LISTEN, CFG_POP3S_LISTEN,
	CFG_HTTP_LISTEN, CFG_HTTPS_LISTEN,
	CFG_MAX_CONNECTIONS, CFG_MAX_DELIVERIES, CFG_DNS_SERVERS,
	CFG_SRS_DOMAIN, CFG_USER, CFG_DATA_DIR, CFG_LOG, CFG_ACME_EMAIL,
	CFG_JUNK_FILTER, CFG_JUNK_DB_OPEN,
};

#define LISTENERS_MAX	(9 * CFG_LISTEN_MAX)

struct server {
	struct cfg		 cfg;
	struct ev		 ev;
	struct conn_table	 conns;
	struct conn_table	 out;		/* outbound deliveries' own */
	struct listener		 listeners[LISTENERS_MAX];
	size_t			 nlisteners;
	int			 sigfd;
	int			 stopping;
	struct timer		 drain_poll;
	uint64_t		 drain_deadline;
	struct maps		 maps;
	struct timer		 map_poll;	/* notices replaced .cdb */
};

static void	tls_pair(const struct cfg *, const char **, const char **);
static int	server_listen(struct server *, struct err *);
static void	server_unlisten(struct server *);
static void	signal_ready(struct ev *, int, unsigned, void *);
static void	server_reload(struct server *);
static void	server_stop(struct server *);
static void	drain_check(struct timer *, void *);
static void	map_poll(struct timer *, void *);
static void	log_from_cfg(const struct cfg *);
static int	raise_fd_limit(size_t, struct err *);
static void	tell_manager(const char *);

int
cmd_serve(int argc, char **argv)
{
	static struct server s;		/* big: keep it off the stack */
	const char *path, *cert, *key;
	struct privs pv;
	struct err e;
	sigset_t mask;
	size_t max, maxout, maxfds;
	int rc = 0;

	if (cli_options(argc, argv, "wren serve [-c FILE]", NULL, &path,
	    NULL) == -1) {
		return 2;
	}
	if (cfg_load(&s.cfg, path, &e) == -1) {
		fmt_fd(STDERR_FILENO, "wren: %s\n", e.msg);
		return 1;
	}
	log_from_cfg(&s.cfg);
	if (privs_resolve(cfg_str(&s.cfg, CFG_USER), "/etc/passwd",
	    "/etc/group", &pv, &e) == -1 ||
	    dir_ensure(cfg_str(&s.cfg, CFG_DATA_DIR), 0700, &pv, &e) == -1) {
		log_errorx("%s", e.msg);
		return 1;
	}
	max = (size_t)cfg_num(&s.cfg, CFG_MAX_CONNECTIONS);
	/* Deliveries get their own slots, so that an inbound flood
	 * never takes what outbound mail needs. Each may also hold a
	 * DNS socket and a message file. */
	maxout = WREN_OUTBOUND ? (size_t)cfg_num(&s.cfg,
	    CFG_MAX_DELIVERIES) : 0;
	maxfds = max + (2 + DNS_FDS_PER_LOOKUP) * maxout + SERVE_EXTRA_FDS +
	    SCREEN_DNS_QUERIES;
	if (raise_fd_limit(maxfds, &e) == -1 ||
	    ev_init(&s.ev, maxfds, (max + maxout) * SERVE_TIMERS_PER_CONN +
	    (1 + DNS_TIMERS_PER_LOOKUP) * maxout + SCREEN_DNS_QUERIES + 64,
	    &e) == -1 ||
	    conn_table_init(&s.conns, &s.ev, max,
	    (size_t)cfg_num(&s.cfg, CFG_MAX_CONNECTIONS_PER_IP), &e) == -1 ||
	    (WREN_OUTBOUND && conn_table_init(&s.out, &s.ev, maxout, maxout,
	    &e) == -1)) {
		log_errorx("%s", e.msg);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1 ||
	    (s.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    ev_add_fd(&s.ev, s.sigfd, EV_READ, signal_ready, &s) == -1) {
		log_error("signalfd");
		return 1;
	}
	/* The keys are often readable by root only: load them before the
	 * drop (renewals must then be readable by `user`, see README). */
	tls_pair(&s.cfg, &cert, &key);
	if (tls_init(max, cert, key, &e) == -1 ||
	    (WREN_DKIM && dkim_setup(&s.cfg, &e) == -1) ||
	    server_listen(&s, &e) == -1 || privs_drop(&pv, &e) == -1) {
		log_errorx("%s", e.msg);
		rc = 1;
		goto out;
	}
	timer_init(&s.drain_poll, drain_check, &s);
	/* Tables open as the service user, as every later reload will. */
	maps_open(&s.maps, &s.cfg);
	for (int t = 0; t < MAP_NTYPES; t++) {
		if (cfg_str(&s.cfg, map_cfg_key[t])[0] == '\0') {
			log_info("table %s: not configured", map_type_name[t]);
			continue;
		}
		log_info("table %s: %s: %s", map_type_name[t],
		    s.maps.m[t].cdbpath, map_state_name(s.maps.m[t].state));
	}
	timer_init(&s.map_poll, map_poll, &s);
	map_poll(&s.map_poll, &s);
	if (junk_init(&s.ev, &s.cfg, &e) == -1) {
		log_errorx("%s", e.msg);
		rc = 1;
		goto out_maps;
	}
	if (WREN_SMTP && smtp_init(&s.ev, &s.conns, &s.cfg, &s.maps,
	    max, &e) == -1) {
		log_errorx("%s", e.msg);
		rc = 1;
		goto out_junk;
	}
	if (WREN_IMAP && imap_init(&s.ev, &s.conns, &s.cfg, &s.maps, max,
	    &e) == -1) {
		log_errorx("%s", e.msg);
		rc = 1;
		goto out_smtp;
	}
	if (WREN_POP3 && pop3_init(&s.ev, &s.cfg, &s.maps, max, &e) == -1) {
		log_errorx("%s", e.msg);
		rc = 1;
		goto out_imap;
	}
	if (WREN_HTTP && http_init(&s.ev, &s.cfg, &s.maps, max, &e) == -1) {
		log_errorx("%s", e.msg);
		rc = 1;
		goto out_pop3;
	}
	if (WREN_OUTBOUND && runner_init(&s.ev, &s.out, &s.cfg, &s.maps,
	    &e) == -1) {
		log_errorx("%s", e.msg);
		rc = 1;
		goto out_runner;
	}
	if (WREN_ACME && acme_init(&s.ev, &s.out, &s.cfg, &e) == -1) {
		log_errorx("%s", e.msg);
		rc = 1;
		goto out_runner;
	}
	/* Mail that `wren sendmail` dropped, even while we were down. */
	if (WREN_OUTBOUND && pickup_init(&s.ev, &s.conns, &s.cfg,
	    &e) == -1) {
		log_errorx("%s", e.msg);
		rc = 1;
		goto out_runner;
	}
	log_info("wren started: %zu listener%s, max_connections %zu, "
	    "%zu bytes per connection, pid %d", s.nlisteners,
	    s.nlisteners == 1 ? "" : "s", max, conn_bytes_per_connection(),
	    (int)getpid());
	tell_manager("READY=1");	/* bound, dropped, set up */
	if (ev_run(&s.ev) == -1) {
		log_error("epoll_wait");
		rc = 1;
	}
	log_info("wren stopped");
	if (WREN_OUTBOUND) {
		pickup_shutdown();
	}
out_runner:
	if (WREN_ACME) {
		acme_shutdown();
	}
	if (WREN_OUTBOUND) {
		runner_shutdown();
	}
	if (WREN_HTTP) {
		http_shutdown();
	}
out_pop3:
	if (WREN_POP3) {
		pop3_shutdown();
	}
out_imap:
	if (WREN_IMAP) {
		imap_shutdown();
	}
out_smtp:
	if (WREN_SMTP) {
		smtp_shutdown();
	}
out_junk:
	junk_shutdown();	/* after the sessions: their trainings */
out_maps:
	maps_close(&s.maps);
out:
	server_unlisten(&s);
	conn_table_destroy(&s.conns);
	if (WREN_OUTBOUND) {
		conn_table_destroy(&s.out);
	}
	close(s.sigfd);
	tls_shutdown();
	ev_destroy(&s.ev);
	log_close();
	return rc;
}

/* The pair TLS serves: ACME's own when it is on (acme_email set),
 * else tls_cert and tls_key as written (certbot, acme.sh). */
static void
tls_pair(const struct cfg *c, const char **cert, const char **key)
{
	static char acert[600], akey[600];

	if (WREN_ACME && acme_tls_paths(c, acert, akey, sizeof acert)) {
		*cert = acert;
		*key = akey;
		return;
	}
	*cert = cfg_str(c, CFG_TLS_CERT);
	*key = cfg_str(c, CFG_TLS_KEY);
}

static int
server_listen(struct server *s, struct err *e)
{
	for (size_t k = 0; k < listener_nkinds; k++) {
		const struct listener_kind *lk = &listener_kinds[k];
		struct cfg_listen addrs[CFG_LISTEN_MAX];
		size_t n;

		if (cfg_parse_listen(cfg_str(&s->cfg, lk->key), addrs,
		    CFG_LISTEN_MAX, &n, e) == -1) {
			return -1;
		}
		if (n > 0 && lk->proto == NULL) {
			log_warnx("%s: this version of wren does not serve "
			    "it yet; not listening", cfg_keys[lk->key].name);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			struct listener *l = &s->listeners[s->nlisteners];

			if (s->nlisteners == LISTENERS_MAX) {
				return err_set(e, "too many listeners");
			}
			if (listener_open(l, &s->conns, &addrs[i], lk->proto,
			    e) == -1) {
				return -1;
			}
			s->nlisteners++;
			log_info("%s listening on %s", lk->proto->name,
			    l->name);
		}
	}
	return 0;
}

static void
server_unlisten(struct server *s)
{
	for (size_t i = 0; i < s->nlisteners; i++) {
		listener_close(&s->listeners[i]);
	}
	s->nlisteners = 0;
}

static void
signal_ready(struct ev *ev, int fd, unsigned what, void *arg)
{
	struct server *s = arg;
	struct signalfd_siginfo si;

	(void)ev;
	(void)what;
	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGHUP:
			server_reload(s);
			break;
		case SIGTERM:
		case SIGINT:
			server_stop(s);
			break;
		default:
			break;
		}
	}
}

/* The new config is parsed in full before anything changes, so a bad
 * file leaves the running server exactly as it was. */
static void
server_reload(struct server *s)
{
	static struct cfg next;
	const char *cert, *key;
	struct err e;

	log_info("SIGHUP: reloading %s", s->cfg.path);
	tell_manager("RELOADING=1");
	if (cfg_load(&next, s->cfg.path, &e) == -1) {
		log_errorx("reload refused, keeping the running "
		    "configuration: %s", e.msg);
		tell_manager("READY=1");
		return;
	}
	for (size_t i = 0; i < sizeof restart_keys / sizeof restart_keys[0];
	    i++) {
		enum cfg_key k = restart_keys[i];

		if (strcmp(next.v[k].str, s->cfg.v[k].str) != 0) {
			log_warnx("reload: %s changed; the new value takes "
			    "effect after a restart", cfg_keys[k].name);
			next.v[k] = s->cfg.v[k];
		}
	}
	s->cfg = next;
	maps_close(&s->maps);
	maps_open(&s->maps, &s->cfg);
	tls_pair(&s->cfg, &cert, &key);
	(void)tls_reload(cert, key, 1);
	if (WREN_ACME) {
		acme_reload();
	}
	if (WREN_DKIM && dkim_setup(&s->cfg, &e) == -1) {
		log_warnx("reload: %s (the DKIM keys loaded before stay)",
		    e.msg);
	}
	if (WREN_SMTP) {
		smtp_reconfigure();
	}
	if (WREN_OUTBOUND) {
		runner_reload(&s->cfg);
	}
	s->conns.per_ip = (size_t)cfg_num(&s->cfg,
	    CFG_MAX_CONNECTIONS_PER_IP);
	log_set_level((enum log_level)cfg_num(&s->cfg, CFG_LOG_LEVEL));
	log_info("reload done");
	tell_manager("READY=1");
}

static void
server_stop(struct server *s)
{
	uint64_t grace;

	if (s->stopping) {
		log_info("second stop signal: closing every connection");
		conn_table_abort_all(&s->conns);
		if (WREN_OUTBOUND) {
			conn_table_abort_all(&s->out);
		}
		ev_stop(&s->ev);
		return;
	}
	s->stopping = 1;
	tell_manager("STOPPING=1");
	grace = (uint64_t)cfg_num(&s->cfg, CFG_SHUTDOWN_TIMEOUT);
	log_info("stopping: no new connections, %zu in progress, at most "
	    "%llu s", s->conns.active, (unsigned long long)grace);
	server_unlisten(s);
	conn_table_drain(&s->conns);
	if (WREN_OUTBOUND) {
		/* Deliveries in flight may finish; none start. */
		runner_drain();
	}
	s->drain_deadline = ev_now(&s->ev) + grace * 1000;
	/* First look after this turn's flush: the goodbyes just written
	 * leave before anything is counted or cut (even with a grace of
	 * 0). */
	if (ev_timer_in(&s->ev, &s->drain_poll, 1) == -1) {
		drain_check(&s->drain_poll, s);
	}
}

static void
drain_check(struct timer *t, void *arg)
{
	struct server *s = arg;
	/* Deliveries count until their results are written, which
	 * happens after their connection is gone. */
	size_t active = s->conns.active + (WREN_OUTBOUND ? s->out.active +
	    runner_busy() : 0);
	uint64_t left;

	if (active == 0) {
		ev_stop(&s->ev);
		return;
	}
	if (ev_now(&s->ev) >= s->drain_deadline) {
		log_warnx("shutdown_timeout over: closing %zu connection%s",
		    active, active == 1 ? "" : "s");
		conn_table_abort_all(&s->conns);
		if (WREN_OUTBOUND) {
			conn_table_abort_all(&s->out);
		}
		ev_stop(&s->ev);
		return;
	}
	left = s->drain_deadline - ev_now(&s->ev);
	if (ev_timer_in(&s->ev, t, left < DRAIN_POLL_MS ? left :
	    DRAIN_POLL_MS) == -1) {
		conn_table_abort_all(&s->conns);
		ev_stop(&s->ev);
	}
}

/* A replaced .cdb is picked up within MAP_RECHECK_MS: one stat per
 * table per period, never one per lookup. */
static void
map_poll(struct timer *t, void *arg)
{
	struct server *s = arg;
	const char *cert, *key;

	maps_check(&s->maps);
	/* A renewed certificate (certbot, acme.sh) is taken by itself. */
	tls_pair(&s->cfg, &cert, &key);
	(void)tls_reload(cert, key, 0);
	if (ev_timer_in(&s->ev, t, MAP_RECHECK_MS) == -1) {
		log_errorx("timer heap full: tables no longer rechecked");
	}
}

static void
log_from_cfg(const struct cfg *c)
{
	log_open(cfg_num(c, CFG_LOG) == 0 ? LOG_DEST_SYSLOG : LOG_DEST_STDERR,
	    (enum log_level)cfg_num(c, CFG_LOG_LEVEL), "wren");
}

/* Every connection is an fd: make sure the limit allows them all. */
static int
raise_fd_limit(size_t want, struct err *e)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		return err_set(e, "getrlimit: %s", strerror(errno));
	}
	if (rl.rlim_cur >= want) {
		return 0;
	}
	if (rl.rlim_max < want && geteuid() == 0) {
		rl.rlim_max = want;
	}
	if (rl.rlim_max < want) {
		return err_set(e, "max_connections %zu needs %zu file "
		    "descriptors; the hard limit is %llu", want -
		    SERVE_EXTRA_FDS, want, (unsigned long long)rl.rlim_max);
	}
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		return err_set(e, "setrlimit: %s", strerror(errno));
	}
	return 0;
}

/* Tells systemd (Type=notify) where we are; elsewhere a no-op. */
static void
tell_manager(const char *state)
{
	struct err e;

	if (notify_send(state, &e) == -1) {
		log_warnx("%s", e.msg);
	}
}
