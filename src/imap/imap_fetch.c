/* SPDX-License-Identifier: ISC */
/*
 * imap_fetch.c - FETCH and STORE (RFC 3501 6.4.5, 6.4.6, 6.4.8, 7.4.2)
 * as jobs that answer one message at a time, so that FETCH 1:* of a
 * large mailbox or a 30 MB body never needs more memory than one
 * output buffer: bodies are streamed from the file in IMAP_CHUNK
 * reads, bare LF sent as CR LF. ENVELOPE, BODY and BODYSTRUCTURE are
 * streamed too, written in pieces as the output drains (msg/mime.h
 * mime_wr_next): a message with hundreds of parts or huge address
 * fields gives texts of hundreds of KB, all of which is sent (as
 * Dovecot does), never an empty or cut item.
 *
 * Sizes come from the index (RFC822.SIZE = W=) and from the MIME tree
 * (msg/mime.h) for sections; the tree of the last message parsed is
 * kept, as clients usually ask for its structure and then its parts.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "imap/imap_int.h"
#include "msg/mime.h"

#define HDR_SCRATCH	65536	/* HEADER.FIELDS: the header read */
#define FIELDS_OUT_MAX	32768	/* ... and what is sent of it */

/* The MIME tree of one message at a time (tens of KB: one for all). */
static struct {
	struct mime	m;
	const struct mbox *mb;
	uint32_t	uid;
	uint32_t	hash;		/* of the file's name (mbox_msg) */
	int		full;		/* body parsed too, not just header */
	int		valid;
} tree;

static char	rbuf[IMAP_CHUNK];
static char	hdr[HDR_SCRATCH];

static void	fetch_step(struct imap_session *);
static void	fetch_abort(struct imap_session *);
static int	next_message(struct imap_session *);
static void	fetch_message(struct imap_session *);
static int	fetch_fixed(struct imap_session *);
static int	fetch_struct(struct imap_session *, unsigned k);
static int	fetch_body(struct imap_session *, unsigned k);
static int	pump(struct imap_session *);
static int	stream_pump(struct imap_session *);
static int	struct_pump(struct imap_session *);
static void	wr_save(struct imap_job *, const struct mime_wr *);
static void	wr_load(const struct imap_job *, struct mime_wr *);
static void	close_message(struct imap_session *);
static int	load_tree(struct imap_session *, int full);
static int	header_fields(struct imap_session *, off_t from, off_t to,
		    const struct imap_fetch_body *, size_t *outlen);
static void	store_message(struct imap_session *);
static void	fetch_begin(struct imap_session *);
static int	unchanged(const struct imap_session *,
		    const struct mbox_msg *);

/* --- FETCH ------------------------------------------------------------- */

void
imap_fetch_start(struct imap_session *s)
{
	struct imap_ws *ws = s->ws;
	enum imap_perr pe = imap_fetch_parse(&ws->cmd, &ws->u.fetch);

	if (pe != IMAP_PE_OK) {
		imap_tagged(s, "BAD", "%s", imap_strerror(pe));
		return;
	}
	for (unsigned i = 0; !WREN_IMAP_REV2 && i < ws->u.fetch.nbody;
	    i++) {
		if (ws->u.fetch.body[i].binary) {	/* not offered */
			imap_tagged(s, "BAD", "%s",
			    imap_strerror(IMAP_PE_FETCH_ATT));
			return;
		}
	}
	if (ws->cmd.uid) {
		ws->u.fetch.items |= IMAP_FETCH_UID;
	}
	if (ws->u.fetch.vanished && !s->qresync) {
		imap_tagged(s, "BAD", "VANISHED needs ENABLE QRESYNC");
		return;
	}
	if (imap_check_set(s, &ws->cmd.args[0]) == -1) {
		return;
	}
	if (ws->u.fetch.changedsince > 0) {	/* RFC 7162 3.1.4.1 */
		ws->u.fetch.items |= IMAP_FETCH_MODSEQ;
	}
	if (ws->u.fetch.items & IMAP_FETCH_MODSEQ) {
		s->condstore = 1;
	}
	if (ws->u.fetch.vanished && ws->u.fetch.changedsince <
	    mbox_vanished_since(s->view.mb)) {
		/* RFC 7162 3.2.6: VANISHED (EARLIER) first, a job of
		 * its own that starts the FETCH when done. */
		imap_cs_vanished(s, &ws->cmd.args[0],
		    mbox_uidnext(s->view.mb) - 1, fetch_begin);
		return;
	}
	fetch_begin(s);
}

