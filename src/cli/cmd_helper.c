/* dlite helper --uid UID: bridged mode's privileged helper (root), started by
 * the system's service manager; see src/daemon/privd.c.  It reads no
 * configuration: everything it needs is on its command line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "daemon/privd.h"

static int exec_helper(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	unsigned long uid = 0;
	char *end = NULL;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: dlite helper --uid UID\n  bridged mode's privileged helper (root): "
		       "serves UID's daemon; the service manager runs it\n");
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "--uid") != 0)
		return dl_fail(e, 0, "usage: dlite helper --uid UID");
	errno = 0;
	uid = strtoul(argv[2], &end, 10);
	if (errno || !argv[2][0] || *end || uid == 0 || uid > 0x7fffffffUL)
		return dl_fail(e, 0, "--uid %.40s: give the numeric uid of the user whose daemon it "
			       "serves", argv[2]);
	return dl_privd_run((unsigned)uid, e);
}

const struct dl_cmd cmd_helper = { .name = "helper", .exec = exec_helper };
