/* SPDX-License-Identifier: ISC */
/*
 * fuzz_control.c - libFuzzer harness for the control socket's request
 * parser (queue/control.h): any bytes, as one line or split at each
 * LF as the server would see them. A request that parses must name a
 * verb and carry a valid id exactly when the verb takes one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/control.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
one(const char *p, size_t len)
{
	struct control_req req;
	char *copy = malloc(len > 0 ? len : 1);	/* exact size: ASan */
	enum control_err e;

	if (copy == NULL) {
		return;
	}
	memcpy(copy, p, len);
	e = control_parse(copy, len, &req);
	(void)control_strerror(e);
	if (e == CONTROL_OK) {
		int takes = req.verb == CONTROL_RETRY ||
		    req.verb == CONTROL_DELETE || req.verb == CONTROL_BOUNCE;
		size_t n = strlen(req.id);

		if (strcmp(control_verb_name(req.verb), "?") == 0 ||
		    (takes && !envelope_id_valid(req.id, n)) ||
		    (!takes && n != 0) || n >= CONTROL_LINE_MAX) {
			abort();
		}
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	one(p, size);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		one(p, len);
		p += len + (nl != NULL);
	}
	return 0;
}
