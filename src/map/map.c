/* SPDX-License-Identifier: ISC */
/*
 * map.c - tables at run time: open, validate, swap, look up (see map.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fmt.h"
#include "core/log.h"
#include "map/map.h"

#define CDB_HEADER	2048	/* 256 (position, length) pairs */

const enum cfg_key map_cfg_key[MAP_NTYPES] = {
	[MAP_USERS] = CFG_USERS,
	[MAP_ALIASES] = CFG_ALIASES,
	[MAP_VIRTUAL] = CFG_VIRTUAL,
	[MAP_SENDERS] = CFG_SENDER_LOGINS,
	[MAP_RELAY_PASSWORDS] = CFG_RELAY_PASSWORDS,
	[MAP_PSL] = CFG_PUBLIC_SUFFIX_LIST,
};

/* What map_load found. */
enum load_result {
	LOAD_OK,
	LOAD_BAD,	/* not a valid table: remembered, not retried */
	LOAD_CHANGED	/* changed while read: retried at the next check */
};

static enum load_result	map_load(struct map *, struct stat *);
static int	read_all(int, unsigned char *, size_t);
static int	same_file(const struct stat *, const struct stat *);
static int	is_known(const struct map *, const struct stat *);
static void	remember(struct map *, const struct stat *);
static int	header_ok(const unsigned char *, size_t, unsigned *);
static void	drop_table(struct map *);
static void	set_state(struct map *, enum map_state);

void
map_open(struct map *m, enum map_type type, const char *src)
{
	struct stat st;

	memset(m, 0, sizeof *m);
	m->type = type;
	m->state = MAP_ST_ABSENT;
	if (fmt(m->src, sizeof m->src, "%s", src) >= (int)sizeof m->src ||
	    fmt(m->cdbpath, sizeof m->cdbpath, "%s.cdb", src) >=
	    (int)sizeof m->cdbpath) {
		m->src[0] = '\0';	/* never rechecked */
		set_state(m, MAP_ST_BAD);
		return;
	}
	if (src[0] == '\0') {
		return;			/* not configured: empty */
	}
	if (stat(m->cdbpath, &st) == -1) {
		set_state(m, stat(m->src, &st) == 0 ? MAP_ST_MISSING :
		    MAP_ST_ABSENT);
		return;
	}
	if (map_load(m, &st) != LOAD_OK) {
		set_state(m, MAP_ST_BAD);
	}
}

void
map_close(struct map *m)
{
	drop_table(m);
	m->state = MAP_ST_ABSENT;
}

int
map_check(struct map *m)
{
	struct stat st;

	if (m->src[0] == '\0') {
		return 0;
	}
	if (stat(m->cdbpath, &st) == -1) {
		enum map_state to = stat(m->src, &st) == 0 ? MAP_ST_MISSING :
		    MAP_ST_ABSENT;

		if (m->state == to) {
			return 0;
		}
		drop_table(m);
		m->ino = 0;	/* the same file back is read again */
		m->size = -1;
		set_state(m, to);
		return 1;
	}
	if (is_known(m, &st)) {
		return 0;	/* in use, or refused already */
	}
	switch (map_load(m, &st)) {
	case LOAD_OK:
		return 1;
	case LOAD_BAD:
		if (m->state == MAP_ST_OK) {
			log_errorx("%s table %s: refused; the table in use "
			    "stays", map_type_name[m->type], m->cdbpath);
		}
		/* Remembered so it is not read again every second; a
		 * further change (the rest of a `cp`) is picked up. */
		remember(m, &st);
		break;
	case LOAD_CHANGED:
		/* Not remembered: read again at the next check. */
		m->ino = 0;
		m->size = -1;
		break;
	}
	if (m->state != MAP_ST_OK) {
		set_state(m, MAP_ST_BAD);
	}
	return 0;
}

int
map_lookup(struct map *m, const char *key, size_t klen, const char **val,
    size_t *vlen)
{
	int rc;

	switch (m->state) {
	case MAP_ST_ABSENT:
		return 0;
	case MAP_ST_MISSING:
	case MAP_ST_BAD:
		return -1;
	case MAP_ST_OK:
		break;
	}
	rc = cdb_find(&m->cdb, key, (unsigned)klen);
	if (rc <= 0) {
		if (rc < 0) {
			log_warnx("%s: corrupt table (lookup failed)",
			    m->cdbpath);
		}
		return rc;
	}
	*vlen = cdb_datalen(&m->cdb);
	*val = cdb_getdata(&m->cdb);
	return *val == NULL ? -1 : 1;
}

const char *
map_state_name(enum map_state s)
{
	switch (s) {
	case MAP_ST_ABSENT: return "absent (empty table)";
	case MAP_ST_MISSING: return "missing .cdb (run wren map)";
	case MAP_ST_BAD: return "unreadable or corrupt .cdb";
	case MAP_ST_OK: return "ok";
	}
	return "?";
}

void
maps_open(struct maps *ms, const struct cfg *c)
{
	for (int t = 0; t < MAP_NTYPES; t++) {
		map_open(&ms->m[t], (enum map_type)t,
		    cfg_str(c, map_cfg_key[t]));
	}
}

void
maps_close(struct maps *ms)
{
	for (int t = 0; t < MAP_NTYPES; t++) {
		map_close(&ms->m[t]);
	}
}

void
maps_check(struct maps *ms)
{
	for (int t = 0; t < MAP_NTYPES; t++) {
		if (map_check(&ms->m[t])) {
			log_info("%s: table %s reloaded: %s",
			    map_type_name[t], ms->m[t].cdbpath,
			    map_state_name(ms->m[t].state));
		}
	}
}

