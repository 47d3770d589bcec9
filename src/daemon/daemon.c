/*
 * The dlite daemon. One libevent loop runs everything:
 *   control   unix socket (0600) for the CLI: start, stop, status, quit
 *   vm        the engine process: argv from src/vm, SIGCHLD, crash restarts
 *             with back-off, the accelerator probe, readiness via the agent;
 *             virtiofsd beside QEMU for the share (vfsd.c), else 9p
 *   proxy     docker.sock (src/daemon/proxy.c), 503 while the VM is down
 *   clock     keeps the guest clock within 100 ms of the host
 *   watcher   docker events -> published ports and DNS names (watch.c)
 * Blocking calls in the loop are bounded control requests to the agent
 * (one short round trip on loopback).
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "daemon/bridge.h"
#include "daemon/chan.h"
#include "daemon/daemon.h"
#include "daemon/engine.h"
#include "daemon/log.h"
#include "daemon/proxy.h"
#include "daemon/pvh.h"
#include "daemon/resources.h"
#include "daemon/run.h"
#include "daemon/vfsd.h"
#include "daemon/watch.h"
#include "host/atomic.h"
#include "osimage.h"
#include "vm/accel.h"
#include "vm/virtiofsd.h"
#include "vm/vm.h"

enum state { ST_STOPPED, ST_STARTING, ST_RUNNING, ST_STOPPING };
static const char *const state_names[] = { "stopped", "starting", "running", "stopping" };

#define MAX_WAITERS 64
#define START_TIMEOUT_S 600.0
#define STOP_TIMEOUT_S 45.0
#define CLOCK_PERIOD_S 2.0
#define CLOCK_MAX_SKEW_S 0.05

struct daemon {
	struct event_base *base;
	const struct dl_paths *paths;
	struct dl_config cfg;
	enum state state;
	bool quitting, want_up;
	pid_t vm_pid;
	struct dl_vfsd vfsd;	/* QEMU + share on Linux: one per boot */
	enum dl_sharefs share_fs; /* of the current boot */
	double t_start, t_ready, t_stop, t_next_clock, t_restart;
	int crashes;
	enum dl_accel accel;
	bool probing; /* trying KVM; TCG if the guest doesn't get going */
	enum dl_accel fallback;
	int probe_seconds;
	struct dl_chan_cfg chan;
	struct dl_proxy *proxy;
	struct dl_watch *watch;
	struct dl_bridge *bridge; /* bridged mode: bridge, tap, routes, resolver */
	struct bufferevent *start_waiters[MAX_WAITERS], *stop_waiters[MAX_WAITERS];
	int nstart, nstop;
	struct event *tick, *sigchld, *sigterm, *sigint, *sighup;
	struct evconnlistener *ctl;
	char docker_version[64], last_error[512];
	struct dl_manifest manifest;
	bool clock_gettime_ok;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- control replies ---- */

