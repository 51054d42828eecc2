/* SPDX-License-Identifier: ISC */
/*
 * inflate.c - raw DEFLATE decoder (RFC 1951 3.2): block headers
 * (3.2.3), stored blocks (3.2.4), fixed codes (3.2.6) and dynamic
 * codes (3.2.7), as a state machine over input fed in chunks.
 *
 * Every step first loads the bit buffer with up to 57 bits, then
 * works on a copy of it and commits only when the whole step (a code
 * and its extra bits, a literal/length with its distance) was there:
 * a chunk boundary anywhere leaves the state as it was, and the next
 * call starts the step again. Codes are decoded one bit at a time
 * from the counts per length (canonical codes, 3.2.2): slower than a
 * lookup table, but a few hundred bytes of state; the client's side
 * of an IMAP session is small.
 */
#include <string.h>

#include "compress/inflate.h"

enum {
	ST_HEADER, ST_STORED_LEN, ST_STORED, ST_TABLE, ST_CLENS, ST_LENS,
	ST_CODES, ST_DONE
};

/* 3.2.7: the order code length code lengths come in. */
static const uint8_t cl_order[19] = {
	16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15
};

/* A step's view of the bit buffer: committed back only on success. */
struct bits {
	uint64_t	 b;
	unsigned	 n;
};

static int	build(struct zinf_code *, const uint8_t *lens, unsigned n);
static int	decode(const struct zinf_code *, struct bits *);
static int	take(struct bits *, unsigned n, unsigned *v);
static int	tables(struct zinf *);
static void	fixed(struct zinf *);
static int	step_lens(struct zinf *);
static int	step_codes(struct zinf *, unsigned char *out, size_t cap,
		    size_t *o);
static void	put(struct zinf *, unsigned char *out, size_t *o,
		    unsigned char c);

void
zinf_init(struct zinf *z)
{
	z->err = ZINF_OK;
	z->state = ST_HEADER;
	z->bits = 0;
	z->nbits = 0;
	z->final = 0;
	z->copy_len = 0;
	z->full = 0;
	z->wpos = 0;
	z->whave = 0;
}

int
zinf_done(const struct zinf *z)
{
	return z->state == ST_DONE;
}

const char *
zinf_strerror(enum zinf_err e)
{
	static const char *const msg[] = {
		[ZINF_OK] = "no error",
		[ZINF_E_BTYPE] = "invalid block type",
		[ZINF_E_STORED] = "stored block length mismatch",
		[ZINF_E_COUNTS] = "too many length or distance codes",
		[ZINF_E_CODE] = "invalid code lengths",
		[ZINF_E_REPEAT] = "invalid code length repeat",
		[ZINF_E_NO_EOB] = "no end-of-block code",
		[ZINF_E_SYMBOL] = "invalid symbol",
		[ZINF_E_DIST] = "distance too far back",
		[ZINF_E_AFTER_END] = "data after the final block",
	};

	return (unsigned)e < sizeof msg / sizeof msg[0] ? msg[e] : "?";
}

