/* SPDX-License-Identifier: ISC */
/*
 * http_autoconf.h - the client settings of an account and the
 * documents that carry them: Thunderbird's autoconfig XML, Outlook's
 * Autodiscover POX reply, an Apple .mobileconfig profile, the MTA-STS
 * policy (RFC 8461 3.2). Served by the HTTP listener and printed by
 * `wren client-config`, from the same struct autoconf.
 *
 * Only listeners actually configured are offered, each with the port
 * of its first address: IMAP 993/143, POP3 995/110 when built in,
 * submission 465/587.
 */
#ifndef WREN_HTTP_AUTOCONF_H
#define WREN_HTTP_AUTOCONF_H

#include <stddef.h>
#include <stdint.h>

#include "core/cfg.h"
#include "core/limits.h"

#define AUTOCONF_SRV_MAX	6	/* IMAP, POP3, SMTP x TLS, STARTTLS */

struct autoconf_srv {
	const char	*proto;		/* "imap", "pop3", "smtp" */
	uint16_t	 port;
	int		 ssl;		/* 1: implicit TLS; 0: STARTTLS */
};

struct autoconf {
	char			 host[CFG_HOST_MAX + 1];  /* the servers */
	char			 email[ADDR_MAX + 1];	/* "" when unknown */
	char			 domain[ADDR_DOMAIN_MAX + 1];
	struct autoconf_srv	 srv[AUTOCONF_SRV_MAX];	/* TLS first */
	size_t			 nsrv;
};

/*
 * Fills ac from cfg for the address email[0..elen) (elen 0: none), or
 * failing that for domain[0..dlen) (dlen 0: the first of `domains`,
 * else hostname). Address and domain are checked against a plain
 * character set (letters, digits, ". _ + - =" and one '@'), which also
 * makes them safe in XML, and lower-cased. 0, or -1 when either is bad.
 */
int	autoconf_init(struct autoconf *, const struct cfg *, const char *email,
	    size_t elen, const char *domain, size_t dlen);

/* The first server of proto ("imap", "smtp"), TLS first; NULL: none. */
const struct autoconf_srv	*autoconf_find(const struct autoconf *,
				    const char *proto);

/*
 * Each writes its document into out[0..cap) with a NUL and returns its
 * length, or -1 when it does not fit or has nothing to say (no IMAP
 * or SMTP listener for the profile, mta_sts_mode none).
 *
 * The .mobileconfig's payload UUIDs are derived from the address and
 * the host name, so a profile installed again replaces the old one.
 */
long	autoconf_thunderbird(const struct autoconf *, char *out, size_t cap);
long	autoconf_autodiscover(const struct autoconf *, char *out, size_t cap);
long	autoconf_mobileconfig(const struct autoconf *, char *out, size_t cap);
long	autoconf_mta_sts(const struct cfg *, char *out, size_t cap);

/* The address between <EMailAddress> and </EMailAddress> in an
 * Autodiscover request body, or NULL (*len 0). */
const char	*autoconf_request_email(const char *body, size_t len,
		    size_t *elen);

#endif
