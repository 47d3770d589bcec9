/* dlite update [-v VERSION | --os PATH|URL | --rollback] and dlite rebuild [--yes].
 * Neither runs while the VM does; update never touches the data disk. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli/cmdtab.h"
#include "cli/progress.h"
#include "osinstall.h"

static int require_stopped(struct dl_ctx *ctx, const char *cmd, struct dl_err *e)
{
	json_t *j;

	if (!cli_daemon_running(ctx))
		return 0;
	if (cli_request(ctx, "status", 5000, &j, e) < 0)
		return -1;
	const char *st = json_string_value(json_object_get(j, "state"));
	int stopped = st && strcmp(st, "stopped") == 0;
	json_decref(j);
	if (!stopped)
		return dl_fail(e, 0, "the VM is running; run `dlite stop` first, then `dlite %s`", cmd);
	return 0;
}

static struct dl_prog prog; /* update's step list; exec_update ends it on failure */

static int update_body(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	struct dl_opts o;
	bool quiet = false;
	const char *version = NULL, *os = NULL, *pin = NULL;
	int c, rollback = 0;
	char src[4096], staged[1200];
	struct dl_manifest m, old;

	if (dl_opts_init(&o, "update", e) < 0)
		return -1;
	while ((c = dl_opts_next(&o, argc, argv, e)) != -1) {
		switch (c) {
		case 'v': version = optarg; break;
		case 'O': os = optarg; break;
		case 'R': rollback = 1; break;
		case 'P': pin = optarg; break;
		case 'q': quiet = true; break;
		case 'h': return 0;
		default: return -1;
		}
	}
	if (cli_no_args("update", argc, argv, optind, e) < 0 || cli_load_config(ctx, e) < 0 ||
	    require_stopped(ctx, "update", e) < 0)
		return -1;
	if (rollback + !!version + !!os > 1)
		return dl_fail(e, 0, "give only one of -v, --os and --rollback");
	if (pin && (rollback || os_check_pin(pin, e) < 0))
		return rollback ? dl_fail(e, 0, "--sha256 pins a download; not with --rollback") : -1;
	/* no crash restart of the VM, no other update while the images move */
	int lock cleanup_close = os_lock(ctx->paths.os_lock, e);
	if (lock < 0)
		return -1;
	dl_prog_init(&prog, stderr, quiet);
	dl_prog_current = &prog;
	if (rollback) {
		dl_prog_begin(&prog, "Rolling back to %s", ctx->paths.os_prev);
		snprintf(staged, sizeof(staged), "%s.new", ctx->paths.os_dir);
		if (dl_manifest_verify(ctx->paths.os_prev, &m, e) < 0)
			return dl_err_wrap(e, "no previous OS image to roll back to");
		os_rmdir(staged);
		if (rename(ctx->paths.os_prev, staged) < 0)
			return dl_fail(e, errno, "cannot stage %s", ctx->paths.os_prev);
		if (os_swap_in(staged, ctx->paths.os_dir, ctx->paths.os_prev, e) < 0)
			return -1;
		dl_prog_end(&prog, DL_PROG_OK, m.image_version);
		if (!quiet)
			printf("dlite: rolled back to OS image %s\n", m.image_version);
		return 0;
	}
	if (os_source(os, version, src, sizeof(src), e) < 0)
		return -1;
	dl_prog_begin(&prog, "OS image from %s", src);
	if (dl_manifest_read(ctx->paths.os_dir, &old, NULL) < 0)
		snprintf(old.image_version, sizeof(old.image_version), "none");
	if (os_stage(src, version, ctx->paths.os_dir, pin, &m, e) < 0)
		return -1;
	snprintf(staged, sizeof(staged), "%s.new", ctx->paths.os_dir);
	if (os_swap_in(staged, ctx->paths.os_dir, ctx->paths.os_prev, e) < 0)
		return -1;
	dl_prog_end(&prog, DL_PROG_OK, m.image_version);
	if (!quiet)
		printf("dlite: OS image %s -> %s (data disk untouched; `dlite update --rollback` undoes)\n",
	       old.image_version, m.image_version);
	return 0;
}

static int exec_rebuild(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	int yes = 0, c;
	char q[1300], tmp[1200];
	struct dl_opts o;

	if (dl_opts_init(&o, "rebuild", e) < 0)
		return -1;
	while ((c = dl_opts_next(&o, argc, argv, e)) != -1) {
		if (c == 'y')
			yes = 1;
		else
			return c == 'h' ? 0 : -1;
	}
	if (cli_no_args("rebuild", argc, argv, optind, e) < 0 || cli_load_config(ctx, e) < 0 || require_stopped(ctx, "rebuild", e) < 0)
		return -1;
	snprintf(q, sizeof(q), "Replace %s with a fresh empty %d GiB disk? All images, containers "
			       "and volumes will be lost", ctx->paths.disk, ctx->cfg.disk_gib);
	if (cli_confirm(q, yes, e) < 0)
		return -1;
	int lock cleanup_close = os_lock(ctx->paths.os_lock, e);
	if (lock < 0)
		return -1;
	/* the new disk is complete before the old one goes */
	snprintf(tmp, sizeof(tmp), "%s.new", ctx->paths.disk);
	unlink(tmp);
	if (cli_create_disk(tmp, ctx->cfg.disk_gib, ctx->cfg.ssh_key, e) < 0)
		return -1;
	if (rename(tmp, ctx->paths.disk) < 0) {
		unlink(tmp);
		return dl_fail(e, errno, "cannot replace %s", ctx->paths.disk);
	}
	printf("dlite: new empty data disk; it is formatted at the next `dlite start`\n");
	return 0;
}

static int exec_update(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	int r = update_body(ctx, argc, argv, e);
	if (r < 0)
		dl_prog_end(&prog, DL_PROG_FAIL, NULL);
	dl_prog_current = NULL;
	return r;
}

const struct dl_cmd cmd_update = { .name = "update", .exec = exec_update };
const struct dl_cmd cmd_rebuild = { .name = "rebuild", .exec = exec_rebuild };
