#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "host/cmd.h"
#include "host/exports.h"
#include "golden.h"

#define SHARE "/Users/me"
#define NET "192.168.64.0"
#define MASK "255.255.255.0"

static char *set(const char *in, size_t len, size_t *n, struct dl_err *e)
{
	return dl_exports_set(in, len, SHARE, NET, MASK, 501, 20, n, e);
}

/* tests/golden/exports/CASE.in -> CASE.set, and remove(set) -> CASE.removed */
static void golden_cases(void **state)
{
	const char *cases[] = { "no-conflict", "no-final-newline", "replace-block", "two-blocks" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char rel[256], *in, *out, *again, *rm;
		size_t len = 0, n = 0, n2 = 0, rn = 0;
		struct dl_err e = { 0 };

		snprintf(rel, sizeof(rel), "exports/%s.in", cases[i]);
		in = golden_read(rel, &len);
		out = set(in, len, &n, &e);
		if (!out)
			fail_msg("%s: %s", cases[i], e.msg);
		snprintf(rel, sizeof(rel), "exports/%s.set", cases[i]);
		golden_check(rel, out, n);
		again = set(out, n, &n2, &e);
		assert_non_null(again);
		assert_int_equal(n2, n);
		assert_memory_equal(again, out, n);
		rm = dl_exports_remove(out, n, &rn, &e);
		assert_non_null(rm);
		snprintf(rel, sizeof(rel), "exports/%s.removed", cases[i]);
		golden_check(rel, rm, rn);
		if (!strstr(in, DL_EXPORTS_BEGIN)) {
			assert_int_equal(rn, len);
			assert_memory_equal(rm, in, len);
		}
		free(in);
		free(out);
		free(again);
		free(rm);
	}
}

static void missing_file(void **state)
{
	struct dl_err e;
	size_t n;
	char *out = set(NULL, 0, &n, &e);

	assert_non_null(out);
	golden_check("exports/missing.set", out, n);
	free(out);
	out = dl_exports_remove(NULL, 0, &n, &e);
	assert_non_null(out);
	assert_int_equal(n, 0);
	free(out);
}

