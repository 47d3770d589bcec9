/*
 * PID 1 duties after boot: signals (signalfd, tini style), reaping, the
 * services (containerd, dockerd, sshd) with restart back-off, readiness
 * stamps, the power button and the clean shutdown.
 */
#include "agent.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <linux/reboot.h>
#include <mntent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 10000
#define HEALTHY_MS 30000       /* up this long: back-off starts over */
#define DOCKERD_STOP_MS 15000  /* containers get their stop signal */
#define CONTAINERD_STOP_MS 5000
#define SSHD_CONFIG "/run/dlite/sshd_config"
#define SSH_DIR DATA_MNT "/dlite/ssh"
#define CONTAINERD_SOCK "/run/containerd/containerd.sock"

/* ---- spawning and reaping ------------------------------------------------ */

static const char *const child_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"LANG=C.UTF-8",
	NULL,
};

pid_t spawn(char *const argv[], int out_fd)
{
	pid_t pid = fork();

	if (pid != 0) {
		if (pid < 0)
			logmsg("fork for %s: %m", argv[0]);
		return pid;
	}
	/* child: undo everything PID 1 set up for itself */
	sigset_t all;
	sigfillset(&all);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	setsid();
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul >= 0)
		dup2(nul, 0);
	if (out_fd >= 0) {
		dup2(out_fd, 1);
		dup2(out_fd, 2);
	} else {
		dup2(2, 1);
	}
	execve(argv[0], argv, (char *const *)child_env);
	dprintf(2, "dlite-agent: exec %s: %m\n", argv[0]);
	_exit(127);
}

int run_wait(char *const argv[])
{
	int st;
	pid_t pid = spawn(argv, -1);

	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct pidw {
	pid_t pid;
	exit_fn fn;
	void *arg;
};
static struct pidw pidws[16];

void pid_watch(pid_t pid, exit_fn fn, void *arg)
{
	for (size_t i = 0; i < sizeof(pidws) / sizeof(pidws[0]); i++) {
		if (pidws[i].pid == 0) {
			pidws[i] = (struct pidw){ pid, fn, arg };
			return;
		}
	}
	logmsg("too many watched processes; pid %d unwatched", (int)pid);
}

static void reap(void)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (size_t i = 0; i < sizeof(pidws) / sizeof(pidws[0]); i++) {
			if (pidws[i].pid == pid) {
				struct pidw w = pidws[i];
				pidws[i].pid = 0;
				w.fn(w.arg, pid, st);
				break;
			}
		}
	}
}

/* ---- services ------------------------------------------------------------ */

struct svc {
	const char *name;
	char *const *argv;
	pid_t pid;
	bool wanted;
	unsigned restarts;
	uint64_t started, backoff;
	struct timer tm;
};

#define CONTAINERD_CONFIG "/run/dlite/containerd.toml"
static char *const containerd_argv[] = { "/usr/bin/containerd", "--config", CONTAINERD_CONFIG, NULL };
static char *const dockerd_argv[] = {
	"/usr/sbin/dockerd",
	"--host", "unix:///var/run/docker.sock",
	"--containerd", CONTAINERD_SOCK,
	NULL,
};
static char *const sshd_argv[] = { "/usr/sbin/sshd", "-D", "-e", "-f", SSHD_CONFIG, NULL };

static struct svc containerd = { .name = "containerd", .argv = containerd_argv };
static struct svc dockerd = { .name = "dockerd", .argv = dockerd_argv };
static struct svc sshd = { .name = "sshd", .argv = sshd_argv };

static bool shutting_down;
static bool dockerd_ready, containerd_seen, dockerd_stamped;
static struct timer probe_tm;
static struct http *probe;

static void svc_exited(void *arg, pid_t pid, int st);
static void shutdown_step(void);

