/* osimage.c: what dl_manifest_read takes from manifest.json. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "osimage.h"

static void read_manifest(const char *text, struct dl_manifest *m)
{
	char dir[] = "/tmp/dlite-manifest.XXXXXX", path[64];
	struct dl_err e = { 0 };

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(dl_manifest_read(dir, m, &e), 0);
	unlink(path);
	rmdir(dir);
}

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void kernel_sha_from_manifest(void **state)
{
	struct dl_manifest m;

	read_manifest("{\"image_version\":\"7\",\"kernel_version\":\"6.1\",\"files\":"
		      "{\"vmlinuz\":\"" SHA "\",\"initrd\":\"00\"}}", &m);
	assert_string_equal(m.image_version, "7");
	assert_string_equal(m.kernel_version, "6.1");
	assert_string_equal(m.kernel_sha256, SHA);
	/* not a sha256: left empty (the accel memo then has no kernel key) */
	read_manifest("{\"image_version\":\"7\",\"files\":{\"vmlinuz\":\"../etc/passwd\"}}", &m);
	assert_string_equal(m.kernel_sha256, "");
	read_manifest("{\"image_version\":\"7\"}", &m);
	assert_string_equal(m.kernel_sha256, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(kernel_sha_from_manifest) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
