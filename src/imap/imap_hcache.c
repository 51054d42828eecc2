/* SPDX-License-Identifier: ISC */
/*
 * imap_hcache.c - FETCH ENVELOPE and BODYSTRUCTURE (RFC 3501 6.4.5,
 * 7.4.2) through the folder's header cache (store/hcache.h): a text
 * found there is sent as it is; a missing one is written whole from
 * the MIME tree into a bounded buffer, added to the cache and sent
 * from there. A text longer than HCACHE_TEXT_MAX is not cached: the
 * caller streams it from the tree as before (imap_fetch.c), so the
 * answer is the same octets either way.
 */
#include <string.h>

#include "imap/imap_int.h"
#include "msg/mime.h"
#include "store/hcache.h"

/* The whole file is the Kconfig option IMAP_HCACHE: without it the
 * header declares stubs that always miss. */
#if WREN_IMAP_HCACHE

/* The texts last written from a tree: the second item of the same
 * message is taken from here, even when the cache could not keep it. */
static struct {
	const struct mbox *mb;
	uint32_t	uid, hash, vsize;	/* the message's now */
	int		valid;
	int		full;		/* BODYSTRUCTURE was written */
	size_t		env_len, bs_len;	/* 0: not written or too long */
	char		env[HCACHE_TEXT_MAX];
	char		bs[HCACHE_TEXT_MAX];
} rend;

static size_t	render(const struct mime *, enum mime_wr_kind, char *out,
		    size_t cap);

int
imap_hcache_ready(struct imap_session *s)
{
	if (hcache_load(s->view.mb) == 0) {
		imap_job_yield(s);
		return 0;
	}
	return 1;
}

int
imap_hcache_text(struct imap_session *s, int bs, const char **text,
    size_t *len)
{
	struct imap_job *j = &s->ws->job;
	const struct mbox_msg *m = j->msg;
	struct mbox *mb = s->view.mb;
	const struct mime *t;
	struct hcache_rec r;
	int full, had_env = 0, had_bs = 0;

	if (m == NULL) {
		return 0;
	}
	if (!(rend.valid && rend.mb == mb && rend.uid == m->uid &&
	    rend.hash == m->hash && rend.vsize == m->vsize &&
	    (rend.full || !bs))) {
		if (hcache_get(mb, m, &r) == 1) {
			if ((bs ? r.bs : r.env) != NULL) {
				*text = bs ? r.bs : r.env;
				*len = bs ? r.bs_len : r.env_len;
				return 1;
			}
			had_env = r.env != NULL;
			had_bs = r.bs != NULL;
		}
		/* The whole message is parsed when this FETCH wants its
		 * structure: both texts then go into one record. */
		full = bs || s->ws->u.fetch.items & IMAP_FETCH_BODYSTRUCTURE;
		if ((t = imap_fetch_tree(s, full)) == NULL) {
			return 0;
		}
		rend.valid = 1;
		rend.mb = mb;
		rend.uid = m->uid;
		rend.hash = m->hash;
		rend.vsize = m->vsize;
		rend.full = full;
		rend.env_len = render(t, MIME_WR_ENVELOPE, rend.env,
		    sizeof rend.env);
		rend.bs_len = full ? render(t, MIME_WR_BODYSTRUCTURE,
		    rend.bs, sizeof rend.bs) : 0;
		/* A record that would hold nothing new (a structure too
		 * long to keep) is not written again on every FETCH. */
		if ((rend.env_len > 0 && !had_env) ||
		    (rend.bs_len > 0 && !had_bs)) {
			(void)hcache_put(mb, m, rend.env_len ? rend.env : NULL,
			    rend.env_len, rend.bs_len ? rend.bs : NULL,
			    rend.bs_len);
		}
	}
	*len = bs ? rend.bs_len : rend.env_len;
	*text = bs ? rend.bs : rend.env;
	return *len > 0;
}

/* The whole text into out: its length, or 0 when it is longer than
 * cap (or empty). */
static size_t
render(const struct mime *t, enum mime_wr_kind kind, char *out, size_t cap)
{
	struct mime_wr w;
	size_t n = 0, got;

	mime_wr_init(&w, t, MIME_ROOT, kind);
	while (!mime_wr_done(&w)) {
		if (n == cap || (got = mime_wr_next(&w, t, out + n,
		    cap - n)) == 0) {
			return 0;
		}
		n += got;
	}
	return n;
}

#endif /* WREN_IMAP_HCACHE */
