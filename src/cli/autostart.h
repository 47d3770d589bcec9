#ifndef DLITE_CLI_AUTOSTART_H
#define DLITE_CLI_AUTOSTART_H

#include <stdbool.h>

#include "cli.h"

/* Write and enable (install) or disable and remove (!install) the login
 * unit: a systemd user unit on Linux, a launchd agent on macOS. */
int cli_autostart(struct dl_ctx *ctx, bool install, struct dl_err *e);

#endif
