/* SPDX-License-Identifier: ISC */
/*
 * control_parse.c - the request line of the queue's control socket
 * (protocol in control.h), without I/O: a verb, maybe a queue id.
 */
#include <string.h>

#include "queue/control.h"

static const char *const verb_name[] = {
	[CONTROL_PING] = "ping",
	[CONTROL_FLUSH] = "flush",
	[CONTROL_RETRY] = "retry",
	[CONTROL_DELETE] = "delete",
	[CONTROL_BOUNCE] = "bounce",
};
#define NVERBS	(sizeof verb_name / sizeof verb_name[0])

static const char *const err_text[] = {
	[CONTROL_OK] = "ok",
	[CONTROL_E_EMPTY] = "empty request",
	[CONTROL_E_LONG] = "request too long",
	[CONTROL_E_BYTE] = "invalid octet in request",
	[CONTROL_E_VERB] = "unknown command",
	[CONTROL_E_NO_ID] = "a queue id is required",
	[CONTROL_E_EXTRA] = "this command takes no argument",
	[CONTROL_E_ID] = "not a queue id",
};

enum control_err
control_parse(const char *line, size_t len, struct control_req *req)
{
	const char *sp;
	size_t vlen;

	memset(req, 0, sizeof *req);
	if (len > 0 && line[len - 1] == '\r') {
		len--;
	}
	if (len == 0) {
		return CONTROL_E_EMPTY;
	}
	if (len >= CONTROL_LINE_MAX) {
		return CONTROL_E_LONG;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch < 0x20 || ch > 0x7e) {
			return CONTROL_E_BYTE;
		}
	}
	sp = memchr(line, ' ', len);
	vlen = sp ? (size_t)(sp - line) : len;
	for (size_t v = 0; v < NVERBS; v++) {
		const char *arg;
		size_t alen;

		if (strlen(verb_name[v]) != vlen ||
		    memcmp(verb_name[v], line, vlen) != 0) {
			continue;
		}
		req->verb = (enum control_verb)v;
		if (v == CONTROL_PING || v == CONTROL_FLUSH) {
			return sp ? CONTROL_E_EXTRA : CONTROL_OK;
		}
		if (sp == NULL) {
			return CONTROL_E_NO_ID;
		}
		arg = sp + 1;
		alen = len - vlen - 1;
		if (alen == 0) {
			return CONTROL_E_NO_ID;
		}
		if (!envelope_id_valid(arg, alen)) {
			return CONTROL_E_ID;
		}
		memcpy(req->id, arg, alen);
		req->id[alen] = '\0';
		return CONTROL_OK;
	}
	return CONTROL_E_VERB;
}

const char *
control_strerror(enum control_err e)
{
	if ((size_t)e >= sizeof err_text / sizeof err_text[0]) {
		return "error";
	}
	return err_text[e];
}

const char *
control_verb_name(enum control_verb v)
{
	return (size_t)v < NVERBS ? verb_name[v] : "?";
}
