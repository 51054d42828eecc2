/* SPDX-License-Identifier: ISC */
/*
 * junk.c - the junk filter's pools, files and training job (see
 * junk.h): databases loaded on demand into a fixed pool and written
 * in batches, scanners for arriving mail, a queue of messages to
 * train read in slices from the event loop.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "store/junk.h"
#include "store/junk_db.h"
#include "store/maildir.h"

#define READ_CHUNK	16384

struct slot {
	char		 home[CFG_PATH_MAX];	/* "" = unused */
	struct junk_db	*db;
	unsigned	 dirty;		/* trainings not yet written */
	uint64_t	 used;		/* LRU clock */
};

struct train {
	int		 fd;
	int		 spam;
	char		 home[CFG_PATH_MAX];
};

static struct {
	struct ev		*ev;
	int			 on;
	struct slot		*slots;
	size_t			 nslots;
	uint64_t		 clock;
	struct timer		 flush, tick;
	unsigned char		 scan_used[JUNK_SCAN_MAX];
	struct train		 q[JUNK_TRAIN_MAX];
	size_t			 qhead, qn;
	int			 reading;	/* q[qhead] begun */
	struct junk_stats	 st;
} J;

static struct junk_tok	scans[JUNK_SCAN_MAX + 1];	/* last: training */
static unsigned char	io[JUNK_DB_FILE_MAX];		/* one file */

static struct slot *acquire(const char *home);
static void	load(struct slot *, const char *home);
static int	save(struct slot *);
static void	changed(struct slot *);
static void	flush_all(struct timer *, void *);
static void	tick(struct timer *, void *);
static void	pop(void);
static int	path_of(const char *home, const char *name, char *, size_t);

int
junk_init(struct ev *ev, const struct cfg *cfg, struct err *e)
{
	size_t n = (size_t)cfg_num(cfg, CFG_JUNK_DB_OPEN);

	memset(&J, 0, sizeof J);
	J.ev = ev;
	timer_init(&J.flush, flush_all, NULL);
	timer_init(&J.tick, tick, NULL);
	if (!cfg_num(cfg, CFG_JUNK_FILTER)) {
		return 0;
	}
	J.slots = calloc(n, sizeof *J.slots);
	if (J.slots == NULL) {
		return err_set(e, "junk: no memory for %zu databases", n);
	}
	for (size_t i = 0; i < n; i++) {
		J.slots[i].db = malloc(sizeof *J.slots[i].db);
		if (J.slots[i].db == NULL) {
			J.nslots = i;
			junk_shutdown();
			return err_set(e, "junk: no memory for %zu databases",
			    n);
		}
	}
	J.nslots = n;
	J.on = 1;
	return 0;
}

void
junk_shutdown(void)
{
	if (J.ev != NULL) {
		ev_timer_cancel(J.ev, &J.flush);
		ev_timer_cancel(J.ev, &J.tick);
	}
	flush_all(NULL, NULL);
	while (J.qn > 0) {
		pop();
	}
	for (size_t i = 0; i < J.nslots; i++) {
		free(J.slots[i].db);
	}
	free(J.slots);
	J.slots = NULL;
	J.nslots = 0;
	J.on = 0;
}

size_t
junk_bytes_per_account(void)
{
	return sizeof(struct slot) + sizeof(struct junk_db);
}

size_t
junk_bytes_shared(void)
{
	return sizeof scans + sizeof io + sizeof J;
}

size_t
junk_disk_per_account(void)
{
	return JUNK_DB_FILE_MAX;
}

int
junk_on(const char *home)
{
	char path[MAILDIR_PATH_MAX];
	struct stat st;

	if (!J.on || path_of(home, "wren-junk.off", path, sizeof path) ==
	    -1) {
		return 0;
	}
	return stat(path, &st) == -1;
}

int
junk_trained(const char *home)
{
	struct slot *s = acquire(home);

	return s != NULL && s->db->nham >= JUNK_MIN_TRAIN &&
	    s->db->nspam >= JUNK_MIN_TRAIN;
}

