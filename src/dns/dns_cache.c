/* SPDX-License-Identifier: ISC */
/*
 * dns_cache.c - the resolver's answers, positive and negative (RFC
 * 2308 5), kept until their TTL runs out, in a pool sized at start.
 *
 * The pool is small (DNS_CACHE_MAX), so a lookup scans it, comparing
 * a hash of the lower-cased name before the name itself. When the
 * pool is full the least recently used entry (an expired one first)
 * makes room.
 *
 * An answer is not kept as the struct dns_answer the resolver hands
 * out (over 3 KB, mostly room for TXT text) but packed into an entry
 * of DNS_CACHE_DATA_MAX octets, and unpacked again on a hit; an
 * answer that does not fit is simply not kept. Entries are used in
 * order, up to a high-water mark that a flush sets back to zero, so
 * neither the start nor a flush touches the pages of an entry:
 *
 *   cache[0 .. fresh)            used or expired entries, scanned
 *   cache[fresh .. ncache)       never written since start or flush
 *
 *   data: qname NUL [cname NUL ttl(4) n(1) record...]   (DNS_OK only)
 *   record: type(2) pref(2) weight(2) port(2) ttl(4) alen(1) addr(alen)
 *           tlen(2) text     (weight, port: SRV)
 *
 * Numbers are in host order (the bytes never leave the process).
 */
#include <string.h>

#include "core/pool.h"
#include "dns_int.h"

struct cache_ent {
	uint8_t		 used;
	uint8_t		 status;
	uint16_t	 qtype;
	uint16_t	 len;		/* of data */
	uint32_t	 hash;
	uint64_t	 expires;	/* ms, loop clock */
	uint64_t	 last_use;	/* use counter */
	unsigned char	 data[DNS_CACHE_DATA_MAX];
};

/* Packing and unpacking: a cursor over data. */
struct cur {
	unsigned char	*p;
	size_t		 len, off;
	int		 err;
};

static struct cache_ent	*cache;
static size_t		 ncache;
static size_t		 fresh;		/* cache[fresh..] never used */
static uint64_t		 use_counter;

static uint32_t		 name_hash(const char *);
static uint32_t		 clamp_ttl(uint32_t);
static size_t		 pack(unsigned char *, size_t, const char *, int,
			    const struct dns_answer *);
static int		 unpack(const struct cache_ent *,
			    struct dns_answer *);
static void		 put_bytes(struct cur *, const void *, size_t);
static void		 get_bytes(struct cur *, void *, size_t);
static void		 put_text(struct cur *, const char *, size_t);
static void		 get_text(struct cur *, char *, size_t);

int
dns_cache_init(size_t entries, struct err *e)
{
	dns_cache_free();
	cache = pool_pages(entries * sizeof *cache);
	if (cache == NULL) {
		return err_set(e, "dns cache: out of memory");
	}
	ncache = entries;
	fresh = 0;
	return 0;
}

void
dns_cache_free(void)
{
	pool_pages_free(cache, ncache * sizeof *cache);
	cache = NULL;
	ncache = 0;
	fresh = 0;
}

void
dns_cache_flush(void)
{
	fresh = 0;
}

size_t
dns_cache_bytes_per_entry(void)
{
	return sizeof(struct cache_ent);
}

int
dns_cache_get(const char *name, uint16_t qtype, uint64_t now, int *status,
    struct dns_answer *out)
{
	uint32_t h = name_hash(name);

	for (size_t i = 0; i < fresh; i++) {
		struct cache_ent *c = &cache[i];

		if (!c->used || c->qtype != qtype || c->hash != h ||
		    !dns_name_eq((const char *)c->data, name)) {
			continue;
		}
		if (c->expires <= now) {
			c->used = 0;
			return 0;
		}
		if (c->status == DNS_OK && unpack(c, out) == -1) {
			c->used = 0;	/* not reached: we packed it */
			return 0;
		}
		c->last_use = ++use_counter;
		*status = c->status;
		return 1;
	}
	return 0;
}

void
dns_cache_put(const char *name, uint16_t qtype, int status,
    const struct dns_answer *ans, uint32_t ttl, uint64_t now)
{
	struct cache_ent *victim = NULL, *same = NULL;
	uint32_t h = name_hash(name);
	uint64_t best = 0;
	unsigned char data[DNS_CACHE_DATA_MAX];
	size_t len;

	if (ncache == 0 || (status == DNS_OK && ans == NULL)) {
		return;
	}
	for (size_t i = 0; i < fresh; i++) {
		struct cache_ent *c = &cache[i];
		uint64_t score;

		if (c->used && c->qtype == qtype && c->hash == h &&
		    dns_name_eq((const char *)c->data, name)) {
			same = c;	/* replace the old answer */
			break;
		}
		/* Free first, then expired, then least recently used. */
		score = !c->used ? 0 : c->expires <= now ? 1 :
		    2 + c->last_use;
		if (victim == NULL || score < best) {
			victim = c;
			best = score;
		}
	}
	len = pack(data, sizeof data, name, status, ans);
	if (len == 0) {
		/* Too big to keep; nor may an older answer stay. */
		if (same != NULL) {
			same->used = 0;
		}
		return;
	}
	if (same != NULL) {
		victim = same;
	} else if ((victim == NULL || best >= 2) && fresh < ncache) {
		victim = &cache[fresh++];	/* rather than a live one */
	}
	memcpy(victim->data, data, len);
	victim->len = (uint16_t)len;
	victim->used = 1;
	victim->status = (uint8_t)status;
	victim->qtype = qtype;
	victim->hash = h;
	victim->expires = now + (uint64_t)clamp_ttl(ttl) * 1000;
	victim->last_use = ++use_counter;
}

