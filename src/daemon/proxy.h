/*
 * The docker.sock proxy: a unix socket on the host whose every connection is
 * relayed to the guest's /var/run/docker.sock over the agent channel (target
 * "docker").  When the VM is down, or the channel cannot be opened, a client
 * gets at once an HTTP 503 whose JSON message tells to run `dlite start`;
 * never a hang.
 */
#ifndef DLITE_DAEMON_PROXY_H
#define DLITE_DAEMON_PROXY_H

#include "daemon/chan.h"
#include "err.h"

struct event_base;
struct dl_proxy;

/* The body of the 503 answer (docker CLI prints its "message"). */
#define DL_PROXY_DOWN_BODY \
	"{\"message\":\"dlite: the VM is not running; run `dlite start`\"}"
#define DL_PROXY_FROZEN_BODY \
	"{\"message\":\"dlite: the VM is not responding (frozen or overloaded); try again, " \
	"or `dlite restart`\"}"

/* A pooled channel is handed out only when the agent answered an open
 * within this many ms; otherwise the client's channel is opened afresh
 * with a deadline of DL_PROXY_PROBE_MS, and a VM that does not answer in
 * that time gets the client a 503 with X-Dlite-Reason: VM not responding. */
#define DL_PROXY_ALIVE_MS 1000
#define DL_PROXY_PROBE_MS 1500

/*
 * cfg is held by reference (the daemon's one channel configuration).
 * Bind sock_path (a stale socket file is removed only if nothing answers on
 * it; refused if another process serves it or the path is not a socket),
 * mode 0660, owner the user, group `docker` where that group exists.  The
 * proxy starts in state "VM up"; see dl_proxy_set_state().
 */
struct dl_proxy *dl_proxy_new(struct event_base *base, const char *sock_path,
			      const struct dl_chan_cfg *cfg, struct dl_err *e);

/* vm_up 0: every new connection gets the 503 (why, if given, is logged and
 * sent in an X-Dlite-Reason header).  Connections being relayed go on.
 * While up, the proxy keeps a few channel connections ("docker" target,
 * reply OK) open ahead and hands one to each accepted client; a pooled one
 * that dies or idles for a minute is replaced; going down closes them. */
void dl_proxy_set_state(struct dl_proxy *p, int vm_up, const char *why);

/* The channel configuration (held by reference since dl_proxy_new) got a
 * new address or token (the VM restarted): pooled channels are closed. */
void dl_proxy_chan_changed(struct dl_proxy *p);

/* fn(arg) whenever a client got the "VM not responding" 503. */
void dl_proxy_set_stall_cb(struct dl_proxy *p, void (*fn)(void *arg), void *arg);

struct dl_proxy_stats {
	unsigned long active;    /* connections open now */
	unsigned long total;     /* accepted since start */
	unsigned long refused;   /* answered with 503 */
	unsigned long pooled;    /* idle channels opened ahead */
};
void dl_proxy_stats(const struct dl_proxy *p, struct dl_proxy_stats *st);

/* Close the listener, every connection, and remove the socket file (if it
 * is still ours). */
void dl_proxy_free(struct dl_proxy *p);

#endif
