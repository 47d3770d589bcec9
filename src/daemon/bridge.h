/*
 * Bridged mode and the host's side of networking (issue 4, sections 3-4):
 *
 *   up      (before the VM is spawned, bridged mode, Linux, root):
 *           bridge dlite0 with bridge_host, tap dlite-tap0 (owned by the
 *           daemon's uid) enslaved to it, both up.  The VM spec gets the tap,
 *           the static address and the gateway; the channel goes straight to
 *           VM_ADDR:5155.
 *   routes  (whenever docker's networks change): `ip route replace SUBNET via
 *           VM_ADDR dev dlite0` for each IPv4 subnet, deletes for those gone.
 *   ready   (the VM answers): point the host's resolver at the DNS responder:
 *           systemd-resolved per-link DNS on dlite0 where resolvectl answers,
 *           otherwise DLITE_HOME/dnsmasq-dlite.conf and one log line; on macOS
 *           /etc/resolver/<domain>.
 *   down    (the VM is gone, or the daemon exits): routes, resolver, tap and
 *           bridge, only what we created (remembered in run/bridge.state so
 *           that a crashed daemon's leftovers are ours too).
 *
 * Commands are the pure lists of src/host/routes.h and resolver.h, run with
 * ip(8)/resolvectl(1): the same argv the golden tests check, one log line
 * per command, and what an admin would type to inspect or undo it.
 */
#ifndef DLITE_DAEMON_BRIDGE_H
#define DLITE_DAEMON_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"
#include "paths.h"

#define DL_BRIDGE_IF "dlite0"
#define DL_BRIDGE_TAP "dlite-tap0"

struct dl_bridge;
struct dl_vm_spec;
struct dl_chan_cfg;

/* Never NULL on success; in user mode every call below is (almost) a no-op. */
struct dl_bridge *dl_bridge_new(const struct dl_paths *paths, const struct dl_config *cfg,
				struct dl_err *e);
/* Bridged: create bridge and tap, then fill the spec (net, tap, guest
 * address, gateway, dlite.bridged=1) and the channel (VM_ADDR:5155). */
int dl_bridge_up(struct dl_bridge *b, struct dl_vm_spec *s, struct dl_chan_cfg *chan,
		 struct dl_err *e);
/* The VM is ready and the DNS responder listens on dns_port (0: none). */
void dl_bridge_ready(struct dl_bridge *b, unsigned dns_port);
/* Docker's current subnets (IPv4 and IPv6 CIDRs); routes follow them. */
void dl_bridge_routes(void *bridge, const char *const *subnets, size_t n);
/* Undo everything up/ready/routes did. Idempotent. */
void dl_bridge_down(struct dl_bridge *b);
/* Where the VM is reached: bridge_addr without prefix, or 127.0.0.1. */
const char *dl_bridge_vm_addr(const struct dl_bridge *b);
void dl_bridge_free(struct dl_bridge *b);

#endif
