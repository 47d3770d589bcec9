/*
 * The VM supervisor: one VM per daemon, its lifecycle (spawn, readiness,
 * clean poweroff, crash restarts with back-off, the accelerator probe) and
 * adoption of a VM that a previous daemon left running.  Everything it asks
 * the agent ("ready", "status", "poweroff") is an asynchronous request with
 * a deadline (daemon/chan.h): the loop never waits for the VM.
 *
 * Files: supervisor.c (state machine), boot.c (building and forking the
 * VM), adopt.c (RUN/state.json, finding and adopting a running VM).
 */
#ifndef DLITE_DAEMON_SUPERVISOR_H
#define DLITE_DAEMON_SUPERVISOR_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "daemon/chan.h"
#include "paths.h"

struct event_base;
struct dl_proxy;
struct dl_watch;
struct dl_bridge;
struct dl_clock;
struct dl_fswatch;
struct dl_super;

/* What the supervisor drives when the VM comes and goes (owned by the
 * daemon; any may be NULL). */
struct dl_super_deps {
	struct dl_proxy *proxy;
	struct dl_watch *watch;
	struct dl_bridge *bridge;
	struct dl_clock *clock;
	struct dl_fswatch *fswatch; /* host edits of the share -> events in the VM */
};

/* chan: the one channel configuration, owned by the caller and shared by
 * reference with the proxy, the watcher and the clock; the supervisor
 * fills it at each boot (address, token, caps). */
struct dl_super *dl_super_new(struct event_base *base, const struct dl_paths *paths,
			      const struct dl_config *cfg, struct dl_chan_cfg *chan,
			      const struct dl_super_deps *deps);

/* A VM left running by a daemon that died: adopt it (state "starting"
 * until its agent answers "ready"; containers keep running) and return
 * true.  One that cannot be adopted is terminated.  False when there is
 * none. */
bool dl_super_adopt(struct dl_super *s);

/* Replies to a start or stop: ok, or the message; seconds it took.  On
 * success msg is NULL, or "joined" for a start that found a boot under way
 * (two `dlite start` at once: one starts the VM, the other says it waited). */
typedef void (*dl_super_done_fn)(void *arg, bool ok, const char *msg, double seconds);
/* fn may be NULL (nobody waits). */
void dl_super_start(struct dl_super *s, dl_super_done_fn fn, void *arg);
void dl_super_stop(struct dl_super *s, dl_super_done_fn fn, void *arg);
/* The waiter arg went away (its client hung up). */
void dl_super_forget(struct dl_super *s, void *arg);
bool dl_super_stopped(const struct dl_super *s);
/* The `dlite status` object. */
json_t *dl_super_status(struct dl_super *s);
/* SIGCHLD: reap children (the VM, virtiofsd). */
void dl_super_reap(struct dl_super *s);
/* The daemon exits: a VM still running is killed. */
void dl_super_free(struct dl_super *s);

#endif
