#include "resolver.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "hosts.h"

static int check_ns(const char *addr, unsigned port, struct dl_err *e)
{
	if (!dl_addr_valid(addr))
		return dl_fail(e, 0, "invalid DNS server address \"%.100s\": give a numeric IPv4 or "
			       "IPv6 address", addr ? addr : "");
	if (port == 0 || port > 65535)
		return dl_fail(e, 0, "invalid DNS port %u: give 1-65535", port);
	return 0;
}

int dl_resolver_path(char *buf, size_t n, const char *domain, struct dl_err *e)
{
	int w;

	if (dl_domain_check(domain, e) < 0)
		return -1;
	w = snprintf(buf, n, "/etc/resolver/%s", domain);
	if (w < 0 || (size_t)w >= n)
		return dl_fail(e, ENAMETOOLONG, "resolver path for %s is too long", domain);
	return 0;
}

char *dl_resolver_file(const char *domain, const char *addr, unsigned port, struct dl_err *e)
{
	char *s;

	if (dl_domain_check(domain, e) < 0 || check_ns(addr, port, e) < 0)
		return NULL;
	if (asprintf(&s, "# added by dlite: names under .%s are answered by dlite's DNS\n"
		     "nameserver %s\nport %u\n", domain, addr, port) < 0) {
		dl_fail(e, ENOMEM, "out of memory");
		return NULL;
	}
	return s;
}

static int check_link(const char *link, struct dl_err *e)
{
	size_t n = link ? strlen(link) : 0;

	if (n == 0 || n > 15 || link[0] == '-' || strpbrk(link, "/ \t\n:%"))
		return dl_fail(e, 0, "invalid network interface name \"%.60s\"", link ? link : "");
	return 0;
}

char ***dl_resolved_cmds(const char *link, const char *addr, unsigned port, const char *domain,
			 struct dl_err *e)
{
	char server[80], dom[260];
	char ***cmds = NULL;

	if (check_link(link, e) < 0 || check_ns(addr, port, e) < 0 || dl_domain_check(domain, e) < 0)
		return NULL;
	snprintf(server, sizeof(server), strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
	snprintf(dom, sizeof(dom), "~%s", domain);
	cmds = dl_cmds_push(cmds, dl_cmd_new("resolvectl", "dns", link, server, (char *)NULL));
	if (cmds)
		cmds = dl_cmds_push(cmds, dl_cmd_new("resolvectl", "domain", link, dom, (char *)NULL));
	if (!cmds)
		dl_fail(e, ENOMEM, "out of memory");
	return cmds;
}

char ***dl_resolved_revert_cmds(const char *link, struct dl_err *e)
{
	char ***cmds;

	if (check_link(link, e) < 0)
		return NULL;
	cmds = dl_cmds_push(NULL, dl_cmd_new("resolvectl", "revert", link, (char *)NULL));
	if (!cmds)
		dl_fail(e, ENOMEM, "out of memory");
	return cmds;
}

char *dl_dnsmasq_snippet(const char *domain, const char *addr, unsigned port, struct dl_err *e)
{
	char *s;

	if (dl_domain_check(domain, e) < 0 || check_ns(addr, port, e) < 0)
		return NULL;
	if (asprintf(&s, "# added by dlite: names under .%s are answered by dlite's DNS\n"
		     "server=/%s/%s#%u\n", domain, domain, addr, port) < 0) {
		dl_fail(e, ENOMEM, "out of memory");
		return NULL;
	}
	return s;
}
