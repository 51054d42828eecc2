/* SPDX-License-Identifier: ISC */
/*
 * imap_thread.h - the trees of THREAD=ORDEREDSUBJECT and
 * THREAD=REFERENCES (RFC 5256 3), built in caller-given arrays so
 * that imap_sort.c can run every step a slice at a time: each step is
 * a function of one index, called for every index of its range.
 *
 * A node is a message or an ID only referenced (a dummy: seq 0).
 * Index 0 is no node. Children are a list (child, then next).
 */
#ifndef WREN_IMAP_THREAD_H
#define WREN_IMAP_THREAD_H

#include <stddef.h>
#include <stdint.h>

#define THREAD_GONE	UINT32_MAX	/* parent of a node taken out */

struct thread_node {
	uint64_t	id;	/* hash of its Message-ID, 0: none */
	uint64_t	subj;	/* hash of its base subject, low bit:
				 * a reply or forward; 0: empty */
	uint32_t	parent, child, next;
	uint32_t	hnext;	/* chain of a hash bucket */
	uint32_t	seq;	/* 0: dummy */
	uint32_t	date;	/* sent date, seconds since 1970 */
};

struct thread_set {
	struct thread_node	*n;
	uint32_t		 nn, cap;	/* nodes 1..nn-1 used */
	uint32_t		*bucket;	/* nb, a power of two */
	uint32_t		 nb;
	uint32_t		*roots;
	uint32_t		 nroots;
};

/* Empty set over the arrays (bucket zeroed here). */
void	thread_init(struct thread_set *, struct thread_node *, uint32_t cap,
	    uint32_t *bucket, uint32_t nb, uint32_t *roots);

/* REFERENCES step 1 for one message (seqs in increasing order): its
 * Message-ID hash (0: none), its References value (raw; NULL or
 * empty: in_reply_to, the hash of In-Reply-To's first ID, 0: none)
 * are linked; `left` messages are still to come (nodes are kept for
 * them). Returns its node. */
uint32_t	thread_add(struct thread_set *, uint32_t seq, uint32_t date,
		    uint64_t subj, uint64_t id, const char *refs,
		    size_t refs_len, uint64_t in_reply_to, uint32_t left);

/* A node for a message without links (ORDEREDSUBJECT). */
uint32_t	thread_add_plain(struct thread_set *, uint32_t seq,
		    uint32_t date, uint64_t subj);

/* Step 2 (node i): i joins the roots when it has no parent. */
void	thread_root_of(struct thread_set *, uint32_t i);
/* Step 4 (node i): dummies among i's children give way to theirs. */
void	thread_prune(struct thread_set *, uint32_t i);
/* Step 4 for the roots (all at once, O(roots)): a dummy root with no
 * child goes, one with one child gives it its place. */
void	thread_prune_roots(struct thread_set *);
/* Step 6 (root k, first pass then second pass over the sorted
 * roots): the subject table, then merges. */
void	thread_subject_add(struct thread_set *, uint32_t k);
void	thread_subject_merge(struct thread_set *, uint32_t k);
/* Drops the roots taken out by merges. */
void	thread_roots_compact(struct thread_set *);

/* Sort keys: node a before b (sibling order and root order). */
int	thread_child_before(const struct thread_set *, uint32_t a,
	    uint32_t b);
int	thread_root_before(const struct thread_set *, uint32_t a,
	    uint32_t b);

#endif
