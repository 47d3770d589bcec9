/* dlite start | stop | restart: ask the daemon, starting it when needed. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <unistd.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "osinstall.h"
#include "cli/cmdtab.h"
#include "cli/progress.h"

#define START_TIMEOUT_MS (10 * 60 * 1000) /* first boot on TCG with a fresh disk */
#define STOP_TIMEOUT_MS (120 * 1000)

/* Flags from the table: 1 after --help, 0 to go on, -1 on bad input. */
static int simple_flags(const char *name, int argc, char **argv, bool *quiet, struct dl_err *e)
{
	struct dl_opts o;
	int c;

	if (dl_opts_init(&o, name, e) < 0)
		return -1;
	while ((c = dl_opts_next(&o, argc, argv, e)) != -1) {
		if (c == 'h')
			return 1;
		if (c == 'q' && quiet)
			*quiet = true;
		else
			return -1;
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

/* The start request runs in a thread; the main thread polls status for the
 * agent's boot stamps and shows them as phases. */
struct start_req {
	struct dl_ctx *ctx;
	json_t *reply;
	struct dl_err e;
	int r;
	volatile int done;
};

static void *start_thread(void *arg)
{
	struct start_req *s = arg;
	s->r = cli_request(s->ctx, "start", START_TIMEOUT_MS, &s->reply, &s->e);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Phases, each ended by an agent stamp (HACKING.md, the guest contract). */
static const struct { const char *label, *stamp; } phases[] = {
	{ "kernel", "agent" },
	{ "agent: root, data disk, network", "network" },
	{ "containerd", "containerd" },
	{ "dockerd", "dockerd" },
};
#define NPHASES (sizeof(phases) / sizeof(*phases))

static void show_phases(struct dl_ctx *ctx, struct dl_prog *p, size_t *next, long *prev_ms)
{
	json_t *st, *stamps;
	struct dl_err e = { 0 };

	if (cli_request(ctx, "status", 2000, &st, &e) < 0)
		return;
	stamps = json_object_get(st, "boot_stamps");
	while (*next < NPHASES && json_is_integer(json_object_get(stamps, phases[*next].stamp))) {
		long ms = (long)json_integer_value(json_object_get(stamps, phases[*next].stamp));
		dl_prog_done(p, phases[*next].label, (double)(ms - *prev_ms) / 1000.0);
		*prev_ms = ms;
		if (++*next < NPHASES)
			dl_prog_begin(p, "%s", phases[*next].label);
	}
	json_decref(st);
}

static int do_start(struct dl_ctx *ctx, bool quiet, struct dl_err *e)
{
	json_t *j;
	double t0 = cli_now();
	struct dl_prog p;
	struct start_req s = { .ctx = ctx };
	pthread_t th;
	size_t next = 0;
	long prev_ms = 0;

	if (os_check_installed(ctx->paths.os_dir, e) < 0)
		return -1;
	dl_prog_init(&p, stderr, quiet);
	/* an idle daemon: the start is this command's request, so of two
	 * `dlite start` at once the first request starts the VM and the other
	 * is told it joined (a daemon that starts the VM itself would make
	 * both join) */
	if (!cli_daemon_running(ctx) && cli_spawn_daemon_opt(ctx, 1, e) < 0)
		return -1;
	dl_prog_begin(&p, "%s", phases[0].label);
	if (pthread_create(&th, NULL, start_thread, &s) != 0) {
		dl_prog_end(&p, DL_PROG_FAIL, NULL);
		return dl_fail(e, errno, "cannot start a thread");
	}
	double last_poll = 0;
	while (!__atomic_load_n(&s.done, __ATOMIC_ACQUIRE)) {
		usleep(100000);
		dl_prog_tick(&p);
		if (cli_now() - last_poll >= 0.5) {
			last_poll = cli_now();
			show_phases(ctx, &p, &next, &prev_ms);
		}
	}
	pthread_join(th, NULL);
	if (s.r < 0) {
		dl_prog_end(&p, DL_PROG_FAIL, NULL);
		*e = s.e;
		return -1;
	}
	show_phases(ctx, &p, &next, &prev_ms);
	dl_prog_end(&p, DL_PROG_OK, NULL);
	j = s.reply;
	if (quiet)
		;
	else if (json_is_true(json_object_get(j, "adopted")))
		printf("dlite: took over the VM a previous daemon left running (%.1f s); docker "
		       "answers at unix://%s\n", cli_now() - t0, ctx->cfg.socket);
	else if (json_is_true(json_object_get(j, "joined")))
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
	bool quiet = false;
	int r = simple_flags("start", argc, argv, &quiet, e);
	if (r)
		return r < 0 ? -1 : 0;
	if (cli_load_config(ctx, e) < 0)
		return -1;
	return do_start(ctx, quiet, e);
}

static int exec_stop(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	int r = simple_flags("stop", argc, argv, NULL, e);
	if (r)
		return r < 0 ? -1 : 0;
	if (cli_load_config(ctx, e) < 0)
		return -1;
	return do_stop(ctx, e);
}

static int exec_restart(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	bool quiet = false;
	int r = simple_flags("restart", argc, argv, &quiet, e);
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
	return do_start(ctx, quiet, e);
}

const struct dl_cmd cmd_start = { .name = "start", .exec = exec_start };
const struct dl_cmd cmd_stop = { .name = "stop", .exec = exec_stop };
const struct dl_cmd cmd_restart = { .name = "restart", .exec = exec_restart };
