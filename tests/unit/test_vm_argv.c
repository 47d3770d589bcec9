/*
 * src/vm: engine argv and kernel command line, compared byte-for-byte with
 * tests/golden/vm/NAME.argv (one argument per line) and NAME.cmdline.
 * DLITE_UPDATE_GOLDEN=1 rewrites the golden files (review the diff!).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vm/vm.h"
#include "vm/accel.h"

#define GOLDEN_DIR "tests/golden/vm/"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void golden(const char *name, const char *ext, const char *got)
{
	char path[256];
	snprintf(path, sizeof(path), GOLDEN_DIR "%s.%s", name, ext);
	if (getenv("DLITE_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	char *want = slurp(path);
	if (!want)
		fail_msg("missing golden file %s (run with DLITE_UPDATE_GOLDEN=1)", path);
	if (strcmp(want, got) != 0) {
		fprintf(stderr, "--- %s\n%s--- got\n%s", path, want, got);
		free(want);
		fail_msg("%s differs from the golden file", path);
	}
	free(want);
}

static char *join_lines(char **argv)
{
	size_t n = 1;
	for (char **p = argv; *p; p++)
		n += strlen(*p) + 1;
	char *s = malloc(n), *q = s;
	assert_non_null(s);
	for (char **p = argv; *p; p++) {
		size_t l = strlen(*p);
		assert_null(memchr(*p, '\n', l));
		memcpy(q, *p, l);
		q[l] = '\n';
		q += l + 1;
	}
	*q = '\0';
	return s;
}

static void check_golden(const char *name, const struct dl_vm_spec *s)
{
	struct dl_err e = { 0 };
	char **argv = NULL;

	if (dl_vm_argv(s, &argv, &e) < 0)
		fail_msg("%s: %s", name, e.msg);
	char *got = join_lines(argv);
	golden(name, "argv", got);
	free(got);
	dl_argv_free(argv);

	char *cl = dl_vm_cmdline(s);
	assert_non_null(cl);
	size_t l = strlen(cl);
	char *line = malloc(l + 2);
	memcpy(line, cl, l);
	memcpy(line + l, "\n", 2);
	golden(name, "cmdline", line);
	free(line);
	free(cl);
}

/* ---- specs --------------------------------------------------------------- */

static struct dl_vm_spec linux_base(void)
{
	struct dl_vm_spec s = {
		.engine = DL_ENGINE_QEMU,
		.arch = DL_ARCH_X86_64,
		.accel = DL_ACCEL_TCG,
		.tb_mib = 256, /* tcg,tb-size=256 on TCG only (the KVM case keeps it) */
		.cpus = 2,
		.mem_mib = 2048,
		.kernel = "/usr/local/lib/dlite/os/vmlinuz",
		.initrd = "/home/me/.dlite/run/initrd",
		.root_image = "/usr/local/lib/dlite/os/root.erofs",
		.data_disk = "/home/me/.dlite/disk.img",
		.hostname = "local.docker",
		.uid = 1000,
		.gid = 1000,
		.share_path = "/home/me",
		.share_fs = DL_SHARE_9P,
		.net = DL_NET_USER,
		.agent_port = 41555,
		.run_dir = "/home/me/.dlite/run",
	};
	return s;
}

static struct dl_vm_spec mac_base(enum dl_engine eng)
{
	struct dl_vm_spec s = {
		.engine = eng,
		.arch = DL_ARCH_AARCH64,
		.accel = DL_ACCEL_HVF,
		.cpus = 4,
		.mem_mib = 4096,
		.kernel = "/Users/me/.dlite/os/vmlinuz",
		.initrd = "/Users/me/.dlite/run/initrd",
		.root_image = "/Users/me/.dlite/os/root.erofs",
		.data_disk = "/Users/me/.dlite/disk.img",
		.hostname = "local.docker",
		.uid = 501,
		.gid = 20,
		.share_path = "/Users/me",
		.net = DL_NET_USER,
		.run_dir = "/Users/me/.dlite/run",
		.uuid = "8d1c3a52-2f6b-4b35-9a64-3f0f6a1e0c11",
	};
	return s;
}

