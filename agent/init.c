/*
 * PID 1 boot: API filesystems, modules, the token, the root (erofs lower +
 * tmpfs upper overlay), switch_root, then hand over to net/disk/services
 * and the loop.
 */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EROFS_MAGIC 0xE0F5E1E2u /* bytes e2 e1 f5 e0 at offset 1024 */
#define NEWROOT "/mnt/root"
#define LOWER "/mnt/lower"
#define RW "/mnt/rw"
#define TOKEN_FILE "/dlite/token"
#define RELEASE_FILE "/etc/dlite-release"
#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

static void fatal(const char *what) __attribute__((noreturn));
static void fatal(const char *what)
{
	logmsg("fatal: %s (%m); powering off", what);
	sync();
	sleep(2);
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void do_mount(const char *src, const char *dst, const char *type,
		     unsigned long flags, const char *data)
{
	mkdir_p(dst, 0755);
	if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY)
		logmsg("mount %s on %s: %m", type ? type : src, dst);
}

/* The kernel gives /init a console only if the initramfs has /dev/console;
 * with devtmpfs mounted we can always make sure. */
static void console_setup(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

void load_modules(const char *prefix, const char *list)
{
	char path[512];
	char *text;

	snprintf(path, sizeof(path), "%s%s", prefix, list);
	text = read_file(path, 1 << 20, NULL);
	unsigned n = 0, failed = 0;
	uint64_t t0 = boot_ms();

	if (!text) {
		logmsg("no %s: %m", list);
		return;
	}
	for (char *save, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		if (!*line || *line == '#')
			continue;
		snprintf(path, sizeof(path), "%s%s", prefix, line);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			logmsg("module %s: %m", line);
			failed++;
			continue;
		}
		size_t len = strlen(line);
		int flags = 0;
		if ((len > 3 && strcmp(line + len - 3, ".xz") == 0) ||
		    (len > 4 && strcmp(line + len - 4, ".zst") == 0) ||
		    (len > 3 && strcmp(line + len - 3, ".gz") == 0))
			flags = MODULE_INIT_COMPRESSED_FILE;
		if (syscall(SYS_finit_module, fd, "", flags) < 0 && errno != EEXIST) {
			logmsg("module %s: %m", line);
			failed++;
		} else {
			n++;
		}
		close(fd);
	}
	free(text);
	logmsg("%s: %u modules loaded, %u failed, %llu ms", list, n, failed,
	       (unsigned long long)(boot_ms() - t0));
}

/* Wait (up to 20 s) until the kernel knows filesystem type fs. */
void wait_fs(const char *fs)
{
	char pat[64];

	snprintf(pat, sizeof(pat), "\t%s\n", fs);
	for (int i = 0; i < 4000; i++) {
		char *t = read_file("/proc/filesystems", 16384, NULL);
		bool found = t && strstr(t, pat);
		free(t);
		if (found)
			return;
		usleep(5000);
	}
	logmsg("filesystem %s still unknown to the kernel", fs);
}

static void read_token(void)
{
	size_t len;
	uint8_t *data = (uint8_t *)read_file(TOKEN_FILE, 256, &len);

	if (!data || dl_token_parse(data, len, g.token) < 0) {
		/* Nobody can know a random token: the channel stays shut, but
		 * the console still tells what went wrong. */
		logmsg("no usable %s: the channel will refuse everyone", TOKEN_FILE);
		if (getrandom(g.token, sizeof(g.token), 0) != (ssize_t)sizeof(g.token))
			fatal("getrandom");
	}
	if (data) {
		memset(data, 0, len);
		free(data);
	}
	unlink(TOKEN_FILE);
}

static bool is_disk_name(const char *n)
{
	return strncmp(n, "vd", 2) == 0 || strncmp(n, "sd", 2) == 0 ||
	       strncmp(n, "xvd", 3) == 0 || strncmp(n, "nvme", 4) == 0;
}

static bool has_erofs_magic(const char *dev)
{
	uint8_t b[4];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = pread(fd, b, 4, 1024) == 4 &&
	     ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24) ==
		     EROFS_MAGIC;
	close(fd);
	return ok;
}

/* The root is recognised by content, never by order; disks may show up a
 * little after their driver loads, so look for up to 10 s. */
