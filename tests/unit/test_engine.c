/*
 * hyperkit/vfkit glue (src/daemon/engine.c) and the hyperkit channel kind
 * (src/daemon/chan.c): a fake hyperkit "connect" socket in a thread checks
 * the preamble and then speaks the agent protocol; the exports edit runs
 * under a DLITE_SYSROOT with a stand-in nfsd; the console copy reads a pty.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/chan.h"
#include "daemon/engine.h"
#include "lib/nfs.h"
#include "host/atomic.h"
#include "host/exports.h"
#include "proto.h"
#include "vm/accel.h"
#include "vm/vm.h"
#include "testio.h"

static char tmp[256];

static void mktmp(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/dlite-test-engine.XXXXXX");
	assert_non_null(mkdtemp(tmp));
}

static void rmtmp(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
}

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static char *slurp(const char *path)
{
	char *t = NULL;
	size_t n = 0;
	if (dl_read_file(path, &t, &n, 1 << 20, NULL) < 0)
		return NULL;
	return t;
}

/* ---- channel config ---- */

static void chan_parse_str(void **state)
{
	struct dl_chan_cfg c = { 0 };
	struct dl_err e = { 0 };
	char buf[200];
	uint8_t pre[DL_CHAN_PREAMBLE_MAX];

	assert_int_equal(dl_chan_cfg_parse(&c, "hyperkit:/Users/me/.dlite/run/vsock/connect:3:5155", &e), 0);
	assert_int_equal(c.kind, DL_CHAN_HYPERKIT);
	assert_string_equal(c.path, "/Users/me/.dlite/run/vsock/connect");
	assert_int_equal(c.cid, 3);
	assert_int_equal(c.port, 5155);
	assert_string_equal(dl_chan_cfg_str(&c, buf, sizeof(buf)),
			    "hyperkit:/Users/me/.dlite/run/vsock/connect:3:5155");
	assert_int_equal(dl_chan_preamble(&c, pre), 18);
	assert_memory_equal(pre, "00000003.00001423\n", 18);

	/* a path with colons: the last two split */
	assert_int_equal(dl_chan_cfg_parse(&c, "hyperkit:/a:b/connect:4294967295:1", &e), 0);
	assert_string_equal(c.path, "/a:b/connect");
	assert_int_equal(c.cid, 4294967295u);
	assert_int_equal(dl_chan_preamble(&c, pre), 18);
	assert_memory_equal(pre, "ffffffff.00000001\n", 18);

	static const char *const bad[] = { "hyperkit:", "hyperkit:/p", "hyperkit:/p:3",
					   "hyperkit::3:5155", "hyperkit:/p:x:5155",
					   "hyperkit:/p:3:0", "hyperkit:/p:3:65536",
					   "hyperkit:/p::5155", "hyperkit:/p:-3:5155",
					   "hyperkit:/p:4294967296:5155" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (dl_chan_cfg_parse(&c, bad[i], &e) == 0)
			fail_msg("accepted %s", bad[i]);
	}
	/* other kinds send nothing before the header */
	assert_int_equal(dl_chan_cfg_parse(&c, "unix:/x/agent.sock", &e), 0);
	assert_int_equal(dl_chan_preamble(&c, pre), 0);
	assert_int_equal(dl_chan_cfg_parse(&c, "tcp:5155", &e), 0);
	assert_int_equal(dl_chan_preamble(&c, pre), 0);
}

/* ---- a fake hyperkit + agent on a unix socket ---- */