/* Each of these exports conflicts with /Users/me; the message quotes it. */
static void conflicts(void **state)
{
	static const struct {
		const char *text, *quoted;
		int line;
	} c[] = {
		{ "/Users/me -alldirs\n", "'/Users/me -alldirs'", 1 },
		{ "# x\n/Users -ro -network 10.0.0.0 -mask 255.0.0.0\n", "'/Users -ro", 2 },
		{ "/Users/me/src -ro\n", "'/Users/me/src -ro'", 1 },
		{ "/Users/me/ -ro\n", "'/Users/me/ -ro'", 1 },
		{ "//Users//me// -ro\n", "'//Users//me// -ro'", 1 },
		{ "\"/Users/me/My Stuff\" -ro\n", "'\"/Users/me/My Stuff\" -ro'", 1 },
		{ "/Users/me/My\\ Stuff -ro\n", "'/Users/me/My\\ Stuff -ro'", 1 },
		{ "/Volumes/x /Users/me/a -ro host\n", "'/Volumes/x /Users/me/a -ro host'", 1 },
		{ "# c\n/Volumes/x \\\n  /Users/me \\\n  -ro\n", "'/Volumes/x \\   /Users/me \\   -ro'", 2 },
		{ "/ -ro\n", "'/ -ro'", 1 },
		{ "/users/ME -ro\n", "'/users/ME -ro'", 1 },	/* case-insensitive by default */
		{ "/Users/me", "'/Users/me'", 1 },		/* no final newline */
		{ "/Users/me\t-ro\r\n", "'/Users/me -ro'", 1 }, /* tab, CRLF */
		{ "# dlite begin\n/x\n# dlite end\n/Users/me -ro\n", "'/Users/me -ro'", 4 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		struct dl_err e = { 0 };
		char want_line[32];
		size_t n;

		assert_null(set(c[i].text, strlen(c[i].text), &n, &e));
		if (!strstr(e.msg, c[i].quoted))
			fail_msg("case %zu: message does not quote %s: %s", i, c[i].quoted, e.msg);
		snprintf(want_line, sizeof(want_line), "line %d ", c[i].line);
		if (!strstr(e.msg, want_line))
			fail_msg("case %zu: message does not say %s: %s", i, want_line, e.msg);
		assert_non_null(strstr(e.msg, "remove that line or choose another share"));
		assert_null(strchr(e.msg, '\n'));
		assert_int_equal(dl_exports_check(c[i].text, strlen(c[i].text), SHARE, &e), -1);
	}
}

static void not_conflicts(void **state)
{
	static const char *ok[] = {
		"/Users/mel -ro\n",		       /* sibling with the same prefix */
		"/Users/me2 /Users/meh -ro\n",
		"# /Users/me -ro\n",		       /* comment */
		"   # /Users/me\n",
		"/Volumes/x -ro # /Users/me\n",	       /* trailing comment */
		"# comment \\\n/Users/me -ro\n",     /* a continued comment swallows the next line */
		"/Volumes/x -network 10.0.0.0 -mask 255.0.0.0 -mapall=/Users/me\n",
		"/Volumes/x -ro host/Users/me\n",
		"\"/Users/me x\" -ro\n",	       /* quoted name is another folder */
		"",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		struct dl_err e = { 0 };

		if (dl_exports_check(ok[i], strlen(ok[i]), SHARE, &e) != 0)
			fail_msg("case %zu (%s): %s", i, ok[i], e.msg);
	}
}

static void bad_input(void **state)
{
	struct dl_err e;
	size_t n;
	const char *unterminated = "/x -ro\n# dlite begin\n\"/Users/me\" -alldirs\n";

	assert_null(dl_exports_set("", 0, "Users/me", NET, MASK, 1, 1, &n, &e));
	assert_null(dl_exports_set("", 0, "/Users/\"me", NET, MASK, 1, 1, &n, &e));
	assert_null(dl_exports_set("", 0, "/Users/me\n/x", NET, MASK, 1, 1, &n, &e));
	assert_null(dl_exports_set("", 0, SHARE, "192.168.64.1", MASK, 1, 1, &n, &e)); /* host bits */
	assert_non_null(strstr(e.msg, "192.168.64.0 255.255.255.0"));
	assert_null(dl_exports_set("", 0, SHARE, NET, "255.0.255.0", 1, 1, &n, &e));
	assert_null(dl_exports_set("", 0, SHARE, "fd00::", MASK, 1, 1, &n, &e));
	assert_null(dl_exports_set("", 0, SHARE, NET, NULL, 1, 1, &n, &e));

	assert_null(dl_exports_set(unterminated, strlen(unterminated), SHARE, NET, MASK, 1, 1, &n, &e));
	assert_non_null(strstr(e.msg, "line 2"));
	assert_non_null(strstr(e.msg, DL_EXPORTS_END));
	assert_null(dl_exports_remove(unterminated, strlen(unterminated), &n, &e));
}

static void share_normalised(void **state)
{
	struct dl_err e;
	size_t n;
	char *out = dl_exports_set(NULL, 0, "/Users//me dir/", NET, MASK, 0, 0, &n, &e);

	assert_string_equal(out, "# dlite begin\n\"/Users/me dir\" -network 192.168.64.0 -mask "
				 "255.255.255.0 -alldirs -mapall=0:0\n# dlite end\n");
	free(out);
}

static void nfsd_argv(void **state)
{
	char **a = dl_nfsd_argv_checkexports();
	char *s = dl_cmd_format(a);

	assert_string_equal(s, "/sbin/nfsd checkexports\n");
	free(s);
	dl_cmd_free(a);
	a = dl_nfsd_argv_update();
	assert_string_equal(a[1], "update");
	assert_null(a[2]);
	dl_cmd_free(a);
	a = dl_nfsd_argv_restart();
	assert_string_equal(a[1], "restart");
	dl_cmd_free(a);
}

/* Found by tests/fuzz/fuzz_exports.c: a last user line continued by a
 * backslash swallowed the appended block (the result conflicted with
 * itself); a lone CR at the end was lost by remove(set(f)). */
static void continued_line_and_cr(void **state)
{
	struct dl_err e;
	size_t n, rn;
	const char *cont = "/Users/other \\\n";

	assert_null(set(cont, strlen(cont), &n, &e));
	assert_non_null(strstr(e.msg, "backslash"));
	assert_null(strchr(e.msg, '\n'));
	const char *cr = "/Users/other -ro\r";
	char *s = set(cr, strlen(cr), &n, &e);
	assert_non_null(s);
	assert_int_equal(dl_exports_check(s, n, SHARE, &e), 0);
	char *r = dl_exports_remove(s, n, &rn, &e);
	assert_non_null(r);
	assert_int_equal(rn, strlen(cr));
	assert_memory_equal(r, cr, rn);
	free(s);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(golden_cases),	  cmocka_unit_test(missing_file),
		cmocka_unit_test(conflicts),	  cmocka_unit_test(not_conflicts),
		cmocka_unit_test(bad_input),	  cmocka_unit_test(share_normalised),
		cmocka_unit_test(nfsd_argv),
		cmocka_unit_test(continued_line_and_cr),
	};
	return cmocka_run_group_tests_name("exports", tests, NULL, NULL);
}