struct junk_tok *
junk_scan_get(void)
{
	if (!J.on) {
		return NULL;
	}
	for (size_t i = 0; i < JUNK_SCAN_MAX; i++) {
		if (!J.scan_used[i]) {
			J.scan_used[i] = 1;
			junk_tok_init(&scans[i]);
			return &scans[i];
		}
	}
	return NULL;
}

void
junk_scan_put(struct junk_tok *t)
{
	if (t >= scans && t < scans + JUNK_SCAN_MAX) {
		J.scan_used[t - scans] = 0;
	}
}

void
junk_scan_feed(struct junk_tok *t, const char *p, size_t n)
{
	junk_tok_feed(t, p, n);
}

void
junk_scan_end(struct junk_tok *t)
{
	junk_tok_end(t);
}

int
junk_score(const char *home, const struct junk_tok *t)
{
	struct slot *s = acquire(home);

	return s != NULL ? junk_db_score(s->db, t->set, JUNK_TOK_SLOTS) : -1;
}

int
junk_train(const char *home, int fd, int spam)
{
	struct train *q;

	if (!J.on || J.qn == JUNK_TRAIN_MAX ||
	    strlen(home) >= sizeof q->home) {
		close(fd);
		return -1;
	}
	q = &J.q[(J.qhead + J.qn) % JUNK_TRAIN_MAX];
	q->fd = fd;
	q->spam = spam;
	memcpy(q->home, home, strlen(home) + 1);
	J.qn++;
	if (!timer_armed(&J.tick) && ev_timer_in(J.ev, &J.tick, 1) == -1) {
		log_warnx("junk: no timer for training");
	}
	return 0;
}

size_t
junk_train_room(void)
{
	return J.on ? JUNK_TRAIN_MAX - J.qn : 0;
}

const struct junk_stats *
junk_stats(void)
{
	return &J.st;
}

/*
 * The training job: at most JUNK_TRAIN_SLICE octets of the first
 * queued message a turn; a message whose set is full is not read
 * further (nothing more could count).
 */
static void
tick(struct timer *tm, void *arg)
{
	struct junk_tok *t = &scans[JUNK_SCAN_MAX];
	struct train *q = &J.q[J.qhead];
	size_t done = 0;
	ssize_t r = 1;

	(void)tm;
	(void)arg;
	if (J.qn == 0) {
		return;
	}
	if (!J.reading) {
		junk_tok_init(t);
		J.reading = 1;
	}
	while (done < JUNK_TRAIN_SLICE && !junk_tok_full(t)) {
		r = read(q->fd, io, READ_CHUNK);
		if (r <= 0) {
			break;
		}
		junk_tok_feed(t, (const char *)io, (size_t)r);
		done += (size_t)r;
	}
	if (r < 0 && errno == EINTR) {
		r = 1;
	}
	if (r < 0) {
		log_warn("junk: reading a message to train");
	} else if (r == 0 || junk_tok_full(t)) {
		struct slot *s = NULL;

		junk_tok_end(t);
		if (junk_on(q->home)) {
			s = acquire(q->home);
		}
		if (s != NULL) {
			enum junk_learn rc = junk_db_learn(s->db, t->set,
			    JUNK_TOK_SLOTS, junk_tok_id(t), q->spam);

			log_debug("junk: %s: %s %s", q->home, q->spam ?
			    "spam" : "ham", rc == JUNK_LEARN_SAME ?
			    "trained before: skipped" : rc ==
			    JUNK_LEARN_FLIP ? "corrected" : "trained");
			if (rc == JUNK_LEARN_SAME) {
				J.st.skipped++;
			} else {
				J.st.trained++;
				changed(s);
			}
		}
	} else {
		r = 1;	/* more next turn */
	}
	if (r <= 0 || junk_tok_full(t)) {
		pop();
	}
	/* 1 ms, not 0: a timer due now would run again in this turn's
	 * timer run, and the loop would not poll between slices. */
	if (J.qn > 0 && ev_timer_in(J.ev, &J.tick, 1) == -1) {
		log_warnx("junk: no timer for training");
	}
}

static void
pop(void)
{
	close(J.q[J.qhead].fd);
	J.qhead = (J.qhead + 1) % JUNK_TRAIN_MAX;
	J.qn--;
	J.reading = 0;
}

