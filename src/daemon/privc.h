/* The daemon's side of bridged mode's privileged helper (privd.c). */
#ifndef DLITE_DAEMON_PRIVC_H
#define DLITE_DAEMON_PRIVC_H

#include "err.h"
#include "host/privreq.h"

/* Send one request to the helper serving this uid and wait (up to 30 s) for
 * its reply.  0 (with *fd the tap's descriptor, O_CLOEXEC, for `up` when fd
 * is given) or -1 with the helper's reason, or how to start the helper. */
int dl_privc_request(const struct dl_priv_req *r, int *fd, struct dl_err *e);

#endif