/* The FETCH job proper, once the command is checked (and VANISHED
 * (EARLIER) is out). */
static void
fetch_begin(struct imap_session *s)
{
	struct imap_ws *ws = s->ws;
	struct imap_job *j = &ws->job;

	memset(j, 0, sizeof *j);
	j->uid = ws->cmd.uid;
	j->st.fd = -1;
	if (ws->u.fetch.nbody > 0 || ws->u.fetch.items & (IMAP_FETCH_RFC822 |
	    IMAP_FETCH_RFC822_TEXT | IMAP_FETCH_RFC822_HEADER |
	    IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY |
	    IMAP_FETCH_BODYSTRUCTURE)) {
		/* Bodies and structures: bigger writes (taken back when
		 * all has left). */
		(void)conn_out_lend(s->c, ws->stream, sizeof ws->stream);
	}
	imap_seqset_begin(&j->it, ws->cmd.args[0].p, ws->cmd.args[0].len,
	    j->uid ? mbox_view_last_uid(&s->view) : s->view.exists);
	imap_job_run(s, fetch_step, fetch_abort);
}

/* One step of a FETCH or STORE job: messages while the output has
 * room; the tagged reply at the end. */
static void
fetch_step(struct imap_session *s)
{
	struct imap_ws *ws = s->ws;
	struct imap_job *j = &ws->job;
	int store = ws->cmd.cmd == IMAP_CMD_STORE;

	if (!store && ws->u.fetch.items & (IMAP_FETCH_ENVELOPE |
	    IMAP_FETCH_BODYSTRUCTURE) && !imap_hcache_ready(s)) {
		return;			/* its file is being read */
	}
	if (j->msg != NULL) {
		/* The index may have grown or been compacted since the
		 * last step: find the message again. */
		uint32_t seq;

		j->msg = mbox_view_uid(&s->view, j->msg_uid, &seq);
		if (j->msg == NULL) {
			/* Expunged meanwhile: an item going out is
			 * finished from the open file (a literal or a
			 * structure cut short would leave the client out
			 * of step), then the response is closed. */
			j->err = 1;
		}
	}
	while (imap_room(s)) {
		if (j->streaming) {
			if (!pump(s)) {
				return;		/* the socket is full */
			}
			j->streaming = 0;
			j->item++;
		}
		if (j->msg == NULL && j->open) {
			close_message(s);
		}
		if (j->msg == NULL) {
			if (!next_message(s)) {
				break;
			}
			j->item = 0;
			j->open = 0;
		}
		if (store) {
			store_message(s);
			j->msg = NULL;
		} else {
			fetch_message(s);
		}
	}
	if (j->msg != NULL || !imap_room(s)) {
		if (!(s->c->flags & (CONN_F_DEAD | CONN_F_CLOSING))) {
			return;		/* more when the socket drains */
		}
	}
	fetch_abort(s);
	/* RFC 3501 7.4.1: no EXPUNGE now, but flags and new mail. */
	imap_updates(s, 0);
	if (store && j->modified[0] != '\0' && j->err != 2) {
		imap_tagged(s, "OK", "[MODIFIED %s] Conditional STORE failed",
		    j->modified);
	} else if (j->err == IMAP_ERR_CTE) {
		imap_tagged(s, "NO", "[UNKNOWN-CTE] Cannot decode a part's "
		    "Content-Transfer-Encoding");
	} else if (j->err) {
		imap_tagged(s, "NO", "Some messages could not be %s",
		    store ? "changed" : "read");
	} else {
		imap_tagged(s, "OK", "%s%s completed", j->uid ? "UID " : "",
		    store ? "STORE" : "FETCH");
	}
	imap_job_done(s);
}

static void
fetch_abort(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;

	if (j->st.fd != -1) {
		close(j->st.fd);
		j->st.fd = -1;
	}
	j->msg = NULL;
	j->streaming = 0;
}

/* --- walking the set ------------------------------------------------- */

/* The next message of the set into j->msg / j->seq: 1, or 0 at the
 * end. UID ranges walk the records, not every number in the range. */