static const uint8_t token[DL_TOKEN_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

struct fake {
	int lfd;
	int nconn;	     /* connections to serve */
	int bad_preamble;    /* connections that sent a wrong preamble */
	char path[108];
};

/* Per connection: the preamble line (as hyperkit reads it), then the agent:
 * header check, OK reply; "control": one line -> "ok pong"; "tcp:N": echo. */
static void *fake_main(void *arg)
{
	struct fake *f = arg;

	for (int i = 0; i < f->nconn; i++) {
		int c = accept(f->lfd, NULL, NULL);
		if (c < 0)
			break;
		char pre[32] = { 0 };
		size_t n = 0;
		while (n < sizeof(pre) - 1 && read(c, pre + n, 1) == 1 && pre[n++] != '\n')
			;
		if (strcmp(pre, "00000003.00001423\n") != 0) {
			f->bad_preamble++;
			close(c); /* what hyperkit does with a connection it cannot place */
			continue;
		}
		uint8_t hdr[DL_HDR_LEN], rep[DL_REPLY_LEN];
		struct dl_target t;
		if (read_full(c, hdr, sizeof(hdr)) < 0 || dl_hdr_check(hdr, token, &t) < 0) {
			close(c);
			continue;
		}
		dl_reply_encode(rep, DL_ST_OK, 0);
		if (write(c, rep, sizeof(rep)) != (ssize_t)sizeof(rep)) {
			close(c);
			continue;
		}
		char buf[512];
		ssize_t r;
		if (t.kind == DL_TARGET_CONTROL) {
			r = read(c, buf, sizeof(buf));
			if (r > 0 && write(c, "ok pong\n", 8) != 8)
				r = -1;
		} else {
			while ((r = read(c, buf, sizeof(buf))) > 0)
				if (write(c, buf, (size_t)r) != r)
					break;
		}
		close(c);
	}
	return NULL;
}

static void fake_start(struct fake *f, pthread_t *th, int nconn)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	f->nconn = nconn;
	snprintf(f->path, sizeof(f->path), "%s/connect", tmp);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	assert_int_equal(pthread_create(th, NULL, fake_main, f), 0);
}

static void hyperkit_cfg(struct dl_chan_cfg *c, const struct fake *f, unsigned cid)
{
	memset(c, 0, sizeof(*c));
	c->kind = DL_CHAN_HYPERKIT;
	c->cid = cid;
	c->port = DL_AGENT_PORT;
	snprintf(c->path, sizeof(c->path), "%s", f->path);
	memcpy(c->token, token, sizeof(token));
}

static void chan_dial_hyperkit(void **state)
{
	struct fake f;
	pthread_t th;
	struct dl_chan_cfg c;
	struct dl_err e = { 0 };
	char reply[64];

	mktmp();
	fake_start(&f, &th, 3);
	hyperkit_cfg(&c, &f, 3);
	/* control request through the preamble */
	assert_int_equal(dl_chan_control(&c, "ping", reply, sizeof(reply), 5000, &e), 0);
	assert_string_equal(reply, "ok pong");
	/* a stream */
	int fd = dl_chan_dial(&c, "tcp:80", 5000, &e);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	char buf[8] = { 0 };
	assert_int_equal(read_full(fd, buf, 5), 0);
	assert_string_equal(buf, "hello");
	close(fd);
	/* the wrong CID: hyperkit closes, the dial says so */
	hyperkit_cfg(&c, &f, 4);
	assert_true(dl_chan_dial(&c, "docker", 5000, &e) < 0);
	assert_non_null(strstr(e.msg, "hyperkit:"));
	pthread_join(th, NULL);
	assert_int_equal(f.bad_preamble, 1);
	close(f.lfd);
	rmtmp();
}

struct async_res {
	int fd, err, done;
	struct event_base *base;
};

static void async_cb(int fd, int err, void *arg)
{
	struct async_res *r = arg;
	r->fd = fd;
	r->err = err;
	r->done = 1;
	event_base_loopbreak(r->base);
}

static void chan_open_hyperkit(void **state)
{
	struct fake f;
	pthread_t th;
	struct dl_chan_cfg c;
	struct async_res r = { .fd = -1 };

	mktmp();
	fake_start(&f, &th, 1);
	hyperkit_cfg(&c, &f, 3);
	r.base = event_base_new();
	assert_int_equal(dl_chan_open(r.base, &c, "tcp:22", async_cb, &r), 0);
	assert_int_equal(r.done, 0); /* never from within dl_chan_open */
	event_base_dispatch(r.base);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.err, 0);
	assert_true(r.fd >= 0);
	dl_set_nonblock(r.fd, 0);
	assert_int_equal(write(r.fd, "vsock", 5), 5);
	char buf[8] = { 0 };
	assert_int_equal(read_full(r.fd, buf, 5), 0);
	assert_string_equal(buf, "vsock");
	close(r.fd);
	pthread_join(th, NULL);
	assert_int_equal(f.bad_preamble, 0);
	close(f.lfd);
	event_base_free(r.base);
	rmtmp();
}

