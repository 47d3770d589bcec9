/*
 * VM engine command lines: pure builders, golden-tested (tests/golden/vm/).
 *
 * A struct dl_vm_spec describes one boot; dl_vm_argv() turns it into the
 * argv of qemu-system-*, hyperkit or vfkit, and dl_vm_cmdline() into the
 * guest kernel command line (HACKING.md, "The guest contract").  Nothing
 * here touches the system: no stat(), no getenv(), no probing.  The caller
 * resolves accel (see accel.h) before building the argv.
 *
 * The token is never in any argv: it lives in the per-boot initrd file.
 *
 * Values of dlite.* kernel parameters are percent-encoded: every byte
 * outside [A-Za-z0-9/._~:@+_-] becomes %XX (so "/Users/J Doe" is
 * "dlite.share=/Users/J%20Doe").  The agent percent-decodes them.
 */
#ifndef DLITE_VM_H
#define DLITE_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

enum dl_engine { DL_ENGINE_QEMU = 0, DL_ENGINE_HYPERKIT, DL_ENGINE_VFKIT };
enum dl_arch { DL_ARCH_X86_64 = 0, DL_ARCH_AARCH64 };
enum dl_accel { DL_ACCEL_AUTO = 0, DL_ACCEL_KVM, DL_ACCEL_HVF, DL_ACCEL_TCG };
enum dl_sharefs { DL_SHARE_NONE = 0, DL_SHARE_9P, DL_SHARE_VIRTIOFS, DL_SHARE_NFS };
enum dl_netmode { DL_NET_USER = 0, DL_NET_BRIDGED };

#define DL_VM_MIN_MEM_MIB   256u
#define DL_VM_MAX_MEM_MIB   (1024u * 1024u)	/* 1 TiB */
#define DL_VM_MAX_CPUS      256u
#define DL_VM_SHARE_TAG     "dlite-share"
/* QEMU user networking (slirp) addresses, fixed by the guest contract. */
#define DL_VM_USER_IP       "10.0.2.15/24"
#define DL_VM_USER_GW       "10.0.2.2"
#define DL_VM_USER_DNS      "10.0.2.3"

struct dl_vm_spec {
	enum dl_engine engine;
	enum dl_arch arch;		/* host arch; the guest is the same */
	enum dl_accel accel;		/* qemu: KVM, HVF or TCG (never AUTO) */
	unsigned cpus;			/* 1..DL_VM_MAX_CPUS */
	unsigned mem_mib;		/* DL_VM_MIN_MEM_MIB..DL_VM_MAX_MEM_MIB */
	const char *binary;		/* argv[0]; NULL: qemu-system-<arch>, hyperkit, vfkit */

	const char *kernel;		/* required */
	const char *initrd;		/* required: per-boot initrd (base + token segment) */
	const char *root_image;		/* required: root.erofs, attached read-only */
	const char *data_disk;		/* required: raw, sparse */

	const char *hostname;		/* dlite.hostname, e.g. "local.docker"; NULL: omit */
	const char *cmdline_extra;	/* appended verbatim (space separated); NULL: none */
	long uid, gid;			/* dlite.uid/gid; < 0: omit */
	bool debug;			/* dlite.debug=1 and no "quiet" */
	unsigned tsc_khz;		/* TCG: the host TSC rate for tsc_early_khz; 0: omit */
	unsigned tb_mib;		/* qemu TCG: translation cache (tb-size) in MiB; 0: QEMU's */

	/* Share: the host folder, mounted in the guest at the same path. */
	const char *share_path;		/* NULL: no share (sharefs ignored) */
	enum dl_sharefs share_fs;	/* qemu: 9p|virtiofs; hyperkit: nfs; vfkit: virtiofs */
	const char *virtiofsd_sock;	/* qemu + virtiofs: vhost-user socket of virtiofsd */
	const char *nfs_host;		/* hyperkit: host address as seen by the guest */

	/* Network. User mode (qemu only): slirp, 10.0.2.15, agent via hostfwd.
	 * Bridged: qemu on a tap; hyperkit/vfkit always use vmnet/NAT and
	 * need guest_addr/guest_gw (the guest is configured statically). */
	enum dl_netmode net;
	uint16_t agent_port;		/* user mode: hostfwd 127.0.0.1:PORT -> guest :5155 */
	const char *tap;		/* qemu bridged: tap interface name */
	int tap_fd;			/* qemu bridged: > 0: the tap's fd, inherited by QEMU */
	const char *guest_addr;		/* bridged/hyperkit/vfkit: "192.168.64.2/24" */
	const char *guest_gw;		/* idem: "192.168.64.1" */
	const char *guest_dns;		/* NULL: guest_gw */
	const char *mac;		/* optional "52:54:00:xx:xx:xx" */
	unsigned vsock_cid;		/* qemu: vhost-vsock-device guest-cid; 0: none */

	const char *run_dir;		/* required: console.log, qmp.sock, vm.pid, vsock/, ... */
	const char *uuid;		/* hyperkit (required; vmnet keys the MAC on it); qemu -uuid */
};

/* Build the engine argv (NULL-terminated, every string malloc'd; free with
 * dl_argv_free).  Returns 0, or < 0 with *e filled and *argv_out NULL. */
int dl_vm_argv(const struct dl_vm_spec *s, char ***argv_out, struct dl_err *e);
void dl_argv_free(char **argv);

/* The guest kernel command line per the contract; malloc'd.  NULL on an
 * invalid spec (dl_vm_check gives the reason) or out of memory. */
char *dl_vm_cmdline(const struct dl_vm_spec *s);
/* Validate a spec (what dl_vm_argv validates first). */
int dl_vm_check(const struct dl_vm_spec *s, struct dl_err *e);

/* Fixed file names inside run_dir. */
#define DL_VM_CONSOLE_LOG   "console.log"	/* qemu, vfkit: serial console text */
#define DL_VM_CONSOLE_PTY   "console.pty"	/* hyperkit: file holding the pty path */
#define DL_VM_CONSOLE_RING  "console.ring"	/* hyperkit: mmap'd ring log of com1 */
#define DL_VM_QMP_SOCK      "qmp.sock"		/* qemu */
#define DL_VM_PIDFILE       "vm.pid"		/* qemu, hyperkit */
#define DL_VM_VSOCK_DIR     "vsock"		/* hyperkit: connect to vsock/connect */
#define DL_VM_AGENT_SOCK    "agent.sock"	/* vfkit: unix socket -> guest vsock 5155 */
#define DL_VM_VFKIT_SOCK    "vfkit.sock"	/* vfkit REST API */

const char *dl_engine_name(enum dl_engine e);
const char *dl_arch_name(enum dl_arch a);
const char *dl_sharefs_name(enum dl_sharefs f);
int dl_engine_parse(const char *s, enum dl_engine *out);
int dl_sharefs_parse(const char *s, enum dl_sharefs *out);

#endif