static int
next_message(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;

	for (;;) {
		if (j->hi == 0 || j->cur > j->hi || j->cur == 0) {
			if (imap_seqset_next(&j->it, &j->lo, &j->hi) != 1) {
				return 0;
			}
			if (j->hi == 0) {
				continue;	/* "*" in an empty mailbox */
			}
			j->cur = j->lo == 0 ? 1 : j->lo;
		}
		if (j->uid) {
			const struct mbox_msg *m = mbox_view_uid_ge(&s->view,
			    j->cur, &j->seq);

			if (m == NULL || m->uid > j->hi) {
				j->cur = 0;
				j->hi = 0;
				continue;
			}
			j->msg = m;
			j->msg_uid = m->uid;
			j->cur = m->uid == UINT32_MAX ? 0 : m->uid + 1;
			if (j->cur == 0) {
				j->hi = 0;
			}
			if (unchanged(s, m)) {
				j->msg = NULL;
				continue;
			}
			return 1;
		}
		j->msg = mbox_view_seq(&s->view, j->cur);
		j->msg_uid = j->msg != NULL ? j->msg->uid : 0;
		j->seq = j->cur;
		j->cur = j->cur == UINT32_MAX ? 0 : j->cur + 1;
		if (j->msg != NULL && !unchanged(s, j->msg)) {
			return 1;
		}
		j->msg = NULL;
	}
}

/* --- one message ------------------------------------------------------- */

/*
 * Items in a fixed order: the small ones in one go (item 0), ENVELOPE,
 * BODY, BODYSTRUCTURE (items 1..3), then each body section (items
 * 4..nbody+3), RFC822.HEADER, RFC822.TEXT, RFC822 (nbody+4..nbody+6),
 * then the closing parenthesis. Structures and bodies may take many
 * steps (j->streaming: STREAM_BODY, STREAM_STRUCT).
 */
#define FIRST_STRUCT	1
#define FIRST_BODY	4
#define STREAM_BODY	1
#define STREAM_STRUCT	2

static void
fetch_message(struct imap_session *s)
{
	struct imap_ws *ws = s->ws;
	struct imap_job *j = &ws->job;
	struct imap_fetch *f = &ws->u.fetch;
	unsigned last = f->nbody + FIRST_BODY + 2;
	int rc;

	if (!j->open) {
		if (f->seen && !s->view.readonly && !(j->msg->flags &
		    MF_SEEN)) {
			/* \Seen first, so the FLAGS sent are the new ones
			 * (RFC 3501 6.4.5). */
			if (mbox_store(&s->view, j->msg, j->msg->flags |
			    MF_SEEN, j->msg->keywords) == 0) {
				j->set_seen = 1;
			}
		} else {
			j->set_seen = 0;
		}
		(void)imap_outf(s, "* %u FETCH (", j->seq);
		j->open = 1;
		j->item = 0;
		j->count++;
	}
	while (j->item <= last && imap_room(s)) {
		if (j->item == 0) {
			if (fetch_fixed(s) == -1) {
				j->err = 1;
			}
			j->item++;
			continue;
		}
		if (j->item < FIRST_BODY) {
			rc = fetch_struct(s, j->item - FIRST_STRUCT);
		} else {
			rc = fetch_body(s, j->item - FIRST_BODY);
		}
		if (rc != 0) {
			j->streaming = rc;
			if (!pump(s)) {
				return;	/* goes on at the next step */
			}
			j->streaming = 0;
		}
		j->item++;
	}
	if (j->item > last) {
		close_message(s);
	}
}

/* The end of one message's response. */
static void
close_message(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;

	(void)imap_out(s, ")\r\n", 3);
	if (j->st.fd != -1) {
		close(j->st.fd);
		j->st.fd = -1;
	}
	j->open = 0;
	j->msg = NULL;
}

static void
sep(struct imap_session *s)
{
	if (s->ws->job.open > 1) {
		(void)imap_out(s, " ", 1);
	}
	s->ws->job.open = 2;
}

/* Opens the message once for the items that read it. */
static int
msg_fd(struct imap_session *s, struct stat *st)
{
	struct imap_job *j = &s->ws->job;

	if (j->st.fd == -1) {
		if (j->msg == NULL) {
			return -1;	/* expunged, and not open */
		}
		j->st.fd = mbox_open_msg(s->view.mb, j->msg, st);
		return j->st.fd;
	}
	return fstat(j->st.fd, st) == 0 ? j->st.fd : -1;
}

