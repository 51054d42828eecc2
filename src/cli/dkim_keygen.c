/* SPDX-License-Identifier: ISC */
/*
 * dkim_keygen.c - `wren dkim-keygen`: makes a DKIM signing key (RSA
 * 2048 with BearSSL, RFC 6376 section 3.3.3 asks for 1024 to 2048
 * bits, RFC 8301 section 3.2 for at least 1024) and prints the TXT
 * record to publish at SELECTOR._domainkey.DOMAIN (RFC 6376 section
 * 3.6.2.2), in zone-file syntax, split into strings of at most 255
 * bytes (RFC 1035 section 3.3.14; RFC 7208 section 3.3 does the same
 * for SPF). With -p it prints the record of an existing key again.
 *
 *   wren dkim-keygen [-c CONF] [-o FILE] [-t rsa|ed25519] DOMAIN
 *       [SELECTOR]
 *   wren dkim-keygen [-c CONF] -p FILE DOMAIN [SELECTOR]
 *
 * Defaults come from the configuration when it sets them, so that the
 * record printed is the one serve signs for: SELECTOR is dkim_selector
 * and FILE is dkim_key (its %d replaced by DOMAIN, see tls/dkim_sign.h);
 * else SELECTOR is the year and month and FILE DOMAIN.SELECTOR.key.
 *
 * The key is written as PEM "RSA PRIVATE KEY" (PKCS#1, RFC 8017
 * appendix A.1.2), which BearSSL, OpenSSL, OpenDKIM and Python's dkim
 * all read, to a file created with O_EXCL and mode 0600: an existing
 * file is never overwritten (a published key would stop verifying).
 * The public key in p= is the DER SubjectPublicKeyInfo (RFC 5280
 * section 4.1.2.7, RFC 3279 section 2.3.1), base64.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bearssl.h>

#include "cli/cli.h"
#include "core/der.h"
#include "core/fmt.h"
#include "msg/base64.h"
#include "msg/dkim_canon.h"
#include "tls/tls_cred.h"

#define KEYGEN_BITS	2048
#define KEYGEN_PUBEXP	65537
#define KEYGEN_SEED	48		/* bytes from getrandom for the DRBG */
#define KEYGEN_BITS_MAX	4096		/* what -p accepts (BearSSL's max) */
#define TXT_STRING_MAX	255		/* RFC 1035 3.3.14 */
#define DOMAIN_MAX	253

/* DER sizes for a key of at most KEYGEN_BITS_MAX bits. */
#define SPKI_MAX	(KEYGEN_BITS_MAX / 8 + 64)
#define PRIV_DER_MAX	(KEYGEN_BITS_MAX / 8 * 5 + 64)
#define PEM_MAX		(PRIV_DER_MAX * 2 + 128)

/*
 * AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL },
 * the fixed part of every RSA SubjectPublicKeyInfo (RFC 3279 2.3.1).
 */
static const unsigned char rsa_alg_id[] = {
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	0x01, 0x01, 0x05, 0x00
};

struct key_read {
	unsigned char	der[PRIV_DER_MAX];
	size_t		len;
	int		found;
	int		other;		/* an EC or other private key */
};

static int	usage(int);
static int	name_ok(const char *, size_t, int);
static int	generate(const char *, unsigned char *, size_t, size_t *);
static int	write_key(const char *, const unsigned char *, size_t);
static int	read_key(const char *, unsigned char *, size_t, size_t *,
		    struct err *);
static int	on_pem(void *, const char *, const unsigned char *, size_t);
static int	rsa_numbers(const unsigned char *, size_t,
		    const unsigned char **, size_t *, const unsigned char **,
		    size_t *);
static size_t	spki_build(const unsigned char *, size_t,
		    const unsigned char *, size_t, unsigned char *, size_t);
static size_t	der_header(unsigned char *, unsigned, size_t);
static size_t	der_uint(unsigned char *, const unsigned char *, size_t);
static void	print_record(const char *, const char *,
		    const unsigned char *, size_t);

