#include "paths.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int dl_path_join(char *out, size_t n, const char *a, const char *b, struct dl_err *e)
{
	int r = snprintf(out, n, "%s/%s", a, b);

	if (r < 0 || (size_t)r >= n)
		return dl_fail(e, 0, "path %s/%s is too long; set DLITE_HOME to a shorter folder", a,
			       b);
	return 0;
}

int dl_paths_init(struct dl_paths *p, struct dl_err *e)
{
	const char *home = getenv("HOME"), *dh = getenv("DLITE_HOME");

	memset(p, 0, sizeof(*p));
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || home[0] != '/')
		return dl_fail(e, 0, "cannot tell your home folder; set HOME");
	if (strlen(home) >= sizeof(p->user_home))
		return dl_fail(e, 0, "HOME is too long");
	strcpy(p->user_home, home);
	if (dh && *dh) {
		if (dh[0] != '/')
			return dl_fail(e, 0, "DLITE_HOME=%s must be an absolute path", dh);
		if (strlen(dh) >= sizeof(p->home) - 64)
			return dl_fail(e, 0, "DLITE_HOME is too long; choose a shorter folder");
		strcpy(p->home, dh);
	} else if (dl_path_join(p->home, sizeof(p->home) - 64, home, ".dlite", e) < 0) {
		return -1;
	}
	/* p->home is at most DL_PATH_MAX - 64 long: the joins below cannot fail */
	dl_path_join(p->config, sizeof(p->config), p->home, "config.json", NULL);
	dl_path_join(p->disk, sizeof(p->disk), p->home, "disk.img", NULL);
	dl_path_join(p->os_root, sizeof(p->os_root), p->home, "os", NULL);
	dl_path_join(p->os_dir, sizeof(p->os_dir), p->home, "os/current", NULL);
	dl_path_join(p->os_prev, sizeof(p->os_prev), p->home, "os/previous", NULL);
	dl_path_join(p->run, sizeof(p->run), p->home, "run", NULL);
	dl_path_join(p->control, sizeof(p->control), p->home, "control.sock", NULL);
	dl_path_join(p->daemon_log, sizeof(p->daemon_log), p->home, "daemon.log", NULL);
	dl_path_join(p->console_log, sizeof(p->console_log), p->home, "run/console.log", NULL);
	dl_path_join(p->token, sizeof(p->token), p->home, "run/token", NULL);
	dl_path_join(p->initrd, sizeof(p->initrd), p->home, "run/initrd", NULL);
	dl_path_join(p->qmp, sizeof(p->qmp), p->home, "run/qmp.sock", NULL);
	dl_path_join(p->accel, sizeof(p->accel), p->home, "accel.json", NULL);
	dl_path_join(p->state, sizeof(p->state), p->home, "run/state.json", NULL);
	dl_path_join(p->os_lock, sizeof(p->os_lock), p->home, "os.lock", NULL);
	if (strlen(p->control) >= 104)
		return dl_fail(e, 0, "DLITE_HOME %s is too long for a unix socket path; choose a "
				     "shorter one", p->home);
	return 0;
}
