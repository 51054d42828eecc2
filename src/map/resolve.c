/* SPDX-License-Identifier: ISC */
/*
 * resolve.c - recipient resolution (see resolve.h for the rules).
 */
#include <strings.h>
#include <string.h>

#include "core/fmt.h"
#include "map/resolve.h"
#include "msg/mailbox.h"

struct walk {
	const struct resolver	*r;
	struct resolve_result	*res;
	const char		*chain[RESOLVE_DEPTH_MAX + 1];
	size_t			 depth;
};

static enum resolve_status	expand(struct walk *, const char *, size_t,
				    int);
static enum resolve_status	expand_list(struct walk *, const char *,
				    size_t, const char *, int);
static enum resolve_status	deliver_account(struct walk *,
				    const struct mailbox *);
static enum resolve_status	add(struct walk *, enum resolve_kind,
				    const char *, size_t, const char *,
				    size_t, const char *);
static const char		*origin(const struct cfg *, char *, size_t);
static void			strip_tag(const struct cfg *,
				    struct mailbox *);

void
resolve(const struct resolver *r, const char *addr, size_t len,
    struct resolve_result *res)
{
	struct walk w;

	memset(&w, 0, sizeof w);
	w.r = r;
	w.res = res;
	res->status = RESOLVE_OK;
	res->n = 0;
	res->unknown = 0;
	res->used = 0;
	res->why[0] = '\0';
	res->status = expand(&w, addr, len, 1);
	if (res->status == RESOLVE_OK && res->n == 0) {
		res->status = RESOLVE_UNKNOWN;
	}
}

void
resolve_account(const struct resolver *r, const char *login, size_t len,
    struct resolve_result *res)
{
	struct mailbox mb;
	struct walk w;

	memset(&w, 0, sizeof w);
	w.r = r;
	w.res = res;
	res->n = 0;
	res->unknown = 0;
	res->used = 0;
	res->why[0] = '\0';
	if (mailbox_parse(login, len, 0, &mb) != MAILBOX_OK) {
		res->status = RESOLVE_BAD_ADDRESS;
		return;
	}
	res->status = deliver_account(&w, &mb);
}

int
resolve_is_local_domain(const struct cfg *c, const char *d, size_t len)
{
	char host[CFG_HOST_MAX + 1];
	const char *h = cfg_hostname(c, host, sizeof host);
	const char *p = cfg_str(c, CFG_DOMAINS);

	if ((len == 9 && strncasecmp(d, "localhost", 9) == 0) ||
	    (strlen(h) == len && strncasecmp(h, d, len) == 0)) {
		return 1;
	}
	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',') {
			p++;
		}
		n = strcspn(p, " \t,");
		if (n > 0 && n == len && strncasecmp(p, d, len) == 0) {
			return 1;
		}
		p += n;
	}
	return 0;
}

const char *
resolve_status_name(enum resolve_status s)
{
	switch (s) {
	case RESOLVE_OK: return "ok";
	case RESOLVE_UNKNOWN: return "unknown user";
	case RESOLVE_LOOP: return "alias loop";
	case RESOLVE_TOO_MANY: return "too many targets";
	case RESOLVE_BAD_ADDRESS: return "bad address";
	case RESOLVE_TEMPFAIL: return "table unavailable";
	}
	return "?";
}

/*
 * Expands one address. `top` is the recipient itself (an unknown top
 * address is the recipient's error; an unknown target is counted and
 * skipped, as Postfix bounces just that member of a list).
 */
