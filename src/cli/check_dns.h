/* SPDX-License-Identifier: ISC */
/*
 * check_dns.h - `wren check --dns`: what the world sees of this server
 * in the DNS, asked through the resolver outbound delivery uses.
 */
#ifndef WREN_CHECK_DNS_H
#define WREN_CHECK_DNS_H

#include "core/cfg.h"

/*
 * For the server (hostname): its A/AAAA addresses, their PTR
 * (forward-confirmed, RFC 8601 2.7.3 "iprev"), the DNSBLs of
 * dnsbl_check_zones, and whether outbound port 25 answers
 * (check_smtp_probe, unless relayhost is set). For each domain of
 * `domains`: MX, A/AAAA of each MX host, SPF (RFC 7208: syntax, and
 * check_host() for our addresses), the DKIM key record (RFC 6376
 * 3.6.1, compared with dkim_key), DMARC (RFC 7489 6.3); recommended:
 * MTA-STS (RFC 8461 3.1), TLS-RPT (RFC 8460 3) and the SRV records
 * of RFC 6186 / RFC 8314 5.1.
 *
 * Prints a table to stdout and, under each missing or wrong record,
 * the record to publish in zone-file syntax. Each query and the
 * probe are bounded by check_dns_timeout. verbose adds the records'
 * text. Returns the exit status: 1 when a required record (MX, A of
 * an MX host, PTR of our addresses, SPF authorising them, DKIM when
 * configured, DMARC) is missing or wrong or could not be checked;
 * 0 otherwise (recommended ones only warn); 2 when the resolver
 * cannot start.
 */
int	check_dns(const struct cfg *, int verbose);

#endif
