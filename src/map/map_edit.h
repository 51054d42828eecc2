/* SPDX-License-Identifier: ISC */
/*
 * map_edit.h - editing one account's line of a users file (Dovecot
 * passwd-file, see map_text.h) in a text image, without I/O, for
 * `wren user`: every other byte of the file -- comments, blank lines,
 * unknown fields, CRLF line ends, a missing final newline, the order
 * of lines -- is kept as it is.
 *
 * A line is an entry when its first character other than space, tab
 * or CR is not '#'; its name runs from there to the first ':' (or the
 * line's end), compared without regard to ASCII case, as map_text
 * stores keys lower-cased.
 */
#ifndef WREN_MAP_EDIT_H
#define WREN_MAP_EDIT_H

#include <stddef.h>

/*
 * Finds the entry lines named name[0..nlen). Returns how many there
 * are (more than 1: a duplicate that `wren map` refuses), with the
 * first one's bytes [*start, *end) ending past its line end; with 0,
 * *start = *end = len (where an entry is appended). -1 when buf holds
 * a NUL byte (map_text refuses the file).
 */
int	map_edit_find(const char *buf, size_t len, const char *name,
	    size_t nlen, size_t *start, size_t *end);

/*
 * Writes into out buf with bytes [start, end) replaced by line
 * [0..llen) plus a line end, or removed when line is NULL. The line
 * end is the replaced line's own (none when it had none, at the end of
 * the file); an appended line (start = end = len) gets the file's
 * style, CRLF when its first line has one, and an unterminated last
 * line gets its line end first. Returns the length written, or -1
 * when out is too small or the span is not within buf.
 */
long	map_edit_splice(const char *buf, size_t len, size_t start,
	    size_t end, const char *line, size_t llen, char *out,
	    size_t cap);

/*
 * The entry line [0..llen) (without its line end) with its password
 * field replaced by secret, keeping the indentation, the name and every
 * field after the password. Returns the length, or -1 when out is too
 * small or the line has no name.
 */
long	map_edit_set_secret(const char *line, size_t llen,
	    const char *secret, size_t slen, char *out, size_t cap);

#endif