static enum resolve_status
expand(struct walk *w, const char *addr, size_t len, int top)
{
	const struct cfg *c = w->r->cfg;
	char key[ADDR_MAX + 2], org[CFG_HOST_MAX + 1];
	struct mailbox mb;
	const char *val;
	size_t vlen, klen;
	enum resolve_status st;
	int rc;

	if (mailbox_parse(addr, len, 0, &mb) != MAILBOX_OK) {
		(void)fmt(w->res->why, sizeof w->res->why,
		    "bad address '%.*s'", (int)(len > 64 ? 64 : len), addr);
		return RESOLVE_BAD_ADDRESS;
	}
	if (mb.dlen == 0) {		/* a bare name: the origin domain */
		const char *o = origin(c, org, sizeof org);

		mb.dlen = strlen(o);
		if (mb.dlen > ADDR_DOMAIN_MAX) {
			return RESOLVE_BAD_ADDRESS;
		}
		memcpy(mb.domain, o, mb.dlen + 1);
		mailbox_lower(mb.domain, mb.dlen);
	}
	if (!resolve_is_local_domain(c, mb.domain, mb.dlen)) {
		klen = (size_t)mailbox_format(&mb, key, sizeof key);
		return add(w, RESOLVE_REMOTE, key, klen, "", 0, "");
	}
	strip_tag(c, &mb);
	klen = (size_t)mailbox_format(&mb, key, sizeof key);
	for (size_t i = 0; i < w->depth; i++) {
		if (strcmp(w->chain[i], key) == 0) {
			(void)fmt(w->res->why, sizeof w->res->why,
			    "%s expands to itself through %s", key,
			    w->chain[w->depth - 1]);
			return RESOLVE_LOOP;
		}
	}
	if (w->depth == RESOLVE_DEPTH_MAX) {
		(void)fmt(w->res->why, sizeof w->res->why,
		    "aliases nested more than %d deep at %s",
		    RESOLVE_DEPTH_MAX, key);
		return RESOLVE_LOOP;
	}
	/* virtual: the full address, then the catch-all @domain */
	rc = map_lookup(w->r->virtual, key, klen, &val, &vlen);
	if (rc == 0) {
		char catchall[ADDR_DOMAIN_MAX + 2];

		catchall[0] = '@';
		memcpy(catchall + 1, mb.domain, mb.dlen);
		rc = map_lookup(w->r->virtual, catchall, mb.dlen + 1, &val,
		    &vlen);
	}
	if (rc == -1) {
		(void)fmt(w->res->why, sizeof w->res->why, "virtual table");
		return RESOLVE_TEMPFAIL;
	}
	if (rc == 1) {
		return expand_list(w, val, vlen, key, 0);
	}
	/* aliases: the local part */
	rc = map_lookup(w->r->aliases, mb.local, mb.llen, &val, &vlen);
	if (rc == -1) {
		(void)fmt(w->res->why, sizeof w->res->why, "aliases table");
		return RESOLVE_TEMPFAIL;
	}
	if (rc == 1) {
		return expand_list(w, val, vlen, key, 1);
	}
	st = deliver_account(w, &mb);
	if (st == RESOLVE_UNKNOWN && !top) {
		w->res->unknown++;
		(void)fmt(w->res->why, sizeof w->res->why,
		    "alias target %s has no account", key);
		return RESOLVE_OK;
	}
	if (st == RESOLVE_UNKNOWN) {
		(void)fmt(w->res->why, sizeof w->res->why, "no account %s",
		    key);
	}
	return st;
}

/*
 * Expands each NUL-separated target of a table value. A target that
 * names the address itself (`alice: alice`, or the same full address
 * in virtual) means "and its own mailbox".
 */
static enum resolve_status
expand_list(struct walk *w, const char *val, size_t vlen, const char *self,
    int alias)
{
	const char *p = val, *end = val + vlen;
	const char *at = strchr(self, '@');
	size_t selflocal = at ? (size_t)(at - self) : strlen(self);
	enum resolve_status st = RESOLVE_OK;

	w->chain[w->depth++] = self;
	while (p <= end && st == RESOLVE_OK) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		const char *te = nul ? nul : end;
		size_t tlen = (size_t)(te - p);
		char t[ADDR_MAX + 2];

		if (tlen > 0 && tlen < sizeof t) {
			memcpy(t, p, tlen);
			t[tlen] = '\0';
			mailbox_lower(t, tlen);
			if (strcmp(t, self) == 0 || (alias && tlen ==
			    selflocal && memcmp(t, self, tlen) == 0)) {
				struct mailbox mb;

				(void)mailbox_parse(self, strlen(self), 0,
				    &mb);
				st = deliver_account(w, &mb);
				if (st == RESOLVE_UNKNOWN) {
					w->res->unknown++;
					st = RESOLVE_OK;
				}
			} else {
				st = expand(w, t, tlen, 0);
			}
		}
		p = te + 1;
	}
	w->depth--;
	return st;
}

