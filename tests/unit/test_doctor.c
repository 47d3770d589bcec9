/* dlite doctor's pure part: evaluators, rendering (UTF-8, ASCII), JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli/doctor.h"
#include "host/hosts.h"

static char *render(const struct dl_checks *c, bool utf8)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	dl_checks_render(f, c, utf8, false);
	fclose(f);
	return buf;
}

static void test_hosts(void **state)
{
	struct dl_checks c = { 0 };
	const char *none = "127.0.0.1 localhost\n";
	dl_doctor_hosts(&c, "/etc/hosts", none, strlen(none), "127.0.0.1", "local.docker");
	assert_int_equal(c.v[0].st, DL_CK_FAIL);
	assert_non_null(strstr(c.v[0].detail, "no dlite line for local.docker"));
	assert_non_null(strstr(c.v[0].fix, "local.docker"));
	assert_non_null(strstr(c.v[0].fix, "| sudo tee -a /etc/hosts"));

	/* what install writes is what doctor accepts */
	size_t n;

	char *good = dl_hosts_set(none, strlen(none), "127.0.0.1", "local.docker", &n);
	dl_doctor_hosts(&c, "/etc/hosts", good, n, "127.0.0.1", "local.docker");
	assert_int_equal(c.v[1].st, DL_CK_OK);
	dl_doctor_hosts(&c, "/etc/hosts", good, n, "192.168.127.2", "local.docker");
	assert_int_equal(c.v[2].st, DL_CK_FAIL);
	assert_non_null(strstr(c.v[2].detail, "not \"192.168.127.2 local.docker\""));
	free(good);
	dl_doctor_hosts(&c, "/etc/hosts", NULL, 0, "127.0.0.1", "local.docker");
	assert_int_equal(c.v[3].st, DL_CK_FAIL);
}

static void test_link(void **state)
{
	struct dl_checks c = { 0 };
	dl_doctor_link(&c, "/var/run/docker.sock", false, NULL, "/h/docker.sock");
	dl_doctor_link(&c, "/var/run/docker.sock", true, "/h/docker.sock", "/h/docker.sock");
	dl_doctor_link(&c, "/var/run/docker.sock", true, "/x.sock", "/h/docker.sock");
	dl_doctor_link(&c, "/var/run/docker.sock", true, NULL, "/h/docker.sock");
	assert_int_equal(c.v[0].st, DL_CK_OK);
	assert_int_equal(c.v[1].st, DL_CK_OK);
	assert_int_equal(c.v[2].st, DL_CK_FAIL);
	assert_string_equal(c.v[2].detail, "/var/run/docker.sock points to /x.sock, not /h/docker.sock");
	assert_string_equal(c.v[2].fix, "sudo ln -sfn /h/docker.sock /var/run/docker.sock");
	assert_int_equal(c.v[3].st, DL_CK_FAIL);
	assert_non_null(strstr(c.v[3].detail, "not a link"));
}

static void test_space_clock(void **state)
{
	struct dl_checks c = { 0 };
	dl_doctor_space(&c, "vm disk", "/var/lib/docker", 3ULL << 30, 20ULL << 30, 1ULL << 30, "prune");
	dl_doctor_space(&c, "vm disk", "/var/lib/docker", 100ULL << 20, 20ULL << 30, 1ULL << 30, "prune");
	dl_doctor_clock(&c, 0.4);
	dl_doctor_clock(&c, -7.0);
	assert_int_equal(c.v[0].st, DL_CK_OK);
	assert_int_equal(c.v[1].st, DL_CK_FAIL);
	assert_string_equal(c.v[1].detail,
			    "only 100 MiB free of 20.0 GiB in /var/lib/docker (less than 1.0 GiB)");
	assert_int_equal(c.v[2].st, DL_CK_OK);
	assert_int_equal(c.v[3].st, DL_CK_FAIL);
	assert_non_null(strstr(c.v[3].detail, "-7.0 s"));
	assert_int_equal(dl_checks_failed(&c), 2);
}

static void test_render_json(void **state)
{
	struct dl_checks c = { 0 };
	dl_check_add(&c, "daemon", DL_CK_FAIL, "dlite start", "not running");
	dl_check_add(&c, "engine", DL_CK_OK, "ignored", "qemu");
	dl_check_add(&c, "accel", DL_CK_WARN, "sudo usermod -aG kvm $USER", "tcg (slow)");
	dl_check_add(&c, "exports", DL_CK_SKIP, NULL, "macOS only");
	char *u = render(&c, true), *a = render(&c, false);
	assert_string_equal(u, "\u2717 daemon   not running\n"
			       "          fix: dlite start\n"
			       "\u2713 engine   qemu\n"
			       "! accel    tcg (slow)\n"
			       "          fix: sudo usermod -aG kvm $USER\n"
			       "\u2013 exports  macOS only\n"
			       "1 problem found; run the fix lines above, then `dlite doctor` again\n");
	assert_non_null(strstr(a, "XX daemon   not running\n"));
	assert_non_null(strstr(a, "ok engine   qemu\n"));
	assert_non_null(strstr(a, "-- exports  macOS only\n"));
	free(u);
	free(a);

	char *js = dl_checks_json(&c);
	json_t *j = json_loads(js, 0, NULL);
	assert_non_null(j);
	assert_true(json_is_false(json_object_get(j, "ok")));
	assert_int_equal(json_integer_value(json_object_get(j, "failed")), 1);
	json_t *k = json_array_get(json_object_get(j, "checks"), 1);
	assert_string_equal(json_string_value(json_object_get(k, "status")), "ok");
	assert_string_equal(json_string_value(json_object_get(k, "fix")), ""); /* no fix when ok */
	json_decref(j);
	free(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_space_clock),
		cmocka_unit_test(test_render_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