static void free_when_flushed(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void reply(struct bufferevent *bev, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	bufferevent_disable(bev, EV_READ);
	evbuffer_add_printf(bufferevent_get_output(bev), "%s\n", s ? s : "{\"ok\":false}");
	free(s);
	bufferevent_setcb(bev, NULL, free_when_flushed, NULL, NULL);
	bufferevent_enable(bev, EV_WRITE);
}

static void reply_err(struct bufferevent *bev, const char *msg)
{
	reply(bev, json_pack("{s:b,s:s}", "ok", 0, "error", msg));
}

static void flush_waiters(struct bufferevent **w, int *n, bool ok, const char *msg,
			  double seconds)
{
	for (int i = 0; i < *n; i++) {
		if (ok)
			reply(w[i], json_pack("{s:b,s:f}", "ok", 1, "seconds", seconds));
		else
			reply_err(w[i], msg);
	}
	*n = 0;
}

/* Leave the loop once pending replies had a moment to flush. */
static void quit_soon(struct daemon *d)
{
	struct timeval tv = { 0, 200000 };
	event_base_loopexit(d->base, &tv);
}

/* ---- VM ---- */

static int write_token_and_initrd(struct daemon *d, struct dl_err *e)
{
	uint8_t tok[DL_TOKEN_LEN];
	char hex[2 * DL_TOKEN_LEN + 2], src[1200];
	char *base = NULL;
	size_t baselen = 0, seglen = 0;

	if (getentropy(tok, sizeof(tok)) < 0)
		return dl_fail(e, errno, "cannot get random bytes for the channel token");
	for (int i = 0; i < DL_TOKEN_LEN; i++)
		sprintf(hex + 2 * i, "%02x", tok[i]);
	hex[2 * DL_TOKEN_LEN] = '\n';
	hex[2 * DL_TOKEN_LEN + 1] = '\0';
	if (dl_atomic_write(d->paths->token, hex, strlen(hex), 0600, e) < 0)
		return -1;
	memcpy(d->chan.token, tok, sizeof(tok));

	snprintf(src, sizeof(src), "%s/initrd", d->paths->os_dir);
	if (dl_read_file(src, &base, &baselen, 512u << 20, e) < 0)
		return -1;
	uint8_t *seg = dl_cpio_token(hex, strlen(hex), &seglen);
	/* the kernel wants each archive 4-byte aligned: pad the base */
	size_t pad = (4 - baselen % 4) % 4, total = baselen + pad + seglen;
	char *all = malloc(total);
	if (!seg || !all) {
		free(base), free(seg), free(all);
		return dl_fail(e, ENOMEM, "initrd");
	}
	memcpy(all, base, baselen);
	memset(all + baselen, 0, pad);
	memcpy(all + baselen + pad, seg, seglen);
	int r = dl_atomic_write(d->paths->initrd, all, total, 0600, e);
	free(base), free(seg), free(all);
	return r;
}

static int free_port(struct dl_err *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return dl_fail(e, err, "cannot find a free loopback port");
	}
	close(fd);
	return ntohs(sa.sin_port);
}

static void accel_host(struct daemon *d, struct dl_accel_host *h, char sha[65])
{
	memset(h, 0, sizeof(*h));
#ifdef __APPLE__
	h->os = DL_HOST_MACOS;
	h->hvf_usable = true;
#else
	h->os = DL_HOST_LINUX;
	h->kvm_usable = access("/dev/kvm", R_OK | W_OK) == 0;
#endif
#if defined(__aarch64__)
	h->arch = DL_ARCH_AARCH64;
#else
	h->arch = DL_ARCH_X86_64;
#endif
	/* vmlinuz's sha256 from the manifest read by vm_spawn() (checked when
	 * the image was installed): hashing the file here would initialise
	 * OpenSSL's EVP providers in the daemon, ~2 MiB resident for good */
	if (d->manifest.kernel_sha256[0]) {
		snprintf(sha, 65, "%s", d->manifest.kernel_sha256);
		h->kernel_sha = sha;
	}
}

static void accel_remember(struct daemon *d, enum dl_accel a, bool ok)
{
	struct dl_accel_host h;
	struct dl_accel_memo m;
	char sha[65];

	accel_host(d, &h, sha);
	if (dl_accel_memo_set(&m, a, ok, &h, NULL) < 0)
		return;
	char *line = dl_accel_memo_format(&m);
	if (line)
		dl_atomic_write(d->paths->accel, line, strlen(line), 0600, NULL);
	free(line);
}

