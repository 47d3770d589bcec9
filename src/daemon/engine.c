/* hyperkit and vfkit glue for the daemon (see engine.h). */
#include "daemon/engine.h"
#include "lib/nfs.h"
#include "lib/run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/chan.h"
#include "daemon/log.h"
#include "host/atomic.h"
#include "host/cmd.h"
#include "host/exports.h"
#include "proto.h"

/* Strings the spec points at (one VM per daemon). */
static struct {
	char guest_addr[64], gw[64], uuid[40];
} eng;

/* A UUID stable per DLITE_HOME (vmnet keys the MAC on it): two FNV-1a
 * hashes of the path, shaped as a version 4 / variant 1 UUID. */
static void home_uuid(const char *home, char out[40])
{
	uint64_t h[2] = { 0xcbf29ce484222325ull, 0x84222325cbf29ce4ull };
	uint8_t b[16];

	for (int k = 0; k < 2; k++)
		for (const char *c = home; *c; c++)
			h[k] = (h[k] ^ (uint8_t)*c) * 0x100000001b3ull + (uint64_t)k;
	for (int i = 0; i < 8; i++) {
		b[i] = (uint8_t)(h[0] >> (8 * i));
		b[8 + i] = (uint8_t)(h[1] >> (8 * i));
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, 40,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

/* ---- spec and channel ---- */

static void strip_prefix(char *dst, size_t n, const char *cidr)
{
	snprintf(dst, n, "%s", cidr);
	dst[strcspn(dst, "/")] = '\0';
}

static int runpath(char *buf, size_t n, const struct dl_paths *p, const char *name,
		   struct dl_err *e)
{
	if ((size_t)snprintf(buf, n, "%s/%s", p->run, name) >= n)
		return dl_fail(e, ENAMETOOLONG, "path %s/%s is too long", p->run, name);
	return 0;
}

int dl_engine_setup(const struct dl_paths *p, const struct dl_config *cfg, struct dl_vm_spec *s,
		    struct dl_chan_cfg *chan, struct dl_err *e)
{
	char path[DL_PATH_MAX + 64];

	if (s->engine != DL_ENGINE_HYPERKIT && s->engine != DL_ENGINE_VFKIT)
		return dl_fail(e, 0, "engine %s is not hyperkit or vfkit", dl_engine_name(s->engine));
	s->binary = getenv(s->engine == DL_ENGINE_HYPERKIT ? "DLITE_HYPERKIT" : "DLITE_VFKIT");
	if (s->binary && !*s->binary)
		s->binary = NULL;
#ifndef __APPLE__
	/* elsewhere only a stand-in runs (tests): say so instead of failing exec */
	if (!s->binary)
		return dl_fail(e, 0, "engine %s runs on macOS only; run `dlite config set engine "
			       "qemu`", dl_engine_name(s->engine));
#endif

	/* network: vmnet NAT, static guest address (bridged mode may have set it) */
	if (!s->guest_addr) {
		snprintf(eng.guest_addr, sizeof(eng.guest_addr), "%s",
			 cfg->bridge_addr[0] ? cfg->bridge_addr : DL_VMNET_GUEST_ADDR);
		if (cfg->bridge_host[0])
			strip_prefix(eng.gw, sizeof(eng.gw), cfg->bridge_host);
		else
			snprintf(eng.gw, sizeof(eng.gw), "%s", DL_VMNET_GATEWAY);
		s->guest_addr = eng.guest_addr;
		s->guest_gw = eng.gw;
	}

	/* RUN: sockets and files of the previous boot go */
	mkdir(p->run, 0700);
	static const char *const stale[] = { DL_VM_AGENT_SOCK, DL_VM_VFKIT_SOCK, DL_VM_CONSOLE_PTY,
					     DL_VM_VSOCK_DIR "/connect" };
	for (size_t i = 0; i < sizeof(stale) / sizeof(*stale); i++)
		if (runpath(path, sizeof(path), p, stale[i], NULL) == 0)
			unlink(path);

	uint8_t token[DL_TOKEN_LEN];
	memcpy(token, chan->token, sizeof(token));
	memset(chan, 0, sizeof(*chan));
	memcpy(chan->token, token, sizeof(token));

	if (s->engine == DL_ENGINE_VFKIT) {
		if (s->share_path)
			s->share_fs = DL_SHARE_VIRTIOFS;
		s->virtiofsd_sock = NULL;
		chan->kind = DL_CHAN_UNIX;
		if (runpath(chan->path, sizeof(chan->path), p, DL_VM_AGENT_SOCK, e) < 0)
			return -1;
		return 0;
	}

	/* hyperkit */
	home_uuid(p->home, eng.uuid);
	s->uuid = eng.uuid;
	if (runpath(path, sizeof(path), p, DL_VM_VSOCK_DIR, e) < 0)
		return -1;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return dl_fail(e, errno, "cannot make %s", path);
	chan->kind = DL_CHAN_HYPERKIT;
	chan->cid = DL_HYPERKIT_CID;
	chan->port = DL_AGENT_PORT;
	if (runpath(chan->path, sizeof(chan->path), p, DL_VM_VSOCK_DIR "/connect", e) < 0)
		return -1;
	if (s->share_path) {
		s->share_fs = DL_SHARE_NFS;
		s->virtiofsd_sock = NULL;
		s->nfs_host = s->guest_gw;
#ifdef __APPLE__
		if (dl_nfs_export(s->share_path, s->guest_addr, getuid(), getgid(), e) < 0)
			return -1;
#else
		/* not macOS: only the tests' stand-in nfsd under a sysroot */
		if (getenv("DLITE_NFSD") && dl_sysroot()[0] &&
		    dl_nfs_export(s->share_path, s->guest_addr, getuid(), getgid(), e) < 0)
			return -1;
#endif
	}
	return 0;
}

/* ---- hyperkit console: pty -> console.log ---- */

static struct {
	struct event *poll, *rd;
	int pty, log;
	pid_t pid;
	char pty_file[DL_PATH_MAX + 32];
} con = { .pty = -1, .log = -1 };

void dl_engine_console_stop(void)
{
	if (con.poll)
		event_free(con.poll);
	if (con.rd)
		event_free(con.rd);
	if (con.pty >= 0)
		close(con.pty);
	if (con.log >= 0)
		close(con.log);
	con.poll = con.rd = NULL;
	con.pty = con.log = -1;
	con.pid = 0;
}

static void con_read(evutil_socket_t fd, short what, void *arg)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(con.log, buf + off, (size_t)(n - off));
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					break; /* a full disk drops console text, not the VM */
				off += w;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* EOF or EIO: hyperkit closed the pty (the VM is gone) */
		dl_log(DL_LOG_DEBUG, "console: %s closed", con.pty_file);
		dl_engine_console_stop();
		return;
	}
}