/*
 * Reads the .cdb at m->cdbpath into memory of our own and validates it;
 * on success it replaces the table in use, which is unmapped only then.
 * *st gets the identity of what was read (or of what was refused).
 *
 * Nothing of the file stays mapped, so no later change to it can fault:
 *
 *   fstat -> size      anonymous mapping of size bytes (PROT_WRITE)
 *   pread to size      a short read: it shrank -> LOAD_CHANGED
 *   pread 1 byte more  anything: it grew      -> LOAD_CHANGED
 *   fstat again        other size/mtime/ctime -> LOAD_CHANGED
 *   header_ok          tables past the end    -> LOAD_BAD
 *   mprotect PROT_READ the copy is the table; the old one is unmapped
 */
static enum load_result
map_load(struct map *m, struct stat *st)
{
	struct stat after;
	struct cdb cdb;
	unsigned char *mem, extra;
	unsigned dend;
	size_t len;
	int fd;

	fd = open(m->cdbpath, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		log_warn("%s: cannot open", m->cdbpath);
		return LOAD_BAD;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode) ||
	    st->st_size < CDB_HEADER || (uint64_t)st->st_size > UINT32_MAX) {
		log_errorx("%s: not a cdb table (%lld bytes)", m->cdbpath,
		    (long long)st->st_size);
		close(fd);
		return LOAD_BAD;
	}
	len = (size_t)st->st_size;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		log_warn("%s: no memory for %zu bytes", m->cdbpath, len);
		close(fd);
		return LOAD_CHANGED;	/* memory may come back */
	}
	if (read_all(fd, mem, len) == -1) {
		log_warn("%s: cannot read", m->cdbpath);
		goto changed;
	}
	if (pread(fd, &extra, 1, (off_t)len) != 0 ||
	    fstat(fd, &after) == -1 || !same_file(st, &after)) {
		log_warnx("%s: changed while read; read again at the next "
		    "check", m->cdbpath);
		goto changed;
	}
	if (!header_ok(mem, len, &dend)) {
		log_errorx("%s: corrupt cdb header (truncated or not a cdb)",
		    m->cdbpath);
		(void)munmap(mem, len);
		close(fd);
		return LOAD_BAD;
	}
	close(fd);
	(void)mprotect(mem, len, PROT_READ);
	/* What cdb_init would set, over our memory instead of a mapping
	 * of the file; cdb_free is never called on it. */
	memset(&cdb, 0, sizeof cdb);
	cdb.cdb_fd = -1;
	cdb.cdb_fsize = (unsigned)len;
	cdb.cdb_dend = dend;
	cdb.cdb_mem = mem;
	drop_table(m);
	m->mem = mem;
	m->memlen = len;
	m->cdb = cdb;
	remember(m, st);
	set_state(m, MAP_ST_OK);
	return LOAD_OK;
changed:
	(void)munmap(mem, len);
	close(fd);
	return LOAD_CHANGED;
}

/* Reads exactly len bytes from offset 0; -1 (errno EIO when the file
 * ended first) otherwise. */
static int
read_all(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)got);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			if (n == 0) {
				errno = EIO;
			}
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/* The same inode with the same size, mtime and ctime: nobody wrote to
 * it in between (ctime also moves when `cp -p` or `touch` puts an old
 * mtime back). */
static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The file last read (in use or refused), by same_file's rule. */
static int
is_known(const struct map *m, const struct stat *st)
{
	return st->st_dev == m->dev && st->st_ino == m->ino &&
	    st->st_size == m->size &&
	    st->st_mtim.tv_sec == m->mtime.tv_sec &&
	    st->st_mtim.tv_nsec == m->mtime.tv_nsec &&
	    st->st_ctim.tv_sec == m->ctime.tv_sec &&
	    st->st_ctim.tv_nsec == m->ctime.tv_nsec;
}

static void
remember(struct map *m, const struct stat *st)
{
	m->dev = st->st_dev;
	m->ino = st->st_ino;
	m->size = st->st_size;
	m->mtime = st->st_mtim;
	m->ctime = st->st_ctim;
}

/*
 * Every hash table the header points at lies inside the file, after
 * the header; *dend gets the first table's position, where the records
 * end. tinycdb checks each record's offsets against that end and the
 * file size at lookup time, so a lookup never reads outside mem. A
 * prefix of a cdb (a `cp` in progress) never passes: its last table
 * reaches the end of the complete file.
 */
static int
header_ok(const unsigned char *mem, size_t size, unsigned *dend)
{
	uint64_t first = size;

	for (int i = 0; i < 256; i++) {
		uint64_t pos = cdb_unpack(mem + 8 * i);
		uint64_t n = cdb_unpack(mem + 8 * i + 4);

		if (pos < CDB_HEADER || pos > size || n * 8 > size - pos) {
			return 0;
		}
		if (pos < first) {
			first = pos;
		}
	}
	*dend = (unsigned)first;
	return 1;
}

static void
drop_table(struct map *m)
{
	if (m->mem != NULL) {
		(void)munmap(m->mem, m->memlen);
		m->mem = NULL;
		m->memlen = 0;
	}
	memset(&m->cdb, 0, sizeof m->cdb);
}

static void
set_state(struct map *m, enum map_state s)
{
	if (s == MAP_ST_MISSING || s == MAP_ST_BAD) {
		log_errorx("%s table %s: %s; lookups fail temporarily",
		    map_type_name[m->type], m->cdbpath, map_state_name(s));
	}
	m->state = s;
}