static bool find_root(char *dev, size_t size)
{
	for (int tries = 0; tries < 1000; tries++) {
		DIR *d = opendir("/sys/block");
		struct dirent *de;
		bool found = false;

		while (d && (de = readdir(d))) {
			if (!is_disk_name(de->d_name))
				continue;
			snprintf(dev, size, "/dev/%s", de->d_name);
			if (has_erofs_magic(dev)) {
				found = true;
				break;
			}
		}
		if (d)
			closedir(d);
		if (found)
			return true;
		usleep(10000);
	}
	return false;
}

/* Remove the initramfs' files (rm -rf / -xdev) to give their memory back. */
static void rm_tree(int dfd, dev_t dev)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != dev) /* a mount point: not ours to empty */
				continue;
			int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				rm_tree(sub, dev);
			unlinkat(dfd, de->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dfd, de->d_name, 0);
		}
	}
	closedir(d);
}

/* Read the big binaries started next (containerd, dockerd, the shim) into
 * the page cache while this process loads modules: module loading keeps one
 * vCPU busy and leaves the other idle, and on TCG decompressing ~170 MB of
 * zstd erofs clusters is ~1-2 s that containerd's and dockerd's page faults
 * would otherwise pay one after the other. A child process: it opens every
 * file first (the mount is moved by switch_root afterwards), reads, exits;
 * PID 1's reaper collects it. Best effort, silent. */
static void prefetch_start(void)
{
	static const char *const files[] = {
		LOWER "/usr/bin/containerd",
		LOWER "/usr/sbin/dockerd",
		LOWER "/usr/bin/containerd-shim-runc-v2",
		LOWER "/usr/sbin/xtables-legacy-multi",
	};
	enum { N = sizeof(files) / sizeof(files[0]) };
	const char *off = cmdline_get("prefetch"); /* dlite.prefetch=0: off (bench/boot) */

	if (off && strcmp(off, "0") == 0)
		return;
	pid_t pid = fork();

	if (pid != 0)
		return; /* parent, or fork failed: nothing to undo */
	int fds[N];
	for (int i = 0; i < N; i++)
		fds[i] = open(files[i], O_RDONLY | O_CLOEXEC);
	static char buf[1 << 20];
	for (int i = 0; i < N; i++) {
		if (fds[i] < 0)
			continue;
		while (read(fds[i], buf, sizeof(buf)) > 0)
			;
		close(fds[i]);
	}
	_exit(0);
}

static void mount_root(const char *dev)
{
	mkdir_p(LOWER, 0755);
	mkdir_p(RW, 0755);
	mkdir_p(NEWROOT, 0755);
	if (mount(dev, LOWER, "erofs", MS_RDONLY, NULL) < 0)
		fatal("cannot mount the erofs root");
	/* The root's modules include overlay itself: they are loaded from
	 * the lower layer, before the overlay exists.  Synchronously: under
	 * TCG a loader child running beside mkfs and containerd took 25 s
	 * instead of 7 s and delayed everything; with KVM they take
	 * milliseconds anyway. */
	prefetch_start();
	load_modules(LOWER, "/lib/dlite/modules.list");
	if (mount("dlite-rw", RW, "tmpfs", 0, "mode=0755") < 0)
		fatal("cannot mount the tmpfs for the root overlay");
	mkdir_p(RW "/upper", 0755);
	mkdir_p(RW "/work", 0755);
	if (mount("overlay", NEWROOT, "overlay", 0,
		  "lowerdir=" LOWER ",upperdir=" RW "/upper,workdir=" RW "/work") < 0)
		fatal("cannot mount the root overlay");
}

/* busybox switch_root, in short: move the API mounts, empty the initramfs,
 * move the new root over / and chroot into it. */
static void switch_root(void)
{
	static const char *const api[] = { "/dev", "/proc", "/sys" };
	struct statfs sfs;
	struct stat st;

	for (size_t i = 0; i < sizeof(api) / sizeof(api[0]); i++) {
		char dst[64];
		snprintf(dst, sizeof(dst), NEWROOT "%s", api[i]);
		mkdir_p(dst, 0755);
		if (mount(api[i], dst, NULL, MS_MOVE, NULL) < 0)
			logmsg("move %s: %m", api[i]);
	}
	if (chdir(NEWROOT) < 0)
		fatal("chdir to the new root");
	/* only ever empty a RAM filesystem */
	if (statfs("/", &sfs) == 0 && stat("/", &st) == 0 &&
	    (sfs.f_type == RAMFS_MAGIC || sfs.f_type == TMPFS_MAGIC)) {
		int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			rm_tree(fd, st.st_dev);
	}
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		fatal("cannot move the new root over /");
	if (chroot(".") < 0 || chdir("/") < 0)
		fatal("chroot into the new root");
}

