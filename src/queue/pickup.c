/* SPDX-License-Identifier: ISC */
/*
 * pickup.c - maildrop/ to the queue, on the event loop (see pickup.h).
 * RFC 5321 4.4 for the Received: trace line added to each message.
 *
 * The files' durability is the store's (store/txn.h): pickup writes
 * queue/tmp/<id> and <id>.env, commits them in one transaction and
 * removes the maildrop file only from the callback of the file's last
 * entry, so at any moment either the maildrop file or the whole queue
 * entry is there (never a partial entry: the envelope is renamed
 * last), and a re-run after a crash finds env/<id> and skips it.
 *
 * A message from a local domain with a DKIM key (tls/dkim_sign.h) is
 * signed as it is copied: read from the maildrop file through a
 * dkim_stream into queue/tmp/<id> (the signature's placeholder at the
 * end of the header), then the signature written over it. Otherwise
 * the kernel copies it. `wren sendmail` added Date: and Message-ID:.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>		/* NAME_MAX */
#include <stdio.h>		/* renameat */
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "map/resolve.h"
#include "msg/date.h"
#include "queue/envelope.h"
#include "queue/maildrop.h"
#include "queue/pickup.h"
#include "queue/spool.h"
#include "store/maildir.h"
#include "store/txn.h"
#include "tls/dkim_sign.h"

#define PICKUP_PATH_MAX		(CFG_PATH_MAX + 32)
#define PICKUP_STEP_MS		1	/* next file: next loop turn */
#define RECEIVED_MAX		(CFG_HOST_MAX + 160)
#define CLIENT_MAX		32	/* "local (uid 4294967294)" */
#define COPY_BUF		8192	/* a signed copy's reads */

/* What looking at one file came to. */
enum take_rc {
	TAKE_DONE,		/* queued (or gone) and removed */
	TAKE_BAD,		/* moved aside */
	TAKE_LATER,		/* left for a retry */
	TAKE_BUSY		/* in progress: the callbacks go on */
};

/* What one queue entry of the file in progress came to. */
enum chunk_rc {
	CHUNK_COMMITTED,	/* its transaction is in the store */
	CHUNK_QUEUED,		/* queued before a crash: skipped */
	CHUNK_BAD,		/* the envelope formatter refused it */
	CHUNK_LATER		/* a failure that may pass */
};

/* The file in progress. */
enum cur_state {
	CUR_IDLE,		/* none */
	CUR_WRITE,		/* its next entry is written next turn */
	CUR_COMMIT		/* an entry's transaction in the store */
};

/* The one file being taken: its entries are written and committed one
 * after another; the file goes when the last one is durable. */
struct cur {
	enum cur_state		 state;
	char			 name[NAME_MAX + 1];
	int			 fd;
	uint32_t		 uid;		/* the file's owner */
	int64_t			 arrival;
	uint64_t		 msglen;	/* without its header */
	size_t			 next;		/* first recipient not
						 * yet queued */
	/* The entry committed (CUR_COMMIT). */
	char			 id[ENVELOPE_ID_MAX + 1];
	size_t			 n;		/* its recipients */
	uint64_t		 size;
	struct store_txn	 txn;
	struct store_file	 f[2];		/* msg, then env */
	char			 tmp_msg[SPOOL_PATH_MAX];
	char			 fin_msg[SPOOL_PATH_MAX];
	char			 tmp_env[SPOOL_PATH_MAX];
	char			 fin_env[SPOOL_PATH_MAX];
};

static struct {
	struct ev		*ev;
	const struct cfg	*cfg;
	char			 dir[PICKUP_PATH_MAX]; /* maildrop/ */
	int			 dirfd;
	int			 ifd;		/* inotify */
	int			 txn_up;	/* a store user */
	DIR			*scan;		/* rewound each time */
	int			 scanning;
	int			 dirty;		/* events since the
						 * scan began */
	int			 failed;	/* a TAKE_LATER */
	int			 bad_ok;	/* bad/ is ours */
	struct timer		 step;
	struct cur		 cur;
	/* A file whose entries before resume_next were queued when a
	 * later one failed: its retry starts there. */
	char			 resume[NAME_MAX + 1];
	size_t			 resume_next;
	struct dkim_stream	 dkim;		/* a signed copy */
	/* The file in progress: its header, the envelope written. */
	char			 head[MAILDROP_HEAD_MAX];
	struct maildrop_env	 env;
	struct envelope_spec_rcpt rcpt[ENVELOPE_RCPT_MAX];
	char			 envtext[ENVELOPE_WRITE_MAX];
} pk;		/* zero, so it takes no room in the binary: the fds
		 * are set to -1 by pickup_init */

