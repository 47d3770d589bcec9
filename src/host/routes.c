#include "routes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd.h"

#define ROUTE "/sbin/route"
#define IFCONFIG "/sbin/ifconfig"

int dl_cidr_parse(const char *s, struct dl_cidr *out, struct dl_err *e)
{
	char addr[INET6_ADDRSTRLEN + 1], net[INET6_ADDRSTRLEN];
	struct dl_cidr c = { 0 };
	const char *slash = s ? strchr(s, '/') : NULL;
	unsigned long p = 0;
	size_t an, bytes;
	char *end;

	if (!slash || slash == s || (an = (size_t)(slash - s)) >= sizeof(addr) || !slash[1] ||
	    slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' && slash[2]))
		goto bad;
	memcpy(addr, s, an);
	addr[an] = '\0';
	errno = 0;
	p = strtoul(slash + 1, &end, 10);
	if (*end || errno)
		goto bad;
	if (inet_pton(AF_INET, addr, c.addr) == 1)
		c.family = AF_INET, bytes = 4;
	else if (inet_pton(AF_INET6, addr, c.addr) == 1)
		c.family = AF_INET6, bytes = 16;
	else
		goto bad;
	if (p > bytes * 8)
		goto bad;
	c.prefix = (unsigned)p;
	for (size_t bit = p; bit < bytes * 8; bit++) {
		if (c.addr[bit / 8] & (0x80 >> (bit % 8))) {
			unsigned char masked[16];
			memcpy(masked, c.addr, sizeof(masked));
			for (size_t b = p; b < bytes * 8; b++)
				masked[b / 8] &= (unsigned char)~(0x80 >> (b % 8));
			inet_ntop(c.family, masked, net, sizeof(net));
			return dl_fail(e, 0, "subnet %s has host bits set; did you mean %s/%lu?", s,
				       net, p);
		}
	}
	if (out)
		*out = c;
	return 0;
bad:
	return dl_fail(e, 0, "invalid subnet \"%.100s\": write it as ADDRESS/PREFIX, like "
		       "172.17.0.0/16 or fd00::/64", s ? s : "");
}

int dl_cidr_valid(const char *s)
{
	return dl_cidr_parse(s, NULL, NULL) == 0;
}

int dl_ifname_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n > 0 && n < 16 && name[0] != '-' && !strpbrk(name, "/: \t\n\r%");
}

static int addr_family(const char *a)
{
	unsigned char buf[16];

	if (a && inet_pton(AF_INET, a, buf) == 1)
		return AF_INET;
	if (a && inet_pton(AF_INET6, a, buf) == 1)
		return AF_INET6;
	return 0;
}

static int check_common(const char *const *subnets, size_t n, const char *vm_addr, int *fam,
			struct dl_err *e)
{
	if (vm_addr && !(*fam = addr_family(vm_addr)))
		return dl_fail(e, 0, "invalid VM address \"%.100s\": give a numeric IPv4 or IPv6 "
			       "address", vm_addr);
	if (n && !subnets)
		return dl_fail(e, 0, "internal: no subnet list");
	for (size_t i = 0; i < n; i++) {
		struct dl_cidr c;
		if (dl_cidr_parse(subnets[i], &c, e) < 0)
			return -1;
		if (vm_addr && c.family != *fam)
			return dl_fail(e, 0, "cannot route %s via %s: not the same address family; "
				       "give an %s address for the VM", subnets[i], vm_addr,
				       c.family == AF_INET ? "IPv4" : "IPv6");
	}
	return 0;
}

static int check_bridge(const char *bridge, const char *member, struct dl_err *e)
{
	if (!bridge && !member)
		return 0;
	if (!bridge || !member || !dl_ifname_valid(bridge) || !dl_ifname_valid(member))
		return dl_fail(e, 0, "invalid bridge \"%.20s\" or member \"%.20s\": give both "
			       "interface names, like bridge100 and en5", bridge ? bridge : "",
			       member ? member : "");
	return 0;
}

static char ***oom(char ***cmds, struct dl_err *e)
{
	dl_cmds_free(cmds);
	dl_fail(e, ENOMEM, "out of memory");
	return NULL;
}

