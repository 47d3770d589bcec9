/* dlite install --context: make "dlite" the current docker context and keep
 * the one it replaces in $DLITE_HOME/previous-context, so uninstall can switch
 * back. The docker CLI does the work (it honours DOCKER_CONFIG). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lib/run.h"
#include "host/atomic.h"
#include "sysfiles.h"

static void prev_path(struct dl_ctx *ctx, char *out, size_t n)
{
	snprintf(out, n, "%s/previous-context", ctx->paths.home);
}

/* The current context's name, "" when docker cannot tell (DOCKER_HOST would
 * make docker say "default" whatever the current context is). */
static void current_context(char *out, size_t n)
{
	const char *argv[] = { "env", "-u", "DOCKER_HOST", "docker", "context", "show", NULL };
	if (dl_run_capture(argv, out, n, 10000) != 0)
		out[0] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
}

int cli_context_use(struct dl_ctx *ctx, struct dl_err *e)
{
	char cur[256], path[1200];

	current_context(cur, sizeof(cur));
	if (!cur[0])
		return dl_fail(e, 0, "docker cannot show its current context; install the docker CLI "
				     "and run `docker context use dlite`");
	prev_path(ctx, path, sizeof(path));
	if (strcmp(cur, "dlite") != 0) {
		strcat(cur, "\n");
		if (dl_atomic_write(path, cur, strlen(cur), 0600, e) < 0)
			return -1;
	}
	char *use[] = { "docker", "context", "use", "dlite", NULL };
	if (cli_run(use, true) != 0)
		return dl_fail(e, 0, "`docker context use dlite` failed; run it yourself to see why");
	return 0;
}

int cli_context_restore(struct dl_ctx *ctx, struct dl_err *e)
{
	char cur[256], path[1200], *prev = NULL;
	size_t len = 0;

	current_context(cur, sizeof(cur));
	prev_path(ctx, path, sizeof(path));
	if (access(path, F_OK) == 0 && dl_read_file(path, &prev, &len, 256, e) < 0)
		return -1;
	if (prev)
		prev[strcspn(prev, "\r\n")] = '\0';
	int r = 0;
	if (strcmp(cur, "dlite") == 0) {
		char *use[] = { "docker", "context", "use", prev && prev[0] ? prev : "default", NULL };
		if (cli_run(use, true) != 0)
			r = dl_fail(e, 0, "`docker context use %s` failed; run `docker context use "
					  "default`", use[3]);
	}
	free(prev);
	if (r == 0 && unlink(path) < 0 && errno != ENOENT)
		r = dl_fail(e, errno, "cannot remove %s", path);
	return r;
}
