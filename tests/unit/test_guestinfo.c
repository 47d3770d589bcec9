/* src/core/guestinfo.c: the agent's status line -> disk figures, platforms. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guestinfo.h"

#define LINE                                                                                   \
	"ok uptime=12 dockerd=up dockerd_restarts=0 data=ok docker_version=26.1.5 "            \
	"image_version=x caps=addr disk_fs_size=21003583488 disk_used=1153433600 "             \
	"disk_free=19000000000 platforms=linux/amd64,linux/arm64,linux/arm/v7,linux/riscv64"

static void values(void **state)
{
	char v[64];

	assert_int_equal(dl_status_value(LINE, "disk_used", v, sizeof(v)), 0);
	assert_string_equal(v, "1153433600");
	assert_int_equal(dl_status_value(LINE, "data", v, sizeof(v)), 0);
	assert_string_equal(v, "ok");
	/* a key that is only the tail of another one is not it */
	assert_int_equal(dl_status_value(LINE, "used", v, sizeof(v)), -1);
	assert_int_equal(dl_status_value(LINE, "restarts", v, sizeof(v)), -1);
	assert_int_equal(dl_status_value(LINE, "nothere", v, sizeof(v)), -1);
	/* truncated, never overrun */
	char small[5];
	assert_int_equal(dl_status_value(LINE, "disk_used", small, sizeof(small)), 0);
	assert_string_equal(small, "1153");
	assert_int_equal(dl_status_value(NULL, "x", v, sizeof(v)), -1);
}

static void json(void **state)
{
	json_t *j = dl_guestinfo_json(LINE);

	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "disk_used")), 1153433600);
	assert_int_equal(json_integer_value(json_object_get(j, "disk_fs_size")), 21003583488LL);
	assert_int_equal(json_integer_value(json_object_get(j, "disk_free")), 19000000000LL);
	json_t *p = json_object_get(j, "platforms");
	assert_int_equal(json_array_size(p), 4);
	assert_string_equal(json_string_value(json_array_get(p, 0)), "linux/amd64");
	assert_string_equal(json_string_value(json_array_get(p, 2)), "linux/arm/v7");
	json_decref(j);

	/* an older agent: nothing added; a malformed number: skipped */
	j = dl_guestinfo_json("ok uptime=1 dockerd=up caps=addr disk_used=12x");
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 0);
	json_decref(j);
}

static void human(void **state)
{
	char b[32];

	dl_human_bytes(0, b, sizeof(b));
	assert_string_equal(b, "0 B");
	dl_human_bytes(2048, b, sizeof(b));
	assert_string_equal(b, "2 KiB");
	dl_human_bytes(200ull << 20, b, sizeof(b));
	assert_string_equal(b, "200 MiB");
	dl_human_bytes(3ull << 29, b, sizeof(b));
	assert_string_equal(b, "1.5 GiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values),
		cmocka_unit_test(json),
		cmocka_unit_test(human),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
