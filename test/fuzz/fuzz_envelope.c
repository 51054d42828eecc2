/* SPDX-License-Identifier: ISC */
/*
 * fuzz_envelope.c - libFuzzer harness for the queue envelope parser
 * and formatters (queue/envelope.h).
 *
 * The input is parsed as an envelope file whole and byte by byte; both
 * must give the same result (error, line, torn bytes, every field). A
 * good parse must hold its invariants (bounded, NUL-terminated strings,
 * 1 to ENVELOPE_RCPT_MAX recipients, status codes of the right class)
 * and must survive a round trip: the envelope formatted again, plus
 * the result lines formatted from its fields, parses back to the same
 * envelope. Every line of the input is also applied with
 * envelope_apply to a fixed envelope, which must change nothing when
 * it refuses the line; envelope_reason must fit any buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "queue/envelope.h"
#include "exact.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct envelope		a, b, c, base;
static struct envelope_parser	pa, pb, pc;
static char			text[ENVELOPE_WRITE_MAX +
				    ENVELOPE_RCPT_MAX * 3 *
				    (ENVELOPE_LINE_MAX + 2) + 256];

static int	parse(const char *, size_t, size_t, struct envelope_parser *,
		    struct envelope *);
static void	check_str(const char *, size_t);
static void	check(const struct envelope *);
static void	round_trip(const struct envelope *);
static void	apply_lines(const char *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	int ra, rb;

	ra = parse(in, size, 0, &pa, &a);
	rb = parse(in, size, 1, &pb, &b);
	if (ra != rb || pa.err != pb.err || pa.err_line != pb.err_line ||
	    pa.torn != pb.torn || (ra == 0 && memcmp(&a, &b, sizeof a) != 0)) {
		abort();	/* depends on how the bytes arrive */
	}
	if (ra == 0) {
		if (pa.err != ENVELOPE_OK || pa.torn > size) {
			abort();
		}
		check(&a);
		round_trip(&a);
	} else if (pa.err == ENVELOPE_OK ||
	    envelope_strerror(pa.err)[0] == '\0') {
		abort();
	}
	apply_lines(in, size);
	return 0;
}

/* Whole (step 0) or step bytes at a time, each in an exact copy. */
static int
parse(const char *in, size_t len, size_t step, struct envelope_parser *p,
    struct envelope *env)
{
	size_t n = step == 0 ? len : step;

	envelope_parser_init(p, env);
	for (size_t i = 0; i < len; i += n) {
		size_t k = len - i < n ? len - i : n;
		char *s = exact_dup(0, in + i, k);

		(void)envelope_feed(p, s, k);
		exact_done(s);
		if (p->err != ENVELOPE_OK) {
			return -1;
		}
	}
	return envelope_finish(p);
}

static void
check_str(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap) {
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			abort();
		}
	}
}

static void
check(const struct envelope *env)
{
	char reason[64];

	if (env->nrcpt == 0 || env->nrcpt > ENVELOPE_RCPT_MAX ||
	    env->version != 1 || env->arrival < 0 ||
	    env->arrival > ENVELOPE_TIME_MAX ||
	    !envelope_id_valid(env->id, strlen(env->id)) ||
	    (unsigned)env->ret > DSN_RET_HDRS) {
		abort();
	}
	check_str(env->id, sizeof env->id);
	check_str(env->sender, sizeof env->sender);
	check_str(env->envid, sizeof env->envid);
	check_str(env->client, sizeof env->client);
	for (size_t i = 0; i < env->nrcpt; i++) {
		const struct envelope_rcpt *r = &env->rcpt[i];
		int cls = dsn_status_class(r->code, strlen(r->code));

		check_str(r->addr, sizeof r->addr);
		check_str(r->orcpt, sizeof r->orcpt);
		check_str(r->code, sizeof r->code);
		check_str(r->mta, sizeof r->mta);
		check_str(r->text, sizeof r->text);
		if (r->addr[0] == '\0' || r->state > ENVELOPE_FAILED ||
		    (r->notify & ~DSN_NOTIFY_ALL) != 0 ||
		    (r->code[0] != '\0' && ((r->state == ENVELOPE_SENT &&
		    cls != 2) || (r->state == ENVELOPE_DEFERRED &&
		    cls != 4) || (r->state == ENVELOPE_FAILED && cls != 4 &&
		    cls != 5) || r->state == ENVELOPE_PENDING))) {
			abort();
		}
		for (size_t cap = 1; cap < sizeof reason; cap += 7) {
			size_t n = envelope_reason(r, reason, cap);

			if (n >= cap || reason[n] != '\0' ||
			    strlen(reason) != n) {
				abort();
			}
		}
	}
}

/* Formats env again (with its results as appended lines) and parses
 * that: the same envelope, but a missing client comes back as "-". */
