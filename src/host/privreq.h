/*
 * Bridged mode's privileged helper: the request protocol and the policy that
 * the helper (root) applies to every request of the user's daemon.  Pure:
 * bytes and the host's route/address listings in, verdicts out; the helper
 * (src/daemon/privd.c) gathers the listings and runs the commands.
 *
 * Protocol: one request per connection on the helper's unix socket, one
 * line of printable ASCII ended by "\n" (at most DL_PRIV_MAX_LINE bytes),
 * words separated by one space:
 *   up BRIDGE TAP HOST_ADDR/PREFIX    bridge with that address, a tap owned by
 *                                     the user on it; the tap's fd comes back
 *                                     with the reply (SCM_RIGHTS)
 *   down BRIDGE                       delete the bridge (its routes go with it)
 *   route-add BRIDGE SUBNET VIA       ip route replace SUBNET via VIA dev BRIDGE
 *   route-del BRIDGE SUBNET VIA       ip route del SUBNET via VIA dev BRIDGE
 *   dns BRIDGE ADDR PORT DOMAIN       point the resolver for DOMAIN at ADDR:PORT
 *   dns-off BRIDGE DOMAIN             undo that
 * Reply: "ok\n" or "error MESSAGE\n".
 */
#ifndef DLITE_HOST_PRIVREQ_H
#define DLITE_HOST_PRIVREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "routes.h"

#define DL_PRIV_MAX_LINE 256
/* The helper's socket for a uid (before dl_syspath): its folder is root's. */
#define DL_PRIV_SOCK_FMT "/var/run/dlite/helper-%u.sock"

enum dl_priv_verb {
	DL_PRIV_UP = 1,
	DL_PRIV_DOWN,
	DL_PRIV_ROUTE_ADD,
	DL_PRIV_ROUTE_DEL,
	DL_PRIV_DNS,
	DL_PRIV_DNS_OFF,
};

struct dl_priv_req {
	enum dl_priv_verb verb;
	char bridge[16];
	char tap[16];		/* up */
	struct dl_cidr net;	/* up: the bridge's network; route-*: the subnet */
	unsigned char addr[16]; /* up: the host's address; route-*: via; dns: server */
	unsigned port;		/* dns */
	char domain[128];	/* dns, dns-off */
};

/* Parse exactly one request line (buf need not be NUL-terminated).  Checks
 * the syntax of every word: interface names from the fixed patterns
 * (dl_priv_ifname_ok), numeric IPv4/IPv6 addresses, ports 1-65535, DNS
 * domains of letters, digits, '-' and '.'.  0 or -1 with a one-line message. */
int dl_priv_parse(const char *buf, size_t len, struct dl_priv_req *r, struct dl_err *e);
/* The canonical line for r (with "\n"); what dl_priv_parse reads back to r.
 * Returns its length, or -1 when it does not fit or r is not valid. */
int dl_priv_format(const struct dl_priv_req *r, char *buf, size_t n);

/* Bridge names "dlite" + 1-3 digits; taps "dlite-tap" + 1-3 digits. */
bool dl_priv_ifname_ok(const char *name, bool tap);
/* Inside 10/8, 172.16/12, 192.168/16, or fc00::/7 with a prefix of /8 or more. */
bool dl_priv_private(const struct dl_cidr *c);

/* ---- the host's view, from ip(8) listings ---- */

struct dl_host_route {
	struct dl_cidr dst; /* default: prefix 0 */
	char dev[16];
	bool has_via;
	unsigned char via[16];
};

struct dl_host_net {
	struct dl_host_route *routes;
	size_t nroutes;
	struct dl_host_route *addrs; /* dst = address/full length, dev = its interface */
	size_t naddrs;
};

/* `ip -o route show` (family AF_INET) or `ip -o -6 route show` (AF_INET6)
 * output, appended to h.  A line that cannot be read fails the whole listing
 * (the helper then refuses rather than guesses).  0 or -1. */
int dl_host_routes_parse(const char *text, int family, struct dl_host_net *h, struct dl_err *e);
/* `ip -o addr show` output (inet and inet6 lines), appended to h.  0 or -1. */
int dl_host_addrs_parse(const char *text, struct dl_host_net *h, struct dl_err *e);
void dl_host_net_free(struct dl_host_net *h);

/*
 * May SUBNET be routed via VIA on BRIDGE whose network is bridge_net?
 * Private (dl_priv_private) and not the bridge's own network; VIA inside
 * bridge_net; overlapping no host route (default routes aside, and a route
 * to exactly this subnet on BRIDGE, which is ours) and containing no local
 * address and no default gateway.  0 or -1 naming the reason.
 */
int dl_priv_route_check(const struct dl_cidr *subnet, const unsigned char *via,
			const char *bridge, const struct dl_cidr *bridge_net,
			const struct dl_host_net *h, struct dl_err *e);
/*
 * May BRIDGE get HOST_ADDR on network net?  IPv4, private, /8 to /30, the
 * address neither the network's first nor last; the network overlapping no
 * route and containing no address of another interface (nor a default
 * gateway).  0 or -1.
 */
int dl_priv_bridge_check(const struct dl_cidr *net, const unsigned char *host_addr,
			 const char *bridge, const struct dl_host_net *h, struct dl_err *e);

/* a contains b or b contains a (same family) */
bool dl_cidr_overlap(const struct dl_cidr *a, const struct dl_cidr *b);
/* addr (of c's family) inside c */
bool dl_cidr_contains(const struct dl_cidr *c, const unsigned char *addr);

#endif
