/*
 * dlite-agent entry point.
 *   as PID 1 (the guest's /init):   boot the guest, then serve the channel
 *   --serve --listen H:P --token-file F [--docker-sock PATH]
 *                                   host mode: only the channel server
 *   --connect H:P --token-file F TARGET
 *                                   client: relay stdin/stdout to TARGET
 */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct agent g = { .docker_sock = "/var/run/docker.sock" };

int client_main(const char *hostport, const char *token_file, const char *target);

static int usage(void)
{
	fprintf(stderr,
		"usage: dlite-agent --serve --listen HOST:PORT --token-file FILE [--docker-sock PATH]\n"
		"       dlite-agent --connect HOST:PORT --token-file FILE TARGET\n"
		"       (as PID 1: the dlite guest's init)\n");
	return 2;
}

static int serve_main(const char *listen, const char *token_file)
{
	char host[64];
	size_t len;
	const char *colon = listen ? strrchr(listen, ':') : NULL;
	char *data = token_file ? read_file(token_file, 256, &len) : NULL;
	struct rlimit rl;

	if (!colon || (size_t)(colon - listen) >= sizeof(host) || !data ||
	    dl_token_parse((uint8_t *)data, len, g.token) < 0) {
		fprintf(stderr, "dlite-agent: --serve needs --listen HOST:PORT and a valid --token-file\n");
		return 2;
	}
	memset(data, 0, len);
	free(data);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	long port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		return usage();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	g.data_state = "unknown";
	if (loop_init() < 0)
		return 1;
	svc_signals_init();
	if (chan_listen_tcp(host, (uint16_t)port, NULL) < 0)
		return 1;
	logmsg("serving on %s:%ld (docker: %s)", host, port, g.docker_sock);
	loop_run();
	return 0;
}

int main(int argc, char **argv)
{
	const char *listen = NULL, *connect = NULL, *token_file = NULL;
	bool serve = false;
	int i;

	if (getpid() == 1) {
		g.pid1 = true;
		pid1_main();
		return 0; /* not reached */
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--serve") == 0)
			serve = true;
		else if (strcmp(a, "--listen") == 0 && i + 1 < argc)
			listen = argv[++i];
		else if (strcmp(a, "--connect") == 0 && i + 1 < argc)
			connect = argv[++i];
		else if (strcmp(a, "--token-file") == 0 && i + 1 < argc)
			token_file = argv[++i];
		else if (strcmp(a, "--docker-sock") == 0 && i + 1 < argc)
			g.docker_sock = argv[++i];
		else if (a[0] == '-')
			return usage();
		else
			break;
	}
	if (serve && i == argc)
		return serve_main(listen, token_file);
	if (connect && token_file && i == argc - 1)
		return client_main(connect, token_file, argv[i]);
	return usage();
}
