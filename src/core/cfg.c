/* SPDX-License-Identifier: ISC */
/*
 * cfg.c - the flat `key = value` configuration file (SPEC section 3).
 *
 * One line, one key; `#` starts a comment anywhere on a line; lists are
 * separated by spaces (commas are accepted too, as Postfix does). Every
 * key is declared once, in CFG_KEYS (cfg.h). Unknown keys, duplicates
 * and bad values are errors reported as `FILE:LINE: message`.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "cfg.h"
#include "file.h"
#include "fmt.h"
#include "num.h"

#define CFG_FILE_MAX	(1024 * 1024)	/* a config is a few KB */
#define CFG_DELIM_MAX	8		/* recipient_delimiter chars */

#define CFG_TABLE_ROW(id, n, t, d, lo, hi, w, doc) \
	[CFG_##id] = { n, t, d, lo, hi, w, doc },
const struct cfg_keydef cfg_keys[CFG_NKEYS] = {
	CFG_KEYS(CFG_TABLE_ROW)
};
#undef CFG_TABLE_ROW

/* Listeners whose protocol Kconfig can leave out of the binary. */
static const struct {
	enum cfg_key	key;
	int		built_in;
	const char	*what;
} cfg_listener_feature[] = {
	{ CFG_SMTP_LISTEN, WREN_SMTP, "SMTP" },
	{ CFG_SUBMISSION_LISTEN, WREN_SUBMISSION, "submission" },
	{ CFG_SUBMISSIONS_LISTEN, WREN_SUBMISSION, "submission" },
	{ CFG_IMAP_LISTEN, WREN_IMAP, "IMAP" },
	{ CFG_IMAPS_LISTEN, WREN_IMAP, "IMAP" },
	{ CFG_POP3_LISTEN, WREN_POP3, "POP3" },
	{ CFG_POP3S_LISTEN, WREN_POP3, "POP3" },
	{ CFG_HTTP_LISTEN, WREN_HTTP, "HTTP" },
	{ CFG_HTTPS_LISTEN, WREN_HTTP, "HTTP" },
};

static int	set_value(struct cfg *, enum cfg_key, const char *, size_t,
		    unsigned, struct err *);
static int	check_value(enum cfg_key, const char *, int64_t *,
		    struct err *);
static int	parse_size(const char *, size_t, int64_t *);
static int	parse_ip(const char *, size_t, int *, uint8_t *);
static int	next_item(const char **, const char *, const char **,
		    size_t *);
static int	is_space(char);

void
cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof *c);
	for (int k = 0; k < CFG_NKEYS; k++) {
		struct err e;

		(void)fmt(c->v[k].str, sizeof c->v[k].str, "%s",
		    cfg_keys[k].def);
		/* Defaults are checked by the unit tests, so this cannot
		 * fail; it fills the numeric value. */
		(void)check_value((enum cfg_key)k, c->v[k].str,
		    &c->v[k].num, &e);
	}
}

int
cfg_parse(struct cfg *c, const char *name, const char *buf, size_t len,
    struct err *e)
{
	const char *p = buf, *end = buf + len;
	unsigned lineno = 0;

	cfg_defaults(c);
	(void)fmt(c->path, sizeof c->path, "%s", name);	/* messages only */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *k, *ke, *v, *ve, *hash;
		size_t klen;
		int key = -1;

