/* dlite ssh [CMD...] and the hidden `dlite chan TARGET` it uses as ProxyCommand. */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "cli/cmdtab.h"
#include "lib/chan.h"
#include "host/atomic.h"

/* The channel address comes from the daemon, the token from run/token (0600). */
int cli_chan_cfg(struct dl_ctx *ctx, struct dl_chan_cfg *cfg, struct dl_err *e)
{
	json_t *j;
	char *tok = NULL;
	size_t len = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (!cli_daemon_running(ctx))
		return dl_fail(e, 0, "dlite is not running; run `dlite start`");
	if (cli_request(ctx, "status", 10000, &j, e) < 0)
		return -1;
	const char *spec = json_string_value(json_object_get(j, "channel"));
	int r = spec ? dl_chan_cfg_parse(cfg, spec, e)
		     : dl_fail(e, 0, "the VM is not running; run `dlite start`");
	json_decref(j);
	if (r < 0)
		return -1;
	if (dl_read_file(ctx->paths.token, &tok, &len, 256, e) < 0)
		return -1;
	r = dl_token_parse((const uint8_t *)tok, len, cfg->token);
	free(tok);
	if (r < 0)
		return dl_fail(e, 0, "%s is malformed; run `dlite restart`", ctx->paths.token);
	return 0;
}

/* Relay stdin/stdout <-> fd, passing half-close on. */
static int relay_stdio(int fd)
{
	char buf[65536];
	int in_open = 1, out_open = 1;

	while (out_open) {
		struct pollfd p[2] = { { .fd = in_open ? 0 : -1, .events = POLLIN },
				       { .fd = fd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[0].revents) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				in_open = 0;
				shutdown(fd, SHUT_WR);
			} else if (write(fd, buf, (size_t)n) != n) {
				return -1;
			}
		}
		if (p[1].revents) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0) {
				out_open = 0;
			} else {
				for (ssize_t off = 0; off < n;) {
					ssize_t w = write(1, buf + off, (size_t)(n - off));
					if (w <= 0)
						return -1;
					off += w;
				}
			}
		}
	}
	close(1);
	return 0;
}

static int exec_chan(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	struct dl_chan_cfg cfg;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		dl_cmd_usage(stdout, dl_cmdspec_find("chan"));
		return 0;
	}
	if (argc != 2)
		return dl_fail(e, 0, "usage: dlite chan TARGET (docker, control, tcp:PORT)");
	if (cli_load_config(ctx, e) < 0 || cli_chan_cfg(ctx, &cfg, e) < 0)
		return -1;
	int fd = dl_chan_dial(&cfg, argv[1], 10000, e);
	if (fd < 0)
		return -1;
	int r = relay_stdio(fd);
	close(fd);
	return r < 0 ? dl_fail(e, errno, "relay ended") : 0;
}

static int exec_ssh(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	char proxy[1300], known[1200], key[1100], self[1024], dir[1024];

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		dl_cmd_usage(stdout, dl_cmdspec_find("ssh"));
		return 0;
	}
	if (cli_load_config(ctx, e) < 0)
		return -1;
	if (!cli_daemon_running(ctx))
		return dl_fail(e, 0, "dlite is not running; run `dlite start`");
	if (cli_exe_dir(dir, sizeof(dir), e) < 0)
		return -1;
	snprintf(self, sizeof(self), "%s/dlite", dir);
	snprintf(proxy, sizeof(proxy), "ProxyCommand=%s chan tcp:22", self);
	snprintf(known, sizeof(known), "UserKnownHostsFile=%s/known_hosts", ctx->paths.home);
	snprintf(key, sizeof(key), "%s", ctx->cfg.ssh_key);
	size_t kl = strlen(key);
	if (kl > 4 && !strcmp(key + kl - 4, ".pub"))
		key[kl - 4] = '\0';
	char **args = calloc((size_t)argc + 20, sizeof(char *));
	int n = 0;
	args[n++] = "ssh";
	args[n++] = "-o"; args[n++] = proxy;
	args[n++] = "-o"; args[n++] = known;
	args[n++] = "-o"; args[n++] = "StrictHostKeyChecking=accept-new";
	args[n++] = "-o"; args[n++] = "LogLevel=ERROR";
	if (access(key, R_OK) == 0) {
		args[n++] = "-i";
		args[n++] = key;
	}
	args[n++] = "-l"; args[n++] = "docker";
	args[n++] = ctx->cfg.hostname;
	if (argc > 1)
		args[n++] = "--";
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	execvp("ssh", args);
	return dl_fail(e, errno, "cannot run ssh; install openssh-client");
}

const struct dl_cmd cmd_ssh = { .name = "ssh", .exec = exec_ssh };
const struct dl_cmd cmd_chan = { .name = "chan", .exec = exec_chan };
