/* SPDX-License-Identifier: ISC */
/*
 * map.h - the lookup tables at run time, and their compiler.
 *
 * The server reads only the compiled SOURCE.cdb files, with tinycdb's
 * lookup code. map_check (called by the server once per MAP_RECHECK_MS,
 * not per lookup) notices a replaced or rewritten .cdb by its inode,
 * size, mtime and ctime and switches to it; a replacement that does not
 * validate is logged and the table in use stays.
 *
 * A table is read into memory the process owns (an anonymous mapping,
 * read-only once filled), never mmap'ed from the file: a .cdb truncated
 * or rewritten in place (`: > users.cdb`, `cp new.cdb users.cdb`) would
 * make the pages of a shared or private file mapping past the new end
 * fault with SIGBUS. What is read is checked before it is used: the
 * file's size against the header's 256 hash table positions, and a
 * second fstat plus a read to EOF prove the file did not change while
 * it was read; a table that fails either is refused and the one in use
 * stays. So:
 *   - `wren map` (temporary file, fsync, rename) is the safe way: the
 *     new table is complete the moment its name appears;
 *   - `cp new.cdb users.cdb` is survivable: while the copy is partial
 *     the table in use answers (a prefix of a cdb never validates, its
 *     last hash table lies past the end), and the complete file is
 *     taken at the next check;
 *   - `: > users.cdb` keeps the table in use and logs an error.
 * Cost: each table's file size in private memory (rounded up to a
 * page), where a shared mapping cost only the pages touched and could
 * be dropped under pressure; during a switch the old and the new copy
 * exist together for a moment. Tables are KBs to a few MB: a users
 * table of 10,000 SHA-512 accounts is 1.6 MB.
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
	unsigned char	*mem;		/* the table's bytes, ours */
	size_t		 memlen;	/* their mapping's length */
	struct cdb	 cdb;		/* tinycdb's view of mem */
	dev_t		 dev;		/* the file in use or refused */
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
	struct timespec	 ctime;
};

/* Opens SRC.cdb (whatever its state; see above). A source path longer
 * than CFG_PATH_MAX makes a MAP_ST_BAD table. */
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
