/* Bridged mode's privileged helper as a system service: a systemd system
 * unit or a launchd daemon, written by `sudo dlite install --network
 * bridged` and removed by `sudo dlite uninstall`. */
#include "helperunit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "host/atomic.h"
#include "host/cmd.h"
#include "host/launchd.h"
#include "host/systemd.h"
#include "sysfiles.h"

static int exe_path(char *out, size_t n, struct dl_err *e)
{
	char dir[1024];
	if (cli_exe_dir(dir, sizeof(dir), e) < 0)
		return -1;
	snprintf(out, n, "%s/dlite", dir);
	return 0;
}

static bool roots_only(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && st.st_uid == 0 && !(st.st_mode & 022);
}

int cli_helper_check_exe(struct dl_err *e)
{
	char exe[1100], dir[1100];

	if (exe_path(exe, sizeof(exe), e) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s", exe);
	*strrchr(dir, '/') = '\0';
	if (!roots_only(exe) || !roots_only(dir[0] ? dir : "/"))
		return dl_fail(e, 0, "bridged mode runs %s as root (its helper), so it and its folder "
			       "must be root's and writable by root only; install dlite with `sudo make "
			       "install` and run that copy", exe);
#ifdef __linux__
	if (!strncmp(exe, "/home/", 6) || !strncmp(exe, "/root/", 6))
		return dl_fail(e, 0, "bridged mode's helper cannot run %s: the helper's unit hides home "
			       "folders (ProtectHome); install dlite with `sudo make install` and run "
			       "that copy", exe);
#endif
	return 0;
}


int cli_helper_unit(bool install, unsigned uid, struct dl_err *e)
{
	char rel[256], path[4096], exe[1100];
	char *text;
	bool live = getenv("DLITE_SYSROOT") == NULL;

#ifdef __APPLE__
	dl_launchd_helper_plist_path(rel, sizeof(rel), uid);
#else
	dl_systemd_helper_unit_path(rel, sizeof(rel), uid);
#endif
	if (dl_syspath(path, sizeof(path), rel, e) < 0)
		return -1;
	if (!install) {
		if (access(path, F_OK) < 0)
			return 0;
		if (live) {
#ifdef __APPLE__
			cli_run_cmd(dl_launchctl_helper("bootout", uid, NULL));
#else
			cli_run_cmd(dl_systemctl_helper("disable", uid));
#endif
		}
		if (unlink(path) < 0)
			return dl_fail(e, errno, "cannot remove %s", path);
#ifndef __APPLE__
		if (live)
			cli_run_cmd(dl_systemctl_helper("daemon-reload", uid));
#endif
		return 0;
	}
	if (exe_path(exe, sizeof(exe), e) < 0)
		return -1;
#ifdef __APPLE__
	text = dl_launchd_helper_plist(exe, uid, e);
#else
	text = dl_systemd_helper_unit(exe, uid, e);
#endif
	if (!text)
		return -1;
	if (cli_write_unit(path, text, e) < 0)
		return -1;
	if (live) {
#ifdef __APPLE__
		cli_run_cmd(dl_launchctl_helper("bootstrap", uid, path));
#else
		cli_run_cmd(dl_systemctl_helper("daemon-reload", uid));
		cli_run_cmd(dl_systemctl_helper("enable", uid));
#endif
	}
	return 0;
}
