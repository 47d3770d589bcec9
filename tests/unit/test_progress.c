/* The step list renderer with fake clocks: TTY (spinner, bar, rate, ETA,
 * colours), plain timestamped lines, ASCII fallback, --quiet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/progress.h"

static double fake_now;
static double fclock(void) { return fake_now; }
static time_t fwall(void) { return 3600 * 10 + 60 * 20 + 30; } /* 10:20:30 UTC */

static char *run(bool tty, bool color, bool utf8, bool quiet)
{
	char *buf = NULL;
	size_t len = 0;
	struct dl_prog p;
	FILE *f = open_memstream(&buf, &len);

	setenv("TZ", "UTC", 1);
	fake_now = 100;
	dl_prog_setup(&p, f, tty, color, utf8, quiet, fclock, fwall);
	dl_prog_begin(&p, "OS image from %s", "URL");
	dl_prog_sub(&p, "root.erofs");
	fake_now = 102;
	dl_prog_bytes(&p, 0, 40 << 20);
	fake_now = 106;
	dl_prog_bytes(&p, 10 << 20, 40 << 20); /* 10 MiB in 4 s: 2.5 MiB/s, 12 s left */
	fake_now = 110;
	dl_prog_end(&p, DL_PROG_OK, "v1");
	dl_prog_begin(&p, "Hosts line");
	dl_prog_end(&p, DL_PROG_WARN, "cannot write /etc/hosts");
	dl_prog_begin(&p, "kernel");
	dl_prog_done(&p, "kernel", 1.25);
	dl_prog_begin(&p, "dockerd");
	fake_now = 200;
	dl_prog_end(&p, DL_PROG_FAIL, NULL);
	fclose(f);
	return buf;
}

static void test_tty(void **state)
{
	char *out = run(true, true, true, false);
	assert_non_null(strstr(out, "OS image from URL: root.erofs"));
	assert_non_null(strstr(out, "[=====               ]  25% 10.0 MiB/40.0 MiB 2.5 MiB/s ETA 12.0 s"));
	assert_non_null(strstr(out, "\r\033[K\033[32m\u2713\033[0m OS image from URL  10.0 s: v1\n"));
	assert_non_null(strstr(out, "\033[33m!\033[0m Hosts line  0.0 s: cannot write /etc/hosts\n"));
	assert_non_null(strstr(out, "\u2713\033[0m kernel  1.2 s\n"));
	assert_non_null(strstr(out, "\033[31m\u2717\033[0m dockerd  1 m 30 s\n"));
	free(out);
}

static void test_plain(void **state)
{
	char *out = run(false, true, true, false);
	assert_null(strstr(out, "\033[")); /* no colours nor redraws off a TTY */
	assert_null(strstr(out, "OS image from URL ...\n")); /* steps show when they end */
	/* no sub-step lines off a TTY: a failure stays one line */
	assert_null(strstr(out, "root.erofs ..."));
	/* a byte line at most every 5 s: only the one at 106 */
	assert_non_null(strstr(out, "[10:20:30]   OS image from URL:  25% 10.0 MiB/40.0 MiB 2.5 MiB/s ETA 12.0 s\n"));
	assert_non_null(strstr(out, "[10:20:30] \u2713 OS image from URL  10.0 s: v1\n"));
	assert_null(strstr(out, "dockerd")); /* a failure: only the error line follows */
	free(out);
}

static void test_ascii_quiet(void **state)
{
	char *out = run(false, false, false, false);
	assert_non_null(strstr(out, "] ok OS image from URL"));
	assert_non_null(strstr(out, "] warning Hosts line"));
	assert_non_null(strstr(out, "] ok kernel  1.2 s\n"));
	assert_null(strstr(out, "\u2713"));
	free(out);
	out = run(true, true, true, true);
	assert_string_equal(out, "");
	free(out);
}

static void test_fmt(void **state)
{
	char b[32];
	dl_fmt_bytes(b, sizeof(b), 512);
	assert_string_equal(b, "512 B");
	dl_fmt_bytes(b, sizeof(b), 1.5 * 1024 * 1024 * 1024);
	assert_string_equal(b, "1.5 GiB");
	dl_fmt_secs(b, sizeof(b), 59.94);
	assert_string_equal(b, "59.9 s");
	dl_fmt_secs(b, sizeof(b), 125);
	assert_string_equal(b, "2 m 05 s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tty),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_ascii_quiet),
		cmocka_unit_test(test_fmt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
