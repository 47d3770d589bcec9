/* Container names in DNS: the docker listing -> a dl_dns_table for the
 * responder (dns.c). */
#ifndef DLITE_DAEMON_NAMES_H
#define DLITE_DAEMON_NAMES_H

#include <jansson.h>

#include "config.h"
#include "core/dnsmsg.h"
#include "err.h"

struct event_base;
struct dl_dns_server;

/* The zone: the config's dns_domain ("docker" by default), never derived
 * from the hostname (-n dev.local must not take over .local). */
const char *dl_names_domain(const struct dl_config *cfg);
/* Pure: a container of the docker listing -> its first IPv4 and first
 * global IPv6 address over its networks (NULL when it has none). */
void dl_names_addrs(json_t *container, const char **v4, const char **v6);
/* Pure: hostname -> VM address; <container>.<domain> and, for compose,
 * <service>.<project>.<domain> -> the container's first address. list may
 * be NULL (VM down: the hostname only). */
struct dl_dns_table *dl_names_table(const struct dl_config *cfg, json_t *list);

struct dl_dns_server *dl_watch_dns_new(struct event_base *base, const struct dl_config *cfg,
				       struct dl_err *e);
void dl_watch_dns_apply(struct dl_dns_server *s, const struct dl_config *cfg, json_t *list);
void dl_watch_dns_free(struct dl_dns_server *s);

#endif
