/* dlite daemon [--idle]: the long-running process the autostart unit runs. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli/cmdtab.h"
#include "daemon/daemon.h"
#include "daemon/guard.h"
#include "daemon/log.h"

static int exec_daemon(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	struct dl_daemon_opts opts = { 0 };

	struct dl_opts o;
	int c;

	if (dl_opts_init(&o, "daemon", e) < 0)
		return -1;
	while ((c = dl_opts_next(&o, argc, argv, e)) != -1) {
		if (c == 'I')
			opts.idle = true;
		else
			return c == 'h' ? 0 : -1;
	}
	if (cli_no_args("daemon", argc, argv, optind, e) < 0 || cli_load_config(ctx, e) < 0)
		return -1;
	/* floods: daemon.log stays at most 2 x 8 MiB; every fd the system
	 * lets us have (a systemd user unit's soft limit is 1,024) */
	dl_log_rotate_at(ctx->paths.daemon_log, DL_LOG_ROTATE_BYTES);
	dl_raise_nofile();
	return dl_daemon_run(&ctx->paths, &ctx->cfg, &opts, e);
}

const struct dl_cmd cmd_daemon = { .name = "daemon", .exec = exec_daemon };
