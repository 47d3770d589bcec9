/* dlite status [--json] | dlite ip */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cli.h"
#include "cli/cmdtab.h"
#include "guestinfo.h"

static json_t *get_status(struct dl_ctx *ctx, struct dl_err *e)
{
	json_t *j = NULL;

	if (!cli_daemon_running(ctx)) {
		j = json_pack("{s:b,s:s,s:s}", "ok", 1, "state", "stopped", "daemon", "not running");
		return j;
	}
	if (cli_request(ctx, "status", 10000, &j, e) < 0)
		return NULL;
	return j;
}

/* disk.img's apparent size and what it takes on the host (the daemon adds
 * disk_used and disk_fs_size from the guest while the VM runs). */
static void disk_json(struct dl_ctx *ctx, json_t *j)
{
	struct stat st;

	if (stat(ctx->paths.disk, &st) < 0)
		return;
	json_object_set_new(j, "disk_size", json_integer((json_int_t)st.st_size));
	json_object_set_new(j, "disk_allocated", json_integer((json_int_t)st.st_blocks * 512));
}

static void disk_line(json_t *j)
{
	json_t *size = json_object_get(j, "disk_size"), *used = json_object_get(j, "disk_used");
	json_t *alloc = json_object_get(j, "disk_allocated");
	char a[32], b[32], c[32];

	if (!json_is_integer(size))
		return;
	dl_human_bytes((unsigned long long)json_integer_value(size), a, sizeof(a));
	dl_human_bytes((unsigned long long)json_integer_value(alloc), c, sizeof(c));
	if (json_is_integer(used)) {
		dl_human_bytes((unsigned long long)json_integer_value(used), b, sizeof(b));
		printf("%-16s %s, %s used, %s allocated on the host\n", "disk", a, b, c);
	} else {
		printf("%-16s %s, %s allocated on the host\n", "disk", a, c);
	}
}

static int exec_status(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	struct dl_opts o;
	int c, as_json = 0;

	if (dl_opts_init(&o, "status", e) < 0)
		return -1;
	while ((c = dl_opts_next(&o, argc, argv, e)) != -1) {
		if (c == 'j')
			as_json = 1;
		else
			return c == 'h' ? 0 : -1;
	}
	if (cli_no_args("status", argc, argv, optind, e) < 0 || cli_load_config(ctx, e) < 0)
		return -1;
	json_t *j = get_status(ctx, e);
	if (!j)
		return -1;
	json_object_del(j, "ok");
	disk_json(ctx, j);
	if (as_json) {
		char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
		puts(s);
		free(s);
		json_decref(j);
		return 0;
	}
	/* aligned; on a TTY (and without NO_COLOR) the keys dim, the state and
	 * failures coloured */
	const char *k, *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	bool color = isatty(1) && !(nc && nc[0]) && term && strcmp(term, "dumb") != 0;
	const char *dim = color ? "\033[2m" : "", *off = color ? "\033[0m" : "";
	const char *red = color ? "\033[31m" : "";
	json_t *v;
	int w = 5;
	json_object_foreach(j, k, v)
		if ((int)strlen(k) > w)
			w = (int)strlen(k);
	json_object_foreach(j, k, v) {
		if (!strncmp(k, "disk_", 5))
			continue; /* disk_line() */
		if (!strcmp(k, "guest_status_age"))
			continue; /* for scripts (--json) */
		const char *vc = "";
		if (color && strcmp(k, "state") == 0) {
			const char *sv = json_string_value(v);
			vc = sv && !strcmp(sv, "running") ? "\033[32m" : sv && !strcmp(sv, "stopped") ? red
												   : "\033[33m";
		} else if (strcmp(k, "last_error") == 0)
			vc = red;
		if (json_is_string(v))
			printf("%s%-*s%s %s%s%s\n", dim, w, k, off, vc, json_string_value(v), vc[0] ? off : "");
		else if (json_is_integer(v))
			printf("%s%-*s%s %lld\n", dim, w, k, off, (long long)json_integer_value(v));
		else if (json_is_real(v))
			printf("%s%-*s%s %.1f\n", dim, w, k, off, json_real_value(v));
		else if (json_is_object(v) && json_object_size(v)) {
			/* boot_stamps: {"agent":1234,...} -> agent 1.2 s, ... */
			const char *sk;
			json_t *sv;
			int first = 1;
			printf("%s%-*s%s ", dim, w, k, off);
			json_object_foreach(v, sk, sv) {
				if (json_is_integer(sv))
					printf("%s%s %.1f s", first ? "" : ", ", sk,
					       (double)json_integer_value(sv) / 1000.0);
				first = 0;
			}
			printf("\n");
		}
	}
	disk_line(j);
	size_t i;
	json_t *plat = json_object_get(j, "platforms");
	json_array_foreach(plat, i, v)
		printf("%s%s", i == 0 ? "platforms        " : ", ", json_string_value(v));
	if (json_array_size(plat))
		printf("\n");
	json_t *ports = json_object_get(j, "ports");
	json_array_foreach(ports, i, v) {
		/* "tcp:172.17.0.2:80" -> " (172.17.0.2:80)"; "tcp:8080": the
		 * published port in the VM (docker-proxy) */
		const char *t = json_string_value(json_object_get(v, "target"));
		const char *err = json_string_value(json_object_get(v, "error"));
		char via[80] = "";
		if (t && strlen(t) > 4)
			snprintf(via, sizeof(via), " (%s%s)", strchr(t + 4, ':') ? "" : "vm port ", t + 4);
		printf("%s%-*s%s %s %s:%lld -> %s%s%s%s%s%s\n", dim, w, i == 0 ? "ports" : "", off,
		       json_string_value(json_object_get(v, "proto")),
		       json_string_value(json_object_get(v, "host_ip")),
		       (long long)json_integer_value(json_object_get(v, "host_port")),
		       json_string_value(json_object_get(v, "container")), via, err ? red : "",
		       err ? "  FAILED: " : "", err ? err : "", err ? off : "");
	}
	json_decref(j);
	return 0;
}

static int exec_ip(struct dl_ctx *ctx, int argc, char **argv, struct dl_err *e)
{
	struct dl_opts o;
	int c;

	if (dl_opts_init(&o, "ip", e) < 0)
		return -1;
	if ((c = dl_opts_next(&o, argc, argv, e)) != -1)
		return c == 'h' ? 0 : -1;
	if (cli_no_args("ip", argc, argv, optind, e) < 0 || cli_load_config(ctx, e) < 0)
		return -1;
	json_t *j = get_status(ctx, e);
	if (!j)
		return -1;
	const char *addr = json_string_value(json_object_get(j, "address"));
	if (!addr) {
		json_decref(j);
		return dl_fail(e, 0, "dlite is not running; run `dlite start`");
	}
	printf("%s\n", addr);
	json_decref(j);
	return 0;
}

const struct dl_cmd cmd_status = { .name = "status", .exec = exec_status };
const struct dl_cmd cmd_ip = { .name = "ip", .exec = exec_ip };
