/*
 * The VM supervisor's state machine (see supervisor.h):
 *
 *   stopped --start--> starting --"ready" answered--> running
 *      ^                  |  (then "status": caps, docker version)
 *      |                  v
 *      +--VM exits--- stopping <--stop-- running
 *
 * A VM that exits on its own is restarted with back-off (1, 2, 4 ... 30 s;
 * three exits while booting give up).  The tick runs only while something
 * is pending (probing readiness every 250 ms, a stop's deadline, a restart,
 * polling an adopted VM without a pidfd); a running VM costs no wake-ups
 * here.  Requests to the agent are asynchronous with deadlines, one at a
 * time (s->req).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/bridge.h"
#include "daemon/clock.h"
#include "daemon/engine.h"
#include "daemon/fswatch.h"
#include "daemon/log.h"
#include "daemon/proxy.h"
#include "guestinfo.h"
#include "daemon/super.h"
#include "daemon/watch.h"
#include "host/atomic.h"
#include "vm/accel.h"
#include "vm/virtiofsd.h"

static const char *const state_names[] = { "stopped", "starting", "running", "stopping" };

#define START_TIMEOUT_S 600.0
#define STOP_TIMEOUT_S 45.0
#define PROBE_MS 250        /* readiness probes while starting */
#define READY_REQ_MS 1000   /* deadline of one "ready" request */
#define STATUS_REQ_MS 2000  /* the capabilities after "ready" */
#define POWEROFF_REQ_MS 3000
#define ADOPT_POLL_MS 1000  /* an adopted VM without a pidfd */

double dl_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- waiters ---- */

static void add_waiter(struct waiter *w, int *n, dl_super_done_fn fn, void *arg, const char *note)
{
	if (!fn)
		return;
	if (*n >= MAX_WAITERS) {
		fn(arg, false, "too many waiting clients", 0);
		return;
	}
	w[(*n)++] = (struct waiter){ fn, arg, note };
}

static void flush_waiters(struct waiter *w, int *n, bool ok, const char *msg, double seconds)
{
	int k = *n;
	struct waiter copy[MAX_WAITERS];

	memcpy(copy, w, sizeof(*w) * (size_t)k);
	*n = 0; /* a callback may add a waiter again */
	for (int i = 0; i < k; i++)
		copy[i].fn(copy[i].arg, ok, ok && copy[i].note ? copy[i].note : msg, seconds);
}

void dl_super_forget(struct dl_super *s, void *arg)
{
	struct waiter *lists[2] = { s->start_w, s->stop_w };
	int *counts[2] = { &s->nstart, &s->nstop };

	for (int l = 0; l < 2; l++)
		for (int i = 0; i < *counts[l]; i++)
			if (lists[l][i].arg == arg)
				lists[l][i--] = lists[l][--*counts[l]];
}

/* ---- the VM ---- */

static void cancel_req(struct dl_super *s)
{
	dl_chan_req_cancel(s->req);
	s->req = NULL;
	dl_chan_req_cancel(s->info_req);
	s->info_req = NULL;
}

static void keep_guest_status(struct dl_super *s, const char *status)
{
	snprintf(s->guest_status, sizeof(s->guest_status), "%s", status ? status : "");
	s->t_guest_status = dl_now();
}

static void on_info(const char *reply, int err, void *arg)
{
	struct dl_super *s = arg;

	s->info_req = NULL;
	if (!err && s->state == ST_RUNNING)
		keep_guest_status(s, reply);
}

static void vm_kill(struct dl_super *s, int sig)
{
	if (s->vm_pid > 0)
		kill(s->vm_pid, sig);
}

void dl_super_tick_in(struct dl_super *s, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(s->tick, &tv);
}

/* The OS lock, shared: `dlite update`/`rebuild` take it exclusively while
 * they swap the image or the disk, so a VM never starts (nor crash-restarts)
 * from half-swapped files, and they refuse while a VM runs.  -2 when one of
 * them holds it. */
int dl_super_os_lock(struct dl_super *s, struct dl_err *e)
{
	if (s->os_lock >= 0)
		return 0;
	int fd = open(s->paths->os_lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return dl_fail(e, errno, "cannot open the lock %s", s->paths->os_lock);
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		int err = errno;
		close(fd);
		if (err != EWOULDBLOCK)
			return dl_fail(e, err, "cannot lock %s", s->paths->os_lock);
		dl_fail(e, 0, "`dlite update` or `dlite rebuild` is under way; start again when it "
			      "is done");
		return -2;
	}
	s->os_lock = fd;
	return 0;
}

