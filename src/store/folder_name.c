/* SPDX-License-Identifier: ISC */
/*
 * folder_name.c - IMAP mailbox names (RFC 3501 5.1, modified UTF-7 of
 * 5.1.3) checked and mapped to Maildir++ directories as Dovecot 2.3
 * does. Sans-I/O: every loop is bounded by FOLDER_NAME_MAX.
 */
#include <string.h>
#include <strings.h>

#include "store/folder_name.h"

static int	b64_value(unsigned char);
static enum folder_name_err utf7_run(const char *, size_t, size_t *);
static enum folder_name_err octets(const char *, size_t, unsigned);
static enum folder_name_err parts(const char *, size_t, unsigned,
		    unsigned *);
static int	reserved(const char *, size_t, int);

static const char *const folder_name_text[FOLDER_NAME_ERR_MAX] = {
	[FOLDER_NAME_OK] = "Valid mailbox name",
	[FOLDER_NAME_EMPTY] = "Empty mailbox name",
	[FOLDER_NAME_LONG] = "Mailbox name too long",
	[FOLDER_NAME_DEEP] = "Mailbox name has too many levels",
	[FOLDER_NAME_LEAD_SEP] = "Mailbox name begins with the hierarchy "
	    "separator",
	[FOLDER_NAME_TRAIL_SEP] = "Mailbox name ends with the hierarchy "
	    "separator",
	[FOLDER_NAME_EMPTY_PART] = "Mailbox name has adjacent hierarchy "
	    "separators",
	[FOLDER_NAME_SLASH] = "Mailbox name must not have '/' characters",
	[FOLDER_NAME_TILDE] = "Mailbox name begins with '~'",
	[FOLDER_NAME_CTL] = "Control characters not allowed in mailbox "
	    "names",
	[FOLDER_NAME_8BIT] = "Mailbox name is not valid mUTF-7 (8-bit "
	    "octets)",
	[FOLDER_NAME_WILDCARD] = "Mailbox name must not have '%' or '*'",
	[FOLDER_NAME_RESERVED] = "Mailbox name is reserved (tmp, new, cur "
	    "or DOVECOT-TRASHED)",
	[FOLDER_NAME_UTF7_OPEN] = "Mailbox name is not valid mUTF-7 "
	    "(unterminated '&')",
	[FOLDER_NAME_UTF7_B64] = "Mailbox name is not valid mUTF-7 (bad "
	    "base64)",
	[FOLDER_NAME_UTF7_BITS] = "Mailbox name is not valid mUTF-7 (bad "
	    "padding bits)",
	[FOLDER_NAME_UTF7_ASCII] = "Mailbox name is not valid mUTF-7 "
	    "(encoded ASCII)",
	[FOLDER_NAME_UTF7_SPLIT] = "Mailbox name is not valid mUTF-7 "
	    "(adjacent encoded runs)",
	[FOLDER_NAME_UTF7_SURROGATE] = "Mailbox name is not valid mUTF-7 "
	    "(unpaired surrogate)",
};

enum folder_name_err
folder_name_parse(const char *s, size_t len, unsigned how,
    struct folder_name *out)
{
	enum folder_name_err err;
	unsigned depth = 0;

	memset(out, 0, sizeof *out);
	if (len == 0) {
		return FOLDER_NAME_EMPTY;
	}
	if (len > FOLDER_NAME_MAX + ((how & FOLDER_NAME_TRAIL) != 0)) {
		return FOLDER_NAME_LONG;
	}
	/* RFC 3501 6.3.3: "a." names the folder "a" (one separator). */
	if ((how & FOLDER_NAME_TRAIL) && len > 1 && s[len - 1] == FOLDER_SEP
	    && s[len - 2] != FOLDER_SEP) {
		len--;
	}
	if (len > FOLDER_NAME_MAX) {
		return FOLDER_NAME_LONG;
	}
	if ((err = octets(s, len, how)) != FOLDER_NAME_OK) {
		return err;
	}
	if ((err = parts(s, len, how, &depth)) != FOLDER_NAME_OK) {
		return err;
	}
	memcpy(out->name, s, len);
	out->len = len;
	out->depth = depth;
	if (len >= 5 && strncasecmp(s, "INBOX", 5) == 0 &&
	    (len == 5 || s[5] == FOLDER_SEP)) {
		memcpy(out->name, "INBOX", 5);
		out->inbox = len == 5;
	}
	if (!out->inbox) {
		out->dir[0] = '.';
		memcpy(out->dir + 1, out->name, len);
		out->dirlen = len + 1;
	}
	return FOLDER_NAME_OK;
}

const char *
folder_name_strerror(enum folder_name_err e)
{
	if ((unsigned)e >= FOLDER_NAME_ERR_MAX) {
		return "Invalid mailbox name";
	}
	return folder_name_text[e];
}

int
folder_name_is_inbox(const char *name, size_t len)
{
	return len == 5 && strncasecmp(name, "INBOX", 5) == 0;
}