static int		data_dir_reachable(const char *);
static int		maildrop_dir(struct err *);
static void		inotify_ready(struct ev *, int, unsigned, void *);
static void		step(struct timer *, void *);
static void		arm(uint64_t);
static void		stale(const char *);
static enum take_rc	take(const char *);
static void		file_next(void);
static void		file_end(int);
static void		committed(void *, int);
static enum chunk_rc	chunk_start(size_t, size_t);
static enum chunk_rc	chunk_queued(void);
static int		write_msg(int, const char *, size_t, uint64_t *);
static int		copy_signed(int, int, const struct dkim_key *,
			    const char *, uint64_t *);
static int		out_write(void *, const char *, size_t);
static int		write_env(const struct envelope_spec *);
static void		bad(const char *, const char *);

int
pickup_init(struct ev *ev, struct conn_table *table, const struct cfg *cfg,
    struct err *e)
{
	const char *dd = cfg_str(cfg, CFG_DATA_DIR);

	pk.ev = ev;
	pk.cfg = cfg;
	pk.dirfd = pk.ifd = pk.cur.fd = -1;
	pk.cur.state = CUR_IDLE;
	timer_init(&pk.step, step, NULL);
	if (spool_init(dd, e) == -1) {
		goto fail;
	}
	if (fmt(pk.dir, sizeof pk.dir, "%s/maildrop", dd) >=
	    (int)sizeof pk.dir) {
		err_set(e, "%s: path too long", dd);
		goto fail;
	}
	if (data_dir_reachable(dd) == -1) {
		err_set(e, "%s: %s", dd, strerror(errno));
		goto fail;
	}
	if (maildrop_dir(e) == -1 || store_txn_init(ev, table, e) == -1) {
		goto fail;
	}
	pk.txn_up = 1;
	pk.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (pk.ifd == -1 || inotify_add_watch(pk.ifd, pk.dir, IN_MOVED_TO |
	    IN_CLOSE_WRITE | IN_ONLYDIR | IN_DONT_FOLLOW) == -1 ||
	    ev_add_fd(ev, pk.ifd, EV_READ, inotify_ready, NULL) == -1) {
		err_set(e, "%s: inotify: %s", pk.dir, strerror(errno));
		if (pk.ifd != -1) {
			close(pk.ifd);	/* not watched: no ev_del_fd */
			pk.ifd = -1;
		}
		goto fail;
	}
	pk.dirty = 1;
	arm(0);
	log_info("pickup: watching %s", pk.dir);
	return 0;
fail:
	pickup_shutdown();
	return -1;
}

void
pickup_shutdown(void)
{
	if (pk.ev == NULL) {
		return;		/* never started */
	}
	ev_timer_cancel(pk.ev, &pk.step);
	/* Not renamed yet: its tmp/ files go. Renamed and not called
	 * back: the entry stays, and so does the maildrop file, which
	 * the next start finds queued and removes. */
	if (pk.cur.state == CUR_COMMIT && pk.cur.txn.state !=
	    STORE_TXN_IDLE && pk.cur.txn.placed == 0) {
		store_txn_cancel(&pk.cur.txn);
	}
	if (pk.cur.fd != -1) {
		close(pk.cur.fd);
		pk.cur.fd = -1;
	}
	pk.cur.state = CUR_IDLE;
	if (pk.txn_up) {
		store_txn_shutdown();
		pk.txn_up = 0;
	}
	if (pk.ifd != -1) {
		ev_del_fd(pk.ev, pk.ifd);
		close(pk.ifd);
		pk.ifd = -1;
	}
	if (pk.scan != NULL) {
		closedir(pk.scan);
		pk.scan = NULL;
	}
	if (pk.dirfd != -1) {
		close(pk.dirfd);
		pk.dirfd = -1;
	}
	pk.ev = NULL;
}

