/* SPDX-License-Identifier: ISC */
/*
 * mime.h - sans-I/O MIME structure parser and the IMAP BODY,
 * BODYSTRUCTURE and ENVELOPE writers (RFC 2045, 2046, 2231, 5322;
 * RFC 3501 6.4.5 section numbers, 7.4.2 FETCH response items).
 * Includes only limits.h; no allocation; nothing proportional to the
 * message size. Output matches Dovecot 2.3 byte for byte (see
 * test/data/mime/ and the divergences listed in mime.c).
 *
 * Usage (one message at a time, any chunking):
 *
 *	static struct mime m;		   (tens of KB: keep it static)
 *	mime_init(&m);
 *	while ((n = read(fd, buf, sizeof buf)) > 0)
 *		mime_feed(&m, buf, n);
 *	mime_finish(&m);
 *	need = mime_bodystructure(&m, MIME_ROOT, 1, out, cap);
 *	if (need > cap) ... retry with a bigger buffer, or write it
 *	in pieces with mime_wr_next (below)
 *
 * The result never depends on how the input was split. Bare LF and
 * CRLF line ends are both accepted; every size reported is the size
 * of the CRLF form (a bare LF counts as CR LF), as IMAP wants.
 *
 * The part tree: parts[0] is the message itself (MIME_ROOT). A
 * multipart has its body parts as children; a message/rfc822 part has
 * exactly one child, the embedded message (header + body), whose own
 * children follow the same rules.
 *
 *   file:   [hdr_off ....... body_off ............ end_off)
 *            header incl.     body (for a multipart: preamble,
 *            the empty line   boundaries, children, epilogue)
 *
 * BODY[sec]        = body_off..end_off of part mime_find(sec)
 * BODY[sec.MIME]   = hdr_off..body_off of that part
 * BODY[sec.HEADER] / BODY[sec.TEXT] = header / body of
 *                    mime_embedded(part), empty when that is MIME_NONE;
 *                    BODY[HEADER] / BODY[TEXT] use MIME_ROOT.
 * The file bytes are raw (LF or CRLF); the FETCH code converts bare LF
 * to CRLF while streaming, which yields exactly hdr_size / body_size
 * octets.
 *
 * Limits (core/limits.h): at most MIME_PARTS_MAX parts and
 * MIME_DEPTH_MAX nesting levels; what does not fit is served as one
 * opaque body (MIME_F_OVERFLOW), as Dovecot does. Strings live in a
 * MIME_ARENA_SIZE arena (short ones equal to one stored just before
 * are shared; the last MIME_ARENA_KEEP octets are for tokens); a
 * string that does not fit reads as absent (NIL) and sets
 * MIME_F_TRUNCATED on its part. A header field longer
 * than MIME_HEADER_MAX octets is cut there.
 */
#ifndef WREN_MIME_H
#define WREN_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

#define MIME_ROOT	0	/* parts[0]: the whole message */
#define MIME_NONE	0xffff	/* no such part (parent, child, next) */
#define MIME_NIL	0xffff	/* mime_str.len of an absent string */
#define MIME_RECENT_N	8	/* short strings looked up before storing */
#define MIME_RECENT_LEN	64	/* ... that short */
#define MIME_ARENA_KEEP	1024	/* arena octets only tokens (types,
				 * encodings, dispositions) may use: a
				 * full arena loses names, not types */

/* Part flags (the same meanings as Dovecot's message_part flags). */
#define MIME_F_MULTIPART 0x01	/* has children from boundaries */
#define MIME_F_DIGEST	 0x02	/* multipart/digest */
#define MIME_F_RFC822	 0x04	/* message/rfc822: one child */
#define MIME_F_TEXT	 0x08	/* text/ * (or the default text/plain) */
#define MIME_F_IS_MIME	 0x10	/* MIME-Version or Content-Type seen,
				 * or a body part of a multipart */
#define MIME_F_OVERFLOW	 0x20	/* a limit stopped parsing inside */
#define MIME_F_TRUNCATED 0x40	/* some string did not fit the arena */

/* A string in the arena: m->arena[off .. off + len). len == MIME_NIL
 * means absent. Strings never contain NUL (a NUL in a header reads as
 * U+FFFD, as in Dovecot). Lists (params, languages) are stored as consecutive
 * NUL-terminated strings: name\0value\0name\0value\0... */
struct mime_str {
	uint16_t	off;
	uint16_t	len;
};

/* Envelope fields, in RFC 3501 ENVELOPE order. Kept raw (unfolded
 * with "\n" between the lines, CR dropped), parsed when written. */
enum mime_env_field {
	MIME_ENV_DATE,
	MIME_ENV_SUBJECT,
	MIME_ENV_FROM,
	MIME_ENV_SENDER,
	MIME_ENV_REPLY_TO,
	MIME_ENV_TO,
	MIME_ENV_CC,
	MIME_ENV_BCC,
	MIME_ENV_IN_REPLY_TO,
	MIME_ENV_MESSAGE_ID,
	MIME_ENV_N
};

