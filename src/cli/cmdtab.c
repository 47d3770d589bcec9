/* The command table (see cmdtab.h). To add a flag: add a line to the
 * command's flag list below and a case for its val in the command's parser;
 * `make gen` rewrites the completions and the man page, `make unit` checks. */
#include <string.h>

#include "cli/cmdtab.h"
#include "config.h"

#define END { 0 }
#define HELP { "help", 'h', 'h', NULL, NULL, NULL, "print this help" }
#define QUIET(what) { "quiet", 'q', 'q', NULL, NULL, NULL, "print only errors" what }

const char dl_man_date[] = "December 4, 2026";

static const struct dl_flag f_install[] = {
	{ "cpus", 'c', 'c', "N", NULL, NULL, "CPUs of the VM (2)" },
	{ "memory", 'm', 'm', "GiB", NULL, NULL, "memory of the VM in GiB (2)" },
	{ "disk", 'd', 'd', "GiB", NULL, NULL, "size of the sparse data disk in GiB (20)" },
	{ "hostname", 'n', 'n', "NAME", NULL, NULL, "host name of the VM (local.docker)" },
	{ "share", 'S', 'S', "DIR", NULL, "dir",
	  "folder shared at the same path ($HOME; \"\" for none)" },
	{ "ssh-key", 's', 's', "FILE", NULL, "file",
	  "ssh public key for dlite ssh (~/.ssh/id_ed25519.pub, id_rsa.pub, or a new key)" },
	{ "version", 'v', 'v', "VERSION", NULL, NULL, "OS image version to download" },
	{ "os", 0, 'O', "PATH|URL", NULL, "dir",
	  "OS image folder or URL (default: the one built with dlite)" },
	{ "sha256", 0, 'P', "HEX", NULL, NULL,
	  "the sha256 manifest.json must have: how a downloaded image is trusted" },
	{ "socket", 0, 'k', "PATH", NULL, "file", "where docker.sock goes (~/.dlite/docker.sock)" },
	{ "accel", 0, 'a', "ACCEL", "auto kvm hvf tcg", NULL, "accelerator (auto)" },
	{ "engine", 0, 'E', "ENGINE", "qemu hyperkit vfkit", NULL, "VM engine (qemu)" },
	{ "network", 0, 'N', "MODE", "user bridged", NULL,
	  "user: ports forwarded to 127.0.0.1; bridged: the VM gets its own address (root)" },
	{ "force", 0, 'F', NULL, NULL, NULL,
	  "move a /var/run/docker.sock that is not dlite's aside (uninstall restores it)" },
	{ "context", 0, 'C', NULL, NULL, NULL,
	  "make dlite the current docker context (uninstall switches back)" },
	{ "yes", 'y', 'y', NULL, NULL, NULL, "do not ask before replacing an installation" },
	QUIET(" (no step list)"),
	HELP, END,
};
static const struct dl_flag f_quiet[] = { QUIET(" (no boot phases)"), HELP, END };
static const struct dl_flag f_help[] = { HELP, END };
static const struct dl_flag f_json[] = {
	{ "json", 'j', 'j', NULL, NULL, NULL, "print JSON (schema in docs/json.md)" }, HELP, END,
};
static const struct dl_flag f_logs[] = {
	{ "follow", 'f', 'f', NULL, NULL, NULL, "keep printing what is appended" },
	{ "console", 0, 'C', NULL, NULL, NULL, "the VM's serial console instead of the daemon's log" },
	HELP, END,
};
static const struct dl_flag f_update[] = {
	{ "version", 'v', 'v', "VERSION", NULL, NULL, "OS image version to download" },
	{ "os", 0, 'O', "PATH|URL", NULL, "dir", "OS image folder or URL" },
	{ "sha256", 0, 'P', "HEX", NULL, NULL,
	  "the sha256 manifest.json must have: how a downloaded image is trusted" },
	{ "rollback", 0, 'R', NULL, NULL, NULL, "go back to the previous OS image" },
	QUIET(" (no step list)"),
	HELP, END,
};
static const struct dl_flag f_yes[] = {
	{ "yes", 'y', 'y', NULL, NULL, NULL, "do not ask for confirmation" }, HELP, END,
};
static const struct dl_flag f_env[] = {
	{ "shell", 0, 'S', "SHELL", "sh bash zsh fish", NULL,
	  "syntax of the output (sh; fish prints set -gx)" },
	HELP, END,
};
static const struct dl_flag f_sshcfg[] = {
	{ "host", 0, 'H', "NAME", NULL, NULL, "the Host alias (dlite)" }, HELP, END,
};
static const struct dl_flag f_daemon[] = {
	{ "idle", 0, 'I', NULL, NULL, NULL, "wait for dlite start instead of starting the VM" },
	HELP, END,
};