int
cmd_dkim_keygen(int argc, char **argv)
{
	static unsigned char spki[SPKI_MAX];
	static struct cfg c;
	const char *out = NULL, *type = "rsa", *printfrom = NULL;
	const char *domain, *selector, *conf = NULL, *pct;
	char sel[16], path[CFG_PATH_MAX + DOMAIN_MAX], dom[DOMAIN_MAX + 2];
	size_t spki_len = 0, dlen;
	struct err e;
	int ch, have_cfg;

	optind = 1;
	opterr = 0;
	while ((ch = getopt(argc, argv, "+hc:o:t:p:")) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'o': out = optarg; break;
		case 't': type = optarg; break;
		case 'p': printfrom = optarg; break;
		case 'h': return usage(STDOUT_FILENO);
		default:
			fmt_fd(STDERR_FILENO, "wren dkim-keygen: bad option "
			    "'-%c'\n", optopt);
			return usage(STDERR_FILENO);
		}
	}
	if (argc - optind < 1 || argc - optind > 2 ||
	    (printfrom != NULL && out != NULL)) {
		return usage(STDERR_FILENO);
	}
	if (strcmp(type, "ed25519") == 0) {
		fmt_fd(STDERR_FILENO, "wren dkim-keygen: -t ed25519: Ed25519 "
		    "(RFC 8463) is not built in this binary; use -t rsa\n");
		return 1;
	}
	if (strcmp(type, "rsa") != 0) {
		fmt_fd(STDERR_FILENO, "wren dkim-keygen: -t %s: unknown key "
		    "type (rsa or ed25519)\n", type);
		return 2;
	}
	/* The domain as written, without the root's trailing dot. */
	dlen = strlen(argv[optind]);
	if (dlen > 0 && argv[optind][dlen - 1] == '.') {
		dlen--;
	}
	if (dlen > DOMAIN_MAX || !name_ok(argv[optind], dlen, 1)) {
		fmt_fd(STDERR_FILENO, "wren dkim-keygen: '%s' is not a domain "
		    "name\n", argv[optind]);
		return 2;
	}
	memcpy(dom, argv[optind], dlen);
	dom[dlen] = '\0';
	domain = dom;
	/* The configuration: the one named, or the default one if it is
	 * there (keys can be made before wren is set up). */
	have_cfg = cfg_load(&c, conf ? conf : WREN_DEFAULT_CONFIG, &e) == 0;
	if (!have_cfg && conf != NULL) {
		fmt_fd(STDERR_FILENO, "%s\n", e.msg);
		return 2;
	}
	if (argc - optind == 2) {
		selector = argv[optind + 1];
	} else if (have_cfg && cfg_str(&c, CFG_DKIM_SELECTOR)[0] != '\0') {
		selector = cfg_str(&c, CFG_DKIM_SELECTOR);
	} else {
		/* A dated selector (as M3AAWG's key rotation advice has
		 * it): the next key gets another name, and both records
		 * can be published while mail signed with the old one is
		 * still in flight. */
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		(void)fmt(sel, sizeof sel, "%04d%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1);
		selector = sel;
	}
	if (strlen(selector) > DKIM_SELECTOR_MAX ||
	    !name_ok(selector, strlen(selector), 1)) {
		fmt_fd(STDERR_FILENO, "wren dkim-keygen: '%s' is not a "
		    "selector (labels of letters, digits and '-')\n",
		    selector);
		return 2;
	}
	if (printfrom != NULL) {
		if (read_key(printfrom, spki, sizeof spki, &spki_len,
		    &e) == -1) {
			fmt_fd(STDERR_FILENO, "wren dkim-keygen: %s\n", e.msg);
			return 1;
		}
		print_record(domain, selector, spki, spki_len);
		return 0;
	}
	if (out == NULL && have_cfg &&
	    cfg_str(&c, CFG_DKIM_KEY)[0] != '\0') {
		const char *k = cfg_str(&c, CFG_DKIM_KEY);

		pct = strstr(k, "%d");
		if (pct == NULL) {
			(void)fmt(path, sizeof path, "%s", k);
		} else {
			(void)fmt(path, sizeof path, "%.*s%s%s",
			    (int)(pct - k), k, domain, pct + 2);
		}
		out = path;
	}
	if (out == NULL) {
		(void)fmt(path, sizeof path, "%s.%s.key", domain, selector);
		out = path;
	}
	if (generate(out, spki, sizeof spki, &spki_len) == -1) {
		return 1;
	}
	fmt_fd(STDOUT_FILENO, "; DKIM key for %s written to %s (mode 0600)."
	    "\n; In wren.conf: dkim_selector = %s, dkim_key = that file.\n"
	    "; Publish this record in the zone of %s:\n", domain, out,
	    selector, domain);
	print_record(domain, selector, spki, spki_len);
	return 0;
}