static int
fetch_fixed(struct imap_session *s)
{
	struct imap_job *j = &s->ws->job;
	unsigned items = s->ws->u.fetch.items;
	const struct mbox_msg *m = j->msg;
	char buf[32 * MAILDIR_KEYWORDS_MAX];
	struct stat st;
	size_t n;

	if (items & IMAP_FETCH_UID) {
		sep(s);
		(void)imap_outf(s, "UID %u", m->uid);
	}
	if (items & IMAP_FETCH_FLAGS || j->set_seen) {
		n = imap_flags_fmt(s, m, buf, sizeof buf);
		sep(s);
		(void)imap_outf(s, "FLAGS %.*s", (int)n, buf);
	}
	if (items & IMAP_FETCH_INTERNALDATE) {
		if (msg_fd(s, &st) == -1) {
			return -1;
		}
		n = imap_date_fmt((int64_t)st.st_mtime, buf, sizeof buf);
		sep(s);
		(void)imap_outf(s, "INTERNALDATE \"%.*s\"", (int)n, buf);
	}
	if (items & IMAP_FETCH_RFC822_SIZE) {
		sep(s);
		(void)imap_outf(s, "RFC822.SIZE %u", m->vsize);
	}
	if (items & IMAP_FETCH_MODSEQ || (j->set_seen && s->condstore)) {
		sep(s);
		(void)imap_outf(s, "MODSEQ (%llu)", (unsigned long long)
		    mbox_modseq(s->view.mb, m));
	}
	return 0;
}

/* FETCH CHANGEDSINCE (RFC 7162 3.1.4.1) skips the others; never STORE
 * (its UNCHANGEDSINCE is a per-message test in store_message). */
static int
unchanged(const struct imap_session *s, const struct mbox_msg *m)
{
	const struct imap_ws *ws = s->ws;

	return ws->cmd.cmd == IMAP_CMD_FETCH && ws->u.fetch.changedsince >
	    0 && mbox_modseq(s->view.mb, m) <= ws->u.fetch.changedsince;
}

/*
 * Structure item k (ENVELOPE, BODY, BODYSTRUCTURE): writes its name
 * and starts the writer (STREAM_STRUCT), or nothing when k is not
 * asked for (0). A message that cannot be read gets no such item and
 * the FETCH ends in NO (RFC 3501 7.4.2 has no NIL for them).
 */
static int
fetch_struct(struct imap_session *s, unsigned k)
{
	static const unsigned bit[3] = { IMAP_FETCH_ENVELOPE,
	    IMAP_FETCH_BODY, IMAP_FETCH_BODYSTRUCTURE };
	static const char *const name[3] = { "ENVELOPE ", "BODY ",
	    "BODYSTRUCTURE " };
	static const enum mime_wr_kind kind[3] = { MIME_WR_ENVELOPE,
	    MIME_WR_BODY, MIME_WR_BODYSTRUCTURE };
	struct imap_job *j = &s->ws->job;
	struct mime_wr w;
	struct stat st;
	const char *text;
	size_t len;

	if (k >= 3 || !(s->ws->u.fetch.items & bit[k])) {
		return 0;
	}
	if (kind[k] != MIME_WR_BODY && imap_hcache_text(s,
	    kind[k] == MIME_WR_BODYSTRUCTURE, &text, &len) == 1) {
		sep(s);
		(void)imap_out(s, name[k], strlen(name[k]));
		(void)imap_out(s, text, len);
		return 0;
	}
	/* The file stays open while the text goes out: the tree can be
	 * parsed again from it even if the message is expunged. */
	if (msg_fd(s, &st) == -1 ||
	    load_tree(s, kind[k] != MIME_WR_ENVELOPE) == -1) {
		j->err = 1;
		return 0;
	}
	sep(s);
	(void)imap_out(s, name[k], strlen(name[k]));
	mime_wr_init(&w, &tree.m, MIME_ROOT, kind[k]);
	wr_save(j, &w);
	return STREAM_STRUCT;
}

/*
 * Body item k: sets up the stream and writes "NAME {n}\r\n"
 * (STREAM_BODY), or writes a complete item (0), or nothing when k is
 * not asked for (0).
 */
