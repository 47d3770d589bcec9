/*
 * Host edits of the shared folder -> file events in the VM.
 *
 * Watches the share (inotify on Linux, recursively, one watch per folder,
 * capped), merges events per path over a short window (src/core/fsev.h)
 * and announces each changed path on the agent's "fsevents" target
 * (proto.h), which makes the guest kernel emit the events (agent/fsev.c).
 * The agent's own operations show on the host too; they are recognised and
 * not announced back (dl_fsecho).  Other platforms: not yet (a log line).
 */
#ifndef DLITE_DAEMON_FSWATCH_H
#define DLITE_DAEMON_FSWATCH_H

#include "daemon/chan.h"

struct event_base;
struct dl_fswatch;

struct dl_fswatch *dl_fswatch_new(struct event_base *base);
/* The VM is ready and its agent lists caps=fsevents: watch root (skipping
 * the folder skip, dlite's own home, when it lies inside) and announce.
 * pin_dirs: announce every folder too (9p: the agent holds them open). */
void dl_fswatch_start(struct dl_fswatch *fw, const struct dl_chan_cfg *chan, const char *root,
		      const char *skip, int pin_dirs);
/* The VM is going away: drop the watches and the connection. */
void dl_fswatch_stop(struct dl_fswatch *fw);
void dl_fswatch_free(struct dl_fswatch *fw);

#endif
