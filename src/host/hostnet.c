/* The helper's policy (privreq.h): the host's routes and addresses from
 * ip(8) listings, and the checks every bridge and route request passes. */
#include "privreq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static unsigned fam_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

bool dl_cidr_contains(const struct dl_cidr *c, const unsigned char *addr)
{
	for (unsigned bit = 0; bit < c->prefix; bit++) {
		unsigned char m = (unsigned char)(0x80 >> (bit % 8));
		if ((c->addr[bit / 8] & m) != (addr[bit / 8] & m))
			return false;
	}
	return true;
}

bool dl_cidr_overlap(const struct dl_cidr *a, const struct dl_cidr *b)
{
	if (a->family != b->family)
		return false;
	return a->prefix <= b->prefix ? dl_cidr_contains(a, b->addr) : dl_cidr_contains(b, a->addr);
}

bool dl_priv_private(const struct dl_cidr *c)
{
	static const struct {
		int family;
		unsigned char addr[16];
		unsigned prefix;
	} ranges[] = {
		{ AF_INET, { 10 }, 8 },
		{ AF_INET, { 172, 16 }, 12 },
		{ AF_INET, { 192, 168 }, 16 },
		{ AF_INET6, { 0xfc }, 7 },
	};
	if (c->prefix < 8)
		return false;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(*ranges); i++) {
		struct dl_cidr r = { .family = ranges[i].family, .prefix = ranges[i].prefix };
		memcpy(r.addr, ranges[i].addr, sizeof(r.addr));
		if (c->family == r.family && c->prefix >= r.prefix && dl_cidr_contains(&r, c->addr))
			return true;
	}
	return false;
}

void dl_host_net_free(struct dl_host_net *h)
{
	free(h->routes);
	free(h->addrs);
	memset(h, 0, sizeof(*h));
}

static int push(struct dl_host_route **list, size_t *n, const struct dl_host_route *r)
{
	struct dl_host_route *l = realloc(*list, (*n + 1) * sizeof(*l));
	if (!l)
		return -1;
	l[(*n)++] = *r;
	*list = l;
	return 0;
}

/* "ADDR" or "ADDR/PREFIX" (host bits cleared) of the given family */
static int read_prefix(const char *s, int family, struct dl_cidr *c, unsigned char *addr)
{
	char a[INET6_ADDRSTRLEN];
	size_t an = strcspn(s, "/");
	unsigned long p = fam_bits(family);
	char *end;

	memset(c, 0, sizeof(*c));
	if (an == 0 || an >= sizeof(a))
		return -1;
	memcpy(a, s, an);
	a[an] = '\0';
	if (inet_pton(family, a, c->addr) != 1)
		return -1;
	if (s[an] == '/') {
		p = strtoul(s + an + 1, &end, 10);
		if (!s[an + 1] || *end || p > fam_bits(family))
			return -1;
	}
	if (addr)
		memcpy(addr, c->addr, 16);
	c->family = family;
	c->prefix = (unsigned)p;
	for (unsigned bit = c->prefix; bit < 128; bit++)
		c->addr[bit / 8] &= (unsigned char)~(0x80 >> (bit % 8));
	return 0;
}

#define MAXTOK 64

static size_t split(char *line, char **tok)
{
	size_t n = 0;
	for (char *t = strtok(line, " \t\\"); t && n < MAXTOK; t = strtok(NULL, " \t\\"))
		tok[n++] = t;
	return n;
}

static const char *const route_types[] = { "unicast", "local",	   "broadcast", "multicast",
					   "throw",   "unreachable", "prohibit",  "blackhole",
					   "nat",     "anycast",     NULL };