static int resolve_accel(struct daemon *d, struct dl_err *e)
{
	struct dl_accel_host h;
	struct dl_accel_memo memo, *mp = NULL;
	struct dl_accel_plan plan;
	enum dl_accel want;
	char sha[65], *text = NULL;
	size_t len = 0;

	accel_host(d, &h, sha);
	if (dl_accel_parse(d->cfg.accel, &want) < 0)
		want = DL_ACCEL_AUTO;
	if (dl_read_file(d->paths->accel, &text, &len, 4096, NULL) == 0 &&
	    dl_accel_memo_parse(text, len, &memo, NULL) == 0 && dl_accel_memo_applies(&memo, &h))
		mp = &memo;
	free(text);
	if (dl_accel_plan(want, &h, mp, &plan, e) < 0)
		return -1;
	d->accel = plan.try[0];
	d->probing = plan.probe && plan.n > 1;
	d->fallback = plan.n > 1 ? plan.try[1] : plan.try[0];
	d->probe_seconds = plan.probe_seconds;
	return 0;
}

/* The host's TSC rate in kHz from /proc/cpuinfo (0 when unknown): TCG
 * guests on microvm need it to boot on a busy host. */
static unsigned host_tsc_khz(void)
{
	unsigned khz = 0;
#ifdef __linux__
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];
	double mhz;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1) {
			khz = (unsigned)(mhz * 1000.0);
			break;
		}
	if (f)
		fclose(f);
#endif
	return khz;
}

/* QEMU on Linux: virtiofs when a virtiofsd starts, else 9p (one log line
 * either way).  macOS's QEMU has no vhost-user memfd backend: 9p there. */
static void share_virtiofs(struct daemon *d, struct dl_vm_spec *s)
{
#ifdef __linux__
	struct dl_err e = { 0 };

	if (dl_vfsd_start(&d->vfsd, d->paths, d->cfg.virtiofsd, s->share_path, &e) == 0) {
		s->share_fs = DL_SHARE_VIRTIOFS;
		s->virtiofsd_sock = d->vfsd.sock;
		dl_log(DL_LOG_INFO, "share: %s over virtiofs (%s, pid %d)", s->share_path,
		       d->vfsd.desc, (int)d->vfsd.pid);
		return;
	}
	dl_log(DL_LOG_INFO, "share: %s over 9p (virtiofs: %s)", s->share_path, e.msg);
#else
	(void)d;
	(void)s;
#endif
}