static void os_unlock(struct dl_super *s)
{
	if (s->os_lock >= 0)
		close(s->os_lock);
	s->os_lock = -1;
}

static void spawn(struct dl_super *s)
{
	struct dl_err e = { 0 };

	int lr = dl_super_os_lock(s, &e);
	if (lr == -2 && s->t_restart < 0) {
		/* a crash restart waits for the update/rebuild to finish */
		if (!s->lock_wait_logged)
			dl_log(DL_LOG_INFO, "vm: restart waits: %s", e.msg);
		s->lock_wait_logged = true;
		s->t_restart = dl_now() + 1;
		dl_super_tick_in(s, 1000);
		return;
	}
	s->lock_wait_logged = false;
	if (lr < 0 || dl_boot_spawn(s, &e) < 0) {
		os_unlock(s);
		dl_log(DL_LOG_ERR, "vm: %s", e.msg);
		snprintf(s->last_error, sizeof(s->last_error), "%s", e.msg);
		s->want_up = false;
		flush_waiters(s->start_w, &s->nstart, false, e.msg, 0);
		return;
	}
	dl_super_tick_in(s, PROBE_MS);
}

void dl_super_start(struct dl_super *s, dl_super_done_fn fn, void *arg)
{
	/* the first start after an adoption (the `dlite start` that spawned
	 * this daemon) is answered "adopted", whether the VM answered yet */
	const char *note = s->state == ST_STARTING ? "joined" : NULL;
	if (s->adopted && !s->adopt_claimed) {
		s->adopt_claimed = true;
		note = "adopted";
		if (s->state == ST_RUNNING) {
			if (fn)
				fn(arg, true, note, 0);
			return;
		}
	}
	if (s->state == ST_RUNNING) {
		if (fn)
			fn(arg, false, "dlite is already running", 0);
		return;
	}
	if (s->state == ST_STOPPING) {
		if (fn)
			fn(arg, false, "dlite is stopping; try again when `dlite stop` returns", 0);
		return;
	}
	add_waiter(s->start_w, &s->nstart, fn, arg, note);
	s->want_up = true;
	s->crashes = 0;
	if (s->state == ST_STARTING)
		return;
	spawn(s);
}

static void became_ready(struct dl_super *s, const char *status)
{
	double secs = dl_now() - s->t_start;

	s->state = ST_RUNNING;
	s->t_ready = dl_now();
	s->crashes = 0;
	s->last_error[0] = '\0';
	if (s->probing) {
		dl_boot_accel_remember(s, s->accel, true);
		s->probing = false;
	}
	s->chan->addr_targets = status && dl_caps_has(status, "addr");
	keep_guest_status(s, status);
	const char *v = status ? strstr(status, "docker_version=") : NULL;
	if (v)
		sscanf(v + 15, "%63s", s->docker_version);
	dl_adopt_record(s);
	dl_proxy_set_state(s->dep.proxy, 1, NULL);
	dl_watch_start(s->dep.watch, s->chan);
	if (s->dep.fswatch && s->share_fs != DL_SHARE_NONE && strcmp(s->cfg->file_events, "off") != 0) {
		/* Over 9p the agent's touch (open for writing, set the mtime) of a
		 * file a container was still writing lost that container's
		 * writes: zeroed ranges and a short file on the host, 6 of 11
		 * 100 MB copies (bench/README.md, session 4).  Not over 9p. */
		if (s->share_fs == DL_SHARE_9P)
			dl_log(DL_LOG_WARN, "file events: not over 9p (forwarding them there lost data a "
					    "container was writing); use virtiofs (`dlite doctor` says how)");
		else if (status && dl_caps_has(status, "fsevents"))
			dl_fswatch_start(s->dep.fswatch, s->chan, s->cfg->share, s->paths->home,
					 s->share_fs == DL_SHARE_9P);
		else
			dl_log(DL_LOG_INFO, "file events: this OS image's agent cannot take them "
					    "(`dlite update` brings a newer one)");
	}
	dl_bridge_ready(s->dep.bridge, dl_watch_dns_port(s->dep.watch));
	if (s->dep.clock)
		dl_clock_start(s->dep.clock);
	dl_log(DL_LOG_INFO, "vm: %s in %.1f s (docker %s)", s->adopted ? "adopted, ready" : "ready",
	       secs, s->docker_version);
	flush_waiters(s->start_w, &s->nstart, true, NULL, secs);
	if (s->adopted && s->pidfd < 0)
		dl_super_tick_in(s, ADOPT_POLL_MS);
}

