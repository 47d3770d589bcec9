/* Running a host command from the daemon (ip, resolvectl, nfsd, ...). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "daemon/chan.h"
#include "daemon/run.h"

void dl_child_setup(int out_fd, int die_with_parent)
{
#ifdef __linux__
	if (die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGTERM);
#else
	(void)die_with_parent;
#endif
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int null = open("/dev/null", O_RDONLY);
	dup2(null, 0);
	if (out_fd >= 0) {
		dup2(out_fd, 1);
		dup2(out_fd, 2);
	}
}

/* Run argv (PATH, then the sbin folders: a user's daemon may lack them),
 * stdin /dev/null, stdout+stderr captured into out.  Returns the exit
 * status, or -1 when it could not run.  Blocking: each is one short
 * netlink or D-Bus round trip. */
int dl_run_capture(const char *const *argv, char *out, size_t outlen)
{
	int p[2];
	if (outlen)
		out[0] = '\0';
	if (dl_pipe(p, 0) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]), close(p[1]);
		return -1;
	}
	if (pid == 0) {
		dl_child_setup(p[1], 0);
		execvp(argv[0], (char *const *)argv);
		if (!strchr(argv[0], '/')) {
			static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
			char path[256];
			for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
				snprintf(path, sizeof(path), "%s/%s", dirs[i], argv[0]);
				execv(path, (char *const *)argv);
			}
		}
		dprintf(1, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	size_t len = 0;
	char sink[256];
	for (;;) {
		char *dst = len + 1 < outlen ? out + len : sink;
		size_t room = len + 1 < outlen ? outlen - len - 1 : sizeof(sink);
		ssize_t r = read(p[0], dst, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (dst != sink)
			len += (size_t)r;
	}
	close(p[0]);
	if (outlen) {
		out[len] = '\0';
		while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
			out[--len] = '\0';
		for (char *q = out; *q; q++)
			if (*q == '\n')
				*q = ' ';
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
