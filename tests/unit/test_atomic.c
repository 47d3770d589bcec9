#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "host/atomic.h"
#include "host/hosts.h"

#define NOBODY 65534

static char dir[256];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/dlite-test-atomic-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return chmod(dir, 0755);
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "chattr -R -i '%s' 2>/dev/null; rm -rf '%s'", dir, dir);
	return system(cmd) == -1;
}

static void path_in(char *buf, const char *name)
{
	snprintf(buf, 512, "%s/%s", dir, name);
}

static void put(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void expect_content(const char *path, const char *want)
{
	struct dl_err e;
	char *got;
	size_t n;

	assert_int_equal(dl_read_file(path, &got, &n, 1 << 20, &e), 0);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(got, want, n);
	free(got);
}

/* No ".NAME.dlite-XXXX" temp files left behind in d. */
static void no_temp_files(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *de;

	assert_non_null(dd);
	while ((de = readdir(dd)))
		if (strstr(de->d_name, ".dlite-"))
			fail_msg("temp file left behind: %s/%s", d, de->d_name);
	closedir(dd);
}

static void new_file(void **state)
{
	char p[PATH_MAX];
	struct dl_err e;
	struct stat st;

	path_in(p, "new");
	assert_int_equal(dl_atomic_write(p, "hello\n", 6, 0640, &e), 0);
	expect_content(p, "hello\n");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* empty content */
	assert_int_equal(dl_atomic_write(p, "", 0, 0600, &e), 0);
	expect_content(p, "");
	no_temp_files(dir);
}

static void keeps_owner_and_mode(void **state)
{
	char p[PATH_MAX];
	struct dl_err e;
	struct stat st;
	int root = geteuid() == 0;

	path_in(p, "hosts");
	put(p, "old\n", 0604);
	if (root)
		assert_int_equal(chown(p, 1234, 5678), 0);
	assert_int_equal(dl_atomic_write(p, "new content\n", 12, 0600, &e), 0);
	expect_content(p, "new content\n");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0604); /* not mode_if_new */
	if (root) {
		assert_int_equal(st.st_uid, 1234);
		assert_int_equal(st.st_gid, 5678);
	}
	no_temp_files(dir);
}

