/* SPDX-License-Identifier: ISC */
/*
 * sendmail.c - `wren sendmail` (and argv[0] `sendmail`): local
 * submission as sendmail(1) and Postfix's sendmail do it. The message
 * is read from standard input and written durably to data_dir/maildrop/
 * (format and permissions in queue/maildrop.h), whether or not the
 * server runs; the server's pickup queues it.
 *
 *   -t            recipients also from To:, Cc:, Bcc: (or the Resent-
 *                 ones when there are any); Bcc: is always removed
 *   -i, -oi       a line with a single "." does not end the message
 *   -f SENDER     envelope sender (also -fSENDER; -r is the same);
 *                 "" or "<>" is the null sender
 *   -F NAME       full name for the From: added when there is none
 *   -bp           the queue, as mailq;  -bi, -I  newaliases
 *   -bv           where each recipient would go (sendmail 8's verify
 *                 mode), nothing is sent
 *   -c FILE       wren's configuration (-C too)
 *   -B -N -R -V -X -e -h -L -m -n -o* -od* -O -U -v -x -G -A
 *                 accepted and ignored, as Postfix does
 *
 * Bare names (no @) get @origin, in the envelope and in the From:,
 * To:, Cc:, Reply-To:, Sender: and Resent- fields. From:, Date: and
 * Message-ID: are added when missing (RFC 5322 3.6: From and Date are
 * required), as Postfix does for local mail. Line ends may be LF or
 * CR LF; the maildrop stores LF. Exit codes are sysexits(3): EX_USAGE
 * bad flags or no recipient, EX_NOUSER a bad address, EX_DATAERR a
 * message over message_size_limit or with too big a header,
 * EX_CANTCREAT the maildrop cannot be written, EX_TEMPFAIL writing it
 * failed (disk full), EX_CONFIG the configuration, EX_OSERR no login
 * name.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>		/* fopen for fgetpwent, renameat */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/fmt.h"
#include "core/privs.h"
#include "map/map.h"
#include "map/resolve.h"
#include "msg/base64.h"
#include "msg/date.h"
#include "queue/maildrop.h"

#define SM_IN_BUF	65536	/* a line longer than this streams on */
#define SM_OUT_BUF	65536
#define SM_NAME_TRIES	8	/* fresh names when one exists */
#define SM_GECOS_MAX	256
#define SM_FROM_MAX	(4 * SM_GECOS_MAX + ADDR_MAX + 64)

struct sm_opts {
	const char	*config;
	const char	*sender;	/* -f, -r; NULL: the login */
	const char	*fullname;	/* -F */
	int		 extract;	/* -t */
	int		 ignore_dots;	/* -i, -oi */
	int		 verbose;	/* -v */
	char		 mode;		/* -b: m (mail), p, i, v */
};

/* Standard input, as pieces of lines. */
struct sm_in {
	char	buf[SM_IN_BUF];
	size_t	start, end;
	int	eof;
};

/* The maildrop file being written. */
struct sm_out {
	int		fd;
	char		buf[SM_OUT_BUF];
	size_t		len;
	uint64_t	total;		/* message bytes, no header */
	uint64_t	limit;
	int		err;		/* errno of a failed write */
	int		too_big;
};

static struct sm_in	in;
static struct sm_out	out;
static char		hdr[MAILDROP_MSG_HEADER_MAX];
static size_t		hdrlen;
static char		qual[MAILDROP_MSG_HEADER_MAX];	/* one field,
							 * qualified */
static char		rcpt_store[MAILDROP_RCPT_MAX][ADDR_MAX + 1];
static struct maildrop_env menv;
static char		mhead[MAILDROP_HEAD_MAX];

/* For the signal handler: the temporary file to remove. */
static volatile sig_atomic_t	tmp_made;
static int			tmp_dirfd = -1;
static char			tmp_name[MAILDROP_NAME_LEN + 2];

static int	parse_opts(int, char **, struct sm_opts *, int *);
static int	login_name(uid_t, char *, size_t, char *, size_t);
static int	qualify(const char *, size_t, const char *, char *, size_t);
static int	add_rcpt(const char *, size_t, const char *);
static int	add_list(const char *, size_t, const char *, const char *);
static int	in_piece(const char **, size_t *, int *);
static int	read_header(const struct sm_opts *, const char **, size_t *,
		    int *, int *);
