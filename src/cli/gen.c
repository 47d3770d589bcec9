/* Completions (bash, zsh, fish) and the dlite(1) man page (mdoc), generated
 * from the command table (cmdtab.c). `dlite __gen WHAT` prints one; the
 * committed copies in contrib/ are checked by tests/unit/test_cmdtab.c. */
#include <string.h>

#include "cli/cmdtab.h"
#include "config.h"

#define VISIBLE(c) for (const struct dl_cmdspec *c = dl_cmdtab; c->name; c++) if (!c->hidden)
#define GENERATED "generated from src/cli/cmdtab.c by `dlite __gen %s`; do not edit"

/* Every config key needs a line in dl_keytab (and no stale lines). */
static int keys_documented(struct dl_err *e)
{
	for (const char *const *k = dl_config_keys; *k; k++)
		if (!dl_keyspec_find(*k))
			return dl_fail(e, 0, "config key %s has no help in src/cli/cmdtab.c; add it", *k);
	for (const struct dl_keyspec *k = dl_keytab; k->name; k++) {
		const char *const *c = dl_config_keys;
		while (*c && strcmp(*c, k->name))
			c++;
		if (!*c)
			return dl_fail(e, 0, "src/cli/cmdtab.c documents %s, which is no config key",
				       k->name);
	}
	return 0;
}

/* Text inside single quotes: ' becomes '\'' (sh, zsh) or \' (fish). */
static void squote(FILE *f, const char *s, bool fish, bool zsh_spec)
{
	for (; *s; s++) {
		if (*s == '\'')
			fputs(fish ? "\\'" : "'\\''", f);
		else if (zsh_spec && strchr("[]:\\", *s))
			fprintf(f, "\\%c", *s);
		else if (fish && *s == '\\')
			fputs("\\\\", f);
		else
			fputc(*s, f);
	}
}

static void key_names(FILE *f)
{
	for (const struct dl_keyspec *k = dl_keytab; k->name; k++)
		fprintf(f, "%s%s", k == dl_keytab ? "" : " ", k->name);
}

static void gen_bash(FILE *f)
{
	fprintf(f, "# bash completion for dlite(1), " GENERATED "\n", "bash");
	fprintf(f, "_dlite() {\n"
		   "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
		   "\tCOMPREPLY=()\n"
		   "\tif [ \"$COMP_CWORD\" -eq 1 ]; then\n"
		   "\t\tCOMPREPLY=($(compgen -W \"");
	VISIBLE(c) fprintf(f, "%s%s", c == dl_cmdtab ? "" : " ", c->name);
	fprintf(f, "\" -- \"$cur\"))\n\t\treturn\n\tfi\n\tcase ${COMP_WORDS[1]} in\n");
	VISIBLE(c) {
		fprintf(f, "\t%s)\n", c->name);
		if (c->passthrough) {
			fprintf(f, "\t\t[ \"$COMP_CWORD\" -eq 2 ] && COMPREPLY=($(compgen -W \"--help\" "
				   "-- \"$cur\"))\n\t\t;;\n");
			continue;
		}
		if (c->words) {
			fprintf(f, "\t\tcase $COMP_CWORD in\n"
				   "\t\t2) COMPREPLY=($(compgen -W \"%s --help\" -- \"$cur\")) ;;\n"
				   "\t\t3) COMPREPLY=($(compgen -W \"", c->words);
			key_names(f);
			fprintf(f, "\" -- \"$cur\")) ;;\n\t\t4)\n\t\t\tcase $prev in\n");
			for (const struct dl_keyspec *k = dl_keytab; k->name; k++)
				if (k->choices)
					fprintf(f, "\t\t\t%s) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")) ;;\n",
						k->name, k->choices);
			fprintf(f, "\t\t\tesac ;;\n\t\tesac\n\t\t;;\n");
			continue;
		}
		fprintf(f, "\t\tcase $prev in\n");
		for (const struct dl_flag *fl = c->flags; fl->lng; fl++) {
			if (!fl->arg)
				continue;
			fprintf(f, "\t\t");
			if (fl->shrt)
				fprintf(f, "-%c|", fl->shrt);
			fprintf(f, "--%s) ", fl->lng);
			if (fl->choices)
				fprintf(f, "COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); ", fl->choices);
			else if (fl->complete)
				fprintf(f, "COMPREPLY=($(compgen -%c -- \"$cur\")); ",
					strcmp(fl->complete, "dir") == 0 ? 'd' : 'f');
			fprintf(f, "return ;;\n");
		}
		fprintf(f, "\t\tesac\n\t\tCOMPREPLY=($(compgen -W \"");
		for (const struct dl_flag *fl = c->flags; fl->lng; fl++) {
			if (fl->shrt)
				fprintf(f, "-%c ", fl->shrt);
			fprintf(f, "--%s%s", fl->lng, fl[1].lng ? " " : "");
		}
		fprintf(f, "\" -- \"$cur\"))\n\t\t;;\n");
	}
	fprintf(f, "\tesac\n}\ncomplete -F _dlite dlite\n");
}

