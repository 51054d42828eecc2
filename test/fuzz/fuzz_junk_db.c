/* SPDX-License-Identifier: ISC */
/*
 * fuzz_junk_db.c - libFuzzer harness for the junk filter's database
 * file (store/junk_db.h). The input is a file: what parses must
 * format back to the same octets (one database, one file), keep its
 * bounds, and stay usable: a training and a score on it work and
 * the result parses again. An input whose checksum's first octet
 * is odd gets its checksum mended first (the octets it overwrites are
 * free to choose), so the checks behind it are reached.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/junk_db.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct junk_db db, db2;
static unsigned char out[JUNK_DB_FILE_MAX], in[JUNK_DB_FILE_MAX + 8];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t set[8];
	size_t n;
	int sc;

	if (size >= 4 && size <= sizeof in && (data[size - 4] & 1)) {
		uint32_t h = 2166136261u;

		memcpy(in, data, size);
		for (size_t i = 0; i + 4 < size; i++) {
			h = (h ^ in[i]) * 16777619u;
		}
		in[size - 4] = (unsigned char)h;
		in[size - 3] = (unsigned char)(h >> 8);
		in[size - 2] = (unsigned char)(h >> 16);
		in[size - 1] = (unsigned char)(h >> 24);
		data = in;
	}
	if (junk_db_parse(&db, data, size) != JUNK_DB_OK) {
		if (db.ntok != 0 || db.nham != 0 || db.nspam != 0) {
			abort();
		}
		return 0;
	}
	if (db.ntok > JUNK_DB_LOAD || db.nrec > JUNK_REC_MAX) {
		abort();
	}
	n = junk_db_format(&db, out, sizeof out);
	if (n != size || memcmp(out, data, size) != 0) {
		abort();
	}
	for (size_t i = 0; i < 8; i++) {
		set[i] = i < size ? (uint32_t)data[i] * 2654435761u + 1 : 7;
	}
	(void)junk_db_learn(&db, set, 8, set[0], (int)(size & 1));
	sc = junk_db_score(&db, set, 8);
	if (sc < -1 || sc > 1000) {
		abort();
	}
	n = junk_db_format(&db, out, sizeof out);
	if (n == 0 || junk_db_parse(&db2, out, n) != JUNK_DB_OK ||
	    db2.ntok != db.ntok) {
		abort();
	}
	return 0;
}
