/* Small private files in the daemon's own RUN folder (token, state):
 * never through a symlink, always 0600 and owned by this user. */
#ifndef DLITE_LIB_PRIVATE_H
#define DLITE_LIB_PRIVATE_H

#include <stddef.h>

#include "err.h"

/* Write data to path: a new 0600 temp file beside it (O_EXCL|O_NOFOLLOW),
 * fsync, rename over path (a symlink there is replaced, not followed).
 * 0 or -1 with *e. */
int dl_write_private(const char *path, const void *data, size_t len, struct dl_err *e);

/* Read path (at most max bytes, NUL-terminated, malloc'd into *out) only
 * when it is a regular file, not a symlink, owned by this user and not
 * readable by others.  0 or -1 with *e. */
int dl_read_private(const char *path, char **out, size_t *len, size_t max, struct dl_err *e);

/* dir exists (made 0700 when missing), is a directory (not a symlink)
 * owned by this user.  0 or -1 with *e. */
int dl_private_dir(const char *dir, struct dl_err *e);

#endif
