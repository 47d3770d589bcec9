/*
 * The channel to dlite-agent as a client sees it (protocol:
 * src/core/proto.h): where the agent is, and a blocking dialer for the CLI
 * (`dlite ssh`'s ProxyCommand) and tests.  The daemon's asynchronous opens
 * and requests are src/daemon/chan.h.
 *
 * A channel connection is a stream socket (TCP, vsock or unix) on which we
 * write the DL_HDR_LEN header and read the DL_REPLY_LEN reply; after an OK
 * reply the fd is a byte-transparent full-duplex stream to the target.
 */
#ifndef DLITE_LIB_CHAN_H
#define DLITE_LIB_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "proto.h"

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

/* cfg's socket address; 0, or -1 with errno. */
int dl_chan_sockaddr(const struct dl_chan_cfg *cfg, struct sockaddr_storage *ss, socklen_t *len);

#endif
