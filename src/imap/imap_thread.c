/* SPDX-License-Identifier: ISC */
/*
 * imap_thread.c - the THREAD trees (RFC 5256 3): REFERENCES steps 1
 * (links from Message-ID, References, In-Reply-To), 2 (roots),
 * 4 (dummies pruned), 6 (roots merged by base subject); the sorts of
 * steps 5 and 7 are imap_sort.c's, with the orders given here.
 *
 * Nothing here allocates or recurses: nodes live in the caller's
 * array, IDs are 64-bit hashes in a chained table, and every walk up
 * the tree stops after IMAP_THREAD_DEPTH_MAX parents (a deeper link
 * is taken for a loop and not made).
 *
 *   node:  id subj | parent child next | hnext seq date
 *   roots: [r0 r1 ...]      children: child -> next -> next -> 0
 */
#include <string.h>

#include "core/limits.h"
#include "imap/imap_thread.h"
#include "msg/msgid.h"
#include "msg/sortkey.h"

static uint32_t	node_new(struct thread_set *, uint64_t id);
static uint32_t	id_find(const struct thread_set *, uint64_t id);
static int	below(const struct thread_set *, uint32_t a, uint32_t b);
static void	link_to(struct thread_set *, uint32_t parent, uint32_t c);
static void	unlink_from(struct thread_set *, uint32_t c);
static const struct thread_node *first_msg(const struct thread_set *,
		    uint32_t);
static uint32_t	*subj_slot(struct thread_set *, uint64_t subj);

void
thread_init(struct thread_set *t, struct thread_node *n, uint32_t cap,
    uint32_t *bucket, uint32_t nb, uint32_t *roots)
{
	t->n = n;
	t->nn = 1;
	t->cap = cap;
	t->bucket = bucket;
	t->nb = nb;
	t->roots = roots;
	t->nroots = 0;
	memset(bucket, 0, nb * sizeof *bucket);
	memset(&n[0], 0, sizeof n[0]);
}

uint32_t
thread_add_plain(struct thread_set *t, uint32_t seq, uint32_t date,
    uint64_t subj)
{
	uint32_t c = node_new(t, 0);

	if (c != 0) {
		t->n[c].seq = seq;
		t->n[c].date = date;
		t->n[c].subj = subj;
	}
	return c;
}

uint32_t
thread_add(struct thread_set *t, uint32_t seq, uint32_t date,
    uint64_t subj, uint64_t id, const char *refs, size_t refs_len,
    uint64_t in_reply_to, uint32_t left)
{
	uint32_t c = id != 0 ? id_find(t, id) : 0, prev = 0, r;
	const char *p;
	size_t pos = 0, len;
	int any = 0;

	/* 1A: a second message with an ID seen gets none. */
	if (c != 0 && t->n[c].seq != 0) {
		id = 0;
		c = 0;
	}
	if (c == 0 && (c = node_new(t, id)) == 0) {
		return 0;	/* cannot happen: kept for messages */
	}
	t->n[c].seq = seq;
	t->n[c].date = date;
	t->n[c].subj = subj;
	/* 1B: References, each the parent of the next. Dummies may not
	 * take the nodes kept for the messages still to come. */
	while (refs != NULL && msgid_next(refs, refs_len, &pos, &p, &len)) {
		uint64_t h = sortkey_hash(p, len) | 1;

		any = 1;
		if ((r = id_find(t, h)) == 0) {
			if (t->nn + left >= t->cap) {
				break;
			}
			r = node_new(t, h);
		}
		if (prev != 0 && r != prev && t->n[r].parent == 0 &&
		    !below(t, prev, r)) {
			link_to(t, prev, r);
		}
		prev = r;
	}
	if (!any && in_reply_to != 0) {
		if ((r = id_find(t, in_reply_to)) == 0 &&
		    t->nn + left < t->cap) {
			r = node_new(t, in_reply_to);
		}
		prev = r;
	}
	/* 1C: the last reference is the parent, whatever was guessed
	 * before. */
	unlink_from(t, c);
	if (prev != 0 && prev != c && !below(t, prev, c)) {
		link_to(t, prev, c);
	}
	return c;
}

