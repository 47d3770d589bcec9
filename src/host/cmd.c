#include "cmd.h"
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

size_t dl_cmd_len(char *const *cmd)
{
	size_t n = 0;

	while (cmd && cmd[n])
		n++;
	return n;
}

void dl_cmd_free(char **cmd)
{
	if (!cmd)
		return;
	for (size_t i = 0; cmd[i]; i++)
		free(cmd[i]);
	free(cmd);
}

char **dl_cmd_push(char **cmd, const char *arg)
{
	size_t n = dl_cmd_len(cmd);
	char *s = strdup(arg);
	char **grown;

	if (!s) {
		dl_cmd_free(cmd);
		return NULL;
	}
	grown = realloc(cmd, (n + 2) * sizeof(*grown));
	if (!grown) {
		free(s);
		dl_cmd_free(cmd);
		return NULL;
	}
	grown[n] = s;
	grown[n + 1] = NULL;
	return grown;
}

char **dl_cmd_new(const char *arg0, ...)
{
	char **cmd = calloc(1, sizeof(*cmd));
	const char *a;
	va_list ap;

	if (!cmd)
		return NULL;
	va_start(ap, arg0);
	for (a = arg0; a && cmd; a = va_arg(ap, const char *))
		cmd = dl_cmd_push(cmd, a);
	va_end(ap);
	return cmd;
}

size_t dl_cmds_len(char **const *cmds)
{
	size_t n = 0;

	while (cmds && cmds[n])
		n++;
	return n;
}

void dl_cmds_free(char ***cmds)
{
	if (!cmds)
		return;
	for (size_t i = 0; cmds[i]; i++)
		dl_cmd_free(cmds[i]);
	free(cmds);
}

char ***dl_cmds_push(char ***cmds, char **cmd)
{
	size_t n = dl_cmds_len(cmds);
	char ***grown;

	if (!cmd) {
		dl_cmds_free(cmds);
		return NULL;
	}
	grown = realloc(cmds, (n + 2) * sizeof(*grown));
	if (!grown) {
		dl_cmd_free(cmd);
		dl_cmds_free(cmds);
		return NULL;
	}
	grown[n] = cmd;
	grown[n + 1] = NULL;
	return grown;
}

static int plain_word(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789/._-+,:@=%", *s))
			return 0;
	return 1;
}

/* Appends the rendering of cmd to buf (realloc'd); returns new length or -1. */
static int append_cmd(char **buf, size_t *len, size_t *cap, char *const *cmd)
{
	for (size_t i = 0; cmd[i]; i++) {
		const char *w = cmd[i];
		size_t need = *len + 4 * strlen(w) + 4;

		if (need > *cap) {
			size_t ncap = *cap * 2 > need ? *cap * 2 : need;
			char *nb = realloc(*buf, ncap);
			if (!nb)
				return -1;
			*buf = nb;
			*cap = ncap;
		}
		if (i)
			(*buf)[(*len)++] = ' ';
		if (plain_word(w)) {
			memcpy(*buf + *len, w, strlen(w));
			*len += strlen(w);
			continue;
		}
		(*buf)[(*len)++] = '\'';
		for (; *w; w++) {
			if (*w == '\'') {
				memcpy(*buf + *len, "'\\''", 4);
				*len += 4;
			} else {
				(*buf)[(*len)++] = *w;
			}
		}
		(*buf)[(*len)++] = '\'';
	}
	return 0;
}

char *dl_cmd_format(char *const *cmd)
{
	char **one[2] = { (char **)cmd, NULL };

	return dl_cmds_format(cmd ? one : NULL);
}

char *dl_cmds_format(char **const *cmds)
{
	size_t len = 0, cap = 64;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	for (size_t i = 0; cmds && cmds[i]; i++) {
		if (append_cmd(&buf, &len, &cap, cmds[i]) < 0 || len + 2 > cap) {
			char *nb = len + 2 > cap ? realloc(buf, cap = len + 2) : NULL;
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		buf[len++] = '\n';
	}
	buf[len] = '\0';
	return buf;
}

int dl_path_check(const char *what, const char *p, struct dl_err *e)
{
	if (!p || p[0] != '/')
		return dl_fail(e, 0, "%s \"%.200s\" must be an absolute path", what, p ? p : "");
	for (const unsigned char *c = (const unsigned char *)p; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return dl_fail(e, 0, "%s \"%.200s\" contains a control character; use "
				       "another path", what, p);
	if (strlen(p) > 4096)
		return dl_fail(e, ENAMETOOLONG, "%s is too long", what);
	return 0;
}

