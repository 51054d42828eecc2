/* SPDX-License-Identifier: ISC */
/*
 * throttle.c - failed logins per address (see throttle.h).
 *
 * A slot holds a prefix of the 128-bit address space: IPv4 addresses
 * as ::ffff:a.b.c.d, so every key is 16 bytes and a prefix length in
 * bits (all multiples of 8) says how much of it counts:
 *
 *   ::ffff:192.0.2.7       128  one IPv4 address
 *   ::ffff:192.0.2.0       120  an IPv4 /24 aggregate
 *   2001:db8:1:2::          64  one IPv6 client (its /64)
 *   2001:db8:1::            48  an IPv6 /48 aggregate
 *
 * Lookups scan the whole table (1,024 slots of 32 bytes): a few
 * microseconds, once per login attempt.
 */
#include <limits.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/throttle.h"

struct slot {
	uint8_t		key[16];
	uint64_t	start;		/* window start, 0 = free */
	unsigned	count;
	uint8_t		bits;		/* prefix length of key */
};

/* The prefix lengths of one client address. */
struct client {
	uint8_t		key[16];
	uint8_t		bits;		/* the address (IPv6: /64) */
	uint8_t		agg;		/* its aggregate */
};

static struct slot	slots[THROTTLE_SLOTS];
static unsigned		blocked_at = UINT_MAX;	/* the last limit */

static void		make_client(int, const uint8_t *, struct client *);
static int		live(const struct slot *, uint64_t);
static int		holds(const struct slot *, const uint8_t *, uint8_t);
static struct slot	*find(const uint8_t *, uint8_t, uint8_t, uint64_t);
static struct slot	*victim(uint64_t);
static struct slot	*aggregate(const struct client *, uint64_t);

int
throttle_refused(int family, const uint8_t *addr, uint64_t now,
    unsigned limit)
{
	struct client cl;
	struct slot *s;

	blocked_at = limit > 0 ? limit : 1;
	make_client(family, addr, &cl);
	s = find(cl.key, cl.bits, cl.bits, now);
	if (s != NULL && s->count >= limit) {
		return 1;
	}
	s = find(cl.key, cl.agg, cl.agg, now);
	return s != NULL && s->count >= limit;
}

unsigned
throttle_failed(int family, const uint8_t *addr, uint64_t now)
{
	struct client cl;
	struct slot *s;

	if (now == 0) {
		now = 1;	/* 0 marks a free slot */
	}
	make_client(family, addr, &cl);
	if ((s = find(cl.key, cl.bits, cl.agg, now)) != NULL) {
		return ++s->count;	/* the address or its aggregate */
	}
	if ((s = victim(now)) != NULL) {
		memcpy(s->key, cl.key, sizeof s->key);
		s->bits = cl.bits;
		s->start = now;
		s->count = 1;
		return 1;
	}
	if ((s = aggregate(&cl, now)) != NULL) {
		return ++s->count;
	}
	return 0;	/* full of blocks from other prefixes */
}

/* The key of an address; a v4-mapped IPv6 address counts as IPv4. */
static void
make_client(int family, const uint8_t *addr, struct client *cl)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(cl->key, 0, sizeof cl->key);
	if (family == AF_INET || (family == AF_INET6 &&
	    memcmp(addr, mapped, sizeof mapped) == 0)) {
		memcpy(cl->key, mapped, sizeof mapped);
		memcpy(cl->key + 12, family == AF_INET ? addr : addr + 12, 4);
		cl->bits = 128;
		cl->agg = 96 + THROTTLE_V4_AGG;
	} else {
		memcpy(cl->key, addr, 8);	/* the /64 */
		cl->bits = 64;
		cl->agg = THROTTLE_V6_AGG;
	}
}

static int
live(const struct slot *s, uint64_t now)
{
	return s->start != 0 && now - s->start < THROTTLE_WINDOW;
}

/* s is a prefix of bits bits that holds key. */
static int
holds(const struct slot *s, const uint8_t *key, uint8_t bits)
{
	return s->bits == bits && memcmp(s->key, key, bits / 8) == 0;
}

/* The live slot for key with prefix length a or b, or NULL. */
static struct slot *
find(const uint8_t *key, uint8_t a, uint8_t b, uint64_t now)
{
	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		if (live(&slots[i], now) && (holds(&slots[i], key, a) ||
		    holds(&slots[i], key, b))) {
			return &slots[i];
		}
	}
	return NULL;
}

/* A free or expired slot, else the unblocked one with the fewest
 * failures (the oldest of those), else NULL: blocks stay. */
static struct slot *
victim(uint64_t now)
{
	struct slot *best = NULL;

	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		struct slot *s = &slots[i];

		if (!live(s, now)) {
			return s;
		}
		if (s->count >= blocked_at) {
			continue;
		}
		if (best == NULL || s->count < best->count ||
		    (s->count == best->count && s->start < best->start)) {
			best = s;
		}
	}
	return best;
}

/*
 * Every slot is a block. When blocks of the client's prefix exist, the
 * first becomes a block of the whole prefix, with the highest count and
 * the youngest window of the group (no block ends sooner), and the
 * others are freed; NULL when no block shares the prefix.
 */
static struct slot *
aggregate(const struct client *cl, uint64_t now)
{
	struct slot *agg = NULL;

	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		struct slot *s = &slots[i];

		if (!live(s, now) || s->bits != cl->bits ||
		    memcmp(s->key, cl->key, cl->agg / 8) != 0) {
			continue;
		}
		if (agg == NULL) {
			agg = s;
			memset(agg->key + cl->agg / 8, 0,
			    sizeof agg->key - cl->agg / 8);
			agg->bits = cl->agg;
			continue;
		}
		if (s->count > agg->count) {
			agg->count = s->count;
		}
		if (s->start > agg->start) {
			agg->start = s->start;
		}
		memset(s, 0, sizeof *s);
	}
	return agg;
}
