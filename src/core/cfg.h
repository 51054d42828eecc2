/* SPDX-License-Identifier: ISC */
/*
 * cfg.h - the configuration file: one table of keys, a sans-I/O parser,
 * typed accessors and the effective-value printer behind `wren check`.
 *
 * The table below is the single declaration of every key: its name,
 * type, default, bounds and one-line documentation. The parser, `wren
 * check` and the test that compares conf/wren.conf with it all read it.
 *
 * To add a key: add one CFG_KEY line here (the enum and table follow),
 * document it in conf/wren.conf and man/wren.conf.5 (test_config.py
 * and test_man.py fail until you do),
 * and read it with cfg_str()/cfg_num() where it is used.
 */
#ifndef WREN_CFG_H
#define WREN_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "limits.h"

enum cfg_type {
	CFG_T_STR,		/* free text */
	CFG_T_HOST,		/* one host name; empty = computed default */
	CFG_T_DOMAINS,		/* list of domain names */
	CFG_T_NETS,		/* list of CIDR networks */
	CFG_T_LISTEN,		/* list of addr:port; empty = off */
	CFG_T_PATH,		/* file or directory; empty = unset */
	CFG_T_TEMPLATE,		/* path with %d %n %u */
	CFG_T_DELIM,		/* recipient delimiter characters */
	CFG_T_BOOL,		/* yes | no */
	CFG_T_UINT,		/* integer in [min, max] */
	CFG_T_SIZE,		/* bytes, optional k/m/g suffix */
	CFG_T_SECS,		/* duration, unit s m h d, default s */
	CFG_T_SECSLIST,		/* list of durations */
	CFG_T_ENUM,		/* one of the words in `extra` */
	CFG_T_USER,		/* name or uid[:gid]; empty = do not switch */
	CFG_T_RELAYHOST,	/* [host]:port or host[:port]; empty = MX */
	CFG_T_HOSTPORTS		/* list of host[:port] */
};

/* Default listeners exist only for the protocols built in. */
#define CFG_DEF_IF(feature, value)	((feature) ? (value) : "")

/*     id                  name                    type
 *     default
 *     min  max            extra (enum words)       doc */
#define CFG_KEYS(X) \
X(HOSTNAME, "hostname", CFG_T_HOST, "", 0, 0, NULL, \
  "greeting and EHLO name; empty = this system's host name") \
X(DOMAINS, "domains", CFG_T_DOMAINS, "", 0, 0, NULL, \
  "domains delivered here; hostname and localhost always are") \
X(ORIGIN, "origin", CFG_T_HOST, "", 0, 0, NULL, \
  "domain added to bare names from sendmail; empty = hostname") \
X(MYNETWORKS, "mynetworks", CFG_T_NETS, "127.0.0.0/8 ::1/128", 0, 0, \
  NULL, "networks that may relay without AUTH") \
X(DATA_DIR, "data_dir", CFG_T_PATH, "/srv/mail", 0, 0, NULL, \
  "queue and state live below it") \
X(MAIL_HOME, "mail_home", CFG_T_TEMPLATE, "/srv/mail/%d/%n", 0, 0, NULL, \
  "account home when the users file gives none (%n %d %u)") \
X(RECIPIENT_DELIMITER, "recipient_delimiter", CFG_T_DELIM, "+", 0, 0, \
  NULL, "alice+tag@ is delivered to alice; empty = off") \
X(SMTP_LISTEN, "smtp_listen", CFG_T_LISTEN, \
  CFG_DEF_IF(WREN_SMTP, "0.0.0.0:25 [::]:25"), 0, 0, NULL, \
  "MX listener: STARTTLS offered, AUTH only under TLS") \
X(SUBMISSION_LISTEN, "submission_listen", CFG_T_LISTEN, \
  CFG_DEF_IF(WREN_SUBMISSION, "0.0.0.0:587"), 0, 0, NULL, \
  "submission: STARTTLS, AUTH required to send") \
X(SUBMISSIONS_LISTEN, "submissions_listen", CFG_T_LISTEN, \
  CFG_DEF_IF(WREN_SUBMISSION, "0.0.0.0:465"), 0, 0, NULL, \
  "submission over implicit TLS, AUTH required") \
X(IMAP_LISTEN, "imap_listen", CFG_T_LISTEN, \
  CFG_DEF_IF(WREN_IMAP, "0.0.0.0:143"), 0, 0, NULL, \
  "IMAP with STARTTLS") \
X(IMAPS_LISTEN, "imaps_listen", CFG_T_LISTEN, \
  CFG_DEF_IF(WREN_IMAP, "0.0.0.0:993"), 0, 0, NULL, \
  "IMAP over implicit TLS") \