static void svc_start(struct svc *s)
{
	if (shutting_down || !s->wanted)
		return;
	s->pid = spawn(s->argv, -1);
	if (s->pid < 0) {
		s->pid = 0;
		s->backoff = BACKOFF_MAX_MS;
		timer_arm(&s->tm, s->backoff);
		return;
	}
	s->started = now_ms();
	pid_watch(s->pid, svc_exited, s);
	if (s == &dockerd || s == &containerd)
		timer_arm(&probe_tm, 50);
}

static void svc_timer(struct timer *t)
{
	svc_start(t->data);
}

static void svc_exited(void *arg, pid_t pid, int st)
{
	struct svc *s = arg;
	char how[32];

	s->pid = 0;
	if (WIFSIGNALED(st))
		snprintf(how, sizeof(how), "signal %d", WTERMSIG(st));
	else
		snprintf(how, sizeof(how), "status %d", WEXITSTATUS(st));
	if (s == &dockerd)
		dockerd_ready = false;
	if (shutting_down) {
		logmsg("%s exited (%s)", s->name, how);
		shutdown_step();
		return;
	}
	/* back-off: 0.5 s doubling to 10 s, from scratch after 30 s up */
	if (now_ms() - s->started >= HEALTHY_MS || s->backoff == 0)
		s->backoff = BACKOFF_MIN_MS;
	else if ((s->backoff *= 2) > BACKOFF_MAX_MS)
		s->backoff = BACKOFF_MAX_MS;
	s->restarts++;
	logmsg("%s exited (%s); restarting in %llu ms", s->name, how,
	       (unsigned long long)s->backoff);
	timer_arm(&s->tm, s->backoff);
}

bool svc_dockerd_up(void) { return dockerd.pid > 0 && dockerd_ready; }
unsigned svc_dockerd_restarts(void) { return dockerd.restarts; }

/* ---- readiness: containerd's socket, then dockerd's _ping --------------- */

static bool sock_answers(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	strcpy(un.sun_path, path);
	ok = connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0;
	close(fd);
	return ok;
}

static void on_version(void *arg, int status, const char *body)
{
	const char *v = body ? strstr(body, "\"Version\":\"") : NULL;

	if (status != 200 || !v)
		return;
	v += strlen("\"Version\":\"");
	size_t n = strcspn(v, "\" ");
	if (n >= sizeof(g.docker_version))
		n = sizeof(g.docker_version) - 1;
	memcpy(g.docker_version, v, n);
	g.docker_version[n] = '\0';
}

/* Bridged mode (dlite.bridged=1): the host routes docker's subnets through
 * us; docker's FORWARD policy DROP would drop what arrives on our NIC for a
 * container, so let it through, but only from the host's own address on the
 * bridge (dlite.gw), not from anything else on that segment (DOCKER-USER
 * exists once dockerd is up and survives dockerd restarts). */
static void allow_bridged_forwarding(void)
{
	const char *b = cmdline_get("bridged"), *gw;
	char nic[32], src[64];
	struct in_addr a;

	/* cmdline_get returns a static buffer: test b before the next call */
	if (!b || strcmp(b, "1") != 0 || !net_ifname()[0])
		return;
	gw = cmdline_get("gw");
	if (!gw || inet_pton(AF_INET, gw, &a) != 1) {
		logmsg("bridged: no host address (dlite.gw); forwarding to containers not allowed");
		return;
	}
	snprintf(nic, sizeof(nic), "%s", net_ifname());
	snprintf(src, sizeof(src), "%s/32", gw);
	char *const argv[] = { "/usr/sbin/iptables", "-w", "-I", "DOCKER-USER", "-i", nic, "-s", src,
			       "-j", "ACCEPT", NULL };
	if (spawn(argv, -1) > 0)
		logmsg("bridged: forwarding from %s (host %s) to containers allowed", nic, gw);
}

