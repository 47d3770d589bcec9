/* dlite start | stop | restart: ask the daemon, starting it when needed. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "osinstall.h"

#define START_TIMEOUT_MS (10 * 60 * 1000) /* first boot on TCG with a fresh disk */
#define STOP_TIMEOUT_MS (120 * 1000)

static int simple_flags(const char *name, int argc, char **argv, struct dl_err *e)
{
	static const struct option opts[] = { { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: dlite %s\n", name);
			return 1;
		}
		return dl_fail(e, 0, "unknown flag %s; see `dlite %s --help`", argv[optind - 1], name);
	}
	return cli_no_args(name, argc, argv, optind, e);
}

/* Send a request, turn {"ok":false,"error":...} into a failure. */
int cli_request(struct dl_ctx *ctx, const char *req, int timeout_ms, json_t **out, struct dl_err *e)
{
	char *reply = NULL;
	json_error_t jerr;

	if (cli_control(ctx, req, &reply, timeout_ms, e) < 0)
		return -1;
	json_t *j = json_loads(reply, 0, &jerr);
	free(reply);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return dl_fail(e, 0, "the daemon sent a malformed reply; see `dlite logs`");
	}
	if (!json_is_true(json_object_get(j, "ok"))) {
		const char *msg = json_string_value(json_object_get(j, "error"));
		dl_fail(e, 0, "%s", msg ? msg : "failed; see `dlite logs`");
		json_decref(j);
		return -1;
	}
	if (out)
		*out = j;
	else
		json_decref(j);
	return 0;
}

static int do_start(struct dl_ctx *ctx, struct dl_err *e)
{
	json_t *j;
	double t0 = cli_now();

	if (os_check_installed(ctx->paths.os_dir, e) < 0)
		return -1;
	/* an idle daemon: the start is this command's request, so of two
	 * `dlite start` at once the first request starts the VM and the other
	 * is told it joined (a daemon that starts the VM itself would make
	 * both join) */
	if (!cli_daemon_running(ctx) && cli_spawn_daemon_opt(ctx, 1, e) < 0)
		return -1;
	if (cli_request(ctx, "start", START_TIMEOUT_MS, &j, e) < 0)
		return -1;
	if (json_is_true(json_object_get(j, "joined")))
		printf("dlite: already being started (another `dlite start`); up after %.1f s; docker "
		       "answers at unix://%s\n", cli_now() - t0, ctx->cfg.socket);
	else
		printf("dlite: started in %.1f s; docker answers at unix://%s\n", cli_now() - t0,
		       ctx->cfg.socket);
	json_decref(j);
	return 0;
}

static int do_stop(struct dl_ctx *ctx, struct dl_err *e)
{
	double t0 = cli_now();

	if (!cli_daemon_running(ctx)) {
		/* a daemon that crashed may have left its VM running: an idle
		 * daemon adopts it (and boots nothing), then stops it */
		if (access(ctx->paths.state, F_OK) < 0)
			return dl_fail(e, 0, "dlite is not running");
		if (cli_spawn_daemon_opt(ctx, 1, e) < 0)
			return -1;
	}
	if (cli_request(ctx, "stop", STOP_TIMEOUT_MS, NULL, e) < 0)
		return -1;
	printf("dlite: stopped in %.1f s\n", cli_now() - t0);
	return 0;
}

static int exec_start(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	int r = simple_flags("start", argc, argv, e);
	if (r)
		return r < 0 ? -1 : 0;
	if (cli_load_config(ctx, e) < 0)
		return -1;
	return do_start(ctx, e);
}

static int exec_stop(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	int r = simple_flags("stop", argc, argv, e);
	if (r)
		return r < 0 ? -1 : 0;
	if (cli_load_config(ctx, e) < 0)
		return -1;
	return do_stop(ctx, e);
}

static int exec_restart(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	int r = simple_flags("restart", argc, argv, e);
	json_t *j;
	if (r)
		return r < 0 ? -1 : 0;
	if (cli_load_config(ctx, e) < 0)
		return -1;
	if (cli_daemon_running(ctx) && cli_request(ctx, "status", 5000, &j, e) == 0) {
		const char *st = json_string_value(json_object_get(j, "state"));
		int up = st && strcmp(st, "stopped") != 0;
		json_decref(j);
		if (up && do_stop(ctx, e) < 0)
			return -1;
	}
	return do_start(ctx, e);
}

const struct dl_cmd cmd_start = {
	.name = "start", .help = "start the VM; returns once docker answers", .exec = exec_start,
};
const struct dl_cmd cmd_stop = {
	.name = "stop", .help = "power the VM off cleanly", .exec = exec_stop,
};
const struct dl_cmd cmd_restart = {
	.name = "restart", .help = "stop, then start", .exec = exec_restart,
};
