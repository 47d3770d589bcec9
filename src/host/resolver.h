/*
 * Pointing the host's resolver at dlite's DNS responder for one domain
 * (default "docker").  Pure generators: text and argv lists, no I/O.
 */
#ifndef DLITE_HOST_RESOLVER_H
#define DLITE_HOST_RESOLVER_H

#include <stddef.h>

#include "err.h"
#include "names.h"

/* macOS: "/etc/resolver/<domain>" (before dl_syspath()). 0 or -1. */
int dl_resolver_path(char *buf, size_t n, const char *domain, struct dl_err *e);
/* macOS resolver(5) file: a comment line, "nameserver ADDR", "port PORT".
 * malloc'd, NULL on error. */
char *dl_resolver_file(const char *domain, const char *addr, unsigned port, struct dl_err *e);

/*
 * Linux, systemd-resolved per-link DNS (systemd >= 246 for ADDR:PORT):
 *   resolvectl dns LINK ADDR:PORT        ([ADDR]:PORT for IPv6)
 *   resolvectl domain LINK ~DOMAIN
 * and to undo: resolvectl revert LINK.  NULL on error.
 */
char ***dl_resolved_cmds(const char *link, const char *addr, unsigned port, const char *domain,
			 struct dl_err *e);
char ***dl_resolved_revert_cmds(const char *link, struct dl_err *e);

/*
 * Linux fallback when systemd-resolved is not there: a dnsmasq snippet
 * ("server=/DOMAIN/ADDR#PORT"), for /etc/NetworkManager/dnsmasq.d/dlite.conf
 * (NetworkManager with dns=dnsmasq) or /etc/dnsmasq.d/dlite.conf; then
 * reload NetworkManager or dnsmasq.  malloc'd, NULL on error.
 */
char *dl_dnsmasq_snippet(const char *domain, const char *addr, unsigned port, struct dl_err *e);
#define DL_DNSMASQ_NM_PATH "/etc/NetworkManager/dnsmasq.d/dlite.conf"
#define DL_DNSMASQ_PATH "/etc/dnsmasq.d/dlite.conf"

#endif