/* data_dir is made 0700 by serve; others need to pass it (x, not r)
 * to reach maildrop/. Only the owner may change the mode: when that is
 * not us, the mode is left to the administrator. */
static int
data_dir_reachable(const char *dd)
{
	struct stat st;

	if (stat(dd, &st) == -1) {
		return -1;
	}
	if ((st.st_mode & 0011) == 0011 || st.st_uid != geteuid()) {
		return 0;
	}
	if (chmod(dd, (st.st_mode & 07777) | 0011) == -1) {
		return -1;
	}
	log_info("pickup: %s is now searchable by others (g+x, o+x) so "
	    "that local users reach maildrop/", dd);
	return 0;
}

/* maildrop/ (MAILDROP_MODE, our group) and maildrop/bad/ (0700). A
 * maildrop/ that is a link or someone else's is refused: its files
 * would be theirs to swap. */
static int
maildrop_dir(struct err *e)
{
	struct stat st;
	int fd;

	if (mkdir(pk.dir, 0700) == -1 && errno != EEXIST) {
		return err_set(e, "%s: %s", pk.dir, strerror(errno));
	}
	pk.dirfd = open(pk.dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (pk.dirfd == -1 || fstat(pk.dirfd, &st) == -1) {
		return err_set(e, "%s: %s", pk.dir, strerror(errno));
	}
	if (st.st_uid != geteuid()) {
		return err_set(e, "%s: owned by uid %u, not by the server "
		    "(uid %u)", pk.dir, (unsigned)st.st_uid,
		    (unsigned)geteuid());
	}
	/* Files take the directory's group: it must be ours to read
	 * them; chown may clear the set-group-id bit, so chmod after. */
	if ((st.st_gid != getegid() && fchown(pk.dirfd, (uid_t)-1,
	    getegid()) == -1) || fchmod(pk.dirfd, MAILDROP_MODE) == -1) {
		return err_set(e, "%s: %s", pk.dir, strerror(errno));
	}
	if (mkdirat(pk.dirfd, "bad", 0700) == -1 && errno != EEXIST) {
		return err_set(e, "%s/bad: %s", pk.dir, strerror(errno));
	}
	pk.bad_ok = fstatat(pk.dirfd, "bad", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_uid == geteuid();
	if (!pk.bad_ok) {
		log_warnx("pickup: %s/bad is not a directory of ours: bad "
		    "files will be removed, not kept", pk.dir);
	}
	fd = dup(pk.dirfd);
	if (fd == -1 || (pk.scan = fdopendir(fd)) == NULL) {
		err_set(e, "%s: %s", pk.dir, strerror(errno));
		if (fd != -1) {
			close(fd);
		}
		return -1;
	}
	return 0;
}

/* Events only say "look again": the scan finds the files, so an
 * overflowed inotify queue loses nothing. */
static void
inotify_ready(struct ev *ev, int fd, unsigned what, void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(
	    struct inotify_event))));

	(void)ev;
	(void)what;
	(void)arg;
	while (read(fd, buf, sizeof buf) > 0) {
		continue;
	}
	pk.dirty = 1;
	if (!pk.scanning) {
		arm(0);
	}
}

static void
arm(uint64_t ms)
{
	if (ev_timer_in(pk.ev, &pk.step, ms) == -1) {
		log_errorx("pickup: timer heap full: maildrop/ is taken "
		    "at the next event");
	}
}

/* One loop turn's work: one queue entry written, or up to
 * PICKUP_SCAN_BATCH entries looked at. While a file is in progress
 * the scan waits for it: the store's callback arms the next step. */
