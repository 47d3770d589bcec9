/*
 * relay-harness: runs dlite's docker.sock proxy and port forwards (the
 * daemon's data path, src/daemon) against a given agent channel, without a
 * VM — for tests/e2e/t_proxy_host.sh and bench/proxy.
 *
 *   relay-harness --chan tcp:127.0.0.1:PORT --token-file FILE
 *                 [--sock PATH] [--down [WHY]] [--no-splice] [--no-caps]
 *                 [--port tcp|udp:HOSTPORT:GUESTPORT[:HOSTIP][@CTRADDR/CTRPORT]]...
 *   relay-harness --chan ... --token-file FILE --control REQUEST
 *
 * The agent's capabilities are asked for as the daemon does (status caps=);
 * --no-caps ignores them, as with an agent of an older image.
 * Prints "ready" once listening.  Reads commands on stdin, one a line:
 *   up | down [WHY]          dl_proxy_set_state
 *   ports [SPEC...]          dl_ports_set with exactly these mappings
 *   caps TCP UDP             dl_ports_set_caps (connections, associations per port)
 *   status                   one line per mapping:
 *                            "port PROTO IP HOSTPORT GUESTPORT ok|failed ERROR open=N"
 *                            then "end"
 *   stats                    "stats active=N total=N refused=N relays=N pooled=N"
 *   quit
 * SIGTERM/SIGINT: clean exit (the socket file is removed).
 */
#include "daemon/chan.h"
#include "daemon/log.h"
#include "daemon/ports.h"
#include "daemon/proxy.h"
#include "daemon/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

static struct event_base *base;
static struct dl_proxy *proxy;
static struct dl_ports *ports;
static struct dl_chan_cfg ports_cfg;
static char inbuf[8192];
static size_t inlen;

static void die(const char *msg)
{
	fprintf(stderr, "relay-harness: %s\n", msg);
	exit(1);
}

static int parse_portspec(const char *s, struct dl_portmap *m)
{
	char buf[128], *save = NULL, *tok, *ctr;
	memset(m, 0, sizeof(*m));
	snprintf(buf, sizeof(buf), "%s", s);
	/* "@ADDR/PORT": the container behind the published port */
	if ((ctr = strchr(buf, '@'))) {
		*ctr++ = '\0';
		char *slash = strrchr(ctr, '/');
		if (!slash || slash - ctr >= (long)sizeof(m->ctr_addr))
			return -1;
		*slash = '\0';
		snprintf(m->ctr_addr, sizeof(m->ctr_addr), "%s", ctr);
		m->ctr_port = (uint16_t)atoi(slash + 1);
	}
	tok = strtok_r(buf, ":", &save);
	if (!tok)
		return -1;
	if (!strcmp(tok, "tcp"))
		m->proto = IPPROTO_TCP;
	else if (!strcmp(tok, "udp"))
		m->proto = IPPROTO_UDP;
	else
		return -1;
	if (!(tok = strtok_r(NULL, ":", &save)))
		return -1;
	m->host_port = (uint16_t)atoi(tok);
	if (!(tok = strtok_r(NULL, ":", &save)))
		return -1;
	m->guest_port = (uint16_t)atoi(tok);
	/* the rest (may contain ':' for IPv6) is the host ip */
	if (save && *save)
		snprintf(m->host_ip, sizeof(m->host_ip), "%s", save);
	snprintf(m->owner, sizeof(m->owner), "test-%u", m->host_port);
	return m->host_port && m->guest_port ? 0 : -1;
}

static void cmd_status(void)
{
	struct dl_port_status st[256];
	size_t n = dl_ports_status(ports, st, 256);
	for (size_t i = 0; i < n && i < 256; i++)
		printf("port %s %s %u %u %s %s open=%u\n", st[i].map.proto == IPPROTO_TCP ? "tcp" : "udp",
		       st[i].map.host_ip[0] ? st[i].map.host_ip : "*", st[i].map.host_port,
		       st[i].map.guest_port, st[i].ok ? "ok" : "failed", st[i].error, st[i].open);
	printf("caps addr=%d\n", ports_cfg.addr_targets);
	printf("end\n");
}

static void command(char *line)
{
	char *args = strchr(line, ' ');
	if (args)
		*args++ = '\0';
	if (!strcmp(line, "up")) {
		if (proxy)
			dl_proxy_set_state(proxy, 1, NULL);
		printf("ok\n");
	} else if (!strcmp(line, "down")) {
		if (proxy)
			dl_proxy_set_state(proxy, 0, args);
		printf("ok\n");
	} else if (!strcmp(line, "ports")) {
		struct dl_portmap maps[64];
		size_t n = 0;
		char *save = NULL;
		for (char *t = args ? strtok_r(args, " ", &save) : NULL; t && n < 64;
		     t = strtok_r(NULL, " ", &save))
			if (parse_portspec(t, &maps[n]) == 0)
				n++;
		printf("ok failed=%d\n", dl_ports_set(ports, maps, n));
	} else if (!strcmp(line, "caps")) {
		unsigned tcp = 0, udp = 0;
		if (args)
			sscanf(args, "%u %u", &tcp, &udp);
		dl_ports_set_caps(ports, tcp, udp);
		printf("ok\n");
	} else if (!strcmp(line, "status")) {
		cmd_status();
	} else if (!strcmp(line, "stats")) {
		struct dl_proxy_stats st = { 0 };
		if (proxy)
			dl_proxy_stats(proxy, &st);
		printf("stats active=%lu total=%lu refused=%lu relays=%lu pooled=%lu\n", st.active,
		       st.total, st.refused, dl_relay_active(), st.pooled);
	} else if (!strcmp(line, "quit")) {
		event_base_loopbreak(base);
	} else if (*line) {
		printf("err unknown command\n");
	}
	fflush(stdout);
}

