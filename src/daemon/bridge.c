/*
 * Bridged mode: bridge + tap, routes to docker's networks through the VM,
 * and the host's resolver pointed at dlite's DNS responder (see bridge.h).
 *
 * Why ip(8) and not rtnetlink: the route commands already are pure, golden-
 * tested argv lists (src/host/routes.h), so the bridge and tap use the same
 * tool; every change dlite makes shows up in daemon.log as the exact command
 * an admin would type to inspect or undo it; and creating a persistent tap
 * with an owner (TUNSETIFF + TUNSETOWNER + TUNSETPERSIST), a bridge, an
 * address and an enslavement by hand is ~300 lines of netlink for a handful
 * of changes per VM boot.  The cost, one fork+exec per change (a few ms),
 * happens at start, stop and docker network changes only.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "daemon/bridge.h"
#include "daemon/chan.h"
#include "lib/run.h"
#include "daemon/log.h"
#include "daemon/names.h"
#include "host/atomic.h"
#include "host/cmd.h"
#include "host/resolver.h"
#include "host/routes.h"
#include "proto.h"
#include "vm/vm.h"

#define MAX_ROUTES 256

struct dl_bridge {
	bool bridged;
	char home[DL_PATH_MAX], state_path[DL_PATH_MAX + 32];
	char vm_cidr[64], vm_addr[64], host_cidr[64], host_addr[64];
	char domain[256];
	char cmdline[512]; /* the spec's cmdline_extra plus dlite.bridged=1 */
	/* what we did (undone by down) */
	bool is_up, made_bridge, made_tap, resolved_set, resolver_file;
	char *routes[MAX_ROUTES];
	size_t nroutes;
	bool v6_noted, hint_logged;
	unsigned dns_port;
};

/* ---- running commands ---- */


/* Run one command and log it; 0 when it exited 0. */
static int run_logged(const char *const *argv, enum dl_log_level fail_level, char *out,
		      size_t outlen)
{
	char buf[512];
	char *text = dl_cmd_format((char *const *)argv);
	if (text)
		text[strcspn(text, "\n")] = '\0';
	if (!out)
		out = buf, outlen = sizeof(buf);
	int rc = dl_run_capture(argv, out, outlen, DL_RUN_TIMEOUT_MS);
	if (rc == 0)
		dl_log(DL_LOG_INFO, "net: %s", text ? text : argv[0]);
	else
		dl_log(fail_level, "net: %s: %s", text ? text : argv[0],
		       out[0] ? out : rc < 0 ? "cannot run it" : "failed");
	free(text);
	return rc == 0 ? 0 : -1;
}

/* Run a list; returns how many failed. */
static int run_list(char ***cmds, enum dl_log_level fail_level)
{
	int failed = 0;
	for (size_t i = 0; cmds && cmds[i]; i++)
		failed += run_logged((const char *const *)cmds[i], fail_level, NULL, 0) < 0;
	return failed;
}

#define CMD(...) ((const char *const[]){ __VA_ARGS__, NULL })

static bool link_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

/* ---- state file: what a previous daemon created and did not undo ---- */

static void state_save(struct dl_bridge *b)
{
	char text[64];
	if (!b->made_bridge && !b->made_tap) {
		unlink(b->state_path);
		return;
	}
	snprintf(text, sizeof(text), "%s%s", b->made_bridge ? "bridge\n" : "",
		 b->made_tap ? "tap\n" : "");
	dl_atomic_write(b->state_path, text, strlen(text), 0600, NULL);
}

static void state_load(struct dl_bridge *b)
{
	char *text = NULL;
	size_t len = 0;
	if (dl_read_file(b->state_path, &text, &len, 4096, NULL) < 0)
		return;
	if (strstr(text, "bridge\n") && link_exists(DL_BRIDGE_IF))
		b->made_bridge = true;
	if (strstr(text, "tap\n") && link_exists(DL_BRIDGE_TAP))
		b->made_tap = true;
	free(text);
}

/* ---- lifecycle ---- */

static void strip_prefix(char *dst, size_t n, const char *cidr)
{
	snprintf(dst, n, "%s", cidr);
	dst[strcspn(dst, "/")] = '\0';
}

