/* SPDX-License-Identifier: ISC */
/*
 * subs.c - Dovecot 2.3's `subscriptions` file, read line by line and
 * written in its V2 form (what Dovecot's subscription-file.c reads
 * and writes; see subs.h). Sans-I/O; each call reads one line, at
 * most the rest of the caller's buffer.
 */
#include <string.h>

#include "store/subs.h"

#define SUBS_HEADER_LEN	(sizeof(SUBS_HEADER) - 1)

static enum subs_ev	skip(struct subs_reader *, enum subs_skip);

void
subs_reader_init(struct subs_reader *r, const char *buf, size_t len)
{
	memset(r, 0, sizeof *r);
	r->p = buf;
	r->len = len;
	if (len >= SUBS_HEADER_LEN &&
	    memcmp(buf, SUBS_HEADER, SUBS_HEADER_LEN) == 0) {
		r->v2 = 1;
		r->pos = SUBS_HEADER_LEN;
		r->line = 2;
	}
}

enum subs_ev
subs_next(struct subs_reader *r, struct folder_name *out)
{
	char name[FOLDER_NAME_MAX];
	const char *line, *lf;
	size_t n;
	enum folder_name_err err;

	r->why = SUBS_SKIP_NONE;
	r->name_err = FOLDER_NAME_OK;
	if (r->pos >= r->len) {
		return SUBS_END;
	}
	line = r->p + r->pos;
	r->line++;
	lf = memchr(line, '\n', r->len - r->pos);
	if (lf == NULL) {
		r->pos = r->len;
		return skip(r, SUBS_SKIP_UNTERMINATED);
	}
	n = (size_t)(lf - line);
	r->pos += n + 1;
	if (n == 0) {
		return skip(r, SUBS_SKIP_EMPTY);
	}
	if (memchr(line, '\0', n) != NULL) {
		return skip(r, SUBS_SKIP_NUL);
	}
	if (n > FOLDER_NAME_MAX) {
		return skip(r, SUBS_SKIP_LONG);
	}
	memcpy(name, line, n);
	if (r->v2) {
		for (size_t i = 0; i < n; i++) {
			if (name[i] == '\t') {
				name[i] = FOLDER_SEP;
			}
		}
	}
	err = folder_name_parse(name, n, FOLDER_NAME_LAX, out);
	if (err != FOLDER_NAME_OK) {
		r->name_err = err;
		return skip(r, SUBS_SKIP_NAME);
	}
	return SUBS_NAME;
}

int
subs_put(char *out, size_t cap, size_t *pos, const char *name,
    size_t len)
{
	size_t at = *pos, need = len + 1 + (at == 0 ? SUBS_HEADER_LEN : 0);

	if (at > cap || need > cap - at) {
		return -1;
	}
	if (at == 0) {
		memcpy(out, SUBS_HEADER, SUBS_HEADER_LEN);
		at = SUBS_HEADER_LEN;
	}
	for (size_t i = 0; i < len; i++) {
		out[at++] = name[i] == FOLDER_SEP ? '\t' : name[i];
	}
	out[at++] = '\n';
	*pos = at;
	return 0;
}

const char *
subs_skip_str(enum subs_skip why)
{
	switch (why) {
	case SUBS_SKIP_NONE:
		return "none";
	case SUBS_SKIP_EMPTY:
		return "empty line";
	case SUBS_SKIP_NUL:
		return "NUL in line";
	case SUBS_SKIP_LONG:
		return "line too long";
	case SUBS_SKIP_NAME:
		return "invalid mailbox name";
	case SUBS_SKIP_UNTERMINATED:
		return "last line without LF";
	}
	return "unknown";
}

static enum subs_ev
skip(struct subs_reader *r, enum subs_skip why)
{
	r->why = why;
	return SUBS_SKIP;
}