X(POP3_LISTEN, "pop3_listen", CFG_T_LISTEN, "", 0, 0, NULL, \
  "POP3 with STARTTLS; empty = off") \
X(POP3S_LISTEN, "pop3s_listen", CFG_T_LISTEN, "", 0, 0, NULL, \
  "POP3 over implicit TLS; empty = off") \
X(HTTP_LISTEN, "http_listen", CFG_T_LISTEN, "", 0, 0, NULL, \
  "HTTP: client autoconfig, MTA-STS, ACME HTTP-01; empty = off") \
X(HTTPS_LISTEN, "https_listen", CFG_T_LISTEN, "", 0, 0, NULL, \
  "HTTPS: the same, plus the .mobileconfig behind a login; empty = off") \
X(HTTP_TIMEOUT, "http_timeout", CFG_T_SECS, "10", 1, 300, NULL, \
  "HTTP: each request whole within it, from connect or last reply") \
X(MTA_STS_MODE, "mta_sts_mode", CFG_T_ENUM, "none", 0, 0, \
  "none testing enforce", "MTA-STS policy on mta-sts.DOMAIN; none = off") \
X(MTA_STS_MAX_AGE, "mta_sts_max_age", CFG_T_SECS, "604800", 86400, \
  31557600, NULL, "MTA-STS policy max_age (RFC 8461 3.2)") \
X(TLS_CERT, "tls_cert", CFG_T_PATH, "/etc/wren/fullchain.pem", 0, 0, \
  NULL, "PEM certificate chain, leaf first") \
X(TLS_KEY, "tls_key", CFG_T_PATH, "/etc/wren/privkey.pem", 0, 0, NULL, \
  "PEM private key, EC or RSA") \
X(TLS_AUTH_ONLY, "tls_auth_only", CFG_T_BOOL, "yes", 0, 0, NULL, \
  "no cleartext AUTH/LOGIN except from loopback") \
X(USERS, "users", CFG_T_PATH, "/etc/wren/users", 0, 0, NULL, \
  "accounts, Dovecot passwd-file format (read as users.cdb)") \
X(ALIASES, "aliases", CFG_T_PATH, "/etc/wren/aliases", 0, 0, NULL, \
  "aliases, /etc/aliases format") \
X(VIRTUAL, "virtual", CFG_T_PATH, "/etc/wren/virtual", 0, 0, NULL, \
  "virtual addresses, Postfix virtual(5) format") \
X(SENDER_LOGINS, "sender_logins", CFG_T_PATH, "/etc/wren/senders", 0, 0, \
  NULL, "sender addresses each login may use") \
X(SENDER_LOGIN_MISMATCH, "sender_login_mismatch", CFG_T_ENUM, "reject", \
  0, 0, "reject allow", "what to do with a sender the login does not own") \
X(RELAYHOST, "relayhost", CFG_T_RELAYHOST, "", 0, 0, NULL, \
  "smarthost, e.g. [smtp.provider.net]:587; empty = deliver via MX") \
X(RELAY_PASSWORDS, "relay_passwords", CFG_T_PATH, \
  "/etc/wren/relay_passwords", 0, 0, NULL, "credentials for relayhost") \
X(RELAY_CA_FILE, "relay_ca_file", CFG_T_PATH, "", 0, 0, NULL, \
  "CA bundle to verify relayhost; empty = the system bundle") \
X(DNS_SERVERS, "dns_servers", CFG_T_HOSTPORTS, "", 0, 0, NULL, \
  "resolvers as host[:port]; empty = those of /etc/resolv.conf") \
X(REMOTE_SMTP_PORT, "remote_smtp_port", CFG_T_UINT, "25", 1, 65535, NULL, \
  "port used for MX delivery") \
X(RETRY_SCHEDULE, "retry_schedule", CFG_T_SECSLIST, \
  "5m 10m 30m 1h 2h 4h", 1, 30 * 86400, NULL, \
  "delays between delivery attempts; the last repeats") \
X(QUEUE_LIFETIME, "queue_lifetime", CFG_T_SECS, "5d", 60, 60 * 86400, \
  NULL, "then the message is bounced") \
X(SRS_DOMAIN, "srs_domain", CFG_T_STR, "", 0, 0, NULL, \
  "SRS domain for forwarded mail's envelope sender; empty = off") \
X(MAX_DELIVERIES, "max_deliveries", CFG_T_UINT, "20", 1, 1000, NULL, \
  "outbound SMTP connections at once, all destinations together") \
X(MAX_DELIVERIES_PER_DOMAIN, "max_deliveries_per_domain", CFG_T_UINT, "4", \
  1, 1000, NULL, "outbound SMTP connections at once to one domain") \
X(DKIM_SELECTOR, "dkim_selector", CFG_T_STR, "", 0, 0, NULL, \
  "DKIM selector; empty = no signing") \
