#include "daemon/console.h"
#include "daemon/log.h"
#include "vm/accel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#define TAIL 64           /* carried over between reads: a stamp split in two */
#define CHUNK (1u << 20)  /* read this much at a time */

/* ---- bounding ---- */

static struct event *keep_ev;
static char keep_path[4096];
static size_t keep_max;

/* Append src's bytes from *off on to dst; 0 or -1. */
static int copy_from(int src, int dst, off_t *off)
{
	static char buf[65536];

	for (;;) {
		ssize_t n = pread(src, buf, sizeof(buf), *off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		for (ssize_t w = 0; w < n;) {
			ssize_t m = write(dst, buf + w, (size_t)(n - w));
			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0)
				return -1;
			w += m;
		}
		*off += n;
	}
}

void dl_console_bound(const char *path, size_t max)
{
	struct stat st;
	char old[4200], tmp[4200];
	off_t off = 0;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size <= max)
		return;
	int src = open(path, O_RDWR | O_CLOEXEC);
	if (src < 0)
		return;
	snprintf(old, sizeof(old), "%s.1", path);
	snprintf(tmp, sizeof(tmp), "%s.1.tmp", path);
	int dst = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (dst < 0 || copy_from(src, dst, &off) < 0 || copy_from(src, dst, &off) < 0 ||
	    ftruncate(src, 0) < 0) {
		dl_log_rl(DL_LOG_WARN, "console rotate", "console: cannot rotate %s: %s", path,
			  strerror(errno));
		if (dst >= 0) {
			close(dst);
			unlink(tmp);
		}
		close(src);
		return;
	}
	close(dst);
	close(src);
	rename(tmp, old);
}

static void keep_cb(evutil_socket_t fd, short what, void *arg)
{
	dl_console_bound(keep_path, keep_max);
}

void dl_console_keep(struct event_base *base, const char *path, size_t max)
{
	struct timeval sec = { 1, 0 };

	if (keep_ev) {
		event_free(keep_ev);
		keep_ev = NULL;
	}
	if (!base || !path || strlen(path) >= sizeof(keep_path))
		return;
	snprintf(keep_path, sizeof(keep_path), "%s", path);
	keep_max = max;
	keep_ev = event_new(base, -1, EV_PERSIST, keep_cb, NULL);
	if (keep_ev)
		event_add(keep_ev, &sec);
}

/* ---- the agent stamp, read incrementally ---- */

static struct {
	dev_t dev;
	ino_t ino;
	off_t off;
	size_t ntail;
	bool found, valid;
	char tail[TAIL];
} scan;

bool dl_console_reached(const char *path)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return scan.valid && scan.found;
	}
	if (!scan.valid || st.st_dev != scan.dev || st.st_ino != scan.ino) {
		memset(&scan, 0, sizeof(scan));
		scan.dev = st.st_dev;
		scan.ino = st.st_ino;
		scan.valid = true;
	} else if (st.st_size < scan.off) {
		scan.off = 0; /* truncated by dl_console_bound: read on from 0 */
		scan.ntail = 0;
	}
	if (scan.found || !(buf = malloc(TAIL + CHUNK))) {
		close(fd);
		return scan.found;
	}
	while (scan.off < st.st_size && !scan.found) {
		memcpy(buf, scan.tail, scan.ntail);
		ssize_t n = pread(fd, buf + scan.ntail, CHUNK, scan.off);
		if (n <= 0)
			break;
		scan.off += n;
		size_t len = scan.ntail + (size_t)n;
		scan.found = dl_console_reached_agent(buf, len);
		scan.ntail = len < TAIL ? len : TAIL;
		memcpy(scan.tail, buf + len - scan.ntail, scan.ntail);
	}
	free(buf);
	close(fd);
	return scan.found;
}

void dl_console_forget(void)
{
	memset(&scan, 0, sizeof(scan));
}
