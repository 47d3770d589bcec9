/* The long-running dlite daemon: VM supervision, docker.sock proxy, ports,
 * DNS, clock, control socket. One per DLITE_HOME. */
#ifndef DLITE_DAEMON_H
#define DLITE_DAEMON_H

#include <stdbool.h>

#include "config.h"
#include "err.h"
#include "paths.h"

struct dl_daemon_opts {
	bool idle; /* don't start the VM at launch (the CLI's `start` will) */
};

int dl_daemon_run(const struct dl_paths *paths, const struct dl_config *cfg,
		  const struct dl_daemon_opts *opts, struct dl_err *e);

#endif