static int
usage(int fd)
{
	fmt_fd(fd, "usage: wren dkim-keygen [-c CONF] [-o FILE] "
	    "[-t rsa|ed25519] DOMAIN [SELECTOR]\n"
	    "       wren dkim-keygen [-c CONF] -p FILE DOMAIN [SELECTOR]\n"
	    "Makes an RSA %d key in FILE (mode 0600, never overwritten) "
	    "and prints\nthe TXT record to publish; -p prints the record "
	    "of an existing key.\nDefaults, from CONF (%s) when it sets "
	    "them: SELECTOR is\ndkim_selector, else the year and month "
	    "(YYYYMM); FILE is dkim_key with\n%%d replaced by DOMAIN, else "
	    "DOMAIN.SELECTOR.key.\n", KEYGEN_BITS, WREN_DEFAULT_CONFIG);
	return fd == STDOUT_FILENO ? 0 : 2;
}

/*
 * Letters, digits and '-' in labels of 1-63 bytes, not starting or
 * ending with '-' (RFC 1123 2.1); `dots`: several labels. This also
 * keeps '/' and ".." out of the default file name.
 */
static int
name_ok(const char *s, size_t len, int dots)
{
	size_t label = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' && dots && label > 0 && s[i - 1] != '-') {
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-') ||
		    (c == '-' && label == 0) || ++label > 63) {
			return 0;
		}
	}
	return len > 0 && label > 0 && s[len - 1] != '-';
}

/*
 * An RSA key from BearSSL's generator, fed by HMAC-DRBG (SHA-256)
 * seeded with getrandom(2) (blocking until the kernel's pool is
 * initialised, as a key must not come from an unseeded one).
 */
static int
generate(const char *path, unsigned char *spki, size_t cap, size_t *len)
{
	static unsigned char kpriv[BR_RSA_KBUF_PRIV_SIZE(KEYGEN_BITS)];
	static unsigned char kpub[BR_RSA_KBUF_PUB_SIZE(KEYGEN_BITS)];
	static unsigned char d[KEYGEN_BITS / 8], der[PRIV_DER_MAX];
	static char pem[PEM_MAX];
	unsigned char seed[KEYGEN_SEED];
	br_hmac_drbg_context rng;
	br_rsa_private_key sk;
	br_rsa_public_key pk;
	size_t got = 0, dlen, derlen, pemlen;
	int rc = -1;

	while (got < sizeof seed) {
		ssize_t n = getrandom(seed + got, sizeof seed - got, 0);

		if (n < 0 && errno != EINTR) {
			fmt_fd(STDERR_FILENO, "wren dkim-keygen: getrandom: "
			    "%s\n", strerror(errno));
			return -1;
		}
		got += n > 0 ? (size_t)n : 0;
	}
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof seed);
	explicit_bzero(seed, sizeof seed);
	if (br_rsa_keygen_get_default()(&rng.vtable, &sk, kpriv, &pk, kpub,
	    KEYGEN_BITS, KEYGEN_PUBEXP) != 1) {
		fmt_fd(STDERR_FILENO, "wren dkim-keygen: key generation "
		    "failed\n");
		goto out;
	}
	dlen = br_rsa_compute_privexp_get_default()(d, &sk, KEYGEN_PUBEXP);
	derlen = br_encode_rsa_raw_der(NULL, &sk, &pk, d, dlen);
	if (dlen == 0 || derlen == 0 || derlen > sizeof der) {
		fmt_fd(STDERR_FILENO, "wren dkim-keygen: cannot encode the "
		    "key\n");
		goto out;
	}
	(void)br_encode_rsa_raw_der(der, &sk, &pk, d, dlen);
	pemlen = br_pem_encode(NULL, der, derlen, "RSA PRIVATE KEY",
	    BR_PEM_LINE64);
	if (pemlen >= sizeof pem) {
		goto out;
	}
	(void)br_pem_encode(pem, der, derlen, "RSA PRIVATE KEY",
	    BR_PEM_LINE64);
	*len = spki_build(pk.n, pk.nlen, pk.e, pk.elen, spki, cap);
	if (*len == 0) {
		goto out;
	}
	rc = write_key(path, (const unsigned char *)pem, pemlen);
out:
	explicit_bzero(&rng, sizeof rng);
	explicit_bzero(kpriv, sizeof kpriv);
	explicit_bzero(d, sizeof d);
	explicit_bzero(der, sizeof der);
	explicit_bzero(pem, sizeof pem);
	return rc;
}

/* Creates path (never an existing file, nor through a symlink), mode
 * 0600 whatever the umask, and makes it durable. */