struct dl_bridge *dl_bridge_new(const struct dl_paths *paths, const struct dl_config *cfg,
				struct dl_err *e)
{
	struct dl_bridge *b = calloc(1, sizeof(*b));
	if (!b)
		return dl_fail(e, ENOMEM, "bridge"), NULL;
	b->bridged = strcmp(cfg->network, "bridged") == 0;
	snprintf(b->home, sizeof(b->home), "%s", paths->home);
	snprintf(b->state_path, sizeof(b->state_path), "%s/bridge.state", paths->run);
	snprintf(b->domain, sizeof(b->domain), "%s", dl_names_domain(cfg));
	if (b->bridged) {
		snprintf(b->vm_cidr, sizeof(b->vm_cidr), "%s", cfg->bridge_addr);
		snprintf(b->host_cidr, sizeof(b->host_cidr), "%s", cfg->bridge_host);
		strip_prefix(b->vm_addr, sizeof(b->vm_addr), cfg->bridge_addr);
		strip_prefix(b->host_addr, sizeof(b->host_addr), cfg->bridge_host);
	} else {
		snprintf(b->vm_addr, sizeof(b->vm_addr), "127.0.0.1");
		snprintf(b->host_addr, sizeof(b->host_addr), "127.0.0.1");
	}
	return b;
}

const char *dl_bridge_vm_addr(const struct dl_bridge *b)
{
	return b->vm_addr;
}

#ifdef __linux__
static int links_up(struct dl_bridge *b, struct dl_err *e)
{
	char uid[32], out[512];

	state_load(b);
	if (!link_exists(DL_BRIDGE_IF)) {
		if (run_logged(CMD("ip", "link", "add", DL_BRIDGE_IF, "type", "bridge"), DL_LOG_ERR,
			       out, sizeof(out)) < 0)
			return dl_fail(e, 0, "bridged mode: cannot create bridge %s (%s); it needs root "
				       "or CAP_NET_ADMIN: run the daemon as root (`sudo dlite start`)",
				       DL_BRIDGE_IF, out);
		b->made_bridge = true;
		state_save(b);
	}
	if (run_logged(CMD("ip", "addr", "replace", b->host_cidr, "dev", DL_BRIDGE_IF), DL_LOG_ERR,
		       out, sizeof(out)) < 0)
		return dl_fail(e, 0, "bridged mode: cannot put %s on %s: %s", b->host_cidr,
			       DL_BRIDGE_IF, out);
	if (!link_exists(DL_BRIDGE_TAP)) {
		snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
		if (run_logged(CMD("ip", "tuntap", "add", "dev", DL_BRIDGE_TAP, "mode", "tap", "user",
				   uid), DL_LOG_ERR, out, sizeof(out)) < 0)
			return dl_fail(e, 0, "bridged mode: cannot create tap %s: %s (is /dev/net/tun "
				       "there? `modprobe tun`)", DL_BRIDGE_TAP, out);
		b->made_tap = true;
		state_save(b);
	}
	if (run_logged(CMD("ip", "link", "set", DL_BRIDGE_TAP, "master", DL_BRIDGE_IF, "up"),
		       DL_LOG_ERR, out, sizeof(out)) < 0 ||
	    run_logged(CMD("ip", "link", "set", DL_BRIDGE_IF, "up"), DL_LOG_ERR, out,
		       sizeof(out)) < 0)
		return dl_fail(e, 0, "bridged mode: cannot bring %s/%s up: %s", DL_BRIDGE_IF,
			       DL_BRIDGE_TAP, out);
	return 0;
}

static void links_down(struct dl_bridge *b)
{
	if (b->made_tap && link_exists(DL_BRIDGE_TAP))
		run_logged(CMD("ip", "tuntap", "del", "dev", DL_BRIDGE_TAP, "mode", "tap"), DL_LOG_WARN,
			   NULL, 0);
	if (b->made_bridge && link_exists(DL_BRIDGE_IF))
		run_logged(CMD("ip", "link", "del", DL_BRIDGE_IF), DL_LOG_WARN, NULL, 0);
	b->made_tap = b->made_bridge = false;
	state_save(b);
}
#else
/* macOS: vmnet owns the bridge (bridge100) and the VM's interface. */
static int links_up(struct dl_bridge *b, struct dl_err *e)
{
	return 0;
}

static void links_down(struct dl_bridge *b)
{
}
#endif

