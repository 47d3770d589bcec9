/*
 * hyperkit argv, xhyve-compatible as the original dlite used it: ACPI, RTC
 * in UTC, hostbridge + LPC, com1, virtio-net on vmnet (its MAC, hence the
 * DHCP lease, keyed on -U UUID), virtio-blk root (read-only) and data,
 * virtio-rnd, virtio-sock, kexec boot.
 *
 * Console: com1 goes to a pty whose path hyperkit writes into
 * RUN/console.pty (the daemon reads it and appends the text to
 * console.log) and to RUN/console.ring, hyperkit's mmap'd ring log kept
 * for post-mortems.  Channel: the host reaches guest vsock port 5155 by
 * connecting to RUN/vsock/connect and writing "00000003.00001423\n".
 * Share: NFS from the host (dlite.sharefs=nfs dlite.nfs=HOST:PATH).
 *
 * hyperkit splits its option strings on commas without an escape, so
 * dl_vm_check() refuses paths with commas; the kernel command line is the
 * rest of the -f string after the third comma and may contain anything.
 */
#include "vm_int.h"

#include <stdlib.h>

#define HYPERKIT_GUEST_CID 3

int dl_vm_hyperkit_argv(const struct dl_vm_spec *s, const char *cmdline, struct dl_av *a,
			struct dl_err *e)
{
	char *pty = dl_vm_runpath(s, DL_VM_CONSOLE_PTY), *ring = dl_vm_runpath(s, DL_VM_CONSOLE_RING);
	char *pid = dl_vm_runpath(s, DL_VM_PIDFILE), *vsock = dl_vm_runpath(s, DL_VM_VSOCK_DIR);

	if (!pty || !ring || !pid || !vsock) {
		a->oom = true;
		goto out;
	}
	dl_av_add(a, s->binary ? s->binary : "hyperkit");
	dl_av_add(a, "-A");
	dl_av_add(a, "-u");
	dl_av_add(a, "-F");
	dl_av_add(a, pid);
	dl_av_add(a, "-c");
	dl_av_addf(a, "%u", s->cpus);
	dl_av_add(a, "-m");
	dl_av_addf(a, "%uM", s->mem_mib);
	dl_av_add(a, "-s");
	dl_av_add(a, "0:0,hostbridge");
	dl_av_add(a, "-s");
	dl_av_add(a, "31,lpc");
	dl_av_add(a, "-l");
	dl_av_addf(a, "com1,autopty=%s,log=%s", pty, ring);
	dl_av_add(a, "-s");
	dl_av_add(a, "2:0,virtio-net");
	dl_av_add(a, "-s");
	dl_av_addf(a, "3,virtio-blk,%s,ro", s->root_image);
	dl_av_add(a, "-s");
	dl_av_addf(a, "4,virtio-blk,%s", s->data_disk);
	dl_av_add(a, "-s");
	dl_av_add(a, "5,virtio-rnd");
	dl_av_add(a, "-s");
	dl_av_addf(a, "6,virtio-sock,guest_cid=%d,path=%s", HYPERKIT_GUEST_CID, vsock);
	dl_av_add(a, "-U");
	dl_av_add(a, s->uuid);
	dl_av_add(a, "-f");
	dl_av_addf(a, "kexec,%s,%s,%s", s->kernel, s->initrd, cmdline);
out:
	free(pty);
	free(ring);
	free(pid);
	free(vsock);
	(void)e;
	return 0;
}
