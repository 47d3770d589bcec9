/*
 * The one way dlite edits a user or system file, and the one place in
 * src/host that does I/O.
 */
#ifndef DLITE_HOST_ATOMIC_H
#define DLITE_HOST_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/*
 * Replace the file at path with data, atomically: a temp file in the same
 * directory (O_CREAT|O_EXCL|O_CLOEXEC, random suffix), write all, fsync,
 * give it the existing file's owner, mode and extended attributes (ACLs,
 * SELinux label; mode_if_new when the file does not exist yet), rename over
 * the original, fsync the directory.  An attribute that cannot be kept
 * refuses the write with a message.  A symlink
 * at path is followed: its target is replaced, the link stays.
 * An existing file the caller may not write (mode, immutable flag) is refused
 * like a plain write would be.  On any failure the temp file is removed, the
 * original is untouched, and *e says what to do.  Returns 0 or -1.
 */
int dl_atomic_write(const char *path, const void *data, size_t len, mode_t mode_if_new,
		    struct dl_err *e);

/*
 * Lock path for a read-modify-write (flock, exclusive): the file itself (its
 * symlink target), or its folder while it does not exist; checked after
 * locking to still be what path names, since every edit renames a new file
 * in.  Waits up to 10 s for another dlite.  Returns the fd to pass to
 * dl_file_unlock() after the write, or -1.
 */
int dl_file_lock(const char *path, struct dl_err *e);
void dl_file_unlock(int fd);

/*
 * Read a whole file (at most max bytes, else EFBIG) into a malloc'd buffer
 * with a NUL after the last byte.  A missing file fails with e->errnum ==
 * ENOENT, so callers that treat "missing" as "empty" can tell.  0 or -1.
 */
int dl_read_file(const char *path, char **out, size_t *len, size_t max, struct dl_err *e);

/* $DLITE_SYSROOT without trailing slashes, or "" when unset. */
const char *dl_sysroot(void);
/*
 * buf = sysroot + abs (abs must be absolute), e.g. "/etc/hosts" ->
 * "$DLITE_SYSROOT/etc/hosts".  ENAMETOOLONG when it does not fit.  0 or -1.
 */
int dl_syspath(char *buf, size_t n, const char *abs, struct dl_err *e);

#endif
