#ifndef DLITE_DAEMON_RUN_H
#define DLITE_DAEMON_RUN_H

#include <stddef.h>

/* Run argv (PATH, then the sbin folders: a user's daemon may lack them),
 * stdin /dev/null, stdout+stderr captured into out (NUL-terminated, cut to
 * outlen).  Returns the exit status, or -1 when it could not run. Blocking. */
int dl_run_capture(const char *const *argv, char *out, size_t outlen);

/* In a freshly forked child, before exec: no blocked signals, stdin
 * /dev/null, stdout and stderr to out_fd unless it is -1; with
 * die_with_parent (Linux) SIGTERM when the daemon dies. */
void dl_child_setup(int out_fd, int die_with_parent);

#endif
