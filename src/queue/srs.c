/* SPDX-License-Identifier: ISC */
/*
 * srs.c - Sender Rewriting Scheme, compatible with postsrsd and libsrs2
 * (see srs.h; the scheme is described in "Sender Rewriting Scheme" by
 * Shevek, and SPF's need for it in RFC 7208 section 10.2).
 */
#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* rename */
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fmt.h"
#include "msg/base64.h"
#include "queue/srs.h"
#include "store/maildir.h"

#define SRS_SEPARATORS	"=+-"	/* what may follow SRS0/SRS1 */
#define SRS_DAY_S	86400
#define SRS_TIME_SLOTS	1024	/* two base32 characters */
#define SRS_KEY_RANDOM	32	/* bytes of a new key */

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* One piece of the hashed text. */
struct piece {
	const char	*p;
	size_t		 len;
};

static int	key_make(const char *, const char *, const char *,
		    struct err *);
static int	key_read(const char *, struct srs_key *, struct err *);
static void	hash(const struct srs_key *, const struct piece *, size_t,
		    char *);
static int	hash_ok(const struct srs_key *, const struct piece *, size_t,
		    const char *, size_t);
static int	has_tag(const char *, size_t, const char *);
static int	stamp_ok(const char *, size_t, time_t);
static int	join(char *, size_t, const struct piece *, size_t);

int
srs_init(const char *data_dir, struct srs_key *key, struct err *e)
{
	char path[CFG_PATH_MAX + 16], tmp[CFG_PATH_MAX + 32];

	if (fmt(path, sizeof path, "%s/%s", data_dir, SRS_KEY_FILE) >=
	    (int)sizeof path || fmt(tmp, sizeof tmp, "%s/.%s.tmp", data_dir,
	    SRS_KEY_FILE) >= (int)sizeof tmp) {
		return err_set(e, "%s: path too long", data_dir);
	}
	if (access(path, F_OK) == -1) {
		if (errno != ENOENT) {
			return err_set(e, "%s: %s", path, strerror(errno));
		}
		if (key_make(data_dir, path, tmp, e) == -1) {
			return -1;
		}
	}
	return key_read(path, key, e);
}

int
srs_key_set(struct srs_key *key, const char *text, size_t len)
{
	if (len == 0 || len > SRS_KEY_MAX) {
		return -1;
	}
	memcpy(key->k, text, len);
	key->len = len;
	return 0;
}

int
srs_forward(const struct srs_key *key, const char *srs_domain,
    const char *sender, char *out, size_t cap, time_t now)
{
	const char *at = strrchr(sender, '@');
	struct piece in[3], res[10];
	char h[SRS_HASH_LEN + 1], tt[3];
	size_t llen, dl = strlen(srs_domain);
	uint64_t day;

	if (sender[0] == '\0' || (at != NULL && strcasecmp(at + 1,
	    srs_domain) == 0)) {
		return join(out, cap, (struct piece[]){ { sender,
		    strlen(sender) } }, 1) == -1 ? -1 : 0;
	}
	if (at == NULL || at == sender || at[1] == '\0' || dl == 0) {
		return -1;
	}
	llen = (size_t)(at - sender);
	if (has_tag(sender, llen, "SRS0")) {
		/* A forwarder's SRS0: keep it whole, opaque, and name
		 * its host, so bounces go back through that host. */
		in[0] = (struct piece){ at + 1, strlen(at + 1) };
		in[1] = (struct piece){ sender + 4, llen - 4 };
		hash(key, in, 2, h);
		res[0] = (struct piece){ "SRS1=", 5 };
		res[1] = (struct piece){ h, SRS_HASH_LEN };
		res[2] = (struct piece){ "=", 1 };
		res[3] = in[0];
		res[4] = (struct piece){ "=", 1 };
		res[5] = in[1];
		res[6] = (struct piece){ "@", 1 };
		res[7] = (struct piece){ srs_domain, dl };
		return join(out, cap, res, 8) == -1 ? -1 : 1;
	}
	if (has_tag(sender, llen, "SRS1")) {
		/* SRS1=HHHH=hop==...: rehashed for us, hop kept. */
		const char *hop = memchr(sender + 5, '=', llen - 5);
		const char *user = hop ? memchr(hop + 1, '=',
		    (size_t)(sender + llen - hop - 1)) : NULL;

		if (hop != NULL && hop > sender + 5 && user != NULL &&
		    user > hop + 1) {
			in[0] = (struct piece){ hop + 1,
			    (size_t)(user - hop - 1) };
			in[1] = (struct piece){ user + 1,
			    (size_t)(sender + llen - user - 1) };
			hash(key, in, 2, h);
			res[0] = (struct piece){ "SRS1=", 5 };
			res[1] = (struct piece){ h, SRS_HASH_LEN };
			res[2] = (struct piece){ "=", 1 };
			res[3] = in[0];
			res[4] = (struct piece){ "=", 1 };
			res[5] = in[1];
			res[6] = (struct piece){ "@", 1 };
			res[7] = (struct piece){ srs_domain, dl };
			return join(out, cap, res, 8) == -1 ? -1 : 1;
		}
		/* Malformed: wrapped in SRS0 below, which reverses. */
	}
	day = (uint64_t)(now < 0 ? 0 : now) / SRS_DAY_S;
	tt[0] = b32[(day >> 5) & 31];
	tt[1] = b32[day & 31];
	tt[2] = '\0';
	in[0] = (struct piece){ tt, 2 };
	in[1] = (struct piece){ at + 1, strlen(at + 1) };
	in[2] = (struct piece){ sender, llen };
	hash(key, in, 3, h);
	res[0] = (struct piece){ "SRS0=", 5 };
	res[1] = (struct piece){ h, SRS_HASH_LEN };
	res[2] = (struct piece){ "=", 1 };
	res[3] = in[0];
	res[4] = (struct piece){ "=", 1 };
	res[5] = in[1];
	res[6] = (struct piece){ "=", 1 };
	res[7] = in[2];
	res[8] = (struct piece){ "@", 1 };
	res[9] = (struct piece){ srs_domain, dl };
	return join(out, cap, res, 10) == -1 ? -1 : 1;
}

