/*
 * Published ports on localhost: a container's published port becomes a
 * listener on the host's loopback (127.0.0.1 and ::1; never a non-loopback
 * address) whose connections (TCP) or datagrams (UDP) go over the agent
 * channel to the container's own address ("tcp:CTR_ADDR:CTR_PORT") when
 * the listing gave it and the agent takes addresses, else to
 * "tcp:GUEST_PORT" / "udp:GUEST_PORT" (docker-proxy on the guest's loopback).
 */
#ifndef DLITE_DAEMON_PORTS_H
#define DLITE_DAEMON_PORTS_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/chan.h"

struct event_base;
struct dl_ports;

struct dl_portmap {
	int proto;          /* IPPROTO_TCP or IPPROTO_UDP */
	char host_ip[46];   /* "" (or "0.0.0.0", "::") = 127.0.0.1 and ::1;
			       "127.0.0.1", "::1", any 127/8 address */
	uint16_t host_port;
	uint16_t guest_port;  /* published port in the guest */
	char ctr_addr[46];    /* the container's address, "" if unknown */
	uint16_t ctr_port;    /* the container's own port behind guest_port */
	char owner[128];    /* container name */
};

struct dl_port_status {
	struct dl_portmap map; /* host_ip normalised ("" = both loopbacks) */
	int ok;                /* 1: forwarded; 0: failed (error says why) */
	char error[160];
	unsigned long conns;   /* TCP connections / UDP associations so far */
	unsigned open;         /* ... open now */
	char target[DL_TARGET_LEN]; /* where new connections go, on the channel */
};

#define DL_PORTS_UDP_IDLE_S 60 /* a UDP association expires after this */

struct dl_ports *dl_ports_new(struct event_base *base, const struct dl_chan_cfg *cfg);

/* Reconcile with the full list of mappings wanted now: listeners for new
 * ones are opened, removed ones closed (their open connections go on),
 * changed guest ports and container addresses (a restarted container) take
 * effect for new connections; failed ones are retried.  A mapping whose
 * port is taken gets one log line and status "failed"; the others carry on.  Duplicates (the same key reported for
 * 0.0.0.0 and ::) are merged.  Returns the number of failed mappings, or -1
 * (ENOMEM). */
int dl_ports_set(struct dl_ports *ps, const struct dl_portmap *maps, size_t n);

/* Fills up to max entries (oldest mapping first) and returns
 * how many mappings there are. */
size_t dl_ports_status(const struct dl_ports *ps, struct dl_port_status *out, size_t max);

/* The channel configuration, held by reference (as by dl_ports_new). */
void dl_ports_set_chan(struct dl_ports *ps, const struct dl_chan_cfg *cfg);

/* Floods: at most max_conns TCP connections per published port, and all
 * ports together at most a quarter of the fds left after 256 (a relay holds
 * two, four with its pipes in flight); at most max_udp UDP associations per
 * port.  Beyond a cap the connection or association idle the longest is
 * closed (TCP: one still opening its channel is never chosen; when all
 * are, the newcomer is refused).  Defaults 1024 and 256. */
void dl_ports_set_caps(struct dl_ports *ps, unsigned max_conns, unsigned max_udp);

/* Closes every listener, connection and association. */
void dl_ports_free(struct dl_ports *ps);

#endif
