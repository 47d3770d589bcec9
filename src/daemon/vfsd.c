/* virtiofsd: find it, run it, wait for it, stop it (see vfsd.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/run.h"
#include "daemon/vfsd.h"
#include "host/atomic.h"
#include "vm/virtiofsd.h"
#include "vm/vm.h"

#define START_TIMEOUT_MS 5000
#define STOP_TIMEOUT_MS 2000
#define POLL_MS 20

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The last non-empty line of virtiofsd's log, for a one-line message. */
static void log_tail(const char *log, char *out, size_t n)
{
	char *text = NULL;
	size_t len = 0;

	snprintf(out, n, "no output");
	if (dl_read_file(log, &text, &len, 1u << 20, NULL) < 0)
		return;
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	text[len] = '\0';
	char *nl = strrchr(text, '\n');
	if (len)
		snprintf(out, n, "%s", nl ? nl + 1 : text);
	free(text);
}

static bool log_says_ready(const char *log)
{
	char *text = NULL;
	size_t len = 0;
	bool ready = false;

	if (dl_read_file(log, &text, &len, 1u << 20, NULL) == 0) {
		ready = strstr(text, DL_VIRTIOFSD_READY) != NULL;
		free(text);
	}
	return ready;
}

/* The first usable binary, its version in *ver; -1 with the reason. */
static int find_binary(const char *conf, char *bin, size_t n, struct dl_virtiofsd_version *ver,
		       struct dl_err *e)
{
	const char *env = getenv(DL_VIRTIOFSD_ENV);
	const char *src = DL_VIRTIOFSD_ENV;

	if (!env || !*env) {
		env = conf;
		src = "config virtiofsd";
	}
	char **cands = dl_virtiofsd_candidates(env, getenv("PATH"));
	struct dl_err why = { 0 };
	int r = -1;

	if (!cands)
		return dl_fail(e, ENOMEM, "virtiofsd");
	if (!cands[0])
		dl_fail(&why, 0, "%s=none", src);
	for (char **c = cands; *c && r < 0; c++) {
		char out[512];
		const char *argv[] = { *c, "--version", NULL };
		if (access(*c, X_OK) < 0) {
			if (env && *env)
				dl_fail(&why, errno, "%s=%s", src, *c);
			continue;
		}
		int st = dl_run_capture(argv, out, sizeof(out), 10000);
		if (st != 0) {
			if (!why.msg[0])
				dl_fail(&why, 0, "%s --version failed (status %d): %s", *c, st, out);
			continue;
		}
		if (dl_virtiofsd_parse_version(out, ver, &why) < 0) {
			dl_err_wrap(&why, "%s", *c);
			continue;
		}
		snprintf(bin, n, "%s", *c);
		r = 0;
	}
	dl_argv_free(cands);
	if (r < 0) {
		if (!why.msg[0])
			dl_fail(&why, 0, "no virtiofsd in " DL_VIRTIOFSD_ENV
					 ", PATH, /usr/libexec or /usr/lib/qemu");
		*e = why;
	}
	return r;
}

int dl_vfsd_start(struct dl_vfsd *v, const struct dl_paths *p, const char *conf,
		  const char *share, struct dl_err *e)
{
	struct dl_virtiofsd_spec s = { .uid = (long)getuid(), .gid = (long)getgid() };
	char bin[1024], log[1200], pidfile[1200], tail[256];
	char **argv = NULL;

	memset(v, 0, sizeof(*v));
	if (find_binary(conf, bin, sizeof(bin), &s.version, e) < 0)
		return -1;
	if ((size_t)snprintf(v->sock, sizeof(v->sock), "%s/%s", p->run, DL_VIRTIOFSD_SOCK) >=
	    sizeof(v->sock))
		return dl_fail(e, ENAMETOOLONG, "virtiofsd socket in %s", p->run);
	snprintf(log, sizeof(log), "%s/%s", p->run, DL_VIRTIOFSD_LOG);
	snprintf(pidfile, sizeof(pidfile), "%s.pid", v->sock);
	snprintf(v->desc, sizeof(v->desc), "%s %u.%u.%u", bin, s.version.major, s.version.minor,
		 s.version.patch);
	s.binary = bin;
	s.socket_path = v->sock;
	s.shared_dir = share;
	if (dl_virtiofsd_argv(&s, &argv, e) < 0)
		return -1;
	/* we hold the daemon lock: whatever is there is a previous boot's */
	unlink(v->sock);
	unlink(pidfile);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		dl_argv_free(argv);
		return dl_fail(e, errno, "cannot create %s", log);
	}
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(fd);
		dl_argv_free(argv);
		return dl_fail(e, err, "fork");
	}
	if (pid == 0) {
		/* like QEMU: it outlives a daemon crash (the VM's share must) */
		setsid();
		dl_child_setup(fd, 0);
		execv(argv[0], argv);
		dprintf(2, "dlite: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fd);
	dl_argv_free(argv);
	v->pid = pid;

	for (int waited = 0;; waited += POLL_MS) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			v->pid = 0;
			log_tail(log, tail, sizeof(tail));
			return dl_fail(e, 0, "%s exited at start (status %d): %s", v->desc,
				       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), tail);
		}
		if (log_says_ready(log))
			return 0;
		if (waited >= START_TIMEOUT_MS) {
			dl_vfsd_stop(v);
			return dl_fail(e, 0, "%s not ready after %d s (see %s)", v->desc,
				       START_TIMEOUT_MS / 1000, log);
		}
		sleep_ms(POLL_MS);
	}
}

void dl_vfsd_stop(struct dl_vfsd *v)
{
	int st;

	if (v->pid <= 0)
		return;
	kill(v->pid, SIGTERM);
	for (int waited = 0; waited < STOP_TIMEOUT_MS; waited += POLL_MS) {
		pid_t r = waitpid(v->pid, &st, WNOHANG);
		if (r == v->pid || (r < 0 && errno == ECHILD)) {
			v->pid = 0;
			return;
		}
		sleep_ms(POLL_MS);
	}
	kill(v->pid, SIGKILL);
	while (waitpid(v->pid, &st, 0) < 0 && errno == EINTR)
		;
	v->pid = 0;
}

bool dl_vfsd_reaped(struct dl_vfsd *v, pid_t pid)
{
	if (v->pid <= 0 || pid != v->pid)
		return false;
	v->pid = 0;
	return true;
}