static void qemu_x86_tcg_user_9p(void **state)
{
	struct dl_vm_spec s = linux_base();
	check_golden("qemu-x86_64-tcg-user-9p", &s);
}

static void qemu_x86_kvm_bridged_virtiofs(void **state)
{
	struct dl_vm_spec s = linux_base();
	s.accel = DL_ACCEL_KVM;
	s.cpus = 4;
	s.mem_mib = 3072;
	s.net = DL_NET_BRIDGED;
	s.agent_port = 0;
	s.tap = "dlite0";
	s.guest_addr = "192.168.106.2/24";
	s.guest_gw = "192.168.106.1";
	s.mac = "52:54:00:d1:1e:02";
	s.share_fs = DL_SHARE_VIRTIOFS;
	s.virtiofsd_sock = "/home/me/.dlite/run/virtiofsd.sock";
	s.vsock_cid = 3;
	s.uuid = "8d1c3a52-2f6b-4b35-9a64-3f0f6a1e0c11";
	check_golden("qemu-x86_64-kvm-bridged-virtiofs", &s);
}

/* the privileged helper opened the tap: QEMU gets its fd, not its name */
static void qemu_x86_bridged_tap_fd(void **state)
{
	struct dl_vm_spec s = linux_base();
	s.net = DL_NET_BRIDGED;
	s.agent_port = 0;
	s.tap = "dlite-tap0";
	s.tap_fd = 7;
	s.guest_addr = "192.168.127.2/24";
	s.guest_gw = "192.168.127.1";
	check_golden("qemu-x86_64-bridged-tap-fd", &s);
}

static void qemu_aarch64_hvf(void **state)
{
	struct dl_vm_spec s = mac_base(DL_ENGINE_QEMU);
	s.share_fs = DL_SHARE_9P;
	s.agent_port = 41555;
	s.uuid = NULL;
	s.debug = true;
	check_golden("qemu-aarch64-hvf-user-9p", &s);
}

static void hyperkit_nfs(void **state)
{
	struct dl_vm_spec s = mac_base(DL_ENGINE_HYPERKIT);
	s.arch = DL_ARCH_X86_64;
	s.accel = DL_ACCEL_AUTO;
	s.cpus = 2;
	s.mem_mib = 2048;
	s.share_fs = DL_SHARE_NFS;
	s.nfs_host = "192.168.64.1";
	s.guest_addr = "192.168.64.2/24";
	s.guest_gw = "192.168.64.1";
	check_golden("hyperkit-nfs", &s);
}

static void vfkit_virtiofs(void **state)
{
	struct dl_vm_spec s = mac_base(DL_ENGINE_VFKIT);
	s.share_fs = DL_SHARE_VIRTIOFS;
	s.guest_addr = "192.168.64.2/24";
	s.guest_gw = "192.168.64.1";
	s.guest_dns = "192.168.64.1";
	s.mac = "52:54:00:d1:1e:02";
	check_golden("vfkit-virtiofs", &s);
}

static void qemu_odd_paths(void **state)
{
	struct dl_vm_spec s = mac_base(DL_ENGINE_QEMU);
	struct dl_err e = { 0 };
	char **argv = NULL;
	s.arch = DL_ARCH_X86_64;
	s.accel = DL_ACCEL_TCG;
	s.agent_port = 2375;
	s.share_fs = DL_SHARE_9P;
	s.kernel = "/Users/John Smith/Library/Application Support/dlite/os/vmlinuz";
	s.data_disk = "/Users/John Smith/disks,old/disk.img";
	s.share_path = "/Users/John Smith";
	s.run_dir = "/Users/John Smith/.dlite/run/";
	s.uuid = NULL;
	s.uid = s.gid = -1;
	s.hostname = NULL;
	s.cmdline_extra = "loglevel=4";
	check_golden("qemu-x86_64-odd-paths", &s);

	/* the kernel path with spaces is exactly one argv element */
	assert_int_equal(dl_vm_argv(&s, &argv, &e), 0);
	int found = 0;
	for (char **p = argv; *p; p++)
		if (strcmp(*p, s.kernel) == 0) {
			found = 1;
			assert_string_equal(p[-1], "-kernel");
		}
	assert_true(found);
	dl_argv_free(argv);
}

