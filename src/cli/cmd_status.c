/* dlite status [--json] | dlite ip */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli/cmdtab.h"

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
	if (as_json) {
		char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
		puts(s);
		free(s);
		json_decref(j);
		return 0;
	}
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		if (json_is_string(v))
			printf("%-16s %s\n", k, json_string_value(v));
		else if (json_is_integer(v))
			printf("%-16s %lld\n", k, (long long)json_integer_value(v));
		else if (json_is_real(v))
			printf("%-16s %.1f\n", k, json_real_value(v));
	}
	json_t *ports = json_object_get(j, "ports");
	size_t i;
	json_array_foreach(ports, i, v) {
		/* "tcp:172.17.0.2:80" -> " (172.17.0.2:80)"; "tcp:8080": the
		 * published port in the VM (docker-proxy) */
		const char *t = json_string_value(json_object_get(v, "target"));
		char via[80] = "";
		if (t && strlen(t) > 4)
			snprintf(via, sizeof(via), " (%s%s)", strchr(t + 4, ':') ? "" : "vm port ", t + 4);
		printf("%-16s %s %s:%lld -> %s%s%s%s\n", i == 0 ? "ports" : "",
		       json_string_value(json_object_get(v, "proto")),
		       json_string_value(json_object_get(v, "host_ip")),
		       (long long)json_integer_value(json_object_get(v, "host_port")),
		       json_string_value(json_object_get(v, "container")), via,
		       json_is_string(json_object_get(v, "error")) ? "  FAILED: " : "",
		       json_is_string(json_object_get(v, "error"))
			       ? json_string_value(json_object_get(v, "error"))
			       : "");
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
