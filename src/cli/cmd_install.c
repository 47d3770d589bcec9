/* dlite install: config, sparse data disk with the format marker, OS image,
 * hosts line, autostart unit, docker context (and /var/run/docker.sock as root). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autostart.h"
#include "cli.h"
#include "cli/cmdtab.h"
#include "cli/progress.h"
#include "host/atomic.h"
#include "helperunit.h"
#include "osinstall.h"
#include "sysfiles.h"

#define FORMAT_MARKER "dlite, please format-me\n"

/* Write a new sparse disk: the marker and the key at offset 0, then the size. */
int cli_create_disk(const char *path, int gib, const char *pubkey_path, struct dl_err *e)
{
	char *key = NULL;
	size_t keylen = 0;

	if (pubkey_path[0] && dl_read_file(pubkey_path, &key, &keylen, 60 << 10, e) < 0)
		return dl_err_wrap(e, "ssh key");
	if (key && memchr(key, '\0', keylen)) {
		free(key);
		return dl_fail(e, 0, "ssh key %s is not a text public key", pubkey_path);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(key);
		return dl_fail(e, errno, "cannot create the data disk %s", path);
	}
	size_t n = strlen(FORMAT_MARKER);
	int ok = write(fd, FORMAT_MARKER, n) == (ssize_t)n &&
		 (!key || write(fd, key, keylen) == (ssize_t)keylen) && write(fd, "\n\0", 2) == 2 &&
		 ftruncate(fd, (off_t)gib << 30) == 0 && fsync(fd) == 0;
	int err = errno;
	free(key);
	close(fd);
	if (!ok) {
		unlink(path);
		return dl_fail(e, err, "cannot write the data disk %s", path);
	}
	return 0;
}

/* The public key given, the user's usual one, or a key of dlite's own. */
static int pick_ssh_key(struct dl_ctx *ctx, const char *given, struct dl_err *e)
{
	char cand[PATH_MAX], priv[PATH_MAX]; /* realpath() writes up to PATH_MAX */
	const char *names[] = { ".ssh/id_ed25519.pub", ".ssh/id_ecdsa.pub", ".ssh/id_rsa.pub" };

	if (given) {
		if (access(given, R_OK) < 0)
			return dl_fail(e, errno, "-s %s: cannot read the ssh public key", given);
		if (!realpath(given, cand))
			return dl_fail(e, errno, "-s %s", given);
		snprintf(ctx->cfg.ssh_key, sizeof(ctx->cfg.ssh_key), "%s", cand);
		return 0;
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(cand, sizeof(cand), "%s/%s", ctx->paths.user_home, names[i]);
		if (access(cand, R_OK) == 0) {
			snprintf(ctx->cfg.ssh_key, sizeof(ctx->cfg.ssh_key), "%s", cand);
			return 0;
		}
	}
	snprintf(priv, sizeof(priv), "%s/id_ed25519", ctx->paths.home);
	snprintf(cand, sizeof(cand), "%s.pub", priv);
	if (access(cand, R_OK) < 0) {
		char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dlite",
				 "-f", priv, NULL };
		if (cli_run(argv, true) != 0)
			return dl_fail(e, 0, "no ssh key found and ssh-keygen failed; pass -s KEY.pub");
	}
	snprintf(ctx->cfg.ssh_key, sizeof(ctx->cfg.ssh_key), "%s", cand);
	return 0;
}

/* /var/run/docker.sock: dlite's link (to its socket, or into DLITE_HOME) is
 * replaced; anything else is left alone unless --force, which moves it aside
 * to DL_DOCKER_SOCK_ASIDE (uninstall puts it back). */
static bool ours(struct dl_ctx *ctx, const char *path)
{
	char cur[4096];
	ssize_t n = readlink(path, cur, sizeof(cur) - 1);
	size_t hl = strlen(ctx->paths.home);

	if (n < 0)
		return false;
	cur[n] = '\0';
	return !strcmp(cur, ctx->cfg.socket) ||
	       (!strncmp(cur, ctx->paths.home, hl) && cur[hl] == '/');
}