static void gen_zsh(FILE *f)
{
	fprintf(f, "#compdef dlite\n# zsh completion for dlite(1), " GENERATED "\n\n", "zsh");
	fprintf(f, "_dlite() {\n\tlocal -a commands\n\tcommands=(\n");
	VISIBLE(c) {
		fprintf(f, "\t\t'%s:", c->name);
		squote(f, c->help, false, false);
		fprintf(f, "'\n");
	}
	fprintf(f, "\t)\n\tif (( CURRENT == 2 )); then\n"
		   "\t\t_describe -t commands 'dlite command' commands\n\t\treturn\n\tfi\n"
		   "\tlocal cmd=${words[2]}\n\tshift words\n\t(( CURRENT-- ))\n\tcase $cmd in\n");
	VISIBLE(c) {
		fprintf(f, "\t%s)\n", c->name);
		if (c->passthrough) {
			fprintf(f, "\t\t_arguments '*::command:_normal' ;;\n");
			continue;
		}
		if (c->words) {
			fprintf(f, "\t\tlocal -a keys\n\t\tkeys=(\n");
			for (const struct dl_keyspec *k = dl_keytab; k->name; k++) {
				fprintf(f, "\t\t\t'%s:", k->name);
				squote(f, k->help, false, false);
				fprintf(f, "'\n");
			}
			fprintf(f, "\t\t)\n\t\t_arguments '1:action:(%s)' '2:key:{_describe key keys}' "
				   "'3:value:' ;;\n", c->words);
			continue;
		}
		fprintf(f, "\t\t_arguments");
		for (const struct dl_flag *fl = c->flags; fl->lng; fl++) {
			fprintf(f, " \\\n\t\t\t");
			if (fl->shrt)
				fprintf(f, "'(-%c --%s)'{-%c,--%s}'", fl->shrt, fl->lng, fl->shrt, fl->lng);
			else
				fprintf(f, "'--%s", fl->lng);
			fprintf(f, "[");
			squote(f, fl->help, false, true);
			fprintf(f, "]");
			if (fl->arg) {
				fprintf(f, ":");
				squote(f, fl->arg, false, true);
				fprintf(f, ":");
				if (fl->choices)
					fprintf(f, "(%s)", fl->choices);
				else if (fl->complete)
					fprintf(f, "%s", strcmp(fl->complete, "dir") == 0 ? "_files -/"
											 : "_files");
			}
			fprintf(f, "'");
		}
		fprintf(f, " ;;\n");
	}
	fprintf(f, "\tesac\n}\n\n_dlite \"$@\"\n");
}

static void gen_fish(FILE *f)
{
	fprintf(f, "# fish completion for dlite(1), " GENERATED "\n", "fish");
	fprintf(f, "complete -c dlite -f\n");
	VISIBLE(c) {
		fprintf(f, "complete -c dlite -n __fish_use_subcommand -a %s -d '", c->name);
		squote(f, c->help, true, false);
		fprintf(f, "'\n");
	}
	VISIBLE(c) {
		for (const struct dl_flag *fl = c->flags; fl->lng; fl++) {
			fprintf(f, "complete -c dlite -n '__fish_seen_subcommand_from %s'", c->name);
			if (fl->shrt)
				fprintf(f, " -s %c", fl->shrt);
			fprintf(f, " -l %s", fl->lng);
			if (fl->arg && fl->choices)
				fprintf(f, " -x -a '%s'", fl->choices);
			else if (fl->arg && fl->complete)
				fprintf(f, " -r -F");
			else if (fl->arg)
				fprintf(f, " -x");
			fprintf(f, " -d '");
			squote(f, fl->help, true, false);
			fprintf(f, "'\n");
		}
		if (c->words) {
			fprintf(f, "complete -c dlite -n '__fish_seen_subcommand_from %s; and not "
				   "__fish_seen_subcommand_from %s' -a '%s'\n", c->name, c->words, c->words);
			for (const struct dl_keyspec *k = dl_keytab; k->name; k++) {
				fprintf(f, "complete -c dlite -n '__fish_seen_subcommand_from %s; and "
					   "__fish_seen_subcommand_from %s' -a %s -d '", c->name, c->words,
					k->name);
				squote(f, k->help, true, false);
				fprintf(f, "'\n");
			}
		}
	}
}

