/*
 * The host <-> guest channel, shared by the dlite daemon and dlite-agent.
 *
 * Every connection to the agent (TCP on the VM's own interface, or vsock)
 * starts with one fixed-size header.  A header with a wrong magic, version,
 * token or target makes the agent close the connection without touching any
 * target and without replying.  A good header gets a fixed-size reply; after
 * an OK reply the stream is a byte-transparent, full-duplex relay to the
 * target that preserves half-close.
 *
 * Targets (NUL-padded ASCII in hdr.target):
 *   "docker"      the guest's /var/run/docker.sock
 *   "tcp:PORT"    127.0.0.1:PORT in the guest
 *   "udp:PORT"    127.0.0.1:PORT in the guest; datagrams framed on the
 *                 stream as a 2-byte big-endian length + payload, both ways
 *   "tcp:A.B.C.D:PORT", "tcp:[V6]:PORT", "udp:..." the same, to that
 *                 address as seen from the guest (a container's own
 *                 address, so no docker-proxy copy sits in the path).  Only
 *                 agents whose status says "caps=addr" accept these.
 *   "control"     line protocol, one request line -> one reply line:
 *                   ping            -> "ok pong"
 *                   ready           -> "ok ready" once dockerd answers _ping,
 *                                      else "err <why>"
 *                   time SEC.NSEC   -> sets CLOCK_REALTIME, "ok"
 *                   gettime         -> "ok SEC.NSEC" (CLOCK_REALTIME)
 *                   status          -> "ok key=value key=value ..."
 *                                      (caps=a,b: optional features)
 *                   poweroff        -> "ok", then a clean shutdown
 *   "fsevents"    host edits of the shared folder (agents whose status says
 *                 "caps=...,fsevents"): the daemon sends one line per changed
 *                 path, "KINDS PATH\n" (dl_fsev_encode: KINDS letters c m d f t
 *                 = created, modified, deleted, moved from, moved to, merged
 *                 over a short window; PATH relative to the share's root,
 *                 percent-encoded); the agent makes the guest kernel emit
 *                 the events it safely can for that path (agent/fsev.c) and
 *                 answers each line, in order, "ok DONE" with DONE letters
 *                 m (the file's mtime was set to its own value: the host
 *                 sees one IN_MODIFY) and w (the file was opened for writing
 *                 and closed: the host sees one IN_CLOSE_WRITE), or "ok -".
 */
#ifndef DLITE_PROTO_H
#define DLITE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define DL_PROTO_MAGIC      "DLT1"
#define DL_PROTO_VERSION    1
#define DL_TOKEN_LEN        32
#define DL_TARGET_LEN       64
#define DL_HDR_LEN          (4 + 2 + 2 + DL_TOKEN_LEN + DL_TARGET_LEN) /* 104 */
#define DL_REPLY_LEN        8
#define DL_AGENT_PORT       5155 /* TCP and vsock port the agent listens on */
#define DL_UDP_MAX          65535

enum dl_target_kind {
	DL_TARGET_DOCKER = 1,
	DL_TARGET_TCP,
	DL_TARGET_UDP,
	DL_TARGET_CONTROL,
	DL_TARGET_FSEVENTS,
};

struct dl_target {
	enum dl_target_kind kind;
	uint16_t port; /* tcp/udp only */
	int family;    /* tcp/udp: 0 = the guest's 127.0.0.1, AF_INET, AF_INET6 */
	uint8_t addr[16]; /* family's address, network order */
};

/* What this side's agent supports, listed in its status reply ("caps="). */
#define DL_CAPS "addr,fsevents"

/* Reply status byte (reply[4]). */
enum dl_status {
	DL_ST_OK = 0,
	DL_ST_UNAVAILABLE = 1, /* target could not be reached (errno in reply[5]) */
};

/* Encode a header into buf (DL_HDR_LEN bytes). Returns 0, or -1 when the
 * target string does not fit or does not parse. */
int dl_hdr_encode(uint8_t buf[DL_HDR_LEN], const uint8_t token[DL_TOKEN_LEN],
		  const char *target);

/* Check a received header against the expected token (constant-time
 * comparison) and parse its target. Returns 0 and fills *t, or -1. */
int dl_hdr_check(const uint8_t buf[DL_HDR_LEN],
		 const uint8_t token[DL_TOKEN_LEN], struct dl_target *t);

/* Parse "docker", "control", "tcp:N", "udp:N" (1 <= N <= 65535), and
 * "tcp:ADDR:N", "udp:ADDR:N" with ADDR a dotted IPv4 address or a
 * bracketed IPv6 one. */
int dl_target_parse(const char *s, struct dl_target *t);

/* Does a status reply ("ok k=v k=v ... caps=a,b ...") list cap? */
int dl_caps_has(const char *status, const char *cap);

void dl_reply_encode(uint8_t buf[DL_REPLY_LEN], enum dl_status st, int err);
/* Returns the status, or -1 for a malformed reply; *err gets the errno. */
int dl_reply_parse(const uint8_t buf[DL_REPLY_LEN], int *err);

/* Read the token file written by the host (exactly DL_TOKEN_LEN raw bytes,
 * or 64 hex characters with an optional newline). Returns 0 or -1. */
int dl_token_parse(const uint8_t *data, size_t len, uint8_t token[DL_TOKEN_LEN]);

/* ---- "fsevents" lines ---- */
enum {
	DL_FSEV_CREATE = 1,
	DL_FSEV_MODIFY = 2,
	DL_FSEV_DELETE = 4,
	DL_FSEV_MOVED_FROM = 8,
	DL_FSEV_MOVED_TO = 16,
};
#define DL_FSEV_LINE_MAX 4200 /* a PATH_MAX path, every byte encoded, + kinds */

/* "KINDS PATH\n" into buf: returns its length, or -1 when it does not fit,
 * kinds is empty or path is not a clean relative path (see below). */
int dl_fsev_encode(char *buf, size_t len, unsigned kinds, const char *path);
/* Parse one line (without its newline): 0 and *kinds, path (decoded), or
 * -1 for unknown letters, bad encoding, or a path that is empty, absolute,
 * has an empty, "." or ".." component, or does not fit. */
int dl_fsev_decode(const char *line, unsigned *kinds, char *path, size_t len);

/* 0..15 for a hex digit, -1 otherwise (also used by the agent to decode
 * percent-encoded kernel command line values). */
int dl_hexval(uint8_t c);

/* A request line of the "control" target. */
enum dl_ctl_kind {
	DL_CTL_UNKNOWN = 0, /* -> "err unknown request" */
	DL_CTL_BADTIME,     /* "time" with a malformed value -> "err bad time" */
	DL_CTL_PING,
	DL_CTL_READY,
	DL_CTL_STATUS,
	DL_CTL_TIME,
	DL_CTL_GETTIME,
	DL_CTL_POWEROFF,
};
struct dl_ctl_req {
	enum dl_ctl_kind kind;
	long long sec; /* DL_CTL_TIME: >= 0 */
	long nsec;     /* DL_CTL_TIME: 0..999999999 */
};
/* Parse one request line (without its newline; a trailing CR is ignored).
 * "time SEC[.FRACTION]": SEC decimal, FRACTION up to 9 digits. Returns the
 * kind (also in r->kind). */
enum dl_ctl_kind dl_ctl_parse(const char *line, struct dl_ctl_req *r);

#endif
