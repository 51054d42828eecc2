/* SPDX-License-Identifier: ISC */
/*
 * deflate.c - raw DEFLATE encoder (RFC 1951): LZ77 with lazy matching
 * on hash chains (4), blocks as stored (3.2.4), fixed (3.2.6) or
 * dynamic Huffman (3.2.7), whichever is smallest, with length-limited
 * codes (3.2.2), and the sync flush of RFC 4978 4.
 *
 * The window holds two halves; when matching nears its end the upper
 * half slides down and chain positions drop by a half:
 *
 *   win  | older history (W) | history, then lookahead (W)  |
 *        0                   W            strstart ^        2W
 *   head[hash of 3 bytes] -> newest position, prev[pos % W] -> older
 *
 * Position 0 is "no entry" in the chains (it is never matched). A
 * block is sent when ZDEF_SYMS symbols or ZDEF_BLOCK_IN bytes are
 * collected, or at a flush; its bytes are still in the window then,
 * for the stored form.
 */
#include <string.h>

#include "compress/deflate.h"

#define MIN_MATCH	3
#define MAX_MATCH	258
#define MIN_LOOKAHEAD	(MAX_MATCH + MIN_MATCH + 1)
#define MAX_DIST	(ZDEF_WSIZE - MIN_LOOKAHEAD)
#define WMASK		(ZDEF_WSIZE - 1)
#define TOO_FAR		4096	/* a 3-byte match further is no gain */
/* zlib's level 5 cut-offs (its configuration_table; chain 32 in
 * limits.h): with a match of GOOD_LEN, look a quarter as far; one of
 * LAZY_LEN is taken without looking at the next position; one of
 * NICE_LEN ends the search. On mail, level 6's (chain and nice
 * 128) takes 1.6x the CPU for under one point of ratio. */
#define GOOD_LEN	8
#define LAZY_LEN	16
#define NICE_LEN	32

/* 3.2.7: the order code length code lengths are sent in. */
static const uint8_t cl_order[19] = {
	16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15
};

static unsigned	insert(struct zdef *, uint32_t pos);
static void	longest_match(struct zdef *, unsigned cur);
static unsigned	word_diff(uint64_t);
static void	lz_step(struct zdef *);
static size_t	fill(struct zdef *, const unsigned char *, size_t);
static void	record(struct zdef *, unsigned lit_or_len, unsigned dist);
static int	block_full(const struct zdef *);
static int	emit(struct zdef *, unsigned char *out, size_t cap,
		    size_t *pos);
static unsigned	len_code(unsigned l, unsigned *extra, unsigned *base);
static unsigned	dist_code(unsigned d, unsigned *extra, unsigned *base);
static void	huff_lens(const uint16_t *freq, unsigned n, unsigned limit,
		    uint8_t *lens);
static void	moffat(uint32_t *a, int n);
static void	gen_codes(const uint8_t *lens, unsigned n, uint16_t *codes);
static unsigned	dist_last(const struct zdef *);
static uint32_t	data_cost(const struct zdef *, const uint8_t *ll,
		    const uint8_t *dl);
static void	put(struct zdef *, unsigned char **o, unsigned v,
		    unsigned n);

void
zdef_init(struct zdef *z)
{
	z->strstart = 1;	/* 0 means "no entry" in the chains */
	z->block_start = 1;
	z->lookahead = 0;
	z->block_len = 0;
	z->match_len = z->prev_len = MIN_MATCH - 1;
	z->match_dist = z->prev_dist = 0;
	z->match_avail = 0;
	z->bits = 0;
	z->nbits = 0;
	z->nsyms = 0;
	z->dirty = 0;
	memset(z->freq_l, 0, sizeof z->freq_l);
	memset(z->freq_d, 0, sizeof z->freq_d);
	memset(z->head, 0, sizeof z->head);
}

int
zdef_pending(const struct zdef *z)
{
	return z->dirty;
}