void
thread_root_of(struct thread_set *t, uint32_t i)
{
	t->n[i].hnext = 0;
	if (t->n[i].parent == 0) {
		t->roots[t->nroots++] = i;
	}
}

void
thread_prune(struct thread_set *t, uint32_t i)
{
	uint32_t *link = &t->n[i].child;

	if (t->n[i].parent == THREAD_GONE) {
		return;
	}
	while (*link != 0) {
		uint32_t c = *link, k, last = 0;

		if (t->n[c].seq != 0) {
			link = &t->n[c].next;
			continue;
		}
		/* A dummy: its children take its place, and are looked
		 * at in turn (they may be dummies too). */
		for (k = t->n[c].child; k != 0; k = t->n[k].next) {
			t->n[k].parent = i;
			last = k;
		}
		if (last != 0) {
			t->n[last].next = t->n[c].next;
			*link = t->n[c].child;
		} else {
			*link = t->n[c].next;
		}
		t->n[c].child = t->n[c].next = 0;
		t->n[c].parent = THREAD_GONE;
	}
}

void
thread_prune_roots(struct thread_set *t)
{
	uint32_t w = 0;

	for (uint32_t k = 0; k < t->nroots; k++) {
		uint32_t r = t->roots[k], c = t->n[r].child;

		if (t->n[r].seq == 0 && (c == 0 || t->n[c].next == 0)) {
			/* No child: gone; one child: promoted. */
			t->n[r].parent = THREAD_GONE;
			t->n[r].child = 0;
			if (c == 0) {
				continue;
			}
			t->n[c].parent = 0;
			r = c;
		}
		t->roots[w++] = r;
	}
	t->nroots = w;
}

void
thread_subject_add(struct thread_set *t, uint32_t k)
{
	uint32_t r = t->roots[k], *slot;
	const struct thread_node *m = first_msg(t, r), *o;

	if (m == NULL || m->subj == 0) {
		return;
	}
	slot = subj_slot(t, m->subj);
	if (*slot == 0) {
		t->n[r].hnext = 0;
		*slot = r;
		return;
	}
	o = &t->n[*slot];
	/* A dummy is preferred, then a message that is no reply. */
	if ((o->seq != 0 && t->n[r].seq == 0) || (o->seq != 0 &&
	    t->n[r].seq != 0 && (o->subj & 1) && !(m->subj & 1))) {
		t->n[r].hnext = o->hnext;
		*slot = r;
	}
}

void
thread_subject_merge(struct thread_set *t, uint32_t k)
{
	uint32_t r = t->roots[k], o, *slot, c, d;
	const struct thread_node *m = first_msg(t, r);

	if (m == NULL || m->subj == 0 || t->n[r].parent != 0) {
		return;
	}
	slot = subj_slot(t, m->subj);
	o = *slot;
	if (o == 0 || o == r) {
		return;
	}
	if (t->n[o].seq == 0 && t->n[r].seq == 0) {
		/* Two dummies: r's children join o's. */
		while ((c = t->n[r].child) != 0) {
			t->n[r].child = t->n[c].next;
			link_to(t, o, c);
		}
		t->n[r].parent = THREAD_GONE;
	} else if (t->n[o].seq == 0) {
		link_to(t, o, r);
	} else if (t->n[r].seq == 0) {
		link_to(t, r, o);
		t->n[r].hnext = t->n[o].hnext;
		*slot = r;
	} else if ((m->subj & 1) && !(t->n[o].subj & 1)) {
		link_to(t, o, r);
	} else if ((d = node_new(t, 0)) != 0) {
		/* Neither is a reply of the other: a dummy over both
		 * takes o's place (a full set leaves them apart). */
		t->n[d].hnext = t->n[o].hnext;
		*slot = d;
		link_to(t, d, o);
		link_to(t, d, r);
		t->roots[t->nroots++] = d;
	}
}

