/* The dlite command: one file per subcommand, one table (cmdtab.c). */
#ifndef DLITE_CLI_H
#define DLITE_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"
#include "paths.h"

#define DLITE_VERSION "0.1.0"

struct dl_ctx {
	struct dl_paths paths;
	struct dl_config cfg;
	const char *argv0;
};

/* A command's implementation; its help, flags and visibility are in the
 * command table (cmdtab.c), which main.c dispatches from. */
struct dl_cmd {
	const char *name;
	int (*exec)(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e);
};

#define CMD(n) extern const struct dl_cmd cmd_##n
CMD(install); CMD(uninstall); CMD(start); CMD(stop); CMD(restart); CMD(status); CMD(ip);
CMD(ssh); CMD(logs); CMD(update); CMD(rebuild); CMD(config); CMD(version); CMD(daemon);
CMD(chan); CMD(gen); CMD(env); CMD(ssh_config); CMD(doctor);
CMD(helper);
#undef CMD

/* util.c */
int cli_load_config(struct dl_ctx *ctx, struct dl_err *e);
int cli_save_config(struct dl_ctx *ctx, struct dl_err *e);
/* Ask a yes/no question on the terminal; without one, fails unless assume_yes. */
int cli_confirm(const char *question, bool assume_yes, struct dl_err *e);
/* One request line to the daemon's control socket; reply is a JSON line (malloc'd).
 * Returns -1 with ECONNREFUSED/ENOENT in e->errnum when no daemon runs. */
int cli_control(struct dl_ctx *ctx, const char *req, char **reply, int timeout_ms,
		struct dl_err *e);
bool cli_daemon_running(struct dl_ctx *ctx);
/* Start `dlite daemon` in the background and wait for its control socket. */
int cli_spawn_daemon(struct dl_ctx *ctx, struct dl_err *e);
/* idle: `dlite daemon --idle` (adopts a VM a crashed daemon left, boots none). */
int cli_spawn_daemon_opt(struct dl_ctx *ctx, int idle, struct dl_err *e);
/* Directory of the running executable. */
int cli_exe_dir(char *out, size_t n, struct dl_err *e);
/* Default OS image directory: next to the binary (build/os) or PREFIX/lib/dlite/os. */
int cli_default_os(char *out, size_t n, struct dl_err *e);
/* Parse a positive integer flag. */
int cli_int(const char *flag, const char *s, int *out, struct dl_err *e);
/* Reject trailing arguments. */
int cli_no_args(const char *cmd, int argc, char **argv, int optind, struct dl_err *e);
/* The uid/gid of the user dlite works for (SUDO_UID under sudo). */
void cli_target_user(unsigned *uid, unsigned *gid);
double cli_now(void);
/* Sparse data disk with the format marker and the ssh key (cmd_install.c). */
int cli_create_disk(const char *path, int gib, const char *pubkey_path, struct dl_err *e);
/* A control request whose reply is {"ok":true,...} (returned in *out when
 * out is not NULL) or {"ok":false,"error":"..."} (a failure). */
/* context.c: `docker context use dlite`, remembering the previous one; and
 * back to it (uninstall). */
int cli_context_use(struct dl_ctx *ctx, struct dl_err *e);
int cli_context_restore(struct dl_ctx *ctx, struct dl_err *e);
struct json_t;
int cli_request(struct dl_ctx *ctx, const char *req, int timeout_ms, struct json_t **out,
		struct dl_err *e);

#endif
