/*
 * macOS /etc/exports, as the original dlite used it for the hyperkit NFS
 * share: one entry between "# dlite begin" and "# dlite end" lines.
 * Pure: text in, new malloc'd text out (NUL-terminated, *outlen bytes).
 * A missing file is empty text (text NULL, len 0).
 */
#ifndef DLITE_HOST_EXPORTS_H
#define DLITE_HOST_EXPORTS_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define DL_EXPORTS_BEGIN "# dlite begin"
#define DL_EXPORTS_END "# dlite end"

/*
 * Put (or replace, in place) the dlite block holding
 *   "SHARE" -network NET -mask MASK -alldirs -mapall=UID:GID
 * First checks for conflicts (dl_exports_check); fails, quoting the line,
 * if there is one.  Appending to a file without a final newline adds
 * "\n" + block without a final newline, so dl_exports_remove() restores the
 * file exactly.  NULL on error (*e filled).
 */
char *dl_exports_set(const char *text, size_t len, const char *share, const char *client_net,
		     const char *mask, uid_t uid, gid_t gid, size_t *outlen, struct dl_err *e);
/* Remove every dlite block (and nothing else).  NULL on error. */
char *dl_exports_remove(const char *text, size_t len, size_t *outlen, struct dl_err *e);
/*
 * 0 if no export outside dlite's block names share, a parent or a child of it
 * (component-wise: /Users/me vs /Users/mel is no conflict; trailing and
 * doubled slashes ignored; compared case-insensitively, as macOS file systems
 * are by default).  Understands comments, "quoted paths", backslash-escaped
 * spaces, backslash continuation lines, several paths on one line and options.
 * Otherwise -1 with a message quoting the conflicting line.
 */
int dl_exports_check(const char *text, size_t len, const char *share, struct dl_err *e);

/* /sbin/nfsd checkexports | update (re-read /etc/exports) | restart. */
char **dl_nfsd_argv_checkexports(void);
char **dl_nfsd_argv_update(void);
char **dl_nfsd_argv_restart(void);

#endif
