/* SPDX-License-Identifier: ISC */
/*
 * smtp_verdict.h - what the inbound checks of port 25 found about a
 * session and its transaction (smtp_screen.c), for the writers of
 * Authentication-Results (RFC 8601) and Received-SPF, DMARC (RFC
 * 7489 uses the SPF result and domain of MAIL FROM) and delivery to
 * the Junk folder. A session holds one in s->v.
 */
#ifndef WREN_SMTP_VERDICT_H
#define WREN_SMTP_VERDICT_H

#include "core/limits.h"
#include "dns/spf.h"

/* Listing zones named in the log and the 554 (a few zone names). */
#define SMTP_VERDICT_ZONES_MAX	128

struct smtp_verdict {
	/* SPF (RFC 7208), evaluated at MAIL; spf_checked is 0 when the
	 * client is exempt (mynetworks, logged in, not port 25) or the
	 * feature is off, and the results are then meaningless. */
	int		 spf_checked;
	enum spf_result	 spf_helo;	/* of the HELO/EHLO name (2.3) */
	enum spf_result	 spf_mailfrom;	/* of MAIL FROM; for <>, the
					 * HELO result (2.4) */
	char		 spf_domain[SPF_DOMAIN_MAX];	/* MAIL FROM's
					 * domain, or the HELO name for <> */
	char		 spf_why[64];	/* of spf_mailfrom, for comments */
	/* DNSBL (RFC 5782) at connect: the weights of the zones that
	 * list the client, and their names. */
	unsigned	 dnsbl_score;
	char		 dnsbl_zones[SMTP_VERDICT_ZONES_MAX];
	/* Listed, below dnsbl_threshold: deliver to the Junk folder. */
	int		 junk;
};

#endif
