#include "atomic.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* Linux and macOS spell the xattr calls differently (macOS: position and
 * options arguments). */
#ifndef ENOATTR
#define ENOATTR ENODATA
#endif
#ifdef __APPLE__
#define x_list(p, b, n) listxattr(p, b, n, 0)
#define x_get(p, k, b, n) getxattr(p, k, b, n, 0, 0)
#define x_fset(fd, k, b, n) fsetxattr(fd, k, b, n, 0, 0)
#else
#define x_list(p, b, n) listxattr(p, b, n)
#define x_get(p, k, b, n) getxattr(p, k, b, n)
#define x_fset(fd, k, b, n) fsetxattr(fd, k, b, n, 0)
#endif

#ifndef O_DIRECTORY
#define O_DIRECTORY 0
#endif

static void random_suffix(char *out, size_t n)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static unsigned long counter;
	unsigned char raw[16];
	size_t got = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t r = read(fd, raw, sizeof(raw));
		got = r > 0 ? (size_t)r : 0;
		close(fd);
	}
	if (got < sizeof(raw)) {
		struct timespec ts;
		unsigned long x;

		clock_gettime(CLOCK_REALTIME, &ts);
		x = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16) ^ ++counter * 2654435761UL;
		for (size_t i = got; i < sizeof(raw); i++) {
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			raw[i] = (unsigned char)(x >> 33);
		}
	}
	for (size_t i = 0; i + 1 < n && i < sizeof(raw); i++)
		out[i] = abc[raw[i] % (sizeof(abc) - 1)];
	out[n - 1 < sizeof(raw) ? n - 1 : sizeof(raw)] = '\0';
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* What to do about errno err while writing into dir. */
static const char *hint(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return "run it with sudo, or check the permissions and flags (chflags/chattr) of";
	case EROFS:
		return "the file system is read-only; remount it or pick another path for";
	case ENOSPC:
	case EDQUOT:
		return "free some disk space and retry for";
	default:
		return "check";
	}
}

/*
 * Copy every extended attribute of src onto the open temp file: user.*,
 * security.selinux (the SELinux label), system.posix_acl_access (the ACL),
 * com.apple.* ... so that the replacement is the same file to everyone but
 * its bytes.  An attribute that cannot be set here (no privilege, a file
 * system without xattrs) refuses the write: the original stays as it is.
 */
static int copy_xattrs(const char *src, int dst, const char *path, struct dl_err *e)
{
	char *names = NULL, *val = NULL;
	ssize_t n = x_list(src, NULL, 0);
	int r = -1;

	if (n < 0 && (errno == ENOTSUP || errno == ENOSYS))
		return 0; /* the original cannot have any */
	if (n < 0)
		return dl_fail(e, errno, "cannot write %s: cannot list its extended attributes", path);
	if (n == 0)
		return 0;
	if (!(names = malloc((size_t)n + 1)) || (n = x_list(src, names, (size_t)n)) < 0) {
		dl_fail(e, errno ? errno : ENOMEM, "cannot write %s: cannot list its extended attributes",
			path);
		goto out;
	}
	names[n] = '\0';
	for (char *k = names; k < names + n; k += strlen(k) + 1) {
		ssize_t vn = x_get(src, k, NULL, 0);
		if (vn < 0 && (errno == ENODATA || errno == ENOATTR))
			continue; /* removed meanwhile */
		free(val);
		val = vn >= 0 ? malloc((size_t)vn + 1) : NULL;
		if (vn < 0 || !val || (vn = x_get(src, k, val, (size_t)vn)) < 0) {
			dl_fail(e, errno ? errno : ENOMEM, "cannot write %s: cannot read its extended "
				"attribute %s", path, k);
			goto out;
		}
		if (x_fset(dst, k, val, (size_t)vn) < 0) {
			dl_fail(e, errno, "cannot write %s: its extended attribute %s (ACL, SELinux label "
				"or other) cannot be kept on a new copy, so it is left unchanged; run it as "
				"root, or edit it by hand", path, k);
			goto out;
		}
	}
	r = 0;
out:
	free(names);
	free(val);
	return r;
}

