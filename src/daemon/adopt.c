/*
 * Adoption: a daemon crash does not touch the VM.  QEMU runs in its own
 * session without a death signal (boot.c); the daemon records what it
 * needs to take the VM over in RUN/state.json (0600, never through a
 * symlink): the pid, the channel address, the share's transport, the
 * accelerator, virtiofsd's pid.  The token stays in RUN/token (0600).  The
 * next daemon checks that the pid is still that VM (RUN/vm.pid and, on
 * Linux, the -pidfile argument in /proc/PID/cmdline), reads the token
 * back and starts in "starting": the agent's "ready" brings it to
 * "running" as after a boot, and containers never notice.  The VM is not
 * its child, so its exit comes through a pidfd (Linux >= 5.3) or, without
 * one, a 1 s poll.  A VM it cannot adopt (bridged network, hyperkit,
 * vfkit) is terminated, so that two VMs never share the disk.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/log.h"
#include "daemon/proxy.h"
#include "daemon/super.h"
#include "lib/private.h"
#include "vm/virtiofsd.h"

void dl_adopt_record(struct dl_super *s)
{
	char chan[160];
	struct dl_err e = { 0 };
	bool adoptable = s->engine == DL_ENGINE_QEMU && strcmp(s->cfg->network, "bridged") != 0;
	json_t *j = json_pack("{s:i,s:b,s:s,s:s,s:s,s:i,s:b}", "pid", (int)s->vm_pid, "adoptable",
			      adoptable, "channel", dl_chan_cfg_str(s->chan, chan, sizeof(chan)),
			      "accel", dl_accel_name(s->accel), "share_fs",
			      dl_sharefs_name(s->share_fs), "vfsd_pid", (int)s->vfsd.pid, "ready",
			      s->state == ST_RUNNING);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!text || dl_write_private(s->paths->state, text, strlen(text), &e) < 0)
		dl_log(DL_LOG_WARN, "vm: %s: a daemon restart will not find this VM",
		       text ? e.msg : "out of memory");
	free(text);
}

void dl_adopt_forget(struct dl_super *s)
{
	unlink(s->paths->state);
}

/* ---- watching a VM that is not our child ---- */

static void on_pidfd(evutil_socket_t fd, short what, void *arg)
{
	struct dl_super *s = arg;

	dl_log(DL_LOG_INFO, "vm: the adopted VM (pid %d) exited", (int)s->vm_pid);
	dl_super_vm_exited(s, -1);
}

void dl_adopt_watch(struct dl_super *s)
{
#if defined(__linux__) && defined(SYS_pidfd_open)
	s->pidfd = (int)syscall(SYS_pidfd_open, s->vm_pid, 0);
	if (s->pidfd >= 0) {
		s->pidev = event_new(s->base, s->pidfd, EV_READ, on_pidfd, s);
		event_add(s->pidev, NULL);
		return;
	}
#endif
	s->pidfd = -1; /* the tick polls */
}

void dl_adopt_unwatch(struct dl_super *s)
{
	if (s->pidev) {
		event_free(s->pidev);
		s->pidev = NULL;
	}
	if (s->pidfd >= 0) {
		close(s->pidfd);
		s->pidfd = -1;
	}
}

bool dl_adopt_alive(const struct dl_super *s)
{
	return s->vm_pid > 0 && (kill(s->vm_pid, 0) == 0 || errno == EPERM);
}

/* ---- finding the VM ---- */

/* pid is the VM this DLITE_HOME ran: RUN/vm.pid says so and, on Linux, its
 * command line names that pidfile. */
static bool is_our_vm(const struct dl_super *s, pid_t pid)
{
	char path[4200];
	bool ok = false;
	long v = 0;

	if (pid <= 1 || kill(pid, 0) < 0)
		return false;
	snprintf(path, sizeof(path), "%s/%s", s->paths->run, DL_VM_PIDFILE);
	FILE *pf = fopen(path, "re"); /* QEMU writes it, 0644 */
	if (pf && fscanf(pf, "%ld", &v) == 1)
		ok = v == (long)pid;
	if (pf)
		fclose(pf);
	if (!ok)
		return false;
#ifdef __linux__
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "/proc/%d/cmdline", (int)pid);
	FILE *f = fopen(cmd, "re");
	size_t n = f ? fread(cmd, 1, sizeof(cmd) - 1, f) : 0;
	if (f)
		fclose(f);
	cmd[n] = '\0';
	ok = false;
	for (size_t i = 0; i + 1 < n; i += strlen(cmd + i) + 1)
		if (strcmp(cmd + i, "-pidfile") == 0 && strcmp(cmd + i + strlen(cmd + i) + 1, path) == 0)
			ok = true;
