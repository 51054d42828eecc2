/*
 * pickup.c - maildrop/ to the queue, on the event loop (see pickup.h).
 * RFC 5321 4.4 for the Received: trace line added to each message.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* renameat */
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "msg/date.h"
#include "queue/envelope.h"
#include "queue/maildrop.h"
#include "queue/pickup.h"
#include "queue/spool.h"
#include "store/maildir.h"

#define PICKUP_PATH_MAX		(CFG_PATH_MAX + 32)
#define PICKUP_STEP_MS		1	/* next file: next loop turn */
#define RECEIVED_MAX		(CFG_HOST_MAX + 160)
#define CLIENT_MAX		32	/* "local (uid 4294967294)" */

/* What taking one file came to. */
enum take_rc {
	TAKE_DONE,		/* queued (or gone) and removed */
	TAKE_BAD,		/* moved aside */
	TAKE_LATER		/* left for a retry */
};

static struct {
	struct ev		*ev;
	const struct cfg	*cfg;
	char			 dir[PICKUP_PATH_MAX]; /* maildrop/ */
	int			 dirfd;
	int			 ifd;		/* inotify */
	DIR			*scan;		/* rewound each time */
	int			 scanning;
	int			 dirty;		/* events since the
						 * scan began */
	int			 failed;	/* a TAKE_LATER */
	int			 bad_ok;	/* bad/ is ours */
	struct timer		 step;
	/* One file at a time: its header, the envelope written. */
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
static enum take_rc	queue_chunk(const char *, int, size_t, size_t,
			    uint32_t, int64_t, uint64_t);
static int		write_msg(const char *, int, uint64_t, const char *,
			    size_t, uint64_t *);
static int		write_env(const char *,
			    const struct envelope_spec *);
static void		bad(const char *, const char *);
static int		sync_fd_close(int);

int
pickup_init(struct ev *ev, const struct cfg *cfg, struct err *e)
{
	const char *dd = cfg_str(cfg, CFG_DATA_DIR);

	pk.ev = ev;
	pk.cfg = cfg;
	pk.dirfd = pk.ifd = -1;
	if (spool_init(dd, e) == -1) {
		return -1;
	}
	if (fmt(pk.dir, sizeof pk.dir, "%s/maildrop", dd) >=
	    (int)sizeof pk.dir) {
		return err_set(e, "%s: path too long", dd);
	}
	if (data_dir_reachable(dd) == -1) {
		return err_set(e, "%s: %s", dd, strerror(errno));
	}
	if (maildrop_dir(e) == -1) {
		return -1;
	}
	pk.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (pk.ifd == -1 || inotify_add_watch(pk.ifd, pk.dir, IN_MOVED_TO |
	    IN_CLOSE_WRITE | IN_ONLYDIR | IN_DONT_FOLLOW) == -1 ||
	    ev_add_fd(ev, pk.ifd, EV_READ, inotify_ready, NULL) == -1) {
		err_set(e, "%s: inotify: %s", pk.dir, strerror(errno));
		pickup_shutdown();
		return -1;
	}
	timer_init(&pk.step, step, NULL);
	pk.dirty = 1;
	arm(0);
	log_info("pickup: watching %s", pk.dir);
	return 0;
}

void
pickup_shutdown(void)
{
	if (pk.ev == NULL) {
		return;		/* never started */
	}
	ev_timer_cancel(pk.ev, &pk.step);
	if (pk.ifd != -1) {
		if (pk.ev != NULL) {
			ev_del_fd(pk.ev, pk.ifd);
		}
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

/* One loop turn's work: one file taken, or up to PICKUP_SCAN_BATCH
 * entries looked at. */
static void
step(struct timer *t, void *arg)
{
	struct dirent *de;

	(void)t;
	(void)arg;
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
		if (take(de->d_name) == TAKE_LATER) {
			pk.failed = 1;
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

static enum take_rc
take(const char *name)
{
	uint64_t limit = (uint64_t)cfg_num(pk.cfg, CFG_MESSAGE_SIZE_LIMIT);
	struct maildrop_env *env = &pk.env;
	enum maildrop_err err;
	enum take_rc rc = TAKE_DONE;
	struct stat st;
	size_t want;
	ssize_t n;
	int64_t now = (int64_t)time(NULL), arrival;
	int fd;

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
	/* The submission time, but never in the future (it is the
	 * submitter's word; queue_lifetime counts from it). */
	arrival = env->arrival < now ? env->arrival : now;
	for (size_t first = 0; first < env->nrcpt && rc == TAKE_DONE;
	    first += ENVELOPE_RCPT_MAX) {
		size_t k = env->nrcpt - first;

		rc = queue_chunk(name, fd, first, k < ENVELOPE_RCPT_MAX ? k :
		    ENVELOPE_RCPT_MAX, (uint32_t)st.st_uid, arrival,
		    (uint64_t)st.st_size - env->head_len);
	}
	close(fd);
	if (rc == TAKE_BAD) {
		bad(name, "refused by the envelope formatter");
	} else if (rc == TAKE_DONE && unlinkat(pk.dirfd, name, 0) == -1 &&
	    errno != ENOENT) {
		/* Queued; the next scan finds env/<id> and retries this. */
		log_warn("pickup: maildrop/%s: unlink", name);
		return TAKE_LATER;
	}
	return rc;
}

/* Queues recipients [first, first + n) of pk.env as one entry. */
static enum take_rc
queue_chunk(const char *name, int fd, size_t first, size_t n, uint32_t uid,
    int64_t arrival, uint64_t msglen)
{
	const char *dd = cfg_str(pk.cfg, CFG_DATA_DIR);
	char id[ENVELOPE_ID_MAX + 1], client[CLIENT_MAX];
	char hdr[RECEIVED_MAX], date[MSG_DATE_MAX], host[CFG_HOST_MAX + 1];
	char path[SPOOL_PATH_MAX];
	struct envelope_spec spec;
	struct stat st;
	uint64_t size;
	int hl;

	if (maildrop_name_ok(name)) {
		fmt(id, sizeof id, "%s%02zX", name, first / ENVELOPE_RCPT_MAX);
		if (spool_path(path, sizeof path, dd, "env", id, "") == -1) {
			return TAKE_LATER;
		}
		if (stat(path, &st) == 0) {
			return TAKE_DONE;	/* queued before a crash */
		}
	} else {
		spool_new_id(id, sizeof id);
	}
	msg_date(date, sizeof date, time(NULL));
	hl = fmt(hdr, sizeof hdr, "Received: from local (uid %u)\n\tby %s "
	    "(wren) id %s;\n\t%s\n", (unsigned)uid, cfg_hostname(pk.cfg, host,
	    sizeof host), id, date);
	if (hl < 0 || (size_t)hl >= sizeof hdr) {
		return TAKE_BAD;
	}
	for (size_t i = 0; i < n; i++) {
		pk.rcpt[i].addr = pk.env.rcpt[first + i];
		pk.rcpt[i].notify = 0;
		pk.rcpt[i].orcpt = "";
	}
	if (write_msg(id, fd, msglen, hdr, (size_t)hl, &size) == -1) {
		return TAKE_LATER;
	}
	fmt(client, sizeof client, "local (uid %u)", (unsigned)uid);
	memset(&spec, 0, sizeof spec);
	spec.id = id;
	spec.arrival = arrival;
	spec.sender = pk.env.sender;
	spec.size = size;
	spec.ret = DSN_RET_NONE;
	spec.envid = "";
	spec.smtputf8 = (pk.env.flags & MAILDROP_F_SMTPUTF8) != 0;
	spec.client = client;
	spec.rcpt = pk.rcpt;
	spec.nrcpt = n;
	switch (write_env(id, &spec)) {
	case 0:
		break;
	case -2:
		return TAKE_BAD;
	default:
		return TAKE_LATER;
	}
	log_info("pickup: %s: from=<%s> uid=%u nrcpt=%zu size=%llu "
	    "(maildrop/%s)", id, pk.env.sender, (unsigned)uid, n,
	    (unsigned long long)size, name);
	return TAKE_DONE;
}

/* queue/tmp/<id>: the Received: line, then the message copied from
 * fd; synced. */
static int
write_msg(const char *id, int fd, uint64_t msglen, const char *hdr,
    size_t hl, uint64_t *size)
{
	const char *dd = cfg_str(pk.cfg, CFG_DATA_DIR);
	char path[SPOOL_PATH_MAX];
	int out;

	if (spool_path(path, sizeof path, dd, "tmp", id, "") == -1) {
		return -1;
	}
	(void)unlink(path);		/* an earlier failed try */
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out == -1) {
		log_warn("pickup: %s", path);
		return -1;
	}
	if (store_write_all(out, hdr, hl) == -1 ||
	    store_copy(out, fd, pk.env.head_len, msglen) == -1 ||
	    sync_fd_close(out) == -1) {
		log_warn("pickup: %s", path);
		(void)unlink(path);
		return -1;
	}
	*size = hl + msglen;
	return 0;
}

/* queue/tmp/<id>.env, synced; then both files renamed into the queue,
 * the message first, each directory synced before the next step.
 * -2 when the formatter refuses the envelope (bad data, not a
 * passing failure). */
static int
write_env(const char *id, const struct envelope_spec *spec)
{
	const char *dd = cfg_str(pk.cfg, CFG_DATA_DIR);
	char tmp[SPOOL_PATH_MAX], msg[SPOOL_PATH_MAX], to[SPOOL_PATH_MAX];
	char dir[SPOOL_PATH_MAX];
	int len, fd;

	if (spool_path(msg, sizeof msg, dd, "tmp", id, "") == -1 ||
	    spool_path(tmp, sizeof tmp, dd, "tmp", id, ".env") == -1) {
		return -1;
	}
	len = envelope_format(pk.envtext, sizeof pk.envtext, spec);
	if (len < 0) {
		(void)unlink(msg);
		return -2;
	}
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 || store_write_all(fd, pk.envtext, (size_t)len) == -1 ||
	    sync_fd_close(fd) == -1) {
		log_warn("pickup: %s", tmp);
		if (fd != -1) {
			(void)unlink(tmp);
		}
		(void)unlink(msg);
		return -1;
	}
	if (spool_path(to, sizeof to, dd, "msg", id, "") == -1 ||
	    rename(msg, to) == -1 ||
	    fmt(dir, sizeof dir, "%s/queue/msg", dd) >= (int)sizeof dir ||
	    store_fsync_dir(dir) == -1 ||
	    spool_path(to, sizeof to, dd, "env", id, "") == -1 ||
	    rename(tmp, to) == -1 ||
	    fmt(dir, sizeof dir, "%s/queue/env", dd) >= (int)sizeof dir ||
	    store_fsync_dir(dir) == -1) {
		log_warn("pickup: queue %s", id);
		(void)unlink(tmp);
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

static int
sync_fd_close(int fd)
{
	int rc = fsync(fd);

	if (close(fd) == -1) {
		rc = -1;
	}
	return rc;
}
