/* SPDX-License-Identifier: ISC */
/*
 * mailbox.c - parsing mail addresses (RFC 5321 4.1.2 Mailbox, with the
 * leniency real tables need: UTF-8 (RFC 6531), dots anywhere).
 */
#include <string.h>

#include "core/addr.h"
#include "mailbox.h"

static int	is_atext(unsigned char);

enum mailbox_err
mailbox_parse(const char *s, size_t len, int allow_empty_local,
    struct mailbox *mb)
{
	const char *at = NULL;
	size_t i, llen;

	memset(mb, 0, sizeof *mb);
	if (len == 0) {
		return MAILBOX_EMPTY;
	}
	if (s[0] == '"') {
		/* Quoted local part: up to the closing quote, with
		 * backslash escapes (RFC 5321 4.1.2 Quoted-string). */
		for (i = 1; i < len && s[i] != '"'; i++) {
			if (s[i] == '\\') {
				i++;
			}
			if (i < len && ((unsigned char)s[i] < 0x20 ||
			    s[i] == 0x7f)) {
				return MAILBOX_BAD_QUOTE;
			}
		}
		if (i >= len) {
			return MAILBOX_BAD_QUOTE;
		}
		llen = i + 1;
		if (llen < len && s[llen] != '@') {
			return MAILBOX_BAD_QUOTE;
		}
		at = llen < len ? s + llen : NULL;
	} else {
		at = memchr(s, '@', len);
		/* The last '@' separates the domain in unquoted forms. */
		for (const char *p = s + len; p > s; p--) {
			if (p[-1] == '@') {
				at = p - 1;
				break;
			}
		}
		llen = at ? (size_t)(at - s) : len;
		for (i = 0; i < llen; i++) {
			if (!is_atext((unsigned char)s[i]) && s[i] != '.') {
				return MAILBOX_BAD_LOCAL;
			}
		}
	}
	if (llen == 0 && !(allow_empty_local && at != NULL)) {
		return MAILBOX_BAD_LOCAL;
	}
	if (llen > ADDR_LOCAL_MAX + (s[0] == '"' ? 2 : 0)) {
		return MAILBOX_LOCAL_TOO_LONG;
	}
	memcpy(mb->local, s, llen);
	mb->llen = llen;
	mailbox_lower(mb->local, llen);
	if (at != NULL) {
		size_t dlen = len - llen - 1;

		if (dlen > ADDR_DOMAIN_MAX) {
			return MAILBOX_DOMAIN_TOO_LONG;
		}
		if (addr_check_domain(at + 1, dlen, 1) == -1) {
			return MAILBOX_BAD_DOMAIN;
		}
		memcpy(mb->domain, at + 1, dlen);
		mb->dlen = dlen;
		mailbox_lower(mb->domain, dlen);
		/* A trailing dot names the same domain. */
		if (mb->dlen > 0 && mb->domain[mb->dlen - 1] == '.') {
			mb->domain[--mb->dlen] = '\0';
		}
	}
	return MAILBOX_OK;
}

const char *
mailbox_strerror(enum mailbox_err e)
{
	switch (e) {
	case MAILBOX_OK: return "no error";
	case MAILBOX_EMPTY: return "empty address";
	case MAILBOX_LOCAL_TOO_LONG: return "local part longer than 64 "
	    "octets";
	case MAILBOX_DOMAIN_TOO_LONG: return "domain longer than 255 octets";
	case MAILBOX_BAD_LOCAL: return "bad local part";
	case MAILBOX_BAD_DOMAIN: return "bad domain";
	case MAILBOX_BAD_QUOTE: return "bad quoted local part";
	}
	return "bad address";
}

int
mailbox_format(const struct mailbox *mb, char *out, size_t cap)
{
	size_t n = mb->llen + (mb->dlen ? 1 + mb->dlen : 0);

	if (n + 1 > cap) {
		return -1;
	}
	memcpy(out, mb->local, mb->llen);
	if (mb->dlen) {
		out[mb->llen] = '@';
		memcpy(out + mb->llen + 1, mb->domain, mb->dlen);
	}
	out[n] = '\0';
	return (int)n;
}

void
mailbox_lower(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z') {
			s[i] = (char)(s[i] - 'A' + 'a');
		}
	}
}

/* RFC 5322 3.2.3 atext, plus UTF-8 octets (RFC 6532 3.2). */
static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80 ||
	    (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}
