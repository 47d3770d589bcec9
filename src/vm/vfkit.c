/*
 * vfkit argv (Virtualization.framework), per vfkit's doc/usage.md:
 * --bootloader linux,kernel=,initrd=,cmdline="..." (the kernel must be
 * uncompressed on arm64), virtio-blk root and data, virtio-net with NAT,
 * virtio-rng, virtio-fs share (tag dlite-share), the console on
 * virtio-serial into RUN/console.log (hvc0 in the guest), the REST API on
 * RUN/vfkit.sock (GET /vm/state, POST /vm/state {"state":"Stop"}).
 *
 * Channel: "--device virtio-vsock,port=5155,socketURL=RUN/agent.sock,connect"
 * makes vfkit listen on RUN/agent.sock and turn every connection into a
 * host-to-guest vsock connection to port 5155, where the agent listens.
 * (vfkit's "listen" mode is the other direction: guest to host.)
 *
 * vfkit splits --device values on commas without an escape: dl_vm_check()
 * refuses paths with commas, and the command line cannot hold '"' or ','
 * (dlite.* values are percent-encoded, so only cmdline_extra could).
 */
#include "vm_int.h"
#include "proto.h"

#include <stdlib.h>

int dl_vm_vfkit_argv(const struct dl_vm_spec *s, const char *cmdline, struct dl_av *a,
		     struct dl_err *e)
{
	char *agent = dl_vm_runpath(s, DL_VM_AGENT_SOCK), *con = dl_vm_runpath(s, DL_VM_CONSOLE_LOG);
	char *rest = dl_vm_runpath(s, DL_VM_VFKIT_SOCK);

	if (!agent || !con || !rest) {
		a->oom = true;
		goto out;
	}
	dl_av_add(a, s->binary ? s->binary : "vfkit");
	dl_av_add(a, "--cpus");
	dl_av_addf(a, "%u", s->cpus);
	dl_av_add(a, "--memory");
	dl_av_addf(a, "%u", s->mem_mib);
	dl_av_add(a, "--bootloader");
	dl_av_addf(a, "linux,kernel=%s,initrd=%s,cmdline=\"%s\"", s->kernel, s->initrd, cmdline);
	dl_av_add(a, "--device");
	dl_av_addf(a, "virtio-blk,path=%s", s->root_image);
	dl_av_add(a, "--device");
	dl_av_addf(a, "virtio-blk,path=%s", s->data_disk);
	dl_av_add(a, "--device");
	if (s->mac)
		dl_av_addf(a, "virtio-net,nat,mac=%s", s->mac);
	else
		dl_av_add(a, "virtio-net,nat");
	dl_av_add(a, "--device");
	dl_av_add(a, "virtio-rng");
	if (s->share_path && *s->share_path) {
		dl_av_add(a, "--device");
		dl_av_addf(a, "virtio-fs,sharedDir=%s,mountTag=" DL_VM_SHARE_TAG, s->share_path);
	}
	dl_av_add(a, "--device");
	dl_av_addf(a, "virtio-vsock,port=%u,socketURL=%s,connect", (unsigned)DL_AGENT_PORT, agent);
	dl_av_add(a, "--device");
	dl_av_addf(a, "virtio-serial,logFilePath=%s", con);
	dl_av_add(a, "--restful-uri");
	dl_av_addf(a, "unix://%s", rest);
out:
	free(agent);
	free(con);
	free(rest);
	(void)e;
	return 0;
}