static int
fetch_body(struct imap_session *s, unsigned k)
{
	struct imap_ws *ws = s->ws;
	struct imap_job *j = &ws->job;
	struct imap_fetch *f = &ws->u.fetch;
	struct imap_fetch_body whole = { 0 };
	const struct imap_fetch_body *b;
	const struct mime_part *p = NULL;
	char name[512];
	const char *label = NULL;
	uint64_t size;
	off_t from, to;
	struct stat st;
	size_t nlen;

	if (k < f->nbody) {
		b = &f->body[k];
	} else {
		static const unsigned bit[3] = { IMAP_FETCH_RFC822_HEADER,
		    IMAP_FETCH_RFC822_TEXT, IMAP_FETCH_RFC822 };
		static const char *const lab[3] = { "RFC822.HEADER",
		    "RFC822.TEXT", "RFC822" };
		static const enum imap_sect_text txt[3] = { IMAP_SECT_HEADER,
		    IMAP_SECT_TEXT, IMAP_SECT_ALL };

		if (k - f->nbody >= 3 || !(f->items & bit[k - f->nbody])) {
			return 0;
		}
		whole.text = txt[k - f->nbody];
		label = lab[k - f->nbody];
		b = &whole;
	}
	if (label != NULL) {
		nlen = (size_t)fmt(name, sizeof name, "%s", label);
	} else {
		nlen = imap_fetch_body_fmt(f, b, name, sizeof name);
		if (nlen >= sizeof name) {
			nlen = 0;
		}
	}
	if (msg_fd(s, &st) == -1) {
		j->err = 1;
		sep(s);
		(void)imap_outf(s, "%.*s NIL", (int)nlen, name);
		return 0;
	}
	if (b->nparts == 0 && b->text == IMAP_SECT_ALL) {
		from = 0;
		to = st.st_size;
		size = j->msg->vsize;
	} else {
		unsigned idx, nums[IMAP_SECTION_DEPTH_MAX];

		if (load_tree(s, b->nparts > 0 || b->text ==
		    IMAP_SECT_TEXT) == -1) {
			j->err = 1;
			return 0;
		}
		for (unsigned i = 0; i < b->nparts; i++) {
			nums[i] = b->part[i];
		}
		idx = mime_find(&tree.m, nums, b->nparts);
		if (idx != MIME_NONE && b->nparts > 0 && (b->text ==
		    IMAP_SECT_HEADER || b->text == IMAP_SECT_TEXT ||
		    b->text == IMAP_SECT_HEADER_FIELDS || b->text ==
		    IMAP_SECT_HEADER_FIELDS_NOT)) {
			idx = mime_embedded(&tree.m, idx);
		}
		if (idx == MIME_NONE) {
			sep(s);
			(void)imap_outf(s, "%.*s NIL", (int)nlen, name);
			return 0;
		}
		p = &tree.m.parts[idx];
		switch (b->text) {
		case IMAP_SECT_HEADER:
		case IMAP_SECT_MIME:
			from = (off_t)p->hdr_off;
			to = (off_t)p->body_off;
			size = p->hdr_size;
			break;
		case IMAP_SECT_HEADER_FIELDS:
		case IMAP_SECT_HEADER_FIELDS_NOT: {
			size_t olen;

			if (header_fields(s, (off_t)p->hdr_off,
			    (off_t)p->body_off, b, &olen) == -1) {
				j->err = 1;
				olen = 0;
			}
			sep(s);
			(void)imap_outf(s, "%.*s {%zu}\r\n", (int)nlen, name,
			    olen);
			(void)imap_out(s, hdr, olen);
			return 0;
		}
		default:	/* ALL with parts, TEXT */
			from = (off_t)p->body_off;
			to = (off_t)p->end_off;
			size = p->body_size;
			if (b->nparts == 0) {
				/* TEXT of the message: to its end. */
				to = st.st_size;
				size = j->msg->vsize > p->hdr_size ?
				    j->msg->vsize - p->hdr_size : 0;
			}
			break;
		}
	}
	j->st.pos = from;
	j->st.end = to;
	if (b->binary) {
		int rc = imap_bin_body(s, k, &tree.m, p, size);

		if (rc >= 0) {
			return rc;
		}
	}
	j->st.skip = 0;
	j->st.left = size;
	j->st.cr = 0;
	if (b->partial) {
		j->st.skip = b->start;
		j->st.left = b->start >= size ? 0 : size - b->start;
		if (j->st.left > b->count) {
			j->st.left = b->count;
		}
	}
	sep(s);
	(void)imap_outf(s, "%.*s {%llu}\r\n", (int)nlen, name,
	    (unsigned long long)j->st.left);
	return STREAM_BODY;
}

/* Goes on with the item being streamed: 1 when done, 0 when the
 * output is full. */
static int
pump(struct imap_session *s)
{
	if (s->ws->job.streaming == STREAM_STRUCT) {
		return struct_pump(s);
	}
	if (s->ws->job.streaming == IMAP_STREAM_BIN) {
		return imap_bin_pump(s);
	}
	return stream_pump(s);
}

/*
 * The writer's place between two pieces of a structure. It lives in
 * the job's stream fields, which only a body uses otherwise (a job
 * streams one item at a time): skip holds w.off, left the rest.
 */
static void
wr_save(struct imap_job *j, const struct mime_wr *w)
{
	j->st.skip = w->off;
	j->st.left = (uint64_t)w->top | (uint64_t)w->idx << 16 |
	    (uint64_t)w->kind << 32 | (uint64_t)w->step << 40 |
	    (uint64_t)w->field << 48;
}

