/*
 * Bridged mode and the host's side of networking (issue 4, sections 3-4):
 *
 * The daemon runs as the user; each step below is a request to the
 * privileged helper (src/daemon/privd.c, protocol in src/host/privreq.h),
 * which re-validates it and runs ip(8)/resolvectl(1) as root.
 *   up      (before the VM is spawned, bridged mode, Linux): bridge dlite0
 *           with bridge_host, tap dlite-tap0 (owned by the user) on it; the
 *           tap's fd comes back and QEMU inherits it (the tap goes away with
 *           QEMU).  The VM spec gets the fd, the static address and the
 *           gateway; the channel goes straight to VM_ADDR:5155.
 *   routes  (whenever docker's networks change): route-add SUBNET VM_ADDR for
 *           each IPv4 subnet (the helper refuses what is not private or
 *           overlaps the host's routes: logged), route-del for those gone.
 *   ready   (the VM answers): point the host's resolver at the DNS responder:
 *           systemd-resolved per-link DNS on dlite0 (or /etc/resolver/<domain>
 *           on macOS) through the helper; otherwise DLITE_HOME/dnsmasq-dlite.conf
 *           and one log line.
 *   down    (the VM is gone, or the daemon exits): resolver, routes, bridge.
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
/* In the forked child before exec of QEMU: the tap's fd stays open across
 * exec.  In the parent after the fork: our copy is closed. */
void dl_bridge_child(const struct dl_bridge *b);
void dl_bridge_spawned(struct dl_bridge *b);
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