static void on_status(const char *reply, int err, void *arg)
{
	struct dl_super *s = arg;

	s->req = NULL;
	if (s->state != ST_STARTING)
		return;
	if (err)
		dl_log(DL_LOG_WARN, "vm: no status from the agent (%s); assuming no capabilities",
		       err == EPROTO && *reply ? reply : strerror(err));
	became_ready(s, err ? NULL : reply);
}

static void on_ready(const char *reply, int err, void *arg)
{
	struct dl_super *s = arg;

	s->req = NULL;
	if (s->state != ST_STARTING)
		return;
	if (err) {
		dl_super_tick_in(s, PROBE_MS);
		return;
	}
	s->req = dl_chan_request(s->base, s->chan, "status", STATUS_REQ_MS, on_status, s);
	if (!s->req)
		became_ready(s, NULL);
}

static void on_poweroff(const char *reply, int err, void *arg)
{
	struct dl_super *s = arg;

	s->req = NULL;
	if (err && s->state == ST_STOPPING) {
		dl_log(DL_LOG_WARN, "vm: the agent did not take the poweroff request (%s); terminating",
		       err == EPROTO && *reply ? reply : strerror(err));
		vm_kill(s, SIGTERM);
	}
}

void dl_super_stop(struct dl_super *s, dl_super_done_fn fn, void *arg)
{
	if (s->state == ST_STOPPED) {
		s->want_up = false; /* a pending restart is off too */
		if (fn)
			fn(arg, false, "dlite is not running", 0);
		return;
	}
	add_waiter(s->stop_w, &s->nstop, fn, arg, NULL);
	s->want_up = false;
	if (s->state == ST_STOPPING)
		return;
	cancel_req(s);
	flush_waiters(s->start_w, &s->nstart, false, "stopped before it was ready", 0);
	dl_watch_stop(s->dep.watch);
	if (s->dep.fswatch)
		dl_fswatch_stop(s->dep.fswatch);
	if (s->dep.clock)
		dl_clock_stop(s->dep.clock);
	dl_proxy_set_state(s->dep.proxy, 0, "stopping");
	s->state = ST_STOPPING;
	s->t_stop = dl_now();
	s->req = dl_chan_request(s->base, s->chan, "poweroff", POWEROFF_REQ_MS, on_poweroff, s);
	if (!s->req)
		vm_kill(s, SIGTERM);
	dl_super_tick_in(s, 1000);
}

