/* Building and forking the VM for the supervisor (see supervisor.h): the
 * per-boot token and initrd, the accelerator plan and memo, the share,
 * the argv from src/vm, and the fork. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "daemon/bridge.h"
#include "daemon/console.h"
#include "daemon/engine.h"
#include "daemon/log.h"
#include "daemon/proxy.h"
#include "daemon/pvh.h"
#include "daemon/resources.h"
#include "daemon/super.h"
#include "host/atomic.h"
#include "lib/private.h"
#include "lib/run.h"
#include "vm/virtiofsd.h"

static int write_token_and_initrd(struct dl_super *d, struct dl_err *e)
{
	uint8_t tok[DL_TOKEN_LEN];
	char hex[2 * DL_TOKEN_LEN + 2], src[1200];
	char *base = NULL;
	size_t baselen = 0, seglen = 0;

	if (getentropy(tok, sizeof(tok)) < 0)
		return dl_fail(e, errno, "cannot get random bytes for the channel token");
	for (int i = 0; i < DL_TOKEN_LEN; i++)
		sprintf(hex + 2 * i, "%02x", tok[i]);
	hex[2 * DL_TOKEN_LEN] = '\n';
	hex[2 * DL_TOKEN_LEN + 1] = '\0';
	if (dl_write_private(d->paths->token, hex, strlen(hex), e) < 0)
		return -1;
	memcpy(d->chan->token, tok, sizeof(tok));

	snprintf(src, sizeof(src), "%s/initrd", d->paths->os_dir);
	if (dl_read_file(src, &base, &baselen, 512u << 20, e) < 0)
		return -1;
	uint8_t *seg = dl_cpio_token(hex, strlen(hex), &seglen);
	/* the kernel wants each archive 4-byte aligned: pad the base */
	size_t pad = (4 - baselen % 4) % 4, total = baselen + pad + seglen;
	char *all = malloc(total);
	if (!seg || !all) {
		free(base), free(seg), free(all);
		return dl_fail(e, ENOMEM, "initrd");
	}
	memcpy(all, base, baselen);
	memset(all + baselen, 0, pad);
	memcpy(all + baselen + pad, seg, seglen);
	int r = dl_write_private(d->paths->initrd, all, total, e);
	free(base), free(seg), free(all);
	return r;
}

static int free_port(struct dl_err *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return dl_fail(e, err, "cannot find a free loopback port");
	}
	close(fd);
	return ntohs(sa.sin_port);
}

static void accel_host(struct dl_super *d, struct dl_accel_host *h, char sha[65])
{
	memset(h, 0, sizeof(*h));
#ifdef __APPLE__
	h->os = DL_HOST_MACOS;
	h->hvf_usable = true;
#else
	h->os = DL_HOST_LINUX;
	h->kvm_usable = access("/dev/kvm", R_OK | W_OK) == 0;
#endif
#if defined(__aarch64__)
	h->arch = DL_ARCH_AARCH64;
#else
	h->arch = DL_ARCH_X86_64;
#endif
	/* vmlinuz's sha256 from the manifest read by vm_spawn() (checked when
	 * the image was installed): hashing the file here would initialise
	 * OpenSSL's EVP providers in the daemon, ~2 MiB resident for good */
	if (d->manifest.kernel_sha256[0]) {
		snprintf(sha, 65, "%s", d->manifest.kernel_sha256);
		h->kernel_sha = sha;
	}
}

void dl_boot_accel_remember(struct dl_super *d, enum dl_accel a, bool ok)
{
	struct dl_accel_host h;
	struct dl_accel_memo m;
	char sha[65];

	accel_host(d, &h, sha);
	if (dl_accel_memo_set(&m, a, ok, &h, NULL) < 0)
		return;
	char *line = dl_accel_memo_format(&m);
	if (line)
		dl_atomic_write(d->paths->accel, line, strlen(line), 0600, NULL);
	free(line);
}

