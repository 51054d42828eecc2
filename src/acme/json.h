/* SPDX-License-Identifier: ISC */
/*
 * json.h - a JSON reader (RFC 8259), sans-I/O, for the documents an
 * ACME server sends (RFC 8555 7.1): objects, arrays, strings with
 * escapes, numbers, true, false, null. The document is checked whole
 * and cut into tokens in the caller's array, as jsmn does; nothing is
 * copied until json_str decodes one string.
 *
 *   struct json_tok t[JSON_TOKENS_MAX];
 *   int n = json_parse(body, len, t, JSON_TOKENS_MAX);
 *   int i = json_member(body, t, n, 0, "status");
 *   if (i >= 0 && json_str_is(body, &t[i], "valid")) ...
 *
 * Token 0 is the top value. A token's `next` is the index just past
 * its value (children included), so siblings are walked without
 * recursion. Nesting deeper than JSON_DEPTH_MAX, more tokens than the
 * array holds, a document over 2^31 octets, invalid UTF-8 escapes and
 * trailing text are errors.
 */
#ifndef WREN_JSON_H
#define WREN_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

enum json_type {
	JSON_OBJECT = 1,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL
};

enum json_err {
	JSON_ERR_SYNTAX = -1,
	JSON_ERR_DEPTH = -2,
	JSON_ERR_TOKENS = -3,
	JSON_ERR_SIZE = -4
};

struct json_tok {
	uint8_t		type;		/* enum json_type */
	uint32_t	start, end;	/* the text; a string's inside the
					 * quotes, still escaped */
	uint32_t	next;		/* index past this value */
	uint32_t	n;		/* members or elements */
};

/* Tokens of s[0..len) into t[0..cap): their count, or a json_err. */
int	json_parse(const char *s, size_t len, struct json_tok *t, size_t cap);

/* In object t[obj] (of n tokens), the value of member key: its index,
 * or -1 when absent or t[obj] is no object. The key is compared as
 * written (ACME's keys have no escapes). */
int	json_member(const char *s, const struct json_tok *t, int n, int obj,
	    const char *key);

/* Element i of array t[arr]: its index, or -1. */
int	json_elem(const struct json_tok *t, int n, int arr, size_t i);

/* String t[i] decoded (escapes, \u with surrogate pairs, to UTF-8)
 * into out with a NUL: its length, or -1 when it is no string, holds
 * \u0000 or does not fit. */
long	json_str(const char *s, const struct json_tok *t, int i, char *out,
	    size_t cap);

/* 1 when t (may be NULL) is a string whose text is lit as written. */
int	json_str_is(const char *s, const struct json_tok *t, const char *lit);

/* Number t[i] as a non-negative integer up to 2^53: 0, or -1 when it
 * is no number of that form. */
int	json_uint(const char *s, const struct json_tok *t, int i,
	    uint64_t *out);

#endif
