/* SPDX-License-Identifier: ISC */
/*
 * uidlist.c - sans-I/O codecs for Dovecot's Maildir metadata: message
 * file names (Maildir "info" ":2,<flags>", Dovecot's ,S= ,W= fields
 * and keyword letters), dovecot-uidlist versions 1 and 3, and
 * dovecot-keywords. The formats follow Dovecot's maildir-filename.c,
 * maildir-filename-flags.c, maildir-uidlist.c and maildir-keywords.c;
 * where Dovecot is lenient (strtoul, atoi, sscanf) we are strict about
 * numbers, since a file on disk is hostile input, and as lenient as
 * Dovecot about layout (spaces, field order, unknown fields).
 *
 * Formatters run twice through the same emitter: once counting, then,
 * if the result fits, writing. So out is never left half written.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/limits.h"
#include "uidlist.h"

#define UIDLIST_VERSION_OLD	1	/* as Courier's courierimapuiddb */
#define UIDLIST_VERSION_EXT	3	/* Dovecot v1.1 and later */
#define GUID_HEX_LEN		32	/* 128-bit mailbox GUID */
#define U64_DIGITS_MAX		20

/* Output that counts always and copies only when p is set. */
struct emit {
	char	*p;
	size_t	 n;
};

static void	emit_bytes(struct emit *, const char *, size_t);
static void	emit_char(struct emit *, char);
static void	emit_u64(struct emit *, uint64_t);
static int	is_digit(char);
static int	is_hex(char);
static int	parse_u64(const char *, size_t, uint64_t *);
static int	parse_u32(const char *, size_t, uint32_t *);
static int	has_line_junk(const char *, size_t);
static unsigned	flag_bit(char);
static void	name_size(const char *, size_t, char, uint64_t *,
		    unsigned *);
static int	record_split(const char *, size_t, unsigned, uint32_t *,
		    const char **, size_t *, const char **);

int
maildir_name_parse(const char *name, size_t len, struct maildir_name *mn)
{
	const char *colon, *last, *p, *end;
	unsigned has;

	memset(mn, 0, sizeof *mn);
	if (len == 0 || len > MBOX_NAME_MAX || name[0] == '.' ||
	    name[0] == ':') {
		return -1;
	}
	/* '/' would leave the folder; NUL, CR and LF cannot be written
	 * to dovecot-uidlist (Dovecot skips such files too). */
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '/' || name[i] == '\0' || name[i] == '\r' ||
		    name[i] == '\n') {
			return -1;
		}
	}
	colon = memchr(name, ':', len);
	mn->base = name;
	mn->baselen = colon ? (size_t)(colon - name) : len;

	name_size(mn->base, mn->baselen, 'S', &mn->size, &has);
	mn->has_size = has;
	name_size(mn->base, mn->baselen, 'W', &mn->vsize, &has);
	mn->has_vsize = has;

	if (colon == NULL) {
		return 0;
	}
	/* Dovecot reads flags after the last ':' (strrchr) and only from
	 * the "2," info; ":1,..." and others carry no flags. */
	last = colon;
	for (p = name + len; p > colon; p--) {
		if (p[-1] == ':') {
			last = p - 1;
			break;
		}
	}
	end = name + len;
	if (end - last < 3 || last[1] != '2' || last[2] != ',') {
		return 0;
	}
	mn->has_info = 1;
	for (p = last + 3; p < end && *p != ','; p++) {
		if (*p >= 'a' && *p <= 'z') {
			mn->keywords |= (uint32_t)1 << (*p - 'a');
		} else {
			mn->flags |= flag_bit(*p);
		}
	}
	return 0;
}

