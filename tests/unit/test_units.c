/* launchd plist, systemd user unit, resolver files: golden-tested text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "host/cmd.h"
#include "host/launchd.h"
#include "host/resolver.h"
#include "host/systemd.h"
#include "golden.h"

/* Odd but legal paths: blanks, quotes, XML and systemd specials. */
#define ODD_BIN "/Users/Tom & Jerry/<apps>/\"dl'ite\" 100%/$HOME\\bin/dlite"
#define ODD_HOME "/Users/Tom & Jerry/.dlite %h $x"
/* verified with systemd-analyze verify (the program must exist for it) */
#define ODD_SD_BIN "/opt/sd test/Tom & Jerry/<apps>/100%/$HOME;x/dlite"

static void plist(void **state)
{
	struct dl_err e;
	char *s = dl_launchd_plist("/usr/local/bin/dlite", "/Users/me/.dlite", &e);

	golden_check_str("units/local.dlite.plist", s);
	free(s);
	s = dl_launchd_plist(ODD_BIN, ODD_HOME, &e);
	golden_check_str("units/local.dlite-escaped.plist", s);
	assert_null(strstr(s, "& ")); /* every & escaped */
	free(s);

	assert_null(dl_launchd_plist("dlite", "/Users/me/.dlite", &e));
	assert_non_null(strstr(e.msg, "absolute"));
	assert_null(dl_launchd_plist("/usr/local/bin/dlite", "/Users/me/\x01", &e));
	assert_null(dl_launchd_plist("/usr/local/bin/dlite", NULL, &e));
}

static void plist_path(void **state)
{
	char buf[256], tiny[20];
	struct dl_err e;

	assert_int_equal(dl_launchd_plist_path(buf, sizeof(buf), "/Users/me", &e), 0);
	assert_string_equal(buf, "/Users/me/Library/LaunchAgents/local.dlite.plist");
	assert_int_equal(dl_launchd_plist_path(buf, sizeof(buf), "/Users/me/", &e), 0);
	assert_string_equal(buf, "/Users/me/Library/LaunchAgents/local.dlite.plist");
	assert_int_equal(dl_launchd_plist_path(tiny, sizeof(tiny), "/Users/me", &e), -1);
	assert_int_equal(dl_launchd_plist_path(buf, sizeof(buf), "", &e), -1);
}

static void launchctl(void **state)
{
	char ***cmds = NULL;
	char *s;

	cmds = dl_cmds_push(cmds, dl_launchctl_bootstrap(501, "/Users/me/Library/LaunchAgents/local.dlite.plist"));
	cmds = dl_cmds_push(cmds, dl_launchctl_kickstart(501));
	cmds = dl_cmds_push(cmds, dl_launchctl_print(501));
	cmds = dl_cmds_push(cmds, dl_launchctl_bootout(501));
	cmds = dl_cmds_push(cmds, dl_launchctl_bootstrap(0, "/Users/Tom & Jerry/x.plist"));
	assert_int_equal(dl_cmds_len(cmds), 5);
	s = dl_cmds_format(cmds);
	golden_check_str("units/launchctl.txt", s);
	free(s);
	dl_cmds_free(cmds);
	assert_null(dl_launchctl_bootstrap(501, NULL));
}

static void unit(void **state)
{
	struct dl_err e;
	char *s = dl_systemd_unit("/usr/local/bin/dlite", "/home/me/.dlite", &e);

	golden_check_str("units/dlite.service", s);
	free(s);
	/* systemd takes no quotes or backslashes in a program path */
	assert_null(dl_systemd_unit(ODD_BIN, ODD_HOME, &e));
	assert_non_null(strstr(e.msg, "another folder"));
	s = dl_systemd_unit(ODD_SD_BIN, ODD_HOME " \"q\" \\z", &e);
	golden_check_str("units/dlite-escaped.service", s);
	free(s);
	s = dl_systemd_unit("/opt/my apps/dlite", "/home/me/.dlite", &e);
	assert_non_null(strstr(s, "\nExecStart=\"/opt/my apps/dlite\" daemon\n"));
	assert_non_null(strstr(s, "\nEnvironment=DLITE_HOME=/home/me/.dlite\n"));
	free(s);
	s = dl_systemd_unit("/opt/dlite", "/home/me/100%", &e);
	assert_non_null(strstr(s, "\nEnvironment=DLITE_HOME=/home/me/100%%\n"));
	free(s);
	assert_null(dl_systemd_unit("/opt/dlite", "/home/me\n[Service]", &e));
	assert_null(dl_systemd_unit("bin/dlite", "/home/me", &e));
}

/* bridged mode's privileged helper: root's unit and plist */
static void helper_units(void **state)
{
	struct dl_err e;
	char path[128];
	char *s = dl_systemd_helper_unit("/usr/local/bin/dlite", 1000, &e);

	golden_check_str("units/dlite-helper-1000.service", s);
	free(s);
	s = dl_systemd_helper_unit("/opt/my apps/dlite", 1000, &e);
	assert_non_null(strstr(s, "\nExecStart=\"/opt/my apps/dlite\" helper --uid 1000\n"));
	free(s);
	assert_null(dl_systemd_helper_unit(ODD_BIN, 1000, &e));
	assert_null(dl_systemd_helper_unit("bin/dlite", 1000, &e));
	s = dl_launchd_helper_plist("/usr/local/bin/dlite", 501, &e);
	golden_check_str("units/local.dlite.helper.501.plist", s);
	free(s);
	assert_int_equal(dl_systemd_helper_unit_path(path, sizeof(path), 1000), 0);
	assert_string_equal(path, "/etc/systemd/system/dlite-helper-1000.service");
	assert_int_equal(dl_launchd_helper_plist_path(path, sizeof(path), 501), 0);
	assert_string_equal(path, "/Library/LaunchDaemons/local.dlite.helper.501.plist");
	char **c = dl_systemctl_helper("enable", 1000);
	s = dl_cmd_format(c);
	assert_string_equal(s, "systemctl enable --now dlite-helper-1000.service\n");
	free(s);
	dl_cmd_free(c);
	c = dl_launchctl_helper("bootout", 501, NULL);
	s = dl_cmd_format(c);
	assert_string_equal(s, "/bin/launchctl bootout system/local.dlite.helper.501\n");
	free(s);
	dl_cmd_free(c);
	assert_null(dl_systemctl_helper("mask", 1000));
}