static int	extract(const char *);
static int	open_maildrop(const struct cfg *, int *, struct err *);
static int	new_file(int, char *, size_t);
static void	on_signal(int);
static void	out_put(const char *, size_t);
static int	out_flush(void);
static void	write_header(const struct sm_opts *, const char *,
		    const char *, const char *, const char *, const char *,
		    const char *);
static int	is_address_field(const struct maildrop_field *);

static size_t	from_phrase(const char *, char *, size_t);
static int	verify(const struct cfg *);
static int	fail(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

int
cmd_sendmail(int argc, char **argv)
{
	static struct cfg c;
	struct sm_opts o;
	struct err e;
	char origin_buf[CFG_HOST_MAX + 1], host[CFG_HOST_MAX + 1];
	char login[ADDR_LOCAL_MAX + 1], gecos[SM_GECOS_MAX];
	char sender[ADDR_MAX + 1], self[ADDR_MAX + 1];
	char name[MAILDROP_NAME_LEN + 1];
	const char *origin, *hostname, *first = NULL;
	size_t firstlen = 0;
	int first_nl = 0, at_end = 0, dirfd, dirsync = -1, fd, optind_end;
	long hl;

	if (parse_opts(argc, argv, &o, &optind_end) == -1) {
		return EX_USAGE;
	}
	if (o.mode == 'p' || o.mode == 'i') {
		char *args[] = { (char *)(o.mode == 'p' ? "mailq" :
		    "newaliases"), (char *)"-c", (char *)o.config,
		    (char *)"list", NULL };

		return o.mode == 'p' ? cmd_queue(4, args) :
		    cmd_newaliases(3, args);
	}
	if (cfg_load(&c, o.config, &e) == -1) {
		return fail(EX_CONFIG, "%s", e.msg);
	}
	hostname = cfg_hostname(&c, host, sizeof host);
	origin = cfg_str(&c, CFG_ORIGIN);
	if (origin[0] == '\0') {
		memcpy(origin_buf, hostname, strlen(hostname) + 1);
		origin = origin_buf;
	}
	out.limit = (uint64_t)cfg_num(&c, CFG_MESSAGE_SIZE_LIMIT);
	if (login_name(getuid(), login, sizeof login, gecos,
	    sizeof gecos) == -1) {
		return fail(EX_OSERR, "no login name for uid %u in "
		    "/etc/passwd", (unsigned)getuid());
	}

	/* The envelope sender. */
	if (qualify(login, strlen(login), origin, self, sizeof self) == -1) {
		return fail(EX_NOUSER, "bad login name '%s'", login);
	}
	if (o.sender == NULL) {
		memcpy(sender, self, sizeof sender);
	} else {
		const char *s = o.sender;
		size_t sl = strlen(s);

		if (sl >= 2 && s[0] == '<' && s[sl - 1] == '>') {
			s++;
			sl -= 2;
		}
		if (sl == 0) {
			sender[0] = '\0';
		} else if (qualify(s, sl, origin, sender, sizeof sender) ==
		    -1) {
			return fail(EX_NOUSER, "bad sender address '%s'",
			    o.sender);
		}
	}

	/* Recipients on the command line, each an address list. */
	for (int i = optind_end; i < argc; i++) {
		int rc = add_list(argv[i], strlen(argv[i]), origin, argv[i]);

		if (rc != 0) {
			return rc;
		}
	}

	if (o.mode == 'v') {
		return menv.nrcpt == 0 ? fail(EX_USAGE, "no recipients") :
		    verify(&c);
	}
	switch (read_header(&o, &first, &firstlen, &first_nl, &at_end)) {
	case 0:
		break;
	case EX_DATAERR:
		return fail(EX_DATAERR, "message header larger than %d "
		    "bytes", MAILDROP_MSG_HEADER_MAX);
	default:
		return fail(EX_IOERR, "reading the message: %s",
		    strerror(errno));
	}
	if (o.extract) {
		int rc = extract(origin);

		if (rc != 0) {
			return rc;
		}
	}
	if (menv.nrcpt == 0) {
		return fail(EX_USAGE, "no recipients%s", o.extract ? " in "
		    "the arguments or the To:, Cc: and Bcc: headers" :
		    " (give addresses, or -t)");
	}

	/* The maildrop file's own header. */
	menv.uid = (uint32_t)getuid();
	menv.arrival = (int64_t)time(NULL);
	menv.sender = sender;
	{
		int utf8 = 0;

		(void)maildrop_addr_ok(sender, strlen(sender), &utf8);
		for (size_t i = 0; i < menv.nrcpt; i++) {
			(void)maildrop_addr_ok(menv.rcpt[i],
			    strlen(menv.rcpt[i]), &utf8);
		}
		menv.flags = utf8 ? MAILDROP_F_SMTPUTF8 : 0;
	}
	hl = maildrop_format(mhead, sizeof mhead, &menv);
	if (hl < 0) {
		return fail(EX_USAGE, "too many recipients for one message");
	}

	/* The file: .<name>, synced, renamed to <name>. */
	if (open_maildrop(&c, &dirsync, &e) == -1) {
		return fail(EX_CANTCREAT, "%s", e.msg);
	}
	dirfd = tmp_dirfd;
	fd = new_file(dirfd, name, sizeof name);
	if (fd == -1) {
		return fail(EX_CANTCREAT, "%s/maildrop: %s",
		    cfg_str(&c, CFG_DATA_DIR), strerror(errno));
	}
	out.fd = fd;
	if (out_flush() == -1) {
		goto write_failed;
	}
	out_put(mhead, (size_t)hl);
	out.total = 0;
	write_header(&o, sender, self, gecos, hostname, origin, name);
	out_put("\n", 1);
	if (first != NULL) {
		out_put(first, firstlen);
	}
	while (!at_end && !out.too_big && out.err == 0) {
		const char *p;
		size_t len;
		int nl, rc, bol = first == NULL || first_nl;

		rc = in_piece(&p, &len, &nl);
		if (rc == 0) {
			break;
		}
		if (rc == -1) {
			out.err = errno;
			break;
		}
		first = p;	/* not NULL: a line was seen */
		first_nl = nl;
		if (nl && len >= 2 && p[len - 2] == '\r') {
			len--;
			((char *)p)[len - 1] = '\n';
		}
		if (bol && !o.ignore_dots && ((nl && len == 2 &&
		    p[0] == '.') || (!nl && in.eof && len == 1 &&
		    p[0] == '.'))) {
			break;
		}
		out_put(p, len);
	}
	if (out.too_big) {
		close(fd);
		unlinkat(dirfd, tmp_name, 0);
		return fail(EX_DATAERR, "message larger than "
		    "message_size_limit (%llu bytes)",
		    (unsigned long long)out.limit);
	}
	if (out_flush() == -1 || out.err != 0 || fsync(fd) == -1 ||
	    renameat(dirfd, tmp_name, dirfd, name) == -1) {
		goto write_failed;
	}
	tmp_made = 0;
	/* The rename must be durable too. A user who may not read the
	 * directory cannot fsync it: syncfs covers it then. */
	if ((dirsync != -1 ? fsync(dirsync) : syncfs(fd)) == -1) {
		out.err = errno;
		close(fd);
		return fail(EX_TEMPFAIL, "maildrop/%s: sync: %s", name,
		    strerror(out.err));
	}
	close(fd);
	if (o.verbose) {
		fmt_fd(STDERR_FILENO, "sendmail: queued as maildrop/%s for "
		    "%zu recipient%s\n", name, menv.nrcpt,
		    menv.nrcpt == 1 ? "" : "s");
	}
	return EX_OK;

write_failed:
	if (out.err == 0) {
		out.err = errno;
	}
	close(fd);
	unlinkat(dirfd, tmp_name, 0);
	return fail(EX_TEMPFAIL, "writing to maildrop: %s",
	    strerror(out.err));
}

/*
 * sendmail's flags (getopt, options before operands). Postfix accepts
 * and ignores most of sendmail 8's: scripts pass them blindly.
 */
static int
parse_opts(int argc, char **argv, struct sm_opts *o, int *first)
{
	static const char optstring[] =
	    "+A:B:b:C:c:e:F:f:GIh:iL:mN:nO:o:p:q:R:r:tUV:vX:x";
	int ch;

	memset(o, 0, sizeof *o);
	o->config = WREN_DEFAULT_CONFIG;
	o->mode = 'm';
	optind = 1;
	opterr = 0;
	while ((ch = getopt(argc, argv, optstring)) != -1) {
		switch (ch) {
		case 'c':
		case 'C':
			o->config = optarg;
			break;
		case 't':
			o->extract = 1;
			break;
		case 'i':
			o->ignore_dots = 1;
			break;
		case 'o':
			/* -oi as -i; -oem, -odb, -oQ... ignored. */
			if (strcmp(optarg, "i") == 0) {
				o->ignore_dots = 1;
			}
			break;
		case 'f':
		case 'r':
			o->sender = optarg;
			break;
		case 'F':
			o->fullname = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'I':
			o->mode = 'i';
			break;
		case 'b':
			if (strcmp(optarg, "m") == 0 ||
			    strcmp(optarg, "p") == 0 ||
			    strcmp(optarg, "i") == 0 ||
			    strcmp(optarg, "v") == 0) {
				o->mode = optarg[0];
				break;
			}
			fmt_fd(STDERR_FILENO, "sendmail: -b%s is not "
			    "supported (-bm, -bp, -bi and -bv are)\n",
			    optarg);
			return -1;
		case 'q':
			fmt_fd(STDERR_FILENO, "sendmail: -q: the server "
			    "delivers by itself; see wren queue\n");
			return -1;
		case '?':
		case ':':
			fmt_fd(STDERR_FILENO, "sendmail: bad option '-%c'\n"
			    "usage: sendmail [-t] [-i] [-f SENDER] "
			    "[-F NAME] [-c FILE] [RECIPIENT ...]\n", optopt);
			return -1;
		default:
			break;		/* accepted, ignored */
		}
	}
	*first = optind;
	return 0;
}

/* The login name of uid and the full name from its GECOS field (up
 * to the first comma, '&' standing for the login capitalised), read
 * with fgetpwent: a static binary has no NSS for getpwuid. */
static int
login_name(uid_t uid, char *name, size_t cap, char *gecos, size_t gcap)
{
	struct passwd *pw;
	FILE *f = fopen("/etc/passwd", "re");

	if (f == NULL) {
		return -1;
	}
	while ((pw = fgetpwent(f)) != NULL) {
		size_t n = strlen(pw->pw_name), g = 0;

		if (pw->pw_uid != uid) {
			continue;
		}
		if (n == 0 || n >= cap) {
			break;
		}
		memcpy(name, pw->pw_name, n + 1);
		for (const char *p = pw->pw_gecos ? pw->pw_gecos : "";
		    *p != '\0' && *p != ',' && g + n + 1 < gcap; p++) {
			if (*p == '&') {
				memcpy(gecos + g, name, n);
				if (gecos[g] >= 'a' && gecos[g] <= 'z') {
					gecos[g] = (char)(gecos[g] - 32);
				}
				g += n;
			} else {
				gecos[g++] = *p;
			}
		}
		gecos[g] = '\0';
		fclose(f);
		return 0;
	}
	fclose(f);
	return -1;
}

/* s[0..len) with @origin added to a bare name, checked; -1 when it is
 * no address the maildrop takes. */
static int
qualify(const char *s, size_t len, const char *origin, char *dst,
    size_t cap)
{
	int n;

	if (memchr(s, '@', len) != NULL) {
		n = fmt(dst, cap, "%.*s", (int)len, s);
	} else {
		n = fmt(dst, cap, "%.*s@%s", (int)len, s, origin);
	}
	if (n < 0 || (size_t)n >= cap || memchr(s, '\0', len) != NULL ||
	    !maildrop_addr_ok(dst, (size_t)n, NULL)) {
		return -1;
	}
	return 0;
}

/* Adds one recipient unless it is there already (compared without
 * regard to case, as Postfix's duplicate filter does). */
static int
add_rcpt(const char *a, size_t len, const char *origin)
{
	char *slot;

	if (menv.nrcpt == MAILDROP_RCPT_MAX) {
		return fail(EX_USAGE, "more than %d recipients",
		    MAILDROP_RCPT_MAX);
	}
	slot = rcpt_store[menv.nrcpt];
	if (qualify(a, len, origin, slot, ADDR_MAX + 1) == -1) {
		return fail(EX_NOUSER, "bad recipient address '%.*s'",
		    (int)len, a);
	}
	for (size_t i = 0; i < menv.nrcpt; i++) {
		if (strcasecmp(menv.rcpt[i], slot) == 0) {
			return 0;
		}
	}
	menv.rcpt[menv.nrcpt++] = slot;
	return 0;
}

/* Every address of an address list (an argument, or a header value);
 * `what` names it in messages. */
static int
add_list(const char *v, size_t len, const char *origin, const char *what)
{
	char a[ADDR_MAX + 1];
	size_t pos = 0;
	int rc;

	while ((rc = maildrop_addr_next(v, len, &pos, a, sizeof a)) != 0) {
		if (rc == -1) {
			return fail(EX_NOUSER, "bad address in '%s'", what);
		}
		if ((rc = add_rcpt(a, strlen(a), origin)) != 0) {
			return rc;
		}
	}
	return 0;
}

/* The next piece of input: a line with its LF, or as much of a longer
 * line as the buffer holds (never ending in a CR whose LF may follow).
 * 1, 0 at the end, -1 on a read error. The piece stays valid until
 * the next call. */
static int
in_piece(const char **p, size_t *len, int *nl)
{
	for (;;) {
		char *s = in.buf + in.start;
		size_t have = in.end - in.start;
		char *lf = memchr(s, '\n', have);
		ssize_t n;

		if (lf != NULL || (have > 0 && (in.eof ||
		    have == sizeof in.buf))) {
			size_t l = lf ? (size_t)(lf - s) + 1 : have;

			if (lf == NULL && !in.eof && l > 1 &&
			    s[l - 1] == '\r') {
				l--;
			}
			*p = s;
			*len = l;
			*nl = lf != NULL;
			in.start += l;
			return 1;
		}
		if (in.eof) {
			return 0;
		}
		if (in.start > 0) {
			memmove(in.buf, s, have);
			in.start = 0;
			in.end = have;
		}
		do {
			n = read(STDIN_FILENO, in.buf + in.end,
			    sizeof in.buf - in.end);
		} while (n == -1 && errno == EINTR);
		if (n == -1) {
			return -1;
		}
		if (n == 0) {
			in.eof = 1;
		}
		in.end += (size_t)n;
	}
}

/*
 * Reads the header block into hdr (LF line ends). Ends at the empty
 * line (dropped: write_header writes one), at the first line that is
 * no header field (it is the body's first line: *first), at a "." line
 * (unless -i: the message ends, *at_end) or at the end of the input. A
 * leading Unix "From " line is dropped as Postfix does. 0, EX_DATAERR
 * when the header does not fit, -1 on a read error.
 */
static int
read_header(const struct sm_opts *o, const char **first, size_t *flen,
    int *first_nl, int *at_end)
{
	int lineno = 0;

	for (;;) {
		const char *p;
		size_t len, l;
		int nl, rc = in_piece(&p, &len, &nl);

		if (rc <= 0) {
			*at_end = 1;
			return rc;
		}
		l = len;
		if (nl && l >= 2 && p[l - 2] == '\r') {
			l--;
			((char *)p)[l - 1] = '\n';
		}
		if (!o->ignore_dots && ((nl && l == 2 && p[0] == '.') ||
		    (!nl && l == 1 && p[0] == '.' && in.eof))) {
			*at_end = 1;
			return 0;
		}
		if (lineno++ == 0 && l >= 5 && memcmp(p, "From ", 5) == 0 &&
		    nl) {
			continue;
		}
		if (nl && l == 1) {
			return 0;		/* the separator */
		}
		if (!nl || (maildrop_header_line(p, l - 1) ==
		    MAILDROP_HL_BODY) || (hdrlen == 0 &&
		    maildrop_header_line(p, l - 1) == MAILDROP_HL_CONT)) {
			*first = p;
			*flen = l;
			*first_nl = nl;
			return 0;
		}
		if (l > sizeof hdr - hdrlen) {
			return EX_DATAERR;
		}
		memcpy(hdr + hdrlen, p, l);
		hdrlen += l;
	}
}

/* -t: the addresses of To, Cc and Bcc; of Resent-To, Resent-Cc and
 * Resent-Bcc instead when there is any of those (RFC 5322 3.6.6). */
static int
extract(const char *origin)
{
	static const char *const plain[] = { "To", "Cc", "Bcc" };
	static const char *const resent[] = { "Resent-To", "Resent-Cc",
	    "Resent-Bcc" };
	const char *const *names = plain;
	struct maildrop_field f;
	size_t pos = 0;

	while (maildrop_field_next(hdr, hdrlen, &pos, &f) == 1) {
		for (int i = 0; i < 3; i++) {
			if (maildrop_field_is(&f, resent[i])) {
				names = resent;
			}
		}
	}
	pos = 0;
	while (maildrop_field_next(hdr, hdrlen, &pos, &f) == 1) {
		for (int i = 0; i < 3; i++) {
			int rc;
			char what[80];

			if (!maildrop_field_is(&f, names[i])) {
				continue;
			}
			(void)fmt(what, sizeof what, "%s: %.*s", names[i],
			    (int)(f.vlen < 40 ? f.vlen : 40), f.value);
			for (char *w = what; *w != '\0'; w++) {
				if (*w == '\n' || *w == '\r' || *w == '\t') {
					*w = ' ';
				}
			}
			rc = add_list(f.value, f.vlen, origin, what);
			if (rc != 0) {
				return rc;
			}
		}
	}
	return 0;
}

/*
 * Opens data_dir/maildrop for *at() calls (O_PATH: other users may
 * write into it but not read it) into tmp_dirfd, and *dirsync for
 * fsync when we may read it (else -1). When it does not exist, root
 * and `user` make it (owned by `user`, MAILDROP_MODE) as the server's
 * pickup would; anyone else must wait for the server to have run.
 */
static int
open_maildrop(const struct cfg *c, int *dirsync, struct err *e)
{
	const char *dd = cfg_str(c, CFG_DATA_DIR);
	char path[CFG_PATH_MAX + 16];
	struct privs pv;

	if (fmt(path, sizeof path, "%s/maildrop", dd) >= (int)sizeof path) {
		return err_set(e, "%s: path too long", dd);
	}
	tmp_dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (tmp_dirfd == -1 && errno == ENOENT) {
		if (privs_resolve(cfg_str(c, CFG_USER), "/etc/passwd",
		    "/etc/group", &pv, e) == -1) {
			return -1;
		}
		if (geteuid() != 0 && (!pv.switch_user ||
		    geteuid() != pv.uid)) {
			return err_set(e, "%s does not exist yet: start wren "
			    "serve once (it makes it)", path);
		}
		if (dir_ensure(dd, 0711, &pv, e) == -1) {
			return -1;
		}
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			return err_set(e, "%s: %s", path, strerror(errno));
		}
		/* chown first: it may clear the set-group-id bit. */
		if ((geteuid() == 0 && pv.switch_user &&
		    chown(path, pv.uid, pv.gid) == -1) ||
		    chmod(path, MAILDROP_MODE) == -1) {
			return err_set(e, "%s: %s", path, strerror(errno));
		}
		tmp_dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (tmp_dirfd == -1) {
		if (errno == EACCES) {
			return err_set(e, "%s: %s (data_dir must be mode 0711 "
			    "for users other than root and `user`; wren "
			    "serve sets it)", path, strerror(errno));
		}
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	*dirsync = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return 0;
}

/* Creates .<name> (MAILDROP_FILE_MODE whatever the umask), with a new
 * name each time one exists; the signal handler removes it until it
 * is renamed. */
static int
new_file(int dirfd, char *name, size_t cap)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	for (int i = 0; i < SM_NAME_TRIES; i++) {
		unsigned char r[5] = { 0 };
		unsigned long long rnd = 0;
		struct timeval tv;
		int fd;

		gettimeofday(&tv, NULL);
		if (getrandom(r, sizeof r, GRND_NONBLOCK) !=
		    (ssize_t)sizeof r) {
			r[0] = (unsigned char)getpid();
			r[1] = (unsigned char)(getpid() >> 8);
			r[2] = (unsigned char)i;
		}
		for (size_t k = 0; k < sizeof r; k++) {
			rnd = rnd << 8 | r[k];
		}
		if (fmt(name, cap, "%09llX%05lX%010llX",
		    (unsigned long long)tv.tv_sec & 0xfffffffffULL,
		    (long)tv.tv_usec, rnd) >= (int)cap ||
		    fmt(tmp_name, sizeof tmp_name, ".%s", name) >=
		    (int)sizeof tmp_name) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = openat(dirfd, tmp_name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, MAILDROP_FILE_MODE);
		if (fd == -1 && errno == EEXIST) {
			continue;
		}
		if (fd == -1) {
			return -1;
		}
		tmp_made = 1;
		if (fchmod(fd, MAILDROP_FILE_MODE) == -1) {
			int saved = errno;

			close(fd);
			unlinkat(dirfd, tmp_name, 0);
			errno = saved;
			return -1;
		}
		return fd;
	}
	errno = EEXIST;
	return -1;
}

static void
on_signal(int sig)
{
	if (tmp_made) {
		unlinkat(tmp_dirfd, tmp_name, 0);
	}
	(void)sig;
	_exit(EX_TEMPFAIL);
}

/* Buffered writes to the file; message bytes are counted against the
 * limit (the maildrop header is written before out.total is reset). */
static void
out_put(const char *p, size_t len)
{
	if (out.err != 0 || out.too_big) {
		return;
	}
	out.total += len;
	if (out.total > out.limit) {
		out.too_big = 1;
		return;
	}
	while (len > 0) {
		size_t n = sizeof out.buf - out.len;

		if (n > len) {
			n = len;
		}
		memcpy(out.buf + out.len, p, n);
		out.len += n;
		p += n;
		len -= n;
		if (out.len == sizeof out.buf && out_flush() == -1) {
			return;
		}
	}
}

static int
out_flush(void)
{
	size_t off = 0;

	while (off < out.len) {
		ssize_t n = write(out.fd, out.buf + off, out.len - off);

		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			out.err = n == -1 ? errno : EIO;
			return -1;
		}
		off += (size_t)n;
	}
	out.len = 0;
	return 0;
}

