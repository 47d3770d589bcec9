/* Running a host command (ip, resolvectl, nfsd, ...): see run.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "lib/run.h"
#include "lib/sock.h"

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

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

int dl_run_output(const char *const *argv, char *out, size_t outlen, int timeout_ms, unsigned flags)
{
	struct timespec deadline;
	int timed_out = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
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
		if (flags & DL_RUN_LINES) { /* stdout alone, as it is */
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (null >= 0)
				dup2(null, 2);
		}
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
		if (timeout_ms > 0) {
			long left = ms_left(&deadline);
			struct pollfd pf = { .fd = p[0], .events = POLLIN };
			int pr = left > 0 ? poll(&pf, 1, (int)left) : 0;
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr == 0) {
				timed_out = 1;
				kill(pid, SIGKILL); /* its children keep the pipe: stop reading */
				break;
			}
		}
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
	if (outlen && (flags & DL_RUN_LINES)) {
		out[len] = '\0';
	} else if (outlen) {
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
	if (timed_out) {
		if (outlen)
			snprintf(out, outlen, "%s did not finish within %d ms (killed)", argv[0],
				 timeout_ms);
		return 124;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int dl_run_capture(const char *const *argv, char *out, size_t outlen, int timeout_ms)
{
	return dl_run_output(argv, out, outlen, timeout_ms, 0);
}