static int vm_spawn(struct daemon *d, struct dl_err *e)
{
	char kernel[1200], root[1200], **argv = NULL;
	struct dl_vm_spec s = { 0 };
	int port;

	if (dl_manifest_read(d->paths->os_dir, &d->manifest, e) < 0)
		return -1;
	if (access(d->paths->disk, R_OK | W_OK) < 0)
		return dl_fail(e, errno, "data disk %s is missing; run `dlite rebuild`", d->paths->disk);
	if (dl_resources_prepare(d->paths, &d->cfg, e) < 0) /* config set cpus|memory|disk */
		return -1;
	if (write_token_and_initrd(d, e) < 0)
		return -1;
	if ((port = free_port(e)) < 0)
		return -1;
	d->chan.addr_targets = 0; /* until this VM's agent says otherwise */
	d->chan.kind = DL_CHAN_TCP;
	snprintf(d->chan.host, sizeof(d->chan.host), "127.0.0.1");
	d->chan.port = (uint16_t)port;
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", d->paths->os_dir);
	snprintf(root, sizeof(root), "%s/root.erofs", d->paths->os_dir);
	if (resolve_accel(d, e) < 0)
		return -1;
	dl_engine_parse(d->cfg.engine, &s.engine);
#if defined(__aarch64__)
	s.arch = DL_ARCH_AARCH64;
#else
	s.arch = DL_ARCH_X86_64;
#endif
	s.accel = d->accel;
	/* QEMU on x86: boot the ELF vmlinux through PVH, without the kernel's
	 * self-decompression (1-1.5 s on TCG); vmlinuz when that cannot be. */
	if (s.engine == DL_ENGINE_QEMU && s.arch == DL_ARCH_X86_64) {
		struct dl_err pe = { 0 };
		if (dl_pvh_kernel(d->paths->os_dir, kernel, sizeof(kernel), &pe) < 0)
			dl_log(DL_LOG_WARN, "vm: booting vmlinuz, not its vmlinux (PVH): %s", pe.msg);
	}
	s.cpus = (unsigned)d->cfg.cpus;
	s.mem_mib = (unsigned)d->cfg.memory_gib * 1024u;
	s.binary = getenv("DLITE_QEMU");
	s.kernel = kernel;
	s.initrd = d->paths->initrd;
	s.root_image = root;
	s.data_disk = d->paths->disk;
	s.hostname = d->cfg.hostname;
	s.uid = (long)getuid();
	s.gid = (long)getgid();
	s.debug = getenv("DLITE_DEBUG") != NULL;
	s.tsc_khz = host_tsc_khz();
	s.tb_mib = dl_resources_tb_mib();
	if (d->cfg.share[0]) {
		s.share_path = d->cfg.share;
		s.share_fs = DL_SHARE_9P;
	}
	s.net = DL_NET_USER;
	s.agent_port = (uint16_t)port;
	s.run_dir = d->paths->run;
	if (dl_bridge_up(d->bridge, &s, &d->chan, e) < 0)
		return -1;
	/* hyperkit, vfkit: vmnet address, their share, vsock channel (engine.c) */
	if (s.engine != DL_ENGINE_QEMU && dl_engine_setup(d->paths, &d->cfg, &s, &d->chan, e) < 0) {
		dl_bridge_down(d->bridge);
		return -1;
	}
	if (s.engine == DL_ENGINE_QEMU && s.share_path)
		share_virtiofs(d, &s);
	if (dl_vm_argv(&s, &argv, e) < 0) {
		dl_vfsd_stop(&d->vfsd);
		dl_bridge_down(d->bridge);
		return -1;
	}
	d->share_fs = s.share_path ? s.share_fs : DL_SHARE_NONE;
	unlink(d->paths->console_log);
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		dl_argv_free(argv);
		dl_vfsd_stop(&d->vfsd);
		dl_bridge_down(d->bridge);
		return dl_fail(e, err, "fork");
	}
	if (pid == 0) {
		dl_child_setup(-1, 1);
		execvp(argv[0], argv);
		fprintf(stderr, "dlite: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	char chan[128];
	dl_log(DL_LOG_INFO, "vm: started %s (pid %d, accel %s%s, channel %s)", argv[0], (int)pid,
	       dl_accel_name(d->accel), d->probing ? ", probing" : "",
	       dl_chan_cfg_str(&d->chan, chan, sizeof(chan)));
	dl_argv_free(argv);
	dl_engine_spawned(d->base, d->paths, s.engine, pid); /* hyperkit: console pty copy */
	d->vm_pid = pid;
	d->t_start = now();
	d->state = ST_STARTING;
	dl_proxy_set_chan(d->proxy, &d->chan);
	return 0;
}

static void vm_kill(struct daemon *d, int sig)
{
	if (d->vm_pid > 0)
		kill(d->vm_pid, sig);
}

static void start_request(struct daemon *d, struct bufferevent *bev)
{
	struct dl_err e = { 0 };

	if (d->state == ST_RUNNING) {
		if (bev)
			reply_err(bev, "dlite is already running");
		return;
	}
	if (d->state == ST_STOPPING) {
		if (bev)
			reply_err(bev, "dlite is stopping; try again when `dlite stop` returns");
		return;
	}
	if (bev && d->nstart < MAX_WAITERS)
		d->start_waiters[d->nstart++] = bev;
	else if (bev)
		reply_err(bev, "too many waiting clients");
	d->want_up = true;
	d->crashes = 0;
	if (d->state == ST_STARTING)
		return;
	if (vm_spawn(d, &e) < 0) {
		dl_log(DL_LOG_ERR, "vm: %s", e.msg);
		snprintf(d->last_error, sizeof(d->last_error), "%s", e.msg);
		d->want_up = false;
		flush_waiters(d->start_waiters, &d->nstart, false, e.msg, 0);
	}
}

static void became_ready(struct daemon *d)
{
	char reply[512];
	double secs = now() - d->t_start;

	d->state = ST_RUNNING;
	d->t_ready = now();
	d->crashes = 0;
	d->t_next_clock = 0;
	d->last_error[0] = '\0';
	if (d->probing) {
		accel_remember(d, d->accel, true);
		d->probing = false;
	}
	if (dl_chan_probe_caps(&d->chan, reply, sizeof(reply), 2000) == 0) {
		char *v = strstr(reply, "docker_version=");
		if (v)
			sscanf(v + 15, "%63s", d->docker_version);
	}
	dl_proxy_set_state(d->proxy, 1, NULL);
	dl_watch_start(d->watch, &d->chan);
	dl_bridge_ready(d->bridge, dl_watch_dns_port(d->watch));
	dl_log(DL_LOG_INFO, "vm: ready in %.1f s (docker %s)", secs, d->docker_version);
	flush_waiters(d->start_waiters, &d->nstart, true, NULL, secs);
}

static void stop_request(struct daemon *d, struct bufferevent *bev)
{
	char r[128];

	if (d->state == ST_STOPPED) {
		if (bev)
			reply_err(bev, "dlite is not running");
		return;
	}
	if (bev && d->nstop < MAX_WAITERS)
		d->stop_waiters[d->nstop++] = bev;
	d->want_up = false;
	if (d->state == ST_STOPPING)
		return;
	flush_waiters(d->start_waiters, &d->nstart, false, "stopped before it was ready", 0);
	dl_watch_stop(d->watch);
	dl_proxy_set_state(d->proxy, 0, "stopping");
	d->state = ST_STOPPING;
	d->t_stop = now();
	if (dl_chan_control(&d->chan, "poweroff", r, sizeof(r), 3000, NULL) < 0) {
		dl_log(DL_LOG_WARN, "vm: the agent did not take the poweroff request; terminating");
		vm_kill(d, SIGTERM);
	}
}

static void vm_exited(struct daemon *d, int status)
{
	enum state was = d->state;

	d->vm_pid = 0;
	d->state = ST_STOPPED;
	dl_vfsd_stop(&d->vfsd); /* it exits by itself once QEMU is gone; make sure */
	dl_watch_stop(d->watch);
	dl_bridge_down(d->bridge);
	dl_proxy_set_state(d->proxy, 0, "the VM is not running");
	if (was == ST_STOPPING || !d->want_up) {
		dl_log(DL_LOG_INFO, "vm: powered off");
		flush_waiters(d->stop_waiters, &d->nstop, true, NULL, now() - d->t_stop);
		if (d->quitting)
			quit_soon(d);
		return;
	}
	if (d->probing) {
		char *w = dl_accel_fallback_warning(d->accel, d->fallback, d->probe_seconds);
		dl_log(DL_LOG_WARN, "vm: %s", w ? w : "accelerator failed; falling back");
		free(w);
		accel_remember(d, d->accel, false);
		d->probing = false;
		d->t_restart = now();
		return;
	}
	d->crashes++;
	double delay = d->crashes > 5 ? 30.0 : (double)(1 << (d->crashes - 1));
	snprintf(d->last_error, sizeof(d->last_error), "the VM exited unexpectedly (status %d)",
		 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	dl_log(DL_LOG_ERR, "vm: %s in state %s; restarting in %.0f s (see `dlite logs --console`)",
	       d->last_error, state_names[was], delay);
	if (was == ST_STARTING && d->crashes >= 3) {
		flush_waiters(d->start_waiters, &d->nstart, false,
			      "the VM keeps exiting while booting; see `dlite logs --console`", 0);
		d->want_up = false;
		return;
	}
	d->t_restart = now() + delay;
}

/* ---- clock ---- */

static void clock_sync(struct daemon *d)
{
	char req[64], reply[128];
	struct timespec host;

	if (d->clock_gettime_ok) {
		struct timespec a, b;
		clock_gettime(CLOCK_REALTIME, &a);
		if (dl_chan_control(&d->chan, "gettime", reply, sizeof(reply), 1000, NULL) == 0) {
			clock_gettime(CLOCK_REALTIME, &b);
			double mid = ((double)a.tv_sec + (double)b.tv_sec) / 2 +
				     ((double)a.tv_nsec + (double)b.tv_nsec) / 2e9;
			double guest = strtod(reply + 3, NULL);
			if (guest > 0 && (guest - mid < CLOCK_MAX_SKEW_S && mid - guest < CLOCK_MAX_SKEW_S))
				return;
			dl_log(DL_LOG_INFO, "clock: guest is off by %.3f s; setting it", guest - mid);
		} else if (strncmp(reply, "err", 3) == 0) {
			d->clock_gettime_ok = false; /* an older agent: set unconditionally */
		}
	}
	clock_gettime(CLOCK_REALTIME, &host);
	snprintf(req, sizeof(req), "time %lld.%09ld", (long long)host.tv_sec, host.tv_nsec);
	if (dl_chan_control(&d->chan, req, reply, sizeof(reply), 1000, NULL) < 0)
		dl_log(DL_LOG_WARN, "clock: the agent did not take the time: %s", reply);
}

/* ---- the tick ---- */

static bool console_reached_agent(const struct daemon *d)
{
	char *text = NULL;
	size_t len = 0;
	bool found = false;

	if (dl_read_file(d->paths->console_log, &text, &len, 64u << 20, NULL) == 0) {
		found = dl_console_reached_agent(text, len);
		free(text);
	}
	return found;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char reply[256];
	double t = now();

	switch (d->state) {
	case ST_STOPPED:
		if (d->want_up && d->t_restart > 0 && t >= d->t_restart) {
			d->t_restart = 0;
			struct dl_err e = { 0 };
			if (vm_spawn(d, &e) < 0) {
				dl_log(DL_LOG_ERR, "vm: %s", e.msg);
				d->want_up = false;
				flush_waiters(d->start_waiters, &d->nstart, false, e.msg, 0);
			}
		}
		break;
	case ST_STARTING:
		if (dl_chan_control(&d->chan, "ready", reply, sizeof(reply), 1000, NULL) == 0) {
			became_ready(d);
			break;
		}
		if (d->probing && t - d->t_start > d->probe_seconds && !console_reached_agent(d)) {
			vm_kill(d, SIGKILL); /* vm_exited() falls back */
		} else if (t - d->t_start > START_TIMEOUT_S) {
			dl_log(DL_LOG_ERR, "vm: not ready after %.0f s; stopping it", START_TIMEOUT_S);
			flush_waiters(d->start_waiters, &d->nstart, false,
				      "the VM did not become ready; see `dlite logs --console`", 0);
			d->want_up = false;
			vm_kill(d, SIGKILL);
		}
		break;
	case ST_RUNNING:
		if (t >= d->t_next_clock) {
			clock_sync(d);
			d->t_next_clock = t + CLOCK_PERIOD_S;
		}
		dl_watch_poll(d->watch);
		break;
	case ST_STOPPING:
		if (t - d->t_stop > STOP_TIMEOUT_S) {
			dl_log(DL_LOG_WARN, "vm: no clean poweroff after %.0f s; killing it", STOP_TIMEOUT_S);
			vm_kill(d, SIGKILL);
			d->t_stop = t; /* and again later if even that is stuck */
		}
		break;
	}
}

static void on_sigchld(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == d->vm_pid)
			vm_exited(d, st);
		else if (dl_vfsd_reaped(&d->vfsd, pid) &&
			 (d->state == ST_STARTING || d->state == ST_RUNNING))
			/* QEMU may be exiting too (reaped next); else the share is gone */
			dl_log(DL_LOG_WARN, "share: virtiofsd exited (status %d); see %s/%s",
			       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), d->paths->run,
			       DL_VIRTIOFSD_LOG);
	}
}

