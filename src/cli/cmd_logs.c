/* dlite logs [-f] [--console] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli/cmdtab.h"

/* -f across rotation: daemon.log renamed to .1 (open the new one),
 * console.log truncated (read on from its start). */
static void follow_rotation(const char *path, int *fd)
{
	struct stat now, cur;
	off_t at = lseek(*fd, 0, SEEK_CUR);

	if (stat(path, &now) < 0 || fstat(*fd, &cur) < 0)
		return;
	if (now.st_dev != cur.st_dev || now.st_ino != cur.st_ino) {
		int nfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nfd >= 0) {
			close(*fd);
			*fd = nfd;
		}
	} else if (at > now.st_size) {
		lseek(*fd, 0, SEEK_SET);
	}
}

static int exec_logs(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	struct dl_opts o;
	int c, follow = 0, console = 0;
	char buf[65536];

	if (dl_opts_init(&o, "logs", e) < 0)
		return -1;
	while ((c = dl_opts_next(&o, argc, argv, e)) != -1) {
		if (c == 'f')
			follow = 1;
		else if (c == 'C')
			console = 1;
		else
			return c == 'h' ? 0 : -1;
	}
	if (cli_no_args("logs", argc, argv, optind, e) < 0)
		return -1;
	const char *path = console ? ctx->paths.console_log : ctx->paths.daemon_log;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dl_fail(e, errno, "no log yet at %s", path);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return dl_fail(e, errno, "cannot read %s", path);
		}
		if (n == 0) {
			if (!follow)
				break;
			fflush(stdout);
			usleep(200000);
			follow_rotation(path, &fd);
			continue;
		}
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
	}
	close(fd);
	return 0;
}

const struct dl_cmd cmd_logs = { .name = "logs", .exec = exec_logs };