size_t
maildir_name_format(char *out, size_t cap, const char *base,
    size_t baselen, unsigned flags, uint32_t keywords)
{
	struct emit e;
	size_t need = 0;

	for (int pass = 0; pass < 2; pass++) {
		e.p = pass == 0 ? NULL : out;
		e.n = 0;
		emit_bytes(&e, base, baselen);
		emit_bytes(&e, ":2,", 3);
		for (char c = 'A'; c <= 'Z'; c++) {
			if (flags & flag_bit(c)) {
				emit_char(&e, c);
			}
		}
		for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
			if (keywords & ((uint32_t)1 << i)) {
				emit_char(&e, (char)('a' + i));
			}
		}
		need = e.n;
		if (need >= cap) {
			break;
		}
		if (pass == 1) {
			out[need] = '\0';
		}
	}
	return need;
}

int
uidlist_parse_header(const char *line, size_t len,
    struct uidlist_header *h)
{
	const char *p = line, *end = line + len, *f;
	int have_v = 0, have_n = 0;

	memset(h, 0, sizeof *h);
	if (len > UIDLIST_LINE_MAX || has_line_junk(line, len) ||
	    len < 2 || !is_digit(line[0]) || line[1] != ' ') {
		return -1;
	}
	h->version = (unsigned)(line[0] - '0');
	p += 2;
	if (h->version == UIDLIST_VERSION_OLD) {
		/* "1 <uidvalidity> <nextuid>": positional fields. */
		for (int i = 0; i < 2; i++) {
			while (p < end && *p == ' ') {
				p++;
			}
			for (f = p; p < end && *p != ' '; p++) {
			}
			if (parse_u32(f, (size_t)(p - f), i == 0 ?
			    &h->uidvalidity : &h->next_uid) == -1) {
				return -1;
			}
		}
		while (p < end && *p == ' ') {
			p++;
		}
		if (p != end) {
			return -1;
		}
	} else if (h->version == UIDLIST_VERSION_EXT) {
		/* "3 [<key><value> ...]": any order, unknown keys kept by
		 * Dovecot but meaningless to us, so skipped. */
		while (p < end) {
			while (p < end && *p == ' ') {
				p++;
			}
			if (p == end) {
				break;
			}
			for (f = p; p < end && *p != ' '; p++) {
			}
			if (*f == 'V') {
				if (parse_u32(f + 1, (size_t)(p - f - 1),
				    &h->uidvalidity) == -1) {
					return -1;
				}
				have_v = 1;
			} else if (*f == 'N') {
				if (parse_u32(f + 1, (size_t)(p - f - 1),
				    &h->next_uid) == -1) {
					return -1;
				}
				have_n = 1;
			} else if (*f == 'G') {
				if (p - f - 1 != GUID_HEX_LEN) {
					return -1;
				}
				for (const char *q = f + 1; q < p; q++) {
					if (!is_hex(*q)) {
						return -1;
					}
				}
				memcpy(h->guid, f + 1, GUID_HEX_LEN);
				h->guid[GUID_HEX_LEN] = '\0';
			}
		}
		if (!have_v || !have_n) {
			return -1;
		}
	} else {
		/* Version 2 was only written by development snapshots of
		 * Dovecot 1.0; Dovecot itself rejects it now. */
		return -1;
	}
	if (h->uidvalidity == 0 || h->next_uid == 0) {
		return -1;
	}
	return 0;
}

int
uidlist_parse_record(const char *line, size_t len, unsigned version,
    uint32_t *uid, const char **base, size_t *baselen)
{
	const char *ext;

	return record_split(line, len, version, uid, base, baselen, &ext);
}

int
uidlist_record_ext(const char *line, size_t len, char key,
    const char **val, size_t *vallen)
{
	const char *base, *ext, *p, *f;
	size_t baselen;
	uint32_t uid;

	*val = NULL;
	*vallen = 0;
	if (record_split(line, len, UIDLIST_VERSION_EXT, &uid, &base,
	    &baselen, &ext) == -1) {
		return -1;
	}
	/* Fields lie between ext and the ':' that opens the name. */
	for (p = ext; *p != ':'; ) {
		for (f = p; *p != ' '; p++) {
		}
		if (*f == key && p > f) {
			*val = f + 1;
			*vallen = (size_t)(p - f - 1);
			return 1;
		}
		while (*p == ' ') {
			p++;
		}
	}
	return 0;
}

