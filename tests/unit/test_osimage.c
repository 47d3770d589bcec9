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

/* The file list is checked before anything is fetched or copied. */
static void manifest_files(void **state)
{
	struct dl_err e;
	const char *good = "{\"files\":{\"vmlinuz\":\"" SHA "\",\"initrd\":\"" SHA "\","
			   "\"root.erofs\":\"" SHA "\"}}";
	char **f = dl_manifest_files(good, strlen(good), &e);
	assert_non_null(f);
	int n = 0;
	for (char **p = f; *p; p++, n++)
		free(*p);
	free(f);
	assert_int_equal(n, 3);
	const struct { const char *text, *want; } bad[] = {
		{ "{\"files\": ", "not valid" },
		{ "[]", "not valid" },
		{ "{\"files\":{\"vmlinuz\":\"" SHA "\",\"initrd\":\"" SHA "\"}}", "root.erofs" },
		{ "{\"files\":{\"vmlinuz\":\"zz\",\"initrd\":\"" SHA "\",\"root.erofs\":\"" SHA
		  "\"}}", "vmlinuz" },
		{ "{\"files\":{\"vmlinuz\":\"" SHA "\",\"initrd\":\"" SHA "\",\"root.erofs\":\"" SHA
		  "\",\"../x\":\"" SHA "\"}}", "../x" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_null(dl_manifest_files(bad[i].text, strlen(bad[i].text), &e));
		assert_non_null(strstr(e.msg, bad[i].want));
		assert_non_null(strstr(e.msg, "manifest.json"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(kernel_sha_from_manifest),
					    cmocka_unit_test(manifest_files) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
