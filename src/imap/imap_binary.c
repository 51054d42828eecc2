/* SPDX-License-Identifier: ISC */
/*
 * imap_binary.c - FETCH BINARY[part]<partial>, BINARY.PEEK and
 * BINARY.SIZE (RFC 3516 4.1, 4.2; RFC 9051 6.4.5): a part's body with
 * its Content-Transfer-Encoding (base64, quoted-printable) undone.
 *
 * The decoded size must be in the literal's header before its first
 * octet, and whether it holds a NUL decides between {n} and ~{n}
 * (literal8, RFC 3516 4.3): so the part is read twice, once to count
 * and once to send, both in slices of BIN_READS file reads (a 30 MB
 * attachment never holds the loop). A part in binary goes the same
 * way, its octets as stored (no LF made CR LF). Parts in 7bit or 8bit,
 * multiparts and the whole message go out as BODY[...] does (the
 * caller's path); an encoding we cannot undo ends the FETCH in NO
 * [UNKNOWN-CTE] (RFC 3516 4.1).
 */
/* The whole file is the Kconfig option IMAP_REV2 (imap_int.h has the
 * stubs without it). */
#include "core/limits.h"

#if WREN_IMAP_REV2

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "imap/imap_int.h"
#include "msg/mime.h"

#define BIN_READS	4	/* file reads in one slice */

enum { PH_COUNT, PH_SEND };

/* A part in binary: decoded as the identity, sent as stored. */
#define RAW	(DECODE_CTE_BASE64 + 1)

static char	raw[IMAP_CHUNK];
static char	lin[2 * IMAP_CHUNK];	/* raw, LF made CR LF (QP) */
static char	dec[2 * IMAP_CHUNK + DECODE_PEND_MAX];

static int	cte_kind(const struct mime *, const struct mime_part *);
static void	dec_init(struct decode_body *, int kind);
static size_t	chunk(struct imap_session *, size_t want, size_t cap,
		    int *end);
static int	count_slice(struct imap_session *);
static void	send_head(struct imap_session *);
static int	send_slice(struct imap_session *);

int
imap_bin_body(struct imap_session *s, unsigned k, const struct mime *m,
    const struct mime_part *p, uint64_t size)
{
	struct imap_job *j = &s->ws->job;
	const struct imap_fetch_body *b = &s->ws->u.fetch.body[k];
	int kind = DECODE_CTE_IDENTITY;
	char name[64];
	size_t nlen;

	if (p != NULL && p->child == MIME_NONE) {
		kind = cte_kind(m, p);
	}
	if (kind == -1) {
		j->err = IMAP_ERR_CTE;
		return 0;
	}
	if (kind == DECODE_CTE_IDENTITY) {
		if (b->binary != IMAP_BIN_SIZE) {
			return -1;
		}
		nlen = imap_fetch_body_fmt(&s->ws->u.fetch, b, name,
		    sizeof name);
		if (j->open > 1) {
			(void)imap_out(s, " ", 1);
		}
		j->open = 2;
		(void)imap_outf(s, "%.*s %llu", (int)nlen, name,
		    (unsigned long long)size);
		return 0;
	}
	memset(&j->bin, 0, sizeof j->bin);
	j->bin.k = k;
	j->bin.phase = PH_COUNT;
	dec_init(&j->bin.d, kind);
	j->st.skip = (uint64_t)j->st.pos;	/* the start, kept */
	return IMAP_STREAM_BIN;
}

int
imap_bin_pump(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;

	if (timer_armed(&s->job_tick)) {
		return 0;	/* yielded: the timer steps again */
	}
	if (j->bin.phase == PH_COUNT) {
		if (!count_slice(s)) {
			return 0;
		}
		send_head(s);
		if (j->bin.phase == PH_COUNT) {
			return 1;	/* BINARY.SIZE: written, done */
		}
	}
	return send_slice(s);
}

/* The decoder for a part's encoding, or -1 for one it cannot undo.
 * No Content-Transfer-Encoding is 7bit (RFC 2045 6.1). */
static int
cte_kind(const struct mime *m, const struct mime_part *p)
{
	static const char *const ident[] = { "7bit", "8bit" };
	const char *t = m->arena + p->cte.off;
	size_t n = p->cte.len;

	if (n == MIME_NIL) {
		return DECODE_CTE_IDENTITY;
	}
	if (n == 6 && strncasecmp(t, "binary", n) == 0) {
		return RAW;	/* octets as stored, NULs and lone LFs */
	}
	if (n == 16 && strncasecmp(t, "quoted-printable", n) == 0) {
		return DECODE_CTE_QP;
	}
	if (n == 6 && strncasecmp(t, "base64", n) == 0) {
		return DECODE_CTE_BASE64;
	}
	for (size_t i = 0; i < sizeof ident / sizeof ident[0]; i++) {
		if (n == strlen(ident[i]) && strncasecmp(t, ident[i], n) == 0) {
			return DECODE_CTE_IDENTITY;
		}
	}
	return -1;
}

static void
dec_init(struct decode_body *d, int kind)
{
	static const char *const name[] = { "binary", "quoted-printable",
	    "base64", "binary" };

	(void)decode_body_init(d, name[kind], strlen(name[kind]));
}

