/* dlite uninstall [--yes]: removes all that install added. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autostart.h"
#include "cli.h"
#include "cli/cmdtab.h"
#include "lib/nfs.h"
#include "host/atomic.h"
#include "helperunit.h"
#include "osinstall.h"
#include "sysfiles.h"

static void rm(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		fprintf(stderr, "dlite: warning: cannot remove %s: %s\n", path, strerror(errno));
}

static int exec_uninstall(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	int yes = 0, c;
	char q[1300], path[4096], link[4096];
	struct dl_opts o;

	if (dl_opts_init(&o, "uninstall", e) < 0)
		return -1;
	while ((c = dl_opts_next(&o, argc, argv, e)) != -1) {
		if (c == 'y')
			yes = 1;
		else
			return c == 'h' ? 0 : -1;
	}
	if (cli_no_args("uninstall", argc, argv, optind, e) < 0)
		return -1;
	if (access(ctx->paths.config, F_OK) < 0 && access(ctx->paths.home, F_OK) < 0)
		return dl_fail(e, 0, "dlite is not installed in %s", ctx->paths.home);
	if (cli_load_config(ctx, e) < 0)
		fprintf(stderr, "dlite: warning: %s; removing anyway\n", e->msg);
	snprintf(q, sizeof(q), "Remove dlite from %s, including the data disk (all images, "
			       "containers and volumes)?", ctx->paths.home);
	if (cli_confirm(q, yes, e) < 0)
		return -1;
	if (cli_daemon_running(ctx) && cli_request(ctx, "quit", 180000, NULL, e) < 0)
		return dl_err_wrap(e, "cannot stop the daemon");
	if (cli_autostart(ctx, false, e) < 0)
		fprintf(stderr, "dlite: warning: %s\n", e->msg);
	if (cli_hosts_edit(NULL, NULL, e) < 0)
		fprintf(stderr, "dlite: warning: %s\n", e->msg);
	/* hyperkit's NFS export (the block between "# dlite begin/end") */
	if (dl_nfs_unexport(e) < 0)
		fprintf(stderr, "dlite: warning: %s\n", e->msg);
	if (cli_context_restore(ctx, e) < 0)
		fprintf(stderr, "dlite: warning: %s\n", e->msg);
	cli_docker_context(ctx->cfg.socket, true);
	if (dl_syspath(path, sizeof(path), "/var/run/docker.sock", NULL) == 0) {
		char aside[4200];
		struct stat st;
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			if (strcmp(link, ctx->cfg.socket) == 0)
				rm(path);
		}
		/* what install --force moved aside goes back */
		snprintf(aside, sizeof(aside), "%s" DL_DOCKER_SOCK_ASIDE, path);
		if (lstat(aside, &st) == 0) {
			if (lstat(path, &st) == 0 || rename(aside, path) < 0)
				fprintf(stderr, "dlite: warning: cannot put %s back to %s (%s); move it "
					"yourself: sudo mv %s %s\n", aside, path,
					lstat(path, &st) == 0 ? "something is there" : strerror(errno),
					aside, path);
			else
				printf("dlite: put back %s\n", path);
		}
	}
	/* bridged mode's helper (root's service) */
	unsigned uid, gid;
	cli_target_user(&uid, &gid);
	if (geteuid() == 0 && uid != 0 && cli_helper_unit(false, uid, e) < 0)
		fprintf(stderr, "dlite: warning: %s\n", e->msg);
	os_rmdir(ctx->paths.os_dir);
	os_rmdir(ctx->paths.os_prev);
	rmdir(ctx->paths.os_root);
	os_rmdir(ctx->paths.run);
	const char *files[] = { ctx->paths.disk, ctx->paths.config, ctx->paths.daemon_log,
				ctx->paths.console_log, ctx->paths.accel, ctx->paths.control,
				ctx->cfg.socket, ctx->paths.os_lock };
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
		rm(files[i]);
	snprintf(path, sizeof(path), "%s/known_hosts", ctx->paths.home);
	rm(path);
	snprintf(path, sizeof(path), "%s/id_ed25519", ctx->paths.home);
	rm(path);
	strcat(path, ".pub");
	rm(path);
	if (rmdir(ctx->paths.home) < 0 && errno != ENOENT)
		fprintf(stderr, "dlite: note: %s is not empty (files not made by dlite are kept)\n",
			ctx->paths.home);
	printf("dlite: uninstalled\n");
	return 0;
}

const struct dl_cmd cmd_uninstall = { .name = "uninstall", .exec = exec_uninstall };
