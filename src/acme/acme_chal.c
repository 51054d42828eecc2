/* SPDX-License-Identifier: ISC */
/*
 * acme_chal.c - the table of pending HTTP-01 challenges (RFC 8555 8.3):
 * ACME_CHAL_MAX fixed slots, each a token and its key authorization,
 * searched linearly (a handful of entries). Everything is checked
 * against the base64url alphabet (RFC 4648 5) on the way in, and the
 * lookup checks the network's token the same way before comparing.
 */
#include <string.h>

#include "acme/acme_chal.h"

struct acme_chal {
	char	token[ACME_TOKEN_MAX + 1];	/* "" = free slot */
	char	keyauth[ACME_KEYAUTH_MAX + 1];
};

static struct acme_chal	chal[ACME_CHAL_MAX];

static int	b64url_ok(const char *s, size_t len, int dot);
static struct acme_chal *chal_find(const char *token, size_t len);

int
acme_chal_put(const char *token, const char *keyauth)
{
	size_t tl = strnlen(token, ACME_TOKEN_MAX + 1);
	size_t kl = strnlen(keyauth, ACME_KEYAUTH_MAX + 1);
	struct acme_chal *c;

	if (tl == 0 || tl > ACME_TOKEN_MAX || !b64url_ok(token, tl, 0) ||
	    kl == 0 || kl > ACME_KEYAUTH_MAX || !b64url_ok(keyauth, kl, 1)) {
		return -1;
	}
	if ((c = chal_find(token, tl)) == NULL) {
		c = chal_find("", 0);
	}
	if (c == NULL) {
		return -1;
	}
	memcpy(c->token, token, tl + 1);
	memcpy(c->keyauth, keyauth, kl + 1);
	return 0;
}

int
acme_chal_del(const char *token)
{
	size_t tl = strnlen(token, ACME_TOKEN_MAX + 1);
	struct acme_chal *c;

	/* An empty token would find a free slot. */
	if (tl == 0 || tl > ACME_TOKEN_MAX ||
	    (c = chal_find(token, tl)) == NULL) {
		return 0;
	}
	memset(c, 0, sizeof *c);
	return 1;
}

void
acme_chal_clear(void)
{
	memset(chal, 0, sizeof chal);
}

const char *
acme_http01(const char *token, size_t len)
{
	struct acme_chal *c;

	if (len == 0 || len > ACME_TOKEN_MAX || !b64url_ok(token, len, 0) ||
	    (c = chal_find(token, len)) == NULL) {
		return NULL;
	}
	return c->keyauth;
}

/* 1 when s[0..len) holds only A-Z a-z 0-9 - _ (and '.' when dot). */
static int
b64url_ok(const char *s, size_t len, int dot)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    (dot && ch == '.'))) {
			return 0;
		}
	}
	return 1;
}

/* The slot holding token[0..len); len 0 finds a free slot. */
static struct acme_chal *
chal_find(const char *token, size_t len)
{
	for (size_t i = 0; i < ACME_CHAL_MAX; i++) {
		if (strlen(chal[i].token) == len &&
		    memcmp(chal[i].token, token, len) == 0) {
			return &chal[i];
		}
	}
	return NULL;
}
