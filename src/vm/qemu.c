/*
 * QEMU argv.  x86_64: the microvm machine (no PCI, no firmware ROMs, ISA
 * serial, CMOS RTC, ACPI for a clean system_powerdown) with virtio-mmio
 * devices; aarch64: -M virt with the same virtio-mmio devices.  Direct
 * kernel boot, serial console into RUN/console.log (truncated per boot),
 * QMP on RUN/qmp.sock, pid in RUN/vm.pid, -no-reboot so that a guest
 * reboot or panic ends the process (the daemon restarts it).
 *
 * Option values that are QEMU "key=value,..." strings get their commas
 * doubled, QEMU's escape; plain arguments (-kernel, -pidfile) are taken
 * verbatim.  Spaces need nothing: this is an argv, not a shell line.
 *
 * Giving back: virtio-balloon with free-page-reporting returns the pages
 * the guest frees; on TCG, tb-size caps the translation cache (QEMU's
 * default buffer is 1 GiB and stays resident once filled); the data
 * drive passes the guest's discards (its FITRIM) through as holes.
 */
#include "vm_int.h"
#include "proto.h"

#include <stdlib.h>
#include <string.h>

/* Double every comma (QEMU option escaping); malloc'd. */
static char *qesc(const char *s)
{
	size_t n = strlen(s), extra = 0;
	for (const char *p = s; *p; p++)
		extra += *p == ',';
	char *d = malloc(n + extra + 1), *q = d;
	if (!d)
		return NULL;
	for (const char *p = s; *p; p++) {
		*q++ = *p;
		if (*p == ',')
			*q++ = ',';
	}
	*q = '\0';
	return d;
}

static const char *accel_opt(enum dl_accel a)
{
	switch (a) {
	case DL_ACCEL_KVM:
		return "kvm";
	case DL_ACCEL_HVF:
		return "hvf";
	default:
		return "tcg";
	}
}

int dl_vm_qemu_argv(const struct dl_vm_spec *s, const char *cmdline, struct dl_av *a,
		    struct dl_err *e)
{
	bool x86 = s->arch == DL_ARCH_X86_64;
	bool vfs = s->share_path && *s->share_path && s->share_fs == DL_SHARE_VIRTIOFS;
	bool p9 = s->share_path && *s->share_path && s->share_fs == DL_SHARE_9P;
	char *con = dl_vm_runpath(s, DL_VM_CONSOLE_LOG), *qmp = dl_vm_runpath(s, DL_VM_QMP_SOCK);
	char *pid = dl_vm_runpath(s, DL_VM_PIDFILE);
	char *con_e = con ? qesc(con) : NULL, *qmp_e = qmp ? qesc(qmp) : NULL;
	char *root_e = qesc(s->root_image), *data_e = qesc(s->data_disk);
	char *share_e = p9 ? qesc(s->share_path) : NULL;
	char *vfs_e = vfs ? qesc(s->virtiofsd_sock) : NULL;

	if (!con_e || !qmp_e || !pid || !root_e || !data_e || (p9 && !share_e) || (vfs && !vfs_e)) {
		a->oom = true;
		goto out;
	}

	dl_av_add(a, s->binary ? s->binary : x86 ? "qemu-system-x86_64" : "qemu-system-aarch64");
	dl_av_add(a, "-name");
	dl_av_add(a, "dlite");
	dl_av_add(a, "-M");
	dl_av_addf(a, "%s%s", x86 ? "microvm,x-option-roms=off,isa-serial=on,rtc=on,acpi=on,pit=on,pic=on,pcie=off"
				  : "virt",
		   vfs ? ",memory-backend=mem" : "");
	dl_av_add(a, "-accel");
	if (s->accel == DL_ACCEL_TCG && s->tb_mib)
		dl_av_addf(a, "tcg,tb-size=%u", s->tb_mib);
	else
		dl_av_add(a, accel_opt(s->accel));
	dl_av_add(a, "-cpu");
	dl_av_add(a, s->accel == DL_ACCEL_TCG ? "max" : "host");
	dl_av_add(a, "-smp");
	dl_av_addf(a, "%u", s->cpus);
	dl_av_add(a, "-m");
	dl_av_addf(a, "%uM", s->mem_mib);
	if (vfs) {
		/* vhost-user needs guest RAM the backend can map */
		dl_av_add(a, "-object");
		dl_av_addf(a, "memory-backend-memfd,id=mem,size=%uM,share=on", s->mem_mib);
	}
	dl_av_add(a, "-nodefaults");
	dl_av_add(a, "-no-user-config");
	dl_av_add(a, "-nographic");
	dl_av_add(a, "-no-reboot");
	dl_av_add(a, "-kernel");
	dl_av_add(a, s->kernel);
	dl_av_add(a, "-initrd");
	dl_av_add(a, s->initrd);
	dl_av_add(a, "-append");
	dl_av_add(a, cmdline);