		lineno++;
		if ((size_t)(le - p) > CFG_LINE_MAX) {
			return err_set(e, "%s:%u: line longer than %d "
			    "characters", name, lineno, CFG_LINE_MAX);
		}
		if (memchr(p, '\0', (size_t)(le - p)) != NULL) {
			return err_set(e, "%s:%u: NUL byte in line", name,
			    lineno);
		}
		hash = memchr(p, '#', (size_t)(le - p));
		ve = hash ? hash : le;
		k = p;
		p = nl ? nl + 1 : end;
		while (k < ve && is_space(*k)) {
			k++;
		}
		while (ve > k && (is_space(ve[-1]) || ve[-1] == '\r')) {
			ve--;
		}
		if (k == ve) {
			continue;		/* blank or comment */
		}
		ke = k;
		while (ke < ve && *ke != '=' && !is_space(*ke)) {
			ke++;
		}
		v = ke;
		while (v < ve && is_space(*v)) {
			v++;
		}
		if (v == ve || *v != '=') {
			return err_set(e, "%s:%u: expected 'key = value'",
			    name, lineno);
		}
		v++;
		while (v < ve && is_space(*v)) {
			v++;
		}
		klen = (size_t)(ke - k);
		if (klen == 0) {
			return err_set(e, "%s:%u: missing key before '='",
			    name, lineno);
		}
		for (int i = 0; i < CFG_NKEYS; i++) {
			if (strlen(cfg_keys[i].name) == klen &&
			    memcmp(cfg_keys[i].name, k, klen) == 0) {
				key = i;
				break;
			}
		}
		if (key == -1) {
			return err_set(e, "%s:%u: unknown key '%.*s'", name,
			    lineno, (int)(klen > 64 ? 64 : klen), k);
		}
		if (c->v[key].line != 0) {
			return err_set(e, "%s:%u: duplicate key '%s' (first "
			    "set on line %u)", name, lineno,
			    cfg_keys[key].name, c->v[key].line);
		}
		if (set_value(c, (enum cfg_key)key, v, (size_t)(ve - v),
		    lineno, e) == -1) {
			struct err inner = *e;

			return err_set(e, "%s:%u: %s: %s", name, lineno,
			    cfg_keys[key].name, inner.msg);
		}
	}
	return 0;
}

int
cfg_load(struct cfg *c, const char *path, struct err *e)
{
	size_t len;
	char *buf;
	int rc;

	buf = file_read_all(path, CFG_FILE_MAX, &len, e);
	if (buf == NULL) {
		return -1;
	}
	rc = cfg_parse(c, path, buf, len, e);
	free(buf);
	if (rc == 0) {
		rc = cfg_validate(c, e);
	}
	return rc;
}

int
cfg_validate(const struct cfg *c, struct err *e)
{
	struct cfg_listen a[CFG_LISTEN_MAX], b[CFG_LISTEN_MAX];
	size_t na, nb;
	struct err ignore;

	for (size_t i = 0; i < sizeof cfg_listener_feature /
	    sizeof cfg_listener_feature[0]; i++) {
		enum cfg_key k = cfg_listener_feature[i].key;

		if (!cfg_listener_feature[i].built_in &&
		    c->v[k].str[0] != '\0') {
			return err_set(e, "%s:%u: %s: %s is not built into "
			    "this binary", c->path, c->v[k].line,
			    cfg_keys[k].name, cfg_listener_feature[i].what);
		}
	}
	/* The same address in two listeners would fail at bind time;
	 * say which keys clash instead. */
	for (int i = 0; i < CFG_NKEYS; i++) {
		if (cfg_keys[i].type != CFG_T_LISTEN ||
		    cfg_parse_listen(c->v[i].str, a, CFG_LISTEN_MAX, &na,
		    &ignore) == -1) {
			continue;
		}
		for (int j = i; j < CFG_NKEYS; j++) {
			if (cfg_keys[j].type != CFG_T_LISTEN ||
			    cfg_parse_listen(c->v[j].str, b, CFG_LISTEN_MAX,
			    &nb, &ignore) == -1) {
				continue;
			}
			for (size_t x = 0; x < na; x++) {
				for (size_t y = (i == j) ? x + 1 : 0; y < nb;
				    y++) {
					if (a[x].family == b[y].family &&
					    a[x].port == b[y].port &&
					    memcmp(a[x].addr, b[y].addr, 16)
					    == 0) {
						/* Blame the key set later
						 * in the file (a default
						 * has line 0). */
						int bk = c->v[i].line >
						    c->v[j].line ? i : j;
						int ok = bk == i ? j : i;

						return err_set(e, "%s:%u: %s: "
						    "port %u is also in %s",
						    c->path, c->v[bk].line,
						    cfg_keys[bk].name,
						    b[y].port,
						    cfg_keys[ok].name);
					}
				}
			}
		}
	}
	return 0;
}

