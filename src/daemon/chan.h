/*
 * Opening channel connections to dlite-agent (protocol: src/core/proto.h).
 *
 * A channel connection is a stream socket (TCP, vsock or unix) on which we
 * write the DL_HDR_LEN header and read the DL_REPLY_LEN reply; after an OK
 * reply the fd is a byte-transparent full-duplex stream to the target.
 * Every fd returned is non-blocking (async API) and O_CLOEXEC; TCP channel
 * sockets have TCP_NODELAY.
 */
#ifndef DLITE_DAEMON_CHAN_H
#define DLITE_DAEMON_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "proto.h"

struct event_base;

/*
 * DL_CHAN_HYPERKIT: hyperkit's virtio-sock.  The host connects to the unix
 * socket RUN/vsock/connect (path) and first writes the preamble
 * "%08x.%08x\n" (guest CID, guest port, lowercase hex: "00000003.00001423\n"
 * for CID 3 port 5155); hyperkit then opens a vsock stream to the guest and
 * the socket carries it (no reply to the preamble: if nobody listens in the
 * guest, hyperkit closes the socket, which shows as EPROTO/"closed").
 * vfkit needs no kind of its own: it listens on a plain unix socket
 * (RUN/agent.sock) and forwards each connection to guest vsock 5155.
 */
#define DL_CHAN_PREAMBLE_MAX 24

struct dl_chan_cfg {
	enum { DL_CHAN_TCP, DL_CHAN_VSOCK, DL_CHAN_UNIX, DL_CHAN_HYPERKIT } kind;
	char host[64];   /* TCP: numeric IPv4/IPv6 address, e.g. "127.0.0.1" */
	uint16_t port;   /* TCP, vsock and hyperkit (the guest's vsock port) */
	unsigned cid;    /* vsock and hyperkit (the guest's CID) */
	char path[108];  /* unix; hyperkit: its "connect" socket */
	uint8_t token[DL_TOKEN_LEN];
	int addr_targets; /* the agent takes "tcp:ADDR:PORT" (caps=addr) */
};

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

/* Blocking open for the CLI (control requests, `dlite ssh` ProxyCommand):
 * returns a blocking O_CLOEXEC fd relaying to target, or -1 with *e. */
int dl_chan_dial(const struct dl_chan_cfg *cfg, const char *target,
		 int timeout_ms, struct dl_err *e);

/* One control request ("ping", "status", ...; no newline needed) -> its one
 * reply line, without the newline, in reply.  Returns 0 when the reply line
 * starts with "ok", -1 with *e otherwise (e->msg holds the agent's "err ..."
 * line when it sent one; reply holds it too). */
int dl_chan_control(const struct dl_chan_cfg *cfg, const char *request_line,
		    char *reply, size_t replylen, int timeout_ms,
		    struct dl_err *e);

/* Ask the agent for its status line (into status when not NULL) and set
 * the capabilities it lists in *cfg (none when it does not answer).
 * Returns 0, or -1 when the request failed. */
int dl_chan_probe_caps(struct dl_chan_cfg *cfg, char *status, size_t len, int timeout_ms);

/* Parse "tcp:HOST:PORT", "tcp:PORT" (127.0.0.1), "vsock:CID:PORT",
 * "unix:PATH" or "hyperkit:PATH:CID:PORT" (PATH = RUN/vsock/connect; the
 * last two colons split it) into cfg (token untouched).  0 or -1 with *e. */
int dl_chan_cfg_parse(struct dl_chan_cfg *cfg, const char *spec, struct dl_err *e);

/* Human-readable "tcp:127.0.0.1:5155" etc.; parses back with
 * dl_chan_cfg_parse. */
const char *dl_chan_cfg_str(const struct dl_chan_cfg *cfg, char *buf, size_t len);

/* The bytes written before the header: hyperkit's "CID.PORT\n" preamble,
 * nothing for the other kinds.  Returns the length (< DL_CHAN_PREAMBLE_MAX). */
size_t dl_chan_preamble(const struct dl_chan_cfg *cfg, uint8_t buf[DL_CHAN_PREAMBLE_MAX]);

/* Socket helpers shared by the daemon's data-path files. */
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: sockets get SO_NOSIGPIPE instead */
#endif

/* Non-blocking, close-on-exec socket (SO_NOSIGPIPE where it exists). */
int dl_socket_nb(int domain, int type);
/* accept() returning a non-blocking, close-on-exec fd. */
int dl_accept_nb(int lfd, struct sockaddr *sa, socklen_t *len);
int dl_set_nonblock(int fd, int on);
void dl_set_nodelay(int fd);
/* pipe2(O_CLOEXEC [| O_NONBLOCK]) where it exists, pipe + fcntl elsewhere. */
int dl_pipe(int p[2], int nonblock);

#endif
