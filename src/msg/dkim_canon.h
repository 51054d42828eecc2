/* SPDX-License-Identifier: ISC */
/*
 * dkim_canon.h - DKIM "relaxed" canonicalisation (RFC 6376 3.4.2 for
 * header fields, 3.4.4 for the body) fed in any chunking, and the
 * DKIM-Signature header field's text (RFC 6376 3.5). Sans-I/O: the
 * canonical bytes go to the caller's sink (a hash in dkim_sign.h).
 *
 * Line ends are those our SMTP client puts on the wire
 * (smtp_client_body_encode): CR LF, a bare LF and a bare CR each end
 * one line, so the hash is that of the message the receiver verifies.
 *
 *   struct dkim_head h;                   the header section
 *   dkim_head_init(&h, sink, arg);
 *   used = dkim_head_feed(&h, p, n);      < n once h.done: p[used] is
 *                                         the empty line ending it
 *   dkim_head_add(&h, "Date: ...\n", n);  a field we add, hashed too
 *   dkim_head_list(&h, hl, sizeof hl);    the h= tag's value
 *
 *   struct dkim_body b;                   the body, from the empty line
 *   dkim_body_init(&b, 1, sink, arg);     1: skip that separator line
 *   dkim_body_feed(&b, p, n); ...
 *   dkim_body_end(&b);
 *
 * Only the header fields in dkim_head_names are hashed (h= lists them
 * in the order met, then "from" once more: oversigning, RFC 6376
 * 8.15). A verifier takes repeated fields bottom-up (5.4.2) while the
 * hash is made top-down as the message streams, so a message with one
 * of them twice (which RFC 5322 3.6 forbids) sets h.dup: do not sign.
 * A DKIM-Signature field already there sets h.signed_already.
 */
#ifndef WREN_DKIM_CANON_H
#define WREN_DKIM_CANON_H

#include <stddef.h>
#include <stdint.h>

/* Header names longer than this are never ours to sign. */
#define DKIM_NAME_MAX		32
/* Canonical bytes collected before a call to the sink. */
#define DKIM_OUT_MAX		128
/* h= entries: each signed name once, and From again. */
#define DKIM_NAMES		12
#define DKIM_H_MAX		(DKIM_NAMES + 1)
/* The h= value: every name, colons, NUL. */
#define DKIM_HLIST_MAX		192
/* A DKIM-Signature field with a 4096-bit signature, a 253-octet
 * domain and a 63-octet selector, folded, fits. */
#define DKIM_SIG_MAX		1536
#define DKIM_SELECTOR_MAX	63	/* RFC 1035 label */
#define DKIM_DOMAIN_MAX		253
#define DKIM_BH_LEN		32	/* SHA-256 */
#define DKIM_SIGLEN_MAX		512	/* RSA 4096 */

/* Indexes into dkim_head_names. */
enum dkim_name {
	DKIM_N_FROM, DKIM_N_TO, DKIM_N_CC, DKIM_N_SUBJECT, DKIM_N_DATE,
	DKIM_N_MESSAGE_ID, DKIM_N_REPLY_TO, DKIM_N_IN_REPLY_TO,
	DKIM_N_REFERENCES, DKIM_N_MIME_VERSION, DKIM_N_CONTENT_TYPE,
	DKIM_N_CONTENT_TRANSFER_ENCODING
};

extern const char *const dkim_head_names[DKIM_NAMES];	/* lower case */

/* Takes n canonical bytes. */
typedef void dkim_sink_fn(void *arg, const void *p, size_t n);

struct dkim_head {
	dkim_sink_fn	*sink;
	void		*arg;
	int		 st;		/* where in a line */
	int		 cr;		/* a CR ended the last line */
	int		 wsp;		/* white space held back */
	int		 vstart;	/* nothing of the value out yet */
	int		 sign;		/* this field is hashed */
	int		 all;		/* hash every field (canon_field) */
	char		 name[DKIM_NAME_MAX];
	size_t		 nlen;		/* DKIM_NAME_MAX + 1: too long */
	uint32_t	 seen;		/* bit per enum dkim_name */
	uint8_t		 order[DKIM_H_MAX];
	size_t		 norder;
	int		 done;		/* the empty line was found */
	int		 dup;		/* a signed name twice: no signing */
	int		 signed_already;	/* a DKIM-Signature field */
	uint64_t	 bytes;		/* consumed so far */
	size_t		 olen;
	char		 out[DKIM_OUT_MAX];
};

void	dkim_head_init(struct dkim_head *, dkim_sink_fn *, void *);

/*
 * Feeds header-section bytes. Returns n, or, when the section ends in
 * p (an empty line, or a line starting with CR), the offset of that
 * empty line, which is not consumed; h->done is then set and later
 * calls return 0. The last field is hashed at that point.
 */
size_t	dkim_head_feed(struct dkim_head *, const char *p, size_t n);

/* The message ended without an empty line: hashes the last field.
 * Sets done. */
void	dkim_head_end(struct dkim_head *);

/*
 * Hashes one complete field (name, colon, value, its line end; folds
 * allowed) that we add to the header after done, and records it in
 * the h= order when its name is one we sign. -1 when its name is one
 * already seen (it would be a second instance) or it is not a field.
 */
int	dkim_head_add(struct dkim_head *, const char *p, size_t n);

/* 1 when a field of that name has been seen (or added). */
int	dkim_head_has(const struct dkim_head *, enum dkim_name);

/* The h= value ("from:to:subject:from"), NUL-terminated; its length,
 * or 0 when cap is too small. */
size_t	dkim_head_list(const struct dkim_head *, char *out, size_t cap);

/* Canonicalises one complete field (RFC 6376 3.4.2) into sink, with
 * CR LF at the end or (crlf 0: the DKIM-Signature itself, 3.7) not. */
void	dkim_canon_field(const char *p, size_t n, int crlf,
	    dkim_sink_fn *, void *);

struct dkim_body {
	dkim_sink_fn	*sink;
	void		*arg;
	uint64_t	 empty;		/* empty lines held back */
	int		 wsp;		/* white space held back */
	int		 cr;		/* a CR ended the last line */
	int		 content;	/* this line has output */
	int		 sep;		/* the separator line is ahead */
	size_t		 olen;
	char		 out[DKIM_OUT_MAX];
};

/* sep 1: the first line end met is the header/body separator (input
 * starting at dkim_head_feed's empty line) and is not body. */
void	dkim_body_init(struct dkim_body *, int sep, dkim_sink_fn *, void *);
void	dkim_body_feed(struct dkim_body *, const char *p, size_t n);
/* Ends the body: a last line without a line end gets one, trailing
 * empty lines are dropped (RFC 6376 3.4.4). */
void	dkim_body_end(struct dkim_body *);

/* What goes into a DKIM-Signature field. */
struct dkim_sig {
	const char		*domain;	/* d= */
	const char		*selector;	/* s= */
	int64_t			 t;		/* t=; < 0: none */
	const char		*hlist;		/* h= */
	const unsigned char	*bh;		/* DKIM_BH_LEN octets */
	const unsigned char	*b;		/* NULL: "b=" empty */
	size_t			 blen;
};

/*
 * "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; ..." folded
 * under 78 columns where the values allow, LF line ends. With b, the
 * whole field, its final LF included; without, the field as hashed
 * (3.7): up to "b=", no line end. The length (NUL not counted) is the
 * same for any b of the same blen. 0 when cap is too small or a value
 * holds a character that cannot be in its tag.
 */
size_t	dkim_sig_format(const struct dkim_sig *, char *out, size_t cap);

#endif