	dl_av_add(a, "-chardev");
	/* append: the daemon truncates it past a size (daemon/console.h) */
	dl_av_addf(a, "file,id=con,path=%s,append=on", con_e);
	dl_av_add(a, "-serial");
	dl_av_add(a, "chardev:con");
	dl_av_add(a, "-qmp");
	dl_av_addf(a, "unix:%s,server=on,wait=off", qmp_e);
	dl_av_add(a, "-pidfile");
	dl_av_add(a, pid);
	if (s->uuid) {
		dl_av_add(a, "-uuid");
		dl_av_add(a, s->uuid);
	}

	/* Disks: the agent tells them apart by content, the order is cosmetic. */
	dl_av_add(a, "-drive");
	dl_av_addf(a, "if=none,id=root,file=%s,format=raw,readonly=on,cache=writeback,aio=threads",
		   root_e);
	dl_av_add(a, "-device");
	dl_av_add(a, "virtio-blk-device,drive=root");
	dl_av_add(a, "-drive");
	dl_av_addf(a,
		   "if=none,id=data,file=%s,format=raw,cache=writeback,aio=threads,"
		   "discard=unmap,detect-zeroes=unmap",
		   data_e);
	dl_av_add(a, "-device");
	dl_av_add(a, "virtio-blk-device,drive=data");

	dl_av_add(a, "-netdev");
	if (s->net == DL_NET_USER)
		dl_av_addf(a, "user,id=n0,hostfwd=tcp:127.0.0.1:%u-10.0.2.15:%u",
			   (unsigned)s->agent_port, (unsigned)DL_AGENT_PORT);
	else if (s->tap_fd > 0) /* opened by the privileged helper, inherited */
		dl_av_addf(a, "tap,id=n0,fd=%d", s->tap_fd);
	else
		dl_av_addf(a, "tap,id=n0,ifname=%s,script=no,downscript=no", s->tap);
	dl_av_add(a, "-device");
	if (s->mac)
		dl_av_addf(a, "virtio-net-device,netdev=n0,mac=%s", s->mac);
	else
		dl_av_add(a, "virtio-net-device,netdev=n0");

	dl_av_add(a, "-object");
	dl_av_add(a, "rng-random,id=rng0,filename=/dev/urandom");
	dl_av_add(a, "-device");
	dl_av_add(a, "virtio-rng-device,rng=rng0");
	/* Free page reporting (QEMU >= 5.1): the guest reports freed 2 MiB+
	 * blocks and QEMU discards them, so the host gets the memory back. */
	dl_av_add(a, "-device");
	dl_av_add(a, "virtio-balloon-device,free-page-reporting=on");

	if (p9) {
		dl_av_add(a, "-fsdev");
		dl_av_addf(a, "local,id=s0,path=%s,security_model=none,multidevs=remap", share_e);
		dl_av_add(a, "-device");
		dl_av_add(a, "virtio-9p-device,fsdev=s0,mount_tag=" DL_VM_SHARE_TAG);
	} else if (vfs) {
		dl_av_add(a, "-chardev");
		dl_av_addf(a, "socket,id=vfs,path=%s", vfs_e);
		dl_av_add(a, "-device");
		dl_av_add(a, "vhost-user-fs-device,chardev=vfs,tag=" DL_VM_SHARE_TAG);
	}
	if (s->vsock_cid) {
		dl_av_add(a, "-device");
		dl_av_addf(a, "vhost-vsock-device,guest-cid=%u", s->vsock_cid);
	}
out:
	free(con);
	free(qmp);
	free(pid);
	free(con_e);
	free(qmp_e);
	free(root_e);
	free(data_e);
	free(share_e);
	free(vfs_e);
	(void)e;
	return 0;
}