static int is_v6(const char *subnet)
{
	return strchr(subnet, ':') != NULL;
}

char ***dl_routes_macos_add(const char *const *subnets, size_t n, const char *vm_addr,
			    const char *bridge, const char *member, struct dl_err *e)
{
	char ***cmds = calloc(1, sizeof(*cmds));
	int fam = 0;

	if (!vm_addr) {
		free(cmds);
		dl_fail(e, 0, "internal: no VM address to route through");
		return NULL;
	}
	if (check_common(subnets, n, vm_addr, &fam, e) < 0 || check_bridge(bridge, member, e) < 0) {
		free(cmds);
		return NULL;
	}
	for (size_t i = 0; cmds && i < n; i++) {
		char **c = is_v6(subnets[i])
			? dl_cmd_new(ROUTE, "-n", "add", "-inet6", "-net", subnets[i], vm_addr, (char *)NULL)
			: dl_cmd_new(ROUTE, "-n", "add", "-net", subnets[i], vm_addr, (char *)NULL);
		cmds = dl_cmds_push(cmds, c);
	}
	if (cmds && bridge)
		cmds = dl_cmds_push(cmds, dl_cmd_new(IFCONFIG, bridge, "-hostfilter", member, (char *)NULL));
	return cmds ? cmds : oom(NULL, e);
}

char ***dl_routes_macos_del(const char *const *subnets, size_t n, const char *bridge,
			    const char *member, struct dl_err *e)
{
	char ***cmds = calloc(1, sizeof(*cmds));
	int fam = 0;

	if (check_common(subnets, n, NULL, &fam, e) < 0 || check_bridge(bridge, member, e) < 0) {
		free(cmds);
		return NULL;
	}
	for (size_t i = 0; cmds && i < n; i++) {
		char **c = is_v6(subnets[i])
			? dl_cmd_new(ROUTE, "-n", "delete", "-inet6", "-net", subnets[i], (char *)NULL)
			: dl_cmd_new(ROUTE, "-n", "delete", "-net", subnets[i], (char *)NULL);
		cmds = dl_cmds_push(cmds, c);
	}
	if (cmds && bridge)
		cmds = dl_cmds_push(cmds, dl_cmd_new(IFCONFIG, bridge, "hostfilter", member, (char *)NULL));
	return cmds ? cmds : oom(NULL, e);
}

char ***dl_routes_linux_add(const char *const *subnets, size_t n, const char *vm_addr,
			    const char *dev, struct dl_err *e)
{
	char ***cmds = calloc(1, sizeof(*cmds));
	int fam = 0;

	if (!vm_addr || check_common(subnets, n, vm_addr, &fam, e) < 0) {
		if (!vm_addr)
			dl_fail(e, 0, "internal: no VM address to route through");
		free(cmds);
		return NULL;
	}
	if (dev && !dl_ifname_valid(dev)) {
		free(cmds);
		dl_fail(e, 0, "invalid network interface name \"%.60s\"", dev);
		return NULL;
	}
	for (size_t i = 0; cmds && i < n; i++) {
		char **c = dev ? dl_cmd_new("ip", "route", "replace", subnets[i], "via", vm_addr, "dev", dev,
					    (char *)NULL)
			       : dl_cmd_new("ip", "route", "replace", subnets[i], "via", vm_addr, (char *)NULL);
		cmds = dl_cmds_push(cmds, c);
	}
	return cmds ? cmds : oom(NULL, e);
}

char ***dl_routes_linux_del(const char *const *subnets, size_t n, const char *vm_addr,
			    struct dl_err *e)
{
	char ***cmds = calloc(1, sizeof(*cmds));
	int fam = 0;

	if (!vm_addr || check_common(subnets, n, vm_addr, &fam, e) < 0) {
		if (!vm_addr)
			dl_fail(e, 0, "internal: no VM address to route through");
		free(cmds);
		return NULL;
	}
	for (size_t i = 0; cmds && i < n; i++)
		cmds = dl_cmds_push(cmds, dl_cmd_new("ip", "route", "del", subnets[i], "via", vm_addr,
						     (char *)NULL));
	return cmds ? cmds : oom(NULL, e);
}