static void
wr_load(const struct imap_job *j, struct mime_wr *w)
{
	memset(w, 0, sizeof *w);
	w->off = (size_t)j->st.skip;
	w->top = (uint16_t)j->st.left;
	w->idx = (uint16_t)(j->st.left >> 16);
	w->kind = (uint8_t)(j->st.left >> 32);
	w->step = (uint8_t)(j->st.left >> 40);
	w->field = (uint8_t)(j->st.left >> 48);
}

/*
 * Sends a structure's text as the socket takes it: 1 when done, 0
 * when the output is full. The tree may have been parsed for another
 * message meanwhile (it is shared): it is parsed again from the open
 * file, which gives the same tree, so the text goes on where it was.
 * A piece costs one output buffer and about one part's text of work.
 */
static int
struct_pump(struct imap_session *s)
{
	static char out[IMAP_STREAM_BUF];
	struct imap_job *j = &s->ws->job;
	struct conn *c = s->c;
	struct mime_wr w;
	size_t room, n;

	wr_load(j, &w);
	while (!mime_wr_done(&w)) {
		room = buf_room(&c->out);
		if (s->ws->spill_len > 0 || room == 0 ||
		    (c->flags & (CONN_F_CLOSING | CONN_F_DEAD))) {
			wr_save(j, &w);
			return 0;
		}
		if (load_tree(s, w.kind != MIME_WR_ENVELOPE) == -1) {
			/* Half a structure is out: the client cannot be
			 * told in step any more. */
			conn_log(c, LOG_LVL_WARN, "%s: message unreadable in "
			    "the middle of its structure; closing",
			    s->selected);
			conn_abort(c);
			return 0;
		}
		if (room > sizeof out) {
			room = sizeof out;
		}
		n = mime_wr_next(&w, &tree.m, out, room);
		if (n > 0) {
			(void)conn_write(c, out, n);
		}
	}
	return 1;
}

/*
 * Sends the stream's octets as the socket takes them: 1 when done, 0
 * when the output is full. If the file holds fewer octets than its
 * size said, spaces keep the literal's length (the protocol must not
 * lose step); the mismatch is logged.
 */
static int
stream_pump(struct imap_session *s)
{
	static char out[IMAP_STREAM_BUF];
	struct imap_stream *st = &s->ws->job.st;
	struct conn *c = s->c;

	while (st->left > 0) {
		size_t room = buf_room(&c->out), want, o = 0;
		ssize_t n, i;

		if (s->ws->spill_len > 0 || room < 2) {
			return 0;
		}
		if (room > sizeof out) {
			room = sizeof out;
		}
		/* One read fills the output: octets are converted until
		 * it is full, and pos moves by the octets used. */
		want = room < sizeof rbuf ? room : sizeof rbuf;
		if ((uint64_t)(st->end - st->pos) < want) {
			want = (size_t)(st->end - st->pos);
		}
		n = want > 0 ? pread(st->fd, rbuf, want, st->pos) : 0;
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			/* The file holds less than its size said: spaces
			 * keep the literal's length. */
			size_t pad = st->left < room ? (size_t)st->left : room;

			conn_log(c, LOG_LVL_WARN, "%s: message shorter than "
			    "its size; padded", s->selected);
			memset(out, ' ', pad);
			(void)conn_write(c, out, pad);
			st->left -= pad;
			st->pos = st->end;
			continue;
		}
		i = 0;
		/* A <partial> start: octet by octet until it is passed. */
		for (; i < n && st->skip > 0; i++) {
			if (rbuf[i] == '\n' && !st->cr && --st->skip == 0) {
				/* The bare LF's CR was the last octet
				 * skipped: its LF goes out. */
				out[o++] = '\n';
				st->left--;
				st->cr = 0;
				i++;
				break;
			}
			if (st->skip > 0) {
				st->skip--;
				st->cr = rbuf[i] == '\r';
			}
		}
		/* Runs between line ends are copied whole. */
		while (i < n && st->left > 0 && st->skip == 0) {
			const char *nl = memchr(rbuf + i, '\n', (size_t)(n - i));
			size_t run = nl ? (size_t)(nl - (rbuf + i)) :
			    (size_t)(n - i), k = run;

			if (k > room - o) {
				k = room - o;
			}
			if (k > st->left) {
				k = (size_t)st->left;
			}
			memcpy(out + o, rbuf + i, k);
			o += k;
			i += (ssize_t)k;
			st->left -= k;
			if (k > 0) {
				st->cr = rbuf[i - 1] == '\r';
			}
			if (k < run || nl == NULL || st->left == 0) {
				break;	/* output full, all used, or done */
			}
			if (o + (st->cr ? 1 : 2) > room) {
				break;
			}
			if (!st->cr) {
				out[o++] = '\r';
				if (--st->left == 0) {
					break;
				}
			}
			out[o++] = '\n';
			st->left--;
			st->cr = 0;
			i++;
		}
		st->pos += i;
		if (o > 0) {
			(void)conn_write(c, out, o);
		}
	}
	return 1;
}

