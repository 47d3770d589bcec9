/* Spec validation, the kernel command line and the argv plumbing shared by
 * the engine builders (qemu.c, hyperkit.c, vfkit.c). */
#include "vm_int.h"
#include "core/cmdline.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMDLINE_MAX 2047 /* COMMAND_LINE_SIZE is 2048 on x86 and arm64 */

/* ---- argv ---------------------------------------------------------------- */

void dl_av_add(struct dl_av *a, const char *s)
{
	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		char **v = realloc(a->v, cap * sizeof(*v));
		if (!v) {
			a->oom = true;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	char *d = strdup(s);
	if (!d) {
		a->oom = true;
		return;
	}
	a->v[a->n++] = d;
	a->v[a->n] = NULL;
}

void dl_av_addf(struct dl_av *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		a->oom = true;
		return;
	}
	dl_av_add(a, s);
	free(s);
}

char **dl_av_finish(struct dl_av *a)
{
	char **v = a->v;

	if (a->oom || !v) {
		dl_argv_free(v);
		v = NULL;
	}
	a->v = NULL;
	a->n = a->cap = 0;
	return v;
}

void dl_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

char *dl_vm_runpath(const struct dl_vm_spec *s, const char *name)
{
	char *p = NULL;
	size_t n = strlen(s->run_dir);

	while (n > 1 && s->run_dir[n - 1] == '/')
		n--;
	if (asprintf(&p, "%.*s/%s", (int)n, s->run_dir, name) < 0)
		return NULL;
	return p;
}

/* ---- names --------------------------------------------------------------- */

static const char *const engine_names[] = { "qemu", "hyperkit", "vfkit" };
static const char *const sharefs_names[] = { "none", "9p", "virtiofs", "nfs" };

const char *dl_engine_name(enum dl_engine e)
{
	return (unsigned)e < 3 ? engine_names[e] : "?";
}

const char *dl_arch_name(enum dl_arch a)
{
	return a == DL_ARCH_AARCH64 ? "aarch64" : "x86_64";
}

const char *dl_sharefs_name(enum dl_sharefs f)
{
	return (unsigned)f < 4 ? sharefs_names[f] : "?";
}

int dl_engine_parse(const char *s, enum dl_engine *out)
{
	for (unsigned i = 0; i < 3; i++)
		if (s && strcmp(s, engine_names[i]) == 0) {
			*out = (enum dl_engine)i;
			return 0;
		}
	return -1;
}

int dl_sharefs_parse(const char *s, enum dl_sharefs *out)
{
	for (unsigned i = 0; i < 4; i++)
		if (s && strcmp(s, sharefs_names[i]) == 0) {
			*out = (enum dl_sharefs)i;
			return 0;
		}
	return -1;
}

/* ---- validation ---------------------------------------------------------- */

static bool has_ctrl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int check_path(const char *what, const char *p, bool required, bool no_comma,
		      const struct dl_vm_spec *s, struct dl_err *e)
{
	if (!p || !*p) {
		if (required)
			return dl_fail(e, 0, "vm: missing %s path", what);
		return 0;
	}
	if (p[0] != '/')
		return dl_fail(e, 0, "vm: %s path must be absolute: %s", what, p);
	if (has_ctrl(p))
		return dl_fail(e, 0, "vm: %s path contains a control character", what);
	if (no_comma && strchr(p, ','))
		return dl_fail(e, 0, "vm: %s cannot take a path with a comma (%s): %s",
			       dl_engine_name(s->engine), what, p);
	return 0;
}

static bool valid_hostname(const char *h)
{
	size_t n = strlen(h), lab = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = h[i];
		if (c == '.' || c == '\0') {
			if (lab == 0 || lab > 63 || h[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (!(isalnum((unsigned char)c) || (c == '-' && lab > 0)))
			return false;
		lab++;
	}
	return true;
}

static bool valid_mac(const char *m)
{
	if (strlen(m) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? m[i] != ':' : !isxdigit((unsigned char)m[i]))
			return false;
	}
	return true;
}

static bool valid_uuid(const char *u)
{
	if (strlen(u) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)u[i])) {
			return false;
		}
	}
	return true;
}

static bool valid_ip(const char *a)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1;
}

static bool valid_cidr(const char *a)
{
	char ip[64];
	const char *sl = strchr(a, '/');
	char *end;

	if (!sl || (size_t)(sl - a) >= sizeof(ip))
		return false;
	memcpy(ip, a, (size_t)(sl - a));
	ip[sl - a] = '\0';
	unsigned char buf[16];
	int v4 = inet_pton(AF_INET, ip, buf) == 1;
	if (!v4 && inet_pton(AF_INET6, ip, buf) != 1)
		return false;
	if (!isdigit((unsigned char)sl[1]))
		return false;
	errno = 0;
	long pl = strtol(sl + 1, &end, 10);
	return !errno && *end == '\0' && pl >= 0 && pl <= (v4 ? 32 : 128);
}