int
srs_reverse(const struct srs_key *key, const char *srs_domain,
    const char *addr, char *out, size_t cap, time_t now)
{
	const char *at = strrchr(addr, '@'), *end, *f1, *f2, *f3;
	struct piece in[3], res[4];
	size_t llen;

	if (at == NULL || srs_domain[0] == '\0' ||
	    strcasecmp(at + 1, srs_domain) != 0) {
		return 0;
	}
	llen = (size_t)(at - addr);
	end = at;
	if (has_tag(addr, llen, "SRS1")) {
		/* SRS1=HHHH=hop==HHHH=TT=domain=local */
		f1 = memchr(addr + 5, '=', (size_t)(end - addr - 5));
		f2 = f1 ? memchr(f1 + 1, '=', (size_t)(end - f1 - 1)) : NULL;
		if (f1 == NULL || f2 == NULL || f2 == f1 + 1 ||
		    f2 + 1 == end) {
			return -1;
		}
		in[0] = (struct piece){ f1 + 1, (size_t)(f2 - f1 - 1) };
		in[1] = (struct piece){ f2 + 1, (size_t)(end - f2 - 1) };
		if (!hash_ok(key, in, 2, addr + 5, (size_t)(f1 - addr - 5))) {
			return -1;
		}
		res[0] = (struct piece){ "SRS0", 4 };
		res[1] = in[1];
		res[2] = (struct piece){ "@", 1 };
		res[3] = in[0];
		return join(out, cap, res, 4) == -1 ? -1 : 1;
	}
	if (!has_tag(addr, llen, "SRS0")) {
		return 0;
	}
	/* SRS0=HHHH=TT=domain=local */
	f1 = memchr(addr + 5, '=', (size_t)(end - addr - 5));
	f2 = f1 ? memchr(f1 + 1, '=', (size_t)(end - f1 - 1)) : NULL;
	f3 = f2 ? memchr(f2 + 1, '=', (size_t)(end - f2 - 1)) : NULL;
	if (f3 == NULL || f3 == f2 + 1 || f3 + 1 == end) {
		return -1;
	}
	in[0] = (struct piece){ f1 + 1, (size_t)(f2 - f1 - 1) };
	in[1] = (struct piece){ f2 + 1, (size_t)(f3 - f2 - 1) };
	in[2] = (struct piece){ f3 + 1, (size_t)(end - f3 - 1) };
	if (!stamp_ok(in[0].p, in[0].len, now) ||
	    !hash_ok(key, in, 3, addr + 5, (size_t)(f1 - addr - 5))) {
		return -1;
	}
	res[0] = in[2];
	res[1] = (struct piece){ "@", 1 };
	res[2] = in[1];
	return join(out, cap, res, 3) == -1 ? -1 : 1;
}

/* A new key: random bytes as base64 text, durable before it is used
 * (a key that changed after a crash would orphan the bounces of mail
 * already forwarded). */
static int
key_make(const char *dir, const char *path, const char *tmp,
    struct err *e)
{
	unsigned char r[SRS_KEY_RANDOM];
	char text[2 * SRS_KEY_RANDOM];
	size_t got = 0;
	long n;
	int fd;