/* ---- bad specs ----------------------------------------------------------- */

static void expect_bad(struct dl_vm_spec s, const char *needle)
{
	struct dl_err e = { 0 };
	char **argv = (char **)1;
	assert_int_equal(dl_vm_argv(&s, &argv, &e), -1);
	assert_null(argv);
	assert_null(dl_vm_cmdline(&s));
	if (!strstr(e.msg, needle))
		fail_msg("error \"%s\" lacks \"%s\"", e.msg, needle);
}

static void bad_specs(void **state)
{
	struct dl_vm_spec s;

	s = linux_base(); s.cpus = 0; expect_bad(s, "cpus");
	s = linux_base(); s.cpus = 1000; expect_bad(s, "cpus");
	s = linux_base(); s.mem_mib = 100; expect_bad(s, "memory too small");
	s = linux_base(); s.mem_mib = 0; expect_bad(s, "memory too small");
	s = linux_base(); s.mem_mib = 4u << 20; expect_bad(s, "memory too large");
	s = linux_base(); s.kernel = NULL; expect_bad(s, "missing kernel");
	s = linux_base(); s.kernel = ""; expect_bad(s, "missing kernel");
	s = linux_base(); s.initrd = NULL; expect_bad(s, "missing initrd");
	s = linux_base(); s.root_image = NULL; expect_bad(s, "missing root image");
	s = linux_base(); s.data_disk = NULL; expect_bad(s, "missing data disk");
	s = linux_base(); s.run_dir = NULL; expect_bad(s, "missing run dir");
	s = linux_base(); s.kernel = "os/vmlinuz"; expect_bad(s, "absolute");
	s = linux_base(); s.data_disk = "/tmp/a\nb"; expect_bad(s, "control");
	s = linux_base(); s.accel = DL_ACCEL_AUTO; expect_bad(s, "resolved accelerator");
	s = linux_base(); s.agent_port = 0; expect_bad(s, "agent host port");
	s = linux_base(); s.net = DL_NET_BRIDGED; expect_bad(s, "guest address");
	s = linux_base(); s.net = DL_NET_BRIDGED; s.guest_addr = "10.1.2.3/24";
	s.guest_gw = "10.1.2.1"; expect_bad(s, "tap");
	s = linux_base(); s.net = DL_NET_BRIDGED; s.guest_addr = "10.1.2.3";
	s.guest_gw = "10.1.2.1"; s.tap = "t0"; expect_bad(s, "ADDR/PREFIX");
	s = linux_base(); s.net = DL_NET_BRIDGED; s.guest_addr = "10.1.2.3/33";
	s.guest_gw = "10.1.2.1"; s.tap = "t0"; expect_bad(s, "ADDR/PREFIX");
	s = linux_base(); s.net = DL_NET_BRIDGED; s.guest_addr = "10.1.2.3/24";
	s.guest_gw = "10.1.2.1"; s.tap = "a-very-long-tap-name"; expect_bad(s, "tap");
	s = linux_base(); s.share_fs = DL_SHARE_VIRTIOFS; expect_bad(s, "virtiofsd socket");
	s = linux_base(); s.share_fs = DL_SHARE_NFS; expect_bad(s, "9p or virtiofs");
	s = linux_base(); s.share_fs = DL_SHARE_NONE; expect_bad(s, "without a share filesystem");
	s = linux_base(); s.hostname = "my host"; expect_bad(s, "hostname");
	s = linux_base(); s.hostname = "-x.docker"; expect_bad(s, "hostname");
	s = linux_base(); s.hostname = "a..docker"; expect_bad(s, "hostname");
	s = linux_base(); s.mac = "52:54:00:00:00"; expect_bad(s, "MAC");
	s = linux_base(); s.uuid = "not-a-uuid"; expect_bad(s, "UUID");
	s = linux_base(); s.vsock_cid = 2; expect_bad(s, "cid");
	s = mac_base(DL_ENGINE_QEMU); s.agent_port = 1; s.share_fs = DL_SHARE_VIRTIOFS;
	s.virtiofsd_sock = "/tmp/v.sock"; expect_bad(s, "9p");

	/* hyperkit */
	struct dl_vm_spec h = mac_base(DL_ENGINE_HYPERKIT);
	h.arch = DL_ARCH_X86_64;
	h.share_fs = DL_SHARE_NFS;
	h.nfs_host = "192.168.64.1";
	h.guest_addr = "192.168.64.2/24";
	h.guest_gw = "192.168.64.1";
	s = h; s.arch = DL_ARCH_AARCH64; expect_bad(s, "x86_64");
	s = h; s.uuid = NULL; expect_bad(s, "UUID");
	s = h; s.share_fs = DL_SHARE_9P; expect_bad(s, "nfs");
	s = h; s.nfs_host = NULL; expect_bad(s, "host address");
	s = h; s.data_disk = "/Users/me/a,b.img"; expect_bad(s, "comma");
	s = h; s.cpus = 17; expect_bad(s, "16");
	s = h; s.guest_addr = NULL; expect_bad(s, "guest address");
	s = h; s.guest_gw = "x"; expect_bad(s, "gateway");

	/* vfkit */
	struct dl_vm_spec v = mac_base(DL_ENGINE_VFKIT);
	v.share_fs = DL_SHARE_VIRTIOFS;
	v.guest_addr = "192.168.64.2/24";
	v.guest_gw = "192.168.64.1";
	s = v; s.share_fs = DL_SHARE_9P; expect_bad(s, "virtiofs");
	s = v; s.cmdline_extra = "a=\"b c\""; expect_bad(s, "vfkit");
	s = v; s.share_path = "/Users/me/x,y"; expect_bad(s, "comma");

	/* the command line has a size limit */
	char big[2100];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s = linux_base(); s.cmdline_extra = big; expect_bad(s, "too long");
}