const char *
cfg_str(const struct cfg *c, enum cfg_key k)
{
	return c->v[k].str;
}

int64_t
cfg_num(const struct cfg *c, enum cfg_key k)
{
	return c->v[k].num;
}

const char *
cfg_hostname(const struct cfg *c, char *buf, size_t cap)
{
	if (c->v[CFG_HOSTNAME].str[0] != '\0') {
		return c->v[CFG_HOSTNAME].str;
	}
	if (cap == 0 || gethostname(buf, cap) == -1) {
		return "localhost";
	}
	buf[cap - 1] = '\0';
	return buf[0] != '\0' ? buf : "localhost";
}

int
cfg_print(const struct cfg *c, int fd)
{
	char host[CFG_HOST_MAX + 1];
	const char *h = cfg_hostname(c, host, sizeof host);

	for (int k = 0; k < CFG_NKEYS; k++) {
		const char *v = c->v[k].str;

		if (k == CFG_HOSTNAME) {
			v = h;
		} else if (k == CFG_ORIGIN && v[0] == '\0') {
			v = h;
		}
		if (fmt_fd(fd, "%s = %s\n", cfg_keys[k].name, v) == -1) {
			return -1;
		}
	}
	return 0;
}

int
cfg_parse_listen(const char *s, struct cfg_listen *out, size_t cap,
    size_t *n, struct err *e)
{
	const char *it, *end = s + strlen(s);
	size_t len;

	*n = 0;
	while (next_item(&s, end, &it, &len)) {
		const char *colon;
		uint64_t port;

		if (*n == cap) {
			return err_set(e, "more than %zu addresses", cap);
		}
		colon = NULL;
		for (size_t i = len; i > 0; i--) {
			if (it[i - 1] == ':') {
				colon = it + i - 1;
				break;
			}
		}
		if (colon == NULL || colon == it) {
			return err_set(e, "'%.*s': expected address:port "
			    "(IPv6 as [addr]:port)", (int)len, it);
		}
		if (num_parse_u64(colon + 1, (size_t)(it + len - colon - 1),
		    65535, &port) == -1 || port == 0) {
			return err_set(e, "'%.*s': port must be 1-65535",
			    (int)len, it);
		}
		out[*n].port = (uint16_t)port;
		if (it[0] == '[') {
			if (colon[-1] != ']' || parse_ip(it + 1,
			    (size_t)(colon - it - 2), &out[*n].family,
			    out[*n].addr) == -1 || out[*n].family != AF_INET6) {
				return err_set(e, "'%.*s': bad IPv6 address",
				    (int)len, it);
			}
		} else if (parse_ip(it, (size_t)(colon - it),
		    &out[*n].family, out[*n].addr) == -1 ||
		    out[*n].family != AF_INET) {
			return err_set(e, "'%.*s': expected an IPv4 address "
			    "or [IPv6]", (int)len, it);
		}
		(*n)++;
	}
	return 0;
}

int
cfg_parse_nets(const char *s, struct cfg_net *out, size_t cap, size_t *n,
    struct err *e)
{
	const char *it, *end = s + strlen(s);
	size_t len;

	*n = 0;
	while (next_item(&s, end, &it, &len)) {
		const char *slash = memchr(it, '/', len);
		const char *a = it;
		size_t alen = slash ? (size_t)(slash - it) : len;
		unsigned bits, maxbits;
		uint64_t prefix;

		if (*n == cap) {
			return err_set(e, "more than %zu networks", cap);
		}
		if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']') {
			a++;
			alen -= 2;
		}
		if (parse_ip(a, alen, &out[*n].family, out[*n].addr) == -1) {
			return err_set(e, "'%.*s': bad address", (int)len,
			    it);
		}
		maxbits = out[*n].family == AF_INET ? 32 : 128;
		prefix = maxbits;
		if (slash != NULL && num_parse_u64(slash + 1,
		    (size_t)(it + len - slash - 1), maxbits, &prefix) == -1) {
			return err_set(e, "'%.*s': prefix must be 0-%u",
			    (int)len, it, maxbits);
		}
		out[*n].prefix = (unsigned)prefix;
		/* Clear host bits, so 192.168.1.1/24 means the network. */
		for (bits = 0; bits < maxbits; bits++) {
			if (bits >= prefix) {
				out[*n].addr[bits / 8] &=
				    (uint8_t)~(0x80u >> (bits % 8));
			}
		}
		(*n)++;
	}
	return 0;
}