void
thread_roots_compact(struct thread_set *t)
{
	uint32_t w = 0;

	for (uint32_t k = 0; k < t->nroots; k++) {
		if (t->n[t->roots[k]].parent == 0) {
			t->roots[w++] = t->roots[k];
		}
	}
	t->nroots = w;
}

int
thread_child_before(const struct thread_set *t, uint32_t a, uint32_t b)
{
	const struct thread_node *x = &t->n[a], *y = &t->n[b];

	if (x->parent != y->parent) {
		return x->parent < y->parent;
	}
	if (x->date != y->date) {
		return x->date < y->date;
	}
	return x->seq < y->seq;
}

int
thread_root_before(const struct thread_set *t, uint32_t a, uint32_t b)
{
	const struct thread_node *x = first_msg(t, a), *y = first_msg(t, b);

	if (x == NULL || y == NULL) {
		return x != NULL;
	}
	if (x->date != y->date) {
		return x->date < y->date;
	}
	return x->seq < y->seq;
}

/* --- helpers ------------------------------------------------------------ */

/* A new node (in the ID table when id != 0), or 0 when full. */
static uint32_t
node_new(struct thread_set *t, uint64_t id)
{
	uint32_t c;

	if (t->nn >= t->cap) {
		return 0;
	}
	c = t->nn++;
	memset(&t->n[c], 0, sizeof t->n[c]);
	t->n[c].id = id;
	if (id != 0) {
		uint32_t *b = &t->bucket[id & (t->nb - 1)];

		t->n[c].hnext = *b;
		*b = c;
	}
	return c;
}

static uint32_t
id_find(const struct thread_set *t, uint64_t id)
{
	uint32_t c = t->bucket[id & (t->nb - 1)];

	while (c != 0 && t->n[c].id != id) {
		c = t->n[c].hnext;
	}
	return c;
}

/* 1 when a is b or below it, or too deep to tell (no link then). */
static int
below(const struct thread_set *t, uint32_t a, uint32_t b)
{
	for (unsigned d = 0; d < IMAP_THREAD_DEPTH_MAX; d++) {
		if (a == b) {
			return 1;
		}
		if (a == 0 || t->n[a].parent == THREAD_GONE) {
			return 0;
		}
		a = t->n[a].parent;
	}
	return 1;
}

static void
link_to(struct thread_set *t, uint32_t parent, uint32_t c)
{
	t->n[c].parent = parent;
	t->n[c].next = t->n[parent].child;
	t->n[parent].child = c;
}

static void
unlink_from(struct thread_set *t, uint32_t c)
{
	uint32_t p = t->n[c].parent, *link;

	if (p == 0) {
		return;
	}
	for (link = &t->n[p].child; *link != 0; link = &t->n[*link].next) {
		if (*link == c) {
			*link = t->n[c].next;
			break;
		}
	}
	t->n[c].parent = 0;
	t->n[c].next = 0;
}

/* The message a node stands for: itself, or a dummy's first child's
 * (children are sorted by then). */
static const struct thread_node *
first_msg(const struct thread_set *t, uint32_t i)
{
	for (unsigned d = 0; i != 0 && d < IMAP_THREAD_DEPTH_MAX; d++) {
		if (t->n[i].seq != 0) {
			return &t->n[i];
		}
		i = t->n[i].child;
	}
	return NULL;
}

/* The subject table's link holding subj (or the 0 ending its chain);
 * the table reuses the ID buckets, emptied after step 2. */
static uint32_t *
subj_slot(struct thread_set *t, uint64_t subj)
{
	uint32_t *link = &t->bucket[(subj >> 1) & (t->nb - 1)];

	while (*link != 0) {
		const struct thread_node *m = first_msg(t, *link);

		if (m != NULL && (m->subj | 1) == (subj | 1)) {
			break;
		}
		link = &t->n[*link].hnext;
	}
	return link;
}