size_t
uidlist_format_header(char *out, size_t cap,
    const struct uidlist_header *h)
{
	struct emit e;
	size_t need = 0, glen = 0;

	while (glen < GUID_HEX_LEN && h->guid[glen] != '\0') {
		glen++;
	}
	for (int pass = 0; pass < 2; pass++) {
		e.p = pass == 0 ? NULL : out;
		e.n = 0;
		emit_bytes(&e, "3 V", 3);
		emit_u64(&e, h->uidvalidity);
		emit_bytes(&e, " N", 2);
		emit_u64(&e, h->next_uid);
		if (glen > 0) {
			emit_bytes(&e, " G", 2);
			emit_bytes(&e, h->guid, glen);
		}
		emit_char(&e, '\n');
		need = e.n;
		if (need >= cap) {
			break;
		}
		if (pass == 1) {
			out[need] = '\0';
		}
	}
	return need;
}

size_t
uidlist_format_record(char *out, size_t cap, uint32_t uid,
    const char *base, size_t baselen)
{
	struct emit e;
	size_t need = 0;

	for (int pass = 0; pass < 2; pass++) {
		e.p = pass == 0 ? NULL : out;
		e.n = 0;
		emit_u64(&e, uid);
		emit_bytes(&e, " :", 2);
		emit_bytes(&e, base, baselen);
		emit_char(&e, '\n');
		need = e.n;
		if (need >= cap) {
			break;
		}
		if (pass == 1) {
			out[need] = '\0';
		}
	}
	return need;
}

int
keywords_parse_line(const char *line, size_t len, unsigned *index,
    const char **name, size_t *namelen)
{
	const char *sp;
	uint32_t idx;

	*index = 0;
	*name = NULL;
	*namelen = 0;
	if (len > UIDLIST_LINE_MAX) {
		return -1;
	}
	sp = memchr(line, ' ', len);
	if (sp == NULL || parse_u32(line, (size_t)(sp - line), &idx) == -1 ||
	    idx >= MAILDIR_KEYWORDS_MAX) {
		return -1;
	}
	/* IMAP keywords are atoms (RFC 3501 9): no space, no control. */
	for (const char *p = sp + 1; p < line + len; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			return -1;
		}
	}
	if (sp + 1 == line + len) {
		return -1;
	}
	*index = idx;
	*name = sp + 1;
	*namelen = len - (size_t)(sp + 1 - line);
	return 0;
}

size_t
keywords_format_line(char *out, size_t cap, unsigned index,
    const char *name, size_t namelen)
{
	struct emit e;
	size_t need = 0;

	for (int pass = 0; pass < 2; pass++) {
		e.p = pass == 0 ? NULL : out;
		e.n = 0;
		emit_u64(&e, index);
		emit_char(&e, ' ');
		emit_bytes(&e, name, namelen);
		emit_char(&e, '\n');
		need = e.n;
		if (need >= cap) {
			break;
		}
		if (pass == 1) {
			out[need] = '\0';
		}
	}
	return need;
}

static void
emit_bytes(struct emit *e, const char *s, size_t len)
{
	if (e->p != NULL && len > 0) {
		memcpy(e->p + e->n, s, len);
	}
	e->n += len;
}

static void
emit_char(struct emit *e, char c)
{
	emit_bytes(e, &c, 1);
}

static void
emit_u64(struct emit *e, uint64_t v)
{
	char tmp[U64_DIGITS_MAX];
	size_t i = sizeof tmp;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	emit_bytes(e, tmp + i, sizeof tmp - i);
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* Decimal digits only, at least one, no sign; -1 on overflow. */
static int
parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i])) {
			return -1;
		}
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10) {
			return -1;
		}
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, len, &v) == -1 || v > UINT32_MAX) {
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* A CR (a CRLF file), LF or NUL inside a line: never written by
 * Dovecot, and a name holding one could not be found again. */
static int
has_line_junk(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') {
			return 1;
		}
	}
	return 0;
}

