/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mime.c - libFuzzer harness for the MIME parser and the IMAP
 * writers (msg/mime.h). The input is parsed whole, then again in chunk
 * sizes taken from its own octets; the tree and the writer output (the
 * root's, a few parts' named by the input, every ENVELOPE) must be the
 * same. Every writer output must be well formed IMAP (quotes
 * closed, literals complete, parentheses balanced), every offset
 * ordered and inside the input, every child inside its parent, and a
 * short output buffer must get a prefix of the full output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg/mime.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define OUT_MAX	(1024 * 1024)

static struct mime m;
static char out_a[OUT_MAX], out_b[OUT_MAX];

/* Quotes, literals and parentheses of one writer output. */
static void
check_imap(const char *s, size_t len)
{
	size_t i = 0, n;
	long depth = 0;

	while (i < len) {
		char c = s[i];

		if (c == '(') {
			depth++;
			i++;
		} else if (c == ')') {
			if (--depth < 0) {
				abort();
			}
			i++;
		} else if (c == '"') {
			for (i++; i < len && s[i] != '"'; i++) {
				if (s[i] == '\\') {
					i++;
				}
				if (i < len && (s[i] == '\r' || s[i] == '\n' ||
				    (unsigned char)s[i] >= 0x80)) {
					abort();
				}
			}
			if (i >= len) {
				abort();
			}
			i++;
		} else if (c == '{') {
			n = 0;
			for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
				n = n * 10 + (size_t)(s[i] - '0');
			}
			if (i + 3 > len || memcmp(s + i, "}\r\n", 3) != 0 ||
			    n > len - i - 3) {
				abort();
			}
			i += 3 + n;
		} else {
			if (c == '\r' || c == '\n') {
				abort();
			}
			i++;
		}
	}
	if (depth != 0) {
		abort();
	}
}

static void
check_tree(size_t size)
{
	unsigned i, c;

	if (!m.finished || m.nparts == 0 || m.nparts > MIME_PARTS_MAX) {
		abort();
	}
	for (i = 0; i < m.nparts; i++) {
		const struct mime_part *p = &m.parts[i];

		if (p->hdr_off > p->body_off || p->body_off > p->end_off ||
		    p->end_off > size ||
		    p->hdr_size < p->body_off - p->hdr_off ||
		    p->body_size < p->end_off - p->body_off ||
		    p->hdr_size > 2 * (p->body_off - p->hdr_off) ||
		    p->body_size > 2 * (p->end_off - p->body_off) ||
		    p->depth >= MIME_DEPTH_MAX) {
			abort();
		}
		for (c = p->child; c != MIME_NONE; c = m.parts[c].next) {
			const struct mime_part *k = &m.parts[c];

			if (c <= i || c >= m.nparts || k->parent != i ||
			    k->hdr_off < p->body_off ||
			    k->end_off > p->end_off) {
				abort();
			}
			if (k->next != MIME_NONE &&
			    m.parts[k->next].hdr_off < k->end_off) {
				abort();
			}
		}
		if ((p->flags & MIME_F_RFC822) && (p->child == MIME_NONE ||
		    m.parts[p->child].next != MIME_NONE)) {
			abort();
		}
	}
	if (m.parts[0].end_off != size) {
		abort();
	}
}

/* Parts whose own BODY/BODYSTRUCTURE is written besides the root's:
 * each part's text holds all of its descendants', so writing every
 * part was quadratic in the tree (256 parts: 256 times the root's
 * text; the harness ran at 450 exec/s). The root's text already holds
 * every part's; a few more tops, picked by the input, check a walk
 * that stops at a part other than the root. */
#define TOPS	4

/* The writer output for the root, for TOPS parts chosen by the input
 * and for every embedded message's ENVELOPE (linear), concatenated. */
static size_t
render(const uint8_t *data, size_t size, char *out, size_t cap)
{
	size_t n = 0, len;
	unsigned i, t, k;

	for (t = 0; t <= TOPS && n < cap; t++) {
		/* t 0 is the root; then the last part, then parts named
		 * by the input's last octets (the same both passes). */
		if (t == 0) {
			i = MIME_ROOT;
		} else if (t == 1) {
			i = m.nparts - 1;
		} else if (size >= t) {
			i = data[size - t] % m.nparts;
		} else {
			break;
		}
		for (k = 0; k < 2 && n < cap; k++) {
			len = mime_bodystructure(&m, i, k == 0, out + n,
			    cap - n);
			if (len <= cap - n) {
				check_imap(out + n, len);
			}
			n += len;
		}
	}
	for (i = 0; i < m.nparts && n < cap; i++) {
		if (i == MIME_ROOT ||
		    mime_embedded(&m, m.parts[i].parent) == i) {
			len = mime_envelope(&m, i, out + n, cap - n);
			if (len <= cap - n) {
				check_imap(out + n, len);
			}
			n += len;
		}
	}
	return n < cap ? n : cap;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;
	size_t la, lb, i, chunk, full;
	unsigned nums[3];

	/* An exact-size copy, so ASan sees any read past size. */
	copy = malloc(size != 0 ? size : 1);
	if (copy == NULL) {
		return 0;
	}
	memcpy(copy, data, size);

	mime_init(&m);
	mime_feed(&m, copy, size);
	mime_finish(&m);
	check_tree(size);
	la = render(data, size, out_a, sizeof out_a);

	/* Again in chunks of 1..16 octets chosen by the input. */
	mime_init(&m);
	for (i = 0, chunk = 1; i < size; i += chunk) {
		chunk = (size_t)(data[i] % 16) + 1;
		if (chunk > size - i) {
			chunk = size - i;
		}
		mime_feed(&m, copy + i, chunk);
	}
	mime_finish(&m);
	check_tree(size);
	lb = render(data, size, out_b, sizeof out_b);
	if (la != lb || memcmp(out_a, out_b, la) != 0) {
		abort();
	}

	/* A short buffer gets a prefix and the full length. */
	full = mime_bodystructure(&m, MIME_ROOT, 1, out_a, sizeof out_a);
	if (full > 0) {
		size_t cut = size > 0 ? data[0] % full : 0;

		memset(out_b, 0, cut + 1);
		if (mime_bodystructure(&m, MIME_ROOT, 1, out_b, cut) != full ||
		    memcmp(out_a, out_b, cut) != 0 || out_b[cut] != 0) {
			abort();
		}
	}

	/* Written in pieces (as FETCH streams a big structure), the
	 * pieces joined are the one-shot text. */
	if (full > 0 && full + 64 <= sizeof out_b) {
		struct mime_wr w;
		size_t got = 0, n, piece = size > 1 ? data[1] % 64 + 1 : 7;

		mime_wr_init(&w, &m, MIME_ROOT, MIME_WR_BODYSTRUCTURE);
		while (!mime_wr_done(&w)) {
			n = mime_wr_next(&w, &m, out_b + got, piece);
			if (got + n > full || (n < piece && !mime_wr_done(&w))) {
				abort();
			}
			got += n;
		}
		if (got != full || memcmp(out_a, out_b, full) != 0) {
			abort();
		}
	}

	/* Section lookup never walks off the tree. */
	for (i = 0; i + 1 < size && i < 6; i += 2) {
		nums[0] = data[i] % 4;
		nums[1] = data[i + 1] % 4;
		nums[2] = 1;
		(void)mime_find(&m, nums, (i / 2) + 1);
	}
	free(copy);
	return 0;
}