/* The value of a modified base64 octet (RFC 3501 5.1.3: ',' for '/'),
 * or -1. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') {
		return c - 'A';
	}
	if (c >= 'a' && c <= 'z') {
		return c - 'a' + 26;
	}
	if (c >= '0' && c <= '9') {
		return c - '0' + 52;
	}
	if (c == '+') {
		return 62;
	}
	if (c == ',') {
		return 63;
	}
	return -1;
}

/*
 * One base64 run: s[0..len) starts just after a '&' that is not "&-".
 * Decodes to UTF-16 units and checks what Dovecot's imap-utf7 checks,
 * so that the run is the one canonical encoding of its characters.
 * *used: octets taken, the closing '-' included.
 */
static enum folder_name_err
utf7_run(const char *s, size_t len, size_t *used)
{
	unsigned long acc = 0;
	unsigned bits = 0, high = 0;
	size_t i;

	for (i = 0; i < len && s[i] != '-'; i++) {
		int v = b64_value((unsigned char)s[i]);
		unsigned u;

		if (v < 0) {
			return (unsigned char)s[i] >= 0x80 ?
			    FOLDER_NAME_8BIT : FOLDER_NAME_UTF7_B64;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits < 16) {
			continue;
		}
		bits -= 16;
		u = (unsigned)(acc >> bits) & 0xffff;
		acc &= (1UL << bits) - 1;
		if (u >= 0xd800 && u <= 0xdbff) {
			if (high != 0) {
				return FOLDER_NAME_UTF7_SURROGATE;
			}
			high = u;
			continue;
		}
		if (u >= 0xdc00 && u <= 0xdfff) {
			if (high == 0) {
				return FOLDER_NAME_UTF7_SURROGATE;
			}
			high = 0;
			continue;
		}
		if (high != 0) {
			return FOLDER_NAME_UTF7_SURROGATE;
		}
		if (u < 0x20 || u == 0x7f) {
			return FOLDER_NAME_CTL;
		}
		if (u < 0x7f) {
			return FOLDER_NAME_UTF7_ASCII;
		}
	}
	if (i == len) {
		return FOLDER_NAME_UTF7_OPEN;
	}
	if (high != 0) {
		return FOLDER_NAME_UTF7_SURROGATE;
	}
	/* Six spare bits or more: one octet too many; any set: junk. */
	if (bits >= 6 || acc != 0) {
		return FOLDER_NAME_UTF7_BITS;
	}
	*used = i + 1;
	return FOLDER_NAME_OK;
}

/* Octet by octet: what may appear anywhere, and the UTF-7 runs. */
static enum folder_name_err
octets(const char *s, size_t len, unsigned how)
{
	int after_run = 0;
	size_t i = 0;

	if (s[0] == '~') {
		return FOLDER_NAME_TILDE;
	}
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		enum folder_name_err err;
		size_t used = 0;

		if (c >= 0x80) {
			return FOLDER_NAME_8BIT;
		}
		if (c < 0x20 || c == 0x7f) {
			return FOLDER_NAME_CTL;
		}
		if (c == '/') {
			return FOLDER_NAME_SLASH;
		}
		if ((c == '%' || c == '*') && !(how & FOLDER_NAME_LAX)) {
			return FOLDER_NAME_WILDCARD;
		}
		if (c != '&') {
			after_run = 0;
			i++;
			continue;
		}
		if (i + 1 < len && s[i + 1] == '-') {
			after_run = 0;
			i += 2;
			continue;
		}
		if (after_run) {
			return FOLDER_NAME_UTF7_SPLIT;
		}
		err = utf7_run(s + i + 1, len - i - 1, &used);
		if (err != FOLDER_NAME_OK) {
			return err;
		}
		i += 1 + used;
		after_run = 1;
	}
	return FOLDER_NAME_OK;
}

/* The components between separators: none empty, none reserved, not
 * too many. */
static enum folder_name_err
parts(const char *s, size_t len, unsigned how, unsigned *depth)
{
	size_t start = 0;

	if (s[0] == FOLDER_SEP) {
		return FOLDER_NAME_LEAD_SEP;
	}
	if (s[len - 1] == FOLDER_SEP) {
		return len >= 2 && s[len - 2] == FOLDER_SEP ?
		    FOLDER_NAME_EMPTY_PART : FOLDER_NAME_TRAIL_SEP;
	}
	*depth = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != FOLDER_SEP) {
			continue;
		}
		if (i == start) {
			return FOLDER_NAME_EMPTY_PART;
		}
		if (++*depth > FOLDER_DEPTH_MAX) {
			return FOLDER_NAME_DEEP;
		}
		if (!(how & FOLDER_NAME_LAX) &&
		    reserved(s + start, i - start, start == 0)) {
			return FOLDER_NAME_RESERVED;
		}
		start = i + 1;
	}
	return FOLDER_NAME_OK;
}

/* Maildir's own directory names, and the one Dovecot renames a folder
 * to while deleting it (a top-level name only). Compared as written, as
 * Dovecot 2.3 compares its internal names (strcmp): "New" or "TMP"
 * names no directory of Maildir's on a case-sensitive file system, and
 * Maildir++ prefixes every folder's directory with '.' anyway. */
static int
reserved(const char *p, size_t n, int top)
{
	if (n == 3 && (memcmp(p, "tmp", 3) == 0 || memcmp(p, "new", 3) == 0 ||
	    memcmp(p, "cur", 3) == 0)) {
		return 1;
	}
	return top && n == 15 && memcmp(p, "DOVECOT-TRASHED", 15) == 0;
}
