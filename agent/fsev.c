/*
 * The "fsevents" target (proto.h): make the guest kernel emit inotify
 * events for a path of the shared folder that the host changed.
 *
 * A host edit reaches the guest's kernel only as new contents on the next
 * read: the guest VFS never ran the write, so fsnotify never fired.  What
 * can be done through the guest VFS without touching the file's bytes:
 *   - open it for writing (no O_TRUNC) and close it: IN_OPEN and
 *     IN_CLOSE_WRITE;
 *   - set its mtime alone (atime UTIME_OMIT): notify_change() reports
 *     ATTR_MTIME without ATTR_ATIME as FS_MODIFY, i.e. IN_MODIFY (both
 *     times, as touch(1) sets them, would be the bare IN_ATTRIB).  virtiofs
 *     keeps nanoseconds: the mtime is set to the value it already has.  The
 *     9p client keeps whole seconds (s_time_gran): setting the value back
 *     would cut the sub-second part, so there the mtime is set to "now"
 *     (the host's clock, a few ms after the edit: never backwards).
 * So a written or created file gets IN_OPEN, IN_MODIFY, IN_CLOSE_WRITE.
 * IN_CREATE, IN_DELETE and IN_MOVED_FROM/TO cannot be had: the guest
 * emits them only when its own create/unlink/rename succeeds, and the host
 * already did it (EEXIST/ENOENT), short of changing the user's tree.
 *
 * 9p (cache=mmap) forgets a folder's dentry once nothing uses it; the next
 * lookup makes a new inode, so a watch on a subfolder would never see
 * events, not even the guest's own edits.  Here every folder the daemon
 * announces is held open (O_PATH) so that its dentry and inode stay the ones
 * the watchers hold; a deleted or moved-away folder is let go.
 *
 * Each connection is served by a child process (fsev_serve) with blocking
 * calls: a slow or hung share never stalls the agent's loop.  The folders
 * it holds go with it.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PIN_MAX 16384

static int root_fd = -1;
static bool is_9p;
static struct pin { char *path; int fd; } *pins;
static size_t npins;
static bool pin_full_logged;

static int share_root(void)
{
	struct statfs sf;
	const char *share = g.pid1 ? cmdline_get("share") : getenv("DLITE_AGENT_SHARE");

	if (root_fd >= 0)
		return root_fd;
	if (!share || *share != '/')
		return -1;
	root_fd = open(share, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd >= 0 && fstatfs(root_fd, &sf) == 0)
		is_9p = sf.f_type == V9FS_MAGIC;
	return root_fd;
}

static int open_beneath(const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

/* Let go of path and every pinned folder under it. */
static void unpin(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < npins;) {
		const char *p = pins[i].path;
		if (strncmp(p, path, n) == 0 && (p[n] == '\0' || p[n] == '/')) {
			close(pins[i].fd);
			free(pins[i].path);
			pins[i] = pins[--npins];
		} else {
			i++;
		}
	}
}

static void pin(const char *path, int fd)
{
	if (npins == PIN_MAX) {
		if (!pin_full_logged)
			logmsg("fsevents: %d folders of the share held; watches on further "
			       "9p folders in containers may see no events", PIN_MAX);
		pin_full_logged = true;
		close(fd);
		return;
	}
	if (!pins && !(pins = calloc(PIN_MAX, sizeof(*pins)))) {
		close(fd);
		return;
	}
	if (!(pins[npins].path = strdup(path))) {
		close(fd);
		return;
	}
	pins[npins++].fd = fd;
}

/* IN_OPEN + IN_MODIFY + IN_CLOSE_WRITE for a regular file; *done gets the
 * letters of what the host will see ("m", "w"). */
static void touch_file(int pfd, char *done)
{
	char proc[64];
	struct statx sx;
	bool wrote = true;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	int fd = open(proc, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) { /* read-only for the user, or running: IN_CLOSE_NOWRITE */
		wrote = false;
		fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	}
	int tfd = fd >= 0 ? fd : pfd;
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	if (!is_9p) {
		if (statx(tfd, "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC, STATX_MTIME, &sx) < 0)
			goto out;
		ts[1].tv_sec = sx.stx_mtime.tv_sec;
		ts[1].tv_nsec = sx.stx_mtime.tv_nsec;
	}
	if (utimensat(tfd, "", ts, AT_EMPTY_PATH) == 0)
		strcat(done, "m");
out:
	if (fd >= 0) {
		close(fd);
		if (wrote)
			strcat(done, "w");
	}
}

void fsev_serve(int fd)
{
	static char in[2 * DL_FSEV_LINE_MAX];
	size_t inlen = 0;

	/* only this connection: other fds copied by fork() would keep the
	 * loop's connections open after it closes them */
	if (fd != 3 && dup2(fd, 3) < 0)
		_exit(1);
	syscall(SYS_close_range, 4, ~0U, 0);
	fcntl(3, F_SETFL, fcntl(3, F_GETFL) & ~O_NONBLOCK);
	for (;;) {
		char *nl;
		while ((nl = memchr(in, '\n', inlen))) {
			char out[64];
			*nl = '\0';
			fsev_request(in, out, sizeof(out));
			size_t n = strlen(out);
			out[n++] = '\n';
			for (size_t off = 0; off < n;) {
				ssize_t w = write(3, out + off, n - off);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					_exit(0);
				off += (size_t)w;
			}
			size_t used = (size_t)(nl - in) + 1;
			memmove(in, in + used, inlen - used);
			inlen -= used;
		}
		if (inlen == sizeof(in)) /* a line longer than any request */
			_exit(1);
		ssize_t r = read(3, in + inlen, sizeof(in) - inlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(0);
		inlen += (size_t)r;
	}
}

void fsev_request(const char *line, char *out, size_t len)
{
	char path[4096], done[4] = "";
	unsigned kinds;
	struct stat st;

	if (dl_fsev_decode(line, &kinds, path, sizeof(path)) < 0) {
		snprintf(out, len, "err bad request");
		return;
	}
	if (share_root() < 0) {
		snprintf(out, len, "err no share");
		return;
	}
	if (kinds & (DL_FSEV_DELETE | DL_FSEV_MOVED_FROM))
		unpin(path);
	int fd = open_beneath(path, O_PATH | O_NOFOLLOW);
	if (fd >= 0 && fstat(fd, &st) == 0) {
		if (S_ISREG(st.st_mode)) {
			touch_file(fd, done);
		} else if (S_ISDIR(st.st_mode) && is_9p &&
			   (kinds & (DL_FSEV_CREATE | DL_FSEV_MOVED_TO))) {
			unpin(path); /* the same name may be a new folder */
			pin(path, fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	snprintf(out, len, "ok %s", *done ? done : "-");
}
