/* dlite daemon [--idle]: the long-running process the autostart unit runs. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "daemon/daemon.h"
#include "daemon/guard.h"
#include "daemon/log.h"

static int exec_daemon(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	struct dl_daemon_opts opts = { 0 };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--idle"))
			opts.idle = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: dlite daemon [--idle]\n  runs in the foreground; --idle waits for "
			       "`dlite start` instead of starting the VM\n");
			return 0;
		} else
			return dl_fail(e, 0, "unknown argument %s; see `dlite daemon --help`", argv[i]);
	}
	if (cli_load_config(ctx, e) < 0)
		return -1;
	/* floods: daemon.log stays at most 2 x 8 MiB; every fd the system
	 * lets us have (a systemd user unit's soft limit is 1,024) */
	dl_log_rotate_at(ctx->paths.daemon_log, DL_LOG_ROTATE_BYTES);
	dl_raise_nofile();
	return dl_daemon_run(&ctx->paths, &ctx->cfg, &opts, e);
}

const struct dl_cmd cmd_daemon = {
	.name = "daemon", .help = "run the daemon in the foreground (what autostart runs)",
	.exec = exec_daemon,
};