void dl_super_vm_exited(struct dl_super *s, int status)
{
	enum dl_vmstate was = s->state;

	cancel_req(s);
	dl_adopt_unwatch(s);
	dl_adopt_forget(s);
	s->vm_pid = 0;
	s->adopted = false;
	s->state = ST_STOPPED;
	os_unlock(s); /* an update may run before the restart; the restart waits for it */
	dl_vfsd_stop(&s->vfsd); /* it exits by itself once QEMU is gone; make sure */
	dl_watch_stop(s->dep.watch);
	if (s->dep.fswatch)
		dl_fswatch_stop(s->dep.fswatch);
	if (s->dep.clock)
		dl_clock_stop(s->dep.clock);
	dl_bridge_down(s->dep.bridge);
	dl_proxy_set_state(s->dep.proxy, 0, "the VM is not running");
	if (was == ST_STOPPING || !s->want_up) {
		dl_log(DL_LOG_INFO, "vm: powered off");
		flush_waiters(s->stop_w, &s->nstop, true, NULL, dl_now() - s->t_stop);
		return;
	}
	if (s->probing) {
		char *w = dl_accel_fallback_warning(s->accel, s->fallback, s->probe_seconds);
		dl_log(DL_LOG_WARN, "vm: %s", w ? w : "accelerator failed; falling back");
		free(w);
		dl_boot_accel_remember(s, s->accel, false);
		s->probing = false;
		s->t_restart = dl_now();
		dl_super_tick_in(s, 0);
		return;
	}
	s->crashes++;
	double delay = s->crashes > 5 ? 30.0 : (double)(1 << (s->crashes - 1));
	if (status < 0)
		snprintf(s->last_error, sizeof(s->last_error), "the VM exited unexpectedly");
	else
		snprintf(s->last_error, sizeof(s->last_error), "the VM exited unexpectedly (status %d)",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	dl_log(DL_LOG_ERR, "vm: %s in state %s; restarting in %.0f s (see `dlite logs --console`)",
	       s->last_error, state_names[was], delay);
	if (was == ST_STARTING && s->crashes >= 3) {
		flush_waiters(s->start_w, &s->nstart, false,
			      "the VM keeps exiting while booting; see `dlite logs --console`", 0);
		s->want_up = false;
		return;
	}
	s->t_restart = dl_now() + delay;
	dl_super_tick_in(s, (int)(delay * 1000));
}

/* ---- the tick: only while something is pending ---- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct dl_super *s = arg;
	double t = dl_now();

	switch (s->state) {
	case ST_STOPPED:
		if (s->want_up && s->t_restart > 0) {
			if (t >= s->t_restart) {
				s->t_restart = -1; /* spawn(): a restart, may wait for the OS lock */
				spawn(s);
				if (s->t_restart < 0)
					s->t_restart = 0;
			} else {
				dl_super_tick_in(s, (int)((s->t_restart - t) * 1000) + 1);
			}
		}
		break;
	case ST_STARTING:
		if (s->adopted && s->pidfd < 0 && !dl_adopt_alive(s)) {
			dl_super_vm_exited(s, -1);
			break;
		}
		if (s->probing && t - s->t_start > s->probe_seconds &&
		    !dl_boot_console_reached_agent(s)) {
			vm_kill(s, SIGKILL); /* vm_exited() falls back */
		} else if (t - s->t_start > START_TIMEOUT_S) {
			dl_log(DL_LOG_ERR, "vm: not ready after %.0f s; stopping it", START_TIMEOUT_S);
			flush_waiters(s->start_w, &s->nstart, false,
				      "the VM did not become ready; see `dlite logs --console`", 0);
			s->want_up = false;
			vm_kill(s, SIGKILL);
		} else if (!s->req) {
			s->req = dl_chan_request(s->base, s->chan, "ready", READY_REQ_MS, on_ready, s);
			if (s->req)
				break; /* on_ready re-arms the tick */
		}
		dl_super_tick_in(s, PROBE_MS);
		break;
	case ST_RUNNING:
		if (s->adopted && s->pidfd < 0) {
			if (!dl_adopt_alive(s))
				dl_super_vm_exited(s, -1);
			else
				dl_super_tick_in(s, ADOPT_POLL_MS);
		}
		break;
	case ST_STOPPING:
		if (s->adopted && s->pidfd < 0 && !dl_adopt_alive(s)) {
			dl_super_vm_exited(s, -1);
			break;
		}
		if (t - s->t_stop > STOP_TIMEOUT_S) {
			dl_log(DL_LOG_WARN, "vm: no clean poweroff after %.0f s; killing it", STOP_TIMEOUT_S);
			vm_kill(s, SIGKILL);
			s->t_stop = t; /* and again later if even that is stuck */
		}
		dl_super_tick_in(s, s->adopted && s->pidfd < 0 ? 200 : 1000);
		break;
	}
}

void dl_super_reap(struct dl_super *s)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == s->vm_pid && !s->adopted)
			dl_super_vm_exited(s, st);
		else if (dl_vfsd_reaped(&s->vfsd, pid) &&
			 (s->state == ST_STARTING || s->state == ST_RUNNING))
			/* QEMU may be exiting too (reaped next); else the share is gone */
			dl_log(DL_LOG_WARN, "share: virtiofsd exited (status %d); see %s/%s",
			       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), s->paths->run,
			       DL_VIRTIOFSD_LOG);
	}
}

/* ---- status ---- */

bool dl_super_stopped(const struct dl_super *s)
{
	return s->state == ST_STOPPED;
}

