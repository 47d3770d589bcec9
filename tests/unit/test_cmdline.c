/* core/cmdline.c: dlite.* kernel parameters, encoded by the host and
 * decoded by the agent. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <stdio.h>

#include "cmdline.h"

static void get(void **state)
{
	char v[64];
	const char *cl = "console=ttyS0 xdlite.ip=bad dlite.ip=10.0.2.15/24 "
			 "dlite.share=/home/a%20b%2Cc dlite.ip=second dlite.x=%00%4 dlite.e=\n";

	assert_string_equal(dl_cmdline_get(cl, "ip", v, sizeof(v)), "10.0.2.15/24");
	assert_string_equal(dl_cmdline_get(cl, "share", v, sizeof(v)), "/home/a b,c");
	assert_string_equal(dl_cmdline_get(cl, "x", v, sizeof(v)), "%00%4");
	assert_string_equal(dl_cmdline_get(cl, "e", v, sizeof(v)), "");
	assert_null(dl_cmdline_get(cl, "gw", v, sizeof(v)));
	assert_null(dl_cmdline_get(cl, "ip", v, 5)); /* does not fit */
	assert_null(dl_cmdline_get(NULL, "ip", v, sizeof(v)));
}

static void roundtrip(void **state)
{
	const char *vals[] = { "/home/me", "/Users/A B/ü", "a%41", "100%", "x y\tz\n", "~:@+-_." };
	char enc[128], line[256], dec[128];

	for (size_t i = 0; i < sizeof(vals) / sizeof(*vals); i++) {
		assert_true(dl_cmdline_encode(vals[i], enc, sizeof(enc)) >= 0);
		assert_null(strpbrk(enc, " \n\t"));
		snprintf(line, sizeof(line), "quiet dlite.share=%s dlite.uid=1", enc);
		assert_string_equal(dl_cmdline_get(line, "share", dec, sizeof(dec)), vals[i]);
	}
	assert_int_equal(dl_cmdline_encode("a b", enc, 5), -1); /* "a%20b" needs 6 */
	assert_int_equal(dl_cmdline_encode("a b", enc, 6), 5);
	assert_string_equal(enc, "a%20b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(get),
		cmocka_unit_test(roundtrip),
	};
	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
