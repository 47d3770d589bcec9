/* dlite: the command table, dispatch with unambiguous prefixes, usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct dl_cmd *const commands[] = {
	&cmd_install, &cmd_start,   &cmd_stop,	 &cmd_restart, &cmd_status,
	&cmd_ip,      &cmd_ssh,	    &cmd_logs,	 &cmd_update,  &cmd_rebuild,
	&cmd_config,  &cmd_uninstall, &cmd_version, &cmd_daemon,  &cmd_chan,    &cmd_helper,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: dlite COMMAND [ARGS]\n\n"
		   "Runs Docker in a small Linux VM and makes it feel local.\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!commands[i]->hidden)
			fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->help);
	fprintf(f, "\nRun `dlite COMMAND --help` for a command's flags.\n");
}

static const struct dl_cmd *lookup(const char *name, struct dl_err *e)
{
	const struct dl_cmd *found = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
		if (len && strncmp(commands[i]->name, name, len) == 0 && !commands[i]->hidden) {
			if (found) {
				dl_fail(e, 0, "\"%s\" is ambiguous (%s, %s, ...); type more of it", name,
					found->name, commands[i]->name);
				return NULL;
			}
			found = commands[i];
		}
	}
	if (!found)
		dl_fail(e, 0, "unknown command \"%s\"; run `dlite help` for the list", name);
	return found;
}

int main(int argc, char **argv)
{
	struct dl_ctx ctx = { .argv0 = argv[0] };
	struct dl_err e = { 0 };
	const struct dl_cmd *cmd;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("dlite %s\n", DLITE_VERSION);
		return 0;
	}
	if (!(cmd = lookup(argv[1], &e))) {
		fprintf(stderr, "dlite: %s\n", e.msg);
		return 2;
	}
	if (dl_paths_init(&ctx.paths, &e) < 0) {
		fprintf(stderr, "dlite: %s\n", e.msg);
		return 1;
	}
	dl_config_defaults(&ctx.cfg, ctx.paths.user_home, ctx.paths.home);
	int r = cmd->exec(&ctx, argc - 1, argv + 1, &e);
	if (r < 0) {
		fprintf(stderr, "dlite %s: %s\n", cmd->name, e.msg);
		return r == -2 ? 2 : 1;
	}
	return r;
}