static void describe(const char *path, char *out, size_t n)
{
	char cur[1024];
	struct stat st;
	ssize_t l = readlink(path, cur, sizeof(cur) - 1);

	if (l >= 0) {
		cur[l] = '\0';
		snprintf(out, n, "a link to %s", cur);
	} else if (lstat(path, &st) == 0) {
		snprintf(out, n, "%s", S_ISSOCK(st.st_mode) ? "a socket (another Docker engine?)" :
				       S_ISDIR(st.st_mode) ? "a folder" : "a file");
	} else {
		snprintf(out, n, "there");
	}
}

static int check_var_run(struct dl_ctx *ctx, bool force, struct dl_err *e)
{
	char path[4096], aside[4200], what[1100];
	struct stat st;

	if (dl_syspath(path, sizeof(path), "/var/run/docker.sock", e) < 0)
		return -1;
	if (!strcmp(path, ctx->cfg.socket) || lstat(path, &st) < 0 || ours(ctx, path))
		return 0;
	describe(path, what, sizeof(what));
	if (!force)
		return dl_fail(e, 0, "%s is %s, not dlite's; it is left alone: pass --force to move it "
			       "aside (`dlite uninstall` puts it back), or use --socket", path, what);
	snprintf(aside, sizeof(aside), "%s" DL_DOCKER_SOCK_ASIDE, path);
	if (lstat(aside, &st) == 0)
		return dl_fail(e, 0, "%s is %s and %s already holds what was there before dlite; "
			       "remove one of them", path, what, aside);
	return 0;
}

static int link_var_run(struct dl_ctx *ctx, bool force, struct dl_err *e)
{
	char path[4096], aside[4200], what[1100];
	struct stat st;

	if (check_var_run(ctx, force, e) < 0 ||
	    dl_syspath(path, sizeof(path), "/var/run/docker.sock", e) < 0)
		return -1;
	if (strcmp(path, ctx->cfg.socket) == 0)
		return 0;
	if (lstat(path, &st) == 0) {
		if (ours(ctx, path)) {
			unlink(path);
		} else {
			describe(path, what, sizeof(what));
			snprintf(aside, sizeof(aside), "%s" DL_DOCKER_SOCK_ASIDE, path);
			if (rename(path, aside) < 0)
				return dl_fail(e, errno, "cannot move %s aside to %s", path, aside);
			printf("dlite: moved %s (%s) to %s; `dlite uninstall` puts it back\n", path,
			       what, aside);
		}
	}
	char *slash = strrchr(path, '/');
	if (slash && slash != path) {
		*slash = '\0';
		mkdir(path, 0755); /* /var/run exists on a real system; a sysroot may lack it */
		*slash = '/';
	}
	if (symlink(ctx->cfg.socket, path) < 0)
		return dl_fail(e, errno, "cannot link %s to %s", path, ctx->cfg.socket);
	return 0;
}

static off_t disk_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The step list (progress.c): install_body begins steps, exec_install ends
 * the last one as failed when the body fails. */
static struct dl_prog prog;

/* Host integration: failures are warnings; the step shows them. */
static void step_result(int r, struct dl_err *e)
{
	dl_prog_end(&prog, r < 0 ? DL_PROG_WARN : DL_PROG_OK, r < 0 ? e->msg : NULL);
	if (r < 0 && prog.quiet)
		fprintf(stderr, "dlite: warning: %s\n", e->msg);
}