	while (got < sizeof r) {
		ssize_t k = getrandom(r + got, sizeof r - got, 0);

		if (k == -1 && errno != EINTR) {
			return err_set(e, "getrandom: %s", strerror(errno));
		}
		got += k > 0 ? (size_t)k : 0;
	}
	n = base64_encode(r, sizeof r, text, sizeof text - 1);
	if (n < 0) {
		return err_set(e, "srs: key encoding failed");
	}
	text[n++] = '\n';
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		return err_set(e, "%s: %s", tmp, strerror(errno));
	}
	if (store_write_all(fd, text, (size_t)n) == -1 || fsync(fd) == -1) {
		err_set(e, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		err_set(e, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (store_fsync_dir(dir) == -1) {
		return err_set(e, "%s: fsync of its directory: %s", path,
		    strerror(errno));
	}
	return 0;
}

/* The first line of the key file, without its line end. */
static int
key_read(const char *path, struct srs_key *key, struct err *e)
{
	char buf[SRS_KEY_MAX + 2];
	ssize_t n;
	size_t len;
	char *nl;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	do {
		n = read(fd, buf, sizeof buf);
	} while (n == -1 && errno == EINTR);
	close(fd);
	if (n == -1) {
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	len = (size_t)n;
	nl = memchr(buf, '\n', len);
	if (nl == NULL && len == sizeof buf) {
		return err_set(e, "%s: key longer than %d bytes", path,
		    SRS_KEY_MAX);
	}
	if (nl != NULL) {
		len = (size_t)(nl - buf);
	}
	while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
	    buf[len - 1] == '\t')) {
		len--;
	}
	if (srs_key_set(key, buf, len) == -1) {
		return err_set(e, "%s: %s key", path, len == 0 ? "empty" :
		    "too long a");
	}
	return 0;
}

/* The first SRS_HASH_LEN base64 characters of HMAC-SHA1 over the
 * lower-cased pieces (libsrs2's srs_hash_create), NUL-terminated. */
static void
hash(const struct srs_key *key, const struct piece *in, size_t n,
    char *out)
{
	unsigned char mac[br_sha1_SIZE];
	br_hmac_key_context kc;
	br_hmac_context hc;
	size_t bit = 0;

	br_hmac_key_init(&kc, &br_sha1_vtable, key->k, key->len);
	br_hmac_init(&hc, &kc, 0);
	for (size_t i = 0; i < n; i++) {
		for (size_t off = 0; off < in[i].len;) {
			char low[64];
			size_t k = 0;

			while (k < sizeof low && off < in[i].len) {
				char c = in[i].p[off++];

				low[k++] = c >= 'A' && c <= 'Z' ?
				    (char)(c - 'A' + 'a') : c;
			}
			br_hmac_update(&hc, low, k);
		}
	}
	br_hmac_out(&hc, mac);
	for (size_t i = 0; i < SRS_HASH_LEN; i++, bit += 6) {
		size_t byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)mac[byte] << 8 |
		    (byte + 1 < sizeof mac ? mac[byte + 1] : 0);

		out[i] = b64[(v >> (10 - shift)) & 63];
	}
	out[SRS_HASH_LEN] = '\0';
}

/* The given hash, compared without regard to case as libsrs2 does
 * (some MTAs lower-case the whole address). */
static int
hash_ok(const struct srs_key *key, const struct piece *in, size_t n,
    const char *given, size_t glen)
{
	char want[SRS_HASH_LEN + 1];

	if (glen != SRS_HASH_LEN) {
		return 0;
	}
	hash(key, in, n, want);
	return strncasecmp(want, given, SRS_HASH_LEN) == 0;
}

/* local[0..len) starts with tag (any case) and a separator, and has
 * something after it. */
static int
has_tag(const char *local, size_t len, const char *tag)
{
	return len > 5 && strncasecmp(local, tag, 4) == 0 &&
	    strchr(SRS_SEPARATORS, local[4]) != NULL && local[4] != '\0';
}

/* TT is two base32 characters (any case) of a day at most
 * SRS_MAX_AGE_DAYS before now (libsrs2's srs_timestamp_check). */
static int
stamp_ok(const char *tt, size_t len, time_t now)
{
	uint64_t then = 0, today;

	if (len != 2) {
		return 0;
	}
	for (size_t i = 0; i < 2; i++) {
		char c = tt[i] >= 'a' && tt[i] <= 'z' ?
		    (char)(tt[i] - 'a' + 'A') : tt[i];
		const char *p = c != '\0' ? strchr(b32, c) : NULL;

		if (p == NULL) {
			return 0;
		}
		then = then << 5 | (uint64_t)(p - b32);
	}
	today = ((uint64_t)(now < 0 ? 0 : now) / SRS_DAY_S) % SRS_TIME_SLOTS;
	while (today < then) {
		today += SRS_TIME_SLOTS;
	}
	return today <= then + SRS_MAX_AGE_DAYS;
}

/* Concatenates the pieces into out, NUL-terminated; -1 if it does not
 * fit (out is then empty). */
static int
join(char *out, size_t cap, const struct piece *p, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i].len >= cap - len) {
			if (cap > 0) {
				out[0] = '\0';
			}
			return -1;
		}
		memcpy(out + len, p[i].p, p[i].len);
		len += p[i].len;
	}
	if (cap == 0) {
		return -1;
	}
	out[len] = '\0';
	return 0;
}