size_t
zinf_run(struct zinf *z, const void *inp, size_t len, void *outp,
    size_t cap, size_t *produced)
{
	const unsigned char *in = inp;
	unsigned char *out = outp;
	size_t i = 0, o = 0;

	z->full = 0;
	while (z->err == ZINF_OK) {
		int rc = 0;
		unsigned v;

		/* At most 57 bits: a whole literal/length and distance
		 * (48 bits) fits whatever the alignment. */
		while (z->nbits <= 56 && i < len) {
			z->bits |= (uint64_t)in[i++] << z->nbits;
			z->nbits += 8;
		}
		switch (z->state) {
		case ST_HEADER:
			if (z->nbits < 3) {
				rc = 0;
				break;
			}
			z->final = z->bits & 1;
			v = (unsigned)(z->bits >> 1) & 3;
			z->bits >>= 3;
			z->nbits -= 3;
			if (v == 0) {
				/* 3.2.4: skip to a byte boundary. */
				z->bits >>= z->nbits & 7;
				z->nbits -= z->nbits & 7;
				z->state = ST_STORED_LEN;
			} else if (v == 1) {
				fixed(z);
				z->state = ST_CODES;
			} else if (v == 2) {
				z->state = ST_TABLE;
			} else {
				z->err = ZINF_E_BTYPE;
			}
			rc = 1;
			break;
		case ST_STORED_LEN:
			if (z->nbits < 32) {
				rc = 0;
				break;
			}
			v = (unsigned)z->bits & 0xffff;
			if (v != (~(unsigned)(z->bits >> 16) & 0xffff)) {
				z->err = ZINF_E_STORED;
				break;
			}
			z->bits >>= 32;
			z->nbits -= 32;
			z->n = v;
			z->state = v > 0 ? ST_STORED :
			    z->final ? ST_DONE : ST_HEADER;
			rc = 1;
			break;
		case ST_STORED:
			/* Whole bytes may wait in the bit buffer; the
			 * rest comes straight from the input. */
			while (z->n > 0 && o < cap && z->nbits >= 8) {
				put(z, out, &o, (unsigned char)z->bits);
				z->bits >>= 8;
				z->nbits -= 8;
				z->n--;
			}
			while (z->n > 0 && o < cap && i < len) {
				put(z, out, &o, in[i++]);
				z->n--;
			}
			if (z->n == 0) {
				z->state = z->final ? ST_DONE : ST_HEADER;
				rc = 1;
			} else {
				z->full = o == cap;
			}
			break;
		case ST_TABLE:
			if (z->nbits < 14) {
				rc = 0;
				break;
			}
			z->hlit = 257 + ((unsigned)z->bits & 31);
			z->hdist = 1 + ((unsigned)(z->bits >> 5) & 31);
			z->hclen = 4 + ((unsigned)(z->bits >> 10) & 15);
			z->bits >>= 14;
			z->nbits -= 14;
			if (z->hlit > 286 || z->hdist > 30) {
				z->err = ZINF_E_COUNTS;
				break;
			}
			memset(z->lens, 0, 19);
			z->n = 0;
			z->state = ST_CLENS;
			rc = 1;
			break;
		case ST_CLENS:
			while (z->n < z->hclen && z->nbits >= 3) {
				z->lens[cl_order[z->n++]] = z->bits & 7;
				z->bits >>= 3;
				z->nbits -= 3;
			}
			if (z->n < z->hclen) {
				rc = 0;
				break;
			}
			/* The code length code must be complete. */
			if (build(&z->lencode, z->lens, 19) != 0) {
				z->err = ZINF_E_CODE;
				break;
			}
			z->n = 0;
			z->state = ST_LENS;
			rc = 1;
			break;
		case ST_LENS:
			rc = step_lens(z);
			break;
		case ST_CODES:
			rc = step_codes(z, out, cap, &o);
			break;
		case ST_DONE:
			/* Only the last byte's padding may follow. */
			if (i < len || z->nbits >= 8) {
				z->err = ZINF_E_AFTER_END;
			}
			break;
		}
		/* 0: the step wants more bits (or room): go on while
		 * the input can give them. */
		if (rc == 0 && (i == len || z->full)) {
			break;
		}
	}
	*produced = o;
	return i;
}

/* Counts per length and symbols in code order for lens[0..n): 0 for a
 * complete code, 1 for an incomplete one, -1 for an over-subscribed
 * one (more codes than the lengths allow). */
static int
build(struct zinf_code *h, const uint8_t *lens, unsigned n)
{
	uint16_t offs[16];
	int left = 1;

	memset(h->count, 0, sizeof h->count);
	for (unsigned i = 0; i < n; i++) {
		h->count[lens[i]]++;
	}
	for (unsigned l = 1; l < 16; l++) {
		left = 2 * left - h->count[l];
		if (left < 0) {
			return -1;
		}
	}
	offs[1] = 0;
	for (unsigned l = 1; l < 15; l++) {
		offs[l + 1] = (uint16_t)(offs[l] + h->count[l]);
	}
	for (unsigned i = 0; i < n; i++) {
		if (lens[i] != 0) {
			h->sym[offs[lens[i]]++] = (uint16_t)i;
		}
	}
	return left > 0 ? 1 : 0;
}

/* One symbol from the bits in bb: the symbol, -2 when the bits run
 * out first, -1 when no code matches (an incomplete code). */
static int
decode(const struct zinf_code *h, struct bits *bb)
{
	int code = 0, first = 0, index = 0;

	for (unsigned l = 1; l < 16; l++) {
		int count = h->count[l];

		if (bb->n < l) {
			return -2;
		}
		code |= (int)((bb->b >> (l - 1)) & 1);
		if (code - first < count) {
			bb->b >>= l;
			bb->n -= l;
			return h->sym[index + code - first];
		}
		index += count;
		first = (first + count) << 1;
		code <<= 1;
	}
	return -1;
}

/* n bits (n <= 16) into *v: 0, or -1 when there are fewer. */
static int
take(struct bits *bb, unsigned n, unsigned *v)
{
	if (bb->n < n) {
		return -1;
	}
	*v = (unsigned)bb->b & ((1u << n) - 1);
	bb->b >>= n;
	bb->n -= n;
	return 0;
}

/* 3.2.6: the fixed literal/length and distance codes. */
static void
fixed(struct zinf *z)
{
	uint8_t l[288];

	memset(l, 8, 144);
	memset(l + 144, 9, 112);
	memset(l + 256, 7, 24);
	memset(l + 280, 8, 8);
	(void)build(&z->lencode, l, 288);
	/* 30 and 31 have codes too: they are refused when they come. */
	memset(l, 5, 32);
	(void)build(&z->distcode, l, 32);
}

/* The literal/length and distance codes from z->lens, as zlib accepts
 * them: complete, or a single code of one bit (one distance used),
 * or no distance code at all (a block of literals). */
