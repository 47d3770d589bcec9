/*
 * The engines beside QEMU, as the daemon drives them (macOS): the spec
 * fields and the channel that only hyperkit or vfkit need, the console copy
 * for hyperkit, and hyperkit's NFS export.  The argv builders themselves are
 * src/vm/hyperkit.c and vfkit.c.
 *
 *            channel                          console             share
 *   vfkit    unix RUN/agent.sock (vfkit       virtio-serial ->    virtiofs
 *            listens, forwards to guest       RUN/console.log
 *            vsock 5155)                      directly (hvc0)
 *   hyperkit unix RUN/vsock/connect +         com1 pty, its path  NFS from the
 *            "00000003.00001423\n" preamble   in RUN/console.pty; host (export
 *            (DL_CHAN_HYPERKIT)               copied into         written to
 *                                             RUN/console.log     /etc/exports)
 *
 * Network: vmnet shared mode (NAT).  The guest is configured statically
 * (HACKING.md, guest contract): bridge_addr/bridge_host from the config when
 * set, else DL_VMNET_GUEST_ADDR / DL_VMNET_GATEWAY, macOS's default vmnet
 * subnet (192.168.64.0/24, host 192.168.64.1; changed by
 * Shared_Net_Address in /Library/Preferences/SystemConfiguration/
 * com.apple.vmnet.plist, in which case set bridge_addr/bridge_host).  The
 * channel does not use the network at all, so a wrong address costs the
 * guest its outside access and the NFS share, not the channel.
 */
#ifndef DLITE_DAEMON_ENGINE_H
#define DLITE_DAEMON_ENGINE_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "err.h"
#include "paths.h"
#include "vm/vm.h"

struct event_base;
struct dl_chan_cfg;

#define DL_VMNET_GUEST_ADDR "192.168.64.2/24"
#define DL_VMNET_GATEWAY    "192.168.64.1"
#define DL_HYPERKIT_CID     3u	/* hyperkit.c passes guest_cid=3 */

/*
 * s->engine is hyperkit or vfkit; the caller filled the engine-neutral
 * fields (kernel, disks, cpus, share_path, ...).  Sets binary ($DLITE_HYPERKIT
 * or $DLITE_VFKIT, else the name on PATH), share_fs (+ nfs_host), the static
 * guest address and gateway (kept when bridged mode already set them), uuid
 * (hyperkit, derived from DLITE_HOME so that it is stable), and the channel.
 * Not on macOS: refused unless $DLITE_HYPERKIT/$DLITE_VFKIT names a stand-in.
 * Prepares RUN (removes the previous boot's sockets and console.pty, makes
 * RUN/vsock).  For hyperkit with a share on macOS, puts the export into
 * /etc/exports first (dl_nfs_export) and fails with its message.
 * Strings put into *s live until the next call.  0 or -1 with *e.
 */
int dl_engine_setup(const struct dl_paths *p, const struct dl_config *cfg, struct dl_vm_spec *s,
		    struct dl_chan_cfg *chan, struct dl_err *e);

/*
 * The engine process pid was just forked.  hyperkit: wait (100 ms polls)
 * for RUN/console.pty, open that pty (raw, no echo) and append what the
 * guest writes to RUN/console.log until the pty closes or pid is gone, so
 * that the accel probe, `dlite logs --console` and readiness see the console
 * as with QEMU.  Other engines: stops any previous copy, nothing else.
 */
void dl_engine_spawned(struct event_base *base, const struct dl_paths *p, enum dl_engine eng,
		       pid_t pid);
/* Stop the console copy (idempotent). */
void dl_engine_console_stop(void);

/* hyperkit's NFS export: src/lib/nfs.h */

#endif