static void
round_trip(const struct envelope *env)
{
	static struct envelope_spec_rcpt r[ENVELOPE_RCPT_MAX];
	struct envelope_spec s;
	size_t n;
	int k;

	for (size_t i = 0; i < env->nrcpt; i++) {
		r[i].addr = env->rcpt[i].addr;
		r[i].notify = env->rcpt[i].notify;
		r[i].orcpt = env->rcpt[i].orcpt;
	}
	memset(&s, 0, sizeof s);
	s.id = env->id;
	s.arrival = env->arrival;
	s.sender = env->sender;
	s.size = env->size;
	s.ret = env->ret;
	s.envid = env->envid;
	s.smtputf8 = env->smtputf8;
	s.body8 = env->body8;
	s.client = env->client[0] ? env->client : NULL;
	s.rcpt = r;
	s.nrcpt = env->nrcpt;
	k = envelope_format(text, sizeof text, &s);
	if (k < 0) {
		abort();
	}
	n = (size_t)k;
	/* retry first: the state lines after it set the final next try */
	if (env->retry_at > 0) {
		n += (size_t)envelope_format_admin(text + n, sizeof text - n,
		    ENVELOPE_RETRY, env->retry_at);
	}
	if (env->bounce_at > 0) {
		n += (size_t)envelope_format_admin(text + n, sizeof text - n,
		    ENVELOPE_BOUNCE, env->bounce_at);
	}
	for (size_t i = 0; i < env->nrcpt; i++) {
		const struct envelope_rcpt *rc = &env->rcpt[i];
		struct envelope_result res;
		static const unsigned kinds[] = { DSN_NOTIFY_SUCCESS,
		    DSN_NOTIFY_FAILURE, DSN_NOTIFY_DELAY };

		if (rc->state != ENVELOPE_PENDING) {
			res.state = rc->state;
			res.attempts = rc->attempts;
			res.next_try = rc->next_try;
			res.code = rc->code;
			res.mta = rc->mta;
			res.text = rc->text;
			res.textlen = strlen(rc->text);
			k = envelope_format_state(text + n, sizeof text - n, i,
			    &res);
			if (k < 0) {
				abort();
			}
			n += (size_t)k;
		}
		for (size_t j = 0; j < 3; j++) {
			if (rc->reported & kinds[j]) {
				k = envelope_format_reported(text + n,
				    sizeof text - n, i, kinds[j], 1);
				if (k < 0) {
					abort();
				}
				n += (size_t)k;
			}
		}
	}
	if (env->hold) {
		n += (size_t)envelope_format_admin(text + n, sizeof text - n,
		    ENVELOPE_HOLD, 1);
	}
	if (parse(text, n, 0, &pc, &c) != 0) {
		abort();
	}
	if (env->client[0] == '\0') {
		if (strcmp(c.client, "-") != 0) {
			abort();
		}
		c.client[0] = '\0';
		c.client[1] = '\0';
	}
	/* The parser leaves recipient slots past nrcpt as they were. */
	if (memcmp(&c, env, offsetof(struct envelope, rcpt) +
	    env->nrcpt * sizeof env->rcpt[0]) != 0) {
		abort();
	}
}

/* Each input line as an appended line to a fixed envelope. */
static void
apply_lines(const char *in, size_t len)
{
	static const char head[] = "wren-envelope 1\nid 1\narrival 1\n"
	    "sender a@b\nsize 1\nrcpt b@c notify=- orcpt=-\n"
	    "rcpt d@e notify=failure orcpt=rfc822;d@e\n";
	static struct envelope before;
	static const unsigned char zero[sizeof before];
	const char *p = in, *end = in + len;
	const unsigned char *tail;
	size_t used;

	if (parse(head, sizeof head - 1, 0, &pc, &base) != 0) {
		abort();
	}
	/* Copying and comparing the whole envelope (100 recipient slots)
	 * at each line cost most of the run; the slots past nrcpt are
	 * checked once at the end instead: static, so zero, and no line
	 * may touch them, refused or not. */
	used = offsetof(struct envelope, rcpt) +
	    base.nrcpt * sizeof base.rcpt[0];
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);
		char *s = exact_dup(0, p, ll);

		memcpy(&before, &base, used);
		if (envelope_apply(&base, s, ll) != ENVELOPE_OK &&
		    memcmp(&before, &base, used) != 0) {
			abort();
		}
		exact_done(s);
		p = nl ? nl + 1 : end;
	}
	if (base.nrcpt * sizeof base.rcpt[0] + offsetof(struct envelope,
	    rcpt) != used) {
		abort();	/* a line changed the recipient count */
	}
	/* memcmp, not a loop: the loop's coverage hooks cost more */
	tail = (const unsigned char *)&base + used;
	if (memcmp(tail, zero, sizeof base - used) != 0) {
		abort();
	}
	check(&base);
}