/* The header as given, without Bcc: and Resent-Bcc:, bare names in
 * address fields qualified with @origin, then From: (the envelope
 * sender, or self: login@origin), Date: and Message-ID: when
 * missing. */
static void
write_header(const struct sm_opts *o, const char *sender, const char *self,
    const char *gecos, const char *hostname, const char *origin,
    const char *name)
{
	int has_from = 0, has_date = 0, has_msgid = 0;
	struct maildrop_field f;
	size_t pos = 0;
	char line[SM_FROM_MAX];
	int n;

	while (maildrop_field_next(hdr, hdrlen, &pos, &f) == 1) {
		if (maildrop_field_is(&f, "Bcc") ||
		    maildrop_field_is(&f, "Resent-Bcc")) {
			continue;
		}
		has_from |= maildrop_field_is(&f, "From");
		has_date |= maildrop_field_is(&f, "Date");
		has_msgid |= maildrop_field_is(&f, "Message-ID");
		if (is_address_field(&f)) {
			long q = maildrop_qualify(f.value, f.vlen, origin,
			    qual, sizeof qual);

			if (q >= 0) {
				out_put(hdr + f.off,
				    (size_t)(f.value - (hdr + f.off)));
				out_put(qual, (size_t)q);
				out_put("\n", 1);
				continue;
			}
		}
		out_put(hdr + f.off, f.len);
	}
	if (!has_from) {
		const char *full = o->fullname ? o->fullname : gecos;
		char phrase[4 * SM_GECOS_MAX];
		/* With the null sender, From: is still the user. */
		const char *addr = sender[0] != '\0' ? sender : self;

		if (from_phrase(full, phrase, sizeof phrase) > 0) {
			n = fmt(line, sizeof line, "From: %s <%s>\n", phrase,
			    addr);
		} else {
			n = fmt(line, sizeof line, "From: %s\n", addr);
		}
		out_put(line, (size_t)n < sizeof line ? (size_t)n :
		    sizeof line - 1);
	}
	if (!has_date) {
		char date[MSG_DATE_MAX];

		msg_date(date, sizeof date, time(NULL));
		n = fmt(line, sizeof line, "Date: %s\n", date);
		out_put(line, (size_t)n);
	}
	if (!has_msgid) {
		n = fmt(line, sizeof line, "Message-ID: <%s@%s>\n", name,
		    hostname);
		out_put(line, (size_t)n < sizeof line ? (size_t)n :
		    sizeof line - 1);
	}
}

