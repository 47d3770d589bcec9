/* Internals shared by ports.c (listeners, TCP) and ports_udp.c. */
#ifndef DLITE_DAEMON_PORTS_INT_H
#define DLITE_DAEMON_PORTS_INT_H

#include "daemon/ports.h"

#include <sys/socket.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#define ACCEPT_BATCH      64
#define ACCEPT_BACKOFF_MS 200
#define UDP_BATCH         64
#define UDP_QUEUE_MAX     (256 * 1024) /* bytes queued per association */

struct fwd;
struct dl_ports;

struct lst {
	int fd, family;
	struct event ev, backoff;
	struct fwd *f;
	char addr[64]; /* "127.0.0.1:8080" for logs */
};

struct tconn { /* a TCP connection: opening, then relayed */
	struct dl_ports *ps; /* NULL: ports object gone while opening */
	struct fwd *f;       /* NULL once its forward is gone */
	int cfd;
	time_t active;       /* last time its byte count was seen moving */
	uint64_t seen;
	struct dl_relay *relay;
	struct tconn *prev, *next;
};

struct uassoc { /* one UDP client address on one listener */
	struct fwd *f;
	struct lst *l;
	struct sockaddr_storage peer;
	socklen_t plen;
	struct bufferevent *bev;   /* the channel, once open */
	struct evbuffer *queue;    /* datagrams framed while opening */
	struct event idle;
	time_t last;
	int opening;
	struct uassoc *next;
};

struct fwd {
	struct dl_ports *ps;
	struct dl_portmap map;
	struct lst l[2];
	int nl, ok, mark, logged_fail;
	char error[160];
	unsigned long conns;
	unsigned ntcp, nudp; /* open now (TCP: opening or relayed) */
	struct uassoc *assocs;
	struct fwd *next;
};

struct dl_ports {
	struct event_base *base;
	const struct dl_chan_cfg *cfg; /* the daemon's, by reference */
	struct fwd *fwds;
	struct tconn *tconns;
	unsigned ntcp;
	unsigned max_conns, max_udp; /* per port */
	unsigned char *udpbuf; /* DL_UDP_MAX + 2 */
};

/* "tcp:ADDR:PORT" / "udp:PORT"...: where f's connections go on the channel */
void dl_ports_fwd_target(const struct fwd *f, char *buf, size_t len);
/* A UDP listener's read callback (arg: struct lst). */
void dl_ports_udp_read_cb(evutil_socket_t fd, short what, void *arg);
void dl_ports_uassoc_free(struct uassoc *a);

#endif