int dl_host_routes_parse(const char *text, int family, struct dl_host_net *h, struct dl_err *e)
{
	char *copy = strdup(text ? text : ""), *save = NULL, *tok[MAXTOK];
	int rc = 0;

	if (!copy)
		return dl_fail(e, ENOMEM, "out of memory");
	for (char *line = strtok_r(copy, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char show[80];
		snprintf(show, sizeof(show), "%s", line);
		size_t n = split(line, tok), i = 0;
		struct dl_host_route r = { 0 };
		if (!n)
			continue;
		for (size_t t = 0; route_types[t]; t++)
			if (!strcmp(tok[0], route_types[t]))
				i = 1;
		if (i >= n) {
			rc = dl_fail(e, 0, "cannot read the route \"%s\"", show);
			break;
		}
		if (!strcmp(tok[i], "default")) {
			r.dst.family = family;
		} else if (read_prefix(tok[i], family, &r.dst, NULL) < 0) {
			rc = dl_fail(e, 0, "cannot read the route \"%s\"", show);
			break;
		}
		for (size_t k = i + 1; k + 1 < n; k++) {
			if (!strcmp(tok[k], "dev"))
				snprintf(r.dev, sizeof(r.dev), "%s", tok[k + 1]);
			else if (!strcmp(tok[k], "via") && inet_pton(family, tok[k + 1], r.via) == 1)
				r.has_via = true;
		}
		if (push(&h->routes, &h->nroutes, &r) < 0)
			rc = dl_fail(e, ENOMEM, "out of memory");
	}
	free(copy);
	return rc;
}

int dl_host_addrs_parse(const char *text, struct dl_host_net *h, struct dl_err *e)
{
	char *copy = strdup(text ? text : ""), *save = NULL, *tok[MAXTOK];
	int rc = 0;

	if (!copy)
		return dl_fail(e, ENOMEM, "out of memory");
	for (char *line = strtok_r(copy, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t n = split(line, tok);
		for (size_t k = 2; k + 1 < n; k++) {
			int fam = !strcmp(tok[k], "inet") ? AF_INET : !strcmp(tok[k], "inet6") ? AF_INET6 : 0;
			struct dl_host_route r = { 0 };
			if (!fam)
				continue;
			if (read_prefix(tok[k + 1], fam, &r.dst, r.dst.addr) < 0) {
				rc = dl_fail(e, 0, "cannot read the address \"%.60s\"", tok[k + 1]);
				break;
			}
			r.dst.prefix = fam_bits(fam); /* the address itself */
			snprintf(r.dev, sizeof(r.dev), "%.*s", (int)strcspn(tok[1], "@:"), tok[1]);
			if (push(&h->addrs, &h->naddrs, &r) < 0)
				rc = dl_fail(e, ENOMEM, "out of memory");
			break;
		}
	}
	free(copy);
	return rc;
}

static const char *show(const struct dl_cidr *c, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(buf, n, "%s/%u", a, c->prefix);
	return buf;
}

/* Shared by both checks: routes (default ones aside, and those on `ours`
 * that `ours_exact` allows), local addresses (not on `ours` when
 * own_addrs_ok) and default gateways. */
static int clash(const struct dl_cidr *c, const char *ours, const struct dl_cidr *ours_exact,
		 bool own_addrs_ok, const struct dl_host_net *h, struct dl_err *e)
{
	char b1[64], b2[64];

	for (size_t i = 0; i < h->nroutes; i++) {
		const struct dl_host_route *r = &h->routes[i];
		if (r->dst.family != c->family)
			continue;
		if (r->dst.prefix == 0) {
			if (r->has_via && dl_cidr_contains(c, r->via))
				return dl_fail(e, 0, "refused: %s contains the default gateway",
					       show(c, b1, sizeof(b1)));
			continue;
		}
		if (!strcmp(r->dev, ours) &&
		    (!ours_exact || (r->dst.prefix == ours_exact->prefix &&
				     !memcmp(r->dst.addr, ours_exact->addr, 16))))
			continue;
		if (dl_cidr_overlap(c, &r->dst))
			return dl_fail(e, 0, "refused: %s overlaps the host's route to %s (dev %s)",
				       show(c, b1, sizeof(b1)), show(&r->dst, b2, sizeof(b2)),
				       r->dev[0] ? r->dev : "?");
	}
	for (size_t i = 0; i < h->naddrs; i++) {
		const struct dl_host_route *a = &h->addrs[i];
		if (a->dst.family != c->family || (own_addrs_ok && !strcmp(a->dev, ours)))
			continue;
		if (dl_cidr_contains(c, a->dst.addr))
			return dl_fail(e, 0, "refused: %s contains the local address %s (dev %s)",
				       show(c, b1, sizeof(b1)), show(&a->dst, b2, sizeof(b2)), a->dev);
	}
	return 0;
}

int dl_priv_route_check(const struct dl_cidr *subnet, const unsigned char *via,
			const char *bridge, const struct dl_cidr *bridge_net,
			const struct dl_host_net *h, struct dl_err *e)
{
	char b1[64], b2[64];

	if (!dl_priv_private(subnet))
		return dl_fail(e, 0, "refused: %s is not a private network (10/8, 172.16/12, "
			       "192.168/16 or fc00::/7, at least /8)", show(subnet, b1, sizeof(b1)));
	if (!bridge_net || bridge_net->family != subnet->family ||
	    !dl_cidr_contains(bridge_net, via))
		return dl_fail(e, 0, "refused: the gateway of %s is not on the bridge's network",
			       show(subnet, b1, sizeof(b1)));
	if (dl_cidr_overlap(subnet, bridge_net))
		return dl_fail(e, 0, "refused: %s overlaps the bridge's network %s",
			       show(subnet, b1, sizeof(b1)), show(bridge_net, b2, sizeof(b2)));
	return clash(subnet, bridge, subnet, false, h, e);
}

int dl_priv_bridge_check(const struct dl_cidr *net, const unsigned char *host_addr,
			 const char *bridge, const struct dl_host_net *h, struct dl_err *e)
{
	char b1[64];
	unsigned host = 0;

	if (net->family != AF_INET || !dl_priv_private(net) || net->prefix > 30)
		return dl_fail(e, 0, "refused: the bridge network %s must be private IPv4, /8 to /30",
			       show(net, b1, sizeof(b1)));
	for (unsigned bit = net->prefix; bit < 32; bit++)
		host = (host << 1) | ((host_addr[bit / 8] >> (7 - bit % 8)) & 1);
	if (host == 0 || host == (1u << (32 - net->prefix)) - 1)
		return dl_fail(e, 0, "refused: the bridge address is the first or last of %s",
			       show(net, b1, sizeof(b1)));
	return clash(net, bridge, NULL, true, h, e);
}
