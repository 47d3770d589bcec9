/* dlite env [--shell sh|bash|zsh|fish] and dlite ssh-config [--host NAME]:
 * what docker and ssh need to reach dlite without dlite in between. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli/cmdtab.h"

/* A word for sh: bare when it only has safe bytes, else in single quotes. */
static void sh_word(const char *s)
{
	if (s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-:+@")] ==
	    '\0') {
		fputs(s, stdout);
		return;
	}
	putchar('\'');
	for (; *s; s++)
		*s == '\'' ? fputs("'\\''", stdout) : putchar(*s);
	putchar('\'');
}

static int exec_env(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	const char *shell = "sh";
	char host[1100];
	struct dl_opts o;
	int c;

	if (dl_opts_init(&o, "env", e) < 0)
		return -1;
	while ((c = dl_opts_next(&o, argc, argv, e)) != -1) {
		if (c == 'S')
			shell = optarg;
		else
			return c == 'h' ? 0 : -1;
	}
	if (strcmp(shell, "sh") && strcmp(shell, "bash") && strcmp(shell, "zsh") &&
	    strcmp(shell, "fish"))
		return dl_fail(e, 0, "--shell %s: unknown shell; use sh, bash, zsh or fish", shell);
	if (cli_no_args("env", argc, argv, optind, e) < 0 || cli_load_config(ctx, e) < 0)
		return -1;
	snprintf(host, sizeof(host), "unix://%s", ctx->cfg.socket);
	if (strcmp(shell, "fish") == 0) {
		printf("set -gx DOCKER_HOST ");
		sh_word(host); /* fish takes the same single quotes */
		printf(";\n# run: dlite env --shell fish | source\n");
	} else {
		printf("export DOCKER_HOST=");
		sh_word(host);
		printf("\n# run: eval \"$(dlite env)\"\n");
	}
	return 0;
}

/* ssh_config expands %-tokens in ProxyCommand and IdentityFile: double them;
 * values with spaces go in double quotes. */
static void cfg_value(const char *s)
{
	bool q = strpbrk(s, " \t") != NULL;
	if (q)
		putchar('"');
	for (; *s; s++)
		*s == '%' ? fputs("%%", stdout) : putchar(*s);
	if (q)
		putchar('"');
}

static int exec_ssh_config(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	const char *alias = "dlite";
	char dir[1024], key[1100], path[1200];
	struct dl_opts o;
	int c;

	if (dl_opts_init(&o, "ssh-config", e) < 0)
		return -1;
	while ((c = dl_opts_next(&o, argc, argv, e)) != -1) {
		if (c == 'H')
			alias = optarg;
		else
			return c == 'h' ? 0 : -1;
	}
	if (!alias[0] || strpbrk(alias, " \t\n*?!,"))
		return dl_fail(e, 0, "--host \"%s\": use one word without spaces or wildcards", alias);
	if (cli_no_args("ssh-config", argc, argv, optind, e) < 0 || cli_load_config(ctx, e) < 0 ||
	    cli_exe_dir(dir, sizeof(dir), e) < 0)
		return -1;
	snprintf(key, sizeof(key), "%s", ctx->cfg.ssh_key);
	size_t kl = strlen(key);
	if (kl > 4 && !strcmp(key + kl - 4, ".pub"))
		key[kl - 4] = '\0';
	printf("# dlite VM: append to ~/.ssh/config (dlite ssh-config >> ~/.ssh/config)\n"
	       "Host %s\n  HostName %s\n  User docker\n", alias, ctx->cfg.hostname);
	if (access(key, R_OK) == 0) {
		printf("  IdentityFile ");
		cfg_value(key);
		printf("\n  IdentitiesOnly yes\n");
	}
	snprintf(path, sizeof(path), "%s/known_hosts", ctx->paths.home);
	printf("  UserKnownHostsFile ");
	cfg_value(path);
	printf("\n  StrictHostKeyChecking accept-new\n  LogLevel ERROR\n  ProxyCommand ");
	/* the daemon is found through DLITE_HOME when it is not the default */
	if (getenv("DLITE_HOME")) {
		printf("env DLITE_HOME=");
		cfg_value(ctx->paths.home);
		putchar(' ');
	}
	snprintf(path, sizeof(path), "%s/dlite", dir);
	cfg_value(path);
	printf(" chan tcp:22\n");
	return 0;
}

const struct dl_cmd cmd_env = { .name = "env", .exec = exec_env };
const struct dl_cmd cmd_ssh_config = { .name = "ssh-config", .exec = exec_ssh_config };