static int
write_key(const char *path, const unsigned char *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd == -1 && errno == EEXIST) {
		fmt_fd(STDERR_FILENO, "wren dkim-keygen: %s already exists: "
		    "refusing to overwrite a key (remove it first, or print "
		    "its record with -p %s)\n", path, path);
		return -1;
	}
	if (fd == -1) {
		fmt_fd(STDERR_FILENO, "wren dkim-keygen: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) == -1) {
		goto fail;
	}
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	fmt_fd(STDERR_FILENO, "wren dkim-keygen: %s: %s\n", path,
	    strerror(errno));
	if (fd != -1) {
		close(fd);
	}
	(void)unlink(path);
	return -1;
}

/* The SubjectPublicKeyInfo of the RSA key in a PEM file: n and e read
 * from its DER, PKCS#1 or PKCS#8 (BearSSL's key decoder keeps neither,
 * and recomputes e only for keys whose primes are 3 mod 4). */
static int
read_key(const char *path, unsigned char *spki, size_t cap, size_t *len,
    struct err *er)
{
	static struct key_read kr;
	const unsigned char *n, *e;
	size_t nlen, elen;
	int rc;

	memset(&kr, 0, sizeof kr);
	if (tls_pem_each(path, TLS_PEM_MAX, on_pem, &kr, er) == -1) {
		return -1;
	}
	if (!kr.found) {
		return err_set(er, "%s: %s", path, kr.other ?
		    "not an RSA key" : "no private key in the file");
	}
	rc = rsa_numbers(kr.der, kr.len, &n, &nlen, &e, &elen);
	*len = rc == 0 ? spki_build(n, nlen, e, elen, spki, cap) : 0;
	explicit_bzero(&kr, sizeof kr);
	if (*len == 0) {
		return err_set(er, "%s: %s", path, rc == -2 ?
		    "not an RSA key" : "not a valid RSA key");
	}
	return 0;
}

int
cli_dkim_p(const char *keyfile, char *out, size_t cap, struct err *e)
{
	unsigned char spki[SPKI_MAX];
	size_t len;

	if (read_key(keyfile, spki, sizeof spki, &len, e) == -1) {
		return -1;
	}
	if (base64_encode(spki, len, out, cap) < 0) {
		return err_set(e, "%s: the key is too long", keyfile);
	}
	return 0;
}

/* Keeps the DER of the file's first private key. */
static int
on_pem(void *arg, const char *name, const unsigned char *der, size_t len)
{
	struct key_read *kr = arg;
	size_t nlen = strlen(name);

	if (nlen >= 11 && strcmp(name + nlen - 11, "PRIVATE KEY") == 0) {
		kr->other = 1;
	}
	if ((strcmp(name, "RSA PRIVATE KEY") != 0 &&
	    strcmp(name, "PRIVATE KEY") != 0) || kr->found) {
		return 0;
	}
	if (len > sizeof kr->der) {
		return 0;
	}
	memcpy(kr->der, der, len);
	kr->len = len;
	kr->found = 1;
	return 0;
}

/*
 * RSAPrivateKey ::= SEQUENCE { version INTEGER, modulus INTEGER,
 *     publicExponent INTEGER, ... }                    (RFC 8017 A.1.2)
 * PrivateKeyInfo ::= SEQUENCE { version INTEGER, AlgorithmIdentifier,
 *     privateKey OCTET STRING (an RSAPrivateKey) }     (RFC 5208 5)
 * 0, -1 when malformed, -2 for a PKCS#8 key of another algorithm.
 */
static int
rsa_numbers(const unsigned char *der, size_t len, const unsigned char **n,
    size_t *nlen, const unsigned char **e, size_t *elen)
{
	const unsigned char *p = der, *end = der + len, *v;
	size_t vlen;
	unsigned tag;

	if (der_get(&p, end, &tag, &v, &vlen) == -1 || tag != 0x30) {
		return -1;
	}
	p = v;
	end = v + vlen;
	if (der_get(&p, end, &tag, &v, &vlen) == -1 || tag != 0x02) {
		return -1;
	}
	if (der_get(&p, end, &tag, &v, &vlen) == -1) {
		return -1;
	}
	if (tag == 0x30) {		/* PKCS#8: the algorithm, then */
		if (vlen < sizeof rsa_alg_id - 4 || memcmp(v,
		    rsa_alg_id + 2, 11) != 0) {
			return -2;
		}
		if (der_get(&p, end, &tag, &v, &vlen) == -1 ||
		    tag != 0x04) {
			return -1;
		}
		return rsa_numbers(v, vlen, n, nlen, e, elen);
	}
	if (tag != 0x02) {
		return -1;
	}
	*n = v;
	*nlen = vlen;
	if (der_get(&p, end, &tag, &v, &vlen) == -1 || tag != 0x02) {
		return -1;
	}
	*e = v;
	*elen = vlen;
	return 0;
}