int dl_file_lock(const char *path, struct dl_err *e)
{
	char target[PATH_MAX], dir[PATH_MAX];
	struct stat a, b;

	for (int tries = 0; tries < 400; tries++) { /* 400 x 25 ms: 10 s */
		if (!realpath(path, target)) {
			if (errno != ENOENT || strlen(path) >= sizeof(target))
				return dl_fail(e, errno, "cannot lock %s", path);
			strcpy(target, path);
		}
		/* the file, or its folder while it does not exist */
		bool missing = stat(target, &a) < 0;
		const char *obj = target;
		if (missing) {
			const char *slash = strrchr(target, '/');
			size_t dn = !slash ? 0 : slash == target ? 1 : (size_t)(slash - target);
			snprintf(dir, sizeof(dir), "%.*s", dn ? (int)dn : 1, dn ? target : ".");
			obj = dir;
		}
		int fd = open(obj, O_RDONLY | O_CLOEXEC | (missing ? O_DIRECTORY : 0));
		if (fd < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue; /* changed under us: look again */
			return dl_fail(e, errno, "cannot lock %s: cannot open %s", path, obj);
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int err = errno;
			close(fd);
			if (err != EWOULDBLOCK)
				return dl_fail(e, err, "cannot lock %s", path);
			struct timespec ts = { 0, 25000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		/* still the file the path names (an edit renames a new one in)? */
		bool now_missing = stat(target, &b) < 0;
		if (now_missing == missing &&
		    (missing || (fstat(fd, &a) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)))
			return fd;
		close(fd);
	}
	return dl_fail(e, 0, "cannot lock %s: another dlite has been editing it for 10 s; retry", path);
}

void dl_file_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int dl_atomic_write(const char *path, const void *data, size_t len, mode_t mode_if_new,
		    struct dl_err *e)
{
	char target[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX + 32], sfx[13];
	const char *base, *slash;
	struct stat st, lst;
	int exists, fd = -1, err;

	if (!path || !*path)
		return dl_fail(e, 0, "cannot write a file with an empty path");
	if (strlen(path) >= sizeof(target))
		return dl_fail(e, ENAMETOOLONG, "cannot write %.200s: path too long", path);
	strcpy(target, path);
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		if (!realpath(path, target))
			return dl_fail(e, errno, "cannot write %s: it is a symlink that does not resolve; "
				       "remove the link or fix its target", path);
	}
	exists = stat(target, &st) == 0;
	if (!exists && errno != ENOENT)
		return dl_fail(e, errno, "cannot write %s: %s it", path, hint(errno));
	if (exists && !S_ISREG(st.st_mode))
		return dl_fail(e, 0, "cannot write %s: not a regular file; move it away first", path);
	if (exists && faccessat(AT_FDCWD, target, W_OK, AT_EACCESS) < 0)
		return dl_fail(e, errno, "cannot write %s: it is read-only for this user; %s it", path,
			       hint(errno));

	slash = strrchr(target, '/');
	if (slash) {
		size_t dn = slash == target ? 1 : (size_t)(slash - target);
		memcpy(dir, target, dn);
		dir[dn] = '\0';
		base = slash + 1;
	} else {
		strcpy(dir, ".");
		base = target;
	}
	if (!*base)
		return dl_fail(e, EISDIR, "cannot write %s: the path names a directory", path);

	for (int tries = 0; fd < 0 && tries < 64; tries++) {
		random_suffix(sfx, sizeof(sfx));
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.dlite-%s", dir, base, sfx) >= sizeof(tmp))
			return dl_fail(e, ENAMETOOLONG, "cannot write %s: path too long", path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err = errno;
		return dl_fail(e, err, "cannot write %s: cannot create a temporary file in %s; %s %s", path,
			       dir, hint(err), dir);
	}

	if (write_all(fd, data, len) < 0) {
		err = errno;
		dl_fail(e, err, "cannot write %s: writing %s failed; %s %s", path, tmp, hint(err), dir);
		goto fail;
	}
	if (exists && fchown(fd, st.st_uid, st.st_gid) < 0) {
		struct stat now;
		err = errno;
		/* Not an error if it already has that owner (non-root writing its own file). */
		if (fstat(fd, &now) < 0 || now.st_uid != st.st_uid || now.st_gid != st.st_gid) {
			dl_fail(e, err, "cannot write %s: cannot keep its owner %ld:%ld; run it as root or "
				"as that owner", path, (long)st.st_uid, (long)st.st_gid);
			goto fail;
		}
	}
	if (fchmod(fd, exists ? (st.st_mode & 07777) : (mode_if_new & 07777)) < 0) {
		err = errno;
		dl_fail(e, err, "cannot write %s: cannot set the mode of %s", path, tmp);
		goto fail;
	}
	/* after the mode: an ACL's mask follows chmod, so it is set last */
	if (exists && copy_xattrs(target, fd, path, e) < 0)
		goto fail;
	if (fsync(fd) < 0) {
		err = errno;
		dl_fail(e, err, "cannot write %s: fsync failed; %s %s", path, hint(err), dir);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		err = errno;
		dl_fail(e, err, "cannot write %s: close failed; %s %s", path, hint(err), dir);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, target) < 0) {
		err = errno;
		dl_fail(e, err, "cannot write %s: cannot replace it; %s it", path, hint(err));
		goto fail;
	}
	/* The new content is in place; make the rename durable. Some file systems
	 * cannot fsync a directory (EINVAL/ENOTSUP): nothing more to do there. */
	fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
	if (fd >= 0) {
		if (fsync(fd) < 0 && errno != EINVAL && errno != ENOTSUP && errno != EROFS) {
			err = errno;
			close(fd);
			return dl_fail(e, err, "wrote %s but could not sync directory %s; run sync", path, dir);
		}
		close(fd);
	}
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

int dl_read_file(const char *path, char **out, size_t *len, size_t max, struct dl_err *e)
{
	size_t n = 0, cap = 4096;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (len)
		*len = 0;
	if (fd < 0) {
		int err = errno;
		if (err == ENOENT)
			return dl_fail(e, err, "cannot read %s", path);
		return dl_fail(e, err, "cannot read %s; %s it", path, hint(err));
	}
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return dl_fail(e, ENOMEM, "cannot read %s", path);
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *nb;
			if (cap > max + 1) {
				close(fd);
				free(buf);
				return dl_fail(e, EFBIG, "cannot read %s: larger than %zu bytes; is it the "
					       "right file?", path, max);
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				close(fd);
				free(buf);
				return dl_fail(e, ENOMEM, "cannot read %s", path);
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			int err = errno;
			if (err == EINTR)
				continue;
			close(fd);
			free(buf);
			return dl_fail(e, err, "cannot read %s", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			close(fd);
			free(buf);
			return dl_fail(e, EFBIG, "cannot read %s: larger than %zu bytes; is it the right file?",
				       path, max);
		}
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

/* Length of $DLITE_SYSROOT without trailing slashes ("/" counts as none). */
static size_t sysroot_len(const char **root)
{
	const char *s = getenv("DLITE_SYSROOT");
	size_t n;

	*root = s ? s : "";
	n = s ? strlen(s) : 0;
	while (n > 0 && s[n - 1] == '/')
		n--;
	return n;
}

const char *dl_sysroot(void)
{
	static char copy[PATH_MAX];
	const char *s;
	size_t n = sysroot_len(&s);

	if (n >= sizeof(copy))
		n = 0; /* dl_syspath() reports it */
	memcpy(copy, s, n);
	copy[n] = '\0';
	return copy;
}

int dl_syspath(char *buf, size_t n, const char *abs, struct dl_err *e)
{
	const char *root;
	size_t rn = sysroot_len(&root), an;

	if (!abs || abs[0] != '/')
		return dl_fail(e, 0, "internal: system path %s is not absolute", abs ? abs : "(null)");
	an = strlen(abs);
	if (rn + an + 1 > n)
		return dl_fail(e, ENAMETOOLONG, "path %.*s%s is too long; use a shorter DLITE_SYSROOT",
			       (int)(rn > 200 ? 200 : rn), root, abs);
	memcpy(buf, root, rn);
	memcpy(buf + rn, abs, an + 1);
	return 0;
}
