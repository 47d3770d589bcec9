/* dlite: dispatch with unambiguous prefixes over the command table
 * (cmdtab.c), usage. Each command's exec is in its own file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli/cmdtab.h"

static const struct dl_cmd *const commands[] = {
	&cmd_install, &cmd_start,   &cmd_stop,	 &cmd_restart, &cmd_status,
	&cmd_ip,      &cmd_ssh,	    &cmd_logs,	 &cmd_update,  &cmd_rebuild,
	&cmd_config,  &cmd_uninstall, &cmd_version, &cmd_daemon,  &cmd_chan,    &cmd_helper,
	&cmd_gen,     &cmd_env,	    &cmd_ssh_config, &cmd_doctor,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: dlite COMMAND [ARGS]\n\n"
		   "Runs Docker in a small Linux VM and makes it feel local.\n\ncommands:\n");
	for (const struct dl_cmdspec *c = dl_cmdtab; c->name; c++)
		if (!c->hidden)
			fprintf(f, "  %-11s %s\n", c->name, c->help);
	fprintf(f, "\nRun `dlite COMMAND --help` for a command's flags, `man dlite` for more.\n");
}

static const struct dl_cmd *exec_of(const char *name, struct dl_err *e)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	dl_fail(e, 0, "internal: command %s has no implementation", name);
	return NULL;
}

static const struct dl_cmd *lookup(const char *name, struct dl_err *e)
{
	const struct dl_cmdspec *found = NULL;
	size_t len = strlen(name);

	for (const struct dl_cmdspec *c = dl_cmdtab; c->name; c++) {
		if (strcmp(c->name, name) == 0)
			return exec_of(c->name, e);
		if (len && strncmp(c->name, name, len) == 0 && !c->hidden) {
			if (found) {
				dl_fail(e, 0, "\"%s\" is ambiguous (%s, %s, ...); type more of it", name,
					found->name, c->name);
				return NULL;
			}
			found = c;
		}
	}
	if (!found) {
		dl_fail(e, 0, "unknown command \"%s\"; run `dlite help` for the list", name);
		return NULL;
	}
	return exec_of(found->name, e);
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
