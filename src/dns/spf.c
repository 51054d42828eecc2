/* SPDX-License-Identifier: ISC */
/*
 * spf.c - SPF record syntax (RFC 7208 sections 4.5, 4.6.1, 5, 6, 7.1
 * and the ABNF of section 12): the version, then terms separated by
 * spaces, each a directive ([qualifier] mechanism) or a modifier
 * (name=value). Nothing here looks anything up.
 */
#include <arpa/inet.h>
#include <string.h>

#include "spf.h"

static const char *const spf_kind_names[] = {
	"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists",
	"redirect", "exp", "modifier"
};

static const char *const spf_err_text[] = {
	"ok",
	"not an SPF record (v=spf1)",
	"unknown mechanism",
	"missing or malformed domain",
	"malformed macro",
	"malformed IP address",
	"bad prefix length",
	"redirect= or exp= given twice",
	"malformed modifier name",
	"control or non-ASCII character"
};

static const char *const spf_result_names[] = {
	"none", "neutral", "pass", "fail", "softfail", "temperror",
	"permerror"
};

static int	fail(struct spf_parser *, enum spf_err);
static int	directive(struct spf_parser *, const char *, size_t,
		    struct spf_term *);
static int	modifier(struct spf_parser *, const char *, size_t, size_t,
		    struct spf_term *);
static int	kind_of(const char *, size_t, enum spf_kind *);
static int	cidr_tail(const char *, size_t *, struct spf_term *, int);
static int	prefix_parse(const char *, size_t, unsigned, unsigned *);
static enum spf_err	domain_spec(const char *, size_t, int *);
static enum spf_err	macro_string(const char *, size_t, int *);
static int	is_alpha(char);
static int	is_digit(char);
static int	ieq(const char *, size_t, const char *);

int
spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && ieq(txt, 6, "v=spf1") && (len == 6 ||
	    txt[6] == ' ');
}

int
spf_init(struct spf_parser *p, const char *txt, size_t len)
{
	memset(p, 0, sizeof *p);
	p->p = txt;
	p->len = len;
	if (!spf_is_record(txt, len)) {
		return fail(p, SPF_E_VERSION);
	}
	p->pos = 6;
	return 0;
}

int
spf_next(struct spf_parser *p, struct spf_term *t)
{
	const char *s;
	size_t len = 0, n = 0;

	if (p->err != SPF_E_OK) {
		return -1;
	}
	while (p->pos < p->len && p->p[p->pos] == ' ') {
		p->pos++;
	}
	if (p->pos == p->len) {
		return 0;
	}
	s = p->p + p->pos;
	while (p->pos + len < p->len && s[len] != ' ') {
		unsigned char c = (unsigned char)s[len];

		if (c < 0x21 || c > 0x7e) {
			return fail(p, SPF_E_CHAR);
		}
		len++;
	}
	p->pos += len;
	memset(t, 0, sizeof *t);
	t->qual = '+';
	t->cidr4 = 32;
	t->cidr6 = 128;
	/* A modifier's name: ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ),
	 * then "=". A mechanism's name never holds "=". */
	while (n < len && (is_alpha(s[n]) || is_digit(s[n]) || s[n] == '-' ||
	    s[n] == '_' || s[n] == '.')) {
		n++;
	}
	if (n < len && s[n] == '=') {
		return modifier(p, s, len, n, t);
	}
	return directive(p, s, len, t);
}

int
spf_cidr_match(const uint8_t *net, const uint8_t *addr, size_t alen,
    unsigned prefix)
{
	size_t full = prefix / 8;
	unsigned rest = prefix % 8;

	if (prefix > alen * 8) {
		return 0;
	}
	if (memcmp(net, addr, full) != 0) {
		return 0;
	}
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		return (net[full] & mask) == (addr[full] & mask);
	}
	return 1;
}

const char *
spf_kind_name(enum spf_kind k)
{
	if ((size_t)k >= sizeof spf_kind_names / sizeof spf_kind_names[0]) {
		return "?";
	}
	return spf_kind_names[k];
}

const char *
spf_strerror(enum spf_err e)
{
	if ((size_t)e >= sizeof spf_err_text / sizeof spf_err_text[0]) {
		return "?";
	}
	return spf_err_text[e];
}

const char *
spf_result_name(enum spf_result r)
{
	if ((size_t)r >= sizeof spf_result_names /
	    sizeof spf_result_names[0]) {
		return "?";
	}
	return spf_result_names[r];
}

static int
fail(struct spf_parser *p, enum spf_err e)
{
	p->err = e;
	return -1;
}

