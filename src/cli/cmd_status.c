/* dlite status [--json] | dlite ip */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

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
	static const struct option opts[] = { { "json", 0, 0, 'j' }, { "help", 0, 0, 'h' },
					      { 0, 0, 0, 0 } };
	int c, as_json = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j')
			as_json = 1;
		else if (c == 'h') {
			printf("usage: dlite status [--json]\n");
			return 0;
		} else
			return dl_fail(e, 0, "unknown flag %s; see `dlite status --help`", argv[optind - 1]);
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
	if (cli_no_args("ip", argc, argv, 1, e) < 0 || cli_load_config(ctx, e) < 0)
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

const struct dl_cmd cmd_status = {
	.name = "status", .help = "state, pid, uptime, address, resources, versions, ports",
	.exec = exec_status,
};
const struct dl_cmd cmd_ip = {
	.name = "ip", .help = "print the address where the VM's ports are", .exec = exec_ip,
};
