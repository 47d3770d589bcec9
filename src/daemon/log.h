/*
 * Daemon logging: one line per call to stderr, prefixed with a local
 * timestamp (milliseconds) and the level.  The unit/launchd plist captures
 * stderr.  Never log tokens.
 */
#ifndef DLITE_DAEMON_LOG_H
#define DLITE_DAEMON_LOG_H

#include <stddef.h>

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

/* At most one line per second for a cause (a short fixed string naming
 * the repeated event); the next line that gets out says how many were
 * suppressed.  The text may differ between calls. */
void dl_log_rl(enum dl_log_level lvl, const char *cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* When fd 2 is the file at path (as `dlite start` and launchd set it up),
 * rename it to path.1 and start a new one once it would pass max bytes:
 * at most 2 x max on disk. */
void dl_log_rotate_at(const char *path, size_t max);
#define DL_LOG_ROTATE_BYTES (8u << 20)

#endif
