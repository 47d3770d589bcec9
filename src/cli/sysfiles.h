#ifndef DLITE_CLI_SYSFILES_H
#define DLITE_CLI_SYSFILES_H

#include <stdbool.h>

#include "err.h"

/* Run a program and wait; returns its exit status, 127 if it could not run. */
int cli_run(char *const argv[], bool quiet);
/* Set (addr != NULL) or remove the dlite line of $DLITE_SYSROOT/etc/hosts. */
int cli_hosts_edit(const char *addr, const char *hostname, struct dl_err *e);
/* Create/update or remove the docker context "dlite". */
int cli_docker_context(const char *socket, bool remove);

#endif
