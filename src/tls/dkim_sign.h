/* SPDX-License-Identifier: ISC */
/*
 * dkim_sign.h - DKIM signing (RFC 6376, rsa-sha256 as RFC 8301 wants
 * it, relaxed/relaxed) with BearSSL, for mail our users submit, done
 * while the message streams to its file, never by reading it again.
 * It lives with the BearSSL glue (tls/) because src/msg/ is built into
 * the fuzzers without libraries; the canonicalisation it drives is
 * msg/dkim_canon.h.
 *
 * Keys, loaded once at start (dkim_setup) from dkim_key: a PEM RSA
 * private key (PKCS#1 or PKCS#8), 1024 to 4096 bits. When the path
 * holds "%d", it is a pattern: %d is replaced by each local domain
 * (`domains`, then the host name) and each domain whose file exists
 * gets its own key; a domain without a file is not signed. Without
 * %d, the one key signs for every local domain (d= is the domain of
 * the envelope sender). Signing needs dkim_selector too.
 *
 * A message, by whoever writes it (smtp_deliver.c, pickup.c):
 *
 *   dkim_stream_init(&ds, key, domain, selector, date, msgid, now);
 *   dkim_stream_write(&ds, chunk, n, write, arg);     as it arrives
 *   len = dkim_stream_finish(&ds, write, arg, sig, sizeof sig, &off);
 *   pwrite(fd, sig, len, start + off);                when len > 0
 *
 * At the end of the header section (the empty line) the stream writes,
 * through write, the fields that were missing (Date:, Message-ID:,
 * RFC 5322 3.6; Postfix's always_add_missing_headers) and, when it
 * signs, a DKIM-Signature of its final length whose bh= and b= are
 * placeholders: the body has not come yet, but every other part of
 * the field (h= included) is known there, and b= has the key's length.
 * At the end, finish gives the real field, of exactly that length, to
 * write over it at off. So the file is written once, front to back,
 * plus one pwrite of a few hundred bytes; the body is hashed on its
 * way to the disk. The field is the last of the header, not the first:
 * verifiers find it anywhere (RFC 6376 3.5, 6.1), and RFC 6376 5.6
 * only asks that it come before any other DKIM-Signature, so a message
 * that already carries one is not signed (ds.why says so).
 *
 *   [prefix: Received ...]   written by the caller, not passed here
 *   From: ... Subject: ...   the header as submitted
 *   Date: ... Message-ID:    when missing
 *   DKIM-Signature: ...      placeholder, rewritten by pwrite
 *   (empty line) body        hashed as it passes
 */
#ifndef WREN_DKIM_SIGN_H
#define WREN_DKIM_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>

#include "core/cfg.h"
#include "core/err.h"
#include "msg/dkim_canon.h"

#define DKIM_KEY_BITS_MIN	1024	/* RFC 8301 3.2 */
#define DKIM_KEY_BITS_MAX	4096
/* p, q, dp, dq, iq of a 4096-bit key. */
#define DKIM_KEYBUF_MAX		(5 * DKIM_KEY_BITS_MAX / 16)
/* Keys held: one per local domain with a file (dkim_key with %d). */
#define DKIM_KEYS_MAX		8
/* A Message-ID value we add: "<" id "@" host ">". */
#define DKIM_MSGID_MAX		(CFG_HOST_MAX + 48)
/* Largest insertion: Date, Message-ID and the signature. */
#define DKIM_ADD_MAX		(DKIM_SIG_MAX + DKIM_MSGID_MAX + 96)

struct dkim_key {
	br_rsa_private_key	 rsa;
	unsigned char		 buf[DKIM_KEYBUF_MAX];
	char			 domain[DKIM_DOMAIN_MAX + 1];	/* "": any */
};

/* Decodes a PEM RSA private key from text[0..len); -1 (e) if it is
 * not one, or its size is outside 1024..4096 bits. */
int	dkim_key_parse(struct dkim_key *, const char *text, size_t len,
	    const char *name, struct err *);

/* dkim_key_parse on a file. */
int	dkim_key_load(struct dkim_key *, const char *path, struct err *);

/* Octets of a signature (the modulus length). */
size_t	dkim_key_siglen(const struct dkim_key *);

/* PKCS#1 v1.5 signature of a SHA-256 hash into sig (siglen octets). */
int	dkim_key_sign(const struct dkim_key *, const unsigned char *hash,
	    unsigned char *sig);

/* Loads the keys dkim_key names (see the top comment) for the server;
 * no key when dkim_selector or dkim_key is empty. Called again (SIGHUP):
 * reloads. -1 (e) when a key file cannot be used (without %d: the
 * file; with it: a file that exists), and the keys loaded before stay
 * in use. */
int	dkim_setup(const struct cfg *, struct err *);

/* 1 once dkim_setup has run (with or without keys). */
int	dkim_loaded(void);

/* The key for mail from domain (len octets; a local one), or NULL: do
 * not sign. Never for a name without a dot (localhost). */
const struct dkim_key	*dkim_key_for(const char *domain, size_t len);

/* dkim_selector as loaded by dkim_setup ("" when none). */
const char	*dkim_selector(void);

/* Writes n octets; 0, or -1 (the stream stops writing). */
typedef int dkim_write_fn(void *arg, const char *p, size_t n);

enum dkim_stream_state {
	DKIM_S_HEAD,		/* in the header section */
	DKIM_S_BODY,		/* the insertion is written */
	DKIM_S_FAILED		/* a write failed */
};

struct dkim_stream {
	const struct dkim_key	*key;		/* NULL: no signature */
	char			 domain[DKIM_DOMAIN_MAX + 1];	/* d= */
	char			 selector[DKIM_SELECTOR_MAX + 1];
	char			 date[48];	/* "" : never added */
	char			 msgid[DKIM_MSGID_MAX];	/* "" : never */
	int64_t			 t;
	enum dkim_stream_state	 state;
	int			 sign;		/* still signing */
	const char		*why;		/* why not, when not */
	int			 last;		/* the last octet passed */
	uint64_t		 out;		/* octets written so far */
	uint64_t		 hole;		/* where the signature goes */
	size_t			 hole_len;
	uint64_t		 added;		/* octets inserted */
	uint64_t		 added_lines;
	char			 hlist[DKIM_HLIST_MAX];
	br_sha256_context	 hh, bh;	/* header and body hashes */
	struct dkim_head	 head;
	struct dkim_body	 body;
};

/* key NULL: only the missing Date/Message-ID are added. domain is d=
 * (the sender's). date and msgid are the values to add ("" or NULL:
 * never add that field). */
void	dkim_stream_init(struct dkim_stream *, const struct dkim_key *,
	    const char *domain, const char *selector, const char *date,
	    const char *msgid, int64_t now);

/* Passes p[0..n) (the message as it is stored, after any prefix) on
 * to write, inserting the fields at the end of the header section.
 * 0, or -1 when a write failed. */
int	dkim_stream_write(struct dkim_stream *, const char *p, size_t n,
	    dkim_write_fn *, void *arg);

/*
 * The message is complete. A header without an empty line gets the
 * insertion at its end now, through write (the signature whole, as
 * no body follows). Returns the length of the DKIM-Signature field
 * put in out, to be written at offset *off from the stream's start,
 * over the placeholder; 0 when there is nothing to write (no key, a
 * message we do not sign (ds->why), or already written). -1: a write
 * failed.
 */
long	dkim_stream_finish(struct dkim_stream *, dkim_write_fn *, void *arg,
	    char *out, size_t cap, uint64_t *off);

#endif
