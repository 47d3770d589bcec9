#include "systemd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

int dl_systemd_unit_path(char *buf, size_t n, const char *user_home, const char *xdg_config_home,
			 struct dl_err *e)
{
	int w;

	if (xdg_config_home && xdg_config_home[0] == '/')
		w = snprintf(buf, n, "%s/systemd/user/" DL_SYSTEMD_UNIT, xdg_config_home);
	else if (user_home && user_home[0] == '/')
		w = snprintf(buf, n, "%s/.config/systemd/user/" DL_SYSTEMD_UNIT, user_home);
	else
		return dl_fail(e, 0, "home folder \"%.200s\" is not an absolute path; set HOME",
			       user_home ? user_home : "");
	if (w < 0 || (size_t)w >= n)
		return dl_fail(e, ENAMETOOLONG, "systemd unit path is too long");
	return 0;
}

/*
 * One word for a unit file setting.  systemd expands specifiers ('%') in
 * ExecStart= and Environment=, and variables ('$') in ExecStart=; a word in
 * double quotes may hold blanks, and there C escapes apply ('\\', '\"').
 * Plain words stay unquoted.  out needs 2 * strlen(s) + 3.
 */
static void unit_word(char *out, const char *s, int dollar)
{
	int plain = 1;
	size_t o = 0;

	for (const char *c = s; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:@=~%$",
			    *c) && !((unsigned char)*c & 0x80))
			plain = 0;
	if (!plain)
		out[o++] = '"';
	for (; *s; s++) {
		if (*s == '%' || (dollar && *s == '$'))
			out[o++] = *s;
		else if (!plain && (*s == '\\' || *s == '"'))
			out[o++] = '\\';
		out[o++] = *s;
	}
	if (!plain)
		out[o++] = '"';
	out[o] = '\0';
}

char *dl_systemd_unit(const char *dlite_path, const char *dlite_home, struct dl_err *e)
{
	char *exe = NULL, *env = NULL, *raw = NULL, *s = NULL;
	int n;

	if (dl_path_check("the dlite program path", dlite_path, e) < 0 ||
	    dl_path_check("DLITE_HOME", dlite_home, e) < 0)
		return NULL;
	/* systemd refuses program paths with quotes or backslashes (string_is_safe). */
	if (strpbrk(dlite_path, "\"'\\")) {
		dl_fail(e, 0, "systemd cannot run a program whose path has quotes or backslashes "
			"(%.200s); install dlite in another folder", dlite_path);
		return NULL;
	}
	exe = malloc(2 * strlen(dlite_path) + 3);
	if (asprintf(&raw, "DLITE_HOME=%s", dlite_home) < 0)
		raw = NULL;
	env = raw ? malloc(2 * strlen(raw) + 3) : NULL;
	if (!exe || !env) {
		free(exe);
		free(raw);
		free(env);
		dl_fail(e, ENOMEM, "out of memory");
		return NULL;
	}
	unit_word(exe, dlite_path, 0); /* the program path gets no $VAR expansion */
	unit_word(env, raw, 0);
	n = asprintf(&s,
		     "# added by dlite: the dlite daemon (docker engine in a small VM)\n"
		     "[Unit]\n"
		     "Description=dlite: Docker engine in a lightweight VM\n"
		     "\n"
		     "[Service]\n"
		     "Type=simple\n"
		     "Environment=%s\n"
		     "ExecStart=%s daemon\n"
		     "Restart=on-failure\n"
		     "RestartSec=2\n"
		     "# the VM outlives a daemon crash; the restarted daemon adopts it\n"
		     "KillMode=process\n"
		     "\n"
		     "[Install]\n"
		     "WantedBy=default.target\n",
		     env, exe);
	free(exe);
	free(raw);
	free(env);
	if (n < 0) {
		dl_fail(e, ENOMEM, "out of memory");
		return NULL;
	}
	return s;
}

char **dl_systemctl_user(const char *verb)
{
	static const char *const with_unit[] = { "enable", "disable", "start", "stop", "restart",
						 "is-active" };

	if (!verb)
		return NULL;
	if (strcmp(verb, "daemon-reload") == 0)
		return dl_cmd_new("systemctl", "--user", verb, (char *)NULL);
	for (size_t i = 0; i < sizeof(with_unit) / sizeof(*with_unit); i++)
		if (strcmp(verb, with_unit[i]) == 0)
			return dl_cmd_new("systemctl", "--user", verb, DL_SYSTEMD_UNIT, (char *)NULL);
	return NULL;
}

int dl_systemd_helper_unit_path(char *buf, size_t n, unsigned uid)
{
	int w = snprintf(buf, n, "/etc/systemd/system/dlite-helper-%u.service", uid);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

char *dl_systemd_helper_unit(const char *dlite_path, unsigned uid, struct dl_err *e)
{
	char *exe, *s = NULL;

	if (dl_path_check("the dlite program path", dlite_path, e) < 0)
		return NULL;
	if (strpbrk(dlite_path, "\"'\\")) {
		dl_fail(e, 0, "systemd cannot run a program whose path has quotes or backslashes "
			"(%.200s); install dlite in another folder", dlite_path);
		return NULL;
	}
	if (!(exe = malloc(2 * strlen(dlite_path) + 3))) {
		dl_fail(e, ENOMEM, "out of memory");
		return NULL;
	}
	unit_word(exe, dlite_path, 0);
	if (asprintf(&s,
		     "# added by dlite: bridged mode's privileged helper for uid %u\n"
		     "[Unit]\n"
		     "Description=dlite: bridge, tap, routes and resolver for uid %u's VM\n"
		     "\n"
		     "[Service]\n"
		     "Type=simple\n"
		     "ExecStart=%s helper --uid %u\n"
		     "Restart=always\n"
		     "RestartSec=2\n"
		     "NoNewPrivileges=yes\n"
		     "ProtectHome=yes\n"
		     "PrivateTmp=yes\n"
		     "CapabilityBoundingSet=CAP_NET_ADMIN CAP_CHOWN\n"
		     "\n"
		     "[Install]\n"
		     "WantedBy=multi-user.target\n",
		     uid, uid, exe, uid) < 0) {
		s = NULL;
		dl_fail(e, ENOMEM, "out of memory");
	}
	free(exe);
	return s;
}

char **dl_systemctl_helper(const char *verb, unsigned uid)
{
	char unit[64];

	snprintf(unit, sizeof(unit), "dlite-helper-%u.service", uid);
	if (!strcmp(verb, "daemon-reload"))
		return dl_cmd_new("systemctl", verb, (char *)NULL);
	if (!strcmp(verb, "enable") || !strcmp(verb, "disable"))
		return dl_cmd_new("systemctl", verb, "--now", unit, (char *)NULL);
	return NULL;
}