static int resolve_accel(struct dl_super *d, struct dl_err *e)
{
	struct dl_accel_host h;
	struct dl_accel_memo memo, *mp = NULL;
	struct dl_accel_plan plan;
	enum dl_accel want;
	char sha[65], *text = NULL;
	size_t len = 0;

	accel_host(d, &h, sha);
	if (dl_accel_parse(d->cfg->accel, &want) < 0)
		want = DL_ACCEL_AUTO;
	if (dl_read_file(d->paths->accel, &text, &len, 4096, NULL) == 0 &&
	    dl_accel_memo_parse(text, len, &memo, NULL) == 0 && dl_accel_memo_applies(&memo, &h))
		mp = &memo;
	free(text);
	if (dl_accel_plan(want, &h, mp, &plan, e) < 0)
		return -1;
	d->accel = plan.try[0];
	d->probing = plan.probe && plan.n > 1;
	d->fallback = plan.n > 1 ? plan.try[1] : plan.try[0];
	d->probe_seconds = plan.probe_seconds;
	return 0;
}

/* The host's TSC rate in kHz from /proc/cpuinfo (0 when unknown): TCG
 * guests on microvm need it to boot on a busy host. */
static unsigned host_tsc_khz(void)
{
	unsigned khz = 0;
#ifdef __linux__
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];
	double mhz;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1) {
			khz = (unsigned)(mhz * 1000.0);
			break;
		}
	if (f)
		fclose(f);
#endif
	return khz;
}

/* QEMU on Linux: virtiofs when a virtiofsd starts, else 9p (one log line
 * either way).  macOS's QEMU has no vhost-user memfd backend: 9p there. */
static void share_virtiofs(struct dl_super *d, struct dl_vm_spec *s)
{
#ifdef __linux__
	struct dl_err e = { 0 };

	if (dl_vfsd_start(&d->vfsd, d->paths, d->cfg->virtiofsd, s->share_path, &e) == 0) {
		s->share_fs = DL_SHARE_VIRTIOFS;
		s->virtiofsd_sock = d->vfsd.sock;
		dl_log(DL_LOG_INFO, "share: %s over virtiofs (%s, pid %d)", s->share_path,
		       d->vfsd.desc, (int)d->vfsd.pid);
		return;
	}
	dl_log(DL_LOG_INFO, "share: %s over 9p (virtiofs: %s)", s->share_path, e.msg);
#else
	(void)d;
	(void)s;
#endif
}