static void unit_path(void **state)
{
	char buf[256];
	struct dl_err e;

	assert_int_equal(dl_systemd_unit_path(buf, sizeof(buf), "/home/me", NULL, &e), 0);
	assert_string_equal(buf, "/home/me/.config/systemd/user/dlite.service");
	assert_int_equal(dl_systemd_unit_path(buf, sizeof(buf), "/home/me", "", &e), 0);
	assert_string_equal(buf, "/home/me/.config/systemd/user/dlite.service");
	assert_int_equal(dl_systemd_unit_path(buf, sizeof(buf), "/home/me", "/xdg", &e), 0);
	assert_string_equal(buf, "/xdg/systemd/user/dlite.service");
	assert_int_equal(dl_systemd_unit_path(buf, sizeof(buf), "rel", "rel2", &e), -1);
	assert_int_equal(dl_systemd_unit_path(buf, 10, "/home/me", NULL, &e), -1);
}

static void systemctl(void **state)
{
	const char *verbs[] = { "daemon-reload", "enable", "start", "is-active", "restart", "stop",
				"disable" };
	char ***cmds = NULL;
	char *s;

	for (size_t i = 0; i < sizeof(verbs) / sizeof(*verbs); i++)
		cmds = dl_cmds_push(cmds, dl_systemctl_user(verbs[i]));
	s = dl_cmds_format(cmds);
	golden_check_str("units/systemctl.txt", s);
	free(s);
	dl_cmds_free(cmds);
	assert_null(dl_systemctl_user("mask"));
	assert_null(dl_systemctl_user("--now"));
	assert_null(dl_systemctl_user(NULL));
}

static void resolver(void **state)
{
	char buf[64], *s;
	struct dl_err e;
	char ***cmds;

	assert_int_equal(dl_resolver_path(buf, sizeof(buf), "docker", &e), 0);
	assert_string_equal(buf, "/etc/resolver/docker");
	assert_int_equal(dl_resolver_path(buf, sizeof(buf), "../hosts", &e), -1);
	assert_int_equal(dl_resolver_path(buf, sizeof(buf), "a/b", &e), -1);

	s = dl_resolver_file("docker", "127.0.0.1", 5354, &e);
	golden_check_str("units/resolver-docker", s);
	free(s);
	s = dl_resolver_file("dev.docker", "::1", 53, &e);
	assert_non_null(strstr(s, "\nnameserver ::1\nport 53\n"));
	free(s);
	assert_null(dl_resolver_file("docker", "127.0.0.1", 0, &e));
	assert_null(dl_resolver_file("docker", "127.0.0.1", 65536, &e));
	assert_null(dl_resolver_file("docker", "localhost", 53, &e));
	assert_null(dl_resolver_file("bad domain", "127.0.0.1", 53, &e));

	s = dl_dnsmasq_snippet("docker", "127.0.0.1", 5354, &e);
	golden_check_str("units/dnsmasq-dlite.conf", s);
	free(s);

	cmds = dl_resolved_cmds("dlite0", "127.0.0.1", 5354, "docker", &e);
	assert_non_null(cmds);
	{
		char ***more = dl_resolved_cmds("dlite0", "fd00::1", 53, "dev.docker", &e);
		char ***rev = dl_resolved_revert_cmds("dlite0", &e);
		for (size_t i = 0; more[i]; i++)
			cmds = dl_cmds_push(cmds, dl_cmd_new(more[i][0], more[i][1], more[i][2], more[i][3],
							     (char *)NULL));
		cmds = dl_cmds_push(cmds, dl_cmd_new(rev[0][0], rev[0][1], rev[0][2], (char *)NULL));
		dl_cmds_free(more);
		dl_cmds_free(rev);
	}
	s = dl_cmds_format(cmds);
	golden_check_str("units/resolvectl.txt", s);
	free(s);
	dl_cmds_free(cmds);
	assert_null(dl_resolved_cmds("-x", "127.0.0.1", 53, "docker", &e));
	assert_null(dl_resolved_cmds("a very long interface", "127.0.0.1", 53, "docker", &e));
	assert_null(dl_resolved_cmds("dlite0", "127.0.0.1", 53, "~docker", &e));
	assert_null(dl_resolved_revert_cmds("", &e));
}

static void format(void **state)
{
	char **c = dl_cmd_new("echo", "plain", "two words", "it's", "", "a$b", (char *)NULL);
	char *s = dl_cmd_format(c);

	assert_string_equal(s, "echo plain 'two words' 'it'\\''s' '' 'a$b'\n");
	free(s);
	dl_cmd_free(c);
	s = dl_cmds_format(NULL);
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plist),     cmocka_unit_test(plist_path), cmocka_unit_test(launchctl),
		cmocka_unit_test(unit),	     cmocka_unit_test(unit_path),  cmocka_unit_test(systemctl),
		cmocka_unit_test(resolver),  cmocka_unit_test(format),	   cmocka_unit_test(helper_units),
	};
	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
