/*
 * The control server: RUN's control.sock (0600, and peer credentials
 * checked where the system gives them) for the CLI, one JSON line per
 * request line: start, stop, status, ping, quit.  Replies come from the
 * supervisor's state; start and stop reply when done.
 */
#ifndef DLITE_DAEMON_CONTROL_H
#define DLITE_DAEMON_CONTROL_H

#include "err.h"

struct event_base;
struct dl_super;
struct dl_ctl;

/* quit(arg): leave the loop (the VM is stopped by then). */
struct dl_ctl *dl_ctl_new(struct event_base *base, const char *path, struct dl_super *s,
			  void (*quit)(void *arg), void *arg, struct dl_err *e);
void dl_ctl_free(struct dl_ctl *c);

#endif
