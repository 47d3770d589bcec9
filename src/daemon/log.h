/*
 * Daemon logging: one line per call to stderr, prefixed with a local
 * timestamp (milliseconds) and the level.  The unit/launchd plist captures
 * stderr.  Never log tokens.
 */
#ifndef DLITE_DAEMON_LOG_H
#define DLITE_DAEMON_LOG_H

enum dl_log_level {
	DL_LOG_ERR = 0,
	DL_LOG_WARN,
	DL_LOG_INFO,
	DL_LOG_DEBUG,
};

/* Messages above this level are dropped (default DL_LOG_INFO; DLITE_DEBUG=1
 * in the environment raises it to DL_LOG_DEBUG on first use). */
void dl_log_set_level(enum dl_log_level lvl);
int dl_log_enabled(enum dl_log_level lvl);

void dl_log(enum dl_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
