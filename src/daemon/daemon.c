/*
 * The dlite daemon: one libevent loop, one process (plus the watcher's
 * thread), wiring these rooms together:
 *   supervisor  the VM: lifecycle, restarts, adoption (supervisor.c,
 *               boot.c, adopt.c)
 *   control     control.sock for the CLI (control.c)
 *   proxy       docker.sock (proxy.c), 503 while the VM is down or frozen
 *   watcher     docker events -> published ports and DNS names (watch.c)
 *   clock       the guest clock (clock.c)
 *   bridge      bridged networking (bridge.c)
 * They share one channel configuration (struct dl_chan_cfg, here), by
 * reference; the supervisor fills it at each boot.  Nothing in the loop
 * waits for the VM: requests to the agent are asynchronous with deadlines.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/bridge.h"
#include "daemon/chan.h"
#include "daemon/clock.h"
#include "daemon/console.h"
#include "daemon/control.h"
#include "daemon/fswatch.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/proxy.h"
#include "daemon/supervisor.h"
#include "daemon/watch.h"
#include "lib/private.h"

struct daemon {
	struct event_base *base;
	struct dl_super *super;
	bool quitting;
};

/* Leave the loop once pending replies had a moment to flush. */
static void quit_soon(void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { 0, 200000 };
	event_base_loopexit(d->base, &tv);
}

static void stopped_then_quit(void *arg, bool ok, const char *msg, double seconds)
{
	quit_soon(arg);
}

static void on_quit_signal(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	dl_log(DL_LOG_INFO, "daemon: signal %d: stopping", (int)fd);
	if (d->quitting)
		return;
	d->quitting = true;
	if (dl_super_stopped(d->super)) {
		dl_super_stop(d->super, NULL, NULL);
		quit_soon(d);
	} else {
		dl_super_stop(d->super, stopped_then_quit, d);
	}
}

static void clock_kick(void *clock)
{
	dl_clock_kick(clock);
}

static void on_sigchld(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	dl_super_reap(d->super);
}

int dl_daemon_run(const struct dl_paths *paths, const struct dl_config *cfg,
		  const struct dl_daemon_opts *opts, struct dl_err *e)
{
	struct daemon d = { 0 };
	struct dl_chan_cfg chan = { 0 }; /* the one channel configuration */
	struct dl_proxy *proxy = NULL;
	struct dl_watch *watch = NULL;
	struct dl_fswatch *fswatch = NULL;
	struct dl_bridge *bridge = NULL;
	struct dl_clock *clock = NULL;
	struct dl_ctl *ctl = NULL;
	struct event *sig[3] = { NULL, NULL, NULL };
	char lockpath[1200];
	int r = -1;

	if (dl_private_dir(paths->run, e) < 0)
		return -1;
	snprintf(lockpath, sizeof(lockpath), "%s/daemon.lock", paths->run);
	int lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		if (lock >= 0)
			close(lock);
		return dl_fail(e, err, "another dlite daemon runs for %s", paths->home);
	}
	signal(SIGPIPE, SIG_IGN);
	d.base = event_base_new();
	if (!(proxy = dl_proxy_new(d.base, cfg->socket, &chan, e)))
		goto out;
	dl_proxy_set_state(proxy, 0, "the VM is not running");
	if (!(watch = dl_watch_new(d.base, cfg, e)))
		goto out;
	if (!(bridge = dl_bridge_new(paths, cfg, e)))
		goto out;
	if (strcmp(cfg->network, "bridged") == 0)
		dl_watch_set_subnets_cb(watch, dl_bridge_routes, bridge);
	if (!(clock = dl_clock_new(d.base, &chan))) {
		dl_fail(e, ENOMEM, "clock");
		goto out;
	}
	dl_proxy_set_stall_cb(proxy, clock_kick, clock);
	if (!(fswatch = dl_fswatch_new(d.base))) {
		dl_fail(e, ENOMEM, "out of memory");
		goto out;
	}
	struct dl_super_deps deps = { proxy, watch, bridge, clock, fswatch };
	if (!(d.super = dl_super_new(d.base, paths, cfg, &chan, &deps))) {
		dl_fail(e, ENOMEM, "supervisor");
		goto out;
	}
	if (!(ctl = dl_ctl_new(d.base, paths->control, d.super, quit_soon, &d, e)))
		goto out;
	int signos[3] = { SIGCHLD, SIGTERM, SIGINT };
	for (int i = 0; i < 3; i++) {
		sig[i] = evsignal_new(d.base, signos[i], i ? on_quit_signal : on_sigchld, &d);
		event_add(sig[i], NULL);
	}
	dl_console_keep(d.base, paths->console_log, DL_CONSOLE_MAX);
	dl_log(DL_LOG_INFO, "daemon: pid %d, home %s, docker socket %s", (int)getpid(), paths->home,
	       cfg->socket);
	/* a VM the previous daemon left running is taken over, not rebooted */
	if (!dl_super_adopt(d.super) && !opts->idle)
		dl_super_start(d.super, NULL, NULL);
	event_base_dispatch(d.base);
	dl_log(DL_LOG_INFO, "daemon: exiting");
	r = 0;
out:
	dl_super_free(d.super);
	dl_ctl_free(ctl);
	dl_clock_free(clock);
	if (fswatch)
		dl_fswatch_free(fswatch);
	dl_bridge_free(bridge);
	if (watch)
		dl_watch_free(watch);
	if (proxy)
		dl_proxy_free(proxy);
	dl_console_keep(NULL, NULL, 0);
	for (int i = 0; i < 3; i++)
		if (sig[i])
			event_free(sig[i]);
	event_base_free(d.base);
	close(lock);
	return r;
}
