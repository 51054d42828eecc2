/* SPDX-License-Identifier: ISC */
/*
 * http_autoconf.c - the documents that tell a mail client how to
 * reach wren:
 *
 *   Thunderbird   clientConfig 1.1 (wiki.mozilla.org/Thunderbird:
 *                 Autoconfiguration:ConfigFileFormat)
 *   Outlook       Autodiscover POX, outlook responseschema 2006a
 *   Apple         a .mobileconfig with one com.apple.mail.managed
 *                 payload (Configuration Profile Reference), unsigned
 *   MTA-STS       the policy file (RFC 8461 3.2)
 *
 * Every variable part (address, domain, host name) passed a plain
 * character set on the way in (autoconf_init), so nothing needs XML
 * escaping and no document can be broken out of.
 */
#include <bearssl.h>
#include <stdarg.h>
#include <string.h>

#include "core/fmt.h"
#include "http/http_autoconf.h"

struct doc {
	char	*p;
	size_t	 cap, len;
	int	 full;
};

static void	put(struct doc *, const char *f, ...)
		    __attribute__((format(printf, 2, 3)));
static long	doc_end(const struct doc *);
static int	plain(char *dst, size_t cap, const char *s, size_t len,
		    int at);
static void	add_srv(struct autoconf *, const struct cfg *, enum cfg_key,
		    const char *proto, int ssl);
static void	uuid(const struct autoconf *, const char *kind, char *out);

int
autoconf_init(struct autoconf *ac, const struct cfg *cfg, const char *email,
    size_t elen, const char *domain, size_t dlen)
{
	char hb[CFG_HOST_MAX + 1];
	const char *h = cfg_hostname(cfg, hb, sizeof hb), *at;

	memset(ac, 0, sizeof *ac);
	if (plain(ac->host, sizeof ac->host, h, strlen(h), 0) == -1) {
		memcpy(ac->host, "localhost", sizeof "localhost");
	}
	if (elen > 0) {
		if (plain(ac->email, sizeof ac->email, email, elen, 1) == -1 ||
		    (at = strchr(ac->email, '@')) == NULL ||
		    at == ac->email || at[1] == '\0') {
			return -1;
		}
		memcpy(ac->domain, at + 1, strlen(at + 1) + 1);
	} else if (dlen > 0) {
		if (plain(ac->domain, sizeof ac->domain, domain, dlen, 0) ==
		    -1) {
			return -1;
		}
	} else {
		const char *d = cfg_str(cfg, CFG_DOMAINS);
		size_t n = strcspn(d, " \t,");

		if (n == 0 || plain(ac->domain, sizeof ac->domain, d, n, 0)
		    == -1) {
			memcpy(ac->domain, ac->host, sizeof ac->domain);
		}
	}
	add_srv(ac, cfg, CFG_IMAPS_LISTEN, "imap", 1);
	add_srv(ac, cfg, CFG_IMAP_LISTEN, "imap", 0);
	if (WREN_POP3) {
		add_srv(ac, cfg, CFG_POP3S_LISTEN, "pop3", 1);
		add_srv(ac, cfg, CFG_POP3_LISTEN, "pop3", 0);
	}
	if (WREN_SUBMISSION) {
		add_srv(ac, cfg, CFG_SUBMISSIONS_LISTEN, "smtp", 1);
		add_srv(ac, cfg, CFG_SUBMISSION_LISTEN, "smtp", 0);
	}
	return 0;
}

const struct autoconf_srv *
autoconf_find(const struct autoconf *ac, const char *proto)
{
	for (size_t i = 0; i < ac->nsrv; i++) {
		if (strcmp(ac->srv[i].proto, proto) == 0) {
			return &ac->srv[i];
		}
	}
	return NULL;
}

long
autoconf_thunderbird(const struct autoconf *ac, char *out, size_t cap)
{
	struct doc d = { out, cap, 0, 0 };

	put(&d, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<clientConfig version=\"1.1\">\n"
	    "<emailProvider id=\"%s\">\n<domain>%s</domain>\n"
	    "<displayName>%s</displayName>\n"
	    "<displayShortName>%s</displayShortName>\n",
	    ac->domain, ac->domain, ac->domain, ac->domain);
	for (size_t i = 0; i < ac->nsrv; i++) {
		const struct autoconf_srv *s = &ac->srv[i];
		const char *io = strcmp(s->proto, "smtp") == 0 ?
		    "outgoing" : "incoming";

		put(&d, "<%sServer type=\"%s\">\n<hostname>%s</hostname>\n"
		    "<port>%u</port>\n<socketType>%s</socketType>\n"
		    "<authentication>password-cleartext</authentication>\n"
		    "<username>%%EMAILADDRESS%%</username>\n</%sServer>\n",
		    io, s->proto, ac->host, s->port,
		    s->ssl ? "SSL" : "STARTTLS", io);
	}
	put(&d, "</emailProvider>\n</clientConfig>\n");
	return doc_end(&d);
}