/*
 * Reads up to want raw octets at st.pos and decodes them whole into
 * dec[0..cap): the octets decoded. Decoding never gives more than it
 * takes plus what the decoder held, so with want + DECODE_PEND_MAX <=
 * cap (twice want for quoted-printable) all is taken. At the end of
 * the part (*end set) it gives what the decoder held; call until 0.
 *
 * Quoted-printable is decoded from the CR LF form, as Dovecot does:
 * a hard line break is CR LF in the canonical text (RFC 2045 6.7),
 * and the file may keep it as a bare LF; "=0A" stays a LF.
 */
static size_t
chunk(struct imap_session *s, size_t want, size_t cap, int *end)
{
	struct imap_stream *st = &s->ws->job.st;
	struct imap_bin *bn = &s->ws->job.bin;
	const char *in = raw;
	size_t m = 0, o = 0, off = 0, used;
	ssize_t n;

	if ((uint64_t)(st->end - st->pos) < want) {
		want = (size_t)(st->end - st->pos);
	}
	do {
		n = want > 0 ? pread(st->fd, raw, want, st->pos) : 0;
	} while (n < 0 && errno == EINTR);
	*end = n <= 0;
	if (*end) {
		return decode_body_end(&bn->d, dec, cap);
	}
	st->pos += n;
	m = (size_t)n;
	if (bn->d.cte == DECODE_CTE_QP) {
		m = 0;
		for (ssize_t i = 0; i < n; i++) {
			if (raw[i] == '\n' && !bn->cr) {
				lin[m++] = '\r';
			}
			lin[m++] = raw[i];
			bn->cr = raw[i] == '\r';
		}
		in = lin;
	}
	while (off < m) {
		o += decode_body_feed(&bn->d, in + off, m - off, &used,
		    dec + o, cap - o);
		off += used;
		if (used == 0) {
			break;		/* cannot happen: see above */
		}
	}
	return o;
}

/* Counts up to BIN_READS reads: 1 when the whole part is counted, 0
 * when the job yielded. */
static int
count_slice(struct imap_session *s)
{
	struct imap_bin *bn = &s->ws->job.bin;
	size_t o;
	int end;

	for (int r = 0; r < BIN_READS; r++) {
		do {
			o = chunk(s, sizeof raw, sizeof dec, &end);
			bn->size += o;
			bn->nul |= memchr(dec, 0, o) != NULL;
		} while (end && o > 0);
		if (end) {
			return 1;
		}
	}
	imap_job_yield(s);
	return 0;
}

/* After counting: BINARY.SIZE is written (phase stays PH_COUNT), or
 * the literal's header and the stream rewound for sending. */
static void
send_head(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;
	struct imap_bin *bn = &j->bin;
	const struct imap_fetch_body *b = &s->ws->u.fetch.body[bn->k];
	char name[64];
	size_t nlen = imap_fetch_body_fmt(&s->ws->u.fetch, b, name,
	    sizeof name);
	uint64_t left = bn->size;

	if (j->open > 1) {
		(void)imap_out(s, " ", 1);
	}
	j->open = 2;
	if (b->binary == IMAP_BIN_SIZE) {
		(void)imap_outf(s, "%.*s %llu", (int)nlen, name,
		    (unsigned long long)bn->size);
		return;
	}
	if (b->partial) {
		left = b->start >= left ? 0 : left - b->start;
		if (left > b->count) {
			left = b->count;
		}
	}
	(void)imap_outf(s, "%.*s %s{%llu}\r\n", (int)nlen, name,
	    bn->nul ? "~" : "", (unsigned long long)left);
	dec_init(&bn->d, bn->d.cte == DECODE_CTE_IDENTITY ? RAW :
	    bn->d.cte);
	bn->cr = 0;
	j->st.pos = (off_t)j->st.skip;
	j->st.skip = b->partial ? b->start : 0;
	j->st.left = left;
	bn->phase = PH_SEND;
}

/* Sends decoded octets while the output has room: 1 when done, 0 when
 * full or after BIN_READS reads (yielded). If the part now decodes
 * shorter than counted (the file changed), NULs keep the length. */
static int
send_slice(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;
	struct imap_stream *st = &j->st;
	struct conn *c = s->c;

	for (int r = 0; st->left > 0; r++) {
		size_t room = buf_room(&c->out), off = 0, want, o;
		int end;

		if (room > sizeof dec) {
			room = sizeof dec;
		}
		want = room > DECODE_PEND_MAX ? room - DECODE_PEND_MAX : 0;
		if (j->bin.d.cte == DECODE_CTE_QP) {
			want /= 2;
		}
		if (s->ws->spill_len > 0 || want == 0) {
			return 0;
		}
		if (r == BIN_READS) {
			imap_job_yield(s);
			return 0;
		}
		o = chunk(s, want < sizeof raw ? want : sizeof raw, room, &end);
		if (end && o == 0) {
			size_t pad = st->left < room ? (size_t)st->left : room;

			conn_log(c, LOG_LVL_WARN, "%s: part shorter than "
			    "counted; padded", s->selected);
			memset(dec, 0, pad);
			(void)conn_write(c, dec, pad);
			st->left -= pad;
			continue;
		}
		if (st->skip > 0) {
			off = st->skip < o ? (size_t)st->skip : o;
			st->skip -= off;
		}
		o -= off;
		if (o > st->left) {
			o = (size_t)st->left;
		}
		if (o > 0) {
			(void)conn_write(c, dec + off, o);
			st->left -= o;
		}
	}
	return 1;
}
#endif /* WREN_IMAP_REV2 */
