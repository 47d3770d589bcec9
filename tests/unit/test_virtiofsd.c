/*
 * src/vm/virtiofsd.c: where the daemon looks for virtiofsd, what its
 * --version means, and its argv (golden: tests/golden/vm/virtiofsd-*.argv,
 * one argument per line; DLITE_UPDATE_GOLDEN=1 rewrites them).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "golden.h"
#include "vm/virtiofsd.h"
#include "vm/vm.h"

static char *lines(char **v)
{
	size_t n = 1;
	for (char **p = v; *p; p++)
		n += strlen(*p) + 1;
	char *s = malloc(n), *q = s;
	assert_non_null(s);
	for (char **p = v; *p; p++)
		q += sprintf(q, "%s\n", *p);
	*q = '\0';
	return s;
}

static void expect_list(char **v, const char *want)
{
	assert_non_null(v);
	char *got = lines(v);
	assert_string_equal(got, want);
	free(got);
	dl_argv_free(v);
}

static void candidates(void **state)
{
	expect_list(dl_virtiofsd_candidates(NULL, "/usr/local/bin:/usr/bin/"),
		    "/usr/local/bin/virtiofsd\n/usr/bin/virtiofsd\n"
		    "/usr/libexec/virtiofsd\n/usr/lib/qemu/virtiofsd\n");
	/* empty and relative PATH entries would depend on the cwd */
	expect_list(dl_virtiofsd_candidates("", "::.:bin:/opt/v//"),
		    "/opt/v/virtiofsd\n/usr/libexec/virtiofsd\n/usr/lib/qemu/virtiofsd\n");
	expect_list(dl_virtiofsd_candidates(NULL, NULL),
		    "/usr/libexec/virtiofsd\n/usr/lib/qemu/virtiofsd\n");
	/* DLITE_VIRTIOFSD: that one only, or none at all */
	expect_list(dl_virtiofsd_candidates("/x/virtiofsd", "/usr/bin"), "/x/virtiofsd\n");
	expect_list(dl_virtiofsd_candidates("none", "/usr/bin"), "");
}

static void versions(void **state)
{
	struct dl_virtiofsd_version v;
	struct dl_err e = { 0 };

	assert_int_equal(dl_virtiofsd_parse_version("virtiofsd 1.13.2\n", &v, &e), 0);
	assert_int_equal(v.major, 1);
	assert_int_equal(v.minor, 13);
	assert_int_equal(v.patch, 2);
	assert_int_equal(dl_virtiofsd_parse_version("virtiofsd 1.10\n", &v, &e), 0);
	assert_int_equal(v.minor, 10);
	assert_int_equal(v.patch, 0);

	assert_int_equal(dl_virtiofsd_parse_version(
				 "virtiofsd version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n"
				 "Copyright (c) 2003-2022 Fabrice Bellard\n",
				 &v, &e),
			 -1);
	assert_non_null(strstr(e.msg, "QEMU's C virtiofsd (7.2.22)"));
	assert_int_equal(dl_virtiofsd_parse_version("virtiofsd 0.9.1", &v, &e), -1);
	assert_non_null(strstr(e.msg, "too old"));
	assert_int_equal(dl_virtiofsd_parse_version("bash: virtiofsd: not found\n", &v, &e), -1);
	assert_non_null(strstr(e.msg, "not a virtiofsd version: \"bash: virtiofsd: not found\""));
	assert_int_equal(dl_virtiofsd_parse_version("virtiofsd x.y", &v, &e), -1);
	assert_int_equal(dl_virtiofsd_parse_version("", &v, &e), -1);
	assert_int_equal(dl_virtiofsd_parse_version(NULL, &v, &e), -1);
}

static void check_argv(const char *name, unsigned major, unsigned minor, long uid)
{
	struct dl_virtiofsd_spec s = {
		.binary = "/usr/libexec/virtiofsd",
		.version = { major, minor, 0 },
		.socket_path = "/home/me/.dlite/run/virtiofsd.sock",
		.shared_dir = "/home/me/my share",
		.uid = uid,
		.gid = uid < 0 ? -1 : uid + 1,
	};
	struct dl_err e = { 0 };
	char **v = NULL, rel[128];

	if (dl_virtiofsd_argv(&s, &v, &e) < 0)
		fail_msg("%s: %s", name, e.msg);
	char *got = lines(v);
	snprintf(rel, sizeof(rel), "vm/%s.argv", name);
	golden_check(rel, got, strlen(got));
	free(got);
	dl_argv_free(v);
}

static void argv_golden(void **state)
{
	check_argv("virtiofsd-1.13", 1, 13, 1000);	/* every option */
	check_argv("virtiofsd-1.11", 1, 11, 1000);	/* no uid/gid translation yet */
	check_argv("virtiofsd-1.10", 1, 10, 1000);	/* no --allow-mmap either */
	check_argv("virtiofsd-1.13-nouid", 1, 13, -1);
}

static void argv_bad(void **state)
{
	struct dl_virtiofsd_spec ok = {
		.binary = "/v", .version = { 1, 13, 0 }, .socket_path = "/r/v.sock",
		.shared_dir = "/home/me", .uid = 1, .gid = 1,
	};
	struct dl_virtiofsd_spec s;
	struct dl_err e = { 0 };
	char **v = NULL;

	s = ok; s.binary = NULL;
	assert_int_equal(dl_virtiofsd_argv(&s, &v, &e), -1);
	assert_null(v);
	s = ok; s.socket_path = "run/v.sock";
	assert_int_equal(dl_virtiofsd_argv(&s, &v, &e), -1);
	assert_non_null(strstr(e.msg, "socket must be an absolute path"));
	s = ok; s.shared_dir = NULL;
	assert_int_equal(dl_virtiofsd_argv(&s, &v, &e), -1);
	assert_non_null(strstr(e.msg, "shared folder"));
	s = ok; s.shared_dir = "/home/a\nb";
	assert_int_equal(dl_virtiofsd_argv(&s, &v, &e), -1);
	assert_non_null(strstr(e.msg, "control character"));
	s = ok; s.version.major = 0;
	assert_int_equal(dl_virtiofsd_argv(&s, &v, &e), -1);
	assert_int_equal(dl_virtiofsd_argv(&ok, &v, &e), 0);
	dl_argv_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(candidates),
		cmocka_unit_test(versions),
		cmocka_unit_test(argv_golden),
		cmocka_unit_test(argv_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