/* The key (the name as asked, NUL-terminated) and, for DNS_OK, the
 * answer into out; the length, or 0 when it does not fit. */
static size_t
pack(unsigned char *out, size_t cap, const char *name, int status,
    const struct dns_answer *a)
{
	struct cur c = { out, cap, 0, 0 };
	uint8_t n;

	put_text(&c, name, strnlen(name, DNS_NAME_MAX - 1));
	if (status != DNS_OK) {
		return c.err ? 0 : c.off;
	}
	n = (uint8_t)(a->n < DNS_ANSWER_RR_MAX ? a->n : DNS_ANSWER_RR_MAX);
	put_text(&c, a->cname, strnlen(a->cname, DNS_NAME_MAX - 1));
	put_bytes(&c, &a->ttl, sizeof a->ttl);
	put_bytes(&c, &n, 1);
	for (size_t i = 0; i < n; i++) {
		const struct dns_record *r = &a->rr[i];
		uint8_t alen = sizeof r->addr;
		uint16_t tlen = r->len;

		while (alen > 0 && r->addr[alen - 1] == 0) {
			alen--;
		}
		if ((size_t)r->off + tlen >= sizeof a->text) {
			return 0;	/* not an answer of ours */
		}
		put_bytes(&c, &r->type, sizeof r->type);
		put_bytes(&c, &r->pref, sizeof r->pref);
		put_bytes(&c, &r->weight, sizeof r->weight);
		put_bytes(&c, &r->port, sizeof r->port);
		put_bytes(&c, &r->ttl, sizeof r->ttl);
		put_bytes(&c, &alen, 1);
		put_bytes(&c, r->addr, alen);
		put_bytes(&c, &tlen, sizeof tlen);
		put_bytes(&c, a->text + r->off, tlen);
	}
	return c.err ? 0 : c.off;
}

/* The answer of an entry as the resolver built it; -1 on a bad entry. */
static int
unpack(const struct cache_ent *e, struct dns_answer *a)
{
	struct cur c = { (unsigned char *)e->data, e->len, 0, 0 };
	uint8_t n = 0;

	memset(a, 0, offsetof(struct dns_answer, text));
	a->qtype = e->qtype;
	get_text(&c, a->qname, sizeof a->qname);
	get_text(&c, a->cname, sizeof a->cname);
	get_bytes(&c, &a->ttl, sizeof a->ttl);
	get_bytes(&c, &n, 1);
	if (n > DNS_ANSWER_RR_MAX) {
		return -1;
	}
	for (size_t i = 0; i < n && !c.err; i++) {
		struct dns_record *r = &a->rr[i];
		uint8_t alen = 0;
		uint16_t tlen = 0;

		get_bytes(&c, &r->type, sizeof r->type);
		get_bytes(&c, &r->pref, sizeof r->pref);
		get_bytes(&c, &r->weight, sizeof r->weight);
		get_bytes(&c, &r->port, sizeof r->port);
		get_bytes(&c, &r->ttl, sizeof r->ttl);
		get_bytes(&c, &alen, 1);
		if (alen > sizeof r->addr) {
			return -1;
		}
		get_bytes(&c, r->addr, alen);
		get_bytes(&c, &tlen, sizeof tlen);
		if ((size_t)tlen + 1 > sizeof a->text - a->textlen) {
			return -1;
		}
		get_bytes(&c, a->text + a->textlen, tlen);
		a->text[a->textlen + tlen] = '\0';
		r->off = (uint16_t)a->textlen;
		r->len = tlen;
		a->textlen += (size_t)tlen + 1;
		a->n++;
	}
	return c.err ? -1 : 0;
}

static void
put_bytes(struct cur *c, const void *p, size_t n)
{
	if (c->err || n > c->len - c->off) {
		c->err = 1;
		return;
	}
	memcpy(c->p + c->off, p, n);
	c->off += n;
}

static void
get_bytes(struct cur *c, void *p, size_t n)
{
	if (c->err || n > c->len - c->off) {
		c->err = 1;
		return;
	}
	memcpy(p, c->p + c->off, n);
	c->off += n;
}

/* A name with its NUL. */
static void
put_text(struct cur *c, const char *s, size_t n)
{
	put_bytes(c, s, n);
	put_bytes(c, "", 1);
}

static void
get_text(struct cur *c, char *out, size_t cap)
{
	const unsigned char *nul;
	size_t n;

	if (c->err || (nul = memchr(c->p + c->off, '\0',
	    c->len - c->off)) == NULL ||
	    (n = (size_t)(nul - (c->p + c->off))) >= cap) {
		c->err = 1;
		return;
	}
	memcpy(out, c->p + c->off, n + 1);
	c->off += n + 1;
}

/* FNV-1a over the lower-cased name without a trailing dot. */
static uint32_t
name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '.') {
		n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z') {
			c = (unsigned char)(c - 'A' + 'a');
		}
		h = (h ^ c) * 16777619u;
	}
	return h;
}

static uint32_t
clamp_ttl(uint32_t ttl)
{
	if (ttl < DNS_TTL_MIN) {
		return DNS_TTL_MIN;
	}
	return ttl > DNS_TTL_MAX ? DNS_TTL_MAX : ttl;
}
