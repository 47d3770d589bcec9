#ifndef DLITE_CLI_SYSFILES_H
#define DLITE_CLI_SYSFILES_H

#include <stdbool.h>

#include "err.h"

/* Run a program and wait; returns its exit status, 127 if it could not run. */
int cli_run(char *const argv[], bool quiet);
/* Run and free a command built by src/host (NULL: nothing); a missing
 * program is not an error. */
void cli_run_cmd(char **argv);
/* Write an autostart unit or plist (0644) at path, creating its folders;
 * frees text.  0, or -1 with *e. */
int cli_write_unit(const char *path, char *text, struct dl_err *e);
/* Set (addr != NULL) or remove the dlite line of $DLITE_SYSROOT/etc/hosts. */
int cli_hosts_edit(const char *addr, const char *hostname, struct dl_err *e);
/* Create/update or remove the docker context "dlite". */
int cli_docker_context(const char *socket, bool remove);

#endif