size_t
zdef_write(struct zdef *z, const void *inp, size_t len, void *out,
    size_t cap, size_t *produced)
{
	const unsigned char *in = inp;
	size_t taken = 0;

	*produced = 0;
	for (;;) {
		if (block_full(z) && emit(z, out, cap, produced) == -1) {
			break;
		}
		if (z->lookahead < MIN_LOOKAHEAD) {
			if (taken == len) {
				break;
			}
			taken += fill(z, in + taken, len - taken);
			z->dirty = 1;
			continue;
		}
		lz_step(z);
	}
	return taken;
}

int
zdef_flush(struct zdef *z, void *out, size_t cap, size_t *produced)
{
	unsigned char *o;

	*produced = 0;
	if (!z->dirty) {
		return 0;
	}
	for (;;) {
		if (block_full(z) && emit(z, out, cap, produced) == -1) {
			return -1;
		}
		if (z->lookahead == 0) {
			break;
		}
		lz_step(z);
	}
	if (z->match_avail) {
		record(z, z->win[z->strstart - 1], 0);
		z->match_avail = 0;
	}
	z->match_len = MIN_MATCH - 1;
	if (z->nsyms > 0 && emit(z, out, cap, produced) == -1) {
		return -1;
	}
	/* An empty stored block: 3 bits, up to a byte boundary, then
	 * LEN 0000 and NLEN ffff. */
	if (cap - *produced < (z->nbits + 3 + 7) / 8 + 4) {
		return -1;
	}
	o = (unsigned char *)out + *produced;
	put(z, &o, 0, 3);
	put(z, &o, 0, (8 - z->nbits) & 7);
	put(z, &o, 0, 16);
	put(z, &o, 0xffff, 16);
	*produced = (size_t)(o - (unsigned char *)out);
	z->dirty = 0;
	return 0;
}

/* Takes bytes into the window after the lookahead, sliding it first
 * when matching has reached the upper end. */
static size_t
fill(struct zdef *z, const unsigned char *in, size_t len)
{
	size_t room;

	if (z->strstart >= 2 * ZDEF_WSIZE - MIN_LOOKAHEAD) {
		memmove(z->win, z->win + ZDEF_WSIZE, ZDEF_WSIZE);
		z->strstart -= ZDEF_WSIZE;
		z->block_start -= ZDEF_WSIZE;
		for (size_t i = 0; i < sizeof z->head / sizeof z->head[0];
		    i++) {
			z->head[i] = z->head[i] >= ZDEF_WSIZE ?
			    (uint16_t)(z->head[i] - ZDEF_WSIZE) : 0;
		}
		for (size_t i = 0; i < ZDEF_WSIZE; i++) {
			z->prev[i] = z->prev[i] >= ZDEF_WSIZE ?
			    (uint16_t)(z->prev[i] - ZDEF_WSIZE) : 0;
		}
	}
	room = 2 * ZDEF_WSIZE - (z->strstart + z->lookahead);
	if (len > room) {
		len = room;
	}
	memcpy(z->win + z->strstart + z->lookahead, in, len);
	z->lookahead += (uint32_t)len;
	return len;
}

/* Chains pos (its 3 bytes must be in the window); the previous head
 * of its chain. */
static unsigned
insert(struct zdef *z, uint32_t pos)
{
	const unsigned char *p = z->win + pos;
	uint32_t v = ((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]) *
	    2654435761u;
	unsigned h = v >> (32 - ZDEF_HASH_BITS);
	unsigned old = z->head[h];

	z->prev[pos & WMASK] = (uint16_t)old;
	z->head[h] = (uint16_t)pos;
	return old;
}

/* The longest match at strstart along the chain from cur, if longer
 * than prev_len: match_len (prev_len when none is) and match_dist.
 * Bytes are compared eight at a time while eight are left before
 * maxlen (never past the lookahead, so never past the window). */
