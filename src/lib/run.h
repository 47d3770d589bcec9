/* Running host commands (ip, resolvectl, nfsd, virtiofsd --version, ...)
 * and setting up forked children. */
#ifndef DLITE_LIB_RUN_H
#define DLITE_LIB_RUN_H

#include <stddef.h>

/* Run argv (PATH, then the sbin folders: a user's daemon may lack them),
 * stdin /dev/null, stdout+stderr captured into out (NUL-terminated, cut to
 * outlen, newlines turned into spaces).  Returns the exit status, -1 when it
 * could not run, or 124 (as timeout(1)) when it did not finish within
 * timeout_ms (> 0): it is then killed (SIGKILL) and out says so.  Blocks the
 * caller for at most timeout_ms. */
int dl_run_capture(const char *const *argv, char *out, size_t outlen, int timeout_ms);
/* The same with flags: DL_RUN_LINES captures stdout alone (stderr to
 * /dev/null) and keeps it as it is, lines and all (listings to parse). */
#define DL_RUN_LINES 1u
int dl_run_output(const char *const *argv, char *out, size_t outlen, int timeout_ms, unsigned flags);
/* What the daemon gives ip, resolvectl and the like: a D-Bus call can hang
 * for 25 s. */
#define DL_RUN_TIMEOUT_MS 3000

/* In a freshly forked child, before exec: no blocked signals, stdin
 * /dev/null, stdout and stderr to out_fd unless it is -1; with
 * die_with_parent (Linux) SIGTERM when the parent dies.  The VM and
 * virtiofsd are started without it: they outlive a daemon crash and the
 * next daemon adopts them (supervisor.c). */
void dl_child_setup(int out_fd, int die_with_parent);

#endif
