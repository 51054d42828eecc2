/* SPDX-License-Identifier: ISC */
/*
 * bounce.h - delivery status notifications to the envelope sender
 * (RFC 3464, in a multipart/report of RFC 6522), as Postfix writes
 * them: "Undelivered Mail Returned to Sender" for failed recipients,
 * "Delayed Mail (still being retried)" for a delay notice.
 *
 * The report is one message with LF line ends (as queue/msg/ files
 * are), in three parts:
 *
 *   1  text/plain: what happened, in words, per recipient
 *   2  message/delivery-status: Reporting-MTA, Arrival-Date,
 *      Original-Envelope-Id; per recipient Final-Recipient,
 *      Original-Recipient (from ORCPT), Action, Status, Remote-MTA,
 *      Diagnostic-Code, Will-Retry-Until
 *   3  the original: message/rfc822 (all of it) for a failure report
 *      when RET=FULL or no RET was given and the message is at most
 *      BOUNCE_FULL_MAX octets; else text/rfc822-headers (its header,
 *      at most BOUNCE_HDRS_MAX octets). Delay notices always carry the
 *      header only (RET concerns failures, RFC 3461 4.3).
 *
 * With SMTPUTF8 (RFC 6533) and a non-ASCII address in the report,
 * part 2 is message/global-delivery-status with "utf-8" addresses and
 * part 3 message/global or message/global-headers; the To: header
 * carries the UTF-8 address (RFC 6532). Without SMTPUTF8 no 8-bit
 * octet reaches a header or the status fields.
 *
 * Lines we generate stay under 80 octets where they can be folded (a
 * remote reply's long word is kept whole, under 998); the original's
 * lines are copied as they were accepted. The original is copied
 * through a small buffer, never read into memory.
 */
#ifndef WREN_BOUNCE_H
#define WREN_BOUNCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "queue/envelope.h"

/* Postfix returns at most bounce_size_limit (50000) octets. We return
 * a whole message up to 1 MiB -- the sender gets back what they sent,
 * attachments included, which is what users expect -- and only its
 * header beyond that, so a bounce never costs more than about 1 MiB
 * of queue space and SD-card writes. */
#define BOUNCE_FULL_MAX		(1024 * 1024)
/* The header returned alone: a hostile header section is cut at the
 * last line end within this bound. */
#define BOUNCE_HDRS_MAX		(64 * 1024)
/* Our own lines are folded at this width (RFC 5322 2.1.1: 78). */
#define BOUNCE_WIDTH		76

enum bounce_kind {
	BOUNCE_FAILURE,		/* Action: failed */
	BOUNCE_DELAY		/* Action: delayed */
};

/*
 * 1 when recipient i gets a report of this kind: the sender is not
 * <> (never a bounce to the null sender), the recipient failed
 * (FAILURE) or is deferred (DELAY), no report of that kind was recorded
 * for it yet ("reported" lines), and its NOTIFY asks for it (not
 * given: FAILURE and DELAY, RFC 3461 4.1; NEVER: nothing).
 */
int	bounce_rcpt_wanted(const struct envelope *, size_t i,
	    enum bounce_kind);

/* 1 when any recipient gets one: the caller composes a report. */
int	bounce_needed(const struct envelope *, enum bounce_kind);

struct bounce_req {
	const struct envelope	*env;
	enum bounce_kind	 kind;
	const char		*host;	/* ours: Reporting-MTA, From: */
	const char		*id;	/* the report's own queue id
					 * (Message-ID, MIME boundary) */
	int64_t			 now;	/* Date: */
	int64_t			 retry_until;	/* DELAY: when the queue
					 * gives up; 0 not said */
	int			 msg_fd;	/* queue/msg/<env id>, read
					 * with pread from offset 0;
					 * -1: no third part */
};

/*
 * Writes the report for every recipient bounce_rcpt_wanted selects to
 * fd (the caller's new queue file; it makes it durable and queues it
 * from <> to the sender, then appends a "reported" line per
 * recipient). Returns the number of recipients reported; 0 when none
 * is wanted (nothing is written); -1 with the reason on a read or
 * write error (the file is then incomplete).
 */
int	bounce_write(int fd, const struct bounce_req *, struct err *);

#endif