static bool valid_ifname(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 15)
		return false;
	for (; *t; t++)
		if (!(isalnum((unsigned char)*t) || *t == '-' || *t == '_' || *t == '.'))
			return false;
	return true;
}

int dl_vm_check(const struct dl_vm_spec *s, struct dl_err *e)
{
	if (!s)
		return dl_fail(e, 0, "vm: no spec");
	if ((unsigned)s->engine > DL_ENGINE_VFKIT)
		return dl_fail(e, 0, "vm: unknown engine %d", (int)s->engine);
	if ((unsigned)s->arch > DL_ARCH_AARCH64)
		return dl_fail(e, 0, "vm: unknown architecture %d", (int)s->arch);
	if (s->cpus == 0 || s->cpus > DL_VM_MAX_CPUS)
		return dl_fail(e, 0, "vm: cpus must be between 1 and %u (got %u)", DL_VM_MAX_CPUS,
			       s->cpus);
	if (s->engine == DL_ENGINE_HYPERKIT && s->cpus > 16)
		return dl_fail(e, 0, "vm: hyperkit supports at most 16 cpus (got %u)", s->cpus);
	if (s->mem_mib < DL_VM_MIN_MEM_MIB)
		return dl_fail(e, 0, "vm: memory too small: %u MiB (at least %u MiB)", s->mem_mib,
			       DL_VM_MIN_MEM_MIB);
	if (s->mem_mib > DL_VM_MAX_MEM_MIB)
		return dl_fail(e, 0, "vm: memory too large: %u MiB (at most %u MiB)", s->mem_mib,
			       DL_VM_MAX_MEM_MIB);

	bool nc = s->engine != DL_ENGINE_QEMU; /* qemu escapes commas, the others cannot */
	if (check_path("kernel", s->kernel, true, nc, s, e) < 0 ||
	    check_path("initrd", s->initrd, true, nc, s, e) < 0 ||
	    check_path("root image", s->root_image, true, nc, s, e) < 0 ||
	    check_path("data disk", s->data_disk, true, nc, s, e) < 0 ||
	    check_path("run dir", s->run_dir, true, nc, s, e) < 0 ||
	    check_path("share", s->share_path, false, nc, s, e) < 0 ||
	    check_path("virtiofsd socket", s->virtiofsd_sock, false, false, s, e) < 0)
		return -1;
	if (s->binary && (!*s->binary || has_ctrl(s->binary)))
		return dl_fail(e, 0, "vm: bad engine binary name");
	if (s->hostname && !valid_hostname(s->hostname))
		return dl_fail(e, 0, "vm: invalid hostname: %s", s->hostname);
	if (s->cmdline_extra && has_ctrl(s->cmdline_extra))
		return dl_fail(e, 0, "vm: kernel command line extras contain a control character");
	if (s->mac && !valid_mac(s->mac))
		return dl_fail(e, 0, "vm: invalid MAC address: %s", s->mac);
	if (s->uuid && !valid_uuid(s->uuid))
		return dl_fail(e, 0, "vm: invalid UUID: %s", s->uuid);
	if (s->uid > 0xfffffffeL || s->gid > 0xfffffffeL)
		return dl_fail(e, 0, "vm: uid/gid out of range");

	bool share = s->share_path && *s->share_path;
	if (share && s->share_fs == DL_SHARE_NONE)
		return dl_fail(e, 0, "vm: share %s given without a share filesystem", s->share_path);

	bool static_net = s->engine != DL_ENGINE_QEMU || s->net == DL_NET_BRIDGED;
	if (static_net) {
		if (!s->guest_addr || !valid_cidr(s->guest_addr))
			return dl_fail(e, 0, "vm: %s networking needs the guest address as ADDR/PREFIX (got %s)",
				       s->engine == DL_ENGINE_QEMU ? "bridged" : dl_engine_name(s->engine),
				       s->guest_addr ? s->guest_addr : "none");
		if (!s->guest_gw || !valid_ip(s->guest_gw))
			return dl_fail(e, 0, "vm: invalid or missing guest gateway: %s",
				       s->guest_gw ? s->guest_gw : "none");
		if (s->guest_dns && !valid_ip(s->guest_dns))
			return dl_fail(e, 0, "vm: invalid guest DNS address: %s", s->guest_dns);
	}

	switch (s->engine) {
	case DL_ENGINE_QEMU:
		if (s->accel != DL_ACCEL_KVM && s->accel != DL_ACCEL_HVF && s->accel != DL_ACCEL_TCG)
			return dl_fail(e, 0, "vm: qemu needs a resolved accelerator (kvm, hvf or tcg)");
		if (s->net == DL_NET_USER && s->agent_port == 0)
			return dl_fail(e, 0, "vm: user networking needs the agent host port");
		if (s->net == DL_NET_BRIDGED && (!s->tap || !valid_ifname(s->tap)))
			return dl_fail(e, 0, "vm: bridged networking needs a tap interface name (got %s)",
				       s->tap ? s->tap : "none");
		if ((unsigned)s->net > DL_NET_BRIDGED)
			return dl_fail(e, 0, "vm: unknown network mode");
		if (share && s->share_fs != DL_SHARE_9P && s->share_fs != DL_SHARE_VIRTIOFS)
			return dl_fail(e, 0, "vm: qemu shares with 9p or virtiofs, not %s",
				       dl_sharefs_name(s->share_fs));
		if (share && s->share_fs == DL_SHARE_VIRTIOFS) {
			if (!s->virtiofsd_sock || !*s->virtiofsd_sock)
				return dl_fail(e, 0, "vm: virtiofs needs the virtiofsd socket path");
			if (s->accel == DL_ACCEL_HVF)
				return dl_fail(e, 0, "vm: virtiofs with qemu needs Linux (memfd, virtiofsd); use 9p");
		}
		if (s->vsock_cid == 1 || s->vsock_cid == 2)
			return dl_fail(e, 0, "vm: vsock guest cid must be 0 (none) or >= 3");
		break;
	case DL_ENGINE_HYPERKIT:
		if (s->arch != DL_ARCH_X86_64)
			return dl_fail(e, 0, "vm: hyperkit runs x86_64 guests only");
		if (!s->uuid)
			return dl_fail(e, 0, "vm: hyperkit needs the VM's UUID");
		if (share && s->share_fs != DL_SHARE_NFS)
			return dl_fail(e, 0, "vm: hyperkit shares with nfs, not %s",
				       dl_sharefs_name(s->share_fs));
		if (share && (!s->nfs_host || !valid_ip(s->nfs_host)))
			return dl_fail(e, 0, "vm: nfs share needs the host address the guest mounts from");
		break;
	case DL_ENGINE_VFKIT:
		if (share && s->share_fs != DL_SHARE_VIRTIOFS)
			return dl_fail(e, 0, "vm: vfkit shares with virtiofs, not %s",
				       dl_sharefs_name(s->share_fs));
		if (s->cmdline_extra && strpbrk(s->cmdline_extra, ",\""))
			return dl_fail(e, 0, "vm: vfkit cannot pass a kernel command line with ',' or '\"'");
		break;
	}
	return 0;
}

