#include "daemon/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_level = -1;

void dl_log_set_level(enum dl_log_level lvl)
{
	log_level = (int)lvl;
}

int dl_log_enabled(enum dl_log_level lvl)
{
	if (log_level < 0) {
		const char *d = getenv("DLITE_DEBUG");
		log_level = d && *d && strcmp(d, "0") != 0 ? DL_LOG_DEBUG : DL_LOG_INFO;
	}
	return (int)lvl <= log_level;
}

void dl_log(enum dl_log_level lvl, const char *fmt, ...)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int saved = errno;
	size_t n;

	if (!dl_log_enabled(lvl))
		return;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ld %s: ",
			      (long)(tv.tv_usec / 1000),
			      names[lvl <= DL_LOG_DEBUG ? lvl : DL_LOG_DEBUG]);
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += (size_t)m;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* one line: no embedded newlines */
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	/* a single write keeps lines whole when several processes share stderr */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
	errno = saved;
}
