#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif

#include "cli.h"
#include "host/atomic.h"

double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_load_config(struct dl_ctx *ctx, struct dl_err *e)
{
	char *text = NULL;
	size_t len = 0;

	if (access(ctx->paths.config, F_OK) < 0)
		return dl_fail(e, 0, "dlite is not installed in %s (no config.json); run `dlite "
				     "install` first", ctx->paths.home);
	if (dl_read_file(ctx->paths.config, &text, &len, 1 << 20, e) < 0)
		return -1;
	int r = dl_config_parse(text, len, ctx->paths.user_home, ctx->paths.home, &ctx->cfg, e);
	free(text);
	if (r < 0)
		return dl_err_wrap(e, "%s", ctx->paths.config);
	return 0;
}

int cli_save_config(struct dl_ctx *ctx, struct dl_err *e)
{
	char *text = dl_config_dump(&ctx->cfg);

	if (!text)
		return dl_fail(e, ENOMEM, "cannot serialise config");
	int r = dl_atomic_write(ctx->paths.config, text, strlen(text), 0600, e);
	free(text);
	return r;
}

int cli_confirm(const char *question, bool assume_yes, struct dl_err *e)
{
	char line[32];

	if (assume_yes)
		return 0;
	FILE *tty = fopen("/dev/tty", "r+e");
	if (!tty)
		return dl_fail(e, 0, "%s: no terminal to ask on; pass --yes to confirm", question);
	fprintf(tty, "%s [y/N] ", question);
	fflush(tty);
	if (!fgets(line, sizeof(line), tty)) {
		fclose(tty);
		return dl_fail(e, 0, "no answer; nothing was changed");
	}
	fclose(tty);
	if (line[0] == 'y' || line[0] == 'Y')
		return 0;
	return dl_fail(e, 0, "not confirmed; nothing was changed");
}

static int control_connect(struct dl_ctx *ctx, struct dl_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(ctx->paths.control) >= sizeof(sa.sun_path))
		return dl_fail(e, ENAMETOOLONG, "control socket path %s", ctx->paths.control);
	strcpy(sa.sun_path, ctx->paths.control);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return dl_fail(e, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		close(fd);
		return dl_fail(e, err, "the dlite daemon is not running (%s)", ctx->paths.control);
	}
	return fd;
}

bool cli_daemon_running(struct dl_ctx *ctx)
{
	int fd = control_connect(ctx, NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int cli_control(struct dl_ctx *ctx, const char *req, char **reply, int timeout_ms,
		struct dl_err *e)
{
	int fd = control_connect(ctx, e);
	size_t cap = 4096, len = 0;
	char *buf;
	double deadline = cli_now() + timeout_ms / 1000.0;

	if (fd < 0)
		return -1;
	if (write(fd, req, strlen(req)) < 0 || write(fd, "\n", 1) < 0) {
		close(fd);
		return dl_fail(e, errno, "cannot talk to the dlite daemon");
	}
	buf = malloc(cap);
	for (;;) {
		int left = (int)((deadline - cli_now()) * 1000);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, left) == 0) {
			free(buf);
			close(fd);
			return dl_fail(e, ETIMEDOUT, "the dlite daemon did not answer \"%s\" in time; "
						     "see `dlite logs`", req);
		}
		if (len + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		if (memchr(buf, '\n', len))
			break;
	}
	close(fd);
	buf[len] = '\0';
	if (len == 0) {
		free(buf);
		return dl_fail(e, 0, "the dlite daemon closed the connection; see `dlite logs`");
	}
	*reply = buf;
	return 0;
}

int cli_exe_dir(char *out, size_t n, struct dl_err *e)
{
	char path[PATH_MAX];
#ifdef __APPLE__
	uint32_t sz = sizeof(path);
	char tmp[PATH_MAX];
	if (_NSGetExecutablePath(tmp, &sz) != 0 || !realpath(tmp, path))
		return dl_fail(e, errno, "cannot find the dlite executable");
#else
	ssize_t r = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (r < 0)
		return dl_fail(e, errno, "cannot find the dlite executable");
	path[r] = '\0';
#endif
	char *slash = strrchr(path, '/');
	if (slash)
		*slash = '\0';
	if (strlen(path) >= n)
		return dl_fail(e, ENAMETOOLONG, "executable path");
	strcpy(out, path);
	return 0;
}

int cli_default_os(char *out, size_t n, struct dl_err *e)
{
	char dir[PATH_MAX], cand[PATH_MAX + 32];

	if (cli_exe_dir(dir, sizeof(dir), e) < 0)
		return -1;
	snprintf(cand, sizeof(cand), "%s/os", dir); /* build/dlite -> build/os */
	if (access(cand, F_OK) < 0)
		snprintf(cand, sizeof(cand), "%s/../lib/dlite/os", dir); /* PREFIX/bin */
	if (access(cand, F_OK) < 0)
		return dl_fail(e, 0, "no OS image next to dlite (%s/os or %s/../lib/dlite/os); run "
				     "`make image` or pass --os PATH", dir, dir);
	if (!realpath(cand, dir))
		return dl_fail(e, errno, "%s", cand);
	if (strlen(dir) >= n)
		return dl_fail(e, ENAMETOOLONG, "OS image path");
	strcpy(out, dir);
	return 0;
}

int cli_spawn_daemon(struct dl_ctx *ctx, struct dl_err *e)
{
	return cli_spawn_daemon_opt(ctx, 0, e);
}

int cli_spawn_daemon_opt(struct dl_ctx *ctx, int idle, struct dl_err *e)
{
	char exe[PATH_MAX], self[PATH_MAX + 8];
	pid_t pid;

	if (cli_exe_dir(exe, sizeof(exe), e) < 0)
		return -1;
	snprintf(self, sizeof(self), "%s/dlite", exe);
	pid = fork();
	if (pid < 0)
		return dl_fail(e, errno, "fork");
	if (pid == 0) {
		/* double fork: the daemon is reparented and never our zombie */
		setsid();
		if (fork() != 0)
			_exit(0);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		int log = open(ctx->paths.daemon_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		dup2(null, 0);
		dup2(log >= 0 ? log : null, 1);
		dup2(log >= 0 ? log : null, 2);
		if (idle)
			execl(self, "dlite", "daemon", "--idle", (char *)NULL);
		else
			execl(self, "dlite", "daemon", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	for (int i = 0; i < 100; i++) {
		if (cli_daemon_running(ctx))
			return 0;
		usleep(50000);
	}
	return dl_fail(e, 0, "the dlite daemon did not come up; see %s", ctx->paths.daemon_log);
}

int cli_int(const char *flag, const char *s, int *out, struct dl_err *e)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);

	if (errno || end == s || *end || v < INT_MIN || v > INT_MAX)
		return dl_fail(e, 0, "%s: \"%s\" is not a whole number", flag, s);
	*out = (int)v;
	return 0;
}

int cli_no_args(const char *cmd, int argc, char **argv, int optind, struct dl_err *e)
{
	if (optind < argc)
		return dl_fail(e, 0, "unexpected argument \"%s\"; see `dlite %s --help`", argv[optind],
			       cmd);
	return 0;
}

void cli_target_user(unsigned *uid, unsigned *gid)
{
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");

	*uid = getuid();
	*gid = getgid();
	if (getuid() == 0 && su && sg) {
		*uid = (unsigned)strtoul(su, NULL, 10);
		*gid = (unsigned)strtoul(sg, NULL, 10);
	}
}