/*
 * SubjectPublicKeyInfo ::= SEQUENCE {
 *     algorithm         AlgorithmIdentifier,   -- rsa_alg_id
 *     subjectPublicKey  BIT STRING }           -- 0 unused bits, then
 * RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
 * n and e big-endian, unsigned; returns the length, or 0.
 */
static size_t
spki_build(const unsigned char *n, size_t nlen, const unsigned char *e,
    size_t elen, unsigned char *out, size_t cap)
{
	unsigned char rsapub[SPKI_MAX], hdr[8];
	size_t rlen, blen, total, o, h;

	if (nlen == 0 || elen == 0 || nlen > KEYGEN_BITS_MAX / 8 + 1 ||
	    elen > 8) {
		return 0;
	}
	/* RSAPublicKey: the two INTEGERs after a SEQUENCE header sized
	 * once their length is known. */
	rlen = der_uint(rsapub + 8, n, nlen);
	rlen += der_uint(rsapub + 8 + rlen, e, elen);
	h = der_header(hdr, 0x30, rlen);
	memmove(rsapub + h, rsapub + 8, rlen);
	memcpy(rsapub, hdr, h);
	rlen += h;
	blen = rlen + 1;		/* the unused-bits byte */
	total = sizeof rsa_alg_id + der_header(hdr, 0x03, blen) + blen;
	if (der_header(hdr, 0x30, total) + total > cap) {
		return 0;
	}
	o = der_header(out, 0x30, total);
	memcpy(out + o, rsa_alg_id, sizeof rsa_alg_id);
	o += sizeof rsa_alg_id;
	o += der_header(out + o, 0x03, blen);
	out[o++] = 0x00;
	memcpy(out + o, rsapub, rlen);
	return o + rlen;
}

/* A tag and a DER length (short form, or long form of 1-2 bytes). */
static size_t
der_header(unsigned char *out, unsigned tag, size_t len)
{
	out[0] = (unsigned char)tag;
	if (len < 0x80) {
		out[1] = (unsigned char)len;
		return 2;
	}
	if (len < 0x100) {
		out[1] = 0x81;
		out[2] = (unsigned char)len;
		return 3;
	}
	out[1] = 0x82;
	out[2] = (unsigned char)(len >> 8);
	out[3] = (unsigned char)len;
	return 4;
}

/* A big-endian unsigned number as a DER INTEGER: leading zeros cut, a
 * zero byte added when the top bit is set (it would read negative). */
static size_t
der_uint(unsigned char *out, const unsigned char *v, size_t len)
{
	size_t h, pad;

	while (len > 1 && v[0] == 0) {
		v++;
		len--;
	}
	pad = (v[0] & 0x80) != 0;
	h = der_header(out, 0x02, len + pad);
	if (pad) {
		out[h] = 0x00;
	}
	memcpy(out + h + pad, v, len);
	return h + pad + len;
}

/*
 * SELECTOR._domainkey.DOMAIN. IN TXT ( "v=DKIM1; k=rsa; "
 *         "p=MIIBIjAN..."
 *         "..." )
 * Each quoted string holds at most TXT_STRING_MAX bytes; a verifier
 * joins them without spaces (RFC 6376 3.6.2.2).
 */
static void
print_record(const char *domain, const char *selector,
    const unsigned char *spki, size_t len)
{
	char b64[SPKI_MAX * 4 / 3 + 8];
	const char *p = b64;
	long n = base64_encode(spki, len, b64, sizeof b64);
	size_t left, first = TXT_STRING_MAX - 2;	/* after "p=" */

	if (n < 0) {
		return;
	}
	left = (size_t)n;
	fmt_fd(STDOUT_FILENO, "%s._domainkey.%s. IN TXT ( \"v=DKIM1; k=rsa; "
	    "\"\n", selector, domain);
	fmt_fd(STDOUT_FILENO, "\t\"p=%.*s\"", (int)(left < first ? left :
	    first), p);
	p += left < first ? left : first;
	left -= left < first ? left : first;
	while (left > 0) {
		size_t k = left < TXT_STRING_MAX ? left : TXT_STRING_MAX;

		fmt_fd(STDOUT_FILENO, "\n\t\"%.*s\"", (int)k, p);
		p += k;
		left -= k;
	}
	fmt_fd(STDOUT_FILENO, " )\n");
}