static void
longest_match(struct zdef *z, unsigned cur)
{
	const unsigned char *scan = z->win + z->strstart;
	unsigned chain = ZDEF_CHAIN_MAX, best = z->prev_len;
	unsigned maxlen = z->lookahead < MAX_MATCH ? z->lookahead :
	    MAX_MATCH;
	unsigned nice = maxlen < NICE_LEN ? maxlen : NICE_LEN;
	uint32_t limit = z->strstart > MAX_DIST ? z->strstart - MAX_DIST :
	    0;
	uint16_t end, start;

	z->match_len = best;
	if (best >= maxlen) {
		return;
	}
	if (best >= GOOD_LEN) {
		chain >>= 2;
	}
	memcpy(&start, scan, 2);
	memcpy(&end, scan + best - 1, 2);
	do {
		const unsigned char *m = z->win + cur;
		unsigned len = 0;
		uint16_t w;

		memcpy(&w, m + best - 1, 2);
		if (w != end) {
			continue;
		}
		memcpy(&w, m, 2);
		if (w != start) {
			continue;
		}
		for (;;) {
			uint64_t a, b;

			if (len + 8 > maxlen) {
				while (len < maxlen && m[len] == scan[len]) {
					len++;
				}
				break;
			}
			memcpy(&a, m + len, 8);
			memcpy(&b, scan + len, 8);
			if (a != b) {
				len += word_diff(a ^ b);
				break;
			}
			len += 8;
		}
		if (len > best) {
			best = len;
			z->match_len = len;
			z->match_dist = z->strstart - cur;
			if (len >= nice) {
				break;
			}
			memcpy(&end, scan + best - 1, 2);
		}
	} while ((cur = z->prev[cur & WMASK]) > limit && --chain > 0);
}

/* The index of the first differing byte of two words loaded from
 * memory, given their xor (not 0), whatever the byte order. */
static unsigned
word_diff(uint64_t x)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (unsigned)__builtin_clzll(x) / 8;
#else
	return (unsigned)__builtin_ctzll(x) / 8;
#endif
}

/*
 * One position of lazy matching (as zlib's deflate_slow): the match
 * found at strstart - 1 is sent unless the one at strstart is longer,
 * in which case strstart - 1 goes as a literal.
 */
static void
lz_step(struct zdef *z)
{
	uint32_t end = z->strstart + z->lookahead;
	unsigned head = 0;

	if (z->lookahead >= MIN_MATCH) {
		head = insert(z, z->strstart);
	}
	z->prev_len = z->match_len;
	z->prev_dist = z->match_dist;
	z->match_len = MIN_MATCH - 1;
	if (head != 0 && z->prev_len < LAZY_LEN &&
	    z->strstart - head <= MAX_DIST) {
		longest_match(z, head);
		if (z->match_len == MIN_MATCH && z->match_dist > TOO_FAR) {
			z->match_len = MIN_MATCH - 1;
		}
	}
	if (z->prev_len >= MIN_MATCH && z->match_len <= z->prev_len) {
		uint32_t next = z->strstart - 1 + z->prev_len;

		record(z, z->prev_len, z->prev_dist);
		for (uint32_t p = z->strstart + 1; p < next; p++) {
			if (p + MIN_MATCH <= end) {
				(void)insert(z, p);
			}
		}
		z->lookahead -= next - z->strstart;
		z->strstart = next;
		z->match_avail = 0;
		z->match_len = MIN_MATCH - 1;
	} else {
		if (z->match_avail) {
			record(z, z->win[z->strstart - 1], 0);
		}
		z->match_avail = 1;
		z->strstart++;
		z->lookahead--;
	}
}

/* A literal (dist 0) or a match into the block. */
static void
record(struct zdef *z, unsigned v, unsigned dist)
{
	unsigned extra, base;

	if (dist == 0) {
		z->sym_l[z->nsyms] = (uint8_t)v;
		z->freq_l[v]++;
		z->block_len++;
	} else {
		z->sym_l[z->nsyms] = (uint8_t)(v - MIN_MATCH);
		z->freq_l[257 + len_code(v - MIN_MATCH, &extra, &base)]++;
		z->freq_d[dist_code(dist - 1, &extra, &base)]++;
		z->block_len += v;
	}
	z->sym_d[z->nsyms++] = (uint16_t)dist;
}

/* Room for one more step's symbol (the flush adds one more). */
static int
block_full(const struct zdef *z)
{
	return z->nsyms >= ZDEF_SYMS - 1 || z->block_len >= ZDEF_BLOCK_IN;
}