const struct dl_cmdspec dl_cmdtab[] = {
	{ "install", "", "create the VM: config, data disk, OS image, hosts line, autostart", NULL,
	  false, false, f_install },
	{ "start", "", "start the VM; returns once docker answers", NULL, false, false, f_quiet },
	{ "stop", "", "power the VM off cleanly", NULL, false, false, f_help },
	{ "restart", "", "stop, then start", NULL, false, false, f_quiet },
	{ "status", "", "state, pid, uptime, address, resources, versions, ports", NULL, false,
	  false, f_json },
	{ "ip", "", "print the address where the VM's ports are", NULL, false, false, f_help },
	{ "ssh", "[COMMAND ...]", "open a shell (or run a command) in the VM as user docker", NULL,
	  false, true, f_help },
	{ "ssh-config", "", "print a Host entry for ~/.ssh/config so ssh dlite and scp work", NULL,
	  false, false, f_sshcfg },
	{ "env", "", "print export DOCKER_HOST=... for eval", NULL, false, false, f_env },
	{ "logs", "", "show the daemon's log (--console: the VM's console)", NULL, false, false,
	  f_logs },
	{ "doctor", "", "check the installation; print the command that fixes each problem", NULL,
	  false, false, f_json },
	{ "update", "", "swap the OS image (keeps the previous one and the data disk)", NULL, false,
	  false, f_update },
	{ "rebuild", "", "start over with a fresh empty data disk", NULL, false, false, f_yes },
	{ "config", "get [KEY] | set KEY VALUE", "get or set a setting (see CONFIGURATION)",
	  "get set", false, false, f_help },
	{ "uninstall", "", "remove the VM, its disk and everything install added", NULL, false,
	  false, f_yes },
	{ "version", "", "print versions", NULL, false, false, f_help },
	{ "daemon", "", "run the daemon in the foreground (what autostart runs)", NULL, true, false,
	  f_daemon },
	{ "chan", "TARGET", "relay stdin/stdout to a channel target (ssh's ProxyCommand)", NULL,
	  true, false, f_help },
	{ "helper", "--uid UID", "bridged mode's privileged helper (root; run by its unit)", NULL,
	  true, false, f_help },
	{ "__gen", "bash|zsh|fish|man", "print a completion script or the man page", NULL, true,
	  false, f_help },
	{ 0 },
};

