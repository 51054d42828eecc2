/*
 * imap_mailbox.c - the commands on mailboxes as a whole (RFC 3501
 * 6.3): LIST, LSUB and STATUS, and how a mailbox name becomes a
 * Maildir++ folder path.
 */
#include <dirent.h>
#include <string.h>
#include <strings.h>

#include "core/fmt.h"
#include "core/log.h"
#include "imap/imap_int.h"
#include "imap/imap_pattern.h"

static int		 mailbox_arg(const struct imap_arg *, char *, size_t,
			    size_t *);
static const char	*special_use(const char *);
static void		 list(struct imap_session *, int lsub);
static int		 status_item(const struct imap_arg *);

/*
 * Maildir++ names: INBOX is Maildir/ itself, "Sent" is Maildir/.Sent,
 * "a.b" is Maildir/.a.b. Names with "/", "..", a leading "." or
 * control bytes are refused.
 */
int
imap_mailbox_path(const struct imap_session *s, const char *name, size_t len,
    char *out, size_t cap)
{
	if (len == 5 && strncasecmp(name, "INBOX", 5) == 0) {
		return fmt(out, cap, "%s/Maildir", s->home) < (int)cap ? 0 :
		    -1;
	}
	if (len == 0 || len > 200 || name[0] == '.' || name[len - 1] == '.') {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch < 0x20 || ch == 0x7f || ch == '/' || (ch == '.' &&
		    i + 1 < len && name[i + 1] == '.')) {
			return -1;
		}
	}
	return fmt(out, cap, "%s/Maildir/.%.*s", s->home, (int)len, name) <
	    (int)cap ? 0 : -1;
}

/* A mailbox name argument into buf: 1, or 0 when the string is longer
 * than cap (no mailbox has such a name), or -1 when it is no string. */
static int
mailbox_arg(const struct imap_arg *a, char *buf, size_t cap, size_t *len)
{
	if (imap_arg_str(a, buf, cap, len) == 0) {
		return 1;
	}
	switch (a->type) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_NUMBER:
	case IMAP_ARG_QUOTED:
	case IMAP_ARG_LITERAL:
		return 0;
	default:
		return -1;
	}
}

/*
 * LIST and LSUB over INBOX and the Maildir++ folders (every folder
 * counts as subscribed). Patterns (imap_pattern.h): '*' matches
 * anything, '%' anything but the '.' hierarchy delimiter, in time
 * linear in the name whatever the pattern.
 */
static const char *
special_use(const char *name)
{
	static const char *const su[][2] = {
		{ "Sent", "\\Sent" }, { "Drafts", "\\Drafts" },
		{ "Trash", "\\Trash" }, { "Junk", "\\Junk" },
		{ "Archive", "\\Archive" },
	};

	for (size_t i = 0; i < sizeof su / sizeof su[0]; i++) {
		if (strcmp(name, su[i][0]) == 0) {
			return su[i][1];
		}
	}
	return NULL;
}

static void
list(struct imap_session *s, int lsub)
{
	struct imap_cmd *cmd = &s->ws->cmd;
	const char *what = lsub ? "LSUB" : "LIST";
	char ref[IMAP_MAILBOX_MAX + 1], pat[IMAP_MAILBOX_MAX + 1];
	char path[MBOX_PATH_MAX], full[IMAP_PATTERN_MAX];
	size_t rlen, plen;
	struct dirent *d;
	DIR *dir;

	if (imap_arg_str(&cmd->args[0], ref, sizeof ref, &rlen) == -1 ||
	    imap_arg_str(&cmd->args[cmd->args[0].next], pat, sizeof pat,
	    &plen) == -1) {
		imap_bad(s, "Invalid arguments");
		return;
	}
	if (plen == 0) {
		/* RFC 3501 6.3.8: the delimiter and root. */
		(void)imap_outf(s, "* %s (\\Noselect) \".\" \"\"\r\n", what);
		imap_tagged(s, "OK", "%s completed", what);
		return;
	}
	if (rlen + plen > sizeof full) {
		imap_bad(s, "Pattern too long");
		return;
	}
	memcpy(full, ref, rlen);
	memcpy(full + rlen, pat, plen);
	if (imap_pattern_match(full, rlen + plen, "INBOX", 5, '.') == 1) {
		(void)imap_outf(s, "* %s (\\HasNoChildren) \".\" INBOX\r\n",
		    what);
	}
	if (fmt(path, sizeof path, "%s/Maildir", s->home) >=
	    (int)sizeof path) {
		imap_tagged(s, "NO", "[UNAVAILABLE] Mailbox path too long");
		return;
	}
	if ((dir = opendir(path)) != NULL) {
		while ((d = readdir(dir)) != NULL) {
			const char *n = d->d_name + 1;
			/* A quoted name: every octet may need a '\'. */
			char q[2 * sizeof d->d_name + 2];
			const char *use;
			size_t nl = strlen(n), ql;

			if (d->d_name[0] != '.' || nl == 0 || n[0] == '.' ||
			    imap_pattern_match(full, rlen + plen, n, nl,
			    '.') != 1) {
				continue;
			}
			use = special_use(n);
			if ((ql = imap_astring_fmt(q, sizeof q, n, nl)) <=
			    sizeof q) {
				(void)imap_outf(s, "* %s (\\HasNoChildren%s%s) "
				    "\".\" %.*s\r\n", what, use ? " " : "",
				    use ? use : "", (int)ql, q);
			}
		}
		closedir(dir);
	}
	imap_tagged(s, "OK", "%s completed", what);
}