struct mime_part {
	/* Raw file offsets: header start, body start (after the empty
	 * line), body end. */
	uint64_t	hdr_off;
	uint64_t	body_off;
	uint64_t	end_off;
	/* CRLF-form sizes and line counts (RFC 3501 body-fld-octets,
	 * body-fld-lines; RFC822.SIZE of the root is hdr + body). */
	uint64_t	hdr_size;
	uint64_t	body_size;
	uint32_t	hdr_lines;
	uint32_t	body_lines;

	uint16_t	parent;		/* MIME_NONE for the root */
	uint16_t	child;		/* first child or MIME_NONE */
	uint16_t	next;		/* next sibling or MIME_NONE */
	uint8_t		depth;		/* root 0 */
	uint8_t		flags;		/* MIME_F_* */

	/* Content-Type: type, subtype ("" when broken), params list;
	 * type.len == MIME_NIL when there was no Content-Type. The
	 * us-ascii default is applied by the writers, not stored. */
	struct mime_str	type;
	struct mime_str	subtype;
	struct mime_str	params;
	uint16_t	nparams;
	uint16_t	ndisp_params;
	uint16_t	nlang;
	struct mime_str	id;		/* Content-ID, raw */
	struct mime_str	desc;		/* Content-Description, raw */
	struct mime_str	cte;		/* Content-Transfer-Encoding token;
					 * NIL means the 7bit default */
	struct mime_str	md5;		/* Content-MD5, raw */
	struct mime_str	disp;		/* Content-Disposition token */
	struct mime_str	disp_params;	/* its params list */
	struct mime_str	lang;		/* Content-Language list */
	struct mime_str	loc;		/* Content-Location, raw */
	/* Only for the root and embedded messages (children of
	 * message/rfc822); all NIL elsewhere. */
	struct mime_str	env[MIME_ENV_N];
};

/* Parser state: private, but here so the caller can own the storage. */
struct mime_bnd {
	uint16_t	part;		/* the multipart it belongs to */
	uint8_t		len;
	char		s[MIME_BOUNDARY_MAX];
};

struct mime {
	struct mime_part parts[MIME_PARTS_MAX];
	uint16_t	nparts;
	uint16_t	arena_used;
	int		finished;

	/* --- private below this line --- */
	uint64_t	pos;		/* octets consumed */
	uint64_t	nl;		/* LFs so far */
	uint64_t	bare;		/* LFs not preceded by CR so far */
	unsigned char	last;		/* previous octet (CR tracking) */
	unsigned char	last2;		/* the one before */
	int		state;
	uint16_t	cur;		/* part being parsed */
	uint64_t	seg_start;	/* where this header/body run began */

	struct mime_bnd	bnd[MIME_DEPTH_MAX];
	uint8_t		nbnd;
	char		new_bnd[MIME_BOUNDARY_MAX];	/* from Content-Type */
	int		new_bnd_len;			/* -1: none */
	int		seen_ctype;
	int		in_hdr;		/* parsing headers of cur */

	/* Line start peek: "--..." lines wait here until the line is
	 * known to be, or not to be, a boundary. */
	char		peek[2 + MIME_BOUNDARY_MAX + 8];
	size_t		npeek;
	uint64_t	peek_line;		/* offset of the line start */
	uint64_t	peek_nl, peek_bare;	/* counters there */
	int		peek_prevnl;		/* newline size before it */
	int		epilogue;		/* the boundary was a close */

	/* Header field being collected. */
	char		name[32];
	size_t		name_len;
	int		name_long;	/* longer than name[]: uninteresting */
	int		field;		/* which field is being collected */
	int		in_value;	/* past the colon */
	int		skip_lwsp;	/* skipping LWSP after the colon */
	size_t		lwsp_run;	/* LWSP skipped so far */
	unsigned	line_no;	/* header lines so far */
	size_t		line_len;	/* octets of this line before LF */
	int		line_cr;	/* its last octet was CR */
	int		cont;		/* this line continues a field */
	int		val_cr;		/* value ends with a stored CR */
	/* Short strings stored last: a part like its siblings (250
	 * attachments "application" "pdf" "base64") shares theirs. */
	struct mime_str	recent[MIME_RECENT_N];
	unsigned	nrecent;

	char		value[MIME_HEADER_MAX];
	size_t		value_len;

	char		arena[MIME_ARENA_SIZE];
};

/* Resets m for a new message. */
void	mime_init(struct mime *m);

/* Feeds the next len octets of the message. Never fails: malformed
 * MIME is parsed the way Dovecot parses it. */
void	mime_feed(struct mime *m, const char *data, size_t len);

/* Ends the message: closes every open part at the end of the input.
 * The tree and the writers are valid only after this. */