/* ---- exports ---- */

static void vmnet_net(void **state)
{
	char net[16], mask[16];
	struct dl_err e = { 0 };

	assert_int_equal(dl_nfs_vmnet_net("192.168.64.2/24", net, mask, &e), 0);
	assert_string_equal(net, "192.168.64.0");
	assert_string_equal(mask, "255.255.255.0");
	assert_int_equal(dl_nfs_vmnet_net("10.1.2.3/20", net, mask, &e), 0);
	assert_string_equal(net, "10.1.0.0");
	assert_string_equal(mask, "255.255.240.0");
	assert_int_equal(dl_nfs_vmnet_net("10.1.2.3/32", net, mask, &e), 0);
	assert_string_equal(mask, "255.255.255.255");
	static const char *const bad[] = { "192.168.64.2", "192.168.64.2/0", "192.168.64.2/33",
					   "x/24", "192.168.64.2/", "192.168.64.2/2x", "::1/64" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (dl_nfs_vmnet_net(bad[i], net, mask, &e) == 0)
			fail_msg("accepted %s", bad[i]);
}

static void exports_plan(void **state)
{
	struct dl_err e = { 0 };
	size_t n = 0;
	const char *old = "/Volumes/data -ro\n";
	char *out = dl_nfs_exports_plan(old, strlen(old), "/Users/me", "192.168.64.2/24", 501,
					   20, &n, &e);

	assert_non_null(out);
	assert_string_equal(out, "/Volumes/data -ro\n" DL_EXPORTS_BEGIN "\n"
				 "\"/Users/me\" -network 192.168.64.0 -mask 255.255.255.0 -alldirs "
				 "-mapall=501:20\n" DL_EXPORTS_END "\n");
	free(out);
	/* a parent already exported: the message quotes it */
	old = "/Users -alldirs\n";
	assert_null(dl_nfs_exports_plan(old, strlen(old), "/Users/me", "192.168.64.2/24", 501,
					   20, &n, &e));
	assert_non_null(strstr(e.msg, "/Users -alldirs"));
	assert_null(dl_nfs_exports_plan(NULL, 0, "/Users/me", "bad", 501, 20, &n, &e));
}

/* The stand-in nfsd logs its arguments; "checkexports" fails when
 * $T/reject exists, printing what real nfsd would. */
static void nfsd_script(char *log, size_t n)
{
	char path[300], text[1024];

	snprintf(log, n, "%s/nfsd.log", tmp);
	snprintf(path, sizeof(path), "%s/nfsd", tmp);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\necho \"$*\" >> '%s'\n"
		 "if [ \"$1\" = checkexports ] && [ -e '%s/reject' ]; then\n"
		 "  echo 'exports:3: path contains non-directory or non-existent components'\n"
		 "  exit 1\nfi\nexit 0\n", log, tmp);
	put(path, text, 0755);
	setenv("DLITE_NFSD", path, 1);
}

