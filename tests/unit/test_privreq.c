/* Bridged mode's privileged helper: request parser and the route/bridge
 * policy (src/host/privreq.c, hostnet.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "host/privreq.h"

/* A laptop: LAN 192.168.1.0/24 on wlan0 (gateway .1), docker's own bridge
 * absent, a VPN 10.8.0.0/16, the dlite bridge with one of our routes. */
static const char routes4[] =
	"default via 192.168.1.1 dev wlan0 proto dhcp src 192.168.1.23 metric 600 \n"
	"10.8.0.0/16 dev tun0 proto kernel scope link src 10.8.0.5 \n"
	"172.17.0.0/16 via 192.168.127.2 dev dlite0 \n"
	"192.168.1.0/24 dev wlan0 proto kernel scope link src 192.168.1.23 metric 600 \n"
	"192.168.127.0/24 dev dlite0 proto kernel scope link src 192.168.127.1 \n"
	"unreachable 10.200.0.0/16 \n"
	"172.31.9.9 dev wlan0 scope link \n";
static const char routes6[] = "fd12::/64 dev wlan0 proto ra metric 600 pref medium\n"
			      "fe80::/64 dev wlan0 proto kernel metric 1024 pref medium\n"
			      "default via fe80::1 dev wlan0 proto ra metric 600 pref medium\n";
static const char addrs[] =
	"1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n"
	"1: lo    inet6 ::1/128 scope host noprefixroute \\       valid_lft forever\n"
	"3: wlan0    inet 192.168.1.23/24 brd 192.168.1.255 scope global dynamic wlan0\\  x\n"
	"5: tun0    inet 10.8.0.5/16 scope global tun0\\       valid_lft forever\n"
	"6: dlite0    inet 192.168.127.1/24 brd 192.168.127.255 scope global dlite0\\  x\n"
	"7: veth1@if6    inet 172.20.5.5/32 scope global veth1\\  x\n";

static struct dl_host_net host;
static struct dl_cidr bridge_net;
static unsigned char vm[16];

static int setup(void **state)
{
	struct dl_err e = { 0 };
	memset(&host, 0, sizeof(host));
	assert_int_equal(dl_host_routes_parse(routes4, AF_INET, &host, &e), 0);
	assert_int_equal(dl_host_routes_parse(routes6, AF_INET6, &host, &e), 0);
	assert_int_equal(dl_host_addrs_parse(addrs, &host, &e), 0);
	assert_int_equal(host.nroutes, 10);
	assert_int_equal(host.naddrs, 6);
	assert_string_equal(host.addrs[5].dev, "veth1");
	assert_int_equal(dl_cidr_parse("192.168.127.0/24", &bridge_net, &e), 0);
	inet_pton(AF_INET, "192.168.127.2", vm);
	return 0;
}

static int teardown(void **state)
{
	dl_host_net_free(&host);
	return 0;
}

static int route(const char *subnet, const char *via, char *msg, size_t n)
{
	struct dl_err e = { 0 };
	struct dl_cidr c;
	unsigned char v[16] = { 0 };

	if (dl_cidr_parse(subnet, &c, &e) < 0)
		return -2;
	inet_pton(c.family, via, v);
	int rc = dl_priv_route_check(&c, v, "dlite0", &bridge_net, &host, &e);
	if (msg)
		snprintf(msg, n, "%s", e.msg);
	return rc;
}

static void refused(const char *subnet, const char *via, const char *why)
{
	char msg[256];
	if (route(subnet, via, msg, sizeof(msg)) != -1)
		fail_msg("%s via %s was accepted", subnet, via);
	if (!strstr(msg, why))
		fail_msg("%s: '%s' lacks '%s'", subnet, msg, why);
	assert_null(strchr(msg, '\n'));
}

static void routes_refused(void **state)
{
	refused("0.0.0.0/1", "192.168.127.2", "not a private");
	refused("128.0.0.0/1", "192.168.127.2", "not a private");
	refused("0.0.0.0/0", "192.168.127.2", "not a private");
	refused("8.8.8.0/24", "192.168.127.2", "not a private");
	refused("100.64.0.0/10", "192.168.127.2", "not a private");
	refused("10.0.0.0/7", "192.168.127.2", "not a private");
	refused("fc00::/7", "192.168.127.2", "not a private");
	refused("2001:db8::/32", "192.168.127.2", "not a private");
	/* the user's LAN: the same, inside, around it */
	refused("192.168.1.0/24", "192.168.127.2", "default gateway");
	refused("192.168.1.128/25", "192.168.127.2", "overlaps the host's route to 192.168.1.0/24");
	refused("192.168.1.200/30", "192.168.127.2", "overlaps the host's route to 192.168.1.0/24");
	refused("192.168.0.0/16", "192.168.127.2", "overlaps");
	refused("10.8.3.0/24", "192.168.127.2", "tun0");
	refused("172.31.9.0/24", "192.168.127.2", "172.31.9.9/32");
	refused("172.20.0.0/16", "192.168.127.2", "local address 172.20.5.5");
	/* the bridge's own network, a gateway off the bridge */
	refused("192.168.127.0/25", "192.168.127.2", "bridge's network");
	refused("172.18.0.0/16", "192.168.1.7", "not on the bridge");
	refused("172.18.0.0/16", "10.9.9.9", "not on the bridge");
	/* inside one of our routes is still an overlap */
	refused("172.17.5.0/24", "192.168.127.2", "overlaps");
	/* IPv6 through an IPv4 bridge */
	refused("fd00:d0c::/64", "fd00::2", "not on the bridge");
	assert_int_equal(route("172.17.0.1/16", "192.168.127.2", NULL, 0), -2);
}

