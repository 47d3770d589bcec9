/*
 * virtiofsd for a QEMU boot with a share (Linux).  One per boot: virtiofsd
 * serves a single vhost-user connection and exits when QEMU goes away.  It
 * runs as the daemon's user, listens on RUN/virtiofsd.sock and writes its
 * stderr to RUN/virtiofsd.log.  Which binary and which options:
 * src/vm/virtiofsd.h.
 */
#ifndef DLITE_DAEMON_VFSD_H
#define DLITE_DAEMON_VFSD_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"
#include "paths.h"

struct dl_vfsd {
	pid_t pid;		/* 0: not running */
	char sock[108];		/* sun_path-sized */
	char desc[256];		/* "PATH VERSION", for the log and status */
};

/* Find virtiofsd ($DLITE_VIRTIOFSD, else the config's `virtiofsd` (conf:
 * "" looks, "none" = 9p, or a path), else PATH, /usr/libexec,
 * /usr/lib/qemu), start it for share and wait (at most a few seconds) until it waits for
 * QEMU.  0, or -1 with *e saying why, with nothing left running. */
int dl_vfsd_start(struct dl_vfsd *v, const struct dl_paths *p, const char *conf,
		  const char *share, struct dl_err *e);
/* SIGTERM, then SIGKILL after 2 s; reaps it.  Nothing when not running. */
void dl_vfsd_stop(struct dl_vfsd *v);
/* For the SIGCHLD reaper: true when pid was virtiofsd (now forgotten). */
bool dl_vfsd_reaped(struct dl_vfsd *v, pid_t pid);

#endif