static void nfs_export_sysroot(void **state)
{
	char etc[300], exports[300], log[300], reject[300];
	struct dl_err e = { 0 };
	char *t;

	mktmp();
	snprintf(etc, sizeof(etc), "%s/etc", tmp);
	mkdir(etc, 0755);
	snprintf(exports, sizeof(exports), "%s/etc/exports", tmp);
	snprintf(reject, sizeof(reject), "%s/reject", tmp);
	setenv("DLITE_SYSROOT", tmp, 1);
	nfsd_script(log, sizeof(log));

	/* missing file: created with the block; checkexports + update */
	assert_int_equal(dl_nfs_export("/Users/me", "192.168.64.2/24", 501, 20, &e), 0);
	t = slurp(exports);
	assert_non_null(t);
	assert_non_null(strstr(t, "\"/Users/me\" -network 192.168.64.0 -mask 255.255.255.0"));
	free(t);
	t = slurp(log);
	assert_string_equal(t, "checkexports\nupdate\n");
	free(t);

	/* already there: nothing written, nfsd not run (no root needed) */
	assert_int_equal(dl_nfs_export("/Users/me", "192.168.64.2/24", 501, 20, &e), 0);
	t = slurp(log);
	assert_string_equal(t, "checkexports\nupdate\n");
	free(t);

	/* nfsd rejects a new export: the file is put back, the message quotes nfsd */
	char *before = slurp(exports);
	put(reject, "", 0644);
	assert_int_equal(dl_nfs_export("/Users/other", "192.168.64.2/24", 501, 20, &e), -1);
	assert_non_null(strstr(e.msg, "non-existent components"));
	t = slurp(exports);
	assert_string_equal(t, before);
	free(t);
	free(before);
	unlink(reject);

	/* a conflicting user export: refused before any write */
	put(exports, "/Users -alldirs -maproot=root\n", 0644);
	assert_int_equal(dl_nfs_export("/Users/me", "192.168.64.2/24", 501, 20, &e), -1);
	assert_non_null(strstr(e.msg, "/Users -alldirs -maproot=root"));
	t = slurp(exports);
	assert_string_equal(t, "/Users -alldirs -maproot=root\n");
	free(t);

	/* uninstall: the block goes, the rest stays byte for byte */
	put(exports, "/Volumes/x -ro", 0644);
	assert_int_equal(dl_nfs_export("/Users/me", "192.168.64.2/24", 501, 20, &e), 0);
	assert_int_equal(dl_nfs_unexport(&e), 0);
	t = slurp(exports);
	assert_string_equal(t, "/Volumes/x -ro");
	free(t);
	/* nothing of ours: a no-op */
	unlink(log);
	assert_int_equal(dl_nfs_unexport(&e), 0);
	assert_null(slurp(log));

	unsetenv("DLITE_NFSD");
	unsetenv("DLITE_SYSROOT");
	rmtmp();
}

/* ---- spec + channel ---- */

static void fill_paths(struct dl_paths *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->home, sizeof(p->home), "%s/h", tmp);
	snprintf(p->run, sizeof(p->run), "%s/h/run", tmp);
	snprintf(p->console_log, sizeof(p->console_log), "%s/h/run/console.log", tmp);
	mkdir(p->home, 0700);
}

static struct dl_vm_spec base_spec(enum dl_engine eng, const struct dl_paths *p)
{
	struct dl_vm_spec s = { 0 };
	s.engine = eng;
	s.arch = DL_ARCH_X86_64;
	s.accel = DL_ACCEL_HVF;
	s.cpus = 2;
	s.mem_mib = 2048;
	s.kernel = "/k/vmlinuz";
	s.initrd = "/k/initrd";
	s.root_image = "/k/root.erofs";
	s.data_disk = "/k/disk.img";
	s.uid = 501;
	s.gid = 20;
	s.run_dir = p->run;
	s.share_path = "/Users/me";
	s.share_fs = DL_SHARE_9P; /* what the daemon sets first */
	return s;
}