/* A text line of mdoc: backslashes escaped, no leading dot or quote. */
static void mtext(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else
			fputc(*s, f);
	}
	fputc('\n', f);
}

/* Positional arguments: words in brackets become Op, | stays, others Ar. */
static void margs(FILE *f, const char *args)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", args);
	for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		size_t n = strlen(w);
		if (strcmp(w, "|") == 0)
			fputs(" |", f);
		else if (strcmp(w, "...") == 0 || strcmp(w, "...]") == 0)
			fputs(" No ...", f);
		else if (w[0] == '[' && w[n - 1] == ']') {
			w[n - 1] = '\0';
			fprintf(f, " Op Ar %s", w + 1);
		} else if (w[0] == '[')
			fprintf(f, " Oo Ar %s", w + 1);
		else if (w[n - 1] == ']') {
			w[n - 1] = '\0';
			fprintf(f, " Ar %s Oc", w);
		} else if (strcmp(w, "get") == 0 || strcmp(w, "set") == 0)
			fprintf(f, " Cm %s", w);
		else
			fprintf(f, " Ar %s", w);
		if (strcmp(w, "...]") == 0)
			fputs(" Oc", f);
	}
}

static const char man_head[] =
	".Dt DLITE 1\n.Os\n.Sh NAME\n.Nm dlite\n"
	".Nd run Docker in a small Linux VM and make it feel local\n"
	".Sh SYNOPSIS\n.Nm\n.Ar command\n.Op Ar flags\n.Op Ar arguments\n"
	".Sh DESCRIPTION\n.Nm\n"
	"boots a small Linux virtual machine running dockerd and makes it feel local:\n"
	"a docker socket on the host, published ports on 127.0.0.1, the VM's name in\n"
	".Pa /etc/hosts ,\nand the home folder shared at the same path.\n"
	"A daemon, started by the autostart unit or by\n.Nm\n.Cm start ,\n"
	"runs the VM and relays the socket and the ports.\n.Pp\n"
	"A command may be shortened to any unambiguous prefix.\n"
	"Every command takes\n.Fl h , Fl -help .\n"
	".Sh COMMANDS\n.Bl -tag -width Ds\n";

