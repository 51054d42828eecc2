/* SPDX-License-Identifier: ISC */
/*
 * shim.c - fault injection for a test build of wren (make faults).
 *
 * The binary is static, so LD_PRELOAD cannot reach it; the test build
 * is linked with
 *
 *   -Wl,--wrap=write,--wrap=copy_file_range,--wrap=fsync,
 *   --wrap=fdatasync,--wrap=syncfs,--wrap=rename,--wrap=renameat,
 *   --wrap=syscall
 *
 * so that wren's own calls to these come here (libc's internal calls
 * do not). Each call is checked against a list of rules and either
 * fails with the rule's errno or goes on to the real function.
 *
 * Rules come from $WREN_FAULT at start, and from the file named by
 * $WREN_FAULT_CTL whenever that file changes (its rules replace the
 * old ones and the counters restart; an empty or missing file: no
 * faults). A rule is four words, rules separated by ';' or newlines:
 *
 *   FUNC MATCH WHEN ERRNO
 *   fdatasync /Maildir/tmp/ 1+ EIO
 *
 * FUNC is one of the wrapped names (or "*"); MATCH a substring of the
 * path (for fd calls: the target of /proc/self/fd/N; for rename:
 * either name; for renameat: either name after its directory's path;
 * "*" any); WHEN "N" fails the Nth matching call only,
 * "N+" the Nth and every later one; ERRNO EIO, ENOSPC, EDQUOT or EROFS.
 *
 * Every injected fault is logged on stderr as
 * "wren-fault: FUNC(PATH) -> ERRNO" (the test reads wren's log).
 *
 * io_uring runs fsyncs inside the kernel, out of reach of the wraps:
 * io_uring_setup always fails with ENOSYS here, so the test build
 * commits with syncfs in the loop (store/txn.c's fallback).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define RULES_MAX	16
#define WORD_MAX	200
#define SPEC_MAX	4096
#define PATH_LEN	4096

struct rule {
	char		func[32];
	char		match[WORD_MAX];
	unsigned long	nth;		/* 1-based */
	int		onward;		/* "N+" */
	int		err;
	unsigned long	seen;		/* matching calls so far */
};

static struct rule	rules[RULES_MAX];
static int		nrules;
static int		loaded;
static struct stat	ctl_sb;		/* of the last reading */
static int		ctl_had;

ssize_t	__real_write(int, const void *, size_t);
ssize_t	__real_copy_file_range(int, off_t *, int, off_t *, size_t,
	    unsigned);
int	__real_fsync(int);
int	__real_fdatasync(int);
int	__real_syncfs(int);
int	__real_rename(const char *, const char *);
int	__real_renameat(int, const char *, int, const char *);
long	__real_syscall(long, ...);

ssize_t	__wrap_write(int, const void *, size_t);
ssize_t	__wrap_copy_file_range(int, off_t *, int, off_t *, size_t,
	    unsigned);
int	__wrap_fsync(int);
int	__wrap_fdatasync(int);
int	__wrap_syncfs(int);
int	__wrap_rename(const char *, const char *);
int	__wrap_renameat(int, const char *, int, const char *);
long	__wrap_syscall(long, ...);

static void	parse(const char *, size_t);
static int	parse_errno(const char *);
static void	refresh(void);
static int	check(const char *, const char *, const char *);
static int	check_fd(const char *, int);
static void	fd_path(int, const char *, char *, size_t);
static void	say(const char *, const char *, int);
static size_t	word(const char **, const char *, char *, size_t);

ssize_t
__wrap_write(int fd, const void *buf, size_t len)
{
	/* stdout and stderr are the log: never failed, never looked at
	 * (say() writes there). */
	if (fd > 2 && check_fd("write", fd) == -1) {
		return -1;
	}
	return __real_write(fd, buf, len);
}

