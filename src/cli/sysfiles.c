/* The system files the CLI edits: /etc/hosts, the autostart unit, the docker
 * context, the /var/run/docker.sock link. All paths go through DLITE_SYSROOT. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "host/atomic.h"
#include "host/cmd.h"
#include "host/hosts.h"
#include "sysfiles.h"

int cli_run(char *const argv[], bool quiet)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (quiet) {
			FILE *n = fopen("/dev/null", "w");
			if (n) {
				dup2(fileno(n), 1);
				dup2(fileno(n), 2);
			}
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int cli_hosts_edit(const char *addr, const char *hostname, struct dl_err *e)
{
	char path[4096];
	char *text = NULL, *out;
	size_t len = 0, outlen = 0;

	if (dl_syspath(path, sizeof(path), "/etc/hosts", e) < 0)
		return -1;
	/* held from the read to the rename: two edits never lose each other's line */
	int lock cleanup_close = dl_file_lock(path, e);
	if (lock < 0)
		return dl_err_wrap(e, "%s", addr ? "cannot add the hosts line" : "cannot remove the hosts line");
	if (access(path, F_OK) == 0 && dl_read_file(path, &text, &len, 64 << 20, e) < 0)
		return -1;
	if (addr)
		out = dl_hosts_set(text ? text : "", len, addr, hostname, &outlen);
	else
		out = dl_hosts_remove(text ? text : "", len, &outlen);
	if (!out) {
		free(text);
		return dl_fail(e, ENOMEM, "cannot edit %s", path);
	}
	int r = 0;
	if (!text || outlen != len || memcmp(out, text, len) != 0)
		r = dl_atomic_write(path, out, outlen, 0644, e);
	free(text);
	free(out);
	if (r < 0)
		return dl_err_wrap(e, "%s", addr ? "cannot add the hosts line (run `sudo dlite install` "
						  "or add it yourself)" : "cannot remove the hosts line");
	return 0;
}

int cli_docker_context(const char *socket, bool remove)
{
	char host[1200];
	snprintf(host, sizeof(host), "host=unix://%s", socket);
	if (remove) {
		char *rm[] = { "docker", "context", "rm", "-f", "dlite", NULL };
		return cli_run(rm, true);
	}
	char *create[] = { "docker", "context", "create", "dlite", "--description",
			   "dlite VM", "--docker", host, NULL };
	if (cli_run(create, true) == 0)
		return 0;
	char *update[] = { "docker", "context", "update", "dlite", "--docker", host, NULL };
	return cli_run(update, true);
}

void cli_run_cmd(char **argv)
{
	if (argv)
		cli_run(argv, true);
	dl_cmd_free(argv);
}

int cli_write_unit(const char *path, char *text, struct dl_err *e)
{
	char dir[4200];

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		free(text);
		return dl_fail(e, ENAMETOOLONG, "unit path %.200s is too long", path);
	}
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int r = mkdir(dir, 0755);
		*p = '/';
		if (r < 0 && errno != EEXIST) {
			free(text);
			return dl_fail(e, errno, "cannot create the folder of %s", path);
		}
	}
	int r = dl_atomic_write(path, text, strlen(text), 0644, e);
	free(text);
	return r;
}