const struct dl_keyspec dl_keytab[] = {
	{ "cpus", "N", NULL, "CPUs of the VM (1 to 64); at the next start" },
	{ "memory_gib", "GiB", NULL, "memory of the VM in GiB (alias memory); at the next start" },
	{ "disk_gib", "GiB", NULL, "data disk size (alias disk); grows at the next start, never shrinks" },
	{ "hostname", "NAME", NULL, "the VM's host name, in /etc/hosts and answered by dlite's DNS" },
	{ "share", "DIR", NULL, "folder shared at the same path in the VM (empty: none)" },
	{ "ssh_key", "FILE", NULL, "ssh public key installed for user docker" },
	{ "socket", "PATH", NULL, "path of the docker socket on the host" },
	{ "engine", "ENGINE", "qemu hyperkit vfkit", "VM engine" },
	{ "accel", "ACCEL", "auto kvm hvf tcg", "accelerator; auto falls back to tcg" },
	{ "network", "MODE", "user bridged", "user networking or a bridge with routes" },
	{ "bridge_addr", "ADDR/LEN", NULL, "bridged: the VM's address" },
	{ "bridge_host", "ADDR/LEN", NULL, "bridged: the host's address on the bridge" },
	{ "dns_port", "PORT", NULL, "port of dlite's DNS responder on the host" },
	{ "virtiofsd", "PATH", NULL,
	  "virtiofsd for the share: empty looks for it, none uses 9p, or an absolute path" },
	{ "dns_domain", "DOMAIN", NULL,
	  "domain dlite's DNS answers for containers (docker; no public TLD, local or localhost)" },
	{ "port_max_conns", "N", NULL, "TCP connections per published port before the idlest closes" },
	{ "port_max_udp", "N", NULL, "UDP client addresses per published port before the idlest goes" },
	{ "file_events", "on|off", "on off", "host edits fire inotify events in the VM (virtiofs only; off by default)" },
	{ 0 },
};

const struct dl_cmdspec *dl_cmdspec_find(const char *name)
{
	for (const struct dl_cmdspec *c = dl_cmdtab; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct dl_keyspec *dl_keyspec_find(const char *name)
{
	for (const struct dl_keyspec *k = dl_keytab; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

void dl_cmd_usage(FILE *f, const struct dl_cmdspec *c)
{
	fprintf(f, "usage: dlite %s%s%s%s\n  %s\n", c->name, c->flags[0].lng ? " [FLAGS]" : "",
		c->args[0] ? " " : "", c->args, c->help);
	for (const struct dl_flag *fl = c->flags; fl->lng; fl++) {
		char lhs[64];
		snprintf(lhs, sizeof(lhs), "%s%c%s--%s%s%s", fl->shrt ? "-" : "",
			 fl->shrt ? fl->shrt : ' ', fl->shrt ? ", " : "  ", fl->lng,
			 fl->arg ? " " : "", fl->arg ? fl->arg : "");
		fprintf(f, "  %-26s %s\n", lhs, fl->help);
	}
	if (strcmp(c->name, "config") == 0) {
		fprintf(f, "keys:\n");
		for (const struct dl_keyspec *k = dl_keytab; k->name; k++)
			fprintf(f, "  %-26s %s\n", k->name, k->help);
	}
}

int dl_opts_init(struct dl_opts *o, const char *cmd, struct dl_err *e)
{
	size_t n = 0, s = 0;

	memset(o, 0, sizeof(*o));
	o->help_out = stdout;
	if (!(o->spec = dl_cmdspec_find(cmd)))
		return dl_fail(e, 0, "internal: command %s is not in the command table", cmd);
	o->so[s++] = ':'; /* a missing value returns ':' */
	for (const struct dl_flag *f = o->spec->flags; f->lng; f++, n++) {
		if (n >= DL_MAX_FLAGS)
			return dl_fail(e, 0, "internal: %s has too many flags", cmd);
		o->lo[n] = (struct option){ f->lng, f->arg ? required_argument : no_argument, NULL,
					    f->val };
		if (f->shrt) {
			o->so[s++] = f->shrt;
			if (f->arg)
				o->so[s++] = ':';
		}
	}
	optind = 1;
	opterr = 0;
	return 0;
}

int dl_opts_next(struct dl_opts *o, int argc, char **argv, struct dl_err *e)
{
	int c = getopt_long(argc, argv, o->so, o->lo, NULL);

	if (c == ':')
		return dl_fail(e, 0, "flag %s needs a value; see `dlite %s --help`", argv[optind - 1],
			       o->spec->name),
		       '?';
	if (c == '?')
		return dl_fail(e, 0, "unknown flag %s; see `dlite %s --help`", argv[optind - 1],
			       o->spec->name),
		       '?';
	if (c == 'h')
		dl_cmd_usage(o->help_out, o->spec);
	return c;
}
