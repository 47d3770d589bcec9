#include "launchd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#define LAUNCHCTL "/bin/launchctl"

int dl_launchd_plist_path(char *buf, size_t n, const char *user_home, struct dl_err *e)
{
	int w;

	if (!user_home || user_home[0] != '/')
		return dl_fail(e, 0, "home folder \"%.200s\" is not an absolute path; set HOME",
			       user_home ? user_home : "");
	w = snprintf(buf, n, "%s%sLibrary/LaunchAgents/" DL_LAUNCHD_LABEL ".plist", user_home,
		     user_home[strlen(user_home) - 1] == '/' ? "" : "/");
	if (w < 0 || (size_t)w >= n)
		return dl_fail(e, ENAMETOOLONG, "launchd plist path under %.200s is too long", user_home);
	return 0;
}

/* Appends XML-escaped s to out (room checked by the caller: 6x + 1). */
static size_t xml_escape(char *out, const char *s)
{
	size_t o = 0;

	for (; *s; s++) {
		const char *r = NULL;
		switch (*s) {
		case '&': r = "&amp;"; break;
		case '<': r = "&lt;"; break;
		case '>': r = "&gt;"; break;
		case '"': r = "&quot;"; break;
		case '\'': r = "&apos;"; break;
		}
		if (r) {
			memcpy(out + o, r, strlen(r));
			o += strlen(r);
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
	return o;
}

char *dl_launchd_plist(const char *dlite_path, const char *dlite_home, struct dl_err *e)
{
	char *bin = NULL, *home = NULL, *log = NULL, *s = NULL;
	size_t hl;
	int n;

	if (dl_path_check("the dlite program path", dlite_path, e) < 0 ||
	    dl_path_check("DLITE_HOME", dlite_home, e) < 0)
		return NULL;
	hl = strlen(dlite_home);
	bin = malloc(6 * strlen(dlite_path) + 1);
	home = malloc(6 * hl + 1);
	log = malloc(6 * (hl + sizeof("/daemon.log")) + 1);
	if (!bin || !home || !log)
		goto oom;
	xml_escape(bin, dlite_path);
	xml_escape(home, dlite_home);
	{
		char raw[4096 + sizeof("/daemon.log") + 1];
		snprintf(raw, sizeof(raw), "%s%sdaemon.log", dlite_home,
			 dlite_home[hl - 1] == '/' ? "" : "/");
		xml_escape(log, raw);
	}
	n = asprintf(&s,
		     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
		     "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
		     "<plist version=\"1.0\">\n"
		     "<dict>\n"
		     "\t<key>Label</key>\n"
		     "\t<string>" DL_LAUNCHD_LABEL "</string>\n"
		     "\t<key>ProgramArguments</key>\n"
		     "\t<array>\n"
		     "\t\t<string>%s</string>\n"
		     "\t\t<string>daemon</string>\n"
		     "\t</array>\n"
		     "\t<key>EnvironmentVariables</key>\n"
		     "\t<dict>\n"
		     "\t\t<key>DLITE_HOME</key>\n"
		     "\t\t<string>%s</string>\n"
		     "\t</dict>\n"
		     "\t<key>RunAtLoad</key>\n"
		     "\t<true/>\n"
		     "\t<key>KeepAlive</key>\n"
		     "\t<dict>\n"
		     "\t\t<key>SuccessfulExit</key>\n"
		     "\t\t<false/>\n"
		     "\t</dict>\n"
		     "\t<key>AbandonProcessGroup</key>\n"
		     "\t<true/>\n"
		     "\t<key>ProcessType</key>\n"
		     "\t<string>Interactive</string>\n"
		     "\t<key>StandardOutPath</key>\n"
		     "\t<string>%s</string>\n"
		     "\t<key>StandardErrorPath</key>\n"
		     "\t<string>%s</string>\n"
		     "</dict>\n"
		     "</plist>\n",
		     bin, home, log, log);
	if (n < 0) {
		s = NULL;
		goto oom;
	}
	free(bin);
	free(home);
	free(log);
	return s;
oom:
	free(bin);
	free(home);
	free(log);
	dl_fail(e, ENOMEM, "out of memory");
	return NULL;
}

static char **gui_cmd(const char *verb, const char *opt, uid_t uid, int with_label, const char *extra)
{
	char target[64];

	snprintf(target, sizeof(target), with_label ? "gui/%lu/" DL_LAUNCHD_LABEL : "gui/%lu",
		 (unsigned long)uid);
	if (opt)
		return dl_cmd_new(LAUNCHCTL, verb, opt, target, (char *)NULL);
	return dl_cmd_new(LAUNCHCTL, verb, target, extra, (char *)NULL);
}

char **dl_launchctl_bootstrap(uid_t uid, const char *plist_path)
{
	if (!plist_path)
		return NULL;
	return gui_cmd("bootstrap", NULL, uid, 0, plist_path);
}

char **dl_launchctl_bootout(uid_t uid)
{
	return gui_cmd("bootout", NULL, uid, 1, NULL);
}

char **dl_launchctl_kickstart(uid_t uid)
{
	return gui_cmd("kickstart", "-k", uid, 1, NULL);
}

char **dl_launchctl_print(uid_t uid)
{
	return gui_cmd("print", NULL, uid, 1, NULL);
}

int dl_launchd_helper_plist_path(char *buf, size_t n, unsigned uid)
{
	int w = snprintf(buf, n, "/Library/LaunchDaemons/" DL_LAUNCHD_LABEL ".helper.%u.plist", uid);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

char *dl_launchd_helper_plist(const char *dlite_path, unsigned uid, struct dl_err *e)
{
	char *bin, *s = NULL;

	if (dl_path_check("the dlite program path", dlite_path, e) < 0)
		return NULL;
	if (!(bin = malloc(6 * strlen(dlite_path) + 1))) {
		dl_fail(e, ENOMEM, "out of memory");
		return NULL;
	}
	xml_escape(bin, dlite_path);
	if (asprintf(&s,
		     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
		     "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
		     "<plist version=\"1.0\">\n"
		     "<dict>\n"
		     "\t<key>Label</key>\n"
		     "\t<string>" DL_LAUNCHD_LABEL ".helper.%u</string>\n"
		     "\t<key>ProgramArguments</key>\n"
		     "\t<array>\n"
		     "\t\t<string>%s</string>\n"
		     "\t\t<string>helper</string>\n"
		     "\t\t<string>--uid</string>\n"
		     "\t\t<string>%u</string>\n"
		     "\t</array>\n"
		     "\t<key>RunAtLoad</key>\n"
		     "\t<true/>\n"
		     "\t<key>KeepAlive</key>\n"
		     "\t<true/>\n"
		     "\t<key>StandardErrorPath</key>\n"
		     "\t<string>/var/log/dlite-helper.%u.log</string>\n"
		     "</dict>\n"
		     "</plist>\n",
		     uid, bin, uid, uid) < 0) {
		s = NULL;
		dl_fail(e, ENOMEM, "out of memory");
	}
	free(bin);
	return s;
}

char **dl_launchctl_helper(const char *verb, unsigned uid, const char *plist_path)
{
	char target[80];

	if (!strcmp(verb, "bootstrap") && plist_path)
		return dl_cmd_new(LAUNCHCTL, verb, "system", plist_path, (char *)NULL);
	snprintf(target, sizeof(target), "system/" DL_LAUNCHD_LABEL ".helper.%u", uid);
	if (!strcmp(verb, "bootout"))
		return dl_cmd_new(LAUNCHCTL, verb, target, (char *)NULL);
	return NULL;
}