/* With PID 1 in the root cgroup (exempt from the no-internal-processes
 * rule), enable every controller for the children, as dind does. */
static void cgroup_setup(void)
{
	char *ctrls = read_file("/sys/fs/cgroup/cgroup.controllers", 4096, NULL);
	char buf[4096];
	size_t off = 0;

	if (!ctrls)
		return;
	for (char *save, *c = strtok_r(ctrls, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
		int n = snprintf(buf + off, sizeof(buf) - off, "%s+%s", off ? " " : "", c);
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			break;
		off += (size_t)n;
	}
	free(ctrls);
	int fd = open("/sys/fs/cgroup/cgroup.subtree_control", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, buf, off) < 0)
			logmsg("cgroup.subtree_control: %m");
		close(fd);
	}
}

static void late_mounts(void)
{
	do_mount("run", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	do_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666");
	do_mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	do_mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, "nsdelegate");
	do_mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	/* what udev would have made */
	symlink("/proc/self/fd", "/dev/fd");
	symlink("/proc/self/fd/0", "/dev/stdin");
	symlink("/proc/self/fd/1", "/dev/stdout");
	symlink("/proc/self/fd/2", "/dev/stderr");
	mkdir_p("/run/lock", 01777);
	mkdir_p("/var/log", 0755);
	cgroup_setup();
}

/* DLITE_IMAGE_VERSION= and DOCKER_VERSION= from the image's release file. */
static void read_release(void)
{
	char *text = read_file(RELEASE_FILE, 8192, NULL);

	if (!text)
		return;
	for (char *save, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *dst = NULL;
		if (strncmp(l, "DLITE_IMAGE_VERSION=", 20) == 0) {
			dst = g.image_version;
			l += 20;
		} else if (strncmp(l, "DOCKER_VERSION=", 15) == 0) {
			dst = g.docker_version;
			l += 15;
		}
		if (!dst)
			continue;
		size_t n = strcspn(l, " \t\"'");
		if (n >= sizeof(g.image_version))
			n = sizeof(g.image_version) - 1;
		memcpy(dst, l, n);
		dst[n] = '\0';
	}
	free(text);
}

void pid1_main(void)
{
	char rootdev[64];
	struct rlimit nofile = { 1048576, 1048576 };

	do_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	console_setup();
	stamp("agent");
	do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	do_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	read_token();
	load_modules("", "/dlite/modules.list");
	if (!find_root(rootdev, sizeof(rootdev)))
		fatal("no disk with an erofs root (did the VM get root.erofs?)");
	mount_root(rootdev);
	switch_root();
	late_mounts();
	stamp("root");
	read_release();
	/* dockerd and containerd want many files; so does a busy channel */
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
		logmsg("RLIMIT_NOFILE: %m");

	if (loop_init() < 0)
		fatal("epoll");
	svc_signals_init();
	net_setup();
	stamp("network");
	bool data_ok = data_disk_setup(rootdev);
	stamp("data");
	ensure_docker_user();
	svc_start_containerd(data_ok);
	share_setup(); /* before dockerd restarts containers that bind it */
	binfmt_setup();
	svc_start_all(data_ok);
	power_button_watch();
	/* the channel accepts only now that the loop runs: a connection the
	 * kernel accepted during the boot steps above would get no reply
	 * until then (the host sees a refused connection instead) */
	/* the host's path only: its address on the NIC (containers reach
	 * 10.0.2.15 through docker0, host-network ones through lo) */
	admit_host_only(cmdline_get("gw"));
	chan_listen_tcp("0.0.0.0", DL_AGENT_PORT, net_ifname());
	if (access("/dev/vsock", F_OK) == 0)
		chan_listen_vsock(DL_AGENT_PORT);
	logmsg("up");
	loop_run();
}