/* 3.2.5: length - 3 (0..255) to its code (0..28), extra bits, base. */
static unsigned
len_code(unsigned l, unsigned *extra, unsigned *base)
{
	unsigned n, c;

	if (l < 8 || l == 255) {
		*extra = 0;
		*base = l;
		return l < 8 ? l : 28;
	}
	n = 31u - (unsigned)__builtin_clz(l);
	c = 4 * (n - 1) + ((l >> (n - 2)) & 3);
	*extra = n - 2;
	*base = (4u + (c & 3)) << *extra;
	return c;
}

/* Distance - 1 (0..32767) to its code (0..29), extra bits, base. */
static unsigned
dist_code(unsigned d, unsigned *extra, unsigned *base)
{
	unsigned n, c;

	if (d < 4) {
		*extra = 0;
		*base = d;
		return d;
	}
	n = 31u - (unsigned)__builtin_clz(d);
	c = 2 * n + ((d >> (n - 1)) & 1);
	*extra = n - 1;
	*base = (2u + (c & 1)) << *extra;
	return c;
}

/*
 * Sends the open block in the cheapest of the three forms, if out has
 * room for it: 0, or -1 (nothing written) when it has not.
 */
static int
emit(struct zdef *z, unsigned char *out, size_t cap, size_t *pos)
{
	uint8_t ll[288], dl[30], fl[288], fd[30], cll[19], all[286 + 30];
	uint8_t rs[286 + 30], rx[286 + 30];
	uint16_t lc[288], dc[30], clc[19], clf[19];
	unsigned hlit = 286, hdist = 30, hclen = 19, n, nr = 0, form;
	uint32_t dyn, fix, sto;
	unsigned char *o;

	z->freq_l[256] = 1;
	huff_lens(z->freq_l, 286, 15, ll);
	ll[286] = ll[287] = 0;		/* never used (3.2.6) */
	huff_lens(z->freq_d, 30, 15, dl);
	if (z->freq_d[dist_last(z)] == 0) {
		/* No distance at all: one unused 1-bit code, which
		 * inflaters take as zlib's does (so is one used
		 * distance code, given 1 bit by huff_lens). */
		dl[0] = 1;
	}
	while (hlit > 257 && ll[hlit - 1] == 0) {
		hlit--;
	}
	while (hdist > 1 && dl[hdist - 1] == 0) {
		hdist--;
	}
	memcpy(all, ll, hlit);
	memcpy(all + hlit, dl, hdist);
	n = hlit + hdist;
	/* 3.2.7: runs of code lengths as 16 (repeat the previous), 17
	 * and 18 (zeros). */
	memset(clf, 0, sizeof clf);
	for (unsigned i = 0; i < n;) {
		unsigned v = all[i], run = 1, r;

		while (i + run < n && all[i + run] == v) {
			run++;
		}
		i += run;
		if (v != 0) {
			rs[nr] = (uint8_t)v;
			rx[nr++] = 0;
			clf[v]++;
			run--;
		}
		while (run >= 3) {
			if (v != 0) {
				r = run < 6 ? run : 6;
				rs[nr] = 16;
			} else if (run >= 11) {
				r = run < 138 ? run : 138;
				rs[nr] = 18;
			} else {
				r = run;
				rs[nr] = 17;
			}
			rx[nr] = (uint8_t)(r - (rs[nr] == 18 ? 11 : 3));
			clf[rs[nr++]]++;
			run -= r;
		}
		while (run-- > 0) {
			rs[nr] = (uint8_t)v;
			rx[nr++] = 0;
			clf[v]++;
		}
	}
	huff_lens(clf, 19, 7, cll);
	while (hclen > 4 && cll[cl_order[hclen - 1]] == 0) {
		hclen--;
	}
	dyn = 3 + 14 + 3 * hclen + data_cost(z, ll, dl);
	for (unsigned i = 0; i < nr; i++) {
		dyn += cll[rs[i]] + (rs[i] == 16 ? 2 : rs[i] == 17 ? 3 :
		    rs[i] == 18 ? 7 : 0);
	}
	memset(fl, 8, 144);
	memset(fl + 144, 9, 112);
	memset(fl + 256, 7, 24);
	memset(fl + 280, 8, 8);
	memset(fd, 5, 30);
	fix = 3 + data_cost(z, fl, fd);
	sto = 3 + ((8 - (z->nbits + 3)) & 7) + 32 + 8 * z->block_len;
	form = sto <= fix && sto <= dyn ? 0 : fix <= dyn ? 1 : 2;
	if (cap - *pos < (z->nbits + (form == 0 ? sto : form == 1 ? fix :
	    dyn)) / 8 + 1) {
		return -1;
	}
	o = out + *pos;
	if (form == 0) {
		put(z, &o, 0, 3);
		put(z, &o, 0, (8 - z->nbits) & 7);
		put(z, &o, z->block_len, 16);
		put(z, &o, ~z->block_len & 0xffff, 16);
		memcpy(o, z->win + z->block_start, z->block_len);
		o += z->block_len;
	} else {
		const uint8_t *l = form == 1 ? fl : ll, *d = form == 1 ? fd :
		    dl;

		put(z, &o, form == 1 ? 2 : 4, 3);
		if (form == 2) {
			put(z, &o, hlit - 257, 5);
			put(z, &o, hdist - 1, 5);
			put(z, &o, hclen - 4, 4);
			for (unsigned i = 0; i < hclen; i++) {
				put(z, &o, cll[cl_order[i]], 3);
			}
			gen_codes(cll, 19, clc);
			for (unsigned i = 0; i < nr; i++) {
				put(z, &o, clc[rs[i]], cll[rs[i]]);
				put(z, &o, rx[i], rs[i] == 16 ? 2 :
				    rs[i] == 17 ? 3 : rs[i] == 18 ? 7 : 0);
			}
		}
		gen_codes(l, 288, lc);
		gen_codes(d, 30, dc);
		for (unsigned i = 0; i < z->nsyms; i++) {
			unsigned s = z->sym_l[i], dist = z->sym_d[i];
			unsigned c, extra, base;

			if (dist == 0) {
				put(z, &o, lc[s], l[s]);
				continue;
			}
			c = 257 + len_code(s, &extra, &base);
			put(z, &o, lc[c], l[c]);
			put(z, &o, s - base, extra);
			c = dist_code(dist - 1, &extra, &base);
			put(z, &o, dc[c], d[c]);
			put(z, &o, dist - 1 - base, extra);
		}
		put(z, &o, lc[256], l[256]);
	}
	*pos = (size_t)(o - out);
	z->block_start += z->block_len;
	z->block_len = 0;
	z->nsyms = 0;
	memset(z->freq_l, 0, sizeof z->freq_l);
	memset(z->freq_d, 0, sizeof z->freq_d);
	return 0;
}

