/*
 * The data disk, recognised by content (guest contract): an ext4
 * superblock first (such a disk is never formatted), else the format marker
 * "dlite, please format-me\n" + authorized_keys text + NUL within 64 KiB.
 */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKER "dlite, please format-me\n"
#define SCAN_LEN (64 * 1024)
#define EXT4_MAGIC_OFF (1024 + 56)
#define SSH_DIR DATA_MNT "/dlite/ssh"
#define ETC_DOCKER DATA_MNT "/dlite/etc-docker"

enum disk_kind { DISK_NONE, DISK_EXT4, DISK_MARKER };

/* Reads the first 64 KiB; for a marker disk, *keys gets the key text. */
static enum disk_kind probe(const char *dev, char **keys, size_t *marked)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	uint8_t *buf = malloc(SCAN_LEN);
	enum disk_kind kind = DISK_NONE;
	ssize_t n = -1;

	if (fd >= 0 && buf)
		n = pread(fd, buf, SCAN_LEN, 0);
	if (fd >= 0)
		close(fd);
	if (n < 0)
		goto out;
	if (n >= EXT4_MAGIC_OFF + 2 && buf[EXT4_MAGIC_OFF] == 0x53 && buf[EXT4_MAGIC_OFF + 1] == 0xEF) {
		kind = DISK_EXT4;
		goto out;
	}
	size_t mlen = strlen(MARKER);
	if ((size_t)n < mlen || memcmp(buf, MARKER, mlen) != 0)
		goto out;
	uint8_t *nul = memchr(buf + mlen, 0, (size_t)n - mlen);
	if (!nul) {
		logmsg("data: %s has the format marker but no NUL within 64 KiB: not touched", dev);
		goto out;
	}
	*keys = strndup((char *)buf + mlen, (size_t)(nul - buf - mlen));
	*marked = (size_t)(nul - buf) + 1;
	kind = *keys ? DISK_MARKER : DISK_NONE;
out:
	free(buf);
	return kind;
}

/* mkfs first, then wipe the marker: a crash in between leaves a disk with a
 * superblock (checked first), never a disk with neither. */
static int format(const char *dev, size_t marked)
{
	char *const argv[] = {
		"/usr/sbin/mkfs.ext4", "-q", "-L", "dlite-data", "-m", "1",
		"-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
		(char *)dev, NULL,
	};
	uint64_t t0 = boot_ms();
	int rc = run_wait(argv);

	if (rc != 0) {
		logmsg("data: mkfs.ext4 %s failed (%d)", dev, rc);
		return -1;
	}
	/* mke2fs zeroes the first 1 KiB already; the rest of the marker lay
	 * where the superblock and group descriptors now are. */
	char zero[1024] = { 0 };
	size_t n = marked < sizeof(zero) ? marked : sizeof(zero);
	int fd = open(dev, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, zero, n, 0) != (ssize_t)n || fsync(fd) < 0)
		logmsg("data: wiping the marker on %s: %m", dev);
	if (fd >= 0)
		close(fd);
	logmsg("data: formatted %s in %llu ms", dev, (unsigned long long)(boot_ms() - t0));
	return 0;
}

static int mount_data(const char *dev)
{
	mkdir_p(DATA_MNT, 0755);
	wait_fs("ext4"); /* the module may still be on its way */
	if (mount(dev, DATA_MNT, "ext4", MS_NOATIME, NULL) == 0)
		return 0;
	logmsg("data: mount %s: %m; running e2fsck -p", dev);
	char *const fsck[] = { "/usr/sbin/e2fsck", "-p", (char *)dev, NULL };
	run_wait(fsck);
	if (mount(dev, DATA_MNT, "ext4", MS_NOATIME, NULL) == 0)
		return 0;
	logmsg("data: mount %s: %m", dev);
	return -1;
}