int dl_bridge_up(struct dl_bridge *b, struct dl_vm_spec *s, struct dl_chan_cfg *chan,
		 struct dl_err *e)
{
	if (!b->bridged)
		return 0;
	if (links_up(b, e) < 0) {
		dl_bridge_down(b);
		return -1;
	}
	b->is_up = true;
	s->net = DL_NET_BRIDGED;
	s->tap = DL_BRIDGE_TAP;
	s->guest_addr = b->vm_cidr;
	s->guest_gw = b->host_addr;
	snprintf(b->cmdline, sizeof(b->cmdline), "%s%sdlite.bridged=1",
		 s->cmdline_extra ? s->cmdline_extra : "", s->cmdline_extra ? " " : "");
	s->cmdline_extra = b->cmdline;
	chan->kind = DL_CHAN_TCP;
	snprintf(chan->host, sizeof(chan->host), "%s", b->vm_addr);
	chan->port = DL_AGENT_PORT;
	return 0;
}

/* ---- routes ---- */

/* A route to exactly this subnet through something else than dlite0 (the
 * host's own LAN on 172.17/16, a VPN) is not ours to replace. */
static bool subnet_taken(const char *subnet)
{
#ifdef __linux__
	char out[512];
	if (dl_run_capture(CMD("ip", "-o", "route", "show", "exact", subnet), out, sizeof(out), DL_RUN_TIMEOUT_MS) != 0)
		return false;
	return out[0] && !strstr(out, "dev " DL_BRIDGE_IF " ");
#else
	return false;
#endif
}