static void names(void **state)
{
	enum dl_engine en;
	enum dl_sharefs fs;
	enum dl_accel ac;
	assert_int_equal(dl_engine_parse("vfkit", &en), 0);
	assert_int_equal(en, DL_ENGINE_VFKIT);
	assert_int_equal(dl_engine_parse("xhyve", &en), -1);
	assert_int_equal(dl_sharefs_parse("virtiofs", &fs), 0);
	assert_int_equal(fs, DL_SHARE_VIRTIOFS);
	assert_int_equal(dl_sharefs_parse("smb", &fs), -1);
	assert_int_equal(dl_accel_parse("hvf", &ac), 0);
	assert_int_equal(ac, DL_ACCEL_HVF);
	assert_int_equal(dl_accel_parse("KVM", &ac), -1);
	assert_string_equal(dl_accel_name(DL_ACCEL_TCG), "tcg");
}

/* ---- accel --------------------------------------------------------------- */

#define SHA "3f0f6a1e0c118d1c3a522f6b4b359a643f0f6a1e0c118d1c3a522f6b4b359a64"

static void memo_roundtrip(void **state)
{
	struct dl_accel_memo m;
	struct dl_err e = { 0 };
	const char *line = "kvm fail 7.2.22 " SHA "\n";

	assert_int_equal(dl_accel_memo_parse(line, strlen(line), &m, &e), 0);
	assert_int_equal(m.accel, DL_ACCEL_KVM);
	assert_false(m.ok);
	assert_string_equal(m.qemu_version, "7.2.22");
	assert_string_equal(m.kernel_sha, SHA);
	char *s = dl_accel_memo_format(&m);
	assert_string_equal(s, line);
	free(s);
	assert_int_equal(dl_accel_memo_parse("hvf ok 8.0 abc", 14, &m, &e), 0);
	assert_true(m.ok);

	const char *bad[] = { "", "kvm", "kvm ok 7.2", "auto ok 7.2 x", "kvm maybe 7.2 x",
			      "kvm ok 7.2 x y", "kvm ok 7.2 x\nkvm ok 7.2 x\n", "qemu ok 1 2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(dl_accel_memo_parse(bad[i], strlen(bad[i]), &m, &e), -1);
	assert_int_equal(dl_accel_memo_parse("kvm ok 7\0 x", 11, &m, &e), -1);

	struct dl_accel_host h = { .os = DL_HOST_LINUX, .kvm_usable = true, .qemu_version = "7.2.22" };
	assert_int_equal(dl_accel_memo_set(&m, DL_ACCEL_KVM, true, &h, &e), 0);
	s = dl_accel_memo_format(&m);
	assert_string_equal(s, "kvm ok 7.2.22 -\n");
	free(s);
	assert_true(dl_accel_memo_applies(&m, &h));
	h.kernel_sha = SHA;
	assert_false(dl_accel_memo_applies(&m, &h));
	assert_int_equal(dl_accel_memo_set(&m, DL_ACCEL_AUTO, true, &h, &e), -1);
}

static void plans(void **state)
{
	struct dl_accel_plan p;
	struct dl_accel_memo m;
	struct dl_err e = { 0 };
	struct dl_accel_host lin = { .os = DL_HOST_LINUX, .kvm_usable = true,
				     .qemu_version = "7.2.22", .kernel_sha = SHA };
	struct dl_accel_host mac = { .os = DL_HOST_MACOS, .arch = DL_ARCH_AARCH64,
				     .hvf_usable = true, .qemu_version = "8.2.0", .kernel_sha = SHA };

	/* auto, nothing remembered: kvm (probed), then tcg */
	assert_int_equal(dl_accel_plan(DL_ACCEL_AUTO, &lin, NULL, &p, &e), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.try[0], DL_ACCEL_KVM);
	assert_int_equal(p.try[1], DL_ACCEL_TCG);
	assert_true(p.probe);
	assert_int_equal(p.probe_seconds, DL_ACCEL_PROBE_SECONDS);

	/* remembered as failing with this qemu and kernel: tcg only */
	assert_int_equal(dl_accel_memo_set(&m, DL_ACCEL_KVM, false, &lin, &e), 0);
	assert_int_equal(dl_accel_plan(DL_ACCEL_AUTO, &lin, &m, &p, &e), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.try[0], DL_ACCEL_TCG);
	assert_false(p.probe);

	/* ... but a new qemu deserves another try */
	struct dl_accel_host lin2 = lin;
	lin2.qemu_version = "8.0.0";
	assert_int_equal(dl_accel_plan(DL_ACCEL_AUTO, &lin2, &m, &p, &e), 0);
	assert_int_equal(p.try[0], DL_ACCEL_KVM);
	assert_true(p.probe);

	/* remembered as working: kvm without probe (tcg still the fallback) */
	assert_int_equal(dl_accel_memo_set(&m, DL_ACCEL_KVM, true, &lin, &e), 0);
	assert_int_equal(dl_accel_plan(DL_ACCEL_AUTO, &lin, &m, &p, &e), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.try[0], DL_ACCEL_KVM);
	assert_false(p.probe);

	/* no /dev/kvm */
	lin2 = lin;
	lin2.kvm_usable = false;
	assert_int_equal(dl_accel_plan(DL_ACCEL_AUTO, &lin2, NULL, &p, &e), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.try[0], DL_ACCEL_TCG);
	assert_int_equal(dl_accel_plan(DL_ACCEL_KVM, &lin2, NULL, &p, &e), -1);
	assert_non_null(strstr(e.msg, "/dev/kvm"));

	/* explicit choices are honoured alone, even against the memo */
	assert_int_equal(dl_accel_memo_set(&m, DL_ACCEL_KVM, false, &lin, &e), 0);
	assert_int_equal(dl_accel_plan(DL_ACCEL_KVM, &lin, &m, &p, &e), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.try[0], DL_ACCEL_KVM);
	assert_int_equal(dl_accel_plan(DL_ACCEL_TCG, &lin, NULL, &p, &e), 0);
	assert_int_equal(p.try[0], DL_ACCEL_TCG);
	assert_int_equal(dl_accel_plan(DL_ACCEL_HVF, &lin, NULL, &p, &e), -1);

	/* macOS */
	assert_int_equal(dl_accel_plan(DL_ACCEL_AUTO, &mac, NULL, &p, &e), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.try[0], DL_ACCEL_HVF);
	assert_int_equal(p.try[1], DL_ACCEL_TCG);
	assert_int_equal(dl_accel_plan(DL_ACCEL_KVM, &mac, NULL, &p, &e), -1);
	mac.hvf_usable = false;
	assert_int_equal(dl_accel_plan(DL_ACCEL_AUTO, &mac, NULL, &p, &e), 0);
	assert_int_equal(p.try[0], DL_ACCEL_TCG);
	assert_int_equal(dl_accel_plan(DL_ACCEL_HVF, &mac, NULL, &p, &e), -1);

	char *w = dl_accel_fallback_warning(DL_ACCEL_KVM, DL_ACCEL_TCG, 20);
	assert_non_null(strstr(w, "kvm within 20 s; using tcg"));
	assert_null(strchr(w, '\n'));
	free(w);
}

static void console(void **state)
{
	const char *log =
		"[    0.000000] Linux version 6.1.0\r\n"
		"dlite-agent: starting\n"
		"dlite-stamp agent 412\r\n"
		"[    1.2] random: crng init done dlite-stamp root 800\n"
		"dlite-stamp data 9x\n"
		"dlite-stamp dockerd 2345";
	long ms = 0;

	assert_true(dl_console_reached_agent(log, strlen(log)));
	assert_int_equal(dl_console_stamp(log, strlen(log), "agent", &ms), 1);
	assert_int_equal(ms, 412);
	assert_int_equal(dl_console_stamp(log, strlen(log), "root", &ms), 1);
	assert_int_equal(ms, 800);
	assert_int_equal(dl_console_stamp(log, strlen(log), "data", &ms), 0);
	assert_int_equal(dl_console_stamp(log, strlen(log), "dockerd", &ms), 1);
	assert_int_equal(ms, 2345);
	assert_int_equal(dl_console_stamp(log, strlen(log), "docker", &ms), 0);
	assert_int_equal(dl_console_stamp(log, strlen(log), "network", &ms), 0);
	assert_false(dl_console_failed(log, strlen(log)));

	/* truncated reads: half a stamp is not a stamp */
	const char *half = "boot\ndlite-stamp age";
	assert_false(dl_console_reached_agent(half, strlen(half)));
	assert_false(dl_console_reached_agent("dlite-stamp agent", 17));
	assert_false(dl_console_reached_agent("dlite-stamp agent ", 18));
	assert_false(dl_console_reached_agent("", 0));
	/* not NUL-terminated: the length is the limit */
	assert_false(dl_console_reached_agent(log, 60));

	const char *panic = "[ 0.9] Kernel panic - not syncing: VFS: Unable to mount root fs\n";
	assert_true(dl_console_failed(panic, strlen(panic)));
	assert_false(dl_console_reached_agent(panic, strlen(panic)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_x86_tcg_user_9p),
		cmocka_unit_test(qemu_x86_kvm_bridged_virtiofs),
		cmocka_unit_test(qemu_x86_bridged_tap_fd),
		cmocka_unit_test(qemu_aarch64_hvf),
		cmocka_unit_test(hyperkit_nfs),
		cmocka_unit_test(vfkit_virtiofs),
		cmocka_unit_test(qemu_odd_paths),
		cmocka_unit_test(bad_specs),
		cmocka_unit_test(names),
		cmocka_unit_test(memo_roundtrip),
		cmocka_unit_test(plans),
		cmocka_unit_test(console),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
