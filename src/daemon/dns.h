/*
 * The DNS responder: UDP and TCP (2-byte length prefix) on one address and
 * port, answering from a struct dl_dns_table (src/core/dnsmsg.h) in the
 * daemon's libevent loop.  The daemon rebuilds the table from docker events
 * and swaps it in with dl_dns_server_set_table().
 */
#ifndef DLITE_DAEMON_DNS_H
#define DLITE_DAEMON_DNS_H

#include <event2/event.h>
#include <stdint.h>

#include "core/dnsmsg.h"
#include "err.h"

struct dl_dns_server;

/* Listen on addr ("127.0.0.1", "::1", ...) port (0: any free port, the same
 * for UDP and TCP; see dl_dns_server_port).  Until a table is set every
 * query is REFUSED. */
struct dl_dns_server *dl_dns_server_new(struct event_base *base, const char *addr, uint16_t port,
					struct dl_err *e);
/* Replace the table and zone at once (the server owns t from now on and
 * frees the previous one).  t may be NULL (empty); domain is copied, e.g.
 * "docker". */
int dl_dns_server_set_table(struct dl_dns_server *s, struct dl_dns_table *t, const char *domain,
			    struct dl_err *e);
uint16_t dl_dns_server_port(const struct dl_dns_server *s);
/* Queries answered since start (UDP + TCP). */
unsigned long dl_dns_server_count(const struct dl_dns_server *s);
void dl_dns_server_free(struct dl_dns_server *s);

#endif