/* The last distance code used, or 0. */
static unsigned
dist_last(const struct zdef *z)
{
	unsigned i = 29;

	while (i > 0 && z->freq_d[i] == 0) {
		i--;
	}
	return i;
}

/* Bits of the block's symbols with these code lengths. */
static uint32_t
data_cost(const struct zdef *z, const uint8_t *ll, const uint8_t *dl)
{
	uint32_t bits = 0;

	for (unsigned i = 0; i < 286; i++) {
		unsigned c = i - 257;

		bits += (uint32_t)z->freq_l[i] * (ll[i] + (i < 265 ||
		    i == 285 ? 0 : c / 4 - 1));
	}
	for (unsigned i = 0; i < 30; i++) {
		bits += (uint32_t)z->freq_d[i] * (dl[i] + (i < 4 ? 0 :
		    i / 2 - 1));
	}
	return bits;
}

/*
 * Code lengths of at most `limit` bits for the symbols with a
 * frequency: a Huffman code (Moffat and Katajainen's in-place
 * method on the sorted frequencies), then lengths over the limit
 * folded back while keeping the code complete.
 */
static void
huff_lens(const uint16_t *freq, unsigned n, unsigned limit, uint8_t *lens)
{
	uint16_t idx[286];
	uint32_t a[286];
	unsigned cnt[16] = { 0 }, m = 0, j = 0;
	uint32_t total = 0;

	memset(lens, 0, n);
	for (unsigned i = 0; i < n; i++) {
		unsigned k = m;

		if (freq[i] == 0) {
			continue;
		}
		m++;
		while (k > 0 && freq[idx[k - 1]] > freq[i]) {
			idx[k] = idx[k - 1];
			k--;
		}
		idx[k] = (uint16_t)i;
	}
	if (m < 2) {
		if (m == 1) {
			lens[idx[0]] = 1;
		}
		return;
	}
	for (unsigned i = 0; i < m; i++) {
		a[i] = freq[idx[i]];
	}
	moffat(a, (int)m);
	for (unsigned i = 0; i < m; i++) {
		cnt[a[i] < limit ? a[i] : limit]++;
	}
	for (unsigned l = 1; l <= limit; l++) {
		total += (uint32_t)cnt[l] << (limit - l);
	}
	/* Too deep: each round moves a leaf one level down under a
	 * shallower one, which frees one slot at the limit. */
	while (total > (1u << limit)) {
		cnt[limit]--;
		for (unsigned l = limit - 1; l > 0; l--) {
			if (cnt[l] > 0) {
				cnt[l]--;
				cnt[l + 1] += 2;
				break;
			}
		}
		total--;
	}
	/* Rarest symbols get the longest codes. */
	for (unsigned l = limit; l > 0; l--) {
		for (unsigned k = 0; k < cnt[l]; k++) {
			lens[idx[j++]] = (uint8_t)l;
		}
	}
}