/* First boot: seed the persistent /etc/docker with what the image ships. */
static void seed_etc_docker(void)
{
	DIR *d = opendir("/etc/docker");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char src[300], dst[400];
		struct stat st;
		size_t len;
		snprintf(src, sizeof(src), "/etc/docker/%s", de->d_name);
		if (stat(src, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		snprintf(dst, sizeof(dst), ETC_DOCKER "/%s", de->d_name);
		char *text = read_file(src, 1 << 20, &len);
		if (text && write_file(dst, text, len, st.st_mode & 07777) < 0)
			logmsg("data: copy %s: %m", src);
		free(text);
	}
	closedir(d);
}

static void bind(const char *src, const char *dst)
{
	mkdir_p(src, 0711);
	mkdir_p(dst, 0711);
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		logmsg("data: bind %s on %s: %m", src, dst);
}

static void layout(const char *keys)
{
	struct stat st;

	mkdir_p(SSH_DIR, 0755);
	if (stat(ETC_DOCKER, &st) < 0) {
		mkdir_p(ETC_DOCKER, 0755);
		seed_etc_docker();
	}
	/* root-owned 0644: sshd's StrictModes accepts it and reads it as
	 * user docker; the keys are public anyway */
	if (keys && write_file(SSH_DIR "/authorized_keys", keys, strlen(keys), 0644) < 0)
		logmsg("data: write authorized_keys: %m");
	bind(DATA_MNT "/docker", "/var/lib/docker");
	bind(DATA_MNT "/containerd", "/var/lib/containerd");
	bind(ETC_DOCKER, "/etc/docker");
}

bool data_disk_setup(const char *root_dev)
{
	DIR *d = opendir("/sys/block");
	struct dirent *de;
	char dev[300];
	char *keys = NULL;
	size_t marked = 0;
	enum disk_kind kind = DISK_NONE;

	g.data_state = "unknown";
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strncmp(de->d_name, "loop", 4) == 0 ||
		    strncmp(de->d_name, "ram", 3) == 0 || strncmp(de->d_name, "sr", 2) == 0 ||
		    strncmp(de->d_name, "zram", 4) == 0)
			continue;
		snprintf(dev, sizeof(dev), "/dev/%s", de->d_name);
		if (strcmp(dev, root_dev) == 0)
			continue;
		kind = probe(dev, &keys, &marked);
		if (kind != DISK_NONE)
			break;
	}
	if (d)
		closedir(d);
	if (kind == DISK_NONE) {
		logmsg("data: no disk with ext4 or the format marker: dockerd not started");
		return false;
	}
	if (kind == DISK_MARKER && format(dev, marked) < 0) {
		free(keys);
		return false;
	}
	if (mount_data(dev) < 0) {
		free(keys);
		return false;
	}
	if (kind == DISK_EXT4)
		space_grow(dev); /* the host may have extended disk.img */
	layout(keys);
	free(keys);
	g.data_state = kind == DISK_MARKER ? "formatted" : "ok";
	logmsg("data: %s on " DATA_MNT " (%s)", dev, g.data_state);
	space_start();
	return true;
}

/* The image's erofs is built --all-root: /home/docker comes out root-owned
 * (and 0700 from useradd), so give it back to docker. */
static void fix_docker_home(void)
{
	char *pw = read_file("/etc/passwd", 1 << 20, NULL);
	char *line = pw ? (strncmp(pw, "docker:", 7) == 0 ? pw : strstr(pw, "\ndocker:")) : NULL;
	char *f[7] = { 0 };

	if (line && *line == '\n')
		line++;
	if (line) {
		line[strcspn(line, "\n")] = '\0';
		/* name:pw:uid:gid:gecos:home:shell (fields may be empty) */
		for (int i = 0; i < 7 && line; i++) {
			f[i] = line;
			line = strchr(line, ':');
			if (line)
				*line++ = '\0';
		}
	}
	if (f[5] && f[5][0] == '/') {
		uid_t uid = (uid_t)strtoul(f[2], NULL, 10);
		gid_t gid = (gid_t)strtoul(f[3], NULL, 10);
		mkdir_p(f[5], 0755);
		if (chown(f[5], uid, gid) < 0 || chmod(f[5], 0755) < 0)
			logmsg("chown %s: %m", f[5]);
	}
	free(pw);
}

/* The image makes user docker with a locked password ("!"); with
 * UsePAM no, sshd refuses even key logins for a locked account, so the
 * password becomes "*" (no password, not locked). */
void ensure_docker_user(void)
{
	size_t len;
	char *text;

	fix_docker_home();
	text = read_file("/etc/shadow", 1 << 20, &len);
	if (!text)
		return;
	char *line = strncmp(text, "docker:!", 8) == 0 ? text : strstr(text, "\ndocker:!");
	if (line) {
		if (*line == '\n')
			line++;
		char *pw = line + strlen("docker:");
		size_t n = strcspn(pw, ":\n");
		memmove(pw + 1, pw + n, len - (size_t)(pw + n - text) + 1);
		*pw = '*';
		if (write_file("/etc/shadow", text, strlen(text), 0640) < 0)
			logmsg("unlock user docker: %m");
	}
	free(text);
}