static void
step(struct timer *t, void *arg)
{
	struct dirent *de;

	(void)t;
	(void)arg;
	if (pk.cur.state == CUR_COMMIT) {
		return;
	}
	if (pk.cur.state == CUR_WRITE) {
		file_next();
		if (pk.cur.state == CUR_IDLE) {
			arm(PICKUP_STEP_MS);	/* the scan goes on */
		}
		return;
	}
	if (!pk.scanning) {
		rewinddir(pk.scan);
		pk.scanning = 1;
		pk.dirty = 0;
		pk.failed = 0;
	}
	for (int n = 0; n < PICKUP_SCAN_BATCH; n++) {
		errno = 0;
		de = readdir(pk.scan);
		if (de == NULL) {
			if (errno != 0) {
				log_warn("pickup: %s", pk.dir);
			}
			pk.scanning = 0;
			if (pk.dirty) {
				arm(PICKUP_STEP_MS);
			} else if (pk.failed) {
				arm(PICKUP_RETRY_MS);
			}
			return;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, "bad") == 0) {
			continue;
		}
		if (de->d_name[0] == '.') {
			stale(de->d_name);
			continue;
		}
		switch (take(de->d_name)) {
		case TAKE_LATER:
			pk.failed = 1;
			break;
		case TAKE_BUSY:
			return;		/* the callback arms the timer */
		default:
			break;
		}
		break;
	}
	arm(PICKUP_STEP_MS);
}

/* A .<name> being written by sendmail; one older than MAILDROP_STALE_S
 * was left by a sendmail that died. */
static void
stale(const char *name)
{
	struct stat st;

	if (fstatat(pk.dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_mtime < time(NULL) - MAILDROP_STALE_S &&
	    unlinkat(pk.dirfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR :
	    0) == 0) {
		log_info("pickup: removed maildrop/%s, left %lld s ago by "
		    "uid %u", name, (long long)(time(NULL) - st.st_mtime),
		    (unsigned)st.st_uid);
	}
}

/* Checks the file and makes it the one in progress, its first entry
 * written and committed (or not: TAKE_DONE/BAD/LATER at once). */
static enum take_rc
take(const char *name)
{
	uint64_t limit = (uint64_t)cfg_num(pk.cfg, CFG_MESSAGE_SIZE_LIMIT);
	struct maildrop_env *env = &pk.env;
	struct cur *c = &pk.cur;
	enum maildrop_err err;
	struct stat st;
	size_t want, len = strlen(name);
	ssize_t n;
	int64_t now = (int64_t)time(NULL);
	int fd;

	if (len >= sizeof c->name) {
		bad(name, "name too long");	/* NAME_MAX: cannot be */
		return TAKE_BAD;
	}
	fd = openat(pk.dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT) {
			return TAKE_DONE;	/* gone meanwhile */
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
			log_warn("pickup: maildrop/%s", name);
			return TAKE_LATER;
		}
		bad(name, strerror(errno));
		return TAKE_BAD;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("pickup: maildrop/%s", name);
		close(fd);
		return TAKE_LATER;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		bad(name, S_ISREG(st.st_mode) ? "a file with other links" :
		    "not a regular file");
		return TAKE_BAD;
	}
	if ((uint64_t)st.st_size > limit + MAILDROP_HEAD_MAX) {
		close(fd);
		bad(name, "larger than message_size_limit");
		return TAKE_BAD;
	}
	want = (uint64_t)st.st_size < sizeof pk.head ? (size_t)st.st_size :
	    sizeof pk.head;
	n = pread(fd, pk.head, want, 0);
	if (n == -1) {
		log_warn("pickup: maildrop/%s", name);
		close(fd);
		return TAKE_LATER;
	}
	err = maildrop_parse(pk.head, (size_t)n, env);
	if (err != MAILDROP_OK) {
		close(fd);
		bad(name, maildrop_strerror(err));
		return TAKE_BAD;
	}
	if ((uint64_t)st.st_size - env->head_len > limit) {
		close(fd);
		bad(name, "larger than message_size_limit");
		return TAKE_BAD;
	}
	if (env->uid != st.st_uid) {
		log_info("pickup: maildrop/%s says uid %u, its owner is "
		    "uid %u: the owner is used", name, (unsigned)env->uid,
		    (unsigned)st.st_uid);
	}
	memcpy(c->name, name, len + 1);
	c->fd = fd;
	c->uid = (uint32_t)st.st_uid;
	/* The submission time, but never in the future (it is the
	 * submitter's word; queue_lifetime counts from it). */
	c->arrival = env->arrival < now ? env->arrival : now;
	c->msglen = (uint64_t)st.st_size - env->head_len;
	c->next = 0;
	if (strcmp(pk.resume, name) == 0) {
		if (pk.resume_next < env->nrcpt) {
			c->next = pk.resume_next;
		}
		pk.resume[0] = '\0';
	}
	c->state = CUR_WRITE;
	file_next();
	switch (c->state) {
	case CUR_IDLE:
		return pk.failed ? TAKE_LATER : TAKE_DONE;
	default:
		return TAKE_BUSY;
	}
}