void	mime_finish(struct mime *m);

/* The string s of m, its length in *len; NULL when absent. */
const char	*mime_str(const struct mime *m, struct mime_str s,
		    size_t *len);

/* Looks up parameter `name` (ASCII case-insensitive) in a params list
 * (p->params with p->nparams, or p->disp_params with p->ndisp_params).
 * Returns 1 and the raw value, 0 when absent. RFC 2231 values are
 * merged but not decoded (name becomes "name*" as in Dovecot). */
int	mime_param(const struct mime *m, struct mime_str list,
	    unsigned count, const char *name, const char **val,
	    size_t *vlen);

/* RFC 3501 6.4.5 section part numbers -> part index, as Dovecot's
 * imap-msgpart: from the root, a number k picks the k-th child of a
 * multipart; of anything else only 1 is valid (the part itself); when
 * more numbers follow, a message/rfc822 part is entered (its embedded
 * message). n == 0 gives MIME_ROOT. Returns MIME_NONE if no such part. */
unsigned	mime_find(const struct mime *m, const unsigned *nums,
		    size_t n);

/* For a message/rfc822 part: the embedded message (use its header and
 * body for sec.HEADER, sec.TEXT, sec.HEADER.FIELDS); otherwise
 * MIME_NONE, and sec.HEADER / sec.TEXT are empty, as in Dovecot. This
 * holds for the root too when a section number led to it ("1.HEADER"
 * of a message whose body is message/rfc822); BODY[HEADER] and
 * BODY[TEXT] without numbers use MIME_ROOT directly. */
unsigned	mime_embedded(const struct mime *m, unsigned part);

/* The writers put their output into out[0 .. cap) and return the full
 * length needed; the output is complete when the return value is
 * <= cap. No NUL is added. Strings are IMAP quoted strings, or
 * literals ("{n}\r\n" + octets) when they hold 8-bit octets, CR, LF
 * or many quotes, exactly as Dovecot writes them.
 *
 * mime_bodystructure: the body of part `part` in RFC 3501 7.4.2 form,
 * parenthesised, e.g. ("text" "plain" ("charset" "us-ascii") NIL NIL
 * "7bit" 12 1 NIL NIL NIL NIL); extended != 0 gives BODYSTRUCTURE,
 * 0 gives BODY. For MIME_ROOT it is what follows "BODYSTRUCTURE ".
 *
 * mime_envelope: the ENVELOPE list, parenthesised, of part `part`
 * (MIME_ROOT or an embedded message, see mime_embedded). */
size_t	mime_bodystructure(const struct mime *m, unsigned part,
	    int extended, char *out, size_t cap);
size_t	mime_envelope(const struct mime *m, unsigned part, char *out,
	    size_t cap);

/*
 * The same texts in pieces of any size, for answers too big for one
 * buffer (a message with hundreds of parts, or address fields of
 * tens of KB: up to MBs of text, worst case). The writer's place
 * between pieces is all in struct mime_wr (no pointers), so it may be
 * kept by the caller while the tree is parsed again from the same
 * file in between:
 *
 *	struct mime_wr w;
 *	mime_wr_init(&w, &m, MIME_ROOT, MIME_WR_BODYSTRUCTURE);
 *	while (!mime_wr_done(&w)) {
 *		n = mime_wr_next(&w, &m, out, room);
 *		send(out, n);		(then wait for room)
 *	}
 *
 * The concatenated pieces are exactly mime_bodystructure(...) (or
 * mime_body / mime_envelope) whatever the piece sizes. A piece costs
 * about one part's fields or one envelope field of work, never the
 * whole text again.
 */
enum mime_wr_kind {
	MIME_WR_BODY,
	MIME_WR_BODYSTRUCTURE,
	MIME_WR_ENVELOPE
};

struct mime_wr {
	size_t		off;	/* octets of the current unit given */
	uint16_t	top;	/* the part asked for */
	uint16_t	idx;	/* the part being written */
	uint8_t		kind;	/* enum mime_wr_kind */
	uint8_t		step;	/* private to mime_imap.c */
	uint8_t		field;	/* envelope field being written */
};

/* Starts the text of `part` (MIME_ROOT, or for MIME_WR_ENVELOPE an
 * embedded message, see mime_embedded). A part that does not exist
 * gives no text at all. */
void	mime_wr_init(struct mime_wr *w, const struct mime *m,
	    unsigned part, enum mime_wr_kind kind);

/* Writes the next octets of the text into out[0 .. cap) and returns
 * how many: cap unless the text ends first, 0 once it has ended (or
 * if m is not the tree it began on: the text then stops short). */
size_t	mime_wr_next(struct mime_wr *w, const struct mime *m, char *out,
	    size_t cap);

/* 1 when all of the text has been given. */
int	mime_wr_done(const struct mime_wr *w);

#endif