static void routes_accepted(void **state)
{
	assert_int_equal(route("172.18.0.0/16", "192.168.127.2", NULL, 0), 0);
	assert_int_equal(route("172.17.0.0/16", "192.168.127.2", NULL, 0), 0); /* ours: replace */
	assert_int_equal(route("192.168.240.0/20", "192.168.127.2", NULL, 0), 0);
	assert_int_equal(route("10.99.0.0/24", "192.168.127.2", NULL, 0), 0);
	assert_int_equal(route("172.30.7.0/24", "192.168.127.2", NULL, 0), 0);
}

static void default_gateway(void **state)
{
	struct dl_host_net h = { 0 };
	struct dl_cidr c;
	unsigned char v[16];
	struct dl_err e = { 0 };

	/* a default route via 10.1.2.3 (no covering LAN route listed) */
	assert_int_equal(dl_host_routes_parse("default via 10.1.2.3 dev eth0\n", AF_INET, &h, &e), 0);
	dl_cidr_parse("10.1.0.0/16", &c, NULL);
	inet_pton(AF_INET, "192.168.127.2", v);
	assert_int_equal(dl_priv_route_check(&c, v, "dlite0", &bridge_net, &h, &e), -1);
	assert_non_null(strstr(e.msg, "default gateway"));
	dl_cidr_parse("10.2.0.0/16", &c, NULL);
	assert_int_equal(dl_priv_route_check(&c, v, "dlite0", &bridge_net, &h, &e), 0);
	dl_host_net_free(&h);
	/* an unreadable listing fails closed */
	assert_int_equal(dl_host_routes_parse("default via x\nfrobnicate 1.2.3\n", AF_INET, &h, &e), -1);
	dl_host_net_free(&h);
	assert_int_equal(dl_host_addrs_parse("2: eth0 inet 1.2.3.999/24 x\n", &h, &e), -1);
	dl_host_net_free(&h);
}

static int bridge(const char *cidr, const char *name)
{
	char line[128];
	struct dl_priv_req r;
	struct dl_err e = { 0 };

	snprintf(line, sizeof(line), "up %s dlite-tap0 %s\n", name, cidr);
	if (dl_priv_parse(line, strlen(line), &r, &e) < 0)
		return -2;
	return dl_priv_bridge_check(&r.net, r.addr, r.bridge, &host, &e);
}

static void bridges(void **state)
{
	assert_int_equal(bridge("192.168.127.1/24", "dlite0"), 0); /* again: ours */
	assert_int_equal(bridge("192.168.130.1/24", "dlite1"), 0);
	assert_int_equal(bridge("192.168.127.1/24", "dlite1"), -1); /* dlite0's */
	assert_int_equal(bridge("192.168.1.50/24", "dlite0"), -1);  /* the LAN */
	assert_int_equal(bridge("192.168.130.0/24", "dlite0"), -1); /* network address */
	assert_int_equal(bridge("192.168.130.255/24", "dlite0"), -1);
	assert_int_equal(bridge("8.8.8.1/24", "dlite0"), -1);
	assert_int_equal(bridge("10.0.0.1/7", "dlite0"), -1);
	assert_int_equal(bridge("192.168.130.1/31", "dlite0"), -1);
	assert_int_equal(bridge("fd00::1/64", "dlite0"), -1);
}