static void on_ping(void *arg, int status, const char *body)
{
	probe = NULL;
	if (status != 200 || !body || strncmp(body, "OK", 2) != 0) {
		timer_arm(&probe_tm, 100);
		return;
	}
	dockerd_ready = true;
	if (!dockerd_stamped) {
		dockerd_stamped = true;
		allow_bridged_forwarding();
		stamp("dockerd");
		if (!g.docker_version[0])
			http_get(g.docker_sock, "/version", 5000, on_version, NULL);
	} else {
		logmsg("dockerd answers again");
	}
}

static void probe_timer(struct timer *t)
{
	if (shutting_down)
		return;
	if (!containerd_seen && containerd.pid > 0) {
		if (sock_answers(CONTAINERD_SOCK)) {
			containerd_seen = true;
			stamp("containerd");
		}
	}
	if (dockerd.pid <= 0 || dockerd_ready) {
		if (!containerd_seen && containerd.pid > 0)
			timer_arm(&probe_tm, 50);
		return;
	}
	if (!probe)
		probe = http_get(g.docker_sock, "/_ping", 2000, on_ping, NULL);
	if (!containerd_seen)
		timer_arm(&probe_tm, 50);
}

/* ---- sshd ---------------------------------------------------------------- */

static void write_sshd_config(void)
{
	static const char conf[] =
		"# written by dlite-agent at boot\n"
		"ListenAddress 127.0.0.1\n" /* reached through the channel (tcp:22) */
		"Port 22\n"
		"HostKey " SSH_DIR "/ssh_host_ed25519_key\n"
		"AuthorizedKeysFile " SSH_DIR "/authorized_keys\n"
		"AllowUsers docker\n"
		"PermitRootLogin no\n"
		"PasswordAuthentication no\n"
		"KbdInteractiveAuthentication no\n"
		"UsePAM no\n"
		"PrintMotd no\n"
		"PidFile /run/sshd.pid\n"
		"Subsystem sftp internal-sftp\n";

	mkdir_p("/run/dlite", 0755);
	mkdir_p("/run/sshd", 0755); /* privilege separation directory */
	if (write_file(SSHD_CONFIG, conf, sizeof(conf) - 1, 0644) < 0)
		logmsg("write %s: %m", SSHD_CONFIG);
}

static void keygen_done(void *arg, pid_t pid, int st)
{
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		logmsg("ssh-keygen failed; sshd not started");
	else
		svc_start(&sshd);
}

static void sshd_setup(void)
{
	static char *const keygen[] = {
		"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "",
		"-C", "dlite", "-f", SSH_DIR "/ssh_host_ed25519_key", NULL,
	};
	struct stat st;

	if (stat(sshd_argv[0], &st) < 0) {
		logmsg("no %s in the image; no ssh", sshd_argv[0]);
		return;
	}
	write_sshd_config();
	sshd.wanted = true;
	if (stat(keygen[9], &st) == 0) {
		svc_start(&sshd);
		return;
	}
	/* first boot: the host key is made once and kept on the data disk */
	pid_t pid = spawn(keygen, -1);
	if (pid > 0)
		pid_watch(pid, keygen_done, NULL);
}

/* dockerd talks to containerd only for running containers: no CRI (the
 * slowest plugin to start), no snapshotters but overlayfs/native, and only
 * warnings on the console. */
static void write_containerd_config(void)
{
	static const char conf[] =
		"# written by dlite-agent at boot\n"
		"version = 2\n"
		"disabled_plugins = [\n"
		"  \"io.containerd.grpc.v1.cri\",\n"
		"  \"io.containerd.snapshotter.v1.aufs\",\n"
		"  \"io.containerd.snapshotter.v1.btrfs\",\n"
		"  \"io.containerd.snapshotter.v1.zfs\",\n"
		"  \"io.containerd.snapshotter.v1.devmapper\",\n"
		"  \"io.containerd.snapshotter.v1.blockfile\",\n"
		"  \"io.containerd.tracing.processor.v1.otlp\",\n"
		"  \"io.containerd.internal.v1.tracing\",\n"
		"  \"io.containerd.nri.v1.nri\",\n"
		"]\n"
		"[debug]\n"
		"  level = \"warn\"\n";

	mkdir_p("/run/dlite", 0755);
	if (write_file(CONTAINERD_CONFIG, conf, sizeof(conf) - 1, 0644) < 0)
		logmsg("write %s: %m", CONTAINERD_CONFIG);
}