/* name=value, the name n octets. redirect and exp take a domain-spec
 * and appear at most once (RFC 7208 6); others a macro-string. */
static int
modifier(struct spf_parser *p, const char *s, size_t len, size_t n,
    struct spf_term *t)
{
	const char *v = s + n + 1;
	size_t vlen = len - n - 1;
	enum spf_err e;

	if (n == 0 || !is_alpha(s[0])) {
		return fail(p, SPF_E_MOD_NAME);
	}
	if (ieq(s, n, "redirect") || ieq(s, n, "exp")) {
		int *seen = ieq(s, n, "exp") ? &p->seen_exp :
		    &p->seen_redirect;

		t->kind = ieq(s, n, "exp") ? SPF_EXP : SPF_REDIRECT;
		if (*seen) {
			return fail(p, SPF_E_DUP_MOD);
		}
		*seen = 1;
		e = domain_spec(v, vlen, &t->macro);
		if (e != SPF_E_OK) {
			return fail(p, e);
		}
	} else {
		t->kind = SPF_UNKNOWN_MOD;
		e = macro_string(v, vlen, &t->macro);
		if (e != SPF_E_OK) {
			return fail(p, e);
		}
	}
	t->domain = v;
	t->dlen = vlen;
	return 1;
}

/* [qualifier] name [":" argument] [cidr]. */
static int
directive(struct spf_parser *p, const char *s, size_t len,
    struct spf_term *t)
{
	size_t n = 0, arg, alen;
	enum spf_err e;

	if (len > 0 && (s[0] == '+' || s[0] == '-' || s[0] == '~' ||
	    s[0] == '?')) {
		t->qual = s[0];
		s++;
		len--;
	}
	while (n < len && (is_alpha(s[n]) || is_digit(s[n]))) {
		n++;
	}
	if (kind_of(s, n, &t->kind) == -1 || (n < len && s[n] != ':' &&
	    s[n] != '/')) {
		return fail(p, SPF_E_MECH);
	}
	arg = n < len && s[n] == ':' ? n + 1 : n;
	alen = len - arg;
	switch (t->kind) {
	case SPF_ALL:
		if (n != len) {
			return fail(p, SPF_E_MECH);
		}
		return 1;
	case SPF_INCLUDE:
	case SPF_EXISTS:
	case SPF_PTR:
		if (arg == n) {
			if (t->kind != SPF_PTR || n != len) {
				return fail(p, t->kind == SPF_PTR ?
				    SPF_E_CIDR : SPF_E_DOMAIN);
			}
			return 1;
		}
		break;
	case SPF_A:
	case SPF_MX:
		if (cidr_tail(s + arg, &alen, t, 1) == -1) {
			return fail(p, SPF_E_CIDR);
		}
		if (arg == n) {
			if (alen != 0) {
				return fail(p, SPF_E_MECH);
			}
			return 1;
		}
		break;
	case SPF_IP4:
	case SPF_IP6: {
		char ip[48];
		int v6 = t->kind == SPF_IP6;

		if (arg == n) {
			return fail(p, SPF_E_IP);
		}
		if (cidr_tail(s + arg, &alen, t, v6 ? 2 : 0) == -1) {
			return fail(p, SPF_E_CIDR);
		}
		if (alen == 0 || alen >= sizeof ip) {
			return fail(p, SPF_E_IP);
		}
		memcpy(ip, s + arg, alen);
		ip[alen] = '\0';
		if (inet_pton(v6 ? AF_INET6 : AF_INET, ip, t->addr) != 1) {
			return fail(p, SPF_E_IP);
		}
		return 1;
	}
	default:
		return fail(p, SPF_E_MECH);
	}
	e = domain_spec(s + arg, alen, &t->macro);
	if (e != SPF_E_OK) {
		return fail(p, e);
	}
	t->domain = s + arg;
	t->dlen = alen;
	return 1;
}

static int
kind_of(const char *s, size_t n, enum spf_kind *k)
{
	for (int i = SPF_ALL; i <= SPF_EXISTS; i++) {
		if (ieq(s, n, spf_kind_names[i])) {
			*k = (enum spf_kind)i;
			return 0;
		}
	}
	return -1;
}

/*
 * Takes a prefix length off the end of s[0..*len): mode 1 is a, mx's
 * dual-cidr-length ("/n", "//m" or "/n//m"), 0 ip4's "/n", 2 ip6's
 * "/m". *len shrinks to what precedes it. A domain-spec may itself
 * hold "/" (a macro-literal), so only a well-formed tail is taken.
 */