static void names(void **state)
{
	assert_true(dl_priv_ifname_ok("dlite0", false));
	assert_true(dl_priv_ifname_ok("dlite123", false));
	assert_true(dl_priv_ifname_ok("dlite-tap0", true));
	assert_false(dl_priv_ifname_ok("dlite-tap0", false));
	assert_false(dl_priv_ifname_ok("dlite0", true));
	assert_false(dl_priv_ifname_ok("dlite1234", false));		/* too long for the pattern */
	assert_false(dl_priv_ifname_ok("dlite-tap0123456789", true)); /* too long */
	assert_false(dl_priv_ifname_ok("dlite", false));
	assert_false(dl_priv_ifname_ok("../dlite0", false));
	assert_false(dl_priv_ifname_ok("dlite/../0", false));
	assert_false(dl_priv_ifname_ok("dlite 0", false));
	assert_false(dl_priv_ifname_ok("eth0", false));
	assert_false(dl_priv_ifname_ok("dlite0x", false));
	assert_false(dl_priv_ifname_ok("", false));
	assert_false(dl_priv_ifname_ok(NULL, true));
}

static void parse_bad(const char *line, const char *why)
{
	struct dl_priv_req r;
	struct dl_err e = { 0 };
	if (dl_priv_parse(line, strlen(line), &r, &e) == 0)
		fail_msg("'%s' was accepted", line);
	if (!strstr(e.msg, why))
		fail_msg("'%s': '%s' lacks '%s'", line, e.msg, why);
}

static void roundtrip(const char *line)
{
	struct dl_priv_req r, r2;
	struct dl_err e = { 0 };
	char out[DL_PRIV_MAX_LINE + 1];

	if (dl_priv_parse(line, strlen(line), &r, &e) < 0)
		fail_msg("'%s': %s", line, e.msg);
	assert_int_equal(dl_priv_format(&r, out, sizeof(out)), (int)strlen(line));
	assert_string_equal(out, line);
	assert_int_equal(dl_priv_parse(out, strlen(out), &r2, &e), 0);
	assert_memory_equal(&r, &r2, sizeof(r));
}

static void protocol(void **state)
{
	roundtrip("up dlite0 dlite-tap0 192.168.127.1/24\n");
	roundtrip("down dlite0\n");
	roundtrip("route-add dlite0 172.17.0.0/16 192.168.127.2\n");
	roundtrip("route-del dlite0 172.17.0.0/16 192.168.127.2\n");
	roundtrip("route-add dlite0 fd00:d0c::/64 fd00::2\n");
	roundtrip("dns dlite0 192.168.127.1 5354 docker\n");
	roundtrip("dns dlite0 192.168.127.1 53 dev.example\n");
	roundtrip("dns-off dlite0 docker\n");

	parse_bad("down dlite0", "newline");
	parse_bad("", "newline");
	parse_bad("down dlite0\n\n", "printable");
	parse_bad("down  dlite0\n", "one space");
	parse_bad(" down dlite0\n", "one space");
	parse_bad("down dlite0 \n", "one space");
	parse_bad("down\tdlite0\n", "printable");
	parse_bad("reboot now\n", "unknown request");
	parse_bad("down dlite0 extra\n", "takes 1 words");
	parse_bad("down ../../etc\n", "bridge name");
	parse_bad("down eth0\n", "bridge name");
	parse_bad("down dlite0;reboot\n", "bridge name");
	parse_bad("up dlite0 eth0 192.168.127.1/24\n", "tap name");
	parse_bad("up dlite0 dlite-tap0 192.168.127.1\n", "bridge address");
	parse_bad("up dlite0 dlite-tap0 192.168.127.1/33\n", "bridge address");
	parse_bad("up dlite0 dlite-tap0 192.168.127.1/024\n", "bridge address");
	parse_bad("route-add dlite0 172.17.0.1/16 192.168.127.2\n", "subnet");
	parse_bad("route-add dlite0 172.17.0.0/16 fd00::2\n", "gateway");
	parse_bad("route-add dlite0 172.17.0.0/16 -dev\n", "gateway");
	parse_bad("dns dlite0 192.168.127.1 0 docker\n", "port");
	parse_bad("dns dlite0 192.168.127.1 65536 docker\n", "port");
	parse_bad("dns dlite0 192.168.127.1 053 docker\n", "port");
	parse_bad("dns dlite0 192.168.127.1 53 ../etc/passwd\n", "domain");
	parse_bad("dns dlite0 192.168.127.1 53 Docker\n", "domain");
	parse_bad("dns dlite0 192.168.127.1 53 a..b\n", "domain");
	parse_bad("dns dlite0 192.168.127.1 53 -x\n", "domain");
	char big[400];
	memset(big, 'a', sizeof(big));
	memcpy(big, "down ", 5);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	parse_bad(big, "at most");
	/* NUL inside */
	struct dl_priv_req r;
	assert_int_equal(dl_priv_parse("down dlite0\0\n", 13, &r, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(routes_refused), cmocka_unit_test(routes_accepted),
		cmocka_unit_test(default_gateway), cmocka_unit_test(bridges),
		cmocka_unit_test(names),	   cmocka_unit_test(protocol),
	};
	return cmocka_run_group_tests_name("privreq", tests, setup, teardown);
}