static int install_body(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	const char *ssh = NULL, *os = NULL, *version = NULL, *pin = NULL;
	bool yes = false, force = false, existing, use_context = false, quiet = false;
	char buf[PATH_MAX]; /* realpath() writes up to PATH_MAX */
	int c;

	existing = access(ctx->paths.config, F_OK) == 0;
	if (existing && cli_load_config(ctx, e) < 0) {
		/* a corrupt config is replaced by a reinstall: start from defaults */
		fprintf(stderr, "dlite: warning: %s; it will be replaced\n", e->msg);
		dl_config_defaults(&ctx->cfg, ctx->paths.user_home, ctx->paths.home);
	}
	int old_disk_gib = ctx->cfg.disk_gib;
	struct dl_opts o;
	if (dl_opts_init(&o, "install", e) < 0)
		return -1;
	while ((c = dl_opts_next(&o, argc, argv, e)) != -1) {
		switch (c) {
		case 'c': if (cli_int("-c", optarg, &ctx->cfg.cpus, e) < 0) return -1; break;
		case 'm': if (cli_int("-m", optarg, &ctx->cfg.memory_gib, e) < 0) return -1; break;
		case 'd': if (cli_int("-d", optarg, &ctx->cfg.disk_gib, e) < 0) return -1; break;
		case 'n': if (dl_config_set(&ctx->cfg, "hostname", optarg, e) < 0) return -1; break;
		case 'S':
			if (optarg[0] && !realpath(optarg, buf))
				return dl_fail(e, errno, "-S %s: the share folder must exist", optarg);
			if (dl_config_set(&ctx->cfg, "share", optarg[0] ? buf : "", e) < 0) return -1;
			break;
		case 's': ssh = optarg; break;
		case 'v': version = optarg; break;
		case 'O': os = optarg; break;
		case 'k': if (dl_config_set(&ctx->cfg, "socket", optarg, e) < 0) return -1; break;
		case 'a': if (dl_config_set(&ctx->cfg, "accel", optarg, e) < 0) return -1; break;
		case 'E': if (dl_config_set(&ctx->cfg, "engine", optarg, e) < 0) return -1; break;
		case 'N':
			if (strcmp(optarg, "bridged") == 0) {
				if (!ctx->cfg.bridge_addr[0])
					snprintf(ctx->cfg.bridge_addr, sizeof(ctx->cfg.bridge_addr),
						 "192.168.127.2/24");
				if (!ctx->cfg.bridge_host[0])
					snprintf(ctx->cfg.bridge_host, sizeof(ctx->cfg.bridge_host),
						 "192.168.127.1/24");
			}
			if (dl_config_set(&ctx->cfg, "network", optarg, e) < 0) return -1;
			break;
		case 'y': yes = true; break;
		case 'C': use_context = true; break;
		case 'q': quiet = true; break;
		case 'F': force = true; break;
		case 'P': if (os_check_pin(optarg, e) < 0) return -1; pin = optarg; break;
		case 'h': return 0;
		default: return -1;
		}
	}
	if (cli_no_args("install", argc, argv, optind, e) < 0)
		return -1;
	if (version && os)
		return dl_fail(e, 0, "give -v or --os, not both");
	if (dl_config_validate(&ctx->cfg, e) < 0)
		return -1;
	bool bridged = strcmp(ctx->cfg.network, "bridged") == 0;
	if (bridged && geteuid() != 0)
		return dl_fail(e, 0, "--network bridged needs root once, for its helper; run `sudo "
			       "dlite install ...` (the daemon then runs as you)");
	if (bridged && cli_helper_check_exe(e) < 0)
		return -1;
	if (geteuid() == 0 && check_var_run(ctx, force, e) < 0)
		return -1;

	/* the OS source, checked before anything is written */
	char src[4096];
	if (os_source(os, version, src, sizeof(src), e) < 0)
		return -1;

	if (existing) {
		if (cli_daemon_running(ctx))
			return dl_fail(e, 0, "dlite is running; run `dlite stop` and `dlite uninstall`, or "
					     "`dlite config set`, instead of reinstalling");
		off_t sz = disk_size(ctx->paths.disk);
		if (sz > 0 && ctx->cfg.disk_gib < (int)(sz >> 30))
			return dl_fail(e, 0, "-d %d GiB is smaller than the existing disk (%d GiB) and its "
					     "data; keep -d %d or run `dlite rebuild`", ctx->cfg.disk_gib,
				       (int)(sz >> 30), old_disk_gib);
		snprintf(buf, sizeof(buf), "dlite is already installed in %s; replace its settings and "
					  "OS image (the data disk is kept)?", ctx->paths.home);
		if (cli_confirm(buf, yes, e) < 0)
			return -1;
	}
	if (mkdir(ctx->paths.home, 0700) < 0 && errno != EEXIST)
		return dl_fail(e, errno, "cannot create %s", ctx->paths.home);
	if (mkdir(ctx->paths.run, 0700) < 0 && errno != EEXIST)
		return dl_fail(e, errno, "cannot create %s", ctx->paths.run);
	if (mkdir(ctx->paths.os_root, 0755) < 0 && errno != EEXIST)
		return dl_fail(e, errno, "cannot create %s", ctx->paths.os_root);
	if (pick_ssh_key(ctx, ssh, e) < 0)
		return -1;
	dl_prog_init(&prog, stderr, quiet);
	dl_prog_current = &prog;
	dl_prog_begin(&prog, "OS image from %s", src);

	struct dl_manifest m;
	char staged[1200];
	int lock cleanup_close = os_lock(ctx->paths.os_lock, e);
	if (lock < 0)
		return -1;
	if (os_stage(src, version, ctx->paths.os_dir, pin, &m, e) < 0)
		return -1;
	snprintf(staged, sizeof(staged), "%s.new", ctx->paths.os_dir);
	if (os_swap_in(staged, ctx->paths.os_dir, ctx->paths.os_prev, e) < 0)
		return -1;
	dl_prog_end(&prog, DL_PROG_OK, m.image_version);
	dl_prog_begin(&prog, "Data disk %s (%d GiB, sparse)", ctx->paths.disk, ctx->cfg.disk_gib);

	off_t sz = disk_size(ctx->paths.disk);
	if (sz < 0) {
		if (cli_create_disk(ctx->paths.disk, ctx->cfg.disk_gib, ctx->cfg.ssh_key, e) < 0)
			return -1;
	} else if (ctx->cfg.disk_gib > (int)(sz >> 30)) {
		if (truncate(ctx->paths.disk, (off_t)ctx->cfg.disk_gib << 30) < 0)
			return dl_fail(e, errno, "cannot grow %s", ctx->paths.disk);
	}
	dl_prog_begin(&prog, "Settings %s", ctx->paths.config);
	if (cli_save_config(ctx, e) < 0)
		return -1;
	dl_prog_end(&prog, DL_PROG_OK, NULL);

	/* the rest is host integration: failures are reported, not fatal */
	const char *addr = "127.0.0.1";
	char vmaddr[64];
	if (strcmp(ctx->cfg.network, "bridged") == 0) {
		snprintf(vmaddr, sizeof(vmaddr), "%s", ctx->cfg.bridge_addr);
		vmaddr[strcspn(vmaddr, "/")] = '\0';
		addr = vmaddr;
	}
	dl_prog_begin(&prog, "Hosts line %s %s", addr, ctx->cfg.hostname);
	step_result(cli_hosts_edit(addr, ctx->cfg.hostname, e), e);
	dl_prog_begin(&prog, "Autostart unit");
	step_result(cli_autostart(ctx, true, e), e);
	if (geteuid() == 0 && link_var_run(ctx, force, e) < 0)
		fprintf(stderr, "dlite: warning: %s\n", e->msg);
	if (cli_docker_context(ctx->cfg.socket, false) != 0)
		fprintf(stderr, "dlite: note: no docker CLI found to create the \"dlite\" context\n");
	else if (use_context && cli_context_use(ctx, e) < 0)
		fprintf(stderr, "dlite: warning: %s\n", e->msg);
	unsigned uid, gid;
	cli_target_user(&uid, &gid);
	if (bridged && (uid == 0 || cli_helper_unit(true, uid, e) < 0))
		fprintf(stderr, "dlite: warning: bridged mode's helper: %s\n",
			uid == 0 ? "root's own daemon is not served; run `sudo dlite install` from "
				   "your user's shell" : e->msg);
	if (uid != geteuid()) {
		/* under sudo: the files belong to the user who runs the daemon */
		char *argv2[] = { "chown", "-R", buf, ctx->paths.home, NULL };
		snprintf(buf, sizeof(buf), "%u:%u", uid, gid);
		cli_run(argv2, true);
	}
	if (!quiet)
		printf("dlite: installed in %s (OS image %s, %d CPUs, %d GiB memory, %d GiB sparse disk)\n"
	       "       run `dlite start`, then use docker as usual (socket %s)\n",
	       ctx->paths.home, m.image_version, ctx->cfg.cpus, ctx->cfg.memory_gib,
	       ctx->cfg.disk_gib, ctx->cfg.socket);
	return 0;
}

static int exec_install(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	int r = install_body(ctx, argc, argv, e);
	if (r < 0)
		dl_prog_end(&prog, DL_PROG_FAIL, NULL);
	dl_prog_current = NULL;
	return r;
}

const struct dl_cmd cmd_install = { .name = "install", .exec = exec_install };