int dl_boot_spawn(struct dl_super *d, struct dl_err *e)
{
	char kernel[1200], root[1200], **argv = NULL;
	struct dl_vm_spec s = { 0 };
	int port;

	if (dl_manifest_read(d->paths->os_dir, &d->manifest, e) < 0)
		return -1;
	if (access(d->paths->disk, R_OK | W_OK) < 0)
		return dl_fail(e, errno, "data disk %s is missing; run `dlite rebuild`", d->paths->disk);
	if (dl_resources_prepare(d->paths, d->cfg, e) < 0) /* config set cpus|memory|disk */
		return -1;
	if (write_token_and_initrd(d, e) < 0)
		return -1;
	if ((port = free_port(e)) < 0)
		return -1;
	d->chan->addr_targets = 0; /* until this VM's agent says otherwise */
	d->chan->kind = DL_CHAN_TCP;
	snprintf(d->chan->host, sizeof(d->chan->host), "127.0.0.1");
	d->chan->port = (uint16_t)port;
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", d->paths->os_dir);
	snprintf(root, sizeof(root), "%s/root.erofs", d->paths->os_dir);
	if (resolve_accel(d, e) < 0)
		return -1;
	dl_engine_parse(d->cfg->engine, &s.engine);
#if defined(__aarch64__)
	s.arch = DL_ARCH_AARCH64;
#else
	s.arch = DL_ARCH_X86_64;
#endif
	s.accel = d->accel;
	/* QEMU on x86: boot the ELF vmlinux through PVH, without the kernel's
	 * self-decompression (1-1.5 s on TCG); vmlinuz when that cannot be. */
	if (s.engine == DL_ENGINE_QEMU && s.arch == DL_ARCH_X86_64) {
		struct dl_err pe = { 0 };
		if (dl_pvh_kernel(d->paths->os_dir, kernel, sizeof(kernel), &pe) < 0)
			dl_log(DL_LOG_WARN, "vm: booting vmlinuz, not its vmlinux (PVH): %s", pe.msg);
	}
	s.cpus = (unsigned)d->cfg->cpus;
	s.mem_mib = (unsigned)d->cfg->memory_gib * 1024u;
	s.binary = getenv("DLITE_QEMU");
	s.kernel = kernel;
	s.initrd = d->paths->initrd;
	s.root_image = root;
	s.data_disk = d->paths->disk;
	s.hostname = d->cfg->hostname;
	s.uid = (long)getuid();
	s.gid = (long)getgid();
	s.debug = getenv("DLITE_DEBUG") != NULL;
	s.tsc_khz = host_tsc_khz();
	s.tb_mib = dl_resources_tb_mib();
	if (d->cfg->share[0]) {
		s.share_path = d->cfg->share;
		s.share_fs = DL_SHARE_9P;
	}
	s.net = DL_NET_USER;
	s.agent_port = (uint16_t)port;
	s.run_dir = d->paths->run;
	if (dl_bridge_up(d->dep.bridge, &s, d->chan, e) < 0)
		return -1;
	/* hyperkit, vfkit: vmnet address, their share, vsock channel (engine.c) */
	if (s.engine != DL_ENGINE_QEMU && dl_engine_setup(d->paths, d->cfg, &s, d->chan, e) < 0) {
		dl_bridge_down(d->dep.bridge);
		return -1;
	}
	if (s.engine == DL_ENGINE_QEMU && s.share_path)
		share_virtiofs(d, &s);
	if (dl_vm_argv(&s, &argv, e) < 0) {
		dl_vfsd_stop(&d->vfsd);
		dl_bridge_down(d->dep.bridge);
		return -1;
	}
	d->share_fs = s.share_path ? s.share_fs : DL_SHARE_NONE;
	unlink(d->paths->console_log);
	dl_console_forget();
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		dl_argv_free(argv);
		dl_vfsd_stop(&d->vfsd);
		dl_bridge_down(d->dep.bridge);
		return dl_fail(e, err, "fork");
	}
	if (pid == 0) {
		/* its own session, and no death signal: a daemon crash (or ^C on
		 * `dlite daemon`) must not take the VM with it; the next daemon
		 * adopts it (adopt.c).  stdout/stderr: daemon.log, a file */
		setsid();
		int log = open(d->paths->daemon_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		dl_child_setup(log, 0);
		dl_bridge_child(d->dep.bridge); /* bridged: QEMU inherits the tap */
		execvp(argv[0], argv);
		fprintf(stderr, "dlite: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	char chan[128];
	dl_log(DL_LOG_INFO, "vm: started %s (pid %d, accel %s%s, channel %s)", argv[0], (int)pid,
	       dl_accel_name(d->accel), d->probing ? ", probing" : "",
	       dl_chan_cfg_str(d->chan, chan, sizeof(chan)));
	dl_argv_free(argv);
	dl_bridge_spawned(d->dep.bridge); /* QEMU has the tap */
	dl_engine_spawned(d->base, d->paths, s.engine, pid); /* hyperkit: console pty copy */
	d->vm_pid = pid;
	d->adopted = false;
	d->engine = s.engine;
	d->t_start = dl_now();
	d->state = ST_STARTING;
	dl_adopt_record(d);
	if (d->dep.proxy)
		dl_proxy_chan_changed(d->dep.proxy);
	return 0;
}

bool dl_boot_console_reached_agent(const struct dl_super *d)
{
	return dl_console_reached(d->paths->console_log); /* new bytes only */
}

