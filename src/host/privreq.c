/* The helper's request protocol (privreq.h): parse and format, pure. */
#include "privreq.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_WORDS 6

bool dl_priv_ifname_ok(const char *name, bool tap)
{
	const char *pre = tap ? "dlite-tap" : "dlite";
	size_t pl = strlen(pre), n = name ? strlen(name) : 0;

	if (n <= pl || n > pl + 3 || strncmp(name, pre, pl) != 0)
		return false;
	for (size_t i = pl; i < n; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	return true;
}

static bool domain_ok(const char *d)
{
	size_t n = strlen(d), label = 0;

	if (n == 0 || n >= 128 || d[0] == '.' || d[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = d[i];
		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && label > 0)))
			return false;
		if (++label > 63)
			return false;
	}
	return d[n - 1] != '-';
}

/* "ADDR" into addr (16 bytes) of family fam (0: either); returns the family or 0 */
static int parse_addr(const char *s, unsigned char *addr, int fam)
{
	if (fam != AF_INET6 && inet_pton(AF_INET, s, addr) == 1)
		return AF_INET;
	if (fam != AF_INET && inet_pton(AF_INET6, s, addr) == 1)
		return AF_INET6;
	return 0;
}

/* "ADDR/PREFIX" with host bits allowed: the address and its network */
static int parse_ifaddr(const char *s, unsigned char *addr, struct dl_cidr *net)
{
	char a[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t an = slash ? (size_t)(slash - s) : 0;
	unsigned long p;
	char *end;

	if (!slash || an == 0 || an >= sizeof(a) || slash[1] < '0' || slash[1] > '9' ||
	    (slash[1] == '0' && slash[2]) || strlen(slash + 1) > 3)
		return -1;
	memcpy(a, s, an);
	a[an] = '\0';
	memset(net, 0, sizeof(*net));
	memset(addr, 0, 16);
	if (!(net->family = parse_addr(a, addr, 0)))
		return -1;
	p = strtoul(slash + 1, &end, 10);
	if (*end || p > (net->family == AF_INET ? 32u : 128u))
		return -1;
	net->prefix = (unsigned)p;
	memcpy(net->addr, addr, 16);
	for (unsigned bit = net->prefix; bit < 128; bit++)
		net->addr[bit / 8] &= (unsigned char)~(0x80 >> (bit % 8));
	return 0;
}

static int bad(struct dl_err *e, const char *what, const char *word)
{
	return dl_fail(e, 0, "refused: %s \"%.60s\"", what, word ? word : "");
}

int dl_priv_parse(const char *buf, size_t len, struct dl_priv_req *r, struct dl_err *e)
{
	char line[DL_PRIV_MAX_LINE + 1];
	char *w[MAX_WORDS];
	size_t nw = 0;

	memset(r, 0, sizeof(*r));
	if (len < 2 || len > DL_PRIV_MAX_LINE || buf[len - 1] != '\n')
		return dl_fail(e, 0, "refused: a request is one line of at most %d bytes ending in "
			       "a newline", DL_PRIV_MAX_LINE);
	for (size_t i = 0; i + 1 < len; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return dl_fail(e, 0, "refused: byte 0x%02x at %zu (printable ASCII only)",
				       (unsigned char)buf[i], i);
	memcpy(line, buf, len - 1);
	line[len - 1] = '\0';
	for (char *p = line;;) {
		if (*p == ' ' || !*p || nw == MAX_WORDS)
			return dl_fail(e, 0, "refused: words are separated by one space (at most %d)",
				       MAX_WORDS);
		w[nw++] = p;
		p += strcspn(p, " ");
		if (!*p)
			break;
		*p++ = '\0';
	}
	static const struct {
		const char *name;
		enum dl_priv_verb verb;
		size_t words;
	} verbs[] = {
		{ "up", DL_PRIV_UP, 4 },	       { "down", DL_PRIV_DOWN, 2 },
		{ "route-add", DL_PRIV_ROUTE_ADD, 4 }, { "route-del", DL_PRIV_ROUTE_DEL, 4 },
		{ "dns", DL_PRIV_DNS, 5 },	       { "dns-off", DL_PRIV_DNS_OFF, 3 },
	};
	size_t v;
	for (v = 0; v < sizeof(verbs) / sizeof(*verbs); v++)
		if (!strcmp(w[0], verbs[v].name))
			break;
	if (v == sizeof(verbs) / sizeof(*verbs))
		return bad(e, "unknown request", w[0]);
	if (nw != verbs[v].words)
		return dl_fail(e, 0, "refused: %s takes %zu words", w[0], verbs[v].words - 1);
	r->verb = verbs[v].verb;
	if (!dl_priv_ifname_ok(w[1], false))
		return bad(e, "bridge name (dlite + 1-3 digits)", w[1]);
	snprintf(r->bridge, sizeof(r->bridge), "%s", w[1]);
	switch (r->verb) {
	case DL_PRIV_UP:
		if (!dl_priv_ifname_ok(w[2], true))
			return bad(e, "tap name (dlite-tap + 1-3 digits)", w[2]);
		snprintf(r->tap, sizeof(r->tap), "%s", w[2]);
		if (parse_ifaddr(w[3], r->addr, &r->net) < 0)
			return bad(e, "bridge address (ADDRESS/PREFIX)", w[3]);
		break;
	case DL_PRIV_DOWN:
		break;
	case DL_PRIV_ROUTE_ADD:
	case DL_PRIV_ROUTE_DEL:
		if (dl_cidr_parse(w[2], &r->net, NULL) < 0)
			return bad(e, "subnet (NETWORK/PREFIX)", w[2]);
		if (parse_addr(w[3], r->addr, r->net.family) != r->net.family)
			return bad(e, "gateway (an address of the subnet's family)", w[3]);
		break;
	case DL_PRIV_DNS: {
		char *end;
		unsigned long port = strtoul(w[3], &end, 10);
		if (!parse_addr(w[2], r->addr, AF_INET))
			return bad(e, "DNS server (an IPv4 address)", w[2]);
		if (*end || w[3][0] < '1' || w[3][0] > '9' || strlen(w[3]) > 5 || port > 65535)
			return bad(e, "DNS port (1-65535)", w[3]);
		r->port = (unsigned)port;
		if (!domain_ok(w[4]))
			return bad(e, "DNS domain (lower-case letters, digits, '-', '.')", w[4]);
		snprintf(r->domain, sizeof(r->domain), "%s", w[4]);
		break;
	}
	case DL_PRIV_DNS_OFF:
		if (!domain_ok(w[2]))
			return bad(e, "DNS domain (lower-case letters, digits, '-', '.')", w[2]);
		snprintf(r->domain, sizeof(r->domain), "%s", w[2]);
		break;
	}
	return 0;
}

int dl_priv_format(const struct dl_priv_req *r, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN];
	int len = -1;

	if (!dl_priv_ifname_ok(r->bridge, false))
		return -1;
	switch (r->verb) {
	case DL_PRIV_UP:
		if (!dl_priv_ifname_ok(r->tap, true) || !inet_ntop(r->net.family, r->addr, a, sizeof(a)))
			return -1;
		len = snprintf(buf, n, "up %s %s %s/%u\n", r->bridge, r->tap, a, r->net.prefix);
		break;
	case DL_PRIV_DOWN:
		len = snprintf(buf, n, "down %s\n", r->bridge);
		break;
	case DL_PRIV_ROUTE_ADD:
	case DL_PRIV_ROUTE_DEL:
		if (!inet_ntop(r->net.family, r->net.addr, net, sizeof(net)) ||
		    !inet_ntop(r->net.family, r->addr, a, sizeof(a)))
			return -1;
		len = snprintf(buf, n, "%s %s %s/%u %s\n",
			       r->verb == DL_PRIV_ROUTE_ADD ? "route-add" : "route-del", r->bridge, net,
			       r->net.prefix, a);
		break;
	case DL_PRIV_DNS:
		if (!inet_ntop(AF_INET, r->addr, a, sizeof(a)) || !domain_ok(r->domain) || !r->port ||
		    r->port > 65535)
			return -1;
		len = snprintf(buf, n, "dns %s %s %u %s\n", r->bridge, a, r->port, r->domain);
		break;
	case DL_PRIV_DNS_OFF:
		if (!domain_ok(r->domain))
			return -1;
		len = snprintf(buf, n, "dns-off %s %s\n", r->bridge, r->domain);
		break;
	}
	if (len < 0 || (size_t)len >= n || len > DL_PRIV_MAX_LINE)
		return -1;
	return len;
}