/* The flags bit of an upper-case letter; 0 for anything else. */
static unsigned
flag_bit(char c)
{
	switch (c) {
	case 'D':
		return MF_DRAFT;
	case 'F':
		return MF_FLAGGED;
	case 'P':
		return MF_PASSED;
	case 'R':
		return MF_REPLIED;
	case 'S':
		return MF_SEEN;
	case 'T':
		return MF_TRASHED;
	default:
		if (c >= 'A' && c <= 'Z') {
			return MF_LETTER(c);
		}
		return 0;
	}
}

/*
 * The first ",<type>=" field of a base, as Dovecot's
 * maildir_filename_get_size() finds it: digits up to the next ',' or
 * the end. A bad first field is not looked past (Dovecot neither).
 */
static void
name_size(const char *base, size_t len, char type, uint64_t *val,
    unsigned *has)
{
	const char *p, *end = base + len, *f;

	*val = 0;
	*has = 0;
	for (p = base; p + 3 <= end; p++) {
		if (p[0] == ',' && p[1] == type && p[2] == '=') {
			break;
		}
	}
	if (p + 3 > end) {
		return;
	}
	for (f = p += 3; p < end && *p != ','; p++) {
	}
	if (parse_u64(f, (size_t)(p - f), val) == 0) {
		*has = 1;
	} else {
		*val = 0;
	}
}

/*
 * Splits "<uid> [<ext> ...] :<name>" (version 3) or "<uid> <name>"
 * (version 1). *ext points at the first extension field or at the
 * ':' (version 3 only). Dovecot ends the field list at the first field
 * that starts with ':', so a ':' inside a field (W12:x) leaves no name
 * and the line is bad, as in maildir_uidlist_read_extended().
 */
static int
record_split(const char *line, size_t len, unsigned version, uint32_t *uid,
    const char **base, size_t *baselen, const char **ext)
{
	const char *p = line, *end = line + len, *name, *colon;

	*uid = 0;
	*base = NULL;
	*baselen = 0;
	*ext = NULL;
	if ((version != UIDLIST_VERSION_OLD &&
	    version != UIDLIST_VERSION_EXT) || len > UIDLIST_LINE_MAX ||
	    has_line_junk(line, len)) {
		return -1;
	}
	while (p < end && is_digit(*p)) {
		p++;
	}
	/* Dovecot keeps (uint32_t)-1 for "no UID yet". */
	if (p == end || *p != ' ' ||
	    parse_u32(line, (size_t)(p - line), uid) == -1 || *uid == 0 ||
	    *uid == UINT32_MAX) {
		*uid = 0;
		return -1;
	}
	while (p < end && *p == ' ') {
		p++;
	}
	if (version == UIDLIST_VERSION_EXT) {
		*ext = p;
		while (p < end && *p != ':') {
			while (p < end && *p != ' ') {
				p++;
			}
			while (p < end && *p == ' ') {
				p++;
			}
		}
		if (p == end) {
			*uid = 0;
			*ext = NULL;
			return -1;
		}
		p++;
	}
	name = p;
	if (name >= end) {
		return -1;
	}
	/* Version 3 names never hold the info; version 1 names may. */
	colon = memchr(name, ':', (size_t)(end - name));
	if (colon == NULL) {
		colon = end;
	}
	if (colon == name || (size_t)(colon - name) > MBOX_NAME_MAX ||
	    memchr(name, '/', (size_t)(end - name)) != NULL) {
		*uid = 0;
		*ext = NULL;
		return -1;
	}
	*base = name;
	*baselen = (size_t)(colon - name);
	return 0;
}