/*
 * The file in progress: its next entry written and committed, or,
 * when every entry is queued, the file removed. Entries found queued
 * before a crash are skipped here (a stat each, so the loop is
 * short); writing one ends the turn.
 */
static void
file_next(void)
{
	struct cur *c = &pk.cur;

	while (c->next < pk.env.nrcpt) {
		size_t left = pk.env.nrcpt - c->next;

		c->n = left < ENVELOPE_RCPT_MAX ? left : ENVELOPE_RCPT_MAX;
		switch (chunk_start(c->next, c->n)) {
		case CHUNK_COMMITTED:
			c->state = CUR_COMMIT;
			return;
		case CHUNK_QUEUED:
			c->next += c->n;
			continue;
		case CHUNK_BAD:
			file_end(0);
			bad(c->name, "refused by the envelope formatter");
			return;
		case CHUNK_LATER:
			file_end(1);
			return;
		}
	}
	if (unlinkat(pk.dirfd, c->name, 0) == -1 && errno != ENOENT) {
		/* Queued; the next scan finds env/<id> and retries this. */
		log_warn("pickup: maildrop/%s: unlink", c->name);
		file_end(1);
		return;
	}
	file_end(0);
}

/* The file in progress is done with (failed: left for a retry, and its
 * entries already queued remembered). */
static void
file_end(int failed)
{
	struct cur *c = &pk.cur;

	if (failed) {
		pk.failed = 1;
		if (c->next > 0) {
			if (pk.resume[0] != '\0' &&
			    strcmp(pk.resume, c->name) != 0) {
				log_warnx("pickup: maildrop/%s: forgetting "
				    "which of its entries are queued",
				    pk.resume);
			}
			memcpy(pk.resume, c->name, sizeof pk.resume);
			pk.resume_next = c->next;
		}
	}
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	c->state = CUR_IDLE;
}

/* The store's callback for the entry committed: durable in the queue
 * (err 0), or nothing of it left. Called from a commit round. */
static void
committed(void *arg, int err)
{
	struct cur *c = arg;

	if (err != 0) {
		log_warnx("pickup: maildrop/%s: queueing %s: %s; retried "
		    "later", c->name, c->id, strerror(err));
		file_end(1);
		arm(PICKUP_STEP_MS);	/* the scan goes on */
		return;
	}
	log_info("pickup: %s: from=<%s> uid=%u nrcpt=%zu size=%llu "
	    "(maildrop/%s)", c->id, pk.env.sender, (unsigned)c->uid, c->n,
	    (unsigned long long)c->size, c->name);
	c->next += c->n;
	if (c->next < pk.env.nrcpt) {
		c->state = CUR_WRITE;	/* the next entry, next turn */
	} else {
		file_next();		/* removes the maildrop file */
	}
	arm(PICKUP_STEP_MS);
}

/* Recipients [first, first + n) of the file in progress as one queue
 * entry: both files written to queue/tmp/ and committed. */
