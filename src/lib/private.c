#include "lib/private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dl_write_private(const char *path, const void *data, size_t len, struct dl_err *e)
{
	char tmp[4200];
	const char *p = data;
	int fd, err;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= sizeof(tmp))
		return dl_fail(e, ENAMETOOLONG, "cannot write %s: path too long", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return dl_fail(e, errno, "cannot write %s", tmp);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return dl_fail(e, err, "cannot write %s", path);
}

int dl_read_private(const char *path, char **out, size_t *len, size_t max, struct dl_err *e)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char *buf;
	size_t got = 0;

	*out = NULL;
	if (fd < 0)
		return dl_fail(e, errno, "cannot read %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077)) {
		close(fd);
		return dl_fail(e, EPERM, "%s is not a private file of this user; remove it", path);
	}
	if (!(buf = malloc(max + 1))) {
		close(fd);
		return dl_fail(e, ENOMEM, "%s", path);
	}
	while (got < max) {
		ssize_t n = read(fd, buf + got, max - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (len)
		*len = got;
	return 0;
}

int dl_private_dir(const char *dir, struct dl_err *e)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return dl_fail(e, errno, "cannot create %s", dir);
	if (lstat(dir, &st) < 0)
		return dl_fail(e, errno, "cannot use %s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid())
		return dl_fail(e, 0, "%s must be a folder owned by you (not a symlink); move it away", dir);
	if ((st.st_mode & 077) && chmod(dir, 0700) < 0)
		return dl_fail(e, errno, "chmod 0700 %s", dir);
	return 0;
}
