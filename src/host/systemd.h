/*
 * Linux autostart: a systemd user unit.  Pure generators.
 */
#ifndef DLITE_HOST_SYSTEMD_H
#define DLITE_HOST_SYSTEMD_H

#include <stddef.h>

#include "err.h"

#define DL_SYSTEMD_UNIT "dlite.service"

/* "$XDG_CONFIG_HOME/systemd/user/dlite.service" when xdg_config_home is a
 * non-empty absolute path, else "<user_home>/.config/systemd/user/...".
 * 0 or -1. */
int dl_systemd_unit_path(char *buf, size_t n, const char *user_home, const char *xdg_config_home,
			 struct dl_err *e);
/*
 * The unit: ExecStart=<dlite_path> daemon, Environment=DLITE_HOME=...,
 * Restart=on-failure, RestartSec=2, WantedBy=default.target.  Paths are
 * quoted and escaped the systemd way when needed (spaces, quotes,
 * backslashes, '%' -> "%%"; the program path gets no $ expansion, so '$'
 * stays).  Absolute paths without control characters required, and a
 * program path without quotes or backslashes (systemd refuses those).
 * Checked with `systemd-analyze verify`.  malloc'd, NULL on error.
 */
char *dl_systemd_unit(const char *dlite_path, const char *dlite_home, struct dl_err *e);
/*
 * systemctl --user VERB dlite.service, VERB one of enable, disable, start,
 * stop, restart, is-active; "daemon-reload" takes no unit.  NULL for any
 * other verb.
 */
char **dl_systemctl_user(const char *verb);

/*
 * Bridged mode's privileged helper: a system unit, root's
 * (/etc/systemd/system/dlite-helper-UID.service, before dl_syspath), that
 * runs `<dlite_path> helper --uid UID` with Restart=always, no access to home
 * folders (ProtectHome) and only CAP_NET_ADMIN and CAP_CHOWN.
 */
int dl_systemd_helper_unit_path(char *buf, size_t n, unsigned uid);
char *dl_systemd_helper_unit(const char *dlite_path, unsigned uid, struct dl_err *e);
/* systemctl daemon-reload | systemctl enable|disable --now dlite-helper-UID.service */
char **dl_systemctl_helper(const char *verb, unsigned uid);

#endif
