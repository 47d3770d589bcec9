/* Where dlite keeps its files: $DLITE_HOME (default ~/.dlite). */
#ifndef DLITE_PATHS_H
#define DLITE_PATHS_H

#include "err.h"

#define DL_PATH_MAX 1024

struct dl_paths {
	char user_home[DL_PATH_MAX];
	char home[DL_PATH_MAX];	     /* $DLITE_HOME */
	char config[DL_PATH_MAX];    /* config.json */
	char disk[DL_PATH_MAX];	     /* disk.img (sparse) */
	char os_dir[DL_PATH_MAX];    /* os/current */
	char os_prev[DL_PATH_MAX];   /* os/previous */
	char os_root[DL_PATH_MAX];   /* os */
	char run[DL_PATH_MAX];	     /* run/ (per-boot files, 0700) */
	char control[DL_PATH_MAX];   /* control.sock */
	char daemon_log[DL_PATH_MAX];
	char console_log[DL_PATH_MAX];
	char token[DL_PATH_MAX];     /* run/token (0600) */
	char initrd[DL_PATH_MAX];    /* run/initrd = os initrd + token segment (0600) */
	char qmp[DL_PATH_MAX];	     /* run/qmp.sock */
	char accel[DL_PATH_MAX];     /* accel probe result */
	char state[DL_PATH_MAX];     /* run/state.json: what the daemon last wrote */
	char os_lock[DL_PATH_MAX];   /* os.lock: flock'd by update/rebuild (exclusive) and
				      * by the daemon while a VM runs or respawns (shared) */
};

int dl_paths_init(struct dl_paths *p, struct dl_err *e);
/* Join with length check. */
int dl_path_join(char *out, size_t n, const char *a, const char *b, struct dl_err *e);

#endif