static const char man_tail[] =
	".Sh ENVIRONMENT\n.Bl -tag -width Ds\n"
	".It Ev DLITE_HOME\nwhere dlite keeps its files (default\n.Pa ~/.dlite ) .\n"
	".It Ev DLITE_SYSROOT\nprefix for every system path dlite edits (tests).\n"
	".It Ev DLITE_OS_URL\nwhere\n.Fl -version\ndownloads OS images from.\n"
	".It Ev DLITE_QEMU\nthe qemu-system binary to run.\n"
	".It Ev DLITE_VIRTIOFSD\nthe virtiofsd to run (overrides the virtiofsd key).\n"
	".It Ev DLITE_DEBUG\nverbose daemon log and agent console.\n"
	".It Ev NO_COLOR\nwhen set, no colours in the output.\n"
	".It Ev XDG_CONFIG_HOME\nwhere the systemd user unit goes (default\n.Pa ~/.config ) .\n"
	".It Ev SUDO_UID , Ev SUDO_GID\nunder sudo, the user the files are made for.\n"
	".El\n"
	".Sh FILES\n.Bl -tag -width Ds\n"
	".It Pa ~/.dlite/config.json\nthe settings (see\n.Sx CONFIGURATION ) .\n"
	".It Pa ~/.dlite/disk.img\nthe sparse data disk: images, containers, volumes.\n"
	".It Pa ~/.dlite/os/current , Pa ~/.dlite/os/previous\nthe OS image and the one before"
	" the last update.\n"
	".It Pa ~/.dlite/docker.sock\nthe docker socket.\n"
	".It Pa ~/.dlite/control.sock\nthe daemon's control socket.\n"
	".It Pa ~/.dlite/daemon.log , Pa ~/.dlite/run/console.log\nwhat\n.Nm\n.Cm logs\nshows.\n"
	".It Pa ~/.config/systemd/user/dlite.service\nthe autostart unit (Linux).\n"
	".It Pa ~/Library/LaunchAgents/local.dlite.plist\nthe autostart agent (macOS).\n"
	".It Pa /etc/hosts\nholds the VM's name on one line ending in\n.Dq # added by dlite .\n"
	".It Pa /var/run/docker.sock\na link to the docker socket when installed as root.\n"
	".El\n"
	".Sh EXIT STATUS\n.Ex -std\nBad usage exits 2.\n"
	".Sh EXAMPLES\nInstall and start, then use docker as usual:\n"
	".Bd -literal -offset indent\n"
	"$ dlite install\n$ dlite start\n$ docker run --rm -p 8080:80 nginx\n"
	"$ curl http://local.docker:8080/\n.Ed\n.Pp\n"
	"Use a bigger VM and check the installation:\n"
	".Bd -literal -offset indent\n"
	"$ dlite config set cpus 4\n$ dlite restart\n$ dlite doctor\n.Ed\n.Pp\n"
	"Point this shell's docker at dlite, and reach the VM with plain ssh:\n"
	".Bd -literal -offset indent\n"
	"$ eval \"$(dlite env)\"\n$ dlite ssh-config >> ~/.ssh/config\n$ ssh dlite uname -a\n"
	".Ed\n"
	".Sh SEE ALSO\n.Xr docker 1 ,\n.Xr qemu-system-x86_64 1 ,\n.Xr ssh 1 ,\n"
	".Xr systemctl 1 ,\n.Xr hosts 5 ,\n.Xr ssh_config 5\n";

static void gen_man(FILE *f)
{
	fprintf(f, ".\\\" dlite(1), " GENERATED "\n.Dd %s\n%s", "man", dl_man_date, man_head);
	VISIBLE(c) {
		fprintf(f, ".It Nm Cm %s", c->name);
		if (c->args[0])
			margs(f, c->args);
		fputc('\n', f);
		mtext(f, c->help);
		bool any = false;
		for (const struct dl_flag *fl = c->flags; fl->lng; fl++) {
			if (strcmp(fl->lng, "help") == 0)
				continue;
			if (!any)
				fprintf(f, ".Bl -tag -width Ds\n");
			any = true;
			fprintf(f, ".It ");
			if (fl->shrt)
				fprintf(f, "Fl %c , ", fl->shrt);
			fprintf(f, "Fl -%s", fl->lng);
			if (fl->arg)
				fprintf(f, " Ar %s", fl->arg);
			fputc('\n', f);
			mtext(f, fl->help);
		}
		if (any)
			fprintf(f, ".El\n");
	}
	fprintf(f, ".El\n.Sh CONFIGURATION\n"
		   "Settings live in\n.Pa ~/.dlite/config.json ;\n"
		   "change them with\n.Nm\n.Cm config set\n.Ar key value\n"
		   "and restart.\n.Bl -tag -width Ds\n");
	for (const struct dl_keyspec *k = dl_keytab; k->name; k++) {
		fprintf(f, ".It Cm %s Ar %s\n", k->name, k->arg);
		mtext(f, k->help);
		if (k->choices)
			fprintf(f, "One of:\n.Cm %s .\n", k->choices);
	}
	fprintf(f, ".El\n%s", man_tail);
}

int dl_gen(FILE *f, const char *what, struct dl_err *e)
{
	if (keys_documented(e) < 0)
		return -1;
	if (strcmp(what, "bash") == 0)
		gen_bash(f);
	else if (strcmp(what, "zsh") == 0)
		gen_zsh(f);
	else if (strcmp(what, "fish") == 0)
		gen_fish(f);
	else if (strcmp(what, "man") == 0)
		gen_man(f);
	else
		return dl_fail(e, 0, "unknown generator \"%s\"; use bash, zsh, fish or man", what);
	return 0;
}
