/*
 * map.c - tables at run time: open, validate, swap, look up (see map.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
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
};

static int	map_load(struct map *);
static int	header_ok(const unsigned char *, size_t);
static void	set_state(struct map *, enum map_state);

void
map_open(struct map *m, enum map_type type, const char *src)
{
	struct stat st;

	memset(m, 0, sizeof *m);
	m->type = type;
	m->fd = -1;
	m->state = MAP_ST_ABSENT;
	fmt(m->src, sizeof m->src, "%s", src);
	fmt(m->cdbpath, sizeof m->cdbpath, "%s.cdb", src);
	if (src[0] == '\0') {
		return;			/* not configured: empty */
	}
	if (stat(m->cdbpath, &st) == -1) {
		set_state(m, stat(m->src, &st) == 0 ? MAP_ST_MISSING :
		    MAP_ST_ABSENT);
		return;
	}
	if (map_load(m) == -1) {
		set_state(m, MAP_ST_BAD);
	}
}

void
map_close(struct map *m)
{
	if (m->fd != -1) {
		cdb_free(&m->cdb);
		close(m->fd);
		m->fd = -1;
	}
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
		if (m->fd != -1) {
			cdb_free(&m->cdb);
			close(m->fd);
			m->fd = -1;
		}
		set_state(m, to);
		return 1;
	}
	if (m->state == MAP_ST_OK && st.st_dev == m->dev &&
	    st.st_ino == m->ino && st.st_size == m->size &&
	    st.st_mtim.tv_sec == m->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == m->mtime.tv_nsec) {
		return 0;
	}
	if (map_load(m) == -1) {
		if (m->state != MAP_ST_OK) {
			set_state(m, MAP_ST_BAD);
		}
		/* Remember this file so it is not retried every second;
		 * a further replacement is picked up. */
		m->dev = st.st_dev;
		m->ino = st.st_ino;
		m->size = st.st_size;
		m->mtime = st.st_mtim;
		return 0;
	}
	return 1;
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

/* Opens and validates the .cdb at m->cdbpath; on success it replaces
 * the table in use. */
static int
map_load(struct map *m)
{
	struct stat st;
	struct cdb cdb;
	int fd;

	fd = open(m->cdbpath, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		log_warn("%s: cannot open", m->cdbpath);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size < CDB_HEADER || (uint64_t)st.st_size > UINT32_MAX) {
		log_warnx("%s: not a cdb table", m->cdbpath);
		close(fd);
		return -1;
	}
	if (cdb_init(&cdb, fd) != 0) {
		log_warn("%s: cannot map", m->cdbpath);
		close(fd);
		return -1;
	}
	if (!header_ok(cdb.cdb_mem, (size_t)st.st_size)) {
		log_warnx("%s: corrupt cdb header", m->cdbpath);
		cdb_free(&cdb);
		close(fd);
		return -1;
	}
	if (m->fd != -1) {
		cdb_free(&m->cdb);
		close(m->fd);
	}
	m->fd = fd;
	m->cdb = cdb;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->size = st.st_size;
	m->mtime = st.st_mtim;
	set_state(m, MAP_ST_OK);
	return 0;
}

/* Every hash table the header points at lies inside the file (tinycdb
 * checks record offsets at lookup time; this catches a truncated or
 * foreign file at once). */
static int
header_ok(const unsigned char *mem, size_t size)
{
	for (int i = 0; i < 256; i++) {
		uint64_t pos = cdb_unpack(mem + 8 * i);
		uint64_t n = cdb_unpack(mem + 8 * i + 4);

		if (pos < CDB_HEADER || pos > size || n * 8 > size - pos) {
			return 0;
		}
	}
	return 1;
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