X(DKIM_KEY, "dkim_key", CFG_T_PATH, "", 0, 0, NULL, \
  "PEM RSA key from wren dkim-keygen") \
X(ACME_EMAIL, "acme_email", CFG_T_STR, "", 0, 0, NULL, \
  "ACME account contact; empty = no ACME, tls_cert/tls_key as written") \
X(ACME_DIRECTORY, "acme_directory", CFG_T_STR, "letsencrypt", 0, 0, NULL, \
  "ACME directory URL, or letsencrypt or letsencrypt-staging") \
X(ACME_CHALLENGE, "acme_challenge", CFG_T_ENUM, "tls-alpn-01", 0, 0, \
  "tls-alpn-01 http-01", "how the names are proven") \
X(ACME_NAMES, "acme_names", CFG_T_DOMAINS, "", 0, 0, NULL, \
  "names the certificate covers besides hostname") \
X(ACME_RENEW_BEFORE, "acme_renew_before", CFG_T_SECS, "30d", 0, \
  3650 * 86400, NULL, "renew when the certificate expires sooner") \
X(INBOUND_AUTH, "inbound_auth", CFG_T_BOOL, "yes", 0, 0, NULL, \
  "DKIM and DMARC checks, Authentication-Results on port 25") \
X(DMARC_REJECT, "dmarc_reject", CFG_T_ENUM, "reject", 0, 0, \
  "reject quarantine", "what a DMARC p=reject failure gets") \
X(PUBLIC_SUFFIX_LIST, "public_suffix_list", CFG_T_PATH, "", 0, 0, NULL, \
  "Public Suffix List table (wren map) for DMARC") \
X(DNSBL_CHECK_ZONES, "dnsbl_check_zones", CFG_T_DOMAINS, \
  "zen.spamhaus.org bl.spamcop.net b.barracudacentral.org", 0, 0, NULL, \
  "DNSBLs wren check --dns looks the server's addresses up in") \
X(CHECK_SMTP_PROBE, "check_smtp_probe", CFG_T_RELAYHOST, "gmail.com", 0, \
  0, NULL, "wren check --dns: domain whose first MX is tried on port 25") \
X(CHECK_DNS_TIMEOUT, "check_dns_timeout", CFG_T_SECS, "5", 1, 60, NULL, \
  "wren check --dns: bound on each query and on the port 25 probe") \
X(MAX_CONNECTIONS, "max_connections", CFG_T_UINT, "64", 1, \
  MAX_CONNECTIONS_LIMIT, NULL, \
  "all listeners together; sizes the pools at start") \
X(MAX_CONNECTIONS_PER_IP, "max_connections_per_ip", CFG_T_UINT, "10", 1, \
  MAX_CONNECTIONS_LIMIT, NULL, "connections from one address") \
X(MESSAGE_SIZE_LIMIT, "message_size_limit", CFG_T_SIZE, "26214400", \
  1024, 2147483647, NULL, "largest message accepted, in bytes") \
X(SMTP_TIMEOUT, "smtp_timeout", CFG_T_SECS, "300", 10, 3600, NULL, \
  "idle SMTP session timeout") \
X(IMAP_TIMEOUT, "imap_timeout", CFG_T_SECS, "1800", 60, 86400, NULL, \
  "idle IMAP session timeout (RFC 3501: at least 30 minutes)") \
X(IMAP_COMPRESS_MAX, "imap_compress_max", CFG_T_UINT, "8", 0, \
  MAX_CONNECTIONS_LIMIT, NULL, \
  "IMAP sessions compressing at once (COMPRESS, about 200 KB each)") \
X(JUNK_FILTER, "junk_filter", CFG_T_BOOL, "yes", 0, 0, NULL, \
  "per-account junk filter (JUNK_FILTER builds): no = off for all") \
X(JUNK_THRESHOLD, "junk_threshold", CFG_T_UINT, "90", 1, 100, NULL, \
  "junk score in percent from which inbound mail goes to Junk") \
X(JUNK_DB_OPEN, "junk_db_open", CFG_T_UINT, "2", 1, 64, NULL, \
  "accounts' junk databases held in memory at once (135 KB each)") \
X(LOGIN_TIMEOUT, "login_timeout", CFG_T_SECS, "180", 10, 3600, NULL, \
  "IMAP and POP3 before login: limit from connect, whatever is sent") \
X(SHUTDOWN_TIMEOUT, "shutdown_timeout", CFG_T_SECS, "3", 0, 60, NULL, \
  "on stop, how long work in flight may finish (fits procd's 5 s)") \
X(AUTH_FAIL_DELAY, "auth_fail_delay", CFG_T_SECS, "2", 0, 60, NULL, \
  "delay per failed login, without blocking others") \