/* ---- kernel command line ------------------------------------------------- */

struct sbuf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void sb_putc(struct sbuf *b, char c)
{
	if (b->oom)
		return;
	if (b->n + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	b->p[b->n++] = c;
	b->p[b->n] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	for (; *s; s++)
		sb_putc(b, *s);
}

/* Percent-encode a parameter value (see vm.h, src/core/cmdline.h). */
static void sb_putv(struct sbuf *b, const char *s)
{
	size_t cap = 3 * strlen(s) + 1;
	char *v = malloc(cap);

	if (!v || dl_cmdline_encode(s, v, cap) < 0)
		b->oom = true;
	else
		sb_puts(b, v);
	free(v);
}

static void sb_param(struct sbuf *b, const char *key, const char *val)
{
	if (b->n)
		sb_putc(b, ' ');
	sb_puts(b, key);
	sb_putc(b, '=');
	sb_putv(b, val);
}

static char *build_cmdline(const struct dl_vm_spec *s, struct dl_err *e)
{
	struct sbuf b = { 0 };
	char num[32];
	const char *console;

	if (s->engine == DL_ENGINE_VFKIT)
		console = "hvc0";
	else if (s->engine == DL_ENGINE_QEMU && s->arch == DL_ARCH_AARCH64)
		console = "ttyAMA0";	/* PL011 on -M virt */
	else
		console = "ttyS0";
	sb_param(&b, "console", console);
	if (!s->debug)
		sb_puts(&b, " quiet");
	sb_puts(&b, " panic=1");	/* with -no-reboot: a panic ends the VM process */
	if (s->engine == DL_ENGINE_QEMU && s->arch == DL_ARCH_X86_64)
		sb_puts(&b, " 8250.nr_uarts=1"); /* one UART to probe, not four */
	if (s->accel == DL_ACCEL_TCG) {
		/* emulated: page-table isolation and friends cost much, protect little */
		sb_puts(&b, " mitigations=off");
		/* No address-space randomisation of user processes: QEMU's TCG
		 * (x86 guests, up to 8.0) keys its translated code by virtual
		 * address, so with ASLR every exec translates libc and the
		 * binary again. dockerd runs ~60-120 iptables processes while it
		 * starts: measured 5.5-6 s instead of 9-15 s for that phase, a
		 * second boot of 15 s instead of 21-25 s. Only under TCG, the
		 * slow fallback; KVM/HVF guests keep ASLR. */
		sb_puts(&b, " norandmaps");
		/* "tsc=reliable nowatchdog" (fewer idle wake-ups) was taken out
		 * while a 9p data loss was diagnosed (file events were the cause,
		 * bench/README.md); it stays out until measured again. */
		/* microvm has no HPET or PM timer: on a loaded host the kernel fails
		 * to calibrate the TSC against the PIT and hangs; tell it the rate */
		if (s->tsc_khz) {
			snprintf(num, sizeof(num), "%u", s->tsc_khz);
			sb_param(&b, "tsc_early_khz", num);
		}
	}

	if (s->engine == DL_ENGINE_QEMU && s->net == DL_NET_USER) {
		sb_param(&b, "dlite.ip", DL_VM_USER_IP);
		sb_param(&b, "dlite.gw", DL_VM_USER_GW);
		sb_param(&b, "dlite.dns", DL_VM_USER_DNS);
	} else {
		sb_param(&b, "dlite.ip", s->guest_addr);
		sb_param(&b, "dlite.gw", s->guest_gw);
		sb_param(&b, "dlite.dns", s->guest_dns ? s->guest_dns : s->guest_gw);
	}
	if (s->hostname)
		sb_param(&b, "dlite.hostname", s->hostname);
	if (s->share_path && *s->share_path) {
		sb_param(&b, "dlite.share", s->share_path);
		sb_param(&b, "dlite.sharefs", dl_sharefs_name(s->share_fs));
		if (s->share_fs == DL_SHARE_NFS) {
			char *v = NULL;
			if (asprintf(&v, "%s:%s", s->nfs_host, s->share_path) < 0) {
				b.oom = true;
			} else {
				sb_param(&b, "dlite.nfs", v);
				free(v);
			}
		}
	}
	if (s->uid >= 0) {
		snprintf(num, sizeof(num), "%ld", s->uid);
		sb_param(&b, "dlite.uid", num);
	}
	if (s->gid >= 0) {
		snprintf(num, sizeof(num), "%ld", s->gid);
		sb_param(&b, "dlite.gid", num);
	}
	if (s->debug)
		sb_param(&b, "dlite.debug", "1");
	if (s->cmdline_extra && *s->cmdline_extra) {
		sb_putc(&b, ' ');
		sb_puts(&b, s->cmdline_extra);
	}
	if (b.oom) {
		free(b.p);
		dl_fail(e, ENOMEM, "vm: kernel command line");
		return NULL;
	}
	if (b.n > CMDLINE_MAX) {
		free(b.p);
		dl_fail(e, 0, "vm: kernel command line too long (%zu bytes, at most %d)", b.n,
			CMDLINE_MAX);
		return NULL;
	}
	return b.p;
}

char *dl_vm_cmdline(const struct dl_vm_spec *s)
{
	if (dl_vm_check(s, NULL) < 0)
		return NULL;
	return build_cmdline(s, NULL);
}

int dl_vm_argv(const struct dl_vm_spec *s, char ***argv_out, struct dl_err *e)
{
	struct dl_av a = { 0 };
	int r;

	*argv_out = NULL;
	if (dl_vm_check(s, e) < 0)
		return -1;
	char *cmdline = build_cmdline(s, e);
	if (!cmdline)
		return -1;
	switch (s->engine) {
	case DL_ENGINE_QEMU:
		r = dl_vm_qemu_argv(s, cmdline, &a, e);
		break;
	case DL_ENGINE_HYPERKIT:
		r = dl_vm_hyperkit_argv(s, cmdline, &a, e);
		break;
	default:
		r = dl_vm_vfkit_argv(s, cmdline, &a, e);
		break;
	}
	free(cmdline);
	char **v = dl_av_finish(&a);
	if (r < 0) {
		dl_argv_free(v);
		return -1;
	}
	if (!v)
		return dl_fail(e, ENOMEM, "vm: building the %s command line", dl_engine_name(s->engine));
	*argv_out = v;
	return 0;
}
