/* docker's container listing -> port forwards and DNS names (pure parts). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <netinet/in.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/names.h"
#include "daemon/ports.h"
#include "daemon/watch.h"

static const char listing[] =
	"[{\"Names\":[\"/web\"],\"Ports\":["
	"{\"IP\":\"0.0.0.0\",\"PrivatePort\":80,\"PublicPort\":8080,\"Type\":\"tcp\"},"
	"{\"IP\":\"::\",\"PrivatePort\":80,\"PublicPort\":8080,\"Type\":\"tcp\"},"
	"{\"PrivatePort\":443,\"Type\":\"tcp\"}],"
	"\"Labels\":{\"com.docker.compose.service\":\"front\",\"com.docker.compose.project\":\"shop\"},"
	"\"NetworkSettings\":{\"Networks\":{\"bridge\":{\"IPAddress\":\"172.17.0.2\",\"GlobalIPv6Address\":\"\"}}}},"
	"{\"Names\":[\"/dns\"],\"Ports\":["
	"{\"IP\":\"127.0.0.1\",\"PrivatePort\":53,\"PublicPort\":5353,\"Type\":\"udp\"},"
	"{\"IP\":\"0.0.0.0\",\"PrivatePort\":9,\"PublicPort\":9,\"Type\":\"sctp\"}],"
	"\"Labels\":{},"
	"\"NetworkSettings\":{\"Networks\":{\"n1\":{\"IPAddress\":\"\",\"GlobalIPv6Address\":\"fd00::5\"}}}},"
	"{\"Names\":[\"/none\"],\"Ports\":[],\"NetworkSettings\":{\"Networks\":{}}},"
	/* --network container:web: published ports, no address of its own */
	"{\"Names\":[\"/side\"],\"Ports\":["
	"{\"IP\":\"0.0.0.0\",\"PrivatePort\":81,\"PublicPort\":8081,\"Type\":\"tcp\"}],"
	"\"NetworkSettings\":{\"Networks\":{}}}]";

static void portmaps(void **state)
{
	json_t *j = json_loads(listing, 0, NULL);
	struct dl_portmap m[8];

	assert_non_null(j);
	size_t n = dl_watch_portmaps(j, m, 8);
	assert_int_equal(n, 3); /* 0.0.0.0 and :: merged; unpublished and sctp skipped */
	assert_int_equal(m[0].proto, IPPROTO_TCP);
	assert_int_equal(m[0].host_port, 8080);
	assert_int_equal(m[0].guest_port, 8080);
	assert_string_equal(m[0].host_ip, "");
	assert_string_equal(m[0].owner, "web");
	/* the agent may go straight to the container: its address, its port */
	assert_string_equal(m[0].ctr_addr, "172.17.0.2");
	assert_int_equal(m[0].ctr_port, 80);
	assert_int_equal(m[1].proto, IPPROTO_UDP);
	assert_int_equal(m[1].host_port, 5353);
	assert_string_equal(m[1].host_ip, "127.0.0.1");
	assert_string_equal(m[1].ctr_addr, "fd00::5"); /* IPv6 only */
	assert_int_equal(m[1].ctr_port, 53);
	/* no address of its own: only the published port in the guest */
	assert_string_equal(m[2].owner, "side");
	assert_int_equal(m[2].guest_port, 8081);
	assert_string_equal(m[2].ctr_addr, "");
	assert_int_equal(m[2].ctr_port, 0);
	assert_int_equal(dl_watch_portmaps(j, m, 1), 1);
	json_decref(j);
}

static void names(void **state)
{
	json_t *j = json_loads(listing, 0, NULL);
	struct dl_config c;

	dl_config_defaults(&c, "/h", "/h/.d");
	assert_string_equal(dl_names_domain(&c), "docker");
	snprintf(c.hostname, sizeof(c.hostname), "box.example.com"); /* not "com" */
	assert_string_equal(dl_names_domain(&c), "docker");
	snprintf(c.hostname, sizeof(c.hostname), "local.docker");
	struct dl_dns_table *t = dl_names_table(&c, j);
	const struct dl_dns_record *r = dl_dns_table_find(t, "web.docker");
	assert_non_null(r);
	assert_true(r->has_v4);
	assert_memory_equal(r->v4, ((uint8_t[]){ 172, 17, 0, 2 }), 4);
	assert_non_null(dl_dns_table_find(t, "front.shop.docker"));
	r = dl_dns_table_find(t, "dns.docker");
	assert_non_null(r);
	assert_false(r->has_v4);
	assert_true(r->has_v6);
	assert_null(dl_dns_table_find(t, "none.docker"));
	r = dl_dns_table_find(t, "LOCAL.docker");
	assert_non_null(r);
	assert_memory_equal(r->v4, ((uint8_t[]){ 127, 0, 0, 1 }), 4);
	dl_dns_table_free(t);
	t = dl_names_table(&c, NULL); /* VM down: the hostname only */
	assert_int_equal(t->n, 1);
	dl_dns_table_free(t);
	json_decref(j);
}

/* GET /networks -> subnets for the routes (bridged mode) */
static void subnets(void **state)
{
	static const char nets[] =
		"[{\"Name\":\"bridge\",\"IPAM\":{\"Config\":[{\"Subnet\":\"172.17.0.0/16\",\"Gateway\":\"172.17.0.1\"}]}},"
		"{\"Name\":\"host\",\"IPAM\":{\"Config\":[]}},"
		"{\"Name\":\"none\",\"IPAM\":{\"Config\":null}},"
		"{\"Name\":\"app\",\"IPAM\":{\"Config\":[{\"Subnet\":\"172.18.0.0/16\"},{\"Subnet\":\"fd00:d0c::/64\"}]}},"
		"{\"Name\":\"dup\",\"IPAM\":{\"Config\":[{\"Subnet\":\"172.18.0.0/16\"},{\"Gateway\":\"10.0.0.1\"}]}}]";
	json_t *j = json_loads(nets, 0, NULL);
	char out[8][64];

	assert_non_null(j);
	assert_int_equal(dl_watch_subnets(j, out, 8), 3);
	assert_string_equal(out[0], "172.17.0.0/16");
	assert_string_equal(out[1], "172.18.0.0/16");
	assert_string_equal(out[2], "fd00:d0c::/64");
	assert_int_equal(dl_watch_subnets(j, out, 1), 1);
	assert_int_equal(dl_watch_subnets(NULL, out, 8), 0);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(portmaps), cmocka_unit_test(names),
					    cmocka_unit_test(subnets) };
	return cmocka_run_group_tests_name("listing", tests, NULL, NULL);
}
