#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autostart.h"
#include "host/atomic.h"
#include "host/cmd.h"
#include "host/launchd.h"
#include "host/systemd.h"
#include "sysfiles.h"


int cli_autostart(struct dl_ctx *ctx, bool install, struct dl_err *e)
{
	char unit[2048], path[4096], exe[1024], self[1100];
	char *text = NULL;

	if (cli_exe_dir(exe, sizeof(exe), e) < 0)
		return -1;
	snprintf(self, sizeof(self), "%s/dlite", exe);
#ifdef __APPLE__
	if (dl_launchd_plist_path(unit, sizeof(unit), ctx->paths.user_home, e) < 0)
		return -1;
#else
	if (dl_systemd_unit_path(unit, sizeof(unit), ctx->paths.user_home, getenv("XDG_CONFIG_HOME"),
				 e) < 0)
		return -1;
#endif
	/* a unit path is in the user's home, but tests point DLITE_SYSROOT at a
	 * scratch tree so nothing real is touched */
	if (dl_syspath(path, sizeof(path), unit, e) < 0)
		return -1;
	bool live = getenv("DLITE_SYSROOT") == NULL;
	if (!install) {
#ifdef __APPLE__
		if (live)
			cli_run_cmd(dl_launchctl_bootout(getuid()));
#else
		if (live) {
			cli_run_cmd(dl_systemctl_user("disable"));
			cli_run_cmd(dl_systemctl_user("daemon-reload"));
		}
#endif
		if (unlink(path) < 0 && errno != ENOENT)
			return dl_fail(e, errno, "cannot remove %s", path);
		return 0;
	}
#ifdef __APPLE__
	text = dl_launchd_plist(self, ctx->paths.home, e);
#else
	text = dl_systemd_unit(self, ctx->paths.home, e);
#endif
	if (!text)
		return -1;
	if (cli_write_unit(path, text, e) < 0)
		return -1;
	if (live) {
#ifdef __APPLE__
		cli_run_cmd(dl_launchctl_bootstrap(getuid(), path));
#else
		cli_run_cmd(dl_systemctl_user("daemon-reload"));
		cli_run_cmd(dl_systemctl_user("enable"));
#endif
	}
	return 0;
}