const struct mime *
imap_fetch_tree(struct imap_session *s, int full)
{
	return load_tree(s, full) == 0 ? &tree.m : NULL;
}

/* The MIME tree of the current message: its header only (ENVELOPE,
 * BODY[HEADER]) or all of it. */
static int
load_tree(struct imap_session *s, int full)
{
	struct imap_job *j = &s->ws->job;
	struct stat st;
	off_t pos = 0;
	int fd;

	/* The name's hash too: a UID given to another file (a rebuilt
	 * dovecot-uidlist) is another message. */
	if (tree.valid && tree.mb == s->view.mb && tree.uid == j->msg_uid &&
	    (j->msg == NULL || tree.hash == j->msg->hash) &&
	    (tree.full || !full)) {
		return 0;
	}
	if ((fd = msg_fd(s, &st)) == -1) {
		return -1;
	}
	tree.valid = 0;
	mime_init(&tree.m);
	for (;;) {
		ssize_t n = pread(fd, rbuf, sizeof rbuf, pos);

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -1;
		}
		if (n == 0) {
			full = 1;	/* read it all anyway */
			break;
		}
		if (!full) {
			/* Up to the end of the header: the first empty
			 * line. */
			const char *e = NULL;

			for (ssize_t i = 0; i + 1 < n; i++) {
				if (rbuf[i] == '\n' && (rbuf[i + 1] == '\n' ||
				    (rbuf[i + 1] == '\r' && i + 2 < n &&
				    rbuf[i + 2] == '\n'))) {
					e = rbuf + i + (rbuf[i + 1] == '\n' ?
					    2 : 3);
					break;
				}
			}
			if (e != NULL) {
				mime_feed(&tree.m, rbuf, (size_t)(e - rbuf));
				break;
			}
		}
		mime_feed(&tree.m, rbuf, (size_t)n);
		pos += n;
	}
	mime_finish(&tree.m);
	tree.mb = s->view.mb;
	tree.uid = j->msg_uid;
	tree.hash = j->msg != NULL ? j->msg->hash : 0;
	tree.full = full;
	tree.valid = 1;
	return 0;
}

/* RFC 3501 6.4.5 HEADER.FIELDS (NOT): the matching fields, their
 * continuation lines with them, then the empty line; into hdr[]. */
static int
header_fields(struct imap_session *s, off_t from, off_t to,
    const struct imap_fetch_body *b, size_t *outlen)
{
	const struct imap_fetch *f = &s->ws->u.fetch;
	static char raw[HDR_SCRATCH];
	size_t len = (size_t)(to - from), o = 0;
	int keep = 0;
	ssize_t n;

	if (len > sizeof raw) {
		len = sizeof raw;	/* a monster header: its start */
	}
	n = pread(s->ws->job.st.fd, raw, len, from);
	if (n < 0) {
		return -1;
	}
	for (size_t i = 0; i < (size_t)n;) {
		const char *line = raw + i, *nl = memchr(line, '\n',
		    (size_t)n - i);
		size_t ll = nl ? (size_t)(nl - line) : (size_t)n - i;

		i += ll + (nl != NULL);
		if (ll > 0 && line[ll - 1] == '\r') {
			ll--;
		}
		if (ll == 0) {
			break;		/* the empty line */
		}
		if (line[0] != ' ' && line[0] != '\t') {
			const char *colon = memchr(line, ':', ll);
			size_t name = colon ? (size_t)(colon - line) : ll;
			int match = 0;

			while (name > 0 && (line[name - 1] == ' ' ||
			    line[name - 1] == '\t')) {
				name--;
			}
			for (unsigned k = 0; k < b->nfields; k++) {
				const struct imap_str *fn = &f->field[b->field0 +
				    k];

				if (fn->len == name && strncasecmp(fn->p, line,
				    name) == 0) {
					match = 1;
					break;
				}
			}
			keep = colon != NULL && (b->text ==
			    IMAP_SECT_HEADER_FIELDS ? match : !match);
		}
		if (keep && o + ll + 4 <= FIELDS_OUT_MAX) {
			memcpy(hdr + o, line, ll);
			o += ll;
			hdr[o++] = '\r';
			hdr[o++] = '\n';
		}
	}
	hdr[o++] = '\r';
	hdr[o++] = '\n';
	*outlen = o;
	return 0;
}