static void on_quit_signal(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	dl_log(DL_LOG_INFO, "daemon: signal %d: stopping", (int)fd);
	d->quitting = true;
	if (d->state == ST_STOPPED)
		quit_soon(d);
	else
		stop_request(d, NULL);
}

/* ---- control socket ---- */

static json_t *status_json(struct daemon *d)
{
	json_t *j = json_pack("{s:b,s:s,s:i,s:i,s:s,s:s,s:s,s:s}", "ok", 1, "state",
			      state_names[d->state], "cpus", d->cfg.cpus, "memory_gib",
			      d->cfg.memory_gib, "hostname", d->cfg.hostname, "socket", d->cfg.socket,
			      "share", d->cfg.share, "network", d->cfg.network);

	json_object_set_new(j, "daemon_pid", json_integer(getpid()));
	if (d->manifest.image_version[0]) {
		json_object_set_new(j, "os_version", json_string(d->manifest.image_version));
		json_object_set_new(j, "kernel_version", json_string(d->manifest.kernel_version));
	}
	if (d->last_error[0])
		json_object_set_new(j, "last_error", json_string(d->last_error));
	if (d->state == ST_STOPPED)
		return j;
	char chan[128];
	json_object_set_new(j, "pid", json_integer(d->vm_pid));
	json_object_set_new(j, "accel", json_string(dl_accel_name(d->accel)));
	json_object_set_new(j, "channel", json_string(dl_chan_cfg_str(&d->chan, chan, sizeof(chan))));
	if (d->share_fs != DL_SHARE_NONE)
		json_object_set_new(j, "share_fs", json_string(dl_sharefs_name(d->share_fs)));
	if (d->state == ST_RUNNING) {
		json_object_set_new(j, "uptime", json_integer((json_int_t)(now() - d->t_ready)));
		json_object_set_new(j, "boot_seconds", json_real(d->t_ready - d->t_start));
		json_object_set_new(j, "address", json_string(dl_bridge_vm_addr(d->bridge)));
		json_object_set_new(j, "docker_version", json_string(d->docker_version));
		json_object_set_new(j, "ports", dl_watch_ports_json(d->watch));
		dl_resources_status(j, &d->chan); /* disk_used, platforms */
	}
	return j;
}

