/*
 * Giving disk space back to the host, and growing into a larger disk.
 *
 * Trim: QEMU's data drive has discard=unmap, so an FITRIM of the mounted
 * ext4 punches holes into the host's sparse disk.img.  The agent looks at
 * statfs() every TRIM_POLL_MS; when the free space has grown by more than
 * TRIM_GROWTH bytes above its lowest point since the last trim (a large
 * deletion: an image, a volume, a container's layer), it trims.  It also
 * trims TRIM_FIRST_MS after boot (what an unclean stop left), every
 * TRIM_IDLE_MS regardless, and synchronously at a clean power off.  ext4
 * remembers which groups were trimmed since the mount, so a trim with
 * nothing new freed costs little.  A trim runs in a child process: on a
 * large disk under TCG it can take seconds and the loop must not stall.
 * (The "discard" mount option was not used: it discards at every journal
 * commit, synchronously in jbd2, which slows every delete on TCG.)
 *
 * Grow: the host extends disk.img (dlite config set disk_gib N); at the
 * next boot the block device is larger than the file system, which is
 * grown online with EXT4_IOC_RESIZE_FS (resize2fs as the fallback).
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#endif

#define TRIM_POLL_MS (10 * 1000)
#define TRIM_FIRST_MS (30 * 1000)
#define TRIM_IDLE_MS (60 * 60 * 1000)
#define TRIM_GROWTH (64ull << 20)
#define GROW_MIN (8ull << 20) /* ignore a device larger by less than this */

static struct timer poll_tm;
static bool mounted;
static pid_t trim_pid;
static uint64_t low_free;  /* lowest free bytes since the last trim */
static uint64_t next_idle; /* now_ms() of the next unconditional trim */
/* ext4 hands freed blocks to FITRIM only once its journal commits (5 s):
 * a trim right after a large deletion sees part of it, so one more follows
 * at the next poll (CI saw 215 MiB of 1 GiB trimmed, and no second trigger:
 * statfs had counted the space free already) */
static bool followup;

static int free_bytes(uint64_t *out)
{
	struct statfs s;

	if (statfs(DATA_MNT, &s) < 0)
		return -1;
	*out = (uint64_t)s.f_bfree * (uint64_t)s.f_bsize;
	return 0;
}

/* FITRIM the whole file system; bytes trimmed in *trimmed. */
static int fitrim(uint64_t *trimmed)
{
	struct fstrim_range r = { .start = 0, .len = UINT64_MAX, .minlen = 0 };
	int fd = open(DATA_MNT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	int rc = ioctl(fd, FITRIM, &r);
	int err = errno;
	close(fd);
	errno = err;
	if (rc == 0)
		*trimmed = r.len;
	return rc;
}

static void trim_done(void *arg, pid_t pid, int status)
{
	trim_pid = 0;
}

static void trim_async(const char *why)
{
	if (trim_pid > 0)
		return;
	uint64_t f;
	if (free_bytes(&f) == 0)
		low_free = f;
	next_idle = now_ms() + TRIM_IDLE_MS;
	pid_t pid = fork();
	if (pid < 0) {
		logmsg("trim: fork: %m");
		return;
	}
	if (pid == 0) {
		uint64_t t0 = now_ms(), n = 0;
		if (fitrim(&n) < 0)
			logmsg("trim (%s): FITRIM " DATA_MNT ": %m", why);
		else if (n >= (1u << 20))
			logmsg("trim (%s): %llu MiB returned in %llu ms", why,
			       (unsigned long long)(n >> 20), (unsigned long long)(now_ms() - t0));
		_exit(0);
	}
	trim_pid = pid;
	pid_watch(pid, trim_done, NULL);
}

static void poll_fn(struct timer *t)
{
	uint64_t f;

	if (free_bytes(&f) == 0) {
		if (f < low_free)
			low_free = f;
		if (f > low_free + TRIM_GROWTH) {
			trim_async("space freed");
			followup = true;
		} else if (followup && trim_pid == 0) {
			followup = false;
			trim_async("space freed, after the journal commit");
		} else if (now_ms() >= next_idle)
			trim_async("periodic");
	}
	timer_arm(&poll_tm, TRIM_POLL_MS);
}

void space_start(void)
{
	mounted = true;
	free_bytes(&low_free);
	next_idle = now_ms() + TRIM_FIRST_MS;
	poll_tm = (struct timer){ .fn = poll_fn };
	timer_arm(&poll_tm, TRIM_POLL_MS);
}

void space_trim_now(void)
{
	uint64_t n = 0, t0 = now_ms();

	if (!mounted)
		return;
	timer_cancel(&poll_tm);
	if (fitrim(&n) < 0)
		logmsg("trim (power off): FITRIM " DATA_MNT ": %m");
	else
		logmsg("trim (power off): %llu MiB returned in %llu ms", (unsigned long long)(n >> 20),
		       (unsigned long long)(now_ms() - t0));
}

/* Little-endian fields of the ext4 superblock (at byte 1024 of the device). */
static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void space_grow(const char *dev)
{
	uint8_t sb[1024];
	uint64_t dev_bytes = 0;
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	bool ok = pread(fd, sb, sizeof(sb), 1024) == (ssize_t)sizeof(sb) &&
		  ioctl(fd, BLKGETSIZE64, &dev_bytes) == 0;
	close(fd);
	if (!ok || sb[56] != 0x53 || sb[57] != 0xEF)
		return;
	uint64_t bs = 1024ull << le32(sb + 24);
	uint64_t blocks = le32(sb + 4);
	if (le32(sb + 0x60) & 0x80) /* INCOMPAT_64BIT: s_blocks_count_hi */
		blocks |= (uint64_t)le32(sb + 0x150) << 32;
	uint64_t want = dev_bytes / bs;
	if (want * bs < blocks * bs + GROW_MIN)
		return;
	uint64_t t0 = now_ms();
	logmsg("data: the disk is %llu MiB, its file system %llu MiB: growing it",
	       (unsigned long long)(dev_bytes >> 20), (unsigned long long)((blocks * bs) >> 20));
	int mfd = open(DATA_MNT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = mfd >= 0 ? ioctl(mfd, EXT4_IOC_RESIZE_FS, &want) : -1;
	if (mfd >= 0)
		close(mfd);
	if (rc < 0) {
		logmsg("data: EXT4_IOC_RESIZE_FS: %m; trying resize2fs");
		char *const argv[] = { "/usr/sbin/resize2fs", (char *)dev, NULL };
		rc = run_wait(argv);
	}
	if (rc == 0)
		logmsg("data: file system grown to %llu MiB in %llu ms",
		       (unsigned long long)((want * bs) >> 20), (unsigned long long)(now_ms() - t0));
	else
		logmsg("data: growing the file system failed (%d); it keeps its size", rc);
}

int space_status(char *buf, size_t n)
{
	struct statfs s;

	if (!mounted || statfs(DATA_MNT, &s) < 0)
		return snprintf(buf, n, "%s", "");
	uint64_t bs = (uint64_t)s.f_bsize;
	return snprintf(buf, n, " disk_fs_size=%llu disk_used=%llu disk_free=%llu",
			(unsigned long long)(s.f_blocks * bs),
			(unsigned long long)((s.f_blocks - s.f_bfree) * bs),
			(unsigned long long)(s.f_bavail * bs));
}