/* The fields whose bare names get @origin (Postfix's
 * append_at_myorigin for the headers of local mail). */
static int
is_address_field(const struct maildrop_field *f)
{
	static const char *const names[] = { "From", "To", "Cc", "Reply-To",
	    "Sender", "Resent-From", "Resent-To", "Resent-Cc",
	    "Resent-Sender" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (maildrop_field_is(f, names[i])) {
			return 1;
		}
	}
	return 0;
}

/*
 * A full name as an RFC 5322 display name: as is when it is atoms and
 * spaces, a quoted string when it holds specials, an RFC 2047 encoded
 * word when it holds UTF-8. Control characters are dropped. Returns
 * its length (0: none).
 */
static size_t
from_phrase(const char *name, char *dst, size_t cap)
{
	char clean[SM_GECOS_MAX];
	size_t n = 0, len = 0;
	int special = 0, high = 0;

	for (const char *p = name; *p != '\0' && n + 1 < sizeof clean; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f) {
			continue;
		}
		high |= c >= 0x80;
		special |= strchr("()<>[]:;@\\,.\"", c) != NULL;
		clean[n++] = (char)c;
	}
	while (n > 0 && clean[n - 1] == ' ') {
		n--;
	}
	clean[n] = '\0';
	if (n == 0 || cap < 16) {
		return 0;
	}
	if (high) {
		long b = base64_encode((const unsigned char *)clean, n,
		    dst + 10, cap - 12);

		if (b < 0) {
			return 0;
		}
		memcpy(dst, "=?UTF-8?B?", 10);
		memcpy(dst + 10 + b, "?=", 3);
		return 10 + (size_t)b + 2;
	}
	if (!special) {
		memcpy(dst, clean, n + 1);
		return n;
	}
	dst[len++] = '"';
	for (size_t i = 0; i < n && len + 4 < cap; i++) {
		if (clean[i] == '"' || clean[i] == '\\') {
			dst[len++] = '\\';
		}
		dst[len++] = clean[i];
	}
	dst[len++] = '"';
	dst[len] = '\0';
	return len;
}