/* The pty path hyperkit wrote into console.pty, once it is there. */
static bool pty_path(char *out, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	bool ok = false;

	if (dl_read_file(con.pty_file, &text, &len, 4096, NULL) < 0)
		return false;
	text[strcspn(text, "\r\n")] = '\0';
	if (strncmp(text, "/dev/", 5) == 0 && strlen(text) < n && text[5]) {
		snprintf(out, n, "%s", text);
		/* hyperkit writes the name in one write(), no newline (uart_emul.c);
		 * the device must exist */
		ok = access(text, F_OK) == 0;
	}
	free(text);
	return ok;
}

static void con_poll(evutil_socket_t fd, short what, void *arg)
{
	struct event_base *base = arg;
	char dev[256];
	struct termios t;

	if (con.pid > 0 && kill(con.pid, 0) < 0 && errno == ESRCH) {
		dl_engine_console_stop();
		return;
	}
	if (!pty_path(dev, sizeof(dev)))
		return;
	int pty = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (pty < 0) {
		dl_log(DL_LOG_WARN, "console: cannot open %s: %s", dev, strerror(errno));
		dl_engine_console_stop();
		return;
	}
	/* raw and no echo: with echo, the guest's output would come back to it
	 * as console input */
	if (tcgetattr(pty, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(pty, TCSANOW, &t);
	}
	event_free(con.poll);
	con.poll = NULL;
	con.pty = pty;
	con.rd = event_new(base, pty, EV_READ | EV_PERSIST, con_read, NULL);
	if (!con.rd || event_add(con.rd, NULL) < 0) {
		dl_engine_console_stop();
		return;
	}
	dl_log(DL_LOG_DEBUG, "console: copying %s into the console log", dev);
}

void dl_engine_spawned(struct event_base *base, const struct dl_paths *p, enum dl_engine engine,
		       pid_t pid)
{
	struct timeval period = { 0, 100000 };

	dl_engine_console_stop();
	if (engine != DL_ENGINE_HYPERKIT)
		return;
	if (runpath(con.pty_file, sizeof(con.pty_file), p, DL_VM_CONSOLE_PTY, NULL) < 0)
		return;
	con.log = open(p->console_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (con.log < 0) {
		dl_log(DL_LOG_WARN, "console: cannot open %s: %s", p->console_log, strerror(errno));
		return;
	}
	con.pid = pid;
	con.poll = event_new(base, -1, EV_PERSIST, con_poll, base);
	if (!con.poll || event_add(con.poll, &period) < 0)
		dl_engine_console_stop();
}