X(AUTH_FAIL_LIMIT, "auth_fail_limit", CFG_T_UINT, "10", 1, 100000, NULL, \
  "failures per IP per hour before that IP is refused") \
X(GREET_DELAY, "greet_delay", CFG_T_SECS, "3", 0, 30, NULL, \
  "port 25: greeting delayed so early talkers show; 0 = off") \
X(DNSBL_ZONES, "dnsbl_zones", CFG_T_STR, "", 0, 0, NULL, \
  "port 25: DNSBLs asked at connect, zone*weight, ...; empty = none") \
X(DNSBL_THRESHOLD, "dnsbl_threshold", CFG_T_UINT, "1", 1, 1000, NULL, \
  "weight of listings refused with 554; less goes to Junk") \
X(SPF_REJECT, "spf_reject", CFG_T_BOOL, "no", 0, 0, NULL, \
  "refuse MAIL FROM whose SPF result is fail (else DMARC decides)") \
X(SMTP_RATE_MESSAGES, "smtp_rate_messages", CFG_T_UINT, "0", 0, 1000000, \
  NULL, "port 25: messages per client address per hour; 0 = no limit") \
X(SMTP_RATE_RECIPIENTS, "smtp_rate_recipients", CFG_T_UINT, "0", 0, \
  1000000, NULL, "port 25: recipients per address per hour; 0 = no limit") \
X(USER, "user", CFG_T_USER, "mail", 0, 0, NULL, \
  "drop to this user (name or uid[:gid]) after binding; empty = stay") \
X(LOG, "log", CFG_T_ENUM, "syslog", 0, 0, "syslog stderr", \
  "syslog (facility mail) or stderr") \
X(LOG_LEVEL, "log_level", CFG_T_ENUM, "info", 0, 0, \
  "error warn info debug", "least severe level logged")

#define CFG_ENUM_ID(id, ...)	CFG_##id,
enum cfg_key {
	CFG_KEYS(CFG_ENUM_ID)
	CFG_NKEYS
};
#undef CFG_ENUM_ID

struct cfg_keydef {
	const char	*name;
	enum cfg_type	 type;
	const char	*def;
	int64_t		 min, max;
	const char	*words;		/* CFG_T_ENUM choices */
	const char	*doc;
};

extern const struct cfg_keydef cfg_keys[CFG_NKEYS];

struct cfg_val {
	char		str[CFG_VALUE_MAX];	/* as written, trimmed */
	int64_t		num;	/* UINT/SIZE/SECS/BOOL; ENUM: word index */
	unsigned	line;	/* 0 = default */
};

struct cfg {
	char		path[CFG_PATH_MAX];
	struct cfg_val	v[CFG_NKEYS];
};

/* Sets every key to its default. */
void	cfg_defaults(struct cfg *);

/* Parses a whole file image (sans-I/O); `name` is used in messages.
 * On error fills e with `NAME:LINE: message` and returns -1; the cfg
 * is then partly filled and must not be used. */
int	cfg_parse(struct cfg *, const char *name, const char *buf,
	    size_t len, struct err *);

/* Reads `path` and parses it. */
int	cfg_load(struct cfg *, const char *path, struct err *);

/* Checks that span keys (the same address in two listeners). */
int	cfg_validate(const struct cfg *, struct err *);

const char	*cfg_str(const struct cfg *, enum cfg_key);
int64_t		 cfg_num(const struct cfg *, enum cfg_key);

/* The effective host name: the key, or this system's name. */
const char	*cfg_hostname(const struct cfg *, char *buf, size_t cap);

/* Writes `key = value` for every key, defaults included, to fd. */
int	cfg_print(const struct cfg *, int fd);

/* Value parsers shared with the code that uses the values. Each returns
 * 0 or -1 with a message (without key or line) in e. */
struct cfg_listen {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];
	uint16_t	port;
};
int	cfg_parse_listen(const char *s, struct cfg_listen *out, size_t cap,
	    size_t *n, struct err *);

struct cfg_net {
	int		family;
	uint8_t		addr[16];
	unsigned	prefix;
};
int	cfg_parse_nets(const char *s, struct cfg_net *out, size_t cap,
	    size_t *n, struct err *);
int	cfg_net_match(const struct cfg_net *, size_t n, int family,
	    const uint8_t *addr);

int	cfg_parse_secs(const char *s, size_t len, int64_t *out);

/* "user" value: a name (looked up in /etc/passwd by privs.c) or
 * uid[:gid] given as numbers. */
struct cfg_user {
	char		name[64];	/* empty when numeric */
	int		has_uid, has_gid;
	uint32_t	uid, gid;
};
int	cfg_parse_user(const char *s, struct cfg_user *, struct err *);

#endif
