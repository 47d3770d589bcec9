/* Validation of host names and numeric addresses (pure): used by the
 * config and by the hosts-file editor. */
#ifndef DLITE_CORE_NAMES_H
#define DLITE_CORE_NAMES_H

#include "err.h"

/* RFC 1123 host name: dot-separated labels of 1-63 letters, digits and
 * hyphens, not starting or ending with a hyphen, 253 characters at most. */
int dl_hostname_valid(const char *hostname);
/* A numeric IPv4 or IPv6 address (inet_pton). */
int dl_addr_valid(const char *addr);
/* The same, with a message for the user; 0 or -1. */
int dl_hostname_check(const char *hostname, struct dl_err *e);
int dl_addr_check(const char *addr, struct dl_err *e);

#endif
