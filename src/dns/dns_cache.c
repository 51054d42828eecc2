/*
 * dns_cache.c - the resolver's answers, positive and negative (RFC
 * 2308 5), kept until their TTL runs out, in a pool sized at start.
 *
 * The pool is small (DNS_CACHE_MAX), so a lookup scans it, comparing
 * a hash of the lower-cased name before the name itself. When the
 * pool is full the least recently used entry (an expired one first)
 * makes room.
 */
#include <stdlib.h>
#include <string.h>

#include "dns_int.h"

struct cache_ent {
	int		 used;
	int		 status;
	uint16_t	 qtype;
	uint32_t	 hash;
	uint64_t	 expires;	/* ms, loop clock */
	uint64_t	 last_use;	/* use counter */
	struct dns_answer ans;		/* ans.qname is the key */
};

static struct cache_ent	*cache;
static size_t		 ncache;
static uint64_t		 use_counter;

static uint32_t		 name_hash(const char *);
static uint32_t		 clamp_ttl(uint32_t);

int
dns_cache_init(size_t entries, struct err *e)
{
	dns_cache_free();
	cache = calloc(entries, sizeof *cache);
	if (cache == NULL) {
		return err_set(e, "dns cache: out of memory");
	}
	ncache = entries;
	return 0;
}

void
dns_cache_free(void)
{
	free(cache);
	cache = NULL;
	ncache = 0;
}

void
dns_cache_flush(void)
{
	for (size_t i = 0; i < ncache; i++) {
		cache[i].used = 0;
	}
}

int
dns_cache_get(const char *name, uint16_t qtype, uint64_t now, int *status,
    const struct dns_answer **ans)
{
	uint32_t h = name_hash(name);

	for (size_t i = 0; i < ncache; i++) {
		struct cache_ent *c = &cache[i];

		if (!c->used || c->qtype != qtype || c->hash != h ||
		    !dns_name_eq(c->ans.qname, name)) {
			continue;
		}
		if (c->expires <= now) {
			c->used = 0;
			return 0;
		}
		c->last_use = ++use_counter;
		*status = c->status;
		*ans = c->status == DNS_OK ? &c->ans : NULL;
		return 1;
	}
	return 0;
}

void
dns_cache_put(const char *name, uint16_t qtype, int status,
    const struct dns_answer *ans, uint32_t ttl, uint64_t now)
{
	struct cache_ent *victim = NULL;
	uint32_t h = name_hash(name);
	uint64_t best = 0;

	if (ncache == 0 || (status == DNS_OK && ans == NULL)) {
		return;
	}
	for (size_t i = 0; i < ncache; i++) {
		struct cache_ent *c = &cache[i];
		uint64_t score;

		if (c->used && c->qtype == qtype && c->hash == h &&
		    dns_name_eq(c->ans.qname, name)) {
			victim = c;	/* replace the old answer */
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
	if (status == DNS_OK) {
		memcpy(&victim->ans, ans, sizeof *ans);
	} else {
		memset(&victim->ans, 0, sizeof victim->ans);
		victim->ans.qtype = qtype;
	}
	/* The key is the name as asked; an answer's qname is that too. */
	memcpy(victim->ans.qname, name, strnlen(name, DNS_NAME_MAX - 1));
	victim->ans.qname[strnlen(name, DNS_NAME_MAX - 1)] = '\0';
	victim->used = 1;
	victim->status = status;
	victim->qtype = qtype;
	victim->hash = h;
	victim->expires = now + (uint64_t)clamp_ttl(ttl) * 1000;
	victim->last_use = ++use_counter;
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
