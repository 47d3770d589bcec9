/* dlite doctor [--json]: gathers the facts and hands them to the checks of
 * doctor.c; one line per check, the fixing command under each failure. */
#include <errno.h>
#include <jansson.h>
#include <langinfo.h>
#include <locale.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cli.h"
#include "cli/cmdtab.h"
#include "cli/doctor.h"
#include "lib/run.h"
#include "host/atomic.h"
#include "host/exports.h"
#include "host/launchd.h"
#include "host/systemd.h"
#include "osimage.h"
#include "vm/virtiofsd.h"

#define GiB (1ULL << 30)

static bool in_path(const char *prog, char *out, size_t n)
{
	const char *p = getenv("PATH");
	char buf[4096];

	if (strchr(prog, '/')) {
		snprintf(out, n, "%s", prog);
		return access(prog, X_OK) == 0;
	}
	snprintf(buf, sizeof(buf), "%s:/usr/sbin:/sbin", p ? p : "/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, n, "%s/%s", d, prog);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

static void check_engine(struct dl_ctx *ctx, struct dl_checks *c, json_t *st)
{
	char path[1200];
	const char *bin = ctx->cfg.engine;
	if (strcmp(bin, "qemu") == 0)
		bin = getenv("DLITE_QEMU") ? getenv("DLITE_QEMU")
#if defined(__aarch64__)
					   : "qemu-system-aarch64";
#else
					   : "qemu-system-x86_64";
#endif
	if (in_path(bin, path, sizeof(path)))
		dl_check_add(c, "engine", DL_CK_OK, NULL, "%s (%s)", ctx->cfg.engine, path);
	else
		dl_check_add(c, "engine", DL_CK_FAIL,
			     strcmp(ctx->cfg.engine, "qemu") ? "brew install hyperkit vfkit"
							     : "sudo apt-get install qemu-system-x86",
			     "%s: %s is not installed", ctx->cfg.engine, bin);

	const char *used = json_string_value(json_object_get(st, "accel"));
	if (!used) {
		dl_check_add(c, "accel", DL_CK_SKIP, NULL, "%s (configured; the VM is not running)",
			     ctx->cfg.accel);
		return;
	}
	if (strcmp(used, "tcg") != 0 || strcmp(ctx->cfg.accel, "tcg") == 0) {
		dl_check_add(c, "accel", DL_CK_OK, NULL, "%s", used);
		return;
	}
	/* why KVM/HVF fell back (src/vm/accel.c's probe and memo) */
#ifdef __APPLE__
	dl_check_add(c, "accel", DL_CK_WARN, "sysctl kern.hv_support",
		     "tcg (slow): HVF is not usable (kern.hv_support is not 1)");
#else
	char memo[256] = "";
	FILE *m = fopen(ctx->paths.accel, "r");
	if (m) {
		if (!fgets(memo, sizeof(memo), m))
			memo[0] = '\0';
		fclose(m);
		memo[strcspn(memo, "\n")] = '\0';
	}
	if (access("/dev/kvm", F_OK) < 0)
		dl_check_add(c, "accel", DL_CK_WARN, "sudo modprobe kvm_intel || sudo modprobe kvm_amd",
			     "tcg (slow): /dev/kvm does not exist (no KVM module, or a VM without "
			     "nested virtualisation)");
	else if (access("/dev/kvm", R_OK | W_OK) < 0)
		dl_check_add(c, "accel", DL_CK_WARN, "sudo usermod -aG kvm $USER  (then log in again)",
			     "tcg (slow): /dev/kvm is not read-writable by you");
	else if (strncmp(memo, "kvm fail", 8) == 0)
		dl_check_add(c, "accel", DL_CK_WARN, "rm ~/.dlite/accel && dlite restart",
			     "tcg (slow): KVM did not reach the agent in time and was set aside "
			     "(%s)", ctx->paths.accel);
	else
		dl_check_add(c, "accel", DL_CK_WARN, "dlite config set accel auto && dlite restart",
			     "tcg (slow)");
#endif
}

static void check_image(struct dl_ctx *ctx, struct dl_checks *c)
{
	struct dl_manifest m;
	struct dl_err e = { 0 };
	char def[1200], fix[1400];

	if (cli_default_os(def, sizeof(def), NULL) < 0)
		snprintf(def, sizeof(def), "PATH");
	snprintf(fix, sizeof(fix), "dlite update --os %s", def);
	if (dl_manifest_verify(ctx->paths.os_dir, &m, &e) == 0)
		dl_check_add(c, "os image", DL_CK_OK, NULL, "%s: every sha256 of manifest.json matches",
			     m.image_version);
	else
		dl_check_add(c, "os image", DL_CK_FAIL, fix, "%s: %s", ctx->paths.os_dir, e.msg);
}

/* GET /_ping on the socket: 1 answered OK, 0 connected but no answer, -1 refused. */
static int ping(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[512];
	size_t got = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	const char req[] = "GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n";
	if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		close(fd);
		return 0;
	}
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (got < sizeof(buf) - 1 && poll(&p, 1, 10000) > 0) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return strstr(buf, " 200 ") && strstr(buf, "\r\n\r\nOK") ? 1 : 0;
}

static void check_socket(struct dl_ctx *ctx, struct dl_checks *c, bool daemon)
{
	struct stat sb;
	const char *s = ctx->cfg.socket;
	unsigned uid, gid;

	cli_target_user(&uid, &gid);
	if (lstat(s, &sb) < 0) {
		dl_check_add(c, "docker.sock", DL_CK_FAIL, "dlite start", "%s does not exist%s", s,
			     daemon ? "" : " (the daemon is not running)");
		return;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		dl_check_add(c, "docker.sock", DL_CK_FAIL, "dlite stop; rm the file; dlite start",
			     "%s is not a socket", s);
		return;
	}
	if (sb.st_mode & 0007) {
		char fix[1200];
		snprintf(fix, sizeof(fix), "chmod 0660 %s", s);
		dl_check_add(c, "docker.sock", DL_CK_FAIL, fix, "%s is open to every user (mode %04o)",
			     s, (unsigned)(sb.st_mode & 07777));
		return;
	}
	if (sb.st_uid != uid) {
		dl_check_add(c, "docker.sock", DL_CK_FAIL, "dlite restart",
			     "%s belongs to uid %u, not to you (%u)", s, (unsigned)sb.st_uid, uid);
		return;
	}
	int r = ping(s);
	if (r == 1)
		dl_check_add(c, "docker.sock", DL_CK_OK, NULL, "%s (mode %04o, uid %u) answers _ping", s,
			     (unsigned)(sb.st_mode & 07777), (unsigned)sb.st_uid);
	else if (r < 0)
		dl_check_add(c, "docker.sock", DL_CK_FAIL, "dlite restart",
			     "%s is stale: nothing listens on it%s", s,
			     daemon ? "" : " (the daemon is not running)");
	else
		dl_check_add(c, "docker.sock", DL_CK_FAIL, "dlite restart",
			     "%s accepts but dockerd does not answer _ping (see `dlite logs`)", s);
}

static void check_autostart(struct dl_ctx *ctx, struct dl_checks *c)
{
	char unit[2048], path[4096];
	bool live = getenv("DLITE_SYSROOT") == NULL;
#ifdef __APPLE__
	int r = dl_launchd_plist_path(unit, sizeof(unit), ctx->paths.user_home, NULL);
#else
	int r = dl_systemd_unit_path(unit, sizeof(unit), ctx->paths.user_home,
				     getenv("XDG_CONFIG_HOME"), NULL);
#endif
	if (r < 0 || dl_syspath(path, sizeof(path), unit, NULL) < 0 || access(path, F_OK) < 0) {
		dl_check_add(c, "autostart", DL_CK_FAIL, "dlite install --yes",
			     "no autostart unit at %s: dlite will not start at login",
			     r < 0 ? unit : path);
		return;
	}
#ifndef __APPLE__
	if (live) {
		char out[128];
		const char *argv[] = { "systemctl", "--user", "is-enabled", DL_SYSTEMD_UNIT, NULL };
		if (dl_run_capture(argv, out, sizeof(out), 5000) < 0 || strncmp(out, "enabled", 7) != 0) {
			out[strcspn(out, "\n")] = '\0';
			dl_check_add(c, "autostart", DL_CK_FAIL,
				     "systemctl --user enable " DL_SYSTEMD_UNIT,
				     "%s is present but not enabled (%s)", path, out);
			return;
		}
	}
#endif
	dl_check_add(c, "autostart", DL_CK_OK, NULL, "%s%s", path,
		     live ? " (enabled)" : " (present; enabled is not checked under DLITE_SYSROOT)");
}

static void check_context(struct dl_ctx *ctx, struct dl_checks *c)
{
	char out[1200], want[1100], fix[1300];
	const char *argv[] = { "docker", "context", "inspect", "dlite", "--format",
			       "{{.Endpoints.docker.Host}}", NULL };
	if (!in_path("docker", out, sizeof(out))) {
		dl_check_add(c, "docker context", DL_CK_SKIP, NULL, "no docker CLI installed");
		return;
	}
	snprintf(want, sizeof(want), "unix://%s", ctx->cfg.socket);
	snprintf(fix, sizeof(fix), "docker context create dlite --docker host=%s", want);
	int r = dl_run_capture(argv, out, sizeof(out), 30000);
	out[strcspn(out, "\r\n")] = '\0';
	if (r != 0)
		dl_check_add(c, "docker context", DL_CK_FAIL, fix, "no docker context named dlite");
	else if (strcmp(out, want) != 0)
		dl_check_add(c, "docker context", DL_CK_FAIL, NULL,
			     "context dlite points to %s, not %s; run `docker context update dlite "
			     "--docker host=%s`", out, want, want);
	else
		dl_check_add(c, "docker context", DL_CK_OK, NULL, "dlite -> %s", want);
}

static void check_ports(struct dl_checks *c, json_t *st)
{
	json_t *ports = json_object_get(st, "ports"), *p;
	size_t i, bad = 0, n = json_array_size(ports);
	long long badport = 0;
	char detail[400] = "";

	json_array_foreach(ports, i, p) {
		const char *err = json_string_value(json_object_get(p, "error"));
		if (!err)
			continue;
		if (!bad++ && (badport = json_integer_value(json_object_get(p, "host_port"))))
			snprintf(detail, sizeof(detail), "%s %s:%lld of %s: %s",
				 json_string_value(json_object_get(p, "proto")),
				 json_string_value(json_object_get(p, "host_ip")),
				 (long long)json_integer_value(json_object_get(p, "host_port")),
				 json_string_value(json_object_get(p, "container")), err);
	}
	if (!json_is_array(ports))
		dl_check_add(c, "ports", DL_CK_SKIP, NULL, "the VM is not running");
	else if (bad) {
		char fix[200];
		snprintf(fix, sizeof(fix), "sudo ss -ltnup | grep ':%lld '  (stop what listens there)",
			 badport);
		dl_check_add(c, "ports", DL_CK_FAIL, fix, "%zu of %zu published ports not forwarded; "
			     "first: %s", bad, n, detail);
	} else
		dl_check_add(c, "ports", DL_CK_OK, NULL, "%zu published port%s forwarded", n,
			     n == 1 ? "" : "s");
}

static void check_exports(struct dl_ctx *ctx, struct dl_checks *c)
{
#ifdef __APPLE__
	char path[4096], *text = NULL;
	size_t len = 0;
	struct dl_err e = { 0 };

	if (!ctx->cfg.share[0] || dl_syspath(path, sizeof(path), "/etc/exports", NULL) < 0 ||
	    access(path, F_OK) < 0) {
		dl_check_add(c, "exports", DL_CK_OK, NULL, "no /etc/exports to conflict with");
		return;
	}
	if (dl_read_file(path, &text, &len, 16 << 20, &e) < 0) {
		dl_check_add(c, "exports", DL_CK_FAIL, NULL, "%s", e.msg);
		return;
	}
	if (dl_exports_check(text, len, ctx->cfg.share, &e) < 0)
		dl_check_add(c, "exports", DL_CK_FAIL, "sudo nano /etc/exports  (remove that line)",
			     "%s", e.msg);
	else
		dl_check_add(c, "exports", DL_CK_OK, NULL, "%s: no other export of %s", path,
			     ctx->cfg.share);
	free(text);
#else
	dl_check_add(c, "exports", DL_CK_SKIP, NULL, "/etc/exports matters on macOS only");
#endif
}

static void check_host_space(struct dl_ctx *ctx, struct dl_checks *c)
{
	struct statvfs v;
	if (statvfs(ctx->paths.home, &v) < 0) {
		dl_check_add(c, "host disk", DL_CK_FAIL, NULL, "cannot statvfs %s: %s", ctx->paths.home,
			     strerror(errno));
		return;
	}
	dl_doctor_space(c, "host disk", ctx->paths.home, (unsigned long long)v.f_bavail * v.f_frsize,
			(unsigned long long)v.f_blocks * v.f_frsize, 2 * GiB,
			"docker system prune  (the sparse disk grows as the VM writes)");
}

/* One ssh round trip for the VM's clock and free space. */
static void check_vm(struct dl_ctx *ctx, struct dl_checks *c, bool running)
{
	char dir[1024], self[1100], out[2048];
	struct timeval t0, t1;

	if (!running || cli_exe_dir(dir, sizeof(dir), NULL) < 0) {
		dl_check_add(c, "vm disk", DL_CK_SKIP, NULL, "the VM is not running");
		dl_check_add(c, "clock", DL_CK_SKIP, NULL, "the VM is not running");
		return;
	}
	snprintf(self, sizeof(self), "%s/dlite", dir);
	const char *argv[] = { self, "ssh", "date +%s.%N; df -Pk /var/lib/docker | tail -n1",
			       NULL };
	gettimeofday(&t0, NULL);
	int r = dl_run_capture(argv, out, sizeof(out), 30000);
	gettimeofday(&t1, NULL);
	double vm_t = 0, host_t = (t0.tv_sec + t1.tv_sec) / 2.0 + (t0.tv_usec + t1.tv_usec) / 2e6;
	unsigned long long total = 0, used = 0, avail = 0;
	if (r != 0 || sscanf(out, "%lf %*s %llu %llu %llu", &vm_t, &total, &used, &avail) != 4) {
		out[strcspn(out, "\n")] = '\0';
		dl_check_add(c, "vm disk", DL_CK_FAIL, "dlite ssh true", "cannot ssh into the VM: %.200s",
			     out);
		dl_check_add(c, "clock", DL_CK_SKIP, NULL, "no ssh into the VM");
		return;
	}
	dl_doctor_space(c, "vm disk", "the VM's /var/lib/docker", avail << 10, total << 10, GiB,
			"docker system prune");
	dl_doctor_clock(c, vm_t - host_t);
}

static void check_virtiofsd(struct dl_ctx *ctx, struct dl_checks *c, json_t *st)
{
	const char *fs = json_string_value(json_object_get(st, "share_fs"));
	char found[1200] = "";

	if (!ctx->cfg.share[0] || strcmp(ctx->cfg.engine, "qemu") != 0) {
		dl_check_add(c, "virtiofsd", DL_CK_SKIP, NULL, "not used (%s)",
			     ctx->cfg.share[0] ? "engine is not qemu" : "no share");
		return;
	}
	if (strcmp(ctx->cfg.virtiofsd, "none") == 0) {
		dl_check_add(c, "virtiofsd", DL_CK_OK, NULL, "not used: virtiofsd is \"none\" (9p)");
		return;
	}
	const char *env = getenv("DLITE_VIRTIOFSD");
	char **cands = dl_virtiofsd_candidates(env && env[0] ? env : ctx->cfg.virtiofsd,
					       getenv("PATH"));
	for (char **p = cands; p && *p && !found[0]; p++)
		if (access(*p, X_OK) == 0)
			snprintf(found, sizeof(found), "%s", *p);
	for (char **p = cands; p && *p; p++)
		free(*p);
	free(cands);
	if (found[0])
		dl_check_add(c, "virtiofsd", DL_CK_OK, NULL, "%s%s%s", found, fs ? "; the share uses " : "",
			     fs ? fs : "");
	else
		dl_check_add(c, "virtiofsd", DL_CK_WARN,
			     "sudo apt-get install virtiofsd  (or tools/get-virtiofsd)",
			     "none found; the share uses 9p (slower)");
}

static void check_dns(struct dl_ctx *ctx, struct dl_checks *c, const char *addr)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	char got[64] = "";

	if (getenv("DLITE_SYSROOT")) {
		dl_check_add(c, "dns", DL_CK_SKIP, NULL,
			     "under DLITE_SYSROOT the system resolver does not read dlite's hosts file");
		return;
	}
	int r = getaddrinfo(ctx->cfg.hostname, NULL, &hints, &res);
	for (struct addrinfo *a = res; a && r == 0; a = a->ai_next) {
		void *p = a->ai_family == AF_INET ? (void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
						  : (void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
		inet_ntop(a->ai_family, p, got, sizeof(got));
		if (strcmp(got, addr) == 0)
			break;
	}
	if (res)
		freeaddrinfo(res);
	if (r != 0)
		dl_check_add(c, "dns", DL_CK_FAIL, "sudo dlite install --yes", "%s does not resolve: %s",
			     ctx->cfg.hostname, gai_strerror(r));
	else if (strcmp(got, addr) != 0)
		dl_check_add(c, "dns", DL_CK_FAIL, "sudo dlite install --yes",
			     "%s resolves to %s, not %s", ctx->cfg.hostname, got, addr);
	else
		dl_check_add(c, "dns", DL_CK_OK, NULL, "%s resolves to %s", ctx->cfg.hostname, addr);
}

static bool utf8_locale(void)
{
	setlocale(LC_CTYPE, "");
	const char *cs = nl_langinfo(CODESET);
	return cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

static int exec_doctor(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	struct dl_checks *c = calloc(1, sizeof(*c));
	struct dl_opts o;
	int ch, as_json = 0;
	char hosts[4096], link[4096], target[4096], addr[64] = "127.0.0.1";
	json_t *st = NULL;

	if (!c || dl_opts_init(&o, "doctor", e) < 0) {
		free(c);
		return -1;
	}
	while ((ch = dl_opts_next(&o, argc, argv, e)) != -1) {
		if (ch == 'j')
			as_json = 1;
		else {
			free(c);
			return ch == 'h' ? 0 : -1;
		}
	}
	if (cli_no_args("doctor", argc, argv, optind, e) < 0 || cli_load_config(ctx, e) < 0) {
		free(c);
		return -1;
	}
	if (strcmp(ctx->cfg.network, "bridged") == 0) {
		snprintf(addr, sizeof(addr), "%s", ctx->cfg.bridge_addr);
		addr[strcspn(addr, "/")] = '\0';
	}
	/* the daemon and the VM */
	bool daemon = cli_daemon_running(ctx), running = false;
	struct dl_err se = { 0 };
	if (!daemon)
		dl_check_add(c, "daemon", DL_CK_FAIL, "dlite start",
			     "not running (no answer on %s)", ctx->paths.control);
	else if (cli_request(ctx, "status", 10000, &st, &se) < 0)
		dl_check_add(c, "daemon", DL_CK_FAIL, "dlite restart", "does not answer status: %s",
			     se.msg);
	else {
		const char *state = json_string_value(json_object_get(st, "state"));
		const char *last = json_string_value(json_object_get(st, "last_error"));
		dl_check_add(c, "daemon", DL_CK_OK, NULL, "pid %lld",
			     (long long)json_integer_value(json_object_get(st, "daemon_pid")));
		running = state && strcmp(state, "running") == 0;
		dl_check_add(c, "vm", running ? DL_CK_OK : DL_CK_FAIL, "dlite start", "%s%s%s%s",
			     state ? state : "unknown", running ? ", docker " : "",
			     running ? json_string_value(json_object_get(st, "docker_version")) ?: "?"
				     : "",
			     !running && last ? last : "");
	}
	check_engine(ctx, c, st);
	check_image(ctx, c);
	check_socket(ctx, c, daemon);
	if (dl_syspath(link, sizeof(link), "/var/run/docker.sock", NULL) == 0) {
		struct stat lb;
		bool exists = lstat(link, &lb) == 0;
		ssize_t n = exists ? readlink(link, target, sizeof(target) - 1) : -1;
		if (n >= 0)
			target[n] = '\0';
		dl_doctor_link(c, link, exists, n >= 0 ? target : NULL, ctx->cfg.socket);
	}
	if (dl_syspath(hosts, sizeof(hosts), "/etc/hosts", NULL) == 0) {
		char *text = NULL;
		size_t len = 0;
		if (dl_read_file(hosts, &text, &len, 64 << 20, NULL) < 0)
			text = NULL;
		dl_doctor_hosts(c, hosts, text, len, addr, ctx->cfg.hostname);
		free(text);
	}
	check_dns(ctx, c, addr);
	check_context(ctx, c);
	check_autostart(ctx, c);
	check_ports(c, st);
	check_exports(ctx, c);
	check_host_space(ctx, c);
	check_vm(ctx, c, running);
	check_virtiofsd(ctx, c, st);
	json_decref(st);

	size_t failed = dl_checks_failed(c);
	if (as_json) {
		char *s = dl_checks_json(c);
		puts(s ? s : "{}");
		free(s);
	} else {
		bool tty = isatty(1);
		const char *nc = getenv("NO_COLOR");
		dl_checks_render(stdout, c, utf8_locale(), tty && !(nc && nc[0]) &&
			getenv("TERM") && strcmp(getenv("TERM"), "dumb") != 0);
	}
	free(c);
	return failed ? 1 : 0;
}

const struct dl_cmd cmd_doctor = { .name = "doctor", .exec = exec_doctor };