/* The account for local@domain, then for the bare local part. */
static enum resolve_status
deliver_account(struct walk *w, const struct mailbox *mb)
{
	const struct cfg *c = w->r->cfg;
	char login[ADDR_MAX + 2], home[CFG_PATH_MAX], org[CFG_HOST_MAX + 1];
	char dest[ADDR_MAX + 2];
	const char *val, *tpl, *dom;
	struct map_user u;
	size_t vlen, llen, hlen = 0;
	int rc, bare = 0;

	llen = (size_t)mailbox_format(mb, login, sizeof login);
	memcpy(dest, login, llen + 1);
	rc = map_lookup(w->r->users, login, llen, &val, &vlen);
	if (rc == 0) {
		rc = map_lookup(w->r->users, mb->local, mb->llen, &val,
		    &vlen);
		if (rc == 1) {
			bare = 1;
			llen = mb->llen;
			login[llen] = '\0';
		}
	}
	if (rc == -1) {
		(void)fmt(w->res->why, sizeof w->res->why, "users table");
		return RESOLVE_TEMPFAIL;
	}
	if (rc == 0) {
		return RESOLVE_UNKNOWN;
	}
	if (map_user_decode(val, vlen, &u) == -1) {
		(void)fmt(w->res->why, sizeof w->res->why,
		    "users table: bad record for %s", login);
		return RESOLVE_TEMPFAIL;
	}
	if (u.hlen > 0 && u.hlen < sizeof home) {
		memcpy(home, u.home, u.hlen);
		home[u.hlen] = '\0';
		hlen = u.hlen;
	} else {
		/* mail_home: %n local part, %d domain (origin for a bare
		 * account), %u the login. */
		dom = bare ? origin(c, org, sizeof org) : mb->domain;
		for (tpl = cfg_str(c, CFG_MAIL_HOME); *tpl != '\0' &&
		    hlen + 1 < sizeof home; tpl++) {
			const char *ins = NULL;
			size_t n;

			if (tpl[0] != '%' || tpl[1] == '\0') {
				home[hlen++] = *tpl;
				continue;
			}
			tpl++;
			switch (*tpl) {
			case 'n': ins = mb->local; break;
			case 'd': ins = dom; break;
			case 'u': ins = login; break;
			default: ins = "%"; break;
			}
			n = strlen(ins);
			if (hlen + n >= sizeof home) {
				break;
			}
			memcpy(home + hlen, ins, n);
			hlen += n;
		}
		home[hlen] = '\0';
	}
	return add(w, RESOLVE_LOCAL, login, llen, home, hlen, dest);
}

/* Adds a target unless it is already there. */
static enum resolve_status
add(struct walk *w, enum resolve_kind kind, const char *addr, size_t alen,
    const char *home, size_t hlen, const char *dest)
{
	size_t dlen = strlen(dest);
	struct resolve_result *res = w->res;
	struct resolve_target *t;

	for (size_t i = 0; i < res->n; i++) {
		if (res->t[i].kind == kind && strcmp(res->t[i].addr,
		    addr) == 0) {
			return RESOLVE_OK;
		}
	}
	if (res->n == RESOLVE_TARGETS_MAX ||
	    res->used + alen + hlen + dlen + 3 > sizeof res->arena) {
		(void)fmt(res->why, sizeof res->why, "more than %d targets",
		    RESOLVE_TARGETS_MAX);
		return RESOLVE_TOO_MANY;
	}
	t = &res->t[res->n++];
	t->kind = kind;
	t->addr = res->arena + res->used;
	memcpy(res->arena + res->used, addr, alen);
	res->arena[res->used + alen] = '\0';
	res->used += alen + 1;
	t->home = res->arena + res->used;
	memcpy(res->arena + res->used, home, hlen);
	res->arena[res->used + hlen] = '\0';
	res->used += hlen + 1;
	t->dest = res->arena + res->used;
	memcpy(res->arena + res->used, dest, dlen + 1);
	res->used += dlen + 1;
	return RESOLVE_OK;
}

static const char *
origin(const struct cfg *c, char *buf, size_t cap)
{
	const char *o = cfg_str(c, CFG_ORIGIN);

	return o[0] != '\0' ? o : cfg_hostname(c, buf, cap);
}

/* alice+tag -> alice: cut at the first delimiter character, unless the
 * local part starts with it. */
static void
strip_tag(const struct cfg *c, struct mailbox *mb)
{
	const char *delim = cfg_str(c, CFG_RECIPIENT_DELIMITER);

	if (delim[0] == '\0' || mb->local[0] == '"') {
		return;
	}
	for (size_t i = 1; i < mb->llen; i++) {
		if (strchr(delim, mb->local[i]) != NULL) {
			mb->llen = i;
			mb->local[i] = '\0';
			return;
		}
	}
}
