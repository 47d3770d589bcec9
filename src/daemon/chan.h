/*
 * Opening channel connections to dlite-agent from the daemon's loop, and
 * control requests ("ready", "gettime", "status", "poweroff") with
 * deadlines: nothing here blocks.  The channel configuration and the
 * blocking dialer: src/lib/chan.h.  Every fd returned is non-blocking and
 * O_CLOEXEC; TCP channel sockets have TCP_NODELAY.
 */
#ifndef DLITE_DAEMON_CHAN_H
#define DLITE_DAEMON_CHAN_H

#include "lib/chan.h"
#include "lib/sock.h"

struct event_base;

/* Timeout for the whole async open (connect + header + reply). */
#define DL_CHAN_OPEN_TIMEOUT_MS 5000

/*
 * Asynchronous open: non-blocking connect, write the header, read the reply,
 * then cb(fd, 0, arg) with a non-blocking fd ready for relaying (the callee
 * owns it), or cb(-1, err, arg) with an errno value:
 *   ECONNREFUSED etc.  the agent cannot be reached,
 *   EPROTO             the agent closed the connection or sent a bad reply
 *                      (wrong token or target),
 *   ETIMEDOUT          no reply within DL_CHAN_OPEN_TIMEOUT_MS,
 *   other              the agent reports the target unreachable (its errno,
 *                      EHOSTUNREACH when it gave none).
 * cb is always called exactly once and never from within dl_chan_open().
 * Returns 0, or -1 with errno set (and cb is not called) when the open could
 * not even start (bad target, no memory).
 */
int dl_chan_open(struct event_base *base, const struct dl_chan_cfg *cfg,
		 const char *target, void (*cb)(int fd, int err, void *arg),
		 void *arg);

/* The same with its own deadline (the proxy uses a short one to tell a
 * frozen VM). */
int dl_chan_open_ms(struct event_base *base, const struct dl_chan_cfg *cfg,
		    const char *target, int timeout_ms, void (*cb)(int fd, int err, void *arg),
		    void *arg);

/*
 * One control request ("ready", "status", "gettime", "time S.N",
 * "poweroff"; no newline) on a fresh "control" channel, asynchronously: the
 * whole exchange (connect, header, request, reply line) has timeout_ms.
 * cb(reply, 0, arg) when the reply line starts with "ok"; otherwise
 * cb(reply, err, arg) with reply "" or the agent's "err ..." line and err
 * ETIMEDOUT (no answer in time: a frozen or overloaded VM), EPROTO (an
 * "err" reply, or closed) or the connect's errno.  cb runs exactly once,
 * from the loop, never inside dl_chan_request(), unless the request is
 * cancelled first.  NULL (errno set, cb never called) when it cannot start.
 */
typedef void (*dl_chan_req_fn)(const char *reply, int err, void *arg);
struct dl_chan_req;
struct dl_chan_req *dl_chan_request(struct event_base *base, const struct dl_chan_cfg *cfg,
				    const char *line, int timeout_ms, dl_chan_req_fn cb, void *arg);
/* Drop a request in flight: cb is not called. NULL is a no-op. */
void dl_chan_req_cancel(struct dl_chan_req *r);

#endif