static void ctl_read(struct bufferevent *bev, void *arg)
{
	struct daemon *d = arg;
	size_t n;
	char *line = evbuffer_readln(bufferevent_get_input(bev), &n, EVBUFFER_EOL_LF);

	if (!line) {
		if (evbuffer_get_length(bufferevent_get_input(bev)) > 4096)
			bufferevent_free(bev);
		return;
	}
	if (!strcmp(line, "start"))
		start_request(d, bev);
	else if (!strcmp(line, "stop"))
		stop_request(d, bev);
	else if (!strcmp(line, "status"))
		reply(bev, status_json(d));
	else if (!strcmp(line, "ping"))
		reply(bev, json_pack("{s:b}", "ok", 1));
	else if (!strcmp(line, "quit")) {
		d->quitting = true;
		if (d->state == ST_STOPPED) {
			reply(bev, json_pack("{s:b}", "ok", 1));
			quit_soon(d);
		} else {
			stop_request(d, bev);
		}
	} else
		reply_err(bev, "unknown request");
	free(line);
}

static void drop_waiter(struct bufferevent **w, int *n, struct bufferevent *bev)
{
	for (int i = 0; i < *n; i++)
		if (w[i] == bev) {
			w[i] = w[--*n];
			return;
		}
}

static void ctl_event(struct bufferevent *bev, short what, void *arg)
{
	struct daemon *d = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		drop_waiter(d->start_waiters, &d->nstart, bev);
		drop_waiter(d->stop_waiters, &d->nstop, bev);
		bufferevent_free(bev);
	}
}