/* The agent's boot stamps so far, {"agent":1234,...} in ms of the guest's
 * CLOCK_BOOTTIME, from its "dlite-stamp NAME MS" console lines: what
 * `dlite start` shows as boot phases. */
static json_t *boot_stamps(const struct dl_super *s)
{
	static const char *const names[] = { "agent", "root", "data", "network", "containerd",
					     "dockerd" };
	json_t *o = json_object();
	char *text = NULL;
	size_t len = 0;
	long ms;

	if (dl_read_file(s->paths->console_log, &text, &len, 64u << 20, NULL) == 0)
		for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
			if (dl_console_stamp(text, len, names[i], &ms))
				json_object_set_new(o, names[i], json_integer(ms));
	free(text);
	return o;
}

json_t *dl_super_status(struct dl_super *s)
{
	const struct dl_config *c = s->cfg;
	json_t *j = json_pack("{s:b,s:s,s:i,s:i,s:s,s:s,s:s,s:s}", "ok", 1, "state",
			      state_names[s->state], "cpus", c->cpus, "memory_gib", c->memory_gib,
			      "hostname", c->hostname, "socket", c->socket, "share", c->share,
			      "network", c->network);

	json_object_set_new(j, "daemon_pid", json_integer(getpid()));
	if (s->manifest.image_version[0]) {
		json_object_set_new(j, "os_version", json_string(s->manifest.image_version));
		json_object_set_new(j, "kernel_version", json_string(s->manifest.kernel_version));
	}
	if (s->last_error[0])
		json_object_set_new(j, "last_error", json_string(s->last_error));
	if (s->state == ST_STOPPED)
		return j;
	char chan[128];
	json_object_set_new(j, "pid", json_integer(s->vm_pid));
	if (s->adopted)
		json_object_set_new(j, "adopted", json_true());
	json_object_set_new(j, "accel", json_string(dl_accel_name(s->accel)));
	json_object_set_new(j, "channel", json_string(dl_chan_cfg_str(s->chan, chan, sizeof(chan))));
	if (s->share_fs != DL_SHARE_NONE)
		json_object_set_new(j, "share_fs", json_string(dl_sharefs_name(s->share_fs)));
	json_object_set_new(j, "boot_stamps", boot_stamps(s));
	if (s->state == ST_RUNNING) {
		json_object_set_new(j, "uptime", json_integer((json_int_t)(dl_now() - s->t_ready)));
		json_object_set_new(j, "boot_seconds", json_real(s->t_ready - s->t_start));
		json_object_set_new(j, "address", json_string(dl_bridge_vm_addr(s->dep.bridge)));
		json_object_set_new(j, "docker_version", json_string(s->docker_version));
		json_object_set_new(j, "ports", dl_watch_ports_json(s->dep.watch));
		/* the guest's disk figures and platforms from its last status
		 * line; a stale one is refreshed in the background, so status
		 * never waits for the VM */
		json_t *g = s->guest_status[0] ? dl_guestinfo_json(s->guest_status) : NULL;
		if (g) {
			json_object_update(j, g);
			json_object_set_new(j, "guest_status_age", json_real(dl_now() - s->t_guest_status));
			json_decref(g);
		}
		if (dl_now() - s->t_guest_status > 2.0 && !s->info_req)
			s->info_req = dl_chan_request(s->base, s->chan, "status", 2000, on_info, s);
	}
	return j;
}

/* ---- lifetime ---- */

struct dl_super *dl_super_new(struct event_base *base, const struct dl_paths *paths,
			      struct dl_config *cfg, struct dl_chan_cfg *chan,
			      const struct dl_super_deps *deps)
{
	struct dl_super *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base = base;
	s->paths = paths;
	s->cfg = cfg;
	s->chan = chan;
	s->dep = *deps;
	s->pidfd = -1;
	s->os_lock = -1;
	s->tick = evtimer_new(base, on_tick, s);
	return s;
}

void dl_super_free(struct dl_super *s)
{
	if (!s)
		return;
	cancel_req(s);
	if (s->vm_pid > 0) {
		kill(s->vm_pid, SIGKILL);
		if (!s->adopted)
			waitpid(s->vm_pid, NULL, 0);
		dl_adopt_forget(s);
	}
	dl_adopt_unwatch(s);
	dl_vfsd_stop(&s->vfsd);
	event_free(s->tick);
	free(s);
}