int
cfg_net_match(const struct cfg_net *nets, size_t n, int family,
    const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++) {
		unsigned full = nets[i].prefix / 8, rest = nets[i].prefix % 8;

		if (nets[i].family != family ||
		    memcmp(nets[i].addr, addr, full) != 0) {
			continue;
		}
		if (rest == 0 || ((nets[i].addr[full] ^ addr[full]) &
		    (uint8_t)(0xff00u >> rest)) == 0) {
			return 1;
		}
	}
	return 0;
}

int
cfg_parse_secs(const char *s, size_t len, int64_t *out)
{
	uint64_t v, mul = 1;

	if (len > 1) {
		switch (s[len - 1]) {
		case 's': mul = 1; len--; break;
		case 'm': mul = 60; len--; break;
		case 'h': mul = 3600; len--; break;
		case 'd': mul = 86400; len--; break;
		case 'w': mul = 7 * 86400; len--; break;
		default: break;
		}
	}
	if (num_parse_u64(s, len, UINT32_MAX, &v) == -1) {
		return -1;
	}
	*out = (int64_t)(v * mul);
	return 0;
}

int
cfg_parse_user(const char *s, struct cfg_user *u, struct err *e)
{
	size_t len = strlen(s);
	const char *colon = memchr(s, ':', len);
	uint64_t v;

	memset(u, 0, sizeof *u);
	if (len == 0) {
		return 0;
	}
	if (s[0] >= '0' && s[0] <= '9') {
		size_t ulen = colon ? (size_t)(colon - s) : len;

		if (num_parse_u64(s, ulen, UINT32_MAX - 1, &v) == -1) {
			return err_set(e, "'%s': expected a name or "
			    "uid[:gid]", s);
		}
		u->has_uid = 1;
		u->uid = (uint32_t)v;
		if (colon != NULL) {
			if (num_parse_u64(colon + 1, len - ulen - 1,
			    UINT32_MAX - 1, &v) == -1) {
				return err_set(e, "'%s': gid must be a "
				    "number", s);
			}
			u->has_gid = 1;
			u->gid = (uint32_t)v;
		}
		return 0;
	}
	if (len >= sizeof u->name) {
		return err_set(e, "user name longer than %zu characters",
		    sizeof u->name - 1);
	}
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    ch == '_' || (i > 0 && ((ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.')))) {
			return err_set(e, "'%s': not a valid user name", s);
		}
	}
	memcpy(u->name, s, len + 1);
	return 0;
}

/* Stores a value after checking it against the key's type. */
static int
set_value(struct cfg *c, enum cfg_key k, const char *v, size_t len,
    unsigned line, struct err *e)
{
	struct cfg_val *cv = &c->v[k];
	char tmp[CFG_VALUE_MAX];

	if (len >= sizeof tmp) {
		return err_set(e, "value longer than %d characters",
		    CFG_VALUE_MAX - 1);
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)v[i] < 0x20 && v[i] != '\t') {
			return err_set(e, "control character in value");
		}
	}
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	if (check_value(k, tmp, &cv->num, e) == -1) {
		return -1;
	}
	memcpy(cv->str, tmp, len + 1);
	cv->line = line;
	return 0;
}