static void svc_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	containerd.tm = (struct timer){ .fn = svc_timer, .data = &containerd };
	dockerd.tm = (struct timer){ .fn = svc_timer, .data = &dockerd };
	sshd.tm = (struct timer){ .fn = svc_timer, .data = &sshd };
	probe_tm.fn = probe_timer;
}

void svc_start_containerd(bool with_docker)
{
	svc_init();
	if (!with_docker)
		return;
	write_containerd_config();
	containerd.wanted = true;
	svc_start(&containerd);
}

void svc_start_all(bool with_docker)
{
	svc_init();
	if (!with_docker)
		return;
	/* dockerd waits for containerd's socket itself: starting it now lets
	 * its own start-up overlap containerd's. */
	dockerd.wanted = true;
	svc_start(&dockerd);
	sshd_setup();
}

/* ---- shutdown ------------------------------------------------------------ */

enum sd_phase { SD_NONE, SD_DOCKERD, SD_CONTAINERD, SD_REST, SD_DONE };
static enum sd_phase phase;
static struct timer sd_tm;

static bool is_api_mount(const char *dir)
{
	static const char *const keep[] = { "/", "/proc", "/sys", "/dev" };

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		size_t n = strlen(keep[i]);
		if (strcmp(dir, keep[i]) == 0)
			return true;
		if (n > 1 && strncmp(dir, keep[i], n) == 0 && dir[n] == '/')
			return true;
	}
	return false;
}

/* Unmount everything but the API filesystems, innermost first; an ext4
 * that stays busy is at least remounted read-only so it is clean. */
static void unmount_all(void)
{
	char *dirs[512];
	size_t n = 0;
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent *m;

	if (!f)
		return;
	while ((m = getmntent(f)) && n < sizeof(dirs) / sizeof(dirs[0]))
		if (!is_api_mount(m->mnt_dir))
			dirs[n++] = strdup(m->mnt_dir);
	endmntent(f);
	for (size_t i = n; i-- > 0;) {
		if (!dirs[i])
			continue;
		if (umount2(dirs[i], 0) < 0 && errno != EINVAL && errno != ENOENT) {
			if (mount(NULL, dirs[i], NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
				logmsg("umount %s: %m", dirs[i]);
			umount2(dirs[i], MNT_DETACH);
		}
		free(dirs[i]);
	}
}

/* After SIGKILL to everyone, wait (bounded: a process stuck in D state on a
 * dead NFS server must not stop the power-off) until nobody holds files. */
static void kill_and_wait(void)
{
	kill(-1, SIGKILL);
	for (int i = 0; i < 300; i++) {
		reap();
		if (kill(-1, 0) < 0 && errno == ESRCH)
			return;
		usleep(10000);
	}
}

static void power_off_now(void)
{
	kill_and_wait();
	sync();
	unmount_all();
	sync();
	stamp("poweroff");
	reboot(RB_POWER_OFF);
	logmsg("reboot(POWER_OFF): %m");
	for (;;)
		pause();
}

static void sd_timer(struct timer *t)
{
	if (phase == SD_DOCKERD)
		logmsg("dockerd still running after %d s; moving on", DOCKERD_STOP_MS / 1000);
	shutdown_step();
}

/* Advance while the current phase has nothing left to wait for. */
static void shutdown_step(void)
{
	switch (phase) {
	case SD_NONE:
		phase = SD_DOCKERD;
		timer_cancel(&probe_tm);
		if (dockerd.pid > 0) {
			kill(dockerd.pid, SIGTERM);
			timer_arm(&sd_tm, DOCKERD_STOP_MS);
			return;
		}
		/* fall through */
	case SD_DOCKERD:
		if (dockerd.pid > 0 && sd_tm.armed)
			return;
		if (dockerd.pid > 0)
			kill(dockerd.pid, SIGKILL);
		phase = SD_CONTAINERD;
		if (sshd.pid > 0)
			kill(sshd.pid, SIGTERM);
		if (containerd.pid > 0) {
			kill(containerd.pid, SIGTERM);
			timer_arm(&sd_tm, CONTAINERD_STOP_MS);
			return;
		}
		/* fall through */
	case SD_CONTAINERD:
		if (containerd.pid > 0 && sd_tm.armed)
			return;
		phase = SD_REST;
		/* containerd-shims and anything else: TERM, a moment, then KILL */
		kill(-1, SIGTERM);
		timer_arm(&sd_tm, 1000);
		return;
	case SD_REST:
		if (sd_tm.armed)
			return;
		phase = SD_DONE;
		power_off_now();
		return;
	case SD_DONE:
		return;
	}
}

void agent_poweroff(const char *why)
{
	if (!g.pid1) {
		g.quit = true;
		return;
	}
	if (shutting_down)
		return;
	shutting_down = true;
	logmsg("power off (%s)", why);
	sd_tm.fn = sd_timer;
	timer_cancel(&containerd.tm);
	timer_cancel(&dockerd.tm);
	timer_cancel(&sshd.tm);
	shutdown_step();
}

/* ---- signals -------------------------------------------------------------- */

static struct watch sigw;

static void on_signal(struct watch *w, uint32_t ev)
{
	struct signalfd_siginfo si;

	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			break;
		case SIGTERM:
			agent_poweroff("SIGTERM");
			break;
		case SIGINT: /* ctrl-alt-del, with RB_DISABLE_CAD */
			agent_poweroff("SIGINT");
			break;
		case SIGPWR:
			agent_poweroff("SIGPWR");
			break;
		default:
			break;
		}
	}
	if (g.pid1)
		reap();
}

