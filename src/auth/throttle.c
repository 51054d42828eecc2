/*
 * throttle.c - failed logins per address (see throttle.h).
 */
#include <string.h>
#include <sys/socket.h>

#include "auth/throttle.h"

struct slot {
	uint8_t		key[16];
	uint64_t	start;		/* window start, 0 = free */
	unsigned	count;
};

static struct slot slots[THROTTLE_SLOTS];

static void
make_key(int family, const uint8_t *addr, uint8_t *key)
{
	memset(key, 0, 16);
	if (family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, addr, 4);
	} else {
		memcpy(key, addr, 8);	/* the /64 */
	}
}

/* The slot of key, live in its window, or NULL. */
static struct slot *
find(const uint8_t *key, uint64_t now)
{
	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		if (slots[i].start != 0 && now - slots[i].start <
		    THROTTLE_WINDOW && memcmp(slots[i].key, key, 16) == 0) {
			return &slots[i];
		}
	}
	return NULL;
}

int
throttle_refused(int family, const uint8_t *addr, uint64_t now,
    unsigned limit)
{
	uint8_t key[16];
	struct slot *s;

	make_key(family, addr, key);
	s = find(key, now);
	return s != NULL && s->count >= limit;
}

unsigned
throttle_failed(int family, const uint8_t *addr, uint64_t now)
{
	uint8_t key[16];
	struct slot *s, *oldest = &slots[0];

	if (now == 0) {
		now = 1;	/* 0 marks a free slot */
	}
	make_key(family, addr, key);
	if ((s = find(key, now)) != NULL) {
		return ++s->count;
	}
	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		if (slots[i].start == 0 || now - slots[i].start >=
		    THROTTLE_WINDOW) {
			oldest = &slots[i];	/* free or expired */
			break;
		}
		if (slots[i].start < oldest->start) {
			oldest = &slots[i];
		}
	}
	memcpy(oldest->key, key, 16);
	oldest->start = now;
	oldest->count = 1;
	return 1;
}
