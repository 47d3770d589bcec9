/* dlite __gen bash|zsh|fish|man: the completions and the man page from the
 * command table (hidden; `make gen` writes them into contrib/). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli/cmdtab.h"

static int exec_gen(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		dl_cmd_usage(stdout, dl_cmdspec_find("__gen"));
		return 0;
	}
	if (argc != 2)
		return dl_fail(e, 0, "usage: dlite __gen bash|zsh|fish|man");
	if (dl_gen(stdout, argv[1], e) < 0)
		return -1;
	return fflush(stdout) == 0 ? 0 : dl_fail(e, 0, "cannot write the output");
}

const struct dl_cmd cmd_gen = { .name = "__gen", .exec = exec_gen };