/* --- STORE --------------------------------------------------------------- */

void
imap_store_start(struct imap_session *s)
{
	struct imap_ws *ws = s->ws;
	struct imap_job *j = &ws->job;
	struct imap_store *st = &ws->u.store;
	enum imap_perr pe = imap_store_parse(&ws->cmd, st);

	if (pe != IMAP_PE_OK) {
		imap_tagged(s, "BAD", "%s", imap_strerror(pe));
		return;
	}
	if (s->view.readonly) {
		imap_tagged(s, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (imap_check_set(s, &ws->cmd.args[0]) == -1) {
		return;
	}
	memset(j, 0, sizeof *j);
	j->st.fd = -1;
	/* Keywords to letters now: a new one goes into dovecot-keywords
	 * before any file is renamed to carry it. */
	for (unsigned i = 0; i < st->nkw; i++) {
		int k = mbox_keyword(s->view.mb, st->kw[i].p, st->kw[i].len,
		    st->op != IMAP_STORE_REMOVE);

		if (k >= 0) {
			j->kwmask |= 1u << k;
		} else if (st->op != IMAP_STORE_REMOVE) {
			imap_tagged(s, "NO", "[LIMIT] Too many keywords in "
			    "this mailbox");
			return;
		}
	}
	j->uid = ws->cmd.uid;
	if (st->unchanged) {
		s->condstore = 1;	/* RFC 7162 3.1 */
	}
	imap_seqset_begin(&j->it, ws->cmd.args[0].p, ws->cmd.args[0].len,
	    j->uid ? mbox_view_last_uid(&s->view) : s->view.exists);
	imap_job_run(s, fetch_step, fetch_abort);
}


static void
store_message(struct imap_session *s)
{
	struct imap_ws *ws = s->ws;
	struct imap_job *j = &ws->job;
	const struct imap_store *st = &ws->u.store;
	const struct mbox_msg *m = j->msg;
	unsigned flags = m->flags, mf = imap_mf_flags(st->flags);
	uint32_t kw = m->keywords, mask = j->kwmask;
	char buf[32 * MAILDIR_KEYWORDS_MAX];
	size_t n;

	switch (st->op) {
	case IMAP_STORE_SET:
		/* Only the IMAP flags change; P and unknown letters stay. */
		flags = (flags & ~(unsigned)(MF_SEEN | MF_REPLIED | MF_FLAGGED |
		    MF_TRASHED | MF_DRAFT)) | mf;
		kw = mask;
		break;
	case IMAP_STORE_ADD:
		flags |= mf;
		kw |= mask;
		break;
	case IMAP_STORE_REMOVE:
		flags &= ~mf;
		kw &= ~mask;
		break;
	}
	if (st->unchanged && mbox_modseq(s->view.mb, m) > st->unchangedsince) {
		/* RFC 7162 3.1.3: changed since, not stored (UIDs for
		 * UID STORE, else sequence numbers: both in order) */
		imap_cs_modified(s, j->uid ? m->uid : j->seq);
		return;
	}
	if (mbox_store(&s->view, m, flags, kw) == -1) {
		j->err = 1;
		return;
	}
	if (s->condstore) {
		char ms[48];

		(void)fmt(ms, sizeof ms, " MODSEQ (%llu)", (unsigned long long)
		    mbox_modseq(s->view.mb, m));
		n = imap_flags_fmt(s, m, buf, sizeof buf);
		if (st->silent) {
			n = 0;	/* MODSEQ alone (RFC 7162 3.1.3) */
		}
		(void)imap_outf(s, "* %u FETCH (UID %u%s%.*s%s)\r\n", j->seq,
		    m->uid, n ? " FLAGS " : "", (int)n, buf, ms);
	} else if (!st->silent) {
		n = imap_flags_fmt(s, m, buf, sizeof buf);
		if (j->uid) {
			(void)imap_outf(s, "* %u FETCH (UID %u FLAGS %.*s)\r\n",
			    j->seq, m->uid, (int)n, buf);
		} else {
			(void)imap_outf(s, "* %u FETCH (FLAGS %.*s)\r\n",
			    j->seq, (int)n, buf);
		}
	}
}