static int
cidr_tail(const char *s, size_t *len, struct spf_term *t, int mode)
{
	size_t l = *len, d = l;

	while (d > 0 && is_digit(s[d - 1])) {
		d--;
	}
	if (d == l || d == 0 || s[d - 1] != '/') {
		return 0;
	}
	if (mode == 1 && d >= 2 && s[d - 2] == '/') {
		if (prefix_parse(s + d, l - d, 128, &t->cidr6) == -1) {
			return -1;
		}
		l = d - 2;
		*len = l;
		d = l;
		while (d > 0 && is_digit(s[d - 1])) {
			d--;
		}
		if (d == l || d == 0 || s[d - 1] != '/') {
			return 0;
		}
	}
	if (prefix_parse(s + d, l - d, mode == 2 ? 128 : 32,
	    mode == 2 ? &t->cidr6 : &t->cidr4) == -1) {
		return -1;
	}
	*len = d - 1;
	return 0;
}

/* Digits, no leading zero (RFC 7208 12: "0" / %x31-39 0*1DIGIT),
 * at most max. */
static int
prefix_parse(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0')) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max) {
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * domain-spec = macro-string domain-end, domain-end = "." toplabel
 * ["."] / macro-expand. Without a macro it is a name of at least two
 * labels, each 1 to 63 octets, 253 in all, whose last label is
 * letters, digits and inner hyphens, not all digits.
 */
static enum spf_err
domain_spec(const char *s, size_t len, int *macro)
{
	enum spf_err e;
	size_t end = len, lab = 0, labels = 0, top;
	int alpha = 0;

	if (len == 0) {
		return SPF_E_DOMAIN;
	}
	e = macro_string(s, len, macro);
	if (e != SPF_E_OK) {
		return e;
	}
	if (*macro) {
		return len < SPF_DOMAIN_MAX ? SPF_E_OK : SPF_E_DOMAIN;
	}
	if (s[end - 1] == '.') {
		end--;
	}
	if (end == 0 || end > SPF_DOMAIN_MAX - 1) {
		return SPF_E_DOMAIN;
	}
	for (size_t i = 0; i <= end; i++) {
		if (i == end || s[i] == '.') {
			if (lab == 0 || lab > 63) {
				return SPF_E_DOMAIN;
			}
			labels++;
			lab = 0;
		} else {
			lab++;
		}
	}
	if (labels < 2) {
		return SPF_E_DOMAIN;
	}
	top = end;
	while (top > 0 && s[top - 1] != '.') {
		top--;
	}
	if (s[top] == '-' || s[end - 1] == '-') {
		return SPF_E_DOMAIN;
	}
	for (size_t i = top; i < end; i++) {
		if (is_alpha(s[i])) {
			alpha = 1;
		} else if (!is_digit(s[i]) && s[i] != '-') {
			return SPF_E_DOMAIN;
		}
	}
	return alpha ? SPF_E_OK : SPF_E_DOMAIN;
}

/* macro-string = *( macro-expand / macro-literal ); macro-expand =
 * "%{" macro-letter transformers *delimiter "}" / "%%" / "%_" / "%-"
 * (RFC 7208 7.1). */
static enum spf_err
macro_string(const char *s, size_t len, int *macro)
{
	static const char letters[] = "slodiphcrtvSLODIPHCRTV";
	static const char delims[] = ".-+,/_=";

	*macro = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e) {
			return SPF_E_CHAR;
		}
		if (c != '%') {
			continue;
		}
		*macro = 1;
		if (i + 1 == len) {
			return SPF_E_MACRO;
		}
		c = (unsigned char)s[++i];
		if (c == '%' || c == '_' || c == '-') {
			continue;
		}
		if (c != '{' || i + 2 >= len || s[i + 1] == '\0' ||
		    strchr(letters, s[i + 1]) == NULL) {
			return SPF_E_MACRO;
		}
		i += 2;
		while (i < len && is_digit(s[i])) {
			i++;
		}
		if (i < len && (s[i] == 'r' || s[i] == 'R')) {
			i++;
		}
		while (i < len && s[i] != '\0' && strchr(delims, s[i]) !=
		    NULL) {
			i++;
		}
		if (i == len || s[i] != '}') {
			return SPF_E_MACRO;
		}
	}
	return SPF_E_OK;
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* s[0..n) equals the lower-case word w, ignoring ASCII case. */
static int
ieq(const char *s, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		if (w[i] == '\0' || c != w[i]) {
			return 0;
		}
	}
	return w[i] == '\0';
}
