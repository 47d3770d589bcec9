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

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int r = mkdir(path, 0755);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

/* Run a command built by src/host; a missing program is not an error. */
static void run_cmd(char **argv)
{
	if (argv)
		cli_run(argv, true);
	dl_cmd_free(argv);
}

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
			run_cmd(dl_launchctl_bootout(getuid()));
#else
		if (live) {
			run_cmd(dl_systemctl_user("disable"));
			run_cmd(dl_systemctl_user("daemon-reload"));
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
	if (mkdirs(path) < 0) {
		free(text);
		return dl_fail(e, errno, "cannot create the folder of %s", path);
	}
	int r = dl_atomic_write(path, text, strlen(text), 0644, e);
	free(text);
	if (r < 0)
		return -1;
	if (live) {
#ifdef __APPLE__
		run_cmd(dl_launchctl_bootstrap(getuid(), path));
#else
		run_cmd(dl_systemctl_user("daemon-reload"));
		run_cmd(dl_systemctl_user("enable"));
#endif
	}
	return 0;
}
