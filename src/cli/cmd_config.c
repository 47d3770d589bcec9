/* dlite config get [KEY] | set KEY VALUE | dlite version */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli/cmdtab.h"
#include "osimage.h"

static int exec_config(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	char val[1100];

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		dl_cmd_usage(argc < 2 ? stderr : stdout, dl_cmdspec_find("config"));
		return argc < 2 ? dl_fail(e, 0, "config needs get or set") : 0;
	}
	if (cli_load_config(ctx, e) < 0)
		return -1;
	if (!strcmp(argv[1], "get")) {
		if (argc > 3)
			return dl_fail(e, 0, "usage: dlite config get [KEY]");
		if (argc == 3) {
			if (dl_config_get(&ctx->cfg, argv[2], val, sizeof(val), e) < 0)
				return -1;
			printf("%s\n", val);
			return 0;
		}
		for (const char *const *k = dl_config_keys; *k; k++) {
			dl_config_get(&ctx->cfg, *k, val, sizeof(val), NULL);
			printf("%s=%s\n", *k, val);
		}
		return 0;
	}
	if (!strcmp(argv[1], "set")) {
		if (argc != 4)
			return dl_fail(e, 0, "usage: dlite config set KEY VALUE");
		if (!strcmp(argv[2], "disk_gib"))
			return dl_fail(e, 0, "disk_gib can't be changed in place; reinstall with -d or "
					     "`dlite rebuild`");
		if (dl_config_set(&ctx->cfg, argv[2], argv[3], e) < 0 || cli_save_config(ctx, e) < 0)
			return -1;
		if (cli_daemon_running(ctx))
			printf("dlite: saved; takes effect at the next `dlite restart`\n");
		return 0;
	}
	return dl_fail(e, 0, "unknown config action \"%s\"; use get or set", argv[1]);
}

static int exec_version(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	struct dl_manifest m;
	struct dl_opts o;
	int c;

	if (dl_opts_init(&o, "version", e) < 0)
		return -1;
	if ((c = dl_opts_next(&o, argc, argv, e)) != -1)
		return c == 'h' ? 0 : -1;
	if (cli_no_args("version", argc, argv, optind, e) < 0)
		return -1;
	printf("dlite %s\n", DLITE_VERSION);
	if (dl_manifest_read(ctx->paths.os_dir, &m, NULL) == 0)
		printf("OS image %s (kernel %s, docker %s)\n", m.image_version, m.kernel_version,
		       m.docker_version);
	return 0;
}

const struct dl_cmd cmd_config = { .name = "config", .exec = exec_config };
const struct dl_cmd cmd_version = { .name = "version", .exec = exec_version };