static enum chunk_rc
chunk_start(size_t first, size_t n)
{
	const char *dd = cfg_str(pk.cfg, CFG_DATA_DIR);
	struct cur *c = &pk.cur;
	char client[CLIENT_MAX], hdr[RECEIVED_MAX], date[MSG_DATE_MAX];
	char host[CFG_HOST_MAX + 1];
	struct envelope_spec spec;
	struct stat st;
	uint64_t added = 0;
	int hl;

	if (!maildrop_name_ok(c->name) || fmt(c->id, sizeof c->id,
	    "%s%02zX", c->name, first / ENVELOPE_RCPT_MAX) >=
	    (int)sizeof c->id) {
		spool_new_id(c->id, sizeof c->id);
	}
	if (spool_path(c->tmp_msg, sizeof c->tmp_msg, dd, "tmp", c->id,
	    "") == -1 ||
	    spool_path(c->fin_msg, sizeof c->fin_msg, dd, "msg", c->id,
	    "") == -1 ||
	    spool_path(c->tmp_env, sizeof c->tmp_env, dd, "tmp", c->id,
	    ".env") == -1 ||
	    spool_path(c->fin_env, sizeof c->fin_env, dd, "env", c->id,
	    "") == -1) {
		log_warnx("pickup: %s: queue path too long", dd);
		return CHUNK_LATER;
	}
	if (maildrop_name_ok(c->name) && stat(c->fin_env, &st) == 0) {
		return chunk_queued();
	}
	msg_date(date, sizeof date, time(NULL));
	hl = fmt(hdr, sizeof hdr, "Received: from local (uid %u)\n\tby %s "
	    "(wren) id %s;\n\t%s\n", (unsigned)c->uid,
	    cfg_hostname(pk.cfg, host, sizeof host), c->id, date);
	if (hl < 0 || (size_t)hl >= sizeof hdr) {
		return CHUNK_BAD;
	}
	for (size_t i = 0; i < n; i++) {
		pk.rcpt[i].addr = pk.env.rcpt[first + i];
		pk.rcpt[i].notify = 0;
		pk.rcpt[i].orcpt = "";
	}
	if (write_msg(c->fd, hdr, (size_t)hl, &added) == -1) {
		return CHUNK_LATER;
	}
	c->size = (uint64_t)hl + c->msglen + added;
	(void)fmt(client, sizeof client, "local (uid %u)", (unsigned)c->uid);
	memset(&spec, 0, sizeof spec);
	spec.id = c->id;
	spec.arrival = c->arrival;
	spec.sender = pk.env.sender;
	spec.size = c->size;
	spec.ret = DSN_RET_NONE;
	spec.envid = "";
	spec.smtputf8 = (pk.env.flags & MAILDROP_F_SMTPUTF8) != 0;
	spec.client = client;
	spec.rcpt = pk.rcpt;
	spec.nrcpt = n;
	switch (write_env(&spec)) {
	case 0:
		break;
	case -2:
		(void)unlink(c->tmp_msg);
		return CHUNK_BAD;
	default:
		(void)unlink(c->tmp_msg);
		return CHUNK_LATER;
	}
	/* The message first, the envelope last: env/<id> is what makes
	 * an entry queued, and the store renames in this order. */
	c->f[0].tmp = c->tmp_msg;
	c->f[0].final = c->fin_msg;
	c->f[1].tmp = c->tmp_env;
	c->f[1].final = c->fin_env;
	memset(&c->txn, 0, sizeof c->txn);
	c->txn.files = c->f;
	c->txn.nfiles = 2;
	c->txn.barrier = 1;	/* the message is durable before its envelope */
	c->txn.done = committed;
	c->txn.arg = c;
	store_txn_commit(&c->txn);
	return CHUNK_COMMITTED;
}

/* env/<id> is there: queued before a crash, perhaps not yet durable
 * (the crash came before its callback). The store renamed both files
 * only once their data was durable; the renames are made durable here
 * before the maildrop file may go. Rare: only after a crash. */
static enum chunk_rc
chunk_queued(void)
{
	const char *dd = cfg_str(pk.cfg, CFG_DATA_DIR);
	char dir[SPOOL_PATH_MAX];

	if (spool_path(dir, sizeof dir, dd, "msg", "", "") == -1 ||
	    store_fsync_dir(dir) == -1 ||
	    spool_path(dir, sizeof dir, dd, "env", "", "") == -1 ||
	    store_fsync_dir(dir) == -1) {
		log_warn("pickup: %s: syncing the queue", pk.cur.id);
		return CHUNK_LATER;
	}
	log_info("pickup: %s: queued before a restart (maildrop/%s)",
	    pk.cur.id, pk.cur.name);
	return CHUNK_QUEUED;
}

/* queue/tmp/<id>: the Received: line, then the message copied from
 * fd (not synced: the store does that for the round); *added: octets
 * the signing added. */
