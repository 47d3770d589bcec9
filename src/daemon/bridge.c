/*
 * Bridged mode: bridge + tap, routes to docker's networks through the VM,
 * and the host's resolver pointed at dlite's DNS responder (see bridge.h).
 *
 * The daemon runs as the user: everything that needs root goes to the
 * privileged helper (`dlite helper`, src/daemon/privd.c) as one request
 * each (src/daemon/privc.c), and the helper re-validates it.  The tap comes
 * back as an fd that QEMU inherits, so QEMU runs as the user too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "daemon/bridge.h"
#include "daemon/chan.h"
#include "daemon/log.h"
#include "daemon/names.h"
#include "daemon/privc.h"
#include "host/atomic.h"
#include "host/resolver.h"
#include "host/routes.h"
#include "proto.h"
#include "vm/vm.h"

#define MAX_ROUTES 256

struct dl_bridge {
	bool bridged;
	char home[DL_PATH_MAX];
	char vm_cidr[64], vm_addr[64], host_cidr[64], host_addr[64];
	char domain[256];
	char cmdline[512]; /* the spec's cmdline_extra plus dlite.bridged=1 */
	/* what we did (undone by down) */
	bool is_up, resolver_set;
	int tap_fd;	   /* from the helper, until QEMU has it */
	char *routes[MAX_ROUTES];
	size_t nroutes;
	bool v6_noted, hint_logged;
	unsigned dns_port;
};

/* A request to the helper about our bridge; the reply's error in e. */
static int ask(struct dl_bridge *b, enum dl_priv_verb verb, const char *net, const char *addr,
	       int *fd, struct dl_err *e)
{
	struct dl_priv_req r = { .verb = verb, .port = b->dns_port };
	char line[DL_PRIV_MAX_LINE + 1];

	snprintf(r.bridge, sizeof(r.bridge), "%s", DL_BRIDGE_IF);
	snprintf(r.tap, sizeof(r.tap), "%s", DL_BRIDGE_TAP);
	snprintf(r.domain, sizeof(r.domain), "%s", b->domain);
	/* build the words as the helper will read them: one parser for both */
	int n = 0;
	switch (verb) {
	case DL_PRIV_UP: n = snprintf(line, sizeof(line), "up %s %s %s\n", r.bridge, r.tap, net); break;
	case DL_PRIV_DOWN: n = snprintf(line, sizeof(line), "down %s\n", r.bridge); break;
	case DL_PRIV_ROUTE_ADD:
	case DL_PRIV_ROUTE_DEL:
		n = snprintf(line, sizeof(line), "%s %s %s %s\n",
			     verb == DL_PRIV_ROUTE_ADD ? "route-add" : "route-del", r.bridge, net, addr);
		break;
	case DL_PRIV_DNS:
		n = snprintf(line, sizeof(line), "dns %s %s %u %s\n", r.bridge, addr, b->dns_port,
			     b->domain);
		break;
	case DL_PRIV_DNS_OFF: n = snprintf(line, sizeof(line), "dns-off %s %s\n", r.bridge, b->domain); break;
	}
	if (n <= 0 || (size_t)n >= sizeof(line) || dl_priv_parse(line, (size_t)n, &r, e) < 0)
		return -1;
	int rc = dl_privc_request(&r, fd, e);
	line[n - 1] = '\0';
	if (rc == 0)
		dl_log(DL_LOG_INFO, "net: helper: %s", line);
	return rc;
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
	b->tap_fd = -1;
	b->bridged = strcmp(cfg->network, "bridged") == 0;
	snprintf(b->home, sizeof(b->home), "%s", paths->home);
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

static void tap_close(struct dl_bridge *b)
{
	if (b->tap_fd >= 0)
		close(b->tap_fd);
	b->tap_fd = -1;
}

void dl_bridge_child(const struct dl_bridge *b)
{
	if (b && b->tap_fd >= 0)
		fcntl(b->tap_fd, F_SETFD, 0);
}

void dl_bridge_spawned(struct dl_bridge *b)
{
	if (b)
		tap_close(b); /* QEMU holds the tap now; it goes away with QEMU */
}

int dl_bridge_up(struct dl_bridge *b, struct dl_vm_spec *s, struct dl_chan_cfg *chan,
		 struct dl_err *e)
{
	if (!b->bridged)
		return 0;
#ifdef __linux__
	tap_close(b);
	b->is_up = true; /* a half-made bridge is undone by down */
	if (ask(b, DL_PRIV_UP, b->host_cidr, NULL, &b->tap_fd, e) < 0) {
		dl_bridge_down(b);
		return dl_err_wrap(e, "bridged mode: cannot set up " DL_BRIDGE_IF);
	}
	if (b->tap_fd < 0) {
		dl_bridge_down(b);
		return dl_fail(e, 0, "bridged mode: the helper sent no tap");
	}
	s->tap_fd = b->tap_fd;
#endif
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

static bool have(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

/* One request per subnet; those the helper refuses are logged, not kept. */
static size_t routes_run(struct dl_bridge *b, const char **subnets, size_t n, bool add)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct dl_err e = { 0 };
		if (ask(b, add ? DL_PRIV_ROUTE_ADD : DL_PRIV_ROUTE_DEL, subnets[i], b->vm_addr, NULL,
			&e) == 0)
			subnets[k++] = subnets[i];
		else
			dl_log(DL_LOG_WARN, "routes: %s: %s%s", subnets[i], e.msg,
			       add ? " (give the docker network another subnet)" : "");
	}
	return k;
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
		if (dl_cidr_valid(subnets[j]))
			add[nadd++] = subnets[j];
	}
	nadd = routes_run(b, add, nadd, true);
	for (size_t i = 0; i < nadd; i++)
		if ((b->routes[b->nroutes] = strdup(add[i])))
			b->nroutes++;
}

