#ifndef DLITE_DAEMON_RUN_H
#define DLITE_DAEMON_RUN_H

#include <stddef.h>

/* Run argv (PATH, then the sbin folders: a user's daemon may lack them),
 * stdin /dev/null, stdout+stderr captured into out (NUL-terminated, cut to
 * outlen).  Returns the exit status, or -1 when it could not run. Blocking. */
int dl_run_capture(const char *const *argv, char *out, size_t outlen);

#endif
