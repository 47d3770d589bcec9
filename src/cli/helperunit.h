/* Bridged mode's privileged helper as a system service (root only). */
#ifndef DLITE_CLI_HELPERUNIT_H
#define DLITE_CLI_HELPERUNIT_H

#include <stdbool.h>

#include "err.h"

/* What `install --force` found at /var/run/docker.sock is moved to
 * /var/run/docker.sock.before-dlite (root's folder); uninstall moves it back. */
#define DL_DOCKER_SOCK_ASIDE ".before-dlite"

/* The program the service manager will run as root must be root's and
 * writable by root only (and, on Linux, outside home folders, which the
 * unit hides from it).  0 or -1 with what to do. */
int cli_helper_check_exe(struct dl_err *e);
/* Write and start (install) or stop and remove the helper's unit for uid.
 * Under DLITE_SYSROOT only the file is written or removed. */
int cli_helper_unit(bool install, unsigned uid, struct dl_err *e);

#endif