static void routes_clear(struct dl_bridge *b)
{
	routes_run(b, (const char **)b->routes, b->nroutes, false);
	for (size_t i = 0; i < b->nroutes; i++)
		free(b->routes[i]);
	b->nroutes = 0;
}

/* ---- resolver ---- */

/* The helper points the system's resolver at us (systemd-resolved on the
 * bridge, /etc/resolver/DOMAIN on macOS); without systemd-resolved, a
 * dnsmasq snippet in DLITE_HOME and a hint. */
static void resolver_up(struct dl_bridge *b)
{
	struct dl_err e = { 0 };

	if (b->bridged && ask(b, DL_PRIV_DNS, NULL, b->host_addr, NULL, &e) == 0) {
		b->resolver_set = true;
		return;
	}
	if (b->bridged && !strstr(e.msg, "no systemd-resolved"))
		dl_log(DL_LOG_WARN, "dns: cannot point the resolver at dlite: %s", e.msg);
#ifdef __APPLE__
	if (!b->hint_logged)
		dl_log(DL_LOG_INFO, "dns: to resolve *.%s on this host, ask %s port %u directly "
		       "(bridged mode writes /etc/resolver/%s)", b->domain, b->host_addr, b->dns_port,
		       b->domain);
	b->hint_logged = true;
	return;
#endif
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

	if (!b->resolver_set)
		return;
	b->resolver_set = false;
	if (ask(b, DL_PRIV_DNS_OFF, NULL, NULL, NULL, &e) < 0)
		dl_log(DL_LOG_WARN, "dns: %s", e.msg);
}

void dl_bridge_ready(struct dl_bridge *b, unsigned dns_port)
{
	if (!dns_port)
		return;
	b->dns_port = dns_port;
	resolver_up(b);
}

void dl_bridge_down(struct dl_bridge *b)
{
	struct dl_err e = { 0 };

	if (!b)
		return;
	resolver_down(b);
	tap_close(b);
	if (!b->bridged || !b->is_up)
		return;
	routes_clear(b);
#ifdef __linux__
	if (ask(b, DL_PRIV_DOWN, NULL, NULL, NULL, &e) < 0)
		dl_log(DL_LOG_WARN, "net: %s", e.msg);
#endif
	b->is_up = false;
}

void dl_bridge_free(struct dl_bridge *b)
{
	if (!b)
		return;
	dl_bridge_down(b);
	free(b);
}