static int
tables(struct zinf *z)
{
	const struct zinf_code *l = &z->lencode, *d = &z->distcode;
	int rc;

	if (z->lens[256] == 0) {
		z->err = ZINF_E_NO_EOB;
		return -1;
	}
	rc = build(&z->lencode, z->lens, z->hlit);
	if (rc < 0 || (rc > 0 && (l->count[0] + 1u != z->hlit ||
	    l->count[1] != 1))) {
		z->err = ZINF_E_CODE;
		return -1;
	}
	rc = build(&z->distcode, z->lens + z->hlit, z->hdist);
	if (rc < 0 || (rc > 0 && d->count[0] != z->hdist &&
	    (d->count[0] + 1u != z->hdist || d->count[1] != 1))) {
		z->err = ZINF_E_CODE;
		return -1;
	}
	return 0;
}

/* 3.2.7: code lengths with their repeats. 1 when done or progressing,
 * 0 when input is needed. */
static int
step_lens(struct zinf *z)
{
	unsigned total = z->hlit + z->hdist;

	while (z->n < total) {
		struct bits bb = { z->bits, z->nbits };
		unsigned rep, v = 0, val = 0;
		int sym = decode(&z->lencode, &bb);

		if (sym == -2) {
			return 0;
		}
		if (sym < 0) {
			z->err = ZINF_E_CODE;
			return 1;
		}
		if (sym < 16) {
			z->lens[z->n++] = (uint8_t)sym;
			z->bits = bb.b;
			z->nbits = bb.n;
			continue;
		}
		if (sym == 16) {
			if (take(&bb, 2, &v) == -1) {
				return 0;
			}
			if (z->n == 0) {
				z->err = ZINF_E_REPEAT;
				return 1;
			}
			val = z->lens[z->n - 1];
			rep = 3 + v;
		} else if (sym == 17) {
			if (take(&bb, 3, &v) == -1) {
				return 0;
			}
			rep = 3 + v;
		} else {
			if (take(&bb, 7, &v) == -1) {
				return 0;
			}
			rep = 11 + v;
		}
		if (z->n + rep > total) {
			z->err = ZINF_E_REPEAT;
			return 1;
		}
		memset(z->lens + z->n, (int)val, rep);
		z->n += rep;
		z->bits = bb.b;
		z->nbits = bb.n;
	}
	if (tables(z) == 0) {
		z->state = ST_CODES;
	}
	return 1;
}

/* Literals and matches until end-of-block (1), or until the input or
 * the output runs out (0). */
static int
step_codes(struct zinf *z, unsigned char *out, size_t cap, size_t *o)
{
	for (;;) {
		struct bits bb = { z->bits, z->nbits };
		unsigned v, extra, len, dist;
		int sym;

		while (z->copy_len > 0 && *o < cap) {
			put(z, out, o, z->win[(z->wpos - z->copy_dist) &
			    (ZINF_WINDOW - 1)]);
			z->copy_len--;
		}
		if (*o == cap) {
			z->full = 1;
			return 0;
		}
		sym = decode(&z->lencode, &bb);
		if (sym == -2) {
			return 0;
		}
		if (sym < 0 || sym > 285) {
			z->err = ZINF_E_SYMBOL;
			return 1;
		}
		if (sym < 256) {
			put(z, out, o, (unsigned char)sym);
		} else if (sym == 256) {
			z->state = z->final ? ST_DONE : ST_HEADER;
		} else {
			/* 3.2.5: base and extra bits of lengths... */
			sym -= 257;
			if (sym < 8) {
				extra = 0;
				len = (unsigned)sym;
			} else if (sym == 28) {
				extra = 0;
				len = 255;
			} else {
				extra = (unsigned)sym / 4 - 1;
				len = (4u + ((unsigned)sym & 3)) << extra;
			}
			if (take(&bb, extra, &v) == -1) {
				return 0;
			}
			len += 3 + v;
			/* ... and of distances. */
			sym = decode(&z->distcode, &bb);
			if (sym == -2) {
				return 0;
			}
			if (sym < 0 || sym > 29) {
				z->err = ZINF_E_SYMBOL;
				return 1;
			}
			if (sym < 4) {
				extra = 0;
				dist = (unsigned)sym;
			} else {
				extra = (unsigned)sym / 2 - 1;
				dist = (2u + ((unsigned)sym & 1)) << extra;
			}
			if (take(&bb, extra, &v) == -1) {
				return 0;
			}
			dist += 1 + v;
			if (dist > z->whave) {
				z->err = ZINF_E_DIST;
				return 1;
			}
			z->copy_len = len;
			z->copy_dist = dist;
		}
		z->bits = bb.b;
		z->nbits = bb.n;
		if (z->state != ST_CODES) {
			return 1;
		}
	}
}

/* One byte out, and into the window for later matches. */
static void
put(struct zinf *z, unsigned char *out, size_t *o, unsigned char c)
{
	out[(*o)++] = c;
	z->win[z->wpos] = c;
	z->wpos = (z->wpos + 1) & (ZINF_WINDOW - 1);
	if (z->whave < ZINF_WINDOW) {
		z->whave++;
	}
}