ssize_t
__wrap_copy_file_range(int in, off_t *inoff, int out, off_t *outoff,
    size_t len, unsigned flags)
{
	if (check_fd("copy_file_range", out) == -1) {
		return -1;
	}
	return __real_copy_file_range(in, inoff, out, outoff, len, flags);
}

int
__wrap_fsync(int fd)
{
	if (check_fd("fsync", fd) == -1) {
		return -1;
	}
	return __real_fsync(fd);
}

int
__wrap_fdatasync(int fd)
{
	if (check_fd("fdatasync", fd) == -1) {
		return -1;
	}
	return __real_fdatasync(fd);
}

int
__wrap_syncfs(int fd)
{
	if (check_fd("syncfs", fd) == -1) {
		return -1;
	}
	return __real_syncfs(fd);
}

int
__wrap_rename(const char *from, const char *to)
{
	if (check("rename", from, to) == -1) {
		return -1;
	}
	return __real_rename(from, to);
}

int
__wrap_renameat(int fromdir, const char *from, int todir, const char *to)
{
	char a[PATH_LEN], b[PATH_LEN];

	refresh();
	if (nrules > 0) {
		fd_path(fromdir, from, a, sizeof a);
		fd_path(todir, to, b, sizeof b);
		if (check("renameat", a, b) == -1) {
			return -1;
		}
	}
	return __real_renameat(fromdir, from, todir, to);
}

long
__wrap_syscall(long n, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, n);
	for (int i = 0; i < 6; i++) {
		a[i] = va_arg(ap, long);
	}
	va_end(ap);
#ifdef __NR_io_uring_setup
	if (n == __NR_io_uring_setup) {
		errno = ENOSYS;
		return -1;
	}
#endif
	return __real_syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* Rereads the rules when $WREN_FAULT_CTL changed (or at first use). */
static void
refresh(void)
{
	const char *env, *ctl = getenv("WREN_FAULT_CTL");
	struct stat sb;
	char spec[SPEC_MAX];

	if (!loaded) {
		loaded = 1;
		env = getenv("WREN_FAULT");
		if (env != NULL) {
			parse(env, strlen(env));
		}
	}
	if (ctl == NULL) {
		return;
	}
	if (stat(ctl, &sb) == -1) {
		if (ctl_had) {
			ctl_had = 0;
			nrules = 0;
		}
		return;
	}
	if (ctl_had && sb.st_ino == ctl_sb.st_ino &&
	    sb.st_size == ctl_sb.st_size &&
	    sb.st_mtim.tv_sec == ctl_sb.st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == ctl_sb.st_mtim.tv_nsec) {
		return;
	}
	{
		int fd = open(ctl, O_RDONLY | O_CLOEXEC);
		ssize_t n = 0;

		if (fd != -1) {
			n = read(fd, spec, sizeof spec);
			close(fd);
		}
		ctl_sb = sb;
		ctl_had = 1;
		nrules = 0;
		if (n > 0) {
			parse(spec, (size_t)n);
		}
	}
}

static void
parse(const char *s, size_t len)
{
	const char *end = s + len;
	char w[4][WORD_MAX];

	while (s < end && nrules < RULES_MAX) {
		struct rule *r = &rules[nrules];
		const char *eol = s;
		int k;
		char *p;

		while (eol < end && *eol != '\n' && *eol != ';') {
			eol++;
		}
		for (k = 0; k < 4 && word(&s, eol, w[k], WORD_MAX) > 0; k++) {
		}
		s = eol < end ? eol + 1 : end;
		if (k != 4 || strlen(w[0]) >= sizeof r->func) {
			continue;
		}
		memset(r, 0, sizeof *r);
		memcpy(r->func, w[0], strlen(w[0]) + 1);
		memcpy(r->match, w[1], strlen(w[1]) + 1);
		for (p = w[2]; *p >= '0' && *p <= '9'; p++) {
			r->nth = r->nth * 10 + (unsigned long)(*p - '0');
		}
		r->onward = *p == '+';
		r->err = parse_errno(w[3]);
		if (r->nth > 0 && r->err != 0) {
			nrules++;
		}
	}
}

