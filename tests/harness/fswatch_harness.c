/*
 * fswatch-harness: the daemon's file-event side (src/daemon/fswatch.c)
 * against a given agent channel, without a VM — for
 * tests/e2e/t_file_events_host.sh (a host-mode agent plays the guest).
 *
 *   fswatch-harness --chan tcp:127.0.0.1:PORT --token-file FILE --root DIR [--pin]
 *
 * Logs to stderr as the daemon does; runs until SIGTERM/SIGINT.
 */
#include "daemon/chan.h"
#include "daemon/fswatch.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

static void on_quit(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	const char *chan = NULL, *token_file = NULL, *root = NULL;
	struct dl_chan_cfg cfg = { 0 };
	struct dl_err e = { 0 };
	int pin = 0;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--chan") && v)
			chan = v, i++;
		else if (!strcmp(argv[i], "--token-file") && v)
			token_file = v, i++;
		else if (!strcmp(argv[i], "--root") && v)
			root = v, i++;
		else if (!strcmp(argv[i], "--pin"))
			pin = 1;
		else
			chan = NULL, i = argc;
	}
	if (!chan || !token_file || !root) {
		fprintf(stderr, "usage: fswatch-harness --chan SPEC --token-file FILE --root DIR [--pin]\n");
		return 2;
	}
	if (dl_chan_cfg_parse(&cfg, chan, &e) < 0) {
		fprintf(stderr, "fswatch-harness: %s\n", e.msg);
		return 2;
	}
	uint8_t buf[256];
	int fd = open(token_file, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 0 || dl_token_parse(buf, (size_t)n, cfg.token) < 0) {
		fprintf(stderr, "fswatch-harness: cannot read the token file %s\n", token_file);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	struct dl_fswatch *fw = dl_fswatch_new(base);
	struct event *t = evsignal_new(base, SIGTERM, on_quit, base);
	struct event *i = evsignal_new(base, SIGINT, on_quit, base);
	event_add(t, NULL);
	event_add(i, NULL);
	dl_fswatch_start(fw, &cfg, root, NULL, pin);
	event_base_dispatch(base);
	dl_fswatch_free(fw);
	event_free(t);
	event_free(i);
	event_base_free(base);
	return 0;
}