static void stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct event *self = arg;
	ssize_t n = read(fd, inbuf + inlen, sizeof(inbuf) - 1 - inlen);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			event_del(self); /* stdin closed: keep serving */
		return;
	}
	inlen += (size_t)n;
	char *nl;
	while ((nl = memchr(inbuf, '\n', inlen))) {
		*nl = '\0';
		command(inbuf);
		size_t used = (size_t)(nl - inbuf) + 1;
		memmove(inbuf, nl + 1, inlen - used);
		inlen -= used;
	}
	if (inlen == sizeof(inbuf) - 1)
		inlen = 0;
}

static void sig_cb(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(base);
}

int main(int argc, char **argv)
{
	struct dl_chan_cfg cfg;
	struct dl_err e = { 0 };
	const char *chan = NULL, *token_file = NULL, *sock = NULL, *control = NULL;
	const char *down = NULL;
	int no_caps = 0;
	struct dl_portmap maps[64];
	size_t nmaps = 0;
	struct rlimit rl;

	memset(&cfg, 0, sizeof(cfg));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--chan") && v)
			chan = v, i++;
		else if (!strcmp(a, "--token-file") && v)
			token_file = v, i++;
		else if (!strcmp(a, "--sock") && v)
			sock = v, i++;
		else if (!strcmp(a, "--control") && v)
			control = v, i++;
		else if (!strcmp(a, "--down"))
			down = (v && v[0] != '-') ? argv[++i] : "";
		else if (!strcmp(a, "--no-splice"))
			dl_relay_set_splice(0);
		else if (!strcmp(a, "--no-caps"))
			no_caps = 1;
		else if (!strcmp(a, "--port") && v && nmaps < 64) {
			if (parse_portspec(v, &maps[nmaps++]) < 0)
				die("bad --port: use tcp|udp:HOSTPORT:GUESTPORT[:HOSTIP][@CTRADDR/CTRPORT]");
			i++;
		} else
			die("usage: relay-harness --chan SPEC --token-file FILE [--sock PATH] "
			    "[--down [WHY]] [--no-splice] [--no-caps] [--port SPEC]... | --control REQ");
	}
	if (!chan || !token_file)
		die("--chan and --token-file are required");
	if (dl_chan_cfg_parse(&cfg, chan, &e) < 0)
		die(e.msg);
	{
		uint8_t buf[256];
		int fd = open(token_file, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
		if (fd >= 0)
			close(fd);
		if (n < 0 || dl_token_parse(buf, (size_t)n, cfg.token) < 0)
			die("cannot read the token file");
	}
	if (control) {
		char reply[1024];
		int r = dl_chan_control(&cfg, control, reply, sizeof(reply), 5000, &e);
		if (r < 0 && !reply[0]) {
			fprintf(stderr, "relay-harness: %s\n", e.msg);
			return 1;
		}
		printf("%s\n", reply);
		return r < 0 ? 2 : 0;
	}

	signal(SIGPIPE, SIG_IGN);
	/* thousands of connections, each up to 2 fds here */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	base = event_base_new();
	if (!base)
		die("event_base_new");
	if (sock) {
		proxy = dl_proxy_new(base, sock, &cfg, &e);
		if (!proxy)
			die(e.msg);
		if (down)
			dl_proxy_set_state(proxy, 0, *down ? down : NULL);
	}
	/* as the daemon does once the VM is ready */
	dl_chan_probe_caps(&cfg, NULL, 0, 5000);
	if (no_caps)
		cfg.addr_targets = 0;
	ports_cfg = cfg;
	ports = dl_ports_new(base, &cfg);
	if (!ports)
		die("dl_ports_new");
	if (nmaps)
		dl_ports_set(ports, maps, nmaps);

	struct event *sin = event_new(base, 0, EV_READ | EV_PERSIST, stdin_cb, event_self_cbarg());
	struct event *sterm = evsignal_new(base, SIGTERM, sig_cb, NULL);
	struct event *sint = evsignal_new(base, SIGINT, sig_cb, NULL);
	event_add(sin, NULL);
	event_add(sterm, NULL);
	event_add(sint, NULL);
	printf("ready\n");
	fflush(stdout);
	event_base_dispatch(base);
	event_free(sin);
	event_free(sterm);
	event_free(sint);
	dl_ports_free(ports);
	dl_proxy_free(proxy);
	event_base_free(base);
	return 0;
}