static void ctl_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		       int len, void *arg)
{
	struct daemon *d = arg;
#ifdef SO_PEERCRED
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 && cred.uid != getuid() &&
	    cred.uid != 0) {
		close(fd);
		return;
	}
#endif
	struct bufferevent *bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, ctl_read, NULL, ctl_event, d);
	bufferevent_enable(bev, EV_READ);
}

static int ctl_listen(struct daemon *d, struct dl_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(d->paths->control) >= sizeof(sa.sun_path))
		return dl_fail(e, ENAMETOOLONG, "control socket %s", d->paths->control);
	strcpy(sa.sun_path, d->paths->control);
	unlink(d->paths->control); /* we hold the lock: any socket file there is stale */
	mode_t old = umask(0077);
	d->ctl = evconnlistener_new_bind(d->base, ctl_accept, d,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
					 (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (!d->ctl)
		return dl_fail(e, errno, "cannot listen on %s", d->paths->control);
	return 0;
}

int dl_daemon_run(const struct dl_paths *paths, const struct dl_config *cfg,
		  const struct dl_daemon_opts *opts, struct dl_err *e)
{
	struct daemon d = { .paths = paths, .cfg = *cfg, .clock_gettime_ok = true };
	char lockpath[1200];
	int r = -1;

	snprintf(lockpath, sizeof(lockpath), "%s/daemon.lock", paths->run);
	mkdir(paths->run, 0700);
	int lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
		return dl_fail(e, errno, "another dlite daemon runs for %s", paths->home);
	signal(SIGPIPE, SIG_IGN);
	d.base = event_base_new();
	if (ctl_listen(&d, e) < 0)
		goto out;
	d.proxy = dl_proxy_new(d.base, cfg->socket, &d.chan, e);
	if (!d.proxy)
		goto out;
	dl_proxy_set_state(d.proxy, 0, "the VM is not running");
	d.watch = dl_watch_new(d.base, cfg, e);
	if (!d.watch)
		goto out;
	if (!(d.bridge = dl_bridge_new(paths, cfg, e)))
		goto out;
	if (strcmp(cfg->network, "bridged") == 0)
		dl_watch_set_subnets_cb(d.watch, dl_bridge_routes, d.bridge);
	struct timeval period = { 0, 250000 };
	d.tick = event_new(d.base, -1, EV_PERSIST, on_tick, &d);
	event_add(d.tick, &period);
	d.sigchld = evsignal_new(d.base, SIGCHLD, on_sigchld, &d);
	d.sigterm = evsignal_new(d.base, SIGTERM, on_quit_signal, &d);
	d.sigint = evsignal_new(d.base, SIGINT, on_quit_signal, &d);
	event_add(d.sigchld, NULL);
	event_add(d.sigterm, NULL);
	event_add(d.sigint, NULL);
	dl_log(DL_LOG_INFO, "daemon: pid %d, home %s, docker socket %s", (int)getpid(), paths->home,
	       cfg->socket);
	if (!opts->idle)
		start_request(&d, NULL);
	event_base_dispatch(d.base);
	dl_log(DL_LOG_INFO, "daemon: exiting");
	r = 0;
out:
	if (d.vm_pid > 0) {
		kill(d.vm_pid, SIGKILL);
		waitpid(d.vm_pid, NULL, 0);
	}
	dl_vfsd_stop(&d.vfsd);
	dl_bridge_free(d.bridge);
	if (d.watch)
		dl_watch_free(d.watch);
	if (d.proxy)
		dl_proxy_free(d.proxy);
	if (d.ctl) {
		evconnlistener_free(d.ctl);
		unlink(paths->control);
	}
	if (d.tick)
		event_free(d.tick);
	if (d.sigchld)
		event_free(d.sigchld), event_free(d.sigterm), event_free(d.sigint);
	event_base_free(d.base);
	close(lock);
	return r;
}