void svc_signals_init(void)
{
	sigset_t set;

	/* splice/send to a closed peer must be an EPIPE, not our death */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPWR);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigw.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	sigw.fn = on_signal;
	if (sigw.fd < 0 || loop_add(&sigw, EPOLLIN) < 0)
		logmsg("signalfd: %m");
	if (g.pid1)
		reboot(RB_DISABLE_CAD);
}

/* ---- the ACPI power button ------------------------------------------------- */

static void on_input(struct watch *w, uint32_t ev)
{
	struct input_event ie[16];
	ssize_t n;

	while ((n = read(w->fd, ie, sizeof(ie))) > 0) {
		for (size_t i = 0; i < (size_t)n / sizeof(ie[0]); i++)
			if (ie[i].type == EV_KEY && ie[i].code == KEY_POWER && ie[i].value == 1)
				agent_poweroff("power button");
	}
	if (n == 0 || (n < 0 && errno != EAGAIN))
		loop_close(w);
}

static bool has_power_key(int fd)
{
	unsigned long bits[KEY_MAX / (8 * sizeof(unsigned long)) + 1] = { 0 };

	if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(bits)), bits) < 0)
		return false;
	return bits[KEY_POWER / (8 * sizeof(long))] >> (KEY_POWER % (8 * sizeof(long))) & 1;
}

void power_button_watch(void)
{
	DIR *d = opendir("/dev/input");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[300];
		if (strncmp(de->d_name, "event", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/input/%s", de->d_name);
		int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!has_power_key(fd)) {
			close(fd);
			continue;
		}
		struct watch *w = calloc(1, sizeof(*w));
		if (!w) {
			close(fd);
			continue;
		}
		*w = (struct watch){ .fd = fd, .fn = on_input };
		if (loop_add(w, EPOLLIN) < 0) {
			close(fd);
			free(w);
			continue;
		}
		logmsg("watching %s for the power button", path);
	}
	closedir(d);
}