/* A STATUS item's name is one of these (RFC 3501 6.3.10). */
static int
status_item(const struct imap_arg *a)
{
	return imap_arg_is(a, "MESSAGES") || imap_arg_is(a, "RECENT") ||
	    imap_arg_is(a, "UIDNEXT") || imap_arg_is(a, "UIDVALIDITY") ||
	    imap_arg_is(a, "UNSEEN");
}

/*
 * The items are checked before the mailbox is looked up, so an unknown
 * item is BAD whether or not the mailbox exists. A name longer than
 * any mailbox can have is NO [NONEXISTENT], like any other name that
 * is not there; its quoted form always fits q (every octet escaped).
 */
void
imap_cmd_status(struct imap_session *s)
{
	struct imap_cmd *cmd = &s->ws->cmd;
	const struct imap_arg *items = &cmd->args[cmd->args[0].next];
	char name[IMAP_MAILBOX_MAX + 1], path[MBOX_PATH_MAX], out[256];
	char q[2 * IMAP_MAILBOX_MAX + 2];
	struct mbox_view v = { 0 };
	size_t nlen, ol = 0, ql;
	struct err e;
	uint32_t unseen = 0;
	unsigned first;
	int r;

	if (items->type != IMAP_ARG_LIST) {
		imap_bad(s, "Invalid arguments");
		return;
	}
	first = (unsigned)(items - cmd->args) + 1;
	for (unsigned j = first; j < items->next; j = cmd->args[j].next) {
		if (!status_item(&cmd->args[j])) {
			imap_bad(s, "Invalid status item");
			return;
		}
	}
	if ((r = mailbox_arg(&cmd->args[0], name, sizeof name, &nlen)) ==
	    -1) {
		imap_bad(s, "Invalid arguments");
		return;
	}
	if (r == 0 || imap_mailbox_path(s, name, nlen, path, sizeof path) == -1 ||
	    (ql = imap_astring_fmt(q, sizeof q, name, nlen)) > sizeof q ||
	    mbox_select(path, &v, 1, &e) == -1) {
		imap_tagged(s, "NO", "[NONEXISTENT] No such mailbox");
		return;
	}
	for (uint32_t i = 1; i <= v.exists; i++) {
		const struct mbox_msg *m = mbox_view_seq(&v, i);

		unseen += m != NULL && !(m->flags & MF_SEEN);
	}
	for (unsigned j = first; j < items->next; j = cmd->args[j].next) {
		const struct imap_arg *a = &cmd->args[j];
		const char *sep = ol ? " " : "";
		int n = -1;

		if (imap_arg_is(a, "MESSAGES")) {
			n = fmt(out + ol, sizeof out - ol, "%sMESSAGES %u", sep,
			    v.exists);
		} else if (imap_arg_is(a, "RECENT")) {
			n = fmt(out + ol, sizeof out - ol, "%sRECENT %u", sep,
			    v.nrecent);
		} else if (imap_arg_is(a, "UIDNEXT")) {
			n = fmt(out + ol, sizeof out - ol, "%sUIDNEXT %u", sep,
			    mbox_uidnext(v.mb));
		} else if (imap_arg_is(a, "UIDVALIDITY")) {
			n = fmt(out + ol, sizeof out - ol, "%sUIDVALIDITY %u",
			    sep, mbox_uidvalidity(v.mb));
		} else if (imap_arg_is(a, "UNSEEN")) {
			n = fmt(out + ol, sizeof out - ol, "%sUNSEEN %u", sep,
			    unseen);
		}
		if (n < 0 || (size_t)n >= sizeof out - ol) {
			/* Items repeated past any sensible request. */
			mbox_unselect(&v);
			imap_bad(s, "Too many status items");
			return;
		}
		ol += (size_t)n;
	}
	mbox_unselect(&v);
	(void)imap_outf(s, "* STATUS %.*s (%.*s)\r\n", (int)ql, q, (int)ol,
	    out);
	imap_tagged(s, "OK", "STATUS completed");
}


void
imap_cmd_list(struct imap_session *s)
{
	list(s, 0);
}

void
imap_cmd_lsub(struct imap_session *s)
{
	list(s, 1);
}