static int
write_msg(int fd, const char *hdr, size_t hl, uint64_t *added)
{
	struct cur *c = &pk.cur;
	const char *at = strrchr(pk.env.sender, '@');
	const struct dkim_key *key = NULL;
	int out;

	(void)unlink(c->tmp_msg);	/* an earlier failed try */
	out = open(c->tmp_msg, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	if (out == -1) {
		log_warn("pickup: %s", c->tmp_msg);
		return -1;
	}
	if (at != NULL && resolve_is_local_domain(pk.cfg, at + 1,
	    strlen(at + 1))) {
		key = dkim_key_for(at + 1, strlen(at + 1));
	}
	*added = 0;
	if (store_write_all(out, hdr, hl) == -1 || (key == NULL &&
	    store_copy(out, fd, pk.env.head_len, c->msglen) == -1) ||
	    (key != NULL && copy_signed(out, fd, key, at + 1, added) == -1)) {
		log_warn("pickup: %s", c->tmp_msg);
		close(out);
		(void)unlink(c->tmp_msg);
		return -1;
	}
	if (close(out) == -1) {
		log_warn("pickup: %s", c->tmp_msg);
		(void)unlink(c->tmp_msg);
		return -1;
	}
	return 0;
}

/* queue/tmp/<id>.env (not synced either). -2 when the formatter
 * refuses the envelope (bad data, not a passing failure). */
static int
write_env(const struct envelope_spec *spec)
{
	struct cur *c = &pk.cur;
	int len, fd;

	len = envelope_format(pk.envtext, sizeof pk.envtext, spec);
	if (len < 0) {
		return -2;
	}
	(void)unlink(c->tmp_env);
	fd = open(c->tmp_env, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		log_warn("pickup: %s", c->tmp_env);
		return -1;
	}
	if (store_write_all(fd, pk.envtext, (size_t)len) == -1) {
		log_warn("pickup: %s", c->tmp_env);
		close(fd);
		(void)unlink(c->tmp_env);
		return -1;
	}
	if (close(fd) == -1) {
		log_warn("pickup: %s", c->tmp_env);
		(void)unlink(c->tmp_env);
		return -1;
	}
	return 0;
}

/* Moves a refused file to bad/ (or removes it), with the reason. */
static void
bad(const char *name, const char *why)
{
	char to[MAILDROP_NAME_LEN + 300];

	if (pk.bad_ok && fmt(to, sizeof to, "bad/%s", name) <
	    (int)sizeof to && renameat(pk.dirfd, name, pk.dirfd, to) == 0) {
		log_warnx("pickup: maildrop/%s: %s; moved to maildrop/bad/",
		    name, why);
		return;
	}
	if (unlinkat(pk.dirfd, name, 0) == 0 ||
	    unlinkat(pk.dirfd, name, AT_REMOVEDIR) == 0) {
		log_warnx("pickup: maildrop/%s: %s; removed", name, why);
		return;
	}
	log_warn("pickup: maildrop/%s: %s; cannot remove it", name, why);
}

/* The message from the maildrop file to out (after its hl octets of
 * Received:), hashed on the way, and signed. */
static int
copy_signed(int out, int fd, const struct dkim_key *key, const char *dom,
    uint64_t *added)
{
	struct dkim_stream *ds = &pk.dkim;
	char buf[COPY_BUF], sig[DKIM_SIG_MAX];
	uint64_t off = (uint64_t)pk.env.head_len, left = pk.cur.msglen;
	uint64_t start = (uint64_t)lseek(out, 0, SEEK_CUR), at = 0;
	long len;

	dkim_stream_init(ds, key, dom, dkim_selector(), NULL, NULL,
	    (int64_t)time(NULL));
	while (left > 0) {
		size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n <= 0) {
			if (n == 0) {
				errno = EIO;	/* the file shrank */
			}
			if (n == -1 && errno == EINTR) {
				continue;
			}
			return -1;
		}
		if (dkim_stream_write(ds, buf, (size_t)n, out_write,
		    &out) == -1) {
			return -1;
		}
		off += (uint64_t)n;
		left -= (uint64_t)n;
	}
	len = dkim_stream_finish(ds, out_write, &out, sig, sizeof sig, &at);
	if (len == -1) {
		return -1;
	}
	if (ds->why != NULL) {
		log_warnx("pickup: %s: not DKIM-signed: %s", pk.cur.id,
		    ds->why);
	}
	if (len > 0 && pwrite(out, sig, (size_t)len,
	    (off_t)(start + at)) != (ssize_t)len) {
		if (errno == 0) {
			errno = EIO;
		}
		return -1;
	}
	*added = ds->added;
	return 0;
}

static int
out_write(void *arg, const char *p, size_t n)
{
	return store_write_all(*(int *)arg, p, n);
}