static int
check_value(enum cfg_key k, const char *s, int64_t *num, struct err *e)
{
	const struct cfg_keydef *d = &cfg_keys[k];
	size_t len = strlen(s), n, ilen;
	const char *it, *p = s, *end = s + len;
	uint64_t u;
	int64_t secs;

	*num = 0;
	switch (d->type) {
	case CFG_T_STR:
		return 0;
	case CFG_T_HOST:
		if (len > 0 && addr_check_domain(s, len, 0) == -1) {
			return err_set(e, "'%s' is not a valid host name", s);
		}
		return 0;
	case CFG_T_DOMAINS:
		while (next_item(&p, end, &it, &ilen)) {
			if (addr_check_domain(it, ilen, 0) == -1) {
				return err_set(e, "'%.*s' is not a valid "
				    "domain name", (int)ilen, it);
			}
		}
		return 0;
	case CFG_T_NETS: {
		struct cfg_net nets[CFG_NETS_MAX];

		return cfg_parse_nets(s, nets, CFG_NETS_MAX, &n, e);
	}
	case CFG_T_LISTEN: {
		struct cfg_listen l[CFG_LISTEN_MAX];

		return cfg_parse_listen(s, l, CFG_LISTEN_MAX, &n, e);
	}
	case CFG_T_PATH:
		if (len >= CFG_PATH_MAX) {
			return err_set(e, "path longer than %d characters",
			    CFG_PATH_MAX - 1);
		}
		return 0;
	case CFG_T_TEMPLATE:
		if (len == 0 || len >= CFG_PATH_MAX) {
			return err_set(e, "expected a path of 1-%d "
			    "characters", CFG_PATH_MAX - 1);
		}
		for (const char *q = s; *q != '\0'; q++) {
			if (*q == '%' && (q[1] == 'd' || q[1] == 'n' ||
			    q[1] == 'u' || q[1] == '%')) {
				q++;
			} else if (*q == '%') {
				return err_set(e, "unknown escape '%%%c' "
				    "(use %%n, %%d, %%u or %%%%)",
				    q[1] != '\0' ? q[1] : ' ');
			}
		}
		return 0;
	case CFG_T_DELIM:
		if (len > CFG_DELIM_MAX) {
			return err_set(e, "at most %d delimiter characters",
			    CFG_DELIM_MAX);
		}
		for (size_t i = 0; i < len; i++) {
			if (strchr("@\"\\ \t<>()[],;:", s[i]) != NULL ||
			    (unsigned char)s[i] >= 0x80) {
				return err_set(e, "'%c' cannot be a "
				    "delimiter", s[i]);
			}
		}
		return 0;
	case CFG_T_BOOL:
		if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 ||
		    strcmp(s, "on") == 0 || strcmp(s, "1") == 0) {
			*num = 1;
			return 0;
		}
		if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0 ||
		    strcmp(s, "off") == 0 || strcmp(s, "0") == 0) {
			return 0;
		}
		return err_set(e, "expected yes or no, got '%s'", s);
	case CFG_T_UINT:
		if (num_parse_u64(s, len, UINT64_MAX / 2, &u) == -1) {
			return err_set(e, "expected a number, got '%s'", s);
		}
		if ((int64_t)u < d->min || (int64_t)u > d->max) {
			return err_set(e, "%s is out of range %lld-%lld", s,
			    (long long)d->min, (long long)d->max);
		}
		*num = (int64_t)u;
		return 0;
	case CFG_T_SIZE:
		if (parse_size(s, len, num) == -1) {
			return err_set(e, "expected a size in bytes "
			    "(suffix k, m or g allowed), got '%s'", s);
		}
		if (*num < d->min || *num > d->max) {
			return err_set(e, "%s is out of range %lld-%lld", s,
			    (long long)d->min, (long long)d->max);
		}
		return 0;
	case CFG_T_SECS:
		if (cfg_parse_secs(s, len, num) == -1) {
			return err_set(e, "expected a duration like 30s, "
			    "5m, 2h or 1d, got '%s'", s);
		}
		if (*num < d->min || *num > d->max) {
			return err_set(e, "%s is out of range %llds-%llds", s,
			    (long long)d->min, (long long)d->max);
		}
		return 0;
	case CFG_T_SECSLIST:
		n = 0;
		while (next_item(&p, end, &it, &ilen)) {
			if (cfg_parse_secs(it, ilen, &secs) == -1 ||
			    secs < d->min || secs > d->max) {
				return err_set(e, "'%.*s' is not a duration "
				    "between %llds and %llds", (int)ilen, it,
				    (long long)d->min, (long long)d->max);
			}
			n++;
		}
		if (n == 0) {
			return err_set(e, "expected at least one duration");
		}
		*num = (int64_t)n;
		return 0;
	case CFG_T_ENUM:
		n = 0;
		p = d->words;
		end = p + strlen(p);
		while (next_item(&p, end, &it, &ilen)) {
			if (ilen == len && memcmp(it, s, len) == 0) {
				*num = (int64_t)n;
				return 0;
			}
			n++;
		}
		return err_set(e, "expected one of: %s; got '%s'", d->words,
		    s);
	case CFG_T_USER: {
		struct cfg_user user;

		return cfg_parse_user(s, &user, e);
	}
	case CFG_T_RELAYHOST:
	case CFG_T_HOSTPORTS:
		n = 0;
		while (next_item(&p, end, &it, &ilen)) {
			const char *h = it, *colon = NULL;
			size_t hlen = ilen;
			int fam;
			uint8_t addr[16];

			if (d->type == CFG_T_RELAYHOST && ++n > 1) {
				return err_set(e, "expected one host");
			}
			if (h[0] == '[') {
				const char *rb = memchr(h, ']', hlen);

				if (rb == NULL) {
					return err_set(e, "'%.*s': missing ']'",
					    (int)ilen, it);
				}
				if (rb + 1 < it + ilen) {
					colon = rb + 1;
				}
				h++;
				hlen = (size_t)(rb - h);
			} else {
				colon = memchr(h, ':', hlen);
				if (colon != NULL &&
				    memchr(colon + 1, ':', (size_t)(it + ilen
				    - colon - 1)) != NULL) {
					colon = NULL;	/* bare IPv6 */
				} else if (colon != NULL) {
					hlen = (size_t)(colon - h);
				}
			}
			if (colon != NULL && (*colon != ':' ||
			    num_parse_u64(colon + 1, (size_t)(it + ilen - colon
			    - 1), 65535, &u) == -1 || u == 0)) {
				return err_set(e, "'%.*s': bad port",
				    (int)ilen, it);
			}
			if (d->type == CFG_T_HOSTPORTS) {
				if (parse_ip(h, hlen, &fam, addr) == -1) {
					return err_set(e, "'%.*s': expected "
					    "an IP address", (int)ilen, it);
				}
			} else if (parse_ip(h, hlen, &fam, addr) == -1 &&
			    addr_check_domain(h, hlen, 0) == -1) {
				return err_set(e, "'%.*s': bad host name",
				    (int)ilen, it);
			}
		}
		return 0;
	}
	return err_set(e, "internal: no type");
}

