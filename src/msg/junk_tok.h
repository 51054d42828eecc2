/* SPDX-License-Identifier: ISC */
/*
 * junk_tok.h - the junk filter's tokeniser, sans-I/O: a message (RFC
 * 5322 header and body, MIME parts of RFC 2045/2046) in, the set of its
 * distinct tokens out, each as a 32-bit hash (FNV-1a) for the token
 * database (store/junk_db.h).
 *
 * Feed the message in pieces of any size (LF or CRLF line ends), then
 * end; the set does not depend on where the pieces were cut:
 *
 *	junk_tok_init(&t);
 *	junk_tok_feed(&t, p, n);	(each piece)
 *	junk_tok_end(&t);
 *	t.set[0..JUNK_TOK_SLOTS): the tokens (0 = empty slot), t.n of them
 *
 * What becomes a token (as bogofilter does, simplified):
 *  - Words: runs of ASCII letters and digits, octets >= 0x80 (UTF-8 is
 *    kept whole) and '$', with '-', '_', '.', '\'' allowed inside
 *    (stripped at the ends). ASCII is folded to lower case. A word of
 *    fewer than JUNK_WORD_MIN or more than JUNK_WORD_MAX octets, or of
 *    digits only, is dropped (lengths, dates, base64 runs).
 *  - A word with a dot and a letter (a host name, "www.shop.example")
 *    also gives "host:" and its last two labels ("host:shop.example").
 *  - Header fields give tokens prefixed with their field, so "free" in
 *    the Subject is not "free" in the body: "subj:" (Subject), "from:"
 *    (From, Reply-To, Sender), "to:" (To, Cc), "ct:" (Content-Type),
 *    "mua:" (X-Mailer, User-Agent), "mid:" (Message-ID). Every field's
 *    name is a token "hdr:<name>" (which headers a sender writes is a
 *    sign). The fields added on the way in say nothing about the
 *    sender and differ between delivery and a later training, so they
 *    give nothing: Received, Return-Path, Delivered-To,
 *    Authentication-Results, DKIM-Signature, ARC-*, X-Wren-*, X-Spam-*.
 *    Other fields give their name only. Folded lines continue their
 *    field. Encoded words (RFC 2047) are not decoded: their pieces are
 *    the tokens.
 *  - MIME (RFC 2045, 2046): a body line "--<no white space>" starts a
 *    part's header (boundaries are recognised by their shape, any
 *    depth, without remembering them; a part header that is not one
 *    ends at its first line without a colon). Parts are text unless
 *    their Content-Type names another top type (image/, application/,
 *    audio/, video/, font/, model/): only text is tokenised, after its
 *    Content-Transfer-Encoding is decoded (base64, quoted-printable,
 *    msg/decode.h). HTML is tokenised as text: tag and attribute names
 *    count as words.
 *  - Bounds: a line is read JUNK_LINE_MAX octets at a time (a longer
 *    line is cut into pieces, which may cut a word); at most
 *    JUNK_MSG_TOKENS distinct tokens per message (later ones are
 *    counted in `dropped`: junk_tok_full() says no more can be taken,
 *    so a reader may stop).
 *
 * The message's identity for the double-training guard: the hash of
 * its Message-ID field's value, or when it has none, a hash of its
 * token set (junk_tok_id).
 */
#ifndef WREN_JUNK_TOK_H
#define WREN_JUNK_TOK_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "msg/decode.h"

/* The set's slots: twice the tokens kept, so probes stay short. */
#define JUNK_TOK_SLOTS	(2 * JUNK_MSG_TOKENS)

struct junk_tok {
	int		st;		/* private: header, part header, body */
	int		field;		/* private: kind of the field being read */
	int		skip;		/* private: this part is not text */
	int		part_skip;	/* private: as read in a part header */
	int		part_cte;	/* private: its encoding */
	int		cut;		/* private: line longer than the buffer */
	struct decode_body dec;		/* private */
	size_t		llen;		/* private */
	size_t		wlen;		/* private */
	uint32_t	msgid;		/* Message-ID hash, 0 = none seen */
	size_t		n;		/* distinct tokens in set */
	size_t		dropped;	/* tokens past JUNK_MSG_TOKENS */
	char		line[JUNK_LINE_MAX];	/* private */
	char		word[JUNK_WORD_MAX + 1];	/* private */
	uint32_t	set[JUNK_TOK_SLOTS];
};

/* Starts (or restarts) a message. */
void	junk_tok_init(struct junk_tok *t);

/* Takes p[0..n) of the message. */
void	junk_tok_feed(struct junk_tok *t, const char *p, size_t n);

/* The message is complete: the last line and word are taken. */
void	junk_tok_end(struct junk_tok *t);

/* 1 when the set is full: feeding more changes nothing. */
int	junk_tok_full(const struct junk_tok *t);

/* The message's identity (never 0): its Message-ID's hash, else a hash
 * of its tokens. Valid after junk_tok_end. */
uint32_t junk_tok_id(const struct junk_tok *t);

/* FNV-1a of prefix and word (word folded to lower case), never 0: the
 * hash a token is stored under. */
uint32_t junk_tok_hash(const char *prefix, const char *w, size_t len);

#endif
