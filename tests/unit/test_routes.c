#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "host/cmd.h"
#include "host/routes.h"
#include "golden.h"

static const char *v4[] = { "172.17.0.0/16", "172.18.0.0/16", "192.168.240.0/20", "10.99.0.0/24" };
static const char *v6[] = { "fd00:d0c::/64", "2001:db8:1::/48" };

static void check_cmds(const char *rel, char ***cmds)
{
	char *s;

	assert_non_null(cmds);
	s = dl_cmds_format(cmds);
	golden_check_str(rel, s);
	free(s);
	dl_cmds_free(cmds);
}

static void macos(void **state)
{
	struct dl_err e;

	check_cmds("routes/macos-add.txt",
		   dl_routes_macos_add(v4, 4, "192.168.64.2", "bridge100", "vmenet0", &e));
	check_cmds("routes/macos-del.txt", dl_routes_macos_del(v4, 4, "bridge100", "vmenet0", &e));
	check_cmds("routes/macos-add-v6.txt", dl_routes_macos_add(v6, 2, "fd00::2", NULL, NULL, &e));
	check_cmds("routes/macos-del-v6.txt", dl_routes_macos_del(v6, 2, NULL, NULL, &e));
}

static void linux_(void **state)
{
	struct dl_err e;

	check_cmds("routes/linux-add.txt", dl_routes_linux_add(v4, 4, "192.168.100.2", "dlite0", &e));
	check_cmds("routes/linux-del.txt", dl_routes_linux_del(v4, 4, "192.168.100.2", &e));
	check_cmds("routes/linux-add-v6.txt", dl_routes_linux_add(v6, 2, "fd00::2", NULL, &e));
}

static void empty_list(void **state)
{
	struct dl_err e;
	char ***c = dl_routes_linux_add(NULL, 0, "10.0.0.2", "dlite0", &e);

	assert_non_null(c);
	assert_int_equal(dl_cmds_len(c), 0);
	dl_cmds_free(c);
	c = dl_routes_macos_add(NULL, 0, "10.0.0.2", "bridge100", "en5", &e);
	assert_int_equal(dl_cmds_len(c), 1); /* only the hostfilter */
	dl_cmds_free(c);
}

static void bad(void **state)
{
	const char *mixed[] = { "172.17.0.0/16", "fd00::/64" };
	const char *dash[] = { "-net" };
	struct dl_err e;

	assert_null(dl_routes_linux_add(mixed, 2, "10.0.0.2", NULL, &e));
	assert_non_null(strstr(e.msg, "fd00::/64"));
	assert_null(dl_routes_macos_add(dash, 1, "10.0.0.2", NULL, NULL, &e));
	assert_null(dl_routes_macos_add(v4, 1, "local.docker", NULL, NULL, &e));
	assert_non_null(strstr(e.msg, "local.docker"));
	assert_null(dl_routes_macos_add(v4, 1, NULL, NULL, NULL, &e));
	assert_null(dl_routes_macos_add(v4, 1, "10.0.0.2", "bridge100", NULL, &e)); /* both or neither */
	assert_null(dl_routes_macos_del(v4, 1, "bridge 100", "en5", &e));
	assert_null(dl_routes_linux_add(v4, 1, "10.0.0.2", "-dev", &e));
	assert_null(dl_routes_linux_add(v4, 1, "10.0.0.2", "a-name-too-long0", &e));
	assert_null(dl_routes_linux_del(v4, 1, "10.0.0", &e));
}

static void cidrs(void **state)
{
	const char *good[] = { "172.17.0.0/16", "0.0.0.0/0", "10.1.2.3/32", "fd00::/8", "::/0",
			       "2001:db8::1/128", "192.168.0.0/24" };
	const char *badc[] = { "172.17.0.0", "172.17.0.0/", "/16", "172.17.0.0/33", "fd00::/129",
			       "172.17.0.0/16x", "172.17.0.0/-1", "172.17.0.0/016", "172.17/16",
			       "local.docker/16", "172.17.0.0/16 ", " 172.17.0.0/16", "fd00::%en0/64",
			       "172.17.0.0/ 16", "" };
	struct dl_cidr c;
	struct dl_err e;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		if (!dl_cidr_valid(good[i]))
			fail_msg("%s should be valid", good[i]);
	for (size_t i = 0; i < sizeof(badc) / sizeof(*badc); i++)
		if (dl_cidr_valid(badc[i]))
			fail_msg("%s should be invalid", badc[i]);
	assert_false(dl_cidr_valid(NULL));

	assert_int_equal(dl_cidr_parse("172.17.0.0/16", &c, &e), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 16);
	assert_int_equal(c.addr[0], 172);
	assert_int_equal(dl_cidr_parse("fd00:d0c::/64", &c, &e), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 64);

	/* host bits set: the message names the network */
	assert_int_equal(dl_cidr_parse("172.17.0.1/16", &c, &e), -1);
	assert_non_null(strstr(e.msg, "172.17.0.0/16"));
	assert_int_equal(dl_cidr_parse("fd00::1/64", &c, &e), -1);
	assert_non_null(strstr(e.msg, "fd00::/64"));
	assert_int_equal(dl_cidr_parse("10.1.2.3/31", &c, &e), -1);
	assert_non_null(strstr(e.msg, "10.1.2.2/31"));
}

static void ifnames(void **state)
{
	assert_true(dl_ifname_valid("bridge100"));
	assert_true(dl_ifname_valid("vmenet0"));
	assert_true(dl_ifname_valid("dlite0"));
	assert_true(dl_ifname_valid("br-3f2a9c1d0e4b"));
	assert_false(dl_ifname_valid(""));
	assert_false(dl_ifname_valid(NULL));
	assert_false(dl_ifname_valid("-x"));
	assert_false(dl_ifname_valid("a/b"));
	assert_false(dl_ifname_valid("eth0:1"));
	assert_false(dl_ifname_valid("0123456789abcdef"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(macos),	cmocka_unit_test(linux_), cmocka_unit_test(empty_list),
		cmocka_unit_test(bad),		cmocka_unit_test(cidrs),  cmocka_unit_test(ifnames),
	};
	return cmocka_run_group_tests_name("routes", tests, NULL, NULL);
}
