/* src/lib/private.c: the token and state files in run/ never go through a
 * symlink and are 0600. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/private.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/dlite-test-private.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void write_read(void **state)
{
	char p[128], *text;
	size_t len;
	struct stat st;
	struct dl_err e = { 0 };

	snprintf(p, sizeof(p), "%s/token", dir);
	assert_int_equal(dl_write_private(p, "abc\n", 4, &e), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(dl_read_private(p, &text, &len, 256, &e), 0);
	assert_int_equal(len, 4);
	assert_string_equal(text, "abc\n");
	free(text);
}

/* A symlink planted at the path is replaced, its target untouched; reading
 * through one is refused. */
static void symlinks(void **state)
{
	char p[128], victim[128], *text = NULL;
	size_t len;
	struct stat st;
	struct dl_err e = { 0 };

	snprintf(p, sizeof(p), "%s/state.json", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	FILE *f = fopen(victim, "w");
	assert_non_null(f);
	fputs("keep", f);
	fclose(f);
	chmod(victim, 0600);
	assert_int_equal(symlink(victim, p), 0);
	assert_int_equal(dl_read_private(p, &text, &len, 256, &e), -1);
	assert_null(text);
	assert_int_equal(dl_write_private(p, "new", 3, &e), 0);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(dl_read_private(victim, &text, &len, 256, &e), 0);
	assert_string_equal(text, "keep");
	free(text);
}

static void readable_by_others(void **state)
{
	char p[128], *text = NULL;
	size_t len;
	struct dl_err e = { 0 };

	snprintf(p, sizeof(p), "%s/loose", dir);
	assert_int_equal(dl_write_private(p, "x", 1, &e), 0);
	chmod(p, 0644);
	assert_int_equal(dl_read_private(p, &text, &len, 256, &e), -1);
	assert_non_null(strstr(e.msg, "not a private file"));
}

static void private_dir(void **state)
{
	char p[128], link[128];
	struct dl_err e = { 0 };
	struct stat st;

	snprintf(p, sizeof(p), "%s/run", dir);
	assert_int_equal(dl_private_dir(p, &e), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(link, sizeof(link), "%s/run-link", dir);
	assert_int_equal(symlink(p, link), 0);
	assert_int_equal(dl_private_dir(link, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(write_read),
		cmocka_unit_test(symlinks),
		cmocka_unit_test(readable_by_others),
		cmocka_unit_test(private_dir),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
