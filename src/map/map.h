/*
 * map.h - the lookup tables at run time, and their compiler.
 *
 * The server reads only the compiled SOURCE.cdb files, mmap'ed with
 * tinycdb. map_check (called by the server once per MAP_RECHECK_MS, not
 * per lookup) notices a replaced .cdb by its inode, size and mtime and
 * switches to it; a replacement that does not validate is logged and
 * the table in use stays.
 *
 * States, and what a lookup answers in each:
 *   MAP_ST_OK       the table: 1 found / 0 absent
 *   MAP_ST_ABSENT   neither source nor .cdb exists: an empty table, 0
 *   MAP_ST_MISSING  the source exists but its .cdb does not: -1
 *   MAP_ST_BAD      the .cdb is unreadable or corrupt: -1
 * A -1 becomes a temporary failure (4xx) for the client, never a 550.
 */
#ifndef WREN_MAP_H
#define WREN_MAP_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include <cdb.h>

#include "core/cfg.h"
#include "core/err.h"
#include "map/map_text.h"

enum map_state {
	MAP_ST_ABSENT,
	MAP_ST_MISSING,
	MAP_ST_BAD,
	MAP_ST_OK
};

struct map {
	enum map_type	 type;
	enum map_state	 state;
	char		 src[CFG_PATH_MAX];
	char		 cdbpath[CFG_PATH_MAX + 4];
	int		 fd;
	struct cdb	 cdb;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
};

/* Opens SRC.cdb (whatever its state; see above). */
void	map_open(struct map *, enum map_type, const char *src);
void	map_close(struct map *);

/* Switches to a replaced .cdb; 1 when the table changed, else 0. */
int	map_check(struct map *);

/* Looks key up (already lower-case). On 1, *val points into the
 * mapping, valid until the next map_check. */
int	map_lookup(struct map *, const char *key, size_t klen,
	    const char **val, size_t *vlen);

const char	*map_state_name(enum map_state);

/* The tables a configuration names, by type. */
struct maps {
	struct map	m[MAP_NTYPES];
};

/* The config key naming each table's source. */
extern const enum cfg_key map_cfg_key[MAP_NTYPES];

void	maps_open(struct maps *, const struct cfg *);
void	maps_close(struct maps *);
void	maps_check(struct maps *);

/* Compiles a text source into SRC.cdb atomically: a temporary file,
 * fsync, rename, fsync of the directory. On any error the old .cdb is
 * untouched and e holds `FILE:LINE: message` or the system error.
 * *nrec gets the number of records. */
int	map_compile(enum map_type, const char *src, size_t *nrec,
	    struct err *);

#endif
