/* The command table: flag parsing from it, and the generated completions and
 * man page: equal to the committed copies in contrib/, and naming every
 * command, flag and config key of the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cmdtab.h"
#include "config.h"

static const char *const committed[][2] = {
	{ "bash", "contrib/completion/dlite.bash" },
	{ "zsh", "contrib/completion/_dlite" },
	{ "fish", "contrib/completion/dlite.fish" },
	{ "man", "contrib/man/dlite.1" },
};

static char *gen(const char *what)
{
	char *buf = NULL;
	size_t len = 0;
	struct dl_err e = { 0 };
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(dl_gen(f, what, &e), 0);
	fclose(f);
	return buf;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	if (!f)
		fail_msg("cannot open %s; run `make gen` from the repo root", path);
	FILE *m = open_memstream(&buf, &len);
	int c;
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	return buf;
}

static void test_committed_match(void **state)
{
	for (size_t i = 0; i < 4; i++) {
		char *g = gen(committed[i][0]), *c = slurp(committed[i][1]);
		if (strcmp(g, c) != 0)
			fail_msg("%s differs from `dlite __gen %s`; run `make gen` and commit it",
				 committed[i][1], committed[i][0]);
		free(g);
		free(c);
	}
}

/* How a flag is spelt in each output. */
static void expect_in(const char *text, const char *what, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("%s output lacks %s", what, needle);
}

static void test_everything_named(void **state)
{
	char needle[128];

	for (size_t i = 0; i < 4; i++) {
		const char *w = committed[i][0];
		bool man = strcmp(w, "man") == 0, fish = strcmp(w, "fish") == 0;
		char *g = gen(w);
		for (const struct dl_cmdspec *c = dl_cmdtab; c->name; c++) {
			snprintf(needle, sizeof(needle), man ? ".It Nm Cm %s" : fish ? "-a %s " : "%s", c->name);
			if (c->hidden) {
				if (man && strstr(g, needle))
					fail_msg("hidden command %s is in the man page", c->name);
				continue;
			}
			expect_in(g, w, needle);
			for (const struct dl_flag *fl = c->flags; fl->lng; fl++) {
				if (man && strcmp(fl->lng, "help") == 0)
					continue;
				snprintf(needle, sizeof(needle), man ? "Fl -%s" : fish ? "-l %s" : "--%s",
					 fl->lng);
				expect_in(g, w, needle);
				if (fl->shrt) {
					snprintf(needle, sizeof(needle), man ? "Fl %c " : fish ? "-s %c" : "-%c",
						 fl->shrt);
					expect_in(g, w, needle);
				}
				for (const char *ch = fl->choices; ch && *ch;) {
					size_t n = strcspn(ch, " ");
					snprintf(needle, sizeof(needle), "%.*s", (int)n, ch);
					if (!man)
						expect_in(g, w, needle);
					ch += n + (ch[n] == ' ');
				}
			}
		}
		for (const char *const *k = dl_config_keys; *k; k++) {
			snprintf(needle, sizeof(needle), man ? "Cm %s Ar" : "%s", *k);
			expect_in(g, w, needle);
		}
		if (man)
			for (const char *s = "EXAMPLES\0FILES\0ENVIRONMENT\0SEE ALSO\0"; *s; s += strlen(s) + 1) {
				snprintf(needle, sizeof(needle), ".Sh %s\n", s);
				expect_in(g, w, needle);
			}
		free(g);
	}
}

static void test_keys_complete(void **state)
{
	size_t n = 0;
	for (const char *const *k = dl_config_keys; *k; k++, n++)
		assert_non_null(dl_keyspec_find(*k));
	size_t m = 0;
	for (const struct dl_keyspec *k = dl_keytab; k->name; k++)
		m++;
	assert_int_equal(n, m);
	struct dl_err e = { 0 };
	assert_int_equal(dl_gen(stdout, "troff", &e), -1);
	assert_non_null(strstr(e.msg, "unknown generator"));
}

static void test_opts_parse(void **state)
{
	struct dl_opts o;
	struct dl_err e = { 0 };
	char *argv[] = { "install", "-c", "3", "--accel", "kvm", "--context", "-yq", "--os=/x", NULL };
	int argc = 8, c;
	char seen[16] = "";

	assert_int_equal(dl_opts_init(&o, "install", &e), 0);
	while ((c = dl_opts_next(&o, argc, argv, &e)) != -1) {
		size_t l = strlen(seen);
		seen[l] = (char)c;
		seen[l + 1] = '\0';
		if (c == 'c')
			assert_string_equal(optarg, "3");
		if (c == 'a')
			assert_string_equal(optarg, "kvm");
		if (c == 'O')
			assert_string_equal(optarg, "/x");
	}
	assert_string_equal(seen, "caCyqO");

	char *bad[] = { "status", "--bogus", NULL };
	assert_int_equal(dl_opts_init(&o, "status", &e), 0);
	assert_int_equal(dl_opts_next(&o, 2, bad, &e), '?');
	assert_non_null(strstr(e.msg, "unknown flag --bogus; see `dlite status --help`"));

	char *novalue[] = { "env", "--shell", NULL };
	assert_int_equal(dl_opts_init(&o, "env", &e), 0);
	assert_int_equal(dl_opts_next(&o, 2, novalue, &e), '?');
	assert_non_null(strstr(e.msg, "--shell needs a value"));

	char *help[] = { "logs", "--help", NULL };
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(dl_opts_init(&o, "logs", &e), 0);
	o.help_out = open_memstream(&buf, &len);
	assert_int_equal(dl_opts_next(&o, 2, help, &e), 'h');
	fclose(o.help_out);
	assert_non_null(strstr(buf, "usage: dlite logs"));
	assert_non_null(strstr(buf, "-f, --follow"));
	free(buf);

	assert_int_equal(dl_opts_init(&o, "frobnicate", &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_committed_match),
		cmocka_unit_test(test_everything_named),
		cmocka_unit_test(test_keys_complete),
		cmocka_unit_test(test_opts_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