#endif
	return ok;
}

/* Terminate a VM we will not adopt, waiting (at most ~5 s, before the loop
 * serves anything) until it is gone. */
static void terminate(pid_t pid)
{
	kill(pid, SIGTERM);
	for (int i = 0; i < 50 && kill(pid, 0) == 0; i++) {
		struct timespec ts = { 0, 100000000 };
		nanosleep(&ts, NULL);
		if (i == 30)
			kill(pid, SIGKILL);
	}
}

bool dl_super_adopt(struct dl_super *s)
{
	char *text = NULL, *tok = NULL;
	size_t len = 0;
	struct dl_err e = { 0 };
	json_t *j;
	bool done = false;

	if (dl_read_private(s->paths->state, &text, &len, 4096, NULL) < 0)
		return false;
	j = json_loads(text, 0, NULL);
	free(text);
	pid_t pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	pid_t vfsd = (pid_t)json_integer_value(json_object_get(j, "vfsd_pid"));
	const char *chan = json_string_value(json_object_get(j, "channel"));
	const char *accel = json_string_value(json_object_get(j, "accel"));
	const char *sharefs = json_string_value(json_object_get(j, "share_fs"));
	bool adoptable = json_is_true(json_object_get(j, "adoptable"));

	if (!j || !is_our_vm(s, pid)) {
		dl_adopt_forget(s);
		goto out;
	}
	if (!adoptable || !chan || dl_chan_cfg_parse(s->chan, chan, &e) < 0 ||
	    dl_read_private(s->paths->token, &tok, &len, 256, &e) < 0 ||
	    dl_token_parse((const uint8_t *)tok, len, s->chan->token) < 0) {
		dl_log(DL_LOG_WARN, "vm: terminating the VM a previous daemon left (pid %d): %s",
		       (int)pid, !adoptable ? "this network or engine cannot be adopted"
				: e.msg[0] ? e.msg : "its token is malformed");
		terminate(pid);
		dl_adopt_forget(s);
		goto out;
	}
	s->vm_pid = pid;
	s->adopted = true;
	if (dl_super_os_lock(s, &e) < 0) /* running already: keep it, say so */
		dl_log(DL_LOG_WARN, "vm: adopted VM runs without the OS lock: %s", e.msg);
	s->engine = DL_ENGINE_QEMU;
	s->vfsd.pid = vfsd > 0 && kill(vfsd, 0) == 0 ? vfsd : 0;
	if (!accel || dl_accel_parse(accel, &s->accel) < 0)
		s->accel = DL_ACCEL_TCG;
	s->share_fs = DL_SHARE_NONE;
	if (sharefs && strcmp(sharefs, "virtiofs") == 0)
		s->share_fs = DL_SHARE_VIRTIOFS;
	else if (sharefs && strcmp(sharefs, "9p") == 0)
		s->share_fs = DL_SHARE_9P;
	s->probing = false;
	s->chan->addr_targets = 0;
	dl_manifest_read(s->paths->os_dir, &s->manifest, NULL);
	s->want_up = true;
	s->crashes = 0;
	s->state = ST_STARTING;
	s->t_start = dl_now();
	dl_proxy_chan_changed(s->dep.proxy);
	dl_adopt_watch(s);
	dl_log(DL_LOG_INFO, "vm: adopting the running VM (pid %d, channel %s%s)", (int)pid, chan,
	       s->pidfd >= 0 ? "" : ", polled");
	dl_super_tick_in(s, 0);
	done = true;
out:
	if (tok) {
		memset(tok, 0, len);
		free(tok);
	}
	json_decref(j);
	return done;
}
