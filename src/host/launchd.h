/*
 * macOS autostart: a per-user launchd agent, loaded with `launchctl
 * bootstrap gui/<uid>` (works inside tmux, unlike `launchctl load`).
 * Pure generators.
 */
#ifndef DLITE_HOST_LAUNCHD_H
#define DLITE_HOST_LAUNCHD_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define DL_LAUNCHD_LABEL "local.dlite"

/* "<user_home>/Library/LaunchAgents/local.dlite.plist".  0 or -1. */
int dl_launchd_plist_path(char *buf, size_t n, const char *user_home, struct dl_err *e);
/*
 * The plist: Label local.dlite, ProgramArguments [dlite_path, "daemon"],
 * EnvironmentVariables {DLITE_HOME}, RunAtLoad, KeepAlive {SuccessfulExit
 * false} (restart after a crash, not after a clean exit), StandardOutPath and
 * StandardErrorPath = DLITE_HOME/daemon.log.  Strings XML-escaped; absolute
 * paths without control characters required.  malloc'd, NULL on error.
 */
char *dl_launchd_plist(const char *dlite_path, const char *dlite_home, struct dl_err *e);

/* launchctl bootstrap gui/UID PLIST */
char **dl_launchctl_bootstrap(uid_t uid, const char *plist_path);
/* launchctl bootout gui/UID/local.dlite */
char **dl_launchctl_bootout(uid_t uid);
/* launchctl kickstart -k gui/UID/local.dlite (restart now) */
char **dl_launchctl_kickstart(uid_t uid);
/* launchctl print gui/UID/local.dlite (exit 0 when loaded) */
char **dl_launchctl_print(uid_t uid);

/* Bridged mode's privileged helper: a system daemon, root's
 * (/Library/LaunchDaemons/local.dlite.helper.UID.plist) running
 * `<dlite_path> helper --uid UID`, KeepAlive. */
int dl_launchd_helper_plist_path(char *buf, size_t n, unsigned uid);
char *dl_launchd_helper_plist(const char *dlite_path, unsigned uid, struct dl_err *e);
/* launchctl bootstrap system PLIST | launchctl bootout system/local.dlite.helper.UID */
char **dl_launchctl_helper(const char *verb, unsigned uid, const char *plist_path);

#endif