/* One word of [*s, end) into out; 0 when none is left. */
static size_t
word(const char **s, const char *end, char *out, size_t cap)
{
	const char *p = *s;
	size_t n = 0;

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) {
		p++;
	}
	while (p < end && *p != ' ' && *p != '\t' && *p != '\r') {
		if (n + 1 < cap) {
			out[n++] = *p;
		}
		p++;
	}
	out[n] = '\0';
	*s = p;
	return n;
}

static int
parse_errno(const char *w)
{
	static const struct {
		const char	*name;
		int		 err;
	} names[] = {
		{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT },
		{ "EROFS", EROFS },
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(w, names[i].name) == 0) {
			return names[i].err;
		}
	}
	return 0;
}

static int
check_fd(const char *func, int fd)
{
	char path[PATH_LEN];

	refresh();
	if (nrules == 0 || fd < 0) {
		return 0;
	}
	fd_path(fd, NULL, path, sizeof path);
	return check(func, path, NULL);
}

/* The path of fd (from /proc/self/fd), then "/name" when name is
 * relative; AT_FDCWD or an unknown fd: name alone. */
static void
fd_path(int fd, const char *name, char *out, size_t cap)
{
	char link[64], digits[16];
	const char *pre = "/proc/self/fd/";
	size_t n = 0, k;
	ssize_t len = 0;
	unsigned u = (unsigned)fd;

	if (name != NULL && name[0] == '/') {
		fd = -1;
	}
	if (fd >= 0) {
		do {
			digits[n++] = (char)('0' + u % 10);
			u /= 10;
		} while (u > 0);
		k = strlen(pre);
		memcpy(link, pre, k);
		while (n > 0) {
			link[k++] = digits[--n];
		}
		link[k] = '\0';
		len = readlink(link, out, cap - 1);
		if (len < 0) {
			len = 0;
		}
	}
	out[len] = '\0';
	if (name != NULL) {
		size_t l = strlen(name);

		if (len > 0 && (size_t)len + 1 < cap - 1) {
			out[len++] = '/';
		}
		if ((size_t)len + l >= cap) {
			l = cap - 1 - (size_t)len;
		}
		memcpy(out + len, name, l);
		out[len + (ssize_t)l] = '\0';
	}
}

/* -1 with errno set when a rule fails this call. */
static int
check(const char *func, const char *a, const char *b)
{
	refresh();
	for (int i = 0; i < nrules; i++) {
		struct rule *r = &rules[i];

		if (strcmp(r->func, "*") != 0 && strcmp(r->func, func) != 0) {
			continue;
		}
		if (strcmp(r->match, "*") != 0 &&
		    (a == NULL || strstr(a, r->match) == NULL) &&
		    (b == NULL || strstr(b, r->match) == NULL)) {
			continue;
		}
		r->seen++;
		if (r->seen == r->nth || (r->onward && r->seen > r->nth)) {
			say(func, a, r->err);
			errno = r->err;
			return -1;
		}
	}
	return 0;
}

static void
say(const char *func, const char *path, int err)
{
	char line[PATH_LEN + 100];
	size_t n = 0;
	const char *parts[6];
	const char *name = err == EIO ? "EIO" : err == ENOSPC ? "ENOSPC" :
	    err == EDQUOT ? "EDQUOT" : "EROFS";

	parts[0] = "wren-fault: ";
	parts[1] = func;
	parts[2] = "(";
	parts[3] = path != NULL ? path : "";
	parts[4] = ") -> ";
	parts[5] = name;
	for (int i = 0; i < 6; i++) {
		size_t l = strlen(parts[i]);

		if (n + l + 2 > sizeof line) {
			l = sizeof line - n - 2;
		}
		memcpy(line + n, parts[i], l);
		n += l;
	}
	line[n++] = '\n';
	(void)__real_write(2, line, n);
}
