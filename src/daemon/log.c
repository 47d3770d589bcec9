#include "daemon/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_level = -1;

/* Rotation: only while fd 2 is the file at rot_path (not the journal). */
static char rot_path[4096];
static off_t rot_max, rot_size;

void dl_log_rotate_at(const char *path, size_t max)
{
	struct stat fs, ps;

	rot_path[0] = '\0';
	if (!path || fstat(STDERR_FILENO, &fs) < 0 || !S_ISREG(fs.st_mode) ||
	    stat(path, &ps) < 0 || fs.st_dev != ps.st_dev || fs.st_ino != ps.st_ino ||
	    strlen(path) + 3 > sizeof(rot_path))
		return;
	snprintf(rot_path, sizeof(rot_path), "%s", path);
	rot_max = (off_t)max;
	rot_size = fs.st_size;
}

/* daemon.log -> daemon.log.1 (the previous .1 goes), a fresh daemon.log on
 * fd 2.  Children started earlier keep writing to the old file (.1). */
static void rotate(void)
{
	char old[sizeof(rot_path) + 2];
	int fd;

	snprintf(old, sizeof(old), "%s.1", rot_path);
	if (rename(rot_path, old) < 0 ||
	    (fd = open(rot_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		rot_path[0] = '\0'; /* cannot: stop trying, keep logging */
		return;
	}
	if (fd != STDERR_FILENO) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	rot_size = 0;
}

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
	if (rot_path[0] && rot_size + (off_t)n > rot_max)
		rotate();
	ssize_t w = write(STDERR_FILENO, line, n);
	if (w > 0)
		rot_size += w;
	errno = saved;
}

/* ---- rate limit: one line per second per cause ---- */

#define RL_SLOTS 32

static struct rl {
	char cause[48];
	time_t sec;
	unsigned long suppressed;
	unsigned long used; /* for replacing the least recently used slot */
} rl[RL_SLOTS];
static unsigned long rl_clock;

void dl_log_rl(enum dl_log_level lvl, const char *cause, const char *fmt, ...)
{
	struct rl *slot = NULL, *lru = &rl[0];
	char msg[900];
	va_list ap;
	time_t now = time(NULL);
	int saved = errno;

	if (!dl_log_enabled(lvl))
		return;
	for (int i = 0; i < RL_SLOTS; i++) {
		if (strncmp(rl[i].cause, cause, sizeof(rl[i].cause) - 1) == 0 && rl[i].used) {
			slot = &rl[i];
			break;
		}
		if (rl[i].used < lru->used)
			lru = &rl[i];
	}
	if (!slot) {
		slot = lru;
		memset(slot, 0, sizeof(*slot));
		snprintf(slot->cause, sizeof(slot->cause), "%s", cause);
		slot->sec = now - 1;
	}
	slot->used = ++rl_clock;
	if (slot->sec == now) {
		slot->suppressed++;
		errno = saved;
		return;
	}
	slot->sec = now;
	errno = saved;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (slot->suppressed)
		dl_log(lvl, "%s (%lu more like it suppressed)", msg, slot->suppressed);
	else
		dl_log(lvl, "%s", msg);
	slot->suppressed = 0;
	errno = saved;
}
