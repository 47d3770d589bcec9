#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

#define J(s) s, strlen(s)

static void defaults_roundtrip(void **state)
{
	struct dl_config c, d;
	struct dl_err e;

	dl_config_defaults(&c, "/home/u", "/home/u/.dlite");
	assert_int_equal(dl_config_validate(&c, &e), 0);
	assert_string_equal(c.socket, "/home/u/.dlite/docker.sock");
	assert_string_equal(c.share, "/home/u");
	char *text = dl_config_dump(&c);
	assert_non_null(text);
	assert_int_equal(dl_config_parse(J(text), "/x", "/x/.dlite", &d, &e), 0);
	assert_memory_equal(&c, &d, sizeof(c));
	free(text);
}

static void bad_json(void **state)
{
	struct dl_config c;
	struct dl_err e;

	assert_int_equal(dl_config_parse(J("{\"cpus\": 2"), "/h", "/h/.d", &c, &e), -1);
	assert_non_null(strstr(e.msg, "not valid JSON"));
	assert_int_equal(dl_config_parse(J("[]"), "/h", "/h/.d", &c, &e), -1);
	assert_non_null(strstr(e.msg, "object"));
	assert_int_equal(dl_config_parse(J("{\"cpus\": \"2\"}"), "/h", "/h/.d", &c, &e), -1);
	assert_non_null(strstr(e.msg, "integer"));
	assert_int_equal(dl_config_parse(J("{\"colour\": 1}"), "/h", "/h/.d", &c, &e), -1);
	assert_non_null(strstr(e.msg, "unknown key"));
	/* found by tests/fuzz/fuzz_config.c: a key with a newline made a
	 * two-line message */
	assert_int_equal(dl_config_parse(J("{\"a\\nb\": 1}"), "/h", "/h/.d", &c, &e), -1);
	assert_null(strchr(e.msg, '\n'));
	assert_non_null(strstr(e.msg, "\"a?b\""));
	assert_int_equal(dl_config_parse(J("{\"cpus\": 1, \"cpus\": 2}"), "/h", "/h/.d", &c, &e), -1);
	assert_int_equal(dl_config_parse(J("{\"cpus\": 0}"), "/h", "/h/.d", &c, &e), -1);
	assert_non_null(strstr(e.msg, "cpus"));
	assert_int_equal(dl_config_parse(J("{\"cpus\": 99999999999}"), "/h", "/h/.d", &c, &e), -1);
	assert_int_equal(dl_config_parse(J(""), "/h", "/h/.d", &c, &e), -1);
	/* missing keys take defaults */
	assert_int_equal(dl_config_parse(J("{\"cpus\": 4}"), "/h", "/h/.d", &c, &e), 0);
	assert_int_equal(c.cpus, 4);
	assert_int_equal(c.memory_gib, 2);
}

static void set_validates(void **state)
{
	struct dl_config c;
	struct dl_err e;
	char out[64];

	dl_config_defaults(&c, "/h", "/h/.d");
	assert_int_equal(dl_config_set(&c, "hostname", "bad host", &e), -1);
	assert_string_equal(c.hostname, "local.docker");
	assert_int_equal(dl_config_set(&c, "hostname", "nodots", &e), -1);
	assert_int_equal(dl_config_set(&c, "hostname", "-a.docker", &e), -1);
	assert_int_equal(dl_config_set(&c, "hostname", "dev.example.test", &e), 0);
	/* the DNS zone is dns_domain ("docker"), not the hostname's last label */
	assert_string_equal(c.dns_domain, "docker");
	assert_int_equal(dl_config_set(&c, "hostname", "box.example.com", &e), 0);
	assert_int_equal(dl_config_set(&c, "hostname", "dev.local", &e), 0);
	assert_string_equal(c.dns_domain, "docker");
	const char *refused[] = { "com", "COM", "dev", "io", "uk", "local", "box.local", "localhost",
				  "xn--p1ai", "bad domain", "-x", "" };
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		assert_int_equal(dl_config_set(&c, "dns_domain", refused[i], &e), -1);
		assert_non_null(strstr(e.msg, "domain"));
		assert_string_equal(c.dns_domain, "docker");
	}
	assert_int_equal(dl_config_set(&c, "dns_domain", "com", &e), -1);
	assert_non_null(strstr(e.msg, "public top-level domain"));
	assert_int_equal(dl_config_set(&c, "dns_domain", "dev.local", &e), -1);
	assert_non_null(strstr(e.msg, "mDNS"));
	const char *fine[] = { "docker", "test", "internal", "dev.example.com", "containers.lan",
			       "docker" };
	for (size_t i = 0; i < sizeof(fine) / sizeof(*fine); i++) {
		assert_int_equal(dl_config_set(&c, "dns_domain", fine[i], &e), 0);
		assert_string_equal(c.dns_domain, fine[i]);
	}
	assert_int_equal(dl_config_set(&c, "memory_gib", "1000000", &e), -1);
	assert_int_equal(dl_config_set(&c, "memory_gib", "4x", &e), -1);
	assert_int_equal(dl_config_set(&c, "memory_gib", "4", &e), 0);
	assert_int_equal(dl_config_set(&c, "engine", "xhyve", &e), -1);
	assert_int_equal(dl_config_set(&c, "share", "relative/path", &e), -1);
	assert_int_equal(dl_config_set(&c, "network", "bridged", &e), -1); /* needs addresses */
	assert_string_equal(c.virtiofsd, ""); /* look for it */
	assert_int_equal(dl_config_set(&c, "virtiofsd", "bin/virtiofsd", &e), -1);
	assert_non_null(strstr(e.msg, "virtiofsd"));
	assert_string_equal(c.virtiofsd, "");
	assert_int_equal(dl_config_set(&c, "virtiofsd", "none", &e), 0);
	assert_int_equal(dl_config_set(&c, "virtiofsd", "/opt/vfs/virtiofsd", &e), 0);
	assert_string_equal(c.file_events, "off");
	assert_int_equal(dl_config_set(&c, "file_events", "yes", &e), -1);
	assert_non_null(strstr(e.msg, "file_events"));
	assert_string_equal(c.file_events, "off");
	assert_int_equal(dl_config_set(&c, "file_events", "on", &e), 0);
	assert_string_equal(c.file_events, "on");
	char longsock[200];
	memset(longsock, 'x', sizeof(longsock));
	longsock[0] = '/';
	longsock[150] = '\0';
	assert_int_equal(dl_config_set(&c, "socket", longsock, &e), -1);
	assert_non_null(strstr(e.msg, "unix socket"));
	assert_int_equal(dl_config_get(&c, "memory_gib", out, sizeof(out), &e), 0);
	assert_string_equal(out, "4");
	assert_int_equal(dl_config_get(&c, "nope", out, sizeof(out), &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_roundtrip),
		cmocka_unit_test(bad_json),
		cmocka_unit_test(set_validates),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
