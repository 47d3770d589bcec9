/* Internal to the supervisor (supervisor.c, boot.c, adopt.c). */
#ifndef DLITE_DAEMON_SUPER_H
#define DLITE_DAEMON_SUPER_H

#include <stdbool.h>
#include <sys/types.h>

#include "daemon/supervisor.h"
#include "daemon/vfsd.h"
#include "err.h"
#include "osimage.h"
#include "vm/accel.h"
#include "vm/vm.h"

enum dl_vmstate { ST_STOPPED, ST_STARTING, ST_RUNNING, ST_STOPPING };

#define MAX_WAITERS 64

struct waiter {
	dl_super_done_fn fn;
	void *arg;
	const char *note; /* "joined": a start that found a boot under way; "adopted" */
};

struct dl_super {
	struct event_base *base;
	const struct dl_paths *paths;
	struct dl_config *cfg; /* the daemon's; cpus, memory, disk re-read at each start */
	struct dl_chan_cfg *chan;
	struct dl_super_deps dep;
	enum dl_vmstate state;
	bool want_up;
	pid_t vm_pid;
	bool adopted;		/* not our child: watched through pidfd or polling */
	bool adopt_claimed;	/* a start was answered "adopted" */
	int pidfd;		/* -1 when none */
	struct event *pidev;
	struct dl_vfsd vfsd;	/* QEMU + share on Linux: one per boot */
	enum dl_sharefs share_fs; /* of the current boot */
	enum dl_engine engine;
	double t_start, t_ready, t_stop, t_restart;
	int crashes;
	enum dl_accel accel;
	bool probing; /* trying KVM; TCG if the guest doesn't get going */
	enum dl_accel fallback;
	int probe_seconds;
	struct waiter start_w[MAX_WAITERS], stop_w[MAX_WAITERS];
	int nstart, nstop;
	struct event *tick;
	struct dl_chan_req *req; /* the one request in flight: ready, status, poweroff */
	struct dl_chan_req *info_req; /* refreshing guest_status for `dlite status` */
	char guest_status[1024]; /* the agent's last "status" reply (disk, platforms) */
	double t_guest_status;
	char docker_version[64], last_error[512];
	struct dl_manifest manifest;
	int os_lock; /* paths->os_lock held shared from a VM's spawn to its exit; -1 */
	bool lock_wait_logged;
};

double dl_now(void); /* CLOCK_MONOTONIC seconds */

/* supervisor.c: take paths->os_lock shared (held until the VM exits); -2
 * when `dlite update`/`rebuild` holds it, -1 on other errors, with *e. */
int dl_super_os_lock(struct dl_super *s, struct dl_err *e);

/* boot.c: write the token and initrd, build the argv, fork the VM (and
 * virtiofsd); fills s->chan, s->vm_pid, s->accel...  0 or -1 with *e. */
int dl_boot_spawn(struct dl_super *s, struct dl_err *e);
/* boot.c: remember how the accelerator did (RUN/accel memo). */
void dl_boot_accel_remember(struct dl_super *s, enum dl_accel a, bool ok);
/* boot.c: the guest wrote the agent's first console line. */
bool dl_boot_console_reached_agent(const struct dl_super *s);

/* adopt.c: record the running VM in RUN/state.json (0600), or forget it. */
void dl_adopt_record(struct dl_super *s);
void dl_adopt_forget(struct dl_super *s);
/* adopt.c: watch an adopted VM's exit (pidfd; polling without one). */
void dl_adopt_watch(struct dl_super *s);
void dl_adopt_unwatch(struct dl_super *s);
/* adopt.c: the adopted VM is still there (for the polling fallback). */
bool dl_adopt_alive(const struct dl_super *s);

/* supervisor.c: the VM process is gone (status as from waitpid, or -1
 * when unknown: an adopted VM). */
void dl_super_vm_exited(struct dl_super *s, int status);
/* supervisor.c: (re)arm the tick in ms. */
void dl_super_tick_in(struct dl_super *s, int ms);

#endif
