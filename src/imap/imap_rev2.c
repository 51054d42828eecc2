/* SPDX-License-Identifier: ISC */
/*
 * imap_rev2.c - what IMAP4rev2 (RFC 9051) changes once a client sends
 * ENABLE IMAP4rev2 (6.3.1, appendix E): mailbox names are UTF-8 on
 * the wire (appendix E 1; 6.3.9), while the store keeps them in
 * modified UTF-7 (RFC 3501 5.1.3), as Dovecot's Maildir++ does;
 * SELECT and EXAMINE answer with a LIST of the mailbox (6.3.2), and
 * RENAME with a LIST of the new name and its OLDNAME (6.3.6, 7.3.1).
 * The conversions are in imap_utf7.c.
 *
 * The other changes are one test of s->rev2 where they happen: no
 * RECENT responses and no \Recent flag (imap_out.c), no [UNSEEN] at
 * SELECT (imap_session.c).
 */
/* The whole file is the Kconfig option IMAP_REV2 (imap_int.h has the
 * stubs without it). */
#include "core/limits.h"

#if WREN_IMAP_REV2

#include <string.h>
#include <strings.h>

#include "imap/imap_int.h"
#include "imap/imap_utf7.h"
#include "store/folder_name.h"


int
imap_name_arg(const struct imap_session *s, const struct imap_arg *a,
    char *buf, size_t cap, size_t *len)
{
	char u[FOLDER_NAME_MAX + 1];
	size_t n, i;

	if (imap_arg_str(a, buf, cap, len) == -1) {
		return -1;
	}
	if (!s->rev2) {
		return 0;
	}
	for (i = 0; i < *len && (unsigned char)buf[i] < 0x80 &&
	    buf[i] != '&'; i++) {
	}
	if (i == *len) {
		return 0;	/* ASCII without '&': the same either way */
	}
	if (*len > sizeof u) {
		return -1;
	}
	memcpy(u, buf, *len);
	if (imap_utf8_to_mutf7(u, *len, buf, cap, &n) == -1) {
		return -1;
	}
	*len = n;
	return 0;
}

size_t
imap_name_out(const struct imap_session *s, const char *name, size_t len,
    char *out, size_t cap)
{
	char u[2 * FOLDER_NAME_MAX];
	size_t n = len;

	if (s->rev2) {
		n = imap_mutf7_to_utf8(name, len, u, sizeof u);
		if (n <= sizeof u) {
			name = u;	/* else not mUTF-7: as it is */
		} else {
			n = len;
		}
	}
	return imap_astring_fmt(out, cap, name, n);
}

void
imap_rev2_select_list(struct imap_session *s, const char *name,
    size_t len)
{
	char q[4 * FOLDER_NAME_MAX + 16];
	size_t n = imap_name_out(s, name, len, q, sizeof q);

	if (n <= sizeof q) {
		(void)imap_outf(s, "* LIST () \".\" %.*s\r\n", (int)n, q);
	}
}

void
imap_rev2_rename_list(struct imap_session *s, const char *from,
    size_t flen, const char *to, size_t tlen)
{
	char o[4 * FOLDER_NAME_MAX + 16], n[4 * FOLDER_NAME_MAX + 16];
	size_t ol, nl;

	/* RFC 9051 6.3.6 and 7.3.1: the new name with OLDNAME, before
	 * the tagged OK. One response: the children move with their
	 * parent and get none of their own (RFC 5465 5.4, which
	 * defines OLDNAME for renames). Not for INBOX: RENAME INBOX
	 * moves its messages and INBOX stays (6.3.6), so the client
	 * must not forget it. */
	if (!s->rev2 || (flen == 5 && strncasecmp(from, "INBOX", 5) == 0)) {
		return;
	}
	ol = imap_name_out(s, from, flen, o, sizeof o);
	nl = imap_name_out(s, to, tlen, n, sizeof n);
	if (ol <= sizeof o && nl <= sizeof n) {
		(void)imap_outf(s, "* LIST () \".\" %.*s (\"OLDNAME\" (%.*s))"
		    "\r\n", (int)nl, n, (int)ol, o);
	}
}

#endif /* WREN_IMAP_REV2 */