long
autoconf_autodiscover(const struct autoconf *ac, char *out, size_t cap)
{
	struct doc d = { out, cap, 0, 0 };

	put(&d, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/"
	    "autodiscover/responseschema/2006\">\n"
	    "<Response xmlns=\"http://schemas.microsoft.com/exchange/"
	    "autodiscover/outlook/responseschema/2006a\">\n"
	    "<Account>\n<AccountType>email</AccountType>\n"
	    "<Action>settings</Action>\n");
	for (size_t i = 0; i < ac->nsrv; i++) {
		const struct autoconf_srv *s = &ac->srv[i];

		/* Outlook reads Encryption (SSL: implicit TLS, TLS:
		 * STARTTLS) over the older SSL element. */
		put(&d, "<Protocol>\n<Type>%s</Type>\n<Server>%s</Server>\n"
		    "<Port>%u</Port>\n<LoginName>%s</LoginName>\n"
		    "<DomainRequired>off</DomainRequired>\n<SPA>off</SPA>\n"
		    "<SSL>on</SSL>\n<Encryption>%s</Encryption>\n"
		    "<AuthRequired>on</AuthRequired>\n</Protocol>\n",
		    strcmp(s->proto, "imap") == 0 ? "IMAP" :
		    strcmp(s->proto, "pop3") == 0 ? "POP3" : "SMTP",
		    ac->host, s->port, ac->email, s->ssl ? "SSL" : "TLS");
	}
	put(&d, "</Account>\n</Response>\n</Autodiscover>\n");
	return doc_end(&d);
}

long
autoconf_mobileconfig(const struct autoconf *ac, char *out, size_t cap)
{
	const struct autoconf_srv *in = autoconf_find(ac, "imap");
	const struct autoconf_srv *sm = autoconf_find(ac, "smtp");
	struct doc d = { out, cap, 0, 0 };
	char u1[37], u2[37];

	if (in == NULL || sm == NULL || ac->email[0] == '\0') {
		return -1;
	}
	uuid(ac, "account", u1);
	uuid(ac, "profile", u2);
	put(&d, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
	    "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
	    "<plist version=\"1.0\">\n<dict>\n"
	    "<key>PayloadContent</key>\n<array>\n<dict>\n"
	    "<key>EmailAccountDescription</key><string>%s</string>\n"
	    "<key>EmailAccountType</key><string>EmailTypeIMAP</string>\n"
	    "<key>EmailAddress</key><string>%s</string>\n",
	    ac->email, ac->email);
	/* The same five keys for the IMAP and the submission server. */
	for (int k = 0; k < 2; k++) {
		const char *io = k == 0 ? "Incoming" : "Outgoing";
		const struct autoconf_srv *s = k == 0 ? in : sm;

		put(&d, "<key>%sMailServerAuthentication</key>"
		    "<string>EmailAuthPassword</string>\n"
		    "<key>%sMailServerHostName</key><string>%s</string>\n"
		    "<key>%sMailServerPortNumber</key><integer>%u</integer>\n"
		    "<key>%sMailServerUseSSL</key><%s/>\n"
		    "<key>%sMailServerUsername</key><string>%s</string>\n",
		    io, io, ac->host, io, s->port, io,
		    s->ssl ? "true" : "false", io, ac->email);
	}
	put(&d, "<key>OutgoingPasswordSameAsIncomingPassword</key><true/>\n");
	put(&d, "<key>PayloadDisplayName</key><string>%s</string>\n"
	    "<key>PayloadIdentifier</key>"
	    "<string>wren.%s.account.%s</string>\n"
	    "<key>PayloadType</key><string>com.apple.mail.managed</string>\n"
	    "<key>PayloadUUID</key><string>%s</string>\n"
	    "<key>PayloadVersion</key><integer>1</integer>\n"
	    "</dict>\n</array>\n",
	    ac->email, ac->host, u1, u1);
	put(&d, "<key>PayloadDisplayName</key><string>Mail: %s</string>\n"
	    "<key>PayloadIdentifier</key><string>wren.%s.%s</string>\n"
	    "<key>PayloadRemovalDisallowed</key><false/>\n"
	    "<key>PayloadType</key><string>Configuration</string>\n"
	    "<key>PayloadUUID</key><string>%s</string>\n"
	    "<key>PayloadVersion</key><integer>1</integer>\n"
	    "</dict>\n</plist>\n", ac->email, ac->host, u2, u2);
	return doc_end(&d);
}

