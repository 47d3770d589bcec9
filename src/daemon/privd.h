/* Bridged mode's privileged helper (`dlite helper --uid UID`); see privd.c. */
#ifndef DLITE_DAEMON_PRIVD_H
#define DLITE_DAEMON_PRIVD_H

#include "err.h"

/* Serve uid's daemon on DL_PRIV_SOCK_FMT (under DLITE_SYSROOT) until killed.
 * Returns -1 only when it cannot start (not root, socket). */
int dl_privd_run(unsigned uid, struct dl_err *e);

#endif