static bool have(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

static void routes_run(struct dl_bridge *b, const char *const *subnets, size_t n, bool add)
{
	struct dl_err e = { 0 };
	char ***cmds;

	if (!n)
		return;
#ifdef __APPLE__
	cmds = add ? dl_routes_macos_add(subnets, n, b->vm_addr, NULL, NULL, &e)
		   : dl_routes_macos_del(subnets, n, NULL, NULL, &e);
#else
	cmds = add ? dl_routes_linux_add(subnets, n, b->vm_addr, DL_BRIDGE_IF, &e)
		   : dl_routes_linux_del(subnets, n, b->vm_addr, &e);
#endif
	if (!cmds) {
		dl_log(DL_LOG_WARN, "routes: %s", e.msg);
		return;
	}
	run_list(cmds, DL_LOG_WARN);
	dl_cmds_free(cmds);
}

void dl_bridge_routes(void *arg, const char *const *subnets, size_t n)
{
	struct dl_bridge *b = arg;
	const char *add[MAX_ROUTES], *del[MAX_ROUTES];
	size_t nadd = 0, ndel = 0;

	if (!b->bridged || !b->is_up)
		return;
	/* gone: delete */
	for (size_t i = 0; i < b->nroutes; i++) {
		bool keep = false;
		for (size_t j = 0; j < n && !keep; j++)
			keep = !strcmp(b->routes[i], subnets[j]);
		if (!keep)
			del[ndel++] = b->routes[i];
	}
	routes_run(b, del, ndel, false);
	size_t k = 0;
	for (size_t i = 0; i < b->nroutes; i++) {
		if (have((char *const *)del, ndel, b->routes[i]))
			free(b->routes[i]);
		else
			b->routes[k++] = b->routes[i];
	}
	b->nroutes = k;
	/* new: add (IPv4 only: the VM has no IPv6 address on the bridge) */
	for (size_t j = 0; j < n && b->nroutes + nadd < MAX_ROUTES; j++) {
		if (have(b->routes, b->nroutes, subnets[j]) || have((char *const *)add, nadd, subnets[j]))
			continue;
		if (strchr(subnets[j], ':')) {
			if (!b->v6_noted)
				dl_log(DL_LOG_INFO, "routes: not routing IPv6 subnet %s (the VM has no "
				       "IPv6 address on %s)", subnets[j], DL_BRIDGE_IF);
			b->v6_noted = true;
			continue;
		}
		if (!dl_cidr_valid(subnets[j]))
			continue;
		if (subnet_taken(subnets[j])) {
			dl_log(DL_LOG_WARN, "routes: %s is already routed elsewhere on this host; not "
			       "routing it through the VM (give the docker network another subnet)",
			       subnets[j]);
			continue;
		}
		add[nadd++] = subnets[j];
	}
	routes_run(b, add, nadd, true);
	for (size_t i = 0; i < nadd; i++)
		if ((b->routes[b->nroutes] = strdup(add[i])))
			b->nroutes++;
}

static void routes_clear(struct dl_bridge *b)
{
	routes_run(b, (const char *const *)b->routes, b->nroutes, false);
	for (size_t i = 0; i < b->nroutes; i++)
		free(b->routes[i]);
	b->nroutes = 0;
}

/* ---- resolver ---- */

#ifdef __APPLE__
static int mkdir_parent(const char *path)
{
	char dir[1200];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	mkdir(dir, 0755); /* EEXIST is fine; the write reports anything else */
	return 0;
}

static void resolver_up(struct dl_bridge *b)
{
	struct dl_err e = { 0 };
	char rel[512], path[1200];
	char *text = NULL;

	if (dl_resolver_path(rel, sizeof(rel), b->domain, &e) < 0 ||
	    dl_syspath(path, sizeof(path), rel, &e) < 0 ||
	    !(text = dl_resolver_file(b->domain, b->host_addr, b->dns_port, &e)) ||
	    mkdir_parent(path) < 0 || dl_atomic_write(path, text, strlen(text), 0644, &e) < 0) {
		dl_log(DL_LOG_WARN, "dns: cannot point the resolver at dlite: %s", e.msg);
	} else {
		b->resolver_file = true;
		dl_log(DL_LOG_INFO, "dns: wrote %s", path);
	}
	free(text);
}

static void resolver_down(struct dl_bridge *b)
{
	char rel[512], path[1200];

	if (!b->resolver_file)
		return;
	if (dl_resolver_path(rel, sizeof(rel), b->domain, NULL) == 0 &&
	    dl_syspath(path, sizeof(path), rel, NULL) == 0 && unlink(path) == 0)
		dl_log(DL_LOG_INFO, "dns: removed %s", path);
	b->resolver_file = false;
}
#else
static bool resolved_present(void)
{
	char out[256];
	/* resolvectl is there and systemd-resolved answers on D-Bus */
	return dl_run_capture(CMD("resolvectl", "--no-pager", "status"), out, sizeof(out), DL_RUN_TIMEOUT_MS) == 0;
}

static void resolver_up(struct dl_bridge *b)
{
	struct dl_err e = { 0 };

	if (b->bridged && link_exists(DL_BRIDGE_IF) && resolved_present()) {
		char ***cmds = dl_resolved_cmds(DL_BRIDGE_IF, b->host_addr, b->dns_port, b->domain, &e);
		if (!cmds) {
			dl_log(DL_LOG_WARN, "dns: %s", e.msg);
			return;
		}
		if (run_list(cmds, DL_LOG_WARN) == 0)
			b->resolved_set = true;
		dl_cmds_free(cmds);
		if (b->resolved_set)
			return;
	}
	char path[DL_PATH_MAX + 32];
	char *text = dl_dnsmasq_snippet(b->domain, b->host_addr, b->dns_port, &e);
	snprintf(path, sizeof(path), "%s/dnsmasq-dlite.conf", b->home);
	if (!text || dl_atomic_write(path, text, strlen(text), 0644, &e) < 0) {
		dl_log(DL_LOG_WARN, "dns: %s", e.msg);
	} else if (!b->hint_logged) {
		dl_log(DL_LOG_INFO, "dns: no systemd-resolved here; to resolve *.%s on this host, copy "
		       "%s to %s (NetworkManager with dns=dnsmasq) or %s and reload, or ask %s "
		       "port %u directly", b->domain, path, DL_DNSMASQ_NM_PATH, DL_DNSMASQ_PATH,
		       b->host_addr, b->dns_port);
		b->hint_logged = true;
	}
	free(text);
}

static void resolver_down(struct dl_bridge *b)
{
	struct dl_err e = { 0 };

	if (!b->resolved_set)
		return;
	b->resolved_set = false;
	if (!link_exists(DL_BRIDGE_IF))
		return; /* resolved forgets a link's settings with the link */
	char ***cmds = dl_resolved_revert_cmds(DL_BRIDGE_IF, &e);
	run_list(cmds, DL_LOG_WARN);
	dl_cmds_free(cmds);
}
#endif

void dl_bridge_ready(struct dl_bridge *b, unsigned dns_port)
{
	if (!dns_port)
		return;
	b->dns_port = dns_port;
	resolver_up(b);
}

void dl_bridge_down(struct dl_bridge *b)
{
	if (!b)
		return;
	resolver_down(b);
	routes_clear(b);
	if (b->bridged && (b->is_up || b->made_bridge || b->made_tap))
		links_down(b);
	b->is_up = false;
}

void dl_bridge_free(struct dl_bridge *b)
{
	if (!b)
		return;
	dl_bridge_down(b);
	free(b);
}