static void follows_symlink(void **state)
{
	char p[PATH_MAX], link[PATH_MAX];
	struct dl_err e;
	struct stat st;

	path_in(p, "target");
	path_in(link, "link");
	put(p, "t\n", 0644);
	assert_int_equal(symlink("target", link), 0);
	assert_int_equal(dl_atomic_write(link, "via link\n", 9, 0600, &e), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	expect_content(p, "via link\n");
}

static void bad_targets(void **state)
{
	char p[PATH_MAX];
	struct dl_err e;

	path_in(p, "no/such/dir/file");
	assert_int_equal(dl_atomic_write(p, "x", 1, 0644, &e), -1);
	assert_int_equal(e.errnum, ENOENT);
	assert_null(strchr(e.msg, '\n'));
	/* a directory is not replaced */
	path_in(p, "adir");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(dl_atomic_write(p, "x", 1, 0644, &e), -1);
	assert_non_null(strstr(e.msg, "not a regular file"));
	assert_int_equal(dl_atomic_write("", "x", 1, 0644, &e), -1);
	no_temp_files(dir);
}

/*
 * Run dl_atomic_write(path) in a child as user nobody (we are root in CI;
 * root ignores permissions, so this is how we get a real EACCES without a
 * setuid helper) or as ourselves when not root.  Returns the errno it failed
 * with (0 on success) and the message in msg.
 */
static int write_as_nobody(const char *path, const char *data, char *msg, size_t n)
{
	int fds[2], status;
	pid_t pid;
	ssize_t r;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct dl_err e = { 0 };
		int rc, out[1];

		close(fds[0]);
		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0))
			_exit(99);
		rc = dl_atomic_write(path, data, strlen(data), 0644, &e);
		out[0] = rc == 0 ? 0 : (e.errnum ? e.errnum : -1);
		if (write(fds[1], out, sizeof(out)) != sizeof(out) ||
		    write(fds[1], e.msg, strlen(e.msg) + 1) < 0)
			_exit(98);
		_exit(0);
	}
	close(fds[1]);
	{
		int res[1] = { 12345 };
		r = read(fds[0], res, sizeof(res));
		assert_int_equal(r, sizeof(res));
		r = read(fds[0], msg, n - 1);
		msg[r > 0 ? r : 0] = '\0';
		close(fds[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		return res[0];
	}
}

static void read_only_directory(void **state)
{
	char sub[512], p[PATH_MAX], msg[600];
	int err;

	path_in(sub, "ro");
	assert_int_equal(mkdir(sub, 0755), 0); /* owned by root (or us): nobody can't write */
	if (geteuid() != 0)
		assert_int_equal(chmod(sub, 0555), 0);
	snprintf(p, sizeof(p), "%s/hosts", sub);
	put(p, "127.0.0.1 localhost\n", 0644);
	err = write_as_nobody(p, "replaced\n", msg, sizeof(msg));
	assert_int_equal(err, EACCES);
	assert_non_null(strstr(msg, p));
	assert_non_null(strstr(msg, "sudo"));
	assert_null(strchr(msg, '\n'));
	expect_content(p, "127.0.0.1 localhost\n");
	no_temp_files(sub);
	chmod(sub, 0755);
}

static void read_only_file(void **state)
{
	char sub[512], p[PATH_MAX], msg[600];
	int err;

	/* A directory nobody may write, holding a file it owns with mode 0444:
	 * the rename would work, but a read-only file is refused like a write. */
	path_in(sub, "rw");
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(p, sizeof(p), "%s/hosts", sub);
	put(p, "keep me\n", 0444);
	if (geteuid() == 0) {
		assert_int_equal(chown(sub, NOBODY, NOBODY), 0);
		assert_int_equal(chown(p, NOBODY, NOBODY), 0);
	}
	err = write_as_nobody(p, "replaced\n", msg, sizeof(msg));
	assert_int_equal(err, EACCES);
	assert_non_null(strstr(msg, "read-only"));
	expect_content(p, "keep me\n");
	no_temp_files(sub);
}

static void immutable_file(void **state)
{
	char p[PATH_MAX], cmd[PATH_MAX + 64];
	struct dl_err e;

	path_in(p, "immutable");
	put(p, "frozen\n", 0644);
	snprintf(cmd, sizeof(cmd), "chattr +i '%s' 2>/dev/null", p);
	if (system(cmd) != 0)
		skip(); /* no chattr, or the file system has no immutable flag */
	assert_int_equal(dl_atomic_write(p, "thawed\n", 7, 0644, &e), -1);
	assert_true(e.errnum == EPERM || e.errnum == EACCES);
	assert_non_null(strstr(e.msg, "chattr"));
	snprintf(cmd, sizeof(cmd), "chattr -i '%s'", p);
	assert_int_equal(system(cmd), 0);
	expect_content(p, "frozen\n");
	no_temp_files(dir);
}

static void read_file(void **state)
{
	char p[PATH_MAX], *s;
	struct dl_err e;
	size_t n;
	char big[10000];

	path_in(p, "r");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(p, big, 0644);
	assert_int_equal(dl_read_file(p, &s, &n, sizeof(big), &e), 0);
	assert_int_equal(n, sizeof(big) - 1);
	assert_int_equal(s[n], '\0');
	free(s);
	assert_int_equal(dl_read_file(p, &s, &n, 100, &e), -1);
	assert_int_equal(e.errnum, EFBIG);
	assert_null(s);
	path_in(p, "missing");
	assert_int_equal(dl_read_file(p, &s, &n, 100, &e), -1);
	assert_int_equal(e.errnum, ENOENT);
}

static void sysroot(void **state)
{
	char buf[64], tiny[12];
	struct dl_err e;

	unsetenv("DLITE_SYSROOT");
	assert_string_equal(dl_sysroot(), "");
	assert_int_equal(dl_syspath(buf, sizeof(buf), "/etc/hosts", &e), 0);
	assert_string_equal(buf, "/etc/hosts");
	setenv("DLITE_SYSROOT", "/tmp/root//", 1);
	assert_string_equal(dl_sysroot(), "/tmp/root");
	assert_int_equal(dl_syspath(buf, sizeof(buf), "/etc/hosts", &e), 0);
	assert_string_equal(buf, "/tmp/root/etc/hosts");
	assert_int_equal(dl_syspath(tiny, sizeof(tiny), "/etc/hosts", &e), -1);
	assert_int_equal(e.errnum, ENAMETOOLONG);
	assert_int_equal(dl_syspath(buf, sizeof(buf), "etc/hosts", &e), -1);
	setenv("DLITE_SYSROOT", "/", 1);
	assert_int_equal(dl_syspath(buf, sizeof(buf), "/etc/hosts", &e), 0);
	assert_string_equal(buf, "/etc/hosts");
	unsetenv("DLITE_SYSROOT");
}

/* What `dlite install` + `dlite uninstall` do to /etc/hosts, under a sysroot:
 * the file comes back byte-identical, owner and mode kept. */
static void hosts_round_trip(void **state)
{
	const char *orig = "127.0.0.1 localhost\r\n::1 localhost"; /* CRLF, no final newline */
	char etc[512], p[PATH_MAX];
	struct dl_err e;
	struct stat st;
	char *text, *edit;
	size_t n, en;

	path_in(etc, "etc");
	assert_int_equal(mkdir(etc, 0755), 0);
	setenv("DLITE_SYSROOT", dir, 1);
	assert_int_equal(dl_syspath(p, sizeof(p), "/etc/hosts", &e), 0);
	put(p, orig, 0644);

	assert_int_equal(dl_read_file(p, &text, &n, 1 << 24, &e), 0);
	edit = dl_hosts_set(text, n, "192.168.64.2", "local.docker", &en);
	assert_int_equal(dl_atomic_write(p, edit, en, 0644, &e), 0);
	free(text);
	free(edit);
	expect_content(p, "127.0.0.1 localhost\r\n::1 localhost\r\n192.168.64.2 local.docker # added by dlite");

	assert_int_equal(dl_read_file(p, &text, &n, 1 << 24, &e), 0);
	edit = dl_hosts_remove(text, n, &en);
	assert_int_equal(dl_atomic_write(p, edit, en, 0644, &e), 0);
	free(text);
	free(edit);
	expect_content(p, orig);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	no_temp_files(etc);
	unsetenv("DLITE_SYSROOT");
}

/* An ACL as the kernel stores it in system.posix_acl_access: version 2,
 * then (tag, perm, id) entries sorted by tag: owner rw, user 65534 r,
 * group r, mask r, other none. */
static size_t acl_xattr(uint8_t *b)
{
	static const struct { uint16_t tag, perm; uint32_t id; } ents[] = {
		{ 0x01, 6, 0xffffffff }, { 0x02, 4, NOBODY }, { 0x04, 4, 0xffffffff },
		{ 0x10, 4, 0xffffffff }, { 0x20, 0, 0xffffffff },
	};
	uint32_t ver = 2;
	size_t n = 0;

	memcpy(b, &ver, 4);
	n = 4;
	for (size_t i = 0; i < sizeof(ents) / sizeof(*ents); i++) {
		memcpy(b + n, &ents[i].tag, 2);
		memcpy(b + n + 2, &ents[i].perm, 2);
		memcpy(b + n + 4, &ents[i].id, 4);
		n += 8;
	}
	return n;
}

/* xattrs (user.*, the ACL) survive the replacement; the mode too. */
static void keeps_xattrs_and_acl(void **state)
{
	char p[PATH_MAX], v[64];
	uint8_t acl[64], got[64];
	struct dl_err e;
	struct stat st;

	path_in(p, "xattrs");
	put(p, "old\n", 0640);
	if (setxattr(p, "user.dlite.test", "kept", 4, 0) < 0)
		skip(); /* no user xattrs on this file system */
	size_t an = acl_xattr(acl);
	int have_acl = setxattr(p, "system.posix_acl_access", acl, an, 0) == 0;
	assert_int_equal(stat(p, &st), 0);
	mode_t mode = st.st_mode & 07777;
	assert_int_equal(dl_atomic_write(p, "new\n", 4, 0644, &e), 0);
	expect_content(p, "new\n");
	assert_int_equal(getxattr(p, "user.dlite.test", v, sizeof(v)), 4);
	assert_memory_equal(v, "kept", 4);
	if (have_acl) {
		assert_int_equal(getxattr(p, "system.posix_acl_access", got, sizeof(got)), (ssize_t)an);
		assert_memory_equal(got, acl, an);
	}
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
	no_temp_files(dir);
}

/* An attribute the writer cannot set on a new file (security.* for a
 * non-root user) refuses the write, the original untouched. */
static void refuses_unkeepable_xattr(void **state)
{
	char sub[512], p[PATH_MAX], msg[600];

	if (geteuid() != 0)
		skip(); /* needs root to set the attribute and to become nobody */
	path_in(sub, "sec");
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(p, sizeof(p), "%s/hosts", sub);
	put(p, "keep me\n", 0644);
	assert_int_equal(chown(sub, NOBODY, NOBODY), 0);
	assert_int_equal(chown(p, NOBODY, NOBODY), 0);
	if (setxattr(p, "security.dlitetest", "x", 1, 0) < 0)
		skip();
	int err = write_as_nobody(p, "replaced\n", msg, sizeof(msg));
	assert_true(err == EPERM || err == EACCES);
	assert_non_null(strstr(msg, "security.dlitetest"));
	assert_null(strchr(msg, '\n'));
	expect_content(p, "keep me\n");
	no_temp_files(sub);
}

/* dl_file_lock serialises read-modify-write cycles, across the rename of
 * a new file over the locked one. */
static void file_lock(void **state)
{
	char p[PATH_MAX];
	struct dl_err e;
	int go[2];
	struct stat a, b;

	path_in(p, "locked");
	put(p, "0\n", 0644);
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* lock, tell the parent, edit slowly (a new inode), unlock */
		struct dl_err ce;
		int fd = dl_file_lock(p, &ce);
		if (fd < 0 || write(go[1], "x", 1) != 1)
			_exit(1);
		struct timespec ts = { 0, 300000000 };
		nanosleep(&ts, NULL);
		if (dl_atomic_write(p, "child\n", 6, 0644, &ce) < 0)
			_exit(2);
		dl_file_unlock(fd);
		_exit(0);
	}
	char c;
	assert_int_equal(read(go[0], &c, 1), 1);
	int fd = dl_file_lock(p, &e); /* waits for the child's edit */
	assert_true(fd >= 0);
	expect_content(p, "child\n"); /* the read sees the finished edit */
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(stat(p, &b), 0);
	assert_true(a.st_ino == b.st_ino); /* the new file is the one locked */
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	dl_file_unlock(fd);
	close(go[0]);
	close(go[1]);
	/* a missing file: its folder is locked */
	path_in(p, "not-yet");
	fd = dl_file_lock(p, &e);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	dl_file_unlock(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_file),	     cmocka_unit_test(keeps_owner_and_mode),
		cmocka_unit_test(follows_symlink),   cmocka_unit_test(bad_targets),
		cmocka_unit_test(read_only_directory), cmocka_unit_test(read_only_file),
		cmocka_unit_test(immutable_file),    cmocka_unit_test(read_file),
		cmocka_unit_test(sysroot),	     cmocka_unit_test(hosts_round_trip),
		cmocka_unit_test(keeps_xattrs_and_acl), cmocka_unit_test(refuses_unkeepable_xattr),
		cmocka_unit_test(file_lock),
	};
	return cmocka_run_group_tests_name("atomic", tests, setup, teardown);
}