long
autoconf_mta_sts(const struct cfg *cfg, char *out, size_t cap)
{
	static const char *const mode[] = { "none", "testing", "enforce" };
	char hb[CFG_HOST_MAX + 1];
	struct doc d = { out, cap, 0, 0 };
	int64_t m = cfg_num(cfg, CFG_MTA_STS_MODE);

	if (m <= 0 || m > 2) {
		return -1;
	}
	/* RFC 8461 3.2: CRLF or LF; the MX is the host name. */
	put(&d, "version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %lld\r\n",
	    mode[m], cfg_hostname(cfg, hb, sizeof hb),
	    (long long)cfg_num(cfg, CFG_MTA_STS_MAX_AGE));
	return doc_end(&d);
}

const char *
autoconf_request_email(const char *body, size_t len, size_t *elen)
{
	static const char open[] = "<EMailAddress>";
	const char *p = NULL, *e;

	/* (a loop, not memmem: musl's costs 900 bytes on armhf) */
	for (size_t i = 0; i + sizeof open - 1 <= len; i++) {
		if (memcmp(body + i, open, sizeof open - 1) == 0) {
			p = body + i + sizeof open - 1;
			break;
		}
	}
	*elen = 0;
	if (p == NULL) {
		return NULL;
	}
	e = memchr(p, '<', len - (size_t)(p - body));
	if (e == NULL) {
		return NULL;
	}
	*elen = (size_t)(e - p);
	return p;
}

/* Appends to the document; a cut sets full. */
static void
put(struct doc *d, const char *f, ...)
{
	va_list ap;
	int n;

	if (d->full) {
		return;
	}
	va_start(ap, f);
	n = vfmt(d->p + d->len, d->cap - d->len, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= d->cap - d->len) {
		d->full = 1;
		return;
	}
	d->len += (size_t)n;
}

static long
doc_end(const struct doc *d)
{
	return d->full ? -1 : (long)d->len;
}

/*
 * Copies s[0..len) lower-cased into dst with a NUL when every byte is
 * a letter, digit, '.', '-', '_', '+', '=' (and one '@' when at): the
 * names of a home domain, safe in XML and in a plist. 0 or -1.
 */
static int
plain(char *dst, size_t cap, const char *s, size_t len, int at)
{
	int ats = 0;

	if (len == 0 || len >= cap) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z') {
			ch = (char)(ch - 'A' + 'a');
		} else if (ch == '@' && at && ats++ == 0) {
			/* one only */
		} else if (!((ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
		    ch == '_' || ch == '+' || ch == '=')) {
			return -1;
		}
		dst[i] = ch;
	}
	dst[len] = '\0';
	return 0;
}

/* The port of the first address of key, when it listens at all. */
static void
add_srv(struct autoconf *ac, const struct cfg *cfg, enum cfg_key key,
    const char *proto, int ssl)
{
	struct cfg_listen addrs[CFG_LISTEN_MAX];
	size_t n = 0;
	struct err e;

	if (cfg_parse_listen(cfg_str(cfg, key), addrs, CFG_LISTEN_MAX, &n,
	    &e) == -1 || n == 0 || ac->nsrv == AUTOCONF_SRV_MAX) {
		return;
	}
	ac->srv[ac->nsrv].proto = proto;
	ac->srv[ac->nsrv].port = addrs[0].port;
	ac->srv[ac->nsrv].ssl = ssl;
	ac->nsrv++;
}

/* A name-based UUID (RFC 9562 5.8 layout, SHA-256 cut to 128 bits):
 * the same account on the same server gives the same profile. */
static void
uuid(const struct autoconf *ac, const char *kind, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	br_sha256_context h;
	unsigned char v[32];
	size_t o = 0;

	br_sha256_init(&h);
	br_sha256_update(&h, kind, strlen(kind) + 1);
	br_sha256_update(&h, ac->email, strlen(ac->email) + 1);
	br_sha256_update(&h, ac->host, strlen(ac->host));
	br_sha256_out(&h, v);
	v[6] = (unsigned char)((v[6] & 0x0f) | 0x80);	/* version 8 */
	v[8] = (unsigned char)((v[8] & 0x3f) | 0x80);	/* variant */
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10) {
			out[o++] = '-';
		}
		out[o++] = hex[v[i] >> 4];
		out[o++] = hex[v[i] & 15];
	}
	out[o] = '\0';
}