static int
parse_size(const char *s, size_t len, int64_t *out)
{
	uint64_t v, mul = 1;

	if (len > 1) {
		switch (s[len - 1]) {
		case 'k': case 'K': mul = 1024; len--; break;
		case 'm': case 'M': mul = 1024 * 1024; len--; break;
		case 'g': case 'G': mul = 1024 * 1024 * 1024; len--; break;
		default: break;
		}
	}
	if (num_parse_u64(s, len, (uint64_t)INT64_MAX / mul, &v) == -1) {
		return -1;
	}
	*out = (int64_t)(v * mul);
	return 0;
}

static int
parse_ip(const char *s, size_t len, int *family, uint8_t *addr)
{
	char tmp[64];

	if (len == 0 || len >= sizeof tmp) {
		return -1;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, tmp, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

/* Iterates over the items of a list separated by spaces, tabs or
 * commas: returns 1 with the next item, 0 at the end. */
static int
next_item(const char **pp, const char *end, const char **item, size_t *len)
{
	const char *p = *pp;

	while (p < end && (is_space(*p) || *p == ',')) {
		p++;
	}
	if (p == end) {
		*pp = p;
		return 0;
	}
	*item = p;
	while (p < end && !is_space(*p) && *p != ',') {
		p++;
	}
	*len = (size_t)(p - *item);
	*pp = p;
	return 1;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}
