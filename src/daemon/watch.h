/* Follows docker events and turns the containers' published ports into
 * localhost listeners (ports.c) and their names into DNS records. */
#ifndef DLITE_DAEMON_WATCH_H
#define DLITE_DAEMON_WATCH_H

#include <jansson.h>

#include "config.h"
#include "daemon/chan.h"
#include "err.h"

struct event_base;
struct dl_watch;

struct dl_watch *dl_watch_new(struct event_base *base, const struct dl_config *cfg,
			      struct dl_err *e);
/* The VM is ready: follow its events (through our own docker.sock); chan
 * is held by reference. */
void dl_watch_start(struct dl_watch *w, const struct dl_chan_cfg *chan);
/* The VM is going away: drop every forward and name. */
void dl_watch_stop(struct dl_watch *w);
/* Docker's subnets (IPAM Config of GET /networks, IPv4 and IPv6) after every
 * container or network event; set before dl_watch_start. */
typedef void (*dl_watch_subnets_fn)(void *arg, const char *const *subnets, size_t n);
void dl_watch_set_subnets_cb(struct dl_watch *w, dl_watch_subnets_fn fn, void *arg);
/* The DNS responder's port, 0 when it is not listening. */
unsigned dl_watch_dns_port(const struct dl_watch *w);
/* [{proto, host_ip, host_port, container, error?}] for `dlite status`. */
json_t *dl_watch_ports_json(struct dl_watch *w);
void dl_watch_free(struct dl_watch *w);

/* Pure: containers JSON (GET /containers/json) -> port mappings. Returns the
 * count written (at most max). Exposed for tests. */
struct dl_portmap;
size_t dl_watch_portmaps(json_t *containers, struct dl_portmap *out, size_t max);
/* Pure: networks JSON (GET /networks) -> IPAM subnets, deduplicated. */
size_t dl_watch_subnets(json_t *networks, char (*out)[64], size_t max);

#endif