/* The slot holding home's database, loaded into the least recently
 * used one (written first when changed) when not held. */
static struct slot *
acquire(const char *home)
{
	struct slot *s = NULL;

	if (!J.on || strlen(home) >= sizeof s->home) {
		return NULL;
	}
	for (size_t i = 0; i < J.nslots; i++) {
		if (strcmp(J.slots[i].home, home) == 0) {
			s = &J.slots[i];
			break;
		}
		if (s == NULL || J.slots[i].used < s->used) {
			s = &J.slots[i];
		}
	}
	if (strcmp(s->home, home) != 0) {
		if (s->dirty > 0 && save(s) == -1) {
			log_warnx("junk: %s: %u trainings lost", s->home,
			    s->dirty);
		}
		load(s, home);
	}
	s->used = ++J.clock;
	return s;
}

/* home's database into s: empty when there is none or it is damaged
 * (logged; the next write replaces it). */
static void
load(struct slot *s, const char *home)
{
	char path[MAILDIR_PATH_MAX];
	enum junk_db_err err;
	size_t n = 0;
	ssize_t r = 1;
	int fd;

	memcpy(s->home, home, strlen(home) + 1);
	s->dirty = 0;
	junk_db_init(s->db);
	if (path_of(home, "wren-junk.db", path, sizeof path) == -1) {
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno != ENOENT) {
			log_warn("junk: %s", path);
		}
		return;
	}
	while (n < sizeof io && (r = read(fd, io + n, sizeof io - n)) > 0) {
		n += (size_t)r;
	}
	close(fd);
	if (r < 0) {
		log_warn("junk: %s", path);
		return;
	}
	err = junk_db_parse(s->db, io, n);
	if (err != JUNK_DB_OK) {
		log_warnx("junk: %s: %s: starting empty", path,
		    junk_db_strerror(err));
	}
}

/* The database to its file: tmp, fsync, rename. */
static int
save(struct slot *s)
{
	char tmp[MAILDIR_PATH_MAX], path[MAILDIR_PATH_MAX];
	size_t n = junk_db_format(s->db, io, sizeof io);
	int fd, rc = 0;

	if (path_of(s->home, "wren-junk.db.tmp", tmp, sizeof tmp) == -1 ||
	    path_of(s->home, "wren-junk.db", path, sizeof path) == -1) {
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_warn("junk: %s", tmp);
		return -1;
	}
	if (store_write_all(fd, io, n) == -1 || fsync(fd) == -1) {
		log_warn("junk: %s", tmp);
		rc = -1;
	}
	if (close(fd) == -1 && rc == 0) {
		log_warn("junk: %s", tmp);
		rc = -1;
	}
	if (rc == 0 && rename(tmp, path) == -1) {
		log_warn("junk: %s", path);
		rc = -1;
	}
	if (rc == -1) {
		(void)unlink(tmp);
		return -1;
	}
	log_info("junk: %s: %zu octets written for %u trainings", path, n,
	    s->dirty);
	J.st.writes++;
	J.st.bytes += n;
	s->dirty = 0;
	return 0;
}

/* A training changed s: written now after JUNK_FLUSH_EVENTS, else at
 * the flush timer. */
static void
changed(struct slot *s)
{
	if (++s->dirty >= JUNK_FLUSH_EVENTS) {
		(void)save(s);
		return;
	}
	if (!timer_armed(&J.flush) && ev_timer_in(J.ev, &J.flush,
	    JUNK_FLUSH_MS) == -1) {
		(void)save(s);
	}
}

static void
flush_all(struct timer *tm, void *arg)
{
	(void)tm;
	(void)arg;
	for (size_t i = 0; i < J.nslots; i++) {
		if (J.slots[i].dirty > 0 && save(&J.slots[i]) == -1) {
			log_warnx("junk: %s: %u trainings not written",
			    J.slots[i].home, J.slots[i].dirty);
		}
	}
}

static int
path_of(const char *home, const char *name, char *out, size_t cap)
{
	int n = fmt(out, cap, "%s/Maildir/%s", home, name);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}
