/*
 * Seamless routing: reach docker's container networks from the host through
 * the VM.  Pure: subnets in, command lists (see cmd.h) out; the caller runs
 * them (as root), adds on start and deletes on stop.
 */
#ifndef DLITE_HOST_ROUTES_H
#define DLITE_HOST_ROUTES_H

#include <stddef.h>

#include "err.h"

struct dl_cidr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network address, network byte order */
	unsigned prefix;	/* 0-32 or 0-128 */
};

/* "172.17.0.0/16", "fd00:d0c::/64": the address must be the network address
 * (no host bits set).  0 or -1 (the message suggests the right network). */
int dl_cidr_parse(const char *s, struct dl_cidr *out, struct dl_err *e);
int dl_cidr_valid(const char *s);
/* Interface names as both systems allow them: 1-15 characters, no blanks,
 * '/', ':' or leading '-'. */
int dl_ifname_valid(const char *name);

/*
 * macOS.  Add, for each subnet:
 *   /sbin/route -n add [-inet6] -net SUBNET VM_ADDR
 * then, when bridge and member are given (both or neither):
 *   /sbin/ifconfig BRIDGE -hostfilter MEMBER
 * Delete: /sbin/route -n delete [-inet6] -net SUBNET for each, then
 *   /sbin/ifconfig BRIDGE hostfilter MEMBER (turns the filter back on).
 * Subnets of the other family than vm_addr are an error.  NULL on error.
 */
char ***dl_routes_macos_add(const char *const *subnets, size_t n, const char *vm_addr,
			    const char *bridge, const char *member, struct dl_err *e);
char ***dl_routes_macos_del(const char *const *subnets, size_t n, const char *bridge,
			    const char *member, struct dl_err *e);

/*
 * Linux:  ip route replace SUBNET via VM_ADDR dev DEV     (dev optional)
 *         ip route del SUBNET via VM_ADDR
 * NULL on error.
 */
char ***dl_routes_linux_add(const char *const *subnets, size_t n, const char *vm_addr,
			    const char *dev, struct dl_err *e);
char ***dl_routes_linux_del(const char *const *subnets, size_t n, const char *vm_addr,
			    struct dl_err *e);

#endif