static void setup_engines(void **state)
{
	struct dl_paths p;
	struct dl_config cfg = { 0 };
	struct dl_chan_cfg c;
	struct dl_err e = { 0 };
	char **argv = NULL, want[400], uuid1[40];

	mktmp();
	fill_paths(&p);
	setenv("DLITE_HYPERKIT", "/opt/hyperkit", 1);
	setenv("DLITE_VFKIT", "/opt/vfkit", 1);

	/* vfkit: unix channel to RUN/agent.sock, virtiofs, vmnet defaults */
	memset(&c, 0, sizeof(c));
	memcpy(c.token, token, sizeof(token));
	struct dl_vm_spec s = base_spec(DL_ENGINE_VFKIT, &p);
	assert_int_equal(dl_engine_setup(&p, &cfg, &s, &c, &e), 0);
	assert_int_equal(c.kind, DL_CHAN_UNIX);
	snprintf(want, sizeof(want), "%s/agent.sock", p.run);
	assert_string_equal(c.path, want);
	assert_memory_equal(c.token, token, sizeof(token));
	assert_int_equal(s.share_fs, DL_SHARE_VIRTIOFS);
	assert_string_equal(s.guest_addr, DL_VMNET_GUEST_ADDR);
	assert_string_equal(s.guest_gw, DL_VMNET_GATEWAY);
	assert_string_equal(s.binary, "/opt/vfkit");
	assert_int_equal(dl_vm_argv(&s, &argv, &e), 0);
	dl_argv_free(argv);

	/* hyperkit: preamble channel on RUN/vsock/connect, NFS from the gateway,
	 * config addresses win over the defaults; no nfsd stand-in: no export */
	snprintf(cfg.bridge_addr, sizeof(cfg.bridge_addr), "192.168.65.7/24");
	snprintf(cfg.bridge_host, sizeof(cfg.bridge_host), "192.168.65.1/24");
	s = base_spec(DL_ENGINE_HYPERKIT, &p);
	assert_int_equal(dl_engine_setup(&p, &cfg, &s, &c, &e), 0);
	assert_int_equal(c.kind, DL_CHAN_HYPERKIT);
	assert_int_equal(c.cid, 3);
	assert_int_equal(c.port, DL_AGENT_PORT);
	snprintf(want, sizeof(want), "%s/vsock/connect", p.run);
	assert_string_equal(c.path, want);
	snprintf(want, sizeof(want), "%s/vsock", p.run);
	struct stat st;
	assert_int_equal(stat(want, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(s.share_fs, DL_SHARE_NFS);
	assert_string_equal(s.guest_addr, "192.168.65.7/24");
	assert_string_equal(s.guest_gw, "192.168.65.1");
	assert_string_equal(s.nfs_host, "192.168.65.1");
	assert_non_null(s.uuid);
	assert_int_equal(strlen(s.uuid), 36);
	snprintf(uuid1, sizeof(uuid1), "%s", s.uuid);
	assert_int_equal(dl_vm_argv(&s, &argv, &e), 0);
	dl_argv_free(argv);
	/* the UUID is stable for one DLITE_HOME */
	s = base_spec(DL_ENGINE_HYPERKIT, &p);
	assert_int_equal(dl_engine_setup(&p, &cfg, &s, &c, &e), 0);
	assert_string_equal(s.uuid, uuid1);

	/* bridged mode set the address already: kept */
	s = base_spec(DL_ENGINE_HYPERKIT, &p);
	s.guest_addr = "10.9.0.2/24";
	s.guest_gw = "10.9.0.1";
	assert_int_equal(dl_engine_setup(&p, &cfg, &s, &c, &e), 0);
	assert_string_equal(s.nfs_host, "10.9.0.1");

	/* with the stand-in nfsd under a sysroot, hyperkit start writes the export */
	char etc[300], log[300];
	snprintf(etc, sizeof(etc), "%s/etc", tmp);
	mkdir(etc, 0755);
	setenv("DLITE_SYSROOT", tmp, 1);
	nfsd_script(log, sizeof(log));
	s = base_spec(DL_ENGINE_HYPERKIT, &p);
	assert_int_equal(dl_engine_setup(&p, &cfg, &s, &c, &e), 0);
	snprintf(etc, sizeof(etc), "%s/etc/exports", tmp);
	char *t = slurp(etc);
	assert_non_null(t);
	assert_non_null(strstr(t, "-network 192.168.65.0 -mask 255.255.255.0"));
	free(t);
	/* ... and a conflict stops the start */
	put(etc, "/Users\n", 0644);
	s = base_spec(DL_ENGINE_HYPERKIT, &p);
	assert_int_equal(dl_engine_setup(&p, &cfg, &s, &c, &e), -1);
	assert_non_null(strstr(e.msg, "/Users"));
	unsetenv("DLITE_NFSD");
	unsetenv("DLITE_SYSROOT");

#ifndef __APPLE__
	/* not macOS and no stand-in: refused plainly */
	unsetenv("DLITE_HYPERKIT");
	s = base_spec(DL_ENGINE_HYPERKIT, &p);
	assert_int_equal(dl_engine_setup(&p, &cfg, &s, &c, &e), -1);
	assert_non_null(strstr(e.msg, "macOS only"));
#endif
	unsetenv("DLITE_HYPERKIT");
	unsetenv("DLITE_VFKIT");
	rmtmp();
}

/* ---- hyperkit console: pty -> console.log ---- */

static const char *wait_for;

static void stop_loop(evutil_socket_t fd, short what, void *arg)
{
	struct dl_paths *p = ((void **)arg)[0];
	struct event_base *base = ((void **)arg)[1];
	char *t = slurp(p->console_log);
	if (t && strstr(t, wait_for))
		event_base_loopbreak(base);
	free(t);
}

/* Run the loop until console.log holds what (10 s at most). */
static void run_until(struct event_base *base, struct dl_paths *p, const char *what)
{
	void *args[2] = { p, base };
	struct event *tick = event_new(base, -1, EV_PERSIST, stop_loop, args);
	struct timeval period = { 0, 20000 }, limit = { 10, 0 };

	wait_for = what;
	event_add(tick, &period);
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	event_free(tick);
}

static void console_copy(void **state)
{
	struct dl_paths p;
	char ptyfile[400], text[300];

	mktmp();
	fill_paths(&p);
	mkdir(p.run, 0700);
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	const char *slave = ptsname(m);
	assert_non_null(slave);

	struct event_base *base = event_base_new();
	/* the file is not there yet when the engine starts */
	put(p.console_log, "old boot\n", 0600);
	unlink(p.console_log); /* vm_spawn removes it before the fork */
	dl_engine_spawned(base, &p, DL_ENGINE_HYPERKIT, getpid());
	snprintf(ptyfile, sizeof(ptyfile), "%s/console.pty", p.run);
	snprintf(text, sizeof(text), "%s", slave); /* as hyperkit: no newline */
	put(ptyfile, text, 0600);
	/* the guest writes before and after the copy opens the pty */
	const char *out = "Linux version 6.1\r\ndlite-stamp agent 812\r\ndlite-agent: started\r\n"
			  "dlite-stamp dockerd 1234\r\n";
	assert_int_equal(write(m, out, strlen(out)), (ssize_t)strlen(out));

	run_until(base, &p, "dlite-stamp dockerd 1234");

	char *t = slurp(p.console_log);
	assert_non_null(t);
	assert_non_null(strstr(t, "dlite-agent: started"));
	assert_non_null(strstr(t, "dlite-stamp dockerd 1234"));
	assert_null(strstr(t, "old boot"));
	assert_true(dl_console_reached_agent(t, strlen(t)));
	free(t);
	/* once the copy has the pty (raw, no echo), nothing the guest writes
	 * comes back to it as input; what was echoed before that is drained */
	char echo[256];
	int fl = fcntl(m, F_GETFL);
	fcntl(m, F_SETFL, fl | O_NONBLOCK);
	while (read(m, echo, sizeof(echo)) > 0)
		;
	assert_int_equal(write(m, "reboot: Power down\r\n", 20), 20);
	run_until(base, &p, "Power down");
	errno = 0;
	assert_true(read(m, echo, sizeof(echo)) < 0 && errno == EAGAIN);

	dl_engine_console_stop();
	event_base_free(base);
	close(m);
	rmtmp();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chan_parse_str),
		cmocka_unit_test(chan_dial_hyperkit),
		cmocka_unit_test(chan_open_hyperkit),
		cmocka_unit_test(vmnet_net),
		cmocka_unit_test(exports_plan),
		cmocka_unit_test(nfs_export_sysroot),
		cmocka_unit_test(setup_engines),
		cmocka_unit_test(console_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
