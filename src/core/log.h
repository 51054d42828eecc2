/* SPDX-License-Identifier: ISC */
/*
 * log.h - one line per event, to syslog (facility mail) or stderr.
 *
 * log_warn and log_error append strerror(errno); the -x variants do
 * not. fatal/fatalx log and exit(1): for start-up only. Once the loop
 * runs an error closes one connection, never the server.
 *
 * Never pass a password or an AUTH payload to these functions.
 */
#ifndef WREN_LOG_H
#define WREN_LOG_H

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG
};

enum log_dest {
	LOG_DEST_STDERR,
	LOG_DEST_SYSLOG
};

/* Before log_open, lines go to stderr at level info. */
void	log_open(enum log_dest, enum log_level, const char *ident);
void	log_set_level(enum log_level);
int	log_enabled(enum log_level);
void	log_close(void);

void	log_msg(enum log_level, int with_errno, const char *f, ...)
	    __attribute__((format(printf, 3, 4)));

#define log_error(...)	log_msg(LOG_LVL_ERROR, 1, __VA_ARGS__)
#define log_errorx(...)	log_msg(LOG_LVL_ERROR, 0, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, 1, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_LVL_WARN, 0, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, 0, __VA_ARGS__)
#define log_debug(...)	do { if (log_enabled(LOG_LVL_DEBUG)) \
		log_msg(LOG_LVL_DEBUG, 0, __VA_ARGS__); } while (0)

void	fatal(const char *f, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *f, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