/* a[0..n) ascending weights (n >= 2) -> a[i] the code length of the
 * i-th: parents, then depths of internal nodes, then of leaves. */
static void
moffat(uint32_t *a, int n)
{
	int root = 0, leaf = 2, next, avbl, used, dpth;

	a[0] += a[1];
	for (next = 1; next < n - 1; next++) {
		if (leaf >= n || a[root] < a[leaf]) {
			a[next] = a[root];
			a[root++] = (uint32_t)next;
		} else {
			a[next] = a[leaf++];
		}
		if (leaf >= n || (root < next && a[root] < a[leaf])) {
			a[next] += a[root];
			a[root++] = (uint32_t)next;
		} else {
			a[next] += a[leaf++];
		}
	}
	a[n - 2] = 0;
	for (next = n - 3; next >= 0; next--) {
		a[next] = a[a[next]] + 1;
	}
	avbl = 1;
	used = dpth = 0;
	root = n - 2;
	next = n - 1;
	while (avbl > 0) {
		while (root >= 0 && (int)a[root] == dpth) {
			used++;
			root--;
		}
		while (avbl > used) {
			a[next--] = (uint32_t)dpth;
			avbl--;
		}
		avbl = 2 * used;
		dpth++;
		used = 0;
	}
}

/* 3.2.2: canonical codes from lengths, bit-reversed since Huffman
 * codes go out most significant bit first into an LSB-first stream. */
static void
gen_codes(const uint8_t *lens, unsigned n, uint16_t *codes)
{
	unsigned count[16] = { 0 }, next[16], code = 0;

	for (unsigned i = 0; i < n; i++) {
		count[lens[i]]++;
	}
	count[0] = 0;
	for (unsigned b = 1; b < 16; b++) {
		code = (code + count[b - 1]) << 1;
		next[b] = code;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned l = lens[i], c, r = 0;

		if (l == 0) {
			continue;
		}
		c = next[l]++;
		for (unsigned k = 0; k < l; k++) {
			r = (r << 1) | ((c >> k) & 1);
		}
		codes[i] = (uint16_t)r;
	}
}

/* n bits of v (n <= 16) after those pending; whole bytes out. */
static void
put(struct zdef *z, unsigned char **o, unsigned v, unsigned n)
{
	z->bits |= (uint64_t)(v & ((1u << n) - 1)) << z->nbits;
	z->nbits += n;
	while (z->nbits >= 8) {
		*(*o)++ = (unsigned char)z->bits;
		z->bits >>= 8;
		z->nbits -= 8;
	}
}