/* -bv: one line per recipient, as sendmail 8 prints them; EX_NOUSER
 * when any would be refused, EX_TEMPFAIL when a table is unusable. */
static int
verify(const struct cfg *c)
{
	static struct resolve_result res;
	static struct maps maps;
	struct resolver rv;
	int rc = EX_OK;

	maps_open(&maps, c);
	rv.cfg = c;
	rv.users = &maps.m[MAP_USERS];
	rv.aliases = &maps.m[MAP_ALIASES];
	rv.virtual = &maps.m[MAP_VIRTUAL];
	for (size_t i = 0; i < menv.nrcpt; i++) {
		const char *a = menv.rcpt[i];

		resolve(&rv, a, strlen(a), &res);
		if (res.status != RESOLVE_OK) {
			fmt_fd(STDOUT_FILENO, "%s... undeliverable: %s%s%s\n",
			    a, resolve_status_name(res.status),
			    res.why[0] ? ": " : "", res.why);
			if (rc == EX_OK || res.status == RESOLVE_TEMPFAIL) {
				rc = res.status == RESOLVE_TEMPFAIL ?
				    EX_TEMPFAIL : EX_NOUSER;
			}
			continue;
		}
		for (size_t k = 0; k < res.n; k++) {
			const struct resolve_target *t = &res.t[k];

			if (t->kind == RESOLVE_LOCAL) {
				fmt_fd(STDOUT_FILENO, "%s... deliverable: "
				    "mailbox %s/Maildir (%s)\n", a, t->home,
				    t->addr);
			} else {
				fmt_fd(STDOUT_FILENO, "%s... deliverable: "
				    "remote <%s>\n", a, t->addr);
			}
		}
	}
	maps_close(&maps);
	return rc;
}

static int
fail(int code, const char *f, ...)
{
	char msg[FMT_FD_MAX - 16];
	va_list ap;

	va_start(ap, f);
	(void)vfmt(msg, sizeof msg, f, ap);
	va_end(ap);
	fmt_fd(STDERR_FILENO, "sendmail: %s\n", msg);
	return code;
}
